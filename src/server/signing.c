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
    /* The response has a fixed shape: written directly rather than built
     * as a jansson tree and dumped (this is the hot path of the server). */
    {
        static const char P1[] = "{\"signingResponse\":{\"identityHeader\":";
        static const char P2[] = ",\"requestId\":";
        size_t hl = strlen(hdr), rl = rid ? json_string_length(rid) : 0;
        size_t cap = sizeof P1 + sizeof P2 + 6 * (hl + rl) + 8, o = 0;
        char *out = malloc(cap);
        if (out) {
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
        }
        free(hdr);
        r->status = 200;
        r->content_type = "application/json";
        r->body = out;
        r->len = o;
    }
}
