/*
 * Test driver for the authentication gate and the per-client policy
 * (src/server/auth.c, policy.c): what the connection layer will do per
 * request, without HTTP. Prints one JSON line per attempt.
 *
 *   authcheck [--resource signing|verification] [--authorization VALUE]
 *             [--cert PEM --identity ID] [--now EPOCH] [--request FILE]
 *             [--ppt PPT] [--repeat N] [--request-id ID] [--passport PASSPORT]
 *             [--now-step S] [--cert-after PEM]
 *             -- STIRD-SETTINGS...
 *
 *   authcheck --lab-create STATE-DIR      (lab_create, then exit)
 *
 * --now-step advances the clock by S seconds per repetition, and from the
 * second repetition on the client presents --cert-after instead of --cert
 * (the same token seen again, at another time or on another connection).
 *
 * With audit_log among the settings, a refused signing is audited from
 * the request, and an allowed one as the signing of --passport.
 * STIRD-SETTINGS are stird flags (--auth oauth --oauth-jwks F ...).
 * Exit: 0 when the outcome was printed, 2 on a usage or settings error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stir/stir.h>

#include "audit.h"
#include "auth.h"
#include "lab.h"

static int load_cert(const char *path, http_client *c)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned int n = 0;
    if (f)
        fclose(f);
    if (!x || X509_digest(x, EVP_sha256(), c->cert_sha256, &n) != 1 || n != 32) {
        X509_free(x);
        return -1;
    }
    X509_free(x);
    c->has_cert = 1;
    return 0;
}

static void print_outcome(unsigned rc, const auth_denial *d, const http_client *c,
                          const policy_client *pol)
{
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s}", "status", rc ? (int)rc : 200,
                          "title", d->title, "detail", d->detail, "cause", d->cause,
                          "www_authenticate", d->www_authenticate, "retry_after",
                          (int)d->retry_after, "rule", d->rule, "principal", c->principal,
                          "client", policy_client_name(pol));
    char *s = json_dumps(o, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(o);
}

int main(int argc, char **argv)
{
    const char *resource = "signing", *authz = NULL, *cert = NULL, *identity = "",
               *request = NULL, *ppt = NULL, *request_id = NULL, *passport = NULL;
    time_t now = time(NULL);
    long repeat = 1, now_step = 0;
    const char *cert_after = NULL;
    int i;
    if (argc == 3 && strcmp(argv[1], "--lab-create") == 0) {
        char e[512];
        int rc = lab_create(argv[2], e, sizeof e);
        if (rc)
            fprintf(stderr, "authcheck: %s\n", e);
        return rc ? 1 : 0;
    }
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "authcheck: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--resource")) resource = v;
        else if (!strcmp(k, "--authorization")) authz = v;
        else if (!strcmp(k, "--cert")) cert = v;
        else if (!strcmp(k, "--identity")) identity = v;
        else if (!strcmp(k, "--now")) now = (time_t)atoll(v);
        else if (!strcmp(k, "--request")) request = v;
        else if (!strcmp(k, "--ppt")) ppt = v;
        else if (!strcmp(k, "--repeat")) repeat = atol(v);
        else if (!strcmp(k, "--request-id")) request_id = v;
        else if (!strcmp(k, "--passport")) passport = v;
        else if (!strcmp(k, "--now-step")) now_step = atol(v);
        else if (!strcmp(k, "--cert-after")) cert_after = v;
        else {
            fprintf(stderr, "authcheck: unknown option %s\n", k);
            return 2;
        }
    }
    /* The settings: argv[i] is "--", which config_load skips as argv[0].
     * The gate is tested without a listener: the transport (which
     * config_load insists is chosen) is said to be plain. */
    stird_config cfg;
    char err[512];
    char *trust[] = {"--trust", "/dev/null", "--plain-http"};
    int n = argc - i;
    char **cargv = calloc((size_t)n + 4, sizeof *cargv);
    if (!cargv || stir_init() != 0)
        return 2;
    cargv[0] = "authcheck";
    for (int k = 1; k < n; k++)
        cargv[k] = argv[i + k];
    cargv[n] = trust[0];
    cargv[n + 1] = trust[1];
    cargv[n + 2] = trust[2];
    int rc = config_load(&cfg, n + 3, cargv, err, sizeof err);
    free(cargv);
    if (rc != 0) {
        fprintf(stderr, "authcheck: settings: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    auth *a = auth_load(&cfg, err, sizeof err);
    audit *au = NULL;
    if (a && cfg.audit_log && !(au = audit_open(cfg.audit_log, err, sizeof err))) {
        fprintf(stderr, "authcheck: %s\n", err);
        return 2;
    }
    config_free(&cfg);
    if (!a) {
        json_t *o = json_pack("{s:s}", "load_error", err);
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(o);
        stir_cleanup();
        return 0;
    }
    json_t *req = NULL;
    if (request) {
        json_error_t je;
        json_t *root = json_load_file(request, JSON_REJECT_DUPLICATES, &je);
        json_t *inner = json_object_get(root, "signingRequest");
        req = json_incref(inner ? inner : root);
        json_decref(root);
        if (!req) {
            fprintf(stderr, "authcheck: %s: %s\n", request, je.text);
            return 2;
        }
    }
    enum auth_resource res = strcmp(resource, "verification") == 0 ? AUTH_RES_VERIFICATION
                                                                     : AUTH_RES_SIGNING;
    for (long r = 0; r < repeat; r++) {
        http_client c;
        memset(&c, 0, sizeof c);
        snprintf(c.addr, sizeof c.addr, "127.0.0.1");
        snprintf(c.identity, sizeof c.identity, "%s", identity);
        const char *pem = r > 0 && cert_after ? cert_after : cert;
        if (pem && load_cert(pem, &c) != 0) {
            fprintf(stderr, "authcheck: cannot read certificate %s\n", pem);
            return 2;
        }
        const policy_client *pol = NULL;
        auth_denial d;
        unsigned st = auth_check(a, &c, authz, res, now + (time_t)(r * now_step), &pol, &d);
        if (!st && pol)
            st = policy_take_rate(pol, &d);
        if (!st && pol && req && res == AUTH_RES_SIGNING)
            st = policy_check_signing(pol, req, ppt, &d);
        print_outcome(st, &d, &c, pol);
        if (au && res == AUTH_RES_SIGNING && st)
            audit_refused(au, &c, now, request_id, req, ppt, st, d.detail);
        else if (au && res == AUTH_RES_SIGNING && passport)
            audit_signed(au, &c, now, request_id, passport);
    }
    audit_close(au);
    json_decref(req);
    auth_free(a);
    stir_cleanup();
    return 0;
}
