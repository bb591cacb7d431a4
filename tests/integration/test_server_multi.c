/*
 * test_server_multi.c — MULTI / EXEC / DISCARD / WATCH / UNWATCH through
 * ember-server, byte for byte against a real redis-server.
 *
 * Each script runs on both servers over two connections each (A and B:
 * WATCH on A, a write on B, EXEC on A...), in RESP2 and again after HELLO 3;
 * every reply is compared as raw bytes. Steps are sent to ember and to redis
 * alternately, so sleeps (expiry cases) apply to both at once. A step
 * "A x ; y ; z" is pipelined: the three commands go out in one write;
 * "B> x" sends without reading (a blocking command), "B<" reads and
 * compares its reply later.
 *
 * The scripts cover queueing and its errors (EXECABORT), reply shapes
 * inside EXEC, SELECT inside MULTI, the WATCH rules (who writes, UNWATCH,
 * EXEC / DISCARD unwatching, other databases), 101 single writes checked
 * for whether they count as a change of the watched key, FLUSHDB /
 * FLUSHALL / SWAPDB, and expiry (PEXPIRE plus sleeps).
 * Also: a 1000-command transaction (pipelined), HELLO 3 inside MULTI (its
 * reply names the server, so checked on ember only), a connection that
 * closes with keys watched and a transaction open, and the append log: a
 * transaction is logged as MULTI ... EXEC.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ember.h"
#include "redis_proc.h"
#include "resp_client.h"

typedef struct fixture {
    ember_db *db;
    ember_server *srv;
    tc_redis red;
    int mismatches;
    int compared; /* replies compared byte for byte */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!tc_redis_find_server()) {
        print_message("no redis-server installed: it is the oracle of this test\n");
        return -1;
    }
    if (tc_redis_start(&f->red, NULL, err, sizeof err) != 0) {
        print_message("redis-server: %s\n", err);
        return -1;
    }
    assert_int_equal(ember_db_open(NULL, &f->db), EMBER_OK);
    assert_int_equal(ember_server_start(f->db, NULL, 0, 0, &f->srv), EMBER_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->compared)
        print_message("%d replies compared with redis-server, %d mismatches\n", f->compared,
                      f->mismatches);
    ember_server_stop(f->srv);
    ember_db_close(f->db);
    tc_redis_stop(&f->red);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ scripts */

/* Two connections to each server: [0] ember, [1] redis. */
typedef struct peers {
    tc_conn *a[2], *b[2];
} peers;

static void peers_open(fixture *f, peers *p, int proto)
{
    int ports[2] = {ember_server_port(f->srv), f->red.port};
    for (int s = 0; s < 2; s++) {
        p->a[s] = tc_conn_open(ports[s]);
        p->b[s] = tc_conn_open(ports[s]);
        assert_non_null(p->a[s]);
        assert_non_null(p->b[s]);
        if (proto == 3) {
            assert_int_equal(tc_conn_hello3(p->a[s]), 0);
            assert_int_equal(tc_conn_hello3(p->b[s]), 0);
        }
    }
}

static void peers_close(peers *p)
{
    for (int s = 0; s < 2; s++) {
        tc_conn_close(p->a[s]);
        tc_conn_close(p->b[s]);
    }
}

/* Splits s (modified) at spaces into argv; returns argc. */
static size_t split_args(char *s, const char **argv, size_t max)
{
    size_t n = 0;
    for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
        argv[n++] = t;
    return n;
}

static void append_cmd(tc_conn *c, const char *cmd)
{
    char buf[512];
    const char *argv[32];
    snprintf(buf, sizeof buf, "%s", cmd);
    size_t argc = split_args(buf, argv, 32);
    assert_true(argc > 0);
    tc_conn_append(c, argc, argv, NULL);
}

static void print_quoted(const char *who, const char *p, size_t n)
{
    tc_buf b = {0};
    tc_buf_quote(&b, p, n > 400 ? 400 : n);
    print_message("    %s: %s\n", who, tc_buf_cstr(&b));
    tc_buf_free(&b);
}

/* Reads one reply from each server and compares the bytes. */
static void compare_one(fixture *f, tc_conn *e, tc_conn *r, const char *what, const char *step)
{
    size_t el = 0, rl = 0;
    char *eb = tc_conn_read_raw(e, &el);
    char *rb = tc_conn_read_raw(r, &rl);
    assert_non_null(rb);
    f->compared++;
    if (!eb || el != rl || memcmp(eb, rb, el) != 0) {
        f->mismatches++;
        print_message("MISMATCH in %s at \"%s\"\n", what, step);
        print_quoted("ember", eb ? eb : "(no reply)", eb ? el : 10);
        print_quoted("redis", rb, rl);
    }
    free(eb);
    free(rb);
}

/* Runs one script (NULL-terminated steps) on fresh connections. */
static void run_script(fixture *f, const char *name, const char *const *steps, int proto)
{
    peers p;
    peers_open(f, &p, proto);
    char what[96];
    snprintf(what, sizeof what, "%s (RESP%d)", name, proto);
    for (int s = 0; s < 2; s++)
        append_cmd(p.a[s], "FLUSHALL");
    compare_one(f, p.a[0], p.a[1], what, "FLUSHALL");
    for (size_t i = 0; steps[i]; i++) {
        const char *st = steps[i];
        if (!strncmp(st, "sleep ", 6)) {
            usleep((useconds_t)atoi(st + 6) * 1000);
            continue;
        }
        assert_true((st[0] == 'A' || st[0] == 'B') &&
                    (st[1] == ' ' || st[1] == '>' || st[1] == '<'));
        tc_conn **side = st[0] == 'A' ? p.a : p.b;
        if (st[1] == '<') { /* the reply of an earlier "X>" step */
            compare_one(f, side[0], side[1], what, st);
            continue;
        }
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", st + 2);
        const char *cmds[64];
        size_t n = 0;
        for (char *q = buf, *sep; q && n < 64; q = sep ? sep + 3 : NULL) {
            sep = strstr(q, " ; ");
            if (sep)
                *sep = '\0';
            cmds[n++] = q;
        }
        for (int s = 0; s < 2; s++) {
            for (size_t k = 0; k < n; k++)
                append_cmd(side[s], cmds[k]);
            assert_int_equal(tc_conn_flush(side[s]), 0);
        }
        for (size_t k = 0; st[1] == ' ' && k < n; k++)
            compare_one(f, side[0], side[1], what, cmds[k]);
    }
    peers_close(&p);
}

static void run_both(fixture *f, const char *name, const char *const *steps)
{
    run_script(f, name, steps, 2);
    run_script(f, name, steps, 3);
}

/* Reads n replies from c (ember only) and checks each. */
static void expect_replies(tc_conn *c, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *got = tc_conn_read_raw(c, &len);
        assert_non_null(got);
        assert_string_equal(got, want[i]);
        free(got);
    }
}

/* ------------------------------------------------------------ tests */

static void test_queue_and_errors(void **state)
{
    fixture *f = *state;
    static const char *const basics[] = {"A MULTI",
                                         "A MULTI",
                                         "A SET a 1",
                                         "A EXEC", /* nested MULTI: not flagged */
                                         "A MULTI",
                                         "A EXEC", /* empty */
                                         "A EXEC",
                                         "A DISCARD", /* without MULTI */
                                         "A MULTI",
                                         "A WATCH x",
                                         "A SET a 3",
                                         "A EXEC", /* WATCH inside: not flagged */
                                         "A MULTI",
                                         "A SET d 1",
                                         "A DISCARD",
                                         "A GET d", /* DISCARD */
                                         "A SET s x",
                                         "A MULTI",
                                         "A INCR s",
                                         "A SET a 2",
                                         "A GET a",
                                         "A EXEC", /* run-time error */
                                         "A MULTI",
                                         "A UNWATCH",
                                         "A PING",
                                         "A PING x",
                                         "A ECHO y",
                                         "A EXEC",
                                         "A MULTI",
                                         "A DBSIZE",
                                         "A FLUSHDB",
                                         "A DBSIZE",
                                         "A EXEC",
                                         "A MULTI",
                                         "A CLIENT SETNAME foo",
                                         "A CLIENT GETNAME",
                                         "A EXEC",
                                         "A CLIENT GETNAME",
                                         NULL};
    run_both(f, "basics", basics);
    static const char *const aborts[] = {
        "A MULTI",   "A FOO x",      "A SET a 1",   "A EXEC",      "A GET a", /* unknown command */
        "A MULTI",   "A GET",        "A SET a 1",   "A EXEC",                 /* arity */
        "A MULTI",   "A CONFIG FOO", "A EXEC", /* unknown subcommand */
        "A MULTI",   "A CONFIG GET", "A EXEC", /* subcommand arity */
        "A MULTI",   "A SAVE",       "A EXEC", /* not allowed in MULTI */
        "A MULTI",   "A SHUTDOWN",   "A EXEC",      "A MULTI",     "A CLIENT",  "A EXEC",
        "A MULTI",   "A UNWATCH x",  "A EXEC",      "A MULTI",     "A SELECT",  "A EXEC",
        "A EXEC x",  "A DISCARD x",  "A MULTI x",   "A UNWATCH x", "A WATCH", /* arity outside */
        "A MULTI",   "A SET a 1",    "A EXEC x",    "A EXEC", /* EXEC x drops the MULTI */
        "A MULTI",   "A SET a 1",    "A DISCARD x", "A EXEC", /* these flag it */
        "A MULTI",   "A SET a 1",    "A MULTI x",   "A EXEC",      "A MULTI",   "A SET a 1",
        "A WATCH",   "A EXEC",       "A MULTI",     "A FOO",       "A DISCARD", "A MULTI",
        "A SET a 1", "A EXEC",       NULL};
    run_both(f, "aborts", aborts);
    static const char *const shapes[] = {"A SET str x",
                                         "A MULTI",
                                         "A BLPOP nol 0",
                                         "A BZPOPMIN noz 0",
                                         "A BLMPOP 0 1 nol LEFT",
                                         "A BLMOVE str b LEFT LEFT 0",
                                         "A LMPOP 1 nol LEFT",
                                         "A EXEC",
                                         "A ZADD z 1 a 2 b",
                                         "A HSET h f v",
                                         "A MULTI",
                                         "A ZRANGE z 0 -1 WITHSCORES",
                                         "A ZPOPMIN z",
                                         "A HGETALL h",
                                         "A SMEMBERS nos",
                                         "A ZSCORE z b",
                                         "A HRANDFIELD h 1 WITHVALUES",
                                         "A EXEC",
                                         NULL};
    run_both(f, "reply shapes", shapes);
    static const char *const quit[] = {"A MULTI", "A SET q 1", "A QUIT", "B GET q", NULL};
    run_both(f, "quit", quit);
    assert_int_equal(f->mismatches, 0);
}

static void test_select_inside(void **state)
{
    fixture *f = *state;
    static const char *const sel[] = {
        "A MULTI", "A SELECT 3", "A SET insel 1", "A EXEC", "A GET insel", "A SELECT 0",
        "A GET insel", "A MULTI", "A SELECT 99", "A SET a 1", "A EXEC", "A GET a", "A MULTI",
        "A SELECT x", "A EXEC",
        /* Pipelined: the commands after EXEC already use database 2. */
        "A MULTI ; SELECT 2 ; SET p 1 ; EXEC ; GET p ; SELECT 0 ; GET p",
        "A MULTI ; SELECT 5 ; SELECT 6 ; SET q 1 ; SELECT 99 ; EXEC ; GET q ; SELECT 6 ; GET q",
        NULL};
    run_both(f, "select", sel);
    assert_int_equal(f->mismatches, 0);
}

static void test_watch_writes(void **state)
{
    fixture *f = *state;
    static const char *const w[] = {"A WATCH k",
                                    "B SET k 1",
                                    "A MULTI",
                                    "A GET k",
                                    "A EXEC", /* modified */
                                    "A WATCH k",
                                    "A MULTI",
                                    "A GET k",
                                    "A EXEC", /* untouched */
                                    "A WATCH k",
                                    "B SETNX k 2",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC", /* no change */
                                    "B SADD s a",
                                    "A WATCH s",
                                    "B SADD s a",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH s",
                                    "B SADD s b",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH m",
                                    "B DEL m",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B SET j 1",
                                    "A WATCH m",
                                    "B DEL j m",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH k",
                                    "B EXPIRE k 100",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH k",
                                    "B EXPIRE k 50 GT",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B PERSIST k",
                                    "A WATCH k",
                                    "B PERSIST k",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B HSET h f v",
                                    "A WATCH h",
                                    "B HDEL h zz",
                                    "B HSETNX h f x",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH h",
                                    "B HSET h f v",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B LPUSH l a",
                                    "A WATCH l",
                                    "B LPOP nol",
                                    "B LREM l 0 zz",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH l",
                                    "B LTRIM l 0 -1",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B SET n 5",
                                    "A WATCH n",
                                    "B INCRBY n 0",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH n",
                                    "B GET n",
                                    "B TYPE n",
                                    "B EXISTS n",
                                    "B TTL n",
                                    "B STRLEN n",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH n",
                                    "B RENAME n n2",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH n",
                                    "B COPY n2 n",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH x",
                                    "B SINTERSTORE x nothing",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B SADD s1 a",
                                    "A WATCH x",
                                    "B SINTERSTORE x s1",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH s1",
                                    "B SINTERSTORE y s1",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH y",
                                    "B MOVE y 1",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "B ZADD z 1 a",
                                    "A WATCH z",
                                    "B ZADD z 1 a",
                                    "B ZREM z nope",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    "A WATCH z",
                                    "B ZINCRBY z 1 a",
                                    "A MULTI",
                                    "A PING",
                                    "A EXEC",
                                    NULL};
    run_both(f, "watch writes", w);
    static const char *const who[] = {"A WATCH k",
                                      "A SET k 1",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC", /* own write */
                                      "A WATCH k",
                                      "A MULTI",
                                      "A SET k 1",
                                      "A EXEC",
                                      "B SET k 5",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC", /* EXEC unwatched */
                                      "A WATCH k",
                                      "A UNWATCH",
                                      "B SET k 5",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC",
                                      "A WATCH k",
                                      "A MULTI",
                                      "A DISCARD",
                                      "B SET k 6",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC",
                                      "A WATCH k",
                                      "A MULTI",
                                      "A FOO",
                                      "A EXEC",
                                      "B SET k 7",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC",
                                      "A WATCH k",
                                      "B SET k 8",
                                      "A MULTI",
                                      "A FOO",
                                      "A EXEC", /* dirty and flagged */
                                      "A WATCH k k",
                                      "A WATCH k",
                                      "B SET k 9",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC",
                                      "A WATCH k",
                                      "A MULTI",
                                      "A GET k",
                                      "B SET k 10",
                                      "A EXEC", /* changed while queued */
                                      "A WATCH k",
                                      "B SET k 11",
                                      "A MULTI",
                                      "A EXEC", /* empty, dirty */
                                      "A WATCH k",
                                      "B SELECT 1",
                                      "B SET k 2",
                                      "B SELECT 0",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC",
                                      "A SELECT 1",
                                      "A WATCH k",
                                      "A SELECT 0",
                                      "B SELECT 1",
                                      "B SET k 3",
                                      "B SELECT 0",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC", /* watched in db 1 */
                                      "A WATCH a b c",
                                      "B SET c 1",
                                      "A MULTI",
                                      "A PING",
                                      "A EXEC",
                                      "A WATCH k ; MULTI ; INCR k ; EXEC", /* all pipelined */
                                      NULL};
    run_both(f, "watch rules", who);
    static const char *const order[] = {
        "A SET k 1 ; WATCH k ; MULTI ; GET k ; EXEC", /* write, then WATCH */
        "A WATCH k ; SET k 2 ; MULTI ; GET k ; EXEC", /* WATCH, then write */
        "A WATCH k ; UNWATCH ; SET k 3 ; MULTI ; GET k ; EXEC",
        "A WATCH k ; MULTI ; GET k ; DISCARD ; SET k 4 ; MULTI ; GET k ; EXEC",
        "A WATCH k ; MULTI ; FOO ; EXEC ; SET k 5 ; MULTI ; GET k ; EXEC",
        "A WATCH k ; MULTI ; UNWATCH ; GET k ; EXEC ; SET k 6 ; MULTI ; GET k ; EXEC", "A WATCH k",
        "A MULTI ; UNWATCH ; GET k", "B SET k 7", "A EXEC", "A WATCH k",
        "A MULTI ; UNWATCH ; CLIENT GETNAME ; GET k", "B SET k 8", "A EXEC", "A WATCH k",
        "A MULTI ; UNWATCH ; CLIENT GETNAME ; GET k ; EXEC ; SET k 9 ; WATCH k", "B SET k 10",
        "A MULTI ; GET k ; EXEC",
        /* A waiter woken inside the transaction is served after all of it. */
        "B> BLPOP wl 5", "sleep 50", "A MULTI ; LPUSH wl a ; LPUSH wl b ; LLEN wl ; EXEC", "B<",
        "A LRANGE wl 0 -1",
        /* The same with SELECT inside (the transaction then goes alone). */
        "B> BLPOP wl 5", "sleep 50",
        "A MULTI ; SELECT 0 ; LPUSH wl c ; LPUSH wl d ; LLEN wl ; EXEC ; GET k", "B<", NULL};
    run_both(f, "pipelined order", order);
    assert_int_equal(f->mismatches, 0);
}

/* Which writes count as a change of the watched key k (Redis's
 * signalModifiedKey): each write on B between WATCH and EXEC on A, from a
 * set-up state; the ones that change nothing must leave EXEC running. */
static const struct {
    const char *setup; /* "a ; b": pipelined commands, "" none */
    const char *write;
} each_write[] = {
    {"SET k 1", "SET k 1 NX"},
    {"SET k 1", "SET k 2 XX"},
    {"", "SET k 2 XX"},
    {"SET k 1", "GETSET k 1"},
    {"SET k 1", "GETDEL k"},
    {"", "GETDEL k"},
    {"SET k 1", "GETEX k PERSIST"},
    {"SET k 1", "GETEX k EX 100"},
    {"SET k 1", "SETRANGE k 0 1"},
    {"SET k abc", "APPEND k x"},
    {"SET k 1", "INCRBYFLOAT k 0"},
    {"SET k 1", "DECR k"},
    {"SET k 1", "MSETNX k 2 j 3"},
    {"", "MSETNX k 2 j 3"},
    {"SET j 1", "MSETNX k 2 j 3"},
    {"SET k 1", "MSET j 1"},
    {"SET k 1", "PSETEX k 1000 v"},
    {"SET k 1", "SETEX k 100 v"},
    {"SET k 1", "EXPIRE k 100 NX"},
    {"SET k 1 ; EXPIRE k 100", "EXPIRE k 100 NX"},
    {"SET k 1", "EXPIRE k 100 XX"},
    {"SET k 1", "EXPIRE k -1"},
    {"SET k 1", "PEXPIREAT k 1"},
    {"SET k 1 ; EXPIRE k 100", "PERSIST k"},
    {"SET k 1", "EXPIREAT k 99999999999 LT"},
    {"SET k 1", "RENAME k k"},
    {"SET j 1", "RENAME j k"},
    {"SET k 1", "RENAMENX k j"},
    {"SET k 1 ; SET j 1", "RENAMENX j k"},
    {"SET k 1", "MOVE k 1"},
    {"SET k 1 ; SELECT 1 ; SET k 2 ; SELECT 0", "MOVE k 1"},
    {"SET k 1", "COPY k j"},
    {"SET k 1 ; SET j 2", "COPY j k"},
    {"SET k 1 ; SET j 2", "COPY j k REPLACE"},
    {"SET k 1", "UNLINK k"},
    {"", "UNLINK k"},
    {"SET k 1", "TOUCH k"},
    {"SET k 1", "OBJECT ENCODING k"},
    {"RPUSH k a b c", "LSET k 0 a"},
    {"RPUSH k a b c", "LINSERT k BEFORE zz x"},
    {"RPUSH k a b c", "LINSERT k BEFORE a x"},
    {"RPUSH k a b c", "LREM k 1 a"},
    {"RPUSH k a b c", "LTRIM k 0 0"},
    {"RPUSH k a b c", "LPUSHX k x"},
    {"", "LPUSHX k x"},
    {"RPUSH k a b c", "RPOPLPUSH k k"},
    {"RPUSH k a", "LMOVE k j LEFT LEFT"},
    {"RPUSH j a", "LMOVE j k LEFT LEFT"},
    {"", "LMOVE j k LEFT LEFT"},
    {"RPUSH k a", "LPOP k 0"},
    {"RPUSH k a", "RPOP k"},
    {"RPUSH k a b", "LMPOP 1 k LEFT"},
    {"RPUSH k a b", "BLPOP k 0"},
    {"RPUSH k a b", "LRANGE k 0 -1"},
    {"RPUSH k a b", "LPOS k a"},
    {"HSET k f v", "HSET k f v"},
    {"HSET k f v", "HSETNX k g v"},
    {"HSET k f 1", "HINCRBY k f 0"},
    {"HSET k f 1", "HINCRBYFLOAT k f 0"},
    {"HSET k f 1", "HDEL k f"},
    {"HSET k f 1", "HMSET k f 1"},
    {"HSET k f 1", "HGETALL k"},
    {"HSET k f 1", "HRANDFIELD k"},
    {"SADD k a b", "SREM k zz"},
    {"SADD k a b", "SREM k a"},
    {"SADD k a b", "SPOP k 0"},
    {"SADD k a b", "SMOVE k j a"},
    {"SADD k a b", "SMOVE k j zz"},
    {"SADD k a ; SADD j a", "SMOVE j k a"},
    {"SADD j a", "SMOVE j k a"},
    {"SADD k a b", "SUNIONSTORE k k"},
    {"SADD k a b", "SDIFFSTORE k nothing"},
    {"", "SDIFFSTORE k nothing"},
    {"SADD k a", "SINTERCARD 1 k"},
    {"ZADD k 1 a", "ZADD k NX 2 a"},
    {"ZADD k 1 a", "ZADD k XX 1 a"},
    {"ZADD k 1 a", "ZADD k XX 2 a"},
    {"ZADD k 1 a", "ZADD k GT 0 a"},
    {"ZADD k 1 a", "ZADD k INCR 0 a"},
    {"ZADD k 1 a", "ZINCRBY k 0 a"},
    {"ZADD k 1 a", "ZREMRANGEBYSCORE k 5 6"},
    {"ZADD k 1 a", "ZREMRANGEBYRANK k 5 6"},
    {"ZADD k 1 a", "ZREMRANGEBYLEX k [x [y"},
    {"ZADD k 1 a", "ZPOPMIN k 0"},
    {"ZADD k 1 a", "ZPOPMAX k"},
    {"ZADD k 1 a", "ZMPOP 1 k MIN"},
    {"ZADD k 1 a", "ZRANGESTORE k k 0 -1"},
    {"ZADD j 1 a", "ZRANGESTORE k j 5 6"},
    {"", "ZRANGESTORE k j 5 6"},
    {"ZADD k 1 a", "ZUNIONSTORE k 1 k"},
    {"ZADD k 1 a", "ZINTERSTORE k 1 nothing"},
    {"ZADD k 1 a", "ZDIFFSTORE j 1 k"},
    {"SET k 1", "FLUSHDB ASYNC"},
    {"SET k 1", "FLUSHALL SYNC"},
    {"SET k 1", "LPUSH k x"},
    {"SET k 1", "SADD k x"},
    {"SET k 1", "INCR k"},
    {"SET k a", "INCR k"},
    {"SET k 1", "EXPIRE k 0"},
    {"SET k 1", "SET k 2 KEEPTTL GET"},
    {"SET k 1", "SET k 1 EX 0"},
};

static void test_watch_each_write(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < sizeof each_write / sizeof each_write[0]; i++) {
        char setup[256], write[256];
        snprintf(setup, sizeof setup, "B %s", each_write[i].setup);
        snprintf(write, sizeof write, "B %s", each_write[i].write);
        const char *steps[] = {setup, "A WATCH k", write, "A MULTI", "A PING", "A EXEC", NULL};
        run_both(f, each_write[i].write, each_write[i].setup[0] ? steps : steps + 1);
    }
    assert_int_equal(f->mismatches, 0);
}

static void test_watch_flush_swap(void **state)
{
    fixture *f = *state;
    static const char *const fs[] = {"B SET k 1",    "A WATCH k",  "B FLUSHALL", "A MULTI",
                                     "A PING",       "A EXEC",     "B SET j 1",  "A WATCH k",
                                     "B FLUSHALL",   "A MULTI",    "A PING",     "A EXEC",
                                     "B SET k 1",    "A WATCH k",  "B SELECT 1", "B FLUSHDB",
                                     "B SELECT 0",   "A MULTI",    "A PING",     "A EXEC",
                                     "B SET k 1",    "A WATCH k",  "B FLUSHDB",  "A MULTI",
                                     "A PING",       "A EXEC",     "B FLUSHALL", "B SELECT 1",
                                     "B SET j 1",    "B SELECT 0", "A WATCH k",  "B SWAPDB 0 1",
                                     "A MULTI",      "A PING",     "A EXEC",     "B FLUSHALL",
                                     "B SELECT 1",   "B SET k 1",  "B SELECT 0", "A WATCH k",
                                     "B SWAPDB 0 1", "A MULTI",    "A PING",     "A EXEC",
                                     "B FLUSHALL",   "B SET k 1",  "A WATCH k",  "B SWAPDB 0 1",
                                     "A MULTI",      "A PING",     "A EXEC",     "B FLUSHALL",
                                     "B SELECT 1",   "B SET k 1",  "B SELECT 0", "A WATCH k",
                                     "B SWAPDB 1 2", "A MULTI",    "A PING",     "A EXEC",
                                     "B FLUSHALL",   "B SET k 1",  "A WATCH k",  "A MULTI",
                                     "A FLUSHALL",   "A EXEC",     "A EXISTS k", NULL};
    run_both(f, "flush and swapdb", fs);
    assert_int_equal(f->mismatches, 0);
}

static void test_watch_expiry(void **state)
{
    fixture *f = *state;
    static const char *const ex[] = {
        /* Live at WATCH, expired at EXEC (deleted or not yet): aborts. */
        "B SET k 1", "B PEXPIRE k 150", "A WATCH k", "sleep 400", "A MULTI", "A PING", "A EXEC",
        "B SET k 1", "B PEXPIRE k 150", "A WATCH k", "sleep 400", "B GET k", "A MULTI", "A PING",
        "A EXEC", "B SET k 1", "B PEXPIRE k 5000", "A WATCH k", "A MULTI", "A PING", "A EXEC",
        /* Already expired at WATCH: its expiry is no change. */
        "B SET e 1", "B PEXPIRE e 20", "sleep 100", "A WATCH e", "A MULTI", "A PING", "A EXEC",
        "B SET e 1", "B PEXPIRE e 20", "sleep 100", "A WATCH e", "B GET e", "A MULTI", "A PING",
        "A EXEC", "B SET e 1", "B PEXPIRE e 20", "sleep 100", "A WATCH e", "B SET e 2", "A MULTI",
        "A PING", "A EXEC", "B SET e 1", "B PEXPIRE e 20", "sleep 100", "A WATCH e", "B FLUSHALL",
        "A MULTI", "A PING", "A EXEC", NULL};
    run_both(f, "expiry", ex);
    assert_int_equal(f->mismatches, 0);
}

/* MULTI, 1000 commands and EXEC in one write; the replies compared. */
static void test_big_transaction(void **state)
{
    fixture *f = *state;
    for (int proto = 2; proto <= 3; proto++) {
        peers p;
        peers_open(f, &p, proto);
        for (int s = 0; s < 2; s++) {
            append_cmd(p.a[s], "FLUSHALL");
            append_cmd(p.a[s], "WATCH counter");
            append_cmd(p.a[s], "MULTI");
            for (int i = 0; i < 1000; i++) {
                char cmd[64];
                snprintf(cmd, sizeof cmd, i % 2 ? "INCR counter" : "RPUSH list item%d", i);
                append_cmd(p.a[s], cmd);
            }
            append_cmd(p.a[s], "EXEC");
            append_cmd(p.a[s], "LLEN list");
            assert_int_equal(tc_conn_flush(p.a[s]), 0);
        }
        for (int i = 0; i < 1005; i++)
            compare_one(f, p.a[0], p.a[1], "1000 commands", "pipelined");
        peers_close(&p);
    }
    assert_int_equal(f->mismatches, 0);
}

/* HELLO inside MULTI switches the protocol of the replies after it. */
static void test_hello_inside(void **state)
{
    fixture *f = *state;
    tc_conn *c = tc_conn_open(ember_server_port(f->srv));
    assert_non_null(c);
    const char *steps[] = {"HSET h f v", "MULTI", "HGETALL h", "HELLO 3",
                           "HGETALL h",  "EXEC",  "HGETALL h"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        append_cmd(c, steps[i]);
    const char *want[] = {":1\r\n", "+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "+QUEUED\r\n"};
    expect_replies(c, want, 5);
    size_t n;
    char *exec = tc_conn_read_raw(c, &n);
    assert_non_null(exec);
    assert_memory_equal(exec, "*3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n%7\r\n", 26);
    assert_non_null(strstr(exec, "$5\r\nproto\r\n:3\r\n"));
    const char *tail = "%1\r\n$1\r\nf\r\n$1\r\nv\r\n";
    assert_string_equal(exec + n - strlen(tail), tail);
    free(exec);
    char *after = tc_conn_read_raw(c, &n);
    assert_non_null(after);
    assert_string_equal(after, tail); /* the connection stays in RESP3 */
    free(after);
    tc_conn_close(c);
}

/* A connection that goes away with keys watched and a transaction open
 * leaves nothing behind (ASan checks the memory), and others still work. */
static void test_close_while_watching(void **state)
{
    fixture *f = *state;
    int port = ember_server_port(f->srv);
    for (int i = 0; i < 20; i++) {
        tc_conn *c = tc_conn_open(port);
        assert_non_null(c);
        append_cmd(c, "WATCH k1 k2 k3");
        append_cmd(c, "MULTI");
        append_cmd(c, "SET k1 x");
        for (int k = 0; k < 3; k++) {
            size_t n;
            char *r = tc_conn_read_raw(c, &n);
            assert_non_null(r);
            free(r);
        }
        tc_conn_close(c);
    }
    tc_conn *b = tc_conn_open(port);
    assert_non_null(b);
    append_cmd(b, "SET k1 y");
    append_cmd(b, "WATCH k1");
    append_cmd(b, "MULTI");
    append_cmd(b, "GET k1");
    append_cmd(b, "EXEC");
    const char *want[] = {"+OK\r\n", "+OK\r\n", "+OK\r\n", "+QUEUED\r\n", "*1\r\n$1\r\ny\r\n"};
    expect_replies(b, want, 5);
    tc_conn_close(b);
}

/* The append log gets a transaction as MULTI ... EXEC. */
static void test_aof_logs_multi_exec(void **state)
{
    (void)state;
    char path[] = "/tmp/ember_multi_aof_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    ember_db *db;
    ember_server *srv;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_aof_attach(db, fd, EMBER_AOF_ALWAYS), EMBER_OK);
    assert_int_equal(ember_server_start(db, NULL, 0, 0, &srv), EMBER_OK);
    tc_conn *c = tc_conn_open(ember_server_port(srv));
    assert_non_null(c);
    const char *steps[] = {"MULTI", "SET a 1", "INCR b", "GET a", "EXEC"};
    for (size_t i = 0; i < 5; i++)
        append_cmd(c, steps[i]);
    for (size_t i = 0; i < 5; i++) {
        size_t n;
        char *r = tc_conn_read_raw(c, &n);
        assert_non_null(r);
        if (i == 4)
            assert_string_equal(r, "*3\r\n+OK\r\n:1\r\n$1\r\n1\r\n");
        free(r);
    }
    tc_conn_close(c);
    ember_server_stop(srv);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    const char *m = strstr(buf, "*1\r\n$5\r\nMULTI\r\n");
    assert_non_null(m);
    const char *set = strstr(m, "$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_non_null(set);
    const char *incr = strstr(set, "$4\r\nINCR\r\n$1\r\nb\r\n");
    assert_non_null(incr);
    assert_non_null(strstr(incr, "*1\r\n$4\r\nEXEC\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_each_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_flush_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_watching, setup, teardown),
        cmocka_unit_test(test_aof_logs_multi_exec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
