/*
 * keyspace.c — databases, lazy and active expiry, lazy freeing (keyspace.h).
 */
#include "keyspace.h"

#include "notify.h"

#include <stdlib.h>

#include "../common/common.h"
#include "../common/hash.h"

#define VOL_NONE UINT32_MAX
/* Values with more elements than this are freed off the executor (UNLINK). */
#define LAZYFREE_THRESHOLD 64

/* ---------------------------------------------------------------- lazy free */

typedef struct lazy_job {
    struct lazy_job *next;
    em_obj *obj;  /* one object, or */
    em_dict dict; /* a whole detached dict (obj == NULL) */
    em_obj **vol; /* and its volatile array */
    size_t count;
} lazy_job;

struct em_lazyfree {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond, idle;
    lazy_job *head, **tail;
    int stop, busy;
    _Atomic size_t pending;
    em_mem *mem;
    uint64_t *freed_stat;
};

static void free_obj_cb(void *ud, em_obj *o)
{
    ember__obj_free(ud, o);
}

static void *lazy_main(void *arg)
{
    em_lazyfree *lz = arg;
    pthread_mutex_lock(&lz->lock);
    for (;;) {
        while (!lz->head && !lz->stop)
            pthread_cond_wait(&lz->cond, &lz->lock);
        if (!lz->head && lz->stop)
            break;
        lazy_job *j = lz->head;
        lz->head = j->next;
        if (!lz->head)
            lz->tail = &lz->head;
        lz->busy = 1;
        pthread_mutex_unlock(&lz->lock);
        if (j->obj)
            ember__obj_free(lz->mem, j->obj);
        else
            ember__dict_free_all(&j->dict, free_obj_cb, lz->mem);
        ember__mem_free(lz->mem, j->vol);
        atomic_fetch_sub_explicit(&lz->pending, j->count, memory_order_relaxed);
        free(j);
        pthread_mutex_lock(&lz->lock);
        lz->busy = 0;
        if (!lz->head)
            pthread_cond_broadcast(&lz->idle);
    }
    pthread_mutex_unlock(&lz->lock);
    return NULL;
}

static void lazy_submit(em_store *st, lazy_job *j);

/* A keyspace dict's old bucket array after a rehash: freed on the background
 * thread (a job with an empty dict whose `vol` block is the array). */
static void retire_table(void *ud, em_obj **table, size_t buckets)
{
    em_store *st = ud;
    (void)buckets;
    lazy_job *j = st->lazy ? calloc(1, sizeof *j) : NULL;
    if (!j) {
        ember__mem_free(&st->mem, table);
        return;
    }
    ember__dict_init(&j->dict, &st->mem, 0);
    j->vol = table;
    j->count = 0;
    lazy_submit(st, j);
}

/* Every database dict of the store: its seed and the retire hook. */
static void ks_dict_init(em_store *st, em_dict *d, uint64_t seed)
{
    ember__dict_init(d, &st->mem, seed);
    d->retire = retire_table;
    d->retire_ud = st;
}

static em_lazyfree *lazy_start(em_mem *m)
{
    em_lazyfree *lz = calloc(1, sizeof *lz);
    if (!lz)
        return NULL;
    pthread_mutex_init(&lz->lock, NULL);
    pthread_cond_init(&lz->cond, NULL);
    pthread_cond_init(&lz->idle, NULL);
    lz->tail = &lz->head;
    lz->mem = m;
    if (pthread_create(&lz->thread, NULL, lazy_main, lz) != 0) {
        free(lz);
        return NULL;
    }
    return lz;
}

static void lazy_stop(em_lazyfree *lz)
{
    if (!lz)
        return;
    pthread_mutex_lock(&lz->lock);
    lz->stop = 1;
    pthread_cond_signal(&lz->cond);
    pthread_mutex_unlock(&lz->lock);
    pthread_join(lz->thread, NULL);
    pthread_mutex_destroy(&lz->lock);
    pthread_cond_destroy(&lz->cond);
    pthread_cond_destroy(&lz->idle);
    free(lz);
}

/* Hands a job to the thread; frees synchronously if that is impossible. */
static void lazy_submit(em_store *st, lazy_job *j)
{
    em_lazyfree *lz = st->lazy;
    atomic_fetch_add_explicit(&lz->pending, j->count, memory_order_relaxed);
    st->stats.lazyfreed_objects += j->count;
    j->next = NULL;
    pthread_mutex_lock(&lz->lock);
    *lz->tail = j;
    lz->tail = &j->next;
    pthread_cond_signal(&lz->cond);
    pthread_mutex_unlock(&lz->lock);
}

size_t ember__lazyfree_pending(em_store *st)
{
    return st->lazy ? atomic_load_explicit(&st->lazy->pending, memory_order_relaxed) : 0;
}

void ember__lazyfree_drain(em_store *st)
{
    em_lazyfree *lz = st->lazy;
    if (!lz)
        return;
    pthread_mutex_lock(&lz->lock);
    while (lz->head || lz->busy)
        pthread_cond_wait(&lz->idle, &lz->lock);
    pthread_mutex_unlock(&lz->lock);
}

/* ---------------------------------------------------------------- store */

int ember__store_init(em_store *st, const em_alloc_hooks *hooks, int ndb, uint64_t seed,
                      int virtual_clock, int64_t start_ms)
{
    memset(st, 0, sizeof *st);
    ember__mem_init(&st->mem, hooks);
    ember__clock_init(&st->clock, virtual_clock, start_ms);
    st->seed = seed;
    st->rng = seed ^ 0x9e3779b97f4a7c15ull;
    if (!st->rng)
        st->rng = 1;
    st->ndb = ndb;
    st->active_expire = 1;
    ember__ks_set_clock(st, ember__clock_ms(&st->clock));
    st->dbs = ember__mem_calloc(&st->mem, (size_t)ndb * sizeof(em_keyspace));
    if (!st->dbs)
        return -1;
    for (int i = 0; i < ndb; i++) {
        /* Each database gets its own seed derived from the store's. */
        ks_dict_init(st, &st->dbs[i].dict, ember__hash(&i, sizeof i, seed));
        st->dbs[i].id = i;
    }
    st->lazy = lazy_start(&st->mem);
    if (!st->lazy || ember__evict_init(st) != 0) {
        lazy_stop(st->lazy);
        st->lazy = NULL;
        ember__mem_free(&st->mem, st->dbs);
        st->dbs = NULL;
        return -1;
    }
    return 0;
}

void ember__store_free(em_store *st)
{
    ember__evict_release(st);
    lazy_stop(st->lazy);
    st->lazy = NULL;
    if (!st->dbs)
        return;
    for (int i = 0; i < st->ndb; i++) {
        ember__dict_free_all(&st->dbs[i].dict, free_obj_cb, &st->mem);
        ember__mem_free(&st->mem, st->dbs[i].vol);
    }
    ember__mem_free(&st->mem, st->dbs);
    st->dbs = NULL;
}

int ember__store_stash(em_store *st, em_keyspace **saved)
{
    em_keyspace *fresh = ember__mem_calloc(&st->mem, (size_t)st->ndb * sizeof(em_keyspace));
    if (!fresh)
        return -1;
    for (int i = 0; i < st->ndb; i++) {
        ks_dict_init(st, &fresh[i].dict, st->dbs[i].dict.seed);
        fresh[i].id = i;
    }
    *saved = st->dbs;
    st->dbs = fresh;
    st->notify_stashed = st->notify;
    st->notify = NULL;
    return 0;
}

void ember__store_unstash(em_store *st, em_keyspace *saved, int keep_loaded)
{
    em_keyspace *drop = saved;
    if (!keep_loaded) {
        drop = st->dbs;
        st->dbs = saved;
    }
    /* Kept: each flush of an old database reports its FLUSHDB. */
    if (keep_loaded)
        st->notify = st->notify_stashed;
    for (int i = 0; i < st->ndb; i++)
        ember__ks_flush(st, &drop[i], 1);
    st->notify = st->notify_stashed;
    st->notify_stashed = NULL;
    ember__mem_free(&st->mem, drop);
}

/* ---------------------------------------------------------------- volatile set */

static void vol_add(em_store *st, em_keyspace *ks, em_obj *o)
{
    if (ks->nvol == ks->volcap) {
        size_t cap = ks->volcap ? ks->volcap * 2 : 16;
        /* The bound is checked before realloc: a moved array must be kept. */
        em_obj **nv =
            cap > VOL_NONE ? NULL : ember__mem_realloc(&st->mem, ks->vol, cap * sizeof *nv);
        if (!nv) {
            /* Lazy expiry still works; only active expiry misses this key. */
            ember__obj_set_volidx(o, VOL_NONE);
            return;
        }
        ks->vol = nv;
        ks->volcap = cap;
    }
    ember__obj_set_volidx(o, (uint32_t)ks->nvol);
    ks->vol[ks->nvol++] = o;
}

static void vol_remove(em_keyspace *ks, em_obj *o)
{
    uint32_t i = ember__obj_volidx(o);
    if (i == VOL_NONE)
        return;
    em_obj *last = ks->vol[--ks->nvol];
    ks->vol[i] = last;
    ember__obj_set_volidx(last, i);
}

/* ---------------------------------------------------------------- keys */

static void free_maybe_lazy(em_store *st, em_obj *o, int lazy)
{
    size_t items;
    if (lazy && st->lazy && (items = ember__obj_items(o)) > LAZYFREE_THRESHOLD) {
        lazy_job *j = calloc(1, sizeof *j);
        if (j) {
            j->obj = o;
            j->count = items;
            lazy_submit(st, j);
            return;
        }
    }
    ember__obj_free(&st->mem, o);
}

/* Unlinks the object at pos; expired: it goes because it expired (WATCH
 * treats that deletion apart, see lib/exec/watch.h). */
static em_obj *detach(em_store *st, em_keyspace *ks, const em_dpos *pos, int expired)
{
    em_obj *o = *pos->link;
    if (st->prewrite)
        st->prewrite(st, ks, o, st->prewrite_ud);
    if (st->watch_key)
        st->watch_key(st, ks, o, expired, st->watch_ud);
    ember__dict_unlink(&ks->dict, pos);
    if (ember__obj_has_expire(o))
        vol_remove(ks, o);
    st->dirty++;
    return o;
}

em_obj *ember__ks_detach(em_store *st, em_keyspace *ks, const em_dpos *pos)
{
    return detach(st, ks, pos, 0);
}

void ember__ks_delete(em_store *st, em_keyspace *ks, const em_dpos *pos, int lazy, int why)
{
    if (why == EM_DEL_EXPIRED || why == EM_DEL_EVICTED) {
        if (st->on_expire)
            st->on_expire(st, ks, *pos->link, st->on_expire_ud);
        /* Redis publishes after the delete; the key's bytes live in the
         * object, so the event goes out just before it is freed (nothing
         * observable happens in between). */
        ember__notify_obj(st, ks, why == EM_DEL_EXPIRED ? EM_EV_EXPIRED : EM_EV_EVICTED,
                          *pos->link);
    }
    em_obj *o = detach(st, ks, pos, why == EM_DEL_EXPIRED);
    if (why == EM_DEL_EXPIRED)
        st->stats.expired_keys++;
    else if (why == EM_DEL_EVICTED)
        st->stats.evicted_keys++;
    free_maybe_lazy(st, o, lazy);
}

em_obj *ember__ks_lookup(em_store *st, em_keyspace *ks, const void *key, size_t klen,
                         int64_t now_ms, int flags, em_dpos *pos)
{
    em_dpos p;
    uint64_t h = ember__dict_hash(&ks->dict, key, klen);
    ember__ks_set_clock(st, now_ms);
    if (!ember__dict_find(&ks->dict, key, klen, h, &p)) {
        if (!(flags & (EM_LK_WRITE | EM_LK_NOSTATS))) {
            st->stats.keyspace_misses++;
            ember__notify_keyspace_event(st, ks, EM_EV_KEYMISS, key, klen, NULL);
        }
        if (pos)
            *pos = p;
        return NULL;
    }
    em_obj *o = *p.link;
    if (EM_UNLIKELY(ember__ks_expired(o, now_ms))) {
        ember__ks_delete(st, ks, &p, 0, EM_DEL_EXPIRED);
        if (!(flags & (EM_LK_WRITE | EM_LK_NOSTATS))) {
            st->stats.keyspace_misses++;
            ember__notify_keyspace_event(st, ks, EM_EV_KEYMISS, key, klen, NULL);
        }
        return NULL;
    }
    if (!(flags & (EM_LK_WRITE | EM_LK_NOSTATS)))
        st->stats.keyspace_hits++;
    if (!(flags & EM_LK_NOTOUCH))
        ember__ks_touch(st, o);
    if (pos)
        *pos = p;
    return o;
}

int ember__ks_add(em_store *st, em_keyspace *ks, em_obj *o)
{
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    int rc = ember__dict_add(&ks->dict, o, ember__dict_hash(&ks->dict, k, kl));
    ember__obj_set_lru(o, ember__ks_fresh_lru(st)); /* a new value starts its history now */
    if (ember__obj_has_expire(o))
        vol_add(st, ks, o);
    st->dirty++;
    if (st->added)
        st->added(st, ks, o, st->prewrite_ud);
    if (st->watch_key)
        st->watch_key(st, ks, o, 0, st->watch_ud);
    ember__notify_obj(st, ks, EM_EV_NEW, o);
    return rc;
}

em_obj *ember__ks_replace(em_store *st, em_keyspace *ks, const em_dpos *pos, em_obj *n)
{
    em_obj *o = *pos->link;
    ember__ks_prewrite(st, ks, o);
    ember__dict_replace(&ks->dict, pos, n);
    /* A new value under an LFU policy keeps the key's access counter (as
     * Redis's overwrite); under LRU it was just accessed. */
    ember__obj_set_lru(n, st->ev.lfu ? ember__obj_lru(o) : st->lru_clock);
    int oe = ember__obj_has_expire(o), ne = ember__obj_has_expire(n);
    if (oe && ne) {
        uint32_t i = ember__obj_volidx(o);
        ember__obj_set_volidx(n, i);
        if (i != VOL_NONE)
            ks->vol[i] = n;
    } else if (oe) {
        vol_remove(ks, o);
    } else if (ne) {
        vol_add(st, ks, n);
    }
    st->dirty++;
    return o;
}

em_obj *ember__ks_set_expire(em_store *st, em_keyspace *ks, const em_dpos *pos, int64_t when)
{
    em_obj *o = *pos->link;
    if (when >= 0 && ember__obj_has_expire(o)) {
        ember__ks_prewrite(st, ks, o);
        ember__obj_set_expire_raw(o, when);
        st->dirty++;
        return o;
    }
    if (when < 0 && !ember__obj_has_expire(o))
        return o;
    em_obj *n = ember__obj_rebuild_expire(&st->mem, o, when);
    if (!n)
        return NULL;
    ember__ks_replace(st, ks, pos, n);
    ember__obj_free_shell(&st->mem, o); /* its body now belongs to n */
    return n;
}

void ember__ks_flush(em_store *st, em_keyspace *ks, int async)
{
    size_t n = ember__dict_size(&ks->dict);
    if (st->watch_db && n)
        st->watch_db(st, ks, NULL, st->watch_ud);
    ember__notify_keyspace_event(st, ks, EM_EV_FLUSHDB, NULL, 0, NULL);
    if (st->prewrite) {
        /* Let the hook see every key before it goes (snapshots need pre-images). */
        for (int t = 0; t < 2; t++)
            for (size_t i = 0; i < ks->dict.size[t]; i++)
                for (em_obj *o = ks->dict.t[t][i]; o; o = o->next)
                    st->prewrite(st, ks, o, st->prewrite_ud);
    }
    st->dirty += n;
    lazy_job *j = async && n ? calloc(1, sizeof *j) : NULL;
    if (j) {
        j->dict = ks->dict;
        j->vol = ks->vol;
        j->count = n;
        ks_dict_init(st, &ks->dict, ks->dict.seed);
        ks->vol = NULL;
        ks->nvol = ks->volcap = 0;
        lazy_submit(st, j);
        return;
    }
    ember__dict_free_all(&ks->dict, free_obj_cb, &st->mem);
    ember__mem_free(&st->mem, ks->vol);
    ks->vol = NULL;
    ks->nvol = ks->volcap = 0;
}

void ember__ks_swap(em_store *st, em_keyspace *a, em_keyspace *b)
{
    em_keyspace t = *a;
    *a = *b;
    *b = t;
    b->id = a->id;
    a->id = t.id;
    st->dirty++;
    if (st->swapped)
        st->swapped(st, a, b, st->prewrite_ud);
    if (st->watch_db)
        st->watch_db(st, a, b, st->watch_ud);
    /* SWAPDB carries no key: klen is the other database's index. */
    ember__notify_keyspace_event(st, a, EM_EV_SWAPDB, NULL, (size_t)b->id, NULL);
}

int ember__ks_move(em_store *st, em_keyspace *from, const em_dpos *pos, em_keyspace *to)
{
    em_obj *o = *pos->link;
    ember__ks_prewrite(st, from, o);
    ember__dict_unlink(&from->dict, pos);
    if (ember__obj_has_expire(o))
        vol_remove(from, o);
    uint32_t lru = ember__obj_lru(o);
    ember__ks_add(st, to, o);
    ember__obj_set_lru(o, lru); /* the same value, moved: its history stays */
    return 0;
}

em_obj *ember__ks_random(em_store *st, em_keyspace *ks, int64_t now_ms)
{
    for (;;) {
        em_obj *o = ember__dict_random(&ks->dict, &st->rng);
        if (!o || !ember__ks_expired(o, now_ms))
            return o;
        size_t kl;
        const char *k = ember__obj_key(o, &kl);
        em_dpos p;
        if (ember__dict_find(&ks->dict, k, kl, ember__dict_hash(&ks->dict, k, kl), &p))
            ember__ks_delete(st, ks, &p, 0, EM_DEL_EXPIRED);
    }
}

/*
 * Active expiry, adapted from Redis's activeExpireCycle: take 20 random
 * volatile keys of a database, expire the dead ones, and repeat while more
 * than 10% of a sample was dead (so the share of expired-but-present keys
 * stays around 10% at worst), within a time budget checked every 16 rounds.
 */
size_t ember__ks_active_expire(em_store *st, int64_t now_ms, int64_t budget_us)
{
    size_t total = 0;
    int64_t end = ember__mono_ns() + budget_us * 1000;
    if (!st->active_expire)
        return 0;
    ember__ks_set_clock(st, now_ms);
    st->stats.expire_cycles++;
    for (int d = 0; d < st->ndb; d++) {
        em_keyspace *ks = &st->dbs[d];
        for (unsigned round = 0; ks->nvol; round++) {
            size_t sampled = 0, expired = 0;
            for (int i = 0; i < 20 && ks->nvol; i++) {
                em_obj *o = ks->vol[ember__rand64(&st->rng) % ks->nvol];
                sampled++;
                if (ember__ks_expired(o, now_ms)) {
                    size_t kl;
                    const char *k = ember__obj_key(o, &kl);
                    em_dpos p;
                    if (ember__dict_find(&ks->dict, k, kl, ember__dict_hash(&ks->dict, k, kl),
                                         &p)) {
                        ember__ks_delete(st, ks, &p, 1, EM_DEL_EXPIRED);
                        expired++;
                    }
                }
            }
            total += expired;
            if (expired * 10 <= sampled)
                break;
            if ((round & 15) == 15 && ember__mono_ns() > end)
                return total;
        }
    }
    return total;
}

void ember__ks_cron(em_store *st, int64_t budget_us)
{
    for (int d = 0; d < st->ndb; d++) {
        ember__dict_maybe_shrink(&st->dbs[d].dict);
        if (ember__dict_is_rehashing(&st->dbs[d].dict))
            ember__dict_rehash_for(&st->dbs[d].dict, budget_us);
    }
}
