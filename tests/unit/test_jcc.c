/*
 * JWT Claim Constraints (RFC 8226 8) and EnhancedJWTClaimConstraints
 * (RFC 9118 3): DER parsing, enforcement on claims, and certificates
 * carrying them.
 *
 * Vectors: test-vectors.md TV-10b (the RFC 9118 section 5 certificate,
 * tests/data/rfc9118.pem). Other DER values were produced with
 * `openssl asn1parse -genconf` (configs quoted next to them; the TV-10b
 * value comes out of the same tool byte for byte); malformed ones are
 * edits of those, described next to them. Certificates are made by the
 * openssl CLI (tests/tools/mkpki.sh and an -extfile). Expected verdicts
 * follow the RFC text: mustInclude claims present, permittedValues matched
 * exactly, mustExclude claims absent, a baseline claim in mustExclude
 * voids the enhanced extension.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "stir/cert.h"

/* TV-10b: the extension 1.3.6.1.5.5.7.1.33 of the RFC 9118 section 5
 * certificate = mustInclude ["confidence"], permittedValues confidence in
 * {"high", "medium"}, mustExclude ["priority"]. */
#define TV10B_HEX                                                                        \
    "3040A00E300C160A636F6E666964656E6365A120301E301C160A636F6E666964656E6365300E0C0468" \
    "6967680C066D656469756DA20C300A16087072696F72697479"

/*
 * JWTClaimConstraints (RFC 8226 8):
 *   asn1=SEQUENCE:jcc
 *   [jcc]  mustInclude=EXP:0,SEQUENCE:mi  permittedValues=EXP:1,SEQUENCE:pvl
 *   [mi]   n1=IA5:crn
 *   [pvl]  e1=SEQUENCE:crn  e2=SEQUENCE:rcd
 *   [crn]  claim=IA5:crn  values=SEQUENCE:crnv
 *   [crnv] v1=UTF8:Rendezvous for Little Nellie  v2=UTF8:Sales
 *   [rcd]  claim=IA5:rcd  values=SEQUENCE:rcdv
 *   [rcdv] v1=UTF8:{\"nam\":\"James Bond\"}
 */
#define CRN_RCD_HEX                                                                      \
    "305aa0073005160363726ea14f304d302c160363726e30250c1c52656e64657a766f757320666f7220" \
    "4c6974746c65204e656c6c69650c0553616c6573301d160372636430160c147b226e616d223a224a61" \
    "6d657320426f6e64227d"

/* JWTClaimConstraints: permittedValues confidence in {"high"}
 *   [jcc] permittedValues=EXP:1,SEQUENCE:pvl  [pvl] e1=SEQUENCE:c
 *   [c] claim=IA5:confidence values=SEQUENCE:v  [v] v1=UTF8:high */
#define HIGH_ONLY_HEX "301aa11830163014160a636f6e666964656e636530060c0468696768"

/* EnhancedJWTClaimConstraints listing a baseline claim in mustExclude:
 *   [ejcc] mustInclude=EXP:0,SEQUENCE:mi  mustExclude=EXP:2,SEQUENCE:me
 *   [mi] n1=IA5:confidence  [me] n1=IA5:orig */
#define EXCL_ORIG_HEX "301aa00e300c160a636f6e666964656e6365a208300616046f726967"

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void parse_hex(const char *hex, int enhanced, stir_jcc *j)
{
    unsigned char der[512];
    size_t n = unhex(hex, der, sizeof der);
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_jcc_parse(der, n, enhanced, j, &err);
    if (rc)
        fail_msg("unexpected parse failure %d: %s", rc, err.detail);
}

/* Expect 437 whose detail contains `needle`, and *out untouched. */
static void parse_bad(const unsigned char *der, size_t len, int enhanced, const char *needle)
{
    stir_jcc j;
    stir_error err;
    memset(&j, 0, sizeof j);
    memset(&err, 0, sizeof err);
    int rc = stir_jcc_parse(der, len, enhanced, &j, &err);
    assert_int_equal(rc, 437);
    assert_int_equal(err.code, 437);
    if (!strstr(err.detail, needle))
        fail_msg("detail \"%s\" lacks \"%s\"", err.detail, needle);
    assert_int_equal(j.n_include + j.n_permitted + j.n_exclude, 0);
    stir_jcc_clear(&j);
}

static void parse_bad_hex(const char *hex, int enhanced, const char *needle)
{
    unsigned char der[2048];
    parse_bad(der, unhex(hex, der, sizeof der), enhanced, needle);
}

/* Baseline claims plus `extra` (a JSON object text). */
static json_t *claims_with(const char *extra)
{
    json_error_t je;
    json_t *c = json_loads("{\"orig\":{\"tn\":\"12155551212\"},\"dest\":{\"tn\":[\"12155551213\"]},"
                           "\"iat\":1443208345}",
                           0, &je);
    json_t *x = json_loads(extra, 0, &je);
    assert_non_null(c);
    if (!x)
        fail_msg("bad test JSON %s: %s", extra, je.text);
    assert_int_equal(json_object_update(c, x), 0);
    json_decref(x);
    return c;
}

/* stir_jcc_check on baseline + extra: the code, and field/detail on failure. */
static int check(const stir_jcc *j, const char *extra, int code, stir_error *err)
{
    json_t *c = claims_with(extra);
    memset(err, 0, sizeof *err);
    int rc = stir_jcc_check(j, c, code, err);
    json_decref(c);
    return rc;
}

static void expect_pass(const stir_jcc *j, const char *extra)
{
    stir_error err;
    int rc = check(j, extra, 438, &err);
    if (rc)
        fail_msg("%s: unexpected %d: %s", extra, rc, err.detail);
}

static void expect_fail(const stir_jcc *j, const char *extra, const char *field, const char *needle)
{
    stir_error err;
    assert_int_equal(check(j, extra, 438, &err), 438);
    assert_int_equal(err.code, 438);
    assert_string_equal(err.field, field);
    if (!strstr(err.detail, needle))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", extra, err.detail, needle);
}

/* ---- TV-10b --------------------------------------------------------------------- */

static void assert_tv10b_lists(const stir_jcc *j)
{
    assert_int_equal(j->n_include, 1);
    assert_string_equal(j->include[0], "confidence");
    assert_int_equal(j->n_permitted, 1);
    assert_string_equal(j->permitted[0].claim, "confidence");
    assert_int_equal(j->permitted[0].n, 2);
    assert_string_equal(j->permitted[0].value[0], "high");
    assert_int_equal(j->permitted[0].len[0], 4);
    assert_string_equal(j->permitted[0].value[1], "medium");
    assert_int_equal(j->permitted[0].len[1], 6);
    assert_int_equal(j->n_exclude, 1);
    assert_string_equal(j->exclude[0], "priority");
    assert_int_equal(j->ignored_enhanced, 0);
}

static void test_tv10b_der(void **state)
{
    (void)state;
    stir_jcc j;
    memset(&j, 0, sizeof j);
    parse_hex(TV10B_HEX, 1, &j);
    assert_tv10b_lists(&j);
    stir_jcc_clear(&j);
    assert_int_equal(j.n_permitted, 0);
}

/* The certificate itself, through the chain API (parsed once at load). */
static void test_tv10b_certificate(void **state)
{
    (void)state;
    const char *src = getenv("STIR_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/rfc9118.pem", src ? src : ".");
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_cert_load(path, &err);
    if (!c)
        fail_msg("stir_cert_load(%s): %d %s", path, err.code, err.detail);
    assert_int_equal(stir_cert_jcc_status(c, &err), 0);
    const stir_jcc *j = stir_cert_jcc(c);
    assert_non_null(j);
    assert_tv10b_lists(j);

    /* RFC 9118 4/5: confidence must be there, high or medium; no priority. */
    expect_fail(j, "{}", "confidence",
                "claim confidence is missing: the certificate's mustInclude requires it "
                "(RFC 8226 8)");
    stir_error e;
    assert_int_equal(check(j, "{\"confidence\":\"low\"}", 438, &e), 438);
    assert_string_equal(e.field, "confidence");
    assert_string_equal(e.detail, "claim confidence \"low\" is not among the certificate's "
                                  "permittedValues (RFC 8226 8)");
    expect_pass(j, "{\"confidence\":\"high\"}");
    expect_pass(j, "{\"confidence\":\"medium\"}");
    expect_fail(j, "{\"confidence\":\"high\",\"priority\":\"1\"}", "priority",
                "claim priority is present: the certificate's mustExclude forbids it "
                "(RFC 9118 3)");
    /* Exact match: no case folding, no trimming, no type coercion. */
    expect_fail(j, "{\"confidence\":\"High\"}", "confidence", "\"High\"");
    expect_fail(j, "{\"confidence\":\"high \"}", "confidence", "permittedValues");
    expect_fail(j, "{\"confidence\":[\"high\"]}", "confidence", "[\"high\"]");
    stir_cert_unref(c);
}

/* A signer (code 400) is told which member its request lacks. */
static void test_codes(void **state)
{
    (void)state;
    stir_jcc j;
    memset(&j, 0, sizeof j);
    parse_hex(TV10B_HEX, 1, &j);
    stir_error err;
    assert_int_equal(check(&j, "{}", 400, &err), 400);
    assert_int_equal(err.missing, 1);
    assert_string_equal(err.field, "confidence");
    assert_int_equal(check(&j, "{\"confidence\":\"low\"}", 400, &err), 400);
    assert_int_equal(err.missing, 0);
    assert_int_equal(check(&j, "{}", 438, &err), 438);
    assert_int_equal(err.missing, 0);
    /* No constraints: anything goes. */
    assert_int_equal(check(NULL, "{\"priority\":\"1\"}", 438, &err), 0);
    stir_jcc_clear(&j);
}

/* ---- JWTClaimConstraints with crn and rcd (RFC 9795 6.2, 7.1) ----------------------- */

static void test_crn_rcd(void **state)
{
    (void)state;
    stir_jcc j;
    memset(&j, 0, sizeof j);
    parse_hex(CRN_RCD_HEX, 0, &j);
    assert_int_equal(j.n_include, 1);
    assert_string_equal(j.include[0], "crn");
    assert_int_equal(j.n_permitted, 2);
    assert_string_equal(j.permitted[0].claim, "crn");
    assert_int_equal(j.permitted[0].n, 2);
    assert_string_equal(j.permitted[0].value[0], "Rendezvous for Little Nellie");
    assert_string_equal(j.permitted[0].value[1], "Sales");
    assert_string_equal(j.permitted[1].claim, "rcd");
    assert_int_equal(j.permitted[1].n, 1);
    assert_string_equal(j.permitted[1].value[0], "{\"nam\":\"James Bond\"}");
    assert_int_equal(j.n_exclude, 0);

    expect_fail(&j, "{}", "crn", "mustInclude");
    expect_pass(&j, "{\"crn\":\"Sales\"}");
    expect_fail(&j, "{\"crn\":\"Support\"}", "crn",
                "claim crn \"Support\" is not among the certificate's permittedValues");
    /* rcd is optional here (no mustInclude), but when present it must be
     * one of the listed rcd values: compared as its RFC 8225 9 form. */
    expect_pass(&j, "{\"crn\":\"Sales\",\"rcd\":{\"nam\":\"James Bond\"}}");
    expect_pass(&j, "{\"crn\":\"Sales\",\"rcd\":{ \"nam\" : \"James Bond\" }}");
    expect_fail(&j, "{\"crn\":\"Sales\",\"rcd\":{\"nam\":\"Dr. No\"}}", "rcd",
                "claim rcd {\"nam\":\"Dr. No\"} is not among the certificate's permittedValues");
    expect_fail(&j, "{\"crn\":\"Sales\",\"rcd\":{\"nam\":\"James Bond\",\"apn\":\"12025551000\"}}",
                "rcd", "claim rcd {\"apn\"");
    stir_jcc_clear(&j);
}

/* RFC 9118 3: a baseline claim in mustExclude voids the whole extension. */
static void test_baseline_excluded(void **state)
{
    (void)state;
    stir_jcc j;
    memset(&j, 0, sizeof j);
    parse_hex(EXCL_ORIG_HEX, 1, &j);
    assert_int_equal(j.ignored_enhanced, 1);
    assert_int_equal(j.n_include + j.n_permitted + j.n_exclude, 0);
    expect_pass(&j, "{}"); /* its mustInclude confidence is not applied */
    stir_jcc_clear(&j);
}

/* Both extensions in one certificate: both bind. */
static void test_both_bind(void **state)
{
    (void)state;
    stir_jcc j;
    memset(&j, 0, sizeof j);
    parse_hex(HIGH_ONLY_HEX, 0, &j);
    parse_hex(TV10B_HEX, 1, &j);
    assert_int_equal(j.n_permitted, 2);
    expect_pass(&j, "{\"confidence\":\"high\"}");
    expect_fail(&j, "{\"confidence\":\"medium\"}", "confidence", "\"medium\"");
    expect_fail(&j, "{}", "confidence", "mustInclude");
    expect_fail(&j, "{\"confidence\":\"high\",\"priority\":\"x\"}", "priority", "mustExclude");
    stir_jcc_clear(&j);
}

/* ---- malformed ------------------------------------------------------------------- */

static void test_malformed(void **state)
{
    (void)state;
    /* empty SEQUENCE: WITH COMPONENTS needs one */
    parse_bad_hex("3000", 0, "no component");
    parse_bad_hex("3000", 1, "no component");
    /* [0] with nothing in it */
    parse_bad_hex("3002a000", 0, "mustInclude missing (truncated)");
    /* mustInclude with an empty list (SIZE (1..MAX)) */
    parse_bad_hex("3004a0023000", 0, "mustInclude is empty");
    /* [0] IMPLICIT (primitive 0x80) instead of EXPLICIT */
    parse_bad_hex("30058003637266", 0, "unexpected component");
    /* TV-10b read as JWTClaimConstraints: [2] is not in RFC 8226's module */
    parse_bad_hex(TV10B_HEX, 0, "unexpected component (class 2, tag 2)");
    /* components out of order: HIGH_ONLY's [1], then [0] crn */
    parse_bad_hex("3023a11830163014160a636f6e666964656e636530060c0468696768"
                  "a0073005160363726e",
                  0, "component [0] repeated or out of order");
    /* [0] twice */
    parse_bad_hex("3012a0073005160363726ea0073005160363726e", 0, "repeated");
    /* a claim name as UTF8String (0x0c) instead of IA5String */
    parse_bad_hex("3009a00730050c0363726e", 0, "mustInclude name 1 is not an IA5String (tag 12)");
    /* HIGH_ONLY with the value as IA5String (0x16) instead of UTF8String */
    parse_bad_hex("301aa11830163014160a636f6e666964656e63653006160468696768", 0,
                  "permittedValues confidence value 1 is not a UTF8String (tag 22)");
    /* HIGH_ONLY with the value bytes c3 28 68 68: not UTF-8 */
    parse_bad_hex("301aa11830163014160a636f6e666964656e636530060c04c3286868", 0, "not valid UTF-8");
    /* HIGH_ONLY with an empty values list */
    parse_bad_hex("3014a1123010300e160a636f6e666964656e63653000", 0,
                  "permittedValues confidence values is empty");
    /* HIGH_ONLY with a trailing byte */
    parse_bad_hex(HIGH_ONLY_HEX "00", 0, "1 trailing bytes");
    /* HIGH_ONLY with the outer length in long form (81 1a): not DER */
    parse_bad_hex("30811aa11830163014160a636f6e666964656e636530060c0468696768", 0,
                  "non-minimal length");
    /* indefinite length outer SEQUENCE */
    parse_bad_hex("3080a11830163014160a636f6e666964656e636530060c04686967680000", 0,
                  "indefinite length");
    /* truncated TV-10b */
    parse_bad_hex("3040A00E300C160A636F6E666964656E6365", 1, "truncated");
    /* a control character in a name: mustInclude ["a\nb"] */
    parse_bad_hex("3009a0073005160361"
                  "0a"
                  "62",
                  0, "not printable ASCII");
    /* SET instead of SEQUENCE */
    parse_bad_hex("311aa11830163014160a636f6e666964656e636530060c0468696768", 0, "not a SEQUENCE");

    /* 17 names in mustInclude: "a".."q" (each 16 01 xx) */
    char hex[256] = "3037a0353033";
    for (int i = 0; i < 17; i++)
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "1601%02x", 'a' + i);
    parse_bad_hex(hex, 0, "mustInclude has more than 16 names");
    /* 16 are fine */
    snprintf(hex, sizeof hex, "3034a0323030");
    for (int i = 0; i < 16; i++)
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "1601%02x", 'a' + i);
    stir_jcc j;
    memset(&j, 0, sizeof j);
    parse_hex(hex, 0, &j);
    assert_int_equal(j.n_include, 16);
    assert_string_equal(j.include[15], "p");
    /* a further extension cannot push a list over the limit, and leaves j as it was */
    parse_hex(HIGH_ONLY_HEX, 1, &j);
    unsigned char der[64];
    size_t n = unhex("3009a0073005160363726e", der, sizeof der); /* mustInclude ["crn"] */
    stir_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(stir_jcc_parse(der, n, 1, &j, &err), 437);
    assert_non_null(strstr(err.detail, "more than 16 entries"));
    assert_int_equal(j.n_include, 16);
    assert_int_equal(j.n_permitted, 1);
    stir_jcc_clear(&j);

    /* a 64-byte name (63 allowed) */
    char big[300] = "3046a0443042"
                    "1640";
    for (int i = 0; i < 64; i++)
        strcat(big, "78");
    parse_bad_hex(big, 0, "has 64 characters (1..63 allowed)");
    /* a 1025-byte value (1024 allowed):
     * [1] { { IA5 "x", { UTF8 (1025 bytes) } } } */
    static char huge[2200];
    snprintf(huge, sizeof huge, "30820418a1820414308204103082040c160178308204050c820401");
    for (int i = 0; i < 1025; i++)
        strcat(huge, "41");
    parse_bad_hex(huge, 0, "has 1025 bytes (at most 1024)");
}

/* ---- certificates made by the openssl CLI ------------------------------------------ */

static char pki[256];

static int make_certs(void **state)
{
    (void)state;
    const char *src = getenv("STIR_SRC");
    snprintf(pki, sizeof pki, "/tmp/stir-test-jcc-XXXXXX");
    if (!mkdtemp(pki))
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/tools/mkpki.sh' '%s'", src ? src : ".", pki);
    if (system(cmd) != 0)
        return -1;
    /* Leaves under the fixture STI-CA: "both" has a JWTClaimConstraints and
     * the TV-10b EnhancedJWTClaimConstraints, "bad" an empty one. */
    static const char common[] = "basicConstraints=critical,CA:FALSE\n"
                                 "keyUsage=critical,digitalSignature\n"
                                 "subjectKeyIdentifier=hash\n"
                                 "authorityKeyIdentifier=keyid:always\n"
                                 "certificatePolicies=2.16.840.1.114569.1.1.3\n"
                                 "1.3.6.1.5.5.7.1.26=DER:30:08:a0:06:16:04:37:30:39:4a\n";
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'\n"
             "cat >>ext.cnf <<'EOF'\n"
             "[ee_both]\n%s"
             "1.3.6.1.5.5.7.1.27=DER:%s\n"
             "1.3.6.1.5.5.7.1.33=DER:%s\n"
             "[ee_bad]\n%s"
             "1.3.6.1.5.5.7.1.27=DER:30:00\n"
             "EOF\n"
             "for s in both bad; do\n"
             "  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $s.key\n"
             "  openssl req -new -key $s.key -subj '/C=US/O=Example Carrier/CN=SHAKEN 709J'"
             " -out $s.csr -config ext.cnf\n"
             "  openssl x509 -req -sha256 -in $s.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
             " -days 30 -extfile ext.cnf -extensions ee_$s -out $s.pem\n"
             "  cat $s.pem ca.pem >chain_$s.pem\n"
             "done\n",
             pki, common, HIGH_ONLY_HEX, TV10B_HEX, common);
    char script[512];
    snprintf(script, sizeof script, "%s/make.sh", pki);
    FILE *f = fopen(script, "w");
    if (!f)
        return -1;
    fputs(cmd, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "bash '%s' >'%s/make.log' 2>&1 || { cat '%s/make.log'; exit 1; }",
             script, pki, pki);
    return system(cmd) == 0 ? 0 : -1;
}

static int remove_certs(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki);
    return system(cmd) == 0 ? 0 : -1;
}

static stir_cert *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", pki, name);
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_cert_load(path, &err);
    if (!c)
        fail_msg("stir_cert_load(%s): %d %s", path, err.code, err.detail);
    return c;
}

static stir_trust *root(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/root.pem", pki);
    stir_error err;
    stir_trust *t = stir_trust_load(path, &err);
    assert_non_null(t);
    return t;
}

static void test_cert_both(void **state)
{
    (void)state;
    stir_cert *c = load("chain_both.pem");
    stir_trust *t = root();
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_cert_validate(c, t, time(NULL), &err);
    if (rc)
        fail_msg("validate: %d %s", rc, err.detail);
    const stir_jcc *j = stir_cert_jcc(c);
    assert_non_null(j);
    assert_int_equal(j->n_include, 1);
    assert_int_equal(j->n_permitted, 2); /* confidence {high}, confidence {high, medium} */
    assert_int_equal(j->n_exclude, 1);
    expect_pass(j, "{\"confidence\":\"high\"}");
    expect_fail(j, "{\"confidence\":\"medium\"}", "confidence", "permittedValues");
    stir_trust_free(t);
    stir_cert_unref(c);
}

/* A malformed JWTClaimConstraints makes the certificate unacceptable
 * (437), as a malformed TNAuthList does. */
static void test_cert_bad(void **state)
{
    (void)state;
    stir_cert *c = load("chain_bad.pem");
    stir_trust *t = root();
    stir_error err;
    memset(&err, 0, sizeof err);
    assert_null(stir_cert_jcc(c));
    assert_int_equal(stir_cert_jcc_status(c, &err), 437);
    assert_string_equal(err.detail, "certificate JWTClaimConstraints: no component (WITH "
                                    "COMPONENTS needs one present)");
    memset(&err, 0, sizeof err);
    assert_int_equal(stir_cert_validate(c, t, time(NULL), &err), 437);
    assert_string_equal(err.detail, "certificate JWTClaimConstraints: no component (WITH "
                                    "COMPONENTS needs one present)");
    stir_trust_free(t);
    stir_cert_unref(c);

    /* The fixture's plain leaf has no constraints. */
    c = load("chain.pem");
    assert_null(stir_cert_jcc(c));
    assert_int_equal(stir_cert_jcc_status(c, &err), 0);
    stir_cert_unref(c);
}

int main(void)
{
    const struct CMUnitTest parse[] = {
        cmocka_unit_test(test_tv10b_der),
        cmocka_unit_test(test_tv10b_certificate),
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_crn_rcd),
        cmocka_unit_test(test_baseline_excluded),
        cmocka_unit_test(test_both_bind),
        cmocka_unit_test(test_malformed),
    };
    const struct CMUnitTest certs[] = {
        cmocka_unit_test(test_cert_both),
        cmocka_unit_test(test_cert_bad),
    };
    int fails = cmocka_run_group_tests_name("jcc", parse, NULL, NULL);
    fails += cmocka_run_group_tests_name("jcc certificates", certs, make_certs, remove_certs);
    return fails;
}
