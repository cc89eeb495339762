/*
 * Rich Call Data claims (rcd_claims.c, rcd_digest.c, rcd_verify.c; RFC 9795):
 * the input is a claims object
 * with rcd (nam, apn, icn, jcd jCard, jcl), rcdi and crn. Claim checks as
 * a verifier makes them, then stir_rcd_verify under NOWAIT: inline jCards
 * are digested and compared, linked content stops with STIR_WOULD_BLOCK.
 */
#include "fuzz_common.h"

static stir_ctx *g_ctx;
static stir_rcd *g_rcd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    stir_error err;
    fuzz_init();
    if (!(g_ctx = stir_ctx_new(&err)))
        fuzz_die("context", &err);
    stir_rcd_config rc;
    stir_rcd_config_default(&rc);
    if (!(g_rcd = stir_rcd_new(g_ctx, &rc, &err)))
        fuzz_die("rcd", &err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *claims = fuzz_json(data, size);
    if (!claims)
        return 0;
    stir_error err;
    stir_error_clear(&err);
    const json_t *rcd = json_object_get(claims, "rcd");
    const json_t *rcdi = json_object_get(claims, "rcdi");
    const json_t *crn = json_object_get(claims, "crn");
    int ok = 1;
    if (rcd && stir_rcd_check(rcd, "rcd", 438, &err))
        ok = 0;
    if (rcdi && stir_rcdi_check(rcdi, "rcdi", 438, &err))
        ok = 0;
    if (crn && stir_crn_check(crn, "crn", 438, &err))
        ok = 0;
    if (rcd) {
        /* Signing's view of the same member. */
        json_t *built = stir_rcd_build(rcd, "rcd", &err);
        json_decref(built);
    }
    if (ok && (rcd || crn)) {
        json_t *r = stir_rcd_verify(g_rcd, claims, STIR_CACHE_NOWAIT, &err);
        if (r) {
            char *s = json_dumps(r, JSON_COMPACT);
            free(s);
            json_decref(r);
        }
    }
    json_decref(claims);
    return 0;
}
