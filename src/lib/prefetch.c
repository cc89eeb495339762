/*
 * Parallel x5u fetching under a per-request budget (see prefetch.h).
 *
 * Threads rather than one curl multi handle: the work per URL is the
 * whole certcache miss path (fetch, chain validation, CRL fetches and
 * checks, storing with single flight), which stays in one place; the
 * threads are detached and counted so that freeing waits for them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefetch.h"
#include "stir/verify.h"

#define MAX_URLS 32
#define FETCH_STACK (512u * 1024u) /* curl + OpenSSL need far less */

/* One request's wait: shared by the request and its fetch threads, freed
 * by whoever leaves last. Its own lock, so that a thread that owns its
 * leftover fetches can wait for them after the prefetcher is gone. */
typedef struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int refs, pending;
    int done[MAX_URLS];
} batch;

struct sti_prefetcher {
    stir_certcache *cc;
    long budget_ms;
    size_t max_threads;
    pthread_mutex_t mu;
    pthread_cond_t idle; /* active reached 0 */
    size_t active;       /* fetch threads alive */
    size_t unowned;      /* of which started by threads that do not own theirs */
};

/*
 * Fetch ownership (stir_verify_own_fetches): on a thread that owns its
 * fetches, the fetches a request left running when its budget ran out
 * stay attached to the thread until stir_verify_wait_fetches, so whoever
 * schedules those threads (stird's fetch pool, fair between clients)
 * also bounds them. Such fetches do not count against max_threads: they
 * are at most STIR_MAX_IDENTITY_HEADERS per owning thread, and all fetch
 * threads together at most 4 x max_threads (a memory backstop).
 */
static _Thread_local int owns_fetches;
static _Thread_local batch *leftover;

typedef struct job {
    sti_prefetcher *p;
    batch *b;
    size_t i;
    char *url;
    int owned; /* started by a thread that owns its fetches */
} job;

sti_prefetcher *sti_prefetcher_new(stir_certcache *cc, long budget_ms, size_t max_threads)
{
    sti_prefetcher *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cc = cc;
    p->budget_ms = budget_ms > 0 ? budget_ms : 1500;
    p->max_threads = max_threads ? max_threads : 256;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->idle, NULL);
    return p;
}

void sti_prefetcher_free(sti_prefetcher *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->active)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

long sti_prefetcher_budget_ms(const sti_prefetcher *p)
{
    return p ? p->budget_ms : 0;
}

/* Drop one reference (b->mu held; released here). */
static void batch_put_unlock(batch *b)
{
    int last = --b->refs == 0;
    pthread_mutex_unlock(&b->mu);
    if (last) {
        pthread_cond_destroy(&b->cond);
        pthread_mutex_destroy(&b->mu);
        free(b);
    }
}

static void *fetch_main(void *arg)
{
    job *j = arg;
    sti_prefetcher *p = j->p;
    batch *b = j->b;
    stir_error e;
    memset(&e, 0, sizeof e);
    /* The outcome, good or bad, is in the cache now; the request reads it
     * from there. */
    stir_cert_unref(stir_certcache_get(p->cc, j->url, time(NULL), &e));
    pthread_mutex_lock(&b->mu);
    b->done[j->i] = 1;
    b->pending--;
    pthread_cond_broadcast(&b->cond);
    batch_put_unlock(b);
    /* Last: once active is 0 the prefetcher may be freed. */
    pthread_mutex_lock(&p->mu);
    if (!j->owned)
        p->unowned--;
    if (--p->active == 0)
        pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->mu);
    free(j->url);
    free(j);
    return NULL;
}

/* Is url neither cached nor remembered as failing? */
static int needs_fetch(sti_prefetcher *p, const char *url)
{
    stir_error e;
    memset(&e, 0, sizeof e);
    stir_cert *c = stir_certcache_get_ex(p->cc, url, time(NULL), STIR_CACHE_NOWAIT, &e);
    stir_cert_unref(c);
    return !c && e.code == STIR_WOULD_BLOCK;
}

/* Start the fetch of urls[i] in a detached thread (p->mu and b->mu
 * held). 0 or -1. */
static int start(sti_prefetcher *p, batch *b, size_t i, const char *url)
{
    /* Unowned fetches share max_threads. Owned ones are bounded by the
     * fetch pool's per-client shares; the backstop of 4 x max_threads over
     * all of them bounds memory whatever the pool's size (a refused one is
     * late: 436 for that PASSporT). */
    if ((!owns_fetches && p->unowned >= p->max_threads) || p->active >= 4 * p->max_threads)
        return -1;
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->url = strdup(url))) {
        free(j);
        return -1;
    }
    j->p = p;
    j->b = b;
    j->i = i;
    j->owned = owns_fetches;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, FETCH_STACK);
    pthread_t t;
    b->refs++;
    b->pending++;
    p->active++;
    p->unowned += !j->owned;
    int rc = pthread_create(&t, &attr, fetch_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        b->refs--;
        b->pending--;
        p->active--;
        p->unowned -= !j->owned;
        free(j->url);
        free(j);
        return -1;
    }
    return 0;
}

void stir_verify_own_fetches(int on)
{
    owns_fetches = on != 0;
}

void stir_verify_wait_fetches(void)
{
    batch *b = leftover;
    if (!b)
        return;
    leftover = NULL;
    pthread_mutex_lock(&b->mu);
    while (b->pending > 0)
        pthread_cond_wait(&b->cond, &b->mu);
    batch_put_unlock(b);
}

void sti_prefetch(sti_prefetcher *p, const char *const *urls, size_t n, int *late)
{
    int need[MAX_URLS], started[MAX_URLS];
    memset(late, 0, n * sizeof *late);
    if (!p || n == 0)
        return;
    if (n > MAX_URLS)
        n = MAX_URLS;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += p->budget_ms / 1000;
    deadline.tv_nsec += (p->budget_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    size_t n_needed = 0;
    for (size_t i = 0; i < n; i++) {
        need[i] = 0;
        started[i] = 0;
        if (!urls[i])
            continue;
        int dup = 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = urls[k] && strcmp(urls[k], urls[i]) == 0;
        if (!dup && needs_fetch(p, urls[i])) {
            need[i] = 1;
            n_needed++;
        }
    }
    if (!n_needed)
        return;

    batch *b = calloc(1, sizeof *b);
    if (!b)
        return; /* the request then fetches inline, one by one */
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cond, &ca);
    pthread_condattr_destroy(&ca);
    b->refs = 1;

    /* Leftovers of an earlier call nobody waited for (stird waits after
     * every request, so this does not happen there): wait now, so that an
     * owning thread never has more than one batch running. */
    stir_verify_wait_fetches();
    pthread_mutex_lock(&p->mu);
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < n; i++)
        if (need[i])
            started[i] = start(p, b, i, urls[i]) == 0;
    pthread_mutex_unlock(&p->mu);
    while (b->pending > 0)
        if (pthread_cond_timedwait(&b->cond, &b->mu, &deadline) != 0)
            break; /* budget spent (ETIMEDOUT) */
    for (size_t i = 0; i < n; i++)
        if (need[i] && (!started[i] || !b->done[i]))
            late[i] = 1;
    if (owns_fetches && b->pending > 0) {
        leftover = b; /* our reference: stir_verify_wait_fetches drops it */
        pthread_mutex_unlock(&b->mu);
    } else {
        batch_put_unlock(b);
    }
    /* Duplicates share their first occurrence's fate. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i && urls[i]; k++)
            if (urls[k] && strcmp(urls[k], urls[i]) == 0) {
                late[i] = late[k];
                break;
            }
}
