/*
 * Strict DER reading for the certificate extensions libstir parses itself
 * (TNAuthList, JWT Claim Constraints). Private to libstir.
 */
#ifndef STIR_DER_H
#define STIR_DER_H

#include "stir/error.h"

/* One TLV read from [*p, end). */
typedef struct sti_der_tlv {
    const unsigned char *hdr; /* start of the header */
    const unsigned char *val; /* start of the contents */
    long len;                 /* contents length */
    int tag, cls, constructed;
} sti_der_tlv;

/*
 * Read one TLV and advance *p past it. Refuses truncation, indefinite or
 * non-minimal lengths and contents longer than the container: 437 with the
 * detail "<ext>: <what> ..." (a certificate we cannot read is unsupported).
 */
int sti_der_read(const char *ext, const unsigned char **p, const unsigned char *end, sti_der_tlv *t,
                 const char *what, stir_error *err);

#endif
