/*
 * Signers, verifiers and the PKI they use, made in one place for
 * test_sign.c and test_verify.c (so a change of how libstir objects are
 * created is one edit here).
 *
 * The PKI is tests/tools/mkvecpki.sh (openssl CLI): a chain valid
 * 2015-2115 whose leaf holds the RFC 8946 key (the key of the TV-12
 * vectors) with TNAuthList SPC 709J, plus, made here with the openssl CLI
 * under the same intermediate, "tn" leaves whose TNAuthList holds only
 * the single TN 12155551212 ([2] one, RFC 8226 9).
 */
#ifndef TEST_WORLD_H
#define TEST_WORLD_H

#include "test_util.h"
#include "stir/stir.h"
#include "stir/rcd.h"

#define W_X5U "https://cert.example.org/passport.cer"   /* TV-12 V1, V5..V8 */
#define W_X5U_DIV "https://www.example.com/cert.cer"    /* TV-12 V2, TV-3 */
#define W_X5U_RPH "https://www.example.org/cert.cer"    /* TV-12 V3, V4 */
#define W_X5U_TN "https://cert.example.org/tn-only.pem" /* the TN-only leaf */
#define W_TN "12155551212"

typedef struct world {
    char dir[64];
    stir_ctx *ctx; /* everything below is created from it */
    stir_trust *trust;
    stir_certcache *cache;
    stir_rcd *rcd;
    stir_verifier *verifier;
} world;

static inline void world_path(const world *w, char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", w->dir, name);
}

static inline int world_sh(const world *w, const char *script)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && { %s ; } >/dev/null 2>&1", w->dir, script);
    return system(cmd) == 0 ? 0 : -1;
}

static inline char *world_slurp(const world *w, const char *name, size_t *n)
{
    char p[256];
    world_path(w, p, sizeof p, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *b = calloc(1, 65536);
    *n = fread(b, 1, 65535, f);
    fclose(f);
    return b;
}

/* Put the chain in file `name` into the cache under `url`. */
static inline int world_put(world *w, const char *url, const char *name)
{
    size_t n;
    char *pem = world_slurp(w, name, &n);
    stir_error err;
    int rc = pem ? stir_certcache_put(w->cache, url, pem, n, 86400, &err) : -1;
    free(pem);
    return rc;
}

/* The verifier every test uses (freshness 60 s, RCD checks on). */
static inline stir_verifier *world_verifier(world *w)
{
    stir_error err;
    stir_verifier_config vc;
    memset(&vc, 0, sizeof vc);
    vc.cache = w->cache;
    vc.freshness_s = 60;
    vc.rcd = w->rcd;
    return stir_verifier_new(w->ctx, &vc, &err);
}

/* A signer with key and chain files of the PKI; NULL with *err. */
static inline stir_signer *world_signer(world *w, const char *key, const char *chain,
                                        const char *x5u, stir_error *err)
{
    char k[256], c[256];
    world_path(w, k, sizeof k, key);
    world_path(w, c, sizeof c, chain);
    stir_signer_config sc;
    memset(&sc, 0, sizeof sc);
    sc.key_path = k;
    sc.cert_path = c;
    sc.x5u = x5u;
    sc.freshness_s = 60;
    sc.rcd = w->rcd;
    stir_error_clear(err);
    return stir_signer_new(w->ctx, &sc, err);
}

static inline int world_start(world *w, const char *tag)
{
    memset(w, 0, sizeof *w);
    const char *src = getenv("STIR_SRC");
    char cmd[512];
    snprintf(w->dir, sizeof w->dir, "/tmp/stir-test-%s-XXXXXX", tag);
    if (!mkdtemp(w->dir) || stir_init() != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "bash '%s/tests/tools/mkvecpki.sh' '%s'", src ? src : ".", w->dir);
    if (system(cmd) != 0)
        return -1;
    /* The TN-only leaf (valid from now, 10 years) and a P-384 key. */
    if (world_sh(w, "printf '[tn]\\nbasicConstraints=critical,CA:FALSE\\n"
                    "keyUsage=critical,digitalSignature\\nsubjectKeyIdentifier=hash\\n"
                    "authorityKeyIdentifier=keyid:always\\n"
                    "1.3.6.1.5.5.7.1.26=DER:30:0f:a2:0d:16:0b:31:32:31:35:35:35:35:31:32:31:32\\n'"
                    " > tn.cnf && openssl ecparam -name prime256v1 -genkey -noout -out tn.key"
                    " && openssl req -new -key tn.key -subj '/CN=SHAKEN TN' -out tn.csr"
                    " && openssl x509 -req -in tn.csr -CA int.pem -CAkey int.key"
                    " -CAcreateserial -days 3650 -extfile tn.cnf -extensions tn -out tn.pem"
                    " && cat tn.pem int.pem > chain_tn.pem"
                    " && openssl verify -CAfile root.pem -untrusted int.pem tn.pem"
                    " && openssl ecparam -name secp384r1 -genkey -noout -out p384.key"
                    " && openssl ecparam -name prime256v1 -genkey -noout -out other.key"))
        return -1;
    char p[256];
    stir_error err;
    if (!(w->ctx = stir_ctx_new(&err)))
        return -1;
    world_path(w, p, sizeof p, "root.pem");
    if (!(w->trust = stir_trust_load(p, &err)))
        return -1;
    stir_certcache_config cc;
    stir_certcache_config_default(&cc);
    if (!(w->cache = stir_certcache_new(w->ctx, &cc, w->trust, &err)))
        return -1;
    if (world_put(w, W_X5U, "chain.pem") || world_put(w, W_X5U_DIV, "chain.pem") ||
        world_put(w, W_X5U_RPH, "chain.pem") || world_put(w, W_X5U_TN, "chain_tn.pem"))
        return -1;
    stir_rcd_config rc;
    stir_rcd_config_default(&rc);
    if (!(w->rcd = stir_rcd_new(w->ctx, &rc, &err)))
        return -1;
    return (w->verifier = world_verifier(w)) ? 0 : -1;
}

static inline int world_stop(world *w)
{
    stir_verifier_free(w->verifier);
    stir_rcd_free(w->rcd);
    stir_certcache_free(w->cache);
    stir_trust_free(w->trust);
    stir_ctx_free(w->ctx);
    stir_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    return w->dir[0] && system(cmd) != 0 ? -1 : 0;
}

#endif
