/* libstir internals shared between its files; not part of the API. */
#ifndef STIR_INTERNAL_H
#define STIR_INTERNAL_H

#include <jansson.h>
#include "stir/error.h"
#include "stir/ppt.h"

void stir_encoding_init(void);
int stir_jws_init(void);
void stir_jws_cleanup(void);
void stir_jws_thread_cleanup(void);
int stir_uuid4(char out[37]);

/* The registered types, for start-up work over all of them. */
size_t stir_ppt_count(void);
const stir_ppt_type *stir_ppt_at(size_t i);

/* Does type `t` list a claim named `name` (e.g. "rcd")? */
int stir_ppt_has_claim(const stir_ppt_type *t, const char *name);

/* The claim naming the identity a type's certificate must cover: "orig",
 * or "div" for div (RFC 8946 3). */
const char *stir_ppt_scope_claim(const stir_ppt_type *t);

/* Longest string claim value accepted from a signing request. */
#define STIR_CLAIM_STRING_MAX 256

/*
 * Check a claim value's JSON type and run its value check. `code` is the
 * error code to report (400 for signing requests, 438 for PASSporTs).
 */
int stir_claim_check(const stir_claim_spec *c, const json_t *v, int code, stir_error *err);

#endif
