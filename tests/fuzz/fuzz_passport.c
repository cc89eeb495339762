/* PASSporT decoding (passport.c, RFC 8225): the token "h.p.s", its
 * base64url, JSON, header members, and the signature check over the bytes
 * received. */
#include "fuzz_common.h"

static EVP_PKEY *g_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    stir_cert *c = fuzz_cert_load("chain.pem");
    g_key = stir_cert_pubkey(c);
    EVP_PKEY_up_ref(g_key);
    stir_cert_unref(c);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stir_error err;
    stir_error_clear(&err);
    stir_passport *p = stir_passport_parse((const char *)data, size, &err);
    if (!p)
        return 0;
    (void)stir_passport_alg(p);
    (void)stir_passport_ppt(p);
    (void)stir_passport_x5u(p);
    const char *compact = stir_passport_compact(p);
    if (!compact || strncmp(compact, "..", 2))
        abort();
    (void)stir_passport_verify_sig(p, g_key);
    /* The compact form rebuilt from the decoded parts (RFC 8224 5.4). */
    stir_passport *c = stir_passport_from_compact(compact, strlen(compact), stir_passport_header(p),
                                                  stir_passport_claims(p), &err);
    if (c) {
        (void)stir_passport_verify_sig(c, g_key);
        stir_passport_free(c);
    }
    stir_passport_free(p);
    return 0;
}
