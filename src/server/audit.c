/*
 * Audit records: built with jansson, written with one write() on an
 * O_APPEND descriptor under a mutex, so records never interleave and a
 * crash leaves at most one incomplete last line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stir/passport.h>

#include "audit.h"
#include "config.h"

#define STR_MAX 256  /* longest string copied from a request */
#define OBJ_MAX 2048 /* longest orig/dest object copied from a request */
#define LOG_EVERY 60 /* seconds between two write-error log lines */

struct audit {
    pthread_mutex_t mu;
    int fd;
    char *path;
    time_t last_log;
    unsigned long suppressed;
};

static int open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

audit *audit_open(const char *path, char *err, size_t errlen)
{
    audit *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path))) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((a->fd = open_fd(path)) < 0) {
        snprintf(err, errlen, "audit_log %s: %s", path, strerror(errno));
        free(a->path);
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

int audit_reopen(audit *a, char *err, size_t errlen)
{
    int fd = open_fd(a->path);
    if (fd < 0) {
        snprintf(err, errlen, "audit_log %s: %s", a->path, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&a->mu);
    int old = a->fd;
    a->fd = fd;
    pthread_mutex_unlock(&a->mu);
    close(old);
    return 0;
}

void audit_close(audit *a)
{
    if (!a)
        return;
    close(a->fd);
    pthread_mutex_destroy(&a->mu);
    free(a->path);
    free(a);
}

/* ---- writing --------------------------------------------------------------- */

static int write_record(audit *a, json_t *rec)
{
    char *line = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    size_t n = line ? strlen(line) : 0;
    int rc = -1, e = ENOMEM;
    if (line && n < AUDIT_RECORD_MAX) {
        line[n] = '\n'; /* json_dumps left room: its NUL */
        pthread_mutex_lock(&a->mu);
        ssize_t w = write(a->fd, line, n + 1);
        e = errno;
        rc = w == (ssize_t)(n + 1) ? 0 : -1;
        if (rc == 0) {
            pthread_mutex_unlock(&a->mu);
        } else {
            /* Rate-limited: a full disk must not flood the log too. */
            time_t now = time(NULL);
            int say = now - a->last_log >= LOG_EVERY;
            unsigned long skipped = a->suppressed;
            if (say) {
                a->last_log = now;
                a->suppressed = 0;
            } else {
                a->suppressed++;
            }
            pthread_mutex_unlock(&a->mu);
            if (say)
                log_msg(LOG_LVL_ERROR,
                        "audit_log %s: record not written: %s (%lu more "
                        "failures not logged)",
                        a->path, w < 0 ? strerror(e) : "short write", skipped);
        }
    } else {
        log_msg(LOG_LVL_ERROR, "audit_log %s: record not built (%s)", a->path,
                line ? "too large" : "out of memory");
    }
    free(line);
    return rc;
}

static json_t *base_record(const http_client *c, time_t now, const char *request_id,
                           const char *outcome, unsigned status)
{
    char t[32];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *r = json_object();
    json_object_set_new(r, "time", json_string(t));
    json_object_set_new(r, "outcome", json_string(outcome));
    json_object_set_new(r, "status", json_integer(status));
    json_object_set_new(r, "client", json_string(c->principal));
    json_object_set_new(r, "certIdentity", json_string(c->identity));
    json_object_set_new(r, "addr", json_string(c->addr));
    if (request_id)
        json_object_set_new(r, "requestId", json_stringn(request_id, strnlen(request_id, STR_MAX)));
    return r;
}

/* Copy a request member, bounded: strings cut, big objects replaced. */
static void copy_member(json_t *rec, const json_t *req, const char *name)
{
    const json_t *v = json_object_get(req, name);
    if (!v)
        return;
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        json_object_set_new(rec, name,
                            json_stringn(json_string_value(v), n < STR_MAX ? n : STR_MAX));
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s && strlen(s) <= OBJ_MAX)
        json_object_set(rec, name, (json_t *)v);
    else
        json_object_set_new(rec, name, json_string("(too large)"));
    free(s);
}

int audit_signed(audit *a, const http_client *c, time_t now, const char *request_id,
                 const char *identity)
{
    size_t n = strcspn(identity, ";");
    stir_error e;
    json_t *rec = base_record(c, now, request_id, "signed", 200);
    stir_passport *p = stir_passport_parse(identity, n, &e);
    if (p) {
        const json_t *cl = stir_passport_claims(p);
        const char *ppt = stir_passport_ppt(p), *x5u = stir_passport_x5u(p);
        json_object_set_new(rec, "ppt", json_string(ppt ? ppt : "shaken"));
        static const char *const CLAIMS[] = {"orig", "dest", "attest", "origid", "iat"};
        for (size_t i = 0; i < sizeof CLAIMS / sizeof CLAIMS[0]; i++)
            if (json_object_get(cl, CLAIMS[i]))
                json_object_set(rec, CLAIMS[i], json_object_get(cl, CLAIMS[i]));
        if (x5u)
            json_object_set_new(rec, "x5u", json_string(x5u));
        json_object_set_new(rec, "passport", json_string(stir_passport_token(p)));
        json_object_set_new(rec, "ppi", json_string(stir_passport_compact(p)));
        stir_passport_free(p);
    } else {
        json_object_set_new(rec, "passportError", json_string(e.detail));
    }
    return write_record(a, rec);
}

int audit_refused(audit *a, const http_client *c, time_t now, const char *request_id,
                  const json_t *req, const char *ppt, unsigned status, const char *reason)
{
    json_t *rec = base_record(c, now, request_id, "refused", status);
    json_object_set_new(rec, "reason",
                        json_stringn(reason ? reason : "", strnlen(reason ? reason : "", 512)));
    json_object_set_new(rec, "ppt", json_string(ppt && *ppt ? ppt : "shaken"));
    if (json_is_object(req)) {
        static const char *const MEMBERS[] = {"orig", "dest", "attest", "origid", "iat"};
        for (size_t i = 0; i < sizeof MEMBERS / sizeof MEMBERS[0]; i++)
            copy_member(rec, req, MEMBERS[i]);
    }
    return write_record(a, rec);
}

/* ---- lookup (stirctl audit) ---------------------------------------------------- */

/* Split "h.p.s" into its three parts; 0, or -1 when not three parts. */
static int split3(const char *t, size_t n, const char *part[3], size_t len[3])
{
    const char *d1 = memchr(t, '.', n),
               *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - t)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - t)))
        return -1;
    part[0] = t, len[0] = (size_t)(d1 - t);
    part[1] = d1 + 1, len[1] = (size_t)(d2 - d1 - 1);
    part[2] = d2 + 1, len[2] = n - (size_t)(d2 + 1 - t);
    return 0;
}

long audit_find(const char *path, const char *ppi, FILE *out, char *err, size_t errlen)
{
    const char *q[3], *r[3];
    size_t ql[3], rl[3];
    /* ppi="..." as in a Reason header, possibly with Identity parameters. */
    while (*ppi == ' ' || *ppi == '"')
        ppi++;
    size_t n = strcspn(ppi, "\";");
    if (split3(ppi, n, q, ql) != 0 || ql[2] == 0) {
        snprintf(err, errlen, "ppi is not a PASSporT (full form h.p.s or compact ..s)");
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long found = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *rec = json_loadb(line, (size_t)len, 0, NULL);
        const char *pp = json_string_value(json_object_get(rec, "passport"));
        int match = pp && split3(pp, strlen(pp), r, rl) == 0;
        for (int i = 0; match && i < 3; i++)
            if (ql[i] && (ql[i] != rl[i] || memcmp(q[i], r[i], ql[i]) != 0))
                match = 0;
        if (match) {
            fwrite(line, 1, (size_t)len, out);
            found++;
        }
        json_decref(rec);
    }
    free(line);
    fclose(f);
    return found;
}
