/*
 * server.c — a RESP2/RESP3 front end: one epoll loop thread accepts
 * connections, reads and parses requests (multibulk and inline, pipelined),
 * and hands the executor, once per loop iteration, one request (a round)
 * carrying every connection's new commands (one job per connection); the
 * executor runs them and encodes the replies straight into each job's
 * buffer (s_resp.c's streaming sink), which the loop thread then sends.
 *
 * Invariants:
 *  - Every job, blocking command and server-answered reply has a record in
 *    its connection's FIFO, in arrival order; replies leave only from the
 *    head, so they go out in request order. Commands the server answers
 *    itself (HELLO, SELECT, CLIENT, QUIT, refusals) close the connection's
 *    job: later commands start a new one behind the reply.
 *  - A blocking command (BLPOP...) goes alone, as an async request queued
 *    after the round (one producer: the executor runs them in that order);
 *    nothing more of that connection is parsed until it completes, as Redis
 *    blocks the client. Callers a write wakes are served right after that
 *    command (ember__exec_run_known), before the next one, as in Redis.
 *  - Completions run on the executor (the callback only pushes the record on
 *    the server's MPSC done queue and signals an eventfd); the loop thread is
 *    the queue's only consumer.
 *  - srv->refs counts the server itself plus every record in the executor.
 *    Whoever drops it to zero frees the server, so ember__server_stop never
 *    waits for a command that may block forever, and a late completion never
 *    touches freed memory.
 *  - Memory is bounded: a connection stops reading while 1024 records or
 *    4 MB of output are pending, and the unparsed input is capped at 1 GB
 *    (client-query-buffer-limit); Redis's protocol limits apply per request.
 *  - With I/O threads, only the read and send syscalls leave the loop
 *    thread (see "I/O threads" below).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "srv_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/util.h"
#include "../exec/futex.h"

/* Tags for epoll data that are not connections. */
static char tag_listen, tag_done, tag_stop;

/* ------------------------------------------------------------ connections */

static void job_free(srv_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->ncmds; i++)
        ember__srv_mstep_free(j->cmds[i].multi);
    free(j->cmds);
    free(j->argoff);
    free(j->argvlen);
    free(j->argv);
    free(j->bytes);
    free(j->out.p);
    free(j);
}

static void rec_free(srv_rec *r)
{
    ember__srv_txn_free(r->txn);
    ember__reply_tree_free(r->reply);
    free(r->raw);
    free(r->pending);
    job_free(r->job);
    free(r);
}

static void conn_set_events(struct ember_server *s, srv_conn *c, uint32_t ev)
{
    if (c->dead || ev == c->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void conn_free(srv_conn *c)
{
    struct ember_server *s = c->srv;
    ember__srv_multi_reset(s, c);
    ember__srv_ps_free(s, c); /* pub/sub: s_pubsub.c */
    if (c->prev)
        c->prev->nextc = c->nextc;
    else
        s->conns = c->nextc;
    if (c->nextc)
        c->nextc->prev = c->prev;
    srv_rec *r = c->head;
    while (r) {
        srv_rec *n = r->next;
        rec_free(r);
        r = n;
    }
    free(c->in.p);
    free(c->out.p);
    free(c->argv);
    free(c->argvlen);
    free(c->scratch);
    free(c->name);
    ember__srv_conn_freed(c);
    free(c);
}

static void on_exec_done(void *ud, int status, struct ember_reply *reply);
static void conn_pump(struct ember_server *s, srv_conn *c);

/* A blocking command of a connection that is going away must not stay
 * parked on its keys (it would take an element nobody receives): ask the
 * executor to release it. The cancel request has a record of its own, not
 * in the FIFO but counted in flight, so the connection and the record it
 * names stay allocated until the executor has handled it. */
static void cancel_blocked(struct ember_server *s, srv_conn *c)
{
    if (!c->blocked || !c->blocked_rec)
        return;
    srv_rec *br = c->blocked_rec;
    if (br->pending) { /* not handed over yet: just take it back */
        srv_rec **pp = &s->singles;
        while (*pp != br)
            pp = &(*pp)->next_single;
        *pp = br->next_single;
        if (s->singles_tail == &br->next_single)
            s->singles_tail = pp;
        free(br->pending);
        br->pending = NULL;
        br->done = 1;
        c->inflight--;
        c->blocked_rec = NULL;
        return;
    }
    srv_rec *cr = calloc(1, sizeof *cr);
    em_req *r = calloc(1, sizeof *r);
    if (!cr || !r) {
        free(cr);
        free(r);
        return; /* it stays parked until served, timed out or the close */
    }
    cr->conn = c;
    cr->srv = s;
    cr->is_cancel = 1;
    r->kind = EM_REQ_CANCEL;
    r->cancel_ud = c->blocked_rec;
    r->cb = on_exec_done;
    r->ud = cr;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    if (ember__exec_async(s->core, r) != EMBER_OK) {
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_relaxed);
        free(r);
        free(cr);
        return;
    }
    c->inflight++;
    c->blocked_rec = NULL; /* once is enough */
}

/* Closes the socket now. The memory goes in conn_sweep(), after the epoll
 * batch (a later event of the same batch may still name the connection),
 * once nothing of it is in flight. */
void ember__srv_conn_kill(struct ember_server *s, srv_conn *c)
{
    if (c->dead)
        return;
    c->dead = 1;
    ember__srv_conn_closing(s, c);
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    s->sweep = 1;
    cancel_blocked(s, c);
}

static void conn_sweep(struct ember_server *s)
{
    if (!s->sweep)
        return;
    s->sweep = 0;
    for (srv_conn *c = s->conns, *next; c; c = next) {
        next = c->nextc;
        if (c->dead && c->inflight == 0)
            conn_free(c);
    }
}

srv_rec *ember__srv_rec_new(srv_conn *c)
{
    srv_rec *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->conn = c;
    r->srv = c->srv;
    r->proto = c->proto;
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->nrec++;
    return r;
}

/* Queues a reply built by the server (a complete record). */
void ember__srv_reply_raw(srv_conn *c, const char *p, size_t n)
{
    if (c->capture) { /* a server command inside EXEC (s_multi.c) */
        ember__sbuf_put(c->capture, p, n);
        return;
    }
    if (!c->head) { /* nothing ahead of it: straight to the output */
        ember__sbuf_put(&c->out, p, n);
        return;
    }
    srv_rec *r = ember__srv_rec_new(c);
    if (!r)
        return;
    r->raw = malloc(n ? n : 1);
    if (r->raw) {
        memcpy(r->raw, p, n);
        r->rawlen = n;
    }
    r->done = 1;
}

void ember__srv_reply_str(srv_conn *c, const char *s)
{
    ember__srv_reply_raw(c, s, strlen(s));
}

void ember__srv_reply_error(srv_conn *c, const char *msg)
{
    srv_buf b = {0};
    ember__sbuf_put(&b, "-", 1);
    ember__sbuf_puts(&b, msg);
    ember__sbuf_put(&b, "\r\n", 2);
    ember__srv_reply_raw(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* Moves finished replies from the head of the FIFO to the output buffer. */
static void conn_drain_fifo(srv_conn *c)
{
    while (c->head && c->head->done) {
        srv_rec *r = c->head;
        if (r->txn) {
            ember__srv_multi_emit(c, r);
        } else if (r->job && r->status == EMBER_OK) {
            srv_buf *jo = &r->job->out;
            if (c->out.len == c->out.off) { /* nothing pending: take the buffer whole */
                srv_buf t = c->out;
                c->out = *jo;
                *jo = t;
                jo->off = jo->len = 0;
            } else {
                ember__sbuf_put(&c->out, jo->p + jo->off, jo->len - jo->off);
            }
        } else if (r->raw)
            ember__sbuf_put(&c->out, r->raw, r->rawlen);
        else if (r->status != EMBER_OK || !r->reply)
            ember__sbuf_puts(&c->out, "-ERR the database is closed\r\n");
        else
            ember__srv_encode(&c->out, r->reply, r->proto, r->shape);
        c->head = r->next;
        if (!c->head)
            c->tail = NULL;
        c->nrec--;
        rec_free(r);
    }
    /* Pub/sub pushes go out once every reply before them has (s_pubsub.c). */
    if (!c->head && c->ps && ember__srv_ps_flush(c) < 0)
        c->close_after = 1;
}

/* Writes what it can. Returns -1 if the connection was closed. */
/* Sends what the socket takes; c->io_err = 1 on a fatal error. Touches only
 * c->out and c->io_err: safe on an I/O thread. */
static void conn_send_io(srv_conn *c)
{
    c->io_err = 0;
    while (c->out.len > c->out.off) {
        ssize_t w = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->io_err = 1;
            break;
        }
        c->out.off += (size_t)w;
    }
}

/* The loop thread's part of a write. Returns -1 if the connection closed. */
static int conn_write_done(struct ember_server *s, srv_conn *c)
{
    if (c->io_err) {
        ember__srv_conn_kill(s, c);
        return -1;
    }
    if (c->out.off == c->out.len)
        c->out.off = c->out.len = 0;
    if (c->close_after && !c->head && c->out.len == 0) {
        ember__srv_conn_kill(s, c);
        return -1;
    }
    return 0;
}

/* With I/O threads, sends wait for the iteration's write phase. */
static void defer_write(struct ember_server *s, srv_conn *c)
{
    if (c->wq || c->out.len == c->out.off)
        return;
    if (s->nwv == s->capwv) {
        size_t nc = s->capwv ? 2 * s->capwv : 64;
        srv_conn **nv = realloc(s->wv, nc * sizeof *nv);
        if (!nv) {
            conn_send_io(c); /* no room to defer: send from here */
            conn_write_done(s, c);
            return;
        }
        s->wv = nv;
        s->capwv = nc;
    }
    c->wq = 1;
    s->wv[s->nwv++] = c;
}

static int conn_write(struct ember_server *s, srv_conn *c)
{
    if (s->nio > 1) {
        defer_write(s, c);
        return 0;
    }
    conn_send_io(c);
    return conn_write_done(s, c);
}

static int conn_may_parse(const srv_conn *c)
{
    return !c->dead && !c->close_after && !c->blocked && c->nrec < SRV_FIFO_MAX &&
           c->out.len - c->out.off < SRV_OUT_HIGH;
}

/* ------------------------------------------------------------ parsing */

enum { P_MORE = 0, P_OK = 1, P_ERR = -1 };

static int arg_push(srv_conn *c, size_t argc, const char *p, size_t n)
{
    if (argc >= c->argcap) {
        size_t nc = c->argcap ? c->argcap * 2 : 16;
        const char **av = realloc(c->argv, nc * sizeof *av);
        if (!av)
            return -1;
        c->argv = av;
        size_t *al = realloc(c->argvlen, nc * sizeof *al);
        if (!al)
            return -1;
        c->argvlen = al;
        c->argcap = nc;
    }
    c->argv[argc] = p;
    c->argvlen[argc] = n;
    return 0;
}

/* Parses a multibulk request at in.p[off]. On P_OK, *argc and *used are set
 * (argc 0: an empty request to skip). On P_ERR, err is Redis's message. */
/* Where ch first occurs in [p, end) before any NUL byte, else NULL: Redis
 * looks for line ends with strchr() in its query buffer, so a NUL before
 * the line end hides it (the request waits for more input, then meets the
 * size limit), and ember-server must answer such input the same way. */
static const char *strchr_stop(const char *p, const char *end, char ch)
{
    for (; p < end && *p; p++)
        if (*p == ch)
            return p;
    return NULL;
}

static int parse_multibulk(struct ember_server *s, srv_conn *c, size_t *argc, size_t *used,
                           const char **err, char *errbuf, size_t errcap)
{
    const char *base = c->in.p + c->in.off, *end = c->in.p + c->in.len;
    long long n, i = 0;
    const char *p, *cr;
    if (c->mb_active) { /* resume where the last read stopped */
        n = c->mb_n;
        i = c->mb_i;
        p = base + c->mb_pos;
        goto args;
    }
    cr = strchr_stop(base, end, '\r');
    if (!cr || cr + 1 >= end) {
        if (end - base > SRV_INLINE_MAX) {
            *err = "ERR Protocol error: too big mbulk count string";
            return P_ERR;
        }
        return P_MORE;
    }
    if (!ember__str_to_ll(base + 1, (size_t)(cr - base - 1), &n) || n > SRV_MBULK_MAX) {
        /* Redis 7.0 takes any count up to INT_MAX (argv grows as arguments
         * arrive, so an announced count costs nothing by itself). */
        *err = "ERR Protocol error: invalid multibulk length";
        return P_ERR;
    }
    p = cr + 2;
    if (n <= 0) {
        *argc = 0;
        *used = (size_t)(p - base);
        return P_OK;
    }
args:
    /* Arguments are kept as offsets from base until the request is whole:
     * the buffer may move (grow, compact) between reads, offsets do not. */
    for (; i < n; i++) {
        if (p >= end)
            goto more;
        if (*p != '$') {
            snprintf(errbuf, errcap, "ERR Protocol error: expected '$', got '%c'", *p);
            *err = errbuf;
            return P_ERR;
        }
        cr = strchr_stop(p, end, '\r');
        if (!cr || cr + 1 >= end) {
            if (end - p > SRV_INLINE_MAX) {
                *err = "ERR Protocol error: too big bulk count string";
                return P_ERR;
            }
            goto more;
        }
        long long len;
        if (!ember__str_to_ll(p + 1, (size_t)(cr - p - 1), &len) || len < 0 || len > s->max_bulk) {
            *err = "ERR Protocol error: invalid bulk length";
            return P_ERR;
        }
        if ((unsigned long long)(end - cr - 2) < (unsigned long long)len + 2)
            goto more;
        p = cr + 2;
        if (arg_push(c, (size_t)i, (const char *)(uintptr_t)(p - base), (size_t)len)) {
            *err = "ERR out of memory";
            return P_ERR;
        }
        p += len + 2;
    }
    for (long long k = 0; k < n; k++)
        c->argv[k] = base + (uintptr_t)c->argv[k];
    c->mb_active = 0;
    *argc = (size_t)n;
    *used = (size_t)(p - base);
    return P_OK;
more:
    c->mb_active = 1;
    c->mb_n = n;
    c->mb_i = i;
    c->mb_pos = (size_t)(p - base);
    return P_MORE;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Splits an inline request as Redis 7.0 does (its argument splitter):
 * blanks separate tokens; a double quote opens a quoted part anywhere in a
 * token, with \n \r \t \b \a \\ \" \xHH escapes, a single quote one with \'
 * only; a closing quote must be followed by a blank or the end. The line has
 * no NUL (strchr_stop found its end). Returns argc, or -1 on unbalanced
 * quotes / OOM. */
static long split_inline(srv_conn *c, const char *p, size_t n)
{
    if (c->scratchcap < n + 1) {
        char *ns = realloc(c->scratch, n + 1);
        if (!ns)
            return -1;
        c->scratch = ns;
        c->scratchcap = n + 1;
    }
    char *o = c->scratch;
    const char *e = p + n;
    size_t argc = 0;
    for (;;) {
        while (p < e && is_space(*p))
            p++;
        if (p >= e)
            break;
        char *start = o;
        int inq = 0, insq = 0;
        while (p < e) {
            if (inq) {
                if (*p == '\\' && p + 3 < e && p[1] == 'x' && hexval(p[2]) >= 0 &&
                    hexval(p[3]) >= 0) {
                    *o++ = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                    p += 4;
                } else if (*p == '\\' && p + 1 < e) {
                    char ch = p[1];
                    *o++ = ch == 'n'   ? '\n'
                           : ch == 'r' ? '\r'
                           : ch == 't' ? '\t'
                           : ch == 'b' ? '\b'
                           : ch == 'a' ? '\a'
                                       : ch;
                    p += 2;
                } else if (*p == '"') {
                    if (p + 1 < e && !is_space(p[1]))
                        return -1;
                    p++;
                    inq = 0;
                    break;
                } else {
                    *o++ = *p++;
                }
            } else if (insq) {
                if (*p == '\\' && p + 1 < e && p[1] == '\'') {
                    *o++ = '\'';
                    p += 2;
                } else if (*p == '\'') {
                    if (p + 1 < e && !is_space(p[1]))
                        return -1;
                    p++;
                    insq = 0;
                    break;
                } else {
                    *o++ = *p++;
                }
            } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                break; /* \v and \f end no token (they only separate leading blanks) */
            } else if (*p == '"') {
                inq = 1;
                p++;
            } else if (*p == '\'') {
                insq = 1;
                p++;
            } else {
                *o++ = *p++;
            }
        }
        if (inq || insq)
            return -1; /* the line ended inside quotes */
        if (arg_push(c, argc, start, (size_t)(o - start)))
            return -1;
        argc++;
    }
    return (long)argc;
}

static int parse_inline(srv_conn *c, size_t *argc, size_t *used, const char **err)
{
    const char *base = c->in.p + c->in.off, *end = c->in.p + c->in.len;
    const char *nl = strchr_stop(base, end, '\n');
    if (!nl) {
        if (end - base > SRV_INLINE_MAX) {
            *err = "ERR Protocol error: too big inline request";
            return P_ERR;
        }
        return P_MORE;
    }
    size_t n = (size_t)(nl - base);
    if (n && base[n - 1] == '\r')
        n--;
    long k = split_inline(c, base, n);
    if (k < 0) {
        *err = "ERR Protocol error: unbalanced quotes in request";
        return P_ERR;
    }
    *argc = (size_t)k;
    *used = (size_t)(nl + 1 - base);
    return P_OK;
}

/* ------------------------------------------------------------ commands */

int ember__srv_name_is(const srv_conn *c, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    if (c->argvlen[i] != n)
        return 0;
    for (size_t k = 0; k < n; k++) {
        char ch = c->argv[i][k];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != lit[k])
            return 0;
    }
    return 1;
}

/* Commands whose "no result" is the null array in RESP2. */
/* The commands whose top-level NIL is a null array in RESP2, and those whose
 * [member, score] pairs RESP2 splices into one flat array: looked up once
 * at start, compared by address per request. */
static void init_reply_shapes(struct ember_server *s)
{
    static const char *const nullarray[] = {"blpop",  "brpop",  "bzpopmin", "bzpopmax",
                                            "blmpop", "bzmpop", "lmpop",    "zmpop"};
    static const char *const pairs[] = {"zrange",  "zrevrange", "zrangebyscore", "zrevrangebyscore",
                                        "zpopmin", "zpopmax",   "zrandmember",   "hrandfield",
                                        "zunion",  "zinter",    "zdiff"};
    _Static_assert(sizeof nullarray / sizeof nullarray[0] ==
                       sizeof s->nullarray_cmds / sizeof s->nullarray_cmds[0],
                   "one slot per name");
    _Static_assert(sizeof pairs / sizeof pairs[0] == sizeof s->pair_cmds / sizeof s->pair_cmds[0],
                   "one slot per name");
    for (size_t i = 0; i < sizeof nullarray / sizeof nullarray[0]; i++)
        s->nullarray_cmds[i] = ember__cmd_lookup(nullarray[i], strlen(nullarray[i]));
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        s->pair_cmds[i] = ember__cmd_lookup(pairs[i], strlen(pairs[i]));
    s->info_cmd = ember__cmd_lookup("info", 4);
    s->lpop_cmd = ember__cmd_lookup("lpop", 4);
    s->rpop_cmd = ember__cmd_lookup("rpop", 4);
    s->blmove_cmd = ember__cmd_lookup("blmove", 6);
    s->brpoplpush_cmd = ember__cmd_lookup("brpoplpush", 10);
}

static int cmd_in(const em_cmd *cmd, const em_cmd *const *set, size_t n)
{
    for (size_t i = 0; cmd && i < n; i++)
        if (set[i] == cmd)
            return 1;
    return 0;
}

static int sends_null_array(const struct ember_server *s, const em_cmd *cmd)
{
    return cmd_in(cmd, s->nullarray_cmds, sizeof s->nullarray_cmds / sizeof s->nullarray_cmds[0]);
}

static int sends_pairs(const struct ember_server *s, const em_cmd *cmd)
{
    return cmd_in(cmd, s->pair_cmds, sizeof s->pair_cmds / sizeof s->pair_cmds[0]);
}

/* Redis 7.0's null arrays that depend on the request: LPOP/RPOP with a
 * count answer a missing key with *-1 (without one, $-1); BLMOVE and
 * BRPOPLPUSH time out with *-1, but inside MULTI (where they cannot block)
 * answer $-1. */
int ember__srv_reply_shape(const struct ember_server *s, const em_cmd *cmd, size_t argc,
                           int in_multi)
{
    int na = sends_null_array(s, cmd) ||
             ((cmd == s->lpop_cmd || cmd == s->rpop_cmd) && cmd && argc >= 3) ||
             (!in_multi && cmd && (cmd == s->blmove_cmd || cmd == s->brpoplpush_cmd));
    return (na ? SRV_SHAPE_NULLARRAY : 0) | (sends_pairs(s, cmd) ? SRV_SHAPE_FLATPAIRS : 0) |
           (cmd && cmd == s->info_cmd ? SRV_SHAPE_VERBATIM : 0);
}

/* ------------------------------------------------------------ jobs */

/* The connection's job for this round, opened (as a FIFO record) if it has
 * none. NULL when out of memory. */
static srv_job *job_open(struct ember_server *s, srv_conn *c)
{
    if (c->job)
        return c->job;
    srv_job *j = calloc(1, sizeof *j);
    srv_rec *rec = j ? ember__srv_rec_new(c) : NULL;
    if (!rec) {
        free(j);
        return NULL;
    }
    rec->job = j;
    j->rec = rec;
    j->db = c->db;
    j->proto = c->proto;
    j->ps = c->ps;
    *s->round_tail = j;
    s->round_tail = &j->next;
    c->job = j;
    c->inflight++;
    return j;
}

/* Copies the parsed request into the connection's job. Returns -1 when out
 * of memory (nothing added). */
static int job_add(struct ember_server *s, srv_conn *c, const em_cmd *cmd, size_t argc)
{
    srv_job *j = job_open(s, c);
    if (!j)
        return -1;
    /* pub/sub (s_pubsub.c): a connection subscribes through its jobs */
    if (!c->ps && cmd && (cmd->flags & EM_CMD_PUBSUB))
        c->ps = ember__srv_ps_new(s, c);
    j->ps = c->ps;
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++)
        bytes += c->argvlen[i] + 1;
    if (ember__array_grow((void **)&j->cmds, &j->capcmds, j->ncmds + 1, sizeof *j->cmds) ||
        ember__array_grow((void **)&j->bytes, &j->capbytes, j->nbytes + bytes, 1))
        return -1;
    size_t cap = j->capargs;
    if (ember__array_grow((void **)&j->argoff, &cap, j->nargs + argc, sizeof *j->argoff))
        return -1;
    cap = j->capargs;
    if (ember__array_grow((void **)&j->argvlen, &cap, j->nargs + argc, sizeof *j->argvlen))
        return -1;
    j->capargs = cap;
    srv_jcmd *jc = &j->cmds[j->ncmds++];
    jc->cmd = cmd;
    jc->multi = NULL;
    jc->argc = (uint32_t)argc;
    jc->arg0 = (uint32_t)j->nargs;
    jc->shape = (uint8_t)ember__srv_reply_shape(s, cmd, argc, 0);
    for (size_t i = 0; i < argc; i++) {
        size_t n = c->argvlen[i];
        j->argoff[j->nargs] = j->nbytes;
        j->argvlen[j->nargs++] = n;
        if (n)
            memcpy(j->bytes + j->nbytes, c->argv[i], n);
        j->bytes[j->nbytes + n] = '\0';
        j->nbytes += n + 1;
    }
    return 0;
}

int ember__srv_job_add_step(struct ember_server *s, srv_conn *c, struct srv_mstep *step,
                            size_t argc)
{
    if (job_add(s, c, NULL, argc))
        return -1;
    c->job->cmds[c->job->ncmds - 1].multi = step;
    return 0;
}

/* Runs on the executor: every command of every job of the round, replies
 * encoded into each job's output. The connections are not touched (they
 * belong to the I/O thread). */
static void run_round(em_core *core, void *ud)
{
    srv_rec *round = ud;
    for (srv_job *j = round->jobs; j; j = j->next) {
        j->argv = malloc((j->nargs ? j->nargs : 1) * sizeof *j->argv);
        if (!j->argv) {
            for (size_t i = 0; i < j->ncmds; i++)
                ember__sbuf_puts(&j->out, "-ERR out of memory\r\n");
            continue;
        }
        for (size_t i = 0; i < j->nargs; i++)
            j->argv[i] = j->bytes + j->argoff[i];
        core->srv.cur_client = j->ps ? ember__srv_ps_begin(j->ps, &j->out, j->proto) : NULL;
        for (size_t i = 0; i < j->ncmds; i++) {
            const srv_jcmd *jc = &j->cmds[i];
            if (jc->multi) {
                ember__srv_multi_run(core, j, jc);
                continue;
            }
            em_resp_sink rs;
            ember__resp_sink_init(&rs, &j->out, j->proto, jc->shape);
            ember__exec_run_known(core, j->db, jc->cmd, jc->argc, j->argv + jc->arg0,
                                  j->argvlen + jc->arg0, &ember__resp_sink_ops, &rs);
        }
        /* pub/sub (s_pubsub.c): the connection the commands act on */
        core->srv.cur_client = NULL;
        if (j->ps)
            ember__srv_ps_end(j->ps);
    }
}

/* Runs on the executor when the append log could not make the round's
 * writes durable: no reply may acknowledge them, so every command of the
 * round gets the log's error instead (as an atomic batch does). */
static void fail_round(void *ud, const char *msg)
{
    srv_rec *round = ud;
    for (srv_job *j = round->jobs; j; j = j->next) {
        j->out.len = j->out.off = 0;
        for (size_t i = 0; i < j->ncmds; i++) {
            ember__sbuf_put(&j->out, "-", 1);
            ember__sbuf_puts(&j->out, msg);
            ember__sbuf_put(&j->out, "\r\n", 2);
        }
    }
}

/* Hands the round's jobs to the executor as one request, then the blocking
 * commands held back behind them (one producer: the executor runs them in
 * this order). */
static void round_flush(struct ember_server *s)
{
    if (s->round) {
        srv_rec *round = calloc(1, sizeof *round);
        em_req *r = round ? calloc(1, sizeof *r) : NULL;
        srv_job *jobs = s->round;
        s->round = NULL;
        s->round_tail = &s->round;
        for (srv_job *j = jobs; j; j = j->next)
            j->rec->conn->job = NULL;
        int rc = EMBER_ENOMEM;
        if (r) {
            round->srv = s;
            round->jobs = jobs;
            r->kind = EM_REQ_CALL;
            r->call = run_round;
            r->call_fail = fail_round;
            r->cb = on_exec_done;
            r->ud = round;
            atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
            rc = ember__exec_async(s->core, r);
            if (rc != EMBER_OK)
                atomic_fetch_sub_explicit(&s->refs, 1, memory_order_relaxed);
            else
                s->rounds_out++;
        }
        if (rc != EMBER_OK) { /* each job's record reports the failure */
            free(r);
            free(round);
            for (srv_job *j = jobs, *next; j; j = next) {
                next = j->next;
                j->rec->status = rc;
                j->rec->done = 1;
                j->rec->conn->inflight--;
                conn_pump(s, j->rec->conn);
            }
        }
    }
    while (s->singles) {
        srv_rec *rec = s->singles;
        s->singles = rec->next_single;
        em_req *r = rec->pending;
        rec->pending = NULL;
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
        int rc = ember__exec_async(s->core, r);
        if (rc != EMBER_OK) {
            atomic_fetch_sub_explicit(&s->refs, 1, memory_order_relaxed);
            free(r);
            rec->status = rc;
            rec->done = 1;
            rec->conn->inflight--;
            rec->conn->blocked = 0;
            rec->conn->blocked_rec = NULL;
            conn_pump(s, rec->conn);
        }
    }
    s->singles_tail = &s->singles;
}

/* A command for the executor: it joins the connection's job, unless it is a
 * blocking one, which goes alone (after the round) and stops the
 * connection's parsing until it completes, as Redis blocks the client. */
static void submit(struct ember_server *s, srv_conn *c, size_t argc)
{
    const em_cmd *cmd =
        c->lookup_valid ? c->looked_up : ember__cmd_lookup(c->argv[0], c->argvlen[0]);
    if (!cmd || !(cmd->flags & EM_CMD_BLOCKING)) {
        if (job_add(s, c, cmd, argc) == 0)
            return;
        c->job = NULL; /* what it holds still runs; this one gets the error */
        ember__srv_reply_error(c, "ERR out of memory");
        return;
    }
    c->job = NULL; /* later commands queue behind the blocking one */
    srv_rec *rec = ember__srv_rec_new(c);
    if (!rec) {
        c->close_after = 1;
        return;
    }
    em_req *r = ember__req_new_async(c->db, argc, c->argv, c->argvlen);
    if (!r) {
        rec->raw = strdup("-ERR out of memory\r\n");
        rec->rawlen = rec->raw ? strlen(rec->raw) : 0;
        rec->done = 1;
        return;
    }
    rec->shape = ember__srv_reply_shape(s, cmd, argc, 0);
    ember__srv_submit_single(s, c, rec, r);
}

void ember__srv_submit_single(struct ember_server *s, srv_conn *c, srv_rec *rec, em_req *r)
{
    r->cb = on_exec_done;
    r->ud = rec;
    r->cq = NULL;
    rec->blocking = 1;
    rec->pending = r;
    *s->singles_tail = rec;
    s->singles_tail = &rec->next_single;
    c->inflight++;
    c->blocked = 1;
    c->blocked_rec = rec;
}

/* Runs one parsed request: a connection command here, anything else on the
 * executor. */
static void dispatch(struct ember_server *s, srv_conn *c, size_t argc)
{
    if (ember__srv_conn_command(s, c, argc))
        c->job = NULL; /* its reply is queued after the job: later commands start another */
    else
        submit(s, c, argc);
}

/* Parses and runs every complete request in the input buffer, as far as
 * the connection's limits allow. */
static void conn_process(struct ember_server *s, srv_conn *c)
{
    while (conn_may_parse(c) && c->in.len > c->in.off) {
        size_t argc = 0, used = 0;
        const char *err = NULL;
        char errbuf[96];
        int rc = c->in.p[c->in.off] == '*'
                     ? parse_multibulk(s, c, &argc, &used, &err, errbuf, sizeof errbuf)
                     : parse_inline(c, &argc, &used, &err);
        if (rc == P_MORE)
            break;
        if (rc == P_ERR) {
            ember__srv_reply_error(c, err);
            c->close_after = 1;
            c->in.off = c->in.len = 0;
            break;
        }
        if (argc)
            dispatch(s, c, argc); /* arguments are copied before this returns */
        c->in.off += used;
    }
    if (c->in.off == c->in.len)
        c->in.off = c->in.len = 0;
}

/* Sets the epoll interest from what is pending: input while it may
 * parse, output while some waits. */
static void conn_interest(struct ember_server *s, srv_conn *c)
{
    uint32_t ev = EPOLLRDHUP;
    if (conn_may_parse(c))
        ev |= EPOLLIN;
    if (c->out.len > c->out.off)
        ev |= EPOLLOUT;
    conn_set_events(s, c, ev);
}

/* Moves replies out, writes, parses more, until nothing changes; then sets
 * the epoll interest from what is pending. */
static void conn_pump(struct ember_server *s, srv_conn *c)
{
    for (;;) {
        conn_drain_fifo(c);
        if (conn_write(s, c) < 0)
            return;
        size_t before = c->in.off, nrec = c->nrec, outlen = c->out.len;
        conn_process(s, c);
        if (c->dead)
            return;
        if (c->in.off == before && c->nrec == nrec && c->out.len == outlen)
            break;
    }
    if (c->close_after && !c->head && c->out.len == 0) {
        ember__srv_conn_kill(s, c);
        return;
    }
    conn_interest(s, c);
}

/* Reads what arrived into c->in: c->io_n = bytes, 0 at EOF, -1 on a fatal
 * error (or no memory), -2 when nothing was there. Touches only c->in and
 * c->io_n: safe on an I/O thread. */
static void conn_read_io(srv_conn *c)
{
    if (ember__sbuf_reserve(&c->in, SRV_READ_CHUNK)) {
        c->io_n = -1;
        return;
    }
    ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
    if (n < 0)
        n = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -2 : -1;
    else if (n > 0)
        c->in.len += (size_t)n;
    c->io_n = n;
}

/* The loop thread's part of a read: limits, then parse and run. */
static void conn_read_done(struct ember_server *s, srv_conn *c)
{
    if (c->io_n == 0 || c->io_n == -1) {
        ember__srv_conn_kill(s, c);
        return;
    }
    if ((long long)(c->in.len - c->in.off) > SRV_QUERYBUF_MAX) {
        ember__srv_conn_kill(s, c); /* Redis closes without a reply too */
        return;
    }
    conn_pump(s, c);
}

static void conn_read(struct ember_server *s, srv_conn *c)
{
    conn_read_io(c);
    conn_read_done(s, c);
}

/* ------------------------------------------------------------ I/O threads */

/*
 * Redis 6's threaded I/O: the loop thread owns every connection and runs
 * everything but the read and send syscalls (and the copies they make),
 * which it fans out per iteration: connection i of the list goes to thread
 * i mod nio (the loop thread is number 0). While a phase runs, each listed
 * connection is touched by exactly one thread, and only in its in/out
 * buffer and io_* fields; the loop thread waits for io_left to reach zero
 * (acquire) before it looks at them again, and the helpers read the list
 * after seeing io_gen move (acquire), so every access is ordered.
 */
enum { IO_READ = 1, IO_SEND = 2 };

static void io_one(srv_conn *c, int op)
{
    if (op == IO_READ)
        conn_read_io(c);
    else
        conn_send_io(c);
}

typedef struct io_arg {
    struct ember_server *s;
    int k;
} io_arg;

static void *io_helper(void *arg)
{
    io_arg a = *(io_arg *)arg;
    free(arg);
    struct ember_server *s = a.s;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&s->io_gen, memory_order_acquire)) == seen) {
            if (++spins < 2000)
                ember__cpu_relax();
            else
                ember__futex_wait(&s->io_gen, seen, -1);
        }
        seen = g;
        if (s->io_quit)
            return NULL;
        for (size_t i = (size_t)a.k; i < s->io_nitems; i += (size_t)s->nio)
            io_one(s->io_items[i], s->io_op);
        atomic_fetch_sub_explicit(&s->io_left, 1, memory_order_release);
    }
}

static void io_run(struct ember_server *s, int op, srv_conn **v, size_t n)
{
    if (s->nio <= 1 || n < 2) {
        for (size_t i = 0; i < n; i++)
            io_one(v[i], op);
        return;
    }
    s->io_op = op;
    s->io_items = v;
    s->io_nitems = n;
    atomic_store_explicit(&s->io_left, (uint32_t)(s->nio - 1), memory_order_relaxed);
    atomic_fetch_add_explicit(&s->io_gen, 1, memory_order_release);
    ember__futex_wake(&s->io_gen, INT32_MAX);
    for (size_t i = 0; i < n; i += (size_t)s->nio)
        io_one(v[i], op);
    unsigned spins = 0;
    while (atomic_load_explicit(&s->io_left, memory_order_acquire) != 0) {
        if (++spins < 4000)
            ember__cpu_relax();
        else
            sched_yield();
    }
}

/* The iteration's reads, in parallel, then their processing in order. */
static void read_phase(struct ember_server *s)
{
    if (!s->nrv)
        return;
    io_run(s, IO_READ, s->rv, s->nrv);
    for (size_t i = 0; i < s->nrv; i++)
        if (!s->rv[i]->dead)
            conn_read_done(s, s->rv[i]);
    s->nrv = 0;
}

/* The iteration's sends, in parallel; a connection whose output shrank may
 * parse again, which may queue more sends: repeat until none. */
static void write_phase(struct ember_server *s)
{
    while (s->nwv) {
        srv_conn **v = s->wv;
        size_t n = s->nwv;
        s->wv = NULL;
        s->nwv = s->capwv = 0;
        size_t live = 0;
        for (size_t i = 0; i < n; i++) {
            v[i]->wq = 0;
            if (!v[i]->dead)
                v[live++] = v[i];
        }
        io_run(s, IO_SEND, v, live);
        for (size_t i = 0; i < live; i++) {
            srv_conn *c = v[i];
            if (conn_write_done(s, c) < 0)
                continue;
            if (c->in.len > c->in.off && conn_may_parse(c))
                conn_pump(s, c);
            else
                conn_interest(s, c);
        }
        free(v);
    }
}

static int queue_read(struct ember_server *s, srv_conn *c)
{
    if (s->nrv == s->caprv) {
        size_t nc = s->caprv ? 2 * s->caprv : 64;
        srv_conn **nv = realloc(s->rv, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->rv = nv;
        s->caprv = nc;
    }
    s->rv[s->nrv++] = c;
    return 0;
}

static void do_accept(struct ember_server *s)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or an error the next accept may not have */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        srv_conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->srv = s;
        c->fd = fd;
        c->id = ++s->next_id;
        c->proto = 2;
        c->events = EPOLLIN | EPOLLRDHUP;
        struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->nextc = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        ember__srv_conn_opened(s, c);
    }
}

/* ------------------------------------------------------------ completions */

static void server_free(struct ember_server *s)
{
    em_mpsc_node *n;
    while ((n = ember__mpsc_pop(&s->done)) && n != EM_MPSC_STALL) {
        srv_rec *r = (srv_rec *)n;
        for (srv_job *j = r->jobs, *next; j; j = next) {
            next = j->next;
            rec_free(j->rec); /* detached from its connection at stop */
        }
        rec_free(r);
    }
    close(s->efd);
    pthread_mutex_destroy(&s->ps_lock);
    free(s);
}

static void server_unref(struct ember_server *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        server_free(s);
}

/* Runs on the executor: hand the reply to the I/O thread. Must not touch
 * the connection: it may be gone (the server stopped). */
static void on_exec_done(void *ud, int status, struct ember_reply *reply)
{
    srv_rec *rec = ud;
    struct ember_server *s = rec->srv;
    rec->status = status;
    rec->reply = reply;
    ember__mpsc_push(&s->done, &rec->node);
    /* Publish-then-signal, as the completion queues do: the I/O thread
     * clears signaled before it drains, so a push after its drain started
     * signals again. */
    if (atomic_exchange_explicit(&s->signaled, 1, memory_order_seq_cst) == 0) {
        uint64_t one = 1;
        ssize_t w = write(s->efd, &one, sizeof one);
        (void)w;
    }
    server_unref(s);
}

static void drain_queue(struct ember_server *s);

static void drain_done(struct ember_server *s)
{
    uint64_t v;
    ssize_t rd = read(s->efd, &v, sizeof v);
    (void)rd;
    atomic_store_explicit(&s->signaled, 0, memory_order_seq_cst);
    drain_queue(s);
}

/*
 * After handing a round over, the loop thread waits a little for its
 * completion instead of going back to epoll at once: the executor usually
 * finishes within microseconds, and catching that here saves the eventfd
 * write, the epoll wake-up and a context switch per round (what separates
 * a handoff design from Redis's single thread at pipeline depth 1). While
 * it looks, signaled is 1, so the executor skips the eventfd write (as if
 * one were pending); it goes back to 0 before the final drain, and a push
 * the executor made meanwhile is visible to that drain: the push precedes
 * the executor's exchange on signaled, which read our 1, which precedes our
 * store of 0 (all seq_cst). The budget adapts: it grows while completions
 * arrive within it and shrinks while they do not.
 */
#define SPIN_DONE_MIN_NS 2000
#define SPIN_DONE_MAX_NS 60000

static void await_round(struct ember_server *s)
{
    if (!s->rounds_out)
        return;
    atomic_store_explicit(&s->signaled, 1, memory_order_seq_cst);
    int64_t until = ember__mono_ns() + s->spin_done_ns;
    int got = 0;
    for (unsigned i = 1;; i++) {
        if (!ember__mpsc_idle(&s->done)) {
            got = 1;
            break;
        }
        ember__cpu_relax();
        if (!(i & 31) && ember__mono_ns() > until)
            break;
    }
    atomic_store_explicit(&s->signaled, 0, memory_order_seq_cst);
    if (got && s->spin_done_ns < SPIN_DONE_MAX_NS)
        s->spin_done_ns *= 2;
    else if (!got && s->spin_done_ns > SPIN_DONE_MIN_NS)
        s->spin_done_ns /= 2;
    drain_queue(s);
}

static void drain_queue(struct ember_server *s)
{
    for (;;) {
        em_mpsc_node *n = ember__mpsc_pop(&s->done);
        if (!n || n == EM_MPSC_STALL)
            break; /* a push midway signals the descriptor itself */
        srv_rec *rec = (srv_rec *)n;
        if (rec->jobs) {
            s->rounds_out--;
            /* One job at a time: pumping a connection frees its finished
             * records, so a later job of the same connection must not be
             * marked done before we reach it. */
            for (srv_job *j = rec->jobs, *next; j; j = next) {
                next = j->next;
                srv_conn *jc = j->rec->conn;
                jc->inflight--;
                j->rec->status = rec->status == EMBER_EIO ? EMBER_OK : rec->status;
                j->rec->done = 1;
                if (jc->dead) {
                    if (jc->inflight == 0)
                        s->sweep = 1;
                    continue;
                }
                conn_pump(s, jc);
            }
            free(rec);
            continue;
        }
        srv_conn *c = rec->conn;
        c->inflight--;
        if (rec->is_cancel) {
            rec_free(rec);
            if (c->dead && c->inflight == 0)
                s->sweep = 1;
            continue;
        }
        rec->done = 1;
        if (rec->blocking)
            c->blocked = 0, c->blocked_rec = NULL;
        if (c->dead) {
            if (c->inflight == 0)
                s->sweep = 1;
            continue;
        }
        conn_pump(s, c);
    }
    /* pub/sub (s_pubsub.c): connections with pushes waiting */
    for (srv_conn *pc; (pc = ember__srv_ps_pop_ready(s));)
        if (!pc->dead)
            conn_pump(s, pc);
}

static void *io_main(void *arg)
{
    struct ember_server *s = arg;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(s->ep, evs, 64, -1);
        s->loop_ms = ember__srv_now_ms();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &tag_stop) {
                round_flush(s); /* their completions free them (server_free) */
                return NULL;
            }
            if (tag == &tag_listen) {
                do_accept(s);
            } else if (tag == &tag_done) {
                drain_done(s);
            } else {
                srv_conn *c = tag;
                if (c->dead)
                    continue;
                /* A hangup while we are not reading (a blocked command, or
                 * backpressure): close now, as Redis notices the EOF of a
                 * blocked client. While reading, read() sees the EOF after
                 * whatever the client sent before it. */
                uint32_t ev = evs[i].events;
                int reading = (c->events & EPOLLIN) != 0;
                if ((ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) && !(reading && (ev & EPOLLIN))) {
                    ember__srv_conn_kill(s, c);
                    continue;
                }
                if ((evs[i].events & EPOLLIN) && !(s->nio > 1 && queue_read(s, c) == 0))
                    conn_read(s, c);
                else if (evs[i].events & EPOLLOUT)
                    conn_pump(s, c);
            }
        }
        read_phase(s);
        /* Completions drained here (await_round) and sends (write_phase)
         * may let connections parse more: hand that over too before
         * sleeping in epoll, a few passes at most; the last round's
         * completion comes through the eventfd. */
        for (int pass = 0; pass < 8; pass++) {
            round_flush(s);
            await_round(s);
            write_phase(s);
            if (!s->round && !s->singles)
                break;
        }
        round_flush(s);
        conn_sweep(s);
    }
    return NULL;
}

/* ------------------------------------------------------------ start / stop */

static int listen_on(const char *addr, int port, int *fd_out, int *port_out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(addr, ps, &hints, &res) != 0 || !res)
        return EMBER_EINVAL;
    int rc = EMBER_EIO;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 511) == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                                 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
            *fd_out = fd;
            rc = EMBER_OK;
            break;
        }
        int e = errno;
        close(fd);
        errno = e;
    }
    freeaddrinfo(res);
    return rc;
}

int ember__server_start(em_core *core, const char *addr, int port, struct ember_server **out)
{
    return ember__server_start_ex(core, addr, port, 1, out);
}

static void io_helpers_stop(struct ember_server *s, int n)
{
    s->io_quit = 1;
    atomic_fetch_add_explicit(&s->io_gen, 1, memory_order_release);
    ember__futex_wake(&s->io_gen, INT32_MAX);
    for (int i = 0; i < n; i++)
        pthread_join(s->io_threads[i], NULL);
    free(s->io_threads);
    s->io_threads = NULL;
}

static int io_helpers_start(struct ember_server *s)
{
    if (s->nio <= 1)
        return 0;
    s->io_threads = calloc((size_t)s->nio - 1, sizeof *s->io_threads);
    if (!s->io_threads)
        return -1;
    for (int k = 1; k < s->nio; k++) {
        io_arg *a = malloc(sizeof *a);
        if (a) {
            a->s = s;
            a->k = k;
        }
        if (!a || pthread_create(&s->io_threads[k - 1], NULL, io_helper, a) != 0) {
            free(a);
            io_helpers_stop(s, k - 1);
            return -1;
        }
    }
    return 0;
}

int ember__server_start_ex(em_core *core, const char *addr, int port, int io_threads,
                           struct ember_server **out)
{
    em_srv_opts o = {0};
    o.io_threads = io_threads;
    return ember__server_start_opts(core, addr, port, &o, out);
}

int ember__server_start_opts(em_core *core, const char *addr, int port, const em_srv_opts *opts,
                             struct ember_server **out)
{
    int io_threads = opts ? opts->io_threads : 1;
    if (port < 0 || port > 65535 || io_threads < 1 || io_threads > 128)
        return EMBER_EINVAL;
    struct ember_server *s =
        aligned_alloc(EM_CACHELINE, (sizeof *s + EM_CACHELINE - 1) & ~(size_t)(EM_CACHELINE - 1));
    if (!s)
        return EMBER_ENOMEM;
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->ps_lock, NULL); /* pub/sub: s_pubsub.c */
    s->core = core;
    s->lfd = s->efd = s->stopfd = s->ep = -1;
    s->ndb = core->srv.st.ndb;
    if (opts)
        s->opts = *opts;
    /* Read once: the executor owns the live value (CONFIG SET). */
    s->max_bulk = (long long)core->srv.cfg.proto_max_bulk_len;
    ember__mpsc_init(&s->done);
    s->round_tail = &s->round;
    s->singles_tail = &s->singles;
    s->nio = io_threads;
    s->spin_done_ns = SPIN_DONE_MIN_NS;
    init_reply_shapes(s);
    atomic_init(&s->signaled, 0);
    atomic_init(&s->refs, 1);
    int rc = listen_on(addr ? addr : "127.0.0.1", port, &s->lfd, &s->port);
    if (rc != EMBER_OK)
        goto fail;
    rc = EMBER_EIO;
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->efd < 0 || s->stopfd < 0 || s->ep < 0)
        goto fail;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &tag_listen};
    struct epoll_event d = {.events = EPOLLIN, .data.ptr = &tag_done};
    struct epoll_event t = {.events = EPOLLIN, .data.ptr = &tag_stop};
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &e) ||
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->efd, &d) ||
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->stopfd, &t))
        goto fail;
    if (io_helpers_start(s) != 0)
        goto fail;
    if (pthread_create(&s->thread, NULL, io_main, s) != 0) {
        io_helpers_stop(s, s->nio - 1);
        goto fail;
    }
    *out = s;
    return EMBER_OK;
fail:
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->efd >= 0)
        close(s->efd);
    if (s->stopfd >= 0)
        close(s->stopfd);
    if (s->ep >= 0)
        close(s->ep);
    free(s);
    return rc;
}

int ember__server_port(const struct ember_server *s)
{
    return s->port;
}

void ember__server_stop(struct ember_server *s)
{
    uint64_t one = 1;
    ssize_t w = write(s->stopfd, &one, sizeof one);
    (void)w;
    pthread_join(s->thread, NULL);
    if (s->nio > 1)
        io_helpers_stop(s, s->nio - 1);
    free(s->rv);
    free(s->wv);
    close(s->lfd);
    close(s->stopfd);
    /* Completions already handed over are done; what is still in the
     * executor keeps its record (and a reference on the server). */
    em_mpsc_node *n;
    while ((n = ember__mpsc_pop(&s->done)) && n != EM_MPSC_STALL) {
        srv_rec *rec = (srv_rec *)n;
        if (rec->jobs) {
            for (srv_job *j = rec->jobs; j; j = j->next) {
                j->rec->conn->inflight--;
                j->rec->done = 1;
            }
            free(rec);
            continue;
        }
        rec->conn->inflight--;
        if (rec->is_cancel) {
            rec_free(rec);
            continue;
        }
        rec->done = 1;
        if (rec == rec->conn->blocked_rec)
            rec->conn->blocked_rec = NULL; /* completed: nothing to cancel */
    }
    for (srv_conn *c = s->conns; c; c = c->nextc) {
        if (!c->dead) {
            cancel_blocked(s, c);
            close(c->fd);
            c->fd = -1;
            c->dead = 1;
            ember__srv_conn_closing(s, c);
        }
    }
    close(s->ep);
    s->ep = -1;
    /* Free every connection's finished records; detach those still out. */
    for (srv_conn *c = s->conns, *next; c; c = next) {
        next = c->nextc;
        srv_rec **pp = &c->head;
        while (*pp) {
            srv_rec *r = *pp;
            if (r->done) {
                *pp = r->next;
                rec_free(r);
            } else {
                *pp = r->next;
                r->next = NULL; /* freed by server_free() after it completes */
            }
        }
        c->tail = NULL;
        conn_free(c);
    }
    server_unref(s);
}
