/*
 * test_string_obj.c — what the string commands do to the keyspace, seen from
 * inside: the encodings chosen (as redis-server's OBJECT ENCODING reports
 * them), exact expire times, in-place edits (same object, prewrite hook called
 * first with the old value, dirty counter), the volatile-key index, hit/miss
 * statistics, and WRONGTYPE against a non-string value built with a dummy
 * registered type.
 *
 * The database runs inline on a virtual clock so the test thread may read the
 * store directly between commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "common/util.h"
#include "keyspace/keyspace.h"
#include "keyspace/object.h"

#define T0 1700000000000ll

static ember_db *db;
static em_store *st;
static em_keyspace *ks;

static int setup(void **state)
{
    (void)state;
    ember_config *cfg;
    if (ember_config_new(&cfg) || ember_config_set_mode(cfg, EMBER_MODE_INLINE) ||
        ember_config_set_virtual_clock(cfg, T0) || ember_db_open(cfg, &db))
        return -1;
    ember_config_free(cfg);
    st = &db->box->core.srv.st;
    ks = &st->dbs[0];
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ember_db_close(db) == EMBER_OK ? 0 : -1;
}

/* ------------------------------------------------------------ helpers */

/* Runs a command of space-separated words ("" is the empty word) and returns
 * its reply as +status, -error, :int, $bulk or (nil). */
static const char *run(const char *line)
{
    static char out[8192];
    char store[1024];
    const char *argv[64];
    size_t argc = 0;
    char *w = store;
    for (const char *p = line; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        assert_true(argc < 64);
        argv[argc++] = w;
        if (*p == '"') {
            for (p++; *p && *p != '"';)
                *w++ = *p++;
            p += *p == '"';
        } else {
            while (*p && *p != ' ')
                *w++ = *p++;
        }
        *w++ = '\0';
    }
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_STATUS:
        snprintf(out, sizeof out, "+%s", ember_reply_str(r, NULL));
        break;
    case EMBER_REPLY_ERROR:
        snprintf(out, sizeof out, "-%s", ember_reply_str(r, NULL));
        break;
    case EMBER_REPLY_STRING: {
        size_t len, n = 0;
        const unsigned char *s = (const unsigned char *)ember_reply_str(r, &len);
        out[n++] = '$';
        for (size_t i = 0; i < len && n + 5 < sizeof out; i++) {
            if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
                out[n++] = (char)s[i];
            else
                n += (size_t)snprintf(out + n, sizeof out - n, "\\x%02x", s[i]);
        }
        out[n] = '\0';
        break;
    }
    case EMBER_REPLY_INTEGER:
        snprintf(out, sizeof out, ":%lld", (long long)ember_reply_integer(r));
        break;
    case EMBER_REPLY_NIL:
        snprintf(out, sizeof out, "(nil)");
        break;
    case EMBER_REPLY_ARRAY:
        snprintf(out, sizeof out, "*%zu", ember_reply_len(r));
        break;
    default:
        snprintf(out, sizeof out, "?");
    }
    ember_reply_free(r);
    return out;
}

#define RUN(cmd, want) assert_string_equal(run(cmd), want)

static int64_t now_ms(void)
{
    return ember__clock_ms(&st->clock);
}

/* The live object of a key (NULL if absent), without touching stats or LRU. */
static em_obj *find(const char *key)
{
    return ember__ks_lookup(st, ks, key, strlen(key), now_ms(), EM_LK_NOSTATS | EM_LK_NOTOUCH,
                            NULL);
}

static int enc_of(const char *key)
{
    em_obj *o = find(key);
    assert_non_null(o);
    assert_int_equal(ember__obj_type(o), EM_T_STRING);
    return ember__obj_enc(o);
}

static int64_t expire_of(const char *key)
{
    em_obj *o = find(key);
    assert_non_null(o);
    return ember__obj_expire(o);
}

/* Every entry of the volatile array points back at its slot and has an
 * expire time; returns the number of entries. */
static size_t check_volatile(void)
{
    for (size_t i = 0; i < ks->nvol; i++) {
        assert_true(ember__obj_has_expire(ks->vol[i]));
        assert_int_equal(ember__obj_volidx(ks->vol[i]), i);
    }
    return ks->nvol;
}

/* ------------------------------------------------------------ encodings */

static void test_encodings(void **state)
{
    (void)state;
    static const struct {
        const char *cmd, *key;
        int enc;
    } cases[] = {
        /* SET: canonical int64 -> int, <= 44 bytes -> embstr, else raw */
        {"SET i 12345", "i", EM_ENC_INT},
        {"SET i 9223372036854775807", "i", EM_ENC_INT},
        {"SET i -9223372036854775808", "i", EM_ENC_INT},
        {"SET i 0", "i", EM_ENC_INT},
        {"SET i -1", "i", EM_ENC_INT},
        {"SET e 9223372036854775808", "e", EM_ENC_EMBSTR},
        {"SET e 12345678901234567890", "e", EM_ENC_EMBSTR},
        {"SET e 00", "e", EM_ENC_EMBSTR},
        {"SET e -0", "e", EM_ENC_EMBSTR},
        {"SET e +1", "e", EM_ENC_EMBSTR},
        {"SET e \" 1\"", "e", EM_ENC_EMBSTR},
        {"SET e \"\"", "e", EM_ENC_EMBSTR},
        {"SET e 12345678901234567890123456789012345678901234", "e", EM_ENC_EMBSTR},
        {"SET r 123456789012345678901234567890123456789012345", "r", EM_ENC_RAW},
        {"SET r 123456789012345678901234567890123456789012345678901234567890", "r", EM_ENC_RAW},
        {"SET i2 7 GET", "i2", EM_ENC_INT},
        {"GETSET i3 42", "i3", EM_ENC_INT},
        {"SETNX i4 42", "i4", EM_ENC_INT},
        {"SETEX i5 10 12345", "i5", EM_ENC_INT},
        {"PSETEX e5 10000 abc", "e5", EM_ENC_EMBSTR},
        {"MSET i6 1 e6 x r6 123456789012345678901234567890123456789012345", "i6", EM_ENC_INT},
        {"GET e6", "e6", EM_ENC_EMBSTR},
        {"GET r6", "r6", EM_ENC_RAW},
        {"MSETNX i7 1 e7 x", "i7", EM_ENC_INT},
        {"GETEX i5 PERSIST", "i5", EM_ENC_INT},
        /* APPEND: a new key is encoded as SET would; an existing one becomes raw */
        {"APPEND a1 123", "a1", EM_ENC_INT},
        {"APPEND a2 abc", "a2", EM_ENC_EMBSTR},
        {"APPEND a3 123456789012345678901234567890123456789012345", "a3", EM_ENC_RAW},
        {"APPEND a2 \"\"", "a2", EM_ENC_RAW},
        {"APPEND a1 4", "a1", EM_ENC_RAW},
        /* SETRANGE: always raw, except writing nothing leaves the value alone */
        {"SETRANGE s1 0 abc", "s1", EM_ENC_RAW},
        {"SETRANGE s1 0 12", "s1", EM_ENC_RAW},
        {"SET s2 12345", "s2", EM_ENC_INT},
        {"SETRANGE s2 0 \"\"", "s2", EM_ENC_INT},
        {"SETRANGE s2 0 9", "s2", EM_ENC_RAW},
        {"SET s3 abc", "s3", EM_ENC_EMBSTR},
        {"SETRANGE s3 9 \"\"", "s3", EM_ENC_EMBSTR},
        /* INCR family: always int, also from a raw canonical integer */
        {"INCR c1", "c1", EM_ENC_INT},
        {"INCRBY c1 100", "c1", EM_ENC_INT},
        {"INCR s2", "s2", EM_ENC_INT},
        {"DECRBY a1 5", "a1", EM_ENC_INT},
        /* INCRBYFLOAT: embstr or raw, never int */
        {"INCRBYFLOAT f1 3.0", "f1", EM_ENC_EMBSTR},
        {"INCRBYFLOAT c1 0", "c1", EM_ENC_EMBSTR},
        {"INCRBYFLOAT f2 1e100", "f2", EM_ENC_RAW},
        {"INCR c1", "c1", EM_ENC_INT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = run(cases[i].cmd);
        if (got[0] == '-')
            fail_msg("%s: %s", cases[i].cmd, got);
        if (enc_of(cases[i].key) != cases[i].enc)
            fail_msg("%s: encoding %s, want %s", cases[i].cmd,
                     ember__enc_name(enc_of(cases[i].key)), ember__enc_name(cases[i].enc));
    }
    /* the values behind those encodings */
    RUN("GET a1", "$1229");
    RUN("GET s2", "$92346");
    RUN("GET c1", "$102");
    RUN("GET f2", "$9999999999999999999669353532207342619498699019828496079271391541752018669482644"
                  "324418977840117055488");
}

/* ------------------------------------------------------------ expire times */

static void test_expire_times(void **state)
{
    (void)state;
    RUN("SET a v EX 10", "+OK");
    assert_int_equal(expire_of("a"), T0 + 10000);
    RUN("SET b v PX 1500", "+OK");
    assert_int_equal(expire_of("b"), T0 + 1500);
    RUN("SET c v EXAT 1700000005", "+OK");
    assert_int_equal(expire_of("c"), 1700000005000ll);
    RUN("SET d v PXAT 1700000000700", "+OK");
    assert_int_equal(expire_of("d"), 1700000000700ll);
    RUN("SET e v PXAT 9223372036854775807", "+OK");
    assert_int_equal(expire_of("e"), INT64_MAX);
    RUN("SETEX f 20 v", "+OK");
    assert_int_equal(expire_of("f"), T0 + 20000);
    RUN("PSETEX g 25 v", "+OK");
    assert_int_equal(expire_of("g"), T0 + 25);
    assert_int_equal(check_volatile(), 7);

    assert_int_equal(ember_clock_advance(db, 5), EMBER_OK);
    /* relative times are taken from the current clock */
    RUN("SET a v2 PX 100 GET", "$v");
    assert_int_equal(expire_of("a"), T0 + 105);
    RUN("SET a v3 KEEPTTL", "+OK");
    assert_int_equal(expire_of("a"), T0 + 105);
    RUN("SET a v4", "+OK");
    assert_int_equal(expire_of("a"), -1);
    assert_int_equal(check_volatile(), 6);

    /* GETEX */
    RUN("GETEX b EX 3", "$v");
    assert_int_equal(expire_of("b"), T0 + 3005);
    RUN("GETEX b PX 7", "$v");
    assert_int_equal(expire_of("b"), T0 + 12);
    RUN("GETEX b EXAT 1800000000", "$v");
    assert_int_equal(expire_of("b"), 1800000000000ll);
    RUN("GETEX b PXAT 1800000000001", "$v");
    assert_int_equal(expire_of("b"), 1800000000001ll);
    RUN("GETEX b", "$v");
    assert_int_equal(expire_of("b"), 1800000000001ll);
    RUN("GETEX b PERSIST", "$v");
    assert_int_equal(expire_of("b"), -1);
    assert_false(ember__obj_has_expire(find("b")));
    RUN("GETEX a PX 50", "$v4"); /* no TTL before: the object is rebuilt */
    assert_int_equal(expire_of("a"), T0 + 55);
    assert_int_equal(check_volatile(), 6);

    /* Value rewrites keep the TTL exactly. */
    RUN("SET n 5 EX 100", "+OK");
    RUN("INCR n", ":6");
    assert_int_equal(expire_of("n"), T0 + 100005);
    RUN("APPEND n 0", ":2");
    assert_int_equal(expire_of("n"), T0 + 100005);
    RUN("INCRBY n 1", ":61");
    assert_int_equal(expire_of("n"), T0 + 100005);
    RUN("SETRANGE n 0 7", ":2");
    assert_int_equal(expire_of("n"), T0 + 100005);
    RUN("SETRANGE n 3 7", ":4");
    assert_int_equal(expire_of("n"), T0 + 100005);
    RUN("SET x 1.5 PX 300", "+OK");
    RUN("INCRBYFLOAT x 1", "$2.5");
    assert_int_equal(expire_of("x"), T0 + 305);
    RUN("SET y abc PX 300", "+OK");
    RUN("APPEND y d", ":4"); /* embstr rebuilt as raw */
    assert_int_equal(expire_of("y"), T0 + 305);
    RUN("APPEND y e", ":5"); /* raw edited in place */
    assert_int_equal(expire_of("y"), T0 + 305);
    /* GETSET and MSET drop it */
    RUN("GETSET x 1", "$2.5");
    assert_int_equal(expire_of("x"), -1);
    RUN("MSET y 1 z 2", "+OK");
    assert_int_equal(expire_of("y"), -1);
    /* keys now volatile: c d e f g a n */
    assert_int_equal(check_volatile(), 7);
    /* GETDEL and GETEX with a past time remove volatile keys from the index */
    RUN("GETDEL c", "$v");
    RUN("GETEX d PXAT 1", "$v");
    assert_null(find("d"));
    assert_int_equal(check_volatile(), 5);
}

/* ------------------------------------------------------------ in-place edits */

typedef struct hook_log {
    int calls;
    em_obj *obj;
    char value[64];
} hook_log;

/* Records the object and its value as the hook sees it (the pre-image). */
static void record_prewrite(em_store *s, em_keyspace *k, em_obj *o, void *ud)
{
    (void)s;
    (void)k;
    hook_log *log = ud;
    log->calls++;
    log->obj = o;
    log->value[0] = '\0';
    if (ember__obj_type(o) == EM_T_STRING) {
        char ib[EM_LLSTR_SIZE];
        em_strview v;
        ember__obj_str_view(o, ib, &v);
        snprintf(log->value, sizeof log->value, "%.*s", (int)v.len, v.ptr);
    }
}

static void test_in_place_and_prewrite(void **state)
{
    (void)state;
    hook_log log = {0};
    st->prewrite = record_prewrite;
    st->prewrite_ud = &log;

    /* INCR on an int: same object, hook sees the old value, dirty counted */
    RUN("SET n 41", "+OK");
    em_obj *o = find("n");
    uint64_t dirty = st->dirty;
    log.calls = 0;
    RUN("INCR n", ":42");
    assert_ptr_equal(find("n"), o);
    assert_int_equal(log.calls, 1);
    assert_ptr_equal(log.obj, o);
    assert_string_equal(log.value, "41");
    assert_int_equal(st->dirty, dirty + 1);
    RUN("DECRBY n 50", ":-8");
    assert_ptr_equal(find("n"), o);
    assert_string_equal(log.value, "42");

    /* APPEND on raw: same object, geometric growth, hook first */
    RUN("SET r 123456789012345678901234567890123456789012345", "+OK");
    o = find("r");
    em_sds *body = ember__obj_body(o);
    assert_int_equal(body->len, 45);
    log.calls = 0;
    dirty = st->dirty;
    RUN("APPEND r x", ":46");
    assert_ptr_equal(find("r"), o);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.value, "123456789012345678901234567890123456789012345");
    assert_int_equal(st->dirty, dirty + 1);
    body = ember__obj_body(o);
    assert_int_equal(body->len, 46);
    assert_true(body->cap >= 2 * 46);
    assert_int_equal(body->buf[46], '\0');
    em_sds *grown = body;
    RUN("APPEND r y", ":47"); /* within capacity: same body */
    assert_ptr_equal(ember__obj_body(find("r")), grown);
    assert_string_equal(log.value, "123456789012345678901234567890123456789012345x");

    /* SETRANGE on raw, inside and past the end */
    log.calls = 0;
    RUN("SETRANGE r 0 AB", ":47");
    assert_ptr_equal(find("r"), o);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.value, "123456789012345678901234567890123456789012345xy");
    RUN("SETRANGE r 50 Z", ":51");
    body = ember__obj_body(find("r"));
    assert_memory_equal(body->buf + 45, "xy\0\0\0Z\0", 7);

    /* GETEX on a key that already has a TTL: edited in place */
    RUN("SET t v PX 100", "+OK");
    o = find("t");
    log.calls = 0;
    RUN("GETEX t PX 200", "$v");
    assert_ptr_equal(find("t"), o);
    assert_int_equal(log.calls, 1);

    /* replacing and deleting call the hook with the old object */
    RUN("SET k old", "+OK");
    o = find("k");
    log.calls = 0;
    RUN("SET k new", "+OK");
    assert_int_equal(log.calls, 1);
    assert_ptr_equal(log.obj, o);
    assert_string_equal(log.value, "old");
    RUN("GETDEL k", "$new");
    assert_string_equal(log.value, "new");
    RUN("SET k a", "+OK");
    RUN("APPEND k b", ":2"); /* embstr -> raw: a replace */
    assert_string_equal(log.value, "a");
    RUN("INCRBYFLOAT n 0.5", "$-7.5");
    assert_string_equal(log.value, "-8");

    /* commands that fail or write nothing do not call it */
    log.calls = 0;
    RUN("INCR k", "-ERR value is not an integer or out of range");
    RUN("SETRANGE k 0 \"\"", ":2");
    RUN("SET k v NX", "(nil)");
    RUN("MSETNX k 1 q 2", ":0");
    RUN("INCR fresh", ":1"); /* a new key: nothing to protect */
    RUN("GETEX k", "$ab");
    assert_int_equal(log.calls, 0);

    st->prewrite = NULL;
    st->prewrite_ud = NULL;
}

static void test_setrange_zero_fill(void **state)
{
    (void)state;
    RUN("SETRANGE z 1048576 end", ":1048579");
    em_sds *s = ember__obj_body(find("z"));
    assert_int_equal(s->len, 1048579);
    for (size_t i = 0; i < 1048576; i++)
        if (s->buf[i] != 0)
            fail_msg("byte %zu is %d", i, s->buf[i]);
    assert_memory_equal(s->buf + 1048576, "end", 4);
    RUN("SET e abc", "+OK");
    RUN("SETRANGE e 6 x", ":7");
    s = ember__obj_body(find("e"));
    assert_memory_equal(s->buf, "abc\0\0\0x\0", 8);
}

/* ------------------------------------------------------------ statistics */

static void test_hits_and_misses(void **state)
{
    (void)state;
    /* As redis-server counts them: reads (GET, GETDEL, GETEX, GETSET, SET ...
     * GET, STRLEN, GETRANGE, MGET) count; writes (APPEND, INCR, SETRANGE,
     * SETNX, MSETNX, SET NX/XX) do not. */
    static const struct {
        const char *cmd;
        uint64_t hits, misses;
    } steps[] = {
        {"SET k v", 0, 0},         {"GETDEL k", 1, 0},       {"GETDEL k", 1, 1},
        {"GETEX k", 1, 2},         {"SET k v GET", 1, 3},    {"GETSET k v", 2, 3},
        {"STRLEN k", 3, 3},        {"GETRANGE k 0 1", 4, 3}, {"MGET k x", 5, 4},
        {"APPEND k x", 5, 4},      {"INCR n", 5, 4},         {"SETRANGE k 0 a", 5, 4},
        {"INCRBYFLOAT f 1", 5, 4}, {"MSETNX k 1", 5, 4},     {"SETNX k 1", 5, 4},
        {"SET k v NX", 5, 4},      {"SET k v XX", 5, 4},     {"GETEX k PERSIST", 6, 4},
        {"GETEX zz EX 10", 6, 5},  {"GET k", 7, 5},          {"GET zz", 7, 6},
    };
    memset(&st->stats, 0, sizeof st->stats);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        run(steps[i].cmd);
        if (st->stats.keyspace_hits != steps[i].hits ||
            st->stats.keyspace_misses != steps[i].misses)
            fail_msg("%s: hits %llu misses %llu, want %llu %llu", steps[i].cmd,
                     (unsigned long long)st->stats.keyspace_hits,
                     (unsigned long long)st->stats.keyspace_misses,
                     (unsigned long long)steps[i].hits, (unsigned long long)steps[i].misses);
    }
}

/* ------------------------------------------------------------ WRONGTYPE */

static int dummy_frees;

static void dummy_free(em_mem *m, void *body, int enc)
{
    (void)enc;
    dummy_frees++;
    ember__mem_free(m, body);
}

static void *dummy_dup(em_mem *m, const void *body, int enc)
{
    (void)enc;
    void *b = ember__mem_alloc(m, 16);
    if (b)
        memcpy(b, body, 16);
    return b;
}

static size_t dummy_items(const void *body, int enc)
{
    (void)body;
    (void)enc;
    return 1;
}

static const em_value_ops dummy_ops = {dummy_free, dummy_dup, dummy_items};

/* Adds a key holding a (dummy) list. */
static void add_list(const char *key)
{
    void *body = ember__mem_alloc(&st->mem, 16);
    assert_non_null(body);
    memset(body, 0, 16);
    em_obj *o = ember__obj_new_body(&st->mem, key, strlen(key), EM_T_LIST, EM_ENC_QUICKLIST, body);
    assert_non_null(o);
    ember__ks_add(st, ks, o);
}

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value"
#define NOTINT "-ERR value is not an integer or out of range"

static void test_wrongtype(void **state)
{
    (void)state;
    const em_value_ops *saved = ember__obj_type_ops(EM_T_LIST);
    ember__obj_register_type(EM_T_LIST, &dummy_ops);
    dummy_frees = 0;
    add_list("l");
    static const struct {
        const char *cmd, *want;
    } cases[] = {
        {"GET l", WRONGTYPE},
        {"GETDEL l", WRONGTYPE},
        {"GETEX l", WRONGTYPE},
        {"GETEX l EX 10", WRONGTYPE},
        {"GETEX l EX 0", WRONGTYPE},
        {"GETEX l EX abc", WRONGTYPE},
        {"GETEX l PERSIST", WRONGTYPE},
        {"GETEX l foo", "-ERR syntax error"},
        {"GETSET l v", WRONGTYPE},
        {"SET l v GET", WRONGTYPE},
        {"SET l v NX GET", WRONGTYPE},
        {"SET l v XX GET", WRONGTYPE},
        {"SET l v EX 0 GET", "-ERR invalid expire time in 'set' command"},
        {"SET l v EX abc GET", NOTINT},
        {"APPEND l x", WRONGTYPE},
        {"APPEND l \"\"", WRONGTYPE},
        {"STRLEN l", WRONGTYPE},
        {"GETRANGE l 0 -1", WRONGTYPE},
        {"SUBSTR l 0 -1", WRONGTYPE},
        {"GETRANGE l a 1", NOTINT},
        {"SETRANGE l 0 a", WRONGTYPE},
        {"SETRANGE l 0 \"\"", WRONGTYPE},
        {"SETRANGE l -1 \"\"", "-ERR offset is out of range"},
        {"SETRANGE l a x", NOTINT},
        {"INCR l", WRONGTYPE},
        {"DECR l", WRONGTYPE},
        {"INCRBY l 1", WRONGTYPE},
        {"DECRBY l 1", WRONGTYPE},
        {"INCRBY l abc", NOTINT},
        {"DECRBY l -9223372036854775808", "-ERR decrement would overflow"},
        {"INCRBYFLOAT l 1", WRONGTYPE},
        {"INCRBYFLOAT l abc", WRONGTYPE},
        {"LCS l q", "-ERR The specified keys must contain string values"},
        {"LCS q l foo", "-ERR The specified keys must contain string values"},
        {"LCS l l LEN IDX", "-ERR The specified keys must contain string values"},
        /* commands that do not check the type */
        {"MGET l", "*1"},
        {"SETNX l v", ":0"},
        {"SET l v NX", "(nil)"},
        {"MSETNX q 1 l 2", ":0"},
        {"GET q", "(nil)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = run(cases[i].cmd);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].cmd, got, cases[i].want);
    }
    /* MGET gives nil for it */
    {
        const char *argv[] = {"MGET", "l"};
        ember_reply *r;
        assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
        assert_int_equal(ember_reply_type(ember_reply_element(r, 0)), EMBER_REPLY_NIL);
        ember_reply_free(r);
    }
    em_obj *o = find("l");
    assert_non_null(o);
    assert_int_equal(ember__obj_type(o), EM_T_LIST);
    assert_int_equal(dummy_frees, 0);

    /* Typed wrappers map it to EMBER_EWRONGTYPE and write no output. */
    void *v = NULL;
    size_t vl = 0;
    int64_t n = -5;
    double d = -5;
    assert_int_equal(ember_get(db, "l", 1, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_getset(db, "l", 1, "v", 1, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_getdel(db, "l", 1, &v, &vl), EMBER_EWRONGTYPE);
    assert_int_equal(ember_getrange(db, "l", 1, 0, -1, &v, &vl), EMBER_EWRONGTYPE);
    assert_null(v);
    assert_int_equal(ember_append(db, "l", 1, "x", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_strlen(db, "l", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_setrange(db, "l", 1, 0, "x", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_incr(db, "l", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_decr(db, "l", 1, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_incrby(db, "l", 1, 3, &n), EMBER_EWRONGTYPE);
    assert_int_equal(ember_decrby(db, "l", 1, 3, &n), EMBER_EWRONGTYPE);
    assert_int_equal(n, -5);
    assert_int_equal(ember_incrbyfloat(db, "l", 1, 1.0, &d), EMBER_EWRONGTYPE);
    assert_true(d == -5);
    int was = -1;
    assert_int_equal(ember_setnx(db, "l", 1, "v", 1, &was), EMBER_OK);
    assert_int_equal(was, 0);
    assert_int_equal(ember_set_ex(db, "l", 1, "v", 1, 0, EMBER_SET_NX, &was), EMBER_OK);
    assert_int_equal(was, 0);

    /* SET and MSET overwrite it (freeing the list); a string now. */
    RUN("SET l v", "+OK");
    assert_int_equal(dummy_frees, 1);
    RUN("GET l", "$v");
    add_list("l2");
    RUN("MSET l2 x", "+OK");
    assert_int_equal(dummy_frees, 2);
    RUN("GET l2", "$x");
    add_list("l3");
    RUN("SET l3 v KEEPTTL", "+OK");
    assert_int_equal(dummy_frees, 3);
    ember__obj_register_type(EM_T_LIST, saved);
}

/* ------------------------------------------------------------ main */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_encodings),          T(test_expire_times),    T(test_in_place_and_prewrite),
        T(test_setrange_zero_fill), T(test_hits_and_misses), T(test_wrongtype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
