/* Identity header parsing and formatting (RFC 8224 4). */
#include "test_util.h"
#include "stir/stir.h"

#define TOK "eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9.c2ln"

static void test_rfc_forms(void **state)
{
    (void)state;
    stir_identity id;
    stir_error err;
    /* The order and quoting of the RFC 8946/TV-12 examples. */
    const char *v = TOK ";info=<https://www.example.com/cert.cer>;alg=ES256;ppt=\"div\"";
    assert_int_equal(stir_identity_parse(v, strlen(v), &id, &err), 0);
    assert_string_equal(id.token, TOK);
    assert_string_equal(id.info, "https://www.example.com/cert.cer");
    assert_string_equal(id.alg, "ES256");
    assert_string_equal(id.ppt, "div");
    assert_false(id.compact);
    stir_identity_clear(&id);
}

static void test_any_order_case_lws_unknown(void **state)
{
    (void)state;
    stir_identity id;
    stir_error err;
    const char *v = " " TOK " ; PPT = shaken ;foo=\"b;a\\\"r\"; Info=<https://a.example/x.pem> "
                    ";flag;ALG=ES256 ";
    assert_int_equal(stir_identity_parse(v, strlen(v), &id, &err), 0);
    assert_string_equal(id.ppt, "shaken");
    assert_string_equal(id.info, "https://a.example/x.pem");
    assert_string_equal(id.alg, "ES256");
    stir_identity_clear(&id);
}

static void test_compact(void **state)
{
    (void)state;
    stir_identity id;
    stir_error err;
    const char *v = "..c2lnbmF0dXJl;info=<https://cert.example.org/passport.cer>";
    assert_int_equal(stir_identity_parse(v, strlen(v), &id, &err), 0);
    assert_true(id.compact);
    assert_null(id.ppt);
    assert_null(id.alg);
    stir_identity_clear(&id);
}

static void expect_bad(const char *v, const char *part)
{
    stir_identity id;
    stir_error err;
    stir_error_clear(&err);
    assert_int_equal(stir_identity_parse(v, strlen(v), &id, &err), 438);
    if (!strstr(err.detail, part))
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, part);
    assert_null(id.token);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_bad("", "empty");
    expect_bad(TOK, "no info");
    expect_bad(TOK ";alg=ES256", "no info");
    expect_bad(TOK ";info=https://a/x", "angle brackets");
    expect_bad(TOK ";info=<https://a/x", "closing");
    expect_bad(TOK ";info=<https://a/x>;ppt=shaken;ppt=div", "more than once");
    expect_bad(TOK ";info=<https://a/x>;ppt", "no value");
    expect_bad(TOK ";info=<https://a/x>;ppt=\"shaken", "unterminated");
    expect_bad("a.b;info=<https://a/x>", "3");
    expect_bad("a.b+c.d;info=<https://a/x>", "base64url");
    expect_bad("a..d;info=<https://a/x>", "empty payload");
    expect_bad("a.b.;info=<https://a/x>", "empty signature");
    expect_bad(TOK ";info=<https://a/x> junk", "expected ';'");
    expect_bad(TOK ";info=<>", "empty");
    char nul[] = TOK ";info=<https://a/x>\0x";
    stir_identity id;
    stir_error err;
    assert_int_equal(stir_identity_parse(nul, sizeof nul - 1, &id, &err), 438);
    char *big = malloc(STIR_IDENTITY_MAX + 2);
    memset(big, 'A', STIR_IDENTITY_MAX + 1);
    big[STIR_IDENTITY_MAX + 1] = 0;
    expect_bad(big, "at most");
    free(big);
}

static void test_format(void **state)
{
    (void)state;
    char *s = stir_identity_format("h.p.s", "https://x.example/c.pem", "shaken");
    assert_string_equal(s, "h.p.s;info=<https://x.example/c.pem>;alg=ES256;ppt=shaken");
    free(s);
}

static void test_reason(void **state)
{
    (void)state;
    /* RFC 9410 5, with the corrected compact ppi of test-vectors.md TV-9. */
    char *r = stir_reason_format(
        436, "Bad Identity Info",
        "..rq3pjT1hoRwakEGjHCnWSwUnshd0-zJ6F1VOgFWSjHBr8Qjpjlk-cpFYpFYsojNCpTzO3QfPOlckGaS6hEck7w");
    assert_string_equal(r, "STIR ;cause=436 ;text=\"Bad Identity Info\" "
                           ";ppi=\"..rq3pjT1hoRwakEGjHCnWSwUnshd0-zJ6F1VOgFWSjHBr8Qjpjlk-"
                           "cpFYpFYsojNCpTzO3QfPOlckGaS6hEck7w\"");
    free(r);
    /* RFC 9410 4: no ppi. */
    r = stir_reason_format(436, "Bad Identity Info", NULL);
    assert_string_equal(r, "STIR ;cause=436 ;text=\"Bad Identity Info\"");
    free(r);
    r = stir_reason_format(438, "a \"q\" \\", NULL);
    assert_string_equal(r, "STIR ;cause=438 ;text=\"a \\\"q\\\" \\\\\"");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_forms), cmocka_unit_test(test_any_order_case_lws_unknown),
        cmocka_unit_test(test_compact),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_format),    cmocka_unit_test(test_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
