/*
 * libstir error model.
 *
 * Every failure carries a numeric code and a human reason. For verification
 * the code is the RFC 8224 SIP response code that a verifier would use for
 * that PASSporT (403, 428, 433, 436, 437, 438); for bad caller input it is
 * 400 and `field` names the offending member; 500 is an internal failure.
 * The reason phrase (`text`) is the standard one for the code unless a
 * more specific standard phrase applies ("Use Supported PASSporT Format",
 * "Invalid PASSporT").
 */
#ifndef STIR_ERROR_H
#define STIR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum stir_code {
    STIR_OK = 0,
    STIR_WOULD_BLOCK = 1,            /* not an error: retry where blocking is fine */
    STIR_ERR_INPUT = 400,            /* bad request input; `field` says which */
    STIR_ERR_STALE = 403,            /* Stale Date (RFC 8224 6.2.2) */
    STIR_ERR_USE_IDENTITY = 428,     /* Use Identity Header */
    STIR_ERR_ANONYMITY = 433,        /* Anonymity Disallowed (RFC 5079) */
    STIR_ERR_BAD_INFO = 436,         /* Bad Identity Info: credential not obtainable */
    STIR_ERR_UNSUPPORTED_CRED = 437, /* Unsupported Credential: untrusted/invalid cert */
    STIR_ERR_INVALID = 438,          /* Invalid Identity Header */
    STIR_ERR_INTERNAL = 500,
};

#define STIR_FIELD_MAX 64
#define STIR_DETAIL_MAX 320

typedef struct stir_error {
    int code;                     /* enum stir_code */
    const char *text;             /* standard reason phrase (static) */
    char field[STIR_FIELD_MAX];   /* offending input member, "" if none */
    char detail[STIR_DETAIL_MAX]; /* precise human description */
    int missing;                  /* 400 because `field` is absent */
} stir_error;

/* Standard reason phrase for a code ("Stale Date", "Bad Identity Info"...). */
const char *stir_code_text(int code);

/*
 * Record an error and return its code (so `return stir_fail(...)` works).
 * `field` may be NULL. Safe to call with err == NULL.
 */
int stir_fail(stir_error *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, with a reason phrase other than the default one for the code. */
int stir_fail_text(stir_error *err, int code, const char *text, const char *field, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* A required input member is absent: 400, `missing` set, detail "missing <field>...". */
int stir_fail_missing(stir_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset to STIR_OK. */
void stir_error_clear(stir_error *err);

#ifdef __cplusplus
}
#endif
#endif
