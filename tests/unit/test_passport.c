/* PASSporT parsing and ES256 verification with the vectors of test-vectors.md. */
#include "test_util.h"
#include "stir/stir.h"

/* TV-12 V1..V8 (self-generated, verified with the openssl CLI), RFC 8946 key. */
static const char *const TV12[] = {
    /* V1 shaken */
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW"
    "1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9."
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MDEzMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7In"
    "RuIjoiMTIxNTU1NTAxMjEifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0."
    "BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA",
    /* V2 div */
    "eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS"
    "5jb20vY2VydC5jZXIifQ."
    "eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1MTIxMyJ9LCJpYXQiOjE0NDMyMD"
    "gzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMiJ9fQ."
    "J8mcfVb5BFrLzDcIDYaTPXGT3fWsHUPiLiKQtYksNrslhlFubs07Wv86NujwJvfcFdI1fLrkhlkgVsmBIb9xpQ",
    /* V3 rph */
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS"
    "5vcmcvY2VydC5jZXIifQ."
    "eyJkZXN0Ijp7InRuIjpbIjEyMTI1NTUwMTEzIl19LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MD"
    "ExMiJ9LCJycGgiOnsiYXV0aCI6WyJldHMuMCIsIndwcy4wIl19fQ."
    "AjVA5mG7XYiFoKN9tGt9LCcojAo1V3Huv4M2onX0P6XnxHoBEzZpNRU51STljFZf-y2v90nbjAD6ru-leoSUMg",
    /* V6 shaken + rcd */
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW"
    "1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9."
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjAyNTU1MTAwMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7In"
    "RuIjoiMTIwMjU1NTEwMDAifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIiwicmNk"
    "Ijp7Im5hbSI6IkphbWVzIEJvbmQifX0.kQyUC63I0KfqFY2j1mdRc7PpHgt0PXK9j5hGGVLodF4B58_7C_0s7h_"
    "N2tcJb9Xs7R3m97IlGWs5Xq8x3SxRQg",
    /* V7 baseline */
    "eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3"
    "J0LmNlciJ9."
    "eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjEzIl19LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MT"
    "IxMiJ9fQ.32yzF7_5_JtGd7EmllQ-pa0xelidsUD-4yObf0E5wBcsMn2blwZCA62nZ0i-jLj8RYDbOEulp7DnRmjL5O_"
    "afw",
    /* V8 shaken original of the div chain */
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW"
    "1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9."
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MTIxMyJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7In"
    "RuIjoiMTIxNTU1NTEyMTIifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0."
    "7GoSZjU8eugtFvFi7d0N3Pfrcf-B__WFdV2u1QtpUJtGC3yPMFKkHd5D0AyHbjZC5YuWlNV5bhxrSigNkIIpDQ",
};

/* TV-2: RFC 8224/8225/9410 token; verifies with the RFC 8225 A.2 key. */
static const char TV2[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3"
    "J0LmNlciJ9."
    "eyJkZXN0Ijp7InVyaSI6WyJzaXA6YWxpY2VAZXhhbXBsZS5jb20iXX0sImlhdCI6IjE0NDMyMDgzNDUiLCJvcmlnIjp7In"
    "RuIjoiMTIxNTU1NTEyMTIifX0.rq3pjT1hoRwakEGjHCnWSwUnshd0-zJ6F1VOgFWSjHBr8Qjpjlk-"
    "cpFYpFYsojNCpTzO3QfPOlckGaS6hEck7w";

/* TV-1: RFC 8225 App. A; its signature verifies with no published key. */
static const char TV1[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3"
    "J0LmNlciJ9."
    "eyJkZXN0Ijp7InVyaSI6WyJzaXA6YWxpY2VAZXhhbXBsZS5jb20iXX0sImlhdCI6MTQ3MTM3NTQxOCwib3JpZyI6eyJ0bi"
    "I6IjEyMTU1NTUxMjEyIn19.VLBCIVDCaeK6M4hLJb6SHQvacAQVvoiiEOWQ_iUkqk79UD81fHQ0E1b3_"
    "GluIkba7UWYRM47ZbNFdOJquE35cw";

/* TV-5: RFC 8443 4.1 example; the payload is not JSON. */
static const char TV5[] =
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS"
    "5jb20vY2VydC5jZXIifQo."
    "eyJkZXN0Ijp7WyJ0biI6IjEyMTI1NTUwMTEzIl19LCJpYXQiOiIxNDQzMjA4MzQ1Iiwib3JpZyI6eyJ0biI6IjEyMTU1NT"
    "UwMTEyIn0sInJwaCI6eyJhdXRoIjpbImV0cy4wIiwid3BzLjAiXX19Cg."
    "s37S6VC8HM6Dl6YzJeQDsrZcwJ0lizxhUrA7f_98oWBHvo-cl-n8MIhoCr18vYYFy3blXvs3fslM_oos2P2Dyw";

static void test_tv12_verify(void **state)
{
    (void)state;
    EVP_PKEY *k = pem_pub(RFC8946_PUB);
    for (size_t i = 0; i < sizeof TV12 / sizeof TV12[0]; i++) {
        stir_error err;
        stir_passport *p = stir_passport_parse(TV12[i], strlen(TV12[i]), &err);
        assert_non_null(p);
        assert_int_equal(stir_passport_verify_sig(p, k), 1);
        assert_string_equal(stir_passport_alg(p), "ES256");
        stir_passport_free(p);
    }
    EVP_PKEY_free(k);
}

static void test_tv12_v1_claims(void **state)
{
    (void)state;
    stir_error err;
    stir_passport *p = stir_passport_parse(TV12[0], strlen(TV12[0]), &err);
    assert_non_null(p);
    assert_string_equal(stir_passport_ppt(p), "shaken");
    assert_string_equal(stir_passport_x5u(p), "https://cert.example.org/passport.cer");
    const json_t *c = stir_passport_claims(p);
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1443208345);
    assert_string_equal(json_string_value(json_object_get(c, "attest")), "A");
    assert_string_equal(
        stir_passport_compact(p),
        "..BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA");
    stir_passport_free(p);
}

/* Changing one payload byte (iat+1) must break the signature. */
static void test_tampered_payload(void **state)
{
    (void)state;
    EVP_PKEY *k = pem_pub(RFC8946_PUB);
    const char *t = TV12[4];
    const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    json_t *c = json_pack("{s{s[s]} sI s{ss}}", "dest", "tn", "12155551213", "iat",
                          (json_int_t)1443208346, "orig", "tn", "12155551212");
    char *pl = stir_json_canonical(c, NULL);
    char b64[512], tok[1024];
    stir_b64url_encode(pl, strlen(pl), b64);
    snprintf(tok, sizeof tok, "%.*s.%s%s", (int)(d1 - t), t, b64, d2);
    stir_error err;
    stir_passport *p = stir_passport_parse(tok, strlen(tok), &err);
    assert_non_null(p);
    assert_int_equal(stir_passport_verify_sig(p, k), 0);
    stir_passport_free(p);
    free(pl);
    json_decref(c);
    EVP_PKEY_free(k);
}

static void test_tv2_a2_key(void **state)
{
    (void)state;
    EVP_PKEY *k = pem_pub(RFC8225_A2_PUB), *k2 = pem_pub(RFC8946_PUB);
    stir_error err;
    stir_passport *p = stir_passport_parse(TV2, strlen(TV2), &err);
    assert_non_null(p);
    assert_int_equal(stir_passport_verify_sig(p, k), 1);
    assert_int_equal(stir_passport_verify_sig(p, k2), 0);
    /* iat is a JSON string in this RFC example: parseable, but not an integer. */
    assert_true(json_is_string(json_object_get(stir_passport_claims(p), "iat")));
    stir_passport_free(p);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
}

static void test_tv1_verifies_with_no_key(void **state)
{
    (void)state;
    EVP_PKEY *a2 = pem_pub(RFC8225_A2_PUB);
    stir_error err;
    stir_passport *p = stir_passport_parse(TV1, strlen(TV1), &err);
    assert_non_null(p);
    assert_int_equal(stir_passport_verify_sig(p, a2), 0);
    stir_passport_free(p);
    EVP_PKEY_free(a2);
}

static void test_tv5_rejected(void **state)
{
    (void)state;
    stir_error err;
    stir_error_clear(&err);
    assert_null(stir_passport_parse(TV5, strlen(TV5), &err));
    assert_int_equal(err.code, 438);
    assert_non_null(strstr(err.detail, "payload is not valid JSON"));
}

static void expect_bad(const char *tok, const char *detail_part)
{
    stir_error err;
    stir_error_clear(&err);
    stir_passport *p = stir_passport_parse(tok, strlen(tok), &err);
    if (p)
        fail_msg("accepted: %s", tok);
    assert_int_equal(err.code, 438);
    if (!strstr(err.detail, detail_part))
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, detail_part);
}

static void test_malformed(void **state)
{
    (void)state;
    char buf[2048];
    const char *v1 = TV12[0];
    const char *d1 = strchr(v1, '.'), *d2 = strchr(d1 + 1, '.');
    expect_bad("abc", "three");
    expect_bad("a.b.c.d", "three");
    snprintf(buf, sizeof buf, "%.*s", (int)(d2 - v1 + 30), v1); /* truncated sig */
    expect_bad(buf, "signature");
    snprintf(buf, sizeof buf, "%.*s.%s", (int)(d1 - v1), v1,
             "e30.AAAA"); /* {} payload, short sig */
    expect_bad(buf, "signature");
    snprintf(buf, sizeof buf, "%s=", v1); /* padding */
    expect_bad(buf, "base64url");
    /* header {"alg":"ES256","typ":"JWT"} */
    snprintf(buf, sizeof buf, "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9%s", d1);
    expect_bad(buf, "typ");
    /* header with a duplicate key: {"alg":"ES256","alg":"none","typ":"passport"} */
    snprintf(buf, sizeof buf, "eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUiLCJ0eXAiOiJwYXNzcG9ydCJ9%s", d1);
    expect_bad(buf, "header is not valid JSON");
    /* payload "[]" */
    snprintf(buf, sizeof buf, "%.*s.W10%s", (int)(d1 - v1), v1, d2);
    expect_bad(buf, "not a JSON object");
    /* payload with invalid UTF-8 byte 0xff: "{\"a\":\"\xff\"}" */
    snprintf(buf, sizeof buf, "%.*s.eyJhIjoi_yJ9%s", (int)(d1 - v1), v1, d2);
    expect_bad(buf, "UTF-8");
    memset(buf, 'A', sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char *big = malloc(STIR_PASSPORT_MAX + 2);
    memset(big, 'A', STIR_PASSPORT_MAX + 1);
    big[STIR_PASSPORT_MAX + 1] = 0;
    expect_bad(big, "at most");
    free(big);
}

static void test_sign_roundtrip(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_priv(RFC8946_PRIV), *pub = pem_pub(RFC8946_PUB);
    assert_true(stir_key_is_p256(priv));
    json_t *h = json_pack("{ss ss ss ss}", "alg", "ES256", "ppt", "shaken", "typ", "passport",
                          "x5u", "https://cert.example.org/passport.cer");
    json_t *c = json_pack("{ss s{s[s]} sI s{ss} ss}", "attest", "A", "dest", "tn", "12155550131",
                          "iat", (json_int_t)1443208345, "orig", "tn", "12155550121", "origid",
                          "123e4567-e89b-12d3-a456-426655440000");
    stir_error err;
    char *tok = stir_jws_sign(priv, h, c, &err);
    assert_non_null(tok);
    /* Same header and payload bytes as TV-12 V1 (deterministic serialization);
     * the signature differs since ECDSA here is randomized. */
    const char *d2 = strrchr(TV12[0], '.');
    assert_memory_equal(tok, TV12[0], (size_t)(d2 - TV12[0]) + 1);
    stir_passport *p = stir_passport_parse(tok, strlen(tok), &err);
    assert_non_null(p);
    assert_int_equal(stir_passport_verify_sig(p, pub), 1);
    stir_passport_free(p);
    free(tok);
    json_decref(h);
    json_decref(c);
    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
}

/* Compact form V7 with the header and claims rebuilt from SIP (TV-12 note). */
static void test_compact_v7(void **state)
{
    (void)state;
    EVP_PKEY *k = pem_pub(RFC8946_PUB);
    const char *sig = strrchr(TV12[4], '.') + 1;
    char compact[128];
    snprintf(compact, sizeof compact, "..%s", sig);
    json_t *h = json_pack("{ss ss ss}", "alg", "ES256", "typ", "passport", "x5u",
                          "https://cert.example.org/passport.cer");
    json_t *c = json_pack("{s{s[s]} sI s{ss}}", "dest", "tn", "12155551213", "iat",
                          (json_int_t)1443208345, "orig", "tn", "12155551212");
    stir_error err;
    stir_passport *p = stir_passport_from_compact(compact, strlen(compact), h, c, &err);
    assert_non_null(p);
    assert_int_equal(stir_passport_verify_sig(p, k), 1);
    stir_passport_free(p);
    json_decref(h);
    json_decref(c);
    EVP_PKEY_free(k);
}

int main(void)
{
    stir_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tv12_verify),
        cmocka_unit_test(test_tv12_v1_claims),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_tv2_a2_key),
        cmocka_unit_test(test_tv1_verifies_with_no_key),
        cmocka_unit_test(test_tv5_rejected),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_sign_roundtrip),
        cmocka_unit_test(test_compact_v7),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stir_cleanup();
    return rc;
}
