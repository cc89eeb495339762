/*
 * Per-client policy of the Ms API (issue 8 item 4; TR 33.890 6.3.2.2
 * static authorization): one JSON file naming each client and what it
 * may do. The format is documented in docs/SECURITY.md ("Per-client
 * policy"); etc/policy.json.example is a complete file.
 *
 * A loaded policy is immutable except for the per-client rate buckets,
 * which carry their own mutex; a reload builds a new policy and the
 * caller swaps it whole (auth.h: auth_holder).
 */
#ifndef STIRD_POLICY_H
#define STIRD_POLICY_H

#include <stddef.h>
#include <jansson.h>

#include "denial.h"

struct stir_signer;

#define POLICY_MAX_BYTES (1024 * 1024) /* largest policy file */
#define POLICY_MAX_CLIENTS 4096
#define POLICY_MAX_LIST 256 /* entries of one rule list */
#define POLICY_MAX_ITEM 512 /* characters of one entry */

typedef struct policy policy;
typedef struct policy_client policy_client;

/* Load and check a policy file. NULL on error, with "FILE: client 'x':
 * member path: why" in err. */
policy *policy_load(const char *path, char *err, size_t errlen);
/* The same from a JSON text (tests). `origin` names it in errors. */
policy *policy_parse(const char *text, size_t len, const char *origin, char *err, size_t errlen);
void policy_free(policy *p);

/* The client's entry, else the "*" entry, else NULL. */
const policy_client *policy_find(const policy *p, const char *name);
const char *policy_client_name(const policy_client *c);

/* May the client call this resource? 0, or 403 with `d` filled. */
unsigned policy_check_resource(const policy_client *c, enum auth_resource res, auth_denial *d);

/*
 * May the client have this signingRequest signed as `ppt` ("shaken" when
 * NULL or "")? Checks ppt, orig (tn or uri), attest, rcd (nam, apn, jcl,
 * icn, URIs in jcd), iss and appid. 0, 403 naming the rule and the value,
 * or 400 when orig cannot be read at all.
 */
unsigned policy_check_signing(const policy_client *c, const json_t *req, const char *ppt,
                              auth_denial *d);

/*
 * The signing identities the client may use (its "signers"), NULL with
 * *n = 0 when it may use all of them: what signing passes to
 * stir_sign_request_among.
 */
const char *const *policy_signers(const policy_client *c, size_t *n);

/*
 * Does every signer name of every client exist in `s` (NULL: signing is
 * not configured)? 0, or -1 with "client 'x': signers[i]: 'name' is not
 * ..." in err. Run at start and on every reload of the policy or of the
 * signing credentials, so a policy never names a signer that is not there.
 */
int policy_check_signer_names(const policy *p, const struct stir_signer *s, char *err,
                              size_t errlen);

/*
 * May one of the client's signers sign this signingRequest as `ppt` (NULL:
 * the request's own) (its TN ranges and TNAuthList cover the orig, or
 * div, TN)? 0 (also when the client
 * has no "signers", or the request cannot be read: signing then answers
 * 400), or 403 naming the rule "signers" with `d` filled.
 */
unsigned policy_check_signer_choice(const policy_client *c, const struct stir_signer *s,
                                    const json_t *req, const char *ppt, auth_denial *d);

/* Take one request from the client's token bucket: 0, or 429 with
 * retry_after set. Thread-safe; a client without `rate` is unlimited. */
unsigned policy_take_rate(const policy_client *c, auth_denial *d);
/* The same at a given monotonic time in seconds (tests). */
unsigned policy_take_rate_at(const policy_client *c, double now, auth_denial *d);
/* Reload (SIGHUP): the clients of `to` named in `from` keep the token
 * counts of their buckets there (a reload never refills a rate). */
void policy_carry_buckets(policy *to, const policy *from);

#endif
