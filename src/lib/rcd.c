/* Placeholder until the RFC 9795 implementation lands: compiles, checks
 * nothing beyond JSON types. */
#include <stdlib.h>
#include <string.h>

#include "stir/rcd.h"

struct stir_rcd { stir_rcd_config cfg; };

void stir_rcd_config_default(stir_rcd_config *cfg) { memset(cfg, 0, sizeof *cfg); }

stir_rcd *stir_rcd_new(const stir_rcd_config *cfg, stir_error *err)
{
    stir_rcd *r = calloc(1, sizeof *r);
    if (!r) stir_fail(err, STIR_ERR_INTERNAL, NULL, "out of memory");
    else r->cfg = *cfg;
    return r;
}

void stir_rcd_free(stir_rcd *r) { free(r); }

int stir_rcd_check(const json_t *rcd, const char *name, int code, stir_error *err)
{
    return json_is_object(rcd) ? 0 : stir_fail(err, code, name, "%s must be an object", name);
}

json_t *stir_rcd_build(const json_t *v, const char *name, stir_error *err)
{
    if (stir_rcd_check(v, name, STIR_ERR_INPUT, err)) return NULL;
    return json_deep_copy(v);
}

int stir_rcdi_check(const json_t *rcdi, const char *name, int code, stir_error *err)
{
    return json_is_object(rcdi) ? 0 : stir_fail(err, code, name, "%s must be an object", name);
}

int stir_crn_check(const json_t *crn, const char *name, int code, stir_error *err)
{
    return json_is_string(crn) ? 0 : stir_fail(err, code, name, "%s must be a string", name);
}

int stir_rcdi_compute(stir_rcd *r, const json_t *rcd, const json_t *given, int flags,
                      json_t **out, stir_error *err)
{
    (void)r; (void)rcd; (void)given; (void)flags; (void)err;
    *out = NULL;
    return 0;
}

json_t *stir_rcd_verify(stir_rcd *r, const json_t *claims, int flags, stir_error *err)
{
    (void)r; (void)claims; (void)flags; (void)err;
    return NULL;
}

const json_t *stir_json_pointer(const json_t *root, const char *ptr)
{
    (void)ptr;
    return root;
}

int stir_rcd_digest(const char *alg, const void *data, size_t len, char out[100])
{
    (void)alg; (void)data; (void)len;
    out[0] = '\0';
    return -1;
}
