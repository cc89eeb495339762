/*
 * A whole Ms API verificationRequest (the members inside
 * "verificationRequest") through stir_verify_request_ex: request members,
 * every Identity header value, the PASSporT checks, TNAuthList scope, the
 * div chain linking, verstat and the response. STIR_CACHE_NOWAIT and a
 * cache holding the vector chain for the vectors' two x5u URLs: those run
 * to the signature check, every other x5u (and linked RCD content) stops
 * with STIR_WOULD_BLOCK, so the target never touches the network.
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
    json_t *resp = stir_verify_request_ex(g_w.verifier, req, FUZZ_NOW, STIR_CACHE_NOWAIT, &err);
    if (resp) {
        /* The response must serialize (the server dumps it). */
        char *s = json_dumps(resp, JSON_COMPACT);
        if (!s)
            abort();
        if (getenv("FUZZ_DEBUG")) /* to see where a seed goes */
            fprintf(stderr, "%s\n", s);
        free(s);
        json_decref(resp);
    } else if (err.code == 0) {
        abort(); /* a failure always carries a code */
    } else if (getenv("FUZZ_DEBUG")) {
        fprintf(stderr, "%d %s: %s\n", err.code, err.field, err.detail);
    }
    json_decref(req);
    return 0;
}
