/*
 * A lab STIR/SHAKEN PKI made with the OpenSSL 3 API: STI-PA root, STI-CA
 * intermediate, SP leaf with a TNAuthList SPC (ATIS-1000080 6.4.1 shape, see
 * certificates.md sections 4 and 9), and a self-signed TLS server
 * certificate for the x5u repository.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "stir/pki.h"

#define SHAKEN_CP_OID "2.16.840.1.114569.1.1.3" /* US SHAKEN CP v1.3 */
#define TNAUTH_OID "1.3.6.1.5.5.7.1.26"
#define SPC_MAX 15

static const char *const pki_files[] = {
    "root.pem", "root.key",  "ca.pem",  "ca.key",  "sp.pem",
    "sp.key",   "chain.pem", "tls.pem", "tls.key",
};
#define N_PKI_FILES (sizeof pki_files / sizeof pki_files[0])

static int ossl_fail(stir_error *err, const char *what)
{
    char buf[160] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return stir_fail(err, STIR_ERR_INTERNAL, NULL, "%s failed%s%s", what, buf[0] ? ": " : "", buf);
}

static EVP_PKEY *gen_p256(stir_error *err)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        ossl_fail(err, "P-256 key generation");
    return k;
}

/* ---- files -------------------------------------------------------------- */

/* Create path exclusively with `mode`; FILE* for writing or NULL. */
static FILE *create_excl(const char *path, mode_t mode, stir_error *err)
{
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    if (fd < 0) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot create %s: %s", path, strerror(errno));
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot open %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
    }
    return f;
}

static int finish_file(FILE *f, int ok, const char *path, stir_error *err)
{
    int e = 0;
    /* fsync: the directory is renamed into place only once every byte of
     * every file is on disk, so a crash never publishes an empty key. */
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (!ok || e) {
        unlink(path);
        if (!ok)
            return ossl_fail(err, path);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

static int write_key(const char *path, EVP_PKEY *k, stir_error *err)
{
    FILE *f = create_excl(path, 0600, err);
    if (!f)
        return STIR_ERR_INTERNAL;
    int ok = PEM_write_PKCS8PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    return finish_file(f, ok, path, err);
}

static int write_certs(const char *path, X509 *a, X509 *b, stir_error *err)
{
    FILE *f = create_excl(path, 0644, err);
    if (!f)
        return STIR_ERR_INTERNAL;
    int ok = PEM_write_X509(f, a) == 1 && (!b || PEM_write_X509(f, b) == 1);
    return finish_file(f, ok, path, err);
}

/* mkdir -p */
static int make_dirs(const char *dir, stir_error *err)
{
    char p[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "bad PKI directory \"%s\"", dir);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot create directory %s: %s", p,
                             strerror(errno));
        p[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "%s is not a directory", dir);
    return 0;
}

static int join(char *out, size_t outlen, const char *dir, const char *name, stir_error *err)
{
    if ((size_t)snprintf(out, outlen, "%s/%s", dir, name) >= outlen)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "path too long: %s/%s", dir, name);
    return 0;
}

/* ---- certificates --------------------------------------------------------- */

typedef struct ext_spec {
    int nid;
    const char *value;
} ext_spec;

static X509_NAME *make_name(const char *o, const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    if (!n ||
        !X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0)) {
        X509_NAME_free(n);
        return NULL;
    }
    return n;
}

/* Positive 128-bit serial from the CSPRNG (ATIS-1000080: >= 64 bits). */
static int set_random_serial(X509 *x)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return 0;
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40); /* positive, no leading zero */
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = ai && X509_set_serialNumber(x, ai);
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return ok;
}

/* TNAuthorizationList ::= SEQUENCE { [0] EXPLICIT IA5String spc }:
 * 30 L A0 L' 16 n <spc>, all short-form lengths since n <= 15. */
static X509_EXTENSION *tnauth_ext(const char *spc)
{
    unsigned char der[6 + SPC_MAX];
    size_t n = strlen(spc);
    der[0] = 0x30;
    der[1] = (unsigned char)(n + 4);
    der[2] = 0xa0;
    der[3] = (unsigned char)(n + 2);
    der[4] = 0x16;
    der[5] = (unsigned char)n;
    memcpy(der + 6, spc, n);
    ASN1_OBJECT *obj = OBJ_txt2obj(TNAUTH_OID, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    if (obj && os && ASN1_OCTET_STRING_set(os, der, (int)(n + 6)))
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ext;
}

/* Build and sign a certificate. issuer NULL: self-signed with `key`. */
static X509 *make_cert(EVP_PKEY *key, X509_NAME *subject, X509 *issuer, EVP_PKEY *issuer_key,
                       int days, const ext_spec *exts, size_t n_exts, X509_EXTENSION *extra,
                       stir_error *err)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) || !set_random_serial(x) ||
        !X509_set_subject_name(x, subject) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) || /* tolerate clock skew */
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400L) || !X509_set_pubkey(x, key)) {
        ossl_fail(err, "certificate setup");
        X509_free(x);
        return NULL;
    }
    /* certificatePolicies (an r2i method) insists on a config database,
     * even an empty one. */
    CONF *conf = NCONF_new(NULL);
    if (!conf) {
        ossl_fail(err, "config setup");
        X509_free(x);
        return NULL;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0); /* resets ctx */
    X509V3_set_nconf(&ctx, conf);
    for (size_t i = 0; i < n_exts; i++) {
        X509_EXTENSION *e = X509V3_EXT_nconf_nid(conf, &ctx, exts[i].nid, exts[i].value);
        if (!e || !X509_add_ext(x, e, -1)) {
            X509_EXTENSION_free(e);
            char what[96];
            snprintf(what, sizeof what, "extension %s=%s", OBJ_nid2sn(exts[i].nid), exts[i].value);
            ossl_fail(err, what);
            NCONF_free(conf);
            X509_free(x);
            return NULL;
        }
        X509_EXTENSION_free(e);
    }
    NCONF_free(conf);
    if (extra && !X509_add_ext(x, extra, -1)) {
        ossl_fail(err, "TNAuthList extension");
        X509_free(x);
        return NULL;
    }
    if (!X509_sign(x, issuer_key, EVP_sha256())) {
        ossl_fail(err, "certificate signing");
        X509_free(x);
        return NULL;
    }
    return x;
}

/* "localhost,127.0.0.1" -> "DNS:localhost,IP:127.0.0.1"; first name in cn. */
static int san_from_hosts(const char *hosts, char *san, size_t sanlen, char *cn, size_t cnlen,
                          stir_error *err)
{
    size_t off = 0, count = 0;
    const char *p = hosts;
    san[0] = cn[0] = '\0';
    while (*p) {
        const char *s = p;
        while (*p && *p != ',')
            p++;
        size_t n = (size_t)(p - s);
        if (*p == ',')
            p++;
        while (n && *s == ' ') {
            s++;
            n--;
        }
        while (n && s[n - 1] == ' ')
            n--;
        if (n == 0)
            continue;
        char h[256];
        if (n >= sizeof h)
            return stir_fail(err, STIR_ERR_INPUT, "tls_hosts", "TLS host name too long");
        memcpy(h, s, n);
        h[n] = '\0';
        for (size_t i = 0; i < n; i++) {
            char ch = h[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' || ch == '*'))
                return stir_fail(err, STIR_ERR_INPUT, "tls_hosts",
                                 "TLS host \"%s\" has an invalid character", h);
        }
        unsigned char ip[16];
        int is_ip = inet_pton(AF_INET, h, ip) == 1 || inet_pton(AF_INET6, h, ip) == 1;
        int w =
            snprintf(san + off, sanlen - off, "%s%s:%s", count ? "," : "", is_ip ? "IP" : "DNS", h);
        if (w < 0 || (size_t)w >= sanlen - off)
            return stir_fail(err, STIR_ERR_INPUT, "tls_hosts", "too many TLS hosts");
        off += (size_t)w;
        if (count == 0)
            snprintf(cn, cnlen, "%s", h);
        count++;
    }
    if (count == 0)
        return stir_fail(err, STIR_ERR_INPUT, "tls_hosts", "no TLS host given");
    return 0;
}

/* ---- atomic publication ------------------------------------------------------
 *
 * The PKI is written into a temporary directory beside its final place
 * (same parent, so rename() is atomic): ".NAME.pki-PID.XXXXXX". Every file
 * and the directory are fsynced, then the directory is renamed onto the
 * final name (absent or an empty directory). A crash at any moment leaves
 * either no PKI or a complete one; the temporary directory of a process
 * that no longer runs is removed by the next stir_pki_create of that
 * directory. Into an existing directory that holds other files (stirctl
 * pki --dir .) the files are renamed one by one: each is complete, the set
 * is not atomic.
 */

#define TMP_MARK ".pki-"

/* "a/b/state/" -> parent "a/b", base "state". */
static int split_dir(const char *dir, char *parent, size_t plen, char *base, size_t blen,
                     stir_error *err)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    size_t bn = n - b;
    if (bn == 0 || bn >= blen || (bn == 1 && dir[b] == '.') ||
        (bn == 2 && dir[b] == '.' && dir[b + 1] == '.'))
        return stir_fail(err, STIR_ERR_INPUT, "dir",
                         "PKI directory \"%s\" must end with a "
                         "name (not /, . or ..)",
                         dir);
    memcpy(base, dir + b, bn);
    base[bn] = '\0';
    if (b == 0) {
        snprintf(parent, plen, ".");
        return 0;
    }
    size_t pn = b > 1 ? b - 1 : 1; /* keep the "/" of "/state" */
    if (pn >= plen)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "path too long: %s", dir);
    memcpy(parent, dir, pn);
    parent[pn] = '\0';
    return 0;
}

static int fsync_dir(const char *dir, stir_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot sync directory %s: %s", dir,
                         strerror(e));
    }
    close(fd);
    return 0;
}

/* Remove a directory of plain files (our temporary directories are flat). */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char p[PATH_MAX];
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < sizeof p)
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Remove ".BASE.pki-PID.*" beside BASE when process PID is gone (or is us:
 * a restarted container may reuse the pid of the process that crashed). */
static void clean_leftovers(const char *parent, const char *base)
{
    char prefix[NAME_MAX + 16];
    int pl = snprintf(prefix, sizeof prefix, ".%s" TMP_MARK, base);
    DIR *d = opendir(parent);
    if (!d || pl < 0 || (size_t)pl >= sizeof prefix) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, (size_t)pl) != 0)
            continue;
        char *end;
        long pid = strtol(de->d_name + pl, &end, 10);
        if (end == de->d_name + pl || *end != '.' || pid <= 0)
            continue;
        if (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue; /* its creator may still be writing it */
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", parent, de->d_name) < sizeof p)
            remove_flat_dir(p);
    }
    closedir(d);
}

/* 1 when `dir` exists and holds anything, 0 when it is absent or empty. */
static int dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int any = 0;
    while (!any && (de = readdir(d)) != NULL)
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* Move the complete temporary directory `tmp` to `dir`. */
static int publish(const char *tmp, const char *dir, const char *parent, stir_error *err)
{
    if (!dir_has_entries(dir)) {
        /* rename() replaces an empty directory atomically. */
        if (rename(tmp, dir) != 0)
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot rename %s to %s: %s", tmp, dir,
                             strerror(errno));
        return fsync_dir(parent, err);
    }
    for (size_t i = 0; i < N_PKI_FILES; i++) {
        char from[PATH_MAX], to[PATH_MAX];
        int rc = join(from, sizeof from, tmp, pki_files[i], err);
        if (rc || (rc = join(to, sizeof to, dir, pki_files[i], err)))
            return rc;
        /* link() + unlink(), not rename(): never replace a file that
         * appeared meanwhile. */
        if (link(from, to) != 0) {
            rc = stir_fail(err, STIR_ERR_INTERNAL, NULL, "cannot create %s: %s", to,
                           strerror(errno));
            while (i-- > 0) /* all or nothing, so a retry can succeed */
                if (join(to, sizeof to, dir, pki_files[i], NULL) == 0)
                    unlink(to);
            return rc;
        }
    }
    remove_flat_dir(tmp);
    rmdir(tmp);
    return fsync_dir(dir, err);
}

int stir_pki_exists(const char *dir)
{
    if (!dir || !*dir)
        return 0;
    for (size_t i = 0; i < N_PKI_FILES; i++) {
        char p[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, pki_files[i]) >= sizeof p ||
            stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            return 0;
    }
    return 1;
}

int stir_pki_create(const stir_pki_options *opt, stir_error *err)
{
    if (!opt || !opt->dir || !*opt->dir)
        return stir_fail(err, STIR_ERR_INPUT, "dir", "PKI directory not given");
    const char *spc = opt->spc && *opt->spc ? opt->spc : "709J";
    const char *hosts = opt->tls_hosts && *opt->tls_hosts ? opt->tls_hosts : "localhost,127.0.0.1";
    int days = opt->days > 0 ? opt->days : 365;
    if (days > 36500)
        return stir_fail(err, STIR_ERR_INPUT, "days", "validity of %d days is too long", days);
    /* ATIS-1000080 v005: the SPC holds digits and uppercase letters only. */
    size_t spclen = strlen(spc);
    if (spclen > SPC_MAX)
        return stir_fail(err, STIR_ERR_INPUT, "spc", "SPC longer than %d characters", SPC_MAX);
    for (size_t i = 0; i < spclen; i++)
        if (!((spc[i] >= '0' && spc[i] <= '9') || (spc[i] >= 'A' && spc[i] <= 'Z')))
            return stir_fail(err, STIR_ERR_INPUT, "spc",
                             "SPC \"%s\" must be digits and uppercase letters", spc);
    char san[1100], tls_cn[256];
    int rc = san_from_hosts(hosts, san, sizeof san, tls_cn, sizeof tls_cn, err);
    if (rc)
        return rc;
    char parent[PATH_MAX], base[NAME_MAX + 1], tmp[PATH_MAX];
    if ((rc = split_dir(opt->dir, parent, sizeof parent, base, sizeof base, err)) ||
        (rc = make_dirs(parent, err)))
        return rc;
    clean_leftovers(parent, base);

    char paths[N_PKI_FILES][PATH_MAX];
    for (size_t i = 0; i < N_PKI_FILES; i++) {
        rc = join(paths[i], sizeof paths[i], opt->dir, pki_files[i], err);
        if (rc)
            return rc;
        if (access(paths[i], F_OK) == 0)
            return stir_fail(err, STIR_ERR_INTERNAL, NULL, "refusing to overwrite the existing %s",
                             paths[i]);
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s" TMP_MARK "%ld.XXXXXX", parent, base,
                         (long)getpid()) >= sizeof tmp)
        return stir_fail(err, STIR_ERR_INTERNAL, NULL, "path too long: %s", opt->dir);
    int have_tmp = 0;

    EVP_PKEY *kroot = NULL, *kca = NULL, *ksp = NULL, *ktls = NULL;
    X509_NAME *nroot = NULL, *nca = NULL, *nsp = NULL, *ntls = NULL;
    X509 *root = NULL, *ca = NULL, *sp = NULL, *tls = NULL;
    X509_EXTENSION *tn = NULL;
    rc = STIR_ERR_INTERNAL;

    char sp_cn[32];
    snprintf(sp_cn, sizeof sp_cn, "SHAKEN %s", spc);
    if (!(kroot = gen_p256(err)) || !(kca = gen_p256(err)) || !(ksp = gen_p256(err)) ||
        !(ktls = gen_p256(err)))
        goto out;
    nroot = make_name("stird test STI-PA", "STI-PA Test Root");
    nca = make_name("stird test STI-CA", "STI-CA Test Intermediate SHAKEN");
    nsp = make_name("stird test carrier", sp_cn);
    ntls = make_name("stird test x5u repository", tls_cn);
    tn = tnauth_ext(spc);
    if (!nroot || !nca || !nsp || !ntls || !tn) {
        ossl_fail(err, "certificate name setup");
        goto out;
    }

    const ext_spec root_ext[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
    };
    const ext_spec ca_ext[] = {
        {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_certificate_policies, SHAKEN_CP_OID},
    };
    const ext_spec sp_ext[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_certificate_policies, SHAKEN_CP_OID},
    };
    const ext_spec tls_ext[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_subject_alt_name, san},
    };
#define N(a) (sizeof(a) / sizeof((a)[0]))
    if (!(root = make_cert(kroot, nroot, NULL, kroot, days, root_ext, N(root_ext), NULL, err)) ||
        !(ca = make_cert(kca, nca, root, kroot, days, ca_ext, N(ca_ext), NULL, err)) ||
        !(sp = make_cert(ksp, nsp, ca, kca, days, sp_ext, N(sp_ext), tn, err)) ||
        !(tls = make_cert(ktls, ntls, NULL, ktls, days, tls_ext, N(tls_ext), NULL, err)))
        goto out;
#undef N

    /* Same order as pki_files[]. */
    const struct {
        X509 *a, *b;
        EVP_PKEY *k;
    } outs[N_PKI_FILES] = {
        {root, NULL, NULL}, {NULL, NULL, kroot}, {ca, NULL, NULL},
        {NULL, NULL, kca},  {sp, NULL, NULL},    {NULL, NULL, ksp},
        {sp, ca, NULL},     {tls, NULL, NULL},   {NULL, NULL, ktls},
    };
    if (!mkdtemp(tmp)) {
        stir_fail(err, STIR_ERR_INTERNAL, NULL,
                  "cannot create a temporary directory beside "
                  "%s: %s",
                  opt->dir, strerror(errno));
        goto out;
    }
    have_tmp = 1;
    for (size_t i = 0; i < N_PKI_FILES; i++) {
        char tp[PATH_MAX];
        if (join(tp, sizeof tp, tmp, pki_files[i], err) ||
            (outs[i].k ? write_key(tp, outs[i].k, err)
                       : write_certs(tp, outs[i].a, outs[i].b, err)))
            goto out;
    }
    if (fsync_dir(tmp, err) || publish(tmp, opt->dir, parent, err))
        goto out;
    have_tmp = 0;
    rc = 0;
out:
    if (have_tmp)
        remove_flat_dir(tmp); /* all or nothing, so a retry can succeed */
    X509_free(root);
    X509_free(ca);
    X509_free(sp);
    X509_free(tls);
    X509_EXTENSION_free(tn);
    X509_NAME_free(nroot);
    X509_NAME_free(nca);
    X509_NAME_free(nsp);
    X509_NAME_free(ntls);
    EVP_PKEY_free(kroot);
    EVP_PKEY_free(kca);
    EVP_PKEY_free(ksp);
    EVP_PKEY_free(ktls);
    ERR_clear_error();
    return rc;
}

int stir_keygen(const char *path, stir_error *err)
{
    if (!path || !*path)
        return stir_fail(err, STIR_ERR_INPUT, "path", "key path not given");
    EVP_PKEY *k = gen_p256(err);
    if (!k)
        return STIR_ERR_INTERNAL;
    int rc = write_key(path, k, err);
    EVP_PKEY_free(k);
    ERR_clear_error();
    return rc;
}

/* ---- lab TLS pairs (stird's lab mode: API server and client certificates) ---- */

int stir_pki_mkdirs(const char *dir, stir_error *err)
{
    return make_dirs(dir, err);
}

int stir_pki_tls_pair(const stir_tls_pair_options *o, stir_error *err)
{
    char san[1024], cn[256], path[PATH_MAX];
    int days = o->days > 0 ? o->days : 365, rc = STIR_ERR_INTERNAL;
    if (!o->dir || !o->ca_file || !o->cert_file || !o->key_file || !o->ca_cn)
        return stir_fail(err, STIR_ERR_INPUT, NULL, "TLS pair: missing option");
    if (o->hosts) {
        if ((rc = san_from_hosts(o->hosts, san, sizeof san, cn, sizeof cn, err)) != 0)
            return rc;
    } else {
        san[0] = '\0';
    }
    if (o->cn)
        snprintf(cn, sizeof cn, "%s", o->cn);
    if (!cn[0])
        return stir_fail(err, STIR_ERR_INPUT, NULL, "TLS pair: no subject name");

    const ext_spec ca_ext[] = {
        {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
    };
    ext_spec leaf_ext[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, o->client ? "clientAuth" : "serverAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {NID_subject_alt_name, san},
    };
    size_t n_leaf = san[0] ? 6 : 5;
    EVP_PKEY *ca_key = gen_p256(err), *key = ca_key ? gen_p256(err) : NULL;
    X509_NAME *ca_name = make_name("stird lab", o->ca_cn), *name = make_name("stird lab", cn);
    X509 *ca = NULL, *leaf = NULL;
    if (!key || !ca_name || !name)
        goto out;
    /* The CA key is never written: the lab needs no second certificate. */
    if (!(ca = make_cert(ca_key, ca_name, NULL, ca_key, days, ca_ext, 3, NULL, err)) ||
        !(leaf = make_cert(key, name, ca, ca_key, days, leaf_ext, n_leaf, NULL, err)))
        goto out;
    if ((rc = join(path, sizeof path, o->dir, o->ca_file, err)) ||
        (rc = write_certs(path, ca, NULL, err)) ||
        (rc = join(path, sizeof path, o->dir, o->cert_file, err)) ||
        (rc = write_certs(path, leaf, NULL, err)) ||
        (rc = join(path, sizeof path, o->dir, o->key_file, err)) ||
        (rc = write_key(path, key, err)))
        goto out;
    rc = 0;
out:
    X509_free(leaf);
    X509_free(ca);
    X509_NAME_free(name);
    X509_NAME_free(ca_name);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return rc;
}
