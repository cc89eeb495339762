/*
 * stirctl: the operator's command line for libstir.
 *
 *   stirctl keygen FILE
 *   stirctl pki --dir DIR [--spc SPC] [--days N] [--tls-hosts H,...]
 *   stirctl sign --key K --cert CHAIN --x5u URL [--now EPOCH] [FILE|-]
 *   stirctl verify --trust PATH [fetch options] [--now EPOCH] [FILE|-]
 *   stirctl verify ... --identity HDR --from TN|URI --to TN|URI [--time EPOCH]
 *   stirctl decode [--cert CHAIN] [HDR|-]
 *
 * sign reads a signing request (JSON, with or without the signingRequest
 * wrapper) and prints the Identity header value. verify prints the same
 * JSON verdict as the Ms API. Exit status: 0 success (verify: every
 * PASSporT passed), 1 verification failed, 2 usage or input error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stir/stir.h"

#define INPUT_MAX (1 << 20)

static void usage(void)
{
    fputs("usage:\n"
          "  stirctl keygen FILE\n"
          "  stirctl pki --dir DIR [--spc SPC] [--days N] [--tls-hosts H,...]\n"
          "  stirctl sign --key KEY --cert CHAIN --x5u URL [--now EPOCH] [--freshness S] [FILE|-]\n"
          "  stirctl verify --trust PATH [--fetch-allow-host H]... [--fetch-allow-any-port]\n"
          "                 [--fetch-allow-http] [--fetch-ca-file F] [--cert-file CHAIN]\n"
          "                 [--now EPOCH] [--freshness S]\n"
          "                 [FILE|- | --identity HDR --from ID --to ID [--dest ID] [--time EPOCH]]\n"
          "  stirctl decode [--cert CHAIN] [HDR|-]\n"
          "IDs are TNs (\"+1 215 555 1212\") or tel:/sip: URIs.\n",
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
    if (f != stdin) fclose(f);
    if (!buf) return NULL;
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
static json_t *load_request(const char *text, const char *wrapper)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        fprintf(stderr, "stirctl: invalid JSON at line %d column %d: %s\n", je.line, je.column,
                je.text);
        return NULL;
    }
    json_t *inner = json_object_get(j, wrapper);
    if (inner) {
        json_incref(inner);
        json_decref(j);
        return inner;
    }
    return j;
}

static int cmd_keygen(int argc, char **argv)
{
    if (argc != 2) return usage(), 2;
    stir_error err;
    if (stir_keygen(argv[1], &err)) return print_error("keygen", &err), 2;
    printf("wrote %s\n", argv[1]);
    return 0;
}

static int cmd_pki(int argc, char **argv)
{
    stir_pki_options o = { 0 };
    static const struct option opts[] = {
        { "dir", required_argument, 0, 'd' }, { "spc", required_argument, 0, 's' },
        { "days", required_argument, 0, 'n' }, { "tls-hosts", required_argument, 0, 't' },
        { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.dir = optarg; break;
        case 's': o.spc = optarg; break;
        case 'n': o.days = atoi(optarg); break;
        case 't': o.tls_hosts = optarg; break;
        default: return usage(), 2;
        }
    }
    if (!o.dir) return usage(), 2;
    stir_error err;
    if (stir_pki_create(&o, &err)) return print_error("pki", &err), 2;
    printf("test PKI in %s: root.pem (trust anchor), ca.pem, sp.pem/sp.key (signer), "
           "chain.pem (serve at x5u), tls.pem/tls.key\n", o.dir);
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

static int cmd_sign(int argc, char **argv)
{
    stir_signer_config cfg = { 0 };
    time_t now = time(NULL);
    static const struct option opts[] = {
        { "key", required_argument, 0, 'k' }, { "cert", required_argument, 0, 'c' },
        { "x5u", required_argument, 0, 'x' }, { "now", required_argument, 0, 'n' },
        { "freshness", required_argument, 0, 'f' }, { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k': cfg.key_path = optarg; break;
        case 'c': cfg.cert_path = optarg; break;
        case 'x': cfg.x5u = optarg; break;
        case 'n': now = parse_time(optarg); break;
        case 'f': cfg.freshness_s = atol(optarg); break;
        default: return usage(), 2;
        }
    }
    if (!cfg.key_path || !cfg.cert_path || !cfg.x5u) return usage(), 2;
    char *text = read_all(optind < argc ? argv[optind] : "-");
    if (!text) return 2;
    json_t *req = load_request(text, "signingRequest");
    free(text);
    if (!req) return 2;
    stir_error err;
    int rc = 2;
    stir_signer *s = stir_signer_new(&cfg, &err);
    if (!s) {
        print_error("signer", &err);
    } else {
        char *hdr = stir_sign_request(s, req, now, &err);
        if (hdr) {
            puts(hdr);
            rc = 0;
        } else {
            print_error("sign", &err);
        }
        free(hdr);
    }
    stir_signer_free(s);
    json_decref(req);
    return rc;
}

/* An identity argument: a tel:/sip: URI, or else a TN. */
static json_t *ident_arg(const char *s)
{
    int uri = !strncmp(s, "tel:", 4) || !strncmp(s, "sip:", 4) || !strncmp(s, "sips:", 5);
    return json_pack("{ss}", uri ? "uri" : "tn", s);
}

static int cmd_verify(int argc, char **argv)
{
    stir_certcache_config cc;
    stir_certcache_config_default(&cc);
    const char *trust_path = NULL, *identity = NULL, *from = NULL, *to = NULL, *dest = NULL;
    const char *cert_file = NULL;
    time_t now = time(NULL), at = 0;
    long freshness = 60;
    static const struct option opts[] = {
        { "trust", required_argument, 0, 'T' }, { "identity", required_argument, 0, 'i' },
        { "from", required_argument, 0, 'f' }, { "to", required_argument, 0, 't' },
        { "dest", required_argument, 0, 'd' }, { "time", required_argument, 0, 'a' },
        { "now", required_argument, 0, 'n' }, { "freshness", required_argument, 0, 'F' },
        { "fetch-allow-host", required_argument, 0, 'H' },
        { "fetch-allow-any-port", no_argument, 0, 'P' },
        { "fetch-allow-http", no_argument, 0, 'h' },
        { "fetch-ca-file", required_argument, 0, 'C' },
        { "cert-file", required_argument, 0, 'c' }, { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'T': trust_path = optarg; break;
        case 'i': identity = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'd': dest = optarg; break;
        case 'a': at = parse_time(optarg); break;
        case 'n': now = parse_time(optarg); break;
        case 'F': freshness = atol(optarg); break;
        case 'H':
            if (cc.fetch.n_allow_hosts == STIR_MAX_ALLOW_HOSTS) return usage(), 2;
            cc.fetch.allow_hosts[cc.fetch.n_allow_hosts++] = optarg;
            break;
        case 'P': cc.fetch.allow_any_port = 1; break;
        case 'h': cc.fetch.allow_http = 1; break;
        case 'C': cc.fetch.tls_ca_file = optarg; break;
        case 'c': cert_file = optarg; break;
        default: return usage(), 2;
        }
    }
    if (!trust_path) return usage(), 2;
    json_t *req;
    if (identity) {
        if (!from || !to) return usage(), 2;
        req = json_pack("{ss so so sI}", "identityHeader", identity, "from", ident_arg(from), "to",
                        ident_arg(to), "time", (json_int_t)(at ? at : now));
        if (dest) json_object_set_new(req, "dest", ident_arg(dest));
    } else {
        char *text = read_all(optind < argc ? argv[optind] : "-");
        if (!text) return 2;
        req = load_request(text, "verificationRequest");
        free(text);
        if (!req) return 2;
    }
    stir_error err;
    int rc = 2;
    stir_trust *trust = stir_trust_load(trust_path, &err);
    stir_certcache *cache = trust ? stir_certcache_new(&cc, trust, &err) : NULL;
    stir_verifier_config vc = { .cache = cache, .freshness_s = freshness };
    stir_verifier *v = cache ? stir_verifier_new(&vc, &err) : NULL;
    if (!v) {
        print_error("verifier", &err);
        goto out;
    }
    if (cert_file) {
        /* Preload the chain for the x5u of every header, as if fetched. */
        char *pem = read_all(cert_file);
        const json_t *h = json_object_get(req, "identityHeader");
        stir_identity id;
        if (pem && json_is_string(h) &&
            stir_identity_parse(json_string_value(h), json_string_length(h), &id, &err) == 0) {
            if (stir_certcache_put(cache, id.info, pem, strlen(pem), 3600, &err))
                print_error("cert-file", &err);
            stir_identity_clear(&id);
        }
        free(pem);
    }
    json_t *resp = stir_verify_request(v, req, now, &err);
    if (!resp) {
        print_error("verify", &err);
        goto out;
    }
    json_t *wrapped = json_pack("{so}", "verificationResponse", resp);
    json_dumpf(wrapped, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    putchar('\n');
    rc = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(resp, "verifyResults"), i, r) {
        const char *st = json_string_value(json_object_get(json_object_get(r, "verifyResult"),
                                                           "status"));
        if (!st || strcmp(st, "pass")) rc = 1;
    }
    json_decref(wrapped);
out:
    stir_verifier_free(v);
    stir_certcache_free(cache);
    stir_trust_free(trust);
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
    static const struct option opts[] = { { "cert", required_argument, 0, 'c' }, { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c') cert_file = optarg;
        else return usage(), 2;
    }
    char *text;
    if (optind < argc && strcmp(argv[optind], "-")) text = strdup(argv[optind]);
    else text = read_all("-");
    if (!text) return 2;
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

int main(int argc, char **argv)
{
    if (argc < 2) return usage(), 2;
    stir_init();
    const char *cmd = argv[1];
    int rc;
    argv++;
    argc--;
    if (!strcmp(cmd, "keygen")) rc = cmd_keygen(argc, argv);
    else if (!strcmp(cmd, "pki")) rc = cmd_pki(argc, argv);
    else if (!strcmp(cmd, "sign")) rc = cmd_sign(argc, argv);
    else if (!strcmp(cmd, "verify")) rc = cmd_verify(argc, argv);
    else if (!strcmp(cmd, "decode")) rc = cmd_decode(argc, argv);
    else if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage();
        rc = 0;
    } else {
        fprintf(stderr, "stirctl: unknown command \"%s\"\n", cmd);
        usage();
        rc = 2;
    }
    stir_cleanup();
    return rc;
}
