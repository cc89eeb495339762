/*
 * Identities: telephone-number canonicalization (RFC 8224 8.3), SIP URI
 * normalization (RFC 8224 8.5) and TN detection in URIs (RFC 8224 8.1).
 */
#ifndef STIR_TN_H
#define STIR_TN_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STIR_TN_MAX 32   /* longest canonical TN we accept */
#define STIR_URI_MAX 256 /* longest identity URI we accept */

/*
 * Canonicalize a TN: drop '+' and RFC 3966 visual separators ("-", ".",
 * "(", ")", space); keep digits, '*' and '#'. Anything else is a 400
 * error naming `field`. Returns 0 or the error code.
 */
int stir_tn_canon(const char *in, char out[STIR_TN_MAX + 1], const char *field, stir_error *err);

/*
 * Normalize a sip:/sips: URI: keep scheme, user (no password) and host,
 * lowercase them, decode percent-encoded unreserved characters, drop port,
 * parameters and headers. Returns 0 or a 400 error naming `field`.
 */
int stir_uri_normalize(const char *in, char out[STIR_URI_MAX + 1], const char *field,
                       stir_error *err);

/* A canonical identity: a TN or a normalized URI. */
typedef struct stir_ident {
    int is_tn;
    char value[STIR_URI_MAX + 1];
} stir_ident;

/*
 * From a URI as found in From/To/PAI: tel: URIs, sip:/sips: URIs with
 * user=phone and sip:/sips: URIs whose user part is a global number ("+"
 * then digits and RFC 3966 visual separators, RFC 8224 8.3) are TNs
 * (canonicalized); other sip/sips URIs are normalized URIs. Returns 0 or a
 * 400 error naming `field`.
 */
int stir_ident_from_uri(const char *uri, stir_ident *out, const char *field, stir_error *err);

/* The _ex forms take flags: with STIR_IDENT_REQUIRE_USER_PHONE a sip/sips
 * URI is a TN only with user=phone (the strict reading of RFC 8224 8.1). */
#define STIR_IDENT_REQUIRE_USER_PHONE 1
int stir_ident_from_uri_ex(const char *uri, stir_ident *out, int flags, const char *field,
                           stir_error *err);
int stir_ident_from_json_ex(const json_t *obj, stir_ident *out, int flags, const char *field,
                            stir_error *err);

/*
 * From an API identity object: {"tn": "..."} or {"uri": "..."}. A `tn`
 * holding an array of exactly one string is accepted too. A `uri` that is
 * a tel: URI or a sip URI with user=phone yields a TN.
 * Returns 0 or a 400 error naming `field` (e.g. "from.tn").
 */
int stir_ident_from_json(const json_t *obj, stir_ident *out, const char *field, stir_error *err);

/* Is this identity anonymous ("anonymous" user, anonymous.invalid host)? */
int stir_ident_is_anonymous(const stir_ident *id);

#ifdef __cplusplus
}
#endif
#endif
