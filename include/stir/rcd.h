/*
 * Rich Call Data (RFC 9795): the rcd, crn and rcdi claims, and rcdi
 * integrity. A signer computes rcdi by hashing the inline jCard and the
 * bytes of every resource the RCD links (icn, jcl and the URIs inside the
 * jCard); a verifier recomputes each digest from what it fetches. Fetches
 * run under the same policy as x5u fetches (https, ports, address checks,
 * timeouts, size cap) and are cached by URL.
 */
#ifndef STIR_RCD_H
#define STIR_RCD_H

#include <stddef.h>
#include <jansson.h>
#include "error.h"
#include "certcache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stir_rcd_config {
    stir_fetch_policy fetch; /* max_bytes default 262144 (a logo) */
    /* rcdi digests made when signing: a stir_digest_by_name name; default "sha256" */
    const char *digest_alg;
    /* inline jcd (serialized) or fetched jcl; default 16384 */
    size_t max_jcard_bytes;
    size_t max_links; /* URIs in rcd plus its jCard; default 8 */
    /* all the fetches of one signing or verification together; default 2000
     * (fetch.total_timeout_ms bounds each) */
    long fetch_budget_ms;
    /* fetched content kept this long unless the server says less; default 300 */
    long cache_ttl_s;
    /* a failed fetch is remembered this long; default 30 */
    long neg_ttl_s;
    size_t cache_max_entries; /* default 1000; oldest evicted first */
    /* verifier fetches linked content to check its digest; default 1 (RFC 9795 8.2 says NOT
     * RECOMMENDED unless displayed: off reports such content as unverified) */
    int verify_fetch;
} stir_rcd_config;

void stir_rcd_config_default(stir_rcd_config *cfg);

typedef struct stir_rcd stir_rcd; /* configuration plus content cache */

/* Created from `ctx`, which must outlive it. */
stir_rcd *stir_rcd_new(stir_ctx *ctx, const stir_rcd_config *cfg, stir_error *err);
void stir_rcd_free(stir_rcd *r);

/* Counters of the content cache, for the server's metrics. */
typedef struct stir_rcd_stats {
    unsigned long hits;    /* answered from the cache */
    unsigned long fetches; /* network fetches, successful or not */
    unsigned long fetch_failures;
    size_t entries; /* cached URLs (content or failure) */
    size_t bytes;   /* cached content */
} stir_rcd_stats;

void stir_rcd_stats_get(stir_rcd *r, stir_rcd_stats *out);

/* ---- claim checks (used by the PASSporT type registry) ---------------- */

/*
 * The rcd claim (RFC 9795 5.1): an object with nam (string, required, may
 * be ""), optional apn (canonical TN), icn (https: or data: URL), jcd
 * (jCard array, RFC 7095) or jcl (https: URL), never both jcd and jcl;
 * unknown keys refused; sizes bounded. Returns 0 or `code` (400 signing,
 * 438 verifying) with the field ("rcd.jcl") and reason.
 */
int stir_rcd_check(const json_t *rcd, const char *name, int code, stir_error *err);

/* Signing: the rcd member of a request as the claim (apn canonicalized). */
json_t *stir_rcd_build(const json_t *v, const char *name, stir_error *err);

/* rcdi (RFC 9795 6): an object of JSON-pointer keys ("/icn", "/jcd/1/3/3",
 * "/jcl") to "<alg>-<base64>" strings with alg sha256/sha384/sha512. */
int stir_rcdi_check(const json_t *rcdi, const char *name, int code, stir_error *err);

/* crn (RFC 9795 7): a string of at most 256 bytes (RFC 9796 says SHOULD be
 * at most 64 characters for display; longer is accepted). */
int stir_crn_check(const json_t *crn, const char *name, int code, stir_error *err);

/* ---- integrity ---------------------------------------------------------- */

/*
 * Signing: the rcdi claim for `rcd` (new reference in *out), or *out NULL
 * when the rcd links nothing and has no jCard (mode 1: no rcdi needed).
 * Digests: /jcd over its RFC 8225 serialization, /icn over the icon bytes
 * (not for data: URLs, which are inline), every URI in the jCard (inline
 * /jcd/1/N/3 or fetched /jcl/1/N/3), /jcl over the fetched jCard bytes.
 * A `given` rcdi (from the request, may be NULL) is checked against the
 * computed one instead of being trusted: 400 naming the pointer on a
 * mismatch. Errors: 400 naming the member (fetch failed, jCard too big or
 * not a jCard, too many links). With STIR_CACHE_NOWAIT, a needed fetch
 * that is not cached returns STIR_WOULD_BLOCK.
 * Links are the http(s) URIs of icn, jcl and jCard property values;
 * data: URLs are inline content (never fetched, no digest needed) and
 * tel:/sip:/mailto: values are identifiers, not content. Entries of a
 * `given` rcdi that check out are kept as given (algorithm, padding,
 * optional pointers such as /nam); required pointers it lacks are added
 * with cfg->digest_alg.
 */
int stir_rcdi_compute(stir_rcd *r, const json_t *rcd, const json_t *given, int flags, json_t **out,
                      stir_error *err);

/*
 * Verification, after the PASSporT's signature passed: check the rcd and
 * rcdi claims of `claims` (RFC 9795 8.1, 8.2). Returns the rcdResult object
 * (new reference):
 *   {"status": "pass", "display": {...}}
 *   {"status": "fail", "reasonCode": 438, "reasonText": "...",
 *    "reasonDescription": "rcdi /jcl: digest mismatch ...", "failed": ["/jcl"]}
 * "display" holds what the callee may show: "name" (nam), "apn", "icon"
 * (icn), "reason" (crn), and from the jCard "fn", "org", "logo", "photo"
 * (URLs), "tel". A failing rcdi or fetch makes the status "fail" and
 * leaves display out: the call goes on without the name card (TR 33.790
 * 6.2). A link without an rcdi digest fails ("/icn has no rcdi digest"),
 * except in mode 1 (no rcdi and nothing linked); with verify_fetch 0 (or
 * r NULL) linked content is reported "not verified (fetching disabled)".
 * Digests compare equal up to '=' padding (the RFC examples omit it).
 * Returns NULL when `claims` has no rcd and no crn. With
 * STIR_CACHE_NOWAIT, returns NULL with err->code STIR_WOULD_BLOCK when a
 * fetch is needed and not cached.
 */
json_t *stir_rcd_verify(stir_rcd *r, const json_t *claims, int flags, stir_error *err);

/*
 * One fetch budget for a whole request. Between these two calls, every
 * stir_rcd_verify and stir_rcdi_compute on the calling thread fetches only
 * until fetch_budget_ms after stir_rcd_request_begin (each call's own
 * budget still applies when it ends sooner), so a request of 16 PASSporTs
 * whose content hangs costs one budget, not 16. Past it only cached content
 * is used. Thread-local; not nested (begin again restarts the budget);
 * r NULL: the default configuration's budget. Without them each call has
 * its own budget. stir_verify brackets a verification that may wait with
 * them itself, so it ends a budget its caller began.
 */
void stir_rcd_request_begin(const stir_rcd *r);
void stir_rcd_request_end(void);

/* RFC 6901 JSON pointer lookup ("/jcd/1/3/3"; "~0" "~1" escapes).
 * Borrowed reference or NULL. */
const json_t *stir_json_pointer(const json_t *root, const char *ptr);

/* The rcdi digest algorithms (RFC 9795 6), one list (src/lib/digest.c):
 * the static spelling of `name` ("sha256", "sha384", "sha512"; exact,
 * lowercase as the RFC writes them), or NULL when it is none of them. */
const char *stir_digest_by_name(const char *name);
/* Their names for messages: "sha256, sha384 or sha512". */
const char *stir_digest_names(void);

/* "<alg>-<base64 digest>" of `len` bytes; alg sha256/sha384/sha512.
 * Returns 0, or -1 for an unknown alg. `out` needs 100 bytes. */
int stir_rcd_digest(const char *alg, const void *data, size_t len, char out[100]);

#ifdef __cplusplus
}
#endif
#endif
