/*
 * exec.h — the executor: one thread per store that owns the keyspace and runs
 * every command, fed by an MPSC queue of requests.
 *
 * Who may call what:
 *   ember__exec_submit_*   any thread (the executor itself runs them directly)
 *   ember__exec_close      one thread, not the executor
 *   everything else here   the executor only
 */
#ifndef EMBER_EXEC_H
#define EMBER_EXEC_H

#include <pthread.h>
#include <stdatomic.h>

#include "../command/command.h"
#include "blocking.h"
#include "mpsc.h"
#include "watch.h"

typedef struct em_core em_core;

enum {
    EM_REQ_CMD = 1,
    EM_REQ_BATCH,
    EM_REQ_RUN,
    EM_REQ_TICK,
    EM_REQ_CLOSE,
    EM_REQ_ASYNC,
    EM_REQ_BATCH_ASYNC, /* heap request: a batch whose completion is a callback */
    EM_REQ_CANCEL,      /* heap request: releases the parked async request whose ud is
                         * cancel_ud (its callback gets EMBER_ECLOSED, no reply) */
    EM_REQ_CALL,        /* heap request: call(core, ud) on the executor, then cb(ud, status,
                         * NULL) after the group commit (the RESP server's batches) */
    EM_REQ_WATCH,       /* heap request: watch_op on watcher (see em_req) */
};

/* EM_REQ_WATCH operations (lib/exec/watch.h). */
enum {
    EM_WATCH_KEYS = 1, /* WATCH argv[1..argc) in dbid */
    EM_WATCH_CLEAR,    /* UNWATCH */
    EM_WATCH_RELEASE,  /* the client is gone: forget and free the watcher */
};

/* Sync request states (the word a waiter may park on). */
enum { EM_REQ_PENDING = 0, EM_REQ_PARKED = 1, EM_REQ_DONE = 2 };

/* One command of a batch (arguments copied into the batch's arena). */
typedef struct em_batch_cmd {
    size_t argc;
    size_t arg0;       /* index of the first argument in the batch's arrays */
    const em_cmd *cmd; /* looked up when added (NULL: unknown, reported at exec) */
} em_batch_cmd;

struct ember_batch {
    uint32_t magic;
    /* 1 while an ember_batch_exec_async() of it is in flight: set by the
     * submitter, cleared (release) by the executor once it ran. */
    _Atomic int busy;
    em_batch_cmd *cmds;
    size_t ncmds, capcmds;
    const char **argv; /* pointers into bytes (fixed up at exec) */
    size_t *argvlen;
    size_t *argoff; /* offset of each argument in bytes */
    size_t nargs, capargs;
    char *bytes;
    size_t nbytes, capbytes;
    struct ember_reply **replies;
    size_t nreplies;
    em_arena arena; /* the replies live here */
};

typedef struct em_req {
    em_mpsc_node node; /* must stay first */
    int kind;
    int status;
    _Atomic uint32_t state;
    int32_t dbid;
    /* EM_REQ_CMD / EM_REQ_ASYNC */
    size_t argc;
    const char *const *argv;
    const size_t *argvlen;
    const em_sink_ops *so;
    void *sink;
    /* EM_REQ_BATCH */
    struct ember_batch *batch;
    int batch_flags;
    /* EM_REQ_RUN */
    int (*fn)(struct ember_db *, void *);
    struct ember_db *handle;
    void *ud;
    int ret;
    /* EM_REQ_ASYNC (heap-allocated, argv copied behind it) */
    void (*cb)(void *ud, int status, struct ember_reply *r);
    struct ember_cq *cq;
    struct ember_reply *reply;
    /* EM_REQ_CANCEL: the ud of the async request to release if parked
     * (ud, not the request's address: that may be reused once it is freed). */
    void *cancel_ud;
    /* EM_REQ_CALL: runs on the executor; call_fail (may be NULL) runs there
     * too when the group commit failed, with the log's error text, before
     * cb gets EMBER_EIO: the caller replaces the replies it built. */
    void (*call)(em_core *c, void *ud);
    void (*call_fail)(void *ud, const char *msg);
    /* A served waiter held back until the append log's group commit. */
    struct em_req *log_next;
    /* EM_REQ_WATCH: the operation and its watcher. EM_REQ_BATCH_ASYNC: when
     * set, the batch is an EXEC guarded by this watcher: if a watched key
     * changed nothing runs (status EMBER_EABORT, batch->nreplies 0), and the
     * watcher is unwatched either way. */
    em_watcher *watcher;
    int watch_op;
} em_req;

struct ember_cq {
    uint32_t magic;
    em_mpsc q;
    int fd;
    _Atomic uint32_t signaled;
    /* Completions being handed over right now: the executor still touches
     * the queue after the host can already see (and pop) the entry, so
     * ember_cq_close waits for this to drop to zero before freeing. */
    _Atomic uint32_t completing;
    em_core *core;
};

#define EM_SHARDS 16

typedef struct em_shard {
    _Atomic int64_t n;
    char pad[EM_CACHELINE - sizeof(int64_t)];
} em_shard;

struct em_core {
    em_server srv;
    em_mpsc q;
    /* Eventcount: the executor parks on epoch; producers bump it to wake. */
    _Atomic uint32_t epoch EM_ALIGNED_CL;
    _Atomic uint32_t parked;
    em_shard inflight[EM_SHARDS];
    _Atomic int closing;
    int stop;
    int mode; /* EMBER_MODE_* */
    pthread_t thread;
    int thread_started;
    int64_t next_tick_ns;
    em_blocking blk;    /* callers waiting on keys */
    em_watch_reg watch; /* WATCHed keys */
    em_req *log_served; /* served waiters to release after the group commit */
    uint32_t spin_exec; /* executor's idle-spin budget (adaptive) */
    /* The key whose waiters serve_ready() is running again (else NULL). */
    const char *ready_key;
    size_t ready_klen;
};

int ember__core_init(em_core *c, int mode);
/* Starts the executor thread (executor mode). Returns 0 or -1. */
int ember__core_start(em_core *c);
/* Stops accepting, runs what was accepted, stops the thread. */
int ember__core_close(em_core *c);
/* 1 if the calling thread is c's executor (or a direct call is in progress). */
int ember__core_on_executor(const em_core *c);
/* Runs one command synchronously (directly when on the executor / inline). */
int ember__exec_command(em_core *c, int32_t dbid, size_t argc, const char *const *argv,
                        const size_t *argvlen, const em_sink_ops *so, void *sink);
int ember__exec_batch(em_core *c, int32_t dbid, struct ember_batch *b, int flags);
int ember__exec_run(em_core *c, struct ember_db *h, int (*fn)(struct ember_db *, void *), void *ud);
/* Runs timed work now (after the virtual clock moved). */
int ember__exec_tick(em_core *c);
/* Takes ownership of a heap request (kind EM_REQ_ASYNC or EM_REQ_BATCH_ASYNC,
 * set by the caller) on success. */
int ember__exec_async(em_core *c, em_req *r);
/* For EM_REQ_CALL functions (executor only): runs one non-blocking command
 * (cmd looked up earlier; NULL = unknown, reported through the sink) on
 * database dbid, then serves the callers its writes woke, as Redis does
 * after each command. */
void ember__exec_run_known(em_core *c, int32_t dbid, const em_cmd *cmd, size_t argc,
                           const char *const *argv, const size_t *argvlen, const em_sink_ops *so,
                           void *sink);
/* For EM_REQ_CALL functions (executor only): EXEC of a transaction, the
 * batch b prepared (ember__batch_prepare) and run atomically as
 * EMBER_BATCH_ATOMIC does, guarded by watcher w (NULL: none). Returns the
 * batch's status, or EMBER_EABORT with b->nreplies 0 when a watched key
 * changed (nothing ran); w is unwatched either way. Then serves the
 * callers its writes woke. */
int ember__exec_txn(em_core *c, int32_t dbid, struct ember_batch *b, em_watcher *w);
/* Completion queues. */
void ember__cq_complete(struct ember_cq *cq, em_req *r);
/* A heap EM_REQ_ASYNC request for dbid with argv copied behind it (argvlen
 * NULL: each argument is a C string, NULL as empty); the caller sets cb, ud
 * and cq. NULL when out of memory. */
em_req *ember__req_new_async(int32_t dbid, size_t argc, const char *const *argv,
                             const size_t *argvlen);
/* Frees an async request (and its reply if still held). */
void ember__req_free_async(em_req *r);

/* Batches (batch.c; any thread, one at a time per batch). A batch is
 * calloc'd by its owner. ember__batch_add copies one command (argvlen NULL:
 * C strings) and looks its name up: EMBER_OK or EMBER_ENOMEM.
 * ember__batch_prepare drops the previous replies and readies the batch to
 * run (EMBER_OK or EMBER_ENOMEM). ember__batch_destroy frees b (NULL: no-op). */
int ember__batch_add(struct ember_batch *b, size_t argc, const char *const *argv,
                     const size_t *argvlen);
int ember__batch_prepare(struct ember_batch *b);
void ember__batch_destroy(struct ember_batch *b);

#endif
