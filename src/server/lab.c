/*
 * Lab material: TLS pairs from libstir's lab PKI (stir_pki_tls_pair), an
 * ES256 key for the lab authorization server, its JWKS, a lab policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stir/encoding.h>
#include <stir/jws.h>
#include <stir/pki.h>
#include <stir/stir.h>

#include "lab.h"

static const char *const LAB_FILES[] = {
    "api-ca.pem", "api.pem",   "api.key",         "client-ca.pem", "client.pem",
    "client.key", "oauth.key", "oauth-jwks.json", "policy.json", /* policy.json last: the marker */
};
#define N_LAB_FILES (sizeof LAB_FILES / sizeof LAB_FILES[0])

/* The README examples sign for these: the lab client may sign for nothing else. */
static const char LAB_POLICY[] = "{\n"
                                 "  \"comment\": \"stird lab policy: client 'lab' signs only for "
                                 "the TNs of the README examples\",\n"
                                 "  \"clients\": {\n"
                                 "    \"lab\": {\n"
                                 "      \"resources\": [\"signing\", \"verification\"],\n"
                                 "      \"ppt\": [\"*\"],\n"
                                 "      \"orig_tn\": [\"12155551212\", \"12025551000\"],\n"
                                 "      \"orig_uri\": [\"sip:*@example.com\"],\n"
                                 "      \"max_attest\": \"A\",\n"
                                 "      \"rcd_nam\": [\"*\"],\n"
                                 "      \"rcd_url_prefixes\": [\"*\"],\n"
                                 "      \"iss\": [\"*\"],\n"
                                 "      \"appid\": [\"*\"],\n"
                                 "      \"rate\": 1000,\n"
                                 "      \"burst\": 2000\n"
                                 "    }\n"
                                 "  }\n"
                                 "}\n";

static int path_of(char *out, size_t cap, const char *dir, const char *name)
{
    return (size_t)snprintf(out, cap, "%s/%s", dir, name) < cap ? 0 : -1;
}

int lab_exists(const char *state_dir)
{
    char p[PATH_MAX];
    struct stat st;
    for (size_t i = 0; i < N_LAB_FILES; i++)
        if (path_of(p, sizeof p, state_dir, LAB_FILES[i]) || stat(p, &st) || !S_ISREG(st.st_mode))
            return 0;
    return 1;
}

/* ---- the authorization server's key ---------------------------------------------- */

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return k;
}

/* The public JWK of a P-256 key (members in RFC 7638 order) and its
 * RFC 7638 thumbprint as kid. */
static json_t *public_jwk(EVP_PKEY *k, char kid[STIR_B64URL_LEN(32)])
{
    unsigned char pub[65], dg[32];
    size_t pl = 0;
    char x[STIR_B64URL_LEN(32)], y[STIR_B64URL_LEN(32)];
    unsigned int dl = 0;
    if (!stir_key_is_p256(k) ||
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &pl) != 1 ||
        pl != 65 || pub[0] != 0x04)
        return NULL;
    stir_b64url_encode(pub + 1, 32, x);
    stir_b64url_encode(pub + 33, 32, y);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "crv", "P-256", "kty", "EC", "x", x, "y", y);
    size_t n;
    char *canon = j ? stir_json_canonical(j, &n) : NULL;
    if (!canon || EVP_Digest(canon, n, dg, &dl, EVP_sha256(), NULL) != 1) {
        free(canon);
        json_decref(j);
        return NULL;
    }
    free(canon);
    stir_b64url_encode(dg, 32, kid);
    json_object_set_new(j, "kid", json_string(kid));
    json_object_set_new(j, "alg", json_string("ES256"));
    json_object_set_new(j, "use", json_string("sig"));
    return j;
}

static int write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n;
    return close(fd) == 0 && ok ? 0 : -1;
}

static int make_oauth(const char *tmp, char *err, size_t errlen)
{
    char p[PATH_MAX], kid[STIR_B64URL_LEN(32)];
    stir_error e;
    if (path_of(p, sizeof p, tmp, "oauth.key") || stir_keygen(p, &e)) {
        snprintf(err, errlen, "lab: authorization server key: %s", e.detail);
        return -1;
    }
    EVP_PKEY *k = read_key(p);
    json_t *jwk = k ? public_jwk(k, kid) : NULL;
    EVP_PKEY_free(k);
    json_t *jwks = jwk ? json_pack("{s:[o]}", "keys", jwk) : NULL;
    char *text = jwks ? json_dumps(jwks, JSON_INDENT(2)) : NULL;
    json_decref(jwks);
    int rc = text && !path_of(p, sizeof p, tmp, "oauth-jwks.json") && !write_text(p, text, 0644)
                 ? 0
                 : -1;
    free(text);
    if (rc)
        snprintf(err, errlen, "lab: cannot write the JWKS");
    return rc;
}

/* ---- create ------------------------------------------------------------------------- */

static void remove_tmp(const char *tmp)
{
    char p[PATH_MAX];
    for (size_t i = 0; i < N_LAB_FILES; i++)
        if (!path_of(p, sizeof p, tmp, LAB_FILES[i]))
            unlink(p);
    rmdir(tmp);
}

int lab_create(const char *state_dir, char *err, size_t errlen)
{
    char tmp[PATH_MAX], lock[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    stir_error e;
    int rc = -1;
    if (stir_pki_mkdirs(state_dir, &e)) {
        snprintf(err, errlen, "lab: %s", e.detail);
        return -1;
    }
    if (path_of(lock, sizeof lock, state_dir, ".lab.lock") ||
        path_of(tmp, sizeof tmp, state_dir, ".lab.XXXXXX")) {
        snprintf(err, errlen, "lab: state directory path too long");
        return -1;
    }
    /* Two processes starting together must not mix their files. */
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
        snprintf(err, errlen, "lab: cannot lock %s: %s", lock, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    if (lab_exists(state_dir)) {
        close(lfd);
        return 0;
    }
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "lab: cannot create a directory in %s: %s", state_dir,
                 strerror(errno));
        close(lfd);
        return -1;
    }
    stir_tls_pair_options api = {
        .dir = tmp,
        .ca_file = "api-ca.pem",
        .ca_cn = "stird lab API CA",
        .cert_file = "api.pem",
        .key_file = "api.key",
        .hosts = "localhost,127.0.0.1",
    };
    stir_tls_pair_options client = {
        .dir = tmp,
        .ca_file = "client-ca.pem",
        .ca_cn = "stird lab client CA",
        .cert_file = "client.pem",
        .key_file = "client.key",
        .cn = LAB_CLIENT,
        .client = 1,
    };
    if (stir_pki_tls_pair(&api, &e) || stir_pki_tls_pair(&client, &e)) {
        snprintf(err, errlen, "lab: %s", e.detail);
        goto out;
    }
    if (make_oauth(tmp, err, errlen))
        goto out;
    if (path_of(from, sizeof from, tmp, "policy.json") || write_text(from, LAB_POLICY, 0644)) {
        snprintf(err, errlen, "lab: cannot write policy.json");
        goto out;
    }
    for (size_t i = 0; i < N_LAB_FILES; i++)
        if (path_of(from, sizeof from, tmp, LAB_FILES[i]) ||
            path_of(to, sizeof to, state_dir, LAB_FILES[i]) || rename(from, to) != 0) {
            snprintf(err, errlen, "lab: cannot move %s into %s: %s", LAB_FILES[i], state_dir,
                     strerror(errno));
            goto out;
        }
    rc = 0;
out:
    remove_tmp(tmp);
    close(lfd);
    return rc;
}

/* ---- tokens -------------------------------------------------------------------------- */

char *lab_token(const char *state_dir, const char *client, const char *scope, long ttl,
                const char *aud, time_t now, char *err, size_t errlen)
{
    char p[PATH_MAX], kid[STIR_B64URL_LEN(32)], jti[37];
    stir_error e;
    if (ttl < 1 || ttl > LAB_TOKEN_TTL_MAX) {
        snprintf(err, errlen, "--ttl must be 1 to %d seconds", LAB_TOKEN_TTL_MAX);
        return NULL;
    }
    if (path_of(p, sizeof p, state_dir, "oauth.key")) {
        snprintf(err, errlen, "state directory path too long");
        return NULL;
    }
    EVP_PKEY *k = read_key(p);
    json_t *jwk = k ? public_jwk(k, kid) : NULL;
    if (!jwk) {
        snprintf(err, errlen, "%s: not a P-256 private key (run the server once in lab mode)", p);
        EVP_PKEY_free(k);
        return NULL;
    }
    json_decref(jwk);
    if (stir_uuid4(jti) != 0)
        snprintf(jti, sizeof jti, "%lld", (long long)now);
    json_t *hdr = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ", "at+jwt", "kid", kid);
    json_t *cl = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", LAB_ISSUER, "aud",
                           aud ? aud : LAB_AUDIENCE, "client_id", client, "sub", client, "scope",
                           scope, "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                           (json_int_t)(now + ttl), "jti", jti);
    /* RFC 8705 3.1: bind the token to the lab client's certificate. */
    FILE *f = !path_of(p, sizeof p, state_dir, "client.pem") ? fopen(p, "r") : NULL;
    if (f) {
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        unsigned char dg[32];
        unsigned int dl = 0;
        char t[STIR_B64URL_LEN(32)];
        fclose(f);
        if (!x || X509_digest(x, EVP_sha256(), dg, &dl) != 1 || dl != 32) {
            snprintf(err, errlen, "%s: not a PEM certificate", p);
            X509_free(x);
            json_decref(hdr);
            json_decref(cl);
            EVP_PKEY_free(k);
            return NULL;
        }
        X509_free(x);
        stir_b64url_encode(dg, 32, t);
        json_object_set_new(cl, "cnf", json_pack("{s:s}", "x5t#S256", t));
    }
    char *tok = hdr && cl ? stir_jws_sign(k, hdr, cl, &e) : NULL;
    if (!tok)
        snprintf(err, errlen, "cannot sign the token");
    json_decref(hdr);
    json_decref(cl);
    EVP_PKEY_free(k);
    return tok;
}
