/*
 * TLS server contexts and client identities (see tls.h).
 */
#include "tls.h"
#include "holder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

/* TLS 1.2: ECDHE (forward secrecy) with an AEAD only. TLS 1.3's suites
 * are all AEAD and keep OpenSSL's default order. */
static const char TLS12_CIPHERS[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* The reason of the last OpenSSL error, for a start-up message. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "unknown error";
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca, char *err,
                        size_t errlen)
{
    static const unsigned char SID_CTX[] = "stird";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    struct stat st;

    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context: %s", ossl_reason());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    /* Partial writes and a moving write buffer: the connection layer
     * retries writes from wherever its output buffer has got to. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* Read what the socket has in one read(2), not a record header and
     * then its body (two reads, and a third that finds nothing): the
     * connection layer asks SSL_has_pending before waiting on epoll. */
    SSL_CTX_set_read_ahead(ctx, 1);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        snprintf(err, errlen, "TLS: cipher list refused: %s", ossl_reason());
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "TLS: cannot use the certificate chain %s: %s", cert, ossl_reason());
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "TLS: cannot use the key %s: %s", key, ossl_reason());
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "TLS: the key %s does not match the certificate %s", key, cert);
        goto fail;
    }
    /* Resumed sessions (the TLS 1.2 session cache) keep the verified
     * client certificate; the context id ties them to this server. No
     * TLS 1.3 tickets: making two per handshake (each carrying the client
     * certificate) more than doubled handshake + first request, 13.0 ms
     * to 5.7 ms median (docs/BENCHMARKS.md), and Ms clients keep their
     * connections open anyway. */
    SSL_CTX_set_session_id_context(ctx, SID_CTX, sizeof SID_CTX - 1);
    SSL_CTX_set_num_tickets(ctx, 0);
    if (client_ca) {
        int ok;
        if (stat(client_ca, &st) == 0 && S_ISDIR(st.st_mode)) {
            ok = SSL_CTX_load_verify_dir(ctx, client_ca);
        } else {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
            ok = SSL_CTX_load_verify_file(ctx, client_ca);
            if (names)
                SSL_CTX_set_client_CA_list(ctx, names);
        }
        if (ok != 1) {
            snprintf(err, errlen, "TLS: cannot load the client CAs %s: %s", client_ca,
                     ossl_reason());
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_verify_depth(ctx, 4);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* Copy an IA5String/UTF8String that holds no NUL; 0 when it does not fit. */
static int copy_asn1(char *out, size_t cap, const ASN1_STRING *s)
{
    int n = ASN1_STRING_length(s);
    const unsigned char *d = ASN1_STRING_get0_data(s);
    if (n <= 0 || (size_t)n >= cap || memchr(d, 0, (size_t)n))
        return 0;
    memcpy(out, d, (size_t)n);
    out[n] = '\0';
    return 1;
}

static int san_of_type(X509 *x, int type, char *out, size_t cap)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int found = 0;
    for (int i = 0; gens && !found && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == type)
            found = copy_asn1(out, cap, g->d.ia5);
    }
    GENERAL_NAMES_free(gens);
    return found;
}

void tls_client_identity(SSL *ssl, http_client *c)
{
    X509 *x = SSL_get0_peer_certificate(ssl);
    unsigned int mdlen = 0;

    if (!x || SSL_get_verify_result(ssl) != X509_V_OK)
        return;
    if (X509_digest(x, EVP_sha256(), c->cert_sha256, &mdlen) != 1 || mdlen != 32)
        return;
    c->has_cert = 1;
    if (san_of_type(x, GEN_URI, c->identity, sizeof c->identity) ||
        san_of_type(x, GEN_DNS, c->identity, sizeof c->identity))
        return;
    {
        X509_NAME *subj = X509_get_subject_name(x);
        int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        if (i >= 0)
            copy_asn1(c->identity, sizeof c->identity,
                      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
    }
}

/* A tls_slot is a holder (holder.h) of SSL_CTX: the swap and the
 * references of connections in flight are the holder's. */
static void ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

tls_slot *tls_slot_new(SSL_CTX *ctx)
{
    return (tls_slot *)holder_new(ctx, ctx_free);
}

tls_slot *tls_slot_load(const char *cert, const char *key, const char *client_ca, char *err,
                        size_t errlen)
{
    SSL_CTX *ctx = tls_server_ctx(cert, key, client_ca, err, errlen);
    tls_slot *t = ctx ? tls_slot_new(ctx) : NULL;
    if (ctx && !t) {
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "out of memory");
    }
    return t;
}

void tls_slot_free(tls_slot *t)
{
    holder_free((holder *)t);
}

SSL *tls_slot_ssl(tls_slot *t)
{
    holder_ref *r = holder_acquire((holder *)t);
    SSL *ssl = SSL_new(holder_obj(r)); /* SSL_new takes its own reference */
    holder_release(r);
    return ssl;
}

int tls_slot_swap(tls_slot *t, SSL_CTX *ctx)
{
    if (holder_swap((holder *)t, ctx) == 0)
        return 0;
    SSL_CTX_free(ctx);
    return -1;
}
