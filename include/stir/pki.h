/*
 * A test PKI for STIR/SHAKEN, made with OpenSSL: an STI-PA root (trust
 * anchor), an STI-CA intermediate and a service-provider (SP) certificate
 * with a TNAuthList SPC, plus a TLS certificate for serving the chain at
 * the x5u URL. For labs, demos and tests; never for production.
 */
#ifndef STIR_PKI_H
#define STIR_PKI_H

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct stir_pki_options {
    const char *dir;          /* output directory (created if missing) */
    const char *spc;          /* SPC for the SP certificate; default "709J" */
    const char *tls_hosts;    /* comma-separated DNS names / IPs for the TLS
                                 certificate; default "localhost,127.0.0.1" */
    int days;                 /* validity; default 365 */
} stir_pki_options;

/*
 * Write into opt->dir (mode 0600 for keys):
 *   root.pem        STI-PA root certificate (trust anchor)
 *   root.key
 *   ca.pem, ca.key  STI-CA intermediate
 *   sp.pem, sp.key  SP certificate (leaf: P-256, digitalSignature,
 *                   TNAuthList SPC, CN "SHAKEN <spc>")
 *   chain.pem       sp.pem + ca.pem (what the x5u URL serves)
 *   tls.pem, tls.key  self-signed TLS server certificate for tls_hosts
 * Existing files are never overwritten: any of them present is an error
 * (stird's "make a PKI on first run"). Returns 0 or 500 with detail.
 *
 * Atomic: everything is written and fsynced in a temporary directory
 * beside opt->dir (".NAME.pki-PID.XXXXXX"), which is then renamed onto
 * opt->dir (absent or empty; the result is mode 0700). A crash leaves no
 * PKI or a complete one, and the leftover temporary directory of a process
 * that is gone is removed by the next call for the same opt->dir. Into a
 * directory that already holds other files, the files are moved one by
 * one (each complete, the set not atomic).
 */
int stir_pki_create(const stir_pki_options *opt, stir_error *err);

/* Does `dir` already hold a complete PKI made by stir_pki_create? */
int stir_pki_exists(const char *dir);

/* Write a fresh P-256 private key (PKCS#8 PEM, mode 0600). */
int stir_keygen(const char *path, stir_error *err);

#ifdef __cplusplus
}
#endif
#endif
