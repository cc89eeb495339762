/*
 * Rich Call Data claim checks (RFC 9795, RFC 9796): the shape of the rcd,
 * rcdi and crn claims as the type registry and the signing request see
 * them: jCard syntax (RFC 7095), URLs, digest syntax, display text. No
 * fetching and no digest computation here (rcd_digest.c, rcd_verify.c).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "stir/rcd.h"
#include "stir/tn.h"
#include "fetch.h"
#include "internal.h"
#include "rcd_internal.h"

#define NAM_MAX 256
#define CRN_MAX 256
#define RCDI_PTR_MAX 128

/* ---- errors ------------------------------------------------------------------ */

/* stir_fail with the RFC 8224 phrase of 438 when verifying. */
int rcd_fail(stir_error *err, int code, const char *field, const char *fmt, ...)
{
    char buf[STIR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (code == STIR_ERR_INVALID)
        return stir_fail_text(err, code, INVALID_TEXT, field, "%s", buf);
    return stir_fail(err, code, field, "%s", buf);
}

static void field_of(char out[STIR_FIELD_MAX], const char *name, const char *key)
{
    snprintf(out, STIR_FIELD_MAX, "%s.%s", name, key);
}

/* ---- small helpers --------------------------------------------------------------- */

static int has_prefix_ci(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* Content we fetch and hash: http(s) URIs. tel:, sip:, mailto: are
 * identifiers with nothing to download; data: is inline. */
int rcd_is_link_url(const char *s)
{
    return has_prefix_ci(s, "https:") || has_prefix_ci(s, "http:");
}

/* Display text: no C0 controls but HTAB, no DEL (these strings end up in
 * SIP header parameters, where CR/LF would inject headers; HTAB is LWS in
 * an RFC 3261 quoted-string). */
static int has_control(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return 1;
    return 0;
}

/* Serialized size of v (RFC 8225 9 form), or cap + 1 once it exceeds cap:
 * an oversized value is not serialized to the end just to be refused. */
typedef struct sizer {
    size_t n, cap;
} sizer;

static int count_bytes(const char *buf, size_t size, void *data)
{
    (void)buf;
    sizer *s = data;
    s->n += size;
    return s->n > s->cap ? -1 : 0;
}

static size_t json_size_capped(const json_t *v, size_t cap)
{
    sizer s = {0, cap};
    if (json_dump_callback(v, count_bytes, &s, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) !=
        0)
        return cap + 1;
    return s.n;
}

/* ---- syntax checks ---------------------------------------------------------------- */

/* Bounded length, and printable ASCII without spaces (RFC 3986 2). */
static int url_chars(const char *s, char *why, size_t n)
{
    size_t len = strlen(s);
    if (len > STI_URL_MAX) {
        snprintf(why, n, "is %zu bytes long; at most %d", len, STI_URL_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            snprintf(why, n, "has a space, control or non-ASCII byte at offset %zu", i);
            return -1;
        }
    }
    return 0;
}

/* An https: URL as the claim check sees it (the fetch policy decides about
 * ports, hosts and addresses when the content is fetched). */
static int https_url_syntax(const char *s, char *why, size_t n)
{
    if (url_chars(s, why, n))
        return -1;
    if (!has_prefix_ci(s, "https://")) {
        size_t sl = strcspn(s, ":");
        if (s[sl] == ':' && sl > 0 && sl <= 16)
            snprintf(why, n, "must be an https: URL, not %.*s:", (int)sl, s);
        else
            snprintf(why, n, "must be an absolute https: URL");
        return -1;
    }
    if (strchr("/?#", s[8]) || !s[8]) {
        snprintf(why, n, "has no host");
        return -1;
    }
    return 0;
}

/* data:[<mediatype>][;base64],<data> (RFC 2397). */
static int data_url_syntax(const char *s, char *why, size_t n)
{
    if (url_chars(s, why, n))
        return -1;
    const char *comma = strchr(s + 5, ',');
    if (!comma) {
        snprintf(why, n, "is a data: URL without the ',' before its data (RFC 2397)");
        return -1;
    }
    size_t ml = (size_t)(comma - (s + 5));
    if (ml >= 7 && strncasecmp(comma - 7, ";base64", 7) == 0) {
        for (const char *p = comma + 1; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", *p)) {
                snprintf(why, n, "is a ;base64 data: URL with '%c' in its data", *p);
                return -1;
            }
    }
    return 0;
}

/* A jCard value: a scalar, or a structured value (RFC 7095 3.3.1.3: an
 * array of components, each a scalar or an array of scalars). */
static int jcard_value_ok(const json_t *v, int depth)
{
    if (json_is_object(v))
        return 0;
    if (!json_is_array(v))
        return 1;
    if (depth >= 2)
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!jcard_value_ok(json_array_get(v, i), depth + 1))
            return 0;
    return 1;
}

/* ["vcard", [[name, {params}, type, value, ...], ...]] (RFC 7095 3.2). */
int rcd_jcard_syntax(const json_t *j, char *why, size_t n)
{
    if (!json_is_array(j) || json_array_size(j) != 2) {
        snprintf(why, n, "is not a jCard [\"vcard\", [properties]] (RFC 7095 3.2)");
        return -1;
    }
    const json_t *tag = json_array_get(j, 0), *props = json_array_get(j, 1);
    if (!json_is_string(tag) || strcmp(json_string_value(tag), "vcard") != 0) {
        snprintf(why, n, "is not a jCard: element 0 must be \"vcard\" (RFC 7095 3.2)");
        return -1;
    }
    if (!json_is_array(props)) {
        snprintf(why, n,
                 "is not a jCard: element 1 must be the array of properties "
                 "(RFC 7095 3.2)");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(props); i++) {
        const json_t *p = json_array_get(props, i);
        if (!json_is_array(p) || json_array_size(p) < 4) {
            snprintf(why, n,
                     "property %zu is not [name, {parameters}, type, value, ...] "
                     "(RFC 7095 3.3)",
                     i);
            return -1;
        }
        const json_t *name = json_array_get(p, 0);
        if (!json_is_string(name) || !json_string_length(name)) {
            snprintf(why, n, "property %zu has no name string (RFC 7095 3.3)", i);
            return -1;
        }
        const char *nm = json_string_value(name);
        if (!json_is_object(json_array_get(p, 1))) {
            snprintf(why, n,
                     "property %zu (%.32s) parameters must be an object "
                     "(RFC 7095 3.4)",
                     i, nm);
            return -1;
        }
        const json_t *type = json_array_get(p, 2);
        if (!json_is_string(type) || !json_string_length(type)) {
            snprintf(why, n,
                     "property %zu (%.32s) value type must be a string "
                     "(RFC 7095 3.5)",
                     i, nm);
            return -1;
        }
        for (size_t k = 3; k < json_array_size(p); k++)
            if (!jcard_value_ok(json_array_get(p, k), 0)) {
                snprintf(why, n,
                         "property %zu (%.32s) value %zu is an object or nested "
                         "too deeply (RFC 7095 3.3.1.3)",
                         i, nm, k);
                return -1;
            }
    }
    return 0;
}

/* "<alg>-<base64>" with alg sha256/sha384/sha512 and a base64 text of
 * exactly that digest's size; '=' padding optional (RFC examples omit it). */
static int digest_syntax(const char *s, char *why, size_t n)
{
    const char *dash = strchr(s, '-');
    if (!dash || dash == s) {
        snprintf(why, n, "\"%.40s\" is not <alg>-<base64 digest> (RFC 9795 6)", s);
        return -1;
    }
    char alg[16];
    size_t al = (size_t)(dash - s);
    snprintf(alg, sizeof alg, "%.*s", (int)(al < sizeof alg ? al : sizeof alg - 1), s);
    const EVP_MD *md = al < sizeof alg ? sti_digest_md(alg) : NULL;
    if (!md) {
        snprintf(why, n, "unsupported digest algorithm \"%.*s\" (RFC 9795 6: %s, lowercase)",
                 (int)(al > 16 ? 16 : al), s, stir_digest_names());
        return -1;
    }
    size_t want = (size_t)EVP_MD_get_size(md);
    const char *b = dash + 1;
    size_t bl = strlen(b), pad = 0;
    while (pad < 2 && bl > pad && b[bl - 1 - pad] == '=')
        pad++;
    size_t core = bl - pad, want_core = (want * 4 + 2) / 3;
    int ok = core == want_core && (pad == 0 || (core + pad) % 4 == 0);
    for (size_t i = 0; ok && i < core; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", b[i]) ||
            !b[i])
            ok = 0;
    if (!ok) {
        snprintf(why, n, "\"%.100s\" is not the base64 (RFC 4648 4) of a %zu-byte %s digest", b,
                 want, alg);
        return -1;
    }
    return 0;
}

/* Digests equal up to '=' padding. */
int rcd_digest_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '=')
        la--;
    while (lb && b[lb - 1] == '=')
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

/* ---- claim checks ---------------------------------------------------------------- */

int rcd_claim_check(const json_t *rcd, const char *name, int code, size_t jcard_max,
                    stir_error *err)
{
    char f[STIR_FIELD_MAX], why[200];
    if (!json_is_object(rcd))
        return rcd_fail(err, code, name,
                        "%s must be a JSON object with nam and optional apn, icn, jcd or jcl "
                        "(RFC 9795 5.1)",
                        name);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)rcd, key, v) {
        if (strcmp(key, "nam") && strcmp(key, "apn") && strcmp(key, "icn") && strcmp(key, "jcd") &&
            strcmp(key, "jcl")) {
            field_of(f, name, key);
            return rcd_fail(err, code, f,
                            "%s has an unknown key \"%.40s\" (RFC 9795 5.1 defines nam, apn, "
                            "icn, jcd and jcl)",
                            name, key);
        }
    }

    const json_t *nam = json_object_get(rcd, "nam");
    field_of(f, name, "nam");
    if (!nam) {
        if (code == STIR_ERR_INPUT)
            return stir_fail_missing(err, f,
                                     "missing %s: the display name is required, "
                                     "\"\" when there is none (RFC 9795 5.1.1)",
                                     f);
        return rcd_fail(err, code, f,
                        "missing %s: the display name is required, \"\" when "
                        "there is none (RFC 9795 5.1.1)",
                        f);
    }
    if (!json_is_string(nam))
        return rcd_fail(err, code, f, "%s must be a string (RFC 9795 5.1.1)", f);
    if (json_string_length(nam) > NAM_MAX)
        return rcd_fail(err, code, f, "%s is %zu bytes long; at most %d", f,
                        json_string_length(nam), NAM_MAX);
    if (strlen(json_string_value(nam)) != json_string_length(nam) ||
        has_control(json_string_value(nam)))
        return rcd_fail(err, code, f,
                        "%s has a control character: it must be a display "
                        "name (RFC 9795 5.1.1, RFC 3261 25.1)",
                        f);

    const json_t *jcd = json_object_get(rcd, "jcd"), *jcl = json_object_get(rcd, "jcl");
    if (jcd && jcl) {
        field_of(f, name, "jcl");
        return rcd_fail(err, code, f,
                        "%s.jcd and %s.jcl are mutually exclusive (RFC 9795 "
                        "5.1.4, 5.1.5)",
                        name, name);
    }

    const json_t *apn = json_object_get(rcd, "apn");
    if (apn) {
        field_of(f, name, "apn");
        if (!json_is_string(apn))
            return rcd_fail(err, code, f, "%s must be a string (RFC 9795 5.1.2)", f);
        char tn[STIR_TN_MAX + 1];
        stir_error te;
        const char *s = json_string_value(apn);
        if (strlen(s) != json_string_length(apn) || stir_tn_canon(s, tn, f, &te))
            return rcd_fail(err, code, f, "%s is not a telephone number (RFC 9795 5.1.2): %s", f,
                            strlen(s) != json_string_length(apn) ? "NUL byte" : te.detail);
        if (strcmp(tn, s) != 0)
            return rcd_fail(err, code, f,
                            "%s \"%.40s\" is not canonical: digits, '*' and '#' "
                            "only (\"%s\"; RFC 9795 5.1.2, RFC 8224 8.3)",
                            f, s, tn);
    }

    const json_t *icn = json_object_get(rcd, "icn");
    if (icn) {
        field_of(f, name, "icn");
        if (!json_is_string(icn))
            return rcd_fail(err, code, f, "%s must be a URL string (RFC 9795 5.1.3)", f);
        const char *s = json_string_value(icn);
        int bad = has_prefix_ci(s, "data:") ? data_url_syntax(s, why, sizeof why)
                                            : https_url_syntax(s, why, sizeof why);
        if (bad)
            return rcd_fail(err, code, f,
                            "%s %s (RFC 9795 5.1.3: an https: URL, or inline "
                            "data:)",
                            f, why);
    }

    if (jcd) {
        field_of(f, name, "jcd");
        if (rcd_jcard_syntax(jcd, why, sizeof why))
            return rcd_fail(err, code, f, "%s %s", f, why);
        size_t sz = json_size_capped(jcd, jcard_max);
        if (sz > jcard_max)
            return rcd_fail(err, code, f, "%s is more than %zu bytes serialized", f, jcard_max);
    }

    if (jcl) {
        field_of(f, name, "jcl");
        if (!json_is_string(jcl))
            return rcd_fail(err, code, f, "%s must be a URL string (RFC 9795 5.1.5)", f);
        if (https_url_syntax(json_string_value(jcl), why, sizeof why))
            return rcd_fail(err, code, f,
                            "%s %s (RFC 9795 5.1.5: an https: URL; inline jCards "
                            "go in jcd)",
                            f, why);
    }
    return 0;
}

int stir_rcd_check(const json_t *rcd, const char *name, int code, stir_error *err)
{
    return rcd_claim_check(rcd, name ? name : "rcd", code, JCARD_CAP, err);
}

json_t *stir_rcd_build(const json_t *v, const char *name, stir_error *err)
{
    if (!name)
        name = "rcd";
    if (!json_is_object(v)) {
        stir_fail(err, STIR_ERR_INPUT, name,
                  "%s must be a JSON object with nam and optional apn, icn, jcd or jcl "
                  "(RFC 9795 5.1)",
                  name);
        return NULL;
    }
    json_t *c = json_deep_copy(v);
    if (!c) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    json_t *apn = json_object_get(c, "apn");
    if (json_is_string(apn)) {
        char f[STIR_FIELD_MAX], tn[STIR_TN_MAX + 1];
        stir_error te;
        field_of(f, name, "apn");
        if (strlen(json_string_value(apn)) != json_string_length(apn) ||
            stir_tn_canon(json_string_value(apn), tn, f, &te)) {
            stir_fail(err, STIR_ERR_INPUT, f,
                      "%s is not a telephone number (RFC 9795 "
                      "5.1.2): %s",
                      f,
                      strlen(json_string_value(apn)) != json_string_length(apn) ? "NUL byte"
                                                                                : te.detail);
            json_decref(c);
            return NULL;
        }
        if (json_object_set_new(c, "apn", json_string(tn)) != 0) {
            json_decref(c);
            stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
            return NULL;
        }
    }
    if (stir_rcd_check(c, name, STIR_ERR_INPUT, err)) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* An rcdi key: a JSON pointer (RFC 6901) into the rcd claim. */
static int rcdi_pointer_syntax(const char *k, char *why, size_t n)
{
    size_t len = strlen(k);
    if (len == 0 || len > RCDI_PTR_MAX || k[0] != '/') {
        snprintf(why, n, "must be a JSON pointer of 2..%d characters starting with '/'",
                 RCDI_PTR_MAX);
        return -1;
    }
    size_t tl = strcspn(k + 1, "/");
    static const char *const tops[] = {"nam", "apn", "icn", "jcd", "jcl"};
    int top = -1;
    for (int i = 0; i < 5; i++)
        if (tl == 3 && strncmp(k + 1, tops[i], 3) == 0)
            top = i;
    if (top < 0) {
        snprintf(why, n,
                 "does not point into the rcd claim (first token nam, apn, icn, "
                 "jcd or jcl)");
        return -1;
    }
    if (top <= 2 && k[1 + tl]) {
        snprintf(why, n, "points inside %s, which is a string", tops[top]);
        return -1;
    }
    for (const char *p = k; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1') {
            snprintf(why, n, "has '~' not followed by 0 or 1 (RFC 6901 3)");
            return -1;
        }
    return 0;
}

int stir_rcdi_check(const json_t *rcdi, const char *name, int code, stir_error *err)
{
    char why[200];
    if (!name)
        name = "rcdi";
    if (!json_is_object(rcdi))
        return rcd_fail(err, code, name,
                        "%s must be a JSON object of JSON pointers to digests "
                        "(RFC 9795 6)",
                        name);
    size_t n = json_object_size(rcdi);
    if (n == 0)
        return rcd_fail(err, code, name, "%s has no digests (RFC 9795 6)", name);
    if (n > RCDI_MAX_KEYS)
        return rcd_fail(err, code, name, "%s has %zu digests; at most %d", name, n, RCDI_MAX_KEYS);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)rcdi, key, v) {
        if (rcdi_pointer_syntax(key, why, sizeof why))
            return rcd_fail(err, code, name, "%s key \"%.60s\" %s (RFC 9795 6)", name, key, why);
        if (!json_is_string(v))
            return rcd_fail(err, code, name,
                            "%s %.60s must be a string \"<alg>-<base64>\" "
                            "(RFC 9795 6)",
                            name, key);
        if (digest_syntax(json_string_value(v), why, sizeof why))
            return rcd_fail(err, code, name, "%s %.60s: %s", name, key, why);
    }
    return 0;
}

int stir_crn_check(const json_t *crn, const char *name, int code, stir_error *err)
{
    if (!name)
        name = "crn";
    if (!json_is_string(crn))
        return rcd_fail(err, code, name, "%s must be a string (RFC 9795 7)", name);
    size_t len = json_string_length(crn);
    if (len > CRN_MAX)
        return rcd_fail(err, code, name,
                        "%s is %zu bytes long; at most %d (RFC 9796 6 "
                        "recommends at most 64 characters)",
                        name, len, CRN_MAX);
    if (strlen(json_string_value(crn)) != len || has_control(json_string_value(crn)))
        return rcd_fail(err, code, name,
                        "%s has a control character: it is display text "
                        "(RFC 9795 7, RFC 9796 6)",
                        name);
    return 0;
}
