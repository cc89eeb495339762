/*
 * The x5u URL policy (fetch.c, stir_url_check on top of libcurl's URL
 * parser): schemes, userinfo, query, fragment, ports, IPv6 literals and
 * zone ids, lengths. Under the default policy and under every relaxation;
 * a URL the default policy accepts must be accepted by the relaxed one.
 * No fetch: the address checks happen at connect time, never here.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *url = malloc(size + 1);
    memcpy(url, data, size);
    url[size] = '\0';
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    stir_error err;
    stir_error_clear(&err);
    int strict = stir_url_check(&cfg.fetch, url, &err);
    if (strict && (err.code != STIR_ERR_BAD_INFO || !err.detail[0]))
        abort(); /* every refusal is a 436 that says why */
    cfg.fetch.allow_http = 1;
    cfg.fetch.allow_any_port = 1;
    int relaxed = stir_url_check(&cfg.fetch, url, &err);
    if (!strict && relaxed)
        abort();
    (void)stir_url_check(NULL, url, &err);
    free(url);
    return 0;
}
