/* URL-keyed hash table with an oldest-first order list (see urltab.h). */
#include <stdlib.h>
#include <string.h>

#include "urltab.h"

static uint64_t hash_url(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static sti_urltab_node **bucket_of(const sti_urltab *t, uint64_t h)
{
    return &t->buckets[h & (t->nbuckets - 1)];
}

int sti_urltab_init(sti_urltab *t, size_t max_entries, size_t entry_size, size_t node_offset,
                    sti_urltab_release_fn *release, void *owner)
{
    memset(t, 0, sizeof *t);
    /* A power of two >= max_entries: chains stay short without growing. */
    size_t want = max_entries < 16 ? 16 : max_entries;
    size_t n = 16;
    while (n < want)
        n <<= 1;
    t->buckets = calloc(n, sizeof *t->buckets);
    if (!t->buckets)
        return -1;
    t->nbuckets = n;
    t->max_entries = max_entries;
    t->entry_size = entry_size;
    t->node_offset = node_offset;
    t->release = release;
    t->owner = owner;
    return 0;
}

void sti_urltab_destroy(sti_urltab *t)
{
    while (t->oldest)
        sti_urltab_remove(t, t->oldest);
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

static sti_urltab_node *find_hashed(const sti_urltab *t, const char *url, uint64_t h)
{
    for (sti_urltab_node *n = *bucket_of(t, h); n; n = n->hnext)
        if (n->hash == h && strcmp(n->url, url) == 0)
            return n;
    return NULL;
}

sti_urltab_node *sti_urltab_find(const sti_urltab *t, const char *url)
{
    return find_hashed(t, url, hash_url(url));
}

static void order_unlink(sti_urltab *t, sti_urltab_node *n)
{
    if (n->older)
        n->older->newer = n->newer;
    else
        t->oldest = n->newer;
    if (n->newer)
        n->newer->older = n->older;
    else
        t->newest = n->older;
    n->older = n->newer = NULL;
}

static void order_append(sti_urltab *t, sti_urltab_node *n)
{
    n->older = t->newest;
    n->newer = NULL;
    if (t->newest)
        t->newest->newer = n;
    else
        t->oldest = n;
    t->newest = n;
}

sti_urltab_node *sti_urltab_upsert(sti_urltab *t, const char *url)
{
    uint64_t h = hash_url(url);
    sti_urltab_node *n = find_hashed(t, url, h);
    if (n) {
        order_unlink(t, n);
        order_append(t, n);
        return n;
    }
    while (t->count >= t->max_entries && t->oldest)
        sti_urltab_remove(t, t->oldest);
    char *e = calloc(1, t->entry_size);
    char *key = e ? strdup(url) : NULL;
    if (!key) {
        free(e);
        return NULL;
    }
    n = (sti_urltab_node *)(void *)(e + t->node_offset);
    n->url = key;
    n->hash = h;
    sti_urltab_node **b = bucket_of(t, h);
    n->hnext = *b;
    *b = n;
    order_append(t, n);
    t->count++;
    return n;
}

void sti_urltab_remove(sti_urltab *t, sti_urltab_node *n)
{
    sti_urltab_node **pp = bucket_of(t, n->hash);
    while (*pp != n)
        pp = &(*pp)->hnext;
    *pp = n->hnext;
    order_unlink(t, n);
    t->count--;
    if (t->release)
        t->release(t->owner, n);
    free(n->url);
    free((char *)n - t->node_offset);
}
