/*
 * Where stird's private keys come from, and the checks they pass before
 * the server starts: key file permissions (key hygiene), the PKCS#11 PIN,
 * and the signing identities built from them.
 */
#ifndef STIRD_CREDENTIALS_H
#define STIRD_CREDENTIALS_H

#include <stddef.h>
#include <time.h>
#include <stir/stir.h>
#include "config.h"

/*
 * Refuse a private key file that group or others may read or write
 * (mode & 077), unless allow_insecure_key_mode is set (then warn). `what`
 * names the setting in the message ("signing key"). Returns 0, or -1 with
 * a one-line message naming the file and its mode in `err`.
 */
int cred_check_key_file(const stird_config *cfg, const char *what, const char *path, char *err,
                        size_t errlen);

/*
 * The signer of the configured credentials: one identity per `signer`
 * line, in order, then the default one (key, cert, x5u). A key file is
 * checked readable and owner-only; a "pkcs11:" key is loaded from the token
 * of pkcs11_module with the PIN of key_pin_file or $STIRD_PKCS11_PIN (the
 * PIN is wiped once the token is logged in, and never logged). Created
 * from `ctx` (its PASSporT types). Returns the signer, or NULL with a
 * one-line message in `err`.
 */
stir_signer *cred_signer_new(stir_ctx *ctx, const stird_config *cfg, stir_rcd *rcd, char *err,
                             size_t errlen);

/* 1 when a signing identity of `cfg` (key, or a signer line) is a
 * "pkcs11:" key: slow to sign with, so not on an event loop. */
int cred_uses_token(const stird_config *cfg);

/*
 * Warn (log) about each certificate of the PEM file `path` (or of every
 * file of a directory: trust anchors) that has expired, is not valid yet,
 * or expires within `days` days of `now`; `what` names it ("signing
 * chain"). Returns the earliest notAfter seen, 0 when none was read.
 */
time_t cred_warn_expiry(const char *what, const char *path, long days, time_t now);

/*
 * The signer requests use, swappable at run time (SIGHUP): a holder
 * (holder.h) typed for stir_signer. A request takes the current one with
 * cred_acquire and gives it back with cred_release; cred_holder_swap puts
 * a new one in for the next requests, and the old one is freed when its
 * last request is done. The signer may be NULL (signing not configured).
 */
typedef struct cred_holder cred_holder;
typedef struct cred_ref cred_ref;
cred_holder *cred_holder_new(stir_signer *initial); /* takes it; NULL: out of memory */
void cred_holder_free(cred_holder *h);
cred_ref *cred_acquire(cred_holder *h);
stir_signer *cred_signer(const cred_ref *r);
void cred_release(cred_ref *r);
int cred_holder_swap(cred_holder *h,
                     stir_signer *next); /* takes it; -1: out of memory, not taken */

#endif
