/*
 * Rich Call Data digests (RFC 9795 6) and the signing side: JSON pointers
 * into the rcd claim, the links an rcd carries, the digest of what a
 * pointer designates, and stir_rcdi_compute.
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
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "stir/encoding.h"
#include "stir/rcd.h"
#include "fetchcache.h"
#include "internal.h"
#include "rcd_internal.h"

/* fetch.c words its reasons for x5u; the rest of the sentence fits us. */
const char *rcd_fetch_reason(const stir_error *e)
{
    const char *d = e->detail;
    return strncmp(d, "x5u ", 4) == 0 ? d + 4 : d;
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
                cur = NULL; /* RFC 6901 3: "~" only as ~0 or ~1 */
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
    const EVP_MD *md = sti_digest_md(alg);
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
    EVP_EncodeBlock((unsigned char *)out + n, h, (int)hl); /* padded, NUL-terminated */
    return 0;
}

/* ---- links and digests ------------------------------------------------------------- */

/* The deadline of the request under way on this thread
 * (stir_rcd_request_begin), 0 when none: its calls share one budget. */
static _Thread_local double request_deadline;

void stir_rcd_request_begin(const stir_rcd *r)
{
    const stir_rcd_config *cfg = r ? &r->cfg : rcd_builtin_config();
    request_deadline = fcache_now() + cfg->fetch_budget_ms / 1000.0;
}

void stir_rcd_request_end(void)
{
    request_deadline = 0;
}

int rcd_call_init(rcd_call *call, stir_rcd *r, const json_t *rcd, int flags, int verifying,
                  stir_error *err)
{
    memset(call, 0, sizeof *call);
    call->fetcher = r;
    call->cfg = r ? &r->cfg : rcd_builtin_config();
    call->flags = flags;
    call->rcd = rcd;
    if (!r)
        call->nofetch = "no rcd fetcher configured";
    else if (verifying && !r->cfg.verify_fetch)
        call->nofetch = "fetching disabled";
    call->deadline = fcache_now() + call->cfg->fetch_budget_ms / 1000.0;
    if (request_deadline > 0 && request_deadline < call->deadline)
        call->deadline = request_deadline;
    call->cap = call->cfg->max_links;
    call->links = calloc(call->cap + 1, sizeof *call->links);
    if (!call->links)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    return 0;
}

void rcd_call_free(rcd_call *call)
{
    json_decref(call->card);
    rcd_body_unref(call->jcl_body);
    free(call->links);
}

static void add_link(rcd_call *call, const char *ptr, const char *url)
{
    call->total++;
    if (call->nlinks < call->cap) {
        snprintf(call->links[call->nlinks].ptr, PTR_BUF, "%s", ptr);
        call->links[call->nlinks++].url = url;
    }
}

static void value_links(rcd_call *call, const json_t *v, const char *ptr, int depth)
{
    if (json_is_string(v)) {
        if (rcd_is_link_url(json_string_value(v)))
            add_link(call, ptr, json_string_value(v));
    } else if (json_is_array(v) && depth < 2) {
        for (size_t k = 0; k < json_array_size(v); k++) {
            char sub[PTR_BUF];
            if (snprintf(sub, sizeof sub, "%s/%zu", ptr, k) < (int)sizeof sub)
                value_links(call, json_array_get(v, k), sub, depth + 1);
        }
    }
}

/* The URIs among a jCard's property values, as "<base>/1/N/M" pointers. */
void rcd_card_links(rcd_call *call, const json_t *card, const char *base)
{
    const json_t *props = json_array_get(card, 1);
    for (size_t i = 0; i < json_array_size(props); i++) {
        const json_t *p = json_array_get(props, i);
        for (size_t k = 3; k < json_array_size(p); k++) {
            char ptr[PTR_BUF];
            if (snprintf(ptr, sizeof ptr, "%s/1/%zu/%zu", base, i, k) < (int)sizeof ptr)
                value_links(call, json_array_get(p, k), ptr, 0);
        }
    }
}

/* The links of the rcd claim itself: icn, the inline jCard's URIs, jcl. */
void rcd_claim_links(rcd_call *call)
{
    const json_t *icn = json_object_get(call->rcd, "icn"), *jcd = json_object_get(call->rcd, "jcd"),
                 *jcl = json_object_get(call->rcd, "jcl");
    if (json_is_string(icn) && rcd_is_link_url(json_string_value(icn)))
        add_link(call, "/icn", json_string_value(icn));
    if (jcd)
        rcd_card_links(call, jcd, "/jcd");
    if (json_is_string(jcl))
        add_link(call, "/jcl", json_string_value(jcl));
}

const rcd_link *rcd_link_find(const rcd_call *call, const char *ptr)
{
    for (size_t i = 0; i < call->nlinks; i++)
        if (strcmp(call->links[i].ptr, ptr) == 0)
            return &call->links[i];
    return NULL;
}

/* The request member a pointer belongs to, for signing errors. */
const char *rcd_member_of(const char *ptr)
{
    if (strncmp(ptr, "/icn", 4) == 0)
        return "rcd.icn";
    if (strncmp(ptr, "/jcd", 4) == 0)
        return "rcd.jcd";
    if (strncmp(ptr, "/jcl", 4) == 0)
        return "rcd.jcl";
    return "rcd";
}

static int content_digest(rcd_call *call, const char *url, const char *alg, char out[100],
                          stir_error *ferr)
{
    if (call->nofetch)
        return DIGEST_NOT_FETCHED;
    rcd_body *b;
    int rc = rcd_content_get(call->fetcher, url, call->flags, call->deadline, &b, ferr);
    if (rc == STIR_WOULD_BLOCK)
        return STIR_WOULD_BLOCK;
    if (rc)
        return DIGEST_FETCH_FAILED;
    rc = stir_rcd_digest(alg, b->data, b->len, out);
    rcd_body_unref(b);
    return rc ? DIGEST_NOMEM : DIGEST_OK;
}

/*
 * The digest with `alg` of what `ptr` designates: the content of a link
 * (the fetched bytes), else the JSON value's RFC 8225 9 serialization.
 * "/jcl/..." resolves into the fetched jCard, which must be loaded.
 */
int rcd_digest_at(rcd_call *call, const char *ptr, const char *alg, char out[100], stir_error *ferr)
{
    const rcd_link *l = rcd_link_find(call, ptr);
    if (l) {
        if (strcmp(ptr, "/jcl") == 0 && call->jcl_body)
            return stir_rcd_digest(alg, call->jcl_body->data, call->jcl_body->len, out)
                       ? DIGEST_NOMEM
                       : DIGEST_OK;
        return content_digest(call, l->url, alg, out, ferr);
    }
    const json_t *v;
    if (strncmp(ptr, "/jcl/", 5) == 0)
        v = call->card ? stir_json_pointer(call->card, ptr + 4) : NULL;
    else if (strcmp(ptr, "/jcl") == 0)
        v = NULL; /* always a link when the rcd has a jcl */
    else
        v = stir_json_pointer(call->rcd, ptr);
    if (!v)
        return DIGEST_UNRESOLVED;
    size_t n = 0;
    char *s = stir_json_canonical(v, &n);
    if (!s)
        return DIGEST_NOMEM;
    int rc = stir_rcd_digest(alg, s, n, out);
    free(s);
    return rc ? DIGEST_NOMEM : DIGEST_OK;
}

/* Fetch the jcl body into call->jcl_body. DIGEST_OK, STIR_WOULD_BLOCK, DIGEST_NOT_FETCHED or
 * DIGEST_FETCH_FAILED (ferr says why). */
int rcd_load_jcl(rcd_call *call, const char *url, stir_error *ferr)
{
    if (call->nofetch)
        return DIGEST_NOT_FETCHED;
    int rc =
        rcd_content_get(call->fetcher, url, call->flags, call->deadline, &call->jcl_body, ferr);
    if (rc == STIR_WOULD_BLOCK)
        return rc;
    return rc ? DIGEST_FETCH_FAILED : DIGEST_OK;
}

/* Parse call->jcl_body as the jCard (size, JSON, RFC 7095 shape) into call->card. */
int rcd_parse_card(rcd_call *call, char *why, size_t n)
{
    if (call->jcl_body->len > call->cfg->max_jcard_bytes) {
        snprintf(why, n, "the jCard is %zu bytes; at most %zu (max_jcard_bytes)",
                 call->jcl_body->len, call->cfg->max_jcard_bytes);
        return -1;
    }
    json_error_t je;
    call->card = json_loadb(call->jcl_body->data, call->jcl_body->len, JSON_REJECT_DUPLICATES, &je);
    if (!call->card) {
        snprintf(why, n, "the body is not JSON (RFC 9795 5.1.5): %.100s at line %d", je.text,
                 je.line);
        return -1;
    }
    char w[200];
    if (rcd_jcard_syntax(call->card, w, sizeof w)) {
        snprintf(why, n, "the body %s", w);
        return -1;
    }
    return 0;
}

/* The alg of an rcdi value ("sha384-..." -> "sha384"); checked before. */
const char *rcd_alg_of(const char *v, char buf[16])
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
size_t rcd_sorted_keys(const json_t *obj, const char **keys, size_t cap)
{
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)obj, k, v) {
        (void)v;
        if (n < cap)
            keys[n++] = k;
    }
    qsort(keys, n, sizeof *keys, str_cmp);
    return n;
}

/* ---- signing -------------------------------------------------------------------------- */

/* A signing-side digest failure as the 400 (or would-block) to return. */
static int compute_fail(const rcd_call *call, int d, const char *ptr, const stir_error *ferr,
                        stir_error *err)
{
    const rcd_link *l = rcd_link_find(call, ptr);
    const char *url = l ? l->url : "";
    switch (d) {
    case STIR_WOULD_BLOCK:
        return stir_fail(err, STIR_WOULD_BLOCK, rcd_member_of(ptr), "%s: %s", ptr, ferr->detail);
    case DIGEST_UNRESOLVED:
        return stir_fail(err, STIR_ERR_INPUT, "rcdi",
                         "rcdi %.60s does not resolve in the rcd "
                         "claim (RFC 9795 6, RFC 6901)",
                         ptr);
    case DIGEST_NOT_FETCHED:
        return stir_fail(err, STIR_ERR_INPUT, rcd_member_of(ptr),
                         "%s %.120s: linked content cannot be hashed: %s", ptr, url, call->nofetch);
    case DIGEST_FETCH_FAILED:
        return stir_fail(err, STIR_ERR_INPUT, rcd_member_of(ptr),
                         "%s %.120s: fetching it to compute its rcdi digest failed: %s", ptr, url,
                         rcd_fetch_reason(ferr));
    default:
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    }
}

int stir_rcdi_compute(stir_rcd *r, const json_t *rcd, const json_t *given, int flags, json_t **out,
                      stir_error *err)
{
    if (!out)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_rcdi_compute: NULL out");
    *out = NULL;
    rcd_call call;
    int rc = rcd_call_init(&call, r, rcd, flags, 0, err);
    if (rc)
        return rc;
    json_t *res = NULL;
    stir_error ferr;
    memset(&ferr, 0, sizeof ferr);
    char dig[100], why[240];
    size_t jmax = call.cfg->max_jcard_bytes < JCARD_CAP ? call.cfg->max_jcard_bytes : JCARD_CAP;
    if ((rc = rcd_claim_check(rcd, "rcd", STIR_ERR_INPUT, jmax, err)))
        goto done;
    if (given && (rc = stir_rcdi_check(given, "rcdi", STIR_ERR_INPUT, err)))
        goto done;

    rcd_claim_links(&call);
    if (call.total > call.cap) {
        rc = stir_fail(err, STIR_ERR_INPUT, "rcd",
                       "rcd links %zu URIs (icn, jcl and jCard "
                       "URIs); at most %zu (max_links)",
                       call.total, call.cap);
        goto done;
    }
    const json_t *jcl = json_object_get(rcd, "jcl");
    if (jcl) {
        const char *url = json_string_value(jcl);
        int d = rcd_load_jcl(&call, url, &ferr);
        if (d) {
            rc = compute_fail(&call, d, "/jcl", &ferr, err);
            goto done;
        }
        if (rcd_parse_card(&call, why, sizeof why)) {
            rc = stir_fail(err, STIR_ERR_INPUT, "rcd.jcl", "/jcl %.100s: %s", url, why);
            goto done;
        }
        rcd_card_links(&call, call.card, "/jcl");
        if (call.total > call.cap) {
            rc = stir_fail(err, STIR_ERR_INPUT, "rcd.jcl",
                           "rcd links %zu URIs with those of the jCard at %.100s; at most "
                           "%zu (max_links)",
                           call.total, url, call.cap);
            goto done;
        }
    }
    const json_t *jcd = json_object_get(rcd, "jcd");
    if (!jcd && call.nlinks == 0 && !given)
        goto done; /* mode 1 (RFC 9795 4): nothing for rcdi to protect */

    if (!(res = json_object())) {
        rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        goto done;
    }
    /* A given rcdi is checked, not trusted; its entries (and algorithms)
     * are kept, and what it lacks is added. */
    if (given) {
        const char *keys[RCDI_MAX_KEYS];
        size_t nk = rcd_sorted_keys(given, keys, RCDI_MAX_KEYS);
        for (size_t i = 0; i < nk; i++) {
            const char *gv = json_string_value(json_object_get(given, keys[i]));
            char ab[16];
            int d = rcd_digest_at(&call, keys[i], rcd_alg_of(gv, ab), dig, &ferr);
            if (d) {
                rc = compute_fail(&call, d, keys[i], &ferr, err);
                goto done;
            }
            if (!rcd_digest_equal(dig, gv)) {
                const rcd_link *l = rcd_link_find(&call, keys[i]);
                rc = stir_fail(err, STIR_ERR_INPUT, "rcdi",
                               "rcdi %.60s: the given digest %.100s does not match %s%.100s "
                               "(%s)",
                               keys[i], gv, l ? "the content of " : "the rcd value",
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
        int d = rcd_digest_at(&call, "/jcd", call.cfg->digest_alg, dig, &ferr);
        if (d) {
            rc = compute_fail(&call, d, "/jcd", &ferr, err);
            goto done;
        }
        if (json_object_set_new(res, "/jcd", json_string(dig)) != 0) {
            rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < call.nlinks; i++) {
        if (json_object_get(res, call.links[i].ptr))
            continue;
        int d = rcd_digest_at(&call, call.links[i].ptr, call.cfg->digest_alg, dig, &ferr);
        if (d) {
            rc = compute_fail(&call, d, call.links[i].ptr, &ferr, err);
            goto done;
        }
        if (json_object_set_new(res, call.links[i].ptr, json_string(dig)) != 0) {
            rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
            goto done;
        }
    }
    *out = res;
    res = NULL;
    rc = 0;
done:
    json_decref(res);
    rcd_call_free(&call);
    return rc;
}
