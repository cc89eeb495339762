/*
 * The Ms API's JSON (TS 24.229 Annex V, the vendor dialects of
 * docs/ms-api.md): request members in, typed requests out; typed results
 * in, response bodies out. Nothing else in libstir or the server reads a
 * request member by name or writes a response member.
 *
 * Responses are appended to one growing buffer instead of being built as
 * a jansson tree and dumped: the verification response's validClaims are
 * the verified payload bytes spliced in as they were signed (they are a
 * JSON object: the PASSporT parser accepted nothing else).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpdate.h"
#include "internal.h"
#include "stir/encoding.h"
#include "stir/msapi.h"
#include "stir/ppt.h"
#include "stir/reason.h"
#include "stir/verify.h"

/* ---- members ------------------------------------------------------------ */

/* Members whose absence or bad value is a mandatory-IE error (Tables
 * V.2.5.2-1 and V.2.6.2-1), and the two wrappers. */
static const char *const MANDATORY[] = {"orig",           "dest",           "iat",
                                        "identityHeader", "from",           "to",
                                        "time",           "signingRequest", "verificationRequest"};

int stir_ms_field_is_mandatory(const char *field)
{
    size_t n = strcspn(field, ".[");
    for (size_t i = 0; i < sizeof MANDATORY / sizeof MANDATORY[0]; i++)
        if (strlen(MANDATORY[i]) == n && strncmp(field, MANDATORY[i], n) == 0)
            return 1;
    return 0;
}

const json_t *stir_ms_unwrap(const json_t *body, const char *name, stir_error *err)
{
    const json_t *w = json_object_get(body, name);
    if (!w)
        return body;
    if (json_is_object(w))
        return w;
    stir_fail(err, STIR_ERR_INPUT, name, "%s must be a JSON object", name);
    return NULL;
}

int stir_ms_request_id(const json_t *req, const json_t *wrapper, const char **id, size_t *len,
                       stir_error *err)
{
    const json_t *rid = json_object_get(req, "requestId");
    if (!rid && wrapper && wrapper != req)
        rid = json_object_get(wrapper, "requestId");
    *id = NULL;
    *len = 0;
    if (!rid)
        return 0;
    if (!json_is_string(rid) || json_string_length(rid) == 0 ||
        json_string_length(rid) > STIR_MS_REQUEST_ID_MAX)
        return stir_fail(err, STIR_ERR_INPUT, "requestId",
                         "requestId must be a string of 1 to %d characters",
                         STIR_MS_REQUEST_ID_MAX);
    *id = json_string_value(rid);
    *len = json_string_length(rid);
    return 0;
}

/* ---- signingRequest -------------------------------------------------------- */

/* Request members that are the claims of one type only. */
static const struct {
    const char *member, *ppt;
} OWNED[] = {
    {"div", "div"},
    {"rph", "rph"},
    {"sph", "rph"},
};
#define N_OWNED (sizeof OWNED / sizeof OWNED[0])

/*
 * No ppt: shaken [WID], unless the request holds div, rph or sph. Their
 * type is used when it is the only one they name and no shaken member
 * (attest, origid) is there; otherwise the intent is unclear: 400.
 */
static int infer_ppt(const json_t *req, const char **ppt, stir_error *err)
{
    const char *first = NULL, *type = NULL;
    *ppt = "shaken";
    for (size_t i = 0; i < N_OWNED; i++) {
        if (!json_object_get(req, OWNED[i].member))
            continue;
        if (type && strcmp(type, OWNED[i].ppt))
            return stir_fail(err, STIR_ERR_INPUT, OWNED[i].member,
                             "%s is a claim of ppt \"%s\" and %s one of ppt \"%s\": one "
                             "PASSporT cannot hold both; send one request per type, each "
                             "with its ppt",
                             first, type, OWNED[i].member, OWNED[i].ppt);
        if (!type) {
            first = OWNED[i].member;
            type = OWNED[i].ppt;
        }
    }
    if (!type)
        return 0;
    static const char *const shaken_only[] = {"attest", "origid"};
    for (size_t i = 0; i < 2; i++)
        if (json_object_get(req, shaken_only[i]))
            return stir_fail(err, STIR_ERR_INPUT, first,
                             "%s is a claim of ppt \"%s\" but %s is one of ppt \"shaken\", "
                             "and the request has no ppt: send \"ppt\": \"%s\" (without %s), "
                             "or leave %s out for a shaken PASSporT",
                             first, type, shaken_only[i], type, shaken_only[i], first);
    *ppt = type;
    return 0;
}

int stir_ms_sign_ppt(const json_t *req, const char **ppt, stir_error *err)
{
    const json_t *jppt = json_object_get(req, "ppt");
    if (json_is_string(jppt) && json_string_length(jppt) > 0) {
        *ppt = json_string_value(jppt);
        return 0;
    }
    return infer_ppt(req, ppt, err);
}

/* Printable ASCII of a client's text for a detail, cut with "...". */
static void clean_text(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 4 < cap; s++)
        out[o++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) ? *s : '?';
    if (s && *s) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* A legacy per-type resource (/divSigning) signs only its type: a ppt
 * member must name it; "" means shaken (as on /signing), so it conflicts. */
static int check_implied_ppt(const json_t *req, const char *implied, stir_error *err)
{
    const json_t *given = json_object_get(req, "ppt");
    char shown[48];
    if (!given)
        return 0;
    if (!json_is_string(given))
        return stir_fail(err, STIR_ERR_INPUT, "ppt",
                         "ppt must be a string; %sSigning signs ppt \"%s\"", implied, implied);
    if (strcmp(json_string_value(given), implied) == 0)
        return 0;
    clean_text(shown, sizeof shown, json_string_value(given));
    return stir_fail(err, STIR_ERR_INPUT, "ppt",
                     "ppt \"%s\"%s conflicts with %sSigning, which signs only ppt \"%s\" (use "
                     "/stir/v1/signing for other types)",
                     shown, shown[0] ? "" : " (shaken)", implied, implied);
}

int stir_ms_parse_sign(const json_t *req, const json_t *wrapper, const char *implied_ppt,
                       stir_ms_sign_request *out, stir_error *err)
{
    memset(out, 0, sizeof *out);
    out->members = req;
    if (stir_ms_request_id(req, wrapper, &out->request_id, &out->request_id_len, err))
        return STIR_ERR_INPUT;
    if (implied_ppt && check_implied_ppt(req, implied_ppt, err))
        return STIR_ERR_INPUT;
    if (!json_is_object(req))
        return stir_fail(err, STIR_ERR_INPUT, "signingRequest", "must be a JSON object");
    const json_t *jppt = json_object_get(req, "ppt");
    if (jppt && !json_is_string(jppt))
        return stir_fail(err, STIR_ERR_INPUT, "ppt", "must be a string");
    if (implied_ppt)
        out->ppt = implied_ppt;
    else if (stir_ms_sign_ppt(req, &out->ppt, err))
        return STIR_ERR_INPUT;
    return 0;
}

int sti_ms_sign_require(const json_t *req, stir_error *err)
{
    static const char *const base[] = {"orig", "dest", "iat"};
    for (size_t i = 0; i < 3; i++)
        if (!json_object_get(req, base[i]))
            return stir_fail_missing(err, base[i], "missing %s", base[i]);
    return 0;
}

/* ---- verificationRequest ------------------------------------------------- */

/* Does "Name: value" name `name` (case-insensitive)? Returns the value. */
static const char *header_value(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n))
        return NULL;
    line += n;
    line += strspn(line, " \t");
    if (*line != ':')
        return NULL;
    line++;
    return line + strspn(line, " \t");
}

/*
 * protectedHeaders: SIP header lines the client vouches for, as
 * "Resource-Priority: esnet.0" (the Neustar dialect of the Ms API). Only
 * Resource-Priority and Priority are used (rph, sph); several
 * Resource-Priority lines are one list (RFC 4412 3.1).
 */
static int parse_protected(const json_t *req, stir_ms_verify_request *r, stir_error *err)
{
    const json_t *arr = json_object_get(req, "protectedHeaders");
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > STIR_MS_PROTECTED_MAX)
        return stir_fail(err, STIR_ERR_INPUT, "protectedHeaders",
                         "must be an array of at most %d header lines \"Name: value\"",
                         STIR_MS_PROTECTED_MAX);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *line = json_string_value(json_array_get(arr, i)), *val;
        if (!line || json_string_length(json_array_get(arr, i)) >= STIR_MS_PROTECTED_LINE_MAX ||
            !strchr(line, ':'))
            return stir_fail(err, STIR_ERR_INPUT, "protectedHeaders",
                             "element %zu must be a header line \"Name: value\" shorter "
                             "than %d bytes",
                             i, STIR_MS_PROTECTED_LINE_MAX);
        if ((val = header_value(line, "Resource-Priority"))) {
            size_t used = strlen(r->rp_buf);
            if (used + strlen(val) + 2 > sizeof r->rp_buf)
                return stir_fail(err, STIR_ERR_INPUT, "protectedHeaders",
                                 "Resource-Priority values are longer than %d bytes",
                                 STIR_MS_PROTECTED_LINE_MAX);
            snprintf(r->rp_buf + used, sizeof r->rp_buf - used, "%s%s", used ? "," : "", val);
            r->resource_priority = r->rp_buf;
        } else if ((val = header_value(line, "Priority"))) {
            snprintf(r->priority_buf, sizeof r->priority_buf, "%.*s", (int)strcspn(val, " \t;"),
                     val);
            r->priority = r->priority_buf;
        }
    }
    return 0;
}

/*
 * The SIP Date: `time` (NumericDate) or `date` (the Date header value
 * itself, IMF-fixdate). Both may be sent if they name the same second.
 */
static int request_time(const json_t *req, time_t *out, stir_error *err)
{
    const json_t *t = json_object_get(req, "time"), *d = json_object_get(req, "date");
    if (!t && !d)
        return stir_fail_missing(err, "time", "missing time (or date)");
    if (t && (!json_is_integer(t) || json_integer_value(t) <= 0))
        return stir_fail(err, STIR_ERR_INPUT, "time", "must be a positive integer NumericDate");
    if (t)
        *out = (time_t)json_integer_value(t);
    if (!d)
        return 0;
    const char *why = "must be a string";
    time_t dt;
    if (!json_is_string(d) ||
        sti_httpdate_parse(json_string_value(d), json_string_length(d), &dt, &why))
        return stir_fail(err, STIR_ERR_INPUT, "date", "%s", why);
    if (t && dt != *out)
        return stir_fail(err, STIR_ERR_INPUT, "date",
                         "date names %lld but time is %lld: send "
                         "one of them, or both for the same second",
                         (long long)dt, (long long)*out);
    *out = dt;
    return 0;
}

/* 0 read, 1 absent and optional, else the error code. */
static int get_ident(const json_t *req, const char *name, stir_ident *out, int required, int flags,
                     stir_error *err)
{
    const json_t *v = json_object_get(req, name);
    if (!v) {
        if (required)
            return stir_fail_missing(err, name, "missing %s", name);
        return 1;
    }
    return stir_ident_from_json_ex(v, out, flags, name, err);
}

static int add_identity(stir_ms_verify_request *r, const json_t *v)
{
    r->identity[r->n_identity] = json_string_value(v);
    r->identity_len[r->n_identity++] = json_string_length(v);
    return 0;
}

/* The Identity header values: identityHeader first, then the array
 * (identityHeaders, or IdentityHeaders in the Neustar dialect). */
static int collect_headers(const json_t *req, stir_ms_verify_request *r, stir_error *err)
{
    const json_t *one = json_object_get(req, "identityHeader");
    const json_t *many = json_object_get(req, "identityHeaders");
    const char *many_name = "identityHeaders";
    if (!many && (many = json_object_get(req, "IdentityHeaders")))
        many_name = "IdentityHeaders";
    if (one) {
        if (!json_is_string(one) || json_string_length(one) == 0)
            return stir_fail(err, STIR_ERR_INPUT, "identityHeader", "must be a non-empty string");
        add_identity(r, one);
        r->has_orig = 1;
    }
    if (many) {
        if (!json_is_array(many))
            return stir_fail(err, STIR_ERR_INPUT, many_name, "must be an array of strings");
        if (json_array_size(many) + r->n_identity > STIR_MAX_IDENTITY_HEADERS)
            return stir_fail(err, STIR_ERR_INPUT, many_name, "more than %d Identity header values",
                             STIR_MAX_IDENTITY_HEADERS);
        for (size_t i = 0; i < json_array_size(many); i++) {
            const json_t *e = json_array_get(many, i);
            if (!json_is_string(e) || json_string_length(e) == 0)
                return stir_fail(err, STIR_ERR_INPUT, many_name,
                                 "element %zu must be a non-empty string", i);
            add_identity(r, e);
        }
    }
    if (r->n_identity == 0)
        return stir_fail_missing(err, "identityHeader",
                                 "missing identityHeader (and no identityHeaders)");
    return 0;
}

int stir_ms_parse_verify(const json_t *req, int ident_flags, stir_ms_verify_request *out,
                         stir_error *err)
{
    int rc;
    out->members = req;
    out->n_identity = 0;
    out->has_orig = out->has_dest = 0;
    out->resource_priority = out->priority = NULL;
    out->request_id = NULL;
    out->request_id_len = 0;
    out->rp_buf[0] = out->priority_buf[0] = '\0';
    memset(&out->from, 0, sizeof out->from);
    memset(&out->to, 0, sizeof out->to);
    memset(&out->dest, 0, sizeof out->dest);
    out->time = 0;
    if (!json_is_object(req))
        return stir_fail(err, STIR_ERR_INPUT, "verificationRequest", "must be a JSON object");
    if ((rc = collect_headers(req, out, err)) ||
        (rc = get_ident(req, "to", &out->to, 1, ident_flags, err)))
        return rc;
    if ((rc = get_ident(req, "dest", &out->dest, 0, ident_flags, err)) > 1)
        return rc;
    out->has_dest = rc == 0;
    /* Table V.2.6.2-1 marks from M: a request without it is malformed. An
     * anonymous one is a request like any other: 433 per PASSporT. */
    if ((rc = get_ident(req, "from", &out->from, 1, ident_flags, err)) ||
        (rc = request_time(req, &out->time, err)) ||
        (rc = stir_ms_request_id(req, NULL, &out->request_id, &out->request_id_len, err)))
        return rc;
    for (size_t i = 0; i < 2; i++) {
        const char *name = i ? "appId" : "avatarId";
        const json_t *m = json_object_get(req, name);
        if (m && (!json_is_string(m) || json_string_length(m) > STI_CLAIM_STRING_MAX))
            return stir_fail(err, STIR_ERR_INPUT, name, "must be a string of at most %d bytes",
                             STI_CLAIM_STRING_MAX);
    }
    return parse_protected(req, out, err);
}

#define RAW(b, lit) stir_jbuf_raw((b), (lit), sizeof(lit) - 1)

static void jbuf_cstr(stir_jbuf *b, const char *s)
{
    stir_jbuf_string(b, s, strlen(s));
}

/* ---- responses ----------------------------------------------------------- */

char *stir_ms_sign_response(const char *identity, const char *request_id, size_t request_id_len,
                            size_t *len)
{
    stir_jbuf b = {0};
    size_t il = strlen(identity);
    /* One allocation when nothing needs escaping (the usual case), of
     * 1 KiB for a usual Identity value: see stir_ms_verify_response. */
    stir_jbuf_reserve(&b, il + request_id_len + 64);
    RAW(&b, "{\"signingResponse\":{\"identityHeader\":");
    stir_jbuf_string(&b, identity, il);
    if (request_id) {
        RAW(&b, ",\"requestId\":");
        stir_jbuf_string(&b, request_id, request_id_len);
    }
    RAW(&b, "}}");
    return stir_jbuf_finish(&b, len);
}

static int is_div(const stir_verify_result *r)
{
    return r->payload && r->type && r->type->dest == STIR_DEST_CHAIN;
}

/* `"name":` after a comma unless it is the object's first member. */
static void member(stir_jbuf *b, int *first, const char *name)
{
    if (!*first)
        RAW(b, ",");
    *first = 0;
    RAW(b, "\"");
    stir_jbuf_raw(b, name, strlen(name));
    RAW(b, "\":");
}

/* divResult: one {div, verstatValue} per div PASSporT, in request order. */
static void write_div_results(stir_jbuf *b, const stir_verify_outcome *o, int *first)
{
    int any = 0;
    for (size_t i = 0; i < o->n; i++) {
        const stir_verify_result *r = &o->results[i];
        const json_t *div = is_div(r) ? json_object_get(r->payload, "div") : NULL;
        if (!json_is_object(div))
            continue;
        if (!any)
            member(b, first, "divResult"), RAW(b, "[");
        else
            RAW(b, ",");
        any = 1;
        RAW(b, "{\"div\":");
        stir_jbuf_json(b, div);
        RAW(b, ",\"verstatValue\":");
        jbuf_cstr(b, r->pass ? STIR_VERSTAT_PASSED : STIR_VERSTAT_FAILED);
        RAW(b, "}");
    }
    if (any)
        RAW(b, "]");
}

/* {"verifyResult":{...}} of one PASSporT (Table V.2.6.3-1 VerifyResult). */
static void write_result(stir_jbuf *b, const stir_verify_result *r)
{
    RAW(b, "{\"verifyResult\":{\"ppt\":");
    jbuf_cstr(b, r->ppt);
    if (r->pass) {
        RAW(b, ",\"status\":\"pass\",\"validClaims\":");
        if (r->claims_text) /* the verified payload, as signed */
            stir_jbuf_raw(b, r->claims_text, r->claims_text_len);
        else
            stir_jbuf_json(b, r->claims);
        if (r->rcd) {
            RAW(b, ",\"rcdResult\":");
            stir_jbuf_json(b, r->rcd);
        }
    } else {
        RAW(b, ",\"status\":\"fail\",\"reasonCode\":");
        stir_jbuf_int(b, r->err.code);
        if (r->err.text) {
            RAW(b, ",\"reasonText\":");
            jbuf_cstr(b, r->err.text);
        }
        RAW(b, ",\"reasonDescription\":");
        jbuf_cstr(b, r->err.detail);
        char *reason = stir_reason_format(r->err.code, r->err.text, r->compact);
        if (reason) {
            RAW(b, ",\"reasonHeader\":");
            jbuf_cstr(b, reason);
            free(reason);
        }
        if (r->passport && stir_utf8_valid(r->passport, strlen(r->passport))) {
            RAW(b, ",\"passport\":");
            jbuf_cstr(b, r->passport);
        }
    }
    RAW(b, "}}");
}

char *stir_ms_verify_response(const stir_verify_outcome *o, const stir_ms_verify_request *req,
                              size_t *len)
{
    stir_jbuf b = {0};
    /* A result is about 300 bytes. For one PASSporT the buffer stays
     * within 1 KiB, which glibc's per-thread cache serves (requests up to
     * 1032 bytes); a larger first reservation went to the arena and
     * cost a malloc_consolidate per response. */
    stir_jbuf_reserve(&b, 384 + 512 * o->n);
    RAW(&b, "{\"verificationResponse\":{");
    int first = 1;
    if (o->verstat) {
        member(&b, &first, "verstatValue");
        jbuf_cstr(&b, o->verstat);
    }
    if (o->priority) {
        member(&b, &first, "verstatPriority");
        jbuf_cstr(&b, o->priority);
    }
    write_div_results(&b, o, &first);
    member(&b, &first, "verifyResults");
    RAW(&b, "[");
    for (size_t i = 0; i < o->n; i++) {
        if (i)
            RAW(&b, ",");
        write_result(&b, &o->results[i]);
    }
    RAW(&b, "]");
    if (req && req->request_id) {
        RAW(&b, ",\"requestId\":");
        stir_jbuf_string(&b, req->request_id, req->request_id_len);
    }
    RAW(&b, "}}");
    return stir_jbuf_finish(&b, len);
}
