/*
 * The Prometheus registry of stird (see metrics.h).
 *
 * Counters are _Atomic uint64 slots in fixed arrays indexed by label
 * value, added with relaxed ordering: a scrape may see one family a few
 * events ahead of another, which Prometheus tolerates, and recording
 * costs one uncontended-in-the-common-case atomic add. Each resource's
 * latency histogram sits on its own cache lines so that workers serving
 * different resources do not bounce one line between cores.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stir/stir.h>

typedef _Atomic uint64_t counter;

#define ADD(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)
#define GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* ---- label sets ------------------------------------------------------------ */

static const char *const RESOURCES[] = {
    "signing", "verification", "divSigning", "rphSigning", "divVerification", "rphVerification",
    "health",  "ready",        "metrics",    "x5u",        "other",
};
#define N_RES (sizeof RESOURCES / sizeof RESOURCES[0])

/* Every status stird answers with; others count as "other". */
static const unsigned STATUSES[] = {200, 400, 401, 403, 404, 405, 411,
                                    413, 415, 429, 431, 500, 503, 0};
#define N_STATUS (sizeof STATUSES / sizeof STATUSES[0])

/* Built-in PASSporT types; configured ones count as "other". The
 * baseline type (ppt "") is labelled "baseline": an empty label value is
 * the same as no label in Prometheus. */
static const char *const PPTS[] = {"shaken", "div", "rph", "rcd", "avatar", "baseline", "other"};
#define N_PPT (sizeof PPTS / sizeof PPTS[0])
#define PPT_BASELINE 5 /* index of "baseline" in PPTS */

/* RFC 8224 reason codes stird reports; "none" for a pass. */
static const int CODES[] = {0, 403, 428, 433, 436, 437, 438, -1};
#define N_CODE (sizeof CODES / sizeof CODES[0])

static const char *const VERSTATS[] = {"TN-Validation-Passed", "TN-Validation-Failed",
                                       "No-TN-Validation", "none"};
#define N_VERSTAT (sizeof VERSTATS / sizeof VERSTATS[0])

static const char *const REFUSALS[METRICS_REFUSAL_COUNT] = {
    "size",        "rate",       "authentication", "policy",    "fetch_queue",
    "connections", "fetch_wait", "sign_queue",     "sign_wait",
};

/* Latency bucket upper bounds in microseconds; one more bucket is +Inf. */
static const uint64_t LAT_BOUNDS_US[] = {100,    250,    500,     1000,    2500,
                                         5000,   10000,  25000,   50000,   100000,
                                         250000, 500000, 1000000, 2500000, 5000000};
#define N_LAT (sizeof LAT_BOUNDS_US / sizeof LAT_BOUNDS_US[0] + 1)

typedef struct {
    _Alignas(64) counter bucket[N_LAT]; /* non-cumulative */
    counter sum_us;
    counter by_status[N_STATUS];
} resource_stats;

static struct {
    resource_stats res[N_RES];
    counter verify[N_PPT][2][N_CODE]; /* [ppt][pass][code] */
    counter verstat[N_VERSTAT];
    counter refusal[METRICS_REFUSAL_COUNT];
    _Atomic int64_t fetch_queue_depth;
    _Atomic int64_t sign_queue_depth;
    _Atomic int64_t fetch_queue_capacity;
    _Atomic int64_t signing_not_after;
    _Atomic(stir_certcache *) certcache;
    void (*_Atomic cc_stats)(void *arg, stir_certcache_stats *out);
    void *_Atomic cc_arg;
    _Atomic(stir_rcd *) rcd;
    int64_t start_time;
} M;

void metrics_init(void)
{
    struct timespec ts;
    memset(&M, 0, sizeof M);
    clock_gettime(CLOCK_REALTIME, &ts);
    M.start_time = (int64_t)ts.tv_sec;
}

/* ---- recording ------------------------------------------------------------- */

/* Index of label v among the first n of `labels`, or n (the "other" slot
 * that follows them) for NULL or any other value. */
static size_t label_index(const char *const *labels, size_t n, const char *v)
{
    size_t i = 0;
    if (v)
        while (i < n && strcmp(v, labels[i]) != 0)
            i++;
    return v ? i : n;
}

static size_t resource_index(const char *r)
{
    return label_index(RESOURCES, N_RES - 1, r);
}

static size_t status_index(unsigned s)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (STATUSES[i] == s)
            return i;
    return N_STATUS - 1;
}

void metrics_request(const char *resource, unsigned status, long long latency_us)
{
    resource_stats *rs = &M.res[resource_index(resource)];
    uint64_t us = latency_us < 0 ? 0 : (uint64_t)latency_us;
    size_t b = 0;

    while (b < N_LAT - 1 && us > LAT_BOUNDS_US[b])
        b++;
    ADD(rs->by_status[status_index(status)]);
    ADD(rs->bucket[b]);
    atomic_fetch_add_explicit(&rs->sum_us, us, memory_order_relaxed);
}

static size_t ppt_index(const char *ppt)
{
    if (!ppt || !*ppt)
        return PPT_BASELINE;
    size_t i = label_index(PPTS, PPT_BASELINE, ppt);
    return i < PPT_BASELINE ? i : N_PPT - 1;
}

static size_t code_index(int code)
{
    for (size_t i = 1; i < N_CODE - 1; i++)
        if (CODES[i] == code)
            return i;
    return N_CODE - 1;
}

void metrics_verify_result(const char *ppt, int pass, int reason_code)
{
    size_t c = pass ? 0 : code_index(reason_code);
    ADD(M.verify[ppt_index(ppt)][pass ? 1 : 0][c]);
}

void metrics_verstat(const char *verstat)
{
    ADD(M.verstat[label_index(VERSTATS, N_VERSTAT - 1, verstat)]);
}

void metrics_verification(const stir_verify_outcome *o)
{
    for (size_t i = 0; i < o->n; i++) {
        const stir_verify_result *r = &o->results[i];
        metrics_verify_result(r->ppt, r->pass, r->pass ? 0 : r->err.code);
    }
    metrics_verstat(o->verstat);
}

void metrics_refusal(enum metrics_refusal cause)
{
    if ((unsigned)cause < METRICS_REFUSAL_COUNT)
        ADD(M.refusal[cause]);
}

void metrics_set_rcd(stir_rcd *rcd)
{
    atomic_store(&M.rcd, rcd);
}

void metrics_fetch_queue_depth(long depth)
{
    atomic_store_explicit(&M.fetch_queue_depth, depth, memory_order_relaxed);
}

void metrics_sign_queue_depth(long depth)
{
    atomic_store_explicit(&M.sign_queue_depth, depth, memory_order_relaxed);
}

void metrics_fetch_queue_capacity(long capacity)
{
    atomic_store_explicit(&M.fetch_queue_capacity, capacity, memory_order_relaxed);
}

void metrics_set_certcache(stir_certcache *cc)
{
    atomic_store(&M.certcache, cc);
}

void metrics_set_certcache_source(void (*stats)(void *arg, stir_certcache_stats *out), void *arg)
{
    atomic_store(&M.cc_arg, arg);
    atomic_store(&M.cc_stats, stats);
}

void metrics_set_signing_not_after(time_t not_after)
{
    atomic_store(&M.signing_not_after, (int64_t)not_after);
}

/* ---- rendering ------------------------------------------------------------- */

void metrics_buf_free(metrics_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void put(metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(metrics_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 16384;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
}

/* A label value in the exposition: \ " and newline escaped (format 0.0.4). */
static void put_label(metrics_buf *b, const char *v)
{
    char out[256];
    size_t o = 0;
    for (; *v && o + 3 < sizeof out; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
    put(b, "%s", out);
}

/* HELP text: only \ and newline are escaped there. */
static void header(metrics_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s ", name);
    for (; *help; help++) {
        if (*help == '\\')
            put(b, "\\\\");
        else if (*help == '\n')
            put(b, "\\n");
        else
            put(b, "%c", *help);
    }
    put(b, "\n# TYPE %s %s\n", name, type);
}

/* A counter family with one label: name{label="labels[i]"} counters[i]. */
static void render_counters(metrics_buf *b, const char *name, const char *help, const char *label,
                            const char *const *labels, counter *counters, size_t n)
{
    header(b, name, "counter", help);
    for (size_t i = 0; i < n; i++)
        put(b, "%s{%s=\"%s\"} %llu\n", name, label, labels[i],
            (unsigned long long)GET(counters[i]));
}

static void render_requests(metrics_buf *b)
{
    header(b, "stird_requests_total", "counter",
           "HTTP requests answered, by resource and status code.");
    for (size_t r = 0; r < N_RES; r++)
        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t v = GET(M.res[r].by_status[s]);
            /* The two Ms resources always appear, so rate() has a series
             * from the first scrape; the rest once they are used. */
            if (v == 0 && !(r < 2 && STATUSES[s] == 200))
                continue;
            if (STATUSES[s])
                put(b, "stird_requests_total{resource=\"%s\",status=\"%u\"} %llu\n", RESOURCES[r],
                    STATUSES[s], (unsigned long long)v);
            else
                put(b, "stird_requests_total{resource=\"%s\",status=\"other\"} %llu\n",
                    RESOURCES[r], (unsigned long long)v);
        }

    header(b, "stird_request_duration_seconds", "histogram",
           "Time from request received to response queued, by resource.");
    for (size_t r = 0; r < N_RES; r++) {
        uint64_t cum = 0, c[N_LAT];
        for (size_t i = 0; i < N_LAT; i++)
            cum += (c[i] = GET(M.res[r].bucket[i]));
        if (cum == 0 && r >= 2)
            continue;
        cum = 0;
        for (size_t i = 0; i < N_LAT; i++) {
            cum += c[i];
            if (i < N_LAT - 1)
                put(b, "stird_request_duration_seconds_bucket{resource=\"%s\",le=\"%g\"} %llu\n",
                    RESOURCES[r], (double)LAT_BOUNDS_US[i] / 1e6, (unsigned long long)cum);
            else
                put(b, "stird_request_duration_seconds_bucket{resource=\"%s\",le=\"+Inf\"} %llu\n",
                    RESOURCES[r], (unsigned long long)cum);
        }
        put(b, "stird_request_duration_seconds_sum{resource=\"%s\"} %.6f\n", RESOURCES[r],
            (double)GET(M.res[r].sum_us) / 1e6);
        put(b, "stird_request_duration_seconds_count{resource=\"%s\"} %llu\n", RESOURCES[r],
            (unsigned long long)cum);
    }
}

static void render_verification(metrics_buf *b)
{
    header(b, "stird_verify_results_total", "counter",
           "PASSporTs verified, by ppt, status (pass/fail) and RFC 8224 reasonCode.");
    for (size_t p = 0; p < N_PPT; p++)
        for (int pass = 1; pass >= 0; pass--)
            for (size_t c = 0; c < N_CODE; c++) {
                uint64_t v = GET(M.verify[p][pass][c]);
                char code[16];
                if (v == 0)
                    continue;
                if (CODES[c] > 0)
                    snprintf(code, sizeof code, "%d", CODES[c]);
                else
                    snprintf(code, sizeof code, "%s", CODES[c] == 0 ? "none" : "other");
                put(b,
                    "stird_verify_results_total{ppt=\"%s\",status=\"%s\",reason_code=\"%s\"} "
                    "%llu\n",
                    PPTS[p], pass ? "pass" : "fail", code, (unsigned long long)v);
            }

    render_counters(b, "stird_verstat_total",
                    "Verification responses by verstatValue (none: the response had none).",
                    "verstat", VERSTATS, M.verstat, N_VERSTAT);
}

static void render_refusals(metrics_buf *b)
{
    render_counters(b, "stird_refusals_total", "Requests refused before any work, by cause.",
                    "cause", REFUSALS, M.refusal, METRICS_REFUSAL_COUNT);
}

static void render_fetches(metrics_buf *b)
{
    stir_certcache *cc = atomic_load(&M.certcache);
    stir_rcd *rcd = atomic_load(&M.rcd);

    if (rcd) {
        stir_rcd_stats rs;
        stir_rcd_stats_get(rcd, &rs);
        header(b, "stird_rcd_fetches_total", "counter",
               "Rich Call Data content fetches (icons, jCards, linked files), by outcome.");
        put(b, "stird_rcd_fetches_total{outcome=\"ok\"} %lu\n",
            rs.fetches >= rs.fetch_failures ? rs.fetches - rs.fetch_failures : 0);
        put(b, "stird_rcd_fetches_total{outcome=\"failure\"} %lu\n", rs.fetch_failures);
        header(b, "stird_rcd_cache_hits_total", "counter",
               "Rich Call Data content answered from the cache.");
        put(b, "stird_rcd_cache_hits_total %lu\n", rs.hits);
        header(b, "stird_rcd_cache_entries", "gauge", "URLs in the Rich Call Data content cache.");
        put(b, "stird_rcd_cache_entries %zu\n", rs.entries);
        header(b, "stird_rcd_cache_bytes", "gauge", "Bytes of cached Rich Call Data content.");
        put(b, "stird_rcd_cache_bytes %zu\n", rs.bytes);
    }

    header(b, "stird_fetch_queue_depth", "gauge",
           "Requests waiting for a fetch thread (x5u or RCD content).");
    put(b, "stird_fetch_queue_depth %lld\n", (long long)atomic_load(&M.fetch_queue_depth));
    header(b, "stird_fetch_queue_capacity", "gauge",
           "Requests that may wait for a fetch thread (fetch_queue); beyond, 503.");
    put(b, "stird_fetch_queue_capacity %lld\n", (long long)atomic_load(&M.fetch_queue_capacity));
    header(b, "stird_sign_queue_depth", "gauge",
           "Signing requests waiting for a signing thread (token signature or RCD content).");
    put(b, "stird_sign_queue_depth %lld\n", (long long)atomic_load(&M.sign_queue_depth));

    void (*stats)(void *, stir_certcache_stats *) = atomic_load(&M.cc_stats);
    if (!cc && !stats)
        return;
    stir_certcache_stats st;
    static const unsigned bounds_ms[] = {STIR_CERTCACHE_FETCH_BOUNDS_MS};
    if (stats)
        stats(atomic_load(&M.cc_arg), &st);
    else
        stir_certcache_stats_get(cc, &st);

    header(b, "stird_certcache_hits_total", "counter",
           "Certificate cache lookups answered by a cached chain.");
    put(b, "stird_certcache_hits_total %lu\n", st.hits);
    header(b, "stird_certcache_negative_hits_total", "counter",
           "Certificate cache lookups answered by a cached fetch failure (back-off).");
    put(b, "stird_certcache_negative_hits_total %lu\n", st.neg_hits);
    header(b, "stird_certcache_misses_total", "counter",
           "Certificate cache lookups that needed a fetch.");
    put(b, "stird_certcache_misses_total %lu\n", st.misses);
    header(b, "stird_certcache_entries", "gauge",
           "Chains (and failures) in the certificate cache.");
    put(b, "stird_certcache_entries %zu\n", st.entries);
    header(b, "stird_certcache_fetches_total", "counter", "x5u fetches by outcome.");
    put(b, "stird_certcache_fetches_total{outcome=\"ok\"} %lu\n",
        st.fetches >= st.fetch_failures ? st.fetches - st.fetch_failures : 0);
    put(b, "stird_certcache_fetches_total{outcome=\"failure\"} %lu\n", st.fetch_failures);
    header(b, "stird_certcache_refreshes_total", "counter",
           "Background refreshes of chains about to expire.");
    put(b, "stird_certcache_refreshes_total %lu\n", st.refreshes);
    header(b, "stird_certcache_fetch_duration_seconds", "histogram",
           "Duration of x5u fetches (network and TLS).");
    unsigned long cum = 0;
    for (size_t i = 0; i < STIR_CERTCACHE_FETCH_BUCKETS; i++) {
        cum += st.fetch_latency[i];
        if (i < STIR_CERTCACHE_FETCH_BUCKETS - 1)
            put(b, "stird_certcache_fetch_duration_seconds_bucket{le=\"%g\"} %lu\n",
                bounds_ms[i] / 1000.0, cum);
        else
            put(b, "stird_certcache_fetch_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
    }
    put(b, "stird_certcache_fetch_duration_seconds_sum %.6f\n", st.fetch_seconds_sum);
    put(b, "stird_certcache_fetch_duration_seconds_count %lu\n", cum);
}

static void render_process(metrics_buf *b, time_t now)
{
    int64_t na = atomic_load(&M.signing_not_after);

    header(b, "stird_build_info", "gauge", "Version of this stird; always 1.");
    put(b, "stird_build_info{version=\"");
    put_label(b, STIR_VERSION);
    put(b, "\"} 1\n");
    header(b, "stird_start_time_seconds", "gauge", "Start time of the process, Unix seconds.");
    put(b, "stird_start_time_seconds %lld\n", (long long)M.start_time);
    if (na) {
        header(b, "stird_signing_cert_expiry_seconds", "gauge",
               "Seconds until the signing certificate expires (negative: expired).");
        put(b, "stird_signing_cert_expiry_seconds %lld\n", (long long)(na - (int64_t)now));
        header(b, "stird_signing_cert_not_after_seconds", "gauge",
               "notAfter of the signing certificate, Unix seconds.");
        put(b, "stird_signing_cert_not_after_seconds %lld\n", (long long)na);
    }
}

int metrics_render(metrics_buf *b, time_t now)
{
    render_requests(b);
    render_verification(b);
    render_refusals(b);
    render_fetches(b);
    render_process(b, now);
    return b->oom ? -1 : 0;
}
