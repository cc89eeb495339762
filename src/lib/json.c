/*
 * JSON on the request path: reading Ms requests and PASSporTs, writing
 * PASSporTs in the canonical form of RFC 8225 9.
 *
 * jansson stays the JSON library: its DOM is what the rest of libstir
 * reads, and it decides every hard case. But its reader and its sorted
 * dump were the largest costs of a request after the ES256 operation
 * itself (callgrind over stird, docs/BENCHMARKS.md "JSON"): json_loadb
 * spent about 139k instructions of a verification request's 1,067k and
 * the sorted json_dumps about 22k of a signing request's 375k. So:
 *
 * - stir_json_load reads the plain JSON those documents are made of
 *   (objects, arrays, strings with the short escapes, integers, the
 *   three literals) straight into a jansson DOM, and hands anything else
 *   (a \u escape, a real, a long integer, deep nesting, any error) to
 *   json_loadb, which then decides and words the error. The fast reader
 *   therefore only has to be right about what it accepts: each document
 *   it accepts, json_loadb accepts too, with an equal DOM. fuzz_json
 *   checks exactly that against jansson.
 * - stir_json_canonical writes what json_dumps(JSON_COMPACT |
 *   JSON_SORT_KEYS | JSON_ENCODE_ANY) writes, byte for byte, into one
 *   growing buffer, and leaves what it does not write itself (reals, keys
 *   holding NUL, invalid UTF-8, nesting deeper than 64) to json_dumps.
 *   fuzz_json checks it against jansson too.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stir/encoding.h"

/* ---- reading ------------------------------------------------------------- */

/* Deeper documents go to jansson (its limit is 2048); ours are 4 deep. */
#define FAST_DEPTH_MAX 32
/* 18 decimal digits always fit a json_int_t (long long). */
#define FAST_DIGITS_MAX 18

struct reader {
    const unsigned char *p, *end;
    int depth;
};

static json_t *read_value(struct reader *r);

static void skip_space(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/*
 * A string, r->p just past its opening quote. Sets *s and *n to its
 * value: a pointer into the input when it has no escape, else into *tmp
 * (malloc'ed, the caller frees it). -1 for anything jansson must judge.
 */
static int read_string(struct reader *r, char **tmp, const char **s, size_t *n)
{
    const unsigned char *start = r->p;
    int escaped = 0;
    while (r->p < r->end) {
        unsigned char c = *r->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1; /* a raw control character: invalid */
        if (c == '\\') {
            if (r->end - r->p < 2)
                return -1;
            escaped = 1;
            r->p += 2; /* the escape letter is checked below */
        } else if (c >= 0x80) {
            size_t k = stir_utf8_seq(r->p, (size_t)(r->end - r->p));
            if (k == 0)
                return -1;
            r->p += k;
        } else {
            r->p++;
        }
    }
    if (r->p >= r->end)
        return -1;
    size_t raw = (size_t)(r->p - start);
    r->p++; /* the closing quote */
    if (!escaped) {
        *s = (const char *)start;
        *n = raw;
        return 0;
    }
    char *out = malloc(raw ? raw : 1);
    if (!out)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < raw; i++) {
        if (start[i] != '\\') {
            out[o++] = (char)start[i];
            continue;
        }
        switch (start[++i]) { /* i < raw: a string never ends in a lone backslash */
        case '"':
            out[o++] = '"';
            break;
        case '\\':
            out[o++] = '\\';
            break;
        case '/':
            out[o++] = '/';
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        default: /* \u (surrogates, NUL) and invalid escapes: jansson's */
            free(out);
            return -1;
        }
    }
    *tmp = out;
    *s = out;
    *n = o;
    return 0;
}

static json_t *read_integer(struct reader *r)
{
    int neg = 0;
    if (*r->p == '-') {
        neg = 1;
        r->p++;
    }
    const unsigned char *start = r->p;
    long long v = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        if (r->p - start < FAST_DIGITS_MAX)
            v = v * 10 + (*r->p - '0');
        r->p++;
    }
    size_t digits = (size_t)(r->p - start);
    if (digits == 0 || digits > FAST_DIGITS_MAX || (digits > 1 && *start == '0'))
        return NULL;
    /* A fraction or an exponent makes a real: jansson's. */
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return NULL;
    return json_integer(neg ? -v : v);
}

static json_t *read_literal(struct reader *r, const char *word, size_t n, json_t *value)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return NULL;
    r->p += n;
    return value;
}

static json_t *read_object(struct reader *r)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return obj;
    }
    for (;;) {
        char *tmp = NULL;
        const char *key;
        size_t klen;
        skip_space(r);
        if (r->p >= r->end || *r->p != '"')
            goto fail;
        r->p++;
        if (read_string(r, &tmp, &key, &klen) != 0)
            goto fail;
        skip_space(r);
        json_t *v = NULL;
        if (r->p < r->end && *r->p == ':') {
            r->p++;
            v = read_value(r);
        }
        size_t before = json_object_size(obj);
        /* A key seen before replaces its value and leaves the size as it
         * was: a duplicate, which jansson refuses and words. */
        int bad = !v || json_object_setn_new_nocheck(obj, key, klen, v) != 0 ||
                  json_object_size(obj) != before + 1;
        free(tmp);
        if (bad)
            goto fail;
        skip_space(r);
        if (r->p >= r->end)
            goto fail;
        if (*r->p == '}') {
            r->p++;
            return obj;
        }
        if (*r->p++ != ',')
            goto fail;
    }
fail:
    json_decref(obj);
    return NULL;
}

static json_t *read_array(struct reader *r)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return arr;
    }
    for (;;) {
        json_t *v = read_value(r);
        if (!v || json_array_append_new(arr, v) != 0)
            goto fail;
        skip_space(r);
        if (r->p >= r->end)
            goto fail;
        if (*r->p == ']') {
            r->p++;
            return arr;
        }
        if (*r->p++ != ',')
            goto fail;
    }
fail:
    json_decref(arr);
    return NULL;
}

static json_t *read_value(struct reader *r)
{
    skip_space(r);
    if (r->p >= r->end)
        return NULL;
    switch (*r->p) {
    case '{':
    case '[': {
        if (r->depth >= FAST_DEPTH_MAX)
            return NULL;
        int open = *r->p++;
        r->depth++;
        json_t *v = open == '{' ? read_object(r) : read_array(r);
        r->depth--;
        return v;
    }
    case '"': {
        char *tmp = NULL;
        const char *s;
        size_t n;
        r->p++;
        if (read_string(r, &tmp, &s, &n) != 0)
            return NULL;
        json_t *v = json_stringn_nocheck(s, n);
        free(tmp);
        return v;
    }
    case 't':
        return read_literal(r, "true", 4, json_true());
    case 'f':
        return read_literal(r, "false", 5, json_false());
    case 'n':
        return read_literal(r, "null", 4, json_null());
    default:
        return *r->p == '-' || (*r->p >= '0' && *r->p <= '9') ? read_integer(r) : NULL;
    }
}

json_t *sti_json_load_fast(const char *buf, size_t len)
{
    struct reader r = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0};
    skip_space(&r);
    /* Without JSON_DECODE_ANY jansson wants an object or an array. */
    if (r.p >= r.end || (*r.p != '{' && *r.p != '['))
        return NULL;
    json_t *v = read_value(&r);
    skip_space(&r);
    if (v && r.p != r.end) {
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *stir_json_load(const char *buf, size_t len, json_error_t *err)
{
    json_t *v = sti_json_load_fast(buf, len);
    return v ? v : json_loadb(buf, len, JSON_REJECT_DUPLICATES, err);
}

/* ---- writing ------------------------------------------------------------- */

int stir_jbuf_reserve(stir_jbuf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void stir_jbuf_raw(stir_jbuf *b, const char *s, size_t n)
{
    if (stir_jbuf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Bytes that a JSON string cannot hold as they are (", \, controls), and
 * those that start a UTF-8 sequence to check: the rest are copied in runs. */
static int special(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

/* The controls with a two-byte escape (\n, \t...); the others take six bytes. */
static const char SHORT_ESCAPE[0x20] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};

/*
 * `s` as a quoted JSON string (RFC 8259 7): ", \ and the controls escaped,
 * with the short forms where they exist and `hex` for the digits of the
 * others; other UTF-8 as is. A byte that is not UTF-8 becomes '?', or,
 * when `strict`, fails the buffer.
 */
static void put_string(stir_jbuf *b, const char *s, size_t n, const char hex[16], int strict)
{
    /* Room for the text as it is; the first escape makes room for the
     * worst case of the rest (6 bytes per byte: "\u001f"). So a string
     * without escapes costs no large allocation (and the malloc arena no
     * consolidation). */
    if (stir_jbuf_reserve(b, n + 2))
        return;
    char *o = b->data + b->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    int room_for_worst = 0;
    *o++ = '"';
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && !special(*p))
            p++;
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p == end)
            break;
        if (!room_for_worst) {
            b->len = (size_t)(o - b->data);
            if (stir_jbuf_reserve(b, 6 * (size_t)(end - p) + 1))
                return;
            o = b->data + b->len;
            room_for_worst = 1;
        }
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t k = stir_utf8_seq(p, (size_t)(end - p));
            if (k == 0 && strict) {
                b->failed = 1;
                return;
            }
            if (k == 0) { /* not UTF-8: as stir_utf8_repair does */
                *o++ = '?';
                p++;
            } else {
                memcpy(o, p, k);
                o += k;
                p += k;
            }
            continue;
        }
        *o++ = '\\';
        if (c == '"' || c == '\\') {
            *o++ = (char)c;
        } else if (SHORT_ESCAPE[c]) {
            *o++ = SHORT_ESCAPE[c];
        } else {
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
        p++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

void stir_jbuf_string(stir_jbuf *b, const char *s, size_t n)
{
    put_string(b, s, n, "0123456789abcdef", 0);
}

void stir_jbuf_int(stir_jbuf *b, long long v)
{
    char digits[24], *e = digits + sizeof digits, *d = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--d = '-';
    stir_jbuf_raw(b, d, (size_t)(e - d));
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    stir_jbuf *b = data;
    stir_jbuf_raw(b, buf, size);
    return b->failed ? -1 : 0;
}

void stir_jbuf_json(stir_jbuf *b, const json_t *v)
{
    if (b->failed)
        return;
    if (!v || json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY))
        b->failed = 1;
}

char *stir_jbuf_finish(stir_jbuf *b, size_t *len)
{
    if (b->failed || stir_jbuf_reserve(b, 0)) {
        free(b->data);
        memset(b, 0, sizeof *b);
        return NULL;
    }
    char *out = b->data;
    out[b->len] = '\0';
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return out;
}

/* ---- the canonical form --------------------------------------------------- */

#define WRITE_DEPTH_MAX 64
#define SORT_ON_STACK 32

/* jansson writes \u00XX in upper case; the canonical form is its. */
static const char UPPER_HEX[16] = "0123456789ABCDEF";

struct canon {
    stir_jbuf b;
    int handoff; /* a value json_dumps must write */
};

struct member {
    const char *key;
    size_t len;
    json_t *value;
};

static int member_order(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void put_value(struct canon *w, const json_t *v, int depth);

static void put_object(struct canon *w, const json_t *obj, int depth)
{
    struct member on_stack[SORT_ON_STACK], *m = on_stack;
    size_t n = json_object_size(obj), i = 0;
    if (n > SORT_ON_STACK && !(m = malloc(n * sizeof *m))) {
        w->b.failed = 1;
        return;
    }
    for (void *it = json_object_iter((json_t *)obj); it && i < n;
         it = json_object_iter_next((json_t *)obj, it), i++) {
        m[i].key = json_object_iter_key(it);
        m[i].len = json_object_iter_key_len(it);
        m[i].value = json_object_iter_value(it);
        if (memchr(m[i].key, 0, m[i].len))
            w->handoff = 1;
    }
    assert(i == n);
    qsort(m, n, sizeof *m, member_order);
    stir_jbuf_raw(&w->b, "{", 1);
    for (i = 0; i < n && !w->b.failed && !w->handoff; i++) {
        if (i)
            stir_jbuf_raw(&w->b, ",", 1);
        put_string(&w->b, m[i].key, m[i].len, UPPER_HEX, 1);
        stir_jbuf_raw(&w->b, ":", 1);
        put_value(w, m[i].value, depth + 1);
    }
    stir_jbuf_raw(&w->b, "}", 1);
    if (m != on_stack)
        free(m);
}

static void put_value(struct canon *w, const json_t *v, int depth)
{
    if (depth > WRITE_DEPTH_MAX) {
        w->handoff = 1;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(w, v, depth);
        break;
    case JSON_ARRAY:
        stir_jbuf_raw(&w->b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && !w->b.failed && !w->handoff; i++) {
            if (i)
                stir_jbuf_raw(&w->b, ",", 1);
            put_value(w, json_array_get(v, i), depth + 1);
        }
        stir_jbuf_raw(&w->b, "]", 1);
        break;
    case JSON_STRING:
        put_string(&w->b, json_string_value(v), json_string_length(v), UPPER_HEX, 1);
        break;
    case JSON_INTEGER:
        stir_jbuf_int(&w->b, json_integer_value(v));
        break;
    case JSON_TRUE:
        stir_jbuf_raw(&w->b, "true", 4);
        break;
    case JSON_FALSE:
        stir_jbuf_raw(&w->b, "false", 5);
        break;
    case JSON_NULL:
        stir_jbuf_raw(&w->b, "null", 4);
        break;
    default:
        w->handoff = 1; /* a real: jansson's %.17g rules */
    }
}

char *stir_json_canonical(const json_t *v, size_t *len)
{
    struct canon w = {{0}, 0};
    if (!v)
        return NULL;
    put_value(&w, v, 0);
    if (w.handoff || w.b.failed) {
        /* RFC 8225 9: sorted keys, no whitespace; without JSON_ENSURE_ASCII
         * non-ASCII text stays raw UTF-8. json_dumps also fails where the
         * writer failed on invalid UTF-8, so its answer is the answer. */
        free(w.b.data);
        char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (s && len)
            *len = strlen(s);
        return s;
    }
    return stir_jbuf_finish(&w.b, len);
}
