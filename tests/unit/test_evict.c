/*
 * test_evict.c — the LFU counter (increment probability, decay, wrap), the
 * eviction pool on a bare store (the idlest / least used / nearest-TTL keys
 * go first, volatile policies never take a key without TTL, noeviction and
 * "nothing left" fail), and the command table's deny-on-OOM flags against
 * the list Redis 7.0.15's COMMAND reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "command/command.h"
#include "common/hash.h"
#include "keyspace/keyspace.h"

#define T0 1700000000000ll /* virtual clock start, Unix ms */

static em_store st;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(ember__store_init(&st, NULL, 2, 7, 1, T0), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ember__lazyfree_drain(&st);
    ember__store_free(&st);
    assert_int_equal(ember__mem_used(&st.mem), 0);
    return 0;
}

static void configure(int policy, uint64_t maxmemory)
{
    em_evict_cfg ev = {.maxmemory = maxmemory,
                       .policy = policy,
                       .samples = 5,
                       .lfu_log_factor = 10,
                       .lfu_decay_time = 1};
    ember__evict_configure(&st, &ev);
}

static em_obj *put(em_keyspace *ks, int i, int64_t when)
{
    char k[16];
    size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
    em_obj *o = ember__obj_new_int(&st.mem, k, kl, i);
    assert_non_null(o);
    if (when >= 0) {
        em_obj *e = ember__obj_rebuild_expire(&st.mem, o, when);
        assert_non_null(e);
        ember__obj_free_shell(&st.mem, o);
        o = e;
    }
    ember__ks_add(&st, ks, o);
    return o;
}

static em_obj *get(em_keyspace *ks, int i, int64_t now)
{
    char k[16];
    size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
    return ember__ks_lookup(&st, ks, k, kl, now, EM_LK_READ | EM_LK_NOSTATS | EM_LK_NOTOUCH, NULL);
}

/* ------------------------------------------------------------ LFU counter */

static void test_lfu_incr(void **state)
{
    (void)state;
    /* At or below the initial value, every access counts. */
    assert_int_equal(ember__lfu_incr(0, 10, 0.999), 1);
    assert_int_equal(ember__lfu_incr(EM_LFU_INIT, 10, 0.999), EM_LFU_INIT + 1);
    /* Above it, p = 1 / ((c - 5) * factor + 1): c = 15, factor 10 -> 1/101. */
    assert_int_equal(ember__lfu_incr(15, 10, 1.0 / 101 - 1e-9), 16);
    assert_int_equal(ember__lfu_incr(15, 10, 1.0 / 101 + 1e-9), 15);
    /* Saturates. */
    assert_int_equal(ember__lfu_incr(255, 0, 0.0), 255);
    /* Factor 0: always increments. */
    assert_int_equal(ember__lfu_incr(100, 0, 0.99), 101);
    /* The logarithm: 1000 simulated hits with factor 10 land near Redis's
     * documented table (100 hits -> ~10, 1000 -> ~18, 100K -> ~142 for
     * factor 10... counted from 0 by Redis's README: 1K hits ~ 18). */
    uint64_t rng = 12345;
    uint32_t c = EM_LFU_INIT;
    for (int i = 0; i < 1000; i++)
        c = ember__lfu_incr(c, 10, (double)(ember__rand64(&rng) >> 11) * 0x1.0p-53);
    assert_in_range(c, 12, 24);
}

static void test_lfu_decay(void **state)
{
    (void)state;
    uint32_t f = ember__lfu_fresh(100) + 20; /* counter 25 at minute 100 */
    assert_int_equal(ember__lfu_decayed(f, 100, 1), 25);
    assert_int_equal(ember__lfu_decayed(f, 110, 1), 15);
    assert_int_equal(ember__lfu_decayed(f, 110, 5), 23);
    assert_int_equal(ember__lfu_decayed(f, 200, 1), 0);
    assert_int_equal(ember__lfu_decayed(f, 200, 0), 25); /* decay off */
    /* The 16-bit minute stamp wraps: 65530 -> 4 is 9 minutes. */
    assert_int_equal(ember__lfu_elapsed(4, 65530), 9);
    assert_int_equal(ember__lfu_decayed(ember__lfu_fresh(65530) + 20, 65536 + 4, 1), 16);
    /* LRU idle with the 24-bit clock wrapping. */
    assert_int_equal(ember__lru_idle_ms(3, EM_LRU_CLOCK_MAX - 2), 5000);
    assert_int_equal(ember__lru_idle_ms(10, 4), 6000);
}

/* Under LFU a lookup that touches raises the counter and restamps it. */
static void test_lfu_touch(void **state)
{
    (void)state;
    configure(EM_POLICY_ALLKEYS_LFU, 0);
    ember__ks_set_clock(&st, T0);
    em_obj *o = put(&st.dbs[0], 1, -1);
    assert_int_equal(ember__obj_lru(o) & 255, EM_LFU_INIT);
    assert_int_equal(ember__obj_lru(o) >> 8, (uint32_t)(T0 / 60000) & 0xFFFF);
    for (int i = 0; i < 50; i++)
        assert_non_null(ember__ks_lookup(&st, &st.dbs[0], "key:1", 5, T0, EM_LK_READ, NULL));
    /* 5 -> 6 is certain, then p = 1/11, 1/21...: 50 hits end around 8. */
    assert_in_range(ember__obj_lru(o) & 255, EM_LFU_INIT + 1, EM_LFU_INIT + 6);
    /* NOTOUCH leaves it alone. */
    uint32_t f = ember__obj_lru(o);
    assert_non_null(get(&st.dbs[0], 1, T0));
    assert_int_equal(ember__obj_lru(o), f);
}

/* ------------------------------------------------------------ eviction */

/* Fills db 0 with n keys; returns the memory they take. */
static size_t fill(int n, int volatile_from, int64_t ttl_base)
{
    size_t m0 = ember__mem_used(&st.mem);
    for (int i = 0; i < n; i++)
        put(&st.dbs[0], i, i >= volatile_from ? ttl_base + i : -1);
    return ember__mem_used(&st.mem) - m0;
}

static void test_lru_evicts_idle(void **state)
{
    (void)state;
    configure(EM_POLICY_ALLKEYS_LRU, 0);
    /* Keys 0..999 created at T0; 0..99 accessed again 1000 s later. */
    ember__ks_set_clock(&st, T0);
    fill(1000, 1000, 0);
    int64_t t1 = T0 + 1000 * 1000;
    for (int i = 0; i < 100; i++) {
        char k[16];
        size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i);
        assert_non_null(ember__ks_lookup(&st, &st.dbs[0], k, kl, t1, EM_LK_READ, NULL));
    }
    /* Evict half the keys: every hot key survives (they are the 10% newest,
     * and the pool only ever evicts the idlest candidates it has seen). */
    size_t used = ember__mem_used(&st.mem);
    configure(EM_POLICY_ALLKEYS_LRU, used - (used - 20000) / 2);
    assert_int_equal(ember__evict_perform(&st, t1, 1000000), EM_EVICT_OK);
    assert_true(ember__mem_used(&st.mem) <= st.ev.maxmemory);
    assert_true(st.stats.evicted_keys > 100);
    for (int i = 0; i < 100; i++)
        assert_non_null(get(&st.dbs[0], i, t1));
}

static void test_volatile_ttl_and_volatile_only(void **state)
{
    (void)state;
    configure(EM_POLICY_VOLATILE_TTL, 0);
    /* 0..499 persistent, 500..999 with expires T0+1e6+i (later i: later TTL). */
    fill(1000, 500, T0 + 1000000);
    size_t used = ember__mem_used(&st.mem);
    configure(EM_POLICY_VOLATILE_TTL, used - 100 * 40);
    assert_int_equal(ember__evict_perform(&st, T0, 1000000), EM_EVICT_OK);
    uint64_t ev = st.stats.evicted_keys;
    assert_in_range(ev, 50, 150);
    /* The nearest TTLs went first: the latest half of the volatile keys stays. */
    for (int i = 750; i < 1000; i++)
        assert_non_null(get(&st.dbs[0], i, T0));
    for (int i = 0; i < 500; i++)
        assert_non_null(get(&st.dbs[0], i, T0));
    /* Below what the persistent keys alone take: every volatile key goes,
     * then nothing is left to evict. */
    configure(EM_POLICY_VOLATILE_LRU, 1000);
    assert_int_equal(ember__evict_perform(&st, T0, 1000000), EM_EVICT_FAIL);
    assert_int_equal(st.dbs[0].nvol, 0);
    assert_int_equal(ember__dict_size(&st.dbs[0].dict), 500);
    for (int i = 0; i < 500; i++)
        assert_non_null(get(&st.dbs[0], i, T0));
}

static void test_noeviction_and_random(void **state)
{
    (void)state;
    fill(300, 300, 0);
    configure(EM_POLICY_NOEVICTION, 1000);
    assert_int_equal(ember__evict_perform(&st, T0, 1000), EM_EVICT_FAIL);
    assert_int_equal(ember__dict_size(&st.dbs[0].dict), 300);
    /* allkeys-random also takes from other databases. */
    put(&st.dbs[1], 5000, -1);
    configure(EM_POLICY_ALLKEYS_RANDOM, 1);
    assert_int_equal(ember__evict_perform(&st, T0, 1000000), EM_EVICT_FAIL);
    assert_int_equal(ember__dict_size(&st.dbs[0].dict) + ember__dict_size(&st.dbs[1].dict), 0);
    assert_int_equal(st.stats.evicted_keys, 301);
    /* Not over the limit: nothing to do. */
    configure(EM_POLICY_ALLKEYS_LRU, 0);
    assert_int_equal(ember__evict_perform(&st, T0, 1000), EM_EVICT_OK);
}

static void test_lfu_keeps_hot(void **state)
{
    (void)state;
    configure(EM_POLICY_ALLKEYS_LFU, 0);
    ember__ks_set_clock(&st, T0);
    fill(2000, 2000, 0);
    for (int r = 0; r < 30; r++)
        for (int i = 0; i < 50; i++) {
            char k[16];
            size_t kl = (size_t)snprintf(k, sizeof k, "key:%d", i * 40);
            assert_non_null(ember__ks_lookup(&st, &st.dbs[0], k, kl, T0, EM_LK_READ, NULL));
        }
    size_t used = ember__mem_used(&st.mem);
    configure(EM_POLICY_ALLKEYS_LFU, used / 4);
    assert_int_equal(ember__evict_perform(&st, T0, 1000000), EM_EVICT_OK);
    int kept = 0;
    for (int i = 0; i < 50; i++)
        kept += get(&st.dbs[0], i * 40, T0) != NULL;
    assert_int_equal(kept, 50);
}

/* ------------------------------------------------------------ DENYOOM table */

extern const em_cmd ember__server_cmds[], ember__string_cmds[], ember__key_cmds[],
    ember__list_cmds[], ember__hash_cmds[], ember__set_cmds[], ember__zset_cmds[],
    ember__persist_cmds[];

/* Every command Redis 7.0.15's COMMAND flags "denyoom" (subcommands as
 * parent|sub), from redis-server itself. */
static const char *const redis_denyoom[] = {"append",
                                            "bitfield",
                                            "bitop",
                                            "blmove",
                                            "brpoplpush",
                                            "copy",
                                            "decr",
                                            "decrby",
                                            "function|load",
                                            "function|restore",
                                            "geoadd",
                                            "georadius",
                                            "georadiusbymember",
                                            "geosearchstore",
                                            "getset",
                                            "hincrby",
                                            "hincrbyfloat",
                                            "hmset",
                                            "hset",
                                            "hsetnx",
                                            "incr",
                                            "incrby",
                                            "incrbyfloat",
                                            "linsert",
                                            "lmove",
                                            "lpush",
                                            "lpushx",
                                            "lset",
                                            "mset",
                                            "msetnx",
                                            "pfadd",
                                            "pfdebug",
                                            "pfmerge",
                                            "psetex",
                                            "restore",
                                            "restore-asking",
                                            "rpoplpush",
                                            "rpush",
                                            "rpushx",
                                            "sadd",
                                            "sdiffstore",
                                            "set",
                                            "setbit",
                                            "setex",
                                            "setnx",
                                            "setrange",
                                            "sinterstore",
                                            "sort",
                                            "sunionstore",
                                            "xadd",
                                            "xgroup|create",
                                            "xgroup|createconsumer",
                                            "xsetid",
                                            "zadd",
                                            "zdiffstore",
                                            "zincrby",
                                            "zinterstore",
                                            "zrangestore",
                                            "zunionstore",
                                            NULL};

static int redis_says_denyoom(const char *name)
{
    for (size_t i = 0; redis_denyoom[i]; i++)
        if (strcmp(redis_denyoom[i], name) == 0)
            return 1;
    return 0;
}

static void check_table(const em_cmd *t, const char *parent, int *bad, int *count)
{
    for (; t->name; t++) {
        char full[128];
        snprintf(full, sizeof full, "%s%s%s", parent ? parent : "", parent ? "|" : "", t->name);
        if (t->subcmds)
            check_table(t->subcmds, t->name, bad, count);
        int ours = (t->flags & EM_CMD_DENYOOM) != 0;
        if (ours != redis_says_denyoom(full)) {
            print_message("denyoom mismatch: %s (ember %d)\n", full, ours);
            (*bad)++;
        }
        *count += ours;
    }
}

static void test_denyoom_flags(void **state)
{
    (void)state;
    const em_cmd *const mods[] = {ember__server_cmds, ember__string_cmds, ember__key_cmds,
                                  ember__list_cmds,   ember__hash_cmds,   ember__set_cmds,
                                  ember__zset_cmds,   ember__persist_cmds};
    int bad = 0, count = 0;
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
        check_table(mods[i], NULL, &bad, &count);
    assert_int_equal(bad, 0);
    assert_true(count > 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lfu_incr),
        cmocka_unit_test(test_lfu_decay),
        cmocka_unit_test_setup_teardown(test_lfu_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_evicts_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volatile_ttl_and_volatile_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noeviction_and_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lfu_keeps_hot, setup, teardown),
        cmocka_unit_test(test_denyoom_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
