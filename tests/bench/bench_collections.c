/*
 * bench_collections.c — ember's collection types against redis-server and
 * SQLite, one program, one run.
 *
 *   1. memory: the same data loaded into ember (INFO memory used_memory) and
 *      into a redis-server started here (its used_memory), after an empty
 *      baseline each: 100k hashes x 10 small fields, 100k sets x 10 integers,
 *      100k sets x 10 short strings, 100k sorted sets x 10 members, one list
 *      of 10M short elements
 *   2. ops/s of list, hash, set and sorted-set commands: inline, through the
 *      executor (sync, and ember_batch_exec_async of 64, 4 in flight), and redis-server driven by
 *      redis-benchmark -P 16 with the same commands
 *   3. "latest 10 visitors": LPUSH + LTRIM per visit and LRANGE to read,
 *      against SQLite doing INSERT + SELECT ... ORDER BY created_at DESC
 *      LIMIT 10 (only when built with SQLite)
 *
 * Every goal is printed as one line: TARGET <name> <value> <goal> <met|missed>,
 * all of them again at the end. Ratios are measured in the same run because
 * the machine is noisy; rates are medians of interleaved runs after a warm-up.
 *
 * Usage: bench_collections [--quick] [--no-redis] [--only LIST]
 *   --quick     small sizes: the whole run takes well under 30 s (smoke test)
 *   --no-redis  skip everything that needs redis-server / redis-benchmark
 *   --only LIST comma-separated sections: mem,ops,visitors
 */
#include <inttypes.h>
#include <malloc.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef BENCH_HAVE_SQLITE
#include <sqlite3.h>
#endif

#include "bench_util.h"
#include "ember.h"

#define BATCH_N 64
#define MAX_ARGS 2048
#define LIST_PER_CMD 1000 /* elements per RPUSH when loading a list */
#define VISITORS 100000   /* distinct visitor ids the visits are drawn from */

typedef struct params {
    int quick, redis;
    size_t mem_keys;   /* keys of the hash / set / zset datasets */
    size_t list_elems; /* elements of the big list */
    size_t keys;       /* hashes and sets of the ops runs */
    size_t zset_size;  /* members of the ops runs' sorted set */
    size_t lpop_fill;  /* elements in list:pop before each LPOP run */
    double run_s;      /* one timed ember run */
    int reps;          /* timed runs per configuration (median reported) */
    long redis_n;      /* requests per redis-benchmark run */
    int redis_reps;    /* redis-benchmark runs per command */
    size_t visits;     /* visits of the "latest 10 visitors" run */
    int visit_reps;
} params;

static params P;

/* Sizes: row 0 for --quick (a smoke run well under 30 s), row 1 for the full
 * run (a few minutes on 2 cores). Columns in the order of struct params:
 * quick redis | mem_keys list_elems | keys zset_size lpop_fill run_s reps
 * redis_n redis_reps | visits visit_reps */
static const params sizes[2] = {
    {0, 1, 20000, 1000000, 20000, 100000, 300000, 0.04, 3, 100000, 1, 100000, 1},
    {0, 1, 100000, 10000000, 100000, 1000000, 3000000, 0.25, 5, 1000000, 3, 1000000, 3},
};
/* ------------------------------------------------------------------ command builder */

/* One command's argument vector, its text in a private buffer. */
typedef struct cmdbuf {
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    size_t argc, used;
    char text[MAX_ARGS * 32];
} cmdbuf;

static void cb_reset(cmdbuf *cb)
{
    cb->argc = cb->used = 0;
}

static void cb_lit(cmdbuf *cb, const char *s)
{
    cb->argv[cb->argc] = s;
    cb->lens[cb->argc++] = strlen(s);
}

/* Appends prefix followed by the decimal n. */
static void cb_num(cmdbuf *cb, const char *prefix, size_t n)
{
    char *at = cb->text + cb->used;
    size_t l = fmt_key(at, prefix, n);
    cb->argv[cb->argc] = at;
    cb->lens[cb->argc++] = l;
    cb->used += l + 1;
}

/* Runs cb on an ember database; 1 if the reply is an error (its text is
 * copied to err when err is given). */
static int ember_run_cb(ember_db *db, const cmdbuf *cb, char *err, size_t errcap)
{
    ember_reply *r;
    int rc = ember_command(db, cb->argc, cb->argv, cb->lens, &r);
    if (rc)
        die("ember_command", rc);
    int bad = ember_reply_type(r) == EMBER_REPLY_ERROR;
    if (bad && err) /* the message, up to the echo of the arguments */
        snprintf(err, errcap, "%.*s", (int)strcspn(ember_reply_str(r, NULL), ","),
                 ember_reply_str(r, NULL));
    ember_reply_free(r);
    return bad;
}

/* OBJECT ENCODING of key, into out. */
static void ember_encoding(ember_db *db, const char *key, char *out, size_t cap)
{
    const char *argv[3] = {"OBJECT", "ENCODING", key};
    ember_reply *r;
    snprintf(out, cap, "?");
    if (ember_command(db, 3, argv, NULL, &r) != EMBER_OK)
        return;
    if (ember_reply_type(r) != EMBER_REPLY_ERROR && ember_reply_str(r, NULL))
        snprintf(out, cap, "%s", ember_reply_str(r, NULL));
    ember_reply_free(r);
}

static void redis_encoding(resp *c, const char *key, char *out, size_t cap)
{
    const char *argv[3] = {"OBJECT", "ENCODING", key};
    char *t = resp_call(c, 3, argv);
    snprintf(out, cap, "%s", t ? t : "?");
    free(t);
}

static void redis_flushall(resp *c)
{
    const char *argv[1] = {"FLUSHALL"};
    free(resp_call(c, 1, argv));
}

/* ------------------------------------------------------------------ 1. memory */

typedef struct dataset {
    const char *name; /* TARGET suffix */
    const char *desc;
    const char *sample; /* a key whose encoding is shown */
    void (*gen)(size_t i, cmdbuf *cb);
    size_t (*count)(void); /* commands */
    size_t (*units)(void); /* keys (or list elements) for the per-unit column */
} dataset;

static size_t n_keys(void)
{
    return P.mem_keys;
}

static size_t n_list_cmds(void)
{
    return (P.list_elems + LIST_PER_CMD - 1) / LIST_PER_CMD;
}

static size_t n_list_elems(void)
{
    return P.list_elems;
}

/* HSET hash:<i> field0 val:<10i> ... field9 val:<10i+9> */
static void gen_hash(size_t i, cmdbuf *cb)
{
    cb_lit(cb, "HSET");
    cb_num(cb, "hash:", i);
    for (size_t j = 0; j < 10; j++) {
        cb_num(cb, "field", j);
        cb_num(cb, "val:", i * 10 + j);
    }
}

/* SADD iset:<i> <10i> ... <10i+9> */
static void gen_iset(size_t i, cmdbuf *cb)
{
    cb_lit(cb, "SADD");
    cb_num(cb, "iset:", i);
    for (size_t j = 0; j < 10; j++)
        cb_num(cb, "", i * 10 + j);
}

/* SADD sset:<i> str:<10i> ... str:<10i+9> */
static void gen_sset(size_t i, cmdbuf *cb)
{
    cb_lit(cb, "SADD");
    cb_num(cb, "sset:", i);
    for (size_t j = 0; j < 10; j++)
        cb_num(cb, "str:", i * 10 + j);
}

/* ZADD zset:<i> <score> m:<10i> ... (integer scores below 1M, spread) */
static void gen_zset(size_t i, cmdbuf *cb)
{
    cb_lit(cb, "ZADD");
    cb_num(cb, "zset:", i);
    for (size_t j = 0; j < 10; j++) {
        size_t n = i * 10 + j;
        cb_num(cb, "", (n * 2654435761u) % 1000000);
        cb_num(cb, "m:", n);
    }
}

/* RPUSH list:big item:<n> ... (LIST_PER_CMD per command) */
static void gen_list(size_t i, cmdbuf *cb)
{
    cb_lit(cb, "RPUSH");
    cb_lit(cb, "list:big");
    for (size_t n = i * LIST_PER_CMD; n < (i + 1) * LIST_PER_CMD && n < P.list_elems; n++)
        cb_num(cb, "item:", n);
}

static const dataset g_datasets[] = {
    {"hash", "hashes x 10 fields (field<j> -> val:<n>)", "hash:0", gen_hash, n_keys, n_keys},
    {"set_int", "sets x 10 integers", "iset:0", gen_iset, n_keys, n_keys},
    {"set_str", "sets x 10 short strings (str:<n>)", "sset:0", gen_sset, n_keys, n_keys},
    {"zset", "sorted sets x 10 members (m:<n>, integer scores)", "zset:0", gen_zset, n_keys,
     n_keys},
    {"list", "elements in one list (item:<n>)", "list:big", gen_list, n_list_cmds, n_list_elems},
};
enum { N_DATASETS = sizeof g_datasets / sizeof g_datasets[0] };

static void section_memory(void)
{
    printf("\n== 1. Memory: the same data in ember (inline database) and in redis-server; "
           "used_memory after\n      loading minus used_memory of the empty database (ember: "
           "INFO memory, usable sizes of\n      its allocations; glibc: mallinfo2 cross-check; "
           "redis: INFO memory, jemalloc)\n\n");
    printf("%-9s %-50s %11s %11s %9s %9s %7s  %s\n", "dataset", "", "ember B", "redis B",
           "ember B/u", "redis B/u", "ratio", "encoding ember / redis");
    static cmdbuf cb;
    resp *c = P.redis ? resp_open(g_redis_port) : NULL;
    for (size_t d = 0; d < N_DATASETS; d++) {
        const dataset *ds = &g_datasets[d];
        size_t n = ds->count(), units = ds->units();
        char label[80], err[160] = "", enc_e[32] = "-", enc_r[32] = "-";
        snprintf(label, sizeof label, "%zu %s", units, ds->desc);

        ember_db *db = open_db(EMBER_MODE_INLINE);
        uint64_t base = ember_used_memory(db);
        struct mallinfo2 mi0 = mallinfo2();
        uint64_t errors = 0;
        for (size_t i = 0; i < n && errors == 0; i++) {
            cb_reset(&cb);
            ds->gen(i, &cb);
            errors += (uint64_t)ember_run_cb(db, &cb, err, sizeof err);
        }
        uint64_t used = ember_used_memory(db);
        struct mallinfo2 mi1 = mallinfo2();
        ember_encoding(db, ds->sample, enc_e, sizeof enc_e);
        ember_db_close(db);
        double e_bytes = errors ? 0 : (double)(used - base);
        double e_malloc = (double)(mi1.uordblks + mi1.hblkhd) - (double)(mi0.uordblks + mi0.hblkhd);

        double r_bytes = 0;
        uint64_t rerrors = 0;
        if (c) {
            redis_flushall(c);
            uint64_t rbase = redis_used_memory(c);
            resp_pipe p;
            resp_pipe_init(&p, c);
            for (size_t i = 0; i < n; i++) {
                cb_reset(&cb);
                ds->gen(i, &cb);
                resp_pipe_add(&p, cb.argc, cb.argv, cb.lens);
            }
            rerrors = resp_pipe_finish(&p);
            r_bytes = (double)(redis_used_memory(c) - rbase);
            redis_encoding(c, ds->sample, enc_r, sizeof enc_r);
            redis_flushall(c);
        }
        double ratio = e_bytes > 0 && r_bytes > 0 ? e_bytes / r_bytes : 0;
        printf("%-9s %-50s %11.0f %11.0f %9.1f %9.1f %7.3f  %s / %s\n", ds->name, label, e_bytes,
               r_bytes, e_bytes / (double)units, r_bytes / (double)units, ratio, enc_e, enc_r);
        printf("%-9s %-50s %11.0f %11s %9.1f\n", "", "  ember, glibc mallinfo2 delta", e_malloc, "",
               e_malloc / (double)units);
        if (errors)
            printf("  ember could not load it: %s\n", err);
        if (rerrors)
            printf("  redis load: %" PRIu64 " errors\n", rerrors);
        char tname[64];
        snprintf(tname, sizeof tname, "mem_%s_vs_redis", ds->name);
        if (ratio <= 0)
            printf("   (%s: not measured, %s; reported as missed)\n", tname,
                   errors ? "ember could not load the data" : "no redis-server");
        target(tname, ratio > 0 ? ratio : 999, 0.8, 0);
    }
    resp_close(c);
}

/* ------------------------------------------------------------------ 2. ops/s */

/* Argument tables, formatted once: the timed loops only pick indices. The
 * numbers are zero-padded to 12 digits, as redis-benchmark expands
 * __rand_int__, so ember and redis see the same bytes. */
typedef char arg16[16];
typedef char arg24[24];
static arg24 *g_hkeys, *g_skeys; /* hash:<12> set:<12>, P.keys each */
static arg16 *g_nums;            /* <12>, P.zset_size */
static arg16 *g_members;         /* m:<12>, P.zset_size */

static void tables_init(void)
{
    g_hkeys = xmalloc(P.keys * sizeof *g_hkeys);
    g_skeys = xmalloc(P.keys * sizeof *g_skeys);
    size_t nn = P.zset_size > P.keys ? P.zset_size : P.keys;
    g_nums = xmalloc(nn * sizeof *g_nums);
    g_members = xmalloc(P.zset_size * sizeof *g_members);
    for (size_t i = 0; i < P.keys; i++) {
        fmt_key12(g_hkeys[i], "hash:", i);
        fmt_key12(g_skeys[i], "set:", i);
    }
    for (size_t i = 0; i < nn; i++)
        fmt_key12(g_nums[i], "", i);
    for (size_t i = 0; i < P.zset_size; i++)
        fmt_key12(g_members[i], "m:", i);
}

#define LEN12(s) (sizeof(s) - 1)

enum {
    OP_LPUSH,
    OP_LPOP,
    OP_LRANGE,
    OP_HSET,
    OP_HGET,
    OP_SADD,
    OP_SISMEMBER,
    OP_ZADD,
    OP_ZSCORE,
    OP_ZRANK,
    OP_ZRANGE,
    OP__N
};

typedef struct op_spec {
    const char *name;
    const char *redis_args; /* command line for redis-benchmark */
    int keyspace;           /* -r: 1 = P.keys, 2 = P.zset_size, 0 = none */
} op_spec;

static const op_spec g_ops[OP__N] = {
    {"LPUSH", "LPUSH list:push item:12345", 0},
    {"LPOP", "LPOP list:pop", 0},
    {"LRANGE_100", "LRANGE list:range 0 99", 0},
    {"HSET", "HSET hash:__rand_int__ field5 val:123456", 1},
    {"HGET", "HGET hash:__rand_int__ field5", 1},
    {"SADD", "SADD set:__rand_int__ __rand_int__", 1},
    {"SISMEMBER", "SISMEMBER set:__rand_int__ __rand_int__", 1},
    {"ZADD", "ZADD zset:big __rand_int__ m:__rand_int__", 2},
    {"ZSCORE", "ZSCORE zset:big m:__rand_int__", 2},
    {"ZRANK", "ZRANK zset:big m:__rand_int__", 2},
    {"ZRANGE_10", "ZRANGE zset:big __rand_int__ +inf BYSCORE LIMIT 0 10", 2},
};

/* The argument vector of one op, random parts drawn from seed. Pointers go
 * to static strings or the tables. */
static size_t op_argv(int op, uint64_t *seed, const char **a, size_t *l)
{
    size_t k, m;
#define ARG(i, s, n) (a[i] = (s), l[i] = (n))
    switch (op) {
    case OP_LPUSH:
        ARG(0, "LPUSH", 5), ARG(1, "list:push", 9), ARG(2, "item:12345", 10);
        return 3;
    case OP_LPOP:
        ARG(0, "LPOP", 4), ARG(1, "list:pop", 8);
        return 2;
    case OP_LRANGE:
        ARG(0, "LRANGE", 6), ARG(1, "list:range", 10), ARG(2, "0", 1), ARG(3, "99", 2);
        return 4;
    case OP_HSET:
    case OP_HGET:
        k = rng_below(seed, P.keys);
        ARG(0, op == OP_HSET ? "HSET" : "HGET", 4), ARG(1, g_hkeys[k], 17);
        ARG(2, "field5", 6), ARG(3, "val:123456", 10);
        return op == OP_HSET ? 4 : 3;
    case OP_SADD:
    case OP_SISMEMBER:
        k = rng_below(seed, P.keys), m = rng_below(seed, P.keys);
        ARG(0, op == OP_SADD ? "SADD" : "SISMEMBER", op == OP_SADD ? 4 : 9);
        ARG(1, g_skeys[k], 16), ARG(2, g_nums[m], 12);
        return 3;
    case OP_ZADD:
        k = rng_below(seed, P.zset_size), m = rng_below(seed, P.zset_size);
        ARG(0, "ZADD", 4), ARG(1, "zset:big", 8), ARG(2, g_nums[k], 12), ARG(3, g_members[m], 14);
        return 4;
    case OP_ZSCORE:
    case OP_ZRANK:
        m = rng_below(seed, P.zset_size);
        ARG(0, op == OP_ZSCORE ? "ZSCORE" : "ZRANK", op == OP_ZSCORE ? 6 : 5);
        ARG(1, "zset:big", 8), ARG(2, g_members[m], 14);
        return 3;
    default:
        k = rng_below(seed, P.zset_size);
        ARG(0, "ZRANGE", 6), ARG(1, "zset:big", 8), ARG(2, g_nums[k], 12), ARG(3, "+inf", 4);
        ARG(4, "BYSCORE", 7), ARG(5, "LIMIT", 5), ARG(6, "0", 1), ARG(7, "10", 2);
        return 8;
    }
#undef ARG
}

/* Sends cb to ember or to redis (through the pipe), whichever is given. */
typedef struct sink {
    ember_db *db;
    resp_pipe *pipe;
    uint64_t errors;
    char err[160];
} sink;

static void sink_cmd(sink *s, const cmdbuf *cb)
{
    if (s->db)
        s->errors += (uint64_t)ember_run_cb(s->db, cb, s->err, sizeof s->err);
    else
        resp_pipe_add(s->pipe, cb->argc, cb->argv, cb->lens);
}

/* The data every op run finds: list:range (200 elements), P.keys hashes of
 * 10 fields and sets of 10 members, and zset:big of P.zset_size members
 * (m:<i> with score i). */
static void ops_preload(sink *s)
{
    static cmdbuf cb;
    cb_reset(&cb);
    cb_lit(&cb, "RPUSH");
    cb_lit(&cb, "list:range");
    for (size_t i = 0; i < 200; i++)
        cb_num(&cb, "item:", i);
    sink_cmd(s, &cb);
    for (size_t k = 0; k < P.keys; k++) {
        cb_reset(&cb);
        cb_lit(&cb, "HSET");
        cb_lit(&cb, g_hkeys[k]);
        for (size_t j = 0; j < 10; j++) {
            cb_num(&cb, "field", j);
            cb_num(&cb, "val:", k * 10 + j);
        }
        sink_cmd(s, &cb);
        cb_reset(&cb);
        cb_lit(&cb, "SADD");
        cb_lit(&cb, g_skeys[k]);
        for (size_t j = 0; j < 10; j++)
            cb_lit(&cb, g_nums[(k * 10 + j) % P.keys]);
        sink_cmd(s, &cb);
    }
    for (size_t base = 0; base < P.zset_size; base += 1000) {
        cb_reset(&cb);
        cb_lit(&cb, "ZADD");
        cb_lit(&cb, "zset:big");
        for (size_t i = base; i < base + 1000 && i < P.zset_size; i++) {
            cb_num(&cb, "", i);
            cb_lit(&cb, g_members[i]);
        }
        sink_cmd(s, &cb);
    }
}

/* Before a run of op: LPUSH starts from an empty list, LPOP from a list of
 * `fill` elements (so it never pops from an empty one). */
static void op_reset(sink *s, int op, size_t fill)
{
    static cmdbuf cb;
    if (op != OP_LPUSH && op != OP_LPOP)
        return;
    cb_reset(&cb);
    cb_lit(&cb, "DEL");
    cb_lit(&cb, op == OP_LPUSH ? "list:push" : "list:pop");
    sink_cmd(s, &cb);
    for (size_t done = 0; op == OP_LPOP && done < fill; done += LIST_PER_CMD) {
        cb_reset(&cb);
        cb_lit(&cb, "RPUSH");
        cb_lit(&cb, "list:pop");
        for (size_t i = 0; i < LIST_PER_CMD; i++)
            cb_lit(&cb, "item:12345");
        sink_cmd(s, &cb);
    }
}

enum { M_INLINE, M_SYNC, M_BATCH, M__N };

typedef struct run_result {
    double ops_s;
    uint64_t ops, errors;
} run_result;

/* Batches a producer keeps in flight (ember_batch_exec_async): while the
 * executor runs one, the producer fills the next. */
#define BATCH_INFLIGHT 4

typedef struct bslot {
    ember_batch *b;
    _Atomic int busy; /* cleared by the completion callback */
    int status;
    int ran; /* holds replies not checked yet */
} bslot;

static void bslot_done(void *ud, int status, ember_reply *r)
{
    bslot *s = ud;
    (void)r; /* NULL for batches */
    s->status = status;
    atomic_store_explicit(&s->busy, 0, memory_order_release);
}

/* Waits for a slot's batch and counts the error replies it got. */
static uint64_t bslot_collect(bslot *s)
{
    for (unsigned spin = 0; atomic_load_explicit(&s->busy, memory_order_acquire); spin++)
        if (spin > 256)
            sched_yield();
    uint64_t errors = 0;
    if (s->ran) {
        errors += s->status != EMBER_OK;
        for (int k = 0; k < BATCH_N; k++)
            errors += ember_reply_type(ember_batch_reply(s->b, (size_t)k)) == EMBER_REPLY_ERROR;
        s->ran = 0;
    }
    return errors;
}

/* One timed run: until secs have passed or cap ops were done. */
static void run_once(ember_db *db, int mode, int op, double secs, uint64_t cap, uint64_t seed,
                     bslot *slots, run_result *res)
{
    uint64_t ops = 0, errors = 0;
    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(secs * 1e9), t = t0;
    for (unsigned n = 0; t < deadline && ops + BATCH_N <= cap; n++) {
        if (mode == M_BATCH) {
            bslot *sl = &slots[n % BATCH_INFLIGHT];
            errors += bslot_collect(sl);
            ember_batch_clear(sl->b);
            for (int k = 0; k < BATCH_N; k++) {
                const char *a[8];
                size_t l[8];
                size_t argc = op_argv(op, &seed, a, l);
                if (ember_batch_add(sl->b, argc, a, l) != EMBER_OK)
                    errors++;
            }
            atomic_store_explicit(&sl->busy, 1, memory_order_relaxed);
            if (ember_batch_exec_async(db, sl->b, EMBER_BATCH_PIPELINE, NULL, bslot_done, sl) !=
                EMBER_OK) {
                atomic_store_explicit(&sl->busy, 0, memory_order_relaxed);
                errors++;
            } else {
                sl->ran = 1;
            }
        } else {
            for (int k = 0; k < BATCH_N; k++) {
                const char *a[8];
                size_t l[8];
                size_t argc = op_argv(op, &seed, a, l);
                ember_reply *r;
                if (ember_command(db, argc, a, l, &r) != EMBER_OK) {
                    errors++;
                    continue;
                }
                errors += ember_reply_type(r) == EMBER_REPLY_ERROR;
                ember_reply_free(r);
            }
        }
        ops += BATCH_N;
        t = now_ns();
    }
    if (mode == M_BATCH) {
        for (int i = 0; i < BATCH_INFLIGHT; i++)
            errors += bslot_collect(&slots[i]);
        t = now_ns();
    }
    res->ops = ops;
    res->errors += errors;
    res->ops_s = (double)ops / ((double)(t - t0) / 1e9);
}

static double g_redis_rps[OP__N];

/* redis-benchmark runs of every op, interleaved over P.redis_reps rounds. */
static int redis_ops(void)
{
    resp *c = resp_open(g_redis_port);
    if (!c)
        return -1;
    resp_pipe p;
    resp_pipe_init(&p, c);
    sink s = {.pipe = &p};
    redis_flushall(c);
    ops_preload(&s);
    if (resp_pipe_finish(&p)) {
        resp_close(c);
        return -1;
    }
    double v[OP__N][8];
    for (int r = 0; r < P.redis_reps; r++) {
        for (int op = 0; op < OP__N; op++) {
            resp_pipe_init(&p, c);
            op_reset(&s, op, (size_t)P.redis_n + LIST_PER_CMD);
            resp_pipe_finish(&p);
            char args[256];
            size_t ks = g_ops[op].keyspace == 1 ? P.keys : P.zset_size;
            snprintf(args, sizeof args, "-P 16 -n %ld", P.redis_n);
            if (g_ops[op].keyspace)
                snprintf(args + strlen(args), sizeof args - strlen(args), " -r %zu", ks);
            snprintf(args + strlen(args), sizeof args - strlen(args), " %s", g_ops[op].redis_args);
            double rps = 0;
            if (redis_benchmark_csv(g_redis_port, args, 1, NULL, &rps) != 1)
                rps = 0;
            v[op][r] = rps;
        }
    }
    for (int op = 0; op < OP__N; op++)
        g_redis_rps[op] = median(v[op], P.redis_reps);
    redis_flushall(c);
    resp_close(c);
    return 0;
}

static void section_ops(void)
{
    printf("\n== 2. Ops/s: one producer; inline and executor sync use ember_command, batch64 "
           "ember_batch_exec_async\n      of %d (pipeline), 4 batches in flight; median of %d "
           "interleaved runs of %.2f s\n      after a warm-up. redis-server: redis-benchmark -P "
           "16 -n %ld (50 clients), median of %d.\n      Data: %zu hashes x 10 fields, %zu sets "
           "x 10, list:range of 200, zset:big of %zu members;\n      keys and members are "
           "12-digit numbers as redis-benchmark's __rand_int__ (-r %zu / %zu).\n      ZRANGE_10 "
           "is ZRANGE zset:big <random score> +inf BYSCORE LIMIT 0 10 (redis-benchmark\n      "
           "cannot compute a+9 for a rank range; this walks the same 10 entries from a random\n "
           "     position). LPOP runs start from %zu elements and stop there at the latest.\n\n",
           BATCH_N, P.reps, P.run_s, P.redis_n, P.redis_reps, P.keys, P.keys, P.zset_size, P.keys,
           P.zset_size, P.lpop_fill);
    tables_init();
    ember_db *dbs[M__N];
    dbs[M_INLINE] = open_db(EMBER_MODE_INLINE);
    dbs[M_SYNC] = dbs[M_BATCH] = open_db(EMBER_MODE_EXECUTOR);
    for (int m = 0; m < 2; m++) {
        sink s = {.db = dbs[m]};
        ops_preload(&s);
        if (s.errors && m == 0)
            printf("ember could not load all the data (%" PRIu64 " errors, the first: %s): the "
                   "commands that fail show errors below\n\n",
                   s.errors, s.err);
    }
    bslot b[BATCH_INFLIGHT];
    for (int i = 0; i < BATCH_INFLIGHT; i++) {
        int rc = ember_batch_new(&b[i].b);
        if (rc)
            die("ember_batch_new", rc);
        atomic_init(&b[i].busy, 0);
        b[i].ran = 0;
    }

    static double samples[OP__N][M__N][16];
    static run_result res[OP__N][M__N];
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (int op = 0; op < OP__N; op++) {
        for (int m = 0; m < M__N; m++) {
            sink s = {.db = dbs[m]};
            run_result warm = {0};
            op_reset(&s, op, P.lpop_fill);
            run_once(dbs[m], m, op, P.run_s / 4, P.lpop_fill, seed++, b, &warm);
        }
    }
    for (int r = 0; r < P.reps; r++) {
        for (int op = 0; op < OP__N; op++) {
            for (int m = 0; m < M__N; m++) {
                sink s = {.db = dbs[m]};
                op_reset(&s, op, P.lpop_fill);
                run_once(dbs[m], m, op, P.run_s, op == OP_LPOP ? P.lpop_fill : UINT64_MAX, seed++,
                         b, &res[op][m]);
                samples[op][m][r] = res[op][m].ops_s;
            }
        }
    }
    for (int i = 0; i < BATCH_INFLIGHT; i++)
        ember_batch_free(b[i].b);
    ember_db_close(dbs[M_INLINE]);
    ember_db_close(dbs[M_SYNC]);

    int have_redis = P.redis && g_redis_port > 0 && redis_ops() == 0;
    printf("%-11s %10s %10s %10s %10s %8s %8s %8s\n", "command", "inline", "exec sync", "exec b64",
           "redis P16", "b64/inl", "b64/red", "errors");
    double ember_b64[OP__N];
    uint64_t op_errors[OP__N];
    for (int op = 0; op < OP__N; op++) {
        char cells[M__N + 1][16];
        double med[M__N];
        uint64_t errors = 0;
        for (int m = 0; m < M__N; m++) {
            med[m] = median(samples[op][m], P.reps);
            fmt_rate(cells[m], sizeof cells[m], med[m]);
            errors += res[op][m].errors;
        }
        ember_b64[op] = med[M_BATCH];
        op_errors[op] = errors;
        if (have_redis && g_redis_rps[op] > 0)
            fmt_rate(cells[M__N], sizeof cells[M__N], g_redis_rps[op]);
        else
            snprintf(cells[M__N], sizeof cells[M__N], "-");
        double vs_redis = have_redis && g_redis_rps[op] > 0 ? ember_b64[op] / g_redis_rps[op] : 0;
        printf("%-11s %10s %10s %10s %10s %8.2f %8.2f %8" PRIu64 "\n", g_ops[op].name, cells[0],
               cells[1], cells[2], cells[3], med[M_BATCH] / med[M_INLINE], vs_redis, errors);
    }
    printf("  (errors: error replies or failed calls over all ember runs; a missing command "
           "shows here)\n");
    for (int op = 0; op < OP__N; op++) {
        char tname[64];
        snprintf(tname, sizeof tname, "ops_%s_batched_vs_redis", g_ops[op].name);
        int ok = have_redis && g_redis_rps[op] > 0 && op_errors[op] == 0;
        if (!ok)
            printf("   (%s: not measured, %s; reported as missed)\n", tname,
                   op_errors[op] ? "ember replied with errors" : "no redis-server");
        target(tname, ok ? ember_b64[op] / g_redis_rps[op] : 0, 10, 1);
    }
}

/* ------------------------------------------------------------------ 3. visitors */

#ifdef BENCH_HAVE_SQLITE

/* The i-th visit's visitor: "user:<id>". */
static size_t visitor_name(uint64_t *seed, char *buf)
{
    return fmt_key(buf, "user:", rng_below(seed, VISITORS));
}

/* The page a visit shows: the latest visitors, newest first, comma-separated. */
typedef struct latest10 {
    char text[10 * 24];
    int n;
} latest10;

static void latest_add(latest10 *l, const char *name, size_t len)
{
    size_t at = strlen(l->text);
    snprintf(l->text + at, sizeof l->text - at, "%s%.*s", l->n ? "," : "", (int)len, name);
    l->n++;
}

/* LPUSH + LTRIM 0 9 per visit, then LRANGE 0 9 (what a page that shows the
 * latest visitors does on each view). Returns seconds; *out = final list. */
static double ember_visits(ember_db *db, size_t n, latest10 *out)
{
    const char *del[2] = {"DEL", "visitors"};
    int64_t ignored;
    cmd_status(db, 2, del, NULL, &ignored);
    uint64_t seed = 42;
    char name[24];
    const char *push[3] = {"LPUSH", "visitors", name};
    size_t plen[3] = {5, 8, 0};
    const char *trim[4] = {"LTRIM", "visitors", "0", "9"};
    const char *range[4] = {"LRANGE", "visitors", "0", "9"};
    static const size_t tlen[4] = {5, 8, 1, 1}, rlen[4] = {6, 8, 1, 1};
    ember_reply *r = NULL;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        plen[2] = visitor_name(&seed, name);
        int rc = cmd_status(db, 3, push, plen, NULL);
        if (rc == EMBER_OK)
            rc = cmd_status(db, 4, trim, tlen, NULL);
        if (rc == EMBER_OK)
            rc = ember_command(db, 4, range, rlen, &r);
        if (rc != EMBER_OK || ember_reply_type(r) != EMBER_REPLY_ARRAY) {
            ember_reply_free(r);
            return -1;
        }
        for (size_t k = 0; i + 1 == n && k < ember_reply_len(r); k++) {
            size_t len;
            const char *s = ember_reply_str(ember_reply_element(r, k), &len);
            latest_add(out, s, len);
        }
        ember_reply_free(r);
        r = NULL;
    }
    return (double)(now_ns() - t0) / 1e9;
}

static int sql_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* INSERT + SELECT ... ORDER BY created_at DESC LIMIT 10 per visit, prepared
 * statements, autocommit (each visit its own transaction, as a request
 * handler would do). path ":memory:" or a file (WAL, synchronous=OFF). */
static double sqlite_visits(const char *path, size_t n, latest10 *out)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    int file = strcmp(path, ":memory:") != 0;
    if ((file &&
         (sql_exec(db, "PRAGMA journal_mode=WAL") || sql_exec(db, "PRAGMA synchronous=OFF"))) ||
        sql_exec(db, "PRAGMA cache_size=-262144") || sql_exec(db, "PRAGMA temp_store=MEMORY") ||
        sql_exec(db, "DROP TABLE IF EXISTS visits") ||
        sql_exec(db, "CREATE TABLE visits(id INTEGER PRIMARY KEY, visitor TEXT NOT NULL, "
                     "created_at INTEGER NOT NULL)") ||
        sql_exec(db, "CREATE INDEX visits_created_at ON visits(created_at)")) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *ins, *sel;
    if (sqlite3_prepare_v2(db, "INSERT INTO visits(visitor, created_at) VALUES(?1, ?2)", -1, &ins,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT visitor FROM visits ORDER BY created_at DESC LIMIT 10", -1,
                           &sel, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    uint64_t seed = 42;
    char name[24];
    int bad = 0;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n && !bad; i++) {
        size_t nl = visitor_name(&seed, name);
        /* created_at: microseconds since the start of the stream, one visit
         * per microsecond: unique and increasing, like the list's order. */
        sqlite3_bind_text(ins, 1, name, (int)nl, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, (sqlite3_int64)i);
        bad |= sqlite3_step(ins) != SQLITE_DONE;
        sqlite3_reset(ins);
        int st;
        while ((st = sqlite3_step(sel)) == SQLITE_ROW) {
            if (i + 1 == n)
                latest_add(out, (const char *)sqlite3_column_text(sel, 0),
                           (size_t)sqlite3_column_bytes(sel, 0));
        }
        bad |= st != SQLITE_DONE;
        sqlite3_reset(sel);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    sqlite3_close(db);
    return bad ? -1 : secs;
}
#endif

static void section_visitors(void)
{
    size_t n = P.visits;
    printf("\n== 3. \"Latest 10 visitors\": %zu visits (visitor ids drawn from %d); each visit "
           "records the\n      visitor and reads the latest 10. ember: LPUSH + LTRIM 0 9 + "
           "LRANGE 0 9 through\n      ember_command. SQLite: INSERT + SELECT visitor ... ORDER "
           "BY created_at DESC LIMIT 10,\n      index on created_at, prepared statements, "
           "autocommit, cache_size 256 MB; ':memory:'\n      is an in-memory database, 'file' "
           "a temp file with journal_mode=WAL, synchronous=OFF.\n      Median of %d "
           "interleaved runs; us per visit.\n\n",
           n, VISITORS, P.visit_reps);
#ifndef BENCH_HAVE_SQLITE
    printf("built without SQLite (pkg-config sqlite3 not found): section skipped\n");
    printf("   (visitors_inline_vs_sqlite: not measured, no SQLite; reported as missed)\n");
    target("visitors_inline_vs_sqlite", 0, 20, 1);
#else
    enum { V_INLINE, V_SYNC, V_SQL_MEM, V_SQL_FILE, V__N };
    static const char *const vname[V__N] = {"ember inline", "ember executor sync",
                                            "SQLite :memory:", "SQLite file (WAL, sync OFF)"};
    char path[] = "/tmp/bench_collections_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp", 0);
    close(fd);
    ember_db *idb = open_db(EMBER_MODE_INLINE), *edb = open_db(EMBER_MODE_EXECUTOR);
    double secs[V__N][8];
    latest10 got[V__N];
    int failed[V__N] = {0};
    memset(got, 0, sizeof got);
    for (int r = 0; r < P.visit_reps; r++) {
        for (int v = 0; v < V__N; v++) {
            memset(&got[v], 0, sizeof got[v]);
            double s = v == V_INLINE ? ember_visits(idb, n, &got[v])
                       : v == V_SYNC
                           ? ember_visits(edb, n, &got[v])
                           : sqlite_visits(v == V_SQL_MEM ? ":memory:" : path, n, &got[v]);
            failed[v] |= s < 0;
            secs[v][r] = s;
        }
    }
    ember_db_close(idb);
    ember_db_close(edb);
    unlink(path);
    char wal[64];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);

    double med[V__N];
    printf("%-30s %10s %12s %10s\n", "", "seconds", "us/visit", "visits/s");
    for (int v = 0; v < V__N; v++) {
        med[v] = failed[v] ? 0 : median(secs[v], P.visit_reps);
        if (failed[v]) {
            printf("%-30s failed\n", vname[v]);
            continue;
        }
        char rate[16];
        fmt_rate(rate, sizeof rate, (double)n / med[v]);
        printf("%-30s %10.3f %12.3f %10s\n", vname[v], med[v], med[v] * 1e6 / (double)n, rate);
    }
    int same = got[V_INLINE].n == 10;
    for (int v = 1; v < V__N; v++)
        same &= strcmp(got[V_INLINE].text, got[v].text) == 0;
    printf("latest 10 visitors identical in ember and SQLite: %s (%s)\n", same ? "yes" : "NO",
           got[V_INLINE].text);
    if (failed[V_INLINE] || failed[V_SQL_MEM] || failed[V_SQL_FILE]) {
        printf("   (visitors_inline_vs_sqlite: not measured, a run failed; reported as "
               "missed)\n");
        target("visitors_inline_vs_sqlite", 0, 20, 1);
        return;
    }
    double best_sql = med[V_SQL_MEM] < med[V_SQL_FILE] ? med[V_SQL_MEM] : med[V_SQL_FILE];
    printf("SQLite (faster variant) / ember: inline %.2fx, executor sync %.2fx\n",
           best_sql / med[V_INLINE], failed[V_SYNC] ? 0.0 : best_sql / med[V_SYNC]);
    target("visitors_inline_vs_sqlite", same ? best_sql / med[V_INLINE] : 0, 20, 1);
#endif
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    bench_prog = "bench_collections";
    bench_opts o;
    bench_parse_args(argc, argv, "mem,ops,visitors", &o);
    P = sizes[!o.quick];
    P.quick = o.quick;
    P.redis = o.redis;
    setvbuf(stdout, NULL, _IOLBF, 0);
    redis_install_cleanup();
    uint64_t t0 = now_ns();
    printf("bench_collections: %s run\n", P.quick ? "quick" : "full");
    print_machine();
    if (P.redis && (want("mem") || want("ops")))
        redis_begin();
    if (want("mem"))
        run_section(section_memory);
    if (want("ops")) {
        run_section(section_ops);
        printf("  (redis-server is a child not yet reaped: its CPU counts as 'other' here)\n");
    }
    redis_stop();
    if (want("visitors"))
        run_section(section_visitors);
    return bench_finish(t0);
}
