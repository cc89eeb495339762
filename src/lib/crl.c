/*
 * Certificate revocation by CRL (RFC 5280 5 and 6.3).
 *
 * For each certificate of a validated path but the anchor: the first
 * http(s) fullName URI of its CRL Distribution Points names the CRL; the
 * CRL must be issued by the certificate's issuer (same name, signature
 * verified with the key of the next certificate of the path, which must
 * allow cRLSign), be current (thisUpdate not in the future, nextUpdate not
 * passed), and the certificate is revoked when the CRL lists its serial
 * (X509_CRL_get0_by_cert: issuer AND serial). A CRL that cannot be used
 * is handled by the mode: fail-open accepts with a warning, fail-closed
 * answers 437. A CRL that verifies but is stale still revokes what it
 * lists, in either mode.
 *
 * Only direct CRLs are understood: a distribution point whose cRLIssuer
 * names someone else (an indirect CRL) yields a CRL from another issuer,
 * which is refused as "not issued by the certificate's issuer".
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "fetch.h"
#include "fetchcache.h"
#include "internal.h"

#define NAME_TXT 160
#define CLOCK_SKEW_S 300 /* thisUpdate this far ahead is still accepted */

struct stir_crl {
    atomic_int refs;
    X509_CRL *x;
    time_t this_update, next_update; /* next_update 0: absent */
};

struct stir_crl_checker {
    stir_crl_config cfg; /* fetch unused (the source fetches) */
    stir_crl_source src;
    pthread_mutex_t mu; /* guards st */
    stir_crl_stats st;
};

/* The CRL cache: a fetch cache whose values are stir_crl references. */
struct stir_crl_cache {
    long max_ttl_s, retry_s;
    fcache *fc;
};

/* ---- helpers ---------------------------------------------------------------- */

/* snprintf for details, where cutting a long DN or URL short is fine. */
static void say(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

/* Serial as hex, "?" when unreadable. */
static void serial_text(const ASN1_INTEGER *s, char *out, size_t outlen)
{
    snprintf(out, outlen, "?");
    BIGNUM *bn = s ? ASN1_INTEGER_to_BN(s, NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex)
        snprintf(out, outlen, "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
}

static const char *reason_name(long r)
{
    static const char *const names[] = {
        "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
        "superseded",    "cessationOfOperation", "certificateHold", "(7)",
        "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
    return r >= 0 && r < (long)(sizeof names / sizeof names[0]) ? names[r] : "(unknown)";
}

/* ---- configuration ------------------------------------------------------------ */

void stir_crl_config_default(stir_crl_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    stir_certcache_config cc;
    stir_certcache_config_default(&cc);
    cfg->fetch = cc.fetch;
    cfg->fetch.max_bytes = 1u << 20;
    cfg->allow_http = 1;
    cfg->mode = STIR_CRL_FAIL_OPEN;
    cfg->max_ttl_s = 86400;
    cfg->retry_s = 60;
    cfg->max_entries = 256;
}

int stir_crl_mode_parse(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "fail-open") == 0)
        return STIR_CRL_FAIL_OPEN;
    if (strcmp(s, "fail-closed") == 0)
        return STIR_CRL_FAIL_CLOSED;
    if (strcmp(s, "off") == 0)
        return STIR_CRL_OFF;
    return -1;
}

/* ---- parsed CRLs --------------------------------------------------------------- */

stir_crl *sti_crl_parse(const char *body, size_t len, stir_error *err)
{
    static const char pem_tag[] = "-----BEGIN X509 CRL-----";
    if (!body || len == 0) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "CRL body is empty");
        return NULL;
    }
    if (len > INT32_MAX) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "CRL body is too large");
        return NULL;
    }
    X509_CRL *x = NULL;
    const char *p = body;
    while (p < body + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if ((size_t)(body + len - p) >= sizeof pem_tag - 1 &&
        memcmp(p, pem_tag, sizeof pem_tag - 1) == 0) {
        BIO *b = BIO_new_mem_buf(body, (int)len);
        if (b)
            x = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
        BIO_free(b);
        if (!x) {
            ERR_clear_error();
            stir_fail(err, STIR_ERR_BAD_INFO, NULL, "CRL PEM block does not decode");
            return NULL;
        }
    } else {
        const unsigned char *d = (const unsigned char *)body;
        x = d2i_X509_CRL(NULL, &d, (long)len);
        if (!x || d != (const unsigned char *)body + len) {
            X509_CRL_free(x);
            ERR_clear_error();
            stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                      x ? "CRL has trailing bytes after its DER" : "body is not a DER or PEM CRL");
            return NULL;
        }
    }
    stir_crl *c = calloc(1, sizeof *c);
    if (!c) {
        X509_CRL_free(x);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->x = x;
    if (sti_asn1_time(X509_CRL_get0_lastUpdate(x), &c->this_update)) {
        sti_crl_unref(c);
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "CRL thisUpdate is unreadable");
        return NULL;
    }
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(x);
    if (nu && sti_asn1_time(nu, &c->next_update)) {
        sti_crl_unref(c);
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "CRL nextUpdate is unreadable");
        return NULL;
    }
    ERR_clear_error();
    return c;
}

stir_crl *sti_crl_ref(stir_crl *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void sti_crl_unref(stir_crl *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        X509_CRL_free(c->x);
        free(c);
    }
}

long sti_crl_lifetime(const stir_crl *c, time_t now, long max_ttl_s, long retry_s)
{
    long ttl = max_ttl_s;
    if (c->next_update) {
        if (c->next_update <= now)
            ttl = retry_s; /* stale: look for its successor soon */
        else if ((double)(c->next_update - now) < (double)ttl)
            ttl = (long)(c->next_update - now);
    }
    return ttl < 1 ? 1 : ttl;
}

/* ---- checker -------------------------------------------------------------------- */

static int check_times(const stir_crl_config *cfg, stir_error *err)
{
    if (cfg->max_ttl_s < 1 || cfg->retry_s < 1 || cfg->retry_s > cfg->max_ttl_s)
        return stir_fail(err, STIR_ERR_INPUT, "crl_max_ttl", "need 1 <= crl_retry <= crl_max_ttl");
    return 0;
}

stir_crl_checker *stir_crl_checker_new_with_source(const stir_crl_config *cfg,
                                                   const stir_crl_source *src, stir_error *err)
{
    stir_crl_config def;
    if (!cfg) {
        stir_crl_config_default(&def);
        cfg = &def;
    }
    if (!src || !src->get) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "CRL checker needs a source");
        return NULL;
    }
    if (cfg->mode < STIR_CRL_FAIL_OPEN || cfg->mode > STIR_CRL_OFF) {
        stir_fail(err, STIR_ERR_INPUT, "crl_mode",
                  "crl_mode must be fail-open, fail-closed or off");
        return NULL;
    }
    if (check_times(cfg, err))
        return NULL;
    stir_crl_checker *ck = calloc(1, sizeof *ck);
    if (!ck) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    ck->cfg = *cfg;
    /* The source fetches; the checker keeps no borrowed strings. */
    memset(&ck->cfg.fetch, 0, sizeof ck->cfg.fetch);
    ck->src = *src;
    pthread_mutex_init(&ck->mu, NULL);
    return ck;
}

void stir_crl_checker_free(stir_crl_checker *ck)
{
    if (!ck)
        return;
    pthread_mutex_destroy(&ck->mu);
    free(ck);
}

void stir_crl_stats_get(stir_crl_checker *ck, stir_crl_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!ck)
        return;
    pthread_mutex_lock(&ck->mu);
    *out = ck->st;
    pthread_mutex_unlock(&ck->mu);
}

#define COUNT(ck, field)                 \
    do {                                 \
        pthread_mutex_lock(&(ck)->mu);   \
        (ck)->st.field++;                \
        pthread_mutex_unlock(&(ck)->mu); \
    } while (0)

/*
 * The CRL URL of x: the first http or https fullName URI among its
 * distribution points. 1 found, 0 no CRL Distribution Points at all, -1
 * distribution points without any such URI (LDAP only, relative names).
 */
static int crl_url_of(X509 *x, char *out, size_t outlen)
{
    int crit = 0;
    CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, &crit, NULL);
    if (!dps) {
        ERR_clear_error();
        return crit == -1 ? 0 : -1; /* crit -1: absent; else unreadable/repeated */
    }
    int found = -1;
    for (int i = 0; i < sk_DIST_POINT_num(dps) && found < 0; i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (!dp->distpoint || dp->distpoint->type != 0)
            continue;
        GENERAL_NAMES *gns = dp->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(gns); j++) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, j);
            if (gn->type != GEN_URI)
                continue;
            const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;
            const char *s = (const char *)ASN1_STRING_get0_data(u);
            size_t n = (size_t)ASN1_STRING_length(u);
            if ((n > 7 && strncasecmp(s, "http://", 7) == 0) ||
                (n > 8 && strncasecmp(s, "https://", 8) == 0)) {
                if (n >= outlen || memchr(s, '\0', n))
                    continue;
                memcpy(out, s, n);
                out[n] = '\0';
                found = 1;
                break;
            }
        }
    }
    CRL_DIST_POINTS_free(dps);
    return found;
}

enum { CRL_GOOD = 0, CRL_REVOKED = 1, CRL_UNUSABLE = 2 };

/*
 * Judge x (issued by `issuer`) with crl. CRL_UNUSABLE puts why in `why`;
 * CRL_REVOKED the revocation. A stale CRL that otherwise checks out still
 * revokes what it lists.
 */
static int judge(const stir_crl *crl, X509 *x, X509 *issuer, time_t now, char *why, size_t whylen)
{
    char a[NAME_TXT], b[NAME_TXT], ts[32];
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->x), X509_get_issuer_name(x)) != 0) {
        sti_name_text(X509_CRL_get_issuer(crl->x), a, sizeof a);
        sti_name_text(X509_get_issuer_name(x), b, sizeof b);
        say(why, whylen, "CRL issuer %s is not the certificate's issuer %s", a, b);
        return CRL_UNUSABLE;
    }
    if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(issuer) & KU_CRL_SIGN)) {
        say(why, whylen, "the issuer's keyUsage lacks cRLSign");
        return CRL_UNUSABLE;
    }
    EVP_PKEY *k = X509_get0_pubkey(issuer);
    if (!k || X509_CRL_verify(crl->x, k) != 1) {
        ERR_clear_error();
        say(why, whylen, "CRL signature does not verify with the issuer's key");
        return CRL_UNUSABLE;
    }
    if (crl->this_update > now + CLOCK_SKEW_S) {
        sti_iso8601(crl->this_update, ts);
        say(why, whylen, "CRL thisUpdate %s is in the future", ts);
        return CRL_UNUSABLE;
    }
    X509_REVOKED *rev = NULL;
    if (X509_CRL_get0_by_cert(crl->x, &rev, x) == 1 && rev) {
        char serial[80], when[32] = "?";
        time_t t;
        serial_text(X509_get0_serialNumber(x), serial, sizeof serial);
        if (sti_asn1_time(X509_REVOKED_get0_revocationDate(rev), &t) == 0)
            sti_iso8601(t, when);
        long reason = -1;
        ASN1_ENUMERATED *re = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
        if (re) {
            reason = ASN1_ENUMERATED_get(re);
            ASN1_ENUMERATED_free(re);
        }
        ERR_clear_error();
        say(why, whylen, "serial %s revoked %s%s%s", serial, when, reason >= 0 ? ", reason " : "",
            reason >= 0 ? reason_name(reason) : "");
        return CRL_REVOKED;
    }
    ERR_clear_error();
    if (crl->next_update && crl->next_update <= now) {
        sti_iso8601(crl->next_update, ts);
        say(why, whylen, "CRL is stale: nextUpdate %s has passed", ts);
        return CRL_UNUSABLE;
    }
    return CRL_GOOD;
}

int sti_crl_check_chain(stir_crl_checker *ck, const stir_cert *c, time_t now, time_t *valid_until,
                        stir_error *err)
{
    *valid_until = now + (ck ? ck->cfg.max_ttl_s : 86400);
    if (!ck || ck->cfg.mode == STIR_CRL_OFF)
        return 0;
    STACK_OF(X509) *path = sti_cert_path0(c);
    if (!path)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "revocation check before chain validation");
    int n = sk_X509_num(path);
    /* The anchor (last) is trusted as configured; nothing above it signs a
     * CRL for it. */
    for (int i = 0; i + 1 < n; i++) {
        X509 *x = sk_X509_value(path, i), *issuer = sk_X509_value(path, i + 1);
        char url[STI_URL_MAX + 1], why[STIR_DETAIL_MAX], subj[NAME_TXT];
        int has = crl_url_of(x, url, sizeof url);
        if (has == 0)
            continue;
        sti_name_text(X509_get_subject_name(x), subj, sizeof subj);
        int verdict;
        time_t until = 0;
        if (has < 0) {
            say(why, sizeof why, "its CRL Distribution Points name no http(s) URL");
            verdict = CRL_UNUSABLE;
            url[0] = '\0';
        } else {
            stir_error fe;
            stir_error_clear(&fe);
            stir_crl *crl = ck->src.get(ck->src.ctx, url, &fe);
            if (!crl) {
                if (fe.code == STIR_ERR_INTERNAL) {
                    if (err)
                        *err = fe;
                    return fe.code;
                }
                /* The fetch layer's detail speaks of x5u: this was a CRL. */
                const char *d = fe.detail;
                if (strncmp(d, "x5u ", 4) == 0)
                    say(why, sizeof why, "CRL %s", d + 4);
                else if (strncmp(d, "CRL ", 4) == 0)
                    say(why, sizeof why, "%s", d);
                else
                    say(why, sizeof why, "CRL fetch: %s", d);
                verdict = CRL_UNUSABLE;
            } else {
                verdict = judge(crl, x, issuer, now, why, sizeof why);
                until = crl->next_update;
                sti_crl_unref(crl);
            }
        }
        if (verdict == CRL_REVOKED) {
            COUNT(ck, revoked);
            return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                             "certificate revoked (depth %d: %.100s): %s (CRL %.200s)", i, subj,
                             why, url);
        }
        if (verdict == CRL_UNUSABLE) {
            if (ck->cfg.mode == STIR_CRL_FAIL_CLOSED)
                return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                                 "revocation status unknown (depth %d: %.100s): %s%s%.200s", i,
                                 subj, why, url[0] && !strstr(why, url) ? "; CRL " : "", url);
            COUNT(ck, fail_open);
            if (ck->cfg.warn) {
                char line[STIR_DETAIL_MAX + 400];
                say(line, sizeof line,
                    "crl_mode fail-open: accepting %s without a usable CRL (%s; url %s)", subj, why,
                    url[0] ? url : "-");
                ck->cfg.warn(ck->cfg.warn_arg, line);
            }
            until = now + ck->cfg.retry_s;
        } else if (!until || until > now + ck->cfg.max_ttl_s) {
            until = now + ck->cfg.max_ttl_s;
        }
        if (until < *valid_until)
            *valid_until = until;
    }
    return 0;
}

/* ---- the CRL cache: a fetch cache of parsed CRLs ----------------------------------
 *
 * fetchcache.c does the URL policy, single flight, the per-host cap shared
 * with the context's other caches, and remembered failures; what is
 * particular to CRLs is the parse (sti_crl_parse) and the lifetime: until
 * nextUpdate, at most max_ttl_s, retry_s when stale (sti_crl_lifetime),
 * which may only shorten what the HTTP headers allow (min_ttl_s 0).
 */

static void *crl_value_parse(void *user, const char *url, const char *body, size_t len, long *ttl_s,
                             size_t *cost, stir_error *err)
{
    (void)url;
    (void)cost;
    const stir_crl_cache *cc = user;
    stir_crl *c = sti_crl_parse(body, len, err);
    if (!c)
        return NULL;
    long life = sti_crl_lifetime(c, time(NULL), cc->max_ttl_s, cc->retry_s);
    if (life < *ttl_s)
        *ttl_s = life;
    return c;
}

static void crl_value_free(void *user, void *value)
{
    (void)user;
    sti_crl_unref(value);
}

static stir_crl *crl_cache_get(void *arg, const char *url, stir_error *err)
{
    stir_crl_cache *cc = arg;
    fcache_item *it;
    if (fcache_get(cc->fc, url, 0, &it, err))
        return NULL;
    stir_crl *c = sti_crl_ref(fcache_item_value(it));
    fcache_item_unref(it);
    return c;
}

stir_crl_cache *stir_crl_cache_new(stir_ctx *ctx, const stir_crl_config *cfg, stir_error *err)
{
    stir_crl_config def;
    if (!cfg) {
        stir_crl_config_default(&def);
        cfg = &def;
    }
    if (!ctx) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "CRL cache needs a context");
        return NULL;
    }
    if (check_times(cfg, err))
        return NULL;
    if (cfg->max_entries < 1 || cfg->max_entries > 100000) {
        stir_fail(err, STIR_ERR_INPUT, "crl_max_entries", "must be 1..100000");
        return NULL;
    }
    stir_crl_cache *cc = calloc(1, sizeof *cc);
    if (!cc) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    cc->max_ttl_s = cfg->max_ttl_s;
    cc->retry_s = cfg->retry_s;
    fcache_config f;
    fcache_config_default(&f);
    f.fetch = cfg->fetch; /* the x5u rules, the CRL size cap */
    f.fetch.allow_http = cfg->allow_http;
    f.default_ttl_s = f.max_ttl_s = cfg->max_ttl_s;
    f.min_ttl_s = 0; /* nothing lengthens a CRL's life */
    f.neg_ttl_initial_s = f.neg_ttl_max_s = cfg->retry_s;
    f.refresh_ahead = 0; /* fetched when a chain needs it */
    f.max_entries = cfg->max_entries;
    f.max_neg_entries = cfg->max_entries;
    f.what = "CRL";
    f.hosts = ctx->hosts;
    f.parse = crl_value_parse;
    f.free_value = crl_value_free;
    f.user = cc;
    cc->fc = fcache_new(&f, err);
    if (!cc->fc) {
        free(cc);
        return NULL;
    }
    return cc;
}

void stir_crl_cache_free(stir_crl_cache *cc)
{
    if (!cc)
        return;
    fcache_free(cc->fc);
    free(cc);
}

void stir_crl_cache_source(stir_crl_cache *cc, stir_crl_source *out)
{
    out->get = crl_cache_get;
    out->ctx = cc;
}

void stir_crl_cache_stats_get(stir_crl_cache *cc, stir_certcache_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (cc)
        fcache_stats_export(cc->fc, out);
}
