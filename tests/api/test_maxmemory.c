/*
 * test_maxmemory.c — maxmemory and the eviction policies through the public
 * API: a workload writing 5x maxmemory stays within the limit plus the
 * documented slack, volatile-ttl takes the nearest TTL first, volatile-*
 * never take a key without TTL (and refuse writes once none is left),
 * allkeys-lfu keeps a hot set under a scan of cold keys, noeviction's OOM
 * error changes nothing while reads and deletes work, a lowered maxmemory
 * takes effect at the next write, OBJECT FREQ / IDLETIME, INFO fields, and
 * evictions and expirations in the append log as DEL.
 *
 * Error texts and OBJECT FREQ values were taken from redis-server 7.0.15.
 * Time runs on the virtual clock. Only <ember.h>.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

#define OOM "OOM command not allowed when used memory > 'maxmemory'."

static uint64_t used(ember_db *db)
{
    return (uint64_t)ta_info_field(db, "used_memory");
}

static void set_kv(ember_db *db, const char *k, size_t vlen)
{
    static char val[4096];
    memset(val, 'v', sizeof val);
    const char *argv[] = {"SET", k, val};
    size_t lens[] = {3, strlen(k), vlen};
    ember_reply *r;
    assert_int_equal(ember_command(db, 3, argv, lens, &r), EMBER_OK);
    ta_expect_ok(r);
}

static int exists(ember_db *db, const char *k)
{
    ember_reply *r = CMD(db, "EXISTS", k);
    int v = (int)ember_reply_integer(r);
    ember_reply_free(r);
    return v;
}

/* Runs commands until eviction has finished (each command evicts for at
 * most ~500 us first, so a big drop of maxmemory takes several); returns
 * evicted_keys. */
static uint64_t settle(ember_db *db)
{
    uint64_t prev = UINT64_MAX, ev;
    while ((ev = (uint64_t)ta_info_field(db, "evicted_keys")) != prev)
        prev = ev;
    return ev;
}

static void config(ember_db *db, const char *name, const char *value)
{
    ta_expect_ok(CMD(db, "CONFIG", "SET", name, value));
}

/*
 * The slack: eviction runs before each command, so right after a write the
 * memory may exceed maxmemory by what that one command allocated; when the
 * write makes the table grow, that includes the new bucket array (8 bytes a
 * bucket). With ~30K keys held that is at most 512 KB; the next command
 * evicts back under the limit.
 */
#define SLACK (512u * 1024)

static void test_workload_5x(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, "maxmemory-policy", "allkeys-lru");
    uint64_t base = used(db);
    uint64_t limit = base + 4u * 1024 * 1024;
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)limit);
    config(db, "maxmemory", num);
    /* 100-byte values (~180 B a key): 5x the limit is ~120K keys. */
    uint64_t written = 0, worst = 0;
    char k[32];
    for (int i = 0; written < 5 * (limit - base); i++) {
        snprintf(k, sizeof k, "key:%08d", i);
        set_kv(db, k, 100);
        written += 100 + strlen(k);
        if (i % 64 == 0) {
            uint64_t u = used(db);
            if (u > worst)
                worst = u;
            assert_true(u <= limit + SLACK);
        }
    }
    /* And before any command (the next one evicts first): within the limit. */
    ta_expect_status(CMD(db, "PING"), "PONG");
    assert_true(used(db) <= limit + SLACK);
    uint64_t ev = (uint64_t)ta_info_field(db, "evicted_keys");
    print_message("maxmemory %llu, worst used after a write %llu (+%llu), evicted %llu\n",
                  (unsigned long long)limit, (unsigned long long)worst,
                  (unsigned long long)(worst > limit ? worst - limit : 0), (unsigned long long)ev);
    assert_true(ev > 50000);
    /* The newest keys are there, the oldest are gone (LRU). */
    assert_int_equal(exists(db, k), 1);
    assert_int_equal(exists(db, "key:00000001"), 0);
    assert_int_equal((uint64_t)ta_info_field(db, "maxmemory"), limit);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_volatile_ttl(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, "maxmemory-policy", "volatile-ttl");
    char k[32], ttl[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "v:%d", i);
        snprintf(ttl, sizeof ttl, "%d", 10000 + i); /* larger i: later expiry */
        set_kv(db, k, 64);
        ember_reply_free(CMD(db, "EXPIRE", k, ttl));
        snprintf(k, sizeof k, "p:%d", i);
        set_kv(db, k, 64);
    }
    uint64_t u = used(db);
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)(u - 500 * 110));
    config(db, "maxmemory", num);
    uint64_t ev = settle(db);
    assert_in_range(ev, 200, 1000);
    /* The nearest TTLs went: sampling is approximate (the pool holds the best
     * of what it sampled), so a few later ones may go too, but nearly all
     * victims are in the earliest half, and no persistent key is gone. */
    int gone_early = 0, gone_p = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "v:%d", i);
        gone_early += !exists(db, k);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "p:%d", i);
        gone_p += !exists(db, k);
    }
    print_message("volatile-ttl: %llu evicted, %d of them among the earliest half\n",
                  (unsigned long long)ev, gone_early);
    assert_true((uint64_t)gone_early * 10 >= ev * 9);
    assert_int_equal(gone_p, 0);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_volatile_never_persistent(void **state)
{
    (void)state;
    static const char *const pols[] = {"volatile-lru", "volatile-lfu", "volatile-random",
                                       "volatile-ttl"};
    for (size_t p = 0; p < 4; p++) {
        ember_db *db = ta_open(EMBER_MODE_INLINE, TA_T0, 0, "maxmemory-policy", pols[p]);
        char k[32];
        for (int i = 0; i < 500; i++) {
            snprintf(k, sizeof k, "p:%d", i);
            set_kv(db, k, 64);
            snprintf(k, sizeof k, "v:%d", i);
            set_kv(db, k, 64);
            ember_reply_free(CMD(db, "EXPIRE", k, "1000"));
        }
        /* Far below what the persistent keys take. */
        config(db, "maxmemory", "1000");
        settle(db);
        ta_expect_error(CMD(db, "SET", "new", "x"), OOM);
        ta_expect_error(CMD(db, "LPUSH", "l", "x"), OOM);
        assert_int_equal((uint64_t)ta_info_field(db, "evicted_keys"), 500);
        ember_reply *r = CMD(db, "DBSIZE");
        ta_expect_int(r, 500);
        for (int i = 0; i < 500; i += 7) {
            snprintf(k, sizeof k, "p:%d", i);
            assert_int_equal(exists(db, k), 1);
        }
        /* Reads and deletes still work; a non-denyoom write too. */
        ta_expect_bulk(CMD(db, "GET", "p:1"),
                       "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
        ta_expect_int(CMD(db, "DEL", "p:1"), 1);
        ta_expect_int(CMD(db, "EXPIRE", "p:2", "100"), 1);
        assert_int_equal(ember_db_close(db), EMBER_OK);
    }
}

static void test_lfu_hot_set(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_INLINE, TA_T0, 0, "maxmemory-policy", "allkeys-lfu");
    uint64_t base = used(db);
    char num[32], k[32];
    /* Room for ~3000 keys of ~180 B. */
    snprintf(num, sizeof num, "%llu", (unsigned long long)(base + 3000 * 180));
    config(db, "maxmemory", num);
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "hot:%d", i);
        set_kv(db, k, 100);
    }
    for (int r = 0; r < 20; r++)
        for (int i = 0; i < 200; i++) {
            snprintf(k, sizeof k, "hot:%d", i);
            ember_reply_free(CMD(db, "GET", k));
        }
    /* A scan of 30K cold keys, each written once: 10x what fits. */
    for (int i = 0; i < 30000; i++) {
        snprintf(k, sizeof k, "cold:%d", i);
        set_kv(db, k, 100);
    }
    int kept = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "hot:%d", i);
        kept += exists(db, k);
    }
    print_message("allkeys-lfu: %d of 200 hot keys kept under a 30K-key scan\n", kept);
    assert_true(kept >= 195);
    /* LRU, for contrast, loses them. */
    config(db, "maxmemory-policy", "allkeys-lru");
    for (int i = 0; i < 30000; i++) {
        snprintf(k, sizeof k, "cold2:%d", i);
        set_kv(db, k, 100);
    }
    kept = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "hot:%d", i);
        kept += exists(db, k);
    }
    assert_true(kept < 20);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_noeviction(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_INLINE, TA_T0, 0, "maxmemory", "0");
    ta_expect_ok(CMD(db, "SET", "a", "1"));
    ta_expect_int(CMD(db, "RPUSH", "l", "x", "y"), 2);
    config(db, "maxmemory", "1"); /* noeviction is the default */
    ta_expect_error(CMD(db, "SET", "a", "2"), OOM);
    ta_expect_error(CMD(db, "SET", "b", "2"), OOM);
    ta_expect_error(CMD(db, "INCR", "a"), OOM);
    ta_expect_error(CMD(db, "RPUSH", "l", "z"), OOM);
    ta_expect_error(CMD(db, "SADD", "s", "z"), OOM);
    assert_int_equal(ember_set(db, "b", 1, "2", 1), EMBER_ENOMEM); /* typed calls */
    /* Nothing changed; reads, deletes and shrinking writes work. */
    ta_expect_bulk(CMD(db, "GET", "a"), "1");
    ta_expect_int(CMD(db, "EXISTS", "b"), 0);
    ta_expect_int(CMD(db, "LLEN", "l"), 2);
    ta_expect_bulk(CMD(db, "LPOP", "l"), "x");
    ta_expect_int(CMD(db, "DEL", "a"), 1);
    assert_int_equal((uint64_t)ta_info_field(db, "evicted_keys"), 0);
    ember_reply *r = CMD(db, "INFO", "memory");
    size_t n;
    const char *s = ember_reply_str(r, &n);
    assert_non_null(strstr(s, "maxmemory_policy:noeviction\r\n"));
    assert_non_null(strstr(s, "maxmemory:1\r\n"));
    assert_non_null(strstr(s, "maxmemory_human:1B\r\n"));
    assert_non_null(strstr(s, "used_memory_human:"));
    assert_non_null(strstr(s, "\r\nused_memory_rss:"));
    assert_non_null(strstr(s, "\r\nmem_fragmentation_ratio:"));
    ember_reply_free(r);
    /* Back under a limit: writes work again. */
    config(db, "maxmemory", "1gb");
    ta_expect_ok(CMD(db, "SET", "a", "2"));
    assert_int_equal((uint64_t)ta_info_field(db, "maxmemory"), 1073741824);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* An atomic batch is MULTI/EXEC: a denyoom command that cannot get memory
 * is refused as at queue time and the whole batch aborts (Redis: the OOM
 * error at queue time, then EXECABORT); a batch of reads and deletes runs. */
static void test_atomic_batch_oom(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, NULL, NULL);
    ta_expect_ok(CMD(db, "SET", "a", "1"));
    config(db, "maxmemory", "1");
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *c1[] = {"DEL", "a"}, *c2[] = {"SET", "b", "2"}, *c3[] = {"GET", "a"};
    assert_int_equal(ember_batch_add(b, 2, c1, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 3, c2, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, c3, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_EABORT);
    char buf[256];
    ta_fmt(ember_batch_reply(b, 0), buf, sizeof buf);
    assert_string_equal(buf, "-EXECABORT Transaction discarded because of previous errors.");
    ta_fmt(ember_batch_reply(b, 1), buf, sizeof buf);
    assert_string_equal(buf, "-" OOM);
    ta_expect_bulk(CMD(db, "GET", "a"), "1"); /* nothing ran */
    /* Without the SET it runs. */
    ember_batch_clear(b);
    assert_int_equal(ember_batch_add(b, 2, c3, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, c1, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    ta_fmt(ember_batch_reply(b, 1), buf, sizeof buf);
    assert_string_equal(buf, ":1");
    /* Not atomic: each command on its own. */
    ember_batch_clear(b);
    assert_int_equal(ember_batch_add(b, 3, c2, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 2, c3, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, 0), EMBER_OK);
    ta_fmt(ember_batch_reply(b, 0), buf, sizeof buf);
    assert_string_equal(buf, "-" OOM);
    ta_fmt(ember_batch_reply(b, 1), buf, sizeof buf);
    assert_string_equal(buf, "(nil)");
    ember_batch_free(b);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_lower_maxmemory(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, "maxmemory-policy", "allkeys-random");
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "k:%d", i);
        set_kv(db, k, 100);
    }
    uint64_t u = used(db);
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)(u / 2));
    /* The next command evicts (the executor's timer may already have). */
    config(db, "maxmemory", num);
    ta_expect_ok(CMD(db, "SET", "x", "y"));
    settle(db);
    assert_true(used(db) <= u / 2 + 1024);
    uint64_t ev = (uint64_t)ta_info_field(db, "evicted_keys");
    assert_in_range(ev, 1500, 3500);
    ember_reply *r = CMD(db, "DBSIZE");
    assert_int_equal(ember_reply_integer(r), 5001 - (int64_t)ev);
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_object_freq_idletime(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_INLINE, TA_T0, 0, NULL, NULL);
    ta_expect_ok(CMD(db, "SET", "k", "v"));
    ta_expect_error(CMD(db, "OBJECT", "FREQ", "k"),
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                    "Please note that when switching between policies at runtime LRU and LFU data "
                    "will take some time to adjust.");
    ta_expect_nil(CMD(db, "OBJECT", "FREQ", "nokey"));
    assert_int_equal(ember_clock_advance(db, 10500), EMBER_OK);
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "k"), 10);
    ta_expect_status(CMD(db, "TYPE", "k"), "string");
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "k"), 10); /* TYPE does not touch */
    ember_reply_free(CMD(db, "GET", "k"));
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "k"), 0);

    config(db, "maxmemory-policy", "allkeys-lfu");
    ta_expect_error(CMD(db, "OBJECT", "IDLETIME", "k"),
                    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note "
                    "that when switching between policies at runtime LRU and LFU data will take "
                    "some time to adjust.");
    ta_expect_ok(CMD(db, "SET", "f", "v"));
    ta_expect_int(CMD(db, "OBJECT", "FREQ", "f"), 5); /* a new key's credit */
    ta_expect_ok(CMD(db, "SET", "f", "v2"));
    ta_expect_int(CMD(db, "OBJECT", "FREQ", "f"), 6); /* the overwrite's lookup, counter kept */
    for (int i = 0; i < 10; i++)
        ember_reply_free(CMD(db, "GET", "f"));
    ember_reply *r = CMD(db, "OBJECT", "FREQ", "f");
    int64_t f = ember_reply_integer(r);
    ember_reply_free(r);
    assert_in_range(f, 6, 10);
    /* lfu-decay-time 1: one point a minute. */
    assert_int_equal(ember_clock_advance(db, 3 * 60000), EMBER_OK);
    ta_expect_int(CMD(db, "OBJECT", "FREQ", "f"), f - 3);
    config(db, "lfu-decay-time", "0");
    ta_expect_int(CMD(db, "OBJECT", "FREQ", "f"), f);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* Evictions and expirations are logged as DEL. */
static void test_aof_del(void **state)
{
    (void)state;
    char path[] = "/tmp/ember_evict_aofXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, "maxmemory-policy", "allkeys-lru");
    assert_int_equal(ember_aof_attach(db, fd, EMBER_AOF_ALWAYS), EMBER_OK);
    ta_expect_ok(CMD(db, "SET", "old", "1"));
    ta_expect_ok(CMD(db, "SET", "ttl", "1", "PX", "100"));
    assert_int_equal(ember_clock_advance(db, 1000), EMBER_OK); /* expires "ttl" actively */
    ta_expect_ok(CMD(db, "SET", "new", "2"));
    ember_reply_free(CMD(db, "GET", "new"));
    uint64_t u = used(db);
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)(u - 20));
    config(db, "maxmemory", num);
    ta_expect_ok(CMD(db, "SET", "x", "3"));
    settle(db);
    /* Which key goes depends on the sample (few keys: "old" may be missed). */
    int64_t evicted = ta_info_field(db, "evicted_keys");
    assert_true(evicted >= 1);
    assert_int_equal((uint64_t)ta_info_field(db, "expired_keys"), 1);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "*2\r\n$3\r\nDEL\r\n$3\r\nttl\r\n"));
    int64_t dels = 0; /* one DEL per expiration and per eviction */
    for (const char *q = buf; (q = strstr(q, "*2\r\n$3\r\nDEL\r\n")); q++)
        dels++;
    assert_int_equal(dels, 1 + evicted);
    close(fd);
    unlink(path);
}

/* A big collection is evicted on the lazy-free thread. */
static void test_big_value_lazy(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, "maxmemory-policy", "allkeys-lru");
    char m[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(m, sizeof m, "member:%d", i);
        ember_reply_free(CMD(db, "SADD", "big", m));
    }
    assert_int_equal(ember_clock_advance(db, 5000), EMBER_OK);
    ta_expect_ok(CMD(db, "SET", "small", "x"));
    config(db, "maxmemory", "100000");
    ta_expect_ok(CMD(db, "SET", "y", "z"));
    assert_int_equal(exists(db, "big"), 0);
    assert_true((uint64_t)ta_info_field(db, "lazyfreed_objects") >= 20000);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workload_5x),
        cmocka_unit_test(test_volatile_ttl),
        cmocka_unit_test(test_volatile_never_persistent),
        cmocka_unit_test(test_lfu_hot_set),
        cmocka_unit_test(test_noeviction),
        cmocka_unit_test(test_atomic_batch_oom),
        cmocka_unit_test(test_lower_maxmemory),
        cmocka_unit_test(test_object_freq_idletime),
        cmocka_unit_test(test_aof_del),
        cmocka_unit_test(test_big_value_lazy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
