/*
 * Logging to stderr. Each line is formatted into a local buffer and
 * written with one fputs (stdio locks the stream per call, so lines from
 * worker threads never mix). Nothing secret is ever passed in here: the
 * callers log paths, statuses, reason codes and field names only.
 */
#include "log.h"
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int g_level = LOG_LVL_INFO;
static int g_json;

static const char *LEVEL_NAMES[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_set_level(int level)
{
    g_level = level;
}

void log_set_json(int on)
{
    g_json = on;
}

int log_enabled(int level)
{
    return level <= g_level;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; the date part is cached per thread and
 * second, because gmtime_r+strftime per request is measurable. */
static void iso_now(char out[32])
{
    static __thread time_t cached_sec = -1;
    static __thread char cached[24];
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000L) % 1000u;
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not
 * one (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/*
 * Append `s` (at most max_in bytes of it) as a JSON string, quotes
 * included, at out+o; returns the new length. Valid UTF-8 is copied;
 * control characters and bytes that are not UTF-8 become \u00XX, so any
 * request bytes make a valid JSON line. Stops early, still closing the
 * string, when `cap` would be exceeded.
 */
static size_t json_str(char *out, size_t o, size_t cap, const char *s, size_t max_in)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (o + 3 > cap)
        return o;
    out[o++] = '"';
    while (p[i] && i < max_in) {
        unsigned char c = p[i];
        size_t n = c >= 0x80 ? utf8_len(p + i) : 1;
        if (c >= 0x80 && n > 0 && i + n <= max_in) {
            if (o + n + 2 > cap)
                break;
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
            continue;
        }
        if (c == '"' || c == '\\') {
            if (o + 4 > cap)
                break;
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            if (o + 8 > cap)
                break;
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            if (o + 3 > cap)
                break;
            out[o++] = (char)c;
        }
        i++;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* Append printf output, bounded; returns the new length. */
static size_t put_fmt(char *out, size_t o, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put_fmt(char *out, size_t o, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (o >= cap)
        return o;
    va_start(ap, fmt);
    n = vsnprintf(out + o, cap - o, fmt, ap);
    va_end(ap);
    if (n < 0)
        return o;
    return (size_t)n >= cap - o ? cap - 1 : o + (size_t)n;
}

/* ,"name":"value" with at most max bytes of the value, escaped. */
static size_t put_member(char *out, size_t o, size_t cap, const char *name, const char *v,
                         size_t max)
{
    o = put_fmt(out, o, cap, ",\"%s\":", name);
    return json_str(out, o, cap, v, max);
}

/*
 * Access lines of a connection worker are batched: one write(2) per pass
 * of its event loop rather than one per request (the per-line write was
 * ~7 % of a signing request's time under load). A worker opens a batch
 * (log_batch_begin) for a pass of several events and flushes it before it
 * waits again, so a line is out before the worker sleeps: at most one pass
 * (128 events) late, and its response may reach the client first. A pass
 * of one event (an idle server, a client alone) writes its line before
 * the response, as without batching. Other threads, and every non-access
 * line, write at once; a non-access line first flushes its thread's
 * batch, so the order of one thread's lines is kept.
 */
#define LOG_BATCH_CAP 16384
static __thread struct {
    int on;
    size_t len;
    char buf[LOG_BATCH_CAP];
} t_batch;

static void put_out(const char *s, size_t n)
{
    fwrite(s, 1, n, stderr);
}

void log_batch_begin(int on)
{
    t_batch.on = on;
}

void log_batch_flush(void)
{
    if (t_batch.len)
        put_out(t_batch.buf, t_batch.len);
    t_batch.len = 0;
}

/* An access line: into the batch when one is open, else out now. */
static void put_access_line(const char *line)
{
    size_t n = strlen(line);
    if (!t_batch.on) {
        put_out(line, n);
        return;
    }
    if (t_batch.len + n > sizeof t_batch.buf)
        log_batch_flush();
    if (n > sizeof t_batch.buf) {
        put_out(line, n);
        return;
    }
    memcpy(t_batch.buf + t_batch.len, line, n);
    t_batch.len += n;
}

void log_msg(int level, const char *fmt, ...)
{
    char line[1024], ts[32];
    va_list ap;
    int n;

    if (!log_enabled(level))
        return;
    log_batch_flush();
    iso_now(ts);
    if (g_json) {
        char msg[900], out[2048];
        size_t o;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        o = put_fmt(out, 0, sizeof out - 2, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
                    LEVEL_NAMES[level]);
        o = json_str(out, o, sizeof out - 2, msg, sizeof msg);
        out[o++] = '}';
        out[o++] = '\n';
        out[o] = '\0';
        fputs(out, stderr);
        return;
    }
    n = snprintf(line, sizeof line, "%s stird: %s: ", ts, LEVEL_NAMES[level]);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = (int)strlen(line);
    line[n] = '\n';
    line[n + 1] = '\0';
    fputs(line, stderr);
}

/* Copy request text (method, path) made printable: anything outside
 * visible ASCII becomes \xNN, and the result is capped. */
static size_t put_clean(char *out, size_t cap, const char *s, size_t max_in)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!s)
        s = "-";
    for (size_t i = 0; s[i] && i < max_in; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

void log_client_from_sockaddr(http_client *c, const struct sockaddr *sa)
{
    memset(c, 0, sizeof *c);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, c->addr, sizeof c->addr);
        c->port = ntohs(a->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, c->addr, sizeof c->addr);
        c->port = ntohs(a->sin6_port);
    }
}

void client_addr_key(const char *addr, int v6_prefix, char *key, size_t cap)
{
    static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct in6_addr a;
    char text[INET6_ADDRSTRLEN];

    if (v6_prefix <= 0)
        v6_prefix = CLIENT_IPV6_PREFIX_DEFAULT;
    if (v6_prefix > 128)
        v6_prefix = 128;
    if (!strchr(addr, ':') || inet_pton(AF_INET6, addr, &a) != 1) {
        snprintf(key, cap, "%s", addr);
        return;
    }
    if (memcmp(a.s6_addr, V4_MAPPED, sizeof V4_MAPPED) == 0) {
        /* A dual-stack listener's IPv4 client: one address, as over IPv4. */
        if (inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof text))
            snprintf(key, cap, "%s", text);
        else
            snprintf(key, cap, "%s", addr);
        return;
    }
    if (v6_prefix == 128) {
        inet_ntop(AF_INET6, &a, text, sizeof text);
        snprintf(key, cap, "%s", text);
        return;
    }
    for (int bit = v6_prefix; bit < 128; bit++)
        a.s6_addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    inet_ntop(AF_INET6, &a, text, sizeof text);
    snprintf(key, cap, "%s/%d", text, v6_prefix);
}

/* The access record as one JSON object (log_format = json). */
static void log_access_json(const log_access_rec *rec)
{
    char line[2400], ts[32];
    const size_t cap = sizeof line - 2; /* room for "}\n" */
    const http_client *c = rec->client;
    size_t o;

    iso_now(ts);
    o = put_fmt(line, 0, cap, "{\"time\":\"%s\",\"level\":\"INFO\",\"tag\":", ts);
    o = json_str(line, o, cap, rec->tag ? rec->tag : "-", 16);
    if (c && c->addr[0]) {
        o = put_fmt(line, o, cap, ",\"client\":{\"addr\":\"%s\",\"port\":%u", c->addr, c->port);
        if (c->principal[0] || c->identity[0])
            o = put_member(line, o, cap, "identity", c->principal[0] ? c->principal : c->identity,
                           256);
        o = put_fmt(line, o, cap, "}");
    }
    if (rec->request_id)
        o = put_member(line, o, cap, "requestId", rec->request_id, 256);
    if (rec->resource)
        o = put_member(line, o, cap, "resource", rec->resource, 64);
    o = put_member(line, o, cap, "method", rec->method ? rec->method : "-", 32);
    o = put_member(line, o, cap, "path", rec->path ? rec->path : "-", 200);
    o = put_fmt(line, o, cap, ",\"status\":%u,\"latency_us\":%lld", rec->status, rec->latency_us);
    if (rec->verstat)
        o = put_member(line, o, cap, "verstat", rec->verstat, 64);
    if (rec->codes)
        o = put_member(line, o, cap, "codes", rec->codes, 200);
    if (rec->note && *rec->note)
        o = put_member(line, o, cap, "note", rec->note, 300);
    line[o++] = '}';
    line[o++] = '\n';
    line[o] = '\0';
    put_access_line(line);
}

/* A text access line is appended piece by piece, as the response head is
 * (conn.c): snprintf with 17 conversions cost more than writing the line.
 * Each piece is cut to what is left, and the newline always fits. */
struct line {
    char buf[1400];
    size_t n;
};

static void line_put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 2 - l->n; /* "\n" and NUL stay free */
    if (n > room)
        n = room;
    memcpy(l->buf + l->n, s, n);
    l->n += n;
}

static void line_str(struct line *l, const char *s)
{
    line_put(l, s, strlen(s));
}

static void line_int(struct line *l, long long v)
{
    char digits[24], *e = digits + sizeof digits, *d = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--d = '-';
    line_put(l, d, (size_t)(e - d));
}

/* `prefix`, then request text made printable (put_clean): at most max_in
 * bytes of it, and at most out_cap - 1 bytes once escaped (a byte can
 * grow to four), so that no field can push the ones after it (verstat,
 * codes, note) off the line. */
static void line_clean(struct line *l, const char *prefix, const char *s, size_t max_in,
                       size_t out_cap)
{
    line_str(l, prefix);
    size_t room = sizeof l->buf - 1 - l->n;
    l->n += put_clean(l->buf + l->n, out_cap < room ? out_cap : room, s, max_in);
}

void log_access(const log_access_rec *rec)
{
    char ts[32];
    struct line l;
    const http_client *c = rec->client;

    if (!log_enabled(LOG_LVL_INFO))
        return;
    if (g_json) {
        log_access_json(rec);
        return;
    }
    iso_now(ts);
    l.n = 0;
    line_str(&l, ts);
    line_put(&l, " ", 1);
    line_str(&l, rec->tag ? rec->tag : "-");
    if (c && c->addr[0]) {
        int v6 = strchr(c->addr, ':') != NULL;
        line_str(&l, v6 ? " [" : " ");
        line_str(&l, c->addr);
        line_str(&l, v6 ? "]:" : ":");
        line_int(&l, c->port);
    } else {
        line_str(&l, " -");
    }
    line_clean(&l, " ", rec->method, 32, 40);
    line_clean(&l, " ", rec->path, 200, 300);
    line_put(&l, " ", 1);
    line_int(&l, rec->status);
    line_put(&l, " ", 1);
    line_int(&l, rec->latency_us);
    line_put(&l, "us", 2);
    if (c && (c->principal[0] || c->identity[0]))
        line_clean(&l, " client=", c->principal[0] ? c->principal : c->identity, 256, 293);
    if (rec->request_id)
        line_clean(&l, " rid=", rec->request_id, 256, 296);
    if (rec->verstat) {
        line_str(&l, " verstat=");
        line_str(&l, rec->verstat);
    }
    if (rec->codes) {
        line_str(&l, " codes=");
        line_str(&l, rec->codes);
    }
    if (rec->note && *rec->note) {
        line_put(&l, " ", 1);
        line_str(&l, rec->note);
    }
    l.buf[l.n++] = '\n';
    l.buf[l.n] = '\0';
    put_access_line(l.buf);
}
