/*
 * stird settings: defaults, then the --config file, then the flags.
 * One table describes every setting; the file and the flags both go
 * through the same setters, so a key and its flag always accept the
 * same values with the same messages.
 */
#include "config.h"
#include "lab.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <stir/stir.h>

#define VALUE_MAX 4096           /* longest value (path, URL) accepted */
#define LINE_MAX_LEN 4096        /* longest config file line */

enum kind {
    K_STR,      /* char *            */
    K_BOOL,     /* int               */
    K_LONG,     /* long, in [min,max] */
    K_LLONG,    /* long long + has_  (fixed_time) */
    K_LIST,     /* fetch_allow_host  */
    K_ADDR,     /* stird_addr        */
    K_ROUTE,    /* routing_path      */
    K_LOGLEVEL, /* int               */
    K_CONFIG,   /* flag only         */
    K_PPT,      /* ppt_type (repeatable) */
    K_DIGEST,   /* const char *, static: sha256/sha384/sha512 */
    K_TOKEN,    /* char *, an RFC 3261 token */
    K_AUTH,     /* int, enum stird_auth_mode */
    K_AUDIENCE, /* oauth_audience (repeatable) */
    K_ADDR_OFF, /* stird_addr, or "none": disabled (metrics_listen) */
    K_LOGFORMAT,/* int: 0 text, 1 json */
    K_SIGNER,   /* signer (repeatable) */
};

typedef struct opt {
    const char *name;     /* flag name without "--" */
    enum kind kind;
    size_t off;
    long long min, max;
    const char *arg;      /* placeholder shown by --help */
    const char *help;
} opt;

#define OFF(m) offsetof(stird_config, m)

static const opt OPTS[] = {
    {"config", K_CONFIG, 0, 0, 0, "FILE", "read settings from FILE (key = value lines); flags override it"},
    {"listen", K_ADDR, OFF(listen), 0, 0, "HOST:PORT", "address of the Ms API (default 127.0.0.1:8080)"},
    {"routing-path", K_ROUTE, OFF(routing_path), 0, 0, "PATH", "RoutingPath prefix of the API root, e.g. /sti (default: none)"},
    {"threads", K_LONG, OFF(threads), 1, 256, "N", "HTTP worker threads (default: number of CPUs)"},
    {"max-body", K_LONG, OFF(max_body), 1024, 8 * 1024 * 1024, "BYTES", "largest request body accepted (default 65536)"},
    {"max-connections", K_LONG, OFF(max_connections), 1, 100000, "N", "concurrent client connections (default 4096)"},
    {"idle-timeout", K_LONG, OFF(idle_timeout), 1, 3600, "SECONDS", "close idle client connections after this (default 30)"},
    {"request-timeout", K_LONG, OFF(request_timeout), 1, 3600, "SECONDS", "whole request (TLS handshake, headers, body) within this, else 408 (default 10)"},
    {"max-connections-per-client", K_LONG, OFF(max_connections_per_client), 1, 100000, "N", "concurrent connections per client address and per certificate identity (default 64)"},
    {"max-header-bytes", K_LONG, OFF(max_header_bytes), 1024, 1024 * 1024, "BYTES", "request line and headers, else 431 (default 8192)"},
    {"tls-cert", K_STR, OFF(tls_cert), 0, 0, "FILE", "HTTPS on the Ms API: certificate chain, PEM, leaf first"},
    {"tls-key", K_STR, OFF(tls_key), 0, 0, "FILE", "HTTPS on the Ms API: private key, PEM"},
    {"tls-client-ca", K_STR, OFF(tls_client_ca), 0, 0, "PATH", "mutual TLS: client certificates must verify against these CAs (PEM bundle or directory)"},
    {"plain-http", K_BOOL, OFF(plain_http), 0, 1, NULL, "serve the Ms API over plain HTTP (no TLS): explicit, for labs and trusted networks"},
    {"key", K_STR, OFF(key), 0, 0, "FILE|URI", "signing key: P-256 PEM file, or PKCS#11 URI 'pkcs11:token=...;object=...'"},
    {"cert", K_STR, OFF(cert), 0, 0, "FILE", "certificate chain of the signing key, PEM, leaf first"},
    {"x5u", K_STR, OFF(x5u), 0, 0, "URL", "URL where that chain is published (becomes x5u and info)"},
    {"trust", K_STR, OFF(trust), 0, 0, "PATH", "STI-PA trust anchors: PEM bundle or directory"},
    {"cert-expiry-warn-days", K_LONG, OFF(cert_expiry_warn_days), 0, 3650, "DAYS", "warn at start and at each reload (SIGHUP) about signing chains, TLS certificates and trust anchors expiring within DAYS; 0: only expired ones (default 30)"},
    {"freshness", K_LONG, OFF(freshness), 1, 86400, "SECONDS", "allowed distance of iat/time from the clock (default 60)"},
    {"x5u-listen", K_ADDR, OFF(x5u_listen), 0, 0, "HOST:PORT", "serve the signing chain over HTTPS at /cert/chain.pem (embedded default 127.0.0.1:8443)"},
    {"x5u-tls-cert", K_STR, OFF(x5u_tls_cert), 0, 0, "FILE", "TLS certificate of the x5u server (embedded: STATE/tls.pem)"},
    {"x5u-tls-key", K_STR, OFF(x5u_tls_key), 0, 0, "FILE", "TLS key of the x5u server (embedded: STATE/tls.key)"},
    {"embedded", K_BOOL, OFF(embedded), 0, 1, NULL, "use (and create on first run) a test PKI in the state directory"},
    {"lab-secure", K_BOOL, OFF(lab_secure), 0, 1, NULL, "with --embedded: HTTPS, mutual TLS, OAuth, policy and audit from lab files made in the state directory (make run-secure)"},
    {"state-dir", K_STR, OFF(state_dir), 0, 0, "DIR", "state directory for --embedded (default var/stird)"},
    {"fetch-allow-host", K_LIST, 0, 0, 0, "HOST", "x5u host that may resolve to a loopback/private address (repeatable, max 8)"},
    {"fetch-allow-any-port", K_BOOL, OFF(fetch_allow_any_port), 0, 1, NULL, "allow x5u ports other than 443 and 8443"},
    {"fetch-allow-http", K_BOOL, OFF(fetch_allow_http), 0, 1, NULL, "allow http:// x5u URLs"},
    {"fetch-ca-file", K_STR, OFF(fetch_ca_file), 0, 0, "FILE", "CA bundle for x5u TLS (default: system store)"},
    {"fetch-connect-timeout-ms", K_LONG, OFF(fetch_connect_timeout_ms), 1, 60000, "MS", "x5u connect timeout"},
    {"fetch-timeout-ms", K_LONG, OFF(fetch_timeout_ms), 1, 120000, "MS", "x5u total fetch timeout"},
    {"fetch-max-bytes", K_LONG, OFF(fetch_max_bytes), 512, 1024 * 1024, "BYTES", "largest x5u body accepted"},
    {"fetch-max-per-host", K_LONG, OFF(fetch_max_per_host), 0, 1024, "N", "concurrent downloads per repository host (x5u, RCD content); beyond, a download waits within its fetch timeout, then 436 (0: no cap)"},
    {"fetch-threads", K_LONG, OFF(fetch_threads), 1, 256, "N", "threads for verifications that must wait for an x5u fetch (default 8)"},
    {"fetch-queue", K_LONG, OFF(fetch_queue), 1, 100000, "N", "verifications that may wait for those threads; beyond, 503 (default 1024)"},
    {"cache-default-ttl", K_LONG, OFF(cache_default_ttl), 1, 365L * 86400, "SECONDS", "certificate cache lifetime when the server gives none"},
    {"cache-min-ttl", K_LONG, OFF(cache_min_ttl), 0, 365L * 86400, "SECONDS", "shortest certificate cache lifetime"},
    {"cache-max-ttl", K_LONG, OFF(cache_max_ttl), 1, 365L * 86400, "SECONDS", "longest certificate cache lifetime"},
    {"cache-neg-ttl", K_LONG, OFF(cache_neg_ttl), 0, 86400, "SECONDS", "first back-off after a failed fetch (doubles per failure)"},
    {"cache-neg-ttl-max", K_LONG, OFF(cache_neg_ttl_max), 0, 86400, "SECONDS", "longest back-off after failed fetches"},
    {"cache-max-entries", K_LONG, OFF(cache_max_entries), 1, 10000000, "N", "certificate cache size (oldest evicted first)"},
    {"cache-max-failures", K_LONG, OFF(cache_max_failures), 1, 10000000, "N", "failed x5u fetches remembered, apart from the chains (oldest forgotten first)"},
    {"ppt-type", K_PPT, 0, 0, 0, "SPEC", "add a PASSporT type: 'NAME CLAIM:TYPE[:required] ...' (repeatable, max 16)"},
    {"rcd-digest-alg", K_DIGEST, OFF(rcd_digest_alg), 0, 0, "ALG", "rcdi digests made when signing: sha256, sha384 or sha512 (default sha256)"},
    {"rcd-max-jcard-bytes", K_LONG, OFF(rcd_max_jcard_bytes), 256, 1024 * 1024, "BYTES", "largest jCard, inline (jcd) or fetched (jcl)"},
    {"rcd-max-links", K_LONG, OFF(rcd_max_links), 0, 64, "N", "URIs an rcd claim and its jCard may link"},
    {"rcd-fetch-budget-ms", K_LONG, OFF(rcd_fetch_budget_ms), 1, 60000, "MS", "time all the RCD fetches of one request may take together"},
    {"rcd-max-bytes", K_LONG, OFF(rcd_max_bytes), 1024, 16 * 1024 * 1024, "BYTES", "largest RCD content fetched (icon, jCard, linked files)"},
    {"rcd-cache-ttl", K_LONG, OFF(rcd_cache_ttl), 0, 86400, "SECONDS", "fetched RCD content is kept this long (less if its server says so)"},
    {"rcd-verify-fetch", K_BOOL, OFF(rcd_verify_fetch), 0, 1, NULL, "verification fetches linked RCD content to check rcdi (default yes; =no reports it unverified)"},
    {"verstat-priority-passed", K_TOKEN, OFF(verstat_priority_passed), 0, 0, "TOKEN", "verstatPriority of a passing rph PASSporT (default RPH-Validation-Passed)"},
    {"verstat-priority-failed", K_TOKEN, OFF(verstat_priority_failed), 0, 0, "TOKEN", "verstatPriority of a failing rph PASSporT (default RPH-Validation-Failed)"},
    {"log-level", K_LOGLEVEL, OFF(log_level), 0, 0, "LEVEL", "error, warn, info (one line per request) or debug (default info)"},
    {"fixed-time", K_LLONG, OFF(fixed_time), 0, 253402300799LL, "EPOCH", "labs/tests only: the server clock always reads EPOCH"},
    {"auth", K_AUTH, OFF(auth), 0, 0, "MODE", "client authentication: none (default), static (mTLS identity + policy file) or oauth (Bearer access token)"},
    {"oauth-jwks", K_STR, OFF(oauth_jwks), 0, 0, "FILE", "JWKS file of the OAuth 2.0 authorization server (ES256/RS256 public keys)"},
    {"oauth-issuer", K_STR, OFF(oauth_issuer), 0, 0, "ISS", "the `iss` an access token must carry"},
    {"oauth-audience", K_AUDIENCE, 0, 0, 0, "AUD", "an `aud` value that names this server: instance id or NF type (repeatable, max 4)"},
    {"oauth-clock-skew", K_LONG, OFF(oauth_clock_skew), 0, 300, "SECONDS", "tolerance on the exp, nbf and iat of access tokens (default 30)"},
    {"policy-file", K_STR, OFF(policy_file), 0, 0, "FILE", "per-client policy, JSON (docs/SECURITY.md); reloaded on SIGHUP"},
    {"audit-log", K_STR, OFF(audit_log), 0, 0, "FILE", "append one JSON line per signing and refused signing to FILE"},
    {"metrics-listen", K_ADDR_OFF, OFF(metrics_listen), 0, 0, "HOST:PORT", "serve Prometheus metrics at GET /metrics on this address; none disables (default 127.0.0.1:9464)"},
    {"log-format", K_LOGFORMAT, OFF(log_json), 0, 0, "FORMAT", "text (default) or json: one JSON object per log line"},
    {"crl-mode", K_STR, OFF(crl_mode), 0, 0, "MODE", "when a certificate's CRL cannot be fetched, verified or is stale: fail-open (accept, warn; default), fail-closed (437) or off (no revocation checks)"},
    {"crl-max-ttl", K_LONG, OFF(crl_max_ttl), 60, 30L * 86400, "SECONDS", "a CRL is reused until its nextUpdate, at most this long (default 86400)"},
    {"crl-retry", K_LONG, OFF(crl_retry), 1, 86400, "SECONDS", "a CRL that failed or was stale is fetched again after this (default 60)"},
    {"crl-max-bytes", K_LONG, OFF(crl_max_bytes), 1024, 16 * 1024 * 1024, "BYTES", "largest CRL accepted (default 1048576)"},
    {"crl-allow-http", K_BOOL, OFF(crl_allow_http), 0, 1, NULL, "fetch http:// CRL URLs (default yes: CRLs are signed; SHAKEN publishes them over HTTP)"},
    {"fetch-budget-ms", K_LONG, OFF(fetch_budget_ms), 1, 60000, "MS", "time the x5u fetches of one verification request may take together; they run in parallel (default 1500)"},
    {"require-user-phone", K_BOOL, OFF(require_user_phone), 0, 1, NULL, "a sip: URI is a TN only with user=phone (default no: a +global-number user part is one, RFC 8224 8.3)"},
    {"pkcs11-module", K_STR, OFF(pkcs11_module), 0, 0, "FILE", "PKCS#11 module (shared library) of a 'pkcs11:' key; no default"},
    {"key-pin-file", K_STR, OFF(key_pin_file), 0, 0, "FILE", "file whose first line is the PKCS#11 token PIN (else $STIRD_PKCS11_PIN)"},
    {"signer", K_SIGNER, 0, 0, 0, "SPEC", "another signing identity: 'NAME key=FILE|URI cert=FILE x5u=URL [tn=RANGE[,RANGE]]' (repeatable, max 15)"},
    {"allow-insecure-key-mode", K_BOOL, OFF(allow_insecure_key_mode), 0, 1, NULL, "labs only: accept private key files that group or others may read (default: refused at start)"},
    {"fetch-client-threads", K_LONG, OFF(fetch_client_threads), 0, 256, "N", "fetch threads one client may hold at once; 0: a quarter of fetch_threads, at least 1 (default 0)"},
    {"fetch-client-queue", K_LONG, OFF(fetch_client_queue), 0, 100000, "N", "requests one client may have waiting for fetch threads, beyond 503; 0: a quarter of fetch_queue, at least 1 (default 0)"},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static const char *LEVELS[] = {"error", "warn", "info", "debug"};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Compare a flag/key name with an option name, '_' and '-' alike. */
static int name_eq(const char *given, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char a = given[i] == '_' ? '-' : given[i];
        if (name[i] == '\0' || a != name[i])
            return 0;
    }
    return name[n] == '\0';
}

static const opt *find_opt(const char *given, size_t n)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (name_eq(given, n, OPTS[i].name))
            return &OPTS[i];
    return NULL;
}

static void config_defaults(stird_config *cfg)
{
    stir_certcache_config cc;
    stir_rcd_config rc;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    memset(cfg, 0, sizeof *cfg);
    cfg->threads = ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu;
    cfg->max_body = 65536;
    cfg->max_connections = 4096;
    cfg->idle_timeout = 30;
    cfg->request_timeout = 10;
    cfg->max_connections_per_client = 64;
    cfg->max_header_bytes = 8192;
    cfg->freshness = 60;
    cfg->fetch_threads = 8;
    cfg->fetch_queue = 1024;
    cfg->log_level = LOG_LVL_INFO;
    cfg->auth = AUTH_MODE_NONE;
    cfg->oauth_clock_skew = 30;

    stir_certcache_config_default(&cc);
    cfg->fetch_connect_timeout_ms = cc.fetch.connect_timeout_ms;
    cfg->fetch_timeout_ms = cc.fetch.total_timeout_ms;
    cfg->fetch_max_bytes = (long)cc.fetch.max_bytes;
    cfg->fetch_max_per_host = (long)cc.fetch.max_per_host;
    cfg->cache_default_ttl = cc.default_ttl_s;
    cfg->cache_min_ttl = cc.min_ttl_s;
    cfg->cache_max_ttl = cc.max_ttl_s;
    cfg->cache_neg_ttl = cc.neg_ttl_initial_s;
    cfg->cache_neg_ttl_max = cc.neg_ttl_max_s;
    cfg->cache_max_entries = (long)cc.max_entries;
    cfg->cache_max_failures = (long)cc.max_neg_entries;

    /* libstir owns the RCD defaults; the settings start from them. */
    stir_rcd_config_default(&rc);
    cfg->rcd_digest_alg = rc.digest_alg;
    cfg->rcd_max_jcard_bytes = (long)rc.max_jcard_bytes;
    cfg->rcd_max_links = (long)rc.max_links;
    cfg->rcd_fetch_budget_ms = rc.fetch_budget_ms;
    cfg->rcd_max_bytes = (long)rc.fetch.max_bytes;
    cfg->rcd_cache_ttl = rc.cache_ttl_s;
    cfg->rcd_verify_fetch = rc.verify_fetch;
    stir_crl_config crl;
    stir_crl_config_default(&crl);
    cfg->crl_max_ttl = crl.max_ttl_s;
    cfg->crl_retry = crl.retry_s;
    cfg->crl_max_bytes = (long)crl.fetch.max_bytes;
    cfg->crl_allow_http = crl.allow_http;
    cfg->fetch_budget_ms = 1500;
    cfg->cert_expiry_warn_days = 30;
}

/* ---- address parsing ---------------------------------------------------- */

static int parse_port(const char *s, unsigned *port)
{
    char *end;
    long v;
    if (*s == '\0' || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

static int set_addr(stird_addr *a, const char *label, const char *v, char *err, size_t errlen)
{
    char host[256];
    const char *colon, *hs;
    size_t hl;
    unsigned port;
    struct addrinfo hints, *res = NULL;
    int rc;

    if (v[0] == '[') {                       /* [v6]:port */
        const char *rb = strchr(v, ']');
        if (!rb || rb[1] != ':') {
            set_err(err, errlen, "%s: '%s' is not HOST:PORT ('[::1]:8080' for IPv6)", label, v);
            return -1;
        }
        hs = v + 1;
        hl = (size_t)(rb - hs);
        colon = rb + 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon || strchr(v, ':') != colon) {
            set_err(err, errlen, "%s: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080; IPv6 as [::1]:8080)",
                    label, v);
            return -1;
        }
        hs = v;
        hl = (size_t)(colon - v);
    }
    if (hl == 0 || hl >= sizeof host) {
        set_err(err, errlen, "%s: '%s' has no host (use 0.0.0.0 to listen on every address)", label, v);
        return -1;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (parse_port(colon + 1, &port) != 0) {
        set_err(err, errlen, "%s: port '%s' is not a number from 0 to 65535", label, colon + 1);
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        set_err(err, errlen, "%s: cannot resolve host '%s': %s", label, host, gai_strerror(rc));
        if (res)
            freeaddrinfo(res);
        return -1;
    }
    memset(a, 0, sizeof *a);
    memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
    a->salen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(a->host, sizeof a->host, "%s", host);
    a->port = port;
    a->set = 1;
    return 0;
}

void config_addr_str(const stird_addr *a, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->sa.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->sa)->sin6_addr, ip, sizeof ip);
        snprintf(out, outlen, "[%s]:%u", ip, a->port);
    } else {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->sa)->sin_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%u", ip, a->port);
    }
}

/* ---- setters ------------------------------------------------------------- */

static int check_text(const char *label, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0) {
        set_err(err, errlen, "%s: empty value", label);
        return -1;
    }
    if (n > VALUE_MAX) {
        set_err(err, errlen, "%s: value longer than %d characters", label, VALUE_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            set_err(err, errlen, "%s: value contains a control character", label);
            return -1;
        }
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *T[] = {"1", "true", "yes", "on"}, *F[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, T[i]) == 0) { *out = 1; return 0; }
        if (strcasecmp(v, F[i]) == 0) { *out = 0; return 0; }
    }
    return -1;
}

static int parse_ll(const char *label, const char *v, long long min, long long max,
                    long long *out, char *err, size_t errlen)
{
    char *end;
    long long x;
    const char *p = v;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p)) {
        set_err(err, errlen, "%s: '%s' is not an integer", label, v);
        return -1;
    }
    errno = 0;
    x = strtoll(v, &end, 10);
    if (*end != '\0') {
        set_err(err, errlen, "%s: '%s' is not an integer", label, v);
        return -1;
    }
    if (errno == ERANGE || x < min || x > max) {
        set_err(err, errlen, "%s: %s is out of range (%lld..%lld)", label, v, min, max);
        return -1;
    }
    *out = x;
    return 0;
}

/* RoutingPath: "/a/b" made of RFC 3986 pchar without '%' (MHD decodes
 * the request path before we see it, so encoded bytes could never match). */
static int set_route(char *dst, size_t cap, const char *label, const char *v,
                     char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (strcmp(v, "/") == 0) {
        dst[0] = '\0';
        return 0;
    }
    if (v[0] != '/') {
        set_err(err, errlen, "%s: '%s' must start with '/'", label, v);
        return -1;
    }
    if (n >= cap) {
        set_err(err, errlen, "%s: longer than %zu characters", label, cap - 1);
        return -1;
    }
    if (v[n - 1] == '/') {
        set_err(err, errlen, "%s: '%s' must not end with '/'", label, v);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!(isalnum(c) || strchr("/-._~!$&'()*+,;=:@", c))) {
            set_err(err, errlen, "%s: character '%c' not allowed (letters, digits, -._~!$&'()*+,;=:@ and '/')",
                    label, isprint(c) ? c : '?');
            return -1;
        }
        if (c == '/' && (v[i + 1] == '/' ||
                         (v[i + 1] == '.' && (v[i + 2] == '/' || v[i + 2] == '\0')) ||
                         (v[i + 1] == '.' && v[i + 2] == '.' &&
                          (v[i + 3] == '/' || v[i + 3] == '\0')))) {
            set_err(err, errlen, "%s: '%s' has an empty, '.' or '..' segment", label, v);
            return -1;
        }
    }
    memcpy(dst, v, n + 1);
    return 0;
}

static int add_host(stird_config *cfg, const char *label, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n > 253) {
        set_err(err, errlen, "%s: host name longer than 253 characters", label);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_' || c == '[' || c == ']')) {
            set_err(err, errlen, "%s: '%s' is not a host name or IP address", label, v);
            return -1;
        }
    }
    for (size_t i = 0; i < cfg->n_fetch_allow_host; i++)
        if (strcasecmp(cfg->fetch_allow_host[i], v) == 0)
            return 0;
    if (cfg->n_fetch_allow_host >= STIR_MAX_ALLOW_HOSTS) {
        set_err(err, errlen, "%s: at most %d hosts may be allowed", label, STIR_MAX_ALLOW_HOSTS);
        return -1;
    }
    cfg->fetch_allow_host[cfg->n_fetch_allow_host] = strdup(v);
    if (!cfg->fetch_allow_host[cfg->n_fetch_allow_host]) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    cfg->n_fetch_allow_host++;
    return 0;
}

/* One more accepted token audience: printable, no spaces (RFC 7519 StringOrURI). */
static int add_audience(stird_config *cfg, const char *label, const char *v, char *err,
                        size_t errlen)
{
    size_t n = strlen(v);
    if (n > 255) {
        set_err(err, errlen, "%s: longer than 255 characters", label);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
            set_err(err, errlen, "%s: '%.80s' has a space or a non-ASCII character", label, v);
            return -1;
        }
    for (size_t i = 0; i < cfg->n_oauth_audience; i++)
        if (strcmp(cfg->oauth_audience[i], v) == 0)
            return 0;
    if (cfg->n_oauth_audience >= STIRD_MAX_AUDIENCES) {
        set_err(err, errlen, "%s: at most %d audiences", label, STIRD_MAX_AUDIENCES);
        return -1;
    }
    if (!(cfg->oauth_audience[cfg->n_oauth_audience] = strdup(v))) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    cfg->n_oauth_audience++;
    return 0;
}

static void clear_audiences(stird_config *cfg)
{
    for (size_t i = 0; i < cfg->n_oauth_audience; i++)
        free(cfg->oauth_audience[i]);
    cfg->n_oauth_audience = 0;
}

/* One more configured PASSporT type; registered by main.c at start-up. */
static int add_ppt(stird_config *cfg, const char *label, const char *v, char *err, size_t errlen)
{
    stird_ppt_def *d;
    stir_error e;

    if (cfg->n_ppt_types >= STIRD_MAX_PPT_TYPES) {
        set_err(err, errlen, "%s: at most %d PASSporT types may be configured", label,
                STIRD_MAX_PPT_TYPES);
        return -1;
    }
    d = &cfg->ppt_types[cfg->n_ppt_types];
    if (!(d->spec = strdup(v))) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (stir_ppt_parse(d->spec, &d->type, &e) != 0) {
        set_err(err, errlen, "%s: %s", label, e.detail);
        free(d->spec);
        d->spec = NULL;
        return -1;
    }
    snprintf(d->origin, sizeof d->origin, "%s", label);
    cfg->n_ppt_types++;
    return 0;
}

static void clear_ppt(stird_config *cfg)
{
    for (size_t i = 0; i < cfg->n_ppt_types; i++) {
        free(cfg->ppt_types[i].spec);
        cfg->ppt_types[i].spec = NULL;
    }
    cfg->n_ppt_types = 0;
}

static void clear_signers(stird_config *cfg)
{
    for (size_t i = 0; i < cfg->n_signers; i++)
        free(cfg->signers[i].spec);
    memset(cfg->signers, 0, sizeof cfg->signers);
    cfg->n_signers = 0;
}

/* One more signing identity: "NAME key=... cert=... x5u=... [tn=A,B ...]". */
static int add_signer(stird_config *cfg, const char *label, const char *v, char *err,
                      size_t errlen)
{
    stird_signer_def *d;
    char *p, *tok, *save = NULL;
    stir_error e;

    if (cfg->n_signers >= STIRD_MAX_SIGNERS) {
        set_err(err, errlen, "%s: at most %d signers may be configured", label, STIRD_MAX_SIGNERS);
        return -1;
    }
    d = &cfg->signers[cfg->n_signers];
    memset(d, 0, sizeof *d);
    if (!(d->spec = strdup(v))) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    for (p = d->spec; (tok = strtok_r(p, " \t", &save)) != NULL; p = NULL) {
        const char **dst = NULL;
        char *eq = strchr(tok, '=');
        if (!d->name) {
            size_t n = strlen(tok);
            if (eq || n > STIR_SIGNER_NAME_MAX || strspn(tok, "abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
                set_err(err, errlen, "%s: '%.40s' is not a signer name (1 to %d letters, "
                        "digits, _ . -), which comes first", label, tok, STIR_SIGNER_NAME_MAX);
                goto fail;
            }
            if (strcmp(tok, "default") == 0) {
                set_err(err, errlen, "%s: the name 'default' is the key/cert/x5u signer's",
                        label);
                goto fail;
            }
            for (size_t i = 0; i < cfg->n_signers; i++)
                if (strcmp(cfg->signers[i].name, tok) == 0) {
                    set_err(err, errlen, "%s: a signer named '%s' is already configured",
                            label, tok);
                    goto fail;
                }
            d->name = tok;
            continue;
        }
        if (!eq || eq == tok || eq[1] == '\0') {
            set_err(err, errlen, "%s: signer %s: '%.40s' is not key=VALUE (key, cert, x5u, tn)",
                    label, d->name, tok);
            goto fail;
        }
        *eq = '\0';
        if (strcmp(tok, "key") == 0)
            dst = &d->key;
        else if (strcmp(tok, "cert") == 0)
            dst = &d->cert;
        else if (strcmp(tok, "x5u") == 0)
            dst = &d->x5u;
        else if (strcmp(tok, "tn") == 0) {
            char *r, *rsave = NULL, *q = eq + 1;
            for (; (r = strtok_r(q, ",", &rsave)) != NULL; q = NULL) {
                if (d->n_tn >= STIR_SIGNER_RANGES_MAX) {
                    set_err(err, errlen, "%s: signer %s: at most %d TN ranges", label, d->name,
                            STIR_SIGNER_RANGES_MAX);
                    goto fail;
                }
                memset(&e, 0, sizeof e);
                if (stir_tn_range_check(r, &e) != 0) {
                    set_err(err, errlen, "%s: signer %s: %s", label, d->name, e.detail);
                    goto fail;
                }
                d->tn[d->n_tn++] = r;
            }
            continue;
        } else {
            set_err(err, errlen, "%s: signer %s: unknown attribute '%.20s' (key, cert, x5u, tn)",
                    label, d->name, tok);
            goto fail;
        }
        if (*dst) {
            set_err(err, errlen, "%s: signer %s: %s given twice", label, d->name, tok);
            goto fail;
        }
        *dst = eq + 1;
    }
    if (!d->name || !d->key || !d->cert || !d->x5u) {
        set_err(err, errlen, "%s: signer %s needs key=, cert= and x5u= (missing:%s%s%s)",
                label, d->name ? d->name : "(no name)", d->key ? "" : " key",
                d->cert ? "" : " cert", d->x5u ? "" : " x5u");
        goto fail;
    }
    snprintf(d->origin, sizeof d->origin, "%s", label);
    cfg->n_signers++;
    return 0;
fail:
    free(d->spec);
    memset(d, 0, sizeof *d);
    return -1;
}

/* RFC 3261 token: the verstat values end up as SIP header parameters. */
static int is_token(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("-.!%*_+`'~", v[i]))
            return 0;
    return 1;
}

/* Apply one setting. `v` is NULL for a bare boolean flag. */
static int apply(stird_config *cfg, const opt *o, const char *label, const char *v,
                 char *err, size_t errlen)
{
    char *base = (char *)cfg;
    long long x;

    if (o->kind == K_BOOL && v == NULL) {
        *(int *)(base + o->off) = 1;
        return 0;
    }
    if (v == NULL) {
        set_err(err, errlen, "%s: needs a value (%s)", label, o->arg);
        return -1;
    }
    if (check_text(label, v, err, errlen) != 0)
        return -1;

    switch (o->kind) {
    case K_TOKEN:
        if (!is_token(v)) {
            set_err(err, errlen, "%s: '%.80s' is not a SIP token of at most 64 characters "
                    "(letters, digits, -.!%%*_+`'~)", label, v);
            return -1;
        }
        /* fall through */
    case K_STR: {
        char **dst = (char **)(base + o->off);
        char *dup = strdup(v);
        if (!dup) {
            set_err(err, errlen, "out of memory");
            return -1;
        }
        free(*dst);
        *dst = dup;
        return 0;
    }
    case K_BOOL:
        if (parse_bool(v, (int *)(base + o->off)) != 0) {
            set_err(err, errlen, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)", label, v);
            return -1;
        }
        return 0;
    case K_LONG:
        if (parse_ll(label, v, o->min, o->max, &x, err, errlen) != 0)
            return -1;
        *(long *)(base + o->off) = (long)x;
        return 0;
    case K_LLONG:
        if (parse_ll(label, v, o->min, o->max, &x, err, errlen) != 0)
            return -1;
        *(long long *)(base + o->off) = x;
        cfg->has_fixed_time = 1;
        return 0;
    case K_LIST:
        return add_host(cfg, label, v, err, errlen);
    case K_ADDR:
        return set_addr((stird_addr *)(base + o->off), label, v, err, errlen);
    case K_ADDR_OFF: {
        stird_addr *a = (stird_addr *)(base + o->off);
        if (strcasecmp(v, "none") == 0) {
            memset(a, 0, sizeof *a);
            a->off = 1;
            return 0;
        }
        return set_addr(a, label, v, err, errlen);
    }
    case K_LOGFORMAT:
        if (strcasecmp(v, "text") == 0 || strcasecmp(v, "json") == 0) {
            *(int *)(base + o->off) = strcasecmp(v, "json") == 0;
            return 0;
        }
        set_err(err, errlen, "%s: '%.40s' is not text or json", label, v);
        return -1;
    case K_ROUTE:
        return set_route(base + o->off, sizeof cfg->routing_path, label, v, err, errlen);
    case K_LOGLEVEL:
        for (int i = 0; i < 4; i++)
            if (strcasecmp(v, LEVELS[i]) == 0) {
                *(int *)(base + o->off) = i;
                return 0;
            }
        set_err(err, errlen, "%s: '%s' is not one of error, warn, info, debug", label, v);
        return -1;
    case K_CONFIG:
        set_err(err, errlen, "%s: cannot be set inside a config file", label);
        return -1;
    case K_PPT:
        return add_ppt(cfg, label, v, err, errlen);
    case K_SIGNER:
        return add_signer(cfg, label, v, err, errlen);
    case K_DIGEST: {
        /* The setting takes any case ("SHA384"); the library's list is
         * the RFC's lowercase spelling. */
        char low[16];
        size_t n = strlen(v);
        const char *alg = NULL;
        if (n < sizeof low) {
            for (size_t i = 0; i <= n; i++)
                low[i] = (char)tolower((unsigned char)v[i]);
            alg = stir_digest_by_name(low);
        }
        if (!alg) {
            set_err(err, errlen, "%s: '%.40s' is not %s", label, v, stir_digest_names());
            return -1;
        }
        *(const char **)(base + o->off) = alg;
        return 0;
    }
    case K_AUTH: {
        static const char *const MODES[] = {"none", "static", "oauth"};
        for (int i = 0; i < 3; i++)
            if (strcasecmp(v, MODES[i]) == 0) {
                *(int *)(base + o->off) = i;
                return 0;
            }
        set_err(err, errlen, "%s: '%.40s' is not none, static or oauth", label, v);
        return -1;
    }
    case K_AUDIENCE:
        return add_audience(cfg, label, v, err, errlen);
    }
    return -1;
}

/* ---- the config file ----------------------------------------------------- */

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

static int load_file(stird_config *cfg, const char *path, char *err, size_t errlen)
{
    char line[LINE_MAX_LEN + 2];
    char msg[512];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        set_err(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *s, *eq, *key, *val;
        const opt *o;
        size_t n = strlen(line);

        lineno++;
        if (n > LINE_MAX_LEN && line[n - 1] != '\n') {
            set_err(err, errlen, "%s:%u: line longer than %d characters", path, lineno, LINE_MAX_LEN);
            goto fail;
        }
        s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            set_err(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
            goto fail;
        }
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        if (*val == '"') {
            /* Quoted: taken literally (may hold " #"). */
            size_t vl = strlen(val);
            if (vl < 2 || val[vl - 1] != '"') {
                set_err(err, errlen, "%s:%u: unterminated quoted value", path, lineno);
                goto fail;
            }
            val[vl - 1] = '\0';
            val++;
        } else {
            /* An inline comment starts at a '#' after whitespace. */
            for (char *p = val; *p; p++)
                if (*p == '#' && p > val && (p[-1] == ' ' || p[-1] == '\t')) {
                    *p = '\0';
                    val = trim(val);
                    break;
                }
        }
        if (*key == '\0') {
            set_err(err, errlen, "%s:%u: missing key before '='", path, lineno);
            goto fail;
        }
        o = find_opt(key, strlen(key));
        if (!o) {
            set_err(err, errlen, "%s:%u: unknown key '%.64s' (see stird --help)", path, lineno, key);
            goto fail;
        }
        if (apply(cfg, o, key, val, msg, sizeof msg) != 0) {
            set_err(err, errlen, "%s:%u: %s", path, lineno, msg);
            goto fail;
        }
        if (o->kind == K_PPT)   /* registration errors come later: name the line */
            snprintf(cfg->ppt_types[cfg->n_ppt_types - 1].origin,
                     sizeof cfg->ppt_types[0].origin, "%s:%u: %s", path, lineno, key);
        if (o->kind == K_SIGNER)   /* key and certificate errors come later */
            snprintf(cfg->signers[cfg->n_signers - 1].origin,
                     sizeof cfg->signers[0].origin, "%s:%u", path, lineno);
    }
    if (ferror(f)) {
        set_err(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    return 0;
fail:
    fclose(f);
    return -1;
}

/* ---- flags ----------------------------------------------------------------- */

void config_usage(FILE *out)
{
    stird_config d;
    config_defaults(&d);
    fprintf(out,
            "usage: stird [--embedded] [--config FILE] [flags]\n"
            "\n"
            "STIR/SHAKEN signing and verification server (3GPP TS 24.229 Annex V, Ms\n"
            "reference point): POST {routing-path}/stir/v1/signing and .../verification,\n"
            "GET /health and /ready.\n\n"
            "Every flag can also be a config file line 'name = value' (name without\n"
            "the dashes, '_' or '-' alike, e.g. fetch_allow_host = 127.0.0.1).\n\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", OPTS[i].name, OPTS[i].arg ? " " : "",
                 OPTS[i].arg ? OPTS[i].arg : "");
        fprintf(out, "  %-34s %s", left, OPTS[i].help);
        if (OPTS[i].kind == K_LONG && strstr(OPTS[i].help, "default") == NULL)
            fprintf(out, " (default %ld)", *(const long *)((const char *)&d + OPTS[i].off));
        if (OPTS[i].kind == K_LONG || OPTS[i].kind == K_LLONG)
            fprintf(out, " [%lld..%lld]", OPTS[i].min, OPTS[i].max);
        fputc('\n', out);
    }
    fprintf(out, "  %-34s %s\n  %-34s %s\n  %-34s %s\n", "--help", "show this help",
            "--help-settings=man|md", "the settings reference as roff or Markdown",
            "--version", "show the version");
}

/* Text for a man page: backslashes doubled, '-' as \- (a minus that
 * stays a hyphen when copied), no control line at a line start. */
static void man_text(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

/*
 * The settings reference from OPTS, for stird.conf(5) ("man": roff
 * .TP entries) or docs ("md": one table row per setting). The man page
 * is made from this at build time, so it cannot drift from --help.
 */
void config_settings_doc(FILE *out, const char *format)
{
    int man = strcmp(format, "man") == 0;
    if (!man)
        fprintf(out, "| key | flag | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &OPTS[i];
        char key[64];
        size_t k;
        if (o->kind == K_CONFIG)
            continue;   /* a flag only */
        for (k = 0; o->name[k] && k + 1 < sizeof key; k++)
            key[k] = o->name[k] == '-' ? '_' : o->name[k];
        key[k] = '\0';
        if (man) {
            fprintf(out, ".TP\n.BR %s \" = \" ", key);
            man_text(out, o->arg ? o->arg : "BOOLEAN");
            fputs("\n", out);
            man_text(out, o->help);
            fprintf(out, "\n.br\nFlag: \\fB\\-\\-");
            man_text(out, o->name);
            fputs("\\fR.", out);
            if (o->kind == K_LONG || o->kind == K_LLONG)
                fprintf(out, " Range %lld..%lld.", o->min, o->max);
            fputs("\n", out);
        } else {
            fprintf(out, "| `%s` | `--%s%s%s` | %s |\n", key, o->name, o->arg ? " " : "",
                    o->arg ? o->arg : "", o->help);
        }
    }
}

/* Split "--name[=value]"; returns the option or NULL. */
static const opt *flag_opt(const char *arg, const char **inline_val)
{
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    *inline_val = eq ? eq + 1 : NULL;
    return find_opt(name, n);
}

static int apply_flags(stird_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    int hosts_reset = 0, ppt_reset = 0, aud_reset = 0, signers_reset = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val;
        const opt *o;
        char label[80];

        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            set_err(err, errlen, "unexpected argument '%.80s' (see --help)", arg);
            return -1;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "--version") == 0)
            continue;
        o = flag_opt(arg, &val);
        if (!o) {
            set_err(err, errlen, "unknown flag '%.80s' (see --help)", arg);
            return -1;
        }
        snprintf(label, sizeof label, "--%s", o->name);
        if (!val && o->kind != K_BOOL) {
            if (i + 1 >= argc) {
                set_err(err, errlen, "%s: needs a value (%s)", label, o->arg);
                return -1;
            }
            val = argv[++i];
        }
        if (o->kind == K_CONFIG)
            continue;               /* already loaded */
        /* Flags replace the file's lists rather than extend them. */
        if (o->kind == K_LIST && !hosts_reset) {
            for (size_t j = 0; j < cfg->n_fetch_allow_host; j++)
                free(cfg->fetch_allow_host[j]);
            cfg->n_fetch_allow_host = 0;
            hosts_reset = 1;
        }
        if (o->kind == K_PPT && !ppt_reset) {
            clear_ppt(cfg);
            ppt_reset = 1;
        }
        if (o->kind == K_AUDIENCE && !aud_reset) {
            clear_audiences(cfg);
            aud_reset = 1;
        }
        if (o->kind == K_SIGNER && !signers_reset) {
            clear_signers(cfg);
            signers_reset = 1;
        }
        if (apply(cfg, o, label, val, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

static int default_str(char **dst, const char *dir, const char *file)
{
    if (*dst)
        return 0;
    *dst = join_path(dir, file);
    return *dst ? 0 : -1;
}

static int finalize(stird_config *cfg, char *err, size_t errlen)
{
    if (!cfg->listen.set && set_addr(&cfg->listen, "listen", "127.0.0.1:8080", err, errlen) != 0)
        return -1;
    if (!cfg->metrics_listen.set && !cfg->metrics_listen.off &&
        set_addr(&cfg->metrics_listen, "metrics-listen", "127.0.0.1:9464", err, errlen) != 0)
        return -1;

    if (cfg->embedded) {
        char host[300], url[400];
        const char *h;
        if (!cfg->state_dir && !(cfg->state_dir = strdup("var/stird")))
            goto oom;
        if (!cfg->x5u_listen.set &&
            set_addr(&cfg->x5u_listen, "x5u-listen", "127.0.0.1:8443", err, errlen) != 0)
            return -1;
        if (default_str(&cfg->key, cfg->state_dir, "sp.key") ||
            default_str(&cfg->cert, cfg->state_dir, "chain.pem") ||
            default_str(&cfg->trust, cfg->state_dir, "root.pem") ||
            default_str(&cfg->x5u_tls_cert, cfg->state_dir, "tls.pem") ||
            default_str(&cfg->x5u_tls_key, cfg->state_dir, "tls.key") ||
            default_str(&cfg->fetch_ca_file, cfg->state_dir, "tls.pem"))
            goto oom;
        /* The TLS certificate of the embedded PKI names 127.0.0.1 and
         * localhost, so a wildcard listener is reached through 127.0.0.1. */
        h = cfg->x5u_listen.host;
        if (strcmp(h, "0.0.0.0") == 0)
            h = "127.0.0.1";
        else if (strchr(h, ':'))
            h = "localhost";    /* an IPv6 literal is not in the certificate */
        snprintf(host, sizeof host, "%s", h);
        if (!cfg->x5u) {
            snprintf(url, sizeof url, "https://%s:%u/cert/chain.pem", host, cfg->x5u_listen.port);
            if (!(cfg->x5u = strdup(url)))
                goto oom;
        }
        if (add_host(cfg, "fetch-allow-host", "127.0.0.1", err, errlen) != 0 ||
            add_host(cfg, "fetch-allow-host", "localhost", err, errlen) != 0)
            return -1;
    }
    if (cfg->lab_secure) {
        /* The lab's own files (lab.h), made by stird at start-up (lab_create);
         * explicit settings still win. */
        if (!cfg->embedded) {
            set_err(err, errlen, "--lab-secure works with --embedded (the lab PKI and state directory)");
            return -1;
        }
        if (cfg->plain_http) {
            set_err(err, errlen, "--lab-secure serves HTTPS: drop --plain-http");
            return -1;
        }
        if (default_str(&cfg->tls_cert, cfg->state_dir, "api.pem") ||
            default_str(&cfg->tls_key, cfg->state_dir, "api.key") ||
            default_str(&cfg->tls_client_ca, cfg->state_dir, "client-ca.pem") ||
            default_str(&cfg->oauth_jwks, cfg->state_dir, "oauth-jwks.json") ||
            default_str(&cfg->policy_file, cfg->state_dir, "policy.json") ||
            default_str(&cfg->audit_log, cfg->state_dir, "audit.log"))
            goto oom;
        if (!cfg->oauth_issuer && !(cfg->oauth_issuer = strdup(LAB_ISSUER)))
            goto oom;
        if (cfg->n_oauth_audience == 0 &&
            add_audience(cfg, "oauth-audience", LAB_AUDIENCE, err, errlen) != 0)
            return -1;
        cfg->auth = AUTH_MODE_OAUTH;
    }

    if ((cfg->key != NULL) != (cfg->cert != NULL) || (cfg->key != NULL) != (cfg->x5u != NULL)) {
        set_err(err, errlen, "signing needs --key, --cert and --x5u together (missing: %s%s%s)",
                cfg->key ? "" : "key ", cfg->cert ? "" : "cert ", cfg->x5u ? "" : "x5u");
        return -1;
    }
    if (!cfg->trust) {
        set_err(err, errlen, "no trust anchors: set --trust PATH (or use --embedded)");
        return -1;
    }
    if (cfg->x5u_listen.set) {
        if (!cfg->cert) {
            set_err(err, errlen, "--x5u-listen serves the signing chain: --cert is needed");
            return -1;
        }
        if (!cfg->x5u_tls_cert || !cfg->x5u_tls_key) {
            set_err(err, errlen, "--x5u-listen needs --x5u-tls-cert and --x5u-tls-key");
            return -1;
        }
    }
    if ((cfg->tls_cert != NULL) != (cfg->tls_key != NULL)) {
        set_err(err, errlen, "HTTPS needs both tls-cert and tls-key (missing: %s)",
                cfg->tls_cert ? "tls-key" : "tls-cert");
        return -1;
    }
    if (cfg->tls_client_ca && !cfg->tls_cert) {
        set_err(err, errlen, "tls-client-ca (mutual TLS) needs HTTPS: set tls-cert and tls-key");
        return -1;
    }
    if (cfg->cache_min_ttl > cfg->cache_max_ttl) {
        set_err(err, errlen, "cache-min-ttl (%ld) is larger than cache-max-ttl (%ld)",
                cfg->cache_min_ttl, cfg->cache_max_ttl);
        return -1;
    }
    if (cfg->cache_neg_ttl > cfg->cache_neg_ttl_max) {
        set_err(err, errlen, "cache-neg-ttl (%ld) is larger than cache-neg-ttl-max (%ld)",
                cfg->cache_neg_ttl, cfg->cache_neg_ttl_max);
        return -1;
    }
    if (cfg->auth == AUTH_MODE_OAUTH &&
        (!cfg->oauth_jwks || !cfg->oauth_issuer || cfg->n_oauth_audience == 0)) {
        set_err(err, errlen, "auth = oauth needs oauth_jwks, oauth_issuer and oauth_audience (missing: %s%s%s)",
                cfg->oauth_jwks ? "" : "oauth_jwks ", cfg->oauth_issuer ? "" : "oauth_issuer ",
                cfg->n_oauth_audience ? "" : "oauth_audience");
        return -1;
    }
    if (cfg->auth == AUTH_MODE_STATIC && !cfg->policy_file) {
        set_err(err, errlen, "auth = static lists its clients in policy_file: set it");
        return -1;
    }
    if (cfg->crl_mode && stir_crl_mode_parse(cfg->crl_mode) < 0) {
        set_err(err, errlen, "crl-mode: '%s' is not fail-open, fail-closed or off", cfg->crl_mode);
        return -1;
    }
    if (cfg->crl_retry > cfg->crl_max_ttl) {
        set_err(err, errlen, "crl-retry (%ld) is larger than crl-max-ttl (%ld)", cfg->crl_retry,
                cfg->crl_max_ttl);
        return -1;
    }
    if (cfg->fetch_connect_timeout_ms > cfg->fetch_timeout_ms) {
        set_err(err, errlen, "fetch-connect-timeout-ms (%ld) is larger than fetch-timeout-ms (%ld)",
                cfg->fetch_connect_timeout_ms, cfg->fetch_timeout_ms);
        return -1;
    }
    if (!cfg->tls_cert && !cfg->plain_http) {
        set_err(err, errlen, "the Ms API needs HTTPS (set tls-cert and tls-key) or plain HTTP "
                "chosen explicitly (plain-http = yes / --plain-http)");
        return -1;
    }
    if (cfg->tls_cert && cfg->plain_http) {
        set_err(err, errlen, "choose one of tls-cert (HTTPS) and plain-http for the Ms API");
        return -1;
    }
    return 0;
oom:
    set_err(err, errlen, "out of memory");
    return -1;
}

int config_load(stird_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    const char *config_file = NULL;

    config_defaults(cfg);
    /* First pass: --help, --version and --config, which act before the rest. */
    for (int i = 1; i < argc; i++) {
        const char *val;
        const opt *o;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_usage(stdout);
            return 1;
        }
        if (strcmp(argv[i], "--help-settings=man") == 0 ||
            strcmp(argv[i], "--help-settings=md") == 0) {
            config_settings_doc(stdout, argv[i] + 16);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("stird %s\n", STIR_VERSION);
            return 1;
        }
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        o = flag_opt(argv[i], &val);
        if (o && o->kind == K_CONFIG) {
            if (!val && i + 1 < argc)
                val = argv[i + 1];
            if (!val || !*val) {
                set_err(err, errlen, "--config: needs a value (FILE)");
                return -1;
            }
            config_file = val;
        }
    }
    if (config_file) {
        if (!(cfg->config_path = strdup(config_file))) {
            set_err(err, errlen, "out of memory");
            return -1;
        }
        if (load_file(cfg, config_file, err, errlen) != 0)
            return -1;
    }
    if (apply_flags(cfg, argc, argv, err, errlen) != 0)
        return -1;
    return finalize(cfg, err, errlen);
}

void config_free(stird_config *cfg)
{
    free(cfg->config_path);
    free(cfg->key);
    free(cfg->cert);
    free(cfg->x5u);
    free(cfg->trust);
    free(cfg->x5u_tls_cert);
    free(cfg->x5u_tls_key);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->state_dir);
    free(cfg->fetch_ca_file);
    for (size_t i = 0; i < cfg->n_fetch_allow_host; i++)
        free(cfg->fetch_allow_host[i]);
    clear_ppt(cfg);
    free(cfg->verstat_priority_passed);
    free(cfg->verstat_priority_failed);
    free(cfg->oauth_jwks);
    free(cfg->oauth_issuer);
    clear_audiences(cfg);
    free(cfg->policy_file);
    free(cfg->audit_log);
    free(cfg->crl_mode);
    free(cfg->pkcs11_module);
    free(cfg->key_pin_file);
    clear_signers(cfg);
    memset(cfg, 0, sizeof *cfg);
}

/* The fetch_* settings as a policy; the size cap is the caller's. */
static void fetch_policy(const stird_config *cfg, stir_fetch_policy *f, long max_bytes)
{
    f->connect_timeout_ms = cfg->fetch_connect_timeout_ms;
    f->total_timeout_ms = cfg->fetch_timeout_ms;
    f->max_bytes = (size_t)max_bytes;
    f->max_per_host = (unsigned)cfg->fetch_max_per_host;
    f->allow_http = cfg->fetch_allow_http;
    f->allow_any_port = cfg->fetch_allow_any_port;
    for (size_t i = 0; i < cfg->n_fetch_allow_host; i++)
        f->allow_hosts[i] = cfg->fetch_allow_host[i];
    f->n_allow_hosts = cfg->n_fetch_allow_host;
    f->tls_ca_file = cfg->fetch_ca_file;
}

void config_certcache(const stird_config *cfg, stir_certcache_config *cc)
{
    stir_certcache_config_default(cc);
    fetch_policy(cfg, &cc->fetch, cfg->fetch_max_bytes);
    cc->default_ttl_s = cfg->cache_default_ttl;
    cc->min_ttl_s = cfg->cache_min_ttl;
    cc->max_ttl_s = cfg->cache_max_ttl;
    cc->neg_ttl_initial_s = cfg->cache_neg_ttl;
    cc->neg_ttl_max_s = cfg->cache_neg_ttl_max;
    cc->max_entries = (size_t)cfg->cache_max_entries;
    cc->max_neg_entries = (size_t)cfg->cache_max_failures;
}

void config_rcd(const stird_config *cfg, stir_rcd_config *rc)
{
    stir_rcd_config_default(rc);
    /* The same relaxations as x5u fetches: a lab that may fetch its
     * certificates from loopback may fetch its logos there too. */
    fetch_policy(cfg, &rc->fetch, cfg->rcd_max_bytes);
    if (cfg->rcd_digest_alg)
        rc->digest_alg = cfg->rcd_digest_alg;
    rc->max_jcard_bytes = (size_t)cfg->rcd_max_jcard_bytes;
    rc->max_links = (size_t)cfg->rcd_max_links;
    rc->fetch_budget_ms = cfg->rcd_fetch_budget_ms;
    rc->cache_ttl_s = cfg->rcd_cache_ttl;
    rc->verify_fetch = cfg->rcd_verify_fetch;
}

void config_crl(const stird_config *cfg, stir_crl_config *c)
{
    stir_crl_config_default(c);
    /* The x5u address checks, timeouts and allowed hosts; http by its own
     * switch, since a CRL is signed and SHAKEN CRL URLs are http. */
    fetch_policy(cfg, &c->fetch, cfg->crl_max_bytes);
    c->allow_http = cfg->crl_allow_http;
    c->mode = cfg->crl_mode ? stir_crl_mode_parse(cfg->crl_mode) : STIR_CRL_FAIL_OPEN;
    c->max_ttl_s = cfg->crl_max_ttl;
    c->retry_s = cfg->crl_retry;
}

/* ---- reload (SIGHUP) ---------------------------------------------------------------- */

/* What SIGHUP applies: the signing identities, the TLS certificates and
 * the trust anchors (the objects built from these are swapped);
 * everything else is read by objects made once at start. */
static const char *const RELOADABLE[] = {
    "key", "cert", "x5u", "signer", "pkcs11-module", "key-pin-file", "allow-insecure-key-mode",
    "tls-key", "tls-client-ca", "x5u-tls-cert", "x5u-tls-key", "cert-expiry-warn-days", "trust",
    NULL,
};

static int opt_reloadable(const opt *o)
{
    for (size_t i = 0; RELOADABLE[i]; i++)
        if (strcmp(o->name, RELOADABLE[i]) == 0)
            return 1;
    return 0;
}

static int str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static int strs_differ(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 1;
    for (size_t i = 0; i < na; i++)
        if (str_differ(a[i], b[i]))
            return 1;
    return 0;
}

static int opt_differs(const opt *o, const stird_config *a, const stird_config *b)
{
    const char *pa = (const char *)a + o->off, *pb = (const char *)b + o->off;

    switch (o->kind) {
    case K_STR:
    case K_TOKEN:
    case K_DIGEST:
        return str_differ(*(const char *const *)(const void *)pa,
                          *(const char *const *)(const void *)pb);
    case K_BOOL:
    case K_LOGLEVEL:
    case K_AUTH:
    case K_LOGFORMAT:
        return *(const int *)(const void *)pa != *(const int *)(const void *)pb;
    case K_LONG:
        return *(const long *)(const void *)pa != *(const long *)(const void *)pb;
    case K_LLONG:
        return a->has_fixed_time != b->has_fixed_time || a->fixed_time != b->fixed_time;
    case K_ADDR:
    case K_ADDR_OFF: {
        const stird_addr *x = (const stird_addr *)(const void *)pa;
        const stird_addr *y = (const stird_addr *)(const void *)pb;
        return x->set != y->set || x->off != y->off || x->port != y->port ||
               strcmp(x->host, y->host) != 0;
    }
    case K_ROUTE:
        return strcmp(a->routing_path, b->routing_path) != 0;
    case K_LIST:
        return strs_differ(a->fetch_allow_host, a->n_fetch_allow_host, b->fetch_allow_host,
                           b->n_fetch_allow_host);
    case K_AUDIENCE:
        return strs_differ(a->oauth_audience, a->n_oauth_audience, b->oauth_audience,
                           b->n_oauth_audience);
    case K_PPT:
        if (a->n_ppt_types != b->n_ppt_types)
            return 1;
        for (size_t i = 0; i < a->n_ppt_types; i++)
            if (str_differ(a->ppt_types[i].type.name, b->ppt_types[i].type.name))
                return 1;
        return 0;
    case K_CONFIG:
    case K_SIGNER:
        return 0;
    }
    return 0;
}

size_t config_restart_diff(const stird_config *old, const stird_config *next, char *out,
                           size_t outlen)
{
    size_t n = 0, o = 0;

    if (outlen)
        out[0] = '\0';
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
        const opt *op = &OPTS[i];
        /* tls-cert: a new file is reloaded; turning HTTPS on or off is not. */
        int differs = strcmp(op->name, "tls-cert") == 0
                          ? (old->tls_cert == NULL) != (next->tls_cert == NULL)
                          : !opt_reloadable(op) && opt_differs(op, old, next);
        if (!differs)
            continue;
        if (o < outlen) {
            int w = snprintf(out + o, outlen - o, "%s%s", n ? ", " : "", op->name);
            o += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    return n;
}
