/*
 * A whole Ms API verificationRequest (the members inside
 * "verificationRequest") through the Ms API module and stir_verify, as
 * the server runs it: request members,
 * every Identity header value, the PASSporT checks, TNAuthList scope, the
 * div chain linking, verstat and the response, written by msapi and
 * parsed back (it must be JSON). STIR_CACHE_NOWAIT and a
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
    static stir_ms_verify_request mr;
    static stir_verify_outcome o;
    if (!stir_ms_parse_verify(req, 0, &mr, &err) &&
        !stir_verify(g_w.verifier, &mr, FUZZ_NOW, STIR_CACHE_NOWAIT, &o, &err)) {
        size_t len;
        char *s = stir_ms_verify_response(&o, &mr, &len);
        json_t *back = s ? json_loadb(s, len, 0, NULL) : NULL;
        if (!json_is_object(json_object_get(back, "verificationResponse")))
            abort();              /* the writer must write the response object */
        if (getenv("FUZZ_DEBUG")) /* to see where a seed goes */
            fprintf(stderr, "%s\n", s);
        json_decref(back);
        free(s);
        stir_verify_outcome_clear(&o);
    } else if (err.code == 0) {
        abort(); /* a failure always carries a code */
    } else if (getenv("FUZZ_DEBUG")) {
        fprintf(stderr, "%d %s: %s\n", err.code, err.field, err.detail);
    }
    json_decref(req);
    return 0;
}
