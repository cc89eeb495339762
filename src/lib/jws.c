/*
 * ES256 (RFC 7518 3.4): ECDSA P-256 + SHA-256 with the signature as raw
 * r||s. OpenSSL speaks DER ECDSA-Sig-Value, so we convert both ways.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "stir/encoding.h"
#include "internal.h"
#include "stir/jws.h"

/* Fetched once: in OpenSSL 3 EVP_sha256() makes every Init look the
 * algorithm up again in the provider store. */
static EVP_MD *sha256_md;

int sti_jws_init(void)
{
    if (!sha256_md)
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    return sha256_md ? 0 : -1;
}

void sti_jws_cleanup(void)
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
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
        return 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1)
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/*
 * Per-thread reusable contexts. Initializing an EVP_PKEY_CTX costs about
 * as much as a fifth of a P-256 signature (a provider fetch and key
 * checks), so each thread keeps the initialized contexts of the last few
 * keys it used, as `openssl speed` does. A context holds a reference to
 * its key, so a key pointer seen here is never a freed-and-reused one.
 */
#define CTX_SLOTS 8

struct key_ctx {
    EVP_PKEY *key;
    EVP_PKEY_CTX *ctx;
    int verify;
};

struct thread_ctxs {
    struct key_ctx slot[CTX_SLOTS];
    unsigned next;
};

static pthread_key_t ctxs_key;
static pthread_once_t ctxs_once = PTHREAD_ONCE_INIT;

static void thread_ctxs_free(void *p)
{
    struct thread_ctxs *t = p;
    for (int i = 0; i < CTX_SLOTS; i++)
        EVP_PKEY_CTX_free(t->slot[i].ctx);
    free(t);
}

static void ctxs_key_make(void)
{
    pthread_key_create(&ctxs_key, thread_ctxs_free);
}

/* The calling thread's initialized context for (key, operation), or NULL. */
static EVP_PKEY_CTX *thread_ctx(EVP_PKEY *key, int verify)
{
    pthread_once(&ctxs_once, ctxs_key_make);
    struct thread_ctxs *t = pthread_getspecific(ctxs_key);
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            return NULL;
        pthread_setspecific(ctxs_key, t);
    }
    for (int i = 0; i < CTX_SLOTS; i++)
        if (t->slot[i].key == key && t->slot[i].verify == verify)
            return t->slot[i].ctx;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!ctx || (verify ? EVP_PKEY_verify_init(ctx) : EVP_PKEY_sign_init(ctx)) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    struct key_ctx *k = &t->slot[t->next++ % CTX_SLOTS];
    EVP_PKEY_CTX_free(k->ctx);
    k->key = key;
    k->ctx = ctx;
    k->verify = verify;
    return ctx;
}

/* Free the calling thread's contexts (threads that exit do it themselves). */
void sti_jws_thread_cleanup(void)
{
    pthread_once(&ctxs_once, ctxs_key_make);
    struct thread_ctxs *t = pthread_getspecific(ctxs_key);
    if (t) {
        thread_ctxs_free(t);
        pthread_setspecific(ctxs_key, NULL);
    }
}

static int sha256_digest(const void *msg, size_t len, unsigned char dg[32])
{
    unsigned int dl = 0;
    return EVP_Digest(msg, len, dg, &dl, sha256(), NULL) == 1 && dl == 32 ? 0 : -1;
}

int stir_es256_sign(EVP_PKEY *key, const void *msg, size_t len,
                    unsigned char sig[STIR_ES256_SIG_LEN])
{
    unsigned char der[80], dg[32];
    size_t derlen = sizeof der;
    EVP_PKEY_CTX *ctx = thread_ctx(key, 0);
    if (!ctx || sha256_digest(msg, len, dg) || EVP_PKEY_sign(ctx, der, &derlen, dg, 32) != 1)
        return -1;
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (!es)
        return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    int rc = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32 ? 0 : -1;
    ECDSA_SIG_free(es);
    return rc;
}

/* DER ECDSA-Sig-Value from raw r||s, written without BIGNUMs: each half is
 * an unsigned big-endian integer, minimal, with a 0x00 before a high bit. */
static size_t der_int(const unsigned char *v, unsigned char *out)
{
    size_t i = 0;
    while (i < 31 && v[i] == 0)
        i++;
    size_t n = 32 - i, o = 0;
    int pad = v[i] & 0x80;
    out[o++] = 0x02;
    out[o++] = (unsigned char)(n + (pad ? 1 : 0));
    if (pad)
        out[o++] = 0;
    memcpy(out + o, v + i, n);
    return o + n;
}

int stir_es256_verify(EVP_PKEY *key, const void *msg, size_t len,
                      const unsigned char sig[STIR_ES256_SIG_LEN])
{
    unsigned char body[72], der[80], dg[32];
    size_t bl = der_int(sig, body);
    bl += der_int(sig + 32, body + bl);
    der[0] = 0x30;
    der[1] = (unsigned char)bl;
    memcpy(der + 2, body, bl);
    EVP_PKEY_CTX *ctx = thread_ctx(key, 1);
    if (!ctx || sha256_digest(msg, len, dg))
        return -1;
    int rc = EVP_PKEY_verify(ctx, der, bl + 2, dg, 32);
    if (rc != 1)
        ERR_clear_error();
    return rc == 1 ? 1 : 0;
}

char *stir_jws_encode_part(const json_t *v)
{
    size_t n;
    char *json = stir_json_canonical(v, &n), *out = NULL;
    if (json && (out = malloc(STIR_B64URL_LEN(n))))
        stir_b64url_encode(json, n, out);
    free(json);
    return out;
}

char *stir_jws_sign_encoded(EVP_PKEY *key, const char *header_b64, const json_t *payload,
                            stir_error *err)
{
    size_t hl = strlen(header_b64), pl;
    char *p = stir_json_canonical(payload, &pl);
    char *out = p ? malloc(hl + 1 + STIR_B64URL_LEN(pl) + STIR_B64URL_LEN(64) + 1) : NULL;
    if (!out) {
        free(p);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot serialize PASSporT");
        return NULL;
    }
    memcpy(out, header_b64, hl);
    size_t o = hl;
    out[o++] = '.';
    o += stir_b64url_encode(p, pl, out + o);
    free(p);
    unsigned char sig[STIR_ES256_SIG_LEN];
    if (stir_es256_sign(key, out, o, sig) != 0) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "ES256 signing failed");
        free(out);
        return NULL;
    }
    out[o++] = '.';
    stir_b64url_encode(sig, sizeof sig, out + o);
    return out;
}

char *stir_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload, stir_error *err)
{
    char *h = stir_jws_encode_part(header);
    if (!h) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot serialize PASSporT header");
        return NULL;
    }
    char *out = stir_jws_sign_encoded(key, h, payload, err);
    free(h);
    return out;
}
