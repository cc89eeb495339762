/*
 * Signing keys in a PKCS#11 token (an HSM), named by a PKCS#11 URI
 * (RFC 7512), through libp11.
 *
 * libp11 turns a token key into an EVP_PKEY whose EC method calls
 * C_Sign, and keeps a pool of sessions per slot (a signing thread takes
 * one, signs, and puts it back), so the ES256 code of jws.c, with its
 * per-thread EVP_PKEY_CTX, signs with a token key exactly as with a file
 * key. Why libp11 rather than the pkcs11 engine or the raw PKCS#11 API:
 * docs/ARCHITECTURE.md "Key sources".
 *
 * A module is loaded (C_Initialize) once per process and stays loaded
 * until stir_cleanup(): a token key's EVP_PKEY may outlive its signer in
 * the per-thread context caches of jws.c, and it calls into the module.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "internal.h"

#define URI_ATTR_MAX 256 /* bytes of one decoded attribute value */
#define MODULES_MAX 4

/* The PIN a slot was logged in with, as a salted slow hash: a later load
 * (SIGHUP) with another PIN cannot be checked by the token while it is
 * logged in, so it is refused rather than taken on trust. */
struct slot_login {
    int set;
    unsigned char md[32];
};

struct p11_module {
    char *path;
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned n_slots;
    struct slot_login *logins; /* one per slot */
    unsigned char salt[16];
};

#define PIN_KDF_ITER 20000 /* ~5 ms per load; makes guessing a short PIN from memory slow */

static struct p11_module modules[MODULES_MAX];
static size_t n_modules;
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;

/* What a URI selects. Empty strings (id_len 0) select anything. */
struct p11_uri {
    char token[URI_ATTR_MAX + 1], manufacturer[URI_ATTR_MAX + 1];
    char model[URI_ATTR_MAX + 1], serial[URI_ATTR_MAX + 1];
    char object[URI_ATTR_MAX + 1];
    unsigned char id[URI_ATTR_MAX];
    size_t id_len;
};

int sti_pkcs11_is_uri(const char *s)
{
    return s && strncmp(s, "pkcs11:", 7) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode [s, s+n) into out (cap bytes). Returns the length, or
 * -1 on a bad escape or overflow. */
static long pct_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return -1;
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (o >= cap)
            return -1;
        out[o++] = (unsigned char)c;
    }
    return (long)o;
}

/* One "name=value" attribute of the path or the query. */
static int uri_attr(struct p11_uri *u, const char *a, size_t n, int query, stir_error *err)
{
    const char *eq = memchr(a, '=', n);
    if (!eq)
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "PKCS#11 URI attribute \"%.*s\" has no "
                         "'=' (RFC 7512)",
                         (int)(n > 40 ? 40 : n), a);
    size_t kl = (size_t)(eq - a), vl = n - kl - 1;
    const char *v = eq + 1;
    unsigned char buf[URI_ATTR_MAX + 1];
    long dl = pct_decode(v, vl, buf, URI_ATTR_MAX);
    if (dl < 0)
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "PKCS#11 URI attribute \"%.*s\": bad "
                         "percent-encoding or longer than %d bytes",
                         (int)kl, a, URI_ATTR_MAX);
    buf[dl] = '\0';
#define IS(name) (kl == sizeof(name) - 1 && memcmp(a, name, kl) == 0)
    if (query) {
        if (IS("pin-value") || IS("pin-source"))
            return stir_fail(err, STIR_ERR_INTERNAL, "key",
                             "the PKCS#11 URI must not carry "
                             "the PIN (%.*s): give it in key_pin_file or STIRD_PKCS11_PIN",
                             (int)kl, a);
        if (IS("module-name") || IS("module-path"))
            return stir_fail(err, STIR_ERR_INTERNAL, "key",
                             "the PKCS#11 module is the "
                             "pkcs11_module setting, not the URI's %.*s",
                             (int)kl, a);
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "unsupported PKCS#11 URI query "
                         "attribute \"%.*s\"",
                         (int)kl, a);
    }
    char *dst = NULL;
    if (IS("token"))
        dst = u->token;
    else if (IS("manufacturer"))
        dst = u->manufacturer;
    else if (IS("model"))
        dst = u->model;
    else if (IS("serial"))
        dst = u->serial;
    else if (IS("object"))
        dst = u->object;
    else if (IS("id")) {
        memcpy(u->id, buf, (size_t)dl);
        u->id_len = (size_t)dl;
        return 0;
    } else if (IS("type")) {
        if (strcmp((char *)buf, "private") != 0)
            return stir_fail(err, STIR_ERR_INTERNAL, "key",
                             "PKCS#11 URI type=%s: a signing "
                             "key is type=private",
                             (char *)buf);
        return 0;
    } else if ((kl > 8 && memcmp(a, "library-", 8) == 0) ||
               (kl > 5 && memcmp(a, "slot-", 5) == 0)) {
        return 0; /* describe the module or slot: any token found is checked anyway */
    } else {
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "unsupported PKCS#11 URI attribute "
                         "\"%.*s\" (token, manufacturer, model, serial, object, id, type)",
                         (int)(kl > 40 ? 40 : kl), a);
    }
#undef IS
    if (memchr(buf, '\0', (size_t)dl))
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "PKCS#11 URI attribute \"%.*s\" "
                         "contains a NUL byte",
                         (int)kl, a);
    memcpy(dst, buf, (size_t)dl + 1);
    return 0;
}

/* "pkcs11:" path-attrs [ "?" query-attrs ] (RFC 7512 2.3). */
static int uri_parse(const char *uri, struct p11_uri *u, stir_error *err)
{
    memset(u, 0, sizeof *u);
    const char *p = uri + 7, *q = strchr(p, '?');
    const char *path_end = q ? q : p + strlen(p);
    for (int query = 0; query < 2; query++) {
        const char *s = query ? (q ? q + 1 : path_end) : p;
        const char *end = query ? s + strlen(s) : path_end;
        char sep = query ? '&' : ';';
        while (s < end) {
            const char *e = memchr(s, sep, (size_t)(end - s));
            if (!e)
                e = end;
            if (e > s) {
                int rc = uri_attr(u, s, (size_t)(e - s), query, err);
                if (rc)
                    return rc;
            }
            s = e + 1;
        }
    }
    if (!u->object[0] && !u->id_len)
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "the PKCS#11 URI names no key: give "
                         "object=LABEL or id=%%XX... (RFC 7512)");
    return 0;
}

static int field_ok(const char *want, const char *have)
{
    return !want[0] || (have && strcmp(want, have) == 0);
}

static int token_matches(const struct p11_uri *u, const PKCS11_TOKEN *t)
{
    return t && t->initialized && field_ok(u->token, t->label) &&
           field_ok(u->manufacturer, t->manufacturer) && field_ok(u->model, t->model) &&
           field_ok(u->serial, t->serialnr);
}

static int key_matches(const struct p11_uri *u, const PKCS11_KEY *k)
{
    if (u->object[0] && (!k->label || strcmp(u->object, k->label) != 0))
        return 0;
    if (u->id_len && (k->id_len != u->id_len || memcmp(k->id, u->id, u->id_len) != 0))
        return 0;
    return 1;
}

/* A failure with libp11's own reason appended. */
static int p11_fail(stir_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int p11_fail(stir_error *err, const char *fmt, ...)
{
    char ossl[160] = "", what[300];
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, ossl, sizeof ossl);
    ERR_clear_error();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return stir_fail(err, STIR_ERR_INTERNAL, "key", "%s%s%s", what, ossl[0] ? ": " : "", ossl);
}

/* The loaded module at `path` (loading it the first time). Lock held. */
static struct p11_module *module_get(const char *path, stir_error *err)
{
    for (size_t i = 0; i < n_modules; i++)
        if (strcmp(modules[i].path, path) == 0)
            return &modules[i];
    if (n_modules == MODULES_MAX) {
        stir_fail(err, STIR_ERR_INTERNAL, "pkcs11_module", "at most %d PKCS#11 modules",
                  MODULES_MAX);
        return NULL;
    }
    struct p11_module *m = &modules[n_modules];
    memset(m, 0, sizeof *m);
    if (!(m->path = strdup(path)) || !(m->ctx = PKCS11_CTX_new())) {
        free(m->path);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (PKCS11_CTX_load(m->ctx, path) != 0) {
        p11_fail(err, "cannot load the PKCS#11 module %s", path);
        PKCS11_CTX_free(m->ctx);
        free(m->path);
        return NULL;
    }
    if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->n_slots) != 0) {
        p11_fail(err, "PKCS#11 module %s: cannot list its slots", path);
        PKCS11_CTX_unload(m->ctx);
        PKCS11_CTX_free(m->ctx);
        free(m->path);
        return NULL;
    }
    if (!(m->logins = calloc(m->n_slots ? m->n_slots : 1, sizeof *m->logins)) ||
        RAND_bytes(m->salt, sizeof m->salt) != 1) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        free(m->logins);
        PKCS11_release_all_slots(m->ctx, m->slots, m->n_slots);
        PKCS11_CTX_unload(m->ctx);
        PKCS11_CTX_free(m->ctx);
        free(m->path);
        return NULL;
    }
    n_modules++;
    return m;
}

static int pin_hash(const struct p11_module *m, const char *pin, unsigned char md[32])
{
    return PKCS5_PBKDF2_HMAC(pin, (int)strlen(pin), m->salt, sizeof m->salt, PIN_KDF_ITER,
                             EVP_sha256(), 32, md) == 1
               ? 0
               : -1;
}

/* Find the one private key the URI names, logging in to its token. */
static EVP_PKEY *find_key(struct p11_module *m, const struct p11_uri *u, const char *uri,
                          const char *pin, stir_error *err)
{
    PKCS11_KEY *found = NULL;
    size_t n_tokens = 0, n_found = 0;
    for (unsigned i = 0; i < m->n_slots; i++) {
        PKCS11_SLOT *slot = &m->slots[i];
        if (!token_matches(u, slot->token))
            continue;
        n_tokens++;
        int logged = 0;
        struct slot_login *rec = &m->logins[i];
        unsigned char md[32];
        if (PKCS11_is_logged_in(slot, 0, &logged) != 0)
            logged = 0;
        /* Even when logged in already: a configuration must also start. */
        if (slot->token->loginRequired && !pin) {
            stir_fail(err, STIR_ERR_INTERNAL, "key",
                      "token \"%s\" needs a PIN: set "
                      "key_pin_file or STIRD_PKCS11_PIN",
                      slot->token->label);
            return NULL;
        }
        if (!logged && slot->token->loginRequired) {
            if (PKCS11_login(slot, 0, pin) != 0) {
                /* Never the PIN itself in a message. */
                p11_fail(err, "login to token \"%s\" refused (wrong PIN?)", slot->token->label);
                return NULL;
            }
            rec->set = pin_hash(m, pin, rec->md) == 0;
        } else if (logged && pin && rec->set) {
            /* C_Login on a logged-in token checks nothing, and logging out
             * would end the sessions that sign now. */
            int same = pin_hash(m, pin, md) == 0 && CRYPTO_memcmp(md, rec->md, sizeof md) == 0;
            OPENSSL_cleanse(md, sizeof md);
            if (!same) {
                stir_fail(err, STIR_ERR_INTERNAL, "key",
                          "the PIN given differs from the one token \"%s\" is logged in "
                          "with, and a logged-in token cannot check another one: a new PIN "
                          "takes effect at the next start",
                          slot->token->label);
                return NULL;
            }
        }
        PKCS11_KEY *keys = NULL;
        unsigned n_keys = 0;
        if (PKCS11_enumerate_keys(slot->token, &keys, &n_keys) != 0) {
            p11_fail(err, "cannot list the keys of token \"%s\"", slot->token->label);
            return NULL;
        }
        for (unsigned k = 0; k < n_keys; k++)
            if (key_matches(u, &keys[k])) {
                found = &keys[k];
                n_found++;
            }
    }
    if (n_tokens == 0) {
        stir_fail(err, STIR_ERR_INTERNAL, "key",
                  "no initialized token matches %s in the "
                  "PKCS#11 module %s",
                  uri, m->path);
        return NULL;
    }
    if (n_found == 0) {
        stir_fail(err, STIR_ERR_INTERNAL, "key", "%s names no private key in the token", uri);
        return NULL;
    }
    if (n_found > 1) {
        stir_fail(err, STIR_ERR_INTERNAL, "key",
                  "%s names %zu private keys; add id= or "
                  "token= so that it names one",
                  uri, n_found);
        return NULL;
    }
    EVP_PKEY *k = PKCS11_get_private_key(found);
    if (!k)
        p11_fail(err, "cannot use the private key %s", uri);
    return k;
}

EVP_PKEY *sti_pkcs11_load_key(const char *uri, const char *module, const char *pin, stir_error *err)
{
    struct p11_uri u;
    if (!module || !*module) {
        stir_fail(err, STIR_ERR_INTERNAL, "pkcs11_module",
                  "the key %s is in a PKCS#11 token: "
                  "set pkcs11_module to the module (shared library) of that token",
                  uri);
        return NULL;
    }
    if (uri_parse(uri, &u, err))
        return NULL;
    pthread_mutex_lock(&modules_lock);
    struct p11_module *m = module_get(module, err);
    EVP_PKEY *k = m ? find_key(m, &u, uri, pin, err) : NULL;
    pthread_mutex_unlock(&modules_lock);
    OPENSSL_cleanse(&u, sizeof u);
    return k;
}

void sti_pkcs11_cleanup(void)
{
    pthread_mutex_lock(&modules_lock);
    for (size_t i = 0; i < n_modules; i++) {
        PKCS11_release_all_slots(modules[i].ctx, modules[i].slots, modules[i].n_slots);
        OPENSSL_cleanse(modules[i].logins, modules[i].n_slots * sizeof *modules[i].logins);
        free(modules[i].logins);
        PKCS11_CTX_unload(modules[i].ctx);
        PKCS11_CTX_free(modules[i].ctx);
        free(modules[i].path);
    }
    n_modules = 0;
    pthread_mutex_unlock(&modules_lock);
}
