/*
 * test_server.c — ember_server_start(): the RESP listener on an open
 * database, checked from the outside with raw sockets.
 *
 * Tests:
 *  - reply bytes: the same requests sent to ember's server and to a real
 *    redis-server (the oracle), in RESP2 and after HELLO 3; every reply
 *    compared byte for byte (HELLO's own reply only by shape: it names the
 *    server).
 *  - inline requests, quoting included, and connection commands (SELECT
 *    keeps a database per connection, CLIENT ID/SETNAME/GETNAME, QUIT).
 *  - pipelining: 10 000 commands in one write, replies in order.
 *  - redis-cli and redis-benchmark against it (skipped with a message when
 *    they are not installed).
 *  - malformed input gets Redis's protocol error and a disconnect, while
 *    another connection keeps being served.
 *  - BLPOP on one connection served by LPUSH on another.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ember.h"
#include "raw_conn.h"
#include "redis_proc.h"

/* ------------------------------------------------------------ raw client */

/* tests/common/raw_conn.h, with the failures as test failures. */
typedef tc_raw raw_conn;

static int raw_open(raw_conn *c, int port)
{
    return tc_raw_open(c, port, 10000);
}

static void raw_close(raw_conn *c)
{
    tc_raw_close(c);
}

static void raw_send(raw_conn *c, const void *p, size_t n)
{
    assert_int_equal(tc_raw_send(c, p, n), 0);
}

static void raw_sends(raw_conn *c, const char *s)
{
    raw_send(c, s, strlen(s));
}

static char *raw_read_reply(raw_conn *c, size_t *out_len)
{
    return tc_raw_read_reply(c, out_len);
}

static int raw_closed(raw_conn *c)
{
    return tc_raw_wait_closed(c);
}

/* A command as a multibulk request. */
static void put_cmd(char **out, size_t *len, const char *const *argv, size_t argc)
{
    size_t cap = 64;
    for (size_t i = 0; i < argc; i++)
        cap += strlen(argv[i]) + 32;
    *out = malloc(cap);
    size_t n = (size_t)snprintf(*out, cap, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++)
        n += (size_t)snprintf(*out + n, cap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    *len = n;
}

static char *roundtrip(raw_conn *c, const char *const *argv, size_t argc, size_t *rlen)
{
    char *req;
    size_t n;
    put_cmd(&req, &n, argv, argc);
    raw_send(c, req, n);
    free(req);
    return raw_read_reply(c, rlen);
}

/* Splits "a b c" at spaces (no quoting: test commands only). */
static size_t split(char *s, const char **argv, size_t max)
{
    size_t n = 0;
    for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
        argv[n++] = t;
    return n;
}

/* ------------------------------------------------------------ fixture */

typedef struct fixture {
    ember_db *db;
    ember_server *srv;
    int port;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(ember_db_open(NULL, &f->db), EMBER_OK);
    assert_int_equal(ember_server_start(f->db, NULL, 0, 0, &f->srv), EMBER_OK);
    f->port = ember_server_port(f->srv);
    assert_true(f->port > 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ember_server_stop(f->srv);
    ember_db_close(f->db);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ tests */

/* Every command here runs on both servers, each from an empty database. */
static const char *const diff_cmds[] = {
    "SET k v",
    "GET k",
    "GET missing",
    "INCR n",
    "INCRBY n 41",
    "INCR k",
    "INCRBYFLOAT f 1.5",
    "LPUSH l a b c",
    "LRANGE l 0 -1",
    "LRANGE nol 0 -1",
    "LPOP nol",
    "LPOP l 2",
    "RPUSH l x y",
    "LINDEX l 99",
    "HSET h f1 v1 f2 v2",
    "HGETALL h",
    "HGETALL noh",
    "HGET h f1",
    "HGET h nope",
    "HMGET h f1 nope f2",
    "HEXISTS h f1",
    "ZADD z 1.5 a 2 b 0.1 c",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZRANGE z 0 -1",
    "ZREVRANGE z 0 1 WITHSCORES",
    "ZSCORE z a",
    "ZSCORE z nope",
    "ZMSCORE z a nope c",
    "ZINCRBY z 2.5 a",
    "ZRANK z a",
    "ZRANK z nope",
    "ZPOPMIN z",
    "ZPOPMIN z 5",
    "ZPOPMIN noz",
    "ZADD z2 1 a 2 b 3 c",
    "ZRANGEBYSCORE z2 -inf +inf WITHSCORES",
    "ZREVRANGEBYSCORE z2 +inf -inf WITHSCORES LIMIT 0 2",
    "ZRANGE z2 0 -1 REV WITHSCORES",
    "ZPOPMAX z2",
    "ZPOPMAX z2 1",
    "ZUNION 2 z2 noz WITHSCORES",
    "ZINTER 1 z2 WITHSCORES",
    "ZDIFF 1 z2 WITHSCORES",
    "ZMPOP 1 z2 MIN COUNT 2",
    "ZRANDMEMBER noz 2 WITHSCORES",
    "HRANDFIELD noh 2 WITHVALUES",
    "ZADD z3 5 only",
    "ZRANDMEMBER z3 1 WITHSCORES",
    "HSET h3 f v",
    "HRANDFIELD h3 1 WITHVALUES",
    "BZPOPMIN z3 0.01",
    "SADD s 3 1 2",
    "SMEMBERS s",
    "SMEMBERS nos",
    "SISMEMBER s 1",
    "SPOP nos",
    "BLPOP nol 0.01",
    "BZPOPMIN noz 0.01",
    "LMPOP 1 nol LEFT",
    "ZMPOP 1 noz MIN",
    "LPUSH k x",
    "HGET k f",
    "NOSUCHCMD a b",
    "GET",
    "SET k",
    "EXISTS k l missing",
    "TTL k",
    "TTL missing",
    "EXPIRE k 100",
    "PERSIST k",
    "TYPE h",
    "TYPE z",
    "ECHO hello",
    "PING",
    "PING hi",
    "DEL k l h",
    "DBSIZE",
    "MGET n missing f",
    "MSET a 1 b 2",
    "SETNX a 3",
    "GETRANGE nokey 0 -1",
    "STRLEN n",
    "APPEND ap xyz",
    "SELECT 1",
    "GET n",
    "SELECT 0",
    "GET n",
    "SELECT 99",
    "SELECT x",
    "SELECT",
    "SELECT 1 2",
    "SELECT -1",
    "CLIENT FOO",
    "CLIENT",
    "CLIENT SETNAME",
    "CLIENT SETNAME a b",
    "CLIENT GETNAME x",
    "CLIENT ID x",
    "CLIENT GETNAME",
    "CLIENT SETNAME tester",
    "CLIENT GETNAME",
    "HELLO 4",
    "HELLO x",
    "HELLO 3 FOO",
    "HELLO 3 SETNAME",
};

static void run_diff(raw_conn *e, raw_conn *r, int *mismatches)
{
    for (size_t i = 0; i < sizeof diff_cmds / sizeof diff_cmds[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s", diff_cmds[i]);
        const char *argv[16];
        size_t argc = split(line, argv, 16);
        size_t el, rl;
        char *eb = roundtrip(e, argv, argc, &el);
        char *rb = roundtrip(r, argv, argc, &rl);
        assert_non_null(eb);
        assert_non_null(rb);
        if (el != rl || memcmp(eb, rb, el) != 0) {
            (*mismatches)++;
            print_message("MISMATCH [%s]\n  ember: %s\n  redis: %s\n", diff_cmds[i], eb, rb);
        }
        free(eb);
        free(rb);
    }
}

static void run_diff_pipelined(raw_conn *e, raw_conn *r, int *mismatches)
{
    size_t ncmd = sizeof diff_cmds / sizeof diff_cmds[0];
    char *all = NULL;
    size_t alllen = 0;
    for (size_t i = 0; i < ncmd; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s", diff_cmds[i]);
        const char *argv[16];
        size_t argc = split(line, argv, 16);
        char *req;
        size_t n;
        put_cmd(&req, &n, argv, argc);
        all = realloc(all, alllen + n);
        memcpy(all + alllen, req, n);
        alllen += n;
        free(req);
    }
    raw_send(e, all, alllen);
    raw_send(r, all, alllen);
    free(all);
    for (size_t i = 0; i < ncmd; i++) {
        size_t el, rl;
        char *eb = raw_read_reply(e, &el);
        char *rb = raw_read_reply(r, &rl);
        assert_non_null(eb);
        assert_non_null(rb);
        if (el != rl || memcmp(eb, rb, el) != 0) {
            (*mismatches)++;
            print_message("PIPELINED MISMATCH [%s]\n  ember: %s\n  redis: %s\n", diff_cmds[i], eb,
                          rb);
        }
        free(eb);
        free(rb);
    }
}

static void test_reply_bytes_vs_redis(void **state)
{
    fixture *f = *state;
    tc_redis red;
    memset(&red, 0, sizeof red);
    char err[256];
    if (!tc_redis_find_server()) {
        print_message("SKIP: no redis-server installed\n");
        skip();
    }
    assert_int_equal(tc_redis_start(&red, NULL, err, sizeof err), 0);
    raw_conn e, r;
    assert_int_equal(raw_open(&e, f->port), 0);
    assert_int_equal(raw_open(&r, red.port), 0);
    int mismatches = 0;
    run_diff(&e, &r, &mismatches);

    /* RESP3: HELLO's reply names the server, so only its shape is compared. */
    const char *hello[] = {"HELLO", "3"};
    size_t el, rl;
    char *eb = roundtrip(&e, hello, 2, &el);
    char *rb = roundtrip(&r, hello, 2, &rl);
    assert_non_null(eb);
    assert_non_null(rb);
    assert_memory_equal(eb, "%7\r\n$6\r\nserver\r\n", 16);
    assert_memory_equal(rb, "%7\r\n$6\r\nserver\r\n", 16);
    assert_non_null(strstr(eb, "$5\r\nproto\r\n:3\r\n"));
    free(eb);
    free(rb);
    const char *flush[] = {"FLUSHALL"};
    free(roundtrip(&e, flush, 1, NULL));
    free(roundtrip(&r, flush, 1, NULL));
    run_diff(&e, &r, &mismatches);

    /* Back to RESP2 with HELLO 2. */
    const char *hello2[] = {"HELLO", "2"};
    eb = roundtrip(&e, hello2, 2, &el);
    assert_non_null(eb);
    assert_memory_equal(eb, "*14\r\n", 5);
    free(eb);
    const char *zr[] = {"ZRANGE", "z", "0", "-1", "WITHSCORES"};
    eb = roundtrip(&e, zr, 5, &el);
    free(roundtrip(&r, hello2, 2, NULL));
    rb = roundtrip(&r, zr, 5, &rl);
    assert_int_equal(el, rl);
    assert_memory_equal(eb, rb, el);
    free(eb);
    free(rb);

    /* All of them again in one write, in RESP3: replies in order, the
     * server's own (SELECT, CLIENT, HELLO errors) between the executor's. */
    free(roundtrip(&e, flush, 1, NULL));
    free(roundtrip(&r, flush, 1, NULL));
    free(roundtrip(&e, hello, 2, NULL));
    free(roundtrip(&r, hello, 2, NULL));
    run_diff_pipelined(&e, &r, &mismatches);

    raw_close(&e);
    raw_close(&r);
    tc_redis_stop(&red);
    print_message("reply bytes: %zu commands x 2 protocols + 1 pipelined run, %d mismatches\n",
                  sizeof diff_cmds / sizeof diff_cmds[0], mismatches);
    assert_int_equal(mismatches, 0);
}

static void expect(raw_conn *c, const char *want)
{
    size_t n;
    char *got = raw_read_reply(c, &n);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        print_message("want %s got %s\n", want, got);
    assert_string_equal(got, want);
    free(got);
}

static void test_inline_and_connection_commands(void **state)
{
    fixture *f = *state;
    raw_conn c, d;
    assert_int_equal(raw_open(&c, f->port), 0);
    assert_int_equal(raw_open(&d, f->port), 0);
    const char *req = "PING\r\nset x \"a b\\x41\"\r\nget x\nset q 'it\\'s'\r\nget q\r\n\r\n"
                      "SELECT 2\r\nget x\r\nset x two\r\nCLIENT SETNAME me\r\nCLIENT GETNAME\r\n";
    raw_send(&c, req, strlen(req));
    expect(&c, "+PONG\r\n");
    expect(&c, "+OK\r\n");
    expect(&c, "$4\r\na bA\r\n");
    expect(&c, "+OK\r\n");
    expect(&c, "$4\r\nit's\r\n");
    expect(&c, "+OK\r\n");
    expect(&c, "$-1\r\n");
    expect(&c, "+OK\r\n");
    expect(&c, "+OK\r\n");
    expect(&c, "$2\r\nme\r\n");
    /* The other connection is still in database 0. */
    raw_sends(&d, "GET x\r\nCLIENT GETNAME\r\nCLIENT ID\r\n");
    expect(&d, "$4\r\na bA\r\n");
    expect(&d, "$-1\r\n");
    size_t n;
    char *id = raw_read_reply(&d, &n);
    assert_non_null(id);
    assert_int_equal(id[0], ':');
    free(id);
    /* INFO is a verbatim "txt" string in RESP3 (as redis-server 7.0 sends
     * it), a bulk string in RESP2; inside EXEC too. */
    raw_sends(&d, "HELLO 3\r\n");
    free(raw_read_reply(&d, &n));
    raw_sends(&d, "INFO keyspace\r\nMULTI\r\nINFO keyspace\r\nEXEC\r\nHELLO 2\r\n");
    char *v = raw_read_reply(&d, &n);
    assert_non_null(v);
    assert_memory_equal(v, "=", 1);
    assert_non_null(strstr(v, "\r\ntxt:# Keyspace\r\n"));
    free(v);
    expect(&d, "+OK\r\n");
    expect(&d, "+QUEUED\r\n");
    v = raw_read_reply(&d, &n);
    assert_non_null(v);
    assert_memory_equal(v, "*1\r\n=", 5);
    free(v);
    free(raw_read_reply(&d, &n));
    raw_sends(&d, "INFO keyspace\r\n");
    v = raw_read_reply(&d, &n);
    assert_non_null(v);
    assert_memory_equal(v, "$", 1);
    free(v);
    raw_sends(&c, "MULTI\r\nset x \"unbalanced\r\n");
    expect(&c, "+OK\r\n"); /* MULTI */
    expect(&c, "-ERR Protocol error: unbalanced quotes in request\r\n");
    assert_true(raw_closed(&c));
    raw_sends(&d, "QUIT\r\n");
    expect(&d, "+OK\r\n");
    assert_true(raw_closed(&d));
    raw_close(&c);
    raw_close(&d);
}

static void test_pipeline_10k(void **state)
{
    fixture *f = *state;
    raw_conn c;
    assert_int_equal(raw_open(&c, f->port), 0);
    enum { N = 10000 };
    size_t cap = (size_t)N * 48, len = 0;
    char *req = malloc(cap);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(req + len, cap - len, "*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n");
    raw_send(&c, req, len);
    for (int i = 1; i <= N; i++) {
        char want[32];
        snprintf(want, sizeof want, ":%d\r\n", i);
        size_t n;
        char *got = raw_read_reply(&c, &n);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
    }
    free(req);
    raw_close(&c);
}

static int have_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

static void test_redis_cli_and_benchmark(void **state)
{
    fixture *f = *state;
    char cmd[256];
    if (!have_tool("redis-cli")) {
        print_message("SKIP: redis-cli not installed\n");
    } else {
        snprintf(cmd, sizeof cmd, "redis-cli -p %d ping", f->port);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char out[64] = {0};
        assert_non_null(fgets(out, sizeof out, p));
        assert_int_equal(pclose(p), 0);
        assert_string_equal(out, "PONG\n");
    }
    if (!have_tool("redis-benchmark")) {
        print_message("SKIP: redis-benchmark not installed\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "redis-benchmark -p %d -t set,get -n 2000 -q 2>/dev/null", f->port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512];
    int sets = 0, gets = 0;
    while (fgets(line, sizeof line, p)) {
        /* -q prints progress lines ending in '\r' and a final line per test. */
        char *last = strrchr(line, '\r');
        const char *tail = last ? last + 1 : line;
        if (strncmp(tail, "SET: ", 5) == 0 && strstr(tail, "requests per second"))
            sets = 1;
        if (strncmp(tail, "GET: ", 5) == 0 && strstr(tail, "requests per second"))
            gets = 1;
    }
    assert_int_equal(pclose(p), 0);
    assert_true(sets && gets);
}

static void test_malformed_input(void **state)
{
    fixture *f = *state;
    raw_conn ok;
    assert_int_equal(raw_open(&ok, f->port), 0);
    static const struct {
        const char *in;
        const char *err;
    } cases[] = {
        {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
        {"*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
        {"*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"*2\r\n$3\r\nGET\r\n+x\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
        {"SET a \"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        raw_conn c;
        assert_int_equal(raw_open(&c, f->port), 0);
        raw_send(&c, cases[i].in, strlen(cases[i].in));
        expect(&c, cases[i].err);
        assert_true(raw_closed(&c));
        raw_close(&c);
        raw_sends(&ok, "PING\r\n");
        expect(&ok, "+PONG\r\n");
    }
    /* Too long without a line end: inline and multibulk headers. */
    char *junk = malloc(70000);
    memset(junk, 'x', 70000);
    raw_conn c;
    assert_int_equal(raw_open(&c, f->port), 0);
    raw_send(&c, junk, 70000);
    expect(&c, "-ERR Protocol error: too big inline request\r\n");
    assert_true(raw_closed(&c));
    raw_close(&c);
    junk[0] = '*';
    assert_int_equal(raw_open(&c, f->port), 0);
    raw_send(&c, junk, 70000);
    expect(&c, "-ERR Protocol error: too big mbulk count string\r\n");
    assert_true(raw_closed(&c));
    raw_close(&c);
    free(junk);
    /* Binary garbage: whatever the reply, the server survives it. */
    assert_int_equal(raw_open(&c, f->port), 0);
    unsigned seed = 12345;
    char g[4096];
    for (size_t i = 0; i < sizeof g; i++) {
        seed = seed * 1103515245u + 12345u;
        g[i] = (char)(seed >> 16);
    }
    raw_send(&c, g, sizeof g);
    raw_closed(&c);
    raw_close(&c);
    raw_sends(&ok, "PING\r\n");
    expect(&ok, "+PONG\r\n");
    raw_close(&ok);
}

static void test_blpop_across_connections(void **state)
{
    fixture *f = *state;
    raw_conn a, b;
    assert_int_equal(raw_open(&a, f->port), 0);
    assert_int_equal(raw_open(&b, f->port), 0);
    /* A pipelined PING behind the BLPOP waits for it, as in Redis. */
    raw_sends(&a, "BLPOP jobs 5\r\nPING\r\n");
    usleep(50 * 1000);
    raw_sends(&b, "LPUSH jobs j1\r\n");
    expect(&b, ":1\r\n");
    expect(&a, "*2\r\n$4\r\njobs\r\n$2\r\nj1\r\n");
    expect(&a, "+PONG\r\n");
    raw_sends(&b, "LLEN jobs\r\n");
    expect(&b, ":0\r\n");
    /* The waiter is served right after the command that woke it, before the
     * next command of the same pipeline (redis-server 7.0 does the same:
     * the LPOP finds the list empty). */
    raw_sends(&a, "BLPOP jobs 5\r\n");
    usleep(50 * 1000);
    raw_sends(&b, "LPUSH jobs a\r\nLPOP jobs\r\nLPUSH jobs b c\r\nLLEN jobs\r\nDEL jobs\r\n");
    expect(&b, ":1\r\n");
    expect(&b, "$-1\r\n");
    expect(&b, ":2\r\n");
    expect(&b, ":2\r\n");
    expect(&b, ":1\r\n");
    expect(&a, "*2\r\n$4\r\njobs\r\n$1\r\na\r\n");
    /* A blocked client that hangs up no longer waits: the next push stays. */
    raw_sends(&a, "BLPOP jobs 0\r\n");
    usleep(50 * 1000);
    raw_close(&a);
    usleep(50 * 1000);
    raw_sends(&b, "LPUSH jobs j2\r\n");
    expect(&b, ":1\r\n");
    raw_sends(&b, "LLEN jobs\r\n");
    expect(&b, ":1\r\n");
    raw_sends(&b, "INFO clients\r\n");
    size_t n;
    char *info = raw_read_reply(&b, &n);
    assert_non_null(info);
    assert_non_null(strstr(info, "blocked_clients:0"));
    free(info);
    raw_close(&b);
}

static void test_stop_with_blocked_client(void **state)
{
    (void)state;
    ember_db *db;
    ember_server *srv;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_server_start(db, "127.0.0.1", 0, 0, &srv), EMBER_OK);
    raw_conn a;
    assert_int_equal(raw_open(&a, ember_server_port(srv)), 0);
    raw_sends(&a, "BLPOP never 0\r\n");
    usleep(50 * 1000);
    ember_server_stop(srv); /* the BLPOP is still parked in the executor */
    ember_db_close(db);     /* releases it: its memory goes then */
    raw_close(&a);
    assert_int_equal(ember_server_start(NULL, NULL, 0, 0, &srv), EMBER_EINVAL);
    ember_server_stop(NULL);
    assert_int_equal(ember_server_port(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reply_bytes_vs_redis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline_and_connection_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_10k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_cli_and_benchmark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blpop_across_connections, setup, teardown),
        cmocka_unit_test(test_stop_with_blocked_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
