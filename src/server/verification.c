/*
 * POST {apiRoot}/stir/v1/verification (TS 24.229 V.2.6): a
 * verificationRequest in, {"verificationResponse": {...}} out. A PASSporT
 * that fails verification is still a 200: its reasonCode is inside
 * verifyResults; only a malformed request is an HTTP error.
 *
 * A request whose certificate is cached (the normal case) is verified in
 * the HTTP worker. One that needs an x5u fetch would hold that worker, and
 * every connection it serves, for up to the fetch timeout; it goes to a
 * small pool of threads that may block instead, while its connection is
 * suspended.
 */
#include "http.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "verstat=TN-Validation-Failed codes=438,436" for the access log: the
 * outcome per PASSporT ("pass" or its reasonCode), in request order. */
static void log_note(const json_t *res, char *note, size_t cap)
{
    const json_t *results = json_object_get(res, "verifyResults"), *item;
    const char *verstat = json_string_value(json_object_get(res, "verstatValue"));
    size_t i, o;
    int n = snprintf(note, cap, "verstat=%s codes=", verstat ? verstat : "-");

    if (n < 0 || (size_t)n >= cap)
        return;
    o = (size_t)n;
    json_array_foreach(results, i, item) {
        const json_t *vr = json_object_get(item, "verifyResult");
        const json_t *code = json_object_get(vr, "reasonCode");
        const char *status = json_string_value(json_object_get(vr, "status"));
        char one[24];
        if (json_is_integer(code))
            snprintf(one, sizeof one, "%s%lld", i ? "," : "", (long long)json_integer_value(code));
        else
            snprintf(one, sizeof one, "%s%s", i ? "," : "", status ? status : "?");
        if (o + strlen(one) + 1 >= cap)
            break;
        memcpy(note + o, one, strlen(one) + 1);
        o += strlen(one);
    }
    if (i == 0)
        snprintf(note + o, cap - o, "-");
}

/* Turn the library's answer into the HTTP reply. */
static void reply(json_t *res, const stir_error *err, http_reply *r)
{
    if (!res) {
        http_problem_from_stir(r, err);
        return;
    }
    log_note(res, r->note, sizeof r->note);
    http_reply_json(r, 200, json_pack("{s:o}", "verificationResponse", res));
}

int verification_handle(const stird_app *app, const json_t *body, http_reply *r)
{
    const json_t *req = http_unwrap(body, "verificationRequest", r);
    stir_error err;
    json_t *res;

    if (!req)
        return 0;
    memset(&err, 0, sizeof err);
    res = stir_verify_request_ex(app->verifier, req, app_now(app), STIR_CACHE_NOWAIT, &err);
    if (!res && err.code == STIR_WOULD_BLOCK)
        return 1;
    reply(res, &err, r);
    return 0;
}

/* ---- the blocking pool ---------------------------------------------------- */

struct job {
    struct job *next;
    const stird_app *app;
    json_t *body;               /* owned reference */
    http_reply *r;
    void (*done)(void *arg);
    void *arg;
};

static struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued, max_queued;
    int stopping;
    size_t n_threads;
    pthread_t threads[256];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void unavailable(http_reply *r)
{
    http_problem(r, 503, "Service Unavailable", "the server is shutting down", NULL, NULL, NULL);
    r->retry_after = 1;
}

static void *pool_main(void *unused)
{
    (void)unused;
    for (;;) {
        struct job *j;
        int stopping;

        pthread_mutex_lock(&pool.lock);
        while (!pool.head && !pool.stopping)
            pthread_cond_wait(&pool.cond, &pool.lock);
        j = pool.head;
        if (j) {
            pool.head = j->next;
            if (!pool.head)
                pool.tail = NULL;
            pool.queued--;
        }
        stopping = pool.stopping;
        pthread_mutex_unlock(&pool.lock);
        if (!j)
            return NULL;        /* stopping and nothing left */

        if (stopping) {
            unavailable(j->r);
        } else {
            stir_error err;
            const json_t *req = json_object_get(j->body, "verificationRequest");
            json_t *res;
            if (!req)
                req = j->body;
            memset(&err, 0, sizeof err);
            res = stir_verify_request_ex(j->app->verifier, req, app_now(j->app), 0, &err);
            reply(res, &err, j->r);
        }
        json_decref(j->body);
        j->done(j->arg);
        free(j);
    }
}

int verification_defer(const stird_app *app, json_t *body, http_reply *r,
                       void (*done)(void *arg), void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    j->next = NULL;
    j->app = app;
    j->body = json_incref(body);
    j->r = r;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&pool.lock);
    if (pool.stopping || pool.n_threads == 0 || pool.queued >= pool.max_queued) {
        pthread_mutex_unlock(&pool.lock);
        json_decref(j->body);
        free(j);
        return -1;
    }
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pool.queued++;
    pthread_cond_signal(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

int verification_pool_start(const stird_config *cfg, char *err, size_t errlen)
{
    size_t want = (size_t)cfg->fetch_threads;
    if (want > sizeof pool.threads / sizeof pool.threads[0])
        want = sizeof pool.threads / sizeof pool.threads[0];
    pool.max_queued = (size_t)cfg->fetch_queue;
    pool.stopping = 0;
    for (pool.n_threads = 0; pool.n_threads < want; pool.n_threads++) {
        int rc = pthread_create(&pool.threads[pool.n_threads], NULL, pool_main, NULL);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start verification threads: %s", strerror(rc));
            verification_pool_stop();
            return -1;
        }
    }
    return 0;
}

void verification_pool_stop(void)
{
    struct job *j;

    pthread_mutex_lock(&pool.lock);
    pool.stopping = 1;
    j = pool.head;              /* queued, not started: answer them now */
    pool.head = pool.tail = NULL;
    pool.queued = 0;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    while (j) {
        struct job *next = j->next;
        unavailable(j->r);
        json_decref(j->body);
        j->done(j->arg);
        free(j);
        j = next;
    }
    /* Requests already being verified finish (within the fetch timeout). */
    for (size_t i = 0; i < pool.n_threads; i++)
        pthread_join(pool.threads[i], NULL);
    pool.n_threads = 0;
}
