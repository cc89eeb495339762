/*
 * x5u certificate cache: URL -> (chain, validation outcome), with HTTP
 * freshness, single flight, negative caching with backoff and a background
 * refresher for stale-while-revalidate.
 *
 * Locking: one mutex guards the table, the flights and the refresh queue.
 * Network fetches and chain validation always run without it.
 * Entry expiry uses CLOCK_MONOTONIC (wall-clock steps do not flush or pin
 * the cache); validity windows of certificates use the wall clock.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "stir/certcache.h"
#include "crl.h"
#include "fetch.h"
#include "urltab.h"

typedef struct entry {
    stir_urltab_node node;          /* key and insertion order, for eviction */
    stir_cert *cert;                /* NULL: negative entry */
    stir_error verr;                /* validation outcome: code 0 or 437 */
    stir_error ferr;                /* negative entry: the 436 */
    unsigned failures;              /* consecutive fetch failures */
    double fetched_at, expires_at;  /* monotonic seconds */
    int refreshing;                 /* queued or running background refresh */
} entry;

/* One download in progress; callers for the same URL wait for its result. */
typedef struct flight {
    char *url;
    struct flight *next;
    int done, waiters;
    stir_cert *cert;
    stir_error verr, ferr;
} flight;

typedef struct refresh_item {
    char *url;
    struct refresh_item *next;
} refresh_item;

/* What one fetch produced. */
typedef struct outcome {
    stir_cert *cert;                /* reference, NULL on failure */
    stir_error verr, ferr;
    long ttl;                       /* seconds, for a stored positive entry */
    int no_store;
} outcome;

struct stir_certcache {
    stir_certcache_config cfg;      /* fetch strings point at the copies below */
    const stir_trust *trust;

    pthread_mutex_t mu;
    pthread_cond_t flight_done;
    pthread_cond_t work;            /* refresher: queue not empty or stopping */
    stir_urltab tab;
    flight *flights;
    refresh_item *rq_head, *rq_tail;
    int stopping;
    pthread_t refresher;
    stir_certcache_stats st;
};

/* ---- small helpers ---------------------------------------------------------- */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void err_clear(stir_error *e)
{
    memset(e, 0, sizeof *e);
}

static void iso8601(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 32, "(invalid time)");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- configuration ---------------------------------------------------------- */

void stir_certcache_config_default(stir_certcache_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->fetch.connect_timeout_ms = 500;
    cfg->fetch.total_timeout_ms = 1000;
    cfg->fetch.max_bytes = 16384;
    cfg->default_ttl_s = 86400;
    cfg->min_ttl_s = 60;
    cfg->max_ttl_s = 7 * 86400;
    cfg->neg_ttl_initial_s = 5;
    cfg->neg_ttl_max_s = 300;
    cfg->refresh_ahead = 0.1;
    cfg->max_entries = 10000;
}

static int check_config(const stir_certcache_config *c, stir_error *err)
{
#define BADCFG(field, ...) stir_fail(err, STIR_ERR_INPUT, field, __VA_ARGS__)
    int rc = stir_fetch_policy_check(&c->fetch, err);
    if (rc)
        return rc;
    if (c->default_ttl_s <= 0)
        return BADCFG("default_ttl_s", "default TTL must be positive");
    if (c->min_ttl_s < 0 || c->max_ttl_s < c->min_ttl_s)
        return BADCFG("min_ttl_s", "need 0 <= min_ttl_s <= max_ttl_s");
    if (c->neg_ttl_initial_s < 0 || c->neg_ttl_max_s < c->neg_ttl_initial_s)
        return BADCFG("neg_ttl_initial_s", "need 0 <= neg_ttl_initial_s <= neg_ttl_max_s");
    if (!(c->refresh_ahead >= 0.0 && c->refresh_ahead < 1.0))
        return BADCFG("refresh_ahead", "refresh_ahead must be in [0, 1)");
    if (c->max_entries == 0 || c->max_entries > (1u << 24))
        return BADCFG("max_entries", "max_entries must be 1..16777216");
    return 0;
#undef BADCFG
}

/* ---- table ------------------------------------------------------------------ */

static entry *entry_of(stir_urltab_node *n)
{
    return n ? STIR_URLTAB_ENTRY(n, entry, node) : NULL;
}

static entry *find_entry(stir_certcache *cc, const char *url)
{
    return entry_of(stir_urltab_find(&cc->tab, url));
}

/* The entry for url, created (evicting the oldest when full) if needed and
 * moved to the newest position. NULL only when out of memory. */
static entry *upsert(stir_certcache *cc, const char *url)
{
    return entry_of(stir_urltab_upsert(&cc->tab, url));
}

/* The table's release hook: what an entry holds. */
static void release_entry(void *owner, stir_urltab_node *n)
{
    (void)owner;
    stir_cert_unref(entry_of(n)->cert);
}

/* ---- TTLs --------------------------------------------------------------------- */

/* TTL of a fetched chain: HTTP lifetime or the default, clamped to
 * [min_ttl, max_ttl], never past the chain's notAfter. Note ATIS-1000074
 * asks for at least 24 h; operators get that with min_ttl_s = 86400. */
static long chain_ttl(const stir_certcache *cc, long lifetime, const stir_cert *c,
                      int invalid)
{
    long ttl = lifetime >= 0 ? lifetime : cc->cfg.default_ttl_s;
    if (ttl < cc->cfg.min_ttl_s)
        ttl = cc->cfg.min_ttl_s;
    if (ttl > cc->cfg.max_ttl_s)
        ttl = cc->cfg.max_ttl_s;
    time_t now = time(NULL), na = stir_cert_not_after(c);
    if (na > now) {
        if ((double)ttl > (double)(na - now))
            ttl = (long)(na - now);
    } else {
        /* Already expired: remember the 437 briefly, like a failure. */
        ttl = cc->cfg.min_ttl_s;
    }
    /* A chain that does not validate may be fixed by its publisher at
     * the same URL: keep that verdict no longer than a failed fetch. */
    if (invalid && ttl > cc->cfg.neg_ttl_max_s)
        ttl = cc->cfg.neg_ttl_max_s;
    return ttl;
}

static long neg_ttl(const stir_certcache *cc, unsigned failures)
{
    long t = cc->cfg.neg_ttl_initial_s;
    for (unsigned i = 1; i < failures && t < cc->cfg.neg_ttl_max_s; i++)
        t *= 2;
    return t > cc->cfg.neg_ttl_max_s ? cc->cfg.neg_ttl_max_s : t;
}

/* ---- fetching ------------------------------------------------------------------- */

/* Revocation (crl.c), once per fetch of a chain that validated: a revoked
 * certificate (or, fail-closed, an unknown status) becomes the chain's 437
 * verdict, kept no longer than a failure; a good verdict is kept no longer
 * than the earliest nextUpdate of the CRLs it rests on. */
static void check_revocation(stir_certcache *cc, outcome *o)
{
    if (!cc->cfg.crl || o->verr.code)
        return;
    time_t now = time(NULL), until;
    if (stir_crl_check_chain(cc->cfg.crl, o->cert, now, &until, &o->verr)) {
        if (o->ttl > cc->cfg.neg_ttl_max_s)
            o->ttl = cc->cfg.neg_ttl_max_s;
    } else if ((double)o->ttl > (double)(until - now)) {
        o->ttl = until > now ? (long)(until - now) : 1;
    }
    if (o->ttl < 1)
        o->ttl = 1;
}

/* Download, parse and validate `url`. Runs without the lock. */
static void do_fetch(stir_certcache *cc, const char *url, outcome *o)
{
    memset(o, 0, sizeof *o);
    stir_fetch_result r;
    if (stir_fetch(&cc->cfg.fetch, url, &r, &o->ferr))
        return;
    o->cert = stir_cert_parse_pem(r.body, r.body_len, &o->ferr);
    if (o->cert) {
        stir_cert_validate(o->cert, cc->trust, time(NULL), &o->verr);
        long life = stir_fetch_lifetime(&r, &o->no_store);
        o->ttl = chain_ttl(cc, life, o->cert, o->verr.code != 0);
        check_revocation(cc, o);
    }
    stir_fetch_result_free(&r);
}

/* Record a fetch outcome in the table (lock held). prev_failures: the
 * failure count of the negative entry this fetch replaces. */
static void store(stir_certcache *cc, const char *url, const outcome *o,
                  unsigned prev_failures)
{
    double now = mono_now();
    cc->st.fetches++;
    if (!o->cert) {
        cc->st.fetch_failures++;
        entry *e = upsert(cc, url);
        if (!e)
            return;
        stir_cert_unref(e->cert);
        e->cert = NULL;
        err_clear(&e->verr);
        e->ferr = o->ferr;
        e->failures = prev_failures + 1;
        e->fetched_at = now;
        e->expires_at = now + (double)neg_ttl(cc, e->failures);
        return;
    }
    if (o->no_store) {
        /* Served to the callers of this fetch, kept by nobody. */
        entry *old = find_entry(cc, url);
        if (old && !old->refreshing)
            stir_urltab_remove(&cc->tab, &old->node);
        else if (old)
            old->expires_at = now;
        return;
    }
    entry *e = upsert(cc, url);
    if (!e)
        return;
    stir_cert_unref(e->cert);
    e->cert = stir_cert_ref(o->cert);
    e->verr = o->verr;
    err_clear(&e->ferr);
    e->failures = 0;
    e->fetched_at = now;
    e->expires_at = now + (double)o->ttl;
}

/* The caller's answer from a chain and its cached verdict. Consumes `c`. */
static stir_cert *answer(stir_cert *c, const stir_error *verr, const stir_error *ferr,
                         time_t at, stir_error *err)
{
    if (!c) {
        if (err)
            *err = *ferr;
        return NULL;
    }
    if (verr->code) {
        if (err)
            *err = *verr;
        stir_cert_unref(c);
        return NULL;
    }
    char ts[32];
    if (at < stir_cert_not_before(c)) {
        iso8601(stir_cert_not_before(c), ts);
        stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "certificate not valid before %s", ts);
        stir_cert_unref(c);
        return NULL;
    }
    if (at > stir_cert_not_after(c)) {
        iso8601(stir_cert_not_after(c), ts);
        stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "certificate expired %s", ts);
        stir_cert_unref(c);
        return NULL;
    }
    return c;
}

/* ---- background refresh ---------------------------------------------------------- */

static void maybe_refresh(stir_certcache *cc, entry *e, double now)
{
    if (cc->cfg.refresh_ahead <= 0.0 || e->refreshing || cc->stopping)
        return;
    double ttl = e->expires_at - e->fetched_at;
    if (e->expires_at - now >= cc->cfg.refresh_ahead * ttl)
        return;
    refresh_item *it = calloc(1, sizeof *it);
    if (!it || !(it->url = strdup(e->node.url))) {
        free(it);
        return;     /* no memory: the entry simply expires and is refetched */
    }
    e->refreshing = 1;
    if (cc->rq_tail)
        cc->rq_tail->next = it;
    else
        cc->rq_head = it;
    cc->rq_tail = it;
    pthread_cond_signal(&cc->work);
}

static void *refresher_main(void *arg)
{
    stir_certcache *cc = arg;
    pthread_mutex_lock(&cc->mu);
    for (;;) {
        while (!cc->stopping && !cc->rq_head)
            pthread_cond_wait(&cc->work, &cc->mu);
        if (cc->stopping)
            break;
        refresh_item *it = cc->rq_head;
        cc->rq_head = it->next;
        if (!cc->rq_head)
            cc->rq_tail = NULL;
        pthread_mutex_unlock(&cc->mu);

        outcome o;
        do_fetch(cc, it->url, &o);

        pthread_mutex_lock(&cc->mu);
        cc->st.refreshes++;
        if (o.cert) {
            store(cc, it->url, &o, 0);
        } else {
            /* keep serving the old chain until it expires */
            cc->st.fetches++;
            cc->st.fetch_failures++;
        }
        entry *e = find_entry(cc, it->url);
        if (e)
            e->refreshing = 0;
        stir_cert_unref(o.cert);
        free(it->url);
        free(it);
    }
    pthread_mutex_unlock(&cc->mu);
    return NULL;
}

/* ---- public API ------------------------------------------------------------------ */

stir_certcache *stir_certcache_new(const stir_certcache_config *cfg, const stir_trust *trust,
                                   stir_error *err)
{
    stir_certcache_config def;
    if (!cfg) {
        stir_certcache_config_default(&def);
        cfg = &def;
    }
    if (!trust) {
        stir_fail(err, STIR_ERR_INPUT, "trust", "certificate cache needs trust anchors");
        return NULL;
    }
    if (check_config(cfg, err))
        return NULL;
    stir_certcache *cc = calloc(1, sizeof *cc);
    if (!cc)
        goto oom;
    cc->cfg = *cfg;
    cc->trust = trust;
    if (stir_fetch_policy_dup(&cc->cfg.fetch, &cfg->fetch))
        goto oom;
    if (stir_urltab_init(&cc->tab, cfg->max_entries, sizeof(entry), offsetof(entry, node),
                         release_entry, cc))
        goto oom;
    pthread_mutex_init(&cc->mu, NULL);
    pthread_cond_init(&cc->flight_done, NULL);
    pthread_cond_init(&cc->work, NULL);
    if (pthread_create(&cc->refresher, NULL, refresher_main, cc) != 0) {
        pthread_cond_destroy(&cc->work);
        pthread_cond_destroy(&cc->flight_done);
        pthread_mutex_destroy(&cc->mu);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot start the certificate refresher thread");
        goto fail;
    }
    return cc;
oom:
    stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
fail:
    if (cc) {
        stir_fetch_policy_free(&cc->cfg.fetch);
        stir_urltab_destroy(&cc->tab);
        free(cc);
    }
    return NULL;
}

void stir_certcache_free(stir_certcache *cc)
{
    if (!cc)
        return;
    pthread_mutex_lock(&cc->mu);
    cc->stopping = 1;
    pthread_cond_broadcast(&cc->work);
    pthread_mutex_unlock(&cc->mu);
    pthread_join(cc->refresher, NULL);   /* waits for a refresh in progress */

    while (cc->rq_head) {
        refresh_item *it = cc->rq_head;
        cc->rq_head = it->next;
        free(it->url);
        free(it);
    }
    /* Flights belong to callers still inside stir_certcache_get, which the
     * contract forbids at this point; nothing to free for them. */
    pthread_cond_destroy(&cc->work);
    pthread_cond_destroy(&cc->flight_done);
    pthread_mutex_destroy(&cc->mu);
    stir_fetch_policy_free(&cc->cfg.fetch);
    stir_urltab_destroy(&cc->tab);
    free(cc);
}

static void flight_free(flight *f)
{
    stir_cert_unref(f->cert);
    free(f->url);
    free(f);
}

stir_cert *stir_certcache_get(stir_certcache *cc, const char *url, time_t at,
                              stir_error *err)
{
    return stir_certcache_get_ex(cc, url, at, 0, err);
}

stir_cert *stir_certcache_get_ex(stir_certcache *cc, const char *url, time_t at, int flags,
                                 stir_error *err)
{
    if (!cc || !url) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_certcache_get: NULL argument");
        return NULL;
    }

    pthread_mutex_lock(&cc->mu);
    double now = mono_now();
    entry *e = find_entry(cc, url);
    if (e && now < e->expires_at) {
        if (e->cert) {
            cc->st.hits++;
            maybe_refresh(cc, e, now);
            stir_cert *c = stir_cert_ref(e->cert);
            stir_error verr = e->verr;
            pthread_mutex_unlock(&cc->mu);
            return answer(c, &verr, NULL, at, err);
        }
        cc->st.neg_hits++;
        if (err) {
            char suffix[64];
            long left = (long)(e->expires_at - now + 0.999);
            int sl = snprintf(suffix, sizeof suffix, " (cached failure, retry in %ld s)", left);
            *err = e->ferr;
            int room = (int)sizeof err->detail - 1 - sl;
            snprintf(err->detail, sizeof err->detail, "%.*s%s", room, e->ferr.detail, suffix);
        }
        pthread_mutex_unlock(&cc->mu);
        return NULL;
    }
    /* Only URLs that passed the policy are ever stored, so the check (a
     * full URL parse) is needed on misses only. */
    if (stir_url_check(&cc->cfg.fetch, url, err)) {
        pthread_mutex_unlock(&cc->mu);
        return NULL;
    }
    cc->st.misses++;
    if (flags & STIR_CACHE_NOWAIT) {
        pthread_mutex_unlock(&cc->mu);
        stir_fail(err, STIR_WOULD_BLOCK, "x5u", "%s is not cached: fetching it would block",
                  url);
        return NULL;
    }

    for (flight *f = cc->flights; f; f = f->next) {
        if (strcmp(f->url, url) != 0)
            continue;
        f->waiters++;
        while (!f->done)
            pthread_cond_wait(&cc->flight_done, &cc->mu);
        stir_cert *c = stir_cert_ref(f->cert);
        stir_error verr = f->verr, ferr = f->ferr;
        if (--f->waiters == 0)
            flight_free(f);     /* the fetcher already unlinked it */
        pthread_mutex_unlock(&cc->mu);
        return answer(c, &verr, &ferr, at, err);
    }

    flight *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url))) {
        free(f);
        pthread_mutex_unlock(&cc->mu);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    f->next = cc->flights;
    cc->flights = f;
    unsigned prev_failures = (e && !e->cert) ? e->failures : 0;
    pthread_mutex_unlock(&cc->mu);

    outcome o;
    do_fetch(cc, url, &o);

    pthread_mutex_lock(&cc->mu);
    store(cc, url, &o, prev_failures);
    f->cert = stir_cert_ref(o.cert);
    f->verr = o.verr;
    f->ferr = o.ferr;
    f->done = 1;
    for (flight **pp = &cc->flights; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    if (f->waiters == 0)
        flight_free(f);
    else
        pthread_cond_broadcast(&cc->flight_done);
    pthread_mutex_unlock(&cc->mu);
    return answer(o.cert, &o.verr, &o.ferr, at, err);
}

/*
 * Preload: the chain is parsed (436 on a bad body) and validated now; it is
 * stored either way, and a validation failure is also returned (437) so a
 * misconfigured preload is noticed at once. ttl_s <= 0 means default_ttl_s.
 */
int stir_certcache_put(stir_certcache *cc, const char *url, const char *pem, size_t len,
                       long ttl_s, stir_error *err)
{
    if (!cc || !url || !pem)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_certcache_put: NULL argument");
    if (!*url || strlen(url) > STIR_URL_MAX)
        return stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u is empty or longer than %d",
                         STIR_URL_MAX);
    outcome o;
    memset(&o, 0, sizeof o);
    o.cert = stir_cert_parse_pem(pem, len, err);
    if (!o.cert)
        return err ? err->code : STIR_ERR_BAD_INFO;
    stir_cert_validate(o.cert, cc->trust, time(NULL), &o.verr);
    o.ttl = chain_ttl(cc, ttl_s > 0 ? ttl_s : -1, o.cert, o.verr.code != 0);
    pthread_mutex_lock(&cc->mu);
    store(cc, url, &o, 0);
    cc->st.fetches--;   /* store() counts network fetches; this was none */
    pthread_mutex_unlock(&cc->mu);
    stir_cert_unref(o.cert);
    if (o.verr.code) {
        if (err)
            *err = o.verr;
        return o.verr.code;
    }
    return 0;
}

void stir_certcache_stats_get(stir_certcache *cc, stir_certcache_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!cc)
        return;
    pthread_mutex_lock(&cc->mu);
    *out = cc->st;
    out->entries = stir_urltab_count(&cc->tab);
    pthread_mutex_unlock(&cc->mu);
}
