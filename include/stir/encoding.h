/*
 * Encodings used by PASSporTs: base64url without padding (RFC 7515 2),
 * standard base64 (rcdi digests), and the deterministic JSON serialization
 * of RFC 8225 section 9.
 */
#ifndef STIR_ENCODING_H
#define STIR_ENCODING_H

#include <stddef.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes needed to base64url-encode n bytes, including the terminating NUL. */
#define STIR_B64URL_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode without padding; `out` must hold STIR_B64URL_LEN(n). Returns length. */
size_t stir_b64url_encode(const void *in, size_t n, char *out);

/*
 * Strict decode: only the URL-safe alphabet, no padding, no whitespace,
 * no impossible lengths (n % 4 == 1), and unused trailing bits must be zero.
 * Returns the decoded length, or -1 if the input is malformed or does not
 * fit in `cap` bytes.
 */
long stir_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

/*
 * RFC 8225 9 serialization: no whitespace, object keys in code-point order
 * (recursively), integers as integers, UTF-8 emitted raw. Returns a malloc'd
 * NUL-terminated string and its length in *len (may be NULL).
 */
char *stir_json_canonical(const json_t *v, size_t *len);

/*
 * Parse a JSON text of len bytes: what json_loadb(buf, len,
 * JSON_REJECT_DUPLICATES, err) returns, faster for the plain JSON of Ms
 * requests and PASSporTs (src/lib/json.c says how).
 */
json_t *stir_json_load(const char *buf, size_t len, json_error_t *err);

/* Is [s, s+n) valid UTF-8 (no overlongs, no surrogates)? */
int stir_utf8_valid(const char *s, size_t n);

/* Length of the valid UTF-8 sequence starting at s (1-4), or 0 if the
 * bytes there do not start one. At most n bytes are read. */
size_t stir_utf8_seq(const unsigned char *s, size_t n);

/* Replace, in place, every byte that does not start a valid UTF-8
 * sequence with '?' (text that quotes input cut at a byte limit). */
void stir_utf8_repair(char *s);

/* ---- a JSON writer (the Ms responses, the canonical PASSporT form) ------- */

/* A growing output buffer. On allocation failure `failed` is set and
 * further appends are ignored. */
typedef struct stir_jbuf {
    char *data;
    size_t len, cap;
    int failed;
} stir_jbuf;

/* Room for `more` bytes at once (one allocation for a known size); -1
 * when out of memory (and `failed` is set). */
int stir_jbuf_reserve(stir_jbuf *b, size_t more);
void stir_jbuf_raw(stir_jbuf *b, const char *s, size_t n);
/* `s` as a quoted JSON string (controls as \\u00xx in lower case, as
 * Python writes them); a byte that is not UTF-8 becomes '?'. */
void stir_jbuf_string(stir_jbuf *b, const char *s, size_t n);
void stir_jbuf_int(stir_jbuf *b, long long v);
/* A jansson value, compact (for the few members kept as trees). */
void stir_jbuf_json(stir_jbuf *b, const json_t *v);
/* The NUL-terminated text, owned by the caller; NULL when an append failed. */
char *stir_jbuf_finish(stir_jbuf *b, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
