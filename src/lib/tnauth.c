/*
 * TNAuthorizationList (RFC 8226 section 9), DER only:
 *
 *   TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry
 *   TNEntry ::= CHOICE { spc [0] ServiceProviderCode,
 *                        range [1] TelephoneNumberRange,
 *                        one [2] TelephoneNumber }
 *   TelephoneNumberRange ::= SEQUENCE { start TelephoneNumber,
 *                                       count INTEGER (2..MAX), ... }
 *   TelephoneNumber ::= IA5String (SIZE (1..15)) (FROM ("0123456789#*"))
 *
 * The module uses EXPLICIT tags, so each choice is a constructed context tag
 * wrapping the universal type. TLV headers are read with ASN1_get_object and
 * checked for DER (definite, minimal lengths, exact nesting); INTEGERs are
 * decoded with d2i_ASN1_INTEGER, which refuses non-minimal encodings.
 */
#include <string.h>
#include <stdint.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include "stir/cert.h"

#include "der.h"

#define TN_MAX_DIGITS 15

typedef sti_der_tlv tlv;

static int read_tlv(const unsigned char **p, const unsigned char *end, tlv *t, const char *what,
                    stir_error *err)
{
    return sti_der_read("TNAuthList", p, end, t, what, err);
}

/* Read an IA5String into out (NUL-terminated), at most `max` characters. */
static int read_ia5(const unsigned char **p, const unsigned char *end, char *out, size_t max,
                    const char *what, stir_error *err)
{
    tlv t;
    int rc = read_tlv(p, end, &t, what, err);
    if (rc)
        return rc;
    if (t.cls != V_ASN1_UNIVERSAL || t.tag != V_ASN1_IA5STRING || t.constructed)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: %s is not an IA5String (tag %d)", what, t.tag);
    if (t.len < 1 || (size_t)t.len > max)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: %s has %ld characters (1..%zu allowed)", what, t.len, max);
    for (long i = 0; i < t.len; i++)
        if (t.val[i] < 0x21 || t.val[i] > 0x7e)
            return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                             "TNAuthList: %s has a non-printable character", what);
    memcpy(out, t.val, (size_t)t.len);
    out[t.len] = '\0';
    return 0;
}

static int check_tn(const char *tn, const char *what, stir_error *err)
{
    for (const char *c = tn; *c; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '*' || *c == '#'))
            return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                             "TNAuthList: %s \"%s\" has a character other than 0-9 * #", what, tn);
    return 0;
}

static int is_digits(const char *s)
{
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static uint64_t pow10u(size_t d)
{
    uint64_t v = 1;
    while (d--)
        v *= 10;
    return v;
}

static int parse_range(const unsigned char *p, const unsigned char *end, stir_tnauth_entry *e,
                       stir_error *err)
{
    tlv seq;
    int rc = read_tlv(&p, end, &seq, "TN range", err);
    if (rc)
        return rc;
    if (seq.cls != V_ASN1_UNIVERSAL || seq.tag != V_ASN1_SEQUENCE || !seq.constructed)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range is not a SEQUENCE");
    if (p != end)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: trailing data after TN range");
    const unsigned char *q = seq.val, *qend = seq.val + seq.len;
    rc = read_ia5(&q, qend, e->value, TN_MAX_DIGITS, "TN range start", err);
    if (rc)
        return rc;
    rc = check_tn(e->value, "TN range start", err);
    if (rc)
        return rc;
    /* count is only defined for all-digit starts (RFC 8226 section 9). */
    if (!is_digits(e->value))
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range start \"%s\" contains '*' or '#'", e->value);

    tlv it;
    const unsigned char *istart = q;
    rc = read_tlv(&q, qend, &it, "TN range count", err);
    if (rc)
        return rc;
    if (it.cls != V_ASN1_UNIVERSAL || it.tag != V_ASN1_INTEGER || it.constructed)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range count is not an INTEGER");
    const unsigned char *ip = istart;
    ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &ip, (long)(q - istart));
    if (!ai || ip != q) {
        ASN1_INTEGER_free(ai);
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range count is not a DER INTEGER");
    }
    uint64_t count = 0;
    int ok = ASN1_INTEGER_get_uint64(&count, ai);
    ASN1_INTEGER_free(ai);
    if (!ok)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range count is negative or too large");
    if (count < 2)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range count %llu is below 2", (unsigned long long)count);
    /* Extension additions ("...") are not defined by any RFC; refusing them
     * keeps us from granting a range whose meaning we cannot know. */
    if (q != qend)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: unexpected element after TN range count");

    /* The range must not grow the number of digits: the last number,
     * start + count - 1, must still have D digits (RFC 8226 section 9:
     * start "10" with count 91 would reach "100" and is invalid). */
    size_t d = strlen(e->value);
    uint64_t start = 0;
    for (const char *c = e->value; *c; c++)
        start = start * 10 + (uint64_t)(*c - '0');
    uint64_t limit = pow10u(d);
    if (count > limit - start)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: TN range %s + %llu exceeds %zu digits", e->value,
                         (unsigned long long)count, d);
    e->count = (unsigned long)count;
    return 0;
}

int stir_tnauth_parse(const unsigned char *der, size_t len, stir_tnauth *out, stir_error *err)
{
    if (!der || !out)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_tnauth_parse: NULL argument");
    memset(out, 0, sizeof *out);
    if (len == 0)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "TNAuthList: empty value");
    if (len > 65536)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "TNAuthList: value of %zu bytes is too large", len);
    const unsigned char *p = der, *end = der + len;
    tlv seq;
    int rc = read_tlv(&p, end, &seq, "list", err);
    if (rc)
        goto fail;
    if (seq.cls != V_ASN1_UNIVERSAL || seq.tag != V_ASN1_SEQUENCE || !seq.constructed) {
        rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "TNAuthList: not a SEQUENCE (tag %d)",
                       seq.tag);
        goto fail;
    }
    if (p != end) {
        rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                       "TNAuthList: %ld trailing bytes after the list", (long)(end - p));
        goto fail;
    }
    const unsigned char *q = seq.val, *qend = seq.val + seq.len;
    if (q == qend) {
        rc =
            stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "TNAuthList: empty list (SIZE 1..MAX)");
        goto fail;
    }
    while (q < qend) {
        if (out->n == STIR_TNAUTH_MAX_ENTRIES) {
            rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "TNAuthList: more than %d entries",
                           STIR_TNAUTH_MAX_ENTRIES);
            goto fail;
        }
        char what[32];
        snprintf(what, sizeof what, "entry %zu", out->n + 1);
        tlv ent;
        rc = read_tlv(&q, qend, &ent, what, err);
        if (rc)
            goto fail;
        if (ent.cls != V_ASN1_CONTEXT_SPECIFIC || !ent.constructed || ent.tag > 2) {
            rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                           "TNAuthList: %s is not [0] SPC, [1] range or [2] TN "
                           "(EXPLICIT)",
                           what);
            goto fail;
        }
        stir_tnauth_entry *e = &out->e[out->n];
        const unsigned char *v = ent.val, *vend = ent.val + ent.len;
        switch (ent.tag) {
        case 0:
            e->kind = STIR_TNAUTH_SPC;
            rc = read_ia5(&v, vend, e->value, sizeof e->value - 1, "SPC", err);
            break;
        case 1:
            e->kind = STIR_TNAUTH_RANGE;
            rc = parse_range(v, vend, e, err);
            v = vend;
            break;
        default:
            e->kind = STIR_TNAUTH_ONE;
            rc = read_ia5(&v, vend, e->value, TN_MAX_DIGITS, "TN", err);
            if (!rc)
                rc = check_tn(e->value, "TN", err);
            break;
        }
        if (rc)
            goto fail;
        if (v != vend) {
            rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                           "TNAuthList: trailing data inside %s", what);
            goto fail;
        }
        out->n++;
    }
    return 0;
fail:
    /* ASN1_get_object and d2i leave entries on the thread's error queue. */
    ERR_clear_error();
    memset(out, 0, sizeof *out);
    return rc;
}

int stir_tnauth_covers(const stir_tnauth *ta, const char *tn)
{
    if (!ta || !tn || !*tn)
        return 0;
    size_t tlen = strlen(tn);
    for (size_t i = 0; i < ta->n; i++) {
        const stir_tnauth_entry *e = &ta->e[i];
        switch (e->kind) {
        case STIR_TNAUTH_SPC:
            /* An SPC names a service provider, not numbers. Which TNs that
             * provider holds (number portability data) is not available to
             * us, and SHAKEN leaf certificates carry only an SPC, so the
             * SPC is taken to authorize every TN: the chain to a trusted
             * STI-PA root is the assurance (certificates.md section 6.9). */
            return 1;
        case STIR_TNAUTH_ONE:
            if (strcmp(e->value, tn) == 0)
                return 1;
            break;
        case STIR_TNAUTH_RANGE: {
            size_t slen = strlen(e->value);
            if (tlen != slen || !is_digits(tn))
                break;
            uint64_t start = 0, n = 0;
            for (size_t k = 0; k < slen; k++) {
                start = start * 10 + (uint64_t)(e->value[k] - '0');
                n = n * 10 + (uint64_t)(tn[k] - '0');
            }
            if (n >= start && n - start < e->count)
                return 1;
            break;
        }
        }
    }
    return 0;
}
