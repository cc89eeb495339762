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

#endif
