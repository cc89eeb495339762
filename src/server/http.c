/*
 * The Ms API over stird's connection layer (conn.c).
 *
 * Every request is checked as soon as its headers are in (route, method,
 * Content-Length, Content-Type, then the gate), so anything that will be
 * refused is refused before a byte of its body is read. Accepted bodies
 * are gathered by the connection layer (never more than max_body), parsed
 * once with jansson and handed to signing.c or verification.c, which fill
 * an http_reply. A request that must wait for a fetch (an x5u certificate
 * for verification, RCD content for signing) is parked and finished on
 * this server's fetch pool, then resumed on its worker.
 */
#include "http.h"
#include "audit.h"
#include "auth.h"
#include "conn.h"
#include "credentials.h"
#include "fetchpool.h"
#include "holder.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum route { R_NONE, R_SIGNING, R_VERIFICATION, R_HEALTH, R_READY };

/* The resources under {apiRoot}/stir/v1/. */
struct resource {
    const char *name;
    enum route route;
    const char *ppt; /* type implied by a legacy signing resource */
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
#define N_RESOURCES (sizeof RESOURCES / sizeof RESOURCES[0])
static const struct resource HEALTH = {"health", R_HEALTH, NULL};
static const struct resource READY = {"ready", R_READY, NULL};

struct http_server {
    const stird_app *app;
    unsigned port;
    unsigned metrics_port; /* 0: no metrics listener */
    char prefix[256];      /* "{routing_path}/stir/v1/" */
    size_t prefix_len;
    char sign_path[256];
    char verify_path[256];
    fetchpool *pool;      /* verifications waiting on fetches */
    fetchpool *sign_pool; /* signing: token signatures, signing RCD fetches */
    tls_slot *tls;
    conn_server *conns;
};

static const char HEALTH_BODY[] = "{\"status\":\"alive\"}";
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

int http_reply_header(http_reply *r, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") ||
        r->headers_len + nl + vl + 4 >= sizeof r->headers)
        return -1;
    memcpy(r->headers + r->headers_len, name, nl);
    memcpy(r->headers + r->headers_len + nl, ": ", 2);
    memcpy(r->headers + r->headers_len + nl + 2, value, vl);
    memcpy(r->headers + r->headers_len + nl + 2 + vl, "\r\n", 3);
    r->headers_len += nl + vl + 4;
    return 0;
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

void http_problem_from_stir(http_reply *r, const stir_error *err)
{
    if (err->code == STIR_ERR_INPUT) {
        int missing = err->missing;
        const char *cause = missing                                  ? "MANDATORY_IE_MISSING"
                            : stir_ms_field_is_mandatory(err->field) ? "MANDATORY_IE_INCORRECT"
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

/* ---- helpers ------------------------------------------------------------- */

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

/*
 * Ready when at least one resource can be served: signing needs the
 * signing key, verification needs trust anchors. A verification-only
 * deployment is ready, with "signing": false.
 */
static void ready_reply(const stird_app *app, http_reply *r)
{
    stir_certcache_stats st;
    json_t *o;
    cred_ref *ref = cred_acquire(app->creds);
    holder_ref *vref = holder_acquire(app->verif);
    const verif *v = holder_obj(vref);
    size_t anchors = v->trust_count;
    int can_sign = cred_signer(ref) != NULL, can_verify = anchors > 0;
    int ready = can_sign || can_verify;

    cred_release(ref);
    stir_certcache_stats_get(v->cache, &st);
    holder_release(vref);
    o = json_pack("{s:s, s:I, s:b, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "status",
                  ready ? "ready" : "not ready", "trustAnchors", (json_int_t)anchors, "signing",
                  can_sign, "verification", can_verify, "certCache", "entries",
                  (json_int_t)st.entries, "hits", (json_int_t)st.hits, "misses",
                  (json_int_t)st.misses, "fetches", (json_int_t)st.fetches, "fetchFailures",
                  (json_int_t)st.fetch_failures, "negativeHits", (json_int_t)st.neg_hits,
                  "refreshes", (json_int_t)st.refreshes);
    if (o && !ready)
        json_object_set_new(o, "detail",
                            json_string("no signing key configured and no trust "
                                        "anchors loaded"));
    http_reply_json(r, ready ? 200 : 503, o);
}

/* Checks made on the request line and headers alone. Returns 1 and fills
 * `r` when the request is answered now; 0 when its body should be read. */
static int check_headers(const struct http_server *s, conn *c, enum route rt, http_reply *r)
{
    char detail[1024], path[220];
    const char *url = conn_path(c), *method = conn_method(c), *ct;
    long long n = conn_content_length(c);
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

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
            r->body = (char *)HEALTH_BODY;
            r->body_static = 1;
            r->len = sizeof HEALTH_BODY - 1;
        } else {
            ready_reply(s->app, r);
        }
        return 1;
    }
    if (strcmp(method, "POST") != 0) {
        http_clean_text(path, sizeof path, method);
        snprintf(detail, sizeof detail, "method %s not allowed on %s; use POST", path, url);
        http_problem(r, 405, "Method Not Allowed", detail, NULL, NULL, NULL);
        r->allow = "POST";
        return 1;
    }
    if (n < 0 && !conn_chunked(c)) {
        http_problem(r, 411, "Length Required",
                     "a POST needs a body: send Content-Length (or a chunked body)", NULL, NULL,
                     NULL);
        return 1;
    }
    if (n > s->app->cfg->max_body) {
        snprintf(detail, sizeof detail, "request body of %lld bytes exceeds the limit of %ld bytes",
                 n, s->app->cfg->max_body);
        http_problem(r, 413, "Payload Too Large", detail, NULL, NULL, NULL);
        return 1;
    }
    ct = conn_header(c, "Content-Type");
    if (!is_json_type(ct)) {
        char got[100];
        http_clean_text(got, sizeof got, ct ? ct : "none");
        snprintf(detail, sizeof detail, "Content-Type must be application/json (got %s)", got);
        http_problem(r, 415, "Unsupported Media Type", detail, "UNSUPPORTED_MEDIA_TYPE", NULL,
                     NULL);
        return 1;
    }
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
        json_object_foreach ((json_t *)v, key, child) {
            int in_key = strstr(key, SENTINEL) != NULL;
            if (!in_key)
                snprintf(path + base, cap - base, "%s%s", base ? "." : "", key);
            if (in_key || find_sentinel(child, path, cap))
                return 1;
            path[base] = '\0';
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, child) {
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
static int utf8_problem(const char *buf, size_t len, const json_error_t *jerr, http_reply *r)
{
    const unsigned char *b = (const unsigned char *)buf;
    char *copy, path[STIR_FIELD_MAX + 64] = "", detail[300];
    const char *field;
    size_t o = 0;
    json_t *doc;
    int found = 0;

    copy = malloc(len * 4 + 1);
    if (!copy)
        return 0;
    for (size_t i = 0; i < len;) {
        size_t n = stir_utf8_seq(b + i, len - i);
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
    snprintf(detail, sizeof detail, "%s is not valid UTF-8 (line %d, column %d)", field, jerr->line,
             jerr->column);
    http_problem(r, 400, "Invalid Parameter Value", detail,
                 stir_ms_field_is_mandatory(field) ? "MANDATORY_IE_INCORRECT"
                                                   : "OPTIONAL_IE_INCORRECT",
                 field, "not valid UTF-8");
    snprintf(r->note, sizeof r->note, "field=%.100s", field);
    return 1;
}

/* ---- the gate's per-request state and the audit trail ------------------ */

/*
 * What the gate hands from the headers to the body and the reply
 * (conn_data). Without a gate it is one of OPEN[], shared and constant;
 * with one it is malloc'd and holds the request's `auth` until api_done.
 */
struct req_state {
    const struct resource *res;
    auth_ref *a;              /* NULL: no gate */
    const policy_client *pol; /* NULL: no policy applies; valid while `a` is held */
};

static const struct req_state OPEN[N_RESOURCES] = {
    {&RESOURCES[0], NULL, NULL}, {&RESOURCES[1], NULL, NULL}, {&RESOURCES[2], NULL, NULL},
    {&RESOURCES[3], NULL, NULL}, {&RESOURCES[4], NULL, NULL}, {&RESOURCES[5], NULL, NULL},
};

/* The signingRequest object of a body (the body itself without wrapper),
 * or NULL; and the type it asks for. */
static const json_t *signing_request_of(const json_t *body)
{
    const json_t *w = json_object_get(body, "signingRequest");
    if (w)
        return json_is_object(w) ? w : NULL;
    return json_is_object(body) ? body : NULL;
}

/* The ppt the request will be signed as (the signer's own rule), so the
 * policy judges and the audit records exactly that; NULL when the request
 * mixes types (the signer refuses it with 400). */
static const char *ppt_of(const struct resource *res, const json_t *req)
{
    const char *ppt = NULL;
    stir_error e;
    if (res->ppt)
        return res->ppt;
    stir_error_clear(&e);
    return stir_ms_sign_ppt(req, &ppt, &e) == 0 ? ppt : NULL;
}

/*
 * One audit record for a signing request that got past the gate: the
 * Identity value when it was signed, else the status and the problem's
 * detail. Only when audit_log is set; refusals are not the hot path, and
 * a signed reply is read back only with an audit trail to write.
 */
static void audit_signing(const struct http_server *s, const http_client *cl,
                          const struct resource *res, const json_t *body, const http_reply *r)
{
    audit *au = s->app->audit;
    const char *rid = r->request_id[0] ? r->request_id : NULL;
    json_t *doc;

    if (!au)
        return;
    if (r->status == 200) {
        /* signing.c hands over what it signed: no need to read the reply */
        if (r->identity)
            audit_signed(au, cl, app_now(s->app), rid, r->identity);
        else
            log_msg(LOG_LVL_ERROR, "audit: a signing reply without identityHeader");
        return;
    }
    const json_t *req = signing_request_of(body);
    doc = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    audit_refused(au, cl, app_now(s->app), rid, req, ppt_of(res, req), r->status,
                  json_string_value(json_object_get(doc, "detail")));
    json_decref(doc);
}

/* ---- deferred requests ---------------------------------------------------- */

/* A parked request: what its completion needs on the fetch pool. */
struct deferred {
    const struct http_server *s;
    conn *c;
    const struct resource *res;
    json_t *body;
    http_reply *r;
    const char *const *signers; /* the client's policy "signers" (the
                                     * auth holding them outlives the job) */
    size_t n_signers;
};

/* fetchpool_finish_fn of each resource, with the request's context. */
static void finish_signing(const stird_app *app, const json_t *body, const json_t *req,
                           http_reply *r, void *arg)
{
    const struct deferred *d = arg;
    signing_finish(app, body, req, d->signers, d->n_signers, r);
}

static void finish_verification(const stird_app *app, const json_t *body, const json_t *req,
                                http_reply *r, void *arg)
{
    (void)arg;
    verification_finish(app, body, req, r);
}

/* Called on a fetch-pool thread once the reply is filled. The connection
 * is parked (its worker does not touch it) until conn_resume. */
static void resume_deferred(void *arg)
{
    struct deferred *d = arg;
    conn *c = d->c;
    if (d->res->route == R_SIGNING)
        audit_signing(d->s, conn_client(c), d->res, d->body, d->r);
    json_decref(d->body);
    free(d);
    conn_resume(c);
}

/* Whose turn a deferred request waits for: the authenticated name, else
 * the client certificate's identity, else the address (IPv6: its
 * client_ipv6_prefix). */
static void pool_client_key(const struct http_server *s, conn *c, char *key, size_t cap)
{
    const http_client *cl = conn_client(c);
    if (cl->principal[0])
        snprintf(key, cap, "p:%s", cl->principal);
    else if (cl->has_cert && cl->identity[0])
        snprintf(key, cap, "i:%s", cl->identity);
    else {
        memcpy(key, "a:", 3);
        client_addr_key(cl->addr, (int)s->app->cfg->client_ipv6_prefix, key + 2, cap - 2);
    }
}

/* A request that must wait for a fetch or a token: park it and let its
 * lane's pool run `finish` on it. Signing has a lane of its own, so that
 * verifications waiting on outsiders' repositories never hold the threads
 * the carrier's own signing needs. Returns 1 (parked) or 0 with a 503 in
 * `r`. */
static int defer_request(const struct http_server *s, conn *c, const struct resource *res,
                         const char *const *signers, size_t n_signers, fetchpool_finish_fn finish,
                         json_t *body, json_t *req, http_reply *r)
{
    char key[300];
    int rc = FETCHPOOL_FULL;
    int signing = res->route == R_SIGNING;
    struct deferred *d = malloc(sizeof *d);
    pool_client_key(s, c, key, sizeof key);
    if (d) {
        *d = (struct deferred){s, c, res, json_incref(body), r, signers, n_signers};
        rc = fetchpool_run(signing ? s->sign_pool : s->pool, key, s->app, finish, body, req, r,
                           resume_deferred, d);
        if (rc == 0)
            return 1;
        json_decref(body);
        free(d);
    }
    metrics_refusal(signing ? METRICS_REFUSED_SIGN_QUEUE : METRICS_REFUSED_FETCH_QUEUE);
    const char *detail;
    if (signing)
        detail = rc == FETCHPOOL_CLIENT_FULL
                     ? "this client already has too many signing requests waiting for a signing "
                       "thread (token signatures, RCD content; fetch_client_queue); retry later"
                     : "too many signing requests are waiting for a signing thread (token "
                       "signatures, RCD content; fetch_queue); retry later";
    else
        detail = rc == FETCHPOOL_CLIENT_FULL
                     ? "this client already has too many requests waiting for fetches "
                       "(certificates, RCD content; fetch_client_queue); retry later"
                     : "too many requests are waiting for fetches (certificates, RCD content; "
                       "fetch_queue); retry later";
    http_problem(r, 503, "Service Unavailable", detail, NULL, NULL, NULL);
    r->retry_after = 1;
    return 0;
}

/* The requestId of the request, for the access log. */
static void note_request_id(const json_t *body, const struct resource *res, http_reply *r)
{
    /* The Ms module's rule of where requestId stands; a bad one is the
     * resource's 400 later, and not logged. */
    const json_t *req = stir_ms_unwrap(
        body, res->route == R_SIGNING ? "signingRequest" : "verificationRequest", NULL);
    const char *rid = NULL;
    size_t len;
    if (req && stir_ms_request_id(req, req == body ? NULL : body, &rid, &len, NULL) == 0 && rid)
        snprintf(r->request_id, sizeof r->request_id, "%.*s", (int)len, rid);
}

/*
 * Signing with a PKCS#11 token key, on a fetch-pool thread: a token
 * signature is several round trips to the token (~0.4 of the file-key
 * rate with SoftHSM, more with a network HSM), too long to hold an event
 * loop that serves other connections. `ppt` is the type a legacy
 * resource implies, as a JSON string, or NULL. The whole signing path
 * runs here, RCD fetches included (blocking is fine on this thread).
 */
static void sign_on_pool(const stird_app *app, const json_t *body, const json_t *ppt, http_reply *r,
                         void *arg)
{
    const struct deferred *d = arg;
    json_t *later = NULL;
    if (signing_handle(app, body, json_string_value(ppt), d->signers, d->n_signers, r, &later))
        signing_finish(app, body, later, d->signers, d->n_signers, r);
    json_decref(later);
}

/* Run the resource on a parsed body. Returns 1 when the request was
 * deferred (no reply yet), else 0 with `r` filled. */
static int run_resource(const struct http_server *s, conn *c, const struct resource *res,
                        json_t *body, http_reply *r)
{
    const struct req_state *st = conn_data(c);
    json_t *later = NULL;
    fetchpool_finish_fn finish;
    int wait, deferred = 0;
    size_t n_signers;
    const char *const *signers = policy_signers(st->pol, &n_signers);

    note_request_id(body, res, r);
    if (res->route == R_SIGNING && s->app->sign_on_pool) {
        json_t *ppt = res->ppt ? json_string(res->ppt) : NULL;
        deferred = defer_request(s, c, res, signers, n_signers, sign_on_pool, body, ppt, r);
        json_decref(ppt);
        return deferred;
    }
    if (res->route == R_SIGNING) {
        wait = signing_handle(s->app, body, res->ppt, signers, n_signers, r, &later);
        finish = finish_signing;
    } else {
        wait = verification_handle(s->app, body, r, &later);
        finish = finish_verification;
    }
    if (wait)
        deferred = defer_request(s, c, res, signers, n_signers, finish, body, later, r);
    json_decref(later);
    return deferred;
}

/* An auth_denial as the reply: ProblemDetails, WWW-Authenticate,
 * Retry-After; the rule that refused goes to the access log. */
static void deny(http_reply *r, const auth_denial *d)
{
    http_problem(r, d->status, d->title, d->detail, d->cause[0] ? d->cause : NULL, NULL, NULL);
    if (d->www_authenticate[0] && http_reply_header(r, "WWW-Authenticate", d->www_authenticate))
        log_msg(LOG_LVL_ERROR, "WWW-Authenticate value does not fit the reply");
    r->retry_after = d->retry_after;
    metrics_refusal(d->status == 429 ? METRICS_REFUSED_RATE
                    : d->rule[0]     ? METRICS_REFUSED_POLICY
                                     : METRICS_REFUSED_AUTHENTICATION);
    if (d->rule[0])
        snprintf(r->note, sizeof r->note, "rule=%s", d->rule);
    else if (d->cause[0])
        snprintf(r->note, sizeof r->note, "cause=%s", d->cause);
}

/* The request is over: give back its `auth` (conn_set_data_done). */
static void api_done(void *arg, conn *c)
{
    struct req_state *st = (struct req_state *)conn_data(c);
    (void)arg;
    auth_release(st->a);
    free(st);
}

/*
 * The authentication and authorization gate: runs once the headers are in
 * and the route is known, before the body is read. Returns 0 to go on
 * (conn_data then holds the request's req_state), or 1 with the refusal
 * (401/403/429) in `r`. Without a gate (auth = none, no policy file) it
 * is one pointer test. Refusals of signing by a client that was
 * identified (403, 429) are audited; 401s are not: nobody is known, and
 * an anonymous caller must not be able to fill the audit trail (the
 * access log has them).
 */
static int gate(struct http_server *s, conn *c, const struct resource *res, http_reply *r)
{
    auth_holder *h = s->app->auth;
    http_client *cl;
    auth_ref *a;
    const policy_client *pol;
    struct req_state *st;
    auth_denial d;
    unsigned status;

    if (!h) {
        assert(OPEN[res - RESOURCES].res == res);
        conn_set_data(c, &OPEN[res - RESOURCES]);
        return 0;
    }
    cl = conn_client(c);
    a = auth_acquire(h);
    status = auth_check(auth_of(a), cl, conn_header(c, "Authorization"),
                        res->route == R_SIGNING ? AUTH_RES_SIGNING : AUTH_RES_VERIFICATION,
                        app_now(s->app), &pol, &d);
    if (status == 0 && pol)
        status = policy_take_rate(pol, &d);
    if (status == 0) {
        if ((st = malloc(sizeof *st))) {
            *st = (struct req_state){res, a, pol};
            conn_set_data_done(c, st, api_done, s);
            return 0;
        }
        status =
            denial_set(&d, 500, "Internal Server Error", "SYSTEM_FAILURE", NULL, "out of memory");
    }
    deny(r, &d);
    if (res->route == R_SIGNING && status != 401 && s->app->audit)
        audit_refused(s->app->audit, cl, app_now(s->app), NULL, NULL, res->ppt, status, d.detail);
    auth_release(a);
    return 1;
}

static int api_headers(void *arg, conn *c, http_reply *r)
{
    struct http_server *s = arg;
    const struct resource *res = match_route(s, conn_path(c));

    /* A keep-alive connection's previous request may have named a
     * principal: this one has none until the gate says so. */
    if (s->app->auth)
        conn_client(c)->principal[0] = '\0';
    if (res)
        r->resource = res->name;
    if (check_headers(s, c, res ? res->route : R_NONE, r))
        return 1;
    return gate(s, c, res, r);
}

/* A client limited to some signers: does one of them cover the request? */
static unsigned check_signer_choice(const stird_app *app, const struct req_state *st,
                                    const json_t *req, const char *ppt, auth_denial *d)
{
    size_t n;
    unsigned status;
    if (!policy_signers(st->pol, &n))
        return 0;
    cred_ref *ref = cred_acquire(app->creds);
    status = policy_check_signer_choice(st->pol, cred_signer(ref), req, ppt, d);
    cred_release(ref);
    return status;
}

/*
 * The per-client signing rules, once the body is parsed: 0, or 1 with the
 * refusal (403 naming the rule, 400) in `r`.
 */
static int check_signing_policy(const struct http_server *s, const struct req_state *st,
                                const json_t *body, http_reply *r)
{
    const json_t *req;
    const char *ppt;
    auth_denial d;
    stir_error err;

    if (!st->pol || st->res->route != R_SIGNING)
        return 0;
    memset(&err, 0, sizeof err);
    if (!(req = stir_ms_unwrap(body, "signingRequest", &err))) {
        http_problem_from_stir(r, &err);
        return 1;
    }
    ppt = ppt_of(st->res, req);
    if (policy_check_signing(st->pol, req, ppt, &d) == 0 &&
        check_signer_choice(s->app, st, req, ppt, &d) == 0)
        return 0;
    deny(r, &d);
    return 1;
}

/* The whole body is in: parse it once and run the resource. */
static int api_request(void *arg, conn *c, const char *buf, size_t len, http_reply *r)
{
    struct http_server *s = arg;
    const struct req_state *st = conn_data(c);
    const struct resource *res = st->res;
    json_error_t jerr;
    json_t *body;
    char detail[400];
    int deferred = 0;

    if (len == 0) {
        http_problem(r, 400, "Failed To Parse Message Body", "the request body is empty",
                     "INVALID_MSG_FORMAT", NULL, NULL);
        body = NULL;
        goto answered;
    }
    body = stir_json_load(buf, len, &jerr);
    if (!body) {
        char text[JSON_ERROR_TEXT_LENGTH + 1];
        if (json_error_code(&jerr) == json_error_invalid_utf8 && utf8_problem(buf, len, &jerr, r))
            goto answered;
        http_clean_text(text, sizeof text, jerr.text);
        snprintf(detail, sizeof detail, "%s at line %d, column %d: %s",
                 json_error_code(&jerr) == json_error_invalid_utf8
                     ? "request body is not valid UTF-8"
                     : "request body is not valid JSON",
                 jerr.line, jerr.column, text);
        http_problem(r, 400, "Failed To Parse Message Body", detail, "INVALID_MSG_FORMAT", NULL,
                     NULL);
        goto answered;
    }
    if (!json_is_object(body)) {
        http_problem(r, 400, "Failed To Parse Message Body", "request body must be a JSON object",
                     "INVALID_MSG_FORMAT", NULL, NULL);
    } else if (check_signing_policy(s, st, body, r)) {
        note_request_id(body, res, r);
    } else {
        deferred = run_resource(s, c, res, body, r);
    }
answered:
    if (!deferred && res->route == R_SIGNING && s->app->audit)
        audit_signing(s, conn_client(c), res, body, r);
    json_decref(body);
    return deferred;
}

static const conn_handler API_HANDLER = {api_headers, api_request};

/* ---- the metrics listener ------------------------------------------------- */

/* GET /metrics: the whole exposition, rendered per scrape. Everything is
 * answered from the request line and headers. */
static int metrics_headers(void *arg, conn *c, http_reply *r)
{
    const char *m = conn_method(c);
    char detail[300], path[220];
    metrics_buf b = {0};

    (void)arg;
    r->resource = "metrics";
    if (strcmp(conn_path(c), "/metrics") != 0) {
        http_clean_text(path, sizeof path, conn_path(c));
        snprintf(detail, sizeof detail, "no resource at %s; the metrics are at /metrics", path);
        http_problem(r, 404, "Not Found", detail, "RESOURCE_URI_STRUCTURE_NOT_FOUND", NULL, NULL);
    } else if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
        http_clean_text(path, sizeof path, m);
        snprintf(detail, sizeof detail, "method %s not allowed on /metrics; use GET", path);
        http_problem(r, 405, "Method Not Allowed", detail, NULL, NULL, NULL);
        r->allow = "GET, HEAD";
    } else if (metrics_render(&b, time(NULL)) != 0) {
        metrics_buf_free(&b);
        http_problem(r, 500, "Internal Server Error", "out of memory rendering the metrics",
                     "SYSTEM_FAILURE", NULL, NULL);
    } else {
        r->status = 200;
        r->content_type = METRICS_CONTENT_TYPE;
        r->body = b.data; /* the connection layer frees it */
        r->len = b.len;
    }
    return 1;
}

static const conn_handler METRICS_HANDLER = {metrics_headers, conn_no_request};

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
    conn_listener ls[CONN_MAX_LISTENERS];
    size_t n = 0;
    conn_limits lim = {
        .threads = cfg->threads,
        .max_connections = cfg->max_connections,
        .max_per_client = cfg->max_connections_per_client,
        .request_timeout_ms = cfg->request_timeout * 1000,
        .idle_timeout_ms = cfg->idle_timeout * 1000,
        .max_header_bytes = (size_t)cfg->max_header_bytes,
        .max_body = (size_t)cfg->max_body,
        .ipv6_prefix = (int)cfg->client_ipv6_prefix,
    };
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
    if (cfg->tls_cert &&
        !(s->tls = tls_slot_load(cfg->tls_cert, cfg->tls_key, cfg->tls_client_ca, err, errlen)))
        goto fail;
    fetchpool_limits pl = {
        .threads = (size_t)cfg->fetch_threads,
        .queue = (size_t)cfg->fetch_queue,
        /* 0: a quarter of the threads / of the queue, at least 1 */
        .client_threads = (size_t)(cfg->fetch_client_threads ? cfg->fetch_client_threads
                                                             : cfg->fetch_threads / 4),
        .client_queue =
            (size_t)(cfg->fetch_client_queue ? cfg->fetch_client_queue : cfg->fetch_queue / 4),
        /* Waiting longer than a client may take to send a request means it
         * has given up, or soon will (issue 8 item 6). */
        .max_wait_ms = cfg->request_timeout * 1000,
        .what = "fetch thread",
        .depth_gauge = metrics_fetch_queue_depth,
        .wait_refusal = METRICS_REFUSED_FETCH_WAIT,
    };
    s->pool = fetchpool_create(&pl, err, errlen);
    if (!s->pool)
        goto fail;
    /* The signing lane: the same queue bounds and deadline over its own
     * threads. A client's share is a quarter of them (fetch_client_threads
     * when smaller): set to fetch_threads, as CONFIG.md offers to turn
     * the fetch cap off, it would let one client hold every signing
     * thread. */
    pl.threads = (size_t)cfg->sign_threads;
    pl.client_threads = (size_t)cfg->sign_threads / 4;
    if (cfg->fetch_client_threads && (size_t)cfg->fetch_client_threads < pl.client_threads)
        pl.client_threads = (size_t)cfg->fetch_client_threads;
    pl.what = "signing thread";
    pl.depth_gauge = metrics_sign_queue_depth;
    pl.wait_refusal = METRICS_REFUSED_SIGN_WAIT;
    s->sign_pool = fetchpool_create(&pl, err, errlen);
    if (!s->sign_pool)
        goto fail;
    s->port = cfg->listen.port;
    fd = http_listen_socket(&cfg->listen, &s->port, err, errlen);
    if (fd < 0)
        goto fail;
    /* The listeners of this server: one entry each. */
    ls[n++] = (conn_listener){"api", fd, s->tls, &API_HANDLER, s};
    if (cfg->metrics_listen.set && !cfg->metrics_listen.off) {
        s->metrics_port = cfg->metrics_listen.port;
        fd = http_listen_socket(&cfg->metrics_listen, &s->metrics_port, err, errlen);
        if (fd < 0) {
            close(ls[0].fd);
            goto fail;
        }
        ls[n++] = (conn_listener){"metrics", fd, NULL, &METRICS_HANDLER, s};
    }
    if (!s->tls) {
        const char *h = cfg->listen.host;
        int loopback =
            strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
        if (!loopback)
            log_msg(LOG_LVL_WARN,
                    "PLAIN HTTP on %s, a non-loopback address: anyone on the network "
                    "can read and forge Ms requests and answers; set tls-cert/tls-key "
                    "(and tls-client-ca)",
                    h);
    }
    s->conns = conn_server_start(&lim, ls, n, err, errlen);
    if (!s->conns) {
        for (size_t i = 0; i < n; i++)
            close(ls[i].fd);
        goto fail;
    }
    if (s->tls)
        log_msg(LOG_LVL_INFO, "Ms API over HTTPS%s",
                cfg->tls_client_ca ? " with mutual TLS (client certificates required)" : "");
    return s;
fail:
    fetchpool_destroy(s->sign_pool);
    fetchpool_destroy(s->pool);
    tls_slot_free(s->tls);
    free(s);
    return NULL;
}

tls_slot *http_tls(http_server *s)
{
    return s->tls;
}

unsigned http_port(const http_server *s)
{
    return s->port;
}

unsigned http_metrics_port(const http_server *s)
{
    return s->metrics_port;
}

int http_alive(void *arg)
{
    const http_server *s = arg;
    return conn_server_alive(s->conns);
}

void http_stop(http_server *s)
{
    if (!s)
        return;
    /* The pool first: it answers the parked requests and resumes their
     * connections, which the workers are still there to send. It is freed
     * only after the workers are gone: until then one may still try to
     * defer a request (and gets a 503). */
    fetchpool_stop(s->sign_pool);
    fetchpool_stop(s->pool);
    conn_server_stop(s->conns);
    fetchpool_destroy(s->sign_pool);
    fetchpool_destroy(s->pool);
    tls_slot_free(s->tls);
    free(s);
}
