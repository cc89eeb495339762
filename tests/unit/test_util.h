/* Helpers shared by the unit tests. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

/* RFC 8946 Appendix A key pair (test-vectors.md: consistent pair). */
#define RFC8946_PUB                                                                      \
    "-----BEGIN PUBLIC KEY-----\n"                                                       \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4\n"                 \
    "hUYm9wv5wutLgEd9FsiTy3+4+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w==\n"                     \
    "-----END PUBLIC KEY-----\n"
#define RFC8946_PRIV                                                                     \
    "-----BEGIN EC PRIVATE KEY-----\n"                                                   \
    "MHcCAQEEIFKCsFZ4Wsw3ZpBxgc4Z0sOjaXDdMk07Ny1fKg6OntAkoAoGCCqGSM49\n"                 \
    "AwEHoUQDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4hUYm9wv5wutLgEd9FsiTy3+4\n"                 \
    "+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w==\n"                                             \
    "-----END EC PRIVATE KEY-----\n"
/* RFC 8225 Appendix A.2 public key: verifies the "rq3pjT1h..." token. */
#define RFC8225_A2_PUB                                                                   \
    "-----BEGIN PUBLIC KEY-----\n"                                                       \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8HNbQd/TmvCKwPKHkMF9fScavGeH\n"                 \
    "78YTU8qLS8I5HLHSSmlATLcslQMhNC/OhlWBYC626nIlo7XeebYS7Sb37g==\n"                     \
    "-----END PUBLIC KEY-----\n"

static inline EVP_PKEY *pem_pub(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

static inline EVP_PKEY *pem_priv(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

#endif
