/*
 * The authentication service (sign.c). Expected values are independent of
 * libstir: with the RFC 8946 key, the signed header and payload must be
 * byte for byte the TV-12 vectors' (their RFC 8225 9 serializations are
 * published in test-vectors.md), the signature must verify with the
 * openssl CLI, and rcdi digests must equal `openssl dgst -sha256` of the
 * serialized jCard. Behaviour of the signer's configuration: key curve,
 * key/certificate match, TNAuthList scope.
 */
#include <regex.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "test_world.h"
#include "tv12.h"

static world W;
static stir_signer *g_signer; /* vector key, SPC chain, x5u W_X5U */

#define NOW 1443208345

/* TV-12 encoded parts (V1's in tv12.h). */
#define V2_P                                                                                       \
    "eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1MTIxMyJ9LCJpYXQiOjE0NDMy" \
    "MDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMiJ9fQ"
#define V2B_P                                                                                      \
    "eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsiaGkiOiIxLjIuMSIsInRuIjoiMTIxNTU1NTEyMTMi" \
    "fSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0"
#define V3_P                                                                                       \
    "eyJkZXN0Ijp7InRuIjpbIjEyMTI1NTUwMTEzIl19LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1" \
    "MDExMiJ9LCJycGgiOnsiYXV0aCI6WyJldHMuMCIsIndwcy4wIl19fQ"
#define V6_P                                                                                       \
    "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjAyNTU1MTAwMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7" \
    "InRuIjoiMTIwMjU1NTEwMDAifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIiwi" \
    "cmNkIjp7Im5hbSI6IkphbWVzIEJvbmQifX0"

static int setup(void **state)
{
    (void)state;
    if (world_start(&W, "sign"))
        return -1;
    stir_error err;
    g_signer = world_signer(&W, "sp.key", "chain.pem", W_X5U, &err);
    if (!g_signer)
        fprintf(stderr, "signer: %s\n", err.detail);
    return g_signer ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    stir_signer_free(g_signer);
    return world_stop(&W);
}

/* Sign the JSON request text at NOW; the Identity value or NULL + err. */
static char *sign_json(stir_signer *s, const char *req, int flags, stir_error *err)
{
    json_error_t je;
    json_t *j = json_loads(req, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s: %s", je.text, req);
    stir_error_clear(err);
    char *v = stir_sign_request_ex(s, j, NOW, flags, err);
    json_decref(j);
    return v;
}

static char *sign_ok(const char *req)
{
    stir_error err;
    char *v = sign_json(g_signer, req, 0, &err);
    if (!v)
        fail_msg("refused: %d %s: %s", err.code, err.field, err.detail);
    return v;
}

static void sign_fails(const char *req, int code, const char *field, const char *needle)
{
    stir_error err;
    char *v = sign_json(g_signer, req, 0, &err);
    if (v) {
        free(v);
        fail_msg("signed, expected %d %s: %s", code, field, req);
    }
    /* `field` may be named more precisely ("orig.tn" for "orig"). */
    if (err.code != code || strncmp(err.field, field, strlen(field)) || !strstr(err.detail, needle))
        fail_msg("%d %s \"%s\", expected %d %s \"%s\"", err.code, err.field, err.detail, code,
                 field, needle);
}

/* The JWS parts of an Identity value. */
typedef struct parts {
    char h[1024], p[4096], s[128], info[256], ppt[32];
} parts;

static void split(const char *v, parts *out)
{
    stir_identity id;
    stir_error err;
    memset(&id, 0, sizeof id);
    assert_int_equal(stir_identity_parse(v, strlen(v), &id, &err), 0);
    const char *d1 = strchr(id.token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    assert_non_null(d2);
    snprintf(out->h, sizeof out->h, "%.*s", (int)(d1 - id.token), id.token);
    snprintf(out->p, sizeof out->p, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
    snprintf(out->s, sizeof out->s, "%s", d2 + 1);
    snprintf(out->info, sizeof out->info, "%s", id.info);
    snprintf(out->ppt, sizeof out->ppt, "%s", id.ppt ? id.ppt : "");
    assert_string_equal(id.alg, "ES256");
    stir_identity_clear(&id);
}

/* Does `openssl dgst -sha256 -verify` accept the signature of `v` with
 * the public key of certificate file `cert`? */
static int cli_verifies(const char *v, const char *cert)
{
    parts p;
    split(v, &p);
    unsigned char sig[80];
    assert_int_equal(stir_b64url_decode(p.s, strlen(p.s), sig, sizeof sig), 64);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char der[80], *q = der;
    int dl = i2d_ECDSA_SIG(es, &q);
    ECDSA_SIG_free(es);
    char path[256];
    world_path(&W, path, sizeof path, "sig.der");
    FILE *f = fopen(path, "wb");
    fwrite(der, 1, (size_t)dl, f);
    fclose(f);
    world_path(&W, path, sizeof path, "input");
    f = fopen(path, "wb");
    fprintf(f, "%s.%s", p.h, p.p);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in %s -pubkey -noout > pub.pem && "
             "openssl dgst -sha256 -verify pub.pem -signature sig.der input",
             cert);
    return world_sh(&W, cmd) == 0;
}

/* ---- the vectors --------------------------------------------------------------- */

static void test_shaken_v1(void **state)
{
    (void)state;
    /* V1's claims, the TNs written as a caller might (RFC 8224 8.3), keys
     * in another order: the signed bytes are still exactly V1's. */
    char *v =
        sign_ok("{\"origid\":\"123e4567-e89b-12d3-a456-426655440000\",\"attest\":\"A\","
                "\"orig\":{\"tn\":\"+1 (215) 555-0121\"},\"dest\":{\"tn\":[\"1-215-555-0131\"]},"
                "\"iat\":1443208345}");
    parts p;
    split(v, &p);
    assert_string_equal(p.h, V1_H);
    assert_string_equal(p.p, V1_P);
    assert_string_equal(p.info, W_X5U);
    assert_string_equal(p.ppt, "shaken");
    assert_int_equal(strlen(p.s), 86);
    assert_true(cli_verifies(v, "sp.pem"));
    free(v);
    /* ppt "" and "shaken" mean the same. */
    v = sign_ok("{\"ppt\":\"shaken\",\"origid\":\"123e4567-e89b-12d3-a456-426655440000\","
                "\"attest\":\"A\",\"orig\":{\"tn\":\"12155550121\"},"
                "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}");
    split(v, &p);
    assert_string_equal(p.p, V1_P);
    free(v);
}

static void test_origid_generated(void **state)
{
    (void)state;
    char *v = sign_ok("{\"attest\":\"C\",\"orig\":{\"tn\":\"12155550121\"},"
                      "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}");
    parts p;
    split(v, &p);
    unsigned char js[4096];
    long n = stir_b64url_decode(p.p, strlen(p.p), js, sizeof js - 1);
    assert_true(n > 0);
    js[n] = 0;
    json_error_t je;
    json_t *c = json_loads((char *)js, 0, &je);
    const char *origid = json_string_value(json_object_get(c, "origid"));
    assert_non_null(origid);
    /* RFC 4122 version 4, variant 10xx. */
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                             "[0-9a-f]{12}$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, origid, 0, NULL, 0), 0);
    regfree(&re);
    json_decref(c);
    free(v);
}

static void test_div_v2(void **state)
{
    (void)state;
    char *v = sign_ok("{\"ppt\":\"div\",\"orig\":{\"tn\":\"12155551212\"},"
                      "\"dest\":{\"tn\":[\"12155551214\"]},\"div\":{\"tn\":\"12155551213\"},"
                      "\"iat\":1443208345}");
    parts p;
    split(v, &p);
    assert_string_equal(p.p, V2_P);
    assert_string_equal(p.ppt, "div");
    assert_true(cli_verifies(v, "sp.pem"));
    free(v);
    v = sign_ok(
        "{\"ppt\":\"div\",\"orig\":{\"tn\":\"12155551212\"},"
        "\"dest\":{\"tn\":[\"12155551214\"]},\"div\":{\"tn\":\"12155551213\",\"hi\":\"1.2.1\"},"
        "\"iat\":1443208345,\"attest\":\"A\"}");
    split(v, &p);
    assert_string_equal(p.p, V2B_P); /* attest is not a div claim */
    free(v);
}

static void test_rph_v3(void **state)
{
    (void)state;
    char *v = sign_ok("{\"ppt\":\"rph\",\"orig\":{\"tn\":\"12155550112\"},"
                      "\"dest\":{\"tn\":[\"12125550113\"]},\"rph\":[\"ets.0\",\"wps.0\"],"
                      "\"iat\":1443208345}");
    parts p;
    split(v, &p);
    assert_string_equal(p.p, V3_P);
    assert_string_equal(p.ppt, "rph");
    free(v);
    /* The RFC 8443 object form gives the same claims. */
    v = sign_ok("{\"ppt\":\"rph\",\"orig\":{\"tn\":\"12155550112\"},"
                "\"dest\":{\"tn\":[\"12125550113\"]},\"rph\":{\"auth\":[\"ets.0\",\"wps.0\"]},"
                "\"iat\":1443208345}");
    split(v, &p);
    assert_string_equal(p.p, V3_P);
    free(v);
    /* sph needs an esnet r-value (RFC 9027 4). */
    sign_fails("{\"ppt\":\"rph\",\"orig\":{\"tn\":\"12155550112\"},"
               "\"dest\":{\"tn\":[\"12125550113\"]},\"rph\":[\"ets.0\"],\"sph\":\"psap-callback\","
               "\"iat\":1443208345}",
               400, "sph", "esnet");
}

static void test_shaken_rcd_v6(void **state)
{
    (void)state;
    char *v = sign_ok("{\"origid\":\"123e4567-e89b-12d3-a456-426655440000\",\"attest\":\"A\","
                      "\"orig\":{\"tn\":\"12025551000\"},\"dest\":{\"tn\":[\"12025551001\"]},"
                      "\"iat\":1443208345,\"rcd\":{\"nam\":\"James Bond\"}}");
    parts p;
    split(v, &p);
    assert_string_equal(p.p, V6_P);
    free(v);
}

/* rcdi over an inline jCard = sha256 of its RFC 8225 9 serialization,
 * computed here with the openssl CLI. */
static void test_rcdi_inline_jcard(void **state)
{
    (void)state;
    const char *jcard =
        "[\"vcard\",[[\"version\",{},\"text\",\"4.0\"],[\"fn\",{},\"text\",\"Q Branch\"]]]";
    char path[256];
    world_path(&W, path, sizeof path, "jcard");
    FILE *f = fopen(path, "wb");
    fputs(jcard, f);
    fclose(f);
    assert_int_equal(world_sh(&W, "openssl dgst -sha256 -binary jcard | base64 > jcard.b64"), 0);
    size_t n;
    char *b64 = world_slurp(&W, "jcard.b64", &n);
    b64[strcspn(b64, "\n")] = 0;
    char req[1024];
    snprintf(
        req, sizeof req,
        "{\"ppt\":\"rcd\",\"orig\":{\"tn\":\"12025551000\"},\"dest\":{\"tn\":[\"12025551001\"]},"
        "\"iat\":1443208345,\"rcd\":{\"nam\":\"Q Branch\",\"jcd\":%s}}",
        jcard);
    char *v = sign_ok(req);
    parts p;
    split(v, &p);
    unsigned char js[4096];
    long jl = stir_b64url_decode(p.p, strlen(p.p), js, sizeof js - 1);
    js[jl] = 0;
    json_error_t je;
    json_t *c = json_loads((char *)js, 0, &je);
    const char *d = json_string_value(json_object_get(json_object_get(c, "rcdi"), "/jcd"));
    assert_non_null(d);
    assert_int_equal(strncmp(d, "sha256-", 7), 0);
    /* Equal up to '=' padding (RFC 9795 examples omit it). */
    size_t dl = strcspn(d + 7, "="), bl = strcspn(b64, "=");
    assert_int_equal(dl, bl);
    assert_memory_equal(d + 7, b64, bl);
    json_decref(c);
    free(v);
    free(b64);
    /* A given rcdi that disagrees is refused, not signed. */
    snprintf(
        req, sizeof req,
        "{\"ppt\":\"rcd\",\"orig\":{\"tn\":\"12025551000\"},\"dest\":{\"tn\":[\"12025551001\"]},"
        "\"iat\":1443208345,\"rcd\":{\"nam\":\"Q Branch\",\"jcd\":%s},"
        "\"rcdi\":{\"/jcd\":\"sha256-7kdCBZqH0nqMSPsmABvsKlHPhZEStgjojhdSJGRr3rk\"}}",
        jcard);
    stir_error err;
    char *bad = sign_json(g_signer, req, 0, &err);
    assert_null(bad);
    assert_int_equal(err.code, 400);
    assert_non_null(strstr(err.field, "rcdi"));
}

/* Linked content not cached under NOWAIT: the caller must move the request
 * where it may block; nothing is signed. */
static void test_nowait_linked_content(void **state)
{
    (void)state;
    stir_error err;
    char *v = sign_json(g_signer,
                        "{\"ppt\":\"rcd\",\"orig\":{\"tn\":\"12025551000\"},"
                        "\"dest\":{\"tn\":[\"12025551001\"]},\"iat\":1443208345,"
                        "\"rcd\":{\"nam\":\"Q\",\"jcl\":\"https://rcd.example.com/q.json\"}}",
                        STIR_CACHE_NOWAIT, &err);
    assert_null(v);
    assert_int_equal(err.code, STIR_WOULD_BLOCK);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void test_request_errors(void **state)
{
    (void)state;
    sign_fails("{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}", 400,
               "orig", "orig");
    sign_fails("{\"attest\":\"A\",\"orig\":{\"tn\":\"12155550121\"},\"iat\":1443208345}", 400,
               "dest", "dest");
    sign_fails("{\"attest\":\"D\",\"orig\":{\"tn\":\"12155550121\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}",
               400, "attest", "attest");
    sign_fails("{\"orig\":{\"tn\":\"12155550121\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}",
               400, "attest", "attest");
    sign_fails("{\"ppt\":\"nope\",\"orig\":{\"tn\":\"12155550121\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}",
               400, "ppt", "shaken");
    sign_fails("{\"attest\":\"A\",\"orig\":{\"tn\":\"12155550121\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":\"1443208345\"}",
               400, "iat", "integer");
    /* iat outside the freshness window of the server clock, both ways. */
    sign_fails("{\"attest\":\"A\",\"orig\":{\"tn\":\"12155550121\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208284}",
               400, "iat", "60");
    sign_fails("{\"attest\":\"A\",\"orig\":{\"tn\":\"12155550121\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208406}",
               400, "iat", "60");
    char *v = sign_ok("{\"attest\":\"A\",\"orig\":{\"tn\":\"12155550121\"},"
                      "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208405}");
    free(v);
    sign_fails("{\"attest\":\"A\",\"orig\":{\"tn\":\"not a number\"},"
               "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":1443208345}",
               400, "orig.tn", "only digits");
    sign_fails("{\"ppt\":\"div\",\"orig\":{\"tn\":\"12155551212\"},"
               "\"dest\":{\"tn\":[\"12155551214\"]},\"iat\":1443208345}",
               400, "div", "div");
    /* The request must be an object. */
    stir_error err;
    json_t *arr = json_array();
    assert_null(stir_sign_request(g_signer, arr, NOW, &err));
    assert_int_equal(err.code, 400);
    json_decref(arr);
}

/* The signing certificate's TNAuthList must cover the identity the type
 * signs for: orig for shaken, div for div (RFC 8226 9, RFC 8946 3). */
static void test_scope(void **state)
{
    (void)state;
    stir_error err;
    stir_signer *s = world_signer(&W, "tn.key", "chain_tn.pem", W_X5U_TN, &err);
    assert_non_null(s);
    time_t now = time(NULL);
    char req[512], *v;
    snprintf(req, sizeof req,
             "{\"attest\":\"A\",\"orig\":{\"tn\":\"" W_TN "\"},"
             "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":%lld}",
             (long long)now);
    json_error_t je;
    json_t *j = json_loads(req, 0, &je);
    v = stir_sign_request(s, j, now, &err);
    assert_non_null(v);
    assert_true(cli_verifies(v, "tn.pem"));
    free(v);
    json_decref(j);
    snprintf(req, sizeof req,
             "{\"attest\":\"A\",\"orig\":{\"tn\":\"12155559999\"},"
             "\"dest\":{\"tn\":[\"12155550131\"]},\"iat\":%lld}",
             (long long)now);
    j = json_loads(req, 0, &je);
    assert_null(stir_sign_request(s, j, now, &err));
    assert_int_equal(err.code, 400);
    assert_non_null(strstr(err.field, "orig"));
    json_decref(j);
    /* div: the diverting TN is what must be covered, not orig. */
    snprintf(req, sizeof req,
             "{\"ppt\":\"div\",\"orig\":{\"tn\":\"12155559999\"},"
             "\"dest\":{\"tn\":[\"12155551214\"]},\"div\":{\"tn\":\"" W_TN "\"},\"iat\":%lld}",
             (long long)now);
    j = json_loads(req, 0, &je);
    v = stir_sign_request(s, j, now, &err);
    assert_non_null(v);
    free(v);
    json_decref(j);
    snprintf(req, sizeof req,
             "{\"ppt\":\"div\",\"orig\":{\"tn\":\"" W_TN "\"},"
             "\"dest\":{\"tn\":[\"12155551214\"]},\"div\":{\"tn\":\"12155551213\"},\"iat\":%lld}",
             (long long)now);
    j = json_loads(req, 0, &je);
    assert_null(stir_sign_request(s, j, now, &err));
    assert_int_equal(err.code, 400);
    assert_non_null(strstr(err.field, "div"));
    json_decref(j);
    stir_signer_free(s);
}

static void test_signer_config(void **state)
{
    (void)state;
    stir_error err;
    /* Each refusal is a 500 whose detail says what is wrong. */
    assert_null(world_signer(&W, "p384.key", "chain.pem", W_X5U, &err));
    assert_int_equal(err.code, 500);
    assert_non_null(strstr(err.detail, "P-256"));
    assert_null(world_signer(&W, "other.key", "chain.pem", W_X5U, &err));
    assert_int_equal(err.code, 500);
    assert_non_null(strstr(err.detail, "does not belong to the signing key"));
    assert_null(world_signer(&W, "missing.key", "chain.pem", W_X5U, &err));
    assert_int_equal(err.code, 500);
    assert_non_null(strstr(err.detail, "missing.key"));
    assert_null(world_signer(&W, "sp.key", "missing.pem", W_X5U, &err));
    assert_non_null(strstr(err.detail, "missing.pem"));
    assert_null(world_signer(&W, "sp.key", "chain.pem", "", &err));
    assert_int_equal(err.code, 500);
    stir_signer *s = world_signer(&W, "sp.key", "chain.pem", W_X5U, &err);
    assert_non_null(s);
    assert_string_equal(stir_signer_x5u(s), W_X5U);
    stir_signer_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shaken_v1),
        cmocka_unit_test(test_origid_generated),
        cmocka_unit_test(test_div_v2),
        cmocka_unit_test(test_rph_v3),
        cmocka_unit_test(test_shaken_rcd_v6),
        cmocka_unit_test(test_rcdi_inline_jcard),
        cmocka_unit_test(test_nowait_linked_content),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_signer_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
