/*
 * Lab material for trying the secured Ms API in one command (issue 8
 * item 8; `make run-secure`): under the state directory, created once,
 *
 *   api-ca.pem               trusts the API's TLS certificate (curl --cacert)
 *   api.pem, api.key         the API's TLS server certificate, 127.0.0.1/localhost
 *   client-ca.pem            trusts lab client certificates (server side)
 *   client.pem, client.key   the client `lab` (subject CN "lab", no SAN)
 *   oauth.key                the lab authorization server's ES256 key
 *   oauth-jwks.json          its public JWKS (kid = RFC 7638 thumbprint)
 *   policy.json              `lab` may sign only for the README's TNs
 *
 * The lab client is `lab` everywhere: its certificate identity (CN, as
 * no SAN is present), its token client_id/sub and its policy key.
 */
#ifndef STIRD_LAB_H
#define STIRD_LAB_H

#include <stddef.h>
#include <time.h>

#define LAB_ISSUER "urn:stird:lab-as"
#define LAB_AUDIENCE "stird"
#define LAB_CLIENT "lab"
#define LAB_TOKEN_TTL_MAX 86400

/* Create the files above unless they all exist: written into a temp
 * directory, then renamed into place under a lock, policy.json last.
 * Returns 0, or -1 with err. */
int lab_create(const char *state_dir, char *err, size_t errlen);
int lab_exists(const char *state_dir);

/*
 * An access token of the lab authorization server (state_dir/oauth.key):
 * ES256, typ at+jwt, kid; iss LAB_ISSUER, aud (default LAB_AUDIENCE),
 * client_id and sub `client`, scope, iat, nbf, exp = now + ttl, jti, and
 * cnf x5t#S256 of state_dir/client.pem when that file exists. malloc'd,
 * or NULL with err.
 */
char *lab_token(const char *state_dir, const char *client, const char *scope, long ttl,
                const char *aud, time_t now, char *err, size_t errlen);

#endif
