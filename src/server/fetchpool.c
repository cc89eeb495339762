/*
 * The fetch pool (see fetchpool.h): per-client FIFOs of jobs, a ring of
 * the clients that have jobs waiting, and a fixed set of threads. A
 * thread takes the oldest job of the next client in the ring that is
 * under its thread cap, then moves the ring on, so clients are served in
 * turn whatever their backlog. A job's reply is filled on the pool thread
 * and handed back through its done() callback (the connection layer's
 * resume).
 */
#include "fetchpool.h"
#include "http.h"
#include "metrics.h"
#include "stir/verify.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_BUCKETS 1024 /* client table; chains stay short below ~10k clients */

struct client;

struct job {
    struct job *next;
    struct client *cl;
    const stird_app *app;
    fetchpool_finish_fn finish;
    json_t *body; /* owned reference */
    json_t *req;  /* owned reference */
    http_reply *r;
    void (*done)(void *arg);
    void *arg;
    long long queued_ms; /* monotonic time it was queued */
};

/* A client with jobs waiting or running; freed when it has neither. */
struct client {
    struct client *hnext;         /* hash chain */
    struct client *rprev, *rnext; /* ring of clients with jobs waiting */
    struct job *head, *tail;
    size_t waiting, running;
    char key[];
};

struct fetchpool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct client *table[N_BUCKETS];
    struct client *ring; /* next client to serve; NULL: nothing waiting */
    size_t queued;       /* jobs waiting, all clients */
    size_t busy;         /* threads running a job */
    fetchpool_limits lim;
    int stopping;
    size_t n_threads;
    pthread_t *threads;
    pthread_t reaper;           /* answers jobs past max_wait_ms */
    pthread_cond_t reaper_cond; /* signalled on stop */
    int has_reaper;
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void shutting_down(http_reply *r)
{
    http_problem(r, 503, "Service Unavailable", "the server is shutting down", NULL, NULL, NULL);
    r->retry_after = 1;
}

static void waited_too_long(http_reply *r, const char *what, long long waited_ms)
{
    char detail[300];
    snprintf(detail, sizeof detail,
             "the request waited %lld ms for a %s, longer than the request timeout; "
             "the server is busy with slow fetches (certificates, RCD content) or token "
             "signatures: retry later",
             waited_ms, what);
    http_problem(r, 503, "Service Unavailable", detail, "NF_CONGESTION", NULL, NULL);
    r->retry_after = 1;
}

static void job_end(struct job *j)
{
    json_decref(j->req);
    json_decref(j->body);
    j->done(j->arg);
    free(j);
}

static uint32_t key_hash(const char *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*k)
        h = (h ^ (unsigned char)*k++) * 16777619u;
    return h;
}

static struct client **client_slot(fetchpool *p, const char *key)
{
    struct client **pp = &p->table[key_hash(key) % N_BUCKETS];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->hnext;
    return pp;
}

static void ring_insert(fetchpool *p, struct client *cl)
{
    if (!p->ring) {
        cl->rprev = cl->rnext = cl;
        p->ring = cl;
        return;
    }
    /* Just behind the current position: its turn comes last. */
    cl->rnext = p->ring;
    cl->rprev = p->ring->rprev;
    cl->rprev->rnext = cl;
    p->ring->rprev = cl;
}

static void ring_remove(fetchpool *p, struct client *cl)
{
    if (cl->rnext == cl) {
        p->ring = NULL;
    } else {
        cl->rprev->rnext = cl->rnext;
        cl->rnext->rprev = cl->rprev;
        if (p->ring == cl)
            p->ring = cl->rnext;
    }
    cl->rprev = cl->rnext = NULL;
}

static void client_free_if_idle(fetchpool *p, struct client *cl)
{
    if (cl->waiting || cl->running)
        return;
    struct client **pp = client_slot(p, cl->key);
    assert(*pp == cl);
    *pp = cl->hnext;
    free(cl);
}

/* The only place where the depth of the waiting queues changes (a gauge
 * of it belongs here). Lock held. */
static void queue_depth_add(fetchpool *p, int delta)
{
    assert(delta > 0 || p->queued > 0);
    p->queued = delta > 0 ? p->queued + 1 : p->queued - 1;
    if (p->lim.depth_gauge)
        p->lim.depth_gauge((long)p->queued);
}

/* Jobs enter and leave the waiting queues only through these two. */
static void queue_push(fetchpool *p, struct client *cl, struct job *j)
{
    if (cl->tail)
        cl->tail->next = j;
    else
        cl->head = j;
    cl->tail = j;
    if (cl->waiting++ == 0)
        ring_insert(p, cl);
    queue_depth_add(p, +1);
}

static struct job *queue_pop(fetchpool *p, struct client *cl)
{
    struct job *j = cl->head;
    assert(j && cl->waiting > 0 && p->queued > 0);
    cl->head = j->next;
    if (!cl->head)
        cl->tail = NULL;
    j->next = NULL;
    if (--cl->waiting == 0)
        ring_remove(p, cl);
    queue_depth_add(p, -1);
    return j;
}

/* Take the oldest job of `cl` and move the ring past it. */
static struct job *take(fetchpool *p, struct client *cl)
{
    struct client *after = cl->rnext;
    struct job *j = queue_pop(p, cl);
    cl->running++;
    p->busy++;
    if (p->ring && cl->waiting)
        p->ring = after;
    return j;
}

/*
 * The next job to run, NULL if none may run now. Called with the lock
 * held. Round-robin over the clients under their thread cap; when none
 * is, a client may borrow beyond its cap as long as client_threads
 * threads stay free, so a lone busy client gets most of the pool while a
 * newcomer still finds a thread at once.
 */
static struct job *next_job(fetchpool *p)
{
    struct client *start = p->ring, *cl = start;
    if (!cl)
        return NULL;
    do {
        if (cl->running < p->lim.client_threads)
            return take(p, cl);
        cl = cl->rnext;
    } while (cl != start);
    if (p->n_threads - p->busy > p->lim.client_threads)
        return take(p, start);
    return NULL;
}

static void *pool_main(void *arg)
{
    fetchpool *p = arg;
    /* The x5u fetches a job leaves running past its budget stay this
     * thread's (and its client's) until they end: see below. */
    stir_verify_own_fetches(1);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct job *j;
        while (!(j = next_job(p)) && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        if (!j)
            break; /* stopping and nothing left to run */
        pthread_mutex_unlock(&p->lock);
        struct client *cl = j->cl;
        j->finish(j->app, j->body, j->req, j->r, j->arg);
        job_end(j);
        /* The reply is on its way; the client keeps this thread until the
         * fetches its request left running end (within fetch_timeout_ms),
         * so one client's hanging x5u never pile up beyond the threads
         * it may hold (issue 8 item 6). */
        stir_verify_wait_fetches();
        pthread_mutex_lock(&p->lock);
        cl->running--;
        p->busy--;
        /* A job may run now (this client's, or a borrower's): wake a thread. */
        if (p->queued)
            pthread_cond_broadcast(&p->cond);
        client_free_if_idle(p, cl);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int fetchpool_run(fetchpool *p, const char *client, const stird_app *app,
                  fetchpool_finish_fn finish, json_t *body, json_t *req, http_reply *r,
                  void (*done)(void *arg), void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return FETCHPOOL_FULL;
    *j = (struct job){.app = app,
                      .finish = finish,
                      .body = json_incref(body),
                      .req = json_incref(req),
                      .r = r,
                      .done = done,
                      .arg = arg,
                      .queued_ms = now_ms()};
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    struct client **pp = client_slot(p, client), *cl = *pp;
    if (p->stopping || p->n_threads == 0 || p->queued >= p->lim.queue) {
        rc = FETCHPOOL_FULL;
    } else if (cl && cl->waiting >= p->lim.client_queue) {
        rc = FETCHPOOL_CLIENT_FULL;
    } else if (!cl) {
        size_t n = strlen(client) + 1;
        cl = calloc(1, sizeof *cl + n);
        if (cl) {
            memcpy(cl->key, client, n);
            *pp = cl;
        } else {
            rc = FETCHPOOL_FULL;
        }
    }
    if (rc == 0) {
        j->cl = cl;
        queue_push(p, cl, j);
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc != 0) {
        json_decref(j->req);
        json_decref(j->body);
        free(j);
    }
    return rc;
}

/*
 * Take every job that has waited longer than max_wait_ms out of the
 * queues (lock held). Each client's FIFO is in queueing order, so its
 * late jobs are at its head. Returns them as a list.
 */
static struct job *take_late(fetchpool *p, long long now)
{
    struct job *late = NULL;
    struct client *cl = p->ring;
    size_t clients = 0;
    if (!cl)
        return NULL;
    /* Count first: a client leaves the ring when its last waiting job is
     * taken, so the walk cannot stop at the start again. */
    do {
        clients++;
        cl = cl->rnext;
    } while (cl != p->ring);
    for (cl = p->ring; clients-- > 0;) {
        struct client *next = cl->rnext; /* stays in the ring: only cl may leave */
        while (cl->head && now - cl->head->queued_ms > p->lim.max_wait_ms) {
            struct job *j = queue_pop(p, cl);
            j->next = late;
            late = j;
        }
        client_free_if_idle(p, cl);
        cl = next;
    }
    return late;
}

/* The reaper: a few times per max_wait_ms, answer the jobs past it. */
static void *reaper_main(void *arg)
{
    fetchpool *p = arg;
    long tick = p->lim.max_wait_ms / 4;
    if (tick < 10)
        tick = 10;
    if (tick > 250)
        tick = 250;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += tick * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&p->reaper_cond, &p->lock, &until);
        if (p->stopping)
            break;
        long long now = now_ms();
        struct job *late = take_late(p, now);
        if (!late)
            continue;
        pthread_mutex_unlock(&p->lock);
        while (late) {
            struct job *next = late->next;
            metrics_refusal((enum metrics_refusal)p->lim.wait_refusal);
            waited_too_long(late->r, p->lim.what, now - late->queued_ms);
            job_end(late);
            late = next;
        }
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

fetchpool *fetchpool_create(const fetchpool_limits *lim, char *err, size_t errlen)
{
    fetchpool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc(lim->threads ? lim->threads : 1, sizeof *p->threads))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->reaper_cond, &ca);
    pthread_condattr_destroy(&ca);
    p->lim = *lim;
    if (p->lim.client_threads < 1)
        p->lim.client_threads = 1;
    if (p->lim.client_queue < 1)
        p->lim.client_queue = 1;
    if (!p->lim.what)
        p->lim.what = "fetch thread";
    for (p->n_threads = 0; p->n_threads < lim->threads; p->n_threads++) {
        int rc = pthread_create(&p->threads[p->n_threads], NULL, pool_main, p);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start the fetch threads: %s", strerror(rc));
            fetchpool_destroy(p);
            return NULL;
        }
    }
    if (p->lim.max_wait_ms > 0) {
        int rc = pthread_create(&p->reaper, NULL, reaper_main, p);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start the fetch reaper thread: %s", strerror(rc));
            fetchpool_destroy(p);
            return NULL;
        }
        p->has_reaper = 1;
    }
    return p;
}

void fetchpool_stop(fetchpool *p)
{
    struct job *list = NULL;

    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    p->stopping = 1;
    /* Queued, not started: take them all, answer them outside the lock. */
    while (p->ring) {
        struct client *cl = p->ring;
        struct job *j = queue_pop(p, cl);
        j->next = list;
        list = j;
        client_free_if_idle(p, cl);
    }
    assert(p->queued == 0);
    pthread_cond_broadcast(&p->cond);
    pthread_cond_signal(&p->reaper_cond);
    pthread_mutex_unlock(&p->lock);
    if (p->has_reaper)
        pthread_join(p->reaper, NULL);
    while (list) {
        struct job *next = list->next;
        shutting_down(list->r);
        job_end(list);
        list = next;
    }
    /* Requests already running finish (within the fetch budget). */
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    for (size_t b = 0; b < N_BUCKETS; b++)
        assert(!p->table[b]);
}

void fetchpool_destroy(fetchpool *p)
{
    if (!p)
        return;
    fetchpool_stop(p);
    pthread_cond_destroy(&p->reaper_cond);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}
