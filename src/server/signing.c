/*
 * POST {apiRoot}/stir/v1/signing (TS 24.229 V.2.5): a signingRequest in,
 * {"signingResponse":{"identityHeader": ...}} out. All claim checking is
 * libstir's (stir_sign_request_ex); this file only adapts it to HTTP.
 *
 * The legacy /divSigning and /rphSigning resources (ms-api.md 2.3) are the
 * same with an implied ppt; plain /signing takes the body as it is.
 */
#include "credentials.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* requestId is echoed, so it is bounded like any other member. */
#define REQUEST_ID_MAX 256

/* Write `s` (valid UTF-8, as jansson guarantees for its strings) as a
 * quoted JSON string; `out` needs 6 * n + 2 bytes. Returns the length. */
static size_t json_escape(char *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

/* requestId of the request object, else of the wrapper around it. */
static const json_t *request_id_of(const json_t *req, const json_t *body)
{
    const json_t *rid = json_object_get(req, "requestId");
    if (!rid && req != body)
        rid = json_object_get(body, "requestId");
    return rid;
}

static int check_request_id(const json_t *rid, http_reply *r)
{
    if (!rid)
        return 0;
    if (!json_is_string(rid) || json_string_length(rid) == 0 ||
        json_string_length(rid) > REQUEST_ID_MAX) {
        char detail[100];
        snprintf(detail, sizeof detail, "requestId must be a string of 1 to %d characters",
                 REQUEST_ID_MAX);
        http_problem(r, 400, "Invalid Parameter Value", detail, "OPTIONAL_IE_INCORRECT",
                     "requestId", detail);
        snprintf(r->note, sizeof r->note, "field=requestId");
        return -1;
    }
    return 0;
}

static void ppt_problem(http_reply *r, const char *detail)
{
    http_problem(r, 400, "Invalid Parameter Value", detail, "OPTIONAL_IE_INCORRECT", "ppt",
                 detail);
    snprintf(r->note, sizeof r->note, "field=ppt");
}

/*
 * The request of a legacy per-type resource (/divSigning): `req` with its
 * implied ppt. A ppt in the body must name that same type; "" means shaken
 * (as on /signing), so it conflicts too. Returns a new reference, or NULL
 * with a 400 naming ppt in `r`.
 */
static json_t *with_implied_ppt(const json_t *req, const char *ppt, http_reply *r)
{
    const json_t *given = json_object_get(req, "ppt");
    char detail[300], shown[48];
    json_t *copy;

    if (given) {
        if (!json_is_string(given)) {
            snprintf(detail, sizeof detail, "ppt must be a string; %sSigning signs ppt \"%s\"",
                     ppt, ppt);
            ppt_problem(r, detail);
            return NULL;
        }
        if (strcmp(json_string_value(given), ppt) == 0)
            return json_incref((json_t *)req);
        http_clean_text(shown, sizeof shown, json_string_value(given));
        snprintf(detail, sizeof detail, "ppt \"%s\"%s conflicts with %sSigning, which signs "
                 "only ppt \"%s\" (use /stir/v1/signing for other types)", shown,
                 shown[0] ? "" : " (shaken)", ppt, ppt);
        ppt_problem(r, detail);
        return NULL;
    }
    /* Shallow: only the copy gains the member; the values are shared. */
    copy = json_copy((json_t *)req);
    if (!copy || json_object_set_new(copy, "ppt", json_string(ppt)) != 0) {
        json_decref(copy);
        http_problem(r, 500, "Internal Server Error", "out of memory", "SYSTEM_FAILURE", NULL,
                     NULL);
        return NULL;
    }
    return copy;
}

/* The 200 answer, or the problem when `hdr` is NULL. Frees `hdr`. */
static void sign_reply(char *hdr, const stir_error *err, const json_t *rid, http_reply *r)
{
    static const char P1[] = "{\"signingResponse\":{\"identityHeader\":";
    static const char P2[] = ",\"requestId\":";
    size_t hl, rl, cap, o = 0;
    char *out;

    if (!hdr) {
        http_problem_from_stir(r, err);
        return;
    }
    /* The response has a fixed shape: written directly rather than built
     * as a jansson tree and dumped (this is the hot path of the server). */
    hl = strlen(hdr);
    rl = rid ? json_string_length(rid) : 0;
    cap = sizeof P1 + sizeof P2 + 6 * (hl + rl) + 8;
    if (!(out = malloc(cap))) {
        free(hdr);
        http_problem(r, 500, "Internal Server Error", "out of memory", "SYSTEM_FAILURE", NULL,
                     NULL);
        return;
    }
    memcpy(out, P1, sizeof P1 - 1);
    o = sizeof P1 - 1;
    o += json_escape(out + o, hdr, hl);
    if (rid) {
        memcpy(out + o, P2, sizeof P2 - 1);
        o += sizeof P2 - 1;
        o += json_escape(out + o, json_string_value(rid), rl);
    }
    memcpy(out + o, "}}", 3);
    o += 2;
    free(hdr);
    r->status = 200;
    r->content_type = "application/json";
    r->body = out;
    r->len = o;
}

int signing_handle(const stird_app *app, const json_t *body, const char *implied_ppt,
                   const char *const *signers, size_t n_signers, http_reply *r,
                   json_t **later)
{
    const json_t *req = http_unwrap(body, "signingRequest", r), *rid;
    json_t *typed = NULL;
    stir_error err;
    cred_ref *ref;
    char *hdr;

    if (!req)
        return 0;
    rid = request_id_of(req, body);
    if (check_request_id(rid, r) != 0)
        return 0;
    ref = cred_acquire(app->creds);
    if (!cred_signer(ref)) {
        cred_release(ref);
        http_problem(r, 503, "Service Unavailable",
                     "signing is not configured on this server (no --key, --cert, --x5u)", NULL,
                     NULL, NULL);
        return 0;
    }
    if (implied_ppt) {
        if (!(typed = with_implied_ppt(req, implied_ppt, r))) {
            cred_release(ref);
            return 0;
        }
        req = typed;
    }
    memset(&err, 0, sizeof err);
    /* Never block a worker: an rcd whose linked content is not cached
     * comes back STIR_WOULD_BLOCK and is finished on the fetch pool. */
    hdr = stir_sign_request_among(cred_signer(ref), signers, n_signers, req, app_now(app),
                                  STIR_CACHE_NOWAIT, &err);
    cred_release(ref);
    if (!hdr && err.code == STIR_WOULD_BLOCK) {
        *later = typed ? typed : json_incref((json_t *)req);
        return 1;
    }
    json_decref(typed);
    sign_reply(hdr, &err, rid, r);
    return 0;
}

/* On a fetch pool thread: the same request, now allowed to fetch. */
void signing_finish(const stird_app *app, const json_t *body, const json_t *req,
                    const char *const *signers, size_t n_signers, http_reply *r)
{
    stir_error err;
    char *hdr;

    /* The signer current now: a reload in between means the new one. */
    cred_ref *ref = cred_acquire(app->creds);
    memset(&err, 0, sizeof err);
    hdr = cred_signer(ref) ? stir_sign_request_among(cred_signer(ref), signers, n_signers, req,
                                                     app_now(app), 0, &err)
                           : NULL;
    if (!cred_signer(ref))
        stir_fail(&err, STIR_ERR_INTERNAL, NULL, "signing was turned off by a reload");
    cred_release(ref);
    sign_reply(hdr, &err, request_id_of(req, body), r);
}
