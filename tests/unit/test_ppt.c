/*
 * The PASSporT type registry through its public API (include/stir/ppt.h):
 * the built-in types and what the RFCs say about them, the claim checks of
 * div (RFC 8946 3, 8; RFC 7044 5), rph (RFC 8443 3, 4.2; RFC 4412 3.1),
 * sph (RFC 9027 4) and shaken (RFC 8588 4, 5), registration of configured
 * types, and the claim type names. Expected values come from the RFC rules
 * quoted next to each case, never from the implementation's output.
 */
#include <pthread.h>
#include <stdio.h>

#include "test_util.h"
#include "stir/stir.h"

/* ---- helpers ------------------------------------------------------------ */

static stir_ctx *g_ctx; /* the context of every test but the one on contexts */

static const stir_ppt_type *find(const char *name)
{
    const stir_ppt_type *t = stir_ppt_find(g_ctx, name);
    if (!t)
        fail_msg("type \"%s\" is not registered", name ? name : "(NULL)");
    return t;
}

static const stir_claim_spec *claim(const stir_ppt_type *t, const char *name)
{
    for (size_t i = 0; i < t->n_claims; i++)
        if (t->claims[i].name && !strcmp(t->claims[i].name, name))
            return &t->claims[i];
    return NULL;
}

static json_t *js(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("bad test JSON %s: %s", text, je.text);
    return j;
}

/* Run the value check of claim `cname` of type `tname` on `text`. */
static int run_check(const char *tname, const char *cname, const char *text, int code,
                     stir_error *err)
{
    const stir_claim_spec *c = claim(find(tname), cname);
    if (!c)
        fail_msg("type %s has no claim %s", tname, cname);
    if (!c->check)
        fail_msg("claim %s of %s has no value check", cname, tname);
    json_t *v = js(text);
    stir_error_clear(err);
    int rc = c->check(v, cname, code, err);
    json_decref(v);
    return rc;
}

static void check_ok(const char *tname, const char *cname, const char *text)
{
    stir_error err;
    int rc = run_check(tname, cname, text, 438, &err);
    if (rc)
        fail_msg("%s %s %s: expected valid, got %d: %s", tname, cname, text, rc, err.detail);
}

/* Invalid: the given code comes back, for both codes (400 signing, 438
 * verifying), and the error names the claim. */
static void check_bad(const char *tname, const char *cname, const char *text)
{
    static const int codes[] = {400, 438};
    for (size_t i = 0; i < 2; i++) {
        stir_error err;
        int rc = run_check(tname, cname, text, codes[i], &err);
        if (rc != codes[i])
            fail_msg("%s %s %s: expected %d, got %d", tname, cname, text, codes[i], rc);
        assert_int_equal(err.code, codes[i]);
        if (strncmp(err.field, cname, strlen(cname)))
            fail_msg("%s %s %s: error field \"%s\" does not name %s", tname, cname, text, err.field,
                     cname);
        assert_true(err.detail[0] != '\0');
    }
}

/* The type's check_claims over a whole claim set. */
static int cross_check(const char *tname, const char *claims_text, int code, stir_error *err)
{
    const stir_ppt_type *t = find(tname);
    if (!t->check_claims)
        fail_msg("type %s has no cross-claim check", tname);
    json_t *c = js(claims_text);
    stir_error_clear(err);
    int rc = t->check_claims(c, code, err);
    json_decref(c);
    return rc;
}

/* The type's check_request against a SIP context. */
static int request_check(const char *tname, const char *claims_text, const char *rp,
                         const char *prio, const json_t *request, stir_error *err)
{
    const stir_ppt_type *t = find(tname);
    if (!t->check_request)
        fail_msg("type %s has no request check", tname);
    stir_verify_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.resource_priority = rp;
    ctx.priority = prio;
    ctx.request = request;
    json_t *c = js(claims_text);
    stir_error_clear(err);
    int rc = t->check_request(c, &ctx, err);
    json_decref(c);
    return rc;
}

static int names_contain(const char *name)
{
    const char *all = stir_ppt_names(g_ctx);
    size_t n = strlen(name);
    for (const char *p = all; (p = strstr(p, name)) != NULL; p += n) {
        int start = p == all || p[-1] == ' ' || p[-1] == ',';
        int end = p[n] == '\0' || p[n] == ',';
        if (start && end)
            return 1;
    }
    return 0;
}

/* ---- the built-in types ---------------------------------------------------- */

static void test_builtin_types(void **state)
{
    (void)state;
    static const char *const names[] = {"shaken", "div", "rph", "rcd", "avatar"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const stir_ppt_type *t = find(names[i]);
        assert_string_equal(t->name, names[i]);
        assert_true(t->n_claims <= STIR_PPT_MAX_CLAIMS);
        if (!names_contain(names[i]))
            fail_msg("stir_ppt_names(g_ctx) \"%s\" does not list %s", stir_ppt_names(g_ctx),
                     names[i]);
        /* RFC 8225 8.3: an extension never redefines the baseline claims. */
        for (size_t k = 0; k < t->n_claims; k++) {
            assert_non_null(t->claims[k].name);
            assert_string_not_equal(t->claims[k].name, "orig");
            assert_string_not_equal(t->claims[k].name, "dest");
            assert_string_not_equal(t->claims[k].name, "iat");
        }
    }
    /* The baseline RFC 8225 PASSporT: "" and NULL name it. */
    const stir_ppt_type *base = find("");
    assert_ptr_equal(stir_ppt_find(g_ctx, NULL), base);
    assert_string_equal(base->name, "");
    /* RFC 8225 8.1: a ppt nobody registered is unknown; div-o (RFC 8946 5)
     * is not implemented. ppt values are exact tokens. */
    assert_null(stir_ppt_find(g_ctx, "div-o"));
    assert_null(stir_ppt_find(g_ctx, "foo"));
    assert_null(stir_ppt_find(g_ctx, "shaken "));
    assert_null(stir_ppt_find(g_ctx, "shake"));

    /* shaken (RFC 8588 3, 4, 5): attest and origid; it attests the caller. */
    const stir_ppt_type *sh = find("shaken");
    assert_non_null(claim(sh, "attest"));
    assert_true(claim(sh, "attest")->required);
    assert_non_null(claim(sh, "origid"));
    assert_true(sh->attests_orig);
    assert_int_equal(sh->scope, STIR_SCOPE_ORIG);
    assert_int_equal(sh->dest, STIR_DEST_TO);
    assert_true(sh->full_form_only); /* RFC 8588 3 */
    /* RFC 9795 13: rcd, rcdi, crn may ride in a shaken PASSporT. */
    assert_non_null(claim(sh, "rcd"));
    assert_false(claim(sh, "rcd")->required);

    /* div (RFC 8946 3): the div claim is mandatory; the certificate covers
     * the diverting identity; dest is checked by the chain, not To. */
    const stir_ppt_type *dv = find("div");
    assert_non_null(claim(dv, "div"));
    assert_true(claim(dv, "div")->required);
    assert_int_equal(claim(dv, "div")->type, STIR_CLAIM_OBJECT);
    assert_int_equal(dv->scope, STIR_SCOPE_DIV);
    assert_int_equal(dv->dest, STIR_DEST_CHAIN);
    assert_true(dv->full_form_only); /* RFC 8946 3: full form MUST */
    assert_false(dv->attests_orig);
    /* RFC 8946 3: no attest/origid/rph copied into a div PASSporT. */
    assert_null(claim(dv, "attest"));
    assert_null(claim(dv, "origid"));
    assert_null(claim(dv, "rph"));
    assert_null(claim(dv, "opt")); /* div PASSporTs MUST NOT contain opt */

    /* rph (RFC 8443 3, RFC 9027 4): rph mandatory, sph optional. */
    const stir_ppt_type *rp = find("rph");
    assert_non_null(claim(rp, "rph"));
    assert_true(claim(rp, "rph")->required);
    assert_non_null(claim(rp, "sph"));
    assert_false(claim(rp, "sph")->required);
    assert_true(rp->reports_priority);
    assert_false(rp->attests_orig);
    assert_true(rp->full_form_only); /* RFC 8443 3 */
    assert_int_equal(rp->scope, STIR_SCOPE_ORIG);

    /* rcd (RFC 9795 8): rcd and/or crn, neither alone mandatory. */
    const stir_ppt_type *rc = find("rcd");
    assert_non_null(claim(rc, "rcd"));
    assert_non_null(claim(rc, "crn"));
    assert_non_null(claim(rc, "rcdi"));
    assert_false(claim(rc, "rcd")->required);
    assert_false(claim(rc, "crn")->required);
    assert_false(rc->attests_orig);
    assert_false(rc->reports_priority);

    /* avatar (docs/API.md): avatar and appid both mandatory strings. */
    const stir_ppt_type *av = find("avatar");
    assert_non_null(claim(av, "avatar"));
    assert_true(claim(av, "avatar")->required);
    assert_int_equal(claim(av, "avatar")->type, STIR_CLAIM_STRING);
    assert_non_null(claim(av, "appid"));
    assert_true(claim(av, "appid")->required);
    assert_int_equal(claim(av, "appid")->type, STIR_CLAIM_STRING);
    assert_false(av->attests_orig);
}

/* ---- div (RFC 8946 3, 8; RFC 7044 5) ------------------------------------------ */

static void test_div_claim(void **state)
{
    (void)state;
    /* One identity, tn or uri (RFC 8946 3, RFC 8225 5.2.1). */
    check_ok("div", "div", "{\"tn\":\"12155551213\"}");
    check_ok("div", "div", "{\"uri\":\"sip:alice@example.com\"}");
    /* RFC 8946 8: hi = History-Info index, index-val = number *("." number). */
    check_ok("div", "div", "{\"tn\":\"12155551213\",\"hi\":\"1.2.1\"}");
    check_ok("div", "div", "{\"hi\":\"1\",\"tn\":\"12155551213\"}");
    check_ok("div", "div", "{\"tn\":\"12155551213\",\"hi\":\"1.10.22\"}");
    check_ok("div", "div", "{\"uri\":\"sip:bob@example.com\",\"hi\":\"1.1\"}");

    check_bad("div", "div", "{}");
    check_bad("div", "div", "{\"tn\":\"12155551213\",\"uri\":\"sip:a@example.com\"}");
    check_bad("div", "div", "{\"tn\":12155551213}");
    check_bad("div", "div", "{\"uri\":[\"sip:a@example.com\"]}");
    check_bad("div", "div", "{\"tn\":[\"12155551213\"]}"); /* a dest shape, not one identity */
    check_bad("div", "div", "{\"hi\":\"1.2\"}");           /* hi without an identity */
    check_bad("div", "div", "{\"tn\":\"12155551213\",\"x\":\"1\"}");
    /* hi that is not number *("." number) (RFC 7044 5). */
    static const char *const bad_hi[] = {"\"\"",    "\".1\"",   "\"1.\"",   "\"1..2\"",
                                         "\"a.1\"", "\"1.2a\"", "\"1 .2\"", "\"-1\"",
                                         "1",       "[\"1\"]",  "\"1,2\""};
    for (size_t i = 0; i < sizeof bad_hi / sizeof bad_hi[0]; i++) {
        char buf[96];
        snprintf(buf, sizeof buf, "{\"tn\":\"12155551213\",\"hi\":%s}", bad_hi[i]);
        check_bad("div", "div", buf);
    }
}

/* Signing: the request's div becomes the claim, TN canonicalized (RFC
 * 8224 8.3) and hi kept inside the div object (RFC 8946 8). */
static void test_div_build(void **state)
{
    (void)state;
    const stir_claim_spec *c = claim(find("div"), "div");
    assert_non_null(c->build);
    stir_error err;
    json_t *in = js("{\"tn\":\"+1 (215) 555-1213\",\"hi\":\"1.2.1\"}");
    json_t *out = c->build(in, "div", &err);
    if (!out)
        fail_msg("build failed: %s", err.detail);
    json_t *want = js("{\"hi\":\"1.2.1\",\"tn\":\"12155551213\"}");
    assert_true(json_equal(out, want));
    assert_int_equal(c->check(out, "div", 400, &err), 0);
    json_decref(in);
    json_decref(out);
    json_decref(want);

    in = js("{\"tn\":\"1.215.555.1213\"}");
    out = c->build(in, "div", &err);
    assert_non_null(out);
    want = js("{\"tn\":\"12155551213\"}");
    assert_true(json_equal(out, want));
    json_decref(in);
    json_decref(out);
    json_decref(want);

    /* A bad hi is refused with 400 naming the div member. */
    in = js("{\"tn\":\"12155551213\",\"hi\":\"1..2\"}");
    stir_error_clear(&err);
    out = c->build(in, "div", &err);
    if (out) {
        /* build may leave the hi to the check that runs after it */
        assert_int_equal(c->check(out, "div", 400, &err), 400);
        json_decref(out);
    } else {
        assert_int_equal(err.code, 400);
        assert_memory_equal(err.field, "div", 3);
    }
    json_decref(in);

    /* Not an identity: 400. */
    in = js("{\"tn\":\"12155551213\",\"uri\":\"sip:a@example.com\"}");
    stir_error_clear(&err);
    out = c->build(in, "div", &err);
    assert_null(out);
    assert_int_equal(err.code, 400);
    json_decref(in);
}

/* ---- rph (RFC 8443 3; RFC 4412 3.1) and sph (RFC 9027 4) -------------------------- */

static void test_rph_claim(void **state)
{
    (void)state;
    check_ok("rph", "rph", "{\"auth\":[\"ets.0\",\"wps.0\"]}"); /* RFC 8443 3 */
    check_ok("rph", "rph", "{\"auth\":[\"esnet.1\"]}");         /* RFC 9027 3 */
    check_ok("rph", "rph", "{\"auth\":[\"esnet.0\"]}");
    check_ok("rph", "rph", "{\"auth\":[\"dsn.flash-override\"]}"); /* RFC 4412 r-priority token */

    check_bad("rph", "rph", "{}");
    check_bad("rph", "rph", "{\"auth\":[]}");        /* nothing asserted */
    check_bad("rph", "rph", "{\"auth\":\"ets.0\"}"); /* auth is an array */
    check_bad("rph", "rph", "{\"auth\":[1]}");
    check_bad("rph", "rph", "{\"auth\":[\"ets\"]}");  /* r-value needs "." */
    check_bad("rph", "rph", "{\"auth\":[\".0\"]}");   /* empty namespace */
    check_bad("rph", "rph", "{\"auth\":[\"ets.\"]}"); /* empty r-priority */
    check_bad("rph", "rph", "{\"auth\":[\"ets 0\"]}");
    check_bad("rph", "rph", "{\"auth\":[\"ets.0\",\"wps 0\"]}"); /* every value checked */
    check_bad("rph", "rph", "{\"auth\":[\"et(s.0\"]}");          /* "(" is not a token char */
    check_bad("rph", "rph", "[\"ets.0\"]");                      /* the claim is an object */
}

static void test_rph_build(void **state)
{
    (void)state;
    const stir_claim_spec *c = claim(find("rph"), "rph");
    assert_non_null(c->build);
    stir_error err;
    /* Table V.2.5.2-1's array of r-values becomes the RFC 8443 object. */
    json_t *in = js("[\"ets.0\",\"wps.0\"]");
    json_t *out = c->build(in, "rph", &err);
    json_t *want = js("{\"auth\":[\"ets.0\",\"wps.0\"]}");
    assert_non_null(out);
    assert_true(json_equal(out, want));
    json_decref(in);
    json_decref(out);
    /* The object form is taken as it is. */
    in = js("{\"auth\":[\"ets.0\",\"wps.0\"]}");
    out = c->build(in, "rph", &err);
    assert_non_null(out);
    assert_true(json_equal(out, want));
    json_decref(in);
    json_decref(out);
    json_decref(want);
    /* Neither shape: 400 naming rph. */
    in = js("\"ets.0\"");
    stir_error_clear(&err);
    out = c->build(in, "rph", &err);
    if (out) {
        assert_int_not_equal(stir_ppt_find(g_ctx, "rph")->claims[0].check(out, "rph", 400, &err),
                             0);
        json_decref(out);
    } else {
        assert_int_equal(err.code, 400);
        assert_string_equal(err.field, "rph");
    }
    json_decref(in);
    /* Array with a bad r-value: build may pass it on, the check refuses it. */
    in = js("[\"ets\"]");
    stir_error_clear(&err);
    out = c->build(in, "rph", &err);
    if (out) {
        assert_int_equal(c->check(out, "rph", 400, &err), 400);
        json_decref(out);
    } else {
        assert_int_equal(err.code, 400);
    }
    json_decref(in);
}

static void test_sph_claim(void **state)
{
    (void)state;
    check_ok("rph", "sph", "\"psap-callback\"");   /* RFC 9027 4 */
    check_bad("rph", "sph", "\"psap-callbacks\""); /* TV-6 negative */
    check_bad("rph", "sph", "\"\"");
    check_bad("rph", "sph", "\"urgent\"");
    check_bad("rph", "sph", "\"psap-callback \"");

    /* sph only with an esnet.x r-value (RFC 9027 4). */
    stir_error err;
    assert_int_equal(cross_check("rph",
                                 "{\"rph\":{\"auth\":[\"esnet.0\"]},\"sph\":\"psap-callback\"}",
                                 400, &err),
                     0);
    assert_int_equal(cross_check("rph",
                                 "{\"rph\":{\"auth\":[\"ets.0\",\"esnet.1\"]},"
                                 "\"sph\":\"psap-callback\"}",
                                 438, &err),
                     0);
    assert_int_equal(cross_check("rph", "{\"rph\":{\"auth\":[\"ets.0\"]}}", 400, &err), 0);
    assert_int_equal(
        cross_check("rph", "{\"rph\":{\"auth\":[\"ets.0\"]},\"sph\":\"psap-callback\"}", 400, &err),
        400);
    assert_string_equal(err.field, "sph");
    assert_int_equal(cross_check("rph",
                                 "{\"rph\":{\"auth\":[\"ets.0\",\"wps.0\"]},"
                                 "\"sph\":\"psap-callback\"}",
                                 438, &err),
                     438);
    assert_string_equal(err.field, "sph");
    /* "esnet" must be the namespace, not a substring of another one. */
    assert_int_equal(cross_check("rph",
                                 "{\"rph\":{\"auth\":[\"xesnet.0\"]},"
                                 "\"sph\":\"psap-callback\"}",
                                 400, &err),
                     400);
}

/* Verification: rph vouches for the request's Resource-Priority (RFC 8443
 * 4.2), sph for its Priority psap-callback (RFC 9027 4). 438 on mismatch. */
static void test_rph_request(void **state)
{
    (void)state;
    stir_error err;
    const char *ets = "{\"rph\":{\"auth\":[\"ets.0\",\"wps.0\"]}}";
    const char *esn = "{\"rph\":{\"auth\":[\"esnet.0\"]},\"sph\":\"psap-callback\"}";
    assert_int_equal(request_check("rph", ets, "ets.0,wps.0", NULL, NULL, &err), 0);
    assert_int_equal(request_check("rph", ets, "ets.0, wps.0", NULL, NULL, &err), 0);
    assert_int_equal(request_check("rph", ets, "wps.0", NULL, NULL, &err), 0);
    assert_int_equal(request_check("rph", ets, "ets.1", NULL, NULL, &err), 438);
    assert_non_null(strstr(err.detail, "ets.1"));
    assert_int_equal(request_check("rph", ets, "ets.0,ets.1", NULL, NULL, &err), 438);
    assert_int_equal(request_check("rph", ets, "esnet.0", NULL, NULL, &err), 438);
    /* no Resource-Priority: nothing to vouch for (RFC 8443 7.1) */
    assert_int_equal(request_check("rph", ets, NULL, NULL, NULL, &err), 438);
    assert_int_equal(request_check("rph", ets, "", NULL, NULL, &err), 438);
    /* sph needs Priority: psap-callback */
    assert_int_equal(request_check("rph", esn, "esnet.0", "psap-callback", NULL, &err), 0);
    assert_int_equal(request_check("rph", esn, "esnet.0", NULL, NULL, &err), 438);
    assert_string_equal(err.field, "sph");
    assert_int_equal(request_check("rph", esn, "esnet.0", "urgent", NULL, &err), 438);
    assert_int_equal(request_check("rph", esn, "esnet.0", "psap-callbacks", NULL, &err), 438);
    /* without sph, the Priority header does not matter */
    assert_int_equal(
        request_check("rph", "{\"rph\":{\"auth\":[\"esnet.0\"]}}", "esnet.0", NULL, NULL, &err), 0);
}

/* ---- shaken (RFC 8588 4, 5) and avatar ---------------------------------------------- */

static int is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!strchr("0123456789abcdefABCDEF", s[i])) {
            return 0;
        }
    }
    return 1;
}

static void test_shaken_claims(void **state)
{
    (void)state;
    check_ok("shaken", "attest", "\"A\"");
    check_ok("shaken", "attest", "\"B\"");
    check_ok("shaken", "attest", "\"C\"");
    check_bad("shaken", "attest", "\"D\"");
    check_bad("shaken", "attest", "\"a\"");
    check_bad("shaken", "attest", "\"\"");
    check_bad("shaken", "attest", "\"AB\"");
    check_ok("shaken", "origid", "\"123e4567-e89b-12d3-a456-426655440000\"");
    check_bad("shaken", "origid", "\"123e4567e89b12d3a456426655440000\"");
    check_bad("shaken", "origid", "\"123e4567-e89b-12d3-a456-42665544000\"");
    check_bad("shaken", "origid", "\"123e4567-e89b-12d3-a456-42665544000g\"");
    /* A missing origid is made (RFC 8588 10: unique per call). */
    const stir_claim_spec *o = claim(find("shaken"), "origid");
    assert_non_null(o->make_default);
    json_t *a = o->make_default(), *b = o->make_default();
    assert_true(json_is_string(a) && json_is_string(b));
    assert_true(is_uuid(json_string_value(a)));
    assert_string_not_equal(json_string_value(a), json_string_value(b));
    stir_error err;
    assert_int_equal(o->check(a, "origid", 400, &err), 0);
    json_decref(a);
    json_decref(b);
}

static void test_avatar_claims(void **state)
{
    (void)state;
    static const char *const names[] = {"avatar", "appid"};
    for (size_t i = 0; i < 2; i++) {
        check_ok("avatar", names[i], "\"urn:example:avatar:7f3a\"");
        check_ok("avatar", names[i], "\"com.example.xr\"");
        check_ok("avatar", names[i], "\"~!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}\"");
        check_bad("avatar", names[i], "\"\"");
        check_bad("avatar", names[i], "\"a\\u0001b\"");  /* control character */
        check_bad("avatar", names[i], "\"a\\u007fb\"");  /* DEL is not printable */
        check_bad("avatar", names[i], "\"caf\\u00e9\""); /* not ASCII */
        check_bad("avatar", names[i], "\"a\\tb\"");
    }
    /* The request's avatarId/appId, when given, must be what was signed. */
    stir_error err;
    const char *claims = "{\"avatar\":\"av-1\",\"appid\":\"com.example.xr\"}";
    json_t *req = js("{\"avatarId\":\"av-1\",\"appId\":\"com.example.xr\"}");
    assert_int_equal(request_check("avatar", claims, NULL, NULL, req, &err), 0);
    json_decref(req);
    req = js("{\"avatarId\":\"av-2\"}");
    assert_int_equal(request_check("avatar", claims, NULL, NULL, req, &err), 438);
    assert_string_equal(err.field, "avatar");
    json_decref(req);
    req = js("{\"appId\":\"com.example.other\"}");
    assert_int_equal(request_check("avatar", claims, NULL, NULL, req, &err), 438);
    assert_string_equal(err.field, "appid");
    json_decref(req);
    req = js("{}");
    assert_int_equal(request_check("avatar", claims, NULL, NULL, req, &err), 0);
    json_decref(req);
}

/* rcd type: rcd or crn needed (RFC 9795 8); rcdi only with rcd (RFC 9795 6). */
static void test_rcd_type_rules(void **state)
{
    (void)state;
    stir_error err;
    assert_int_equal(cross_check("rcd", "{\"rcd\":{\"nam\":\"James Bond\"}}", 400, &err), 0);
    assert_int_equal(cross_check("rcd", "{\"crn\":\"Rendezvous for Little Nellie\"}", 400, &err),
                     0);
    assert_int_equal(cross_check("rcd", "{}", 400, &err), 400);
    assert_int_equal(
        cross_check("rcd", "{\"rcdi\":{\"/jcl\":\"sha256-x\"},\"crn\":\"x\"}", 438, &err), 438);
    /* shaken may carry RCD claims (RFC 9795 13) but need not. */
    assert_int_equal(cross_check("shaken", "{}", 400, &err), 0);
    assert_int_equal(cross_check("shaken", "{\"rcdi\":{\"/jcl\":\"sha256-x\"}}", 400, &err), 400);
}

/* ---- registration --------------------------------------------------------------- */

static stir_claim_spec spec(const char *name, enum stir_claim_type type, int required)
{
    stir_claim_spec c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.type = type;
    c.required = required;
    return c;
}

static int reg(const stir_ppt_type *t, stir_error *err)
{
    stir_error_clear(err);
    return stir_ppt_register(g_ctx, t, err);
}

static void test_register_copies_names(void **state)
{
    (void)state;
    stir_ppt_type t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "acme");
    char *n1 = strdup("tier"), *n2 = strdup("note"), *n3 = strdup("score");
    t.claims[0] = spec(n1, STIR_CLAIM_STRING, 1);
    t.claims[1] = spec(n2, STIR_CLAIM_STRING, 0);
    t.claims[2] = spec(n3, STIR_CLAIM_INTEGER, 0);
    t.n_claims = 3;
    t.full_form_only = 1;
    assert_null(stir_ppt_find(g_ctx, "acme"));
    stir_error err;
    if (reg(&t, &err))
        fail_msg("register acme: %d %s", err.code, err.detail);
    /* The caller's strings change and go away; the table keeps its own. */
    memset(n1, 'X', strlen(n1));
    memset(n2, 'Y', strlen(n2));
    n3[0] = '\0';
    free(n1);
    free(n2);
    free(n3);
    memset(&t, 0, sizeof t);
    const stir_ppt_type *e = stir_ppt_find(g_ctx, "acme");
    assert_non_null(e);
    assert_string_equal(e->name, "acme");
    assert_int_equal(e->n_claims, 3);
    assert_string_equal(e->claims[0].name, "tier");
    assert_string_equal(e->claims[1].name, "note");
    assert_string_equal(e->claims[2].name, "score");
    assert_int_equal(e->claims[0].type, STIR_CLAIM_STRING);
    assert_int_equal(e->claims[2].type, STIR_CLAIM_INTEGER);
    assert_true(e->claims[0].required);
    assert_false(e->claims[1].required);
    assert_true(e->full_form_only);
    assert_true(names_contain("acme"));
    /* The built-in types are still there. */
    assert_non_null(stir_ppt_find(g_ctx, "shaken"));
    assert_non_null(stir_ppt_find(g_ctx, "div"));
}

static void test_register_rejects(void **state)
{
    (void)state;
    stir_error err;
    stir_ppt_type t;

    /* A name that is taken: built-in, or registered before. */
    static const char *const taken[] = {"shaken", "div", "rph", "rcd", "avatar", "acme"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        const stir_ppt_type *before = stir_ppt_find(g_ctx, taken[i]);
        size_t n_before = before ? before->n_claims : 0;
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "%s", taken[i]);
        t.claims[0] = spec("other", STIR_CLAIM_STRING, 0);
        t.n_claims = 1;
        if (reg(&t, &err) != 400)
            fail_msg("registering \"%s\" again was not refused", taken[i]);
        assert_int_equal(err.code, 400);
        assert_true(err.detail[0] != '\0');
        /* the original entry is untouched */
        assert_ptr_equal(stir_ppt_find(g_ctx, taken[i]), before);
        assert_int_equal(stir_ppt_find(g_ctx, taken[i])->n_claims, n_before);
        assert_null(claim(stir_ppt_find(g_ctx, taken[i]), "other"));
    }

    /* Bad type names: empty, not a token (letters, digits, '-', '_'). */
    static const char *const bad_names[] = {"",    "a b",  "x.y", "caf\xc3\xa9",
                                            "a/b", "a\"b", "a;b", "\"shaken\""};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "%s", bad_names[i]);
        t.claims[0] = spec("tier", STIR_CLAIM_STRING, 0);
        t.n_claims = 1;
        if (reg(&t, &err) != 400)
            fail_msg("bad type name \"%s\" was accepted", t.name);
        assert_int_equal(err.code, 400);
        if (t.name[0])
            assert_null(stir_ppt_find(g_ctx, t.name));
    }

    /* Baseline claims cannot be redefined (RFC 8225 8.3). */
    static const char *const baseline[] = {"orig", "dest", "iat"};
    for (size_t i = 0; i < 3; i++) {
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "base%zu", i);
        t.claims[0] = spec("tier", STIR_CLAIM_STRING, 0);
        t.claims[1] = spec(baseline[i], STIR_CLAIM_OBJECT, 0);
        t.n_claims = 2;
        if (reg(&t, &err) != 400)
            fail_msg("claim \"%s\" was accepted", baseline[i]);
        assert_null(stir_ppt_find(g_ctx, t.name));
    }

    /* A claim listed twice. */
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "dup");
    t.claims[0] = spec("tier", STIR_CLAIM_STRING, 0);
    t.claims[1] = spec("note", STIR_CLAIM_STRING, 0);
    t.claims[2] = spec("tier", STIR_CLAIM_INTEGER, 0);
    t.n_claims = 3;
    assert_int_equal(reg(&t, &err), 400);
    assert_null(stir_ppt_find(g_ctx, "dup"));

    /* Bad claim names: none, empty, not ASCII letters/digits/-/_ (RFC 8225
     * 5: claim names are ASCII), longer than 32. */
    static const char *const bad_claims[] = {NULL,
                                             "",
                                             "a.b",
                                             "a b",
                                             "caf\xc3\xa9",
                                             "a\"b",
                                             "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */};
    for (size_t i = 0; i < sizeof bad_claims / sizeof bad_claims[0]; i++) {
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "badclaim%zu", i);
        t.claims[0] = spec(bad_claims[i], STIR_CLAIM_STRING, 0);
        t.n_claims = 1;
        if (reg(&t, &err) != 400)
            fail_msg("claim name \"%s\" was accepted", bad_claims[i] ? bad_claims[i] : "(NULL)");
        assert_null(stir_ppt_find(g_ctx, t.name));
    }

    /* An unknown claim JSON type. */
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "badtype");
    t.claims[0] = spec("tier", (enum stir_claim_type)99, 0);
    t.n_claims = 1;
    assert_int_equal(reg(&t, &err), 400);
    assert_null(stir_ppt_find(g_ctx, "badtype"));

    /* More claims than the table holds. */
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "toomany");
    static char cn[STIR_PPT_MAX_CLAIMS][8];
    for (size_t i = 0; i < STIR_PPT_MAX_CLAIMS; i++) {
        snprintf(cn[i], sizeof cn[i], "c%zu", i);
        t.claims[i] = spec(cn[i], STIR_CLAIM_ANY, 0);
    }
    t.n_claims = STIR_PPT_MAX_CLAIMS + 1;
    assert_int_equal(reg(&t, &err), 400);
    assert_null(stir_ppt_find(g_ctx, "toomany"));
    /* exactly the maximum is fine */
    t.n_claims = STIR_PPT_MAX_CLAIMS;
    snprintf(t.name, sizeof t.name, "sixteen");
    if (reg(&t, &err))
        fail_msg("16 claims refused: %s", err.detail);
    const stir_ppt_type *e = stir_ppt_find(g_ctx, "sixteen");
    assert_non_null(e);
    assert_int_equal(e->n_claims, STIR_PPT_MAX_CLAIMS);
    assert_string_equal(e->claims[STIR_PPT_MAX_CLAIMS - 1].name, "c15");
    /* a type with no claims of its own is a plain baseline-shaped type */
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "bare");
    if (reg(&t, &err))
        fail_msg("type without claims refused: %s", err.detail);
    assert_non_null(stir_ppt_find(g_ctx, "bare"));

    /* None of the refused types is listed. */
    assert_false(names_contain("dup"));
    assert_false(names_contain("toomany"));
    assert_false(names_contain("badtype"));
    assert_true(names_contain("sixteen"));
}

/* Registrations from several threads at once all land, each once. */
#define REG_THREADS 4
#define REG_PER_THREAD 2

static void *reg_thread(void *arg)
{
    size_t id = (size_t)arg;
    for (size_t k = 0; k < REG_PER_THREAD; k++) {
        stir_ppt_type t;
        char cname[16];
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "thr%zu-%zu", id, k);
        snprintf(cname, sizeof cname, "c%zu", id);
        t.claims[0] = spec(cname, STIR_CLAIM_STRING, 1);
        t.n_claims = 1;
        stir_error err;
        if (stir_ppt_register(g_ctx, &t, &err))
            return (void *)1;
        memset(cname, 0, sizeof cname);
    }
    return NULL;
}

static void test_register_threads(void **state)
{
    (void)state;
    pthread_t th[REG_THREADS];
    for (size_t i = 0; i < REG_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reg_thread, (void *)i), 0);
    for (size_t i = 0; i < REG_THREADS; i++) {
        void *r;
        assert_int_equal(pthread_join(th[i], &r), 0);
        assert_null(r);
    }
    for (size_t i = 0; i < REG_THREADS; i++)
        for (size_t k = 0; k < REG_PER_THREAD; k++) {
            char name[32], cname[16];
            snprintf(name, sizeof name, "thr%zu-%zu", i, k);
            snprintf(cname, sizeof cname, "c%zu", i);
            const stir_ppt_type *t = stir_ppt_find(g_ctx, name);
            if (!t)
                fail_msg("%s missing after concurrent registration", name);
            assert_int_equal(t->n_claims, 1);
            assert_string_equal(t->claims[0].name, cname);
            assert_true(names_contain(name));
        }
}

/* The table is bounded: registering past its end fails cleanly, and
 * every type registered before stays findable. */
static void test_register_until_full(void **state)
{
    (void)state;
    size_t ok = 0;
    int refused = 0;
    for (size_t i = 0; i < 100 && !refused; i++) {
        stir_ppt_type t;
        memset(&t, 0, sizeof t);
        snprintf(t.name, sizeof t.name, "fill%zu", i);
        t.claims[0] = spec("tier", STIR_CLAIM_STRING, 0);
        t.n_claims = 1;
        stir_error err;
        int rc = reg(&t, &err);
        if (rc == 0) {
            ok++;
        } else {
            assert_int_equal(rc, 400);
            assert_null(stir_ppt_find(g_ctx, t.name));
            refused = 1;
        }
    }
    assert_true(refused);
    for (size_t i = 0; i < ok; i++) {
        char name[32];
        snprintf(name, sizeof name, "fill%zu", i);
        assert_non_null(stir_ppt_find(g_ctx, name));
    }
    static const char *const keep[] = {"",    "shaken", "div",  "rph",
                                       "rcd", "avatar", "acme", "sixteen"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        assert_non_null(stir_ppt_find(g_ctx, keep[i]));
    assert_string_equal(stir_ppt_find(g_ctx, "acme")->claims[0].name, "tier");
}

/* Two contexts are independent: a type registered in one is unknown in
 * the other, filling one leaves the other's room, and freeing a context
 * frees the copies of its claim names (the ASan build checks that). */
static void test_contexts_independent(void **state)
{
    (void)state;
    stir_error err;
    stir_ctx *a = stir_ctx_new(&err), *b = stir_ctx_new(&err);
    assert_non_null(a);
    assert_non_null(b);
    stir_ppt_type t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "only-a");
    t.claims[0] = spec("tier", STIR_CLAIM_STRING, 0);
    t.n_claims = 1;
    assert_int_equal(stir_ppt_register(a, &t, &err), 0);
    assert_non_null(stir_ppt_find(a, "only-a"));
    assert_null(stir_ppt_find(b, "only-a"));
    assert_null(stir_ppt_find(g_ctx, "only-a"));
    assert_non_null(strstr(stir_ppt_names(a), "only-a"));
    assert_null(strstr(stir_ppt_names(b), "only-a"));
    /* the same name in b is no clash */
    assert_int_equal(stir_ppt_register(b, &t, &err), 0);
    /* fill a: 6 built-ins + 26 registered = 32 */
    int n = 1;
    for (int i = 0; i < 40; i++) {
        snprintf(t.name, sizeof t.name, "a%d", i);
        if (stir_ppt_register(a, &t, &err) != 0) {
            assert_int_equal(err.code, 400);
            break;
        }
        n++;
    }
    assert_int_equal(n, 32 - 6);
    snprintf(t.name, sizeof t.name, "b-still-has-room");
    assert_int_equal(stir_ppt_register(b, &t, &err), 0);
    /* each has the built-ins, as separate tables */
    assert_non_null(stir_ppt_find(a, "shaken"));
    assert_ptr_not_equal(stir_ppt_find(a, "shaken"), stir_ppt_find(b, "shaken"));
    stir_ctx_free(a);
    stir_ctx_free(b);
}

/* ---- claim type names -------------------------------------------------------------- */

static void test_claim_type_names(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        enum stir_claim_type t;
    } map[] = {
        {"string", STIR_CLAIM_STRING},   {"integer", STIR_CLAIM_INTEGER},
        {"object", STIR_CLAIM_OBJECT},   {"array", STIR_CLAIM_ARRAY},
        {"boolean", STIR_CLAIM_BOOLEAN}, {"any", STIR_CLAIM_ANY},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        assert_int_equal(stir_claim_type_parse(map[i].s), (int)map[i].t);
        assert_non_null(stir_claim_type_str(map[i].t));
        assert_string_equal(stir_claim_type_str(map[i].t), map[i].s);
    }
    assert_int_equal(stir_claim_type_parse("float"), -1);
    assert_int_equal(stir_claim_type_parse(""), -1);
    assert_int_equal(stir_claim_type_parse(NULL), -1);
    assert_int_equal(stir_claim_type_parse("strings"), -1);
    assert_int_equal(stir_claim_type_parse("strin"), -1);
    assert_null(stir_claim_type_str((enum stir_claim_type)99));
    assert_null(stir_claim_type_str((enum stir_claim_type) - 1));
}

int main(void)
{
    stir_init();
    stir_error err;
    g_ctx = stir_ctx_new(&err);
    assert_non_null(g_ctx);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_types),       cmocka_unit_test(test_div_claim),
        cmocka_unit_test(test_div_build),           cmocka_unit_test(test_rph_claim),
        cmocka_unit_test(test_rph_build),           cmocka_unit_test(test_sph_claim),
        cmocka_unit_test(test_rph_request),         cmocka_unit_test(test_shaken_claims),
        cmocka_unit_test(test_avatar_claims),       cmocka_unit_test(test_rcd_type_rules),
        cmocka_unit_test(test_claim_type_names),    cmocka_unit_test(test_register_copies_names),
        cmocka_unit_test(test_register_rejects),    cmocka_unit_test(test_register_threads),
        cmocka_unit_test(test_register_until_full), cmocka_unit_test(test_contexts_independent),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stir_ctx_free(g_ctx);
    stir_cleanup();
    return rc;
}
