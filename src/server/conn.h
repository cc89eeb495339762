/*
 * stird's connection layer: epoll worker threads sharing the listening
 * sockets, non-blocking connections (plain or TLS), HTTP/1.1 framing
 * (http1.h), per-client limits and absolute request deadlines.
 *
 * A listener is an entry in a table: address (a bound socket), optional
 * TLS context and a handler. The Ms API, the x5u repository and any
 * future listener (metrics) run the same code:
 *
 *   conn_listener ls[] = {
 *       {"api", api_fd, api_tls, &API_HANDLER, api_state},
 *       {"metrics", m_fd, NULL, &METRICS_HANDLER, m_state},
 *   };
 *   conn_server *s = conn_server_start(&limits, ls, 2, err, sizeof err);
 *
 * Every response goes through here, so each request gets exactly one
 * well-formed HTTP/1.1 response, and each one is access-logged here.
 */
#ifndef STIRD_CONN_H
#define STIRD_CONN_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "http.h"
#include "log.h"

typedef struct conn conn;
typedef struct conn_server conn_server;

typedef struct conn_handler {
    /*
     * The request line and headers are in. Return 0 to receive the body,
     * or 1 with the answer in `r` (then a body, if one was announced, is
     * not read and the connection closes after the answer).
     */
    int (*headers)(void *arg, conn *c, http_reply *r);
    /*
     * The whole request is in (`body` is NUL-terminated). Return 0 with the
     * answer in `r`; or 1 when it will come later: `r` stays valid, and
     * whoever fills it calls conn_resume(c) (from any thread).
     */
    int (*request)(void *arg, conn *c, const char *body, size_t len, http_reply *r);
} conn_handler;

/* The `request` of a handler whose `headers` answers every request (the
 * x5u repository, the metrics): never called. */
int conn_no_request(void *arg, conn *c, const char *body, size_t len, http_reply *r);

typedef struct conn_listener {
    const char *tag;      /* access log: "api", "x5u", "metrics" */
    int fd;               /* bound, listening, non-blocking; the server closes it */
    struct tls_slot *tls; /* NULL: plain HTTP; the caller frees it after stop */
    const conn_handler *handler;
    void *arg;
} conn_listener;

typedef struct conn_limits {
    long threads;            /* epoll worker threads */
    long max_connections;    /* in all */
    long max_per_client;     /* per client address, and per certificate identity */
    long request_timeout_ms; /* TLS handshake + request line + headers + body */
    long idle_timeout_ms;    /* between requests; also a stalled response write */
    size_t max_header_bytes; /* request line + headers: 431 above */
    size_t max_body;         /* 413 above */
    int ipv6_prefix;         /* IPv6 clients counted per this prefix; 0: /64 */
} conn_limits;

#define CONN_MAX_LISTENERS 4

conn_server *conn_server_start(const conn_limits *lim, const conn_listener *ls, size_t n, char *err,
                               size_t errlen);
/* Stop accepting, close every connection, join the workers. NULL is fine. */
void conn_server_stop(conn_server *s);

/*
 * Liveness, for the service manager's watchdog: 1 when every worker has
 * turned its event loop since the previous call, 0 when one has not.
 * Each call wakes every worker, so between two calls an idle worker turns
 * once and only a stuck one (a hung handler, a deadlock) fails the next;
 * the first call only takes the reading (1).
 * One caller at a time (it keeps what it saw last).
 */
int conn_server_alive(conn_server *s);

/* The request being handled (valid from the headers callback on). */
const char *conn_method(const conn *c);
const char *conn_path(const conn *c);                     /* without the query */
const char *conn_header(const conn *c, const char *name); /* NULL when absent */
long long conn_content_length(const conn *c);             /* -1: none (or chunked) */
int conn_chunked(const conn *c);
/* Who is calling (address; certificate identity after the TLS handshake).
 * The gate may fill `principal`. */
http_client *conn_client(conn *c);
/* A slot for the handler's own per-request state (e.g. the route). */
void conn_set_data(conn *c, const void *data);
/*
 * The same, with done(arg, c) called once the request is over (its reply
 * sent, or the connection closed before that), on the connection's
 * worker, while conn_data(c) still returns `data`: the handler frees its
 * state there (the Ms API gives back the request's `auth`).
 */
void conn_set_data_done(conn *c, const void *data, void (*done)(void *arg, conn *c), void *arg);
const void *conn_data(const conn *c);

/* A deferred answer is ready in the `r` given to the request callback. */
void conn_resume(conn *c);

#endif
