/*
 * Where stird's private keys come from, and the checks they pass before
 * the server starts: key file permissions (keyfile hygiene).
 */
#ifndef STIRD_CREDENTIALS_H
#define STIRD_CREDENTIALS_H

#include <stddef.h>
#include "config.h"

/*
 * Refuse a private key file that group or others may read or write
 * (mode & 077), unless allow_insecure_key_mode is set (then warn). `what`
 * names the setting in the message ("signing key"). Returns 0, or -1 with
 * a one-line message naming the file and its mode in `err`.
 */
int cred_check_key_file(const stird_config *cfg, const char *what, const char *path,
                        char *err, size_t errlen);

#endif
