/*
 * evict.c — maxmemory eviction and the LFU counter (evict.h, keyspace.h).
 *
 * What counts: ember__evict_used() is the store's em_mem `used`, i.e. every
 * block the store allocated through its allocator hooks with the allocator's
 * usable size plus its chunk header: key objects, value bodies, the bucket
 * arrays of the keyspace tables and of collections, the volatile-key arrays,
 * blocks waiting on the lazy-free thread (until it frees them) and this
 * module's candidate pool. Not counted: the append log's record buffer (plain
 * malloc, emptied at every group commit; Redis too leaves its AOF buffer out
 * of the eviction decision, so that the DELs eviction logs cannot feed more
 * eviction), reply objects handed to callers (they belong to the caller and
 * outlive the database) and the arguments of callers parked in blocking
 * commands (they live in the caller's request).
 *
 * Ownership: everything here runs on the executor thread.
 */
#include <stdlib.h>

#include "../common/common.h"
#include "../common/hash.h"
#include "keyspace.h"

/* ---------------------------------------------------------------- LFU counter */

uint32_t ember__lfu_elapsed(uint32_t now_min, uint32_t ldt)
{
    now_min &= 0xFFFF;
    return now_min >= ldt ? now_min - ldt : 65535 - ldt + now_min;
}

uint32_t ember__lfu_decayed(uint32_t f, uint32_t now_min, int decay_time)
{
    uint32_t counter = f & 255;
    uint32_t periods =
        decay_time > 0 ? ember__lfu_elapsed(now_min, f >> 8) / (uint32_t)decay_time : 0;
    return periods >= counter ? 0 : counter - periods;
}

/*
 * The counter is logarithmic: the chance of an increment falls as 1/(base *
 * factor + 1), so with the default factor 10 about a million accesses are
 * needed to reach 255, and counters of keys accessed 10, 100, 1000 times stay
 * apart instead of all saturating. The first EM_LFU_INIT steps are free (a
 * new key's starting credit is not an access history).
 */
uint32_t ember__lfu_incr(uint32_t counter, int log_factor, double r)
{
    if (counter >= 255)
        return 255;
    double base = counter > EM_LFU_INIT ? (double)(counter - EM_LFU_INIT) : 0.0;
    double p = 1.0 / (base * log_factor + 1);
    return r < p ? counter + 1 : counter;
}

void ember__ks_touch_lfu(em_store *st, em_obj *o)
{
    uint32_t c = ember__lfu_decayed(ember__obj_lru(o), st->lfu_min, st->ev.lfu_decay_time);
    double r = (double)(ember__rand64(&st->rng) >> 11) * 0x1.0p-53;
    c = ember__lfu_incr(c, st->ev.lfu_log_factor, r);
    ember__obj_set_lru(o, ((st->lfu_min & 0xFFFF) << 8) | c);
}

/* ---------------------------------------------------------------- the pool */

/*
 * Why sampling is a good approximation (as Redis's): exact LRU would need a
 * list threaded through every key (16 bytes per key). Instead each round
 * samples `maxmemory-samples` keys of every database and merges them into a
 * pool of the POOL_SIZE best candidates seen so far, kept across rounds and
 * across commands. Evicting the best of the pool, the victim is the worst of
 * roughly POOL_SIZE + samples x rounds random keys, not of one sample: the
 * pool carries good candidates over, so a key that is idle for long is very
 * likely to be picked within a few rounds, and the keys evicted are almost
 * always in the idlest few percent (Redis measured its pool, with 10
 * samples, to be close to true LRU on skewed workloads). A pool entry stores
 * a copy of the key, not a pointer: the key may have been deleted, rewritten
 * or moved since it was sampled, so a candidate is looked up again before it
 * is evicted, and dropped if it is gone. Scores are "higher = evict first":
 * idle milliseconds (LRU), 255 - counter (LFU), UINT64_MAX - expire time (TTL).
 */
#define POOL_SIZE 16
#define POOL_KEY_INLINE 48

typedef struct pool_entry {
    uint64_t score;
    int db;
    size_t klen;
    char *key; /* = buf, or an allocation for longer keys */
    char buf[POOL_KEY_INLINE];
} pool_entry;

struct em_evpool {
    size_t n; /* entries [0, n) sorted by score, ascending: the best is last */
    pool_entry e[POOL_SIZE];
};

static void entry_clear(em_store *st, pool_entry *e)
{
    if (e->key != e->buf)
        ember__mem_free(&st->mem, e->key);
    e->key = e->buf;
    e->klen = 0;
}

/* Moves entry contents (the inline buffer moves with it). */
static void entry_move(pool_entry *dst, pool_entry *src)
{
    int inl = src->key == src->buf;
    *dst = *src;
    if (inl)
        dst->key = dst->buf;
    src->key = src->buf;
}

static void pool_insert(em_store *st, em_evpool *p, uint64_t score, int db, const char *k,
                        size_t kl)
{
    if (p->n == POOL_SIZE && score <= p->e[0].score)
        return; /* worse than everything already held */
    for (size_t i = 0; i < p->n; i++)
        if (p->e[i].db == db && p->e[i].klen == kl && memcmp(p->e[i].key, k, kl) == 0)
            return; /* sampled again: its score has not changed meaningfully */
    char *copy = NULL;
    if (kl > POOL_KEY_INLINE && !(copy = ember__mem_alloc(&st->mem, kl)))
        return;
    size_t at = 0;
    while (at < p->n && p->e[at].score < score)
        at++;
    if (p->n == POOL_SIZE) {
        /* Full: drop the worst (index 0), shift the lower part down. */
        entry_clear(st, &p->e[0]);
        for (size_t i = 1; i < at; i++)
            entry_move(&p->e[i - 1], &p->e[i]);
        at--;
    } else {
        for (size_t i = p->n; i > at; i--)
            entry_move(&p->e[i], &p->e[i - 1]);
        p->n++;
    }
    pool_entry *e = &p->e[at];
    e->key = copy ? copy : e->buf;
    memcpy(e->key, k, kl);
    e->klen = kl;
    e->score = score;
    e->db = db;
}

static uint64_t score_of(const em_store *st, const em_obj *o)
{
    switch (st->ev.policy) {
    case EM_POLICY_ALLKEYS_LFU:
    case EM_POLICY_VOLATILE_LFU:
        return 255 - ember__lfu_decayed(ember__obj_lru(o), st->lfu_min, st->ev.lfu_decay_time);
    case EM_POLICY_VOLATILE_TTL:
        return UINT64_MAX - (uint64_t)ember__obj_expire(o);
    default:
        return ember__lru_idle_ms(st->lru_clock, ember__obj_lru(o));
    }
}

static int policy_volatile(int p)
{
    return p >= EM_POLICY_VOLATILE_LRU;
}

/* One sample of a database (dict or volatile array, by policy), or NULL. */
static em_obj *sample_key(em_store *st, em_keyspace *ks)
{
    if (policy_volatile(st->ev.policy)) {
        if (!ks->nvol)
            return NULL;
        return ks->vol[ember__rand64(&st->rng) % ks->nvol];
    }
    return ember__dict_random(&ks->dict, &st->rng);
}

static size_t db_candidates(const em_store *st, const em_keyspace *ks)
{
    return policy_volatile(st->ev.policy) ? ks->nvol : ember__dict_size(&ks->dict);
}

/* Refills the pool from every database. Returns 0 if no database has a key
 * the policy may evict. */
static int pool_populate(em_store *st, em_evpool *p)
{
    int any = 0;
    for (int d = 0; d < st->ndb; d++) {
        em_keyspace *ks = &st->dbs[d];
        size_t avail = db_candidates(st, ks);
        if (!avail)
            continue;
        any = 1;
        int n = st->ev.samples > 0 ? st->ev.samples : 1;
        if ((size_t)n > avail)
            n = (int)avail;
        for (int i = 0; i < n; i++) {
            em_obj *o = sample_key(st, ks);
            if (!o)
                break;
            size_t kl;
            const char *k = ember__obj_key(o, &kl);
            pool_insert(st, p, score_of(st, o), d, k, kl);
        }
    }
    return any;
}

/* Finds the pool's best candidate still present; fills *ks and *pos. */
static int pool_pick(em_store *st, em_evpool *p, em_keyspace **ks, em_dpos *pos)
{
    while (p->n) {
        pool_entry *e = &p->e[--p->n];
        em_keyspace *k = &st->dbs[e->db];
        int found = ember__dict_find(&k->dict, e->key, e->klen,
                                     ember__dict_hash(&k->dict, e->key, e->klen), pos);
        /* A volatile policy must not take a key whose TTL was removed since. */
        if (found && policy_volatile(st->ev.policy) && !ember__obj_has_expire(*pos->link))
            found = 0;
        entry_clear(st, e);
        if (found) {
            *ks = k;
            return 1;
        }
    }
    return 0;
}

static void pool_free(em_store *st, em_evpool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        entry_clear(st, &p->e[i]);
    ember__mem_free(&st->mem, p);
}

/* ---------------------------------------------------------------- eviction */

void ember__evict_configure(em_store *st, const em_evict_cfg *cfg)
{
    int changed = cfg->policy != st->ev.policy;
    st->ev = *cfg;
    st->ev.lfu = ember__policy_is_lfu(cfg->policy);
    if (changed && st->pool) {
        /* Scores of another policy mean nothing now. */
        for (size_t i = 0; i < st->pool->n; i++)
            entry_clear(st, &st->pool->e[i]);
        st->pool->n = 0;
    }
}

int ember__evict_init(em_store *st)
{
    /* Allocated up front: memory taken when the limit is first reached
     * would itself push the store further over. */
    st->pool = ember__mem_calloc(&st->mem, sizeof *st->pool);
    return st->pool ? 0 : -1;
}

void ember__evict_release(em_store *st)
{
    pool_free(st, st->pool);
    st->pool = NULL;
}

size_t ember__evict_used(em_store *st)
{
    return ember__mem_used(&st->mem);
}

/*
 * Every eviction goes through here: the keyspace hook (the append log's DEL,
 * through st->on_expire) and the evicted_keys counter are in ember__ks_delete;
 * a keyspace-notification "evicted" event belongs here too. The value is freed
 * on the lazy-free thread when it is large, so evicting a big collection does
 * not stall the executor.
 */
void ember__evict_key(em_store *st, em_keyspace *ks, const em_dpos *pos)
{
    ember__ks_delete(st, ks, pos, 1, EM_DEL_EVICTED);
}

/* A random victim for the *-random policies, round robin over databases. */
static int pick_random(em_store *st, em_keyspace **ks, em_dpos *pos)
{
    for (int i = 0; i < st->ndb; i++) {
        int d = (st->evict_next_db + i) % st->ndb;
        em_keyspace *k = &st->dbs[d];
        em_obj *o = db_candidates(st, k) ? sample_key(st, k) : NULL;
        if (!o)
            continue;
        size_t kl;
        const char *key = ember__obj_key(o, &kl);
        if (!ember__dict_find(&k->dict, key, kl, ember__dict_hash(&k->dict, key, kl), pos))
            continue;
        st->evict_next_db = (d + 1) % st->ndb;
        *ks = k;
        return 1;
    }
    return 0;
}

int ember__evict_perform(em_store *st, int64_t now_ms, int64_t budget_us)
{
    if (!st->ev.maxmemory || ember__evict_used(st) <= st->ev.maxmemory)
        return EM_EVICT_OK;
    if (st->ev.policy == EM_POLICY_NOEVICTION)
        return EM_EVICT_FAIL;
    ember__ks_set_clock(st, now_ms);
    int64_t end = ember__mono_ns() + budget_us * 1000;
    size_t lazy0 = ember__lazyfree_pending(st);
    int random =
        st->ev.policy == EM_POLICY_ALLKEYS_RANDOM || st->ev.policy == EM_POLICY_VOLATILE_RANDOM;
    for (unsigned n = 1; ember__evict_used(st) > st->ev.maxmemory; n++) {
        em_keyspace *ks = NULL;
        em_dpos pos;
        int found;
        if (random) {
            found = pick_random(st, &ks, &pos);
        } else {
            found = 0;
            /* Refill until a live candidate comes out; stop when no database
             * has anything the policy may evict. */
            while (!found && pool_populate(st, st->pool))
                found = pool_pick(st, st->pool, &ks, &pos);
        }
        if (!found) {
            /* Nothing evictable; memory the lazy-free thread is releasing
             * will come back: let commands run rather than refuse them. */
            return ember__lazyfree_pending(st) ? EM_EVICT_RUNNING : EM_EVICT_FAIL;
        }
        ember__evict_key(st, ks, &pos);
        /* A big value went to the lazy-free thread: its memory is not back
         * yet, and evicting more to cover it would evict too much. */
        if (ember__lazyfree_pending(st) > lazy0)
            return EM_EVICT_RUNNING;
        if ((n & 15) == 0 && ember__mono_ns() > end)
            return EM_EVICT_RUNNING; /* the timer goes on (ember__evict_perform per tick) */
    }
    return EM_EVICT_OK;
}
