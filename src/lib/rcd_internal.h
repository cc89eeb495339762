/*
 * Private to the rcd_*.c files: what the claim checks (rcd_claims.c), the
 * content fetcher (rcd_content.c), the digests and signing side
 * (rcd_digest.c) and verification (rcd_verify.c) share.
 */
#ifndef STIR_RCD_INTERNAL_H
#define STIR_RCD_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "stir/error.h"
#include "stir/rcd.h"

/* inline jcd bound of the claim check, which has no configuration at hand */
#define JCARD_CAP 16384
#define RCDI_MAX_KEYS 64
#define PTR_BUF 48 /* "/jcl/1/123456/123456/123456" fits */
#define INVALID_TEXT "Invalid PASSporT"

/* ---- claim checks (rcd_claims.c) ---- */

/* stir_fail with the RFC 8224 phrase of 438 when code is STIR_ERR_INVALID. */
int rcd_fail(stir_error *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Content we fetch and hash: http(s) URIs. */
int rcd_is_link_url(const char *s);
/* ["vcard", [properties]] (RFC 7095 3.2); -1 with why otherwise. */
int rcd_jcard_syntax(const json_t *j, char *why, size_t n);
/* Digests equal up to '=' padding. */
int rcd_digest_equal(const char *a, const char *b);
/* The rcd claim check with an inline jCard bound of jcard_max bytes. */
int rcd_claim_check(const json_t *rcd, const char *name, int code, size_t jcard_max,
                    stir_error *err);

/* ---- fetched content (rcd_content.c) ---- */

/* A fetched body, shared by the cache and its readers. */
typedef struct rcd_body {
    atomic_long refs;
    size_t len;
    char data[]; /* len bytes, then a NUL */
} rcd_body;

struct stir_rcd {
    stir_rcd_config cfg; /* fetch strings are the cache's (unset here) */
    struct fcache *fc;   /* URL -> rcd_body */
};

rcd_body *rcd_body_ref(rcd_body *b);
void rcd_body_unref(rcd_body *b);
/* The body of url: cached, or fetched now (one download per URL at a time).
 * 0 with *out (a reference), STIR_WOULD_BLOCK with NOWAIT when it would
 * have to be fetched, else the fetch error (436, 500) in *ferr. */
int rcd_content_get(stir_rcd *r, const char *url, int flags, double deadline, rcd_body **out,
                    stir_error *ferr);
/* The default configuration, for calls without a stir_rcd. */
const stir_rcd_config *rcd_builtin_config(void);

/* ---- links and digests (rcd_digest.c) ---- */

typedef struct rcd_link {
    char ptr[PTR_BUF];
    const char *url; /* borrowed from the rcd or the fetched jCard */
} rcd_link;

/* The state of one compute or verify call. */
typedef struct rcd_call {
    stir_rcd *fetcher; /* NULL: nothing is fetched */
    const stir_rcd_config *cfg;
    int flags;
    const char *nofetch; /* why content is not fetched, NULL if it is */
    const json_t *rcd;
    json_t *card;       /* the jCard fetched from jcl (owned) */
    rcd_body *jcl_body; /* its bytes (a reference) */
    rcd_link *links;
    size_t nlinks, total, cap;
    double deadline; /* fcache_now() after which nothing is fetched */
} rcd_call;

/* What rcd_digest_at and rcd_load_jcl return besides STIR_WOULD_BLOCK. */
enum {
    DIGEST_OK = 0,
    DIGEST_UNRESOLVED = -1,   /* the pointer designates nothing */
    DIGEST_FETCH_FAILED = -2, /* ferr says why */
    DIGEST_NOT_FETCHED = -3,  /* call->nofetch says why */
    DIGEST_NOMEM = -4,
};

int rcd_call_init(rcd_call *call, stir_rcd *r, const json_t *rcd, int flags, int verifying,
                  stir_error *err);
void rcd_call_free(rcd_call *call);
/* The links of the rcd claim itself: icn, the inline jCard's URIs, jcl. */
void rcd_claim_links(rcd_call *call);
/* The URIs among a jCard's property values, as "<base>/1/N/M" pointers. */
void rcd_card_links(rcd_call *call, const json_t *card, const char *base);
const rcd_link *rcd_link_find(const rcd_call *call, const char *ptr);
/* The request member a pointer belongs to ("rcd.icn", "rcd.jcd", ...). */
const char *rcd_member_of(const char *ptr);
/* fetch.c words its reasons for x5u; the rest of the sentence fits us. */
const char *rcd_fetch_reason(const stir_error *e);
int rcd_digest_at(rcd_call *call, const char *ptr, const char *alg, char out[100],
                  stir_error *ferr);
int rcd_load_jcl(rcd_call *call, const char *url, stir_error *ferr);
int rcd_parse_card(rcd_call *call, char *why, size_t n);
const char *rcd_alg_of(const char *v, char buf[16]);
size_t rcd_sorted_keys(const json_t *obj, const char **keys, size_t cap);

#endif
