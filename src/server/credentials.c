/*
 * Private keys of stird: where each comes from (a PEM file or a PKCS#11
 * token), the permission check of key files and the token PIN.
 */
#include "credentials.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define PIN_MAX 256

int cred_check_key_file(const stird_config *cfg, const char *what, const char *path,
                        char *err, size_t errlen)
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
        log_msg(LOG_LVL_WARN, "%s %s has mode %04o (group/other access); accepted because "
                "allow_insecure_key_mode is set: for labs only", what, path,
                (unsigned)(st.st_mode & 07777));
        return 0;
    }
    snprintf(err, errlen, "%s %s has mode %04o: group or others may access it; "
             "make it owner-only (chmod 600 %s), or set allow_insecure_key_mode = yes "
             "(labs only)", what, path, (unsigned)(st.st_mode & 07777), path);
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
        FILE *f;
        size_t n;
        if (cred_check_key_file(cfg, "PIN file", cfg->key_pin_file, err, errlen) != 0)
            return -1;
        if (!(f = fopen(cfg->key_pin_file, "r"))) {
            snprintf(err, errlen, "PIN file %s: %s", cfg->key_pin_file, strerror(errno));
            return -1;
        }
        n = fread(pin, 1, PIN_MAX + 1, f);
        fclose(f);
        pin[n > PIN_MAX ? PIN_MAX : n] = '\0';
        pin[strcspn(pin, "\r\n")] = '\0';
        if (n > PIN_MAX && strlen(pin) == PIN_MAX) {
            snprintf(err, errlen, "PIN file %s: the PIN is longer than %d bytes",
                     cfg->key_pin_file, PIN_MAX);
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
            snprintf(err, errlen, "the signing key %s is in a PKCS#11 token: set "
                     "pkcs11_module (e.g. /usr/lib/softhsm/libsofthsm2.so for SoftHSM)", key);
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

stir_signer *cred_signer_new(const stird_config *cfg, stir_rcd *rcd, char *err, size_t errlen)
{
    char pin[PIN_MAX + 1];
    int have_pin = 0;
    stir_signer *s = NULL;
    stir_error e;

    if (check_key_source(cfg, cfg->key, err, errlen) != 0)
        return NULL;
    if (access(cfg->cert, R_OK) != 0) {
        snprintf(err, errlen, "certificate chain %s is not readable: %s", cfg->cert,
                 strerror(errno));
        return NULL;
    }
    if (strncmp(cfg->key, "pkcs11:", 7) == 0 && read_pin(cfg, pin, &have_pin, err, errlen) != 0)
        return NULL;
    stir_signer_config sc = {
        .key_path = cfg->key,
        .cert_path = cfg->cert,
        .x5u = cfg->x5u,
        .pkcs11_module = cfg->pkcs11_module,
        .pkcs11_pin = have_pin ? pin : NULL,
        .freshness_s = cfg->freshness,
        .rcd = rcd,
    };
    memset(&e, 0, sizeof e);
    s = stir_signer_new(&sc, &e);
    OPENSSL_cleanse(pin, sizeof pin);
    if (!s)
        snprintf(err, errlen, "cannot use the signing credentials: %s", e.detail);
    return s;
}
