/*
 * The fetch cache: URL -> value made from a fetched body, with single
 * flight, HTTP freshness, negative entries with backoff (bounded apart),
 * a per-host cap on concurrent downloads, stale-while-revalidate and the
 * non-blocking NOWAIT path. See fetchcache.h for the contract.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetchcache.h"
#include "urltab.h"

#define HOST_MAX 256

struct fcache_item {
    atomic_long refs;
    void *value;
    fcache_free_fn *free_value;
    void *user;
};

/* One URL in one of the two tables: values or failures. */
typedef struct fentry {
    sti_urltab_node node; /* key and insertion order, for eviction */
    fcache_item *item;    /* NULL in the failure table */
    stir_error ferr;      /* failure table: why */
    unsigned failures;    /* consecutive failures */
    size_t cost;
    double fetched_at, expires_at; /* monotonic seconds */
    int refreshing;                /* queued or running background refresh */
} fentry;

/* One download in progress; callers for the same URL wait for its result. */
typedef struct flight {
    char *url;
    struct flight *next;
    int done, waiters;
    fcache_item *item;
    stir_error ferr;
} flight;

/* Downloads in progress to one host (only hosts with some). */
typedef struct host_slot {
    char host[HOST_MAX];
    unsigned active;
    struct host_slot *next;
} host_slot;

typedef struct refresh_item {
    char *url;
    struct refresh_item *next;
} refresh_item;

/* What one download produced. */
typedef struct outcome {
    fcache_item *item; /* reference, NULL on failure */
    stir_error ferr;
    long ttl;
    size_t cost;
    int remember; /* a failure worth a negative entry */
} outcome;

struct fcache {
    fcache_config cfg; /* fetch strings point at owned copies */

    pthread_mutex_t mu;
    pthread_cond_t flight_done;
    pthread_cond_t work; /* refresher: queue not empty or stopping */
    sti_urltab vals, fails;
    size_t cost;
    flight *flights;
    fcache_hosts *hosts; /* cfg.hosts, or own_hosts */
    fcache_hosts *own_hosts;
    refresh_item *rq_head, *rq_tail;
    int stopping, has_refresher;
    pthread_t refresher;
    fcache_stats st;
};

double fcache_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- items ------------------------------------------------------------------ */

static fcache_item *item_new(fcache *fc, void *value)
{
    fcache_item *it = malloc(sizeof *it);
    if (!it)
        return NULL;
    atomic_init(&it->refs, 1);
    it->value = value;
    it->free_value = fc->cfg.free_value;
    it->user = fc->cfg.user;
    return it;
}

void *fcache_item_value(const fcache_item *it)
{
    return it ? it->value : NULL;
}

fcache_item *fcache_item_ref(fcache_item *it)
{
    if (it)
        atomic_fetch_add(&it->refs, 1);
    return it;
}

void fcache_item_unref(fcache_item *it)
{
    if (it && atomic_fetch_sub(&it->refs, 1) == 1) {
        if (it->free_value)
            it->free_value(it->user, it->value);
        free(it);
    }
}

/* ---- configuration ------------------------------------------------------------ */

void fcache_config_default(fcache_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->fetch.connect_timeout_ms = 500;
    cfg->fetch.total_timeout_ms = 1000;
    cfg->fetch.max_bytes = 16384;
    cfg->fetch.max_per_host = 4;
    cfg->default_ttl_s = 86400;
    cfg->min_ttl_s = 60;
    cfg->max_ttl_s = 7 * 86400;
    cfg->neg_ttl_initial_s = 5;
    cfg->neg_ttl_max_s = 300;
    cfg->max_entries = 10000;
    cfg->max_neg_entries = 10000;
    cfg->what = "resource";
}

static int check_config(const fcache_config *c, stir_error *err)
{
#define BADCFG(field, ...) stir_fail(err, STIR_ERR_INPUT, field, __VA_ARGS__)
    int rc = sti_fetch_policy_check(&c->fetch, err);
    if (rc)
        return rc;
    if (!c->parse)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "fetch cache without a parse callback");
    if (c->default_ttl_s < 0)
        return BADCFG("default_ttl_s", "default TTL must not be negative");
    if (c->min_ttl_s < 0 || c->max_ttl_s < c->min_ttl_s)
        return BADCFG("min_ttl_s", "need 0 <= min_ttl_s <= max_ttl_s");
    if (c->neg_ttl_initial_s < 0 || c->neg_ttl_max_s < c->neg_ttl_initial_s)
        return BADCFG("neg_ttl_initial_s", "need 0 <= neg_ttl_initial_s <= neg_ttl_max_s");
    if (!(c->refresh_ahead >= 0.0 && c->refresh_ahead < 1.0))
        return BADCFG("refresh_ahead", "refresh_ahead must be in [0, 1)");
    if (c->max_entries == 0 || c->max_entries > (1u << 24))
        return BADCFG("max_entries", "max_entries must be 1..16777216");
    if (c->max_neg_entries == 0 || c->max_neg_entries > (1u << 24))
        return BADCFG("max_neg_entries", "max_neg_entries must be 1..16777216");
    return 0;
#undef BADCFG
}

/* ---- tables -------------------------------------------------------------------- */

static fentry *entry_of(sti_urltab_node *n)
{
    return n ? STI_URLTAB_ENTRY(n, fentry, node) : NULL;
}

static void release_value(void *owner, sti_urltab_node *n)
{
    fcache *fc = owner;
    fentry *e = entry_of(n);
    fc->cost -= e->cost;
    fcache_item_unref(e->item);
}

static fentry *find_value(fcache *fc, const char *url)
{
    return entry_of(sti_urltab_find(&fc->vals, url));
}

static fentry *find_failure(fcache *fc, const char *url)
{
    return entry_of(sti_urltab_find(&fc->fails, url));
}

static void drop_value(fcache *fc, const char *url)
{
    fentry *e = find_value(fc, url);
    if (e)
        sti_urltab_remove(&fc->vals, &e->node);
}

static void drop_failure(fcache *fc, const char *url)
{
    fentry *e = find_failure(fc, url);
    if (e)
        sti_urltab_remove(&fc->fails, &e->node);
}

static long neg_ttl(const fcache *fc, unsigned failures)
{
    long t = fc->cfg.neg_ttl_initial_s;
    for (unsigned i = 1; i < failures && t < fc->cfg.neg_ttl_max_s; i++)
        t *= 2;
    return t > fc->cfg.neg_ttl_max_s ? fc->cfg.neg_ttl_max_s : t;
}

/* Record a download's outcome (lock held). */
static void store(fcache *fc, const char *url, const outcome *o)
{
    double now = fcache_now();
    if (!o->item) {
        if (!o->remember || fc->cfg.neg_ttl_initial_s <= 0)
            return;
        fentry *old = find_failure(fc, url);
        unsigned failures = (old ? old->failures : 0) + 1;
        drop_value(fc, url);
        fentry *e = entry_of(sti_urltab_upsert(&fc->fails, url));
        if (!e)
            return;
        e->ferr = o->ferr;
        e->failures = failures;
        e->fetched_at = now;
        e->expires_at = now + (double)neg_ttl(fc, failures);
        return;
    }
    drop_failure(fc, url);
    if (o->ttl <= 0) {
        drop_value(fc, url); /* served to the callers of this fetch, kept by nobody */
        return;
    }
    fentry *e = entry_of(sti_urltab_upsert(&fc->vals, url));
    if (!e)
        return;
    fc->cost -= e->cost;
    fcache_item_unref(e->item);
    e->item = NULL;
    e->cost = 0;
    if (fc->cfg.max_cost) {
        while (fc->cost + o->cost > fc->cfg.max_cost && sti_urltab_oldest(&fc->vals) &&
               sti_urltab_oldest(&fc->vals) != &e->node)
            sti_urltab_remove(&fc->vals, sti_urltab_oldest(&fc->vals));
    }
    e->item = fcache_item_ref(o->item);
    e->cost = o->cost;
    fc->cost += o->cost;
    e->fetched_at = now;
    e->expires_at = now + (double)o->ttl;
}

/* ---- per-host slots --------------------------------------------------------------- */

/* Downloads in progress per host, shared by the caches of one context. */
struct fcache_hosts {
    pthread_mutex_t mu;
    pthread_cond_t freed; /* CLOCK_MONOTONIC */
    host_slot *list;      /* only hosts with downloads in progress */
};

fcache_hosts *fcache_hosts_new(void)
{
    fcache_hosts *hs = calloc(1, sizeof *hs);
    if (!hs)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hs->freed, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&hs->mu, NULL);
    return hs;
}

void fcache_hosts_free(fcache_hosts *hs)
{
    if (!hs)
        return;
    assert(!hs->list); /* no download may be in progress */
    pthread_cond_destroy(&hs->freed);
    pthread_mutex_destroy(&hs->mu);
    free(hs);
}

static host_slot *host_find(fcache_hosts *hs, const char *host)
{
    for (host_slot *h = hs->list; h; h = h->next)
        if (strcmp(h->host, host) == 0)
            return h;
    return NULL;
}

/*
 * Take a download slot for host, waiting until `deadline` (monotonic) at
 * most while `cap` downloads to it are in progress. 0 at once, 1 after
 * waiting, -1 when the deadline passed first, -2 when out of memory.
 */
static int host_acquire(fcache_hosts *hs, const char *host, unsigned cap, double deadline)
{
    pthread_mutex_lock(&hs->mu);
    host_slot *h = host_find(hs, host);
    int waited = 0;
    if (h && h->active >= cap) {
        waited = 1;
        struct timespec ts;
        ts.tv_sec = (time_t)deadline;
        ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
        for (;;) {
            h = host_find(hs, host);
            if (!h || h->active < cap)
                break;
            if (pthread_cond_timedwait(&hs->freed, &hs->mu, &ts) == ETIMEDOUT) {
                h = host_find(hs, host);
                if (!h || h->active < cap)
                    break;
                pthread_mutex_unlock(&hs->mu);
                return -1;
            }
        }
    }
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&hs->mu);
            return -2;
        }
        snprintf(h->host, sizeof h->host, "%s", host);
        h->next = hs->list;
        hs->list = h;
    }
    h->active++;
    pthread_mutex_unlock(&hs->mu);
    return waited;
}

static void host_release(fcache_hosts *hs, const char *host)
{
    pthread_mutex_lock(&hs->mu);
    for (host_slot **pp = &hs->list; *pp; pp = &(*pp)->next) {
        host_slot *h = *pp;
        if (strcmp(h->host, host) != 0)
            continue;
        if (--h->active == 0) {
            *pp = h->next;
            free(h);
        }
        pthread_cond_broadcast(&hs->freed);
        pthread_mutex_unlock(&hs->mu);
        return;
    }
    pthread_mutex_unlock(&hs->mu);
    assert(!"host_release without host_acquire");
}

/* ---- downloading ------------------------------------------------------------------- */

/* HTTP lifetime -> the TTL the config allows. */
static long http_ttl(const fcache *fc, long lifetime, int no_store)
{
    if (no_store)
        return 0;
    long ttl = lifetime >= 0 ? lifetime : fc->cfg.default_ttl_s;
    if (ttl < fc->cfg.min_ttl_s)
        ttl = fc->cfg.min_ttl_s;
    if (ttl > fc->cfg.max_ttl_s)
        ttl = fc->cfg.max_ttl_s;
    return ttl;
}

/* Run the parse callback over a body (no lock). */
static void parse_body(fcache *fc, const char *url, const char *body, size_t len, long ttl,
                       outcome *o)
{
    long t = ttl;
    size_t cost = len;
    void *v = fc->cfg.parse(fc->cfg.user, url, body, len, &t, &cost, &o->ferr);
    if (!v) {
        if (!o->ferr.code)
            stir_fail(&o->ferr, STIR_ERR_BAD_INFO, NULL, "%s at %.200s is not usable", fc->cfg.what,
                      url);
        o->remember = o->ferr.code == STIR_ERR_BAD_INFO;
        return;
    }
    o->item = item_new(fc, v);
    if (!o->item) {
        if (fc->cfg.free_value)
            fc->cfg.free_value(fc->cfg.user, v);
        stir_fail(&o->ferr, STIR_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    o->ttl = t < ttl ? t : ttl;
    o->cost = cost;
}

/* One network download into the latency histogram of the stats. */
static void count_latency(fcache *fc, double s)
{
    static const unsigned bounds_ms[] = {STIR_CERTCACHE_FETCH_BOUNDS_MS};
    size_t i = 0;
    while (i < sizeof bounds_ms / sizeof bounds_ms[0] && s * 1000.0 > bounds_ms[i])
        i++;
    pthread_mutex_lock(&fc->mu);
    fc->st.fetch_latency[i]++;
    fc->st.fetch_seconds_sum += s;
    pthread_mutex_unlock(&fc->mu);
}

/*
 * Download and parse url (called without the lock). The wait for a host
 * slot and the download share the policy's total timeout.
 */
static void do_fetch(fcache *fc, const char *url, const char *host, outcome *o)
{
    memset(o, 0, sizeof *o);
    stir_fetch_policy pol = fc->cfg.fetch;
    unsigned cap = pol.max_per_host;
    double deadline = fcache_now() + (double)pol.total_timeout_ms / 1000.0;
    int rc = cap ? host_acquire(fc->hosts, host, cap, deadline) : 0;
    if (rc == -2) {
        stir_fail(&o->ferr, STIR_ERR_INTERNAL, NULL, "out of memory");
        return;
    }
    /* A download that waited gets what is left of its timeout; so little
     * that it could hardly succeed (under a tenth of the timeout, capped
     * at 100 ms) is not worth a connection to a host already that busy. */
    long left_ms = rc == 0 ? pol.total_timeout_ms : (long)((deadline - fcache_now()) * 1000.0);
    long floor_ms = pol.total_timeout_ms / 10 < 100 ? pol.total_timeout_ms / 10 : 100;
    int gave_up = rc == -1 || left_ms < 1 || (rc == 1 && left_ms < floor_ms);
    if (rc != 0) {
        pthread_mutex_lock(&fc->mu);
        fc->st.host_waits++;
        if (gave_up)
            fc->st.host_timeouts++;
        pthread_mutex_unlock(&fc->mu);
    }
    if (gave_up) {
        if (rc >= 0)
            host_release(fc->hosts, host);
        /* Not remembered: the URL may be fine, its host was only busy. */
        stir_fail(&o->ferr, STIR_ERR_BAD_INFO, NULL,
                  "%s host %s already has %u downloads in progress (fetch_max_per_host); "
                  "waited %ld ms",
                  fc->cfg.what, host, cap, pol.total_timeout_ms);
        return;
    }
    pol.total_timeout_ms = left_ms;
    if (pol.connect_timeout_ms > left_ms)
        pol.connect_timeout_ms = left_ms;

    sti_fetch_result r;
    double t0 = fcache_now();
    int frc = sti_fetch(&pol, url, &r, &o->ferr);
    count_latency(fc, fcache_now() - t0);
    if (cap)
        host_release(fc->hosts, host);

    if (frc) {
        o->remember = frc == STIR_ERR_BAD_INFO;
        return;
    }
    int no_store = 0;
    long life = sti_fetch_lifetime(&r, &no_store);
    parse_body(fc, url, r.body, r.body_len, http_ttl(fc, life, no_store), o);
    sti_fetch_result_free(&r);
}

/* ---- background refresh -------------------------------------------------------------- */

static void maybe_refresh(fcache *fc, fentry *e, double now)
{
    if (!fc->has_refresher || e->refreshing || fc->stopping)
        return;
    double ttl = e->expires_at - e->fetched_at;
    if (e->expires_at - now >= fc->cfg.refresh_ahead * ttl)
        return;
    refresh_item *it = calloc(1, sizeof *it);
    if (!it || !(it->url = strdup(e->node.url))) {
        free(it);
        return; /* no memory: the entry simply expires and is refetched */
    }
    e->refreshing = 1;
    if (fc->rq_tail)
        fc->rq_tail->next = it;
    else
        fc->rq_head = it;
    fc->rq_tail = it;
    pthread_cond_signal(&fc->work);
}

static void *refresher_main(void *arg)
{
    fcache *fc = arg;
    pthread_mutex_lock(&fc->mu);
    for (;;) {
        while (!fc->stopping && !fc->rq_head)
            pthread_cond_wait(&fc->work, &fc->mu);
        if (fc->stopping)
            break;
        refresh_item *it = fc->rq_head;
        fc->rq_head = it->next;
        if (!fc->rq_head)
            fc->rq_tail = NULL;
        pthread_mutex_unlock(&fc->mu);

        char host[HOST_MAX];
        outcome o;
        stir_error uerr;
        if (sti_url_host(&fc->cfg.fetch, it->url, host, sizeof host, &uerr) == 0) {
            do_fetch(fc, it->url, host, &o);
        } else {
            memset(&o, 0, sizeof o);
            o.ferr = uerr;
        }

        pthread_mutex_lock(&fc->mu);
        fc->st.refreshes++;
        fc->st.fetches++;
        if (o.item)
            store(fc, it->url, &o);
        else
            fc->st.fetch_failures++; /* keep serving the old value until it expires */
        fentry *e = find_value(fc, it->url);
        if (e)
            e->refreshing = 0;
        fcache_item_unref(o.item);
        free(it->url);
        free(it);
    }
    pthread_mutex_unlock(&fc->mu);
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------ */

fcache *fcache_new(const fcache_config *cfg, stir_error *err)
{
    if (check_config(cfg, err))
        return NULL;
    fcache *fc = calloc(1, sizeof *fc);
    if (!fc)
        goto oom;
    fc->cfg = *cfg;
    if (sti_fetch_policy_dup(&fc->cfg.fetch, &cfg->fetch))
        goto oom;
    if (sti_urltab_init(&fc->vals, cfg->max_entries, sizeof(fentry), offsetof(fentry, node),
                        release_value, fc) ||
        sti_urltab_init(&fc->fails, cfg->max_neg_entries, sizeof(fentry), offsetof(fentry, node),
                        NULL, fc))
        goto oom;
    fc->hosts = cfg->hosts;
    if (!fc->hosts && !(fc->hosts = fc->own_hosts = fcache_hosts_new()))
        goto oom;
    pthread_mutex_init(&fc->mu, NULL);
    pthread_cond_init(&fc->flight_done, NULL);
    pthread_cond_init(&fc->work, NULL);
    if (cfg->refresh_ahead > 0.0) {
        if (pthread_create(&fc->refresher, NULL, refresher_main, fc) != 0) {
            stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot start the %s refresher thread",
                      cfg->what);
            fc->has_refresher = 0;
            fcache_free(fc);
            return NULL;
        }
        fc->has_refresher = 1;
    }
    return fc;
oom:
    stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    if (fc) {
        fcache_hosts_free(fc->own_hosts);
        sti_fetch_policy_free(&fc->cfg.fetch);
        sti_urltab_destroy(&fc->vals);
        sti_urltab_destroy(&fc->fails);
        free(fc);
    }
    return NULL;
}

void fcache_free(fcache *fc)
{
    if (!fc)
        return;
    if (fc->has_refresher) {
        pthread_mutex_lock(&fc->mu);
        fc->stopping = 1;
        pthread_cond_broadcast(&fc->work);
        pthread_mutex_unlock(&fc->mu);
        pthread_join(fc->refresher, NULL); /* waits for a refresh in progress */
    }
    while (fc->rq_head) {
        refresh_item *it = fc->rq_head;
        fc->rq_head = it->next;
        free(it->url);
        free(it);
    }
    /* Flights belong to callers still inside fcache_get, which the
     * contract forbids at this point. */
    assert(!fc->flights);
    fcache_hosts_free(fc->own_hosts);
    pthread_cond_destroy(&fc->work);
    pthread_cond_destroy(&fc->flight_done);
    pthread_mutex_destroy(&fc->mu);
    sti_fetch_policy_free(&fc->cfg.fetch);
    sti_urltab_destroy(&fc->vals);
    sti_urltab_destroy(&fc->fails);
    free(fc);
}

/* ---- lookups --------------------------------------------------------------------------- */

static void flight_free(flight *f)
{
    fcache_item_unref(f->item);
    free(f->url);
    free(f);
}

/* A remembered failure as the caller's error (lock held). */
static int cached_failure(const fentry *e, double now, stir_error *err)
{
    if (err) {
        char suffix[64];
        long left = (long)(e->expires_at - now + 0.999);
        int sl = snprintf(suffix, sizeof suffix, " (cached failure, retry in %ld s)", left);
        *err = e->ferr;
        int room = (int)sizeof err->detail - 1 - sl;
        snprintf(err->detail, sizeof err->detail, "%.*s%s", room, e->ferr.detail, suffix);
    }
    return e->ferr.code;
}

int fcache_get(fcache *fc, const char *url, int flags, fcache_item **out, stir_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&fc->mu);
    double now = fcache_now();
    fentry *e = find_value(fc, url);
    if (e && now < e->expires_at) {
        fc->st.hits++;
        maybe_refresh(fc, e, now);
        *out = fcache_item_ref(e->item);
        pthread_mutex_unlock(&fc->mu);
        return 0;
    }
    if (e && !e->refreshing)
        sti_urltab_remove(&fc->vals, &e->node); /* expired: free it now */
    fentry *fe = find_failure(fc, url);
    if (fe && now < fe->expires_at) {
        fc->st.neg_hits++;
        int rc = cached_failure(fe, now, err);
        pthread_mutex_unlock(&fc->mu);
        return rc;
    }
    /* Only URLs that passed the policy are ever stored, so the check (a
     * full URL parse) is needed on misses only. */
    char host[HOST_MAX];
    int rc = sti_url_host(&fc->cfg.fetch, url, host, sizeof host, err);
    if (rc) {
        pthread_mutex_unlock(&fc->mu);
        return rc;
    }
    fc->st.misses++;
    if (flags & FCACHE_NOWAIT) {
        pthread_mutex_unlock(&fc->mu);
        return stir_fail(err, STIR_WOULD_BLOCK, NULL,
                         "%.200s is not cached: fetching it would block", url);
    }
    for (flight *f = fc->flights; f; f = f->next) {
        if (strcmp(f->url, url) != 0)
            continue;
        f->waiters++;
        while (!f->done)
            pthread_cond_wait(&fc->flight_done, &fc->mu);
        rc = 0;
        if (f->item)
            *out = fcache_item_ref(f->item);
        else if (err)
            *err = f->ferr;
        if (!f->item)
            rc = f->ferr.code;
        if (--f->waiters == 0)
            flight_free(f); /* the fetcher already unlinked it */
        pthread_mutex_unlock(&fc->mu);
        return rc;
    }
    flight *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url))) {
        free(f);
        pthread_mutex_unlock(&fc->mu);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    }
    f->next = fc->flights;
    fc->flights = f;
    pthread_mutex_unlock(&fc->mu);

    outcome o;
    do_fetch(fc, url, host, &o);

    pthread_mutex_lock(&fc->mu);
    fc->st.fetches++;
    if (!o.item)
        fc->st.fetch_failures++;
    store(fc, url, &o);
    f->item = fcache_item_ref(o.item);
    f->ferr = o.ferr;
    f->done = 1;
    for (flight **pp = &fc->flights; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    if (f->waiters == 0)
        flight_free(f);
    else
        pthread_cond_broadcast(&fc->flight_done);
    pthread_mutex_unlock(&fc->mu);
    if (!o.item) {
        if (err)
            *err = o.ferr;
        return o.ferr.code;
    }
    *out = o.item;
    return 0;
}

int fcache_put(fcache *fc, const char *url, const char *body, size_t len, long lifetime_s,
               fcache_item **out, stir_error *err)
{
    if (out)
        *out = NULL;
    if (!*url || strlen(url) > STI_URL_MAX)
        return stir_fail(err, STIR_ERR_BAD_INFO, NULL, "%s URL is empty or longer than %d",
                         fc->cfg.what, STI_URL_MAX);
    outcome o;
    memset(&o, 0, sizeof o);
    parse_body(fc, url, body, len, http_ttl(fc, lifetime_s, 0), &o);
    if (!o.item) {
        if (err)
            *err = o.ferr;
        return o.ferr.code;
    }
    pthread_mutex_lock(&fc->mu);
    store(fc, url, &o);
    pthread_mutex_unlock(&fc->mu);
    if (out)
        *out = o.item;
    else
        fcache_item_unref(o.item);
    return 0;
}

void fcache_stats_get(fcache *fc, fcache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!fc)
        return;
    pthread_mutex_lock(&fc->mu);
    *out = fc->st;
    out->entries = sti_urltab_count(&fc->vals);
    out->neg_entries = sti_urltab_count(&fc->fails);
    out->cost = fc->cost;
    pthread_mutex_unlock(&fc->mu);
}

void fcache_stats_export(fcache *fc, stir_certcache_stats *out)
{
    fcache_stats st;
    fcache_stats_get(fc, &st);
    out->hits = st.hits;
    out->misses = st.misses;
    out->fetches = st.fetches;
    out->fetch_failures = st.fetch_failures;
    out->neg_hits = st.neg_hits;
    out->refreshes = st.refreshes;
    out->entries = st.entries;
    out->neg_entries = st.neg_entries;
    out->host_waits = st.host_waits;
    out->host_timeouts = st.host_timeouts;
    memcpy(out->fetch_latency, st.fetch_latency, sizeof out->fetch_latency);
    out->fetch_seconds_sum = st.fetch_seconds_sum;
}
