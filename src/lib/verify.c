/*
 * The verification service (RFC 8224 6.2, RFC 8588): one verdict per
 * PASSporT, each failure with its RFC 8224 code, phrase and detail.
 *
 * Checks run in the order of RFC 8224 6.2 so a PASSporT reports the first
 * failing step: header format (438), ppt (428), alg/x5u/claims (438),
 * caller anonymity (433), credential (436/437), freshness (403),
 * orig/dest against the SIP identities (438), then the signature (438).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stir/cert.h"
#include "stir/encoding.h"
#include "stir/identity.h"
#include "stir/passport.h"
#include "stir/reason.h"
#include "stir/verify.h"

#define TEXT_INVALID_PASSPORT "Invalid PASSporT"
#define TEXT_USE_SUPPORTED "Use Supported PASSporT Format"

struct stir_verifier {
    stir_certcache *cache;
    long freshness_s;
};

stir_verifier *stir_verifier_new(const stir_verifier_config *cfg, stir_error *err)
{
    if (!cfg->cache) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "verifier needs a certificate cache");
        return NULL;
    }
    stir_verifier *v = calloc(1, sizeof *v);
    if (!v) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    v->cache = cfg->cache;
    v->freshness_s = cfg->freshness_s > 0 ? cfg->freshness_s : 60;
    return v;
}

void stir_verifier_free(stir_verifier *v) { free(v); }

void stir_verify_result_clear(stir_verify_result *r)
{
    free(r->passport);
    free(r->compact);
    json_decref(r->claims);
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
    json_object_foreach((json_t *)d, k, arr) {
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
    if ((rc = check_orig(json_object_get(claims, "orig"), err))) return rc;
    if ((rc = check_dest(json_object_get(claims, "dest"), err))) return rc;
    for (size_t i = 0; i < t->n_claims; i++) {
        const stir_claim_spec *c = &t->claims[i];
        const json_t *v = json_object_get(claims, c->name);
        if (!v) {
            if (c->required)
                return stir_fail_text(err, STIR_ERR_INVALID, TEXT_INVALID_PASSPORT, c->name,
                                      "PASSporT of type %s has no %s claim", t->name, c->name);
            continue;
        }
        if ((rc = stir_claim_check(c, v, STIR_ERR_INVALID, err))) {
            err->text = TEXT_INVALID_PASSPORT;
            return rc;
        }
    }
    return 0;
}

/* ---- identities --------------------------------------------------------- */

static const char *ident_kind(const stir_ident *id) { return id->is_tn ? "tn" : "uri"; }

/* Does the PASSporT orig equal the SIP calling identity? */
static int match_orig(const json_t *orig, const stir_ident *from, stir_error *err)
{
    const json_t *tn = json_object_get(orig, "tn");
    const char *kind = tn ? "tn" : "uri";
    const char *val = json_string_value(tn ? tn : json_object_get(orig, "uri"));
    stir_ident canon = { 0 };
    stir_error ignore;
    /* Compare canonical forms: a signer may have left separators in. */
    int ok = tn ? stir_tn_canon(val, canon.value, "orig", &ignore) == 0
                : stir_uri_normalize(val, canon.value, "orig", &ignore) == 0;
    if (ok && (tn != NULL) == (from->is_tn != 0) && strcmp(canon.value, from->value) == 0)
        return 0;
    return stir_fail(err, STIR_ERR_INVALID, "orig", "orig %s %.64s does not match from %s %s",
                     kind, val, ident_kind(from), from->value);
}

static int dest_contains(const json_t *dest, const stir_ident *id)
{
    const json_t *arr = json_object_get(dest, id->is_tn ? "tn" : "uri");
    stir_error ignore;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_array_get(arr, i));
        char canon[STIR_URI_MAX + 1];
        int ok = id->is_tn ? stir_tn_canon(v, canon, "dest", &ignore) == 0
                           : stir_uri_normalize(v, canon, "dest", &ignore) == 0;
        if (ok && strcmp(canon, id->value) == 0) return 1;
    }
    return 0;
}

/* dest must name the To identity, or the Request-URI when the client gave it. */
static int match_dest(const json_t *dest, const stir_verify_ctx *ctx, stir_error *err)
{
    if (dest_contains(dest, &ctx->to)) return 0;
    if (ctx->has_dest && dest_contains(dest, &ctx->dest)) return 0;
    char *d = json_dumps(dest, JSON_COMPACT | JSON_SORT_KEYS);
    stir_fail(err, STIR_ERR_INVALID, "dest", "dest %.120s does not contain to %s %s%s%s",
              d ? d : "?", ident_kind(&ctx->to), ctx->to.value,
              ctx->has_dest ? " nor dest " : "", ctx->has_dest ? ctx->dest.value : "");
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
                         "window %ld s", t, now - t, w);
    if (t - now > w)
        return stir_fail(err, STIR_ERR_STALE, "time",
                         "request time %lld is %lld s ahead of the verifier clock; "
                         "window %ld s", t, t - now, w);
    if (t - iat > w)
        return stir_fail(err, STIR_ERR_STALE, "iat",
                         "iat %lld is %lld s older than the request time %lld; window %ld s",
                         iat, t - iat, t, w);
    if (iat - t > w)
        return stir_fail(err, STIR_ERR_STALE, "iat",
                         "iat %lld is %lld s in the future of the request time %lld; "
                         "window %ld s", iat, iat - t, t, w);
    return 0;
}

/* ---- one PASSporT ---------------------------------------------------------- */

/* Reconstruct header and claims for a compact form (RFC 8224 5.4). */
static stir_passport *compact_passport(const stir_identity *id, const stir_verify_ctx *ctx,
                                       stir_error *err)
{
    json_t *h = json_pack("{ss ss ss}", "alg", id->alg ? id->alg : "ES256", "typ", "passport",
                          "x5u", id->info);
    if (id->ppt) json_object_set_new(h, "ppt", json_string(id->ppt));
    json_t *c = json_pack("{s{s[s]} sI s{ss}}", "dest", ident_kind(&ctx->to), ctx->to.value,
                          "iat", (json_int_t)ctx->time, "orig", ident_kind(&ctx->from),
                          ctx->from.value);
    stir_passport *p = NULL;
    if (h && c) p = stir_passport_from_compact(id->token, strlen(id->token), h, c, err);
    else stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    json_decref(h);
    json_decref(c);
    return p;
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
                         "ppt \"%.32s\"", id->ppt, hppt ? hppt : "(none)");
    if (json_object_get(stir_passport_header(p), "ppt") && !hppt)
        return stir_fail(err, STIR_ERR_INVALID, "ppt", "PASSporT header ppt is not a string");
    snprintf(out->ppt, sizeof out->ppt, "%s", hppt ? hppt : "");
    const stir_ppt_type *t = stir_ppt_find(hppt);
    if (!t)
        return stir_fail_text(err, STIR_ERR_USE_IDENTITY, TEXT_USE_SUPPORTED, "ppt",
                              "unsupported PASSporT type \"%.32s\"; supported: %s", hppt,
                              stir_ppt_names());
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
                         "(RFC 8224 4.1)", x5u, id->info);
    const json_t *claims = stir_passport_claims(p);
    if ((rc = check_claims(t, claims, err))) return rc;
    if (!ctx->from.value[0])
        return stir_fail(err, STIR_ERR_ANONYMITY, "from",
                         "no calling identity (from) was given");
    if (stir_ident_is_anonymous(&ctx->from))
        return stir_fail(err, STIR_ERR_ANONYMITY, "from",
                         "calling identity %s is anonymous", ctx->from.value);

    long long iat = json_integer_value(json_object_get(claims, "iat"));
    stir_cert *cert = stir_certcache_get_ex(v->cache, x5u, (time_t)iat, ctx->cache_flags, err);
    if (!cert) return err->code;
    const json_t *otn = json_object_get(json_object_get(claims, "orig"), "tn");
    const stir_tnauth *ta = stir_cert_tnauth(cert);
    if (otn && ta && !stir_tnauth_covers(ta, json_string_value(otn))) {
        stir_cert_unref(cert);
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, "x5u",
                         "certificate TNAuthList does not cover orig tn %.32s",
                         json_string_value(otn));
    }
    if (!(rc = check_fresh(iat, ctx, v->freshness_s, err)) &&
        !(rc = match_orig(json_object_get(claims, "orig"), &ctx->from, err)) &&
        !(rc = match_dest(json_object_get(claims, "dest"), ctx, err))) {
        int ok = stir_passport_verify_sig(p, stir_cert_pubkey(cert));
        if (ok != 1)
            rc = stir_fail(err, STIR_ERR_INVALID, "signature",
                           "signature does not verify with the key of the x5u certificate");
    }
    stir_cert_unref(cert);
    if (!rc) out->claims = json_incref((json_t *)claims);
    return rc;
}

int stir_verify_identity(stir_verifier *v, const char *identity, size_t len,
                         const stir_verify_ctx *ctx, stir_verify_result *out)
{
    stir_identity id;
    stir_passport *p = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    stir_error_clear(&out->err);
    if ((rc = stir_identity_parse(identity, len, &id, &out->err))) {
        /* Still report what was received, up to the first ';'. */
        size_t n = strcspn(identity, ";");
        out->passport = strndup(identity, n < len ? n : len);
        return rc;
    }
    snprintf(out->ppt, sizeof out->ppt, "%s", id.ppt ? id.ppt : "");
    out->passport = strdup(id.token);
    if (id.compact) {
        const stir_ppt_type *t = stir_ppt_find(id.ppt);
        if (t && t->n_claims) /* a type with claims of its own needs the full form */
            rc = stir_fail(&out->err, STIR_ERR_INVALID, "ppt",
                           "compact form is not allowed for ppt \"%s\"", id.ppt);
        else
            p = compact_passport(&id, ctx, &out->err);
    } else {
        p = stir_passport_parse(id.token, strlen(id.token), &out->err);
    }
    if (!rc && !p) rc = out->err.code;
    if (p) {
        out->compact = strdup(stir_passport_compact(p));
        rc = verify_passport(v, &id, p, ctx, out);
    }
    out->pass = rc == 0;
    stir_passport_free(p);
    stir_identity_clear(&id);
    return rc;
}

/* ---- the Ms API verification request ------------------------------------ */

#define REQUEST_ID_MAX 256

static json_t *result_json(const stir_verify_result *r)
{
    json_t *o = json_pack("{ss ss}", "ppt", r->ppt, "status", r->pass ? "pass" : "fail");
    if (r->pass) {
        json_object_set(o, "validClaims", r->claims);
    } else {
        char *reason = stir_reason_format(r->err.code, r->err.text, r->compact);
        json_object_set_new(o, "reasonCode", json_integer(r->err.code));
        json_object_set_new(o, "reasonText", json_string(r->err.text));
        json_object_set_new(o, "reasonDescription", json_string(r->err.detail));
        if (reason) json_object_set_new(o, "reasonHeader", json_string(reason));
        free(reason);
        if (r->passport && stir_utf8_valid(r->passport, strlen(r->passport)))
            json_object_set_new(o, "passport", json_string(r->passport));
    }
    return json_pack("{so}", "verifyResult", o);
}

/* verstat for the originating identity (TS 24.229 7.2A.20). */
static const char *verstat_of(const stir_verify_result *r)
{
    if (r->pass) return STIR_VERSTAT_PASSED;
    /* Nothing was validated: an unsupported type, or no identity to check. */
    if (r->err.code == STIR_ERR_USE_IDENTITY || r->err.code == STIR_ERR_ANONYMITY)
        return STIR_VERSTAT_NONE;
    return STIR_VERSTAT_FAILED;
}

static int get_ident(const json_t *req, const char *name, stir_ident *out, int required,
                     stir_error *err)
{
    const json_t *v = json_object_get(req, name);
    if (!v) {
        if (required) return stir_fail_missing(err, name, "missing %s", name);
        return 1;
    }
    return stir_ident_from_json(v, out, name, err);
}

/* Collect the Identity header values: identityHeader first, then the array. */
static int collect_headers(const json_t *req, const json_t **vals, size_t *n, int *has_orig,
                           stir_error *err)
{
    const json_t *one = json_object_get(req, "identityHeader");
    const json_t *many = json_object_get(req, "identityHeaders");
    const char *many_name = "identityHeaders";
    if (!many && (many = json_object_get(req, "IdentityHeaders"))) many_name = "IdentityHeaders";
    *n = 0;
    *has_orig = 0;
    if (one) {
        if (!json_is_string(one) || json_string_length(one) == 0)
            return stir_fail(err, STIR_ERR_INPUT, "identityHeader",
                             "must be a non-empty string");
        vals[(*n)++] = one;
        *has_orig = 1;
    }
    if (many) {
        if (!json_is_array(many))
            return stir_fail(err, STIR_ERR_INPUT, many_name, "must be an array of strings");
        if (json_array_size(many) + *n > STIR_MAX_IDENTITY_HEADERS)
            return stir_fail(err, STIR_ERR_INPUT, many_name,
                             "more than %d Identity header values", STIR_MAX_IDENTITY_HEADERS);
        for (size_t i = 0; i < json_array_size(many); i++) {
            const json_t *e = json_array_get(many, i);
            if (!json_is_string(e) || json_string_length(e) == 0)
                return stir_fail(err, STIR_ERR_INPUT, many_name,
                                 "element %zu must be a non-empty string", i);
            vals[(*n)++] = e;
        }
    }
    if (*n == 0)
        return stir_fail_missing(err, "identityHeader",
                                 "missing identityHeader (and no identityHeaders)");
    return 0;
}

json_t *stir_verify_request(stir_verifier *v, const json_t *req, time_t now, stir_error *err)
{
    return stir_verify_request_ex(v, req, now, 0, err);
}

json_t *stir_verify_request_ex(stir_verifier *v, const json_t *req, time_t now, int cache_flags,
                               stir_error *err)
{
    const json_t *vals[STIR_MAX_IDENTITY_HEADERS + 1];
    size_t n;
    int has_orig, rc;
    stir_verify_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.now = now;
    ctx.cache_flags = cache_flags;
    if (!json_is_object(req)) {
        stir_fail(err, STIR_ERR_INPUT, "verificationRequest", "must be a JSON object");
        return NULL;
    }
    if (collect_headers(req, vals, &n, &has_orig, err)) return NULL;
    if (get_ident(req, "to", &ctx.to, 1, err)) return NULL;
    rc = get_ident(req, "dest", &ctx.dest, 0, err);
    if (rc > 1) return NULL;
    ctx.has_dest = rc == 0;
    /* A missing calling identity is not a malformed request: each PASSporT
     * reports it as 433 Anonymity Disallowed. */
    rc = get_ident(req, "from", &ctx.from, 0, err);
    if (rc > 1) return NULL;
    const json_t *t = json_object_get(req, "time");
    if (!t) {
        stir_fail_missing(err, "time", "missing time");
        return NULL;
    }
    if (!json_is_integer(t) || json_integer_value(t) <= 0) {
        stir_fail(err, STIR_ERR_INPUT, "time", "must be a positive integer NumericDate");
        return NULL;
    }
    ctx.time = (time_t)json_integer_value(t);
    const json_t *rid = json_object_get(req, "requestId");
    if (rid && (!json_is_string(rid) || json_string_length(rid) > REQUEST_ID_MAX)) {
        stir_fail(err, STIR_ERR_INPUT, "requestId", "must be a string of at most %d characters",
                  REQUEST_ID_MAX);
        return NULL;
    }

    json_t *resp = json_object(), *results = json_array();
    for (size_t i = 0; i < n; i++) {
        stir_verify_result r;
        stir_verify_identity(v, json_string_value(vals[i]), json_string_length(vals[i]), &ctx, &r);
        if (r.err.code == STIR_WOULD_BLOCK) {
            if (err) *err = r.err;
            stir_verify_result_clear(&r);
            json_decref(results);
            json_decref(resp);
            return NULL;
        }
        if (i == 0 && has_orig) {
            int shaken = !strcmp(r.ppt, "shaken") || !r.ppt[0];
            json_object_set_new(resp, "verstatValue",
                                json_string(shaken ? verstat_of(&r) : STIR_VERSTAT_NONE));
        }
        json_array_append_new(results, result_json(&r));
        stir_verify_result_clear(&r);
    }
    json_object_set_new(resp, "verifyResults", results);
    if (rid) json_object_set(resp, "requestId", (json_t *)rid);
    return resp;
}
