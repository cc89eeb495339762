/*
 * STI certificates (RFC 8226, RFC 9060, ATIS-1000080 profile): PEM chains,
 * trust anchors, path validation, TNAuthList, JWT Claim Constraints.
 */
#ifndef STIR_CERT_H
#define STIR_CERT_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STIR_CHAIN_MAX_CERTS 8

/* ---- trust anchors ---------------------------------------------------- */

typedef struct stir_trust stir_trust;

/*
 * Load STI-PA trust anchors from a PEM bundle file or a directory of PEM
 * files (every *.pem / *.crt in it). Never uses the system store. An
 * unreadable path, or one with no certificate, is an error (500, detail
 * names the path and the reason).
 */
stir_trust *stir_trust_load(const char *path, stir_error *err);
/* Same, from PEM text in memory. */
stir_trust *stir_trust_from_pem(const char *pem, size_t len, stir_error *err);
void stir_trust_free(stir_trust *t);
size_t stir_trust_count(const stir_trust *t);

/* ---- TNAuthList (OID 1.3.6.1.5.5.7.1.26) -------------------------------- */

#define STIR_TNAUTH_MAX_ENTRIES 64

enum stir_tnauth_kind { STIR_TNAUTH_SPC, STIR_TNAUTH_RANGE, STIR_TNAUTH_ONE };

typedef struct stir_tnauth_entry {
    enum stir_tnauth_kind kind;
    char value[16];      /* SPC (<=15 chars here), TN, or range start */
    unsigned long count; /* range only */
} stir_tnauth_entry;

typedef struct stir_tnauth {
    size_t n;
    stir_tnauth_entry e[STIR_TNAUTH_MAX_ENTRIES];
} stir_tnauth;

/*
 * Parse the DER value of a TNAuthList extension (the OCTET STRING
 * contents). Returns 0, or 437 with a detail on malformed content.
 */
int stir_tnauth_parse(const unsigned char *der, size_t len, stir_tnauth *out, stir_error *err);

/* Does the list authorize this canonical TN (by TN, range; an SPC
 * authorizes every TN, since SPC-to-TN ownership is not checkable here)? */
int stir_tnauth_covers(const stir_tnauth *ta, const char *tn);

/* ---- JWT Claim Constraints (RFC 8226 8: 1.3.6.1.5.5.7.1.27;
 *      RFC 9118 3, Enhanced: 1.3.6.1.5.5.7.1.33) ----------------------------- */

#define STIR_JCC_MAX_ENTRIES 16 /* names per list, permittedValues claims, values per claim */
#define STIR_JCC_NAME_MAX 63    /* bytes of a claim name: fits stir_error.field */
#define STIR_JCC_VALUE_MAX 1024 /* bytes of one permitted value */

typedef struct stir_jcc_permitted {
    char claim[STIR_JCC_NAME_MAX + 1];
    size_t n;
    char *value[STIR_JCC_MAX_ENTRIES]; /* UTF-8, NUL-terminated, malloc'd */
    size_t len[STIR_JCC_MAX_ENTRIES];  /* bytes, without the NUL */
} stir_jcc_permitted;

typedef struct stir_jcc {
    size_t n_include, n_permitted, n_exclude;
    char include[STIR_JCC_MAX_ENTRIES][STIR_JCC_NAME_MAX + 1]; /* mustInclude */
    stir_jcc_permitted permitted[STIR_JCC_MAX_ENTRIES];        /* permittedValues */
    char exclude[STIR_JCC_MAX_ENTRIES][STIR_JCC_NAME_MAX + 1]; /* mustExclude */
    /* An EnhancedJWTClaimConstraints listed iat, orig or dest in mustExclude
     * and was ignored, as RFC 9118 3 requires. */
    int ignored_enhanced;
} stir_jcc;

/*
 * Parse the DER value (OCTET STRING contents) of a JWTClaimConstraints
 * (enhanced = 0) or EnhancedJWTClaimConstraints (enhanced = 1) extension
 * and add its constraints to *out, zeroed by the caller or holding an
 * earlier parse: a certificate with both extensions is bound by both, and
 * the STIR_JCC_MAX_ENTRIES limits apply to the two together. Returns 0, or
 * 437 with a detail on malformed content, *out then unchanged. Release
 * with stir_jcc_clear.
 */
int stir_jcc_parse(const unsigned char *der, size_t len, int enhanced, stir_jcc *out,
                   stir_error *err);
void stir_jcc_clear(stir_jcc *j);

/*
 * Do the PASSporT claims (a JSON object) satisfy the constraints? j NULL
 * means none. Returns 0, or `code` with `field` = the claim name and a
 * detail such as "claim confidence \"low\" is not among the certificate's
 * permittedValues (RFC 8226 8)". A missing mustInclude claim under code
 * 400 is marked `missing`. A string claim is compared with the permitted
 * values as its string, any other claim (rcd) as its RFC 8225 9
 * serialization.
 */
int stir_jcc_check(const stir_jcc *j, const json_t *claims, int code, stir_error *err);

/* ---- certificate chains ------------------------------------------------- */

typedef struct stir_cert stir_cert;

/*
 * Parse a PEM body: one or more CERTIFICATE blocks, signer first, then its
 * issuers (RFC 9060 7). Anything else in the body (a private key above
 * all, or any non-certificate PEM block or garbage between blocks) is
 * refused. Errors are 436 ("not a certificate", "contains a private key",
 * "more than N certificates") since the credential cannot be obtained.
 */
stir_cert *stir_cert_parse_pem(const char *pem, size_t len, stir_error *err);

/* Load a PEM chain from a file (500 on I/O error, else as above). */
stir_cert *stir_cert_load(const char *path, stir_error *err);

/* Reference counting: certificates are shared by the cache and requests. */
stir_cert *stir_cert_ref(stir_cert *c);
void stir_cert_unref(stir_cert *c);

/*
 * Validate the chain to the trust anchors at time `at`, and the STI leaf
 * profile: P-256 key, digitalSignature key usage, TNAuthList present and
 * parseable, JWT Claim Constraints (if any) parseable. Intermediates come
 * from the chain itself. Failures are 437 with details such as
 * "certificate expired 2026-10-01T00:00:00Z", "untrusted root: issuer
 * CN=...", "no TNAuthList extension".
 * On success fills the chain's common validity window (see below).
 */
int stir_cert_validate(stir_cert *c, const stir_trust *t, time_t at, stir_error *err);

/* Intersection of notBefore/notAfter over the whole chain (after parse). */
time_t stir_cert_not_before(const stir_cert *c);
time_t stir_cert_not_after(const stir_cert *c);

/* Leaf public key (borrowed; valid while the cert is referenced). */
EVP_PKEY *stir_cert_pubkey(const stir_cert *c);

/* Leaf TNAuthList, NULL if the leaf has none. */
const stir_tnauth *stir_cert_tnauth(const stir_cert *c);

/*
 * Leaf JWT Claim Constraints, parsed when the chain was: the merge of its
 * JWTClaimConstraints and EnhancedJWTClaimConstraints extensions. NULL when
 * the leaf has neither (or one is malformed: stir_cert_jcc_status).
 */
const stir_jcc *stir_cert_jcc(const stir_cert *c);

/* 0, or 437 with the detail when a leaf constraint extension is malformed
 * or repeated (stir_cert_validate refuses such a certificate). */
int stir_cert_jcc_status(const stir_cert *c, stir_error *err);

/* One-line summary of the leaf: subject, issuer, validity, SPC. malloc'd. */
char *stir_cert_describe(const stir_cert *c);

/* The chain as PEM text (what an x5u server publishes). Borrowed. */
const char *stir_cert_pem(const stir_cert *c, size_t *len);

/* Does the private key match the leaf's public key? 1 yes, 0 no. */
int stir_cert_matches_key(const stir_cert *c, EVP_PKEY *priv);

#ifdef __cplusplus
}
#endif
#endif
