/*
 * stird logging: one line per event on stderr. Access lines are built in
 * a stack buffer and written with a single fputs, so concurrent worker
 * threads never interleave within a line.
 */
#ifndef STIRD_LOG_H
#define STIRD_LOG_H

#include <stdarg.h>
#include <stddef.h>

void log_set_level(int level); /* enum stird_log_level */
void log_set_json(int on);     /* log_format = json: one JSON object per line */
int log_enabled(int level);

/* "2025-01-01T00:00:00Z stird: LEVEL: message" */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Who is calling: filled by the connection layer once per connection
 * (address) and after the TLS handshake (certificate). Read by the
 * authentication gate, the policy, the audit trail and the access log.
 */
typedef struct http_client {
    char addr[48]; /* "192.0.2.1" or "2001:db8::1", no port */
    unsigned port;
    char identity[256];            /* mTLS: SAN URI, else SAN DNS, else subject CN; "" */
    int has_cert;                  /* a verified client certificate was presented */
    unsigned char cert_sha256[32]; /* SHA-256 of its DER (RFC 8705 x5t#S256) */
    char principal[256];           /* authenticated name (token sub/client_id or
                                     * certificate identity); "" before/without auth */
} http_client;

/*
 * One access-log record. Every pointer may be NULL (written as "-").
 * The text format is one line:
 *   TIME TAG ADDR:PORT METHOD PATH STATUS LATENCYus [client=ID] [rid=REQUESTID] [NOTE]
 * The JSON format (log_format = json) is one object per line:
 *   {"time","level","tag","client":{"addr","port","identity"},"requestId",
 *    "resource","method","path","status","latency_us","verstat","codes","note"}
 * with members that have no value left out.
 */
typedef struct log_access_rec {
    const char *tag; /* which listener: "api", "x5u", "metrics" */
    const http_client *client;
    const char *method;
    const char *path;
    const char *resource; /* "signing", "verification", ... */
    unsigned status;
    long long latency_us;
    const char *request_id; /* the request's requestId, as received */
    const char *verstat;    /* verification: verstatValue */
    const char *codes;      /* verification: "438,pass" per PASSporT */
    const char *note;       /* anything else: "field=orig.tn" */
} log_access_rec;

void log_access(const log_access_rec *rec);
/* on: batch this thread's access lines until log_batch_flush (a
 * connection worker: one write per event-loop pass of several events);
 * 0: write each at once. */
void log_batch_begin(int on);
void log_batch_flush(void);

struct sockaddr;
/* Fill addr/port of `c` from a socket address (the rest is zeroed). */
void log_client_from_sockaddr(http_client *c, const struct sockaddr *sa);

#define CLIENT_IPV6_PREFIX_DEFAULT 64
/*
 * The address part of a client's key for per-client limits (connections,
 * fetch-pool turns): an IPv4 address as it is ("192.0.2.1"; an
 * IPv4-mapped IPv6 address too), an IPv6 address cut to its first
 * `v6_prefix` bits (48..128; 0: the default 64) and written as a prefix
 * ("2001:db8:1:2::/64"), because one subscriber usually holds a whole /64.
 * Anything unparsable is used as it is.
 */
void client_addr_key(const char *addr, int v6_prefix, char *key, size_t cap);

#endif
