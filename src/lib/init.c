/* Library set-up and small shared helpers. */
#include <stdio.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "internal.h"
#include "stir/stir.h"

int stir_init(void)
{
    sti_encoding_init();
    if (sti_jws_init() != 0)
        return -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    return 0;
}

void stir_cleanup(void)
{
    sti_jws_thread_cleanup();
    sti_jws_cleanup();
    sti_pkcs11_cleanup(); /* after the contexts that hold token keys */
    curl_global_cleanup();
}

int stir_uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}
