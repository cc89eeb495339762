/*
 * Private keys of stird: the permission check of key files.
 */
#include "credentials.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cred_check_key_file(const stird_config *cfg, const char *what, const char *path,
                        char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
        return -1;
    }
    if ((st.st_mode & 077) == 0)
        return 0;
    /* Anyone who can read the key can sign as this provider; anyone who
     * can write it can make us sign with theirs. */
    if (cfg->allow_insecure_key_mode) {
        log_msg(LOG_LVL_WARN, "%s %s has mode %04o (group/other access); accepted because "
                "allow_insecure_key_mode is set: for labs only", what, path,
                (unsigned)(st.st_mode & 07777));
        return 0;
    }
    snprintf(err, errlen, "%s %s has mode %04o: group or others may access it; "
             "make it owner-only (chmod 600 %s), or set allow_insecure_key_mode = yes "
             "(labs only)", what, path, (unsigned)(st.st_mode & 07777), path);
    return -1;
}
