/*
 * Rich Call Data (RFC 9795): claim checks, JSON pointers, rcdi digests for
 * signing and their verification, against tests/tools/certserver.py (a
 * stdlib HTTPS server on 127.0.0.1, TLS certificate from mkpki.sh) serving
 * files written here.
 *
 * Expected digests are independent of libstir: the RFC 9795 / seed values
 * of test-vectors.md (TV-7, TV-12 V5, TV-17), and for served content the
 * output of `openssl dgst -<alg> -binary FILE | base64`.
 */
#include <pthread.h>

#include "test_util.h"
#include "stir/encoding.h"
#include "stir/rcd.h"

static certserver g_cs;

/* RFC 9795 6.1.3 Q Branch jCard, RFC 8225 9 serialization (TV-7 row 1). */
#define QBRANCH_JCD                                                                    \
    "[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],[\"fn\",{},\"text\",\"Q Branch\"]," \
    "[\"org\",{},\"text\",\"MI6;Q Branch Spy Gadgets\"],[\"photo\",{},\"uri\","        \
    "\"https://example.com/photos/quartermaster-256x256.png\"],[\"logo\",{},\"uri\","  \
    "\"https://example.com/logos/mi6-256x256.jpg\"],[\"logo\",{},\"uri\","             \
    "\"https://example.com/logos/mi6-64x64.jpg\"]]]"
/* RFC 9795 8.3 / seed 002 jCard (photo q-256x256.png), TV-7 row 3. */
#define QBRANCH_JCL                                                                    \
    "[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],[\"fn\",{},\"text\",\"Q Branch\"]," \
    "[\"org\",{},\"text\",\"MI6;Q Branch Spy Gadgets\"],[\"photo\",{},\"uri\","        \
    "\"https://example.com/photos/q-256x256.png\"],[\"logo\",{},\"uri\","              \
    "\"https://example.com/logos/mi6-256x256.jpg\"],[\"logo\",{},\"uri\","             \
    "\"https://example.com/logos/mi6-64x64.jpg\"]]]"
/* Seed 002 6.3.1 "SA2 WG" jCard (TV-17). */
#define SA2_JCARD                                                                    \
    "[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],[\"fn\",{},\"text\",\"SA2 WG\"]," \
    "[\"org\",{},\"text\",\"3GPP;SA2 WG delegate\"],[\"photo\",{},\"uri\","          \
    "\"https://example.com/photos/sa2-256x256.png\"],[\"logo\",{},\"uri\","          \
    "\"https://example.com/logos/3gpp-256x256.jpg\"],[\"logo\",{},\"uri\","          \
    "\"https://example.com/logos/3gpp-64x64.jpg\"]]]"

/* ---- fixture ------------------------------------------------------------------- */

static void put_file(const char *name, const void *data, size_t len)
{
    certserver_put(&g_cs, name, data, len);
}

static void put_text(const char *name, const char *text)
{
    put_file(name, text, strlen(text));
}

/* Stand-in image bytes: a PNG signature and a pattern (incl. NUL bytes). */
static void put_image(const char *name, unsigned seed, size_t len)
{
    unsigned char *b = malloc(len);
    assert_non_null(b);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    for (size_t i = 0; i < len; i++)
        b[i] = i < 8 ? sig[i] : (unsigned char)((i * 131u + seed * 7u) >> 1);
    put_file(name, b, len);
    free(b);
}

/* "<alg>-<base64>" of a served file, by the openssl and base64 CLIs. */
static void cli_digest(const char *alg, const char *name, char out[100])
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "openssl dgst -%s -binary '%s/%s' | base64 -w0", alg, g_cs.dir, name);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char b[100];
    size_t n = fread(b, 1, sizeof b - 1, p);
    b[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_true(n > 40);
    snprintf(out, 100, "%.6s-%.88s", alg, b);
}

static stir_ctx *g_ctx;

static int setup(void **state)
{
    (void)state;
    return repo_start(&g_cs, "rcd", &g_ctx, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return repo_stop(&g_cs, g_ctx, NULL);
}

static void test_cfg(stir_rcd_config *cfg)
{
    stir_rcd_config_default(cfg);
    certserver_policy(&g_cs, &cfg->fetch);
}

static stir_rcd *new_rcd_cfg(const stir_rcd_config *cfg)
{
    stir_error err;
    stir_rcd *r = stir_rcd_new(g_ctx, cfg, &err);
    if (!r)
        fail_msg("stir_rcd_new: %s", err.detail);
    return r;
}

static stir_rcd *new_rcd(void)
{
    stir_rcd_config cfg;
    test_cfg(&cfg);
    return new_rcd_cfg(&cfg);
}

static json_t *jfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *jfmt(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    json_error_t je;
    json_t *j = json_loads(buf, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        fail_msg("bad test JSON (%s): %s", je.text, buf);
    return j;
}

/* A compact jCard text with the given photo and logo URLs. */
static void card_text(char *out, size_t n, const char *fn, const char *photo, const char *logo)
{
    snprintf(out, n,
             "[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],[\"fn\",{},\"text\",\"%s\"],"
             "[\"org\",{},\"text\",\"MI6;Q Branch Spy Gadgets\"],"
             "[\"photo\",{},\"uri\",\"%s\"],[\"logo\",{},\"uri\",\"%s\"]]]",
             fn, photo, logo);
}

static void assert_detail(const stir_error *err, const char *needle)
{
    if (!strstr(err->detail, needle))
        fail_msg("detail \"%s\" lacks \"%s\"", err->detail, needle);
}

static const char *rstr(const json_t *res, const char *k)
{
    return json_string_value(json_object_get(res, k));
}

static int failed_has(const json_t *res, const char *ptr)
{
    const json_t *f = json_object_get(res, "failed");
    for (size_t i = 0; i < json_array_size(f); i++)
        if (strcmp(json_string_value(json_array_get(f, i)), ptr) == 0)
            return 1;
    return 0;
}

static void expect_pass(const json_t *res)
{
    assert_non_null(res);
    if (strcmp(rstr(res, "status"), "pass") != 0) {
        char *s = json_dumps(res, 0);
        fail_msg("expected pass: %s", s);
    }
    assert_non_null(json_object_get(res, "display"));
}

/* A fail result whose description has `needle` and whose failed list has
 * `ptr` (when not NULL). */
static void expect_fail(const json_t *res, const char *needle, const char *ptr)
{
    assert_non_null(res);
    char *s = json_dumps(res, 0);
    if (strcmp(rstr(res, "status"), "fail") != 0)
        fail_msg("expected fail: %s", s);
    assert_int_equal(json_integer_value(json_object_get(res, "reasonCode")), 438);
    assert_string_equal(rstr(res, "reasonText"), "Invalid PASSporT");
    assert_null(json_object_get(res, "display"));
    if (!strstr(rstr(res, "reasonDescription"), needle))
        fail_msg("description lacks \"%s\": %s", needle, s);
    if (ptr && !failed_has(res, ptr))
        fail_msg("failed lacks %s: %s", ptr, s);
    free(s);
}

static json_t *verify(stir_rcd *r, const json_t *claims, int flags)
{
    stir_error err;
    memset(&err, 0xff, sizeof err);
    json_t *res = stir_rcd_verify(r, claims, flags, &err);
    if (!res && err.code != 0 && err.code != STIR_WOULD_BLOCK)
        fail_msg("stir_rcd_verify: %d %s", err.code, err.detail);
    if (res)
        assert_int_equal(err.code, 0);
    return res;
}

static json_t *compute_ok(stir_rcd *r, const json_t *rcd, const json_t *given)
{
    stir_error err;
    json_t *out = (json_t *)1;
    int rc = stir_rcdi_compute(r, rcd, given, 0, &out, &err);
    if (rc)
        fail_msg("stir_rcdi_compute: %d %s: %s", rc, err.field, err.detail);
    return out;
}

static void compute_fail(stir_rcd *r, const json_t *rcd, const json_t *given, int code,
                         const char *field, const char *needle)
{
    stir_error err;
    memset(&err, 0, sizeof err);
    json_t *out = NULL;
    int rc = stir_rcdi_compute(r, rcd, given, 0, &out, &err);
    if (rc != code)
        fail_msg("compute: rc %d (%s: %s), expected %d \"%s\"", rc, err.field, err.detail, code,
                 needle);
    assert_null(out);
    assert_int_equal(err.code, code);
    assert_string_equal(err.field, field);
    assert_detail(&err, needle);
}

/* claims {"rcd": rcd, "rcdi": rcdi} (references stolen; rcdi may be NULL). */
static json_t *claims_of(json_t *rcd, json_t *rcdi)
{
    json_t *c = json_pack("{s:s}", "iss", "test");
    json_object_del(c, "iss");
    if (rcd)
        json_object_set_new(c, "rcd", rcd);
    if (rcdi)
        json_object_set_new(c, "rcdi", rcdi);
    return c;
}

/* ---- digests and pointers ---------------------------------------------------------- */

static void digest_is(const char *alg, const char *input, const char *want)
{
    char out[100];
    assert_int_equal(stir_rcd_digest(alg, input, strlen(input), out), 0);
    assert_string_equal(out, want);
}

static void test_digest_vectors(void **state)
{
    (void)state;
    /* TV-7 (RFC 9795 6.1.3 /jcd; the RFC prints it without '=') */
    digest_is("sha256", QBRANCH_JCD, "sha256-7kdCBZqH0nqMSPsmABvsKlHPhZEStgjojhdSJGRr3rk=");
    digest_is("sha384", QBRANCH_JCD,
              "sha384-7d28CUh+JO8sX5o65YXg6jlVlUAqnHoeUpsZ3XOF+MLPu0dTMhG3LXzWZlJKxsro");
    digest_is("sha512", QBRANCH_JCD,
              "sha512-0aMHNqpjiBGJsmTNH62lrXPNhH2RERFINwN9Wacraky8hMQhhXk4+npnr1DT0JDbX64r1b8A"
              "F0QU30ke8vlaaQ==");
    digest_is("sha256", "\"Q Branch Spy Gadgets\"",
              "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY=");
    digest_is("sha256", QBRANCH_JCL, "sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs=");
    /* TV-17 */
    digest_is("sha256", SA2_JCARD, "sha256-VDEnKZlx3NtzGBRJl7S8OOyXv81i3/NZxDE1U00+g+c=");
    char out[100];
    assert_int_equal(stir_rcd_digest("md5", "x", 1, out), -1);
    assert_int_equal(stir_rcd_digest("SHA256", "x", 1, out), -1);
    assert_int_equal(stir_rcd_digest(NULL, "x", 1, out), -1);

    /* the digest input of a parsed, pretty-printed jCard is its RFC 8225 9 form */
    json_error_t je;
    json_t *j = json_loads("[\"vcard\",\n  [\n    [\"version\", {}, \"text\", \"4.0\"],\n"
                           "    [\"fn\", {}, \"text\", \"Q Branch\"],\n"
                           "    [\"org\", {}, \"text\", \"MI6;Q Branch Spy Gadgets\"],\n"
                           "    [\"photo\", {}, \"uri\", "
                           "\"https://example.com/photos/quartermaster-256x256.png\"],\n"
                           "    [\"logo\", {}, \"uri\", "
                           "\"https://example.com/logos/mi6-256x256.jpg\"],\n"
                           "    [\"logo\", {}, \"uri\", "
                           "\"https://example.com/logos/mi6-64x64.jpg\"]\n  ]\n]\n",
                           0, &je);
    assert_non_null(j);
    size_t n;
    char *s = stir_json_canonical(j, &n);
    assert_string_equal(s, QBRANCH_JCD);
    free(s);
    json_decref(j);
}

static void test_json_pointer(void **state)
{
    (void)state;
    /* RFC 6901 5 */
    json_error_t je;
    json_t *doc = json_loads("{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,"
                             "\"g|h\":4,\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8}",
                             0, &je);
    assert_non_null(doc);
    assert_ptr_equal(stir_json_pointer(doc, ""), doc);
    assert_ptr_equal(stir_json_pointer(doc, "/foo"), json_object_get(doc, "foo"));
    assert_string_equal(json_string_value(stir_json_pointer(doc, "/foo/0")), "bar");
    static const struct {
        const char *p;
        int v;
    } ints[] = {
        {"/", 0},     {"/a~1b", 1}, {"/c%d", 2}, {"/e^f", 3},  {"/g|h", 4},
        {"/i\\j", 5}, {"/k\"l", 6}, {"/ ", 7},   {"/m~0n", 8},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const json_t *v = stir_json_pointer(doc, ints[i].p);
        if (!v || json_integer_value(v) != ints[i].v)
            fail_msg("%s: expected %d", ints[i].p, ints[i].v);
    }
    static const char *const bad[] = {"foo",   "/foo/2", "/foo/01", "/foo/-",   "/foo/+1",
                                      "/m~2n", "/m~",    "/nope",   "/foo/0/x", "/a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (stir_json_pointer(doc, bad[i]))
            fail_msg("%s resolved", bad[i]);
    json_decref(doc);

    json_t *rcd = jfmt("{\"nam\":\"Q\",\"jcd\":%s}", QBRANCH_JCD);
    assert_string_equal(json_string_value(stir_json_pointer(rcd, "/jcd/1/3/3")),
                        "https://example.com/photos/quartermaster-256x256.png");
    assert_string_equal(json_string_value(stir_json_pointer(rcd, "/jcd/1/1/0")), "fn");
    json_decref(rcd);
}

/* ---- claim checks -------------------------------------------------------------------- */

static void check_bad(const char *json, int code, const char *field, const char *needle)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("bad test JSON %s", json);
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_rcd_check(v, "rcd", code, &err);
    if (rc != code)
        fail_msg("%s: rc %d, expected %d", json, rc, code);
    if (strcmp(err.field, field) != 0)
        fail_msg("%s: field %s, expected %s (%s)", json, err.field, field, err.detail);
    assert_detail(&err, needle);
    assert_string_equal(err.text, code == 438 ? "Invalid PASSporT" : "Bad Request");
    json_decref(v);
}

static void check_good(const char *json)
{
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    if (!v)
        fail_msg("bad test JSON %s", json);
    stir_error err;
    if (stir_rcd_check(v, "rcd", 400, &err))
        fail_msg("%s refused: %s: %s", json, err.field, err.detail);
    json_decref(v);
}

static void test_rcd_check(void **state)
{
    (void)state;
    /* RFC 9795 examples (TV-7 list) */
    check_good("{\"nam\":\"James Bond\"}");
    check_good("{\"nam\":\"\"}");
    check_good("{\"apn\":\"12025559990\",\"icn\":\"https://example.com/photos/"
               "quartermaster-256x256.png\",\"nam\":\"Her Majesty's Secret Service\"}");
    check_good("{\"apn\":\"12025559990\",\"icn\":\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg"
               "AAAAUAAAAFCAYAAACNbyblAAAAHElEQVQI12P4//8/w38GIAXDIBKE0DHxgljNBAAO9TXL0Y4OHwAAAAB"
               "JRU5ErkJggg==\",\"nam\":\"Her Majesty's Secret Service\"}");
    check_good("{\"nam\":\"Q Branch Spy Gadgets\",\"jcd\":" QBRANCH_JCD "}");
    check_good("{\"nam\":\"Q Branch Spy Gadgets\",\"jcl\":\"https://example.com/qbranch.json\"}");
    check_good("{\"nam\":\"Q\",\"jcd\":[\"vcard\",[[\"adr\",{\"type\":\"work\"},\"text\","
               "[\"\",\"\",\"85 Albert Embankment\",\"London\",\"\",\"SE1 7TP\",[\"UK\"]]]]]}");

    check_bad("{\"nam\":\"Q\",\"jcd\":" QBRANCH_JCD ",\"jcl\":\"https://example.com/q.json\"}", 400,
              "rcd.jcl", "mutually exclusive");
    check_bad("{\"apn\":\"12025559990\"}", 400, "rcd.nam", "missing rcd.nam");
    check_bad("{\"apn\":\"12025559990\"}", 438, "rcd.nam", "RFC 9795 5.1.1");
    check_bad("{\"nam\":42}", 438, "rcd.nam", "must be a string");
    check_bad("{\"nam\":\"a\\r\\nVia: x\"}", 400, "rcd.nam", "control character");
    check_bad("{\"nam\":\"Q\",\"apn\":\"call-me\"}", 400, "rcd.apn", "not a telephone number");
    check_bad("{\"nam\":\"Q\",\"apn\":\"+1 202 555 9990\"}", 438, "rcd.apn", "not canonical");
    check_bad("{\"nam\":\"Q\",\"apn\":12025559990}", 400, "rcd.apn", "must be a string");
    check_bad("{\"nam\":\"Q\",\"icn\":\"http://example.com/q.png\"}", 400, "rcd.icn", "https");
    check_bad("{\"nam\":\"Q\",\"icn\":\"ftp://example.com/q.png\"}", 438, "rcd.icn", "not ftp:");
    check_bad("{\"nam\":\"Q\",\"icn\":\"https:///q.png\"}", 400, "rcd.icn", "no host");
    check_bad("{\"nam\":\"Q\",\"icn\":\"https://example.com/a b.png\"}", 400, "rcd.icn", "space");
    check_bad("{\"nam\":\"Q\",\"icn\":\"data:image/png;base64\"}", 400, "rcd.icn", "','");
    check_bad("{\"nam\":\"Q\",\"icn\":\"data:image/png;base64,a*b\"}", 400, "rcd.icn", "base64");
    check_bad("{\"nam\":\"Q\",\"foo\":1}", 400, "rcd.foo", "unknown key \"foo\"");
    check_bad("{\"nam\":\"Q\",\"jcl\":\"data:application/json,[]\"}", 400, "rcd.jcl", "https");
    check_bad("{\"nam\":\"Q\",\"jcd\":{\"fn\":\"Q\"}}", 400, "rcd.jcd", "not a jCard");
    check_bad("{\"nam\":\"Q\",\"jcd\":[\"vcard\"]}", 400, "rcd.jcd", "not a jCard");
    check_bad("{\"nam\":\"Q\",\"jcd\":[\"vCardX\",[]]}", 400, "rcd.jcd", "\"vcard\"");
    check_bad("{\"nam\":\"Q\",\"jcd\":[\"vcard\",[[\"fn\",{},\"text\"]]]}", 400, "rcd.jcd",
              "property 0");
    check_bad("{\"nam\":\"Q\",\"jcd\":[\"vcard\",[[\"fn\",[],\"text\",\"Q\"]]]}", 400, "rcd.jcd",
              "parameters");
    check_bad("{\"nam\":\"Q\",\"jcd\":[\"vcard\",[[\"fn\",{},\"text\",{\"a\":1}]]]}", 400,
              "rcd.jcd", "object");
    check_bad("[\"nam\"]", 438, "rcd", "JSON object");

    /* nam at most 256 bytes */
    char big[20000];
    int o = snprintf(big, sizeof big, "{\"nam\":\"");
    memset(big + o, 'x', 257);
    snprintf(big + o + 257, sizeof big - (size_t)o - 257, "\"}");
    check_bad(big, 400, "rcd.nam", "at most 256");

    /* jcd serialized at most 16384 bytes */
    o = snprintf(big, sizeof big, "{\"nam\":\"Q\",\"jcd\":[\"vcard\",[[\"note\",{},\"text\",\"");
    memset(big + o, 'n', 16400);
    snprintf(big + o + 16400, sizeof big - (size_t)o - 16400, "\"]]]}");
    check_bad(big, 400, "rcd.jcd", "more than 16384 bytes");

    /* URLs at most 2048 bytes */
    o = snprintf(big, sizeof big, "{\"nam\":\"Q\",\"icn\":\"https://example.com/");
    memset(big + o, 'a', 2040);
    snprintf(big + o + 2040, sizeof big - (size_t)o - 2040, "\"}");
    check_bad(big, 400, "rcd.icn", "at most 2048");
}

static void test_rcd_build(void **state)
{
    (void)state;
    stir_error err;
    json_t *req = json_pack("{s:s, s:s}", "nam", "Q", "apn", "+1 (202) 555-9990");
    json_t *c = stir_rcd_build(req, "rcd", &err);
    assert_non_null(c);
    assert_string_equal(rstr(c, "apn"), "12025559990");
    assert_string_equal(rstr(req, "apn"), "+1 (202) 555-9990"); /* a copy */
    json_decref(c);
    json_decref(req);

    req = json_pack("{s:s, s:s}", "nam", "Q", "apn", "Q-Branch");
    assert_null(stir_rcd_build(req, "rcd", &err));
    assert_int_equal(err.code, 400);
    assert_string_equal(err.field, "rcd.apn");
    json_decref(req);

    req = json_pack("{s:s}", "icn", "https://example.com/q.png");
    assert_null(stir_rcd_build(req, "rcd", &err));
    assert_string_equal(err.field, "rcd.nam");
    assert_int_equal(err.missing, 1);
    json_decref(req);

    req = json_string("Q");
    assert_null(stir_rcd_build(req, "rcd", &err));
    assert_string_equal(err.field, "rcd");
    json_decref(req);
}

static void rcdi_bad(const char *json, const char *needle)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
    assert_non_null(v);
    stir_error err;
    memset(&err, 0, sizeof err);
    if (stir_rcdi_check(v, "rcdi", 438, &err) != 438)
        fail_msg("%s accepted", json);
    assert_string_equal(err.field, "rcdi");
    assert_string_equal(err.text, "Invalid PASSporT");
    assert_detail(&err, needle);
    json_decref(v);
}

static void test_rcdi_crn_check(void **state)
{
    (void)state;
    stir_error err;
    /* TV-12 V5 and the seed's rcdi (unpadded, as the RFC prints them) */
    json_t *v = jfmt("{\"/jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\","
                     "\"/jcl/1/3/3\":\"sha256-RojgWwU6xUtI4q82+kHPyHm1JKbm7+663bMvzymhkl4\","
                     "\"/nam\":\"sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY=\","
                     "\"/jcd\":\"sha384-7d28CUh+JO8sX5o65YXg6jlVlUAqnHoeUpsZ3XOF+MLPu0dTMhG3LX"
                     "zWZlJKxsro\",\"/icn\":\"sha512-0aMHNqpjiBGJsmTNH62lrXPNhH2RERFINwN9Wacra"
                     "ky8hMQhhXk4+npnr1DT0JDbX64r1b8AF0QU30ke8vlaaQ\"}");
    if (stir_rcdi_check(v, "rcdi", 438, &err))
        fail_msg("refused: %s", err.detail);
    json_decref(v);

    rcdi_bad("[]", "JSON object");
    rcdi_bad("{}", "no digests");
    rcdi_bad("{\"jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}", "'/'");
    rcdi_bad("{\"/foo\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}",
             "does not point into the rcd claim");
    rcdi_bad("{\"/nam/0\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}", "string");
    rcdi_bad("{\"/jcd/~2\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}", "'~'");
    rcdi_bad("{\"/jcl\":\"md5-qCn4pEH6BJu7zXndLFuAP6Dw\"}", "unsupported digest algorithm");
    rcdi_bad("{\"/jcl\":\"SHA256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}",
             "unsupported digest algorithm");
    rcdi_bad("{\"/jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnC\"}", "32-byte");
    rcdi_bad("{\"/jcl\":\"sha384-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}", "48-byte");
    rcdi_bad("{\"/jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwn_s\"}", "base64");
    rcdi_bad("{\"/jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs==\"}", "base64");
    rcdi_bad("{\"/jcl\":42}", "must be a string");

    json_t *crn = json_string("Rendezvous for Little Nellie");
    assert_int_equal(stir_crn_check(crn, "crn", 400, &err), 0);
    json_decref(crn);
    crn = json_integer(1);
    assert_int_equal(stir_crn_check(crn, "crn", 438, &err), 438);
    assert_string_equal(err.field, "crn");
    json_decref(crn);
    char big[300];
    memset(big, 'r', 257);
    big[257] = '\0';
    crn = json_string(big);
    assert_int_equal(stir_crn_check(crn, "crn", 400, &err), 400);
    assert_detail(&err, "at most 256");
    json_decref(crn);
    crn = json_string("line\nbreak");
    assert_int_equal(stir_crn_check(crn, "crn", 400, &err), 400);
    assert_detail(&err, "control");
    json_decref(crn);
}

/* ---- signing: stir_rcdi_compute -------------------------------------------------------- */

static void test_compute_mode1_and_inline(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    /* mode 1: nothing linked, no jCard -> no rcdi; a data: icon is inline */
    json_t *rcd =
        json_pack("{s:s, s:s}", "nam", "James Bond", "icn", "data:image/png;base64,iVBORw0KGgo=");
    json_t *out = compute_ok(r, rcd, NULL);
    assert_null(out);
    json_decref(rcd);

    /* inline jCard without URIs: only /jcd, over the compact text */
    const char *text = "[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],"
                       "[\"fn\",{},\"text\",\"Q Branch\"],"
                       "[\"tel\",{\"type\":[\"work\",\"voice\"]},\"uri\",\"tel:+1-202-555-1000\"],"
                       "[\"org\",{},\"text\",[\"MI6\",\"Q Branch\"]]]]";
    put_text("nouri.json", text);
    char want[100];
    cli_digest("sha256", "nouri.json", want);
    rcd = jfmt("{\"nam\":\"Q\",\"jcd\":%s}", text);
    out = compute_ok(r, rcd, NULL);
    assert_non_null(out);
    assert_int_equal(json_object_size(out), 1); /* tel: is not content to fetch */
    assert_string_equal(rstr(out, "/jcd"), want);
    json_decref(out);

    /* the same with sha512 as the configured algorithm */
    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.digest_alg = "sha512";
    stir_rcd *r512 = new_rcd_cfg(&cfg);
    cli_digest("sha512", "nouri.json", want);
    out = compute_ok(r512, rcd, NULL);
    assert_string_equal(rstr(out, "/jcd"), want);
    json_decref(out);
    stir_rcd_free(r512);

    /* no fetcher at all: inline content is still fine */
    out = compute_ok(NULL, rcd, NULL);
    cli_digest("sha256", "nouri.json", want);
    assert_string_equal(rstr(out, "/jcd"), want);
    json_decref(out);
    json_decref(rcd);
    stir_rcd_free(r);
}

static void test_compute_jcd_uris(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("photo1.png", 1, 3000);
    put_image("logo1.jpg", 2, 5000);
    char photo[256], logo[256], text[2048];
    certserver_url(&g_cs, photo, sizeof photo, "/files/photo1.png");
    certserver_url(&g_cs, logo, sizeof logo, "/files/logo1.jpg");
    card_text(text, sizeof text, "Q Branch", photo, logo);
    put_text("card1.json", text);
    char w_jcd[100], w_photo[100], w_logo[100];
    cli_digest("sha256", "card1.json", w_jcd);
    cli_digest("sha256", "photo1.png", w_photo);
    cli_digest("sha256", "logo1.jpg", w_logo);

    json_t *rcd = jfmt("{\"nam\":\"Q Branch Spy Gadgets\",\"jcd\":%s}", text);
    json_t *out = compute_ok(r, rcd, NULL);
    assert_int_equal(json_object_size(out), 3);
    assert_string_equal(rstr(out, "/jcd"), w_jcd);
    assert_string_equal(rstr(out, "/jcd/1/3/3"), w_photo);
    assert_string_equal(rstr(out, "/jcd/1/4/3"), w_logo);
    json_decref(out);
    json_decref(rcd);

    /* without a fetcher, linked content cannot be signed */
    rcd = jfmt("{\"nam\":\"Q\",\"jcd\":%s}", text);
    compute_fail(NULL, rcd, NULL, 400, "rcd.jcd", "no rcd fetcher configured");
    json_decref(rcd);
    stir_rcd_free(r);
}

static void test_compute_icn(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("icon1.png", 3, 4096);
    char icn[256], want[100], want384[100];
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon1.png");
    cli_digest("sha256", "icon1.png", want);
    cli_digest("sha384", "icon1.png", want384);
    json_t *rcd = json_pack("{s:s, s:s, s:s}", "nam", "Her Majesty's Secret Service", "apn",
                            "12025559990", "icn", icn);
    json_t *out = compute_ok(r, rcd, NULL);
    assert_int_equal(json_object_size(out), 1);
    assert_string_equal(rstr(out, "/icn"), want);
    json_decref(out);

    /* a given rcdi is checked and kept: unpadded, other algorithm, /nam */
    json_t *given = json_pack("{s:s, s:s}", "/icn", want384, "/apn",
                              "sha256-0000000000000000000000000000000000000000000");
    compute_fail(r, rcd, given, 400, "rcdi", "/apn");
    json_object_del(given, "/apn");
    out = compute_ok(r, rcd, given);
    assert_string_equal(rstr(out, "/icn"), want384);
    json_decref(out);
    json_decref(given);

    char unpadded[100];
    snprintf(unpadded, sizeof unpadded, "%s", want);
    unpadded[strcspn(unpadded, "=")] = '\0';
    given = json_pack("{s:s}", "/icn", unpadded);
    out = compute_ok(r, rcd, given);
    assert_string_equal(rstr(out, "/icn"), unpadded);
    json_decref(out);
    json_decref(given);
    json_decref(rcd);

    /* /nam from TV-7 (RFC 9795 8.3, printed without padding) */
    rcd = json_pack("{s:s}", "nam", "Q Branch Spy Gadgets");
    given = json_pack("{s:s}", "/nam", "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    out = compute_ok(r, rcd, given);
    assert_string_equal(rstr(out, "/nam"), "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    json_decref(out);
    json_decref(given);
    json_decref(rcd);
    rcd = json_pack("{s:s}", "nam", "Q Branch Spy Gadget");
    given = json_pack("{s:s}", "/nam", "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    compute_fail(r, rcd, given, 400, "rcdi", "rcdi /nam: the given digest");
    json_decref(given);
    json_decref(rcd);
    stir_rcd_free(r);
}

static void test_compute_given_mismatch(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("icon2.png", 4, 2000);
    put_image("other2.png", 5, 2000);
    char icn[256], wrong[100];
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon2.png");
    cli_digest("sha256", "other2.png", wrong);
    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    json_t *given = json_pack("{s:s}", "/icn", wrong);
    compute_fail(r, rcd, given, 400, "rcdi", "rcdi /icn: the given digest");
    json_decref(given);
    given = jfmt("{\"/jcd/1/9/3\":\"%s\"}", wrong);
    compute_fail(r, rcd, given, 400, "rcdi", "/jcd/1/9/3 does not resolve");
    json_decref(given);
    given = jfmt("{\"/jcl\":\"%s\"}", wrong);
    compute_fail(r, rcd, given, 400, "rcdi", "/jcl does not resolve");
    json_decref(given);
    given = json_pack("{s:s}", "/icn", "sha256-bad");
    compute_fail(r, rcd, given, 400, "rcdi", "32-byte");
    json_decref(given);
    json_decref(rcd);

    /* claim errors come first, with the member named */
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", "http://127.0.0.1/x.png");
    compute_fail(r, rcd, NULL, 400, "rcd.icn", "https");
    json_decref(rcd);
    stir_rcd_free(r);
}

static void test_compute_jcl(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("photo3.png", 6, 1500);
    put_image("logo3.jpg", 7, 2500);
    char photo[256], logo[256], text[2048], jcl[256];
    certserver_url(&g_cs, photo, sizeof photo, "/files/photo3.png");
    certserver_url(&g_cs, logo, sizeof logo, "/files/logo3.jpg");
    card_text(text, sizeof text, "Q Branch", photo, logo);
    put_text("card3.json", text);
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/card3.json");
    char w_jcl[100], w_photo[100], w_logo[100];
    cli_digest("sha256", "card3.json", w_jcl);
    cli_digest("sha256", "photo3.png", w_photo);
    cli_digest("sha256", "logo3.jpg", w_logo);

    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q Branch Spy Gadgets", "jcl", jcl);
    json_t *out = compute_ok(r, rcd, NULL);
    assert_int_equal(json_object_size(out), 3);
    assert_string_equal(rstr(out, "/jcl"), w_jcl);
    assert_string_equal(rstr(out, "/jcl/1/3/3"), w_photo);
    assert_string_equal(rstr(out, "/jcl/1/4/3"), w_logo);
    json_decref(out);

    /* a given pointer into the fetched jCard's JSON (fn is text, hashed as JSON) */
    json_t *given =
        json_pack("{s:s}", "/jcl/1/1/3", "sha256-0000000000000000000000000000000000000000000");
    compute_fail(r, rcd, given, 400, "rcdi", "/jcl/1/1/3");
    json_decref(given);
    json_decref(rcd);

    /* a jcl that is not a jCard */
    put_text("notcard.json", "{\"fn\":\"Q\"}");
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/notcard.json");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "jcl", jcl);
    compute_fail(r, rcd, NULL, 400, "rcd.jcl", "not a jCard");
    json_decref(rcd);
    put_text("notjson.json", "[\"vcard\", [");
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/notjson.json");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "jcl", jcl);
    compute_fail(r, rcd, NULL, 400, "rcd.jcl", "not JSON");
    json_decref(rcd);
    stir_rcd_free(r);
}

/* ---- verification ------------------------------------------------------------------------ */

static void test_verify_pass(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("photo4.png", 8, 1000);
    put_image("logo4.jpg", 9, 1200);
    put_image("icon4.png", 10, 900);
    char photo[256], logo[256], icn[256], text[2048];
    certserver_url(&g_cs, photo, sizeof photo, "/files/photo4.png");
    certserver_url(&g_cs, logo, sizeof logo, "/files/logo4.jpg");
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon4.png");
    card_text(text, sizeof text, "Q Branch", photo, logo);
    json_t *rcd = jfmt("{\"nam\":\"Q Branch Spy Gadgets\",\"apn\":\"12025559990\","
                       "\"icn\":\"%s\",\"jcd\":%s}",
                       icn, text);
    json_t *rcdi = compute_ok(r, rcd, NULL);
    assert_int_equal(json_object_size(rcdi), 4);
    json_t *claims = claims_of(rcd, rcdi);
    json_object_set_new(claims, "crn", json_string("Rendezvous for Little Nellie"));
    json_t *res = verify(r, claims, 0);
    expect_pass(res);
    json_t *d = json_object_get(res, "display");
    assert_string_equal(rstr(d, "name"), "Q Branch Spy Gadgets");
    assert_string_equal(rstr(d, "apn"), "12025559990");
    assert_string_equal(rstr(d, "icon"), icn);
    assert_string_equal(rstr(d, "reason"), "Rendezvous for Little Nellie");
    assert_string_equal(rstr(d, "fn"), "Q Branch");
    assert_string_equal(rstr(d, "org"), "MI6;Q Branch Spy Gadgets");
    assert_string_equal(rstr(d, "photo"), photo);
    assert_string_equal(rstr(d, "logo"), logo);
    json_decref(res);

    /* a fresh verifier (nothing cached) agrees */
    stir_rcd *r2 = new_rcd();
    res = verify(r2, claims, 0);
    expect_pass(res);
    json_decref(res);
    stir_rcd_free(r2);
    json_decref(claims);

    /* jcl: display from the fetched jCard */
    put_text("card4.json", text);
    char jcl[256];
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/card4.json");
    rcd = json_pack("{s:s, s:s}", "nam", "Q Branch Spy Gadgets", "jcl", jcl);
    rcdi = compute_ok(r, rcd, NULL);
    claims = claims_of(rcd, rcdi);
    res = verify(r, claims, 0);
    expect_pass(res);
    d = json_object_get(res, "display");
    assert_string_equal(rstr(d, "fn"), "Q Branch");
    assert_string_equal(rstr(d, "logo"), logo);
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(r);
}

static void test_verify_modes(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    stir_error err;
    /* TV-12 V6: shaken with rcd {"nam":"James Bond"} (mode 1) */
    json_t *claims = jfmt("{\"attest\":\"A\",\"dest\":{\"tn\":[\"12025551001\"]},"
                          "\"iat\":1443208345,\"orig\":{\"tn\":\"12025551000\"},"
                          "\"origid\":\"123e4567-e89b-12d3-a456-426655440000\","
                          "\"rcd\":{\"nam\":\"James Bond\"}}");
    json_t *res = verify(r, claims, 0);
    expect_pass(res);
    assert_string_equal(rstr(json_object_get(res, "display"), "name"), "James Bond");
    json_decref(res);
    json_decref(claims);

    /* TV-7: icn over https without rcdi -> the icon is not integrity-protected */
    claims = jfmt("{\"rcd\":{\"apn\":\"12025559990\",\"icn\":\"https://example.com/photos/"
                  "quartermaster-256x256.png\",\"nam\":\"Her Majesty's Secret Service\"}}");
    res = verify(r, claims, 0);
    expect_fail(res, "/icn has no rcdi digest (RFC 9795 6.1.2", "/icn");
    json_decref(res);
    json_decref(claims);

    /* TV-7: data: icon, no rcdi needed */
    claims = jfmt("{\"rcd\":{\"apn\":\"12025559990\",\"icn\":\"data:image/png;base64,"
                  "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAFCAYAAACNbyblAAAAHElEQVQI12P4//8/w38GIAXDIBKE0"
                  "DHxgljNBAAO9TXL0Y4OHwAAAABJRU5ErkJggg==\",\"nam\":\"Her Majesty's Secret "
                  "Service\"}}");
    res = verify(r, claims, 0);
    expect_pass(res);
    assert_true(strncmp(rstr(json_object_get(res, "display"), "icon"), "data:", 5) == 0);
    json_decref(res);
    json_decref(claims);

    /* crn alone */
    claims = jfmt("{\"crn\":\"Rendezvous for Little Nellie\"}");
    res = verify(r, claims, 0);
    expect_pass(res);
    assert_string_equal(rstr(json_object_get(res, "display"), "reason"),
                        "Rendezvous for Little Nellie");
    assert_int_equal(json_object_size(json_object_get(res, "display")), 1);
    json_decref(res);
    json_decref(claims);

    /* neither: NULL, no error */
    claims = jfmt("{\"attest\":\"A\"}");
    memset(&err, 0xff, sizeof err);
    assert_null(stir_rcd_verify(r, claims, 0, &err));
    assert_int_equal(err.code, 0);
    json_decref(claims);

    /* rcdi without rcd; bad claims are a failed rcd, not an error */
    claims = jfmt("{\"crn\":\"x\",\"rcdi\":{\"/nam\":\"sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6"
                  "OS4ot8IJQImY\"}}");
    res = verify(r, claims, 0);
    expect_fail(res, "rcdi without rcd", NULL);
    json_decref(res);
    json_decref(claims);
    claims = jfmt("{\"rcd\":{\"nam\":\"Q\",\"jcl\":\"http://example.com/q.json\"}}");
    res = verify(r, claims, 0);
    expect_fail(res, "https", "/jcl");
    json_decref(res);
    json_decref(claims);
    claims = jfmt("{\"rcd\":{\"nam\":\"Q\"},\"rcdi\":{\"/nam\":\"sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA"
                  "\"}}");
    res = verify(r, claims, 0);
    expect_fail(res, "unsupported digest algorithm", NULL);
    json_decref(res);
    json_decref(claims);

    /* /nam (TV-7) verifies; a pointer that resolves nowhere fails */
    claims = jfmt("{\"rcd\":{\"nam\":\"Q Branch Spy Gadgets\"},\"rcdi\":{\"/nam\":\"sha256-"
                  "sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY\"}}");
    res = verify(r, claims, 0);
    expect_pass(res);
    json_decref(res);
    json_object_set_new(json_object_get(claims, "rcdi"), "/apn",
                        json_string("sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY"));
    res = verify(r, claims, 0);
    expect_fail(res, "rcdi /apn does not resolve", "/apn");
    json_decref(res);
    json_decref(claims);
    claims = jfmt("{\"rcd\":{\"nam\":\"Q Branch Spy Gadgets!\"},\"rcdi\":{\"/nam\":\"sha256-"
                  "sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY\"}}");
    res = verify(r, claims, 0);
    expect_fail(res, "rcdi /nam: digest mismatch", "/nam");
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(r);
}

static void test_verify_tampered_jcd(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("photo5.png", 11, 800);
    put_image("logo5.jpg", 12, 800);
    char photo[256], logo[256], text[2048];
    certserver_url(&g_cs, photo, sizeof photo, "/files/photo5.png");
    certserver_url(&g_cs, logo, sizeof logo, "/files/logo5.jpg");
    card_text(text, sizeof text, "Q Branch", photo, logo);
    json_t *rcd = jfmt("{\"nam\":\"Q\",\"jcd\":%s}", text);
    json_t *rcdi = compute_ok(r, rcd, NULL);
    json_t *claims = claims_of(rcd, rcdi);
    json_t *res = verify(r, claims, 0);
    expect_pass(res);
    json_decref(res);

    /* change the fn value after the digests were made */
    json_t *prop = json_array_get(json_array_get(json_object_get(rcd, "jcd"), 1), 1);
    json_array_set_new(prop, 3, json_string("Spectre"));
    res = verify(r, claims, 0);
    expect_fail(res, "rcdi /jcd: digest mismatch", "/jcd");
    assert_int_equal(json_array_size(json_object_get(res, "failed")), 1);
    json_decref(res);

    /* insert a logo: /jcd fails and the new URI has no digest */
    json_array_set_new(prop, 3, json_string("Q Branch"));
    json_t *props = json_array_get(json_object_get(rcd, "jcd"), 1);
    json_array_append_new(props, json_pack("[s{}ss]", "logo", "uri", logo));
    res = verify(r, claims, 0);
    expect_fail(res, "/jcd/1/5/3 has no rcdi digest (RFC 9795 6.1.3)", "/jcd/1/5/3");
    assert_true(failed_has(res, "/jcd"));
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(r);
}

static void test_verify_logo_changed(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("photo6.png", 13, 700);
    put_image("logo6.jpg", 14, 700);
    char photo[256], logo[256], text[2048];
    certserver_url(&g_cs, photo, sizeof photo, "/files/photo6.png");
    certserver_url(&g_cs, logo, sizeof logo, "/files/logo6.jpg");
    card_text(text, sizeof text, "Q Branch", photo, logo);
    json_t *rcd = jfmt("{\"nam\":\"Q\",\"jcd\":%s}", text);
    json_t *rcdi = compute_ok(r, rcd, NULL);
    json_t *claims = claims_of(rcd, rcdi);

    /* the server now serves other bytes; a verifier without them cached sees it */
    put_image("logo6.jpg", 15, 700);
    stir_rcd *v = new_rcd();
    json_t *res = verify(v, claims, 0);
    expect_fail(res, "rcdi /jcd/1/4/3: digest mismatch", "/jcd/1/4/3");
    assert_int_equal(json_array_size(json_object_get(res, "failed")), 1);
    assert_non_null(strstr(rstr(res, "reasonDescription"), logo));
    json_decref(res);
    stir_rcd_free(v);
    json_decref(claims);
    stir_rcd_free(r);
}

static void test_fetch_failures(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    char icn[256];
    certserver_url(&g_cs, icn, sizeof icn, "/status/404");
    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    compute_fail(r, rcd, NULL, 400, "rcd.icn", "server answered HTTP 404");
    json_t *rcdi = json_pack("{s:s}", "/icn", "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    json_t *claims = claims_of(rcd, rcdi);
    json_t *res = verify(r, claims, 0);
    expect_fail(res, "HTTP 404", "/icn");
    assert_null(strstr(rstr(res, "reasonDescription"), "x5u"));
    json_decref(res);
    json_decref(claims);

    /* the fetch policy applies: no loopback without allow_hosts */
    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.fetch.n_allow_hosts = 0;
    stir_rcd *strict = new_rcd_cfg(&cfg);
    put_image("icon7.png", 16, 100);
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon7.png");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    compute_fail(strict, rcd, NULL, 400, "rcd.icn", "loopback");
    json_decref(rcd);
    stir_rcd_free(strict);

    /* a jcl that is not there */
    certserver_url(&g_cs, icn, sizeof icn, "/files/missing.json");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "jcl", icn);
    compute_fail(r, rcd, NULL, 400, "rcd.jcl", "HTTP 404");
    rcdi = json_pack("{s:s}", "/jcl", "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    claims = claims_of(rcd, rcdi);
    res = verify(r, claims, 0);
    expect_fail(res, "/jcl", "/jcl");
    assert_non_null(strstr(rstr(res, "reasonDescription"), "404"));
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(r);
}

static void test_limits(void **state)
{
    (void)state;
    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.max_links = 2;
    stir_rcd *r = new_rcd_cfg(&cfg);
    put_image("icon8.png", 17, 100);
    char icn[256], photo[256], logo[256], text[2048], jcl[256];
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon8.png");
    certserver_url(&g_cs, photo, sizeof photo, "/files/icon8.png");
    certserver_url(&g_cs, logo, sizeof logo, "/files/icon8.png");
    card_text(text, sizeof text, "Q", photo, logo);

    /* too many links: icn + two jCard URIs */
    json_t *rcd = jfmt("{\"nam\":\"Q\",\"icn\":\"%s\",\"jcd\":%s}", icn, text);
    compute_fail(r, rcd, NULL, 400, "rcd", "at most 2 (max_links)");
    json_t *rcdi = json_pack("{s:s}", "/icn", "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    json_t *claims = claims_of(rcd, rcdi);
    json_t *res = verify(r, claims, 0);
    expect_fail(res, "max_links", NULL);
    json_decref(res);
    json_decref(claims);

    /* jcl itself plus the two URIs of the fetched jCard */
    put_text("card8.json", text);
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/card8.json");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "jcl", jcl);
    compute_fail(r, rcd, NULL, 400, "rcd.jcl", "max_links");
    json_decref(rcd);
    stir_rcd_free(r);

    /* a fetched jCard over max_jcard_bytes */
    test_cfg(&cfg);
    cfg.max_jcard_bytes = 200;
    r = new_rcd_cfg(&cfg);
    assert_true(strlen(text) > 200);
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "jcl", jcl);
    compute_fail(r, rcd, NULL, 400, "rcd.jcl", "at most 200 (max_jcard_bytes)");
    char want[100];
    cli_digest("sha256", "card8.json", want);
    rcdi = json_pack("{s:s}", "/jcl", want);
    claims = claims_of(rcd, rcdi);
    res = verify(r, claims, 0);
    expect_fail(res, "max_jcard_bytes", "/jcl");
    json_decref(res);
    json_decref(claims);
    /* an inline one too */
    rcd = jfmt("{\"nam\":\"Q\",\"jcd\":%s}", text);
    compute_fail(r, rcd, NULL, 400, "rcd.jcd", "more than 200 bytes");
    json_decref(rcd);
    stir_rcd_free(r);

    /* fetched content over fetch.max_bytes */
    test_cfg(&cfg);
    cfg.fetch.max_bytes = 1000;
    r = new_rcd_cfg(&cfg);
    certserver_url(&g_cs, icn, sizeof icn, "/big/1001");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    compute_fail(r, rcd, NULL, 400, "rcd.icn", "exceeds 1000 bytes");
    json_decref(rcd);
    stir_rcd_free(r);
}

/* All the fetches of one request share fetch_budget_ms: past it, the next
 * link is not fetched (and the request does not hold a fetch thread for
 * the sum of the per-fetch timeouts). */
static void test_fetch_budget(void **state)
{
    (void)state;
    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.fetch_budget_ms = 300;
    stir_rcd *r = new_rcd_cfg(&cfg);
    put_image("icon9.png", 19, 100);
    put_image("photo9.png", 20, 100);
    char icn[256], photo[256], text[2048];
    certserver_url(&g_cs, icn, sizeof icn, "/slow/0.5/icon9.png");
    certserver_url(&g_cs, photo, sizeof photo, "/slow/0.5/photo9.png");
    card_text(text, sizeof text, "Q", photo, photo);
    json_t *rcd = jfmt("{\"nam\":\"Q\",\"icn\":\"%s\",\"jcd\":%s}", icn, text);
    compute_fail(r, rcd, NULL, 400, "rcd.jcd", "budget of 300 ms");
    json_decref(rcd);
    stir_rcd_free(r);

    /* the same links within a larger budget */
    cfg.fetch_budget_ms = 5000;
    r = new_rcd_cfg(&cfg);
    rcd = jfmt("{\"nam\":\"Q\",\"icn\":\"%s\",\"jcd\":%s}", icn, text);
    stir_error err;
    memset(&err, 0, sizeof err);
    json_t *out = NULL;
    assert_int_equal(stir_rcdi_compute(r, rcd, NULL, 0, &out, &err), 0);
    assert_non_null(json_object_get(out, "/icn"));
    json_decref(out);
    json_decref(rcd);
    stir_rcd_free(r);
}

/* Between stir_rcd_request_begin and _end the calls of one request share
 * one budget (a request of many PASSporTs costs one, not one each); each
 * call has its own otherwise. Budget 2 s; the first icon of each phase
 * starts at once (inside the budget) and takes 2.5 s, so it ends past the
 * budget whatever the load: no upper bound on a time is needed. Within a
 * request the next call then fetches nothing (certserver.py never sees
 * it); without one, or after _end, it fetches. */
static void test_request_budget(void **state)
{
    (void)state;
    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.fetch_budget_ms = 2000;
    stir_rcd *r = new_rcd_cfg(&cfg);
    char icn[256], name[32], path[64];
    json_t *out = NULL, *rcd;
    stir_error err;
    for (int phase = 0; phase < 2; phase++) {
        if (phase == 1)
            stir_rcd_request_begin(r);
        /* starts inside the budget, ends 2.5 s later: past it */
        snprintf(name, sizeof name, "rb%d0.png", phase);
        put_image(name, 30 + phase * 3, 100);
        snprintf(path, sizeof path, "/slow/2.5/%s", name);
        certserver_url(&g_cs, icn, sizeof icn, path);
        rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
        memset(&err, 0, sizeof err);
        assert_int_equal(stir_rcdi_compute(r, rcd, NULL, 0, &out, &err), 0);
        assert_non_null(json_object_get(out, "/icn"));
        json_decref(out);
        json_decref(rcd);
        assert_int_equal(certserver_hits(&g_cs, path), 1);

        snprintf(name, sizeof name, "rb%d1.png", phase);
        put_image(name, 31 + phase * 3, 100);
        snprintf(path, sizeof path, "/files/%s", name);
        certserver_url(&g_cs, icn, sizeof icn, path);
        rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
        if (phase == 1) {
            /* the request's budget is spent: not fetched */
            compute_fail(r, rcd, NULL, 400, "rcd.icn", "budget of 2000 ms");
            assert_int_equal(certserver_hits(&g_cs, path), 0);
        } else {
            /* no request: this call has a budget of its own */
            memset(&err, 0, sizeof err);
            assert_int_equal(stir_rcdi_compute(r, rcd, NULL, 0, &out, &err), 0);
            assert_non_null(json_object_get(out, "/icn"));
            json_decref(out);
            assert_int_equal(certserver_hits(&g_cs, path), 1);
        }
        json_decref(rcd);
    }
    /* ended: the next call has its own budget again */
    stir_rcd_request_end();
    put_image("rb99.png", 40, 100);
    certserver_url(&g_cs, icn, sizeof icn, "/files/rb99.png");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    memset(&err, 0, sizeof err);
    assert_int_equal(stir_rcdi_compute(r, rcd, NULL, 0, &out, &err), 0);
    json_decref(out);
    json_decref(rcd);
    assert_int_equal(certserver_hits(&g_cs, "/files/rb99.png"), 1);
    stir_rcd_free(r);
}

static void test_nowait(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("icon9.png", 18, 600);
    char icn[256];
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon9.png");
    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    stir_error err;
    memset(&err, 0, sizeof err);
    json_t *out = NULL;
    assert_int_equal(stir_rcdi_compute(r, rcd, NULL, STIR_CACHE_NOWAIT, &out, &err),
                     STIR_WOULD_BLOCK);
    assert_int_equal(err.code, STIR_WOULD_BLOCK);
    assert_string_equal(err.field, "rcd.icn");
    assert_null(out);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon9.png"), 0);
    json_t *rcdi = compute_ok(r, rcd, NULL);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon9.png"), 1);
    assert_int_equal(stir_rcdi_compute(r, rcd, NULL, STIR_CACHE_NOWAIT, &out, &err), 0);
    assert_true(json_equal(out, rcdi));
    json_decref(out);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon9.png"), 1);

    /* verification: a fresh cache blocks, then serves from the cache */
    json_t *claims = claims_of(rcd, rcdi);
    stir_rcd *v = new_rcd();
    assert_null(verify(v, claims, STIR_CACHE_NOWAIT));
    memset(&err, 0, sizeof err);
    assert_null(stir_rcd_verify(v, claims, STIR_CACHE_NOWAIT, &err));
    assert_int_equal(err.code, STIR_WOULD_BLOCK);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon9.png"), 1);
    json_t *res = verify(v, claims, 0);
    expect_pass(res);
    json_decref(res);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon9.png"), 2);
    res = verify(v, claims, STIR_CACHE_NOWAIT);
    expect_pass(res);
    json_decref(res);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon9.png"), 2);
    json_decref(claims);

    /* a remembered failure answers without blocking */
    char bad[256];
    certserver_url(&g_cs, bad, sizeof bad, "/status/503");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", bad);
    rcdi = json_pack("{s:s}", "/icn", "sha256-sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY");
    claims = claims_of(rcd, rcdi);
    memset(&err, 0, sizeof err);
    assert_null(stir_rcd_verify(v, claims, STIR_CACHE_NOWAIT, &err));
    assert_int_equal(err.code, STIR_WOULD_BLOCK);
    res = verify(v, claims, 0);
    expect_fail(res, "HTTP 503", "/icn");
    json_decref(res);
    res = verify(v, claims, STIR_CACHE_NOWAIT);
    expect_fail(res, "cached failure", "/icn");
    json_decref(res);
    assert_int_equal(certserver_hits(&g_cs, "/status/503"), 1);
    json_decref(claims);
    stir_rcd_free(v);
    stir_rcd_free(r);
}

static void test_fetch_disabled(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("icon10.png", 19, 300);
    char icn[256];
    certserver_url(&g_cs, icn, sizeof icn, "/files/icon10.png");
    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    json_t *rcdi = compute_ok(r, rcd, NULL);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon10.png"), 1);
    json_t *claims = claims_of(rcd, rcdi);

    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.verify_fetch = 0;
    stir_rcd *v = new_rcd_cfg(&cfg);
    json_t *res = verify(v, claims, 0);
    expect_fail(res, "not verified (fetching disabled)", "/icn");
    json_decref(res);
    res = verify(v, claims, STIR_CACHE_NOWAIT); /* nothing to wait for */
    expect_fail(res, "not verified (fetching disabled)", "/icn");
    json_decref(res);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon10.png"), 1);
    /* no rcd object at all: the same, worded for it */
    res = verify(NULL, claims, 0);
    expect_fail(res, "not verified (no rcd fetcher configured)", "/icn");
    json_decref(res);
    json_decref(claims);

    /* inline-only content needs no fetch */
    claims = jfmt("{\"rcd\":{\"nam\":\"Q Branch Spy Gadgets\"},\"rcdi\":{\"/nam\":\"sha256-"
                  "sM275lTgzCte+LHOKHtU4SxG8shlOo6OS4ot8IJQImY\"}}");
    res = verify(v, claims, 0);
    expect_pass(res);
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(v);
    stir_rcd_free(r);
}

/* TV-12 V5: rcd {jcl, nam} with the RFC's /jcl digest over the compact
 * jCard. The /jcl digest matches; the jCard's URIs have none (RFC 9795
 * 6.1.4 requires them), so the rcd still fails, naming them. */
static void test_tv12_v5(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_text("qbranch.json", QBRANCH_JCL);
    char jcl[256];
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/qbranch.json");
    json_t *claims =
        jfmt("{\"crn\":\"Rendezvous for Little Nellie\",\"dest\":{\"tn\":"
             "[\"12155551001\"]},\"iat\":1443208345,\"orig\":{\"tn\":\"12025551000\"},"
             "\"rcd\":{\"jcl\":\"%s\",\"nam\":\"Q Branch Spy Gadgets\"},"
             "\"rcdi\":{\"/jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\"}}",
             jcl);
    json_t *res = verify(r, claims, 0);
    expect_fail(res, "/jcl/1/3/3 has no rcdi digest (RFC 9795 6.1.4)", "/jcl/1/3/3");
    assert_false(failed_has(res, "/jcl"));
    assert_true(failed_has(res, "/jcl/1/4/3"));
    assert_true(failed_has(res, "/jcl/1/5/3"));
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(r);
}

/* TV-17: seed 002 6.3 serves the SA2 jCard with the Q Branch rcdi. */
static void test_tv17_seed(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_text("sa2.json", SA2_JCARD);
    char jcl[256];
    certserver_url(&g_cs, jcl, sizeof jcl, "/files/sa2.json");
    json_t *claims = jfmt("{\"orig\":{\"tn\":\"12025551000\"},\"dest\":{\"tn\":[\"12155551001\"]},"
                          "\"iat\":1443208345,\"rcd\":{\"nam\":\"Q Branch Spy Gadgets\","
                          "\"jcl\":\"%s\"},\"rcdi\":{"
                          "\"/jcl\":\"sha256-qCn4pEH6BJu7zXndLFuAP6DwlTv5fRmJ1AFkqftwnCs\","
                          "\"/jcl/1/3/3\":\"sha256-RojgWwU6xUtI4q82+kHPyHm1JKbm7+663bMvzymhkl4\","
                          "\"/jcl/1/4/3\":\"sha256-jL4f47fF82LuwcrOrSyckA4SWrlElfARHkW6kYo1JdI\","
                          "\"/jcl/1/5/3\":\"sha256-GKNxxqlLRarbyBNh7hc/4lbZAdK6B0kMRf1AMRWPkSo\"}}",
                          jcl);
    json_t *res = verify(r, claims, 0);
    expect_fail(res, "rcdi /jcl: digest mismatch", "/jcl");
    /* what the SA2 jCard really hashes to (TV-17) */
    assert_non_null(strstr(rstr(res, "reasonDescription"),
                           "sha256-VDEnKZlx3NtzGBRJl7S8OOyXv81i3/NZxDE1U00+g+c="));
    json_decref(res);
    json_decref(claims);

    /* the same jCard inline, with the Q Branch /jcd digest (TV-7) */
    claims = jfmt("{\"rcd\":{\"nam\":\"Q Branch Spy Gadgets\",\"jcd\":%s},\"rcdi\":{"
                  "\"/jcd\":\"sha256-7kdCBZqH0nqMSPsmABvsKlHPhZEStgjojhdSJGRr3rk\"}}",
                  SA2_JCARD);
    res = verify(r, claims, 0);
    expect_fail(res, "has no rcdi digest", "/jcd");
    json_decref(res);
    json_decref(claims);

    /* and the Q Branch jCard inline: /jcd matches, its URIs still lack digests */
    claims = jfmt("{\"rcd\":{\"nam\":\"Q Branch Spy Gadgets\",\"jcd\":%s},\"rcdi\":{"
                  "\"/jcd\":\"sha256-7kdCBZqH0nqMSPsmABvsKlHPhZEStgjojhdSJGRr3rk\"}}",
                  QBRANCH_JCD);
    res = verify(r, claims, 0);
    expect_fail(res, "/jcd/1/3/3 has no rcdi digest", "/jcd/1/3/3");
    assert_false(failed_has(res, "/jcd"));
    json_decref(res);
    json_decref(claims);
    stir_rcd_free(r);
}

/* ---- cache -------------------------------------------------------------------------------- */

static void test_cache_semantics(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("icon11.png", 20, 300);
    char icn[256];
    /* no-store: used, never kept */
    certserver_url(&g_cs, icn, sizeof icn, "/cc/no-store/icon11.png");
    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    json_decref(compute_ok(r, rcd, NULL));
    json_decref(compute_ok(r, rcd, NULL));
    assert_int_equal(certserver_hits(&g_cs, "/cc/no-store/icon11.png"), 2);
    json_decref(rcd);

    /* max-age=1 wins over cache_ttl_s */
    certserver_url(&g_cs, icn, sizeof icn, "/cc/max-age%3D1/icon11.png");
    rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    json_decref(compute_ok(r, rcd, NULL));
    json_decref(compute_ok(r, rcd, NULL));
    assert_int_equal(certserver_hits(&g_cs, "/cc/max-age%3D1/icon11.png"), 1);
    sleep_s(1.2);
    json_decref(compute_ok(r, rcd, NULL));
    assert_int_equal(certserver_hits(&g_cs, "/cc/max-age%3D1/icon11.png"), 2);
    json_decref(rcd);
    stir_rcd_free(r);

    /* eviction: one entry */
    stir_rcd_config cfg;
    test_cfg(&cfg);
    cfg.cache_max_entries = 1;
    r = new_rcd_cfg(&cfg);
    put_image("icon12.png", 21, 300);
    put_image("icon13.png", 22, 300);
    char a[256], b[256];
    certserver_url(&g_cs, a, sizeof a, "/files/icon12.png");
    certserver_url(&g_cs, b, sizeof b, "/files/icon13.png");
    json_t *ra = json_pack("{s:s, s:s}", "nam", "Q", "icn", a);
    json_t *rb = json_pack("{s:s, s:s}", "nam", "Q", "icn", b);
    json_decref(compute_ok(r, ra, NULL));
    json_decref(compute_ok(r, rb, NULL));
    json_decref(compute_ok(r, rb, NULL));
    json_decref(compute_ok(r, ra, NULL));
    assert_int_equal(certserver_hits(&g_cs, "/files/icon12.png"), 2);
    assert_int_equal(certserver_hits(&g_cs, "/files/icon13.png"), 1);
    json_decref(ra);
    json_decref(rb);
    stir_rcd_free(r);
}

typedef struct worker {
    stir_rcd *r;
    const json_t *claims;
    int pass;
} worker;

static void *verify_thread(void *arg)
{
    worker *w = arg;
    stir_error err;
    json_t *res = stir_rcd_verify(w->r, w->claims, 0, &err);
    w->pass = res && strcmp(rstr(res, "status"), "pass") == 0;
    json_decref(res);
    return NULL;
}

static void test_single_flight(void **state)
{
    (void)state;
    stir_rcd *r = new_rcd();
    put_image("icon14.png", 23, 500);
    char icn[256];
    certserver_url(&g_cs, icn, sizeof icn, "/slow/0.3/icon14.png");
    json_t *rcd = json_pack("{s:s, s:s}", "nam", "Q", "icn", icn);
    json_t *rcdi = compute_ok(r, rcd, NULL);
    json_t *claims = claims_of(rcd, rcdi);
    stir_rcd *v = new_rcd();
    enum { N = 8 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){v, claims, 0};
        assert_int_equal(pthread_create(&t[i], NULL, verify_thread, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_true(w[i].pass);
    }
    /* one for signing, one for all eight verifiers */
    assert_int_equal(certserver_hits(&g_cs, "/slow/0.3/icon14.png"), 2);
    json_decref(claims);
    stir_rcd_free(v);
    stir_rcd_free(r);
}

/* The one digest list: RFC 9795 6 names, exact and lowercase; the message
 * text lists the same ones; a digest made with each has the size the
 * openssl CLI gives (`openssl dgst -sha384 -binary </dev/null | base64`). */
static void test_digest_by_name(void **state)
{
    (void)state;
    static const char *const rfc[] = {"sha256", "sha384", "sha512"};
    char out[100];
    for (size_t i = 0; i < 3; i++) {
        const char *n = stir_digest_by_name(rfc[i]);
        assert_non_null(n);
        assert_string_equal(n, rfc[i]);
        assert_non_null(strstr(stir_digest_names(), rfc[i]));
        assert_int_equal(stir_rcd_digest(n, "", 0, out), 0);
    }
    assert_string_equal(out, "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/"
                             "SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==");
    assert_int_equal(stir_rcd_digest("sha384", "", 0, out), 0);
    assert_string_equal(out,
                        "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb");
    assert_null(stir_digest_by_name("SHA256"));
    assert_null(stir_digest_by_name("sha1"));
    assert_null(stir_digest_by_name("md5"));
    assert_null(stir_digest_by_name(""));
    assert_null(stir_digest_by_name(NULL));
    assert_int_equal(stir_rcd_digest("sha1", "", 0, out), -1);
}

static void test_bad_config(void **state)
{
    (void)state;
    stir_rcd_config cfg;
    stir_error err;
    stir_rcd_config_default(&cfg);
    assert_int_equal(cfg.fetch.connect_timeout_ms, 500);
    assert_int_equal(cfg.fetch.total_timeout_ms, 1000);
    assert_int_equal(cfg.fetch.max_bytes, 262144);
    assert_string_equal(cfg.digest_alg, "sha256");
    assert_int_equal(cfg.max_jcard_bytes, 16384);
    assert_int_equal(cfg.max_links, 8);
    assert_int_equal(cfg.cache_ttl_s, 300);
    assert_int_equal(cfg.neg_ttl_s, 30);
    assert_int_equal(cfg.cache_max_entries, 1000);
    assert_int_equal(cfg.verify_fetch, 1);
    stir_rcd *r = stir_rcd_new(g_ctx, NULL, &err);
    assert_non_null(r);
    stir_rcd_free(r);

    cfg.digest_alg = "md5";
    assert_null(stir_rcd_new(g_ctx, &cfg, &err));
    assert_string_equal(err.field, "digest_alg");
    stir_rcd_config_default(&cfg);
    cfg.cache_max_entries = 0;
    assert_null(stir_rcd_new(g_ctx, &cfg, &err));
    assert_string_equal(err.field, "cache_max_entries");
    stir_rcd_config_default(&cfg);
    cfg.max_jcard_bytes = 0;
    assert_null(stir_rcd_new(g_ctx, &cfg, &err));
    assert_string_equal(err.field, "max_jcard_bytes");
    stir_rcd_config_default(&cfg);
    cfg.fetch.max_bytes = 0;
    assert_null(stir_rcd_new(g_ctx, &cfg, &err));
    assert_string_equal(err.field, "fetch.max_bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_vectors),
        cmocka_unit_test(test_json_pointer),
        cmocka_unit_test(test_rcd_check),
        cmocka_unit_test(test_rcd_build),
        cmocka_unit_test(test_rcdi_crn_check),
        cmocka_unit_test(test_compute_mode1_and_inline),
        cmocka_unit_test(test_compute_jcd_uris),
        cmocka_unit_test(test_compute_icn),
        cmocka_unit_test(test_compute_given_mismatch),
        cmocka_unit_test(test_compute_jcl),
        cmocka_unit_test(test_verify_pass),
        cmocka_unit_test(test_verify_modes),
        cmocka_unit_test(test_verify_tampered_jcd),
        cmocka_unit_test(test_verify_logo_changed),
        cmocka_unit_test(test_fetch_failures),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_fetch_budget),
        cmocka_unit_test(test_request_budget),
        cmocka_unit_test(test_nowait),
        cmocka_unit_test(test_fetch_disabled),
        cmocka_unit_test(test_tv12_v5),
        cmocka_unit_test(test_tv17_seed),
        cmocka_unit_test(test_cache_semantics),
        cmocka_unit_test(test_single_flight),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_digest_by_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
