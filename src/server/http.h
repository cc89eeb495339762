/*
 * The Ms API HTTP server (libmicrohttpd) and the reply type the resource
 * handlers fill in.
 */
#ifndef STIRD_HTTP_H
#define STIRD_HTTP_H

#include <stddef.h>
#include <jansson.h>
#include "app.h"

#define HTTP_NOTE_MAX 160

/* A response under construction. `body` is malloc'd and handed to MHD. */
typedef struct http_reply {
    unsigned status;
    char *body;
    size_t len;
    const char *content_type;     /* static string */
    const char *allow;            /* Allow header for 405, static */
    unsigned retry_after;         /* Retry-After seconds for 503, 0: none */
    char note[HTTP_NOTE_MAX];     /* extra for the access log line */
} http_reply;

/* Serialize `obj` (JSON_COMPACT) as a 200/`status` application/json reply.
 * Takes the reference to `obj`. */
void http_reply_json(http_reply *r, unsigned status, json_t *obj);

/*
 * An RFC 7807 / TS 29.500 ProblemDetails reply (application/problem+json):
 * {"title","status","detail","cause"?,"invalidParams":[{"param","reason"}]?}.
 * `cause`, `param` may be NULL.
 */
void http_problem(http_reply *r, unsigned status, const char *title, const char *detail,
                  const char *cause, const char *param, const char *reason);

/* Map a libstir error on a request body to a 400/500 problem. */
void http_problem_from_stir(http_reply *r, const stir_error *err);

typedef struct http_server http_server;

/* A bound, listening, non-blocking TCP socket for `a` (MHD takes it over).
 * Returns the fd and the bound port, or -1 with a message in `err`. */
int http_listen_socket(const stird_addr *a, unsigned *port, char *err, size_t errlen);

/* Start listening on cfg->listen. NULL with a message in `err` on failure. */
http_server *http_start(const stird_app *app, char *err, size_t errlen);
/* The port actually bound (differs from the setting when that was 0). */
unsigned http_port(const http_server *s);
void http_stop(http_server *s);

/*
 * The request object of a resource: body[name] when the body has that
 * wrapper member ({"signingRequest": {...}}), else the body itself.
 * NULL (and a 400 in `r`) when the wrapper is not an object.
 */
const json_t *http_unwrap(const json_t *body, const char *name, http_reply *r);

/* Request text fit for a problem detail or a log line: printable ASCII
 * ('?' for anything else), cut with "..." to fit `cap`. */
void http_clean_text(char *out, size_t cap, const char *s);

/*
 * Resource handlers (signing.c, verification.c). `body` is a JSON object.
 * They run in the HTTP worker and never block on the network: each
 * returns 0 with `r` filled, or 1 when something must first be fetched (an
 * x5u certificate, RCD content), with *later set to the request object to
 * finish (a new reference). The caller then suspends the connection and
 * runs the matching *_finish on the fetch pool, where blocking is fine.
 *
 * signing_handle's `implied_ppt` is the type of a legacy per-type resource
 * (/divSigning: "div"), NULL for /signing.
 */
int signing_handle(const stird_app *app, const json_t *body, const char *implied_ppt,
                   http_reply *r, json_t **later);
void signing_finish(const stird_app *app, const json_t *body, const json_t *req, http_reply *r);
int verification_handle(const stird_app *app, const json_t *body, http_reply *r,
                        json_t **later);
void verification_finish(const stird_app *app, const json_t *body, const json_t *req,
                         http_reply *r);

/*
 * The fetch pool (`fetch_threads` threads, `fetch_queue` waiting requests)
 * that finishes deferred requests. Start it before http_start(); stop it
 * before http_stop(): queued requests are answered 503 and every suspended
 * connection is resumed, which needs the daemon still running.
 */
int fetch_pool_start(const stird_config *cfg, char *err, size_t errlen);
void fetch_pool_stop(void);

#endif
