/*
 * Who may call the Ms API: the authentication gate run once per request
 * before the signer or verifier (issue 8 items 2-4; docs/SECURITY.md).
 *
 *   auth = none    nobody is authenticated; a policy file, when given,
 *                  applies by certificate identity or its "*" entry
 *   auth = static  the verified mTLS certificate identity names the
 *                  client in the policy file (TR 33.890 6.3.2.2)
 *   auth = oauth   an RFC 6750 Bearer access token in JWT form (RFC 9068,
 *                  TS 33.501 13.4.1), verified against a local JWKS
 *
 * A loaded `auth` is immutable; reloading builds a new one that an
 * auth_holder swaps in while requests in flight keep the old one.
 */
#ifndef STIRD_AUTH_H
#define STIRD_AUTH_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "denial.h"
#include "log.h"
#include "policy.h"

#define AUTH_TOKEN_MAX 8192 /* longest Authorization value accepted */
#define AUTH_JWKS_MAX_BYTES 65536
#define AUTH_JWKS_MAX_KEYS 16

#define AUTH_SCOPE_SIGNING "stir-signing"
#define AUTH_SCOPE_VERIFICATION "stir-verification"

typedef struct auth auth;

/* Build from the settings: reads oauth_jwks and policy_file. NULL on
 * error, with a one-line reason in err. */
auth *auth_load(const stird_config *cfg, char *err, size_t errlen);
void auth_free(auth *a);

/*
 * Authenticate and authorize one request. `authorization` is the
 * Authorization header value or NULL; `now` the server clock. On success
 * returns 0, fills c->principal and sets *pol to the client's policy
 * (NULL: no policy file, nothing more to check). Otherwise returns the
 * HTTP status (401, 403, 500) with `d` filled. The policy pointer stays
 * valid as long as `a` does.
 *
 * The caller then runs, for signing, policy_take_rate and
 * policy_check_signing (policy.h) when *pol is not NULL, and for
 * verification policy_take_rate.
 */
unsigned auth_check(const auth *a, http_client *c, const char *authorization,
                    enum auth_resource res, time_t now, const policy_client **pol, auth_denial *d);

/* The `auth` setting (enum stird_auth_mode) `a` was built with. */
int auth_mode(const auth *a);

/* Its per-client policy; NULL without policy_file. */
const policy *auth_policy(const auth *a);

/*
 * Reload without dropping connections: one holder per server, a holder
 * (holder.h) typed for `auth`. A request takes the current one with
 * auth_acquire and gives it back with auth_release when its reply is
 * sent; auth_holder_reload (SIGHUP) loads a new one from the settings and
 * swaps it in, and the old one is freed when its last request releases
 * it. On a failed reload the old one stays and err says why.
 */
typedef struct auth_holder auth_holder;
typedef struct auth_ref auth_ref;
auth_holder *auth_holder_new(auth *initial); /* takes it; NULL: out of memory */
void auth_holder_free(auth_holder *h);
auth_ref *auth_acquire(auth_holder *h);
const auth *auth_of(const auth_ref *r);
void auth_release(auth_ref *r);
int auth_holder_reload(auth_holder *h, const stird_config *cfg, char *err, size_t errlen);
/* Put `n` (from auth_load, checked by the caller) in for the next
 * requests, with the running policy's rate buckets. -1: out of memory,
 * `n` not taken, the old one stays. */
int auth_holder_swap(auth_holder *h, auth *n);

#endif
