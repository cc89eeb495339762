/*
 * Strict DER reading (der.c). Inputs are written by hand from the rules of
 * ITU-T X.690 (8.1.2 identifiers, 8.1.3 lengths, 10.1: DER uses the
 * definite form with the fewest length octets) and checked against
 * `openssl asn1parse` where OpenSSL reads them (the valid ones); trailing
 * bytes and nesting are checked through the public readers that use der.c
 * (TNAuthList, JWT Claim Constraints; TV-10 and TV-10b of test-vectors.md).
 */
#include "test_util.h"
#include "der.h"
#include "stir/cert.h"

/* Read one TLV of buf[0..n); 0 or the code, and the TLV in *t. */
static int rd(const unsigned char *buf, size_t n, sti_der_tlv *t, stir_error *err, size_t *consumed)
{
    const unsigned char *p = buf;
    stir_error_clear(err);
    memset(t, 0, sizeof *t);
    int rc = sti_der_read("TestExt", &p, buf + n, t, "element", err);
    if (consumed)
        *consumed = (size_t)(p - buf);
    return rc;
}

static void expect_refused(const unsigned char *buf, size_t n, const char *needle)
{
    sti_der_tlv t;
    stir_error err;
    int rc = rd(buf, n, &t, &err, NULL);
    if (rc != STIR_ERR_UNSUPPORTED_CRED)
        fail_msg("rc %d, expected 437 \"%s\"", rc, needle);
    if (!strstr(err.detail, needle) || !strstr(err.detail, "TestExt") ||
        !strstr(err.detail, "element"))
        fail_msg("detail \"%s\" lacks \"%s\" (and the extension and element names)", err.detail,
                 needle);
}

static void test_short_form(void **state)
{
    (void)state;
    /* OCTET STRING "AB" then a NULL: 04 02 41 42 | 05 00 */
    static const unsigned char b[] = {0x04, 0x02, 0x41, 0x42, 0x05, 0x00};
    sti_der_tlv t;
    stir_error err;
    size_t used;
    assert_int_equal(rd(b, sizeof b, &t, &err, &used), 0);
    assert_int_equal(t.tag, 4);
    assert_int_equal(t.cls, 0); /* universal */
    assert_int_equal(t.constructed, 0);
    assert_int_equal(t.len, 2);
    assert_ptr_equal(t.hdr, b);
    assert_ptr_equal(t.val, b + 2);
    assert_int_equal(used, 4); /* stops after the first TLV */
    assert_int_equal(rd(b + 4, 2, &t, &err, &used), 0);
    assert_int_equal(t.tag, 5);
    assert_int_equal(t.len, 0);
}

static void test_constructed_and_context(void **state)
{
    (void)state;
    /* SEQUENCE { [0] EXPLICIT IA5String "709J" } = TNAuthList SPC (TV-10) */
    static const unsigned char b[] = {0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, '7', '0', '9', 'J'};
    sti_der_tlv t, u, v;
    stir_error err;
    assert_int_equal(rd(b, sizeof b, &t, &err, NULL), 0);
    assert_int_equal(t.tag, 16);
    assert_int_equal(t.constructed, 1);
    assert_int_equal(t.len, 8);
    assert_int_equal(rd(t.val, (size_t)t.len, &u, &err, NULL), 0);
    assert_int_equal(u.tag, 0);
    assert_int_equal(u.cls, 0x80); /* V_ASN1_CONTEXT_SPECIFIC */
    assert_int_equal(u.constructed, 1);
    assert_int_equal(rd(u.val, (size_t)u.len, &v, &err, NULL), 0);
    assert_int_equal(v.tag, 22); /* IA5String */
    assert_memory_equal(v.val, "709J", 4);
}

static void test_long_form(void **state)
{
    (void)state;
    /* 128 content bytes need the long form 81 80 (X.690 8.1.3.5). */
    unsigned char b[3 + 128];
    b[0] = 0x04;
    b[1] = 0x81;
    b[2] = 0x80;
    memset(b + 3, 'x', 128);
    sti_der_tlv t;
    stir_error err;
    size_t used;
    assert_int_equal(rd(b, sizeof b, &t, &err, &used), 0);
    assert_int_equal(t.len, 128);
    assert_int_equal(used, sizeof b);
    /* 256 bytes: 82 01 00. */
    unsigned char c[4 + 256];
    c[0] = 0x04;
    c[1] = 0x82;
    c[2] = 0x01;
    c[3] = 0x00;
    memset(c + 4, 'y', 256);
    assert_int_equal(rd(c, sizeof c, &t, &err, &used), 0);
    assert_int_equal(t.len, 256);
    assert_ptr_equal(t.val, c + 4);
}

static void test_non_minimal_length(void **state)
{
    (void)state;
    /* 5 bytes in long form (81 05): BER, not DER (X.690 10.1). */
    static const unsigned char a[] = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
    expect_refused(a, sizeof a, "non-minimal length");
    /* 128 bytes with a leading zero length octet (82 00 80). */
    unsigned char b[4 + 128];
    b[0] = 0x04;
    b[1] = 0x82;
    b[2] = 0x00;
    b[3] = 0x80;
    memset(b + 4, 0, 128);
    expect_refused(b, sizeof b, "non-minimal length");
}

static void test_indefinite(void **state)
{
    (void)state;
    /* SEQUENCE with the indefinite length 80, ended by 00 00 (BER only). */
    static const unsigned char b[] = {0x30, 0x80, 0x04, 0x01, 0x41, 0x00, 0x00};
    expect_refused(b, sizeof b, "indefinite length");
}

static void test_truncated(void **state)
{
    (void)state;
    sti_der_tlv t;
    stir_error err;
    const unsigned char *p = NULL;
    /* Nothing at all. */
    static const unsigned char one[] = {0x04};
    p = one;
    stir_error_clear(&err);
    assert_int_equal(sti_der_read("TestExt", &p, one, &t, "element", &err),
                     STIR_ERR_UNSUPPORTED_CRED);
    assert_non_null(strstr(err.detail, "missing"));
    /* A header without its length octet, a length promising more than
     * there is, a long form cut inside the length. */
    expect_refused(one, 1, "element");
    static const unsigned char shortv[] = {0x04, 0x05, 0x41, 0x42};
    expect_refused(shortv, sizeof shortv, "element");
    static const unsigned char cutlen[] = {0x04, 0x82, 0x01};
    expect_refused(cutlen, sizeof cutlen, "element");
}

static void test_nesting(void **state)
{
    (void)state;
    /* A SEQUENCE of 3 bytes whose child claims 5: the child is longer than
     * its container even though the input holds enough bytes after it. */
    static const unsigned char b[] = {0x30, 0x03, 0x04, 0x05, 0x41, 0x42, 0x43, 0x44, 0x45};
    sti_der_tlv t, u;
    stir_error err;
    assert_int_equal(rd(b, sizeof b, &t, &err, NULL), 0);
    assert_int_equal(t.len, 3);
    const unsigned char *p = t.val;
    stir_error_clear(&err);
    assert_int_equal(sti_der_read("TestExt", &p, t.val + t.len, &u, "child", &err),
                     STIR_ERR_UNSUPPORTED_CRED);
    assert_non_null(strstr(err.detail, "child"));
}

static void test_high_tag_number(void **state)
{
    (void)state;
    /* [31] constructed, context: identifier BF 1F (X.690 8.1.2.4), empty. */
    static const unsigned char b[] = {0xbf, 0x1f, 0x00};
    sti_der_tlv t;
    stir_error err;
    size_t used;
    assert_int_equal(rd(b, sizeof b, &t, &err, &used), 0);
    assert_int_equal(t.tag, 31);
    assert_int_equal(t.cls, 0x80);
    assert_int_equal(t.len, 0);
    assert_int_equal(used, 3);
}

/* Through the public readers: TV-10 values, then with trailing bytes. */
static void test_readers_trailing_bytes(void **state)
{
    (void)state;
    static const unsigned char spc[] = {0x30, 0x08, 0xa0, 0x06, 0x16, 0x04,
                                        '7',  '0',  '9',  'J',  0x00};
    stir_tnauth ta;
    stir_error err;
    stir_error_clear(&err);
    assert_int_equal(stir_tnauth_parse(spc, sizeof spc - 1, &ta, &err), 0);
    assert_int_equal(ta.n, 1);
    assert_int_equal(ta.e[0].kind, STIR_TNAUTH_SPC);
    assert_string_equal(ta.e[0].value, "709J");
    assert_int_equal(stir_tnauth_parse(spc, sizeof spc, &ta, &err), STIR_ERR_UNSUPPORTED_CRED);
    /* Long-form length inside: 30 81 08 ... is BER. */
    static const unsigned char ber[] = {0x30, 0x81, 0x08, 0xa0, 0x06, 0x16,
                                        0x04, '7',  '0',  '9',  'J'};
    assert_int_equal(stir_tnauth_parse(ber, sizeof ber, &ta, &err), STIR_ERR_UNSUPPORTED_CRED);
    assert_non_null(strstr(err.detail, "non-minimal"));
    /* TV-10b EnhancedJWTClaimConstraints (RFC 9118 5), then one byte more. */
    static const unsigned char ejcc[] = {
        0x30, 0x40, 0xa0, 0x0e, 0x30, 0x0c, 0x16, 0x0a, 'c',  'o',  'n',  'f',  'i',  'd',
        'e',  'n',  'c',  'e',  0xa1, 0x20, 0x30, 0x1e, 0x30, 0x1c, 0x16, 0x0a, 'c',  'o',
        'n',  'f',  'i',  'd',  'e',  'n',  'c',  'e',  0x30, 0x0e, 0x0c, 0x04, 'h',  'i',
        'g',  'h',  0x0c, 0x06, 'm',  'e',  'd',  'i',  'u',  'm',  0xa2, 0x0c, 0x30, 0x0a,
        0x16, 0x08, 'p',  'r',  'i',  'o',  'r',  'i',  't',  'y',  0x00};
    stir_jcc j;
    memset(&j, 0, sizeof j);
    assert_int_equal(stir_jcc_parse(ejcc, sizeof ejcc - 1, 1, &j, &err), 0);
    assert_int_equal(j.n_include, 1);
    assert_string_equal(j.include[0], "confidence");
    assert_int_equal(j.n_permitted, 1);
    assert_int_equal(j.permitted[0].n, 2);
    assert_int_equal(j.n_exclude, 1);
    assert_string_equal(j.exclude[0], "priority");
    stir_jcc_clear(&j);
    memset(&j, 0, sizeof j);
    assert_int_equal(stir_jcc_parse(ejcc, sizeof ejcc, 1, &j, &err), STIR_ERR_UNSUPPORTED_CRED);
    stir_jcc_clear(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_form),
        cmocka_unit_test(test_constructed_and_context),
        cmocka_unit_test(test_long_form),
        cmocka_unit_test(test_non_minimal_length),
        cmocka_unit_test(test_indefinite),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_high_tag_number),
        cmocka_unit_test(test_readers_trailing_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
