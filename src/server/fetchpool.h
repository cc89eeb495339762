/*
 * The fetch pool: threads that finish requests which must first fetch
 * something (an x5u certificate, RCD content), while the connection
 * workers keep serving everything else. One pool per HTTP server, created
 * and destroyed with it; nothing global.
 */
#ifndef STIRD_FETCHPOOL_H
#define STIRD_FETCHPOOL_H

#include <stddef.h>
#include <jansson.h>
#include "app.h"

struct http_reply;
typedef void (*fetchpool_finish_fn)(const stird_app *app, const json_t *body, const json_t *req,
                                    struct http_reply *r);

typedef struct fetchpool fetchpool;

/* `threads` threads, at most `queue` jobs waiting. NULL with `err`. */
fetchpool *fetchpool_create(size_t threads, size_t queue, char *err, size_t errlen);

/*
 * Run finish(app, body, req, r) on a pool thread, then done(arg) there.
 * Takes its own references to body and req. -1 (nothing queued, done not
 * called) when the queue is full or the pool is stopping.
 */
int fetchpool_run(fetchpool *p, const stird_app *app, fetchpool_finish_fn finish, json_t *body,
                  json_t *req, struct http_reply *r, void (*done)(void *arg), void *arg);

/* Answer the queued jobs 503 (calling their done), wait for the running
 * ones, and free the pool. NULL is fine. */
void fetchpool_destroy(fetchpool *p);

#endif
