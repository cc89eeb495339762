/*
 * The SIP Identity header field value (RFC 8224 4):
 *   signed-identity-digest ;info=<uri> [;alg=token] [;ppt=token] *(;param)
 */
#ifndef STIR_IDENTITY_H
#define STIR_IDENTITY_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STIR_IDENTITY_MAX 12288 /* longest header value accepted */

typedef struct stir_identity {
    char *token; /* signed-identity-digest as received: "h.p.s" or "..s" */
    char *info;  /* URI inside the angle brackets */
    char *alg;   /* NULL when absent (then ES256 applies) */
    char *ppt;   /* unquoted; NULL when absent */
    int compact; /* token is "..s" */
} stir_identity;

/*
 * Parse. Parameter names are case-insensitive and may come in any order;
 * values may be quoted; unknown parameters are tolerated; whitespace
 * around ';' and '=' is allowed (SIP LWS). A repeated info/alg/ppt, a
 * missing info, a token with characters outside base64url and '.', or an
 * over-long value are 438 errors with a precise detail.
 */
int stir_identity_parse(const char *value, size_t len, stir_identity *out, stir_error *err);

void stir_identity_clear(stir_identity *id);

/* Format "<token>;info=<info>;alg=ES256;ppt=<ppt>" (ppt omitted if NULL). */
char *stir_identity_format(const char *token, const char *info, const char *ppt);

#ifdef __cplusplus
}
#endif
#endif
