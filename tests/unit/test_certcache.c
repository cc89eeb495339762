/*
 * The certificate cache, against tests/tools/certserver.py (a stdlib HTTPS
 * server on 127.0.0.1) serving tests/tools/mkpki.sh fixtures. The server's
 * /__hits counts tell how often the cache really fetched. The URL and
 * address rules of fetch.c are test_fetch's.
 */
#include <pthread.h>

#include "test_util.h"
#include "stir/certcache.h"

static certserver g_cs;
static stir_trust *g_trust;

static stir_ctx *g_ctx;

static int setup(void **state)
{
    (void)state;
    if (repo_start(&g_cs, "cc", &g_ctx, &g_trust))
        return -1;
    certserver_put(&g_cs, "notpem.txt", "not a certificate\n", 18);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return repo_stop(&g_cs, g_ctx, g_trust);
}

static void test_cfg(stir_certcache_config *cfg)
{
    stir_certcache_config_default(cfg);
    certserver_policy(&g_cs, &cfg->fetch);
}

static stir_certcache *new_cache(const stir_certcache_config *cfg)
{
    stir_error err;
    stir_certcache *cc = stir_certcache_new(g_ctx, cfg, g_trust, &err);
    if (!cc)
        fail_msg("stir_certcache_new: %s", err.detail);
    return cc;
}

static void assert_detail(const stir_error *err, const char *needle)
{
    if (!strstr(err->detail, needle))
        fail_msg("detail \"%s\" lacks \"%s\"", err->detail, needle);
}

/* get `path` from the test server; expect failure `code` with `needle`. */
static void expect_get_fail(stir_certcache *cc, const char *path, int code, const char *needle)
{
    char u[512];
    certserver_url(&g_cs, u, sizeof u, path);
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_certcache_get(cc, u, time(NULL), &err);
    if (c) {
        stir_cert_unref(c);
        fail_msg("%s: success, expected %d \"%s\"", path, code, needle);
    }
    if (err.code != code)
        fail_msg("%s: %d \"%s\", expected %d \"%s\"", path, err.code, err.detail, code, needle);
    assert_detail(&err, needle);
}

static stir_cert *get_ok(stir_certcache *cc, const char *path)
{
    char u[512];
    certserver_url(&g_cs, u, sizeof u, path);
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_certcache_get(cc, u, time(NULL), &err);
    if (!c)
        fail_msg("%s: %d %s", path, err.code, err.detail);
    return c;
}

/* ---- URL and address policy ----------------------------------------------------- */

/* Fetches in the latency histogram of the stats. */
static unsigned long latency_count(const stir_certcache_stats *st)
{
    unsigned long n = 0;
    for (size_t i = 0; i < STIR_CERTCACHE_FETCH_BUCKETS; i++)
        n += st->fetch_latency[i];
    return n;
}

/* A loopback URL is refused at connect time unless its host is allowed. */
static void test_loopback_refused(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    cfg.fetch.n_allow_hosts = 0;
    stir_certcache *cc = new_cache(&cfg);
    expect_get_fail(cc, "/loop/chain.pem", 436,
                    "x5u host resolves to a loopback address (127.0.0.1) and is not an "
                    "allowed host");
    char u[256];
    snprintf(u, sizeof u, "https://localhost:%d/loop2/chain.pem", g_cs.port);
    stir_error err;
    assert_null(stir_certcache_get(cc, u, time(NULL), &err));
    assert_int_equal(err.code, 436);
    assert_detail(&err, "loopback address");
    stir_certcache_free(cc);
    /* the server never saw them */
    assert_int_equal(certserver_hits(&g_cs, "/loop/chain.pem"), 0);
    assert_int_equal(certserver_hits(&g_cs, "/loop2/chain.pem"), 0);
    /* policy violations do not even reach the network */
    test_cfg(&cfg);
    cc = new_cache(&cfg);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/chain.pem", g_cs.port);
    assert_null(stir_certcache_get(cc, u, time(NULL), &err));
    assert_int_equal(err.code, 436);
    assert_detail(&err, "must use https");
    stir_certcache_free(cc);
}

/* ---- fetching and caching ---------------------------------------------------------- */

static void test_fetch_and_hit(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    stir_certcache *cc = new_cache(&cfg);
    stir_cert *c = get_ok(cc, "/chain.pem");
    const stir_tnauth *ta = stir_cert_tnauth(c);
    assert_non_null(ta);
    assert_string_equal(ta->e[0].value, "709J");
    stir_certcache_stats st;
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.fetches, 1);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.entries, 1);
    assert_int_equal(latency_count(&st), 1); /* one network fetch timed */
    assert_true(st.fetch_seconds_sum > 0.0 && st.fetch_seconds_sum < 10.0);

    stir_cert *c2 = get_ok(cc, "/chain.pem");
    assert_ptr_equal(c, c2);
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.fetches, 1);
    assert_int_equal(latency_count(&st), 1); /* a hit is not a fetch */
    assert_int_equal(certserver_hits(&g_cs, "/chain.pem"), 1);

    /* a cached chain still answers for the caller's time */
    char u[256];
    certserver_url(&g_cs, u, sizeof u, "/chain.pem");
    stir_error err;
    assert_null(stir_certcache_get(cc, u, stir_cert_not_after(c) + 60, &err));
    assert_int_equal(err.code, 437);
    assert_detail(&err, "certificate expired");
    assert_null(stir_certcache_get(cc, u, stir_cert_not_before(c) - 60, &err));
    assert_int_equal(err.code, 437);
    assert_detail(&err, "not valid before");
    stir_cert_unref(c);
    stir_cert_unref(c2);

    /* preloaded chains are served without any fetch */
    size_t len = 0;
    char p[512];
    snprintf(p, sizeof p, "%s/chain.pem", g_cs.dir);
    FILE *f = fopen(p, "r");
    char body[16384];
    len = fread(body, 1, sizeof body, f);
    fclose(f);
    assert_int_equal(
        stir_certcache_put(cc, "https://x5u.invalid/preloaded.pem", body, len, 0, &err), 0);
    c = stir_certcache_get(cc, "https://x5u.invalid/preloaded.pem", time(NULL), &err);
    assert_non_null(c);
    stir_cert_unref(c);
    assert_int_equal(stir_certcache_put(cc, "https://x5u.invalid/bad.pem", "junk", 4, 0, &err),
                     436);
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.fetches, 1);
    stir_certcache_free(cc);
}

static void test_max_age(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    cfg.min_ttl_s = 0;
    cfg.refresh_ahead = 0;
    stir_certcache *cc = new_cache(&cfg);
    const char *path = "/cc/max-age%3D1/chain.pem";
    stir_cert_unref(get_ok(cc, path));
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 1);
    sleep_s(2.1);
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 2);

    /* no directive we know: the 24 h default keeps it */
    path = "/cc/private/chain.pem";
    stir_cert_unref(get_ok(cc, path));
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 1);
    /* Expires - Date is the lifetime */
    path = "/expires/0/chain.pem"; /* Expires == Date: stale at once */
    stir_cert_unref(get_ok(cc, path));
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 2);
    path = "/expires/3600/chain.pem";
    stir_cert_unref(get_ok(cc, path));
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 1);

    /* min_ttl is a floor under max-age */
    stir_certcache_free(cc);
    cfg.min_ttl_s = 60;
    cc = new_cache(&cfg);
    path = "/cc/max-age%3D0/chain.pem";
    stir_cert_unref(get_ok(cc, path));
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 1);
    stir_certcache_free(cc);
}

static void test_no_store(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    stir_certcache *cc = new_cache(&cfg);
    const char *path = "/cc/no-store/chain.pem";
    stir_cert *c = get_ok(cc, path);
    assert_non_null(stir_cert_tnauth(c));
    stir_cert_unref(c);
    stir_cert_unref(get_ok(cc, path));
    assert_int_equal(certserver_hits(&g_cs, path), 2);
    stir_certcache_stats st;
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.entries, 0);
    stir_certcache_free(cc);
}

static void test_fetch_failures(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    stir_certcache *cc = new_cache(&cfg);
    expect_get_fail(cc, "/status/404", 436, "x5u server answered HTTP 404");
    expect_get_fail(cc, "/redirect/sp.pem", 436, "redirect refused (HTTP 302)");
    assert_int_equal(certserver_hits(&g_cs, "/sp.pem"), 0); /* not followed */
    expect_get_fail(cc, "/big/20000", 436, "x5u body exceeds 16384 bytes");
    expect_get_fail(cc, "/notpem.txt", 436, "not PEM");
    expect_get_fail(cc, "/chain_key.pem", 436, "x5u body contains a private key");

    /* The total timeout (1 s, here connect included: a loaded machine may
     * be slow to finish the handshake) cuts a body the server sends only
     * after 30 s, and one it never sends. What curl's timer and the
     * scheduler add on top grows with the machine's load: the slack is
     * 1 s plus three times what a whole download from this server takes
     * now (about 2 s in all on an idle machine, still far below 30 s). */
    double b0 = mono_s();
    stir_cert_unref(get_ok(cc, "/cc/no-store/chain.pem"));
    double bound = 1.0 + 1.0 + 3.0 * (mono_s() - b0);
    stir_certcache_config ct;
    test_cfg(&ct);
    ct.fetch.connect_timeout_ms = ct.fetch.total_timeout_ms = 1000;
    stir_certcache *cct = new_cache(&ct);
    double t0 = mono_s();
    expect_get_fail(cct, "/slow/30/chain.pem", 436, "x5u fetch timed out after 1000 ms");
    double t1 = mono_s();
    if (!(t1 - t0 > 0.9 && t1 - t0 < bound))
        fail_msg("/slow/30 cut after %.2f s, expected 1 s (bound %.2f s)", t1 - t0, bound);
    expect_get_fail(cct, "/hang", 436, "timed out after 1000 ms");
    double t2 = mono_s();
    if (!(t2 - t1 > 0.9 && t2 - t1 < bound))
        fail_msg("/hang cut after %.2f s, expected 1 s (bound %.2f s)", t2 - t1, bound);
    stir_certcache_stats st;
    stir_certcache_stats_get(cct, &st);
    assert_int_equal(st.fetch_failures, 2);
    stir_certcache_free(cct);

    /* the TLS certificate is checked: without our CA file it is untrusted */
    stir_certcache_config c2;
    test_cfg(&c2);
    char other[512];
    snprintf(other, sizeof other, "%s/root.pem", g_cs.dir);
    c2.fetch.tls_ca_file = other;
    stir_certcache *cc2 = new_cache(&c2);
    expect_get_fail(cc2, "/tls/chain.pem", 436, "TLS error");
    stir_certcache_free(cc2);

    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.fetch_failures, 5);
    assert_int_equal(latency_count(&st), st.fetches); /* every fetch is timed */
    stir_certcache_free(cc);
}

static void test_expired_cached(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    stir_certcache *cc = new_cache(&cfg);
    expect_get_fail(cc, "/chain_expired.pem", 437, "certificate expired 2020-01-02T00:00:00Z");
    expect_get_fail(cc, "/chain_expired.pem", 437, "certificate expired 2020-01-02T00:00:00Z");
    expect_get_fail(cc, "/chain_untrusted.pem", 437, "untrusted root");
    expect_get_fail(cc, "/chain_notn.pem", 437, "no TNAuthList");
    assert_int_equal(certserver_hits(&g_cs, "/chain_expired.pem"), 1);
    stir_certcache_stats st;
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.fetch_failures, 0);
    stir_certcache_free(cc);
}

static void test_negative_cache(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    cfg.neg_ttl_initial_s = 2;
    cfg.neg_ttl_max_s = 3;
    stir_certcache *cc = new_cache(&cfg);
    const char *path = "/status/500";
    expect_get_fail(cc, path, 436, "x5u server answered HTTP 500");
    expect_get_fail(cc, path, 436, "x5u server answered HTTP 500 (cached failure, retry in 2 s)");
    assert_int_equal(certserver_hits(&g_cs, path), 1);
    stir_certcache_stats st;
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.neg_hits, 1);
    sleep_s(2.1);
    expect_get_fail(cc, path, 436, "x5u server answered HTTP 500");
    assert_int_equal(certserver_hits(&g_cs, path), 2);
    /* second failure: 2 * 2 = 4 s, capped at neg_ttl_max_s = 3 */
    expect_get_fail(cc, path, 436, "(cached failure, retry in 3 s)");
    assert_int_equal(certserver_hits(&g_cs, path), 2);
    stir_certcache_free(cc);
}

typedef struct sf_arg {
    stir_certcache *cc;
    pthread_barrier_t *bar;
    int ok;
} sf_arg;

static void *sf_thread(void *p)
{
    sf_arg *a = p;
    char u[256];
    certserver_url(&g_cs, u, sizeof u, "/slow/1/chain.pem");
    pthread_barrier_wait(a->bar);
    stir_error err;
    stir_cert *c = stir_certcache_get(a->cc, u, time(NULL), &err);
    a->ok = c != NULL;
    stir_cert_unref(c);
    return NULL;
}

static void test_single_flight(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    cfg.fetch.total_timeout_ms = 4000;
    stir_certcache *cc = new_cache(&cfg);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 8);
    pthread_t th[8];
    sf_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (sf_arg){cc, &bar, 0};
        assert_int_equal(pthread_create(&th[i], NULL, sf_thread, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].ok);
    }
    pthread_barrier_destroy(&bar);
    assert_int_equal(certserver_hits(&g_cs, "/slow/1/chain.pem"), 1);
    stir_certcache_stats st;
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.fetches, 1);
    assert_int_equal(st.misses + st.hits, 8);
    stir_certcache_free(cc);
}

static void test_stale_while_revalidate(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    cfg.min_ttl_s = 0;
    cfg.refresh_ahead = 0.9;
    stir_certcache *cc = new_cache(&cfg);
    const char *path = "/cc/max-age%3D3/chain.pem";
    stir_cert *first = get_ok(cc, path);
    assert_int_equal(certserver_hits(&g_cs, path), 1);
    sleep_s(0.5); /* 2.5 s of 3 left: below 0.9 * 3 */
    /* Served from the cache (the very chain of the first fetch), not
     * fetched inline: the refresh is the background's. */
    stir_cert *again = get_ok(cc, path);
    assert_ptr_equal(again, first);
    stir_cert_unref(again);
    stir_cert_unref(first);
    long hits = 0;
    for (int i = 0; i < 60 && hits < 2; i++) {
        sleep_s(0.05);
        hits = certserver_hits(&g_cs, path);
    }
    assert_int_equal(hits, 2);
    stir_certcache_stats st;
    for (int i = 0; i < 40; i++) { /* the refresher records after the body arrives */
        stir_certcache_stats_get(cc, &st);
        if (st.refreshes)
            break;
        sleep_s(0.05);
    }
    assert_int_equal(st.refreshes, 1);

    /* a failed refresh keeps the old chain */
    char u[256], p[512], body[16384];
    certserver_url(&g_cs, u, sizeof u, "/status/503");
    snprintf(p, sizeof p, "%s/chain.pem", g_cs.dir);
    FILE *f = fopen(p, "r");
    size_t len = fread(body, 1, sizeof body, f);
    fclose(f);
    stir_error err;
    assert_int_equal(stir_certcache_put(cc, u, body, len, 3, &err), 0);
    sleep_s(0.5);
    stir_cert *c = stir_certcache_get(cc, u, time(NULL), &err);
    assert_non_null(c);
    stir_cert_unref(c);
    for (int i = 0; i < 60 && certserver_hits(&g_cs, "/status/503") < 1; i++)
        sleep_s(0.05);
    assert_int_equal(certserver_hits(&g_cs, "/status/503"), 1);
    sleep_s(0.2);
    c = stir_certcache_get(cc, u, time(NULL), &err);
    assert_non_null(c);
    stir_cert_unref(c);

    /* freeing while a refresh is running waits for it cleanly */
    certserver_url(&g_cs, u, sizeof u, "/slow/0.5/chain.pem");
    assert_int_equal(stir_certcache_put(cc, u, body, len, 1, &err), 0);
    sleep_s(0.2);
    c = stir_certcache_get(cc, u, time(NULL), &err);
    assert_non_null(c);
    stir_cert_unref(c);
    sleep_s(0.1);
    stir_certcache_free(cc);
}

static void test_eviction(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    test_cfg(&cfg);
    cfg.max_entries = 2;
    stir_certcache *cc = new_cache(&cfg);
    char p[512], body[16384], u[256];
    snprintf(p, sizeof p, "%s/chain.pem", g_cs.dir);
    FILE *f = fopen(p, "r");
    size_t len = fread(body, 1, sizeof body, f);
    fclose(f);
    stir_error err;
    const char *paths[] = {"/evict/1.pem", "/evict/2.pem", "/evict/3.pem"};
    for (int i = 0; i < 3; i++) {
        certserver_url(&g_cs, u, sizeof u, paths[i]);
        assert_int_equal(stir_certcache_put(cc, u, body, len, 0, &err), 0);
    }
    stir_certcache_stats st;
    stir_certcache_stats_get(cc, &st);
    assert_int_equal(st.entries, 2);
    for (int i = 1; i < 3; i++)
        stir_cert_unref(get_ok(cc, paths[i]));
    assert_int_equal(certserver_hits(&g_cs, paths[1]) + certserver_hits(&g_cs, paths[2]), 0);
    /* the oldest was evicted: it is fetched (and the server has no such file) */
    expect_get_fail(cc, paths[0], 436, "HTTP 404");
    assert_int_equal(certserver_hits(&g_cs, paths[0]), 1);
    stir_certcache_free(cc);
}

/* The defaults include/stir/certcache.h and docs/CONFIG.md promise. */
static void test_defaults(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    memset(&cfg, 0x5a, sizeof cfg);
    stir_certcache_config_default(&cfg);
    assert_int_equal(cfg.fetch.connect_timeout_ms, 500);
    assert_int_equal(cfg.fetch.total_timeout_ms, 1000);
    assert_int_equal(cfg.fetch.max_bytes, 16384);
    assert_int_equal(cfg.fetch.max_per_host, 4);
    assert_int_equal(cfg.default_ttl_s, 86400);
    assert_int_equal(cfg.min_ttl_s, 60);
    assert_int_equal(cfg.max_ttl_s, 7 * 86400);
    assert_int_equal(cfg.neg_ttl_initial_s, 5);
    assert_int_equal(cfg.neg_ttl_max_s, 300);
    assert_true(cfg.refresh_ahead > 0.099 && cfg.refresh_ahead < 0.101);
    assert_int_equal(cfg.max_entries, 10000);
    assert_int_equal(cfg.max_neg_entries, 10000);
    assert_null(cfg.crl);
}

static void test_bad_config(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    cfg.max_entries = 0;
    stir_error err;
    assert_null(stir_certcache_new(g_ctx, &cfg, g_trust, &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.field, "max_entries");
    stir_certcache_config_default(&cfg);
    assert_null(stir_certcache_new(g_ctx, &cfg, NULL, &err));
    assert_int_equal(err.code, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_refused),
        cmocka_unit_test(test_fetch_and_hit),
        cmocka_unit_test(test_max_age),
        cmocka_unit_test(test_no_store),
        cmocka_unit_test(test_fetch_failures),
        cmocka_unit_test(test_expired_cached),
        cmocka_unit_test(test_negative_cache),
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_stale_while_revalidate),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
