/*
 * Audit records written by many threads at once never interleave: every
 * line of the file is one whole JSON record, and none is lost.
 */
#include <pthread.h>

#include "test_util.h"
#include "audit.h"

#define THREADS 8
#define PER_THREAD 300

static audit *g_audit;

static void *writer(void *arg)
{
    long id = (long)arg;
    http_client c;
    memset(&c, 0, sizeof c);
    snprintf(c.addr, sizeof c.addr, "192.0.2.%ld", id);
    snprintf(c.principal, sizeof c.principal, "client-%ld", id);
    /* Long members make each record a few KiB: a torn write would show.
     * The reason is cut at 512 characters, an object kept up to 2 KiB. */
    char reason[4000], uri[1800];
    memset(reason, 'a' + (int)id, sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    memset(uri, 'a' + (int)id, sizeof uri - 1);
    uri[sizeof uri - 1] = '\0';
    json_t *req = json_pack("{s:{s:s},s:i}", "orig", "uri", uri, "iat", 1);
    for (int i = 0; i < PER_THREAD; i++) {
        char rid[32];
        snprintf(rid, sizeof rid, "%ld-%d", id, i);
        if (audit_refused(g_audit, &c, 1795449000, rid, req, NULL, 403, reason) != 0)
            return (void *)1;
    }
    json_decref(req);
    return NULL;
}

static void test_concurrent_records(void **state)
{
    (void)state;
    char dir[] = "/tmp/stirauditXXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.jsonl", dir);
    g_audit = audit_open(path, err, sizeof err);
    assert_non_null(g_audit);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
    audit_close(g_audit);

    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t je;
        json_t *r = json_loads(line, 0, &je);
        if (!r)
            fail_msg("line %d is not one JSON record: %s", n + 1, je.text);
        const char *reason = json_string_value(json_object_get(r, "reason"));
        const char *client = json_string_value(json_object_get(r, "client"));
        assert_non_null(reason);
        const char *uri = json_string_value(json_object_get(json_object_get(r, "orig"), "uri"));
        assert_int_equal(strlen(reason), 512);
        assert_non_null(uri);
        assert_int_equal(strlen(uri), 1799);
        assert_int_equal(reason[0], 'a' + (client[7] - '0'));
        assert_int_equal(uri[1798], reason[0]);
        assert_string_equal(json_string_value(json_object_get(r, "outcome")), "refused");
        assert_string_equal(json_string_value(json_object_get(r, "time")), "2026-11-23T15:50:00Z");
        json_decref(r);
        n++;
    }
    free(line);
    fclose(f);
    assert_int_equal(n, THREADS * PER_THREAD);
    unlink(path);
    rmdir(dir);
}

static void test_open_error(void **state)
{
    (void)state;
    char err[256];
    assert_null(audit_open("/nonexistent-dir/a.jsonl", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/a.jsonl"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_records),
        cmocka_unit_test(test_open_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
