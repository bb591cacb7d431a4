/*
 * test_debug.c — DEBUG RELOAD, DEBUG SET-ACTIVE-EXPIRE, DEBUG SLEEP and
 * BGREWRITEAOF through the public API.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/api_util.h"
#include "ember.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* RELOAD: every type, expiries and other databases survive the round trip. */
static void test_reload_keeps_data(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, -1, 0, NULL, NULL);
    SCRIPT(db, {"SET s hello", "+OK"}, {"SET n 42", "+OK"}, {"RPUSH l a b c", ":3"},
           {"HSET h f v g w", ":2"}, {"SADD st 1 2 3", ":3"}, {"SADD ss x y", ":2"},
           {"ZADD z 1 a 2 b", ":2"}, {"PEXPIRE s 100000", ":1"});
    ember_db *v2 = NULL;
    assert_int_equal(ember_db_view(db, 2, &v2), EMBER_OK);
    SCRIPT(v2, {"SET other 1", "+OK"});
    SCRIPT(db, {"DEBUG RELOAD", "+OK"}, {"DBSIZE", ":7"}, {"GET s", "$hello"}, {"GET n", "$42"},
           {"LRANGE l 0 -1", "*[$a|$b|$c]"}, {"HGET h g", "$w"}, {"SCARD st", ":3"},
           {"SISMEMBER ss y", ":1"}, {"ZRANGE z 0 -1", "*[$a|$b]"},
           {"OBJECT ENCODING st", "$intset"}, {"DEBUG RELOAD NOSAVE", "+OK"},
           {"DEBUG RELOAD bogus", "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and "
                                  "NOSAVE options."});
    const char *ttl = ta_run(db, "PTTL s");
    long long ms = atoll(ttl + 1);
    assert_true(ms > 90000 && ms <= 100000);
    SCRIPT(v2, {"GET other", "$1"});
    ember_db_close(v2);
    ember_db_close(db);
}

/* SET-ACTIVE-EXPIRE 0: expired keys stay until touched; 1: they go. */
static void test_set_active_expire(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, -1, 0, NULL, NULL);
    SCRIPT(db, {"CONFIG SET hz 100", "+OK"}, {"DEBUG SET-ACTIVE-EXPIRE 0", "+OK"},
           {"SET k v PX 20", "+OK"}, {"SET keep v", "+OK"});
    sleep_ms(300);
    /* DBSIZE counts keys without looking at them: still there. */
    SCRIPT(db, {"DBSIZE", ":2"}, {"DEBUG SET-ACTIVE-EXPIRE 1", "+OK"});
    int64_t t0 = mono_ms();
    while (strcmp(ta_run(db, "DBSIZE"), ":1") != 0 && mono_ms() - t0 < 5000)
        sleep_ms(10);
    SCRIPT(db, {"DBSIZE", ":1"});
    ember_db_close(db);
}

/* DEBUG SLEEP holds the executor: a second caller's command waits. */
static void test_sleep_blocks(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, -1, 0, NULL, NULL);
    int64_t t0 = mono_ms();
    SCRIPT(db, {"DEBUG SLEEP 0.2", "+OK"}, {"DEBUG SLEEP 0", "+OK"}, {"DEBUG SLEEP x", "+OK"});
    assert_true(mono_ms() - t0 >= 190);
    SCRIPT(db, {"DEBUG SLEEP",
                "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG "
                "HELP."});
    ember_db_close(db);
}

static long long info_field(ember_db *db, const char *name)
{
    ember_reply *r = ta_cmd_line(db, "INFO persistence");
    size_t len;
    const char *s = ember_reply_str(r, &len);
    char key[64];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *p = strstr(s, key);
    assert_non_null(p);
    long long v = atoll(p + strlen(key));
    ember_reply_free(r);
    return v;
}

static int info_has(ember_db *db, const char *line)
{
    ember_reply *r = ta_cmd_line(db, "INFO persistence");
    int has = strstr(ember_reply_str(r, NULL), line) != NULL;
    ember_reply_free(r);
    return has;
}

/* Polls INFO until the background rewrite has ended. */
static void wait_rewrites(ember_db *db, long long n)
{
    int64_t t0 = mono_ms();
    while ((info_field(db, "aof_rewrites") != n || info_field(db, "aof_rewrite_in_progress")) &&
           mono_ms() - t0 < 10000)
        sleep_ms(5);
    assert_int_equal(info_field(db, "aof_rewrites"), n);
    assert_int_equal(info_field(db, "aof_rewrite_in_progress"), 0);
}

static void reopen_and_check(const char *dir, const char *want_a)
{
    ember_db *db2 = ta_open(EMBER_MODE_EXECUTOR, -1, 0, NULL, NULL);
    assert_int_equal(
        ember_aof_open_path(db2, dir, "log.aof", EMBER_AOF_ALWAYS, EMBER_AOF_LOAD_STRICT, NULL),
        EMBER_OK);
    const ta_step steps[] = {{"GET a", want_a}, {"LRANGE l 0 -1", "*[$x|$y]"}};
    ta_script(db2, steps, 2);
    ember_db_close(db2);
}

/* BGREWRITEAOF: an error without a log or with one attached by descriptor;
 * with a log opened by path, a rewrite in the background that keeps every
 * write, also the ones made while it runs. */
static void test_bgrewriteaof(void **state)
{
    (void)state;
    char dir[] = "/tmp/ember_test_debug_XXXXXX";
    assert_non_null(mkdtemp(dir));
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, -1, 0, NULL, NULL);
    SCRIPT(db, {"BGREWRITEAOF", "-ERR no append only file is attached: open one with "
                                "ember_aof_open_path() first"});
    assert_true(info_has(db, "\r\naof_last_bgrewrite_status:ok\r\n"));
    char path[512];
    snprintf(path, sizeof path, "%s/fd.aof", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ember_aof_attach(db, fd, EMBER_AOF_ALWAYS), EMBER_OK);
    SCRIPT(db, {"BGREWRITEAOF", "-ERR the append log was attached by descriptor: rewrite it "
                                "with ember_aof_rewrite()"});
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    close(fd);

    assert_int_equal(ember_aof_open_path(db, dir, "log.aof", EMBER_AOF_ALWAYS, 0, NULL), EMBER_OK);
    SCRIPT(db, {"SET a 1", "+OK"}, {"INCR a", ":2"}, {"RPUSH l x y", ":2"});
    assert_int_equal(info_field(db, "aof_enabled"), 1);
    assert_int_equal(info_field(db, "aof_rewrites"), 0);
    SCRIPT(db, {"BGREWRITEAOF", "+Background append only file rewriting started"},
           {"INCR a", ":3"});
    wait_rewrites(db, 1);
    SCRIPT(db, {"INCR a", ":4"});
    assert_true(info_has(db, "\r\naof_last_bgrewrite_status:ok\r\n"));
    ember_db_close(db);
    reopen_and_check(dir, "$4");

    /* Closing right after BGREWRITEAOF waits for the rewrite. */
    db = ta_open(EMBER_MODE_EXECUTOR, -1, 0, NULL, NULL);
    assert_int_equal(ember_aof_open_path(db, dir, "log.aof", EMBER_AOF_ALWAYS, 0, NULL), EMBER_OK);
    SCRIPT(db, {"BGREWRITEAOF", "+Background append only file rewriting started"},
           {"INCR a", ":5"});
    ember_db_close(db);
    reopen_and_check(dir, "$5");

    /* Inline mode: the rewrite is done when the reply comes. */
    db = ta_open(EMBER_MODE_INLINE, -1, 0, NULL, NULL);
    assert_int_equal(ember_aof_open_path(db, dir, "log.aof", EMBER_AOF_ALWAYS, 0, NULL), EMBER_OK);
    SCRIPT(db, {"BGREWRITEAOF", "+Background append only file rewriting started"});
    assert_int_equal(info_field(db, "aof_rewrites"), 1);
    SCRIPT(db, {"INCR a", ":6"});
    ember_db_close(db);
    reopen_and_check(dir, "$6");
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_keeps_data),
        cmocka_unit_test(test_set_active_expire),
        cmocka_unit_test(test_sleep_blocks),
        cmocka_unit_test(test_bgrewriteaof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
