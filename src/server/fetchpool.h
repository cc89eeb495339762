/*
 * The fetch pool: threads that finish requests which must first fetch
 * something (an x5u certificate, RCD content), while the connection
 * workers keep serving everything else. One pool per HTTP server, created
 * and destroyed with it; nothing global.
 *
 * Fair between clients: each client (a key the caller chooses: its
 * authenticated name, certificate identity or address) has its own FIFO,
 * the threads serve the clients round-robin, one client holds at most
 * `client_threads` threads at once and has at most `client_queue` jobs
 * waiting. So a client flooding requests whose fetches hang only ever
 * delays its own requests.
 *
 * A server has two pools, two lanes: one for requests that wait on
 * fetches (verifications, and not-yet-cached RCD content), one for
 * signing requests (token signatures, signing RCD content), so that
 * outsiders' hanging fetches never hold the threads the carrier's own
 * signing needs (`sign_threads`).
 *
 * A job also has a deadline: one that has waited longer than max_wait_ms
 * for a thread (the request timeout: its client has given up, or soon
 * will) is answered 503 with Retry-After by a reaper thread instead of
 * being run, even while every pool thread is stuck on a slow fetch.
 */
#ifndef STIRD_FETCHPOOL_H
#define STIRD_FETCHPOOL_H

#include <stddef.h>
#include <jansson.h>
#include "app.h"

struct http_reply;
/* `arg` is the one given to fetchpool_run (the request's own context). */
typedef void (*fetchpool_finish_fn)(const stird_app *app, const json_t *body, const json_t *req,
                                    struct http_reply *r, void *arg);

typedef struct fetchpool fetchpool;

typedef struct fetchpool_limits {
    size_t threads;                  /* pool threads */
    size_t queue;                    /* jobs waiting, all clients together */
    size_t client_threads;           /* threads one client may hold at once (>= 1) */
    size_t client_queue;             /* jobs one client may have waiting (>= 1) */
    long max_wait_ms;                /* a job waiting longer is answered 503; 0: no limit */
    const char *what;                /* the threads, in the 503 detail: "fetch thread" */
    void (*depth_gauge)(long depth); /* told the number of jobs waiting; NULL: none */
    int wait_refusal;                /* the metrics cause of a job answered late */
} fetchpool_limits;

/* NULL with `err`. */
fetchpool *fetchpool_create(const fetchpool_limits *lim, char *err, size_t errlen);

enum {
    FETCHPOOL_FULL = -1,       /* the whole queue is full, or the pool is stopping */
    FETCHPOOL_CLIENT_FULL = -2 /* this client already has client_queue jobs waiting */
};

/*
 * Run finish(app, body, req, r, arg) on a pool thread, then done(arg) there,
 * in `client`'s turn. Takes its own references to body and req. 0, or
 * FETCHPOOL_FULL / FETCHPOOL_CLIENT_FULL (nothing queued, done not called).
 */
int fetchpool_run(fetchpool *p, const char *client, const stird_app *app,
                  fetchpool_finish_fn finish, json_t *body, json_t *req, struct http_reply *r,
                  void (*done)(void *arg), void *arg);

/* Answer the queued jobs 503 (calling their done) and wait for the running
 * ones; later fetchpool_run calls get FETCHPOOL_FULL. Idempotent. The pool
 * stays allocated: workers that may still defer a request can call it. */
void fetchpool_stop(fetchpool *p);

/* Stop (if not yet) and free: only once nothing can call fetchpool_run. */
void fetchpool_destroy(fetchpool *p);

#endif
