/*
 * The Identity header field value (RFC 8224 4):
 *   Identity = signed-identity-digest SEMI ident-info *( SEMI ident-info-params )
 * with SIP's linear whitespace allowed around ';' and '='.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stir/identity.h"

#define BAD(...) stir_fail(err, STIR_ERR_INVALID, NULL, __VA_ARGS__)

static int is_b64url_char(int c)
{
    return isalnum(c) || c == '-' || c == '_';
}

/* RFC 3261 token characters. */
static int is_token_char(int c)
{
    return isalnum(c) || (c && strchr("-.!%*_+`'~", c));
}

static const char *skip_lws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    return s;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Parse one parameter value at *ps: <uri>, "quoted" or token. */
static int parse_value(const char **ps, const char *end, const char *name, char **out, int *angle,
                       stir_error *err)
{
    const char *s = *ps;
    *angle = 0;
    if (s < end && *s == '<') {
        const char *gt = memchr(s, '>', (size_t)(end - s));
        if (!gt)
            return BAD("Identity parameter %s: '<' without closing '>'", name);
        *out = dup_range(s + 1, (size_t)(gt - s - 1));
        *angle = 1;
        *ps = gt + 1;
    } else if (s < end && *s == '"') {
        char *buf = malloc((size_t)(end - s));
        size_t n = 0;
        if (!buf)
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        for (s++; s < end && *s != '"'; s++) {
            if (*s == '\\' && s + 1 < end)
                s++;
            buf[n++] = *s;
        }
        if (s >= end) {
            free(buf);
            return BAD("Identity parameter %s: unterminated quoted string", name);
        }
        buf[n] = '\0';
        *out = buf;
        *ps = s + 1;
    } else {
        const char *v = s;
        while (s < end && is_token_char((unsigned char)*s))
            s++;
        if (s == v)
            return BAD("Identity parameter %s has an empty or invalid value", name);
        *out = dup_range(v, (size_t)(s - v));
        *ps = s;
    }
    if (!*out)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    return 0;
}

static int check_token(const char *t, size_t n, int *compact, stir_error *err)
{
    size_t dots = 0, dot1 = 0, dot2 = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '.') {
            if (dots == 0)
                dot1 = i;
            else
                dot2 = i;
            dots++;
        } else if (!is_b64url_char(c)) {
            if (c == '+' || c == '/' || c == '=')
                return BAD("PASSporT contains '%c' at offset %zu: PASSporTs are "
                           "base64url without padding",
                           c, i);
            return BAD("PASSporT contains an invalid character (0x%02x) at offset %zu", c, i);
        }
    }
    if (dots != 2)
        return BAD("PASSporT has %zu '.'-separated parts; a JWS has 3", dots + 1);
    *compact = dot1 == 0 && dot2 == 1;
    if (!*compact && (dot1 == 0 || dot2 == dot1 + 1))
        return BAD("PASSporT has an empty %s part", dot1 == 0 ? "header" : "payload");
    if (dot2 + 1 == n)
        return BAD("PASSporT has an empty signature part");
    return 0;
}

int stir_identity_parse(const char *value, size_t len, stir_identity *out, stir_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > STIR_IDENTITY_MAX)
        return BAD("Identity header is %zu bytes; at most %d accepted", len, STIR_IDENTITY_MAX);
    if (memchr(value, '\0', len))
        return BAD("Identity header contains a NUL byte");
    const char *s = skip_lws(value, value + len), *end = value + len;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    if (s == end)
        return BAD("Identity header is empty");
    const char *tok = s;
    while (s < end && *s != ';' && *s != ' ' && *s != '\t')
        s++;
    int rc = check_token(tok, (size_t)(s - tok), &out->compact, err);
    if (rc)
        return rc;
    if (!(out->token = dup_range(tok, (size_t)(s - tok))))
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");

    while ((s = skip_lws(s, end)) < end) {
        if (*s != ';') {
            rc = BAD("Identity header: expected ';' at offset %zu, found '%c'", (size_t)(s - value),
                     *s);
            goto fail;
        }
        s = skip_lws(s + 1, end);
        const char *name = s;
        while (s < end && is_token_char((unsigned char)*s))
            s++;
        size_t nlen = (size_t)(s - name);
        if (nlen == 0) {
            rc = BAD("Identity header: empty parameter name at offset %zu", (size_t)(name - value));
            goto fail;
        }
        char pname[32];
        snprintf(pname, sizeof pname, "%.*s", (int)(nlen < 31 ? nlen : 31), name);
        s = skip_lws(s, end);
        char *val = NULL;
        int angle = 0;
        if (s < end && *s == '=') {
            s = skip_lws(s + 1, end);
            if ((rc = parse_value(&s, end, pname, &val, &angle, err)))
                goto fail;
        }
        char **slot = NULL;
        if (strcasecmp(pname, "info") == 0)
            slot = &out->info;
        else if (strcasecmp(pname, "alg") == 0)
            slot = &out->alg;
        else if (strcasecmp(pname, "ppt") == 0)
            slot = &out->ppt;
        if (!slot) { /* ident-info-extension: tolerated, ignored */
            free(val);
            continue;
        }
        if (!val) {
            rc = BAD("Identity parameter %s has no value", pname);
            goto fail;
        }
        if (*slot) {
            free(val);
            rc = BAD("Identity parameter %s appears more than once", pname);
            goto fail;
        }
        if (slot == &out->info && !angle) {
            free(val);
            rc = BAD("Identity parameter info must be a URI in angle brackets <...>");
            goto fail;
        }
        *slot = val;
    }
    if (!out->info) {
        rc = BAD("Identity header has no info parameter");
        goto fail;
    }
    if (!out->info[0]) {
        rc = BAD("Identity parameter info is empty");
        goto fail;
    }
    return 0;
fail:
    stir_identity_clear(out);
    return rc;
}

void stir_identity_clear(stir_identity *id)
{
    free(id->token);
    free(id->info);
    free(id->alg);
    free(id->ppt);
    memset(id, 0, sizeof *id);
}

char *stir_identity_format(const char *token, const char *info, const char *ppt)
{
    size_t cap = strlen(token) + strlen(info) + (ppt ? strlen(ppt) : 0) + 32;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    if (ppt)
        snprintf(out, cap, "%s;info=<%s>;alg=ES256;ppt=%s", token, info, ppt);
    else
        snprintf(out, cap, "%s;info=<%s>;alg=ES256", token, info);
    return out;
}
