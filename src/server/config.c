/*
 * stird settings: defaults, then the --config file, then the flags.
 * One table (OPTS) describes every setting; the file and the flags both go
 * through the same setters, so a key and its flag always accept the
 * same values with the same messages. A row points at its member, the
 * server's own or one inside the libstir configurations stird_config
 * embeds (config.h), and also drives --help, stird.conf(5), the tables
 * of docs/CONFIG.md and the restart diff of a reload.
 */
#include "config.h"
#include "lab.h"

#include <assert.h>
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

#define VALUE_MAX 4096    /* longest value (path, URL) accepted */
#define LINE_MAX_LEN 4096 /* longest config file line */

enum kind {
    K_STR,      /* char * (const char * in a library struct), strdup'd */
    K_BOOL,     /* int 0/1 */
    K_INT,      /* an integer member of `size` bytes (int, unsigned, long, size_t) in [min, max] */
    K_LLONG,    /* long long in [min, max], and has_fixed_time (fixed_time) */
    K_ENUM,     /* int: the index of the value in `choices` */
    K_HOSTS,    /* fetch_allow_host: cache.fetch.allow_hosts (repeatable) */
    K_ADDR,     /* stird_addr */
    K_ADDR_OFF, /* stird_addr, or "none": disabled (metrics_listen) */
    K_ROUTE,    /* routing_path */
    K_CONFIG,   /* flag only */
    K_PPT,      /* ppt_type (repeatable) */
    K_DIGEST,   /* const char *: stir_digest_by_name's static name */
    K_TOKEN,    /* char *, an RFC 3261 token */
    K_AUDIENCE, /* oauth_audience (repeatable) */
    K_SIGNER,   /* signer (repeatable) */
};

/* The headings of the settings in docs/CONFIG.md, in order. */
enum section {
    S_OTHER,
    S_HTTP,
    S_SIGN,
    S_VERIFY,
    S_PPT,
    S_RCD,
    S_FETCH,
    S_CACHE,
    S_CRL,
    S_EMBEDDED,
    S_AUTH,
    S_KEYS,
    S_LOG,
    S_METRICS,
    N_SECTIONS
};
static const char *const SECTION_NAMES[N_SECTIONS] = {
    "other",
    "HTTP API",
    "Signing (STI-AS)",
    "Verification (STI-VS)",
    "PASSporT types",
    "Rich Call Data (rcd, rcdi)",
    "x5u fetching",
    "Certificate cache",
    "Revocation (CRLs)",
    "Embedded mode",
    "Client authentication, per-client policy, audit",
    "Keys",
    "Logging and clock",
    "Metrics",
};

/*
 * One setting: everything the parser, --help, stird.conf(5) and the
 * tables of docs/CONFIG.md know about it. `off` points into stird_config,
 * into the embedded libstir structs too (cache.fetch.max_bytes), so a new
 * library setting is one struct member plus one row here.
 */
typedef struct opt {
    const char *name; /* flag name without "--"; the file key is it with '_' */
    enum kind kind;
    size_t off, size;   /* the member: offsetof and sizeof */
    long long min, max; /* K_INT, K_LLONG: accepted range; repeatable ones: max count */
    const char *arg;    /* placeholder shown by --help; NULL: a boolean */
    enum section section;
    const char *const *choices; /* K_ENUM: the accepted names, NULL-terminated */
    const char *def;            /* default, applied at init through the same checks;
                           * NULL: libstir's default (or none) */
    const char *shown_def;      /* the default in words, when it is not just the value */
    const char *help;           /* one line: --help, stird.conf(5) */
    const char *doc;            /* docs/CONFIG.md, Markdown; NULL: help */
} opt;

#define OFF(m) offsetof(stird_config, m)
#define M(m) OFF(m), sizeof(((stird_config *)0)->m)

static const char *const LOG_LEVELS[] = {"error", "warn", "info", "debug", NULL};
static const char *const AUTH_MODES[] = {"none", "static", "oauth",
                                         NULL};                  /* enum stird_auth_mode */
static const char *const LOG_FORMATS[] = {"text", "json", NULL}; /* log_json 0, 1 */
static const char *const CRL_MODES[] = {"fail-open", "fail-closed", "off",
                                        NULL}; /* stir_crl_mode */

static const opt OPTS[] = {
    {"config", K_CONFIG, 0, 0, 0, 0, "FILE", S_OTHER,
     .help = "read settings from FILE (key = value lines); flags override it"},
    {"listen", K_ADDR, M(listen), 0, 0, "HOST:PORT", S_HTTP, .shown_def = "`127.0.0.1:8080`",
     .help = "address of the Ms API",
     .doc = "Address of the Ms API. IPv6 as `[::1]:8080`; `0.0.0.0:8080` listens everywhere. "
            "Port 0 picks a free port (printed at start-up)."},
    {"routing-path", K_ROUTE, M(routing_path), 0, 0, "PATH", S_HTTP,
     .help = "RoutingPath prefix of the API root, e.g. /sti (default: none)",
     .doc = "The RoutingPath of the API root (TS 24.229 V.2.2): with `/sti` the resources are "
            "`/sti/stir/v1/signing` and `/sti/stir/v1/verification` (and the legacy ones, see "
            "[HTTP endpoints](#http-endpoints)). Must start with `/`, must not end with `/`; "
            "letters, digits, `-._~!$&'()*+,;=:@` and `/`; no empty, `.` or `..` segments. "
            "`/health` and `/ready` stay at the root."},
    {"threads", K_INT, M(threads), 1, 256, "N", S_HTTP, .shown_def = "number of CPUs",
     .help = "HTTP worker threads (default: number of CPUs)",
     .doc = "Connection worker threads (each an epoll loop; they share the listening socket)."},
    {"max-body", K_INT, M(max_body), 1024, 8 * 1024 * 1024, "BYTES", S_HTTP, .def = "65536",
     .help = "largest request body accepted",
     .doc = "Largest request body. A larger `Content-Length` is answered 413 before any of the "
            "body is read; a chunked body is cut off with 413 when it grows past this."},
    {"max-connections", K_INT, M(max_connections), 1, 100000, "N", S_HTTP, .def = "4096",
     .help = "concurrent client connections",
     .doc = "Concurrent client connections in all. Past it a new connection is refused at once "
            "(plain HTTP: with a 503 and `Retry-After: 1`)."},
    {"idle-timeout", K_INT, M(idle_timeout), 1, 3600, "SECONDS", S_HTTP, .def = "30",
     .help = "close idle client connections after this",
     .doc = "A keep-alive connection with no request under way, or a response the client does "
            "not read, is closed after this."},
    {"request-timeout", K_INT, M(request_timeout), 1, 3600, "SECONDS", S_HTTP, .def = "10",
     .help = "whole request (TLS handshake, headers, body) within this, else 408",
     .doc = "Deadline for receiving a whole request: from the connection's accept (TLS handshake "
            "included) or from the first byte of a later request, to its last body byte. "
            "Absolute: bytes dripped in do not extend it. Past it: one 408 ProblemDetails, then "
            "the connection is closed (during a TLS handshake: closed). Also the longest a request "
            "may wait for a fetch thread (`fetch_threads`) or a signing thread (`sign_threads`) "
            "once received; past it, 503 with `Retry-After: 1` instead of running it."},
    {"max-connections-per-client", K_INT, M(max_connections_per_client), 1, 100000, "N", S_HTTP,
     .def = "64", .help = "concurrent connections per client address and per certificate identity",
     .doc = "Concurrent connections per client address, and per client certificate identity once "
            "the TLS handshake is done. A client's newer connections past it are closed at once "
            "(a WARN line, at most one a second, counts them); other clients are not affected."},
    {"client-ipv6-prefix", K_INT, M(client_ipv6_prefix), 48, 128, "BITS", S_HTTP, .def = "64",
     .help = "IPv6 clients are one client per this prefix for the per-client limits",
     .doc = "An IPv6 client address counts as its first BITS bits for the per-client limits "
            "(`max_connections_per_client`, the fetch pool's per-client turns and queue share): "
            "every address of one /64 is one client. 128: per address. IPv4 (and IPv4-mapped "
            "IPv6) addresses are always one client each."},
    {"max-header-bytes", K_INT, M(max_header_bytes), 1024, 1024 * 1024, "BYTES", S_HTTP,
     .def = "8192", .help = "request line and headers, else 431",
     .doc = "Request line plus headers; above: 431. The request-target alone is limited to 2048 "
            "bytes (414), a request to 64 header fields (431)."},
    {"tls-cert", K_STR, M(tls_cert), 0, 0, "FILE", S_HTTP,
     .help = "HTTPS on the Ms API: certificate chain, PEM, leaf first",
     .doc = "HTTPS on the Ms API: the server's certificate chain (PEM, leaf first). With "
            "`tls_key`. TLS 1.2 and 1.3 only; TLS 1.2 with ECDHE and AES-GCM or "
            "ChaCha20-Poly1305 only (OpenSSL 3)."},
    {"tls-key", K_STR, M(tls_key), 0, 0, "FILE", S_HTTP,
     .help = "HTTPS on the Ms API: private key, PEM",
     .doc = "The private key of `tls_cert` (PEM)."},
    {"tls-client-ca", K_STR, M(tls_client_ca), 0, 0, "PATH", S_HTTP,
     .help = "mutual TLS: client certificates must verify against these CAs (PEM bundle or "
             "directory)",
     .doc = "Mutual TLS: a PEM bundle, or a directory of hashed PEM files (`openssl rehash`), of "
            "the CAs client certificates must chain to. The handshake fails without a client "
            "certificate that verifies (expired, other CA, none). The client's identity (first "
            "SAN URI, else first SAN DNS name, else subject CN) is logged as `client=`."},
    {"plain-http", K_BOOL, M(plain_http), 0, 1, NULL, S_HTTP,
     .help = "serve the Ms API over plain HTTP (no TLS): explicit, for labs and trusted networks",
     .doc = "Serve the Ms API over plain HTTP. Start-up refuses to run with neither `tls_cert` "
            "nor `plain_http`; plain HTTP on a non-loopback address logs a loud WARN. `make run` "
            "and the tests pass `--plain-http`."},
    {"key", K_STR, M(key), 0, 0, "FILE|URI", S_SIGN, .shown_def = "(embedded: `STATE/sp.key`)",
     .help = "signing key: P-256 PEM file, or PKCS#11 URI 'pkcs11:token=...;object=...'",
     .doc = "EC P-256 private key: a PEM file (owner-only, see [Keys](#keys)), or a PKCS#11 URI "
            "(RFC 7512) naming a key in an HSM, e.g. "
            "`pkcs11:token=stird;object=sp-2026;type=private` (then `pkcs11_module` is needed). "
            "Never logged."},
    {"cert", K_STR, M(cert), 0, 0, "FILE", S_SIGN, .shown_def = "(embedded: `STATE/chain.pem`)",
     .help = "certificate chain of the signing key, PEM, leaf first",
     .doc = "Certificate chain of that key, PEM, leaf first (what the x5u URL serves). Start-up "
            "fails if the leaf does not match the key or carries a malformed JWT Claim "
            "Constraints extension (RFC 8226 8, RFC 9118); requests its constraints forbid are "
            "refused with 400 naming the claim."},
    {"x5u", K_STR, M(x5u), 0, 0, "URL", S_SIGN,
     .shown_def = "(embedded: `https://127.0.0.1:<x5u port>/cert/chain.pem`)",
     .help = "URL where that chain is published (becomes x5u and info)",
     .doc = "URL of the chain; signed as the `x5u` header and the `info` parameter."},
    {"cert-expiry-warn-days", K_INT, M(cert_expiry_warn_days), 0, 3650, "DAYS", S_SIGN, .def = "30",
     .help = "warn at start and at each reload (SIGHUP) about signing chains, TLS certificates "
             "and trust anchors expiring within DAYS; 0: only expired ones",
     .doc = "At start and at each SIGHUP, every certificate of the signing chains "
            "(`cert`, `signer` lines), of the TLS certificates (`tls_cert`, `x5u_tls_cert`) and "
            "of the trust anchors (`trust`, file or directory) that has expired, is not valid "
            "yet, or expires within DAYS is logged (WARN, with its file, subject and days left). "
            "0: only expired and not-yet-valid ones. Costs nothing per request."},
    {"freshness", K_INT, M(verify.freshness_s), 1, 86400, "SECONDS", S_SIGN, .def = "60",
     .help = "allowed distance of iat/time from the clock",
     .doc = "Signing refuses an `iat` further than this from the server clock; "
            "verification refuses a `time` further than this from the clock and an `iat` further "
            "than this from `time` (403 Stale Date)."},
    {"require-user-phone", K_BOOL, M(verify.require_user_phone), 0, 1, NULL, S_SIGN,
     .help = "a sip: URI is a TN only with user=phone (default no: a +global-number user part is "
             "one, RFC 8224 8.3)",
     .doc = "A `sip:`/`sips:` URI (in `orig`/`dest` when signing, in `from`/`to`/`dest` and in "
            "PASSporT claims when verifying) is a TN only with `;user=phone`, the strict reading "
            "of RFC 8224 8.1. By default a URI whose user part is a global number (`+` then "
            "digits and RFC 3966 visual separators `-` `.` `(` `)`, e.g. "
            "`sip:+1-215-555-1212@pbx.example.net`) is compared as that TN (RFC 8224 8.3), since "
            "many trunks omit `user=phone`."},
    {"trust", K_STR, M(trust), 0, 0, "PATH", S_VERIFY, .shown_def = "(embedded: `STATE/root.pem`)",
     .help = "STI-PA trust anchors: PEM bundle or directory",
     .doc = "STI-PA trust anchors: a PEM bundle, or a directory of `*.pem`/`*.crt` files. "
            "Required. The system store is never used."},
    {"verstat-priority-passed", K_TOKEN, M(verify.priority_passed), 0, 0, "TOKEN", S_VERIFY,
     .shown_def = "`RPH-Validation-Passed`", .help = "verstatPriority of a passing rph PASSporT",
     .doc = "`verstatPriority` (TS 24.229 7.2.21) when the rph PASSporTs of a request pass. A "
            "SIP token of at most 64 characters (letters, digits, ``-.!%*_+`'~``)."},
    {"verstat-priority-failed", K_TOKEN, M(verify.priority_failed), 0, 0, "TOKEN", S_VERIFY,
     .shown_def = "`RPH-Validation-Failed`", .help = "verstatPriority of a failing rph PASSporT",
     .doc = "`verstatPriority` when one fails. Only the passed value is confirmed by the sources "
            "of ms-api.md 6.7, so both are settings."},
    {"ppt-type", K_PPT, M(ppt_types), 0, STIRD_MAX_PPT_TYPES, "SPEC", S_PPT,
     .help = "add a PASSporT type: 'NAME CLAIM:TYPE[:required] ...' (repeatable, max 16)",
     .doc = "A PASSporT type: `NAME CLAIM:TYPE[:required] ...`. Repeatable."},
    {"rcd-digest-alg", K_DIGEST, M(rcd.digest_alg), 0, 0, "ALG", S_RCD,
     .help = "rcdi digests made when signing: sha256, sha384 or sha512",
     .doc = "Digest of the `rcdi` values made when signing: `sha256`, `sha384` or `sha512`. "
            "Verification accepts all three."},
    {"rcd-max-jcard-bytes", K_INT, M(rcd.max_jcard_bytes), 256, 1024 * 1024, "BYTES", S_RCD,
     .help = "largest jCard, inline (jcd) or fetched (jcl)",
     .doc = "Largest jCard, inline (`jcd`, serialized) or fetched (`jcl`)."},
    {"rcd-max-links", K_INT, M(rcd.max_links), 0, 64, "N", S_RCD,
     .help = "URIs an rcd claim and its jCard may link",
     .doc = "URIs an `rcd` claim and its jCard may link; more is refused (400 when signing, a "
            "failed `rcd` result when verifying)."},
    {"rcd-fetch-budget-ms", K_INT, M(rcd.fetch_budget_ms), 1, 60000, "MS", S_RCD,
     .help = "time all the RCD fetches of one request may take together",
     .doc = "Time all the RCD fetches of one signing or verification request may take "
            "together, over all its PASSporTs (each fetch is also bounded by the fetch timeouts, "
            "so a request holds its thread at most this plus one `fetch_timeout_ms`); past it the "
            "remaining links are not fetched: 400 when signing, a failed `rcdResult` when "
            "verifying."},
    {"rcd-max-bytes", K_INT, M(rcd.fetch.max_bytes), 1024, 16 * 1024 * 1024, "BYTES", S_RCD,
     .help = "largest RCD content fetched (icon, jCard, linked files)",
     .doc = "Largest linked resource fetched (an icon, a jCard, a file the jCard links)."},
    {"rcd-cache-ttl", K_INT, M(rcd.cache_ttl_s), 0, 86400, "SECONDS", S_RCD,
     .help = "fetched RCD content is kept this long (less if its server says so)",
     .doc = "Fetched content is kept this long, less when its server says so (`Cache-Control`)."},
    {"rcd-verify-fetch", K_BOOL, M(rcd.verify_fetch), 0, 1, NULL, S_RCD,
     .help = "verification fetches linked RCD content to check rcdi (default yes; =no reports it "
             "unverified)",
     .doc = "Verification fetches linked content to check its `rcdi` digest. RFC 9795 8.2 "
            "advises against fetching content that will not be displayed: `rcd_verify_fetch = "
            "no` (flag `--rcd-verify-fetch=no`) reports such content as unverified instead: an "
            "`rcd` PASSporT that links content then fails (438), and RCD riding in a shaken "
            "PASSporT is left out of `validClaims` (docs/API.md)."},
    {"fetch-allow-host", K_HOSTS, M(cache.fetch.allow_hosts), 0, STIR_MAX_ALLOW_HOSTS, "HOST",
     S_FETCH, .shown_def = "none (embedded: `127.0.0.1`, `localhost`)",
     .help = "x5u host that may resolve to a loopback/private address (repeatable, max 8)",
     .doc = "A host (exact name or IP literal) that may resolve to a loopback/private address. "
            "Repeatable."},
    {"fetch-allow-any-port", K_BOOL, M(cache.fetch.allow_any_port), 0, 1, NULL, S_FETCH,
     .help = "allow x5u ports other than 443 and 8443",
     .doc = "Allow ports other than 443 and 8443."},
    {"fetch-allow-http", K_BOOL, M(cache.fetch.allow_http), 0, 1, NULL, S_FETCH,
     .help = "allow http:// x5u URLs", .doc = "Allow `http://` x5u URLs."},
    {"fetch-ca-file", K_STR, M(cache.fetch.tls_ca_file), 0, 0, "FILE", S_FETCH,
     .shown_def = "system store (embedded: `STATE/tls.pem`)",
     .help = "CA bundle for x5u TLS (default: system store)",
     .doc = "CA bundle for the TLS connection to the repository. Must be readable at start-up."},
    {"fetch-connect-timeout-ms", K_INT, M(cache.fetch.connect_timeout_ms), 1, 60000, "MS", S_FETCH,
     .help = "x5u connect timeout", .doc = "Connect timeout. Not larger than the total timeout."},
    {"fetch-timeout-ms", K_INT, M(cache.fetch.total_timeout_ms), 1, 60000, "MS", S_FETCH,
     .help = "x5u total fetch timeout", .doc = "Total time for one fetch."},
    {"fetch-max-bytes", K_INT, M(cache.fetch.max_bytes), 512, 1024 * 1024, "BYTES", S_FETCH,
     .help = "largest x5u body accepted", .doc = "Largest x5u body."},
    {"fetch-max-per-host", K_INT, M(cache.fetch.max_per_host), 0, 1024, "N", S_FETCH,
     .help = "concurrent downloads per repository host (x5u, RCD content); beyond, a download "
             "waits within its fetch timeout, then 436 (0: no cap)",
     .doc = "Concurrent downloads per repository host, certificates, RCD content and CRLs "
            "counted together. Beyond it a download waits for a slot within its own "
            "`fetch_timeout_ms` (what is left of it is the download's timeout) and then fails "
            "with 436, which is not remembered as a failure of that URL. Waiting rather than "
            "failing at once: a legitimate burst to one repository (several icons, a few x5u) "
            "still succeeds, and the wait is bounded by the timeout a hanging fetch would have "
            "taken anyway. 0: no cap."},
    {"fetch-threads", K_INT, M(fetch_threads), 1, 256, "N", S_FETCH, .def = "8",
     .help = "threads for verifications that must wait for an x5u fetch",
     .doc = "A verification whose certificate (or RCD content) is not cached yet is handed, with "
            "its connection suspended, to one of these threads, so a slow repository never holds "
            "an HTTP worker (cached content is used directly in the HTTP workers). Signing "
            "requests never use them: they have their own threads (`sign_threads`)."},
    {"sign-threads", K_INT, M(sign_threads), 1, 256, "N", S_FETCH, .def = "8",
     .help = "threads for signing requests that cannot run on an HTTP worker (token signatures, "
             "uncached RCD content)",
     .doc = "The signing lane: with a `pkcs11:` signing key every signing request runs on these "
            "threads (a token signature is too slow for an event loop), and with any key a "
            "signing request whose RCD content is not cached yet does. So this is the number of "
            "token signatures at once. They are apart from `fetch_threads`, so that verifications "
            "waiting on hanging repositories, however many clients send them, never hold the "
            "threads signing needs. The per-client shares (`fetch_client_threads`, "
            "`fetch_client_queue`), the queue (`fetch_queue`) and the wait deadline "
            "(`request_timeout`) apply to this lane too, on its own; a client's share of it is a "
            "quarter of `sign_threads` (at least 1), or `fetch_client_threads` when that is "
            "smaller, so that no setting lets one client hold every signing thread. Refusals "
            "of this lane are counted as `sign_queue` and `sign_wait`."},
    {"fetch-queue", K_INT, M(fetch_queue), 1, 100000, "N", S_FETCH, .def = "1024",
     .help = "verifications that may wait for those threads; beyond, 503",
     .doc = "Requests that may wait for those threads, all clients together; beyond that the "
            "answer is 503 with `Retry-After: 1`. The signing lane (`sign_threads`) has a queue "
            "of this size of its own."},
    {"fetch-client-threads", K_INT, M(fetch_client_threads), 0, 256, "N", S_FETCH,
     .shown_def = "0 (= `fetch_threads` / 4, at least 1)",
     .help = "fetch threads one client may hold at once; 0: a quarter of fetch_threads, at least "
             "1 (default 0)",
     .doc = "Fetch threads one client may hold at once. A client is the authenticated principal, "
            "else the client certificate's identity, else the source address. The waiting "
            "requests of the clients are served in turn (round-robin, one FIFO per client), so a "
            "client whose requests wait on hanging repositories holds at most this many threads "
            "while others wait, for at most `fetch_budget_ms` each, and other clients' requests "
            "find a free thread. A client alone may borrow threads beyond this as long as this "
            "many stay free (so with the defaults one SBC carrying all the traffic gets 6 of 8 "
            "threads, and a newcomer still finds one). Setting it to `fetch_threads` turns the "
            "cap off."},
    {"fetch-client-queue", K_INT, M(fetch_client_queue), 0, 100000, "N", S_FETCH,
     .shown_def = "0 (= `fetch_queue` / 4, at least 1)",
     .help = "requests one client may have waiting for fetch threads, beyond 503; 0: a quarter of "
             "fetch_queue, at least 1 (default 0)",
     .doc = "Requests one client may have waiting for the fetch threads; beyond, that client "
            "gets 503 with `Retry-After: 1` (\"this client already has too many requests waiting "
            "...\") while other clients still queue."},
    {"fetch-budget-ms", K_INT, M(verify.fetch_budget_ms), 1, 60000, "MS", S_FETCH, .def = "1500",
     .help = "time the x5u fetches of one verification request may take together; they run in "
             "parallel",
     .doc = "Time the x5u fetches of one verification request may take together (chains and "
            "their CRLs). The x5u URLs of a request that are not cached are fetched in parallel, "
            "one thread each; when the budget runs out, each PASSporT whose chain has not "
            "arrived fails with 436 (\"fetch budget of N ms exceeded\") and the request is "
            "answered. The fetch goes on in the background and its result is cached for the next "
            "request. The default keeps a request that needs a fresh fetch under an SBC's 2 s "
            "timer."},
    {"cache-default-ttl", K_INT, M(cache.default_ttl_s), 1, 365L * 86400, "SECONDS", S_CACHE,
     .help = "certificate cache lifetime when the server gives none",
     .doc = "Lifetime when the server says nothing."},
    {"cache-min-ttl", K_INT, M(cache.min_ttl_s), 0, 365L * 86400, "SECONDS", S_CACHE,
     .help = "shortest certificate cache lifetime",
     .doc = "Shortest lifetime. Not larger than `cache_max_ttl`."},
    {"cache-max-ttl", K_INT, M(cache.max_ttl_s), 1, 365L * 86400, "SECONDS", S_CACHE,
     .help = "longest certificate cache lifetime", .doc = "Longest lifetime."},
    {"cache-neg-ttl", K_INT, M(cache.neg_ttl_initial_s), 0, 86400, "SECONDS", S_CACHE,
     .help = "first back-off after a failed fetch (doubles per failure)",
     .doc = "First back-off after a failed fetch. Not larger than `cache_neg_ttl_max`."},
    {"cache-neg-ttl-max", K_INT, M(cache.neg_ttl_max_s), 0, 86400, "SECONDS", S_CACHE,
     .help = "longest back-off after failed fetches", .doc = "Longest back-off."},
    {"cache-max-entries", K_INT, M(cache.max_entries), 1, 10000000, "N", S_CACHE,
     .help = "certificate cache size (oldest evicted first)",
     .doc = "Cached chains (good, or with their 437 verdict); the oldest is evicted first."},
    {"cache-max-failures", K_INT, M(cache.max_neg_entries), 1, 10000000, "N", S_CACHE,
     .help = "failed x5u fetches remembered, apart from the chains (oldest forgotten first)",
     .doc = "Failed fetches remembered (for the back-off), in a table of their own: a flood of "
            "unique unreachable x5u evicts older failures, never a cached chain."},
    {"crl-mode", K_ENUM, M(crl.mode), 0, 0, "MODE", S_CRL, .choices = CRL_MODES,
     .help = "when a certificate's CRL cannot be fetched, verified or is stale: fail-open "
             "(accept, warn; default), fail-closed (437) or off (no revocation checks)",
     .doc = "When a CRL cannot be fetched, does not parse, is not signed by the issuer, or is "
            "stale: `fail-open` accepts the certificate and logs a WARN line naming the "
            "certificate, the URL and the reason (and rechecks after `crl_retry`); `fail-closed` "
            "fails the PASSporT with 437 \"revocation status unknown (...)\"; `off` checks "
            "nothing. A stale CRL that verifies still revokes what it lists. Default fail-open, "
            "because the STI-PA CRL is one host for the whole ecosystem: fail-closed turns its "
            "outage (or a network path that drops it) into TN-Validation-Failed for every call "
            "whose chain is fetched meanwhile, while revocations are rare and a revoked "
            "certificate is still refused whenever the CRL is reachable. Choose fail-closed "
            "where a missed revocation costs more than failed verifications."},
    {"crl-max-ttl", K_INT, M(crl.max_ttl_s), 60, 30L * 86400, "SECONDS", S_CRL,
     .help = "a CRL is reused until its nextUpdate, at most this long",
     .doc = "A CRL is reused until its `nextUpdate`, at most this long; also the longest a "
            "chain's revocation verdict is kept."},
    {"crl-retry", K_INT, M(crl.retry_s), 1, 86400, "SECONDS", S_CRL,
     .help = "a CRL that failed or was stale is fetched again after this",
     .doc = "A CRL fetch that failed, or a stale CRL, is tried again after this; a chain "
            "accepted fail-open is rechecked after this. Not larger than `crl_max_ttl`."},
    {"crl-max-bytes", K_INT, M(crl.fetch.max_bytes), 1024, 16 * 1024 * 1024, "BYTES", S_CRL,
     .help = "largest CRL accepted", .doc = "Largest CRL accepted."},
    {"crl-allow-http", K_BOOL, M(crl.allow_http), 0, 1, NULL, S_CRL,
     .help = "fetch http:// CRL URLs (default yes: CRLs are signed; SHAKEN publishes them over "
             "HTTP)",
     .doc = "Fetch `http://` CRL URLs (see above). `=no` limits CRLs to `https`. Ports: 80 for "
            "`http`, 443/8443 for `https` unless `fetch_allow_any_port`."},
    {"embedded", K_BOOL, M(embedded), 0, 1, NULL, S_EMBEDDED,
     .help = "use (and create on first run) a test PKI in the state directory",
     .doc = "Use a test PKI in the state directory, creating it on first run (STI-PA root, "
            "STI-CA, SP certificate with TNAuthList SPC 709J, TLS certificate for "
            "127.0.0.1/localhost), and serve the signing chain over HTTPS. Sets the defaults "
            "marked \"embedded\" in this document; explicit settings still win. Never for "
            "production."},
    {"state-dir", K_STR, M(state_dir), 0, 0, "DIR", S_EMBEDDED, .shown_def = "`var/stird`",
     .help = "state directory for --embedded",
     .doc = "Where the test PKI lives. Created (mode 0700) if missing, atomically: the PKI is "
            "written and fsynced in a temporary directory beside it (`.NAME.pki-PID.XXXXXX`) and "
            "renamed into place, so a crash leaves no PKI or a complete one; the leftover of a "
            "crashed start is removed at the next start. A state directory holding some PKI "
            "files but not all (made by something else) is refused, naming the first file found."},
    {"lab-secure", K_BOOL, M(lab_secure), 0, 1, NULL, S_EMBEDDED,
     .help = "with --embedded: HTTPS, mutual TLS, OAuth, policy and audit from lab files made in "
             "the state directory (make run-secure)",
     .doc = "With `--embedded` (`make run-secure`): secure the Ms API as in production with lab "
            "material made on first run in the state directory (src/server/lab.h): HTTPS with "
            "`STATE/api.pem`/`api.key`, mutual TLS against `STATE/client-ca.pem`, `auth = oauth` "
            "with `STATE/oauth-jwks.json`, issuer `urn:stird:lab-as`, audience `stird`, "
            "`policy_file = STATE/policy.json` (client `lab` signs only for the README TNs) and "
            "`audit_log = STATE/audit.log`. Explicit settings still win, except `auth`, which is "
            "always `oauth`. Refused with `--plain-http`. Tokens: `stirctl token --state-dir "
            "STATE --client lab --scope stir-signing`. Never for production."},
    {"x5u-listen", K_ADDR, M(x5u_listen), 0, 0, "HOST:PORT", S_EMBEDDED,
     .shown_def = "none (embedded: `127.0.0.1:8443`)",
     .help = "serve the signing chain over HTTPS at /cert/chain.pem (embedded default "
             "127.0.0.1:8443)",
     .doc = "Serve `GET /cert/chain.pem` (the `cert` chain, `application/pem-certificate-chain`, "
            "`Cache-Control: max-age=86400`) over HTTPS on this address. Outside embedded mode "
            "it also needs the two settings below."},
    {"x5u-tls-cert", K_STR, M(x5u_tls_cert), 0, 0, "FILE", S_EMBEDDED,
     .shown_def = "(embedded: `STATE/tls.pem`)",
     .help = "TLS certificate of the x5u server (embedded: STATE/tls.pem)",
     .doc = "TLS certificate of that server, PEM."},
    {"x5u-tls-key", K_STR, M(x5u_tls_key), 0, 0, "FILE", S_EMBEDDED,
     .shown_def = "(embedded: `STATE/tls.key`)",
     .help = "TLS key of the x5u server (embedded: STATE/tls.key)", .doc = "Its key, PEM."},
    {"auth", K_ENUM, M(auth), 0, 0, "MODE", S_AUTH, .choices = AUTH_MODES, .def = "none",
     .help = "client authentication: none (default), static (mTLS identity + policy file) or "
             "oauth (Bearer access token)",
     .doc = "`none`: no client authentication (today's behaviour; a `policy_file`, when set, "
            "still applies by certificate identity or its `\"*\"` entry). `static`: the verified "
            "mTLS certificate identity names the client in `policy_file`; no token. `oauth`: "
            "every request to the signing and verification resources needs an `Authorization: "
            "Bearer` access token (JWT, ES256 or RS256) from the configured authorization server."},
    {"oauth-jwks", K_STR, M(oauth_jwks), 0, 0, "FILE", S_AUTH,
     .shown_def = "none (required for `oauth`)",
     .help = "JWKS file of the OAuth 2.0 authorization server (ES256/RS256 public keys)",
     .doc = "JWKS (RFC 7517) of the authorization server: public EC P-256 and RSA (2048 bits or "
            "more) keys, each with a `kid`; at most 16 keys, 64 KiB. A secret (`kty` `oct`) or "
            "private (`d`) key refuses start-up. Reloaded with the policy."},
    {"oauth-issuer", K_STR, M(oauth_issuer), 0, 0, "ISS", S_AUTH,
     .shown_def = "none (required for `oauth`)", .help = "the `iss` an access token must carry",
     .doc = "The `iss` every token must carry, compared exactly."},
    {"oauth-audience", K_AUDIENCE, M(oauth_audience), 0, STIRD_MAX_AUDIENCES, "AUD", S_AUTH,
     .shown_def = "none (required for `oauth`)",
     .help = "an `aud` value that names this server: instance id or NF type (repeatable, max 4)",
     .doc = "A value of `aud` that names this server: its NF instance id or NF type (TS 33.501 "
            "13.4.1). Repeatable, at most 4; a token must name at least one."},
    {"oauth-clock-skew", K_INT, M(oauth_clock_skew), 0, 300, "SECONDS", S_AUTH, .def = "30",
     .help = "tolerance on the exp, nbf and iat of access tokens",
     .doc = "Tolerance on `exp`, `nbf` and `iat` of access tokens."},
    {"policy-file", K_STR, M(policy_file), 0, 0, "FILE", S_AUTH,
     .shown_def = "none (required for `static`)",
     .help = "per-client policy, JSON (docs/SECURITY.md); reloaded on SIGHUP",
     .doc = "The per-client policy (JSON, docs/SECURITY.md \"Per-client policy\", "
            "etc/policy.json.example). Without it an authenticated client may do whatever its "
            "token scope allows. Reloaded on SIGHUP without dropping connections; a file with an "
            "error is refused and the old policy keeps serving."},
    {"audit-log", K_STR, M(audit_log), 0, 0, "FILE", S_AUTH,
     .help = "append one JSON line per signing and refused signing to FILE",
     .doc = "Append one JSON line per signing and per refused signing (docs/SECURITY.md \"Audit "
            "trail\"); created mode 0640; reopened on SIGHUP (log rotation). `stirctl audit "
            "--log FILE --ppi VALUE` finds the record of a downstream `ppi`."},
    {"pkcs11-module", K_STR, M(pkcs11_module), 0, 0, "FILE", S_KEYS,
     .help = "PKCS#11 module (shared library) of a 'pkcs11:' key; no default",
     .doc = "The PKCS#11 module (shared library) of the token holding a `pkcs11:` key, e.g. "
            "`/usr/lib/softhsm/libsofthsm2.so` for Debian's SoftHSM, or the HSM vendor's. There "
            "is deliberately no default in production: the tests name SoftHSM's path themselves. "
            "Loaded once per process."},
    {"key-pin-file", K_STR, M(key_pin_file), 0, 0, "FILE", S_KEYS,
     .help = "file whose first line is the PKCS#11 token PIN (else $STIRD_PKCS11_PIN)",
     .doc = "File whose first line is the user PIN of that token (owner-only, like a key file). "
            "Without it the PIN is taken from the environment variable `STIRD_PKCS11_PIN`; with "
            "neither, a token that needs a login is refused at start. On SIGHUP the token is "
            "already logged in, and a logged-in token cannot check a PIN (C_Login checks nothing "
            "then; logging out would end the sessions that sign): a PIN other than the one it "
            "logged in with (compared as a salted PBKDF2 hash, never kept in clear) is refused "
            "with the running credentials kept, so a wrong PIN file is found at the reload rather "
            "than at the next restart; a new PIN after `pkcs11-tool --change-pin` takes effect at "
            "the next start. The PIN is never accepted "
            "on the config line or in the URI (`pin-value`, `pin-source` are refused), never "
            "logged, and wiped from memory after the login."},
    {"signer", K_SIGNER, M(signers), 0, STIRD_MAX_SIGNERS, "SPEC", S_KEYS,
     .help = "another signing identity: 'NAME key=FILE|URI cert=FILE x5u=URL [tn=RANGE[,RANGE]]' "
             "(repeatable, max 15)",
     .doc = "Another signing identity, repeatable (at most 15): `NAME key=FILE\\|URI cert=FILE "
            "x5u=URL [tn=RANGE[,RANGE...]]`, fields separated by blanks (paths and URLs without "
            "blanks). NAME: 1-32 letters, digits, `_ . -` (`default` is the `key`/`cert`/`x5u` "
            "identity's). RANGE: `1215555*` (prefix), `12155550000-12155559999` (inclusive, "
            "equal length) or one TN, canonical digits; at most 16. Without `tn`, the identity "
            "signs every TN its certificate's TNAuthList covers. Its key is checked and loaded "
            "like `key` (file mode; `pkcs11:` URIs with the same `pkcs11_module` and PIN). See "
            "\"How a signing identity is chosen\" below. If one `--signer` flag is given, the "
            "flags replace the file's `signer` lines."},
    {"allow-insecure-key-mode", K_BOOL, M(allow_insecure_key_mode), 0, 1, NULL, S_KEYS,
     .help = "labs only: accept private key files that group or others may read (default: refused "
             "at start)",
     .doc = "Labs only. By default a private key file (`key`, `x5u_tls_key`) that group or "
            "others may access (mode & 077) stops start-up with exit 1 and a message naming the "
            "file and its mode (`chmod 600` it). With this set, such a file is accepted with a "
            "warning."},
    {"log-level", K_ENUM, M(log_level), 0, 0, "LEVEL", S_LOG, .choices = LOG_LEVELS, .def = "info",
     .help = "error, warn, info (one line per request) or debug",
     .doc = "`error`, `warn`, `info` or `debug`. At `info` and above every request is one stderr "
            "line: ISO time, server (`api`/`x5u`), client address, method, path, status, latency "
            "in microseconds, and for verification `verstat=... codes=...` (per PASSporT `pass` "
            "or its reason code, in request order), for a refused request `field=<member>`. Keys "
            "and request bodies are never logged."},
    {"log-format", K_ENUM, M(log_json), 0, 0, "FORMAT", S_LOG, .choices = LOG_FORMATS,
     .def = "text", .help = "text (default) or json: one JSON object per log line",
     .doc = "`text` (the lines above) or `json`: one JSON object per line. Access records: "
            "`time`, `level` (`INFO`), `tag`, `client` (`{\"addr\",\"port\",\"identity\"}`; "
            "`identity` only with a client certificate or token), `requestId`, `resource`, "
            "`method`, `path`, `status`, `latency_us`, `verstat`, `codes`, `note` (members "
            "without a value are left out); other lines: `time`, `level`, `msg`. Request bytes "
            "are JSON-escaped (control characters and bytes above 0x7e as `\\u00XX`)."},
    {"fixed-time", K_LLONG, M(fixed_time), 0, 253402300799LL, "EPOCH", S_LOG,
     .help = "labs/tests only: the server clock always reads EPOCH",
     .doc = "Labs and tests only: the server clock always reads EPOCH (seconds since 1970), e.g. "
            "to verify published test vectors. A warning is logged at start-up."},
    {"metrics-listen", K_ADDR_OFF, M(metrics_listen), 0, 0, "HOST:PORT", S_METRICS,
     .shown_def = "`127.0.0.1:9464`",
     .help = "serve Prometheus metrics at GET /metrics on this address; none disables (default "
             "127.0.0.1:9464)",
     .doc = "Serve Prometheus metrics (text format 0.0.4) at `GET /metrics` on this address, a "
            "listener of its own (plain HTTP; keep it on loopback or a management network), "
            "served by the API's worker threads within the same `max_connections` / "
            "`max_connections_per_client`; the start-up banner prints its URL. `none` disables "
            "it (two stird processes on one host need different ports or `none`). The families "
            "are listed in docs/ARCHITECTURE.md (\"Metrics\")."},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

/* Settings that must not exceed another one: checked after parsing. */
static const struct {
    const char *lesser, *greater;
} ORDERED[] = {
    {"cache-min-ttl", "cache-max-ttl"},
    {"cache-neg-ttl", "cache-neg-ttl-max"},
    {"crl-retry", "crl-max-ttl"},
    {"fetch-connect-timeout-ms", "fetch-timeout-ms"},
};

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

static int apply(stird_config *cfg, const opt *o, const char *label, const char *v, char *err,
                 size_t errlen);
static long long int_get(const void *p, size_t size);

void config_init(stird_config *cfg)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char err[256];

    memset(cfg, 0, sizeof *cfg);
    /* libstir owns the defaults of its settings. */
    stir_certcache_config_default(&cfg->cache);
    stir_rcd_config_default(&cfg->rcd);
    stir_crl_config_default(&cfg->crl);
    cfg->threads = ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu;
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &OPTS[i];
        /* A default goes through the setter, so it obeys the row's range. */
        if (o->def && apply(cfg, o, o->name, o->def, err, sizeof err) != 0)
            assert(!"a default in OPTS is refused by its own row");
        assert((o->kind != K_BOOL && o->kind != K_ENUM) || o->size == sizeof(int));
        assert(o->kind != K_INT || (int_get((const char *)cfg + o->off, o->size) >= o->min &&
                                    int_get((const char *)cfg + o->off, o->size) <= o->max));
    }
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

    if (v[0] == '[') { /* [v6]:port */
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
            set_err(err, errlen,
                    "%s: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080; IPv6 as [::1]:8080)", label,
                    v);
            return -1;
        }
        hs = v;
        hl = (size_t)(colon - v);
    }
    if (hl == 0 || hl >= sizeof host) {
        set_err(err, errlen, "%s: '%s' has no host (use 0.0.0.0 to listen on every address)", label,
                v);
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
        if (strcasecmp(v, T[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, F[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Range errors name the setting, the value and the range (and, from a
 * file, FILE:LINE before it). */
static int parse_ll(const char *label, const char *v, long long min, long long max, long long *out,
                    char *err, size_t errlen)
{
    char *end;
    long long x;
    const char *p = v;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p)) {
        set_err(err, errlen, "setting %s: '%.40s' is not an integer", label, v);
        return -1;
    }
    errno = 0;
    x = strtoll(v, &end, 10);
    if (*end != '\0') {
        set_err(err, errlen, "setting %s: '%.40s' is not an integer", label, v);
        return -1;
    }
    if (errno == ERANGE || x < min || x > max) {
        set_err(err, errlen, "setting %s: value %.40s out of range [%lld, %lld]", label, v, min,
                max);
        return -1;
    }
    *out = x;
    return 0;
}

/*
 * K_INT members are int, unsigned, long or size_t: stored by size. A
 * signed and an unsigned integer type of one size may alias (C11
 * 6.5p7), and the row's range keeps the value representable in both.
 */
static void int_set(void *p, size_t size, long long v)
{
    if (size == sizeof(int)) {
        *(int *)p = (int)v;
    } else {
        assert(size == sizeof(long));
        *(long *)p = (long)v;
    }
}

static long long int_get(const void *p, size_t size)
{
    if (size == sizeof(int))
        return *(const int *)p;
    assert(size == sizeof(long));
    return *(const long *)p;
}

/* "a, b or c" of a NULL-terminated list. */
static void choices_str(const char *const *c, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; c[i] && o < outlen; i++) {
        int w = snprintf(out + o, outlen - o, "%s%s", i == 0 ? "" : c[i + 1] ? ", " : " or ", c[i]);
        o += w > 0 ? (size_t)w : 0;
    }
}

/* RoutingPath: "/a/b" made of RFC 3986 pchar without '%' (MHD decodes
 * the request path before we see it, so encoded bytes could never match). */
static int set_route(char *dst, size_t cap, const char *label, const char *v, char *err,
                     size_t errlen)
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
            set_err(err, errlen,
                    "%s: character '%c' not allowed (letters, digits, -._~!$&'()*+,;=:@ and '/')",
                    label, isprint(c) ? c : '?');
            return -1;
        }
        if (c == '/' &&
            (v[i + 1] == '/' || (v[i + 1] == '.' && (v[i + 2] == '/' || v[i + 2] == '\0')) ||
             (v[i + 1] == '.' && v[i + 2] == '.' && (v[i + 3] == '/' || v[i + 3] == '\0')))) {
            set_err(err, errlen, "%s: '%s' has an empty, '.' or '..' segment", label, v);
            return -1;
        }
    }
    memcpy(dst, v, n + 1);
    return 0;
}

static int add_host(stird_config *cfg, const char *label, const char *v, char *err, size_t errlen)
{
    stir_fetch_policy *f = &cfg->cache.fetch;
    char *dup;
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
    for (size_t i = 0; i < f->n_allow_hosts; i++)
        if (strcasecmp(f->allow_hosts[i], v) == 0)
            return 0;
    if (f->n_allow_hosts >= STIR_MAX_ALLOW_HOSTS) {
        set_err(err, errlen, "%s: at most %d hosts may be allowed", label, STIR_MAX_ALLOW_HOSTS);
        return -1;
    }
    if (!(dup = strdup(v))) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    f->allow_hosts[f->n_allow_hosts++] = dup;
    return 0;
}

static void clear_hosts(stird_config *cfg)
{
    stir_fetch_policy *f = &cfg->cache.fetch;
    for (size_t i = 0; i < f->n_allow_hosts; i++)
        free((char *)f->allow_hosts[i]);
    f->n_allow_hosts = 0;
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
static int add_signer(stird_config *cfg, const char *label, const char *v, char *err, size_t errlen)
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
            if (eq || n > STIR_SIGNER_NAME_MAX ||
                strspn(tok, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
                set_err(err, errlen,
                        "%s: '%.40s' is not a signer name (1 to %d letters, "
                        "digits, _ . -), which comes first",
                        label, tok, STIR_SIGNER_NAME_MAX);
                goto fail;
            }
            if (strcmp(tok, "default") == 0) {
                set_err(err, errlen, "%s: the name 'default' is the key/cert/x5u signer's", label);
                goto fail;
            }
            for (size_t i = 0; i < cfg->n_signers; i++)
                if (strcmp(cfg->signers[i].name, tok) == 0) {
                    set_err(err, errlen, "%s: a signer named '%s' is already configured", label,
                            tok);
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
        set_err(err, errlen, "%s: signer %s needs key=, cert= and x5u= (missing:%s%s%s)", label,
                d->name ? d->name : "(no name)", d->key ? "" : " key", d->cert ? "" : " cert",
                d->x5u ? "" : " x5u");
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
static int apply(stird_config *cfg, const opt *o, const char *label, const char *v, char *err,
                 size_t errlen)
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
            set_err(err, errlen,
                    "%s: '%.80s' is not a SIP token of at most 64 characters "
                    "(letters, digits, -.!%%*_+`'~)",
                    label, v);
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
            set_err(err, errlen, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                    label, v);
            return -1;
        }
        return 0;
    case K_INT:
        if (parse_ll(label, v, o->min, o->max, &x, err, errlen) != 0)
            return -1;
        int_set(base + o->off, o->size, x);
        return 0;
    case K_LLONG:
        if (parse_ll(label, v, o->min, o->max, &x, err, errlen) != 0)
            return -1;
        *(long long *)(base + o->off) = x;
        cfg->has_fixed_time = 1;
        return 0;
    case K_HOSTS:
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
    case K_ROUTE:
        return set_route(base + o->off, sizeof cfg->routing_path, label, v, err, errlen);
    case K_ENUM: {
        char names[128];
        for (int i = 0; o->choices[i]; i++)
            if (strcasecmp(v, o->choices[i]) == 0) {
                *(int *)(base + o->off) = i;
                return 0;
            }
        choices_str(o->choices, names, sizeof names);
        set_err(err, errlen, "%s: '%.40s' is not %s", label, v, names);
        return -1;
    }
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
            set_err(err, errlen, "%s:%u: line longer than %d characters", path, lineno,
                    LINE_MAX_LEN);
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
            set_err(err, errlen, "%s:%u: unknown key '%.64s' (see stird --help)", path, lineno,
                    key);
            goto fail;
        }
        if (apply(cfg, o, key, val, msg, sizeof msg) != 0) {
            set_err(err, errlen, "%s:%u: %s", path, lineno, msg);
            goto fail;
        }
        if (o->kind == K_PPT) /* registration errors come later: name the line */
            snprintf(cfg->ppt_types[cfg->n_ppt_types - 1].origin, sizeof cfg->ppt_types[0].origin,
                     "%s:%u: %s", path, lineno, key);
        if (o->kind == K_SIGNER) /* key and certificate errors come later */
            snprintf(cfg->signers[cfg->n_signers - 1].origin, sizeof cfg->signers[0].origin,
                     "%s:%u", path, lineno);
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

static void default_text(const struct opt *o, const stird_config *d, char *out, size_t n);
static void plain(const char *md, char *out, size_t n);

void config_usage(FILE *out)
{
    stird_config d;
    config_init(&d);
    fprintf(out, "usage: stird [--embedded] [--config FILE] [flags]\n"
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
        /* A default that is a value (a number, `text`), made from the
         * defaults themselves; one in words (booleans, "embedded: ...")
         * is in the man page and docs. */
        if (strstr(OPTS[i].help, "default") == NULL && OPTS[i].kind != K_CONFIG) {
            char md[512], text[512];
            default_text(&OPTS[i], &d, md, sizeof md);
            plain(md, text, sizeof text);
            if (md[0] == '`' || isdigit((unsigned char)md[0]))
                fprintf(out, " (default %s)", text);
        }
        if (OPTS[i].kind == K_INT || OPTS[i].kind == K_LLONG)
            fprintf(out, " [%lld..%lld]", OPTS[i].min, OPTS[i].max);
        fputc('\n', out);
    }
    fprintf(out, "  %-34s %s\n  %-34s %s\n  %-34s %s\n", "--help", "show this help",
            "--help-settings=man|md", "the settings reference as roff or Markdown", "--version",
            "show the version");
    config_free(&d);
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
static int repeatable(const opt *o)
{
    return o->kind == K_HOSTS || o->kind == K_PPT || o->kind == K_AUDIENCE || o->kind == K_SIGNER;
}

/* The default of a setting in words, Markdown (`code` for literal values);
 * `d` holds the defaults (config_init). */
static void default_text(const opt *o, const stird_config *d, char *out, size_t n)
{
    const char *p = (const char *)d + o->off;
    const char *str = NULL;

    if (o->shown_def) {
        snprintf(out, n, "%s", o->shown_def);
        return;
    }
    switch (o->kind) {
    case K_INT:
        snprintf(out, n, "%lld", int_get(p, o->size));
        return;
    case K_BOOL:
        snprintf(out, n, "%s", *(const int *)(const void *)p ? "yes" : "no");
        return;
    case K_ENUM:
        str = o->choices[*(const int *)(const void *)p];
        break;
    case K_STR:
    case K_TOKEN:
    case K_DIGEST:
        str = *(const char *const *)(const void *)p;
        break;
    default:
        break;
    }
    if (str)
        snprintf(out, n, "`%s`", str);
    else
        snprintf(out, n, "none");
}

/* What values a setting takes, Markdown; "" when its meaning says it. */
static void range_text(const opt *o, char *out, size_t n)
{
    out[0] = '\0';
    if (o->kind == K_INT || o->kind == K_LLONG) {
        snprintf(out, n, "%lld..%lld", o->min, o->max);
    } else if (o->kind == K_BOOL) {
        snprintf(out, n, "boolean");
    } else if (repeatable(o)) {
        snprintf(out, n, "max %lld", o->max);
    } else if (o->kind == K_ROUTE) {
        snprintf(out, n, "≤ %zu chars", o->size - 1);
    } else if (o->kind == K_ENUM) {
        size_t w = 0;
        for (size_t i = 0; o->choices[i] && w < n; i++) {
            int k = snprintf(out + w, n - w, "%s`%s`", i ? ", " : "", o->choices[i]);
            w += k > 0 ? (size_t)k : 0;
        }
    } else if (o->kind == K_DIGEST) {
        snprintf(out, n, "%s", stir_digest_names());
    }
}

/* Markdown text with the backquotes dropped, for roff and --help. */
static void plain(const char *md, char *out, size_t n)
{
    size_t o = 0;
    for (; *md && o + 1 < n; md++)
        if (*md != '`')
            out[o++] = *md;
    out[o] = '\0';
}

static void key_of(const opt *o, char key[64])
{
    size_t k;
    for (k = 0; o->name[k] && k + 1 < 64; k++)
        key[k] = o->name[k] == '-' ? '_' : o->name[k];
    key[k] = '\0';
}

static void man_entry(FILE *out, const opt *o, const stird_config *d)
{
    char key[64], buf[512], text[512];
    key_of(o, key);
    fprintf(out, ".TP\n.BR %s \" = \" ", key);
    man_text(out, o->arg ? o->arg : "BOOLEAN");
    fputs("\n", out);
    man_text(out, o->help);
    fprintf(out, "\n.br\nFlag: \\fB\\-\\-");
    man_text(out, o->name);
    fputs("\\fR.", out);
    range_text(o, buf, sizeof buf);
    if (repeatable(o))
        fprintf(out, " Repeatable, at most %lld.", o->max);
    else if (*buf && o->kind != K_BOOL) {
        plain(buf, text, sizeof text);
        fputs(o->kind == K_INT || o->kind == K_LLONG ? " Range " : " Values: ", out);
        man_text(out, text);
        fputs(".", out);
    }
    default_text(o, d, buf, sizeof buf);
    plain(buf, text, sizeof text);
    fputs(" Default: ", out);
    man_text(out, text);
    fputs(".\n", out);
}

/*
 * The settings reference from OPTS: "man", roff .TP entries for
 * stird.conf(5), made at build time; "md", one table per section of
 * docs/CONFIG.md between markers, which scripts/config-doc.sh splices in
 * and test_config.py checks, so neither can drift from the parser.
 */
void config_settings_doc(FILE *out, const char *format)
{
    int man = strcmp(format, "man") == 0;
    stird_config d;

    config_init(&d);
    for (int sec = S_HTTP; sec < N_SECTIONS; sec++) {
        if (!man)
            fprintf(out,
                    "<!-- settings: %s (generated by `stird --help-settings=md` from "
                    "src/server/config.c) -->\n| flag / key | default | range | meaning |\n"
                    "|---|---|---|---|\n",
                    SECTION_NAMES[sec]);
        for (size_t i = 0; i < N_OPTS; i++) {
            const opt *o = &OPTS[i];
            char key[64], def[512], range[160];
            if (o->section != (enum section)sec || o->kind == K_CONFIG)
                continue;
            if (man) {
                man_entry(out, o, &d);
                continue;
            }
            key_of(o, key);
            default_text(o, &d, def, sizeof def);
            range_text(o, range, sizeof range);
            fprintf(out, "| `--%s", o->name);
            if (o->arg) {
                fputc(' ', out);
                for (const char *c = o->arg; *c; c++) /* '|' would end the cell */
                    if (*c == '|')
                        fputs("\\|", out);
                    else
                        fputc(*c, out);
            }
            fprintf(out, "` / `%s` | %s | %s | %s |\n", key, def, range, o->doc ? o->doc : o->help);
        }
        if (!man)
            fprintf(out, "<!-- end of settings: %s -->\n", SECTION_NAMES[sec]);
    }
    config_free(&d);
}

int config_set(stird_config *cfg, const char *name, const char *label, const char *value, char *err,
               size_t errlen)
{
    const opt *o = find_opt(name, strlen(name));
    if (!o || o->kind == K_CONFIG) {
        set_err(err, errlen, "%s: not a setting", label);
        return -1;
    }
    return apply(cfg, o, label, value, err, errlen);
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
            continue; /* already loaded */
        /* Flags replace the file's lists rather than extend them. */
        if (o->kind == K_HOSTS && !hosts_reset) {
            clear_hosts(cfg);
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

static const opt *opt_named(const char *name)
{
    const opt *o = find_opt(name, strlen(name));
    assert(o);
    return o;
}

/* ORDERED: e.g. cache-min-ttl not above cache-max-ttl. */
static int check_ordered(const stird_config *cfg, char *err, size_t errlen)
{
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < sizeof ORDERED / sizeof ORDERED[0]; i++) {
        const opt *lo = opt_named(ORDERED[i].lesser), *hi = opt_named(ORDERED[i].greater);
        long long a = int_get(base + lo->off, lo->size), b = int_get(base + hi->off, hi->size);
        if (a > b) {
            set_err(err, errlen, "%s (%lld) is larger than %s (%lld)", lo->name, a, hi->name, b);
            return -1;
        }
    }
    return 0;
}

void config_finish_fetch(stird_config *cfg)
{
    size_t rcd_max = cfg->rcd.fetch.max_bytes, crl_max = cfg->crl.fetch.max_bytes;
    /* One policy: RCD content and CRLs are fetched under the x5u rules
     * (timeouts, address checks, allowed hosts), each with its size cap;
     * CRLs add crl.allow_http of their own. */
    cfg->rcd.fetch = cfg->cache.fetch;
    cfg->rcd.fetch.max_bytes = rcd_max;
    cfg->crl.fetch = cfg->cache.fetch;
    cfg->crl.fetch.max_bytes = crl_max;
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
            default_str((char **)&cfg->cache.fetch.tls_ca_file, cfg->state_dir, "tls.pem"))
            goto oom;
        /* The TLS certificate of the embedded PKI names 127.0.0.1 and
         * localhost, so a wildcard listener is reached through 127.0.0.1. */
        h = cfg->x5u_listen.host;
        if (strcmp(h, "0.0.0.0") == 0)
            h = "127.0.0.1";
        else if (strchr(h, ':'))
            h = "localhost"; /* an IPv6 literal is not in the certificate */
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
            set_err(err, errlen,
                    "--lab-secure works with --embedded (the lab PKI and state directory)");
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
    config_finish_fetch(cfg);

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
    if (check_ordered(cfg, err, errlen) != 0)
        return -1;
    if (cfg->auth == AUTH_MODE_OAUTH &&
        (!cfg->oauth_jwks || !cfg->oauth_issuer || cfg->n_oauth_audience == 0)) {
        set_err(err, errlen,
                "auth = oauth needs oauth_jwks, oauth_issuer and oauth_audience (missing: %s%s%s)",
                cfg->oauth_jwks ? "" : "oauth_jwks ", cfg->oauth_issuer ? "" : "oauth_issuer ",
                cfg->n_oauth_audience ? "" : "oauth_audience");
        return -1;
    }
    if (cfg->auth == AUTH_MODE_STATIC && !cfg->policy_file) {
        set_err(err, errlen, "auth = static lists its clients in policy_file: set it");
        return -1;
    }
    if (!cfg->tls_cert && !cfg->plain_http) {
        set_err(err, errlen,
                "the Ms API needs HTTPS (set tls-cert and tls-key) or plain HTTP "
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

    config_init(cfg);
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
    char *base = (char *)cfg;
    for (size_t i = 0; i < N_OPTS; i++)
        if (OPTS[i].kind == K_STR || OPTS[i].kind == K_TOKEN)
            free(*(char **)(base + OPTS[i].off));
    free(cfg->config_path);
    clear_hosts(cfg);
    clear_ppt(cfg);
    clear_audiences(cfg);
    clear_signers(cfg);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- reload (SIGHUP) ---------------------------------------------------------------- */

/* What SIGHUP applies: the signing identities, the TLS certificates and
 * the trust anchors (the objects built from these are swapped);
 * everything else is read by objects made once at start. */
static const char *const RELOADABLE[] = {
    "key",
    "cert",
    "x5u",
    "signer",
    "pkcs11-module",
    "key-pin-file",
    "allow-insecure-key-mode",
    "tls-key",
    "tls-client-ca",
    "x5u-tls-cert",
    "x5u-tls-key",
    "cert-expiry-warn-days",
    "trust",
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

static int strs_differ(const char *const *a, size_t na, const char *const *b, size_t nb)
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
    case K_ENUM:
        return *(const int *)(const void *)pa != *(const int *)(const void *)pb;
    case K_INT:
        return int_get(pa, o->size) != int_get(pb, o->size);
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
    case K_HOSTS:
        return strs_differ(a->cache.fetch.allow_hosts, a->cache.fetch.n_allow_hosts,
                           b->cache.fetch.allow_hosts, b->cache.fetch.n_allow_hosts);
    case K_AUDIENCE:
        return strs_differ((const char *const *)a->oauth_audience, a->n_oauth_audience,
                           (const char *const *)b->oauth_audience, b->n_oauth_audience);
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
