/*
 * api_call.c — ember_command, replies, async submission, completion queues,
 * batches and closures.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api.h"

#define EM_STACK_ARGS 16

/* Fills lens from NUL-terminated argv when the caller passed no lengths.
 * Returns the lengths to use, or NULL on OOM. */
static const size_t *arg_lens(size_t argc, const char *const *argv, const size_t *argvlen,
                              size_t *stackbuf, size_t **heap)
{
    *heap = NULL;
    if (argvlen)
        return argvlen;
    size_t *l = argc <= EM_STACK_ARGS ? stackbuf : (*heap = malloc(argc * sizeof *l));
    if (!l)
        return NULL;
    for (size_t i = 0; i < argc; i++)
        l[i] = argv[i] ? strlen(argv[i]) : 0;
    return l;
}

/* Stored lengths are 32-bit (keys, values): anything longer is refused
 * before it reaches a command. Redis's own ceiling (proto-max-bulk-len) is
 * 512 MB by default and is checked by the commands that build strings. */
#define EM_ARG_MAX ((size_t)UINT32_MAX - 1)

static int args_ok(size_t argc, const char *const *argv, const size_t *argvlen)
{
    if (argc == 0 || !argv)
        return 0;
    for (size_t i = 0; i < argc; i++) {
        if (!argv[i] && (!argvlen || argvlen[i]))
            return 0;
        if (argvlen && argvlen[i] > EM_ARG_MAX)
            return 0;
    }
    return 1;
}

EMBER_API int ember_command(ember_db *db, size_t argc, const char *const *argv,
                            const size_t *argvlen, ember_reply **out)
{
    if (!out)
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return db ? EMBER_EMISUSE : EMBER_EINVAL;
    if (!args_ok(argc, argv, argvlen))
        return EMBER_EINVAL;
    size_t lbuf[EM_STACK_ARGS], *heap;
    const size_t *lens = arg_lens(argc, argv, argvlen, lbuf, &heap);
    if (!lens)
        return EMBER_ENOMEM;
    em_tree_sink t;
    ember__tree_sink_init(&t);
    int rc =
        ember__exec_command(&db->box->core, db->dbid, argc, argv, lens, &ember__tree_sink_ops, &t);
    free(heap);
    if (rc != EMBER_OK)
        return rc;
    *out = ember__tree_sink_take(&t);
    return *out ? EMBER_OK : EMBER_ENOMEM;
}

int ember__call_capture(ember_db *db, size_t argc, const char *const *argv, const size_t *lens,
                        em_capture_sink *cap, int want_bulk)
{
    if (!em_db_ok(db))
        return db ? EMBER_EMISUSE : EMBER_EINVAL;
    memset(cap, 0, sizeof *cap);
    cap->want_bulk = want_bulk;
    int rc = ember__exec_command(&db->box->core, db->dbid, argc, argv, lens,
                                 &ember__capture_sink_ops, cap);
    if (rc != EMBER_OK)
        return rc;
    if (cap->oom)
        return EMBER_ENOMEM;
    if (cap->type == EMBER_REPLY_ERROR)
        return cap->errcode ? cap->errcode : EMBER_EREPLY;
    return EMBER_OK;
}

/* ------------------------------------------------------------ replies */

EMBER_API int ember_reply_type(const ember_reply *r)
{
    return r ? r->type : EMBER_REPLY_NIL;
}

EMBER_API const char *ember_reply_str(const ember_reply *r, size_t *len)
{
    if (!r || !r->str) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->len;
    return r->str;
}

EMBER_API int64_t ember_reply_integer(const ember_reply *r)
{
    return r && (r->type == EMBER_REPLY_INTEGER || r->type == EMBER_REPLY_BOOL) ? r->u.i : 0;
}

EMBER_API double ember_reply_double(const ember_reply *r)
{
    if (!r)
        return 0.0;
    if (r->type == EMBER_REPLY_DOUBLE)
        return r->u.d;
    if (r->type == EMBER_REPLY_INTEGER)
        return (double)r->u.i;
    return 0.0;
}

static int is_agg(const ember_reply *r)
{
    return r && (r->type == EMBER_REPLY_ARRAY || r->type == EMBER_REPLY_MAP ||
                 r->type == EMBER_REPLY_SET);
}

EMBER_API size_t ember_reply_len(const ember_reply *r)
{
    return is_agg(r) ? r->len : 0;
}

EMBER_API const ember_reply *ember_reply_element(const ember_reply *r, size_t i)
{
    return is_agg(r) && i < r->len ? r->u.elems[i] : NULL;
}

EMBER_API int ember_reply_error_code(const ember_reply *r)
{
    return r && r->type == EMBER_REPLY_ERROR ? (r->errcode ? r->errcode : EMBER_EREPLY) : EMBER_OK;
}

EMBER_API void ember_reply_free(ember_reply *r)
{
    ember__reply_tree_free(r);
}

/* ------------------------------------------------------------ async */

EMBER_API int ember_command_async(ember_db *db, size_t argc, const char *const *argv,
                                  const size_t *argvlen, ember_cq *cq, ember_callback cb,
                                  void *userdata)
{
    if (!em_db_ok(db) || !cb || !args_ok(argc, argv, argvlen))
        return EMBER_EINVAL;
    if (cq && (cq->magic != EM_CQ_MAGIC || cq->core != &db->box->core))
        return EMBER_EINVAL;
    em_req *r = ember__req_new_async(db->dbid, argc, argv, argvlen);
    if (!r)
        return EMBER_ENOMEM;
    r->cb = cb;
    r->ud = userdata;
    r->cq = cq;
    int rc = ember__exec_async(&db->box->core, r);
    if (rc != EMBER_OK)
        free(r);
    return rc;
}

EMBER_API int ember_cq_open(ember_db *db, ember_cq **out)
{
    if (!em_db_ok(db) || !out)
        return EMBER_EINVAL;
    ember_cq *cq =
        aligned_alloc(EM_CACHELINE, (sizeof *cq + EM_CACHELINE - 1) & ~(size_t)(EM_CACHELINE - 1));
    if (!cq)
        return EMBER_ENOMEM;
    memset(cq, 0, sizeof *cq);
    cq->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (cq->fd < 0) {
        free(cq);
        return EMBER_EIO;
    }
    ember__mpsc_init(&cq->q);
    atomic_init(&cq->signaled, 0);
    atomic_init(&cq->completing, 0);
    cq->core = &db->box->core;
    cq->magic = EM_CQ_MAGIC;
    *out = cq;
    return EMBER_OK;
}

EMBER_API int ember_cq_fd(const ember_cq *cq)
{
    return cq && cq->magic == EM_CQ_MAGIC ? cq->fd : -1;
}

EMBER_API int ember_cq_poll(ember_cq *cq, size_t max, size_t *ran)
{
    if (!cq || cq->magic != EM_CQ_MAGIC)
        return EMBER_EINVAL;
    uint64_t v;
    ssize_t rd = read(cq->fd, &v, sizeof v); /* clears readiness; EAGAIN is fine */
    (void)rd;
    /* Clear the flag before popping: a completion pushed after this point
     * either is popped below or signals the descriptor again. */
    atomic_store_explicit(&cq->signaled, 0, memory_order_seq_cst);
    size_t n = 0;
    while (max == 0 || n < max) {
        em_mpsc_node *node = ember__mpsc_pop(&cq->q);
        if (!node || node == EM_MPSC_STALL)
            break; /* a push midway will signal the descriptor itself */
        em_req *r = (em_req *)node;
        struct ember_reply *rep = r->reply;
        r->reply = NULL;
        r->cb(r->ud, r->status, rep);
        ember__req_free_async(r);
        n++;
    }
    if (max && n == max && !ember__mpsc_idle(&cq->q)) {
        /* Completions remain: keep the descriptor readable. */
        if (atomic_exchange(&cq->signaled, 1) == 0) {
            uint64_t one = 1;
            ssize_t w = write(cq->fd, &one, sizeof one);
            (void)w;
        }
    }
    if (ran)
        *ran = n;
    return EMBER_OK;
}

EMBER_API void ember_cq_close(ember_cq *cq)
{
    if (!cq || cq->magic != EM_CQ_MAGIC)
        return;
    while (atomic_load_explicit(&cq->completing, memory_order_acquire) != 0)
        sched_yield(); /* the executor is finishing a hand-over: a few instructions */
    em_mpsc_node *node;
    while ((node = ember__mpsc_pop(&cq->q)) && node != EM_MPSC_STALL)
        ember__req_free_async((em_req *)node);
    close(cq->fd);
    cq->magic = 0;
    free(cq);
}

/* ------------------------------------------------------------ batches */

EMBER_API int ember_batch_new(ember_batch **out)
{
    if (!out)
        return EMBER_EINVAL;
    ember_batch *b = calloc(1, sizeof *b);
    if (!b)
        return EMBER_ENOMEM;
    b->magic = EM_BATCH_MAGIC;
    /* Commands are looked up as they are added: the table must be built. */
    ember__registry_init();
    *out = b;
    return EMBER_OK;
}

static int batch_ok(const ember_batch *b)
{
    return b && b->magic == EM_BATCH_MAGIC;
}

static void batch_free_replies(ember_batch *b)
{
    ember__arena_reset(&b->arena); /* replies live in the batch's arena */
    b->nreplies = 0;
}

/* 1 while an asynchronous execution owns the batch. */
static int batch_busy(const ember_batch *b)
{
    return atomic_load_explicit(&b->busy, memory_order_acquire) != 0;
}

EMBER_API int ember_batch_add(ember_batch *b, size_t argc, const char *const *argv,
                              const size_t *argvlen)
{
    if (!batch_ok(b) || !args_ok(argc, argv, argvlen))
        return EMBER_EINVAL;
    if (batch_busy(b))
        return EMBER_EMISUSE;
    return ember__batch_add(b, argc, argv, argvlen);
}

EMBER_API size_t ember_batch_count(const ember_batch *b)
{
    return batch_ok(b) ? b->ncmds : 0;
}

EMBER_API int ember_batch_exec(ember_db *db, ember_batch *b, int flags)
{
    if (!em_db_ok(db) || !batch_ok(b) || (flags & ~EMBER_BATCH_ATOMIC))
        return EMBER_EINVAL;
    if (batch_busy(b))
        return EMBER_EMISUSE;
    int rc = ember__batch_prepare(b);
    if (rc != EMBER_OK || b->ncmds == 0)
        return rc;
    return ember__exec_batch(&db->box->core, db->dbid, b, flags);
}

EMBER_API int ember_batch_exec_async(ember_db *db, ember_batch *b, int flags, ember_cq *cq,
                                     ember_callback cb, void *userdata)
{
    if (!em_db_ok(db) || !batch_ok(b) || !cb || (flags & ~EMBER_BATCH_ATOMIC))
        return EMBER_EINVAL;
    if (cq && (cq->magic != EM_CQ_MAGIC || cq->core != &db->box->core))
        return EMBER_EINVAL;
    if (batch_busy(b))
        return EMBER_EMISUSE;
    int rc = ember__batch_prepare(b);
    if (rc != EMBER_OK)
        return rc;
    em_req *r = calloc(1, sizeof *r);
    if (!r)
        return EMBER_ENOMEM;
    r->kind = EM_REQ_BATCH_ASYNC;
    r->dbid = db->dbid;
    r->batch = b;
    r->batch_flags = flags;
    r->cb = cb;
    r->ud = userdata;
    r->cq = cq;
    atomic_store_explicit(&b->busy, 1, memory_order_relaxed);
    rc = ember__exec_async(&db->box->core, r);
    if (rc != EMBER_OK) {
        atomic_store_explicit(&b->busy, 0, memory_order_relaxed);
        free(r);
    }
    return rc;
}

EMBER_API const ember_reply *ember_batch_reply(const ember_batch *b, size_t i)
{
    return batch_ok(b) && i < b->nreplies ? b->replies[i] : NULL;
}

EMBER_API void ember_batch_clear(ember_batch *b)
{
    if (!batch_ok(b) || batch_busy(b))
        return;
    batch_free_replies(b);
    b->ncmds = b->nargs = b->nbytes = 0;
}

EMBER_API void ember_batch_free(ember_batch *b)
{
    if (!batch_ok(b))
        return;
    ember__batch_destroy(b);
}

/* ------------------------------------------------------------ closures */

EMBER_API int ember_run(ember_db *db, ember_fn fn, void *userdata)
{
    if (!em_db_ok(db) || !fn)
        return EMBER_EINVAL;
    return ember__exec_run(&db->box->core, db, fn, userdata);
}
