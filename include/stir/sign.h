/*
 * The authentication service (STI-AS): claims in, Identity header out.
 */
#ifndef STIR_SIGN_H
#define STIR_SIGN_H

#include <time.h>
#include <jansson.h>
#include "error.h"
#include "ctx.h"
#include "msapi.h"

struct stir_rcd;

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stir_signer_config {
    /* P-256 private key: a PEM file, or a PKCS#11 URI "pkcs11:token=...;object=..." (RFC 7512) */
    const char *key_path;
    const char *pkcs11_module; /* PKCS#11 module (shared library) of a pkcs11:
                                 key; no default */
    /* user PIN of that token, or NULL; never logged, not kept by the signer */
    const char *pkcs11_pin;
    const char *cert_path; /* the chain published at x5u, PEM, signer first */
    const char *x5u;       /* URL of that chain; becomes x5u and info */
    /* signer name (a policy may name it); default "default" */
    const char *name;
    /* TNs this identity signs for: "1215555*", "12155550000-12155559999" or one TN; none: every
     * TN its TNAuthList covers */
    const char *const *tn_ranges;
    size_t n_tn_ranges;
    long freshness_s; /* iat must be within this of `now`; default 60 */
    /* borrowed; fetches for rcdi; NULL: an rcd that links content cannot be signed */
    struct stir_rcd *rcd;
    /* as in stir_verifier_config: 1 makes a sip URI a TN only with user=phone */
    int require_user_phone;
} stir_signer_config;

#define STIR_SIGNER_MAX 16        /* signing identities per signer */
#define STIR_SIGNER_RANGES_MAX 16 /* TN ranges per identity */
#define STIR_SIGNER_NAME_MAX 32

typedef struct stir_signer stir_signer;

/*
 * Load the key and certificate chain. Refuses a key that is not P-256, a
 * certificate that does not match the key (the detail says which file is
 * wrong), a certificate whose JWT Claim Constraints extension is malformed
 * (RFC 8226 8, RFC 9118), and an x5u that is empty. Errors are 500 with
 * detail. A request whose claims the certificate's constraints forbid is
 * refused with 400 naming the claim (stir_sign_request). The signer knows
 * the PASSporT types registered in `ctx` so far; ctx must outlive it.
 */
stir_signer *stir_signer_new(stir_ctx *ctx, const stir_signer_config *cfg, stir_error *err);
void stir_signer_free(stir_signer *s);

/*
 * Several signing identities (key + chain + x5u) in one signer. The one of
 * stir_signer_new is the first; each stir_signer_add appends one (its
 * freshness_s, rcd and require_user_phone are ignored: the signer's hold). A request is signed
 * by the first identity, in this order, whose tn_ranges (if any) hold the
 * TN it signs for (orig, or div for div), whose certificate's TNAuthList
 * covers that TN, and whose JWT Claim Constraints allow the claims; none:
 * 400 naming orig.tn (div.tn) with each identity's reason. Errors as for
 * stir_signer_new, plus a duplicate name or a bad TN range.
 */
int stir_signer_add(stir_signer *s, const stir_signer_config *cfg, stir_error *err);

/* Is there an identity of this name? (Check a policy's signer names.) */
int stir_signer_has(const stir_signer *s, const char *name);

/* Is `text` a TN range tn_ranges accepts? 0, or 500 with the reason. */
int stir_tn_range_check(const char *text, stir_error *err);

/*
 * Sign one Ms API signing request: the members of "signingRequest" (the
 * caller unwraps it). `ppt` absent means shaken. Every member is checked
 * (types, values, sizes); the TNs are canonicalized; a missing origid gets
 * a fresh UUID; `iat` is signed as given and refused when further than the
 * freshness window from `now`. Returns the Identity header value
 * (malloc'd), or NULL with a 400 error naming the member.
 */
char *stir_sign_request(stir_signer *s, const json_t *req, time_t now, stir_error *err);

/*
 * Same, with certificate-cache style flags: with STIR_CACHE_NOWAIT, a
 * request whose rcdi needs content that is not cached returns NULL with
 * err->code STIR_WOULD_BLOCK; run it again where blocking is fine.
 */
char *stir_sign_request_ex(stir_signer *s, const json_t *req, time_t now, int flags,
                           stir_error *err);

/*
 * The ppt a signing request will be signed as: its "ppt" member when
 * non-empty, else the type its members imply (div, rph) or "shaken".
 * A per-client policy checks this, so that what it allows and what is
 * signed can never differ. 0, or a 400 naming the member (mixed types).
 */
int stir_sign_request_ppt(const json_t *req, const char **ppt, stir_error *err);

/*
 * Same, signed only by the identity named `signer` (NULL: chosen as
 * above): the hook of a per-client policy. It must still cover the
 * request (else 400 as above); an unknown name is 500.
 */
char *stir_sign_request_as(stir_signer *s, const char *signer, const json_t *req, time_t now,
                           int flags, stir_error *err);

/*
 * Same, signed by one of the `n_signers` identities named in `signers`
 * (NULL: any), chosen among them as above: the per-client choice of a
 * policy. One that cannot sign for the request is skipped as any other
 * would be; none left is the 400 above; names none of which exists, 500.
 */
char *stir_sign_request_among(stir_signer *s, const char *const *signers, size_t n_signers,
                              const json_t *req, time_t now, int flags, stir_error *err);

/*
 * May the identity `name` sign for the TN of this signing request (orig,
 * or div for div PASSporTs, read as signing reads it), by its tn ranges
 * and its certificate's TNAuthList? `ppt` is the type it will be signed
 * as (a legacy resource's implied one), NULL: the request's own. The JWT
 * Claim Constraints are checked only when signing. 1 yes, 0 no (or no
 * such identity), -1 when the request's type or identity cannot be read
 * (signing answers 400 then).
 */
int stir_signer_covers(const stir_signer *s, const char *name, const json_t *req, const char *ppt);

/*
 * The signing core: sign a parsed signingRequest (stir_ms_parse_sign) by
 * one of the `n_signers` identities named in `signers` (NULL: any),
 * chosen as above. Its type must be known to the signer; orig, dest and
 * iat must be there (400 "missing"); every claim is built and checked as
 * for stir_sign_request. Returns the Identity header value (malloc'd), or
 * NULL with the error (STIR_WOULD_BLOCK with STIR_CACHE_NOWAIT in flags).
 * The stir_sign_request* functions are this after stir_ms_parse_sign.
 */
char *stir_sign(stir_signer *s, const char *const *signers, size_t n_signers,
                const stir_ms_sign_request *req, time_t now, int flags, stir_error *err);

/* The x5u URL of the identity named "default", else of the first one. */
const char *stir_signer_x5u(const stir_signer *s);

#ifdef __cplusplus
}
#endif
#endif
