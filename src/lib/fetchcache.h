/*
 * The fetch cache (private to libstir): URL -> value made from a fetched
 * body. One implementation of what every fetched resource needs:
 *
 *   - the URL policy check (stir_fetch_policy: scheme, port, address rules)
 *     and the download (fetch.c), only on misses;
 *   - single flight: concurrent callers for one URL share one download;
 *   - HTTP freshness (RFC 9111 lifetime: s-maxage, max-age, Expires; no-store
 *     and a zero lifetime are served to the callers of that fetch and kept by
 *     nobody), clamped to [min_ttl_s, max_ttl_s], default_ttl_s when the
 *     response says nothing; the parse callback may shorten it per value;
 *   - negative entries: a failed fetch or an unparsable body (a 436) is
 *     remembered neg_ttl_initial_s, doubled per consecutive failure up to
 *     neg_ttl_max_s. Failures live in their own table bounded by
 *     max_neg_entries (oldest failure evicted first), so a flood of unique
 *     unreachable URLs never evicts a validated value;
 *   - at most fetch.max_per_host concurrent downloads per host, counted
 *     over every cache sharing cfg.hosts (the context's); beyond it a
 *     download waits for a slot within its own fetch.total_timeout_ms and
 *     then fails with a 436 that is not remembered;
 *   - stale-while-revalidate: with refresh_ahead > 0 a hit on a value with
 *     less than that fraction of its lifetime left queues a background
 *     refresh (one thread per cache); a failed refresh keeps the old value;
 *   - FCACHE_NOWAIT (the value of STIR_CACHE_NOWAIT): a lookup that would
 *     have to download fails with STIR_WOULD_BLOCK instead, so event-driven
 *     callers can move the request to a thread that may block.
 *
 * How a user plugs in (certcache.c, rcd_content.c, crl.c):
 *   1. Write a parse callback: body bytes -> your value (a struct you
 *      malloc), or NULL with a 436 in err for a body that is not what you
 *      expect (it is then a negative entry). It may lower *ttl_s (a chain's
 *      notAfter, a CRL's nextUpdate) and set *cost (bytes, for max_cost).
 *      It runs without the cache lock, possibly on several threads at once
 *      for different URLs.
 *   2. Write a free callback for your value.
 *   3. Fill an fcache_config (fcache_config_default, then your fetch
 *      policy, TTLs, bounds and hosts = ctx->hosts) and call fcache_new.
 *   4. fcache_get returns an fcache_item reference: read your value with
 *      fcache_item_value, drop it with fcache_item_unref. Values are shared
 *      and must be treated as read-only after parse.
 * A CRL user (crl.c's stir_crl_source): fetch = the x5u policy with the
 * CRL's own max_bytes and allow_http; default_ttl_s = max_ttl_s = the CRL
 * bound, min_ttl_s = 0 (so nothing lengthens a CRL's life); parse =
 * sti_crl_parse, then *ttl_s = sti_crl_lifetime(crl, now, max, retry)
 * (nextUpdate, or retry_s when stale); free = sti_crl_unref;
 * neg_ttl_initial_s = neg_ttl_max_s = retry_s; hosts = ctx->hosts. The
 * source's get is fcache_get, sti_crl_ref(fcache_item_value(it)),
 * fcache_item_unref(it). Certificates: parse = PEM chain + validation
 * verdict, ttl bounded by notAfter. RCD content: parse = the bytes, cost =
 * their length.
 *
 * Locking: one mutex per cache guards both tables, the flights and the
 * refresh queue; the host counts have their own (fcache_hosts); downloads
 * and callbacks run without either.
 * Expiry uses CLOCK_MONOTONIC.
 */
#ifndef STIR_FETCHCACHE_H
#define STIR_FETCHCACHE_H

#include <stddef.h>
#include "stir/certcache.h"
#include "fetch.h"

#define FCACHE_NOWAIT STIR_CACHE_NOWAIT

typedef struct fcache fcache;
typedef struct fcache_item fcache_item;

/* Downloads in progress per host, for the per-host cap; one per library
 * context, shared by its caches, so that certificates, RCD content and
 * CRLs from one repository host count together. */
typedef struct fcache_hosts fcache_hosts;
fcache_hosts *fcache_hosts_new(void);
void fcache_hosts_free(fcache_hosts *hs); /* after every cache using it */

/*
 * Body -> value. *ttl_s holds the lifetime the cache will use (HTTP
 * freshness clamped by the config); the callback may lower it (a higher
 * value is ignored), and 0 or less means: serve to this fetch's callers,
 * keep nothing. *cost starts at len. Returns the value, or NULL with err
 * set (436 is remembered as a failure; other codes are not).
 */
typedef void *fcache_parse_fn(void *user, const char *url, const char *body, size_t len,
                              long *ttl_s, size_t *cost, stir_error *err);
typedef void fcache_free_fn(void *user, void *value);

typedef struct fcache_config {
    stir_fetch_policy fetch;   /* copied with its strings */
    long default_ttl_s;        /* the response says nothing about freshness */
    long min_ttl_s, max_ttl_s; /* clamp of the HTTP lifetime */
    long neg_ttl_initial_s;    /* 0: failures are not remembered */
    long neg_ttl_max_s;
    double refresh_ahead;   /* 0: no background refresh (no thread) */
    size_t max_entries;     /* values; oldest evicted first */
    size_t max_neg_entries; /* failures, bounded apart */
    size_t max_cost;        /* sum of value costs; 0: no bound */
    const char *what;       /* the resource in messages: "x5u", "rcd content" */
    /* shared host counts (the context's); NULL: the cache's own */
    fcache_hosts *hosts;
    fcache_parse_fn *parse;
    fcache_free_fn *free_value;
    void *user; /* passed to both callbacks */
} fcache_config;

typedef struct fcache_stats {
    unsigned long hits, misses, fetches, fetch_failures, neg_hits, refreshes;
    unsigned long host_waits;    /* downloads that waited for a host slot */
    unsigned long host_timeouts; /* ... and gave up */
    size_t entries, neg_entries, cost;
    /* Network downloads by duration, non-cumulative: fetch_latency[i]
     * counts those that took at most bound i of STIR_CERTCACHE_FETCH_BOUNDS_MS
     * (the last: longer than any bound). */
    unsigned long fetch_latency[STIR_CERTCACHE_FETCH_BUCKETS];
    double fetch_seconds_sum;
} fcache_stats;

/* Zeroes cfg and sets what has an obvious default (TTLs, sizes, fetch
 * timeouts of the x5u policy, max_per_host 4). */
void fcache_config_default(fcache_config *cfg);

/* Checks the limits (400 naming the field) and starts the refresher when
 * refresh_ahead > 0. */
fcache *fcache_new(const fcache_config *cfg, stir_error *err);

/* No caller may be inside fcache_get; waits for a running refresh. */
void fcache_free(fcache *fc);

/*
 * The value for url: cached, or downloaded and parsed now (one download
 * per URL at a time). 0 with *out (a reference), or the error: the URL
 * policy's 436, a download or parse 436 (with " (cached failure, retry in
 * N s)" when remembered), STIR_WOULD_BLOCK with FCACHE_NOWAIT on a miss,
 * 500 when out of memory.
 */
int fcache_get(fcache *fc, const char *url, int flags, fcache_item **out, stir_error *err);

/*
 * Store a body for url as if downloaded with lifetime lifetime_s (< 0:
 * the response said nothing), through the same parse callback (preloads,
 * tests). 0 with *out (a reference; out may be NULL) or the parse error
 * (nothing stored then).
 */
int fcache_put(fcache *fc, const char *url, const char *body, size_t len, long lifetime_s,
               fcache_item **out, stir_error *err);

void *fcache_item_value(const fcache_item *it);
fcache_item *fcache_item_ref(fcache_item *it);
void fcache_item_unref(fcache_item *it);

void fcache_stats_get(fcache *fc, fcache_stats *out);

/* The same counters in the public shape every cache reports them in
 * (certificates, CRLs). */
void fcache_stats_export(fcache *fc, stir_certcache_stats *out);

/* CLOCK_MONOTONIC in seconds: the clock of every expiry and budget. */
double fcache_now(void);

#endif
