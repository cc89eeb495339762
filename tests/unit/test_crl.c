/*
 * Revocation (crl.c) through the certificate cache, against CRLs and
 * certificates made by the openssl CLI (tests/tools/mkcrl.sh, "openssl ca
 * -gencrl") and served by tests/tools/certserver.py. Which certificates
 * are revoked is what the fixture's CA databases say (checked there with
 * "openssl verify -crl_check"), not what crl.c computes.
 */
#include "test_util.h"
#include "stir/certcache.h"
#include "stir/crl.h"
#include "crl.h"

static certserver g_cs;
static stir_ctx *g_ctx;
static stir_trust *g_trust;
static int g_warns;
static char g_last_warn[1024];

static void on_warn(void *arg, const char *line)
{
    (void)arg;
    __atomic_add_fetch(&g_warns, 1, __ATOMIC_SEQ_CST);
    snprintf(g_last_warn, sizeof g_last_warn, "%s", line);
}

static int setup(void **state)
{
    (void)state;
    if (repo_start(&g_cs, "crl", &g_ctx, &g_trust))
        return -1;
    char cmd[1024];
    const char *src = getenv("STIR_SRC");
    /* Port 9 (discard) is closed here: the http leaf's CRL is never served. */
    snprintf(cmd, sizeof cmd,
             "bash '%s/tests/tools/mkcrl.sh' '%s' https://127.0.0.1:%d http://127.0.0.1:9",
             src ? src : ".", g_cs.dir, g_cs.port);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return repo_stop(&g_cs, g_ctx, g_trust);
}

/* The set-up stird uses: a CRL cache on the context's fetch cache, a
 * checker on its source, a certificate cache consulting the checker. */
typedef struct fixture {
    stir_crl_cache *crls;
    stir_crl_checker *ck;
    stir_certcache *cc;
} fixture;

static void fixture_new_http(fixture *f, int mode, int allow_http)
{
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    certserver_policy(&g_cs, &cfg.fetch);
    stir_crl_config ccfg;
    stir_crl_config_default(&ccfg);
    ccfg.fetch = cfg.fetch;
    ccfg.fetch.max_bytes = 1 << 20;
    ccfg.mode = mode;
    ccfg.allow_http = allow_http;
    ccfg.warn = on_warn;
    stir_error err;
    f->crls = stir_crl_cache_new(g_ctx, &ccfg, &err);
    if (!f->crls)
        fail_msg("stir_crl_cache_new: %s", err.detail);
    stir_crl_source src;
    stir_crl_cache_source(f->crls, &src);
    f->ck = stir_crl_checker_new_with_source(&ccfg, &src, &err);
    if (!f->ck)
        fail_msg("stir_crl_checker_new_with_source: %s", err.detail);
    cfg.crl = f->ck;
    f->cc = stir_certcache_new(g_ctx, &cfg, g_trust, &err);
    if (!f->cc)
        fail_msg("stir_certcache_new: %s", err.detail);
}

static void fixture_new(fixture *f, int mode)
{
    fixture_new_http(f, mode, 1);
}

static void fixture_free(fixture *f)
{
    stir_certcache_free(f->cc);
    stir_crl_checker_free(f->ck);
    stir_crl_cache_free(f->crls);
}

/* Get chain `file`; expect pass (code 0) or `code` with every needle. */
static void expect(fixture *f, const char *file, int code, const char *n1, const char *n2)
{
    char path[128], u[512];
    snprintf(path, sizeof path, "/%s", file);
    certserver_url(&g_cs, u, sizeof u, path);
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_certcache_get(f->cc, u, time(NULL), &err);
    if (!code) {
        if (!c)
            fail_msg("%s: %d \"%s\", expected a pass", file, err.code, err.detail);
        stir_cert_unref(c);
        return;
    }
    if (c) {
        stir_cert_unref(c);
        fail_msg("%s: pass, expected %d", file, code);
    }
    if (err.code != code)
        fail_msg("%s: %d \"%s\", expected %d", file, err.code, err.detail, code);
    if (n1 && !strstr(err.detail, n1))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", file, err.detail, n1);
    if (n2 && !strstr(err.detail, n2))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", file, err.detail, n2);
}

static char *slurp(const char *name, size_t *len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_cs.dir, name);
    FILE *fp = fopen(p, "rb");
    assert_non_null(fp);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    return buf;
}

static void test_parse(void **state)
{
    (void)state;
    stir_error err;
    size_t len;
    char *der = slurp("ca1.crl", &len);
    stir_crl *c = sti_crl_parse(der, len, &err);
    if (!c)
        fail_msg("DER CRL: %s", err.detail);
    /* default_crl_days=7 in mkcrl.sh: nextUpdate about a week ahead. */
    time_t now = time(NULL);
    long life = sti_crl_lifetime(c, now, 30L * 86400, 60);
    assert_true(life > 7 * 86400 - 600 && life <= 7 * 86400);
    assert_int_equal(sti_crl_lifetime(c, now, 3600, 60), 3600);
    sti_crl_unref(c);
    /* A trailing byte after the DER is refused. */
    der[len] = 0;
    assert_null(sti_crl_parse(der, len + 1, &err));
    assert_int_equal(err.code, 436);
    assert_non_null(strstr(err.detail, "trailing"));
    free(der);

    char *pem = slurp("stale.crl", &len);
    c = sti_crl_parse(pem, len, &err);
    if (!c)
        fail_msg("PEM CRL: %s", err.detail);
    assert_int_equal(sti_crl_lifetime(c, now, 3600, 60), 60); /* stale: retry */
    sti_crl_unref(c);
    free(pem);

    char *crt = slurp("crlca.pem", &len);
    assert_null(sti_crl_parse(crt, len, &err));
    assert_int_equal(err.code, 436);
    free(crt);
    assert_null(sti_crl_parse("", 0, &err));
    assert_int_equal(err.code, 436);
}

static void test_fail_closed(void **state)
{
    (void)state;
    fixture f;
    fixture_new(&f, STIR_CRL_FAIL_CLOSED);
    long before = certserver_hits(&g_cs, "/ca1.crl");
    expect(&f, "chain_crl_good.pem", 0, NULL, NULL);
    expect(&f, "chain_crl_revoked.pem", 437, "revoked", "serial 1002");
    expect(&f, "chain_crl_revoked.pem", 437, "depth 0", "keyCompromise");
    /* Serial 2001 is revoked by the root, not by the leaf's issuer. */
    expect(&f, "chain_crl_samesn.pem", 0, NULL, NULL);
    /* Three chains, one CRL: fetched once, then reused until nextUpdate. */
    assert_int_equal(certserver_hits(&g_cs, "/ca1.crl") - before, 1);
    expect(&f, "chain_crl_revint.pem", 437, "revoked", "depth 1");
    expect(&f, "chain_crl_badsig.pem", 437, "revocation status unknown",
           "signature does not verify");
    expect(&f, "chain_crl_stale.pem", 437, "revocation status unknown", "stale");
    expect(&f, "chain_crl_missing.pem", 437, "revocation status unknown", "HTTP 404");
    expect(&f, "chain_crl_refused.pem", 437, "revocation status unknown", "127.0.0.1");
    /* No CRL Distribution Points: as before. */
    expect(&f, "chain.pem", 0, NULL, NULL);
    stir_crl_stats st;
    stir_crl_stats_get(f.ck, &st);
    assert_true(st.revoked >= 2);
    assert_int_equal(st.fail_open, 0);
    /* The CRL cache's own count agrees with the repository's. */
    stir_certcache_stats cs;
    stir_crl_cache_stats_get(f.crls, &cs);
    assert_true(cs.fetches >= 4);
    assert_true(cs.hits >= 2);
    fixture_free(&f);
}

static void test_fail_open(void **state)
{
    (void)state;
    fixture f;
    fixture_new(&f, STIR_CRL_FAIL_OPEN);
    int w0 = g_warns;
    expect(&f, "chain_crl_good.pem", 0, NULL, NULL);
    assert_int_equal(g_warns, w0);
    /* Revoked stays revoked in either mode. */
    expect(&f, "chain_crl_revoked.pem", 437, "revoked", "serial 1002");
    expect(&f, "chain_crl_revint.pem", 437, "revoked", "depth 1");
    /* The forged CRL "revokes" 1003: not believed, and accepted with a warning. */
    expect(&f, "chain_crl_badsig.pem", 0, NULL, NULL);
    assert_int_equal(g_warns, w0 + 1);
    assert_non_null(strstr(g_last_warn, "signature"));
    expect(&f, "chain_crl_stale.pem", 0, NULL, NULL);
    assert_non_null(strstr(g_last_warn, "stale"));
    expect(&f, "chain_crl_missing.pem", 0, NULL, NULL);
    assert_non_null(strstr(g_last_warn, "missing.crl"));
    expect(&f, "chain_crl_refused.pem", 0, NULL, NULL);
    assert_int_equal(g_warns, w0 + 4);
    fixture_free(&f);
}

static void test_off(void **state)
{
    (void)state;
    fixture f;
    fixture_new(&f, STIR_CRL_OFF);
    expect(&f, "chain_crl_revoked.pem", 0, NULL, NULL);
    fixture_free(&f);
}

/* http: CRL URLs are fetched by default (a closed port here), refused
 * with allow_http = 0 before any connection. */
static void test_http_scheme(void **state)
{
    (void)state;
    fixture f;
    fixture_new_http(&f, STIR_CRL_FAIL_CLOSED, 1);
    expect(&f, "chain_crl_http.pem", 437, "revocation status unknown", "connect");
    fixture_free(&f);
    fixture_new_http(&f, STIR_CRL_FAIL_CLOSED, 0);
    expect(&f, "chain_crl_http.pem", 437, "revocation status unknown", "must use https");
    fixture_free(&f);
}

/* A chain's revocation verdict lives no longer than the CRL's nextUpdate:
 * past it the chain is fetched and checked again (the CRL, unchanged and
 * now stale, then fails it), although cache_min_ttl is 60 s. */
static void test_verdict_expires_with_crl(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && openssl ca -batch -config crl.cnf -name db_ca1 -gencrl -cert crlca.pem "
             "-keyfile crlca.key -crlsec 3 -out soon.crl >/dev/null 2>&1",
             g_cs.dir);
    assert_int_equal(system(cmd), 0);
    fixture f;
    fixture_new(&f, STIR_CRL_FAIL_CLOSED);
    long c0 = certserver_hits(&g_cs, "/chain_crl_soon.pem");
    long r0 = certserver_hits(&g_cs, "/soon.crl");
    expect(&f, "chain_crl_soon.pem", 0, NULL, NULL);
    expect(&f, "chain_crl_soon.pem", 0, NULL, NULL);
    assert_int_equal(certserver_hits(&g_cs, "/chain_crl_soon.pem") - c0, 1);
    assert_int_equal(certserver_hits(&g_cs, "/soon.crl") - r0, 1);
    sleep_s(4.0);
    expect(&f, "chain_crl_soon.pem", 437, "stale", NULL);
    assert_int_equal(certserver_hits(&g_cs, "/chain_crl_soon.pem") - c0, 2);
    assert_int_equal(certserver_hits(&g_cs, "/soon.crl") - r0, 2);
    fixture_free(&f);
}

static void test_config(void **state)
{
    (void)state;
    assert_int_equal(stir_crl_mode_parse("fail-open"), STIR_CRL_FAIL_OPEN);
    assert_int_equal(stir_crl_mode_parse("fail-closed"), STIR_CRL_FAIL_CLOSED);
    assert_int_equal(stir_crl_mode_parse("off"), STIR_CRL_OFF);
    assert_int_equal(stir_crl_mode_parse("closed"), -1);
    stir_crl_config c;
    stir_crl_config_default(&c);
    assert_int_equal(c.mode, STIR_CRL_FAIL_OPEN);
    c.retry_s = c.max_ttl_s + 1;
    stir_error err;
    assert_null(stir_crl_cache_new(g_ctx, &c, &err));
    assert_int_equal(err.code, 400);
    stir_crl_cache *crls;
    stir_crl_config_default(&c);
    c.max_entries = 0;
    assert_null(stir_crl_cache_new(g_ctx, &c, &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.field, "crl_max_entries");
    stir_crl_config_default(&c);
    crls = stir_crl_cache_new(g_ctx, &c, &err);
    assert_non_null(crls);
    stir_crl_source src;
    stir_crl_cache_source(crls, &src);
    c.retry_s = c.max_ttl_s + 1;
    assert_null(stir_crl_checker_new_with_source(&c, &src, &err));
    assert_int_equal(err.code, 400);
    c.retry_s = 60;
    c.mode = 7;
    assert_null(stir_crl_checker_new_with_source(&c, &src, &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.field, "crl_mode");
    stir_crl_cache_free(crls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_fail_closed),
        cmocka_unit_test(test_fail_open),   cmocka_unit_test(test_off),
        cmocka_unit_test(test_http_scheme), cmocka_unit_test(test_verdict_expires_with_crl),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
