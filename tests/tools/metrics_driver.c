/*
 * metrics_driver THREADS N [TRUST_PEM CHAIN_PEM]: records a fixed mix of
 * events N times in each of THREADS threads through the functions the
 * request path calls, then prints metrics_render's exposition on stdout.
 * tests/integration/test_metrics.py knows the mix and checks the totals
 * (no lost atomic adds), the histogram buckets, and runs promtool.
 * With TRUST_PEM and CHAIN_PEM a certificate cache is created and the
 * chain preloaded into it, so its families are rendered too.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stir/stir.h>

static long n_iter;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < n_iter; i++) {
        metrics_request("signing", 200, 150);            /* le 0.00025 */
        metrics_request("verification", 200, 3000);      /* le 0.005 */
        metrics_request("verification", 400, 20);        /* le 0.0001 */
        metrics_request("/nope", 404, 7000000);          /* +Inf, resource other */
        metrics_verify_result("shaken", 1, 0);
        metrics_verify_result("div", 0, 438);
        metrics_verify_result("", 0, 436);
        metrics_verify_result("acme", 0, 999);           /* ppt other, code other */
        metrics_verstat("TN-Validation-Passed");
        metrics_verstat(NULL);
        metrics_refusal(METRICS_REFUSED_SIZE);
    }
    return NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    long threads;
    pthread_t tid[64];
    metrics_buf b = {0};
    stir_trust *trust = NULL;
    stir_ctx *ctx = NULL;
    stir_certcache *cc = NULL;
    stir_rcd *rcd = NULL;
    stir_error e;
    int rc = 0;

    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: metrics_driver THREADS N [TRUST_PEM CHAIN_PEM]\n");
        return 2;
    }
    threads = atol(argv[1]);
    n_iter = atol(argv[2]);
    if (threads < 1 || threads > 64 || n_iter < 0)
        return 2;
    stir_init();
    metrics_init();
    memset(&e, 0, sizeof e);
    if (argc == 5) {
        stir_certcache_config cfg;
        size_t len = 0;
        char *pem = slurp(argv[4], &len);
        stir_certcache_config_default(&cfg);
        ctx = stir_ctx_new(&e);
        trust = ctx ? stir_trust_load(argv[3], &e) : NULL;
        cc = trust ? stir_certcache_new(ctx, &cfg, trust, &e) : NULL;
        if (!cc || !pem) {
            fprintf(stderr, "metrics_driver: certificate cache: %s\n", e.detail);
            return 1;
        }
        stir_certcache_put(cc, "https://cr.example.com/chain.pem", pem, len, 0, &e);
        free(pem);
        metrics_set_certcache(cc);
        /* An RCD fetcher that fetched nothing: its families at zero. */
        stir_rcd_config rcfg;
        stir_rcd_config_default(&rcfg);
        rcd = stir_rcd_new(ctx, &rcfg, &e);
        if (!rcd) {
            fprintf(stderr, "metrics_driver: rcd: %s\n", e.detail);
            return 1;
        }
        metrics_set_rcd(rcd);
    }
    metrics_fetch_queue_capacity(1024);
    metrics_fetch_queue_depth(3);
    metrics_sign_queue_depth(2);
    metrics_set_signing_not_after(2000000000);
    for (long i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, NULL);
    for (long i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    if (metrics_render(&b, 1900000000) != 0) {
        fprintf(stderr, "metrics_driver: out of memory\n");
        rc = 1;
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
    metrics_buf_free(&b);
    metrics_set_certcache(NULL);
    metrics_set_rcd(NULL);
    if (rcd)
        stir_rcd_free(rcd);
    if (cc)
        stir_certcache_free(cc);
    if (trust)
        stir_trust_free(trust);
    stir_ctx_free(ctx);
    stir_cleanup();
    return rc;
}
