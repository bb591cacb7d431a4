/*
 * test_dict.c — the keyspace hash table: add/find/unlink/replace, growth and
 * shrinking through incremental rehash (every key findable at every step),
 * the SCAN cursor's guarantee while the table resizes between calls, random
 * sampling and freeing.
 *
 * Keys are "k<i>" objects whose INT value is i, so a callback can tell which
 * key it was handed without parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hash.h"
#include "keyspace/dict.h"

#define MAXK 6000

static em_mem mem;
static em_obj *objs[MAXK]; /* objs[i]: the object of key i while present */

static size_t key_of(int i, char *buf)
{
    return (size_t)snprintf(buf, 16, "k%d", i);
}

static void add_key(em_dict *d, int i)
{
    char k[16];
    size_t kl = key_of(i, k);
    em_obj *o = ember__obj_new_int(&mem, k, kl, i);
    assert_non_null(o);
    em_dpos pos;
    assert_int_equal(ember__dict_find(d, k, kl, ember__dict_hash(d, k, kl), &pos), 0);
    assert_int_equal(ember__dict_add(d, o, ember__dict_hash(d, k, kl)), 0);
    objs[i] = o;
}

static int find_key(em_dict *d, int i, em_dpos *pos)
{
    char k[16];
    size_t kl = key_of(i, k);
    em_dpos p;
    int found = ember__dict_find(d, k, kl, ember__dict_hash(d, k, kl), pos ? pos : &p);
    if (found)
        assert_ptr_equal(*(pos ? pos : &p)->link, objs[i]);
    return found;
}

static void del_key(em_dict *d, int i)
{
    em_dpos pos;
    assert_true(find_key(d, i, &pos));
    em_obj *o = ember__dict_unlink(d, &pos);
    assert_ptr_equal(o, objs[i]);
    ember__obj_free(&mem, o);
    objs[i] = NULL;
    assert_false(find_key(d, i, NULL));
}

/* Every key in [0, n) that is present is findable; absent ones are not. */
static void check_all(em_dict *d, int n)
{
    size_t present = 0;
    for (int i = 0; i < n; i++) {
        if (objs[i]) {
            assert_true(find_key(d, i, NULL));
            present++;
        } else {
            assert_false(find_key(d, i, NULL));
        }
    }
    assert_int_equal(ember__dict_size(d), present);
}

static void free_cb(void *ud, em_obj *o)
{
    (*(size_t *)ud)++;
    objs[ember__obj_int(o)] = NULL;
    ember__obj_free(&mem, o);
}

static void release(em_dict *d)
{
    size_t freed = 0, want = ember__dict_size(d);
    ember__dict_free_all(d, free_cb, &freed);
    assert_int_equal(freed, want);
    assert_int_equal(ember__dict_size(d), 0);
    for (int i = 0; i < MAXK; i++)
        assert_null(objs[i]);
}

static int setup(void **state)
{
    (void)state;
    ember__mem_init(&mem, NULL);
    memset(objs, 0, sizeof objs);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* Every test frees what it built: the accounting must be back to zero. */
    assert_int_equal(ember__mem_used(&mem), 0);
    return 0;
}

static void test_add_find_unlink_replace(void **state)
{
    (void)state;
    em_dict d;
    ember__dict_init(&d, &mem, 42);
    em_dpos pos;
    assert_false(ember__dict_find(&d, "x", 1, ember__dict_hash(&d, "x", 1), &pos));
    for (int i = 0; i < 10; i++)
        add_key(&d, i);
    check_all(&d, 10);
    /* Replace key 3 by another object with the same key. */
    assert_true(find_key(&d, 3, &pos));
    em_obj *n = ember__obj_new_int(&mem, "k3", 2, 3);
    em_obj *old = ember__dict_replace(&d, &pos, n);
    assert_ptr_equal(old, objs[3]);
    ember__obj_free(&mem, old);
    objs[3] = n;
    check_all(&d, 10);
    /* Unlink in every position of the chains. */
    for (int i = 0; i < 10; i += 2)
        del_key(&d, i);
    check_all(&d, 10);
    assert_int_equal(ember__dict_size(&d), 5);
    /* Binary keys with NUL bytes are distinct keys. */
    em_obj *b1 = ember__obj_new_int(&mem, "a\0b", 3, 0);
    em_obj *b2 = ember__obj_new_int(&mem, "a\0c", 3, 0);
    ember__dict_add(&d, b1, ember__dict_hash(&d, "a\0b", 3));
    ember__dict_add(&d, b2, ember__dict_hash(&d, "a\0c", 3));
    assert_true(ember__dict_find(&d, "a\0c", 3, ember__dict_hash(&d, "a\0c", 3), &pos));
    assert_ptr_equal(*pos.link, b2);
    assert_false(ember__dict_find(&d, "a", 1, ember__dict_hash(&d, "a", 1), &pos));
    assert_true(ember__dict_find(&d, "a\0b", 3, ember__dict_hash(&d, "a\0b", 3), &pos));
    ember__obj_free(&mem, ember__dict_unlink(&d, &pos));
    assert_true(ember__dict_find(&d, "a\0c", 3, ember__dict_hash(&d, "a\0c", 3), &pos));
    ember__obj_free(&mem, ember__dict_unlink(&d, &pos));
    release(&d);
}

static void test_growth_with_incremental_rehash(void **state)
{
    (void)state;
    em_dict d;
    ember__dict_init(&d, &mem, 7);
    int saw_rehash = 0;
    const int n = 1500;
    for (int i = 0; i < n; i++) {
        add_key(&d, i);
        if (ember__dict_is_rehashing(&d)) {
            saw_rehash = 1;
            /* While rehashing both tables hold keys; none is lost. */
            assert_int_equal(d.used[0] + d.used[1], (size_t)i + 1);
            assert_true(d.size[1] > d.size[0]);
        }
        if (i % 97 == 0 || ember__dict_is_rehashing(&d))
            check_all(&d, i + 1);
    }
    assert_true(saw_rehash);
    /* Finish the rehash with small steps, checking each step. */
    while (ember__dict_rehash(&d, 1))
        check_all(&d, n);
    check_all(&d, n);
    assert_false(ember__dict_is_rehashing(&d));
    assert_true(d.size[0] >= (size_t)n);
    assert_int_equal(d.size[0] & (d.size[0] - 1), 0); /* a power of two */
    release(&d);
}

static void test_shrink(void **state)
{
    (void)state;
    em_dict d;
    ember__dict_init(&d, &mem, 9);
    const int n = 2000;
    for (int i = 0; i < n; i++)
        add_key(&d, i);
    while (ember__dict_rehash(&d, 100))
        ;
    size_t big = d.size[0];
    /* Not below 1/10 full: no shrink. */
    ember__dict_maybe_shrink(&d);
    assert_false(ember__dict_is_rehashing(&d));
    for (int i = 0; i < n; i++)
        if (i % 50 != 0)
            del_key(&d, i);
    ember__dict_maybe_shrink(&d);
    assert_true(ember__dict_is_rehashing(&d));
    assert_true(d.size[1] < big);
    int steps = 0;
    while (ember__dict_rehash(&d, 1)) {
        check_all(&d, n);
        steps++;
    }
    assert_true(steps > 0);
    check_all(&d, n);
    assert_true(d.size[0] < big);
    assert_true(d.size[0] >= ember__dict_size(&d));
    /* Emptying the table shrinks it to the minimum. */
    for (int i = 0; i < n; i += 50)
        del_key(&d, i);
    ember__dict_maybe_shrink(&d);
    while (ember__dict_rehash(&d, 10))
        ;
    assert_int_equal(d.size[0], 4);
    assert_int_equal(ember__dict_size(&d), 0);
    /* A table can be reused after being emptied. */
    add_key(&d, 1);
    check_all(&d, 2);
    release(&d);
}

/* ------------------------------------------------------------------ scan */

typedef struct seen {
    unsigned char count[MAXK];
} seen;

static void seen_cb(void *ud, em_obj *o)
{
    seen *s = ud;
    int64_t i = ember__obj_int(o);
    assert_true(i >= 0 && i < MAXK);
    if (s->count[i] < 255)
        s->count[i]++;
}

static void test_scan_static_table_once(void **state)
{
    (void)state;
    em_dict d;
    ember__dict_init(&d, &mem, 3);
    static seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(ember__dict_scan(&d, 0, seen_cb, &s), 0); /* empty: done at once */
    const int n = 1000;
    for (int i = 0; i < n; i++)
        add_key(&d, i);
    /* Also during a rehash: a static table yields every key exactly once. */
    for (int pass = 0; pass < 2; pass++) {
        memset(&s, 0, sizeof s);
        uint64_t cur = 0;
        size_t calls = 0;
        do {
            cur = ember__dict_scan(&d, cur, seen_cb, &s);
            calls++;
        } while (cur != 0);
        assert_true(calls <= d.size[0] + d.size[1]);
        for (int i = 0; i < n; i++)
            assert_int_equal(s.count[i], 1);
        if (pass == 0) {
            while (ember__dict_rehash(&d, 100))
                ;
            for (int i = n; i < 2 * n; i++) /* grows again: ends mid-rehash */
                if (!ember__dict_is_rehashing(&d) || i < n + 10)
                    add_key(&d, i);
            for (int i = n; i < 2 * n; i++)
                if (objs[i])
                    del_key(&d, i);
            assert_true(ember__dict_is_rehashing(&d));
        }
    }
    release(&d);
}

/*
 * Drives a scan over `stable` keys (0..stable-1, present throughout) while
 * other keys come and go between calls, forcing growth, shrinking and partial
 * rehashes. Each key present for the whole scan must be returned at least once.
 */
static void scan_under_churn(uint64_t seed, int stable, int mode)
{
    em_dict d;
    ember__dict_init(&d, &mem, seed);
    uint64_t rng = seed * 2654435761u + 1;
    static seen s;
    memset(&s, 0, sizeof s);
    int lo = stable, hi = stable; /* transient keys present: [lo, hi) */
    for (int i = 0; i < stable; i++)
        add_key(&d, i);
    if (mode == 1) { /* start big so the scan sees shrinks */
        for (; hi < MAXK; hi++)
            add_key(&d, hi);
        while (ember__dict_rehash(&d, 100))
            ;
    }
    uint64_t cur = 0;
    size_t calls = 0, resizes = 0;
    do {
        cur = ember__dict_scan(&d, cur, seen_cb, &s);
        calls++;
        int was = ember__dict_is_rehashing(&d);
        switch (mode) {
        case 0: /* growth: add a batch of transient keys */
            for (int k = 0; k < 8 && hi < MAXK; k++)
                add_key(&d, hi++);
            break;
        case 1: /* shrink: remove transient keys, ask for a shrink */
            for (int k = 0; k < 40 && lo < hi; k++)
                del_key(&d, lo++);
            ember__dict_maybe_shrink(&d);
            ember__dict_rehash(&d, 1);
            break;
        default: /* random mix, random rehash steps */
            if ((ember__rand64(&rng) & 3) != 0 && hi < MAXK) {
                int add = (int)(ember__rand64(&rng) % 64);
                for (int k = 0; k < add && hi < MAXK; k++)
                    add_key(&d, hi++);
            } else {
                int del = (int)(ember__rand64(&rng) % 128);
                for (int k = 0; k < del && lo < hi; k++)
                    del_key(&d, lo++);
                ember__dict_maybe_shrink(&d);
            }
            ember__dict_rehash(&d, (size_t)(ember__rand64(&rng) % 8));
            break;
        }
        if (was != ember__dict_is_rehashing(&d))
            resizes++;
        assert_true(calls < 100000);
    } while (cur != 0);
    assert_true(resizes > 0); /* the table really changed under the scan */
    for (int i = 0; i < stable; i++)
        if (s.count[i] == 0)
            fail_msg("mode %d seed %llu: stable key %d never returned", mode,
                     (unsigned long long)seed, i);
    for (int i = lo; i < hi; i++)
        del_key(&d, i);
    release(&d);
}

static void test_scan_guarantee_growing(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++)
        scan_under_churn(seed, 300, 0);
}

static void test_scan_guarantee_shrinking(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 8; seed++)
        scan_under_churn(seed, 200, 1);
}

static void test_scan_guarantee_random_churn(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 30; seed++)
        scan_under_churn(seed, 150 + (int)seed * 7, 2);
}

/* ------------------------------------------------------------------ random */

static void test_random_covers_keys(void **state)
{
    (void)state;
    em_dict d;
    ember__dict_init(&d, &mem, 5);
    uint64_t rng = 12345;
    assert_null(ember__dict_random(&d, &rng));
    const int n = 40;
    for (int i = 0; i < n; i++)
        add_key(&d, i);
    for (int phase = 0; phase < 2; phase++) {
        static seen s;
        memset(&s, 0, sizeof s);
        for (int draw = 0; draw < 20000; draw++) {
            em_obj *o = ember__dict_random(&d, &rng);
            assert_non_null(o);
            int64_t i = ember__obj_int(o);
            assert_true(i >= 0 && i < MAXK && objs[i] == o);
            s.count[i] = 1;
        }
        for (int i = 0; i < MAXK; i++)
            assert_int_equal(s.count[i], objs[i] ? 1 : 0);
        /* Second phase: sample while a resize is in progress. */
        for (int i = n; !ember__dict_is_rehashing(&d); i++)
            add_key(&d, i);
        assert_true(ember__dict_is_rehashing(&d));
    }
    for (int i = 0; i < MAXK; i++)
        if (objs[i])
            del_key(&d, i);
    assert_null(ember__dict_random(&d, &rng));
    release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_find_unlink_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_with_incremental_rehash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_static_table_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee_growing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee_shrinking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee_random_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_covers_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
