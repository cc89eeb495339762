/*
 * Parallel x5u fetching for one verification request (private to
 * libstir), so that the PASSporTs of a request cost one fetch time, not
 * the sum, and never more than a budget (issue 12 item 6).
 *
 * Each URL that is not cached gets a short-lived thread that runs the
 * ordinary blocking stir_certcache_get (single flight, validation,
 * revocation: the cache stores the outcome); the request waits for all of
 * them, at most budget_ms. A fetch still running then goes on in the
 * background and is cached for later requests; the request reports it late.
 */
#ifndef STIR_PREFETCH_H
#define STIR_PREFETCH_H

#include <stddef.h>
#include "stir/certcache.h"

typedef struct sti_prefetcher sti_prefetcher;

/* budget_ms > 0; max_threads: fetch threads alive at once over all
 * requests (beyond, a URL is reported late at once instead of fetched). */
sti_prefetcher *sti_prefetcher_new(stir_certcache *cc, long budget_ms, size_t max_threads);

/* Waits for every fetch thread to finish (each is bounded by the fetch
 * timeouts), then frees. */
void sti_prefetcher_free(sti_prefetcher *p);

long sti_prefetcher_budget_ms(const sti_prefetcher *p);

/*
 * Make urls[0..n) cached, in parallel, waiting at most the budget.
 * Duplicates are fetched once. late[i] = 1 for each URL whose fetch was
 * still running when the budget ran out, or got no thread; else 0.
 */
void sti_prefetch(sti_prefetcher *p, const char *const *urls, size_t n, int *late);

#endif
