/*
 * The stird configuration file parser (src/server/config.c): the input is
 * the file, given to config_load as `--config /proc/self/fd/N` of a memfd
 * (no file system, no server change), then the same derivations the server
 * makes (certificate cache and RCD settings).
 *
 * config.c resolves listen addresses with getaddrinfo; this target
 * replaces getaddrinfo with a numeric-only one so no input causes a DNS
 * query.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res);

typedef int gai_fn(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static gai_fn *real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    struct addrinfo h;
    memset(&h, 0, sizeof h);
    if (hints)
        h = *hints;
    h.ai_flags |= AI_NUMERICHOST;
    return real(node, service, &h, res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("stird.conf", 0)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char path[64], err[1024];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *argv[] = {"stird", "--config", path, NULL};
    stird_config cfg;
    memset(&cfg, 0, sizeof cfg);
    err[0] = '\0';
    int rc = config_load(&cfg, 3, argv, err, sizeof err);
    if (rc == 0) {
        /* RCD and CRL fetches follow the x5u policy (config_finish_fetch). */
        if (cfg.rcd.fetch.n_allow_hosts != cfg.cache.fetch.n_allow_hosts ||
            cfg.crl.fetch.total_timeout_ms != cfg.cache.fetch.total_timeout_ms)
            abort();
    } else if (rc < 0 && !err[0]) {
        abort(); /* every refusal says why */
    }
    config_free(&cfg);
    return 0;
}
