/*
 * test_pubsub_registry.c — the pub/sub registry (lib/command/pubsub.c) with
 * fake subscribers: duplicate subscriptions, counts per kind, receivers as
 * PUBLISH counts them (each channel subscription and each matching pattern
 * subscription once), delivery order, shard channels apart, a subscriber
 * dropped during a publish (skipped at once, unsubscribed after the loops),
 * growth past the first table, and freeing with subscribers still in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "command/command.h"
#include "command/pubsub.h"

typedef struct fake {
    em_ps_sub sub;
    int id;
    int refuse; /* deliver returns -1 */
    int dropped;
    char log[512];
} fake;

static char order[256];

static int fake_deliver(em_ps_sub *s, int kind, const char *pat, size_t plen, const char *ch,
                        size_t clen, const char *msg, size_t mlen)
{
    fake *f = (fake *)s;
    size_t o = strlen(f->log);
    snprintf(f->log + o, sizeof f->log - o, "%d:%.*s:%.*s:%.*s;", kind, (int)plen, pat ? pat : "",
             (int)clen, ch, (int)mlen, msg);
    o = strlen(order);
    snprintf(order + o, sizeof order - o, "%d", f->id);
    return f->refuse ? -1 : 0;
}

static void fake_dropped(em_ps_sub *s)
{
    ((fake *)s)->dropped++;
}

static void fake_init(fake *f, int id)
{
    memset(f, 0, sizeof *f);
    f->sub.deliver = fake_deliver;
    f->sub.dropped = fake_dropped;
    f->id = id;
}

static int64_t pub(em_server *srv, int shard, const char *ch, const char *msg)
{
    return ember__ps_publish(srv, shard, ch, strlen(ch), msg, strlen(msg));
}

static int sub(em_server *srv, fake *f, int kind, const char *name)
{
    return ember__ps_subscribe(srv, &f->sub, kind, name, strlen(name));
}

static void test_counts_and_order(void **state)
{
    (void)state;
    em_server srv;
    memset(&srv, 0, sizeof srv);
    fake a, b, c;
    fake_init(&a, 1);
    fake_init(&b, 2);
    fake_init(&c, 3);
    assert_int_equal(pub(&srv, 0, "x", "m"), 0); /* no registry yet */
    assert_int_equal(sub(&srv, &b, EM_PS_CHANNEL, "news"), 1);
    assert_int_equal(sub(&srv, &a, EM_PS_CHANNEL, "news"), 1);
    assert_int_equal(sub(&srv, &a, EM_PS_CHANNEL, "news"), 0); /* already */
    assert_int_equal(sub(&srv, &a, EM_PS_PATTERN, "n*"), 1);
    assert_int_equal(sub(&srv, &c, EM_PS_PATTERN, "n*"), 1);
    assert_int_equal(sub(&srv, &c, EM_PS_PATTERN, "*s"), 1);
    assert_int_equal(sub(&srv, &c, EM_PS_SHARD, "news"), 1);
    assert_int_equal(ember__ps_count(&a.sub, EM_PS_CHANNEL), 2); /* channels + patterns */
    assert_int_equal(ember__ps_count(&c.sub, EM_PS_SHARD), 1);
    assert_int_equal(ember__ps_total(&c.sub), 3);
    order[0] = 0;
    /* b, a by channel (subscription order), then patterns n* (a, c), *s (c). */
    assert_int_equal(pub(&srv, 0, "news", "hi"), 5);
    assert_string_equal(order, "21133");
    assert_string_equal(a.log, "0::news:hi;1:n*:news:hi;");
    assert_string_equal(c.log, "1:n*:news:hi;1:*s:news:hi;");
    order[0] = 0;
    assert_int_equal(pub(&srv, 1, "news", "s"), 1); /* shard: channels only, its own */
    assert_string_equal(order, "3");
    assert_int_equal(pub(&srv, 0, "nope", "z"), 2); /* n* twice */
    assert_int_equal(ember__ps_unsubscribe(&srv, &a.sub, EM_PS_CHANNEL, "news", 4), 1);
    assert_int_equal(ember__ps_unsubscribe(&srv, &a.sub, EM_PS_CHANNEL, "news", 4), 0);
    assert_int_equal(pub(&srv, 0, "news", "x"), 4);
    ember__ps_unsubscribe_all(&srv, &c.sub, EM_PS_PATTERN, NULL, NULL);
    assert_int_equal(ember__ps_count(&c.sub, EM_PS_CHANNEL), 0);
    assert_int_equal(ember__ps_count(&c.sub, EM_PS_SHARD), 1);
    assert_int_equal(pub(&srv, 0, "news", "y"), 2);
    ember__ps_free(&srv); /* a, b, c still subscribed: forgotten, not freed */
    assert_int_equal(ember__ps_total(&a.sub) + ember__ps_total(&b.sub), 0);
    assert_null(srv.ps);
}

static void test_drop_during_publish(void **state)
{
    (void)state;
    em_server srv;
    memset(&srv, 0, sizeof srv);
    fake a, b;
    fake_init(&a, 1);
    fake_init(&b, 2);
    sub(&srv, &a, EM_PS_CHANNEL, "c");
    sub(&srv, &a, EM_PS_PATTERN, "*");
    sub(&srv, &b, EM_PS_CHANNEL, "c");
    a.refuse = 1;
    order[0] = 0;
    /* a refuses the channel message: skipped for the pattern, still counted once. */
    assert_int_equal(pub(&srv, 0, "c", "m"), 2);
    assert_string_equal(order, "12");
    assert_int_equal(a.dropped, 1);
    assert_int_equal(ember__ps_total(&a.sub), 0);
    assert_int_equal(pub(&srv, 0, "c", "m"), 1);
    ember__ps_free(&srv);
}

static void each_name(void *ud, const char *name, size_t len)
{
    char *out = ud;
    size_t o = strlen(out);
    snprintf(out + o, 64 - o, "%.*s,", (int)len, name);
}

static void test_many(void **state)
{
    (void)state;
    em_server srv;
    memset(&srv, 0, sizeof srv);
    fake a;
    fake_init(&a, 1);
    char name[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "ch%d", i);
        assert_int_equal(sub(&srv, &a, EM_PS_CHANNEL, name), 1);
    }
    for (int i = 0; i < 1000; i += 7) {
        snprintf(name, sizeof name, "ch%d", i);
        assert_int_equal(pub(&srv, 0, name, "v"), 1);
    }
    assert_int_equal(pub(&srv, 0, "ch1000", "v"), 0);
    for (int i = 3; i < 1000; i++) {
        snprintf(name, sizeof name, "ch%d", i);
        assert_int_equal(ember__ps_unsubscribe(&srv, &a.sub, EM_PS_CHANNEL, name, strlen(name)), 1);
    }
    char names[64] = "";
    ember__ps_unsubscribe_all(&srv, &a.sub, EM_PS_CHANNEL, each_name, names);
    assert_string_equal(names, "ch0,ch1,ch2,"); /* subscription order */
    assert_int_equal(pub(&srv, 0, "ch0", "v"), 0);
    ember__ps_free(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_order),
        cmocka_unit_test(test_drop_during_publish),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
