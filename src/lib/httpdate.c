/*
 * A strict IMF-fixdate reader (RFC 9110 5.6.7; RFC 3261 20.17 SIP-date).
 *
 * Written here rather than taken from a library because the Debian ones
 * accept far more than the grammar: curl_getdate and apr_date_parse_http
 * take RFC 850 and asctime dates, zones other than GMT and missing fields,
 * glibc strptime skips any whitespace and ignores the weekday. A Date that
 * is not exactly the fixed form is a client bug the API should name. The
 * calendar arithmetic itself is glibc's (timegm, gmtime_r).
 */
#include <string.h>

#include "httpdate.h"

static const char wkdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* n ASCII digits at s, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int name_index(const char (*names)[4], int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (memcmp(names[i], s, 3) == 0)
            return i;
    return -1;
}

int sti_httpdate_parse(const char *s, size_t len, time_t *out, const char **why)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT
     * 0123456789012345678901234567 8 */
    static const char *const shape =
        "must be an IMF-fixdate such as \"Sun, 06 Nov 1994 08:49:37 GMT\" "
        "(RFC 9110 5.6.7, RFC 3261 20.17)";
    if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s[25] != ' ') {
        *why = shape;
        return -1;
    }
    if (memcmp(s + 26, "GMT", 3)) {
        *why = "must end in \"GMT\": a SIP Date is always in GMT (RFC 3261 20.17)";
        return -1;
    }
    int wday = name_index(wkdays, 7, s), mon = name_index(months, 12, s + 8);
    int day = digits(s + 5, 2), year = digits(s + 12, 4);
    int hh = digits(s + 17, 2), mm = digits(s + 20, 2), ss = digits(s + 23, 2);
    if (wday < 0 || mon < 0 || day < 1 || year < 1970 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60) {
        *why = shape;
        return -1;
    }
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon,
                    .tm_mday = day,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss == 60 ? 59 : ss};
    time_t t = timegm(&tm);
    struct tm back;
    /* timegm normalizes 31 Feb to 3 Mar: a round trip catches it. */
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != day || back.tm_mon != mon) {
        *why = "names a day that does not exist";
        return -1;
    }
    if (back.tm_wday != wday) {
        *why = "has a weekday that does not match its date";
        return -1;
    }
    *out = t + (ss == 60);
    return 0;
}
