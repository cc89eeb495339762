/*
 * URL-keyed hash table with an oldest-first order list (private to
 * libstir): the table mechanics shared by the certificate cache and the
 * rcd content cache. Each cache's entry type embeds a sti_urltab_node;
 * the table allocates entries (zeroed), evicts the oldest when full and
 * frees them, calling the cache's release hook for what an entry holds.
 * Expiry, negative entries and fetching stay with the caches. Not locked:
 * the caller holds its own mutex.
 *
 * Buckets are sized once, for max_entries, so the table never grows.
 */
#ifndef STIR_URLTAB_H
#define STIR_URLTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct sti_urltab_node {
    char *url; /* the key, owned by the table */
    uint64_t hash;
    struct sti_urltab_node *hnext;         /* bucket chain */
    struct sti_urltab_node *older, *newer; /* insertion order, for eviction */
} sti_urltab_node;

/* Releases what the entry of n holds (not the entry itself), just before
 * the table frees it. */
typedef void sti_urltab_release_fn(void *owner, sti_urltab_node *n);

typedef struct sti_urltab {
    sti_urltab_node **buckets;
    size_t nbuckets, count, max_entries;
    sti_urltab_node *oldest, *newest;
    size_t entry_size, node_offset; /* the caller's entry type */
    sti_urltab_release_fn *release;
    void *owner;
} sti_urltab;

/* The entry of type `type` whose member `member` is node `n` (not NULL). */
#define STI_URLTAB_ENTRY(n, type, member) ((type *)(void *)((char *)(n)-offsetof(type, member)))

/*
 * An empty table whose entries are entry_size bytes with the node at
 * node_offset (sizeof and offsetof of the caller's type), holding at most
 * max_entries (>= 1); -1 when out of memory. release may be NULL.
 */
int sti_urltab_init(sti_urltab *t, size_t max_entries, size_t entry_size, size_t node_offset,
                    sti_urltab_release_fn *release, void *owner);

/* Removes every entry, then frees the buckets. Safe on a zeroed table. */
void sti_urltab_destroy(sti_urltab *t);

sti_urltab_node *sti_urltab_find(const sti_urltab *t, const char *url);

/*
 * The node of url, moved to the newest position; when absent, a zeroed
 * entry is added as the newest, after evicting the oldest while the table
 * is full. NULL only when out of memory (evictions may have happened).
 */
sti_urltab_node *sti_urltab_upsert(sti_urltab *t, const char *url);

/* Takes n out of the table, releases and frees its entry. */
void sti_urltab_remove(sti_urltab *t, sti_urltab_node *n);

/* The next entry to evict, NULL when empty. */
static inline sti_urltab_node *sti_urltab_oldest(const sti_urltab *t)
{
    return t->oldest;
}

static inline size_t sti_urltab_count(const sti_urltab *t)
{
    return t->count;
}

#endif
