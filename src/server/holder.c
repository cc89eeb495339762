/*
 * Reference-counted, swappable objects (see holder.h).
 */
#include "holder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct holder_ref {
    atomic_int refs; /* the holder's one + one per request using it */
    void *obj;
    void (*free_obj)(void *obj);
};

struct holder {
    pthread_mutex_t mu;
    holder_ref *cur;
    void (*free_obj)(void *obj);
};

static holder_ref *ref_new(void *obj, void (*free_obj)(void *))
{
    holder_ref *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    r->obj = obj;
    r->free_obj = free_obj;
    return r;
}

holder *holder_new(void *obj, void (*free_obj)(void *obj))
{
    holder *h = calloc(1, sizeof *h);
    if (!h || !(h->cur = ref_new(obj, free_obj))) {
        free(h);
        return NULL;
    }
    h->free_obj = free_obj;
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

void holder_release(holder_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        if (r->obj)
            r->free_obj(r->obj);
        free(r);
    }
}

void holder_free(holder *h)
{
    if (!h)
        return;
    holder_release(h->cur);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

holder_ref *holder_acquire(holder *h)
{
    pthread_mutex_lock(&h->mu);
    holder_ref *r = h->cur;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&h->mu);
    return r;
}

void *holder_obj(const holder_ref *r)
{
    return r->obj;
}

int holder_swap(holder *h, void *obj)
{
    holder_ref *n = ref_new(obj, h->free_obj), *old;
    if (!n)
        return -1;
    pthread_mutex_lock(&h->mu);
    old = h->cur;
    h->cur = n;
    pthread_mutex_unlock(&h->mu);
    holder_release(old);
    return 0;
}
