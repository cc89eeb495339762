/*
 * The per-client token bucket under a controlled clock and under
 * concurrent callers, and the auth holder's reload while requests hold
 * the old object. (Every rule of the policy file is exercised through
 * tests/integration/test_policy.py.)
 */
#include <pthread.h>

#include "test_util.h"
#include "auth.h"
#include "policy.h"

static const char DOC[] =
    "{\"clients\": {\"slow\": {\"resources\": [\"verification\"], \"rate\": 2, \"burst\": 4},"
    " \"free\": {\"resources\": [\"verification\"]}}}";

static policy *load(void)
{
    char err[256];
    policy *p = policy_parse(DOC, sizeof DOC - 1, "doc", err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    return p;
}

static void test_bucket_clock(void **state)
{
    (void)state;
    policy *p = load();
    const policy_client *c = policy_find(p, "slow");
    auth_denial d;
    assert_non_null(c);
    for (int i = 0; i < 4; i++)
        assert_int_equal(policy_take_rate_at(c, 100.0, &d), 0);
    assert_int_equal(policy_take_rate_at(c, 100.0, &d), 429);
    assert_int_equal(d.retry_after, 1); /* 1 token at 2/s: 0.5 s, rounded up */
    assert_string_equal(d.rule, "rate");
    assert_int_equal(policy_take_rate_at(c, 100.5, &d), 0); /* one token back */
    assert_int_equal(policy_take_rate_at(c, 100.5, &d), 429);
    assert_int_equal(policy_take_rate_at(c, 200.0, &d), 0); /* refilled, capped at 4 */
    for (int i = 0; i < 3; i++)
        assert_int_equal(policy_take_rate_at(c, 200.0, &d), 0);
    assert_int_equal(policy_take_rate_at(c, 200.0, &d), 429);
    const policy_client *f = policy_find(p, "free");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(policy_take_rate_at(f, 1.0, &d), 0);
    assert_null(policy_find(p, "nobody")); /* no "*" entry */
    policy_free(p);
}

/* A reload keeps each client's bucket (SIGHUP must not refill a rate). */
static void test_bucket_carried_over_reload(void **state)
{
    (void)state;
    char err[256];
    policy *old = load();
    const policy_client *c = policy_find(old, "slow");
    auth_denial d;
    for (int i = 0; i < 4; i++)
        assert_int_equal(policy_take_rate_at(c, 100.0, &d), 0);
    assert_int_equal(policy_take_rate_at(c, 100.0, &d), 429);

    /* Same client, smaller burst, plus a client the old policy did not have. */
    static const char NEXT[] =
        "{\"clients\": {\"slow\": {\"resources\": [\"verification\"], \"rate\": 2,"
        " \"burst\": 2}, \"fresh\": {\"resources\": [\"verification\"], \"rate\": 1}}}";
    policy *next = policy_parse(NEXT, sizeof NEXT - 1, "next", err, sizeof err);
    assert_non_null(next);
    policy_carry_buckets(next, old);
    policy_free(old);
    c = policy_find(next, "slow");
    assert_int_equal(policy_take_rate_at(c, 100.0, &d), 429); /* still empty */
    assert_int_equal(policy_take_rate_at(c, 100.5, &d), 0);   /* refills at 2/s */
    assert_int_equal(policy_take_rate_at(c, 100.5, &d), 429);
    assert_int_equal(policy_take_rate_at(c, 200.0, &d), 0); /* capped at the new burst 2 */
    assert_int_equal(policy_take_rate_at(c, 200.0, &d), 0);
    assert_int_equal(policy_take_rate_at(c, 200.0, &d), 429);
    const policy_client *f = policy_find(next, "fresh"); /* new: a full bucket */
    assert_int_equal(policy_take_rate_at(f, 300.0, &d), 0);
    assert_int_equal(policy_take_rate_at(f, 300.0, &d), 429);
    policy_free(next);
}

struct race {
    const policy_client *c;
    int ok;
};

static void *taker(void *arg)
{
    struct race *r = arg;
    auth_denial d;
    for (int i = 0; i < 1000; i++)
        if (policy_take_rate_at(r->c, 50.0, &d) == 0)
            r->ok++;
    return NULL;
}

/* 8 threads at one instant: exactly `burst` requests pass in total. */
static void test_bucket_threads(void **state)
{
    (void)state;
    policy *p = load();
    struct race r[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        r[i].c = policy_find(p, "slow");
        r[i].ok = 0;
        assert_int_equal(pthread_create(&t[i], NULL, taker, &r[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        total += r[i].ok;
    }
    assert_int_equal(total, 4);
    policy_free(p);
}

/* A reload swaps the object; a request holding the old one still reads it. */
static void test_holder_reload(void **state)
{
    (void)state;
    char dir[] = "/tmp/stirpolicyXXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/p.json", dir);
    FILE *f = fopen(path, "w");
    fputs(DOC, f);
    fclose(f);
    stird_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.auth = AUTH_MODE_STATIC;
    cfg.policy_file = path;
    auth *a = auth_load(&cfg, err, sizeof err);
    assert_non_null(a);
    auth_holder *h = auth_holder_new(a);
    auth_ref *held = auth_acquire(h);

    f = fopen(path, "w");
    fputs("{\"clients\": {\"slow\": {\"resources\": [\"signing\"], \"bogus\": 1}}}", f);
    fclose(f);
    assert_int_equal(auth_holder_reload(h, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "client 'slow': bogus: unknown member"));

    f = fopen(path, "w");
    fputs("{\"clients\": {\"new\": {\"resources\": [\"signing\"]}}}", f);
    fclose(f);
    assert_int_equal(auth_holder_reload(h, &cfg, err, sizeof err), 0);

    http_client c;
    memset(&c, 0, sizeof c);
    c.has_cert = 1;
    snprintf(c.identity, sizeof c.identity, "slow");
    const policy_client *pol;
    auth_denial d;
    assert_int_equal(auth_check(auth_of(held), &c, NULL, AUTH_RES_VERIFICATION, 0, &pol, &d), 0);
    auth_release(held);
    auth_ref *now = auth_acquire(h);
    assert_int_equal(auth_check(auth_of(now), &c, NULL, AUTH_RES_VERIFICATION, 0, &pol, &d), 403);
    assert_string_equal(d.rule, "clients");
    auth_release(now);
    auth_holder_free(h);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_clock),
        cmocka_unit_test(test_bucket_threads),
        cmocka_unit_test(test_bucket_carried_over_reload),
        cmocka_unit_test(test_holder_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
