/*
 * The verification service (verify.c) through its public API: published
 * PASSporTs (TV-12 and TV-3 of test-vectors.md, signed with the RFC 8946
 * key, whose certificate tests/tools/mkvecpki.sh makes with the openssl
 * CLI) with the verdicts test-vectors.md gives for them, and PASSporTs
 * crafted here and signed with test keys for what no vector shows: div
 * chains of several links, broken links and loops (RFC 8946 4.2), verstat
 * (TS 24.229 7.2A.20, RFC 8224 6.2.1), TNAuthList scope (RFC 8226 9,
 * RFC 8946 3), third-party RCD gating (RFC 9795 10), NOWAIT.
 *
 * No network: chains are put in the certificate cache; an x5u that is not
 * there is either refused by the fetch policy or met with NOWAIT.
 */
#include "test_world.h"

static world W;
static EVP_PKEY *g_vec_key, *g_tn_key;

#define VNOW 1443208350 /* clock for the 2015 vectors */

/* The vectors' ppt parameters are quoted: the macros hold them
 * JSON-escaped, ready for a request's string. */
#define V1                                                                                         \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4" \
    "YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9."                                                            \
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MDEzMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7" \
    "InRuIjoiMTIxNTU1NTAxMjEifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0." \
    "BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA;info=" \
    "<https://cert.example.org/passport.cer>;alg=ES256;ppt=\\\"shaken\\\""
#define V8                                                                                         \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4" \
    "YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9."                                                            \
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MTIxMyJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7" \
    "InRuIjoiMTIxNTU1NTEyMTIifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0." \
    "7GoSZjU8eugtFvFi7d0N3Pfrcf-B__WFdV2u1QtpUJtGC3yPMFKkHd5D0AyHbjZC5YuWlNV5bhxrSigNkIIpDQ;info=" \
    "<https://cert.example.org/passport.cer>;alg=ES256;ppt=\\\"shaken\\\""
#define V2                                                                                         \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBs" \
    "ZS5jb20vY2VydC5jZXIifQ."                                                                      \
    "eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1MTIxMyJ9LCJpYXQiOjE0NDMy" \
    "MDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMiJ9fQ."                                              \
    "J8mcfVb5BFrLzDcIDYaTPXGT3fWsHUPiLiKQtYksNrslhlFubs07Wv86NujwJvfcFdI1fLrkhlkgVsmBIb9xpQ;info=" \
    "<https://www.example.com/cert.cer>;alg=ES256;ppt=\\\"div\\\""
/* TV-3 (a): RFC 8946's own div example, whose div has 12 digits. */
#define TV3A                                                                                       \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBs" \
    "ZS5jb20vY2VydC5jZXIifQ."                                                                      \
    "eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1NTEyMTMifSwiaWF0IjoxNDQz" \
    "MjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0."                                             \
    "xBHWipDEEJ8a6TsdX6xUXAnblsFiGUiAxwLiv0HLC9IICj6eG9jQd6WzeSSjHRBwxmChHhVIiMTSqIlk3yCNkg;info=" \
    "<https://www.example.com/cert.cer>;ppt=\\\"div\\\""
#define V3                                                                                         \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBs" \
    "ZS5vcmcvY2VydC5jZXIifQ."                                                                      \
    "eyJkZXN0Ijp7InRuIjpbIjEyMTI1NTUwMTEzIl19LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1" \
    "MDExMiJ9LCJycGgiOnsiYXV0aCI6WyJldHMuMCIsIndwcy4wIl19fQ."                                      \
    "AjVA5mG7XYiFoKN9tGt9LCcojAo1V3Huv4M2onX0P6XnxHoBEzZpNRU51STljFZf-y2v90nbjAD6ru-leoSUMg;info=" \
    "<https://www.example.org/cert.cer>;alg=ES256;ppt=\\\"rph\\\""
#define V7C                                                                                     \
    "..32yzF7_5_JtGd7EmllQ-pa0xelidsUD-4yObf0E5wBcsMn2blwZCA62nZ0i-jLj8RYDbOEulp7DnRmjL5O_afw;" \
    "info=<https://cert.example.org/passport.cer>;alg=ES256"

static int setup(void **state)
{
    (void)state;
    if (world_start(&W, "verify"))
        return -1;
    size_t n;
    char *pem = world_slurp(&W, "tn.key", &n);
    if (!pem)
        return -1;
    BIO *b = BIO_new_mem_buf(pem, (int)n);
    g_tn_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    free(pem);
    g_vec_key = pem_priv(RFC8946_PRIV);
    return g_tn_key ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_vec_key);
    EVP_PKEY_free(g_tn_key);
    return world_stop(&W);
}

/* ---- crafting and running ---------------------------------------------------- */

/* An Identity value: `claims` (JSON text) signed with `key` as type `ppt`
 * (NULL: baseline) with x5u/info `x5u`. */
static char *craft(EVP_PKEY *key, const char *ppt, const char *x5u, const char *claims)
{
    json_error_t je;
    json_t *c = json_loads(claims, 0, &je);
    if (!c)
        fail_msg("bad claims: %s: %s", je.text, claims);
    json_t *h = json_pack("{ss ss ss}", "alg", "ES256", "typ", "passport", "x5u", x5u);
    if (ppt)
        json_object_set_new(h, "ppt", json_string(ppt));
    stir_error err;
    char *jws = stir_jws_sign(key, h, c, &err);
    assert_non_null(jws);
    char *v = malloc(strlen(jws) + strlen(x5u) + 64);
    sprintf(v, "%s;info=<%s>;alg=ES256%s%s", jws, x5u, ppt ? ";ppt=" : "", ppt ? ppt : "");
    free(jws);
    json_decref(h);
    json_decref(c);
    return v;
}

/* Run a verificationRequest given as JSON text with %s slots filled by
 * `n` Identity values (JSON-escaped here). */
static json_t *verify_req(time_t now, int flags, stir_error *err, const char *fmt, ...)
{
    char req[32768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req, sizeof req, fmt, ap);
    va_end(ap);
    json_error_t je;
    json_t *j = json_loads(req, 0, &je);
    if (!j)
        fail_msg("bad request JSON: %s: %.300s", je.text, req);
    stir_error_clear(err);
    json_t *r = stir_verify_request_ex(W.verifier, j, now, flags, err);
    json_decref(j);
    return r;
}

static json_t *verify_ok(time_t now, const char *fmt, ...)
{
    char req[32768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req, sizeof req, fmt, ap);
    va_end(ap);
    stir_error err;
    json_t *r = verify_req(now, 0, &err, "%s", req);
    if (!r)
        fail_msg("request refused: %d %s: %s", err.code, err.field, err.detail);
    return r;
}

static const json_t *result(const json_t *resp, size_t i)
{
    const json_t *r =
        json_object_get(json_array_get(json_object_get(resp, "verifyResults"), i), "verifyResult");
    if (!r)
        fail_msg("no verifyResult %zu", i);
    return r;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(absent)";
}

static void expect_status(const json_t *resp, size_t i, const char *status)
{
    const json_t *r = result(resp, i);
    if (strcmp(str(r, "status"), status))
        fail_msg("result %zu: status %s (%s), expected %s", i, str(r, "status"),
                 str(r, "reasonDescription"), status);
}

static void expect_fail(const json_t *resp, size_t i, int code, const char *needle)
{
    expect_status(resp, i, "fail");
    const json_t *r = result(resp, i);
    if (json_integer_value(json_object_get(r, "reasonCode")) != code ||
        !strstr(str(r, "reasonDescription"), needle))
        fail_msg("result %zu: %lld \"%s\", expected %d \"%s\"", i,
                 (long long)json_integer_value(json_object_get(r, "reasonCode")),
                 str(r, "reasonDescription"), code, needle);
}

static void expect_verstat(const json_t *resp, const char *v)
{
    if (strcmp(str(resp, "verstatValue"), v))
        fail_msg("verstatValue %s, expected %s", str(resp, "verstatValue"), v);
}

/* ---- published vectors ------------------------------------------------------- */

static void test_v1(void **state)
{
    (void)state;
    json_t *r =
        verify_ok(VNOW,
                  "{\"identityHeader\":\"%s\",\"from\":{\"tn\":\"12155550121\"},"
                  "\"to\":{\"tn\":\"12155550131\"},\"time\":1443208345,\"requestId\":\"q1\"}",
                  V1);
    expect_verstat(r, STIR_VERSTAT_PASSED);
    expect_status(r, 0, "pass");
    assert_string_equal(str(json_object_get(result(r, 0), "validClaims"), "origid"),
                        "123e4567-e89b-12d3-a456-426655440000");
    assert_string_equal(str(r, "requestId"), "q1");
    json_decref(r);
    /* The compact form rebuilt from From/To/time (TV-12 V7). */
    r = verify_ok(VNOW,
                  "{\"identityHeader\":\"%s\","
                  "\"from\":{\"uri\":\"sip:+12155551212@example.com;user=phone\"},"
                  "\"to\":{\"uri\":\"tel:+1-215-555-1213\"},\"time\":1443208345}",
                  V7C);
    expect_status(r, 0, "pass");
    json_decref(r);
}

/* test-vectors.md TV-12 "Positive SHAKEN div chain vector": V8 + V2. */
static void test_div_chain_v8_v2(void **state)
{
    (void)state;
    json_t *r = verify_ok(VNOW,
                          "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                          "\"from\":{\"tn\":\"12155551212\"},\"to\":{\"tn\":\"12155551213\"},"
                          "\"dest\":{\"tn\":\"12155551214\"},\"time\":1443208345}",
                          V8, V2);
    expect_verstat(r, STIR_VERSTAT_PASSED);
    expect_status(r, 0, "pass");
    expect_status(r, 1, "pass");
    json_error_t je;
    json_t *want = json_loads("[{\"div\":{\"tn\":\"12155551213\"},"
                              "\"verstatValue\":\"TN-Validation-Passed\"}]",
                              0, &je);
    assert_true(json_equal(json_object_get(r, "divResult"), want));
    json_decref(want);
    json_decref(r);
}

/* "Negative: replace V2 by TV-3(a) => chain cannot be built". */
static void test_div_chain_tv3a(void **state)
{
    (void)state;
    json_t *r = verify_ok(VNOW,
                          "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                          "\"from\":{\"tn\":\"12155551212\"},\"to\":{\"tn\":\"12155551213\"},"
                          "\"dest\":{\"tn\":\"12155551214\"},\"time\":1443208345}",
                          V8, TV3A);
    expect_verstat(r, STIR_VERSTAT_PASSED);
    expect_status(r, 0, "pass");
    expect_fail(r, 1, 438, "121555551213");
    const json_t *d = json_array_get(json_object_get(r, "divResult"), 0);
    assert_string_equal(str(json_object_get(d, "div"), "tn"), "121555551213");
    assert_string_equal(str(d, "verstatValue"), STIR_VERSTAT_FAILED);
    json_decref(r);
}

static void test_div_chain_needs_request_dest(void **state)
{
    (void)state;
    /* No dest in the request: the outermost div cannot be checked. */
    json_t *r = verify_ok(VNOW,
                          "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                          "\"from\":{\"tn\":\"12155551212\"},\"to\":{\"tn\":\"12155551213\"},"
                          "\"time\":1443208345}",
                          V8, V2);
    expect_status(r, 0, "pass");
    expect_fail(r, 1, 438, "no dest");
    json_decref(r);
    /* A dest that is not the outermost div's. */
    r = verify_ok(VNOW,
                  "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                  "\"from\":{\"tn\":\"12155551212\"},\"to\":{\"tn\":\"12155551213\"},"
                  "\"dest\":{\"tn\":\"12155559999\"},\"time\":1443208345}",
                  V8, V2);
    expect_fail(r, 1, 438, "12155559999");
    json_decref(r);
    /* V2 without its original. */
    r = verify_ok(VNOW,
                  "{\"identityHeaders\":[\"%s\"],\"from\":{\"tn\":\"12155551212\"},"
                  "\"to\":{\"tn\":\"12155551213\"},\"dest\":{\"tn\":\"12155551214\"},"
                  "\"time\":1443208345}",
                  V2);
    expect_fail(r, 0, 438, "broken");
    json_decref(r);
}

/* ---- crafted div chains ------------------------------------------------------- */

#define X "12155550100" /* the caller */

static char *shaken_to(const char *dest, time_t iat)
{
    char c[512];
    snprintf(c, sizeof c,
             "{\"attest\":\"A\",\"dest\":{\"tn\":[\"%s\"]},\"iat\":%lld,"
             "\"orig\":{\"tn\":\"" X "\"},\"origid\":\"123e4567-e89b-12d3-a456-426655440000\"}",
             dest, (long long)iat);
    return craft(g_vec_key, "shaken", W_X5U, c);
}

static char *div_of(const char *div, const char *dest, time_t iat)
{
    char c[512];
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"%s\"]},\"div\":{\"tn\":\"%s\"},\"iat\":%lld,"
             "\"orig\":{\"tn\":\"" X "\"}}",
             dest, div, (long long)iat);
    return craft(g_vec_key, "div", W_X5U_DIV, c);
}

#define CHAIN_REQ                                                     \
    "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\",\"%s\"]," \
    "\"from\":{\"tn\":\"" X "\"},\"to\":{\"tn\":\"12155550001\"},"    \
    "\"dest\":{\"tn\":\"%s\"},\"time\":%lld}"

static void test_div_chain_two_links(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char *o = shaken_to("12155550001", now), *d1 = div_of("12155550001", "12155550002", now),
         *d2 = div_of("12155550002", "12155550003", now);
    /* Listed out of order: the chain is found by content, not position. */
    json_t *r = verify_ok(now, CHAIN_REQ, o, d2, d1, "12155550003", (long long)now);
    expect_verstat(r, STIR_VERSTAT_PASSED);
    for (size_t i = 0; i < 3; i++)
        expect_status(r, i, "pass");
    assert_int_equal(json_array_size(json_object_get(r, "divResult")), 2);
    json_decref(r);

    /* The call now targets 12155550002: the last link (to ...0003) is not
     * the current one and fails; the first link is now outermost and
     * matches. Only what depends on the bad link fails. */
    r = verify_ok(now, CHAIN_REQ, o, d2, d1, "12155550002", (long long)now);
    expect_status(r, 0, "pass");
    expect_fail(r, 1, 438, "12155550002");
    expect_status(r, 2, "pass");
    json_decref(r);
    free(o);
    free(d1);
    free(d2);
}

static void test_div_chain_broken_link(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char *o = shaken_to("12155550001", now), *d1 = div_of("12155550001", "12155550002", now),
         *d3 = div_of("12155550005", "12155550006", now);
    json_t *r = verify_ok(now, CHAIN_REQ, o, d1, d3, "12155550002", (long long)now);
    expect_status(r, 0, "pass");
    expect_status(r, 1, "pass");
    expect_fail(r, 2, 438, "tn 12155550005");
    json_decref(r);
    /* A div whose original has another orig does not link (RFC 8946 4.2:
     * orig is copied unchanged). */
    char c[512];
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"12155550002\"]},\"div\":{\"tn\":\"12155550001\"},"
             "\"iat\":%lld,\"orig\":{\"tn\":\"12155557777\"}}",
             (long long)now);
    char *other = craft(g_vec_key, "div", W_X5U_DIV, c);
    r = verify_ok(now,
                  "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                  "\"from\":{\"tn\":\"" X "\"},\"to\":{\"tn\":\"12155550001\"},"
                  "\"dest\":{\"tn\":\"12155550002\"},\"time\":%lld}",
                  o, other, (long long)now);
    expect_status(r, 0, "pass");
    expect_status(r, 1, "fail");
    json_decref(r);
    free(other);
    free(o);
    free(d1);
    free(d3);
}

static void test_div_chain_loop(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char *a = div_of("12155550001", "12155550002", now),
         *b = div_of("12155550002", "12155550001", now);
    json_t *r = verify_ok(now,
                          "{\"identityHeaders\":[\"%s\",\"%s\"],"
                          "\"from\":{\"tn\":\"" X "\"},\"to\":{\"tn\":\"12155550001\"},"
                          "\"dest\":{\"tn\":\"12155550002\"},\"time\":%lld}",
                          a, b, (long long)now);
    /* The first found to loop fails as a loop; the other then has no
     * verified predecessor left. */
    expect_fail(r, 0, 438, "loops");
    expect_fail(r, 1, 438, "RFC 8946 4.2");
    json_decref(r);
    free(a);
    free(b);
}

/* ---- verstat --------------------------------------------------------------------- */

static void test_verstat(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char *good = shaken_to("12155550001", now);
    /* The same PASSporT with its payload changed: signature invalid. */
    char *bad = strdup(good);
    char *dot = strchr(bad, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    const char *one = "{\"identityHeader\":\"%s\",\"from\":{\"tn\":\"" X "\"},"
                      "\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}";
    json_t *r = verify_ok(now, one, bad, (long long)now);
    expect_verstat(r, STIR_VERSTAT_FAILED);
    expect_status(r, 0, "fail");
    json_decref(r);
    /* One caller PASSporT that passes is enough (RFC 8224 6.2.1). */
    r = verify_ok(now,
                  "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                  "\"from\":{\"tn\":\"" X "\"},\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}",
                  bad, good, (long long)now);
    expect_verstat(r, STIR_VERSTAT_PASSED);
    expect_status(r, 0, "fail");
    expect_status(r, 1, "pass");
    json_decref(r);
    /* A type this verifier does not know: nothing was validated. */
    char c[256];
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"12155550001\"]},\"iat\":%lld,"
             "\"orig\":{\"tn\":\"" X "\"}}",
             (long long)now);
    char *unknown = craft(g_vec_key, "nosuchtype", W_X5U, c);
    r = verify_ok(now, one, unknown, (long long)now);
    expect_verstat(r, STIR_VERSTAT_NONE);
    json_decref(r);
    /* Only an rph PASSporT: it says nothing about the caller; its own
     * verdict is verstatPriority. */
    r = verify_ok(VNOW,
                  "{\"identityHeaders\":[\"%s\"],\"from\":{\"tn\":\"12155550112\"},"
                  "\"to\":{\"tn\":\"12125550113\"},\"time\":1443208345,"
                  "\"protectedHeaders\":[\"Resource-Priority: ets.0,wps.0\"]}",
                  V3);
    expect_status(r, 0, "pass");
    assert_null(json_object_get(r, "verstatValue"));
    assert_string_equal(str(r, "verstatPriority"), STIR_PRIORITY_PASSED);
    json_decref(r);
    free(good);
    free(bad);
    free(unknown);
}

static void test_freshness(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char *p = shaken_to("12155550001", now - 61);
    const char *one = "{\"identityHeader\":\"%s\",\"from\":{\"tn\":\"" X "\"},"
                      "\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}";
    /* iat 61 s before the request's time. */
    json_t *r = verify_ok(now, one, p, (long long)now);
    expect_fail(r, 0, 403, "");
    json_decref(r);
    /* The request's time itself 61 s before the clock. */
    free(p);
    p = shaken_to("12155550001", now - 61);
    r = verify_ok(now, one, p, (long long)(now - 61));
    expect_fail(r, 0, 403, "");
    json_decref(r);
    r = verify_ok(now - 1, one, p, (long long)(now - 61));
    expect_status(r, 0, "pass");
    json_decref(r);
    free(p);
}

/* ---- scope (stir_verify_identity: one PASSporT, before chains) --------------------- */

static int verify_one(const char *identity, const char *from, const char *to, time_t now,
                      stir_verify_result *out)
{
    stir_verify_ctx ctx;
    stir_error err;
    memset(&ctx, 0, sizeof ctx);
    json_t *f = json_pack("{ss}", "tn", from), *t = json_pack("{ss}", "tn", to);
    assert_int_equal(stir_ident_from_json(f, &ctx.from, "from", &err), 0);
    assert_int_equal(stir_ident_from_json(t, &ctx.to, "to", &err), 0);
    json_decref(f);
    json_decref(t);
    ctx.time = now;
    ctx.now = now;
    memset(out, 0, sizeof *out);
    return stir_verify_identity(W.verifier, identity, strlen(identity), &ctx, out);
}

static void test_scope(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char c[512];
    stir_verify_result res;
    /* shaken: the TN-only certificate covers orig W_TN, nothing else. */
    snprintf(c, sizeof c,
             "{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155550001\"]},\"iat\":%lld,"
             "\"orig\":{\"tn\":\"" W_TN "\"},\"origid\":\"123e4567-e89b-12d3-a456-426655440000\"}",
             (long long)now);
    char *p = craft(g_tn_key, "shaken", W_X5U_TN, c);
    assert_int_equal(verify_one(p, W_TN, "12155550001", now, &res), 0);
    assert_true(res.pass);
    stir_verify_result_clear(&res);
    free(p);
    snprintf(
        c, sizeof c,
        "{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155550001\"]},\"iat\":%lld,"
        "\"orig\":{\"tn\":\"12155559999\"},\"origid\":\"123e4567-e89b-12d3-a456-426655440000\"}",
        (long long)now);
    p = craft(g_tn_key, "shaken", W_X5U_TN, c);
    assert_int_equal(verify_one(p, "12155559999", "12155550001", now, &res), 437);
    assert_false(res.pass);
    assert_non_null(strstr(res.err.detail, "does not cover orig"));
    stir_verify_result_clear(&res);
    free(p);
    /* div: the diverting identity must be covered, orig need not be. */
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"12155550002\"]},\"div\":{\"tn\":\"" W_TN "\"},"
             "\"iat\":%lld,\"orig\":{\"tn\":\"12155559999\"}}",
             (long long)now);
    p = craft(g_tn_key, "div", W_X5U_TN, c);
    assert_int_equal(verify_one(p, "12155559999", "12155550002", now, &res), 0);
    stir_verify_result_clear(&res);
    free(p);
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"12155550002\"]},\"div\":{\"tn\":\"12155550001\"},"
             "\"iat\":%lld,\"orig\":{\"tn\":\"" W_TN "\"}}",
             (long long)now);
    p = craft(g_tn_key, "div", W_X5U_TN, c);
    assert_int_equal(verify_one(p, W_TN, "12155550002", now, &res), 437);
    assert_non_null(strstr(res.err.detail, "does not cover div"));
    stir_verify_result_clear(&res);
    free(p);
}

/* ---- third-party RCD (RFC 9795 10) ------------------------------------------------ */

static void test_third_party_rcd(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char c[512];
    /* A third party (iss) signs RCD for a caller its certificate does not
     * cover: the PASSporT passes (RFC 9795 10.2)... */
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"12155550001\"]},\"iat\":%lld,"
             "\"iss\":\"Zorin Industries\",\"orig\":{\"tn\":\"" X "\"},"
             "\"rcd\":{\"nam\":\"James St. John Smythe\"}}",
             (long long)now);
    char *third = craft(g_tn_key, "rcd", W_X5U_TN, c);
    stir_verify_result res;
    assert_int_equal(verify_one(third, X, "12155550001", now, &res), 0);
    assert_string_equal(str(res.rcd, "status"), "pass");
    stir_verify_result_clear(&res);
    /* ...but its RCD is withdrawn unless a first-party PASSporT passed. */
    json_t *r = verify_ok(now,
                          "{\"identityHeaders\":[\"%s\"],\"from\":{\"tn\":\"" X "\"},"
                          "\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}",
                          third, (long long)now);
    expect_status(r, 0, "pass");
    const json_t *rcd = json_object_get(result(r, 0), "rcdResult");
    assert_string_equal(str(rcd, "status"), "fail");
    assert_non_null(strstr(str(rcd, "reasonDescription"), "third-party"));
    assert_null(json_object_get(rcd, "display"));
    json_decref(r);
    char *first = shaken_to("12155550001", now);
    r = verify_ok(now,
                  "{\"identityHeader\":\"%s\",\"identityHeaders\":[\"%s\"],"
                  "\"from\":{\"tn\":\"" X "\"},\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}",
                  first, third, (long long)now);
    expect_status(r, 0, "pass");
    rcd = json_object_get(result(r, 1), "rcdResult");
    assert_string_equal(str(rcd, "status"), "pass");
    assert_string_equal(str(json_object_get(rcd, "display"), "name"), "James St. John Smythe");
    json_decref(r);
    /* Without iss the same certificate must cover orig. */
    snprintf(c, sizeof c,
             "{\"dest\":{\"tn\":[\"12155550001\"]},\"iat\":%lld,"
             "\"orig\":{\"tn\":\"" X "\"},\"rcd\":{\"nam\":\"James St. John Smythe\"}}",
             (long long)now);
    char *nois = craft(g_tn_key, "rcd", W_X5U_TN, c);
    assert_int_equal(verify_one(nois, X, "12155550001", now, &res), 437);
    stir_verify_result_clear(&res);
    free(nois);
    free(first);
    free(third);
}

/* ---- NOWAIT, fetch policy, request errors ------------------------------------------- */

static void test_nowait_and_policy(void **state)
{
    (void)state;
    time_t now = time(NULL);
    char c[512];
    snprintf(c, sizeof c,
             "{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155550001\"]},\"iat\":%lld,"
             "\"orig\":{\"tn\":\"" X "\"},\"origid\":\"123e4567-e89b-12d3-a456-426655440000\"}",
             (long long)now);
    char *p = craft(g_vec_key, "shaken", "https://cr.example.net/not-cached.pem", c);
    stir_error err;
    json_t *r = verify_req(now, STIR_CACHE_NOWAIT, &err,
                           "{\"identityHeader\":\"%s\",\"from\":{\"tn\":\"" X "\"},"
                           "\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}",
                           p, (long long)now);
    assert_null(r);
    assert_int_equal(err.code, STIR_WOULD_BLOCK);
    free(p);
    /* An x5u the fetch policy refuses is a 436 of that PASSporT, without
     * any network access. */
    p = craft(g_vec_key, "shaken", "http://cr.example.net/c.pem", c);
    r = verify_ok(now,
                  "{\"identityHeader\":\"%s\",\"from\":{\"tn\":\"" X "\"},"
                  "\"to\":{\"tn\":\"12155550001\"},\"time\":%lld}",
                  p, (long long)now);
    expect_fail(r, 0, 436, "https");
    expect_verstat(r, STIR_VERSTAT_FAILED);
    json_decref(r);
    free(p);
}

static void request_fails(const char *req, const char *field)
{
    stir_error err;
    json_t *r = verify_req(VNOW, 0, &err, "%s", req);
    if (r) {
        json_decref(r);
        fail_msg("accepted: %s", req);
    }
    if (err.code != 400 || strcmp(err.field, field))
        fail_msg("%d %s (%s), expected 400 %s", err.code, err.field, err.detail, field);
}

static void test_request_errors(void **state)
{
    (void)state;
    request_fails("[]", "verificationRequest");
    request_fails("{\"to\":{\"tn\":\"1\"},\"time\":1443208345}", "identityHeader");
    request_fails("{\"identityHeader\":\"\",\"to\":{\"tn\":\"1\"},\"time\":1443208345}",
                  "identityHeader");
    request_fails("{\"identityHeaders\":\"x\",\"to\":{\"tn\":\"1\"},\"time\":1443208345}",
                  "identityHeaders");
    request_fails("{\"identityHeaders\":[1],\"to\":{\"tn\":\"1\"},\"time\":1443208345}",
                  "identityHeaders");
    request_fails("{\"identityHeaders\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
                  "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"],\"to\":{\"tn\":\"1\"},"
                  "\"time\":1443208345}",
                  "identityHeaders");
    request_fails("{\"identityHeader\":\"" V1 "\",\"time\":1443208345}", "to");
    /* sip made from mandatory (TS 24.229 Table V.2.6.2-1: M): a request
     * without it is a 400 naming from, checked after to and before time;
     * the requests below carry one so that they still reach their field. */
    request_fails("{\"identityHeader\":\"" V1 "\",\"to\":{\"tn\":\"1\"},\"time\":1443208345}",
                  "from");
#define TO_FROM "\"identityHeader\":\"" V1 "\",\"to\":{\"tn\":\"1\"},\"from\":{\"tn\":\"2\"}"
    request_fails("{" TO_FROM "}", "time");
    request_fails("{" TO_FROM ",\"time\":-5}", "time");
    request_fails("{" TO_FROM ",\"time\":\"now\"}", "time");
    /* sip's date member is an IMF-fixdate, whose zone is "GMT" (RFC 9110 5.6.7). */
    request_fails("{" TO_FROM ",\"date\":\"Sat, 26 Sep 2015 19:12:25 UTC\"}", "date");
    request_fails("{" TO_FROM ",\"time\":1443208345,\"requestId\":7}", "requestId");
    request_fails("{" TO_FROM ",\"time\":1443208345,\"protectedHeaders\":\"Priority: x\"}",
                  "protectedHeaders");
    request_fails("{" TO_FROM ",\"time\":1443208345,\"protectedHeaders\":[\"no colon\"]}",
                  "protectedHeaders");
#undef TO_FROM
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1),
        cmocka_unit_test(test_div_chain_v8_v2),
        cmocka_unit_test(test_div_chain_tv3a),
        cmocka_unit_test(test_div_chain_needs_request_dest),
        cmocka_unit_test(test_div_chain_two_links),
        cmocka_unit_test(test_div_chain_broken_link),
        cmocka_unit_test(test_div_chain_loop),
        cmocka_unit_test(test_verstat),
        cmocka_unit_test(test_freshness),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_third_party_rcd),
        cmocka_unit_test(test_nowait_and_policy),
        cmocka_unit_test(test_request_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
