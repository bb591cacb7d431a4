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
 * EXEC is one EM_REQ_BATCH_ASYNC request with EMBER_BATCH_ATOMIC and the
 * connection's watcher: the executor first checks the watched keys (see
 * lib/exec/watch.h), then runs the batch with nothing in between, so no
 * other client's command can interleave; the batch is logged as one unit.
 * The reply array is assembled when the EXEC record reaches the head of the
 * connection's FIFO (ember__srv_multi_emit), each element encoded with the
 * RESP2 shape of its own command and the protocol in force at that point:
 * a HELLO inside the transaction changes the encoding of what follows, and
 * a SELECT inside it changes the connection's database afterwards. Because
 * those two change how later requests are parsed and submitted, an EXEC
 * that holds either blocks the connection (as a BLPOP does) until its reply
 * is written.
 *
 * WATCH state lives on the executor (an em_watcher per connection, created
 * with the first WATCH). WATCH / UNWATCH / release are fire-and-forget
 * requests (EM_REQ_WATCH, completion ignored) answered +OK by the server:
 * the executor runs a connection's requests in the order they were sent,
 * so the effect is in place before any later command of the connection.
 * Running out of memory inside the executor makes the watcher dirty (its
 * EXEC fails with a null reply: safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "srv_int.h"

/* One queued command. */
typedef struct srv_titem {
    unsigned char conn;      /* answered by the server at EXEC time */
    unsigned char nullarray; /* RESP2 shape of an executor command's reply */
    unsigned char flatpairs;
    unsigned char select; /* SELECT: +OK moves the connection to its database */
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

/* ------------------------------------------------------------ WATCH requests */

static void watch_done(void *ud, int status, struct ember_reply *reply)
{
    (void)ud;
    (void)status;
    ember__reply_tree_free(reply);
}

/* Sends a watch operation for c's watcher (KEYS: c->argv are the keys).
 * Returns EMBER_OK or the submission error. */
static int watch_send(struct ember_server *s, srv_conn *c, int op, size_t argc)
{
    if (!c->watcher) {
        if (op != EM_WATCH_KEYS)
            return EMBER_OK; /* nothing watched */
        c->watcher = calloc(1, sizeof *c->watcher);
        if (!c->watcher)
            return EMBER_ENOMEM;
        c->watch_sent = 0;
    }
    em_req *r = op == EM_WATCH_KEYS ? ember__req_new_async(c->db, argc, c->argv, c->argvlen)
                                    : calloc(1, sizeof *r);
    int rc = EMBER_ENOMEM;
    if (r) {
        r->kind = EM_REQ_WATCH;
        r->dbid = c->db;
        r->watch_op = op;
        r->watcher = c->watcher;
        r->cb = watch_done;
        r->ud = NULL;
        rc = ember__exec_async(s->core, r);
        if (rc != EMBER_OK)
            free(r);
    }
    if (rc == EMBER_OK) {
        c->watch_sent = 1;
    } else if (!c->watch_sent) {
        free(c->watcher); /* the executor never saw it */
        c->watcher = NULL;
    }
    /* Otherwise the executor knows the watcher: it frees it at close. */
    return rc;
}

void ember__srv_multi_reset(struct ember_server *s, srv_conn *c)
{
    ember__srv_txn_free(c->txn);
    c->txn = NULL;
    if (c->watcher) {
        watch_send(s, c, EM_WATCH_RELEASE, 0);
        c->watcher = NULL; /* the next WATCH starts a new one */
        c->watch_sent = 0;
    }
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
static void queue_command(srv_conn *c, size_t argc)
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
            it.conn = 1;
            if (ember__batch_add(t->conn, argc, c->argv, c->argvlen) != EMBER_OK ||
                add_item(t, it)) {
                flag_error(c, "ERR out of memory");
                return;
            }
            t->ordered = 1;
            queued(c);
            return;
        }
    /* The executor's checks before a command runs, off the executor: the
     * command table is read-only once built, and the sink is ours. */
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
            ember__srv_encode(&b, err, c->proto, 0, 0);
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
    int na, fp;
    ember__srv_reply_shape(c, &na, &fp);
    it.nullarray = (unsigned char)na;
    it.flatpairs = (unsigned char)fp;
    it.select = ember__srv_name_is(c, 0, "select");
    if (ember__batch_add(t->batch, argc, c->argv, c->argvlen) != EMBER_OK || add_item(t, it)) {
        flag_error(c, "ERR out of memory");
        return;
    }
    t->ordered |= it.select;
    queued(c);
}

/* ------------------------------------------------------------ EXEC */

static void exec_abort(struct ember_server *s, srv_conn *c, const char *msg)
{
    ember__srv_txn_free(c->txn);
    c->txn = NULL;
    watch_send(s, c, EM_WATCH_CLEAR, 0); /* EXEC unwatches, even a failed one */
    ember__srv_reply_error(c, msg);
}

static void cmd_exec(struct ember_server *s, srv_conn *c)
{
    struct srv_txn *t = c->txn;
    if (t->flagged) {
        exec_abort(s, c, "EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    srv_rec *rec = ember__srv_rec_new(c);
    em_req *r = rec ? calloc(1, sizeof *r) : NULL;
    if (!r || ember__batch_prepare(t->batch) != EMBER_OK || ember__batch_prepare(t->conn)) {
        free(r);
        if (rec) {
            rec->raw = strdup("-ERR out of memory\r\n");
            rec->rawlen = rec->raw ? strlen(rec->raw) : 0;
            rec->done = 1;
        } else {
            c->close_after = 1;
        }
        ember__srv_txn_free(t);
        c->txn = NULL;
        return;
    }
    c->txn = NULL;
    rec->txn = t;
    r->kind = EM_REQ_BATCH_ASYNC;
    r->dbid = c->db;
    r->batch = t->batch;
    r->batch_flags = EMBER_BATCH_ATOMIC;
    r->watcher = c->watcher;
    r->cb = ember__srv_exec_done;
    r->ud = rec;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    int rc = ember__exec_async(s->core, r);
    if (rc != EMBER_OK) {
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_relaxed);
        free(r);
        rec->status = rc;
        rec->done = 1;
        return;
    }
    c->inflight++;
    if (t->ordered) { /* see the top of the file */
        rec->blocking = 1;
        c->blocked = 1;
        c->blocked_rec = rec;
    }
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

void ember__srv_multi_emit(srv_conn *c, srv_rec *r)
{
    struct srv_txn *t = r->txn;
    struct ember_batch *b = t->batch;
    if (r->status == EMBER_EABORT && b->nreplies == 0) {
        /* A watched key changed: the null array (RESP3: null). */
        ember__sbuf_puts(&c->out, c->proto == 3 ? "_\r\n" : "*-1\r\n");
        return;
    }
    if (r->status == EMBER_ECLOSED || b->nreplies != b->ncmds) {
        ember__sbuf_puts(&c->out, "-ERR the database is closed\r\n");
        return;
    }
    ember__sbuf_line(&c->out, '*', (long long)t->n);
    size_t k = 0, j = 0;
    for (size_t i = 0; i < t->n; i++) {
        const srv_titem *it = &t->items[i];
        if (it->conn) {
            srv_buf cap = {0};
            run_server_command(c, t, j++, &cap);
            ember__sbuf_put(&c->out, cap.p ? cap.p : "", cap.len);
            free(cap.p);
            continue;
        }
        const struct ember_reply *rep = b->replies[k];
        if (!rep)
            ember__sbuf_puts(&c->out, "-ERR out of memory\r\n");
        else
            ember__srv_encode(&c->out, rep, c->proto, it->nullarray, it->flatpairs);
        long long db;
        const em_batch_cmd *bc = &b->cmds[k];
        if (it->select && rep && rep->type == EMBER_REPLY_STATUS &&
            ember__str_to_ll(b->argv[bc->arg0 + 1], b->argvlen[bc->arg0 + 1], &db))
            c->db = (int32_t)db; /* checked by the executor's SELECT */
        k++;
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
            if (in_multi)
                exec_abort(s, c,
                           "EXECABORT Transaction discarded because of: wrong number of "
                           "arguments for 'exec' command");
            else
                ember__srv_reply_error(c, "EXECABORT Transaction discarded because of: wrong "
                                          "number of arguments for 'exec' command");
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
            ember__srv_txn_free(c->txn);
            c->txn = NULL;
            watch_send(s, c, EM_WATCH_CLEAR, 0);
            ember__srv_reply_str(c, "+OK\r\n");
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
            int rc = watch_send(s, c, EM_WATCH_KEYS, argc);
            if (rc == EMBER_OK)
                ember__srv_reply_str(c, "+OK\r\n");
            else
                ember__srv_reply_error(c, rc == EMBER_ENOMEM ? "ERR out of memory"
                                                             : "ERR the database is closed");
        }
        return 1;
    }
    if (in_multi) {
        if (ember__srv_name_is(c, 0, "quit") || ember__srv_name_is(c, 0, "reset"))
            return 0; /* run now, as in Redis */
        queue_command(c, argc);
        return 1;
    }
    if (ember__srv_name_is(c, 0, "unwatch")) {
        if (argc != 1) {
            reply_arity(c, "unwatch");
        } else {
            watch_send(s, c, EM_WATCH_CLEAR, 0);
            ember__srv_reply_str(c, "+OK\r\n");
        }
        return 1;
    }
    return 0;
}
