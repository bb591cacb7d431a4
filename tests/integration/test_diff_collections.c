/*
 * test_diff_collections.c — differential test of the collection commands
 * (lists, hashes, sets, sorted sets) and of the key commands on collection
 * keys: random command streams run on ember and on a real redis-server (the
 * oracle), every reply compared. The machinery (runner, seed loop, batches,
 * shrinking, directed cases) is tests/common/diff_driver.c, shared with
 * test_diff_strings_keys.
 *
 * Tests: one stream per type (the type's commands plus the key commands,
 * strings and a few keys of other types in the same small key pool, for
 * WRONGTYPE), one mixed stream of everything over one pool, and directed
 * cases (edge cases and exact error texts per command).
 *
 * Environment (as test_diff_strings_keys):
 *   EMBER_DIFF_SEEDS   seeds per stream (default 8; the mixed stream 10)
 *   EMBER_DIFF_OPS     commands per seed (default 2500)
 *   EMBER_DIFF_SEED    run only this seed (replay); EMBER_DIFF_SEED_BASE first seed
 *   EMBER_DIFF_SKIP    comma-separated generator names to leave out (replaces
 *                      the default list below; "" runs everything)
 *   EMBER_DIFF_SHRINK  failing seeds to minimize (default 5)
 *   EMBER_DIFF_TRACE=1 print every command and both replies
 *   EMBER_DIFF_MODE=inline  run ember in inline mode
 *   EMBER_DIFF_ONLY    run only the streams whose title contains this text
 *
 * Even seeds send each command with ember_command() on a view of its
 * database; odd seeds send each chunk as one ember_batch_exec() pipeline.
 * Each seed starts by setting the encoding thresholds (CONFIG SET, on ember
 * through the same command path) to the defaults or to small values, so the
 * listpack/intset -> hashtable/skiplist conversions happen at sizes the
 * stream reaches; bulk generators also grow keys to around 128 and 512
 * entries and values around 64 bytes at the default thresholds. Each seed
 * ends with a dump of both sides compared: KEYS, then per key TYPE, OBJECT
 * ENCODING and the whole content (LRANGE 0 -1, HGETALL, SMEMBERS, ZRANGE 0 -1
 * WITHSCORES, GET).
 *
 * Nondeterminism, and how it is handled without hiding differences:
 *  - Order of unordered replies: SMEMBERS, HGETALL, HKEYS, HVALS compare
 *    exactly when redis reports a compact encoding (listpack: insertion
 *    order; intset: sorted), else as multisets (pairs for HGETALL).
 *    SINTER/SUNION/SDIFF always as multisets (the order follows the algorithm).
 *  - SRANDMEMBER, HRANDFIELD, ZRANDMEMBER (no state change): equal replies
 *    pass; otherwise the replies must have the same shape (type, length, pair
 *    structure), every element (and its value or score) must belong to the key
 *    as redis holds it, and with a positive count the elements are distinct.
 *  - SPOP (a random removal): equal replies pass. Otherwise same shape,
 *    distinct elements, every element ember popped must have been a member
 *    (redis's remaining set plus what redis popped), and ember's remaining set
 *    must be exactly the original minus what ember popped. Then the key is
 *    re-synchronized: ember's set is rebuilt from redis's remaining members
 *    (forced to hashtable if redis's is; an intset rebuilt under a raised
 *    set-max-intset-entries, as it may have grown before the limit was
 *    lowered), so the streams go on equal.
 *  - HSCAN/SSCAN/ZSCAN: a full iteration on each side, the collected
 *    elements (field/value and member/score pairs) compared as sets; errors
 *    compared exactly. A scan from cursor 0 is always compared this way, also
 *    when it came from a bad form that the arity mangling made valid.
 *  - Lexicographic ranges (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX, ZRANGE
 *    BYLEX) are defined only when all members have the same score: they go
 *    to dedicated keys ("lex1", "lex2") that only ever get score-0 members;
 *    on the ordinary keys only their argument errors are exercised.
 *  - Blocking commands (BLPOP, BZPOPMIN, BLMPOP...) use timeouts of 10-20 ms,
 *    never 0: on an empty key redis and a plain ember_command wait that long
 *    and answer nil; inside a batch ember answers nil at once (as redis does
 *    inside MULTI). Most are preceded by a push to one of their keys.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "diff_driver.h"
#include "diff_util.h"
#include "ember.h"
#include "resp_client.h"

#define STREAMDBS 2 /* databases the streams work in (COPY ... DB, MOVE) */

/*
 * Generators left out by default (EMBER_DIFF_SKIP replaces the list): none.
 * Put a generator here only while its commands are missing from ember.
 */
static const char default_skip[] = "";

/* ------------------------------------------------------------------ kinds */

enum {
    CK_PLAIN,
    CK_UNORDERED, /* SINTER, SUNION, SDIFF, KEYS: multisets */
    CK_ENCORDER,  /* SMEMBERS, HGETALL, HKEYS, HVALS: exact if redis's encoding is compact */
    CK_RAND,      /* SRANDMEMBER, HRANDFIELD, ZRANDMEMBER */
    CK_SPOP,
    CK_SCAN1,    /* SSCAN: full iteration, cursor argv[2] */
    CK_SCAN2,    /* HSCAN, ZSCAN: pairs */
    CK_ENCODING, /* OBJECT ENCODING: see set_exact */
};

/*
 * Sets: redis 7.0 has no listpack encoding for sets; ember has 7.2's
 * set-max-listpack-entries (default 128), so a small set of strings is
 * "listpack" on ember and "hashtable" on redis. Seeds with set_exact run
 * ember with set-max-listpack-entries 0 (7.0's behaviour: compared exactly);
 * the others keep ember's default and accept "listpack" for redis's
 * "hashtable" when the key is a set (and only then). Directed cases run exact.
 */
static int set_exact = 1;

/* Stream groups: which generators a stream uses. */
enum { G_LIST = 1, G_HASH = 2, G_SET = 4, G_ZSET = 8, G_KEYS = 16, G_ALL = 31 };

/* ------------------------------------------------------------------ generator */

typedef struct gen {
    uint64_t s;
    int db;
    int home; /* mixed stream: the G_* of the current generator, whose keys it prefers */
    tc_cmdvec *out;
    size_t first; /* index in out of the first command of the current generator */
} gen;

/* A generator: a function of its own (fn), or a worker shared by several
 * commands (wk), called with the entry so it knows d->cmd and d->arg. */
typedef struct gdef {
    const char *name;
    void (*fn)(gen *g);
    void (*wk)(gen *g, const struct gdef *d);
    int weight;
    int group;
    int flags;
    const char *cmd;
    int arg;
} gdef;

static uint64_t rn(gen *g, uint64_t n)
{
    return tc_rn(&g->s, n);
}

static int chance(gen *g, int pct)
{
    return tc_chance(&g->s, pct);
}

#define PICK(g, arr) (arr)[rn((g), sizeof(arr) / sizeof((arr)[0]))]

static tc_cmd *begin_kind(gen *g, int kind, const char *name)
{
    tc_cmd *c = tc_cmd_new(g->db, kind, -1);
    tc_kw(&g->s, c, name);
    tc_vec_push(g->out, c);
    return c;
}

static tc_cmd *begin(gen *g, const char *name)
{
    return begin_kind(g, CK_PLAIN, name);
}

static void kw(gen *g, tc_cmd *c, const char *k)
{
    tc_kw(&g->s, c, k);
}

/* The key pool: eight ordinary keys, two odd ones. A per-type stream uses
 * six; the mixed stream all eight, each type preferring two of its own (so
 * that not every command meets WRONGTYPE). */
static const struct {
    const char *p;
    size_t n;
} keys[] = {
    {"k1", 2}, {"k2", 2}, {"k3", 2}, {"k4", 2},     {"k5", 2},
    {"k6", 2}, {"k7", 2}, {"k8", 2}, {"bin\0k", 5}, {"", 0},
};

static void add_key(gen *g, tc_cmd *c)
{
    size_t k;
    if (chance(g, 5)) {
        k = 8 + rn(g, 2);
    } else if (!g->home) {
        k = rn(g, 6);
    } else if (g->home != G_KEYS && chance(g, 75)) {
        int t = g->home == G_LIST ? 0 : g->home == G_HASH ? 1 : g->home == G_SET ? 2 : 3;
        k = (size_t)(2 * t) + rn(g, 2);
    } else {
        k = rn(g, 8);
    }
    tc_arg(c, keys[k].p, keys[k].n);
}

/* 1..n distinct-or-not keys. */
static void add_keys(gen *g, tc_cmd *c, int n)
{
    for (int i = 0; i < n; i++)
        add_key(g, c);
}

static void add_letters(gen *g, tc_cmd *c, size_t n, int alphabet)
{
    char *b = tc_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (char)('a' + rn(g, (uint64_t)alphabet));
    tc_arg(c, b, n);
    free(b);
}

static const char *const int_elems[] = {"0",
                                        "1",
                                        "2",
                                        "3",
                                        "7",
                                        "10",
                                        "42",
                                        "-1",
                                        "-100",
                                        "1000",
                                        "65535",
                                        "65536",
                                        "4294967296",
                                        "-9223372036854775808",
                                        "9223372036854775807",
                                        "007",
                                        "+1",
                                        " 1",
                                        "1.5",
                                        "-0"};

/* An element (list element, set member, hash field or value, zset member):
 * small pools so they collide, integers (intset), lengths around 64. */
static void add_elem(gen *g, tc_cmd *c)
{
    int r = (int)rn(g, 100);
    char b[32];
    if (r < 30) {
        b[0] = (char)('a' + rn(g, 8));
        tc_arg(c, b, 1);
    } else if (r < 50) {
        tc_str(c, PICK(g, int_elems));
    } else if (r < 62) {
        tc_ll(c, (long long)rn(g, 21));
    } else if (r < 72) {
        add_letters(g, c, 1 + (size_t)rn(g, 3), 4);
    } else if (r < 79) {
        size_t n = 61 + (size_t)rn(g, 6); /* 61..66 around the 64-byte limit */
        char *p = tc_xmalloc(n);
        memset(p, 'x', n);
        p[n - 1] = (char)('a' + rn(g, 3));
        tc_arg(c, p, n);
        free(p);
    } else if (r < 83) {
        tc_str(c, "");
    } else if (r < 87) {
        static const struct {
            const char *p;
            size_t n;
        } odd[] = {{"\0\xff", 2}, {"\0\xff\0", 3}, {"a\r", 2}, {"a\r\nb", 4}};
        size_t k = (size_t)rn(g, 4);
        tc_arg(c, odd[k].p, odd[k].n);
    } else {
        snprintf(b, sizeof b, "m%d", (int)rn(g, 30));
        tc_str(c, b);
    }
}

static void add_elems(gen *g, tc_cmd *c, int n)
{
    for (int i = 0; i < n; i++)
        add_elem(g, c);
}

static int small_n(gen *g)
{
    return chance(g, 60) ? 1 : 1 + (int)rn(g, 5);
}

/* An integer argument (indices, counts, increments), including bad ones. */
static void add_int(gen *g, tc_cmd *c, int lo, int hi)
{
    static const char *const edge[] = {"9223372036854775807",
                                       "-9223372036854775808",
                                       "9223372036854775808",
                                       "abc",
                                       "1.5",
                                       "",
                                       " 1",
                                       "2147483648",
                                       "-2147483649",
                                       "0x10"};
    if (chance(g, 93))
        tc_ll(c, lo + (long long)rn(g, (uint64_t)(hi - lo + 1)));
    else
        tc_str(c, PICK(g, edge));
}

static void add_index(gen *g, tc_cmd *c)
{
    add_int(g, c, -9, 9);
}

static void add_count(gen *g, tc_cmd *c)
{
    add_int(g, c, -3, 8);
}

static const char *const float_pool[] = {"1.5",  "-2.25", "0.5",   "1e3",   "-0",  "0",
                                         "+inf", "-inf",  "inf",   "3.0",   "0.1", "1e-3",
                                         "-3",   "2.5e2", "1e308", "-1e308"};
static const char *const bad_floats[] = {"nan", "abc", "",     "1e400", "0x10",  " 1",
                                         "1 ",  "(1",  "inf5", "-nan",  "1e-400"};

/* A score for ZADD/ZINCRBY and increments for HINCRBYFLOAT. */
static void add_score(gen *g, tc_cmd *c)
{
    int r = (int)rn(g, 100);
    char b[64];
    if (r < 45) {
        tc_ll(c, (long long)rn(g, 11) - 5);
    } else if (r < 65) {
        tc_str(c, PICK(g, float_pool));
    } else if (r < 80) {
        snprintf(b, sizeof b, "%.17g", ((double)(int64_t)rn(g, 2000001) - 1e6) / 1024.0);
        tc_str(c, b);
    } else if (r < 93) {
        tc_str(c, "1");
    } else if (r < 97) {
        tc_str(c, PICK(g, bad_floats));
    } else {
        static const char *const huge[] = {"9007199254740993", "1.7976931348623157e308", "5e-324",
                                           "4.9e-324", "123456789012345678"};
        tc_str(c, PICK(g, huge));
    }
}

/* A score range bound (ZCOUNT, ZRANGEBYSCORE...). */
static void add_srange(gen *g, tc_cmd *c)
{
    static const char *const special[] = {"-inf", "+inf", "(-inf", "(+inf", "inf", "(1",
                                          "(0",   "(-2",  "(2.5",  "1.5",   "(",   "[1",
                                          "nan",  "abc",  "(abc",  "",      "-0",  "(1e3"};
    if (chance(g, 55))
        tc_ll(c, (long long)rn(g, 11) - 5);
    else
        tc_str(c, PICK(g, special));
}

/* A lex range bound. */
static void add_lrange(gen *g, tc_cmd *c)
{
    static const char *const lx[] = {"-",  "+",  "[a", "(a", "[b",  "(c", "[d",    "(h", "[m1",
                                     "[m", "(m", "[",  "(",  "[xx", "a",  "[\xff", ""};
    tc_str(c, PICK(g, lx));
}

/* Blocking timeouts: short ones (never 0: an empty key must not block the
 * test forever, see the header), and bad ones. */
static void add_timeout(gen *g, tc_cmd *c)
{
    static const char *const bad[] = {"-1", "abc", "nan", "-0.5", "", "1x"};
    if (chance(g, 94))
        tc_str(c, chance(g, 50) ? "0.01" : "0.02");
    else
        tc_str(c, PICK(g, bad));
}

/* A value for SET on a pool key: strings so that WRONGTYPE is everywhere. */
static void add_string_value(gen *g, tc_cmd *c)
{
    if (chance(g, 40))
        tc_ll(c, (long long)rn(g, 100));
    else
        add_letters(g, c, 1 + (size_t)rn(g, 5), 6);
}

/* ------------------------------------------------------------------ lists */

static void g_push(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    add_elems(g, c, small_n(g));
}

static void g_pop(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    if (chance(g, 40))
        add_count(g, c);
}

static void g_onekey(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_key(g, c);
}

static void g_lrange(gen *g)
{
    tc_cmd *c = begin(g, "LRANGE");
    add_key(g, c);
    if (chance(g, 30)) {
        tc_str(c, "0");
        tc_str(c, "-1");
    } else {
        add_index(g, c);
        add_index(g, c);
    }
}

static void g_lindex(gen *g)
{
    tc_cmd *c = begin(g, "LINDEX");
    add_key(g, c);
    add_index(g, c);
}

static void g_lset(gen *g)
{
    tc_cmd *c = begin(g, "LSET");
    add_key(g, c);
    add_index(g, c);
    add_elem(g, c);
}

static void g_linsert(gen *g)
{
    tc_cmd *c = begin(g, "LINSERT");
    add_key(g, c);
    static const char *const where[] = {"BEFORE", "AFTER", "AFTER", "BEFORE", "MIDDLE"};
    kw(g, c, PICK(g, where));
    add_elem(g, c);
    add_elem(g, c);
}

static void g_lrem(gen *g)
{
    tc_cmd *c = begin(g, "LREM");
    add_key(g, c);
    add_int(g, c, -3, 3);
    add_elem(g, c);
}

static void g_ltrim(gen *g)
{
    tc_cmd *c = begin(g, "LTRIM");
    add_key(g, c);
    add_index(g, c);
    add_index(g, c);
}

static void g_lpos(gen *g)
{
    tc_cmd *c = begin(g, "LPOS");
    add_key(g, c);
    add_elem(g, c);
    if (chance(g, 40)) {
        kw(g, c, "RANK");
        add_int(g, c, -3, 3);
    }
    if (chance(g, 40)) {
        kw(g, c, "COUNT");
        add_int(g, c, -1, 4);
    }
    if (chance(g, 30)) {
        kw(g, c, "MAXLEN");
        add_int(g, c, -1, 6);
    }
    if (chance(g, 3))
        kw(g, c, chance(g, 50) ? "RANK" : "FOO");
}

static void add_side(gen *g, tc_cmd *c)
{
    static const char *const sides[] = {"LEFT", "RIGHT", "LEFT", "RIGHT", "UP"};
    kw(g, c, PICK(g, sides));
}

static void g_lmove(gen *g)
{
    tc_cmd *c = begin(g, "LMOVE");
    add_keys(g, c, 2);
    add_side(g, c);
    add_side(g, c);
}

static void g_rpoplpush(gen *g)
{
    tc_cmd *c = begin(g, "RPOPLPUSH");
    add_keys(g, c, 2);
}

/* numkeys key... <where> [COUNT n] for LMPOP/BLMPOP/ZMPOP/BZMPOP. */
static void add_mpop_args(gen *g, tc_cmd *c, int zset)
{
    int n = 1 + (int)rn(g, 3);
    int r = (int)rn(g, 100);
    if (r < 4)
        tc_str(c, PICK(g, ((const char *const[]){"0", "-1", "abc", "9"})));
    else if (r < 7)
        tc_ll(c, n + 1); /* more keys announced than given: arity or syntax */
    else
        tc_ll(c, n);
    add_keys(g, c, n);
    static const char *const zw[] = {"MIN", "MAX", "MIN", "MAX", "LEFT"};
    if (zset)
        kw(g, c, PICK(g, zw));
    else
        add_side(g, c);
    if (chance(g, 50)) {
        kw(g, c, "COUNT");
        add_int(g, c, -1, 5);
    }
    if (chance(g, 3))
        kw(g, c, "COUNT");
}

static void g_lmpop(gen *g)
{
    tc_cmd *c = begin(g, "LMPOP");
    add_mpop_args(g, c, 0);
}

/* Often a push to the first key first, so the blocking command has data. */
static void maybe_feed(gen *g, int zset)
{
    if (!chance(g, 60))
        return;
    tc_cmd *c = begin(g, zset ? "ZADD" : "RPUSH");
    add_key(g, c);
    if (zset)
        add_score(g, c);
    add_elem(g, c);
}

static void g_bpop(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    int zset = d->arg;
    maybe_feed(g, zset);
    tc_cmd *c = begin(g, name);
    add_keys(g, c, 1 + (int)rn(g, 3));
    add_timeout(g, c);
}

static void g_blmove(gen *g)
{
    maybe_feed(g, 0);
    tc_cmd *c = begin(g, "BLMOVE");
    add_keys(g, c, 2);
    add_side(g, c);
    add_side(g, c);
    add_timeout(g, c);
}

static void g_brpoplpush(gen *g)
{
    maybe_feed(g, 0);
    tc_cmd *c = begin(g, "BRPOPLPUSH");
    add_keys(g, c, 2);
    add_timeout(g, c);
}

static void g_bmpop(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    int zset = d->arg;
    maybe_feed(g, zset);
    tc_cmd *c = begin(g, name);
    add_timeout(g, c);
    add_mpop_args(g, c, zset);
}

/* A long list in one go (quicklist nodes split at list-max-listpack-size). */
static void g_lbulk(gen *g)
{
    tc_cmd *c = begin(g, chance(g, 50) ? "RPUSH" : "LPUSH");
    add_key(g, c);
    int n = 20 + (int)rn(g, 300);
    for (int i = 0; i < n; i++) {
        if (chance(g, 80))
            tc_ll(c, (long long)rn(g, 50));
        else
            add_elem(g, c);
    }
}

/* ------------------------------------------------------------------ hashes */

static void add_field(gen *g, tc_cmd *c)
{
    if (chance(g, 70)) {
        char b[8];
        snprintf(b, sizeof b, "f%d", (int)rn(g, 10));
        tc_str(c, b);
    } else {
        add_elem(g, c);
    }
}

static void add_pairs(gen *g, tc_cmd *c, int n)
{
    for (int i = 0; i < n; i++) {
        add_field(g, c);
        add_elem(g, c);
    }
}

static void g_hset(gen *g)
{
    tc_cmd *c = begin(g, "HSET");
    add_key(g, c);
    add_pairs(g, c, small_n(g));
}

static void g_hmset(gen *g)
{
    tc_cmd *c = begin(g, "HMSET");
    add_key(g, c);
    add_pairs(g, c, small_n(g));
}

static void g_hsetnx(gen *g)
{
    tc_cmd *c = begin(g, "HSETNX");
    add_key(g, c);
    add_pairs(g, c, 1);
}

static void g_keyfield(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    add_field(g, c);
}

static void g_keyfields(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    int n = small_n(g);
    for (int i = 0; i < n; i++)
        add_field(g, c);
}

static void g_encorder(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin_kind(g, CK_ENCORDER, name);
    add_key(g, c);
}

static void g_hincrby(gen *g)
{
    tc_cmd *c = begin(g, "HINCRBY");
    add_key(g, c);
    add_field(g, c);
    if (chance(g, 85))
        add_int(g, c, -5, 5);
    else
        tc_str(c, PICK(g, int_elems));
}

static void g_hincrbyfloat(gen *g)
{
    tc_cmd *c = begin(g, "HINCRBYFLOAT");
    add_key(g, c);
    add_field(g, c);
    add_score(g, c);
}

/* SRANDMEMBER/HRANDFIELD/ZRANDMEMBER key [count [WITHVALUES|WITHSCORES]] */
static void g_rand(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    const char *with = d->arg == 1 ? "WITHVALUES" : d->arg == 2 ? "WITHSCORES" : NULL;
    tc_cmd *c = begin_kind(g, CK_RAND, name);
    add_key(g, c);
    int r = (int)rn(g, 100);
    if (r < 25)
        return;
    if (r < 90)
        tc_ll(c, (long long)rn(g, 17) - 8);
    else if (r < 95)
        tc_str(c, PICK(g, ((const char *const[]){"abc", "1.5", "-9223372036854775808",
                                                 "9223372036854775807", "2147483648"})));
    else
        tc_str(c, "600");
    if (with && chance(g, 45))
        kw(g, c, chance(g, 95) ? with : "WITHFOO");
}

static const char *const patterns[] = {"*", "f*", "*1*", "[a-c]", "m?", "x*", "?", "\\*"};

/* HSCAN/SSCAN/ZSCAN key 0 [MATCH p] [COUNT n]: a full iteration. */
static void g_scan(gen *g, const char *name, int kind)
{
    tc_cmd *c = begin_kind(g, kind, name);
    add_key(g, c);
    tc_str(c, "0");
    if (chance(g, 40)) {
        kw(g, c, "MATCH");
        tc_str(c, PICK(g, patterns));
    }
    if (chance(g, 40)) {
        kw(g, c, "COUNT");
        tc_ll(c, PICK(g, ((const long long[]){1, 2, 5, 10, 100, 1000})));
    }
}

/* The same commands with bad arguments: errors, compared exactly. */
static void g_scan_bad(gen *g, const char *name)
{
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    /* Invalid cursors only: what a valid nonzero cursor visits in a
     * hashtable depends on the hash function, which is not redis's. */
    static const char *const cursors[] = {"abc", " 1", "18446744073709551616", "1x", "1.5"};
    switch (rn(g, 6)) {
    case 0:
        tc_str(c, PICK(g, cursors));
        break;
    case 1:
        tc_str(c, "0");
        kw(g, c, "COUNT");
        tc_str(c, PICK(g, ((const char *const[]){"0", "-1", "abc"})));
        break;
    case 2:
        tc_str(c, "0");
        kw(g, c, chance(g, 50) ? "MATCH" : "COUNT");
        break;
    case 3:
        tc_str(c, "0");
        kw(g, c, chance(g, 50) ? "FOO" : "TYPE");
        tc_str(c, "x");
        break;
    case 4:
        tc_str(c, "0");
        kw(g, c, "NOVALUES");
        break;
    default:
        break; /* arity */
    }
}

static void g_hscan(gen *g)
{
    if (chance(g, 80))
        g_scan(g, "HSCAN", CK_SCAN2);
    else
        g_scan_bad(g, "HSCAN");
}

/* Many fields at once, around hash-max-listpack-entries (512), sometimes a
 * value past hash-max-listpack-value (64). */
static void g_hbulk(gen *g)
{
    tc_cmd *c = begin(g, "HSET");
    add_key(g, c);
    int n = chance(g, 50) ? 505 + (int)rn(g, 12) : 5 + (int)rn(g, 60);
    int off = (int)rn(g, 10);
    char b[16];
    for (int i = 0; i < n; i++) {
        snprintf(b, sizeof b, "f%d", off + i);
        tc_str(c, b);
        if (i == n / 2 && chance(g, 20))
            add_elem(g, c);
        else
            tc_ll(c, i);
    }
}

/* ------------------------------------------------------------------ sets */

static void g_keyelems(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    int n = d->arg ? d->arg : small_n(g);
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    add_elems(g, c, n);
}

static void g_sadd(gen *g)
{
    g_keyelems(g, &(gdef){.cmd = "SADD"});
}

static void g_srem(gen *g)
{
    g_keyelems(g, &(gdef){.cmd = "SREM"});
}

static void g_smismember(gen *g)
{
    g_keyelems(g, &(gdef){.cmd = "SMISMEMBER"});
}

static void g_spop(gen *g)
{
    tc_cmd *c = begin_kind(g, CK_SPOP, "SPOP");
    add_key(g, c);
    if (chance(g, 60))
        add_int(g, c, -1, 12);
}

static void g_smove(gen *g)
{
    tc_cmd *c = begin(g, "SMOVE");
    add_keys(g, c, 2);
    add_elem(g, c);
}

static void g_multi(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    int store = d->arg, kind = store ? CK_PLAIN : CK_UNORDERED;
    tc_cmd *c = begin_kind(g, kind, name);
    if (store)
        add_key(g, c);
    add_keys(g, c, 1 + (int)rn(g, 3));
}

/* SINTERCARD/ZINTERCARD numkeys key... [LIMIT n] */
static void g_intercard(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    int n = 1 + (int)rn(g, 3);
    if (chance(g, 5))
        tc_str(c, PICK(g, ((const char *const[]){"0", "-1", "abc", "5"})));
    else
        tc_ll(c, n);
    add_keys(g, c, n);
    if (chance(g, 40)) {
        kw(g, c, "LIMIT");
        add_int(g, c, -1, 4);
    }
}

static void g_sscan(gen *g)
{
    if (chance(g, 80))
        g_scan(g, "SSCAN", CK_SCAN1);
    else
        g_scan_bad(g, "SSCAN");
}

/* Many members at once, around set-max-intset-entries (512): integers,
 * sometimes one string (intset -> hashtable). */
static void g_sbulk(gen *g)
{
    tc_cmd *c = begin(g, "SADD");
    add_key(g, c);
    int n = chance(g, 50) ? 505 + (int)rn(g, 12) : 5 + (int)rn(g, 60);
    long long off = (long long)rn(g, 20) - 5;
    for (int i = 0; i < n; i++) {
        if (i == n / 2 && chance(g, 15))
            add_elem(g, c);
        else
            tc_ll(c, off + i);
    }
}

/* ------------------------------------------------------------------ sorted sets */

static void g_zadd(gen *g)
{
    tc_cmd *c = begin(g, "ZADD");
    add_key(g, c);
    static const char *const flags[] = {"NX", "XX", "GT", "LT", "CH", "INCR"};
    int nf = chance(g, 55) ? 0 : 1 + (int)rn(g, 2);
    int incr = 0;
    for (int i = 0; i < nf; i++) {
        const char *f = PICK(g, flags);
        incr |= !strcmp(f, "INCR");
        kw(g, c, f);
    }
    int n = incr && chance(g, 85) ? 1 : small_n(g);
    for (int i = 0; i < n; i++) {
        add_score(g, c);
        add_elem(g, c);
    }
}

static void g_zincrby(gen *g)
{
    tc_cmd *c = begin(g, "ZINCRBY");
    add_key(g, c);
    add_score(g, c);
    add_elem(g, c);
}

static void g_zrem(gen *g)
{
    g_keyelems(g, &(gdef){.cmd = "ZREM"});
}

static void g_zmscore(gen *g)
{
    g_keyelems(g, &(gdef){.cmd = "ZMSCORE"});
}

static void g_zcount(gen *g)
{
    tc_cmd *c = begin(g, "ZCOUNT");
    add_key(g, c);
    add_srange(g, c);
    add_srange(g, c);
}

/* The lex keys: only ever score-0 members (see the header). */
static void add_lexkey(gen *g, tc_cmd *c)
{
    tc_str(c, chance(g, 50) ? "lex1" : "lex2");
}

/* A key for a lex-range command: a lex key, or rarely a pool key with bad
 * bounds only (errors are defined whatever the scores). */
static int add_lex_target(gen *g, tc_cmd *c)
{
    if (chance(g, 92)) {
        add_lexkey(g, c);
        return 1;
    }
    add_key(g, c);
    return 0;
}

static void add_bad_lrange(gen *g, tc_cmd *c)
{
    tc_str(c, PICK(g, ((const char *const[]){"a", "", "1", "{a"})));
}

static void add_lex_bounds(gen *g, tc_cmd *c, int ok)
{
    if (ok) {
        add_lrange(g, c);
        add_lrange(g, c);
    } else {
        add_bad_lrange(g, c);
        add_lrange(g, c);
    }
}

static void g_zlexadd(gen *g)
{
    tc_cmd *c = begin(g, "ZADD");
    add_lexkey(g, c);
    if (chance(g, 15))
        kw(g, c, PICK(g, ((const char *const[]){"NX", "XX", "CH"})));
    int n = small_n(g) + (chance(g, 10) ? 130 : 0);
    for (int i = 0; i < n; i++) {
        tc_str(c, "0");
        if (i >= 5)
            tc_ll(c, i); /* a long run: around zset-max-listpack-entries */
        else
            add_elem(g, c);
    }
}

static void g_zlexcount(gen *g)
{
    tc_cmd *c = begin(g, "ZLEXCOUNT");
    add_lex_bounds(g, c, add_lex_target(g, c));
}

static void add_limit(gen *g, tc_cmd *c)
{
    if (chance(g, 30)) {
        kw(g, c, "LIMIT");
        add_int(g, c, -1, 4);
        add_int(g, c, -1, 5);
    }
}

static void g_zrangebylex(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_lex_bounds(g, c, add_lex_target(g, c));
    add_limit(g, c);
}

static void g_zremrangebylex(gen *g)
{
    tc_cmd *c = begin(g, "ZREMRANGEBYLEX");
    add_lex_bounds(g, c, add_lex_target(g, c));
}

static void maybe_withscores(gen *g, tc_cmd *c)
{
    if (chance(g, 40))
        kw(g, c, "WITHSCORES");
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES],
 * or ZRANGESTORE dst key ... (same without WITHSCORES). */
static void zrange_args(gen *g, tc_cmd *c, int store)
{
    int mode = (int)rn(g, 10); /* 0-4 index, 5-7 score, 8-9 lex */
    int lexok = 1;
    if (store)
        add_key(g, c);
    if (mode >= 8)
        lexok = add_lex_target(g, c);
    else
        add_key(g, c);
    if (mode < 5) {
        add_index(g, c);
        add_index(g, c);
    } else if (mode < 8) {
        add_srange(g, c);
        add_srange(g, c);
    } else {
        add_lex_bounds(g, c, lexok);
    }
    if (mode >= 5 || chance(g, 3))
        kw(g, c, mode < 8 ? "BYSCORE" : "BYLEX");
    if (chance(g, 30))
        kw(g, c, "REV");
    if (mode >= 5 || chance(g, 5))
        add_limit(g, c);
    if (!store && (mode < 8 || chance(g, 10)))
        maybe_withscores(g, c);
    else if (chance(g, 3))
        kw(g, c, "WITHSCORES");
}

static void g_zrange(gen *g)
{
    zrange_args(g, begin(g, "ZRANGE"), 0);
}

static void g_zrangestore(gen *g)
{
    zrange_args(g, begin(g, "ZRANGESTORE"), 1);
}

static void g_zrangebyscore(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    tc_cmd *c = begin(g, name);
    add_key(g, c);
    add_srange(g, c);
    add_srange(g, c);
    maybe_withscores(g, c);
    add_limit(g, c);
}

static void g_zrevrange(gen *g)
{
    tc_cmd *c = begin(g, "ZREVRANGE");
    add_key(g, c);
    add_index(g, c);
    add_index(g, c);
    maybe_withscores(g, c);
}

static void g_zremrangebyrank(gen *g)
{
    tc_cmd *c = begin(g, "ZREMRANGEBYRANK");
    add_key(g, c);
    add_index(g, c);
    add_index(g, c);
}

static void g_zremrangebyscore(gen *g)
{
    tc_cmd *c = begin(g, "ZREMRANGEBYSCORE");
    add_key(g, c);
    add_srange(g, c);
    add_srange(g, c);
}

static void g_zmpop(gen *g)
{
    tc_cmd *c = begin(g, "ZMPOP");
    add_mpop_args(g, c, 1);
}

/* ZUNION/ZINTER/ZDIFF numkeys key... [WEIGHTS w...] [AGGREGATE a] [WITHSCORES],
 * and the STORE forms with a destination first. */
static void g_zsetop(gen *g, const gdef *d)
{
    const char *name = d->cmd;
    int store = d->arg & 1, diff = d->arg >> 1;
    tc_cmd *c = begin(g, name);
    if (store)
        add_key(g, c);
    int n = 1 + (int)rn(g, 3);
    if (chance(g, 5))
        tc_str(c, PICK(g, ((const char *const[]){"0", "-1", "abc", "5"})));
    else
        tc_ll(c, n);
    add_keys(g, c, n);
    if (!diff || chance(g, 4)) {
        if (chance(g, 35)) {
            kw(g, c, "WEIGHTS");
            int nw = chance(g, 92) ? n : n + 1 - 2 * (int)rn(g, 2);
            for (int i = 0; i < nw; i++) {
                if (chance(g, 80))
                    tc_ll(c, (long long)rn(g, 7) - 3);
                else
                    add_score(g, c);
            }
        }
        if (chance(g, 35)) {
            kw(g, c, "AGGREGATE");
            static const char *const ag[] = {"SUM", "MIN", "MAX", "AVG"};
            kw(g, c, PICK(g, ag));
        }
    }
    if (!store || chance(g, 3))
        maybe_withscores(g, c);
}

static void g_zscan(gen *g)
{
    if (chance(g, 80))
        g_scan(g, "ZSCAN", CK_SCAN2);
    else
        g_scan_bad(g, "ZSCAN");
}

/* Many members at once, around zset-max-listpack-entries (128), sometimes
 * a member past zset-max-listpack-value (64). */
static void g_zbulk(gen *g)
{
    tc_cmd *c = begin(g, "ZADD");
    add_key(g, c);
    int n = chance(g, 50) ? 122 + (int)rn(g, 12) : 5 + (int)rn(g, 40);
    int off = (int)rn(g, 10);
    char b[16];
    for (int i = 0; i < n; i++) {
        tc_ll(c, (long long)rn(g, 50));
        if (i == n / 2 && chance(g, 20)) {
            add_elem(g, c);
        } else {
            snprintf(b, sizeof b, "m%d", off + i);
            tc_str(c, b);
        }
    }
}

/* ------------------------------------------------------------------ keys, config */

static void g_set(gen *g)
{
    tc_cmd *c = begin(g, "SET");
    add_key(g, c);
    add_string_value(g, c);
}

static void g_del(gen *g)
{
    tc_cmd *c = begin(g, chance(g, 80) ? "DEL" : "UNLINK");
    add_keys(g, c, small_n(g));
}

static void g_exists(gen *g)
{
    tc_cmd *c = begin(g, "EXISTS");
    add_keys(g, c, small_n(g));
}

static void g_encoding(gen *g)
{
    tc_cmd *c = begin_kind(g, CK_ENCODING, "OBJECT");
    kw(g, c, "ENCODING");
    if (chance(g, 15))
        add_lexkey(g, c);
    else
        add_key(g, c);
}

static void g_copy(gen *g)
{
    tc_cmd *c = begin(g, "COPY");
    add_keys(g, c, 2);
    if (chance(g, 25)) {
        kw(g, c, "DB");
        tc_ll(c, (g->db + 1) % STREAMDBS);
    }
    if (chance(g, 40))
        kw(g, c, "REPLACE");
}

static void g_rename(gen *g)
{
    tc_cmd *c = begin(g, chance(g, 75) ? "RENAME" : "RENAMENX");
    add_keys(g, c, 2);
}

static void g_move(gen *g)
{
    tc_cmd *c = begin(g, "MOVE");
    add_key(g, c);
    tc_ll(c, (g->db + 1) % STREAMDBS);
}

/* The encoding thresholds, with the values tried (the first is the default). */
static const struct {
    const char *name, *alias;
    const char *values[5];
} thresholds[] = {
    {"hash-max-listpack-entries", "hash-max-ziplist-entries", {"512", "0", "2", "4", "8"}},
    {"hash-max-listpack-value", "hash-max-ziplist-value", {"64", "0", "4", "8", "16"}},
    {"set-max-intset-entries", "set-max-intset-entries", {"512", "0", "1", "4", "16"}},
    {"zset-max-listpack-entries", "zset-max-ziplist-entries", {"128", "0", "2", "4", "8"}},
    {"zset-max-listpack-value", "zset-max-ziplist-value", {"64", "0", "4", "8", "16"}},
    {"list-max-listpack-size", "list-max-ziplist-size", {"-2", "-1", "1", "2", "4"}},
};
#define NTHRESH (sizeof thresholds / sizeof thresholds[0])

static tc_cmd *config_set(int db, const char *name, const char *value)
{
    const char *argv[] = {"CONFIG", "SET", name, value, NULL};
    return tc_cmd_lit(db, CK_PLAIN, argv);
}

static void g_config(gen *g)
{
    size_t t = rn(g, NTHRESH);
    const char *name = chance(g, 70) ? thresholds[t].name : thresholds[t].alias;
    if (chance(g, 25)) {
        tc_cmd *c = begin_kind(g, CK_UNORDERED, "CONFIG");
        kw(g, c, "GET");
        tc_str(c, name);
        return;
    }
    tc_cmd *c = begin(g, "CONFIG");
    kw(g, c, "SET");
    tc_str(c, name);
    tc_str(c, thresholds[t].values[rn(g, 5)]);
}

/* CONFIG SET of a threshold to a value out of its range or not a number. */
static void g_config_bad(gen *g)
{
    size_t t = rn(g, NTHRESH);
    tc_cmd *c = begin(g, "CONFIG");
    kw(g, c, "SET");
    tc_str(c, chance(g, 70) ? thresholds[t].name : thresholds[t].alias);
    tc_str(c, PICK(g, ((const char *const[]){"-1", "abc", "1.5", "", "2147483648", "-70000"})));
    if (chance(g, 30))
        tc_str(c, chance(g, 50) ? "1" : "x");
}

/* ------------------------------------------------------------------ the table */

/* No arity/syntax mangling: blocking commands (a mangled timeout could
 * become 0), CONFIG (its bad forms are CONFIG-BAD). */
enum { F_NOMANGLE = 1 };

static const gdef gens[] = {
    {"LPUSH", NULL, g_push, 30, G_LIST, 0, "LPUSH", 0},
    {"RPUSH", NULL, g_push, 30, G_LIST, 0, "RPUSH", 0},
    {"LPUSHX", NULL, g_push, 8, G_LIST, 0, "LPUSHX", 0},
    {"RPUSHX", NULL, g_push, 8, G_LIST, 0, "RPUSHX", 0},
    {"LPOP", NULL, g_pop, 15, G_LIST, 0, "LPOP", 0},
    {"RPOP", NULL, g_pop, 15, G_LIST, 0, "RPOP", 0},
    {"LLEN", NULL, g_onekey, 8, G_LIST, 0, "LLEN", 0},
    {"LRANGE", g_lrange, NULL, 25, G_LIST, 0, NULL, 0},
    {"LINDEX", g_lindex, NULL, 12, G_LIST, 0, NULL, 0},
    {"LSET", g_lset, NULL, 10, G_LIST, 0, NULL, 0},
    {"LINSERT", g_linsert, NULL, 12, G_LIST, 0, NULL, 0},
    {"LREM", g_lrem, NULL, 12, G_LIST, 0, NULL, 0},
    {"LTRIM", g_ltrim, NULL, 8, G_LIST, 0, NULL, 0},
    {"LPOS", g_lpos, NULL, 15, G_LIST, 0, NULL, 0},
    {"LMOVE", g_lmove, NULL, 10, G_LIST, 0, NULL, 0},
    {"RPOPLPUSH", g_rpoplpush, NULL, 6, G_LIST, 0, NULL, 0},
    {"LMPOP", g_lmpop, NULL, 10, G_LIST, 0, NULL, 0},
    {"BLPOP", NULL, g_bpop, 4, G_LIST, F_NOMANGLE, "BLPOP", 0},
    {"BRPOP", NULL, g_bpop, 4, G_LIST, F_NOMANGLE, "BRPOP", 0},
    {"BLMOVE", g_blmove, NULL, 3, G_LIST, F_NOMANGLE, NULL, 0},
    {"BRPOPLPUSH", g_brpoplpush, NULL, 2, G_LIST, F_NOMANGLE, NULL, 0},
    {"BLMPOP", NULL, g_bmpop, 3, G_LIST, F_NOMANGLE, "BLMPOP", 0},
    {"LIST-BULK", g_lbulk, NULL, 2, G_LIST, 0, NULL, 0},

    {"HSET", g_hset, NULL, 35, G_HASH, 0, NULL, 0},
    {"HSETNX", g_hsetnx, NULL, 8, G_HASH, 0, NULL, 0},
    {"HMSET", g_hmset, NULL, 6, G_HASH, 0, NULL, 0},
    {"HGET", NULL, g_keyfield, 15, G_HASH, 0, "HGET", 0},
    {"HMGET", NULL, g_keyfields, 10, G_HASH, 0, "HMGET", 0},
    {"HDEL", NULL, g_keyfields, 15, G_HASH, 0, "HDEL", 0},
    {"HLEN", NULL, g_onekey, 8, G_HASH, 0, "HLEN", 0},
    {"HSTRLEN", NULL, g_keyfield, 8, G_HASH, 0, "HSTRLEN", 0},
    {"HEXISTS", NULL, g_keyfield, 8, G_HASH, 0, "HEXISTS", 0},
    {"HGETALL", NULL, g_encorder, 12, G_HASH, 0, "HGETALL", 0},
    {"HKEYS", NULL, g_encorder, 6, G_HASH, 0, "HKEYS", 0},
    {"HVALS", NULL, g_encorder, 6, G_HASH, 0, "HVALS", 0},
    {"HINCRBY", g_hincrby, NULL, 15, G_HASH, 0, NULL, 0},
    {"HINCRBYFLOAT", g_hincrbyfloat, NULL, 12, G_HASH, 0, NULL, 0},
    {"HRANDFIELD", NULL, g_rand, 10, G_HASH, 0, "HRANDFIELD", 1},
    {"HSCAN", g_hscan, NULL, 6, G_HASH, 0, NULL, 0},
    {"HASH-BULK", g_hbulk, NULL, 2, G_HASH, 0, NULL, 0},

    {"SADD", g_sadd, NULL, 35, G_SET, 0, NULL, 0},
    {"SREM", g_srem, NULL, 15, G_SET, 0, NULL, 0},
    {"SCARD", NULL, g_onekey, 8, G_SET, 0, "SCARD", 0},
    {"SISMEMBER", NULL, g_keyelems, 10, G_SET, 0, "SISMEMBER", 1},
    {"SMISMEMBER", g_smismember, NULL, 8, G_SET, 0, NULL, 0},
    {"SMEMBERS", NULL, g_encorder, 12, G_SET, 0, "SMEMBERS", 0},
    {"SPOP", g_spop, NULL, 10, G_SET, 0, NULL, 0},
    {"SRANDMEMBER", NULL, g_rand, 10, G_SET, 0, "SRANDMEMBER", 0},
    {"SMOVE", g_smove, NULL, 10, G_SET, 0, NULL, 0},
    {"SINTER", NULL, g_multi, 8, G_SET, 0, "SINTER", 0},
    {"SINTERCARD", NULL, g_intercard, 6, G_SET, 0, "SINTERCARD", 0},
    {"SINTERSTORE", NULL, g_multi, 6, G_SET, 0, "SINTERSTORE", 1},
    {"SUNION", NULL, g_multi, 8, G_SET, 0, "SUNION", 0},
    {"SUNIONSTORE", NULL, g_multi, 6, G_SET, 0, "SUNIONSTORE", 1},
    {"SDIFF", NULL, g_multi, 8, G_SET, 0, "SDIFF", 0},
    {"SDIFFSTORE", NULL, g_multi, 6, G_SET, 0, "SDIFFSTORE", 1},
    {"SSCAN", g_sscan, NULL, 6, G_SET, 0, NULL, 0},
    {"SET-BULK", g_sbulk, NULL, 2, G_SET, 0, NULL, 0},

    {"ZADD", g_zadd, NULL, 40, G_ZSET, 0, NULL, 0},
    {"ZINCRBY", g_zincrby, NULL, 10, G_ZSET, 0, NULL, 0},
    {"ZREM", g_zrem, NULL, 12, G_ZSET, 0, NULL, 0},
    {"ZCARD", NULL, g_onekey, 6, G_ZSET, 0, "ZCARD", 0},
    {"ZSCORE", NULL, g_keyelems, 10, G_ZSET, 0, "ZSCORE", 1},
    {"ZMSCORE", g_zmscore, NULL, 6, G_ZSET, 0, NULL, 0},
    {"ZCOUNT", g_zcount, NULL, 8, G_ZSET, 0, NULL, 0},
    {"ZLEXCOUNT", g_zlexcount, NULL, 5, G_ZSET, 0, NULL, 0},
    {"ZRANK", NULL, g_keyelems, 8, G_ZSET, 0, "ZRANK", 1},
    {"ZREVRANK", NULL, g_keyelems, 6, G_ZSET, 0, "ZREVRANK", 1},
    {"ZRANGE", g_zrange, NULL, 25, G_ZSET, 0, NULL, 0},
    {"ZRANGESTORE", g_zrangestore, NULL, 6, G_ZSET, 0, NULL, 0},
    {"ZRANGEBYSCORE", NULL, g_zrangebyscore, 8, G_ZSET, 0, "ZRANGEBYSCORE", 0},
    {"ZREVRANGEBYSCORE", NULL, g_zrangebyscore, 6, G_ZSET, 0, "ZREVRANGEBYSCORE", 0},
    {"ZRANGEBYLEX", NULL, g_zrangebylex, 6, G_ZSET, 0, "ZRANGEBYLEX", 0},
    {"ZREVRANGEBYLEX", NULL, g_zrangebylex, 5, G_ZSET, 0, "ZREVRANGEBYLEX", 0},
    {"ZREVRANGE", g_zrevrange, NULL, 6, G_ZSET, 0, NULL, 0},
    {"ZREMRANGEBYRANK", g_zremrangebyrank, NULL, 5, G_ZSET, 0, NULL, 0},
    {"ZREMRANGEBYSCORE", g_zremrangebyscore, NULL, 5, G_ZSET, 0, NULL, 0},
    {"ZREMRANGEBYLEX", g_zremrangebylex, NULL, 4, G_ZSET, 0, NULL, 0},
    {"ZPOPMIN", NULL, g_pop, 8, G_ZSET, 0, "ZPOPMIN", 0},
    {"ZPOPMAX", NULL, g_pop, 8, G_ZSET, 0, "ZPOPMAX", 0},
    {"ZMPOP", g_zmpop, NULL, 8, G_ZSET, 0, NULL, 0},
    {"ZRANDMEMBER", NULL, g_rand, 8, G_ZSET, 0, "ZRANDMEMBER", 2},
    {"ZUNION", NULL, g_zsetop, 8, G_ZSET, 0, "ZUNION", 0},
    {"ZINTER", NULL, g_zsetop, 8, G_ZSET, 0, "ZINTER", 0},
    {"ZDIFF", NULL, g_zsetop, 6, G_ZSET, 0, "ZDIFF", 2},
    {"ZUNIONSTORE", NULL, g_zsetop, 6, G_ZSET, 0, "ZUNIONSTORE", 1},
    {"ZINTERSTORE", NULL, g_zsetop, 6, G_ZSET, 0, "ZINTERSTORE", 1},
    {"ZDIFFSTORE", NULL, g_zsetop, 5, G_ZSET, 0, "ZDIFFSTORE", 3},
    {"ZINTERCARD", NULL, g_intercard, 6, G_ZSET, 0, "ZINTERCARD", 0},
    {"ZSCAN", g_zscan, NULL, 6, G_ZSET, 0, NULL, 0},
    {"BZPOPMIN", NULL, g_bpop, 4, G_ZSET, F_NOMANGLE, "BZPOPMIN", 1},
    {"BZPOPMAX", NULL, g_bpop, 4, G_ZSET, F_NOMANGLE, "BZPOPMAX", 1},
    {"BZMPOP", NULL, g_bmpop, 3, G_ZSET, F_NOMANGLE, "BZMPOP", 1},
    {"ZSET-BULK", g_zbulk, NULL, 2, G_ZSET, 0, NULL, 0},
    {"ZSET-LEXADD", g_zlexadd, NULL, 10, G_ZSET, 0, NULL, 0},

    {"SET", g_set, NULL, 4, G_KEYS, 0, NULL, 0},
    {"DEL", g_del, NULL, 8, G_KEYS, 0, NULL, 0},
    {"EXISTS", g_exists, NULL, 5, G_KEYS, 0, NULL, 0},
    {"TYPE", NULL, g_onekey, 6, G_KEYS, 0, "TYPE", 0},
    {"OBJECT-ENCODING", g_encoding, NULL, 12, G_KEYS, 0, NULL, 0},
    {"COPY", g_copy, NULL, 5, G_KEYS, 0, NULL, 0},
    {"RENAME", g_rename, NULL, 5, G_KEYS, 0, NULL, 0},
    {"MOVE", g_move, NULL, 2, G_KEYS, 0, NULL, 0},
    {"CONFIG", g_config, NULL, 3, G_KEYS, F_NOMANGLE, NULL, 0},
    {"CONFIG-BAD", g_config_bad, NULL, 1, G_KEYS, 0, NULL, 0},
};
#define NGENS (sizeof gens / sizeof gens[0])

static const char *gen_names[NGENS];
static int gen_weights[NGENS];
static int gen_skip[NGENS];
static uint64_t gen_count[NGENS];
static tc_gens gen_table = {NGENS, gen_names, gen_weights, gen_skip, gen_count};

static int gen_index(const char *name)
{
    for (size_t i = 0; i < NGENS; i++)
        if (!strcmp(gens[i].name, name))
            return (int)i;
    return -1;
}

/* A one-element value of another type at a pool key (per-type streams), so
 * that the type's commands meet WRONGTYPE; only creators that are not skipped. */
static void g_other(gen *g, int group)
{
    static const struct {
        int group;
        const char *creator;
    } cr[] = {{G_LIST, "RPUSH"}, {G_HASH, "HSET"}, {G_SET, "SADD"}, {G_ZSET, "ZADD"}};
    int avail[4], n = 0;
    for (int i = 0; i < 4; i++) {
        int gi = gen_index(cr[i].creator);
        if (cr[i].group != group && gi >= 0 && !gen_skip[gi])
            avail[n++] = i;
    }
    if (n == 0) {
        g_set(g);
        return;
    }
    int i = avail[rn(g, (uint64_t)n)];
    tc_cmd *c = begin(g, cr[i].creator);
    add_key(g, c);
    if (cr[i].group == G_HASH)
        tc_str(c, "field");
    if (cr[i].group == G_ZSET)
        tc_str(c, "1");
    tc_str(c, "member");
}

typedef struct stream_state {
    gen g;
    int group;   /* G_* of the stream */
    int started; /* the seed's CONFIG SETs were generated */
} stream_state;

static void seed_begin(void *user, unsigned long long seed)
{
    stream_state *st = user;
    memset(&st->g, 0, sizeof st->g);
    /* Mixed, not seed * the generator's increment: that would make every
     * seed's stream the same sequence, shifted by a few draws. */
    uint64_t t = seed;
    st->g.s = tc_rnd(&t);
    st->started = 0;
    set_exact = (int)((seed >> 1) & 1); /* both ember paths, both set modes */
    for (size_t i = 0; i < NGENS; i++)
        gen_weights[i] = (gens[i].group & st->group) ? gens[i].weight : 0;
}

static const char *const extra_tokens[] = {"x",     "NX",    "XX",         "0",    "1",
                                           "-1",    "LIMIT", "WITHSCORES", "REV",  "COUNT",
                                           "BYLEX", "",      "BYSCORE",    "RANK", "MATCH"};

/* A cursor as Redis 7.0 parses it: strtoul on the C string (no leading
 * space, nothing after the number, no overflow), so "-1" and "" are valid,
 * and so is anything after a NUL ("\0\xff" is cursor 0). */
static int scan_cursor(const char *s, unsigned long long *v)
{
    if (isspace((unsigned char)s[0]))
        return 0;
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *end == '\0' && errno != ERANGE;
}

/*
 * The arity mangling can make a bad scan valid: "HSCAN k 0 MATCH" loses its
 * last argument, "HSCAN k" gains a random element as its cursor. What a page
 * holds follows the hash order (and a nonzero cursor means nothing across
 * encodings), so such a scan starts from cursor 0 and is compared as a full
 * iteration, as the generated ones are.
 */
static void scan_kind(tc_cmd *c)
{
    int step = !strcasecmp(c->argv[0], "SSCAN")                                       ? 1
               : !strcasecmp(c->argv[0], "HSCAN") || !strcasecmp(c->argv[0], "ZSCAN") ? 2
                                                                                      : 0;
    unsigned long long v;
    if (!step || c->kind != CK_PLAIN || c->argc < 3 || !scan_cursor(c->argv[2], &v))
        return;
    if (v != 0)
        tc_set_arg(c, 2, "0", 1);
    c->kind = step == 1 ? CK_SCAN1 : CK_SCAN2;
}

static void stream_next(void *user, tc_cmdvec *out)
{
    stream_state *st = user;
    gen *g = &st->g;
    g->out = out;
    if (!st->started) {
        /* Half of the seeds run with small encoding thresholds. */
        st->started = 1;
        if (chance(g, 50)) {
            for (size_t t = 0; t < NTHRESH; t++)
                tc_vec_push(out,
                            config_set(0, thresholds[t].name, thresholds[t].values[1 + rn(g, 4)]));
            return;
        }
    }
    if (chance(g, 3))
        g->db = (int)rn(g, STREAMDBS);
    size_t first = out->n;
    size_t gi;
    if (st->group != G_ALL && chance(g, 2)) {
        g_other(g, st->group);
        gi = (size_t)gen_index("SET");
    } else {
        gi = tc_gens_pick(&gen_table, &g->s);
        g->home = st->group == G_ALL ? gens[gi].group : 0;
        if (gens[gi].fn)
            gens[gi].fn(g);
        else
            gens[gi].wk(g, &gens[gi]);
    }
    for (size_t k = first; k < out->n; k++)
        out->v[k]->gen = (int)gi;
    tc_cmd *c = out->v[out->n - 1];
    /* Arity and syntax mistakes: drop the last argument or add one. */
    if (!(gens[gi].flags & F_NOMANGLE) && chance(g, 4)) {
        if (chance(g, 50) && c->argc > 1)
            tc_drop_last(c);
        else if (chance(g, 25))
            add_elem(g, c);
        else
            tc_str(c, PICK(g, extra_tokens));
    }
    scan_kind(c);
}

/* ------------------------------------------------------------------ runner hooks */

static tc_runner R;

/* The redis encoding of a key (a copy), or NULL. */
static char *redis_encoding(tc_runner *r, int db, const char *k, size_t kl)
{
    tc_cmd *c = tc_cmd_new(db, CK_PLAIN, -1);
    tc_str(c, "OBJECT");
    tc_str(c, "ENCODING");
    tc_arg(c, k, kl);
    tc_resp *x = tc_run_redis(r, c);
    tc_cmd_free(c);
    char *enc = NULL;
    if (x && (x->type == TC_RESP_STRING || x->type == TC_RESP_STATUS))
        enc = strdup(x->str);
    tc_resp_free(x);
    return enc;
}

static int compact_encoding(const char *enc)
{
    return enc && (!strcmp(enc, "listpack") || !strcmp(enc, "intset"));
}

static tc_resp *run_side(tc_runner *r, int side_ember, const tc_cmd *c)
{
    return side_ember ? tc_run_ember(r, c) : tc_run_redis(r, c);
}

/* SMEMBERS, HGETALL, HKEYS, HVALS: exact for compact encodings, else as a
 * multiset (pairs for HGETALL's map). */
static int run_encorder(tc_runner *r, const tc_cmd *c, tc_buf *why)
{
    tc_resp *red = tc_run_redis(r, c);
    tc_resp *emb = tc_run_ember(r, c);
    if (r->trace)
        tc_trace_pair(c, red, emb);
    int eq = tc_resp_equal(red, emb, 0);
    char *enc = NULL;
    if (!eq && red && red->type != TC_RESP_ERROR && c->argc == 2) {
        enc = redis_encoding(r, c->db, c->argv[1], c->len[1]);
        if (enc && !compact_encoding(enc))
            eq = tc_resp_equal(red, emb, TC_DIFF_UNORDERED);
    }
    if (!eq) {
        tc_report_mismatch(why, c, red, emb);
        if (enc)
            tc_buf_printf(why, "  (redis encoding %s: compared %s)\n", enc,
                          compact_encoding(enc) ? "in order" : "as a multiset");
    }
    free(enc);
    tc_resp_free(red);
    tc_resp_free(emb);
    return eq;
}

/* Canonical forms of items, for membership tests. */
typedef struct canon_list {
    tc_buf *v;
    size_t n;
} canon_list;

static void canon_add(canon_list *l, const tc_resp *x)
{
    l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
    if (!l->v)
        abort();
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    tc_resp_canon(&l->v[l->n], x);
    tc_buf_cstr(&l->v[l->n]);
    l->n++;
}

/* A [a, b] pair as RESP3 sends it inside HRANDFIELD/ZRANDMEMBER replies. */
static void canon_add_pair(canon_list *l, tc_resp *a, tc_resp *b)
{
    tc_resp *el[2] = {a, b};
    tc_resp pair = {.type = TC_RESP_ARRAY, .n = 2, .elem = el};
    canon_add(l, &pair);
}

static int canon_has(const canon_list *l, const tc_buf *x)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].len == x->len && memcmp(l->v[i].p, x->p, x->len) == 0)
            return 1;
    return 0;
}

static void canon_free(canon_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        tc_buf_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_buf(const void *x, const void *y)
{
    const tc_buf *a = x, *b = y;
    size_t m = a->len < b->len ? a->len : b->len;
    int d = memcmp(a->p, b->p, m);
    return d ? d : (a->len < b->len ? -1 : a->len > b->len);
}

/* The items of a pop/random reply: a lone string, or the elements. */
static void reply_items(canon_list *items, canon_list *members, const tc_resp *x)
{
    if (!x || x->type == TC_RESP_NIL)
        return;
    if (x->type != TC_RESP_ARRAY && x->type != TC_RESP_SET) {
        canon_add(items, x);
        canon_add(members, x);
        return;
    }
    for (size_t i = 0; i < x->n; i++) {
        const tc_resp *e = x->elem[i];
        canon_add(items, e);
        canon_add(members, e->type == TC_RESP_ARRAY && e->n == 2 ? e->elem[0] : e);
    }
}

static int has_repeats(const canon_list *l)
{
    canon_list s = {0};
    int rep = 0;
    for (size_t i = 0; i < l->n && !rep; i++) {
        rep = canon_has(&s, &l->v[i]);
        s.v = realloc(s.v, (s.n + 1) * sizeof *s.v);
        if (!s.v)
            abort();
        memset(&s.v[s.n], 0, sizeof s.v[s.n]);
        tc_buf_put(&s.v[s.n], l->v[i].p, l->v[i].len);
        s.n++;
    }
    canon_free(&s);
    return rep;
}

/* The content of key argv[1] on redis as items: members, and pairs
 * (field/value, member/score) in the form the random commands use. */
static void redis_content(tc_runner *r, const tc_cmd *c, canon_list *items)
{
    const char *name = c->argv[0];
    const char *argv[6] = {0};
    if (!strcasecmp(name, "SRANDMEMBER") || !strcasecmp(name, "SPOP")) {
        argv[0] = "SMEMBERS";
    } else if (!strcasecmp(name, "HRANDFIELD")) {
        argv[0] = "HGETALL";
    } else {
        argv[0] = "ZRANGE";
        argv[2] = "0";
        argv[3] = "-1";
        argv[4] = "WITHSCORES";
    }
    tc_cmd *q = tc_cmd_new(c->db, CK_PLAIN, -1);
    tc_str(q, argv[0]);
    tc_arg(q, c->argv[1], c->len[1]);
    for (int i = 2; argv[i]; i++)
        tc_str(q, argv[i]);
    tc_resp *x = tc_run_redis(r, q);
    tc_cmd_free(q);
    if (x && x->type == TC_RESP_MAP) {
        for (size_t i = 0; i + 1 < x->n; i += 2) {
            canon_add(items, x->elem[i]);
            canon_add_pair(items, x->elem[i], x->elem[i + 1]);
        }
    } else if (x && (x->type == TC_RESP_ARRAY || x->type == TC_RESP_SET)) {
        for (size_t i = 0; i < x->n; i++) {
            canon_add(items, x->elem[i]);
            if (x->elem[i]->type == TC_RESP_ARRAY && x->elem[i]->n == 2)
                canon_add(items, x->elem[i]->elem[0]);
        }
    }
    tc_resp_free(x);
}

/* SRANDMEMBER, HRANDFIELD, ZRANDMEMBER: see the header. */
static int run_rand(tc_runner *r, const tc_cmd *c, tc_buf *why)
{
    tc_resp *red = tc_run_redis(r, c);
    tc_resp *emb = tc_run_ember(r, c);
    if (r->trace)
        tc_trace_pair(c, red, emb);
    int ok = tc_resp_equal(red, emb, 0);
    const char *reason = "";
    if (!ok && red && emb && red->type != TC_RESP_ERROR && tc_resp_same_shape(red, emb)) {
        canon_list content = {0}, items = {0}, members = {0};
        redis_content(r, c, &content);
        reply_items(&items, &members, emb);
        ok = 1;
        for (size_t i = 0; ok && i < items.n; i++)
            ok = canon_has(&content, &items.v[i]);
        if (!ok)
            reason = "  (ember returned an element, or a value, the key does not hold)\n";
        long long count = 0;
        if (ok && c->argc >= 3 && sscanf(c->argv[2], "%lld", &count) == 1 && count > 0 &&
            has_repeats(&members)) {
            ok = 0;
            reason = "  (ember repeated an element with a positive count)\n";
        }
        canon_free(&content);
        canon_free(&items);
        canon_free(&members);
    }
    if (!ok) {
        tc_report_mismatch(why, c, red, emb);
        tc_buf_puts(why, reason);
    }
    tc_resp_free(red);
    tc_resp_free(emb);
    return ok;
}

static tc_resp *smembers(tc_runner *r, int side_ember, const tc_cmd *c)
{
    tc_cmd *q = tc_cmd_new(c->db, CK_PLAIN, -1);
    tc_str(q, "SMEMBERS");
    tc_arg(q, c->argv[1], c->len[1]);
    tc_resp *x = run_side(r, side_ember, q);
    tc_cmd_free(q);
    return x;
}

/* A harness command on ember only (frees q); 1 unless it failed. */
static int ember_quiet(tc_runner *r, tc_cmd *q)
{
    ember_reply *rep = NULL;
    int ok = ember_command(r->views[q->db], q->argc, (const char *const *)q->argv, q->len, &rep) ==
                 EMBER_OK &&
             ember_reply_type(rep) != EMBER_REPLY_ERROR;
    ember_reply_free(rep);
    tc_cmd_free(q);
    return ok;
}

/* ember's value of a CONFIG parameter (a copy), or NULL. */
static char *ember_config_value(tc_runner *r, const char *name)
{
    const char *argv[] = {"CONFIG", "GET", name};
    ember_reply *rep = NULL;
    char *v = NULL;
    if (ember_command(r->views[0], 3, argv, NULL, &rep) == EMBER_OK && ember_reply_len(rep) == 2) {
        size_t l;
        const char *p = ember_reply_str(ember_reply_element(rep, 1), &l);
        if (p)
            v = strndup(p, l);
    }
    ember_reply_free(rep);
    return v;
}

/* Rebuilds ember's set at argv[1] from redis's members, and forces the
 * hashtable encoding if redis has it (a set never converts back). An intset
 * on redis may be longer than set-max-intset-entries now (the limit was
 * lowered after it grew): it is rebuilt under a limit raised for the time. */
static int resync_set(tc_runner *r, const tc_cmd *c, const tc_resp *members)
{
    tc_cmd *q = tc_cmd_new(c->db, CK_PLAIN, -1);
    tc_str(q, "DEL");
    tc_arg(q, c->argv[1], c->len[1]);
    int ok = ember_quiet(r, q);
    if (members->n) {
        char *enc = redis_encoding(r, c->db, c->argv[1], c->len[1]);
        char *limit = NULL;
        if (enc && !strcmp(enc, "intset")) {
            limit = ember_config_value(r, "set-max-intset-entries");
            ok = ok && limit;
            ok = ok && ember_quiet(r, config_set(c->db, "set-max-intset-entries", "1000000"));
        }
        q = tc_cmd_new(c->db, CK_PLAIN, -1);
        tc_str(q, "SADD");
        tc_arg(q, c->argv[1], c->len[1]);
        for (size_t i = 0; i < members->n; i++)
            tc_arg(q, members->elem[i]->str, members->elem[i]->len);
        ok = ok && ember_quiet(r, q);
        if (limit) {
            ok = ok && ember_quiet(r, config_set(c->db, "set-max-intset-entries", limit));
            free(limit);
        }
        if (enc && !strcmp(enc, "hashtable")) {
            static const char tmp[] = "\x01resync";
            for (int i = 0; i < 2; i++) {
                q = tc_cmd_new(c->db, CK_PLAIN, -1);
                tc_str(q, i ? "SREM" : "SADD");
                tc_arg(q, c->argv[1], c->len[1]);
                tc_str(q, tmp);
                ok = ok && ember_quiet(r, q);
            }
        }
        free(enc);
    }
    return ok;
}

/* SPOP: see the header. */
static int run_spop(tc_runner *r, const tc_cmd *c, tc_buf *why)
{
    tc_resp *red = tc_run_redis(r, c);
    tc_resp *emb = tc_run_ember(r, c);
    if (r->trace)
        tc_trace_pair(c, red, emb);
    int ok = tc_resp_equal(red, emb, 0);
    const char *reason = "";
    if (!ok && red && emb && red->type != TC_RESP_ERROR && tc_resp_same_shape(red, emb)) {
        tc_resp *rafter = smembers(r, 0, c);
        tc_resp *eafter = smembers(r, 1, c);
        canon_list rpop = {0}, epop = {0}, dummy = {0}, before = {0}, expect = {0}, got = {0};
        reply_items(&rpop, &dummy, red);
        reply_items(&epop, &dummy, emb);
        for (size_t i = 0; rafter && i < rafter->n; i++)
            canon_add(&before, rafter->elem[i]);
        for (size_t i = 0; i < rpop.n; i++) {
            before.v = realloc(before.v, (before.n + 1) * sizeof *before.v);
            if (!before.v)
                abort();
            memset(&before.v[before.n], 0, sizeof before.v[0]);
            tc_buf_put(&before.v[before.n++], rpop.v[i].p, rpop.v[i].len);
        }
        ok = !has_repeats(&epop);
        if (!ok)
            reason = "  (ember popped an element twice)\n";
        for (size_t i = 0; ok && i < epop.n; i++)
            ok = canon_has(&before, &epop.v[i]);
        if (!ok && !*reason)
            reason = "  (ember popped an element that was not a member)\n";
        /* ember's remaining set must be the original minus what it popped */
        for (size_t i = 0; ok && i < before.n; i++) {
            if (canon_has(&epop, &before.v[i]))
                continue;
            expect.v = realloc(expect.v, (expect.n + 1) * sizeof *expect.v);
            if (!expect.v)
                abort();
            memset(&expect.v[expect.n], 0, sizeof expect.v[0]);
            tc_buf_put(&expect.v[expect.n++], before.v[i].p, before.v[i].len);
        }
        for (size_t i = 0; ok && eafter && i < eafter->n; i++)
            canon_add(&got, eafter->elem[i]);
        if (ok) {
            if (expect.n) /* qsort(NULL, 0) is undefined (UBSan) */
                qsort(expect.v, expect.n, sizeof *expect.v, cmp_buf);
            if (got.n)
                qsort(got.v, got.n, sizeof *got.v, cmp_buf);
            ok = expect.n == got.n;
            for (size_t i = 0; ok && i < got.n; i++)
                ok = cmp_buf(&expect.v[i], &got.v[i]) == 0;
            if (!ok)
                reason = "  (ember's remaining members are not the original minus its pops)\n";
        }
        if (ok && !(rafter && rafter->type == TC_RESP_SET && resync_set(r, c, rafter))) {
            ok = 0;
            reason = "  (harness: re-synchronizing the set failed)\n";
        }
        canon_free(&rpop);
        canon_free(&epop);
        canon_free(&dummy);
        canon_free(&before);
        canon_free(&expect);
        canon_free(&got);
        tc_resp_free(rafter);
        tc_resp_free(eafter);
    }
    if (!ok) {
        tc_report_mismatch(why, c, red, emb);
        tc_buf_puts(why, reason);
    }
    tc_resp_free(red);
    tc_resp_free(emb);
    return ok;
}

/* OBJECT ENCODING: exact, except as set_exact says. */
static int run_encoding(tc_runner *r, const tc_cmd *c, tc_buf *why)
{
    tc_resp *red = tc_run_redis(r, c);
    tc_resp *emb = tc_run_ember(r, c);
    if (r->trace)
        tc_trace_pair(c, red, emb);
    int eq = tc_resp_equal(red, emb, 0);
    if (!eq && !set_exact && c->argc == 3 && red && emb && red->str && emb->str &&
        !strcmp(red->str, "hashtable") && !strcmp(emb->str, "listpack")) {
        tc_cmd *t = tc_cmd_key(c->db, CK_PLAIN, "TYPE", c->argv[2], c->len[2]);
        tc_resp *ty = tc_run_redis(r, t);
        eq = ty && ty->str && !strcmp(ty->str, "set");
        tc_resp_free(ty);
        tc_cmd_free(t);
    }
    if (!eq)
        tc_report_mismatch(why, c, red, emb);
    tc_resp_free(red);
    tc_resp_free(emb);
    return eq;
}

static int is_special(const tc_cmd *c)
{
    return c->kind >= CK_ENCORDER;
}

static int run_special(tc_runner *r, const tc_cmd *c, tc_buf *why)
{
    switch (c->kind) {
    case CK_ENCORDER:
        return run_encorder(r, c, why);
    case CK_RAND:
        return run_rand(r, c, why);
    case CK_SPOP:
        return run_spop(r, c, why);
    case CK_ENCODING:
        return run_encoding(r, c, why);
    default:
        return tc_run_scan(r, c, 2, c->kind == CK_SCAN2 ? 2 : 1, why);
    }
}

static int compare(tc_runner *r, const tc_cmd *c, const tc_resp *red, const tc_resp *emb,
                   tc_buf *why)
{
    (void)r;
    int eq = tc_resp_equal(red, emb, c->kind == CK_UNORDERED ? TC_DIFF_UNORDERED : 0);
    if (!eq)
        tc_report_mismatch(why, c, red, emb);
    return eq;
}

/* Back to the default thresholds on both sides. */
static int after_reset(tc_runner *r)
{
    int ok = 1;
    for (size_t t = 0; t < NTHRESH; t++) {
        tc_cmd *c = config_set(0, thresholds[t].name, thresholds[t].values[0]);
        for (int side = 0; side < 2; side++) {
            tc_resp *x = run_side(r, side, c);
            if (!x || x->type != TC_RESP_STATUS) {
                fprintf(stderr, "diff: CONFIG SET %s %s failed on %s\n", thresholds[t].name,
                        thresholds[t].values[0], side ? "ember" : "redis");
                ok = 0;
            }
            tc_resp_free(x);
        }
        tc_cmd_free(c);
    }
    tc_cmd *c = config_set(0, "set-max-listpack-entries", set_exact ? "0" : "128");
    tc_resp *x = tc_run_ember(r, c);
    if (!x || x->type != TC_RESP_STATUS) {
        fprintf(stderr, "diff: CONFIG SET set-max-listpack-entries failed on ember\n");
        ok = 0;
    }
    tc_resp_free(x);
    tc_cmd_free(c);
    return ok;
}

static const tc_hooks hooks = {is_special, run_special, compare, after_reset};

/* ------------------------------------------------------------------ final dump */

static tc_cmd *mk_args(int db, int kind, const char *name, const char *k, size_t kl,
                       const char *const *more)
{
    tc_cmd *c = tc_cmd_key(db, kind, name, k, kl);
    for (size_t i = 0; more && more[i]; i++)
        tc_str(c, more[i]);
    return c;
}

/* Per key: TYPE, OBJECT ENCODING, the length and the whole content by the
 * type redis reports. */
static void dump_key(tc_runner *r, tc_cmdvec *dump, int db, const char *k, size_t kl)
{
    static const char *const all[] = {"0", "-1", NULL};
    static const char *const allws[] = {"0", "-1", "WITHSCORES", NULL};
    tc_cmd *t = tc_cmd_key(db, CK_PLAIN, "TYPE", k, kl);
    tc_resp *type = tc_run_redis(r, t);
    tc_vec_push(dump, t);
    tc_cmd *o = tc_cmd_key(db, CK_ENCODING, "OBJECT", NULL, 0);
    tc_str(o, "ENCODING");
    tc_arg(o, k, kl);
    tc_vec_push(dump, o);
    const char *ty = type && type->str ? type->str : "";
    if (!strcmp(ty, "list")) {
        tc_vec_push(dump, tc_cmd_key(db, CK_PLAIN, "LLEN", k, kl));
        tc_vec_push(dump, mk_args(db, CK_PLAIN, "LRANGE", k, kl, all));
    } else if (!strcmp(ty, "hash")) {
        tc_vec_push(dump, tc_cmd_key(db, CK_PLAIN, "HLEN", k, kl));
        tc_vec_push(dump, tc_cmd_key(db, CK_ENCORDER, "HGETALL", k, kl));
    } else if (!strcmp(ty, "set")) {
        tc_vec_push(dump, tc_cmd_key(db, CK_PLAIN, "SCARD", k, kl));
        tc_vec_push(dump, tc_cmd_key(db, CK_ENCORDER, "SMEMBERS", k, kl));
    } else if (!strcmp(ty, "zset")) {
        tc_vec_push(dump, tc_cmd_key(db, CK_PLAIN, "ZCARD", k, kl));
        tc_vec_push(dump, mk_args(db, CK_PLAIN, "ZRANGE", k, kl, allws));
    } else {
        tc_vec_push(dump, tc_cmd_key(db, CK_PLAIN, "GET", k, kl));
    }
    tc_resp_free(type);
}

static long final_dump(tc_runner *r, tc_cmdvec *dump, tc_buf *why)
{
    return tc_dump_keys(r, STREAMDBS, CK_UNORDERED, dump, why, dump_key);
}

/* ------------------------------------------------------------------ directed cases */

#define DW 14 /* lines per case at most */

/* Each case runs on fresh databases with the default thresholds. */
static const char *const directed_lists[][DW] = {
    {"LPUSH l a b c", "RPUSH l d", "LRANGE l 0 -1", "LRANGE l -100 100", "LRANGE l 2 1",
     "LRANGE l 5 10", "LINDEX l -1", "LINDEX l 4", "LINDEX l abc", "LLEN l", "LLEN nokey",
     "LRANGE l 0 9223372036854775807", "LRANGE l -9223372036854775808 0", "LRANGE l a b"},
    {"LPUSH l", "LPUSHX nokey a", "RPUSHX nokey a", "EXISTS nokey", "SET s x", "LPUSH s a",
     "LPOP s", "LLEN s", "LRANGE s 0 1", "LPOS s a", "LMOVE s l LEFT RIGHT", "BLPOP s 0",
     "LMPOP 1 s LEFT", "TYPE s"},
    {"RPUSH l 1 2 3 4 5", "LPOP l 0", "LPOP l -1", "LPOP l 2", "RPOP l 10", "EXISTS l", "LPOP l",
     "LPOP l 2", "RPOP nokey 2", "RPOP nokey", "LPOP l abc", "RPUSH l x", "LPOP l 1", "LPOP l 1"},
    {"RPUSH l a b c", "LSET l 0 x", "LSET l -1 y", "LSET l 3 z", "LSET nokey 0 a", "LSET l abc a",
     "LINSERT l BEFORE x w", "LINSERT l AFTER nope q", "LINSERT l MIDDLE x q",
     "LINSERT nokey BEFORE a b", "LRANGE l 0 -1", "LREM l 0 b", "LREM l abc x", "LTRIM l 1 0"},
    {"RPUSH l a b a c a", "LREM l -2 a", "LRANGE l 0 -1", "LREM l 1 nope", "LTRIM l -2 -1",
     "LRANGE l 0 -1", "LTRIM l 5 10", "EXISTS l", "LTRIM nokey 0 1", "LTRIM l a 1", "RPUSH l 1",
     "LTRIM l 0 -1", "LRANGE l 0 -1", "OBJECT ENCODING l"},
    {"RPUSH l a b c a b c a", "LPOS l a", "LPOS l a RANK 2", "LPOS l a RANK -1", "LPOS l a COUNT 0",
     "LPOS l a COUNT 2 RANK -2", "LPOS l a MAXLEN 3 COUNT 0", "LPOS l a RANK 0",
     "LPOS l a COUNT -1", "LPOS l a MAXLEN -1", "LPOS l a RANK -9223372036854775808",
     "LPOS l a FOO 1", "LPOS l a RANK", "LPOS nokey a"},
    {"RPUSH a 1 2 3", "LMOVE a b LEFT RIGHT", "LMOVE a a RIGHT LEFT", "LRANGE a 0 -1",
     "RPOPLPUSH a b", "LRANGE b 0 -1", "LMOVE a b UP DOWN", "LMOVE nokey b LEFT LEFT",
     "RPOPLPUSH nokey b", "SET s v", "LMOVE a s LEFT LEFT", "LRANGE a 0 -1", "RPOPLPUSH s a",
     "LMOVE a b LEFT"},
    {"RPUSH a 1 2 3", "RPUSH b x", "LMPOP 2 nokey a LEFT", "LMPOP 2 nokey a RIGHT COUNT 5",
     "LMPOP 0 a LEFT", "LMPOP 1 a LEFT COUNT 0", "LMPOP 1 a LEFT COUNT -1", "LMPOP 3 a b LEFT",
     "LMPOP 1 b UP", "LMPOP 1 b LEFT COUNT 1 COUNT 2", "LMPOP 1 nokey LEFT", "LMPOP abc a LEFT",
     "LMPOP 1 b LEFT COUNT", "EXISTS a b"},
    {"RPUSH a 1 2", "BLPOP nokey a 0", "BRPOP a 0.5", "BLPOP a -1", "BLPOP a abc", "BLPOP a nan",
     "RPUSH a x y", "BLMOVE a b RIGHT LEFT 0", "BRPOPLPUSH a b 0", "BLMPOP 0 1 b LEFT COUNT 5",
     "BLMPOP 0 0 b LEFT", "BLMPOP -1 1 b LEFT", "BLPOP nokey 0.01", "BRPOPLPUSH nokey b 0.01"},
    /* BLMPOP: numkeys, the direction and COUNT are checked before the timeout */
    {"BLMPOP abc abc k LEFT", "BLMPOP \"\" 1 k UP", "BLMPOP -1 1 k LEFT COUNT -1",
     "BLMPOP -1 1 k LEFT COUNT 1 x", "BLMPOP x 1 k LEFT", "BLMPOP -1 1 k LEFT",
     "BLMPOP 0.01 2 k LEFT", "RPUSH k a", "BLMPOP 0.01 1 k RIGHT COUNT 2"},
    {"RPUSH l aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "OBJECT ENCODING l", "CONFIG SET list-max-listpack-size 1", "RPUSH l2 a b c",
     "OBJECT ENCODING l2", "LRANGE l2 0 -1", "LINSERT l2 AFTER b x", "LRANGE l2 0 -1", "COPY l2 l3",
     "LRANGE l3 0 -1", "RENAME l3 l4", "TYPE l4", "CONFIG GET list-max-*-size"},
};

static const char *const directed_hashes[][DW] = {
    {"HSET h a 1 b 2", "HSET h a 3", "HGET h a", "HGET h nope", "HGET nokey a", "HMGET h a x b",
     "HMGET nokey a", "HLEN h", "HGETALL h", "HKEYS h", "HVALS h", "HSET h a", "HSET h",
     "HMSET h a"},
    {"HSETNX h a 1", "HSETNX h a 2", "HGET h a", "HSTRLEN h a", "HSTRLEN h x", "HEXISTS h a",
     "HEXISTS h x", "HDEL h x a", "EXISTS h", "HDEL h", "HMSET h a 1 b 2", "HDEL h a a b",
     "HGETALL nokey", "HKEYS nokey"},
    {"HSET h n 10", "HINCRBY h n 5", "HINCRBY h n -20", "HINCRBY h n abc", "HINCRBY h x 1",
     "HSET h s foo", "HINCRBY h s 1", "HSET h big 9223372036854775807", "HINCRBY h big 1",
     "HINCRBY h n 9223372036854775808", "HINCRBYFLOAT h n 1.5", "HINCRBYFLOAT h n abc",
     "HINCRBYFLOAT h n nan", "HINCRBYFLOAT h n inf"},
    {"HSET h f 1.5", "HINCRBYFLOAT h f 0.1", "HINCRBYFLOAT h f -1.6", "HINCRBYFLOAT h f 1e308",
     "HINCRBYFLOAT h f 1e308", "HINCRBYFLOAT h g 5.0e3", "HGET h g", "HSET h s \" 1\"",
     "HINCRBYFLOAT h s 1", "HINCRBY h s 1", "HINCRBYFLOAT h f", "HSET h e \"\"", "HINCRBY h e 1",
     "HINCRBYFLOAT h e 1"},
    {"HSET h a 1 b 2 c 3", "HRANDFIELD h 0", "HRANDFIELD h 3 WITHVALUES", "HRANDFIELD h 5",
     "HRANDFIELD h abc", "HRANDFIELD h 1 WITHFOO", "HRANDFIELD nokey", "HRANDFIELD nokey 5",
     "HRANDFIELD h -9223372036854775808", "HRANDFIELD h 9223372036854775807 WITHVALUES",
     "HSCAN h 0", "HSCAN h 0 MATCH a*", "HSCAN h abc", "HSCAN h 0 COUNT 0"},
    {"CONFIG SET hash-max-listpack-entries 2", "HSET h a 1 b 2", "OBJECT ENCODING h", "HSET h c 3",
     "OBJECT ENCODING h", "HDEL h a b", "OBJECT ENCODING h", "CONFIG SET hash-max-listpack-value 3",
     "HSET h2 abcd 1", "OBJECT ENCODING h2", "HSET h3 abc 1234", "OBJECT ENCODING h3",
     "HSET h4 abc 123", "OBJECT ENCODING h4"},
    {"HSET h z 1 a 2 m 3", "HSET h a 9", "HGETALL h", "HDEL h z", "HSET h z 0", "HKEYS h",
     "HVALS h", "COPY h h2", "HGETALL h2", "RENAME h h3", "HGETALL h3", "SET s x", "HSET s a 1",
     "HGET s a"},
    /* a listpack past a lowered entries limit converts on any write, an update too */
    {"HSET h a 1 b 2", "HSET h4 n 1", "CONFIG SET hash-max-listpack-entries 1", "HSETNX h a 3",
     "HDEL h nope", "OBJECT ENCODING h", "HSET h a 3", "OBJECT ENCODING h", "HINCRBY h4 n 1",
     "OBJECT ENCODING h4", "CONFIG SET hash-max-listpack-entries 0", "HINCRBYFLOAT h4 n 1",
     "OBJECT ENCODING h4"},
};

static const char *const directed_sets[][DW] = {
    {"SADD s 3 1 2 1", "SMEMBERS s", "OBJECT ENCODING s", "SADD s a", "OBJECT ENCODING s",
     "SCARD s", "SISMEMBER s a", "SISMEMBER s 9", "SMISMEMBER s 1 9 a", "SMISMEMBER s",
     "SREM s 1 a x", "SREM s", "SCARD nokey", "SMEMBERS nokey"},
    {"SADD s 1 2 3", "SPOP s 0", "SPOP s -1", "SPOP s abc", "SPOP s 3", "EXISTS s", "SPOP s",
     "SPOP nokey", "SPOP nokey 2", "SADD t a", "SPOP t 5", "SRANDMEMBER nokey",
     "SRANDMEMBER nokey 3", "SRANDMEMBER t abc"},
    {"SADD a 1 2 3", "SADD b 2 3 4", "SADD c x", "SINTER a b", "SINTER a b c", "SINTER a nokey",
     "SUNION a b", "SDIFF a b", "SDIFF nokey a", "SINTERSTORE d a b", "SMEMBERS d",
     "SINTERSTORE d a c", "EXISTS d", "SDIFFSTORE d a b c"},
    {"SADD a 1 2 3", "SADD b 2 3 4", "SINTERCARD 2 a b", "SINTERCARD 2 a b LIMIT 1",
     "SINTERCARD 0 a", "SINTERCARD 3 a b", "SINTERCARD 1 a LIMIT -1", "SINTERCARD abc a",
     "SINTERCARD 1 a LIMIT", "SINTERCARD 1 a FOO 1", "SUNIONSTORE u a b", "SMEMBERS u", "SET s v",
     "SINTER a s"},
    {"SADD a 1 2", "SMOVE a b 1", "SMOVE a b 9", "SMEMBERS b", "SMOVE a a 2", "SMOVE a b 2",
     "EXISTS a", "SET s v", "SMOVE b s 1", "SMOVE s b 1", "SMOVE nokey b 1", "SADD c x",
     "SMOVE b c 1", "OBJECT ENCODING c"},
    {"CONFIG SET set-max-intset-entries 2", "SADD s 1 2", "OBJECT ENCODING s", "SADD s 3",
     "OBJECT ENCODING s", "SREM s 1 2", "OBJECT ENCODING s", "SADD t 9223372036854775807",
     "OBJECT ENCODING t", "SADD u 9223372036854775808", "OBJECT ENCODING u", "SADD v 007",
     "OBJECT ENCODING v", "SSCAN s 0"},
    {"SADD s a b c", "SSCAN s 0 COUNT 1", "SSCAN s 0 MATCH a", "SSCAN s abc", "SSCAN s 0 COUNT 0",
     "SSCAN nokey 0", "SSCAN s", "SSCAN s 0 FOO", "SADD n -1 0 1", "SINTERSTORE d n",
     "OBJECT ENCODING d", "SUNIONSTORE d s n", "OBJECT ENCODING d", "SCARD d"},
};

static const char *const directed_zsets[][DW] = {
    {"ZADD z 1 a 2 b 3 c", "ZADD z NX 5 a 4 d", "ZADD z XX 6 a 7 e", "ZADD z GT 1 a",
     "ZADD z LT 1 a", "ZADD z CH 1 a 9 b", "ZADD z INCR 2 a", "ZADD z INCR 2 a 3 b",
     "ZADD z NX XX 1 a", "ZADD z GT LT 1 a", "ZADD z GT NX 1 a", "ZADD z nan a", "ZADD z 1",
     "ZRANGE z 0 -1 WITHSCORES"},
    {"ZADD z inf a -inf b", "ZINCRBY z -inf a", "ZADD z INCR inf b", "ZSCORE z a", "ZSCORE z nope",
     "ZMSCORE z a b nope", "ZMSCORE nokey a", "ZINCRBY z 0.1 c", "ZINCRBY z 0.2 c",
     "ZADD z 1e400 x", "ZADD z 0x10 x", "ZSCORE z x", "ZADD z XX INCR 1 nope",
     "ZADD z NX INCR 1 a"},
    {"ZADD z 1 a 2 b 3 c 4 d", "ZCOUNT z -inf +inf", "ZCOUNT z (1 3", "ZCOUNT z 3 1",
     "ZCOUNT z abc 1", "ZCOUNT z ( 1", "ZRANK z c", "ZREVRANK z c", "ZRANK z nope", "ZRANK nokey a",
     "ZRANGEBYSCORE z (1 +inf WITHSCORES LIMIT 1 1", "ZREVRANGEBYSCORE z +inf -inf LIMIT 0 -1",
     "ZRANGEBYSCORE z 1 2 LIMIT 0", "ZRANGEBYSCORE z 1 2 FOO"},
    {"ZADD z 1 a 2 b 3 c 4 d", "ZRANGE z 0 -1 REV WITHSCORES", "ZRANGE z (1 3 BYSCORE",
     "ZRANGE z 3 (1 BYSCORE REV LIMIT 0 2", "ZRANGE z 0 1 LIMIT 0 1", "ZRANGE z 0 -1 BYLEX",
     "ZRANGE z [a [c BYSCORE", "ZRANGESTORE d z 1 2", "ZRANGE d 0 -1 WITHSCORES",
     "ZRANGESTORE d z 5 10", "EXISTS d", "ZRANGESTORE d z 0 -1 WITHSCORES",
     "ZREVRANGE z 0 1 WITHSCORES", "ZRANGE z 0 -1 WITHSCORES BYSCORE REV"},
    {"ZADD l 0 a 0 b 0 c 0 d", "ZRANGEBYLEX l - +", "ZRANGEBYLEX l [b (d", "ZREVRANGEBYLEX l + -",
     "ZRANGEBYLEX l a c", "ZRANGEBYLEX l [a [c LIMIT 1 1", "ZLEXCOUNT l - +", "ZLEXCOUNT l (a [c",
     "ZLEXCOUNT l [c [a", "ZREMRANGEBYLEX l [a (c", "ZRANGE l 0 -1", "ZRANGE l + - BYLEX REV",
     "ZLEXCOUNT l \"\" +", "ZREMRANGEBYLEX nokey - +"},
    {"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYRANK z -1 -1",
     "ZREMRANGEBYSCORE z (2 3", "ZRANGE z 0 -1", "ZREMRANGEBYRANK z a 1", "ZREMRANGEBYSCORE z x 1",
     "ZPOPMIN z", "ZPOPMAX z 5", "EXISTS z", "ZPOPMIN nokey", "ZPOPMIN nokey 2", "ZPOPMIN z -1",
     "ZPOPMAX z abc"},
    /* -0: a skiplist keeps the sign, a listpack stores 0 */
    {"ZADD z 0 a", "ZUNIONSTORE d 1 z WEIGHTS -2", "ZSCORE d a",
     "CONFIG SET zset-max-listpack-entries 0", "ZUNIONSTORE e 1 z WEIGHTS -2", "ZSCORE e a",
     "ZRANGESTORE f e 0 -1", "ZSCORE f a", "CONFIG SET zset-max-listpack-entries 128",
     "ZRANGESTORE g e 0 -1", "ZSCORE g a", "ZADD h -0 a", "ZSCORE h a", "BZMPOP 0.01 1 f MAX"},
    /* ZRANGESTORE: a rank range longer than the limit is a skiplist from the
     * start (its -0 stay -0); BYSCORE/BYLEX ranges start as a listpack */
    {"CONFIG SET zset-max-listpack-entries 0", "ZADD z 0 a 0 b 1 x 2 y 3 w",
     "ZUNIONSTORE s 1 z WEIGHTS -1", "ZRANGE s 0 -1 WITHSCORES",
     "CONFIG SET zset-max-listpack-entries 2", "ZRANGESTORE d1 s 0 -1 REV",
     "ZRANGE d1 0 -1 WITHSCORES", "ZRANGESTORE d2 s +inf -inf BYSCORE REV",
     "ZRANGE d2 0 -1 WITHSCORES", "ZRANGESTORE d3 s 0 1 REV", "ZRANGE d3 0 -1 WITHSCORES",
     "ZRANGESTORE d4 s 0 2 REV", "ZRANGE d4 0 -1 WITHSCORES",
     "ZRANGESTORE d5 s + - BYLEX LIMIT 0 9"},
    /* count 0: the key's type is still checked */
    {"ZPOPMIN nokey 0", "SADD s c", "ZPOPMAX s 0", "ZPOPMIN s 0", "ZADD z 1 a", "ZPOPMAX z 0",
     "ZCARD z"},
    {"ZADD a 1 x 2 y", "ZADD b 3 y 4 z", "ZMPOP 2 nokey a MIN", "ZMPOP 1 b MAX COUNT 5",
     "ZMPOP 0 a MIN", "ZMPOP 1 a LEFT", "ZMPOP 1 a MIN COUNT 0", "BZPOPMIN nokey a 0",
     "BZPOPMAX a 0.01", "BZMPOP 0.01 1 a MIN", "BZPOPMIN nokey 0.01", "BZMPOP 0.01 1 nokey MAX",
     "BZPOPMIN a -1", "BZMPOP abc 1 a MIN"},
    {"ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "ZUNION 2 a b WITHSCORES",
     "ZINTER 2 a b WITHSCORES", "ZDIFF 2 a b WITHSCORES", "ZUNION 2 a b WEIGHTS 2 -1",
     "ZINTER 2 a b AGGREGATE MAX WITHSCORES", "ZUNION 2 a b AGGREGATE MIN WEIGHTS 1 inf",
     "ZUNION 2 a b WEIGHTS 1", "ZUNION 0 a", "ZUNION 2 a", "ZDIFF 2 a b WEIGHTS 1 1",
     "ZUNION 2 a b AGGREGATE AVG", "ZINTER 2 a b WEIGHTS inf -inf WITHSCORES"},
    {"ZADD a 1 x 2 y", "SADD s y z", "ZUNIONSTORE d 2 a s", "ZRANGE d 0 -1 WITHSCORES",
     "ZINTERSTORE d 2 a s WEIGHTS 3 4", "ZRANGE d 0 -1 WITHSCORES", "ZDIFFSTORE d 2 a s",
     "ZRANGE d 0 -1 WITHSCORES", "ZINTERCARD 2 a s", "ZINTERCARD 2 a s LIMIT 1", "ZINTERCARD 0 a",
     "SET str v", "ZUNION 2 a str", "ZINTERSTORE d 1 nokey"},
    {"ZADD z 1 a 2 b 3 c", "ZRANDMEMBER z 0", "ZRANDMEMBER z 3 WITHSCORES", "ZRANDMEMBER nokey",
     "ZRANDMEMBER nokey 2", "ZRANDMEMBER z abc", "ZRANDMEMBER z 1 FOO", "ZSCAN z 0",
     "ZSCAN z 0 MATCH a", "ZSCAN z x", "CONFIG SET zset-max-listpack-entries 2", "ZADD y 1 a 2 b",
     "OBJECT ENCODING y", "ZADD y 3 c"},
    {"ZADD z 1 a", "OBJECT ENCODING z",
     "ZADD z 2 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "OBJECT ENCODING z",
     "ZREM z aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "OBJECT ENCODING z", "ZUNIONSTORE d 1 z", "OBJECT ENCODING d", "ZRANGESTORE e z 0 -1",
     "OBJECT ENCODING e", "CONFIG SET zset-max-listpack-entries 0", "ZADD w 1 a",
     "OBJECT ENCODING w", "ZRANGE w 0 -1 WITHSCORES"},
};

static const struct {
    const char *name;
    const char *creator; /* the generator whose skip leaves the group out */
    const char *const *cases;
    size_t ncases;
} directed_groups[] = {
    {"lists", "RPUSH", &directed_lists[0][0], sizeof directed_lists / sizeof directed_lists[0]},
    {"hashes", "HSET", &directed_hashes[0][0], sizeof directed_hashes / sizeof directed_hashes[0]},
    {"sets", "SADD", &directed_sets[0][0], sizeof directed_sets / sizeof directed_sets[0]},
    {"zsets", "ZADD", &directed_zsets[0][0], sizeof directed_zsets / sizeof directed_zsets[0]},
};

static void directed_kind(tc_cmd *c)
{
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"SMEMBERS", CK_ENCORDER}, {"HGETALL", CK_ENCORDER}, {"HKEYS", CK_ENCORDER},
                 {"HVALS", CK_ENCORDER},    {"SRANDMEMBER", CK_RAND}, {"HRANDFIELD", CK_RAND},
                 {"ZRANDMEMBER", CK_RAND},  {"SPOP", CK_SPOP},        {"SSCAN", CK_SCAN1},
                 {"HSCAN", CK_SCAN2},       {"ZSCAN", CK_SCAN2},      {"SINTER", CK_UNORDERED},
                 {"SUNION", CK_UNORDERED},  {"SDIFF", CK_UNORDERED},  {"KEYS", CK_UNORDERED},
                 {"CONFIG", CK_UNORDERED}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (c->argc && !strcasecmp(c->argv[0], kinds[i].name))
            c->kind = kinds[i].kind;
    /* A scan whose cursor is not "0" is an error case: compared exactly. */
    if ((c->kind == CK_SCAN1 || c->kind == CK_SCAN2) && (c->argc < 3 || strcmp(c->argv[2], "0")))
        c->kind = CK_PLAIN;
}

static int skipped_by_default(const char *gen_name)
{
    const char *skip = getenv("EMBER_DIFF_SKIP");
    if (!skip)
        skip = default_skip;
    size_t n = strlen(gen_name);
    for (const char *p = skip; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncasecmp(p, gen_name, n))
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static void test_diff_directed(void **state)
{
    (void)state;
    int failed = 0;
    set_exact = 1;
    for (size_t i = 0; i < sizeof directed_groups / sizeof directed_groups[0]; i++) {
        if (skipped_by_default(directed_groups[i].creator)) {
            fprintf(stderr, "directed: %s left out (%s is skipped)\n", directed_groups[i].name,
                    directed_groups[i].creator);
            continue;
        }
        int f = tc_run_directed(&R, directed_groups[i].cases, directed_groups[i].ncases, DW,
                                directed_kind);
        if (f)
            fprintf(stderr, "directed: %s: %d failing case(s)\n", directed_groups[i].name, f);
        failed += f;
    }
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------------ streams */

static void run_group(int group, const char *title, int seeds, unsigned long long salt)
{
    const char *only = getenv("EMBER_DIFF_ONLY");
    if (only && *only && !strstr(title, only)) {
        skip();
        return;
    }
    for (size_t i = 0; i < NGENS; i++)
        gen_names[i] = gens[i].name;
    stream_state *st = tc_xmalloc(sizeof *st);
    memset(st, 0, sizeof *st);
    st->group = group;
    /* the weights are set per seed, but the never-ran check needs them now */
    for (size_t i = 0; i < NGENS; i++)
        gen_weights[i] = (gens[i].group & group) ? gens[i].weight : 0;
    tc_stream s = {title,      &gen_table, st,   seed_begin, stream_next,
                   final_dump, seeds,      2500, salt,       default_skip};
    size_t nfails = tc_run_stream(&R, &s);
    free(st);
    assert_int_equal(nfails, 0);
}

static void test_diff_lists(void **state)
{
    (void)state;
    run_group(G_LIST | G_KEYS, "lists", 8, 0x11);
}

static void test_diff_hashes(void **state)
{
    (void)state;
    run_group(G_HASH | G_KEYS, "hashes", 8, 0x22);
}

static void test_diff_sets(void **state)
{
    (void)state;
    run_group(G_SET | G_KEYS, "sets", 8, 0x33);
}

static void test_diff_zsets(void **state)
{
    (void)state;
    run_group(G_ZSET | G_KEYS, "zsets", 8, 0x44);
}

static void test_diff_mixed(void **state)
{
    (void)state;
    run_group(G_ALL, "mixed", 10, 0x55);
}

static int group_setup(void **state)
{
    (void)state;
    return tc_runner_open(&R, "test_diff_collections", NULL, &hooks);
}

static int group_teardown(void **state)
{
    (void)state;
    tc_runner_close(&R);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_directed), cmocka_unit_test(test_diff_lists),
        cmocka_unit_test(test_diff_hashes),   cmocka_unit_test(test_diff_sets),
        cmocka_unit_test(test_diff_zsets),    cmocka_unit_test(test_diff_mixed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
