/*
 * Rich Call Data verification (RFC 9795 8, RFC 9796): stir_rcd_verify in
 * named steps -- the claim checks, the jCard at jcl, every rcdi digest --
 * each failure recorded in a report whose first reason becomes the 438
 * description and whose pointers become "failed". A fetch that would block
 * (STIR_CACHE_NOWAIT) ends the call with STIR_WOULD_BLOCK instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stir/encoding.h"
#include "stir/rcd.h"
#include "internal.h"
#include "rcd_internal.h"

/* The failures of one verify call. */
typedef struct verify_report {
    json_t *failed; /* pointers, each once */
    size_t nfail;
    char first[STIR_DETAIL_MAX];
} verify_report;

/* How a verification step ends, besides the failures it reports. */
enum { STEP_DONE = 0, STEP_STOP = 1, STEP_WOULD_BLOCK = 2, STEP_NOMEM = -1 };

static void report_failure(verify_report *report, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report_failure(verify_report *report, const char *ptr, const char *fmt, ...)
{
    if (report->nfail++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(report->first, sizeof report->first, fmt, ap);
        va_end(ap);
        stir_utf8_repair(report->first);
    }
    if (!ptr || !*ptr)
        return;
    for (size_t i = 0; i < json_array_size(report->failed); i++)
        if (strcmp(json_string_value(json_array_get(report->failed, i)), ptr) == 0)
            return;
    json_array_append_new(report->failed, json_string(ptr));
}

/* "rcd.jcl" -> "/jcl": the pointer of a claim-check failure. */
static void report_claim_failure(verify_report *report, const stir_error *e)
{
    char ptr[STIR_FIELD_MAX + 1] = "";
    if (strncmp(e->field, "rcd.", 4) == 0)
        snprintf(ptr, sizeof ptr, "/%s", e->field + 4);
    report_failure(report, ptr, "%s", e->detail);
}

/* RFC 9795 section that requires a digest for a link pointer. */
static const char *link_section(const char *ptr)
{
    if (strcmp(ptr, "/icn") == 0)
        return "6.1.2";
    if (strncmp(ptr, "/jcd", 4) == 0)
        return "6.1.3";
    return "6.1.4";
}

/*
 * Step 1: the claims themselves (crn, rcd, rcdi), the number of links,
 * and a digest for every link of the rcd claim. STEP_STOP when nothing
 * further can be checked.
 */
static int check_claims(rcd_call *call, const json_t *rcdi, const json_t *crn,
                        verify_report *report)
{
    stir_error e;
    memset(&e, 0, sizeof e);
    if (crn && stir_crn_check(crn, "crn", STIR_ERR_INVALID, &e)) {
        report_failure(report, NULL, "%s", e.detail);
        return STEP_STOP;
    }
    if (!call->rcd) {
        if (rcdi)
            report_failure(report, NULL,
                           "rcdi without rcd (RFC 9795 6: rcdi requires an rcd claim)");
        return STEP_STOP;
    }
    size_t jmax = call->cfg->max_jcard_bytes < JCARD_CAP ? call->cfg->max_jcard_bytes : JCARD_CAP;
    if (rcd_claim_check(call->rcd, "rcd", STIR_ERR_INVALID, jmax, &e)) {
        report_claim_failure(report, &e);
        return STEP_STOP;
    }
    if (rcdi && stir_rcdi_check(rcdi, "rcdi", STIR_ERR_INVALID, &e)) {
        report_failure(report, NULL, "%s", e.detail);
        return STEP_STOP;
    }
    rcd_claim_links(call);
    if (call->total > call->cap) {
        report_failure(report, NULL,
                       "rcd links %zu URIs (icn, jcl and jCard URIs); at most "
                       "%zu (max_links)",
                       call->total, call->cap);
        return STEP_STOP;
    }
    if (!rcdi) {
        /* Mode 1 needs nothing more; with links, rcdi was required (RFC 9795 4). */
        for (size_t i = 0; i < call->nlinks; i++)
            report_failure(report, call->links[i].ptr,
                           "%s has no rcdi digest (RFC 9795 %s; "
                           "the PASSporT has no rcdi)",
                           call->links[i].ptr, link_section(call->links[i].ptr));
        return STEP_STOP;
    }
    for (size_t i = 0; i < call->nlinks; i++)
        if (!json_object_get(rcdi, call->links[i].ptr))
            report_failure(report, call->links[i].ptr, "%s has no rcdi digest (RFC 9795 %s)",
                           call->links[i].ptr, link_section(call->links[i].ptr));
    return STEP_DONE;
}

/* A fetched jCard whose digest matched: parsed, and its own links counted
 * and required in rcdi. On failure the jCard is dropped (call->card NULL),
 * so that the "/jcl/..." digests are skipped. */
static void use_jcl_card(rcd_call *call, const json_t *rcdi, const char *url, verify_report *report)
{
    char why[240];
    if (rcd_parse_card(call, why, sizeof why)) {
        json_decref(call->card);
        call->card = NULL;
        report_failure(report, "/jcl", "/jcl %.100s: %s", url, why);
        return;
    }
    size_t before = call->nlinks;
    rcd_card_links(call, call->card, "/jcl");
    if (call->total > call->cap) {
        report_failure(report, "/jcl",
                       "rcd links %zu URIs with those of the jCard at %.100s; "
                       "at most %zu (max_links)",
                       call->total, url, call->cap);
        json_decref(call->card);
        call->card = NULL;
        return;
    }
    for (size_t i = before; i < call->nlinks; i++)
        if (!json_object_get(rcdi, call->links[i].ptr))
            report_failure(report, call->links[i].ptr, "%s has no rcdi digest (RFC 9795 6.1.4)",
                           call->links[i].ptr);
}

/* Step 2: the jCard at jcl, fetched, its digest compared, then parsed. */
static int verify_jcl(rcd_call *call, const json_t *rcdi, verify_report *report, stir_error *err)
{
    const json_t *jcl = json_object_get(call->rcd, "jcl"), *jdig = json_object_get(rcdi, "/jcl");
    if (!jcl || !jdig)
        return STEP_DONE;
    const char *url = json_string_value(jcl), *want = json_string_value(jdig);
    stir_error ferr;
    memset(&ferr, 0, sizeof ferr);
    char dig[100], alg[16];
    int d = rcd_load_jcl(call, url, &ferr);
    if (d == STIR_WOULD_BLOCK) {
        stir_fail(err, STIR_WOULD_BLOCK, "rcd.jcl", "%s", ferr.detail);
        return STEP_WOULD_BLOCK;
    }
    if (d == DIGEST_NOT_FETCHED)
        report_failure(report, "/jcl", "/jcl %.100s not verified (%s)", url, call->nofetch);
    else if (d)
        report_failure(report, "/jcl", "/jcl %.100s not verified: %s", url,
                       rcd_fetch_reason(&ferr));
    else if (stir_rcd_digest(rcd_alg_of(want, alg), call->jcl_body->data, call->jcl_body->len, dig))
        return STEP_NOMEM;
    else if (!rcd_digest_equal(dig, want))
        report_failure(report, "/jcl",
                       "rcdi /jcl: digest mismatch: the jCard at %.100s hashes "
                       "to %s, the PASSporT says %.100s (RFC 9795 8.2)",
                       url, dig, want);
    else
        use_jcl_card(call, rcdi, url, report);
    return STEP_DONE;
}

/* Step 3: every rcdi digest but /jcl's, in code-point order of the keys. */
static int verify_digests(rcd_call *call, const json_t *rcdi, verify_report *report,
                          stir_error *err)
{
    const json_t *jcl = json_object_get(call->rcd, "jcl");
    stir_error ferr;
    memset(&ferr, 0, sizeof ferr);
    const char *keys[RCDI_MAX_KEYS];
    size_t nk = rcd_sorted_keys(rcdi, keys, RCDI_MAX_KEYS);
    for (size_t i = 0; i < nk; i++) {
        const char *k = keys[i], *want = json_string_value(json_object_get(rcdi, k));
        if (strcmp(k, "/jcl") == 0 && jcl)
            continue; /* verify_jcl checked it */
        if (strncmp(k, "/jcl/", 5) == 0 && jcl && !call->card)
            continue; /* the jCard could not be used: /jcl already failed */
        char dig[100], alg[16];
        int d = rcd_digest_at(call, k, rcd_alg_of(want, alg), dig, &ferr);
        const rcd_link *l = rcd_link_find(call, k);
        switch (d) {
        case DIGEST_OK:
            if (!rcd_digest_equal(dig, want))
                report_failure(report, k,
                               "rcdi %.60s: digest mismatch: %s%.100s hashes to "
                               "%s, the PASSporT says %.100s (RFC 9795 8.2)",
                               k, l ? "the content of " : "the rcd value", l ? l->url : "", dig,
                               want);
            break;
        case STIR_WOULD_BLOCK:
            stir_fail(err, STIR_WOULD_BLOCK, rcd_member_of(k), "%s", ferr.detail);
            return STEP_WOULD_BLOCK;
        case DIGEST_UNRESOLVED:
            report_failure(report, k,
                           "rcdi %.60s does not resolve in the rcd claim "
                           "(RFC 9795 6, RFC 6901)",
                           k);
            break;
        case DIGEST_NOT_FETCHED:
            report_failure(report, k, "%.60s %.100s not verified (%s)", k, l ? l->url : "",
                           call->nofetch);
            break;
        case DIGEST_FETCH_FAILED:
            report_failure(report, k, "%.60s %.100s not verified: %s", k, l ? l->url : "",
                           rcd_fetch_reason(&ferr));
            break;
        default:
            return STEP_NOMEM;
        }
    }
    return STEP_DONE;
}

static void set_str(json_t *o, const char *k, const json_t *v)
{
    if (json_is_string(v))
        json_object_set_new(o, k, json_string(json_string_value(v)));
}

/* A structured jCard value ("MI6", "Q Branch") in its text form "MI6;Q Branch". */
static json_t *structured_text(const json_t *v)
{
    char buf[512] = "";
    size_t o = 0;
    for (size_t k = 0; k < json_array_size(v) && o < sizeof buf; k++) {
        const char *s = json_string_value(json_array_get(v, k));
        int m = snprintf(buf + o, sizeof buf - o, "%s%s", k ? ";" : "", s ? s : "");
        o += m > 0 ? (size_t)m : 0;
    }
    stir_utf8_repair(buf);
    return json_string(buf);
}

/* "display": what the callee may show (RFC 9796 Call-Info material). */
static json_t *display_of(const json_t *rcd, const json_t *card, const json_t *crn)
{
    json_t *d = json_object();
    if (!d)
        return NULL;
    set_str(d, "name", json_object_get(rcd, "nam"));
    set_str(d, "apn", json_object_get(rcd, "apn"));
    set_str(d, "icon", json_object_get(rcd, "icn"));
    set_str(d, "reason", crn);
    const json_t *props = card ? json_array_get(card, 1) : NULL;
    static const char *const want[] = {"fn", "org", "logo", "photo", "tel"};
    for (size_t i = 0; i < json_array_size(props); i++) {
        const json_t *p = json_array_get(props, i);
        const char *nm = json_string_value(json_array_get(p, 0));
        const json_t *v = json_array_get(p, 3);
        for (size_t w = 0; nm && w < 5; w++) {
            if (strcasecmp(nm, want[w]) != 0 || json_object_get(d, want[w]))
                continue;
            if (json_is_string(v))
                set_str(d, want[w], v);
            else if (json_is_array(v))
                json_object_set_new(d, want[w], structured_text(v));
        }
    }
    return d;
}

/* Step 4: the result object, "fail" with the report or "pass" with "display". */
static json_t *verify_result(const rcd_call *call, const json_t *crn, const verify_report *report)
{
    json_t *result = json_object();
    if (!result)
        return NULL;
    int bad;
    if (report->nfail) {
        char desc[STIR_DETAIL_MAX + 40];
        if (report->nfail > 1)
            snprintf(desc, sizeof desc, "%s (and %zu more)", report->first, report->nfail - 1);
        else
            snprintf(desc, sizeof desc, "%s", report->first);
        bad = json_object_set_new(result, "status", json_string("fail")) ||
              json_object_set_new(result, "reasonCode", json_integer(STIR_ERR_INVALID)) ||
              json_object_set_new(result, "reasonText", json_string(INVALID_TEXT)) ||
              json_object_set_new(result, "reasonDescription", json_string(desc)) ||
              json_object_set(result, "failed", report->failed);
    } else {
        const json_t *card = call->card ? call->card : json_object_get(call->rcd, "jcd");
        bad = json_object_set_new(result, "status", json_string("pass")) ||
              json_object_set_new(result, "display", display_of(call->rcd, card, crn));
    }
    if (bad) {
        json_decref(result);
        return NULL;
    }
    return result;
}

json_t *stir_rcd_verify(stir_rcd *r, const json_t *claims, int flags, stir_error *err)
{
    stir_error_clear(err);
    if (!json_is_object(claims)) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_rcd_verify: claims is not an object");
        return NULL;
    }
    const json_t *rcd = json_object_get(claims, "rcd"), *rcdi = json_object_get(claims, "rcdi"),
                 *crn = json_object_get(claims, "crn");
    if (!rcd && !crn && !rcdi)
        return NULL;

    rcd_call call;
    if (rcd_call_init(&call, r, rcd, flags, 1, err))
        return NULL;
    verify_report report;
    memset(&report, 0, sizeof report);
    json_t *result = NULL;
    int step = STEP_NOMEM;
    if ((report.failed = json_array())) {
        step = check_claims(&call, rcdi, crn, &report);
        if (step == STEP_DONE)
            step = verify_jcl(&call, rcdi, &report, err);
        if (step == STEP_DONE)
            step = verify_digests(&call, rcdi, &report, err);
    }
    if (step == STEP_DONE || step == STEP_STOP) {
        result = verify_result(&call, crn, &report);
        if (!result)
            step = STEP_NOMEM;
    }
    if (step == STEP_NOMEM)
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    if (err && err->code && result) {
        json_decref(result);
        result = NULL;
    }
    json_decref(report.failed);
    rcd_call_free(&call);
    return result;
}
