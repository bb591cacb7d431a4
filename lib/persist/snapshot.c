/*
 * snapshot.c — forkless point-in-time snapshots (snapshot.h).
 *
 * The executor serializes; a writer thread computes the CRC-64, compresses
 * (zstd) and writes through an em_io. Between them a bounded queue of
 * buffers: when the writer falls behind the executor waits for room instead
 * of buffering without limit.
 *
 * ---------------------------------------------------------------- why the
 * file is exactly the keyspace at the instant T0 the snapshot started
 *
 * Notation. Per database the walker keeps a scan cursor v and a progress
 * P in [0, 2^64]; for a key K let r(K) = rev64(hash(K)), its dict hash with
 * the bits reversed. S is a per-database set of keys (exact key bytes) the
 * walker must skip. "T0 keys" are the keys present at T0, with their values
 * V0 then.
 *
 * Scan fact. ember__dict_scan's cursor counts in reversed bit order, so a
 * step from cursor v that returns v' != 0 visits every key present during
 * the step whose r lies in [rev64(v & m), rev64(v')), m being a table mask
 * (while rehashing, the small table's bucket covers that range and the
 * large table's buckets cover [rev64(v & m_large), rev64(v')); the rest of
 * the range, below rev64(v), was covered by earlier steps); the last step
 * (v' = 0) covers up to 2^64. Every key it hands the callback has r below
 * rev64(v') (its bucket's range ends there). A step runs inside one
 * executor turn, so no key changes during it. Since rev64(v & m) <= rev64(v)
 * <= P, after each step every r below the new P = max(P, rev64(v')) has
 * been covered — whatever resizes and rehashes happened in between: the
 * argument names hash ranges, not buckets.
 *
 * Invariants (per database), true at T0 with P = 0 and S empty:
 *  (A) every T0 key either was written exactly once, with V0, and then has
 *      r(K) < P or K in S; or was not written, is present with V0, and has
 *      r(K) >= P and K not in S;
 *  (B) every present key that is not such an unwritten T0 key has r < P or
 *      is in S.
 * Events:
 *  - prewrite(K), called before any change to a present key (modify,
 *    replace, expire, delete, detach for RENAME/MOVE, flush): if r(K) >= P
 *    and K not in S then by (B) K is an unwritten T0 key whose value is
 *    still V0: write it and add K to S. Otherwise K was written or is new:
 *    nothing to do. (A) and (B) hold.
 *  - added(K), after a key that was absent appears: if r(K) >= P, add K to
 *    S. An absent key is not an unwritten T0 key (those are present), so
 *    (A) is untouched and (B) holds for K.
 *  - a walker step writes the keys it is handed with r >= P and not in S
 *    (by (B) unwritten T0 keys, with V0) and sets P = max(P, rev64(v')):
 *    by the scan fact no unwritten T0 key is left below the new P, and the
 *    keys just written have r below it: (A) and (B) hold, and no key is
 *    written twice (a second visit finds r < P).
 *  - SWAPDB moves contents and their per-database state together (the
 *    state follows the content, and is written under the T0 number);
 *    rehashing, resizing, LRU touches change no key and no value.
 *  - entries of S with r < P are redundant and are pruned when S grows.
 * When the scan completes P = 2^64: by (A) every T0 key was written exactly
 * once with V0, and by construction nothing else was written (pre-images
 * are T0 keys, walker writes are T0 keys). Keys created after T0 are never
 * written: they are added (into S, or below P) before any hook sees them.
 *
 * RDB groups keys by database (SELECTDB), so databases are walked in T0
 * order, one at a time: pre-images of the database being walked go into the
 * stream; of a database not reached yet, into that database's own buffer,
 * emitted right after its SELECTDB; of a finished database, nowhere (every
 * T0 key there is written). A database empty at T0 is finished at T0.
 * FLUSHDB/FLUSHALL call prewrite for every key, so a flush during a snapshot
 * serializes the rest of that database at once (a pause proportional to what
 * was still unwritten).
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/hash.h"
#include "crc64.h"
#include "rdb.h"

#define CHUNK (256 * 1024) /* bytes gathered before a hand-off to the writer */
#define QUEUE_MAX 8        /* hand-offs in flight: at most ~2 MB buffered */

/* ------------------------------------------------------------ the skip set */

typedef struct skip_node {
    struct skip_node *next;
    uint64_t r;
    uint32_t klen;
    char key[];
} skip_node;

typedef struct skipset {
    skip_node **b;
    size_t nb, n;
} skipset;

static int skip_has(const skipset *s, uint64_t r, const char *k, size_t kl)
{
    if (!s->nb)
        return 0;
    for (skip_node *n = s->b[r & (s->nb - 1)]; n; n = n->next)
        if (n->r == r && n->klen == kl && memcmp(n->key, k, kl) == 0)
            return 1;
    return 0;
}

static void skip_free(skipset *s)
{
    for (size_t i = 0; i < s->nb; i++) {
        skip_node *n = s->b[i];
        while (n) {
            skip_node *next = n->next;
            free(n);
            n = next;
        }
    }
    free(s->b);
    memset(s, 0, sizeof *s);
}

/* Rebuilds with room for the live entries, dropping those below P. */
static int skip_grow(skipset *s, uint64_t P)
{
    size_t live = 0;
    for (size_t i = 0; i < s->nb; i++) {
        skip_node **l = &s->b[i];
        while (*l) {
            skip_node *n = *l;
            if (n->r < P) {
                *l = n->next;
                free(n);
                s->n--;
            } else {
                l = &n->next;
                live++;
            }
        }
    }
    size_t nb = 64;
    while (nb < live * 2 + 2)
        nb *= 2;
    if (nb <= s->nb && live < s->nb)
        return 0; /* pruning made enough room */
    skip_node **b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < s->nb; i++) {
        skip_node *n = s->b[i];
        while (n) {
            skip_node *next = n->next;
            n->next = b[n->r & (nb - 1)];
            b[n->r & (nb - 1)] = n;
            n = next;
        }
    }
    free(s->b);
    s->b = b;
    s->nb = nb;
    return 0;
}

static int skip_add(skipset *s, uint64_t r, const char *k, size_t kl, uint64_t P)
{
    if (s->n >= s->nb && skip_grow(s, P) != 0)
        return -1;
    skip_node *n = malloc(sizeof *n + kl);
    if (!n)
        return -1;
    n->r = r;
    n->klen = (uint32_t)kl;
    memcpy(n->key, k, kl);
    n->next = s->b[r & (s->nb - 1)];
    s->b[r & (s->nb - 1)] = n;
    s->n++;
    return 0;
}

/* ------------------------------------------------------------ state */

enum { DB_PENDING = 0, DB_WALKING = 1, DB_DONE = 2 };

typedef struct snap_db {
    int dbid; /* its number at T0: written under SELECTDB dbid */
    int slot; /* where its content lives now (SWAPDB moves it) */
    int state;
    uint64_t cursor, P;
    uint64_t keys0, expires0; /* sizes at T0 (RESIZEDB hints) */
    skipset skip;
    em_rdb_buf pending; /* pre-images while DB_PENDING */
} snap_db;

enum { IT_DATA = 0, IT_EOF = 1, IT_ABORT = 2 };

typedef struct snap_item {
    struct snap_item *next;
    int kind;
    int status; /* IT_ABORT: why */
    em_rdb_buf buf;
} snap_item;

struct em_snap {
    _Atomic int refs;
    /* executor side */
    em_server *srv;
    int serializing;
    int ndb;
    snap_db *dbs;   /* by T0 number */
    int *state_of;  /* slot -> index in dbs */
    int cur;        /* T0 number being walked (ndb: all done) */
    em_rdb_buf buf; /* bytes gathered for the writer */
    int error;      /* executor-side failure (ENOMEM) */
    int bg;
    int64_t t0_s, t0_ms;
    uint64_t dirty0;
    /* writer thread */
    pthread_t thread;
    int thread_started;
    em_io *io; /* the sink (owned) */
    int zstd, level;
    int fd_owned;
    char *tmp, *final_path, *dir;
    /* queue and outcome (lock) */
    pthread_mutex_t lock;
    pthread_cond_t cv_item, cv_space, cv_done;
    snap_item *head, **tail;
    size_t nitems;
    _Atomic int failed; /* the writer hit an error: the executor stops early */
    int done;           /* the writer finished; result is final */
    int result;
};

/* lib/persist's per-server state. */
typedef struct em_persist {
    em_snap *snap; /* in flight (the executor's reference), or NULL */
    int64_t last_try_s;
    int scheduled; /* BGSAVE SCHEDULE: start one when the current one ends */
} em_persist;

static em_persist *persist_of(const em_server *srv)
{
    return srv->persist;
}

/* ------------------------------------------------------------ writer thread */

static int errno_status(int err)
{
    return err == -ENOMEM ? EMBER_ENOMEM : EMBER_EIO;
}

static void *writer_main(void *arg)
{
    em_snap *s = arg;
    em_io *out = s->io, *zw = NULL;
    uint64_t crc = 0;
    int err = 0, status = EMBER_OK, finished = 0;
    if (s->zstd) {
        zw = ember__io_zstd_writer(s->io, s->level);
        if (!zw)
            err = -ENOMEM;
        out = zw;
    }
    if (err)
        atomic_store(&s->failed, 1);
    while (!finished) {
        pthread_mutex_lock(&s->lock);
        while (!s->head)
            pthread_cond_wait(&s->cv_item, &s->lock);
        snap_item *it = s->head;
        s->head = it->next;
        if (!s->head)
            s->tail = &s->head;
        s->nitems--;
        pthread_cond_signal(&s->cv_space);
        pthread_mutex_unlock(&s->lock);
        if (it->kind == IT_ABORT) {
            status = it->status;
            finished = 1;
        } else if (!err) {
            if (it->kind == IT_EOF)
                ember__rdb_put_eof(&it->buf, crc);
            if (it->buf.oom) {
                err = -ENOMEM;
            } else {
                if (it->kind == IT_DATA)
                    crc = ember__crc64(crc, it->buf.p, it->buf.len);
                err = ember__io_write(out, it->buf.p, it->buf.len);
            }
            if (!err && it->kind == IT_EOF) {
                if (zw)
                    err = ember__io_zstd_finish(zw);
                if (!err)
                    err = ember__io_sync(s->io);
                if (!err && s->tmp) {
                    if (close(s->fd_owned) != 0)
                        err = -errno;
                    s->fd_owned = -1;
                    if (!err)
                        err = ember__io_replace(s->tmp, s->final_path, s->dir, NULL);
                }
            }
            if (err)
                atomic_store(&s->failed, 1);
            finished = it->kind == IT_EOF;
        } else {
            finished = it->kind == IT_EOF;
        }
        ember__rdb_buf_free(&it->buf);
        free(it);
    }
    if (err)
        status = errno_status(err);
    ember__io_close(zw);
    ember__io_close(s->io);
    s->io = NULL;
    if (s->fd_owned >= 0) {
        close(s->fd_owned);
        s->fd_owned = -1;
    }
    if (status != EMBER_OK && s->tmp)
        unlink(s->tmp);
    pthread_mutex_lock(&s->lock);
    s->result = status;
    s->done = 1;
    pthread_cond_broadcast(&s->cv_done);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ------------------------------------------------------------ executor side */

static void push_item(em_snap *s, snap_item *it)
{
    pthread_mutex_lock(&s->lock);
    while (s->nitems >= QUEUE_MAX)
        pthread_cond_wait(&s->cv_space, &s->lock);
    it->next = NULL;
    *s->tail = it;
    s->tail = &it->next;
    s->nitems++;
    pthread_cond_signal(&s->cv_item);
    pthread_mutex_unlock(&s->lock);
}

/* Hands the gathered bytes (or `b`, moved) to the writer. */
static void hand_off(em_snap *s, em_rdb_buf *b, int kind)
{
    if (kind == IT_DATA && b->len == 0 && !b->oom)
        return;
    if (b->oom)
        s->error = EMBER_ENOMEM;
    snap_item *it = calloc(1, sizeof *it);
    if (!it) {
        s->error = EMBER_ENOMEM;
        ember__rdb_buf_free(b);
        return;
    }
    it->kind = kind;
    it->buf = *b;
    memset(b, 0, sizeof *b);
    push_item(s, it);
}

static void release(em_snap *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    ember__io_close(s->io);
    if (s->fd_owned >= 0)
        close(s->fd_owned);
    free(s->tmp);
    free(s->final_path);
    free(s->dir);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cv_item);
    pthread_cond_destroy(&s->cv_space);
    pthread_cond_destroy(&s->cv_done);
    free(s);
}

void ember__snap_release(em_snap *s)
{
    if (s)
        release(s);
}

static void unhook(em_snap *s)
{
    em_store *st = &s->srv->st;
    st->prewrite = NULL;
    st->added = NULL;
    st->swapped = NULL;
    st->prewrite_ud = NULL;
    for (int i = 0; i < s->ndb; i++) {
        skip_free(&s->dbs[i].skip);
        ember__rdb_buf_free(&s->dbs[i].pending);
    }
    free(s->dbs);
    free(s->state_of);
    s->dbs = NULL;
    s->state_of = NULL;
    ember__rdb_buf_free(&s->buf);
    s->serializing = 0;
    s->srv->bg_active = 0;
}

/* Ends serialization: the EOF item (success) or an abort (status). */
static void finish_serializing(em_snap *s, int status)
{
    if (status == EMBER_OK && !s->error) {
        hand_off(s, &s->buf, IT_DATA);
        em_rdb_buf none = {0};
        if (!s->error) {
            hand_off(s, &none, IT_EOF);
            unhook(s);
            return;
        }
    }
    snap_item *it = calloc(1, sizeof *it);
    while (!it) { /* the writer must learn it is over: retry the 40 bytes */
        sched_yield();
        it = calloc(1, sizeof *it);
    }
    it->kind = IT_ABORT;
    it->status = status != EMBER_OK ? status : s->error;
    push_item(s, it);
    unhook(s);
}

static void maybe_hand_off(em_snap *s)
{
    if (s->buf.len >= CHUNK || s->buf.oom)
        hand_off(s, &s->buf, IT_DATA);
}

/* One key as Redis writes it: with its LRU idle time or LFU counter (as of
 * T0) when maxmemory-policy is an LRU or LFU one. */
static int put_obj(em_snap *s, em_rdb_buf *b, const em_obj *o)
{
    return ember__rdb_put_object_lru(b, o, &s->srv->cfg, s->t0_ms);
}

/* Writes one T0 value into the stream or its database's pending buffer. */
static void put_value(em_snap *s, snap_db *d, const em_obj *o)
{
    if (d->state == DB_WALKING) {
        if (put_obj(s, &s->buf, o) != 0)
            s->error = EMBER_ENOMEM;
        maybe_hand_off(s);
    } else if (put_obj(s, &d->pending, o) != 0) {
        s->error = EMBER_ENOMEM;
    }
}

static uint64_t key_r(em_keyspace *ks, const em_obj *o, const char **k, size_t *kl)
{
    *k = ember__obj_key(o, kl);
    return ember__dict_rev64(ember__dict_hash(&ks->dict, *k, *kl));
}

/* Adds o's key to the skip set S unless the walk passed it or S has it; what
 * varies: a prewrite first writes V0, a key added since T0 has none. */
static void skip_key(em_snap *s, em_keyspace *ks, const em_obj *o, int save_value)
{
    snap_db *d = &s->dbs[s->state_of[ks->id]];
    if (d->state == DB_DONE)
        return;
    const char *k;
    size_t kl;
    uint64_t r = key_r(ks, o, &k, &kl);
    if (r < d->P || skip_has(&d->skip, r, k, kl))
        return;
    if (save_value)
        put_value(s, d, o);
    if (skip_add(&d->skip, r, k, kl, d->P) != 0)
        s->error = EMBER_ENOMEM;
}

static void hook_prewrite(em_store *st, em_keyspace *ks, em_obj *o, void *ud)
{
    skip_key(ud, ks, o, 1);
}

static void hook_added(em_store *st, em_keyspace *ks, em_obj *o, void *ud)
{
    skip_key(ud, ks, o, 0);
}

static void hook_swapped(em_store *st, em_keyspace *a, em_keyspace *b, void *ud)
{
    em_snap *s = ud;
    int t = s->state_of[a->id];
    s->state_of[a->id] = s->state_of[b->id];
    s->state_of[b->id] = t;
    s->dbs[s->state_of[a->id]].slot = a->id;
    s->dbs[s->state_of[b->id]].slot = b->id;
}

typedef struct walk_ctx {
    em_snap *s;
    snap_db *d;
    em_keyspace *ks;
    size_t visited;
} walk_ctx;

static void walk_cb(void *ud, em_obj *o)
{
    walk_ctx *w = ud;
    const char *k;
    size_t kl;
    w->visited++;
    uint64_t r = key_r(w->ks, o, &k, &kl);
    if (r < w->d->P || skip_has(&w->d->skip, r, k, kl))
        return;
    if (put_obj(w->s, &w->s->buf, o) != 0)
        w->s->error = EMBER_ENOMEM;
}

static int queue_full(em_snap *s)
{
    pthread_mutex_lock(&s->lock);
    int full = s->nitems >= QUEUE_MAX;
    pthread_mutex_unlock(&s->lock);
    return full;
}

int ember__snap_step(em_server *srv, int64_t budget_us, int may_wait)
{
    em_persist *p = persist_of(srv);
    em_snap *s = p ? p->snap : NULL;
    if (!s || !s->serializing)
        return 0;
    em_store *st = &srv->st;
    int64_t end = ember__mono_ns() + budget_us * 1000;
    for (unsigned round = 0;; round++) {
        if (s->error || atomic_load_explicit(&s->failed, memory_order_relaxed)) {
            finish_serializing(s, s->error ? s->error : EMBER_EIO);
            return 0;
        }
        while (s->cur < s->ndb && s->dbs[s->cur].state == DB_DONE)
            s->cur++;
        if (s->cur == s->ndb) {
            finish_serializing(s, EMBER_OK);
            return 0;
        }
        if (s->buf.len >= CHUNK) {
            /* Requests are waiting: rather serve them than wait for the writer. */
            if (!may_wait && queue_full(s))
                return 1;
            hand_off(s, &s->buf, IT_DATA);
        }
        snap_db *d = &s->dbs[s->cur];
        if (d->state == DB_PENDING) {
            ember__rdb_put_selectdb(&s->buf, d->dbid, d->keys0, d->expires0);
            hand_off(s, &s->buf, IT_DATA);
            hand_off(s, &d->pending, IT_DATA); /* its pre-images so far, in order */
            d->state = DB_WALKING;
            continue;
        }
        walk_ctx w = {s, d, &st->dbs[d->slot], 0};
        uint64_t v = ember__dict_scan(&w.ks->dict, d->cursor, walk_cb, &w);
        if (v == 0) {
            d->state = DB_DONE;
            skip_free(&d->skip);
        } else {
            uint64_t rv = ember__dict_rev64(v);
            if (rv > d->P)
                d->P = rv;
            d->cursor = v;
        }
        if ((round & 15) == 15 && ember__mono_ns() > end)
            return 1;
    }
}

void ember__snap_run_to_end(em_server *srv)
{
    while (ember__snap_step(srv, 1000000, 1))
        ;
}

int ember__snap_busy(const em_server *srv)
{
    em_persist *p = persist_of(srv);
    return p && p->snap != NULL;
}

int ember__snap_start(em_server *srv, em_io *io, int flags, int level, int fd_owned,
                      const char *path_tmp, const char *path_final, const char *dir, int bg,
                      em_snap **out)
{
    em_persist *p = persist_of(srv);
    em_store *st = &srv->st;
    if (out)
        *out = NULL;
    if (!p) {
        ember__io_close(io);
        return EMBER_ENOMEM;
    }
    if (p->snap) {
        ember__io_close(io);
        return EMBER_EBUSY;
    }
    em_snap *s = calloc(1, sizeof *s);
    if (!s) {
        ember__io_close(io);
        return EMBER_ENOMEM;
    }
    s->io = io;
    s->fd_owned = fd_owned;
    s->srv = srv;
    s->ndb = st->ndb;
    s->dbs = calloc((size_t)s->ndb, sizeof *s->dbs);
    s->state_of = calloc((size_t)s->ndb, sizeof *s->state_of);
    s->tmp = path_tmp ? strdup(path_tmp) : NULL;
    s->final_path = path_final ? strdup(path_final) : NULL;
    s->dir = dir ? strdup(dir) : NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cv_item, NULL);
    pthread_cond_init(&s->cv_space, NULL);
    pthread_cond_init(&s->cv_done, NULL);
    s->tail = &s->head;
    atomic_init(&s->refs, 1);
    atomic_init(&s->failed, 0);
    if (!s->dbs || !s->state_of || (path_tmp && (!s->tmp || !s->final_path || !s->dir))) {
        free(s->dbs);
        free(s->state_of);
        s->fd_owned = -1; /* the caller still owns it on failure */
        release(s);
        return EMBER_ENOMEM;
    }
    s->zstd = !(flags & EM_SNAP_PLAIN);
    s->level = level;
    s->bg = bg;
    int64_t now_ms = ember__clock_ms(&st->clock);
    s->t0_ms = now_ms;
    s->t0_s = now_ms / 1000;
    s->dirty0 = st->dirty;
    for (int i = 0; i < s->ndb; i++) {
        snap_db *d = &s->dbs[i];
        d->dbid = i;
        d->slot = i;
        s->state_of[i] = i;
        d->keys0 = ember__dict_size(&st->dbs[i].dict);
        d->expires0 = st->dbs[i].nvol;
        d->state = d->keys0 ? DB_PENDING : DB_DONE;
    }
    ember__rdb_put_header(&s->buf, s->t0_s, ember__mem_used(&st->mem), 0);
    s->serializing = 1;
    atomic_fetch_add(&s->refs, 1); /* the writer thread's */
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        atomic_fetch_sub(&s->refs, 1);
        free(s->dbs);
        free(s->state_of);
        ember__rdb_buf_free(&s->buf);
        s->fd_owned = -1;
        release(s);
        return EMBER_ENOMEM;
    }
    s->thread_started = 1;
    st->prewrite = hook_prewrite;
    st->added = hook_added;
    st->swapped = hook_swapped;
    st->prewrite_ud = s;
    p->snap = s;
    srv->bg_active = 1;
    srv->bgsave_in_progress = bg;
    if (out) {
        atomic_fetch_add(&s->refs, 1);
        *out = s;
    }
    return EMBER_OK;
}

int ember__snap_wait(em_snap *s)
{
    pthread_mutex_lock(&s->lock);
    while (!s->done)
        pthread_cond_wait(&s->cv_done, &s->lock);
    int rc = s->result;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Joins a finished writer and records the outcome. */
static void reap(em_server *srv, em_persist *p)
{
    em_snap *s = p->snap;
    pthread_join(s->thread, NULL);
    s->thread_started = 0;
    if (s->result == EMBER_OK) {
        /* As Redis: LASTSAVE is when the save completed. */
        srv->lastsave_s = ember__clock_ms(&srv->st.clock) / 1000;
        srv->dirty_at_save = s->dirty0;
        srv->rdb_saves++;
    }
    if (s->bg)
        srv->last_bgsave_ok = s->result == EMBER_OK;
    srv->last_save_ok = s->result == EMBER_OK;
    srv->bgsave_in_progress = 0;
    p->snap = NULL;
    release(s); /* the writer's reference */
    release(s); /* the executor's */
}

void ember__snap_reap(em_server *srv)
{
    em_persist *p = persist_of(srv);
    if (!p || !p->snap || p->snap->serializing)
        return;
    em_snap *s = p->snap;
    pthread_mutex_lock(&s->lock);
    int done = s->done;
    pthread_mutex_unlock(&s->lock);
    if (done)
        reap(srv, p);
}

/* ------------------------------------------------------------ paths */

int ember__snap_path_open(const char *dir, const char *name, int *fd, char **tmp, char **final_path)
{
    int err = ember__io_tmp_open(dir, name, fd, tmp, final_path);
    return !err             ? EMBER_OK
           : err == -EINVAL ? EMBER_EINVAL
           : err == -ENOMEM ? EMBER_ENOMEM
                            : EMBER_EIO;
}

int ember__snap_save_config(em_server *srv, int bg)
{
    int fd;
    char *tmp, *fin;
    if (ember__snap_busy(srv))
        return EMBER_EBUSY;
    const char *dir = srv->cfg.dir[0] ? srv->cfg.dir : ".";
    int rc = ember__snap_path_open(dir, srv->cfg.dbfilename, &fd, &tmp, &fin);
    if (rc)
        return rc;
    em_io *io = ember__io_fd(fd);
    if (!io) {
        close(fd);
        unlink(tmp);
        free(tmp);
        free(fin);
        return EMBER_ENOMEM;
    }
    rc = ember__snap_start(srv, io, srv->cfg.rdbcompression ? 0 : EM_SNAP_PLAIN, 0, fd, tmp, fin,
                           dir, bg, NULL);
    if (rc) {
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(fin);
    return rc;
}

/* ------------------------------------------------------------ executor hooks */

/* Redis's serverCron rule: a save point (seconds, changes) triggers when at
 * least `changes` writes happened and more than `seconds` passed since the
 * last save; after a failed background save, retry no sooner than 5 s later. */
static void check_save_rules(em_server *srv, em_persist *p)
{
    if (!srv->cfg.nsave || p->snap)
        return;
    int64_t now_s = ember__clock_ms(&srv->st.clock) / 1000;
    uint64_t changes = srv->st.dirty - srv->dirty_at_save;
    for (int i = 0; i < srv->cfg.nsave; i++) {
        int64_t secs = srv->cfg.save_rules[2 * i], want = srv->cfg.save_rules[2 * i + 1];
        if (changes >= (uint64_t)want && now_s - srv->lastsave_s > secs &&
            (srv->last_bgsave_ok || now_s - p->last_try_s > 5)) {
            p->last_try_s = now_s;
            if (ember__snap_save_config(srv, 1) != EMBER_OK)
                srv->last_bgsave_ok = 0;
            return;
        }
    }
}

static void bg_step(em_server *srv, int64_t budget_us, int why)
{
    em_persist *p = persist_of(srv);
    if (why != EM_BG_TICK) {
        ember__snap_step(srv, budget_us, why == EM_BG_IDLE);
        return;
    }
    ember__snap_reap(srv);
    if (p->scheduled && !p->snap) {
        p->scheduled = 0;
        if (ember__snap_save_config(srv, 1) != EMBER_OK)
            srv->last_bgsave_ok = 0;
    }
    check_save_rules(srv, p);
}

void ember__snap_schedule(em_server *srv)
{
    em_persist *p = persist_of(srv);
    if (p)
        p->scheduled = 1;
}

int ember__snap_wait_current(em_server *srv)
{
    em_persist *p = persist_of(srv);
    return p && p->snap ? ember__snap_wait(p->snap) : EMBER_OK;
}

int ember__persist_init(em_server *srv)
{
    em_persist *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    srv->persist = p;
    srv->bg_step = bg_step;
    srv->lastsave_s = ember__clock_ms(&srv->st.clock) / 1000;
    srv->last_bgsave_ok = 1;
    srv->last_save_ok = 1;
    atomic_store(&srv->aof_last_rewrite_ok, 1);
    return 0;
}

void ember__persist_shutdown(em_server *srv)
{
    em_persist *p = persist_of(srv);
    if (!p)
        return;
    if (p->snap) {
        if (p->snap->serializing)
            finish_serializing(p->snap, EMBER_ECLOSED);
        ember__snap_wait(p->snap);
        reap(srv, p);
    }
    srv->bg_step = NULL;
    srv->persist = NULL;
    free(p);
}

/* ------------------------------------------------------------ loading */

typedef struct load_src {
    em_io *io;
    int ioerr; /* the source failed (not the data) */
} load_src;

static int64_t src_read(void *ctx, void *buf, size_t n)
{
    load_src *l = ctx;
    int64_t r = ember__io_read(l->io, buf, n);
    if (r < 0 && r != -EBADMSG)
        l->ioerr = (int)-r;
    return r;
}

/* A reader that serves the sniffed bytes, then the source. */
typedef struct io_prefix {
    em_io io;
    em_io *inner;
    uint8_t pre[4];
    size_t npre, pos;
} io_prefix;

static int64_t prefix_read(em_io *io, void *buf, size_t n)
{
    io_prefix *x = (io_prefix *)io;
    if (x->pos < x->npre) {
        size_t k = x->npre - x->pos < n ? x->npre - x->pos : n;
        memcpy(buf, x->pre + x->pos, k);
        x->pos += k;
        return (int64_t)k;
    }
    return ember__io_read(x->inner, buf, n);
}
static int prefix_write(em_io *io, const void *p, size_t n)
{
    return -ENOTSUP;
}
static int prefix_sync(em_io *io)
{
    return -ENOTSUP;
}
static void prefix_close(em_io *io)
{
    free(io);
}
static const em_io_ops prefix_ops = {prefix_write, prefix_sync, prefix_read, prefix_close};

static char *msgf(const char *fmt, const char *a, unsigned long long off)
{
    char *m = malloc(512);
    if (m)
        snprintf(m, 512, fmt, a, off);
    return m;
}

int ember__persist_load(em_server *srv, em_io *io, char **msg)
{
    em_store *st = &srv->st;
    *msg = NULL;
    if (ember__snap_busy(srv)) {
        *msg = msgf("%s: load refused (byte %llu)", "a snapshot is in progress", 0);
        return EMBER_EBUSY;
    }
    /* Sniff four bytes: a zstd frame or a plain RDB stream. */
    uint8_t pre[4];
    size_t npre = 0;
    while (npre < 4) {
        int64_t r = ember__io_read(io, pre + npre, 4 - npre);
        if (r < 0) {
            *msg = msgf("read error: %s (at byte %llu)", strerror((int)-r), npre);
            return EMBER_EIO;
        }
        if (r == 0)
            break;
        npre += (size_t)r;
    }
    int zstd = ember__io_is_zstd(pre, npre);
    em_io *rd;
    if (zstd) {
        rd = ember__io_zstd_reader(io, pre, npre);
    } else {
        io_prefix *x = calloc(1, sizeof *x);
        if (x) {
            x->io.ops = &prefix_ops;
            x->inner = io;
            memcpy(x->pre, pre, npre);
            x->npre = npre;
        }
        rd = x ? &x->io : NULL;
    }
    if (!rd)
        return EMBER_ENOMEM;
    em_keyspace *saved;
    if (ember__store_stash(st, &saved) != 0) {
        ember__io_close(rd);
        return EMBER_ENOMEM;
    }
    em_stats stats = st->stats;
    uint64_t dirty = st->dirty;
    load_src ls = {rd, 0};
    em_rdb_src src = {src_read, &ls};
    em_rdb_err err;
    memset(&err, 0, sizeof err);
    int rc = ember__rdb_load(&src, st, &srv->cfg, ember__clock_ms(&st->clock), &err);
    const char *zerr = zstd ? ember__io_zstd_error(rd) : NULL;
    ember__io_close(rd);
    if (rc != 0) {
        ember__store_unstash(st, saved, 0);
        st->stats = stats;
        st->dirty = dirty;
        if (ls.ioerr) {
            *msg = msgf("read error: %s (at byte %llu of the snapshot)", strerror(ls.ioerr),
                        (unsigned long long)err.offset);
            return EMBER_EIO;
        }
        if (zerr) {
            *msg = msgf("corrupt zstd frame: %s (after byte %llu of the decompressed RDB)", zerr,
                        (unsigned long long)err.offset);
            return EMBER_ECORRUPT;
        }
        if (strstr(err.msg, "offset")) /* the codec's message names it already */
            *msg = msgf("corrupt snapshot: %s", err.msg, 0);
        else
            *msg = msgf("corrupt snapshot: %s (at byte offset %llu)",
                        err.msg[0] ? err.msg : "bad data", (unsigned long long)err.offset);
        return EMBER_ECORRUPT;
    }
    ember__store_unstash(st, saved, 1);
    st->stats = stats;
    /* The loaded data is what is on disk: no changes since the last save. */
    srv->dirty_at_save = st->dirty;
    return EMBER_OK;
}
