/*
 * x5u download (private to libstir): one blocking HTTPS GET under a
 * stir_fetch_policy (certcache.h). Used by the certificate cache.
 */
#ifndef STIR_FETCH_H
#define STIR_FETCH_H

#include <stddef.h>
#include "stir/certcache.h"

#define STIR_URL_MAX 2048

typedef struct stir_fetch_result {
    long status;                /* HTTP status (200 on success) */
    char *body;                 /* NUL-terminated, malloc'd */
    size_t body_len;
    char cache_control[256];    /* response headers, "" when absent */
    char expires[64];
    char date[64];
} stir_fetch_result;

/*
 * GET `url` under `pol` (stir_url_check first, then the address policy at
 * connect time). 0 with a 200 response in `out` (free with
 * stir_fetch_result_free), else 436 with a precise detail and `out` empty.
 */
int stir_fetch(const stir_fetch_policy *pol, const char *url, stir_fetch_result *out,
               stir_error *err);

void stir_fetch_result_free(stir_fetch_result *r);

/*
 * Classify an IPv4/IPv6 socket address against the RFC 6890 special-purpose
 * registries. Returns NULL for an ordinary global address, else a short
 * name ("loopback", "private", ...). Exposed for tests.
 */
struct sockaddr;
const char *stir_addr_special(const struct sockaddr *sa);

#endif
