/*
 * The URL-keyed table of both caches (urltab.c): lookup, insertion order,
 * eviction of the oldest when full, the release hook, removal, and a
 * table large enough that buckets hold several keys.
 */
#include "test_util.h"
#include "urltab.h"

typedef struct entry {
    int value;
    sti_urltab_node node; /* not first: exercises the offset */
    char *held;           /* what the release hook frees */
} entry;

typedef struct owner {
    int released;
    char last[64];
} owner;

static void release(void *o, sti_urltab_node *n)
{
    owner *w = o;
    entry *e = STI_URLTAB_ENTRY(n, entry, node);
    w->released++;
    snprintf(w->last, sizeof w->last, "%s", n->url);
    free(e->held);
    e->held = NULL;
}

static entry *put(sti_urltab *t, const char *url, int value)
{
    sti_urltab_node *n = sti_urltab_upsert(t, url);
    assert_non_null(n);
    assert_string_equal(n->url, url);
    entry *e = STI_URLTAB_ENTRY(n, entry, node);
    e->value = value;
    free(e->held);
    e->held = strdup(url);
    return e;
}

static int value_of(const sti_urltab *t, const char *url)
{
    sti_urltab_node *n = sti_urltab_find(t, url);
    return n ? STI_URLTAB_ENTRY(n, entry, node)->value : -1;
}

static void test_find_and_evict_oldest(void **state)
{
    (void)state;
    owner w = {0};
    sti_urltab t;
    assert_int_equal(sti_urltab_init(&t, 3, sizeof(entry), offsetof(entry, node), release, &w), 0);
    assert_null(sti_urltab_oldest(&t));
    assert_int_equal(value_of(&t, "https://a.example/x"), -1);
    put(&t, "https://a.example/x", 1);
    put(&t, "https://b.example/x", 2);
    put(&t, "https://c.example/x", 3);
    assert_int_equal(sti_urltab_count(&t), 3);
    assert_int_equal(value_of(&t, "https://a.example/x"), 1);
    assert_int_equal(value_of(&t, "https://b.example/x"), 2);
    assert_int_equal(value_of(&t, "https://c.example/x"), 3);
    /* Keys are exact: no prefix or case folding. */
    assert_int_equal(value_of(&t, "https://a.example/"), -1);
    assert_int_equal(value_of(&t, "https://A.example/x"), -1);
    assert_string_equal(sti_urltab_oldest(&t)->url, "https://a.example/x");

    /* A fourth key evicts the oldest, a, through the release hook. */
    put(&t, "https://d.example/x", 4);
    assert_int_equal(sti_urltab_count(&t), 3);
    assert_int_equal(w.released, 1);
    assert_string_equal(w.last, "https://a.example/x");
    assert_int_equal(value_of(&t, "https://a.example/x"), -1);
    assert_string_equal(sti_urltab_oldest(&t)->url, "https://b.example/x");

    /* Upserting b again keeps its entry (no release, value kept) and makes
     * it the newest, so c is the next to go. */
    sti_urltab_node *n = sti_urltab_upsert(&t, "https://b.example/x");
    assert_int_equal(STI_URLTAB_ENTRY(n, entry, node)->value, 2);
    assert_int_equal(w.released, 1);
    assert_string_equal(sti_urltab_oldest(&t)->url, "https://c.example/x");
    put(&t, "https://e.example/x", 5);
    assert_string_equal(w.last, "https://c.example/x");
    assert_int_equal(value_of(&t, "https://b.example/x"), 2);

    /* Remove releases and frees; the order list stays consistent. */
    sti_urltab_remove(&t, sti_urltab_find(&t, "https://d.example/x"));
    assert_int_equal(w.released, 3);
    assert_int_equal(sti_urltab_count(&t), 2);
    assert_string_equal(sti_urltab_oldest(&t)->url, "https://b.example/x");
    sti_urltab_remove(&t, sti_urltab_oldest(&t));
    assert_string_equal(sti_urltab_oldest(&t)->url, "https://e.example/x");

    /* A new entry comes zeroed. */
    n = sti_urltab_upsert(&t, "https://f.example/x");
    assert_int_equal(STI_URLTAB_ENTRY(n, entry, node)->value, 0);
    assert_null(STI_URLTAB_ENTRY(n, entry, node)->held);

    sti_urltab_destroy(&t);
    assert_int_equal(w.released, 6); /* e and f released by destroy */
}

/* More keys than buckets could hold one each: chains, evictions in order. */
static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 2000 };
    owner w = {0};
    sti_urltab t;
    char u[64];
    assert_int_equal(sti_urltab_init(&t, N, sizeof(entry), offsetof(entry, node), release, &w), 0);
    for (int i = 0; i < N; i++) {
        snprintf(u, sizeof u, "https://h%d.example/c.pem", i);
        put(&t, u, i);
    }
    assert_int_equal(sti_urltab_count(&t), N);
    for (int i = 0; i < N; i++) {
        snprintf(u, sizeof u, "https://h%d.example/c.pem", i);
        assert_int_equal(value_of(&t, u), i);
    }
    /* N more: each evicts the oldest of the first N, in insertion order. */
    for (int i = N; i < 2 * N; i++) {
        snprintf(u, sizeof u, "https://h%d.example/c.pem", i);
        put(&t, u, i);
        char gone[64];
        snprintf(gone, sizeof gone, "https://h%d.example/c.pem", i - N);
        assert_string_equal(w.last, gone);
    }
    assert_int_equal(w.released, N);
    assert_int_equal(sti_urltab_count(&t), N);
    snprintf(u, sizeof u, "https://h%d.example/c.pem", N - 1);
    assert_int_equal(value_of(&t, u), -1);
    snprintf(u, sizeof u, "https://h%d.example/c.pem", 2 * N - 1);
    assert_int_equal(value_of(&t, u), 2 * N - 1);
    sti_urltab_destroy(&t);
    assert_int_equal(w.released, 2 * N);
}

static void test_single_entry_and_null_release(void **state)
{
    (void)state;
    sti_urltab t;
    /* No release hook: the table still frees its entries. */
    assert_int_equal(sti_urltab_init(&t, 1, sizeof(entry), offsetof(entry, node), NULL, NULL), 0);
    sti_urltab_upsert(&t, "https://a.example/");
    sti_urltab_upsert(&t, "https://b.example/");
    assert_int_equal(sti_urltab_count(&t), 1);
    assert_null(sti_urltab_find(&t, "https://a.example/"));
    assert_non_null(sti_urltab_find(&t, "https://b.example/"));
    sti_urltab_destroy(&t);
    /* Destroy on a zeroed table is safe (caches call it on failed set-up). */
    sti_urltab z;
    memset(&z, 0, sizeof z);
    sti_urltab_destroy(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_evict_oldest),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_single_entry_and_null_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
