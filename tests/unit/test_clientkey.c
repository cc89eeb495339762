/*
 * The address part of the per-client limit keys (log.c client_addr_key):
 * IPv6 clients are one client per client_ipv6_prefix (default /64).
 * Expected prefixes are those of Python's ipaddress.ip_network(...,
 * strict=False), written in RFC 5952 form.
 */
#include "test_util.h"
#include "log.h"

static void check(const char *addr, int prefix, const char *want)
{
    char key[80];
    client_addr_key(addr, prefix, key, sizeof key);
    assert_string_equal(key, want);
}

static void test_ipv6_prefixes(void **state)
{
    (void)state;
    check("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64");
    check("2001:db8:1:2:ffff:4:5:6", 64, "2001:db8:1:2::/64"); /* same /64, same key */
    check("2001:db8:1:3::1", 64, "2001:db8:1:3::/64");         /* the next /64 differs */
    check("2001:db8:1:2:3:4:5:6", 0, "2001:db8:1:2::/64");     /* 0: the default */
    check("2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::/48");
    check("2001:db8:1:2:3:4:5:6", 56, "2001:db8:1::/56");
    check("2001:db8:1:2:3:4:5:6", 60, "2001:db8:1::/60");
    check("fe80::1:2", 100, "fe80::/100");
    check("2001:db8:1:2:3:4:5:6", 127, "2001:db8:1:2:3:4:5:6/127");
    check("2001:db8:1:2:3:4:5:7", 127, "2001:db8:1:2:3:4:5:6/127");
    check("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6"); /* per address */
    check("::1", 64, "::/64");
}

static void test_ipv4_and_mapped(void **state)
{
    (void)state;
    check("192.0.2.1", 64, "192.0.2.1");
    check("192.0.2.2", 48, "192.0.2.2");
    /* A dual-stack listener's IPv4 clients stay one client per address,
     * not all of ::ffff:0:0/96 lumped together. */
    check("::ffff:192.0.2.1", 64, "192.0.2.1");
    check("::ffff:192.0.2.2", 64, "192.0.2.2");
    check("not an address", 64, "not an address");
    char small[8];
    client_addr_key("2001:db8:1:2:3:4:5:6", 64, small, sizeof small);
    assert_int_equal(strlen(small), 7); /* cut, terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv6_prefixes),
        cmocka_unit_test(test_ipv4_and_mapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
