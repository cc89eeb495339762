/*
 * The PASSporT type registry. A type is data: its name and its claims
 * (JSON type, required or optional, an optional value check, and whether
 * a signing request may supply it). Signing and verification walk this
 * table; adding a type means adding one entry.
 */
#ifndef STIR_PPT_H
#define STIR_PPT_H

#include <jansson.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum stir_claim_type {
    STIR_CLAIM_STRING,
    STIR_CLAIM_INTEGER,
    STIR_CLAIM_OBJECT,
    STIR_CLAIM_ARRAY,
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
} stir_claim_spec;

#define STIR_PPT_MAX_CLAIMS 16

typedef struct stir_ppt_type {
    char name[32];                  /* the ppt value; "" for baseline */
    size_t n_claims;                /* claims beyond orig, dest, iat */
    stir_claim_spec claims[STIR_PPT_MAX_CLAIMS];
} stir_ppt_type;

/* The type named `name` ("" or NULL: baseline RFC 8225), or NULL. */
const stir_ppt_type *stir_ppt_find(const char *name);

/* Add a type (e.g. from configuration). 400 if the name is taken or bad. */
int stir_ppt_register(const stir_ppt_type *t, stir_error *err);

/* Comma-separated names of the registered types, for error messages. */
const char *stir_ppt_names(void);

#ifdef __cplusplus
}
#endif
#endif
