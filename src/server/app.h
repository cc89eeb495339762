/*
 * What the request handlers share: the settings and the libstir objects,
 * all created before the HTTP daemon starts and read-only afterwards.
 */
#ifndef STIRD_APP_H
#define STIRD_APP_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>
#include <stir/stir.h>
#include "config.h"
#include "trustdigest.h"

struct auth_holder;
struct audit;

typedef struct stird_app {
    const stird_config *cfg;
    stir_ctx *ctx; /* everything below is created from it */
    /* The trust anchors, the certificate cache built on them and the
     * verifier (a `verif`), swapped by SIGHUP: holder.h. */
    struct holder *verif;
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
    struct audit *audit; /* audit_log (audit.h); NULL: none */
    /* 1: the signer holds a PKCS#11 token key, so signing (several ms of
     * token round trips) runs on the fetch pool, not on the connection
     * workers' event loops (cred_uses_token; set again by SIGHUP). */
    _Atomic int sign_on_pool;
} stird_app;

/* What verifies, built on one set of trust anchors. */
typedef struct verif {
    char *trust_path;
    unsigned char trust_digest[TRUST_DIGEST_LEN]; /* of trust_path when loaded:
                                       * a reload reloads when it changed */
    stir_trust *trust;
    size_t trust_count;
    stir_certcache *cache; /* validated against `trust` */
    stir_verifier *verifier;
} verif;

/* verification.c: a verif from cfg->trust (and the fetch, cache and
 * verification settings of `cfg`), with the app's CRL checker and RCD
 * fetcher; NULL with a one-line message in `err`. */
verif *verif_new(const stird_app *app, const stird_config *cfg, char *err, size_t errlen);
void verif_free(void *v);
/* 1 when cfg->trust names other anchors than `v` was built from (another
 * path, or other bytes in the file or in a file of the directory). */
int verif_trust_changed(const verif *v, const stird_config *cfg);

/* The server clock: --fixed-time when set, else the system clock. */
time_t app_now(const stird_app *app);

#endif
