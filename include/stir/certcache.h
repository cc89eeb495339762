/*
 * x5u certificate fetching and caching.
 *
 * Fetch policy (ATIS-1000074/-1000080, RFC 6890): https only, port 443 or
 * 8443, no userinfo/query/fragment, no redirects, short timeouts, a size
 * cap, a PEM certificate body, and no fetch to loopback/private/special
 * addresses. Each relaxation is an explicit, named setting.
 *
 * Cache by URL with HTTP semantics (Cache-Control max-age / no-store /
 * Expires; 24 h when the server says nothing; never past the chain's
 * notAfter; clamped to [min_ttl, max_ttl]); single flight per URL;
 * negative cache with exponential backoff; stale-while-revalidate refresh
 * in a background thread.
 */
#ifndef STIR_CERTCACHE_H
#define STIR_CERTCACHE_H

#include <stddef.h>
#include <time.h>
#include "error.h"
#include "cert.h"
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STIR_MAX_ALLOW_HOSTS 8

typedef struct stir_fetch_policy {
    long connect_timeout_ms; /* default 500 */
    long total_timeout_ms;   /* default 1000 */
    size_t max_bytes;        /* default 16384 */
    /* concurrent downloads per host, default 4; beyond it a download waits for a slot within
     * total_timeout_ms, then fails (436, not cached); 0: no cap */
    unsigned max_per_host;
    /* Relaxations, all off by default: */
    int allow_http;     /* permit http:// */
    int allow_any_port; /* permit ports other than 443/8443 */
    /* Hosts (exact names or IP literals) that may resolve to loopback,
     * private or special-purpose addresses. */
    const char *allow_hosts[STIR_MAX_ALLOW_HOSTS];
    size_t n_allow_hosts;
    /* CA bundle for the TLS connection to the certificate repository
     * (NULL: the system web-PKI store, which is right for real STI-CRs). */
    const char *tls_ca_file;
} stir_fetch_policy;

typedef struct stir_certcache_config {
    stir_fetch_policy fetch;
    long default_ttl_s;     /* default 86400 (ATIS-1000074) */
    long min_ttl_s;         /* default 60 */
    long max_ttl_s;         /* default 7 * 86400 */
    long neg_ttl_initial_s; /* default 5, doubled per failure */
    long neg_ttl_max_s;     /* default 300 */
    /* refresh when this fraction of the TTL is left; default 0.1 */
    double refresh_ahead;
    size_t max_entries; /* chains; default 10000; oldest evicted first */
    /* failed fetches, bounded apart so that they never evict chains; default 10000; oldest
     * failure evicted first */
    size_t max_neg_entries;
    /* Revocation (crl.h): borrowed, must outlive the cache; NULL: chains
     * are not checked against CRLs. Checked once per fetch, with the
     * chain's validation; the entry then lives no longer than the earliest
     * nextUpdate of the CRLs used. */
    struct stir_crl_checker *crl;
} stir_certcache_config;

/* Fill with the defaults above. */
void stir_certcache_config_default(stir_certcache_config *cfg);

typedef struct stir_certcache stir_certcache;

/*
 * Created from `ctx`, which must outlive it. `trust` is borrowed and must
 * outlive the cache; chains are validated
 * against it once when fetched, and the result (good, or the 437 reason)
 * is cached with the chain.
 */
stir_certcache *stir_certcache_new(stir_ctx *ctx, const stir_certcache_config *cfg,
                                   const stir_trust *trust, stir_error *err);
void stir_certcache_free(stir_certcache *cc);

/*
 * Check a URL against the fetch policy without fetching. 0 if allowed,
 * else 436 with the reason ("x5u must use https", "port 80 not allowed").
 */
int stir_url_check(const stir_fetch_policy *pol, const char *url, stir_error *err);

/*
 * The validated chain for `url` at time `at`: from the cache, or fetched
 * now (concurrent callers for the same URL share one download). Returns a
 * new reference (release with stir_cert_unref), or NULL with err set:
 * 436 when the chain cannot be obtained (policy, DNS, connect, TLS,
 * timeout, HTTP status, size, not PEM certificates), 437 when it was
 * obtained but does not validate (or `at` is outside its validity).
 */
stir_cert *stir_certcache_get(stir_certcache *cc, const char *url, time_t at, stir_error *err);

/* Flags of stir_certcache_get_ex. */
/* never fetch or wait for a fetch: fail with STIR_WOULD_BLOCK instead */
#define STIR_CACHE_NOWAIT 1

/*
 * stir_certcache_get with flags. With STIR_CACHE_NOWAIT a URL that is
 * neither cached (fresh or stale) nor remembered as failing returns NULL
 * with err->code STIR_WOULD_BLOCK, so an event-driven caller can move the
 * request to a thread that may block.
 */
stir_cert *stir_certcache_get_ex(stir_certcache *cc, const char *url, time_t at, int flags,
                                 stir_error *err);

/*
 * Insert a chain for `url` as if fetched (preloading, tests). A chain that
 * does not validate is stored with its 437 verdict (so gets report it) and
 * that 437 is returned.
 */
int stir_certcache_put(stir_certcache *cc, const char *url, const char *pem, size_t len, long ttl_s,
                       stir_error *err);

/* Upper bounds (milliseconds) of the fetch latency buckets; one more
 * bucket past the last bound counts slower fetches (+Inf). */
#define STIR_CERTCACHE_FETCH_BOUNDS_MS 10, 25, 50, 100, 250, 500, 1000, 2500, 5000
#define STIR_CERTCACHE_FETCH_BUCKETS 10

typedef struct stir_certcache_stats {
    unsigned long hits, misses, fetches, fetch_failures, neg_hits, refreshes;
    unsigned long host_waits;    /* downloads that waited for a host slot */
    unsigned long host_timeouts; /* ... and gave up (436) */
    size_t entries;              /* chains (good or with their 437) */
    size_t neg_entries;          /* remembered failures, bounded apart */
    /* Network downloads by duration, non-cumulative: fetch_latency[i]
     * counts those that took at most bound i (the last: longer than any). */
    unsigned long fetch_latency[STIR_CERTCACHE_FETCH_BUCKETS];
    double fetch_seconds_sum; /* total time spent in downloads */
} stir_certcache_stats;

void stir_certcache_stats_get(stir_certcache *cc, stir_certcache_stats *out);

#ifdef __cplusplus
}
#endif
#endif
