/*
 * test_hashes.c — the hash commands and their typed wrappers, through the
 * public header only. Expected replies and error texts of the scripted steps
 * are those redis-server 7.0.15 gave (RESP3) for the same commands; random
 * replies (HRANDFIELD) and table order are checked by their properties.
 *
 * Every test runs twice: in executor mode and in inline mode.
 */
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

static ember_db *open_db(int mode, int hooks)
{
    return ta_open(mode, TA_T0, hooks, NULL, NULL);
}

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value"

static const char *encoding(ember_db *db, const char *key)
{
    static char line[256];
    snprintf(line, sizeof line, "OBJECT ENCODING %s", key);
    return ta_run(db, line);
}

/* ------------------------------------------------------------ scripted (from redis-server 7.0.15)
 */

/* HSET HGET HMGET HLEN HEXISTS HSTRLEN HDEL HMSET, empty key deletion */
static void test_basics(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"hget h f", "(nil)"}, {"hlen h", ":0"}, {"hexists h f", ":0"}, {"hstrlen h f", ":0"},
        {"hmget h a b", "*[(nil)|(nil)]"}, {"hgetall h", "%[]"}, {"hkeys h", "*[]"},
        {"hvals h", "*[]"}, {"hdel h f", ":0"}, {"hset h f v", ":1"}, {"hset h f v2 g w", ":1"},
        {"hget h f", "$v2"}, {"hget h g", "$w"}, {"hget h nofield", "(nil)"}, {"hlen h", ":2"},
        {"hexists h f", ":1"}, {"hexists h nofield", ":0"}, {"hstrlen h f", ":2"},
        {"hstrlen h nofield", ":0"}, {"hmget h f nofield g", "*[$v2|(nil)|$w]"},
        {"hset h n 12345 m -7 z 007 big 18446744073709551616 e \"\"", ":5"}, {"hstrlen h n", ":5"},
        {"hstrlen h m", ":2"}, {"hstrlen h z", ":3"}, {"hstrlen h e", ":0"}, {"hget h z", "$007"},
        {"hget h e", "$"}, {"hget h big", "$18446744073709551616"},
        {"hgetall h", "%[$f|$v2|$g|$w|$n|$12345|$m|$-7|$z|$007|$big|$18446744073709551616|$e|$]"},
        {"hkeys h", "*[$f|$g|$n|$m|$z|$big|$e]"},
        {"hvals h", "*[$v2|$w|$12345|$-7|$007|$18446744073709551616|$]"}, {"hdel h nofield", ":0"},
        {"hdel h f f g", ":2"}, {"hkeys h", "*[$n|$m|$z|$big|$e]"}, {"hdel h n m z big e", ":5"},
        {"exists h", ":0"}, {"hlen h", ":0"}, {"hset h a 1 a 2 a 3", ":1"}, {"hget h a", "$3"},
        {"hlen h", ":1"}, {"hmset h2 a 1 b 2", "+OK"}, {"hgetall h2", "%[$a|$1|$b|$2]"},
        {"hset \"\" \"\" \"\"", ":1"}, {"hgetall \"\"", "%[$|$]"}, {"hget \"\" \"\"", "$"},
        {"hexists \"\" \"\"", ":1"}, {"del h h2 \"\"", ":3"});
}

/* arity errors and WRONGTYPE of every command */
static void test_errors(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"hset h", "-ERR wrong number of arguments for 'hset' command"},
        {"hset h f", "-ERR wrong number of arguments for 'hset' command"},
        {"hset h f v g", "-ERR wrong number of arguments for 'hset' command"},
        {"hmset h f", "-ERR wrong number of arguments for 'hmset' command"},
        {"hmset h f v g", "-ERR wrong number of arguments for 'hmset' command"},
        {"hsetnx h f", "-ERR wrong number of arguments for 'hsetnx' command"},
        {"hget h", "-ERR wrong number of arguments for 'hget' command"},
        {"hmget h", "-ERR wrong number of arguments for 'hmget' command"},
        {"hdel h", "-ERR wrong number of arguments for 'hdel' command"},
        {"hlen", "-ERR wrong number of arguments for 'hlen' command"},
        {"hstrlen h", "-ERR wrong number of arguments for 'hstrlen' command"},
        {"hexists h", "-ERR wrong number of arguments for 'hexists' command"},
        {"hgetall", "-ERR wrong number of arguments for 'hgetall' command"},
        {"hkeys", "-ERR wrong number of arguments for 'hkeys' command"},
        {"hvals", "-ERR wrong number of arguments for 'hvals' command"},
        {"hincrby h f", "-ERR wrong number of arguments for 'hincrby' command"},
        {"hincrbyfloat h f", "-ERR wrong number of arguments for 'hincrbyfloat' command"},
        {"hrandfield", "-ERR wrong number of arguments for 'hrandfield' command"},
        {"hscan h", "-ERR wrong number of arguments for 'hscan' command"}, {"set s x", "+OK"},
        {"hset s f v", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hsetnx s f v", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hget s f", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hmget s f", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hmset s f v", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hdel s f", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hlen s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hstrlen s f", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hexists s f", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hgetall s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hkeys s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hvals s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hincrby s f 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hincrby s f x", "-ERR value is not an integer or out of range"},
        {"hincrbyfloat s f 1",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hincrbyfloat s f x", "-ERR value is not a valid float"},
        {"hrandfield s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hrandfield s 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hrandfield s 1 withvalues",
         "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hrandfield s x", "-ERR value is not an integer or out of range"},
        {"hscan s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"hscan s x", "-ERR invalid cursor"},
        {"hscan s 0 count 0", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
        {"get s", "$x"});
}

/* HINCRBY and HINCRBYFLOAT: results, limits and error texts */
static void test_incr(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"hincrby h f 5", ":5"}, {"hincrby h f -10", ":-5"}, {"hget h f", "$-5"},
        {"hincrby h f x", "-ERR value is not an integer or out of range"},
        {"hincrby h f 9223372036854775808", "-ERR value is not an integer or out of range"},
        {"hincrby h f \" 1\"", "-ERR value is not an integer or out of range"},
        {"hincrby h f 1.5", "-ERR value is not an integer or out of range"},
        {"hset h n 9223372036854775807 m -9223372036854775808 s abc z 007 sp \" 1\" e \"\"", ":6"},
        {"hincrby h n 1", "-ERR increment or decrement would overflow"},
        {"hincrby h n 0", ":9223372036854775807"}, {"hincrby h n -1", ":9223372036854775806"},
        {"hincrby h m -1", "-ERR increment or decrement would overflow"},
        {"hincrby h m 1", ":-9223372036854775807"},
        {"hincrby h s 1", "-ERR hash value is not an integer"},
        {"hincrby h z 1", "-ERR hash value is not an integer"},
        {"hincrby h sp 1", "-ERR hash value is not an integer"},
        {"hincrby h e 1", "-ERR hash value is not an integer"}, {"hincrbyfloat h f 1.5", "$-3.5"},
        {"hincrbyfloat h f -0.5", "$-4"}, {"hincrbyfloat h f 1.10", "$-2.9"},
        {"hincrbyfloat h x 5.0e3", "$5000"}, {"hincrbyfloat h x 0x10", "$5016"},
        {"hincrbyfloat h x abc", "-ERR value is not a valid float"},
        {"hincrbyfloat h x inf", "-ERR value is NaN or Infinity"},
        {"hincrbyfloat h x -inf", "-ERR value is NaN or Infinity"},
        {"hincrbyfloat h x nan", "-ERR value is not a valid float"},
        {"hincrbyfloat h x \" 1\"", "-ERR value is not a valid float"},
        {"hincrbyfloat h x \"\"", "-ERR value is not a valid float"},
        {"hincrbyfloat h s 1", "-ERR hash value is not a float"},
        {"hincrbyfloat h e 1", "-ERR hash value is not a float"}, {"hincrbyfloat h z 1", "$8"},
        {"hincrbyfloat h n 1", "$9223372036854775807"}, {"hset h i inf", ":1"},
        {"hincrbyfloat h i 1", "-ERR increment would produce NaN or Infinity"},
        {"hset hb big 1e308", ":1"},
        {"hincrbyfloat hb big 1e308",
         "$1999999999999999999933717593116912913211201996948311344155940959898434697376761237442002"
         "53843777078640893494450108026446304269499187921167194841628860392837535918200039206381557"
         "32621920901421333587830679157787782912108712612253672980323726043417317850688976324758260"
         "1711514636284849020905456510092687857156096"},
        {"hget hb big",
         "$1999999999999999999933717593116912913211201996948311344155940959898434697376761237442002"
         "53843777078640893494450108026446304269499187921167194841628860392837535918200039206381557"
         "32621920901421333587830679157787782912108712612253672980323726043417317850688976324758260"
         "1711514636284849020905456510092687857156096"},
        {"hincrbyfloat h y 3.0000000000000001", "$3.0000000000000001"},
        {"hincrbyfloat h y2 0.1", "$0.1"}, {"hincrbyfloat h y2 0.2", "$0.3"},
        {"hincrbyfloat h neg -0.0", "$0"}, {"hincrbyfloat h tiny 1e-20", "$0"},
        {"hkeys h", "*[$f|$n|$m|$s|$z|$sp|$e|$x|$i|$y|$y2|$neg|$tiny]"},
        {"hincrby newkey f 1", ":1"}, {"hincrbyfloat newkey2 f 1.5", "$1.5"},
        {"hgetall newkey", "%[$f|$1]"}, {"hgetall newkey2", "%[$f|$1.5]"},
        {"object encoding hb", "$hashtable"});
}

/* HSCAN of a listpack hash (all of it, cursor 0), its argument errors */
static void test_scan(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"hscan nokey 0", "*[$0|*[]]"}, {"hscan nokey 0 count 0", "*[$0|*[]]"},
           {"hscan nokey x", "-ERR invalid cursor"}, {"hset h a 1 b 2 ab 3 ba 4", ":4"},
           {"hscan h 0", "*[$0|*[$a|$1|$b|$2|$ab|$3|$ba|$4]]"},
           {"hscan h 77", "*[$0|*[$a|$1|$b|$2|$ab|$3|$ba|$4]]"},
           {"hscan h 18446744073709551615", "*[$0|*[$a|$1|$b|$2|$ab|$3|$ba|$4]]"},
           {"hscan h -1", "*[$0|*[$a|$1|$b|$2|$ab|$3|$ba|$4]]"},
           {"hscan h 0 match a*", "*[$0|*[$a|$1|$ab|$3]]"},
           {"hscan h 0 MATCH *a", "*[$0|*[$a|$1|$ba|$4]]"}, {"hscan h 0 match zz", "*[$0|*[]]"},
           {"hscan h 0 count 1", "*[$0|*[$a|$1|$b|$2|$ab|$3|$ba|$4]]"},
           {"hscan h 0 count 0", "-ERR syntax error"}, {"hscan h 0 count -1", "-ERR syntax error"},
           {"hscan h 0 count x", "-ERR value is not an integer or out of range"},
           {"hscan h 0 count", "-ERR syntax error"}, {"hscan h 0 match", "-ERR syntax error"},
           {"hscan h 0 foo bar", "-ERR syntax error"}, {"hscan h x", "-ERR invalid cursor"},
           {"hscan h 18446744073709551616", "-ERR invalid cursor"},
           {"hscan h \" 1\"", "-ERR invalid cursor"},
           {"hscan h 0 count 1 match a* count 100", "*[$0|*[$a|$1|$ab|$3]]"});
}

/* encoding transitions at the entry and value thresholds (CONFIG SET) */
static void test_enc(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"config get hash-max-listpack-entries", "%[$hash-max-listpack-entries|$512]"},
           {"config get hash-max-listpack-value", "%[$hash-max-listpack-value|$64]"},
           {"config get hash-max-ziplist-entries", "%[$hash-max-ziplist-entries|$512]"},
           {"hset h f yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", ":1"},
           {"object encoding h", "$listpack"},
           {"hset h yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy v", ":1"},
           {"object encoding h", "$listpack"},
           {"hset h g xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":1"},
           {"object encoding h", "$hashtable"}, {"hlen h", ":3"}, {"del h", ":1"},
           {"hset h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx v", ":1"},
           {"object encoding h", "$hashtable"}, {"del h", ":1"}, {"hset h f v", ":1"},
           {"hsetnx h f xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":0"},
           {"object encoding h", "$listpack"},
           {"hsetnx h g xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":1"},
           {"object encoding h", "$hashtable"}, {"del h", ":1"}, {"hset h f v", ":1"},
           {"hincrby h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 1", ":1"},
           {"object encoding h", "$hashtable"}, {"del h", ":1"}, {"hset h f v", ":1"},
           {"hincrbyfloat h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 1",
            "$1"},
           {"object encoding h", "$hashtable"}, {"del h", ":1"}, {"hset h f 1", ":1"},
           {"config set hash-max-listpack-value 1", "+OK"}, {"hincrby h f 1", ":2"},
           {"object encoding h", "$listpack"}, {"hincrby h f 100", ":102"},
           {"object encoding h", "$hashtable"}, {"config set hash-max-listpack-value 64", "+OK"},
           {"config set hash-max-listpack-entries 0", "+OK"}, {"del h", ":1"}, {"hset h f v", ":1"},
           {"object encoding h", "$hashtable"}, {"config set hash-max-listpack-entries 2", "+OK"},
           {"del h", ":1"}, {"hset h a 1 b 2", ":2"}, {"object encoding h", "$listpack"},
           {"hset h a 3", ":0"}, {"object encoding h", "$listpack"}, {"hsetnx h a 3", ":0"},
           {"object encoding h", "$listpack"}, {"hset h c 3", ":1"},
           {"object encoding h", "$hashtable"}, {"hdel h c b", ":2"},
           {"object encoding h", "$hashtable"}, {"del h", ":1"}, {"hset h a 1 b 2 c 3", ":3"},
           {"object encoding h", "$hashtable"}, {"config set hash-max-listpack-entries 1", "+OK"},
           {"del h", ":1"}, {"hset h a 1 a 2", ":1"}, {"object encoding h", "$listpack"},
           {"config set hash-max-ziplist-entries 512", "+OK"},
           {"config get hash-max-listpack-entries", "%[$hash-max-listpack-entries|$512]"},
           {"config set hash-max-listpack-value 0", "+OK"}, {"del h", ":1"},
           {"hset h \"\" \"\"", ":1"}, {"object encoding h", "$listpack"}, {"hset h2 a \"\"", ":1"},
           {"object encoding h2", "$hashtable"}, {"config set hash-max-listpack-value 64", "+OK"},
           {"del h h2", ":2"});
}

/* COPY, RENAME, TYPE, EXPIRE, DEL of hashes */
static void test_keys(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"hset h a 1 b 2 c 3", ":3"}, {"copy h h2", ":1"},
           {"hgetall h2", "%[$a|$1|$b|$2|$c|$3]"}, {"hset h2 d 4", ":1"}, {"hlen h", ":3"},
           {"hlen h2", ":4"}, {"rename h2 h3", "+OK"}, {"exists h2", ":0"},
           {"hgetall h3", "%[$a|$1|$b|$2|$c|$3|$d|$4]"}, {"type h3", "+hash"},
           {"object encoding h3", "$listpack"}, {"expire h3 100", ":1"}, {"ttl h3", ":100"},
           {"hset h3 e 5", ":1"}, {"ttl h3", ":100"}, {"del h h3", ":2"}, {"exists h h3", ":0"});
}

/* ------------------------------------------------------------ HRANDFIELD */

/* Fills key with n fields f0..f(n-1) whose values are v0..v(n-1). */
static void fill(ember_db *db, const char *key, int n)
{
    for (int i = 0; i < n; i++) {
        char f[32], v[32];
        int fl = snprintf(f, sizeof f, "f%d", i), vl = snprintf(v, sizeof v, "v%d", i);
        const void *fp[1] = {f}, *vp[1] = {v};
        size_t flen[1] = {(size_t)fl}, vlen[1] = {(size_t)vl};
        assert_int_equal(ember_hset(db, key, strlen(key), 1, fp, flen, vp, vlen, NULL), EMBER_OK);
    }
}

/* Index of field "f<i>" (or value "v<i>") in a reply element. */
static int field_index(const ember_reply *e, char prefix)
{
    size_t len;
    const char *s = ember_reply_str(e, &len);
    assert_non_null(s);
    assert_true(len >= 2 && s[0] == prefix);
    return atoi(s + 1);
}

/* Checks HRANDFIELD key count [WITHVALUES] against a hash of n fields made
 * by fill(): the reply size, distinctness for count > 0, values matching. */
static void check_randfield(ember_db *db, const char *key, int n, long long count, int wv)
{
    ember_reply *r = NULL;
    assert_int_equal(ember_hrandfield(db, key, strlen(key), count, wv, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
    size_t want = count >= 0 ? (size_t)(count < n ? count : n) : (size_t)(-count);
    assert_int_equal(ember_reply_len(r), want);
    char *seen = calloc((size_t)n, 1);
    for (size_t i = 0; i < ember_reply_len(r); i++) {
        const ember_reply *e = ember_reply_element(r, i);
        int fi;
        if (wv) {
            assert_int_equal(ember_reply_type(e), EMBER_REPLY_ARRAY);
            assert_int_equal(ember_reply_len(e), 2);
            fi = field_index(ember_reply_element(e, 0), 'f');
            assert_int_equal(field_index(ember_reply_element(e, 1), 'v'), fi);
        } else {
            assert_int_equal(ember_reply_type(e), EMBER_REPLY_STRING);
            fi = field_index(e, 'f');
        }
        assert_true(fi >= 0 && fi < n);
        if (count > 0)
            assert_int_equal(seen[fi], 0);
        seen[fi] = 1;
    }
    free(seen);
    ember_reply_free(r);
}

static void test_hrandfield(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"hrandfield nokey", "(nil)"}, {"hrandfield nokey 5", "*[]"},
           {"hrandfield nokey 0", "*[]"}, {"hrandfield nokey -5 withvalues", "*[]"},
           {"hrandfield nokey x", "-ERR value is not an integer or out of range"},
           {"hrandfield nokey 1 bad", "-ERR syntax error"},
           {"hrandfield nokey 1 withvalues x", "-ERR syntax error"},
           {"hrandfield nokey -9223372036854775808",
            "-ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807"},
           {"hrandfield nokey 9223372036854775807 withvalues", "-ERR value is out of range"},
           {"hrandfield nokey -4611686018427387904 withvalues", "-ERR value is out of range"},
           {"hset one f v", ":1"}, {"hrandfield one", "$f"}, {"hrandfield one 1", "*[$f]"},
           {"hrandfield one -3", "*[$f|$f|$f]"}, {"hrandfield one 0 withvalues", "*[]"},
           {"hrandfield one 4611686018427387903 withvalues", "*[*[$f|$v]]"},
           {"hrandfield one 9223372036854775807", "*[$f]"},
           {"hrandfield one -2 WITHVALUES", "*[*[$f|$v]|*[$f|$v]]"});
    /* Both encodings: 50 fields stay a listpack, 600 make a table. */
    fill(db, "small", 50);
    fill(db, "big", 600);
    assert_string_equal(encoding(db, "small"), "$listpack");
    assert_string_equal(encoding(db, "big"), "$hashtable");
    static const long long counts[] = {1,   2,   10,  49,   50, 51, 150, 199,  200,
                                       201, 599, 600, 1000, -1, -7, -50, -1000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (int wv = 0; wv < 2; wv++) {
            check_randfield(db, "small", 50, counts[i], wv);
            check_randfield(db, "big", 600, counts[i], wv);
        }
    }
    /* The whole hash in storage order when count >= size (listpack). */
    ember_reply *r = NULL;
    assert_int_equal(ember_hrandfield(db, "small", 5, 60, 0, &r), EMBER_OK);
    for (size_t i = 0; i < ember_reply_len(r); i++)
        assert_int_equal(field_index(ember_reply_element(r, i), 'f'), (int)i);
    ember_reply_free(r);
    /* Single picks reach every field of a small hash. */
    fill(db, "three", 3);
    int hit[3] = {0};
    for (int i = 0; i < 300; i++) {
        ember_reply *x = ta_cmd_line(db, "hrandfield three");
        hit[field_index(x, 'f')]++;
        ember_reply_free(x);
    }
    assert_true(hit[0] > 0 && hit[1] > 0 && hit[2] > 0);
    /* Repeats beyond ember's bound are refused, not built. */
    assert_int_equal(ember_hrandfield(db, "small", 5, -(1ll << 40), 0, &r), EMBER_ERANGE);
    assert_int_equal(ember_hrandfield(db, "small", 5, INT64_MIN, 0, &r), EMBER_ERANGE);
    assert_int_equal(ember_hrandfield(db, "small", 5, INT64_MAX, 1, &r), EMBER_ERANGE);
    assert_int_equal(ember_hrandfield(db, "nokey", 5, 3, 1, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    SCRIPT(db, {"set s x", "+OK"});
    assert_int_equal(ember_hrandfield(db, "s", 1, 3, 1, &r), EMBER_EWRONGTYPE);
}

/* ------------------------------------------------------------ HSCAN of a table */

static void test_hscan_table(void **state)
{
    ember_db *db = *state;
    const int n = 2000;
    fill(db, "h", n);
    assert_string_equal(encoding(db, "h"), "$hashtable");
    char *seen = calloc((size_t)n, 1);
    uint64_t cursor = 0;
    int calls = 0;
    do {
        ember_reply *r = NULL;
        assert_int_equal(ember_hscan(db, "h", 1, cursor, NULL, 0, 0, &cursor, &r), EMBER_OK);
        assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
        assert_int_equal(ember_reply_len(r) % 2, 0);
        for (size_t i = 0; i < ember_reply_len(r); i += 2) {
            int fi = field_index(ember_reply_element(r, i), 'f');
            assert_int_equal(field_index(ember_reply_element(r, i + 1), 'v'), fi);
            seen[fi] = 1;
        }
        ember_reply_free(r);
        calls++;
    } while (cursor != 0);
    assert_true(calls > 10); /* chunked, not one reply */
    for (int i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    /* MATCH filters fields: f1, f1x and f1xx. */
    memset(seen, 0, (size_t)n);
    cursor = 0;
    size_t got = 0;
    do {
        ember_reply *r = NULL;
        assert_int_equal(ember_hscan(db, "h", 1, cursor, "f1*", 3, 100, &cursor, &r), EMBER_OK);
        for (size_t i = 0; i < ember_reply_len(r); i += 2) {
            int fi = field_index(ember_reply_element(r, i), 'f');
            char buf[16];
            snprintf(buf, sizeof buf, "%d", fi);
            assert_int_equal(buf[0], '1');
            if (!seen[fi])
                got++;
            seen[fi] = 1;
        }
        ember_reply_free(r);
    } while (cursor != 0);
    assert_int_equal(got, 1 + 10 + 100 + 1000);
    free(seen);
    /* A huge COUNT returns everything at once. */
    ember_reply *r = NULL;
    assert_int_equal(ember_hscan(db, "h", 1, 0, NULL, 0, 100000, &cursor, &r), EMBER_OK);
    assert_int_equal(cursor, 0);
    assert_int_equal(ember_reply_len(r), 2 * (size_t)n);
    ember_reply_free(r);
    /* Errors and edge cases of the wrapper. */
    assert_int_equal(ember_hscan(db, "nokey", 5, 0, NULL, 0, 0, &cursor, &r), EMBER_OK);
    assert_int_equal(cursor, 0);
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    SCRIPT(db, {"set s x", "+OK"});
    assert_int_equal(ember_hscan(db, "s", 1, 0, NULL, 0, 0, &cursor, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hscan(db, "h", 1, 0, NULL, 3, 0, &cursor, &r), EMBER_EINVAL);
    assert_int_equal(ember_hscan(db, "h", 1, 0, NULL, 0, 0, NULL, &r), EMBER_EINVAL);
    assert_int_equal(ember_hscan(NULL, "h", 1, 0, NULL, 0, 0, &cursor, &r), EMBER_EINVAL);
}

/* HGETALL / HKEYS / HVALS of a table agree with each other and hold every field. */
static void test_getall_table(void **state)
{
    ember_db *db = *state;
    fill(db, "h", 700);
    ember_reply *all = NULL, *keys = NULL, *vals = NULL;
    assert_int_equal(ember_hgetall(db, "h", 1, &all), EMBER_OK);
    assert_int_equal(ember_hkeys(db, "h", 1, &keys), EMBER_OK);
    assert_int_equal(ember_hvals(db, "h", 1, &vals), EMBER_OK);
    assert_int_equal(ember_reply_type(all), EMBER_REPLY_MAP);
    assert_int_equal(ember_reply_len(all), 1400);
    assert_int_equal(ember_reply_len(keys), 700);
    assert_int_equal(ember_reply_len(vals), 700);
    char seen[700] = {0};
    for (size_t i = 0; i < 700; i++) {
        int fi = field_index(ember_reply_element(all, 2 * i), 'f');
        assert_int_equal(field_index(ember_reply_element(all, 2 * i + 1), 'v'), fi);
        assert_int_equal(field_index(ember_reply_element(keys, i), 'f'), fi);
        assert_int_equal(field_index(ember_reply_element(vals, i), 'v'), fi);
        assert_int_equal(seen[fi], 0);
        seen[fi] = 1;
    }
    ember_reply_free(all);
    ember_reply_free(keys);
    ember_reply_free(vals);
    /* Deleting every field deletes the key (the table path of HDEL). */
    for (int i = 0; i < 700; i++) {
        char f[16];
        int fl = snprintf(f, sizeof f, "f%d", i);
        const void *fp[2] = {f, f};
        size_t flen[2] = {(size_t)fl, (size_t)fl};
        int64_t removed = -1;
        assert_int_equal(ember_hdel(db, "h", 1, 2, fp, flen, &removed), EMBER_OK);
        assert_int_equal(removed, 1);
    }
    assert_string_equal(ta_run(db, "exists h"), ":0");
    /* Listpack order is insertion order, also after deletes and updates. */
    SCRIPT(db, {"hset l c 1 a 2 b 3", ":3"}, {"hdel l a", ":1"}, {"hset l a 4 c 5", ":1"},
           {"hgetall l", "%[$c|$5|$b|$3|$a|$4]"}, {"hkeys l", "*[$c|$b|$a]"},
           {"hvals l", "*[$5|$3|$4]"});
}

/* ------------------------------------------------------------ typed wrappers */

static void test_typed(void **state)
{
    ember_db *db = *state;
    const void *f[3] = {"a", "b", "a"}, *v[3] = {"1", "2", "3"};
    size_t fl[3] = {1, 1, 1}, vl[3] = {1, 1, 1};
    int64_t n = -1;
    int flag = -1;
    void *val = NULL;
    size_t vlen = 0;
    ember_reply *r = NULL;

    /* HSET / HGET / HSETNX */
    assert_int_equal(ember_hset(db, "h", 1, 3, f, fl, v, vl, &n), EMBER_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ember_hset(db, "h", 1, 1, f, fl, v, vl, NULL), EMBER_OK);
    assert_int_equal(ember_hget(db, "h", 1, "a", 1, &val, &vlen), EMBER_OK);
    assert_int_equal(vlen, 1);
    assert_memory_equal(val, "1", 2); /* NUL-terminated */
    ember_free(val);
    assert_int_equal(ember_hget(db, "h", 1, "zz", 2, &val, &vlen), EMBER_ENOTFOUND);
    assert_int_equal(ember_hget(db, "nokey", 5, "a", 1, &val, &vlen), EMBER_ENOTFOUND);
    assert_int_equal(ember_hsetnx(db, "h", 1, "a", 1, "x", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 0);
    assert_int_equal(ember_hsetnx(db, "h", 1, "c", 1, "x", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 1);
    assert_int_equal(ember_hsetnx(db, "h", 1, "", 0, NULL, 0, NULL), EMBER_OK);
    assert_int_equal(ember_hget(db, "h", 1, "", 0, &val, &vlen), EMBER_OK);
    assert_int_equal(vlen, 0);
    ember_free(val);
    /* binary-safe fields and values */
    const void *bf[1] = {"a\0b"}, *bv[1] = {"\0\r\n"};
    size_t bfl[1] = {3}, bvl[1] = {3};
    assert_int_equal(ember_hset(db, "bin", 3, 1, bf, bfl, bv, bvl, &n), EMBER_OK);
    assert_int_equal(ember_hget(db, "bin", 3, "a\0b", 3, &val, &vlen), EMBER_OK);
    assert_int_equal(vlen, 3);
    assert_memory_equal(val, "\0\r\n", 3);
    ember_free(val);
    assert_int_equal(ember_hget(db, "bin", 3, "a", 1, &val, &vlen), EMBER_ENOTFOUND);

    /* HMGET */
    const void *mf[3] = {"a", "nope", "c"};
    size_t mfl[3] = {1, 4, 1};
    assert_int_equal(ember_hmget(db, "h", 1, 3, mf, mfl, &r), EMBER_OK);
    char buf[256];
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$1|(nil)|$x]");
    ember_reply_free(r);
    assert_int_equal(ember_hmget(db, "nokey", 5, 3, mf, mfl, &r), EMBER_OK);
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[(nil)|(nil)|(nil)]");
    ember_reply_free(r);

    /* HLEN / HSTRLEN / HEXISTS */
    assert_int_equal(ember_hlen(db, "h", 1, &n), EMBER_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ember_hlen(db, "nokey", 5, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_hstrlen(db, "bin", 3, "a\0b", 3, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_hstrlen(db, "h", 1, "zz", 2, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_hexists(db, "h", 1, "c", 1, &flag), EMBER_OK);
    assert_int_equal(flag, 1);
    assert_int_equal(ember_hexists(db, "h", 1, "zz", 2, &flag), EMBER_OK);
    assert_int_equal(flag, 0);
    assert_int_equal(ember_hexists(db, "nokey", 5, "zz", 2, NULL), EMBER_OK);

    /* HGETALL / HKEYS / HVALS (listpack: insertion order) */
    assert_int_equal(ember_hgetall(db, "h", 1, &r), EMBER_OK);
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "%[$a|$1|$b|$2|$c|$x|$|$]");
    ember_reply_free(r);
    assert_int_equal(ember_hkeys(db, "h", 1, &r), EMBER_OK);
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$a|$b|$c|$]");
    ember_reply_free(r);
    assert_int_equal(ember_hvals(db, "h", 1, &r), EMBER_OK);
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$1|$2|$x|$]");
    ember_reply_free(r);
    assert_int_equal(ember_hgetall(db, "nokey", 5, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_MAP);
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);

    /* HINCRBY / HINCRBYFLOAT */
    int64_t iv = 0;
    assert_int_equal(ember_hincrby(db, "h", 1, "a", 1, 41, &iv), EMBER_OK);
    assert_int_equal(iv, 42);
    assert_int_equal(ember_hincrby(db, "h", 1, "n", 1, INT64_MAX, &iv), EMBER_OK);
    assert_int_equal(ember_hincrby(db, "h", 1, "n", 1, 1, &iv), EMBER_EOVERFLOW);
    assert_int_equal(iv, INT64_MAX); /* unchanged on failure */
    assert_int_equal(ember_hincrby(db, "h", 1, "c", 1, 1, &iv), EMBER_ENOTINT);
    assert_int_equal(ember_hincrby(db, "h2", 2, "f", 1, -5, NULL), EMBER_OK);
    double d = 0;
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "a", 1, 0.5, &d), EMBER_OK);
    assert_true(d == 42.5);
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "fl", 2, 0.1, &d), EMBER_OK);
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "fl", 2, 0.2, &d), EMBER_OK);
    assert_true(d == 0.3);
    assert_int_equal(ember_hget(db, "h", 1, "fl", 2, &val, &vlen), EMBER_OK);
    assert_string_equal(val, "0.3");
    ember_free(val);
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "c", 1, 1, &d), EMBER_ENOTFLOAT);
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "a", 1, INFINITY, &d), EMBER_ENOTFLOAT);
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "a", 1, NAN, &d), EMBER_ENOTFLOAT);
    assert_int_equal(ember_hset(db, "h", 1, 1, (const void *const[]){"inf"}, (size_t[]){3},
                                (const void *const[]){"inf"}, (size_t[]){3}, NULL),
                     EMBER_OK);
    assert_int_equal(ember_hincrbyfloat(db, "h", 1, "inf", 3, 1, &d), EMBER_EREPLY);

    /* HDEL: counts, repeats, and the key goes with its last field */
    const void *df[4] = {"a", "a", "zz", "b"};
    size_t dfl[4] = {1, 1, 2, 1};
    assert_int_equal(ember_hdel(db, "h", 1, 4, df, dfl, &n), EMBER_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ember_hdel(db, "nokey", 5, 4, df, dfl, &n), EMBER_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ember_hdel(db, "h2", 2, 1, (const void *const[]){"f"}, (size_t[]){1}, &n),
                     EMBER_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ta_run(db, "exists h2"), ":0");

    /* WRONGTYPE from every wrapper */
    assert_int_equal(ember_set(db, "s", 1, "x", 1), EMBER_OK);
    assert_int_equal(ember_hset(db, "s", 1, 1, f, fl, v, vl, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hsetnx(db, "s", 1, "a", 1, "b", 1, &flag), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hget(db, "s", 1, "a", 1, &val, &vlen), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hmget(db, "s", 1, 1, f, fl, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hdel(db, "s", 1, 1, f, fl, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hlen(db, "s", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hstrlen(db, "s", 1, "a", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hexists(db, "s", 1, "a", 1, &flag), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hgetall(db, "s", 1, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hkeys(db, "s", 1, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hvals(db, "s", 1, &r), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hincrby(db, "s", 1, "a", 1, 1, &iv), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hincrbyfloat(db, "s", 1, "a", 1, 1, &d), EMBER_EWRONGTYPE);
    assert_int_equal(ember_hrandfield(db, "s", 1, 1, 0, &r), EMBER_EWRONGTYPE);

    /* invalid arguments */
    assert_int_equal(ember_hset(NULL, "h", 1, 1, f, fl, v, vl, &n), EMBER_EINVAL);
    assert_int_equal(ember_hset(db, "h", 1, 0, f, fl, v, vl, &n), EMBER_EINVAL);
    assert_int_equal(ember_hset(db, "h", 1, 1, NULL, fl, v, vl, &n), EMBER_EINVAL);
    assert_int_equal(ember_hset(db, "h", 1, 1, f, fl, NULL, vl, &n), EMBER_EINVAL);
    assert_int_equal(ember_hset(db, NULL, 1, 1, f, fl, v, vl, &n), EMBER_EINVAL);
    assert_int_equal(ember_hget(db, "h", 1, NULL, 1, &val, &vlen), EMBER_EINVAL);
    assert_int_equal(ember_hmget(db, "h", 1, 0, f, fl, &r), EMBER_EINVAL);
    assert_int_equal(ember_hmget(db, "h", 1, 1, f, fl, NULL), EMBER_EINVAL);
    assert_int_equal(ember_hdel(db, "h", 1, 0, f, fl, &n), EMBER_EINVAL);
    assert_int_equal(ember_hgetall(db, "h", 1, NULL), EMBER_EINVAL);
    assert_int_equal(ember_hrandfield(db, "h", 1, 1, 0, NULL), EMBER_EINVAL);
    assert_int_equal(ember_hlen(NULL, "h", 1, &n), EMBER_EINVAL);
    assert_int_equal(ember_hsetnx(db, "h", 1, "a", 1, NULL, 2, &flag), EMBER_EINVAL);

    /* Many pairs in one call (the argv goes to the heap). */
    enum { MANY = 300 };
    const void *mfs[MANY], *mvs[MANY];
    size_t mfls[MANY], mvls[MANY];
    static char names[MANY][8];
    for (int i = 0; i < MANY; i++) {
        mfls[i] = (size_t)snprintf(names[i], sizeof names[i], "m%d", i);
        mfs[i] = mvs[i] = names[i];
        mvls[i] = mfls[i];
    }
    assert_int_equal(ember_hset(db, "many", 4, MANY, mfs, mfls, mvs, mvls, &n), EMBER_OK);
    assert_int_equal(n, MANY);
    assert_int_equal(ember_hmget(db, "many", 4, MANY, mfs, mfls, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), MANY);
    ember_reply_free(r);
    assert_int_equal(ember_hdel(db, "many", 4, MANY, mfs, mfls, &n), EMBER_OK);
    assert_int_equal(n, MANY);
    assert_string_equal(ta_run(db, "exists many"), ":0");
}

/* Encodings and thresholds through the typed path; a table hash survives
 * COPY, RENAME, EXPIRE and a lowered threshold without turning back. */
static void test_table_keys(void **state)
{
    ember_db *db = *state;
    fill(db, "h", 513);
    assert_string_equal(encoding(db, "h"), "$hashtable");
    SCRIPT(db, {"copy h h2", ":1"}, {"object encoding h2", "$hashtable"}, {"hlen h2", ":513"},
           {"hget h2 f512", "$v512"}, {"hdel h2 f0", ":1"}, {"hlen h", ":513"},
           {"rename h2 h3", "+OK"}, {"hlen h3", ":512"}, {"object encoding h3", "$hashtable"},
           {"pexpire h3 100", ":1"}, {"hset h3 new 1", ":1"}, {"pttl h3", ":100"},
           {"config set hash-max-listpack-entries 100000", "+OK"}, {"hset h3 new2 1", ":1"},
           {"object encoding h3", "$hashtable"});
    assert_int_equal(ember_clock_advance(db, 101), EMBER_OK);
    SCRIPT(db, {"exists h3", ":0"}, {"hlen h3", ":0"}, {"del h", ":1"}, {"exists h", ":0"});
    /* A big hash freed on the lazy-free thread, and one freed by FLUSHALL ASYNC. */
    fill(db, "u", 3000);
    fill(db, "u2", 3000);
    SCRIPT(db, {"unlink u", ":1"}, {"exists u", ":0"}, {"flushall async", "+OK"},
           {"exists u2", ":0"});
    /* With the raised threshold 2000 fields stay a listpack, in order. */
    fill(db, "lp", 2000);
    assert_string_equal(encoding(db, "lp"), "$listpack");
    SCRIPT(db, {"hget lp f1999", "$v1999"}, {"hstrlen lp f1000", ":5"}, {"hlen lp", ":2000"},
           {"hscan lp 0 match f1999", "*[$0|*[$f1999|$v1999]]"});
}

/* ------------------------------------------------------------ OOM */

static void test_oom(void **state)
{
    (void)state;
    ember_db *db = open_db(ta_mode, 1);
    SCRIPT(db, {"config set hash-max-listpack-entries 4", "+OK"}, {"hset h a 1 b 2", ":2"});
    /* A failing allocator: the error is the OOM reply and nothing changes. */
    const void *f[1] = {"c"}, *v[1] = {"3"};
    size_t fl[1] = {1}, vl[1] = {1};
    atomic_store(&ta_fail_alloc, 1);
    int rc1 = ember_hset(db, "new", 3, 1, f, fl, v, vl, NULL);
    /* (a value long enough that the listpack's rounding slack cannot take it) */
    const void *lv[1] = {"0123456789012345678901234567890123456789"};
    size_t lvl[1] = {40};
    int rc2 = ember_hset(db, "h", 1, 1, f, fl, lv, lvl, NULL);
    atomic_store(&ta_fail_alloc, 0);
    assert_true(rc1 == EMBER_ENOMEM);
    assert_true(rc2 == EMBER_ENOMEM);
    SCRIPT(db, {"exists new", ":0"}, {"hgetall h", "%[$a|$1|$b|$2]"}, {"hset h c 3 d 4", ":2"},
           {"object encoding h", "$listpack"});
    /* The conversion itself failing leaves the listpack as it was. */
    atomic_store(&ta_fail_alloc, 1);
    int rc3 = ember_hset(db, "h", 1, 1, (const void *const[]){"e"}, (size_t[]){1}, v, vl, NULL);
    atomic_store(&ta_fail_alloc, 0);
    assert_int_equal(rc3, EMBER_ENOMEM);
    SCRIPT(db, {"object encoding h", "$listpack"}, {"hgetall h", "%[$a|$1|$b|$2|$c|$3|$d|$4]"},
           {"hset h e 5", ":1"}, {"object encoding h", "$hashtable"}, {"hlen h", ":5"});
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------ main */

#define T(fn) cmocka_unit_test_setup_teardown(fn, ta_setup, ta_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_basics),       T(test_errors), T(test_incr),       T(test_scan),
        T(test_enc),          T(test_keys),   T(test_hrandfield), T(test_hscan_table),
        T(test_getall_table), T(test_typed),  T(test_table_keys), cmocka_unit_test(test_oom),
    };
    int failed = 0;
    ta_mode = EMBER_MODE_EXECUTOR;
    failed += cmocka_run_group_tests_name("hashes/executor", tests, NULL, NULL);
    ta_mode = EMBER_MODE_INLINE;
    failed += cmocka_run_group_tests_name("hashes/inline", tests, NULL, NULL);
    return failed ? 1 : 0;
}
