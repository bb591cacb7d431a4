/*
 * rdb_interop.c — what the RDB interop tests share (tests/unit/test_rdb_interop.c
 * drives the codec directly, tests/integration/test_rdb_interop.c the public
 * snapshot API): one dataset built by the same commands on ember or on a
 * redis-server, and a canonical dump of every database taken the same way on
 * both, so the two can be compared line by line. Public header, the RESP
 * client and cmocka only; asserts with cmocka (call from a test's main thread).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>

#include "rdb_interop.h"

size_t tr_content_argv(const char *type, const char **argv, size_t *lens, int *sort, int *pairs)
{
    size_t argc = 2;
    *sort = *pairs = 0;
    if (!strcmp(type, "string")) {
        argv[0] = "GET";
    } else if (!strcmp(type, "list")) {
        argv[0] = "LRANGE";
        argv[2] = "0";
        argv[3] = "-1";
        argc = 4;
    } else if (!strcmp(type, "set")) {
        argv[0] = "SMEMBERS";
        *sort = 1;
    } else if (!strcmp(type, "hash")) {
        argv[0] = "HGETALL";
        *sort = *pairs = 1;
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
    return argc;
}

int64_t tr_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ------------------------------------------------------------ two sides */

static void res_push(tr_res *r, const char *p, size_t len)
{
    if (r->n == r->cap)
        r->v = realloc(r->v, (r->cap = r->cap ? r->cap * 2 : 16) * sizeof *r->v);
    r->v[r->n].p = p;
    r->v[r->n].len = len;
    r->n++;
}

static void flat_ember(tr_res *r, const ember_reply *e)
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

static void flat_redis(tr_res *r, const tc_resp *e)
{
    if (e->type == TC_RESP_ARRAY || e->type == TC_RESP_SET || e->type == TC_RESP_MAP) {
        for (size_t i = 0; i < e->n; i++)
            flat_redis(r, e->elem[i]);
        return;
    }
    res_push(r, e->str ? e->str : "", e->str ? e->len : 0);
}

void tr_side_select(tr_side *s, int d)
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

void tr_side_close(tr_side *s)
{
    if (s->view)
        ember_db_close(s->view);
    s->view = NULL;
}

void tr_side_cmd(tr_side *s, size_t argc, const char *const *argv, const size_t *lens, tr_res *out)
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

void tr_res_free(tr_res *r)
{
    ember_reply_free(r->er);
    if (r->tr)
        tc_resp_free(r->tr);
    free(r->v);
}

/* Runs a command given as NUL-terminated words (NULL-terminated list). */
void tr_cmd(tr_side *s, ...)
{
    const char *argv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, s);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        argv[n++] = a;
    va_end(ap);
    tr_res r;
    tr_side_cmd(s, n, argv, NULL, &r);
    tr_res_free(&r);
}

void tr_cmdn(tr_side *s, size_t argc, const char *const *argv, const size_t *lens)
{
    tr_res r;
    tr_side_cmd(s, argc, argv, lens, &r);
    tr_res_free(&r);
}

/* ------------------------------------------------------------ the dump */

static int bstr_cmp(const void *a, const void *b)
{
    const tr_bstr *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void dump_key(tr_side *s, const tr_bstr *k, tc_buf *out)
{
    const char *argv[6] = {"TYPE", k->p};
    size_t lens[6] = {4, k->len};
    tr_res t, e, x, c;
    tr_side_cmd(s, 2, argv, lens, &t);
    char type[16];
    snprintf(type, sizeof type, "%.*s", (int)t.v[0].len, t.v[0].p);
    tr_res_free(&t);
    argv[0] = "OBJECT";
    argv[1] = "ENCODING";
    argv[2] = k->p;
    lens[0] = 6;
    lens[1] = 8;
    lens[2] = k->len;
    tr_side_cmd(s, 3, argv, lens, &e);
    argv[0] = "PEXPIRETIME";
    argv[1] = k->p;
    lens[0] = 11;
    lens[1] = k->len;
    tr_side_cmd(s, 2, argv, lens, &x);
    tc_buf_quote(out, k->p, k->len);
    tc_buf_printf(out, " %s %.*s exp=%lld:", type, (int)e.v[0].len, e.v[0].p, x.integer);
    tr_res_free(&e);
    tr_res_free(&x);

    int sort, pairs;
    size_t argc = tr_content_argv(type, argv, lens, &sort, &pairs);
    tr_side_cmd(s, argc, argv, lens, &c);
    if (sort && pairs && c.n)
        qsort(c.v, c.n / 2, 2 * sizeof *c.v, bstr_cmp);
    else if (sort && c.n)
        qsort(c.v, c.n, sizeof *c.v, bstr_cmp);
    for (size_t i = 0; i < c.n; i++) {
        tc_buf_puts(out, " ");
        tc_buf_quote(out, c.v[i].p, c.v[i].len);
    }
    tr_res_free(&c);
    tc_buf_puts(out, "\n");
}

void tr_dump_all(tr_side *s, tc_buf *out)
{
    for (int d = 0; d < 16; d++) {
        tr_side_select(s, d);
        const char *argv[] = {"KEYS", "*"};
        tr_res k;
        tr_side_cmd(s, 2, argv, NULL, &k);
        if (k.n)
            tc_buf_printf(out, "db %d: %zu keys\n", d, k.n);
        if (k.n)
            qsort(k.v, k.n, sizeof *k.v, bstr_cmp);
        for (size_t i = 0; i < k.n; i++)
            dump_key(s, &k.v[i], out);
        tr_res_free(&k);
    }
    tr_side_select(s, 0);
}

/* Fails with the first line that differs (dumps are long). */
void tr_expect_same(const char *what, const char *a, const char *b)
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

void tr_pattern(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 131 + seed * 7 + (i >> 9)) % 251);
}

/* The same commands on either tr_side: every type, compact and big encodings
 * at Redis 7.0's default thresholds, TTLs relative to `base` (Unix ms). */
void tr_fill(tr_side *s, int64_t base)
{
    char t[64], u[64];
    tr_side_select(s, 0);
    tr_cmd(s, "SET", "str:int", "12345", NULL);
    tr_cmd(s, "SET", "str:neg", "-9223372036854775808", NULL);
    tr_cmd(s, "SET", "str:max", "9223372036854775807", NULL);
    tr_cmd(s, "SET", "str:2^32", "4294967296", NULL);
    tr_cmd(s, "SET", "str:-2^31", "-2147483648", NULL);
    tr_cmd(s, "SET", "str:lead0", "0123", NULL);
    tr_cmd(s, "SET", "str:float", "3.14", NULL);
    tr_cmd(s, "SET", "str:empty", "", NULL);
    tr_cmd(s, "SET", "str:emb", "hello world", NULL);
    tr_cmd(s, "SET", "str:raw", "a string longer than forty-four bytes, so it is raw", NULL);
    tr_cmd(s, "APPEND", "str:appended", "abc", NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 3600 * 1000));
    tr_cmd(s, "SET", "str:ttl", "expiring", "PXAT", t, NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 86400 * 1000 + 123));
    tr_cmd(s, "SET", "str:ttl-int", "77", "PXAT", t, NULL);
    {
        const char *argv[] = {"SET", "bin\0key\xff", "v\0a\0l\r\n\xfe"};
        size_t lens[] = {3, 8, 8};
        tr_cmdn(s, 3, argv, lens);
    }
    {
        size_t n = 1 << 20;
        char *big = malloc(n);
        tr_pattern(big, n, 1);
        const char *argv[] = {"SET", "str:1MB", big};
        size_t lens[] = {3, 7, n};
        tr_cmdn(s, 3, argv, lens);
        memset(big, 'z', 5000); /* compressible: Redis writes it with LZF */
        const char *argv2[] = {"SET", "str:zzz", big};
        size_t lens2[] = {3, 7, 5000};
        tr_cmdn(s, 3, argv2, lens2);
        free(big);
    }
    /* lists */
    tr_cmd(s, "RPUSH", "list:small", "a", "1", "-2", "", "99999999999", "3.5", NULL);
    for (int i = 0; i < 1500; i++) {
        snprintf(t, sizeof t, i % 3 ? "element-%d" : "%d", i);
        tr_cmd(s, "RPUSH", "list:big", t, NULL);
    }
    {
        char big[20000];
        tr_pattern(big, sizeof big, 2);
        const char *argv[] = {"RPUSH", "list:bigelem", "x", big, "y", big};
        size_t lens[] = {5, 12, 1, sizeof big, 1, 9000};
        tr_cmdn(s, 6, argv, lens);
    }
    tr_cmd(s, "LPUSH", "list:ttl", "a", "b", NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 7200 * 1000));
    tr_cmd(s, "PEXPIREAT", "list:ttl", t, NULL);
    /* sets */
    tr_cmd(s, "SADD", "set:intset", "1", "-5", "70000", "-9223372036854775808", "5000000000", NULL);
    tr_cmd(s, "SADD", "set:strs", "a", "b", "1", "", NULL);
    for (int i = 0; i < 700; i++) {
        snprintf(t, sizeof t, "%d", i * 3 - 1000);
        tr_cmd(s, "SADD", "set:bigint", t, NULL);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(t, sizeof t, "member:%d", i);
        tr_cmd(s, "SADD", "set:bigstr", t, NULL);
    }
    {
        const char *argv[] = {"SADD", "set:bin", "\0", "a\0b", "\xff\xfe"};
        size_t lens[] = {4, 7, 1, 3, 2};
        tr_cmdn(s, 5, argv, lens);
    }
    /* hashes */
    tr_cmd(s, "HSET", "hash:small", "f1", "v1", "n", "17", "neg", "-3", "empty", "", NULL);
    for (int i = 0; i < 600; i++) {
        snprintf(t, sizeof t, "field:%d", i);
        snprintf(u, sizeof u, "%d", i * i);
        tr_cmd(s, "HSET", "hash:big", t, u, NULL);
    }
    {
        char big[200];
        memset(big, 'x', sizeof big);
        const char *argv[] = {"HSET", "hash:longval", "f", big, "g", "h"};
        size_t lens[] = {4, 12, 1, sizeof big, 1, 1};
        tr_cmdn(s, 6, argv, lens);
    }
    tr_cmd(s, "HSET", "hash:ttl", "a", "b", NULL);
    snprintf(t, sizeof t, "%lld", (long long)(base + 600 * 1000));
    tr_cmd(s, "PEXPIREAT", "hash:ttl", t, NULL);
    /* sorted sets */
    tr_cmd(s, "ZADD", "zset:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0",
           "f", "1e-300", "g", "123456789012", "h", "0.1", "i", NULL);
    for (int i = 0; i < 400; i++) {
        snprintf(t, sizeof t, "m%d", i);
        snprintf(u, sizeof u, "%d.%d", i / 7 - 20, i % 7);
        tr_cmd(s, "ZADD", "zset:big", u, t, NULL);
    }
    {
        char big[100];
        memset(big, 'q', sizeof big);
        const char *argv[] = {"ZADD", "zset:longmember", "3", big, "-1.5", "neg", "-0", "nz"};
        size_t lens[] = {4, 15, 1, sizeof big, 4, 3, 2, 2};
        tr_cmdn(s, 8, argv, lens);
    }
    /* other databases */
    tr_side_select(s, 1);
    tr_cmd(s, "SET", "in-db-1", "one", NULL);
    tr_cmd(s, "SADD", "set:intset", "7", NULL);
    tr_side_select(s, 9);
    tr_cmd(s, "HSET", "h", "k", "v", NULL);
    tr_side_select(s, 15);
    tr_cmd(s, "ZADD", "z", "1", "one", NULL);
    tr_cmd(s, "SET", "str:int", "-1", NULL);
    tr_side_select(s, 0);
}

/* ------------------------------------------------------------ files */

void tr_make_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/ember-rdb-interop-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

void tr_remove_dir(const char *dir)
{
    char cmdline[512];
    snprintf(cmdline, sizeof cmdline, "rm -rf '%s'", dir);
    assert_int_equal(system(cmdline), 0);
}

/* redis-check-rdb's verdict on path. */
void tr_check_rdb(const char *path)
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

void tr_start_redis(tc_redis *r, const char *const *extra)
{
    char err[2048];
    if (tc_redis_start(r, extra, err, sizeof err))
        fail_msg("%s", err);
}
