/*
 * What the trust anchors are, as bytes: a SHA-256 over the trust file, or
 * over every regular file of the trust directory (sorted by name, each
 * name and content hashed). A reload compares it with the one the running
 * anchors were loaded from. The directory's own mtime is not enough: a
 * file rewritten in place (or replaced with `cp -p`, or within the
 * filesystem's timestamp granularity) leaves it unchanged.
 */
#include "trustdigest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#define TRUST_DIR_MAX_FILES 4096
#define TRUST_MAX_BYTES (64u << 20) /* all files together */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Hash `path`'s length-prefixed name and content into `md`. */
static int hash_file(EVP_MD_CTX *md, const char *name, const char *path, size_t *total, char *err,
                     size_t errlen)
{
    unsigned char buf[16384];
    size_t n, len = strlen(name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    EVP_DigestUpdate(md, &len, sizeof len);
    EVP_DigestUpdate(md, name, len);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        *total += n;
        if (*total > TRUST_MAX_BYTES) {
            fclose(f);
            snprintf(err, errlen, "%s: more than %u bytes of trust anchors", path, TRUST_MAX_BYTES);
            return -1;
        }
        EVP_DigestUpdate(md, buf, n);
    }
    n = ferror(f);
    fclose(f);
    if (n) {
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    /* A separator no content can forge: the size read. */
    EVP_DigestUpdate(md, total, sizeof *total);
    return 0;
}

/* The files the trust loader reads (cert.c): *.pem and *.crt, not hidden.
 * Others (c_rehash links, unrelated files) neither count nor cost. */
static int is_anchor_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 &&
           (strcmp(name + n - 4, ".pem") == 0 || strcmp(name + n - 4, ".crt") == 0);
}

static int hash_dir(EVP_MD_CTX *md, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL, path[4096];
    size_t n = 0, total = 0;
    int rc = -1;
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!(names = calloc(TRUST_DIR_MAX_FILES, sizeof *names))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    while ((de = readdir(d))) {
        struct stat st;
        if (!is_anchor_name(de->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == TRUST_DIR_MAX_FILES) {
            snprintf(err, errlen, "%s: more than %d files", dir, TRUST_DIR_MAX_FILES);
            goto out;
        }
        if (!(names[n] = strdup(de->d_name))) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (hash_file(md, names[i], path, &total, err, errlen) != 0)
            goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int trust_digest(const char *path, unsigned char out[TRUST_DIGEST_LEN], char *err, size_t errlen)
{
    struct stat st;
    size_t total = 0;
    int rc;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
        rc = hash_dir(md, path, err, errlen);
    } else if (!S_ISREG(st.st_mode)) { /* a FIFO would block the reload */
        snprintf(err, errlen, "%s: not a regular file or a directory", path);
        rc = -1;
    } else {
        rc = hash_file(md, "", path, &total, err, errlen);
    }
    if (rc == 0 && !EVP_DigestFinal_ex(md, out, NULL)) {
        snprintf(err, errlen, "SHA-256 failed");
        rc = -1;
    }
    EVP_MD_CTX_free(md);
    return rc;
}
