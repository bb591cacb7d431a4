/*
 * test_pubsub.c — pub/sub through the public API: in-process subscribers
 * (queue and callback mode), patterns with Redis's glob rules, shard
 * channels, PUBLISH / SPUBLISH / PUBSUB replies and errors (texts taken from
 * redis-server 7.0.15), the buffer limit that drops a slow subscriber, and
 * closing a subscriber after its database. Only <ember.h>.
 */
#include <poll.h>
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

static ember_db *open_db(void)
{
    ember_db *db;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    return db;
}

static void sub1(int (*fn)(ember_sub *, size_t, const char *const *, const size_t *), ember_sub *s,
                 const char *name)
{
    size_t l = strlen(name);
    assert_int_equal(fn(s, 1, &name, &l), EMBER_OK);
}

/* Takes the next message and checks it (pattern NULL: not a pmessage). */
static void expect_msg(ember_sub *s, int kind, const char *pat, const char *ch, const char *data)
{
    ember_message *m = NULL;
    assert_int_equal(ember_sub_next(s, &m), EMBER_OK);
    assert_int_equal(m->kind, kind);
    if (pat) {
        assert_int_equal(m->patternlen, strlen(pat));
        assert_memory_equal(m->pattern, pat, strlen(pat));
    } else {
        assert_null(m->pattern);
    }
    assert_int_equal(m->channellen, strlen(ch));
    assert_memory_equal(m->channel, ch, strlen(ch));
    assert_int_equal(m->datalen, strlen(data));
    assert_memory_equal(m->data, data, strlen(data));
    ember_message_free(m);
}

static void expect_empty(ember_sub *s)
{
    ember_message *m = (ember_message *)1;
    assert_int_equal(ember_sub_next(s, &m), EMBER_ENOTFOUND);
    assert_null(m);
}

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static void test_channels_patterns(void **state)
{
    (void)state;
    ember_db *db = open_db();
    ember_sub *a, *b;
    assert_int_equal(ember_sub_open(db, NULL, NULL, 0, &a), EMBER_OK);
    assert_int_equal(ember_sub_open(db, NULL, NULL, 0, &b), EMBER_OK);
    sub1(ember_subscribe, a, "ch1");
    sub1(ember_subscribe, a, "ch1"); /* twice: still one delivery */
    sub1(ember_subscribe, a, "ch2");
    sub1(ember_psubscribe, b, "c*");
    sub1(ember_psubscribe, b, "ch[1]");
    sub1(ember_ssubscribe, b, "sh1");
    assert_false(readable(ember_sub_fd(a)));
    ta_expect_int(ta_cmd_line(db, "PUBLISH ch1 hi"), 3);
    assert_true(readable(ember_sub_fd(a)));
    expect_msg(a, EMBER_MSG_MESSAGE, NULL, "ch1", "hi");
    expect_empty(a);
    assert_false(readable(ember_sub_fd(a)));
    /* Patterns in the order they were subscribed. */
    expect_msg(b, EMBER_MSG_PMESSAGE, "c*", "ch1", "hi");
    expect_msg(b, EMBER_MSG_PMESSAGE, "ch[1]", "ch1", "hi");
    int64_t n = -1;
    assert_int_equal(ember_publish(db, 0, "sh1", 3, "x", 1, &n), EMBER_OK);
    assert_int_equal(n, 0); /* a shard channel is another namespace */
    ta_expect_int(ta_cmd_line(db, "SPUBLISH sh1 x"), 1);
    expect_msg(b, EMBER_MSG_SMESSAGE, NULL, "sh1", "x");
    ta_expect_int(ta_cmd_line(db, "PUBLISH other y"), 0);
    expect_empty(b);
    /* PUBSUB, as redis-server 7.0 answers with the same subscriptions. */
    char buf[512];
    ember_reply *r = ta_cmd_line(db, "PUBSUB CHANNELS ch[1]");
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$ch1]");
    ember_reply_free(r);
    r = ta_cmd_line(db, "PUBSUB CHANNELS");
    assert_int_equal(ember_reply_len(r), 2);
    ember_reply_free(r);
    r = ta_cmd_line(db, "PUBSUB NUMSUB ch1 nope");
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$ch1|:1|$nope|:0]");
    ember_reply_free(r);
    ta_expect_int(ta_cmd_line(db, "PUBSUB NUMPAT"), 2);
    r = ta_cmd_line(db, "PUBSUB SHARDNUMSUB sh1");
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$sh1|:1]");
    ember_reply_free(r);
    r = ta_cmd_line(db, "PUBSUB SHARDCHANNELS");
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$sh1]");
    ember_reply_free(r);
    /* Unsubscribing: one name, then all. */
    const char *ch1 = "ch1";
    size_t l3 = 3;
    assert_int_equal(ember_unsubscribe(a, 1, &ch1, &l3), EMBER_OK);
    ta_expect_int(ta_cmd_line(db, "PUBLISH ch1 z"), 2);
    ta_expect_int(ta_cmd_line(db, "PUBLISH ch2 z"), 2);
    expect_msg(a, EMBER_MSG_MESSAGE, NULL, "ch2", "z");
    assert_int_equal(ember_punsubscribe(b, 0, NULL, NULL), EMBER_OK);
    ta_expect_int(ta_cmd_line(db, "PUBSUB NUMPAT"), 0);
    ta_expect_int(ta_cmd_line(db, "PUBLISH ch2 w"), 1);
    ember_sub_close(a);
    ember_sub_close(b);
    ta_expect_int(ta_cmd_line(db, "PUBLISH ch2 w"), 0);
    r = ta_cmd_line(db, "PUBSUB CHANNELS");
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    ember_db_close(db);
}

static void test_errors(void **state)
{
    (void)state;
    ember_db *db = open_db();
    ta_expect_error(ta_cmd_line(db, "PUBSUB CHANNELS a b"),
                    "ERR unknown subcommand or wrong number of arguments for 'channels'. Try "
                    "PUBSUB HELP.");
    ta_expect_error(ta_cmd_line(db, "PUBSUB SHARDCHANNELS x y"),
                    "ERR unknown subcommand or wrong number of arguments for 'shardchannels'. "
                    "Try PUBSUB HELP.");
    ta_expect_error(ta_cmd_line(db, "PUBSUB NUMPAT x"),
                    "ERR wrong number of arguments for 'pubsub|numpat' command");
    ta_expect_error(ta_cmd_line(db, "PUBSUB FOO"),
                    "ERR unknown subcommand 'FOO'. Try PUBSUB HELP.");
    ta_expect_error(ta_cmd_line(db, "PUBSUB"),
                    "ERR wrong number of arguments for 'pubsub' command");
    ta_expect_error(ta_cmd_line(db, "PUBLISH a"),
                    "ERR wrong number of arguments for 'publish' command");
    ember_reply *r = ta_cmd_line(db, "PUBSUB NUMSUB");
    assert_int_equal(ember_reply_len(r), 0);
    ember_reply_free(r);
    r = ta_cmd_line(db, "PUBSUB HELP");
    assert_int_equal(ember_reply_len(r), 14);
    ember_reply_free(r);
    assert_int_equal(ember_sub_open(NULL, NULL, NULL, 0, NULL), EMBER_EINVAL);
    assert_int_equal(ember_subscribe(NULL, 0, NULL, NULL), EMBER_EINVAL);
    assert_int_equal(ember_sub_fd(NULL), -1);
    ember_sub_close(NULL);
    ember_message_free(NULL);
    ember_db_close(db);
}

/* A queue that is not read: past its limit the subscriber is dropped, what
 * was queued before stays readable, then EMBER_EDROPPED. */
static void test_drop_slow(void **state)
{
    (void)state;
    ember_db *db = open_db();
    ember_sub *s;
    assert_int_equal(ember_sub_open(db, NULL, NULL, 1000, &s), EMBER_OK);
    sub1(ember_subscribe, s, "c");
    char msg[100];
    memset(msg, 'x', sizeof msg);
    int64_t n;
    int sent = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ember_publish(db, 0, "c", 1, msg, sizeof msg, &n), EMBER_OK);
        sent += n == 1;
    }
    /* 165 bytes a message: 6 fit in 1000; the 7th drops it (and counts as
     * received, as Redis counts a client it is about to close). */
    assert_int_equal(sent, 7);
    for (int i = 0; i < 6; i++) {
        ember_message *m;
        assert_int_equal(ember_sub_next(s, &m), EMBER_OK);
        assert_int_equal(m->datalen, sizeof msg);
        ember_message_free(m);
    }
    ember_message *m;
    assert_int_equal(ember_sub_next(s, &m), EMBER_EDROPPED);
    assert_true(readable(ember_sub_fd(s))); /* the drop stays visible */
    assert_int_equal(ember_subscribe(s, 0, NULL, NULL), EMBER_EDROPPED);
    char buf[64];
    ember_reply *r = ta_cmd_line(db, "PUBSUB NUMSUB c");
    ta_fmt(r, buf, sizeof buf);
    assert_string_equal(buf, "*[$c|:0]");
    ember_reply_free(r);
    ember_sub_close(s);
    ember_db_close(db);
}

typedef struct seen {
    int n;
    char last[64];
} seen;

static void on_msg(void *ud, const ember_message *m)
{
    seen *s = ud;
    s->n++;
    snprintf(s->last, sizeof s->last, "%d %.*s %.*s", (int)m->kind, (int)m->channellen, m->channel,
             (int)m->datalen, m->data);
}

static void test_callback_and_close_after_db(void **state)
{
    (void)state;
    ember_db *db = open_db();
    seen sn = {0, ""};
    ember_sub *s;
    assert_int_equal(ember_sub_open(db, on_msg, &sn, 0, &s), EMBER_OK);
    assert_int_equal(ember_sub_fd(s), -1);
    sub1(ember_psubscribe, s, "news.*");
    ta_expect_int(ta_cmd_line(db, "PUBLISH news.tech hello"), 1);
    assert_int_equal(sn.n, 1);
    assert_string_equal(sn.last, "1 news.tech hello");
    ember_message *m;
    assert_int_equal(ember_sub_next(s, &m), EMBER_EINVAL);
    ember_db_close(db);
    ember_sub_close(s); /* after the database: only frees */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channels_patterns),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_drop_slow),
        cmocka_unit_test(test_callback_and_close_after_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
