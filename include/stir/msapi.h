/*
 * The Ms API (3GPP TS 24.229 Annex V) on the wire: the one place that
 * knows its JSON. It parses and checks signingRequest and
 * verificationRequest bodies into typed requests (which members there
 * are, which are mandatory, requestId, the dialect aliases), and writes
 * signingResponse and verificationResponse bodies from typed results
 * with one writer that appends to a buffer (no JSON tree is built).
 *
 * The signing and verification cores (sign.h, verify.h) take these typed
 * requests; the server and stirctl call this module and nothing else to
 * read or write Ms JSON.
 */
#ifndef STIR_MSAPI_H
#define STIR_MSAPI_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include "encoding.h"
#include "error.h"
#include "tn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* requestId is echoed, so it is bounded like any other member: 1 to this
 * many bytes (the one rule for both resources). */
#define STIR_MS_REQUEST_ID_MAX 256

/* Identity header values one verificationRequest may carry. */
#define STIR_MAX_IDENTITY_HEADERS 16

/* Protected SIP header lines (protectedHeaders) and their length. */
#define STIR_MS_PROTECTED_MAX 16
#define STIR_MS_PROTECTED_LINE_MAX 1024

/*
 * Is `field` (a stir_error field such as "dest.tn[0]") one of the
 * members Tables V.2.5.2-1 and V.2.6.2-1 mark mandatory, or a wrapper?
 * Its bad value is then MANDATORY_IE_INCORRECT, else OPTIONAL_IE_INCORRECT.
 */
int stir_ms_field_is_mandatory(const char *field);

/*
 * The request object inside `body`: body[name] ("signingRequest",
 * "verificationRequest") when present, else the body itself (the
 * unwrapped dialect). NULL with a 400 naming `name` when that member is
 * not an object.
 */
const json_t *stir_ms_unwrap(const json_t *body, const char *name, stir_error *err);

/*
 * The requestId of `req`, else of `wrapper` (the body around it; NULL:
 * none). *id is NULL when there is none. 0, or a 400 naming requestId
 * when it is not a string of 1 to STIR_MS_REQUEST_ID_MAX bytes.
 */
int stir_ms_request_id(const json_t *req, const json_t *wrapper, const char **id, size_t *len,
                       stir_error *err);

/* ---- signing ----------------------------------------------------------- */

/* A signingRequest, checked as far as its type: the claim members are
 * built and checked by the signer against that type (stir_sign). */
typedef struct stir_ms_sign_request {
    const json_t *members;  /* the signingRequest object (borrowed) */
    const char *ppt;        /* type to sign: given, implied or inferred ("shaken") */
    const char *request_id; /* NULL: none; points into `members` or its wrapper */
    size_t request_id_len;
} stir_ms_sign_request;

/*
 * The type a signingRequest asks for: its "ppt" member when a non-empty
 * string, else the type its members imply (div, rph) or "shaken". 0, or a
 * 400 naming the member (ppt not a string, members of two types).
 */
int stir_ms_sign_ppt(const json_t *req, const char **ppt, stir_error *err);

/*
 * Parse the members of a signingRequest (`req`, unwrapped; `wrapper` the
 * body around it or NULL). `implied_ppt` is the type of a legacy
 * per-type resource (/divSigning: "div"), NULL for /signing: a ppt
 * member must then name that type. Checks requestId, ppt and that orig,
 * dest and iat are present. 0, or 400 naming the member.
 */
int stir_ms_parse_sign(const json_t *req, const json_t *wrapper, const char *implied_ppt,
                       stir_ms_sign_request *out, stir_error *err);

/*
 * {"signingResponse":{"identityHeader":identity[,"requestId":id]}},
 * malloc'd, its length in *len. NULL when out of memory.
 */
char *stir_ms_sign_response(const char *identity, const char *request_id, size_t request_id_len,
                            size_t *len);

/* ---- verification ---------------------------------------------------------- */

/* A verificationRequest: the SIP context and the Identity header values. */
typedef struct stir_ms_verify_request {
    const json_t *members; /* the verificationRequest object (borrowed) */
    /* Identity header values, identityHeader first (borrowed from members) */
    const char *identity[STIR_MAX_IDENTITY_HEADERS];
    size_t identity_len[STIR_MAX_IDENTITY_HEADERS];
    size_t n_identity;
    int has_orig; /* identityHeader (the caller's header) was given */
    stir_ident from, to, dest;
    int has_dest;
    time_t time; /* the SIP Date: time or date */
    /* Protected header values (protectedHeaders); NULL when absent */
    const char *resource_priority;
    const char *priority;
    const char *request_id; /* NULL: none */
    size_t request_id_len;
    /* storage of resource_priority and priority */
    char rp_buf[STIR_MS_PROTECTED_LINE_MAX];
    char priority_buf[64];
} stir_ms_verify_request;

/*
 * Parse the members of a verificationRequest (`req`, unwrapped).
 * `ident_flags` is STIR_IDENT_REQUIRE_USER_PHONE or 0 (how from/to/dest
 * are read). 0, or 400 naming the member. `out` borrows from `req`.
 */
int stir_ms_parse_verify(const json_t *req, int ident_flags, stir_ms_verify_request *out,
                         stir_error *err);

struct stir_verify_outcome;

/*
 * {"verificationResponse":{verstatValue, verstatPriority, divResult,
 * verifyResults, requestId}} of a verified request, malloc'd, its length
 * in *len. validClaims are the verified payload bytes as signed. NULL
 * when out of memory.
 */
char *stir_ms_verify_response(const struct stir_verify_outcome *o,
                              const stir_ms_verify_request *req, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
