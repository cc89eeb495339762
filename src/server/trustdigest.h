/*
 * A digest of the trust anchors' bytes (the `trust` file, or every
 * regular file of the `trust` directory), so that SIGHUP reloads them
 * exactly when their content changed.
 */
#ifndef STIRD_TRUSTDIGEST_H
#define STIRD_TRUSTDIGEST_H

#include <stddef.h>

#define TRUST_DIGEST_LEN 32

/* SHA-256 over `path` (file: its content; directory: each regular file's
 * name and content, by name, dot files left out). 0, or -1 with err. */
int trust_digest(const char *path, unsigned char out[TRUST_DIGEST_LEN], char *err, size_t errlen);

#endif
