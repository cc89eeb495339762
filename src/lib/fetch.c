/*
 * x5u URL policy and download (ATIS-1000074 / ATIS-1000080 fetch rules via
 * certificates.md section 5.2, RFC 6890 special-purpose addresses).
 *
 * The address check runs in CURLOPT_OPENSOCKETFUNCTION, on the very address
 * curl is about to connect to, so a name that resolves differently between
 * a check and the connect (DNS rebinding) cannot slip through.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "fetch.h"

/* ---- URL policy ----------------------------------------------------------- */

#define BAD(...) stir_fail(err, STIR_ERR_BAD_INFO, NULL, __VA_ARGS__)

/* Get a URL part, NULL when absent. */
static char *url_part(CURLU *u, CURLUPart what, unsigned flags)
{
    char *v = NULL;
    if (curl_url_get(u, what, &v, flags) != CURLUE_OK)
        return NULL;
    return v;
}

/* Check `url` against `pol`; on success copy the host (without IPv6
 * brackets) into host[hostlen]. */
static int url_check_host(const stir_fetch_policy *pol, const char *url, char *host, size_t hostlen,
                          stir_error *err)
{
    static const stir_fetch_policy none;
    if (!pol)
        pol = &none;
    if (!url || !*url)
        return BAD("x5u is empty");
    size_t len = strlen(url);
    if (len > STI_URL_MAX)
        return BAD("x5u is longer than %d characters", STI_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return BAD("x5u has a space, control or non-ASCII byte at offset %zu", i);
    }
    CURLU *u = curl_url();
    if (!u)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    int rc = 0;
    char *scheme = NULL, *user = NULL, *pass = NULL, *hst = NULL, *port = NULL, *query = NULL,
         *frag = NULL, *zone = NULL, *opts = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = BAD("x5u is not a valid absolute URL: %s", curl_url_strerror(uc));
        goto out;
    }
    scheme = url_part(u, CURLUPART_SCHEME, 0);
    if (!scheme ||
        !(strcmp(scheme, "https") == 0 || (pol->allow_http && strcmp(scheme, "http") == 0))) {
        rc = BAD("x5u must use https (scheme is %s)", scheme ? scheme : "missing");
        goto out;
    }
    /* An https URI has an authority with a non-empty host (RFC 9110
     * 4.2.2); libcurl would read "https:///h/p" and "https:/h/p" as
     * "https://h/p", a host the x5u does not name. */
    const char *rest = url + strlen(scheme);
    if (strncmp(rest, "://", 3) || rest[3] == '/') {
        rc = BAD("x5u must be scheme://host/path: the host is missing or misplaced");
        goto out;
    }
    user = url_part(u, CURLUPART_USER, 0);
    pass = url_part(u, CURLUPART_PASSWORD, 0);
    opts = url_part(u, CURLUPART_OPTIONS, 0);
    if (user || pass || opts) {
        rc = BAD("x5u must not contain userinfo");
        goto out;
    }
    query = url_part(u, CURLUPART_QUERY, 0);
    if (query || strchr(url, '?')) {
        rc = BAD("x5u must not contain a query");
        goto out;
    }
    frag = url_part(u, CURLUPART_FRAGMENT, 0);
    if (frag || strchr(url, '#')) {
        rc = BAD("x5u must not contain a fragment");
        goto out;
    }
    hst = url_part(u, CURLUPART_HOST, 0);
    if (!hst || !*hst) {
        rc = BAD("x5u has no host");
        goto out;
    }
    zone = url_part(u, CURLUPART_ZONEID, 0);
    if (zone) {
        rc = BAD("x5u host must not carry an IPv6 zone id (%s)", zone);
        goto out;
    }
    port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    long pn = port ? strtol(port, NULL, 10) : 0;
    /* allow_http alone permits http's own port 80; any other port needs
     * allow_any_port. */
    if (!pol->allow_any_port && pn != 443 && pn != 8443 &&
        !(pn == 80 && strcmp(scheme, "http") == 0)) {
        rc = BAD("x5u port %s not allowed (443 or 8443 only)", port ? port : "?");
        goto out;
    }
    if (host) {
        const char *h = hst;
        size_t hl = strlen(h);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
            h++;
            hl -= 2;
        }
        if (hl >= hostlen) {
            rc = BAD("x5u host is too long");
            goto out;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
out:
    curl_free(scheme);
    curl_free(user);
    curl_free(pass);
    curl_free(opts);
    curl_free(hst);
    curl_free(port);
    curl_free(query);
    curl_free(frag);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}

int stir_url_check(const stir_fetch_policy *pol, const char *url, stir_error *err)
{
    return url_check_host(pol, url, NULL, 0, err);
}

int sti_url_host(const stir_fetch_policy *pol, const char *url, char *host, size_t hostlen,
                 stir_error *err)
{
    return url_check_host(pol, url, host, hostlen, err);
}

/* ---- special-purpose addresses (RFC 6890 and its updates) ----------------- */

static const char *v4_special(uint32_t a)
{
#define IN4(x, bits, val) (((a) >> (32 - (bits))) == ((uint32_t)(val) >> (32 - (bits))))
    if (a == 0xffffffffu)
        return "broadcast";
    if (IN4(a, 8, 0x00000000))
        return "this-network (0.0.0.0/8)";
    if (IN4(a, 8, 0x7f000000))
        return "loopback";
    if (IN4(a, 8, 0x0a000000) || IN4(a, 12, 0xac100000) || IN4(a, 16, 0xc0a80000))
        return "private (RFC 1918)";
    if (IN4(a, 10, 0x64400000))
        return "shared CGNAT (100.64.0.0/10)";
    if (IN4(a, 16, 0xa9fe0000))
        return "link-local";
    if (IN4(a, 24, 0xc0000000))
        return "IETF protocol assignment (192.0.0.0/24)";
    if (IN4(a, 24, 0xc0000200) || IN4(a, 24, 0xc6336400) || IN4(a, 24, 0xcb007100))
        return "documentation";
    if (IN4(a, 24, 0xc0586300))
        return "6to4 relay anycast";
    if (IN4(a, 15, 0xc6120000))
        return "benchmarking (198.18.0.0/15)";
    if (IN4(a, 4, 0xe0000000))
        return "multicast";
    if (IN4(a, 4, 0xf0000000))
        return "reserved (240.0.0.0/4)";
    return NULL;
#undef IN4
}

static uint32_t v4_at(const unsigned char *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static const char *v6_special(const unsigned char *b)
{
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, zero, 16) == 0)
        return "unspecified (::)";
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return "loopback";
    /* Forms that embed an IPv4 address are judged by that address. */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_special(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) { /* 6to4 2002::/16 embeds V4ADDR */
        const char *k = v4_special(v4_at(b + 2));
        return k ? k : NULL;
    }
    if (memcmp(b, zero, 12) == 0)
        return "IPv4-compatible (deprecated ::/96)";
    if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
        return "local-use NAT64 (64:ff9b:1::/48)";
    if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0)
        return "discard-only (100::/64)";
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return "documentation";
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02)
        return "IETF protocol assignment (2001::/23)";
    if ((b[0] & 0xfe) == 0xfc)
        return "unique-local (fc00::/7)";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "site-local (deprecated fec0::/10)";
    if (b[0] == 0xff)
        return "multicast";
    return NULL;
}

const char *sti_addr_special(const struct sockaddr *sa)
{
    if (!sa)
        return "unknown";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return v4_special(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        return v6_special(s6->sin6_addr.s6_addr);
    }
    return "non-IP";
}

/* ---- download --------------------------------------------------------------- */

typedef struct fetch_ctx {
    const stir_fetch_policy *pol;
    int host_allowed;
    sti_fetch_result *res;
    size_t cap, max;
    int too_big;
    const char *blocked_kind; /* first refused address, for the detail */
    char blocked_addr[INET6_ADDRSTRLEN];
} fetch_ctx;

static curl_socket_t open_socket(void *cp, curlsocktype purpose, struct curl_sockaddr *a)
{
    fetch_ctx *f = cp;
    if (purpose == CURLSOCKTYPE_IPCXN && !f->host_allowed) {
        const char *kind = sti_addr_special(&a->addr);
        if (kind) {
            if (!f->blocked_kind) {
                f->blocked_kind = kind;
                const void *ip = NULL;
                if (a->family == AF_INET)
                    ip = &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr;
                else if (a->family == AF_INET6)
                    ip = &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr;
                if (!ip || !inet_ntop(a->family, ip, f->blocked_addr, sizeof f->blocked_addr))
                    snprintf(f->blocked_addr, sizeof f->blocked_addr, "?");
            }
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t on_body(char *data, size_t size, size_t n, void *cp)
{
    fetch_ctx *f = cp;
    size_t len = size * n;
    sti_fetch_result *r = f->res;
    if (len > f->max - r->body_len) {
        f->too_big = 1;
        return 0; /* abort the transfer: CURLE_WRITE_ERROR */
    }
    if (r->body_len + len + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        if (cap > f->max + 1)
            cap = f->max + 1;
        char *nb = realloc(r->body, cap);
        if (!nb)
            return 0;
        r->body = nb;
        f->cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return len;
}

/* Copy a header value (after "Name:"), trimmed, appending with ", " when
 * `append` and dst already holds a value (Cache-Control may repeat). */
static void header_value(char *dst, size_t dstlen, const char *v, size_t vlen, int append)
{
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
                    v[vlen - 1] == '\t'))
        vlen--;
    size_t off = append ? strlen(dst) : 0;
    if (off && vlen && off + 2 < dstlen) {
        memcpy(dst + off, ", ", 2);
        off += 2;
    }
    if (off + vlen >= dstlen)
        vlen = dstlen - 1 - off; /* truncated: these are hints, not data */
    memcpy(dst + off, v, vlen);
    dst[off + vlen] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *cp)
{
    fetch_ctx *f = cp;
    size_t len = size * n;
    sti_fetch_result *r = f->res;
    static const struct {
        const char *name;
        size_t off, size;
        int append;
    } hs[] = {
        {"cache-control:", offsetof(sti_fetch_result, cache_control), sizeof r->cache_control, 1},
        {"expires:", offsetof(sti_fetch_result, expires), sizeof r->expires, 0},
        {"date:", offsetof(sti_fetch_result, date), sizeof r->date, 0},
    };
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (status line): forget headers of any earlier one */
        r->cache_control[0] = r->expires[0] = r->date[0] = '\0';
        return len;
    }
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        size_t nl = strlen(hs[i].name);
        if (len >= nl && strncasecmp(data, hs[i].name, nl) == 0) {
            header_value((char *)r + hs[i].off, hs[i].size, data + nl, len - nl, hs[i].append);
            break;
        }
    }
    return len;
}

void sti_fetch_result_free(sti_fetch_result *r)
{
    if (!r)
        return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int host_is_allowed(const stir_fetch_policy *pol, const char *host)
{
    for (size_t i = 0; i < pol->n_allow_hosts && i < STIR_MAX_ALLOW_HOSTS; i++) {
        const char *a = pol->allow_hosts[i];
        if (!a)
            continue;
        size_t al = strlen(a);
        if (al >= 2 && a[0] == '[' && a[al - 1] == ']') {
            a++;
            al -= 2;
        }
        if (al == strlen(host) && strncasecmp(a, host, al) == 0)
            return 1;
    }
    return 0;
}

static const char *article(const char *word)
{
    return strchr("aeiouAEIOU", word[0]) ? "an" : "a";
}

int sti_fetch(const stir_fetch_policy *pol, const char *url, sti_fetch_result *out, stir_error *err)
{
    char host[256];
    if (!pol || !out)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "sti_fetch: NULL argument");
    memset(out, 0, sizeof *out);
    int rc = url_check_host(pol, url, host, sizeof host, err);
    if (rc)
        return rc;
    if (pol->max_bytes == 0)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "fetch policy max_bytes is 0");

    fetch_ctx f;
    memset(&f, 0, sizeof f);
    f.pol = pol;
    f.host_allowed = host_is_allowed(pol, host);
    f.res = out;
    f.max = pol->max_bytes;

    CURL *h = curl_easy_init();
    if (!h)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot create a curl handle");
    char ebuf[CURL_ERROR_SIZE] = "";
    const char *protos = pol->allow_http ? "http,https" : "https";
    int setup_ok =
        curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protos) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protos) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, pol->connect_timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, pol->total_timeout_ms) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)pol->max_bytes) == CURLE_OK &&
        /* Environment proxies would move the connection (and the address
         * check) to another host: x5u fetches always go direct. */
        curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_USERAGENT, "libstir/0.1") == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &f) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &f) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &f) == CURLE_OK &&
        (!pol->tls_ca_file || curl_easy_setopt(h, CURLOPT_CAINFO, pol->tls_ca_file) == CURLE_OK);
    if (!setup_ok) {
        curl_easy_cleanup(h);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot configure the curl handle");
    }

    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t connect_us = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    const char *why = ebuf[0] ? ebuf : curl_easy_strerror(cc);

    switch (cc) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        if (connect_us == 0) {
            long ms = pol->connect_timeout_ms < pol->total_timeout_ms && pol->connect_timeout_ms > 0
                          ? pol->connect_timeout_ms
                          : pol->total_timeout_ms;
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u connect to %s timed out after %ld ms",
                           host, ms);
        } else {
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u fetch timed out after %ld ms",
                           pol->total_timeout_ms);
        }
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u host %s does not resolve: %s", host, why);
        break;
    case CURLE_COULDNT_CONNECT:
        if (f.blocked_kind)
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                           "x5u host resolves to %s %s address (%s) and is not an allowed "
                           "host",
                           article(f.blocked_kind), f.blocked_kind, f.blocked_addr);
        else
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u connect to %s failed: %s", host, why);
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (f.too_big || cc == CURLE_FILESIZE_EXCEEDED)
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u body exceeds %zu bytes",
                           pol->max_bytes);
        else
            rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "x5u fetch: out of memory");
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
        rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u TLS error with %s: %s", host, why);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u scheme not allowed: %s", why);
        break;
    default:
        rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u fetch from %s failed: %s", host, why);
        break;
    }
    curl_easy_cleanup(h);
    if (!rc) {
        if (status >= 300 && status < 400)
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "redirect refused (HTTP %ld)", status);
        else if (status != 200)
            rc = stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u server answered HTTP %ld", status);
    }
    if (rc) {
        sti_fetch_result_free(out);
        return rc;
    }
    /* Content-Type is not enforced: the body is parsed as strict PEM
     * certificates anyway, and repositories serving the right bytes under
     * application/x-pem-file are common. */
    out->status = status;
    if (!out->body) {
        out->body = calloc(1, 1);
        if (!out->body)
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    }
    return 0;
}

/* ---- cache lifetime (RFC 9111) ---------------------------------------------- */

/* Parse a delta-seconds value ("60" or "\"60\""); -1 if malformed. */
static long delta_seconds(const char *v, size_t n)
{
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n == 0)
        return -1;
    long r = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        if (r < 100000000L) /* saturate: anything this long is "forever" */
            r = r * 10 + (v[i] - '0');
    }
    return r;
}

long sti_fetch_lifetime(const sti_fetch_result *r, int *no_store)
{
    long smax = -1, maxage = -1;
    int no_cache = 0;
    const char *p = r->cache_control;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        size_t n = (size_t)(p - s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        const char *eq = memchr(s, '=', n);
        size_t kl = eq ? (size_t)(eq - s) : n;
        while (kl && (s[kl - 1] == ' ' || s[kl - 1] == '\t'))
            kl--;
        const char *v = eq ? eq + 1 : NULL;
        size_t vl = eq ? n - (size_t)(v - s) : 0;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        if (kl == 8 && strncasecmp(s, "no-store", 8) == 0)
            *no_store = 1;
        else if (kl == 8 && strncasecmp(s, "no-cache", 8) == 0)
            no_cache = 1;
        else if (kl == 8 && strncasecmp(s, "s-maxage", 8) == 0 && v)
            smax = delta_seconds(v, vl);
        else if (kl == 7 && strncasecmp(s, "max-age", 7) == 0 && v)
            maxage = delta_seconds(v, vl);
    }
    /* no-cache: reuse needs revalidation, which we do not do; 0 is then
     * raised to min_ttl (the operator's floor). */
    if (no_cache)
        return 0;
    if (smax >= 0) /* we are a shared cache */
        return smax;
    if (maxage >= 0)
        return maxage;
    if (r->expires[0]) {
        time_t exp = curl_getdate(r->expires, NULL);
        if (exp == -1)
            return 0; /* invalid Expires means already expired (RFC 9111 5.3) */
        time_t date = r->date[0] ? curl_getdate(r->date, NULL) : -1;
        if (date == -1)
            date = time(NULL);
        return exp > date ? (long)(exp - date) : 0;
    }
    return -1;
}

/* ---- policy ------------------------------------------------------------------ */

int sti_fetch_policy_check(const stir_fetch_policy *p, stir_error *err)
{
    if (p->connect_timeout_ms <= 0 || p->connect_timeout_ms > 60000)
        return stir_fail(err, STIR_ERR_INPUT, "fetch.connect_timeout_ms",
                         "connect timeout must be 1..60000 ms");
    if (p->total_timeout_ms <= 0 || p->total_timeout_ms > 60000)
        return stir_fail(err, STIR_ERR_INPUT, "fetch.total_timeout_ms",
                         "total timeout must be 1..60000 ms");
    if (p->max_bytes == 0 || p->max_bytes > (16u << 20))
        return stir_fail(err, STIR_ERR_INPUT, "fetch.max_bytes", "max_bytes must be 1..16 MiB");
    if (p->max_per_host > 1024)
        return stir_fail(err, STIR_ERR_INPUT, "fetch.max_per_host",
                         "max_per_host must be 0..1024 (0: no cap)");
    if (p->n_allow_hosts > STIR_MAX_ALLOW_HOSTS)
        return stir_fail(err, STIR_ERR_INPUT, "fetch.n_allow_hosts", "at most %d allowed hosts",
                         STIR_MAX_ALLOW_HOSTS);
    for (size_t i = 0; i < p->n_allow_hosts; i++)
        if (!p->allow_hosts[i] || !*p->allow_hosts[i] || strlen(p->allow_hosts[i]) > 255)
            return stir_fail(err, STIR_ERR_INPUT, "fetch.allow_hosts",
                             "allowed host %zu is empty or too long", i);
    return 0;
}

int sti_fetch_policy_dup(stir_fetch_policy *dst, const stir_fetch_policy *src)
{
    *dst = *src;
    for (size_t i = 0; i < STIR_MAX_ALLOW_HOSTS; i++)
        dst->allow_hosts[i] = NULL;
    dst->tls_ca_file = NULL;
    for (size_t i = 0; i < src->n_allow_hosts; i++)
        if (!(dst->allow_hosts[i] = strdup(src->allow_hosts[i])))
            return -1;
    if (src->tls_ca_file && !(dst->tls_ca_file = strdup(src->tls_ca_file)))
        return -1;
    return 0;
}

/* The strings are the copies sti_fetch_policy_dup made (const only in the
 * public struct, which usually points at the caller's). */
void sti_fetch_policy_free(stir_fetch_policy *p)
{
    for (size_t i = 0; i < STIR_MAX_ALLOW_HOSTS; i++) {
        free((char *)p->allow_hosts[i]);
        p->allow_hosts[i] = NULL;
    }
    free((char *)p->tls_ca_file);
    p->tls_ca_file = NULL;
}
