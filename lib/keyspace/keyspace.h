/*
 * keyspace.h — the store: numbered databases of keys, expiry, lazy freeing.
 *
 * Ownership: an em_store belongs to its executor; every function here runs on
 * the executor thread (or the only thread, in inline mode), except the lazy
 * free thread, which only frees what it was handed.
 *
 * Each numbered database (em_keyspace) has a dict of objects and an array of
 * the objects that carry an expire time ("volatile"), each object storing its
 * index in that array, so adding, removing and sampling volatile keys are O(1)
 * and active expiry can sample at random as Redis does.
 *
 * Every modification of an existing key goes through this module's functions
 * (or calls ember__ks_prewrite() first when a handler edits a value in place),
 * so later layers (snapshots' pre-images, WATCH, change feeds) have one hook.
 */
#ifndef EMBER_KEYSPACE_H
#define EMBER_KEYSPACE_H

#include <pthread.h>

#include "../common/clock.h"
#include "dict.h"
#include "evict.h"

typedef struct em_keyspace {
    em_dict dict;
    em_obj **vol;
    size_t nvol, volcap;
    int id;
} em_keyspace;

typedef struct em_stats {
    uint64_t keyspace_hits, keyspace_misses;
    uint64_t expired_keys, expired_stale_perc, expire_cycles;
    uint64_t evicted_keys;
    uint64_t total_commands;
    uint64_t lazyfreed_objects;
} em_stats;

/* Why a key leaves the keyspace (for hooks and stats). */
enum { EM_DEL_USER = 0, EM_DEL_EXPIRED = 1, EM_DEL_EVICTED = 2, EM_DEL_OVERWRITE = 3 };

struct em_store;
/* Called before an existing key is modified, replaced or deleted. */
typedef void (*em_prewrite_fn)(struct em_store *st, em_keyspace *ks, em_obj *o, void *ud);
/* Called after a key that was absent is added (ember__ks_add: SET of a new
 * key, RENAME's and MOVE's destination, a re-created key...). */
typedef void (*em_added_fn)(struct em_store *st, em_keyspace *ks, em_obj *o, void *ud);
/* Called after two databases swapped their contents (SWAPDB). */
typedef void (*em_swapped_fn)(struct em_store *st, em_keyspace *a, em_keyspace *b, void *ud);

typedef struct em_lazyfree em_lazyfree;

typedef struct em_store {
    em_mem mem;
    em_clock clock;
    uint64_t seed;
    uint64_t rng;
    int ndb;
    em_keyspace *dbs;
    em_stats stats;
    uint64_t dirty; /* changes since start (for save rules) */
    int active_expire;
    /* Change hooks (snapshots: lib/persist/snapshot.c); NULL when unused.
     * All three get prewrite_ud. */
    em_prewrite_fn prewrite;
    em_added_fn added;
    em_swapped_fn swapped;
    void *prewrite_ud;
    /* Called when a key expires or is evicted, just before it goes (the
     * append log records a DEL). NULL: nobody listens. */
    void (*on_expire)(struct em_store *st, em_keyspace *ks, em_obj *o, void *ud);
    void *on_expire_ud;
    /* WATCH (lib/exec/watch.c); both NULL while no key is watched, both get
     * watch_ud. watch_key: o is about to change or go (expired: it goes
     * because it expired), or was just added. watch_db: b NULL: a is about
     * to be emptied; else a and b have just swapped their contents. */
    void (*watch_key)(struct em_store *st, em_keyspace *ks, const em_obj *o, int expired, void *ud);
    void (*watch_db)(struct em_store *st, em_keyspace *a, em_keyspace *b, void *ud);
    void *watch_ud;
    /* The keyspace-event listener (notify.h: notifications and the change
     * feed, lib/command/pubsub.c installs it); NULL when nobody listens. */
    void (*notify)(struct em_store *st, em_keyspace *ks, int ev, const void *key, size_t klen,
                   const em_obj *o);
    void *notify_ud;
    /* The listener put aside while a load fills stashed databases. */
    void (*notify_stashed)(struct em_store *st, em_keyspace *ks, int ev, const void *key,
                           size_t klen, const em_obj *o);
    em_lazyfree *lazy;
    uint32_t lru_clock; /* 24-bit seconds clock of the latest lookup; new keys start at it */
    uint32_t lfu_min;   /* Unix minutes of the same moment, for LFU fields (evict.h) */
    em_evict_cfg ev;    /* maxmemory settings (ember__evict_configure) */
    em_evpool *pool;    /* eviction candidates (ember__evict_init) */
    int evict_next_db;  /* round robin of the *-random policies */
} em_store;

/* Sets the access clocks (LRU seconds, LFU minutes) to now_ms. */
static inline void ember__ks_set_clock(em_store *st, int64_t now_ms)
{
    st->lru_clock = (uint32_t)(now_ms / 1000) & EM_LRU_CLOCK_MAX;
    st->lfu_min = (uint32_t)(now_ms / 60000) & 0xFFFF;
}
/* Records an access to o: the LFU counter (decay, then a logarithmic
 * increment) under an LFU policy, the LRU clock otherwise. */
void ember__ks_touch_lfu(em_store *st, em_obj *o);
static inline void ember__ks_touch(em_store *st, em_obj *o)
{
    if (st->ev.lfu)
        ember__ks_touch_lfu(st, o);
    else
        ember__obj_set_lru(o, st->lru_clock);
}
/* The access field a new key starts with. */
static inline uint32_t ember__ks_fresh_lru(const em_store *st)
{
    return st->ev.lfu ? ember__lfu_fresh(st->lfu_min) : st->lru_clock;
}

/* ---- maxmemory (evict.c) */

/* Applies eviction settings (at open and after CONFIG SET). */
void ember__evict_configure(em_store *st, const em_evict_cfg *cfg);
/* Allocates the candidate pool (store init); 0 or -1 on OOM. */
int ember__evict_init(em_store *st);
/* Frees the candidate pool (before the store is freed). */
void ember__evict_release(em_store *st);
/* The memory eviction compares with maxmemory (see evict.c for what it counts). */
size_t ember__evict_used(em_store *st);
/* Evicts keys by the policy until used memory is at most maxmemory, for at
 * most about budget_us. Returns EM_EVICT_OK, _RUNNING or _FAIL (evict.h). */
int ember__evict_perform(em_store *st, int64_t now_ms, int64_t budget_us);
/* The one place a key is evicted (the object at pos in ks). */
void ember__evict_key(em_store *st, em_keyspace *ks, const em_dpos *pos);

/* Lookup flags. */
enum {
    EM_LK_READ = 0,    /* a read: counts hits/misses, touches LRU */
    EM_LK_WRITE = 1,   /* a write: calls the prewrite hook, no hit/miss stats */
    EM_LK_NOTOUCH = 2, /* do not update the LRU clock */
    EM_LK_NOSTATS = 4, /* no hit/miss stats (EXISTS-like internal probes) */
};

int ember__store_init(em_store *st, const em_alloc_hooks *hooks, int ndb, uint64_t seed,
                      int virtual_clock, int64_t start_ms);
void ember__store_free(em_store *st);

/* Finds a live key: an expired key is deleted (lazy expiry) and not found.
 * Returns the object or NULL; when pos is given it is filled for
 * replace/delete. */
em_obj *ember__ks_lookup(em_store *st, em_keyspace *ks, const void *key, size_t klen,
                         int64_t now_ms, int flags, em_dpos *pos);
/* Adds a new object (key must be absent; take `pos` from a failed lookup to
 * know that). Returns 0 or -1 when the table could not grow (still added). */
int ember__ks_add(em_store *st, em_keyspace *ks, em_obj *o);
/* Replaces the object at pos with n (same key). n's expire field decides
 * whether the key stays volatile. Returns the old object, which the caller
 * frees (ember__obj_free, or ember__obj_free_shell if its body moved to n). */
em_obj *ember__ks_replace(em_store *st, em_keyspace *ks, const em_dpos *pos, em_obj *n);
/* Deletes the object at pos and frees it (in the background if `lazy` and
 * the value is large). */
void ember__ks_delete(em_store *st, em_keyspace *ks, const em_dpos *pos, int lazy, int why);
/* Removes the object at pos from the database without freeing it and hands
 * it to the caller (RENAME re-adds its value under another key). Calls the
 * prewrite hook first, as a delete would. */
em_obj *ember__ks_detach(em_store *st, em_keyspace *ks, const em_dpos *pos);
/* Sets (when >= 0) or removes (when < 0) the expire time of the object at
 * pos, rebuilding it if the field must appear or disappear. Returns the
 * object now at pos, or NULL on OOM (nothing changed). */
em_obj *ember__ks_set_expire(em_store *st, em_keyspace *ks, const em_dpos *pos, int64_t when);
/* Calls the prewrite and WATCH hooks (handlers that edit a value in place
 * call this before the first change). */
static inline void ember__ks_prewrite(em_store *st, em_keyspace *ks, em_obj *o)
{
    if (st->prewrite)
        st->prewrite(st, ks, o, st->prewrite_ud);
    if (st->watch_key)
        st->watch_key(st, ks, o, 0, st->watch_ud);
}
/* Removes every key of one database (async: freed on the lazy-free thread). */
void ember__ks_flush(em_store *st, em_keyspace *ks, int async);
/* Swaps the contents of two databases. */
void ember__ks_swap(em_store *st, em_keyspace *a, em_keyspace *b);
/* Moves an existing object from one database to another where the key is
 * absent. Returns 0 or -1 (OOM: nothing moved). */
int ember__ks_move(em_store *st, em_keyspace *from, const em_dpos *pos, em_keyspace *to);
/* A random live key's object (expired samples are expired), or NULL. */
em_obj *ember__ks_random(em_store *st, em_keyspace *ks, int64_t now_ms);
/* Active expiry: samples volatile keys of every database, Redis-style, for at
 * most budget_us. Returns the number of keys expired. */
size_t ember__ks_active_expire(em_store *st, int64_t now_ms, int64_t budget_us);
/* Background work between commands: rehash for up to budget_us. */
void ember__ks_cron(em_store *st, int64_t budget_us);
static inline int ember__ks_expired(const em_obj *o, int64_t now_ms)
{
    return ember__obj_has_expire(o) && now_ms > ember__obj_expire(o);
}
/* All-or-nothing loading: ember__store_stash moves every database out into
 * *saved (the objects keep pointing at st->mem, which stays put) and leaves
 * st with empty databases to load into; ember__store_unstash then either
 * keeps what was loaded and frees the saved data (in the background), or
 * (keep_loaded 0) frees what was loaded and puts the saved data back.
 * Returns 0, or -1 on OOM (nothing moved).
 * Keyspace events are held back meanwhile (a load is not a stream of
 * commands); a kept load reports FLUSHDB for every database instead (its
 * contents were replaced), a dropped one nothing. */
int ember__store_stash(em_store *st, em_keyspace **saved);
void ember__store_unstash(em_store *st, em_keyspace *saved, int keep_loaded);
/* Number of keys pending in the lazy-free thread. */
size_t ember__lazyfree_pending(em_store *st);
/* Waits until the lazy-free thread has finished every job handed to it. */
void ember__lazyfree_drain(em_store *st);

#endif
