/*
 * test_conc_exec.c — the executor under concurrency, through the public API:
 * exact counters, per-producer FIFO and exactly-once, async callbacks on the
 * executor and through a completion queue, atomic closures, batches, and
 * closing while other threads submit. Threads record; the main thread asserts.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

static ember_db *open_db(int mode)
{
    return ta_open(mode, -1, 0, NULL, NULL);
}

static int64_t get_int(ember_db *db, const char *key)
{
    const char *argv[] = {"GET", key};
    ember_reply *r;
    assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_STRING);
    int64_t v = strtoll(ember_reply_str(r, NULL), NULL, 10);
    ember_reply_free(r);
    return v;
}

/* ------------------------------------------------------------ INCR 8 x 100k */

typedef struct worker {
    ember_db *db;
    int id;
    int ops;
    int errors;       /* API failures */
    int order_errors; /* replies out of sequence */
} worker;

static void *incr_main(void *arg)
{
    worker *w = arg;
    char key[32];
    snprintf(key, sizeof key, "own:%d", w->id);
    for (int i = 0; i < w->ops; i++) {
        const char *shared[] = {"INCR", "shared"};
        const char *own[] = {"INCR", key};
        ember_reply *r;
        if (ember_command(w->db, 2, shared, NULL, &r) != EMBER_OK) {
            w->errors++;
            continue;
        }
        if (ember_reply_type(r) != EMBER_REPLY_INTEGER)
            w->errors++;
        ember_reply_free(r);
        /* The producer's own counter must answer 1, 2, 3... in order:
         * FIFO per producer, each request executed exactly once. */
        if (ember_command(w->db, 2, own, NULL, &r) != EMBER_OK) {
            w->errors++;
            continue;
        }
        if (ember_reply_integer(r) != i + 1)
            w->order_errors++;
        ember_reply_free(r);
    }
    return NULL;
}

static void test_incr_8_threads_100k(void **state)
{
    (void)state;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    enum { THREADS = 8, OPS = 100000 };
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){db, i, OPS, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, incr_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].errors, 0);
        assert_int_equal(w[i].order_errors, 0);
        char key[32];
        snprintf(key, sizeof key, "own:%d", i);
        assert_int_equal(get_int(db, key), OPS);
    }
    assert_int_equal(get_int(db, "shared"), (int64_t)THREADS * OPS);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------ async on the executor */

static _Atomic int64_t cb_count;
static _Atomic int64_t cb_bad;

static void count_cb(void *ud, int status, ember_reply *reply)
{
    if (status != EMBER_OK || ember_reply_type(reply) != EMBER_REPLY_INTEGER)
        atomic_fetch_add(&cb_bad, 1);
    /* The last reply per producer is checked by the submitter via ud. */
    if (ud)
        *(int64_t *)ud = ember_reply_integer(reply);
    ember_reply_free(reply);
    atomic_fetch_add(&cb_count, 1);
}

typedef struct async_worker {
    ember_db *db;
    int ops;
    int fails;
    int64_t last;
} async_worker;

static void *async_main(void *arg)
{
    async_worker *w = arg;
    for (int i = 0; i < w->ops; i++) {
        const char *argv[] = {"INCR", "async"};
        if (ember_command_async(w->db, 2, argv, NULL, NULL, count_cb,
                                i == w->ops - 1 ? &w->last : NULL) != EMBER_OK)
            w->fails++;
    }
    return NULL;
}

static void test_async_callbacks_exactly_once(void **state)
{
    (void)state;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    enum { THREADS = 4, OPS = 20000 };
    pthread_t th[THREADS];
    async_worker w[THREADS];
    atomic_store(&cb_count, 0);
    atomic_store(&cb_bad, 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (async_worker){db, OPS, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, async_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* A sync command queued after every async one completes after them. */
    int64_t total = get_int(db, "async");
    assert_int_equal(total, (int64_t)THREADS * OPS);
    assert_int_equal(atomic_load(&cb_count), (int64_t)THREADS * OPS);
    assert_int_equal(atomic_load(&cb_bad), 0);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(w[i].fails, 0);
        assert_true(w[i].last > 0 && w[i].last <= total);
    }
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------ completion queue */

typedef struct cq_ctx {
    int64_t expected_next;
    int order_errors;
    int done;
} cq_ctx;

static void cq_cb(void *ud, int status, ember_reply *reply)
{
    cq_ctx *c = ud;
    /* One producer, one key: completions arrive in submission order. */
    if (status != EMBER_OK || ember_reply_integer(reply) != c->expected_next)
        c->order_errors++;
    c->expected_next++;
    c->done++;
    ember_reply_free(reply);
}

static void test_completion_queue_fd(void **state)
{
    (void)state;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    ember_cq *cq;
    assert_int_equal(ember_cq_open(db, &cq), EMBER_OK);
    int fd = ember_cq_fd(cq);
    assert_true(fd >= 0);
    cq_ctx ctx = {1, 0, 0};
    enum { OPS = 5000 };
    for (int i = 0; i < OPS; i++) {
        const char *argv[] = {"INCR", "cq"};
        assert_int_equal(ember_command_async(db, 2, argv, NULL, cq, cq_cb, &ctx), EMBER_OK);
    }
    /* Callbacks run only here, on this thread, when we poll. */
    int rounds = 0;
    while (ctx.done < OPS && rounds < 100000) {
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, 1000);
        assert_true(n >= 0);
        size_t ran = 0;
        assert_int_equal(ember_cq_poll(cq, 100, &ran), EMBER_OK);
        rounds++;
    }
    assert_int_equal(ctx.done, OPS);
    assert_int_equal(ctx.order_errors, 0);
    /* Nothing left: the descriptor is not readable any more. */
    struct pollfd p = {fd, POLLIN, 0};
    size_t ran = 1;
    assert_int_equal(ember_cq_poll(cq, 0, &ran), EMBER_OK);
    assert_int_equal(ran, 0);
    assert_int_equal(poll(&p, 1, 0), 0);
    ember_cq_close(cq);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------ closures are atomic */

static int read_modify_write(ember_db *db, void *ud)
{
    (void)ud;
    /* GET then SET: without atomicity concurrent closures would lose updates. */
    const char *get[] = {"GET", "rmw"};
    ember_reply *r;
    if (ember_command(db, 2, get, NULL, &r) != EMBER_OK)
        return -100;
    long long v = ember_reply_type(r) == EMBER_REPLY_STRING ? atoll(ember_reply_str(r, NULL)) : 0;
    ember_reply_free(r);
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v + 1);
    const char *set[] = {"SET", "rmw", buf};
    if (ember_command(db, 3, set, NULL, &r) != EMBER_OK)
        return -101;
    ember_reply_free(r);
    return 7;
}

typedef struct run_worker {
    ember_db *db;
    int ops;
    int bad;
} run_worker;

static void *run_main(void *arg)
{
    run_worker *w = arg;
    for (int i = 0; i < w->ops; i++)
        if (ember_run(w->db, read_modify_write, NULL) != 7)
            w->bad++;
    return NULL;
}

static void test_run_closures_atomic(void **state)
{
    (void)state;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    enum { THREADS = 4, OPS = 5000 };
    pthread_t th[THREADS];
    run_worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (run_worker){db, OPS, 0};
        assert_int_equal(pthread_create(&th[i], NULL, run_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(w[i].bad, 0);
    assert_int_equal(get_int(db, "rmw"), (int64_t)THREADS * OPS);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------ batches from many threads */

static void *batch_main(void *arg)
{
    run_worker *w = arg;
    ember_batch *b;
    if (ember_batch_new(&b) != EMBER_OK) {
        w->bad++;
        return NULL;
    }
    for (int i = 0; i < 64; i++) {
        const char *argv[] = {"INCR", "batched"};
        ember_batch_add(b, 2, argv, NULL);
    }
    for (int i = 0; i < w->ops; i++) {
        int flags = (i & 1) ? EMBER_BATCH_ATOMIC : EMBER_BATCH_PIPELINE;
        if (ember_batch_exec(w->db, b, flags) != EMBER_OK) {
            w->bad++;
            continue;
        }
        /* Nothing interleaves inside one batch: its replies are consecutive. */
        int64_t first = ember_reply_integer(ember_batch_reply(b, 0));
        for (size_t j = 1; j < 64; j++)
            if (ember_reply_integer(ember_batch_reply(b, j)) != first + (int64_t)j)
                w->bad++;
    }
    ember_batch_free(b);
    return NULL;
}

static void test_batches_do_not_interleave(void **state)
{
    (void)state;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    enum { THREADS = 4, OPS = 500 };
    pthread_t th[THREADS];
    run_worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (run_worker){db, OPS, 0};
        assert_int_equal(pthread_create(&th[i], NULL, batch_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(w[i].bad, 0);
    assert_int_equal(get_int(db, "batched"), (int64_t)THREADS * OPS * 64);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------ close under load */

typedef struct closer_worker {
    ember_db *view;
    int64_t ok, closed, other, ok_after_closed;
    int64_t async_accepted;
} closer_worker;

static _Atomic int64_t close_cb_count;

static void close_cb(void *ud, int status, ember_reply *reply)
{
    (void)ud;
    (void)status;
    ember_reply_free(reply);
    atomic_fetch_add(&close_cb_count, 1);
}

static void *closer_main(void *arg)
{
    closer_worker *w = arg;
    for (;;) {
        const char *argv[] = {"INCR", "c"};
        ember_reply *r = NULL;
        int rc = ember_command(w->view, 2, argv, NULL, &r);
        if (rc == EMBER_OK) {
            if (w->closed)
                w->ok_after_closed++;
            __atomic_fetch_add(&w->ok, 1, __ATOMIC_RELAXED);
            ember_reply_free(r);
        } else if (rc == EMBER_ECLOSED) {
            w->closed++;
            if (w->closed > 100)
                break;
        } else {
            w->other++;
        }
        if (ember_command_async(w->view, 2, argv, NULL, NULL, close_cb, NULL) == EMBER_OK)
            w->async_accepted++;
    }
    return NULL;
}

static void test_close_while_submitting(void **state)
{
    (void)state;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    closer_worker w[THREADS];
    atomic_store(&close_cb_count, 0);
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        assert_int_equal(ember_db_view(db, 0, &w[i].view), EMBER_OK);
        assert_int_equal(pthread_create(&th[i], NULL, closer_main, &w[i]), 0);
    }
    /* Let them run a little, then close the root under their feet. */
    for (;;) {
        int64_t total = 0;
        for (int i = 0; i < THREADS; i++)
            total += __atomic_load_n(&w[i].ok, __ATOMIC_RELAXED);
        if (total > 20000)
            break;
        sched_yield();
    }
    assert_int_equal(ember_db_close(db), EMBER_OK);
    int64_t accepted = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].other, 0);
        assert_int_equal(w[i].ok_after_closed, 0);
        assert_true(w[i].closed > 0);
        accepted += w[i].async_accepted;
        /* A view of a closed store still answers, with EMBER_ECLOSED. */
        const char *argv[] = {"PING"};
        ember_reply *r;
        assert_int_equal(ember_command(w[i].view, 1, argv, NULL, &r), EMBER_ECLOSED);
        assert_int_equal(ember_db_close(w[i].view), EMBER_OK);
    }
    /* Every accepted async submission got its callback exactly once. */
    assert_int_equal(atomic_load(&close_cb_count), accepted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incr_8_threads_100k),
        cmocka_unit_test(test_async_callbacks_exactly_once),
        cmocka_unit_test(test_completion_queue_fd),
        cmocka_unit_test(test_run_closures_atomic),
        cmocka_unit_test(test_batches_do_not_interleave),
        cmocka_unit_test(test_close_while_submitting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
