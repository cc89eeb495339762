/*
 * stird metrics: a small Prometheus registry (text exposition format
 * 0.0.4) served on its own listener (metrics_listen).
 *
 * Every family has a fixed, bounded label set known at compile time, so
 * recording is one relaxed atomic add on a preallocated slot: no lock,
 * no allocation, no string building on the request path. Anything that
 * does not fit a known label value is counted under "other".
 *
 * Room for the families still to come (issue 11): authentication
 * (stird_auth_total{method,result}), policy (stird_policy_decisions_total
 * {rule,result}), CRL (stird_crl_fetches_total{outcome},
 * stird_crl_age_seconds) and HSM (stird_hsm_operations_total{op,result},
 * stird_hsm_latency_seconds). Add each as an enum of label values, a
 * counter array below and a render_* call in metrics_render; the refusal
 * causes "authentication" and "policy" exist already.
 */
#ifndef STIRD_METRICS_H
#define STIRD_METRICS_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include <stir/certcache.h>
#include <stir/rcd.h>
#include <stir/verify.h>

/* A growable output buffer; metrics_render appends to it. */
typedef struct metrics_buf {
    char *data;
    size_t len, cap;
    int oom; /* an allocation failed: the text is incomplete */
} metrics_buf;

void metrics_buf_free(metrics_buf *b);

/* Refusals: requests answered with an error before any work was done. */
enum metrics_refusal {
    METRICS_REFUSED_SIZE,           /* 413: body over max_body */
    METRICS_REFUSED_RATE,           /* 429: a rate limit */
    METRICS_REFUSED_AUTHENTICATION, /* 401/403 by the authentication gate */
    METRICS_REFUSED_POLICY,         /* 403 by the policy */
    METRICS_REFUSED_FETCH_QUEUE,    /* 503: the fetch queue is full */
    METRICS_REFUSED_CONNECTIONS,    /* max_connections reached */
    METRICS_REFUSED_FETCH_WAIT,     /* 503: waited for a fetch thread past request_timeout */
    METRICS_REFUSED_SIGN_QUEUE,     /* 503: the signing lane's queue is full */
    METRICS_REFUSED_SIGN_WAIT,      /* 503: waited for a signing thread past request_timeout */
    METRICS_REFUSAL_COUNT
};

/* Once at start-up, before any thread records: the process start time
 * (for stird_start_time_seconds) and zeroed counters. */
void metrics_init(void);

/*
 * One answered request on the API listener. `resource` is the resource
 * name without prefix ("signing", "verification", "divSigning",
 * "rphSigning", "divVerification", "rphVerification", "health", "ready",
 * "metrics", "x5u"); anything else (404s) counts as "other".
 */
void metrics_request(const char *resource, unsigned status, long long latency_us);

/* One PASSporT verified: its ppt ("" baseline), pass or fail, reasonCode. */
void metrics_verify_result(const char *ppt, int pass, int reason_code);

/* The verstatValue of one verification response (NULL: none). */
void metrics_verstat(const char *verstat);

/* Convenience: both of the above for one verified request: one walk
 * over its results. */
void metrics_verification(const stir_verify_outcome *o);

void metrics_refusal(enum metrics_refusal cause);

/* The fetch pool's queue: current depth (the pool sets it on every
 * enqueue/dequeue) and its capacity. */
void metrics_fetch_queue_depth(long depth);
void metrics_sign_queue_depth(long depth); /* the signing lane's pool */
void metrics_fetch_queue_capacity(long capacity);

/* Sources read at render time (NULL to unset). The certificate cache is
 * asked for stir_certcache_stats_get on each scrape. */
void metrics_set_certcache(stir_certcache *cc);
/* Or a function that fills the stats (of a cache that SIGHUP may replace:
 * it takes a reference for the call); set once before the server starts,
 * NULL to unset. Wins over metrics_set_certcache. */
void metrics_set_certcache_source(void (*stats)(void *arg, stir_certcache_stats *out), void *arg);

/* The RCD content fetcher, asked for stir_rcd_stats_get on each scrape. */
void metrics_set_rcd(stir_rcd *rcd);

/* notAfter of the signing certificate (the leaf; 0: no signing). */
void metrics_set_signing_not_after(time_t not_after);

/*
 * Append the whole exposition (text/plain; version=0.0.4) to `b`.
 * `now` is the clock for the expiry gauge. Returns 0, or -1 when memory
 * ran out (b->oom set).
 */
int metrics_render(metrics_buf *b, time_t now);

/* The Content-Type of the exposition. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
