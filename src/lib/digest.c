/*
 * The digest algorithms of rcdi values (RFC 9795 6): the one list that
 * signing, verification, stird's settings and stirctl all consult.
 */
#include <string.h>
#include <openssl/evp.h>

#include "internal.h"
#include "stir/rcd.h"

typedef struct digest_alg {
    const char *name; /* as RFC 9795 writes it: lowercase */
    const EVP_MD *(*md)(void);
} digest_alg;

static const digest_alg DIGESTS[] = {
    {"sha256", EVP_sha256},
    {"sha384", EVP_sha384},
    {"sha512", EVP_sha512},
};
#define N_DIGESTS (sizeof DIGESTS / sizeof DIGESTS[0])

static const digest_alg *find(const char *name)
{
    for (size_t i = 0; name && i < N_DIGESTS; i++)
        if (strcmp(name, DIGESTS[i].name) == 0)
            return &DIGESTS[i];
    return NULL;
}

const char *stir_digest_by_name(const char *name)
{
    const digest_alg *d = find(name);
    return d ? d->name : NULL;
}

const char *stir_digest_names(void)
{
    /* Kept next to DIGESTS; test_rcd checks the two agree. */
    return "sha256, sha384 or sha512";
}

const EVP_MD *sti_digest_md(const char *name)
{
    const digest_alg *d = find(name);
    return d ? d->md() : NULL;
}
