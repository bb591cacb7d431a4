/*
 * test_diff_notify.c — keyspace notifications compared with redis-server
 * 7.0: the same commands run on both with notify-keyspace-events set, and
 * after each command the notifications each side published (channel and
 * message, in order) must be identical.
 *
 * Redis side: a RESP connection in PSUBSCRIBE __key*__:* mode; after each
 * command a PUBLISH of a marker on the command connection tells where that
 * command's notifications end. Ember side: an in-process subscriber in
 * callback mode (delivery is synchronous, so a command's notifications are
 * all in once ember_command() returns).
 *
 * Two streams: a directed list covering every notifying command and its
 * edge cases (no-op forms that notify nothing, keys emptied, same-key
 * moves), then seeded random commands over a few keys of every type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"
#include "diff_driver.h"
#include "redis_proc.h"
#include "resp_client.h"

static tc_redis redis;
static tc_conn *rcmd, *rsub;
static ember_db *db;
static ember_sub *esub;
static tc_buf got_ember;

static void on_msg(void *ud, const ember_message *m)
{
    (void)ud;
    tc_buf_put(&got_ember, m->channel, m->channellen);
    tc_buf_puts(&got_ember, " ");
    tc_buf_put(&got_ember, m->data, m->datalen);
    tc_buf_puts(&got_ember, "\n");
}

static unsigned long marker;

/* Runs one command on both sides; returns 0 if the notifications matched. */
static int run_both(const char *line)
{
    char store[1024];
    const char *argv[64];
    size_t lens[64];
    size_t argc = ta_split(line, store, argv, 64);
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (!argc)
        return 0;
    tc_resp *r = tc_conn_command(rcmd, argc, argv, lens);
    assert_non_null(r);
    tc_resp_free(r);
    char mk[32];
    snprintf(mk, sizeof mk, "%lu", ++marker);
    const char *pub[] = {"PUBLISH", "__keymark__:x", mk, NULL};
    r = tc_conn_commandv(rcmd, pub);
    assert_non_null(r);
    tc_resp_free(r);
    tc_buf want = {0};
    for (;;) {
        tc_resp *m = tc_conn_read(rsub);
        assert_non_null(m);
        assert_true(m->type == TC_RESP_ARRAY && m->n == 4);
        int end = strcmp(m->elem[2]->str, "__keymark__:x") == 0;
        if (!end) {
            tc_buf_put(&want, m->elem[2]->str, m->elem[2]->len);
            tc_buf_puts(&want, " ");
            tc_buf_put(&want, m->elem[3]->str, m->elem[3]->len);
            tc_buf_puts(&want, "\n");
        }
        tc_resp_free(m);
        if (end)
            break;
    }
    got_ember.len = 0;
    tc_buf_put(&got_ember, "", 0); /* keeps the text NUL-terminated */
    ember_reply *er = NULL;
    assert_int_equal(ember_command(db, argc, argv, lens, &er), EMBER_OK);
    ember_reply_free(er);
    const char *w = tc_buf_cstr(&want), *g = tc_buf_cstr(&got_ember);
    int bad = strcmp(w, g) != 0;
    if (bad)
        fprintf(stderr, "MISMATCH after: %s\n--- redis:\n%s--- ember:\n%s\n", line, w, g);
    tc_buf_free(&want);
    return bad;
}

static void both_setup(const char *flags)
{
    char err[256];
    assert_int_equal(tc_redis_start(&redis, NULL, err, sizeof err), 0);
    rcmd = tc_conn_open(redis.port);
    rsub = tc_conn_open(redis.port);
    assert_non_null(rcmd);
    assert_non_null(rsub);
    const char *ps[] = {"PSUBSCRIBE", "__key*__:*", NULL};
    tc_resp *r = tc_conn_commandv(rsub, ps);
    assert_non_null(r);
    tc_resp_free(r);
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_sub_open(db, on_msg, NULL, 0, &esub), EMBER_OK);
    const char *pat = "__key*__:*";
    size_t pl = strlen(pat);
    assert_int_equal(ember_psubscribe(esub, 1, &pat, &pl), EMBER_OK);
    char line[128];
    snprintf(line, sizeof line, "CONFIG SET notify-keyspace-events %s", flags);
    assert_int_equal(run_both(line), 0);
}

static void both_teardown(void)
{
    ember_sub_close(esub);
    ember_db_close(db);
    tc_conn_close(rcmd);
    tc_conn_close(rsub);
    tc_redis_stop(&redis);
    tc_buf_free(&got_ember);
}

static const char *const directed[] = {
    "SET k v",
    "SET k v EX 100",
    "SET k v KEEPTTL",
    "SET k v NX",
    "SETNX k v",
    "SETNX n1 v",
    "SETEX k 10 v",
    "PSETEX k 1000 v",
    "GETSET k v2",
    "GETDEL k",
    "GETDEL k",
    "MSET a 1 b 2",
    "MSETNX c 1 d 2",
    "MSETNX c 1 e 2",
    "INCR a",
    "INCRBY a 5",
    "DECR a",
    "DECRBY a 2",
    "INCRBYFLOAT a 1.5",
    "APPEND a xx",
    "APPEND newa xx",
    "SETRANGE a 1 zz",
    "SETRANGE emptyr 0 \"\"",
    "SETRANGE newr 2 zz",
    "GETEX a EX 100",
    "GETEX a PERSIST",
    "GETEX a",
    "GETEX a PXAT 1",
    "EXPIRE b 100",
    "EXPIRE b 100 NX",
    "PEXPIRE b 0",
    "EXPIRE nonexist 10",
    "SET b 1",
    "EXPIREAT b 1",
    "SET b 1",
    "PERSIST b",
    "EXPIRE b 100",
    "PERSIST b",
    "DEL b c nonexist",
    "UNLINK d",
    "SET r1 v",
    "RENAME r1 r2",
    "RENAMENX r2 r3",
    "SET r4 x",
    "RENAMENX r3 r4",
    "RENAME r3 r3",
    "COPY r3 r5",
    "COPY r3 r5 REPLACE",
    "MOVE r5 1",
    "SET x 1",
    "SET y 2",
    "RENAME x y",
    "SET x 1",
    "COPY x y",
    "COPY x y DB 1 REPLACE",
    "RPUSH l a b c",
    "LPUSH l z",
    "LPUSHX l q",
    "LPUSHX nol q",
    "RPUSHX l w",
    "LPOP l",
    "RPOP l 2",
    "LPOP nol",
    "LPOP l 0",
    "LSET l 0 Q",
    "LINSERT l BEFORE b X",
    "LINSERT l BEFORE nope X",
    "LREM l 1 X",
    "LREM l 1 nope",
    "LTRIM l 0 0",
    "LTRIM l 5 10",
    "RPUSH l a b c",
    "LMOVE l l2 LEFT RIGHT",
    "LMOVE l l RIGHT LEFT",
    "RPOPLPUSH l l2",
    "LMPOP 2 nol l RIGHT COUNT 10",
    "BLPOP l2 0",
    "BRPOP l2 0",
    "RPUSH l a",
    "BLMOVE l l3 LEFT LEFT 0",
    "BLMPOP 0 1 l3 LEFT",
    "HSET h a 1 b 2",
    "HSET h a 1",
    "HMSET h c 3",
    "HSETNX h a 1",
    "HSETNX h d 1",
    "HDEL h a nope",
    "HDEL h nope",
    "HINCRBY h b 1",
    "HINCRBYFLOAT h b 1.5",
    "HDEL h b c d",
    "SADD s a b c",
    "SADD s a",
    "SREM s a",
    "SREM s nope",
    "SPOP s",
    "SPOP s 5",
    "SADD s a b c",
    "SMOVE s s2 a",
    "SMOVE s s2 nope",
    "SMOVE s s b",
    "SADD t b z",
    "SINTERSTORE st s t",
    "SUNIONSTORE su s t",
    "SDIFFSTORE sd s t",
    "SINTERSTORE su nope t",
    "SINTERSTORE none1 nope t",
    "SPOP s 1",
    "SRANDMEMBER t",
    "SADD m1 x",
    "SMOVE m1 m2 x",
    "ZADD z 1 a 2 b",
    "ZADD z 1 a",
    "ZADD z INCR 5 a",
    "ZINCRBY z 1 a",
    "ZADD z XX 9 q",
    "ZREM z a nope",
    "ZADD z 1 a 2 b 3 c 4 d",
    "ZREMRANGEBYSCORE z 1 1",
    "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYLEX z - +",
    "ZADD z 1 a 2 b 3 c 4 d",
    "ZPOPMIN z",
    "ZPOPMAX z 1",
    "ZMPOP 1 z MIN",
    "BZPOPMIN z 0",
    "ZADD z2 1 a",
    "ZUNIONSTORE zu 2 z z2",
    "ZINTERSTORE zi 2 z z2",
    "ZDIFFSTORE zd 2 z2 z",
    "ZDIFFSTORE zd 2 z2 z2",
    "ZRANGESTORE zr z2 0 -1",
    "ZRANGESTORE zr z2 5 6",
    "BZMPOP 0 1 z2 MAX",
    "ZADD z3 GT CH 1 a",
    "ZADD z3 GT CH 2 a",
    "ZADD z3 LT 3 a",
    "ZREM z3 a",
    "FLUSHALL",
    "SET a 1",
    "SWAPDB 0 1",
    "FLUSHDB",
};

static void run_directed(const char *flags)
{
    both_setup(flags);
    int bad = 0;
    for (size_t i = 0; i < sizeof directed / sizeof directed[0]; i++)
        bad += run_both(directed[i]);
    both_teardown();
    assert_int_equal(bad, 0);
}

static void test_directed_kea(void **state)
{
    (void)state;
    run_directed("KEA");
}

/* n (new) and m (keymiss) are not part of A; keyspace channel only. */
static void test_directed_new_keymiss(void **state)
{
    (void)state;
    run_directed("Kgn$lshzm");
}

/* Random commands: each template names a key pattern; keys come from a
 * small set so that types clash, lists empty and keys get replaced. */
static const char *const templates[] = {
    "SET %k v%d",
    "SET %k %d EX 100",
    "APPEND %k x",
    "INCR %k",
    "DEL %k %k",
    "EXPIRE %k 100",
    "PERSIST %k",
    "RENAME %k %k",
    "COPY %k %k",
    "LPUSH %k a%d b",
    "RPOP %k",
    "LREM %k 0 a%d",
    "LTRIM %k 1 -1",
    "LMOVE %k %k LEFT RIGHT",
    "HSET %k f%d v",
    "HDEL %k f%d",
    "HINCRBY %k f%d 2",
    "SADD %k m%d",
    "SREM %k m%d",
    "SMOVE %k %k m%d",
    "SUNIONSTORE %k %k %k",
    "SINTERSTORE %k %k %k",
    "ZADD %k %d m%d",
    "ZREM %k m%d",
    "ZINCRBY %k 1 m%d",
    "ZPOPMIN %k",
    "ZUNIONSTORE %k 2 %k %k",
    "GETDEL %k",
    "SETRANGE %k 2 ab",
    "LSET %k 0 q",
    "LINSERT %k AFTER a%d x",
    "SPOP %k",
    "ZREMRANGEBYRANK %k 0 0",
    "UNLINK %k",
    "MOVE %k 1",
    "GETEX %k PERSIST",
};

static void run_random(const char *flags)
{
    both_setup(flags);
    static const char *keys[] = {"k1", "k2", "k3", "k4", "k5"};
    uint64_t seed = 42;
    const char *env = getenv("EMBER_NOTIFY_SEED");
    if (env)
        seed = strtoull(env, NULL, 10);
    int bad = 0;
    for (int i = 0; i < 3000 && !bad; i++) {
        const char *t = templates[tc_rn(&seed, sizeof templates / sizeof templates[0])];
        char line[256];
        size_t o = 0;
        for (const char *p = t; *p && o < sizeof line - 16; p++) {
            if (p[0] == '%' && p[1] == 'k') {
                o += (size_t)snprintf(line + o, sizeof line - o, "%s", keys[tc_rn(&seed, 5)]);
                p++;
            } else if (p[0] == '%' && p[1] == 'd') {
                o += (size_t)snprintf(line + o, sizeof line - o, "%d", (int)tc_rn(&seed, 4));
                p++;
            } else {
                line[o++] = *p;
            }
        }
        line[o] = 0;
        bad += run_both(line);
    }
    both_teardown();
    assert_int_equal(bad, 0);
}

static void test_random(void **state)
{
    (void)state;
    run_random("KEA");
}

static void test_random_new_keymiss(void **state)
{
    (void)state;
    run_random("KEAnm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directed_kea),
        cmocka_unit_test(test_directed_new_keymiss),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_new_keymiss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
