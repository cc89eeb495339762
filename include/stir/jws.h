/*
 * ES256 JSON Web Signatures (RFC 7515, RFC 7518 3.4) as PASSporTs use them:
 * the signature is the raw 64-byte r||s, never DER.
 */
#ifndef STIR_JWS_H
#define STIR_JWS_H

#include <stddef.h>
#include <openssl/evp.h>
#include <jansson.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STIR_ES256_SIG_LEN 64

/* Sign `msg` with a P-256 private key. Returns 0, or -1 (internal error). */
int stir_es256_sign(EVP_PKEY *key, const void *msg, size_t len,
                    unsigned char sig[STIR_ES256_SIG_LEN]);

/* Verify. Returns 1 valid, 0 invalid signature, -1 internal error. */
int stir_es256_verify(EVP_PKEY *key, const void *msg, size_t len,
                      const unsigned char sig[STIR_ES256_SIG_LEN]);

/*
 * Build a full-form JWS "b64u(header).b64u(payload).b64u(sig)" from the
 * canonical serializations of header and payload. Returns a malloc'd
 * string or NULL (err set, code 500).
 */
char *stir_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload, stir_error *err);

/*
 * The same with the header given already encoded (base64url of its
 * canonical serialization): a signer's header is constant per PASSporT
 * type, so it is encoded once, not per signature.
 */
char *stir_jws_sign_encoded(EVP_PKEY *key, const char *header_b64, const json_t *payload,
                            stir_error *err);

/* base64url of the RFC 8225 9 serialization of `v` (malloc'd), or NULL. */
char *stir_jws_encode_part(const json_t *v);

/* Is this key an EC key on P-256? */
int stir_key_is_p256(EVP_PKEY *key);

#ifdef __cplusplus
}
#endif
#endif
