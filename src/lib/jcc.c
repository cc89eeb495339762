/*
 * JWT Claim Constraints of STI certificates, DER only.
 *
 * RFC 8226 section 8 (id-pe-JWTClaimConstraints, 1.3.6.1.5.5.7.1.27):
 *
 *   JWTClaimConstraints ::= SEQUENCE {
 *     mustInclude [0] JWTClaimNames OPTIONAL,
 *     permittedValues [1] JWTClaimPermittedValuesList OPTIONAL }
 *     ( WITH COMPONENTS { ..., mustInclude PRESENT } |
 *       WITH COMPONENTS { ..., permittedValues PRESENT } )
 *   JWTClaimPermittedValuesList ::= SEQUENCE SIZE (1..MAX) OF
 *                                     JWTClaimPermittedValues
 *   JWTClaimPermittedValues ::= SEQUENCE { claim JWTClaimName,
 *     permitted SEQUENCE SIZE (1..MAX) OF UTF8String }
 *
 * RFC 9118 section 3 (id-pe-eJWTClaimConstraints, 1.3.6.1.5.5.7.1.33):
 *
 *   EnhancedJWTClaimConstraints ::= SEQUENCE {
 *     mustInclude [0] JWTClaimNames OPTIONAL,
 *     permittedValues [1] JWTClaimValuesList OPTIONAL,
 *     mustExclude [2] JWTClaimNames OPTIONAL }
 *     ( at least one of the three PRESENT )
 *   JWTClaimValuesList ::= SEQUENCE SIZE (1..MAX) OF JWTClaimValues
 *   JWTClaimValues ::= SEQUENCE { claim JWTClaimName,
 *     values SEQUENCE SIZE (1..MAX) OF UTF8String }
 *
 *   JWTClaimNames ::= SEQUENCE SIZE (1..MAX) OF JWTClaimName
 *   JWTClaimName ::= IA5String
 *
 * Both modules use EXPLICIT tags: [0] wraps the SEQUENCE (the RFC 9118
 * section 5 certificate has A0 0E 30 0C 16 0A "confidence"). Headers are
 * read with ASN1_get_object and checked for DER as in tnauth.c.
 *
 * Enforcement (RFC 8226 8, RFC 9118 3): every mustInclude claim MUST be
 * present; a present claim listed in permittedValues MUST exactly match
 * one of its values; a mustExclude claim MUST NOT be present. A mustExclude
 * that lists a baseline claim (iat, orig, dest) makes the certificate be
 * treated as if that extension were absent (RFC 9118 3).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/err.h>

#include "stir/cert.h"
#include "stir/encoding.h"

#include "der.h"

#define DER_MAX 65536 /* a real extension is well under 1 KiB */

typedef sti_der_tlv tlv;

/* Where a parse is, for details: "EnhancedJWTClaimConstraints: mustInclude". */
typedef struct ctx {
    const char *ext;
    stir_error *err;
} ctx;

#define BAD(c, ...) jcc_fail((c), __VA_ARGS__)

static int jcc_fail(const ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int jcc_fail(const ctx *c, const char *fmt, ...)
{
    char what[STIR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return stir_fail(c->err, STIR_ERR_UNSUPPORTED_CRED, NULL, "%s: %s", c->ext, what);
}

static int read_tlv(const ctx *c, const unsigned char **p, const unsigned char *end, tlv *t,
                    const char *what)
{
    return sti_der_read(c->ext, p, end, t, what, c->err);
}

/* A universal constructed SEQUENCE, at least one element (SIZE (1..MAX)). */
static int read_seq(const ctx *c, const unsigned char **p, const unsigned char *end, tlv *t,
                    const char *what)
{
    int rc = read_tlv(c, p, end, t, what);
    if (rc)
        return rc;
    if (t->cls != V_ASN1_UNIVERSAL || t->tag != V_ASN1_SEQUENCE || !t->constructed)
        return BAD(c, "%s is not a SEQUENCE (tag %d)", what, t->tag);
    if (t->len == 0)
        return BAD(c, "%s is empty (SIZE (1..MAX))", what);
    return 0;
}

/* JWTClaimName: IA5String; RFC 9118 3 wants ASCII names, and control
 * characters have no place in a JSON member name we would report. */
static int read_name(const ctx *c, const unsigned char **p, const unsigned char *end,
                     char out[STIR_JCC_NAME_MAX + 1], const char *what)
{
    tlv t;
    int rc = read_tlv(c, p, end, &t, what);
    if (rc)
        return rc;
    if (t.cls != V_ASN1_UNIVERSAL || t.tag != V_ASN1_IA5STRING || t.constructed)
        return BAD(c, "%s is not an IA5String (tag %d)", what, t.tag);
    if (t.len < 1 || t.len > STIR_JCC_NAME_MAX)
        return BAD(c, "%s has %ld characters (1..%d allowed)", what, t.len, STIR_JCC_NAME_MAX);
    for (long i = 0; i < t.len; i++)
        if (t.val[i] < 0x20 || t.val[i] > 0x7e)
            return BAD(c, "%s has a character that is not printable ASCII", what);
    memcpy(out, t.val, (size_t)t.len);
    out[t.len] = '\0';
    return 0;
}

/* JWTClaimNames into names[*n]. */
static int read_names(const ctx *c, const unsigned char *p, const unsigned char *end,
                      char names[][STIR_JCC_NAME_MAX + 1], size_t *n, const char *list)
{
    tlv seq;
    int rc = read_seq(c, &p, end, &seq, list);
    if (rc)
        return rc;
    if (p != end)
        return BAD(c, "trailing data after %s", list);
    const unsigned char *q = seq.val, *qend = seq.val + seq.len;
    while (q < qend) {
        if (*n == STIR_JCC_MAX_ENTRIES)
            return BAD(c, "%s has more than %d names", list, STIR_JCC_MAX_ENTRIES);
        char what[64];
        snprintf(what, sizeof what, "%s name %zu", list, *n + 1);
        if ((rc = read_name(c, &q, qend, names[*n], what)))
            return rc;
        (*n)++;
    }
    return 0;
}

/* One JWTClaimPermittedValues / JWTClaimValues: claim and its values. */
static int read_permitted(const ctx *c, const unsigned char **p, const unsigned char *end,
                          stir_jcc_permitted *pv, size_t idx)
{
    char what[112];
    tlv seq, vals;
    snprintf(what, sizeof what, "permittedValues entry %zu", idx);
    int rc = read_seq(c, p, end, &seq, what);
    if (rc)
        return rc;
    const unsigned char *q = seq.val, *qend = seq.val + seq.len;
    snprintf(what, sizeof what, "permittedValues entry %zu claim", idx);
    if ((rc = read_name(c, &q, qend, pv->claim, what)))
        return rc;
    snprintf(what, sizeof what, "permittedValues %s values", pv->claim);
    if ((rc = read_seq(c, &q, qend, &vals, what)))
        return rc;
    if (q != qend)
        return BAD(c, "trailing data in permittedValues %s", pv->claim);
    const unsigned char *v = vals.val, *vend = vals.val + vals.len;
    while (v < vend) {
        if (pv->n == STIR_JCC_MAX_ENTRIES)
            return BAD(c, "permittedValues %s has more than %d values", pv->claim,
                       STIR_JCC_MAX_ENTRIES);
        tlv s;
        snprintf(what, sizeof what, "permittedValues %s value %zu", pv->claim, pv->n + 1);
        if ((rc = read_tlv(c, &v, vend, &s, what)))
            return rc;
        if (s.cls != V_ASN1_UNIVERSAL || s.tag != V_ASN1_UTF8STRING || s.constructed)
            return BAD(c, "%s is not a UTF8String (tag %d)", what, s.tag);
        if (s.len > STIR_JCC_VALUE_MAX)
            return BAD(c, "%s has %ld bytes (at most %d)", what, s.len, STIR_JCC_VALUE_MAX);
        if (!stir_utf8_valid((const char *)s.val, (size_t)s.len))
            return BAD(c, "%s is not valid UTF-8", what);
        char *copy = malloc((size_t)s.len + 1);
        if (!copy)
            return stir_fail(c->err, STIR_ERR_INTERNAL, NULL, "out of memory");
        memcpy(copy, s.val, (size_t)s.len);
        copy[s.len] = '\0';
        pv->value[pv->n] = copy;
        pv->len[pv->n++] = (size_t)s.len;
    }
    return 0;
}

static int read_permitted_list(const ctx *c, const unsigned char *p, const unsigned char *end,
                               stir_jcc *j)
{
    tlv seq;
    int rc = read_seq(c, &p, end, &seq, "permittedValues");
    if (rc)
        return rc;
    if (p != end)
        return BAD(c, "trailing data after permittedValues");
    const unsigned char *q = seq.val, *qend = seq.val + seq.len;
    while (q < qend) {
        if (j->n_permitted == STIR_JCC_MAX_ENTRIES)
            return BAD(c, "permittedValues has more than %d claims", STIR_JCC_MAX_ENTRIES);
        stir_jcc_permitted *pv = &j->permitted[j->n_permitted++];
        if ((rc = read_permitted(c, &q, qend, pv, j->n_permitted)))
            return rc;
    }
    return 0;
}

static int is_baseline(const char *name)
{
    return !strcmp(name, "iat") || !strcmp(name, "orig") || !strcmp(name, "dest");
}

static int parse_one(const ctx *c, const unsigned char *der, size_t len, int enhanced, stir_jcc *j)
{
    const unsigned char *p = der, *end = der + len;
    tlv seq;
    int rc = read_tlv(c, &p, end, &seq, "extension value");
    if (rc)
        return rc;
    if (seq.cls != V_ASN1_UNIVERSAL || seq.tag != V_ASN1_SEQUENCE || !seq.constructed)
        return BAD(c, "not a SEQUENCE (tag %d)", seq.tag);
    if (p != end)
        return BAD(c, "%ld trailing bytes after the SEQUENCE", (long)(end - p));
    const unsigned char *q = seq.val, *qend = seq.val + seq.len;
    int last = -1, max_tag = enhanced ? 2 : 1;
    while (q < qend) {
        tlv f;
        if ((rc = read_tlv(c, &q, qend, &f, "component")))
            return rc;
        /* Tags in order, each once (DER of a SEQUENCE with OPTIONAL
         * components); the modules have no extension marker, so an unknown
         * component is refused rather than silently not enforced. */
        if (f.cls != V_ASN1_CONTEXT_SPECIFIC || !f.constructed || f.tag > max_tag)
            return BAD(c, "unexpected component (class %d, tag %d); only %s", f.cls >> 6, f.tag,
                       enhanced ? "[0] mustInclude, [1] permittedValues, [2] mustExclude"
                                : "[0] mustInclude, [1] permittedValues");
        if (f.tag <= last)
            return BAD(c, "component [%d] repeated or out of order", f.tag);
        last = f.tag;
        const unsigned char *v = f.val, *vend = f.val + f.len;
        if (f.tag == 0)
            rc = read_names(c, v, vend, j->include, &j->n_include, "mustInclude");
        else if (f.tag == 1)
            rc = read_permitted_list(c, v, vend, j);
        else
            rc = read_names(c, v, vend, j->exclude, &j->n_exclude, "mustExclude");
        if (rc)
            return rc;
    }
    if (last < 0)
        return BAD(c, "no component (WITH COMPONENTS needs one present)");
    return 0;
}

void stir_jcc_clear(stir_jcc *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n_permitted; i++)
        for (size_t k = 0; k < j->permitted[i].n; k++)
            free(j->permitted[i].value[k]);
    memset(j, 0, sizeof *j);
}

/* Move the constraints of `src` into `dst`; src is left empty. */
static int merge(const ctx *c, stir_jcc *dst, stir_jcc *src)
{
    if (dst->n_include + src->n_include > STIR_JCC_MAX_ENTRIES ||
        dst->n_permitted + src->n_permitted > STIR_JCC_MAX_ENTRIES ||
        dst->n_exclude + src->n_exclude > STIR_JCC_MAX_ENTRIES)
        return BAD(c,
                   "with the certificate's other claim constraints extension, more than "
                   "%d entries in a list",
                   STIR_JCC_MAX_ENTRIES);
    memcpy(dst->include[dst->n_include], src->include, src->n_include * sizeof src->include[0]);
    memcpy(dst->exclude[dst->n_exclude], src->exclude, src->n_exclude * sizeof src->exclude[0]);
    memcpy(&dst->permitted[dst->n_permitted], src->permitted,
           src->n_permitted * sizeof src->permitted[0]);
    dst->n_include += src->n_include;
    dst->n_exclude += src->n_exclude;
    dst->n_permitted += src->n_permitted;
    memset(src, 0, sizeof *src); /* the values now belong to dst */
    return 0;
}

int stir_jcc_parse(const unsigned char *der, size_t len, int enhanced, stir_jcc *out,
                   stir_error *err)
{
    ctx c = {enhanced ? "EnhancedJWTClaimConstraints" : "JWTClaimConstraints", err};
    if (!der || !out)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_jcc_parse: NULL argument");
    if (len == 0)
        return BAD(&c, "empty value");
    if (len > DER_MAX)
        return BAD(&c, "value of %zu bytes is too large", len);
    stir_jcc *tmp = calloc(1, sizeof *tmp);
    if (!tmp)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    int rc = parse_one(&c, der, len, enhanced, tmp);
    /* ASN1_get_object leaves entries on the thread's error queue. */
    ERR_clear_error();
    if (!rc && enhanced) {
        for (size_t i = 0; i < tmp->n_exclude; i++)
            if (is_baseline(tmp->exclude[i])) {
                /* RFC 9118 3: "the certificate MUST be treated as if the
                 * extension was not present". */
                stir_jcc_clear(tmp);
                out->ignored_enhanced = 1;
                break;
            }
    }
    if (!rc)
        rc = merge(&c, out, tmp);
    stir_jcc_clear(tmp);
    free(tmp);
    return rc;
}

/* ---- enforcement ------------------------------------------------------------- */

#define QUOTE_MAX 96 /* bytes of a claim value quoted in a detail */

static int matches(const stir_jcc_permitted *pv, const char *s, size_t n)
{
    for (size_t k = 0; k < pv->n; k++)
        if (pv->len[k] == n && memcmp(pv->value[k], s, n) == 0)
            return 1;
    return 0;
}

static int check_permitted(const stir_jcc_permitted *pv, const json_t *v, int code, stir_error *err)
{
    /* RFC 8226 8: the claim "MUST exactly match one of the listed values".
     * The values are UTF8Strings: a JSON string claim is compared as the
     * string it holds (RFC 9118 5: confidence "high"); a claim of another
     * type, such as the rcd object (RFC 9795 6.2 lists whole rcd values as
     * permittedValues), as the text it is signed as: its RFC 8225 9
     * serialization. */
    char *ser = NULL;
    const char *s;
    size_t n;
    int is_str = json_is_string(v);
    if (is_str) {
        s = json_string_value(v);
        n = json_string_length(v);
    } else {
        if (!(ser = stir_json_canonical(v, &n)))
            return stir_fail(err, STIR_ERR_INTERNAL, pv->claim, "out of memory");
        s = ser;
    }
    int rc = 0;
    if (!matches(pv, s, n))
        rc = stir_fail(err, code, pv->claim,
                       "claim %s %s%.*s%s%s is not among the certificate's permittedValues "
                       "(RFC 8226 8)",
                       pv->claim, is_str ? "\"" : "", (int)(n > QUOTE_MAX ? QUOTE_MAX : n), s,
                       n > QUOTE_MAX ? "..." : "", is_str ? "\"" : "");
    free(ser);
    return rc;
}

int stir_jcc_check(const stir_jcc *j, const json_t *claims, int code, stir_error *err)
{
    if (!j)
        return 0;
    if (!json_is_object(claims))
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_jcc_check: claims is not an object");
    for (size_t i = 0; i < j->n_include; i++)
        if (!json_object_get(claims, j->include[i])) {
            int rc = stir_fail(err, code, j->include[i],
                               "claim %s is missing: the certificate's mustInclude requires "
                               "it (RFC 8226 8)",
                               j->include[i]);
            /* For a signer, a member the request lacks. */
            if (err && code == STIR_ERR_INPUT)
                err->missing = 1;
            return rc;
        }
    for (size_t i = 0; i < j->n_exclude; i++)
        if (json_object_get(claims, j->exclude[i]))
            return stir_fail(err, code, j->exclude[i],
                             "claim %s is present: the certificate's mustExclude forbids it "
                             "(RFC 9118 3)",
                             j->exclude[i]);
    /* A claim listed twice (in both extensions) must satisfy both lists. */
    for (size_t i = 0; i < j->n_permitted; i++) {
        const json_t *v = json_object_get(claims, j->permitted[i].claim);
        int rc;
        if (v && (rc = check_permitted(&j->permitted[i], v, code, err)))
            return rc;
    }
    return 0;
}
