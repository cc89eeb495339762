/* base64url and RFC 8225 9 serialization, against test-vectors.md TV-1, TV-14. */
#include "test_util.h"
#include "stir/stir.h"

static void test_b64url_rfc8225_payload(void **state)
{
    (void)state;
    const char *json = "{\"dest\":{\"uri\":[\"sip:alice@example.com\"]},\"iat\":1471375418,"
                       "\"orig\":{\"tn\":\"12155551212\"}}";
    char out[256];
    stir_b64url_encode(json, strlen(json), out);
    /* TV-1, RFC 8225 App. A */
    assert_string_equal(out, "eyJkZXN0Ijp7InVyaSI6WyJzaXA6YWxpY2VAZXhhbXBsZS5jb20iXX0sImlhdCI6"
                             "MTQ3MTM3NTQxOCwib3JpZyI6eyJ0biI6IjEyMTU1NTUxMjEyIn19");
    unsigned char back[256];
    long n = stir_b64url_decode(out, strlen(out), back, sizeof back);
    assert_int_equal(n, (long)strlen(json));
    assert_memory_equal(back, json, strlen(json));
}

static void test_b64url_strict(void **state)
{
    (void)state;
    unsigned char b[16];
    assert_int_equal(stir_b64url_decode("TWE", 3, b, sizeof b), 2);   /* "Ma" */
    assert_int_equal(stir_b64url_decode("TWE=", 4, b, sizeof b), -1); /* padding */
    assert_int_equal(stir_b64url_decode("TW+h", 4, b, sizeof b), -1); /* std alphabet */
    assert_int_equal(stir_b64url_decode("TW h", 4, b, sizeof b), -1); /* whitespace */
    assert_int_equal(stir_b64url_decode("T", 1, b, sizeof b), -1);    /* impossible length */
    assert_int_equal(stir_b64url_decode("TWF", 3, b, sizeof b), -1);  /* non-zero spare bits */
    assert_int_equal(stir_b64url_decode("TWFu", 4, b, 2), -1);        /* does not fit */
    assert_int_equal(stir_b64url_decode("", 0, b, sizeof b), 0);
}

static void test_canonical_tv14(void **state)
{
    (void)state;
    /* RFC 8225 5.2.1.4 multi-destination example, keys given out of order. */
    json_t *j =
        json_loads("{ \"orig\" : {\"tn\":\"12155551212\"}, \"iat\": 1443208345,"
                   " \"dest\": {\"uri\":[\"sip:alice@example.com\",\"sip:bob@example.net\"],"
                   " \"tn\":[\"12125551212\"]}}",
                   0, NULL);
    assert_non_null(j);
    size_t n;
    char *s = stir_json_canonical(j, &n);
    assert_string_equal(s, "{\"dest\":{\"tn\":[\"12125551212\"],\"uri\":[\"sip:alice@example.com\","
                           "\"sip:bob@example.net\"]},\"iat\":1443208345,\"orig\":{\"tn\":"
                           "\"12155551212\"}}");
    char b64[512];
    stir_b64url_encode(s, n, b64);
    assert_string_equal(b64, "eyJkZXN0Ijp7InRuIjpbIjEyMTI1NTUxMjEyIl0sInVyaSI6WyJzaXA6YWxpY2VA"
                             "ZXhhbXBsZS5jb20iLCJzaXA6Ym9iQGV4YW1wbGUubmV0Il19LCJpYXQiOjE0NDMy"
                             "MDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMiJ9fQ");
    free(s);
    json_decref(j);
}

static void test_canonical_header_tv14(void **state)
{
    (void)state;
    json_t *h = json_pack("{ss ss ss}", "typ", "passport", "alg", "ES256", "x5u",
                          "https://cert.example.org/passport.cer");
    char *s = stir_json_canonical(h, NULL);
    assert_string_equal(s, "{\"alg\":\"ES256\",\"typ\":\"passport\",\"x5u\":"
                           "\"https://cert.example.org/passport.cer\"}");
    free(s);
    json_decref(h);
}

static void test_canonical_utf8_raw(void **state)
{
    (void)state;
    /* Non-ASCII stays raw UTF-8 (python json.dumps(ensure_ascii=False)). */
    json_t *j = json_pack("{ss}", "nam", "Zo\xc3\xab");
    char *s = stir_json_canonical(j, NULL);
    assert_string_equal(s, "{\"nam\":\"Zo\xc3\xab\"}");
    free(s);
    json_decref(j);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(stir_utf8_valid("abc\xc3\xa9", 5));
    assert_false(stir_utf8_valid("\xc3", 1));         /* truncated */
    assert_false(stir_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(stir_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(stir_utf8_valid("\xff", 1));
}

int main(void)
{
    stir_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_rfc8225_payload), cmocka_unit_test(test_b64url_strict),
        cmocka_unit_test(test_canonical_tv14),         cmocka_unit_test(test_canonical_header_tv14),
        cmocka_unit_test(test_canonical_utf8_raw),     cmocka_unit_test(test_utf8),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stir_cleanup();
    return rc;
}
