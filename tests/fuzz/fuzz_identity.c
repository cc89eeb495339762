/* The SIP Identity header field value parser (identity.c, RFC 8224 4). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stir_identity id;
    stir_error err;
    memset(&id, 0, sizeof id);
    stir_error_clear(&err);
    if (stir_identity_parse((const char *)data, size, &id, &err) == 0) {
        /* The token and info of a parsed value format again, and the
         * result parses to the same. (Not ppt: a quoted ppt is accepted
         * with any characters, and format writes it unquoted; it is only
         * ever compared with the PASSporT header's ppt.) */
        char *v = stir_identity_format(id.token, id.info, NULL);
        if (v) {
            stir_identity again;
            memset(&again, 0, sizeof again);
            if (stir_identity_parse(v, strlen(v), &again, &err) != 0 ||
                strcmp(again.token, id.token) || strcmp(again.info, id.info))
                abort();
            stir_identity_clear(&again);
            free(v);
        }
    }
    stir_identity_clear(&id);
    return 0;
}
