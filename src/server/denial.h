/*
 * Why a request was refused before it reached the signer or verifier:
 * what the authentication gate (auth.c) and the per-client policy
 * (policy.c) hand the HTTP layer, which turns it into the reply
 * (status, WWW-Authenticate, Retry-After, ProblemDetails body).
 */
#ifndef STIRD_DENIAL_H
#define STIRD_DENIAL_H

/* The two protected resources of the Ms API. */
enum auth_resource { AUTH_RES_SIGNING, AUTH_RES_VERIFICATION };

typedef struct auth_denial {
    unsigned status;            /* 400, 401, 403, 429, 500 */
    char title[48];             /* ProblemDetails title: "Unauthorized" */
    char detail[320];           /* ProblemDetails detail: what was wrong, never the token */
    char cause[40];             /* ProblemDetails cause: "INVALID_TOKEN", ... */
    char www_authenticate[480]; /* the whole header value; "" when none */
    unsigned retry_after;       /* seconds (429); 0 when none */
    char rule[32];              /* the policy rule that refused: "orig_tn"; "" */
} auth_denial;

/* Fill `d` (status, title, cause, rule may be NULL) and return status. */
unsigned denial_set(auth_denial *d, unsigned status, const char *title, const char *cause,
                    const char *rule, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Copy at most `max` bytes of untrusted text into out (cap bytes), keeping
 * printable ASCII and replacing anything else, '"' and '\\' with '?', so
 * it can be quoted in a header or a log line. */
void denial_clean(char *out, size_t cap, const char *in, size_t max);

#endif
