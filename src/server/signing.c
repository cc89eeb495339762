/*
 * POST {apiRoot}/stir/v1/signing (TS 24.229 V.2.5): a signingRequest in,
 * {"signingResponse":{"identityHeader": ...}} out. All claim checking is
 * libstir's (stir_sign_request); this file only adapts it to HTTP.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* requestId is echoed, so it is bounded like any other member. */
#define REQUEST_ID_MAX 256

static int request_id(const json_t *req, const json_t *body, const json_t **out, http_reply *r)
{
    const json_t *rid = json_object_get(req, "requestId");
    if (!rid && req != body)
        rid = json_object_get(body, "requestId");
    *out = NULL;
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
    *out = rid;
    return 0;
}

void signing_handle(const stird_app *app, const json_t *body, http_reply *r)
{
    const json_t *req = http_unwrap(body, "signingRequest", r), *rid;
    stir_error err;
    char *hdr;
    json_t *resp;

    if (!req || request_id(req, body, &rid, r) != 0)
        return;
    if (!app->signer) {
        http_problem(r, 503, "Service Unavailable",
                     "signing is not configured on this server (no --key, --cert, --x5u)", NULL,
                     NULL, NULL);
        return;
    }
    memset(&err, 0, sizeof err);
    hdr = stir_sign_request(app->signer, req, app_now(app), &err);
    if (!hdr) {
        http_problem_from_stir(r, &err);
        return;
    }
    resp = json_object();
    if (resp) {
        json_object_set_new(resp, "identityHeader", json_string(hdr));
        if (rid)
            json_object_set(resp, "requestId", (json_t *)rid);
    }
    free(hdr);
    http_reply_json(r, 200, resp ? json_pack("{s:o}", "signingResponse", resp) : NULL);
}
