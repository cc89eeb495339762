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
static void log_outcome(const stir_verify_outcome *o, http_reply *r)
{
    size_t o_len = 0, cap = sizeof r->codes;

    snprintf(r->verstat, sizeof r->verstat, "%s", o->verstat ? o->verstat : "-");
    r->codes[0] = '\0';
    for (size_t i = 0; i < o->n; i++) {
        const stir_verify_result *vr = &o->results[i];
        char one[24];
        int w = vr->pass ? snprintf(one, sizeof one, "%spass", i ? "," : "")
                         : snprintf(one, sizeof one, "%s%d", i ? "," : "", vr->err.code);
        if (o_len + (size_t)w + 1 >= cap)
            break;
        memcpy(r->codes + o_len, one, (size_t)w + 1);
        o_len += (size_t)w;
    }
    if (o->n == 0)
        snprintf(r->codes, cap, "-");
}

/*
 * Verify a parsed request and fill the reply. Returns 1 when it would have
 * to wait for a fetch (nothing filled), else 0.
 */
static int verify_reply(const stird_app *app, const json_t *req, int flags, http_reply *r)
{
    stir_ms_verify_request mr;
    stir_verify_outcome o;
    stir_error err;
    int rc;

    memset(&err, 0, sizeof err);
    /* The trust anchors current now: a reload in between means the new. */
    holder_ref *ref = holder_acquire(app->verif);
    const verif *v = holder_obj(ref);
    rc = stir_ms_parse_verify(req, stir_verifier_ident_flags(v->verifier), &mr, &err);
    if (!rc)
        rc = stir_verify(v->verifier, &mr, app_now(app), flags, &o, &err);
    if (rc == STIR_WOULD_BLOCK) {
        holder_release(ref);
        return 1;
    }
    if (rc) {
        holder_release(ref);
        http_problem_from_stir(r, &err);
        return 0;
    }
    log_outcome(&o, r);
    metrics_verification(&o);
    r->body = stir_ms_verify_response(&o, &mr, &r->len);
    /* the results point into the verifier's types: cleared before release */
    stir_verify_outcome_clear(&o);
    holder_release(ref);
    if (!r->body) {
        http_problem(r, 500, "Internal Server Error", "out of memory", "SYSTEM_FAILURE", NULL,
                     NULL);
        return 0;
    }
    r->status = 200;
    r->content_type = "application/json";
    return 0;
}

int verification_handle(const stird_app *app, const json_t *body, http_reply *r, json_t **later)
{
    stir_error err;
    const json_t *req;

    memset(&err, 0, sizeof err);
    if (!(req = stir_ms_unwrap(body, "verificationRequest", &err))) {
        http_problem_from_stir(r, &err);
        return 0;
    }
    if (verify_reply(app, req, STIR_CACHE_NOWAIT, r)) {
        *later = json_incref((json_t *)req);
        return 1;
    }
    return 0;
}

/* On a fetch pool thread: the same request, now allowed to fetch. */
void verification_finish(const stird_app *app, const json_t *body, const json_t *req, http_reply *r)
{
    (void)body;
    /* stir_verify gives the RCD content of all its PASSporTs one budget:
     * 16 PASSporTs whose icons hang hold this thread (and its client's
     * share) for one rcd_fetch_budget_ms, not 16. */
    verify_reply(app, req, 0, r);
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
