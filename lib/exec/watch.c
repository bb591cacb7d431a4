/*
 * watch.c — the WATCH registry (watch.h): watched (db, key) -> watchers,
 * and the store hooks that make watchers dirty.
 *
 * Invariants:
 *  - a watcher has at most one node per (db, key); a key entry exists while
 *    its list of watchers is non-empty;
 *  - the store's watch hooks are installed exactly while a key is watched;
 *  - a dirty watcher keeps its nodes until EXEC / UNWATCH / release (the
 *    hooks skip it), so a hook never frees a node while walking a list.
 */
#include "watch.h"

#include <stdlib.h>

#include "blocking.h"

static void hook_key(em_store *st, em_keyspace *ks, const em_obj *o, int expired, void *ud);
static void hook_db(em_store *st, em_keyspace *a, em_keyspace *b, void *ud);

void ember__watch_init(em_watch_reg *reg, em_store *st, uint64_t seed)
{
    memset(reg, 0, sizeof *reg);
    reg->st = st;
    ember__dict_init(&reg->keys, &st->mem, seed ^ 0x3a7c4ed5ull);
}

static void set_hooks(em_watch_reg *reg)
{
    em_store *st = reg->st;
    int on = ember__dict_size(&reg->keys) > 0;
    st->watch_key = on ? hook_key : NULL;
    st->watch_db = on ? hook_db : NULL;
    st->watch_ud = on ? reg : NULL;
}

static em_wkey *find_key(em_watch_reg *reg, int32_t dbid, const char *key, size_t klen, int create,
                         int *oom)
{
    em_obj *e = NULL;
    em_wkey *wk =
        ember__dbkey_get(&reg->keys, &reg->st->mem, dbid, key, klen, sizeof *wk, create, &e, oom);
    if (wk && !wk->entry) { /* just created */
        wk->entry = e;
        wk->dbid = dbid;
    }
    return wk;
}

static void drop_key(em_watch_reg *reg, em_wkey *wk)
{
    ember__dbkey_drop(&reg->keys, &reg->st->mem, wk->entry);
}

/* 1 if key is live in ks (present and not logically expired), without
 * expiring it. *raw gets whether it is in the table at all. */
static int live_in(em_store *st, em_keyspace *ks, const char *key, size_t klen, int *raw)
{
    em_dpos pos;
    *raw = ember__dict_find(&ks->dict, key, klen, ember__dict_hash(&ks->dict, key, klen), &pos);
    return *raw && !ember__ks_expired(*pos.link, ember__clock_ms(&st->clock));
}

void ember__watch_keys(em_watch_reg *reg, em_watcher *w, int32_t dbid, size_t argc,
                       const char *const *argv, const size_t *argvlen)
{
    /* A dirty watcher's EXEC fails whatever it watches now. */
    for (size_t i = 1; i < argc && !w->dirty; i++) {
        int oom = 0;
        em_wkey *wk = find_key(reg, dbid, argv[i], argvlen[i], 1, &oom);
        if (!wk) {
            w->dirty = oom;
            break;
        }
        em_wnode *n = wk->head;
        while (n && n->w != w)
            n = n->knext;
        if (n)
            continue; /* already watched */
        n = ember__mem_calloc(&reg->st->mem, sizeof *n);
        if (!n) {
            if (!wk->head)
                drop_key(reg, wk);
            w->dirty = 1;
            break;
        }
        int raw;
        n->expired = !live_in(reg->st, &reg->st->dbs[dbid], argv[i], argvlen[i], &raw) && raw;
        n->wk = wk;
        n->w = w;
        n->knext = wk->head;
        if (wk->head)
            wk->head->kprev = n;
        wk->head = n;
        n->wnext = w->keys;
        w->keys = n;
    }
    set_hooks(reg);
}

void ember__watch_clear(em_watch_reg *reg, em_watcher *w)
{
    em_wnode *n = w->keys;
    while (n) {
        em_wnode *next = n->wnext;
        em_wkey *wk = n->wk;
        if (n->kprev)
            n->kprev->knext = n->knext;
        else
            wk->head = n->knext;
        if (n->knext)
            n->knext->kprev = n->kprev;
        if (!wk->head)
            drop_key(reg, wk);
        ember__mem_free(&reg->st->mem, n);
        n = next;
    }
    w->keys = NULL;
    w->dirty = 0;
    set_hooks(reg);
}

void ember__watch_release(em_watch_reg *reg, em_watcher *w)
{
    ember__watch_clear(reg, w);
    free(w); /* allocated by the client's thread with calloc */
}

void ember__watch_free(em_watch_reg *reg)
{
    /* A sweep over the buckets; releasing a watcher only removes entries,
     * but their rehash steps may move some behind the cursor: start over
     * until the table is empty. */
    em_dict *d = &reg->keys;
    int t = 0;
    size_t i = 0;
    while (ember__dict_size(d) > 0) {
        if (t == 2) {
            t = 0;
            i = 0;
        } else if (i >= d->size[t]) {
            t++;
            i = 0;
        } else if (!d->t[t][i]) {
            i++;
        } else {
            em_wkey *wk = ember__obj_body(d->t[t][i]);
            ember__watch_release(reg, wk->head->w);
        }
    }
    ember__dict_release_tables(d);
    set_hooks(reg);
}

int ember__watch_exec_check(em_watch_reg *reg, em_watcher *w)
{
    int ok = !w->dirty;
    for (em_wnode *n = w->keys; n && ok; n = n->wnext) {
        size_t klen;
        const char *key = ember__dbkey_key(n->wk->entry, &klen);
        int raw;
        /* Live when watched, logically expired now (deleted or not yet). */
        if (!n->expired && !live_in(reg->st, &reg->st->dbs[n->wk->dbid], key, klen, &raw) && raw)
            ok = 0;
    }
    ember__watch_clear(reg, w);
    return ok;
}

/* A change of one key: every watcher of it is dirty, except that the
 * expiry of a key that was already expired at WATCH time is no change. */
static void hook_key(em_store *st, em_keyspace *ks, const em_obj *o, int expired, void *ud)
{
    (void)st;
    em_watch_reg *reg = ud;
    size_t klen;
    const char *key = ember__obj_key(o, &klen);
    int oom = 0;
    em_wkey *wk = find_key(reg, ks->id, key, klen, 0, &oom);
    for (em_wnode *n = wk ? wk->head : NULL; n; n = n->knext) {
        if (expired && n->expired)
            n->expired = 0; /* deleted keys are not "expired at WATCH" any more */
        else
            n->w->dirty = 1;
    }
}

/* b, when given, holds what a held before a swap. */
static void touch_if_live(em_store *st, em_wkey *wk, em_keyspace *a, em_keyspace *b)
{
    size_t klen;
    const char *key = ember__dbkey_key(wk->entry, &klen);
    int raw;
    if (live_in(st, a, key, klen, &raw) || (b && live_in(st, b, key, klen, &raw)))
        for (em_wnode *n = wk->head; n; n = n->knext)
            n->w->dirty = 1;
}

/* FLUSHDB / FLUSHALL (b NULL, before a is emptied) and SWAPDB (after):
 * the watched keys of the databases concerned that exist (live) in the
 * emptied database, or in either swapped one, make their watchers dirty.
 * Cost: a walk over the watched keys, not over the database. */
static void hook_db(em_store *st, em_keyspace *a, em_keyspace *b, void *ud)
{
    em_watch_reg *reg = ud;
    em_dict *d = &reg->keys;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < d->size[t]; i++)
            for (em_obj *e = d->t[t][i]; e; e = e->next) {
                em_wkey *wk = ember__obj_body(e);
                if (wk->dbid == a->id)
                    touch_if_live(st, wk, a, b);
                else if (b && wk->dbid == b->id)
                    touch_if_live(st, wk, b, a);
            }
}
