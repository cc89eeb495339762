/*
 * json.c: the fast reader and the canonical writer, against jansson, the
 * library whose answers they must give (json_loadb with
 * JSON_REJECT_DUPLICATES; json_dumps with JSON_COMPACT | JSON_SORT_KEYS).
 * fuzz_json checks the same properties on generated input.
 */
#include "test_util.h"
#include "internal.h"
#include "stir/stir.h"

/* stir_json_load gives json_loadb's answer; returns whether the fast
 * reader took the text itself. */
static int loads_as_jansson(const char *text)
{
    size_t n = strlen(text);
    json_error_t e1, e2;
    json_t *ours = stir_json_load(text, n, &e1);
    json_t *theirs = json_loadb(text, n, JSON_REJECT_DUPLICATES, &e2);
    json_t *fast = sti_json_load_fast(text, n);
    assert_int_equal(!ours, !theirs);
    if (theirs) {
        assert_true(json_equal(ours, theirs));
    } else {
        assert_string_equal(e1.text, e2.text); /* the error is jansson's */
        assert_int_equal(e1.line, e2.line);
        assert_int_equal(e1.column, e2.column);
    }
    if (fast)
        assert_true(theirs && json_equal(fast, theirs));
    int took = fast != NULL;
    json_decref(ours);
    json_decref(theirs);
    json_decref(fast);
    return took;
}

static void test_fast_reader_takes_ms_documents(void **state)
{
    (void)state;
    /* What bench/run.sh sends, and the TV-1 PASSporT parts (RFC 8225 App. A). */
    assert_true(
        loads_as_jansson("{\"signingRequest\":{\"attest\":\"A\",\"orig\":{\"tn\":\"12155551212\"},"
                         "\"dest\":{\"tn\":[\"12155551213\"]},\"iat\":1796440263,"
                         "\"origid\":\"05ce8233-a792-4724-a45e-02232a823903\"}}"));
    assert_true(loads_as_jansson(
        "{\"verificationRequest\":{\"identityHeader\":\"eyJhbGciOiJFUzI1NiJ9.e30.c2ln;"
        "info=<https://127.0.0.1:59083/cert/chain.pem>;alg=ES256;ppt=shaken\","
        "\"from\":{\"tn\":\"12155551212\"},\"to\":{\"tn\":[\"12155551213\"]},\"time\":1796440263}"
        "}"));
    assert_true(loads_as_jansson("{\"alg\":\"ES256\",\"typ\":\"passport\","
                                 "\"x5u\":\"https://cert.example.org/passport.cer\"}"));
    assert_true(loads_as_jansson("{\"dest\":{\"uri\":[\"sip:alice@example.com\"]},"
                                 "\"iat\":1471375418,\"orig\":{\"tn\":\"12155551212\"}}"));
    /* Whitespace, short escapes, raw UTF-8, literals, empty containers,
     * negative and 18-digit integers. */
    assert_true(loads_as_jansson(" {\"a\" :\t[ true ,false,null ] ,\r\n\"b\":\"\\\"\\\\\\/\\b\\f"
                                 "\\n\\r\\t\",\"c\xc3\xa9\":\"\xe2\x82\xac\xf0\x9f\x98\x80\","
                                 "\"d\":{},\"e\":[],\"f\":-0,\"g\":-123456789012345678} "));
}

static void test_hard_cases_are_janssons(void **state)
{
    (void)state;
    static const char *const declined[] = {
        "{\"a\":\"\\u00e9\"}",          /* \u escape */
        "{\"a\":\"\\ud800\"}",          /* lone surrogate */
        "{\"a\":\"\\u0000\"}",          /* NUL */
        "{\"a\":1.5}",                  /* real */
        "{\"a\":1e3}",                  /* real */
        "{\"a\":1234567890123456789}",  /* 19 digits */
        "{\"a\":99999999999999999999}", /* too big */
        "{\"a\":01}",                   /* leading zero */
        "{\"a\":-}",                    /* no digit */
        "{\"a\":1,\"a\":2}",            /* duplicate key */
        "{\"a\":1,}",                   /* trailing comma */
        "[1,]",                         /* trailing comma */
        "{\"a\":1} x",                  /* trailing garbage */
        "{\"a\":tru}",                  /* bad literal */
        "{\"a\":\"x\x01\"}",            /* raw control character */
        "{\"a\":\"\xc0\xaf\"}",         /* overlong UTF-8 */
        "{\"a\":\"\xed\xa0\x80\"}",     /* surrogate in UTF-8 */
        "{\"a\":\"unterminated}",       /* no closing quote */
        "{\"a\":\"\\",                  /* ends in a backslash */
        "{\"a\":\"\\x\"}",              /* unknown escape */
        "\xef\xbb\xbf{}",               /* byte order mark */
        "\"top-level string\"",         /* not an object or array */
        "",                             /* empty */
        "{\"a\" 1}",                    /* no colon */
        "{1:2}",                        /* key not a string */
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        assert_false(loads_as_jansson(declined[i]));
    /* Deeper than the fast reader goes: still read, by jansson. */
    char deep[200];
    memset(deep, '[', 50);
    memset(deep + 50, ']', 50);
    deep[100] = '\0';
    assert_false(loads_as_jansson(deep));
    /* A duplicate is refused with jansson's words. */
    json_error_t e;
    assert_null(stir_json_load("{\"a\":1,\"a\":2}", 13, &e));
    assert_non_null(strstr(e.text, "duplicate object key"));
}

static void canonical_as_jansson(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    size_t n = 0;
    char *ours = stir_json_canonical(v, &n);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(ours);
    assert_string_equal(ours, theirs);
    assert_int_equal(n, strlen(theirs));
    free(ours);
    free(theirs);
    json_decref(v);
}

static void test_canonical_is_janssons(void **state)
{
    (void)state;
    canonical_as_jansson(
        "{\"z\":1,\"a\":{\"y\":[3,2,1],\"b\":null},\"m\":[true,false,{}],"
        "\"\xc3\xa9\":\"\xe2\x82\xac\",\"e\":\"\\u0001\\u001f\\u007f\\n\\\"\\\\/\"}");
    canonical_as_jansson("{\"n\":-9223372036854775808,\"p\":9223372036854775807,\"o\":0}");
    canonical_as_jansson("{\"r\":1.5,\"s\":[0.1,1e300]}"); /* reals: json_dumps writes them */
    canonical_as_jansson("\"just a string\"");
    canonical_as_jansson("[]");
    /* 40 keys: more than the writer sorts on its stack. */
    char big[1024];
    size_t o = 0;
    big[o++] = '{';
    for (int i = 39; i >= 0; i--)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s\"k%02d\":%d", i < 39 ? "," : "", i, i);
    big[o++] = '}';
    big[o] = '\0';
    canonical_as_jansson(big);
    /* An independent expectation (Python: json.dumps(v, sort_keys=True,
     * separators=(",", ":"), ensure_ascii=False)), for text without
     * control characters (Python writes \u00XX in lower case). */
    json_t *v =
        json_loads("{\"b\":[\"x/y\",\"\xc3\xa9\"],\"a\":{\"d\":-1,\"c\":\"q\\\"\"}}", 0, NULL);
    char *s = stir_json_canonical(v, NULL);
    assert_string_equal(s, "{\"a\":{\"c\":\"q\\\"\",\"d\":-1},\"b\":[\"x/y\",\"\xc3\xa9\"]}");
    free(s);
    json_decref(v);
}

int main(void)
{
    stir_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_reader_takes_ms_documents),
        cmocka_unit_test(test_hard_cases_are_janssons),
        cmocka_unit_test(test_canonical_is_janssons),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stir_cleanup();
    return rc;
}
