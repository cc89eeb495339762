/*
 * The DER of the two certificate extensions libstir reads itself:
 * TNAuthList (RFC 8226 9) and JWT Claim Constraints (RFC 8226 8, and the
 * Enhanced form of RFC 9118 3), through der.c. The first byte picks the
 * reader; the rest is the extension's value. What parses is then used.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 3;
    data++;
    size--;
    stir_error err;
    stir_error_clear(&err);
    if (which == 0) {
        stir_tnauth ta;
        if (stir_tnauth_parse(data, size, &ta, &err) == 0) {
            if (ta.n > STIR_TNAUTH_MAX_ENTRIES)
                abort();
            (void)stir_tnauth_covers(&ta, "12155551212");
            for (size_t i = 0; i < ta.n; i++)
                (void)stir_tnauth_covers(&ta, ta.e[i].value);
        }
        return 0;
    }
    stir_jcc j;
    memset(&j, 0, sizeof j);
    if (stir_jcc_parse(data, size, which == 2, &j, &err) == 0) {
        json_t *claims = json_pack("{s{ss}s{s[s]}sisssi}", "orig", "tn", "12155551212", "dest",
                                   "tn", "12155551213", "iat", 1443208345, "attest", "A", "sub", 1);
        (void)stir_jcc_check(&j, claims, 438, &err);
        json_decref(claims);
    }
    stir_jcc_clear(&j);
    return 0;
}
