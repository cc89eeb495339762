/* Helpers shared by the unit tests. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "stir/certcache.h"

/* RFC 8946 Appendix A key pair (test-vectors.md: consistent pair). */
#define RFC8946_PUB                                                      \
    "-----BEGIN PUBLIC KEY-----\n"                                       \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4\n" \
    "hUYm9wv5wutLgEd9FsiTy3+4+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w==\n"     \
    "-----END PUBLIC KEY-----\n"
#define RFC8946_PRIV                                                     \
    "-----BEGIN EC PRIVATE KEY-----\n"                                   \
    "MHcCAQEEIFKCsFZ4Wsw3ZpBxgc4Z0sOjaXDdMk07Ny1fKg6OntAkoAoGCCqGSM49\n" \
    "AwEHoUQDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4hUYm9wv5wutLgEd9FsiTy3+4\n" \
    "+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w==\n"                             \
    "-----END EC PRIVATE KEY-----\n"
/* RFC 8225 Appendix A.2 public key: verifies the "rq3pjT1h..." token. */
#define RFC8225_A2_PUB                                                   \
    "-----BEGIN PUBLIC KEY-----\n"                                       \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8HNbQd/TmvCKwPKHkMF9fScavGeH\n" \
    "78YTU8qLS8I5HLHSSmlATLcslQMhNC/OhlWBYC626nIlo7XeebYS7Sb37g==\n"     \
    "-----END PUBLIC KEY-----\n"

/* A key from PEM text with OpenSSL's reader `read` (public or private). */
static inline EVP_PKEY *pem_key(const char *pem,
                                EVP_PKEY *(*read)(BIO *, EVP_PKEY **, pem_password_cb *, void *))
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = read(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(k);
    return k;
}

static inline EVP_PKEY *pem_pub(const char *pem)
{
    return pem_key(pem, PEM_read_bio_PUBKEY);
}

static inline EVP_PKEY *pem_priv(const char *pem)
{
    return pem_key(pem, PEM_read_bio_PrivateKey);
}

/* ---- tests/tools/certserver.py serving a tests/tools/mkpki.sh PKI --------------- */

typedef struct certserver {
    char dir[256]; /* the PKI (root.pem, tls.pem, ...) and served files */
    char tls[512]; /* the server's TLS certificate: the clients' CA file */
    int port;
    pid_t pid;
} certserver;

static inline void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Seconds on the monotonic clock, for elapsed times. */
static inline double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * curl_global_init, a new /tmp/stir-test-<tag>-XXXXXX with the PKI in it,
 * and certserver.py serving that directory on a free port of 127.0.0.1.
 * 0, or -1 for a cmocka group setup to return.
 */
static inline int certserver_start(certserver *s, const char *tag)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    const char *src = getenv("STIR_SRC");
    if (!src)
        src = ".";
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/stir-test-%s-XXXXXX", tag);
    if (!mkdtemp(s->dir))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/tools/mkpki.sh' '%s'", src, s->dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(s->tls, sizeof s->tls, "%s/tls.pem", s->dir);
    char key[512], script[512], portfile[512];
    snprintf(key, sizeof key, "%s/tls.key", s->dir);
    snprintf(script, sizeof script, "%s/tests/tools/certserver.py", src);
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        execlp("python3", "python3", script, "--cert", s->tls, "--key", key, "--dir", s->dir,
               "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    /* The server writes its port file once it listens. Python's start
     * took 9 s on a 2-core machine at load 15 (mkpki.sh before it 27 s):
     * wait until the file appears or the server dies, up to a minute. */
    double deadline = mono_s() + 60.0;
    while (s->port == 0 && mono_s() < deadline) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &s->port) != 1)
                s->port = 0;
            fclose(f);
        }
        if (s->port)
            break;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = -1; /* reaped: certserver_stop must not wait for it */
            break;
        }
        sleep_s(0.05);
    }
    return s->port ? 0 : -1;
}

/* Stops the server, removes its directory, curl_global_cleanup. */
static inline int certserver_stop(certserver *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = -1;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    int rc = s->dir[0] && system(cmd) != 0 ? -1 : 0;
    curl_global_cleanup();
    return rc;
}

/* Writes file `name` into the served directory. */
static inline void certserver_put(const certserver *s, const char *name, const void *data,
                                  size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Connect and total timeout of the tests' fetches: far above what a
 * download from certserver.py takes, because on a loaded machine (CI on 2
 * cores, the ASan build) its TLS handshake alone can pass the library's
 * 500 ms default, and a 404 or a chain a test expects would come back as
 * "timed out". A test of the timeouts sets its own. */
#define CERTSERVER_TIMEOUT_MS 10000

/* A fetch policy that reaches this server: its host and any port allowed,
 * its TLS certificate the only CA, CERTSERVER_TIMEOUT_MS. */
static inline void certserver_policy(const certserver *s, stir_fetch_policy *p)
{
    p->allow_any_port = 1;
    p->allow_hosts[0] = "127.0.0.1";
    p->n_allow_hosts = 1;
    p->tls_ca_file = s->tls;
    p->connect_timeout_ms = CERTSERVER_TIMEOUT_MS;
    p->total_timeout_ms = CERTSERVER_TIMEOUT_MS;
}

/*
 * The fixture of the tests that fetch: a library context, certserver.py
 * serving the mkpki.sh PKI (certserver_start) and, when `trust` is not
 * NULL, that PKI's root as the trust anchors. 0, or -1 for a cmocka group
 * setup to return.
 */
static inline int repo_start(certserver *s, const char *tag, stir_ctx **ctx, stir_trust **trust)
{
    stir_error err;
    if (!(*ctx = stir_ctx_new(&err)) || certserver_start(s, tag))
        return -1;
    if (!trust)
        return 0;
    char root[512];
    snprintf(root, sizeof root, "%s/root.pem", s->dir);
    *trust = stir_trust_load(root, &err);
    return *trust ? 0 : -1;
}

/* Undoes repo_start (trust may be NULL). */
static inline int repo_stop(certserver *s, stir_ctx *ctx, stir_trust *trust)
{
    stir_trust_free(trust);
    stir_ctx_free(ctx);
    return certserver_stop(s);
}

/* https://127.0.0.1:<port><path> */
static inline void certserver_url(const certserver *s, char *out, size_t n, const char *path)
{
    snprintf(out, n, "https://127.0.0.1:%d%s", s->port, path);
}

static inline size_t certserver_sink_(char *d, size_t sz, size_t n, void *u)
{
    json_t **out = u;
    json_error_t je;
    json_decref(*out);
    *out = json_loadb(d, sz * n, 0, &je);
    return sz * n;
}

/* GET `path` of the server with curl: its body as JSON, or NULL. */
static inline json_t *certserver_get_json(const certserver *s, const char *path)
{
    char u[256];
    certserver_url(s, u, sizeof u, path);
    json_t *j = NULL;
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, u);
    curl_easy_setopt(h, CURLOPT_CAINFO, s->tls);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, certserver_sink_);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &j);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    return j;
}

/* How many requests for `path` the server has seen (its /__hits). */
static inline long certserver_hits(const certserver *s, const char *path)
{
    json_t *j = certserver_get_json(s, "/__hits");
    assert_non_null(j);
    json_t *v = json_object_get(j, path);
    long r = v ? (long)json_integer_value(v) : 0;
    json_decref(j);
    return r;
}

#endif
