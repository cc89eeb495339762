/* The strict SIP Date reader (RFC 9110 5.6.7 IMF-fixdate, RFC 3261 20.17).
 * Expected epochs come from GNU date: date -u -d '1994-11-06 08:49:37' +%s. */
#include "test_util.h"
#include "httpdate.h"

static time_t ok(const char *s)
{
    time_t t = 0;
    const char *why = NULL;
    if (sti_httpdate_parse(s, strlen(s), &t, &why))
        fail_msg("%s: %s", s, why);
    return t;
}

static void bad(const char *s, const char *words)
{
    time_t t = 0;
    const char *why = NULL;
    if (sti_httpdate_parse(s, strlen(s), &t, &why) == 0)
        fail_msg("accepted %s", s);
    assert_non_null(why);
    if (!strstr(why, words))
        fail_msg("%s: reason \"%s\" lacks \"%s\"", s, why, words);
}

static void test_good(void **state)
{
    (void)state;
    assert_int_equal(ok("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);  /* RFC 9110 */
    assert_int_equal(ok("Sat, 13 Nov 2010 23:29:00 GMT"), 1289690940); /* RFC 3261 20.17 */
    assert_int_equal(ok("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    assert_int_equal(ok("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000);
    assert_int_equal(ok("Fri, 31 Dec 2038 23:59:59 GMT"), 2177452799);
    /* a leap second is :59 plus one */
    assert_int_equal(ok("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);
}

static void test_bad(void **state)
{
    (void)state;
    const char *shape = "IMF-fixdate";
    bad("Sunday, 06-Nov-94 08:49:37 GMT", shape); /* RFC 850 */
    bad("Sun Nov  6 08:49:37 1994", shape);       /* asctime */
    bad("Sun, 06 Nov 1994 08:49:37 +0000", "GMT");
    bad("Sun, 06 Nov 1994 08:49:37 UTC", "GMT");
    bad("Sun, 06 Nov 1994 08:49:37 gmt", "GMT");
    bad("sun, 06 Nov 1994 08:49:37 GMT", shape);
    bad("Sun, 06 nov 1994 08:49:37 GMT", shape);
    bad("Sun, 6 Nov 1994 08:49:37 GMT", shape);
    bad("Sun,  06 Nov 1994 08:49:37 GMT", shape);
    bad("Sun, 06 Nov 1994 8:49:37 GMT", shape);
    bad("Sun, 06 Nov 1994 08:49:37 GMT ", shape);
    bad("Sun, 06 Nov 1994 24:00:00 GMT", shape);
    bad("Sun, 06 Nov 1994 08:60:00 GMT", shape);
    bad("Sun, 06 Nov 1994 08:49:61 GMT", shape);
    bad("Sun, 00 Nov 1994 08:49:37 GMT", shape);
    bad("Sun, 06 Nov 1969 08:49:37 GMT", shape);
    bad("Sun, 06 Nov +994 08:49:37 GMT", shape);
    bad("Mon, 31 Feb 2025 08:49:37 GMT", "does not exist");
    bad("Mon, 06 Nov 1994 08:49:37 GMT", "weekday");
    bad("", shape);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
