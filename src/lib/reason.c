/* RFC 9410 Reason header values: STIR ;cause=N ;text="..." ;ppi="..." */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stir/reason.h"

/* Append s as an RFC 3261 quoted-string body: escape '"' and '\'. */
static size_t put_quoted(char *o, const char *s)
{
    size_t n = 0;
    o[n++] = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            o[n++] = '\\';
        o[n++] = *s;
    }
    o[n++] = '"';
    return n;
}

char *stir_reason_format(int cause, const char *text, const char *ppi)
{
    if (!text)
        text = "";
    size_t cap = 64 + 2 * strlen(text) + (ppi ? 2 * strlen(ppi) + 16 : 0);
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t n = (size_t)snprintf(out, cap, "STIR ;cause=%d ;text=", cause);
    n += put_quoted(out + n, text);
    if (ppi) {
        memcpy(out + n, " ;ppi=", 6);
        n += 6;
        n += put_quoted(out + n, ppi);
    }
    out[n] = '\0';
    return out;
}
