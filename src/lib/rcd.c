/*
 * Rich Call Data (RFC 9795): the rcd, rcdi and crn claims, rcdi digests
 * for signing and their verification, and a small cache of the content an
 * rcd links (icons, jCards, the logos and photos inside jCards).
 *
 * Digest inputs (RFC 9795 6.1): a pointer that designates a JSON value is
 * hashed over its RFC 8225 9 serialization (a string with its quotes); a
 * pointer that designates a link -- an http(s) URI in icn, in jcl, or as a
 * jCard property value -- is hashed over the raw bytes of the HTTP
 * response body. data: URLs are inline content, already covered by the
 * PASSporT signature: they are never fetched and need no digest; a digest
 * given for one anyway is over its JSON string, like any other value.
 *
 * Links go one level deep (RFC 9795 5.1.4, 5.1.5; RFC 9796 10.1): the URIs
 * of an inline jCard, of the jCard fetched from jcl, and icn. Fetched images
 * are bytes and are never parsed; a fetched jCard is parsed only to find its
 * own URIs, whose content is not followed further.
 *
 * Cache: the fetch cache (fetchcache.c) with URL -> body bytes. Expiry
 * min(cache_ttl_s, HTTP freshness: s-maxage / max-age / Expires); no-store
 * and no-cache responses are served to the request that fetched them and
 * not kept; failed fetches are kept neg_ttl_s; oldest entries go first
 * when cache_max_entries or the byte cap is reached; one download per URL
 * at a time (single flight).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "stir/encoding.h"
#include "stir/rcd.h"
#include "stir/tn.h"
#include "fetch.h"
#include "fetchcache.h"
#include "internal.h"

#define JCARD_CAP 16384         /* inline jcd bound of the claim check, which
                                   has no configuration at hand */
#define NAM_MAX 256
#define CRN_MAX 256
#define RCDI_MAX_KEYS 64
#define RCDI_PTR_MAX 128
#define LINKS_MAX 256           /* largest max_links accepted */
#define PTR_BUF 48              /* "/jcl/1/123456/123456/123456" fits */
#define CACHE_MAX_BYTES ((size_t)64 << 20)   /* whatever cache_max_entries says */
#define INVALID_TEXT "Invalid PASSporT"

/* The defaults, a constant: no process-wide state to initialize. */
#define RCD_CONFIG_DEFAULT {                                                    \
    .fetch = {.connect_timeout_ms = 500, .total_timeout_ms = 1000,             \
              .max_bytes = 262144, .max_per_host = 4},                         \
    .digest_alg = "sha256",                                                    \
    .max_jcard_bytes = 16384,                                                  \
    .max_links = 8,                                                            \
    .fetch_budget_ms = 2000,                                                   \
    .cache_ttl_s = 300,                                                        \
    .neg_ttl_s = 30,                                                           \
    .cache_max_entries = 1000,                                                 \
    .verify_fetch = 1,                                                         \
}

/* ---- errors ------------------------------------------------------------------ */

/* stir_fail with the RFC 8224 phrase of 438 when verifying. */
__attribute__((format(printf, 4, 5)))
static int cfail(stir_error *err, int code, const char *field, const char *fmt, ...)
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

/* fetch.c words its reasons for x5u; the rest of the sentence fits us. */
static const char *fetch_reason(const stir_error *e)
{
    const char *d = e->detail;
    return strncmp(d, "x5u ", 4) == 0 ? d + 4 : d;
}

/* ---- small helpers --------------------------------------------------------------- */

static int has_prefix_ci(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* Content we fetch and hash: http(s) URIs. tel:, sip:, mailto: are
 * identifiers with nothing to download; data: is inline. */
static int is_link_url(const char *s)
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

static const EVP_MD *md_of(const char *alg)
{
    if (!alg)
        return NULL;
    if (strcmp(alg, "sha256") == 0)
        return EVP_sha256();
    if (strcmp(alg, "sha384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "sha512") == 0)
        return EVP_sha512();
    return NULL;
}

/* The static spelling of a supported alg (config copies point at it). */
static const char *alg_name(const char *alg)
{
    static const char *const names[] = {"sha256", "sha384", "sha512"};
    for (size_t i = 0; alg && i < 3; i++)
        if (strcmp(alg, names[i]) == 0)
            return names[i];
    return NULL;
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
    if (json_dump_callback(v, count_bytes, &s, JSON_COMPACT | JSON_SORT_KEYS |
                                                   JSON_ENCODE_ANY) != 0)
        return cap + 1;
    return s.n;
}

/* ---- syntax checks ---------------------------------------------------------------- */

/* Bounded length, and printable ASCII without spaces (RFC 3986 2). */
static int url_chars(const char *s, char *why, size_t n)
{
    size_t len = strlen(s);
    if (len > STIR_URL_MAX) {
        snprintf(why, n, "is %zu bytes long; at most %d", len, STIR_URL_MAX);
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
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
                        *p)) {
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
static int jcard_syntax(const json_t *j, char *why, size_t n)
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
        snprintf(why, n, "is not a jCard: element 1 must be the array of properties "
                         "(RFC 7095 3.2)");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(props); i++) {
        const json_t *p = json_array_get(props, i);
        if (!json_is_array(p) || json_array_size(p) < 4) {
            snprintf(why, n, "property %zu is not [name, {parameters}, type, value, ...] "
                             "(RFC 7095 3.3)", i);
            return -1;
        }
        const json_t *name = json_array_get(p, 0);
        if (!json_is_string(name) || !json_string_length(name)) {
            snprintf(why, n, "property %zu has no name string (RFC 7095 3.3)", i);
            return -1;
        }
        const char *nm = json_string_value(name);
        if (!json_is_object(json_array_get(p, 1))) {
            snprintf(why, n, "property %zu (%.32s) parameters must be an object "
                             "(RFC 7095 3.4)", i, nm);
            return -1;
        }
        const json_t *type = json_array_get(p, 2);
        if (!json_is_string(type) || !json_string_length(type)) {
            snprintf(why, n, "property %zu (%.32s) value type must be a string "
                             "(RFC 7095 3.5)", i, nm);
            return -1;
        }
        for (size_t k = 3; k < json_array_size(p); k++)
            if (!jcard_value_ok(json_array_get(p, k), 0)) {
                snprintf(why, n, "property %zu (%.32s) value %zu is an object or nested "
                                 "too deeply (RFC 7095 3.3.1.3)", i, nm, k);
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
    const EVP_MD *md = al < sizeof alg ? md_of(alg) : NULL;
    if (!md) {
        snprintf(why, n, "unsupported digest algorithm \"%.*s\" (RFC 9795 6: sha256, sha384 "
                         "or sha512, lowercase)", (int)(al > 16 ? 16 : al), s);
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
        snprintf(why, n, "\"%.100s\" is not the base64 (RFC 4648 4) of a %zu-byte %s digest",
                 b, want, alg);
        return -1;
    }
    return 0;
}

/* Digests equal up to '=' padding. */
static int digest_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '=')
        la--;
    while (lb && b[lb - 1] == '=')
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

/* ---- claim checks ---------------------------------------------------------------- */

static int rcd_check(const json_t *rcd, const char *name, int code, size_t jcard_max,
                     stir_error *err)
{
    char f[STIR_FIELD_MAX], why[200];
    if (!json_is_object(rcd))
        return cfail(err, code, name,
                     "%s must be a JSON object with nam and optional apn, icn, jcd or jcl "
                     "(RFC 9795 5.1)", name);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rcd, key, v) {
        if (strcmp(key, "nam") && strcmp(key, "apn") && strcmp(key, "icn") &&
            strcmp(key, "jcd") && strcmp(key, "jcl")) {
            field_of(f, name, key);
            return cfail(err, code, f,
                         "%s has an unknown key \"%.40s\" (RFC 9795 5.1 defines nam, apn, "
                         "icn, jcd and jcl)", name, key);
        }
    }

    const json_t *nam = json_object_get(rcd, "nam");
    field_of(f, name, "nam");
    if (!nam) {
        if (code == STIR_ERR_INPUT)
            return stir_fail_missing(err, f, "missing %s: the display name is required, "
                                             "\"\" when there is none (RFC 9795 5.1.1)", f);
        return cfail(err, code, f, "missing %s: the display name is required, \"\" when "
                                   "there is none (RFC 9795 5.1.1)", f);
    }
    if (!json_is_string(nam))
        return cfail(err, code, f, "%s must be a string (RFC 9795 5.1.1)", f);
    if (json_string_length(nam) > NAM_MAX)
        return cfail(err, code, f, "%s is %zu bytes long; at most %d", f,
                     json_string_length(nam), NAM_MAX);
    if (strlen(json_string_value(nam)) != json_string_length(nam) ||
        has_control(json_string_value(nam)))
        return cfail(err, code, f, "%s has a control character: it must be a display "
                                   "name (RFC 9795 5.1.1, RFC 3261 25.1)", f);

    const json_t *jcd = json_object_get(rcd, "jcd"), *jcl = json_object_get(rcd, "jcl");
    if (jcd && jcl) {
        field_of(f, name, "jcl");
        return cfail(err, code, f, "%s.jcd and %s.jcl are mutually exclusive (RFC 9795 "
                                   "5.1.4, 5.1.5)", name, name);
    }

    const json_t *apn = json_object_get(rcd, "apn");
    if (apn) {
        field_of(f, name, "apn");
        if (!json_is_string(apn))
            return cfail(err, code, f, "%s must be a string (RFC 9795 5.1.2)", f);
        char tn[STIR_TN_MAX + 1];
        stir_error te;
        const char *s = json_string_value(apn);
        if (strlen(s) != json_string_length(apn) || stir_tn_canon(s, tn, f, &te))
            return cfail(err, code, f, "%s is not a telephone number (RFC 9795 5.1.2): %s", f,
                         strlen(s) != json_string_length(apn) ? "NUL byte" : te.detail);
        if (strcmp(tn, s) != 0)
            return cfail(err, code, f, "%s \"%.40s\" is not canonical: digits, '*' and '#' "
                                       "only (\"%s\"; RFC 9795 5.1.2, RFC 8224 8.3)", f, s, tn);
    }

    const json_t *icn = json_object_get(rcd, "icn");
    if (icn) {
        field_of(f, name, "icn");
        if (!json_is_string(icn))
            return cfail(err, code, f, "%s must be a URL string (RFC 9795 5.1.3)", f);
        const char *s = json_string_value(icn);
        int bad = has_prefix_ci(s, "data:") ? data_url_syntax(s, why, sizeof why)
                                            : https_url_syntax(s, why, sizeof why);
        if (bad)
            return cfail(err, code, f, "%s %s (RFC 9795 5.1.3: an https: URL, or inline "
                                       "data:)", f, why);
    }

    if (jcd) {
        field_of(f, name, "jcd");
        if (jcard_syntax(jcd, why, sizeof why))
            return cfail(err, code, f, "%s %s", f, why);
        size_t sz = json_size_capped(jcd, jcard_max);
        if (sz > jcard_max)
            return cfail(err, code, f, "%s is more than %zu bytes serialized", f, jcard_max);
    }

    if (jcl) {
        field_of(f, name, "jcl");
        if (!json_is_string(jcl))
            return cfail(err, code, f, "%s must be a URL string (RFC 9795 5.1.5)", f);
        if (https_url_syntax(json_string_value(jcl), why, sizeof why))
            return cfail(err, code, f, "%s %s (RFC 9795 5.1.5: an https: URL; inline jCards "
                                       "go in jcd)", f, why);
    }
    return 0;
}

int stir_rcd_check(const json_t *rcd, const char *name, int code, stir_error *err)
{
    return rcd_check(rcd, name ? name : "rcd", code, JCARD_CAP, err);
}

json_t *stir_rcd_build(const json_t *v, const char *name, stir_error *err)
{
    if (!name)
        name = "rcd";
    if (!json_is_object(v)) {
        stir_fail(err, STIR_ERR_INPUT, name,
                  "%s must be a JSON object with nam and optional apn, icn, jcd or jcl "
                  "(RFC 9795 5.1)", name);
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
            stir_fail(err, STIR_ERR_INPUT, f, "%s is not a telephone number (RFC 9795 "
                                              "5.1.2): %s", f,
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
        snprintf(why, n, "does not point into the rcd claim (first token nam, apn, icn, "
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
        return cfail(err, code, name, "%s must be a JSON object of JSON pointers to digests "
                                      "(RFC 9795 6)", name);
    size_t n = json_object_size(rcdi);
    if (n == 0)
        return cfail(err, code, name, "%s has no digests (RFC 9795 6)", name);
    if (n > RCDI_MAX_KEYS)
        return cfail(err, code, name, "%s has %zu digests; at most %d", name, n,
                     RCDI_MAX_KEYS);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rcdi, key, v) {
        if (rcdi_pointer_syntax(key, why, sizeof why))
            return cfail(err, code, name, "%s key \"%.60s\" %s (RFC 9795 6)", name, key, why);
        if (!json_is_string(v))
            return cfail(err, code, name, "%s %.60s must be a string \"<alg>-<base64>\" "
                                          "(RFC 9795 6)", name, key);
        if (digest_syntax(json_string_value(v), why, sizeof why))
            return cfail(err, code, name, "%s %.60s: %s", name, key, why);
    }
    return 0;
}

int stir_crn_check(const json_t *crn, const char *name, int code, stir_error *err)
{
    if (!name)
        name = "crn";
    if (!json_is_string(crn))
        return cfail(err, code, name, "%s must be a string (RFC 9795 7)", name);
    size_t len = json_string_length(crn);
    if (len > CRN_MAX)
        return cfail(err, code, name, "%s is %zu bytes long; at most %d (RFC 9796 6 "
                                      "recommends at most 64 characters)", name, len, CRN_MAX);
    if (strlen(json_string_value(crn)) != len || has_control(json_string_value(crn)))
        return cfail(err, code, name, "%s has a control character: it is display text "
                                      "(RFC 9795 7, RFC 9796 6)", name);
    return 0;
}

/* ---- JSON pointer and digest ---------------------------------------------------- */

const json_t *stir_json_pointer(const json_t *root, const char *ptr)
{
    if (!root || !ptr)
        return NULL;
    if (!*ptr)
        return root;
    if (*ptr != '/')
        return NULL;
    char *tok = malloc(strlen(ptr) + 1);
    if (!tok)
        return NULL;
    const json_t *cur = root;
    const char *p = ptr;
    while (cur && *p == '/') {
        p++;
        size_t tl = strcspn(p, "/"), m = 0;
        for (size_t i = 0; i < tl; i++) {
            if (p[i] != '~') {
                tok[m++] = p[i];
            } else if (i + 1 < tl && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[m++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                cur = NULL;     /* RFC 6901 3: "~" only as ~0 or ~1 */
                break;
            }
        }
        p += tl;
        if (!cur)
            break;
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, tok, m);
        } else if (json_is_array(cur)) {
            /* RFC 6901 4: decimal, no leading zeros; "-" is past the end */
            size_t idx = 0;
            int ok = m > 0 && !(m > 1 && tok[0] == '0');
            for (size_t i = 0; ok && i < m; i++) {
                if (tok[i] < '0' || tok[i] > '9' || idx > (SIZE_MAX - 9) / 10)
                    ok = 0;
                else
                    idx = idx * 10 + (size_t)(tok[i] - '0');
            }
            cur = ok && idx < json_array_size(cur) ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    free(tok);
    return cur;
}

int stir_rcd_digest(const char *alg, const void *data, size_t len, char out[100])
{
    const EVP_MD *md = md_of(alg);
    if (!md || !out) {
        if (out)
            out[0] = '\0';
        return -1;
    }
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    if (EVP_Digest(data ? data : "", len, h, &hl, md, NULL) != 1) {
        out[0] = '\0';
        return -1;
    }
    int n = snprintf(out, 100, "%s-", alg);
    EVP_EncodeBlock((unsigned char *)out + n, h, (int)hl);   /* padded, NUL-terminated */
    return 0;
}

/* ---- content cache ----------------------------------------------------------------- */

typedef struct blob {
    atomic_long refs;
    size_t len;
    char data[];                    /* len bytes, then a NUL */
} blob;

static blob *blob_new(const char *d, size_t n)
{
    blob *b = malloc(sizeof *b + n + 1);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = n;
    if (n)
        memcpy(b->data, d, n);
    b->data[n] = '\0';
    return b;
}

static blob *blob_ref(blob *b)
{
    if (b)
        atomic_fetch_add(&b->refs, 1);
    return b;
}

static void blob_unref(blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

/* fcache parse callback: the content is the bytes themselves. */
static void *body_parse(void *user, const char *url, const char *body, size_t len,
                        long *ttl_s, size_t *cost, stir_error *err)
{
    (void)user;
    (void)url;
    (void)ttl_s;
    (void)cost;
    blob *b = blob_new(body, len);
    if (!b)
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    return b;
}

static void body_free(void *user, void *value)
{
    (void)user;
    blob_unref(value);
}

struct stir_rcd {
    stir_rcd_config cfg;            /* fetch strings are the cache's (unset here) */
    fcache *fc;                     /* URL -> blob */
};

void stir_rcd_config_default(stir_rcd_config *cfg)
{
    if (!cfg)
        return;
    *cfg = (stir_rcd_config)RCD_CONFIG_DEFAULT;
}

static int check_config(const stir_rcd_config *c, stir_error *err)
{
#define BADCFG(field, ...) stir_fail(err, STIR_ERR_INPUT, field, __VA_ARGS__)
    if (c->digest_alg && !alg_name(c->digest_alg))
        return BADCFG("digest_alg", "digest_alg must be sha256, sha384 or sha512 (RFC 9795 6)");
    if (c->max_jcard_bytes == 0 || c->max_jcard_bytes > (1u << 20))
        return BADCFG("max_jcard_bytes", "max_jcard_bytes must be 1..1 MiB");
    if (c->fetch_budget_ms <= 0 || c->fetch_budget_ms > 60000)
        return BADCFG("fetch_budget_ms", "fetch_budget_ms must be 1..60000");
    if (c->max_links > LINKS_MAX)
        return BADCFG("max_links", "max_links must be 0..%d", LINKS_MAX);
    if (c->cache_ttl_s < 0)
        return BADCFG("cache_ttl_s", "cache_ttl_s must not be negative");
    if (c->neg_ttl_s < 0)
        return BADCFG("neg_ttl_s", "neg_ttl_s must not be negative");
    if (c->cache_max_entries == 0 || c->cache_max_entries > (1u << 24))
        return BADCFG("cache_max_entries", "cache_max_entries must be 1..16777216");
    return 0;
#undef BADCFG
}

stir_rcd *stir_rcd_new(stir_ctx *ctx, const stir_rcd_config *cfg, stir_error *err)
{
    stir_rcd_config def;
    if (!cfg) {
        stir_rcd_config_default(&def);
        cfg = &def;
    }
    if (!ctx) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "RCD fetcher needs a context");
        return NULL;
    }
    if (check_config(cfg, err))
        return NULL;
    stir_rcd *r = calloc(1, sizeof *r);
    if (!r) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->cfg.digest_alg = cfg->digest_alg ? alg_name(cfg->digest_alg) : "sha256";
    /* Content: kept min(cache_ttl_s, HTTP freshness); no-store and
     * no-cache (lifetime 0) not kept; failures kept neg_ttl_s, no backoff. */
    fcache_config fcfg;
    fcache_config_default(&fcfg);
    fcfg.fetch = cfg->fetch;
    fcfg.default_ttl_s = cfg->cache_ttl_s;
    fcfg.min_ttl_s = 0;
    fcfg.max_ttl_s = cfg->cache_ttl_s;
    fcfg.neg_ttl_initial_s = cfg->neg_ttl_s;
    fcfg.neg_ttl_max_s = cfg->neg_ttl_s;
    fcfg.max_entries = cfg->cache_max_entries;
    fcfg.max_neg_entries = cfg->cache_max_entries;
    fcfg.max_cost = CACHE_MAX_BYTES;
    fcfg.what = "rcd content";
    fcfg.hosts = ctx->hosts;
    fcfg.parse = body_parse;
    fcfg.free_value = body_free;
    r->fc = fcache_new(&fcfg, err);
    if (!r->fc) {
        free(r);
        return NULL;
    }
    memset(&r->cfg.fetch, 0, sizeof r->cfg.fetch);
    return r;
}

void stir_rcd_free(stir_rcd *r)
{
    if (!r)
        return;
    fcache_free(r->fc);
    free(r);
}

/* The body of url: cached, or fetched now (one download per URL at a time).
 * 0 with *out (a reference), STIR_WOULD_BLOCK with NOWAIT when it would
 * have to be fetched, else the fetch error (436, 500) in *ferr. */
static int content_get(stir_rcd *r, const char *url, int flags, double deadline, blob **out,
                     stir_error *ferr)
{
    *out = NULL;
    /* A request with many links must not hold a fetch thread for the sum
     * of their timeouts: past its budget it fetches nothing more (what is
     * cached still serves). */
    int past = fcache_now() > deadline;
    fcache_item *it;
    int rc = fcache_get(r->fc, url, flags | (past ? FCACHE_NOWAIT : 0), &it, ferr);
    if (rc == STIR_WOULD_BLOCK && past && !(flags & STIR_CACHE_NOWAIT))
        return stir_fail(ferr, STIR_ERR_BAD_INFO, NULL, "%.200s was not fetched: the RCD fetches "
                         "of this request used up their budget of %ld ms (rcd fetch_budget_ms)",
                         url, r->cfg.fetch_budget_ms);
    if (rc)
        return rc;
    *out = blob_ref(fcache_item_value(it));
    fcache_item_unref(it);
    return 0;
}

/* ---- links and digests ------------------------------------------------------------- */

typedef struct rlink {
    char ptr[PTR_BUF];
    const char *url;                /* borrowed from the rcd or the fetched jCard */
} rlink;

/* One compute or verify call. */
typedef struct rctx {
    stir_rcd *r;
    const stir_rcd_config *cfg;
    int flags;
    const char *nofetch;            /* why content is not fetched, NULL if it is */
    const json_t *rcd;
    json_t *card;                   /* the jCard fetched from jcl (owned) */
    blob *jcl_body;                 /* its bytes (a reference) */
    rlink *links;
    size_t nlinks, total, cap;
    double deadline;                /* fcache_now() after which nothing is fetched */
} rctx;

enum { D_OK = 0, D_UNRESOLVED = -1, D_FETCH = -2, D_NOFETCH = -3, D_NOMEM = -4 };

/* Calls without a stir_rcd (no fetcher) still get the default limits. */
static const stir_rcd_config *default_cfg(void)
{
    static const stir_rcd_config def = RCD_CONFIG_DEFAULT;
    return &def;
}

static int ctx_init(rctx *c, stir_rcd *r, const json_t *rcd, int flags, int verifying,
                    stir_error *err)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->cfg = r ? &r->cfg : default_cfg();
    c->flags = flags;
    c->rcd = rcd;
    if (!r)
        c->nofetch = "no rcd fetcher configured";
    else if (verifying && !r->cfg.verify_fetch)
        c->nofetch = "fetching disabled";
    c->deadline = fcache_now() + c->cfg->fetch_budget_ms / 1000.0;
    c->cap = c->cfg->max_links;
    c->links = calloc(c->cap + 1, sizeof *c->links);
    if (!c->links)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    return 0;
}

static void ctx_free(rctx *c)
{
    json_decref(c->card);
    blob_unref(c->jcl_body);
    free(c->links);
}

static void add_link(rctx *c, const char *ptr, const char *url)
{
    c->total++;
    if (c->nlinks < c->cap) {
        snprintf(c->links[c->nlinks].ptr, PTR_BUF, "%s", ptr);
        c->links[c->nlinks++].url = url;
    }
}

static void value_links(rctx *c, const json_t *v, const char *ptr, int depth)
{
    if (json_is_string(v)) {
        if (is_link_url(json_string_value(v)))
            add_link(c, ptr, json_string_value(v));
    } else if (json_is_array(v) && depth < 2) {
        for (size_t k = 0; k < json_array_size(v); k++) {
            char sub[PTR_BUF];
            if (snprintf(sub, sizeof sub, "%s/%zu", ptr, k) < (int)sizeof sub)
                value_links(c, json_array_get(v, k), sub, depth + 1);
        }
    }
}

/* The URIs among a jCard's property values, as "<base>/1/N/M" pointers. */
static void card_links(rctx *c, const json_t *card, const char *base)
{
    const json_t *props = json_array_get(card, 1);
    for (size_t i = 0; i < json_array_size(props); i++) {
        const json_t *p = json_array_get(props, i);
        for (size_t k = 3; k < json_array_size(p); k++) {
            char ptr[PTR_BUF];
            if (snprintf(ptr, sizeof ptr, "%s/1/%zu/%zu", base, i, k) < (int)sizeof ptr)
                value_links(c, json_array_get(p, k), ptr, 0);
        }
    }
}

/* The links of the rcd claim itself: icn, the inline jCard's URIs, jcl. */
static void rcd_links(rctx *c)
{
    const json_t *icn = json_object_get(c->rcd, "icn"), *jcd = json_object_get(c->rcd, "jcd"),
                 *jcl = json_object_get(c->rcd, "jcl");
    if (json_is_string(icn) && is_link_url(json_string_value(icn)))
        add_link(c, "/icn", json_string_value(icn));
    if (jcd)
        card_links(c, jcd, "/jcd");
    if (json_is_string(jcl))
        add_link(c, "/jcl", json_string_value(jcl));
}

static const rlink *link_find(const rctx *c, const char *ptr)
{
    for (size_t i = 0; i < c->nlinks; i++)
        if (strcmp(c->links[i].ptr, ptr) == 0)
            return &c->links[i];
    return NULL;
}

/* RFC 9795 section that requires a digest for a link pointer. */
static const char *link_section(const char *ptr)
{
    if (strcmp(ptr, "/icn") == 0)
        return "6.1.2";
    if (strncmp(ptr, "/jcd", 4) == 0)
        return "6.1.3";
    return "6.1.4";
}

/* The request member a pointer belongs to, for signing errors. */
static const char *member_of(const char *ptr)
{
    if (strncmp(ptr, "/icn", 4) == 0)
        return "rcd.icn";
    if (strncmp(ptr, "/jcd", 4) == 0)
        return "rcd.jcd";
    if (strncmp(ptr, "/jcl", 4) == 0)
        return "rcd.jcl";
    return "rcd";
}

static int content_digest(rctx *c, const char *url, const char *alg, char out[100],
                          stir_error *ferr)
{
    if (c->nofetch)
        return D_NOFETCH;
    blob *b;
    int rc = content_get(c->r, url, c->flags, c->deadline, &b, ferr);
    if (rc == STIR_WOULD_BLOCK)
        return STIR_WOULD_BLOCK;
    if (rc)
        return D_FETCH;
    rc = stir_rcd_digest(alg, b->data, b->len, out);
    blob_unref(b);
    return rc ? D_NOMEM : D_OK;
}

/*
 * The digest with `alg` of what `ptr` designates: the content of a link
 * (the fetched bytes), else the JSON value's RFC 8225 9 serialization.
 * "/jcl/..." resolves into the fetched jCard, which must be loaded.
 */
static int digest_at(rctx *c, const char *ptr, const char *alg, char out[100],
                     stir_error *ferr)
{
    const rlink *l = link_find(c, ptr);
    if (l) {
        if (strcmp(ptr, "/jcl") == 0 && c->jcl_body)
            return stir_rcd_digest(alg, c->jcl_body->data, c->jcl_body->len, out) ? D_NOMEM
                                                                                  : D_OK;
        return content_digest(c, l->url, alg, out, ferr);
    }
    const json_t *v;
    if (strncmp(ptr, "/jcl/", 5) == 0)
        v = c->card ? stir_json_pointer(c->card, ptr + 4) : NULL;
    else if (strcmp(ptr, "/jcl") == 0)
        v = NULL;   /* always a link when the rcd has a jcl */
    else
        v = stir_json_pointer(c->rcd, ptr);
    if (!v)
        return D_UNRESOLVED;
    size_t n = 0;
    char *s = stir_json_canonical(v, &n);
    if (!s)
        return D_NOMEM;
    int rc = stir_rcd_digest(alg, s, n, out);
    free(s);
    return rc ? D_NOMEM : D_OK;
}

/* Fetch the jcl body into c->jcl_body. D_OK, STIR_WOULD_BLOCK, D_NOFETCH or
 * D_FETCH (ferr says why). */
static int load_jcl(rctx *c, const char *url, stir_error *ferr)
{
    if (c->nofetch)
        return D_NOFETCH;
    int rc = content_get(c->r, url, c->flags, c->deadline, &c->jcl_body, ferr);
    if (rc == STIR_WOULD_BLOCK)
        return rc;
    return rc ? D_FETCH : D_OK;
}

/* Parse c->jcl_body as the jCard (size, JSON, RFC 7095 shape) into c->card. */
static int parse_card(rctx *c, char *why, size_t n)
{
    if (c->jcl_body->len > c->cfg->max_jcard_bytes) {
        snprintf(why, n, "the jCard is %zu bytes; at most %zu (max_jcard_bytes)",
                 c->jcl_body->len, c->cfg->max_jcard_bytes);
        return -1;
    }
    json_error_t je;
    c->card = json_loadb(c->jcl_body->data, c->jcl_body->len, JSON_REJECT_DUPLICATES, &je);
    if (!c->card) {
        snprintf(why, n, "the body is not JSON (RFC 9795 5.1.5): %.100s at line %d", je.text,
                 je.line);
        return -1;
    }
    char w[200];
    if (jcard_syntax(c->card, w, sizeof w)) {
        snprintf(why, n, "the body %s", w);
        return -1;
    }
    return 0;
}

/* The alg of an rcdi value ("sha384-..." -> "sha384"); checked before. */
static const char *alg_of(const char *v, char buf[16])
{
    size_t n = strcspn(v, "-");
    snprintf(buf, 16, "%.*s", (int)(n < 15 ? n : 15), v);
    return buf;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* rcdi keys in code-point order (results and errors do not depend on the
 * order of the received object). */
static size_t sorted_keys(const json_t *obj, const char **keys, size_t cap)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        (void)v;
        if (n < cap)
            keys[n++] = k;
    }
    qsort(keys, n, sizeof *keys, str_cmp);
    return n;
}

/* ---- signing -------------------------------------------------------------------------- */

/* A signing-side digest failure as the 400 (or would-block) to return. */
static int compute_fail(const rctx *c, int d, const char *ptr, const stir_error *ferr,
                        stir_error *err)
{
    const rlink *l = link_find(c, ptr);
    const char *url = l ? l->url : "";
    switch (d) {
    case STIR_WOULD_BLOCK:
        return stir_fail(err, STIR_WOULD_BLOCK, member_of(ptr), "%s: %s", ptr, ferr->detail);
    case D_UNRESOLVED:
        return stir_fail(err, STIR_ERR_INPUT, "rcdi", "rcdi %.60s does not resolve in the rcd "
                                                      "claim (RFC 9795 6, RFC 6901)", ptr);
    case D_NOFETCH:
        return stir_fail(err, STIR_ERR_INPUT, member_of(ptr),
                         "%s %.120s: linked content cannot be hashed: %s", ptr, url,
                         c->nofetch);
    case D_FETCH:
        return stir_fail(err, STIR_ERR_INPUT, member_of(ptr),
                         "%s %.120s: fetching it to compute its rcdi digest failed: %s", ptr,
                         url, fetch_reason(ferr));
    default:
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    }
}

int stir_rcdi_compute(stir_rcd *r, const json_t *rcd, const json_t *given, int flags,
                      json_t **out, stir_error *err)
{
    if (!out)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_rcdi_compute: NULL out");
    *out = NULL;
    rctx c;
    int rc = ctx_init(&c, r, rcd, flags, 0, err);
    if (rc)
        return rc;
    json_t *res = NULL;
    stir_error ferr;
    memset(&ferr, 0, sizeof ferr);
    char dig[100], why[240];
    size_t jmax = c.cfg->max_jcard_bytes < JCARD_CAP ? c.cfg->max_jcard_bytes : JCARD_CAP;
    if ((rc = rcd_check(rcd, "rcd", STIR_ERR_INPUT, jmax, err)))
        goto done;
    if (given && (rc = stir_rcdi_check(given, "rcdi", STIR_ERR_INPUT, err)))
        goto done;

    rcd_links(&c);
    if (c.total > c.cap) {
        rc = stir_fail(err, STIR_ERR_INPUT, "rcd", "rcd links %zu URIs (icn, jcl and jCard "
                                                   "URIs); at most %zu (max_links)",
                       c.total, c.cap);
        goto done;
    }
    const json_t *jcl = json_object_get(rcd, "jcl");
    if (jcl) {
        const char *url = json_string_value(jcl);
        int d = load_jcl(&c, url, &ferr);
        if (d) {
            rc = compute_fail(&c, d, "/jcl", &ferr, err);
            goto done;
        }
        if (parse_card(&c, why, sizeof why)) {
            rc = stir_fail(err, STIR_ERR_INPUT, "rcd.jcl", "/jcl %.100s: %s", url, why);
            goto done;
        }
        card_links(&c, c.card, "/jcl");
        if (c.total > c.cap) {
            rc = stir_fail(err, STIR_ERR_INPUT, "rcd.jcl",
                           "rcd links %zu URIs with those of the jCard at %.100s; at most "
                           "%zu (max_links)", c.total, url, c.cap);
            goto done;
        }
    }
    const json_t *jcd = json_object_get(rcd, "jcd");
    if (!jcd && c.nlinks == 0 && !given)
        goto done;      /* mode 1 (RFC 9795 4): nothing for rcdi to protect */

    if (!(res = json_object())) {
        rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        goto done;
    }
    /* A given rcdi is checked, not trusted; its entries (and algorithms)
     * are kept, and what it lacks is added. */
    if (given) {
        const char *keys[RCDI_MAX_KEYS];
        size_t nk = sorted_keys(given, keys, RCDI_MAX_KEYS);
        for (size_t i = 0; i < nk; i++) {
            const char *gv = json_string_value(json_object_get(given, keys[i]));
            char ab[16];
            int d = digest_at(&c, keys[i], alg_of(gv, ab), dig, &ferr);
            if (d) {
                rc = compute_fail(&c, d, keys[i], &ferr, err);
                goto done;
            }
            if (!digest_equal(dig, gv)) {
                const rlink *l = link_find(&c, keys[i]);
                rc = stir_fail(err, STIR_ERR_INPUT, "rcdi",
                               "rcdi %.60s: the given digest %.100s does not match %s%.100s "
                               "(%s)", keys[i], gv, l ? "the content of " : "the rcd value",
                               l ? l->url : "", dig);
                goto done;
            }
            if (json_object_set_new(res, keys[i], json_string(gv)) != 0) {
                rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
                goto done;
            }
        }
    }
    /* The whole inline jCard: optional in RFC 9795 6.1.3, made anyway since
     * it also protects against properties being substituted or inserted. */
    if (jcd && !json_object_get(res, "/jcd")) {
        int d = digest_at(&c, "/jcd", c.cfg->digest_alg, dig, &ferr);
        if (d) {
            rc = compute_fail(&c, d, "/jcd", &ferr, err);
            goto done;
        }
        if (json_object_set_new(res, "/jcd", json_string(dig)) != 0) {
            rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < c.nlinks; i++) {
        if (json_object_get(res, c.links[i].ptr))
            continue;
        int d = digest_at(&c, c.links[i].ptr, c.cfg->digest_alg, dig, &ferr);
        if (d) {
            rc = compute_fail(&c, d, c.links[i].ptr, &ferr, err);
            goto done;
        }
        if (json_object_set_new(res, c.links[i].ptr, json_string(dig)) != 0) {
            rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
            goto done;
        }
    }
    *out = res;
    res = NULL;
    rc = 0;
done:
    json_decref(res);
    ctx_free(&c);
    return rc;
}

/* ---- verification --------------------------------------------------------------------- */

typedef struct vstate {
    json_t *failed;                 /* pointers, each once */
    size_t nfail;
    char first[STIR_DETAIL_MAX];
} vstate;

__attribute__((format(printf, 3, 4)))
static void vfail(vstate *vs, const char *ptr, const char *fmt, ...)
{
    if (vs->nfail++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vs->first, sizeof vs->first, fmt, ap);
        va_end(ap);
        stir_utf8_repair(vs->first);
    }
    if (!ptr || !*ptr)
        return;
    for (size_t i = 0; i < json_array_size(vs->failed); i++)
        if (strcmp(json_string_value(json_array_get(vs->failed, i)), ptr) == 0)
            return;
    json_array_append_new(vs->failed, json_string(ptr));
}

/* "rcd.jcl" -> "/jcl": the pointer of a claim-check failure. */
static void vfail_check(vstate *vs, const stir_error *e)
{
    char ptr[STIR_FIELD_MAX + 1] = "";
    if (strncmp(e->field, "rcd.", 4) == 0)
        snprintf(ptr, sizeof ptr, "/%s", e->field + 4);
    vfail(vs, ptr, "%s", e->detail);
}

static void set_str(json_t *o, const char *k, const json_t *v)
{
    if (json_is_string(v))
        json_object_set_new(o, k, json_string(json_string_value(v)));
}

/* "display": what the callee may show (RFC 9796 Call-Info material). */
static json_t *display_of(const json_t *rcd, const json_t *card, const json_t *crn)
{
    json_t *d = json_object();
    if (!d)
        return NULL;
    set_str(d, "name", json_object_get(rcd, "nam"));
    set_str(d, "apn", json_object_get(rcd, "apn"));
    set_str(d, "icon", json_object_get(rcd, "icn"));
    set_str(d, "reason", crn);
    const json_t *props = card ? json_array_get(card, 1) : NULL;
    static const char *const want[] = {"fn", "org", "logo", "photo", "tel"};
    for (size_t i = 0; i < json_array_size(props); i++) {
        const json_t *p = json_array_get(props, i);
        const char *nm = json_string_value(json_array_get(p, 0));
        const json_t *v = json_array_get(p, 3);
        for (size_t w = 0; nm && w < 5; w++) {
            if (strcasecmp(nm, want[w]) != 0 || json_object_get(d, want[w]))
                continue;
            if (json_is_string(v)) {
                set_str(d, want[w], v);
            } else if (json_is_array(v)) {
                /* structured org ("MI6", "Q Branch") -> its text form "MI6;Q Branch" */
                char buf[512] = "";
                size_t o = 0;
                for (size_t k = 0; k < json_array_size(v) && o < sizeof buf; k++) {
                    const char *s = json_string_value(json_array_get(v, k));
                    int m = snprintf(buf + o, sizeof buf - o, "%s%s", k ? ";" : "",
                                     s ? s : "");
                    o += m > 0 ? (size_t)m : 0;
                }
                stir_utf8_repair(buf);
                json_object_set_new(d, want[w], json_string(buf));
            }
        }
    }
    return d;
}

json_t *stir_rcd_verify(stir_rcd *r, const json_t *claims, int flags, stir_error *err)
{
    stir_error_clear(err);
    if (!json_is_object(claims)) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_rcd_verify: claims is not an object");
        return NULL;
    }
    const json_t *rcd = json_object_get(claims, "rcd"), *rcdi = json_object_get(claims, "rcdi"),
                 *crn = json_object_get(claims, "crn");
    if (!rcd && !crn && !rcdi)
        return NULL;

    rctx c;
    if (ctx_init(&c, r, rcd, flags, 1, err))
        return NULL;
    vstate vs;
    memset(&vs, 0, sizeof vs);
    json_t *result = NULL;
    if (!(vs.failed = json_array()))
        goto oom;
    stir_error e, ferr;
    memset(&e, 0, sizeof e);
    memset(&ferr, 0, sizeof ferr);
    char dig[100], why[240];

    if (crn && stir_crn_check(crn, "crn", STIR_ERR_INVALID, &e)) {
        vfail(&vs, NULL, "%s", e.detail);
        goto finish;
    }
    if (!rcd) {
        if (rcdi)
            vfail(&vs, NULL, "rcdi without rcd (RFC 9795 6: rcdi requires an rcd claim)");
        goto finish;
    }
    size_t jmax = c.cfg->max_jcard_bytes < JCARD_CAP ? c.cfg->max_jcard_bytes : JCARD_CAP;
    if (rcd_check(rcd, "rcd", STIR_ERR_INVALID, jmax, &e)) {
        vfail_check(&vs, &e);
        goto finish;
    }
    if (rcdi && stir_rcdi_check(rcdi, "rcdi", STIR_ERR_INVALID, &e)) {
        vfail(&vs, NULL, "%s", e.detail);
        goto finish;
    }
    rcd_links(&c);
    if (c.total > c.cap) {
        vfail(&vs, NULL, "rcd links %zu URIs (icn, jcl and jCard URIs); at most %zu "
                         "(max_links)", c.total, c.cap);
        goto finish;
    }
    if (!rcdi) {
        /* Mode 1 needs nothing more; with links, rcdi was required (RFC 9795 4). */
        for (size_t i = 0; i < c.nlinks; i++)
            vfail(&vs, c.links[i].ptr, "%s has no rcdi digest (RFC 9795 %s; the PASSporT "
                                       "has no rcdi)", c.links[i].ptr,
                  link_section(c.links[i].ptr));
        goto finish;
    }
    for (size_t i = 0; i < c.nlinks; i++)
        if (!json_object_get(rcdi, c.links[i].ptr))
            vfail(&vs, c.links[i].ptr, "%s has no rcdi digest (RFC 9795 %s)", c.links[i].ptr,
                  link_section(c.links[i].ptr));

    const json_t *jcl = json_object_get(rcd, "jcl"), *jdig = json_object_get(rcdi, "/jcl");
    if (jcl && jdig) {
        const char *url = json_string_value(jcl), *want = json_string_value(jdig);
        char ab[16];
        int d = load_jcl(&c, url, &ferr);
        if (d == STIR_WOULD_BLOCK) {
            stir_fail(err, STIR_WOULD_BLOCK, "rcd.jcl", "%s", ferr.detail);
            goto out;
        } else if (d == D_NOFETCH) {
            vfail(&vs, "/jcl", "/jcl %.100s not verified (%s)", url, c.nofetch);
        } else if (d) {
            vfail(&vs, "/jcl", "/jcl %.100s not verified: %s", url, fetch_reason(&ferr));
        } else if (stir_rcd_digest(alg_of(want, ab), c.jcl_body->data, c.jcl_body->len,
                                   dig)) {
            goto oom;
        } else if (!digest_equal(dig, want)) {
            vfail(&vs, "/jcl", "rcdi /jcl: digest mismatch: the jCard at %.100s hashes to "
                               "%s, the PASSporT says %.100s (RFC 9795 8.2)", url, dig, want);
        } else if (parse_card(&c, why, sizeof why)) {
            json_decref(c.card);
            c.card = NULL;
            vfail(&vs, "/jcl", "/jcl %.100s: %s", url, why);
        } else {
            size_t before = c.nlinks;
            card_links(&c, c.card, "/jcl");
            if (c.total > c.cap) {
                vfail(&vs, "/jcl", "rcd links %zu URIs with those of the jCard at %.100s; at "
                                   "most %zu (max_links)", c.total, url, c.cap);
                json_decref(c.card);
                c.card = NULL;
            } else {
                for (size_t i = before; i < c.nlinks; i++)
                    if (!json_object_get(rcdi, c.links[i].ptr))
                        vfail(&vs, c.links[i].ptr, "%s has no rcdi digest (RFC 9795 6.1.4)",
                              c.links[i].ptr);
            }
        }
    }

    const char *keys[RCDI_MAX_KEYS];
    size_t nk = sorted_keys(rcdi, keys, RCDI_MAX_KEYS);
    for (size_t i = 0; i < nk; i++) {
        const char *k = keys[i], *want = json_string_value(json_object_get(rcdi, k));
        if (strcmp(k, "/jcl") == 0 && jcl)
            continue;   /* checked above */
        if (strncmp(k, "/jcl/", 5) == 0 && jcl && !c.card)
            continue;   /* the jCard could not be used: /jcl already failed */
        char ab[16];
        int d = digest_at(&c, k, alg_of(want, ab), dig, &ferr);
        const rlink *l = link_find(&c, k);
        switch (d) {
        case D_OK:
            if (!digest_equal(dig, want))
                vfail(&vs, k, "rcdi %.60s: digest mismatch: %s%.100s hashes to %s, the "
                              "PASSporT says %.100s (RFC 9795 8.2)", k,
                      l ? "the content of " : "the rcd value", l ? l->url : "", dig, want);
            break;
        case STIR_WOULD_BLOCK:
            stir_fail(err, STIR_WOULD_BLOCK, member_of(k), "%s", ferr.detail);
            goto out;
        case D_UNRESOLVED:
            vfail(&vs, k, "rcdi %.60s does not resolve in the rcd claim (RFC 9795 6, "
                          "RFC 6901)", k);
            break;
        case D_NOFETCH:
            vfail(&vs, k, "%.60s %.100s not verified (%s)", k, l ? l->url : "", c.nofetch);
            break;
        case D_FETCH:
            vfail(&vs, k, "%.60s %.100s not verified: %s", k, l ? l->url : "",
                  fetch_reason(&ferr));
            break;
        default:
            goto oom;
        }
    }

finish:
    if (!(result = json_object()))
        goto oom;
    if (vs.nfail) {
        char desc[STIR_DETAIL_MAX + 40];
        if (vs.nfail > 1)
            snprintf(desc, sizeof desc, "%s (and %zu more)", vs.first, vs.nfail - 1);
        else
            snprintf(desc, sizeof desc, "%s", vs.first);
        if (json_object_set_new(result, "status", json_string("fail")) ||
            json_object_set_new(result, "reasonCode", json_integer(STIR_ERR_INVALID)) ||
            json_object_set_new(result, "reasonText", json_string(INVALID_TEXT)) ||
            json_object_set_new(result, "reasonDescription", json_string(desc)) ||
            json_object_set(result, "failed", vs.failed))
            goto oom;
    } else {
        const json_t *card = c.card ? c.card : json_object_get(rcd, "jcd");
        json_t *disp = display_of(rcd, card, crn);
        if (json_object_set_new(result, "status", json_string("pass")) ||
            json_object_set_new(result, "display", disp))
            goto oom;
    }
    goto out;
oom:
    json_decref(result);
    result = NULL;
    stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
out:
    if (err && err->code && result) {
        json_decref(result);
        result = NULL;
    }
    json_decref(vs.failed);
    ctx_free(&c);
    return result;
}

void stir_rcd_stats_get(stir_rcd *r, stir_rcd_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    fcache_stats st;
    fcache_stats_get(r->fc, &st);
    out->hits = st.hits;
    out->fetches = st.fetches;
    out->fetch_failures = st.fetch_failures;
    out->entries = st.entries + st.neg_entries;
    out->bytes = st.cost;
}
