/*
 * The authentication gate: static (mTLS identity) and OAuth 2.0 access
 * tokens in JWT form (RFC 6750, RFC 7519, RFC 9068, RFC 8705; TS 33.501
 * 13.4.1). Tokens are verified locally against the authorization
 * server's JWKS; nothing is fetched, nothing in a token chooses a key
 * except `kid`, and only ES256 and RS256 are ever accepted.
 *
 * What is checked and why is in docs/SECURITY.md ("OAuth 2.0").
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <stir/encoding.h>
#include <stir/jws.h>

#include "auth.h"
#include "holder.h"

#define KID_MAX 128
#define CLAIM_MAX 255 /* iss, aud entries, client_id, sub */
#define SCOPE_MAX 1024
#define AUD_MAX_ENTRIES 16
#define HEADER_MAX 1024                 /* decoded JOSE header */
#define PAYLOAD_MAX 6144                /* decoded claims */
#define SIG_MAX 1024                    /* RSA up to 8192 bits */
#define NUMERIC_DATE_MAX 253402300799.0 /* 9999-12-31T23:59:59Z */
#define TOKEN_CACHE_SLOTS 1024          /* verified tokens kept (direct-mapped) */
#define TOKEN_CACHE_LOCKS 16

enum kty { KTY_EC, KTY_RSA, KTY_OTHER };

typedef struct jwk {
    char kid[KID_MAX + 1];
    enum kty kty;
    char alg[16];  /* "" when the JWK has none */
    int sig_use;   /* use absent or "sig", key_ops absent or has "verify" */
    EVP_PKEY *key; /* NULL: not usable, `why` says why */
    char why[96];
} jwk;

/*
 * What a verified token says, kept so that the same token on the next
 * request (a keep-alive client sends it every time) costs a hash and a
 * lookup instead of a signature verification (docs/SECURITY.md). The
 * checks that depend on the clock and on the connection run every time.
 */
typedef struct tok_entry {
    unsigned char key[32]; /* SHA-256 of the token */
    int used;
    double exp, nbf, iat; /* nbf/iat: -1 when absent */
    unsigned scopes;      /* SCOPE_* bits */
    int bound;            /* cnf x5t#S256 present */
    char x5t[STIR_B64URL_LEN(32)];
    char principal[CLAIM_MAX + 1];
} tok_entry;

#define SCOPE_SIGNING 1u
#define SCOPE_VERIFICATION 2u

struct auth {
    int mode;
    char *issuer;
    char *aud[STIRD_MAX_AUDIENCES];
    size_t n_aud;
    long skew;
    jwk keys[AUTH_JWKS_MAX_KEYS];
    size_t n_keys;
    policy *pol;
    struct tok_entry *cache; /* TOKEN_CACHE_SLOTS verified tokens (oauth) */
    pthread_mutex_t cache_mu[TOKEN_CACHE_LOCKS];
};

int auth_mode(const auth *a)
{
    return a->mode;
}

const policy *auth_policy(const auth *a)
{
    return a ? a->pol : NULL;
}

/* ---- JWKS ------------------------------------------------------------------- */

static int b64_member(const json_t *k, const char *name, unsigned char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(k, name));
    return s ? (int)stir_b64url_decode(s, strlen(s), out, cap) : -1;
}

static EVP_PKEY *key_fromdata(const char *type, OSSL_PARAM *params)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    if (key) {
        /* An EC point must be on the curve: fromdata alone does not check. */
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (!chk || EVP_PKEY_public_check(chk) != 1) {
            EVP_PKEY_free(key);
            key = NULL;
        }
        EVP_PKEY_CTX_free(chk);
    }
    ERR_clear_error();
    return key;
}

static void ec_key(const json_t *k, jwk *j)
{
    unsigned char pub[65];
    const char *crv = json_string_value(json_object_get(k, "crv"));
    if (!crv || strcmp(crv, "P-256") != 0) {
        snprintf(j->why, sizeof j->why, "an EC key on %.20s (only P-256, for ES256)",
                 crv ? crv : "no crv");
        return;
    }
    pub[0] = 0x04; /* uncompressed point: 04 || x || y */
    if (b64_member(k, "x", pub + 1, 32) != 32 || b64_member(k, "y", pub + 33, 32) != 32) {
        snprintf(j->why, sizeof j->why, "an EC key whose x or y is not 32 bytes of base64url");
        return;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub),
        OSSL_PARAM_END,
    };
    if (!(j->key = key_fromdata("EC", params)))
        snprintf(j->why, sizeof j->why, "an EC key whose point is not on P-256");
}

static void rsa_key(const json_t *k, jwk *j)
{
    unsigned char n[1024], e[8];
    int nl = b64_member(k, "n", n, sizeof n), el = b64_member(k, "e", e, sizeof e);
    int off = 0;
    while (nl > 0 && off < nl && n[off] == 0)
        off++;
    if (nl <= 0 || el <= 0) {
        snprintf(j->why, sizeof j->why,
                 "an RSA key whose n or e is missing, not base64url or too long");
        return;
    }
    if ((nl - off) * 8 < 2048) {
        snprintf(j->why, sizeof j->why, "an RSA key of %d bits (at least 2048)", (nl - off) * 8);
        return;
    }
    BIGNUM *bn = BN_bin2bn(n + off, nl - off, NULL), *be = BN_bin2bn(e, el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        params = OSSL_PARAM_BLD_to_param(bld);
    if (params)
        j->key = key_fromdata("RSA", params);
    if (!j->key)
        snprintf(j->why, sizeof j->why, "an RSA key OpenSSL does not accept");
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
}

static int load_jwks(auth *a, const char *path, char *err, size_t errlen)
{
    json_error_t je;
    size_t i;
    json_t *k;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "oauth_jwks %s: cannot open", path);
        return -1;
    }
    char *buf = malloc(AUTH_JWKS_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, AUTH_JWKS_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > AUTH_JWKS_MAX_BYTES) {
        free(buf);
        snprintf(err, errlen, "oauth_jwks %s: larger than %d bytes", path, AUTH_JWKS_MAX_BYTES);
        return -1;
    }
    json_t *root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!root) {
        snprintf(err, errlen, "oauth_jwks %s: line %d: %s", path, je.line, je.text);
        return -1;
    }
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys) || json_array_size(keys) == 0 ||
        json_array_size(keys) > AUTH_JWKS_MAX_KEYS) {
        snprintf(err, errlen, "oauth_jwks %s: needs a \"keys\" array of 1 to %d keys", path,
                 AUTH_JWKS_MAX_KEYS);
        json_decref(root);
        return -1;
    }
    json_array_foreach (keys, i, k) {
        jwk *j = &a->keys[a->n_keys];
        const char *kty = json_string_value(json_object_get(k, "kty"));
        const char *kid = json_string_value(json_object_get(k, "kid"));
        const char *alg = json_string_value(json_object_get(k, "alg"));
        const char *use = json_string_value(json_object_get(k, "use"));
        const json_t *ops = json_object_get(k, "key_ops");
        const char *bad = NULL;
        if (!json_is_object(k) || !kty)
            bad = "is not a JWK with a kty";
        else if (!kid || !*kid || strlen(kid) > KID_MAX)
            bad = "needs a kid of 1 to 128 characters (tokens choose their key by kid)";
        else if (json_object_get(k, "d") || json_object_get(k, "k"))
            bad = "holds private or secret key material (d or k): give the public JWKS only";
        else if (strcmp(kty, "oct") == 0)
            bad = "is a shared secret (kty oct); HMAC tokens are never accepted";
        else if (alg && strlen(alg) >= sizeof j->alg)
            bad = "has an unknown alg";
        for (size_t m = 0; !bad && m < a->n_keys; m++)
            if (strcmp(a->keys[m].kid, kid) == 0)
                bad = "repeats the kid of an earlier key";
        if (bad) {
            snprintf(err, errlen, "oauth_jwks %s: keys[%zu] %s", path, i, bad);
            json_decref(root);
            return -1;
        }
        snprintf(j->kid, sizeof j->kid, "%s", kid);
        snprintf(j->alg, sizeof j->alg, "%s", alg ? alg : "");
        j->sig_use = !use || strcmp(use, "sig") == 0;
        if (ops) {
            size_t o;
            json_t *op;
            int verify = 0;
            json_array_foreach (ops, o, op)
                verify |= json_is_string(op) && strcmp(json_string_value(op), "verify") == 0;
            j->sig_use &= verify;
        }
        if (strcmp(kty, "EC") == 0) {
            j->kty = KTY_EC;
            ec_key(k, j);
        } else if (strcmp(kty, "RSA") == 0) {
            j->kty = KTY_RSA;
            rsa_key(k, j);
        } else {
            j->kty = KTY_OTHER;
            snprintf(j->why, sizeof j->why, "a %.16s key (only EC P-256 and RSA)", kty);
        }
        a->n_keys++;
    }
    json_decref(root);
    return 0;
}

/* ---- load / free / holder --------------------------------------------------------- */

void auth_free(auth *a)
{
    if (!a)
        return;
    free(a->issuer);
    for (size_t i = 0; i < a->n_aud; i++)
        free(a->aud[i]);
    for (size_t i = 0; i < a->n_keys; i++)
        EVP_PKEY_free(a->keys[i].key);
    policy_free(a->pol);
    if (a->cache)
        for (int i = 0; i < TOKEN_CACHE_LOCKS; i++)
            pthread_mutex_destroy(&a->cache_mu[i]);
    free(a->cache);
    free(a);
}

auth *auth_load(const stird_config *cfg, char *err, size_t errlen)
{
    auth *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->mode = cfg->auth;
    a->skew = cfg->oauth_clock_skew;
    if (cfg->policy_file && !(a->pol = policy_load(cfg->policy_file, err, errlen)))
        goto fail;
    if (a->mode == AUTH_MODE_OAUTH) {
        if (!cfg->oauth_jwks || !cfg->oauth_issuer || cfg->n_oauth_audience == 0) {
            snprintf(err, errlen, "auth = oauth needs oauth_jwks, oauth_issuer and oauth_audience");
            goto fail;
        }
        if (!(a->issuer = strdup(cfg->oauth_issuer)))
            goto oom;
        for (size_t i = 0; i < cfg->n_oauth_audience; i++, a->n_aud++)
            if (!(a->aud[i] = strdup(cfg->oauth_audience[i])))
                goto oom;
        if (load_jwks(a, cfg->oauth_jwks, err, errlen) != 0)
            goto fail;
        if (!(a->cache = calloc(TOKEN_CACHE_SLOTS, sizeof *a->cache)))
            goto oom;
        for (int i = 0; i < TOKEN_CACHE_LOCKS; i++)
            pthread_mutex_init(&a->cache_mu[i], NULL);
    }
    if (a->mode == AUTH_MODE_STATIC && !a->pol) {
        snprintf(err, errlen, "auth = static needs policy_file");
        goto fail;
    }
    return a;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    auth_free(a);
    return NULL;
}

/* The holder is a holder (holder.h) typed for `auth`. */
static void auth_free_obj(void *a)
{
    auth_free(a);
}

auth_holder *auth_holder_new(auth *initial)
{
    return (auth_holder *)holder_new(initial, auth_free_obj);
}

void auth_holder_free(auth_holder *h)
{
    holder_free((holder *)h);
}

auth_ref *auth_acquire(auth_holder *h)
{
    return (auth_ref *)holder_acquire((holder *)h);
}

const auth *auth_of(const auth_ref *r)
{
    return holder_obj((const holder_ref *)r);
}

void auth_release(auth_ref *r)
{
    holder_release((holder_ref *)r);
}

int auth_holder_reload(auth_holder *h, const stird_config *cfg, char *err, size_t errlen)
{
    auth *n = auth_load(cfg, err, errlen);
    if (!n)
        return -1;
    if (auth_holder_swap(h, n) != 0) {
        snprintf(err, errlen, "out of memory");
        auth_free(n);
        return -1;
    }
    return 0;
}

int auth_holder_swap(auth_holder *h, auth *n)
{
    /* Rate buckets carry over, so a reload does not refill them. Only
     * SIGHUP swaps, from one thread: the object read here is the one
     * replaced. */
    auth_ref *old = auth_acquire(h);
    policy_carry_buckets(n->pol, auth_of(old)->pol);
    auth_release(old);
    return holder_swap((holder *)h, n);
}

/* ---- denials ------------------------------------------------------------------------ */

/* 401 invalid_token: the description goes into the challenge too. */
static unsigned invalid_token(auth_denial *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static unsigned invalid_token(auth_denial *d, const char *fmt, ...)
{
    char desc[sizeof d->detail], q[sizeof d->detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    denial_set(d, 401, "Unauthorized", "INVALID_TOKEN", NULL, "invalid access token: %s", desc);
    denial_clean(q, sizeof q, desc, 300);
    snprintf(d->www_authenticate, sizeof d->www_authenticate,
             "Bearer error=\"invalid_token\", error_description=\"%s\"", q);
    return 401;
}

static void fmt_time(char *out, size_t cap, double t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, cap, "%.0f", t);
}

/* ---- the token ------------------------------------------------------------------------ */

static json_t *decode_json(const char *part, size_t n, size_t max, const char *what, auth_denial *d)
{
    unsigned char buf[PAYLOAD_MAX];
    json_error_t je;
    long len = stir_b64url_decode(part, n, buf, max < sizeof buf ? max : sizeof buf);
    if (len < 0) {
        invalid_token(d, "the %s is not base64url or is larger than %zu bytes", what, max);
        return NULL;
    }
    if (!stir_utf8_valid((const char *)buf, (size_t)len)) {
        invalid_token(d, "the %s is not UTF-8", what);
        return NULL;
    }
    json_t *v = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(v)) {
        json_decref(v);
        invalid_token(d, "the %s is not a JSON object without duplicate members", what);
        return NULL;
    }
    return v;
}

/* A string claim of 1..max printable ASCII characters, or NULL. */
static const char *str_claim(const json_t *o, const char *name, size_t max)
{
    const char *s = json_string_value(json_object_get(o, name));
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n > max)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return NULL;
    return s;
}

static const jwk *select_key(const auth *a, const json_t *hdr, const char *alg, auth_denial *d)
{
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    char q[KID_MAX + 1];
    if (!kid || !*kid || strlen(kid) > KID_MAX) {
        invalid_token(d, "the header has no kid (the key is chosen by kid)");
        return NULL;
    }
    denial_clean(q, sizeof q, kid, 64);
    for (size_t i = 0; i < a->n_keys; i++) {
        const jwk *j = &a->keys[i];
        if (strcmp(j->kid, kid) != 0)
            continue;
        /* Key confusion: the key's own type and declared alg and use must
         * fit the token's alg, whatever the token says. */
        enum kty want = strcmp(alg, "ES256") == 0 ? KTY_EC : KTY_RSA;
        if (!j->key) {
            invalid_token(d, "key %s is %s", q, j->why);
            return NULL;
        }
        if (j->kty != want || (j->alg[0] && strcmp(j->alg, alg) != 0)) {
            invalid_token(d, "key %s is an %s key%s%s, not for %s", q,
                          j->kty == KTY_EC ? "EC" : "RSA", j->alg[0] ? " for " : "", j->alg, alg);
            return NULL;
        }
        if (!j->sig_use) {
            invalid_token(d, "key %s is not a signature verification key (use/key_ops)", q);
            return NULL;
        }
        return j;
    }
    invalid_token(d, "kid %s is not in the authorization server's JWKS", q);
    return NULL;
}

static int verify_sig(const jwk *k, const char *alg, const char *input, size_t inlen,
                      const char *sig_b64, size_t siglen_b64)
{
    unsigned char sig[SIG_MAX];
    long sl = stir_b64url_decode(sig_b64, siglen_b64, sig, sizeof sig);
    if (sl < 0)
        return 0;
    if (strcmp(alg, "ES256") == 0)
        return sl == STIR_ES256_SIG_LEN && stir_es256_verify(k->key, input, inlen, sig) == 1;
    if (sl != EVP_PKEY_get_size(k->key))
        return 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, k->key) == 1 &&
             EVP_DigestVerify(m, sig, (size_t)sl, (const unsigned char *)input, inlen) == 1;
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return ok;
}

static unsigned check_header(const json_t *hdr, const char **alg_out, auth_denial *d)
{
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *typ;
    char q[40];
    if (!alg)
        return invalid_token(d, "the header has no alg");
    denial_clean(q, sizeof q, alg, 20);
    if (strcasecmp(alg, "none") == 0)
        return invalid_token(d, "alg none (an unsigned token) is refused");
    if (strncmp(alg, "HS", 2) == 0)
        return invalid_token(d, "alg %s (HMAC) is refused: only ES256 and RS256", q);
    if (strcmp(alg, "ES256") != 0 && strcmp(alg, "RS256") != 0)
        return invalid_token(d, "alg %s is not accepted: only ES256 and RS256", q);
    if (json_object_get(hdr, "crit"))
        return invalid_token(d, "the header has crit: no extension is understood");
    /* RFC 9068 2.1 "at+jwt"; "JWT" and no typ for TS 29.510 NRF tokens,
     * which predate RFC 9068 (docs/SECURITY.md). */
    if (json_object_get(hdr, "typ")) {
        typ = json_string_value(json_object_get(hdr, "typ"));
        if (!typ || (strcasecmp(typ, "at+jwt") != 0 && strcasecmp(typ, "application/at+jwt") != 0 &&
                     strcasecmp(typ, "JWT") != 0)) {
            denial_clean(q, sizeof q, typ ? typ : "(not a string)", 30);
            return invalid_token(d, "typ %s is not at+jwt or JWT", q);
        }
    }
    *alg_out = alg;
    return 0;
}

/* Claims whose meaning does not change with time or connection. */
static unsigned check_iss_aud(const auth *a, const json_t *cl, auth_denial *d)
{
    const char *iss = json_string_value(json_object_get(cl, "iss"));
    const json_t *aud = json_object_get(cl, "aud"), *e;
    char q[80];
    size_t i;
    if (!iss)
        return invalid_token(d, "no iss");
    if (strcmp(iss, a->issuer) != 0) {
        denial_clean(q, sizeof q, iss, 64);
        return invalid_token(d, "iss %s is not the configured issuer", q);
    }
    if (json_is_string(aud)) {
        for (size_t k = 0; k < a->n_aud; k++)
            if (strcmp(json_string_value(aud), a->aud[k]) == 0)
                return 0;
    } else if (json_is_array(aud) && json_array_size(aud) <= AUD_MAX_ENTRIES) {
        json_array_foreach (aud, i, e)
            for (size_t k = 0; json_is_string(e) && k < a->n_aud; k++)
                if (strcmp(json_string_value(e), a->aud[k]) == 0)
                    return 0;
    } else if (aud) {
        return invalid_token(d, "aud is not a string or an array of at most %d strings",
                             AUD_MAX_ENTRIES);
    }
    if (!aud)
        return invalid_token(d, "no aud");
    denial_clean(q, sizeof q, a->aud[0], 64);
    return invalid_token(d, "aud does not contain %s (this server's audience)", q);
}

static int has_scope(const char *scope, const char *want)
{
    size_t wl = strlen(want);
    for (const char *p = scope; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == wl && memcmp(p, want, wl) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* The claims into `e`: everything but the clock, the connection and the
 * resource is checked here. */
static unsigned read_claims(const auth *a, const json_t *cl, tok_entry *e, auth_denial *d)
{
    const json_t *v[] = {json_object_get(cl, "exp"), json_object_get(cl, "nbf"),
                         json_object_get(cl, "iat")};
    const char *names[] = {"exp", "nbf", "iat"};
    double *out[] = {&e->exp, &e->nbf, &e->iat};
    unsigned rc;
    if (!v[0])
        return invalid_token(d, "no exp: tokens without an expiry are refused");
    for (int i = 0; i < 3; i++) {
        *out[i] = -1;
        if (!v[i])
            continue;
        if (!json_is_number(v[i]) || !isfinite(json_number_value(v[i])) ||
            json_number_value(v[i]) < 0 || json_number_value(v[i]) > NUMERIC_DATE_MAX)
            return invalid_token(d, "%s is not a NumericDate", names[i]);
        *out[i] = json_number_value(v[i]);
    }
    if ((rc = check_iss_aud(a, cl, d)))
        return rc;

    /* RFC 8705 3.1: only the x5t#S256 confirmation method is understood. */
    const json_t *cnf = json_object_get(cl, "cnf");
    if (cnf) {
        const char *x5t = json_string_value(json_object_get(cnf, "x5t#S256"));
        if (!json_is_object(cnf) || !x5t || json_object_size(cnf) != 1 ||
            strlen(x5t) >= sizeof e->x5t)
            return invalid_token(d, "cnf must hold only x5t#S256 (RFC 8705); other "
                                    "confirmation methods are not supported");
        e->bound = 1;
        memcpy(e->x5t, x5t, strlen(x5t) + 1);
    }

    const char *who = str_claim(cl, "client_id", CLAIM_MAX);
    if (!who && !json_object_get(cl, "client_id"))
        who = str_claim(cl, "sub", CLAIM_MAX);
    if (!who)
        return invalid_token(d, "no client_id or sub of 1 to %d printable characters", CLAIM_MAX);
    snprintf(e->principal, sizeof e->principal, "%s", who);

    const json_t *sc = json_object_get(cl, "scope");
    const char *scope = json_string_value(sc);
    if (sc && (!scope || strlen(scope) > SCOPE_MAX))
        return invalid_token(d, "scope is not a string of at most %d characters", SCOPE_MAX);
    e->scopes = (scope && has_scope(scope, AUTH_SCOPE_SIGNING) ? SCOPE_SIGNING : 0) |
                (scope && has_scope(scope, AUTH_SCOPE_VERIFICATION) ? SCOPE_VERIFICATION : 0);
    return 0;
}

/* Per request: the clock, the connection's certificate, the resource. */
static unsigned check_entry(const auth *a, const tok_entry *e, http_client *c,
                            enum auth_resource res, time_t now, auth_denial *d)
{
    char t[32];
    double n = (double)now, skew = (double)a->skew;
    if (n > e->exp + skew) {
        fmt_time(t, sizeof t, e->exp);
        return invalid_token(d, "token expired at %s", t);
    }
    if (e->nbf >= 0 && n + skew < e->nbf) {
        fmt_time(t, sizeof t, e->nbf);
        return invalid_token(d, "token not valid before %s", t);
    }
    if (e->iat >= 0 && n + skew < e->iat) {
        fmt_time(t, sizeof t, e->iat);
        return invalid_token(d, "token issued in the future (iat %s)", t);
    }
    if (e->bound) {
        char mine[STIR_B64URL_LEN(32)];
        size_t ml;
        if (!c->has_cert)
            return invalid_token(d, "token is bound to a client certificate (cnf x5t#S256) but "
                                    "none was presented");
        ml = stir_b64url_encode(c->cert_sha256, 32, mine);
        if (strlen(e->x5t) != ml || CRYPTO_memcmp(e->x5t, mine, ml) != 0)
            return invalid_token(d, "token is bound to another client certificate (cnf "
                                    "x5t#S256 does not match)");
    }
    snprintf(c->principal, sizeof c->principal, "%s", e->principal);
    unsigned bit = res == AUTH_RES_SIGNING ? SCOPE_SIGNING : SCOPE_VERIFICATION;
    const char *want = res == AUTH_RES_SIGNING ? AUTH_SCOPE_SIGNING : AUTH_SCOPE_VERIFICATION;
    if (!(e->scopes & bit)) {
        denial_set(d, 403, "Forbidden", "INSUFFICIENT_SCOPE", NULL,
                   "the access token lacks the scope %s", want);
        snprintf(d->www_authenticate, sizeof d->www_authenticate,
                 "Bearer error=\"insufficient_scope\", error_description=\"the access token "
                 "lacks the scope %s\", scope=\"%s\"",
                 want, want);
        return 403;
    }
    return 0;
}

/* Header, key, signature and claims: the expensive part, once per token. */
static unsigned verify_token(const auth *a, const char *tok, size_t n, tok_entry *e, auth_denial *d)
{
    const char *dot1 = memchr(tok, '.', n);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - tok)) : NULL;
    unsigned rc;
    const char *alg = NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - tok)))
        return invalid_token(d, "not a JWS in compact form (header.payload.signature)");
    size_t hl = (size_t)(dot1 - tok), pl = (size_t)(dot2 - dot1 - 1);
    size_t sl = n - (size_t)(dot2 + 1 - tok);
    if (hl == 0 || pl == 0)
        return invalid_token(d, "not a JWS in compact form (header.payload.signature)");

    json_t *hdr = decode_json(tok, hl, HEADER_MAX, "header", d);
    if (!hdr)
        return 401;
    if ((rc = check_header(hdr, &alg, d))) {
        json_decref(hdr);
        return rc;
    }
    if (sl == 0) {
        json_decref(hdr);
        return invalid_token(d, "the token has no signature");
    }
    const jwk *k = select_key(a, hdr, alg, d);
    int ok = k && verify_sig(k, alg, tok, (size_t)(dot2 - tok), dot2 + 1, sl);
    json_decref(hdr);
    if (!k)
        return 401;
    if (!ok)
        return invalid_token(d, "bad signature");

    json_t *cl = decode_json(dot1 + 1, pl, PAYLOAD_MAX, "payload", d);
    if (!cl)
        return 401;
    rc = read_claims(a, cl, e, d);
    json_decref(cl);
    return rc;
}

static unsigned check_token(const auth *a, http_client *c, const char *tok, size_t n,
                            enum auth_resource res, time_t now, auth_denial *d)
{
    /* The cache is the mutable part of an otherwise read-only `auth`:
     * one lock per stripe of slots, taken only to copy an entry. */
    auth *m = (auth *)a;
    tok_entry e;
    unsigned char key[32];
    unsigned int kl = 0;
    memset(&e, 0, sizeof e);
    if (EVP_Digest(tok, n, key, &kl, EVP_sha256(), NULL) != 1)
        return denial_set(d, 500, "Internal Server Error", "SYSTEM_FAILURE", NULL,
                          "cannot hash the access token");
    size_t slot = ((size_t)key[0] << 8 | key[1]) % TOKEN_CACHE_SLOTS;
    pthread_mutex_t *mu = &m->cache_mu[slot % TOKEN_CACHE_LOCKS];
    pthread_mutex_lock(mu);
    int hit = m->cache[slot].used && memcmp(m->cache[slot].key, key, 32) == 0;
    if (hit)
        e = m->cache[slot];
    pthread_mutex_unlock(mu);
    if (!hit) {
        unsigned rc = verify_token(a, tok, n, &e, d);
        if (rc)
            return rc;
        memcpy(e.key, key, 32);
        e.used = 1;
        pthread_mutex_lock(mu);
        m->cache[slot] = e;
        pthread_mutex_unlock(mu);
    }
    return check_entry(a, &e, c, res, now, d);
}

/* "Bearer <token>": the token, or NULL when the header is absent or of
 * another scheme (RFC 6750 3.1: then the challenge carries no error). */
static const char *bearer(const char *h, size_t *n)
{
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ')
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t l = strlen(h);
    while (l && (h[l - 1] == ' ' || h[l - 1] == '\t'))
        l--;
    *n = l;
    return l ? h : NULL;
}

/* RFC 6750 2.1 b64token characters; a JWS uses the base64url subset and '.'. */
static int jws_chars(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

unsigned auth_check(const auth *a, http_client *c, const char *authorization,
                    enum auth_resource res, time_t now, const policy_client **pol, auth_denial *d)
{
    unsigned rc;
    *pol = NULL;
    memset(d, 0, sizeof *d);
    c->principal[0] = '\0';

    switch (a->mode) {
    case AUTH_MODE_OAUTH: {
        size_t n = 0;
        const char *tok = bearer(authorization, &n);
        if (!tok) {
            denial_set(d, 401, "Unauthorized", "MISSING_TOKEN", NULL,
                       authorization ? "the Authorization header is not a Bearer access token"
                                     : "an access token is required (Authorization: Bearer)");
            snprintf(d->www_authenticate, sizeof d->www_authenticate, "Bearer");
            return 401;
        }
        if (n > AUTH_TOKEN_MAX)
            return invalid_token(d, "token longer than %d characters", AUTH_TOKEN_MAX);
        if (!jws_chars(tok, n))
            return invalid_token(d, "not a JWS in compact form (base64url parts and '.')");
        if ((rc = check_token(a, c, tok, n, res, now, d)))
            return rc;
        break;
    }
    case AUTH_MODE_STATIC:
        if (!c->has_cert || !c->identity[0])
            return denial_set(d, 403, "Forbidden", "CLIENT_CERTIFICATE_REQUIRED", NULL,
                              "a verified client certificate is required (auth = static)");
        snprintf(c->principal, sizeof c->principal, "%s", c->identity);
        break;
    default:
        if (c->has_cert)
            snprintf(c->principal, sizeof c->principal, "%s", c->identity);
        break;
    }
    if (!a->pol)
        return 0;
    if (!(*pol = policy_find(a->pol, c->principal))) {
        char q[96];
        denial_clean(q, sizeof q, c->principal[0] ? c->principal : "(anonymous)", 80);
        return denial_set(d, 403, "Forbidden", "NOT_AUTHORIZED_BY_POLICY", "clients",
                          "client '%s' is not in the policy", q);
    }
    if ((rc = policy_check_resource(*pol, res, d)))
        *pol = NULL;
    return rc;
}
