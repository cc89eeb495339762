/*
 * stirctl: the operator's command line for libstir.
 *
 *   stirctl keygen FILE
 *   stirctl pki --dir DIR [--spc SPC] [--days N] [--tls-hosts H,...]
 *   stirctl sign --key K --cert CHAIN --x5u URL [fetch options] [--ppt-type SPEC]...
 *                [--now EPOCH] [FILE|-]
 *   stirctl verify --trust PATH [fetch options] [--ppt-type SPEC]... [--now EPOCH] [FILE|-]
 *   stirctl verify ... --identity HDR [--identity HDR]... --from ID --to ID [--dest ID]
 *                [--protected-header "Name: value"]... [--time EPOCH]
 *   stirctl decode [--cert CHAIN] [HDR|-]
 *   stirctl audit --log FILE --ppi VALUE
 *   stirctl token --state-dir DIR --client NAME --scope SCOPE [--ttl S] [--aud A]
 *
 * sign reads a signing request of any PASSporT type (JSON, with or without
 * the signingRequest wrapper) and prints the Identity header value; fetch
 * options apply to the content an rcd claim links (rcdi digests). verify
 * prints the whole verificationResponse of the Ms API (verstatValue,
 * divResult, verstatPriority, verifyResults). --ppt-type registers a type
 * with stird's syntax (NAME CLAIM:TYPE[:required] ...). audit prints the
 * audit records (stird's audit_log) of the PASSporT an RFC 9410 `ppi`
 * names; token prints an access token of the lab authorization server.
 *
 * Exit status: 0 success (verify: every PASSporT passed), 1 verification
 * failed (at least one PASSporT), 2 usage or input error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stir/stir.h"
#include "stir/rcd.h"

#include "audit.h"
#include "config.h"
#include "lab.h"

/* The ppt_type parser of stird, so both accept exactly the same text. */

#define INPUT_MAX (1 << 20)

static void usage(void)
{
    fputs("usage:\n"
          "  stirctl keygen FILE\n"
          "  stirctl pki --dir DIR [--spc SPC] [--days N] [--tls-hosts H,...]\n"
          "  stirctl sign --key KEY --cert CHAIN --x5u URL [--now EPOCH] [--freshness S]\n"
          "               [FETCH] [--rcd-digest-alg sha256|sha384|sha512] [--ppt-type SPEC]...\n"
          "               [FILE|-]\n"
          "  stirctl verify --trust PATH [FETCH] [--rcd-no-fetch] [--cert-file CHAIN]\n"
          "                 [--ppt-type SPEC]... [--now EPOCH] [--freshness S]\n"
          "                 [FILE|- | --identity HDR [--identity HDR]... --from ID --to ID\n"
          "                  [--dest ID] [--protected-header 'Name: value']... [--time EPOCH]]\n"
          "  stirctl decode [--cert CHAIN] [HDR|-]\n"
          "  stirctl audit --log FILE --ppi VALUE   (exit 1: no record)\n"
          "  stirctl token --state-dir DIR --client NAME --scope SCOPE [--ttl S] [--aud A]\n"
          "FETCH: [--fetch-allow-host H]... [--fetch-allow-any-port] [--fetch-allow-http]\n"
          "       [--fetch-ca-file F]   (relaxations of the x5u/RCD fetch policy)\n"
          "SPEC:  'NAME CLAIM:TYPE[:required] ...', TYPE string|integer|object|array|boolean|any\n"
          "IDs are TNs (\"+1 215 555 1212\") or tel:/sip: URIs. The first --identity is the\n"
          "identityHeader, the others identityHeaders (div, rph, ...).\n"
          "Exit: 0 success (verify: every PASSporT passed), 1 a PASSporT failed, 2 usage/input.\n",
          stderr);
}

static char *read_all(const char *path)
{
    FILE *f = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "stirctl: cannot open %s: %m\n", path);
        return NULL;
    }
    char *buf = malloc(INPUT_MAX + 1);
    size_t n = buf ? fread(buf, 1, INPUT_MAX + 1, f) : 0;
    if (f != stdin)
        fclose(f);
    if (!buf)
        return NULL;
    if (n > INPUT_MAX) {
        fprintf(stderr, "stirctl: input larger than %d bytes\n", INPUT_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void print_error(const char *what, const stir_error *e)
{
    fprintf(stderr, "stirctl: %s: %d %s%s%s: %s\n", what, e->code, e->text,
            e->field[0] ? " in " : "", e->field, e->detail);
}

/* Parse JSON and drop the wrapper member if present. */
/* A request file: the JSON body, unwrapped as the server does (msapi). */
static json_t *load_request(const char *text, const char *wrapper)
{
    json_error_t je;
    stir_error err;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        fprintf(stderr, "stirctl: invalid JSON at line %d column %d: %s\n", je.line, je.column,
                je.text);
        return NULL;
    }
    memset(&err, 0, sizeof err);
    const json_t *inner = stir_ms_unwrap(j, wrapper, &err);
    if (!inner) {
        print_error("request", &err);
        json_decref(j);
        return NULL;
    }
    json_incref((json_t *)inner);
    json_decref(j);
    return (json_t *)inner;
}

static int cmd_keygen(int argc, char **argv)
{
    if (argc != 2)
        return usage(), 2;
    stir_error err;
    if (stir_keygen(argv[1], &err))
        return print_error("keygen", &err), 2;
    printf("wrote %s\n", argv[1]);
    return 0;
}

static int cmd_pki(int argc, char **argv)
{
    stir_pki_options o = {0};
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"spc", required_argument, 0, 's'},
                                         {"days", required_argument, 0, 'n'},
                                         {"tls-hosts", required_argument, 0, 't'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.dir = optarg;
            break;
        case 's':
            o.spc = optarg;
            break;
        case 'n':
            o.days = atoi(optarg);
            break;
        case 't':
            o.tls_hosts = optarg;
            break;
        default:
            return usage(), 2;
        }
    }
    if (!o.dir)
        return usage(), 2;
    stir_error err;
    if (stir_pki_create(&o, &err))
        return print_error("pki", &err), 2;
    printf("test PKI in %s: root.pem (trust anchor), ca.pem, sp.pem/sp.key (signer), "
           "chain.pem (serve at x5u), tls.pem/tls.key\n",
           o.dir);
    return 0;
}

static time_t parse_time(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v <= 0) {
        fprintf(stderr, "stirctl: bad time \"%s\": need seconds since 1970\n", s);
        exit(2);
    }
    return (time_t)v;
}

/*
 * Settings stirctl shares with stird: parsed by stird's settings table
 * (src/server/config.c: same values, same checks, same messages) into a
 * stird_config, whose embedded libstir configurations sign and verify
 * here as they do in stird. Static, so that an early exit leaks nothing.
 */
static const char *const SHARED[] = {
    "fetch-allow-host", "fetch-allow-any-port", "fetch-allow-http", "fetch-ca-file", "ppt-type",
    "freshness",        "rcd-digest-alg",
};
#define N_SHARED (sizeof SHARED / sizeof SHARED[0])
static stird_config g_set;

/* Options of stirctl's own (getopt values >= 256); SHARED follow OPT_SHARED. */
enum { OPT_NO_RCD_FETCH = 256, OPT_PROTECTED, OPT_SHARED };

/* getopt entries of SHARED; booleans take an optional "=no". */
#define SHARED_OPTIONS                                                  \
    {"fetch-allow-host", required_argument, 0, OPT_SHARED + 0},         \
        {"fetch-allow-any-port", optional_argument, 0, OPT_SHARED + 1}, \
        {"fetch-allow-http", optional_argument, 0, OPT_SHARED + 2},     \
        {"fetch-ca-file", required_argument, 0, OPT_SHARED + 3},        \
        {"ppt-type", required_argument, 0, OPT_SHARED + 4},             \
        {"freshness", required_argument, 0, OPT_SHARED + 5},            \
    {                                                                   \
        "rcd-digest-alg", required_argument, 0, OPT_SHARED + 6          \
    }

/* 1 if getopt's `c` was a shared setting (applied to g_set), 0 if not,
 * -1 on a bad value (said on stderr). */
static int shared_option(int c)
{
    char err[512], label[64];
    if (c < OPT_SHARED || c >= OPT_SHARED + (int)N_SHARED)
        return 0;
    snprintf(label, sizeof label, "--%s", SHARED[c - OPT_SHARED]);
    if (config_set(&g_set, SHARED[c - OPT_SHARED], label, optarg, err, sizeof err) != 0) {
        fprintf(stderr, "stirctl: %s\n", err);
        return -1;
    }
    return 1;
}

/* The one libstir context of this run (made in main). */
static stir_ctx *g_ctx;

/* After the options: the fetch policy shared by RCD content, and the
 * --ppt-type types registered before the signer or verifier exists (the
 * registry copies the claim names). */
static int settings_done(void)
{
    stir_error err;
    config_finish_fetch(&g_set);
    for (size_t i = 0; i < g_set.n_ppt_types; i++) {
        memset(&err, 0, sizeof err);
        if (stir_ppt_register(g_ctx, &g_set.ppt_types[i].type, &err) != 0) {
            fprintf(stderr, "stirctl: --ppt-type: PASSporT type '%s' refused: %s\n",
                    g_set.ppt_types[i].type.name, err.detail);
            return -1;
        }
    }
    return 0;
}

static int cmd_sign(int argc, char **argv)
{
    stir_signer_config cfg = {0};
    time_t now = time(NULL);
    static const struct option opts[] = {{"key", required_argument, 0, 'k'},
                                         {"cert", required_argument, 0, 'c'},
                                         {"x5u", required_argument, 0, 'x'},
                                         {"now", required_argument, 0, 'n'},
                                         SHARED_OPTIONS,
                                         {0, 0, 0, 0}};
    int c, f;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((f = shared_option(c)) != 0) {
            if (f < 0)
                return 2;
            continue;
        }
        switch (c) {
        case 'k':
            cfg.key_path = optarg;
            break;
        case 'c':
            cfg.cert_path = optarg;
            break;
        case 'x':
            cfg.x5u = optarg;
            break;
        case 'n':
            now = parse_time(optarg);
            break;
        default:
            return usage(), 2;
        }
    }
    if (!cfg.key_path || !cfg.cert_path || !cfg.x5u)
        return usage(), 2;
    if (settings_done() != 0)
        return 2;
    cfg.freshness_s = g_set.verify.freshness_s;
    char *text = read_all(optind < argc ? argv[optind] : "-");
    if (!text)
        return 2;
    json_t *req = load_request(text, "signingRequest");
    free(text);
    if (!req)
        return 2;
    stir_error err;
    int rc_exit = 2;
    stir_signer *s = NULL;
    memset(&err, 0, sizeof err);
    stir_rcd *rcd = stir_rcd_new(g_ctx, &g_set.rcd, &err);
    if (!rcd) {
        print_error("rcd", &err);
        goto out;
    }
    cfg.rcd = rcd;
    s = stir_signer_new(g_ctx, &cfg, &err);
    if (!s) {
        print_error("signer", &err);
    } else {
        stir_ms_sign_request mr;
        char *hdr = stir_ms_parse_sign(req, NULL, NULL, &mr, &err)
                        ? NULL
                        : stir_sign(s, NULL, 0, &mr, now, 0, &err);
        if (hdr) {
            puts(hdr);
            rc_exit = 0;
        } else {
            print_error("sign", &err);
        }
        free(hdr);
    }
out:
    stir_signer_free(s);
    if (rcd)
        stir_rcd_free(rcd);
    json_decref(req);
    return rc_exit;
}

/* An identity argument: a tel:/sip: URI, or else a TN. */
static json_t *ident_arg(const char *s)
{
    int uri = !strncmp(s, "tel:", 4) || !strncmp(s, "sip:", 4) || !strncmp(s, "sips:", 5);
    return json_pack("{ss}", uri ? "uri" : "tn", s);
}

/* Preload `pem` as the chain at the info URL of Identity header `hdr`. */
static void preload_chain(stir_certcache *cache, const json_t *hdr, const char *pem)
{
    stir_identity id;
    stir_error err;
    memset(&err, 0, sizeof err);
    if (!json_is_string(hdr) ||
        stir_identity_parse(json_string_value(hdr), json_string_length(hdr), &id, &err))
        return;
    if (stir_certcache_put(cache, id.info, pem, strlen(pem), 3600, &err))
        print_error("cert-file", &err);
    stir_identity_clear(&id);
}

static int cmd_verify(int argc, char **argv)
{
    const char *trust_path = NULL, *from = NULL, *to = NULL, *dest = NULL;
    const char *identities[STIR_MAX_IDENTITY_HEADERS];
    const char *protected_hdrs[32];
    size_t n_identities = 0, n_protected = 0;
    const char *cert_file = NULL;
    time_t now = time(NULL), at = 0;
    static const struct option opts[] = {{"trust", required_argument, 0, 'T'},
                                         {"identity", required_argument, 0, 'i'},
                                         {"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},
                                         {"dest", required_argument, 0, 'd'},
                                         {"time", required_argument, 0, 'a'},
                                         {"now", required_argument, 0, 'n'},
                                         {"protected-header", required_argument, 0, OPT_PROTECTED},
                                         {"rcd-no-fetch", no_argument, 0, OPT_NO_RCD_FETCH},
                                         {"cert-file", required_argument, 0, 'c'},
                                         SHARED_OPTIONS,
                                         {0, 0, 0, 0}};
    int c, f;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((f = shared_option(c)) != 0) {
            if (f < 0)
                return 2;
            continue;
        }
        switch (c) {
        case 'T':
            trust_path = optarg;
            break;
        case 'i':
            if (n_identities == STIR_MAX_IDENTITY_HEADERS) {
                fprintf(stderr, "stirctl: at most %d --identity\n", STIR_MAX_IDENTITY_HEADERS);
                return 2;
            }
            identities[n_identities++] = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'd':
            dest = optarg;
            break;
        case 'a':
            at = parse_time(optarg);
            break;
        case 'n':
            now = parse_time(optarg);
            break;
        case OPT_PROTECTED:
            if (n_protected == sizeof protected_hdrs / sizeof protected_hdrs[0]) {
                fprintf(stderr, "stirctl: at most %zu --protected-header\n",
                        sizeof protected_hdrs / sizeof protected_hdrs[0]);
                return 2;
            }
            if (!strchr(optarg, ':') || optarg[0] == ':') {
                fprintf(stderr,
                        "stirctl: --protected-header \"%s\": expected a SIP header "
                        "line 'Name: value' (e.g. 'Resource-Priority: esnet.0')\n",
                        optarg);
                return 2;
            }
            protected_hdrs[n_protected++] = optarg;
            break;
        case OPT_NO_RCD_FETCH:
            g_set.rcd.verify_fetch = 0;
            break;
        case 'c':
            cert_file = optarg;
            break;
        default:
            return usage(), 2;
        }
    }
    if (!trust_path)
        return usage(), 2;
    if (settings_done() != 0)
        return 2;
    json_t *req;
    if (n_identities) {
        if (!from || !to)
            return usage(), 2;
        req = json_pack("{ss so so sI}", "identityHeader", identities[0], "from", ident_arg(from),
                        "to", ident_arg(to), "time", (json_int_t)(at ? at : now));
        if (n_identities > 1) {
            json_t *more = json_array();
            for (size_t i = 1; i < n_identities; i++)
                json_array_append_new(more, json_string(identities[i]));
            json_object_set_new(req, "identityHeaders", more);
        }
        if (dest)
            json_object_set_new(req, "dest", ident_arg(dest));
    } else {
        if (from || to || dest || at) {
            fprintf(stderr, "stirctl: --from, --to, --dest and --time go with --identity; "
                            "a request file carries its own\n");
            return 2;
        }
        char *text = read_all(optind < argc ? argv[optind] : "-");
        if (!text)
            return 2;
        req = load_request(text, "verificationRequest");
        free(text);
        if (!req)
            return 2;
        if (!json_is_object(req)) {
            fprintf(stderr, "stirctl: the verification request must be a JSON object\n");
            json_decref(req);
            return 2;
        }
    }
    if (n_protected) {
        /* Added to whatever the request file already lists. */
        json_t *ph = json_object_get(req, "protectedHeaders");
        if (!json_is_array(ph)) {
            ph = json_array();
            json_object_set_new(req, "protectedHeaders", ph);
        }
        for (size_t i = 0; i < n_protected; i++)
            json_array_append_new(ph, json_string(protected_hdrs[i]));
    }
    stir_error err;
    memset(&err, 0, sizeof err);
    int rc = 2;
    stir_rcd *rcd = stir_rcd_new(g_ctx, &g_set.rcd, &err);
    stir_trust *trust = rcd ? stir_trust_load(trust_path, &err) : NULL;
    stir_certcache *cache = trust ? stir_certcache_new(g_ctx, &g_set.cache, trust, &err) : NULL;
    stir_verifier_config vc = g_set.verify; /* as stird's verifier */
    vc.cache = cache;
    vc.rcd = rcd;
    stir_verifier *v = cache ? stir_verifier_new(g_ctx, &vc, &err) : NULL;
    if (!v) {
        print_error("verifier", &err);
        goto out;
    }
    if (cert_file) {
        /* Preload the chain for the x5u of every header, as if fetched. */
        char *pem = read_all(cert_file);
        if (pem) {
            size_t i;
            const json_t *h;
            preload_chain(cache, json_object_get(req, "identityHeader"), pem);
            json_array_foreach (json_object_get(req, "identityHeaders"), i, h)
                preload_chain(cache, h, pem);
        }
        free(pem);
    }
    /* The same module and core as the server: the printed response is
     * the server's body, indented with sorted keys. */
    stir_ms_verify_request *mr = malloc(sizeof *mr);
    stir_verify_outcome *o = malloc(sizeof *o);
    if (!mr || !o) {
        fprintf(stderr, "stirctl: out of memory\n");
    } else if (stir_ms_parse_verify(req, stir_verifier_ident_flags(v), mr, &err) ||
               stir_verify(v, mr, now, 0, o, &err)) {
        print_error("verify", &err);
    } else {
        size_t len;
        char *text = stir_ms_verify_response(o, mr, &len);
        json_t *resp = text ? json_loadb(text, len, 0, NULL) : NULL;
        if (resp) {
            json_dumpf(resp, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
            putchar('\n');
            rc = 0;
            for (size_t i = 0; i < o->n; i++)
                if (!o->results[i].pass)
                    rc = 1;
        } else {
            fprintf(stderr, "stirctl: out of memory\n");
        }
        json_decref(resp);
        free(text);
        stir_verify_outcome_clear(o);
    }
    free(mr);
    free(o);
out:
    stir_verifier_free(v);
    stir_certcache_free(cache);
    stir_trust_free(trust);
    if (rcd)
        stir_rcd_free(rcd);
    json_decref(req);
    return rc;
}

static void print_part(const char *label, const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("%s:\n%s\n", label, s ? s : "?");
    free(s);
}

static int cmd_decode(int argc, char **argv)
{
    const char *cert_file = NULL;
    static const struct option opts[] = {{"cert", required_argument, 0, 'c'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            cert_file = optarg;
        else
            return usage(), 2;
    }
    char *text;
    if (optind < argc && strcmp(argv[optind], "-"))
        text = strdup(argv[optind]);
    else
        text = read_all("-");
    if (!text)
        return 2;
    text[strcspn(text, "\r\n")] = '\0';
    stir_identity id;
    stir_error err;
    int rc = 2;
    if (stir_identity_parse(text, strlen(text), &id, &err)) {
        print_error("Identity header", &err);
        free(text);
        return 2;
    }
    printf("info: %s\nalg: %s\nppt: %s\nform: %s\n", id.info, id.alg ? id.alg : "(absent: ES256)",
           id.ppt ? id.ppt : "(absent)", id.compact ? "compact" : "full");
    if (!id.compact) {
        stir_passport *p = stir_passport_parse(id.token, strlen(id.token), &err);
        if (!p) {
            print_error("PASSporT", &err);
            goto out;
        }
        print_part("header", stir_passport_header(p));
        print_part("claims", stir_passport_claims(p));
        const json_t *iat = json_object_get(stir_passport_claims(p), "iat");
        if (json_is_integer(iat)) {
            time_t t = (time_t)json_integer_value(iat);
            char buf[32];
            strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
            printf("iat: %s\n", buf);
        }
        printf("signature (compact form / RFC 9410 ppi): %s\n", stir_passport_compact(p));
        stir_passport_free(p);
    }
    rc = 0;
    if (cert_file) {
        stir_cert *cert = stir_cert_load(cert_file, &err);
        if (!cert) {
            print_error("certificate", &err);
            rc = 2;
        } else {
            char *d = stir_cert_describe(cert);
            printf("certificate: %s\n", d ? d : "?");
            free(d);
            stir_cert_unref(cert);
        }
    }
out:
    stir_identity_clear(&id);
    free(text);
    return rc;
}

/* The audit records of the PASSporT a downstream `ppi` names (RFC 9410 7). */
static int cmd_audit(int argc, char **argv)
{
    const char *log = NULL, *ppi = NULL;
    static const struct option opts[] = {
        {"log", required_argument, 0, 'l'}, {"ppi", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            log = optarg;
            break;
        case 'p':
            ppi = optarg;
            break;
        default:
            return usage(), 2;
        }
    }
    if (!log || !ppi || optind != argc)
        return usage(), 2;
    char err[512];
    long n = audit_find(log, ppi, stdout, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "stirctl: audit: %s\n", err);
        return 2;
    }
    if (n == 0)
        fprintf(stderr, "stirctl: audit: no record of that PASSporT in %s\n", log);
    return n > 0 ? 0 : 1;
}

/* An access token of the lab authorization server (stird's lab mode). */
static int cmd_token(int argc, char **argv)
{
    const char *dir = NULL, *client = NULL, *scope = NULL, *aud = NULL;
    long ttl = 300;
    static const struct option opts[] = {
        {"state-dir", required_argument, 0, 'd'}, {"client", required_argument, 0, 'c'},
        {"scope", required_argument, 0, 's'},     {"ttl", required_argument, 0, 't'},
        {"aud", required_argument, 0, 'a'},       {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'c':
            client = optarg;
            break;
        case 's':
            scope = optarg;
            break;
        case 't':
            ttl = atol(optarg);
            break;
        case 'a':
            aud = optarg;
            break;
        default:
            return usage(), 2;
        }
    }
    if (!dir || !client || !scope || optind != argc)
        return usage(), 2;
    char err[512];
    char *tok = lab_token(dir, client, scope, ttl, aud, time(NULL), err, sizeof err);
    if (!tok) {
        fprintf(stderr, "stirctl: token: %s\n", err);
        return 2;
    }
    puts(tok);
    free(tok);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(), 2;
    stir_init();
    stir_error cerr;
    if (!(g_ctx = stir_ctx_new(&cerr))) {
        fprintf(stderr, "stirctl: %s\n", cerr.detail);
        return 1;
    }
    const char *cmd = argv[1];
    int rc;
    config_init(&g_set);
    argv++;
    argc--;
    if (!strcmp(cmd, "keygen"))
        rc = cmd_keygen(argc, argv);
    else if (!strcmp(cmd, "pki"))
        rc = cmd_pki(argc, argv);
    else if (!strcmp(cmd, "sign"))
        rc = cmd_sign(argc, argv);
    else if (!strcmp(cmd, "verify"))
        rc = cmd_verify(argc, argv);
    else if (!strcmp(cmd, "decode"))
        rc = cmd_decode(argc, argv);
    else if (!strcmp(cmd, "audit"))
        rc = cmd_audit(argc, argv);
    else if (!strcmp(cmd, "token"))
        rc = cmd_token(argc, argv);
    else if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage();
        rc = 0;
    } else {
        fprintf(stderr, "stirctl: unknown command \"%s\"\n", cmd);
        usage();
        rc = 2;
    }
    config_free(&g_set);
    stir_ctx_free(g_ctx);
    stir_cleanup();
    return rc;
}
