/*
 * The verification service (RFC 8224 6.2, RFC 8588): one verdict per
 * PASSporT, each failure with its RFC 8224 code, phrase and detail.
 *
 * Checks run in the order of RFC 8224 6.2 so a PASSporT reports the first
 * failing step: header format (438), ppt (428), alg/x5u/claims (438),
 * caller anonymity (433), credential (436/437), freshness (403),
 * orig/dest against the SIP identities (438), then the signature (438),
 * and, the claims now known to be the signer's, the JWT Claim Constraints
 * of its certificate (438; RFC 8226 8, RFC 9118 3, RFC 9795 8.1).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpdate.h"
#include "internal.h"
#include "prefetch.h"
#include "stir/cert.h"
#include "stir/encoding.h"
#include "stir/identity.h"
#include "stir/passport.h"
#include "stir/rcd.h"
#include "stir/reason.h"
#include "stir/verify.h"

#define TEXT_INVALID_PASSPORT "Invalid PASSporT"
#define TEXT_USE_SUPPORTED "Use Supported PASSporT Format"

struct stir_verifier {
    const stir_ctx *ctx;
    stir_certcache *cache;
    stir_rcd *rcd;
    long freshness_s;
    const char *priority_passed, *priority_failed;
    sti_prefetcher *prefetch; /* parallel x5u fetches, one budget */
    int require_user_phone;
};

stir_verifier *stir_verifier_new(stir_ctx *ctx, const stir_verifier_config *cfg, stir_error *err)
{
    if (!ctx || !cfg->cache) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "verifier needs a context and a certificate cache");
        return NULL;
    }
    stir_verifier *v = calloc(1, sizeof *v);
    if (!v) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    v->ctx = ctx;
    v->cache = cfg->cache;
    v->freshness_s = cfg->freshness_s > 0 ? cfg->freshness_s : 60;
    v->rcd = cfg->rcd;
    v->require_user_phone = cfg->require_user_phone;
    v->priority_passed = cfg->priority_passed ? cfg->priority_passed : STIR_PRIORITY_PASSED;
    v->priority_failed = cfg->priority_failed ? cfg->priority_failed : STIR_PRIORITY_FAILED;
    v->prefetch = sti_prefetcher_new(v->cache, cfg->fetch_budget_ms, 0);
    if (!v->prefetch) {
        free(v);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    return v;
}

void stir_verifier_free(stir_verifier *v)
{
    if (!v)
        return;
    sti_prefetcher_free(v->prefetch);
    free(v);
}

void stir_verify_result_clear(stir_verify_result *r)
{
    free(r->passport);
    free(r->compact);
    json_decref(r->claims);
    free(r->claims_text);
    json_decref(r->payload);
    json_decref(r->rcd);
    memset(r, 0, sizeof *r);
}

/* ---- claims ----------------------------------------------------------- */

/* orig: exactly one identity, {"tn": s} or {"uri": s} (RFC 8225 5.2.1). */
static int check_orig(const json_t *o, stir_error *err)
{
    if (!json_is_object(o))
        return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "orig",
                              "PASSporT has no orig object");
    const json_t *tn = json_object_get(o, "tn"), *uri = json_object_get(o, "uri");
    if (json_object_size(o) != 1 || (!json_is_string(tn) && !json_is_string(uri)))
        return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "orig",
                              "PASSporT orig must hold exactly one tn or uri string");
    return 0;
}

/* dest: an object of tn and/or uri arrays of strings, at least one value. */
static int check_dest(const json_t *d, stir_error *err)
{
    size_t total = 0;
    const char *k;
    const json_t *arr;
    if (!json_is_object(d))
        return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "dest",
                              "PASSporT has no dest object");
    json_object_foreach ((json_t *)d, k, arr) {
        if (strcmp(k, "tn") && strcmp(k, "uri"))
            return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "dest",
                                  "PASSporT dest has an unknown member \"%.20s\"", k);
        if (!json_is_array(arr))
            return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "dest",
                                  "PASSporT dest.%s must be an array (RFC 8225 5.2.1)", k);
        for (size_t i = 0; i < json_array_size(arr); i++)
            if (!json_is_string(json_array_get(arr, i)))
                return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "dest",
                                      "PASSporT dest.%s holds a non-string", k);
        total += json_array_size(arr);
    }
    if (!total)
        return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "dest",
                              "PASSporT dest holds no identity");
    return 0;
}

static int check_claims(const stir_ppt_type *t, const json_t *claims, stir_error *err)
{
    const json_t *iat = json_object_get(claims, "iat");
    int rc;
    if (!json_is_integer(iat) || json_integer_value(iat) <= 0)
        return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "iat",
                              iat ? "PASSporT iat must be a positive integer NumericDate"
                                  : "PASSporT has no iat claim");
    if ((rc = check_orig(json_object_get(claims, "orig"), err)))
        return rc;
    if ((rc = check_dest(json_object_get(claims, "dest"), err)))
        return rc;
    for (size_t i = 0; i < t->n_claims; i++) {
        const stir_claim_spec *c = &t->claims[i];
        const json_t *v = json_object_get(claims, c->name);
        if (!v) {
            if (c->required)
                return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, c->name,
                                      "PASSporT of type %s has no %s claim", t->name, c->name);
            continue;
        }
        if ((rc = sti_claim_check(c, v, STIR_ERR_INVALID, err))) {
            err->text = TEXT_INVALID_PASSPORT;
            return rc;
        }
    }
    if (t->check_claims && (rc = t->check_claims(claims, STIR_ERR_INVALID, err)))
        err->text = TEXT_INVALID_PASSPORT;
    return rc;
}

/* ---- identities --------------------------------------------------------- */

static const char *ident_kind(const stir_ident *id)
{
    return id->is_tn ? "tn" : "uri";
}

/*
 * A claim value in canonical form: a tn canonicalized, a uri by the rules
 * of the request identities (so "sip:+12155551212@host" is the TN
 * 12155551212 unless user=phone is required, RFC 8224 8.3). -1 if bad.
 */
static int canon_value(const char *v, int is_tn, int flags, stir_ident *id)
{
    stir_error ignore;
    memset(id, 0, sizeof *id);
    if (!v)
        return -1;
    if (is_tn) {
        id->is_tn = 1;
        return stir_tn_canon(v, id->value, "claim", &ignore) ? -1 : 0;
    }
    return stir_ident_from_uri_ex(v, id, flags, "claim", &ignore) ? -1 : 0;
}

static int same_ident(const stir_ident *a, const stir_ident *b)
{
    return a->is_tn == b->is_tn && strcmp(a->value, b->value) == 0;
}

/* Does the PASSporT orig equal the SIP calling identity? */
static int match_orig(const json_t *orig, const stir_ident *from, int flags, stir_error *err)
{
    const json_t *tn = json_object_get(orig, "tn");
    const char *kind = tn ? "tn" : "uri";
    const char *val = json_string_value(tn ? tn : json_object_get(orig, "uri"));
    stir_ident canon;
    /* Compare canonical forms: a signer may have left separators in. */
    if (canon_value(val, tn != NULL, flags, &canon) == 0 && same_ident(&canon, from))
        return 0;
    return stir_fail(err, STIR_ERR_INVALID, "orig", "orig %s %.64s does not match from %s %s", kind,
                     val, ident_kind(from), from->value);
}

/* Does a dest claim name `id`? A uri entry may be a TN (RFC 8224 8.3). */
static int dest_contains(const json_t *dest, const stir_ident *id, int flags)
{
    for (int is_tn = 0; is_tn < 2; is_tn++) {
        const json_t *arr = json_object_get(dest, is_tn ? "tn" : "uri");
        if (is_tn && !id->is_tn)
            break; /* a tn entry never names a URI */
        for (size_t i = 0; i < json_array_size(arr); i++) {
            stir_ident canon;
            if (canon_value(json_string_value(json_array_get(arr, i)), is_tn, flags, &canon) == 0 &&
                same_ident(&canon, id))
                return 1;
        }
    }
    return 0;
}

/* dest must name the To identity, or the Request-URI when the client gave it. */
static int match_dest(const json_t *dest, const stir_verify_ctx *ctx, stir_error *err)
{
    if (dest_contains(dest, &ctx->to, ctx->ident_flags))
        return 0;
    if (ctx->has_dest && dest_contains(dest, &ctx->dest, ctx->ident_flags))
        return 0;
    char *d = json_dumps(dest, JSON_COMPACT | JSON_SORT_KEYS);
    stir_fail(err, STIR_ERR_INVALID, "dest", "dest %.120s does not contain to %s %s%s%s",
              d ? d : "?", ident_kind(&ctx->to), ctx->to.value, ctx->has_dest ? " nor dest " : "",
              ctx->has_dest ? ctx->dest.value : "");
    free(d);
    return STIR_ERR_INVALID;
}

/* ---- freshness ------------------------------------------------------------ */

static int check_fresh(long long iat, const stir_verify_ctx *ctx, long w, stir_error *err)
{
    long long t = ctx->time, now = ctx->now;
    if (now - t > w)
        return stir_fail(err, STIR_ERR_STALE, "time",
                         "request time %lld is %lld s older than the verifier clock; "
                         "window %ld s",
                         t, now - t, w);
    if (t - now > w)
        return stir_fail(err, STIR_ERR_STALE, "time",
                         "request time %lld is %lld s ahead of the verifier clock; "
                         "window %ld s",
                         t, t - now, w);
    if (t - iat > w)
        return stir_fail(err, STIR_ERR_STALE, "iat",
                         "iat %lld is %lld s older than the request time %lld; window %ld s", iat,
                         t - iat, t, w);
    if (iat - t > w)
        return stir_fail(err, STIR_ERR_STALE, "iat",
                         "iat %lld is %lld s in the future of the request time %lld; "
                         "window %ld s",
                         iat, iat - t, t, w);
    return 0;
}

/* ---- one PASSporT ---------------------------------------------------------- */

/* Reconstruct header and claims for a compact form (RFC 8224 5.4). */
static stir_passport *compact_passport(const stir_identity *id, const stir_verify_ctx *ctx,
                                       stir_error *err)
{
    json_t *h = json_pack("{ss ss ss}", "alg", id->alg ? id->alg : "ES256", "typ", "passport",
                          "x5u", id->info);
    if (id->ppt)
        json_object_set_new(h, "ppt", json_string(id->ppt));
    json_t *c = json_pack("{s{s[s]} sI s{ss}}", "dest", ident_kind(&ctx->to), ctx->to.value, "iat",
                          (json_int_t)ctx->time, "orig", ident_kind(&ctx->from), ctx->from.value);
    stir_passport *p = NULL;
    if (h && c)
        p = stir_passport_from_compact(id->token, strlen(id->token), h, c, err);
    else
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    json_decref(h);
    json_decref(c);
    return p;
}

/*
 * The certificate must be authoritative for the identity the type signs
 * for: orig, or div for div (RFC 8946 4.2 step 2). A third-party rcd
 * PASSporT (with iss) need not cover orig (RFC 9795 10.2); its RCD is only
 * used next to a verified first-party PASSporT (see gate_third_party).
 */
static int check_scope(const stir_ppt_type *t, const json_t *claims, const stir_cert *cert,
                       stir_error *err)
{
    const char *who = sti_ppt_scope_claim(t);
    const char *tn = json_string_value(json_object_get(json_object_get(claims, who), "tn"));
    const stir_tnauth *ta = stir_cert_tnauth(cert);
    if (sti_ppt_has_claim(t, "iss") && json_object_get(claims, "iss"))
        return 0;
    if (!tn || !ta || stir_tnauth_covers(ta, tn))
        return 0;
    return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, "x5u",
                     "certificate TNAuthList does not cover %s tn %.32s", who, tn);
}

#define RCD_LEFT_OUT "; its rcd, rcdi and crn claims are left out of validClaims"

/*
 * RCD (RFC 9795 8). In an rcd PASSporT the RCD is what is signed for, so
 * RCD that does not verify fails the PASSporT (438). Riding in another type
 * (shaken, avatar) it is reported on its own: the caller ID still passes,
 * but the unverified RCD claims are not among validClaims (*strip = 1) and
 * rcdResult says why. A needed fetch under NOWAIT stops the PASSporT.
 */
static int check_rcd(stir_verifier *v, const stir_ppt_type *t, const json_t *claims,
                     const stir_verify_ctx *ctx, stir_verify_result *out, int *strip)
{
    *strip = 0;
    if (!json_object_get(claims, "rcd") && !json_object_get(claims, "crn"))
        return 0;
    if (!v->rcd) {
        out->rcd = json_pack("{ss ss}", "status", "fail", "reasonDescription",
                             "RCD is not verified by this server (no RCD fetcher configured)");
    } else {
        stir_error e;
        stir_error_clear(&e);
        out->rcd = stir_rcd_verify(v->rcd, claims, ctx->cache_flags, &e);
        if (!out->rcd && e.code == STIR_WOULD_BLOCK) {
            out->err = e;
            return STIR_WOULD_BLOCK;
        }
    }
    const char *status = json_string_value(json_object_get(out->rcd, "status"));
    if (status && !strcmp(status, "pass"))
        return 0;
    const char *why = json_string_value(json_object_get(out->rcd, "reasonDescription"));
    if (!strcmp(t->name, "rcd"))
        return stir_fail(&out->err, STIR_ERR_INVALID, "rcdi",
                         "the Rich Call Data does not "
                         "verify: %s",
                         why ? why : "not verified");
    *strip = 1;
    if (out->rcd && why) {
        char *d = NULL;
        if (asprintf(&d, "%s" RCD_LEFT_OUT, why) >= 0)
            json_object_set_new(out->rcd, "reasonDescription", json_string(d));
        free(d);
    }
    return 0;
}

/* The claims without the RCD ones (rcd, rcdi, crn); new reference. */
static json_t *without_rcd(const json_t *claims)
{
    json_t *c = json_copy((json_t *)claims);
    if (c) {
        json_object_del(c, "rcd");
        json_object_del(c, "rcdi");
        json_object_del(c, "crn");
    }
    return c;
}

/* The verified claims, as a tree (for the chain checks) and as the
 * payload bytes that were signed (for the response). */
static int keep_claims(const stir_passport *p, stir_verify_result *out)
{
    size_t len;
    const char *text = stir_passport_payload(p, &len);
    out->claims = json_incref((json_t *)stir_passport_claims(p));
    if (text && (out->claims_text = malloc(len + 1))) {
        memcpy(out->claims_text, text, len + 1);
        out->claims_text_len = len;
    }
    return 0; /* without the text, the response writes `claims` */
}

static int verify_passport(stir_verifier *v, const stir_identity *id, stir_passport *p,
                           const stir_verify_ctx *ctx, stir_verify_result *out)
{
    stir_error *err = &out->err;
    const char *hppt = stir_passport_ppt(p);
    int rc;
    if (id->ppt && (!hppt || strcmp(id->ppt, hppt)))
        return stir_fail(err, STIR_ERR_INVALID, "ppt",
                         "Identity ppt parameter \"%.32s\" does not match PASSporT header "
                         "ppt \"%.32s\"",
                         id->ppt, hppt ? hppt : "(none)");
    if (json_object_get(stir_passport_header(p), "ppt") && !hppt)
        return stir_fail(err, STIR_ERR_INVALID, "ppt", "PASSporT header ppt is not a string");
    snprintf(out->ppt, sizeof out->ppt, "%s", hppt ? hppt : "");
    const stir_ppt_type *t = out->type = stir_ppt_find(v->ctx, hppt);
    if (!t)
        return stir_fail_text(err, STIR_ERR_USE_IDENTITY, TEXT_USE_SUPPORTED, "ppt",
                              "unsupported PASSporT type \"%.32s\"; supported: %s", hppt,
                              stir_ppt_names(v->ctx));
    const char *alg = stir_passport_alg(p);
    if (id->alg && strcmp(id->alg, "ES256"))
        return stir_fail(err, STIR_ERR_INVALID, "alg",
                         "Identity alg parameter \"%.16s\" is not allowed: only ES256", id->alg);
    if (!alg || strcmp(alg, "ES256"))
        return stir_fail(err, STIR_ERR_INVALID, "alg",
                         "PASSporT alg \"%.16s\" is not allowed: only ES256 (RFC 8225 4.2)",
                         alg ? alg : "(none)");
    const char *x5u = stir_passport_x5u(p);
    if (!x5u)
        return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, "x5u",
                              "PASSporT header has no x5u");
    if (strcmp(x5u, id->info))
        return stir_fail(err, STIR_ERR_INVALID, "x5u",
                         "PASSporT x5u %.200s differs from Identity info %.200s "
                         "(RFC 8224 4.1)",
                         x5u, id->info);
    const json_t *claims = stir_passport_claims(p);
    if ((rc = check_claims(t, claims, err)))
        return rc;
    if (!ctx->from.value[0])
        return stir_fail(err, STIR_ERR_ANONYMITY, "from", "no calling identity (from) was given");
    if (stir_ident_is_anonymous(&ctx->from))
        return stir_fail(err, STIR_ERR_ANONYMITY, "from", "calling identity %s is anonymous",
                         ctx->from.value);

    long long iat = json_integer_value(json_object_get(claims, "iat"));
    stir_cert *cert = stir_certcache_get_ex(v->cache, x5u, (time_t)iat, ctx->cache_flags, err);
    if (!cert)
        return err->code;
    if ((rc = check_scope(t, claims, cert, err))) {
        stir_cert_unref(cert);
        return rc;
    }
    if (!(rc = check_fresh(iat, ctx, v->freshness_s, err)) &&
        !(rc = match_orig(json_object_get(claims, "orig"), &ctx->from, ctx->ident_flags, err)) &&
        !(t->dest == STIR_DEST_TO &&
          (rc = match_dest(json_object_get(claims, "dest"), ctx, err)))) {
        int ok = stir_passport_verify_sig(p, stir_cert_pubkey(cert));
        if (ok != 1)
            rc = stir_fail(err, STIR_ERR_INVALID, "signature",
                           "signature does not verify with the key of the x5u certificate");
    }
    /* The credential is fine but the PASSporT oversteps it: 438. */
    if (!rc)
        rc = stir_jcc_check(stir_cert_jcc(cert), claims, STIR_ERR_INVALID, err);
    stir_cert_unref(cert);
    /* The claims are now the signer's: check them against the request. */
    if (!rc && t->check_request)
        rc = t->check_request(claims, ctx, err);
    int strip = 0;
    if (!rc && sti_ppt_has_claim(t, "rcd"))
        rc = check_rcd(v, t, claims, ctx, out, &strip);
    if (!rc && strip)
        out->claims = without_rcd(claims);
    else if (!rc)
        rc = keep_claims(p, out);
    return rc;
}

/*
 * The compact form "..<signature>" of a value whose PASSporT could not be
 * read (RFC 9410 5 ppi), so every Reason still names its PASSporT: the
 * third dot-separated part before any ';', when it is non-empty base64url
 * (else there is no signature part to name). NULL if none.
 */
static char *raw_compact(const char *identity, size_t len)
{
    size_t n = strcspn(identity, ";");
    if (n > len)
        n = len;
    const char *d1 = memchr(identity, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(identity + n - d1 - 1)) : NULL;
    if (!d2)
        return NULL;
    const char *sig = d2 + 1;
    size_t slen = (size_t)(identity + n - sig);
    if (!slen)
        return NULL;
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)sig[i];
        if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
            c != '-' && c != '_')
            return NULL;
    }
    char *out = malloc(slen + 3);
    if (out) {
        memcpy(out, "..", 2);
        memcpy(out + 2, sig, slen);
        out[slen + 2] = '\0';
    }
    return out;
}

int stir_verify_identity(stir_verifier *v, const char *identity, size_t len,
                         const stir_verify_ctx *ctx, stir_verify_result *out)
{
    stir_identity id;
    stir_passport *p = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    stir_error_clear(&out->err);
    out->type = stir_ppt_find(v->ctx, ""); /* ppt "" until parsed */
    if ((rc = stir_identity_parse(identity, len, &id, &out->err))) {
        /* Still report what was received, up to the first ';'. */
        size_t n = strcspn(identity, ";");
        out->passport = strndup(identity, n < len ? n : len);
        out->compact = raw_compact(identity, len);
        return rc;
    }
    snprintf(out->ppt, sizeof out->ppt, "%s", id.ppt ? id.ppt : "");
    out->type = stir_ppt_find(v->ctx, id.ppt);
    out->passport = strdup(id.token);
    if (id.compact) {
        const stir_ppt_type *t = out->type;
        if (t && t->full_form_only) /* RFC 8588 3, RFC 8946 3, RFC 8443 3 */
            rc = stir_fail(&out->err, STIR_ERR_INVALID, "ppt",
                           "compact form is not allowed for ppt \"%s\"", id.ppt);
        else
            p = compact_passport(&id, ctx, &out->err);
    } else {
        p = stir_passport_parse(id.token, strlen(id.token), &out->err);
    }
    if (!rc && !p)
        rc = out->err.code;
    if (p) {
        out->compact = strdup(stir_passport_compact(p));
        out->payload = json_incref((json_t *)stir_passport_claims(p));
        rc = verify_passport(v, &id, p, ctx, out);
    }
    out->pass = rc == 0;
    if (!out->pass && !out->compact)
        out->compact = raw_compact(identity, len);
    stir_passport_free(p);
    stir_identity_clear(&id);
    return rc;
}

/* verstat for the originating identity (TS 24.229 7.2A.20). */
static const char *verstat_of(const stir_verify_result *r)
{
    if (r->pass)
        return STIR_VERSTAT_PASSED;
    /* Nothing was validated: an unsupported type, or no identity to check. */
    if (r->err.code == STIR_ERR_USE_IDENTITY || r->err.code == STIR_ERR_ANONYMITY)
        return STIR_VERSTAT_NONE;
    return STIR_VERSTAT_FAILED;
}

/* ---- diversion chains (RFC 8946 4.2) ------------------------------------------ */

/* A claim identity ({"tn": s} or {"uri": s}, maybe with hi) in canonical form. */
static int claim_ident(const json_t *o, stir_ident *id, int flags)
{
    const json_t *tn = json_object_get(o, "tn");
    return canon_value(json_string_value(tn ? tn : json_object_get(o, "uri")), tn != NULL, flags,
                       id);
}

static int same_orig(const json_t *a, const json_t *b, int flags)
{
    stir_ident x, y;
    return claim_ident(json_object_get(a, "orig"), &x, flags) == 0 &&
           claim_ident(json_object_get(b, "orig"), &y, flags) == 0 && same_ident(&x, &y);
}

static int is_chain(const stir_verify_result *r)
{
    const stir_ppt_type *t = r->payload ? r->type : NULL;
    return t && t->dest == STIR_DEST_CHAIN;
}

/* A verified PASSporT other than `self` whose dest holds `div` and whose
 * orig is self's: the one this div PASSporT diverted. -1 if none. */
static int predecessor(const stir_verify_result *rs, size_t n, size_t self, int flags)
{
    stir_ident div;
    if (claim_ident(json_object_get(rs[self].claims, "div"), &div, flags))
        return -1;
    for (size_t j = 0; j < n; j++)
        if (j != self && rs[j].pass &&
            dest_contains(json_object_get(rs[j].claims, "dest"), &div, flags) &&
            same_orig(rs[j].claims, rs[self].claims, flags))
            return (int)j;
    return -1;
}

/* Is `i` the outermost div: diverted by no other verified div PASSporT? */
static int is_outermost(const stir_verify_result *rs, size_t n, size_t i, int flags)
{
    for (size_t j = 0; j < n; j++)
        if (j != i && rs[j].pass && is_chain(&rs[j]) && predecessor(rs, n, j, flags) == (int)i)
            return 0;
    return 1;
}

static void chain_fail(stir_verify_result *r, const char *field, const char *detail)
{
    stir_fail(&r->err, STIR_ERR_INVALID, field, "%s", detail);
    r->pass = 0;
    json_decref(r->claims);
    r->claims = NULL;
    free(r->claims_text);
    r->claims_text = NULL;
}

/*
 * Every verified div PASSporT must link back, through verified PASSporTs
 * with the same orig, to a non-div original; the outermost one's dest must
 * be the Request-URI (request member dest). A link that fails breaks only
 * the PASSporTs that depend on it; run until nothing changes.
 */
static void check_chains(stir_verify_result *rs, size_t n, const stir_verify_ctx *ctx)
{
    const int fl = ctx->ident_flags;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (!rs[i].pass || !is_chain(&rs[i]))
                continue;
            char who[STIR_URI_MAX + 8];
            stir_ident div;
            claim_ident(json_object_get(rs[i].claims, "div"), &div, fl);
            snprintf(who, sizeof who, "%s %s", div.is_tn ? "tn" : "uri", div.value);
            size_t cur = i, steps = 0;
            int j;
            while ((j = predecessor(rs, n, cur, fl)) >= 0 && is_chain(&rs[j]) && ++steps <= n)
                cur = (size_t)j;
            char why[STIR_DETAIL_MAX];
            const char *field = "div";
            why[0] = '\0';
            if (j < 0)
                snprintf(why, sizeof why,
                         "no verified PASSporT with the same orig has %.100s in "
                         "its dest: the diversion chain is broken (RFC 8946 4.2)",
                         cur == i ? who : "the diverted identity");
            else if (steps > n)
                snprintf(why, sizeof why, "%.100s: the diversion chain loops (RFC 8946 4.2)", who);
            else if (is_outermost(rs, n, i, fl) && !ctx->has_dest)
                snprintf(why, sizeof why,
                         "the request has no dest (Request-URI) to check the "
                         "outermost div PASSporT against (RFC 8946 4.2 step 1)");
            else if (is_outermost(rs, n, i, fl) &&
                     !dest_contains(json_object_get(rs[i].claims, "dest"), &ctx->dest, fl))
                snprintf(why, sizeof why,
                         "the outermost div PASSporT's dest does not hold the "
                         "request's dest %.100s, the current target (RFC 8946 4.2 step 1)",
                         ctx->dest.value);
            if (why[0]) {
                if (j >= 0)
                    field = "dest";
                chain_fail(&rs[i], field, why);
                changed = 1;
            }
        }
    }
}

/* ---- the response ------------------------------------------------------------- */

static const stir_ppt_type *type_of(const stir_verify_result *r)
{
    return r->type;
}

/*
 * verstatValue comes from the PASSporTs that attest the caller (shaken,
 * baseline): passed if one passed (RFC 8224 6.2.1). It is absent when every
 * PASSporT is of another type (e.g. only rph), unless identityHeader, the
 * caller's header, was given and is unusable.
 */
static const char *verstat_value(const stir_verify_result *rs, size_t n, int has_orig)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++) {
        const stir_ppt_type *t = type_of(&rs[i]);
        int caller = (t && t->attests_orig) || (!t && i == 0 && has_orig) ||
                     (i == 0 && has_orig && !rs[i].payload);
        if (!caller)
            continue;
        if (rs[i].pass)
            return STIR_VERSTAT_PASSED;
        if (!v || !strcmp(v, STIR_VERSTAT_NONE))
            v = verstat_of(&rs[i]);
    }
    if (!v && has_orig)
        v = STIR_VERSTAT_NONE;
    return v;
}

/* verstatPriority: passed if an rph PASSporT passed, NULL if there was none. */
static const char *verstat_priority(const stir_verifier *v, const stir_verify_result *rs, size_t n)
{
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        const stir_ppt_type *t = type_of(&rs[i]);
        if (!t || !t->reports_priority)
            continue;
        if (rs[i].pass)
            return v->priority_passed;
        seen = 1;
    }
    return seen ? v->priority_failed : NULL;
}

/* A third party's RCD is shown only next to a verified first-party
 * PASSporT for the call (RFC 9795 10). */
static void gate_third_party(stir_verify_result *rs, size_t n)
{
    int first_party = 0;
    for (size_t i = 0; i < n; i++) {
        const stir_ppt_type *t = type_of(&rs[i]);
        if (t && t->attests_orig && rs[i].pass)
            first_party = 1;
    }
    for (size_t i = 0; i < n && !first_party; i++) {
        if (!rs[i].pass || !rs[i].rcd || !json_object_get(rs[i].claims, "iss"))
            continue;
        if (strcmp(json_string_value(json_object_get(rs[i].rcd, "status")), "pass"))
            continue;
        json_object_set_new(rs[i].rcd, "status", json_string("fail"));
        json_object_del(rs[i].rcd, "display");
        json_object_set_new(
            rs[i].rcd, "reasonDescription",
            json_string("third-party RCD (iss) is used only with a verified "
                        "first-party PASSporT for the call (RFC 9795 10)" RCD_LEFT_OUT));
        json_t *c = without_rcd(rs[i].claims);
        json_decref(rs[i].claims);
        rs[i].claims = c;
        free(rs[i].claims_text); /* no longer the payload: written from `claims` */
        rs[i].claims_text = NULL;
    }
}

/* ---- parallel x5u fetch under one budget (issue 12 item 6) ------------------- */

/* Fetch the x5u (Identity info) of every header that is not cached, all at
 * once, waiting at most the budget; late[i] marks those still missing. */
static void prefetch_x5u(stir_verifier *v, const stir_ms_verify_request *req, int *late)
{
    const char *urls[STIR_MAX_IDENTITY_HEADERS + 1] = {0};
    stir_identity ids[STIR_MAX_IDENTITY_HEADERS + 1];
    stir_error e;
    size_t n = req->n_identity;
    for (size_t i = 0; i < n; i++) {
        memset(&ids[i], 0, sizeof ids[i]);
        urls[i] = NULL;
        if (!stir_identity_parse(req->identity[i], req->identity_len[i], &ids[i], &e))
            urls[i] = ids[i].info;
    }
    sti_prefetch(v->prefetch, urls, n, late);
    for (size_t i = 0; i < n; i++)
        stir_identity_clear(&ids[i]);
}

/* Verify one header; one whose x5u is late must not wait for it (436). */
static void verify_one(stir_verifier *v, const char *s, size_t len, const stir_verify_ctx *ctx,
                       int late, stir_verify_result *out)
{
    if (!late) {
        stir_verify_identity(v, s, len, ctx, out);
        return;
    }
    stir_verify_ctx now_only = *ctx;
    now_only.cache_flags |= STIR_CACHE_NOWAIT;
    stir_verify_identity(v, s, len, &now_only, out);
    if (out->err.code != STIR_WOULD_BLOCK)
        return;
    if (strcmp(out->err.field, "x5u") == 0) {
        stir_fail(&out->err, STIR_ERR_BAD_INFO, "x5u",
                  "x5u not fetched within this request's fetch budget of %ld ms (the fetch "
                  "goes on in the background; a retry may find it cached)",
                  sti_prefetcher_budget_ms(v->prefetch));
        return;
    }
    /* The chain arrived meanwhile; only RCD content would block: run the
     * PASSporT again where that may wait (RCD has its own budget). */
    stir_verify_result_clear(out);
    stir_verify_identity(v, s, len, ctx, out);
}

int stir_verifier_ident_flags(const stir_verifier *v)
{
    return v->require_user_phone ? STIR_IDENT_REQUIRE_USER_PHONE : 0;
}

void stir_verify_outcome_clear(stir_verify_outcome *o)
{
    for (size_t i = 0; i < o->n; i++)
        stir_verify_result_clear(&o->results[i]);
    o->n = 0;
    o->verstat = o->priority = NULL;
}

int stir_verify(stir_verifier *v, const stir_ms_verify_request *req, time_t now, int cache_flags,
                stir_verify_outcome *out, stir_error *err)
{
    stir_verify_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    out->n = 0;
    out->verstat = out->priority = NULL;
    ctx.now = now;
    ctx.cache_flags = cache_flags;
    ctx.request = req->members;
    ctx.ident_flags = stir_verifier_ident_flags(v);
    ctx.from = req->from;
    ctx.to = req->to;
    ctx.dest = req->dest;
    ctx.has_dest = req->has_dest;
    ctx.time = req->time;
    ctx.resource_priority = req->resource_priority;
    ctx.priority = req->priority;

    size_t n = req->n_identity;
    stir_verify_result *rs = out->results;
    int late[STIR_MAX_IDENTITY_HEADERS] = {0};
    assert(n <= STIR_MAX_IDENTITY_HEADERS);
    /* Waiting allowed: the RCD content of all the request's PASSporTs
     * shares one fetch budget, so 16 PASSporTs whose icons hang cost one
     * rcd fetch_budget_ms, not 16 (under NOWAIT nothing is fetched). */
    int rcd_budget = !(cache_flags & STIR_CACHE_NOWAIT) && v->rcd;
    if (!(cache_flags & STIR_CACHE_NOWAIT))
        prefetch_x5u(v, req, late);
    if (rcd_budget)
        stir_rcd_request_begin(v->rcd);
    for (size_t i = 0; i < n; i++) {
        verify_one(v, req->identity[i], req->identity_len[i], &ctx, late[i], &rs[i]);
        out->n = i + 1;
        if (rs[i].err.code == STIR_WOULD_BLOCK) {
            assert(!rcd_budget); /* only NOWAIT stops */
            if (rcd_budget)
                stir_rcd_request_end();
            if (err)
                *err = rs[i].err;
            stir_verify_outcome_clear(out);
            return STIR_WOULD_BLOCK;
        }
    }
    if (rcd_budget)
        stir_rcd_request_end();
    check_chains(rs, n, &ctx);
    gate_third_party(rs, n);
    out->verstat = verstat_value(rs, n, req->has_orig);
    out->priority = verstat_priority(v, rs, n);
    return 0;
}

json_t *stir_verify_request(stir_verifier *v, const json_t *req, time_t now, stir_error *err)
{
    return stir_verify_request_ex(v, req, now, 0, err);
}

json_t *stir_verify_request_ex(stir_verifier *v, const json_t *req, time_t now, int cache_flags,
                               stir_error *err)
{
    stir_ms_verify_request *mr = malloc(sizeof *mr);
    stir_verify_outcome *o = malloc(sizeof *o);
    json_t *resp = NULL;
    if (!mr || !o) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        goto out;
    }
    o->n = 0;
    if (stir_ms_parse_verify(req, stir_verifier_ident_flags(v), mr, err) ||
        stir_verify(v, mr, now, cache_flags, o, err))
        goto out;
    size_t len;
    char *text = stir_ms_verify_response(o, mr, &len);
    json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    resp = json_incref(json_object_get(doc, "verificationResponse"));
    json_decref(doc);
    if (!resp)
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
out:
    if (o)
        stir_verify_outcome_clear(o);
    free(o);
    free(mr);
    return resp;
}
