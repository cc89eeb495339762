/*
 * Private keys of stird: where each comes from (a PEM file or a PKCS#11
 * token), the permission check of key files and the token PIN.
 */
#include "credentials.h"
#include "holder.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define PIN_MAX 256

int cred_check_key_file(const stird_config *cfg, const char *what, const char *path, char *err,
                        size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    if ((st.st_mode & 077) == 0)
        return 0;
    /* Anyone who can read the key can sign as this provider; anyone who
     * can write it can make us sign with theirs. */
    if (cfg->allow_insecure_key_mode) {
        log_msg(LOG_LVL_WARN,
                "%s %s has mode %04o (group/other access); accepted because "
                "allow_insecure_key_mode is set: for labs only",
                what, path, (unsigned)(st.st_mode & 07777));
        return 0;
    }
    snprintf(err, errlen,
             "%s %s has mode %04o: group or others may access it; "
             "make it owner-only (chmod 600 %s), or set allow_insecure_key_mode = yes "
             "(labs only)",
             what, path, (unsigned)(st.st_mode & 07777), path);
    return -1;
}

/*
 * The token PIN: the first line of key_pin_file (owner-only, like a key),
 * else $STIRD_PKCS11_PIN, else none. Never from the config line itself, so
 * it never shows in a config file or a process list. 0, or -1 with `err`.
 */
static int read_pin(const stird_config *cfg, char pin[PIN_MAX + 1], int *have, char *err,
                    size_t errlen)
{
    const char *env = getenv("STIRD_PKCS11_PIN");
    *have = 0;
    if (cfg->key_pin_file) {
        char buf[PIN_MAX + 3]; /* the longest PIN, "\r\n" */
        FILE *f;
        size_t n, len;
        if (cred_check_key_file(cfg, "PIN file", cfg->key_pin_file, err, errlen) != 0)
            return -1;
        if (!(f = fopen(cfg->key_pin_file, "r"))) {
            snprintf(err, errlen, "PIN file %s: %s", cfg->key_pin_file, strerror(errno));
            return -1;
        }
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        len = strcspn(buf, "\r\n");
        buf[len] = '\0';
        memcpy(pin, buf, len > PIN_MAX ? PIN_MAX : len);
        pin[len > PIN_MAX ? PIN_MAX : len] = '\0';
        OPENSSL_cleanse(buf, sizeof buf);
        if (len > PIN_MAX) {
            snprintf(err, errlen, "PIN file %s: the PIN is longer than %d bytes", cfg->key_pin_file,
                     PIN_MAX);
            return -1;
        }
        if (pin[0] == '\0') {
            snprintf(err, errlen, "PIN file %s: empty first line", cfg->key_pin_file);
            return -1;
        }
        *have = 1;
    } else if (env && *env) {
        if (strlen(env) > PIN_MAX) {
            snprintf(err, errlen, "STIRD_PKCS11_PIN is longer than %d bytes", PIN_MAX);
            return -1;
        }
        snprintf(pin, PIN_MAX + 1, "%s", env);
        *have = 1;
    }
    return 0;
}

/* One key source checked before libstir loads it. */
static int check_key_source(const stird_config *cfg, const char *key, char *err, size_t errlen)
{
    if (strncmp(key, "pkcs11:", 7) == 0) {
        if (!cfg->pkcs11_module) {
            snprintf(err, errlen,
                     "the signing key %s is in a PKCS#11 token: set "
                     "pkcs11_module (e.g. /usr/lib/softhsm/libsofthsm2.so for SoftHSM)",
                     key);
            return -1;
        }
        return 0;
    }
    if (access(key, R_OK) != 0) {
        snprintf(err, errlen, "signing key %s is not readable: %s", key, strerror(errno));
        return -1;
    }
    return cred_check_key_file(cfg, "signing key", key, err, errlen);
}

/* Check one identity's key and chain files; `origin` names its setting. */
static int check_identity(const stird_config *cfg, const char *origin, const char *key,
                          const char *cert, char *err, size_t errlen)
{
    char msg[900];
    if (check_key_source(cfg, key, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "%s%s", origin, msg);
        return -1;
    }
    if (access(cert, R_OK) != 0) {
        snprintf(err, errlen, "%scertificate chain %s is not readable: %s", origin, cert,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int cred_uses_token(const stird_config *cfg)
{
    int token = cfg->key && strncmp(cfg->key, "pkcs11:", 7) == 0;
    for (size_t i = 0; i < cfg->n_signers; i++)
        token |= strncmp(cfg->signers[i].key, "pkcs11:", 7) == 0;
    return token;
}

stir_signer *cred_signer_new(stir_ctx *ctx, const stird_config *cfg, stir_rcd *rcd, char *err,
                             size_t errlen)
{
    char pin[PIN_MAX + 1], origin[320];
    int have_pin = 0, need_pin = cred_uses_token(cfg);
    size_t n = cfg->n_signers + (cfg->key ? 1 : 0);
    stir_signer *s = NULL;
    stir_error e;

    if (need_pin && read_pin(cfg, pin, &have_pin, err, errlen) != 0)
        return NULL;
    /* The signer lines in their order, then the default (key, cert, x5u):
     * the first that covers a request signs it. */
    for (size_t i = 0; i < n; i++) {
        const stird_signer_def *d = i < cfg->n_signers ? &cfg->signers[i] : NULL;
        stir_signer_config sc = {
            .name = d ? d->name : "default",
            .key_path = d ? d->key : cfg->key,
            .cert_path = d ? d->cert : cfg->cert,
            .x5u = d ? d->x5u : cfg->x5u,
            .tn_ranges = d ? d->tn : NULL,
            .n_tn_ranges = d ? d->n_tn : 0,
            .pkcs11_module = cfg->pkcs11_module,
            .pkcs11_pin = have_pin ? pin : NULL,
            .freshness_s = cfg->verify.freshness_s, /* one setting for both */
            .rcd = rcd,
            .require_user_phone = cfg->verify.require_user_phone,
        };
        if (d)
            snprintf(origin, sizeof origin, "%s: signer %s: ", d->origin, d->name);
        else
            origin[0] = '\0';
        if (check_identity(cfg, origin, sc.key_path, sc.cert_path, err, errlen) != 0)
            goto fail;
        memset(&e, 0, sizeof e);
        if (i == 0 ? !(s = stir_signer_new(ctx, &sc, &e)) : stir_signer_add(s, &sc, &e) != 0) {
            snprintf(err, errlen, "%scannot use the signing credentials: %s", origin, e.detail);
            goto fail;
        }
    }
    OPENSSL_cleanse(pin, sizeof pin);
    return s;
fail:
    OPENSSL_cleanse(pin, sizeof pin);
    stir_signer_free(s);
    return NULL;
}

/* ---- the swappable signer (holder.h) ---------------------------------------------- */

static void signer_free(void *s)
{
    stir_signer_free(s);
}

cred_holder *cred_holder_new(stir_signer *initial)
{
    return (cred_holder *)holder_new(initial, signer_free);
}

void cred_holder_free(cred_holder *h)
{
    holder_free((holder *)h);
}

cred_ref *cred_acquire(cred_holder *h)
{
    return (cred_ref *)holder_acquire((holder *)h);
}

stir_signer *cred_signer(const cred_ref *r)
{
    return holder_obj((const holder_ref *)r);
}

void cred_release(cred_ref *r)
{
    holder_release((holder_ref *)r);
}

int cred_holder_swap(cred_holder *h, stir_signer *next)
{
    return holder_swap((holder *)h, next);
}

/* ---- expiry warnings ------------------------------------------------------------------ */

static time_t asn1_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

static time_t warn_file(const char *what, const char *path, long days, time_t now)
{
    FILE *f = fopen(path, "r");
    X509 *x;
    time_t first = 0;

    if (!f)
        return 0;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
        time_t na = asn1_epoch(X509_get0_notAfter(x)), nb = asn1_epoch(X509_get0_notBefore(x));
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
        if (na && na < now)
            log_msg(LOG_LVL_WARN, "%s %s: certificate %s EXPIRED %.1f days ago", what, path,
                    subject, (double)(now - na) / 86400);
        else if (nb > now)
            log_msg(LOG_LVL_WARN, "%s %s: certificate %s is not valid yet", what, path, subject);
        else if (na && na - now < (time_t)days * 86400)
            log_msg(LOG_LVL_WARN,
                    "%s %s: certificate %s expires in %.1f days "
                    "(cert_expiry_warn_days = %ld)",
                    what, path, subject, (double)(na - now) / 86400, days);
        if (na && (!first || na < first))
            first = na;
        X509_free(x);
    }
    ERR_clear_error(); /* the end of the file reads as an error */
    fclose(f);
    return first;
}

time_t cred_warn_expiry(const char *what, const char *path, long days, time_t now)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    time_t first = 0;

    if (!path || strncmp(path, "pkcs11:", 7) == 0 || stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return warn_file(what, path, days, now);
    if (!(d = opendir(path)))
        return 0;
    while ((de = readdir(d))) {
        char p[4096];
        time_t t;
        if (de->d_name[0] == '.' ||
            snprintf(p, sizeof p, "%s/%s", path, de->d_name) >= (int)sizeof p ||
            stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        t = warn_file(what, p, days, now);
        if (t && (!first || t < first))
            first = t;
    }
    closedir(d);
    return first;
}
