/*
 * A whole Ms API signingRequest (the members inside "signingRequest")
 * through stir_sign_request_ex with the vector key and chain: every type's
 * build hook, TN canonicalization, rcd/rcdi (inline content digested,
 * linked content stops with STIR_WOULD_BLOCK under NOWAIT), claim
 * constraints, the JWS, and the Identity value, which must parse again.
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
    char *v = stir_sign_request_ex(g_w.signer, req, FUZZ_NOW, STIR_CACHE_NOWAIT, &err);
    if (v) {
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
