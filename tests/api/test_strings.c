/*
 * test_strings.c — the string commands (and LCS) and their typed wrappers, through the
 * public header only. Expected replies and error texts are those redis-server
 * 7.0.15 gave for the same commands. TTLs are checked with the virtual clock:
 * a key with expire time T is alive at T and gone at T + 1 ms.
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

static void advance(ember_db *db, int64_t ms)
{
    assert_int_equal(ember_clock_advance(db, ms), EMBER_OK);
}

#define SYNTAX "-ERR syntax error"
#define NOTINT "-ERR value is not an integer or out of range"
#define NOTFLOAT "-ERR value is not a valid float"
#define OVERFLOW "-ERR increment or decrement would overflow"
#define NANINF "-ERR increment would produce NaN or Infinity"
#define TOOBIG "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define OOM "-OOM command not allowed when used memory > 'maxmemory'."
#define BADEXP(cmd) "-ERR invalid expire time in '" cmd "' command"
#define ARITY(cmd) "-ERR wrong number of arguments for '" cmd "' command"
#define LCSMEM "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
#define LCSBOTH "-ERR If you want both the length and indexes, please just use IDX."

/* ------------------------------------------------------------ GET / SET */

static void test_get_set(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"GET k", "(nil)"}, {"SET k v", "+OK"}, {"GET k", "$v"}, {"set k w", "+OK"},
           {"gEt k", "$w"}, {"SET k \"\"", "+OK"}, {"GET k", "$"}, {"SET \"\" empty", "+OK"},
           {"GET \"\"", "$empty"}, {"SET k", ARITY("set")}, {"SET", ARITY("set")},
           {"GET", ARITY("get")}, {"GET a b", ARITY("get")}, {"SET n 9223372036854775807", "+OK"},
           {"GET n", "$9223372036854775807"}, {"SET n -9223372036854775808", "+OK"},
           {"GET n", "$-9223372036854775808"}, {"SET n 007", "+OK"}, {"GET n", "$007"});
}

static void test_set_options(void **state)
{
    ember_db *db = *state;
    SCRIPT(db,
           /* NX / XX */
           {"SET k v NX", "+OK"}, {"SET k v2 NX", "(nil)"}, {"GET k", "$v"}, {"SET k v3 XX", "+OK"},
           {"GET k", "$v3"}, {"SET other v XX", "(nil)"}, {"GET other", "(nil)"},
           {"SET k v nx nx", "(nil)"}, {"SET k v4 xx xx", "+OK"},
           /* GET, alone and with NX/XX (allowed together since 7.0) */
           {"SET k v5 GET", "$v4"}, {"SET k v6 GET GET", "$v5"}, {"SET new v GET", "(nil)"},
           {"GET new", "$v"}, {"SET k v7 GET NX", "$v6"}, {"GET k", "$v6"},
           {"SET k2 a NX GET", "(nil)"}, {"GET k2", "$a"}, {"SET k3 a XX GET", "(nil)"},
           {"GET k3", "(nil)"}, {"SET k v8 XX GET", "$v6"}, {"GET k", "$v8"},
           /* conflicts and unknown words */
           {"SET k v NX XX", SYNTAX}, {"SET k v XX NX", SYNTAX}, {"SET k v NX XX GET", SYNTAX},
           {"SET k v EX 10 PX 10", SYNTAX}, {"SET k v PX 10 EX 10", SYNTAX},
           {"SET k v EX 10 EXAT 10", SYNTAX}, {"SET k v PXAT 10 PX 10", SYNTAX},
           {"SET k v EX 10 KEEPTTL", SYNTAX}, {"SET k v KEEPTTL EX 10", SYNTAX},
           {"SET k v KEEPTTL PXAT 10", SYNTAX}, {"SET k v GET EX 100 KEEPTTL", SYNTAX},
           {"SET k v EX", SYNTAX}, {"SET k v PX", SYNTAX}, {"SET k v NX EXAT", SYNTAX},
           {"SET k v foo", SYNTAX}, {"SET k v PERSIST", SYNTAX}, {"SET k v EX 0 foo", SYNTAX},
           /* syntax is checked before the expire value */
           {"SET k v EX abc NX XX", SYNTAX}, {"SET k v EX 0 NX XX", SYNTAX},
           /* repeats: the last value wins */
           {"SET k v EX 10 EX 20", "+OK"}, {"SET k v KEEPTTL KEEPTTL", "+OK"},
           {"SET k v9 EX 100 GET", "$v"}, {"GET k", "$v9"});
}

static void test_set_expire_errors(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SET k v EX 0", BADEXP("set")}, {"SET k v EX -1", BADEXP("set")},
           {"SET k v PX 0", BADEXP("set")}, {"SET k v EXAT 0", BADEXP("set")},
           {"SET k v PXAT 0", BADEXP("set")}, {"SET k v PXAT -5", BADEXP("set")},
           {"SET k v EX abc", NOTINT}, {"SET k v EX 1.5", NOTINT}, {"SET k v EX 01", NOTINT},
           {"SET k v EX \" 1\"", NOTINT}, {"SET k v EX +1", NOTINT}, {"SET k v EX NX", NOTINT},
           /* seconds -> ms overflows */
           {"SET k v EX 9223372036854775807", BADEXP("set")},
           {"SET k v EXAT 9223372036854776", BADEXP("set")},
           {"SET k v EXAT 9223372036854775000", BADEXP("set")},
           /* adding now overflows */
           {"SET k v EX 9223372036854775", BADEXP("set")},
           {"SET k v PX 9223372036854775807", BADEXP("set")},
           {"SET k v PX 9223372036854775000", BADEXP("set")},
           {"SET k v EX 99999999999999999999", NOTINT},
           /* nothing was written by any of the above */
           {"GET k", "(nil)"},
           /* the largest absolute times that fit */
           {"SET k v EXAT 9223372036854775", "+OK"}, {"SET k v PXAT 9223372036854775807", "+OK"},
           {"SET k v EX 9223372036854", "+OK"}, {"GET k", "$v"});
}

static void test_set_ttl(void **state)
{
    ember_db *db = *state;
    /* EX 10: alive at T+10000, gone at T+10001. */
    SCRIPT(db, {"SET a v EX 10", "+OK"}, {"SET b v PX 1500", "+OK"},
           {"SET c v EXAT 1700000005", "+OK"}, {"SET d v PXAT 1700000000700", "+OK"},
           {"SET e v", "+OK"});
    advance(db, 700);
    SCRIPT(db, {"GET d", "$v"});
    advance(db, 1);
    SCRIPT(db, {"GET d", "(nil)"}, {"GET b", "$v"});
    advance(db, 799); /* T+1500 */
    SCRIPT(db, {"GET b", "$v"});
    advance(db, 1);
    SCRIPT(db, {"GET b", "(nil)"}, {"GET c", "$v"});
    advance(db, 3500); /* T+5001 */
    SCRIPT(db, {"GET c", "(nil)"}, {"GET a", "$v"});
    advance(db, 4999); /* T+10000 */
    SCRIPT(db, {"GET a", "$v"});
    advance(db, 1);
    SCRIPT(db, {"GET a", "(nil)"}, {"GET e", "$v"});
}

static void test_set_keepttl_and_overwrite(void **state)
{
    ember_db *db = *state;
    SCRIPT(db,
           /* KEEPTTL keeps the old expire time; plain SET drops it */
           {"SET k v PX 1000", "+OK"}, {"SET k v2 KEEPTTL", "+OK"}, {"SET p v PX 1000", "+OK"},
           {"SET p v2", "+OK"}, {"SET x v PX 1000", "+OK"}, {"SET x v2 XX", "+OK"},
           {"SET y v PX 1000", "+OK"}, {"SET y v2 XX KEEPTTL GET", "$v"},
           {"SET z v PX 1000", "+OK"}, {"SET z v2 NX PX 5000", "(nil)"},
           /* KEEPTTL on a missing key or one without TTL sets none */
           {"SET q v KEEPTTL", "+OK"}, {"SET r v", "+OK"}, {"SET r v2 KEEPTTL", "+OK"},
           /* GETSET and MSET drop the TTL; MSETNX that fails leaves it */
           {"SET gs v PX 1000", "+OK"}, {"GETSET gs w", "$v"}, {"SET ms v PX 1000", "+OK"},
           {"MSET ms w", "+OK"}, {"SET mn v PX 1000", "+OK"}, {"MSETNX mn w", ":0"});
    advance(db, 1001);
    SCRIPT(db, {"GET k", "(nil)"}, {"GET p", "$v2"}, {"GET x", "$v2"}, {"GET y", "(nil)"},
           {"GET z", "(nil)"}, {"GET q", "$v"}, {"GET r", "$v2"}, {"GET gs", "$w"},
           {"GET ms", "$w"}, {"GET mn", "(nil)"});
    /* An absolute time in the past: the write succeeds, the key is expired. */
    SCRIPT(db, {"SET old v EXAT 1", "+OK"}, {"GET old", "(nil)"}, {"SET old2 v", "+OK"},
           {"SET old2 w PXAT 1 GET", "$v"}, {"GET old2", "(nil)"},
           /* an expired key is absent for NX / XX */
           {"SET t v PX 10", "+OK"});
    advance(db, 11);
    SCRIPT(db, {"SET t v2 XX", "(nil)"}, {"SET t v3 NX", "+OK"}, {"GET t", "$v3"});
}

static void test_setnx_setex_psetex_getset(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SETNX k v", ":1"}, {"SETNX k v2", ":0"}, {"GET k", "$v"},
           {"SETNX k", ARITY("setnx")}, {"SETNX", ARITY("setnx")},
           /* SETEX / PSETEX */
           {"SETEX s 10 v", "+OK"}, {"PSETEX p 1500 v", "+OK"}, {"SETEX s2 0 v", BADEXP("setex")},
           {"SETEX s2 -5 v", BADEXP("setex")}, {"PSETEX s2 0 v", BADEXP("psetex")},
           {"SETEX s2 abc v", NOTINT}, {"SETEX s2 1.5 v", NOTINT}, {"SETEX s2 +1 v", NOTINT},
           {"SETEX s2 9223372036854775 v", BADEXP("setex")},
           {"PSETEX s2 9223372036854775807 v", BADEXP("psetex")}, {"GET s2", "(nil)"},
           {"SETEX s2 10", ARITY("setex")}, {"PSETEX s2 1", ARITY("psetex")},
           {"SETEX n 10 12345", "+OK"}, {"GET n", "$12345"},
           /* GETSET */
           {"GETSET g v", "(nil)"}, {"GETSET g w", "$v"}, {"GET g", "$w"},
           {"GETSET g", ARITY("getset")});
    advance(db, 1500);
    SCRIPT(db, {"GET p", "$v"}, {"GET s", "$v"});
    advance(db, 1);
    SCRIPT(db, {"GET p", "(nil)"}, {"GET s", "$v"});
    advance(db, 8499);
    SCRIPT(db, {"GET s", "$v"});
    advance(db, 1);
    SCRIPT(db, {"GET s", "(nil)"}, {"SETNX s again", ":1"}, {"GET s", "$again"});
}

/* ------------------------------------------------------------ GETDEL / GETEX */

static void test_getdel(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"GETDEL k", "(nil)"}, {"SET k v", "+OK"}, {"GETDEL k", "$v"}, {"GET k", "(nil)"},
           {"GETDEL k", "(nil)"}, {"SET n 42", "+OK"}, {"GETDEL n", "$42"},
           {"GETDEL", ARITY("getdel")}, {"GETDEL a b", ARITY("getdel")}, {"SET t v PX 5", "+OK"});
    advance(db, 6);
    SCRIPT(db, {"GETDEL t", "(nil)"});
}

static void test_getex(void **state)
{
    ember_db *db = *state;
    SCRIPT(db,
           /* missing key: nil even with an invalid time (checked later), not with bad syntax */
           {"GETEX none", "(nil)"}, {"GETEX none EX 10", "(nil)"}, {"GETEX none EX 0", "(nil)"},
           {"GETEX none EX abc", "(nil)"}, {"GETEX none foo", SYNTAX}, {"SET k v", "+OK"},
           {"GETEX k EX 0", BADEXP("getex")}, {"GETEX k EX -1", BADEXP("getex")},
           {"GETEX k PX 0", BADEXP("getex")}, {"GETEX k PXAT 0", BADEXP("getex")},
           {"GETEX k EXAT -1", BADEXP("getex")}, {"GETEX k EX abc", NOTINT},
           {"GETEX k EX 9223372036854775", BADEXP("getex")},
           {"GETEX k EXAT 9223372036854776", BADEXP("getex")},
           {"GETEX k PX 9223372036854775807", BADEXP("getex")}, {"GETEX k foo", SYNTAX},
           {"GETEX k NX", SYNTAX}, {"GETEX k KEEPTTL", SYNTAX}, {"GETEX k GET", SYNTAX},
           {"GETEX k EX", SYNTAX}, {"GETEX k EX 10 PX 10", SYNTAX},
           {"GETEX k EX 10 PERSIST", SYNTAX}, {"GETEX k PERSIST EX 10", SYNTAX},
           {"GETEX k PERSIST PERSIST", "$v"}, {"GETEX", ARITY("getex")},
           /* set a TTL, repeat wins */
           {"GETEX k EX 10 EX 2", "$v"}, {"SET a 1", "+OK"}, {"GETEX a PX 1000", "$1"},
           {"SET b 2", "+OK"}, {"GETEX b PXAT 1700000000500", "$2"}, {"SET c 3", "+OK"},
           {"GETEX c EXAT 1700000001", "$3"},
           /* no option: TTL untouched; PERSIST removes it */
           {"SET d v PX 100", "+OK"}, {"GETEX d", "$v"}, {"SET e v PX 100", "+OK"},
           {"GETEX e PERSIST", "$v"}, {"SET f v", "+OK"}, {"GETEX f PERSIST", "$v"});
    advance(db, 101);
    SCRIPT(db, {"GET d", "(nil)"}, {"GET e", "$v"}, {"GET f", "$v"}, {"GET b", "$2"});
    advance(db, 400); /* T+501 */
    SCRIPT(db, {"GET b", "(nil)"}, {"GET a", "$1"}, {"GET c", "$3"});
    advance(db, 500); /* T+1001 */
    SCRIPT(db, {"GET a", "(nil)"}, {"GET c", "(nil)"}, {"GET k", "$v"});
    advance(db, 1000);
    SCRIPT(db, {"GET k", "(nil)"},
           /* an absolute time already past: replies the value, deletes the key */
           {"SET g v", "+OK"}, {"GETEX g EXAT 1", "$v"}, {"GET g", "(nil)"}, {"SET h v", "+OK"},
           {"GETEX h PXAT 1700000002001", "$v"}, {"GET h", "(nil)"});
}

/* ------------------------------------------------------------ MGET / MSET / MSETNX */

static void test_mget_mset_msetnx(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"MSET a 1 b hello", "+OK"}, {"MGET a b nokey a", "*[$1|$hello|(nil)|$1]"},
           {"MGET nokey", "*[(nil)]"}, {"MGET", ARITY("mget")}, {"MSET", ARITY("mset")},
           {"MSET a", ARITY("mset")}, {"MSET a 1 b", ARITY("mset")},
           {"MSETNX a 1 b", ARITY("msetnx")}, {"MSETNX", ARITY("msetnx")}, {"MSET m 1 m 2", "+OK"},
           {"GET m", "$2"},
           /* MSETNX: all or nothing */
           {"MSETNX x 1 y 2", ":1"}, {"MSETNX x 3 z 4", ":0"}, {"GET z", "(nil)"}, {"GET x", "$1"},
           {"MSETNX z 4 x 3", ":0"}, {"GET z", "(nil)"}, {"MSETNX x 1 x 2", ":0"},
           {"MSETNX w 1 w 2", ":1"}, {"GET w", "$2"},
           {"MSET p \"\" q 12345678901234567890123456789012345678901234567890", "+OK"},
           {"MGET p q", "*[$|$12345678901234567890123456789012345678901234567890]"},
           {"SET t v PX 5", "+OK"});
    advance(db, 6);
    SCRIPT(db, {"MGET t x", "*[(nil)|$1]"}, {"MSETNX t 1", ":1"}, {"GET t", "$1"});

    /* Many keys (beyond any small fixed buffer). */
    char line[1000];
    size_t n = (size_t)snprintf(line, sizeof line, "MSET");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, " key%d %d", i, i * 7);
    assert_string_equal(ta_run(db, line), "+OK");
    assert_string_equal(ta_run(db, "GET key39"), "$273");
    assert_string_equal(ta_run(db, "MGET key0 key20 key39 key40"), "*[$0|$140|$273|(nil)]");
    n = (size_t)snprintf(line, sizeof line, "MSETNX");
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, " nx%d v%d", i, i);
    assert_string_equal(ta_run(db, line), ":1");
    assert_string_equal(ta_run(db, "GET nx29"), "$v29");
}

/* ------------------------------------------------------------ APPEND / STRLEN */

static void test_append_strlen(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"APPEND k abc", ":3"}, {"APPEND k def", ":6"}, {"GET k", "$abcdef"},
           {"STRLEN k", ":6"}, {"APPEND k \"\"", ":6"}, {"SET n 12", "+OK"}, {"APPEND n 3", ":3"},
           {"GET n", "$123"}, {"INCR n", ":124"}, {"STRLEN n", ":3"}, {"STRLEN nokey", ":0"},
           {"APPEND e \"\"", ":0"}, {"GET e", "$"}, {"STRLEN e", ":0"},
           {"SET big -9223372036854775808", "+OK"}, {"STRLEN big", ":20"},
           {"APPEND", ARITY("append")}, {"APPEND k", ARITY("append")}, {"STRLEN", ARITY("strlen")},
           /* APPEND keeps the TTL (embstr rebuilt as raw, raw edited in place) */
           {"SET t abc PX 100", "+OK"}, {"APPEND t d", ":4"}, {"APPEND t e", ":5"});
    advance(db, 100);
    SCRIPT(db, {"GET t", "$abcde"});
    advance(db, 1);
    SCRIPT(db, {"GET t", "(nil)"}, {"APPEND t x", ":1"}, {"GET t", "$x"});

    /* Many appends: the value is exactly the concatenation. */
    char expect[2100] = "$";
    for (int i = 0; i < 2000; i++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "APPEND many %c", 'a' + i % 26);
        expect[1 + i] = (char)('a' + i % 26);
        char want[16];
        snprintf(want, sizeof want, ":%d", i + 1);
        assert_string_equal(ta_run(db, cmd), want);
    }
    expect[2001] = '\0';
    assert_string_equal(ta_run(db, "GET many"), expect);
}

/* ------------------------------------------------------------ GETRANGE / SETRANGE */

static void test_getrange(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SET s \"Hello World\"", "+OK"}, {"GETRANGE s 0 4", "$Hello"},
           {"GETRANGE s -5 -1", "$World"}, {"GETRANGE s 0 -1", "$Hello World"},
           {"GETRANGE s 5 2", "$"}, {"GETRANGE s -100 100", "$Hello World"},
           {"GETRANGE s 100 200", "$"}, {"GETRANGE s -1 -5", "$"}, {"GETRANGE s 0 0", "$H"},
           {"GETRANGE s 11 11", "$"}, {"GETRANGE s 10 10", "$d"}, {"GETRANGE s -1 0", "$"},
           {"GETRANGE s 3 -100", "$"}, {"GETRANGE s 0 9223372036854775807", "$Hello World"},
           {"GETRANGE s 0 11", "$Hello World"}, {"GETRANGE s 0 10", "$Hello World"},
           {"GETRANGE s 10 11", "$d"},
           {"GETRANGE s -9223372036854775808 -9223372036854775808", "$H"},
           {"GETRANGE s 9223372036854775807 -9223372036854775808", "$"}, {"SET n 12345", "+OK"},
           {"GETRANGE n 1 2", "$23"}, {"GETRANGE n -2 -1", "$45"}, {"GETRANGE nokey 0 -1", "$"},
           {"GETRANGE s a 1", NOTINT}, {"GETRANGE s 0 b", NOTINT}, {"GETRANGE nokey a 1", NOTINT},
           {"GETRANGE s 9223372036854775808 1", NOTINT}, {"SUBSTR s 0 4", "$Hello"},
           {"SUBSTR s -3 -1", "$rld"}, {"SUBSTR s 0", ARITY("substr")},
           {"GETRANGE s 0", ARITY("getrange")}, {"SET e \"\"", "+OK"}, {"GETRANGE e 0 -1", "$"},
           {"GETRANGE e -1 -1", "$"}, {"GETRANGE e 0 0", "$"});
}

static void test_setrange(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"SET s \"Hello World\"", "+OK"}, {"SETRANGE s 6 Redis", ":11"},
           {"GET s", "$Hello Redis"}, {"SETRANGE s -1 X", "-ERR offset is out of range"},
           {"SETRANGE s a X", NOTINT}, {"SETRANGE s 1.0 X", NOTINT},
           /* nothing to write: no key is created, the length is replied */
           {"SETRANGE nokey 0 \"\"", ":0"}, {"SETRANGE nokey 5 \"\"", ":0"}, {"GET nokey", "(nil)"},
           {"SETRANGE nokey -1 \"\"", "-ERR offset is out of range"},
           {"SETRANGE s -1 \"\"", "-ERR offset is out of range"}, {"SETRANGE s 100 \"\"", ":11"},
           {"SET n 12345", "+OK"}, {"SETRANGE n 0 \"\"", ":5"}, {"SETRANGE n 0 9", ":5"},
           {"GET n", "$92345"}, {"INCR n", ":92346"}, {"SETRANGE n 5 0", ":6"},
           {"GET n", "$923460"}, {"SETRANGE", ARITY("setrange")},
           {"SETRANGE k 1", ARITY("setrange")},
           /* growth past the end pads with zero bytes */
           {"SETRANGE nk 3 ab", ":5"}, {"STRLEN nk", ":5"}, {"GETRANGE nk 3 4", "$ab"},
           {"SETRANGE s 13 X", ":14"}, {"GETRANGE s 10 10", "$s"}, {"GETRANGE s 13 13", "$X"},
           /* the 512 MB limit (checked without allocating) */
           {"SETRANGE s2 536870912 x", TOOBIG}, {"SETRANGE s2 536870911 \"\"", ":0"},
           {"SETRANGE s2 536870912 \"\"", ":0"}, {"SETRANGE s2 9223372036854775807 x", TOOBIG},
           {"SETRANGE s2 4294967296 x", TOOBIG}, {"GET s2", "(nil)"},
           {"SETRANGE s 536870911 xy", TOOBIG}, {"GET s", "$Hello Redis\\x00\\x00X"},
           /* SETRANGE keeps the TTL */
           {"SET t abc PX 100", "+OK"}, {"SETRANGE t 1 X", ":3"}, {"SETRANGE t 1 Y", ":3"},
           {"SET t2 5 PX 100", "+OK"}, {"SETRANGE t2 0 7", ":1"});
    advance(db, 100);
    SCRIPT(db, {"GET t", "$aYc"}, {"GET t2", "$7"});
    advance(db, 1);
    SCRIPT(db, {"GET t", "(nil)"}, {"GET t2", "(nil)"});

    /* The zero padding, checked byte by byte. */
    ember_reply *r;
    const char *argv[] = {"GET", "nk"};
    assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
    size_t len;
    const char *p = ember_reply_str(r, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "\0\0\0ab", 5);
    ember_reply_free(r);
}

static void test_size_limit_config(void **state)
{
    (void)state;
    ember_db *db = open_db(ta_mode, 0, "1mb");
    SCRIPT(db, {"SETRANGE big 1048575 x", ":1048576"}, {"STRLEN big", ":1048576"},
           {"SETRANGE big 1048576 x", TOOBIG}, {"SETRANGE big 1048575 xy", TOOBIG},
           {"SETRANGE big2 1048576 x", TOOBIG}, {"APPEND big y", TOOBIG},
           {"APPEND big \"\"", ":1048576"}, {"SET small abc", "+OK"},
           {"SETRANGE small 1048574 xyz", TOOBIG}, {"SETRANGE small 1048573 xyz", ":1048576"},
           {"GETRANGE small 1048573 -1", "$xyz"}, {"CONFIG SET proto-max-bulk-len 2mb", "+OK"},
           {"APPEND big y", ":1048577"}, {"CONFIG SET proto-max-bulk-len 1mb", "+OK"});
    /* LCS refuses a table of (|a|+1) x (|b|+1) x 4 bytes above the limit. */
    char line[700];
    memset(line, 0, sizeof line);
    memcpy(line, "SET la ", 7);
    memset(line + 7, 'a', 511);
    assert_string_equal(ta_run(db, line), "+OK");
    line[5] = 'b';
    assert_string_equal(ta_run(db, line), "+OK");
    assert_string_equal(ta_run(db, "LCS la lb LEN"), ":511"); /* 512 x 512 x 4 = 1 MiB */
    SCRIPT(db, {"APPEND la a", ":512"}, {"LCS la lb", LCSMEM}, {"LCS lb la IDX", LCSMEM},
           {"LCS la nokey", "$"});
    ember_db_close(db);
}

/* ------------------------------------------------------------ counters */

static void test_incr_family(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"INCR k", ":1"}, {"INCRBY k 10", ":11"}, {"DECR k", ":10"}, {"DECRBY k 5", ":5"},
           {"DECRBY k -5", ":10"}, {"GET k", "$10"}, {"INCRBY k abc", NOTINT},
           {"INCRBY k 1.5", NOTINT}, {"INCRBY k \"\"", NOTINT},
           {"INCRBY k 9223372036854775808", NOTINT}, {"DECRBY k abc", NOTINT}, {"DECR nk", ":-1"},
           {"DECRBY nk2 3", ":-3"}, {"INCRBY nk3 -7", ":-7"},
           /* values that are not canonical integers */
           {"SET s abc", "+OK"}, {"INCR s", NOTINT}, {"SET s \" 1\"", "+OK"}, {"INCR s", NOTINT},
           {"SET s \"1 \"", "+OK"}, {"INCR s", NOTINT}, {"SET s 01", "+OK"}, {"INCR s", NOTINT},
           {"SET s +1", "+OK"}, {"INCR s", NOTINT}, {"SET s -0", "+OK"}, {"INCR s", NOTINT},
           {"SET s \"\"", "+OK"}, {"INCR s", NOTINT}, {"SET s 1.0", "+OK"}, {"INCR s", NOTINT},
           {"SET s 12345678901234567890", "+OK"}, {"INCR s", NOTINT},
           {"GET s", "$12345678901234567890"},
           /* overflow, both ways */
           {"SET s 9223372036854775807", "+OK"}, {"INCR s", OVERFLOW},
           {"INCRBY s 0", ":9223372036854775807"}, {"DECRBY s -1", OVERFLOW},
           {"SET s -9223372036854775808", "+OK"}, {"DECR s", OVERFLOW},
           {"DECRBY s 0", ":-9223372036854775808"}, {"INCRBY s -1", OVERFLOW},
           {"GET s", "$-9223372036854775808"}, {"SET s 0", "+OK"},
           {"DECRBY s -9223372036854775808", "-ERR decrement would overflow"},
           {"DECRBY s 9223372036854775807", ":-9223372036854775807"},
           {"DECRBY s 1", ":-9223372036854775808"}, {"DECRBY s 1", OVERFLOW}, {"SET s 5", "+OK"},
           {"DECRBY s -9223372036854775807", OVERFLOW}, {"SET s -2", "+OK"},
           {"INCRBY s -9223372036854775807", OVERFLOW},
           {"INCRBY s 9223372036854775807", ":9223372036854775805"},
           /* a canonical integer held as text (after APPEND) */
           {"SET a 10", "+OK"}, {"APPEND a 0", ":3"}, {"INCR a", ":101"}, {"INCR a", ":102"},
           {"INCR", ARITY("incr")}, {"INCR a b", ARITY("incr")}, {"INCRBY a", ARITY("incrby")},
           {"DECRBY a", ARITY("decrby")}, {"DECR", ARITY("decr")},
           /* INCR keeps the TTL, in place or when rebuilding */
           {"SET t 5 PX 100", "+OK"}, {"INCR t", ":6"}, {"SET u 1 PX 100", "+OK"},
           {"APPEND u 0", ":2"}, {"INCRBY u 5", ":15"});
    advance(db, 100);
    SCRIPT(db, {"GET t", "$6"}, {"GET u", "$15"});
    advance(db, 1);
    SCRIPT(db, {"GET t", "(nil)"}, {"GET u", "(nil)"}, {"INCR t", ":1"});
}

static void test_incrbyfloat(void **state)
{
    ember_db *db = *state;
    SCRIPT(db, {"INCRBYFLOAT f 1.5", "$1.5"}, {"INCRBYFLOAT f 1.5", "$3"},
           {"INCRBYFLOAT f 0.1", "$3.1"}, {"INCRBYFLOAT f abc", NOTFLOAT},
           {"INCRBYFLOAT f \"\"", NOTFLOAT}, {"INCRBYFLOAT f \" 1\"", NOTFLOAT},
           {"INCRBYFLOAT f \"1 \"", NOTFLOAT}, {"INCRBYFLOAT f nan", NOTFLOAT},
           {"INCRBYFLOAT f 1e-5000", NOTFLOAT}, {"INCRBYFLOAT f inf", NANINF},
           {"INCRBYFLOAT f -inf", NANINF}, {"INCRBYFLOAT f infinity", NANINF}, {"GET f", "$3.1"},
           {"SET y 10", "+OK"}, {"INCRBYFLOAT y 0", "$10"}, {"INCRBYFLOAT y 5.0e3", "$5010"},
           {"INCRBYFLOAT y -5010", "$0"}, {"INCRBYFLOAT y 0x10", "$16"},
           {"INCRBYFLOAT y 1e-20", "$16"}, {"SET s abc", "+OK"}, {"INCRBYFLOAT s 1", NOTFLOAT},
           {"SET z 1", "+OK"},
           {"INCRBYFLOAT z 1.23456789012345678901234567890", "$2.23456789012345679"},
           {"SET z 0", "+OK"}, {"INCRBYFLOAT z -0.0", "$0"}, {"SET z 3.0", "+OK"},
           /* 3 is below the long double's precision at 1e20: absorbed */
           {"INCRBYFLOAT z 1e20", "$100000000000000000000"}, {"INCRBYFLOAT z -1e20", "$0"},
           {"SET q \" 1\"", "+OK"}, {"INCRBYFLOAT q 1", NOTFLOAT}, {"SET q 1e2", "+OK"},
           {"INCRBYFLOAT q 1", "$101"}, {"SET q +1", "+OK"}, {"INCRBYFLOAT q 1", "$2"},
           {"SET q .5", "+OK"}, {"INCRBYFLOAT q 1", "$1.5"}, {"INCRBYFLOAT q 1.", "$2.5"},
           {"INCRBYFLOAT q 100000000000000000000000000000000000000000",
            "$99999999999999999996656269301985151287296"},
           {"INCRBYFLOAT n1 1e17", "$100000000000000000"},
           {"INCRBYFLOAT n2 -1e-17", "$-0.00000000000000001"}, {"INCRBYFLOAT n3 -0.1", "$-0.1"},
           {"INCRBYFLOAT n3 0.1", "$0"}, {"SET big 9223372036854775807", "+OK"},
           {"INCRBYFLOAT big 1", "$9223372036854775808"}, {"SET x 1e4932", "+OK"},
           {"INCRBYFLOAT x 1e4932", NANINF}, {"SET x 1.5e1000", "+OK"},
           {"INCRBYFLOAT x -1.5e1000", "$0"}, {"INCRBYFLOAT", ARITY("incrbyfloat")},
           {"INCRBYFLOAT x", ARITY("incrbyfloat")},
           /* keeps the TTL */
           {"SET t 5 PX 100", "+OK"}, {"INCRBYFLOAT t 1.5", "$6.5"});
    advance(db, 100);
    SCRIPT(db, {"GET t", "$6.5"});
    advance(db, 1);
    SCRIPT(db, {"GET t", "(nil)"});

    /* Results beyond double range keep every digit (long double). */
    const char *got = ta_run(db, "INCRBYFLOAT huge 1e400");
    const char *prefix = "$1000000000000000000028188068394758651458";
    assert_int_equal(strlen(got), 1 + 401);
    assert_memory_equal(got, prefix, strlen(prefix));
}

/* ------------------------------------------------------------ LCS */

static void test_lcs(void **state)
{
    ember_db *db = *state;
    SCRIPT(
        db, {"MSET key1 ohmytext key2 mynewtext", "+OK"}, {"LCS key1 key2", "$mytext"},
        {"LCS key1 key2 LEN", ":6"}, {"LCS key1 key2 len len", ":6"},
        {"LCS key1 key2 IDX", "%[$matches|*[*[*[:4|:7]|*[:5|:8]]|*[*[:2|:3]|*[:0|:1]]]|$len|:6]"},
        {"LCS key1 key2 IDX MINMATCHLEN 4", "%[$matches|*[*[*[:4|:7]|*[:5|:8]]]|$len|:6]"},
        {"LCS key1 key2 IDX WITHMATCHLEN",
         "%[$matches|*[*[*[:4|:7]|*[:5|:8]|:4]|*[*[:2|:3]|*[:0|:1]|:2]]|$len|:6]"},
        {"LCS key1 key2 idx minmatchlen -1 withmatchlen",
         "%[$matches|*[*[*[:4|:7]|*[:5|:8]|:4]|*[*[:2|:3]|*[:0|:1]|:2]]|$len|:6]"},
        {"LCS key1 key2 withmatchlen minmatchlen 3 idx",
         "%[$matches|*[*[*[:4|:7]|*[:5|:8]|:4]]|$len|:6]"},
        /* WITHMATCHLEN and MINMATCHLEN without IDX change nothing */
        {"LCS key1 key2 WITHMATCHLEN MINMATCHLEN 5", "$mytext"},
        /* missing keys are empty strings */
        {"LCS key1 nokey", "$"}, {"LCS nokey nokey2 LEN", ":0"},
        {"LCS nokey key1 IDX", "%[$matches|*[]|$len|:0]"},
        /* ties: which subsequence and which runs (as redis-server) */
        {"MSET a abcbdab b bdcaba", "+OK"}, {"LCS a b", "$bdab"}, {"LCS b a", "$bcba"},
        {"LCS a b IDX WITHMATCHLEN",
         "%[$matches|*[*[*[:5|:6]|*[:3|:4]|:2]|*[*[:3|:4]|*[:0|:1]|:2]]|$len|:4]"},
        {"MSET a aaabbb b ababab", "+OK"}, {"LCS a b", "$abbb"}, {"LCS b a", "$aaab"},
        {"LCS a b IDX WITHMATCHLEN",
         "%[$matches|*[*[*[:5|:5]|*[:5|:5]|:1]|*[*[:4|:4]|*[:3|:3]|:1]|*[*[:2|:3]|*[:0|:1]|:2]]"
         "|$len|:4]"},
        {"LCS a b IDX MINMATCHLEN 2", "%[$matches|*[*[*[:2|:3]|*[:0|:1]]]|$len|:4]"},
        {"MSET a xyz01zy b 10zyx", "+OK"}, {"LCS a b", "$1zy"}, {"LCS b a", "$0zy"},
        {"MSET n 12345 m 92340", "+OK"}, {"LCS n m", "$234"},
        /* errors */
        {"LCS key1 key2 LEN IDX", LCSBOTH}, {"LCS key1 key2 IDX LEN", LCSBOTH},
        {"LCS key1 key2 LEN IDX foo", SYNTAX}, {"LCS key1 key2 foo", SYNTAX},
        {"LCS key1 key2 MINMATCHLEN", SYNTAX}, {"LCS key1 key2 MINMATCHLEN abc", NOTINT},
        {"LCS key1 key2 MINMATCHLEN 1.5", NOTINT}, {"LCS key1", ARITY("lcs")},
        {"LCS", ARITY("lcs")});

    /* binary keys and values */
    const char *argv[] = {"MSET", "k\0a", "x\0y\0z", "k\0b", "\0\0z"};
    const size_t lens[] = {4, 3, 5, 3, 3};
    ember_reply *r;
    assert_int_equal(ember_command(db, 5, argv, lens, &r), EMBER_OK);
    ember_reply_free(r);
    const char *largv[] = {"LCS", "k\0a", "k\0b"};
    const size_t llens[] = {3, 3, 3};
    assert_int_equal(ember_command(db, 3, largv, llens, &r), EMBER_OK);
    char buf[256];
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "$\\x00\\x00z");
    ember_reply_free(r);
}

/* ------------------------------------------------------------ binary safety */

static void test_binary_safe(void **state)
{
    ember_db *db = *state;
    const char key[] = {'k', '\0', 'x'}, val[] = {'\0', 'v', '\0', 'w'};
    const char key2[] = {'k', '\0', 'y'};
    ember_reply *r;
    {
        const char *argv[] = {"SET", key, val};
        size_t lens[] = {3, 3, 4};
        assert_int_equal(ember_command(db, 3, argv, lens, &r), EMBER_OK);
        assert_int_equal(ember_reply_type(r), EMBER_REPLY_STATUS);
        ember_reply_free(r);
    }
    {
        const char *argv[] = {"GET", key};
        size_t lens[] = {3, 3};
        assert_int_equal(ember_command(db, 2, argv, lens, &r), EMBER_OK);
        size_t n;
        const char *p = ember_reply_str(r, &n);
        assert_int_equal(n, 4);
        assert_memory_equal(p, val, 4);
        ember_reply_free(r);
        /* "k" (the C-string prefix) is another key */
        lens[1] = 1;
        assert_int_equal(ember_command(db, 2, argv, lens, &r), EMBER_OK);
        assert_int_equal(ember_reply_type(r), EMBER_REPLY_NIL);
        ember_reply_free(r);
    }
    {
        const char *argv[] = {"APPEND", key, "\0z"};
        size_t lens[] = {6, 3, 2};
        assert_int_equal(ember_command(db, 3, argv, lens, &r), EMBER_OK);
        assert_int_equal(ember_reply_integer(r), 6);
        ember_reply_free(r);
        const char *ga[] = {"GETRANGE", key, "3", "5"};
        size_t gl[] = {8, 3, 1, 1};
        assert_int_equal(ember_command(db, 4, ga, gl, &r), EMBER_OK);
        size_t n;
        const char *p = ember_reply_str(r, &n);
        assert_int_equal(n, 3);
        assert_memory_equal(p, "w\0z", 3);
        ember_reply_free(r);
    }
    {
        const char *argv[] = {"MSET", key2, "\0", key, "a\0b"};
        size_t lens[] = {4, 3, 1, 3, 3};
        assert_int_equal(ember_command(db, 5, argv, lens, &r), EMBER_OK);
        ember_reply_free(r);
        const char *ma[] = {"MGET", key, key2};
        size_t ml[] = {4, 3, 3};
        assert_int_equal(ember_command(db, 3, ma, ml, &r), EMBER_OK);
        assert_int_equal(ember_reply_len(r), 2);
        size_t n;
        const char *p = ember_reply_str(ember_reply_element(r, 0), &n);
        assert_int_equal(n, 3);
        assert_memory_equal(p, "a\0b", 3);
        p = ember_reply_str(ember_reply_element(r, 1), &n);
        assert_int_equal(n, 1);
        assert_int_equal(p[0], '\0');
        ember_reply_free(r);
    }
    {
        /* A NUL inside a number is not a number. */
        const char *argv[] = {"INCRBY", key2, "1\0"};
        size_t lens[] = {6, 3, 2};
        assert_int_equal(ember_command(db, 3, argv, lens, &r), EMBER_OK);
        assert_string_equal(ember_reply_str(r, NULL), NOTINT + 1);
        ember_reply_free(r);
    }
    /* Typed wrappers are binary safe too. */
    void *v;
    size_t vl;
    assert_int_equal(ember_set(db, "a\0b", 3, "x\0y", 3), EMBER_OK);
    assert_int_equal(ember_get(db, "a\0b", 3, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "x\0y", 3);
    assert_int_equal(((char *)v)[3], '\0'); /* NUL-terminated for convenience */
    ember_free(v);
    assert_int_equal(ember_get(db, "a", 1, &v, &vl), EMBER_ENOTFOUND);
}

/* ------------------------------------------------------------ typed wrappers */

static void test_typed_set_get(void **state)
{
    ember_db *db = *state;
    void *v = (void *)0x1;
    size_t vl = 99;
    assert_int_equal(ember_get(db, "k", 1, &v, &vl), EMBER_ENOTFOUND);
    assert_ptr_equal(v, (void *)0x1); /* untouched unless EMBER_OK */
    assert_int_equal(vl, 99);
    assert_int_equal(ember_set(db, "k", 1, "hello", 5), EMBER_OK);
    assert_int_equal(ember_get(db, "k", 1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 5);
    assert_memory_equal(v, "hello", 6);
    ember_free(v);
    /* NULL with length 0 is the empty string, for keys and values */
    assert_int_equal(ember_set(db, NULL, 0, NULL, 0), EMBER_OK);
    assert_int_equal(ember_get(db, "", 0, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 0);
    assert_string_equal(v, "");
    ember_free(v);
    /* val and vlen may be NULL: an existence/length probe */
    assert_int_equal(ember_get(db, "k", 1, NULL, &vl), EMBER_OK);
    assert_int_equal(vl, 5);
    assert_int_equal(ember_get(db, "k", 1, NULL, NULL), EMBER_OK);
    assert_int_equal(ember_get(db, "zz", 2, NULL, NULL), EMBER_ENOTFOUND);

    /* GETSET / GETDEL */
    assert_int_equal(ember_getset(db, "g", 1, "one", 3, &v, &vl), EMBER_ENOTFOUND);
    assert_int_equal(ember_getset(db, "g", 1, "two", 3, &v, &vl), EMBER_OK);
    assert_memory_equal(v, "one", 4);
    ember_free(v);
    assert_int_equal(ember_getdel(db, "g", 1, &v, &vl), EMBER_OK);
    assert_memory_equal(v, "two", 4);
    ember_free(v);
    assert_int_equal(ember_getdel(db, "g", 1, &v, &vl), EMBER_ENOTFOUND);

    /* SETNX */
    int was = -1;
    assert_int_equal(ember_setnx(db, "n", 1, "a", 1, &was), EMBER_OK);
    assert_int_equal(was, 1);
    assert_int_equal(ember_setnx(db, "n", 1, "b", 1, &was), EMBER_OK);
    assert_int_equal(was, 0);
    assert_int_equal(ember_setnx(db, "n", 1, "b", 1, NULL), EMBER_OK);
    assert_string_equal(ta_run(db, "GET n"), "$a");

    /* SETEX / PSETEX */
    assert_int_equal(ember_setex(db, "s", 1, 2, "v", 1), EMBER_OK);
    assert_int_equal(ember_psetex(db, "p", 1, 500, "v", 1), EMBER_OK);
    assert_int_equal(ember_setex(db, "s2", 2, 0, "v", 1), EMBER_EREPLY);
    assert_int_equal(ember_setex(db, "s2", 2, -1, "v", 1), EMBER_EREPLY);
    assert_int_equal(ember_psetex(db, "s2", 2, 0, "v", 1), EMBER_EREPLY);
    assert_int_equal(ember_setex(db, "s2", 2, INT64_MAX, "v", 1), EMBER_EREPLY);
    advance(db, 500);
    assert_string_equal(ta_run(db, "MGET s p s2"), "*[$v|$v|(nil)]");
    advance(db, 1);
    assert_string_equal(ta_run(db, "MGET s p"), "*[$v|(nil)]");
    advance(db, 1500);
    assert_string_equal(ta_run(db, "GET s"), "(nil)");
}

static void test_typed_set_ex(void **state)
{
    ember_db *db = *state;
    int was = -1;
    assert_int_equal(ember_set_ex(db, "k", 1, "v", 1, 0, 0, &was), EMBER_OK);
    assert_int_equal(was, 1);
    assert_int_equal(ember_set_ex(db, "k", 1, "v2", 2, 0, EMBER_SET_NX, &was), EMBER_OK);
    assert_int_equal(was, 0);
    assert_int_equal(ember_set_ex(db, "x", 1, "v", 1, 0, EMBER_SET_XX, &was), EMBER_OK);
    assert_int_equal(was, 0);
    assert_string_equal(ta_run(db, "GET x"), "(nil)");
    assert_int_equal(ember_set_ex(db, "k", 1, "v3", 2, 0, EMBER_SET_XX, NULL), EMBER_OK);
    assert_string_equal(ta_run(db, "GET k"), "$v3");
    /* TTLs: relative (PX) and absolute (PXAT) */
    assert_int_equal(ember_set_ex(db, "r", 1, "v", 1, 1000, 0, &was), EMBER_OK);
    assert_int_equal(was, 1);
    assert_int_equal(ember_set_ex(db, "a", 1, "v", 1, TA_T0 + 300, EMBER_SET_ABS, &was), EMBER_OK);
    assert_int_equal(ember_set_ex(db, "kt", 2, "v", 1, 1000, 0, NULL), EMBER_OK);
    assert_int_equal(ember_set_ex(db, "kt", 2, "w", 1, 0, EMBER_SET_KEEPTTL | EMBER_SET_XX, &was),
                     EMBER_OK);
    assert_int_equal(was, 1);
    /* errors: conflicting flags, bad ttl, unknown flag bits */
    was = 7;
    assert_int_equal(ember_set_ex(db, "k", 1, "v", 1, 0, EMBER_SET_NX | EMBER_SET_XX, &was),
                     EMBER_ESYNTAX);
    assert_int_equal(was, 7);
    assert_int_equal(ember_set_ex(db, "k", 1, "v", 1, 10, EMBER_SET_KEEPTTL, &was), EMBER_ESYNTAX);
    assert_int_equal(ember_set_ex(db, "k", 1, "v", 1, -5, 0, &was), EMBER_EREPLY);
    assert_int_equal(ember_set_ex(db, "k", 1, "v", 1, INT64_MAX, 0, &was), EMBER_EREPLY);
    assert_int_equal(ember_set_ex(db, "k", 1, "v", 1, 0, 16, &was), EMBER_EINVAL);
    assert_int_equal(was, 7);
    assert_string_equal(ta_run(db, "GET k"), "$v3");
    advance(db, 300);
    assert_string_equal(ta_run(db, "MGET a r kt"), "*[$v|$v|$w]");
    advance(db, 1);
    assert_string_equal(ta_run(db, "MGET a r"), "*[(nil)|$v]");
    advance(db, 700);
    assert_string_equal(ta_run(db, "MGET r kt"), "*[(nil)|(nil)]");
}

static void test_typed_counters(void **state)
{
    ember_db *db = *state;
    int64_t v = -99;
    assert_int_equal(ember_incr(db, "c", 1, &v), EMBER_OK);
    assert_int_equal(v, 1);
    assert_int_equal(ember_incrby(db, "c", 1, 41, &v), EMBER_OK);
    assert_int_equal(v, 42);
    assert_int_equal(ember_decr(db, "c", 1, &v), EMBER_OK);
    assert_int_equal(v, 41);
    assert_int_equal(ember_decrby(db, "c", 1, 40, &v), EMBER_OK);
    assert_int_equal(v, 1);
    assert_int_equal(ember_incr(db, "c", 1, NULL), EMBER_OK);
    assert_string_equal(ta_run(db, "GET c"), "$2");
    /* not an integer, overflow */
    assert_int_equal(ember_set(db, "s", 1, "abc", 3), EMBER_OK);
    v = -99;
    assert_int_equal(ember_incr(db, "s", 1, &v), EMBER_ENOTINT);
    assert_int_equal(ember_incrby(db, "s", 1, 5, &v), EMBER_ENOTINT);
    assert_int_equal(ember_decr(db, "s", 1, &v), EMBER_ENOTINT);
    assert_int_equal(v, -99);
    assert_int_equal(ember_set(db, "m", 1, "9223372036854775807", 19), EMBER_OK);
    assert_int_equal(ember_incr(db, "m", 1, &v), EMBER_EOVERFLOW);
    assert_int_equal(ember_incrby(db, "m", 1, 1, &v), EMBER_EOVERFLOW);
    assert_int_equal(ember_decrby(db, "m", 1, -1, &v), EMBER_EOVERFLOW);
    assert_int_equal(ember_incrby(db, "m", 1, INT64_MIN, &v), EMBER_OK);
    assert_int_equal(v, -1);
    assert_int_equal(ember_decrby(db, "m", 1, INT64_MIN, &v), EMBER_EOVERFLOW);
    assert_int_equal(ember_decrby(db, "fresh", 5, INT64_MIN, &v), EMBER_EOVERFLOW);
    assert_int_equal(ember_decrby(db, "m", 1, INT64_MAX, &v), EMBER_OK);
    assert_int_equal(v, INT64_MIN);
    assert_int_equal(ember_decr(db, "m", 1, &v), EMBER_EOVERFLOW);

    /* INCRBYFLOAT */
    double d = -1;
    assert_int_equal(ember_incrbyfloat(db, "f", 1, 1.5, &d), EMBER_OK);
    assert_true(d == 1.5);
    assert_int_equal(ember_incrbyfloat(db, "f", 1, 0.1, &d), EMBER_OK);
    assert_true(d == 1.6);
    assert_string_equal(ta_run(db, "GET f"), "$1.6");
    assert_int_equal(ember_incrbyfloat(db, "f", 1, -1e-300, NULL), EMBER_OK);
    assert_string_equal(ta_run(db, "GET f"), "$1.6"); /* below 17 decimals: unchanged */
    assert_int_equal(ember_incrbyfloat(db, "g", 1, 1e300, &d), EMBER_OK);
    assert_true(d == 1e300);
    d = -1;
    assert_int_equal(ember_incrbyfloat(db, "f", 1, INFINITY, &d), EMBER_EREPLY);
    assert_int_equal(ember_incrbyfloat(db, "f", 1, -INFINITY, &d), EMBER_EREPLY);
    assert_int_equal(ember_incrbyfloat(db, "f", 1, NAN, &d), EMBER_ENOTFLOAT);
    assert_int_equal(ember_incrbyfloat(db, "s", 1, 1.0, &d), EMBER_ENOTFLOAT);
    assert_true(d == -1);
    assert_int_equal(ember_incrbyfloat(db, "c", 1, 0.25, &d), EMBER_OK);
    assert_true(d == 2.25);
    assert_int_equal(ember_incrbyfloat(db, "tiny", 4, 5e-324, &d), EMBER_OK);
    assert_true(d == 0.0); /* Redis's human format has 17 decimals at most */
}

static void test_typed_multi(void **state)
{
    ember_db *db = *state;
    const void *keys[] = {"a", "b\0b", "c"};
    const size_t klens[] = {1, 3, 1};
    const void *vals[] = {"1", "", "x\0y"};
    const size_t vlens[] = {1, 0, 3};
    assert_int_equal(ember_mset(db, 3, keys, klens, vals, vlens), EMBER_OK);
    ember_reply *r = NULL;
    assert_int_equal(ember_mget(db, 3, keys, klens, &r), EMBER_OK);
    char buf[256];
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$1|$|$x\\x00y]");
    size_t n;
    assert_memory_equal(ember_reply_str(ember_reply_element(r, 2), &n), "x\0y", 3);
    assert_int_equal(n, 3);
    ember_reply_free(r);

    int was = -1;
    const void *nk[] = {"d", "a"};
    const size_t nkl[] = {1, 1};
    const void *nv[] = {"D", "A"};
    const size_t nvl[] = {1, 1};
    assert_int_equal(ember_msetnx(db, 2, nk, nkl, nv, nvl, &was), EMBER_OK);
    assert_int_equal(was, 0);
    assert_string_equal(ta_run(db, "MGET d a"), "*[(nil)|$1]");
    assert_int_equal(ember_msetnx(db, 1, nk, nkl, nv, nvl, &was), EMBER_OK);
    assert_int_equal(was, 1);
    assert_int_equal(ember_msetnx(db, 1, nk, nkl, nv, nvl, NULL), EMBER_OK);
    assert_string_equal(ta_run(db, "GET d"), "$D");

    /* Many keys: the argv outgrows the wrapper's stack storage. */
    enum { N = 300 };
    static char names[N][16];
    const void *mk[N], *mv[N];
    size_t mkl[N], mvl[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        mk[i] = mv[i] = names[i];
        mkl[i] = mvl[i] = strlen(names[i]);
    }
    assert_int_equal(ember_mset(db, N, mk, mkl, mv, mvl), EMBER_OK);
    assert_int_equal(ember_mget(db, N, mk, mkl, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), N);
    assert_string_equal(ember_reply_str(ember_reply_element(r, N - 1), NULL), "m299");
    ember_reply_free(r);
    assert_int_equal(ember_msetnx(db, N, mk, mkl, mv, mvl, &was), EMBER_OK);
    assert_int_equal(was, 0);
}

static void test_typed_ranges(void **state)
{
    ember_db *db = *state;
    int64_t len = -1;
    assert_int_equal(ember_append(db, "s", 1, "Hello", 5, &len), EMBER_OK);
    assert_int_equal(len, 5);
    assert_int_equal(ember_append(db, "s", 1, " World", 6, NULL), EMBER_OK);
    assert_int_equal(ember_strlen(db, "s", 1, &len), EMBER_OK);
    assert_int_equal(len, 11);
    assert_int_equal(ember_strlen(db, "none", 4, &len), EMBER_OK);
    assert_int_equal(len, 0);
    void *v;
    size_t vl;
    assert_int_equal(ember_getrange(db, "s", 1, -5, -1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 5);
    assert_memory_equal(v, "World", 6);
    ember_free(v);
    assert_int_equal(ember_getrange(db, "none", 4, 0, -1, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 0);
    ember_free(v);
    assert_int_equal(ember_getrange(db, "s", 1, INT64_MIN, INT64_MAX, &v, &vl), EMBER_OK);
    assert_int_equal(vl, 11);
    ember_free(v);
    assert_int_equal(ember_setrange(db, "s", 1, 6, "Redis", 5, &len), EMBER_OK);
    assert_int_equal(len, 11);
    assert_string_equal(ta_run(db, "GET s"), "$Hello Redis");
    assert_int_equal(ember_setrange(db, "s", 1, -1, "x", 1, &len), EMBER_EREPLY);
    assert_int_equal(ember_setrange(db, "s", 1, 536870912, "x", 1, &len), EMBER_EREPLY);
    assert_int_equal(ember_setrange(db, "n", 1, 2, "ab", 2, &len), EMBER_OK);
    assert_int_equal(len, 4);
    assert_int_equal(ember_setrange(db, "n", 1, 2, NULL, 0, NULL), EMBER_OK);
}

static void test_typed_einval(void **state)
{
    ember_db *db = *state;
    void *v;
    size_t vl;
    int64_t i;
    double d;
    int was;
    ember_reply *r;
    const void *keys[] = {"a", NULL};
    const size_t klens[] = {1, 1};
    const void *vals[] = {"1", "2"};
    const size_t vlens[] = {1, 1};
    assert_int_equal(ember_set(NULL, "k", 1, "v", 1), EMBER_EINVAL);
    assert_int_equal(ember_set(db, NULL, 1, "v", 1), EMBER_EINVAL);
    assert_int_equal(ember_set(db, "k", 1, NULL, 1), EMBER_EINVAL);
    assert_int_equal(ember_set_ex(NULL, "k", 1, "v", 1, 0, 0, &was), EMBER_EINVAL);
    assert_int_equal(ember_set_ex(db, NULL, 2, "v", 1, 0, 0, &was), EMBER_EINVAL);
    assert_int_equal(ember_get(NULL, "k", 1, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_get(db, NULL, 1, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_getset(db, "k", 1, NULL, 3, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_getdel(NULL, "k", 1, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_setnx(db, "k", 1, NULL, 1, &was), EMBER_EINVAL);
    assert_int_equal(ember_setex(db, NULL, 1, 10, "v", 1), EMBER_EINVAL);
    assert_int_equal(ember_psetex(NULL, "k", 1, 10, "v", 1), EMBER_EINVAL);
    assert_int_equal(ember_mget(db, 0, keys, klens, &r), EMBER_EINVAL);
    assert_int_equal(ember_mget(db, 2, keys, klens, &r), EMBER_EINVAL);
    assert_int_equal(ember_mget(db, 1, keys, klens, NULL), EMBER_EINVAL);
    assert_int_equal(ember_mget(db, 1, NULL, klens, &r), EMBER_EINVAL);
    assert_int_equal(ember_mset(db, 0, keys, klens, vals, vlens), EMBER_EINVAL);
    assert_int_equal(ember_mset(db, 2, keys, klens, vals, vlens), EMBER_EINVAL);
    assert_int_equal(ember_mset(db, 1, keys, klens, NULL, vlens), EMBER_EINVAL);
    assert_int_equal(ember_msetnx(db, 1, keys, NULL, vals, vlens, &was), EMBER_EINVAL);
    assert_int_equal(ember_msetnx(NULL, 1, keys, klens, vals, vlens, &was), EMBER_EINVAL);
    assert_int_equal(ember_append(db, NULL, 1, "v", 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_append(db, "k", 1, NULL, 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_strlen(NULL, "k", 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_getrange(db, NULL, 1, 0, 1, &v, &vl), EMBER_EINVAL);
    assert_int_equal(ember_setrange(db, "k", 1, 0, NULL, 2, &i), EMBER_EINVAL);
    assert_int_equal(ember_incrby(NULL, "k", 1, 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_incr(db, NULL, 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_decr(db, NULL, 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_decrby(db, NULL, 1, 1, &i), EMBER_EINVAL);
    assert_int_equal(ember_incrbyfloat(db, NULL, 1, 1.0, &d), EMBER_EINVAL);
    /* None of these wrote anything. */
    assert_string_equal(ta_run(db, "MGET k a"), "*[(nil)|(nil)]");
}

/* ------------------------------------------------------------ OOM and growth */

/* With the allocator failing, a command replies the OOM error and changes
 * nothing; edits that need no memory (INCR on an int, APPEND within the
 * body's spare room, GETEX updating an existing TTL) still succeed. */
static void test_oom_changes_nothing(void **state)
{
    (void)state;
    ember_db *db = open_db(ta_mode, 1, NULL);
    char long50[51];
    memset(long50, 'x', 50);
    long50[50] = '\0';
    char line[256];
    SCRIPT(db, {"SET k old", "+OK"}, {"SET i 10", "+OK"}, {"SET a 10", "+OK"}, {"APPEND a 0", ":3"},
           {"SET t v PX 1000", "+OK"}, {"SET f 1.5", "+OK"}, {"SET p v", "+OK"});
    snprintf(line, sizeof line, "SET r %s", long50);
    assert_string_equal(ta_run(db, line), "+OK");
    assert_string_equal(ta_run(db, "APPEND r y"), ":51"); /* body grows with spare room */

    atomic_store(&ta_fail_alloc, 1);
    SCRIPT(db, {"SET k new", OOM}, {"SET k new GET", OOM}, {"GETSET k new", OOM}, {"SET n v", OOM},
           {"SETNX n v", OOM}, {"SETEX n 10 v", OOM}, {"SET k v EX 100", OOM},
           {"MSET k 1 n 2 m 3", OOM}, {"MSETNX n 1 m 2", OOM}, {"APPEND n v", OOM},
           {"APPEND k v", OOM}, {"SETRANGE n 3 v", OOM}, {"SETRANGE k 1 v", OOM}, {"INCR n", OOM},
           {"INCR a", OOM}, {"INCRBYFLOAT f 1", OOM}, {"INCRBYFLOAT n 1", OOM},
           {"GETEX p EX 100", OOM}, {"GETEX t PERSIST", OOM},
           /* no allocation needed: these succeed */
           {"INCR i", ":11"}, {"INCRBY i 5", ":16"}, {"APPEND r z", ":52"},
           {"SETRANGE r 0 abc", ":52"}, {"GETEX t PX 2000", "$v"}, {"GET k", "$old"});
    snprintf(line, sizeof line, "APPEND r %s%s%s", long50, long50, long50);
    assert_string_equal(ta_run(db, line), OOM);
    atomic_store(&ta_fail_alloc, 0);

    SCRIPT(db, {"GET k", "$old"}, {"MGET n m", "*[(nil)|(nil)]"}, {"GET a", "$100"},
           {"GET f", "$1.5"}, {"GET i", "$16"}, {"STRLEN r", ":52"}, {"GETRANGE r 0 3", "$abcx"},
           {"GETRANGE r 49 -1", "$xyz"});
    advance(db, 1001);
    SCRIPT(db, {"GET t", "$v"}, {"GET p", "$v"});
    advance(db, 1000);
    SCRIPT(db, {"GET t", "(nil)"});
    ember_db_close(db);
}

/* Repeated APPENDs to one value reallocate O(log n) times, not n times. */
static void test_append_amortized(void **state)
{
    (void)state;
    ember_db *db = open_db(ta_mode, 1, NULL);
    assert_int_equal(
        ember_append(db, "k", 1, "0123456789012345678901234567890123456789012345", 46, NULL),
        EMBER_OK);
    assert_int_equal(ember_append(db, "k", 1, "x", 1, NULL), EMBER_OK); /* now raw */
    long before = atomic_load(&ta_n_alloc);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(ember_append(db, "k", 1, "y", 1, NULL), EMBER_OK);
    long calls = atomic_load(&ta_n_alloc) - before;
    assert_true(calls < 40);
    int64_t len;
    assert_int_equal(ember_strlen(db, "k", 1, &len), EMBER_OK);
    assert_int_equal(len, 100047);
    ember_db_close(db);
}

/* ------------------------------------------------------------ main */

#define T(f) cmocka_unit_test_setup_teardown(f, ta_setup, ta_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_get_set),
        T(test_set_options),
        T(test_set_expire_errors),
        T(test_set_ttl),
        T(test_set_keepttl_and_overwrite),
        T(test_setnx_setex_psetex_getset),
        T(test_getdel),
        T(test_getex),
        T(test_mget_mset_msetnx),
        T(test_append_strlen),
        T(test_getrange),
        T(test_setrange),
        cmocka_unit_test(test_size_limit_config),
        T(test_incr_family),
        T(test_incrbyfloat),
        T(test_lcs),
        T(test_binary_safe),
        T(test_typed_set_get),
        T(test_typed_set_ex),
        T(test_typed_counters),
        T(test_typed_multi),
        T(test_typed_ranges),
        T(test_typed_einval),
        cmocka_unit_test(test_oom_changes_nothing),
        cmocka_unit_test(test_append_amortized),
    };
    int failed = 0;
    ta_mode = EMBER_MODE_EXECUTOR;
    failed += cmocka_run_group_tests_name("strings/executor", tests, NULL, NULL);
    ta_mode = EMBER_MODE_INLINE;
    failed += cmocka_run_group_tests_name("strings/inline", tests, NULL, NULL);
    return failed;
}
