/*
 * The PASSporT type registry: each type is one table entry naming the
 * claims it adds to the baseline (orig, dest, iat) with their JSON types
 * and checks. Signing and verification read only this table.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stir/ppt.h"
#include "stir/rcd.h"
#include "stir/tn.h"
#include "stir/verify.h"

#include "internal.h"

static int check_attest(const json_t *v, const char *name, int code, stir_error *err)
{
    const char *s = json_string_value(v);
    if (strcmp(s, "A") && strcmp(s, "B") && strcmp(s, "C"))
        return stir_fail(err, code, name,
                         "attest \"%.16s\" must be \"A\", \"B\" or \"C\" "
                         "(RFC 8588 4)",
                         s);
    return 0;
}

/* RFC 4122 textual form: 8-4-4-4-12 hex digits. */
static int check_uuid(const json_t *v, const char *name, int code, stir_error *err)
{
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    int ok = n == 36;
    for (size_t i = 0; ok && i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ok = s[i] == '-';
        else
            ok = isxdigit((unsigned char)s[i]) != 0;
    }
    if (!ok)
        return stir_fail(err, code, name, "origid \"%.40s\" is not a UUID (RFC 8588 5)", s);
    return 0;
}

static json_t *make_uuid(void)
{
    char u[37];
    return stir_uuid4(u) == 0 ? json_string(u) : NULL;
}

/* ---- div (RFC 8946) ------------------------------------------------------ */

/* History-Info index: index-val = number *("." number) (RFC 7044 5). */
static int valid_hi(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] == '.' && s[i + 1] != '.'))
            return 0;
    return 1;
}

/* div: one identity, {"tn": s} or {"uri": s}, optionally with "hi". */
static int check_div(const json_t *v, const char *name, int code, stir_error *err)
{
    const json_t *tn = json_object_get(v, "tn"), *uri = json_object_get(v, "uri");
    const json_t *hi = json_object_get(v, "hi");
    size_t expect = 1 + (hi != NULL);
    if (!!tn + !!uri != 1 || json_object_size(v) != expect || !json_is_string(tn ? tn : uri))
        return stir_fail(err, code, name,
                         "%s must hold exactly one tn or uri string, and "
                         "optionally hi (RFC 8946 3, 8)",
                         name);
    if (hi && (!json_is_string(hi) || !valid_hi(json_string_value(hi))))
        return stir_fail(err, code, name,
                         "%s.hi must be a History-Info index such as "
                         "\"1.2.1\" (RFC 7044 5)",
                         name);
    if (json_string_length(tn ? tn : uri) > STIR_URI_MAX)
        return stir_fail(err, code, name, "%s identity is too long", name);
    return 0;
}

/* The request's div identity, canonicalized like orig; hi kept inside. */
static json_t *build_div(const json_t *v, const char *name, stir_error *err)
{
    stir_ident id;
    const json_t *hi = json_object_get(v, "hi");
    if (stir_ident_from_json(v, &id, name, err))
        return NULL;
    if (hi && (!json_is_string(hi) || !valid_hi(json_string_value(hi)))) {
        stir_fail(err, STIR_ERR_INPUT, "div.hi",
                  "must be a History-Info index such as "
                  "\"1.2.1\" (RFC 7044 5)");
        return NULL;
    }
    json_t *o = json_pack("{ss}", id.is_tn ? "tn" : "uri", id.value);
    if (o && hi)
        json_object_set(o, "hi", (json_t *)hi);
    return o;
}

/* ---- rph (RFC 8443) and sph (RFC 9027) -------------------------------------- */

#define RPH_MAX_VALUES 16

/* r-value = namespace "." r-priority, both RFC 3261 tokens (RFC 4412 3.1). */
static int valid_rvalue(const char *s)
{
    const char *dot = strchr(s, '.');
    size_t n = strlen(s);
    if (!dot || dot == s || dot == s + n - 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s + i == dot)
            continue;
        if (!isalnum((unsigned char)s[i]) && !strchr("-!%*_+`'~", s[i]))
            return 0;
    }
    return 1;
}

static int is_esnet(const char *rv)
{
    return strncasecmp(rv, "esnet.", 6) == 0;
}

/* rph: {"auth": [r-value, ...]} (RFC 8443 3; "auth" is the only rph type). */
static int check_rph(const json_t *v, const char *name, int code, stir_error *err)
{
    const json_t *auth = json_object_get(v, "auth");
    if (json_object_size(v) != 1 || !json_is_array(auth) || json_array_size(auth) == 0)
        return stir_fail(err, code, name,
                         "%s must be {\"auth\": [r-value, ...]} with at least "
                         "one r-value (RFC 8443 3)",
                         name);
    if (json_array_size(auth) > RPH_MAX_VALUES)
        return stir_fail(err, code, name, "%s.auth has more than %d r-values", name,
                         RPH_MAX_VALUES);
    for (size_t i = 0; i < json_array_size(auth); i++) {
        const char *rv = json_string_value(json_array_get(auth, i));
        if (!rv || !valid_rvalue(rv))
            return stir_fail(err, code, name,
                             "%s.auth[%zu] is not an r-value "
                             "namespace.priority such as \"ets.0\" (RFC 4412 3.1)",
                             name, i);
    }
    return 0;
}

/* The seed's plain array of r-values, or the RFC 8443 object. */
static json_t *build_rph(const json_t *v, const char *name, stir_error *err)
{
    json_t *o = json_is_array(v) ? json_pack("{sO}", "auth", v) : json_deep_copy(v);
    if (!json_is_object(o)) {
        json_decref(o);
        stir_fail(err, STIR_ERR_INPUT, name,
                  "%s must be an array of r-values or "
                  "{\"auth\": [...]}",
                  name);
        return NULL;
    }
    return o;
}

/* sph: only "psap-callback"; anything else is a failure (RFC 9027 4). */
static int check_sph(const json_t *v, const char *name, int code, stir_error *err)
{
    if (strcmp(json_string_value(v), "psap-callback"))
        return stir_fail(err, code, name, "%s must be \"psap-callback\" (RFC 9027 4)", name);
    return 0;
}

/* sph goes only with an esnet r-value (RFC 9027 4). */
static int rph_check_claims(const json_t *claims, int code, stir_error *err)
{
    const json_t *auth = json_object_get(json_object_get(claims, "rph"), "auth");
    if (!json_object_get(claims, "sph"))
        return 0;
    for (size_t i = 0; i < json_array_size(auth); i++)
        if (is_esnet(json_string_value(json_array_get(auth, i))))
            return 0;
    return stir_fail(err, code, "sph",
                     "sph is allowed only with an esnet.x value in rph.auth "
                     "(RFC 9027 4)");
}

/* Is r-value `rv` (length n) in the auth array? Namespaces and priorities
 * compare case-insensitively (RFC 4412 3.1). */
static int auth_has(const json_t *auth, const char *rv, size_t n)
{
    for (size_t i = 0; i < json_array_size(auth); i++) {
        const char *a = json_string_value(json_array_get(auth, i));
        if (strlen(a) == n && strncasecmp(a, rv, n) == 0)
            return 1;
    }
    return 0;
}

/*
 * An rph PASSporT authorizes the Resource-Priority of its request (RFC 8443
 * 4.2, 7.1): every r-value of that header must be asserted in auth, and an
 * sph must match a Priority of psap-callback (RFC 9027 4).
 */
static int rph_check_request(const json_t *claims, const stir_verify_ctx *ctx, stir_error *err)
{
    const json_t *auth = json_object_get(json_object_get(claims, "rph"), "auth");
    const char *rp = ctx->resource_priority, *p;
    if (!rp)
        return stir_fail(err, STIR_ERR_INVALID, "protectedHeaders",
                         "rph PASSporT but no Resource-Priority in protectedHeaders: it can "
                         "only vouch for the header it came with (RFC 8443 4.2)");
    size_t values = 0;
    for (p = rp; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (!n)
            break;
        values++;
        if (!auth_has(auth, p, n))
            return stir_fail(err, STIR_ERR_INVALID, "rph",
                             "Resource-Priority value %.*s is not asserted by rph.auth "
                             "(RFC 8443 4.2)",
                             (int)(n > 64 ? 64 : n), p);
        p += n;
    }
    if (!values)
        return stir_fail(err, STIR_ERR_INVALID, "protectedHeaders",
                         "Resource-Priority in protectedHeaders is empty");
    if (json_object_get(claims, "sph") &&
        (!ctx->priority || strcasecmp(ctx->priority, "psap-callback")))
        return stir_fail(err, STIR_ERR_INVALID, "sph",
                         "sph psap-callback but the Priority header is %s%.40s%s "
                         "(RFC 9027 4)",
                         ctx->priority ? "\"" : "", ctx->priority ? ctx->priority : "absent",
                         ctx->priority ? "\"" : "");
    return 0;
}

/* ---- rcd (RFC 9795) ------------------------------------------------------------ */

/* ppt rcd carries rcd and/or crn; rcdi only with rcd (RFC 9795 6, 8). */
static int rcd_check_claims(const json_t *claims, int code, stir_error *err)
{
    if (json_object_get(claims, "rcdi") && !json_object_get(claims, "rcd"))
        return stir_fail(err, code, "rcdi", "rcdi without rcd (RFC 9795 6)");
    return 0;
}

static int rcd_type_check_claims(const json_t *claims, int code, stir_error *err)
{
    if (!json_object_get(claims, "rcd") && !json_object_get(claims, "crn"))
        return stir_fail(err, code, "rcd",
                         "a PASSporT of type rcd needs rcd or crn "
                         "(RFC 9795 8)");
    return rcd_check_claims(claims, code, err);
}

static int check_iss(const json_t *v, const char *name, int code, stir_error *err)
{
    if (json_string_length(v) == 0)
        return stir_fail(err, code, name, "%s must not be empty (RFC 9795 10.1)", name);
    return 0;
}

/* The RCD claims any PASSporT may carry (RFC 9795 13). */
#define RCD_CLAIMS                                                       \
    {"rcd", STIR_CLAIM_OBJECT, 0, stir_rcd_check, NULL, stir_rcd_build}, \
        {"rcdi", STIR_CLAIM_OBJECT, 0, stir_rcdi_check, NULL, NULL},     \
    {                                                                    \
        "crn", STIR_CLAIM_STRING, 0, stir_crn_check, NULL, NULL          \
    }

/* ---- avatar (TR 33.790 solutions 7 and 8) -------------------------------------- */

/* A printable ASCII identifier: avatar and application IDs are opaque. */
static int check_opaque_id(const json_t *v, const char *name, int code, stir_error *err)
{
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n == 0)
        return stir_fail(err, code, name, "%s must not be empty", name);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return stir_fail(err, code, name,
                             "%s must be printable ASCII without spaces "
                             "(character %zu is not)",
                             name, i);
    return 0;
}

/*
 * The terminating side may say which Avatar ID and application the call
 * announced (request members avatarId, appId): the signed ones must match.
 */
static int avatar_check_request(const json_t *claims, const stir_verify_ctx *ctx, stir_error *err)
{
    static const char *const pairs[][2] = {{"avatarId", "avatar"}, {"appId", "appid"}};
    for (size_t i = 0; i < 2; i++) {
        const json_t *want = json_object_get(ctx->request, pairs[i][0]);
        const char *got = json_string_value(json_object_get(claims, pairs[i][1]));
        if (json_is_string(want) && (!got || strcmp(got, json_string_value(want))))
            return stir_fail(err, STIR_ERR_INVALID, pairs[i][1],
                             "signed %s \"%.64s\" differs from the request's %s \"%.64s\"",
                             pairs[i][1], got ? got : "", pairs[i][0], json_string_value(want));
    }
    return 0;
}

/* ---- the table ---------------------------------------------------------------- */

/* The built-in types, copied into every context's registry. */
static const stir_ppt_type builtin[] = {
    {
        .name = "", /* baseline RFC 8225 */
        .n_claims = 3,
        .claims = {RCD_CLAIMS},
        .attests_orig = 1,
        .check_claims = rcd_check_claims,
    },
    {
        .name = "shaken", /* RFC 8588 */
        .n_claims = 5,
        .claims =
            {
                {"attest", STIR_CLAIM_STRING, 1, check_attest, NULL, NULL},
                {"origid", STIR_CLAIM_STRING, 1, check_uuid, make_uuid, NULL},
                RCD_CLAIMS, /* RFC 9795 13 */
            },
        .attests_orig = 1,
        .full_form_only = 1,
        .check_claims = rcd_check_claims,
    },
    {
        .name = "div", /* RFC 8946 */
        .n_claims = 1,
        .claims = {{"div", STIR_CLAIM_OBJECT, 1, check_div, NULL, build_div}},
        .scope = STIR_SCOPE_DIV,
        .dest = STIR_DEST_CHAIN,
        .full_form_only = 1,
    },
    {
        .name = "rph", /* RFC 8443, RFC 9027 */
        .n_claims = 2,
        .claims =
            {
                {"rph", STIR_CLAIM_OBJECT, 1, check_rph, NULL, build_rph},
                {"sph", STIR_CLAIM_STRING, 0, check_sph, NULL, NULL},
            },
        .reports_priority = 1,
        .full_form_only = 1,
        .check_claims = rph_check_claims,
        .check_request = rph_check_request,
    },
    {
        .name = "rcd", /* RFC 9795 */
        .n_claims = 4,
        .claims =
            {
                RCD_CLAIMS, {"iss", STIR_CLAIM_STRING, 0, check_iss, NULL, NULL}, /* third party */
            },
        .full_form_only = 1,
        .check_claims = rcd_type_check_claims,
    },
    {
        .name = "avatar", /* TR 33.790 6.7, 6.8; docs/API.md */
        .n_claims = 5,
        .claims =
            {
                {"avatar", STIR_CLAIM_STRING, 1, check_opaque_id, NULL, NULL},
                {"appid", STIR_CLAIM_STRING, 1, check_opaque_id, NULL, NULL},
                RCD_CLAIMS, /* the avatar's representation */
            },
        .full_form_only = 1,
        .check_claims = rcd_check_claims,
        .check_request = avatar_check_request,
    },
};
#define N_BUILTIN (sizeof builtin / sizeof builtin[0])

static void rebuild_names(ppt_registry *r);

int ppt_registry_init(ppt_registry *r)
{
    memset(r, 0, sizeof *r);
    if (pthread_mutex_init(&r->lock, NULL) != 0)
        return -1;
    memcpy(r->types, builtin, sizeof builtin);
    r->n = N_BUILTIN;
    rebuild_names(r);
    return 0;
}

/* Claim names of registered types are copies; the built-ins' are literals. */
void ppt_registry_destroy(ppt_registry *r)
{
    for (size_t i = N_BUILTIN; i < r->n; i++)
        for (size_t j = 0; j < r->types[i].n_claims; j++)
            free((char *)r->types[i].claims[j].name);
    pthread_mutex_destroy(&r->lock);
}

const stir_ppt_type *stir_ppt_find(const stir_ctx *ctx, const char *name)
{
    if (!name)
        name = "";
    const ppt_registry *r = &ctx->ppt;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->types[i].name, name) == 0)
            return &r->types[i];
    return NULL;
}

static int valid_ppt_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof((stir_ppt_type *)0)->name)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

/* A configured claim: named, not a baseline claim, not twice. */
static int check_claim_specs(const stir_ppt_type *t, stir_error *err)
{
    if (t->n_claims > STIR_PPT_MAX_CLAIMS)
        return stir_fail(err, STIR_ERR_INPUT, "ppt", "type %s has more than %d claims", t->name,
                         STIR_PPT_MAX_CLAIMS);
    for (size_t i = 0; i < t->n_claims; i++) {
        const char *n = t->claims[i].name;
        if (!n || !n[0] || strlen(n) > 32)
            return stir_fail(err, STIR_ERR_INPUT, "ppt",
                             "type %s: claim %zu has no name or "
                             "a name longer than 32 characters",
                             t->name, i + 1);
        for (const char *c = n; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
                return stir_fail(err, STIR_ERR_INPUT, "ppt",
                                 "type %s: claim name \"%.32s\" "
                                 "must be ASCII letters, digits, '-' or '_' (RFC 8225 5)",
                                 t->name, n);
        if (!strcmp(n, "orig") || !strcmp(n, "dest") || !strcmp(n, "iat") || !strcmp(n, "ppt"))
            return stir_fail(err, STIR_ERR_INPUT, "ppt",
                             "type %s: %s is a baseline claim "
                             "and cannot be redefined",
                             t->name, n);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(n, t->claims[j].name))
                return stir_fail(err, STIR_ERR_INPUT, "ppt",
                                 "type %s: claim %s is listed "
                                 "twice",
                                 t->name, n);
        if (stir_claim_type_str(t->claims[i].type) == NULL)
            return stir_fail(err, STIR_ERR_INPUT, "ppt",
                             "type %s: claim %s has an unknown "
                             "JSON type",
                             t->name, n);
    }
    return 0;
}

/* Registration happens at start-up, before requests are served; the lock
 * only keeps concurrent registrations from corrupting the table. Claim
 * names are copied: the table outlives the caller's strings. */
int stir_ppt_register(stir_ctx *ctx, const stir_ppt_type *t, stir_error *err)
{
    int rc = 0;
    ppt_registry *r = &ctx->ppt;
    pthread_mutex_lock(&r->lock);
    if (!valid_ppt_name(t->name))
        rc = stir_fail(err, STIR_ERR_INPUT, "ppt",
                       "invalid PASSporT type name \"%.40s\": "
                       "1 to 31 letters, digits, '-' or '_'",
                       t->name);
    else if (stir_ppt_find(ctx, t->name))
        rc = stir_fail(err, STIR_ERR_INPUT, "ppt", "PASSporT type \"%s\" already exists", t->name);
    else if (r->n == STI_PPT_MAX_TYPES)
        rc = stir_fail(err, STIR_ERR_INPUT, "ppt", "too many PASSporT types (max %d)",
                       STI_PPT_MAX_TYPES);
    else if (!(rc = check_claim_specs(t, err))) {
        stir_ppt_type *e = &r->types[r->n];
        *e = *t;
        for (size_t i = 0; i < e->n_claims; i++)
            e->claims[i].name = NULL;
        for (size_t i = 0; i < e->n_claims && !rc; i++)
            if (!(e->claims[i].name = strdup(t->claims[i].name)))
                rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        if (!rc) {
            r->n++;
        } else {
            for (size_t i = 0; i < e->n_claims; i++)
                free((char *)e->claims[i].name);
            memset(e, 0, sizeof *e);
        }
    }
    rebuild_names(r);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int sti_ppt_has_claim(const stir_ppt_type *t, const char *name)
{
    for (size_t i = 0; i < t->n_claims; i++)
        if (!strcmp(t->claims[i].name, name))
            return 1;
    return 0;
}

const char *sti_ppt_scope_claim(const stir_ppt_type *t)
{
    return t->scope == STIR_SCOPE_DIV ? "div" : "orig";
}

size_t sti_ppt_count(const stir_ctx *ctx)
{
    return ctx->ppt.n;
}
const stir_ppt_type *sti_ppt_at(const stir_ctx *ctx, size_t i)
{
    return i < ctx->ppt.n ? &ctx->ppt.types[i] : NULL;
}

/* Rebuilt on registration (start-up), so request threads only read it. */
static void rebuild_names(ppt_registry *r)
{
    size_t o = 0;
    r->names[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        if (!r->types[i].name[0])
            continue;
        o += (size_t)snprintf(r->names + o, sizeof r->names - o, "%s%s", o ? ", " : "",
                              r->types[i].name);
    }
}

const char *stir_ppt_names(const stir_ctx *ctx)
{
    return ctx->ppt.names;
}

static const char *const type_names[] = {
    [STIR_CLAIM_STRING] = "string",   [STIR_CLAIM_INTEGER] = "integer",
    [STIR_CLAIM_OBJECT] = "object",   [STIR_CLAIM_ARRAY] = "array",
    [STIR_CLAIM_BOOLEAN] = "boolean", [STIR_CLAIM_ANY] = "any",
};

const char *stir_claim_type_str(enum stir_claim_type t)
{
    return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : NULL;
}

int stir_claim_type_parse(const char *s)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (s && strcmp(s, type_names[i]) == 0)
            return (int)i;
    return -1;
}

static const char *claim_type_name(enum stir_claim_type t)
{
    switch (t) {
    case STIR_CLAIM_STRING:
        return "a string";
    case STIR_CLAIM_INTEGER:
        return "an integer";
    case STIR_CLAIM_OBJECT:
        return "an object";
    case STIR_CLAIM_ARRAY:
        return "an array";
    case STIR_CLAIM_BOOLEAN:
        return "true or false";
    case STIR_CLAIM_ANY:
        return "a JSON value";
    }
    return "?";
}

int sti_claim_check(const stir_claim_spec *c, const json_t *v, int code, stir_error *err)
{
    int ok = 0;
    switch (c->type) {
    case STIR_CLAIM_STRING:
        ok = json_is_string(v);
        break;
    case STIR_CLAIM_INTEGER:
        ok = json_is_integer(v);
        break;
    case STIR_CLAIM_OBJECT:
        ok = json_is_object(v);
        break;
    case STIR_CLAIM_ARRAY:
        ok = json_is_array(v);
        break;
    case STIR_CLAIM_BOOLEAN:
        ok = json_is_boolean(v);
        break;
    case STIR_CLAIM_ANY:
        ok = v != NULL;
        break;
    }
    if (!ok)
        return stir_fail(err, code, c->name, "%s must be %s", c->name, claim_type_name(c->type));
    if (json_is_string(v) && json_string_length(v) > STI_CLAIM_STRING_MAX)
        return stir_fail(err, code, c->name, "%s is longer than %d characters", c->name,
                         STI_CLAIM_STRING_MAX);
    return c->check ? c->check(v, c->name, code, err) : 0;
}

/* ---- configured types: "NAME CLAIM:TYPE[:required] ..." ------------------------ */

#define SPEC_CLAIM_NAME_MAX 32 /* as stir_ppt_register */

/* The next blank-separated word of *p, cut in place; NULL at the end. */
static char *spec_word(char **p)
{
    char *s = *p, *w;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0') {
        *p = s;
        return NULL;
    }
    w = s;
    while (*s && *s != ' ' && *s != '\t')
        s++;
    if (*s)
        *s++ = '\0';
    *p = s;
    return w;
}

/* One CLAIM:TYPE[:required] word into `c`. */
static int spec_claim(char *word, const stir_ppt_type *t, stir_claim_spec *c, stir_error *err)
{
    char *cname = word, *ctype = strchr(word, ':'), *flag;
    int type;
    if (!ctype)
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "claim '%.64s' has no type; "
                         "expected CLAIM:TYPE[:required] (e.g. %.48s:string)",
                         word, word);
    *ctype++ = '\0';
    if ((flag = strchr(ctype, ':'))) {
        *flag++ = '\0';
        if (strchr(flag, ':'))
            return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                             "claim '%.48s:%.32s:%.32s:...' "
                             "has too many parts; expected CLAIM:TYPE[:required]",
                             cname, ctype, flag);
    }
    if (*cname == '\0')
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type", "claim ':%.64s' has no name", ctype);
    if (strlen(cname) > SPEC_CLAIM_NAME_MAX)
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "claim name '%.64s...' is longer "
                         "than %d characters",
                         cname, SPEC_CLAIM_NAME_MAX);
    for (const char *q = cname; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
            return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                             "claim name '%.64s' may only "
                             "contain letters, digits, '_' and '-'",
                             cname);
    if (!strcmp(cname, "orig") || !strcmp(cname, "dest") || !strcmp(cname, "iat"))
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "claim '%s' is part of every "
                         "PASSporT (orig, dest, iat); list only the type's own claims",
                         cname);
    for (size_t i = 0; i < t->n_claims; i++)
        if (strcmp(t->claims[i].name, cname) == 0)
            return stir_fail(err, STIR_ERR_INPUT, "ppt_type", "claim '%.64s' is listed twice",
                             cname);
    if ((type = stir_claim_type_parse(ctype)) < 0)
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "claim '%.48s': unknown type '%.32s' "
                         "(string, integer, object, array, boolean or any)",
                         cname, ctype);
    if (flag && strcmp(flag, "required") != 0)
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "claim '%.48s:%.32s': '%.32s' is not "
                         "'required' (the only flag; leave it out for an optional claim)",
                         cname, ctype, flag);
    memset(c, 0, sizeof *c);
    c->name = cname;
    c->type = (enum stir_claim_type)type;
    c->required = flag != NULL;
    return 0;
}

int stir_ppt_parse(char *buf, stir_ppt_type *t, stir_error *err)
{
    char *p = buf, *name, *word;
    memset(t, 0, sizeof *t);
    t->scope = STIR_SCOPE_ORIG;
    t->dest = STIR_DEST_TO;
    t->full_form_only = 1;
    if (!(name = spec_word(&p)))
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "empty; expected NAME CLAIM:TYPE[:required] ...");
    if (strchr(name, ':'))
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "'%.64s' is a claim, but the first "
                         "word must be the type name (NAME CLAIM:TYPE[:required] ...)",
                         name);
    if (strlen(name) >= sizeof t->name)
        return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                         "type name '%.64s' is longer than "
                         "%zu characters",
                         name, sizeof t->name - 1);
    memcpy(t->name, name, strlen(name) + 1);
    while ((word = spec_word(&p)) != NULL) {
        if (t->n_claims == STIR_PPT_MAX_CLAIMS)
            return stir_fail(err, STIR_ERR_INPUT, "ppt_type",
                             "'%.64s': a type has at most %d "
                             "claims",
                             word, STIR_PPT_MAX_CLAIMS);
        int rc = spec_claim(word, t, &t->claims[t->n_claims], err);
        if (rc)
            return rc;
        t->n_claims++;
    }
    return 0;
}
