/*
 * The verification service (STI-VS): received Identity header values plus
 * From/To/Date in, a verstat verdict and one result per PASSporT out.
 */
#ifndef STIR_VERIFY_H
#define STIR_VERIFY_H

#include <time.h>
#include <jansson.h>
#include "error.h"
#include "ctx.h"
#include "tn.h"
#include "certcache.h"
#include "msapi.h"

struct stir_rcd;

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stir_verifier_config {
    stir_certcache *cache; /* borrowed; where x5u chains come from */
    long freshness_s;      /* max |time - iat| and |now - time|; default 60 */
    /* borrowed; rcdi checks; NULL: rcd content is reported unverified */
    struct stir_rcd *rcd;
    /* verstatPriority values (TS 24.229 7.2.21); NULL: the defaults below */
    const char *priority_passed;
    const char *priority_failed;
    /* Time the x5u fetches of one request may take together; they run in
     * parallel (prefetch.c). 0: default 1500 ms. */
    long fetch_budget_ms;
    /* 1: a sip/sips URI is a TN only with user=phone (RFC 8224 8.1);
     * 0 (default): a global-number user part makes it one (RFC 8224 8.3) */
    int require_user_phone;
} stir_verifier_config;

typedef struct stir_verifier stir_verifier;

/* The verifier knows the PASSporT types of `ctx`, which must outlive it. */
stir_verifier *stir_verifier_new(stir_ctx *ctx, const stir_verifier_config *cfg, stir_error *err);
void stir_verifier_free(stir_verifier *v);

/* The SIP context a PASSporT is checked against. */
typedef struct stir_verify_ctx {
    stir_ident from; /* P-Asserted-Identity or From */
    stir_ident to;   /* To */
    stir_ident dest; /* Request-URI, when has_dest */
    int has_dest;
    time_t time;     /* Date of the SIP request */
    time_t now;      /* verifier clock */
    int cache_flags; /* STIR_CACHE_NOWAIT or 0 */
    int ident_flags; /* STIR_IDENT_REQUIRE_USER_PHONE or 0 */
    /* Protected SIP header values the client sent (NULL when absent):
     * Resource-Priority and Priority, for rph and sph (RFC 8443, 9027). */
    const char *resource_priority;
    const char *priority;
    const json_t *request; /* the whole verificationRequest, or NULL */
} stir_verify_ctx;

/* The outcome for one PASSporT. */
typedef struct stir_verify_result {
    char ppt[32];   /* type of this PASSporT ("shaken", ...) */
    int pass;       /* 1 pass, 0 fail */
    stir_error err; /* reason when !pass */
    char *passport; /* token as received (malloc'd) or NULL */
    char *compact;  /* "..sig" (malloc'd) or NULL */
    json_t *claims; /* verified claims when pass (owned) */
    /* the same claims as the payload bytes that were signed (malloc'd), or
     * NULL when they differ from the payload (rcd members stripped): the
     * response splices these instead of re-serializing `claims` */
    char *claims_text;
    size_t claims_text_len;
    /* decoded claims, verified or not (owned), NULL when undecodable: names the div of a failed
     * div PASSporT in divResult */
    json_t *payload;
    json_t *rcd; /* rcdResult (stir_rcd_verify) or NULL */
    /* the registered type named by ppt, NULL when unknown */
    const struct stir_ppt_type *type;
} stir_verify_result;

void stir_verify_result_clear(stir_verify_result *r);

/*
 * Verify one Identity header value in `ctx` (RFC 8224 6.2, RFC 8588):
 * parse, ppt, alg, certificate (fetch, chain, TNAuthList), freshness,
 * orig/dest against from/to, type-specific claims, signature over the
 * received bytes. Always fills `out`; returns 0 on pass or the code.
 */
int stir_verify_identity(stir_verifier *v, const char *identity, size_t len,
                         const stir_verify_ctx *ctx, stir_verify_result *out);

/* The verdict on one verificationRequest. */
typedef struct stir_verify_outcome {
    size_t n; /* results[0..n): one per Identity value, in request order */
    stir_verify_result results[STIR_MAX_IDENTITY_HEADERS];
    const char *verstat;  /* verstatValue (static), NULL: none to report */
    const char *priority; /* verstatPriority (the verifier's), NULL: no rph */
} stir_verify_outcome;

/*
 * Verify every Identity value of a parsed verificationRequest
 * (stir_ms_parse_verify) against its SIP context: each PASSporT, the
 * diversion chains, third-party RCD gating, verstat. `cache_flags` is 0
 * or STIR_CACHE_NOWAIT: then a request that would have to fetch a
 * certificate returns STIR_WOULD_BLOCK in err->code with `out` empty;
 * run it again where blocking is fine. 0 with `out` filled (clear it
 * with stir_verify_outcome_clear), else the code; `v` must outlive `out`.
 */
int stir_verify(stir_verifier *v, const stir_ms_verify_request *req, time_t now, int cache_flags,
                stir_verify_outcome *out, stir_error *err);
void stir_verify_outcome_clear(stir_verify_outcome *o);

/* The identity flags (STIR_IDENT_*) the verifier reads requests with. */
int stir_verifier_ident_flags(const stir_verifier *v);

/*
 * Verify one Ms API verification request: the members of
 * "verificationRequest" (the caller unwraps it). Returns the members of
 * "verificationResponse" (new reference): verstatValue, verifyResults[]
 * and requestId when given. Request-level problems (missing or malformed
 * members) return NULL with a 400 error naming the member. A wrapper of
 * stir_ms_parse_verify, stir_verify and stir_ms_verify_response (whose
 * text it parses back): for tools and tests, not the hot path.
 */
json_t *stir_verify_request(stir_verifier *v, const json_t *req, time_t now, stir_error *err);

/*
 * Same, with certificate-cache flags. With STIR_CACHE_NOWAIT, a request
 * that would have to fetch a certificate returns NULL with err->code
 * STIR_WOULD_BLOCK and nothing else done: run it again where blocking is
 * fine (the first run's cache misses are not fetched).
 */
json_t *stir_verify_request_ex(stir_verifier *v, const json_t *req, time_t now, int cache_flags,
                               stir_error *err);

/* verstat values (TS 24.229 7.2A.20). */
#define STIR_VERSTAT_PASSED "TN-Validation-Passed"
#define STIR_VERSTAT_FAILED "TN-Validation-Failed"
#define STIR_VERSTAT_NONE "No-TN-Validation"

/* Priority-Verstat values (TS 24.229 7.2.21). Only the first is confirmed
 * by the sources we have; both are configurable. */
#define STIR_PRIORITY_PASSED "RPH-Validation-Passed"
#define STIR_PRIORITY_FAILED "RPH-Validation-Failed"

/*
 * Who bounds the x5u fetches a request leaves behind. A verification that
 * may wait answers within its fetch budget; an x5u fetch still running
 * then goes on in the background (and is cached for later). By default
 * those fetches count against a process-wide cap of 256 threads, which one
 * client sending many unique slow x5u can fill. A thread that calls
 * stir_verify_own_fetches(1) owns its fetches instead: they are not
 * counted there, and after each request it must call
 * stir_verify_wait_fetches(), which returns once the fetches that
 * request left running have ended (each within the fetch timeouts). So
 * whoever schedules such threads fairly between clients (stird's fetch
 * pool) bounds every client's background fetches too: at most
 * STIR_MAX_IDENTITY_HEADERS per thread the client holds.
 */
void stir_verify_own_fetches(int on);
void stir_verify_wait_fetches(void);

#ifdef __cplusplus
}
#endif
#endif
