/*
 * STI certificate chains and trust anchors (RFC 8226, RFC 9060, ATIS-1000080
 * leaf profile) on top of OpenSSL 3 X509 / X509_STORE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "stir/cert.h"
#include "crl.h"
#include "internal.h"

#define TNAUTH_OID "1.3.6.1.5.5.7.1.26"
#define JCC_OID "1.3.6.1.5.5.7.1.27"  /* RFC 8226 8 */
#define EJCC_OID "1.3.6.1.5.5.7.1.33" /* RFC 9118 3 */
#define TRUST_FILE_MAX (4u << 20)     /* a trust bundle larger than this is not one */
#define CERT_FILE_MAX (1u << 20)
#define NAME_MAX_TXT 200         /* DN text kept in details */
#define PEM_BODY_MAX (16u << 20) /* matches the largest fetch max_bytes */
#define PEM_BLOCK_MAX 65536      /* one certificate; real ones are < 4 KiB */

/* ---- helpers ------------------------------------------------------------ */

void sti_iso8601(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 32, "(invalid time)");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int sti_asn1_time(const ASN1_TIME *a, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!a || !ASN1_TIME_to_tm(a, &tm))
        return -1;
    *out = timegm(&tm);
    return 0;
}

/* Bytes above 0x7f are escaped (\XX), so cutting the text short never
 * splits a UTF-8 sequence and the detail stays valid JSON. */
void sti_name_text(const X509_NAME *n, char *out, size_t outlen)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ) >= 0) {
        char *data = NULL;
        long len = BIO_get_mem_data(b, &data);
        if (len < 0)
            len = 0;
        if ((size_t)len >= outlen)
            len = (long)outlen - 1;
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(b);
}

/* Read a whole file, NUL-terminated, refusing files larger than max. */
static int read_file(const char *path, size_t max, char **buf, size_t *len, stir_error *err)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read %s: not a regular file", path);
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read %s: larger than %zu bytes",
                         path, max);
    }
    char *b = malloc((size_t)st.st_size + 1);
    if (!b) {
        close(fd);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    b[got] = '\0';
    *buf = b;
    *len = got;
    return 0;
}

/* ---- trust anchors -------------------------------------------------------- */

struct stir_trust {
    X509_STORE *store;
    size_t n;
};

/* Never prompt for a PEM pass phrase (OpenSSL's default reads the tty). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/* Add every CERTIFICATE block of `pem` to the store; other blocks are skipped. */
static int trust_add_pem(stir_trust *t, const char *pem, size_t len, const char *origin,
                         stir_error *err)
{
    if (len > TRUST_FILE_MAX)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "trust anchors in %s: too large", origin);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    size_t added = 0;
    ERR_clear_error();
    for (;;) {
        X509 *x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
        if (!x)
            break;
        if (!X509_STORE_add_cert(t->store, x)) {
            X509_free(x);
            BIO_free(b);
            ERR_clear_error();
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot add trust anchor from %s",
                             origin);
        }
        X509_free(x);
        added++;
    }
    BIO_free(b);
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        return stir_fail(err, STIR_ERR_INTERNAL, NULL,
                         "trust anchors in %s: certificate %zu is malformed", origin, added + 1);
    t->n += added;
    return 0;
}

static stir_trust *trust_new(stir_error *err)
{
    stir_trust *t = calloc(1, sizeof *t);
    if (t)
        t->store = X509_STORE_new();
    if (!t || !t->store) {
        free(t);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    return t;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a > b && strcmp(s + a - b, suf) == 0;
}

static int trust_add_file(stir_trust *t, const char *path, stir_error *err)
{
    char *buf;
    size_t len;
    int rc = read_file(path, TRUST_FILE_MAX, &buf, &len, err);
    if (rc)
        return rc;
    rc = trust_add_pem(t, buf, len, path, err);
    free(buf);
    return rc;
}

stir_trust *stir_trust_load(const char *path, stir_error *err)
{
    if (!path || !*path) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "trust anchor path is empty");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read trust anchors %s: %s", path,
                  strerror(errno));
        return NULL;
    }
    stir_trust *t = trust_new(err);
    if (!t)
        return NULL;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot read trust anchors %s: %s", path,
                      strerror(errno));
            goto fail;
        }
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' ||
                !(has_suffix(de->d_name, ".pem") || has_suffix(de->d_name, ".crt")))
                continue;
            char full[4096];
            if ((size_t)snprintf(full, sizeof full, "%s/%s", path, de->d_name) >= sizeof full) {
                closedir(d);
                stir_fail(err, STIR_ERR_INTERNAL, NULL, "trust anchor path too long in %s", path);
                goto fail;
            }
            if (trust_add_file(t, full, err)) {
                closedir(d);
                goto fail;
            }
            errno = 0;
        }
        int e = errno;
        closedir(d);
        if (e) {
            stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot list trust anchors %s: %s", path,
                      strerror(e));
            goto fail;
        }
    } else if (trust_add_file(t, path, err)) {
        goto fail;
    }
    if (t->n == 0) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "no certificate found in trust anchors %s", path);
        goto fail;
    }
    return t;
fail:
    stir_trust_free(t);
    return NULL;
}

stir_trust *stir_trust_from_pem(const char *pem, size_t len, stir_error *err)
{
    if (!pem) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "trust anchor PEM is NULL");
        return NULL;
    }
    stir_trust *t = trust_new(err);
    if (!t)
        return NULL;
    if (trust_add_pem(t, pem, len, "(memory)", err))
        goto fail;
    if (t->n == 0) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "no certificate found in trust anchor PEM");
        goto fail;
    }
    return t;
fail:
    stir_trust_free(t);
    return NULL;
}

void stir_trust_free(stir_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    free(t);
}

size_t stir_trust_count(const stir_trust *t)
{
    return t ? t->n : 0;
}

/* ---- chains --------------------------------------------------------------- */

struct stir_cert {
    atomic_int refs;
    X509 *x[STIR_CHAIN_MAX_CERTS]; /* x[0] = leaf, then its issuers */
    size_t n;
    STACK_OF(X509) * untrusted; /* x[1..n-1], for path building */
    char *pem;                  /* the body as received */
    size_t pem_len;
    time_t not_before, not_after; /* intersection over x[] */
    int has_tnauth;               /* extension present */
    int tnauth_rc;                /* its parse outcome */
    stir_error tnauth_err;
    stir_tnauth tnauth;
    stir_jcc *jcc; /* NULL: no claim constraints */
    int jcc_rc;    /* parse outcome of both extensions */
    stir_error jcc_err;
    STACK_OF(X509) * path; /* validated path, leaf..anchor (crl.c) */
};

static void cert_destroy(stir_cert *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        X509_free(c->x[i]);
    sk_X509_free(c->untrusted);
    sk_X509_pop_free(c->path, X509_free);
    stir_jcc_clear(c->jcc);
    free(c->jcc);
    free(c->pem);
    free(c);
}

static int is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Decode one "-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----"
 * block into an X509, requiring pure base64 (no PEM headers) and DER with
 * no trailing bytes. */
static X509 *decode_block(const char *blk, size_t blen, size_t idx, stir_error *err)
{
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    X509 *x = NULL;
    /* PEM_read_bio_ex wants the END line newline-terminated, which the last
     * block of a body need not be. */
    char *copy = malloc(blen + 2);
    BIO *b = copy ? BIO_new_mem_buf(copy, (int)blen + 1) : NULL;
    if (!b) {
        free(copy);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    memcpy(copy, blk, blen);
    copy[blen] = '\n';
    copy[blen + 1] = '\0';
    if (PEM_read_bio_ex(b, &name, &header, &data, &dlen, PEM_FLAG_ONLY_B64) != 1 ||
        strcmp(name, PEM_STRING_X509) != 0) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                  "x5u body: certificate %zu is not valid PEM (bad base64 or headers)", idx);
        goto out;
    }
    const unsigned char *p = data;
    x = d2i_X509(NULL, &p, dlen);
    if (!x) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                  "x5u body: certificate %zu is not a valid X.509 certificate", idx);
        goto out;
    }
    if (p != data + dlen) {
        X509_free(x);
        x = NULL;
        stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                  "x5u body: certificate %zu has trailing data after its DER", idx);
    }
out:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    BIO_free(b);
    free(copy);
    ERR_clear_error();
    return x;
}

static const char *find_str(const char *hay, const char *end, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *p = hay; p + nl <= end; p++)
        if (*p == needle[0] && memcmp(p, needle, nl) == 0)
            return p;
    return NULL;
}

/* Leaf TNAuthList: remember presence and the parse outcome (reported by
 * stir_cert_validate, so that parsing a chain never fails on profile). */
static void load_tnauth(stir_cert *c)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(TNAUTH_OID, 1);
    if (!obj) {
        c->tnauth_rc =
            stir_fail(&c->tnauth_err, STIR_ERR_INTERNAL, NULL, "cannot create the TNAuthList OID");
        return;
    }
    int idx = X509_get_ext_by_OBJ(c->x[0], obj, -1);
    if (idx >= 0) {
        c->has_tnauth = 1;
        if (X509_get_ext_by_OBJ(c->x[0], obj, idx) >= 0) {
            c->tnauth_rc = stir_fail(&c->tnauth_err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                                     "certificate has two TNAuthList extensions");
        } else {
            X509_EXTENSION *ext = X509_get_ext(c->x[0], idx);
            ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(ext);
            c->tnauth_rc =
                stir_tnauth_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os),
                                  &c->tnauth, &c->tnauth_err);
        }
    }
    ASN1_OBJECT_free(obj);
}

/* One leaf constraint extension into c->jcc; 0 when absent. */
static int load_jcc_ext(stir_cert *c, const char *oid, int enhanced)
{
    const char *name = enhanced ? "EnhancedJWTClaimConstraints" : "JWTClaimConstraints";
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    if (!obj)
        return stir_fail(&c->jcc_err, STIR_ERR_INTERNAL, NULL, "cannot create the %s OID", name);
    int rc = 0, idx = X509_get_ext_by_OBJ(c->x[0], obj, -1);
    if (idx >= 0 && X509_get_ext_by_OBJ(c->x[0], obj, idx) >= 0) {
        rc = stir_fail(&c->jcc_err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                       "%s: the extension appears twice", name);
    } else if (idx >= 0) {
        if (!c->jcc && !(c->jcc = calloc(1, sizeof *c->jcc))) {
            rc = stir_fail(&c->jcc_err, STIR_ERR_INTERNAL, NULL, "out of memory");
        } else {
            ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(c->x[0], idx));
            rc = stir_jcc_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), enhanced,
                                c->jcc, &c->jcc_err);
        }
    }
    ASN1_OBJECT_free(obj);
    return rc;
}

/* Leaf JWT Claim Constraints, parsed once here; like the TNAuthList, a
 * malformed one is reported by stir_cert_validate. RFC 9118 has issuers
 * not put both extensions in one certificate; if one does, both bind. */
static void load_jcc(stir_cert *c)
{
    c->jcc_rc = load_jcc_ext(c, JCC_OID, 0);
    if (!c->jcc_rc)
        c->jcc_rc = load_jcc_ext(c, EJCC_OID, 1);
    if (c->jcc_rc) {
        stir_jcc_clear(c->jcc);
        free(c->jcc);
        c->jcc = NULL;
    }
}

stir_cert *stir_cert_parse_pem(const char *pem, size_t len, stir_error *err)
{
    static const char begin[] = "-----BEGIN ";
    static const char dashes[] = "-----";
    static const char end_cert[] = "-----END CERTIFICATE-----";

    if (!pem) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_cert_parse_pem: NULL body");
        return NULL;
    }
    if (memchr(pem, '\0', len)) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u body is not PEM (contains a NUL byte)");
        return NULL;
    }
    if (len > PEM_BODY_MAX) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u body of %zu bytes is too large", len);
        return NULL;
    }
    const char *end = pem + len;
    /* Looked for first and anywhere: publishing a key is the worst mistake
     * an x5u body can hold, and the operator must be told exactly that. */
    if (find_str(pem, end, "PRIVATE KEY-----")) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u body contains a private key");
        return NULL;
    }
    stir_cert *c = calloc(1, sizeof *c);
    if (!c || !(c->pem = malloc(len + 1)) || !(c->untrusted = sk_X509_new_null())) {
        cert_destroy(c);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    memcpy(c->pem, pem, len);
    c->pem[len] = '\0';
    c->pem_len = len;
    atomic_init(&c->refs, 1);

    const char *p = pem;
    for (;;) {
        while (p < end && is_ws(*p))
            p++;
        if (p == end)
            break;
        if ((size_t)(end - p) < sizeof begin - 1 || memcmp(p, begin, sizeof begin - 1) != 0) {
            if (c->n == 0)
                stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                          "x5u body is not PEM (no -----BEGIN line at its start)");
            else
                stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                          "x5u body has unexpected text at byte %zu, after certificate %zu",
                          (size_t)(p - pem), c->n);
            goto fail;
        }
        const char *label = p + sizeof begin - 1;
        const char *lend = find_str(label, end, dashes);
        const char *eol = memchr(label, '\n', (size_t)(end - label));
        if (!lend || (eol && eol < lend) || lend - label > 64) {
            stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                      "x5u body has a malformed -----BEGIN line at byte %zu", (size_t)(p - pem));
            goto fail;
        }
        size_t llen = (size_t)(lend - label);
        if (llen != strlen(PEM_STRING_X509) || memcmp(label, PEM_STRING_X509, llen) != 0) {
            char lab[65];
            size_t k;
            for (k = 0; k < llen; k++)
                lab[k] = (label[k] >= 0x20 && label[k] < 0x7f) ? label[k] : '?';
            lab[k] = '\0';
            stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                      "x5u body contains a \"%s\" PEM block; only CERTIFICATE is allowed", lab);
            goto fail;
        }
        const char *e = find_str(lend, end, end_cert);
        if (!e) {
            stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                      "x5u body: certificate %zu has no -----END CERTIFICATE----- line", c->n + 1);
            goto fail;
        }
        e += sizeof end_cert - 1;
        if ((size_t)(e - p) > PEM_BLOCK_MAX) {
            stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                      "x5u body: certificate %zu is larger than %u bytes", c->n + 1, PEM_BLOCK_MAX);
            goto fail;
        }
        if (c->n == STIR_CHAIN_MAX_CERTS) {
            stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u body has more than %d certificates",
                      STIR_CHAIN_MAX_CERTS);
            goto fail;
        }
        X509 *x = decode_block(p, (size_t)(e - p), c->n + 1, err);
        if (!x)
            goto fail;
        c->x[c->n++] = x;
        p = e;
    }
    if (c->n == 0) {
        stir_fail(err, STIR_ERR_BAD_INFO, NULL, "x5u body has no certificate");
        goto fail;
    }
    /* Order is not checked here: X509_verify_cert builds the path from the
     * intermediates whatever their order, and RFC 9060 ordering is a
     * publisher duty that does not change what the chain proves. */
    for (size_t i = 1; i < c->n; i++) {
        if (!sk_X509_push(c->untrusted, c->x[i])) {
            stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
            goto fail;
        }
    }
    c->not_before = 0;
    c->not_after = 0;
    for (size_t i = 0; i < c->n; i++) {
        time_t nb, na;
        if (sti_asn1_time(X509_get0_notBefore(c->x[i]), &nb) ||
            sti_asn1_time(X509_get0_notAfter(c->x[i]), &na)) {
            stir_fail(err, STIR_ERR_BAD_INFO, NULL,
                      "x5u body: certificate %zu has an unreadable validity period", i + 1);
            goto fail;
        }
        if (i == 0 || nb > c->not_before)
            c->not_before = nb;
        if (i == 0 || na < c->not_after)
            c->not_after = na;
    }
    load_tnauth(c);
    load_jcc(c);
    ERR_clear_error();
    return c;
fail:
    ERR_clear_error();
    cert_destroy(c);
    return NULL;
}

stir_cert *stir_cert_load(const char *path, stir_error *err)
{
    char *buf;
    size_t len;
    if (!path) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "certificate path is NULL");
        return NULL;
    }
    if (read_file(path, CERT_FILE_MAX, &buf, &len, err))
        return NULL;
    stir_cert *c = stir_cert_parse_pem(buf, len, err);
    free(buf);
    return c;
}

stir_cert *stir_cert_ref(stir_cert *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void stir_cert_unref(stir_cert *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        cert_destroy(c);
}

/* ---- validation ----------------------------------------------------------- */

static void key_text(EVP_PKEY *k, char *out, size_t outlen)
{
    if (!k) {
        snprintf(out, outlen, "no key");
        return;
    }
    int id = EVP_PKEY_get_base_id(k);
    if (id == EVP_PKEY_EC) {
        char g[64] = "";
        size_t gl = 0;
        if (!EVP_PKEY_get_group_name(k, g, sizeof g, &gl))
            snprintf(g, sizeof g, "unknown curve");
        snprintf(out, outlen, "EC %s", g);
    } else if (id == EVP_PKEY_RSA) {
        snprintf(out, outlen, "RSA-%d", EVP_PKEY_get_bits(k));
    } else {
        const char *n = EVP_PKEY_get0_type_name(k);
        snprintf(out, outlen, "%s", n ? n : "unknown type");
    }
}

static int is_p256(EVP_PKEY *k)
{
    char g[64] = "";
    size_t gl = 0;
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
        !EVP_PKEY_get_group_name(k, g, sizeof g, &gl))
        return 0;
    return strcmp(g, "prime256v1") == 0 || strcmp(g, "P-256") == 0 || strcmp(g, "secp256r1") == 0;
}

static int map_verify_error(const stir_cert *c, X509_STORE_CTX *ctx, stir_error *err)
{
    int e = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    char subj[NAME_MAX_TXT] = "?", ts[32];
    if (cur)
        sti_name_text(X509_get_subject_name(cur), subj, sizeof subj);
    time_t t;
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        if (!cur || sti_asn1_time(X509_get0_notAfter(cur), &t))
            t = 0;
        sti_iso8601(t, ts);
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "certificate expired %s (depth %d: %s)", ts, depth, subj);
    case X509_V_ERR_CERT_NOT_YET_VALID:
        if (!cur || sti_asn1_time(X509_get0_notBefore(cur), &t))
            t = 0;
        sti_iso8601(t, ts);
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "certificate not valid before %s (depth %d: %s)", ts, depth, subj);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED: {
        char iss[NAME_MAX_TXT];
        sti_name_text(X509_get_issuer_name(c->x[c->n - 1]), iss, sizeof iss);
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "untrusted root: issuer %s is not a trusted STI root", iss);
    }
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "chain signature invalid (depth %d: %s)", depth, subj);
    case X509_V_ERR_INVALID_CA:
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "chain invalid: issuer at depth %d is not a CA (%s)", depth, subj);
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "chain invalid: path length constraint exceeded at depth %d (%s)", depth,
                         subj);
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                         "chain invalid: issuer at depth %d lacks keyCertSign (%s)", depth, subj);
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "chain invalid: too long");
    default:
        return stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "chain invalid at depth %d (%s): %s",
                         depth, subj, X509_verify_cert_error_string(e));
    }
}

int stir_cert_validate(stir_cert *c, const stir_trust *t, time_t at, stir_error *err)
{
    if (!c || !t)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_cert_validate: NULL argument");
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!ctx)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    int rc = 0;
    if (!X509_STORE_CTX_init(ctx, t->store, c->x[0], c->untrusted)) {
        rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot initialize chain validation");
        goto out;
    }
    /* Sets X509_V_FLAG_USE_CHECK_TIME. X509_STRICT enforces RFC 5280 rules the
     * SHAKEN profile mandates anyway (AKI/SKI present, critical CA basic
     * constraints, no explicit EC parameters). */
    X509_STORE_CTX_set_time(ctx, 0, at);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
    if (X509_verify_cert(ctx) != 1) {
        rc = map_verify_error(c, ctx, err);
        goto out;
    }
    /* Kept for the revocation check, which needs each certificate's issuer
     * up to the anchor (crl.c). Validation runs before the chain is shared. */
    sk_X509_pop_free(c->path, X509_free);
    c->path = X509_STORE_CTX_get1_chain(ctx);

    /* STI leaf profile (RFC 8226 section 4, ATIS-1000080 6.4.1). */
    X509 *leaf = c->x[0];
    EVP_PKEY *k = X509_get0_pubkey(leaf);
    if (!is_p256(k)) {
        char kt[80];
        key_text(k, kt, sizeof kt);
        rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "certificate key is not P-256 (%s)",
                       kt);
        goto out;
    }
    /* Only end-entity certificates sign PASSporTs (RFC 9060 section 4). */
    if (X509_check_ca(leaf) == 1) {
        rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                       "signing certificate is a CA certificate (cA TRUE)");
        goto out;
    }
    if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
        rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                       "certificate keyUsage lacks digitalSignature");
        goto out;
    }
    if (!c->has_tnauth) {
        rc = stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL,
                       "certificate has no TNAuthList extension");
        goto out;
    }
    if (c->tnauth_rc) {
        rc =
            stir_fail(err, STIR_ERR_UNSUPPORTED_CRED, NULL, "certificate %s", c->tnauth_err.detail);
        goto out;
    }
    /* Constraints that cannot be read cannot be enforced. */
    rc = stir_cert_jcc_status(c, err);
out:
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

STACK_OF(X509) * sti_cert_path0(const stir_cert *c)
{
    return c ? c->path : NULL;
}

time_t stir_cert_not_before(const stir_cert *c)
{
    return c ? c->not_before : 0;
}

time_t stir_cert_not_after(const stir_cert *c)
{
    return c ? c->not_after : 0;
}

EVP_PKEY *stir_cert_pubkey(const stir_cert *c)
{
    return c ? X509_get0_pubkey(c->x[0]) : NULL;
}

const stir_tnauth *stir_cert_tnauth(const stir_cert *c)
{
    return (c && c->has_tnauth && c->tnauth_rc == 0) ? &c->tnauth : NULL;
}

const stir_jcc *stir_cert_jcc(const stir_cert *c)
{
    return (c && c->jcc_rc == 0) ? c->jcc : NULL;
}

int stir_cert_jcc_status(const stir_cert *c, stir_error *err)
{
    if (!c)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "stir_cert_jcc_status: NULL certificate");
    if (!c->jcc_rc)
        return 0;
    return stir_fail(err, c->jcc_rc, NULL, "certificate %s", c->jcc_err.detail);
}

char *stir_cert_describe(const stir_cert *c)
{
    if (!c)
        return NULL;
    char subj[NAME_MAX_TXT], iss[NAME_MAX_TXT], nb[32], na[32], scope[96] = "";
    time_t t0 = 0, t1 = 0;
    sti_name_text(X509_get_subject_name(c->x[0]), subj, sizeof subj);
    sti_name_text(X509_get_issuer_name(c->x[0]), iss, sizeof iss);
    sti_asn1_time(X509_get0_notBefore(c->x[0]), &t0);
    sti_asn1_time(X509_get0_notAfter(c->x[0]), &t1);
    sti_iso8601(t0, nb);
    sti_iso8601(t1, na);
    const stir_tnauth *ta = stir_cert_tnauth(c);
    if (!c->has_tnauth) {
        snprintf(scope, sizeof scope, "no TNAuthList");
    } else if (!ta) {
        snprintf(scope, sizeof scope, "malformed TNAuthList");
    } else {
        size_t off = 0, i;
        for (i = 0; i < ta->n && off + 40 < sizeof scope; i++) {
            const stir_tnauth_entry *e = &ta->e[i];
            const char *sep = i ? ", " : "";
            int w;
            if (e->kind == STIR_TNAUTH_SPC)
                w = snprintf(scope + off, sizeof scope - off, "%sSPC %s", sep, e->value);
            else if (e->kind == STIR_TNAUTH_ONE)
                w = snprintf(scope + off, sizeof scope - off, "%sTN %s", sep, e->value);
            else
                w = snprintf(scope + off, sizeof scope - off, "%sTN %s+%lu", sep, e->value,
                             e->count);
            if (w < 0)
                break;
            off += (size_t)w;
        }
        if (i < ta->n)
            snprintf(scope + off, sizeof scope - off, ", ...");
    }
    char *out = NULL;
    if (asprintf(&out, "subject=%s; issuer=%s; valid %s..%s; %s; %zu certificate%s", subj, iss, nb,
                 na, scope, c->n, c->n == 1 ? "" : "s") < 0)
        return NULL;
    return out;
}

const char *stir_cert_pem(const stir_cert *c, size_t *len)
{
    if (!c) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = c->pem_len;
    return c->pem;
}

int stir_cert_matches_key(const stir_cert *c, EVP_PKEY *priv)
{
    if (!c || !priv)
        return 0;
    EVP_PKEY *pub = X509_get0_pubkey(c->x[0]);
    int r = pub && EVP_PKEY_eq(pub, priv) == 1;
    ERR_clear_error();
    return r;
}
