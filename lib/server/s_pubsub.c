/*
 * s_pubsub.c — RESP connections as pub/sub subscribers: SUBSCRIBE and
 * friends' confirmations and the messages, as RESP2 arrays or RESP3 pushes
 * (byte for byte as Redis 7.0), in order with the connection's replies.
 *
 * Ordering. Redis writes a message into the client's buffer the moment it
 * is published, between two commands' replies. Here replies are encoded on
 * the executor into the output of the connection's job, and the loop thread
 * sends jobs in FIFO order. So:
 *  - while a job of the connection runs (ember__srv_ps_begin/end around it),
 *    pushes go straight into that job's output, between its replies, exactly
 *    where Redis would put them (its own PUBLISH in RESP3, confirmations);
 *  - at other times they wait in `pending` (mutex: the executor appends, the
 *    loop thread takes), and the loop thread moves them to the socket's
 *    buffer only when the FIFO is empty — all replies before them are out;
 *  - a job that starts running first takes what is pending into its own
 *    output: those messages were published before its commands ran, so they
 *    precede its replies, as in Redis.
 * A push is therefore never written before a reply that was produced before
 * it, nor after one produced after it.
 *
 * Bounds: pending beyond client-output-buffer-limit pubsub's hard limit
 * (32 MB) drops the subscriber and closes the connection, as Redis does.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../command/pubsub.h"
#include "srv_int.h"

#define PS_PENDING_MAX (32u << 20)

struct srv_psub {
    em_ps_client cl; /* must stay first */
    struct ember_server *s;
    srv_conn *conn;
    pthread_mutex_t lock;
    srv_buf pending; /* under lock */
    int kill;        /* under lock: over the limit, close the connection */
    int queued;      /* under s->ps_lock: in the server's ready list */
    srv_psub *ready_next;
    srv_buf *live; /* executor: the output of the job running now */
    int active;    /* executor: has subscribed at least once */
};

/* Encodes [kind, a?, b, c] as an array (RESP2) or a push (RESP3). */
static void put_push(srv_buf *b, int proto, const char *kind, const char *x, size_t xl, int has_x,
                     const char *y, size_t yl, const char *z, size_t zl, int64_t count,
                     int is_count)
{
    ember__sbuf_line(b, proto == 3 ? '>' : '*', has_x ? 4 : 3);
    ember__sbuf_bulk(b, kind, strlen(kind));
    if (has_x)
        ember__sbuf_bulk(b, x, xl);
    if (y)
        ember__sbuf_bulk(b, y, yl);
    else
        ember__sbuf_puts(b, proto == 3 ? "_\r\n" : "$-1\r\n");
    if (is_count)
        ember__sbuf_line(b, ':', count);
    else
        ember__sbuf_bulk(b, z, zl);
}

/* Wakes the loop thread for this subscriber (executor; ps->lock held). */
static void queue_ready(srv_psub *ps)
{
    struct ember_server *s = ps->s;
    pthread_mutex_lock(&s->ps_lock);
    if (!ps->queued) {
        ps->queued = 1;
        ps->ready_next = s->ps_ready;
        s->ps_ready = ps;
    }
    pthread_mutex_unlock(&s->ps_lock);
    /* As on_exec_done: the loop clears `signaled` before it drains. */
    if (atomic_exchange_explicit(&s->signaled, 1, memory_order_seq_cst) == 0) {
        uint64_t one = 1;
        ssize_t w = write(s->efd, &one, sizeof one);
        (void)w;
    }
}

/* Encodes with `enc` into the live job output, or into pending. Returns -1
 * when pending is over the limit (the subscriber is to be dropped). */
static int emit(srv_psub *ps, int proto, const char *kind, const char *x, size_t xl, int has_x,
                const char *y, size_t yl, const char *z, size_t zl, int64_t count, int is_count)
{
    if (ps->live) {
        put_push(ps->live, proto, kind, x, xl, has_x, y, yl, z, zl, count, is_count);
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&ps->lock);
    if (ps->kill) {
        rc = -1;
    } else if (ps->pending.len - ps->pending.off + xl + yl + zl > PS_PENDING_MAX) {
        ps->kill = 1;
        rc = -1;
    } else {
        put_push(&ps->pending, proto, kind, x, xl, has_x, y, yl, z, zl, count, is_count);
    }
    queue_ready(ps);
    pthread_mutex_unlock(&ps->lock);
    return rc;
}

static const char *const msg_kinds[EM_PS__KINDS] = {"message", "pmessage", "smessage"};

static int deliver(em_ps_sub *sub, int kind, const char *pat, size_t plen, const char *ch,
                   size_t clen, const char *msg, size_t mlen)
{
    srv_psub *ps = (srv_psub *)sub;
    return emit(ps, ps->cl.proto, msg_kinds[kind], pat, plen, kind == EM_PS_PATTERN, ch, clen, msg,
                mlen, 0, 0);
}

static void confirm(em_ps_client *cl, const char *kind, const char *name, size_t len, int64_t count)
{
    srv_psub *ps = (srv_psub *)cl;
    ps->active = 1;
    emit(ps, cl->proto, kind, NULL, 0, 0, name, len, NULL, 0, count, 1);
}

srv_psub *ember__srv_ps_new(struct ember_server *s, srv_conn *c)
{
    srv_psub *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->cl.sub.deliver = deliver;
    ps->cl.confirm = confirm;
    ps->cl.proto = c->proto;
    ps->s = s;
    ps->conn = c;
    pthread_mutex_init(&ps->lock, NULL);
    return ps;
}

em_ps_client *ember__srv_ps_begin(srv_psub *ps, srv_buf *out, int proto)
{
    ps->cl.proto = proto;
    if (ps->active) {
        pthread_mutex_lock(&ps->lock);
        if (ps->pending.len > ps->pending.off) {
            ember__sbuf_put(out, ps->pending.p + ps->pending.off,
                            ps->pending.len - ps->pending.off);
            ps->pending.off = ps->pending.len = 0;
        }
        pthread_mutex_unlock(&ps->lock);
    }
    ps->live = out;
    return &ps->cl;
}

void ember__srv_ps_end(srv_psub *ps)
{
    ps->live = NULL;
}

int ember__srv_ps_flush(srv_conn *c)
{
    srv_psub *ps = c->ps;
    pthread_mutex_lock(&ps->lock);
    int kill = ps->kill;
    if (!kill && ps->pending.len > ps->pending.off) {
        ember__sbuf_put(&c->out, ps->pending.p + ps->pending.off,
                        ps->pending.len - ps->pending.off);
        ps->pending.off = ps->pending.len = 0;
    }
    pthread_mutex_unlock(&ps->lock);
    return kill ? -1 : 0;
}

srv_conn *ember__srv_ps_pop_ready(struct ember_server *s)
{
    pthread_mutex_lock(&s->ps_lock);
    srv_psub *ps = s->ps_ready;
    if (ps) {
        s->ps_ready = ps->ready_next;
        ps->queued = 0;
    }
    pthread_mutex_unlock(&s->ps_lock);
    return ps ? ps->conn : NULL;
}

static int unsubscribe_all(struct ember_db *h, void *ud)
{
    (void)h;
    srv_psub *ps = ud;
    ember__ps_unsubscribe_all(&ps->s->core->srv, &ps->cl.sub, -1, NULL, NULL);
    return 0;
}

void ember__srv_ps_reset(struct ember_server *s, srv_conn *c)
{
    if (c->ps)
        ember__exec_run(s->core, NULL, unsubscribe_all, c->ps);
}

void ember__srv_ps_free(struct ember_server *s, srv_conn *c)
{
    srv_psub *ps = c->ps;
    if (!ps)
        return;
    /* No job of the connection is in flight (it is being freed), so only
     * the registry still points at ps: take it out on the executor. */
    ember__exec_run(s->core, NULL, unsubscribe_all, ps);
    pthread_mutex_lock(&s->ps_lock);
    for (srv_psub **p = &s->ps_ready; *p; p = &(*p)->ready_next)
        if (*p == ps) {
            *p = ps->ready_next;
            break;
        }
    pthread_mutex_unlock(&s->ps_lock);
    for (int k = 0; k < EM_PS__KINDS; k++)
        free(ps->cl.sub.subs[k]); /* NULL unless a subscribe ran out of memory */
    pthread_mutex_destroy(&ps->lock);
    free(ps->pending.p);
    free(ps);
    c->ps = NULL;
}
