/*
 * RFC 9410: the SIP Reason header value that carries a STIR error back
 * towards the signer:  STIR ;cause=438 ;text="Invalid Identity Header" ;ppi="..sig"
 */
#ifndef STIR_REASON_H
#define STIR_REASON_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Format a Reason header value. `text` is quoted and escaped (RFC 3261
 * quoted-string); `ppi` (the PASSporT, compact form recommended) is
 * omitted when NULL. Returns a malloc'd string or NULL.
 */
char *stir_reason_format(int cause, const char *text, const char *ppi);

#ifdef __cplusplus
}
#endif
#endif
