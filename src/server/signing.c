/*
 * POST {apiRoot}/stir/v1/signing (TS 24.229 V.2.5): a signingRequest in,
 * {"signingResponse":{"identityHeader": ...}} out. Reading the request and
 * writing the response is libstir's Ms API module (stir/msapi.h), signing
 * is the signer's (stir_sign); this file only adapts them to HTTP.
 *
 * The legacy /divSigning and /rphSigning resources (ms-api.md 2.3) are the
 * same with an implied ppt; plain /signing takes the body as it is.
 */
#include "credentials.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one place a request is signed: by one of the client's policy
 * `signers` (NULL: any identity of the server). */
static char *sign_call(const stird_app *app, cred_ref *ref, const char *const *signers,
                       size_t n_signers, const stir_ms_sign_request *mr, int flags, stir_error *err)
{
    return stir_sign(cred_signer(ref), signers, n_signers, mr, app_now(app), flags, err);
}

/*
 * A SIGHUP swaps the credentials before the policy: for a moment (longer
 * for a request parked on the fetch pool) a client's policy may name
 * signers the new credentials no longer have. That is the reload's
 * doing, not the client's nor a fault: 503, retry, and the next request
 * sees the policy that matches.
 */
static int signers_renamed(const stir_signer *s, const char *const *signers, size_t n_signers,
                           http_reply *r)
{
    for (size_t i = 0; i < n_signers; i++)
        if (stir_signer_has(s, signers[i]))
            return 0;
    if (!n_signers)
        return 0;
    http_problem(r, 503, "Service Unavailable",
                 "the signing identities of this client's policy changed with a reload; retry",
                 NULL, NULL, NULL);
    r->retry_after = 1;
    return 1;
}

/* The 200 answer, or the problem when `hdr` is NULL. The reply keeps
 * `hdr` (for the audit record). */
static void sign_reply(char *hdr, const stir_error *err, const stir_ms_sign_request *mr,
                       http_reply *r)
{
    if (!hdr) {
        http_problem_from_stir(r, err);
        return;
    }
    r->body = stir_ms_sign_response(hdr, mr->request_id, mr->request_id_len, &r->len);
    if (!r->body) {
        free(hdr);
        http_problem(r, 500, "Internal Server Error", "out of memory", "SYSTEM_FAILURE", NULL,
                     NULL);
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->identity = hdr;
}

/* What the fetch pool finishes: the request with its implied ppt, since
 * signing_finish does not know the resource. NULL when out of memory. */
static json_t *deferred_request(const json_t *req, const char *implied_ppt)
{
    json_t *copy;
    if (!implied_ppt || json_object_get(req, "ppt"))
        return json_incref((json_t *)req);
    /* Shallow: only the copy gains the member; the values are shared. */
    copy = json_copy((json_t *)req);
    if (copy && json_object_set_new(copy, "ppt", json_string(implied_ppt)) != 0) {
        json_decref(copy);
        copy = NULL;
    }
    return copy;
}

int signing_handle(const stird_app *app, const json_t *body, const char *implied_ppt,
                   const char *const *signers, size_t n_signers, http_reply *r, json_t **later)
{
    stir_ms_sign_request mr;
    stir_error err;
    const json_t *req;
    const char *rid;
    size_t rid_len;
    cred_ref *ref;
    char *hdr;

    memset(&err, 0, sizeof err);
    if (!(req = stir_ms_unwrap(body, "signingRequest", &err)) ||
        stir_ms_request_id(req, body, &rid, &rid_len, &err)) {
        http_problem_from_stir(r, &err);
        return 0;
    }
    ref = cred_acquire(app->creds);
    if (!cred_signer(ref)) {
        cred_release(ref);
        http_problem(r, 503, "Service Unavailable",
                     "signing is not configured on this server (no --key, --cert, --x5u)", NULL,
                     NULL, NULL);
        return 0;
    }
    if (stir_ms_parse_sign(req, body, implied_ppt, &mr, &err)) {
        cred_release(ref);
        http_problem_from_stir(r, &err);
        return 0;
    }
    if (signers_renamed(cred_signer(ref), signers, n_signers, r)) {
        cred_release(ref);
        return 0;
    }
    /* Never block a worker: an rcd whose linked content is not cached
     * comes back STIR_WOULD_BLOCK and is finished on the fetch pool. */
    hdr = sign_call(app, ref, signers, n_signers, &mr, STIR_CACHE_NOWAIT, &err);
    cred_release(ref);
    if (!hdr && err.code == STIR_WOULD_BLOCK) {
        if ((*later = deferred_request(req, implied_ppt)))
            return 1;
        stir_fail(&err, STIR_ERR_INTERNAL, NULL, "out of memory");
    }
    sign_reply(hdr, &err, &mr, r);
    return 0;
}

/* On a fetch pool thread: the same request, now allowed to fetch. */
void signing_finish(const stird_app *app, const json_t *body, const json_t *req,
                    const char *const *signers, size_t n_signers, http_reply *r)
{
    stir_ms_sign_request mr = {0};
    stir_error err;
    char *hdr = NULL;

    memset(&err, 0, sizeof err);
    /* The signer current now: a reload in between means the new one. */
    cred_ref *ref = cred_acquire(app->creds);
    if (!cred_signer(ref))
        stir_fail(&err, STIR_ERR_INTERNAL, NULL, "signing was turned off by a reload");
    else if (signers_renamed(cred_signer(ref), signers, n_signers, r)) {
        cred_release(ref);
        return;
    } else if (!stir_ms_parse_sign(req, body, NULL, &mr, &err))
        hdr = sign_call(app, ref, signers, n_signers, &mr, 0, &err);
    cred_release(ref);
    sign_reply(hdr, &err, &mr, r);
}
