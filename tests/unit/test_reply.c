/*
 * test_reply.c — the tree sink (nested and deferred aggregates, OOM-free
 * paths), the capture sink, and error-code mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "command/reply.h"

static void test_nested_and_deferred(void **state)
{
    (void)state;
    em_tree_sink t;
    const em_sink_ops *o = &ember__tree_sink_ops;
    ember__tree_sink_init(&t);
    /* [ 1, {a: "x", b: [ ]}, <deferred: 3 x nil>, 2.5 ] */
    o->agg(&t, EMBER_REPLY_ARRAY, 4);
    o->integer(&t, 1);
    o->agg(&t, EMBER_REPLY_MAP, 2);
    o->bulk(&t, "a", 1);
    o->bulk(&t, "x", 1);
    o->bulk(&t, "b", 1);
    o->agg(&t, EMBER_REPLY_ARRAY, 0);
    o->agg(&t, EMBER_REPLY_SET, EM_DEFERRED);
    for (int i = 0; i < 20; i++) /* grows past the first capacity */
        o->nil(&t);
    o->agg_end(&t, 20);
    o->dbl(&t, 2.5);
    struct ember_reply *r = ember__tree_sink_take(&t);
    assert_non_null(r);
    assert_int_equal(r->type, EMBER_REPLY_ARRAY);
    assert_int_equal(r->len, 4);
    assert_int_equal(r->u.elems[0]->u.i, 1);
    struct ember_reply *m = r->u.elems[1];
    assert_int_equal(m->type, EMBER_REPLY_MAP);
    assert_int_equal(m->len, 4);
    assert_string_equal(m->u.elems[2]->str, "b");
    assert_int_equal(m->u.elems[3]->type, EMBER_REPLY_ARRAY);
    assert_int_equal(m->u.elems[3]->len, 0);
    assert_int_equal(r->u.elems[2]->type, EMBER_REPLY_SET);
    assert_int_equal(r->u.elems[2]->len, 20);
    assert_int_equal(r->u.elems[3]->type, EMBER_REPLY_DOUBLE);
    assert_string_equal(r->u.elems[3]->str, "2.5");
    ember__reply_tree_free(r);
}

static void test_empty_deferred_at_top(void **state)
{
    (void)state;
    em_tree_sink t;
    ember__tree_sink_init(&t);
    ember__tree_sink_ops.agg(&t, EMBER_REPLY_ARRAY, EM_DEFERRED);
    ember__tree_sink_ops.agg_end(&t, 0);
    struct ember_reply *r = ember__tree_sink_take(&t);
    assert_non_null(r);
    assert_int_equal(r->type, EMBER_REPLY_ARRAY);
    assert_int_equal(r->len, 0);
    ember__reply_tree_free(r);
}

static void test_capture(void **state)
{
    (void)state;
    em_capture_sink c;
    memset(&c, 0, sizeof c);
    c.want_bulk = 1;
    ember__capture_sink_ops.bulk(&c, "hello", 5);
    assert_int_equal(c.type, EMBER_REPLY_STRING);
    assert_int_equal(c.len, 5);
    assert_string_equal(c.bulk, "hello");
    free(c.bulk);
    memset(&c, 0, sizeof c);
    ember__capture_sink_ops.error(&c, EMBER_EWRONGTYPE, "WRONGTYPE x", 11);
    assert_int_equal(c.type, EMBER_REPLY_ERROR);
    assert_int_equal(c.errcode, EMBER_EWRONGTYPE);
}

static void test_error_codes(void **state)
{
    (void)state;
    const char *m = "ERR value is not an integer or out of range";
    assert_int_equal(ember__error_code_for(m, strlen(m)), EMBER_ENOTINT);
    m = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_int_equal(ember__error_code_for(m, strlen(m)), EMBER_EWRONGTYPE);
    m = "ERR something else";
    assert_int_equal(ember__error_code_for(m, strlen(m)), EMBER_EREPLY);
    struct ember_reply *r = ember__reply_new_error(EMBER_EABORT, "EXECABORT x");
    assert_int_equal(r->errcode, EMBER_EABORT);
    assert_string_equal(r->str, "EXECABORT x");
    ember__reply_tree_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_and_deferred),
        cmocka_unit_test(test_empty_deferred_at_top),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_error_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
