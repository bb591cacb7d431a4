/*
 * test_api.c — the public API's contract: versions and status names,
 * configuration, open/close, replies, errors as replies, batches (pipeline and
 * atomic, sync and async), closures and re-entrancy, views, the virtual clock, allocator hooks,
 * inline mode. Only <ember.h> is used.
 */
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

static ember_db *open_mode(int mode, int64_t virtual_start)
{
    return ta_open(mode, virtual_start, 0, NULL, NULL);
}

static void test_version_and_status_names(void **state)
{
    (void)state;
    assert_string_equal(ember_version(), "0.1.0");
    assert_int_equal(ember_version_number(), EMBER_VERSION_NUMBER);
    assert_int_equal(EMBER_VERSION_NUM(0, 1, 0), 100);
    assert_non_null(strstr(ember_strerror(EMBER_EWRONGTYPE), "EMBER_EWRONGTYPE"));
    assert_non_null(strstr(ember_strerror(EMBER_OK), "EMBER_OK"));
    assert_string_equal(ember_strerror(12345), "unknown ember status");
    /* Every defined code has its own name. */
    for (int c = EMBER_ENOTSUP; c < EMBER_OK; c++)
        assert_string_not_equal(ember_strerror(c), "unknown ember status");
    ember_free(NULL);
}

static void test_config_builder(void **state)
{
    (void)state;
    ember_config *cfg;
    char *v;
    assert_int_equal(ember_config_new(NULL), EMBER_EINVAL);
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set(cfg, "maxmemory", "100mb"), EMBER_OK);
    assert_int_equal(ember_config_get(cfg, "maxmemory", &v), EMBER_OK);
    assert_string_equal(v, "104857600");
    ember_free(v);
    assert_int_equal(ember_config_set(cfg, "MAXMEMORY-POLICY", "allkeys-lru"), EMBER_OK);
    assert_int_equal(ember_config_get(cfg, "maxmemory-policy", &v), EMBER_OK);
    assert_string_equal(v, "allkeys-lru");
    ember_free(v);
    assert_int_equal(ember_config_set(cfg, "no-such-thing", "1"), EMBER_EINVAL);
    assert_int_equal(ember_config_set(cfg, "hz", "abc"), EMBER_EINVAL);
    assert_int_equal(ember_config_set(cfg, "maxmemory", "-5"), EMBER_EINVAL);
    assert_int_equal(ember_config_set(cfg, NULL, "1"), EMBER_EINVAL);
    assert_int_equal(ember_config_set(cfg, "databases", "4"), EMBER_OK); /* allowed at open */
    assert_int_equal(ember_config_get(cfg, "nope", &v), EMBER_EINVAL);
    assert_int_equal(ember_config_set_mode(cfg, 7), EMBER_EINVAL);
    assert_int_equal(ember_config_set_databases(cfg, 0), EMBER_EINVAL);
    assert_int_equal(ember_config_set_databases(cfg, 1025), EMBER_EINVAL);
    assert_int_equal(ember_config_set_virtual_clock(cfg, -1), EMBER_EINVAL);
    assert_int_equal(ember_config_set_allocator(cfg, NULL, NULL, NULL, NULL, NULL), EMBER_EINVAL);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg); /* the database keeps no reference */
    ta_expect_status(CMD(db, "SET", "k", "v"), "OK");
    ember_reply *r = CMD(db, "CONFIG", "GET", "maxmemory");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_MAP);
    assert_int_equal(ember_reply_len(r), 2);
    assert_string_equal(ember_reply_str(ember_reply_element(r, 0), NULL), "maxmemory");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "104857600");
    ember_reply_free(r);
    /* 4 databases: a view of database 4 is out of range. */
    ember_db *view;
    assert_int_equal(ember_db_view(db, 4, &view), EMBER_EINVAL);
    assert_int_equal(ember_db_view(db, 3, &view), EMBER_OK);
    assert_int_equal(ember_db_close(view), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    ember_config_free(NULL);
}

static void test_open_close_and_bad_arguments(void **state)
{
    (void)state;
    ember_db *db;
    ember_reply *r;
    assert_int_equal(ember_db_open(NULL, NULL), EMBER_EINVAL);
    assert_int_equal(ember_db_close(NULL), EMBER_OK);
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_db_index(db), 0);
    assert_int_equal(ember_db_index(NULL), -1);
    const char *argv[] = {"PING"};
    assert_int_equal(ember_command(NULL, 1, argv, NULL, &r), EMBER_EINVAL);
    assert_int_equal(ember_command(db, 0, argv, NULL, &r), EMBER_EINVAL);
    assert_int_equal(ember_command(db, 1, NULL, NULL, &r), EMBER_EINVAL);
    assert_int_equal(ember_command(db, 1, argv, NULL, NULL), EMBER_EINVAL);
    const char *nullarg[] = {"ECHO", NULL};
    size_t lens[] = {4, 3};
    assert_int_equal(ember_command(db, 2, nullarg, lens, &r), EMBER_EINVAL);
    lens[1] = 0; /* NULL with length 0 is the empty string */
    r = NULL;
    assert_int_equal(ember_command(db, 2, nullarg, lens, &r), EMBER_OK);
    ta_expect_bulk(r, "");
    /* Not a handle: a misuse, caught by the magic number. */
    char fake[64] = {0};
    assert_int_equal(ember_command((ember_db *)fake, 1, argv, NULL, &r), EMBER_EMISUSE);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_errors_are_replies(void **state)
{
    (void)state;
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR, -1);
    ember_reply *r = CMD(db, "NOSUCH", "a", "b");
    assert_int_equal(ember_reply_error_code(r), EMBER_EUNKNOWN);
    ta_expect_error(r, "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ");
    r = CMD(db, "PING", "a", "b");
    assert_int_equal(ember_reply_error_code(r), EMBER_EARITY);
    ta_expect_error(r, "ERR wrong number of arguments for 'ping' command");
    ta_expect_error(CMD(db, "CONFIG"), "ERR wrong number of arguments for 'config' command");
    ta_expect_error(CMD(db, "config", "foo"), "ERR unknown subcommand 'foo'. Try CONFIG HELP.");
    ta_expect_error(CMD(db, "CONFIG", "GET"),
                    "ERR wrong number of arguments for 'config|get' command");
    ta_expect_error(CMD(db, "CONFIG", "SET", "hz"),
                    "ERR wrong number of arguments for 'config|set' command");
    ta_expect_error(CMD(db, "CONFIG", "SET", "databases", "4"),
                    "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set "
                    "immutable config");
    ta_expect_error(CMD(db, "CONFIG", "SET", "nosuch", "1"),
                    "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
    ta_expect_error(
        CMD(db, "CONFIG", "SET", "hz", "abc"),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be "
        "parsed into an integer");
    ta_expect_error(CMD(db, "CONFIG", "SET", "maxmemory-policy", "foo"),
                    "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
                    "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                    "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
                    "noeviction");
    /* CONFIG SET is all or nothing. */
    ta_expect_error(
        CMD(db, "CONFIG", "SET", "hz", "20", "maxmemory", "x"),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must "
        "be a memory value");
    r = CMD(db, "CONFIG", "GET", "hz");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "10");
    ember_reply_free(r);
    ta_expect_status(CMD(db, "CONFIG", "SET", "hz", "20", "maxmemory", "1gb"), "OK");
    r = CMD(db, "CONFIG", "GET", "hz", "maxmemory");
    assert_int_equal(ember_reply_len(r), 4);
    ember_reply_free(r);
    ta_expect_error(CMD(db, "SELECT", "x"), "ERR value is not an integer or out of range");
    r = CMD(db, "SELECT", "1");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ERROR); /* not on a shared handle */
    ember_reply_free(r);
    ta_expect_error(CMD(db, "ECHO"), "ERR wrong number of arguments for 'echo' command");
    ta_expect_status(CMD(db, "PING"), "PONG");
    ta_expect_bulk(CMD(db, "ping", "hello"), "hello");
    ta_expect_bulk(CMD(db, "EcHo", "x"), "x");
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_reply_accessors(void **state)
{
    (void)state;
    assert_int_equal(ember_reply_type(NULL), EMBER_REPLY_NIL);
    assert_null(ember_reply_str(NULL, NULL));
    assert_int_equal(ember_reply_integer(NULL), 0);
    assert_true(ember_reply_double(NULL) == 0.0);
    assert_int_equal(ember_reply_len(NULL), 0);
    assert_null(ember_reply_element(NULL, 0));
    assert_int_equal(ember_reply_error_code(NULL), EMBER_OK);
    ember_reply_free(NULL);
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR, 1700000000123);
    ember_reply *r = CMD(db, "TIME");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
    assert_int_equal(ember_reply_len(r), 2);
    assert_string_equal(ember_reply_str(ember_reply_element(r, 0), NULL), "1700000000");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "123000");
    assert_null(ember_reply_element(r, 2));
    size_t len = 99;
    assert_null(ember_reply_str(r, &len)); /* an array has no bytes */
    assert_int_equal(len, 0);
    assert_int_equal(ember_reply_integer(ember_reply_element(r, 0)), 0);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    /* Replies outlive their database. */
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), &len), "123000");
    assert_int_equal(len, 6);
    ember_reply_free(r);
}

static void test_binary_safe_arguments(void **state)
{
    (void)state;
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR, -1);
    const char key[] = {'a', 0, 'b'};
    const char val[] = {0, 1, 2, 0, '\r', '\n'};
    const char *argv[] = {"SET", key, val};
    size_t lens[] = {3, 3, 6};
    ember_reply *r;
    assert_int_equal(ember_command(db, 3, argv, lens, &r), EMBER_OK);
    ta_expect_status(r, "OK");
    const char *get[] = {"GET", key};
    size_t glens[] = {3, 3};
    assert_int_equal(ember_command(db, 2, get, glens, &r), EMBER_OK);
    size_t n;
    const char *s = ember_reply_str(r, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(s, val, 6);
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_batches(void **state)
{
    (void)state;
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR, -1);
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    assert_int_equal(ember_batch_count(b), 0);
    assert_int_equal(ember_batch_exec(db, b, 0), EMBER_OK); /* empty is fine */
    const char *c1[] = {"SET", "k", "1"};
    const char *c2[] = {"INCR", "k"};
    const char *c3[] = {"SELECT", "2"};
    const char *c4[] = {"SET", "k", "in-db-2"};
    const char *c5[] = {"GET", "k"};
    assert_int_equal(ember_batch_add(b, 3, c1, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, c2, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, c3, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 3, c4, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, c5, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 0, c5, NULL), EMBER_EINVAL);
    assert_int_equal(ember_batch_count(b), 5);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_PIPELINE), EMBER_OK);
    assert_string_equal(ember_reply_str(ember_batch_reply(b, 0), NULL), "OK");
    assert_int_equal(ember_reply_integer(ember_batch_reply(b, 1)), 2);
    assert_string_equal(ember_reply_str(ember_batch_reply(b, 2), NULL), "OK");
    assert_string_equal(ember_reply_str(ember_batch_reply(b, 4), NULL), "in-db-2");
    assert_null(ember_batch_reply(b, 5));
    /* SELECT lasted only for the batch: the handle still addresses db 0. */
    ta_expect_bulk(CMD(db, "GET", "k"), "2");
    ember_db *v2;
    assert_int_equal(ember_db_view(db, 2, &v2), EMBER_OK);
    ta_expect_bulk(CMD(v2, "GET", "k"), "in-db-2");
    assert_int_equal(ember_db_close(v2), EMBER_OK);

    /* Atomic: a command that cannot be queued aborts everything. */
    ember_batch_clear(b);
    assert_int_equal(ember_batch_count(b), 0);
    const char *bad[] = {"NOSUCHCMD"};
    const char *arity[] = {"GET"};
    const char *c6[] = {"SET", "k", "never"};
    assert_int_equal(ember_batch_add(b, 3, c6, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 1, bad, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 1, arity, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_EABORT);
    assert_string_equal(ember_reply_str(ember_batch_reply(b, 0), NULL),
                        "EXECABORT Transaction discarded because of previous errors.");
    assert_int_equal(ember_reply_error_code(ember_batch_reply(b, 0)), EMBER_EABORT);
    assert_string_equal(ember_reply_str(ember_batch_reply(b, 1), NULL),
                        "ERR unknown command 'NOSUCHCMD', with args beginning with: ");
    assert_string_equal(ember_reply_str(ember_batch_reply(b, 2), NULL),
                        "ERR wrong number of arguments for 'get' command");
    ta_expect_bulk(CMD(db, "GET", "k"), "2"); /* unchanged */
    /* Runtime errors inside an atomic batch do not stop the others. */
    ember_batch_clear(b);
    const char *c7[] = {"SET", "s", "notanumber"};
    const char *c8[] = {"INCR", "s"};
    const char *c9[] = {"SET", "after", "yes"};
    ember_batch_add(b, 3, c7, NULL);
    ember_batch_add(b, 2, c8, NULL);
    ember_batch_add(b, 3, c9, NULL);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    assert_int_equal(ember_reply_error_code(ember_batch_reply(b, 1)), EMBER_ENOTINT);
    ta_expect_bulk(CMD(db, "GET", "after"), "yes");
    assert_int_equal(ember_batch_exec(db, b, 99), EMBER_EINVAL);
    ember_batch_free(b);
    ember_batch_free(NULL);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static int nested_inner(ember_db *db, void *ud)
{
    (void)ud;
    ember_reply *r;
    const char *argv[] = {"INCR", "nested"};
    return ember_command(db, 2, argv, NULL, &r) == EMBER_OK ? (ember_reply_free(r), 5) : -1;
}

static int closure_checks(ember_db *db, void *ud)
{
    int *results = ud;
    /* Re-entrant calls from the executor run directly instead of deadlocking. */
    results[0] = ember_run(db, nested_inner, NULL);
    results[1] = ember_db_close(db);          /* not from the executor */
    results[2] = ember_clock_advance(db, 10); /* likewise */
    ember_batch *b;
    ember_batch_new(&b);
    const char *argv[] = {"INCR", "nested"};
    ember_batch_add(b, 2, argv, NULL);
    results[3] = ember_batch_exec(db, b, 0);
    results[4] = (int)ember_reply_integer(ember_batch_reply(b, 0));
    ember_batch_free(b);
    return 42;
}

static _Atomic int async_from_cb_done;

static void inner_cb(void *ud, int status, ember_reply *r)
{
    (void)ud;
    if (status == EMBER_OK && ember_reply_type(r) == EMBER_REPLY_STATUS)
        atomic_store(&async_from_cb_done, 2);
    ember_reply_free(r);
}

static void outer_cb(void *ud, int status, ember_reply *r)
{
    ember_db *db = ud;
    ember_reply_free(r);
    /* From a callback on the executor: a sync call runs directly... */
    ember_reply *x;
    const char *argv[] = {"SET", "from-cb", "1"};
    if (status == EMBER_OK && ember_command(db, 3, argv, NULL, &x) == EMBER_OK) {
        ember_reply_free(x);
        /* ...and an async one is queued and completes later. */
        const char *ping[] = {"PING"};
        int expect = 0; /* inline mode may already have run inner_cb (-> 2) */
        if (ember_command_async(db, 1, ping, NULL, NULL, inner_cb, NULL) == EMBER_OK)
            atomic_compare_exchange_strong(&async_from_cb_done, &expect, 1);
    }
}

static void test_run_and_reentrancy(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        ember_db *db = open_mode(mode, 1000000);
        int results[5] = {0};
        assert_int_equal(ember_run(db, closure_checks, results), 42);
        assert_int_equal(results[0], 5);
        assert_int_equal(results[1], EMBER_EMISUSE);
        assert_int_equal(results[2], EMBER_EMISUSE);
        assert_int_equal(results[3], EMBER_OK);
        assert_int_equal(results[4], 2);
        assert_int_equal(ember_run(db, NULL, NULL), EMBER_EINVAL);
        atomic_store(&async_from_cb_done, 0);
        const char *ping[] = {"PING"};
        assert_int_equal(ember_command_async(db, 1, ping, NULL, NULL, outer_cb, db), EMBER_OK);
        for (int i = 0; i < 1000000 && atomic_load(&async_from_cb_done) != 2; i++)
            sched_yield();
        assert_int_equal(atomic_load(&async_from_cb_done), 2);
        ta_expect_bulk(CMD(db, "GET", "from-cb"), "1");
        assert_int_equal(ember_db_close(db), EMBER_OK);
    }
}

static void test_views(void **state)
{
    (void)state;
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR, -1);
    ember_db *v1, *v15;
    assert_int_equal(ember_db_view(db, 1, &v1), EMBER_OK);
    assert_int_equal(ember_db_view(db, 15, &v15), EMBER_OK);
    assert_int_equal(ember_db_view(db, 16, &v15), EMBER_EINVAL);
    assert_int_equal(ember_db_view(db, -1, &v15), EMBER_EINVAL);
    assert_int_equal(ember_db_index(v1), 1);
    ta_expect_status(CMD(v1, "SET", "k", "one"), "OK");
    ember_reply *r = CMD(db, "GET", "k");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_NIL);
    ember_reply_free(r);
    ta_expect_bulk(CMD(v1, "GET", "k"), "one");
    r = CMD(db, "INFO", "keyspace");
    assert_non_null(strstr(ember_reply_str(r, NULL), "db1:keys=1,expires=0"));
    ember_reply_free(r);
    /* Closing a view leaves the store and other views alone. */
    assert_int_equal(ember_db_close(v15), EMBER_OK);
    ta_expect_bulk(CMD(v1, "GET", "k"), "one");
    assert_int_equal(ember_db_close(v1), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_virtual_clock(void **state)
{
    (void)state;
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR, 5000);
    int64_t now;
    assert_int_equal(ember_clock_now(db, &now), EMBER_OK);
    assert_int_equal(now, 5000);
    assert_int_equal(ember_clock_advance(db, 1500), EMBER_OK);
    assert_int_equal(ember_clock_now(db, &now), EMBER_OK);
    assert_int_equal(now, 6500);
    assert_int_equal(ember_clock_advance(db, -1), EMBER_EINVAL);
    assert_int_equal(ember_clock_set(db, 6000), EMBER_EINVAL); /* backwards */
    assert_int_equal(ember_clock_set(db, 9000), EMBER_OK);
    ember_reply *r = CMD(db, "TIME");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 0), NULL), "9");
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    db = open_mode(EMBER_MODE_EXECUTOR, -1);
    assert_int_equal(ember_clock_advance(db, 1), EMBER_ENOTSUP);
    assert_int_equal(ember_clock_set(db, 1), EMBER_ENOTSUP);
    assert_int_equal(ember_clock_now(db, &now), EMBER_OK);
    assert_true(now > 1600000000000ll);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static _Atomic long hook_allocs, hook_frees;

static void *h_malloc(void *ctx, size_t n)
{
    assert_ptr_equal(ctx, &hook_allocs);
    atomic_fetch_add(&hook_allocs, 1);
    return malloc(n);
}
static void *h_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (!p)
        atomic_fetch_add(&hook_allocs, 1);
    return realloc(p, n);
}
static void h_free(void *ctx, void *p)
{
    (void)ctx;
    if (p)
        atomic_fetch_add(&hook_frees, 1);
    free(p);
}
static size_t h_usable(void *ctx, const void *p)
{
    (void)ctx;
    return malloc_usable_size((void *)p);
}

static void test_allocator_hooks_and_memory_info(void **state)
{
    (void)state;
    ember_config *cfg;
    ember_db *db;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(
        ember_config_set_allocator(cfg, h_malloc, h_realloc, h_free, h_usable, &hook_allocs),
        EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    long before = atomic_load(&hook_allocs);
    assert_true(before > 0); /* the databases' own structures */
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        ta_expect_status(CMD(db, "SET", k, "value"), "OK");
    }
    assert_true(atomic_load(&hook_allocs) >= before + 100);
    ember_reply *r = CMD(db, "INFO", "memory");
    const char *info = ember_reply_str(r, NULL);
    const char *p = strstr(info, "used_memory:");
    assert_non_null(p);
    assert_true(strtoll(p + 12, NULL, 10) > 100 * 16);
    assert_non_null(strstr(info, "# Memory\r\n"));
    assert_null(strstr(info, "# Server"));
    ember_reply_free(r);
    r = CMD(db, "INFO");
    info = ember_reply_str(r, NULL);
    assert_non_null(strstr(info, "# Server\r\n"));
    assert_non_null(strstr(info, "\r\n\r\n# Stats\r\n"));
    assert_non_null(strstr(info, "db0:keys=100,expires=0"));
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    /* Everything the store allocated through the hooks went back through them. */
    assert_int_equal(atomic_load(&hook_allocs), atomic_load(&hook_frees));
}

static _Atomic int inline_cb_calls;

static void inline_cb(void *ud, int status, ember_reply *r)
{
    (void)ud;
    if (status == EMBER_OK && ember_reply_integer(r) == 1)
        atomic_fetch_add(&inline_cb_calls, 1);
    ember_reply_free(r);
}

static void test_inline_mode(void **state)
{
    (void)state;
    ember_db *db = open_mode(EMBER_MODE_INLINE, -1);
    ta_expect_status(CMD(db, "SET", "a", "1"), "OK");
    const char *argv[] = {"INCR", "fresh"};
    atomic_store(&inline_cb_calls, 0);
    assert_int_equal(ember_command_async(db, 2, argv, NULL, NULL, inline_cb, NULL), EMBER_OK);
    assert_int_equal(atomic_load(&inline_cb_calls), 1); /* ran before returning */
    ember_reply *r = CMD(db, "INFO", "server");
    assert_non_null(strstr(ember_reply_str(r, NULL), "ember_mode:inline"));
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* Async batches: completion on the executor and through a completion
 * queue, the batch owned by ember while in flight, several in flight from one
 * thread keeping their order, the EXECABORT status, inline mode. */
typedef struct abatch_done {
    _Atomic int calls;
    _Atomic int status;
} abatch_done;

static void abatch_cb(void *ud, int status, ember_reply *reply)
{
    abatch_done *d = ud;
    atomic_store(&d->status, status);
    if (reply) /* batches report no reply tree: flag it as a wrong status */
        atomic_store(&d->status, 12345);
    ember_reply_free(reply);
    atomic_fetch_add(&d->calls, 1);
}

static void wait_calls(abatch_done *d, int n)
{
    for (int i = 0; i < 2000000 && atomic_load(&d->calls) < n; i++)
        sched_yield();
}

static void run_async_batches(int mode)
{
    ember_db *db = open_mode(mode, -1);
    ember_batch *b[4];
    abatch_done done[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ember_batch_new(&b[i]), EMBER_OK);
        atomic_init(&done[i].calls, 0);
        atomic_init(&done[i].status, -999);
        for (int j = 0; j < 50; j++) {
            const char *incr[] = {"INCR", "n"};
            assert_int_equal(ember_batch_add(b[i], 2, incr, NULL), EMBER_OK);
        }
    }
    /* Four in flight at once, no completion queue: callbacks on the executor. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            ember_batch_exec_async(db, b[i], EMBER_BATCH_PIPELINE, NULL, abatch_cb, &done[i]),
            EMBER_OK);
    for (int i = 0; i < 4; i++) {
        wait_calls(&done[i], 1);
        assert_int_equal(atomic_load(&done[i].calls), 1);
        assert_int_equal(atomic_load(&done[i].status), EMBER_OK);
        /* Submitted in order from one thread: they ran in order. */
        const ember_reply *last = ember_batch_reply(b[i], 49);
        assert_non_null(last);
        assert_int_equal(ember_reply_integer(last), 50 * (i + 1));
    }

    /* Through a completion queue: the callback waits for ember_cq_poll(). */
    ember_cq *cq;
    assert_int_equal(ember_cq_open(db, &cq), EMBER_OK);
    atomic_store(&done[0].calls, 0);
    assert_int_equal(ember_batch_exec_async(db, b[0], EMBER_BATCH_ATOMIC, cq, abatch_cb, &done[0]),
                     EMBER_OK);
    if (mode == EMBER_MODE_EXECUTOR) {
        /* While in flight the batch is ember's (it may already have run). */
        int rc = ember_batch_exec_async(db, b[0], 0, cq, abatch_cb, &done[0]);
        assert_true(rc == EMBER_EMISUSE || rc == EMBER_OK);
        if (rc == EMBER_OK)
            atomic_fetch_sub(&done[0].calls, 1); /* the first one had finished: count one */
    }
    size_t ran = 0;
    for (int i = 0; i < 2000000 && atomic_load(&done[0].calls) < 1; i++) {
        assert_int_equal(ember_cq_poll(cq, 0, &ran), EMBER_OK);
        sched_yield();
    }
    assert_true(atomic_load(&done[0].calls) >= 1);
    assert_int_equal(atomic_load(&done[0].status), EMBER_OK);
    for (int i = 0; i < 200000; i++) { /* drain a possible second completion */
        ember_cq_poll(cq, 0, &ran);
        if (ember_batch_add(b[0], 2, (const char *[]){"PING", "x"}, NULL) == EMBER_OK)
            break;
        sched_yield();
    }

    /* An atomic batch with an unknown command: status EMBER_EABORT. */
    ember_batch_clear(b[1]);
    assert_int_equal(ember_batch_add(b[1], 2, (const char *[]){"INCR", "n"}, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b[1], 1, (const char *[]){"NOSUCHCMD"}, NULL), EMBER_OK);
    atomic_store(&done[1].calls, 0);
    assert_int_equal(
        ember_batch_exec_async(db, b[1], EMBER_BATCH_ATOMIC, NULL, abatch_cb, &done[1]), EMBER_OK);
    wait_calls(&done[1], 1);
    assert_int_equal(atomic_load(&done[1].status), EMBER_EABORT);
    const ember_reply *e = ember_batch_reply(b[1], 1);
    assert_non_null(e);
    assert_int_equal(ember_reply_type(e), EMBER_REPLY_ERROR);
    assert_non_null(strstr(ember_reply_str(e, NULL), "unknown command"));

    /* Bad arguments: no callback. */
    assert_int_equal(ember_batch_exec_async(db, b[2], 0, NULL, NULL, NULL), EMBER_EINVAL);
    assert_int_equal(ember_batch_exec_async(db, b[2], 99, NULL, abatch_cb, &done[2]), EMBER_EINVAL);

    ember_cq_close(cq);
    for (int i = 0; i < 4; i++)
        ember_batch_free(b[i]);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_async_batches(void **state)
{
    (void)state;
    run_async_batches(EMBER_MODE_EXECUTOR);
    run_async_batches(EMBER_MODE_INLINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_status_names),
        cmocka_unit_test(test_config_builder),
        cmocka_unit_test(test_open_close_and_bad_arguments),
        cmocka_unit_test(test_errors_are_replies),
        cmocka_unit_test(test_reply_accessors),
        cmocka_unit_test(test_binary_safe_arguments),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_run_and_reentrancy),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_virtual_clock),
        cmocka_unit_test(test_allocator_hooks_and_memory_info),
        cmocka_unit_test(test_inline_mode),
        cmocka_unit_test(test_async_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
