/*
 * test_notify.c — notify-keyspace-events (CONFIG SET/GET exactly as
 * redis-server 7.0.15 normalizes and refuses it) and the typed change feed
 * (ember_feed_add): events in commit order with database, type and TTL,
 * expirations on the virtual clock, FLUSHDB/SWAPDB, removal. Only <ember.h>.
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

static void expect_config(ember_db *db, const char *set, const char *get)
{
    char line[128];
    snprintf(line, sizeof line, "CONFIG SET notify-keyspace-events %s", set[0] ? set : "\"\"");
    ember_reply *r = ta_cmd_line(db, line);
    ta_expect_ok(r);
    r = ta_cmd_line(db, "CONFIG GET notify-keyspace-events");
    assert_int_equal(ember_reply_len(r), 2);
    size_t len;
    const char *v = ember_reply_str(ember_reply_element(r, 1), &len);
    assert_int_equal(len, strlen(get));
    assert_memory_equal(v, get, len);
    ember_reply_free(r);
}

static void test_config(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, NULL, NULL);
    /* Pairs as redis-server 7.0.15 printed them. */
    static const char *const cases[][2] = {
        {"KEA", "AKE"},
        {"A", "A"},
        {"g", "g"},
        {"$lshzxe", "$lshzxe"},
        {"KA", "AK"},
        {"EA", "AE"},
        {"Kg", "gK"},
        {"KEn", "nKE"},
        {"KEm", "KEm"},
        {"Kgx", "gxK"},
        {"KEg$lshzxetdmn", "AKEm"},
        {"KEAn", "AKE"},
        {"t", "t"},
        {"d", "d"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_config(db, cases[i][0], cases[i][1]);
    expect_config(db, "Ex", "xE");
    ta_expect_error(ta_cmd_line(db, "CONFIG SET notify-keyspace-events KEgq"),
                    "ERR CONFIG SET failed (possibly related to argument "
                    "'notify-keyspace-events') - Invalid event class character. Use "
                    "'Ag$lshzxeKEtmdn'.");
    expect_config(db, "Ex", "xE"); /* unchanged by the refused value */
    ember_db_close(db);

    /* Settable at open too. */
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set(cfg, "notify-keyspace-events", "Kl"), EMBER_OK);
    assert_int_equal(ember_config_set(cfg, "notify-keyspace-events", "Kq"), EMBER_EINVAL);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    ember_sub *s;
    assert_int_equal(ember_sub_open(db, NULL, NULL, 0, &s), EMBER_OK);
    const char *pat = "__keyspace@0__:*";
    size_t pl = strlen(pat);
    assert_int_equal(ember_psubscribe(s, 1, &pat, &pl), EMBER_OK);
    ta_expect_ok(ta_cmd_line(db, "SET a 1")); /* string: not in "l" */
    ta_expect_int(ta_cmd_line(db, "RPUSH l x"), 1);
    ember_message *m;
    assert_int_equal(ember_sub_next(s, &m), EMBER_OK);
    assert_int_equal(m->channellen, strlen("__keyspace@0__:l"));
    assert_memory_equal(m->channel, "__keyspace@0__:l", m->channellen);
    assert_memory_equal(m->data, "rpush", 5);
    ember_message_free(m);
    assert_int_equal(ember_sub_next(s, &m), EMBER_ENOTFOUND);
    ember_sub_close(s);
    ember_db_close(db);
}

#define MAXCH 64
typedef struct rec {
    int n;
    ember_change ch[MAXCH];
    char keys[MAXCH][16];
} rec;

static void on_change(void *ud, const ember_change *c)
{
    rec *r = ud;
    if (r->n == MAXCH)
        return;
    r->ch[r->n] = *c;
    snprintf(r->keys[r->n], sizeof r->keys[0], "%.*s", (int)c->keylen, c->key ? c->key : "");
    r->n++;
}

static void expect_change(const rec *r, int i, int db, int ev, int type, const char *key,
                          int64_t expire)
{
    assert_true(i < r->n);
    assert_int_equal(r->ch[i].db, db);
    assert_int_equal(r->ch[i].event, ev);
    assert_int_equal(r->ch[i].type, type);
    assert_string_equal(r->keys[i], key);
    assert_int_equal(r->ch[i].expire_ms, expire);
}

static void test_feed(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, NULL, NULL);
    rec r = {0};
    assert_int_equal(ember_feed_add(db, on_change, &r), EMBER_OK);
    assert_int_equal(ember_feed_add(db, on_change, &r), EMBER_EINVAL);
    /* Independent of notify-keyspace-events (off by default). */
    ta_expect_ok(ta_cmd_line(db, "SET k v EX 10"));
    expect_change(&r, 0, 0, EMBER_EV_NEW, EMBER_VALUE_STRING, "k", TA_T0 + 10000);
    expect_change(&r, 1, 0, EMBER_EV_SET, EMBER_VALUE_STRING, "k", TA_T0 + 10000);
    expect_change(&r, 2, 0, EMBER_EV_EXPIRE, EMBER_VALUE_STRING, "k", TA_T0 + 10000);
    ta_expect_int(ta_cmd_line(db, "HSET h f v"), 1);
    expect_change(&r, 4, 0, EMBER_EV_HSET, EMBER_VALUE_HASH, "h", -1);
    ta_expect_int(ta_cmd_line(db, "HDEL h f"), 1);
    expect_change(&r, 5, 0, EMBER_EV_HDEL, EMBER_VALUE_HASH, "h", -1);
    expect_change(&r, 6, 0, EMBER_EV_DEL, EMBER_VALUE_HASH, "h", -1);
    /* Expiry on the store's clock: reported with its reason. */
    assert_int_equal(ember_clock_advance(db, 11000), EMBER_OK);
    ta_expect_nil(ta_cmd_line(db, "GET k"));
    expect_change(&r, 7, 0, EMBER_EV_EXPIRED, EMBER_VALUE_STRING, "k", -1);
    assert_int_equal(r.n, 8); /* the miss is not a change */
    ember_db *v1;
    assert_int_equal(ember_db_view(db, 1, &v1), EMBER_OK);
    ta_expect_int(ta_cmd_line(v1, "LPUSH q a"), 1);
    expect_change(&r, 9, 1, EMBER_EV_LPUSH, EMBER_VALUE_LIST, "q", -1);
    ta_expect_ok(ta_cmd_line(db, "SWAPDB 0 1"));
    expect_change(&r, 10, 0, EMBER_EV_SWAPDB, EMBER_VALUE_NONE, "", -1);
    assert_int_equal(r.ch[10].db2, 1);
    assert_null(r.ch[10].key);
    ta_expect_ok(ta_cmd_line(db, "FLUSHDB"));
    expect_change(&r, 11, 0, EMBER_EV_FLUSHDB, EMBER_VALUE_NONE, "", -1);
    assert_int_equal(ember_feed_remove(db, on_change, &r), EMBER_OK);
    assert_int_equal(ember_feed_remove(db, on_change, &r), EMBER_ENOTFOUND);
    ta_expect_ok(ta_cmd_line(db, "SET x y"));
    assert_int_equal(r.n, 12);
    assert_int_equal(ember_feed_add(NULL, on_change, &r), EMBER_EINVAL);
    assert_int_equal(ember_feed_add(db, NULL, &r), EMBER_EINVAL);
    ember_db_close(v1);
    ember_db_close(db);
}

/* A snapshot load replaces every database: one FLUSHDB each, no key events;
 * subscribers of notifications hear nothing of it. */
static void test_feed_snapshot_load(void **state)
{
    (void)state;
    ember_db *db = ta_open(EMBER_MODE_EXECUTOR, TA_T0, 0, NULL, NULL);
    ta_expect_ok(ta_cmd_line(db, "SET a 1"));
    ta_expect_int(ta_cmd_line(db, "RPUSH l x y"), 2);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(ember_snapshot_save(db, fileno(f), 0), EMBER_OK);
    rewind(f);
    ta_expect_ok(ta_cmd_line(db, "CONFIG SET notify-keyspace-events KEAn"));
    ember_sub *s;
    assert_int_equal(ember_sub_open(db, NULL, NULL, 0, &s), EMBER_OK);
    const char *pat = "*";
    size_t pl = 1;
    assert_int_equal(ember_psubscribe(s, 1, &pat, &pl), EMBER_OK);
    rec r = {0};
    assert_int_equal(ember_feed_add(db, on_change, &r), EMBER_OK);
    assert_int_equal(ember_snapshot_load(db, fileno(f), 0, NULL), EMBER_OK);
    fclose(f);
    assert_int_equal(r.n, 16);
    for (int i = 0; i < 16; i++)
        expect_change(&r, i, i, EMBER_EV_FLUSHDB, EMBER_VALUE_NONE, "", -1);
    ember_message *m;
    assert_int_equal(ember_sub_next(s, &m), EMBER_ENOTFOUND);
    ta_expect_bulk(ta_cmd_line(db, "GET a"), "1");
    ta_expect_ok(ta_cmd_line(db, "SET a 2"));
    assert_int_equal(r.n, 17); /* events flow again after the load */
    assert_int_equal(ember_sub_next(s, &m), EMBER_OK);
    ember_message_free(m);
    ember_sub_close(s);
    ember_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_feed),
        cmocka_unit_test(test_feed_snapshot_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
