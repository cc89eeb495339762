/*
 * The x5u certificate server (see x5u.h): a listener of the connection
 * layer (conn.h) over HTTPS. It serves one fixed document, so the body is
 * built once and shared by every response.
 */
#include "x5u.h"
#include "conn.h"
#include "holder.h"
#include "http.h"
#include "log.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stir/stir.h>

#define CHAIN_PATH "/cert/chain.pem"

struct x5u_server {
    conn_server *conns;
    tls_slot *tls;
    unsigned port;
    holder *doc; /* struct doc, swapped by x5u_reload */
};

/* The chain document. A reply points into it without a copy and holds a
 * reference (holder.h) until it is sent, so one that a reload replaced is
 * freed when its last reply is out. */
struct doc {
    size_t len;
    char pem[];
};

static struct doc *load_doc(const char *cert, char *err, size_t errlen)
{
    stir_error e;
    stir_cert *chain;
    const char *pem;
    size_t len = 0;
    struct doc *d = NULL;

    /* Publish the chain exactly as libstir parsed it: a file that does not
     * parse as a certificate chain is refused here, not by every verifier. */
    memset(&e, 0, sizeof e);
    chain = stir_cert_load(cert, &e);
    if (!chain) {
        snprintf(err, errlen, "x5u server: certificate chain %s: %s", cert, e.detail);
        return NULL;
    }
    pem = stir_cert_pem(chain, &len);
    if (pem && (d = malloc(sizeof *d + len + 1))) {
        d->len = len;
        memcpy(d->pem, pem, len);
        d->pem[len] = '\0';
    }
    stir_cert_unref(chain);
    if (!d)
        snprintf(err, errlen, "x5u server: cannot serialize %s", cert);
    return d;
}

/* conn_set_data_done: the reply that pointed into the document is sent. */
static void reply_sent(void *arg, conn *c)
{
    (void)arg;
    holder_release((holder_ref *)conn_data(c));
}

/* Everything is answered from the request line and headers. */
static int x5u_headers(void *arg, conn *c, http_reply *r)
{
    struct x5u_server *s = arg;
    const char *m = conn_method(c);
    char detail[300], path[220];

    r->resource = "x5u";
    if (strcmp(conn_path(c), CHAIN_PATH) != 0) {
        http_clean_text(path, sizeof path, conn_path(c));
        snprintf(detail, sizeof detail, "no document at %s; the chain is at " CHAIN_PATH, path);
        http_problem(r, 404, "Not Found", detail, NULL, NULL, NULL);
    } else if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
        http_problem(r, 405, "Method Not Allowed", "use GET", NULL, NULL, NULL);
        r->allow = "GET, HEAD";
    } else {
        holder_ref *ref = holder_acquire(s->doc);
        const struct doc *d = holder_obj(ref);
        conn_set_data_done(c, ref, reply_sent, NULL);
        r->status = 200;
        r->content_type = "application/pem-certificate-chain";
        r->body = (char *)d->pem;
        r->len = d->len;
        r->body_static = 1;
        http_reply_header(r, "Cache-Control", "max-age=86400");
    }
    return 1;
}

static const conn_handler X5U_HANDLER = {x5u_headers, conn_no_request};

static void free_server(x5u_server *s)
{
    tls_slot_free(s->tls);
    holder_free(s->doc);
    free(s);
}

x5u_server *x5u_start(const stird_config *cfg, char *err, size_t errlen)
{
    x5u_server *s = calloc(1, sizeof *s);
    int fd;
    conn_listener l;
    conn_limits lim = {
        .threads = 1,
        .max_connections = 256,
        .max_per_client = 64,
        .request_timeout_ms = 10000,
        .idle_timeout_ms = 10000,
        .max_header_bytes = 8192,
        .max_body = 1024,
    };

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    {
        struct doc *d = load_doc(cfg->cert, err, errlen);
        if (!d)
            goto fail;
        if (!(s->doc = holder_new(d, free))) {
            free(d);
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (!(s->tls = tls_slot_load(cfg->x5u_tls_cert, cfg->x5u_tls_key, NULL, err, errlen)))
        goto fail;
    s->port = cfg->x5u_listen.port;
    fd = http_listen_socket(&cfg->x5u_listen, &s->port, err, errlen);
    if (fd < 0)
        goto fail;
    l = (conn_listener){"x5u", fd, s->tls, &X5U_HANDLER, s};
    s->conns = conn_server_start(&lim, &l, 1, err, errlen);
    if (!s->conns) {
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
    conn_server_stop(s->conns);
    free_server(s);
}

int x5u_reload(x5u_server *s, const stird_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx;
    struct doc *d = load_doc(cfg->cert, err, errlen);

    if (!d)
        return -1;
    ctx = tls_server_ctx(cfg->x5u_tls_cert, cfg->x5u_tls_key, NULL, err, errlen);
    if (!ctx) {
        free(d);
        return -1;
    }
    /* The TLS certificate first: if the chain then cannot go in, the old
     * chain still matches the old signing key, which the caller keeps.
     * (The repository's TLS certificate is not tied to the signing key.) */
    if (tls_slot_swap(s->tls, ctx) != 0) { /* it freed ctx */
        free(d);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (holder_swap(s->doc, d) != 0) {
        free(d);
        snprintf(err, errlen, "out of memory: the new x5u chain is not served");
        return -1;
    }
    return 0;
}
