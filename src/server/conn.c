/*
 * The connection layer (see conn.h).
 *
 * Each worker thread has its own epoll set holding every listening socket
 * (EPOLLEXCLUSIVE: one worker wakes per new connection) and the
 * connections it accepted, which stay with it for life. Level-triggered
 * events; a connection is in one state at a time:
 *
 *   HANDSHAKE -> READ -> (WAIT: a deferred request) -> WRITE -> READ ...
 *                                                            \-> LINGER -> closed
 *
 * Timers: every timeout of a kind has the same length, so each kind is a
 * FIFO list ordered by deadline (append at the tail, expire from the
 * head): O(1) per operation, no heap.
 *   T_REQUEST  from accept (TLS handshake included), or from a request's
 *              first byte, to its last byte: absolute, never extended.
 *   T_IDLE     between keep-alive requests, and a stalled response write.
 *   T_LINGER   after the last response: drain what the client still sends
 *              so that closing does not reset the connection before it
 *              has read the answer.
 */
#include "conn.h"
#include "http1.h"
#include "metrics.h"
#include "tls.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#define IN_CAP 16384     /* read buffer per connection */
#define INLINE_BODY 1024 /* most Ms bodies fit without a malloc */
#define LINGER_MS 2000
#define CLIENT_BUCKETS 1024

enum state { S_HANDSHAKE, S_READ, S_WAIT, S_WRITE, S_LINGER };
enum timer { T_REQUEST, T_IDLE, T_LINGER, T_KINDS, T_NONE = -1 };

struct worker;

struct conn {
    struct worker *w;
    const conn_listener *l;
    int fd;
    SSL *ssl;
    enum state state;
    unsigned events; /* epoll interest now */
    int in_epoll;
    http_client client;
    int counted_identity;

    /* timers */
    int tkind;
    long long deadline;
    conn *tprev, *tnext;
    conn *prev, *next; /* every connection of the worker */
    conn *resume_next;

    /* input */
    char *in;
    size_t inpos, inlen;
    http1 h;

    /* the request */
    struct timespec t0;
    int answered; /* reply filled from the headers */
    int complete;
    int close_after;
    const void *data;
    void (*done)(void *arg, conn *c); /* conn_set_data_done */
    void *done_arg;
    char *body;
    size_t body_len, body_cap;
    char inline_body[INLINE_BODY];
    http_reply reply;

    /* output */
    char *out;
    size_t outpos, outlen, outcap;
};

/* A connection accepted and admitted by one worker for another. */
struct handoff {
    struct handoff *next;
    const conn_listener *l;
    int fd;
    http_client client;
};

struct worker {
    conn_server *s;
    pthread_t thread;
    int ep;
    int evfd;
    pthread_mutex_t lock;
    conn *resumed;            /* under lock */
    struct handoff *handoffs; /* under lock */
    conn *all;
    conn *thead[T_KINDS], *ttail[T_KINDS];
    long long now;
    atomic_ulong loops;       /* event loop turns: the watchdog's heartbeat */
    unsigned long loops_seen; /* the liveness checker's: at its last call */
};

struct client_count {
    struct client_count *next;
    unsigned n;
    char key[];
};

struct conn_server {
    conn_limits lim;
    http1_limits hlim;
    conn_listener ls[CONN_MAX_LISTENERS];
    size_t n_ls;
    size_t n_workers; /* initialized */
    size_t n_started; /* running */
    int alive_primed; /* conn_server_alive has taken its first reading */
    struct worker *workers;
    atomic_int stopping;
    atomic_uint next_worker; /* round robin of new connections */
    long timeout_ms[T_KINDS];

    pthread_mutex_t clients_lock; /* the counts below */
    long n_conns;
    struct client_count *clients[CLIENT_BUCKETS];

    char busy[400]; /* the 503 written past max_connections */
    int busy_len;
    atomic_llong refused_log_at; /* rate limit of the "refused" warning */
    atomic_long refused_since;
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- per-client counts ------------------------------------------------- */

static unsigned hash_key(const char *k)
{
    unsigned h = 2166136261u;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 16777619u;
    return h % CLIENT_BUCKETS;
}

/* Count one more connection for `key`; -1 (not counted) past `max`. */
static int client_take(conn_server *s, const char *key, long max)
{
    struct client_count **pp = &s->clients[hash_key(key)], *e;
    for (e = *pp; e && strcmp(e->key, key) != 0; e = e->next)
        ;
    if (e && (long)e->n >= max)
        return -1;
    if (!e) {
        size_t n = strlen(key) + 1;
        e = malloc(sizeof *e + n);
        if (!e)
            return -1;
        memcpy(e->key, key, n);
        e->n = 0;
        e->next = *pp;
        *pp = e;
    }
    e->n++;
    return 0;
}

static void client_release(conn_server *s, const char *key)
{
    struct client_count **pp = &s->clients[hash_key(key)], *e;
    for (; (e = *pp) && strcmp(e->key, key) != 0; pp = &e->next)
        ;
    if (e && --e->n == 0) {
        *pp = e->next;
        free(e);
    }
}

/* IPv6 clients are counted per prefix (client_ipv6_prefix, default /64):
 * one subscriber holds a whole /64, so per /128 it would be unlimited. */
static void addr_key(const conn_server *s, char *key, size_t cap, const http_client *c)
{
    key[0] = 'a';
    client_addr_key(c->addr, s->lim.ipv6_prefix, key + 1, cap - 1);
}

static void identity_key(char *key, size_t cap, const http_client *c)
{
    snprintf(key, cap, "i%s", c->identity);
}

/* At most one warning a second for refused connections, with a count. */
static void log_refused(conn_server *s, const char *why, const http_client *c)
{
    long long now = now_ms(), last = atomic_load(&s->refused_log_at);
    long n = atomic_fetch_add(&s->refused_since, 1) + 1;
    if (now - last < 1000 || !atomic_compare_exchange_strong(&s->refused_log_at, &last, now))
        return;
    atomic_store(&s->refused_since, 0);
    log_msg(LOG_LVL_WARN, "connection from %s refused: %s (%ld refused in the last second)",
            c->addr[0] ? c->addr : "-", why, n);
}

/* ---- timers ------------------------------------------------------------ */

static void timer_stop(conn *c)
{
    struct worker *w = c->w;
    if (c->tkind == T_NONE)
        return;
    if (c->tprev)
        c->tprev->tnext = c->tnext;
    else
        w->thead[c->tkind] = c->tnext;
    if (c->tnext)
        c->tnext->tprev = c->tprev;
    else
        w->ttail[c->tkind] = c->tprev;
    c->tprev = c->tnext = NULL;
    c->tkind = T_NONE;
}

/* Start a timer of `kind` now (its length is the kind's). */
static void timer_start(conn *c, enum timer kind)
{
    struct worker *w = c->w;
    timer_stop(c);
    c->tkind = kind;
    c->deadline = w->now + w->s->timeout_ms[kind];
    c->tprev = w->ttail[kind];
    c->tnext = NULL;
    if (w->ttail[kind])
        w->ttail[kind]->tnext = c;
    else
        w->thead[kind] = c;
    w->ttail[kind] = c;
}

/* ---- connection lifetime ----------------------------------------------- */

static void set_events(conn *c, unsigned ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (c->in_epoll && ev == c->events)
        return;
    if (epoll_ctl(c->w->ep, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == 0) {
        c->in_epoll = 1;
        c->events = ev;
    }
}

static void reply_clear(http_reply *r)
{
    if (!r->body_static)
        free(r->body);
    free(r->identity);
    memset(r, 0, offsetof(http_reply, headers));
    r->headers_len = 0;
    r->headers[0] = r->note[0] = r->request_id[0] = r->verstat[0] = r->codes[0] = '\0';
}

/* The handler's per-request state is finished with. */
static void request_done(conn *c)
{
    if (c->done)
        c->done(c->done_arg, c);
    c->done = NULL;
    c->data = NULL;
}

static void conn_free(conn *c)
{
    struct worker *w = c->w;
    conn_server *s = w->s;
    char key[300];

    request_done(c);
    timer_stop(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
    pthread_mutex_lock(&s->clients_lock);
    s->n_conns--;
    addr_key(s, key, sizeof key, &c->client);
    client_release(s, key);
    if (c->counted_identity) {
        identity_key(key, sizeof key, &c->client);
        client_release(s, key);
    }
    pthread_mutex_unlock(&s->clients_lock);
    http1_free(&c->h);
    reply_clear(&c->reply);
    if (c->body != c->inline_body)
        free(c->body);
    free(c->in);
    free(c->out);
    free(c);
}

/* No more responses: send what is queued, then drain and close. */
static void begin_linger(conn *c)
{
    if (c->ssl)
        SSL_shutdown(c->ssl); /* close_notify; we do not wait for the peer's */
    shutdown(c->fd, SHUT_WR);
    c->state = S_LINGER;
    timer_start(c, T_LINGER);
    set_events(c, EPOLLIN);
}

/* ---- I/O ------------------------------------------------------------------ */

enum io { IO_OK, IO_AGAIN, IO_EOF, IO_ERROR };

static enum io tls_status(conn *c, int rc)
{
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        set_events(c, EPOLLIN);
        return IO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        set_events(c, EPOLLOUT);
        return IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return IO_EOF;
    default:
        ERR_clear_error();
        return IO_ERROR;
    }
}

static enum io conn_read(conn *c, char *buf, size_t cap, size_t *got)
{
    if (c->ssl) {
        int rc = SSL_read(c->ssl, buf, cap > 1 << 30 ? 1 << 30 : (int)cap);
        if (rc > 0) {
            *got = (size_t)rc;
            return IO_OK;
        }
        return tls_status(c, rc);
    }
    for (;;) {
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n > 0) {
            *got = (size_t)n;
            return IO_OK;
        }
        if (n == 0)
            return IO_EOF;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERROR;
    }
}

/* Write what is queued. IO_OK when all is out. */
static enum io flush_out(conn *c)
{
    while (c->outpos < c->outlen) {
        size_t left = c->outlen - c->outpos;
        if (c->ssl) {
            int rc = SSL_write(c->ssl, c->out + c->outpos, left > 1 << 30 ? 1 << 30 : (int)left);
            if (rc <= 0)
                return tls_status(c, rc);
            c->outpos += (size_t)rc;
        } else {
            ssize_t n = send(c->fd, c->out + c->outpos, left, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    set_events(c, EPOLLOUT);
                    return IO_AGAIN;
                }
                return IO_ERROR;
            }
            c->outpos += (size_t)n;
        }
    }
    c->outpos = c->outlen = 0;
    return IO_OK;
}

static int out_reserve(conn *c, size_t more)
{
    if (c->outlen + more <= c->outcap)
        return 0;
    size_t cap = c->outcap ? c->outcap : 2048;
    while (cap < c->outlen + more)
        cap *= 2;
    char *nb = realloc(c->out, cap);
    if (!nb)
        return -1;
    c->out = nb;
    c->outcap = cap;
    return 0;
}

static void out_put(conn *c, const char *s, size_t n)
{
    memcpy(c->out + c->outlen, s, n);
    c->outlen += n;
}

/* ---- responses ------------------------------------------------------------ */

static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7), cached per second. */
static const char *http_date(void)
{
    static __thread time_t cached = -1;
    static __thread char buf[40];
    time_t now = time(NULL);
    if (now != cached) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = now;
    }
    return buf;
}

static const char OOM_BODY[] =
    "{\"title\":\"Internal Server Error\",\"status\":500,\"detail\":\"out of memory\","
    "\"cause\":\"SYSTEM_FAILURE\"}";

/*
 * The status line and header fields are appended, not printed: snprintf
 * was 3.5 % of a signing request's instructions (callgrind), more than
 * the rest of the HTTP layer. A field that would not fit marks the head
 * as overflowed, and an overflowed head is never sent.
 */
struct head {
    char buf[1024];
    size_t n;
    int overflow;
};

static void head_put(struct head *h, const char *s, size_t n)
{
    if (n > sizeof h->buf - h->n) {
        h->overflow = 1;
        return;
    }
    memcpy(h->buf + h->n, s, n);
    h->n += n;
}

static void head_str(struct head *h, const char *s)
{
    head_put(h, s, strlen(s));
}

static void head_uint(struct head *h, unsigned long long v)
{
    char digits[24], *e = digits + sizeof digits, *d = e;
    do
        *--d = (char)('0' + v % 10);
    while (v /= 10);
    head_put(h, d, (size_t)(e - d));
}

/* "Name: value\r\n" */
static void head_field(struct head *h, const char *name, const char *value)
{
    head_str(h, name);
    head_str(h, value);
    head_put(h, "\r\n", 2);
}

/* Queue the response in c->reply and access-log it. Returns -1 when it
 * cannot be queued (out of memory: the connection is closed). */
static int queue_reply(conn *c)
{
    http_reply *r = &c->reply;
    struct head h; /* not zero-filled: 1 KiB per response for nothing */
    const char *body = r->body;
    size_t blen = r->len;
    int head_only = strcmp(c->h.method, "HEAD") == 0;
    long long lat;
    struct timespec t1;

    if (r->status == 0) /* a handler that said nothing */
        r->status = 500;
    if (!body && (r->status >= 400 || r->content_type)) {
        r->status = 500; /* a problem that could not be built */
        r->content_type = "application/problem+json";
        body = OOM_BODY;
        blen = sizeof OOM_BODY - 1;
    }
    if (r->status >= 400 && !c->h.headers_done)
        c->close_after = 1;
    h.n = 0;
    h.overflow = 0;
    head_str(&h, "HTTP/1.1 ");
    head_uint(&h, r->status);
    head_put(&h, " ", 1);
    head_str(&h, reason_phrase(r->status));
    head_put(&h, "\r\n", 2);
    head_field(&h, "Date: ", http_date());
    if (r->content_type)
        head_field(&h, "Content-Type: ", r->content_type);
    head_str(&h, "Content-Length: ");
    head_uint(&h, blen);
    head_put(&h, "\r\n", 2);
    if (r->allow)
        head_field(&h, "Allow: ", r->allow);
    if (r->retry_after) {
        head_str(&h, "Retry-After: ");
        head_uint(&h, r->retry_after);
        head_put(&h, "\r\n", 2);
    }
    if (c->close_after)
        head_str(&h, "Connection: close\r\n");
    else if (c->h.version_minor == 0)
        head_str(&h, "Connection: keep-alive\r\n");
    if (h.overflow || h.n + r->headers_len + 3 > sizeof h.buf ||
        out_reserve(c, h.n + r->headers_len + 2 + blen) != 0)
        return -1;
    out_put(c, h.buf, h.n);
    out_put(c, r->headers, r->headers_len);
    out_put(c, "\r\n", 2);
    if (!head_only && blen)
        out_put(c, body, blen);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    lat = c->t0.tv_sec ? (long long)(t1.tv_sec - c->t0.tv_sec) * 1000000LL +
                             (t1.tv_nsec - c->t0.tv_nsec) / 1000
                       : 0;
    log_access(&(log_access_rec){.tag = c->l->tag,
                                 .client = &c->client,
                                 .method = c->h.method[0] ? c->h.method : NULL,
                                 .path = c->h.headers_done ? c->h.path : NULL,
                                 .status = r->status,
                                 .latency_us = lat,
                                 .request_id = r->request_id[0] ? r->request_id : NULL,
                                 .verstat = r->verstat[0] ? r->verstat : NULL,
                                 .codes = r->codes[0] ? r->codes : NULL,
                                 .note = r->note});
    metrics_request(r->resource, r->status, lat);
    if (r->status == 413)
        metrics_refusal(METRICS_REFUSED_SIZE);
    reply_clear(r);
    return 0;
}

static void problem(conn *c, unsigned status, const char *detail)
{
    reply_clear(&c->reply);
    http_problem(&c->reply, status, reason_phrase(status), detail, NULL, NULL, NULL);
}

/* These return -1 when the connection is gone (freed), else 0. */
static int process(conn *c);

/*
 * The response of the current request is out: ready for the next request,
 * or close. It does not parse the next request itself: serve() does, in a
 * loop. (Calling back into the parser from here nested one stack frame
 * set per pipelined request, and with TLS read-ahead a client that keeps
 * its pipe full grew a worker's stack without bound.)
 */
static int after_response(conn *c)
{
    request_done(c);
    if (c->close_after) {
        begin_linger(c);
        return 0;
    }
    http1_next(&c->h);
    c->answered = c->complete = 0;
    c->body_len = 0;
    c->t0.tv_sec = 0;
    c->state = S_READ;
    set_events(c, EPOLLIN);
    timer_start(c, T_IDLE); /* process() starts T_REQUEST at the next byte */
    return 0;
}

/* Send the queued output; on to the next request when it is all out. */
static int send_now(conn *c)
{
    switch (flush_out(c)) {
    case IO_OK:
        return after_response(c);
    case IO_AGAIN:
        c->state = S_WRITE;
        timer_start(c, T_IDLE);
        return 0;
    default:
        conn_free(c);
        return -1;
    }
}

static int respond(conn *c)
{
    if (queue_reply(c) != 0) {
        conn_free(c);
        return -1;
    }
    return send_now(c);
}

/* ---- http1 events ---------------------------------------------------------- */

static int body_expected(const conn *c)
{
    return c->h.chunked || c->h.content_length > 0;
}

static int ev_headers(void *arg)
{
    conn *c = arg;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    if (!c->h.keep_alive)
        c->close_after = 1;
    if (c->l->handler->headers(c->l->arg, c, &c->reply)) {
        c->answered = 1;
        if (body_expected(c)) { /* refused from its headers: do not read the body */
            c->close_after = 1;
            return 1;
        }
        return 0; /* nothing more to read: complete follows */
    }
    if (c->h.expect_continue && c->h.version_minor >= 1 && body_expected(c)) {
        static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (out_reserve(c, sizeof CONTINUE - 1) == 0) {
            out_put(c, CONTINUE, sizeof CONTINUE - 1);
            switch (flush_out(c)) {
            case IO_ERROR:
                c->close_after = 1;
                break;
            case IO_AGAIN:
                set_events(c, EPOLLIN | EPOLLOUT);
                break;
            default:
                break;
            }
        }
    }
    return 0;
}

static int ev_body(void *arg, const char *data, size_t len)
{
    conn *c = arg;
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap * 2;
        char *nb;
        while (cap < c->body_len + len + 1)
            cap *= 2;
        if (c->body == c->inline_body) {
            nb = malloc(cap);
            if (nb)
                memcpy(nb, c->body, c->body_len);
        } else {
            nb = realloc(c->body, cap);
        }
        if (!nb)
            return -1;
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, len);
    c->body_len += len;
    return 0;
}

static void ev_complete(void *arg)
{
    ((conn *)arg)->complete = 1;
}

static const http1_events EVENTS = {ev_headers, ev_body, ev_complete};

/* The request is in: run it. */
static int dispatch(conn *c)
{
    c->body[c->body_len] = '\0';
    if (c->l->handler->request(c->l->arg, c, c->body, c->body_len, &c->reply)) {
        c->state = S_WAIT; /* out of epoll until conn_resume */
        timer_stop(c);
        epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        c->in_epoll = 0;
        return 0;
    }
    return respond(c);
}

/* Parse what has been read. */
static int process(conn *c)
{
    while (c->state == S_READ && c->inpos < c->inlen) {
        size_t n;
        if (!http1_started(&c->h) && c->tkind == T_IDLE)
            timer_start(c, T_REQUEST); /* a new request: its deadline starts */
        n = http1_feed(&c->h, c->in + c->inpos, c->inlen - c->inpos);
        c->inpos += n;
        if (c->h.err_status) {
            c->close_after = 1;
            problem(c, c->h.err_status, c->h.err_detail);
            return respond(c);
        }
        if (c->complete)
            return c->answered ? respond(c) : dispatch(c);
        if (c->answered) /* refused from the headers */
            return respond(c);
        if (n == 0)
            break;
    }
    if (c->inpos == c->inlen)
        c->inpos = c->inlen = 0;
    return 0;
}

/*
 * Serve a readable connection: parse the requests already buffered
 * (pipelined ones, or bytes TLS read ahead), then read more, until the
 * connection waits for the socket, its reply, or its handler. `read_more`:
 * the socket is known readable (an epoll event); without it only what is
 * buffered is served (after a reply went out).
 */
static int serve(conn *c, int read_more)
{
    for (;;) {
        size_t got = 0, room;
        enum io st;
        while (c->state == S_READ && c->inpos < c->inlen) {
            size_t pos = c->inpos, len = c->inlen;
            if (process(c) != 0)
                return -1;
            if (c->state == S_READ && c->inpos == pos && c->inlen == len)
                break; /* the parser is paused on a full buffer */
        }
        if (c->state != S_READ)
            return 0;
        /* The socket is level-triggered: epoll says when there is more.
         * TLS may hold bytes read ahead (a record not yet returned): only
         * then read again before waiting. */
        if (!read_more && !(c->ssl && SSL_has_pending(c->ssl)))
            return 0;
        if (c->inpos == c->inlen)
            c->inpos = c->inlen = 0;
        room = IN_CAP - c->inlen;
        if (room == 0)
            return 0; /* the parser is paused on a full buffer */
        st = conn_read(c, c->in + c->inlen, room, &got);
        if (st == IO_AGAIN)
            return 0;
        if (st != IO_OK) { /* the client went away */
            conn_free(c);
            return -1;
        }
        c->inlen += got;
        read_more = got == room;
    }
}

static int on_readable(conn *c)
{
    return serve(c, 1);
}

static void handshake(conn *c)
{
    conn_server *s = c->w->s;
    int rc = SSL_do_handshake(c->ssl);
    if (rc != 1) {
        if (tls_status(c, rc) != IO_AGAIN)
            conn_free(c); /* refused: protocol, no or bad client certificate */
        return;
    }
    tls_client_identity(c->ssl, &c->client);
    if (c->client.identity[0]) {
        char key[300];
        int ok;
        identity_key(key, sizeof key, &c->client);
        pthread_mutex_lock(&s->clients_lock);
        ok = client_take(s, key, s->lim.max_per_client) == 0;
        pthread_mutex_unlock(&s->clients_lock);
        if (!ok) {
            metrics_refusal(METRICS_REFUSED_CONNECTIONS);
            log_refused(s, "too many connections for this client certificate", &c->client);
            conn_free(c);
            return;
        }
        c->counted_identity = 1;
    }
    c->state = S_READ;
    set_events(c, EPOLLIN);
    on_readable(c);
}

static void on_event(conn *c, unsigned ev)
{
    switch (c->state) {
    case S_HANDSHAKE:
        handshake(c);
        break;
    case S_READ:
        if (c->outlen && (ev & EPOLLOUT)) { /* a 100 Continue still going out */
            if (flush_out(c) == IO_ERROR) {
                conn_free(c);
                return;
            }
            if (!c->outlen)
                set_events(c, EPOLLIN);
        }
        on_readable(c);
        break;
    case S_WRITE:
        if (send_now(c) == 0)
            serve(c, 0); /* requests that came in meanwhile */
        break;
    case S_LINGER: {
        char buf[4096];
        size_t got;
        enum io st;
        while ((st = conn_read(c, buf, sizeof buf, &got)) == IO_OK)
            ;
        if (st != IO_AGAIN)
            conn_free(c);
        break;
    }
    case S_WAIT:
        break;
    }
}

/* ---- accept -------------------------------------------------------------- */

#define BUSY_BODY                                                                           \
    "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"too many connections; " \
    "retry later\",\"cause\":\"NF_CONGESTION\"}"

/*
 * Count a new connection in, in accept order (so that a client's newest
 * connections are the ones refused). Returns 0 when admitted; a refused
 * one is closed here.
 */
static int admit(conn_server *s, const conn_listener *l, int fd, const http_client *client)
{
    char key[300];
    int busy = 0, over = 0;

    addr_key(s, key, sizeof key, client);
    pthread_mutex_lock(&s->clients_lock);
    if (s->n_conns >= s->lim.max_connections)
        busy = 1;
    else if (client_take(s, key, s->lim.max_per_client) != 0)
        over = 1;
    else
        s->n_conns++;
    pthread_mutex_unlock(&s->clients_lock);
    if (busy || over) {
        /* Refused at once. A plain client over the global limit gets a
         * 503 written straight into its socket buffer; TLS cannot. */
        if (busy && !l->tls && send(fd, s->busy, (size_t)s->busy_len, MSG_NOSIGNAL) > 0)
            shutdown(fd, SHUT_WR);
        close(fd);
        metrics_refusal(METRICS_REFUSED_CONNECTIONS);
        log_refused(s,
                    busy ? "max_connections reached"
                         : "too many connections from this address (or IPv6 prefix)",
                    client);
        return -1;
    }
    return 0;
}

/* Make an admitted connection part of worker `w`. */
static void attach(struct worker *w, const conn_listener *l, int fd, const http_client *client)
{
    conn_server *s = w->s;
    char key[300];
    int one = 1;
    conn *c;

    c = calloc(1, sizeof *c);
    if (c)
        c->in = malloc(IN_CAP);
    if (c && l->tls)
        c->ssl = tls_slot_ssl(l->tls);
    if (!c || !c->in || (l->tls && !c->ssl)) {
        if (c) {
            free(c->in);
            free(c);
        }
        close(fd);
        addr_key(s, key, sizeof key, client);
        pthread_mutex_lock(&s->clients_lock);
        s->n_conns--;
        client_release(s, key);
        pthread_mutex_unlock(&s->clients_lock);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->w = w;
    c->l = l;
    c->fd = fd;
    c->client = *client;
    c->tkind = T_NONE;
    c->body = c->inline_body;
    c->body_cap = sizeof c->inline_body;
    http1_init(&c->h, &s->hlim, &EVENTS, c);
    c->next = w->all;
    if (w->all)
        w->all->prev = c;
    w->all = c;
    timer_start(c, T_REQUEST); /* the handshake counts */
    if (c->ssl) {
        SSL_set_fd(c->ssl, fd);
        SSL_set_accept_state(c->ssl);
        c->state = S_HANDSHAKE;
    } else {
        c->state = S_READ;
    }
    set_events(c, EPOLLIN);
    if (!c->in_epoll)
        conn_free(c);
}

static void wake(struct worker *w)
{
    uint64_t one = 1;
    if (write(w->evfd, &one, sizeof one) < 0) {
        /* the counter cannot overflow in practice; the worker polls anyway */
    }
}

/*
 * One worker wakes per new connection (EPOLLEXCLUSIVE) and accepts what is
 * queued; the connections are dealt round robin to the workers, because a
 * burst (a client opening 16 connections at once) would otherwise all land
 * on the worker that woke.
 */
static void on_accept(struct worker *w, const conn_listener *l)
{
    conn_server *s = w->s;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        struct worker *to;
        struct handoff *h;
        http_client client;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                log_msg(LOG_LVL_ERROR, "accept: %s (raise the open file limit)", strerror(errno));
            return;
        }
        log_client_from_sockaddr(&client, (struct sockaddr *)&ss);
        if (admit(s, l, fd, &client) != 0)
            continue;
        to = &s->workers[atomic_fetch_add(&s->next_worker, 1) % s->n_workers];
        if (to == w || !(h = malloc(sizeof *h))) {
            attach(w, l, fd, &client);
            continue;
        }
        h->l = l;
        h->fd = fd;
        h->client = client;
        pthread_mutex_lock(&to->lock);
        h->next = to->handoffs;
        to->handoffs = h;
        pthread_mutex_unlock(&to->lock);
        wake(to);
    }
}

/* ---- timeouts ---------------------------------------------------------- */

static void expire(conn *c)
{
    int kind = c->tkind;
    timer_stop(c);
    if (kind == T_REQUEST && c->state == S_READ && http1_started(&c->h) && !c->outlen) {
        /* The request did not arrive in time: say so once, then close. */
        c->close_after = 1;
        problem(c, 408, "the request was not received within the request timeout");
        if (queue_reply(c) == 0 && flush_out(c) == IO_OK) {
            begin_linger(c);
            return;
        }
    }
    conn_free(c);
}

static int next_timeout(struct worker *w)
{
    long long first = -1;
    for (int k = 0; k < T_KINDS; k++)
        if (w->thead[k] && (first < 0 || w->thead[k]->deadline < first))
            first = w->thead[k]->deadline;
    if (first < 0)
        return 1000;
    return first <= w->now ? 0 : first - w->now > 1000 ? 1000 : (int)(first - w->now);
}

static void run_timers(struct worker *w)
{
    for (int k = 0; k < T_KINDS; k++)
        while (w->thead[k] && w->thead[k]->deadline <= w->now)
            expire(w->thead[k]);
}

/* ---- deferred requests ---------------------------------------------------- */

void conn_resume(conn *c)
{
    struct worker *w = c->w;
    pthread_mutex_lock(&w->lock);
    c->resume_next = w->resumed;
    w->resumed = c;
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

static void on_resumed(struct worker *w)
{
    uint64_t v;
    conn *c;
    if (read(w->evfd, &v, sizeof v) < 0) {
        /* nothing to read: another wake-up already took it */
    }
    struct handoff *h;

    pthread_mutex_lock(&w->lock);
    c = w->resumed;
    w->resumed = NULL;
    h = w->handoffs;
    w->handoffs = NULL;
    pthread_mutex_unlock(&w->lock);
    while (h) {
        struct handoff *next = h->next;
        attach(w, h->l, h->fd, &h->client);
        free(h);
        h = next;
    }
    while (c) {
        conn *next = c->resume_next;
        assert(c->state == S_WAIT);
        c->state = S_READ;
        set_events(c, EPOLLIN);
        if (!c->in_epoll)
            conn_free(c);
        else if (respond(c) == 0)
            serve(c, 0); /* pipelined requests behind the deferred one */
        c = next;
    }
}

/* ---- workers ------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    conn_server *s = w->s;
    struct epoll_event evs[128];

    while (!atomic_load(&s->stopping)) {
        int n;
        atomic_fetch_add_explicit(&w->loops, 1, memory_order_relaxed);
        w->now = now_ms();
        log_batch_flush(); /* the access lines of the last pass, before sleeping */
        n = epoll_wait(w->ep, evs, 128, next_timeout(w));
        w->now = now_ms();
        log_batch_begin(n > 1);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == (void *)w) {
                on_resumed(w);
            } else if ((char *)p >= (char *)s->ls && (char *)p < (char *)(s->ls + s->n_ls)) {
                on_accept(w, p);
            } else {
                on_event(p, evs[i].events);
            }
        }
        run_timers(w);
    }
    /* Stopping: close everything this worker holds. */
    pthread_mutex_lock(&w->lock);
    w->resumed = NULL;
    while (w->handoffs) {
        struct handoff *h = w->handoffs;
        w->handoffs = h->next;
        close(h->fd);
        free(h);
    }
    pthread_mutex_unlock(&w->lock);
    while (w->all)
        conn_free(w->all);
    log_batch_flush();
    return NULL;
}

conn_server *conn_server_start(const conn_limits *lim, const conn_listener *ls, size_t n, char *err,
                               size_t errlen)
{
    conn_server *s = calloc(1, sizeof *s);
    size_t started = 0; /* workers initialized */

    if (!s || n > CONN_MAX_LISTENERS) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
    s->lim = *lim;
    if (s->lim.threads < 1)
        s->lim.threads = 1;
    s->hlim.max_header_bytes = lim->max_header_bytes;
    s->hlim.max_body = lim->max_body;
    memcpy(s->ls, ls, n * sizeof *ls);
    s->n_ls = n;
    s->timeout_ms[T_REQUEST] = lim->request_timeout_ms;
    s->timeout_ms[T_IDLE] = lim->idle_timeout_ms;
    s->timeout_ms[T_LINGER] = LINGER_MS;
    s->busy_len = snprintf(s->busy, sizeof s->busy,
                           "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                           "application/problem+json\r\nRetry-After: 1\r\nConnection: close\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           sizeof BUSY_BODY - 1, BUSY_BODY);
    pthread_mutex_init(&s->clients_lock, NULL);
    s->workers = calloc((size_t)s->lim.threads, sizeof *s->workers);
    if (!s->workers) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (; started < (size_t)s->lim.threads; started++) {
        struct worker *w = &s->workers[started];
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = w};
        w->s = s;
        pthread_mutex_init(&w->lock, NULL);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->ep < 0 || w->evfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &e) != 0) {
            snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
            goto fail_one;
        }
        for (size_t i = 0; i < n; i++) {
            struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &s->ls[i]};
            if (epoll_ctl(w->ep, EPOLL_CTL_ADD, s->ls[i].fd, &le) != 0) {
                snprintf(err, errlen, "cannot watch the listening socket: %s", strerror(errno));
                goto fail_one;
            }
        }
        s->n_workers++;
        continue;
    fail_one:
        if (w->ep >= 0)
            close(w->ep);
        if (w->evfd >= 0)
            close(w->evfd);
        pthread_mutex_destroy(&w->lock);
        goto fail;
    }
    /* Every worker exists before any runs: a running one deals connections
     * to all of them. */
    for (; s->n_started < s->n_workers; s->n_started++)
        if (pthread_create(&s->workers[s->n_started].thread, NULL, worker_main,
                           &s->workers[s->n_started]) != 0) {
            snprintf(err, errlen, "cannot start the worker threads");
            goto fail;
        }
    return s;
fail:
    conn_server_stop(s);
    return NULL;
}

void conn_server_stop(conn_server *s)
{
    uint64_t one = 1;
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    for (size_t i = 0; i < s->n_started; i++)
        if (write(s->workers[i].evfd, &one, sizeof one) < 0) {
            /* it wakes within a second anyway */
        }
    for (size_t i = 0; i < s->n_started; i++)
        pthread_join(s->workers[i].thread, NULL);
    for (size_t i = 0; i < s->n_workers; i++) {
        struct worker *w = &s->workers[i];
        while (w->handoffs) { /* handed over after that worker stopped */
            struct handoff *h = w->handoffs;
            w->handoffs = h->next;
            close(h->fd);
            free(h);
        }
        close(w->ep);
        close(w->evfd);
        pthread_mutex_destroy(&w->lock);
    }
    for (size_t i = 0; i < s->n_ls; i++)
        close(s->ls[i].fd);
    for (size_t i = 0; i < CLIENT_BUCKETS; i++)
        while (s->clients[i]) {
            struct client_count *e = s->clients[i];
            s->clients[i] = e->next;
            free(e);
        }
    pthread_mutex_destroy(&s->clients_lock);
    free(s->workers);
    free(s);
}

int conn_server_alive(conn_server *s)
{
    /* The first call only takes the reading and wakes the workers: an idle
     * worker has had no reason to turn its loop before it. */
    int alive = 1, judge = s->alive_primed;
    s->alive_primed = 1;
    for (size_t i = 0; i < s->n_started; i++) {
        struct worker *w = &s->workers[i];
        unsigned long loops = atomic_load_explicit(&w->loops, memory_order_relaxed);
        if (judge && loops == w->loops_seen)
            alive = 0;
        w->loops_seen = loops;
        wake(w); /* an idle worker turns its loop once for the next call */
    }
    return alive;
}

/* ---- the request, for handlers ------------------------------------------- */

const char *conn_method(const conn *c)
{
    return c->h.method;
}

const char *conn_path(const conn *c)
{
    return c->h.path;
}

const char *conn_header(const conn *c, const char *name)
{
    return http1_header(&c->h, name);
}

long long conn_content_length(const conn *c)
{
    return c->h.content_length;
}

int conn_chunked(const conn *c)
{
    return c->h.chunked;
}

http_client *conn_client(conn *c)
{
    return &c->client;
}

void conn_set_data(conn *c, const void *data)
{
    c->data = data;
    c->done = NULL;
}

void conn_set_data_done(conn *c, const void *data, void (*done)(void *arg, conn *c), void *arg)
{
    c->data = data;
    c->done = done;
    c->done_arg = arg;
}

const void *conn_data(const conn *c)
{
    return c->data;
}

int conn_no_request(void *arg, conn *c, const char *body, size_t len, http_reply *r)
{
    (void)arg;
    (void)c;
    (void)body;
    (void)len;
    (void)r;
    assert(!"conn_no_request: the headers callback answers every request");
    return 0;
}
