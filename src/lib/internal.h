/* libstir internals shared between its files; not part of the API. */
#ifndef STIR_INTERNAL_H
#define STIR_INTERNAL_H

#include <pthread.h>
#include <jansson.h>
#include "stir/ctx.h"
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "stir/error.h"
#include "stir/ppt.h"

void sti_encoding_init(void);
int sti_jws_init(void);
void sti_jws_cleanup(void);
void sti_jws_thread_cleanup(void);
int stir_uuid4(char out[37]);
/* The OpenSSL digest of a stir_digest_by_name name; NULL for others. */
const EVP_MD *sti_digest_md(const char *name);

/* ---- X.509 values as text for error details (cert.c) ---- */

/* "2026-12-05T01:02:03Z", or "(invalid time)". */
void sti_iso8601(time_t t, char out[32]);
/* An ASN1_TIME as time_t: 0, or -1 when a is NULL or unreadable. */
int sti_asn1_time(const ASN1_TIME *a, time_t *out);
/* One-line DN "C=US, O=x, CN=y", cut to fit `out` (always terminated). */
void sti_name_text(const X509_NAME *n, char *out, size_t outlen);

/* ---- the library context (include/stir/ctx.h) ---- */

#define STI_PPT_MAX_TYPES 32

/* A context's PASSporT types: the built-ins, then registered ones. Written
 * only by stir_ppt_register (under the lock, at start-up); read without. */
typedef struct ppt_registry {
    pthread_mutex_t lock;
    stir_ppt_type types[STI_PPT_MAX_TYPES];
    size_t n;
    char names[STI_PPT_MAX_TYPES * 34]; /* "shaken, div, ..." */
} ppt_registry;

int ppt_registry_init(ppt_registry *r);
void ppt_registry_destroy(ppt_registry *r);

struct fcache_hosts;

struct stir_ctx {
    ppt_registry ppt;
    struct fcache_hosts *hosts; /* downloads per host, all caches */
};

/* The registered types, for start-up work over all of them. */
size_t sti_ppt_count(const stir_ctx *ctx);
const stir_ppt_type *sti_ppt_at(const stir_ctx *ctx, size_t i);

/* Does type `t` list a claim named `name` (e.g. "rcd")? */
int sti_ppt_has_claim(const stir_ppt_type *t, const char *name);

/* The claim naming the identity a type's certificate must cover: "orig",
 * or "div" for div (RFC 8946 3). */
const char *sti_ppt_scope_claim(const stir_ppt_type *t);

/* PKCS#11 keys (pkcs11.c). Is `s` a "pkcs11:" URI (RFC 7512)? */
int sti_pkcs11_is_uri(const char *s);
/* The private key a PKCS#11 URI names in the token of `module`, logging in
 * with `pin` (may be NULL for a token without login). NULL with a 500 whose
 * detail never holds the PIN. */
EVP_PKEY *sti_pkcs11_load_key(const char *uri, const char *module, const char *pin,
                              stir_error *err);
/* Unload every module; after the last token key is freed. */
void sti_pkcs11_cleanup(void);

/* Longest string claim value accepted from a signing request. */
#define STI_CLAIM_STRING_MAX 256

/*
 * Check a claim value's JSON type and run its value check. `code` is the
 * error code to report (400 for signing requests, 438 for PASSporTs).
 */
int sti_claim_check(const stir_claim_spec *c, const json_t *v, int code, stir_error *err);

/* stir_json_load's own reader alone: NULL for anything it leaves to jansson. */
json_t *sti_json_load_fast(const char *buf, size_t len);

/* The members every signingRequest must hold (orig, dest, iat): 0, or a
 * 400 "missing" naming the first absent one (msapi.c). */
int sti_ms_sign_require(const json_t *req, stir_error *err);

#endif
