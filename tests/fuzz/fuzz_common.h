/*
 * Shared set-up of the fuzz targets: the vector PKI committed in
 * tests/fuzz/pki (tests/tools/mkvecpki.sh: a chain valid 2015-2115 whose
 * leaf holds the RFC 8946 key, so the TV-12 vectors of test-vectors.md
 * verify), and the one place where verifiers and signers are created.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stir/stir.h>
#include <stir/rcd.h>

/* The verifier's clock: the iat of the TV-12 vectors plus a few seconds. */
#define FUZZ_NOW 1443208350
/* x5u URLs of the vectors; the cache holds the vector chain for each. */
#define FUZZ_X5U "https://cert.example.org/passport.cer"
#define FUZZ_X5U_DIV "https://www.example.com/cert.cer"
#define FUZZ_X5U_RPH "https://www.example.org/cert.cer"

/* The libFuzzer entry points (replay.c calls them without libFuzzer). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_slurp(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", STIR_FUZZ_PKI, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz: cannot open %s\n", path);
        abort();
    }
    char *buf = malloc(65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline void fuzz_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", STIR_FUZZ_PKI, name);
}

static inline void fuzz_die(const char *what, const stir_error *err)
{
    fprintf(stderr, "fuzz set-up: %s: %d %s\n", what, err->code, err->detail);
    abort();
}

/* stir_init, or abort: every target's first step. */
static inline void fuzz_init(void)
{
    if (stir_init() != 0)
        abort();
}

/* A certificate file of the vector PKI (chain.pem, root.pem ...). */
static inline stir_cert *fuzz_cert_load(const char *name)
{
    stir_error err;
    char p[1024];
    fuzz_path(p, sizeof p, name);
    stir_cert *c = stir_cert_load(p, &err);
    if (!c)
        fuzz_die(name, &err);
    return c;
}

/* The vector root as the trust anchors. */
static inline stir_trust *fuzz_trust(void)
{
    stir_error err;
    char p[1024];
    fuzz_path(p, sizeof p, "root.pem");
    stir_trust *t = stir_trust_load(p, &err);
    if (!t)
        fuzz_die("trust", &err);
    return t;
}

/* A JSON text of the input, or NULL (duplicate keys refused, as http.c). */
static inline json_t *fuzz_json(const uint8_t *data, size_t size)
{
    json_error_t je;
    return json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
}

/* ---- the objects under test (created here only) ---------------------------- */

typedef struct fuzz_world {
    stir_ctx *ctx; /* everything below is created from it */
    stir_trust *trust;
    stir_certcache *cache;
    stir_rcd *rcd;
    stir_verifier *verifier;
    stir_signer *signer;
} fuzz_world;

/* Trust, a cache holding the vector chain under both x5u URLs, an RCD
 * checker, a verifier over them and a signer with the vector key. Nothing
 * fetches: the targets pass STIR_CACHE_NOWAIT. */
static inline void fuzz_world_init(fuzz_world *w)
{
    stir_error err;
    char p[1024], c[1024];
    size_t len;
    memset(w, 0, sizeof *w);
    fuzz_init();
    if (!(w->ctx = stir_ctx_new(&err)))
        fuzz_die("context", &err);
    w->trust = fuzz_trust();
    stir_certcache_config cc;
    stir_certcache_config_default(&cc);
    if (!(w->cache = stir_certcache_new(w->ctx, &cc, w->trust, &err)))
        fuzz_die("certcache", &err);
    char *chain = fuzz_slurp("chain.pem", &len);
    if (stir_certcache_put(w->cache, FUZZ_X5U, chain, len, 86400, &err) ||
        stir_certcache_put(w->cache, FUZZ_X5U_DIV, chain, len, 86400, &err) ||
        stir_certcache_put(w->cache, FUZZ_X5U_RPH, chain, len, 86400, &err))
        fuzz_die("certcache_put", &err);
    free(chain);
    stir_rcd_config rc;
    stir_rcd_config_default(&rc);
    if (!(w->rcd = stir_rcd_new(w->ctx, &rc, &err)))
        fuzz_die("rcd", &err);
    stir_verifier_config vc = {.cache = w->cache, .freshness_s = 60, .rcd = w->rcd};
    if (!(w->verifier = stir_verifier_new(w->ctx, &vc, &err)))
        fuzz_die("verifier", &err);
    fuzz_path(p, sizeof p, "sp.key");
    fuzz_path(c, sizeof c, "chain.pem");
    stir_signer_config sc = {
        .key_path = p, .cert_path = c, .x5u = FUZZ_X5U, .freshness_s = 60, .rcd = w->rcd};
    if (!(w->signer = stir_signer_new(w->ctx, &sc, &err)))
        fuzz_die("signer", &err);
}

/* The LLVMFuzzerInitialize of a target whose objects are the fuzz_world w. */
#define FUZZ_INITIALIZE_WORLD(w)                      \
    int LLVMFuzzerInitialize(int *argc, char ***argv) \
    {                                                 \
        (void)argc;                                   \
        (void)argv;                                   \
        fuzz_world_init(&(w));                        \
        return 0;                                     \
    }

#endif
