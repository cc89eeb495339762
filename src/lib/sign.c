/*
 * The authentication service: an Ms API signing request in, an Identity
 * header value out (RFC 8224 6.1, RFC 8225, RFC 8588).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "internal.h"
#include "stir/cert.h"
#include "stir/identity.h"
#include "stir/jws.h"
#include "stir/msapi.h"
#include "stir/rcd.h"
#include "stir/sign.h"
#include "stir/tn.h"

#define DEST_MAX 10

/* The JWS header of a type: constant for a signer, so encoded once. */
struct type_header {
    const stir_ppt_type *type;
    char *b64;
};

/* The TNs one signing identity is configured for: "1215555*" (prefix),
 * "12155550000-12155559999" (inclusive, same length) or one TN. */
struct tn_range {
    char first[16], last[16];
    int prefix;
};

/* One key + chain + x5u. */
struct identity {
    char name[STIR_SIGNER_NAME_MAX + 1];
    EVP_PKEY *key;
    stir_cert *cert;
    char *x5u;
    size_t n_headers;
    struct type_header *headers;
    size_t n_ranges; /* 0: every TN its TNAuthList covers */
    struct tn_range ranges[STIR_SIGNER_RANGES_MAX];
};

struct stir_signer {
    const stir_ctx *ctx;
    long freshness_s;
    int ident_flags; /* STIR_IDENT_REQUIRE_USER_PHONE or 0 */
    stir_rcd *rcd;
    size_t n_ids;
    struct identity ids[STIR_SIGNER_MAX]; /* tried in this order */
};

static json_t *header_json(const struct identity *id, const stir_ppt_type *t)
{
    return json_pack("{ss ss ss ss}", "alg", "ES256", "ppt", t->name, "typ", "passport", "x5u",
                     id->x5u);
}

/* Encode the header of every type registered now (at start-up). */
static int encode_headers(struct identity *id, const stir_ctx *ctx)
{
    size_t n = sti_ppt_count(ctx);
    if (!(id->headers = calloc(n, sizeof *id->headers)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const stir_ppt_type *t = sti_ppt_at(ctx, i);
        if (!t->name[0])
            continue; /* baseline: not signed through the API */
        json_t *h = header_json(id, t);
        char *b64 = h ? stir_jws_encode_part(h) : NULL;
        json_decref(h);
        if (!b64)
            return -1;
        id->headers[id->n_headers++] = (struct type_header){t, b64};
    }
    return 0;
}

/* The encoded header of `t`, or NULL for a type registered after start-up. */
static const char *encoded_header(const struct identity *id, const stir_ppt_type *t)
{
    for (size_t i = 0; i < id->n_headers; i++)
        if (id->headers[i].type == t)
            return id->headers[i].b64;
    return NULL;
}

static EVP_PKEY *load_key(const stir_signer_config *cfg, stir_error *err)
{
    const char *path = cfg->key_path;
    if (sti_pkcs11_is_uri(path))
        return sti_pkcs11_load_key(path, cfg->pkcs11_module, cfg->pkcs11_pin, err);
    FILE *f = fopen(path, "r");
    if (!f) {
        stir_fail(err, STIR_ERR_INTERNAL, "key", "cannot open signing key %s: %m", path);
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        stir_fail(err, STIR_ERR_INTERNAL, "key", "%s holds no PEM private key", path);
    return k;
}

static int all_digits(const char *p, size_t n)
{
    if (n == 0 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

static int parse_range(const char *text, struct tn_range *r, stir_error *err)
{
    size_t n = strlen(text);
    const char *dash = strchr(text, '-');
    memset(r, 0, sizeof *r);
    if (n > 0 && text[n - 1] == '*' && all_digits(text, n - 1)) {
        memcpy(r->first, text, n - 1);
        r->prefix = 1;
        return 0;
    }
    if (dash) {
        size_t a = (size_t)(dash - text), b = n - a - 1;
        if (all_digits(text, a) && all_digits(dash + 1, b) && a == b &&
            memcmp(text, dash + 1, a) <= 0) {
            memcpy(r->first, text, a);
            memcpy(r->last, dash + 1, b);
            return 0;
        }
    } else if (all_digits(text, n)) {
        memcpy(r->first, text, n);
        memcpy(r->last, text, n);
        return 0;
    }
    return stir_fail(err, STIR_ERR_INTERNAL, "tn",
                     "TN range \"%.40s\" is not PREFIX* "
                     "(1215555*), FIRST-LAST of equal length (12155550000-12155559999) or one "
                     "TN, all canonical digits (at most 15)",
                     text);
}

int stir_tn_range_check(const char *text, stir_error *err)
{
    struct tn_range r;
    return parse_range(text, &r, err);
}

static int range_covers(const struct tn_range *r, const char *tn)
{
    size_t fl = strlen(r->first);
    if (r->prefix)
        return strncmp(tn, r->first, fl) == 0;
    return strlen(tn) == fl && strcmp(tn, r->first) >= 0 && strcmp(tn, r->last) <= 0;
}

/* Fill identity `id` from cfg: key, chain, x5u, name, TN ranges. */
static int identity_init(struct identity *id, const stir_ctx *ctx, const stir_signer_config *cfg,
                         stir_error *err)
{
    const char *name = cfg->name && cfg->name[0] ? cfg->name : "default";
    if (!cfg->key_path || !cfg->cert_path || !cfg->x5u || !cfg->x5u[0])
        return stir_fail(err, STIR_ERR_INTERNAL, NULL,
                         "signer \"%.32s\" needs a key, a "
                         "certificate and an x5u URL",
                         name);
    if (strlen(name) > STIR_SIGNER_NAME_MAX)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL,
                         "signer name \"%.40s\" is longer than "
                         "%d characters",
                         name, STIR_SIGNER_NAME_MAX);
    snprintf(id->name, sizeof id->name, "%s", name);
    if (cfg->n_tn_ranges > STIR_SIGNER_RANGES_MAX)
        return stir_fail(err, STIR_ERR_INTERNAL, "tn", "signer \"%s\": at most %d TN ranges", name,
                         STIR_SIGNER_RANGES_MAX);
    for (size_t i = 0; i < cfg->n_tn_ranges; i++) {
        int rc = parse_range(cfg->tn_ranges[i], &id->ranges[i], err);
        if (rc)
            return rc;
    }
    id->n_ranges = cfg->n_tn_ranges;
    if (!(id->key = load_key(cfg, err)))
        return STIR_ERR_INTERNAL;
    if (!stir_key_is_p256(id->key))
        return stir_fail(err, STIR_ERR_INTERNAL, "key",
                         "signing key %s is not an EC P-256 "
                         "key (ES256 needs P-256)",
                         cfg->key_path);
    if (!(id->cert = stir_cert_load(cfg->cert_path, err)))
        return STIR_ERR_INTERNAL;
    if (!stir_cert_matches_key(id->cert, id->key))
        return stir_fail(err, STIR_ERR_INTERNAL, "cert",
                         "the certificate %s does not belong "
                         "to the signing key %s: verifiers would reject every signature",
                         cfg->cert_path, cfg->key_path);
    stir_error jerr;
    if (stir_cert_jcc_status(id->cert, &jerr))
        /* Its constraints cannot be honoured, and verifiers refuse it (437). */
        return stir_fail(err, STIR_ERR_INTERNAL, "cert",
                         "%s: %s; verifiers would refuse "
                         "every PASSporT it signs (437)",
                         cfg->cert_path, jerr.detail);
    if (!(id->x5u = strdup(cfg->x5u)) || encode_headers(id, ctx) != 0)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    return 0;
}

static void identity_clear(struct identity *id)
{
    EVP_PKEY_free(id->key);
    if (id->cert)
        stir_cert_unref(id->cert);
    free(id->x5u);
    for (size_t i = 0; i < id->n_headers; i++)
        free(id->headers[i].b64);
    free(id->headers);
    memset(id, 0, sizeof *id);
}

stir_signer *stir_signer_new(stir_ctx *ctx, const stir_signer_config *cfg, stir_error *err)
{
    if (!ctx) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "signer needs a context");
        return NULL;
    }
    stir_signer *s = calloc(1, sizeof *s);
    if (!s) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    s->ctx = ctx;
    s->freshness_s = cfg->freshness_s > 0 ? cfg->freshness_s : 60;
    s->rcd = cfg->rcd;
    s->ident_flags = cfg->require_user_phone ? STIR_IDENT_REQUIRE_USER_PHONE : 0;
    if (stir_signer_add(s, cfg, err)) {
        stir_signer_free(s);
        return NULL;
    }
    return s;
}

int stir_signer_add(stir_signer *s, const stir_signer_config *cfg, stir_error *err)
{
    const char *name = cfg->name && cfg->name[0] ? cfg->name : "default";
    if (s->n_ids == STIR_SIGNER_MAX)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "at most %d signers", STIR_SIGNER_MAX);
    if (stir_signer_has(s, name))
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "two signers are named \"%.32s\"", name);
    struct identity *id = &s->ids[s->n_ids];
    int rc = identity_init(id, s->ctx, cfg, err);
    if (rc) {
        identity_clear(id);
        return rc;
    }
    s->n_ids++;
    return 0;
}

int stir_signer_has(const stir_signer *s, const char *name)
{
    for (size_t i = 0; i < s->n_ids; i++)
        if (strcmp(s->ids[i].name, name) == 0)
            return 1;
    return 0;
}

void stir_signer_free(stir_signer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_ids; i++)
        identity_clear(&s->ids[i]);
    free(s);
}

const char *stir_signer_x5u(const stir_signer *s)
{
    for (size_t i = 0; i < s->n_ids; i++)
        if (strcmp(s->ids[i].name, "default") == 0)
            return s->ids[i].x5u;
    return s->ids[0].x5u;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sort and de-duplicate an array of strings (RFC 8225 5.2.1: lexicographic). */
static json_t *sorted_unique(json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t *v[DEST_MAX];
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof v[0], cmp_str);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(json_string_value(v[i]), json_string_value(v[i - 1])))
            json_array_append(out, v[i]);
    return out;
}

/* Add one canonical identity to the tn/uri arrays of a dest claim. */
static int dest_add(json_t *tns, json_t *uris, const stir_ident *id, const char *field,
                    stir_error *err)
{
    if (json_array_size(tns) + json_array_size(uris) >= DEST_MAX)
        return stir_fail(err, STIR_ERR_INPUT, field, "dest has more than %d identities", DEST_MAX);
    json_array_append_new(id->is_tn ? tns : uris, json_string(id->value));
    return 0;
}

/* dest values: a string or an array of strings, under "tn" or "uri". */
static int dest_members(const json_t *v, int is_tn, int flags, json_t *tns, json_t *uris,
                        const char *field, stir_error *err)
{
    char f[STIR_FIELD_MAX];
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (json_is_array(v) && n == 0)
        return stir_fail(err, STIR_ERR_INPUT, field, "is an empty array");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        snprintf(f, sizeof f, json_is_array(v) ? "%s[%zu]" : "%s", field, i);
        if (!json_is_string(e))
            return stir_fail(err, STIR_ERR_INPUT, f, "must be a string");
        stir_ident id = {0};
        int rc = is_tn ? (id.is_tn = 1, stir_tn_canon(json_string_value(e), id.value, f, err))
                       : stir_ident_from_uri_ex(json_string_value(e), &id, flags, f, err);
        if (rc || (rc = dest_add(tns, uris, &id, field, err)))
            return rc;
    }
    return 0;
}

/*
 * Build the dest claim from {"tn": [...], "uri": [...]} (the PASSporT shape
 * the vendors send) or from an array of identity objects (the wording of
 * Table V.2.5.2-1).
 */
static json_t *build_dest(const json_t *v, int flags, stir_error *err)
{
    json_t *tns = json_array(), *uris = json_array(), *out = NULL;
    int rc = 0;
    if (json_is_object(v)) {
        const json_t *tn = json_object_get(v, "tn"), *uri = json_object_get(v, "uri");
        if (!tn && !uri)
            rc = stir_fail(err, STIR_ERR_INPUT, "dest", "has neither tn nor uri");
        if (!rc && tn)
            rc = dest_members(tn, 1, flags, tns, uris, "dest.tn", err);
        if (!rc && uri)
            rc = dest_members(uri, 0, flags, tns, uris, "dest.uri", err);
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        char f[STIR_FIELD_MAX];
        for (size_t i = 0; !rc && i < json_array_size(v); i++) {
            stir_ident id;
            snprintf(f, sizeof f, "dest[%zu]", i);
            rc = stir_ident_from_json_ex(json_array_get(v, i), &id, flags, f, err);
            if (!rc)
                rc = dest_add(tns, uris, &id, "dest", err);
        }
    } else {
        rc = stir_fail(err, STIR_ERR_INPUT, "dest",
                       "must be an object {\"tn\": [...]} or {\"uri\": [...]}");
    }
    if (!rc) {
        out = json_object();
        if (json_array_size(tns))
            json_object_set_new(out, "tn", sorted_unique(tns));
        if (json_array_size(uris))
            json_object_set_new(out, "uri", sorted_unique(uris));
    }
    json_decref(tns);
    json_decref(uris);
    return out;
}

static json_t *build_orig(const json_t *v, int flags, stir_error *err)
{
    stir_ident id;
    if (stir_ident_from_json_ex(v, &id, flags, "orig", err))
        return NULL;
    return json_pack("{ss}", id.is_tn ? "tn" : "uri", id.value);
}

static int check_iat(const json_t *v, time_t now, long window, stir_error *err)
{
    if (!json_is_integer(v))
        return stir_fail(err, STIR_ERR_INPUT, "iat", "must be an integer NumericDate");
    json_int_t iat = json_integer_value(v);
    if (iat <= 0)
        return stir_fail(err, STIR_ERR_INPUT, "iat", "must be positive");
    long long d = (long long)iat - (long long)now;
    if (d > window || -d > window)
        return stir_fail(err, STIR_ERR_INPUT, "iat",
                         "iat %lld is %lld s %s the server clock (%lld); at most %ld s "
                         "is accepted, since no verifier would accept it",
                         (long long)iat, d < 0 ? -d : d, d < 0 ? "behind" : "ahead of",
                         (long long)now, window);
    return 0;
}

/* Add the type's own claims: built from the request, or a default, or fail. */
static int add_type_claims(const stir_ppt_type *t, const json_t *req, json_t *claims,
                           stir_error *err)
{
    for (size_t i = 0; i < t->n_claims; i++) {
        const stir_claim_spec *c = &t->claims[i];
        json_t *v = json_object_get(req, c->name);
        if (v) {
            json_t *built = c->build ? c->build(v, c->name, err) : json_incref(v);
            if (!built)
                return err && err->code ? err->code : STIR_ERR_INPUT;
            int rc = sti_claim_check(c, built, STIR_ERR_INPUT, err);
            if (rc) {
                json_decref(built);
                return rc;
            }
            json_object_set_new(claims, c->name, built);
        } else if (c->make_default) {
            json_object_set_new(claims, c->name, c->make_default());
        } else if (c->required) {
            return stir_fail_missing(err, c->name, "missing %s, required for ppt \"%s\"", c->name,
                                     t->name);
        }
    }
    return t->check_claims ? t->check_claims(claims, STIR_ERR_INPUT, err) : 0;
}

/* Why identity `id` may not sign for `tn` (canonical digits; NULL for a
 * URI identity), or NULL when it may: its configured TN ranges (if any)
 * must hold the TN and its certificate's TNAuthList cover it (a URI: only
 * identities without ranges; a certificate without TNAuthList is not
 * checked here). */
static const char *identity_miss(const struct identity *id, const char *tn)
{
    int in_range = id->n_ranges == 0;
    for (size_t r = 0; tn && r < id->n_ranges && !in_range; r++)
        in_range = range_covers(&id->ranges[r], tn);
    const stir_tnauth *ta = stir_cert_tnauth(id->cert);
    return !in_range                                 ? "not in its tn ranges"
           : tn && ta && !stir_tnauth_covers(ta, tn) ? "not in its TNAuthList"
                                                     : NULL;
}

static int name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

/*
 * RFC 8224 6.1 step 1: sign only identities the credential covers. The
 * identity is orig, or the diverting one for div (RFC 8946 3). A signing
 * identity is a candidate when identity_miss finds nothing. `only` (n_only
 * signer names) restricts them, NULL for all. Fills cand[] in
 * configuration order; 0 candidates is a 400 naming the identity.
 */
static size_t candidates(const stir_signer *s, const char *const *only, size_t n_only,
                         const stir_ppt_type *t, const json_t *claims, size_t cand[STIR_SIGNER_MAX],
                         stir_error *err)
{
    const char *who = sti_ppt_scope_claim(t);
    const char *tn = json_string_value(json_object_get(json_object_get(claims, who), "tn"));
    char why[600] = "";
    size_t n = 0, wl = 0, known = 0;
    for (size_t i = 0; i < s->n_ids; i++) {
        const struct identity *id = &s->ids[i];
        if (only && !name_in(id->name, only, n_only))
            continue;
        known++;
        const char *miss = identity_miss(id, tn);
        if (!miss) {
            cand[n++] = i;
            continue;
        }
        if (wl < sizeof why) {
            int w = snprintf(why + wl, sizeof why - wl, "%s%s: %s", wl ? "; " : "", id->name, miss);
            wl += w > 0 ? (size_t)w : 0;
        }
    }
    if (n)
        return n;
    char field[16];
    snprintf(field, sizeof field, "%s.%s", who, tn ? "tn" : "uri");
    if (only && !known)
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "no signer named \"%.32s\"", n_only ? only[0] : "");
    else if (s->n_ids == 1 && tn)
        stir_fail(err, STIR_ERR_INPUT, field,
                  "the signing certificate's TNAuthList does not "
                  "cover %s tn %s, so this server may not sign for it (RFC 8224 6.1%s)",
                  who, tn, t->scope == STIR_SCOPE_DIV ? ", RFC 8946 3" : "");
    else
        stir_fail(err, STIR_ERR_INPUT, field,
                  "no signing identity of this server may sign for "
                  "%s %s (RFC 8224 6.1%s): %s",
                  who, tn ? tn : "uri", t->scope == STIR_SCOPE_DIV ? ", RFC 8946 3" : "", why);
    return 0;
}

/* RFC 9795 4 mode 2: rcd that links content carries rcdi digests of it. */
static int add_rcdi(const stir_signer *s, json_t *claims, int flags, stir_error *err)
{
    const json_t *rcd = json_object_get(claims, "rcd");
    json_t *rcdi = NULL;
    if (!rcd)
        return 0;
    if (!s->rcd)
        return stir_fail(err, STIR_ERR_INTERNAL, "rcd",
                         "signer has no RCD fetcher "
                         "(stir_signer_config.rcd)");
    int rc = stir_rcdi_compute(s->rcd, rcd, json_object_get(claims, "rcdi"), flags, &rcdi, err);
    if (rc)
        return rc;
    if (rcdi)
        json_object_set_new(claims, "rcdi", rcdi);
    else
        json_object_del(claims, "rcdi");
    return 0;
}

int stir_sign_request_ppt(const json_t *req, const char **ppt, stir_error *err)
{
    return stir_ms_sign_ppt(req, ppt, err);
}

char *stir_sign_request(stir_signer *s, const json_t *req, time_t now, stir_error *err)
{
    return stir_sign_request_as(s, NULL, req, now, 0, err);
}

char *stir_sign_request_ex(stir_signer *s, const json_t *req, time_t now, int flags,
                           stir_error *err)
{
    return stir_sign_request_as(s, NULL, req, now, flags, err);
}

char *stir_sign_request_as(stir_signer *s, const char *signer, const json_t *req, time_t now,
                           int flags, stir_error *err)
{
    return stir_sign_request_among(s, signer ? &signer : NULL, signer ? 1 : 0, req, now, flags,
                                   err);
}

int stir_signer_covers(const stir_signer *s, const char *name, const json_t *req, const char *ppt)
{
    const stir_ppt_type *t;
    stir_ident ident;
    stir_error e;
    if (!json_is_object(req) || (!ppt && stir_sign_request_ppt(req, &ppt, &e)) ||
        !(t = stir_ppt_find(s->ctx, ppt)) || !t->name[0])
        return -1;
    const char *who = sti_ppt_scope_claim(t);
    if (stir_ident_from_json_ex(json_object_get(req, who), &ident, s->ident_flags, who, &e))
        return -1;
    for (size_t i = 0; i < s->n_ids; i++)
        if (strcmp(s->ids[i].name, name) == 0)
            return identity_miss(&s->ids[i], ident.is_tn ? ident.value : NULL) == NULL;
    return 0;
}

char *stir_sign_request_among(stir_signer *s, const char *const *signers, size_t n_signers,
                              const json_t *req, time_t now, int flags, stir_error *err)
{
    stir_ms_sign_request mr;
    if (stir_ms_parse_sign(req, NULL, NULL, &mr, err))
        return NULL;
    return stir_sign(s, signers, n_signers, &mr, now, flags, err);
}

char *stir_sign(stir_signer *s, const char *const *signers, size_t n_signers,
                const stir_ms_sign_request *mr, time_t now, int flags, stir_error *err)
{
    const json_t *req = mr->members;
    const stir_ppt_type *t = stir_ppt_find(s->ctx, mr->ppt);
    if (!t || !t->name[0]) {
        stir_fail(err, STIR_ERR_INPUT, "ppt", "unsupported ppt \"%.32s\"; supported: %s", mr->ppt,
                  stir_ppt_names(s->ctx));
        return NULL;
    }
    if (sti_ms_sign_require(req, err) ||
        check_iat(json_object_get(req, "iat"), now, s->freshness_s, err))
        return NULL;

    char *token = NULL, *out = NULL;
    json_t *claims = json_object(), *header = NULL;
    json_t *orig = build_orig(json_object_get(req, "orig"), s->ident_flags, err);
    json_t *dest = orig ? build_dest(json_object_get(req, "dest"), s->ident_flags, err) : NULL;
    if (!orig || !dest)
        goto done;
    json_object_set_new(claims, "orig", orig);
    json_object_set_new(claims, "dest", dest);
    orig = dest = NULL;
    json_object_set(claims, "iat", json_object_get(req, "iat"));
    size_t cand[STIR_SIGNER_MAX], n_cand;
    if (add_type_claims(t, req, claims, err) ||
        !(n_cand = candidates(s, signers, n_signers, t, claims, cand, err)))
        goto done;
    if (sti_ppt_has_claim(t, "rcdi") && add_rcdi(s, claims, flags, err))
        goto done;
    /* Never sign what our own certificate forbids: every verifier would
     * refuse it (RFC 8226 8, RFC 9118 3, RFC 9795 8.1). The first
     * candidate whose constraints allow the claims signs; if none does,
     * the first one's reason is the answer. */
    const struct identity *id = NULL;
    for (size_t i = 0; i < n_cand && !id; i++) {
        stir_error jerr;
        if (!stir_jcc_check(stir_cert_jcc(s->ids[cand[i]].cert), claims, STIR_ERR_INPUT,
                            i == 0 ? err : &jerr))
            id = &s->ids[cand[i]];
    }
    if (!id)
        goto done;
    if (err)
        memset(err, 0, sizeof *err); /* a refusal by an earlier candidate */

    const char *encoded = encoded_header(id, t);
    if (encoded) {
        token = stir_jws_sign_encoded(id->key, encoded, claims, err);
    } else if ((header = header_json(id, t))) {
        token = stir_jws_sign(id->key, header, claims, err);
    } else {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    }
    if (!token)
        goto done;
    if (!(out = stir_identity_format(token, id->x5u, t->name)))
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
done:
    json_decref(orig);
    json_decref(dest);
    json_decref(claims);
    json_decref(header);
    free(token);
    return out;
}
