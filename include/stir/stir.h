/*
 * libstir: STIR/SHAKEN PASSporTs, Identity headers, STI certificates,
 * signing and verification. No HTTP in it.
 *
 *   stir_signer   claims in, Identity header value out          (sign.h)
 *   stir_verifier Identity header values in, verdicts out       (verify.h)
 *   stir_certcache x5u fetching, chain validation, caching      (certcache.h)
 *
 *   stir_ctx      the context they are all created from          (ctx.h)
 *
 * Call stir_init() once before anything else, then stir_ctx_new().
 */
#ifndef STIR_STIR_H
#define STIR_STIR_H

#include "error.h"
#include "ctx.h"
#include "encoding.h"
#include "jws.h"
#include "passport.h"
#include "identity.h"
#include "tn.h"
#include "cert.h"
#include "certcache.h"
#include "crl.h"
#include "ppt.h"
#include "sign.h"
#include "verify.h"
#include "msapi.h"
#include "reason.h"
#include "pki.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STIR_VERSION "0.1.0"

/* Initialize libcurl and OpenSSL globals. Not thread-safe; call once. */
int stir_init(void);
void stir_cleanup(void);

/* Fill `out` (>= 37 bytes) with a random RFC 4122 version-4 UUID. */
int stir_uuid4(char out[37]);

#ifdef __cplusplus
}
#endif
#endif
