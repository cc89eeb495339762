/*
 * stird's settings (src/server/config.c): every type of setting parsed
 * from a file into the embedded libstir configurations, the generic range
 * errors naming FILE:LINE and the setting, the cross-checks, flags over
 * the file, config_set (stirctl) and the restart diff of a reload.
 * Expected values are the documented ones (docs/CONFIG.md, RFC 9795 6
 * digest names), written out here, not read back from the table.
 */
#include "test_util.h"
#include "config.h"

static char g_dir[64];

static const char *write_conf(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* config_load with --config PATH --plain-http --trust X and `extra` flags. */
static int load(stird_config *cfg, const char *path, const char *const *extra, char *err,
                size_t errlen)
{
    char *argv[16] = {"stird",        "--config", (char *)path,
                      "--plain-http", "--trust",  "/nonexistent/root.pem"};
    int argc = 6;
    for (size_t i = 0; extra && extra[i]; i++)
        argv[argc++] = (char *)extra[i];
    err[0] = '\0';
    return config_load(cfg, argc, argv, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    stird_config c;
    char err[512];
    assert_int_equal(load(&c, write_conf("empty.conf", "# nothing\n"), NULL, err, sizeof err), 0);
    /* docs/CONFIG.md's default column */
    assert_int_equal(c.max_body, 65536);
    assert_int_equal(c.max_connections, 4096);
    assert_int_equal(c.idle_timeout, 30);
    assert_true(c.threads >= 1 && c.threads <= 256);
    assert_int_equal(c.log_level, LOG_LVL_INFO);
    assert_int_equal(c.auth, AUTH_MODE_NONE);
    assert_int_equal(c.verify.freshness_s, 60);
    assert_int_equal(c.verify.fetch_budget_ms, 1500);
    assert_int_equal(c.verify.require_user_phone, 0);
    assert_null(c.verify.priority_passed);
    assert_int_equal(c.cache.fetch.connect_timeout_ms, 500);
    assert_int_equal(c.cache.fetch.total_timeout_ms, 1000);
    assert_int_equal(c.cache.fetch.max_bytes, 16384);
    assert_int_equal(c.cache.fetch.max_per_host, 4);
    assert_int_equal(c.cache.default_ttl_s, 86400);
    assert_int_equal(c.cache.max_ttl_s, 604800);
    assert_int_equal(c.cache.max_entries, 10000);
    assert_string_equal(c.rcd.digest_alg, "sha256");
    assert_int_equal(c.rcd.fetch.max_bytes, 262144);
    assert_int_equal(c.rcd.max_links, 8);
    assert_int_equal(c.rcd.verify_fetch, 1);
    assert_int_equal(c.crl.mode, STIR_CRL_FAIL_OPEN);
    assert_int_equal(c.crl.allow_http, 1);
    assert_int_equal(c.crl.fetch.max_bytes, 1048576);
    assert_int_equal(c.crl.max_ttl_s, 86400);
    assert_int_equal(c.cert_expiry_warn_days, 30);
    config_free(&c);
}

/* One of each type: boolean, integer of each C type, duration at a bound,
 * quoted path, repeatable list, enum, digest, token. */
static void test_types(void **state)
{
    (void)state;
    stird_config c;
    char err[512];
    const char *path =
        write_conf("types.conf", "fetch_allow_any_port = on\n"
                                 "rcd-verify-fetch = off          # '-' and '_' alike\n"
                                 "require_user_phone = YES\n"
                                 "crl_allow_http = 0\n"
                                 "fetch_timeout_ms = 60000\n"
                                 "fetch_connect_timeout_ms = 60000\n"
                                 "freshness = 1\n"
                                 "cache_max_entries = 123\n"
                                 "fetch_max_per_host = 0\n"
                                 "rcd_max_bytes = 2048\n"
                                 "crl_max_bytes = 4096\n"
                                 "fixed_time = 1700000000\n"
                                 "fetch_ca_file = \"/tmp/dir with space/ca #1.pem\"\n"
                                 "fetch_allow_host = a.example\n"
                                 "fetch_allow_host = b.example\n"
                                 "fetch_allow_host = A.EXAMPLE\n"
                                 "crl_mode = Fail-Closed\n"
                                 "rcd_digest_alg = SHA384\n"
                                 "log_format = json\n"
                                 "auth = static\n"
                                 "policy_file = /etc/stird/policy.json\n"
                                 "verstat_priority_passed = RPH-ok\n");
    assert_int_equal(load(&c, path, NULL, err, sizeof err), 0);
    assert_int_equal(c.cache.fetch.allow_any_port, 1);
    assert_int_equal(c.rcd.verify_fetch, 0);
    assert_int_equal(c.verify.require_user_phone, 1);
    assert_int_equal(c.crl.allow_http, 0);
    assert_int_equal(c.cache.fetch.total_timeout_ms, 60000);
    assert_int_equal(c.verify.freshness_s, 1);
    assert_int_equal(c.cache.max_entries, 123);      /* size_t */
    assert_int_equal(c.cache.fetch.max_per_host, 0); /* unsigned */
    assert_int_equal(c.has_fixed_time, 1);
    assert_true(c.fixed_time == 1700000000LL);
    assert_string_equal(c.cache.fetch.tls_ca_file, "/tmp/dir with space/ca #1.pem");
    assert_int_equal(c.cache.fetch.n_allow_hosts, 2); /* the duplicate is one host */
    assert_string_equal(c.cache.fetch.allow_hosts[1], "b.example");
    assert_int_equal(c.crl.mode, STIR_CRL_FAIL_CLOSED);
    assert_string_equal(c.rcd.digest_alg, "sha384");
    assert_int_equal(c.log_json, 1);
    assert_int_equal(c.auth, AUTH_MODE_STATIC);
    assert_string_equal(c.verify.priority_passed, "RPH-ok");
    /* RCD and CRL fetches: the x5u policy, each with its own size cap. */
    assert_int_equal(c.rcd.fetch.max_bytes, 2048);
    assert_int_equal(c.crl.fetch.max_bytes, 4096);
    assert_int_equal(c.rcd.fetch.total_timeout_ms, 60000);
    assert_int_equal(c.crl.fetch.allow_any_port, 1);
    assert_int_equal(c.rcd.fetch.n_allow_hosts, 2);
    assert_string_equal(c.crl.fetch.tls_ca_file, "/tmp/dir with space/ca #1.pem");
    config_free(&c);

    /* Flags win; a list flag replaces the file's list. */
    static const char *const flags[] = {"--fetch-allow-host",
                                        "c.example",
                                        "--freshness=90",
                                        "--fetch-allow-any-port=no",
                                        "--crl-mode",
                                        "off",
                                        NULL};
    assert_int_equal(load(&c, path, flags, err, sizeof err), 0);
    assert_int_equal(c.cache.fetch.n_allow_hosts, 1);
    assert_string_equal(c.cache.fetch.allow_hosts[0], "c.example");
    assert_int_equal(c.rcd.fetch.n_allow_hosts, 1);
    assert_int_equal(c.verify.freshness_s, 90);
    assert_int_equal(c.cache.fetch.allow_any_port, 0);
    assert_int_equal(c.crl.mode, STIR_CRL_OFF);
    config_free(&c);
}

/* Line 2 of a file holds `line`: the error is exactly `want` after "PATH:2: ". */
static void expect_file_error(const char *line, const char *want)
{
    stird_config c;
    char text[256], err[512], full[700];
    snprintf(text, sizeof text, "# first\n%s\nfreshness = 30\n", line);
    const char *path = write_conf("bad.conf", text);
    assert_int_equal(load(&c, path, NULL, err, sizeof err), -1);
    snprintf(full, sizeof full, "%s:2: %s", path, want);
    assert_string_equal(err, full);
    config_free(&c);
}

static void test_range_errors(void **state)
{
    (void)state;
    expect_file_error("freshness = 0", "setting freshness: value 0 out of range [1, 86400]");
    expect_file_error("freshness = 86401",
                      "setting freshness: value 86401 out of range [1, 86400]");
    expect_file_error("fetch_timeout_ms = 60001",
                      "setting fetch_timeout_ms: value 60001 out of range [1, 60000]");
    expect_file_error("cache_max_entries = -1",
                      "setting cache_max_entries: value -1 out of range [1, 10000000]");
    expect_file_error(
        "fetch_max_per_host = 99999999999999999999",
        "setting fetch_max_per_host: value 99999999999999999999 out of range [0, 1024]");
    expect_file_error("rcd_max_links = 65", "setting rcd_max_links: value 65 out of range [0, 64]");
    expect_file_error("max_body = 12k", "setting max_body: '12k' is not an integer");
    expect_file_error("idle_timeout = soon", "setting idle_timeout: 'soon' is not an integer");
    expect_file_error("crl_max_ttl = ", "crl_max_ttl: empty value");
    expect_file_error("plain_http = maybe",
                      "plain_http: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
    expect_file_error("crl_mode = sometimes",
                      "crl_mode: 'sometimes' is not fail-open, fail-closed or off");
    expect_file_error("log_level = loud", "log_level: 'loud' is not error, warn, info or debug");
    expect_file_error("rcd_digest_alg = sha1",
                      "rcd_digest_alg: 'sha1' is not sha256, sha384 or sha512");

    /* A flag names itself instead of FILE:LINE. */
    stird_config c;
    char err[512];
    static const char *const flag[] = {"--fetch-connect-timeout-ms", "0", NULL};
    assert_int_equal(load(&c, write_conf("ok.conf", "\n"), flag, err, sizeof err), -1);
    assert_string_equal(err, "setting --fetch-connect-timeout-ms: value 0 out of range [1, 60000]");
    config_free(&c);
}

static void test_list_limit_and_cross_checks(void **state)
{
    (void)state;
    stird_config c;
    char err[512], text[512] = "";
    for (int i = 0; i < 9; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text),
                 "fetch_allow_host = h%d.example\n", i);
    const char *path = write_conf("hosts.conf", text);
    assert_int_equal(load(&c, path, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, ":9: fetch_allow_host: at most 8 hosts may be allowed"));
    config_free(&c);

    path = write_conf("order.conf", "cache_min_ttl = 100\ncache_max_ttl = 10\n");
    assert_int_equal(load(&c, path, NULL, err, sizeof err), -1);
    assert_string_equal(err, "cache-min-ttl (100) is larger than cache-max-ttl (10)");
    config_free(&c);
    path = write_conf("order2.conf", "fetch_connect_timeout_ms = 900\nfetch_timeout_ms = 800\n");
    assert_int_equal(load(&c, path, NULL, err, sizeof err), -1);
    assert_string_equal(err,
                        "fetch-connect-timeout-ms (900) is larger than fetch-timeout-ms (800)");
    config_free(&c);
}

/* stirctl's way in: the same checks and messages by flag name. */
static void test_config_set(void **state)
{
    (void)state;
    stird_config c;
    char err[512];
    config_init(&c);
    assert_int_equal(config_set(&c, "freshness", "--freshness", "0", err, sizeof err), -1);
    assert_string_equal(err, "setting --freshness: value 0 out of range [1, 86400]");
    assert_int_equal(
        config_set(&c, "fetch_allow_http", "--fetch-allow-http", NULL, err, sizeof err), 0);
    assert_int_equal(c.cache.fetch.allow_http, 1);
    assert_int_equal(
        config_set(&c, "rcd-digest-alg", "--rcd-digest-alg", "sha512", err, sizeof err), 0);
    assert_string_equal(c.rcd.digest_alg, "sha512");
    assert_int_equal(config_set(&c, "config", "--config", "x", err, sizeof err), -1);
    assert_int_equal(config_set(&c, "no-such", "--no-such", "x", err, sizeof err), -1);
    assert_string_equal(err, "--no-such: not a setting");
    config_free(&c);
}

/* A reload names the changed settings it cannot apply, not the others. */
static void test_restart_diff(void **state)
{
    (void)state;
    stird_config a, b;
    char err[512], out[256];
    assert_int_equal(load(&a,
                          write_conf("a.conf", "fetch_timeout_ms = 900\ncert = /a.pem\n"
                                               "key = /a.key\nx5u = https://a/c.pem\n"),
                          NULL, err, sizeof err),
                     0);
    assert_int_equal(load(&b,
                          write_conf("b.conf", "fetch_timeout_ms = 800\ncert = /b.pem\n"
                                               "key = /a.key\nx5u = https://a/c.pem\n"
                                               "fetch_allow_host = x.example\n"
                                               "rcd_max_bytes = 4096\n"),
                          NULL, err, sizeof err),
                     0);
    assert_int_equal(config_restart_diff(&a, &b, out, sizeof out), 3);
    assert_non_null(strstr(out, "fetch-allow-host"));
    assert_non_null(strstr(out, "fetch-timeout-ms"));
    assert_non_null(strstr(out, "rcd-max-bytes"));
    assert_null(strstr(out, "cert")); /* reloaded, not a restart */
    assert_int_equal(config_restart_diff(&a, &a, out, sizeof out), 0);
    config_free(&a);
    config_free(&b);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_types),
        cmocka_unit_test(test_range_errors), cmocka_unit_test(test_list_limit_and_cross_checks),
        cmocka_unit_test(test_config_set),   cmocka_unit_test(test_restart_diff),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
