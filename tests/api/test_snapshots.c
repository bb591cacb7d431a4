/*
 * test_snapshots.c — snapshots through the public header: save/load round
 * trips of every type with TTLs (zstd and plain, descriptors, writers,
 * paths, inline mode, from inside a closure), corrupt and truncated input
 * (an error naming the offset, the database unchanged), a fault sweep of
 * failing writes and syncs, EBUSY, and the SAVE/BGSAVE/LASTSAVE/INFO
 * commands with periodic save rules under a virtual clock.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#include "state_dump.h"

#define NDB 4
#define T0_MS INT64_C(1767225600000)

typedef struct store {
    ember_db *db;
    ember_db *v[NDB];
} store;

static void store_open(store *s, int mode)
{
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, mode), EMBER_OK);
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

static char *dump(store *s)
{
    char *d = ember_test_dump(s->v, NDB);
    assert_non_null(d);
    return d;
}

/* Runs a command; returns its reply (the caller frees) after checking it is
 * not an error. */
static ember_reply *run(ember_db *db, const char *cmdline)
{
    const char *argv[32];
    char buf[4096];
    size_t argc = 0;
    snprintf(buf, sizeof buf, "%s", cmdline);
    for (char *t = strtok(buf, " "); t && argc < 32; t = strtok(NULL, " "))
        argv[argc++] = t;
    ember_reply *r;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    if (ember_reply_type(r) == EMBER_REPLY_ERROR)
        fail_msg("%s: %s", cmdline, ember_reply_str(r, NULL));
    return r;
}

static void ok(ember_db *db, const char *cmdline)
{
    ember_reply_free(run(db, cmdline));
}

/* Every type, small and large encodings, binary data, TTLs, several dbs. */
static void populate(store *s, int scale)
{
    char cmd[256];
    ok(s->v[0], "SET str hello");
    ok(s->v[0], "SET int 12345");
    ok(s->v[0], "SET neg -9000000000");
    ok(s->v[0], "SET ttl value PX 500000");
    ok(s->v[0], "RPUSH list a b c 1 2 3");
    ok(s->v[0], "SADD iset 1 2 3 4 5");
    ok(s->v[0], "SADD sset x y z");
    ok(s->v[0], "HSET h f1 v1 f2 v2 f3 3");
    ok(s->v[0], "ZADD z 1 a 2.5 b -3 c");
    ok(s->v[0], "EXPIRE z 1000");
    ok(s->v[0], "EXPIRE h 2000");
    for (int i = 0; i < 300 * scale; i++) {
        snprintf(cmd, sizeof cmd, "RPUSH biglist element-%d", i);
        ok(s->v[1], cmd);
        snprintf(cmd, sizeof cmd, "SADD bigset member-%d", i);
        ok(s->v[1], cmd);
        snprintf(cmd, sizeof cmd, "SADD bigiset %d", i * 7);
        ok(s->v[1], cmd);
        snprintf(cmd, sizeof cmd, "HSET bighash field-%d value-%d", i, i * 3);
        ok(s->v[1], cmd);
        snprintf(cmd, sizeof cmd, "ZADD bigz %d.25 m%d", i, i);
        ok(s->v[1], cmd);
        snprintf(cmd, sizeof cmd, "SET key:%d %d", i, i);
        ok(s->v[2], cmd);
        if (i % 3 == 0) {
            snprintf(cmd, sizeof cmd, "PEXPIRE key:%d %d", i, 100000 + i);
            ok(s->v[2], cmd);
        }
    }
    /* A long string and binary keys/values. */
    char *big = malloc(100001);
    memset(big, 'x', 100000);
    big[100000] = 0;
    assert_int_equal(ember_set(s->v[3], "long", 4, big, 100000), EMBER_OK);
    free(big);
    assert_int_equal(ember_set(s->v[3], "b\0in\n", 5, "\0\1\2\xff", 4), EMBER_OK);
}

/* ------------------------------------------------------------ memory writer */

typedef struct membuf {
    char *p;
    size_t len, cap, pos;
    /* fault injection */
    int fail_write, fail_sync; /* 1-based call numbers; 0 = never */
    int writes, syncs;
    int kind; /* 0 EIO, 1 ENOSPC, 2 short then ENOSPC */
} membuf;

static int64_t mem_write(void *ctx, const void *buf, size_t len)
{
    membuf *m = ctx;
    int call = ++m->writes;
    if (call == m->fail_write) {
        if (m->kind == 0)
            return -EIO;
        if (m->kind == 1)
            return -ENOSPC;
        len = len / 2 ? len / 2 : 1; /* a short write; the retry fails */
        m->fail_write++;
        m->kind = 1;
    }
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 65536;
        while (cap < m->len + len)
            cap *= 2;
        m->p = realloc(m->p, cap);
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return (int64_t)len;
}

static int mem_sync(void *ctx)
{
    membuf *m = ctx;
    return ++m->syncs == m->fail_sync ? -EIO : 0;
}

static int64_t mem_read(void *ctx, void *buf, size_t len)
{
    membuf *m = ctx;
    size_t n = m->len - m->pos < len ? m->len - m->pos : len;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int64_t)n;
}

static FILE *tmpfile_or_fail(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    return f;
}

/* ------------------------------------------------------------ round trips */

static void roundtrip_fd(int mode, uint32_t flags)
{
    store a, b;
    store_open(&a, mode);
    store_open(&b, mode);
    populate(&a, 1);
    ok(b.v[0], "SET stale 1"); /* replaced by the load */
    char *want = dump(&a);
    FILE *f = tmpfile_or_fail();
    assert_int_equal(ember_snapshot_save(a.db, fileno(f), flags), EMBER_OK);
    rewind(f);
    char *err = (char *)1;
    assert_int_equal(ember_snapshot_load(b.db, fileno(f), 0, &err), EMBER_OK);
    assert_null(err);
    char *got = dump(&b);
    assert_string_equal(got, want);
    /* zstd unless plain: check the magic. */
    unsigned char m[5] = {0};
    rewind(f);
    assert_int_equal(fread(m, 1, 5, f), 5);
    if (flags & EMBER_SNAPSHOT_PLAIN)
        assert_memory_equal(m, "REDIS", 5);
    else
        assert_true(m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd);
    fclose(f);
    free(want);
    free(got);
    store_close(&a);
    store_close(&b);
}

static void test_roundtrip_zstd(void **state)
{
    roundtrip_fd(EMBER_MODE_EXECUTOR, 0);
    roundtrip_fd(EMBER_MODE_EXECUTOR, EMBER_SNAPSHOT_LEVEL(9));
}

static void test_roundtrip_plain(void **state)
{
    roundtrip_fd(EMBER_MODE_EXECUTOR, EMBER_SNAPSHOT_PLAIN);
}

static void test_roundtrip_inline(void **state)
{
    roundtrip_fd(EMBER_MODE_INLINE, 0);
    roundtrip_fd(EMBER_MODE_INLINE, EMBER_SNAPSHOT_PLAIN);
}

static void test_roundtrip_writer_reader(void **state)
{
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    populate(&a, 2);
    char *want = dump(&a);
    for (int plain = 0; plain < 2; plain++) {
        membuf m = {0};
        assert_int_equal(ember_snapshot_save_writer(a.db, mem_write, mem_sync, &m,
                                                    plain ? EMBER_SNAPSHOT_PLAIN : 0),
                         EMBER_OK);
        assert_int_equal(m.syncs, 1);
        char *err = NULL;
        assert_int_equal(ember_snapshot_load_reader(b.db, mem_read, &m, 0, &err), EMBER_OK);
        char *got = dump(&b);
        assert_string_equal(got, want);
        free(got);
        free(m.p);
    }
    free(want);
    store_close(&a);
    store_close(&b);
}

static void test_empty_store(void **state)
{
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    ok(b.v[1], "SET x y");
    membuf m = {0};
    assert_int_equal(ember_snapshot_save_writer(a.db, mem_write, NULL, &m, EMBER_SNAPSHOT_PLAIN),
                     EMBER_OK);
    assert_true(m.len >= 9 + 9);
    assert_memory_equal(m.p, "REDIS0010", 9);
    assert_int_equal(ember_snapshot_load_reader(b.db, mem_read, &m, 0, NULL), EMBER_OK);
    char *got = dump(&b);
    assert_string_equal(got, "");
    free(got);
    free(m.p);
    store_close(&a);
    store_close(&b);
}

/* A closure may take a snapshot: it runs to completion on the executor. */
static int save_in_closure(ember_db *db, void *ud)
{
    return ember_snapshot_save_writer(db, mem_write, mem_sync, ud, 0);
}

static void test_save_inside_closure(void **state)
{
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    populate(&a, 1);
    char *want = dump(&a);
    membuf m = {0};
    assert_int_equal(ember_run(a.db, save_in_closure, &m), EMBER_OK);
    assert_int_equal(ember_snapshot_load_reader(b.db, mem_read, &m, 0, NULL), EMBER_OK);
    char *got = dump(&b);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(m.p);
    store_close(&a);
    store_close(&b);
}

static void test_paths(void **state)
{
    char dir[] = "/tmp/ember-snap-XXXXXX";
    assert_non_null(mkdtemp(dir));
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    populate(&a, 1);
    char *want = dump(&a);
    char *err = NULL;
    assert_int_equal(ember_snapshot_load_path(b.db, dir, "none.rdb", 0, &err), EMBER_ENOTFOUND);
    assert_int_equal(ember_snapshot_save_path(a.db, dir, "a.rdb", 0), EMBER_OK);
    assert_int_equal(ember_snapshot_save_path(a.db, dir, "sub/a.rdb", 0), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_save_path(a.db, "/nonexistent-dir-ember", "a.rdb", 0),
                     EMBER_EIO);
    assert_int_equal(ember_snapshot_load_path(b.db, dir, "a.rdb", 0, &err), EMBER_OK);
    char *got = dump(&b);
    assert_string_equal(got, want);
    free(got);
    /* No temporary file is left behind. */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(want);
    store_close(&a);
    store_close(&b);
}

static void test_bad_arguments(void **state)
{
    store a;
    store_open(&a, EMBER_MODE_EXECUTOR);
    char *err = (char *)1;
    assert_int_equal(ember_snapshot_save(NULL, 1, 0), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_save(a.db, -1, 0), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_save(a.db, 1, 0x80000000u), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_save_writer(a.db, NULL, NULL, NULL, 0), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_save_path(a.db, NULL, NULL, 0), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_load(a.db, -1, 0, &err), EMBER_EINVAL);
    assert_null(err);
    assert_int_equal(ember_snapshot_load_reader(a.db, NULL, NULL, 0, NULL), EMBER_EINVAL);
    assert_int_equal(ember_snapshot_load_path(a.db, NULL, "", 0, NULL), EMBER_EINVAL);
    assert_string_equal(ember_strerror(EMBER_ECORRUPT),
                        "EMBER_ECORRUPT: malformed or corrupt input");
    store_close(&a);
}

/* ------------------------------------------------------------ bad input */

/* Loads m into b, which must fail and leave b as `want`; or, when
 * `or_equal` is given, may succeed if b then equals or_equal exactly (a flip
 * in a zstd frame header that changes nothing, such as its window size). */
static int expect_load_fails(store *b, const char *want, membuf *m, const char *what,
                             const char *or_equal)
{
    char *err = NULL;
    m->pos = 0;
    int rc = ember_snapshot_load_reader(b->db, mem_read, m, 0, &err);
    if (rc == EMBER_OK && or_equal) {
        char *got = dump(b);
        assert_string_equal(got, or_equal);
        free(got);
        return 1;
    }
    if (rc == EMBER_OK)
        fail_msg("%s: loaded", what);
    assert_true(rc == EMBER_ECORRUPT || rc == EMBER_EIO);
    assert_non_null(err);
    if (!strstr(err, "offset") && !strstr(err, "byte"))
        fail_msg("%s: error without an offset: %s", what, err);
    ember_free(err);
    char *got = dump(b);
    assert_string_equal(got, want);
    free(got);
    return 0;
}

static void corrupt_sweep(uint32_t flags)
{
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    ok(a.v[0], "SET k v");
    ok(a.v[0], "RPUSH l 1 2 3");
    ok(a.v[1], "HSET h a 1 b 2");
    ok(a.v[0], "ZADD z 1 one 2 two");
    ok(a.v[2], "SADD s x y");
    ok(a.v[0], "EXPIRE k 100");
    ok(b.v[0], "SET keep me");
    ok(b.v[3], "LPUSH keep2 x");
    char *want = dump(&b), *src = dump(&a);
    membuf m = {0}, orig = {0};
    assert_int_equal(ember_snapshot_save_writer(a.db, mem_write, NULL, &m, flags), EMBER_OK);
    assert_int_equal(ember_snapshot_save_writer(b.db, mem_write, NULL, &orig, flags), EMBER_OK);
    membuf t = m;
    /* Every truncation. */
    for (size_t len = 0; len < m.len; len++) {
        t.len = len;
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu", len);
        expect_load_fails(&b, want, &t, what, NULL);
    }
    /* Flipped bytes: the CRC (plain) or zstd's checksum must catch them. */
    char *copy = malloc(m.len);
    for (size_t i = 0; i < m.len; i++) {
        memcpy(copy, m.p, m.len);
        copy[i] ^= 0x5a;
        membuf c = {0};
        c.p = copy;
        c.len = m.len;
        char what[64];
        snprintf(what, sizeof what, "byte %zu flipped", i);
        /* Plain RDB: the CRC-64 catches every flip. zstd: its content
         * checksum catches every flip of the data; a header flip may be
         * harmless, but then the data must be exactly right. */
        if (expect_load_fails(&b, want, &c, what, (flags & EMBER_SNAPSHOT_PLAIN) ? NULL : src)) {
            orig.pos = 0;
            assert_int_equal(ember_snapshot_load_reader(b.db, mem_read, &orig, 0, NULL), EMBER_OK);
        }
    }
    free(copy);
    free(src);
    free(orig.p);
    /* Not a snapshot at all. */
    membuf junk = {0};
    junk.p = "hello world, not an rdb";
    junk.len = strlen(junk.p);
    expect_load_fails(&b, want, &junk, "junk", NULL);
    free(want);
    free(m.p);
    store_close(&a);
    store_close(&b);
}

static void test_corrupt_plain(void **state)
{
    corrupt_sweep(EMBER_SNAPSHOT_PLAIN);
}

static void test_corrupt_zstd(void **state)
{
    corrupt_sweep(0);
}

static int64_t failing_read(void *ctx, void *buf, size_t len)
{
    int *n = ctx;
    if ((*n)++ < 1) {
        memcpy(buf, "REDIS0010", len < 9 ? len : 9);
        return len < 9 ? (int64_t)len : 9;
    }
    return -EIO;
}

static void test_read_error(void **state)
{
    store b;
    store_open(&b, EMBER_MODE_EXECUTOR);
    ok(b.v[0], "SET keep me");
    int n = 0;
    char *err = NULL;
    assert_int_equal(ember_snapshot_load_reader(b.db, failing_read, &n, 0, &err), EMBER_EIO);
    assert_non_null(err);
    ember_free(err);
    void *v;
    size_t vl;
    assert_int_equal(ember_get(b.v[0], "keep", 4, &v, &vl), EMBER_OK);
    ember_free(v);
    store_close(&b);
}

/* ------------------------------------------------------------ fault sweep */

static void fault_sweep(uint32_t flags, int kind)
{
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    populate(&a, 6); /* several hand-offs to the writer */
    char *want = dump(&a);
    int succeeded = 0;
    for (int n = 1; n < 1000 && !succeeded; n++) {
        membuf m = {0};
        m.fail_write = n;
        m.kind = kind;
        int rc = ember_snapshot_save_writer(a.db, mem_write, mem_sync, &m, flags);
        if (rc == EMBER_OK) {
            assert_true(m.writes < n); /* it succeeded because call n never came */
            succeeded = 1;
            assert_int_equal(ember_snapshot_load_reader(b.db, mem_read, &m, 0, NULL), EMBER_OK);
            char *got = dump(&b);
            assert_string_equal(got, want);
            free(got);
        } else {
            assert_int_equal(rc, EMBER_EIO);
        }
        free(m.p);
        /* The database is untouched and usable after a failure. */
        char *now = dump(&a);
        assert_string_equal(now, want);
        free(now);
    }
    assert_true(succeeded);
    /* Sync failures. */
    for (int n = 1; n <= 2; n++) {
        membuf m = {0};
        m.fail_sync = n;
        int rc = ember_snapshot_save_writer(a.db, mem_write, mem_sync, &m, flags);
        assert_int_equal(rc, n == 1 ? EMBER_EIO : EMBER_OK);
        free(m.p);
    }
    /* INFO tells the last save's outcome is fine again. */
    free(want);
    store_close(&a);
    store_close(&b);
}

static void test_fault_sweep_plain(void **state)
{
    fault_sweep(EMBER_SNAPSHOT_PLAIN, 0);
    fault_sweep(EMBER_SNAPSHOT_PLAIN, 2);
}

static void test_fault_sweep_zstd(void **state)
{
    fault_sweep(0, 1);
    fault_sweep(0, 2);
}

/* ------------------------------------------------------------ busy */

typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int entered, open;
    ember_db *db;
    int rc;
} gate;

static int64_t gated_write(void *ctx, const void *buf, size_t len)
{
    gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->lock);
    pthread_mutex_unlock(&g->lock);
    return (int64_t)len;
}

static void *gated_saver(void *arg)
{
    gate *g = arg;
    g->rc = ember_snapshot_save_writer(g->db, gated_write, NULL, g, 0);
    return NULL;
}

static int64_t info_field(ember_db *db, const char *name)
{
    ember_reply *r = run(db, "INFO persistence");
    const char *s = ember_reply_str(r, NULL);
    const char *p = strstr(s, name);
    assert_non_null(p);
    int64_t v = strtoll(p + strlen(name) + 1, NULL, 10);
    ember_reply_free(r);
    return v;
}

static void test_busy(void **state)
{
    store a;
    store_open(&a, EMBER_MODE_EXECUTOR);
    populate(&a, 1);
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, a.db, -100};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, gated_saver, &g), 0);
    pthread_mutex_lock(&g.lock);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.lock);
    pthread_mutex_unlock(&g.lock);
    /* The writer is stuck in its first write: a snapshot is in flight. */
    membuf m = {0};
    assert_int_equal(ember_snapshot_save_writer(a.db, mem_write, NULL, &m, 0), EMBER_EBUSY);
    char *err = NULL;
    assert_int_equal(ember_snapshot_load_reader(a.db, mem_read, &m, 0, &err), EMBER_EBUSY);
    ember_free(err);
    ember_reply *r;
    const char *bg[] = {"BGSAVE"};
    assert_int_equal(ember_command(a.db, 1, bg, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ERROR);
    assert_string_equal(ember_reply_str(r, NULL), "ERR Background save already in progress");
    ember_reply_free(r);
    /* Commands keep running meanwhile. */
    ok(a.v[0], "SET during snapshot");
    pthread_mutex_lock(&g.lock);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.lock);
    pthread_join(t, NULL);
    assert_int_equal(g.rc, EMBER_OK);
    free(m.p);
    store_close(&a);
}

/* Closing while a snapshot waits on its writer: the saver gets an error or
 * success, nothing hangs or leaks. */
static void test_close_during_save(void **state)
{
    store a;
    store_open(&a, EMBER_MODE_EXECUTOR);
    populate(&a, 1);
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, NULL, -100};
    ember_db *view;
    assert_int_equal(ember_db_view(a.db, 0, &view), EMBER_OK);
    g.db = view;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, gated_saver, &g), 0);
    pthread_mutex_lock(&g.lock);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.lock);
    g.open = 1; /* let it go while close runs */
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.lock);
    store_close(&a);
    pthread_join(t, NULL);
    assert_true(g.rc == EMBER_OK || g.rc == EMBER_ECLOSED);
    ember_db_close(view);
}

/* ------------------------------------------------------------ commands */

static void test_commands_and_rules(void **state)
{
    char dir[] = "/tmp/ember-snapcmd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "CONFIG SET dir %s", dir);
    ok(a.db, cmd);
    ember_reply *r = run(a.db, "CONFIG GET save");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "");
    ember_reply_free(r);
    const char *badsave[] = {"CONFIG", "SET", "save", "100"};
    assert_int_equal(ember_command(a.db, 4, badsave, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ERROR);
    ember_reply_free(r);
    const char *baddb[] = {"CONFIG", "SET", "dbfilename", "a/b"};
    assert_int_equal(ember_command(a.db, 4, baddb, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ERROR);
    ember_reply_free(r);

    int64_t t_open = T0_MS / 1000;
    assert_int_equal(info_field(a.db, "rdb_last_save_time"), t_open);
    ok(a.v[0], "SET a 1");
    ok(a.v[0], "SET b 2");
    assert_int_equal(info_field(a.db, "rdb_changes_since_last_save"), 2);
    assert_int_equal(ember_clock_advance(a.db, 10000), EMBER_OK);
    r = run(a.db, "SAVE");
    assert_string_equal(ember_reply_str(r, NULL), "OK");
    ember_reply_free(r);
    r = run(a.db, "LASTSAVE");
    assert_int_equal(ember_reply_integer(r), t_open + 10);
    ember_reply_free(r);
    assert_int_equal(info_field(a.db, "rdb_changes_since_last_save"), 0);
    assert_int_equal(info_field(a.db, "rdb_bgsave_in_progress"), 0);
    assert_int_equal(ember_snapshot_load_path(b.db, dir, "dump.rdb", 0, NULL), EMBER_OK);
    char *x = dump(&a), *y = dump(&b);
    assert_string_equal(x, y);
    free(x);
    free(y);

    /* BGSAVE, then wait for it through INFO. */
    ok(a.v[1], "RPUSH l x y z");
    ok(a.db, "CONFIG SET dbfilename bg.rdb");
    ok(a.db, "CONFIG SET rdbcompression no");
    r = run(a.db, "BGSAVE");
    assert_string_equal(ember_reply_str(r, NULL), "Background saving started");
    ember_reply_free(r);
    for (int i = 0; i < 2000 && info_field(a.db, "rdb_bgsave_in_progress"); i++) {
        assert_int_equal(ember_clock_advance(a.db, 0), EMBER_OK); /* runs the tick */
        usleep(1000);
    }
    assert_int_equal(info_field(a.db, "rdb_bgsave_in_progress"), 0);
    r = run(a.db, "INFO persistence");
    assert_non_null(strstr(ember_reply_str(r, NULL), "rdb_last_bgsave_status:ok"));
    ember_reply_free(r);
    snprintf(cmd, sizeof cmd, "%s/bg.rdb", dir);
    FILE *f = fopen(cmd, "rb");
    assert_non_null(f);
    char magic[9];
    assert_int_equal(fread(magic, 1, 9, f), 9);
    assert_memory_equal(magic, "REDIS0010", 9);
    fclose(f);

    /* Periodic: "save 60 3" fires after 3 changes once 60 s have passed. */
    ok(a.db, "CONFIG SET dbfilename periodic.rdb");
    const char *setsave[] = {"CONFIG", "SET", "save", "60 3 3600 1"};
    assert_int_equal(ember_command(a.db, 4, setsave, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_STATUS);
    ember_reply_free(r);
    r = run(a.db, "CONFIG GET save");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "60 3 3600 1");
    ember_reply_free(r);
    ok(a.v[0], "SET p1 1");
    ok(a.v[0], "SET p2 1");
    ok(a.v[0], "SET p3 1");
    assert_int_equal(ember_clock_advance(a.db, 30000), EMBER_OK);
    snprintf(cmd, sizeof cmd, "%s/periodic.rdb", dir);
    struct stat sb;
    assert_int_not_equal(stat(cmd, &sb), 0); /* 30 s: too early */
    assert_int_equal(ember_clock_advance(a.db, 31000), EMBER_OK);
    for (int i = 0; i < 2000 && stat(cmd, &sb) != 0; i++) {
        usleep(1000);
        assert_int_equal(ember_clock_advance(a.db, 0), EMBER_OK);
    }
    assert_int_equal(stat(cmd, &sb), 0);
    for (int i = 0; i < 2000 && info_field(a.db, "rdb_bgsave_in_progress"); i++) {
        assert_int_equal(ember_clock_advance(a.db, 0), EMBER_OK);
        usleep(1000);
    }
    assert_int_equal(info_field(a.db, "rdb_changes_since_last_save"), 0);
    const char *nosave[] = {"CONFIG", "SET", "save", ""};
    assert_int_equal(ember_command(a.db, 4, nosave, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_STATUS);
    ember_reply_free(r);

    store_close(&a);
    store_close(&b);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------------ every write path */

/*
 * Each write command runs in the same executor step that starts a
 * snapshot, before the walker has written anything: every key it touches
 * must reach the file through the prewrite hook with its old value, and a
 * key it creates must stay out. A write path that edits a value without
 * the hook shows up here as a difference.
 */
static const char *const write_cmds[] = {
    "SET str new",
    "SET str new KEEPTTL",
    "SET ttl new GET",
    "SETNX str x",
    "SETEX str 100 x",
    "PSETEX ttl 100 x",
    "GETSET str x",
    "GETDEL str",
    "GETEX ttl PX 1000",
    "GETEX ttl PERSIST",
    "APPEND str more",
    "APPEND rawstr more",
    "SETRANGE str 2 XY",
    "SETRANGE rawstr 1 XY",
    "INCR int",
    "DECR int",
    "INCRBY int 5",
    "DECRBY int 5",
    "INCRBYFLOAT int 1.5",
    "INCRBYFLOAT flt 2",
    "MSET str a int b newkey c",
    "MSETNX fresh1 a fresh2 b",
    "DEL str list",
    "UNLINK biglist bighash",
    "RENAME str newname",
    "RENAME str int",
    "RENAMENX str fresh",
    "COPY str fresh",
    "COPY list str REPLACE",
    "COPY bigz newz DB 3",
    "MOVE str 1",
    "MOVE bigset 2",
    "SWAPDB 0 1",
    "SWAPDB 1 2",
    "FLUSHDB",
    "FLUSHDB ASYNC",
    "FLUSHALL",
    "FLUSHALL ASYNC",
    "EXPIRE str 100",
    "EXPIRE ttl 100",
    "PEXPIRE ttl 5",
    "EXPIREAT str 1",
    "PEXPIREAT list 1",
    "EXPIRE bighash -1",
    "PERSIST ttl",
    "PERSIST h",
    "LPUSH list x",
    "RPUSH list x y",
    "LPUSHX list x",
    "RPUSHX biglist x",
    "LPOP list",
    "RPOP list 2",
    "LPOP biglist 100",
    "RPOPLPUSH list list2",
    "RPOPLPUSH biglist list",
    "LMOVE list biglist "
    "LEFT RIGHT",
    "LSET list 0 q",
    "LSET biglist 250 q",
    "LINSERT list BEFORE b ins",
    "LINSERT biglist AFTER element-3 ins",
    "LREM list 0 a",
    "LREM biglist -2 element-7",
    "LTRIM list 1 2",
    "LTRIM biglist 10 -10",
    "LMPOP 2 list biglist LEFT COUNT 2",
    "BLPOP list 0",
    "BRPOP biglist 0",
    "BLMOVE list list LEFT RIGHT 0",
    "BLMPOP 0 1 list RIGHT",
    "HSET h f1 changed f9 new",
    "HSET bighash field-1 x",
    "HSETNX h f7 x",
    "HDEL h f1",
    "HDEL bighash field-2 field-3",
    "HINCRBY h f3 4",
    "HINCRBY bighash value 1",
    "HINCRBYFLOAT h f3 0.5",
    "HMSET h a b",
    "SADD sset w",
    "SADD iset 9",
    "SADD iset notint",
    "SADD bigset new",
    "SREM sset x",
    "SREM bigiset 7",
    "SPOP sset",
    "SPOP bigset 5",
    "SMOVE sset iset y",
    "SMOVE bigset sset member-9",
    "SINTERSTORE sset iset bigiset",
    "SUNIONSTORE dst sset iset",
    "SDIFFSTORE bigiset bigiset iset",
    "ZADD z 5 a 6 newm",
    "ZADD z INCR 1 b",
    "ZADD z XX GT 10 c",
    "ZADD bigz 0 m1",
    "ZINCRBY z 2 a",
    "ZINCRBY bigz 1 m5",
    "ZREM z a",
    "ZREM bigz m1 m2",
    "ZPOPMIN z",
    "ZPOPMAX bigz 3",
    "ZREMRANGEBYRANK bigz 0 10",
    "ZREMRANGEBYSCORE z -inf 2",
    "ZREMRANGEBYLEX z - +",
    "ZUNIONSTORE z 2 z bigz",
    "ZINTERSTORE bigz 2 z bigz",
    "ZDIFFSTORE z 1 bigz",
    "ZRANGESTORE z bigz 0 5",
    "ZMPOP 1 z MIN",
    "BZPOPMIN bigz 0",
    "BZMPOP 0 1 z MAX COUNT 2",
};

typedef struct step_args {
    store *s;
    char *dump;
    const char *cmd;
    int started;
} step_args;

static int dump_start_write(ember_db *db, void *ud)
{
    step_args *a = ud;
    a->dump = ember_test_dump(a->s->v, NDB);
    const char *bg[] = {"BGSAVE"};
    ember_reply *r = NULL;
    if (ember_command(db, 1, bg, NULL, &r) == EMBER_OK && ember_reply_type(r) == EMBER_REPLY_STATUS)
        a->started = 1;
    ember_reply_free(r);
    /* The write, on database 0 (errors are fine: then nothing changed). */
    const char *argv[32];
    char buf[512];
    size_t argc = 0;
    snprintf(buf, sizeof buf, "%s", a->cmd);
    for (char *t = strtok(buf, " "); t && argc < 32; t = strtok(NULL, " "))
        argv[argc++] = t;
    if (ember_command(a->s->v[0], argc, argv, NULL, &r) == EMBER_OK)
        ember_reply_free(r);
    return 0;
}

static void wait_bgsave(ember_db *db)
{
    for (int i = 0; i < 5000 && info_field(db, "rdb_bgsave_in_progress"); i++) {
        assert_int_equal(ember_clock_advance(db, 0), EMBER_OK);
        usleep(200);
    }
    assert_int_equal(info_field(db, "rdb_bgsave_in_progress"), 0);
}

static void test_every_write_preimaged(void **state)
{
    char dir[] = "/tmp/ember-snapw-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[512];
    int failures = 0;
    for (size_t i = 0; i < sizeof write_cmds / sizeof write_cmds[0]; i++) {
        store a, b;
        store_open(&a, EMBER_MODE_EXECUTOR);
        store_open(&b, EMBER_MODE_EXECUTOR);
        populate(&a, 1);
        ok(a.v[0], "SET rawstr 0123456789012345678901234567890123456789012345678901234567890");
        ok(a.v[0], "SET flt 1.5");
        ok(a.v[0], "RPUSH biglist x");
        for (int j = 0; j < 300; j++) {
            snprintf(cmd, sizeof cmd, "RPUSH biglist element-%d", j);
            ok(a.v[0], cmd);
            snprintf(cmd, sizeof cmd, "HSET bighash field-%d v", j);
            ok(a.v[0], cmd);
            snprintf(cmd, sizeof cmd, "SADD bigset member-%d", j);
            ok(a.v[0], cmd);
            snprintf(cmd, sizeof cmd, "SADD bigiset %d", j);
            ok(a.v[0], cmd);
            snprintf(cmd, sizeof cmd, "ZADD bigz %d m%d", j, j);
            ok(a.v[0], cmd);
        }
        ok(a.v[0], "EXPIRE bigset 10000");
        snprintf(cmd, sizeof cmd, "CONFIG SET dir %s", dir);
        ok(a.db, cmd);
        step_args sa = {&a, NULL, write_cmds[i], 0};
        assert_int_equal(ember_run(a.db, dump_start_write, &sa), 0);
        assert_true(sa.started);
        assert_non_null(sa.dump);
        wait_bgsave(a.db);
        char *err = NULL;
        int rc = ember_snapshot_load_path(b.db, dir, "dump.rdb", 0, &err);
        if (rc != EMBER_OK)
            fail_msg("%s: load: %s", write_cmds[i], err ? err : ember_strerror(rc));
        char *got = dump(&b);
        if (strcmp(got, sa.dump) != 0) {
            const char *x = sa.dump, *y = got;
            while (*x && *x == *y)
                x++, y++;
            while (x > sa.dump && x[-1] != '\n')
                x--, y--;
            print_message("%s: the snapshot is not the state before it:\n  want %.160s\n"
                          "  got  %.160s\n",
                          write_cmds[i], x, y);
            failures++;
        }
        free(got);
        free(sa.dump);
        store_close(&a);
        store_close(&b);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(failures, 0);
}

/* Replaying an append log replaces every database: while a snapshot is
 * being serialized it is refused (EMBER_EBUSY), and the snapshot is the old
 * data. */
static const char aof_log[] = "*3\r\n$3\r\nSET\r\n$3\r\nstr\r\n$8\r\nfrom-log\r\n"
                              "*3\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\nq\r\n"
                              "*3\r\n$3\r\nSET\r\n$5\r\nnewer\r\n$1\r\n1\r\n";

static int dump_start_replay(ember_db *db, void *ud)
{
    step_args *a = ud;
    a->dump = ember_test_dump(a->s->v, NDB);
    const char *bg[] = {"BGSAVE"};
    ember_reply *r = NULL;
    if (ember_command(db, 1, bg, NULL, &r) == EMBER_OK && ember_reply_type(r) == EMBER_REPLY_STATUS)
        a->started = 1;
    ember_reply_free(r);
    membuf m = {0};
    m.p = (char *)aof_log;
    m.len = sizeof aof_log - 1;
    return ember_aof_load_reader(db, mem_read, &m, 0, NULL);
}

static void test_log_replay_during_snapshot(void **state)
{
    char dir[] = "/tmp/ember-snapr-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[512];
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    populate(&a, 1);
    snprintf(cmd, sizeof cmd, "CONFIG SET dir %s", dir);
    ok(a.db, cmd);
    step_args sa = {&a, NULL, NULL, 0};
    assert_int_equal(ember_run(a.db, dump_start_replay, &sa), EMBER_EBUSY);
    assert_true(sa.started);
    wait_bgsave(a.db);
    char *now = dump(&a);
    assert_string_equal(now, sa.dump);
    free(now);
    assert_int_equal(ember_snapshot_load_path(b.db, dir, "dump.rdb", 0, NULL), EMBER_OK);
    char *got = dump(&b);
    assert_string_equal(got, sa.dump);
    free(got);
    free(sa.dump);
    store_close(&a);
    store_close(&b);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Under an LRU policy the file carries each key's idle time, as Redis's does. */
static void test_lru_idle_kept(void **state)
{
    store a, b;
    store_open(&a, EMBER_MODE_EXECUTOR);
    store_open(&b, EMBER_MODE_EXECUTOR);
    ok(a.db, "CONFIG SET maxmemory-policy allkeys-lru");
    ok(b.db, "CONFIG SET maxmemory-policy allkeys-lru");
    ok(a.v[0], "SET idle x");
    assert_int_equal(ember_clock_advance(a.db, 100 * 1000), EMBER_OK);
    ok(a.v[0], "SET fresh y");
    membuf m = {0};
    assert_int_equal(ember_snapshot_save_writer(a.db, mem_write, NULL, &m, 0), EMBER_OK);
    assert_int_equal(ember_snapshot_load_reader(b.db, mem_read, &m, 0, NULL), EMBER_OK);
    ember_reply *r = run(b.v[0], "OBJECT IDLETIME idle");
    assert_true(ember_reply_integer(r) >= 99 && ember_reply_integer(r) <= 101);
    ember_reply_free(r);
    r = run(b.v[0], "OBJECT IDLETIME fresh");
    assert_true(ember_reply_integer(r) <= 1);
    ember_reply_free(r);
    free(m.p);
    store_close(&a);
    store_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_zstd),
        cmocka_unit_test(test_roundtrip_plain),
        cmocka_unit_test(test_roundtrip_inline),
        cmocka_unit_test(test_roundtrip_writer_reader),
        cmocka_unit_test(test_empty_store),
        cmocka_unit_test(test_save_inside_closure),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_corrupt_plain),
        cmocka_unit_test(test_corrupt_zstd),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_fault_sweep_plain),
        cmocka_unit_test(test_fault_sweep_zstd),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_close_during_save),
        cmocka_unit_test(test_commands_and_rules),
        cmocka_unit_test(test_every_write_preimaged),
        cmocka_unit_test(test_log_replay_during_snapshot),
        cmocka_unit_test(test_lru_idle_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
