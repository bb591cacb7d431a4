/*
 * dict.c — chained hash table with incremental rehash (see dict.h).
 */
#include "dict.h"

#include "../common/clock.h"
#include "../common/hash.h"

#define DICT_MIN_SIZE 4
#define DICT_EMPTY_VISITS 10

void ember__dict_init(em_dict *d, em_mem *m, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->rehashidx = -1;
    d->seed = seed;
    d->mem = m;
}

void ember__dict_release_tables(em_dict *d)
{
    ember__mem_free(d->mem, d->t[0]);
    ember__mem_free(d->mem, d->t[1]);
    d->t[0] = d->t[1] = NULL;
    d->size[0] = d->size[1] = d->used[0] = d->used[1] = 0;
    d->rehashidx = -1;
}

uint64_t ember__dict_hash(const em_dict *d, const void *key, size_t klen)
{
    return ember__hash(key, klen, d->seed);
}

static int key_eq(const em_obj *o, const void *key, size_t klen)
{
    size_t ol;
    const char *ok = ember__obj_key(o, &ol);
    return ol == klen && memcmp(ok, key, klen) == 0;
}

static uint64_t obj_hash(const em_dict *d, const em_obj *o)
{
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    return ember__hash(k, kl, d->seed);
}

int ember__dict_find(em_dict *d, const void *key, size_t klen, uint64_t h, em_dpos *pos)
{
    for (int t = 0; t < 2; t++) {
        if (!d->size[t])
            continue;
        size_t idx = h & (d->size[t] - 1);
        /* Buckets below rehashidx in t[0] are already moved and empty. */
        em_obj **link = &d->t[t][idx];
        for (em_obj *o = *link; o; link = &o->next, o = o->next) {
            if (key_eq(o, key, klen)) {
                pos->link = link;
                pos->table = t;
                return 1;
            }
        }
        if (!ember__dict_is_rehashing(d))
            break;
    }
    return 0;
}

static size_t next_pow2(size_t n)
{
    size_t s = DICT_MIN_SIZE;
    while (s < n)
        s <<= 1;
    return s;
}

/* Allocates t[1] with `size` buckets and starts moving keys into it. */
static int start_resize(em_dict *d, size_t size)
{
    if (ember__dict_is_rehashing(d) || size == d->size[0])
        return 0;
    em_obj **nt = ember__mem_calloc(d->mem, size * sizeof(em_obj *));
    if (!nt)
        return -1;
    if (!d->t[0]) {
        d->t[0] = nt;
        d->size[0] = size;
        return 0;
    }
    d->t[1] = nt;
    d->size[1] = size;
    d->used[1] = 0;
    d->rehashidx = 0;
    return 0;
}

int ember__dict_reserve(em_dict *d, size_t n)
{
    /* Only an empty table, so no rehash is ever started by this. */
    if (ember__dict_size(d) || ember__dict_is_rehashing(d) || n <= d->size[0])
        return 0;
    size_t size = next_pow2(n);
    em_obj **nt = ember__mem_calloc(d->mem, size * sizeof(em_obj *));
    if (!nt)
        return -1;
    ember__mem_free(d->mem, d->t[0]);
    d->t[0] = nt;
    d->size[0] = size;
    return 0;
}

int ember__dict_rehash(em_dict *d, size_t n)
{
    size_t empty_visits = n * DICT_EMPTY_VISITS;
    if (!ember__dict_is_rehashing(d))
        return 0;
    while (n-- && d->used[0]) {
        while (d->t[0][d->rehashidx] == NULL) {
            d->rehashidx++;
            if (--empty_visits == 0)
                return 1;
        }
        em_obj *o = d->t[0][d->rehashidx];
        while (o) {
            em_obj *next = o->next;
            size_t idx = obj_hash(d, o) & (d->size[1] - 1);
            o->next = d->t[1][idx];
            d->t[1][idx] = o;
            d->used[0]--;
            d->used[1]++;
            o = next;
        }
        d->t[0][d->rehashidx] = NULL;
        d->rehashidx++;
    }
    if (d->used[0] == 0) {
        if (d->retire && d->size[0] >= EM_DICT_RETIRE_MIN)
            d->retire(d->retire_ud, d->t[0], d->size[0]);
        else
            ember__mem_free(d->mem, d->t[0]);
        d->t[0] = d->t[1];
        d->size[0] = d->size[1];
        d->used[0] = d->used[1];
        d->t[1] = NULL;
        d->size[1] = d->used[1] = 0;
        d->rehashidx = -1;
        return 0;
    }
    return 1;
}

void ember__dict_rehash_for(em_dict *d, int64_t us)
{
    int64_t end = ember__mono_ns() + us * 1000;
    while (ember__dict_rehash(d, 100)) {
        if (ember__mono_ns() > end)
            break;
    }
}

int ember__dict_add(em_dict *d, em_obj *o, uint64_t h)
{
    int rc = 0;
    if (ember__dict_is_rehashing(d))
        ember__dict_rehash(d, 1);
    else if (ember__dict_size(d) >= d->size[0])
        rc = start_resize(d, next_pow2(ember__dict_size(d) + 1));
    int t = ember__dict_is_rehashing(d) ? 1 : 0;
    if (!d->t[t]) /* first table could not be allocated */
        return -1;
    size_t idx = h & (d->size[t] - 1);
    o->next = d->t[t][idx];
    d->t[t][idx] = o;
    d->used[t]++;
    return rc;
}

em_obj *ember__dict_unlink(em_dict *d, const em_dpos *pos)
{
    em_obj *o = *pos->link;
    *pos->link = o->next;
    o->next = NULL;
    d->used[pos->table]--;
    return o;
}

em_obj *ember__dict_replace(em_dict *d, const em_dpos *pos, em_obj *n)
{
    (void)d;
    em_obj *o = *pos->link;
    n->next = o->next;
    *pos->link = n;
    o->next = NULL;
    return o;
}

void ember__dict_maybe_shrink(em_dict *d)
{
    size_t used = ember__dict_size(d);
    if (ember__dict_is_rehashing(d) || d->size[0] <= DICT_MIN_SIZE)
        return;
    if (used * 10 < d->size[0])
        start_resize(d, next_pow2(used));
}

em_obj *ember__dict_random(em_dict *d, uint64_t *rng)
{
    if (ember__dict_size(d) == 0)
        return NULL;
    em_obj *head = NULL;
    /* Pick random non-empty buckets; while rehashing, sample both tables but
     * skip the moved (empty) prefix of t[0]. */
    while (!head) {
        if (ember__dict_is_rehashing(d)) {
            size_t lo = (size_t)d->rehashidx, span = d->size[0] + d->size[1] - lo;
            size_t i = lo + ember__rand64(rng) % span;
            head = i >= d->size[0] ? d->t[1][i - d->size[0]] : d->t[0][i];
        } else {
            head = d->t[0][ember__rand64(rng) & (d->size[0] - 1)];
        }
    }
    size_t len = 0;
    for (em_obj *o = head; o; o = o->next)
        len++;
    size_t pick = ember__rand64(rng) % len;
    while (pick--)
        head = head->next;
    return head;
}

static void scan_bucket(em_obj *o, void (*fn)(void *, em_obj *), void *ud)
{
    while (o) {
        em_obj *next = o->next; /* fn may not unlink, but read next first anyway */
        fn(ud, o);
        o = next;
    }
}

/*
 * Scan cursor (the guarantee: every key present from the first to the last
 * call is returned at least once, even across resizes).
 *
 * The cursor is a bucket index incremented in *reversed* bit order: with mask
 * m = size-1 we set the bits above m, add one to the reversed value and
 * reverse back. So the cursor walks the high bits of the index fastest.
 * Why resizes cannot make us miss a key: a key in bucket i of a table of size
 * 2^n lives, in a table of size 2^(n+k), in one of the buckets whose low n
 * bits equal i. Those buckets are exactly the ones the reversed-order
 * increment visits as a contiguous group; so the set of low bits already
 * visited is the same for any table size. When the table grows, the visited
 * prefix maps onto a visited prefix in the bigger table; when it shrinks, a
 * small bucket gathers buckets that were partly visited, which may return
 * some keys twice but never skips one.
 * While rehashing, both tables are live: we visit the bucket of the smaller
 * table and then every bucket of the larger table that expands from it, so a
 * key is seen wherever the rehash has put it.
 */
uint64_t ember__dict_scan(em_dict *d, uint64_t v, void (*fn)(void *ud, em_obj *o), void *ud)
{
    if (ember__dict_size(d) == 0)
        return 0;
    if (!ember__dict_is_rehashing(d)) {
        uint64_t m0 = d->size[0] - 1;
        scan_bucket(d->t[0][v & m0], fn, ud);
        v |= ~m0;
        v = ember__dict_rev64(v);
        v++;
        v = ember__dict_rev64(v);
        return v;
    }
    int small = d->size[0] <= d->size[1] ? 0 : 1, large = 1 - small;
    uint64_t m0 = d->size[small] - 1, m1 = d->size[large] - 1;
    scan_bucket(d->t[small][v & m0], fn, ud);
    do {
        scan_bucket(d->t[large][v & m1], fn, ud);
        v |= ~m1;
        v = ember__dict_rev64(v);
        v++;
        v = ember__dict_rev64(v);
    } while (v & (m0 ^ m1));
    return v;
}

void ember__dict_free_all(em_dict *d, void (*fn)(void *ud, em_obj *o), void *ud)
{
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < d->size[t]; i++) {
            em_obj *o = d->t[t][i];
            while (o) {
                em_obj *next = o->next;
                fn(ud, o);
                o = next;
            }
        }
    }
    ember__dict_release_tables(d);
}

size_t ember__dict_table_bytes(const em_dict *d)
{
    return (d->size[0] + d->size[1]) * sizeof(em_obj *);
}
