/* Error codes, reason phrases and the error recorder. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stir/encoding.h"
#include "stir/error.h"

const char *stir_code_text(int code)
{
    switch (code) {
    case STIR_OK:
        return "OK";
    case STIR_WOULD_BLOCK:
        return "Would Block";
    case STIR_ERR_INPUT:
        return "Bad Request";
    case STIR_ERR_STALE:
        return "Stale Date";
    case STIR_ERR_USE_IDENTITY:
        return "Use Identity Header";
    case STIR_ERR_ANONYMITY:
        return "Anonymity Disallowed";
    case STIR_ERR_BAD_INFO:
        return "Bad Identity Info";
    case STIR_ERR_UNSUPPORTED_CRED:
        return "Unsupported Credential";
    case STIR_ERR_INVALID:
        return "Invalid Identity Header";
    case STIR_ERR_INTERNAL:
        return "Internal Server Error";
    default:
        return "Error";
    }
}

static int vfail(stir_error *err, int code, const char *text, const char *field, const char *fmt,
                 va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    err->text = text ? text : stir_code_text(code);
    err->missing = 0;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    /* Details quote client input with byte limits ("%.32s"), which can cut
     * a UTF-8 character; JSON encoders would then drop the whole string. */
    stir_utf8_repair(err->detail);
    stir_utf8_repair(err->field);
    return code;
}

int stir_fail(stir_error *err, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, NULL, field, fmt, ap);
    va_end(ap);
    return code;
}

int stir_fail_text(stir_error *err, int code, const char *text, const char *field, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, text, field, fmt, ap);
    va_end(ap);
    return code;
}

int stir_fail_missing(stir_error *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, STIR_ERR_INPUT, NULL, field, fmt, ap);
    va_end(ap);
    if (err)
        err->missing = 1;
    return STIR_ERR_INPUT;
}

void stir_error_clear(stir_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->text = stir_code_text(STIR_OK);
}
