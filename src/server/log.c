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

static const char *LEVEL_NAMES[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_set_level(int level)
{
    g_level = level;
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
    snprintf(out, 32, "%.19s.%03uZ", cached, (unsigned)(ts.tv_nsec / 1000000L) % 1000u);
}

void log_msg(int level, const char *fmt, ...)
{
    char line[1024], ts[32];
    va_list ap;
    int n;

    if (!log_enabled(level))
        return;
    iso_now(ts);
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

void log_access(const log_access_rec *rec)
{
    char ts[32], addr[80] = "-", m[40], p[300], id[300] = "", rid[300] = "", line[1400];
    const http_client *c = rec->client;

    if (!log_enabled(LOG_LVL_INFO))
        return;
    iso_now(ts);
    if (c && c->addr[0])
        snprintf(addr, sizeof addr, strchr(c->addr, ':') ? "[%s]:%u" : "%s:%u", c->addr,
                 c->port);
    put_clean(m, sizeof m, rec->method, 32);
    put_clean(p, sizeof p, rec->path, 200);
    if (c && (c->principal[0] || c->identity[0])) {
        memcpy(id, "client=", 7);
        put_clean(id + 7, sizeof id - 7, c->principal[0] ? c->principal : c->identity, 256);
    }
    if (rec->request_id) {
        memcpy(rid, "rid=", 4);
        put_clean(rid + 4, sizeof rid - 4, rec->request_id, 256);
    }
    snprintf(line, sizeof line, "%s %s %s %s %s %u %lldus%s%s%s%s%s%s%s%s%s%s\n", ts,
             rec->tag ? rec->tag : "-", addr, m, p, rec->status, rec->latency_us,
             id[0] ? " " : "", id, rid[0] ? " " : "", rid,
             rec->verstat ? " verstat=" : "", rec->verstat ? rec->verstat : "",
             rec->codes ? " codes=" : "", rec->codes ? rec->codes : "",
             rec->note && *rec->note ? " " : "", rec->note && *rec->note ? rec->note : "");
    fputs(line, stderr);
}
