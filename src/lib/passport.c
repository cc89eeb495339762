/*
 * Received PASSporTs. The signing input is kept exactly as received so
 * the signature is checked over those bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "stir/encoding.h"
#include "stir/passport.h"

#define BAD(...) stir_fail(err, STIR_ERR_INVALID, NULL, __VA_ARGS__)

struct stir_passport {
    json_t *header;
    json_t *claims;
    char *token; /* as received */
    char *input; /* signing input "h.p" */
    size_t input_len;
    char *compact; /* "..s" */
    char *payload; /* the claims as the bytes that were signed (decoded) */
    size_t payload_len;
    unsigned char sig[STIR_ES256_SIG_LEN];
};

/* Decode one base64url part into a JSON object; with `keep`, hand over
 * the decoded bytes too (NUL-terminated). */
static json_t *decode_part(const char *b64, size_t n, const char *what, char **keep,
                           size_t *keep_len, stir_error *err)
{
    unsigned char *buf = malloc(n / 4 * 3 + 3);
    if (!buf) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    long len = stir_b64url_decode(b64, n, buf, n / 4 * 3 + 3);
    json_t *j = NULL;
    if (len < 0) {
        BAD("PASSporT %s is not valid base64url", what);
        goto out;
    }
    if (!stir_utf8_valid((const char *)buf, (size_t)len)) {
        BAD("PASSporT %s is not valid UTF-8", what);
        goto out;
    }
    json_error_t je;
    j = stir_json_load((const char *)buf, (size_t)len, &je);
    if (!j) {
        BAD("PASSporT %s is not valid JSON: %s", what, je.text);
        goto out;
    }
    if (!json_is_object(j)) {
        BAD("PASSporT %s is not a JSON object", what);
        json_decref(j);
        j = NULL;
    }
    if (j && keep) {
        buf[len] = '\0';
        *keep = (char *)buf;
        *keep_len = (size_t)len;
        return j;
    }
out:
    free(buf);
    return j;
}

static stir_passport *passport_new(const char *token, size_t len, stir_error *err)
{
    if (len > STIR_PASSPORT_MAX) {
        BAD("PASSporT is %zu bytes; at most %d accepted", len, STIR_PASSPORT_MAX);
        return NULL;
    }
    stir_passport *p = calloc(1, sizeof *p);
    if (!p || !(p->token = malloc(len + 1))) {
        free(p);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    memcpy(p->token, token, len);
    p->token[len] = '\0';
    return p;
}

/* Decode the signature part and make the compact form. */
static int set_signature(stir_passport *p, const char *s, size_t n, stir_error *err)
{
    unsigned char buf[STIR_ES256_SIG_LEN + 3];
    long len = stir_b64url_decode(s, n, buf, sizeof buf);
    if (len < 0)
        return BAD("PASSporT signature is not valid base64url");
    if (len != STIR_ES256_SIG_LEN)
        return BAD("PASSporT signature is %ld bytes; ES256 needs 64 (raw r||s)", len);
    memcpy(p->sig, buf, STIR_ES256_SIG_LEN);
    if (!(p->compact = malloc(n + 3)))
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    p->compact[0] = p->compact[1] = '.';
    memcpy(p->compact + 2, s, n);
    p->compact[n + 2] = '\0';
    return 0;
}

stir_passport *stir_passport_parse(const char *token, size_t len, stir_error *err)
{
    stir_passport *p = passport_new(token, len, err);
    if (!p)
        return NULL;
    const char *t = p->token;
    const char *d1 = memchr(t, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - t)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - t))) {
        BAD("PASSporT is not a JWS of three '.'-separated parts");
        goto fail;
    }
    if (d1 == t || d2 == d1 + 1) {
        BAD("PASSporT in compact form has no header/payload to check");
        goto fail;
    }
    if (!(p->header = decode_part(t, (size_t)(d1 - t), "header", NULL, NULL, err)))
        goto fail;
    if (!(p->claims = decode_part(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &p->payload,
                                  &p->payload_len, err)))
        goto fail;
    const json_t *typ = json_object_get(p->header, "typ");
    if (!json_is_string(typ) || strcmp(json_string_value(typ), "passport") != 0) {
        BAD("PASSporT header typ must be \"passport\" (RFC 8225 4.1)");
        goto fail;
    }
    if (set_signature(p, d2 + 1, len - (size_t)(d2 + 1 - t), err))
        goto fail;
    p->input = p->token; /* the signing input is the token's prefix */
    p->input_len = (size_t)(d2 - t);
    return p;
fail:
    stir_passport_free(p);
    return NULL;
}

stir_passport *stir_passport_from_compact(const char *token, size_t len, const json_t *header,
                                          const json_t *claims, stir_error *err)
{
    stir_passport *p = passport_new(token, len, err);
    if (!p)
        return NULL;
    if (len < 3 || token[0] != '.' || token[1] != '.') {
        BAD("compact PASSporT must be \"..\" followed by the signature");
        goto fail;
    }
    if (set_signature(p, token + 2, len - 2, err))
        goto fail;
    p->header = json_deep_copy(header);
    p->claims = json_deep_copy(claims);
    size_t hl, cl;
    char *h = stir_json_canonical(header, &hl), *c = stir_json_canonical(claims, &cl);
    if (!p->header || !p->claims || !h || !c ||
        !(p->input = malloc(STIR_B64URL_LEN(hl) + STIR_B64URL_LEN(cl) + 1))) {
        free(h);
        free(c);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        goto fail;
    }
    size_t o = stir_b64url_encode(h, hl, p->input);
    p->input[o++] = '.';
    o += stir_b64url_encode(c, cl, p->input + o);
    p->input_len = o;
    free(h);
    p->payload = c;
    p->payload_len = cl;
    return p;
fail:
    stir_passport_free(p);
    return NULL;
}

void stir_passport_free(stir_passport *p)
{
    if (!p)
        return;
    json_decref(p->header);
    json_decref(p->claims);
    if (p->input != p->token)
        free(p->input);
    free(p->token);
    free(p->compact);
    free(p->payload);
    free(p);
}

const char *stir_passport_payload(const stir_passport *p, size_t *len)
{
    *len = p->payload_len;
    return p->payload;
}

const json_t *stir_passport_header(const stir_passport *p)
{
    return p->header;
}
const json_t *stir_passport_claims(const stir_passport *p)
{
    return p->claims;
}

static const char *header_str(const stir_passport *p, const char *k)
{
    return json_string_value(json_object_get(p->header, k));
}

const char *stir_passport_alg(const stir_passport *p)
{
    return header_str(p, "alg");
}
const char *stir_passport_ppt(const stir_passport *p)
{
    return header_str(p, "ppt");
}
const char *stir_passport_x5u(const stir_passport *p)
{
    return header_str(p, "x5u");
}
const char *stir_passport_token(const stir_passport *p)
{
    return p->token;
}
const char *stir_passport_compact(const stir_passport *p)
{
    return p->compact;
}

int stir_passport_verify_sig(const stir_passport *p, EVP_PKEY *key)
{
    return stir_es256_verify(key, p->input, p->input_len, p->sig);
}
