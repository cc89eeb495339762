/*
 * A received PASSporT (RFC 8225): its decoded header and claims, and the
 * exact bytes that were signed. Signatures are always checked over the
 * bytes received, never over a re-serialization.
 */
#ifndef STIR_PASSPORT_H
#define STIR_PASSPORT_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"
#include "jws.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound on a PASSporT token an outsider may hand us. */
#define STIR_PASSPORT_MAX 8192

typedef struct stir_passport stir_passport;

/*
 * Parse a full-form token "h.p.s". Checks: three parts, strict base64url,
 * header and payload are JSON objects in valid UTF-8 without duplicate
 * keys, `typ` is "passport", signature decodes to 64 bytes. Failures are
 * 438 with a precise detail. Returns NULL on failure.
 */
stir_passport *stir_passport_parse(const char *token, size_t len, stir_error *err);

/*
 * Build a PASSporT for a compact-form token ("..s") from reconstructed
 * header and claims (RFC 8224 5.4): they are serialized canonically and
 * become the signed bytes. Takes references to neither json argument.
 */
stir_passport *stir_passport_from_compact(const char *token, size_t len, const json_t *header,
                                          const json_t *claims, stir_error *err);

void stir_passport_free(stir_passport *p);

const json_t *stir_passport_header(const stir_passport *p);
const json_t *stir_passport_claims(const stir_passport *p);

/* The claims as the payload bytes that were signed (decoded from
 * base64url; for a compact form, their canonical serialization): a JSON
 * object, NUL-terminated, owned by `p`. */
const char *stir_passport_payload(const stir_passport *p, size_t *len);

/* Header members, NULL when absent or not a string. */
const char *stir_passport_alg(const stir_passport *p);
const char *stir_passport_ppt(const stir_passport *p);
const char *stir_passport_x5u(const stir_passport *p);

/* The token as received (full "h.p.s" or compact "..s"). */
const char *stir_passport_token(const stir_passport *p);
/* RFC 9410 compact form "..s" (recommended `ppi` value). */
const char *stir_passport_compact(const stir_passport *p);

/* Verify the ES256 signature with `key`: 1 valid, 0 invalid, -1 error. */
int stir_passport_verify_sig(const stir_passport *p, EVP_PKEY *key);

#ifdef __cplusplus
}
#endif
#endif
