/*
 * test_conc_blocking.c — blocking list commands across threads, through the
 * public header: several waiters on one key are served first come, first
 * served (as Redis); BLPOP on several keys; timeouts on a virtual clock;
 * timeout 0 waits forever; a push inside an atomic batch or an ember_run
 * closure serves waiters only after it completes; asynchronous callers get
 * their callback when served; BLMOVE chains; closing the database releases
 * every waiter with EMBER_ECLOSED. Worker threads record what they got; only
 * the main thread asserts.
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
#include <time.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

#define T0 1767225600000ll /* virtual clock start, Unix ms */

static ember_db *open_db(int virtual_clock)
{
    return ta_open(EMBER_MODE_EXECUTOR, virtual_clock ? T0 : -1, 0, NULL, NULL);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long blocked_clients(ember_db *db)
{
    const char *argv[] = {"INFO", "clients"};
    ember_reply *r;
    assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
    const char *p = strstr(ember_reply_str(r, NULL), "blocked_clients:");
    assert_non_null(p);
    long long n = strtoll(p + 16, NULL, 10);
    ember_reply_free(r);
    return n;
}

/* Waits (up to 10 s) until exactly n callers are blocked. */
static void wait_blocked(ember_db *db, long long n)
{
    for (int i = 0; i < 10000 && blocked_clients(db) != n; i++)
        sleep_ms(1);
    assert_int_equal(blocked_clients(db), n);
}

/* ------------------------------------------------------------ waiter threads */

typedef struct waiter {
    ember_db *db;
    pthread_t th;
    int argc;
    const char *argv[8];
    /* results, written by the thread, read by main after join */
    int rc;
    char got[256];
} waiter;

static void *waiter_main(void *arg)
{
    waiter *w = arg;
    ember_reply *r = NULL;
    w->rc = ember_command(w->db, (size_t)w->argc, w->argv, NULL, &r);
    if (w->rc == EMBER_OK) {
        ta_fmt(r, w->got, sizeof w->got);
        ember_reply_free(r);
    }
    return NULL;
}

/* Starts a waiter running argv and waits until it has blocked (the number
 * of blocked callers reaches `blocked`). */
static void start(waiter *w, ember_db *db, long long blocked, int argc, const char *const *argv)
{
    memset(w, 0, sizeof *w);
    w->db = db;
    w->argc = argc;
    for (int i = 0; i < argc; i++)
        w->argv[i] = argv[i];
    assert_int_equal(pthread_create(&w->th, NULL, waiter_main, w), 0);
    wait_blocked(db, blocked);
}

static void join(waiter *w)
{
    assert_int_equal(pthread_join(w->th, NULL), 0);
}

#define START(w, db, blocked, ...)                                                                 \
    do {                                                                                           \
        static const char *const argv_[] = {__VA_ARGS__};                                          \
        start(w, db, blocked, (int)(sizeof argv_ / sizeof argv_[0]), argv_);                       \
    } while (0)

/* ------------------------------------------------------------ tests */

/* Waiters on one key are served in the order they blocked, one element
 * each, whatever mix of commands they use. */
static void test_fifo(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    waiter w[4];
    START(&w[0], db, 1, "BLPOP", "q", "0");
    START(&w[1], db, 2, "BRPOP", "q", "0");
    START(&w[2], db, 3, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "2");
    START(&w[3], db, 4, "BLPOP", "q", "0");
    assert_string_equal(ta_run(db, "RPUSH q a b c d e"), ":5");
    for (int i = 0; i < 4; i++)
        join(&w[i]);
    assert_int_equal(w[0].rc, EMBER_OK);
    assert_string_equal(w[0].got, "*[$q|$a]");
    assert_string_equal(w[1].got, "*[$q|$e]");
    assert_string_equal(w[2].got, "*[$q|*[$b|$c]]");
    assert_string_equal(w[3].got, "*[$q|$d]");
    assert_string_equal(ta_run(db, "EXISTS q"), ":0");
    assert_int_equal(blocked_clients(db), 0);
    /* One element for two waiters: the first is served, the second waits. */
    START(&w[0], db, 1, "BLPOP", "q", "0");
    START(&w[1], db, 2, "BLPOP", "q", "0");
    assert_string_equal(ta_run(db, "LPUSH q x"), ":1");
    join(&w[0]);
    assert_string_equal(w[0].got, "*[$q|$x]");
    wait_blocked(db, 1);
    assert_string_equal(ta_run(db, "LPUSH q y"), ":1");
    join(&w[1]);
    assert_string_equal(w[1].got, "*[$q|$y]");
    ember_db_close(db);
}

/* BLPOP on several keys is served by whichever receives an element; a write
 * of another type does not serve it. */
static void test_several_keys(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    waiter w;
    START(&w, db, 1, "BLPOP", "k1", "k2", "k3", "0");
    assert_string_equal(ta_run(db, "SET k1 str"), "+OK");
    sleep_ms(5);
    assert_int_equal(blocked_clients(db), 1);
    assert_string_equal(ta_run(db, "RPUSH k3 c"), ":1");
    join(&w);
    assert_string_equal(w.got, "*[$k3|$c]");
    /* RENAME onto a waited key serves it. */
    START(&w, db, 1, "BRPOP", "k2", "0");
    assert_string_equal(ta_run(db, "RPUSH tmp a b"), ":2");
    assert_string_equal(ta_run(db, "RENAME tmp k2"), "+OK");
    join(&w);
    assert_string_equal(w.got, "*[$k2|$b]");
    ember_db_close(db);
}

/* Timeouts run on the store's clock: a virtual clock times a waiter out only
 * once it passes the deadline; timeout 0 never times out. */
static void test_virtual_timeouts(void **state)
{
    (void)state;
    ember_db *db = open_db(1);
    waiter w, forever;
    START(&w, db, 1, "BLPOP", "q", "5");
    START(&forever, db, 2, "BLMOVE", "q2", "d", "LEFT", "RIGHT", "0");
    assert_int_equal(ember_clock_advance(db, 5000), EMBER_OK); /* at the deadline */
    assert_int_equal(blocked_clients(db), 2);
    assert_int_equal(ember_clock_advance(db, 1), EMBER_OK);
    join(&w);
    assert_int_equal(w.rc, EMBER_OK);
    assert_string_equal(w.got, "(nil)");
    wait_blocked(db, 1);
    assert_int_equal(ember_clock_advance(db, INT64_C(1000000000)), EMBER_OK);
    assert_int_equal(blocked_clients(db), 1);
    assert_string_equal(ta_run(db, "RPUSH q2 v"), ":1");
    join(&forever);
    assert_string_equal(forever.got, "$v");
    assert_string_equal(ta_run(db, "LRANGE d 0 -1"), "*[$v]");
    /* Fractions of a second. */
    START(&w, db, 1, "BRPOPLPUSH", "none", "d", "0.25");
    assert_int_equal(ember_clock_advance(db, 251), EMBER_OK);
    join(&w);
    assert_string_equal(w.got, "(nil)");
    ember_db_close(db);
}

typedef struct typed_waiter {
    ember_db *db;
    int64_t timeout_ms;
    int rc;
    size_t which;
    char got[64];
} typed_waiter;

static void *typed_main(void *arg)
{
    typed_waiter *t = arg;
    const void *keys[] = {"a", "b"};
    size_t kl[] = {1, 1};
    void *v = NULL;
    size_t vl = 0;
    t->rc = ember_brpop(t->db, 2, keys, kl, t->timeout_ms, &t->which, &v, &vl);
    if (t->rc == EMBER_OK) {
        snprintf(t->got, sizeof t->got, "%.*s", (int)vl, (char *)v);
        ember_free(v);
    }
    return NULL;
}

static void test_typed_blocking(void **state)
{
    (void)state;
    ember_db *db = open_db(1);
    typed_waiter t = {db, 1500, -99, 0, ""};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, typed_main, &t), 0);
    wait_blocked(db, 1);
    assert_int_equal(ember_clock_advance(db, 1501), EMBER_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.rc, EMBER_ENOTFOUND);
    t.timeout_ms = 0;
    assert_int_equal(pthread_create(&th, NULL, typed_main, &t), 0);
    wait_blocked(db, 1);
    assert_string_equal(ta_run(db, "RPUSH b 1 2"), ":2");
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.rc, EMBER_OK);
    assert_int_equal(t.which, 1);
    assert_string_equal(t.got, "2");
    ember_db_close(db);
}

/* A push inside an atomic batch serves waiters only after the whole batch. */
static void test_batch_then_serve(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    waiter w;
    START(&w, db, 1, "BLPOP", "q", "0");
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *push[] = {"RPUSH", "q", "x"};
    const char *len[] = {"LLEN", "q"};
    const char *pop[] = {"LPOP", "q"};
    assert_int_equal(ember_batch_add(b, 3, push, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, len, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, pop, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    char out[64];
    ta_fmt(ember_batch_reply(b, 1), out, sizeof out);
    assert_string_equal(out, ":1"); /* nobody took it in between */
    ta_fmt(ember_batch_reply(b, 2), out, sizeof out);
    assert_string_equal(out, "$x");
    ember_batch_free(b);
    sleep_ms(5);
    assert_int_equal(blocked_clients(db), 1); /* the batch left nothing */
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *push2[] = {"RPUSH", "q", "y", "z"};
    assert_int_equal(ember_batch_add(b, 4, push2, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, len, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    ta_fmt(ember_batch_reply(b, 1), out, sizeof out);
    assert_string_equal(out, ":2");
    ember_batch_free(b);
    join(&w);
    assert_string_equal(w.got, "*[$q|$y]");
    assert_string_equal(ta_run(db, "LRANGE q 0 -1"), "*[$z]");
    ember_db_close(db);
}

/* A push inside an ember_run closure serves waiters after the closure. */
static int closure_push(ember_db *db, void *ud)
{
    int64_t *len = ud;
    const void *e[] = {"x"};
    size_t el[] = {1};
    int rc = ember_rpush(db, "q", 1, 1, e, el, NULL);
    if (rc == EMBER_OK)
        rc = ember_llen(db, "q", 1, len);
    return rc;
}

static void test_closure_then_serve(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    waiter w;
    START(&w, db, 1, "BRPOP", "q", "0");
    int64_t len = -1;
    assert_int_equal(ember_run(db, closure_push, &len), EMBER_OK);
    assert_int_equal(len, 1);
    join(&w);
    assert_string_equal(w.got, "*[$q|$x]");
    assert_string_equal(ta_run(db, "EXISTS q"), ":0");
    ember_db_close(db);
}

/* Asynchronous callers: the callback comes when they are served. */
typedef struct async_rec {
    atomic_int calls;
    int status;
    char got[64];
} async_rec;

static void on_reply(void *ud, int status, ember_reply *r)
{
    async_rec *a = ud;
    a->status = status;
    if (r) {
        ta_fmt(r, a->got, sizeof a->got);
        ember_reply_free(r);
    }
    atomic_fetch_add(&a->calls, 1);
}

static void test_async_waiters(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    ember_cq *cq;
    assert_int_equal(ember_cq_open(db, &cq), EMBER_OK);
    async_rec on_cq = {0}, on_exec = {0};
    const char *bl[] = {"BLPOP", "q", "0"};
    const char *br[] = {"BRPOP", "q", "0"};
    assert_int_equal(ember_command_async(db, 3, bl, NULL, cq, on_reply, &on_cq), EMBER_OK);
    wait_blocked(db, 1);
    assert_int_equal(ember_command_async(db, 3, br, NULL, NULL, on_reply, &on_exec), EMBER_OK);
    wait_blocked(db, 2);
    size_t ran = 0;
    assert_int_equal(ember_cq_poll(cq, 0, &ran), EMBER_OK);
    assert_int_equal(ran, 0);
    assert_string_equal(ta_run(db, "RPUSH q a b"), ":2");
    for (int i = 0; i < 10000 && !ran; i++) {
        assert_int_equal(ember_cq_poll(cq, 0, &ran), EMBER_OK);
        if (!ran)
            sleep_ms(1);
    }
    assert_int_equal(ran, 1);
    assert_int_equal(atomic_load(&on_cq.calls), 1);
    assert_int_equal(on_cq.status, EMBER_OK);
    assert_string_equal(on_cq.got, "*[$q|$a]");
    for (int i = 0; i < 10000 && !atomic_load(&on_exec.calls); i++)
        sleep_ms(1);
    assert_int_equal(atomic_load(&on_exec.calls), 1);
    assert_string_equal(on_exec.got, "*[$q|$b]");
    ember_db_close(db);
    ember_cq_close(cq);
}

/* One push runs a chain: a -> b -> c -> the BLPOP at the end. */
static void test_blmove_chain(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    waiter w[3];
    START(&w[0], db, 1, "BLPOP", "c", "0");
    START(&w[1], db, 2, "BLMOVE", "b", "c", "LEFT", "RIGHT", "0");
    START(&w[2], db, 3, "BRPOPLPUSH", "a", "b", "0");
    assert_string_equal(ta_run(db, "RPUSH a v"), ":1");
    for (int i = 0; i < 3; i++)
        join(&w[i]);
    assert_string_equal(w[2].got, "$v");
    assert_string_equal(w[1].got, "$v");
    assert_string_equal(w[0].got, "*[$c|$v]");
    assert_string_equal(ta_run(db, "DBSIZE"), ":0");
    /* A destination of the wrong type: the waiter gets WRONGTYPE and the
     * element stays in the source, as in Redis. */
    assert_string_equal(ta_run(db, "SET str x"), "+OK");
    START(&w[0], db, 1, "BLMOVE", "src", "str", "LEFT", "LEFT", "0");
    assert_string_equal(ta_run(db, "RPUSH src e"), ":1");
    join(&w[0]);
    assert_string_equal(w[0].got,
                        "-WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_string_equal(ta_run(db, "LRANGE src 0 -1"), "*[$e]");
    ember_db_close(db);
}

/* Closing releases every waiter, synchronous or not, with EMBER_ECLOSED. */
static void test_close_releases(void **state)
{
    (void)state;
    ember_db *db = open_db(0);
    waiter w[3];
    START(&w[0], db, 1, "BLPOP", "q", "0");
    START(&w[1], db, 2, "BLMPOP", "100", "2", "q", "r", "RIGHT");
    START(&w[2], db, 3, "BLMOVE", "q", "r", "LEFT", "LEFT", "0");
    typed_waiter t = {db, 0, -99, 0, ""};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, typed_main, &t), 0);
    wait_blocked(db, 4);
    async_rec a = {0};
    const char *bl[] = {"BLPOP", "z", "0"};
    assert_int_equal(ember_command_async(db, 3, bl, NULL, NULL, on_reply, &a), EMBER_OK);
    wait_blocked(db, 5);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    for (int i = 0; i < 3; i++) {
        join(&w[i]);
        assert_int_equal(w[i].rc, EMBER_ECLOSED);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.rc, EMBER_ECLOSED);
    assert_int_equal(atomic_load(&a.calls), 1);
    assert_int_equal(a.status, EMBER_ECLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_several_keys),
        cmocka_unit_test(test_virtual_timeouts),
        cmocka_unit_test(test_typed_blocking),
        cmocka_unit_test(test_batch_then_serve),
        cmocka_unit_test(test_closure_then_serve),
        cmocka_unit_test(test_async_waiters),
        cmocka_unit_test(test_blmove_chain),
        cmocka_unit_test(test_close_releases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
