/*
 * Per-client policy: parsing (strict: every member named, every unknown
 * member refused with its path) and the checks the request path runs.
 * Rule lists are deny-by-default: a signing client may assert only what
 * its lists allow, and "*" has to be written to allow everything.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stir/sign.h>
#include <stir/tn.h>

#include "policy.h"

#define RES_SIGNING 1u
#define RES_VERIFICATION 2u
#define CAUSE "NOT_AUTHORIZED_BY_POLICY"
#define SIGNER_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

enum tn_kind { TN_EXACT, TN_PREFIX, TN_RANGE, TN_ANY };

typedef struct tn_rule {
    enum tn_kind kind;
    char lo[STIR_TN_MAX + 1]; /* exact value, prefix, or range start */
    char hi[STIR_TN_MAX + 1]; /* range end (same length as lo) */
} tn_rule;

typedef struct str_list {
    char **v;
    size_t n;
} str_list;

struct policy_client {
    char *name;
    unsigned resources;
    str_list ppt; /* exact names; "*" any */
    tn_rule *tn;  /* orig_tn (and rcd.apn) */
    size_t n_tn;
    str_list orig_uri;            /* globs over the normalized URI, any case */
    int max_attest;               /* 'A', 'B' or 'C' */
    str_list rcd_nam, iss, appid; /* globs */
    str_list rcd_url;             /* prefixes of jcl, icn and jCard URIs */
    str_list signers;             /* signing identities it may use; none: all */
    double rate, burst;           /* rate 0: unlimited */
    /* The only mutable part: the token bucket. */
    pthread_mutex_t mu;
    double tokens, last;
    int started;
};

struct policy {
    policy_client *c; /* sorted by name */
    size_t n;
    const policy_client *star; /* the "*" entry or NULL */
};

/* ---- errors ------------------------------------------------------------- */

typedef struct perr {
    char *buf;
    size_t len;
    const char *origin;
} perr;

static policy *fail(perr *e, const char *client, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static policy *fail(perr *e, const char *client, const char *path, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (client)
        snprintf(e->buf, e->len, "%s: client '%.100s': %s: %s", e->origin, client, path, why);
    else
        snprintf(e->buf, e->len, "%s: %s: %s", e->origin, path, why);
    return NULL;
}

/* ---- parsing -------------------------------------------------------------- */

static void list_free(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void client_free(policy_client *c)
{
    free(c->name);
    list_free(&c->ppt);
    free(c->tn);
    list_free(&c->orig_uri);
    list_free(&c->rcd_nam);
    list_free(&c->iss);
    list_free(&c->appid);
    list_free(&c->rcd_url);
    list_free(&c->signers);
    pthread_mutex_destroy(&c->mu);
}

void policy_free(policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        client_free(&p->c[i]);
    free(p->c);
    free(p);
}

/* A JSON array of 1..POLICY_MAX_LIST non-empty printable strings. */
static int get_strings(perr *e, const char *client, const char *member, const json_t *v,
                       str_list *out, int lower)
{
    char path[64];
    size_t i;
    const json_t *s;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        fail(e, client, member, "must be a non-empty array of strings");
        return -1;
    }
    if (json_array_size(v) > POLICY_MAX_LIST) {
        fail(e, client, member, "more than %d entries", POLICY_MAX_LIST);
        return -1;
    }
    if (!(out->v = calloc(json_array_size(v), sizeof *out->v))) {
        fail(e, client, member, "out of memory");
        return -1;
    }
    json_array_foreach (v, i, s) {
        snprintf(path, sizeof path, "%s[%zu]", member, i);
        const char *t = json_string_value(s);
        size_t n = t ? strlen(t) : 0;
        if (!t || n == 0 || n > POLICY_MAX_ITEM) {
            fail(e, client, path, "must be a string of 1 to %d characters", POLICY_MAX_ITEM);
            return -1;
        }
        for (size_t k = 0; k < n; k++)
            if ((unsigned char)t[k] < 0x20 || t[k] == 0x7f) {
                fail(e, client, path, "contains a control character");
                return -1;
            }
        if (!(out->v[out->n] = strdup(t))) {
            fail(e, client, path, "out of memory");
            return -1;
        }
        if (lower)
            for (char *p = out->v[out->n]; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        out->n++;
    }
    return 0;
}

static int digits_only(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* "12155551212", "1215555*", "12155550000-12155559999" or "*". */
static int parse_tn_rule(perr *e, const char *client, const char *path, const char *t, tn_rule *r)
{
    char a[POLICY_MAX_ITEM + 1], b[POLICY_MAX_ITEM + 1];
    stir_error se;
    const char *dash = strchr(t, '-');
    size_t n = strlen(t);
    memset(r, 0, sizeof *r);
    if (strcmp(t, "*") == 0) {
        r->kind = TN_ANY;
        return 0;
    }
    /* A range is "lo-hi" with digits on both sides (a '-' inside one TN is a
     * visual separator that canonicalization drops: "215-555-1212"). */
    if (dash && strchr(dash + 1, '-') == NULL && dash > t && isdigit((unsigned char)dash[-1]) &&
        n > (size_t)(dash - t) + 1 && t[0] != '+' && digits_only(dash + 1) &&
        strspn(t, "0123456789") == (size_t)(dash - t)) {
        memcpy(a, t, (size_t)(dash - t));
        a[dash - t] = '\0';
        snprintf(b, sizeof b, "%s", dash + 1);
        if (strlen(a) != strlen(b) || strlen(a) > STIR_TN_MAX || strcmp(a, b) > 0) {
            fail(e, client, path, "range '%.80s' needs two TNs of the same length, low first", t);
            return -1;
        }
        r->kind = TN_RANGE;
        memcpy(r->lo, a, strlen(a) + 1);
        memcpy(r->hi, b, strlen(b) + 1);
        return 0;
    }
    snprintf(a, sizeof a, "%s", t);
    r->kind = TN_EXACT;
    if (n > 1 && a[n - 1] == '*') {
        a[n - 1] = '\0';
        r->kind = TN_PREFIX;
    }
    if (stir_tn_canon(a, r->lo, path, &se) != 0 || r->lo[0] == '\0') {
        fail(e, client, path, "'%.80s' is not a TN, a TN prefix ending in '*' or a range lo-hi", t);
        return -1;
    }
    return 0;
}

static int parse_client(perr *e, const char *name, const json_t *o, policy_client *c)
{
    static const char *const MEMBERS[] = {
        "comment", "resources",        "ppt",   "orig_tn", "orig_uri", "max_attest", "rcd_nam",
        "iss",     "rcd_url_prefixes", "appid", "rate",    "burst",    "signers",
    };
    const char *key;
    json_t *v;
    c->max_attest = 'C';
    if (!json_is_object(o)) {
        fail(e, name, "(entry)", "must be an object");
        return -1;
    }
    json_object_foreach ((json_t *)o, key, v) {
        size_t k;
        for (k = 0; k < sizeof MEMBERS / sizeof MEMBERS[0]; k++)
            if (strcmp(key, MEMBERS[k]) == 0)
                break;
        if (k == sizeof MEMBERS / sizeof MEMBERS[0]) {
            fail(e, name, key,
                 "unknown member (known: resources, ppt, orig_tn, orig_uri, "
                 "max_attest, rcd_nam, iss, rcd_url_prefixes, appid, rate, burst, signers, "
                 "comment)");
            return -1;
        }
    }
    v = json_object_get(o, "resources");
    if (!v) {
        fail(e, name, "resources", "missing (\"signing\" and/or \"verification\")");
        return -1;
    }
    str_list res = {0};
    if (get_strings(e, name, "resources", v, &res, 0) != 0) {
        list_free(&res);
        return -1;
    }
    for (size_t i = 0; i < res.n; i++) {
        if (strcmp(res.v[i], "signing") == 0)
            c->resources |= RES_SIGNING;
        else if (strcmp(res.v[i], "verification") == 0)
            c->resources |= RES_VERIFICATION;
        else {
            char path[32];
            snprintf(path, sizeof path, "resources[%zu]", i);
            fail(e, name, path, "'%.40s' is not \"signing\" or \"verification\"", res.v[i]);
            list_free(&res);
            return -1;
        }
    }
    list_free(&res);

    if ((v = json_object_get(o, "comment")) && !json_is_string(v)) {
        fail(e, name, "comment", "must be a string");
        return -1;
    }
    struct {
        const char *m;
        str_list *l;
        int lower;
    } lists[] = {
        {"ppt", &c->ppt, 0},
        {"orig_uri", &c->orig_uri, 1},
        {"rcd_nam", &c->rcd_nam, 0},
        {"iss", &c->iss, 0},
        {"rcd_url_prefixes", &c->rcd_url, 0},
        {"appid", &c->appid, 0},
        {"signers", &c->signers, 0},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if ((v = json_object_get(o, lists[i].m)) &&
            get_strings(e, name, lists[i].m, v, lists[i].l, lists[i].lower) != 0)
            return -1;
    for (size_t i = 0; i < c->signers.n; i++) {
        const char *sn = c->signers.v[i];
        if (strlen(sn) > STIR_SIGNER_NAME_MAX || strspn(sn, SIGNER_NAME_CHARS) != strlen(sn)) {
            char path[32];
            snprintf(path, sizeof path, "signers[%zu]", i);
            fail(e, name, path,
                 "'%.40s' is not a signer name (1 to %d letters, digits, '_', "
                 "'.', '-')",
                 sn, STIR_SIGNER_NAME_MAX);
            return -1;
        }
    }
    if ((v = json_object_get(o, "orig_tn"))) {
        str_list tl = {0};
        if (get_strings(e, name, "orig_tn", v, &tl, 0) != 0 ||
            !(c->tn = calloc(tl.n, sizeof *c->tn))) {
            list_free(&tl);
            return -1;
        }
        for (size_t i = 0; i < tl.n; i++) {
            char path[32];
            snprintf(path, sizeof path, "orig_tn[%zu]", i);
            if (parse_tn_rule(e, name, path, tl.v[i], &c->tn[i]) != 0) {
                list_free(&tl);
                return -1;
            }
            c->n_tn++;
        }
        list_free(&tl);
    }
    if ((v = json_object_get(o, "max_attest"))) {
        const char *a = json_string_value(v);
        if (!a || strlen(a) != 1 || a[0] < 'A' || a[0] > 'C') {
            fail(e, name, "max_attest", "must be \"A\", \"B\" or \"C\"");
            return -1;
        }
        c->max_attest = a[0];
    }
    if ((v = json_object_get(o, "rate"))) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 1e6) {
            fail(e, name, "rate", "must be a number of requests per second in (0, 1000000]");
            return -1;
        }
        c->rate = json_number_value(v);
        c->burst = ceil(c->rate);
    }
    if ((v = json_object_get(o, "burst"))) {
        if (!c->rate) {
            fail(e, name, "burst", "needs rate");
            return -1;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000) {
            fail(e, name, "burst", "must be an integer from 1 to 1000000");
            return -1;
        }
        c->burst = (double)json_integer_value(v);
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const policy_client *)a)->name, ((const policy_client *)b)->name);
}

policy *policy_parse(const char *text, size_t len, const char *origin, char *err, size_t errlen)
{
    perr e = {err, errlen, origin};
    json_error_t je;
    const char *key;
    json_t *v, *clients;
    if (len > POLICY_MAX_BYTES)
        return fail(&e, NULL, "(file)", "larger than %d bytes", POLICY_MAX_BYTES);
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char where[48];
        snprintf(where, sizeof where, "line %d column %d", je.line, je.column);
        return fail(&e, NULL, where, "%s", je.text);
    }
    policy *p = calloc(1, sizeof *p);
    if (!p || !json_is_object(root)) {
        json_decref(root);
        free(p);
        return fail(&e, NULL, "(top)", "must be a JSON object {\"clients\": {...}}");
    }
    json_object_foreach (root, key, v)
        if (strcmp(key, "clients") != 0 && strcmp(key, "comment") != 0) {
            fail(&e, NULL, key, "unknown member (known: clients, comment)");
            goto bad;
        }
    clients = json_object_get(root, "clients");
    if (!json_is_object(clients)) {
        fail(&e, NULL, "clients", "missing or not an object keyed by client identity");
        goto bad;
    }
    if (json_object_size(clients) > POLICY_MAX_CLIENTS) {
        fail(&e, NULL, "clients", "more than %d clients", POLICY_MAX_CLIENTS);
        goto bad;
    }
    if (!(p->c = calloc(json_object_size(clients) + 1, sizeof *p->c))) {
        fail(&e, NULL, "clients", "out of memory");
        goto bad;
    }
    json_object_foreach (clients, key, v) {
        policy_client *c = &p->c[p->n];
        size_t kl = strlen(key);
        if (kl == 0 || kl > 255) {
            fail(&e, NULL, "clients", "a client name must have 1 to 255 characters");
            goto bad;
        }
        pthread_mutex_init(&c->mu, NULL);
        p->n++;
        if (!(c->name = strdup(key)) || parse_client(&e, key, v, c) != 0)
            goto bad;
    }
    qsort(p->c, p->n, sizeof *p->c, by_name);
    p->star = policy_find(p, "*");
    if (p->star && strcmp(p->star->name, "*") != 0)
        p->star = NULL;
    json_decref(root);
    return p;
bad:
    json_decref(root);
    policy_free(p);
    return NULL;
}

policy *policy_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(POLICY_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, POLICY_MAX_BYTES + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read", path);
        return NULL;
    }
    policy *p = policy_parse(buf, n, path, err, errlen);
    free(buf);
    return p;
}

/* ---- lookup --------------------------------------------------------------- */

const policy_client *policy_find(const policy *p, const char *name)
{
    if (!p || !name)
        return NULL;
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, p->c[mid].name);
        if (c == 0)
            return &p->c[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return p->star;
}

const char *policy_client_name(const policy_client *c)
{
    return c ? c->name : "";
}

/* ---- checks ---------------------------------------------------------------- */

static unsigned refuse(auth_denial *d, const policy_client *c, const char *rule, const char *field,
                       const char *value, const char *why)
{
    char v[96];
    denial_clean(v, sizeof v, value, 80);
    return denial_set(d, 403, "Forbidden", CAUSE, rule, "%s %s %s of client '%.100s'", field, v,
                      why, c->name);
}

unsigned policy_check_resource(const policy_client *c, enum auth_resource res, auth_denial *d)
{
    unsigned bit = res == AUTH_RES_SIGNING ? RES_SIGNING : RES_VERIFICATION;
    if (c->resources & bit)
        return 0;
    return denial_set(d, 403, "Forbidden", CAUSE, "resources",
                      "client '%.100s' may not use the %s resource (its resources: %s)", c->name,
                      res == AUTH_RES_SIGNING ? "signing" : "verification",
                      c->resources == RES_SIGNING        ? "signing"
                      : c->resources == RES_VERIFICATION ? "verification"
                                                         : "none");
}

static int in_exact(const str_list *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], "*") == 0 || strcmp(l->v[i], v) == 0)
            return 1;
    return 0;
}

static int in_glob(const str_list *l, const char *v, int flags)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], v, flags) == 0)
            return 1;
    return 0;
}

static int in_prefix(const str_list *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], "*") == 0 || strncmp(v, l->v[i], strlen(l->v[i])) == 0)
            return 1;
    return 0;
}

static int tn_allowed(const policy_client *c, const char *tn)
{
    size_t n = strlen(tn);
    for (size_t i = 0; i < c->n_tn; i++) {
        const tn_rule *r = &c->tn[i];
        switch (r->kind) {
        case TN_ANY:
            return 1;
        case TN_EXACT:
            if (strcmp(tn, r->lo) == 0)
                return 1;
            break;
        case TN_PREFIX:
            if (strncmp(tn, r->lo, strlen(r->lo)) == 0)
                return 1;
            break;
        case TN_RANGE:
            if (n == strlen(r->lo) && strcmp(tn, r->lo) >= 0 && strcmp(tn, r->hi) <= 0)
                return 1;
            break;
        }
    }
    return 0;
}

/* The URIs of a jCard: the value of every property whose type is "uri"
 * (["vcard", [[name, params, "uri", value], ...]]). */
static unsigned check_jcard(const policy_client *c, const json_t *jcd, auth_denial *d)
{
    const json_t *props = json_array_get(jcd, 1), *prop;
    size_t i;
    json_array_foreach (props, i, prop) {
        const char *type = json_string_value(json_array_get(prop, 2));
        const char *uri = json_string_value(json_array_get(prop, 3));
        if (type && uri && strcmp(type, "uri") == 0 && !in_prefix(&c->rcd_url, uri)) {
            char field[48];
            snprintf(field, sizeof field, "rcd.jcd/1/%zu/3", i);
            return refuse(d, c, "rcd_url_prefixes", field, uri, "is outside the rcd_url_prefixes");
        }
    }
    return 0;
}

static unsigned check_rcd(const policy_client *c, const json_t *rcd, auth_denial *d)
{
    const char *s;
    if ((s = json_string_value(json_object_get(rcd, "nam"))) && !in_glob(&c->rcd_nam, s, 0))
        return refuse(d, c, "rcd_nam", "rcd.nam", s, "is outside the rcd_nam");
    if ((s = json_string_value(json_object_get(rcd, "apn")))) {
        char tn[STIR_TN_MAX + 1];
        stir_error e;
        if (stir_tn_canon(s, tn, "rcd.apn", &e) == 0 && !tn_allowed(c, tn))
            return refuse(d, c, "orig_tn", "rcd.apn", tn, "is outside the orig_tn");
    }
    static const char *const URLS[] = {"jcl", "icn"};
    for (size_t i = 0; i < 2; i++)
        if ((s = json_string_value(json_object_get(rcd, URLS[i]))) && !in_prefix(&c->rcd_url, s)) {
            char field[16];
            snprintf(field, sizeof field, "rcd.%s", URLS[i]);
            return refuse(d, c, "rcd_url_prefixes", field, s, "is outside the rcd_url_prefixes");
        }
    const json_t *jcd = json_object_get(rcd, "jcd");
    return jcd ? check_jcard(c, jcd, d) : 0;
}

unsigned policy_check_signing(const policy_client *c, const json_t *req, const char *ppt,
                              auth_denial *d)
{
    const json_t *v;
    const char *s;
    unsigned rc;
    if ((rc = policy_check_resource(c, AUTH_RES_SIGNING, d)))
        return rc;
    if (!ppt || !*ppt)
        ppt = "shaken";
    if (!in_exact(&c->ppt, ppt))
        return refuse(d, c, "ppt", "ppt", ppt, "is outside the ppt");

    /* orig: canonicalized the way the signer does, so "+1 215-555-1212"
     * and "12155551212" are the same number here and in the PASSporT. */
    if ((v = json_object_get(req, "orig"))) {
        stir_ident id;
        stir_error e;
        if (stir_ident_from_json(v, &id, "orig", &e) != 0)
            return denial_set(d, 400, "Bad Request", "MANDATORY_IE_INCORRECT", NULL, "%s",
                              e.detail);
        if (id.is_tn && !tn_allowed(c, id.value))
            return refuse(d, c, "orig_tn", "orig.tn", id.value, "is outside the orig_tn");
        if (!id.is_tn && !in_glob(&c->orig_uri, id.value, FNM_CASEFOLD))
            return refuse(d, c, "orig_uri", "orig.uri", id.value, "is outside the orig_uri");
    }
    if ((s = json_string_value(json_object_get(req, "attest"))) && strlen(s) == 1 && s[0] >= 'A' &&
        s[0] < c->max_attest) {
        char max[2] = {(char)c->max_attest, 0};
        return denial_set(d, 403, "Forbidden", CAUSE, "max_attest",
                          "attest %s is above the max_attest %s of client '%.100s'", s, max,
                          c->name);
    }
    if ((v = json_object_get(req, "rcd")) && json_is_object(v) && (rc = check_rcd(c, v, d)))
        return rc;
    if ((s = json_string_value(json_object_get(req, "iss"))) && !in_glob(&c->iss, s, 0))
        return refuse(d, c, "iss", "iss", s, "is outside the iss");
    if ((s = json_string_value(json_object_get(req, "appid"))) && !in_glob(&c->appid, s, 0))
        return refuse(d, c, "appid", "appid", s, "is outside the appid");
    return 0;
}

const char *const *policy_signers(const policy_client *c, size_t *n)
{
    *n = c ? c->signers.n : 0;
    return *n ? (const char *const *)c->signers.v : NULL;
}

int policy_check_signer_names(const policy *p, const stir_signer *s, char *err, size_t errlen)
{
    for (size_t i = 0; p && i < p->n; i++)
        for (size_t k = 0; k < p->c[i].signers.n; k++) {
            const char *sn = p->c[i].signers.v[k];
            if (s && stir_signer_has(s, sn))
                continue;
            snprintf(err, errlen, "client '%.100s': signers[%zu]: '%s' %s", p->c[i].name, k, sn,
                     s ? "is not a signing identity of this server (the default one is "
                         "\"default\", the others are named by their signer lines)"
                       : "names a signing identity, but signing is not configured");
            return -1;
        }
    return 0;
}

unsigned policy_check_signer_choice(const policy_client *c, const stir_signer *s, const json_t *req,
                                    const char *ppt, auth_denial *d)
{
    char names[200];
    size_t o = 0;
    if (!c->signers.n || !s)
        return 0;
    for (size_t i = 0; i < c->signers.n; i++) {
        int rc = stir_signer_covers(s, c->signers.v[i], req, ppt);
        if (rc != 0)
            return 0; /* covered, or unreadable: the signer answers 400 */
    }
    for (size_t i = 0; i < c->signers.n && o < sizeof names; i++) {
        int w = snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", c->signers.v[i]);
        o += w > 0 ? (size_t)w : 0;
    }
    stir_error e;
    if (!ppt && stir_sign_request_ppt(req, &ppt, &e) != 0)
        ppt = "shaken";
    const char *who = strcmp(ppt, "div") == 0 ? "div" : "orig"; /* as the signer reads it */
    stir_ident id;
    const char *shown =
        stir_ident_from_json(json_object_get(req, who), &id, who, &e) == 0 ? id.value : "?";
    char v[96];
    denial_clean(v, sizeof v, shown, 80);
    return denial_set(d, 403, "Forbidden", CAUSE, "signers",
                      "%s %s may not be signed by any of the signers (%s) of client '%.100s': "
                      "none of them covers it (tn ranges, TNAuthList)",
                      who, v, names, c->name);
}

/* ---- rate ------------------------------------------------------------------ */

unsigned policy_take_rate_at(const policy_client *cc, double now, auth_denial *d)
{
    /* The bucket is the one mutable part of an otherwise shared,
     * read-only policy: cast away const under the client's own mutex. */
    policy_client *c = (policy_client *)cc;
    double wait = 0;
    if (c->rate <= 0)
        return 0;
    pthread_mutex_lock(&c->mu);
    if (!c->started) {
        c->started = 1;
        c->tokens = c->burst;
    } else if (now > c->last) {
        c->tokens += (now - c->last) * c->rate;
        if (c->tokens > c->burst)
            c->tokens = c->burst;
    }
    c->last = now;
    if (c->tokens >= 1)
        c->tokens -= 1;
    else
        wait = (1 - c->tokens) / c->rate;
    pthread_mutex_unlock(&c->mu);
    if (wait <= 0)
        return 0;
    denial_set(d, 429, "Too Many Requests", "TOO_MANY_REQUESTS", "rate",
               "client '%.100s' is over its rate of %g requests per second (burst %g)", c->name,
               c->rate, c->burst);
    d->retry_after = (unsigned)ceil(wait);
    if (d->retry_after == 0)
        d->retry_after = 1;
    return 429;
}

/*
 * A reload must not refill the buckets (else a client resets its rate by
 * waiting for one): each client of `to` whose name is in `from` and whose
 * bucket there has started starts from the same tokens and time, capped
 * at its (possibly new) burst. Only the buckets are touched.
 */
void policy_carry_buckets(policy *to, const policy *from)
{
    if (!to || !from)
        return;
    for (size_t i = 0; i < to->n; i++) {
        policy_client *n = &to->c[i];
        policy_client *o = (policy_client *)policy_find(from, n->name);
        if (n->rate <= 0 || !o || strcmp(o->name, n->name) != 0 || o->rate <= 0)
            continue;
        pthread_mutex_lock(&o->mu);
        int started = o->started;
        double tokens = o->tokens, last = o->last;
        pthread_mutex_unlock(&o->mu);
        if (!started)
            continue;
        pthread_mutex_lock(&n->mu);
        n->started = 1;
        n->tokens = tokens < n->burst ? tokens : n->burst;
        n->last = last;
        pthread_mutex_unlock(&n->mu);
    }
}

unsigned policy_take_rate(const policy_client *c, auth_denial *d)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return policy_take_rate_at(c, (double)ts.tv_sec + ts.tv_nsec / 1e9, d);
}
