/*
 * Certificate revocation by CRL (RFC 5280 5, 6.3; ATIS-1000080 6.4.1 CRL
 * Distribution Points): every certificate of a validated x5u chain that
 * names a CRL Distribution Point is looked up in that CRL, verified with
 * its issuer's key.
 *
 * The checker runs when a chain is fetched and validated (certcache.c),
 * not per request: the verdict is cached with the chain, whose cache
 * lifetime is cut to the earliest nextUpdate of the CRLs it was checked
 * against (docs/ARCHITECTURE.md, "Revocation").
 */
#ifndef STIR_CRL_H
#define STIR_CRL_H

#include <stddef.h>
#include <time.h>
#include "error.h"
#include "certcache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to do when a CRL cannot be fetched, does not parse, is not signed
 * by the certificate's issuer, or is stale (nextUpdate passed). */
enum stir_crl_mode {
    STIR_CRL_FAIL_OPEN = 0,     /* accept the certificate, warn (default) */
    STIR_CRL_FAIL_CLOSED = 1,   /* 437: revocation status unknown */
    STIR_CRL_OFF = 2,           /* no revocation checks at all */
};

typedef struct stir_crl_config {
    /* Fetch rules: the x5u policy (timeouts, address checks, allowed hosts,
     * ports, no redirects) with its own size cap; see allow_http. */
    stir_fetch_policy fetch;
    /* Also fetch http:// CRL URLs (default 1): SHAKEN CRL Distribution
     * Points are HTTP URLs (ATIS-1000080 6.4.1), and a CRL is signed, so
     * the transport adds no integrity. The address checks still apply. */
    int allow_http;
    int mode;                   /* enum stir_crl_mode */
    long max_ttl_s;             /* a CRL is reused until its nextUpdate, at
                                   most this long; default 86400 */
    long retry_s;               /* a failed or stale CRL is retried after
                                   this; default 60 */
    size_t max_entries;         /* CRLs kept; default 256 */
    /* Called (from any thread) for each fail-open acceptance, with a line
     * naming the certificate, the URL and the reason. NULL: silent. */
    void (*warn)(void *arg, const char *line);
    void *warn_arg;
} stir_crl_config;

void stir_crl_config_default(stir_crl_config *cfg);

/* Parse "fail-open", "fail-closed" or "off"; -1 for anything else. */
int stir_crl_mode_parse(const char *s);
const char *stir_crl_mode_name(int mode);

typedef struct stir_crl_checker stir_crl_checker;

/* A checker with its own CRL fetch and cache (provisional: see crl.h in
 * src/lib for the source interface a shared fetch cache plugs into). */
stir_crl_checker *stir_crl_checker_new(const stir_crl_config *cfg, stir_error *err);
void stir_crl_checker_free(stir_crl_checker *ck);

typedef struct stir_crl_stats {
    unsigned long fetches, fetch_failures, hits, revoked, fail_open;
} stir_crl_stats;

void stir_crl_stats_get(stir_crl_checker *ck, stir_crl_stats *out);

#ifdef __cplusplus
}
#endif
#endif
