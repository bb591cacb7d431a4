/*
 * test_zsets.c — the sorted-set commands and their typed wrappers, through
 * the public header only.
 *
 * The replay table (zset_cases.inc) holds commands and the replies
 * redis-server 7.0.15 gave to a RESP3 client for them, rendered as Python's
 * repr of a small RESP parser's output (':1', ',1.5', b'member', ('*', [...]),
 * '_' for null); it runs once with the default thresholds (listpack
 * encodings) and once with zset-max-listpack-entries 0 (skiplist), where
 * replies whose order depends on hashing were left out. The other tests
 * check wrappers, encodings, COPY/RENAME, CONFIG SET of the thresholds and
 * a BZPOPMIN served from another thread.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

/* ------------------------------------------------------------ helpers */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void sb_put(sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

/* Python's repr of a str or bytes value (printable ASCII only here). */
static void repr(sbuf *b, const char *prefix, const char *s, size_t n)
{
    int has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    const char *q = has_sq && !has_dq ? "\"" : "'";
    sb_put(b, prefix);
    sb_put(b, q);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || (s[i] == *q))
            sb_putn(b, "\\", 1);
        sb_putn(b, s + i, 1);
    }
    sb_put(b, q);
}

static void fmt(sbuf *b, const ember_reply *r)
{
    size_t n;
    const char *s;
    char tmp[64];
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_NIL:
        sb_put(b, "'_'");
        break;
    case EMBER_REPLY_STATUS:
        s = ember_reply_str(r, &n);
        snprintf(tmp, sizeof tmp, "+");
        {
            sbuf t = {0};
            sb_put(&t, "+");
            sb_putn(&t, s, n);
            repr(b, "", t.p, t.n);
            free(t.p);
        }
        break;
    case EMBER_REPLY_ERROR: {
        s = ember_reply_str(r, &n);
        sbuf t = {0};
        sb_put(&t, "-");
        sb_putn(&t, s, n);
        repr(b, "", t.p, t.n);
        free(t.p);
        break;
    }
    case EMBER_REPLY_INTEGER:
        snprintf(tmp, sizeof tmp, "':%lld'", (long long)ember_reply_integer(r));
        sb_put(b, tmp);
        break;
    case EMBER_REPLY_DOUBLE:
        s = ember_reply_str(r, &n);
        sb_put(b, "',");
        sb_putn(b, s, n);
        sb_put(b, "'");
        break;
    case EMBER_REPLY_STRING:
        s = ember_reply_str(r, &n);
        repr(b, "b", s, n);
        break;
    default: {
        int t = ember_reply_type(r);
        sb_put(b, t == EMBER_REPLY_ARRAY ? "('*', ["
                  : t == EMBER_REPLY_MAP ? "('%', ["
                                         : "('~', [");
        for (size_t i = 0; i < ember_reply_len(r); i++) {
            if (i)
                sb_put(b, ", ");
            fmt(b, ember_reply_element(r, i));
        }
        sb_put(b, "])");
    }
    }
}

/* Runs a command given as one string of \001-separated arguments. */
static ember_reply *run_args(ember_db *db, const char *args)
{
    const char *argv[256];
    size_t lens[256], argc = 0;
    const char *p = args;
    for (;;) {
        const char *q = strchr(p, '\001');
        argv[argc] = p;
        lens[argc++] = q ? (size_t)(q - p) : strlen(p);
        if (!q)
            break;
        p = q + 1;
    }
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, lens, &r), EMBER_OK);
    return r;
}

/* Runs a space-separated command. */
static ember_reply *run(ember_db *db, const char *line)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", line);
    for (char *p = buf; *p; p++)
        if (*p == ' ')
            *p = '\001';
    return run_args(db, buf);
}

static char *show(const ember_reply *r)
{
    sbuf b = {0};
    fmt(&b, r);
    return b.p;
}

/* Runs a command and checks its rendered reply. */
#define CHECK(db, line, expected)                                                                  \
    do {                                                                                           \
        ember_reply *r_ = run((db), (line));                                                       \
        char *s_ = show(r_);                                                                       \
        if (strcmp(s_, (expected)))                                                                \
            fail_msg("%s\n  got      %s\n  expected %s", (line), s_, (expected));                  \
        free(s_);                                                                                  \
        ember_reply_free(r_);                                                                      \
    } while (0)

static ember_db *open_db(int mode)
{
    return ta_open(mode, -1, 0, NULL, NULL);
}

static int setup(void **state)
{
    *state = open_db(EMBER_MODE_EXECUTOR);
    return 0;
}
static int teardown(void **state)
{
    ember_db_close(*state);
    return 0;
}

/* ------------------------------------------------------------ replay table */

static const struct zcase {
    const char *args, *expected;
} cases[] = {
#include "zset_cases.inc"
};

static void test_replay_redis(void **state)
{
    ember_db *db = *state;
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        if (!cases[i].args) {
            ember_reply_free(run(db, "FLUSHALL"));
            ember_reply_free(run(db, "CONFIG SET zset-max-listpack-entries 128"));
            continue;
        }
        if (getenv("ZTRACE"))
            fprintf(stderr, "case %zu\n", i);
        ember_reply *r = run_args(db, cases[i].args);
        char *s = show(r);
        if (strcmp(s, cases[i].expected))
            fail_msg("case %zu: %s\n  got      %s\n  expected %s", i, cases[i].args, s,
                     cases[i].expected);
        free(s);
        ember_reply_free(r);
    }
}

/* ------------------------------------------------------------ encodings */

static void test_encodings(void **state)
{
    ember_db *db = *state;
    char line[256];
    for (int i = 0; i < 128; i++) {
        snprintf(line, sizeof line, "ZADD z %d m%d", i, i);
        ember_reply_free(run(db, line));
    }
    CHECK(db, "OBJECT ENCODING z", "b'listpack'");
    CHECK(db, "ZADD z 1000 m129", "':1'");
    CHECK(db, "OBJECT ENCODING z", "b'skiplist'");
    CHECK(db, "ZCARD z", "':129'");
    CHECK(db, "ZRANK z m129", "':128'");
    /* Removing members never converts back. */
    CHECK(db, "ZREMRANGEBYRANK z 0 100", "':101'");
    CHECK(db, "OBJECT ENCODING z", "b'skiplist'");
    /* Stores choose by their final size. */
    CHECK(db, "ZUNIONSTORE u 1 z", "':28'");
    CHECK(db, "OBJECT ENCODING u", "b'listpack'");
    CHECK(db, "ZRANGESTORE r z 0 -1", "':28'");
    CHECK(db, "OBJECT ENCODING r", "b'listpack'");
    /* A long member converts. */
    char big[128];
    memset(big, 'x', 65);
    big[65] = '\0';
    snprintf(line, sizeof line, "ZADD l 1 a 2 %s", big);
    CHECK(db, line, "':2'");
    CHECK(db, "OBJECT ENCODING l", "b'skiplist'");
    big[64] = '\0';
    snprintf(line, sizeof line, "ZADD l2 1 a 2 %s", big);
    CHECK(db, line, "':2'");
    CHECK(db, "OBJECT ENCODING l2", "b'listpack'");
    /* CONFIG SET of the thresholds. */
    CHECK(db, "CONFIG SET zset-max-listpack-entries 2", "'+OK'");
    CHECK(db, "ZADD c 1 a 2 b", "':2'");
    CHECK(db, "OBJECT ENCODING c", "b'listpack'");
    CHECK(db, "ZADD c 3 c", "':1'");
    CHECK(db, "OBJECT ENCODING c", "b'skiplist'");
    CHECK(db, "CONFIG SET zset-max-ziplist-value 3", "'+OK'");
    CHECK(db, "CONFIG SET zset-max-listpack-entries 128", "'+OK'");
    CHECK(db, "ZADD d 1 abcd", "':1'");
    CHECK(db, "OBJECT ENCODING d", "b'skiplist'");
    CHECK(db, "ZADD e 1 abc", "':1'");
    CHECK(db, "OBJECT ENCODING e", "b'listpack'");
    CHECK(db, "CONFIG GET zset-max-listpack-value", "('%', [b'zset-max-listpack-value', b'3'])");
}

static void test_copy_rename_type(void **state)
{
    ember_db *db = *state;
    CHECK(db, "ZADD a 1 x 2 y", "':2'");
    CHECK(db, "COPY a b", "':1'");
    CHECK(db, "ZADD b 3 z", "':1'");
    CHECK(db, "ZCARD a", "':2'");
    CHECK(db, "ZRANGE b 0 -1 WITHSCORES",
          "('*', [('*', [b'x', ',1']), ('*', [b'y', ',2']), ('*', [b'z', ',3'])])");
    CHECK(db, "CONFIG SET zset-max-listpack-entries 0", "'+OK'");
    CHECK(db, "ZADD s 1 x 2 y", "':2'");
    CHECK(db, "COPY s s2", "':1'");
    CHECK(db, "OBJECT ENCODING s2", "b'skiplist'");
    CHECK(db, "ZREM s x", "':1'");
    CHECK(db, "ZRANGE s2 0 -1", "('*', [b'x', b'y'])");
    CHECK(db, "RENAME s2 s3", "'+OK'");
    CHECK(db, "ZSCORE s3 y", "',2'");
    CHECK(db, "TYPE s3", "'+zset'");
    CHECK(db, "EXISTS s2", "':0'");
    CHECK(db, "CONFIG SET zset-max-listpack-entries 128", "'+OK'");
    /* Empty keys disappear. */
    CHECK(db, "ZPOPMIN a 5", "('*', [('*', [b'x', ',1']), ('*', [b'y', ',2'])])");
    CHECK(db, "EXISTS a", "':0'");
    CHECK(db, "ZREMRANGEBYSCORE s3 -inf +inf", "':2'");
    CHECK(db, "EXISTS s3", "':0'");
}

static void test_wrongtype(void **state)
{
    ember_db *db = *state;
    static const char *const cmds[] = {
        "ZADD k 1 a",
        "ZINCRBY k 1 a",
        "ZREM k a",
        "ZCARD k",
        "ZSCORE k a",
        "ZMSCORE k a",
        "ZCOUNT k 0 1",
        "ZLEXCOUNT k - +",
        "ZRANK k a",
        "ZREVRANK k a",
        "ZRANGE k 0 -1",
        "ZRANGESTORE d k 0 -1",
        "ZRANGEBYSCORE k 0 1",
        "ZREVRANGEBYSCORE k 1 0",
        "ZRANGEBYLEX k - +",
        "ZREVRANGEBYLEX k + -",
        "ZREVRANGE k 0 1",
        "ZREMRANGEBYRANK k 0 1",
        "ZREMRANGEBYSCORE k 0 1",
        "ZREMRANGEBYLEX k - +",
        "ZPOPMIN k",
        "ZPOPMAX k 2",
        "ZMPOP 1 k MIN",
        "ZRANDMEMBER k",
        "ZUNION 1 k",
        "ZINTER 1 k",
        "ZDIFF 1 k",
        "ZUNIONSTORE d 1 k",
        "ZINTERCARD 1 k",
        "ZSCAN k 0",
        "BZPOPMIN k 0",
        "BZMPOP 0 1 k MAX",
    };
    CHECK(db, "SET k v", "'+OK'");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        CHECK(db, cmds[i], "'-WRONGTYPE Operation against a key holding the wrong kind of value'");
}

/* ------------------------------------------------------------ wrappers */

static void test_wrappers(void **state)
{
    ember_db *db = *state;
    const void *m[] = {"a", "b", "c", "d"};
    size_t ml[] = {1, 1, 1, 1};
    double sc[] = {1, 2, 3, 4};
    int64_t n = -1;
    assert_int_equal(ember_zadd(db, "z", 1, 4, sc, m, ml, 0, &n), EMBER_OK);
    assert_int_equal(n, 4);
    double s2[] = {10};
    assert_int_equal(ember_zadd(db, "z", 1, 1, s2, m, ml, EMBER_ZADD_NX, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_zadd(db, "z", 1, 1, s2, m, ml, EMBER_ZADD_CH | EMBER_ZADD_GT, &n),
                     EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_zadd(db, "z", 1, 1, s2, m, ml, EMBER_ZADD_NX | EMBER_ZADD_XX, &n),
                     EMBER_EREPLY);
    double nanv[] = {NAN};
    assert_int_equal(ember_zadd(db, "z", 1, 1, nanv, m, ml, 0, &n), EMBER_EINVAL);
    assert_int_equal(ember_zadd(db, "z", 1, 0, sc, m, ml, 0, &n), EMBER_EINVAL);
    double d = 0;
    assert_int_equal(ember_zscore(db, "z", 1, "a", 1, &d), EMBER_OK);
    assert_true(d == 10);
    assert_int_equal(ember_zscore(db, "z", 1, "nope", 4, &d), EMBER_ENOTFOUND);
    assert_int_equal(ember_zscore(db, "nokey", 5, "a", 1, &d), EMBER_ENOTFOUND);
    assert_int_equal(ember_zincrby(db, "z", 1, 0.5, "b", 1, &d), EMBER_OK);
    assert_true(d == 2.5);
    assert_int_equal(ember_zincrby(db, "z", 1, INFINITY, "b", 1, &d), EMBER_OK);
    assert_int_equal(ember_zincrby(db, "z", 1, -INFINITY, "b", 1, &d), EMBER_EREPLY);
    assert_int_equal(ember_zincrby(db, "z", 1, -INFINITY, "nb", 2, &d), EMBER_OK);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(ember_zcard(db, "z", 1, &n), EMBER_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ember_zcard(db, "nokey", 5, &n), EMBER_OK);
    assert_int_equal(n, 0);
    /* z: nb -inf, c 3, d 4, a 10, b inf */
    assert_int_equal(ember_zrank(db, "z", 1, "c", 1, &n), EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_zrevrank(db, "z", 1, "c", 1, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_zrank(db, "z", 1, "x", 1, &n), EMBER_ENOTFOUND);
    assert_int_equal(ember_zcount(db, "z", 1, 3, 10, 0, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_zcount(db, "z", 1, 3, 10, EMBER_ZRANGE_MINEX | EMBER_ZRANGE_MAXEX, &n),
                     EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_zcount(db, "z", 1, -INFINITY, INFINITY, 0, &n), EMBER_OK);
    assert_int_equal(n, 5);
    ember_reply *r;
    assert_int_equal(ember_zrange(db, "z", 1, 0, 1, EMBER_ZRANGE_WITHSCORES, &r), EMBER_OK);
    char *s = show(r);
    assert_string_equal(s, "('*', [('*', [b'nb', ',-inf']), ('*', [b'c', ',3'])])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zrange(db, "z", 1, 0, 1, EMBER_ZRANGE_REV, &r), EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [b'b', b'a'])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zrange_byscore(db, "z", 1, 3, 10, EMBER_ZRANGE_MINEX, 0, -1, &r),
                     EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [b'd', b'a'])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zrange_byscore(db, "z", 1, 3, 10,
                                          EMBER_ZRANGE_REV | EMBER_ZRANGE_WITHSCORES, 1, 1, &r),
                     EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [('*', [b'd', ',4'])])");
    free(s);
    ember_reply_free(r);
    /* Chunked walk of a bigger zset with LIMIT. */
    for (int i = 0; i < 300; i++) {
        char mb[16];
        int ml2 = snprintf(mb, sizeof mb, "m%03d", i);
        const void *mm[] = {mb};
        size_t mml[] = {(size_t)ml2};
        double ss[] = {(double)(i / 3)};
        assert_int_equal(ember_zadd(db, "big", 3, 1, ss, mm, mml, 0, NULL), EMBER_OK);
    }
    int64_t seen = 0, off = 0;
    for (;;) {
        assert_int_equal(ember_zrange_byscore(db, "big", 3, -INFINITY, INFINITY, 0, off, 7, &r),
                         EMBER_OK);
        size_t got = ember_reply_len(r);
        for (size_t i = 0; i < got; i++) {
            char want[16];
            snprintf(want, sizeof want, "m%03d", (int)(seen + (int64_t)i));
            assert_string_equal(ember_reply_str(ember_reply_element(r, i), NULL), want);
        }
        ember_reply_free(r);
        seen += (int64_t)got;
        off += 7;
        if (got < 7)
            break;
    }
    assert_int_equal(seen, 300);
    ember_reply_free(run(db, "ZADD lex 0 a 0 b 0 c 0 d"));
    assert_int_equal(ember_zrange_bylex(db, "lex", 3, "(a", 2, "[c", 2, 0, 0, -1, &r), EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [b'b', b'c'])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zrange_bylex(db, "lex", 3, "-", 1, "+", 1, EMBER_ZRANGE_REV, 1, 2, &r),
                     EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [b'c', b'b'])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zrange_bylex(db, "lex", 3, "a", 1, "+", 1, 0, 0, -1, &r), EMBER_EREPLY);
    assert_int_equal(ember_zpopmin(db, "lex", 3, 2, &r), EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [('*', [b'a', ',0']), ('*', [b'b', ',0'])])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zpopmax(db, "lex", 3, 5, &r), EMBER_OK);
    s = show(r);
    assert_string_equal(s, "('*', [('*', [b'd', ',0']), ('*', [b'c', ',0'])])");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_zpopmax(db, "lex", 3, 5, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    const void *rm[] = {"a", "zz"};
    size_t rml[] = {1, 2};
    assert_int_equal(ember_zrem(db, "z", 1, 2, rm, rml, &n), EMBER_OK);
    assert_int_equal(n, 1);
    /* ZSCAN: a walk over a big zset returns every member. */
    uint64_t cur = 0;
    size_t total = 0;
    do {
        assert_int_equal(ember_zscan(db, "big", 3, cur, NULL, 0, 20, &cur, &r), EMBER_OK);
        total += ember_reply_len(r) / 2;
        ember_reply_free(r);
    } while (cur);
    assert_int_equal(total, 300);
    assert_int_equal(ember_zscan(db, "big", 3, 0, "m00*", 4, 1000, &cur, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 20);
    ember_reply_free(r);
    /* Errors become codes. */
    assert_int_equal(ember_set(db, "str", 3, "v", 1), EMBER_OK);
    assert_int_equal(ember_zcard(db, "str", 3, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_zscore(db, "str", 3, "a", 1, &d), EMBER_EWRONGTYPE);
    assert_int_equal(ember_zrange(db, "str", 3, 0, -1, 0, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_zadd(db, "str", 3, 1, sc, m, ml, 0, NULL), EMBER_EWRONGTYPE);
    assert_int_equal(ember_zscan(db, "str", 3, 0, NULL, 0, 0, &cur, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_zpopmin(db, "z", 1, -1, &r), EMBER_EINVAL);
    const void *bk[] = {"nokey"};
    size_t bkl[] = {5};
    assert_int_equal(ember_bzpopmin(db, 1, bk, bkl, 10, &r), EMBER_ENOTFOUND);
}

/* ------------------------------------------------------------ blocking */

struct pusher {
    ember_db *db;
    int rc;
};

static void *push_later(void *arg)
{
    struct pusher *p = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    const void *m[] = {"late"};
    size_t ml[] = {4};
    double s[] = {7.5};
    p->rc = ember_zadd(p->db, "bq", 2, 1, s, m, ml, 0, NULL);
    return NULL;
}

static void test_bzpopmin_served_by_other_thread(void **state)
{
    ember_db *db = *state;
    struct pusher p = {db, -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, push_later, &p), 0);
    const void *keys[] = {"other", "bq"};
    size_t kl[] = {5, 2};
    ember_reply *r = NULL;
    assert_int_equal(ember_bzpopmin(db, 2, keys, kl, 0, &r), EMBER_OK);
    pthread_join(t, NULL);
    assert_int_equal(p.rc, EMBER_OK);
    char *s = show(r);
    assert_string_equal(s, "('*', [b'bq', b'late', ',7.5'])");
    free(s);
    ember_reply_free(r);
    CHECK(db, "EXISTS bq", "':0'");
    /* A timeout replies nil. */
    CHECK(db, "BZPOPMIN bq 0.05", "'_'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_redis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_rename_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrongtype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrappers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bzpopmin_served_by_other_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
