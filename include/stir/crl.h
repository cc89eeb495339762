/*
 * Certificate revocation by CRL (RFC 5280 5, 6.3; ATIS-1000080 6.4.1 CRL
 * Distribution Points): every certificate of a validated x5u chain that
 * names a CRL Distribution Point is looked up in that CRL, verified with
 * its issuer's key.
 *
 * The checker runs when a chain is fetched and validated (certcache.c),
 * not per request: the verdict is cached with the chain, whose cache
 * lifetime is cut to the earliest nextUpdate of the CRLs it was checked
 * against (docs/ARCHITECTURE.md, "Revocation"). The checker gets CRLs from
 * a source; the library's is a CRL cache on the fetch cache of a context
 * (stir_crl_cache), so set-up is:
 *
 *   stir_crl_cache *cc = stir_crl_cache_new(ctx, &cfg, &err);
 *   stir_crl_source src;
 *   stir_crl_cache_source(cc, &src);
 *   stir_crl_checker *ck = stir_crl_checker_new_with_source(&cfg, &src, &err);
 *   ... stir_certcache_config.crl = ck ...
 *   free: the certificate cache, then ck, then cc, then ctx.
 */
#ifndef STIR_CRL_H
#define STIR_CRL_H

#include <stddef.h>
#include <time.h>
#include "error.h"
#include "certcache.h"
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to do when a CRL cannot be fetched, does not parse, is not signed
 * by the certificate's issuer, or is stale (nextUpdate passed). */
enum stir_crl_mode {
    STIR_CRL_FAIL_OPEN = 0,   /* accept the certificate, warn (default) */
    STIR_CRL_FAIL_CLOSED = 1, /* 437: revocation status unknown */
    STIR_CRL_OFF = 2,         /* no revocation checks at all */
};

typedef struct stir_crl_config {
    /* Fetch rules: the x5u policy (timeouts, address checks, allowed hosts,
     * ports, no redirects) with its own size cap; see allow_http. */
    stir_fetch_policy fetch;
    /* Also fetch http:// CRL URLs (default 1): SHAKEN CRL Distribution
     * Points are HTTP URLs (ATIS-1000080 6.4.1), and a CRL is signed, so
     * the transport adds no integrity. The address checks still apply. */
    int allow_http;
    int mode; /* enum stir_crl_mode */
    /* a CRL is reused until its nextUpdate, at most this long; default 86400 */
    long max_ttl_s;
    /* a failed or stale CRL is retried after this; default 60 */
    long retry_s;
    /* CRLs kept (and failures, apart); default 256 */
    size_t max_entries;
    /* Called (from any thread) for each fail-open acceptance, with a line
     * naming the certificate, the URL and the reason. NULL: silent. */
    void (*warn)(void *arg, const char *line);
    void *warn_arg;
} stir_crl_config;

void stir_crl_config_default(stir_crl_config *cfg);

/* Parse "fail-open", "fail-closed" or "off"; -1 for anything else. */
int stir_crl_mode_parse(const char *s);

/* A parsed CRL (crl.c); shared, reference-counted. */
typedef struct stir_crl stir_crl;

/*
 * Where a checker gets CRLs: get returns a new reference to the CRL
 * published at `url` (cached, or fetched now), or NULL with err set (436:
 * fetch failure or not a CRL, the detail says which; 500: out of memory).
 * Called from any thread.
 */
typedef struct stir_crl_source {
    stir_crl *(*get)(void *ctx, const char *url, stir_error *err);
    void *ctx;
} stir_crl_source;

/*
 * The library's CRL source: a fetch cache (fetchcache.c) of the context
 * `ctx` (which must outlive it): CRL URLs fetched under cfg->fetch with
 * http allowed by cfg->allow_http, one download per URL at a time and the
 * context's per-host cap; a CRL kept until its nextUpdate, at most
 * max_ttl_s (a stale one retry_s), never longer whatever the HTTP headers
 * say; failures kept retry_s; max_entries CRLs and as many failures.
 * 400 naming the setting for a bad configuration.
 */
typedef struct stir_crl_cache stir_crl_cache;
stir_crl_cache *stir_crl_cache_new(stir_ctx *ctx, const stir_crl_config *cfg, stir_error *err);
/* After every checker using its source. */
void stir_crl_cache_free(stir_crl_cache *cc);
/* The source to give stir_crl_checker_new_with_source. */
void stir_crl_cache_source(stir_crl_cache *cc, stir_crl_source *out);
/* Downloads, hits, failures and entries, as for the certificate cache. */
void stir_crl_cache_stats_get(stir_crl_cache *cc, stir_certcache_stats *out);

typedef struct stir_crl_checker stir_crl_checker;

/* A checker whose CRLs come from `src` (copied; what src->ctx points at
 * must outlive the checker). Uses cfg's mode, max_ttl_s, retry_s and warn;
 * 400 naming the setting when they are bad. */
stir_crl_checker *stir_crl_checker_new_with_source(const stir_crl_config *cfg,
                                                   const stir_crl_source *src, stir_error *err);
void stir_crl_checker_free(stir_crl_checker *ck);

typedef struct stir_crl_stats {
    unsigned long revoked;   /* chains refused as revoked */
    unsigned long fail_open; /* certificates accepted without a usable CRL */
} stir_crl_stats;

void stir_crl_stats_get(stir_crl_checker *ck, stir_crl_stats *out);

#ifdef __cplusplus
}
#endif
#endif
