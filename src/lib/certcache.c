/*
 * x5u certificate cache: what is particular to certificates on top of the
 * fetch cache (fetchcache.c, which does the URL table, single flight,
 * freshness, negative entries, the per-host cap and background refresh):
 * a fetched body becomes a parsed chain plus its validation verdict, kept
 * no longer than the chain's notAfter, and a caller gets the chain only
 * when the verdict is good and its time is inside the validity window.
 * Validity windows use the wall clock; cache expiry the monotonic one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stir/certcache.h"
#include "crl.h"
#include "fetch.h"
#include "fetchcache.h"
#include "internal.h"

/* The cached value: a chain and its validation outcome (code 0 or 437). */
typedef struct chain_value {
    stir_cert *cert;
    stir_error verr;
} chain_value;

struct stir_certcache {
    stir_certcache_config cfg;
    const stir_trust *trust;
    fcache *fc;
};

/* ---- configuration ---------------------------------------------------------- */

/* The shared fetch cache's defaults (fcache_config_default is their one
 * source), with background refresh on: a popular chain is fetched again
 * before it expires rather than by the request that finds it expired. */
void stir_certcache_config_default(stir_certcache_config *cfg)
{
    fcache_config f;
    if (!cfg)
        return;
    fcache_config_default(&f);
    memset(cfg, 0, sizeof *cfg);
    cfg->fetch = f.fetch;
    cfg->default_ttl_s = f.default_ttl_s;
    cfg->min_ttl_s = f.min_ttl_s;
    cfg->max_ttl_s = f.max_ttl_s;
    cfg->neg_ttl_initial_s = f.neg_ttl_initial_s;
    cfg->neg_ttl_max_s = f.neg_ttl_max_s;
    cfg->refresh_ahead = 0.1;
    cfg->max_entries = f.max_entries;
    cfg->max_neg_entries = f.max_neg_entries;
}

/* ---- the value: parse, validate, lifetime --------------------------------------- */

/*
 * TTL of a fetched chain: the HTTP lifetime as the fetch cache clamped it
 * to [min_ttl, max_ttl], never past the chain's notAfter. Note
 * ATIS-1000074 asks for at least 24 h; operators get that with
 * min_ttl_s = 86400.
 */
static long chain_ttl(const stir_certcache *cc, long ttl, const stir_cert *c, int invalid)
{
    time_t now = time(NULL), na = stir_cert_not_after(c);
    if (na > now) {
        if ((double)ttl > (double)(na - now))
            ttl = (long)(na - now);
    } else {
        /* Already expired: remember the 437 briefly, like a failure. */
        ttl = cc->cfg.min_ttl_s;
    }
    /* A chain that does not validate may be fixed by its publisher at
     * the same URL: keep that verdict no longer than a failed fetch. */
    if (invalid && ttl > cc->cfg.neg_ttl_max_s)
        ttl = cc->cfg.neg_ttl_max_s;
    return ttl;
}

static void chain_free(void *user, void *value)
{
    (void)user;
    chain_value *v = value;
    stir_cert_unref(v->cert);
    free(v);
}

/*
 * Revocation (crl.c), once per download of a chain that validated: a
 * revoked certificate (or, fail-closed, an unknown status) becomes the
 * chain's 437 verdict, which chain_ttl then keeps no longer than a failure;
 * a good verdict lowers *ttl_s to the earliest nextUpdate of the CRLs it
 * rests on (fail-open: crl_retry). The CRLs come from their own fetch
 * cache (crl.c's source), which shares the context's per-host counts.
 * Only an internal error (out of memory) is returned: the fetch then fails
 * without being remembered.
 */
static int check_revocation(stir_certcache *cc, chain_value *v, time_t now, long *ttl_s,
                            stir_error *err)
{
    if (!cc->cfg.crl)
        return 0;
    time_t until;
    stir_error e;
    stir_error_clear(&e);
    int rc = sti_crl_check_chain(cc->cfg.crl, v->cert, now, &until, &e);
    if (rc == STIR_ERR_INTERNAL) {
        if (err)
            *err = e;
        return rc;
    }
    if (rc) {
        v->verr = e;
        return 0;
    }
    long left = until > now ? (long)(until - now) : 1;
    if (*ttl_s > left)
        *ttl_s = left;
    return 0;
}

/* fcache parse callback: PEM chain -> chain_value (runs without locks). */
static void *chain_parse(void *user, const char *url, const char *body, size_t len, long *ttl_s,
                         size_t *cost, stir_error *err)
{
    (void)url;
    (void)cost;
    stir_certcache *cc = user;
    chain_value *v = calloc(1, sizeof *v);
    if (!v) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    v->cert = stir_cert_parse_pem(body, len, err);
    if (!v->cert) {
        free(v);
        return NULL;
    }
    time_t now = time(NULL);
    if (stir_cert_validate(v->cert, cc->trust, now, &v->verr) == 0 &&
        check_revocation(cc, v, now, ttl_s, err)) {
        chain_free(cc, v);
        return NULL;
    }
    *ttl_s = chain_ttl(cc, *ttl_s, v->cert, v->verr.code != 0);
    return v;
}

/* The caller's answer from a cached chain and its verdict: a new reference
 * or NULL with the 437. */
static stir_cert *answer(const chain_value *v, time_t at, stir_error *err)
{
    if (v->verr.code) {
        if (err)
            *err = v->verr;
        return NULL;
    }
    char ts[32];
    if (at < stir_cert_not_before(v->cert)) {
        sti_iso8601(stir_cert_not_before(v->cert), ts);
        stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "certificate not valid before %s", ts);
        return NULL;
    }
    if (at > stir_cert_not_after(v->cert)) {
        sti_iso8601(stir_cert_not_after(v->cert), ts);
        stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "certificate expired %s", ts);
        return NULL;
    }
    return stir_cert_ref(v->cert);
}

/* ---- public API ------------------------------------------------------------------ */

stir_certcache *stir_certcache_new(stir_ctx *ctx, const stir_certcache_config *cfg,
                                   const stir_trust *trust, stir_error *err)
{
    stir_certcache_config def;
    if (!cfg) {
        stir_certcache_config_default(&def);
        cfg = &def;
    }
    if (!ctx) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "certificate cache needs a context");
        return NULL;
    }
    if (!trust) {
        stir_fail(err, STIR_ERR_INPUT, "trust", "certificate cache needs trust anchors");
        return NULL;
    }
    /* The TTL and size limits are fcache_new's to check; this rule is the
     * certificate cache's own (a chain without freshness information
     * must still expire). */
    if (cfg->default_ttl_s <= 0) {
        stir_fail(err, STIR_ERR_INPUT, "default_ttl_s", "default TTL must be positive");
        return NULL;
    }
    stir_certcache *cc = calloc(1, sizeof *cc);
    if (!cc) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    cc->cfg = *cfg;
    cc->trust = trust;
    fcache_config fcfg;
    fcache_config_default(&fcfg);
    fcfg.fetch = cfg->fetch;
    fcfg.default_ttl_s = cfg->default_ttl_s;
    fcfg.min_ttl_s = cfg->min_ttl_s;
    fcfg.max_ttl_s = cfg->max_ttl_s;
    fcfg.neg_ttl_initial_s = cfg->neg_ttl_initial_s;
    fcfg.neg_ttl_max_s = cfg->neg_ttl_max_s;
    fcfg.refresh_ahead = cfg->refresh_ahead;
    fcfg.max_entries = cfg->max_entries;
    fcfg.max_neg_entries = cfg->max_neg_entries;
    fcfg.what = "x5u";
    fcfg.hosts = ctx->hosts;
    fcfg.parse = chain_parse;
    fcfg.free_value = chain_free;
    fcfg.user = cc;
    cc->fc = fcache_new(&fcfg, err);
    if (!cc->fc) {
        free(cc);
        return NULL;
    }
    /* The fetch strings are the cache's copies from here on. */
    memset(&cc->cfg.fetch, 0, sizeof cc->cfg.fetch);
    return cc;
}

void stir_certcache_free(stir_certcache *cc)
{
    if (!cc)
        return;
    fcache_free(cc->fc);
    free(cc);
}

stir_cert *stir_certcache_get(stir_certcache *cc, const char *url, time_t at, stir_error *err)
{
    return stir_certcache_get_ex(cc, url, at, 0, err);
}

stir_cert *stir_certcache_get_ex(stir_certcache *cc, const char *url, time_t at, int flags,
                                 stir_error *err)
{
    if (!cc || !url) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_certcache_get: NULL argument");
        return NULL;
    }
    fcache_item *it;
    if (fcache_get(cc->fc, url, flags, &it, err)) {
        if (err && err->code == STIR_WOULD_BLOCK)
            snprintf(err->field, sizeof err->field, "x5u");
        return NULL;
    }
    stir_cert *c = answer(fcache_item_value(it), at, err);
    fcache_item_unref(it);
    return c;
}

/*
 * Preload: the chain is parsed (436 on a bad body) and validated now; it is
 * stored either way, and a validation failure is also returned (437) so a
 * misconfigured preload is noticed at once. ttl_s <= 0 means default_ttl_s.
 */
int stir_certcache_put(stir_certcache *cc, const char *url, const char *pem, size_t len, long ttl_s,
                       stir_error *err)
{
    if (!cc || !url || !pem)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_certcache_put: NULL argument");
    fcache_item *it;
    int rc = fcache_put(cc->fc, url, pem, len, ttl_s > 0 ? ttl_s : -1, &it, err);
    if (rc)
        return rc;
    const chain_value *v = fcache_item_value(it);
    rc = v->verr.code;
    if (rc && err)
        *err = v->verr;
    fcache_item_unref(it);
    return rc;
}

void stir_certcache_stats_get(stir_certcache *cc, stir_certcache_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (cc)
        fcache_stats_export(cc->fc, out);
}
