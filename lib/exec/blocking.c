/*
 * blocking.c — the registry of waiters on keys (blocking.h).
 */
#include "blocking.h"

#include <stdlib.h>

/* Registry entries are keyed by the database number (4 bytes) followed by
 * the key, so one table serves every numbered database. */
static size_t make_key(char *buf, size_t cap, int32_t dbid, const char *key, size_t klen,
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

void *ember__dbkey_get(em_dict *d, em_mem *m, int32_t dbid, const char *key, size_t klen,
                       size_t body_size, int create, em_obj **entry, int *oom)
{
    char small[128], *heap = NULL;
    size_t n = make_key(small, sizeof small, dbid, key, klen, &heap);
    if (!n) {
        *oom = 1;
        return NULL;
    }
    const char *k = heap ? heap : small;
    void *body = NULL;
    em_dpos pos;
    uint64_t h = ember__dict_hash(d, k, n);
    if (ember__dict_find(d, k, n, h, &pos)) {
        *entry = *pos.link;
        body = ember__obj_body(*entry);
    } else if (create) {
        body = ember__mem_calloc(m, body_size);
        em_obj *e = body ? ember__obj_new_scored(m, k, n, 0.0) : NULL;
        if (!e) {
            ember__mem_free(m, body);
            body = NULL;
            *oom = 1;
        } else {
            ember__obj_set_body(e, body); /* the 8-byte value area holds the pointer */
            ember__dict_add(d, e, h);
            *entry = e;
        }
    }
    free(heap);
    return body;
}

void ember__dbkey_drop(em_dict *d, em_mem *m, em_obj *entry)
{
    void *body = ember__obj_body(entry);
    size_t n;
    const char *k = ember__obj_key(entry, &n);
    em_dpos pos;
    if (ember__dict_find(d, k, n, ember__dict_hash(d, k, n), &pos)) {
        ember__dict_unlink(d, &pos);
        ember__obj_free(m, entry);
        ember__dict_rehash(d, 1);
    }
    ember__mem_free(m, body);
}

const char *ember__dbkey_key(const em_obj *entry, size_t *len)
{
    size_t n;
    const char *k = ember__obj_key(entry, &n);
    *len = n - sizeof(int32_t);
    return k + sizeof(int32_t);
}

static em_bkey *find_key(em_blocking *b, int32_t dbid, const char *key, size_t klen, int create)
{
    em_obj *e = NULL;
    int oom = 0;
    em_bkey *bk = ember__dbkey_get(&b->keys, b->mem, dbid, key, klen, sizeof *bk, create, &e, &oom);
    if (bk && !bk->entry) { /* just created */
        bk->entry = e;
        bk->dbid = dbid;
    }
    return bk;
}

const char *ember__blk_key(const em_bkey *bk, size_t *len)
{
    return ember__dbkey_key(bk->entry, len);
}

/* Drops a key's registry entry once nobody waits on it (and it is not
 * queued as ready: the ready list would point at freed memory). */
static void maybe_drop_key(em_blocking *b, em_bkey *bk)
{
    if (bk->head || bk->queued || bk->serving)
        return;
    ember__dbkey_drop(&b->keys, b->mem, bk->entry);
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
