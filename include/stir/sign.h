/*
 * The authentication service (STI-AS): claims in, Identity header out.
 */
#ifndef STIR_SIGN_H
#define STIR_SIGN_H

#include <time.h>
#include <jansson.h>
#include "error.h"

struct stir_rcd;

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stir_signer_config {
    const char *key_path;     /* P-256 private key: a PEM file, or a PKCS#11
                                 URI "pkcs11:token=...;object=..." (RFC 7512) */
    const char *pkcs11_module;/* PKCS#11 module (shared library) of a pkcs11:
                                 key; no default */
    const char *pkcs11_pin;   /* user PIN of that token, or NULL; never logged,
                                 not kept by the signer */
    const char *cert_path;    /* the chain published at x5u, PEM, signer first */
    const char *x5u;          /* URL of that chain; becomes x5u and info */
    long freshness_s;         /* iat must be within this of `now`; default 60 */
    struct stir_rcd *rcd;     /* borrowed; fetches for rcdi; NULL: an rcd
                                 that links content cannot be signed */
} stir_signer_config;

typedef struct stir_signer stir_signer;

/*
 * Load the key and certificate chain. Refuses a key that is not P-256, a
 * certificate that does not match the key (the detail says which file is
 * wrong), a certificate whose JWT Claim Constraints extension is malformed
 * (RFC 8226 8, RFC 9118), and an x5u that is empty. Errors are 500 with
 * detail. A request whose claims the certificate's constraints forbid is
 * refused with 400 naming the claim (stir_sign_request).
 */
stir_signer *stir_signer_new(const stir_signer_config *cfg, stir_error *err);
void stir_signer_free(stir_signer *s);

/*
 * Sign one Ms API signing request: the members of "signingRequest" (the
 * caller unwraps it). `ppt` absent means shaken. Every member is checked
 * (types, values, sizes); the TNs are canonicalized; a missing origid gets
 * a fresh UUID; `iat` is signed as given and refused when further than the
 * freshness window from `now`. Returns the Identity header value
 * (malloc'd), or NULL with a 400 error naming the member.
 */
char *stir_sign_request(stir_signer *s, const json_t *req, time_t now,
                        stir_error *err);

/*
 * Same, with certificate-cache style flags: with STIR_CACHE_NOWAIT, a
 * request whose rcdi needs content that is not cached returns NULL with
 * err->code STIR_WOULD_BLOCK; run it again where blocking is fine.
 */
char *stir_sign_request_ex(stir_signer *s, const json_t *req, time_t now, int flags,
                           stir_error *err);

/* The signer's x5u URL. */
const char *stir_signer_x5u(const stir_signer *s);

#ifdef __cplusplus
}
#endif
#endif
