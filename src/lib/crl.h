/*
 * Revocation internals (private to libstir): the parsed CRL, the source a
 * checker gets CRLs from, and the chain check certcache.c calls.
 *
 * Plugging in a shared fetch cache (fetchcache.c): the cache fetches the
 * URL under cfg->fetch with allow_http from stir_crl_config, turns the body
 * into a value with stir_crl_parse, takes the value's lifetime from
 * stir_crl_lifetime (nextUpdate, bounded by max_ttl_s; retry_s for a stale
 * CRL), keeps failures retry_s, and answers through a stir_crl_source.
 * Then stir_crl_checker_new_with_source replaces stir_crl_checker_new and
 * the provisional cache at the end of crl.c goes.
 */
#ifndef STIR_CRL_PRIV_H
#define STIR_CRL_PRIV_H

#include <openssl/x509.h>
#include "stir/cert.h"
#include "stir/crl.h"

/* A parsed, not yet verified CRL; shared, reference-counted. */
typedef struct stir_crl stir_crl;

/* Parse one CRL, DER or PEM ("X509 CRL" block). 436 with a detail when
 * the body is not one. The signature is checked later, per issuer. */
stir_crl *stir_crl_parse(const char *body, size_t len, stir_error *err);
stir_crl *stir_crl_ref(stir_crl *c);
void stir_crl_unref(stir_crl *c);

/* Seconds the CRL may be reused from `now`: until nextUpdate, at most
 * max_ttl_s, retry_s when already stale or without nextUpdate beyond
 * max_ttl_s. Always >= 1. */
long stir_crl_lifetime(const stir_crl *c, time_t now, long max_ttl_s, long retry_s);

/*
 * Where a checker gets CRLs: a new reference to the CRL published at
 * `url` (cached, or fetched now; one fetch at a time per URL), or NULL
 * with err set (436: fetch failure or not a CRL, detail says which).
 */
typedef struct stir_crl_source {
    stir_crl *(*get)(void *ctx, const char *url, stir_error *err);
    void *ctx;
} stir_crl_source;

/* A checker whose CRLs come from `src` (borrowed; must outlive it). */
stir_crl_checker *stir_crl_checker_new_with_source(const stir_crl_config *cfg,
                                                   const stir_crl_source *src,
                                                   stir_error *err);

/*
 * Check every certificate of c's validated path (stir_cert_validate ran)
 * except the anchor against the CRL its CRL Distribution Points name.
 * Returns 0 (none revoked, or fail-open) or 437 naming the certificate
 * ("certificate revoked: depth 0 CN=..., serial 1F, ...", or under
 * fail-closed why its status is unknown). *valid_until: when this verdict
 * must be re-established (earliest nextUpdate; now + retry_s after a
 * fail-open acceptance; now + max_ttl_s when no certificate names a CRL).
 */
int stir_crl_check_chain(stir_crl_checker *ck, const stir_cert *c, time_t now,
                         time_t *valid_until, stir_error *err);

/* The validated path of c (leaf first, anchor last), NULL before a
 * successful stir_cert_validate. Borrowed. Defined in cert.c. */
STACK_OF(X509) *stir_cert_path0(const stir_cert *c);

#endif
