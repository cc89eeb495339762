/*
 * Identities (RFC 8224 8): TN canonicalization (8.3), URI normalization
 * (8.5) and the decision whether a URI carries a TN (8.1).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stir/tn.h"

#define TN_INPUT_MAX 64

static int is_visual_separator(int c)
{
    return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

int stir_tn_canon(const char *in, char out[STIR_TN_MAX + 1], const char *field, stir_error *err)
{
    size_t n = strlen(in), o = 0;
    if (n > TN_INPUT_MAX)
        return stir_fail(err, STIR_ERR_INPUT, field, "tn is %zu characters long; at most %d", n,
                         TN_INPUT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (isdigit(c) || c == '*' || c == '#') {
            if (o == STIR_TN_MAX)
                return stir_fail(err, STIR_ERR_INPUT, field, "tn has more than %d digits",
                                 STIR_TN_MAX);
            out[o++] = (char)c;
        } else if (c == '+' && i == 0) {
            continue;
        } else if (is_visual_separator(c)) {
            continue;
        } else if (c >= 0x20 && c < 0x7f) {
            return stir_fail(err, STIR_ERR_INPUT, field,
                             "tn \"%s\" contains '%c': only digits, '*', '#', a leading "
                             "'+' and visual separators are allowed",
                             in, c);
        } else {
            return stir_fail(err, STIR_ERR_INPUT, field,
                             "tn contains a non-printable or non-ASCII byte 0x%02x", c);
        }
    }
    if (o == 0)
        return stir_fail(err, STIR_ERR_INPUT, field, "tn \"%s\" has no digits", in);
    out[o] = '\0';
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int is_unreserved(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Lowercase [s, s+n) into out, decoding %XX of unreserved characters
 * (RFC 3986 6.2.2.2); other escapes stay, with uppercase hex. */
static int put_lower_decoded(char *out, size_t *o, size_t cap, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            int v = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            if (is_unreserved(v)) {
                c = v;
                i += 2;
            } else {
                if (*o + 3 >= cap)
                    return -1;
                out[(*o)++] = '%';
                out[(*o)++] = (char)toupper((unsigned char)s[i + 1]);
                out[(*o)++] = (char)toupper((unsigned char)s[i + 2]);
                i += 2;
                continue;
            }
        }
        if (c < 0x21 || c > 0x7e)
            return -1;
        if (*o + 1 >= cap)
            return -1;
        out[(*o)++] = (char)tolower(c);
    }
    return 0;
}

/* Split a sip/sips URI into its pieces. Returns 0, or -1 if it is not one. */
struct sip_parts {
    int sips;
    const char *user;
    size_t user_len; /* without password; may be 0 */
    const char *host;
    size_t host_len; /* without port */
    const char *params;
    size_t params_len; /* after the host, ";..." */
};

static int sip_split(const char *uri, struct sip_parts *p)
{
    memset(p, 0, sizeof *p);
    const char *s;
    if (strncasecmp(uri, "sip:", 4) == 0)
        s = uri + 4;
    else if (strncasecmp(uri, "sips:", 5) == 0) {
        s = uri + 5;
        p->sips = 1;
    } else
        return -1;
    size_t n = strcspn(s, "?"); /* headers are dropped */
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@')
            at = s + i;
    const char *hp = s;
    if (at) {
        size_t ul = (size_t)(at - s);
        size_t colon = strcspn(s, ":");
        p->user = s;
        p->user_len = colon < ul ? colon : ul; /* drop the password */
        hp = at + 1;
    }
    size_t hl = (size_t)(s + n - hp);
    size_t hostport = strcspn(hp, ";?");
    if (hostport > hl)
        hostport = hl;
    p->params = hp + hostport;
    p->params_len = hl - hostport;
    if (hostport && hp[0] == '[') {
        const char *rb = memchr(hp, ']', hostport);
        if (!rb)
            return -1;
        p->host = hp;
        p->host_len = (size_t)(rb - hp) + 1;
    } else {
        size_t c = strcspn(hp, ":;?");
        p->host = hp;
        p->host_len = c < hostport ? c : hostport;
    }
    if (p->host_len == 0)
        return -1;
    return 0;
}

/*
 * A service URN (RFC 5031), the dest of an emergency call (RFC 9027 3:
 * urn:service:sos). It compares case-insensitively, so it is lowercased.
 * Returns 1 if `in` is one (and `out` holds it), 0 if not, -1 if malformed.
 */
static int service_urn(const char *in, char out[STIR_URI_MAX + 1])
{
    static const char prefix[] = "urn:service:";
    size_t n = strlen(in), plen = sizeof prefix - 1;
    if (n < plen || strncasecmp(in, prefix, plen))
        return 0;
    if (n == plen || n > STIR_URI_MAX || in[plen] == '.' || in[n - 1] == '.')
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (i >= plen && !isalnum(c) && c != '-' && !(c == '.' && in[i + 1] != '.'))
            return -1;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return 1;
}

int stir_uri_normalize(const char *in, char out[STIR_URI_MAX + 1], const char *field,
                       stir_error *err)
{
    struct sip_parts p;
    if (strlen(in) > 2 * STIR_URI_MAX)
        return stir_fail(err, STIR_ERR_INPUT, field, "uri longer than %d characters",
                         2 * STIR_URI_MAX);
    int urn = service_urn(in, out);
    if (urn < 0)
        return stir_fail(err, STIR_ERR_INPUT, field,
                         "\"%.80s\" is not a service URN "
                         "urn:service:name[.sub] (RFC 5031)",
                         in);
    if (urn)
        return 0;
    if (sip_split(in, &p) != 0)
        return stir_fail(err, STIR_ERR_INPUT, field,
                         "uri \"%.80s\" is not a sip: or sips: URI with a host", in);
    size_t o = 0;
    const char *scheme = p.sips ? "sips:" : "sip:";
    memcpy(out, scheme, strlen(scheme));
    o = strlen(scheme);
    if (p.user_len) {
        if (put_lower_decoded(out, &o, STIR_URI_MAX + 1, p.user, p.user_len) != 0)
            goto bad;
        if (o + 1 >= STIR_URI_MAX + 1)
            goto bad;
        out[o++] = '@';
    }
    if (put_lower_decoded(out, &o, STIR_URI_MAX + 1, p.host, p.host_len) != 0)
        goto bad;
    out[o] = '\0';
    return 0;
bad:
    return stir_fail(err, STIR_ERR_INPUT, field,
                     "uri \"%.80s\" has invalid characters or is too long", in);
}

/* Is ";user=phone" among the URI parameters? */
static int has_user_phone(const char *params, size_t n)
{
    const char *end = params + n;
    for (const char *s = params; s < end;) {
        if (*s == ';')
            s++;
        size_t len = (size_t)(end - s);
        const char *semi = memchr(s, ';', len);
        size_t plen = semi ? (size_t)(semi - s) : len;
        if (plen == 10 && strncasecmp(s, "user=phone", 10) == 0)
            return 1;
        s += plen;
    }
    return 0;
}

static int tn_from(const char *s, size_t n, stir_ident *out, const char *field, stir_error *err)
{
    char buf[TN_INPUT_MAX + 1];
    if (n > TN_INPUT_MAX)
        return stir_fail(err, STIR_ERR_INPUT, field, "telephone number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    out->is_tn = 1;
    return stir_tn_canon(buf, out->value, field, err);
}

/* RFC 3966 global-number-digits: "+" then digits and visual separators
 * ("-" "." "(" ")"), at least one digit. */
static int is_global_number(const char *s, size_t n)
{
    int digit = 0;
    if (n < 2 || s[0] != '+')
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = 1;
        else if (s[i] != '-' && s[i] != '.' && s[i] != '(' && s[i] != ')')
            return 0;
    }
    return digit;
}

int stir_ident_from_uri(const char *uri, stir_ident *out, const char *field, stir_error *err)
{
    return stir_ident_from_uri_ex(uri, out, 0, field, err);
}

int stir_ident_from_uri_ex(const char *uri, stir_ident *out, int flags, const char *field,
                           stir_error *err)
{
    memset(out, 0, sizeof *out);
    if (strncasecmp(uri, "tel:", 4) == 0) {
        const char *num = uri + 4;
        return tn_from(num, strcspn(num, ";"), out, field, err);
    }
    struct sip_parts p;
    if (strncasecmp(uri, "urn:", 4) == 0) {
        out->is_tn = 0;
        return stir_uri_normalize(uri, out->value, field, err);
    }
    if (sip_split(uri, &p) != 0)
        return stir_fail(err, STIR_ERR_INPUT, field,
                         "\"%.80s\" is not a tel:, sip:, sips: or urn:service: URI", uri);
    /* The telephone-subscriber may carry its own ;params (npdi, rn). */
    size_t n = p.user_len ? strcspn(p.user, ";") : 0;
    if (n > p.user_len)
        n = p.user_len;
    stir_error e2;
    if (n && has_user_phone(p.params, p.params_len) && tn_from(p.user, n, out, field, &e2) == 0)
        return 0;
    /* RFC 8224 8.3: a global number is a TN even without user=phone, which
     * many trunks omit; STIR_IDENT_REQUIRE_USER_PHONE keeps the strict rule.
     * Otherwise (8.1) a user part that is not a valid TN makes it a URI. */
    if (n && !(flags & STIR_IDENT_REQUIRE_USER_PHONE) && is_global_number(p.user, n) &&
        tn_from(p.user, n, out, field, &e2) == 0)
        return 0;
    out->is_tn = 0;
    return stir_uri_normalize(uri, out->value, field, err);
}

int stir_ident_from_json(const json_t *obj, stir_ident *out, const char *field, stir_error *err)
{
    return stir_ident_from_json_ex(obj, out, 0, field, err);
}

int stir_ident_from_json_ex(const json_t *obj, stir_ident *out, int flags, const char *field,
                            stir_error *err)
{
    char f[STIR_FIELD_MAX];
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj))
        return stir_fail(err, STIR_ERR_INPUT, field,
                         "must be an identity object {\"tn\": ...} or {\"uri\": ...}");
    const json_t *tn = json_object_get(obj, "tn"), *uri = json_object_get(obj, "uri");
    if (tn && uri)
        return stir_fail(err, STIR_ERR_INPUT, field, "has both tn and uri; give exactly one");
    if (!tn && !uri)
        return stir_fail(err, STIR_ERR_INPUT, field, "has neither tn nor uri");
    const json_t *v = tn ? tn : uri;
    snprintf(f, sizeof f, "%s.%s", field, tn ? "tn" : "uri");
    if (json_is_array(v)) {
        if (json_array_size(v) != 1)
            return stir_fail(err, STIR_ERR_INPUT, f,
                             "must be a string (an array is accepted only with one element)");
        v = json_array_get(v, 0);
    }
    if (!json_is_string(v))
        return stir_fail(err, STIR_ERR_INPUT, f, "must be a string");
    const char *s = json_string_value(v);
    if (tn) {
        out->is_tn = 1;
        return stir_tn_canon(s, out->value, f, err);
    }
    return stir_ident_from_uri_ex(s, out, flags, f, err);
}

int stir_ident_is_anonymous(const stir_ident *id)
{
    if (id->is_tn)
        return 0;
    const char *v = id->value;
    const char *colon = strchr(v, ':');
    const char *user = colon ? colon + 1 : v;
    const char *at = strchr(user, '@');
    if (at && (size_t)(at - user) == 9 && strncmp(user, "anonymous", 9) == 0)
        return 1;
    const char *host = at ? at + 1 : user;
    return strcmp(host, "anonymous.invalid") == 0;
}
