/*
 * test_sets.c — the set commands and their typed wrappers, through the public
 * header only. Expected replies, error texts and OBJECT ENCODING results are
 * those redis-server 7.0.15 gave for the same commands (with
 * set-max-listpack-entries 0, where ember's listpack is off); the listpack
 * steps follow Redis 7.2's rules. SET replies are compared with their
 * members sorted (their order is unspecified).
 *
 * Every test runs twice: in executor mode and in inline mode.
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

static int g_mode;

static ember_db *open_db(int mode, const char *lp_entries)
{
    ember_config *cfg;
    ember_db *db;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, mode), EMBER_OK);
    assert_int_equal(ember_config_set_hash_seed(cfg, 42), EMBER_OK);
    if (lp_entries)
        assert_int_equal(ember_config_set(cfg, "set-max-listpack-entries", lp_entries), EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static int setup(void **state)
{
    *state = open_db(g_mode, NULL);
    return 0;
}

/* As Redis 7.0: no listpack. */
static int setup70(void **state)
{
    *state = open_db(g_mode, "0");
    return 0;
}

static int teardown(void **state)
{
    return ember_db_close(*state) == EMBER_OK ? 0 : -1;
}

/* ------------------------------------------------------------ reply checks */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line: +status -error :int $bulk (nil) *[a|b] and ~[a|b] for SETs
 * with the members sorted. Returns a malloc'd string. */
static char *fmt(const ember_reply *r)
{
    char *out = NULL;
    size_t ol = 0, len;
    FILE *f = open_memstream(&out, &ol);
    const char *s;
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_NIL:
        fputs("(nil)", f);
        break;
    case EMBER_REPLY_STATUS:
    case EMBER_REPLY_ERROR:
    case EMBER_REPLY_STRING:
        s = ember_reply_str(r, &len);
        fputc(ember_reply_type(r) == EMBER_REPLY_STATUS  ? '+'
              : ember_reply_type(r) == EMBER_REPLY_ERROR ? '-'
                                                         : '$',
              f);
        fwrite(s, 1, len, f);
        break;
    case EMBER_REPLY_INTEGER:
        fprintf(f, ":%lld", (long long)ember_reply_integer(r));
        break;
    case EMBER_REPLY_ARRAY:
    case EMBER_REPLY_MAP: /* flattened, like arrays */
    case EMBER_REPLY_SET: {
        size_t n = ember_reply_len(r);
        char **v = calloc(n + 1, sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = fmt(ember_reply_element(r, i));
        int set = ember_reply_type(r) == EMBER_REPLY_SET;
        if (set)
            qsort(v, n, sizeof *v, cmp_str);
        fputs(set ? "~[" : ember_reply_type(r) == EMBER_REPLY_MAP ? "%[" : "*[", f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%s%s", i ? "|" : "", v[i]);
            free(v[i]);
        }
        fputc(']', f);
        free(v);
        break;
    }
    default:
        fprintf(f, "?%d", ember_reply_type(r));
    }
    fclose(f);
    return out;
}

/* Runs a space-separated command line ("" is the empty word). */
static char *run(ember_db *db, const char *line)
{
    char store[4096];
    const char *argv[600];
    size_t argc = 0;
    assert_true(strlen(line) < sizeof store);
    strcpy(store, line);
    for (char *t = strtok(store, " "); t; t = strtok(NULL, " ")) {
        assert_true(argc < 600);
        argv[argc++] = strcmp(t, "\"\"") ? t : "";
    }
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    char *s = fmt(r);
    ember_reply_free(r);
    return s;
}

typedef struct step {
    const char *cmd, *want;
} step;

static void script(ember_db *db, const step *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = run(db, s[i].cmd);
        if (strcmp(got, s[i].want) != 0)
            print_error("step %zu: %s\n", i, s[i].cmd);
        assert_string_equal(got, s[i].want);
        free(got);
    }
}
#define SCRIPT(db, ...)                                                                            \
    do {                                                                                           \
        static const step steps_[] = {__VA_ARGS__};                                                \
        script(db, steps_, sizeof steps_ / sizeof steps_[0]);                                      \
    } while (0)

#define WT "-WRONGTYPE Operation against a key holding the wrong kind of value"

static void expect(ember_db *db, const char *cmd, const char *want)
{
    char *got = run(db, cmd);
    if (strcmp(got, want) != 0)
        print_error("%s\n", cmd);
    assert_string_equal(got, want);
    free(got);
}

/* SADD key prefix<from> ... prefix<to - 1>, argv built directly. */
static void sadd_range(ember_db *db, const char *key, const char *prefix, int from, int to)
{
    size_t n = (size_t)(to - from) + 2;
    const char **argv = calloc(n, sizeof *argv);
    char *buf = calloc(n, 32);
    argv[0] = "SADD";
    argv[1] = key;
    for (int i = from; i < to; i++) {
        char *m = buf + 32 * (size_t)(i - from);
        snprintf(m, 32, "%s%d", prefix, i);
        argv[2 + i - from] = m;
    }
    ember_reply *r;
    assert_int_equal(ember_command(db, n, argv, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_INTEGER);
    ember_reply_free(r);
    free(buf);
    free(argv);
}

/* ------------------------------------------------------------ commands */

static void test_basic(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SADD s a b c a", ":3"}, {"SADD s c d", ":1"}, {"SCARD s", ":4"},
           {"SCARD nokey", ":0"}, {"SISMEMBER s a", ":1"}, {"SISMEMBER s z", ":0"},
           {"SISMEMBER nokey a", ":0"}, {"SMISMEMBER s a z d", "*[:1|:0|:1]"},
           {"SMISMEMBER nokey a", "*[:0]"}, {"SMEMBERS s", "~[$a|$b|$c|$d]"},
           {"SMEMBERS nokey", "~[]"}, {"SREM s a z", ":1"}, {"SREM nokey a", ":0"},
           {"SREM s b c d", ":3"}, {"EXISTS s", ":0"}, {"SADD e \"\"", ":1"},
           {"SISMEMBER e \"\"", ":1"},
           {"SADD", "-ERR wrong number of arguments for 'sadd' command"},
           {"SADD s", "-ERR wrong number of arguments for 'sadd' command"},
           {"SISMEMBER s", "-ERR wrong number of arguments for 'sismember' command"},
           {"TYPE e", "+set"});
}

static void test_wrongtype(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SET str x", "+OK"}, {"SADD s a 1", ":2"}, {"SADD str a", WT}, {"SREM str a", WT},
           {"SCARD str", WT}, {"SISMEMBER str a", WT}, {"SMISMEMBER str a", WT},
           {"SMEMBERS str", WT}, {"SPOP str", WT}, {"SPOP str 0", WT}, {"SRANDMEMBER str", WT},
           {"SRANDMEMBER str 1", WT}, {"SSCAN str 0", WT}, {"SSCAN str 0 COUNT 0", WT},
           /* argument errors come before the type check */
           {"SRANDMEMBER str abc", "-ERR value is not an integer or out of range"},
           {"SPOP str abc", "-ERR value is out of range, must be positive"},
           {"SSCAN str x", "-ERR invalid cursor"},
           /* multi-key: every key is checked, even after a missing one */
           {"SINTER nokey str", WT}, {"SINTER str nokey", WT}, {"SUNION nokey str", WT},
           {"SDIFF nokey str", WT}, {"SDIFF str nokey", WT}, {"SINTERSTORE d nokey str", WT},
           {"SUNIONSTORE d s str", WT}, {"SDIFFSTORE d s str", WT}, {"SINTERCARD 2 nokey str", WT},
           /* SMOVE: a missing source answers 0 before any type check */
           {"SMOVE nokey str a", ":0"}, {"SMOVE str s a", WT}, {"SMOVE s str a", WT},
           {"SMOVE s str zz", WT}, {"SMOVE str str a", WT}, {"SISMEMBER s a", ":1"});
}

static void test_spop_srandmember(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SPOP nokey", "(nil)"}, {"SPOP nokey 2", "~[]"}, {"SRANDMEMBER nokey", "(nil)"},
           {"SRANDMEMBER nokey 3", "*[]"}, {"SRANDMEMBER nokey 0", "*[]"},
           {"SPOP nokey abc", "-ERR value is out of range, must be positive"},
           {"SPOP nokey -1", "-ERR value is out of range, must be positive"},
           {"SADD i 1 2 3", ":3"}, {"SPOP i 0", "~[]"}, {"SRANDMEMBER i 0", "*[]"},
           {"SRANDMEMBER i 5", "*[$1|$2|$3]"},
           {"SRANDMEMBER i -9223372036854775808",
            "-ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807"},
           {"SRANDMEMBER i 9223372036854775808", "-ERR value is not an integer or out of range"},
           {"SPOP i 1 2", "-ERR syntax error"}, {"SRANDMEMBER i 1 2", "-ERR syntax error"},
           {"SPOP i 5", "~[$1|$2|$3]"}, {"EXISTS i", ":0"}, {"SADD one x", ":1"},
           {"SPOP one", "$x"}, {"EXISTS one", ":0"});
    /* Counts against sizes, every strategy, every encoding. */
    static const char *const prefixes[] = {"", "m"};
    for (int enc = 0; enc < 3; enc++) {
        for (int count = 1; count <= 60; count += 7) {
            free(run(db, "DEL k"));
            sadd_range(db, "k", prefixes[enc > 0], 0, enc == 2 ? 200 : 50);
            int size = enc == 2 ? 200 : 50;
            char line[64];
            snprintf(line, sizeof line, "SRANDMEMBER k %d", count);
            ember_reply *r;
            const char *argv[3] = {"SRANDMEMBER", "k", line + 14};
            assert_int_equal(ember_command(db, 3, argv, NULL, &r), EMBER_OK);
            assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
            size_t want = (size_t)(count < size ? count : size);
            assert_int_equal(ember_reply_len(r), want);
            char *all = fmt(r); /* distinct: sorting then checking neighbours */
            ember_reply_free(r);
            free(all);
            argv[0] = "SPOP";
            assert_int_equal(ember_command(db, 3, argv, NULL, &r), EMBER_OK);
            assert_int_equal(ember_reply_type(r), EMBER_REPLY_SET);
            assert_int_equal(ember_reply_len(r), want);
            for (size_t i = 0; i < ember_reply_len(r); i++) {
                char cmd[80];
                snprintf(cmd, sizeof cmd, "SISMEMBER k %s",
                         ember_reply_str(ember_reply_element(r, i), NULL));
                expect(db, cmd, ":0"); /* popped */
            }
            ember_reply_free(r);
            int64_t left;
            assert_int_equal(ember_scard(db, "k", 1, &left), EMBER_OK);
            assert_int_equal(left, size - (int)want);
        }
    }
}

/* Every member is drawn: SRANDMEMBER -n and SPOP are not stuck on a subset,
 * and the counts stay within a loose band around uniform. */
static void test_random_distribution(void **state)
{
    ember_db *db = *state;
    for (int enc = 0; enc < 3; enc++) {
        free(run(db, "DEL d"));
        int size = enc == 2 ? 200 : 20;
        sadd_range(db, "d", enc ? "m" : "", 0, size);
        int hits[200] = {0};
        const char *argv[3] = {"SRANDMEMBER", "d", "-20000"};
        ember_reply *r;
        assert_int_equal(ember_command(db, 3, argv, NULL, &r), EMBER_OK);
        assert_int_equal(ember_reply_len(r), 20000);
        for (size_t i = 0; i < 20000; i++) {
            const char *s = ember_reply_str(ember_reply_element(r, i), NULL);
            int v = atoi(enc ? s + 1 : s);
            assert_true(v >= 0 && v < size);
            hits[v]++;
        }
        ember_reply_free(r);
        int expected = 20000 / size;
        /* A hashtable draws a bucket, then a member of its chain (as Redis):
         * members sharing a bucket are drawn less often, so only check that
         * each is drawn there. */
        for (int i = 0; i < size; i++) {
            assert_true(hits[i] > (enc == 2 ? 0 : expected / 3));
            assert_true(hits[i] < expected * 4);
        }
        /* SPOP one by one empties the set and returns every member once. */
        int seen[200] = {0};
        for (int i = 0; i < size; i++) {
            void *m;
            size_t ml;
            assert_int_equal(ember_spop(db, "d", 1, &m, &ml), EMBER_OK);
            int v = atoi(enc ? (char *)m + 1 : m);
            assert_int_equal(seen[v]++, 0);
            ember_free(m);
        }
        void *m;
        assert_int_equal(ember_spop(db, "d", 1, &m, NULL), EMBER_ENOTFOUND);
    }
}

static void test_smove(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SADD s a b 1", ":3"}, {"SADD i 1 2 3", ":3"}, {"SMOVE s s a", ":1"},
           {"SMOVE s s zz", ":0"}, {"SMOVE nokey nokey a", ":0"}, {"SMOVE s d zz", ":0"},
           {"EXISTS d", ":0"}, {"SMOVE i newdst 1", ":1"}, {"OBJECT ENCODING newdst", "$intset"},
           {"SMOVE s i b", ":1"}, {"SMEMBERS i", "~[$2|$3|$b]"}, {"SMOVE s new2 a", ":1"},
           {"SMEMBERS s", "~[$1]"}, {"SMOVE s new2 1", ":1"}, {"EXISTS s", ":0"},
           {"SMEMBERS new2", "~[$1|$a]"});
}

static void test_algebra(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SADD a 1 2 3 x", ":4"}, {"SADD b 2 3 4 y x", ":5"}, {"SADD c 3 x z", ":3"},
           {"SINTER a b c", "~[$3|$x]"}, {"SINTER a", "~[$1|$2|$3|$x]"}, {"SINTER a nokey", "~[]"},
           {"SINTER a a", "~[$1|$2|$3|$x]"}, {"SUNION a b", "~[$1|$2|$3|$4|$x|$y]"},
           {"SUNION nokey", "~[]"}, {"SUNION nokey a", "~[$1|$2|$3|$x]"}, {"SDIFF a b", "~[$1]"},
           {"SDIFF a b c", "~[$1]"}, {"SDIFF b a", "~[$4|$y]"}, {"SDIFF a nokey", "~[$1|$2|$3|$x]"},
           {"SDIFF nokey a", "~[]"}, {"SDIFF a a", "~[]"}, {"SINTERCARD 3 a b c", ":2"},
           {"SINTERCARD 2 a b LIMIT 1", ":1"}, {"SINTERCARD 2 a b LIMIT 0", ":3"},
           {"SINTERCARD 1 a limit 1 limit 2", ":2"}, {"SINTERCARD 2 a nokey", ":0"},
           {"SINTERCARD 0 a", "-ERR numkeys should be greater than 0"},
           {"SINTERCARD -1 a", "-ERR numkeys should be greater than 0"},
           {"SINTERCARD x a", "-ERR numkeys should be greater than 0"},
           {"SINTERCARD 3 a b", "-ERR Number of keys can't be greater than number of args"},
           {"SINTERCARD 1 a LIMIT -1", "-ERR LIMIT can't be negative"},
           {"SINTERCARD 1 a LIMIT x", "-ERR LIMIT can't be negative"},
           {"SINTERCARD 1 a foo", "-ERR syntax error"},
           {"SINTERCARD 1 a LIMIT", "-ERR syntax error"},
           {"SINTERCARD 1", "-ERR wrong number of arguments for 'sintercard' command"});
}

static void test_stores(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SADD s a b 1", ":3"}, {"SADD i 1 2 3", ":3"}, {"SET d x", "+OK"},
           {"EXPIRE d 100", ":1"}, {"SINTERSTORE d s nokey", ":0"}, {"EXISTS d", ":0"},
           {"SET d x", "+OK"}, {"SINTERSTORE d i s", ":1"}, {"TYPE d", "+set"},
           {"OBJECT ENCODING d", "$intset"}, {"SUNIONSTORE d i i", ":3"},
           {"OBJECT ENCODING d", "$intset"}, {"SDIFFSTORE d i s", ":2"}, {"SMEMBERS d", "~[$2|$3]"},
           {"OBJECT ENCODING d", "$intset"}, {"SDIFFSTORE d nokey", ":0"}, {"EXISTS d", ":0"},
           {"SUNIONSTORE d i s", ":5"}, {"TTL d", ":-1"}, {"SINTERSTORE i i s", ":1"},
           {"SMEMBERS i", "~[$1]"}, {"SUNIONSTORE d2 nokey", ":0"}, {"EXISTS d2", ":0"});
}

static void test_sscan(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SSCAN nokey 0", "*[$0|*[]]"}, {"SSCAN nokey 0 COUNT 0", "*[$0|*[]]"},
           {"SADD i 1 2 3 11", ":4"}, {"SSCAN i 0", "*[$0|*[$1|$2|$3|$11]]"},
           {"SSCAN i 7 MATCH 1*", "*[$0|*[$1|$11]]"}, {"SSCAN i 0 COUNT 0", "-ERR syntax error"},
           {"SSCAN i 0 COUNT -1", "-ERR syntax error"},
           {"SSCAN i 0 COUNT abc", "-ERR value is not an integer or out of range"},
           {"SSCAN i 0 MATCH", "-ERR syntax error"}, {"SSCAN i 0 TYPE string", "-ERR syntax error"},
           {"SSCAN i abc", "-ERR invalid cursor"});
    /* A hashtable: iterate with the wrapper until the cursor comes back. */
    sadd_range(db, "big", "m", 0, 1000);
    expect(db, "OBJECT ENCODING big", "$hashtable");
    char seen[1000] = {0};
    uint64_t cursor = 0;
    int calls = 0;
    do {
        ember_reply *r;
        assert_int_equal(ember_sscan(db, "big", 3, cursor, NULL, 0, 50, &cursor, &r), EMBER_OK);
        assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
        for (size_t i = 0; i < ember_reply_len(r); i++)
            seen[atoi(ember_reply_str(ember_reply_element(r, i), NULL) + 1)] = 1;
        ember_reply_free(r);
        calls++;
    } while (cursor != 0);
    assert_true(calls > 5);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    ember_reply *r;
    assert_int_equal(ember_sscan(db, "big", 3, 0, "m99*", 4, 10000, &cursor, &r), EMBER_OK);
    assert_int_equal(cursor, 0);
    assert_int_equal(ember_reply_len(r), 11); /* m99, m990..m999 */
    ember_reply_free(r);
    assert_int_equal(ember_sscan(db, "i", 1, 0, NULL, 0, 0, &cursor, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 4);
    ember_reply_free(r);
    free(run(db, "SET str x"));
    assert_int_equal(ember_sscan(db, "str", 3, 0, NULL, 0, 0, &cursor, &r), EMBER_EWRONGTYPE);
}

/* Redis 7.0's encodings (set-max-listpack-entries 0). */
static void test_encodings_70(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SADD x 1 2 3", ":3"}, {"OBJECT ENCODING x", "$intset"}, {"SADD x a", ":1"},
           {"OBJECT ENCODING x", "$hashtable"}, {"SREM x a 1 2", ":3"},
           {"OBJECT ENCODING x", "$hashtable"}, {"SADD y a", ":1"},
           {"OBJECT ENCODING y", "$hashtable"},
           {"SADD z 9223372036854775807 -9223372036854775808", ":2"},
           {"OBJECT ENCODING z", "$intset"}, {"SADD w 01", ":1"},
           {"OBJECT ENCODING w", "$hashtable"}, {"SADD v -0", ":1"},
           {"OBJECT ENCODING v", "$hashtable"});
    /* 512 integers stay an intset; the 513th converts. */
    sadd_range(db, "n", "", 0, 512);
    expect(db, "OBJECT ENCODING n", "$intset");
    expect(db, "SADD n 511", ":0");
    expect(db, "OBJECT ENCODING n", "$intset");
    expect(db, "SADD n 512", ":1");
    expect(db, "OBJECT ENCODING n", "$hashtable");
    expect(db, "SCARD n", ":513");
    /* CONFIG SET: the next add that crosses the new threshold converts. */
    expect(db, "CONFIG SET set-max-intset-entries 4", "+OK");
    expect(db, "SADD q 1 2 3 4", ":4");
    expect(db, "OBJECT ENCODING q", "$intset");
    expect(db, "SADD q 5", ":1");
    expect(db, "OBJECT ENCODING q", "$hashtable");
    expect(db, "CONFIG SET set-max-intset-entries 512", "+OK");
    /* Stores build fresh: an integer result is an intset again. */
    expect(db, "SINTERSTORE r x x", ":1");
    expect(db, "OBJECT ENCODING r", "$intset");
    expect(db, "CONFIG GET set-max-listpack-entries", "%[$set-max-listpack-entries|$0]");
}

/* ember's listpack (Redis 7.2's rules), default thresholds 128 / 64. */
static void test_encodings_listpack(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"CONFIG GET set-max-listpack-entries", "%[$set-max-listpack-entries|$128]"},
           {"CONFIG GET set-max-listpack-value", "%[$set-max-listpack-value|$64]"},
           {"SADD x 1 2 3", ":3"}, {"OBJECT ENCODING x", "$intset"}, {"SADD x a", ":1"},
           {"OBJECT ENCODING x", "$listpack"}, {"SISMEMBER x 2", ":1"}, {"SISMEMBER x a", ":1"},
           {"SREM x 2", ":1"}, {"SMEMBERS x", "~[$1|$3|$a]"}, {"SADD y a", ":1"},
           {"OBJECT ENCODING y", "$listpack"}, {"SADD y 5", ":1"}, {"SISMEMBER y 5", ":1"},
           {"SISMEMBER y 05", ":0"}, {"SADD y 05", ":1"}, {"SCARD y", ":3"});
    /* A long member goes straight to a hashtable. */
    char line[200];
    snprintf(line, sizeof line, "SADD long %065d", 7);
    expect(db, line, ":1");
    expect(db, "OBJECT ENCODING long", "$hashtable");
    snprintf(line, sizeof line, "SADD l64 %064d", 7); /* 64 bytes: still fits */
    expect(db, line, ":1");
    expect(db, "OBJECT ENCODING l64", "$listpack");
    snprintf(line, sizeof line, "SADD y %065d", 7);
    expect(db, line, ":1");
    expect(db, "OBJECT ENCODING y", "$hashtable");
    /* 128 members stay a listpack; the 129th converts. */
    sadd_range(db, "m", "m", 0, 128);
    expect(db, "OBJECT ENCODING m", "$listpack");
    expect(db, "SADD m m0", ":0");
    expect(db, "SADD m m128", ":1");
    expect(db, "OBJECT ENCODING m", "$hashtable");
    /* An intset longer than the listpack limit goes to a hashtable. */
    sadd_range(db, "big", "", 0, 200);
    expect(db, "OBJECT ENCODING big", "$intset");
    expect(db, "SADD big a", ":1");
    expect(db, "OBJECT ENCODING big", "$hashtable");
    /* Stores pick the smallest encoding. */
    expect(db, "SUNIONSTORE u x", ":3");
    expect(db, "OBJECT ENCODING u", "$listpack");
    expect(db, "SDIFFSTORE u x x", ":0");
    expect(db, "SINTERSTORE u m big", ":0");
    expect(db, "SDIFFSTORE u big m", ":201");
    expect(db, "OBJECT ENCODING u", "$hashtable");
    expect(db, "SREM u a", ":1");
    expect(db, "SUNIONSTORE u u", ":200");
    expect(db, "OBJECT ENCODING u", "$intset");
    /* CONFIG SET of the thresholds. */
    expect(db, "CONFIG SET set-max-listpack-entries 2", "+OK");
    expect(db, "SADD t a b", ":2");
    expect(db, "OBJECT ENCODING t", "$listpack");
    expect(db, "SADD t c", ":1");
    expect(db, "OBJECT ENCODING t", "$hashtable");
    expect(db, "CONFIG SET set-max-listpack-value 3", "+OK");
    expect(db, "CONFIG SET set-max-listpack-entries 128", "+OK");
    expect(db, "SADD t2 abcd", ":1");
    expect(db, "OBJECT ENCODING t2", "$hashtable");
    expect(db, "SADD t3 abc", ":1");
    expect(db, "OBJECT ENCODING t3", "$listpack");
    /* an intset whose widest member is longer than the value limit */
    expect(db, "SADD t4 12345", ":1");
    expect(db, "SADD t4 a", ":1");
    expect(db, "OBJECT ENCODING t4", "$hashtable");
    expect(db, "CONFIG SET set-max-listpack-value abc",
           "-ERR CONFIG SET failed (possibly related to argument 'set-max-listpack-value') - "
           "argument couldn't be parsed into an integer");
}

/* COPY, RENAME, DEL, MOVE keep every encoding intact. */
static void test_keys_commands(void **state)
{
    ember_db *db = *state;
    sadd_range(db, "h", "m", 0, 300);
    SCRIPT(db, {"SADD i 1 2 3", ":3"}, {"SADD l a b", ":2"}, {"COPY i i2", ":1"},
           {"COPY l l2", ":1"}, {"COPY h h2", ":1"}, {"OBJECT ENCODING i2", "$intset"},
           {"OBJECT ENCODING l2", "$listpack"}, {"OBJECT ENCODING h2", "$hashtable"},
           {"SADD i2 4", ":1"}, {"SCARD i", ":3"}, {"SREM h2 m0", ":1"}, {"SCARD h", ":300"},
           {"SCARD h2", ":299"}, {"SMEMBERS l2", "~[$a|$b]"}, {"RENAME h2 h3", "+OK"},
           {"SISMEMBER h3 m299", ":1"}, {"RENAME l l3", "+OK"}, {"SMEMBERS l3", "~[$a|$b]"},
           {"DEL h h3 i i2 l2 l3", ":6"}, {"DBSIZE", ":0"});
    sadd_range(db, "h", "m", 0, 300);
    expect(db, "UNLINK h", ":1");
    sadd_range(db, "h", "m", 0, 300);
    expect(db, "FLUSHALL ASYNC", "+OK");
    expect(db, "DBSIZE", ":0");
}

/* ------------------------------------------------------------ wrappers */

static void test_typed(void **state)
{
    ember_db *db = *state;
    const void *m[] = {"a", "b", "c", "1"};
    const size_t ml[] = {1, 1, 1, 1};
    int64_t n = -1;
    int flag = -1;
    assert_int_equal(ember_sadd(db, "s", 1, 4, m, ml, &n), EMBER_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ember_sadd(db, "s", 1, 2, m, ml, NULL), EMBER_OK);
    assert_int_equal(ember_scard(db, "s", 1, &n), EMBER_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ember_sismember(db, "s", 1, "b", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 1);
    assert_int_equal(ember_sismember(db, "s", 1, "z", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 0);
    ember_reply *r;
    const void *q[] = {"a", "z"};
    const size_t ql[] = {1, 1};
    assert_int_equal(ember_smismember(db, "s", 1, 2, q, ql, &r), EMBER_OK);
    char *s = fmt(r);
    assert_string_equal(s, "*[:1|:0]");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_smembers(db, "s", 1, &r), EMBER_OK);
    s = fmt(r);
    assert_string_equal(s, "~[$1|$a|$b|$c]");
    free(s);
    ember_reply_free(r);
    void *v;
    size_t vl;
    assert_int_equal(ember_srandmember(db, "s", 1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 1);
    ember_free(v);
    assert_int_equal(ember_srandmember(db, "none", 4, &v, &vl), EMBER_ENOTFOUND);
    assert_int_equal(ember_srandmember_count(db, "s", 1, -6, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 6);
    ember_reply_free(r);
    assert_int_equal(ember_srandmember_count(db, "s", 1, INT64_MIN, &r), EMBER_ERANGE);
    assert_int_equal(ember_smove(db, "s", 1, "t", 1, "a", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 1);
    assert_int_equal(ember_smove(db, "s", 1, "t", 1, "a", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 0);
    const void *k[] = {"s", "t"};
    const size_t kl[] = {1, 1};
    assert_int_equal(ember_sunion(db, 2, k, kl, &r), EMBER_OK);
    s = fmt(r);
    assert_string_equal(s, "~[$1|$a|$b|$c]");
    free(s);
    ember_reply_free(r);
    assert_int_equal(ember_sinter(db, 2, k, kl, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    assert_int_equal(ember_sdiff(db, 2, k, kl, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 3);
    ember_reply_free(r);
    assert_int_equal(ember_sunionstore(db, "u", 1, 2, k, kl, &n), EMBER_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ember_sinterstore(db, "u", 1, 2, k, kl, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_scard(db, "u", 1, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_sdiffstore(db, "u", 1, 2, k, kl, &n), EMBER_OK);
    assert_int_equal(n, 3);
    const void *k2[] = {"s", "u"};
    assert_int_equal(ember_sintercard(db, 2, k2, kl, 0, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_sintercard(db, 2, k2, kl, 2, &n), EMBER_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ember_srem(db, "s", 1, 4, m, ml, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_spop_count(db, "u", 1, 10, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_SET);
    assert_int_equal(ember_reply_len(r), 3);
    ember_reply_free(r);
    assert_int_equal(ember_scard(db, "u", 1, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_spop_count(db, "u", 1, -1, &r), EMBER_ERANGE);
    assert_int_equal(ember_spop(db, "u", 1, &v, &vl), EMBER_ENOTFOUND);
    /* WRONGTYPE through every wrapper */
    assert_int_equal(ember_set(db, "str", 3, "x", 1), EMBER_OK);
    const void *ks[] = {"str"};
    const size_t ksl[] = {3};
    assert_int_equal(ember_sadd(db, "str", 3, 1, m, ml, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_srem(db, "str", 3, 1, m, ml, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_scard(db, "str", 3, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sismember(db, "str", 3, "a", 1, &flag), EMBER_EWRONGTYPE);
    assert_int_equal(ember_smismember(db, "str", 3, 1, m, ml, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_smembers(db, "str", 3, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_spop(db, "str", 3, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_spop_count(db, "str", 3, 1, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_srandmember(db, "str", 3, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_srandmember_count(db, "str", 3, 1, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_smove(db, "t", 1, "str", 3, "a", 1, &flag), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sinter(db, 1, ks, ksl, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sunion(db, 1, ks, ksl, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sdiff(db, 1, ks, ksl, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sinterstore(db, "d", 1, 1, ks, ksl, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sunionstore(db, "d", 1, 1, ks, ksl, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sdiffstore(db, "d", 1, 1, ks, ksl, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_sintercard(db, 1, ks, ksl, 0, &n), EMBER_EWRONGTYPE);
    /* the store commands replace a value of any type */
    assert_int_equal(ember_sunionstore(db, "str", 3, 1, k + 1, kl, &n), EMBER_OK);
    const char *type;
    assert_int_equal(ember_type(db, "str", 3, &type), EMBER_OK);
    assert_string_equal(type, "set");
}

static void test_typed_einval(void **state)
{
    ember_db *db = *state;
    const void *m[] = {"a", NULL};
    const size_t ml[] = {1, 3};
    int64_t n;
    ember_reply *r;
    uint64_t cur;
    assert_int_equal(ember_sadd(NULL, "s", 1, 1, m, ml, &n), EMBER_EINVAL);
    assert_int_equal(ember_sadd(db, NULL, 1, 1, m, ml, &n), EMBER_EINVAL);
    assert_int_equal(ember_sadd(db, "s", 1, 0, m, ml, &n), EMBER_EINVAL);
    assert_int_equal(ember_sadd(db, "s", 1, 2, m, ml, &n), EMBER_EINVAL);
    assert_int_equal(ember_sadd(db, "s", 1, 1, NULL, ml, &n), EMBER_EINVAL);
    assert_int_equal(ember_srem(db, "s", 1, 0, m, ml, &n), EMBER_EINVAL);
    assert_int_equal(ember_smembers(db, "s", 1, NULL), EMBER_EINVAL);
    assert_int_equal(ember_sinter(db, 0, m, ml, &r), EMBER_EINVAL);
    assert_int_equal(ember_sintercard(db, 1, m, ml, UINT64_MAX, &n), EMBER_EINVAL);
    assert_int_equal(ember_sscan(db, "s", 1, 0, NULL, 2, 0, &cur, &r), EMBER_EINVAL);
    assert_int_equal(ember_sscan(db, "s", 1, 0, NULL, 0, 0, NULL, &r), EMBER_EINVAL);
    assert_int_equal(ember_smove(db, "s", 1, NULL, 1, "a", 1, NULL), EMBER_EINVAL);
    /* the empty key and member are valid */
    assert_int_equal(ember_sadd(db, NULL, 0, 1, m, ml, &n), EMBER_OK);
    assert_int_equal(ember_sismember(db, NULL, 0, "a", 1, NULL), EMBER_OK);
}

static long long used_memory(ember_db *db)
{
    const char *argv[] = {"INFO", "memory"};
    ember_reply *r;
    assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
    long long v = atoll(strstr(ember_reply_str(r, NULL), "used_memory:") + 12);
    ember_reply_free(r);
    return v;
}

/* Builds sets of every encoding under keys that held strings, works on them,
 * and turns them back into the same strings. */
static void set_cycle(ember_db *db)
{
    free(run(db, "DEL i l h u h2"));
    sadd_range(db, "i", "", 0, 300);
    sadd_range(db, "l", "m", 0, 50);
    sadd_range(db, "h", "m", 0, 500);
    free(run(db, "SUNIONSTORE u i l h"));
    free(run(db, "SPOP h 480"));
    free(run(db, "SPOP l 10"));
    free(run(db, "SADD i x"));
    free(run(db, "COPY h h2"));
    free(run(db, "SINTERSTORE u h2 h"));
    free(run(db, "MSET i x l x h x u x h2 x"));
}

/* INFO used_memory comes back to the same figure after a cycle (ten more
 * keys keep the table's size fixed; a warm-up cycle settles its rehash). */
static void test_memory_accounting(void **state)
{
    ember_db *db = *state;
    free(run(db, "MSET a0 x a1 x a2 x a3 x a4 x a5 x a6 x a7 x a8 x a9 x"));
    free(run(db, "MSET i x l x h x u x h2 x"));
    set_cycle(db);
    long long before = used_memory(db);
    set_cycle(db);
    assert_int_equal(used_memory(db), before);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define T70(f) cmocka_unit_test_setup_teardown(f, setup70, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_basic),
        T(test_wrongtype),
        T(test_spop_srandmember),
        T(test_random_distribution),
        T(test_smove),
        T(test_algebra),
        T(test_stores),
        T70(test_stores),
        T(test_sscan),
        T70(test_encodings_70),
        T(test_encodings_listpack),
        T(test_keys_commands),
        T(test_typed),
        T(test_typed_einval),
        T(test_memory_accounting),
        T70(test_memory_accounting),
    };
    int failed = 0;
    g_mode = EMBER_MODE_EXECUTOR;
    failed += cmocka_run_group_tests_name("sets/executor", tests, NULL, NULL);
    g_mode = EMBER_MODE_INLINE;
    failed += cmocka_run_group_tests_name("sets/inline", tests, NULL, NULL);
    return failed;
}
