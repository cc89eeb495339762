/* auth_denial helpers shared by the authentication gate and the policy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "denial.h"

unsigned denial_set(auth_denial *d, unsigned status, const char *title, const char *cause,
                    const char *rule, const char *fmt, ...)
{
    va_list ap;
    memset(d, 0, sizeof *d);
    d->status = status;
    snprintf(d->title, sizeof d->title, "%s", title ? title : "");
    snprintf(d->cause, sizeof d->cause, "%s", cause ? cause : "");
    snprintf(d->rule, sizeof d->rule, "%s", rule ? rule : "");
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
    return status;
}

void denial_clean(char *out, size_t cap, const char *in, size_t max)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; in && in[i] && i < max && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        out[o++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    out[o] = '\0';
}
