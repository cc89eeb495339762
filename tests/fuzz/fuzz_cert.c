/*
 * Certificate chains (cert.c): PEM text as an x5u body or a trust bundle,
 * and the same bytes as one DER certificate (wrapped in PEM), then the
 * chain validation and profile checks (TNAuthList, JWT Claim Constraints)
 * against the vector root.
 */
#include <openssl/evp.h>

#include "fuzz_common.h"

static stir_trust *g_trust;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    g_trust = fuzz_trust();
    return 0;
}

static void chain(const char *pem, size_t len)
{
    stir_error err;
    stir_error_clear(&err);
    stir_cert *c = stir_cert_parse_pem(pem, len, &err);
    if (!c)
        return;
    if (stir_cert_validate(c, g_trust, FUZZ_NOW, &err) == 0) {
        (void)stir_cert_tnauth(c);
        (void)stir_cert_jcc_status(c, &err);
    }
    char *d = stir_cert_describe(c);
    free(d);
    stir_cert_unref(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    chain((const char *)data, size);
    stir_error err;
    stir_trust *t = stir_trust_from_pem((const char *)data, size, &err);
    stir_trust_free(t);
    /* The bytes as the DER of one certificate. */
    size_t cap = 4 * ((size + 2) / 3) + 64;
    char *pem = malloc(cap + 64);
    int n = sprintf(pem, "-----BEGIN CERTIFICATE-----\n");
    n += EVP_EncodeBlock((unsigned char *)pem + n, data, (int)size);
    n += sprintf(pem + n, "\n-----END CERTIFICATE-----\n");
    chain(pem, (size_t)n);
    free(pem);
    return 0;
}
