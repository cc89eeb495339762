/*
 * ES256 (RFC 7518 3.4): ECDSA P-256 + SHA-256 with the signature as raw
 * r||s. OpenSSL speaks DER ECDSA-Sig-Value, so we convert both ways.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "stir/encoding.h"
#include "internal.h"
#include "stir/jws.h"

/* Fetched once: in OpenSSL 3 EVP_sha256() makes every Init look the
 * algorithm up again in the provider store. */
static EVP_MD *sha256_md;

int stir_jws_init(void)
{
    if (!sha256_md) sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    return sha256_md ? 0 : -1;
}

void stir_jws_cleanup(void)
{
    EVP_MD_free(sha256_md);
    sha256_md = NULL;
}

static const EVP_MD *sha256(void)
{
    return sha256_md ? sha256_md : EVP_sha256();
}

int stir_key_is_p256(EVP_PKEY *key)
{
    char group[32];
    size_t glen = 0;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof group, &glen) != 1)
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

int stir_es256_sign(EVP_PKEY *key, const void *msg, size_t len,
                    unsigned char sig[STIR_ES256_SIG_LEN])
{
    unsigned char der[80];
    size_t derlen = sizeof der;
    int rc = -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return -1;
    if (EVP_DigestSignInit(md, NULL, sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &derlen, msg, len) != 1)
        goto out;
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (!es) goto out;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32) rc = 0;
    ECDSA_SIG_free(es);
out:
    EVP_MD_CTX_free(md);
    return rc;
}

int stir_es256_verify(EVP_PKEY *key, const void *msg, size_t len,
                      const unsigned char sig[STIR_ES256_SIG_LEN])
{
    unsigned char der[80], *q = der;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    int derlen = i2d_ECDSA_SIG(es, &q);
    ECDSA_SIG_free(es);
    if (derlen <= 0) return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return -1;
    int rc = -1;
    if (EVP_DigestVerifyInit(md, NULL, sha256(), NULL, key) == 1)
        rc = EVP_DigestVerify(md, der, (size_t)derlen, msg, len) == 1 ? 1 : 0;
    EVP_MD_CTX_free(md);
    return rc;
}

char *stir_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload,
                    stir_error *err)
{
    size_t hl, pl;
    char *h = stir_json_canonical(header, &hl);
    char *p = stir_json_canonical(payload, &pl);
    char *out = NULL;
    if (!h || !p) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot serialize PASSporT");
        goto done;
    }
    size_t cap = STIR_B64URL_LEN(hl) + STIR_B64URL_LEN(pl) + STIR_B64URL_LEN(64) + 2;
    out = malloc(cap);
    if (!out) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        goto done;
    }
    size_t o = stir_b64url_encode(h, hl, out);
    out[o++] = '.';
    o += stir_b64url_encode(p, pl, out + o);
    unsigned char sig[STIR_ES256_SIG_LEN];
    if (stir_es256_sign(key, out, o, sig) != 0) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "ES256 signing failed");
        free(out);
        out = NULL;
        goto done;
    }
    out[o++] = '.';
    stir_b64url_encode(sig, sizeof sig, out + o);
done:
    free(h);
    free(p);
    return out;
}
