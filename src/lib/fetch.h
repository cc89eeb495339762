/*
 * x5u download (private to libstir): one blocking HTTPS GET under a
 * stir_fetch_policy (certcache.h). Used by the fetch cache (fetchcache.c).
 */
#ifndef STIR_FETCH_H
#define STIR_FETCH_H

#include <stddef.h>
#include "stir/certcache.h"

#define STI_URL_MAX 2048

typedef struct sti_fetch_result {
    long status; /* HTTP status (200 on success) */
    char *body;  /* NUL-terminated, malloc'd */
    size_t body_len;
    char cache_control[256]; /* response headers, "" when absent */
    char expires[64];
    char date[64];
} sti_fetch_result;

/*
 * GET `url` under `pol` (stir_url_check first, then the address policy at
 * connect time). 0 with a 200 response in `out` (free with
 * sti_fetch_result_free), else 436 with a precise detail and `out` empty.
 */
int sti_fetch(const stir_fetch_policy *pol, const char *url, sti_fetch_result *out,
              stir_error *err);

void sti_fetch_result_free(sti_fetch_result *r);

/* stir_url_check that also copies the host (without IPv6 brackets) into
 * host[hostlen]: the key of the per-host download cap. */
int sti_url_host(const stir_fetch_policy *pol, const char *url, char *host, size_t hostlen,
                 stir_error *err);

/* Check a policy's limits (timeouts, size cap, allowed hosts): 0 or 400
 * naming the field ("fetch.max_bytes"). */
int sti_fetch_policy_check(const stir_fetch_policy *p, stir_error *err);

/*
 * Copy `src` into `dst` with its strings (allowed hosts, CA file) owned by
 * `dst`, so a cache does not depend on its caller's configuration living
 * on. -1 when out of memory; free with sti_fetch_policy_free either way.
 */
int sti_fetch_policy_dup(stir_fetch_policy *dst, const stir_fetch_policy *src);
void sti_fetch_policy_free(stir_fetch_policy *p);

/*
 * Freshness lifetime of a response in seconds (RFC 9111 4.2.1: s-maxage,
 * max-age, Expires - Date), before the caller's clamping; 0 for no-cache
 * (we do not revalidate) or an invalid Expires; -1 when the response says
 * nothing. Sets *no_store for no-store.
 */
long sti_fetch_lifetime(const sti_fetch_result *r, int *no_store);

/*
 * Classify an IPv4/IPv6 socket address against the RFC 6890 special-purpose
 * registries. Returns NULL for an ordinary global address, else a short
 * name ("loopback", "private", ...). Exposed for tests.
 */
struct sockaddr;
const char *sti_addr_special(const struct sockaddr *sa);

#endif
