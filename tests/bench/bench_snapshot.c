/*
 * bench_snapshot.c — RDB snapshots: ember against redis-server, one run.
 *
 *   1. file: one mixed dataset (strings, some with a TTL; small and large
 *      hashes, sets, sorted sets and lists) loaded into ember and into a
 *      redis-server started here. ember saves it zstd-framed (the default)
 *      and plain, and loads each file into an empty database; redis-server
 *      runs SAVE, and a second redis-server started on that file is timed
 *      until it has loaded it (its log line "DB loaded from disk: X
 *      seconds"; the time until it answers PING when the line is missing).
 *      MB/s are of the dataset (redis-server's used_memory of it), so a
 *      ratio of two rates is the ratio of the times.
 *   2. latency: 2 threads doing SET/GET (half each) on random string keys of
 *      a large dataset, paced at a fixed rate, without a snapshot and then
 *      while one (zstd) runs; p99 of each call. Peak extra memory during the
 *      snapshot: process RSS (VmHWM after resetting it through
 *      /proc/self/clear_refs, minus VmRSS before) and INFO used_memory
 *      sampled every 5 ms, against the dataset's used_memory.
 *
 * Files go to $EMBER_BENCH_DIR (default /tmp) and are removed afterwards.
 *
 * TARGET snapshot_file_vs_redis: ember default file / redis RDB <= 0.7.
 * TARGET snapshot_load_vs_redis: ember (default file) load rate / redis's >= 1.
 * TARGET snapshot_p99_ratio: p99 during a snapshot / without <= 2.
 * TARGET snapshot_peak_mem_frac: peak extra RSS / dataset <= 0.10.
 *
 * Usage: bench_snapshot [--quick] [--no-redis] [--only file,latency]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "ember.h"

#define MAX_ARGV 2100 /* a large collection: 1000 pairs and the key */
#define BATCH_N 64

static int quick, no_redis;
static const char *bench_dir = "/tmp";

/* ------------------------------------------------------------------ dataset */

/* The dataset is a sequence of units; unit u is a handful of commands that
 * depend on u only, so ember and redis-server get the same data. */
typedef void (*emit_fn)(void *ctx, size_t argc, const char *const *argv, const size_t *lens);

typedef struct gen {
    const char *argv[MAX_ARGV];
    size_t lens[MAX_ARGV];
    size_t argc;
    char *arena; /* argument text */
    size_t used;
    uint64_t rng;
    emit_fn emit;
    void *ctx;
} gen;

static const char *const words[16] = {"alpha", "bravo",    "charlie", "delta",  "echo", "foxtrot",
                                      "golf",  "hotel",    "india",   "juliet", "kilo", "lima",
                                      "mike",  "november", "oscar",   "papa"};

static char *gen_room(gen *g, size_t n)
{
    char *at = g->arena + g->used;
    g->used += n;
    return at;
}

static void gen_arg(gen *g, const char *s, size_t n)
{
    g->argv[g->argc] = s;
    g->lens[g->argc++] = n;
}

static void gen_lit(gen *g, const char *s)
{
    gen_arg(g, s, strlen(s));
}

static void gen_name(gen *g, const char *prefix, size_t n)
{
    char *at = gen_room(g, 32);
    gen_arg(g, at, fmt_key(at, prefix, n));
}

/* A value of about `len` bytes: words and a random token, partly compressible
 * as application data usually is. */
static void gen_value(gen *g, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *at = gen_room(g, len + 16);
    size_t n = 0;
    while (n < len) {
        if (rng_below(&g->rng, 3) == 0) {
            for (int i = 0; i < 8; i++)
                at[n++] = b64[rng_below(&g->rng, 64)];
        } else {
            const char *w = words[rng_below(&g->rng, 16)];
            size_t wl = strlen(w);
            memcpy(at + n, w, wl);
            n += wl;
        }
        at[n++] = ' ';
    }
    gen_arg(g, at, n);
}

static void gen_send(gen *g)
{
    g->emit(g->ctx, g->argc, g->argv, g->lens);
    g->argc = 0;
    g->used = 0;
}

/* Unit u: a string (a quarter of them with a TTL), a hash of 10 fields (a
 * tenth with a TTL), a set of 10 integers, a set of 8 strings, a sorted set
 * of 10 members, a list of 20 elements; every 500th unit also a large hash,
 * set, sorted set and list (1000 elements: hashtable / skiplist encodings). */
static void gen_unit(gen *g, size_t u)
{
    g->rng = 0x9E3779B97F4A7C15ull * (u + 1);
    gen_lit(g, "SET");
    gen_name(g, "s:", u);
    gen_value(g, 40 + rng_below(&g->rng, 160));
    if (u % 4 == 1) {
        gen_lit(g, "EX");
        gen_lit(g, "86400");
    }
    gen_send(g);

    gen_lit(g, "HSET");
    gen_name(g, "h:", u);
    for (size_t f = 0; f < 10; f++) {
        gen_name(g, "field", f);
        gen_value(g, 4 + rng_below(&g->rng, 20));
    }
    gen_send(g);
    if (u % 10 == 3) {
        gen_lit(g, "EXPIRE");
        gen_name(g, "h:", u);
        gen_lit(g, "86400");
        gen_send(g);
    }

    gen_lit(g, "SADD");
    gen_name(g, "si:", u);
    for (size_t m = 0; m < 10; m++)
        gen_name(g, "", rng_below(&g->rng, 1000000));
    gen_send(g);

    gen_lit(g, "SADD");
    gen_name(g, "ss:", u);
    for (size_t m = 0; m < 8; m++)
        gen_name(g, words[rng_below(&g->rng, 16)], rng_below(&g->rng, 100000));
    gen_send(g);

    gen_lit(g, "ZADD");
    gen_name(g, "z:", u);
    for (size_t m = 0; m < 10; m++) {
        gen_name(g, "", rng_below(&g->rng, 100000));
        gen_name(g, "member:", m);
    }
    gen_send(g);

    gen_lit(g, "RPUSH");
    gen_name(g, "l:", u);
    for (size_t m = 0; m < 20; m++)
        gen_value(g, 6 + rng_below(&g->rng, 12));
    gen_send(g);

    if (u % 500 != 7)
        return;
    static const char *const big[4][2] = {
        {"HSET", "bh:"}, {"SADD", "bs:"}, {"ZADD", "bz:"}, {"RPUSH", "bl:"}};
    for (int t = 0; t < 4; t++) {
        gen_lit(g, big[t][0]);
        gen_name(g, big[t][1], u);
        for (size_t m = 0; m < 1000; m++) {
            if (t == 2)
                gen_name(g, "", rng_below(&g->rng, 1000000));
            gen_name(g, "element:", m);
            if (t == 0)
                gen_value(g, 10 + rng_below(&g->rng, 40));
        }
        gen_send(g);
    }
}

static gen *gen_new(emit_fn emit, void *ctx)
{
    gen *g = xmalloc(sizeof *g);
    memset(g, 0, sizeof *g);
    g->arena = xmalloc(MAX_ARGV * 80);
    g->emit = emit;
    g->ctx = ctx;
    return g;
}

static void gen_free(gen *g)
{
    free(g->arena);
    free(g);
}

/* ------------------------------------------------------------------ loading */

typedef struct ember_loader {
    ember_db *db;
    ember_batch *b;
    uint64_t errors;
} ember_loader;

static void ember_loader_flush(ember_loader *l)
{
    size_t n = ember_batch_count(l->b);
    if (!n)
        return;
    int rc = ember_batch_exec(l->db, l->b, EMBER_BATCH_PIPELINE);
    if (rc)
        die("ember_batch_exec", rc);
    for (size_t i = 0; i < n; i++)
        l->errors += ember_reply_type(ember_batch_reply(l->b, i)) == EMBER_REPLY_ERROR;
    ember_batch_clear(l->b);
}

static void ember_emit(void *ctx, size_t argc, const char *const *argv, const size_t *lens)
{
    ember_loader *l = ctx;
    if (ember_batch_add(l->b, argc, argv, lens) != EMBER_OK)
        die("ember_batch_add", 0);
    if (ember_batch_count(l->b) >= BATCH_N)
        ember_loader_flush(l);
}

/* Loads units [0, units) into db; with `target_bytes`, keeps adding units
 * until used_memory reaches it and returns how many were loaded. */
static size_t ember_load_units(ember_db *db, size_t units, uint64_t target_bytes)
{
    ember_loader l = {db, NULL, 0};
    int rc = ember_batch_new(&l.b);
    if (rc)
        die("ember_batch_new", rc);
    gen *g = gen_new(ember_emit, &l);
    size_t u = 0;
    for (; target_bytes ? 1 : u < units; u++) {
        if (target_bytes && u % 10000 == 0) {
            ember_loader_flush(&l);
            if (ember_used_memory(db) >= target_bytes)
                break;
        }
        gen_unit(g, u);
    }
    ember_loader_flush(&l);
    gen_free(g);
    ember_batch_free(l.b);
    if (l.errors)
        printf("  warning: %llu error replies while loading ember\n", (unsigned long long)l.errors);
    return u;
}

static void redis_emit(void *ctx, size_t argc, const char *const *argv, const size_t *lens)
{
    resp_pipe_add(ctx, argc, argv, lens);
}

static int redis_load_units(resp *c, size_t units)
{
    resp_pipe p;
    resp_pipe_init(&p, c);
    gen *g = gen_new(redis_emit, &p);
    for (size_t u = 0; u < units; u++)
        gen_unit(g, u);
    gen_free(g);
    uint64_t bad = resp_pipe_finish(&p);
    if (bad)
        printf("  warning: %llu errors while loading redis-server\n", (unsigned long long)bad);
    return bad ? -1 : 0;
}

/* ------------------------------------------------------------------ helpers */

static double mb(uint64_t bytes)
{
    return (double)bytes / 1e6;
}

static uint64_t file_size(const char *dir, const char *name)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void remove_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

/* A "VmXXX:   1234 kB" line of /proc/self/status, in bytes. */
static uint64_t proc_status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t v = 0;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtoull(line + n + 1, NULL, 10) * 1024;
            break;
        }
    }
    if (f)
        fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0); 0 on success. */
static int reset_peak_rss(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return -1;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ 1. file */

typedef struct file_result {
    double save_s, load_s;
    uint64_t bytes;
} file_result;

static file_result ember_save_load(ember_db **dbp, const char *name, uint32_t flags,
                                   size_t expect_keys)
{
    file_result r;
    uint64_t t0 = now_ns();
    int rc = ember_snapshot_save_path(*dbp, bench_dir, name, flags);
    if (rc)
        die("ember_snapshot_save_path", rc);
    r.save_s = (double)(now_ns() - t0) / 1e9;
    r.bytes = file_size(bench_dir, name);
    ember_db *fresh = open_db(EMBER_MODE_EXECUTOR);
    char *err = NULL;
    t0 = now_ns();
    rc = ember_snapshot_load_path(fresh, bench_dir, name, 0, &err);
    r.load_s = (double)(now_ns() - t0) / 1e9;
    if (rc) {
        fprintf(stderr, "load: %s\n", err ? err : "?");
        die("ember_snapshot_load_path", rc);
    }
    int64_t keys = 0;
    const char *dbsize[] = {"DBSIZE"};
    cmd_status(fresh, 1, dbsize, NULL, &keys);
    if ((size_t)keys != expect_keys)
        printf("  warning: %lld keys loaded from %s, %zu expected\n", (long long)keys, name,
               expect_keys);
    ember_db_close(*dbp); /* keep one copy in memory */
    *dbp = fresh;
    return r;
}

/* Seconds from the log line "DB loaded from disk: X seconds"; -1 if absent. */
static double redis_log_load_s(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[512];
    double s = -1;
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "DB loaded from disk: ");
        if (p)
            s = strtod(p + strlen("DB loaded from disk: "), NULL);
    }
    if (f)
        fclose(f);
    return s;
}

static void section_file(void)
{
    size_t units = quick ? 10000 : 160000;
    printf("dataset: %zu units (each: a string, 1/4 with TTL; hash x10; set x10 ints; set x8 "
           "strings;\n  zset x10; list x20; every 500th also a hash, set, zset, list of 1000)\n",
           units);
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    uint64_t base = ember_used_memory(db);
    uint64_t t0 = now_ns();
    ember_load_units(db, units, 0);
    double ember_fill_s = (double)(now_ns() - t0) / 1e9;
    uint64_t ember_mem = ember_used_memory(db) - base;
    int64_t keys = 0;
    const char *dbsize[] = {"DBSIZE"};
    cmd_status(db, 1, dbsize, NULL, &keys);
    printf("  ember: %lld keys, used_memory %.1f MB (filled in %.1f s)\n", (long long)keys,
           mb(ember_mem), ember_fill_s);

    file_result ez = ember_save_load(&db, "ember_bench_snap.zst.rdb", 0, (size_t)keys);
    file_result ep =
        ember_save_load(&db, "ember_bench_snap.plain.rdb", EMBER_SNAPSHOT_PLAIN, (size_t)keys);
    ember_db_close(db);
    remove_file(bench_dir, "ember_bench_snap.zst.rdb");
    remove_file(bench_dir, "ember_bench_snap.plain.rdb");

    file_result rr = {0, 0, 0};
    uint64_t redis_mem = 0;
    double redis_ping_s = 0;
    /* dir and dbfilename are protected configs in Redis 7.0 (no CONFIG SET). */
    const char *first[] = {"--dir", bench_dir, "--dbfilename", "ember_bench_snap.redis.rdb", NULL};
    if (!no_redis && (g_redis_port = redis_start_args(first, 5)) < 0)
        printf("  warning: could not start redis-server\n");
    resp *c = g_redis_pid > 0 ? resp_open(g_redis_port) : NULL;
    if (c) {
        uint64_t rbase = redis_used_memory(c);
        t0 = now_ns();
        redis_load_units(c, units);
        double fill_s = (double)(now_ns() - t0) / 1e9;
        redis_mem = redis_used_memory(c) - rbase;
        printf("  redis-server: used_memory %.1f MB (filled in %.1f s)\n", mb(redis_mem), fill_s);
        const char *save[] = {"SAVE"};
        t0 = now_ns();
        char *ok = resp_call(c, 1, save);
        rr.save_s = (double)(now_ns() - t0) / 1e9;
        if (!ok || strcmp(ok, "+OK") != 0)
            printf("  warning: redis SAVE replied %s\n", ok ? ok : "(nothing)");
        free(ok);
        rr.bytes = file_size(bench_dir, "ember_bench_snap.redis.rdb");
        resp_close(c);
        redis_stop();

        char log[600];
        snprintf(log, sizeof log, "%s/ember_bench_snap.redis.log", bench_dir);
        unlink(log);
        const char *extra[] = {
            "--dir", bench_dir, "--dbfilename", "ember_bench_snap.redis.rdb", "--logfile",
            log,     NULL};
        t0 = now_ns();
        g_redis_port = redis_start_args(extra, 600);
        redis_ping_s = (double)(now_ns() - t0) / 1e9;
        if (g_redis_port > 0) {
            resp *c2 = resp_open(g_redis_port);
            const char *ds[] = {"DBSIZE"};
            char *n = c2 ? resp_call(c2, 1, ds) : NULL;
            if (!n || strtoll(n + (n[0] == ':'), NULL, 10) != keys)
                printf("  warning: redis-server loaded %s keys, %lld expected\n", n ? n : "?",
                       (long long)keys);
            free(n);
            resp_close(c2);
        }
        redis_stop();
        rr.load_s = redis_log_load_s(log);
        if (rr.load_s <= 0)
            rr.load_s = redis_ping_s;
        unlink(log);
        remove_file(bench_dir, "ember_bench_snap.redis.rdb");
    }

    /* Rates are of the dataset: redis-server's used_memory when it ran (the
     * same data for both), ember's otherwise. */
    uint64_t ds = redis_mem ? redis_mem : ember_mem;
    printf("\n  rates in MB/s of the dataset (%.1f MB%s); files in %s\n", mb(ds),
           redis_mem ? ", redis-server used_memory" : ", ember used_memory", bench_dir);
    printf("  %-28s %10s %10s %10s %10s %10s\n", "", "file MB", "save s", "save MB/s", "load s",
           "load MB/s");
    const struct {
        const char *name;
        const file_result *r;
    } rows[] = {{"ember zstd level 1 (default)", &ez},
                {"ember plain", &ep},
                {"redis-server 7.0 (LZF)", &rr}};
    for (int i = 0; i < 3; i++) {
        const file_result *r = rows[i].r;
        if (!r->bytes)
            continue;
        printf("  %-28s %10.1f %10.2f %10.0f %10.2f %10.0f\n", rows[i].name, mb(r->bytes),
               r->save_s, mb(ds) / r->save_s, r->load_s, mb(ds) / r->load_s);
    }
    if (!rr.bytes)
        return;
    printf("  (redis load: %.2f s from its log line, %.2f s from start to PONG)\n", rr.load_s,
           redis_ping_s);
    printf("  ember zstd / redis: file %.2f, save time %.2f, load time %.2f\n",
           (double)ez.bytes / (double)rr.bytes, ez.save_s / rr.save_s, ez.load_s / rr.load_s);
    target("snapshot_file_vs_redis", (double)ez.bytes / (double)rr.bytes, 0.7, 0);
    target("snapshot_load_vs_redis", rr.load_s / ez.load_s, 1.0, 1);
}

/* ------------------------------------------------------------------ 2. latency */

#define OPS_PER_TICK 20      /* per thread and millisecond: 20k ops/s per thread */
#define MAX_SAMPLES 4000000u /* per thread and run */

typedef struct client {
    ember_db *db;
    size_t units;
    int id;
    atomic_int *stop;
    double *lat_us;
    size_t n;
    uint64_t runq_ns; /* time the thread was runnable but waiting for a CPU */
} client;

/* The second field of a schedstat file: nanoseconds the thread spent
 * runnable, waiting on a run queue (0 where the kernel does not say). */
static uint64_t runq_ns_of(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long long run = 0, wait = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &run, &wait) != 2)
            wait = 0;
        fclose(f);
    }
    return wait;
}

static uint64_t thread_runq_ns(void)
{
    return runq_ns_of("/proc/thread-self/schedstat");
}

/* The sum over the process's threads alive now. */
static uint64_t process_runq_ns(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    uint64_t sum = 0;
    while (d && (e = readdir(d)) != NULL) {
        char path[300];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        sum += runq_ns_of(path);
    }
    if (d)
        closedir(d);
    return sum;
}

static void *client_main(void *arg)
{
    client *cl = arg;
    uint64_t rng = 0x1234567ull + (uint64_t)cl->id * 7919;
    char key[32], val[128];
    memset(val, 'v', sizeof val);
    cl->n = 0;
    uint64_t runq0 = thread_runq_ns();
    uint64_t tick = now_ns();
    while (!atomic_load_explicit(cl->stop, memory_order_relaxed)) {
        for (int i = 0; i < OPS_PER_TICK && cl->n < MAX_SAMPLES; i++) {
            size_t kl = fmt_key(key, "s:", rng_below(&rng, cl->units));
            int set = (int)(rng_next(&rng) & 1);
            uint64_t t0 = now_ns();
            int rc;
            if (set) {
                rc = ember_set(cl->db, key, kl, val, 100);
            } else {
                void *v = NULL;
                size_t vl;
                rc = ember_get(cl->db, key, kl, &v, &vl);
                ember_free(v);
                if (rc == EMBER_ENOTFOUND) /* expired meanwhile */
                    rc = EMBER_OK;
            }
            cl->lat_us[cl->n++] = (double)(now_ns() - t0) / 1e3;
            if (rc)
                die(set ? "ember_set" : "ember_get", rc);
        }
        tick += 1000000;
        uint64_t now = now_ns();
        if (now < tick)
            sleep_ns(tick - now);
        else if (now > tick + 100000000)
            tick = now; /* far behind: do not burst to catch up */
    }
    cl->runq_ns = thread_runq_ns() - runq0;
    return NULL;
}

typedef struct lat_result {
    double p50, p99, p999, max;
    size_t n;
    double runq_us;        /* the clients' run-queue wait per call */
    double exec_runq_ms_s; /* the executor's (and main's) run-queue wait, ms per s */
} lat_result;

static lat_result lat_summary(client *cl, int nc)
{
    size_t n = 0;
    for (int i = 0; i < nc; i++)
        n += cl[i].n;
    double *all = xmalloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nc; i++) {
        memcpy(all + k, cl[i].lat_us, cl[i].n * sizeof *all);
        k += cl[i].n;
    }
    qsort(all, n, sizeof *all, cmp_dbl);
    lat_result r = {0, 0, 0, 0, n, 0, 0};
    for (int i = 0; i < nc; i++)
        r.runq_us += (double)cl[i].runq_ns / 1e3 / (double)(n ? n : 1);
    if (n) {
        r.p50 = all[n / 2];
        r.p99 = all[(size_t)((double)n * 0.99)];
        r.p999 = all[(size_t)((double)n * 0.999)];
        r.max = all[n - 1];
    }
    free(all);
    return r;
}

/* runq us/c: the time the client threads waited for a CPU, per call; exec
 * ms/s: the time the executor (with the main and sampler threads, which
 * mostly sleep) waited for one, per second. */
static void lat_row(const char *name, const lat_result *r, double rate)
{
    printf("  %-32s %8zu %8.0f %8.2f %8.2f %9.2f %8.0f %10.2f %9.0f\n", name, r->n, rate, r->p50,
           r->p99, r->p999, r->max, r->runq_us, r->exec_runq_ms_s);
}

typedef struct sampler {
    ember_db *db;
    atomic_int stop;
    uint64_t max_used, max_rss;
} sampler;

static void *sampler_main(void *arg)
{
    sampler *s = arg;
    while (!atomic_load(&s->stop)) {
        uint64_t u = ember_used_memory(s->db);
        uint64_t r = proc_status_bytes("VmRSS");
        s->max_used = u > s->max_used ? u : s->max_used;
        s->max_rss = r > s->max_rss ? r : s->max_rss;
        sleep_ns(5000000);
    }
    return NULL;
}

/* Runs the 2 clients for `seconds`, or while a snapshot is taken when
 * `snapshot` is set (then *snap_s gets its duration). */
static lat_result run_clients(ember_db *db, size_t units, double seconds, int snapshot,
                              uint32_t flags, double *snap_s, double *rate)
{
    enum { NC = 2 };
    client cl[NC];
    pthread_t th[NC];
    atomic_int stop = 0;
    /* Threads alive before and after: the executor, this one, the sampler. */
    uint64_t runq0 = process_runq_ns();
    for (int i = 0; i < NC; i++) {
        cl[i] = (client){db, units, i, &stop, xmalloc(MAX_SAMPLES * sizeof(double)), 0, 0};
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    uint64_t t0 = now_ns();
    if (snapshot) {
        sleep_ns(200000000); /* the clients settle first */
        uint64_t s0 = now_ns();
        int rc = ember_snapshot_save_path(db, bench_dir, "ember_bench_snap.big.rdb", flags);
        if (rc)
            die("ember_snapshot_save_path", rc);
        *snap_s = (double)(now_ns() - s0) / 1e9;
    } else {
        sleep_ns((uint64_t)(seconds * 1e9));
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NC; i++)
        pthread_join(th[i], NULL);
    double el = (double)(now_ns() - t0) / 1e9;
    lat_result r = lat_summary(cl, NC);
    r.exec_runq_ms_s = (double)(process_runq_ns() - runq0) / 1e6 / el;
    *rate = (double)r.n / el;
    for (int i = 0; i < NC; i++)
        free(cl[i].lat_us);
    return r;
}

static void section_latency(void)
{
    uint64_t want_bytes = quick ? 100000000ull : 1500000000ull;
    ember_db *db = open_db(EMBER_MODE_EXECUTOR);
    uint64_t t0 = now_ns();
    size_t units = ember_load_units(db, 0, want_bytes);
    uint64_t data = ember_used_memory(db);
    int64_t keys = 0;
    const char *dbsize[] = {"DBSIZE"};
    cmd_status(db, 1, dbsize, NULL, &keys);
    printf("dataset: %zu units of the mix above, %lld keys, used_memory %.1f MB, VmRSS %.1f MB "
           "(filled in %.1f s)\n",
           units, (long long)keys, mb(data), mb(proc_status_bytes("VmRSS")),
           (double)(now_ns() - t0) / 1e9);
    printf("clients: 2 threads, each %d synchronous calls per ms (half SET of a 100-byte value, "
           "half GET,\n  random string keys); latency of every call\n",
           OPS_PER_TICK);

    /* Without a snapshot first, for as long as a snapshot took in a dry run
     * would be ideal; a fixed time close to it is enough. */
    double snap_s = 0, rate_base, rate_snap;
    lat_result base = run_clients(db, units, quick ? 1.0 : 5.0, 0, 0, NULL, &rate_base);

    sampler smp = {db, 0, 0, 0};
    uint64_t used0 = ember_used_memory(db);
    uint64_t rss0 = proc_status_bytes("VmRSS");
    int hwm_ok = reset_peak_rss() == 0;
    pthread_t st;
    pthread_create(&st, NULL, sampler_main, &smp);
    lat_result snap = run_clients(db, units, 0, 1, 0, &snap_s, &rate_snap);
    atomic_store(&smp.stop, 1);
    pthread_join(st, NULL);
    uint64_t hwm = proc_status_bytes("VmHWM");
    uint64_t file = file_size(bench_dir, "ember_bench_snap.big.rdb");
    remove_file(bench_dir, "ember_bench_snap.big.rdb");

    printf("\n  %-32s %8s %8s %8s %8s %9s %8s %10s %9s\n", "", "calls", "calls/s", "p50 us",
           "p99 us", "p99.9 us", "max us", "runq us/c", "exec ms/s");
    lat_row("without snapshot", &base, rate_base);
    lat_row("during snapshot (zstd, default)", &snap, rate_snap);
    printf("  snapshot: %.2f s, file %.1f MB (%.0f MB/s of used_memory)\n", snap_s, mb(file),
           mb(data) / snap_s);
    /* The same with a plain file: the writer thread does not compress. */
    double plain_s = 0, rate_plain;
    lat_result plain = run_clients(db, units, 0, 1, EMBER_SNAPSHOT_PLAIN, &plain_s, &rate_plain);
    remove_file(bench_dir, "ember_bench_snap.big.rdb");
    lat_row("during snapshot (plain)", &plain, rate_plain);
    printf("  snapshot plain: %.2f s (%.0f MB/s of used_memory)\n", plain_s, mb(data) / plain_s);
    uint64_t peak_rss = hwm_ok && hwm > smp.max_rss ? hwm : smp.max_rss;
    double extra_rss = peak_rss > rss0 ? (double)(peak_rss - rss0) : 0;
    double extra_used = smp.max_used > used0 ? (double)(smp.max_used - used0) : 0;
    printf("  peak extra memory during the snapshot: RSS +%.1f MB (%s), used_memory +%.1f MB "
           "(sampled every 5 ms); dataset %.1f MB\n",
           extra_rss / 1e6, hwm_ok ? "VmHWM" : "sampled VmRSS", extra_used / 1e6, mb(data));
    target("snapshot_p99_ratio", snap.p99 / base.p99, 2.0, 0);
    double extra = extra_rss > extra_used ? extra_rss : extra_used;
    target("snapshot_peak_mem_frac", extra / (double)data, 0.10, 0);
    ember_db_close(db);
}

int main(int argc, char **argv)
{
    bench_prog = "bench_snapshot";
    bench_opts o;
    bench_parse_args(argc, argv, "file,latency", &o);
    quick = o.quick;
    const char *d = getenv("EMBER_BENCH_DIR");
    if (d && *d)
        bench_dir = d;
    uint64_t t0 = now_ns();
    print_machine();
    redis_install_cleanup();
    if (!o.redis)
        printf("--no-redis: ember only\n");
    g_redis_pid = -1;
    if (want("file")) {
        printf("\n== 1. snapshot files: ember vs redis-server\n");
        no_redis = !o.redis;
        run_section(section_file);
    }
    if (want("latency")) {
        printf("\n== 2. SET/GET latency and memory while a snapshot runs\n");
        run_section(section_latency);
    }
    return bench_finish(t0);
}
