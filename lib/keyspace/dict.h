/*
 * dict.h — the keyspace hash table: intrusive chains through em_obj.next,
 * power-of-two bucket arrays, seeded xxh3, and incremental rehash between two
 * tables (as Redis's dict) so no operation pays for the whole keyspace.
 *
 * Invariants: while rehashing (rehashidx >= 0), buckets of t[0] below
 * rehashidx are empty and every key lives in exactly one of t[0], t[1];
 * new keys go to t[1]. Only the executor thread touches a dict.
 */
#ifndef EMBER_DICT_H
#define EMBER_DICT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "object.h"

typedef struct em_dict {
    em_obj **t[2];
    size_t size[2]; /* buckets; 0 when the table is absent */
    size_t used[2];
    ssize_t rehashidx;
    uint64_t seed;
    em_mem *mem;
    /* Optional: takes the old bucket array when a rehash completes, instead
     * of freeing it here (the keyspace hands big ones to its background
     * free thread: unmapping tens of MB would stall the command that
     * finished the rehash). Called only for arrays of DICT_RETIRE_MIN
     * buckets or more; NULL = free at once. */
    void (*retire)(void *ud, em_obj **table, size_t buckets);
    void *retire_ud;
} em_dict;

#define EM_DICT_RETIRE_MIN ((size_t)1 << 16)

/* Where a key was found: the link that points at it, and its table. */
typedef struct em_dpos {
    em_obj **link;
    int table;
} em_dpos;

void ember__dict_init(em_dict *d, em_mem *m, uint64_t seed);
/* Frees the bucket arrays only (objects belong to the caller). */
void ember__dict_release_tables(em_dict *d);
static inline size_t ember__dict_size(const em_dict *d)
{
    return d->used[0] + d->used[1];
}
static inline int ember__dict_is_rehashing(const em_dict *d)
{
    return d->rehashidx >= 0;
}
uint64_t ember__dict_hash(const em_dict *d, const void *key, size_t klen);
/* Reverses the bits of v: the order the scan cursor counts in, so r(K) of a
 * snapshot's walk. Six swaps of ever larger groups, not a 64-step loop (the
 * walker calls this for every bucket). */
static inline uint64_t ember__dict_rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFull) | ((v & 0x00FF00FF00FF00FFull) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFull) | ((v & 0x0000FFFF0000FFFFull) << 16);
    return (v >> 32) | (v << 32);
}
/* Finds key; returns 1 and fills *pos, or 0. */
int ember__dict_find(em_dict *d, const void *key, size_t klen, uint64_t h, em_dpos *pos);
/* Adds an object whose key is not present. Returns 0 or -1 (OOM growing the
 * table: the object is still added, the table just stays fuller). */
int ember__dict_add(em_dict *d, em_obj *o, uint64_t h);
/* Unlinks the object at pos (does not free it). */
em_obj *ember__dict_unlink(em_dict *d, const em_dpos *pos);
/* Puts n in place of the object at pos (same key). Returns the old object. */
em_obj *ember__dict_replace(em_dict *d, const em_dpos *pos, em_obj *n);
/* Moves up to n buckets to the new table. Returns 1 if more remain. */
int ember__dict_rehash(em_dict *d, size_t n);
/* Sizes an empty table for n keys (a bulk load's hint); does nothing to a
 * table that holds keys. Returns 0, or -1 when out of memory (unchanged). */
int ember__dict_reserve(em_dict *d, size_t n);
/* Rehashes for about `us` microseconds. */
void ember__dict_rehash_for(em_dict *d, int64_t us);
/* Starts a shrink when the table is under 1/10 full. */
void ember__dict_maybe_shrink(em_dict *d);
/* A random object (uniform over buckets, then within the chain), or NULL. */
em_obj *ember__dict_random(em_dict *d, uint64_t *rng);
/* Calls fn for each object of the buckets named by cursor; returns the next
 * cursor (0 when the scan is complete). See dict.c for the guarantee. */
uint64_t ember__dict_scan(em_dict *d, uint64_t cursor, void (*fn)(void *ud, em_obj *o), void *ud);
/* Calls fn on every object (which may free it), then frees the tables and
 * leaves the dict empty. Used to free a detached dict off the executor. */
void ember__dict_free_all(em_dict *d, void (*fn)(void *ud, em_obj *o), void *ud);
/* Memory held by the bucket arrays. */
size_t ember__dict_table_bytes(const em_dict *d);

#endif
