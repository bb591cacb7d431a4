/*
 * test_evict_redis.c — eviction quality against redis-server 7.0: the same
 * Zipf(0.99) GET/SET-on-miss stream over 100K keys, with maxmemory sized on
 * each store to hold ~10% of the keys (see tests/common/cache_sim.h for why
 * each store gets its own maxmemory), under allkeys-lru and allkeys-lfu.
 * Both hit ratios are printed; ember's must not be worse than Redis's by
 * more than TOLERANCE (absolute), and each store must really have held
 * about the intended number of keys (within 25%), or the comparison would
 * be between different cache sizes.
 *
 * Tolerance: both stores approximate with 5 samples a round, and the
 * difference of two sampled policies on 300K requests varies by about a
 * point from seed to seed; 0.02 leaves room for that and still catches a
 * pool that does not work (random eviction loses ~10 points under LRU here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ember.h>

#include "cache_sim.h"
#include "redis_proc.h"

#define NKEYS 100000
#define NREQ 300000
#define WARMUP 100000
#define HOLD (NKEYS / 10)
#define VLEN 100
#define TOLERANCE 0.02

static uint32_t *stream;
static tc_redis rs;
static tc_conn *conn;
static ember_db *db;

static int setup(void **state)
{
    (void)state;
    stream = malloc(NREQ * sizeof *stream);
    assert_non_null(stream);
    assert_int_equal(tc_zipf_stream(stream, NREQ, NKEYS, 0.99, 42), 0);
    char err[256];
    const char *extra[] = {"--maxmemory-samples", "5", NULL};
    if (tc_redis_start(&rs, extra, err, sizeof err) != 0)
        fail_msg("redis-server: %s", err);
    conn = tc_conn_open(rs.port);
    assert_non_null(conn);
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tc_conn_close(conn);
    tc_redis_stop(&rs);
    assert_int_equal(ember_db_close(db), EMBER_OK);
    free(stream);
    return 0;
}

static void compare(const char *policy)
{
    tc_sim_result e, r;
    assert_int_equal(tc_sim_run(db, NULL, policy, stream, NREQ, WARMUP, HOLD, VLEN, &e), 0);
    assert_int_equal(tc_sim_run(NULL, conn, policy, stream, NREQ, WARMUP, HOLD, VLEN, &r), 0);
    print_message("%s: hit ratio ember %.4f (%llu keys held, maxmemory %llu, %llu evicted) "
                  "redis %.4f (%llu keys held, maxmemory %llu, %llu evicted)\n",
                  policy, e.hit_ratio, (unsigned long long)e.keys_held,
                  (unsigned long long)e.maxmemory, (unsigned long long)e.evicted, r.hit_ratio,
                  (unsigned long long)r.keys_held, (unsigned long long)r.maxmemory,
                  (unsigned long long)r.evicted);
    assert_in_range(e.keys_held, HOLD * 3 / 4, HOLD * 5 / 4);
    assert_in_range(r.keys_held, HOLD * 3 / 4, HOLD * 5 / 4);
    assert_true(e.evicted > 0 && r.evicted > 0);
    assert_true(e.hit_ratio >= r.hit_ratio - TOLERANCE);
}

static void test_lru(void **state)
{
    (void)state;
    compare("allkeys-lru");
}

static void test_lfu(void **state)
{
    (void)state;
    compare("allkeys-lfu");
}

/* Without a limit every key stays: the stream's ceiling for reference. */
static void test_unlimited(void **state)
{
    (void)state;
    tc_sim_result e;
    assert_int_equal(tc_sim_run(db, NULL, "noeviction", stream, NREQ, WARMUP, 0, VLEN, &e), 0);
    print_message("no limit: hit ratio %.4f, %llu keys\n", e.hit_ratio,
                  (unsigned long long)e.keys_held);
    assert_int_equal(e.evicted, 0);
    assert_true(e.keys_held > HOLD * 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_lfu),
        cmocka_unit_test(test_unlimited),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
