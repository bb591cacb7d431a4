/*
 * test_watch.c — the WATCH registry (lib/exec/watch.c) on a bare store:
 * the store's hooks are installed only while a key is watched; writes,
 * additions, deletions, expiry, FLUSHDB and SWAPDB make exactly the right
 * watchers dirty; the "already expired at WATCH" and "expired at EXEC"
 * rules; several watchers per key; and every byte is returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/watch.h"

#define T0 1700000000000ll /* virtual clock start, Unix ms */

static em_store st;
static em_watch_reg reg;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(ember__store_init(&st, NULL, 4, 7, 1, T0), 0);
    ember__watch_init(&reg, &st, 7);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ember__watch_free(&reg);
    assert_null(st.watch_key);
    ember__store_free(&st);
    assert_int_equal(ember__mem_used(&st.mem), 0);
    return 0;
}

static em_watcher *watcher(void)
{
    em_watcher *w = calloc(1, sizeof *w);
    assert_non_null(w);
    return w;
}

static void watch(em_watcher *w, int32_t db, const char *key)
{
    const char *argv[2] = {"watch", key};
    size_t argvlen[2] = {5, strlen(key)};
    ember__watch_keys(&reg, w, db, 2, argv, argvlen);
}

/* SET key val in db (adds or replaces), with an expire when >= 0. */
static void set(int32_t db, const char *key, int64_t expire_at)
{
    em_keyspace *ks = &st.dbs[db];
    size_t kl = strlen(key);
    em_obj *o = ember__obj_new_int(&st.mem, key, kl, 1);
    assert_non_null(o);
    if (expire_at >= 0) {
        em_obj *e = ember__obj_rebuild_expire(&st.mem, o, expire_at);
        assert_non_null(e);
        ember__obj_free_shell(&st.mem, o);
        o = e;
    }
    em_dpos pos;
    if (ember__ks_lookup(&st, ks, key, kl, ember__clock_ms(&st.clock), EM_LK_WRITE, &pos))
        ember__obj_free(&st.mem, ember__ks_replace(&st, ks, &pos, o));
    else
        ember__ks_add(&st, ks, o);
}

static int lookup(int32_t db, const char *key)
{
    return ember__ks_lookup(&st, &st.dbs[db], key, strlen(key), ember__clock_ms(&st.clock),
                            EM_LK_READ, NULL) != NULL;
}

static void test_hooks_only_while_watching(void **state)
{
    (void)state;
    assert_null(st.watch_key);
    assert_null(st.watch_db);
    em_watcher *w = watcher();
    watch(w, 0, "k");
    assert_non_null(st.watch_key);
    assert_non_null(st.watch_db);
    watch(w, 0, "k"); /* once per key */
    assert_int_equal(ember__dict_size(&reg.keys), 1);
    assert_non_null(w->keys);
    assert_null(w->keys->wnext);
    ember__watch_clear(&reg, w);
    assert_null(st.watch_key);
    assert_int_equal(ember__dict_size(&reg.keys), 0);
    ember__watch_release(&reg, w);
}

static void test_writes(void **state)
{
    (void)state;
    em_watcher *a = watcher(), *b = watcher();
    watch(a, 0, "k");
    watch(b, 0, "k");
    watch(b, 1, "other");
    set(0, "unrelated", -1);
    set(1, "k", -1); /* same name, another database */
    assert_false(a->dirty);
    assert_false(b->dirty);
    assert_false(lookup(0, "k")); /* a read of a missing key changes nothing */
    assert_false(a->dirty);
    set(0, "k", -1); /* added */
    assert_true(a->dirty);
    assert_true(b->dirty);
    assert_int_equal(ember__watch_exec_check(&reg, a), 0);
    assert_false(a->dirty); /* EXEC unwatches */
    assert_null(a->keys);
    /* b still watches k; a starts over and sees a replace, then a delete. */
    watch(a, 0, "k");
    set(0, "k", -1);
    assert_true(a->dirty);
    ember__watch_clear(&reg, a);
    watch(a, 0, "k");
    em_dpos pos;
    assert_non_null(ember__ks_lookup(&st, &st.dbs[0], "k", 1, T0, EM_LK_WRITE, &pos));
    ember__ks_delete(&st, &st.dbs[0], &pos, 0, EM_DEL_USER);
    assert_true(a->dirty);
    ember__watch_release(&reg, b); /* b's two keys go with it */
    assert_int_equal(ember__dict_size(&reg.keys), 1);
    assert_int_equal(ember__watch_exec_check(&reg, a), 0);
    assert_int_equal(ember__dict_size(&reg.keys), 0);
    ember__watch_release(&reg, a);
}

static void test_expiry_rules(void **state)
{
    (void)state;
    em_watcher *w = watcher();
    /* Live at WATCH, logically expired at EXEC, not deleted yet: fails. */
    set(0, "e", T0 + 100);
    watch(w, 0, "e");
    assert_int_equal(ember__clock_advance_us(&st.clock, 200 * 1000), 0);
    assert_false(w->dirty);
    assert_int_equal(ember__watch_exec_check(&reg, w), 0);
    /* Already expired at WATCH: its lazy deletion is no change. */
    watch(w, 0, "e");
    assert_false(lookup(0, "e")); /* deletes it */
    assert_false(w->dirty);
    assert_int_equal(ember__watch_exec_check(&reg, w), 1);
    /* ... but once deleted, its re-creation is. */
    set(0, "f", T0 + 250);
    assert_int_equal(ember__clock_advance_us(&st.clock, 100 * 1000), 0);
    watch(w, 0, "f");
    assert_false(lookup(0, "f"));
    assert_false(w->dirty);
    set(0, "f", -1);
    assert_true(w->dirty);
    assert_int_equal(ember__watch_exec_check(&reg, w), 0);
    /* Live at WATCH and deleted by expiry: a change. */
    set(0, "g", ember__clock_ms(&st.clock) + 50);
    watch(w, 0, "g");
    assert_int_equal(ember__clock_advance_us(&st.clock, 100 * 1000), 0);
    assert_false(lookup(0, "g"));
    assert_true(w->dirty);
    ember__watch_release(&reg, w);
}

static void test_flush_and_swap(void **state)
{
    (void)state;
    em_watcher *a = watcher(), *b = watcher(), *c = watcher();
    set(0, "k", -1);
    watch(a, 0, "k");       /* exists: FLUSHDB 0 is a change */
    watch(b, 0, "missing"); /* does not: no change */
    watch(c, 1, "k");       /* another database */
    ember__ks_flush(&st, &st.dbs[0], 0);
    assert_true(a->dirty);
    assert_false(b->dirty);
    assert_false(c->dirty);
    ember__watch_clear(&reg, a);
    ember__watch_clear(&reg, b);
    /* SWAPDB: a key in either database is a change; databases not swapped
     * are not concerned. */
    set(1, "k", -1);
    watch(a, 0, "k"); /* absent in 0, present in 1 */
    watch(b, 0, "x"); /* absent in both */
    ember__ks_swap(&st, &st.dbs[0], &st.dbs[1]);
    assert_true(a->dirty);
    assert_false(b->dirty);
    assert_true(c->dirty); /* db 1's k moved away */
    ember__watch_clear(&reg, c);
    watch(c, 3, "k");
    ember__ks_swap(&st, &st.dbs[0], &st.dbs[2]);
    assert_false(c->dirty);
    assert_false(b->dirty);
    ember__watch_release(&reg, a);
    ember__watch_release(&reg, b);
    ember__watch_release(&reg, c);
}

static void test_many_keys_and_close(void **state)
{
    (void)state;
    em_watcher *w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = watcher();
        for (int k = 0; k < 200; k++) {
            char key[32];
            snprintf(key, sizeof key, "key:%d", (k * 7 + i) % 300);
            watch(w[i], i % 4, key);
        }
    }
    /* key:9 in db 2: watched by w[2] (k = 1) and w[6] (7 * 129 + 6 = 909). */
    set(2, "key:9", -1);
    int dirty = 0;
    for (int i = 0; i < 8; i++)
        dirty += w[i]->dirty;
    assert_true(w[2]->dirty);
    assert_true(w[6]->dirty);
    assert_int_equal(dirty, 2);
    /* The rest is freed by ember__watch_free() in teardown (as at close). */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hooks_only_while_watching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_keys_and_close, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
