/* TN canonicalization and URI normalization: test-vectors.md TV-13. */
#include "test_util.h"
#include "stir/stir.h"

static void canon(const char *in, const char *want)
{
    char out[STIR_TN_MAX + 1];
    stir_error err;
    if (stir_tn_canon(in, out, "tn", &err))
        fail_msg("%s: %s", in, err.detail);
    assert_string_equal(out, want);
}

static void test_tv13_tn(void **state)
{
    (void)state;
    canon("+1 (215) 555-1212", "12155551212");
    canon("+1-215-555-1212", "12155551212");
    canon("1.215.555.1212", "12155551212");
    canon("+44 20 7946 0018", "442079460018");
    canon("911", "911");
    canon("*67", "*67");
    canon("#31#", "#31#");
}

static void test_tn_errors(void **state)
{
    (void)state;
    char out[STIR_TN_MAX + 1];
    stir_error err;
    assert_int_equal(stir_tn_canon("1215555121A", out, "orig.tn", &err), 400);
    assert_string_equal(err.field, "orig.tn");
    assert_non_null(strstr(err.detail, "'A'"));
    assert_int_equal(stir_tn_canon("", out, "t", &err), 400);
    assert_int_equal(stir_tn_canon("+", out, "t", &err), 400);
    assert_int_equal(stir_tn_canon("12+3", out, "t", &err), 400);
    assert_int_equal(stir_tn_canon("123\xc3\xa9", out, "t", &err), 400);
    assert_int_equal(stir_tn_canon("123456789012345678901234567890123", out, "t", &err), 400);
}

static void ident(const char *uri, int is_tn, const char *want)
{
    stir_ident id;
    stir_error err;
    if (stir_ident_from_uri(uri, &id, "from", &err))
        fail_msg("%s: %s", uri, err.detail);
    assert_int_equal(id.is_tn, is_tn);
    assert_string_equal(id.value, want);
}

static void test_tv13_uris(void **state)
{
    (void)state;
    ident("sip:+12155551212@example.com;user=phone", 1, "12155551212");
    ident("sip:12155551212@example.com", 0, "sip:12155551212@example.com");
    ident("sips:Alice%41:pw@Example.COM:5061;transport=tls", 0, "sips:alicea@example.com");
    ident("sip:bob@example.com:5060;user=ip?subject=x", 0, "sip:bob@example.com");
    ident("tel:+44.20.7946.0018", 1, "442079460018");
    ident("tel:+1-215-555-1213", 1, "12155551213");
    ident("sip:+1-215-555-1212;npdi@example.com;user=phone", 1, "12155551212");
    ident("SIP:anonymous@anonymous.invalid", 0, "sip:anonymous@anonymous.invalid");
}

static void ident_strict(const char *uri, int is_tn, const char *want)
{
    stir_ident id;
    stir_error err;
    if (stir_ident_from_uri_ex(uri, &id, STIR_IDENT_REQUIRE_USER_PHONE, "from", &err))
        fail_msg("%s: %s", uri, err.detail);
    assert_int_equal(id.is_tn, is_tn);
    assert_string_equal(id.value, want);
}

/* RFC 8224 8.3: a global-number user part (RFC 3966 global-number-digits)
 * is a TN without user=phone, unless the strict rule is asked for. */
static void test_global_number_user(void **state)
{
    (void)state;
    ident("sip:+12155551212@pbx.example.net", 1, "12155551212");
    ident("sips:+1-215-555-1212@pbx.example.net:5061;transport=tls", 1, "12155551212");
    ident("sip:+1.(215).555.1212@pbx.example.net", 1, "12155551212");
    ident("sip:+44-20-7946-0018;npdi@example.com", 1, "442079460018");
    /* not global numbers: no '+', a letter, no digit, a space (not an
     * RFC 3966 visual separator), '*' */
    ident("sip:2155551212@pbx.example.net", 0, "sip:2155551212@pbx.example.net");
    ident("sip:+1215555121a@pbx.example.net", 0, "sip:+1215555121a@pbx.example.net");
    ident("sip:+-.@pbx.example.net", 0, "sip:+-.@pbx.example.net");
    ident("sip:+*67@pbx.example.net", 0, "sip:+*67@pbx.example.net");
    ident("sip:pbx.example.net", 0, "sip:pbx.example.net");
    ident_strict("sip:+12155551212@pbx.example.net", 0, "sip:+12155551212@pbx.example.net");
    ident_strict("sip:+12155551212@pbx.example.net;user=phone", 1, "12155551212");
    ident_strict("tel:+12155551212", 1, "12155551212");
    stir_ident id;
    stir_error err;
    json_t *j = json_pack("{ss}", "uri", "sip:+1-215-555-1212@pbx.example.net");
    assert_int_equal(stir_ident_from_json(j, &id, "from", &err), 0);
    assert_true(id.is_tn);
    assert_string_equal(id.value, "12155551212");
    assert_int_equal(stir_ident_from_json_ex(j, &id, STIR_IDENT_REQUIRE_USER_PHONE, "from", &err),
                     0);
    assert_false(id.is_tn);
    json_decref(j);
}

static void test_ident_json(void **state)
{
    (void)state;
    stir_ident id;
    stir_error err;
    json_t *j = json_pack("{ss}", "tn", "+1 215 555 1212");
    assert_int_equal(stir_ident_from_json(j, &id, "from", &err), 0);
    assert_true(id.is_tn);
    assert_string_equal(id.value, "12155551212");
    json_decref(j);
    j = json_pack("{s[s]}", "tn", "12155551213"); /* as ms-bench sends `to` */
    assert_int_equal(stir_ident_from_json(j, &id, "to", &err), 0);
    assert_string_equal(id.value, "12155551213");
    json_decref(j);
    j = json_pack("{ss ss}", "tn", "1", "uri", "sip:a@b");
    assert_int_equal(stir_ident_from_json(j, &id, "from", &err), 400);
    assert_string_equal(err.field, "from");
    json_decref(j);
    j = json_pack("{si}", "tn", 12);
    assert_int_equal(stir_ident_from_json(j, &id, "from", &err), 400);
    assert_string_equal(err.field, "from.tn");
    json_decref(j);
    j = json_pack("{ss}", "uri", "http://x");
    assert_int_equal(stir_ident_from_json(j, &id, "to", &err), 400);
    assert_string_equal(err.field, "to.uri");
    json_decref(j);
    j = json_pack("{ss}", "uri", "sip:anonymous@anonymous.invalid");
    assert_int_equal(stir_ident_from_json(j, &id, "from", &err), 0);
    assert_true(stir_ident_is_anonymous(&id));
    json_decref(j);
}

/* A detail that quotes input cut mid-character stays valid UTF-8. */
static void test_error_detail_utf8(void **state)
{
    (void)state;
    stir_error err;
    /* "\xc3\xa9" is e-acute; cutting after 1 byte of it leaves half a character. */
    stir_fail(&err, 400, "ppt", "unsupported ppt \"%.2s\"", "a\xc3\xa9");
    assert_string_equal(err.detail, "unsupported ppt \"a?\"");
    assert_true(stir_utf8_valid(err.detail, strlen(err.detail)));
    stir_fail(&err, 400, NULL, "%s", "ok \xc3\xa9");
    assert_string_equal(err.detail, "ok \xc3\xa9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tv13_tn),
        cmocka_unit_test(test_tn_errors),
        cmocka_unit_test(test_tv13_uris),
        cmocka_unit_test(test_ident_json),
        cmocka_unit_test(test_global_number_user),
        cmocka_unit_test(test_error_detail_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
