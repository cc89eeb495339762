/*
 * The SIP Date header value (RFC 3261 20.17: rfc1123-date, the
 * IMF-fixdate of RFC 9110 5.6.7), parsed strictly. Private to libstir.
 */
#ifndef STIR_HTTPDATE_H
#define STIR_HTTPDATE_H

#include <time.h>

/*
 * "Sun, 06 Nov 1994 08:49:37 GMT" -> seconds since the epoch. Exactly that
 * shape: 29 characters, case-sensitive names, single spaces, "GMT" only, a
 * real calendar date whose weekday is right, seconds 00-60 (60: a leap
 * second, read as :59 + 1). Returns 0, or -1 with a reason in `why`.
 */
int sti_httpdate_parse(const char *s, size_t len, time_t *out, const char **why);

#endif
