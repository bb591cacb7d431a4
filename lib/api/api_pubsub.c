/*
 * api_pubsub.c — in-process subscribers (ember_sub_*), ember_publish and the
 * change feed (ember_feed_*), over the registry of lib/command/pubsub.c.
 *
 * A subscriber is an em_ps_sub (the registry's view) plus either a callback
 * run on the executor or a queue. The queue has one producer (the executor,
 * delivering) and one consumer (ember_sub_next), both under the
 * subscriber's mutex. Its eventfd follows one rule, under that mutex: it is
 * written when the queue goes from empty to non-empty (or the subscriber is
 * dropped) and drained when the consumer empties the queue, so it is
 * readable whenever something waits, and a wake-up is never lost.
 *
 * Every registry change runs on the executor (ember__exec_run), which owns
 * the registry; the subscriber keeps a database view so the store's memory
 * outlives it even if the database is closed first.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../command/pubsub.h"
#include "api.h"

#define EM_SUB_MAGIC 0x454d5342u /* "EMSB" */
#define SUB_DEFAULT_LIMIT (32u << 20)
#define SUB_MSG_OVERHEAD 64

/* A queued message: the public struct first (ember_message_free frees it). */
typedef struct qmsg {
    ember_message m;
    struct qmsg *next;
    size_t cost;
    char bytes[];
} qmsg;

struct ember_sub {
    em_ps_sub ps; /* must stay first: the registry hands it back */
    uint32_t magic;
    ember_db *view; /* keeps the store alive */
    ember_message_fn cb;
    void *ud;
    size_t limit;
    int fd;
    pthread_mutex_t lock;
    qmsg *head, **tail;
    size_t pending; /* sum of the queued messages' cost */
    int dropped;
};

static em_server *srv_of(ember_db *db)
{
    return &db->box->core.srv;
}

static void fd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w; /* can only fail on counter overflow: still readable then */
}

static int deliver(em_ps_sub *ps, int kind, const char *pat, size_t plen, const char *ch,
                   size_t clen, const char *msg, size_t mlen)
{
    ember_sub *s = (ember_sub *)ps;
    if (s->cb) {
        ember_message m = {kind, pat, plen, ch, clen, msg, mlen};
        s->cb(s->ud, &m);
        return 0;
    }
    size_t cost = plen + clen + mlen + SUB_MSG_OVERHEAD;
    pthread_mutex_lock(&s->lock);
    int room = s->pending + cost <= s->limit;
    pthread_mutex_unlock(&s->lock);
    qmsg *q = room ? malloc(sizeof *q + plen + clen + mlen) : NULL;
    if (!q)
        return -1; /* over the limit (or out of memory): drop the subscriber */
    char *p = q->bytes;
    memcpy(p, ch, clen);
    if (plen)
        memcpy(p + clen, pat, plen);
    if (mlen)
        memcpy(p + clen + plen, msg, mlen);
    q->m.kind = kind;
    q->m.channel = p;
    q->m.channellen = clen;
    q->m.pattern = plen || pat ? p + clen : NULL;
    q->m.patternlen = plen;
    q->m.data = p + clen + plen;
    q->m.datalen = mlen;
    q->cost = cost;
    q->next = NULL;
    pthread_mutex_lock(&s->lock);
    int was_empty = s->head == NULL;
    *s->tail = q;
    s->tail = &q->next;
    s->pending += cost;
    if (was_empty)
        fd_signal(s->fd);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void on_dropped(em_ps_sub *ps)
{
    ember_sub *s = (ember_sub *)ps;
    pthread_mutex_lock(&s->lock);
    s->dropped = 1;
    if (!s->head)
        fd_signal(s->fd);
    pthread_mutex_unlock(&s->lock);
}

static int sub_ok(const ember_sub *s)
{
    return s && s->magic == EM_SUB_MAGIC;
}

EMBER_API int ember_sub_open(ember_db *db, ember_message_fn cb, void *userdata,
                             size_t max_pending_bytes, ember_sub **out)
{
    if (!em_db_ok(db) || !out)
        return EMBER_EINVAL;
    ember_sub *s = calloc(1, sizeof *s);
    if (!s)
        return EMBER_ENOMEM;
    int rc = ember_db_view(db, 0, &s->view);
    if (rc != EMBER_OK) {
        free(s);
        return rc;
    }
    s->fd = -1;
    if (!cb && (s->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        ember_db_close(s->view);
        free(s);
        return EMBER_EIO;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->ps.deliver = deliver;
    s->ps.dropped = on_dropped;
    s->cb = cb;
    s->ud = userdata;
    s->limit = max_pending_bytes ? max_pending_bytes : SUB_DEFAULT_LIMIT;
    s->tail = &s->head;
    s->magic = EM_SUB_MAGIC;
    *out = s;
    return EMBER_OK;
}

typedef struct sub_op {
    ember_sub *s;
    int kind, unsub;
    size_t n;
    const char *const *names;
    const size_t *lens;
} sub_op;

static int run_sub_op(ember_db *db, void *ud)
{
    sub_op *op = ud;
    em_server *srv = srv_of(db);
    ember_sub *s = op->s;
    if (s->ps.dead || s->dropped)
        return EMBER_EDROPPED;
    if (op->unsub) {
        if (op->n == 0)
            ember__ps_unsubscribe_all(srv, &s->ps, op->kind, NULL, NULL);
        for (size_t i = 0; i < op->n; i++)
            ember__ps_unsubscribe(srv, &s->ps, op->kind, op->names[i], op->lens[i]);
        return EMBER_OK;
    }
    /* All or nothing: on OOM the names this call added are taken back. */
    unsigned char small[64], *added = op->n <= sizeof small ? small : calloc(op->n, 1);
    if (!added)
        return EMBER_ENOMEM;
    int rc = EMBER_OK;
    for (size_t i = 0; i < op->n; i++) {
        int r = ember__ps_subscribe(srv, &s->ps, op->kind, op->names[i], op->lens[i]);
        added[i] = r == 1;
        if (r < 0) {
            while (i-- > 0)
                if (added[i])
                    ember__ps_unsubscribe(srv, &s->ps, op->kind, op->names[i], op->lens[i]);
            rc = EMBER_ENOMEM;
            break;
        }
    }
    if (added != small)
        free(added);
    return rc;
}

static int sub_generic(ember_sub *s, int kind, int unsub, size_t n, const char *const *names,
                       const size_t *lens)
{
    if (!sub_ok(s) || (n && (!names || !lens)))
        return EMBER_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!names[i] && lens[i])
            return EMBER_EINVAL;
    sub_op op = {s, kind, unsub, n, names, lens};
    return ember__exec_run(&s->view->box->core, s->view, run_sub_op, &op);
}

EMBER_API int ember_subscribe(ember_sub *sub, size_t n, const char *const *channels,
                              const size_t *lens)
{
    return sub_generic(sub, EM_PS_CHANNEL, 0, n, channels, lens);
}

EMBER_API int ember_psubscribe(ember_sub *sub, size_t n, const char *const *patterns,
                               const size_t *lens)
{
    return sub_generic(sub, EM_PS_PATTERN, 0, n, patterns, lens);
}

EMBER_API int ember_ssubscribe(ember_sub *sub, size_t n, const char *const *channels,
                               const size_t *lens)
{
    return sub_generic(sub, EM_PS_SHARD, 0, n, channels, lens);
}

EMBER_API int ember_unsubscribe(ember_sub *sub, size_t n, const char *const *channels,
                                const size_t *lens)
{
    return sub_generic(sub, EM_PS_CHANNEL, 1, n, channels, lens);
}

EMBER_API int ember_punsubscribe(ember_sub *sub, size_t n, const char *const *patterns,
                                 const size_t *lens)
{
    return sub_generic(sub, EM_PS_PATTERN, 1, n, patterns, lens);
}

EMBER_API int ember_sunsubscribe(ember_sub *sub, size_t n, const char *const *channels,
                                 const size_t *lens)
{
    return sub_generic(sub, EM_PS_SHARD, 1, n, channels, lens);
}

EMBER_API int ember_sub_fd(const ember_sub *sub)
{
    return sub_ok(sub) ? sub->fd : -1;
}

EMBER_API int ember_sub_next(ember_sub *sub, ember_message **out)
{
    if (!sub_ok(sub) || !out || sub->cb)
        return EMBER_EINVAL;
    pthread_mutex_lock(&sub->lock);
    qmsg *q = sub->head;
    int rc = EMBER_OK;
    if (q) {
        sub->head = q->next;
        if (!sub->head)
            sub->tail = &sub->head;
        sub->pending -= q->cost;
    } else {
        rc = sub->dropped ? EMBER_EDROPPED : EMBER_ENOTFOUND;
    }
    if (!sub->head && !sub->dropped) {
        uint64_t v;
        ssize_t r = read(sub->fd, &v, sizeof v); /* EAGAIN when already drained */
        (void)r;
    }
    pthread_mutex_unlock(&sub->lock);
    *out = q ? &q->m : NULL;
    return rc;
}

EMBER_API void ember_message_free(ember_message *msg)
{
    free(msg); /* the qmsg starts with it */
}

static int run_unsub_all(ember_db *db, void *ud)
{
    ember__ps_unsubscribe_all(srv_of(db), ud, -1, NULL, NULL);
    return EMBER_OK;
}

EMBER_API void ember_sub_close(ember_sub *sub)
{
    if (!sub_ok(sub))
        return;
    /* ECLOSED after ember_db_close(): the registry is gone already. */
    ember__exec_run(&sub->view->box->core, sub->view, run_unsub_all, &sub->ps);
    sub->magic = 0;
    for (qmsg *q = sub->head, *nx; q; q = nx) {
        nx = q->next;
        free(q);
    }
    for (int k = 0; k < EM_PS__KINDS; k++)
        free(sub->ps.subs[k]);
    if (sub->fd >= 0)
        close(sub->fd);
    pthread_mutex_destroy(&sub->lock);
    ember_db_close(sub->view);
    free(sub);
}

typedef struct pub_op {
    int shard;
    const void *ch, *msg;
    size_t clen, mlen;
    int64_t n;
} pub_op;

static int run_publish(ember_db *db, void *ud)
{
    pub_op *op = ud;
    op->n = ember__ps_publish(srv_of(db), op->shard, op->ch, op->clen, op->msg, op->mlen);
    return EMBER_OK;
}

EMBER_API int ember_publish(ember_db *db, int shard, const void *channel, size_t channellen,
                            const void *msg, size_t msglen, int64_t *receivers)
{
    if (!em_db_ok(db) || (!channel && channellen) || (!msg && msglen))
        return EMBER_EINVAL;
    pub_op op = {shard != 0, channel ? channel : "", msg ? msg : "", channellen, msglen, 0};
    int rc = ember__exec_run(&db->box->core, db, run_publish, &op);
    if (rc == EMBER_OK && receivers)
        *receivers = op.n;
    return rc;
}

typedef struct feed_op {
    ember_change_fn fn;
    void *ud;
    int add;
} feed_op;

static int run_feed(ember_db *db, void *ud)
{
    feed_op *op = ud;
    em_server *srv = srv_of(db);
    if (op->add) {
        if (ember__feed_has(srv, op->fn, op->ud))
            return EMBER_EINVAL;
        return ember__feed_add(srv, op->fn, op->ud) == 0 ? EMBER_OK : EMBER_ENOMEM;
    }
    return ember__feed_remove(srv, op->fn, op->ud) == 0 ? EMBER_OK : EMBER_ENOTFOUND;
}

EMBER_API int ember_feed_add(ember_db *db, ember_change_fn fn, void *userdata)
{
    if (!em_db_ok(db) || !fn)
        return EMBER_EINVAL;
    feed_op op = {fn, userdata, 1};
    return ember__exec_run(&db->box->core, db, run_feed, &op);
}

EMBER_API int ember_feed_remove(ember_db *db, ember_change_fn fn, void *userdata)
{
    if (!em_db_ok(db) || !fn)
        return EMBER_EINVAL;
    feed_op op = {fn, userdata, 0};
    return ember__exec_run(&db->box->core, db, run_feed, &op);
}
