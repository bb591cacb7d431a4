/*
 * bench_evict.c — eviction: hit ratio on a Zipf workload, ember against a
 * redis-server started here, and what eviction costs ember's throughput.
 *
 * Hit ratio: the read-through cache of tests/common/cache_sim.h (GET; SET
 * on a miss) over 200K keys with Zipf(0.99) requests, maxmemory sized on
 * each store to hold 10% of the keys (each measured on its own per-key
 * cost: redis-server's used_memory includes its own ~1 MB overhead and a
 * larger per-key cost), the same request stream for both, in the same run.
 *   TARGET evict_hit_ratio_lru  ember / redis hit ratio, allkeys-lru, >= 1.0
 *   TARGET evict_hit_ratio_lfu  the same under allkeys-lfu
 * Cost: SETs of new keys (100-byte values) through ember_command, with a
 * maxmemory that the first ~20% of them reach (from then on every SET
 * evicts about one key) against no maxmemory at all.
 *   TARGET eviction_cost  ops/s limit reached / not reached, >= 0.8
 *
 * Usage: bench_evict [--quick] [--no-redis] [--only hit,cost]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "cache_sim.h"
#include "ember.h"

static int quick, use_redis;

static void hit_policy(uint32_t *stream, size_t m, uint32_t nkeys, const char *policy,
                       const char *tname, tc_conn *rc)
{
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    tc_sim_result e, r = {0};
    if (tc_sim_run(db, NULL, policy, stream, m, m / 3, nkeys / 10, 100, &e) != 0)
        die("ember cache run", 0);
    ember_db_close(db);
    printf("  %s ember: hit ratio %.4f, %llu keys held (maxmemory %llu), %llu evicted\n", policy,
           e.hit_ratio, (unsigned long long)e.keys_held, (unsigned long long)e.maxmemory,
           (unsigned long long)e.evicted);
    if (!rc)
        return;
    if (tc_sim_run(NULL, rc, policy, stream, m, m / 3, nkeys / 10, 100, &r) != 0)
        die("redis cache run", 0);
    printf("  %s redis: hit ratio %.4f, %llu keys held (maxmemory %llu), %llu evicted\n", policy,
           r.hit_ratio, (unsigned long long)r.keys_held, (unsigned long long)r.maxmemory,
           (unsigned long long)r.evicted);
    if (r.hit_ratio > 0)
        target(tname, e.hit_ratio / r.hit_ratio, 1.0, 1);
}

static void section_hit(void)
{
    uint32_t nkeys = quick ? 20000 : 200000;
    size_t m = quick ? 60000 : 1200000;
    uint32_t *stream = xmalloc(m * sizeof *stream);
    if (tc_zipf_stream(stream, m, nkeys, 0.99, 42) != 0)
        die("zipf stream", 0);
    printf("  %u keys, %zu requests (first third warm-up), Zipf 0.99, 10%% held\n", nkeys, m);
    tc_conn *rc = NULL;
    if (use_redis) {
        redis_begin();
        if (g_redis_pid > 0)
            rc = tc_conn_open(g_redis_port);
    }
    hit_policy(stream, m, nkeys, "allkeys-lru", "evict_hit_ratio_lru", rc);
    hit_policy(stream, m, nkeys, "allkeys-lfu", "evict_hit_ratio_lfu", rc);
    if (rc) {
        tc_conn_close(rc);
        redis_stop();
    }
    free(stream);
}

/* SETs of n new keys; maxmemory 0 = none. Returns SET/s. */
static double set_run(uint64_t maxmemory, int n, uint64_t *evicted)
{
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    char num[32], key[32], val[100];
    memset(val, 'v', sizeof val);
    snprintf(num, sizeof num, "%llu", (unsigned long long)maxmemory);
    const char *pol[] = {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"};
    const char *mm[] = {"CONFIG", "SET", "maxmemory", num};
    if (cmd_status(db, 4, pol, NULL, NULL) || cmd_status(db, 4, mm, NULL, NULL))
        die("CONFIG SET", 0);
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        size_t kl = (size_t)snprintf(key, sizeof key, "key:%d", i);
        const char *argv[] = {"SET", key, val};
        size_t lens[] = {3, kl, sizeof val};
        int rc = cmd_status(db, 3, argv, lens, NULL);
        if (rc)
            die("SET", rc);
    }
    double s = (double)(now_ns() - t0) / 1e9;
    char *info = info_text(db, "stats");
    *evicted = info ? info_field(info, "evicted_keys") : 0;
    free(info);
    ember_db_close(db);
    return n / s;
}

static void section_cost(void)
{
    int n = quick ? 100000 : 1000000;
    /* ~190 B a key with the table: the limit is reached after ~20% of the SETs. */
    uint64_t limit = (uint64_t)n / 5 * 190;
    double best_free = 0, best_evict = 0;
    uint64_t ev = 0, ev0 = 0;
    for (int rep = 0; rep < 3; rep++) {
        double a = set_run(0, n, &ev0);
        double b = set_run(limit, n, &ev);
        if (a > best_free)
            best_free = a;
        if (b > best_evict)
            best_evict = b;
    }
    char b1[32], b2[32];
    fmt_rate(b1, sizeof b1, best_free);
    fmt_rate(b2, sizeof b2, best_evict);
    printf("  %d SETs: no maxmemory %s SET/s; maxmemory %llu reached: %s SET/s, %llu evicted "
           "(best of 3)\n",
           n, b1, (unsigned long long)limit, b2, (unsigned long long)ev);
    target("eviction_cost", best_evict / best_free, 0.8, 1);
}

int main(int argc, char **argv)
{
    bench_prog = "bench_evict";
    bench_opts o;
    bench_parse_args(argc, argv, "hit,cost", &o);
    quick = o.quick;
    use_redis = o.redis;
    uint64_t t0 = now_ns();
    print_machine();
    redis_install_cleanup();
    if (want("hit"))
        run_section(section_hit);
    if (want("cost"))
        run_section(section_cost);
    return bench_finish(t0);
}
