/*
 * In-process cost of libstir's request paths against the bare ES256
 * operation (no HTTP): what the library adds per request.
 *
 *   build/stir-micro STATE_DIR [SECONDS]
 * STATE_DIR holds a test PKI (stirctl pki --dir STATE_DIR). With
 * STIR_MICRO_P11_URI, STIR_MICRO_P11_CERT, STIR_MICRO_P11_MODULE and
 * STIRD_PKCS11_PIN set (bench/pkcs11.sh sets them), signing with that
 * PKCS#11 token key is measured too. Prints
 * microseconds per operation; run under `valgrind --tool=callgrind` for a
 * repeatable profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "stir/stir.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(65536);
    size_t n = fread(b, 1, 65535, f);
    fclose(f);
    b[n] = 0;
    return b;
}

#define LOOP(label, secs, body)                                                     \
    do {                                                                            \
        long n_ = 0;                                                                \
        double t0_ = now_s(), t_;                                                   \
        do {                                                                        \
            for (int i_ = 0; i_ < 64; i_++, n_++) {                                 \
                body;                                                               \
            }                                                                       \
            t_ = now_s() - t0_;                                                     \
        } while (t_ < (secs));                                                      \
        printf("%-28s %8.2f us/op  (%ld ops)\n", label, t_ * 1e6 / (double)n_, n_); \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: stir-micro STATE_DIR [SECONDS]\n");
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 1.0;
    char key[512], cert[512], root[512];
    snprintf(key, sizeof key, "%s/sp.key", argv[1]);
    snprintf(cert, sizeof cert, "%s/chain.pem", argv[1]);
    snprintf(root, sizeof root, "%s/root.pem", argv[1]);
    stir_init();
    const char *x5u = "https://cert.example.org/chain.pem";
    stir_error err;
    stir_signer_config sc = {.key_path = key, .cert_path = cert, .x5u = x5u};
    stir_ctx *ctx = stir_ctx_new(&err);
    stir_signer *s = ctx ? stir_signer_new(ctx, &sc, &err) : NULL;
    stir_trust *trust = stir_trust_load(root, &err);
    stir_certcache_config cc;
    stir_certcache_config_default(&cc);
    stir_certcache *cache = trust ? stir_certcache_new(ctx, &cc, trust, &err) : NULL;
    char *pem = slurp(cert);
    if (!s || !cache || !pem || stir_certcache_put(cache, x5u, pem, strlen(pem), 3600, &err)) {
        fprintf(stderr, "setup: %s\n", err.detail);
        return 1;
    }
    stir_verifier_config vc = {.cache = cache};
    stir_verifier *v = stir_verifier_new(ctx, &vc, &err);
    time_t now = time(NULL);
    json_t *sreq = json_pack("{ss s{ss} s{s[s]} sI ss}", "attest", "A", "orig", "tn", "12155551212",
                             "dest", "tn", "12155551213", "iat", (json_int_t)now, "origid",
                             "123e4567-e89b-12d3-a456-426614174000");
    char *hdr = stir_sign_request(s, sreq, now, &err);
    json_t *vreq = json_pack("{ss s{ss} s{ss} sI}", "identityHeader", hdr, "from", "tn",
                             "12155551212", "to", "tn", "12155551213", "time", (json_int_t)now);
    json_t *r = stir_verify_request(v, vreq, now, &err);
    const char *vs = json_string_value(json_object_get(r, "verstatValue"));
    if (!vs || strcmp(vs, STIR_VERSTAT_PASSED)) {
        fprintf(stderr, "self-check: verification did not pass\n");
        return 1;
    }
    json_decref(r);

    FILE *kf = fopen(key, "r");
    EVP_PKEY *pk = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
    fclose(kf);
    const char *tbs = hdr;
    size_t tbs_len = (size_t)(strrchr(strchr(hdr, ';') ? hdr : hdr, '.') - hdr);
    unsigned char sig[64];
    stir_es256_sign(pk, tbs, tbs_len, sig);

    LOOP("es256 sign (bare)", secs, stir_es256_sign(pk, tbs, tbs_len, sig));
    LOOP("stir_sign_request", secs, free(stir_sign_request(s, sreq, now, &err)));
    LOOP("es256 verify (bare)", secs, stir_es256_verify(pk, tbs, tbs_len, sig));
    LOOP("stir_verify_request", secs, json_decref(stir_verify_request(v, vreq, now, &err)));
    /* What the server does per request: msapi parse, core, msapi writer. */
    stir_verify_outcome *vo = malloc(sizeof *vo);
    stir_ms_verify_request *vr = malloc(sizeof *vr);
    LOOP("verify + response (server)", secs, {
        size_t len;
        if (!stir_ms_parse_verify(vreq, 0, vr, &err) && !stir_verify(v, vr, now, 0, vo, &err)) {
            free(stir_ms_verify_response(vo, vr, &len));
            stir_verify_outcome_clear(vo);
        }
    });
    LOOP("sign + response (server)", secs, {
        stir_ms_sign_request sr;
        size_t len;
        char *h = stir_ms_parse_sign(sreq, NULL, NULL, &sr, &err)
                      ? NULL
                      : stir_sign(s, NULL, 0, &sr, now, 0, &err);
        if (h)
            free(stir_ms_sign_response(h, NULL, 0, &len));
        free(h);
    });
    free(vo);
    free(vr);

    const char *p11 = getenv("STIR_MICRO_P11_URI");
    if (p11) {
        stir_signer_config hc = {.key_path = p11,
                                 .cert_path = getenv("STIR_MICRO_P11_CERT"),
                                 .x5u = x5u,
                                 .pkcs11_module = getenv("STIR_MICRO_P11_MODULE"),
                                 .pkcs11_pin = getenv("STIRD_PKCS11_PIN")};
        stir_signer *hs = hc.cert_path ? stir_signer_new(ctx, &hc, &err) : NULL;
        if (!hs) {
            fprintf(stderr, "pkcs11 signer: %s\n", hc.cert_path ? err.detail : "no cert");
            return 1;
        }
        LOOP("stir_sign_request (pkcs11)", secs, free(stir_sign_request(hs, sreq, now, &err)));
        stir_signer_free(hs);
    }

    EVP_PKEY_free(pk);
    free(hdr);
    free(pem);
    json_decref(sreq);
    json_decref(vreq);
    stir_verifier_free(v);
    stir_certcache_free(cache);
    stir_trust_free(trust);
    stir_signer_free(s);
    stir_ctx_free(ctx);
    stir_cleanup();
    return 0;
}
