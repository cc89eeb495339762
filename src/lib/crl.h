/*
 * Revocation internals (private to libstir): parsing a CRL, its lifetime,
 * and the chain check certcache.c calls. The CRL cache (stir_crl_cache,
 * end of crl.c) is a fetch cache whose parse callback is sti_crl_parse
 * with the lifetime of sti_crl_lifetime.
 */
#ifndef STIR_CRL_PRIV_H
#define STIR_CRL_PRIV_H

#include <openssl/x509.h>
#include "stir/cert.h"
#include "stir/crl.h"

/* Parse one CRL, DER or PEM ("X509 CRL" block). 436 with a detail when
 * the body is not one. The signature is checked later, per issuer. */
stir_crl *sti_crl_parse(const char *body, size_t len, stir_error *err);
stir_crl *sti_crl_ref(stir_crl *c);
void sti_crl_unref(stir_crl *c);

/* Seconds the CRL may be reused from `now`: until nextUpdate, at most
 * max_ttl_s, retry_s when already stale or without nextUpdate beyond
 * max_ttl_s. Always >= 1. */
long sti_crl_lifetime(const stir_crl *c, time_t now, long max_ttl_s, long retry_s);

/*
 * Check every certificate of c's validated path (stir_cert_validate ran)
 * except the anchor against the CRL its CRL Distribution Points name.
 * Returns 0 (none revoked, or fail-open) or 437 naming the certificate
 * ("certificate revoked: depth 0 CN=..., serial 1F, ...", or under
 * fail-closed why its status is unknown), or 500 when the source failed
 * for want of memory. *valid_until: when this verdict
 * must be re-established (earliest nextUpdate; now + retry_s after a
 * fail-open acceptance; now + max_ttl_s when no certificate names a CRL).
 */
int sti_crl_check_chain(stir_crl_checker *ck, const stir_cert *c, time_t now, time_t *valid_until,
                        stir_error *err);

/* The validated path of c (leaf first, anchor last), NULL before a
 * successful stir_cert_validate. Borrowed. Defined in cert.c. */
STACK_OF(X509) * sti_cert_path0(const stir_cert *c);

#endif
