/*
 * HTTP/1.1 request framing over http-parser (see http1.h).
 *
 * The parser calls back with pieces of the request line and headers as
 * they arrive (possibly split across reads); they are copied into `hbuf`
 * as NUL-terminated strings, bounded by max_header_bytes, and checked all
 * together when the headers are complete.
 */
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { CUR_NONE, CUR_TARGET, CUR_NAME, CUR_VALUE };

static int refuse(http1 *h, unsigned status, const char *detail)
{
    if (!h->err_status) {
        h->err_status = status;
        snprintf(h->err_detail, sizeof h->err_detail, "%s", detail);
    }
    return -1;
}

/* Append to hbuf; 431 past max_header_bytes. */
static int put(http1 *h, const char *s, size_t n)
{
    if (h->hlen + n + 1 > h->lim->max_header_bytes)
        return refuse(h, 431, "the request line and headers are larger than the limit");
    if (h->hlen + n + 1 > h->hcap) {
        size_t cap = h->hcap ? h->hcap : 1024;
        char *nb;
        while (cap < h->hlen + n + 1)
            cap *= 2;
        if (cap > h->lim->max_header_bytes)
            cap = h->lim->max_header_bytes;
        nb = realloc(h->hbuf, cap);
        if (!nb)
            return refuse(h, 503, "out of memory");
        h->hbuf = nb;
        h->hcap = cap;
    }
    memcpy(h->hbuf + h->hlen, s, n);
    h->hlen += n;
    return 0;
}

/* End the string being appended and start `next`. */
static int switch_to(http1 *h, int next)
{
    if (h->cur == next)
        return 0;
    if (h->cur != CUR_NONE && put(h, "", 1) != 0) /* NUL-terminate it */
        return -1;
    if (h->cur == CUR_NAME && next != CUR_VALUE) { /* a name without value */
        h->headers[h->n_headers - 1].value = h->hlen;
        if (put(h, "", 1) != 0)
            return -1;
    }
    if (next == CUR_NAME) {
        if (h->n_headers == HTTP1_MAX_HEADERS)
            return refuse(h, 431, "too many header fields");
        h->headers[h->n_headers++].name = h->hlen;
    } else if (next == CUR_VALUE) {
        h->headers[h->n_headers - 1].value = h->hlen;
    }
    h->cur = next;
    return 0;
}

static http1 *of(http_parser *p)
{
    return p->data;
}

static int on_begin(http_parser *p)
{
    of(p)->started = 1;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    http1 *h = of(p);
    h->target_len += n;
    if (h->target_len > HTTP1_MAX_TARGET)
        return refuse(h, 414, "the request-target is longer than 2048 bytes");
    if (switch_to(h, CUR_TARGET) != 0)
        return -1;
    return put(h, at, n);
}

/*
 * Fields after a chunked body (trailers) arrive through the same callbacks
 * once the headers are done. They are dropped: the gate has judged the
 * headers, and hbuf (which target and path point into) must not move.
 * They still count against max_header_bytes.
 */
static int trailer(http1 *h, size_t n)
{
    h->trailer_len += n;
    if (h->trailer_len > h->lim->max_header_bytes)
        return refuse(h, 431, "the trailer fields are larger than the limit");
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    http1 *h = of(p);
    if (h->headers_done)
        return trailer(h, n);
    if (h->cur == CUR_VALUE || h->cur == CUR_TARGET || h->cur == CUR_NONE) {
        h->cur = h->cur == CUR_NONE ? CUR_TARGET : h->cur;
        if (switch_to(h, CUR_NAME) != 0)
            return -1;
    }
    return put(h, at, n);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    http1 *h = of(p);
    if (h->headers_done)
        return trailer(h, n);
    if (switch_to(h, CUR_VALUE) != 0)
        return -1;
    return put(h, at, n);
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6), at most 18 digits. */
static long long parse_length(const char *s)
{
    long long v = 0;
    size_t digits = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 18)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return digits && *s == '\0' ? v : -1;
}

/* Trim optional whitespace around a value, in place. */
static char *trim(char *v)
{
    size_t n;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = '\0';
    return v;
}

/* The path of an absolute-form target ("http://host/p?q" -> "/p?q"). */
static const char *origin_path(const char *t)
{
    const char *s = strstr(t, "://");
    if (t[0] == '/' || !s)
        return t[0] == '/' ? t : NULL;
    /* absolute-form (RFC 9112 3.2.2): the authority ends at / ? or # */
    s += 3;
    s += strcspn(s, "/?#");
    return *s == '/' ? s : "/";
}

static int check_headers(http1 *h)
{
    const char *te = NULL;
    char *q;

    if (h->p.http_major != 1)
        return refuse(h, 505, "only HTTP/1.0 and HTTP/1.1 are served here");
    h->version_major = h->p.http_major;
    h->version_minor = h->p.http_minor;
    snprintf(h->method, sizeof h->method, "%s", http_method_str(h->p.method));
    h->content_length = -1;
    for (size_t i = 0; i < h->n_headers; i++) {
        const char *name = h->hbuf + h->headers[i].name;
        char *value = trim(h->hbuf + h->headers[i].value);
        h->headers[i].value = (size_t)(value - h->hbuf);
        if (strcasecmp(name, "Content-Length") == 0) {
            long long n = parse_length(value);
            if (n < 0)
                return refuse(h, 400, "Content-Length must be 1 to 18 decimal digits");
            if (h->content_length >= 0 && n != h->content_length)
                return refuse(h, 400, "Content-Length is given twice with different values");
            if (h->content_length >= 0)
                return refuse(h, 400, "Content-Length is given more than once");
            h->content_length = n;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (te || strcasecmp(value, "chunked") != 0)
                return refuse(h, 501, "the only transfer coding accepted is chunked");
            te = value;
        } else if (strcasecmp(name, "Host") == 0) {
            h->host_count++;
        } else if (strcasecmp(name, "Expect") == 0) {
            h->expect_continue = strcasecmp(value, "100-continue") == 0;
        }
    }
    if (te && h->content_length >= 0)
        return refuse(h, 400, "Content-Length and Transfer-Encoding must not both be given");
    if (te && h->version_minor == 0)
        return refuse(h, 400, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (h->version_minor >= 1 && h->host_count != 1)
        return refuse(h, 400,
                      h->host_count ? "more than one Host header"
                                    : "an HTTP/1.1 request needs a Host header");
    h->chunked = te != NULL;
    h->target = h->hbuf; /* the first string in hbuf */
    h->path = origin_path(h->target);
    if (!h->path || h->target[0] == '\0')
        return refuse(h, 400, "the request-target must be a path (origin-form)");
    /* path without the query: cut a copy of it in place after the target */
    q = strchr(h->path, '?'); /* the path's own query: never before it */
    if (q) {
        char copy[HTTP1_MAX_TARGET + 1];
        size_t plen = (size_t)(q - h->path), at = h->hlen;
        memcpy(copy, h->path, plen); /* put() may move hbuf */
        if (put(h, copy, plen) != 0 || put(h, "", 1) != 0)
            return -1;
        h->target = h->hbuf;
        h->path = h->hbuf + at;
    }
    h->keep_alive = http_should_keep_alive(&h->p);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    http1 *h = of(p);
    if (h->cur == CUR_TARGET || h->cur == CUR_NONE) {
        if (h->cur == CUR_NONE && put(h, "", 1) != 0) /* no target at all */
            return -1;
        h->cur = CUR_TARGET;
    }
    if (switch_to(h, CUR_NONE) != 0)
        return -1;
    if (put(h, "", 1) != 0) /* the last string's NUL */
        return -1;
    h->hlen--;
    if (check_headers(h) != 0)
        return -1;
    h->headers_done = 1;
    if (h->ev->headers(h->arg)) {
        http_parser_pause(p, 1); /* answered from the headers */
        return 0;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    http1 *h = of(p);
    h->body_len += n;
    if (h->body_len > h->lim->max_body)
        return refuse(h, 413, "the request body is larger than the limit");
    return h->ev->body(h->arg, at, n);
}

static int on_complete(http_parser *p)
{
    http1 *h = of(p);
    h->ev->complete(h->arg);
    http_parser_pause(p, 1);
    return 0;
}

static void reset(http1 *h)
{
    h->method[0] = '\0';
    h->target = h->path = "";
    h->n_headers = 0;
    h->content_length = -1;
    h->chunked = h->keep_alive = h->expect_continue = 0;
    h->body_len = 0;
    h->headers_done = h->host_count = h->started = 0;
    h->trailer_len = 0;
    h->target_len = 0;
    h->cur = CUR_NONE;
    h->hlen = 0;
}

void http1_init(http1 *h, const http1_limits *lim, const http1_events *ev, void *arg)
{
    memset(h, 0, sizeof *h);
    http_parser_init(&h->p, HTTP_REQUEST);
    h->p.data = h;
    http_parser_settings_init(&h->settings);
    h->settings.on_message_begin = on_begin;
    h->settings.on_url = on_url;
    h->settings.on_header_field = on_field;
    h->settings.on_header_value = on_value;
    h->settings.on_headers_complete = on_headers_complete;
    h->settings.on_body = on_body;
    h->settings.on_message_complete = on_complete;
    h->lim = lim;
    h->ev = ev;
    h->arg = arg;
    reset(h);
}

void http1_free(http1 *h)
{
    free(h->hbuf);
    h->hbuf = NULL;
}

/* Parser errors (the request's own framing) as a status and a reason. */
static void map_error(http1 *h)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&h->p);
    switch (e) {
    case HPE_HEADER_OVERFLOW:
        refuse(h, 431, "the request line and headers are larger than the limit");
        break;
    case HPE_INVALID_CONTENT_LENGTH:
        refuse(h, 400, "Content-Length must be 1 to 18 decimal digits");
        break;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        refuse(h, 400, "Content-Length is given more than once, or with Transfer-Encoding");
        break;
    case HPE_INVALID_TRANSFER_ENCODING:
        refuse(h, 501, "the only transfer coding accepted is chunked");
        break;
    case HPE_INVALID_VERSION:
        refuse(h, 400, "the request line has no valid HTTP version");
        break;
    case HPE_INVALID_METHOD:
        refuse(h, 400, "the request line has no valid method");
        break;
    case HPE_INVALID_HEADER_TOKEN:
        refuse(h, 400,
               "a header line is malformed (a field name with no colon, or a bad "
               "character)");
        break;
    default: {
        char d[160];
        snprintf(d, sizeof d, "malformed request: %s", http_errno_description(e));
        refuse(h, 400, d);
    }
    }
}

size_t http1_feed(http1 *h, const char *data, size_t len)
{
    size_t n;
    if (h->err_status || HTTP_PARSER_ERRNO(&h->p) == HPE_PAUSED)
        return 0;
    n = http_parser_execute(&h->p, &h->settings, data, len);
    switch (HTTP_PARSER_ERRNO(&h->p)) {
    case HPE_OK:
    case HPE_PAUSED:
        break;
    default:
        map_error(h);
    }
    return n;
}

void http1_next(http1 *h)
{
    reset(h);
    http_parser_pause(&h->p, 0);
}

int http1_started(const http1 *h)
{
    return h->started;
}

const char *http1_header(const http1 *h, const char *name)
{
    if (!h->headers_done)
        return NULL;
    for (size_t i = 0; i < h->n_headers; i++)
        if (strcasecmp(h->hbuf + h->headers[i].name, name) == 0)
            return h->hbuf + h->headers[i].value;
    return NULL;
}
