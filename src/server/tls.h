/*
 * TLS for stird's listeners, with OpenSSL 3 (the library that already does
 * all of stird's X.509): TLS 1.2 and 1.3 only, forward-secret AEAD suites,
 * and optional mutual TLS where the handshake itself fails without a
 * client certificate that verifies against the configured client CAs.
 */
#ifndef STIRD_TLS_H
#define STIRD_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "log.h"

/*
 * A server context: certificate chain and key (PEM files), and, when
 * `client_ca` is set (a PEM bundle or a directory of hashed PEM files),
 * required client certificates. NULL with a message in `err`.
 */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca, char *err,
                        size_t errlen);

/*
 * After the handshake: fill c->identity (first SAN URI, else first SAN
 * DNS name, else subject CN), c->has_cert and c->cert_sha256 from the
 * verified peer certificate. Nothing when there is none.
 */
void tls_client_identity(SSL *ssl, http_client *c);

/*
 * The context a listener hands new connections, swappable at run time
 * (SIGHUP): tls_slot_ssl takes the current one under a lock; an SSL holds
 * its own reference to its context, so connections already made keep the
 * certificate they shook hands with when tls_slot_swap frees the old one.
 */
typedef struct tls_slot tls_slot;
/* Takes ctx; NULL when out of memory (ctx not taken). */
tls_slot *tls_slot_new(SSL_CTX *ctx);
/* A slot holding a new server context (tls_server_ctx); NULL with a
 * message in `err`. */
tls_slot *tls_slot_load(const char *cert, const char *key, const char *client_ca, char *err,
                        size_t errlen);
void tls_slot_free(tls_slot *t);
SSL *tls_slot_ssl(tls_slot *t);
/* Takes ctx for the connections made from now on. -1: out of memory,
 * ctx freed, the old one stays. */
int tls_slot_swap(tls_slot *t, SSL_CTX *ctx);

#endif
