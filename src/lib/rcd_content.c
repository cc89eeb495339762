/*
 * The RCD fetcher (stir_rcd): its configuration, and the content an rcd
 * links (icons, jCards, the logos and photos inside jCards) kept in the
 * fetch cache (fetchcache.c) as URL -> body bytes. Expiry min(cache_ttl_s,
 * HTTP freshness: s-maxage / max-age / Expires); no-store and no-cache
 * responses are served to the request that fetched them and not kept;
 * failed fetches are kept neg_ttl_s; oldest entries go first when
 * cache_max_entries or the byte cap is reached; one download per URL at a
 * time (single flight).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stir/rcd.h"
#include "fetchcache.h"
#include "internal.h"
#include "rcd_internal.h"

#define LINKS_MAX 256                      /* largest max_links accepted */
#define CACHE_MAX_BYTES ((size_t)64 << 20) /* whatever cache_max_entries says */

/* The defaults, a constant: no process-wide state to initialize. */
#define RCD_CONFIG_DEFAULT                                                                         \
    {                                                                                              \
        .fetch = {.connect_timeout_ms = 500,                                                       \
                  .total_timeout_ms = 1000,                                                        \
                  .max_bytes = 262144,                                                             \
                  .max_per_host = 4},                                                              \
        .digest_alg = "sha256", .max_jcard_bytes = 16384, .max_links = 8, .fetch_budget_ms = 2000, \
        .cache_ttl_s = 300, .neg_ttl_s = 30, .cache_max_entries = 1000, .verify_fetch = 1,         \
    }

/* ---- content cache ----------------------------------------------------------------- */

static rcd_body *rcd_body_new(const char *d, size_t n)
{
    rcd_body *b = malloc(sizeof *b + n + 1);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = n;
    if (n)
        memcpy(b->data, d, n);
    b->data[n] = '\0';
    return b;
}

rcd_body *rcd_body_ref(rcd_body *b)
{
    if (b)
        atomic_fetch_add(&b->refs, 1);
    return b;
}

void rcd_body_unref(rcd_body *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

/* fcache parse callback: the content is the bytes themselves. */
static void *body_parse(void *user, const char *url, const char *body, size_t len, long *ttl_s,
                        size_t *cost, stir_error *err)
{
    (void)user;
    (void)url;
    (void)ttl_s;
    (void)cost;
    rcd_body *b = rcd_body_new(body, len);
    if (!b)
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    return b;
}

static void body_free(void *user, void *value)
{
    (void)user;
    rcd_body_unref(value);
}

void stir_rcd_config_default(stir_rcd_config *cfg)
{
    if (!cfg)
        return;
    *cfg = (stir_rcd_config)RCD_CONFIG_DEFAULT;
}

static int check_config(const stir_rcd_config *c, stir_error *err)
{
#define BADCFG(field, ...) stir_fail(err, STIR_ERR_INPUT, field, __VA_ARGS__)
    if (c->digest_alg && !stir_digest_by_name(c->digest_alg))
        return BADCFG("digest_alg", "digest_alg must be %s (RFC 9795 6)", stir_digest_names());
    if (c->max_jcard_bytes == 0 || c->max_jcard_bytes > (1u << 20))
        return BADCFG("max_jcard_bytes", "max_jcard_bytes must be 1..1 MiB");
    if (c->fetch_budget_ms <= 0 || c->fetch_budget_ms > 60000)
        return BADCFG("fetch_budget_ms", "fetch_budget_ms must be 1..60000");
    if (c->max_links > LINKS_MAX)
        return BADCFG("max_links", "max_links must be 0..%d", LINKS_MAX);
    if (c->cache_ttl_s < 0)
        return BADCFG("cache_ttl_s", "cache_ttl_s must not be negative");
    if (c->neg_ttl_s < 0)
        return BADCFG("neg_ttl_s", "neg_ttl_s must not be negative");
    if (c->cache_max_entries == 0 || c->cache_max_entries > (1u << 24))
        return BADCFG("cache_max_entries", "cache_max_entries must be 1..16777216");
    return 0;
#undef BADCFG
}

stir_rcd *stir_rcd_new(stir_ctx *ctx, const stir_rcd_config *cfg, stir_error *err)
{
    stir_rcd_config def;
    if (!cfg) {
        stir_rcd_config_default(&def);
        cfg = &def;
    }
    if (!ctx) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "RCD fetcher needs a context");
        return NULL;
    }
    if (check_config(cfg, err))
        return NULL;
    stir_rcd *r = calloc(1, sizeof *r);
    if (!r) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->cfg.digest_alg = cfg->digest_alg ? stir_digest_by_name(cfg->digest_alg) : "sha256";
    /* Content: kept min(cache_ttl_s, HTTP freshness); no-store and
     * no-cache (lifetime 0) not kept; failures kept neg_ttl_s, no backoff. */
    fcache_config fcfg;
    fcache_config_default(&fcfg);
    fcfg.fetch = cfg->fetch;
    fcfg.default_ttl_s = cfg->cache_ttl_s;
    fcfg.min_ttl_s = 0;
    fcfg.max_ttl_s = cfg->cache_ttl_s;
    fcfg.neg_ttl_initial_s = cfg->neg_ttl_s;
    fcfg.neg_ttl_max_s = cfg->neg_ttl_s;
    fcfg.max_entries = cfg->cache_max_entries;
    fcfg.max_neg_entries = cfg->cache_max_entries;
    fcfg.max_cost = CACHE_MAX_BYTES;
    fcfg.what = "rcd content";
    fcfg.hosts = ctx->hosts;
    fcfg.parse = body_parse;
    fcfg.free_value = body_free;
    r->fc = fcache_new(&fcfg, err);
    if (!r->fc) {
        free(r);
        return NULL;
    }
    memset(&r->cfg.fetch, 0, sizeof r->cfg.fetch);
    return r;
}

void stir_rcd_free(stir_rcd *r)
{
    if (!r)
        return;
    fcache_free(r->fc);
    free(r);
}

int rcd_content_get(stir_rcd *r, const char *url, int flags, double deadline, rcd_body **out,
                    stir_error *ferr)
{
    *out = NULL;
    /* A request with many links must not hold a fetch thread for the sum
     * of their timeouts: past its budget it fetches nothing more (what is
     * cached still serves). */
    int past = fcache_now() > deadline;
    fcache_item *it;
    int rc = fcache_get(r->fc, url, flags | (past ? FCACHE_NOWAIT : 0), &it, ferr);
    if (rc == STIR_WOULD_BLOCK && past && !(flags & STIR_CACHE_NOWAIT))
        return stir_fail(ferr, STIR_ERR_BAD_INFO, NULL,
                         "%.200s was not fetched: the RCD fetches "
                         "of this request used up their budget of %ld ms (rcd fetch_budget_ms)",
                         url, r->cfg.fetch_budget_ms);
    if (rc)
        return rc;
    *out = rcd_body_ref(fcache_item_value(it));
    fcache_item_unref(it);
    return 0;
}

void stir_rcd_stats_get(stir_rcd *r, stir_rcd_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    fcache_stats st;
    fcache_stats_get(r->fc, &st);
    out->hits = st.hits;
    out->fetches = st.fetches;
    out->fetch_failures = st.fetch_failures;
    out->entries = st.entries + st.neg_entries;
    out->bytes = st.cost;
}

/* Calls without a stir_rcd (no fetcher) still get the default limits. */
const stir_rcd_config *rcd_builtin_config(void)
{
    static const stir_rcd_config def = RCD_CONFIG_DEFAULT;
    return &def;
}
