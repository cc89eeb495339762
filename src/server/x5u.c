/*
 * The x5u certificate server (see x5u.h). It serves one fixed document,
 * so the response is built once and shared by every request.
 */
#include "x5u.h"
#include "http.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stir/stir.h>

#define CHAIN_PATH "/cert/chain.pem"
#define PEM_FILE_MAX (1024 * 1024)

struct x5u_server {
    struct MHD_Daemon *d;
    struct MHD_Response *chain;
    unsigned port;
    char *chain_pem;
    char *tls_cert;
    char *tls_key;           /* wiped on stop */
    size_t tls_key_len;
};

static const char NOT_FOUND[] = "not found\n";

/* Read a whole (small) file as a NUL-terminated string. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    struct stat st;

    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || st.st_size > PEM_FILE_MAX) {
        snprintf(err, errlen, "cannot read %s: empty, not a file, or larger than %d bytes", path,
                 PEM_FILE_MAX);
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct x5u_server *s = cls;
    const union MHD_ConnectionInfo *ci;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    unsigned status;
    struct timespec t0, t1;
    static char answered;
    (void)version;
    (void)upload_data;

    if (*con_cls) {                /* a body we never asked for: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    *con_cls = &answered;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (strcmp(url, CHAIN_PATH) != 0) {
        status = 404;
        resp = MHD_create_response_from_buffer(sizeof NOT_FOUND - 1, (void *)NOT_FOUND,
                                               MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    } else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
               strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        status = 405;
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    } else {
        status = 200;
        resp = s->chain;
    }
    if (!resp)
        return MHD_NO;
    ret = MHD_queue_response(c, status, resp);
    if (resp != s->chain)
        MHD_destroy_response(resp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    {
        http_client client;
        log_client_from_sockaddr(&client, ci ? ci->client_addr : NULL);
        log_access(&(log_access_rec){
            .tag = "x5u", .client = &client, .method = method, .path = url, .status = status,
            .latency_us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000LL +
                          (t1.tv_nsec - t0.tv_nsec) / 1000});
    }
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    *con_cls = NULL;
}

static void free_server(x5u_server *s)
{
    if (s->chain)
        MHD_destroy_response(s->chain);
    free(s->chain_pem);
    free(s->tls_cert);
    if (s->tls_key) {
        OPENSSL_cleanse(s->tls_key, s->tls_key_len);
        free(s->tls_key);
    }
    free(s);
}

x5u_server *x5u_start(const stird_config *cfg, char *err, size_t errlen)
{
    x5u_server *s = calloc(1, sizeof *s);
    stir_error e;
    stir_cert *chain;
    const char *pem;
    size_t len = 0;
    int fd;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Publish the chain exactly as libstir parsed it: a file that does not
     * parse as a certificate chain is refused here, not by every verifier. */
    memset(&e, 0, sizeof e);
    chain = stir_cert_load(cfg->cert, &e);
    if (!chain) {
        snprintf(err, errlen, "x5u server: certificate chain %s: %s", cfg->cert, e.detail);
        goto fail;
    }
    pem = stir_cert_pem(chain, &len);
    s->chain_pem = pem ? strndup(pem, len) : NULL;
    stir_cert_unref(chain);
    if (!s->chain_pem) {
        snprintf(err, errlen, "x5u server: cannot serialize %s", cfg->cert);
        goto fail;
    }
    s->chain = MHD_create_response_from_buffer(len, s->chain_pem, MHD_RESPMEM_PERSISTENT);
    if (!s->chain) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    MHD_add_response_header(s->chain, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/pem-certificate-chain");
    MHD_add_response_header(s->chain, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=86400");

    if (!(s->tls_cert = read_file(cfg->x5u_tls_cert, &len, err, errlen)) ||
        !(s->tls_key = read_file(cfg->x5u_tls_key, &s->tls_key_len, err, errlen)))
        goto fail;

    s->port = cfg->x5u_listen.port;
    fd = http_listen_socket(&cfg->x5u_listen, &s->port, err, errlen);
    if (fd < 0)
        goto fail;
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_TLS |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, &on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, NULL,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                            MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert,
                            MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                            MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen,
                 "x5u server: cannot start HTTPS on port %u (is %s / %s a valid PEM certificate "
                 "and key pair?)",
                 s->port, cfg->x5u_tls_cert, cfg->x5u_tls_key);
        close(fd);
        goto fail;
    }
    return s;
fail:
    free_server(s);
    return NULL;
}

unsigned x5u_port(const x5u_server *s)
{
    return s->port;
}

void x5u_stop(x5u_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free_server(s);
}
