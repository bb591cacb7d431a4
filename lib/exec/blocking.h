/*
 * blocking.h — callers waiting on keys (BLPOP, BLMOVE, BZPOPMIN...).
 *
 * A waiter is a request whose command called em_block(): it stays
 * uncompleted, listed under each key it waits on (FIFO per key, so waiters
 * are served in arrival order, as Redis does) and in a list of all waiters
 * (for timeouts and close). Write commands signal their keys; the executor
 * then serves the ready keys after the request that wrote them completes.
 * Executor thread only.
 *
 * Cost: registering and serving are O(keys of the waiter); timeouts and the
 * "earliest deadline" are found by a walk over all waiters, which is fine for
 * the hundreds of waiters an in-process store sees (documented limit).
 */
#ifndef EMBER_BLOCKING_H
#define EMBER_BLOCKING_H

#include "../keyspace/dict.h"

struct em_req;
typedef struct em_bwait em_bwait;
typedef struct em_bkey em_bkey;

typedef struct em_bnode {
    struct em_bnode *prev, *next; /* in its key's FIFO */
    em_bwait *w;
    em_bkey *bk;
} em_bnode;

struct em_bkey {
    em_bnode *head, *tail;
    em_obj *entry; /* its entry in em_blocking.keys (key = dbid + key bytes) */
    em_bkey *next_ready;
    int queued;  /* in the ready list */
    int serving; /* its waiters are being served right now */
    int32_t dbid;
};

struct em_bwait {
    em_bwait *prev, *next; /* in the list of all waiters */
    struct em_req *req;
    int32_t dbid;
    int want_type;    /* EM_T_LIST or EM_T_ZSET: the key type that can serve it */
    int64_t deadline; /* store-clock ms; 0 = none */
    size_t nkeys;
    em_bnode nodes[];
};

typedef struct em_blocking {
    em_dict keys;
    em_mem *mem;
    em_bwait *head, *tail;
    size_t nwaiters;
    em_bkey *ready;
} em_blocking;

/* Tables keyed by (database, key), each entry's value a pointer to a body
 * (the blocking registry here, the WATCH registry in watch.c).
 * ember__dbkey_get: the body of (dbid, key) in d, or NULL; with create, a
 * missing entry is added with a zeroed body of body_size bytes (from m).
 * *entry gets the entry; out of memory: NULL and *oom = 1.
 * ember__dbkey_drop: removes the entry and frees it and its body.
 * ember__dbkey_key: the key bytes of an entry (the database left out). */
void *ember__dbkey_get(em_dict *d, em_mem *m, int32_t dbid, const char *key, size_t klen,
                       size_t body_size, int create, em_obj **entry, int *oom);
void ember__dbkey_drop(em_dict *d, em_mem *m, em_obj *entry);
const char *ember__dbkey_key(const em_obj *entry, size_t *len);

void ember__blk_init(em_blocking *b, em_mem *m, uint64_t seed);
void ember__blk_free(em_blocking *b);
/* Registers r as waiting on argv keys (first, first+step, ... count of them).
 * Returns the waiter or NULL on OOM. */
em_bwait *ember__blk_add(em_blocking *b, struct em_req *r, int32_t dbid, const char *const *argv,
                         const size_t *argvlen, size_t first, size_t count, size_t step,
                         int want_type, int64_t deadline);
/* Unlinks and frees a waiter (its request is the caller's to complete). */
void ember__blk_remove(em_blocking *b, em_bwait *w);
/* Marks (dbid, key) ready if anyone waits on it. */
void ember__blk_signal(em_blocking *b, int32_t dbid, const char *key, size_t klen);
/* Marks every key with waiters ready (SWAPDB, MOVE, COPY ... DB). */
void ember__blk_signal_all(em_blocking *b);
/* Takes the next ready key, or NULL. */
em_bkey *ember__blk_next_ready(em_blocking *b);
/* Frees a key's entry if nobody waits on it any more (after serving it). */
void ember__blk_release_key(em_blocking *b, em_bkey *bk);
/* The key bytes of a blocked key entry. */
const char *ember__blk_key(const em_bkey *bk, size_t *len);
/* Earliest deadline of all waiters (0 if none has one). */
int64_t ember__blk_earliest(const em_blocking *b);

#endif
