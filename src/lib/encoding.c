/*
 * base64url (RFC 7515 2), base64 (RFC 4648 4) and the RFC 8225 9 JSON
 * serialization.
 *
 * base64url is written here rather than taken from OpenSSL: EVP_EncodeBlock
 * and EVP_DecodeBlock only speak the padded standard alphabet and the
 * decoder skips whitespace and accepts padding, so strictness would need a
 * validating pass plus two copies per token anyway (see docs/ARCHITECTURE.md).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stir/encoding.h"

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decoding table: value 0..63, or 0xff for a character outside the alphabet. */
static unsigned char B64URL_VAL[256];

static void b64url_table_init(void)
{
    memset(B64URL_VAL, 0xff, sizeof B64URL_VAL);
    for (int i = 0; i < 64; i++)
        B64URL_VAL[(unsigned char)B64URL[i]] = (unsigned char)i;
}

static void b64url_table_once(void)
{
    static int done;
    /* Benign race: every thread writes the same bytes. stir_init() calls
     * this first so servers never race here in practice. */
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        b64url_table_init();
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
}

void sti_encoding_init(void)
{
    b64url_table_once();
}

size_t stir_b64url_encode(const void *in_, size_t n, char *out)
{
    const unsigned char *in = in_;
    size_t i = 0, o = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
        out[o++] = B64URL[v >> 6 & 63];
        out[o++] = B64URL[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = B64URL[v >> 18 & 63];
        out[o++] = B64URL[v >> 12 & 63];
        out[o++] = B64URL[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

long stir_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    b64url_table_once();
    if (n % 4 == 1)
        return -1;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = B64URL_VAL[(unsigned char)in[i]];
        if (v == 0xff)
            return -1;
        acc = (acc << 6 | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Non-canonical encodings (non-zero leftover bits) are refused so that
     * one byte string has exactly one accepted token. */
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return (long)o;
}

size_t stir_utf8_seq(const unsigned char *s, size_t n)
{
    size_t k;
    unsigned cp;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        k = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        k = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        k = 4;
        cp = s[0] & 0x07;
    } else
        return 0;
    if (n < k)
        return 0; /* truncated */
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0; /* overlong, surrogate, too large */
    return k;
}

int stir_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = stir_utf8_seq((const unsigned char *)s + i, n - i)))
            return 0;
    return 1;
}

void stir_utf8_repair(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = stir_utf8_seq((const unsigned char *)s + i, n - i))) {
            s[i] = '?';
            k = 1;
        }
}
