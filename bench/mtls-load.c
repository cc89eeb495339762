/*
 * A small load client for mutual TLS (wrk has no client certificates):
 * CONNS threads, each POSTing BODYFILE to PATH over its own connection for
 * SECONDS, either keeping the connection (ka) or making a new TLS
 * connection, full handshake with the client certificate, per request
 * (new). Prints "MTLS mode=.. rps=.. ok=.. errors=..".
 *
 *   cc -O2 -o mtls-load bench/mtls-load.c -lssl -lcrypto -lpthread
 *   mtls-load 127.0.0.1 8443 ca.pem client.pem client.key body.json \
 *             /stir/v1/signing 5 16 ka
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx;
static struct sockaddr_in addr;
static char *request;
static size_t request_len;
static int new_conn;
static double stop_at;
static atomic_long ok, errors;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static SSL *open_tls(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    SSL *ssl;
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    return ssl;
}

static void close_tls(SSL *ssl)
{
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    close(fd);
}

/* One request and its response; the HTTP status, or -1. */
static int exchange(SSL *ssl)
{
    char buf[16384];
    size_t len = 0;
    long cl = -1;
    char *body;
    if (SSL_write(ssl, request, (int)request_len) != (int)request_len)
        return -1;
    for (;;) {
        int n = SSL_read(ssl, buf + len, (int)(sizeof buf - 1 - len));
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        body = strstr(buf, "\r\n\r\n");
        if (body) {
            char *h = strcasestr(buf, "\r\nContent-Length:");
            if (h && h < body)
                cl = strtol(h + 17, NULL, 10);
            if (cl >= 0 && (size_t)(buf + len - (body + 4)) >= (size_t)cl)
                return atoi(buf + 9);
        }
        if (len >= sizeof buf - 1)
            return -1;
    }
}

static void *run(void *unused)
{
    SSL *ssl = NULL;
    (void)unused;
    while (now() < stop_at) {
        int st;
        if (!ssl && !(ssl = open_tls())) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        st = exchange(ssl);
        if (st == 200)
            atomic_fetch_add(&ok, 1);
        else
            atomic_fetch_add(&errors, 1);
        if (new_conn || st < 0) {
            close_tls(ssl);
            ssl = NULL;
        }
    }
    if (ssl)
        close_tls(ssl);
    return NULL;
}

int main(int argc, char **argv)
{
    FILE *f;
    char body[65536];
    size_t blen;
    int secs, conns;
    pthread_t th[256];
    double t0;

    if (argc != 11) {
        fprintf(stderr, "usage: %s HOST PORT CA CERT KEY BODYFILE PATH SECONDS CONNS ka|new\n",
                argv[0]);
        return 2;
    }
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &addr.sin_addr);
    ctx = SSL_CTX_new(TLS_client_method());
    if (SSL_CTX_load_verify_file(ctx, argv[3]) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* full handshakes */
    if (!(f = fopen(argv[6], "rb")))
        return 1;
    blen = fread(body, 1, sizeof body, f);
    fclose(f);
    request = malloc(blen + 512);
    request_len = (size_t)snprintf(request, 512,
                                   "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json"
                                   "\r\nContent-Length: %zu\r\n\r\n",
                                   argv[7], argv[1], blen);
    memcpy(request + request_len, body, blen);
    request_len += blen;
    secs = atoi(argv[8]);
    conns = atoi(argv[9]);
    if (conns < 1 || conns > 256)
        return 2;
    new_conn = strcmp(argv[10], "new") == 0;
    t0 = now();
    stop_at = t0 + secs;
    for (int i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, run, NULL);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    printf("MTLS mode=%s rps=%.1f ok=%ld errors=%ld\n", argv[10],
           (double)atomic_load(&ok) / (now() - t0), atomic_load(&ok), atomic_load(&errors));
    return 0;
}
