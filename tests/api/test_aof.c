/*
 * test_aof.c — the append log through the public API: the deterministic
 * form of every write (compared with what redis-server 7.0.15 writes to its
 * appendonly file for the same commands), group commit and its annotations,
 * failures of the log's writer (an I/O fault sweep), replay of every prefix
 * of a log (truncation sweep), damaged groups, strict loading, and a kill -9
 * loop under `always` (EMBER_AOF_KILLS=n for a longer run; default 20).
 *
 * redis-check-aof, if installed, checks the logs produced here. Time runs on
 * the virtual clock, so absolute expire times are exact. Only <ember.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#define T0 1700000000000ll /* virtual clock start (Unix ms) */

static const int mode_executor = EMBER_MODE_EXECUTOR;
static const int mode_inline = EMBER_MODE_INLINE;

/* ------------------------------------------------------------ a log in memory */

/* A writer that keeps the log in memory and can fail its N-th write or sync
 * call. `durable` is what a crash would leave: the bytes covered by the last
 * successful sync. */
typedef struct memlog {
    pthread_mutex_t mu;
    char *buf;
    size_t len, cap, durable, mark;
    unsigned writes, syncs;
    unsigned fail_write, fail_sync; /* 1-based call to fail; 0 never */
    int err;                        /* -EIO or -ENOSPC */
    int short_write;                /* the failing write takes half first */
    int failing;                    /* the rest of a short write fails */
} memlog;

static void ml_init(memlog *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->err = -EIO;
}

static unsigned ml_syncs(memlog *m)
{
    pthread_mutex_lock(&m->mu);
    unsigned n = m->syncs;
    pthread_mutex_unlock(&m->mu);
    return n;
}

static void ml_free(memlog *m)
{
    free(m->buf);
    pthread_mutex_destroy(&m->mu);
}

static int64_t ml_write(void *ctx, const void *p, size_t n)
{
    memlog *m = ctx;
    pthread_mutex_lock(&m->mu);
    unsigned k = ++m->writes;
    int64_t rc = (int64_t)n;
    if (m->failing) {
        m->failing = 0;
        rc = -ENOSPC;
    } else if (k == m->fail_write) {
        if (m->short_write && n > 1) {
            n /= 2;
            rc = (int64_t)n;
            m->failing = 1;
        } else {
            rc = m->err;
        }
    }
    if (rc > 0) {
        if (m->len + n > m->cap) {
            m->cap = (m->len + n) * 2 + 4096;
            m->buf = realloc(m->buf, m->cap);
        }
        memcpy(m->buf + m->len, p, n);
        m->len += n;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int ml_sync(void *ctx)
{
    memlog *m = ctx;
    pthread_mutex_lock(&m->mu);
    int rc = ++m->syncs == m->fail_sync ? m->err : 0;
    if (!rc)
        m->durable = m->len;
    pthread_mutex_unlock(&m->mu);
    return rc;
}

typedef struct memsrc {
    const char *p;
    size_t len, pos;
} memsrc;

static int64_t ms_read(void *ctx, void *buf, size_t n)
{
    memsrc *s = ctx;
    size_t k = s->len - s->pos < n ? s->len - s->pos : n;
    if (k)
        memcpy(buf, s->p + s->pos, k);
    s->pos += k;
    return (int64_t)k;
}

/* ------------------------------------------------------------ helpers */

static ember_db *open_mode(int mode)
{
    ember_config *cfg;
    ember_db *db;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, mode), EMBER_OK);
    assert_int_equal(ember_config_set_virtual_clock(cfg, T0), EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static ember_db *open_db(void **state)
{
    return open_mode(*(const int *)*state);
}

static ember_reply *cmdv(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    assert_non_null(r);
    return r;
}

#define NARGS(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define CMD(db, ...) cmdv(db, NARGS(__VA_ARGS__), (const char *[]){__VA_ARGS__})
/* Runs a command and drops its reply. */
#define RUN(db, ...) ember_reply_free(CMD(db, __VA_ARGS__))

/* Renders the log's records from m->mark on ("a b c|d e"), skipping '#'
 * lines, and moves the mark to the end. */
static char *take(memlog *m)
{
    pthread_mutex_lock(&m->mu);
    size_t cap = 256 + (m->len - m->mark) * 2, o = 0;
    char *out = malloc(cap);
    size_t p = m->mark;
    while (p < m->len) {
        if (m->buf[p] == '#') {
            char *e = memchr(m->buf + p, '\n', m->len - p);
            assert_non_null(e);
            p = (size_t)(e - m->buf) + 1;
            continue;
        }
        assert_int_equal(m->buf[p], '*');
        long n = strtol(m->buf + p + 1, NULL, 10);
        p = (size_t)((char *)memchr(m->buf + p, '\n', m->len - p) - m->buf) + 1;
        if (o)
            out[o++] = '|';
        for (long i = 0; i < n; i++) {
            assert_int_equal(m->buf[p], '$');
            long l = strtol(m->buf + p + 1, NULL, 10);
            p = (size_t)((char *)memchr(m->buf + p, '\n', m->len - p) - m->buf) + 1;
            if (i)
                out[o++] = ' ';
            memcpy(out + o, m->buf + p, (size_t)l);
            o += (size_t)l;
            p += (size_t)l + 2;
        }
    }
    out[o] = '\0';
    m->mark = m->len;
    pthread_mutex_unlock(&m->mu);
    return out;
}

#define EXPECT_LOG(m, want)                                                                        \
    do {                                                                                           \
        char *got_ = take(m);                                                                      \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static ember_db *open_logged(void **state, memlog *m, int policy)
{
    ember_db *db = open_db(state);
    ml_init(m);
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, m, policy), EMBER_OK);
    RUN(db, "set", "warmup", "1");
    EXPECT_LOG(m, "SELECT 0|set warmup 1");
    return db;
}

/* redis-check-aof on a log image, if it is installed. */
static const char *find_check_aof(void)
{
    static const char *const cands[] = {"/usr/bin/redis-check-aof",
                                        "/usr/local/bin/redis-check-aof"};
    const char *env = getenv("EMBER_REDIS_CHECK_AOF");
    if (env && *env)
        return env;
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], X_OK) == 0)
            return cands[i];
    return NULL;
}

static void check_with_redis(const char *data, size_t len)
{
    const char *tool = find_check_aof();
    if (!tool)
        return;
    char path[] = "/tmp/ember_aof_checkXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(path);
    if (!strstr(out, "is valid") || st != 0)
        fail_msg("redis-check-aof refused ember's log:\n%s", out);
}

/* ------------------------------------------------------------ deterministic form */

static void test_strings_form(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    RUN(db, "set", "a", "1");
    EXPECT_LOG(&m, "set a 1");
    RUN(db, "set", "b", "2", "EX", "100");
    EXPECT_LOG(&m, "SET b 2 PXAT 1700000100000");
    RUN(db, "set", "b", "3", "px", "100", "GET");
    EXPECT_LOG(&m, "SET b 3 PXAT 1700000000100");
    RUN(db, "set", "b", "4", "NX", "EX", "10");
    EXPECT_LOG(&m, ""); /* not set: nothing */
    RUN(db, "setex", "c", "100", "v");
    EXPECT_LOG(&m, "SET c v PXAT 1700000100000");
    RUN(db, "psetex", "d", "5000", "v");
    EXPECT_LOG(&m, "SET d v PXAT 1700000005000");
    RUN(db, "set", "e", "v", "EXAT", "1800000000");
    EXPECT_LOG(&m, "SET e v PXAT 1800000000000");
    RUN(db, "set", "e", "v", "PXAT", "1800000000001");
    EXPECT_LOG(&m, "SET e v PXAT 1800000000001");
    RUN(db, "set", "k", "v", "KEEPTTL", "GET");
    EXPECT_LOG(&m, "set k v KEEPTTL");
    RUN(db, "set", "k", "w", "get");
    EXPECT_LOG(&m, "set k w");
    RUN(db, "getset", "k", "x");
    EXPECT_LOG(&m, "getset k x");
    RUN(db, "setnx", "k", "y");
    EXPECT_LOG(&m, "");
    RUN(db, "getex", "a", "PX", "1000");
    EXPECT_LOG(&m, "PEXPIREAT a 1700000001000");
    RUN(db, "getex", "a", "PERSIST");
    EXPECT_LOG(&m, "PERSIST a");
    RUN(db, "getex", "a", "PERSIST");
    EXPECT_LOG(&m, "");
    RUN(db, "getex", "a");
    EXPECT_LOG(&m, "");
    RUN(db, "getex", "a", "EXAT", "1");
    EXPECT_LOG(&m, "DEL a");
    RUN(db, "set", "g", "v");
    RUN(db, "getdel", "g");
    EXPECT_LOG(&m, "set g v|DEL g");
    RUN(db, "getdel", "g");
    EXPECT_LOG(&m, "");
    RUN(db, "incrbyfloat", "f", "1.5");
    EXPECT_LOG(&m, "SET f 1.5 KEEPTTL");
    RUN(db, "incrbyfloat", "f", "1e3");
    EXPECT_LOG(&m, "SET f 1001.5 KEEPTTL");
    RUN(db, "incrbyfloat", "f", "x");
    EXPECT_LOG(&m, "");
    RUN(db, "incr", "n");
    RUN(db, "append", "n", "0");
    RUN(db, "mset", "a", "1", "b", "2");
    EXPECT_LOG(&m, "incr n|append n 0|mset a 1 b 2");
    RUN(db, "get", "a");
    RUN(db, "del", "nosuch");
    EXPECT_LOG(&m, "");
    check_with_redis(m.buf, m.len);
    ember_db_close(db);
    ml_free(&m);
}

static void test_expire_form(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    RUN(db, "set", "a", "1");
    RUN(db, "expire", "a", "100");
    EXPECT_LOG(&m, "set a 1|PEXPIREAT a 1700000100000");
    RUN(db, "pexpire", "a", "100000", "GT");
    EXPECT_LOG(&m, ""); /* not greater */
    RUN(db, "pexpire", "a", "200000", "GT");
    EXPECT_LOG(&m, "PEXPIREAT a 1700000200000 GT");
    RUN(db, "expireat", "a", "1800000000");
    EXPECT_LOG(&m, "PEXPIREAT a 1800000000000");
    RUN(db, "pexpireat", "a", "1800000000001");
    EXPECT_LOG(&m, "pexpireat a 1800000000001");
    RUN(db, "persist", "a");
    RUN(db, "persist", "a");
    EXPECT_LOG(&m, "persist a");
    RUN(db, "expire", "a", "-5");
    EXPECT_LOG(&m, "DEL a");
    RUN(db, "set", "a", "1");
    RUN(db, "pexpire", "a", "0");
    EXPECT_LOG(&m, "set a 1|DEL a");
    RUN(db, "expire", "nosuch", "10");
    EXPECT_LOG(&m, "");
    /* Lazy expiry: the read that finds the key dead logs its DEL. */
    RUN(db, "set", "e", "v", "PX", "10");
    EXPECT_LOG(&m, "SET e v PXAT 1700000000010");
    assert_int_equal(ember_clock_advance(db, 20), EMBER_OK);
    RUN(db, "get", "e");
    /* Active expiry (on the clock's tick) or the read: one DEL either way. */
    EXPECT_LOG(&m, "DEL e");
    /* A write on an expired key: its DEL, then the command, not wrapped. */
    RUN(db, "set", "e3", "5", "PX", "10");
    free(take(&m));
    assert_int_equal(ember_clock_advance(db, 20), EMBER_OK);
    RUN(db, "incr", "e3");
    char *got = take(&m);
    assert_true(!strcmp(got, "DEL e3|incr e3") || !strcmp(got, "DEL e3|incr e3"));
    free(got);
    check_with_redis(m.buf, m.len);
    ember_db_close(db);
    ml_free(&m);
}

static void test_keys_form(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    RUN(db, "flushall");
    RUN(db, "flushall");
    RUN(db, "flushdb");
    RUN(db, "swapdb", "0", "0");
    EXPECT_LOG(&m, "flushall|flushall|flushdb|swapdb 0 0");
    RUN(db, "set", "c", "10");
    RUN(db, "rename", "c", "c2");
    RUN(db, "copy", "c2", "c3");
    RUN(db, "move", "c3", "2");
    RUN(db, "move", "nosuch", "2");
    RUN(db, "swapdb", "0", "2");
    EXPECT_LOG(&m, "set c 10|rename c c2|copy c2 c3|move c3 2|swapdb 0 2");
    ember_db *v;
    assert_int_equal(ember_db_view(db, 5, &v), EMBER_OK);
    RUN(v, "set", "x", "1");
    RUN(db, "set", "y", "1");
    RUN(v, "del", "x");
    EXPECT_LOG(&m, "SELECT 5|set x 1|SELECT 0|set y 1|SELECT 5|del x");
    ember_db_close(v);
    check_with_redis(m.buf, m.len);
    ember_db_close(db);
    ml_free(&m);
}

/* The record expected for SPOP's reply r on key k: the SREM of each member. */
static void spop_expect(char *out, size_t cap, const char *k, const ember_reply *r, int wrap)
{
    size_t o = 0;
    if (wrap)
        o += (size_t)snprintf(out + o, cap - o, "MULTI|");
    if (ember_reply_type(r) == EMBER_REPLY_STRING) {
        o += (size_t)snprintf(out + o, cap - o, "SREM %s %s", k, ember_reply_str(r, NULL));
    } else {
        for (size_t i = 0; i < ember_reply_len(r); i++)
            o += (size_t)snprintf(out + o, cap - o, "%sSREM %s %s", i ? "|" : "", k,
                                  ember_reply_str(ember_reply_element(r, i), NULL));
    }
    if (wrap)
        snprintf(out + o, cap - o, "|EXEC");
}

static void test_random_pops_form(void **state)
{
    memlog m;
    char want[1024];
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    RUN(db, "sadd", "s", "a", "b", "c");
    EXPECT_LOG(&m, "sadd s a b c");
    ember_reply *r = CMD(db, "spop", "s");
    spop_expect(want, sizeof want, "s", r, 0);
    ember_reply_free(r);
    EXPECT_LOG(&m, want);
    RUN(db, "spop", "s", "5");
    EXPECT_LOG(&m, "DEL s");
    RUN(db, "spop", "s", "0");
    RUN(db, "spop", "nosuch");
    EXPECT_LOG(&m, "");
    /* Encodings: listpack/intset members and a hashtable set; pop a few
     * (one by one) and almost all (the survivors are moved). */
    const char *const sets[][12] = {
        {"sadd", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"},
        {"sadd", "t", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"},
    };
    for (int k = 0; k < 2; k++) {
        for (int pass = 0; pass < 2; pass++) {
            ember_reply_free(cmdv(db, 12, sets[k]));
            free(take(&m));
            r = CMD(db, "spop", "t", pass ? "9" : "2");
            spop_expect(want, sizeof want, "t", r, 1);
            ember_reply_free(r);
            EXPECT_LOG(&m, want);
            RUN(db, "del", "t");
            free(take(&m));
        }
    }
    /* A hashtable-encoded set (members too long for a listpack). */
    char big[3][80];
    for (int i = 0; i < 3; i++) {
        memset(big[i], 'a' + i, 79);
        big[i][79] = '\0';
    }
    RUN(db, "sadd", "h", big[0], big[1], big[2]);
    free(take(&m));
    r = CMD(db, "spop", "h");
    spop_expect(want, sizeof want, "h", r, 0);
    ember_reply_free(r);
    EXPECT_LOG(&m, want);
    RUN(db, "hincrbyfloat", "hh", "x", "2.5");
    RUN(db, "hincrbyfloat", "hh", "x", "1.10");
    EXPECT_LOG(&m, "HSET hh x 2.5|HSET hh x 3.6");
    ember_db_close(db);
    ml_free(&m);
}

static void test_blocking_list_form(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    RUN(db, "rpush", "l", "a", "b", "c", "d", "e", "f");
    free(take(&m));
    RUN(db, "blpop", "l", "0");
    RUN(db, "brpop", "nosuch", "l", "0");
    RUN(db, "blmove", "l", "l2", "left", "right", "0");
    RUN(db, "brpoplpush", "l", "l2", "0");
    RUN(db, "blmpop", "0", "1", "l", "left", "count", "5");
    RUN(db, "lmpop", "1", "l2", "right", "count", "5");
    EXPECT_LOG(&m, "LPOP l|RPOP l|LMOVE l l2 left right|RPOPLPUSH l l2|LPOP l 2|RPOP l2 2");
    ember_db_close(db);
    ml_free(&m);
}

static void test_blocking_zset_form(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    RUN(db, "zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
    free(take(&m));
    RUN(db, "bzpopmin", "z", "0");
    RUN(db, "bzpopmax", "z", "0");
    RUN(db, "bzmpop", "0", "1", "z", "min", "count", "1");
    RUN(db, "zmpop", "1", "z", "max", "count", "5");
    RUN(db, "zpopmin", "z", "3");
    EXPECT_LOG(&m, "ZPOPMIN z|ZPOPMAX z|ZPOPMIN z 1|ZPOPMAX z 2");
    ember_db_close(db);
    ml_free(&m);
}

typedef struct waiter {
    ember_db *db;
    const char *cmd;
    int rc;
} waiter;

static void *blpop_thread(void *arg)
{
    waiter *w = arg;
    const char *argv[] = {w->cmd, "w", "10"};
    ember_reply *r;
    w->rc = ember_command(w->db, 3, argv, NULL, &r);
    if (w->rc == EMBER_OK && ember_reply_type(r) != EMBER_REPLY_ARRAY)
        w->rc = -100;
    ember_reply_free(r);
    return NULL;
}

/* A BLPOP (BZPOPMIN) served later is logged as the LPOP (ZPOPMIN) it made,
 * right after the push, and its reply waits for the push's group commit. */
static void served_later(const char *cmd, const char *push, const char *want)
{
    int mode = EMBER_MODE_EXECUTOR;
    void *st = (void *)&mode;
    memlog m;
    ember_db *db = open_logged(&st, &m, EMBER_AOF_ALWAYS);
    waiter w = {db, cmd, 0};
    pthread_t t;
    pthread_create(&t, NULL, blpop_thread, &w);
    for (int i = 0; i < 2000; i++) {
        ember_reply *r = CMD(db, "info", "clients");
        const char *s = ember_reply_str(r, NULL);
        int blocked = s && strstr(s, "blocked_clients:1");
        ember_reply_free(r);
        if (blocked)
            break;
        usleep(1000);
    }
    if (!strcmp(push, "rpush"))
        RUN(db, "rpush", "w", "x", "y");
    else
        RUN(db, "zadd", "w", "1", "x", "2", "y");
    pthread_join(t, NULL);
    assert_int_equal(w.rc, EMBER_OK);
    EXPECT_LOG(&m, want);
    ember_db_close(db);
    ml_free(&m);
}

static void test_blocking_served_later_zset(void **state)
{
    (void)state;
    served_later("BZPOPMIN", "zadd", "zadd w 1 x 2 y|ZPOPMIN w");
}

static void test_blocking_served_later_list(void **state)
{
    (void)state;
    served_later("BLPOP", "rpush", "rpush w x y|LPOP w");
}

static int closure_two_writes(ember_db *db, void *ud)
{
    (void)ud;
    RUN(db, "set", "c1", "1");
    RUN(db, "incr", "c2");
    return 7;
}

static void test_units_form(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *a1[] = {"SELECT", "3"}, *a2[] = {"SET", "x", "y"}, *a3[] = {"INCR", "z"};
    ember_batch_add(b, 2, a1, NULL);
    ember_batch_add(b, 3, a2, NULL);
    ember_batch_add(b, 2, a3, NULL);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    EXPECT_LOG(&m, "MULTI|SELECT 3|SET x y|INCR z|EXEC");
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_PIPELINE), EMBER_OK);
    EXPECT_LOG(&m, "SET x y|INCR z");
    ember_batch_free(b);
    RUN(db, "set", "q", "1");
    EXPECT_LOG(&m, "SELECT 0|set q 1");
    assert_int_equal(ember_run(db, closure_two_writes, NULL), 7);
    EXPECT_LOG(&m, "MULTI|set c1 1|incr c2|EXEC");
    /* A SPOP of several members inside an atomic batch: one MULTI only. */
    RUN(db, "sadd", "s", "a", "b", "c", "d");
    free(take(&m));
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *p1[] = {"SPOP", "s", "2"}, *p2[] = {"SET", "after", "1"};
    ember_batch_add(b, 3, p1, NULL);
    ember_batch_add(b, 3, p2, NULL);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    char *got = take(&m);
    assert_true(!strncmp(got, "MULTI|SREM s ", 13));
    assert_non_null(strstr(got, "|SET after 1|EXEC"));
    assert_null(strstr(got + 1, "MULTI"));
    free(got);
    ember_batch_free(b);
    check_with_redis(m.buf, m.len);
    ember_db_close(db);
    ml_free(&m);
}

/* Every write call ends with "#EM:<crc>:<len>" over the group; the groups
 * tile the file. */
static void test_annotations(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    for (int i = 0; i < 5; i++)
        RUN(db, "incr", "n");
    assert_int_equal(m.writes, 6u);
    assert_true(m.syncs >= 6u);
    size_t p = 0, groups = 0;
    while (p < m.len) {
        char *ann = memmem(m.buf + p, m.len - p, "#EM:", 4);
        assert_non_null(ann);
        size_t at = (size_t)(ann - m.buf);
        unsigned long long len = strtoull(ann + 4 + 17, NULL, 10);
        assert_int_equal(len, at - p);
        p = (size_t)((char *)memchr(ann, '\n', m.len - at) - m.buf) + 1;
        groups++;
    }
    assert_int_equal(groups, 6);
    uint64_t lsn;
    assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_OK);
    assert_int_equal(lsn, m.len);
    assert_int_equal(ember_aof_wait(db, lsn), EMBER_OK);
    ember_db_close(db);
    ml_free(&m);
}

static void test_attach_detach(void **state)
{
    ember_db *db = open_db(state);
    memlog m;
    ml_init(&m);
    uint64_t lsn;
    assert_int_equal(ember_aof_detach(db), EMBER_ENOTFOUND);
    assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_ENOTFOUND);
    assert_int_equal(ember_aof_wait(db, 1), EMBER_ENOTFOUND);
    assert_int_equal(ember_aof_attach(db, -1, EMBER_AOF_ALWAYS), EMBER_EINVAL);
    assert_int_equal(ember_aof_attach(db, 1, 7), EMBER_EINVAL);
    assert_int_equal(ember_aof_attach_writer(db, NULL, NULL, NULL, 0), EMBER_EINVAL);
    RUN(db, "set", "before", "1"); /* not logged: no log yet */
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_NO), EMBER_OK);
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_NO), EMBER_EBUSY);
    RUN(db, "set", "during", "1");
    assert_int_equal(ml_syncs(&m), 0u); /* `no`: written, never synced */
    assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_OK);
    assert_int_equal(lsn, m.len);
    assert_int_equal(ember_aof_wait(db, lsn), EMBER_OK); /* asks for a sync */
    assert_true(ml_syncs(&m) >= 1u);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    RUN(db, "set", "after", "1");
    EXPECT_LOG(&m, "SELECT 0|set during 1");
    /* everysec: the background thread syncs within about a second. */
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_EVERYSEC),
                     EMBER_OK);
    unsigned s0 = ml_syncs(&m);
    RUN(db, "set", "es", "1");
    for (int i = 0; i < 300 && ml_syncs(&m) == s0; i++)
        usleep(10000);
    assert_true(ml_syncs(&m) > s0);
    ember_db_close(db); /* detaches */
    EXPECT_LOG(&m, "SELECT 0|set es 1");
    ml_free(&m);
}

/* The setting "appendfsync" is the attached log's policy. */
static void test_appendfsync_setting(void **state)
{
    ember_config *cfg;
    ember_db *db;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, *(const int *)*state), EMBER_OK);
    assert_int_equal(ember_config_set(cfg, "appendfsync", "always"), EMBER_OK);
    assert_int_equal(ember_config_set(cfg, "appendfsync", "sometimes"), EMBER_EINVAL);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    memlog m;
    ml_init(&m);
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_CONFIG),
                     EMBER_OK);
    RUN(db, "set", "a", "1");
    assert_int_equal(ml_syncs(&m), 1u); /* always */
    RUN(db, "config", "set", "appendfsync", "no");
    ember_reply *r = CMD(db, "config", "get", "appendfsync");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "no");
    ember_reply_free(r);
    RUN(db, "set", "a", "2");
    RUN(db, "set", "a", "3");
    assert_int_equal(ml_syncs(&m), 1u); /* no: written, not synced */
    RUN(db, "config", "set", "appendfsync", "always");
    RUN(db, "set", "a", "4");
    assert_true(ml_syncs(&m) >= 2u);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    /* An explicit policy becomes the setting. */
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_EVERYSEC),
                     EMBER_OK);
    r = CMD(db, "config", "get", "appendfsync");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "everysec");
    ember_reply_free(r);
    ember_db_close(db);
    ml_free(&m);
}

static int key_is(ember_db *db, const char *k, const char *v)
{
    ember_reply *r = CMD(db, "get", k);
    int ok = v ? ember_reply_type(r) == EMBER_REPLY_STRING && !strcmp(ember_reply_str(r, 0), v)
               : ember_reply_type(r) == EMBER_REPLY_NIL;
    ember_reply_free(r);
    return ok;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t n = 0, cap = 0, r;
    do {
        if (cap - n < 65536) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap);
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Rewrite: an RDB preamble, then the writes made after it, in a new file
 * that becomes the log; the old log has everything up to the switch. */
static void test_rewrite(void **state)
{
    char p1[] = "/tmp/ember_aof_rw1XXXXXX", p2[] = "/tmp/ember_aof_rw2XXXXXX";
    int f1 = mkstemp(p1), f2 = mkstemp(p2);
    assert_true(f1 >= 0 && f2 >= 0);
    ember_db *db = open_db(state);
    assert_int_equal(ember_aof_rewrite(db, f2), EMBER_ENOTFOUND);
    assert_int_equal(ember_aof_attach(db, f1, EMBER_AOF_ALWAYS), EMBER_OK);
    RUN(db, "set", "a", "1");
    RUN(db, "set", "ttl", "v", "PX", "100000");
    RUN(db, "rpush", "l", "x", "y", "z");
    RUN(db, "hset", "h", "f", "v");
    RUN(db, "sadd", "s", "1", "2");
    RUN(db, "zadd", "z", "1.5", "m");
    ember_db *v;
    assert_int_equal(ember_db_view(db, 2, &v), EMBER_OK);
    RUN(v, "set", "in2", "x");
    assert_int_equal(ember_aof_rewrite(db, f2), EMBER_OK);
    RUN(db, "set", "after", "1");
    RUN(v, "incr", "in2n");
    RUN(db, "del", "a");
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    size_t len;
    char *img = read_file(p2, &len);
    assert_true(len > 9 && !memcmp(img, "REDIS0010", 9));
    check_with_redis(img, len);
    free(img);
    /* The new file loads to the state at the end. */
    ember_db *ld = open_mode(EMBER_MODE_INLINE);
    lseek(f2, 0, SEEK_SET);
    char *err = NULL;
    assert_int_equal(ember_aof_load(ld, f2, EMBER_AOF_LOAD_STRICT, &err), EMBER_OK);
    assert_null(err);
    assert_true(key_is(ld, "a", NULL));
    assert_true(key_is(ld, "after", "1"));
    assert_true(key_is(ld, "ttl", "v"));
    ember_reply *r = CMD(ld, "pexpiretime", "ttl");
    assert_int_equal(ember_reply_integer(r), T0 + 100000);
    ember_reply_free(r);
    r = CMD(ld, "lrange", "l", "0", "-1");
    assert_int_equal(ember_reply_len(r), 3);
    ember_reply_free(r);
    ember_db *v2;
    assert_int_equal(ember_db_view(ld, 2, &v2), EMBER_OK);
    assert_true(key_is(v2, "in2", "x"));
    assert_true(key_is(v2, "in2n", "1"));
    ember_db_close(v2);
    ember_db_close(ld);
    /* The old log holds everything up to the switch. */
    ld = open_mode(EMBER_MODE_INLINE);
    lseek(f1, 0, SEEK_SET);
    assert_int_equal(ember_aof_load(ld, f1, EMBER_AOF_LOAD_STRICT, &err), EMBER_OK);
    assert_true(key_is(ld, "a", "1"));
    assert_true(key_is(ld, "after", NULL));
    ember_db_close(ld);
    ember_db_close(v);
    ember_db_close(db);
    close(f1);
    close(f2);
    unlink(p1);
    unlink(p2);
}

/* ------------------------------------------------------------ failures */

static void expect_misconf(ember_reply *r, const char *why)
{
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ERROR);
    char want[160];
    snprintf(want, sizeof want, "MISCONF Errors writing to the AOF file: %s", why);
    assert_string_equal(ember_reply_str(r, NULL), want);
    ember_reply_free(r);
}

static void test_write_failure(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    m.fail_write = m.writes + 1;
    expect_misconf(CMD(db, "set", "lost", "1"), "Input/output error");
    /* The write happened in memory (as Redis); later writes are refused;
     * reads still work. */
    ember_reply *r = CMD(db, "get", "lost");
    assert_string_equal(ember_reply_str(r, NULL), "1");
    ember_reply_free(r);
    expect_misconf(CMD(db, "set", "x", "2"), "Input/output error");
    assert_int_equal(ember_set(db, "x", 1, "2", 1), EMBER_EIO);
    r = CMD(db, "get", "x");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_NIL);
    ember_reply_free(r);
    assert_int_equal(ember_aof_wait(db, m.len + 100), EMBER_EIO);
    r = CMD(db, "info", "persistence");
    assert_non_null(strstr(ember_reply_str(r, NULL), "\r\naof_enabled:1\r\n"));
    assert_non_null(strstr(ember_reply_str(r, NULL), "\r\naof_last_write_status:err\r\n"));
    ember_reply_free(r);
    assert_int_equal(ember_aof_detach(db), EMBER_EIO);
    RUN(db, "set", "x", "3"); /* no log: writes work again */
    r = CMD(db, "info", "persistence");
    assert_non_null(strstr(ember_reply_str(r, NULL), "\r\naof_enabled:0\r\n"));
    assert_non_null(strstr(ember_reply_str(r, NULL), "\r\naof_last_write_status:ok\r\n"));
    ember_reply_free(r);
    /* A failed sync: same story, with the text of ENOSPC. */
    memlog m2;
    ml_init(&m2);
    m2.err = -ENOSPC;
    m2.fail_sync = 1;
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m2, EMBER_AOF_ALWAYS),
                     EMBER_OK);
    expect_misconf(CMD(db, "incr", "n"), "No space left on device");
    expect_misconf(CMD(db, "incr", "n"), "No space left on device");
    assert_int_equal(ember_aof_detach(db), EMBER_EIO);
    ember_db_close(db);
    ml_free(&m);
    ml_free(&m2);
}

/* A batch whose commit fails: every reply of it is the error; likewise a
 * closure's return value. */
static void test_batch_failure(void **state)
{
    memlog m;
    ember_db *db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    m.fail_sync = m.syncs + 1;
    assert_int_equal(ember_run(db, closure_two_writes, NULL), EMBER_EIO);
    ember_db_close(db);
    ml_free(&m);
    db = open_logged(state, &m, EMBER_AOF_ALWAYS);
    m.fail_sync = m.syncs + 1;
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *a1[] = {"SET", "x", "1"}, *a2[] = {"GET", "x"};
    ember_batch_add(b, 3, a1, NULL);
    ember_batch_add(b, 2, a2, NULL);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_EIO);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(ember_reply_error_code(ember_batch_reply(b, i)), EMBER_EIO);
    ember_batch_free(b);
    assert_int_equal(ember_run(db, closure_two_writes, NULL), 7); /* writes refused inside */
    ember_db_close(db);
    ml_free(&m);
}

typedef struct model {
    int acked[64];
    int n;
} model;

/* Loads a log image into a fresh database. */
static ember_db *load_image(int mode, const char *p, size_t len, uint32_t flags, int *rc,
                            char **err)
{
    ember_db *db = open_mode(mode);
    memsrc s = {p, len, 0};
    *rc = ember_aof_load_reader(db, ms_read, &s, flags, err);
    return db;
}

/*
 * The I/O fault sweep: fail the N-th write (EIO, ENOSPC, a short write) or
 * the N-th sync, for N = 1, 2, ... until a run completes without hitting the
 * fault. Every write acknowledged under `always` must be in the durable part
 * of the log, and the durable part must load (to exactly the acknowledged
 * writes: none is acknowledged after the first failure).
 */
static void test_fault_sweep(void **state)
{
    int mode = *(const int *)*state;
    static const struct {
        int sync, err, shortw;
    } kinds[] = {{0, -EIO, 0}, {0, -ENOSPC, 0}, {0, -ENOSPC, 1}, {1, -EIO, 0}, {1, -ENOSPC, 0}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (unsigned n = 1;; n++) {
            memlog m;
            ml_init(&m);
            m.err = kinds[k].err;
            m.short_write = kinds[k].shortw;
            if (kinds[k].sync)
                m.fail_sync = n;
            else
                m.fail_write = n;
            ember_db *db = open_mode(mode);
            assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_ALWAYS),
                             EMBER_OK);
            model md = {{0}, 12};
            int failed = 0;
            for (int i = 0; i < md.n; i++) {
                char key[16], val[16];
                snprintf(key, sizeof key, "k%d", i);
                snprintf(val, sizeof val, "%d", i);
                ember_reply *r = CMD(db, "set", key, val);
                md.acked[i] = ember_reply_type(r) == EMBER_REPLY_STATUS;
                if (!md.acked[i]) {
                    assert_int_equal(ember_reply_error_code(r), EMBER_EIO);
                    failed = 1;
                } else {
                    assert_false(failed); /* nothing acknowledged after a failure */
                }
                ember_reply_free(r);
            }
            int drc = ember_aof_detach(db);
            assert_int_equal(drc, failed ? EMBER_EIO : EMBER_OK);
            ember_db_close(db);
            /* What a crash would leave: the synced bytes. */
            int rc;
            char *err = NULL;
            ember_db *ld = load_image(mode, m.buf, m.durable, 0, &rc, &err);
            assert_int_equal(rc, EMBER_OK);
            ember_free(err);
            for (int i = 0; i < md.n; i++) {
                char key[16], val[16];
                snprintf(key, sizeof key, "k%d", i);
                snprintf(val, sizeof val, "%d", i);
                if (md.acked[i])
                    assert_true(key_is(ld, key, val));
                else
                    assert_true(key_is(ld, key, NULL)); /* nothing after the fault is durable */
            }
            ember_db_close(ld);
            ml_free(&m);
            if (!failed)
                break;
        }
    }
}

/* ------------------------------------------------------------ replay */

/* Builds a log: single writes, an atomic batch, a SPOP group, another
 * database, TTLs; returns the states after each group as key lists. */
typedef struct built {
    memlog m;
    size_t ends[64]; /* file length after each group */
    int ngroups;
} built;

static void build_log(built *b)
{
    ember_db *db = open_mode(EMBER_MODE_INLINE);
    ml_init(&b->m);
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &b->m, EMBER_AOF_ALWAYS),
                     EMBER_OK);
    b->ngroups = 0;
    for (int i = 0; i < 8; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%d", i);
        if (i == 3) {
            ember_batch *bt;
            ember_batch_new(&bt);
            const char *a1[] = {"SET", "m1", "x"}, *a2[] = {"SET", "m2", "y"},
                       *a3[] = {"SET", key, val};
            ember_batch_add(bt, 3, a1, NULL);
            ember_batch_add(bt, 3, a2, NULL);
            ember_batch_add(bt, 3, a3, NULL);
            assert_int_equal(ember_batch_exec(db, bt, EMBER_BATCH_ATOMIC), EMBER_OK);
            ember_batch_free(bt);
        } else if (i == 5) {
            ember_db *v;
            ember_db_view(db, 1, &v);
            RUN(v, "set", key, val, "EX", "1000");
            ember_db_close(v);
        } else {
            RUN(db, "set", key, val);
        }
        b->ends[b->ngroups++] = b->m.len;
    }
    ember_db_close(db);
}

/* Checks the state loaded from a prefix that holds `g` complete groups. */
static void check_groups(ember_db *db, int g)
{
    for (int i = 0; i < 8; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%d", i);
        ember_db *v = db;
        if (i == 5)
            ember_db_view(db, 1, &v);
        assert_true(key_is(v, key, i < g ? val : NULL));
        if (v != db)
            ember_db_close(v);
    }
    assert_true(key_is(db, "m1", g > 3 ? "x" : NULL));
    assert_true(key_is(db, "m2", g > 3 ? "y" : NULL));
}

static void test_truncation_sweep(void **state)
{
    (void)state;
    built b;
    build_log(&b);
    check_with_redis(b.m.buf, b.m.len);
    for (size_t len = 0; len <= b.m.len; len++) {
        int g = 0;
        while (g < b.ngroups && b.ends[g] <= len)
            g++;
        int at_boundary = len == 0 || (g > 0 && b.ends[g - 1] == len);
        int rc;
        char *err = NULL;
        ember_db *db = load_image(EMBER_MODE_INLINE, b.m.buf, len, 0, &rc, &err);
        assert_int_equal(rc, EMBER_OK);
        if (at_boundary)
            assert_null(err);
        else
            assert_non_null(err);
        ember_free(err);
        check_groups(db, g);
        ember_db_close(db);
        /* Strict: anything but a whole log fails and changes nothing. */
        if (len % 7 == 0 || at_boundary) {
            db = open_mode(EMBER_MODE_INLINE);
            RUN(db, "set", "old", "1");
            memsrc s = {b.m.buf, len, 0};
            rc = ember_aof_load_reader(db, ms_read, &s, EMBER_AOF_LOAD_STRICT, &err);
            assert_int_equal(rc, at_boundary ? EMBER_OK : EMBER_ECORRUPT);
            assert_true(key_is(db, "old", at_boundary ? NULL : "1"));
            ember_free(err);
            ember_db_close(db);
        }
    }
    ml_free(&b.m);
}

/* A damaged byte inside a group: loading keeps the groups before it. */
static void test_damaged_group(void **state)
{
    (void)state;
    built b;
    build_log(&b);
    for (int g = 0; g < b.ngroups; g++) {
        size_t start = g ? b.ends[g - 1] : 0;
        for (size_t at = start; at < b.ends[g]; at += 5) {
            char *copy = malloc(b.m.len);
            memcpy(copy, b.m.buf, b.m.len);
            copy[at] ^= 0x20;
            int rc;
            char *err = NULL;
            ember_db *db = load_image(EMBER_MODE_INLINE, copy, b.m.len, 0, &rc, &err);
            assert_int_equal(rc, EMBER_OK);
            assert_non_null(err);
            ember_free(err);
            check_groups(db, g);
            ember_db_close(db);
            free(copy);
        }
    }
    ml_free(&b.m);
}

/* Random damage (flipped bytes, random bytes, cut and spliced pieces) in a
 * log (the RDB preamble's parser has its own fuzz): loading never crashes, never fails in the
 * default mode, and strict mode either loads all or changes nothing. EMBER_AOF_FUZZ sets the number
 * of cycles (default 1000). */
static void test_corruption_fuzz(void **state)
{
    (void)state;
    built b;
    build_log(&b);
    const char *env = getenv("EMBER_AOF_FUZZ");
    int cycles = env ? atoi(env) : 1000;
    unsigned seed = 777;
    ember_db *db = open_mode(EMBER_MODE_INLINE);
    char *img = malloc(b.m.len * 2 + 64);
    for (int i = 0; i < cycles; i++) {
        size_t len = b.m.len;
        memcpy(img, b.m.buf, len);
        int kind = (int)(rand_r(&seed) % 4);
        int n = 1 + (int)(rand_r(&seed) % 4);
        for (int k = 0; k < n; k++) {
            size_t at = (size_t)rand_r(&seed) % len;
            if (kind == 0)
                img[at] ^= (char)(1 << (rand_r(&seed) % 8));
            else if (kind == 1)
                img[at] = (char)rand_r(&seed);
            else if (kind == 2)
                len = at + 1;
            else {
                /* splice a piece of the log somewhere else */
                size_t from = (size_t)rand_r(&seed) % b.m.len;
                size_t cnt = (size_t)rand_r(&seed) % 40;
                if (from + cnt > b.m.len)
                    cnt = b.m.len - from;
                if (at + cnt > len)
                    cnt = len - at;
                memcpy(img + at, b.m.buf + from, cnt);
            }
        }
        memsrc s = {img, len, 0};
        char *err = NULL;
        assert_int_equal(ember_aof_load_reader(db, ms_read, &s, 0, &err), EMBER_OK);
        ember_free(err);
        RUN(db, "set", "marker", "1");
        s.pos = 0;
        int rc = ember_aof_load_reader(db, ms_read, &s, EMBER_AOF_LOAD_STRICT, &err);
        assert_true(rc == EMBER_OK || rc == EMBER_ECORRUPT);
        if (rc == EMBER_ECORRUPT)
            assert_true(key_is(db, "marker", "1")); /* unchanged */
        ember_free(err);
    }
    free(img);
    ember_db_close(db);
    ml_free(&b.m);
}

/* A log written by Redis (no #EM lines, #TS annotations, a cut tail). */
static void test_load_foreign(void **state)
{
    static const char log[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                              "#TS:1700000000\r\n"
                              "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n"
                              "*1\r\n$5\r\nMULTI\r\n"
                              "*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n2\r\n"
                              "*1\r\n$4\r\nEXEC\r\n"
                              "*1\r\n$5\r\nMULTI\r\n"
                              "*3\r\n$3\r\nset\r\n$1\r\nc\r\n$1\r\n3\r\n";
    int rc;
    char *err = NULL;
    ember_db *db = load_image(*(const int *)*state, log, sizeof log - 1, 0, &rc, &err);
    assert_int_equal(rc, EMBER_OK);
    assert_non_null(err); /* MULTI without EXEC */
    assert_non_null(strstr(err, "MULTI without EXEC"));
    ember_free(err);
    assert_true(key_is(db, "a", "1"));
    assert_true(key_is(db, "b", "2"));
    assert_true(key_is(db, "c", NULL));
    ember_db_close(db);
    /* Whole and cut at every byte of the last record: never a crash. */
    for (size_t len = 0; len < sizeof log - 1; len++) {
        db = load_image(EMBER_MODE_INLINE, log, len, 0, &rc, &err);
        assert_int_equal(rc, EMBER_OK);
        ember_free(err);
        ember_db_close(db);
    }
    static const char bad[] = "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n"
                              "*2\r\n$7\r\nNOSUCHC\r\n$1\r\na\r\n";
    db = load_image(EMBER_MODE_INLINE, bad, sizeof bad - 1, 0, &rc, &err);
    assert_int_equal(rc, EMBER_OK);
    assert_non_null(strstr(err, "unknown command 'NOSUCHC'"));
    ember_free(err);
    assert_true(key_is(db, "a", "1"));
    ember_db_close(db);
}

/* Load refuses while a log is attached; a loaded database can then log. */
static void test_load_then_attach(void **state)
{
    built b;
    build_log(&b);
    ember_db *db = open_db(state);
    memlog m;
    ml_init(&m);
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_ALWAYS),
                     EMBER_OK);
    memsrc s = {b.m.buf, b.m.len, 0};
    char *err = NULL;
    assert_int_equal(ember_aof_load_reader(db, ms_read, &s, 0, &err), EMBER_EBUSY);
    ember_free(err);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    s.pos = 0;
    assert_int_equal(ember_aof_load_reader(db, ms_read, &s, 0, &err), EMBER_OK);
    assert_null(err);
    check_groups(db, b.ngroups);
    ember_db_close(db);
    ml_free(&m);
    ml_free(&b.m);
}

/*
 * Power loss: a log written under `everysec` with ember_aof_wait() after
 * some writes. At every crash point (after each write or sync call of the
 * log) the file is what was synced, followed by each later write applied,
 * lost (zeros: the page never reached the disk) or garbled, independently,
 * and cut anywhere after the last one. Reloading must give the state after
 * a prefix of the writes that contains every synced (so every waited-for)
 * write.
 */
typedef struct event {
    size_t off, len; /* a write: [off, off + len); a sync: len == 0, off = durable */
} event;

static void test_power_loss(void **state)
{
    (void)state;
    memlog m;
    ml_init(&m);
    ember_db *db = open_mode(EMBER_MODE_INLINE);
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, &m, EMBER_AOF_NO), EMBER_OK);
    event ev[256];
    size_t nev = 0;
    const int nops = 40;
    for (int i = 0; i < nops; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%d", i);
        RUN(db, "set", key, val);
        if (i % 3 == 2) {
            uint64_t lsn;
            assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_OK);
            assert_int_equal(ember_aof_wait(db, lsn), EMBER_OK);
        }
    }
    ember_aof_detach(db);
    ember_db_close(db);
    /* The call sequence, from the log itself: one write per command (inline
     * mode), each ending with its #EM line; a sync after every third. */
    size_t p = 0, op = 0;
    while (p < m.len) {
        char *ann = memmem(m.buf + p, m.len - p, "#EM:", 4);
        assert_non_null(ann);
        size_t end = (size_t)((char *)memchr(ann, '\n', m.len - (size_t)(ann - m.buf)) - m.buf) + 1;
        ev[nev++] = (event){p, end - p};
        if (op % 3 == 2)
            ev[nev++] = (event){end, 0};
        p = end;
        op++;
    }
    unsigned seed = 12345;
    for (size_t crash = 0; crash <= nev; crash++) {
        size_t durable = 0;
        for (size_t e = 0; e < crash; e++)
            if (!ev[e].len)
                durable = ev[e].off;
        for (int trial = 0; trial < 8; trial++) {
            char *img = malloc(m.len + 1);
            memcpy(img, m.buf, durable);
            size_t len = durable;
            for (size_t e = 0; e < crash; e++) {
                if (!ev[e].len || ev[e].off < durable)
                    continue;
                int fate = (int)(rand_r(&seed) % 3);
                for (size_t b = 0; b < ev[e].len; b++)
                    img[ev[e].off + b] = fate == 0   ? m.buf[ev[e].off + b]
                                         : fate == 1 ? 0
                                                     : (char)rand_r(&seed);
                len = ev[e].off + ev[e].len;
            }
            if (len > durable)
                len = durable + (size_t)rand_r(&seed) % (len - durable + 1);
            int rc;
            char *err = NULL;
            ember_db *ld = load_image(EMBER_MODE_INLINE, img, len, 0, &rc, &err);
            assert_int_equal(rc, EMBER_OK);
            ember_free(err);
            /* A prefix of the writes, with everything synced. */
            size_t synced_ops = 0;
            for (size_t e = 0; e < nev; e++)
                if (ev[e].len && ev[e].off + ev[e].len <= durable)
                    synced_ops++;
            int present = 1;
            for (int i = 0; i < nops; i++) {
                char key[16], val[16];
                snprintf(key, sizeof key, "k%d", i);
                snprintf(val, sizeof val, "%d", i);
                int has = key_is(ld, key, val);
                if (!has && !key_is(ld, key, NULL))
                    fail_msg("crash %zu: k%d has a wrong value", crash, i);
                if (has && !present)
                    fail_msg("crash %zu: k%d present after a missing write", crash, i);
                if (!has && (size_t)i < synced_ops)
                    fail_msg("crash %zu: synced write k%d lost", crash, i);
                present = has;
            }
            ember_db_close(ld);
            free(img);
        }
    }
    ml_free(&m);
}

/* ------------------------------------------------------------ kill -9 */

/* The child: writes SET k<i> i under `always` into path and reports each
 * acknowledged i on fd 1 (one 4-byte integer each). Never returns. */
static void kill_child(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        _exit(2);
    ember_db *db;
    if (ember_db_open(NULL, &db) != EMBER_OK || ember_aof_attach(db, fd, EMBER_AOF_ALWAYS))
        _exit(3);
    for (int32_t i = 0;; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "%d", i);
        if (ember_set(db, key, strlen(key), val, strlen(val)) != EMBER_OK)
            _exit(4);
        if (write(1, &i, sizeof i) != sizeof i)
            _exit(5);
    }
}

static char self_path[4096];

static void test_kill9_loop(void **state)
{
    (void)state;
    const char *env = getenv("EMBER_AOF_KILLS");
    int kills = env ? atoi(env) : 20;
    char dir[] = "/tmp/ember_aof_killXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/log.aof", dir);
    srand((unsigned)time(NULL));
    for (int k = 0; k < kills; k++) {
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(pfd[1], 1);
            close(pfd[0]);
            execl(self_path, self_path, "--aof-kill-child", path, (char *)NULL);
            _exit(6);
        }
        close(pfd[1]);
        /* Let it run 5..60 ms, then kill it in the middle of whatever. */
        struct timespec ts = {0, (20 + rand() % 60) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        assert_true(WIFSIGNALED(st));
        int32_t last = -1, v;
        while (read(pfd[0], &v, sizeof v) == sizeof v)
            last = v;
        close(pfd[0]);
        /* Every acknowledged write is in the log. */
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            assert_int_equal(last, -1); /* killed before it even opened the log */
            continue;
        }
        ember_db *db = open_mode(EMBER_MODE_INLINE);
        char *err = NULL;
        assert_int_equal(ember_aof_load(db, fd, 0, &err), EMBER_OK);
        ember_free(err);
        close(fd);
        for (int32_t i = 0; i <= last; i++) {
            char key[16], val[16];
            snprintf(key, sizeof key, "k%d", i);
            snprintf(val, sizeof val, "%d", i);
            if (!key_is(db, key, val))
                fail_msg("kill %d: acknowledged write %d of %d lost", k, i, last);
        }
        ember_db_close(db);
    }
    unlink(path);
    rmdir(dir);
}

#define BOTH(f)                                                                                    \
    cmocka_unit_test_prestate(f, (void *)&mode_executor),                                          \
        cmocka_unit_test_prestate(f, (void *)&mode_inline)

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--aof-kill-child"))
        kill_child(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0)
        self_path[n] = '\0';
    const struct CMUnitTest tests[] = {
        BOTH(test_strings_form),
        BOTH(test_expire_form),
        BOTH(test_keys_form),
        BOTH(test_random_pops_form),
        BOTH(test_blocking_zset_form),
        cmocka_unit_test(test_blocking_served_later_zset),
        BOTH(test_blocking_list_form),
        cmocka_unit_test(test_blocking_served_later_list),
        BOTH(test_units_form),
        BOTH(test_annotations),
        BOTH(test_attach_detach),
        BOTH(test_appendfsync_setting),
        BOTH(test_rewrite),
        BOTH(test_write_failure),
        BOTH(test_batch_failure),
        BOTH(test_fault_sweep),
        cmocka_unit_test(test_truncation_sweep),
        cmocka_unit_test(test_damaged_group),
        cmocka_unit_test(test_corruption_fuzz),
        BOTH(test_load_foreign),
        BOTH(test_load_then_attach),
        cmocka_unit_test(test_power_loss),
        cmocka_unit_test(test_kill9_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
