/*
 * fetch.c on its own: the policy limits, copying a policy, HTTP freshness
 * lifetimes (RFC 9111 4.2.1, 5.2.2, 5.3) and sti_fetch itself against
 * tests/tools/certserver.py on 127.0.0.1 (bodies compared with the files
 * read here, statuses and headers as the server sends them). The URL and
 * address classes (RFC 6890) and the cache's use of sti_fetch are tested
 * in test_certcache.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "test_util.h"
#include "fetch.h"

static certserver g_cs;

static int setup(void **state)
{
    (void)state;
    return certserver_start(&g_cs, "fetch");
}

static int teardown(void **state)
{
    (void)state;
    return certserver_stop(&g_cs);
}

static void policy(stir_fetch_policy *p)
{
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    *p = cfg.fetch;
    certserver_policy(&g_cs, p);
}

static int get(const stir_fetch_policy *p, const char *path, sti_fetch_result *r, stir_error *err)
{
    char u[512];
    certserver_url(&g_cs, u, sizeof u, path);
    memset(r, 0, sizeof *r);
    stir_error_clear(err);
    return sti_fetch(p, u, r, err);
}

static void expect_fail(const stir_fetch_policy *p, const char *path, const char *needle)
{
    sti_fetch_result r;
    stir_error err;
    int rc = get(p, path, &r, &err);
    if (rc != STIR_ERR_BAD_INFO || !strstr(err.detail, needle))
        fail_msg("%s: rc %d \"%s\", expected 436 \"%s\"", path, rc, err.detail, needle);
    assert_null(r.body); /* `out` stays empty on failure */
}

static char *slurp(const char *name, size_t *n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_cs.dir, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char *b = calloc(1, 65536);
    *n = fread(b, 1, 65535, f);
    fclose(f);
    return b;
}

static void test_policy_check(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    stir_error err;
    stir_fetch_policy p = cfg.fetch;
    assert_int_equal(sti_fetch_policy_check(&p, &err), 0);
    /* Defaults as documented in certcache.h. */
    assert_int_equal(p.connect_timeout_ms, 500);
    assert_int_equal(p.total_timeout_ms, 1000);
    assert_int_equal(p.max_bytes, 16384);
    assert_int_equal(p.allow_http + p.allow_any_port + (int)p.n_allow_hosts, 0);
    p = cfg.fetch;
    p.connect_timeout_ms = 0;
    assert_int_equal(sti_fetch_policy_check(&p, &err), 400);
    assert_string_equal(err.field, "fetch.connect_timeout_ms");
    p = cfg.fetch;
    p.total_timeout_ms = 60001;
    assert_int_equal(sti_fetch_policy_check(&p, &err), 400);
    assert_string_equal(err.field, "fetch.total_timeout_ms");
    p = cfg.fetch;
    p.max_bytes = 0;
    assert_int_equal(sti_fetch_policy_check(&p, &err), 400);
    assert_string_equal(err.field, "fetch.max_bytes");
    p = cfg.fetch;
    p.n_allow_hosts = STIR_MAX_ALLOW_HOSTS + 1;
    assert_int_equal(sti_fetch_policy_check(&p, &err), 400);
    assert_string_equal(err.field, "fetch.n_allow_hosts");
    p = cfg.fetch;
    p.allow_hosts[0] = "";
    p.n_allow_hosts = 1;
    assert_int_equal(sti_fetch_policy_check(&p, &err), 400);
    assert_string_equal(err.field, "fetch.allow_hosts");
}

static void test_policy_dup(void **state)
{
    (void)state;
    char host[32] = "cr.lab.internal", ca[32] = "/etc/ca.pem";
    stir_fetch_policy src, dst;
    policy(&src);
    src.allow_hosts[1] = host;
    src.n_allow_hosts = 2;
    src.tls_ca_file = ca;
    assert_int_equal(sti_fetch_policy_dup(&dst, &src), 0);
    /* The copy owns its strings: the caller's may change or go away. */
    strcpy(host, "changed");
    strcpy(ca, "changed");
    assert_string_equal(dst.allow_hosts[0], "127.0.0.1");
    assert_string_equal(dst.allow_hosts[1], "cr.lab.internal");
    assert_string_equal(dst.tls_ca_file, "/etc/ca.pem");
    assert_int_equal(dst.n_allow_hosts, 2);
    assert_int_equal(dst.allow_any_port, 1);
    sti_fetch_policy_free(&dst);
}

static void url(const stir_fetch_policy *p, const char *u, const char *needle)
{
    stir_error err;
    stir_error_clear(&err);
    int rc = stir_url_check(p, u, &err);
    if (!needle && rc)
        fail_msg("%s refused: %s", u, err.detail);
    if (needle && (rc != STIR_ERR_BAD_INFO || !strstr(err.detail, needle)))
        fail_msg("%s: rc %d \"%s\", expected 436 \"%s\"", u, rc, err.detail, needle);
}

/* The x5u URL rules (certificates.md 5.2): https, port 443 or 8443, no
 * userinfo, query or fragment, at most 2048 bytes; relaxations. */
static void test_url_policy(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    const stir_fetch_policy *p = &cfg.fetch;
    url(p, "https://cert.example.org/sp.pem", NULL);
    url(p, "https://cert.example.org:8443/sp.pem", NULL);
    url(p, "https://cert.example.org:443/sp.pem", NULL);
    url(p, "http://cert.example.org/sp.pem", "must use https");
    url(p, "ftp://cert.example.org/sp.pem", "must use https");
    url(p, "https://cert.example.org:80/sp.pem", "port 80 not allowed");
    url(p, "https://cert.example.org:8080/sp.pem", "port 8080 not allowed");
    url(p, "https://user:pw@cert.example.org/sp.pem", "userinfo");
    url(p, "https://user@cert.example.org/sp.pem", "userinfo");
    url(p, "https://cert.example.org/sp.pem?x=1", "query");
    url(p, "https://cert.example.org/sp.pem?", "query");
    url(p, "https://cert.example.org/sp.pem#frag", "fragment");
    url(p, "https://cert.example.org/a b.pem", "space");
    url(p, "cert.example.org/sp.pem", "not a valid absolute URL");
    url(p, "", "empty");
    char longu[2100];
    memset(longu, 'a', sizeof longu);
    memcpy(longu, "https://cert.example.org/", 25);
    longu[2049] = '\0';
    url(p, longu, "longer than 2048");

    cfg.fetch.allow_http = 1;
    url(p, "http://cert.example.org/sp.pem", NULL);
    url(p, "http://cert.example.org:8080/sp.pem", "port 8080");
    cfg.fetch.allow_any_port = 1;
    url(p, "http://cert.example.org:8080/sp.pem", NULL);
}

/* Edges of the x5u URL rules (certificates.md 5.2: https, port 443 or
 * 8443, no userinfo, query or fragment) beyond test_url_policy's list. */
static void test_url_edges(void **state)
{
    (void)state;
    stir_certcache_config cfg;
    stir_certcache_config_default(&cfg);
    stir_fetch_policy *p = &cfg.fetch;
    url(p, "HTTPS://cert.example.org/sp.pem", NULL); /* RFC 3986 3.1 */
    url(p, "https://[2001:db8::1]/c.pem", NULL);     /* addresses: at connect */
    url(p, "https://[2001:db8::1]:8443/c.pem", NULL);
    url(p, "https://cert.example.org:0/x.pem", "port 0");
    url(p, "https://cert.example.org:444/x.pem", "port 444");
    /* Empty or missing authority (RFC 9110 4.2.2): libcurl alone would
     * fetch https://x.pem/ for both. */
    url(p, "https:///x.pem", "host is missing");
    url(p, "https:/x.pem/y", "host is missing");
    url(p, "https:x.pem", "x5u");
    /* Control and non-ASCII bytes anywhere (RFC 3986 allows neither raw). */
    url(p, "https://cert.example.org/a\tb.pem", "control");
    url(p, "https://cert.example.org/\x01.pem", "control");
    url(p, "https://cert.example.org/\x7f.pem", "control");
    url(p, "https://cert.example.org/\xc3\xa9.pem", "non-ASCII");
    url(p, "https://cert.example.org/%C3%A9.pem", NULL); /* percent-encoded is fine */
    url(p, "https://user@cert.example.org:8443/x.pem", "userinfo");
    /* allow_http permits http on its own port 80 only. */
    cfg.fetch.allow_http = 1;
    url(p, "http://cert.example.org/sp.pem", NULL);
    url(p, "http://cert.example.org:80/sp.pem", NULL);
    url(p, "https://cert.example.org:80/sp.pem", "port 80");
    url(p, "http://cert.example.org:8443/sp.pem", NULL);
    url(p, "ftp://cert.example.org/sp.pem", "https");
    /* No policy at all is the strict default. */
    url(NULL, "http://cert.example.org/sp.pem", "https");
    url(NULL, "https://cert.example.org/sp.pem", NULL);
}

static const char *v4(const char *ip)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return sti_addr_special((struct sockaddr *)&a);
}

static const char *v6(const char *ip)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return sti_addr_special((struct sockaddr *)&a);
}

static void is_special(const char *got, const char *needle, const char *ip)
{
    if (!needle && got)
        fail_msg("%s classed \"%s\", expected global", ip, got);
    if (needle && (!got || !strstr(got, needle)))
        fail_msg("%s classed \"%s\", expected \"%s\"", ip, got ? got : "global", needle);
}

/* Expected classes from the RFC 6890 special-purpose registries (and RFC
 * 6598, 5737, 3849, 6052, 8215, 6666, 3056, 3879): common members, then
 * the first and last address in a block and the neighbours just outside
 * it. */
static void test_special_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *ip, *class;
    } c4[] = {
        {"127.0.0.1", "loopback"},
        {"127.255.0.9", "loopback"},
        {"10.1.2.3", "private"},
        {"172.16.0.1", "private"},
        {"172.31.255.255", "private"},
        {"172.32.0.1", NULL},
        {"192.168.1.1", "private"},
        {"100.64.0.1", "CGNAT"},
        {"100.127.255.254", "CGNAT"},
        {"100.128.0.1", NULL},
        {"169.254.169.254", "link-local"},
        {"0.0.0.0", "this-network"},
        {"224.0.0.1", "multicast"},
        {"240.0.0.1", "reserved"},
        {"255.255.255.255", "broadcast"},
        {"192.0.2.10", "documentation"},
        {"198.18.0.1", "benchmarking"},
        {"8.8.8.8", NULL},
        {"1.1.1.1", NULL},
        {"9.255.255.255", NULL},
        {"10.0.0.0", "private"},
        {"10.255.255.255", "private"},
        {"11.0.0.0", NULL},
        {"100.63.255.255", NULL},
        {"100.64.0.0", "CGNAT"},
        {"126.255.255.255", NULL},
        {"127.0.0.0", "loopback"},
        {"128.0.0.0", NULL},
        {"169.253.255.255", NULL},
        {"169.254.0.0", "link-local"},
        {"169.255.0.0", NULL},
        {"172.15.255.255", NULL},
        {"172.16.0.0", "private"},
        {"192.0.0.1", "IETF"},
        {"192.0.1.0", NULL},
        {"192.0.2.255", "documentation"},
        {"192.0.3.0", NULL},
        {"192.88.99.1", "6to4"},
        {"192.167.255.255", NULL},
        {"192.168.0.0", "private"},
        {"192.169.0.0", NULL},
        {"198.17.255.255", NULL},
        {"198.19.255.255", "benchmarking"},
        {"198.20.0.0", NULL},
        {"198.51.100.7", "documentation"},
        {"203.0.113.9", "documentation"},
        {"223.255.255.255", NULL},
        {"239.255.255.255", "multicast"},
        {"255.255.255.254", "reserved"},
    };
    for (size_t i = 0; i < sizeof c4 / sizeof c4[0]; i++)
        is_special(v4(c4[i].ip), c4[i].class, c4[i].ip);
    static const struct {
        const char *ip, *class;
    } c6[] = {
        {"::1", "loopback"},
        {"::", "unspecified"},
        {"fe80::1", "link-local"},
        {"fc00::1", "unique-local"},
        {"fd12:3456::1", "unique-local"},
        {"ff02::1", "multicast"},
        {"::ffff:127.0.0.1", "loopback"},
        {"::ffff:10.0.0.1", "private"},
        {"::ffff:8.8.8.8", NULL},
        {"64:ff9b::192.168.0.1", "private"},
        {"2002:7f00:0001::1", "loopback"}, /* 6to4 of 127.0.0.1 */
        {"2001:db8::1", "documentation"},
        {"2001:4860:4860::8888", NULL},
        {"2606:4700::1111", NULL},
        {"::2", "IPv4-compatible"},
        {"::a00:1", "IPv4-compatible"},
        {"::ffff:169.254.1.1", "link-local"},
        {"64:ff9b::808:808", NULL},
        {"64:ff9b:1::1", "NAT64"},
        {"100::1", "discard"},
        {"100:0:0:1::1", NULL},
        {"2001::1", "IETF"},
        {"2001:1ff:ffff::1", "IETF"},
        {"2001:200::1", NULL},
        {"2001:db7:ffff::1", NULL},
        {"2001:db8:ffff::1", "documentation"},
        {"2001:db9::1", NULL},
        {"2002:a00:1::1", "private"},
        {"2002:808:808::1", NULL},
        {"fbff:ffff::1", NULL},
        {"fc00::", "unique-local"},
        {"fdff:ffff::1", "unique-local"},
        {"fe00::1", NULL},
        {"fe80::", "link-local"},
        {"febf:ffff::1", "link-local"},
        {"fec0::1", "site-local"},
        {"ff00::", "multicast"},
    };
    for (size_t i = 0; i < sizeof c6 / sizeof c6[0]; i++)
        is_special(v6(c6[i].ip), c6[i].class, c6[i].ip);
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_string_equal(sti_addr_special(&un), "non-IP");
}

static long lifetime(const char *cc, const char *expires, const char *date, int *no_store)
{
    sti_fetch_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.cache_control, sizeof r.cache_control, "%s", cc);
    snprintf(r.expires, sizeof r.expires, "%s", expires);
    snprintf(r.date, sizeof r.date, "%s", date);
    *no_store = 0;
    return sti_fetch_lifetime(&r, no_store);
}

/* RFC 9111: max-age (5.2.2.1), s-maxage wins in a shared cache
 * (5.2.2.10), no-cache means revalidate, i.e. not reusable as is
 * (5.2.2.4), Expires - Date (4.2.1), an invalid Expires is in the past
 * (5.3), quoted delta-seconds are accepted (5.2). */
static void test_lifetime(void **state)
{
    (void)state;
    int ns;
    assert_int_equal(lifetime("", "", "", &ns), -1);
    assert_int_equal(ns, 0);
    assert_int_equal(lifetime("max-age=300", "", "", &ns), 300);
    assert_int_equal(lifetime("public, max-age=300", "", "", &ns), 300);
    assert_int_equal(lifetime("MAX-AGE = 42", "", "", &ns), 42);
    assert_int_equal(lifetime("max-age=\"60\"", "", "", &ns), 60);
    assert_int_equal(lifetime("max-age=300, s-maxage=20", "", "", &ns), 20);
    assert_int_equal(lifetime("s-maxage=20, max-age=300", "", "", &ns), 20);
    assert_int_equal(lifetime("no-cache, max-age=300", "", "", &ns), 0);
    assert_int_equal(lifetime("max-age=-1", "", "", &ns), -1);
    assert_int_equal(lifetime("max-age=abc", "", "", &ns), -1);
    lifetime("no-store", "", "", &ns);
    assert_int_equal(ns, 1);
    assert_int_equal(
        lifetime("", "Wed, 21 Oct 2015 07:38:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", &ns), 600);
    /* max-age wins over Expires (5.3). */
    assert_int_equal(lifetime("max-age=5", "Wed, 21 Oct 2015 07:38:00 GMT",
                              "Wed, 21 Oct 2015 07:28:00 GMT", &ns),
                     5);
    assert_int_equal(lifetime("", "0", "Wed, 21 Oct 2015 07:28:00 GMT", &ns), 0);
    assert_int_equal(
        lifetime("", "Wed, 21 Oct 2015 07:18:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", &ns), 0);
}

static void test_fetch_body_and_headers(void **state)
{
    (void)state;
    stir_fetch_policy p;
    policy(&p);
    sti_fetch_result r;
    stir_error err;
    assert_int_equal(get(&p, "/chain.pem", &r, &err), 0);
    size_t n;
    char *want = slurp("chain.pem", &n);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, n);
    assert_memory_equal(r.body, want, n);
    assert_int_equal(r.body[n], '\0');
    assert_string_equal(r.cache_control, "");
    sti_fetch_result_free(&r);
    free(want);

    assert_int_equal(get(&p, "/cc/max-age%3D77/sp.pem", &r, &err), 0);
    assert_string_equal(r.cache_control, "max-age=77");
    int ns = 0;
    assert_int_equal(sti_fetch_lifetime(&r, &ns), 77);
    sti_fetch_result_free(&r);

    assert_int_equal(get(&p, "/expires/120/sp.pem", &r, &err), 0);
    assert_true(r.expires[0] && r.date[0]);
    long lt = sti_fetch_lifetime(&r, &ns);
    assert_true(lt >= 118 && lt <= 120);
    sti_fetch_result_free(&r);

    /* An empty 200 body is a body of length 0, not a failure here. */
    assert_int_equal(get(&p, "/big/0", &r, &err), 0);
    assert_int_equal(r.body_len, 0);
    assert_non_null(r.body);
    sti_fetch_result_free(&r);
}

static void test_fetch_size_cap(void **state)
{
    (void)state;
    stir_fetch_policy p;
    policy(&p);
    p.max_bytes = 1000;
    sti_fetch_result r;
    stir_error err;
    assert_int_equal(get(&p, "/big/1000", &r, &err), 0);
    assert_int_equal(r.body_len, 1000);
    sti_fetch_result_free(&r);
    expect_fail(&p, "/big/1001", "exceeds 1000 bytes");
}

static void test_fetch_refusals(void **state)
{
    (void)state;
    stir_fetch_policy p;
    policy(&p);
    expect_fail(&p, "/status/404", "HTTP 404");
    expect_fail(&p, "/status/500", "HTTP 500");
    expect_fail(&p, "/status/204", "HTTP 204");
    expect_fail(&p, "/redirect/sp.pem", "redirect refused");
    assert_int_equal(certserver_hits(&g_cs, "/sp.pem"), 0);

    /* The allowed host must be the URL's host exactly: "localhost" does
     * not allow 127.0.0.1, and its loopback address is then refused
     * before connecting. */
    p.allow_hosts[0] = "localhost";
    expect_fail(&p, "/refused.pem", "loopback");
    assert_int_equal(certserver_hits(&g_cs, "/refused.pem"), 0);

    /* Policy refusals happen before any network access. */
    sti_fetch_result r;
    stir_error err;
    policy(&p);
    p.allow_any_port = 0;
    char u[256];
    certserver_url(&g_cs, u, sizeof u, "/port.pem");
    assert_int_equal(sti_fetch(&p, u, &r, &err), STIR_ERR_BAD_INFO);
    assert_non_null(strstr(err.detail, "not allowed"));
    assert_int_equal(sti_fetch(&p, "https://[fe80::1%25eth0]/x.pem", &r, &err), STIR_ERR_BAD_INFO);
    assert_non_null(strstr(err.detail, "zone"));
    /* [::1] is loopback too (IPv6), refused at connect without an allow. */
    p.n_allow_hosts = 0;
    p.allow_any_port = 1;
    snprintf(u, sizeof u, "https://[::1]:%d/v6.pem", g_cs.port);
    assert_int_equal(sti_fetch(&p, u, &r, &err), STIR_ERR_BAD_INFO);
    assert_non_null(strstr(err.detail, "loopback"));
    assert_int_equal(certserver_hits(&g_cs, "/port.pem") + certserver_hits(&g_cs, "/v6.pem"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_check),
        cmocka_unit_test(test_policy_dup),
        cmocka_unit_test(test_url_policy),
        cmocka_unit_test(test_url_edges),
        cmocka_unit_test(test_special_addresses),
        cmocka_unit_test(test_lifetime),
        cmocka_unit_test(test_fetch_body_and_headers),
        cmocka_unit_test(test_fetch_size_cap),
        cmocka_unit_test(test_fetch_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
