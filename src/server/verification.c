/*
 * POST {apiRoot}/stir/v1/verification (TS 24.229 V.2.6): a
 * verificationRequest in, {"verificationResponse": {...}} out. A PASSporT
 * that fails verification is still a 200: its reasonCode is inside
 * verifyResults; only a malformed request is an HTTP error.
 *
 * A request whose certificate is cached (the normal case) is verified in
 * the HTTP worker. One that needs an x5u fetch would hold that worker, and
 * every connection it serves, for up to the fetch timeout; it goes to the
 * fetch pool (http.c) instead, while its connection is suspended.
 *
 * The legacy /divVerification and /rphVerification resources are this one:
 * the request itself says which PASSporTs it carries.
 */
#include "holder.h"
#include "http.h"
#include "trustdigest.h"
#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* For the access log: verstat ("TN-Validation-Failed") and the outcome
 * per PASSporT ("438,pass": "pass" or its reasonCode), in request order. */
static void log_outcome(const json_t *res, http_reply *r)
{
    const json_t *results = json_object_get(res, "verifyResults"), *item;
    const char *verstat = json_string_value(json_object_get(res, "verstatValue"));
    size_t i, o = 0, cap = sizeof r->codes;

    snprintf(r->verstat, sizeof r->verstat, "%s", verstat ? verstat : "-");
    r->codes[0] = '\0';
    json_array_foreach(results, i, item) {
        const json_t *vr = json_object_get(item, "verifyResult");
        const json_t *code = json_object_get(vr, "reasonCode");
        const char *status = json_string_value(json_object_get(vr, "status"));
        char one[24];
        if (json_is_integer(code))
            snprintf(one, sizeof one, "%s%lld", i ? "," : "", (long long)json_integer_value(code));
        else
            snprintf(one, sizeof one, "%s%s", i ? "," : "", status ? status : "?");
        if (o + strlen(one) + 1 >= cap)
            break;
        memcpy(r->codes + o, one, strlen(one) + 1);
        o += strlen(one);
    }
    if (i == 0)
        snprintf(r->codes, cap, "-");
}

/* Turn the library's answer into the HTTP reply. */
static void reply(json_t *res, const stir_error *err, http_reply *r)
{
    if (!res) {
        http_problem_from_stir(r, err);
        return;
    }
    log_outcome(res, r);
    metrics_verification(res);
    http_reply_json(r, 200, json_pack("{s:o}", "verificationResponse", res));
}

int verification_handle(const stird_app *app, const json_t *body, http_reply *r,
                        json_t **later)
{
    const json_t *req = http_unwrap(body, "verificationRequest", r);
    stir_error err;
    json_t *res;

    if (!req)
        return 0;
    holder_ref *ref = holder_acquire(app->verif);
    const verif *v = holder_obj(ref);
    memset(&err, 0, sizeof err);
    res = stir_verify_request_ex(v->verifier, req, app_now(app), STIR_CACHE_NOWAIT, &err);
    holder_release(ref);
    if (!res && err.code == STIR_WOULD_BLOCK) {
        *later = json_incref((json_t *)req);
        return 1;
    }
    reply(res, &err, r);
    return 0;
}

/* On a fetch pool thread: the same request, now allowed to fetch. */
void verification_finish(const stird_app *app, const json_t *body, const json_t *req,
                         http_reply *r)
{
    stir_error err;
    json_t *res;

    (void)body;
    /* The trust anchors current now: a reload in between means the new. */
    holder_ref *ref = holder_acquire(app->verif);
    const verif *v = holder_obj(ref);
    memset(&err, 0, sizeof err);
    res = stir_verify_request_ex(v->verifier, req, app_now(app), 0, &err);
    holder_release(ref);
    reply(res, &err, r);
}

void verif_free(void *p)
{
    verif *v = p;
    if (!v)
        return;
    if (v->verifier)
        stir_verifier_free(v->verifier);
    if (v->cache)
        stir_certcache_free(v->cache);
    if (v->trust)
        stir_trust_free(v->trust);
    free(v->trust_path);
    free(v);
}

verif *verif_new(const stird_app *app, const stird_config *cfg, char *err, size_t errlen)
{
    stir_certcache_config ccfg;
    stir_error e;
    char derr[300];
    verif *v = calloc(1, sizeof *v);

    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(&e, 0, sizeof e);
    if (!(v->trust_path = strdup(cfg->trust))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* Before loading: a change in between is seen by the next reload. */
    if (trust_digest(cfg->trust, v->trust_digest, derr, sizeof derr) != 0) {
        snprintf(err, errlen, "trust anchors %s", derr);
        goto fail;
    }
    v->trust = stir_trust_load(cfg->trust, &e);
    if (!v->trust) {
        snprintf(err, errlen, "cannot load trust anchors from %s: %s", cfg->trust, e.detail);
        goto fail;
    }
    v->trust_count = stir_trust_count(v->trust);
    ccfg = cfg->cache;
    ccfg.crl = app->crl;
    v->cache = stir_certcache_new(app->ctx, &ccfg, v->trust, &e);
    if (!v->cache) {
        snprintf(err, errlen, "cannot create the certificate cache: %s", e.detail);
        goto fail;
    }
    stir_verifier_config vc = cfg->verify;
    vc.cache = v->cache;
    vc.rcd = app->rcd;
    v->verifier = stir_verifier_new(app->ctx, &vc, &e);
    if (!v->verifier) {
        snprintf(err, errlen, "cannot create the verifier: %s", e.detail);
        goto fail;
    }
    return v;
fail:
    verif_free(v);
    return NULL;
}

int verif_trust_changed(const verif *v, const stird_config *cfg)
{
    unsigned char d[TRUST_DIGEST_LEN];
    char err[300];
    /* Unreadable now: "changed", so the reload tries and says why. */
    return strcmp(v->trust_path, cfg->trust) != 0 ||
           trust_digest(cfg->trust, d, err, sizeof err) != 0 ||
           memcmp(d, v->trust_digest, sizeof d) != 0;
}
