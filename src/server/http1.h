/*
 * HTTP/1.1 request framing: Debian's http-parser (libhttp-parser 2.9.4,
 * the parser Node.js used for a decade) behind a small interface, plus
 * stird's own strict checks once the headers are in (RFC 9112 6.3:
 * Content-Length exactly 1*DIGIT and given once, no Content-Length with
 * Transfer-Encoding, only "chunked", Host on HTTP/1.1).
 *
 * Only this file knows the parser, so it can be swapped for llhttp (the
 * successor, not yet in Debian) without touching the connection layer.
 */
#ifndef STIRD_HTTP1_H
#define STIRD_HTTP1_H

#include <stddef.h>
#include <http_parser.h>

#define HTTP1_MAX_HEADERS 64
#define HTTP1_MAX_TARGET 2048 /* request-target bytes; longer: 414 */

typedef struct http1_limits {
    size_t max_header_bytes; /* request line + headers; more: 431 */
    size_t max_body;         /* more: 413 */
} http1_limits;

/* What the parser tells its user. */
typedef struct http1_events {
    /* The request line and headers are in and pass the checks. Return 0 to
     * receive the body, 1 to stop here (the request was answered). */
    int (*headers)(void *arg);
    /* A piece of the body (already de-chunked). */
    int (*body)(void *arg, const char *data, size_t len);
    /* The whole request is in; parsing pauses until http1_next(). */
    void (*complete)(void *arg);
} http1_events;

typedef struct http1 {
    http_parser p;
    http_parser_settings settings;
    const http1_limits *lim;
    const http1_events *ev;
    void *arg;

    /* The request being received. Names and values are NUL-terminated
     * copies in `hbuf`, so the input buffer can be reused. */
    char method[24];
    int version_major, version_minor;
    const char *target; /* the raw request-target */
    const char *path;   /* target up to '?' */
    size_t n_headers;
    struct {
        size_t name, value;
    } headers[HTTP1_MAX_HEADERS]; /* offsets in hbuf */
    long long content_length;     /* -1: none */
    int chunked;
    int keep_alive;
    int expect_continue;
    size_t body_len;

    /* Set when the request is refused by framing: status and reason. */
    unsigned err_status;
    char err_detail[160];

    /* private */
    int headers_done, host_count;
    size_t target_len;
    size_t trailer_len; /* bytes of a chunked body's trailer fields */
    int cur;            /* what is being appended to hbuf */
    char *hbuf;
    size_t hlen, hcap;
    int started;
} http1;

void http1_init(http1 *h, const http1_limits *lim, const http1_events *ev, void *arg);
void http1_free(http1 *h);

/*
 * Feed received bytes. Returns how many were consumed: fewer than `len`
 * when a request completed (parsing pauses there) or on an error, then
 * err_status (400, 413, 414, 431, 501, 505) and err_detail say why and the
 * connection must be answered and closed.
 */
size_t http1_feed(http1 *h, const char *data, size_t len);

/* Ready for the next request on the connection (after `complete`). */
void http1_next(http1 *h);

/* Is a request under way (some bytes of it received)? */
int http1_started(const http1 *h);

/* A request header by name (case-insensitive), NULL when absent. */
const char *http1_header(const http1 *h, const char *name);

#endif
