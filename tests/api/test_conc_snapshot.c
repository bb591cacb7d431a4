/*
 * test_conc_snapshot.c — a snapshot is a point-in-time image: taken while 4
 * threads mutate every type of value (writes, deletes, expiries, RENAME,
 * MOVE, SWAPDB, FLUSHDB...), it loads to exactly the state at its start.
 *
 * The reference is exact: one ember_run() closure dumps every database and
 * then issues BGSAVE, in the same executor step, so nothing runs between
 * the dump and the snapshot's start. The snapshot is then serialized
 * incrementally while the mutators keep going and the virtual clock moves
 * (keys with short TTLs expire, actively and on access), and the file is
 * loaded into a second store, whose clock is still at the start, and dumped
 * again.
 * Worker threads only record; the main thread asserts.
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
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#include "state_dump.h"

#define NDB 4
#define NKEYS 10000
#define T0_MS INT64_C(1767225600000)

typedef struct store {
    ember_db *db;
    ember_db *v[NDB];
} store;

static void store_open(store *s)
{
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_virtual_clock(cfg, T0_MS), EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &s->db), EMBER_OK);
    ember_config_free(cfg);
    for (int i = 0; i < NDB; i++)
        assert_int_equal(ember_db_view(s->db, i, &s->v[i]), EMBER_OK);
}

static void store_close(store *s)
{
    for (int i = 0; i < NDB; i++)
        ember_db_close(s->v[i]);
    assert_int_equal(ember_db_close(s->db), EMBER_OK);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Runs argv (NUL-terminated strings); returns 0 if ember_command failed. */
static int cmd(ember_db *db, size_t argc, const char **argv)
{
    ember_reply *r = NULL;
    int rc = ember_command(db, argc, argv, NULL, &r);
    ember_reply_free(r);
    return rc == EMBER_OK;
}

static void preload(store *s)
{
    uint64_t seed = 42;
    char k[32], v[64], f[32], n[32];
    for (int i = 0; i < NKEYS; i++) {
        ember_db *d = s->v[i % 3];
        snprintf(k, sizeof k, "k:%d", i);
        snprintf(v, sizeof v, "value-%d-%llu", i, (unsigned long long)(rnd(&seed) % 1000));
        switch (i % 6) {
        case 0: {
            const char *a[] = {"SET", k, v};
            assert_true(cmd(d, 3, a));
            break;
        }
        case 1:
            for (int j = 0; j < 5; j++) {
                snprintf(f, sizeof f, "f%d", j);
                const char *a[] = {"HSET", k, f, v};
                assert_true(cmd(d, 4, a));
            }
            break;
        case 2:
            for (int j = 0; j < 5; j++) {
                const char *a[] = {"RPUSH", k, v};
                assert_true(cmd(d, 3, a));
            }
            break;
        case 3:
            for (int j = 0; j < 5; j++) {
                snprintf(n, sizeof n, "%d", j * 3 + i);
                snprintf(f, sizeof f, "m%d", j);
                const char *a[] = {"ZADD", k, n, f};
                assert_true(cmd(d, 4, a));
            }
            break;
        case 4:
            for (int j = 0; j < 5; j++) {
                snprintf(f, sizeof f, "%d", j * 11 + i);
                const char *a[] = {"SADD", k, f};
                assert_true(cmd(d, 3, a));
            }
            break;
        default: {
            snprintf(n, sizeof n, "%d", i);
            const char *a[] = {"SET", k, n, "EX", "100000"};
            assert_true(cmd(d, 5, a));
        }
        }
    }
    /* Keys that expire while the snapshot runs (the main thread moves the
     * virtual clock): active and lazy expiry must write their pre-images. */
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "t:%d", i);
        snprintf(n, sizeof n, "%d", 100 + i);
        const char *a[] = {"SET", k, "soon", "PX", n};
        assert_true(cmd(s->v[i % 2], 5, a));
    }
    /* Big values too (hashtable and quicklist encodings). */
    for (int j = 0; j < 2000; j++) {
        snprintf(f, sizeof f, "field%d", j);
        const char *a[] = {"HSET", "bighash", f, "x"};
        assert_true(cmd(s->v[0], 4, a));
        const char *b[] = {"RPUSH", "biglist", f};
        assert_true(cmd(s->v[1], 3, b));
    }
}

typedef struct worker {
    store *s;
    int id;
    _Atomic int *stop;
    _Atomic uint64_t ops; /* read by the main thread while running */
    uint64_t failures;    /* API failures (not Redis errors) */
} worker;

static void *mutator(void *arg)
{
    worker *w = arg;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
    char k[32], k2[32], v[48], n[32];
    while (!atomic_load(w->stop)) {
        ember_db *d = w->s->v[rnd(&seed) % 3];
        snprintf(k, sizeof k, "k:%llu", (unsigned long long)(rnd(&seed) % (NKEYS + 500)));
        snprintf(k2, sizeof k2, "k:%llu", (unsigned long long)(rnd(&seed) % (NKEYS + 500)));
        snprintf(v, sizeof v, "w%d-%llu", w->id, (unsigned long long)atomic_load(&w->ops));
        snprintf(n, sizeof n, "%llu", (unsigned long long)(rnd(&seed) % 100));
        unsigned op = (unsigned)(rnd(&seed) % 24);
        int ok = 1;
        switch (op) {
        case 0: {
            const char *a[] = {"SET", k, v};
            ok = cmd(d, 3, a);
            break;
        }
        case 1: {
            const char *a[] = {"DEL", k};
            ok = cmd(d, 2, a);
            break;
        }
        case 2: {
            const char *a[] = {"INCR", k};
            ok = cmd(d, 2, a);
            break;
        }
        case 3: {
            const char *a[] = {"HSET", k, n, v};
            ok = cmd(d, 4, a);
            break;
        }
        case 4: {
            const char *a[] = {"LPUSH", k, v};
            ok = cmd(d, 3, a);
            break;
        }
        case 5: {
            const char *a[] = {"ZADD", k, n, v};
            ok = cmd(d, 4, a);
            break;
        }
        case 6: {
            const char *a[] = {"EXPIRE", k, "50000"};
            ok = cmd(d, 3, a);
            break;
        }
        case 7: {
            const char *a[] = {"RENAME", k, k2};
            ok = cmd(d, 3, a);
            break;
        }
        case 8: {
            const char *a[] = {"SADD", k, n};
            ok = cmd(d, 3, a);
            break;
        }
        case 9: {
            const char *a[] = {"APPEND", k, "+"};
            ok = cmd(d, 3, a);
            break;
        }
        case 10: {
            const char *a[] = {"HDEL", k, n};
            ok = cmd(d, 3, a);
            break;
        }
        case 11: {
            const char *a[] = {"LPOP", k};
            ok = cmd(d, 2, a);
            break;
        }
        case 12: {
            const char *a[] = {"ZINCRBY", k, "1.5", "m1"};
            ok = cmd(d, 4, a);
            break;
        }
        case 13: {
            const char *a[] = {"SREM", k, n};
            ok = cmd(d, 3, a);
            break;
        }
        case 14: {
            const char *a[] = {"PERSIST", k};
            ok = cmd(d, 2, a);
            break;
        }
        case 15: {
            const char *a[] = {"MOVE", k, "2"};
            ok = cmd(d, 3, a);
            break;
        }
        case 16: {
            const char *a[] = {"SETRANGE", k, "2", "zz"};
            ok = cmd(d, 4, a);
            break;
        }
        case 17: {
            const char *a[] = {"HINCRBY", k, "f1", "3"};
            ok = cmd(d, 4, a);
            break;
        }
        case 18: {
            const char *a[] = {"RPOPLPUSH", k, k2};
            ok = cmd(d, 3, a);
            break;
        }
        case 19: {
            const char *a[] = {"ZREM", k, "m2"};
            ok = cmd(d, 3, a);
            break;
        }
        case 20: {
            const char *a[] = {"COPY", k, k2};
            ok = cmd(d, 3, a);
            break;
        }
        case 21: {
            const char *a[] = {"HSET", "bighash", n, v};
            ok = cmd(w->s->v[0], 4, a);
            break;
        }
        case 22: {
            const char *a[] = {"LSET", "biglist", n, v};
            ok = cmd(w->s->v[1], 4, a);
            break;
        }
        default:
            if (rnd(&seed) % 64 == 0) {
                const char *a[] = {"SWAPDB", "1", "2"};
                ok = cmd(w->s->db, 3, a);
            } else if (rnd(&seed) % 256 == 0) {
                const char *a[] = {"FLUSHDB"};
                ok = cmd(w->s->v[2], 1, a);
            } else if (rnd(&seed) % 2) {
                const char *a[] = {"SPOP", k};
                ok = cmd(d, 2, a);
            } else {
                char t[32];
                snprintf(t, sizeof t, "t:%llu", (unsigned long long)(rnd(&seed) % 2000));
                const char *a[] = {"GET", t}; /* lazy expiry */
                ok = cmd(d, 2, a);
            }
        }
        if (!ok)
            w->failures++;
        atomic_fetch_add_explicit(&w->ops, 1, memory_order_relaxed);
    }
    return NULL;
}

typedef struct t0 {
    store *s;
    char *dump;
    int started;
} t0;

/* The reference and the snapshot's start, in one executor step. */
static int dump_and_start(ember_db *db, void *ud)
{
    t0 *t = ud;
    t->dump = ember_test_dump(t->s->v, NDB);
    const char *a[] = {"BGSAVE"};
    ember_reply *r = NULL;
    if (ember_command(db, 1, a, NULL, &r) == EMBER_OK && ember_reply_type(r) == EMBER_REPLY_STATUS)
        t->started = 1;
    ember_reply_free(r);
    return 0;
}

static int64_t info_field_in(ember_db *db, const char *section, const char *name)
{
    const char *a[] = {"INFO", section};
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, 2, a, NULL, &r), EMBER_OK);
    const char *p = strstr(ember_reply_str(r, NULL), name);
    assert_non_null(p);
    int64_t v = strtoll(p + strlen(name) + 1, NULL, 10);
    ember_reply_free(r);
    return v;
}

static int64_t info_field(ember_db *db, const char *name)
{
    return info_field_in(db, "persistence", name);
}

static void one_round(const char *dir, int round, int plain)
{
    store a, b;
    store_open(&a);
    store_open(&b);
    preload(&a);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", dir);
    const char *setdir[] = {"CONFIG",
                            "SET",
                            "dir",
                            buf,
                            "dbfilename",
                            "conc.rdb",
                            "rdbcompression",
                            plain ? "no" : "yes"};
    assert_true(cmd(a.db, 8, setdir));

    _Atomic int stop = 0;
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i].s = &a;
        w[i].id = i + round * 4;
        w[i].stop = &stop;
        atomic_init(&w[i].ops, 0);
        w[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, mutator, &w[i]), 0);
    }
    usleep(20000); /* let the mutators get going */
    uint64_t before = 0;
    for (int i = 0; i < 4; i++)
        before += atomic_load_explicit(&w[i].ops, memory_order_relaxed);
    t0 t = {&a, NULL, 0};
    assert_int_equal(ember_run(a.db, dump_and_start, &t), 0);
    /* The mutators keep going while the snapshot is serialized and written. */
    int waited = 0;
    while (info_field(a.db, "rdb_bgsave_in_progress") && waited < 60000) {
        if (waited < 60) /* 3 s of virtual time: every t:* key expires */
            assert_int_equal(ember_clock_advance(a.db, 50), EMBER_OK);
        usleep(1000);
        waited++;
    }
    atomic_store(&stop, 1);
    uint64_t after = 0, failures = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        after += atomic_load(&w[i].ops);
        failures += w[i].failures;
    }
    assert_non_null(t.dump);
    assert_true(t.started);
    assert_int_equal(failures, 0);
    assert_int_equal(info_field(a.db, "rdb_bgsave_in_progress"), 0);
    const char *info[] = {"INFO", "persistence"};
    ember_reply *r = NULL;
    assert_int_equal(ember_command(a.db, 2, info, NULL, &r), EMBER_OK);
    assert_non_null(strstr(ember_reply_str(r, NULL), "rdb_last_bgsave_status:ok"));
    ember_reply_free(r);

    char *err = NULL;
    int rc = ember_snapshot_load_path(b.db, dir, "conc.rdb", 0, &err);
    if (rc != EMBER_OK)
        fail_msg("load: %s", err ? err : ember_strerror(rc));
    char *got = ember_test_dump(b.v, NDB);
    assert_non_null(got);
    if (strcmp(got, t.dump) != 0) {
        /* Show the first differing line. */
        const char *x = t.dump, *y = got;
        while (*x && *x == *y)
            x++, y++;
        while (x > t.dump && x[-1] != '\n')
            x--, y--;
        fail_msg("snapshot differs from the state at its start:\n  want %.200s\n  got  %.200s", x,
                 y);
    }
    print_message("round %d (%s): %llu ops before the snapshot, %llu during it; %lld keys "
                  "expired\n",
                  round, plain ? "plain" : "zstd", (unsigned long long)before,
                  (unsigned long long)(after - before),
                  (long long)info_field_in(a.db, "stats", "expired_keys"));
    free(got);
    free(t.dump);
    store_close(&a);
    store_close(&b);
}

static void test_point_in_time_under_mutation(void **state)
{
    char dir[] = "/tmp/ember-conc-snap-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int round = 0; round < 3; round++)
        one_round(dir, round, round == 1);
    char cmdline[128];
    snprintf(cmdline, sizeof cmdline, "rm -rf %s", dir);
    assert_int_equal(system(cmdline), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_in_time_under_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
