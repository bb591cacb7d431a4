/*
 * test_rdb_interop.c — the RDB codec against the real thing (Debian's
 * redis-server and redis-check-rdb 7.0):
 *
 *   ember -> Redis   a rich dataset (every type, compact and big encodings,
 *                    TTLs, binary keys and values, integers, big strings,
 *                    several databases) written by ember's writer as a plain
 *                    RDB: redis-check-rdb says OK, a redis-server started on
 *                    the file holds exactly the same data (type, encoding,
 *                    absolute expire time, contents of every key), and that
 *                    server's own SAVE loads back into ember unchanged;
 *   Redis -> ember   a dataset built on redis-server (listpack, quicklist with
 *                    packed and plain nodes, intset, hashtable, skiplist, LZF
 *                    strings, expiries) saved with SAVE loads into ember with
 *                    the same data and, at Redis 7.0's thresholds, the same
 *                    encodings.
 *
 * It calls the codec directly (lib/persist/rdb.h), so it lives with the unit
 * tests; redis-server is started with tests/common/redis_proc.h. A missing
 * redis-server is a failure, not a skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "persist/rdb.h"
#include "redis_proc.h"
#include "resp_client.h"

/* Redis 7.0's set encodings: intset or hashtable only. */
static const char *const redis70[] = {"set-max-listpack-entries", "0", NULL};

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static ember_db *open_db(const char *const *settings)
{
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, EMBER_MODE_INLINE), EMBER_OK);
    for (size_t i = 0; settings && settings[i]; i += 2)
        assert_int_equal(ember_config_set(cfg, settings[i], settings[i + 1]), EMBER_OK);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static em_store *store_of(ember_db *db)
{
    return &db->box->core.srv.st;
}

/* ------------------------------------------------------------ two sides */

/* One database server seen through commands: ember (views per database) or
 * redis-server (SELECT on one connection). */
typedef struct side {
    ember_db *db;
    ember_db *view;
    tc_conn *conn;
} side;

typedef struct bstr {
    const char *p;
    size_t len;
} bstr;

/* A reply flattened into strings (nested arrays too: RESP3 pairs). */
typedef struct res {
    int kind; /* 'S' string/status, 'I' integer, 'N' nil, 'E' error, 'A' aggregate */
    long long integer;
    bstr *v;
    size_t n, cap;
    ember_reply *er;
    tc_resp *tr;
} res;

static void res_push(res *r, const char *p, size_t len)
{
    if (r->n == r->cap)
        r->v = realloc(r->v, (r->cap = r->cap ? r->cap * 2 : 16) * sizeof *r->v);
    r->v[r->n].p = p;
    r->v[r->n].len = len;
    r->n++;
}

static void flat_ember(res *r, const ember_reply *e)
{
    int t = ember_reply_type(e);
    if (t == EMBER_REPLY_ARRAY || t == EMBER_REPLY_SET || t == EMBER_REPLY_MAP) {
        for (size_t i = 0; i < ember_reply_len(e); i++)
            flat_ember(r, ember_reply_element(e, i));
        return;
    }
    size_t len;
    const char *s = ember_reply_str(e, &len);
    res_push(r, s ? s : "", s ? len : 0);
}

static void flat_redis(res *r, const tc_resp *e)
{
    if (e->type == TC_RESP_ARRAY || e->type == TC_RESP_SET || e->type == TC_RESP_MAP) {
        for (size_t i = 0; i < e->n; i++)
            flat_redis(r, e->elem[i]);
        return;
    }
    res_push(r, e->str ? e->str : "", e->str ? e->len : 0);
}

static void side_select(side *s, int d)
{
    if (s->db) {
        if (s->view)
            ember_db_close(s->view);
        assert_int_equal(ember_db_view(s->db, d, &s->view), EMBER_OK);
    } else {
        char t[16];
        snprintf(t, sizeof t, "%d", d);
        const char *argv[] = {"SELECT", t, NULL};
        tc_resp *r = tc_conn_commandv(s->conn, argv);
        assert_non_null(r);
        assert_int_equal(r->type, TC_RESP_STATUS);
        tc_resp_free(r);
    }
}

static void side_cmd(side *s, size_t argc, const char *const *argv, const size_t *lens, res *out)
{
    memset(out, 0, sizeof *out);
    if (s->db) {
        assert_int_equal(ember_command(s->view ? s->view : s->db, argc, argv, lens, &out->er),
                         EMBER_OK);
        int t = ember_reply_type(out->er);
        out->kind = t == EMBER_REPLY_INTEGER ? 'I'
                    : t == EMBER_REPLY_NIL   ? 'N'
                    : t == EMBER_REPLY_ERROR ? 'E'
                    : (t == EMBER_REPLY_ARRAY || t == EMBER_REPLY_SET || t == EMBER_REPLY_MAP)
                        ? 'A'
                        : 'S';
        out->integer = ember_reply_integer(out->er);
        flat_ember(out, out->er);
    } else {
        out->tr = tc_conn_command(s->conn, argc, argv, lens);
        if (!out->tr)
            fail_msg("redis: %s", tc_conn_error(s->conn));
        int t = out->tr->type;
        out->kind = t == TC_RESP_INTEGER                                           ? 'I'
                    : t == TC_RESP_NIL                                             ? 'N'
                    : t == TC_RESP_ERROR                                           ? 'E'
                    : (t == TC_RESP_ARRAY || t == TC_RESP_SET || t == TC_RESP_MAP) ? 'A'
                                                                                   : 'S';
        out->integer = out->tr->integer;
        flat_redis(out, out->tr);
    }
    if (out->kind == 'E')
        fail_msg("%s: %.*s", argv[0], (int)out->v[0].len, out->v[0].p);
}

static void res_free(res *r)
{
    ember_reply_free(r->er);
    if (r->tr)
        tc_resp_free(r->tr);
    free(r->v);
}

/* Runs a command given as NUL-terminated words (NULL-terminated list). */
static void sidev(side *s, ...)
{
    const char *argv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, s);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        argv[n++] = a;
    va_end(ap);
    res r;
    side_cmd(s, n, argv, NULL, &r);
    res_free(&r);
}

static void siden(side *s, size_t argc, const char *const *argv, const size_t *lens)
{
    res r;
    side_cmd(s, argc, argv, lens, &r);
    res_free(&r);
}

/* ------------------------------------------------------------ the dump */

static int bstr_cmp(const void *a, const void *b)
{
    const bstr *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void dump_key(side *s, const bstr *k, tc_buf *out)
{
    const char *argv[6] = {"TYPE", k->p};
    size_t lens[6] = {4, k->len};
    res t, e, x, c;
    side_cmd(s, 2, argv, lens, &t);
    char type[16];
    snprintf(type, sizeof type, "%.*s", (int)t.v[0].len, t.v[0].p);
    res_free(&t);
    argv[0] = "OBJECT";
    argv[1] = "ENCODING";
    argv[2] = k->p;
    lens[0] = 6;
    lens[1] = 8;
    lens[2] = k->len;
    side_cmd(s, 3, argv, lens, &e);
    argv[0] = "PEXPIRETIME";
    argv[1] = k->p;
    lens[0] = 11;
    lens[1] = k->len;
    side_cmd(s, 2, argv, lens, &x);
    tc_buf_quote(out, k->p, k->len);
    tc_buf_printf(out, " %s %.*s exp=%lld:", type, (int)e.v[0].len, e.v[0].p, x.integer);
    res_free(&e);
    res_free(&x);

    size_t argc = 2;
    int sort = 0, pairs = 0;
    if (!strcmp(type, "string")) {
        argv[0] = "GET";
    } else if (!strcmp(type, "list")) {
        argv[0] = "LRANGE";
        argv[2] = "0";
        argv[3] = "-1";
        argc = 4;
    } else if (!strcmp(type, "set")) {
        argv[0] = "SMEMBERS";
        sort = 1;
    } else if (!strcmp(type, "hash")) {
        argv[0] = "HGETALL";
        sort = pairs = 1;
    } else {
        argv[0] = "ZRANGE";
        argv[2] = "0";
        argv[3] = "-1";
        argv[4] = "WITHSCORES";
        argc = 5;
    }
    for (size_t i = 0; i < argc; i++)
        if (i != 1)
            lens[i] = strlen(argv[i]);
    side_cmd(s, argc, argv, lens, &c);
    if (sort && pairs && c.n)
        qsort(c.v, c.n / 2, 2 * sizeof *c.v, bstr_cmp);
    else if (sort && c.n)
        qsort(c.v, c.n, sizeof *c.v, bstr_cmp);
    for (size_t i = 0; i < c.n; i++) {
        tc_buf_puts(out, " ");
        tc_buf_quote(out, c.v[i].p, c.v[i].len);
    }
    res_free(&c);
    tc_buf_puts(out, "\n");
}

static void dump_all(side *s, tc_buf *out)
{
    for (int d = 0; d < 16; d++) {
        side_select(s, d);
        const char *argv[] = {"KEYS", "*"};
        res k;
        side_cmd(s, 2, argv, NULL, &k);
        if (k.n)
            tc_buf_printf(out, "db %d: %zu keys\n", d, k.n);
        if (k.n)
            qsort(k.v, k.n, sizeof *k.v, bstr_cmp);
        for (size_t i = 0; i < k.n; i++)
            dump_key(s, &k.v[i], out);
        res_free(&k);
    }
    side_select(s, 0);
}

/* Fails with the first line that differs (dumps are long). */
static void expect_same(const char *what, const char *a, const char *b)
{
    size_t line = 1;
    while (*a || *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        size_t la = na ? (size_t)(na - a) : strlen(a), lb = nb ? (size_t)(nb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la))
            fail_msg("%s: line %zu differs:\n  %.400s\nvs\n  %.400s", what, line, a, b);
        a += la + (na != NULL);
        b += lb + (nb != NULL);
        line++;
    }
}

/* ------------------------------------------------------------ datasets */

static void pattern(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 131 + seed * 7 + (i >> 9)) % 251);
}

/* The same commands on either side: every type, compact and big encodings
 * at Redis 7.0's default thresholds, TTLs relative to `base` (Unix ms). */
static void fill(side *s, int64_t base)
{
    char t[64], u[64];
    side_select(s, 0);
    sidev(s, "SET", "str:int", "12345", NULL);
    sidev(s, "SET", "str:neg", "-9223372036854775808", NULL);
    sidev(s, "SET", "str:max", "9223372036854775807", NULL);
    sidev(s, "SET", "str:2^32", "4294967296", NULL);
    sidev(s, "SET", "str:-2^31", "-2147483648", NULL);
    sidev(s, "SET", "str:lead0", "0123", NULL);
    sidev(s, "SET", "str:float", "3.14", NULL);
    sidev(s, "SET", "str:empty", "", NULL);
    sidev(s, "SET", "str:emb", "hello world", NULL);
    sidev(s, "SET", "str:raw", "a string longer than forty-four bytes, so it is raw", NULL);
    sidev(s, "APPEND", "str:appended", "abc", NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 3600 * 1000));
    sidev(s, "SET", "str:ttl", "expiring", "PXAT", t, NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 86400 * 1000 + 123));
    sidev(s, "SET", "str:ttl-int", "77", "PXAT", t, NULL);
    {
        const char *argv[] = {"SET", "bin\0key\xff", "v\0a\0l\r\n\xfe"};
        size_t lens[] = {3, 8, 8};
        siden(s, 3, argv, lens);
    }
    {
        size_t n = 1 << 20;
        char *big = malloc(n);
        pattern(big, n, 1);
        const char *argv[] = {"SET", "str:1MB", big};
        size_t lens[] = {3, 7, n};
        siden(s, 3, argv, lens);
        memset(big, 'z', 5000); /* compressible: Redis writes it with LZF */
        const char *argv2[] = {"SET", "str:zzz", big};
        size_t lens2[] = {3, 7, 5000};
        siden(s, 3, argv2, lens2);
        free(big);
    }
    /* lists */
    sidev(s, "RPUSH", "list:small", "a", "1", "-2", "", "99999999999", "3.5", NULL);
    for (int i = 0; i < 1500; i++) {
        snprintf(t, sizeof t, i % 3 ? "element-%d" : "%d", i);
        sidev(s, "RPUSH", "list:big", t, NULL);
    }
    {
        char big[20000];
        pattern(big, sizeof big, 2);
        const char *argv[] = {"RPUSH", "list:bigelem", "x", big, "y", big};
        size_t lens[] = {5, 12, 1, sizeof big, 1, 9000};
        siden(s, 6, argv, lens);
    }
    sidev(s, "LPUSH", "list:ttl", "a", "b", NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 7200 * 1000));
    sidev(s, "PEXPIREAT", "list:ttl", t, NULL);
    /* sets */
    sidev(s, "SADD", "set:intset", "1", "-5", "70000", "-9223372036854775808", "5000000000", NULL);
    sidev(s, "SADD", "set:strs", "a", "b", "1", "", NULL);
    for (int i = 0; i < 700; i++) {
        snprintf(t, sizeof t, "%d", i * 3 - 1000);
        sidev(s, "SADD", "set:bigint", t, NULL);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(t, sizeof t, "member:%d", i);
        sidev(s, "SADD", "set:bigstr", t, NULL);
    }
    {
        const char *argv[] = {"SADD", "set:bin", "\0", "a\0b", "\xff\xfe"};
        size_t lens[] = {4, 7, 1, 3, 2};
        siden(s, 5, argv, lens);
    }
    /* hashes */
    sidev(s, "HSET", "hash:small", "f1", "v1", "n", "17", "neg", "-3", "empty", "", NULL);
    for (int i = 0; i < 600; i++) {
        snprintf(t, sizeof t, "field:%d", i);
        snprintf(u, sizeof u, "%d", i * i);
        sidev(s, "HSET", "hash:big", t, u, NULL);
    }
    {
        char big[200];
        memset(big, 'x', sizeof big);
        const char *argv[] = {"HSET", "hash:longval", "f", big, "g", "h"};
        size_t lens[] = {4, 12, 1, sizeof big, 1, 1};
        siden(s, 6, argv, lens);
    }
    sidev(s, "HSET", "hash:ttl", "a", "b", NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 600 * 1000));
    sidev(s, "PEXPIREAT", "hash:ttl", t, NULL);
    /* sorted sets */
    sidev(s, "ZADD", "zset:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0",
          "f", "1e-300", "g", "123456789012", "h", "0.1", "i", NULL);
    for (int i = 0; i < 400; i++) {
        snprintf(t, sizeof t, "m%d", i);
        snprintf(u, sizeof u, "%d.%d", i / 7 - 20, i % 7);
        sidev(s, "ZADD", "zset:big", u, t, NULL);
    }
    {
        char big[100];
        memset(big, 'q', sizeof big);
        const char *argv[] = {"ZADD", "zset:longmember", "3", big, "-1.5", "neg", "-0", "nz"};
        size_t lens[] = {4, 15, 1, sizeof big, 4, 3, 2, 2};
        siden(s, 8, argv, lens);
    }
    /* other databases */
    side_select(s, 1);
    sidev(s, "SET", "in-db-1", "one", NULL);
    sidev(s, "SADD", "set:intset", "7", NULL);
    side_select(s, 9);
    sidev(s, "HSET", "h", "k", "v", NULL);
    side_select(s, 15);
    sidev(s, "ZADD", "z", "1", "one", NULL);
    sidev(s, "SET", "str:int", "-1", NULL);
    side_select(s, 0);
}

/* ------------------------------------------------------------ files */

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ember-rdb-interop-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmdline[512];
    snprintf(cmdline, sizeof cmdline, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmdline), 0);
}

/* ember's writer over every database of db, to path. */
static void save_file(ember_db *db, const char *path, int64_t ctime_ms)
{
    em_store *st = store_of(db);
    em_rdb_buf b = {0};
    ember__rdb_put_header(&b, ctime_ms / 1000, ember__mem_used(&st->mem), 0);
    for (int d = 0; d < st->ndb; d++) {
        em_keyspace *ks = &st->dbs[d];
        if (ember__dict_size(&ks->dict) == 0)
            continue;
        ember__rdb_put_selectdb(&b, d, ember__dict_size(&ks->dict), ks->nvol);
        for (int t = 0; t < 2; t++)
            for (size_t i = 0; i < ks->dict.size[t]; i++)
                for (em_obj *o = ks->dict.t[t][i]; o; o = o->next)
                    assert_int_equal(ember__rdb_put_object(&b, o), 0);
    }
    ember__rdb_put_eof(&b, 0);
    assert_false(b.oom);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
    assert_int_equal(fclose(f), 0);
    ember__rdb_buf_free(&b);
}

static int64_t fd_read(void *ctx, void *buf, size_t n)
{
    ssize_t r = read(*(int *)ctx, buf, n);
    return r < 0 ? -errno : r;
}

static void load_file(ember_db *db, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    em_rdb_src src = {fd_read, &fd};
    em_rdb_err err;
    int rc = ember__rdb_load(&src, store_of(db), &db->box->core.srv.cfg, now_ms(), &err);
    close(fd);
    if (rc)
        fail_msg("ember could not load %s: %s", path, err.msg);
}

/* redis-check-rdb's verdict on path. */
static void check_rdb(const char *path)
{
    char cmdline[600];
    snprintf(cmdline, sizeof cmdline, "redis-check-rdb '%s' 2>&1", path);
    FILE *p = popen(cmdline, "r");
    assert_non_null(p);
    tc_buf out = {0};
    char line[512];
    while (fgets(line, sizeof line, p))
        tc_buf_puts(&out, line);
    int st = pclose(p);
    if (st != 0 || !strstr(tc_buf_cstr(&out), "RDB looks OK"))
        fail_msg("redis-check-rdb %s (status %d):\n%s", path, st, tc_buf_cstr(&out));
    tc_buf_free(&out);
}

static void start_redis(tc_redis *r, const char *const *extra)
{
    char err[2048];
    if (tc_redis_start(r, extra, err, sizeof err))
        fail_msg("%s", err);
}

/* ------------------------------------------------------------ the tests */

static void test_ember_to_redis(void **state)
{
    (void)state;
    make_tmpdir();
    int64_t base = now_ms();
    ember_db *db = open_db(redis70);
    side es = {db, NULL, NULL};
    fill(&es, base);
    char path[512];
    snprintf(path, sizeof path, "%s/ember.rdb", tmpdir);
    save_file(db, path, base);
    check_rdb(path);

    const char *extra[] = {"--dir", tmpdir, "--dbfilename", "ember.rdb", NULL};
    tc_redis r;
    start_redis(&r, extra);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    side rs = {NULL, NULL, c};
    tc_buf a = {0}, b = {0};
    dump_all(&es, &a);
    dump_all(&rs, &b);
    expect_same("ember's file loaded by redis-server", tc_buf_cstr(&a), tc_buf_cstr(&b));

    print_message("ember -> redis: %zu bytes of dump compared\n", a.len);

    /* Full circle: the server's own SAVE of that data (over ember's file,
     * dbfilename being protected) loads back into ember. */
    sidev(&rs, "SAVE", NULL);
    ember_db *back = open_db(redis70);
    load_file(back, path);
    side bs = {back, NULL, NULL};
    tc_buf x = {0};
    dump_all(&bs, &x);
    expect_same("redis-server's SAVE of ember's data, loaded by ember", tc_buf_cstr(&a),
                tc_buf_cstr(&x));
    tc_buf_free(&x);
    if (bs.view)
        ember_db_close(bs.view);
    ember_db_close(back);

    tc_buf_free(&a);
    tc_buf_free(&b);
    tc_conn_close(c);
    tc_redis_stop(&r);
    if (es.view)
        ember_db_close(es.view);
    ember_db_close(db);
    remove_tmpdir();
}

static void test_redis_to_ember(void **state)
{
    (void)state;
    make_tmpdir();
    const char *extra[] = {"--dir", tmpdir, "--dbfilename", "redis.rdb", "--enable-debug-command",
                           "yes",   NULL};
    tc_redis r;
    start_redis(&r, extra);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    side rs = {NULL, NULL, c};
    int64_t base = now_ms();
    fill(&rs, base);
    /* Plain quicklist nodes: elements over the packed threshold. */
    sidev(&rs, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000", NULL);
    {
        char big[3000];
        pattern(big, sizeof big, 3);
        const char *argv[] = {"RPUSH", "list:plain", "small", big, "tail", big};
        size_t lens[] = {5, 10, 5, sizeof big, 4, 1500};
        siden(&rs, 6, argv, lens);
    }
    /* A list of several packed nodes at a smaller fill. */
    sidev(&rs, "CONFIG", "SET", "list-max-listpack-size", "5", NULL);
    for (int i = 0; i < 23; i++) {
        char t[16];
        snprintf(t, sizeof t, "n%d", i);
        sidev(&rs, "RPUSH", "list:fill5", t, NULL);
    }
    sidev(&rs, "CONFIG", "SET", "list-max-listpack-size", "-2", NULL);
    sidev(&rs, "SAVE", NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/redis.rdb", tmpdir);

    ember_db *db = open_db(redis70);
    load_file(db, path);
    side es = {db, NULL, NULL};
    tc_buf a = {0}, b = {0};
    dump_all(&rs, &a);
    dump_all(&es, &b);
    expect_same("redis-server's SAVE loaded by ember", tc_buf_cstr(&a), tc_buf_cstr(&b));
    print_message("redis -> ember: %zu bytes of dump compared\n", a.len);

    /* With ember's defaults (7.2's listpack sets) the contents are the same. */
    ember_db *db2 = open_db(NULL);
    load_file(db2, path);
    side es2 = {db2, NULL, NULL};
    tc_buf x = {0};
    dump_all(&es2, &x);
    const char *argv[] = {"OBJECT", "ENCODING", "set:strs"};
    res e;
    side_cmd(&es2, 3, argv, NULL, &e);
    assert_int_equal(e.v[0].len, 8);
    assert_memory_equal(e.v[0].p, "listpack", 8);
    res_free(&e);
    tc_buf_free(&x);
    if (es2.view)
        ember_db_close(es2.view);
    ember_db_close(db2);

    tc_buf_free(&a);
    tc_buf_free(&b);
    tc_conn_close(c);
    tc_redis_stop(&r);
    if (es.view)
        ember_db_close(es.view);
    ember_db_close(db);
    remove_tmpdir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ember_to_redis),
        cmocka_unit_test(test_redis_to_ember),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
