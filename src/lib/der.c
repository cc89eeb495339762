/* Strict DER TLV reading on top of OpenSSL's ASN1_get_object. */
#include <openssl/asn1.h>

#include "der.h"

/* Length of the DER header for this tag number and content length. */
static long der_header_len(int tag, long len)
{
    long n = tag < 31 ? 1 : 2 + (tag >= 128) + (tag >= 16384);
    if (len < 128)
        return n + 1;
    n += 1;
    for (long l = len; l > 0; l >>= 8)
        n++;
    return n;
}

int sti_der_read(const char *ext, const unsigned char **p, const unsigned char *end, sti_der_tlv *t,
                 const char *what, stir_error *err)
{
    if (*p >= end)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "%s: %s missing (truncated)", ext,
                         what);
    const unsigned char *q = *p;
    long len = 0;
    int tag = 0, cls = 0;
    int r = ASN1_get_object(&q, &len, &tag, &cls, (long)(end - *p));
    if (r & 0x80)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "%s: %s has a bad or truncated header", ext, what);
    if (r == 0x21)
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "%s: %s uses indefinite length (not DER)", ext, what);
    if ((long)(q - *p) != der_header_len(tag, len))
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "%s: %s has a non-minimal length (not DER)", ext, what);
    if (len > (long)(end - q))
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "%s: %s longer than its container",
                         ext, what);
    t->hdr = *p;
    t->val = q;
    t->len = len;
    t->tag = tag;
    t->cls = cls;
    t->constructed = (r & V_ASN1_CONSTRUCTED) != 0;
    *p = q + len;
    return 0;
}
