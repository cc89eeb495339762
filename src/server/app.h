/*
 * What the request handlers share: the settings and the libstir objects,
 * all created before the HTTP daemon starts and read-only afterwards.
 */
#ifndef STIRD_APP_H
#define STIRD_APP_H

#include <stddef.h>
#include <time.h>
#include <stir/stir.h>
#include "config.h"

struct auth_holder;
struct audit;

typedef struct stird_app {
    const stird_config *cfg;
    stir_ctx *ctx;             /* everything below is created from it */
    stir_trust *trust;
    size_t trust_count;
    stir_certcache *cache;
    stir_crl_checker *crl;     /* revocation, used by the cache; NULL: off */
    stir_crl_cache *crl_cache; /* the CRLs the checker uses; NULL: off */
    stir_rcd *rcd;             /* RCD content fetches and cache (rcdi) */
    /* The signer (credentials.h: cred_acquire), swapped by SIGHUP; its
     * signer is NULL when signing is not configured. */
    struct cred_holder *creds;
    stir_verifier *verifier;
    /* The gate (auth.h): NULL when auth = none and no policy_file, so an
     * open server pays one pointer test per request. */
    struct auth_holder *auth;
    struct audit *audit;       /* audit_log (audit.h); NULL: none */
} stird_app;

/* The server clock: --fixed-time when set, else the system clock. */
time_t app_now(const stird_app *app);

#endif
