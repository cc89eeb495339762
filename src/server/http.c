/*
 * The Ms API over libmicrohttpd.
 *
 * Every request is checked as soon as its headers are in (route, method,
 * Content-Length, Content-Type), so anything that will be refused is
 * refused before a byte of its body is read. Accepted bodies are gathered
 * into one buffer (never more than Content-Length <= max_body), parsed
 * once with jansson and handed to signing.c or verification.c, which fill
 * an http_reply. A request that must wait for a fetch (an x5u certificate
 * for verification, RCD content for signing) is parked (MHD suspend) and
 * finished by the fetch pool below.
 */
#include "http.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

enum route { R_NONE, R_SIGNING, R_VERIFICATION, R_HEALTH, R_READY };

/* The resources under {apiRoot}/stir/v1/. */
struct resource {
    const char *name;
    enum route route;
    const char *ppt;            /* type implied by a legacy signing resource */
};

static const struct resource RESOURCES[] = {
    {"signing", R_SIGNING, NULL},
    {"verification", R_VERIFICATION, NULL},
    /* The per-type resources of the pre-2023 Neustar API (ms-api.md 2.3),
     * kept so that clients of that dialect work unchanged. */
    {"divSigning", R_SIGNING, "div"},
    {"rphSigning", R_SIGNING, "rph"},
    {"divVerification", R_VERIFICATION, NULL},
    {"rphVerification", R_VERIFICATION, NULL},
};
static const struct resource HEALTH = {"health", R_HEALTH, NULL};
static const struct resource READY = {"ready", R_READY, NULL};

struct http_server {
    struct MHD_Daemon *d;
    const stird_app *app;
    unsigned port;
    char prefix[256];           /* "{routing_path}/stir/v1/" */
    size_t prefix_len;
    char sign_path[256];
    char verify_path[256];
};

/* Most Ms bodies fit; the struct stays within malloc's fast (tcache) sizes. */
#define INLINE_BODY 960

/* State of a POST whose body is being received. The buffer grows with the
 * bytes that actually arrive (up to Content-Length), so a client that
 * announces a large body and then stalls costs no more than a small one. */
struct req {
    const struct resource *res;
    struct timespec t0;
    size_t cl;              /* Content-Length, <= max_body */
    size_t len;             /* bytes received so far */
    size_t cap;             /* size of buf, always >= len + 1 */
    int overflow;           /* more bytes than announced (defensive) */
    enum { ST_NEW, ST_WAITING, ST_READY } state;   /* of a deferred request */
    struct MHD_Connection *conn;
    http_reply *reply;      /* filled by the fetch pool */
    char *buf;              /* inline_buf or heap */
    char inline_buf[INLINE_BODY];
};

/* Marks a request already answered from its headers. */
static char ANSWERED;

static const char HEALTH_BODY[] = "{\"status\":\"alive\"}";
static const char OOM_BODY[] =
    "{\"title\":\"Internal Server Error\",\"status\":500,\"detail\":\"out of memory\","
    "\"cause\":\"SYSTEM_FAILURE\"}";

static const char CT_JSON[] = "application/json";
static const char CT_PROBLEM[] = "application/problem+json";

/* ---- replies ------------------------------------------------------------- */

void http_reply_json(http_reply *r, unsigned status, json_t *obj)
{
    r->status = status;
    r->content_type = CT_JSON;
    r->body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    r->len = r->body ? strlen(r->body) : 0;
    json_decref(obj);
    if (!r->body) {
        r->status = 500;
        r->content_type = CT_PROBLEM;
    }
}

/*
 * Every text given here is valid UTF-8: libstir repairs the details it
 * makes (stir_fail), and the server's own texts quote request bytes only
 * through http_clean_text (printable ASCII).
 */
void http_problem(http_reply *r, unsigned status, const char *title, const char *detail,
                  const char *cause, const char *param, const char *reason)
{
    json_t *p = json_object();
    if (p) {
        json_object_set_new(p, "title", json_string(title));
        json_object_set_new(p, "status", json_integer(status));
        if (detail)
            json_object_set_new(p, "detail", json_string(detail));
        if (cause)
            json_object_set_new(p, "cause", json_string(cause));
        if (param || reason) {
            json_t *ip = json_object();
            if (param && *param)
                json_object_set_new(ip, "param", json_string(param));
            if (reason)
                json_object_set_new(ip, "reason", json_string(reason));
            json_object_set_new(p, "invalidParams", json_pack("[o]", ip));
        }
    }
    http_reply_json(r, status, p);
    r->content_type = CT_PROBLEM;
}

/* Members whose absence or bad value is a mandatory-IE error (Tables
 * V.2.5.2-1 and V.2.6.2-1); everything else is optional. */
static int field_is_mandatory(const char *field)
{
    static const char *M[] = {"orig", "dest", "iat", "identityHeader", "from", "to", "time",
                              "signingRequest", "verificationRequest"};
    size_t n = strcspn(field, ".[");
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
        if (strlen(M[i]) == n && strncmp(field, M[i], n) == 0)
            return 1;
    return 0;
}

void http_problem_from_stir(http_reply *r, const stir_error *err)
{
    if (err->code == STIR_ERR_INPUT) {
        int missing = err->missing;
        const char *cause = missing ? "MANDATORY_IE_MISSING"
                            : field_is_mandatory(err->field) ? "MANDATORY_IE_INCORRECT"
                                                              : "OPTIONAL_IE_INCORRECT";
        http_problem(r, 400, missing ? "Missing Mandatory Parameter" : "Invalid Parameter Value",
                     err->detail, cause, err->field, err->detail);
        snprintf(r->note, sizeof r->note, "field=%.100s", err->field[0] ? err->field : "-");
        return;
    }
    /* Anything else is our fault, not the client's: keep the details in
     * the log and give the client a stable message. */
    log_msg(LOG_LVL_ERROR, "internal error %d: %s", err->code, err->detail);
    http_problem(r, 500, "Internal Server Error", "internal error; see the server log",
                 "SYSTEM_FAILURE", NULL, NULL);
    snprintf(r->note, sizeof r->note, "error=%d", err->code);
}

const json_t *http_unwrap(const json_t *body, const char *name, http_reply *r)
{
    const json_t *w = json_object_get(body, name);
    char detail[120];
    if (!w)
        return body;
    if (json_is_object(w))
        return w;
    snprintf(detail, sizeof detail, "%s must be a JSON object", name);
    http_problem(r, 400, "Invalid Parameter Value", detail, "MANDATORY_IE_INCORRECT", name, detail);
    snprintf(r->note, sizeof r->note, "field=%s", name);
    return NULL;
}

/* ---- helpers ------------------------------------------------------------- */

static long long usec_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)(t.tv_sec - t0->tv_sec) * 1000000LL + (t.tv_nsec - t0->tv_nsec) / 1000;
}

void http_clean_text(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 4 < cap; s++)
        out[o++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ? *s : '?';
    if (s && *s) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

static enum MHD_Result send_reply(struct MHD_Connection *c, const struct timespec *t0,
                                  const char *method, const char *url, http_reply *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    const union MHD_ConnectionInfo *ci;

    if (r->body) {
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(r->body);
    } else {
        r->status = 500;
        r->content_type = CT_PROBLEM;
        resp = MHD_create_response_from_buffer(sizeof OOM_BODY - 1, (void *)OOM_BODY,
                                               MHD_RESPMEM_PERSISTENT);
    }
    r->body = NULL;
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->retry_after) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    {
        http_client client;
        log_client_from_sockaddr(&client, ci ? ci->client_addr : NULL);
        log_access(&(log_access_rec){.tag = "api", .client = &client, .method = method,
                                     .path = url, .status = r->status,
                                     .latency_us = usec_since(t0), .note = r->note});
    }
    return ret;
}

/* The resource at `url`, or NULL. */
static const struct resource *match_route(const struct http_server *s, const char *url)
{
    if (strncmp(url, s->prefix, s->prefix_len) == 0) {
        const char *rest = url + s->prefix_len;
        for (size_t i = 0; i < sizeof RESOURCES / sizeof RESOURCES[0]; i++)
            if (strcmp(rest, RESOURCES[i].name) == 0)
                return &RESOURCES[i];
    }
    if (strcmp(url, "/health") == 0)
        return &HEALTH;
    if (strcmp(url, "/ready") == 0)
        return &READY;
    return NULL;
}

/* "application/json", any case, optionally followed by parameters. */
static int is_json_type(const char *ct)
{
    static const char JSON[] = "application/json";
    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, JSON, sizeof JSON - 1) != 0)
        return 0;
    ct += sizeof JSON - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* Content-Length as an unsigned decimal; -1 if malformed. */
static long long parse_length(const char *s)
{
    long long v = 0;
    size_t digits = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (digits >= 18)
            return -1;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\t')
        s++;
    return digits && *s == '\0' ? v : -1;
}

static void ready_reply(const stird_app *app, http_reply *r)
{
    stir_certcache_stats st;
    json_t *o;
    int ready = app->signer != NULL && app->trust_count > 0;

    stir_certcache_stats_get(app->cache, &st);
    o = json_pack("{s:s, s:I, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
                  "status", ready ? "ready" : "not ready",
                  "trustAnchors", (json_int_t)app->trust_count,
                  "signing", app->signer != NULL,
                  "certCache",
                  "entries", (json_int_t)st.entries, "hits", (json_int_t)st.hits,
                  "misses", (json_int_t)st.misses, "fetches", (json_int_t)st.fetches,
                  "fetchFailures", (json_int_t)st.fetch_failures,
                  "negativeHits", (json_int_t)st.neg_hits, "refreshes", (json_int_t)st.refreshes);
    if (o && !ready)
        json_object_set_new(o, "detail", json_string(app->signer ? "no trust anchors loaded"
                                                                 : "no signing key configured"));
    http_reply_json(r, ready ? 200 : 503, o);
}

/* Checks made on the request line and headers alone. Returns 1 and fills
 * `r` when the request is answered now; 0 when its body should be read. */
static int check_headers(const struct http_server *s, struct MHD_Connection *c, enum route rt,
                         const char *url, const char *method, size_t *cl, http_reply *r)
{
    char detail[1024], path[220];
    const char *te, *cls, *ct;
    long long n;
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                 strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

    if (rt == R_NONE) {
        http_clean_text(path, sizeof path, url);
        snprintf(detail, sizeof detail, "no resource at %s; the API is at %s and %s", path,
                 s->sign_path, s->verify_path);
        http_problem(r, 404, "Not Found", detail, "RESOURCE_URI_STRUCTURE_NOT_FOUND", NULL, NULL);
        return 1;
    }
    if (rt == R_HEALTH || rt == R_READY) {
        if (!is_get) {
            http_clean_text(path, sizeof path, method);
            snprintf(detail, sizeof detail, "method %s not allowed on %s; use GET", path, url);
            http_problem(r, 405, "Method Not Allowed", detail, NULL, NULL, NULL);
            r->allow = "GET, HEAD";
        } else if (rt == R_HEALTH) {
            r->status = 200;
            r->content_type = CT_JSON;
            r->body = strdup(HEALTH_BODY);
            r->len = sizeof HEALTH_BODY - 1;
        } else {
            ready_reply(s->app, r);
        }
        return 1;
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        http_clean_text(path, sizeof path, method);
        snprintf(detail, sizeof detail, "method %s not allowed on %s; use POST", path, url);
        http_problem(r, 405, "Method Not Allowed", detail, NULL, NULL, NULL);
        r->allow = "POST";
        return 1;
    }
    te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    cls = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (te || !cls) {
        http_problem(r, 411, "Length Required",
                     te ? "chunked request bodies are not accepted; send Content-Length"
                        : "a POST needs a Content-Length header",
                     NULL, NULL, NULL);
        return 1;
    }
    n = parse_length(cls);
    if (n < 0) {
        http_problem(r, 400, "Bad Request", "Content-Length is not a decimal number",
                     "INVALID_MSG_FORMAT", NULL, NULL);
        return 1;
    }
    if (n > s->app->cfg->max_body) {
        snprintf(detail, sizeof detail, "request body of %lld bytes exceeds the limit of %ld bytes",
                 n, s->app->cfg->max_body);
        http_problem(r, 413, "Payload Too Large", detail, NULL, NULL, NULL);
        return 1;
    }
    ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_type(ct)) {
        char got[100];
        http_clean_text(got, sizeof got, ct ? ct : "none");
        snprintf(detail, sizeof detail, "Content-Type must be application/json (got %s)", got);
        http_problem(r, 415, "Unsupported Media Type", detail, "UNSUPPORTED_MEDIA_TYPE", NULL,
                     NULL);
        return 1;
    }
    *cl = (size_t)n;
    return 0;
}

/* ---- naming the member that holds invalid UTF-8 ----------------------- */

/* U+10FFFF, a noncharacter: stands in for each invalid byte so the body
 * can be parsed once more to find where the bad bytes were. */
static const char SENTINEL[] = "\xf4\x8f\xbf\xbf";

/* Depth-first search for the sentinel; writes the member path to `path`. */
static int find_sentinel(const json_t *v, char *path, size_t cap)
{
    size_t base = strlen(path), i;
    const char *key;
    const json_t *child;

    if (json_is_string(v))
        return strstr(json_string_value(v), SENTINEL) != NULL;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child) {
            int in_key = strstr(key, SENTINEL) != NULL;
            if (!in_key)
                snprintf(path + base, cap - base, "%s%s", base ? "." : "", key);
            if (in_key || find_sentinel(child, path, cap))
                return 1;
            path[base] = '\0';
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child) {
            snprintf(path + base, cap - base, "[%zu]", i);
            if (find_sentinel(child, path, cap))
                return 1;
            path[base] = '\0';
        }
    }
    return 0;
}

/*
 * The body is JSON apart from invalid UTF-8: name the member that holds
 * the bad bytes (as libstir names fields: no wrapper, "orig.tn").
 * Returns 0 when it could not be located.
 */
static int utf8_problem(const struct req *rq, const json_error_t *jerr, http_reply *r)
{
    const unsigned char *b = (const unsigned char *)rq->buf;
    char *copy, path[STIR_FIELD_MAX + 64] = "", detail[300];
    const char *field;
    size_t o = 0;
    json_t *doc;
    int found = 0;

    copy = malloc(rq->len * 4 + 1);
    if (!copy)
        return 0;
    for (size_t i = 0; i < rq->len;) {
        size_t n = stir_utf8_seq(b + i, rq->len - i);
        if (n == 0) {
            memcpy(copy + o, SENTINEL, 4);
            o += 4;
            i++;
        } else {
            memcpy(copy + o, b + i, n);
            o += n;
            i += n;
        }
    }
    doc = json_loadb(copy, o, JSON_REJECT_DUPLICATES, NULL);
    free(copy);
    if (doc)
        found = find_sentinel(doc, path, sizeof path);
    json_decref(doc);
    if (!found || !path[0])
        return 0;
    field = path;
    if (strncmp(field, "signingRequest.", 15) == 0)
        field += 15;
    else if (strncmp(field, "verificationRequest.", 20) == 0)
        field += 20;
    snprintf(detail, sizeof detail, "%s is not valid UTF-8 (line %d, column %d)", field,
             jerr->line, jerr->column);
    http_problem(r, 400, "Invalid Parameter Value", detail,
                 field_is_mandatory(field) ? "MANDATORY_IE_INCORRECT" : "OPTIONAL_IE_INCORRECT",
                 field, "not valid UTF-8");
    snprintf(r->note, sizeof r->note, "field=%.100s", field);
    return 1;
}

/* ---- the fetch pool --------------------------------------------------------
 *
 * Requests that must wait for a fetch run here, on threads that may block,
 * while their connections stay suspended; the HTTP workers keep serving
 * everything whose content is cached.
 */

typedef void (*finish_fn)(const stird_app *app, const json_t *body, const json_t *req,
                          http_reply *r);

struct job {
    struct job *next;
    const stird_app *app;
    finish_fn finish;
    json_t *body;               /* owned reference */
    json_t *req;                /* owned reference: body's request object or a copy */
    http_reply *r;
    void (*done)(void *arg);
    void *arg;
};

static struct pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued, max_queued;
    int stopping;
    size_t n_threads;
    pthread_t threads[256];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void shutting_down(http_reply *r)
{
    http_problem(r, 503, "Service Unavailable", "the server is shutting down", NULL, NULL, NULL);
    r->retry_after = 1;
}

static void job_end(struct job *j)
{
    json_decref(j->req);
    json_decref(j->body);
    j->done(j->arg);
    free(j);
}

static void *pool_main(void *unused)
{
    (void)unused;
    for (;;) {
        struct job *j;
        int stopping;

        pthread_mutex_lock(&pool.lock);
        while (!pool.head && !pool.stopping)
            pthread_cond_wait(&pool.cond, &pool.lock);
        j = pool.head;
        if (j) {
            pool.head = j->next;
            if (!pool.head)
                pool.tail = NULL;
            pool.queued--;
        }
        stopping = pool.stopping;
        pthread_mutex_unlock(&pool.lock);
        if (!j)
            return NULL;        /* stopping and nothing left */
        if (stopping)
            shutting_down(j->r);
        else
            j->finish(j->app, j->body, j->req, j->r);
        job_end(j);
    }
}

/* Queue a job; -1 (nothing queued) when the pool is full or stopping. */
static int pool_defer(const stird_app *app, finish_fn finish, json_t *body, json_t *req,
                      http_reply *r, void (*done)(void *arg), void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (struct job){.app = app, .finish = finish, .body = json_incref(body),
                      .req = json_incref(req), .r = r, .done = done, .arg = arg};
    pthread_mutex_lock(&pool.lock);
    if (pool.stopping || pool.n_threads == 0 || pool.queued >= pool.max_queued) {
        pthread_mutex_unlock(&pool.lock);
        json_decref(j->req);
        json_decref(j->body);
        free(j);
        return -1;
    }
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pool.queued++;
    pthread_cond_signal(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

int fetch_pool_start(const stird_config *cfg, char *err, size_t errlen)
{
    size_t want = (size_t)cfg->fetch_threads;
    if (want > sizeof pool.threads / sizeof pool.threads[0])
        want = sizeof pool.threads / sizeof pool.threads[0];
    pool.max_queued = (size_t)cfg->fetch_queue;
    pool.stopping = 0;
    for (pool.n_threads = 0; pool.n_threads < want; pool.n_threads++) {
        int rc = pthread_create(&pool.threads[pool.n_threads], NULL, pool_main, NULL);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start the fetch threads: %s", strerror(rc));
            fetch_pool_stop();
            return -1;
        }
    }
    return 0;
}

void fetch_pool_stop(void)
{
    struct job *j;

    pthread_mutex_lock(&pool.lock);
    pool.stopping = 1;
    j = pool.head;              /* queued, not started: answer them now */
    pool.head = pool.tail = NULL;
    pool.queued = 0;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    while (j) {
        struct job *next = j->next;
        shutting_down(j->r);
        job_end(j);
        j = next;
    }
    /* Requests already running finish (within the fetch timeout). */
    for (size_t i = 0; i < pool.n_threads; i++)
        pthread_join(pool.threads[i], NULL);
    pool.n_threads = 0;
}

/* Called by a pool thread once rq->reply is filled. */
static void resume_deferred(void *arg)
{
    struct req *rq = arg;
    rq->state = ST_READY;
    MHD_resume_connection(rq->conn);
}

/* A request that must wait for a fetch: park the connection and let the
 * pool run `finish` on it. */
static int defer_request(const struct http_server *s, struct MHD_Connection *c, struct req *rq,
                         finish_fn finish, json_t *body, json_t *req)
{
    rq->conn = c;
    rq->state = ST_WAITING;
    rq->reply = calloc(1, sizeof *rq->reply);
    if (!rq->reply) {
        rq->state = ST_NEW;
        return -1;
    }
    /* Suspend first: the pool may finish (and resume) before we return. */
    MHD_suspend_connection(c);
    if (pool_defer(s->app, finish, body, req, rq->reply, resume_deferred, rq) != 0) {
        http_problem(rq->reply, 503, "Service Unavailable",
                     "too many requests are waiting for fetches (certificates, RCD content); "
                     "retry later", NULL, NULL, NULL);
        rq->reply->retry_after = 1;
        rq->state = ST_READY;
        MHD_resume_connection(c);
    }
    return 0;
}

/* Run the resource on a parsed body. Returns 1 when the request was
 * deferred (no reply yet), else 0 with `r` filled. */
static int run_resource(const struct http_server *s, struct MHD_Connection *c, struct req *rq,
                        json_t *body, http_reply *r)
{
    json_t *later = NULL;
    finish_fn finish;
    int wait, deferred = 0;

    if (rq->res->route == R_SIGNING) {
        wait = signing_handle(s->app, body, rq->res->ppt, r, &later);
        finish = signing_finish;
    } else {
        wait = verification_handle(s->app, body, r, &later);
        finish = verification_finish;
    }
    if (wait) {
        if (defer_request(s, c, rq, finish, body, later) == 0)
            deferred = 1;
        else
            http_problem(r, 500, "Internal Server Error", "out of memory", "SYSTEM_FAILURE",
                         NULL, NULL);
    }
    json_decref(later);
    return deferred;
}

/* Parse the gathered body and run the resource. Returns 1 when the
 * request was deferred (no reply yet), else 0 with `r` filled. */
static int dispatch(const struct http_server *s, struct MHD_Connection *c, struct req *rq,
                    http_reply *r)
{
    int deferred = 0;

    json_error_t jerr;
    json_t *body;
    char detail[400];

    if (rq->overflow) {
        http_problem(r, 400, "Bad Request", "more body bytes than Content-Length announced",
                     "INVALID_MSG_FORMAT", NULL, NULL);
        return 0;
    }
    if (rq->len == 0) {
        http_problem(r, 400, "Failed To Parse Message Body", "the request body is empty",
                     "INVALID_MSG_FORMAT", NULL, NULL);
        return 0;
    }
    body = json_loadb(rq->buf, rq->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        char text[JSON_ERROR_TEXT_LENGTH + 1];
        if (json_error_code(&jerr) == json_error_invalid_utf8 && utf8_problem(rq, &jerr, r))
            return 0;
        http_clean_text(text, sizeof text, jerr.text);
        snprintf(detail, sizeof detail, "%s at line %d, column %d: %s",
                 json_error_code(&jerr) == json_error_invalid_utf8
                     ? "request body is not valid UTF-8"
                     : "request body is not valid JSON",
                 jerr.line, jerr.column, text);
        http_problem(r, 400, "Failed To Parse Message Body", detail, "INVALID_MSG_FORMAT", NULL,
                     NULL);
        return 0;
    }
    if (!json_is_object(body))
        http_problem(r, 400, "Failed To Parse Message Body",
                     "request body must be a JSON object", "INVALID_MSG_FORMAT", NULL, NULL);
    else
        deferred = run_resource(s, c, rq, body, r);
    json_decref(body);
    return deferred;
}

/* Make room for `need` bytes: double, but never beyond Content-Length + 1. */
static int grow(struct req *rq, size_t need)
{
    size_t cap = rq->cap * 2 > need ? rq->cap * 2 : need;
    char *nb;
    if (cap > rq->cl + 1)
        cap = rq->cl + 1;
    if (cap < need)
        return -1;
    if (rq->buf == rq->inline_buf) {
        nb = malloc(cap);
        if (nb)
            memcpy(nb, rq->buf, rq->len);
    } else {
        nb = realloc(rq->buf, cap);
    }
    if (!nb)
        return -1;
    rq->buf = nb;
    rq->cap = cap;
    return 0;
}

static void req_free(struct req *rq)
{
    if (rq->buf != rq->inline_buf)
        free(rq->buf);
    if (rq->reply)
        free(rq->reply->body);      /* set only if never sent */
    free(rq->reply);
    free(rq);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *s = cls;
    struct req *rq = *con_cls;
    http_reply r;
    (void)version;

    if (rq == NULL) {                        /* headers are in */
        struct timespec t0;
        const struct resource *res = match_route(s, url);
        size_t cl = 0;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        memset(&r, 0, sizeof r);
        if (check_headers(s, c, res ? res->route : R_NONE, url, method, &cl, &r)) {
            *con_cls = &ANSWERED;
            return send_reply(c, &t0, method, url, &r);
        }
        rq = malloc(sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->res = res;
        rq->t0 = t0;
        rq->cl = cl;
        rq->len = 0;
        rq->overflow = 0;
        rq->state = ST_NEW;
        rq->conn = c;
        rq->reply = NULL;
        rq->buf = rq->inline_buf;
        rq->cap = sizeof rq->inline_buf;
        *con_cls = rq;
        return MHD_YES;
    }
    if ((void *)rq == &ANSWERED) {          /* a refused body, if any: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {                 /* a piece of the body */
        size_t n = *upload_data_size;
        if (n > rq->cl - rq->len) {
            rq->overflow = 1;
            n = rq->cl - rq->len;
        }
        if (rq->len + n + 1 > rq->cap && grow(rq, rq->len + n + 1) != 0)
            return MHD_NO;          /* out of memory: drop the connection */
        memcpy(rq->buf + rq->len, upload_data, n);
        rq->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->state == ST_READY)               /* back from the fetch pool */
        return send_reply(c, &rq->t0, method, url, rq->reply);
    if (rq->state == ST_WAITING)             /* still parked */
        return MHD_YES;
    memset(&r, 0, sizeof r);                 /* the whole body is in */
    rq->buf[rq->len] = '\0';
    if (dispatch(s, c, rq, &r))
        return MHD_YES;
    return send_reply(c, &rq->t0, method, url, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    if (*con_cls && *con_cls != (void *)&ANSWERED)
        req_free(*con_cls);
    *con_cls = NULL;
}

int http_listen_socket(const stird_addr *a, unsigned *port, char *err, size_t errlen)
{
    char where[300];
    int one = 1, fd;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    config_addr_str(a, where, sizeof where);
    fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: socket: %s", where, strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a->sa, a->salen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

http_server *http_start(const stird_app *app, char *err, size_t errlen)
{
    const stird_config *cfg = app->cfg;
    http_server *s = calloc(1, sizeof *s);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    int fd;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->app = app;
    snprintf(s->prefix, sizeof s->prefix, "%s/stir/v1/", cfg->routing_path);
    s->prefix_len = strlen(s->prefix);
    snprintf(s->sign_path, sizeof s->sign_path, "%s/stir/v1/signing", cfg->routing_path);
    snprintf(s->verify_path, sizeof s->verify_path, "%s/stir/v1/verification", cfg->routing_path);
    s->port = cfg->listen.port;
    fd = http_listen_socket(&cfg->listen, &s->port, err, errlen);
    if (fd < 0) {
        free(s);
        return NULL;
    }
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, &on_request, s,
                            /* first, so that every MHD message goes through it */
                            MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, NULL,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                            MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned int)(cfg->threads > 1 ? cfg->threads : 0),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->idle_timeout,
                            MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd refused the settings)");
        close(fd);
        free(s);
        return NULL;
    }
    return s;
}

unsigned http_port(const http_server *s)
{
    return s->port;
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
