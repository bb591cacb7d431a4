/*
 * test_aof_interop.c — ember's append log read by Redis's own tools: a log
 * written by ember (every type in small and large encodings, binary keys and
 * values, TTLs, 4 databases, the rewritten forms: SET PXAT, PEXPIREAT,
 * INCRBYFLOAT, SPOP, ZPOPMIN, atomic batches as MULTI/EXEC) must pass
 * redis-check-aof, and a redis-server 7.0 started on it (as an old-style
 * appendonly.aof, which 7.0 migrates into its appendonlydir) must hold
 * exactly the data ember holds: the same keys per database, types, absolute
 * expire times and contents. Then ember replays its own log and must hold
 * the same data again.
 *
 * redis-server and redis-check-aof are required (a missing one is a failure,
 * not a skip); EMBER_REDIS_SERVER / EMBER_REDIS_CHECK_AOF override the paths.
 */
#include <fcntl.h>
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

#include "redis_proc.h"
#include "resp_client.h"

#define NDB 4

static void ecmd(ember_db *db, size_t argc, const char *const *argv, const size_t *lens)
{
    ember_reply *r;
    assert_int_equal(ember_command(db, argc, argv, lens, &r), EMBER_OK);
    if (ember_reply_type(r) == EMBER_REPLY_ERROR)
        fail_msg("ember: %s", ember_reply_str(r, NULL));
    ember_reply_free(r);
}

#define NARGS(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define E(db, ...) ecmd(db, NARGS(__VA_ARGS__), (const char *[]){__VA_ARGS__}, NULL)

/* The dataset: written through ember with the log attached. */
static void write_dataset(ember_db *root)
{
    ember_db *d[NDB];
    for (int i = 0; i < NDB; i++)
        assert_int_equal(ember_db_view(root, i, &d[i]), EMBER_OK);
    char k[64], v[64];
    /* Strings: int, short, long, binary; relative and absolute TTLs. */
    E(d[0], "SET", "int", "12345");
    E(d[0], "SET", "short", "hello");
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    E(d[0], "SET", "long", big);
    const char bkey[] = "bin\0key\r\n", bval[] = "\0\1\2\r\n\xff";
    ecmd(d[0], 3, (const char *[]){"SET", bkey, bval},
         (size_t[]){3, sizeof bkey - 1, sizeof bval - 1});
    E(d[0], "SET", "ttl_ex", "v", "EX", "86400");
    E(d[0], "SETEX", "ttl_setex", "86400", "v");
    E(d[0], "SET", "ttl_pxat", "v", "PXAT", "4102444800000");
    E(d[0], "SET", "pers", "v");
    E(d[0], "EXPIRE", "pers", "86400");
    E(d[0], "PEXPIRE", "pers", "90000000", "GT");
    E(d[0], "GETEX", "short", "EX", "86400");
    E(d[0], "INCRBYFLOAT", "float", "10.5");
    E(d[0], "INCRBYFLOAT", "float", "0.1");
    E(d[0], "INCR", "counter");
    E(d[0], "APPEND", "counter", "00");
    E(d[0], "SET", "gone", "v");
    E(d[0], "EXPIRE", "gone", "-1");
    E(d[0], "SET", "gone2", "v");
    E(d[0], "GETDEL", "gone2");
    /* Lists: small (listpack) and large (several quicklist nodes). */
    E(d[1], "RPUSH", "l_small", "a", "b", "c", "1", "2");
    for (int i = 0; i < 600; i++) {
        snprintf(v, sizeof v, "element-%d", i);
        E(d[1], "RPUSH", "l_big", v);
    }
    E(d[1], "LPOP", "l_big");
    E(d[1], "LSET", "l_small", "0", "A");
    E(d[1], "BLPOP", "l_small", "0");
    E(d[1], "LMOVE", "l_small", "l_moved", "LEFT", "RIGHT");
    /* Hashes. */
    E(d[2], "HSET", "h_small", "f1", "v1", "f2", "2");
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "field-%d", i);
        snprintf(v, sizeof v, "value-%d", i);
        E(d[2], "HSET", "h_big", k, v);
    }
    E(d[2], "HINCRBYFLOAT", "h_small", "f2", "1.25");
    E(d[2], "HDEL", "h_big", "field-7");
    E(d[2], "EXPIRE", "h_small", "86400");
    /* Sets: intset, hashtable; SPOP rewritten as SREM. */
    E(d[3], "SADD", "s_int", "1", "2", "3", "4", "5", "6", "7", "8");
    for (int i = 0; i < 300; i++) {
        snprintf(v, sizeof v, "member-%d", i);
        E(d[3], "SADD", "s_big", v);
    }
    E(d[3], "SPOP", "s_int");
    E(d[3], "SPOP", "s_big", "5");
    E(d[3], "SPOP", "s_big", "290");
    E(d[3], "SREM", "s_int", "8");
    /* Sorted sets: listpack and skiplist; pops. */
    E(d[3], "ZADD", "z_small", "1", "a", "2.5", "b", "-3", "c", "4", "d");
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "%d.5", i);
        snprintf(v, sizeof v, "zm-%d", i);
        E(d[3], "ZADD", "z_big", k, v);
    }
    E(d[3], "ZINCRBY", "z_small", "0.25", "a");
    E(d[3], "ZPOPMIN", "z_big", "3");
    E(d[3], "BZPOPMAX", "z_small", "0");
    E(d[3], "ZMPOP", "1", "z_big", "MAX", "COUNT", "2");
    /* Key moves across databases. */
    E(d[0], "SET", "mv", "1");
    E(d[0], "MOVE", "mv", "2");
    E(d[0], "COPY", "int", "int_copy", "DB", "1");
    E(d[0], "RENAME", "counter", "counter2");
    /* The other write commands, each at least once. */
    E(d[0], "SETRANGE", "sr", "5", "abc");
    E(d[0], "MSETNX", "mn1", "1", "mn2", "2");
    E(d[0], "MSETNX", "mn1", "x", "mn3", "3");
    E(d[0], "DECRBY", "dec", "7");
    E(d[0], "DECR", "dec");
    E(d[0], "INCRBY", "dec", "100");
    E(d[0], "SETNX", "snx", "1");
    E(d[0], "PSETEX", "psx", "86400000", "v");
    E(d[0], "GETSET", "snx", "2");
    E(d[0], "RENAMENX", "snx", "snx2");
    E(d[0], "SET", "per", "v", "EX", "1000");
    E(d[0], "PERSIST", "per");
    E(d[0], "PEXPIREAT", "psx", "4102444800123");
    E(d[0], "EXPIREAT", "sr", "4102444800");
    E(d[0], "SET", "ul", "1");
    E(d[0], "UNLINK", "ul");
    E(d[0], "COPY", "sr", "int_copy", "DB", "1", "REPLACE");
    E(d[1], "LPUSHX", "l_small", "px");
    E(d[1], "RPUSHX", "l_small", "rx");
    E(d[1], "LINSERT", "l_big", "BEFORE", "element-10", "ins");
    E(d[1], "LREM", "l_big", "0", "element-11");
    E(d[1], "LTRIM", "l_big", "1", "-2");
    E(d[1], "RPOPLPUSH", "l_big", "l_small");
    E(d[1], "LMPOP", "1", "l_big", "RIGHT", "COUNT", "3");
    E(d[1], "RPOP", "l_big", "2");
    E(d[2], "HSETNX", "h_small", "f3", "v3");
    E(d[2], "HMSET", "h_small", "f4", "v4", "f5", "v5");
    E(d[2], "HINCRBY", "h_small", "cnt", "5");
    E(d[3], "SADD", "s_a", "1", "2", "3", "x");
    E(d[3], "SADD", "s_b", "2", "3", "4", "y");
    E(d[3], "SMOVE", "s_a", "s_b", "x");
    E(d[3], "SINTERSTORE", "s_inter", "s_a", "s_b");
    E(d[3], "SUNIONSTORE", "s_union", "s_a", "s_b");
    E(d[3], "SDIFFSTORE", "s_diff", "s_b", "s_a");
    E(d[3], "ZADD", "z_a", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
    E(d[3], "ZADD", "z_b", "10", "a", "20", "x");
    E(d[3], "ZADD", "z_a", "INCR", "0.5", "a");
    E(d[3], "ZREM", "z_a", "b");
    E(d[3], "ZREMRANGEBYSCORE", "z_a", "4.5", "5");
    E(d[3], "ZUNIONSTORE", "z_union", "2", "z_a", "z_b", "WEIGHTS", "1", "2");
    E(d[3], "ZINTERSTORE", "z_inter", "2", "z_a", "z_b");
    E(d[3], "ZDIFFSTORE", "z_diff", "2", "z_a", "z_b");
    E(d[3], "ZRANGESTORE", "z_rs", "z_union", "0", "1");
    E(d[3], "ZREMRANGEBYRANK", "z_union", "0", "0");
    E(d[3], "ZADD", "z_lex", "0", "a", "0", "b", "0", "c");
    E(d[3], "ZREMRANGEBYLEX", "z_lex", "[a", "[b");
    E(d[3], "SWAPDB", "2", "3");
    E(d[3], "SWAPDB", "2", "3");
    /* An atomic batch. */
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *a1[] = {"SELECT", "2"}, *a2[] = {"SET", "tx1", "1"}, *a3[] = {"INCR", "tx2"},
               *a4[] = {"SELECT", "0"}, *a5[] = {"DEL", "short"};
    ember_batch_add(b, 2, a1, NULL);
    ember_batch_add(b, 3, a2, NULL);
    ember_batch_add(b, 2, a3, NULL);
    ember_batch_add(b, 2, a4, NULL);
    ember_batch_add(b, 2, a5, NULL);
    assert_int_equal(ember_batch_exec(root, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    ember_batch_free(b);
    for (int i = 0; i < NDB; i++)
        ember_db_close(d[i]);
}

/* ------------------------------------------------------------ comparing */

typedef struct strs {
    char **v;
    size_t *l;
    size_t n;
} strs;

static void strs_add(strs *s, const char *p, size_t n)
{
    s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->l = realloc(s->l, (s->n + 1) * sizeof *s->l);
    s->v[s->n] = malloc(n + 1);
    memcpy(s->v[s->n], p, n);
    s->v[s->n][n] = '\0';
    s->l[s->n++] = n;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : al < bl ? -1 : al > bl;
}

static void strs_sort(strs *s)
{
    for (size_t i = 1; i < s->n; i++)
        for (size_t j = i; j > 0 && cmp_bytes(s->v[j - 1], s->l[j - 1], s->v[j], s->l[j]) > 0;
             j--) {
            char *t = s->v[j];
            size_t tl = s->l[j];
            s->v[j] = s->v[j - 1];
            s->l[j] = s->l[j - 1];
            s->v[j - 1] = t;
            s->l[j - 1] = tl;
        }
}

static void strs_free(strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    free(s->l);
    memset(s, 0, sizeof *s);
}

/* Renders a reply from either side as text: scalars as their bytes, doubles
 * and numeric strings normalised by strtod when `numeric`. */
static void render_ember(tc_buf *b, const ember_reply *r)
{
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_INTEGER:
        tc_buf_printf(b, "%lld", (long long)ember_reply_integer(r));
        break;
    case EMBER_REPLY_DOUBLE:
        tc_buf_printf(b, "%.17g", ember_reply_double(r));
        break;
    case EMBER_REPLY_NIL:
        tc_buf_puts(b, "(nil)");
        break;
    case EMBER_REPLY_ARRAY:
    case EMBER_REPLY_SET:
    case EMBER_REPLY_MAP:
        for (size_t i = 0; i < ember_reply_len(r); i++) {
            render_ember(b, ember_reply_element(r, i));
            tc_buf_puts(b, "\n");
        }
        break;
    default: {
        size_t n;
        const char *s = ember_reply_str(r, &n);
        tc_buf_quote(b, s, n);
    }
    }
}

static void render_redis(tc_buf *b, const tc_resp *r)
{
    switch (r->type) {
    case TC_RESP_INTEGER:
        tc_buf_printf(b, "%lld", r->integer);
        break;
    case TC_RESP_NIL:
        tc_buf_puts(b, "(nil)");
        break;
    case TC_RESP_ARRAY:
    case TC_RESP_SET:
    case TC_RESP_MAP:
        for (size_t i = 0; i < r->n; i++) {
            render_redis(b, r->elem[i]);
            tc_buf_puts(b, "\n");
        }
        break;
    default:
        tc_buf_quote(b, r->str, r->len);
    }
}

/* Runs one command on both and compares the rendered replies. */
static void both(ember_db *db, tc_conn *c, size_t argc, const char *const *argv, const size_t *lens,
                 int as_double)
{
    ember_reply *er;
    assert_int_equal(ember_command(db, argc, argv, lens, &er), EMBER_OK);
    tc_resp *rr = tc_conn_command(c, argc, argv, lens);
    assert_non_null(rr);
    tc_buf eb = {0}, rb = {0};
    if (as_double) {
        tc_buf_printf(&eb, "%.17g", ember_reply_double(er));
        tc_buf_printf(&rb, "%.17g", strtod(rr->str ? rr->str : "nan", NULL));
    } else {
        render_ember(&eb, er);
        render_redis(&rb, rr);
    }
    if (strcmp(tc_buf_cstr(&eb), tc_buf_cstr(&rb)) != 0) {
        tc_buf q = {0};
        tc_buf_quote(&q, argv[1], lens[1]);
        fail_msg("%s %s: ember\n%s\nredis\n%s", argv[0], tc_buf_cstr(&q), tc_buf_cstr(&eb),
                 tc_buf_cstr(&rb));
    }
    tc_buf_free(&eb);
    tc_buf_free(&rb);
    ember_reply_free(er);
    tc_resp_free(rr);
}

/* Sorted members of a SET/HKEYS-like reply from ember. */
static void ember_sorted(ember_db *db, size_t argc, const char *const *argv, const size_t *lens,
                         strs *out)
{
    ember_reply *r;
    assert_int_equal(ember_command(db, argc, argv, lens, &r), EMBER_OK);
    for (size_t i = 0; i < ember_reply_len(r); i++) {
        size_t n;
        const char *s = ember_reply_str(ember_reply_element(r, i), &n);
        strs_add(out, s, n);
    }
    ember_reply_free(r);
    strs_sort(out);
}

static void redis_sorted(tc_conn *c, size_t argc, const char *const *argv, const size_t *lens,
                         strs *out)
{
    tc_resp *r = tc_conn_command(c, argc, argv, lens);
    assert_non_null(r);
    for (size_t i = 0; i < r->n; i++)
        strs_add(out, r->elem[i]->str, r->elem[i]->len);
    tc_resp_free(r);
    strs_sort(out);
}

static void same_strs(const strs *a, const strs *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: ember has %zu, redis %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        if (cmp_bytes(a->v[i], a->l[i], b->v[i], b->l[i]))
            fail_msg("%s: element %zu differs", what, i);
}

static void compare_all(ember_db *root, tc_conn *c)
{
    size_t total = 0;
    for (int d = 0; d < NDB; d++) {
        char ds[8];
        snprintf(ds, sizeof ds, "%d", d);
        ember_db *db;
        assert_int_equal(ember_db_view(root, d, &db), EMBER_OK);
        tc_resp_free(tc_conn_commandv(c, (const char *[]){"SELECT", ds, NULL}));
        strs ek = {0}, rk = {0};
        const char *keys[] = {"KEYS", "*"};
        size_t kl[] = {4, 1};
        ember_sorted(db, 2, keys, kl, &ek);
        redis_sorted(c, 2, keys, kl, &rk);
        same_strs(&ek, &rk, "KEYS *");
        total += ek.n;
        for (size_t i = 0; i < ek.n; i++) {
            const char *k = ek.v[i];
            size_t l = ek.l[i];
            both(db, c, 2, (const char *[]){"TYPE", k}, (size_t[]){4, l}, 0);
            both(db, c, 2, (const char *[]){"PEXPIRETIME", k}, (size_t[]){11, l}, 0);
            ember_reply *t;
            assert_int_equal(
                ember_command(db, 2, (const char *[]){"TYPE", k}, (size_t[]){4, l}, &t), EMBER_OK);
            const char *type = ember_reply_str(t, NULL);
            if (!strcmp(type, "string")) {
                both(db, c, 2, (const char *[]){"GET", k}, (size_t[]){3, l}, 0);
            } else if (!strcmp(type, "list")) {
                both(db, c, 4, (const char *[]){"LRANGE", k, "0", "-1"}, (size_t[]){6, l, 1, 2}, 0);
            } else if (!strcmp(type, "hash") || !strcmp(type, "set")) {
                int hash = type[0] == 'h';
                const char *a[] = {hash ? "HKEYS" : "SMEMBERS", k};
                size_t al[] = {hash ? 5u : 8u, l};
                strs em = {0}, rm = {0};
                ember_sorted(db, 2, a, al, &em);
                redis_sorted(c, 2, a, al, &rm);
                same_strs(&em, &rm, a[0]);
                if (hash)
                    for (size_t j = 0; j < em.n; j++)
                        both(db, c, 3, (const char *[]){"HGET", k, em.v[j]},
                             (size_t[]){4, l, em.l[j]}, 0);
                strs_free(&em);
                strs_free(&rm);
            } else if (!strcmp(type, "zset")) {
                both(db, c, 4, (const char *[]){"ZRANGE", k, "0", "-1"}, (size_t[]){6, l, 1, 2}, 0);
                ember_reply *mem;
                assert_int_equal(ember_command(db, 4, (const char *[]){"ZRANGE", k, "0", "-1"},
                                               (size_t[]){6, l, 1, 2}, &mem),
                                 EMBER_OK);
                for (size_t j = 0; j < ember_reply_len(mem); j++) {
                    size_t ml;
                    const char *m = ember_reply_str(ember_reply_element(mem, j), &ml);
                    both(db, c, 3, (const char *[]){"ZSCORE", k, m}, (size_t[]){6, l, ml}, 1);
                }
                ember_reply_free(mem);
            } else {
                fail_msg("unexpected type %s", type);
            }
            ember_reply_free(t);
        }
        strs_free(&ek);
        strs_free(&rk);
        ember_db_close(db);
    }
    assert_true(total > 20);
}

static const char *find_check_aof(void)
{
    const char *env = getenv("EMBER_REDIS_CHECK_AOF");
    if (env && *env)
        return env;
    static const char *const cands[] = {"/usr/bin/redis-check-aof",
                                        "/usr/local/bin/redis-check-aof"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], X_OK) == 0)
            return cands[i];
    return NULL;
}

static void test_redis_loads_ember_log(void **state)
{
    (void)state;
    char dir[] = "/tmp/ember_aof_interopXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/appendonly.aof", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);

    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_databases(cfg, NDB), EMBER_OK);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    assert_int_equal(ember_aof_attach(db, fd, EMBER_AOF_ALWAYS), EMBER_OK);
    write_dataset(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    close(fd);

    /* redis-check-aof accepts the log as it is. */
    const char *tool = find_check_aof();
    if (!tool)
        fail_msg("redis-check-aof not found (set EMBER_REDIS_CHECK_AOF)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (st != 0 || !strstr(out, "is valid"))
        fail_msg("redis-check-aof: %s", out);

    /* A copy for ember's own replay (redis-server moves the file). */
    char copy[300];
    snprintf(copy, sizeof copy, "%s/ember.copy", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
    assert_int_equal(system(cmd), 0);

    /* redis-server loads it (old-style file: migrated at startup). */
    tc_redis r;
    char err[256];
    const char *extra[] = {"--appendonly", "yes", "--dir", dir, "--databases", "4", NULL};
    if (tc_redis_start(&r, extra, err, sizeof err) != 0)
        fail_msg("redis-server: %s", err);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    compare_all(db, c);

    /* ember replays its own log to the same data. */
    ember_db *db2;
    assert_int_equal(ember_db_open(cfg, &db2), EMBER_OK);
    fd = open(copy, O_RDONLY);
    assert_true(fd >= 0);
    char *lerr = NULL;
    assert_int_equal(ember_aof_load(db2, fd, EMBER_AOF_LOAD_STRICT, &lerr), EMBER_OK);
    assert_null(lerr);
    close(fd);
    compare_all(db2, c);

    tc_conn_close(c);
    tc_redis_stop(&r);
    ember_db_close(db2);
    ember_db_close(db);
    ember_config_free(cfg);
    char rm[400];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

static void check_aof_tool(const char *path)
{
    const char *tool = find_check_aof();
    if (!tool)
        fail_msg("redis-check-aof not found (set EMBER_REDIS_CHECK_AOF)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (st != 0 || !strstr(out, "is valid"))
        fail_msg("redis-check-aof: %s", out);
    if (!strstr(out, "RDB preamble"))
        fail_msg("redis-check-aof did not see the RDB preamble: %s", out);
}

/* A rewritten log (RDB preamble + RESP tail, as aof-use-rdb-preamble):
 * redis-check-aof OK, redis-server loads identical data, ember too. */
static void test_redis_loads_rewritten_log(void **state)
{
    (void)state;
    char dir[] = "/tmp/ember_aof_rwinteropXXXXXX";
    assert_non_null(mkdtemp(dir));
    char old_path[300], path[300], copy[300];
    snprintf(old_path, sizeof old_path, "%s/old.aof", dir);
    snprintf(path, sizeof path, "%s/appendonly.aof", dir);
    snprintf(copy, sizeof copy, "%s/ember.copy", dir);
    int fd_old = open(old_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd_old >= 0 && fd >= 0);
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_databases(cfg, NDB), EMBER_OK);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    assert_int_equal(ember_aof_attach(db, fd_old, EMBER_AOF_EVERYSEC), EMBER_OK);
    write_dataset(db);
    assert_int_equal(ember_aof_rewrite(db, fd), EMBER_OK);
    /* Writes after the rewrite go to the new file, after its preamble. */
    ember_db *d1;
    assert_int_equal(ember_db_view(db, 1, &d1), EMBER_OK);
    E(d1, "RPUSH", "after_rw", "1", "2");
    E(d1, "DEL", "l_small");
    E(db, "SET", "after_rw0", "x", "EX", "86400");
    E(db, "HSET", "h_after", "f", "v");
    ember_db_close(d1);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    close(fd_old);
    close(fd);
    check_aof_tool(path);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
    assert_int_equal(system(cmd), 0);
    tc_redis r;
    char err[256];
    const char *extra[] = {"--appendonly", "yes", "--dir", dir, "--databases", "4", NULL};
    if (tc_redis_start(&r, extra, err, sizeof err) != 0)
        fail_msg("redis-server: %s", err);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    compare_all(db, c);
    ember_db *db2;
    assert_int_equal(ember_db_open(cfg, &db2), EMBER_OK);
    fd = open(copy, O_RDONLY);
    assert_true(fd >= 0);
    char *lerr = NULL;
    assert_int_equal(ember_aof_load(db2, fd, EMBER_AOF_LOAD_STRICT, &lerr), EMBER_OK);
    assert_null(lerr);
    close(fd);
    compare_all(db2, c);
    tc_conn_close(c);
    tc_redis_stop(&r);
    ember_db_close(db2);
    ember_db_close(db);
    ember_config_free(cfg);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_loads_ember_log),
        cmocka_unit_test(test_redis_loads_rewritten_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
