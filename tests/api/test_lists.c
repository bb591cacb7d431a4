/*
 * test_lists.c — the list commands and their typed wrappers, through the
 * public header only. The command scripts' expected replies and error texts
 * are those redis-server 7.0.15 gave for the same commands (generated against
 * it, one FLUSHALL per test). Further tests: empty keys disappear, OBJECT
 * ENCODING (always "quicklist" in 7.0), COPY / RENAME / DEL / UNLINK of lists,
 * list-max-listpack-size through CONFIG SET, a big list (index operations at
 * both ends and in the middle, windows of LRANGE, memory given back), blocking
 * commands where nobody can wait (batches, closures, inline mode) and every
 * typed wrapper with its NULL / EMBER_EINVAL rules.
 *
 * Every test runs twice: in executor mode and in inline mode.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

static ember_db *open_db(int mode, int hooks, const char *max_bulk)
{
    return ta_open(mode, TA_T0, hooks, max_bulk ? "proto-max-bulk-len" : NULL, max_bulk);
}

/* ------------------------------------------------------------ scripts (from redis-server 7.0.15)
 */

static void test_push_pop(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"LPUSH l a b c", ":3"}, {"RPUSH l d e", ":5"},
           {"LRANGE l 0 -1", "*[$c|$b|$a|$d|$e]"}, {"LLEN l", ":5"}, {"LPUSHX l x", ":6"},
           {"RPUSHX l y", ":7"}, {"LPUSHX nokey x", ":0"}, {"RPUSHX nokey x", ":0"},
           {"EXISTS nokey", ":0"}, {"LPOP l", "$x"}, {"RPOP l", "$y"}, {"LPOP l 2", "*[$c|$b]"},
           {"RPOP l 0", "*[]"}, {"RPOP l 10", "*[$e|$d|$a]"}, {"EXISTS l", ":0"},
           {"LPOP l", "(nil)"}, {"LPOP l 0", "(nil)"}, {"LPOP l 1", "(nil)"},
           {"RPUSH l 1 2 3", ":3"}, {"LPOP l -1", "-ERR value is out of range, must be positive"},
           {"LPOP l x", "-ERR value is out of range, must be positive"},
           {"LPOP l 1 2", "-ERR wrong number of arguments for 'lpop' command"},
           {"RPOP l -1", "-ERR value is out of range, must be positive"},
           {"LPOP nokey x", "-ERR value is out of range, must be positive"},
           {"LPUSH l", "-ERR wrong number of arguments for 'lpush' command"},
           {"RPUSH", "-ERR wrong number of arguments for 'rpush' command"},
           {"LPOP", "-ERR wrong number of arguments for 'lpop' command"},
           {"LLEN", "-ERR wrong number of arguments for 'llen' command"},
           {"LLEN a b", "-ERR wrong number of arguments for 'llen' command"},
           {"RPUSH n 9223372036854775807 -9223372036854775808 007 \"\" \" x\"", ":5"},
           {"LRANGE n 0 -1", "*[$9223372036854775807|$-9223372036854775808|$007|$|$ x]"},
           {"RPOP n 6", "*[$ x|$|$007|$-9223372036854775808|$9223372036854775807]"},
           {"EXISTS n", ":0"});
}

static void test_wrongtype(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"SET s x", "+OK"},
        {"LPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"RPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LPUSHX s a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"RPUSHX s a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LPOP s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"RPOP s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LLEN s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LRANGE s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LRANGE s x 1", "-ERR value is not an integer or out of range"},
        {"LINDEX s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LINDEX s x", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LSET s 0 a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LSET s x a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LINSERT s BEFORE a b",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LINSERT s MIDDLE a b", "-ERR syntax error"},
        {"LREM s 0 a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LREM s x a", "-ERR value is not an integer or out of range"},
        {"LTRIM s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LTRIM s x 1", "-ERR value is not an integer or out of range"},
        {"LPOS s a", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LPOS s a RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from "
                            "the second ... or use negative to start from the end of the list"},
        {"LMOVE s d LEFT LEFT",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"RPOPLPUSH s d", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LMPOP 1 s LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"BLPOP s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"BRPOP s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"BLMOVE s d LEFT LEFT 0",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"BRPOPLPUSH s d 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"BLMPOP 0 1 s LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"GET s", "$x"});
}

static void test_range_index(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"RPUSH l a b c d e f g", ":7"}, {"LRANGE l 0 -1", "*[$a|$b|$c|$d|$e|$f|$g]"},
           {"LRANGE l 2 4", "*[$c|$d|$e]"}, {"LRANGE l -3 -1", "*[$e|$f|$g]"},
           {"LRANGE l -100 100", "*[$a|$b|$c|$d|$e|$f|$g]"}, {"LRANGE l 5 2", "*[]"},
           {"LRANGE l 7 10", "*[]"}, {"LRANGE l -1 -2", "*[]"}, {"LRANGE l 0 0", "*[$a]"},
           {"LRANGE l -9223372036854775808 9223372036854775807", "*[$a|$b|$c|$d|$e|$f|$g]"},
           {"LRANGE l 1 x", "-ERR value is not an integer or out of range"},
           {"LRANGE nokey 0 -1", "*[]"},
           {"LRANGE nokey x 1", "-ERR value is not an integer or out of range"},
           {"LINDEX l 0", "$a"}, {"LINDEX l -1", "$g"}, {"LINDEX l 6", "$g"},
           {"LINDEX l 7", "(nil)"}, {"LINDEX l -8", "(nil)"},
           {"LINDEX l x", "-ERR value is not an integer or out of range"},
           {"LINDEX nokey x", "(nil)"}, {"LINDEX nokey 0", "(nil)"});
}

static void test_lset(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"RPUSH l a b c", ":3"}, {"LSET l 0 x", "+OK"}, {"LSET l -1 z", "+OK"},
           {"LSET l 3 w", "-ERR index out of range"}, {"LSET l -4 w", "-ERR index out of range"},
           {"LSET l x w", "-ERR value is not an integer or out of range"},
           {"LSET nokey 0 a", "-ERR no such key"}, {"LSET nokey x a", "-ERR no such key"},
           {"LRANGE l 0 -1", "*[$x|$b|$z]"}, {"LSET l 1 12345", "+OK"}, {"LINDEX l 1", "$12345"});
}

static void test_linsert(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"RPUSH l a b c b", ":4"}, {"LINSERT l BEFORE b x", ":5"},
           {"LINSERT l AFTER b y", ":6"}, {"LINSERT l after c z", ":7"},
           {"LINSERT l before nope q", ":-1"}, {"LINSERT l middle b q", "-ERR syntax error"},
           {"LINSERT nokey BEFORE a b", ":0"}, {"LINSERT nokey MIDDLE a b", "-ERR syntax error"},
           {"EXISTS nokey", ":0"}, {"LRANGE l 0 -1", "*[$a|$x|$b|$y|$c|$z|$b]"},
           {"LINSERT l BEFORE 1 x", ":-1"}, {"RPUSH l 1", ":8"}, {"LINSERT l BEFORE 1 x", ":9"},
           {"LINSERT l AFTER 01 x", ":-1"}, {"LRANGE l 0 -1", "*[$a|$x|$b|$y|$c|$z|$b|$x|$1]"});
}

static void test_lrem(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"RPUSH l a b a c a b a", ":7"}, {"LREM l 2 a", ":2"},
           {"LRANGE l 0 -1", "*[$b|$c|$a|$b|$a]"}, {"LREM l -1 a", ":1"},
           {"LRANGE l 0 -1", "*[$b|$c|$a|$b]"}, {"LREM l 0 b", ":2"}, {"LRANGE l 0 -1", "*[$c|$a]"},
           {"LREM l 0 zz", ":0"}, {"LREM l x a", "-ERR value is not an integer or out of range"},
           {"LREM nokey 0 a", ":0"},
           {"LREM nokey x a", "-ERR value is not an integer or out of range"}, {"LREM l 0 a", ":1"},
           {"LREM l 0 c", ":1"}, {"EXISTS l", ":0"}, {"RPUSH n 1 2 1 2", ":4"},
           {"LREM n -9223372036854775808 1", ":2"}, {"LRANGE n 0 -1", "*[$2|$2]"});
}

static void test_ltrim(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"RPUSH l a b c d e f", ":6"}, {"LTRIM l 1 -2", "+OK"},
           {"LRANGE l 0 -1", "*[$b|$c|$d|$e]"}, {"LTRIM l -2 100", "+OK"},
           {"LRANGE l 0 -1", "*[$d|$e]"}, {"LTRIM l 0 0", "+OK"}, {"LRANGE l 0 -1", "*[$d]"},
           {"LTRIM l 5 2", "+OK"}, {"EXISTS l", ":0"}, {"LTRIM nokey 0 1", "+OK"},
           {"LTRIM nokey x 1", "-ERR value is not an integer or out of range"},
           {"RPUSH l a b c", ":3"}, {"LTRIM l x 1", "-ERR value is not an integer or out of range"},
           {"LTRIM l 1 x", "-ERR value is not an integer or out of range"},
           {"LTRIM l -100 -50", "+OK"}, {"EXISTS l", ":0"});
}

static void test_lpos(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"RPUSH l a b c 1 2 3 c c", ":8"}, {"LPOS l c", ":2"}, {"LPOS l c RANK 2", ":6"},
        {"LPOS l c RANK -1", ":7"}, {"LPOS l c RANK -3", ":2"}, {"LPOS l c RANK 4", "(nil)"},
        {"LPOS l c COUNT 0", "*[:2|:6|:7]"}, {"LPOS l c COUNT 2", "*[:2|:6]"},
        {"LPOS l c COUNT 0 RANK -1", "*[:7|:6|:2]"}, {"LPOS l c COUNT 2 RANK 2", "*[:6|:7]"},
        {"LPOS l c MAXLEN 2", "(nil)"}, {"LPOS l c MAXLEN 3", ":2"},
        {"LPOS l c COUNT 0 MAXLEN 7", "*[:2|:6]"}, {"LPOS l c RANK -1 MAXLEN 1", ":7"},
        {"LPOS l 1", ":3"}, {"LPOS l 01", "(nil)"}, {"LPOS l zz", "(nil)"},
        {"LPOS l zz COUNT 0", "*[]"}, {"LPOS nokey a", "(nil)"}, {"LPOS nokey a COUNT 1", "*[]"},
        {"LPOS nokey a RANK 0",
         "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or "
         "use negative to start from the end of the list"},
        {"LPOS l c RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from "
                            "the second ... or use negative to start from the end of the list"},
        {"LPOS l c RANK x", "-ERR value is not an integer or out of range"},
        {"LPOS l c RANK -9223372036854775808", ":7"},
        {"LPOS l c RANK -9223372036854775808 COUNT 2", "*[:7|:6|:2]"},
        {"LPOS l c RANK 9223372036854775807", "(nil)"},
        {"LPOS l c COUNT -1", "-ERR COUNT can't be negative"},
        {"LPOS l c COUNT x", "-ERR COUNT can't be negative"},
        {"LPOS l c MAXLEN -1", "-ERR MAXLEN can't be negative"},
        {"LPOS l c MAXLEN x", "-ERR MAXLEN can't be negative"},
        {"LPOS l c RANK", "-ERR syntax error"}, {"LPOS l c FOO 1", "-ERR syntax error"},
        {"LPOS l c COUNT 1 COUNT 2", "*[:2|:6]"},
        {"LPOS l", "-ERR wrong number of arguments for 'lpos' command"});
}

static void test_lmove(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"RPUSH src a b c", ":3"}, {"LMOVE src dst LEFT RIGHT", "$a"},
        {"LMOVE src dst RIGHT LEFT", "$c"}, {"LRANGE src 0 -1", "*[$b]"},
        {"LRANGE dst 0 -1", "*[$c|$a]"}, {"LMOVE src dst left left", "$b"}, {"EXISTS src", ":0"},
        {"LMOVE src dst LEFT LEFT", "(nil)"}, {"LRANGE dst 0 -1", "*[$b|$c|$a]"},
        {"LMOVE dst dst LEFT RIGHT", "$b"}, {"LRANGE dst 0 -1", "*[$c|$a|$b]"},
        {"LMOVE dst dst RIGHT LEFT", "$b"}, {"LRANGE dst 0 -1", "*[$b|$c|$a]"},
        {"LMOVE dst dst LEFT LEFT", "$b"}, {"LMOVE dst dst RIGHT RIGHT", "$a"},
        {"LRANGE dst 0 -1", "*[$b|$c|$a]"}, {"RPOPLPUSH dst other", "$a"},
        {"LRANGE other 0 -1", "*[$a]"}, {"RPOPLPUSH nokey other", "(nil)"},
        {"LMOVE dst other MIDDLE LEFT", "-ERR syntax error"},
        {"LMOVE dst other LEFT MIDDLE", "-ERR syntax error"},
        {"LMOVE nokey other MIDDLE LEFT", "-ERR syntax error"}, {"SET s x", "+OK"},
        {"LMOVE dst s LEFT LEFT",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LMOVE s dst LEFT LEFT",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LMOVE nokey s LEFT LEFT", "(nil)"},
        {"RPOPLPUSH dst s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LRANGE dst 0 -1", "*[$b|$c]"}, {"RPUSH one x", ":1"}, {"RPOPLPUSH one one", "$x"},
        {"LRANGE one 0 -1", "*[$x]"});
}

static void test_lmpop(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"LMPOP 2 a b LEFT", "(nil)"}, {"RPUSH b 1 2 3 4 5", ":5"},
        {"LMPOP 2 a b LEFT", "*[$b|*[$1]]"}, {"LMPOP 2 a b RIGHT COUNT 2", "*[$b|*[$5|$4]]"},
        {"LMPOP 2 a b left count 10", "*[$b|*[$2|$3]]"}, {"EXISTS b", ":0"},
        {"LMPOP 0 a LEFT", "-ERR numkeys should be greater than 0"},
        {"LMPOP -1 a LEFT", "-ERR numkeys should be greater than 0"},
        {"LMPOP x a LEFT", "-ERR numkeys should be greater than 0"},
        {"LMPOP 3 a b LEFT", "-ERR syntax error"}, {"LMPOP 2 a b", "-ERR syntax error"},
        {"LMPOP 1 a MIDDLE", "-ERR syntax error"},
        {"LMPOP 1 a LEFT COUNT 0", "-ERR count should be greater than 0"},
        {"LMPOP 1 a LEFT COUNT -1", "-ERR count should be greater than 0"},
        {"LMPOP 1 a LEFT COUNT x", "-ERR count should be greater than 0"},
        {"LMPOP 1 a LEFT COUNT", "-ERR syntax error"},
        {"LMPOP 1 a LEFT COUNT 1 COUNT 1", "-ERR syntax error"},
        {"LMPOP 1 a LEFT FOO", "-ERR syntax error"}, {"SET s x", "+OK"}, {"RPUSH c z", ":1"},
        {"LMPOP 2 s c LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LMPOP 2 c s LEFT", "*[$c|*[$z]]"},
        {"LMPOP 2 nokey s LEFT",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"LMPOP 1", "-ERR wrong number of arguments for 'lmpop' command"});
}

static void test_blocking_immediate(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"RPUSH a 1 2", ":2"}, {"RPUSH b x", ":1"}, {"BLPOP nokey a b 0", "*[$a|$1]"},
        {"BRPOP a b 0", "*[$a|$2]"}, {"BLPOP a b 1.5", "*[$b|$x]"}, {"RPUSH a 3", ":1"},
        {"BRPOP a b 0", "*[$a|$3]"}, {"BLPOP a x", "-ERR timeout is not a float or out of range"},
        {"BLPOP a -1", "-ERR timeout is negative"}, {"BLPOP a 1e400", "-ERR timeout is negative"},
        {"BLPOP a -0.0011", "-ERR timeout is negative"},
        {"BLPOP a", "-ERR wrong number of arguments for 'blpop' command"}, {"RPUSH m 1 2 3", ":3"},
        {"BLMPOP 0 2 nokey m RIGHT COUNT 2", "*[$m|*[$3|$2]]"},
        {"BLMPOP 0.5 1 m LEFT", "*[$m|*[$1]]"},
        {"BLMPOP x 1 m LEFT", "-ERR timeout is not a float or out of range"},
        {"BLMPOP 0 0 m LEFT", "-ERR numkeys should be greater than 0"},
        {"BLMPOP 0 1 m MIDDLE", "-ERR syntax error"},
        {"BLMPOP -1 1 m LEFT", "-ERR timeout is negative"}, {"RPUSH s a b", ":2"},
        {"BLMOVE s d RIGHT LEFT 0", "$b"}, {"BRPOPLPUSH s d 0", "$a"},
        {"LRANGE d 0 -1", "*[$a|$b]"}, {"BLMOVE s d MIDDLE LEFT 0", "-ERR syntax error"},
        {"BLMOVE s d LEFT LEFT x", "-ERR timeout is not a float or out of range"},
        {"BRPOPLPUSH s d x", "-ERR timeout is not a float or out of range"},
        {"BRPOPLPUSH s d -1", "-ERR timeout is negative"});
}

/* ------------------------------------------------------------ keys and encodings */

static void test_keys_of_lists(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"RPUSH l a b c", ":3"}, {"TYPE l", "+list"}, {"OBJECT ENCODING l", "$quicklist"},
           {"COPY l c", ":1"}, {"RPUSH c d", ":4"}, {"LRANGE l 0 -1", "*[$a|$b|$c]"},
           {"LRANGE c 0 -1", "*[$a|$b|$c|$d]"}, {"OBJECT ENCODING c", "$quicklist"},
           {"COPY l c", ":0"}, {"COPY l c REPLACE", ":1"}, {"LLEN c", ":3"}, {"RENAME c r", "+OK"},
           {"EXISTS c", ":0"}, {"LRANGE r 0 -1", "*[$a|$b|$c]"}, {"DEL r", ":1"},
           {"UNLINK l", ":1"}, {"DBSIZE", ":0"},
           /* A list of one element is a quicklist too (Redis 7.0). */
           {"RPUSH one x", ":1"}, {"OBJECT ENCODING one", "$quicklist"},
           /* Every way of emptying a list deletes its key. */
           {"RPUSH e a", ":1"}, {"LPOP e", "$a"}, {"EXISTS e", ":0"}, {"RPUSH e a", ":1"},
           {"RPOP e 5", "*[$a]"}, {"EXISTS e", ":0"}, {"RPUSH e a", ":1"}, {"LREM e 0 a", ":1"},
           {"EXISTS e", ":0"}, {"RPUSH e a", ":1"}, {"LTRIM e 1 0", "+OK"}, {"EXISTS e", ":0"},
           {"RPUSH e a", ":1"}, {"LMOVE e f LEFT LEFT", "$a"}, {"EXISTS e", ":0"},
           {"LMPOP 1 f LEFT", "*[$f|*[$a]]"}, {"EXISTS f", ":0"}, {"RPUSH e a", ":1"},
           {"BLPOP e 0", "*[$e|$a]"}, {"EXISTS e", ":0"}, {"RPUSH e a", ":1"},
           {"BLMPOP 0 1 e RIGHT COUNT 3", "*[$e|*[$a]]"}, {"DBSIZE", ":1"});
    /* COPY into another database. */
    ember_db *v1;
    assert_int_equal(ember_db_view(db, 1, &v1), EMBER_OK);
    SCRIPT(db, {"COPY one one DB 1", ":1"});
    assert_string_equal(ta_run(v1, "LRANGE one 0 -1"), "*[$x]");
    ember_db_close(v1);
}

/* Reads INFO's used_memory. */
static long long used_memory(ember_db *db)
{
    const char *argv[] = {"INFO", "memory"};
    ember_reply *r;
    assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
    size_t len;
    const char *s = ember_reply_str(r, &len);
    const char *p = strstr(s, "used_memory:");
    assert_non_null(p);
    long long v = strtoll(p + 12, NULL, 10);
    ember_reply_free(r);
    return v;
}

/* A list of 200,000 elements over many nodes: reads and edits at both ends
 * and in the middle, windows of LRANGE, and the memory it held given back. */
static void test_big_list(void **state)
{
    ember_db *db = *state;
    /* The table's first buckets are allocated with the first key: measure
     * from a store that has one. */
    assert_string_equal(ta_run(db, "SET warm x"), "+OK");
    long long base = used_memory(db);
    enum { N = 200000, BATCH = 1000 };
    static char bufs[BATCH][16];
    const void *elems[BATCH];
    size_t lens[BATCH];
    int64_t len = 0;
    for (int i = 0; i < N; i += BATCH) {
        for (int j = 0; j < BATCH; j++) {
            lens[j] = (size_t)snprintf(bufs[j], sizeof bufs[j], "v%d", i + j);
            elems[j] = bufs[j];
        }
        assert_int_equal(ember_rpush(db, "big", 3, BATCH, elems, lens, &len), EMBER_OK);
    }
    assert_int_equal(len, N);
    assert_true(used_memory(db) > base + N * 3);
    SCRIPT(db, {"LINDEX big 0", "$v0"}, {"LINDEX big -1", "$v199999"},
           {"LINDEX big 100000", "$v100000"}, {"LINDEX big -100001", "$v99999"},
           {"LINDEX big 200000", "(nil)"}, {"LSET big 150000 x", "+OK"},
           {"LINDEX big 150000", "$x"}, {"LRANGE big 149999 150001", "*[$v149999|$x|$v150001]"},
           {"LINSERT big BEFORE x y", ":200001"}, {"LINDEX big 150000", "$y"},
           {"LREM big 1 y", ":1"}, {"LPOS big v199999", ":199999"}, {"LPOS big v0 RANK -1", ":0"},
           {"LPOS big v5 MAXLEN 5", "(nil)"}, {"OBJECT ENCODING big", "$quicklist"});
    /* Windows of LRANGE visit every element once, in order. */
    int64_t seen = 0;
    for (int64_t start = 0;; start += 4096) {
        ember_reply *r;
        assert_int_equal(ember_lrange(db, "big", 3, start, start + 4095, &r), EMBER_OK);
        size_t n = ember_reply_len(r);
        for (size_t i = 0; i < n; i++) {
            char want[16];
            int64_t at = start + (int64_t)i;
            snprintf(want, sizeof want, at == 150000 ? "x" : "v%lld", (long long)at);
            assert_string_equal(ember_reply_str(ember_reply_element(r, i), NULL), want);
        }
        seen += (int64_t)n;
        ember_reply_free(r);
        if (n < 4096)
            break;
    }
    assert_int_equal(seen, N);
    SCRIPT(db, {"LTRIM big 1000 -1001", "+OK"}, {"LLEN big", ":198000"}, {"LINDEX big 0", "$v1000"},
           {"LINDEX big -1", "$v198999"}, {"DEL big", ":1"});
    assert_int_equal(used_memory(db), base);
}

/* list-max-listpack-size applies to lists created after it is set; every
 * value Redis accepts works. */
static void test_config_thresholds(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"CONFIG GET list-max-listpack-size", "%[$list-max-listpack-size|$-2]"},
           {"CONFIG SET list-max-listpack-size 0", "+OK"},
           {"CONFIG SET list-max-listpack-size -6", "+OK"},
           {"CONFIG SET list-max-ziplist-size 100000", "+OK"},
           {"CONFIG GET list-max-listpack-size", "%[$list-max-listpack-size|$100000]"});
    static const char *const fills[] = {"0", "1", "2", "-1", "-5", "-6", "100000", "-2"};
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        const char *argv[] = {"CONFIG", "SET", "list-max-listpack-size", fills[f]};
        ember_reply *r;
        assert_int_equal(ember_command(db, 4, argv, NULL, &r), EMBER_OK);
        assert_int_equal(ember_reply_type(r), EMBER_REPLY_STATUS);
        ember_reply_free(r);
        char key[16];
        snprintf(key, sizeof key, "l%zu", f);
        for (int i = 0; i < 300; i++) {
            char e[128];
            size_t el = (size_t)snprintf(e, sizeof e, "%d-%0100d", i, i);
            const void *ep = e;
            assert_int_equal(ember_rpush(db, key, strlen(key), 1, &ep, &el, NULL), EMBER_OK);
        }
        int64_t idx;
        assert_int_equal(ember_lpos(db, key, strlen(key), "150-", 4, 0, 0, &idx), EMBER_ENOTFOUND);
        void *v;
        size_t vl;
        assert_int_equal(ember_lindex(db, key, strlen(key), 150, &v, &vl), EMBER_OK);
        assert_int_equal(memcmp(v, "150-", 4), 0);
        ember_free(v);
        assert_int_equal(ember_lindex(db, key, strlen(key), -1, &v, &vl), EMBER_OK);
        assert_int_equal(memcmp(v, "299-", 4), 0);
        ember_free(v);
        int64_t n;
        assert_int_equal(ember_llen(db, key, strlen(key), &n), EMBER_OK);
        assert_int_equal(n, 300);
    }
}

/* Where nobody can wait, blocking commands answer at once (nil on nothing),
 * as inside MULTI in Redis. */
static int closure_blpop(ember_db *db, void *ud)
{
    (void)ud;
    const void *k = "nothing";
    size_t kl = 7;
    void *v;
    size_t vl;
    return ember_blpop(db, 1, &k, &kl, 0, NULL, &v, &vl);
}

static void test_no_wait_contexts(void **state)
{
    ember_db *db = *state;
    assert_int_equal(ember_run(db, closure_blpop, NULL), EMBER_ENOTFOUND);
    ember_batch *b;
    assert_int_equal(ember_batch_new(&b), EMBER_OK);
    const char *c1[] = {"BLPOP", "q", "0"};
    const char *c2[] = {"RPUSH", "q", "x"};
    const char *c3[] = {"BLMOVE", "q", "d", "LEFT", "LEFT", "0"};
    const char *c4[] = {"BLMPOP", "0", "1", "q", "LEFT"};
    assert_int_equal(ember_batch_add(b, 3, c1, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 3, c2, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 6, c3, NULL), EMBER_OK);
    assert_int_equal(ember_batch_add(b, 5, c4, NULL), EMBER_OK);
    assert_int_equal(ember_batch_exec(db, b, EMBER_BATCH_ATOMIC), EMBER_OK);
    char out[256];
    ta_fmt(ember_batch_reply(b, 0), out, sizeof out);
    assert_string_equal(out, "(nil)");
    ta_fmt(ember_batch_reply(b, 2), out, sizeof out);
    assert_string_equal(out, "$x");
    ta_fmt(ember_batch_reply(b, 3), out, sizeof out);
    assert_string_equal(out, "(nil)");
    ember_batch_free(b);
    assert_string_equal(ta_run(db, "LRANGE d 0 -1"), "*[$x]");
    if (ta_mode == EMBER_MODE_INLINE)
        assert_string_equal(ta_run(db, "BLPOP nothing 0"), "(nil)");
}

/* ------------------------------------------------------------ typed wrappers */

static void test_typed_push_pop(void **state)
{
    ember_db *db = *state;
    const void *e[] = {"a", "b", "c"};
    size_t el[] = {1, 1, 1};
    int64_t n = -7;
    assert_int_equal(ember_lpushx(db, "l", 1, 3, e, el, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_string_equal(ta_run(db, "EXISTS l"), ":0");
    assert_int_equal(ember_lpush(db, "l", 1, 3, e, el, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_rpush(db, "l", 1, 3, e, el, NULL), EMBER_OK);
    assert_int_equal(ember_rpushx(db, "l", 1, 1, e, el, &n), EMBER_OK);
    assert_int_equal(n, 7);
    assert_int_equal(ember_lpushx(db, "l", 1, 1, e + 2, el, &n), EMBER_OK);
    assert_string_equal(ta_run(db, "LRANGE l 0 -1"), "*[$c|$c|$b|$a|$a|$b|$c|$a]");
    void *v = (void *)0x1;
    size_t vl = 0;
    assert_int_equal(ember_lpop(db, "l", 1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 1);
    assert_string_equal(v, "c");
    ember_free(v);
    assert_int_equal(ember_rpop(db, "l", 1, &v, &vl), EMBER_OK);
    assert_string_equal(v, "a");
    ember_free(v);
    assert_int_equal(ember_rpop(db, "l", 1, NULL, NULL), EMBER_OK);
    ember_reply *r = NULL;
    assert_int_equal(ember_lpop_count(db, "l", 1, 2, &r), EMBER_OK);
    char out[256];
    ta_fmt(r, out, sizeof out);
    assert_string_equal(out, "*[$c|$b]");
    ember_reply_free(r);
    assert_int_equal(ember_rpop_count(db, "l", 1, 0, &r), EMBER_OK);
    ta_fmt(r, out, sizeof out);
    assert_string_equal(out, "*[]");
    ember_reply_free(r);
    assert_int_equal(ember_rpop_count(db, "l", 1, 100, &r), EMBER_OK);
    ta_fmt(r, out, sizeof out);
    assert_string_equal(out, "*[$b|$a|$a]");
    ember_reply_free(r);
    r = (ember_reply *)0x1;
    assert_int_equal(ember_rpop_count(db, "l", 1, 1, &r), EMBER_ENOTFOUND);
    assert_ptr_equal(r, (void *)0x1);
    v = (void *)0x1;
    assert_int_equal(ember_lpop(db, "l", 1, &v, &vl), EMBER_ENOTFOUND);
    assert_ptr_equal(v, (void *)0x1);
    assert_int_equal(ember_llen(db, "l", 1, &n), EMBER_OK);
    assert_int_equal(n, 0);
    /* Empty elements (NULL with length 0) and binary bytes. */
    const void *bin[] = {NULL, "a\0b"};
    size_t binl[] = {0, 3};
    assert_int_equal(ember_rpush(db, "b", 1, 2, bin, binl, &n), EMBER_OK);
    assert_int_equal(ember_lindex(db, "b", 1, 1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "a\0b", 4);
    ember_free(v);
    assert_int_equal(ember_lpop(db, "b", 1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 0);
    assert_string_equal(v, "");
    ember_free(v);
}

static void test_typed_read_edit(void **state)
{
    ember_db *db = *state;
    const void *e[] = {"a", "b", "c", "b", "12"};
    size_t el[] = {1, 1, 1, 1, 2};
    assert_int_equal(ember_rpush(db, "l", 1, 5, e, el, NULL), EMBER_OK);
    void *v;
    size_t vl;
    assert_int_equal(ember_lindex(db, "l", 1, -1, &v, &vl), EMBER_OK);
    assert_string_equal(v, "12");
    ember_free(v);
    assert_int_equal(ember_lindex(db, "l", 1, 5, &v, &vl), EMBER_ENOTFOUND);
    assert_int_equal(ember_lindex(db, "nokey", 5, 0, &v, &vl), EMBER_ENOTFOUND);
    assert_int_equal(ember_lset(db, "l", 1, 0, "A", 1), EMBER_OK);
    assert_int_equal(ember_lset(db, "l", 1, 5, "A", 1), EMBER_ERANGE);
    assert_int_equal(ember_lset(db, "nokey", 5, 0, "A", 1), EMBER_ENOKEY);
    assert_int_equal(ember_lset(db, "l", 1, -5, NULL, 0), EMBER_OK);
    int64_t n;
    assert_int_equal(ember_linsert(db, "l", 1, 1, "b", 1, "X", 1, &n), EMBER_OK);
    assert_int_equal(n, 6);
    assert_int_equal(ember_linsert(db, "l", 1, 0, "b", 1, "Y", 1, &n), EMBER_OK);
    assert_int_equal(ember_linsert(db, "l", 1, 0, "zz", 2, "Y", 1, &n), EMBER_OK);
    assert_int_equal(n, -1);
    assert_int_equal(ember_linsert(db, "nokey", 5, 0, "zz", 2, "Y", 1, &n), EMBER_OK);
    assert_int_equal(n, 0);
    ember_reply *r;
    char out[256];
    assert_int_equal(ember_lrange(db, "l", 1, 0, -1, &r), EMBER_OK);
    ta_fmt(r, out, sizeof out);
    assert_string_equal(out, "*[$|$Y|$b|$X|$c|$b|$12]");
    ember_reply_free(r);
    assert_int_equal(ember_lrange(db, "nokey", 5, 0, -1, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    assert_int_equal(ember_lpos(db, "l", 1, "b", 1, 0, 0, &n), EMBER_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ember_lpos(db, "l", 1, "b", 1, -1, 0, &n), EMBER_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ember_lpos(db, "l", 1, "b", 1, 2, 0, &n), EMBER_OK);
    assert_int_equal(n, 5);
    assert_int_equal(ember_lpos(db, "l", 1, "b", 1, 1, 2, &n), EMBER_ENOTFOUND);
    assert_int_equal(ember_lpos(db, "l", 1, "12", 2, 0, 0, &n), EMBER_OK);
    assert_int_equal(n, 6);
    assert_int_equal(ember_lpos(db, "l", 1, "q", 1, 0, 0, &n), EMBER_ENOTFOUND);
    assert_int_equal(ember_lrem(db, "l", 1, -1, "b", 1, &n), EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_lrem(db, "l", 1, 0, "nope", 4, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_ltrim(db, "l", 1, 1, -2), EMBER_OK);
    assert_string_equal(ta_run(db, "LRANGE l 0 -1"), "*[$Y|$b|$X|$c]");
    assert_int_equal(ember_ltrim(db, "nokey", 5, 0, 1), EMBER_OK);
    assert_int_equal(ember_ltrim(db, "l", 1, 10, 20), EMBER_OK);
    assert_string_equal(ta_run(db, "EXISTS l"), ":0");
}

static void test_typed_move(void **state)
{
    ember_db *db = *state;
    const void *e[] = {"a", "b", "c"};
    size_t el[] = {1, 1, 1};
    assert_int_equal(ember_rpush(db, "s", 1, 3, e, el, NULL), EMBER_OK);
    void *v;
    size_t vl;
    assert_int_equal(ember_lmove(db, "s", 1, "d", 1, EMBER_LIST_LEFT, EMBER_LIST_RIGHT, &v, &vl),
                     EMBER_OK);
    assert_string_equal(v, "a");
    ember_free(v);
    assert_int_equal(ember_lmove(db, "s", 1, "d", 1, EMBER_LIST_RIGHT, EMBER_LIST_LEFT, NULL, NULL),
                     EMBER_OK);
    assert_string_equal(ta_run(db, "LRANGE d 0 -1"), "*[$c|$a]");
    assert_int_equal(ember_lmove(db, "d", 1, "d", 1, EMBER_LIST_LEFT, EMBER_LIST_RIGHT, NULL, NULL),
                     EMBER_OK);
    assert_string_equal(ta_run(db, "LRANGE d 0 -1"), "*[$a|$c]");
    assert_int_equal(ember_lmove(db, "none", 4, "d", 1, EMBER_LIST_LEFT, EMBER_LIST_LEFT, &v, &vl),
                     EMBER_ENOTFOUND);
    assert_int_equal(ember_blmove(db, "s", 1, "d", 1, EMBER_LIST_LEFT, EMBER_LIST_LEFT, 0, &v, &vl),
                     EMBER_OK);
    assert_string_equal(v, "b");
    ember_free(v);
    assert_string_equal(ta_run(db, "EXISTS s"), ":0");
    const void *keys[] = {"x", "d"};
    size_t kl[] = {1, 1};
    size_t which = 9;
    assert_int_equal(ember_brpop(db, 2, keys, kl, 0, &which, &v, &vl), EMBER_OK);
    assert_int_equal(which, 1);
    assert_string_equal(v, "c");
    ember_free(v);
    assert_int_equal(ember_blpop(db, 2, keys, kl, 1500, &which, &v, &vl), EMBER_OK);
    assert_string_equal(v, "b");
    ember_free(v);
    assert_int_equal(ember_blpop(db, 2, keys, kl, 0, NULL, NULL, NULL), EMBER_OK);
    assert_string_equal(ta_run(db, "DBSIZE"), ":0");
    assert_string_equal(ta_run(db, "SET str v"), "+OK");
    assert_int_equal(ember_lmove(db, "str", 3, "d", 1, EMBER_LIST_LEFT, EMBER_LIST_LEFT, &v, &vl),
                     EMBER_EWRONGTYPE);
    assert_int_equal(
        ember_blpop(db, 1, (const void *const[]){"str"}, (const size_t[]){3}, 0, NULL, &v, &vl),
        EMBER_EWRONGTYPE);
    assert_int_equal(ember_rpush(db, "s", 1, 1, e, el, NULL), EMBER_OK);
    assert_int_equal(ember_lmove(db, "s", 1, "str", 3, EMBER_LIST_LEFT, EMBER_LIST_LEFT, &v, &vl),
                     EMBER_EWRONGTYPE);
    assert_string_equal(ta_run(db, "LLEN s"), ":1");
}

static void test_typed_wrongtype(void **state)
{
    ember_db *db = *state;
    assert_string_equal(ta_run(db, "SET s x"), "+OK");
    const void *e[] = {"a"};
    size_t el[] = {1};
    void *v;
    size_t vl;
    int64_t n;
    ember_reply *r;
    assert_int_equal(ember_lpush(db, "s", 1, 1, e, el, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_rpushx(db, "s", 1, 1, e, el, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lpop(db, "s", 1, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lpop_count(db, "s", 1, 2, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_llen(db, "s", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lindex(db, "s", 1, 0, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lset(db, "s", 1, 0, "a", 1), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lrange(db, "s", 1, 0, 1, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_ltrim(db, "s", 1, 0, 1), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lrem(db, "s", 1, 0, "a", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_linsert(db, "s", 1, 0, "a", 1, "b", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_lpos(db, "s", 1, "a", 1, 0, 0, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_blmove(db, "s", 1, "d", 1, 0, 0, 10, &v, &vl), EMBER_EWRONGTYPE);
}

static void test_typed_einval(void **state)
{
    ember_db *db = *state;
    const void *e[] = {"a"};
    size_t el[] = {1};
    const void *bad[] = {NULL};
    void *v;
    size_t vl;
    int64_t n;
    ember_reply *r;
    assert_int_equal(ember_lpush(NULL, "l", 1, 1, e, el, &n), EMBER_EINVAL);
    assert_int_equal(ember_lpush(db, NULL, 1, 1, e, el, &n), EMBER_EINVAL);
    assert_int_equal(ember_lpush(db, "l", 1, 0, e, el, &n), EMBER_EINVAL);
    assert_int_equal(ember_rpush(db, "l", 1, 1, NULL, el, &n), EMBER_EINVAL);
    assert_int_equal(ember_rpush(db, "l", 1, 1, e, NULL, &n), EMBER_EINVAL);
    assert_int_equal(ember_rpush(db, "l", 1, 1, bad, el, &n), EMBER_EINVAL);
    assert_int_equal(ember_lpop(NULL, "l", 1, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_lpop_count(db, "l", 1, 1, NULL), EMBER_EINVAL);
    assert_int_equal(ember_lpop_count(db, "l", 1, UINT64_MAX, &r), EMBER_EINVAL);
    assert_int_equal(ember_lrange(db, "l", 1, 0, 1, NULL), EMBER_EINVAL);
    assert_int_equal(ember_lset(db, "l", 1, 0, NULL, 1), EMBER_EINVAL);
    assert_int_equal(ember_lrem(db, "l", 1, 0, NULL, 1, &n), EMBER_EINVAL);
    assert_int_equal(ember_linsert(db, "l", 1, 0, NULL, 1, "a", 1, &n), EMBER_EINVAL);
    assert_int_equal(ember_lpos(db, "l", 1, "a", 1, 0, -1, &n), EMBER_EINVAL);
    assert_int_equal(ember_lmove(db, "l", 1, "d", 1, 2, 0, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_lmove(db, "l", 1, NULL, 1, 0, 0, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_blmove(db, "l", 1, "d", 1, 0, 0, -1, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_blpop(db, 0, e, el, 0, NULL, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_brpop(db, 1, e, el, -5, NULL, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_blpop(db, 1, bad, el, 0, NULL, &v, &vl), EMBER_EINVAL);
    assert_string_equal(ta_run(db, "DBSIZE"), ":0");
}

/* Out of memory: pushes and moves reply the OOM error and change nothing. */
static void test_oom(void **state)
{
    (void)state;
    ember_db *db = open_db(ta_mode, 1, NULL);
    assert_string_equal(ta_run(db, "RPUSH l a b"), ":2");
    atomic_store(&ta_fail_alloc, 1);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    const void *e[] = {big};
    size_t el[] = {sizeof big - 1};
    assert_int_equal(ember_rpush(db, "new", 3, 1, e, el, NULL), EMBER_ENOMEM);
    assert_int_equal(ember_lmove(db, "l", 1, "d", 1, 0, 0, NULL, NULL), EMBER_ENOMEM);
    atomic_store(&ta_fail_alloc, 0);
    assert_string_equal(ta_run(db, "LRANGE l 0 -1"), "*[$a|$b]");
    assert_string_equal(ta_run(db, "EXISTS new d"), ":0");
    ember_db_close(db);
}

/* ------------------------------------------------------------ main */

#define T(f) cmocka_unit_test_setup_teardown(f, ta_setup, ta_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_push_pop),
        T(test_wrongtype),
        T(test_range_index),
        T(test_lset),
        T(test_linsert),
        T(test_lrem),
        T(test_ltrim),
        T(test_lpos),
        T(test_lmove),
        T(test_lmpop),
        T(test_blocking_immediate),
        T(test_keys_of_lists),
        T(test_big_list),
        T(test_config_thresholds),
        T(test_no_wait_contexts),
        T(test_typed_push_pop),
        T(test_typed_read_edit),
        T(test_typed_move),
        T(test_typed_wrongtype),
        T(test_typed_einval),
        cmocka_unit_test(test_oom),
    };
    int failed = 0;
    ta_mode = EMBER_MODE_EXECUTOR;
    failed += cmocka_run_group_tests_name("lists/executor", tests, NULL, NULL);
    ta_mode = EMBER_MODE_INLINE;
    failed += cmocka_run_group_tests_name("lists/inline", tests, NULL, NULL);
    return failed;
}
