/*
 * blocking.c — the registry of waiters on keys (blocking.h).
 */
#include "blocking.h"

#include <stdlib.h>

/* Registry entries are keyed by the database number (4 bytes) followed by
 * the key, so one table serves every numbered database. */
size_t ember__blk_make_key(char *buf, size_t cap, int32_t dbid, const char *key, size_t klen,
                           char **heap)
{
    size_t n = sizeof dbid + klen;
    char *p = n <= cap ? buf : (*heap = malloc(n));
    if (!p)
        return 0;
    memcpy(p, &dbid, sizeof dbid);
    if (klen)
        memcpy(p + sizeof dbid, key, klen);
    return n;
}

void ember__blk_init(em_blocking *b, em_mem *m, uint64_t seed)
{
    memset(b, 0, sizeof *b);
    b->mem = m;
    ember__dict_init(&b->keys, m, seed ^ 0xb10c4ed5ull);
}

static void free_entry(void *ud, em_obj *o)
{
    em_blocking *b = ud;
    ember__mem_free(b->mem, ember__obj_body(o));
    ember__obj_free(b->mem, o);
}

void ember__blk_free(em_blocking *b)
{
    while (b->head)
        ember__blk_remove(b, b->head);
    ember__dict_free_all(&b->keys, free_entry, b);
}

static em_bkey *find_key(em_blocking *b, int32_t dbid, const char *key, size_t klen, int create)
{
    char small[128], *heap = NULL;
    size_t n = ember__blk_make_key(small, sizeof small, dbid, key, klen, &heap);
    const char *k = heap ? heap : small;
    em_bkey *bk = NULL;
    em_dpos pos;
    if (!n)
        return NULL;
    uint64_t h = ember__dict_hash(&b->keys, k, n);
    if (ember__dict_find(&b->keys, k, n, h, &pos)) {
        bk = ember__obj_body(*pos.link);
    } else if (create) {
        bk = ember__mem_calloc(b->mem, sizeof *bk);
        em_obj *e = bk ? ember__obj_new_scored(b->mem, k, n, 0.0) : NULL;
        if (!e) {
            ember__mem_free(b->mem, bk);
            bk = NULL;
        } else {
            ember__obj_set_body(e, bk); /* the 8-byte value area holds the pointer */
            bk->entry = e;
            bk->dbid = dbid;
            ember__dict_add(&b->keys, e, h);
        }
    }
    free(heap);
    return bk;
}

const char *ember__blk_key(const em_bkey *bk, size_t *len)
{
    size_t n;
    const char *k = ember__obj_key(bk->entry, &n);
    *len = n - sizeof(int32_t);
    return k + sizeof(int32_t);
}

/* Drops a key's registry entry once nobody waits on it (and it is not
 * queued as ready: the ready list would point at freed memory). */
static void maybe_drop_key(em_blocking *b, em_bkey *bk)
{
    if (bk->head || bk->queued || bk->serving)
        return;
    size_t n;
    const char *k = ember__obj_key(bk->entry, &n);
    em_dpos pos;
    if (ember__dict_find(&b->keys, k, n, ember__dict_hash(&b->keys, k, n), &pos)) {
        em_obj *e = ember__dict_unlink(&b->keys, &pos);
        ember__obj_free(b->mem, e);
        ember__dict_rehash(&b->keys, 1);
    }
    ember__mem_free(b->mem, bk);
}

em_bwait *ember__blk_add(em_blocking *b, struct em_req *r, int32_t dbid, const char *const *argv,
                         const size_t *argvlen, size_t first, size_t count, size_t step,
                         int want_type, int64_t deadline)
{
    em_bwait *w = ember__mem_calloc(b->mem, sizeof *w + count * sizeof(em_bnode));
    if (!w)
        return NULL;
    w->req = r;
    w->dbid = dbid;
    w->want_type = want_type;
    w->deadline = deadline;
    for (size_t i = 0; i < count; i++) {
        size_t a = first + i * step;
        em_bkey *bk = find_key(b, dbid, argv[a], argvlen[a], 1);
        if (!bk) {
            ember__blk_remove(b, w); /* undoes the keys linked so far */
            return NULL;
        }
        /* A command naming the same key twice waits on it once. */
        int dup = 0;
        for (size_t j = 0; j < w->nkeys; j++)
            dup |= w->nodes[j].bk == bk;
        if (dup)
            continue;
        em_bnode *n = &w->nodes[w->nkeys++];
        n->w = w;
        n->bk = bk;
        n->next = NULL;
        n->prev = bk->tail;
        if (bk->tail)
            bk->tail->next = n;
        else
            bk->head = n;
        bk->tail = n;
    }
    w->prev = b->tail;
    w->next = NULL;
    if (b->tail)
        b->tail->next = w;
    else
        b->head = w;
    b->tail = w;
    b->nwaiters++;
    return w;
}

void ember__blk_remove(em_blocking *b, em_bwait *w)
{
    for (size_t i = 0; i < w->nkeys; i++) {
        em_bnode *n = &w->nodes[i];
        em_bkey *bk = n->bk;
        if (n->prev)
            n->prev->next = n->next;
        else
            bk->head = n->next;
        if (n->next)
            n->next->prev = n->prev;
        else
            bk->tail = n->prev;
        maybe_drop_key(b, bk);
    }
    /* A waiter is in the all-waiters list once fully added (nkeys set up). */
    if (w->prev || b->head == w) {
        if (w->prev)
            w->prev->next = w->next;
        else
            b->head = w->next;
        if (w->next)
            w->next->prev = w->prev;
        else
            b->tail = w->prev;
        b->nwaiters--;
    }
    ember__mem_free(b->mem, w);
}

void ember__blk_release_key(em_blocking *b, em_bkey *bk)
{
    maybe_drop_key(b, bk);
}

static void queue_ready(em_blocking *b, em_bkey *bk)
{
    if (bk->queued)
        return;
    bk->queued = 1;
    bk->next_ready = b->ready;
    b->ready = bk;
}

void ember__blk_signal(em_blocking *b, int32_t dbid, const char *key, size_t klen)
{
    if (!b->nwaiters)
        return;
    em_bkey *bk = find_key(b, dbid, key, klen, 0);
    if (bk && bk->head)
        queue_ready(b, bk);
}

void ember__blk_signal_all(em_blocking *b)
{
    for (em_bwait *w = b->head; w; w = w->next)
        for (size_t i = 0; i < w->nkeys; i++)
            queue_ready(b, w->nodes[i].bk);
}

em_bkey *ember__blk_next_ready(em_blocking *b)
{
    em_bkey *bk = b->ready;
    if (bk) {
        b->ready = bk->next_ready;
        bk->queued = 0;
    }
    return bk;
}

int64_t ember__blk_earliest(const em_blocking *b)
{
    int64_t e = 0;
    for (const em_bwait *w = b->head; w; w = w->next)
        if (w->deadline && (!e || w->deadline < e))
            e = w->deadline;
    return e;
}
