/*
 * TNAuthList DER parsing and coverage (RFC 8226 section 9).
 * Vectors: test-vectors.md TV-10 / TV-10b; the range/TN encodings were
 * produced with `openssl asn1parse -genconf` (configs quoted next to them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "stir/cert.h"

static void parse_ok(const unsigned char *der, size_t len, stir_tnauth *ta)
{
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_tnauth_parse(der, len, ta, &err);
    if (rc)
        fail_msg("unexpected parse failure %d: %s", rc, err.detail);
}

/* Expect a 437 whose detail contains `needle`. */
static void parse_bad(const unsigned char *der, size_t len, const char *needle)
{
    stir_tnauth ta;
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_tnauth_parse(der, len, &ta, &err);
    assert_int_equal(rc, 437);
    assert_int_equal(err.code, 437);
    if (!strstr(err.detail, needle))
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, needle);
    assert_int_equal(ta.n, 0);
}

/* ---- TV-10 ----------------------------------------------------------------- */

static void expect_spc(const unsigned char *der, size_t len, const char *spc)
{
    stir_tnauth ta;
    parse_ok(der, len, &ta);
    assert_int_equal(ta.n, 1);
    assert_int_equal(ta.e[0].kind, STIR_TNAUTH_SPC);
    assert_string_equal(ta.e[0].value, spc);
}

static void test_tv10_spc(void **state)
{
    (void)state;
    static const unsigned char spc709j[] = {0x30, 0x08, 0xA0, 0x06, 0x16,
                                            0x04, 0x37, 0x30, 0x39, 0x4A};
    static const unsigned char spc818h[] = {0x30, 0x08, 0xA0, 0x06, 0x16,
                                            0x04, 0x38, 0x31, 0x38, 0x48};
    static const unsigned char spc1234[] = {0x30, 0x08, 0xA0, 0x06, 0x16,
                                            0x04, 0x31, 0x32, 0x33, 0x34};
    expect_spc(spc709j, sizeof spc709j, "709J");
    expect_spc(spc818h, sizeof spc818h, "818H");
    expect_spc(spc1234, sizeof spc1234, "1234");
}

/* TV-10b: the RFC 9118 section 5 certificate carries SPC "1234". */
static void test_tv10b_rfc9118(void **state)
{
    (void)state;
    const char *src = getenv("STIR_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/rfc9118.pem", src ? src : ".");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.26", 1);
    int idx = X509_get_ext_by_OBJ(x, obj, -1);
    ASN1_OBJECT_free(obj);
    assert_true(idx >= 0);
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    /* TV-10b: extension value 3008A006160431323334 */
    static const unsigned char expect[] = {0x30, 0x08, 0xA0, 0x06, 0x16,
                                           0x04, 0x31, 0x32, 0x33, 0x34};
    assert_int_equal(ASN1_STRING_length(os), sizeof expect);
    assert_memory_equal(ASN1_STRING_get0_data(os), expect, sizeof expect);
    expect_spc(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), "1234");
    X509_free(x);

    /* Same through the chain API. */
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_cert_load(path, &err);
    if (!c)
        fail_msg("stir_cert_load(%s): %d %s", path, err.code, err.detail);
    const stir_tnauth *ta = stir_cert_tnauth(c);
    assert_non_null(ta);
    assert_int_equal(ta->n, 1);
    assert_int_equal(ta->e[0].kind, STIR_TNAUTH_SPC);
    assert_string_equal(ta->e[0].value, "1234");
    stir_cert_unref(c);
}

/* ---- ranges and single TNs --------------------------------------------------- */

/*
 * asn1=SEQUENCE:tn
 * [tn]    f1=EXP:1,SEQUENCE:range   f2=EXP:2,IA5:12155551212
 * [range] start=IA5:12155550100     count=INT:100
 */
static const unsigned char range_and_one[] = {
    0x30, 0x23, 0xa1, 0x12, 0x30, 0x10, 0x16, 0x0b, 0x31, 0x32, 0x31, 0x35, 0x35,
    0x35, 0x35, 0x30, 0x31, 0x30, 0x30, 0x02, 0x01, 0x64, 0xa2, 0x0d, 0x16, 0x0b,
    0x31, 0x32, 0x31, 0x35, 0x35, 0x35, 0x35, 0x31, 0x32, 0x31, 0x32};

static void test_range_and_one(void **state)
{
    (void)state;
    stir_tnauth ta;
    parse_ok(range_and_one, sizeof range_and_one, &ta);
    assert_int_equal(ta.n, 2);
    assert_int_equal(ta.e[0].kind, STIR_TNAUTH_RANGE);
    assert_string_equal(ta.e[0].value, "12155550100");
    assert_int_equal(ta.e[0].count, 100);
    assert_int_equal(ta.e[1].kind, STIR_TNAUTH_ONE);
    assert_string_equal(ta.e[1].value, "12155551212");

    assert_true(stir_tnauth_covers(&ta, "12155550100")); /* first */
    assert_true(stir_tnauth_covers(&ta, "12155550150"));
    assert_true(stir_tnauth_covers(&ta, "12155550199")); /* last = start + count - 1 */
    assert_false(stir_tnauth_covers(&ta, "12155550200"));
    assert_false(stir_tnauth_covers(&ta, "12155550099"));
    assert_false(stir_tnauth_covers(&ta, "121555501000")); /* longer */
    assert_false(stir_tnauth_covers(&ta, "2155550150"));   /* shorter */
    assert_true(stir_tnauth_covers(&ta, "12155551212"));
    assert_false(stir_tnauth_covers(&ta, "12155551213"));
    assert_false(stir_tnauth_covers(&ta, "+12155551212")); /* not canonical */
    assert_false(stir_tnauth_covers(&ta, ""));
    assert_false(stir_tnauth_covers(NULL, "12155551212"));
}

static void test_spc_covers_everything(void **state)
{
    (void)state;
    static const unsigned char spc709j[] = {0x30, 0x08, 0xA0, 0x06, 0x16,
                                            0x04, 0x37, 0x30, 0x39, 0x4A};
    stir_tnauth ta;
    parse_ok(spc709j, sizeof spc709j, &ta);
    assert_true(stir_tnauth_covers(&ta, "12155551212"));
    assert_true(stir_tnauth_covers(&ta, "33123456789"));
}

/* [2] IA5 "*67#" is a valid TelephoneNumber (FROM "0123456789#*"). */
static void test_one_with_star_hash(void **state)
{
    (void)state;
    static const unsigned char der[] = {0x30, 0x08, 0xa2, 0x06, 0x16, 0x04, '*', '6', '7', '#'};
    stir_tnauth ta;
    parse_ok(der, sizeof der, &ta);
    assert_int_equal(ta.e[0].kind, STIR_TNAUTH_ONE);
    assert_string_equal(ta.e[0].value, "*67#");
    assert_true(stir_tnauth_covers(&ta, "*67#"));
    assert_false(stir_tnauth_covers(&ta, "67"));
}

/* start "10" count 90 reaches "99": the largest valid 2-digit range.
 * DER as openssl -genconf (start=IA5:10, count=INT:90). */
static void test_range_boundary(void **state)
{
    (void)state;
    static const unsigned char der[] = {0x30, 0x0b, 0xa1, 0x09, 0x30, 0x07, 0x16,
                                        0x02, 0x31, 0x30, 0x02, 0x01, 0x5a};
    stir_tnauth ta;
    parse_ok(der, sizeof der, &ta);
    assert_int_equal(ta.e[0].count, 90);
    assert_true(stir_tnauth_covers(&ta, "99"));
    assert_false(stir_tnauth_covers(&ta, "09"));
}

/* ---- malformed ----------------------------------------------------------------- */

static void test_malformed(void **state)
{
    (void)state;
    /* TV-10 709J without its last byte */
    static const unsigned char trunc[] = {0x30, 0x08, 0xA0, 0x06, 0x16, 0x04, 0x37, 0x30, 0x39};
    parse_bad(trunc, sizeof trunc, "truncated");
    /* SET instead of SEQUENCE */
    static const unsigned char set[] = {0x31, 0x08, 0xA0, 0x06, 0x16, 0x04, 0x37, 0x30, 0x39, 0x4A};
    parse_bad(set, sizeof set, "not a SEQUENCE");
    /* IMPLICIT [0] (primitive 0x80) instead of EXPLICIT */
    static const unsigned char impl[] = {0x30, 0x06, 0x80, 0x04, 0x37, 0x30, 0x39, 0x4A};
    parse_bad(impl, sizeof impl, "EXPLICIT");
    /* unknown choice [3] */
    static const unsigned char tag3[] = {0x30, 0x08, 0xA3, 0x06, 0x16,
                                         0x04, 0x37, 0x30, 0x39, 0x4A};
    parse_bad(tag3, sizeof tag3, "EXPLICIT");
    /* SPC as UTF8String (0x0c) */
    static const unsigned char utf8[] = {0x30, 0x08, 0xA0, 0x06, 0x0c,
                                         0x04, 0x37, 0x30, 0x39, 0x4A};
    parse_bad(utf8, sizeof utf8, "not an IA5String");
    /* empty list */
    static const unsigned char empty[] = {0x30, 0x00};
    parse_bad(empty, sizeof empty, "empty list");
    parse_bad(empty, 0, "empty");
    /* trailing byte after the list */
    static const unsigned char trail[] = {0x30, 0x08, 0xA0, 0x06, 0x16, 0x04,
                                          0x37, 0x30, 0x39, 0x4A, 0x00};
    parse_bad(trail, sizeof trail, "trailing");
    /* indefinite length (BER, not DER) */
    static const unsigned char indef[] = {0x30, 0x80, 0xA0, 0x06, 0x16, 0x04,
                                          0x37, 0x30, 0x39, 0x4A, 0x00, 0x00};
    parse_bad(indef, sizeof indef, "indefinite");
    /* long-form length for 8 (not minimal) */
    static const unsigned char longlen[] = {0x30, 0x81, 0x08, 0xA0, 0x06, 0x16,
                                            0x04, 0x37, 0x30, 0x39, 0x4A};
    parse_bad(longlen, sizeof longlen, "non-minimal");
    /* TN with a letter */
    static const unsigned char badch[] = {0x30, 0x0f, 0xa2, 0x0d, 0x16, 0x0b, '1', '2', '1',
                                          '5',  '5',  '5',  '5',  '1',  '2',  '1', 'a'};
    parse_bad(badch, sizeof badch, "character other than 0-9");
    /* 16-digit TN (SIZE 1..15) */
    static const unsigned char tn16[] = {0x30, 0x14, 0xa2, 0x12, 0x16, 0x10, '1', '2',
                                         '3',  '4',  '5',  '6',  '7',  '8',  '9', '0',
                                         '1',  '2',  '3',  '4',  '5',  '6'};
    parse_bad(tn16, sizeof tn16, "16 characters");
    /* empty TN */
    static const unsigned char tn0[] = {0x30, 0x04, 0xa2, 0x02, 0x16, 0x00};
    parse_bad(tn0, sizeof tn0, "0 characters");
    /* range count 1 (INTEGER (2..MAX)) */
    static const unsigned char count1[] = {0x30, 0x0b, 0xa1, 0x09, 0x30, 0x07, 0x16,
                                           0x02, 0x31, 0x30, 0x02, 0x01, 0x01};
    parse_bad(count1, sizeof count1, "below 2");
    /* negative count */
    static const unsigned char countneg[] = {0x30, 0x0b, 0xa1, 0x09, 0x30, 0x07, 0x16,
                                             0x02, 0x31, 0x30, 0x02, 0x01, 0xff};
    parse_bad(countneg, sizeof countneg, "negative");
    /* non-minimal INTEGER 00 64 */
    static const unsigned char countpad[] = {0x30, 0x0c, 0xa1, 0x0a, 0x30, 0x08, 0x16,
                                             0x02, 0x31, 0x30, 0x02, 0x02, 0x00, 0x5a};
    parse_bad(countpad, sizeof countpad, "not a DER INTEGER");
    /* start "10" count 91 reaches "100" (RFC 8226 section 9 example);
     * DER as openssl -genconf (start=IA5:10, count=INT:91). */
    static const unsigned char overflow[] = {0x30, 0x0b, 0xa1, 0x09, 0x30, 0x07, 0x16,
                                             0x02, 0x31, 0x30, 0x02, 0x01, 0x5b};
    parse_bad(overflow, sizeof overflow, "exceeds 2 digits");
    /* start with '*': count would be meaningless */
    static const unsigned char star[] = {0x30, 0x0b, 0xa1, 0x09, 0x30, 0x07, 0x16,
                                         0x02, '*',  '1',  0x02, 0x01, 0x05};
    parse_bad(star, sizeof star, "contains '*' or '#'");
    /* range without count */
    static const unsigned char nocount[] = {0x30, 0x08, 0xa1, 0x06, 0x30,
                                            0x04, 0x16, 0x02, 0x31, 0x30};
    parse_bad(nocount, sizeof nocount, "count missing");
    /* inner length beyond its container */
    static const unsigned char inner[] = {0x30, 0x08, 0xA0, 0x06, 0x16,
                                          0x09, 0x37, 0x30, 0x39, 0x4A};
    parse_bad(inner, sizeof inner, "truncated");
}

static void test_too_many_entries(void **state)
{
    (void)state;
    /* 65 entries of [2] "1": each a2 03 16 01 31 (5 bytes), 325 bytes of content */
    unsigned char der[4 + 65 * 5];
    size_t n = 0;
    der[n++] = 0x30;
    der[n++] = 0x82;
    der[n++] = 0x01;
    der[n++] = 0x45; /* 325 */
    for (int i = 0; i < 65; i++) {
        der[n++] = 0xa2;
        der[n++] = 0x03;
        der[n++] = 0x16;
        der[n++] = 0x01;
        der[n++] = '1';
    }
    parse_bad(der, n, "more than 64 entries");
    /* 64 is fine */
    der[3] = 0x40; /* 320 */
    stir_tnauth ta;
    parse_ok(der, n - 5, &ta);
    assert_int_equal(ta.n, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tv10_spc),           cmocka_unit_test(test_tv10b_rfc9118),
        cmocka_unit_test(test_range_and_one),      cmocka_unit_test(test_spc_covers_everything),
        cmocka_unit_test(test_one_with_star_hash), cmocka_unit_test(test_range_boundary),
        cmocka_unit_test(test_malformed),          cmocka_unit_test(test_too_many_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
