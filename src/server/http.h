/*
 * The Ms API HTTP server (routes, replies, the resource glue) over the
 * connection layer (conn.h), and the reply type the resource handlers
 * fill in.
 */
#ifndef STIRD_HTTP_H
#define STIRD_HTTP_H

#include <stddef.h>
#include <jansson.h>
#include "app.h"

#define HTTP_NOTE_MAX 160

#define HTTP_EXTRA_HEADERS_MAX 512
#define HTTP_REQUEST_ID_MAX (STIR_MS_REQUEST_ID_MAX + 1)

/* A response under construction. `body` is malloc'd (the connection layer
 * frees it once sent) unless `body_static` is set. */
typedef struct http_reply {
    unsigned status;
    char *body;
    size_t len;
    int body_static;                      /* body is not ours to free */
    const char *content_type;             /* static string */
    const char *allow;                    /* Allow header for 405, static */
    unsigned retry_after;                 /* Retry-After seconds for 503/429, 0: none */
    const char *resource;                 /* metrics: the resource answered ("signing"), static;
                                   * NULL: "other" */
    char *identity;                       /* signing 200: the Identity value signed, malloc'd (the
                                   * connection layer frees it); for the audit record */
    char headers[HTTP_EXTRA_HEADERS_MAX]; /* more "Name: value\r\n" lines */
    size_t headers_len;
    /* for the access log line */
    char note[HTTP_NOTE_MAX];
    char request_id[HTTP_REQUEST_ID_MAX]; /* the request's requestId; "" */
    char verstat[64];                     /* verification: verstatValue; "" */
    char codes[96];                       /* verification: "438,pass" per PASSporT; "" */
} http_reply;

/* Add a header to the reply (WWW-Authenticate, ...). -1 when it does not
 * fit or holds a CR, LF or NUL. */
int http_reply_header(http_reply *r, const char *name, const char *value);

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

/* A bound, listening, non-blocking TCP socket for `a`.
 * Returns the fd and the bound port, or -1 with a message in `err`. */
int http_listen_socket(const stird_addr *a, unsigned *port, char *err, size_t errlen);

/* Start listening on cfg->listen (HTTPS with tls_cert/tls_key, mutual TLS
 * with tls_client_ca; plain only with plain_http), with its own fetch
 * pool. NULL with a message in `err` on failure. */
http_server *http_start(const stird_app *app, char *err, size_t errlen);
/* The port actually bound (differs from the setting when that was 0). */
unsigned http_port(const http_server *s);
/* The API listener's TLS context for new connections (SIGHUP swaps it:
 * tls.h), NULL for plain HTTP. */
struct tls_slot *http_tls(http_server *s);
/* The port of the metrics listener; 0 when metrics_listen is none. */
unsigned http_metrics_port(const http_server *s);
/*
 * A liveness check for notify_watchdog_start (`arg` is the http_server):
 * 1 when every connection worker has run its event loop since the last
 * call. Each call also wakes every worker, so an idle one loops before
 * the next call; one that does not is stuck (a hung handler, a deadlock).
 */
int http_alive(void *arg);
void http_stop(http_server *s);

/* Request text fit for a problem detail or a log line: printable ASCII
 * ('?' for anything else), cut with "..." to fit `cap`. */
void http_clean_text(char *out, size_t cap, const char *s);

/*
 * Resource handlers (signing.c, verification.c). `body` is a JSON object.
 * They run in the HTTP worker and never block on the network: each
 * returns 0 with `r` filled, or 1 when something must first be fetched (an
 * x5u certificate, RCD content), with *later set to the request object to
 * finish (a new reference). The caller then parks the connection and
 * runs the matching *_finish on the fetch pool, where blocking is fine.
 *
 * signing_handle's `implied_ppt` is the type of a legacy per-type resource
 * (/divSigning: "div"), NULL for /signing. `signers` (n_signers names,
 * NULL: any) are the signing identities the client's policy allows.
 */
int signing_handle(const stird_app *app, const json_t *body, const char *implied_ppt,
                   const char *const *signers, size_t n_signers, http_reply *r, json_t **later);
void signing_finish(const stird_app *app, const json_t *body, const json_t *req,
                    const char *const *signers, size_t n_signers, http_reply *r);
int verification_handle(const stird_app *app, const json_t *body, http_reply *r, json_t **later);
void verification_finish(const stird_app *app, const json_t *body, const json_t *req,
                         http_reply *r);

#endif
