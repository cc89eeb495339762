/*
 * The audit trail (issue 8 item 5): one JSON line per signing and per
 * refused signing, appended to `audit_log`, so that a `ppi` reported
 * downstream (RFC 9410 7) leads back to the request that was signed.
 * Format: docs/SECURITY.md ("Audit trail"). Never holds a key, a PIN or
 * a token: records are built from claims and the connection's identity.
 */
#ifndef STIRD_AUDIT_H
#define STIRD_AUDIT_H

#include <stdio.h>
#include <time.h>
#include <jansson.h>

#include "log.h"

#define AUDIT_RECORD_MAX 65536 /* one line; larger records are cut */

typedef struct audit audit;

/* Open (create, mode 0640) for appending. NULL with err on failure. */
audit *audit_open(const char *path, char *err, size_t errlen);
/* Reopen the same path (after log rotation, on SIGHUP). 0 or -1. */
int audit_reopen(audit *a, char *err, size_t errlen);
void audit_close(audit *a);

/*
 * A signing that succeeded. `identity` is the signed Identity header
 * value or the bare PASSporT; the claims of the record are taken from
 * the PASSporT itself. Returns 0, or -1 after logging (rate-limited).
 */
int audit_signed(audit *a, const http_client *c, time_t now, const char *request_id,
                 const char *identity);

/* A signing refused with `status` and `reason`; the claims come from the
 * request (`req` is the signingRequest object, may be NULL). */
int audit_refused(audit *a, const http_client *c, time_t now, const char *request_id,
                  const json_t *req, const char *ppt, unsigned status, const char *reason);

/*
 * Print to `out` every record of the file at `path` whose PASSporT is
 * the one `ppi` names: full form "h.p.s" or compact "..s" (also "h..s"),
 * quoted or not, with or without ";info=..." parameters. The signature
 * must match, and the header and payload when given. Returns the number
 * of records printed, or -1 when the file cannot be read or ppi is not
 * a PASSporT (err says why).
 */
long audit_find(const char *path, const char *ppi, FILE *out, char *err, size_t errlen);

#endif
