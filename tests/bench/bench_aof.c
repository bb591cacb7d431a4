/*
 * bench_aof.c — the append log under `appendfsync always`: SET throughput
 * with 1, 4 and 8 producer threads, each write acknowledged only once it is
 * fdatasync'ed (group commit: one sync per executor batch), against a
 * redis-server started here with appendfsync always under redis-benchmark
 * (-c 1 and -c 8). The log goes to a file in $EMBER_BENCH_DIR (default
 * /tmp), i.e. to whatever device backs it.
 *
 * TARGET aof_always_8p_over_1p: 8 producers >= 5x 1 producer.
 *
 * Usage: bench_aof [--quick] [--no-redis] [--only ember,redis]
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "ember.h"

static int quick;
static double rate_ember[9];

typedef struct prod {
    ember_db *db;
    int id, n;
} prod;

static void *producer(void *arg)
{
    prod *p = arg;
    char key[32];
    for (int i = 0; i < p->n; i++) {
        size_t kl = (size_t)snprintf(key, sizeof key, "k%d:%d", p->id, i);
        int rc = ember_set(p->db, key, kl, "0123456789abcdef", 16);
        if (rc != EMBER_OK)
            die("ember_set", rc);
    }
    return NULL;
}

/* SETs per second with `threads` producers under always. */
static double run_ember(int threads, int per)
{
    const char *dir = getenv("EMBER_BENCH_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/ember_bench_aof.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp", 0);
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    int rc = ember_aof_attach(db, fd, EMBER_AOF_ALWAYS);
    if (rc)
        die("ember_aof_attach", rc);
    pthread_t th[8];
    prod p[8];
    uint64_t t0 = now_ns();
    for (int t = 0; t < threads; t++) {
        p[t] = (prod){db, t, per};
        pthread_create(&th[t], NULL, producer, &p[t]);
    }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    double s = (double)(now_ns() - t0) / 1e9;
    if ((rc = ember_aof_detach(db)))
        die("ember_aof_detach", rc);
    ember_db_close(db);
    close(fd);
    unlink(path);
    return threads * per / s;
}

static void section_ember(void)
{
    static const int threads[] = {1, 4, 8};
    for (int i = 0; i < 3; i++) {
        int per = quick ? 300 : 3000;
        double r = run_ember(threads[i], per);
        rate_ember[threads[i]] = r;
        char b[32];
        fmt_rate(b, sizeof b, r);
        printf("  ember always, %d producer%s: %s SET/s\n", threads[i], threads[i] > 1 ? "s" : "",
               b);
    }
    target("aof_always_8p_over_1p", rate_ember[8] / rate_ember[1], 5.0, 1);
}

static void section_redis(void)
{
    redis_begin();
    if (g_redis_pid <= 0)
        return;
    resp *c = resp_open(g_redis_port);
    if (!c)
        return;
    const char *dir = getenv("EMBER_BENCH_DIR");
    const char *cs1[] = {"CONFIG", "SET", "dir", dir && *dir ? dir : "/tmp"};
    const char *cs2[] = {"CONFIG", "SET", "appendfsync", "always"};
    const char *cs3[] = {"CONFIG", "SET", "appendonly", "yes"};
    free(resp_call(c, 4, cs1));
    free(resp_call(c, 4, cs2));
    free(resp_call(c, 4, cs3));
    /* appendonly yes starts with a rewrite: wait until the log is on. */
    for (int i = 0; i < 200; i++) {
        const char *info[] = {"INFO", "persistence"};
        char *t = resp_call(c, 2, info);
        int on = t && strstr(t, "aof_enabled:1") && strstr(t, "aof_rewrite_in_progress:0");
        free(t);
        if (on)
            break;
        sleep_ns(50000000);
    }
    resp_close(c);
    double rr[9] = {0};
    static const int conns[] = {1, 8};
    for (int i = 0; i < 2; i++) {
        char args[128];
        snprintf(args, sizeof args, "-t set -n %d -c %d -r 1000000 -d 16", quick ? 2000 : 20000,
                 conns[i]);
        char names[4][64];
        double rps[4];
        if (redis_benchmark_csv(g_redis_port, args, 4, names, rps) >= 1)
            rr[conns[i]] = rps[0];
        char b[32];
        fmt_rate(b, sizeof b, rr[conns[i]]);
        printf("  redis-server always, redis-benchmark -c %d: %s SET/s\n", conns[i], b);
    }
    if (rr[1] > 0 && rr[8] > 0 && rate_ember[8] > 0)
        printf(
            "  8 producers: ember %.2fx redis-server; scaling 1 -> 8: ember %.1fx, redis %.1fx\n",
            rate_ember[8] / rr[8], rate_ember[8] / rate_ember[1], rr[8] / rr[1]);
    redis_stop();
}

int main(int argc, char **argv)
{
    bench_prog = "bench_aof";
    bench_opts o;
    bench_parse_args(argc, argv, "ember,redis", &o);
    quick = o.quick;
    uint64_t t0 = now_ns();
    print_machine();
    redis_install_cleanup();
    if (want("ember"))
        run_section(section_ember);
    if (o.redis && want("redis"))
        run_section(section_redis);
    return bench_finish(t0);
}
