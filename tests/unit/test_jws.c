/*
 * ES256 with raw r||s (jws.c, RFC 7518 3.4). Expected values come from
 * elsewhere: the RFC 6979 A.2.5 P-256 vector and the TV-12 PASSporTs of
 * test-vectors.md (signed with the RFC 8946 key), the openssl CLI
 * (`openssl dgst -sha256 -verify` over our signatures converted to DER,
 * `openssl dgst -sha256 -sign` for signatures we must accept), and
 * OpenSSL's own ECDSA_SIG for the DER <-> r||s edge cases.
 */
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "test_util.h"
#include "tv12.h"
#include "stir/encoding.h"
#include "stir/jws.h"
#include "stir/stir.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/stir-test-jws-XXXXXX");
    if (!mkdtemp(g_dir) || stir_init() != 0)
        return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/priv.pem", g_dir);
    FILE *f = fopen(p, "w");
    fputs(RFC8946_PRIV, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/pub.pem", g_dir);
    f = fopen(p, "w");
    fputs(RFC8946_PUB, f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    stir_cleanup();
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const void *d, size_t n)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

static size_t read_file(const char *name, unsigned char *d, size_t cap)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(d, 1, cap, f);
    fclose(f);
    return n;
}

/* raw r||s -> DER with OpenSSL's ECDSA_SIG (not libstir's converter). */
static size_t raw_to_der(const unsigned char sig[64], unsigned char *der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)),
                     1);
    unsigned char *p = der;
    int n = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    assert_true(n > 0);
    return (size_t)n;
}

static void der_to_raw(const unsigned char *der, size_t n, unsigned char sig[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    assert_non_null(es);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, sig, 32), 32);
    assert_int_equal(BN_bn2binpad(s, sig + 32, 32), 32);
    ECDSA_SIG_free(es);
}

/* Does the openssl CLI accept DER signature file `sig` over `msg`? */
static int cli_verify(const char *msg, const char *sig)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && openssl dgst -sha256 -verify pub.pem -signature %s %s >/dev/null 2>&1",
             g_dir, sig, msg);
    return system(cmd) == 0;
}

static void test_vector_v1(void **state)
{
    (void)state;
    EVP_PKEY *pub = pem_pub(RFC8946_PUB);
    const char *input = V1_H "." V1_P;
    unsigned char sig[80];
    assert_int_equal(stir_b64url_decode(V1_S, strlen(V1_S), sig, sizeof sig), 64);
    assert_int_equal(stir_es256_verify(pub, input, strlen(input), sig), 1);
    /* One byte of the input, or of r, or of s changed: invalid. */
    char *bad = strdup(input);
    bad[strlen(bad) - 3] ^= 1;
    assert_int_equal(stir_es256_verify(pub, bad, strlen(bad), sig), 0);
    free(bad);
    sig[5] ^= 0x40;
    assert_int_equal(stir_es256_verify(pub, input, strlen(input), sig), 0);
    sig[5] ^= 0x40;
    sig[40] ^= 0x01;
    assert_int_equal(stir_es256_verify(pub, input, strlen(input), sig), 0);
    EVP_PKEY_free(pub);
}

/* RFC 6979 A.2.5, P-256/SHA-256, message "sample" (TV-11). */
static void test_vector_rfc6979(void **state)
{
    (void)state;
    static const char *spki_hex =
        "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
        "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
        "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
    static const char *rs_hex = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
                                "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";
    unsigned char spki[91], sig[64];
    long n = 0;
    unsigned char *b = OPENSSL_hexstr2buf(spki_hex, &n);
    assert_int_equal(n, 91);
    memcpy(spki, b, 91);
    OPENSSL_free(b);
    b = OPENSSL_hexstr2buf(rs_hex, &n);
    assert_int_equal(n, 64);
    memcpy(sig, b, 64);
    OPENSSL_free(b);
    const unsigned char *p = spki;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, 91);
    assert_non_null(pub);
    assert_true(stir_key_is_p256(pub));
    assert_int_equal(stir_es256_verify(pub, "sample", 6, sig), 1);
    assert_int_equal(stir_es256_verify(pub, "test", 4, sig), 0);
    EVP_PKEY_free(pub);
}

/* Our signatures, as DER, verify with the openssl CLI. */
static void test_sign_checked_by_cli(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_priv(RFC8946_PRIV);
    const char *msg = V1_H "." V1_P;
    write_file("msg", msg, strlen(msg));
    for (int i = 0; i < 3; i++) {
        unsigned char sig[64], der[80];
        assert_int_equal(stir_es256_sign(priv, msg, strlen(msg), sig), 0);
        write_file("sig.der", der, raw_to_der(sig, der));
        assert_true(cli_verify("msg", "sig.der"));
        write_file("other", "x", 1);
        assert_false(cli_verify("other", "sig.der"));
    }
    EVP_PKEY_free(priv);
}

/* Signatures made by the openssl CLI verify here. */
static void test_verify_cli_signature(void **state)
{
    (void)state;
    EVP_PKEY *pub = pem_pub(RFC8946_PUB);
    const char *msg = "hello PASSporT";
    write_file("m2", msg, strlen(msg));
    char cmd[512];
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "cd '%s' && openssl dgst -sha256 -sign priv.pem -out s2.der m2",
                 g_dir);
        assert_int_equal(system(cmd), 0);
        unsigned char der[100], sig[64];
        size_t n = read_file("s2.der", der, sizeof der);
        der_to_raw(der, n, sig);
        assert_int_equal(stir_es256_verify(pub, msg, strlen(msg), sig), 1);
        assert_int_equal(stir_es256_verify(pub, msg, strlen(msg) - 1, sig), 0);
    }
    EVP_PKEY_free(pub);
}

/* Signatures whose r or s is short (leading zero bytes) or has its high
 * bit set: the DER conversion must be minimal both ways. Made with
 * OpenSSL's EVP API until each case has been seen. */
static void test_short_and_high_bit_halves(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_priv(RFC8946_PRIV), *pub = pem_pub(RFC8946_PUB);
    int short_r = 0, short_s = 0, high_r = 0;
    char msg[32];
    for (int i = 0; i < 20000 && !(short_r && short_s && high_r); i++) {
        snprintf(msg, sizeof msg, "m%d", i);
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        unsigned char der[80], sig[64];
        size_t n = sizeof der;
        assert_int_equal(EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, priv), 1);
        assert_int_equal(EVP_DigestSign(mc, der, &n, (const unsigned char *)msg, strlen(msg)), 1);
        EVP_MD_CTX_free(mc);
        der_to_raw(der, n, sig);
        int sr = sig[0] == 0, ss = sig[32] == 0, hr = (sig[0] & 0x80) != 0;
        if ((sr && !short_r) || (ss && !short_s) || (hr && !high_r)) {
            assert_int_equal(stir_es256_verify(pub, msg, strlen(msg), sig), 1);
            short_r |= sr;
            short_s |= ss;
            high_r |= hr;
        }
    }
    assert_true(short_r && short_s && high_r);
    EVP_PKEY_free(priv);
    EVP_PKEY_free(pub);
}

static void test_invalid_signatures(void **state)
{
    (void)state;
    EVP_PKEY *pub = pem_pub(RFC8946_PUB);
    unsigned char sig[64];
    /* r = s = 0 and r = s = 2^256-1 (>= n) are outside [1, n-1]. */
    memset(sig, 0, sizeof sig);
    assert_int_equal(stir_es256_verify(pub, "x", 1, sig), 0);
    memset(sig, 0xff, sizeof sig);
    assert_int_equal(stir_es256_verify(pub, "x", 1, sig), 0);
    EVP_PKEY_free(pub);
}

/* stir_jws_sign: RFC 8225 9 serialization of header and payload given in
 * any key order gives exactly TV-12 V1's encoded parts; the signature over
 * them verifies with the openssl CLI. */
static void test_jws_sign_parts(void **state)
{
    (void)state;
    EVP_PKEY *priv = pem_priv(RFC8946_PRIV);
    json_error_t je;
    json_t *h =
        json_loads("{\"x5u\":\"https://cert.example.org/passport.cer\",\"typ\":\"passport\","
                   "\"ppt\":\"shaken\",\"alg\":\"ES256\"}",
                   0, &je);
    json_t *p = json_loads("{\"origid\":\"123e4567-e89b-12d3-a456-426655440000\","
                           "\"orig\":{\"tn\":\"12155550121\"},\"iat\":1443208345,"
                           "\"dest\":{\"tn\":[\"12155550131\"]},\"attest\":\"A\"}",
                           0, &je);
    assert_non_null(h);
    assert_non_null(p);
    char *hb = stir_jws_encode_part(h);
    assert_string_equal(hb, V1_H);
    stir_error err;
    stir_error_clear(&err);
    char *jws = stir_jws_sign(priv, h, p, &err);
    assert_non_null(jws);
    const char *prefix = V1_H "." V1_P ".";
    assert_int_equal(strncmp(jws, prefix, strlen(prefix)), 0);
    const char *s = jws + strlen(prefix);
    assert_int_equal(strlen(s), 86); /* 64 bytes, base64url, no padding */
    unsigned char sig[80], der[80];
    assert_int_equal(stir_b64url_decode(s, strlen(s), sig, sizeof sig), 64);
    write_file("msg3", jws, strlen(prefix) - 1);
    write_file("sig3.der", der, raw_to_der(sig, der));
    assert_true(cli_verify("msg3", "sig3.der"));
    /* The pre-encoded header path gives the same signed input. */
    char *jws2 = stir_jws_sign_encoded(priv, hb, p, &err);
    assert_non_null(jws2);
    assert_int_equal(strncmp(jws2, prefix, strlen(prefix)), 0);
    free(jws2);
    free(jws);
    free(hb);
    json_decref(h);
    json_decref(p);
    EVP_PKEY_free(priv);
}

static void test_key_is_p256(void **state)
{
    (void)state;
    EVP_PKEY *k = pem_pub(RFC8946_PUB);
    assert_true(stir_key_is_p256(k));
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(k);
    assert_false(stir_key_is_p256(k));
    unsigned char sig[64];
    /* A P-384 signature's halves do not fit 32 bytes: refused, not cut. */
    assert_int_equal(stir_es256_sign(k, "x", 1, sig), -1);
    EVP_PKEY_free(k);
    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(k);
    assert_false(stir_key_is_p256(k));
    assert_int_equal(stir_es256_sign(k, "x", 1, sig), -1);
    EVP_PKEY_free(k);
    assert_false(stir_key_is_p256(NULL));
}

/* Per-thread context caches: many keys (more than a thread keeps) in
 * several threads at once, keys freed while contexts may hold them. */
static void *worker(void *arg)
{
    EVP_PKEY **keys = arg;
    for (int round = 0; round < 20; round++)
        for (int k = 0; k < 12; k++) {
            unsigned char sig[64];
            char msg[16];
            snprintf(msg, sizeof msg, "%d/%d", round, k);
            if (stir_es256_sign(keys[k], msg, strlen(msg), sig) != 0 ||
                stir_es256_verify(keys[k], msg, strlen(msg), sig) != 1 ||
                stir_es256_verify(keys[(k + 1) % 12], msg, strlen(msg), sig) != 0)
                return (void *)1;
        }
    return NULL;
}

static void test_threads_many_keys(void **state)
{
    (void)state;
    EVP_PKEY *keys[12];
    for (int i = 0; i < 12; i++) {
        keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(keys[i]);
    }
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, keys), 0);
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
    /* This thread's cached contexts keep their keys alive. */
    assert_null(worker(keys));
    for (int i = 0; i < 12; i++)
        EVP_PKEY_free(keys[i]);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char sig[64];
    assert_int_equal(stir_es256_sign(k, "y", 1, sig), 0);
    assert_int_equal(stir_es256_verify(k, "y", 1, sig), 1);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_v1),
        cmocka_unit_test(test_vector_rfc6979),
        cmocka_unit_test(test_sign_checked_by_cli),
        cmocka_unit_test(test_verify_cli_signature),
        cmocka_unit_test(test_short_and_high_bit_halves),
        cmocka_unit_test(test_invalid_signatures),
        cmocka_unit_test(test_jws_sign_parts),
        cmocka_unit_test(test_key_is_p256),
        cmocka_unit_test(test_threads_many_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
