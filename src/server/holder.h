/*
 * An object that SIGHUP replaces while requests use it (the signer, the
 * trust anchors with their certificate cache and verifier, the policy and
 * OAuth keys, the TLS contexts, the x5u document): a request
 * takes a reference to the current one with holder_acquire and gives it
 * back with holder_release; holder_swap puts a new one in for the next
 * requests, and the old one is freed by whoever drops its last reference,
 * so requests in flight finish on the object they started with.
 * Cost per request: a mutex around one atomic increment, one atomic
 * decrement.
 */
#ifndef STIRD_HOLDER_H
#define STIRD_HOLDER_H

typedef struct holder holder;
typedef struct holder_ref holder_ref;

/* Takes `obj` (may be NULL); free_obj(obj) runs when it is dropped. NULL:
 * out of memory, `obj` not taken. */
holder *holder_new(void *obj, void (*free_obj)(void *obj));
void holder_free(holder *h);
holder_ref *holder_acquire(holder *h);
void *holder_obj(const holder_ref *r);
void holder_release(holder_ref *r);
/* Takes `obj`. -1: out of memory, `obj` not taken, the old one stays. */
int holder_swap(holder *h, void *obj);

#endif
