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
    const char *dir; /* output directory (created if missing) */
    const char *spc; /* SPC for the SP certificate; default "709J" */
    /* comma-separated DNS names / IPs for the TLS certificate; default "localhost,127.0.0.1" */
    const char *tls_hosts;
    int days; /* validity; default 365 */
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

/*
 * A lab TLS CA and one certificate it issues (stird's lab mode: the API's
 * server certificate, a client certificate for mTLS). Writes into dir
 * (which must exist): ca_file (the CA certificate; its key is discarded),
 * cert_file and key_file (P-256, mode 0600). The leaf has the names of
 * `hosts` ("localhost,127.0.0.1": SAN DNS/IP, CN the first) or, without
 * hosts, only the subject CN `cn`; EKU clientAuth when `client`, else
 * serverAuth. Files are created exclusively. Returns 0 or an error.
 */
typedef struct stir_tls_pair_options {
    const char *dir;
    const char *ca_file, *ca_cn;
    const char *cert_file, *key_file;
    const char *hosts; /* NULL: no SAN */
    const char *cn;    /* subject CN; default the first host */
    int client;
    int days; /* default 365 */
} stir_tls_pair_options;

int stir_pki_tls_pair(const stir_tls_pair_options *o, stir_error *err);

/* mkdir -p, as stir_pki_create makes its directory. */
int stir_pki_mkdirs(const char *dir, stir_error *err);

/* Write a fresh P-256 private key (PKCS#8 PEM, mode 0600). */
int stir_keygen(const char *path, stir_error *err);

#ifdef __cplusplus
}
#endif
#endif
