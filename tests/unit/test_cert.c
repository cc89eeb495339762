/*
 * Certificate chains, trust anchors and the test PKI.
 * Fixtures come from tests/tools/mkpki.sh (openssl CLI, independent of
 * libstir); stir_pki_create output is cross-checked with the openssl CLI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "stir/cert.h"
#include "stir/pki.h"

static char g_dir[256]; /* mkpki.sh output */
static stir_trust *g_trust;

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", g_dir, name);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int r = system(cmd);
    return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("STIR_SRC");
    snprintf(g_dir, sizeof g_dir, "/tmp/stir-test-cert-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    if (sh("bash '%s/tests/tools/mkpki.sh' '%s'", src ? src : ".", g_dir) != 0)
        return -1;
    char p[512];
    path_of(p, sizeof p, "root.pem");
    stir_error err;
    g_trust = stir_trust_load(p, &err);
    return g_trust ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    stir_trust_free(g_trust);
    sh("rm -rf '%s'", g_dir);
    return 0;
}

static stir_cert *load(const char *name)
{
    char p[512];
    path_of(p, sizeof p, name);
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_cert_load(p, &err);
    if (!c)
        fail_msg("load %s: %d %s", name, err.code, err.detail);
    return c;
}

static void assert_detail(const stir_error *err, const char *needle)
{
    if (!strstr(err->detail, needle))
        fail_msg("detail \"%s\" lacks \"%s\"", err->detail, needle);
}

/* Validate fixture `name` now; expect `code` and a detail containing needle. */
static void expect_validate(const char *name, int code, const char *needle)
{
    stir_cert *c = load(name);
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_cert_validate(c, g_trust, time(NULL), &err);
    if (rc != code)
        fail_msg("%s: rc %d (%s), expected %d", name, rc, err.detail, code);
    if (needle)
        assert_detail(&err, needle);
    stir_cert_unref(c);
}

static void expect_parse_fail(const char *body, size_t len, const char *needle)
{
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_cert_parse_pem(body, len, &err);
    if (c)
        fail_msg("parse succeeded, expected 436 \"%s\"", needle);
    assert_int_equal(err.code, 436);
    assert_detail(&err, needle);
}

static char *slurp(const char *name, size_t *len)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* notAfter of a certificate file as the openssl CLI reports it. */
static time_t cli_time(const char *path, const char *which)
{
    char cmd[1024], line[128];
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -%s -dateopt iso_8601", path, which);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof line, p));
    pclose(p);
    /* "notAfter=2027-11-23 15:50:05Z" */
    const char *v = strchr(line, '=');
    assert_non_null(v);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    assert_non_null(strptime(v + 1, "%Y-%m-%d %H:%M:%S", &tm));
    return timegm(&tm);
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    return k;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_good_chain(void **state)
{
    (void)state;
    stir_cert *c = load("chain.pem");
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_cert_validate(c, g_trust, time(NULL), &err);
    if (rc)
        fail_msg("good chain: %d %s", rc, err.detail);

    const stir_tnauth *ta = stir_cert_tnauth(c);
    assert_non_null(ta);
    assert_int_equal(ta->n, 1);
    assert_int_equal(ta->e[0].kind, STIR_TNAUTH_SPC);
    assert_string_equal(ta->e[0].value, "709J");

    /* validity window = intersection of leaf and intermediate (openssl CLI) */
    char sp[512], ca[512];
    path_of(sp, sizeof sp, "sp.pem");
    path_of(ca, sizeof ca, "ca.pem");
    time_t na_sp = cli_time(sp, "enddate"), na_ca = cli_time(ca, "enddate");
    time_t nb_sp = cli_time(sp, "startdate"), nb_ca = cli_time(ca, "startdate");
    assert_int_equal(stir_cert_not_after(c), na_sp < na_ca ? na_sp : na_ca);
    assert_int_equal(stir_cert_not_before(c), nb_sp > nb_ca ? nb_sp : nb_ca);

    /* outside the window */
    rc = stir_cert_validate(c, g_trust, stir_cert_not_before(c) - 86400, &err);
    assert_int_equal(rc, 437);
    assert_detail(&err, "not valid before");
    rc = stir_cert_validate(c, g_trust, stir_cert_not_after(c) + 86400, &err);
    assert_int_equal(rc, 437);
    assert_detail(&err, "certificate expired");

    /* PEM text is returned verbatim */
    size_t flen, plen;
    char *file = slurp("chain.pem", &flen);
    const char *pem = stir_cert_pem(c, &plen);
    assert_int_equal(plen, flen);
    assert_memory_equal(pem, file, flen);
    free(file);

    char *d = stir_cert_describe(c);
    assert_non_null(d);
    assert_non_null(strstr(d, "CN=SHAKEN 709J"));
    assert_non_null(strstr(d, "SPC 709J"));
    assert_non_null(strstr(d, "2 certificates"));
    free(d);

    char kp[512];
    path_of(kp, sizeof kp, "sp.key");
    EVP_PKEY *k = load_key(kp);
    assert_int_equal(stir_cert_matches_key(c, k), 1);
    EVP_PKEY_free(k);
    path_of(kp, sizeof kp, "ca.key");
    k = load_key(kp);
    assert_int_equal(stir_cert_matches_key(c, k), 0);
    EVP_PKEY_free(k);
    assert_non_null(stir_cert_pubkey(c));

    /* refcount: a second reference keeps it alive */
    stir_cert *c2 = stir_cert_ref(c);
    stir_cert_unref(c);
    assert_non_null(stir_cert_tnauth(c2));
    stir_cert_unref(c2);
}

static void test_expired(void **state)
{
    (void)state;
    /* window set with openssl ca -startdate 20200101000000Z -enddate 20200102000000Z */
    expect_validate("chain_expired.pem", 437, "certificate expired 2020-01-02T00:00:00Z");
    expect_validate("chain_future.pem", 437, "certificate not valid before 2099-01-01T00:00:00Z");
}

static void test_untrusted(void **state)
{
    (void)state;
    expect_validate("chain_untrusted.pem", 437, "untrusted root");
    expect_validate("chain_untrusted.pem", 437, "CN=Evil Root");
    /* leaf alone: its issuer (the intermediate) is missing */
    expect_validate("sp.pem", 437, "untrusted root");
}

static void test_profile(void **state)
{
    (void)state;
    expect_validate("chain_notn.pem", 437, "certificate has no TNAuthList extension");
    expect_validate("chain_p384.pem", 437, "certificate key is not P-256");
    expect_validate("chain_p384.pem", 437, "secp384r1");
    expect_validate("chain_rsa.pem", 437, "certificate key is not P-256 (RSA-2048)");
    expect_validate("chain_nods.pem", 437, "digitalSignature");
}

static void test_bad_bodies(void **state)
{
    (void)state;
    size_t len;
    char *b = slurp("chain_key.pem", &len);
    expect_parse_fail(b, len, "x5u body contains a private key");
    free(b);

    b = slurp("chain9.pem", &len);
    expect_parse_fail(b, len, "more than 8 certificates");
    free(b);

    expect_parse_fail("hello world\n", 12, "not PEM");
    expect_parse_fail("", 0, "no certificate");
    expect_parse_fail("  \n\n", 4, "no certificate");

    b = slurp("chain.pem", &len);
    char *buf = malloc(len + 64);
    assert_non_null(buf);
    /* garbage between blocks */
    memcpy(buf, b, len);
    memcpy(buf + len, "garbage\n", 8);
    expect_parse_fail(buf, len + 8, "unexpected text");
    /* a NUL byte */
    memcpy(buf, b, len);
    buf[len] = '\0';
    expect_parse_fail(buf, len + 1, "NUL");
    /* corrupted base64 in the first block (line 2 starts at offset 28) */
    memcpy(buf, b, len);
    buf[30] = '!';
    expect_parse_fail(buf, len, "certificate 1");
    /* truncated: no END line */
    expect_parse_fail(b, 200, "no -----END CERTIFICATE-----");
    free(buf);
    free(b);

    static const char pub[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1HoLqcFZED99dOCVXTdpeRfLyHH2\n"
                              "gG21UuGxNnUhhVEFqjg5mFV/9e/VrfEuxnop92G7KVJ4Aq4KhJtUaiNgMQ==\n"
                              "-----END PUBLIC KEY-----\n";
    expect_parse_fail(pub, sizeof pub - 1, "\"PUBLIC KEY\" PEM block");

    /* a private key alone, any flavour */
    static const char eckey[] =
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    expect_parse_fail(eckey, sizeof eckey - 1, "x5u body contains a private key");
}

static void test_trust_load(void **state)
{
    (void)state;
    stir_error err;
    memset(&err, 0, sizeof err);
    assert_null(stir_trust_load("/nonexistent/stir/roots.pem", &err));
    assert_int_equal(err.code, 500);
    assert_detail(&err, "/nonexistent/stir/roots.pem");
    assert_detail(&err, "No such file or directory");

    /* a directory: *.pem and *.crt are read, other files ignored */
    char dir[512];
    path_of(dir, sizeof dir, "anchors");
    assert_int_equal(sh("mkdir -p '%s' && cp '%s/root.pem' '%s/a.crt' && "
                        "cp '%s/evil_root.pem' '%s/b.pem' && echo junk > '%s/readme.txt'",
                        dir, g_dir, dir, g_dir, dir, dir),
                     0);
    stir_trust *t = stir_trust_load(dir, &err);
    if (!t)
        fail_msg("trust dir: %s", err.detail);
    assert_int_equal(stir_trust_count(t), 2);
    stir_cert *c = load("chain_untrusted.pem");
    assert_int_equal(stir_cert_validate(c, t, time(NULL), &err), 0);
    stir_cert_unref(c);
    stir_trust_free(t);

    /* an unreadable file in the directory is an error naming it */
    assert_int_equal(sh("ln -s /nonexistent/stir-root.pem '%s/broken.pem'", dir), 0);
    assert_null(stir_trust_load(dir, &err));
    assert_int_equal(err.code, 500);
    assert_detail(&err, "broken.pem: No such file or directory");

    /* a missing chain file is a 500 too */
    assert_null(stir_cert_load("/nonexistent/stir/chain.pem", &err));
    assert_int_equal(err.code, 500);
    assert_detail(&err, "/nonexistent/stir/chain.pem");

    /* an empty directory has no anchor */
    path_of(dir, sizeof dir, "empty-anchors");
    assert_int_equal(sh("mkdir -p '%s'", dir), 0);
    assert_null(stir_trust_load(dir, &err));
    assert_int_equal(err.code, 500);
    assert_detail(&err, "no certificate found");

    /* a file that is not PEM has no anchor either */
    char p[512];
    path_of(p, sizeof p, "ext.cnf");
    assert_null(stir_trust_load(p, &err));
    assert_int_equal(err.code, 500);

    /* from memory */
    size_t len;
    char *pem = slurp("root.pem", &len);
    t = stir_trust_from_pem(pem, len, &err);
    assert_non_null(t);
    assert_int_equal(stir_trust_count(t), 1);
    stir_trust_free(t);
    free(pem);
}

static void test_rfc9118_cert(void **state)
{
    (void)state;
    const char *src = getenv("STIR_SRC");
    char p[1024];
    snprintf(p, sizeof p, "%s/tests/data/rfc9118.pem", src ? src : ".");
    stir_error err;
    memset(&err, 0, sizeof err);
    stir_cert *c = stir_cert_load(p, &err);
    assert_non_null(c);
    /* root "BOGUS SHAKEN ROOT" is unknown and the certificate expired in 2022 */
    assert_int_equal(stir_cert_validate(c, g_trust, time(NULL), &err), 437);
    assert_detail(&err, "BOGUS SHAKEN ROOT");
    /* TV-10b validity: 2021-07-15 21:52:15Z .. 2022-07-15 21:52:15Z */
    assert_int_equal(stir_cert_not_before(c), 1626385935);
    assert_int_equal(stir_cert_not_after(c), 1657921935);
    stir_cert_unref(c);
}

static void test_pki_create(void **state)
{
    (void)state;
    char dir[512], p[600];
    path_of(dir, sizeof dir, "made/pki");
    assert_int_equal(stir_pki_exists(dir), 0);
    stir_pki_options opt = {
        .dir = dir, .spc = "818H", .tls_hosts = "localhost,127.0.0.1", .days = 30};
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = stir_pki_create(&opt, &err);
    if (rc)
        fail_msg("stir_pki_create: %d %s", rc, err.detail);
    assert_int_equal(stir_pki_exists(dir), 1);

    /* never overwrites */
    assert_int_equal(stir_pki_create(&opt, &err), 500);
    assert_detail(&err, "refusing to overwrite");

    /* keys are private */
    struct stat st;
    snprintf(p, sizeof p, "%s/sp.key", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* validates against its own root with our code ... */
    snprintf(p, sizeof p, "%s/root.pem", dir);
    stir_trust *t = stir_trust_load(p, &err);
    assert_non_null(t);
    snprintf(p, sizeof p, "%s/chain.pem", dir);
    stir_cert *c = stir_cert_load(p, &err);
    assert_non_null(c);
    rc = stir_cert_validate(c, t, time(NULL), &err);
    if (rc)
        fail_msg("pki chain: %d %s", rc, err.detail);
    assert_string_equal(stir_cert_tnauth(c)->e[0].value, "818H");
    snprintf(p, sizeof p, "%s/sp.key", dir);
    EVP_PKEY *k = load_key(p);
    assert_int_equal(stir_cert_matches_key(c, k), 1);
    EVP_PKEY_free(k);
    stir_cert_unref(c);
    stir_trust_free(t);
    /* ... and with nobody else's root */
    snprintf(p, sizeof p, "%s/chain.pem", dir);
    c = stir_cert_load(p, &err);
    assert_int_equal(stir_cert_validate(c, g_trust, time(NULL), &err), 437);
    stir_cert_unref(c);

    /* independent checks with the openssl CLI */
    assert_int_equal(sh("cd '%s' && openssl verify -CAfile root.pem -untrusted ca.pem "
                        "-x509_strict -policy 2.16.840.1.114569.1.1.3 -explicit_policy "
                        "sp.pem >/dev/null 2>&1",
                        dir),
                     0);
    /* TNAuthList value: SEQUENCE { [0] IA5String "818H" } (TV-10) */
    assert_int_equal(sh("cd '%s' && openssl asn1parse -in sp.pem | "
                        "grep -q '3008A006160438313848'",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && openssl x509 -in sp.pem -noout -subject | "
                        "grep -q 'CN = SHAKEN 818H'",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && openssl x509 -in root.pem -noout -subject | "
                        "grep -q 'CN = STI-PA Test Root'",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && openssl x509 -in sp.pem -noout -ext keyUsage | "
                        "tr -d '\\n' | grep -q 'Key Usage: critical *Digital Signature$'",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && openssl x509 -in sp.pem -noout -ext basicConstraints | "
                        "tr -d '\\n' | grep -q 'critical *CA:FALSE'",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && openssl x509 -in tls.pem -noout -ext subjectAltName | "
                        "grep -q 'DNS:localhost, IP Address:127.0.0.1'",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && openssl verify -CAfile tls.pem -purpose sslserver tls.pem "
                        ">/dev/null 2>&1",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && cmp -s chain.pem sp.pem && exit 1; "
                        "cat sp.pem ca.pem | cmp -s - chain.pem",
                        dir),
                     0);
    assert_int_equal(sh("cd '%s' && head -1 sp.key | grep -qx -- '-----BEGIN PRIVATE KEY-----' && "
                        "openssl pkey -in sp.key -noout -text | grep -q 'prime256v1'",
                        dir),
                     0);
    /* serial of at least 64 bits */
    assert_int_equal(sh("cd '%s' && s=$(openssl x509 -in sp.pem -noout -serial | cut -d= -f2) && "
                        "[ ${#s} -ge 16 ]",
                        dir),
                     0);

    /* bad options */
    stir_pki_options bad = {.dir = dir, .spc = "709j"};
    assert_int_equal(stir_pki_create(&bad, &err), 400);
    assert_string_equal(err.field, "spc");
}

static void test_keygen(void **state)
{
    (void)state;
    char p[512];
    path_of(p, sizeof p, "fresh.key");
    stir_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(stir_keygen(p, &err), 0);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(sh("openssl pkey -in '%s' -noout -text | grep -q 'NIST CURVE: P-256'", p), 0);
    /* an existing file is not replaced */
    assert_int_equal(stir_keygen(p, &err), 500);
    assert_detail(&err, "File exists");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chain),   cmocka_unit_test(test_expired),
        cmocka_unit_test(test_untrusted),    cmocka_unit_test(test_profile),
        cmocka_unit_test(test_bad_bodies),   cmocka_unit_test(test_trust_load),
        cmocka_unit_test(test_rfc9118_cert), cmocka_unit_test(test_pki_create),
        cmocka_unit_test(test_keygen),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
