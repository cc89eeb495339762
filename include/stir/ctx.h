/*
 * The library context: what used to be process-wide mutable state. A
 * context holds the PASSporT type registry (ppt.h) and the downloads in
 * progress per repository host, which its caches share for the per-host
 * cap (fetch_max_per_host); signers, verifiers,
 * certificate caches and RCD fetchers are created from one and use its
 * registry. Two contexts in one process are independent (a test, or a
 * reload that builds a new set beside the old one).
 *
 * Still process-wide, on purpose: stir_init's libcurl and OpenSSL set-up
 * (global by nature) and the per-thread ES256 contexts of jws.c, which
 * cache immutable algorithm objects per thread, carry no configuration,
 * and are correct to share across contexts (one per thread is what keeps
 * signing free of locks).
 */
#ifndef STIR_CTX_H
#define STIR_CTX_H

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stir_ctx stir_ctx;

/* A context with the built-in PASSporT types. Call stir_init() first. */
stir_ctx *stir_ctx_new(stir_error *err);

/* Everything created from ctx must have been freed before. */
void stir_ctx_free(stir_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
