/* The library context (include/stir/ctx.h). */
#include <stdlib.h>

#include "fetchcache.h"
#include "internal.h"

stir_ctx *stir_ctx_new(stir_error *err)
{
    stir_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || ppt_registry_init(&ctx->ppt) != 0) {
        free(ctx);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    if (!(ctx->hosts = fcache_hosts_new())) {
        ppt_registry_destroy(&ctx->ppt);
        free(ctx);
        stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    return ctx;
}

void stir_ctx_free(stir_ctx *ctx)
{
    if (!ctx)
        return;
    fcache_hosts_free(ctx->hosts);
    ppt_registry_destroy(&ctx->ppt);
    free(ctx);
}
