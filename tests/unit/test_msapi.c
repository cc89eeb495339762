/*
 * The Ms API module (msapi.c): which members are mandatory, requestId,
 * the parsing of signingRequest and verificationRequest (each mandatory
 * member missing, bad members, dialect aliases), JSON string escaping
 * (expected bytes from Python's json.dumps(s, ensure_ascii=False)), and
 * the responses: parsed back with jansson, validClaims compared with the
 * PASSporT payload decoded independently (base64url of TV-12 V1).
 */
#include "test_world.h"
#include "internal.h"

static world W;

#define VNOW 1443208350
/* TV-12 V1 (test-vectors.md), ppt quoted as in the vector. */
#define V1_PAYLOAD                                                                                 \
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MDEzMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7" \
    "InRuIjoiMTIxNTU1NTAxMjEifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0"
#define V1                                                                                         \
    "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4" \
    "YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9." V1_PAYLOAD                                                 \
    ".BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA;"     \
    "info="                                                                                        \
    "<https://cert.example.org/passport.cer>;alg=ES256;ppt=\\\"shaken\\\""

static int setup(void **state)
{
    (void)state;
    return world_start(&W, "msapi");
}

static int teardown(void **state)
{
    (void)state;
    return world_stop(&W);
}

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("bad JSON: %s: %s", je.text, text);
    return j;
}

/* ---- members ------------------------------------------------------------ */

static void test_mandatory(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "orig", "dest",           "dest.tn[0]",         "iat", "identityHeader", "from", "to.tn",
        "time", "signingRequest", "verificationRequest"};
    static const char *const no[] = {
        "requestId",        "ppt",         "attest", "origid", "date", "identityHeaders",
        "protectedHeaders", "destination", "tox",    ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(stir_ms_field_is_mandatory(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(stir_ms_field_is_mandatory(no[i]));
}

static void test_unwrap(void **state)
{
    (void)state;
    stir_error err;
    json_t *b = load("{\"signingRequest\":{\"a\":1}}");
    assert_ptr_equal(stir_ms_unwrap(b, "signingRequest", &err),
                     json_object_get(b, "signingRequest"));
    json_decref(b);
    b = load("{\"a\":1}");
    assert_ptr_equal(stir_ms_unwrap(b, "signingRequest", &err), b);
    json_decref(b);
    b = load("{\"verificationRequest\":[1]}");
    stir_error_clear(&err);
    assert_null(stir_ms_unwrap(b, "verificationRequest", &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.field, "verificationRequest");
    json_decref(b);
}

static void test_request_id(void **state)
{
    (void)state;
    stir_error err;
    const char *id;
    size_t len;
    char long_id[300];
    json_t *r = load("{}");
    assert_int_equal(stir_ms_request_id(r, NULL, &id, &len, &err), 0);
    assert_null(id);
    json_object_set_new(r, "requestId", json_string("abc"));
    assert_int_equal(stir_ms_request_id(r, NULL, &id, &len, &err), 0);
    assert_string_equal(id, "abc");
    assert_int_equal(len, 3);
    /* the limit, exactly, and one more */
    memset(long_id, 'x', sizeof long_id);
    json_object_set_new(r, "requestId", json_stringn(long_id, STIR_MS_REQUEST_ID_MAX));
    assert_int_equal(stir_ms_request_id(r, NULL, &id, &len, &err), 0);
    assert_int_equal(len, STIR_MS_REQUEST_ID_MAX);
    const json_t *bad[] = {json_stringn(long_id, STIR_MS_REQUEST_ID_MAX + 1), json_string(""),
                           json_integer(7), json_null()};
    for (size_t i = 0; i < 4; i++) {
        json_object_set_new(r, "requestId", (json_t *)bad[i]);
        stir_error_clear(&err);
        assert_int_equal(stir_ms_request_id(r, NULL, &id, &len, &err), 400);
        assert_string_equal(err.field, "requestId");
        assert_non_null(strstr(err.detail, "1 to 256"));
        assert_false(err.missing);
    }
    /* from the wrapper when the request has none */
    json_t *body = load("{\"requestId\":\"outer\",\"signingRequest\":{}}");
    assert_int_equal(
        stir_ms_request_id(json_object_get(body, "signingRequest"), body, &id, &len, &err), 0);
    assert_string_equal(id, "outer");
    json_decref(body);
    json_decref(r);
}

/* ---- signingRequest ------------------------------------------------------ */

static void test_parse_sign(void **state)
{
    (void)state;
    stir_ms_sign_request mr;
    stir_error err;
    json_t *r = load("{\"orig\":{\"tn\":\"1\"},\"dest\":{\"tn\":\"2\"},\"iat\":1}");
    assert_int_equal(stir_ms_parse_sign(r, NULL, NULL, &mr, &err), 0);
    assert_string_equal(mr.ppt, "shaken");
    assert_int_equal(sti_ms_sign_require(r, &err), 0);
    /* each mandatory member missing */
    static const char *const base[] = {"orig", "dest", "iat"};
    for (size_t i = 0; i < 3; i++) {
        json_t *c = json_copy(r);
        json_object_del(c, base[i]);
        stir_error_clear(&err);
        assert_int_equal(sti_ms_sign_require(c, &err), 400);
        assert_string_equal(err.field, base[i]);
        assert_true(err.missing);
        json_decref(c);
    }
    /* the type its members imply, and mixed types */
    json_object_set_new(r, "div", json_pack("{ss}", "tn", "3"));
    assert_int_equal(stir_ms_parse_sign(r, NULL, NULL, &mr, &err), 0);
    assert_string_equal(mr.ppt, "div");
    json_object_set_new(r, "rph", json_object());
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_sign(r, NULL, NULL, &mr, &err), 400);
    assert_string_equal(err.field, "rph");
    json_object_del(r, "rph");
    json_object_set_new(r, "attest", json_string("A"));
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_sign(r, NULL, NULL, &mr, &err), 400);
    assert_string_equal(err.field, "div");
    json_object_del(r, "attest");
    /* ppt must be a string */
    json_object_set_new(r, "ppt", json_integer(1));
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_sign(r, NULL, NULL, &mr, &err), 400);
    assert_string_equal(err.field, "ppt");
    /* a legacy resource's implied type: absent, same, other, "" */
    json_object_del(r, "ppt");
    assert_int_equal(stir_ms_parse_sign(r, NULL, "div", &mr, &err), 0);
    assert_string_equal(mr.ppt, "div");
    json_object_set_new(r, "ppt", json_string("div"));
    assert_int_equal(stir_ms_parse_sign(r, NULL, "div", &mr, &err), 0);
    json_object_set_new(r, "ppt", json_string("rph\n"));
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_sign(r, NULL, "div", &mr, &err), 400);
    assert_string_equal(err.field, "ppt");
    assert_non_null(strstr(err.detail, "ppt \"rph?\" conflicts with divSigning"));
    json_object_set_new(r, "ppt", json_string(""));
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_sign(r, NULL, "div", &mr, &err), 400);
    assert_non_null(strstr(err.detail, "(shaken)"));
    /* not an object */
    json_t *a = load("[1]");
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_sign(a, NULL, NULL, &mr, &err), 400);
    assert_string_equal(err.field, "signingRequest");
    json_decref(a);
    json_decref(r);
}

/* ---- verificationRequest ------------------------------------------------- */

#define VREQ                                                                                      \
    "{\"identityHeader\":\"a.b.c;info=<https://x.example/c>\",\"from\":{\"tn\":\"12155550121\"}," \
    "\"to\":{\"tn\":\"12155550131\"},\"time\":1443208345}"

static void test_parse_verify(void **state)
{
    (void)state;
    stir_ms_verify_request mr;
    stir_error err;
    json_t *r = load(VREQ);
    assert_int_equal(stir_ms_parse_verify(r, 0, &mr, &err), 0);
    assert_int_equal(mr.n_identity, 1);
    assert_true(mr.has_orig);
    assert_false(mr.has_dest);
    assert_string_equal(mr.from.value, "12155550121");
    assert_string_equal(mr.to.value, "12155550131");
    assert_int_equal(mr.time, 1443208345);
    assert_null(mr.resource_priority);
    /* each mandatory member missing: the named field, "missing" */
    static const char *const m[] = {"identityHeader", "to", "from", "time"};
    for (size_t i = 0; i < 4; i++) {
        json_t *c = json_copy(r);
        json_object_del(c, m[i]);
        stir_error_clear(&err);
        assert_int_equal(stir_ms_parse_verify(c, 0, &mr, &err), 400);
        assert_string_equal(err.field, m[i]);
        assert_true(err.missing);
        assert_true(stir_ms_field_is_mandatory(err.field));
        json_decref(c);
    }
    /* bad members: each names itself */
    static const struct {
        const char *member, *value, *field;
    } bad[] = {
        {"identityHeader", "\"\"", "identityHeader"},
        {"identityHeaders", "\"x\"", "identityHeaders"},
        {"identityHeaders", "[1]", "identityHeaders"},
        {"IdentityHeaders", "[\"\"]", "IdentityHeaders"},
        {"to", "{\"tn\":\"x\"}", "to.tn"},
        {"time", "-1", "time"},
        {"date", "\"Tue, 01 Jan 2030 00:00:00 GMT\"", "date"},
        {"requestId", "\"\"", "requestId"},
        {"appId", "7", "appId"},
        {"protectedHeaders", "\"Priority: x\"", "protectedHeaders"},
        {"protectedHeaders", "[\"no colon\"]", "protectedHeaders"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *c = json_copy(r);
        json_object_set_new(c, bad[i].member, load(bad[i].value));
        stir_error_clear(&err);
        assert_int_equal(stir_ms_parse_verify(c, 0, &mr, &err), 400);
        if (strcmp(err.field, bad[i].field))
            fail_msg("%s: field %s, want %s", bad[i].member, err.field, bad[i].field);
        assert_false(err.missing);
        json_decref(c);
    }
    /* 17 values are one too many */
    json_t *c = json_copy(r), *arr = json_array();
    for (int i = 0; i < STIR_MAX_IDENTITY_HEADERS; i++)
        json_array_append_new(arr, json_string("x"));
    json_object_set_new(c, "identityHeaders", arr);
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_verify(c, 0, &mr, &err), 400);
    assert_string_equal(err.field, "identityHeaders");
    json_decref(c);
    /* the Neustar alias, without identityHeader; protected headers; date */
    c = load("{\"IdentityHeaders\":[\"a\",\"b\"],\"from\":{\"tn\":\"1\"},\"to\":{\"tn\":\"2\"},"
             "\"date\":\"Fri, 25 Sep 2015 19:12:25 GMT\",\"dest\":{\"uri\":\"tel:+15551234\"},"
             "\"protectedHeaders\":[\"Resource-Priority: ets.0\",\"resource-priority :wps.0\","
             "\"Priority: emergency;x\",\"Other: y\"],\"requestId\":\"r1\"}");
    assert_int_equal(stir_ms_parse_verify(c, 0, &mr, &err), 0);
    assert_int_equal(mr.n_identity, 2);
    assert_false(mr.has_orig);
    assert_true(mr.has_dest);
    assert_string_equal(mr.identity[1], "b");
    assert_int_equal(mr.time, 1443208345); /* date -d '2015-09-25 19:12:25 UTC' +%s */
    assert_string_equal(mr.resource_priority, "ets.0,wps.0");
    assert_string_equal(mr.priority, "emergency");
    assert_string_equal(mr.request_id, "r1");
    json_decref(c);
    json_decref(r);
}

/* ---- the writer ------------------------------------------------------------ */

static void expect_escaped(const char *in, size_t n, const char *want)
{
    stir_jbuf b = {0};
    size_t len;
    stir_jbuf_string(&b, in, n);
    char *out = stir_jbuf_finish(&b, &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(out, want, len);
    /* and jansson reads back what went in */
    json_t *j = json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(j);
    assert_int_equal(json_string_length(j), n);
    assert_memory_equal(json_string_value(j), in, n);
    json_decref(j);
    free(out);
}

static void test_escape(void **state)
{
    (void)state;
    /* expected: json.dumps(s, ensure_ascii=False) */
    expect_escaped("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    expect_escaped("\x01\x1f\n\t\r\b\f", 7, "\"\\u0001\\u001f\\n\\t\\r\\b\\f\"");
    expect_escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
                   "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    expect_escaped("\x7f/", 2, "\"\x7f/\"");
    expect_escaped("", 0, "\"\"");
    expect_escaped("a\0b", 3, "\"a\\u0000b\"");
    /* not UTF-8: each bad byte becomes '?' (stir_utf8_repair's rule) */
    stir_jbuf b = {0};
    size_t len;
    stir_jbuf_string(&b, "a\xff\xc3(b", 5);
    char *out = stir_jbuf_finish(&b, &len);
    assert_string_equal(out, "\"a?"
                             "?(b\"");
    free(out);
}

static void test_sign_response(void **state)
{
    (void)state;
    size_t len;
    const char *idh = "h.p.s;info=<https://x.example/a\"b>;alg=ES256;ppt=shaken";
    char *out = stir_ms_sign_response(idh, "r\n1", 3, &len);
    assert_int_equal(strlen(out), len);
    json_t *j = load(out);
    json_t *sr = json_object_get(j, "signingResponse");
    assert_int_equal(json_object_size(j), 1);
    assert_int_equal(json_object_size(sr), 2);
    assert_string_equal(json_string_value(json_object_get(sr, "identityHeader")), idh);
    assert_string_equal(json_string_value(json_object_get(sr, "requestId")), "r\n1");
    json_decref(j);
    free(out);
    out = stir_ms_sign_response(idh, NULL, 0, &len);
    assert_string_equal(out, "{\"signingResponse\":{\"identityHeader\":"
                             "\"h.p.s;info=<https://x.example/a\\\"b>;alg=ES256;ppt=shaken\"}}");
    free(out);
}

/* Verify `req` (JSON text) through the module and the core; the response
 * text. */
static char *verify_text(const char *req, stir_verify_outcome *o)
{
    stir_ms_verify_request mr;
    stir_error err;
    size_t len;
    json_t *j = load(req);
    stir_error_clear(&err);
    assert_int_equal(stir_ms_parse_verify(j, 0, &mr, &err), 0);
    assert_int_equal(stir_verify(W.verifier, &mr, VNOW, 0, o, &err), 0);
    char *out = stir_ms_verify_response(o, &mr, &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    json_decref(j);
    return out;
}

static void test_verify_response_splice(void **state)
{
    (void)state;
    stir_verify_outcome o;
    char *out = verify_text("{\"identityHeader\":\"" V1 "\",\"from\":{\"tn\":\"12155550121\"},"
                            "\"to\":{\"tn\":\"12155550131\"},\"time\":1443208345,"
                            "\"requestId\":\"q\\\"1\"}",
                            &o);
    /* The payload, decoded independently of the verifier. */
    unsigned char payload[512];
    long pl = stir_b64url_decode(V1_PAYLOAD, strlen(V1_PAYLOAD), payload, sizeof payload);
    assert_true(pl > 0);
    /* spliced: the payload bytes appear verbatim in the response */
    assert_int_equal(o.results[0].claims_text_len, (size_t)pl);
    char want[600];
    snprintf(want, sizeof want, "\"validClaims\":%.*s}", (int)pl, payload);
    assert_non_null(strstr(out, want));
    json_t *j = load(out), *claims = json_loadb((const char *)payload, (size_t)pl, 0, NULL);
    assert_non_null(claims);
    json_t *vr = json_object_get(j, "verificationResponse");
    assert_string_equal(json_string_value(json_object_get(vr, "verstatValue")),
                        STIR_VERSTAT_PASSED);
    assert_string_equal(json_string_value(json_object_get(vr, "requestId")), "q\"1");
    json_t *r0 =
        json_object_get(json_array_get(json_object_get(vr, "verifyResults"), 0), "verifyResult");
    assert_string_equal(json_string_value(json_object_get(r0, "status")), "pass");
    assert_string_equal(json_string_value(json_object_get(r0, "ppt")), "shaken");
    assert_true(json_equal(json_object_get(r0, "validClaims"), claims));
    json_decref(claims);
    json_decref(j);
    free(out);
    stir_verify_outcome_clear(&o);

    /* A failure: reason members, no validClaims, no verstatValue comma
     * trouble when the first member is absent (rph-only: no verstat). */
    out = verify_text("{\"identityHeader\":\"" V1 "\",\"from\":{\"tn\":\"12155550122\"},"
                      "\"to\":{\"tn\":\"12155550131\"},\"time\":1443208345}",
                      &o);
    j = load(out);
    vr = json_object_get(j, "verificationResponse");
    r0 = json_object_get(json_array_get(json_object_get(vr, "verifyResults"), 0), "verifyResult");
    assert_string_equal(json_string_value(json_object_get(r0, "status")), "fail");
    assert_int_equal(json_integer_value(json_object_get(r0, "reasonCode")), 438);
    assert_non_null(json_string_value(json_object_get(r0, "reasonHeader")));
    assert_null(json_object_get(r0, "validClaims"));
    assert_null(json_object_get(vr, "requestId"));
    json_decref(j);
    free(out);
    stir_verify_outcome_clear(&o);
}

static void test_verify_response_no_verstat(void **state)
{
    (void)state;
    /* Only a value in identityHeaders whose type is unknown: no verstat
     * member; the body must still be one well-formed object. */
    stir_verify_outcome o;
    char *out = verify_text("{\"identityHeaders\":[\"x.y.z;info=<https://a.example/"
                            "c>;ppt=foo\"],\"from\":{\"tn\":\"12155550121\"},"
                            "\"to\":{\"tn\":\"12155550131\"},\"time\":1443208345}",
                            &o);
    json_t *j = load(out);
    json_t *vr = json_object_get(j, "verificationResponse");
    assert_null(json_object_get(vr, "verstatValue"));
    assert_int_equal(json_array_size(json_object_get(vr, "verifyResults")), 1);
    assert_memory_equal(out, "{\"verificationResponse\":{\"verifyResults\":[", 42);
    json_decref(j);
    free(out);
    stir_verify_outcome_clear(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mandatory),
        cmocka_unit_test(test_unwrap),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_parse_sign),
        cmocka_unit_test(test_parse_verify),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_sign_response),
        cmocka_unit_test(test_verify_response_splice),
        cmocka_unit_test(test_verify_response_no_verstat),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
