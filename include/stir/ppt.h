/*
 * The PASSporT type registry. A type is data: its name, its claims (JSON
 * type, required or optional, value check, how a signing request's member
 * becomes the claim), and a few rules (which identity its certificate must
 * cover, how its dest is matched, which other checks apply). Signing and
 * verification walk this table; adding a type means adding one entry, in
 * src/lib/ppt.c or in the configuration file (stir_ppt_register). Each
 * library context (stir_ctx) has its own table: the built-in types plus
 * those registered in it.
 */
#ifndef STIR_PPT_H
#define STIR_PPT_H

#include <jansson.h>
#include "error.h"
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct stir_verify_ctx;

enum stir_claim_type {
    STIR_CLAIM_STRING,
    STIR_CLAIM_INTEGER,
    STIR_CLAIM_OBJECT,
    STIR_CLAIM_ARRAY,
    STIR_CLAIM_BOOLEAN,
    STIR_CLAIM_ANY, /* any JSON value */
};

typedef struct stir_claim_spec {
    const char *name;
    enum stir_claim_type type;
    int required;
    /* Value check beyond the JSON type; NULL when none. Returns 0 or an
     * error (400 when signing, 438 when verifying: `code` says which). */
    int (*check)(const json_t *v, const char *name, int code, stir_error *err);
    /* When signing and the request lacks it, make a value; NULL if none. */
    json_t *(*make_default)(void);
    /* When signing: turn the request member (which may have another shape,
     * e.g. rph as a plain array) into the claim value, canonicalized. NULL:
     * the member is type-checked and copied. Returns a new reference, or
     * NULL with a 400 error naming the member. `check` then runs on it. */
    json_t *(*build)(const json_t *v, const char *name, stir_error *err);
} stir_claim_spec;

/* The identity a type's signing certificate must be authoritative for
 * (its TNAuthList must cover it when that identity is a TN). */
enum stir_ppt_scope {
    STIR_SCOPE_ORIG, /* orig: shaken, rph, rcd (RFC 8224 6.2 step 3) */
    STIR_SCOPE_DIV,  /* div: the diverting identity (RFC 8946 3) */
};

/* How a verifier matches the PASSporT's dest to the SIP request. */
enum stir_ppt_dest {
    STIR_DEST_TO,    /* dest holds To (or the Request-URI) */
    STIR_DEST_CHAIN, /* div: matched by the chain check of the request */
};

#define STIR_PPT_MAX_CLAIMS 16

typedef struct stir_ppt_type {
    char name[32];   /* the ppt value; "" for baseline */
    size_t n_claims; /* claims beyond orig, dest, iat */
    stir_claim_spec claims[STIR_PPT_MAX_CLAIMS];
    enum stir_ppt_scope scope;
    enum stir_ppt_dest dest;
    int attests_orig;     /* its result is the caller's verstat */
    int reports_priority; /* its result is the verstatPriority */
    /* never compact (default for any type with claims of its own) */
    int full_form_only;
    /* Checks across claims (e.g. sph needs an esnet r-value); `code` as for
     * stir_claim_spec.check. NULL when none. */
    int (*check_claims)(const json_t *claims, int code, stir_error *err);
    /* Checks of verified claims against the rest of the SIP request (e.g.
     * rph against Resource-Priority); 438 on mismatch. NULL when none. */
    int (*check_request)(const json_t *claims, const struct stir_verify_ctx *ctx, stir_error *err);
} stir_ppt_type;

/* The type named `name` ("" or NULL: baseline RFC 8225) in ctx, or NULL. */
const stir_ppt_type *stir_ppt_find(const stir_ctx *ctx, const char *name);

/* Add a type to ctx (e.g. from configuration), before the signers and
 * verifiers that should know it are created; the claim names are copied.
 * 400 if the name is taken or bad, or a claim is malformed (no name, a
 * baseline claim name, duplicates); at most 32 types per context. */
int stir_ppt_register(stir_ctx *ctx, const stir_ppt_type *t, stir_error *err);

/*
 * Parse a configured type, "NAME CLAIM:TYPE[:required] ...", e.g.
 * "acme tier:string:required note:string score:integer", into `t` with the
 * defaults of a configured type (scope orig, dest matched against To, not
 * the caller's verstat, full form only). `buf` is cut in place and the
 * claim names point into it; stir_ppt_register copies them. Returns 0 or
 * 400 with a detail naming the offending word (field "ppt_type").
 */
int stir_ppt_parse(char *buf, stir_ppt_type *t, stir_error *err);

/* Comma-separated names of ctx's types, for error messages. */
const char *stir_ppt_names(const stir_ctx *ctx);

/* "string", "integer", ... <-> enum stir_claim_type; -1 if unknown. */
int stir_claim_type_parse(const char *s);
const char *stir_claim_type_str(enum stir_claim_type t);

#ifdef __cplusplus
}
#endif
#endif
