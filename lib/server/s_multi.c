/*
 * s_multi.c — MULTI / EXEC / DISCARD / WATCH / UNWATCH for ember-server,
 * with Redis 7.0's replies.
 *
 * A transaction (srv_txn) is built on the I/O thread: each command sent
 * after MULTI is checked as Redis checks it before queueing (known command
 * and subcommand, arity, allowed in a transaction) and answered +QUEUED, or
 * answered with its error, which flags the transaction (EXEC then answers
 * EXECABORT). Commands for the executor go into an ember_batch; commands the
 * server answers itself (HELLO, CLIENT, UNWATCH...) are kept apart, in
 * order, and run on the I/O thread when the EXEC reply is written.
 *
 * Order. The server hands the executor one request per event-loop round
 * carrying each connection's commands in order (a job); WATCH, UNWATCH,
 * DISCARD's unwatch and EXEC travel inside the job as steps (srv_mstep) run
 * by ember__srv_multi_run, so they take effect exactly between the
 * connection's commands before and after them, and their replies are
 * encoded there like any other.
 *
 * EXEC runs the batch with ember__exec_txn(): the watched keys are checked
 * (lib/exec/watch.h) and the batch runs as EMBER_BATCH_ATOMIC does, with
 * nothing in between: no other client's command and no served waiter
 * interleaves, and the append log gets it as one unit (MULTI ... EXEC).
 * Each reply is encoded with the RESP2 shape of its own command.
 *
 * A transaction that holds SELECT or a command the server answers itself
 * (HELLO, CLIENT...) changes the connection's state midway, so it goes
 * alone instead (an EM_REQ_BATCH_ASYNC request after the round, the
 * connection waiting for it as for a blocking command), and its reply is
 * assembled on the I/O thread when it reaches the head of the FIFO
 * (ember__srv_multi_emit): the server commands run there in their place, a
 * HELLO changes the encoding of what follows, a SELECT the connection's
 * database afterwards.
 *
 * The watcher (a connection's WATCH state, lib/exec/watch.h) is allocated
 * here with the first WATCH and released through the executor when the
 * connection goes (EM_REQ_WATCH, completion ignored: the connection has
 * nothing in flight by then). Running out of memory inside the executor
 * makes the watcher dirty (its EXEC fails with a null reply: safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "srv_int.h"

/* One queued command. */
typedef struct srv_titem {
    unsigned char conn;   /* answered by the server at EXEC time */
    unsigned char shape;  /* SRV_SHAPE_* of an executor command's reply */
    unsigned char select; /* SELECT: +OK moves the connection to its database */
    unsigned char ok;     /* UNWATCH: +OK (EXEC has unwatched everything already) */
} srv_titem;

struct srv_txn {
    struct ember_batch *batch; /* the executor's commands */
    struct ember_batch *conn;  /* the server's commands (argument storage) */
    srv_titem *items;
    size_t n, cap;
    int flagged; /* a command could not be queued: EXEC answers EXECABORT */
    int ordered; /* holds SELECT or a server command: the connection waits */
};

/* Commands the server itself answers that Redis queues inside MULTI (run
 * at EXEC through ember__srv_conn_command), with Redis's arity. Keep in
 * step with s_conn.c. SELECT is not here: the executor runs it inside the
 * batch (EM_CTX_MAY_SELECT). */
static const struct {
    const char *name;
    int arity;
} server_cmds[] = {
    {"hello", -1},        {"client", -2},       {"auth", -2},       {"unwatch", 1},
    {"subscribe", -2},    {"psubscribe", -2},   {"ssubscribe", -2}, {"unsubscribe", -1},
    {"punsubscribe", -1}, {"sunsubscribe", -1}, {"monitor", 1},     {"replicaof", 3},
    {"slaveof", 3},
};

/* Server commands Redis refuses inside MULTI (its "no-multi" flag). */
static const char *const no_multi[] = {"sync", "psync", "shutdown"};

void ember__srv_txn_free(struct srv_txn *t)
{
    if (!t)
        return;
    ember__batch_destroy(t->batch);
    ember__batch_destroy(t->conn);
    free(t->items);
    free(t);
}

static struct srv_txn *txn_new(void)
{
    struct srv_txn *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->batch = calloc(1, sizeof *t->batch);
    t->conn = calloc(1, sizeof *t->conn);
    if (!t->batch || !t->conn) {
        ember__srv_txn_free(t);
        return NULL;
    }
    return t;
}

static void reply_arity(srv_conn *c, const char *name)
{
    char msg[96];
    snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s' command", name);
    ember__srv_reply_error(c, msg);
}

/* Arity as Redis states it: > 0 exact, < 0 at least -arity. */
static int arity_ok(int arity, size_t argc)
{
    return arity > 0 ? argc == (size_t)arity : argc >= (size_t)-arity;
}

/* ------------------------------------------------------------ steps */

enum { MS_WATCH = 1, MS_CLEAR, MS_EXEC };

/* A transaction step queued in a job (see the top of the file). */
struct srv_mstep {
    int op;
    em_watcher *watcher; /* NULL: the connection watches nothing */
    struct srv_txn *txn; /* MS_EXEC */
    const char *reply;   /* MS_CLEAR: its reply ("" for none) */
};

void ember__srv_mstep_free(struct srv_mstep *st)
{
    if (!st)
        return;
    ember__srv_txn_free(st->txn);
    free(st);
}

/* Queues a step for c's watcher (MS_WATCH: c->argv are WATCH's arguments).
 * Takes txn. Returns 0, or -1 after answering an out-of-memory error. */
static int queue_step(struct ember_server *s, srv_conn *c, int op, const char *reply,
                      struct srv_txn *txn, size_t argc)
{
    struct srv_mstep *st = calloc(1, sizeof *st);
    if (!st || ember__srv_job_add_step(s, c, st, op == MS_WATCH ? argc : 1)) {
        free(st);
        ember__srv_txn_free(txn);
        ember__srv_reply_error(c, "ERR out of memory");
        return -1;
    }
    st->op = op;
    st->watcher = c->watcher;
    st->txn = txn;
    st->reply = reply;
    /* What the executor will hold once this step ran: WATCH may leave keys,
     * UNWATCH and EXEC leave none. */
    c->watch_maybe = op == MS_WATCH;
    return 0;
}

static void watch_done(void *ud, int status, struct ember_reply *reply)
{
    (void)ud;
    (void)status;
    ember__reply_tree_free(reply);
}

void ember__srv_multi_reset(struct ember_server *s, srv_conn *c)
{
    ember__srv_txn_free(c->txn);
    c->txn = NULL;
    if (!c->watcher)
        return;
    if (!c->dead) { /* RESET: the connection goes on, its keys are unwatched */
        queue_step(s, c, MS_CLEAR, "", NULL, 0);
        return;
    }
    /* Closing: nothing of the connection is in flight any more, except at
     * server stop, where the executor still runs what was handed over
     * before this request. */
    em_req *r = calloc(1, sizeof *r);
    int rc = EMBER_ENOMEM;
    if (r) {
        r->kind = EM_REQ_WATCH;
        r->watch_op = EM_WATCH_RELEASE;
        r->watcher = c->watcher;
        r->cb = watch_done;
        rc = ember__exec_async(s->core, r);
        if (rc != EMBER_OK)
            free(r);
    }
    /* Not handed over: the registry frees it at close if it watches keys;
     * if it cannot and nothing else names it, it is ours to free. */
    if (rc != EMBER_OK && !c->watch_maybe && c->inflight == 0)
        free(c->watcher);
    c->watcher = NULL;
}

/* ------------------------------------------------------------ queueing */

static void queued(srv_conn *c)
{
    ember__srv_reply_str(c, "+QUEUED\r\n");
}

static void flag_error(srv_conn *c, const char *msg)
{
    c->txn->flagged = 1;
    ember__srv_reply_error(c, msg);
}

static int add_item(struct srv_txn *t, srv_titem it)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        srv_titem *ni = realloc(t->items, nc * sizeof *ni);
        if (!ni)
            return -1;
        t->items = ni;
        t->cap = nc;
    }
    t->items[t->n++] = it;
    return 0;
}

/* Queues c->argv, or answers why it cannot be (and flags the transaction). */
static void queue_command(struct ember_server *s, srv_conn *c, size_t argc)
{
    struct srv_txn *t = c->txn;
    srv_titem it = {0};
    for (size_t i = 0; i < sizeof no_multi / sizeof no_multi[0]; i++)
        if (ember__srv_name_is(c, 0, no_multi[i])) {
            flag_error(c, "ERR Command not allowed inside a transaction");
            return;
        }
    for (size_t i = 0; i < sizeof server_cmds / sizeof server_cmds[0]; i++)
        if (ember__srv_name_is(c, 0, server_cmds[i].name)) {
            if (!arity_ok(server_cmds[i].arity, argc)) {
                t->flagged = 1;
                reply_arity(c, server_cmds[i].name);
                return;
            }
            it.ok = ember__srv_name_is(c, 0, "unwatch");
            it.conn = !it.ok;
            if ((it.conn && ember__batch_add(t->conn, argc, c->argv, c->argvlen) != EMBER_OK) ||
                add_item(t, it)) {
                flag_error(c, "ERR out of memory");
                return;
            }
            t->ordered |= it.conn;
            queued(c);
            return;
        }
    /* The executor's checks before a command runs, off the executor: the
     * command table is read-only once built, the sink is ours, and x.srv is
     * NULL (no error statistics: they are the executor's). */
    em_ctx x;
    memset(&x, 0, sizeof x);
    x.argc = argc;
    x.argv = c->argv;
    x.argvlen = c->argvlen;
    em_tree_sink ts;
    ember__tree_sink_init(&ts);
    x.so = &ember__tree_sink_ops;
    x.sink = &ts;
    const em_cmd *cmd = ember__cmd_resolve(&x);
    struct ember_reply *err = ember__tree_sink_take(&ts);
    if (!cmd) {
        srv_buf b = {0};
        if (err)
            ember__srv_encode(&b, err, c->proto, 0);
        ember__reply_tree_free(err);
        t->flagged = 1;
        if (b.len)
            ember__srv_reply_raw(c, b.p, b.len);
        else
            ember__srv_reply_error(c, "ERR out of memory");
        free(b.p);
        return;
    }
    ember__reply_tree_free(err);
    if (cmd->flags & EM_CMD_NOMULTI) {
        flag_error(c, "ERR Command not allowed inside a transaction");
        return;
    }
    it.shape = (unsigned char)ember__srv_reply_shape(s, x.parent ? x.parent : cmd, argc, 1);
    it.select = ember__srv_name_is(c, 0, "select");
    if (ember__batch_add(t->batch, argc, c->argv, c->argvlen) != EMBER_OK || add_item(t, it)) {
        flag_error(c, "ERR out of memory");
        return;
    }
    t->ordered |= it.select;
    queued(c);
}

/* ------------------------------------------------------------ EXEC */

/* Answers an EXEC that does not run (and unwatches, as EXEC does). */
static void exec_abort(struct ember_server *s, srv_conn *c, const char *reply)
{
    ember__srv_txn_free(c->txn);
    c->txn = NULL;
    if (c->watcher)
        queue_step(s, c, MS_CLEAR, reply, NULL, 0);
    else
        ember__srv_reply_str(c, reply);
}

static void cmd_exec(struct ember_server *s, srv_conn *c)
{
    struct srv_txn *t = c->txn;
    if (t->flagged) {
        exec_abort(s, c, "-EXECABORT Transaction discarded because of previous errors.\r\n");
        return;
    }
    c->txn = NULL;
    if (ember__batch_prepare(t->batch) != EMBER_OK || ember__batch_prepare(t->conn) != EMBER_OK) {
        ember__srv_txn_free(t);
        ember__srv_reply_error(c, "ERR out of memory");
        return;
    }
    if (!t->ordered) {
        queue_step(s, c, MS_EXEC, NULL, t, 1);
        return;
    }
    srv_rec *rec = ember__srv_rec_new(c);
    em_req *r = rec ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        ember__srv_txn_free(t);
        if (rec) {
            rec->raw = strdup("-ERR out of memory\r\n");
            rec->rawlen = rec->raw ? strlen(rec->raw) : 0;
            rec->done = 1;
        } else {
            c->close_after = 1;
        }
        return;
    }
    rec->txn = t;
    r->kind = EM_REQ_BATCH_ASYNC;
    r->dbid = c->db;
    r->batch = t->batch;
    r->batch_flags = EMBER_BATCH_ATOMIC;
    r->watcher = c->watcher;
    c->watch_maybe = 0;
    ember__srv_submit_single(s, c, rec, r);
}

/* Runs queued server command j of t in c's context; its reply goes to out. */
static void run_server_command(srv_conn *c, struct srv_txn *t, size_t j, srv_buf *out)
{
    const char **argv = c->argv;
    size_t *argvlen = c->argvlen;
    const em_batch_cmd *bc = &t->conn->cmds[j];
    c->argv = t->conn->argv + bc->arg0;
    c->argvlen = t->conn->argvlen + bc->arg0;
    c->capture = out;
    if (!ember__srv_conn_command(c->srv, c, bc->argc))
        ember__sbuf_puts(out, "-ERR not a server command\r\n"); /* cannot happen */
    c->capture = NULL;
    c->argv = argv;
    c->argvlen = argvlen;
}

/* EXEC's reply for a transaction that ran with `status`. c NULL (on the
 * executor): t holds no server command and no SELECT, and proto is fixed;
 * else the connection's protocol and database follow HELLO and SELECT. */
static void put_exec_reply(srv_buf *out, struct srv_txn *t, int status, srv_conn *c, int proto)
{
    struct ember_batch *b = t->batch;
    if (status == EMBER_EABORT && b->nreplies == 0) {
        /* A watched key changed: the null array (RESP3: null). */
        ember__sbuf_puts(out, (c ? c->proto : proto) == 3 ? "_\r\n" : "*-1\r\n");
        return;
    }
    if (status == EMBER_EABORT) {
        /* Refused as a whole by the executor: over maxmemory, a command that
         * may grow memory (Redis refuses it when queued, ember when EXEC
         * runs: the memory state is the executor's). */
        ember__sbuf_puts(out, "-EXECABORT Transaction discarded because of previous errors.\r\n");
        return;
    }
    if (status == EMBER_ECLOSED || b->nreplies != b->ncmds) {
        ember__sbuf_puts(out, "-ERR the database is closed\r\n");
        return;
    }
    ember__sbuf_line(out, '*', (long long)t->n);
    size_t k = 0, j = 0;
    for (size_t i = 0; i < t->n; i++) {
        const srv_titem *it = &t->items[i];
        if (it->ok) {
            ember__sbuf_puts(out, "+OK\r\n");
            continue;
        }
        if (it->conn) {
            run_server_command(c, t, j++, out);
            continue;
        }
        const struct ember_reply *rep = b->replies[k];
        if (!rep)
            ember__sbuf_puts(out, "-ERR out of memory\r\n");
        else
            ember__srv_encode(out, rep, c ? c->proto : proto, it->shape);
        long long db;
        const em_batch_cmd *bc = &b->cmds[k];
        if (c && it->select && rep && rep->type == EMBER_REPLY_STATUS &&
            ember__str_to_ll(b->argv[bc->arg0 + 1], b->argvlen[bc->arg0 + 1], &db))
            c->db = (int32_t)db; /* checked by the executor's SELECT */
        k++;
    }
}

void ember__srv_multi_emit(srv_conn *c, srv_rec *r)
{
    put_exec_reply(&c->out, r->txn, r->status, c, c->proto);
}

void ember__srv_multi_run(em_core *core, srv_job *j, const srv_jcmd *jc)
{
    struct srv_mstep *st = jc->multi;
    switch (st->op) {
    case MS_WATCH:
        ember__watch_keys(&core->watch, st->watcher, j->db, jc->argc, j->argv + jc->arg0,
                          j->argvlen + jc->arg0);
        ember__sbuf_puts(&j->out, "+OK\r\n");
        break;
    case MS_CLEAR:
        if (st->watcher)
            ember__watch_clear(&core->watch, st->watcher);
        ember__sbuf_puts(&j->out, st->reply);
        break;
    default: {
        int rc = ember__exec_txn(core, j->db, st->txn->batch, st->watcher);
        put_exec_reply(&j->out, st->txn, rc, NULL, j->proto);
        break;
    }
    }
}

/* ------------------------------------------------------------ commands */

int ember__srv_multi_command(struct ember_server *s, srv_conn *c, size_t argc)
{
    int in_multi = c->txn != NULL;
    if (ember__srv_name_is(c, 0, "exec")) {
        if (argc != 1) {
            /* Redis answers a refused EXEC as an aborted one, and drops the
             * transaction (even outside MULTI). */
            static const char msg[] = "-EXECABORT Transaction discarded because of: wrong "
                                      "number of arguments for 'exec' command\r\n";
            if (in_multi)
                exec_abort(s, c, msg);
            else
                ember__srv_reply_str(c, msg);
        } else if (!in_multi) {
            ember__srv_reply_error(c, "ERR EXEC without MULTI");
        } else {
            cmd_exec(s, c);
        }
        return 1;
    }
    if (ember__srv_name_is(c, 0, "multi")) {
        if (argc != 1) {
            if (in_multi)
                c->txn->flagged = 1;
            reply_arity(c, "multi");
        } else if (in_multi) {
            ember__srv_reply_error(c, "ERR MULTI calls can not be nested");
        } else if (!(c->txn = txn_new())) {
            ember__srv_reply_error(c, "ERR out of memory");
        } else {
            ember__srv_reply_str(c, "+OK\r\n");
        }
        return 1;
    }
    if (ember__srv_name_is(c, 0, "discard")) {
        if (argc != 1) {
            if (in_multi)
                c->txn->flagged = 1;
            reply_arity(c, "discard");
        } else if (!in_multi) {
            ember__srv_reply_error(c, "ERR DISCARD without MULTI");
        } else {
            exec_abort(s, c, "+OK\r\n"); /* DISCARD unwatches too */
        }
        return 1;
    }
    if (ember__srv_name_is(c, 0, "watch")) {
        if (argc < 2) {
            if (in_multi)
                c->txn->flagged = 1;
            reply_arity(c, "watch");
        } else if (in_multi) {
            ember__srv_reply_error(c, "ERR WATCH inside MULTI is not allowed");
        } else {
            if (!c->watcher && !(c->watcher = calloc(1, sizeof *c->watcher)))
                ember__srv_reply_error(c, "ERR out of memory");
            else
                queue_step(s, c, MS_WATCH, NULL, NULL, argc);
        }
        return 1;
    }
    if (in_multi) {
        if (ember__srv_name_is(c, 0, "quit") || ember__srv_name_is(c, 0, "reset"))
            return 0; /* run now, as in Redis */
        queue_command(s, c, argc);
        return 1;
    }
    if (ember__srv_name_is(c, 0, "unwatch")) {
        if (argc != 1) {
            reply_arity(c, "unwatch");
        } else {
            exec_abort(s, c, "+OK\r\n"); /* nothing queued: unwatches */
        }
        return 1;
    }
    return 0;
}
