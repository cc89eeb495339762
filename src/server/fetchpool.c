/*
 * The fetch pool (see fetchpool.h): a mutex-protected FIFO of jobs and a
 * fixed set of threads. A job's reply is filled on the pool thread and
 * handed back through its done() callback (the connection layer's resume).
 */
#include "fetchpool.h"
#include "http.h"
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
    struct job *next;
    const stird_app *app;
    fetchpool_finish_fn finish;
    json_t *body;               /* owned reference */
    json_t *req;                /* owned reference */
    http_reply *r;
    void (*done)(void *arg);
    void *arg;
};

struct fetchpool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued, max_queued;
    int stopping;
    size_t n_threads;
    pthread_t *threads;
};

static void shutting_down(http_reply *r)
{
    http_problem(r, 503, "Service Unavailable", "the server is shutting down", NULL, NULL, NULL);
    r->retry_after = 1;
}

static void job_end(struct job *j)
{
    json_decref(j->req);
    json_decref(j->body);
    j->done(j->arg);
    free(j);
}

static void *pool_main(void *arg)
{
    fetchpool *p = arg;
    for (;;) {
        struct job *j;

        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        j = p->head;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = NULL;
            p->queued--;
            metrics_fetch_queue_depth((long)p->queued);
        }
        pthread_mutex_unlock(&p->lock);
        if (!j)
            return NULL;        /* stopping and nothing left */
        j->finish(j->app, j->body, j->req, j->r);
        job_end(j);
    }
}

int fetchpool_run(fetchpool *p, const stird_app *app, fetchpool_finish_fn finish, json_t *body,
                  json_t *req, http_reply *r, void (*done)(void *arg), void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (struct job){.app = app, .finish = finish, .body = json_incref(body),
                      .req = json_incref(req), .r = r, .done = done, .arg = arg};
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->n_threads == 0 || p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->lock);
        json_decref(j->req);
        json_decref(j->body);
        free(j);
        return -1;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    metrics_fetch_queue_depth((long)p->queued);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

fetchpool *fetchpool_create(size_t threads, size_t queue, char *err, size_t errlen)
{
    fetchpool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc(threads ? threads : 1, sizeof *p->threads))) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->max_queued = queue;
    for (p->n_threads = 0; p->n_threads < threads; p->n_threads++) {
        int rc = pthread_create(&p->threads[p->n_threads], NULL, pool_main, p);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start the fetch threads: %s", strerror(rc));
            fetchpool_destroy(p);
            return NULL;
        }
    }
    return p;
}

void fetchpool_destroy(fetchpool *p)
{
    struct job *j;

    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    j = p->head;              /* queued, not started: answer them now */
    p->head = p->tail = NULL;
    p->queued = 0;
    metrics_fetch_queue_depth(0);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    while (j) {
        struct job *next = j->next;
        shutting_down(j->r);
        job_end(j);
        j = next;
    }
    /* Requests already running finish (within the fetch timeout). */
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}
