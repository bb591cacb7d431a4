/*
 * watch.h — the registry behind WATCH: which clients watch which keys, and
 * whether a key they watch was modified since (Redis's "dirty CAS" flag).
 *
 * A watcher is one client's watch state. Its memory is allocated by the
 * client's thread (calloc, all zero) and handed to the executor with the
 * first request that names it; from then on only the executor touches it,
 * and ember__watch_release() frees it. At close, ember__watch_free() frees
 * the watchers that still watch keys; one that watches nothing is not
 * referenced by the registry, and its client may free it itself once no
 * request naming it is pending.
 *
 * The registry is a dict keyed by the database number and the key (the
 * blocking registry's key format), each entry listing the watchers of that
 * key. The store calls two hooks (em_store.watch_key / watch_db), installed
 * only while at least one key is watched, so a write costs one NULL test
 * when nobody watches and one dict probe when somebody does.
 *
 * Redis 7.0's rules, as the hooks apply them:
 *  - any change of a watched key makes its watchers dirty: a write to an
 *    existing key (every ember__ks_prewrite), a key added, a key deleted
 *    (DEL, eviction, expiry);
 *  - a key that was already logically expired when WATCH ran is special:
 *    its deletion by expiry is no change (the flag is cleared instead), and
 *    FLUSHDB / SWAPDB ignore it;
 *  - FLUSHDB / FLUSHALL dirty the watchers of the keys that existed (and
 *    were not expired) in the emptied database; SWAPDB those of keys that
 *    exist in either of the two databases;
 *  - EXEC also fails if a key that was live at WATCH time is logically
 *    expired now, even if nothing deleted it yet.
 * Executor thread only.
 */
#ifndef EMBER_WATCH_H
#define EMBER_WATCH_H

#include "../keyspace/keyspace.h"

typedef struct em_watcher em_watcher;
typedef struct em_wkey em_wkey;

/* One watched key of one watcher. */
typedef struct em_wnode {
    struct em_wnode *kprev, *knext; /* the key's watchers */
    struct em_wnode *wnext;         /* the watcher's keys */
    em_wkey *wk;
    em_watcher *w;
    int expired; /* the key was logically expired when WATCH ran */
} em_wnode;

struct em_wkey {
    em_wnode *head;
    em_obj *entry; /* its entry in em_watch_reg.keys */
    int32_t dbid;
};

struct em_watcher {
    em_wnode *keys;
    int dirty; /* a watched key changed: EXEC fails */
};

typedef struct em_watch_reg {
    em_dict keys;
    em_store *st;
} em_watch_reg;

void ember__watch_init(em_watch_reg *reg, em_store *st, uint64_t seed);
/* Frees every watcher that watches a key, and every entry (close); removes
 * the store's hooks. */
void ember__watch_free(em_watch_reg *reg);
/* WATCH: w watches argv[1..argc) in database dbid. Out of memory, w is made
 * dirty instead (its EXEC then fails, which is always safe). */
void ember__watch_keys(em_watch_reg *reg, em_watcher *w, int32_t dbid, size_t argc,
                       const char *const *argv, const size_t *argvlen);
/* UNWATCH: w forgets every key and its dirty flag. */
void ember__watch_clear(em_watch_reg *reg, em_watcher *w);
/* The client is gone: clears w and frees it. */
void ember__watch_release(em_watch_reg *reg, em_watcher *w);
/* EXEC: 1 if the transaction may run (nothing watched changed and no key
 * live at WATCH time is expired now), 0 if it must fail. Unwatches all. */
int ember__watch_exec_check(em_watch_reg *reg, em_watcher *w);

#endif
