/*
 * test_keys.c — the key-space commands through the public API: DEL UNLINK
 * EXISTS TOUCH TYPE RENAME RENAMENX COPY MOVE SWAPDB RANDOMKEY DBSIZE FLUSHDB
 * FLUSHALL KEYS SCAN, the EXPIRE and TTL families, PERSIST and OBJECT, both
 * through ember_command() and the typed wrappers, in executor and inline mode.
 *
 * Every expected reply and error text was first taken from redis-server
 * 7.0.15. Time runs on the virtual clock, so TTLs are exact. Only <ember.h>.
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

static const int mode_executor = EMBER_MODE_EXECUTOR;
static const int mode_inline = EMBER_MODE_INLINE;

static ember_db *open_db(void **state)
{
    return ta_open(*(const int *)*state, TA_T0, 0, NULL, NULL);
}

static ember_db *view(ember_db *db, int32_t index)
{
    ember_db *v;
    assert_int_equal(ember_db_view(db, index, &v), EMBER_OK);
    return v;
}

/* Runs a binary-safe command: words given with their lengths. */
static ember_reply *bcmd(ember_db *db, size_t argc, const char *const *argv, const size_t *lens)
{
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, lens, &r), EMBER_OK);
    assert_non_null(r);
    return r;
}

/* An ARRAY of exactly these strings, in any order (each at most once). */
static void expect_set_of(ember_reply *r, size_t n, const char *const *want)
{
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
    assert_int_equal(ember_reply_len(r), n);
    unsigned used = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *s = ember_reply_str(ember_reply_element(r, i), &len);
        int found = 0;
        for (size_t j = 0; j < n && !found; j++) {
            if (!(used & (1u << j)) && strlen(want[j]) == len && memcmp(want[j], s, len) == 0) {
                used |= 1u << j;
                found = 1;
            }
        }
        if (!found)
            fail_msg("unexpected element '%.*s'", (int)len, s);
    }
    ember_reply_free(r);
}

static void set(ember_db *db, const char *k, const char *v)
{
    assert_int_equal(ember_set(db, k, strlen(k), v, strlen(v)), EMBER_OK);
}

/* ------------------------------------------------------------------ DEL, EXISTS, TOUCH, TYPE */

static void test_del_exists_touch(void **state)
{
    ember_db *db = open_db(state);
    set(db, "a", "1");
    set(db, "b", "2");
    ta_expect_int(CMD(db, "EXISTS", "a", "a", "b", "c"), 3);
    ta_expect_int(CMD(db, "TOUCH", "a", "a", "b", "c"), 3);
    ta_expect_int(CMD(db, "DEL", "a", "a", "c"), 1);
    ta_expect_int(CMD(db, "UNLINK", "b", "b"), 1);
    ta_expect_int(CMD(db, "EXISTS", "a", "b"), 0);
    ta_expect_error(CMD(db, "DEL"), "ERR wrong number of arguments for 'del' command");
    ta_expect_error(CMD(db, "UNLINK"), "ERR wrong number of arguments for 'unlink' command");
    ta_expect_error(CMD(db, "EXISTS"), "ERR wrong number of arguments for 'exists' command");
    ta_expect_error(CMD(db, "TOUCH"), "ERR wrong number of arguments for 'touch' command");

    /* EXISTS and TOUCH are reads: they count keyspace hits and misses. */
    set(db, "a", "1");
    int64_t hits = ta_info_field(db, "keyspace_hits"),
            misses = ta_info_field(db, "keyspace_misses");
    ta_expect_int(CMD(db, "EXISTS", "a", "zz"), 1);
    ta_expect_int(CMD(db, "TOUCH", "a", "zz"), 1);
    assert_int_equal(ta_info_field(db, "keyspace_hits"), hits + 2);
    assert_int_equal(ta_info_field(db, "keyspace_misses"), misses + 2);
    /* DEL is a write: no hit/miss counted. */
    ta_expect_int(CMD(db, "DEL", "a", "zz"), 1);
    assert_int_equal(ta_info_field(db, "keyspace_misses"), misses + 2);

    /* Typed wrappers. */
    const void *keys[] = {"x", "y", "x", "nope"};
    const size_t lens[] = {1, 1, 1, 4};
    set(db, "x", "1");
    set(db, "y", "2");
    int64_t n = -1;
    assert_int_equal(ember_exists(db, 4, keys, lens, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_touch(db, 4, keys, lens, &n), EMBER_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ember_del(db, 1, keys, lens, &n), EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_unlink(db, 4, keys, lens, &n), EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_del(db, 4, keys, lens, NULL), EMBER_OK);
    assert_int_equal(ember_del(db, 0, keys, lens, &n), EMBER_EINVAL);
    assert_int_equal(ember_exists(db, 1, NULL, lens, &n), EMBER_EINVAL);
    assert_int_equal(ember_touch(db, 1, keys, NULL, &n), EMBER_EINVAL);
    const void *bad[] = {NULL};
    const size_t badlen[] = {3};
    assert_int_equal(ember_unlink(db, 1, bad, badlen, &n), EMBER_EINVAL);
    assert_int_equal(ember_del(NULL, 1, keys, lens, &n), EMBER_EINVAL);
    /* NULL with length 0 is the empty key. */
    const size_t zero[] = {0};
    assert_int_equal(ember_set(db, NULL, 0, "e", 1), EMBER_OK);
    assert_int_equal(ember_exists(db, 1, bad, zero, &n), EMBER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_type(void **state)
{
    ember_db *db = open_db(state);
    ta_expect_status(CMD(db, "TYPE", "nokey"), "none");
    set(db, "s", "v");
    ta_expect_status(CMD(db, "TYPE", "s"), "string");
    ta_expect_error(CMD(db, "TYPE"), "ERR wrong number of arguments for 'type' command");
    ta_expect_error(CMD(db, "TYPE", "a", "b"), "ERR wrong number of arguments for 'type' command");
    const char *t1 = NULL, *t2 = NULL;
    assert_int_equal(ember_type(db, "s", 1, &t1), EMBER_OK);
    assert_string_equal(t1, "string");
    assert_int_equal(ember_type(db, "s", 1, &t2), EMBER_OK);
    assert_ptr_equal(t1, t2); /* static storage */
    assert_int_equal(ember_type(db, "missing", 7, &t1), EMBER_OK);
    assert_string_equal(t1, "none");
    assert_int_equal(ember_type(db, "s", 1, NULL), EMBER_EINVAL);
    assert_int_equal(ember_type(NULL, "s", 1, &t1), EMBER_EINVAL);
    assert_int_equal(ember_type(db, NULL, 1, &t1), EMBER_EINVAL);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ RENAME */

static void test_rename(void **state)
{
    ember_db *db = open_db(state);
    ta_expect_error(CMD(db, "RENAME", "nokey", "x"), "ERR no such key");
    ta_expect_error(CMD(db, "RENAMENX", "nokey", "x"), "ERR no such key");
    ta_expect_error(CMD(db, "RENAME", "nokey", "nokey"), "ERR no such key");
    set(db, "k", "v");
    ta_expect_ok(CMD(db, "RENAME", "k", "k"));
    ta_expect_int(CMD(db, "RENAMENX", "k", "k"), 0);
    set(db, "j", "w");
    ta_expect_int(CMD(db, "RENAMENX", "k", "j"), 0);
    ta_expect_ok(CMD(db, "RENAME", "k", "j"));
    ta_expect_bulk(CMD(db, "GET", "j"), "v");
    ta_expect_int(CMD(db, "EXISTS", "k"), 0);
    /* The TTL travels with the value; a replaced destination loses its own. */
    set(db, "k", "v");
    ta_expect_int(CMD(db, "EXPIRE", "k", "100"), 1);
    ta_expect_ok(CMD(db, "RENAME", "k", "k2"));
    ta_expect_int(CMD(db, "TTL", "k2"), 100);
    set(db, "k3", "v3");
    ta_expect_int(CMD(db, "EXPIRE", "k3", "50"), 1);
    ta_expect_ok(CMD(db, "RENAME", "k2", "k3"));
    ta_expect_int(CMD(db, "TTL", "k3"), 100);
    set(db, "k4", "v");
    ta_expect_ok(CMD(db, "RENAME", "k4", "k3"));
    ta_expect_int(CMD(db, "TTL", "k3"), -1);
    ta_expect_int(CMD(db, "RENAMENX", "k3", "fresh"), 1);
    ta_expect_bulk(CMD(db, "GET", "fresh"), "v");
    ta_expect_error(CMD(db, "RENAME", "a"), "ERR wrong number of arguments for 'rename' command");
    ta_expect_error(CMD(db, "RENAMENX", "a"),
                    "ERR wrong number of arguments for 'renamenx' command");

    /* Every string encoding keeps its value and encoding. */
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    set(db, "int", "12345");
    set(db, "emb", "hello");
    set(db, "raw", big);
    const char *names[][3] = {
        {"int", "int2", "int"}, {"emb", "emb2", "embstr"}, {"raw", "raw2", "raw"}};
    for (int i = 0; i < 3; i++) {
        ta_expect_int(CMD(db, "PEXPIRE", names[i][0], "5000"), 1);
        ta_expect_ok(CMD(db, "RENAME", names[i][0], names[i][1]));
        ta_expect_bulk(CMD(db, "OBJECT", "ENCODING", names[i][1]), names[i][2]);
        ta_expect_int(CMD(db, "PTTL", names[i][1]), 5000);
    }
    ta_expect_bulk(CMD(db, "GET", "int2"), "12345");
    ta_expect_bulk(CMD(db, "GET", "emb2"), "hello");
    ta_expect_bulk(CMD(db, "GET", "raw2"), big);
    /* And without TTL, overwriting a destination that has one. */
    ta_expect_int(CMD(db, "PERSIST", "raw2"), 1);
    ta_expect_ok(CMD(db, "SET", "dst", "d", "EX", "100"));
    ta_expect_ok(CMD(db, "RENAME", "raw2", "dst"));
    ta_expect_int(CMD(db, "TTL", "dst"), -1);
    ta_expect_bulk(CMD(db, "GET", "dst"), big);

    /* Typed wrappers. */
    assert_int_equal(ember_rename(db, "nokey", 5, "x", 1), EMBER_ENOKEY);
    assert_int_equal(ember_rename(db, "dst", 3, "a\0b", 3), EMBER_OK);
    int renamed = -1;
    set(db, "other", "o");
    assert_int_equal(ember_renamenx(db, "a\0b", 3, "other", 5, &renamed), EMBER_OK);
    assert_int_equal(renamed, 0);
    assert_int_equal(ember_renamenx(db, "a\0b", 3, "a\0c", 3, &renamed), EMBER_OK);
    assert_int_equal(renamed, 1);
    assert_int_equal(ember_renamenx(db, "gone", 4, "x", 1, &renamed), EMBER_ENOKEY);
    void *val;
    size_t vlen;
    assert_int_equal(ember_get(db, "a\0c", 3, &val, &vlen), EMBER_OK);
    assert_int_equal(vlen, strlen(big));
    ember_free(val);
    assert_int_equal(ember_get(db, "a", 1, &val, &vlen), EMBER_ENOTFOUND);
    assert_int_equal(ember_rename(db, NULL, 1, "x", 1), EMBER_EINVAL);
    assert_int_equal(ember_renamenx(NULL, "a", 1, "x", 1, &renamed), EMBER_EINVAL);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ COPY, MOVE, SWAPDB */

static void test_copy(void **state)
{
    ember_db *db = open_db(state), *v1 = view(db, 1);
    const char *same = "ERR source and destination objects are the same";
    ta_expect_int(CMD(db, "COPY", "nokey", "x"), 0);
    ta_expect_error(CMD(db, "COPY", "nokey", "nokey"), same);
    set(db, "k", "v");
    ta_expect_error(CMD(db, "COPY", "k", "k"), same);
    ta_expect_error(CMD(db, "COPY", "k", "k", "db", "0"), same);
    ta_expect_int(CMD(db, "COPY", "k", "k", "db", "1"), 1);
    ta_expect_bulk(CMD(v1, "GET", "k"), "v");
    ta_expect_int(CMD(db, "COPY", "k", "k", "db", "1"), 0);
    set(db, "k", "v2");
    ta_expect_int(CMD(db, "COPY", "k", "k", "DB", "1", "REPLACE"), 1);
    ta_expect_bulk(CMD(v1, "GET", "k"), "v2");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "db", "16"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "db", "-1"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "db", "abc"),
                    "ERR value is not an integer or out of range");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "db", "2147483648"),
                    "ERR value is out of range, value must between -2147483648 and 2147483647");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "db"), "ERR syntax error");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "foo"), "ERR syntax error");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "foo", "db", "99"), "ERR syntax error");
    ta_expect_error(CMD(db, "COPY", "k", "k2", "db", "99", "foo"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "COPY", "nokey", "k2", "db", "99"), "ERR DB index is out of range");
    ta_expect_int(CMD(db, "COPY", "k", "k2", "replace", "replace"), 1);
    ta_expect_int(CMD(db, "COPY", "k", "k2"), 0);
    ta_expect_int(CMD(db, "COPY", "k", "k2", "REPLACE"), 1);
    /* The last DB option wins. */
    ta_expect_int(CMD(db, "COPY", "k", "k", "db", "0", "db", "1"), 0);
    ta_expect_error(CMD(db, "COPY", "k", "k", "db", "1", "db", "0"), same);
    ta_expect_error(CMD(db, "COPY", "a"), "ERR wrong number of arguments for 'copy' command");
    /* TTL and encoding are copied; the copy is independent of the source. */
    ta_expect_int(CMD(db, "EXPIRE", "k", "100"), 1);
    ta_expect_int(CMD(db, "COPY", "k", "k3"), 1);
    ta_expect_int(CMD(db, "TTL", "k3"), 100);
    set(db, "n", "42");
    ta_expect_int(CMD(db, "COPY", "n", "n2"), 1);
    ta_expect_bulk(CMD(db, "OBJECT", "ENCODING", "n2"), "int");
    ta_expect_int(CMD(db, "INCR", "n2"), 43);
    ta_expect_bulk(CMD(db, "GET", "n"), "42");

    /* Typed wrapper: -1 is the handle's own database. */
    int copied = -1;
    assert_int_equal(ember_copy(db, "n", 1, "n3", 2, -1, 0, &copied), EMBER_OK);
    assert_int_equal(copied, 1);
    assert_int_equal(ember_copy(db, "n", 1, "n3", 2, -1, 0, &copied), EMBER_OK);
    assert_int_equal(copied, 0);
    set(db, "n", "7");
    assert_int_equal(ember_copy(db, "n", 1, "n3", 2, -1, 1, &copied), EMBER_OK);
    assert_int_equal(copied, 1);
    ta_expect_bulk(CMD(db, "GET", "n3"), "7");
    assert_int_equal(ember_copy(v1, "k", 1, "k", 1, 0, 0, &copied), EMBER_OK);
    assert_int_equal(copied, 0); /* db 0 already has k */
    assert_int_equal(ember_copy(v1, "k", 1, "kk", 2, 0, 0, &copied), EMBER_OK);
    assert_int_equal(copied, 1);
    ta_expect_bulk(CMD(db, "GET", "kk"), "v2");
    assert_int_equal(ember_copy(v1, "k", 1, "k", 1, -1, 0, &copied), EMBER_EREPLY);
    assert_int_equal(ember_copy(db, "n", 1, "x", 1, 16, 0, &copied), EMBER_ERANGE);
    assert_int_equal(ember_copy(db, "n", 1, "x", 1, -2, 0, &copied), EMBER_ERANGE);
    assert_int_equal(ember_copy(db, NULL, 1, "x", 1, -1, 0, &copied), EMBER_EINVAL);
    assert_int_equal(ember_db_close(v1), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_move(void **state)
{
    ember_db *db = open_db(state), *v1 = view(db, 1);
    set(db, "k", "v");
    ta_expect_error(CMD(db, "MOVE", "k", "0"), "ERR source and destination objects are the same");
    ta_expect_error(CMD(db, "MOVE", "nokey", "0"),
                    "ERR source and destination objects are the same");
    ta_expect_error(CMD(db, "MOVE", "k", "16"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "MOVE", "k", "-1"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "MOVE", "k", "abc"), "ERR value is not an integer or out of range");
    ta_expect_error(CMD(db, "MOVE", "k", "2147483648"),
                    "ERR value is out of range, value must between -2147483648 and 2147483647");
    ta_expect_error(CMD(db, "MOVE", "k"), "ERR wrong number of arguments for 'move' command");
    ta_expect_int(CMD(db, "MOVE", "nokey", "1"), 0);
    ta_expect_int(CMD(db, "PEXPIRE", "k", "7000"), 1);
    ta_expect_int(CMD(db, "MOVE", "k", "1"), 1);
    ta_expect_int(CMD(db, "EXISTS", "k"), 0);
    ta_expect_bulk(CMD(v1, "GET", "k"), "v");
    ta_expect_int(CMD(v1, "PTTL", "k"), 7000);
    /* The destination already has the key: nothing moves. */
    set(db, "k", "other");
    ta_expect_int(CMD(db, "MOVE", "k", "1"), 0);
    ta_expect_bulk(CMD(db, "GET", "k"), "other");
    ta_expect_int(CMD(v1, "MOVE", "k", "0"), 0);
    /* Typed wrapper. */
    int moved = -1;
    assert_int_equal(ember_move(v1, "k", 1, 2, &moved), EMBER_OK);
    assert_int_equal(moved, 1);
    assert_int_equal(ember_move(v1, "k", 1, 2, &moved), EMBER_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(ember_move(db, "k", 1, 0, &moved), EMBER_EREPLY);
    assert_int_equal(ember_move(db, "k", 1, 16, &moved), EMBER_ERANGE);
    assert_int_equal(ember_move(db, "k", 1, -1, &moved), EMBER_ERANGE);
    assert_int_equal(ember_move(NULL, "k", 1, 1, &moved), EMBER_EINVAL);
    ember_db *v2 = view(db, 2);
    ta_expect_int(CMD(v2, "PTTL", "k"), 7000);
    assert_int_equal(ember_db_close(v2), EMBER_OK);
    assert_int_equal(ember_db_close(v1), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_swapdb(void **state)
{
    ember_db *db = open_db(state), *v1 = view(db, 1);
    set(db, "zero", "0");
    set(v1, "one", "1");
    ta_expect_int(CMD(v1, "EXPIRE", "one", "30"), 1);
    ta_expect_error(CMD(db, "SWAPDB", "0", "16"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "SWAPDB", "abc", "0"), "ERR invalid first DB index");
    ta_expect_error(CMD(db, "SWAPDB", "0", "abc"), "ERR invalid second DB index");
    ta_expect_error(CMD(db, "SWAPDB", "2147483648", "0"), "ERR invalid first DB index");
    ta_expect_error(CMD(db, "SWAPDB", "-1", "0"), "ERR DB index is out of range");
    ta_expect_error(CMD(db, "SWAPDB", "0"), "ERR wrong number of arguments for 'swapdb' command");
    ta_expect_ok(CMD(db, "SWAPDB", "0", "0"));
    ta_expect_bulk(CMD(db, "GET", "zero"), "0");
    ta_expect_ok(CMD(db, "SWAPDB", "0", "1"));
    /* Every handle keeps its index and sees the other contents. */
    ta_expect_nil(CMD(db, "GET", "zero"));
    ta_expect_bulk(CMD(db, "GET", "one"), "1");
    ta_expect_int(CMD(db, "TTL", "one"), 30);
    ta_expect_bulk(CMD(v1, "GET", "zero"), "0");
    assert_int_equal(ember_swapdb(db, 1, 0), EMBER_OK);
    ta_expect_bulk(CMD(db, "GET", "zero"), "0");
    ta_expect_bulk(CMD(v1, "GET", "one"), "1");
    assert_int_equal(ember_swapdb(db, 0, 16), EMBER_ERANGE);
    assert_int_equal(ember_swapdb(db, -1, 0), EMBER_ERANGE);
    assert_int_equal(ember_swapdb(NULL, 0, 1), EMBER_EINVAL);
    assert_int_equal(ember_db_close(v1), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ RANDOMKEY DBSIZE FLUSH */

static void test_randomkey_dbsize(void **state)
{
    ember_db *db = open_db(state);
    ta_expect_nil(CMD(db, "RANDOMKEY"));
    ta_expect_int(CMD(db, "DBSIZE"), 0);
    void *k = NULL;
    size_t kl = 0;
    assert_int_equal(ember_randomkey(db, &k, &kl), EMBER_ENOTFOUND);
    assert_int_equal(ember_set(db, "b\0in", 4, "v", 1), EMBER_OK);
    assert_int_equal(ember_randomkey(db, &k, &kl), EMBER_OK);
    assert_int_equal(kl, 4);
    assert_memory_equal(k, "b\0in", 4);
    ember_free(k);
    set(db, "", "empty");
    set(db, "x", "1");
    int seen[3] = {0};
    for (int i = 0; i < 300; i++) {
        ember_reply *r = CMD(db, "RANDOMKEY");
        size_t len;
        const char *s = ember_reply_str(r, &len);
        assert_int_equal(ember_reply_type(r), EMBER_REPLY_STRING);
        seen[len == 0 ? 0 : len == 1 ? 1 : 2] = 1;
        ember_reply_free(r);
        (void)s;
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    int64_t n = -1;
    assert_int_equal(ember_dbsize(db, &n), EMBER_OK);
    assert_int_equal(n, 3);
    ta_expect_error(CMD(db, "RANDOMKEY", "x"),
                    "ERR wrong number of arguments for 'randomkey' command");
    ta_expect_error(CMD(db, "DBSIZE", "x"), "ERR wrong number of arguments for 'dbsize' command");
    assert_int_equal(ember_randomkey(db, NULL, &kl), EMBER_EINVAL);
    assert_int_equal(ember_dbsize(NULL, &n), EMBER_EINVAL);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void fill(ember_db *db, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "%s%d", prefix, i);
        set(db, k, "v");
    }
}

static void test_flush(void **state)
{
    ember_db *db = open_db(state), *v3 = view(db, 3);
    fill(db, "a", 100);
    fill(v3, "b", 50);
    ta_expect_error(CMD(db, "FLUSHDB", "foo"), "ERR syntax error");
    ta_expect_error(CMD(db, "FLUSHDB", "async", "sync"), "ERR syntax error");
    ta_expect_error(CMD(db, "FLUSHALL", "foo"), "ERR syntax error");
    ta_expect_error(CMD(db, "FLUSHALL", "async", "x"), "ERR syntax error");
    int64_t lazy = ta_info_field(db, "lazyfreed_objects");
    ta_expect_ok(CMD(db, "FLUSHDB"));
    ta_expect_int(CMD(db, "DBSIZE"), 0);
    ta_expect_int(CMD(v3, "DBSIZE"), 50); /* only the handle's database */
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy);
    fill(db, "a", 100);
    ta_expect_ok(CMD(db, "FLUSHDB", "ASYNC"));
    ta_expect_int(CMD(db, "DBSIZE"), 0);
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy + 100);
    /* lazyfree-lazy-user-flush makes the plain form asynchronous, not SYNC. */
    ta_expect_ok(CMD(db, "CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"));
    fill(db, "a", 10);
    ta_expect_ok(CMD(db, "FLUSHDB", "sync"));
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy + 100);
    fill(db, "a", 10);
    ta_expect_ok(CMD(db, "FLUSHDB"));
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy + 110);
    ta_expect_ok(CMD(db, "CONFIG", "SET", "lazyfree-lazy-user-flush", "no"));
    /* FLUSHALL empties every database. */
    fill(db, "a", 5);
    ta_expect_ok(CMD(db, "FLUSHALL", "SYNC"));
    ta_expect_int(CMD(db, "DBSIZE"), 0);
    ta_expect_int(CMD(v3, "DBSIZE"), 0);
    fill(db, "a", 5);
    fill(v3, "b", 5);
    ta_expect_ok(CMD(v3, "FLUSHALL", "async"));
    ta_expect_int(CMD(db, "DBSIZE"), 0);
    ta_expect_int(CMD(v3, "DBSIZE"), 0);
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy + 120);
    /* Typed wrappers. */
    fill(db, "a", 5);
    fill(v3, "b", 5);
    assert_int_equal(ember_flushdb(v3, 0), EMBER_OK);
    ta_expect_int(CMD(db, "DBSIZE"), 5);
    ta_expect_int(CMD(v3, "DBSIZE"), 0);
    assert_int_equal(ember_flushdb(db, 1), EMBER_OK);
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy + 125);
    fill(db, "a", 5);
    fill(v3, "b", 5);
    assert_int_equal(ember_flushall(db, 0), EMBER_OK);
    ta_expect_int(CMD(v3, "DBSIZE"), 0);
    fill(v3, "b", 5);
    assert_int_equal(ember_flushall(v3, 1), EMBER_OK);
    ta_expect_int(CMD(v3, "DBSIZE"), 0);
    assert_int_equal(ta_info_field(db, "lazyfreed_objects"), lazy + 130);
    assert_int_equal(ember_flushdb(NULL, 0), EMBER_EINVAL);
    assert_int_equal(ember_flushall(NULL, 0), EMBER_EINVAL);
    assert_int_equal(ember_db_close(v3), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ KEYS and SCAN */

static void test_keys(void **state)
{
    ember_db *db = open_db(state);
    expect_set_of(CMD(db, "KEYS", "*"), 0, NULL);
    set(db, "", "empty");
    /* A lone '*' matches the empty key; the glob "**" does not. */
    expect_set_of(CMD(db, "KEYS", "*"), 1, (const char *[]){""});
    expect_set_of(CMD(db, "KEYS", "**"), 0, NULL);
    expect_set_of(CMD(db, "KEYS", "?"), 0, NULL);
    set(db, "hello", "1");
    set(db, "hallo", "1");
    set(db, "hxllo", "1");
    set(db, "world", "1");
    expect_set_of(CMD(db, "KEYS", "h?llo"), 3, (const char *[]){"hello", "hallo", "hxllo"});
    expect_set_of(CMD(db, "KEYS", "h[ae]llo"), 2, (const char *[]){"hello", "hallo"});
    expect_set_of(CMD(db, "KEYS", "h[^e]llo"), 2, (const char *[]){"hallo", "hxllo"});
    expect_set_of(CMD(db, "KEYS", "*o*"), 4, (const char *[]){"hello", "hallo", "hxllo", "world"});
    expect_set_of(CMD(db, "KEYS", "*"), 5,
                  (const char *[]){"", "hello", "hallo", "hxllo", "world"});
    ta_expect_error(CMD(db, "KEYS"), "ERR wrong number of arguments for 'keys' command");
    ta_expect_error(CMD(db, "KEYS", "a", "b"), "ERR wrong number of arguments for 'keys' command");
    /* Binary keys and patterns. */
    assert_int_equal(ember_set(db, "a\0b", 3, "v", 1), EMBER_OK);
    ember_reply *r;
    assert_int_equal(ember_keys(db, "a\0*", 3, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 1);
    size_t len;
    const char *s = ember_reply_str(ember_reply_element(r, 0), &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 3);
    ember_reply_free(r);
    assert_int_equal(ember_keys(db, "h*", 2, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 3);
    ember_reply_free(r);
    assert_int_equal(ember_keys(db, NULL, 0, &r), EMBER_OK); /* empty pattern */
    assert_int_equal(ember_reply_len(r), 1);
    ember_reply_free(r);
    assert_int_equal(ember_keys(db, "*", 1, NULL), EMBER_EINVAL);
    assert_int_equal(ember_keys(db, NULL, 1, &r), EMBER_EINVAL);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* Parses a SCAN reply: checks the [bulk cursor, array] shape. */
static uint64_t scan_reply_cursor(const ember_reply *r)
{
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
    assert_int_equal(ember_reply_len(r), 2);
    const ember_reply *c = ember_reply_element(r, 0);
    assert_int_equal(ember_reply_type(c), EMBER_REPLY_STRING);
    assert_int_equal(ember_reply_type(ember_reply_element(r, 1)), EMBER_REPLY_ARRAY);
    return strtoull(ember_reply_str(c, NULL), NULL, 10);
}

static void test_scan_command(void **state)
{
    ember_db *db = open_db(state);
    ember_reply *r = CMD(db, "SCAN", "0");
    assert_int_equal(scan_reply_cursor(r), 0);
    assert_int_equal(ember_reply_len(ember_reply_element(r, 1)), 0);
    ember_reply_free(r);
    set(db, "k", "v");
    /* Valid cursors, parsed as strtoul does. */
    const char *valid[] = {"0", "", "+5", "05", "18446744073709551615", "-1"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        r = CMD(db, "SCAN", valid[i]);
        scan_reply_cursor(r);
        ember_reply_free(r);
    }
    r = bcmd(db, 2, (const char *[]){"SCAN", "5\0abc"}, (const size_t[]){4, 5});
    scan_reply_cursor(r);
    ember_reply_free(r);
    const char *invalid[] = {" 5", "0x10", "18446744073709551616", "5a", "-", "+", "5 "};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        ta_expect_error(CMD(db, "SCAN", invalid[i]), "ERR invalid cursor");
    ta_expect_error(CMD(db, "SCAN", "abc", "count", "0"), "ERR invalid cursor");
    ta_expect_error(CMD(db, "SCAN", "0", "count", "0"), "ERR syntax error");
    ta_expect_error(CMD(db, "SCAN", "0", "count", "-1"), "ERR syntax error");
    ta_expect_error(CMD(db, "SCAN", "0", "count", "abc"),
                    "ERR value is not an integer or out of range");
    ta_expect_error(CMD(db, "SCAN", "0", "foo"), "ERR syntax error");
    ta_expect_error(CMD(db, "SCAN", "0", "match"), "ERR syntax error");
    ta_expect_error(CMD(db, "SCAN", "0", "type"), "ERR syntax error");
    ta_expect_error(CMD(db, "SCAN"), "ERR wrong number of arguments for 'scan' command");
    /* TYPE compares without case; an unknown type filters everything. */
    r = CMD(db, "SCAN", "0", "TYPE", "STRING");
    assert_int_equal(ember_reply_len(ember_reply_element(r, 1)), 1);
    ember_reply_free(r);
    r = CMD(db, "SCAN", "0", "type", "list");
    assert_int_equal(ember_reply_len(ember_reply_element(r, 1)), 0);
    ember_reply_free(r);
    r = CMD(db, "SCAN", "0", "type", "foo");
    assert_int_equal(ember_reply_len(ember_reply_element(r, 1)), 0);
    ember_reply_free(r);
    /* MATCH '*' also returns the empty key; '**' does not. */
    set(db, "", "e");
    r = CMD(db, "SCAN", "0", "MATCH", "*", "COUNT", "100");
    assert_int_equal(scan_reply_cursor(r), 0);
    assert_int_equal(ember_reply_len(ember_reply_element(r, 1)), 2);
    ember_reply_free(r);
    r = CMD(db, "SCAN", "0", "MATCH", "**", "COUNT", "100");
    assert_int_equal(ember_reply_len(ember_reply_element(r, 1)), 1);
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

#define NSTABLE 300

static void set_indexed(ember_db *db, const char *prefix, int i)
{
    char k[32];
    int n = snprintf(k, sizeof k, "%s:%d", prefix, i);
    assert_int_equal(ember_set(db, k, (size_t)n, "v", 1), EMBER_OK);
}

static void del_indexed(ember_db *db, const char *prefix, int i)
{
    char k[32];
    int n = snprintf(k, sizeof k, "%s:%d", prefix, i);
    const void *keys[] = {k};
    const size_t lens[] = {(size_t)n};
    int64_t removed;
    assert_int_equal(ember_del(db, 1, keys, lens, &removed), EMBER_OK);
    assert_int_equal(removed, 1);
}

/* Full iteration with ember_scan while other keys are added and removed, so
 * the table grows and (at the timed work) shrinks between calls: each key
 * present for the whole iteration comes back at least once. */
static void test_scan_wrapper_guarantee(void **state)
{
    ember_db *db = open_db(state);
    static unsigned char seen[NSTABLE];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < NSTABLE; i++)
        set_indexed(db, "stable", i);
    uint64_t cur = 0;
    int calls = 0, lo = 0, hi = 0;
    do {
        ember_reply *keys = NULL;
        assert_int_equal(ember_scan(db, cur, NULL, 0, 20, NULL, &cur, &keys), EMBER_OK);
        assert_int_equal(ember_reply_type(keys), EMBER_REPLY_ARRAY);
        for (size_t i = 0; i < ember_reply_len(keys); i++) {
            size_t len;
            const char *s = ember_reply_str(ember_reply_element(keys, i), &len);
            assert_int_equal(ember_reply_type(ember_reply_element(keys, i)), EMBER_REPLY_STRING);
            if (len > 7 && memcmp(s, "stable:", 7) == 0) {
                int idx = atoi(s + 7);
                assert_true(idx >= 0 && idx < NSTABLE);
                seen[idx] = 1;
            }
        }
        ember_reply_free(keys);
        if (calls % 30 < 20) {
            /* Grow: thousands of keys force several table doublings. */
            for (int j = 0; j < 150; j++)
                set_indexed(db, "churn", hi++);
        } else {
            /* Shrink: remove them; the timed work then shrinks the table. */
            for (int j = 0; j < 400 && lo < hi; j++)
                del_indexed(db, "churn", lo++);
            assert_int_equal(ember_clock_advance(db, 0), EMBER_OK);
        }
        calls++;
        assert_true(calls < 100000);
    } while (cur != 0);
    assert_true(hi > 1000);
    for (int i = 0; i < NSTABLE; i++)
        if (!seen[i])
            fail_msg("stable:%d never returned", i);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_scan_wrapper_options(void **state)
{
    ember_db *db = open_db(state);
    for (int i = 0; i < 100; i++) {
        char k[32];
        int n = snprintf(k, sizeof k, "%s:%d", i % 2 ? "odd" : "even", i);
        assert_int_equal(ember_set(db, k, (size_t)n, "v", 1), EMBER_OK);
    }
    assert_int_equal(ember_set(db, "bin\0key", 7, "v", 1), EMBER_OK);
    int odd = 0, total = 0, calls = 0;
    uint64_t cur = 0;
    do {
        ember_reply *keys;
        assert_int_equal(ember_scan(db, cur, "odd:*", 5, 7, NULL, &cur, &keys), EMBER_OK);
        for (size_t i = 0; i < ember_reply_len(keys); i++) {
            size_t len;
            const char *s = ember_reply_str(ember_reply_element(keys, i), &len);
            assert_memory_equal(s, "odd:", 4);
            odd++;
        }
        ember_reply_free(keys);
        calls++;
    } while (cur != 0);
    assert_int_equal(odd, 50);
    assert_true(calls > 1); /* COUNT 7 needs several calls for 101 keys */
    cur = 0;
    int binary = 0;
    do {
        ember_reply *keys;
        assert_int_equal(ember_scan(db, cur, NULL, 0, 1000, "string", &cur, &keys), EMBER_OK);
        for (size_t i = 0; i < ember_reply_len(keys); i++) {
            size_t len;
            const char *s = ember_reply_str(ember_reply_element(keys, i), &len);
            if (len == 7 && memcmp(s, "bin\0key", 7) == 0)
                binary++;
            total++;
        }
        ember_reply_free(keys);
    } while (cur != 0);
    assert_int_equal(total, 101);
    assert_int_equal(binary, 1);
    ember_reply *keys;
    assert_int_equal(ember_scan(db, 0, NULL, 0, 1000, "hash", &cur, &keys), EMBER_OK);
    assert_int_equal(ember_reply_len(keys), 0);
    assert_int_equal(cur, 0);
    ember_reply_free(keys);
    /* A cursor above INT64_MAX is passed as unsigned and accepted. */
    assert_int_equal(ember_scan(db, UINT64_MAX, NULL, 0, 0, NULL, &cur, &keys), EMBER_OK);
    ember_reply_free(keys);
    assert_int_equal(ember_scan(db, 0, NULL, 0, 0, NULL, NULL, &keys), EMBER_EINVAL);
    assert_int_equal(ember_scan(db, 0, NULL, 0, 0, NULL, &cur, NULL), EMBER_EINVAL);
    assert_int_equal(ember_scan(db, 0, NULL, 3, 0, NULL, &cur, &keys), EMBER_EINVAL);
    assert_int_equal(ember_scan(NULL, 0, NULL, 0, 0, NULL, &cur, &keys), EMBER_EINVAL);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* Inside a closure nothing interleaves (no active-expiry tick), so the
 * effect of one command on logically expired keys is observable. */
typedef struct expired_probe {
    int64_t before, after_keys, keys_len, after_scan, scan_len;
    int ok;
} expired_probe;

static int64_t int_of(ember_db *db, const char *c0)
{
    ember_reply *r = NULL;
    const char *argv[] = {c0};
    if (ember_command(db, 1, argv, NULL, &r) != EMBER_OK)
        return -999;
    int64_t v = ember_reply_integer(r);
    ember_reply_free(r);
    return v;
}

static int probe_expired(ember_db *db, void *ud)
{
    expired_probe *p = ud;
    ember_reply *r = NULL;
    p->ok = 1;
    p->before = int_of(db, "DBSIZE");
    const char *kargv[] = {"KEYS", "*"};
    if (ember_command(db, 2, kargv, NULL, &r) != EMBER_OK)
        p->ok = 0;
    p->keys_len = (int64_t)ember_reply_len(r);
    ember_reply_free(r);
    p->after_keys = int_of(db, "DBSIZE");
    uint64_t cur = 0;
    p->scan_len = 0;
    do {
        ember_reply *keys = NULL;
        if (ember_scan(db, cur, NULL, 0, 100, NULL, &cur, &keys) != EMBER_OK) {
            p->ok = 0;
            break;
        }
        p->scan_len += (int64_t)ember_reply_len(keys);
        ember_reply_free(keys);
    } while (cur != 0);
    p->after_scan = int_of(db, "DBSIZE");
    return 0;
}

static void test_expired_keys_in_iteration(void **state)
{
    ember_db *db = open_db(state);
    /* 1000 live keys and 50 that expire: active expiry stops sampling once a
     * sample is mostly live, so most of the 50 stay until something looks. */
    fill(db, "live", 1000);
    for (int i = 0; i < 1000; i++) {
        char k[32];
        snprintf(k, sizeof k, "live%d", i);
        ta_expect_int(CMD(db, "EXPIRE", k, "1000"), 1);
    }
    for (int i = 0; i < 50; i++) {
        char k[32];
        snprintf(k, sizeof k, "dead%d", i);
        ta_expect_ok(CMD(db, "SET", k, "v", "PX", "10"));
    }
    int64_t expired0 = ta_info_field(db, "expired_keys");
    assert_int_equal(ember_clock_advance(db, 20), EMBER_OK);
    expired_probe p;
    memset(&p, 0, sizeof p);
    assert_int_equal(ember_run(db, probe_expired, &p), 0);
    assert_true(p.ok);
    assert_true(p.before > 1000);             /* DBSIZE counts unreclaimed keys */
    assert_int_equal(p.keys_len, 1000);       /* KEYS skips them ... */
    assert_int_equal(p.after_keys, p.before); /* ... without deleting them */
    assert_int_equal(p.scan_len, 1000);       /* SCAN never returns them ... */
    assert_int_equal(p.after_scan, 1000);     /* ... and reclaims them */
    assert_int_equal(ta_info_field(db, "expired_keys"), expired0 + 50);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ EXPIRE family */

static void test_expire_errors_and_options(void **state)
{
    ember_db *db = open_db(state);
    set(db, "k", "v");
    const char *nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    const char *gtlt = "ERR GT and LT options at the same time are not compatible";
    ta_expect_error(CMD(db, "EXPIRE", "k", "100", "nx", "xx"), nx);
    ta_expect_error(CMD(db, "EXPIRE", "k", "100", "gt", "lt"), gtlt);
    ta_expect_error(CMD(db, "EXPIRE", "k", "100", "nx", "gt"), nx);
    ta_expect_error(CMD(db, "EXPIRE", "k", "100", "lt", "nx"), nx);
    ta_expect_error(CMD(db, "PEXPIRE", "k", "100", "xx", "lt", "gt"), gtlt);
    ta_expect_int(CMD(db, "EXPIRE", "k", "100", "xx", "gt"), 0);
    ta_expect_error(CMD(db, "EXPIRE", "k", "100", "foo"), "ERR Unsupported option foo");
    ta_expect_error(CMD(db, "EXPIRE", "k", "abc", "foo"), "ERR Unsupported option foo");
    ta_expect_error(CMD(db, "EXPIRE", "nokey", "100", "foo"), "ERR Unsupported option foo");
    ta_expect_error(
        bcmd(db, 4, (const char *[]){"EXPIRE", "k", "1", "fo\0o"}, (const size_t[]){6, 1, 1, 4}),
        "ERR Unsupported option fo");
    ta_expect_error(CMD(db, "EXPIRE", "k", "1", "fo\r\no"), "ERR Unsupported option fo  o");
    ta_expect_error(CMD(db, "EXPIRE", "k", "1", "\r\n"), "ERR Unsupported option ");
    ta_expect_error(CMD(db, "EXPIRE", "k", "1", "x\n\r\n"), "ERR Unsupported option x");
    ta_expect_error(CMD(db, "EXPIRE", "k", "1", "\nx"), "ERR Unsupported option  x");
    ta_expect_int(CMD(db, "EXPIRE", "k", "100", "nx", "nx"), 1);
    ta_expect_error(CMD(db, "EXPIRE", "k", "abc"), "ERR value is not an integer or out of range");
    ta_expect_error(CMD(db, "EXPIRE", "nokey", "abc"),
                    "ERR value is not an integer or out of range");
    ta_expect_error(CMD(db, "EXPIRE", "k", "9223372036854775807"),
                    "ERR invalid expire time in 'expire' command");
    ta_expect_error(CMD(db, "PEXPIRE", "k", "9223372036854775807"),
                    "ERR invalid expire time in 'pexpire' command");
    ta_expect_error(CMD(db, "EXPIREAT", "k", "9223372036854775807"),
                    "ERR invalid expire time in 'expireat' command");
    ta_expect_error(CMD(db, "EXPIRE", "k", "9223372036854775"),
                    "ERR invalid expire time in 'expire' command");
    ta_expect_error(CMD(db, "EXPIRE", "k", "-9223372036854775808"),
                    "ERR invalid expire time in 'expire' command");
    ta_expect_error(CMD(db, "EXPIRE", "nokey", "9223372036854775807"),
                    "ERR invalid expire time in 'expire' command");
    /* The largest absolute time in ms is fine. */
    ta_expect_int(CMD(db, "PEXPIREAT", "k", "9223372036854775807"), 1);
    ta_expect_int(CMD(db, "PEXPIRETIME", "k"), INT64_MAX);
    ta_expect_int(CMD(db, "EXPIRETIME", "k"), 9223372036854776ll); /* rounded, no overflow */
    ta_expect_int(CMD(db, "PTTL", "k"), INT64_MAX - TA_T0);
    ta_expect_int(CMD(db, "EXPIREAT", "k", "9223372036854775"), 1);
    ta_expect_int(CMD(db, "EXPIRETIME", "k"), 9223372036854775ll);
    ta_expect_int(CMD(db, "EXPIRE", "k", "9223372036854"), 1);
    ta_expect_int(CMD(db, "TTL", "k"), 9223372036854ll);
    const char *arity[] = {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"};
    for (int i = 0; i < 4; i++) {
        char msg[80];
        char lower[16];
        size_t n = strlen(arity[i]);
        for (size_t j = 0; j <= n; j++)
            lower[j] = (char)(arity[i][j] | (arity[i][j] ? 0x20 : 0));
        snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s' command", lower);
        ta_expect_error(CMD(db, arity[i], "k"), msg);
    }
    ta_expect_error(CMD(db, "TTL"), "ERR wrong number of arguments for 'ttl' command");
    ta_expect_error(CMD(db, "TTL", "a", "b"), "ERR wrong number of arguments for 'ttl' command");
    ta_expect_error(CMD(db, "PTTL"), "ERR wrong number of arguments for 'pttl' command");
    ta_expect_error(CMD(db, "EXPIRETIME"),
                    "ERR wrong number of arguments for 'expiretime' command");
    ta_expect_error(CMD(db, "PEXPIRETIME"),
                    "ERR wrong number of arguments for 'pexpiretime' command");
    ta_expect_error(CMD(db, "PERSIST"), "ERR wrong number of arguments for 'persist' command");
    ta_expect_error(CMD(db, "PERSIST", "a", "b"),
                    "ERR wrong number of arguments for 'persist' command");
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_expire_conditions(void **state)
{
    ember_db *db = open_db(state);
    ta_expect_int(CMD(db, "EXPIRE", "nokey", "10"), 0);
    ta_expect_int(CMD(db, "PERSIST", "nokey"), 0);
    ta_expect_int(CMD(db, "TTL", "nokey"), -2);
    ta_expect_int(CMD(db, "PTTL", "nokey"), -2);
    ta_expect_int(CMD(db, "EXPIRETIME", "nokey"), -2);
    ta_expect_int(CMD(db, "PEXPIRETIME", "nokey"), -2);
    set(db, "k", "v");
    ta_expect_int(CMD(db, "TTL", "k"), -1);
    ta_expect_int(CMD(db, "EXPIRETIME", "k"), -1);
    /* No TTL counts as infinite: GT never passes, LT always does. */
    ta_expect_int(CMD(db, "EXPIRE", "k", "10", "XX"), 0);
    ta_expect_int(CMD(db, "EXPIRE", "k", "10", "gt"), 0);
    ta_expect_int(CMD(db, "TTL", "k"), -1);
    ta_expect_int(CMD(db, "EXPIRE", "k", "10", "NX"), 1);
    ta_expect_int(CMD(db, "EXPIRE", "k", "20", "nx"), 0);
    ta_expect_int(CMD(db, "EXPIRE", "k", "5", "xx", "gt"), 0);
    ta_expect_int(CMD(db, "EXPIRE", "k", "50", "XX", "GT"), 1);
    ta_expect_int(CMD(db, "TTL", "k"), 50);
    ta_expect_int(CMD(db, "EXPIRE", "k", "50", "gt"), 0); /* equal is not greater */
    ta_expect_int(CMD(db, "EXPIRE", "k", "50", "lt"), 0);
    ta_expect_int(CMD(db, "EXPIRE", "k", "40", "lt"), 1);
    ta_expect_int(CMD(db, "TTL", "k"), 40);
    ta_expect_int(CMD(db, "PERSIST", "k"), 1);
    ta_expect_int(CMD(db, "PERSIST", "k"), 0);
    ta_expect_int(CMD(db, "EXPIRE", "k", "10", "lt"), 1);
    ta_expect_int(CMD(db, "TTL", "k"), 10);
    /* A time in the past deletes the key and replies 1 (even through LT). */
    set(db, "k2", "v");
    ta_expect_int(CMD(db, "EXPIRE", "k2", "-5", "gt"), 0);
    ta_expect_int(CMD(db, "EXPIRE", "k2", "-5", "lt"), 1);
    ta_expect_int(CMD(db, "EXISTS", "k2"), 0);
    set(db, "k3", "v");
    ta_expect_int(CMD(db, "EXPIRE", "k3", "0", "nx"), 1);
    ta_expect_int(CMD(db, "EXISTS", "k3"), 0);
    set(db, "k4", "v");
    ta_expect_int(CMD(db, "EXPIRE", "k4", "0", "xx"), 0);
    ta_expect_int(CMD(db, "EXISTS", "k4"), 1);
    int64_t expired = ta_info_field(db, "expired_keys");
    ta_expect_int(CMD(db, "PEXPIREAT", "k4", "-1"), 1);
    ta_expect_int(CMD(db, "EXISTS", "k4"), 0);
    set(db, "k4", "v");
    ta_expect_int(CMD(db, "PEXPIRE", "k4", "-9223372036854775808"), 1);
    set(db, "k4", "v");
    ta_expect_int(CMD(db, "PEXPIRE", "k4", "0"), 1); /* now itself is the past */
    ta_expect_int(CMD(db, "EXISTS", "k4"), 0);
    /* Those were deletions, not expirations, in Redis's statistics. */
    assert_int_equal(ta_info_field(db, "expired_keys"), expired);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_ttl_clock(void **state)
{
    ember_db *db = open_db(state);
    set(db, "k", "v");
    ta_expect_int(CMD(db, "PEXPIRE", "k", "1500"), 1);
    ta_expect_int(CMD(db, "PTTL", "k"), 1500);
    ta_expect_int(CMD(db, "TTL", "k"), 2); /* seconds round half up */
    ta_expect_int(CMD(db, "PEXPIRETIME", "k"), TA_T0 + 1500);
    ta_expect_int(CMD(db, "EXPIRETIME", "k"), (TA_T0 + 1500 + 500) / 1000);
    assert_int_equal(ember_clock_advance(db, 1), EMBER_OK);
    ta_expect_int(CMD(db, "PTTL", "k"), 1499);
    ta_expect_int(CMD(db, "TTL", "k"), 1);
    assert_int_equal(ember_clock_advance(db, 1499), EMBER_OK);
    /* At its expire time the key still lives, with 0 left. */
    ta_expect_int(CMD(db, "PTTL", "k"), 0);
    ta_expect_int(CMD(db, "TTL", "k"), 0);
    ta_expect_bulk(CMD(db, "GET", "k"), "v");
    int64_t expired = ta_info_field(db, "expired_keys");
    assert_int_equal(ember_clock_advance(db, 1), EMBER_OK);
    ta_expect_int(CMD(db, "PTTL", "k"), -2);
    ta_expect_nil(CMD(db, "GET", "k"));
    assert_int_equal(ta_info_field(db, "expired_keys"), expired + 1);
    /* Absolute forms. */
    set(db, "a", "v");
    ta_expect_int(CMD(db, "EXPIREAT", "a", "1700000100"), 1);
    ta_expect_int(CMD(db, "PEXPIRETIME", "a"), 1700000100000ll);
    int64_t now = 0;
    assert_int_equal(ember_clock_now(db, &now), EMBER_OK);
    ta_expect_int(CMD(db, "PTTL", "a"), 1700000100000ll - now);
    ta_expect_int(CMD(db, "PEXPIREAT", "a", "1700000100123"), 1);
    ta_expect_int(CMD(db, "EXPIRETIME", "a"), 1700000100);
    ta_expect_int(CMD(db, "PEXPIREAT", "a", "1700000100500"), 1);
    ta_expect_int(CMD(db, "EXPIRETIME", "a"), 1700000101);
    /* SET without KEEPTTL clears the TTL; PERSIST of a key without one is 0. */
    set(db, "a", "w");
    ta_expect_int(CMD(db, "TTL", "a"), -1);
    ta_expect_int(CMD(db, "PERSIST", "a"), 0);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_expire_wrappers(void **state)
{
    ember_db *db = open_db(state);
    int s = -1;
    int64_t t = 0;
    assert_int_equal(ember_expire(db, "k", 1, 10, 0, &s), EMBER_OK);
    assert_int_equal(s, 0);
    set(db, "k", "v");
    assert_int_equal(ember_expire(db, "k", 1, 10, EMBER_EXPIRE_NX, &s), EMBER_OK);
    assert_int_equal(s, 1);
    assert_int_equal(ember_ttl(db, "k", 1, &t), EMBER_OK);
    assert_int_equal(t, 10);
    assert_int_equal(ember_expire(db, "k", 1, 5, EMBER_EXPIRE_GT, &s), EMBER_OK);
    assert_int_equal(s, 0);
    assert_int_equal(ember_pexpire(db, "k", 1, 20000, EMBER_EXPIRE_XX | EMBER_EXPIRE_GT, &s),
                     EMBER_OK);
    assert_int_equal(s, 1);
    assert_int_equal(ember_pttl(db, "k", 1, &t), EMBER_OK);
    assert_int_equal(t, 20000);
    assert_int_equal(ember_expireat(db, "k", 1, TA_T0 / 1000 + 7, EMBER_EXPIRE_LT, &s), EMBER_OK);
    assert_int_equal(s, 1);
    assert_int_equal(ember_expiretime(db, "k", 1, &t), EMBER_OK);
    assert_int_equal(t, TA_T0 / 1000 + 7);
    assert_int_equal(ember_pexpireat(db, "k", 1, TA_T0 + 3000, 0, &s), EMBER_OK);
    assert_int_equal(ember_pexpiretime(db, "k", 1, &t), EMBER_OK);
    assert_int_equal(t, TA_T0 + 3000);
    assert_int_equal(ember_persist(db, "k", 1, &s), EMBER_OK);
    assert_int_equal(s, 1);
    assert_int_equal(ember_persist(db, "k", 1, &s), EMBER_OK);
    assert_int_equal(s, 0);
    assert_int_equal(ember_ttl(db, "k", 1, &t), EMBER_OK);
    assert_int_equal(t, -1);
    assert_int_equal(ember_ttl(db, "nokey", 5, &t), EMBER_OK);
    assert_int_equal(t, -2);
    /* Errors of the command come back as status codes. */
    assert_int_equal(ember_expire(db, "k", 1, INT64_MAX, 0, &s), EMBER_EREPLY);
    assert_int_equal(ember_expire(db, "k", 1, 1, EMBER_EXPIRE_NX | EMBER_EXPIRE_XX, &s),
                     EMBER_EREPLY);
    assert_int_equal(ember_expire(db, "k", 1, 1, 16, &s), EMBER_EINVAL);
    assert_int_equal(ember_expire(NULL, "k", 1, 1, 0, &s), EMBER_EINVAL);
    assert_int_equal(ember_pttl(db, NULL, 2, &t), EMBER_EINVAL);
    assert_int_equal(ember_persist(NULL, "k", 1, &s), EMBER_EINVAL);
    /* In the past: deleted, reported as set. */
    assert_int_equal(ember_pexpire(db, "k", 1, -1, 0, NULL), EMBER_OK);
    assert_int_equal(ember_pttl(db, "k", 1, &t), EMBER_OK);
    assert_int_equal(t, -2);
    /* Binary key. */
    assert_int_equal(ember_set(db, "x\0y", 3, "v", 1), EMBER_OK);
    assert_int_equal(ember_expire(db, "x\0y", 3, 30, 0, &s), EMBER_OK);
    assert_int_equal(s, 1);
    assert_int_equal(ember_ttl(db, "x\0y", 3, &t), EMBER_OK);
    assert_int_equal(t, 30);
    assert_int_equal(ember_ttl(db, "x", 1, &t), EMBER_OK);
    assert_int_equal(t, -2);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_active_expiry(void **state)
{
    ember_db *db = open_db(state);
    int64_t expired = ta_info_field(db, "expired_keys");
    for (int i = 0; i < 200; i++) {
        char k[32];
        snprintf(k, sizeof k, "t%d", i);
        ta_expect_ok(CMD(db, "SET", k, "v", "PX", "100"));
    }
    fill(db, "keep", 10);
    ta_expect_int(CMD(db, "DBSIZE"), 210);
    /* Advancing the clock runs the timed work: every sample is expired, so
     * one cycle reclaims them all without any command touching them. */
    assert_int_equal(ember_clock_advance(db, 101), EMBER_OK);
    ta_expect_int(CMD(db, "DBSIZE"), 10);
    assert_int_equal(ta_info_field(db, "expired_keys"), expired + 200);
    assert_true(ta_info_field(db, "expire_cycles") > 0);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ OBJECT */

static void test_object(void **state)
{
    ember_db *db = open_db(state);
    ta_expect_nil(CMD(db, "OBJECT", "ENCODING", "nokey"));
    ta_expect_nil(CMD(db, "OBJECT", "FREQ", "nokey"));
    ta_expect_nil(CMD(db, "OBJECT", "IDLETIME", "nokey"));
    ta_expect_nil(CMD(db, "OBJECT", "REFCOUNT", "nokey"));
    ta_expect_error(CMD(db, "OBJECT"), "ERR wrong number of arguments for 'object' command");
    ta_expect_error(CMD(db, "OBJECT", "foo", "k"),
                    "ERR unknown subcommand 'foo'. Try OBJECT HELP.");
    ta_expect_error(CMD(db, "OBJECT", "encoding"),
                    "ERR wrong number of arguments for 'object|encoding' command");
    ta_expect_error(CMD(db, "OBJECT", "encoding", "a", "b"),
                    "ERR wrong number of arguments for 'object|encoding' command");
    ta_expect_error(CMD(db, "OBJECT", "help", "x"),
                    "ERR wrong number of arguments for 'object|help' command");
    ta_expect_error(CMD(db, "OBJECT", "freq"),
                    "ERR wrong number of arguments for 'object|freq' command");
    ta_expect_error(CMD(db, "OBJECT", "idletime"),
                    "ERR wrong number of arguments for 'object|idletime' command");
    ta_expect_error(CMD(db, "OBJECT", "refcount"),
                    "ERR wrong number of arguments for 'object|refcount' command");
    ember_reply *r = CMD(db, "OBJECT", "HELP");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ARRAY);
    assert_int_equal(ember_reply_len(r), 15);
    assert_int_equal(ember_reply_type(ember_reply_element(r, 0)), EMBER_REPLY_STATUS);
    assert_string_equal(ember_reply_str(ember_reply_element(r, 0), NULL),
                        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert_string_equal(ember_reply_str(ember_reply_element(r, 14), NULL), "    Prints this help.");
    ember_reply_free(r);

    /* Encodings. */
    char big[60];
    memset(big, 'r', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    set(db, "i", "5");
    set(db, "e", "abc");
    set(db, "r", big);
    ta_expect_bulk(CMD(db, "OBJECT", "ENCODING", "i"), "int");
    ta_expect_bulk(CMD(db, "OBJECT", "encoding", "e"), "embstr");
    ta_expect_bulk(CMD(db, "OBJECT", "Encoding", "r"), "raw");

    /* REFCOUNT: shared integers 0..9999 report INT_MAX. */
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 2147483647);
    set(db, "i", "9999");
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 2147483647);
    set(db, "i", "10000");
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 1);
    set(db, "i", "-1");
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 1);
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "e"), 1);
    set(db, "i", "0");
    /* maxmemory with an LRU/LFU policy turns sharing off; other policies keep it. */
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory", "100mb"));
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 2147483647);
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru"));
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 1);
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory-policy", "volatile-ttl"));
    ta_expect_int(CMD(db, "OBJECT", "REFCOUNT", "i"), 2147483647);
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory", "0"));
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory-policy", "noeviction"));

    /* IDLETIME follows the clock; reads touch, OBJECT itself does not. */
    set(db, "idle", "v");
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "idle"), 0);
    assert_int_equal(ember_clock_advance(db, 5000), EMBER_OK);
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "idle"), 5);
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "idle"), 5);
    ta_expect_int(CMD(db, "TTL", "idle"), -1); /* TTL does not touch either */
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "idle"), 5);
    ta_expect_bulk(CMD(db, "GET", "idle"), "v");
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "idle"), 0);
    assert_int_equal(ember_clock_advance(db, 3000), EMBER_OK);
    ta_expect_int(CMD(db, "TOUCH", "idle"), 1);
    ta_expect_int(CMD(db, "OBJECT", "IDLETIME", "idle"), 0);

    /* FREQ needs an LFU policy; IDLETIME refuses one. */
    ta_expect_error(CMD(db, "OBJECT", "FREQ", "idle"),
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                    "Please note that when switching between policies at runtime LRU and LFU data "
                    "will take some time to adjust.");
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"));
    ta_expect_error(CMD(db, "OBJECT", "IDLETIME", "idle"),
                    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note "
                    "that when switching between policies at runtime LRU and LFU data will take "
                    "some time to adjust.");
    ta_expect_nil(CMD(db, "OBJECT", "IDLETIME", "nokey"));
    r = CMD(db, "OBJECT", "FREQ", "idle");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_INTEGER);
    assert_true(ember_reply_integer(r) >= 0 && ember_reply_integer(r) <= 255);
    ember_reply_free(r);
    ta_expect_ok(CMD(db, "CONFIG", "SET", "maxmemory-policy", "volatile-lfu"));
    r = CMD(db, "OBJECT", "FREQ", "idle");
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_INTEGER);
    ember_reply_free(r);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

/* ------------------------------------------------------------------ binary keys */

static void test_binary_keys(void **state)
{
    ember_db *db = open_db(state), *v1 = view(db, 1);
    const char *k1 = "n\0ul", *k2 = "n\0um";
    assert_int_equal(ember_set(db, k1, 4, "v1", 2), EMBER_OK);
    assert_int_equal(ember_set(db, "n", 1, "short", 5), EMBER_OK);
    ta_expect_status(bcmd(db, 2, (const char *[]){"TYPE", k1}, (const size_t[]){4, 4}), "string");
    ta_expect_ok(bcmd(db, 3, (const char *[]){"RENAME", k1, k2}, (const size_t[]){6, 4, 4}));
    ta_expect_int(bcmd(db, 2, (const char *[]){"EXISTS", k1}, (const size_t[]){6, 4}), 0);
    ta_expect_error(
        bcmd(db, 4, (const char *[]){"COPY", k2, k1, "DB"}, (const size_t[]){4, 4, 4, 2}),
        "ERR syntax error");
    ta_expect_int(bcmd(db, 3, (const char *[]){"COPY", k2, k1}, (const size_t[]){4, 4, 4}), 1);
    ta_expect_int(bcmd(db, 3, (const char *[]){"MOVE", k1, "1"}, (const size_t[]){4, 4, 1}), 1);
    void *val;
    size_t vlen;
    assert_int_equal(ember_get(v1, k1, 4, &val, &vlen), EMBER_OK);
    assert_int_equal(vlen, 2);
    assert_memory_equal(val, "v1", 2);
    ember_free(val);
    ta_expect_int(bcmd(db, 3, (const char *[]){"EXPIRE", k2, "9"}, (const size_t[]){6, 4, 1}), 1);
    ta_expect_int(bcmd(db, 2, (const char *[]){"TTL", k2}, (const size_t[]){3, 4}), 9);
    ta_expect_int(CMD(db, "TTL", "n"), -1); /* the prefix is another key */
    ember_reply *r =
        bcmd(db, 4, (const char *[]){"SCAN", "0", "MATCH", "n\0*"}, (const size_t[]){4, 1, 5, 3});
    assert_int_equal(scan_reply_cursor(r), 0);
    const ember_reply *arr = ember_reply_element(r, 1);
    assert_int_equal(ember_reply_len(arr), 1);
    size_t len;
    const char *s = ember_reply_str(ember_reply_element(arr, 0), &len);
    assert_int_equal(len, 4);
    assert_memory_equal(s, k2, 4);
    ember_reply_free(r);
    ta_expect_int(bcmd(db, 3, (const char *[]){"DEL", k2, "n"}, (const size_t[]){3, 4, 1}), 2);
    ta_expect_int(CMD(db, "DBSIZE"), 0);
    assert_int_equal(ember_db_close(v1), EMBER_OK);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_prestate(fn, (void *)&mode_executor),                                         \
        cmocka_unit_test_prestate(fn, (void *)&mode_inline)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_del_exists_touch),
        BOTH(test_type),
        BOTH(test_rename),
        BOTH(test_copy),
        BOTH(test_move),
        BOTH(test_swapdb),
        BOTH(test_randomkey_dbsize),
        BOTH(test_flush),
        BOTH(test_keys),
        BOTH(test_scan_command),
        BOTH(test_scan_wrapper_guarantee),
        BOTH(test_scan_wrapper_options),
        BOTH(test_expired_keys_in_iteration),
        BOTH(test_expire_errors_and_options),
        BOTH(test_expire_conditions),
        BOTH(test_ttl_clock),
        BOTH(test_expire_wrappers),
        BOTH(test_active_expiry),
        BOTH(test_object),
        BOTH(test_binary_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
