/*
 * stird logging: one line per event on stderr. Access lines are built in
 * a stack buffer and written with a single fputs, so concurrent worker
 * threads never interleave within a line.
 */
#ifndef STIRD_LOG_H
#define STIRD_LOG_H

#include <stdarg.h>
#include <sys/socket.h>

void log_set_level(int level);        /* enum stird_log_level */
int log_enabled(int level);

/* "2025-01-01T00:00:00Z stird: LEVEL: message" */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* libmicrohttpd's MHD_OPTION_EXTERNAL_LOGGER: its messages as WARN lines. */
void log_mhd(void *cls, const char *fmt, va_list ap);

/*
 * One request: time, client, method, path, status, latency (us) and a
 * short note ("codes=438,436", "field=orig.tn"), which may be NULL.
 * `tag` distinguishes servers ("api", "x5u").
 */
void log_access(const char *tag, const struct sockaddr *client, const char *method,
                const char *path, unsigned status, long long usec, const char *note);

#endif
