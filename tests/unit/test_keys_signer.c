/*
 * Signing identities of one signer (stir_signer_add, stir_sign_request_as),
 * the TN range syntax, and the PKCS#11 URI checks that need no token.
 * The credentials are two test PKIs from stir_pki_create (SPC TNAuthLists,
 * which cover every TN, so the tn ranges decide).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "stir/stir.h"

static char dir[64] = "/tmp/stir-keys-unit.XXXXXX";
static char a_key[128], a_cert[128], b_key[128], b_cert[128];
static stir_ctx *g_ctx;

static int setup(void **state)
{
    (void)state;
    stir_error err;
    char a[100], b[100];
    if (stir_init() || !mkdtemp(dir))
        return -1;
    if (!(g_ctx = stir_ctx_new(&err)))
        return -1;
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    stir_pki_options oa = {.dir = a}, ob = {.dir = b, .spc = "123B"};
    if (stir_pki_create(&oa, &err) || stir_pki_create(&ob, &err))
        return -1;
    snprintf(a_key, sizeof a_key, "%s/sp.key", a);
    snprintf(a_cert, sizeof a_cert, "%s/chain.pem", a);
    snprintf(b_key, sizeof b_key, "%s/sp.key", b);
    snprintf(b_cert, sizeof b_cert, "%s/chain.pem", b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    stir_ctx_free(g_ctx);
    stir_cleanup();
    return system(cmd) == 0 ? 0 : -1;
}

static void test_tn_range_syntax(void **state)
{
    (void)state;
    stir_error err;
    static const char *const good[] = {"1215555*", "1*", "12155550000-12155559999", "12155551212",
                                       "123456789012345"};
    static const char *const bad[] = {
        "*", "12a*",         "1215-12155", "12155559999-12155550000", "1234567890123456",
        "",  "+12155551212", "1215555*1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (stir_tn_range_check(good[i], &err))
            fail_msg("refused %s: %s", good[i], err.detail);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        if (!stir_tn_range_check(bad[i], &err))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(strstr(err.detail, "PREFIX*"));
    }
}

static char *sign(stir_signer *s, const char *as, const char *orig, stir_error *err)
{
    time_t now = time(NULL);
    json_t *req = json_pack("{ss s{ss} s{s[s]} sI}", "attest", "A", "orig", "tn", orig, "dest",
                            "tn", "12155551213", "iat", (json_int_t)now);
    memset(err, 0, sizeof *err);
    char *h = stir_sign_request_as(s, as, req, now, 0, err);
    json_decref(req);
    return h;
}

/* The x5u of an Identity header value: its info parameter. */
static void assert_info(char *hdr, const char *x5u)
{
    char want[200];
    assert_non_null(hdr);
    snprintf(want, sizeof want, ";info=<%s>;", x5u);
    if (!strstr(hdr, want))
        fail_msg("%s lacks %s", hdr, want);
    free(hdr);
}

static void test_identity_chosen_by_tn_range(void **state)
{
    (void)state;
    stir_error err;
    const char *const ra[] = {"1215555*"}, *const rb[] = {"12025550000-12025559999", "13035551234"};
    stir_signer_config a = {.name = "a",
                            .key_path = a_key,
                            .cert_path = a_cert,
                            .x5u = "https://cr.example/a.pem",
                            .tn_ranges = ra,
                            .n_tn_ranges = 1};
    stir_signer_config b = {.name = "b",
                            .key_path = b_key,
                            .cert_path = b_cert,
                            .x5u = "https://cr.example/b.pem",
                            .tn_ranges = rb,
                            .n_tn_ranges = 2};
    stir_signer_config d = {
        .key_path = b_key, .cert_path = b_cert, .x5u = "https://cr.example/default.pem"};
    stir_signer *s = stir_signer_new(g_ctx, &a, &err);
    assert_non_null(s);
    assert_int_equal(stir_signer_add(s, &b, &err), 0);
    assert_true(stir_signer_has(s, "a") && stir_signer_has(s, "b"));
    assert_false(stir_signer_has(s, "default"));

    assert_info(sign(s, NULL, "12155550001", &err), "https://cr.example/a.pem");
    assert_info(sign(s, NULL, "12025559999", &err), "https://cr.example/b.pem");
    assert_info(sign(s, NULL, "13035551234", &err), "https://cr.example/b.pem");

    /* Covered by no range: 400 naming orig.tn, each identity's reason. */
    assert_null(sign(s, NULL, "13035551235", &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.field, "orig.tn");
    assert_non_null(strstr(err.detail, "a: not in its tn ranges; b: not in its tn ranges"));

    /* Named (the per-client hook): only that identity, still checked. */
    assert_null(sign(s, "a", "12025559999", &err));
    assert_int_equal(err.code, 400);
    assert_null(sign(s, "nosuch", "12155550001", &err));
    assert_int_equal(err.code, 500);

    /* A default without ranges comes last and takes the rest. */
    assert_int_equal(stir_signer_add(s, &d, &err), 0);
    assert_info(sign(s, NULL, "13035551235", &err), "https://cr.example/default.pem");
    assert_info(sign(s, NULL, "12155550001", &err), "https://cr.example/a.pem");
    assert_info(sign(s, "default", "12155550001", &err), "https://cr.example/default.pem");

    /* A set of names (a policy's "signers"): the choice runs over those only,
     * in configuration order. */
    {
        const char *const bd[] = {"default", "b"}, *const only_b[] = {"b"};
        time_t now = time(NULL);
        json_t *req = json_pack("{ss s{ss} s{s[s]} sI}", "attest", "A", "orig", "tn", "12025550001",
                                "dest", "tn", "12155551213", "iat", (json_int_t)now);
        assert_info(stir_sign_request_among(s, bd, 2, req, now, 0, &err),
                    "https://cr.example/b.pem");
        json_object_set_new(json_object_get(req, "orig"), "tn", json_string("12155550001"));
        assert_info(stir_sign_request_among(s, bd, 2, req, now, 0, &err),
                    "https://cr.example/default.pem");
        assert_null(stir_sign_request_among(s, only_b, 1, req, now, 0, &err));
        assert_int_equal(err.code, 400);
        assert_string_equal(err.field, "orig.tn");
        /* Coverage without signing: tn ranges, then the TNAuthList. */
        assert_int_equal(stir_signer_covers(s, "a", req, NULL), 1);
        assert_int_equal(stir_signer_covers(s, "b", req, NULL), 0);
        assert_int_equal(stir_signer_covers(s, "default", req, NULL), 1);
        assert_int_equal(stir_signer_covers(s, "nosuch", req, NULL), 0);
        json_object_set_new(json_object_get(req, "orig"), "tn", json_string("12x"));
        assert_int_equal(stir_signer_covers(s, "a", req, NULL), -1);
        json_decref(req);
    }

    /* Names are unique. */
    assert_int_not_equal(stir_signer_add(s, &b, &err), 0);
    assert_non_null(strstr(err.detail, "two signers are named \"b\""));
    stir_signer_free(s);
}

static void expect_key_error(const char *uri, const char *module, const char *needle)
{
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_signer_config c = {.key_path = uri,
                            .cert_path = a_cert,
                            .x5u = "https://cr.example/a",
                            .pkcs11_module = module,
                            .pkcs11_pin = "secret-pin-1"};
    stir_signer *s = stir_signer_new(g_ctx, &c, &err);
    assert_null(s);
    assert_int_equal(err.code, 500);
    if (!strstr(err.detail, needle))
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, needle);
    assert_null(strstr(err.detail, "secret-pin-1"));
}

static void test_pkcs11_uri_checks(void **state)
{
    (void)state;
    expect_key_error("pkcs11:object=sp", NULL, "set pkcs11_module");
    expect_key_error("pkcs11:object=sp?pin-value=1234", "/nonexistent.so",
                     "must not carry the PIN");
    expect_key_error("pkcs11:object=sp?module-path=/x.so", "/nonexistent.so", "pkcs11_module");
    expect_key_error("pkcs11:token=t", "/nonexistent.so", "names no key");
    expect_key_error("pkcs11:object=%zz", "/nonexistent.so", "percent-encoding");
    expect_key_error("pkcs11:object=sp;type=cert", "/nonexistent.so", "type=private");
    expect_key_error("pkcs11:object=sp;flavour=x", "/nonexistent.so", "unsupported");
    expect_key_error("pkcs11:object=sp", "/nonexistent.so", "cannot load the PKCS#11 module");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tn_range_syntax),
        cmocka_unit_test(test_identity_chosen_by_tn_range),
        cmocka_unit_test(test_pkcs11_uri_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
