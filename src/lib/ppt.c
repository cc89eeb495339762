/*
 * The PASSporT type registry: each type is one table entry naming the
 * claims it adds to the baseline (orig, dest, iat) with their JSON types
 * and checks. Signing and verification read only this table.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "stir/ppt.h"

#include "internal.h"

static int check_attest(const json_t *v, const char *name, int code, stir_error *err)
{
    const char *s = json_string_value(v);
    if (strcmp(s, "A") && strcmp(s, "B") && strcmp(s, "C"))
        return stir_fail(err, code, name, "attest \"%.16s\" must be \"A\", \"B\" or \"C\" "
                                          "(RFC 8588 4)", s);
    return 0;
}

/* RFC 4122 textual form: 8-4-4-4-12 hex digits. */
static int check_uuid(const json_t *v, const char *name, int code, stir_error *err)
{
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    int ok = n == 36;
    for (size_t i = 0; ok && i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) ok = s[i] == '-';
        else ok = isxdigit((unsigned char)s[i]) != 0;
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

#define MAX_TYPES 32

static stir_ppt_type registry[MAX_TYPES] = {
    { .name = "", .n_claims = 0 },          /* baseline RFC 8225 */
    {
        .name = "shaken",                   /* RFC 8588 */
        .n_claims = 2,
        .claims = {
            { "attest", STIR_CLAIM_STRING, 1, check_attest, NULL },
            { "origid", STIR_CLAIM_STRING, 1, check_uuid, make_uuid },
        },
    },
};
static size_t n_types = 2;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static char names_buf[MAX_TYPES * 34];

static void rebuild_names(void);

const stir_ppt_type *stir_ppt_find(const char *name)
{
    if (!name) name = "";
    for (size_t i = 0; i < n_types; i++)
        if (strcmp(registry[i].name, name) == 0) return &registry[i];
    return NULL;
}

static int valid_ppt_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof registry[0].name) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') return 0;
    return 1;
}

/* Registration happens at start-up, before requests are served; the lock
 * only keeps concurrent registrations from corrupting the table. */
int stir_ppt_register(const stir_ppt_type *t, stir_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&registry_lock);
    if (!valid_ppt_name(t->name))
        rc = stir_fail(err, STIR_ERR_INPUT, "ppt", "invalid PASSporT type name \"%.40s\"",
                       t->name);
    else if (stir_ppt_find(t->name))
        rc = stir_fail(err, STIR_ERR_INPUT, "ppt", "PASSporT type \"%s\" already exists",
                       t->name);
    else if (n_types == MAX_TYPES)
        rc = stir_fail(err, STIR_ERR_INPUT, "ppt", "too many PASSporT types (max %d)",
                       MAX_TYPES);
    else
        registry[n_types++] = *t;
    rebuild_names();
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

size_t stir_ppt_count(void) { return n_types; }
const stir_ppt_type *stir_ppt_at(size_t i) { return i < n_types ? &registry[i] : NULL; }

/* Rebuilt on registration (start-up), so request threads only read it. */
static void rebuild_names(void)
{
    size_t o = 0;
    names_buf[0] = '\0';
    for (size_t i = 0; i < n_types; i++) {
        if (!registry[i].name[0]) continue;
        o += (size_t)snprintf(names_buf + o, sizeof names_buf - o, "%s%s", o ? ", " : "",
                              registry[i].name);
    }
}

const char *stir_ppt_names(void)
{
    pthread_mutex_lock(&registry_lock);
    if (!names_buf[0]) rebuild_names();
    pthread_mutex_unlock(&registry_lock);
    return names_buf;
}

static const char *claim_type_name(enum stir_claim_type t)
{
    switch (t) {
    case STIR_CLAIM_STRING: return "a string";
    case STIR_CLAIM_INTEGER: return "an integer";
    case STIR_CLAIM_OBJECT: return "an object";
    case STIR_CLAIM_ARRAY: return "an array";
    }
    return "?";
}

int stir_claim_check(const stir_claim_spec *c, const json_t *v, int code, stir_error *err)
{
    int ok = 0;
    switch (c->type) {
    case STIR_CLAIM_STRING: ok = json_is_string(v); break;
    case STIR_CLAIM_INTEGER: ok = json_is_integer(v); break;
    case STIR_CLAIM_OBJECT: ok = json_is_object(v); break;
    case STIR_CLAIM_ARRAY: ok = json_is_array(v); break;
    }
    if (!ok)
        return stir_fail(err, code, c->name, "%s must be %s", c->name,
                         claim_type_name(c->type));
    if (json_is_string(v) && json_string_length(v) > STIR_CLAIM_STRING_MAX)
        return stir_fail(err, code, c->name, "%s is longer than %d characters", c->name,
                         STIR_CLAIM_STRING_MAX);
    return c->check ? c->check(v, c->name, code, err) : 0;
}
