/*
 * The embedded certificate repository: an HTTPS server that publishes the
 * signer's chain at /cert/chain.pem, so the x5u URL stird signs with can
 * actually be dereferenced (by stird itself or by any other verifier).
 */
#ifndef STIRD_X5U_H
#define STIRD_X5U_H

#include <stddef.h>
#include "config.h"

typedef struct x5u_server x5u_server;

/* Serve cfg->cert on cfg->x5u_listen with cfg->x5u_tls_cert/_key. */
x5u_server *x5u_start(const stird_config *cfg, char *err, size_t errlen);
unsigned x5u_port(const x5u_server *s);
void x5u_stop(x5u_server *s);
/* SIGHUP: the chain document (cert) and, for new connections, the TLS
 * certificate (x5u_tls_cert/_key) read again. -1 with `err`: nothing
 * changed. Call it only once everything else of the reload loaded. */
int x5u_reload(x5u_server *s, const stird_config *cfg, char *err, size_t errlen);

#endif
