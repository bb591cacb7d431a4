/*
 * executor.c — the executor thread, request submission, waiting and close.
 *
 * Park/wake protocol (no lost wake-ups). The executor, before sleeping:
 *   1. reads epoch (e),  2. stores parked = 1 (seq_cst),
 *   3. re-checks the queue (seq_cst load of head),  4. futex_wait(&epoch, e).
 * A producer: A. pushes (seq_cst exchange of head),  B. loads parked (seq_cst);
 * if 1, increments epoch and futex_wakes it.
 * All four marked operations are seq_cst, so they have one total order. If the
 * executor's check (3) misses the push (A), then A comes after 3 in that order,
 * hence after 2, so B (after A) sees parked == 1 and bumps epoch. The bump is
 * after the executor's read in 1, so either futex_wait sees epoch != e and
 * returns at once, or it was already asleep and the wake reaches it. Either
 * way the executor runs again and finds the request. Producers pay one load
 * when the executor is awake, and a syscall only when it sleeps.
 *
 * Sync waiters use one word per request: PENDING -> DONE (executor, exchange)
 * or PENDING -> PARKED (waiter, CAS) -> DONE. The executor futex_wakes only
 * when it replaced PARKED, i.e. when the waiter committed to sleeping; the
 * waiter re-checks the word around every futex_wait, so spurious returns are
 * harmless. After its exchange the executor no longer reads the request (the
 * waiter's stack frame may be gone): futex_wake uses only the address, and a
 * stray wake on reused stack memory is a spurious wake for whoever waits there,
 * which every futex user tolerates.
 *
 * Close: submitters bump a per-thread shard counter, check `closing`, push,
 * and drop the counter (Dekker-style with seq_cst on both sides). Close sets
 * `closing` and waits for every shard to drain to zero: after that no push is
 * in flight or can start, so a CLOSE request pushed now is the last one, and
 * every request accepted before it runs normally.
 */
#include "exec.h"

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/clocale.h"
#include "futex.h"

#define EXEC_BATCH 64

static __thread const em_core *tls_exec;

static void signal_written_keys(em_ctx *x);

int ember__core_on_executor(const em_core *c)
{
    return tls_exec == c;
}

static unsigned shard_index(void)
{
    static _Atomic unsigned next_shard;
    static __thread unsigned idx = UINT_MAX;
    if (idx == UINT_MAX)
        idx = atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % EM_SHARDS;
    return idx;
}

int ember__core_init(em_core *c, int mode)
{
    ember__blk_init(&c->blk, &c->srv.st.mem, c->srv.st.seed);
    ember__watch_init(&c->watch, &c->srv.st, c->srv.st.seed);
    c->srv.after_write = signal_written_keys;
    c->srv.after_write_ud = c;
    ember__mpsc_init(&c->q);
    atomic_init(&c->epoch, 0);
    atomic_init(&c->parked, 0);
    atomic_init(&c->closing, 0);
    for (int i = 0; i < EM_SHARDS; i++)
        atomic_init(&c->inflight[i].n, 0);
    c->stop = 0;
    c->mode = mode;
    c->thread_started = 0;
    c->next_tick_ns = 0;
    /* Initial idle-spin budget of the executor; adapts (see spin_adapt). */
    c->spin_exec = 4096;
    return 0;
}

static void wake_executor(em_core *c)
{
    if (atomic_load_explicit(&c->parked, memory_order_seq_cst)) {
        atomic_fetch_add_explicit(&c->epoch, 1, memory_order_seq_cst);
        ember__futex_wake(&c->epoch, 1);
    }
}

static int submit(em_core *c, em_req *r)
{
    em_shard *s = &c->inflight[shard_index()];
    atomic_fetch_add_explicit(&s->n, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&c->closing, memory_order_seq_cst)) {
        atomic_fetch_sub_explicit(&s->n, 1, memory_order_release);
        return EMBER_ECLOSED;
    }
    ember__mpsc_push(&c->q, &r->node);
    wake_executor(c);
    /* Last touch of the core: close waits for this before tearing down. */
    atomic_fetch_sub_explicit(&s->n, 1, memory_order_release);
    return EMBER_OK;
}

/*
 * Spin budgets adapt, like an adaptive mutex: a spin that ends with the event
 * seen grows the budget a little, a spin that ends in parking halves it. With
 * idle cores the budget stays high and a round trip never touches the kernel;
 * with more runnable threads than cores spinning mostly fails, the budget
 * collapses, and threads park at once instead of burning the slices their
 * peers need. The waiter's budget is per thread (no shared cache line).
 */
#define SPIN_WAIT_MIN 32
#define SPIN_WAIT_MAX 4096
#define SPIN_EXEC_MIN 64
#define SPIN_EXEC_MAX 8192

static __thread uint32_t tls_spin_wait = 2048;

static uint32_t spin_adapt(uint32_t budget, int success, uint32_t lo, uint32_t hi)
{
    if (success)
        return budget + budget / 8 + 1 > hi ? hi : budget + budget / 8 + 1;
    return budget / 2 < lo ? lo : budget / 2;
}

static void wait_req(em_core *c, em_req *r)
{
    (void)c;
    uint32_t budget = tls_spin_wait;
    for (uint32_t i = 0; i < budget; i++) {
        if (atomic_load_explicit(&r->state, memory_order_acquire) == EM_REQ_DONE) {
            tls_spin_wait = spin_adapt(budget, 1, SPIN_WAIT_MIN, SPIN_WAIT_MAX);
            return;
        }
        ember__cpu_relax();
    }
    tls_spin_wait = spin_adapt(budget, 0, SPIN_WAIT_MIN, SPIN_WAIT_MAX);
    uint32_t expect = EM_REQ_PENDING;
    if (atomic_compare_exchange_strong(&r->state, &expect, EM_REQ_PARKED)) {
        while (atomic_load_explicit(&r->state, memory_order_acquire) != EM_REQ_DONE)
            ember__futex_wait(&r->state, EM_REQ_PARKED, -1);
    }
}

static void complete(em_req *r)
{
    if (atomic_exchange_explicit(&r->state, EM_REQ_DONE, memory_order_acq_rel) == EM_REQ_PARKED)
        ember__futex_wake(&r->state, 1);
}

static void req_init(em_req *r, int kind, int32_t dbid)
{
    r->kind = kind;
    r->status = EMBER_OK;
    atomic_init(&r->state, EM_REQ_PENDING);
    r->dbid = dbid;
}

/* ------------------------------------------------------------ running */

static void ctx_init(em_core *c, em_ctx *x, int32_t dbid, uint32_t flags)
{
    x->srv = &c->srv;
    x->st = &c->srv.st;
    x->ks = &c->srv.st.dbs[dbid];
    x->dbid = dbid;
    x->now = -1;
    x->cmd = NULL;
    x->parent = NULL;
    x->flags = flags;
    x->blocked = 0;
    x->ready_key = c->ready_key;
    x->ready_klen = c->ready_klen;
}

/* Runs one command; `x` receives the context afterwards (x->blocked says
 * whether it is waiting on keys instead of having replied). */
static void run_command(em_core *c, int32_t dbid, size_t argc, const char *const *argv,
                        const size_t *argvlen, const em_sink_ops *so, void *sink, uint32_t flags,
                        em_ctx *x)
{
    ctx_init(c, x, dbid, flags);
    x->argc = argc;
    x->argv = argv;
    x->argvlen = argvlen;
    x->so = so;
    x->sink = sink;
    ember__cmd_exec(x);
}

/* ------------------------------------------------------------ blocking */

/* after_write hook: a write to a key someone waits on makes it ready. */
static void signal_written_keys(em_ctx *x)
{
    em_core *c = x->srv->after_write_ud;
    const em_cmd *cmd = x->cmd;
    if (!c->blk.nwaiters)
        return;
    /* Commands that move data between databases: re-check every waiter. */
    if (!strcmp(cmd->name, "swapdb") || !strcmp(cmd->name, "move") || !strcmp(cmd->name, "copy")) {
        ember__blk_signal_all(&c->blk);
        if (strcmp(cmd->name, "copy"))
            return;
    }
    if (cmd->first_key <= 0)
        return;
    int last = cmd->last_key < 0 ? (int)x->argc + cmd->last_key : cmd->last_key;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    for (int k = cmd->first_key; k <= last && k < (int)x->argc; k += step)
        ember__blk_signal(&c->blk, x->dbid, x->argv[k], x->argvlen[k]);
}

static void finish_async(em_req *r);
static void complete(em_req *r);

/* ------------------------------------------------------------ append log */

/* Group commit: the log writes (and under `always` syncs) what ran since the
 * last commit. Nonzero: the callers of that work get the log's error. */
static int log_commit(em_core *c)
{
    return c->srv.log ? c->srv.log->commit(c->srv.log_ud) : 0;
}

/*
 * Group commit gathering (Postgres's commit_delay, adaptive): under `always`
 * a sync costs far more than a command, and callers released by the last
 * commit are about to submit again. When the log says so (it saw several
 * callers per commit lately), wait a little for them, yielding the CPU they
 * need, so that one sync covers them too.
 */
static void log_gather(em_core *c, em_req **batch, size_t *n)
{
    size_t expect = 0;
    int64_t ns = c->srv.log ? c->srv.log->gather(c->srv.log_ud, &expect) : 0;
    if (ns <= 0)
        return;
    int64_t until = ember__mono_ns() + ns;
    size_t got = 0;
    while (*n < EXEC_BATCH && got < expect && ember__mono_ns() < until) {
        em_mpsc_node *node = ember__mpsc_pop(&c->q);
        if (!node || node == EM_MPSC_STALL) {
            sched_yield();
            continue;
        }
        batch[(*n)++] = (em_req *)node;
        got++;
    }
}

/* A caller whose reply cannot be acknowledged gets the log's error instead
 * (the write is in memory, but not in the log). */
static void log_fail(em_core *c, em_req *r)
{
    const char *msg =
        c->srv.log_refuse ? c->srv.log_refuse : "MISCONF Errors writing to the AOF file";
    switch (r->kind) {
    case EM_REQ_CMD:
        if (ember__sink_replace_error(r->so, r->sink, EMBER_EIO, msg) != 0)
            r->status = EMBER_EIO;
        break;
    case EM_REQ_ASYNC:
        ember__reply_tree_free(r->reply);
        r->reply = ember__reply_new_error(EMBER_EIO, msg);
        break;
    case EM_REQ_BATCH:
    case EM_REQ_BATCH_ASYNC:
        for (size_t i = 0; i < r->batch->nreplies; i++) {
            em_tree_sink t;
            ember__tree_sink_init(&t);
            t.arena = &r->batch->arena;
            ember__tree_sink_ops.error(&t, EMBER_EIO, msg, strlen(msg));
            r->batch->replies[i] = ember__tree_sink_take(&t);
        }
        r->status = EMBER_EIO;
        break;
    case EM_REQ_RUN:
        r->ret = EMBER_EIO;
        break;
    case EM_REQ_CALL:
        if (r->call_fail)
            r->call_fail(r->ud, msg);
        r->status = EMBER_EIO;
        break;
    default:
        break;
    }
}

/* A served waiter is released at once, or after the group commit when a log
 * is attached (its pop is a write that must be durable first). */
static void release_served(em_core *c, em_req *r)
{
    if (c->srv.log) {
        r->log_next = c->log_served;
        c->log_served = r;
    } else if (r->kind == EM_REQ_CMD) {
        complete(r);
    } else {
        finish_async(r);
    }
}

static void release_held(em_core *c, int failed)
{
    while (c->log_served) {
        em_req *r = c->log_served;
        c->log_served = r->log_next;
        if (failed)
            log_fail(c, r);
        if (r->kind == EM_REQ_CMD)
            complete(r);
        else
            finish_async(r);
    }
}

/* Parks request r whose command blocked in x. Returns 1 if parked, 0 if it
 * could not be (out of memory: it got an error reply instead). */
static int park_request(em_core *c, em_req *r, const em_ctx *x)
{
    int want = x->cmd->name[1] == 'z' ? EM_T_ZSET : EM_T_LIST; /* BZ... or BL/BR... */
    if (ember__blk_add(&c->blk, r, x->dbid, x->argv, x->argvlen, x->block_first, x->block_count,
                       x->block_step, want, x->block_deadline)) {
        c->srv.blocked_clients = c->blk.nwaiters;
        return 1;
    }
    x->so->error(x->sink, EMBER_ENOMEM, ember__oom_msg, strlen(ember__oom_msg));
    return 0;
}

/* Runs a parked request's command again. Returns 1 if it replied (served). */
static int retry_request(em_core *c, em_req *r)
{
    em_ctx x;
    /* A waiter served after a write is not checked against maxmemory again
     * (Redis checks a blocking command once, when it arrives). */
    if (r->kind == EM_REQ_CMD) {
        run_command(c, r->dbid, r->argc, r->argv, r->argvlen, r->so, r->sink,
                    EM_CTX_MAY_BLOCK | EM_CTX_NO_EVICT, &x);
        if (x.blocked)
            return 0;
        release_served(c, r);
        return 1;
    }
    em_tree_sink t;
    ember__tree_sink_init(&t);
    run_command(c, r->dbid, r->argc, r->argv, r->argvlen, &ember__tree_sink_ops, &t,
                EM_CTX_MAY_BLOCK | EM_CTX_NO_EVICT, &x);
    if (x.blocked) {
        ember__reply_tree_free(ember__tree_sink_take(&t));
        return 0;
    }
    r->reply = ember__tree_sink_take(&t);
    if (!r->reply)
        r->reply = ember__reply_new_error(EMBER_ENOMEM, "ERR out of memory building reply");
    release_served(c, r);
    return 1;
}

/*
 * Serves ready keys, as Redis does after each command: for each key, waiters
 * in the order they blocked run their command again until one finds the key
 * empty (later ones would too). A waiter for another type (a BZPOPMIN waiter
 * on a key that is now a list) stays blocked, as in Redis 7.0. A served
 * command may write other keys (BLMOVE's destination), which queues them:
 * the loop runs until no key is ready.
 */
static void serve_ready(em_core *c)
{
    em_store *st = &c->srv.st;
    em_bkey *bk;
    while ((bk = ember__blk_next_ready(&c->blk))) {
        size_t klen;
        const char *key = ember__blk_key(bk, &klen);
        bk->serving = 1;
        for (em_bnode *n = bk->head; n;) {
            em_bnode *next = n->next;
            em_bwait *w = n->w;
            em_obj *o =
                ember__ks_lookup(st, &st->dbs[w->dbid], key, klen, ember__clock_ms(&st->clock),
                                 EM_LK_NOSTATS | EM_LK_NOTOUCH, NULL);
            if (!o)
                break;
            if (ember__obj_type(o) != w->want_type) {
                n = next;
                continue;
            }
            /* The retry may write keys (BLMOVE's destination, maybe this very
             * key): they are queued as ready and served by this same loop. */
            c->ready_key = key;
            c->ready_klen = klen;
            int served = retry_request(c, w->req);
            c->ready_key = NULL;
            if (!served)
                break;
            ember__blk_remove(&c->blk, w);
            n = next;
        }
        bk->serving = 0;
        ember__blk_release_key(&c->blk, bk);
    }
    c->srv.blocked_clients = c->blk.nwaiters;
}

/* Replies nil to waiters whose deadline passed (Redis: deadline < now). */
static void expire_waiters(em_core *c)
{
    if (!c->blk.nwaiters)
        return;
    int64_t now = ember__clock_ms(&c->srv.st.clock);
    em_bwait *w = c->blk.head;
    while (w) {
        em_bwait *next = w->next;
        if (w->deadline && w->deadline < now) {
            em_req *r = w->req;
            ember__blk_remove(&c->blk, w);
            if (r->kind == EM_REQ_CMD) {
                r->so->nil(r->sink);
                complete(r);
            } else {
                em_tree_sink t;
                ember__tree_sink_init(&t);
                ember__tree_sink_ops.nil(&t);
                r->reply = ember__tree_sink_take(&t);
                if (!r->reply)
                    r->reply = ember__reply_new_error(EMBER_ENOMEM, "ERR out of memory");
                finish_async(r);
            }
        }
        w = next;
    }
    c->srv.blocked_clients = c->blk.nwaiters;
}

/* EM_REQ_CANCEL: the parked async request with this ud (if any: it may
 * have been served already) gets EMBER_ECLOSED. */
static void cancel_waiter(em_core *c, const void *ud)
{
    for (em_bwait *w = c->blk.head; w; w = w->next) {
        em_req *r = w->req;
        if (r->kind == EM_REQ_ASYNC && r->ud == ud) {
            ember__blk_remove(&c->blk, w);
            c->srv.blocked_clients = c->blk.nwaiters;
            r->status = EMBER_ECLOSED;
            ember__reply_tree_free(r->reply);
            r->reply = NULL;
            finish_async(r);
            return;
        }
    }
}

/* Close: every waiter is released with EMBER_ECLOSED. */
static void release_waiters(em_core *c)
{
    while (c->blk.head) {
        em_bwait *w = c->blk.head;
        em_req *r = w->req;
        ember__blk_remove(&c->blk, w);
        if (r->kind == EM_REQ_CMD) {
            r->status = EMBER_ECLOSED;
            complete(r);
        } else {
            r->cb(r->ud, EMBER_ECLOSED, NULL);
            ember__req_free_async(r);
        }
    }
    c->srv.blocked_clients = 0;
}

static void batch_args(struct ember_batch *b, size_t i, em_ctx *x)
{
    const em_batch_cmd *bc = &b->cmds[i];
    x->argc = bc->argc;
    x->argv = (const char *const *)b->argv + bc->arg0;
    x->argvlen = b->argvlen + bc->arg0;
}

void ember__exec_run_known(em_core *c, int32_t dbid, const em_cmd *cmd, size_t argc,
                           const char *const *argv, const size_t *argvlen, const em_sink_ops *so,
                           void *sink)
{
    em_ctx x;
    ctx_init(c, &x, dbid, 0);
    x.argc = argc;
    x.argv = argv;
    x.argvlen = argvlen;
    x.so = so;
    x.sink = sink;
    ember__cmd_exec_known(&x, cmd);
    if (c->blk.ready)
        serve_ready(c);
}

static int run_batch(em_core *c, int32_t dbid, struct ember_batch *b, int flags)
{
    em_ctx x;
    em_tree_sink t;
    int status = EMBER_OK;
    ctx_init(c, &x, dbid, EM_CTX_MAY_SELECT);
    x.so = &ember__tree_sink_ops;
    x.sink = &t;
    ember__tree_sink_init(&t);
    if (flags & EMBER_BATCH_ATOMIC) {
        /* MULTI/EXEC: a command that cannot even be queued (unknown, wrong
         * arity) aborts the whole batch before anything runs. */
        int bad = 0, denyoom = 0;
        em_capture_sink cap;
        for (size_t i = 0; i < b->ncmds && !bad; i++) {
            memset(&cap, 0, sizeof cap);
            x.so = &ember__capture_sink_ops;
            x.sink = &cap;
            batch_args(b, i, &x);
            const em_cmd *cmd = ember__cmd_resolve(&x);
            if (!cmd)
                bad = 1;
            else
                denyoom |= (cmd->flags & EM_CMD_DENYOOM) != 0;
        }
        /* maxmemory as for MULTI: eviction runs once, before the batch (never
         * between its commands); if memory stays over the limit, a command
         * that may grow it is refused as at queue time, and the batch aborts. */
        int oom = !bad && denyoom && c->srv.st.ev.maxmemory &&
                  ember__evict_perform(&c->srv.st, ember__clock_ms(&c->srv.st.clock), 500) ==
                      EM_EVICT_FAIL;
        x.so = &ember__tree_sink_ops;
        x.sink = &t;
        if (bad || oom) {
            static const char abort_msg[] =
                "EXECABORT Transaction discarded because of previous errors.";
            for (size_t i = 0; i < b->ncmds; i++) {
                ember__tree_sink_init(&t);
                t.arena = &b->arena;
                batch_args(b, i, &x);
                const em_cmd *cmd = ember__cmd_resolve(&x);
                if (cmd && oom && (cmd->flags & EM_CMD_DENYOOM))
                    ember__tree_sink_ops.error(&t, EMBER_ENOMEM, ember__oom_msg,
                                               strlen(ember__oom_msg));
                else if (cmd)
                    ember__tree_sink_ops.error(&t, EMBER_EABORT, abort_msg, sizeof abort_msg - 1);
                b->replies[i] = ember__tree_sink_take(&t);
            }
            b->nreplies = b->ncmds;
            return EMBER_EABORT;
        }
        x.flags |= EM_CTX_NO_EVICT;
    }
    if (flags & EMBER_BATCH_ATOMIC)
        em_log_begin(&c->srv); /* logged as MULTI ... EXEC */
    for (size_t i = 0; i < b->ncmds; i++) {
        ember__tree_sink_init(&t);
        t.arena = &b->arena;
        batch_args(b, i, &x);
        ember__cmd_exec_known(&x, b->cmds[i].cmd);
        b->replies[i] = ember__tree_sink_take(&t);
        if (!b->replies[i])
            status = EMBER_ENOMEM;
    }
    if (flags & EMBER_BATCH_ATOMIC)
        em_log_end(&c->srv);
    b->nreplies = b->ncmds;
    return status;
}

/* EXEC of a transaction guarded by WATCH: nothing runs if a watched key
 * changed (no replies, EMBER_EABORT); the watcher is unwatched either way. */
static int run_txn(em_core *c, int32_t dbid, struct ember_batch *b, em_watcher *w)
{
    if (w && !ember__watch_exec_check(&c->watch, w)) {
        b->nreplies = 0;
        return EMBER_EABORT;
    }
    return run_batch(c, dbid, b, EMBER_BATCH_ATOMIC);
}

int ember__exec_txn(em_core *c, int32_t dbid, struct ember_batch *b, em_watcher *w)
{
    int rc = run_txn(c, dbid, b, w);
    if (c->blk.ready)
        serve_ready(c); /* callers its writes woke, after the whole transaction */
    return rc;
}

/* Redis accepts any hz but runs between 1 and 500 times a second. */
static int64_t effective_hz(const em_core *c)
{
    int64_t hz = c->srv.cfg.hz;
    return hz < 1 ? 1 : hz > 500 ? 500 : hz;
}

static void tick(em_core *c)
{
    em_store *st = &c->srv.st;
    int64_t period_us = 1000000 / effective_hz(c);
    /* Active expiry may use 5% of the period; rehashing 1 ms per database. */
    ember__ks_active_expire(st, ember__clock_ms(&st->clock), period_us / 20);
    ember__ks_cron(st, 1000);
    /* What the per-command eviction left for lack of time (a lowered maxmemory). */
    if (st->ev.maxmemory)
        ember__evict_perform(st, ember__clock_ms(&st->clock), period_us / 20);
    ember__info_sample(&c->srv);
    expire_waiters(c);
    if (c->srv.bg_step)
        c->srv.bg_step(&c->srv, 0, EM_BG_TICK); /* save rules, finished snapshots */
}

/* Background serialization (snapshots) between batches, in short slices so
 * a request that arrives meanwhile waits little; the queue is checked
 * between slices. */
#define BG_SLICE_BUSY_US 20
#define BG_SLICE_IDLE_US 50

static void maybe_tick(em_core *c)
{
    int64_t now = ember__mono_ns();
    if (now >= c->next_tick_ns) {
        tick(c);
        c->next_tick_ns = now + 1000000000ll / effective_hz(c);
    }
}

/* Runs one request; returns 1 if it must be completed as a sync request. */
/* Runs one request. Returns 1 if it must be completed as a sync request, 0
 * if it is an async one to finish, 2 if it is parked (waiting on keys). */
static int execute(em_core *c, em_req *r)
{
    em_ctx x;
    switch (r->kind) {
    case EM_REQ_CMD:
        run_command(c, r->dbid, r->argc, r->argv, r->argvlen, r->so, r->sink, EM_CTX_MAY_BLOCK, &x);
        return x.blocked && park_request(c, r, &x) ? 2 : 1;
    case EM_REQ_BATCH:
        r->status = run_batch(c, r->dbid, r->batch, r->batch_flags);
        return 1;
    case EM_REQ_RUN:
        em_log_begin(&c->srv); /* a closure's writes are logged as one unit */
        r->ret = r->fn(r->handle, r->ud);
        em_log_end(&c->srv);
        return 1;
    case EM_REQ_TICK:
        tick(c);
        return 1;
    case EM_REQ_CLOSE:
        release_waiters(c);
        c->stop = 1;
        return 1;
    case EM_REQ_BATCH_ASYNC:
        r->status = r->watcher ? run_txn(c, r->dbid, r->batch, r->watcher)
                               : run_batch(c, r->dbid, r->batch, r->batch_flags);
        return 0; /* finish_async() hands the batch back */
    case EM_REQ_WATCH:
        if (r->watch_op == EM_WATCH_KEYS)
            ember__watch_keys(&c->watch, r->watcher, r->dbid, r->argc, r->argv, r->argvlen);
        else if (r->watch_op == EM_WATCH_CLEAR)
            ember__watch_clear(&c->watch, r->watcher);
        else
            ember__watch_release(&c->watch, r->watcher);
        return 0;
    case EM_REQ_CANCEL:
        cancel_waiter(c, r->cancel_ud);
        return 0;
    case EM_REQ_CALL:
        r->call(c, r->ud);
        return 0;
    case EM_REQ_ASYNC: {
        em_tree_sink t;
        ember__tree_sink_init(&t);
        /* Inline mode has no other thread to wake a waiter: no blocking. */
        run_command(c, r->dbid, r->argc, r->argv, r->argvlen, &ember__tree_sink_ops, &t,
                    c->mode == EMBER_MODE_EXECUTOR ? EM_CTX_MAY_BLOCK : 0, &x);
        if (x.blocked) {
            ember__reply_tree_free(ember__tree_sink_take(&t));
            if (park_request(c, r, &x))
                return 2;
            ember__tree_sink_init(&t);
            ember__tree_sink_ops.error(&t, EMBER_ENOMEM, "OOM", 3);
        }
        r->reply = ember__tree_sink_take(&t);
        if (!r->reply)
            r->reply = ember__reply_new_error(EMBER_ENOMEM, "ERR out of memory building reply");
        return 0;
    }
    default:
        return 1;
    }
}

static void finish_async(em_req *r)
{
    /* The replies are final (the group commit is done): the submitter may
     * touch the batch again, even before its callback is polled. */
    if (r->kind == EM_REQ_BATCH_ASYNC)
        atomic_store_explicit(&r->batch->busy, 0, memory_order_release);
    if (r->cq) {
        ember__cq_complete(r->cq, r);
        return;
    }
    struct ember_reply *rep = r->reply;
    r->reply = NULL;
    r->cb(r->ud, r->status, rep);
    ember__req_free_async(r);
}

static void stall_backoff(unsigned *n)
{
    if (++*n < 16) {
        for (int i = 0; i < 64; i++)
            ember__cpu_relax();
    } else {
        sched_yield();
    }
}

static void *exec_main(void *arg)
{
    em_core *c = arg;
    em_req *batch[EXEC_BATCH];
    tls_exec = c;
    ember__locale_enter(); /* for the thread's whole life */
    c->next_tick_ns = ember__mono_ns();
    while (!c->stop) {
        size_t n = 0;
        unsigned stalls = 0;
        while (n < EXEC_BATCH) {
            em_mpsc_node *node = ember__mpsc_pop(&c->q);
            if (!node)
                break;
            if (node == EM_MPSC_STALL) {
                c->srv.exec_stalls++;
                if (n)
                    break; /* serve what we have; the producer finishes meanwhile */
                stall_backoff(&stalls);
                continue;
            }
            batch[n++] = (em_req *)node;
        }
        if (n) {
            int sync[EXEC_BATCH];
            size_t ran = 0;
            for (int round = 0; round < 2; round++) {
                for (size_t i = ran; i < n; i++) {
                    sync[i] = execute(c, batch[i]);
                    /* Waiters woken by this request are served right after it
                     * (after the whole batch or closure, which are one request). */
                    if (c->blk.ready)
                        serve_ready(c);
                }
                ran = n;
                if (round == 0)
                    log_gather(c, batch, &n);
            }
            /* Replies are released only after the whole batch ran and the
             * append log's group commit made its writes durable. */
            int lerr = log_commit(c);
            for (size_t i = 0; i < n; i++) {
                if (lerr && sync[i] != 2)
                    log_fail(c, batch[i]);
                if (sync[i] == 1)
                    complete(batch[i]);
                else if (sync[i] == 0)
                    finish_async(batch[i]);
            }
            release_held(c, lerr);
            c->srv.exec_batches++;
            c->srv.exec_requests += n;
            maybe_tick(c);
            if (c->srv.bg_active)
                c->srv.bg_step(&c->srv, BG_SLICE_BUSY_US, EM_BG_BUSY);
            continue;
        }
        maybe_tick(c);
        if (c->srv.bg_active) {
            c->srv.bg_step(&c->srv, BG_SLICE_IDLE_US, EM_BG_IDLE);
            continue; /* never park while a snapshot is being serialized */
        }
        int found = 0;
        for (uint32_t i = 0; i < c->spin_exec; i++) {
            if (!ember__mpsc_idle(&c->q)) {
                found = 1;
                break;
            }
            ember__cpu_relax();
        }
        c->spin_exec = spin_adapt(c->spin_exec, found, SPIN_EXEC_MIN, SPIN_EXEC_MAX);
        if (found)
            continue;
        uint32_t e = atomic_load_explicit(&c->epoch, memory_order_seq_cst);
        atomic_store_explicit(&c->parked, 1, memory_order_seq_cst);
        if (ember__mpsc_idle(&c->q)) {
            int64_t wait = c->next_tick_ns - ember__mono_ns();
            int64_t dl = c->srv.st.clock.is_virtual ? 0 : ember__blk_earliest(&c->blk);
            if (dl) {
                /* Wake for the earliest blocking timeout, not just the tick. */
                int64_t until = (dl + 1 - ember__clock_ms(&c->srv.st.clock)) * 1000000;
                if (until < wait)
                    wait = until;
            }
            c->srv.exec_parks++;
            ember__futex_wait(&c->epoch, e, wait > 0 ? wait : 0);
        }
        atomic_store_explicit(&c->parked, 0, memory_order_relaxed);
    }
    tls_exec = NULL;
    return NULL;
}

int ember__core_start(em_core *c)
{
    if (c->mode != EMBER_MODE_EXECUTOR)
        return 0;
    if (pthread_create(&c->thread, NULL, exec_main, c) != 0)
        return -1;
    c->thread_started = 1;
    return 0;
}

int ember__core_close(em_core *c)
{
    atomic_store_explicit(&c->closing, 1, memory_order_seq_cst);
    for (int i = 0; i < EM_SHARDS; i++) {
        while (atomic_load_explicit(&c->inflight[i].n, memory_order_acquire) != 0)
            sched_yield();
    }
    if (c->thread_started) {
        em_req r;
        req_init(&r, EM_REQ_CLOSE, 0);
        ember__mpsc_push(&c->q, &r.node);
        wake_executor(c);
        wait_req(c, &r);
        pthread_join(c->thread, NULL);
        c->thread_started = 0;
    }
    ember__blk_free(&c->blk);
    ember__watch_free(&c->watch);
    return EMBER_OK;
}

/* ------------------------------------------------------------ submission */

static int direct(const em_core *c)
{
    return c->mode == EMBER_MODE_INLINE || tls_exec == c;
}

static void inline_cron(em_core *c)
{
    if (c->mode == EMBER_MODE_INLINE) {
        maybe_tick(c);
        if (c->srv.bg_active)
            c->srv.bg_step(&c->srv, BG_SLICE_BUSY_US, EM_BG_BUSY);
    }
}

int ember__exec_command(em_core *c, int32_t dbid, size_t argc, const char *const *argv,
                        const size_t *argvlen, const em_sink_ops *so, void *sink)
{
    if (direct(c)) {
        if (atomic_load_explicit(&c->closing, memory_order_relaxed))
            return EMBER_ECLOSED;
        locale_t old = ember__locale_enter();
        em_ctx x;
        inline_cron(c);
        run_command(c, dbid, argc, argv, argvlen, so, sink, 0, &x);
        /* Inline mode: this call is a batch of one (inside a closure the
         * closure's request commits). */
        if (tls_exec != c && log_commit(c) &&
            ember__sink_replace_error(so, sink, EMBER_EIO, c->srv.log_refuse) != 0) {
            ember__locale_leave(old);
            return EMBER_EIO;
        }
        ember__locale_leave(old);
        return EMBER_OK;
    }
    em_req r;
    req_init(&r, EM_REQ_CMD, dbid);
    r.argc = argc;
    r.argv = argv;
    r.argvlen = argvlen;
    r.so = so;
    r.sink = sink;
    int rc = submit(c, &r);
    if (rc)
        return rc;
    wait_req(c, &r);
    return r.status; /* EMBER_ECLOSED if it was waiting on keys at close */
}

int ember__exec_batch(em_core *c, int32_t dbid, struct ember_batch *b, int flags)
{
    if (direct(c)) {
        if (atomic_load_explicit(&c->closing, memory_order_relaxed))
            return EMBER_ECLOSED;
        locale_t old = ember__locale_enter();
        inline_cron(c);
        int rc = run_batch(c, dbid, b, flags);
        if (tls_exec != c && log_commit(c)) {
            em_req fake;
            fake.kind = EM_REQ_BATCH;
            fake.batch = b;
            log_fail(c, &fake);
            rc = EMBER_EIO;
        }
        ember__locale_leave(old);
        return rc;
    }
    em_req r;
    req_init(&r, EM_REQ_BATCH, dbid);
    r.batch = b;
    r.batch_flags = flags;
    int rc = submit(c, &r);
    if (rc)
        return rc;
    wait_req(c, &r);
    return r.status;
}

int ember__exec_run(em_core *c, struct ember_db *h, int (*fn)(struct ember_db *, void *), void *ud)
{
    if (direct(c)) {
        if (atomic_load_explicit(&c->closing, memory_order_relaxed))
            return EMBER_ECLOSED;
        /* Inline mode: while the closure runs this thread is the executor,
         * so the same misuse checks (close, clock) apply. */
        const em_core *saved = tls_exec;
        tls_exec = c;
        em_log_begin(&c->srv);
        int ret = fn(h, ud);
        em_log_end(&c->srv);
        tls_exec = saved;
        if (saved != c && log_commit(c))
            ret = EMBER_EIO;
        return ret;
    }
    em_req r;
    req_init(&r, EM_REQ_RUN, 0);
    r.fn = fn;
    r.handle = h;
    r.ud = ud;
    int rc = submit(c, &r);
    if (rc)
        return rc;
    wait_req(c, &r);
    return r.ret;
}

int ember__exec_tick(em_core *c)
{
    if (tls_exec == c)
        return EMBER_EMISUSE;
    if (c->mode == EMBER_MODE_INLINE) {
        if (atomic_load_explicit(&c->closing, memory_order_relaxed))
            return EMBER_ECLOSED;
        locale_t old = ember__locale_enter();
        tick(c);
        log_commit(c); /* expired keys' DELs: nobody waits for them */
        ember__locale_leave(old);
        return EMBER_OK;
    }
    em_req r;
    req_init(&r, EM_REQ_TICK, 0);
    int rc = submit(c, &r);
    if (rc)
        return rc;
    wait_req(c, &r);
    return r.status; /* EMBER_ECLOSED if it was waiting on keys at close */
}

int ember__exec_async(em_core *c, em_req *r)
{
    r->status = EMBER_OK;
    atomic_init(&r->state, EM_REQ_PENDING);
    if (c->mode == EMBER_MODE_INLINE) {
        if (atomic_load_explicit(&c->closing, memory_order_relaxed))
            return EMBER_ECLOSED;
        locale_t old = ember__locale_enter();
        inline_cron(c);
        execute(c, r);
        if (log_commit(c))
            log_fail(c, r);
        ember__locale_leave(old);
        const em_core *saved = tls_exec;
        tls_exec = c;
        finish_async(r);
        tls_exec = saved;
        return EMBER_OK;
    }
    /* From the executor itself the request is queued too: the callback then
     * runs after the current command, never inside it. */
    return submit(c, r);
}

/* ------------------------------------------------------------ completion queues */

em_req *ember__req_new_async(int32_t dbid, size_t argc, const char *const *argv,
                             const size_t *argvlen)
{
    /* One block: the request, argv pointers, lengths, then the bytes. */
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++)
        bytes += argvlen ? argvlen[i] : (argv[i] ? strlen(argv[i]) : 0);
    size_t head = sizeof(em_req) + argc * (sizeof(char *) + sizeof(size_t));
    em_req *r = malloc(head + bytes + argc);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->kind = EM_REQ_ASYNC;
    const char **av = (const char **)(r + 1);
    size_t *al = (size_t *)(av + argc);
    char *p = (char *)(al + argc);
    for (size_t i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : (argv[i] ? strlen(argv[i]) : 0);
        if (n)
            memcpy(p, argv[i], n);
        p[n] = '\0';
        av[i] = p;
        al[i] = n;
        p += n + 1;
    }
    r->dbid = dbid;
    r->argc = argc;
    r->argv = av;
    r->argvlen = al;
    return r;
}

void ember__req_free_async(em_req *r)
{
    ember__reply_tree_free(r->reply);
    free(r);
}

void ember__cq_complete(struct ember_cq *cq, em_req *r)
{
    /* Raised before the entry becomes visible, dropped after the last touch. */
    atomic_fetch_add_explicit(&cq->completing, 1, memory_order_seq_cst);
    ember__mpsc_push(&cq->q, &r->node);
    if (atomic_exchange_explicit(&cq->signaled, 1, memory_order_seq_cst) == 0) {
        uint64_t one = 1;
        ssize_t w = write(cq->fd, &one, sizeof one);
        (void)w; /* an eventfd write can only fail on counter overflow */
    }
    atomic_fetch_sub_explicit(&cq->completing, 1, memory_order_release);
}
