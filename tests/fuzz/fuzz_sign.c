/*
 * A whole Ms API signingRequest (the members inside "signingRequest")
 * through the Ms API module (stir_ms_parse_sign, with the wrapper's
 * requestId and, when the body says so, a legacy resource's implied
 * type) and stir_sign with the vector key and chain: every type's
 * build hook, TN canonicalization, rcd/rcdi (inline content digested,
 * linked content stops with STIR_WOULD_BLOCK under NOWAIT), claim
 * constraints, the JWS, and the Identity value, which must parse again,
 * as must the signingResponse written around it.
 */
#include "fuzz_common.h"

static fuzz_world g_w;
FUZZ_INITIALIZE_WORLD(g_w)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *req = fuzz_json(data, size);
    if (!req)
        return 0;
    stir_error err;
    stir_error_clear(&err);
    stir_ms_sign_request mr;
    /* A body member "legacy": "div" stands for /divSigning. */
    const char *implied = json_string_value(json_object_get(req, "legacy"));
    char *v = NULL;
    if (!stir_ms_parse_sign(req, NULL, implied, &mr, &err))
        v = stir_sign(g_w.signer, NULL, 0, &mr, FUZZ_NOW, STIR_CACHE_NOWAIT, &err);
    if (v) {
        size_t len;
        char *body = stir_ms_sign_response(v, mr.request_id, mr.request_id_len, &len);
        json_t *back = body ? json_loadb(body, len, 0, NULL) : NULL;
        if (!back) /* the writer must write JSON */
            abort();
        json_decref(back);
        free(body);
        stir_identity id;
        memset(&id, 0, sizeof id);
        if (stir_identity_parse(v, strlen(v), &id, &err) != 0)
            abort(); /* we must be able to read what we sign */
        stir_passport *p = stir_passport_parse(id.token, strlen(id.token), &err);
        if (!p)
            abort();
        stir_passport_free(p);
        stir_identity_clear(&id);
        if (getenv("FUZZ_DEBUG"))
            fprintf(stderr, "%s\n", v);
        free(v);
    } else if (err.code == 0) {
        abort();
    } else if (getenv("FUZZ_DEBUG")) {
        fprintf(stderr, "%d %s: %s\n", err.code, err.field, err.detail);
    }
    json_decref(req);
    return 0;
}
