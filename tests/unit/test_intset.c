/*
 * test_intset.c — the intset encoding: width upgrades at every boundary,
 * search, add/remove, Redis's byte layout, validation of untrusted bytes
 * (never crashing, under ASan too), and a randomized run against a model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "types/intset.h"

static em_mem g_mem;

static int setup(void **state)
{
    (void)state;
    em_alloc_hooks h;
    ember__alloc_default_hooks(&h);
    ember__mem_init(&g_mem, &h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(ember__mem_used(&g_mem), 0); /* every block given back */
    return 0;
}

static uint8_t *add(uint8_t *is, int64_t v, int expect_added)
{
    int added = -1;
    uint8_t *r = ember__intset_add(&g_mem, is, v, &added);
    assert_non_null(r);
    assert_int_equal(added, expect_added);
    return r;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void test_layout(void **state)
{
    (void)state;
    uint8_t *is = ember__intset_new(&g_mem);
    assert_int_equal(ember__intset_len(is), 0);
    assert_int_equal(ember__intset_width(is), 2);
    assert_int_equal(ember__intset_bytes(is), 8);
    is = add(is, 5, 1);
    is = add(is, -3, 1);
    is = add(is, 5, 0);
    /* Redis's bytes: 02 00 00 00 | 02 00 00 00 | fd ff | 05 00 */
    static const uint8_t want[] = {2, 0, 0, 0, 2, 0, 0, 0, 0xfd, 0xff, 5, 0};
    assert_int_equal(ember__intset_bytes(is), sizeof want);
    assert_memory_equal(is, want, sizeof want);
    assert_true(ember__intset_validate(is, sizeof want, NULL));
    ember__intset_free(&g_mem, is);
}

/* Each boundary value and its neighbour, positive and negative side. */
static void test_upgrades(void **state)
{
    (void)state;
    static const struct {
        int64_t v;
        uint32_t width;
    } cases[] = {
        {INT16_MAX, 2}, {INT16_MIN, 2}, {(int64_t)INT16_MAX + 1, 4}, {(int64_t)INT16_MIN - 1, 4},
        {INT32_MAX, 4}, {INT32_MIN, 4}, {(int64_t)INT32_MAX + 1, 8}, {(int64_t)INT32_MIN - 1, 8},
        {INT64_MAX, 8}, {INT64_MIN, 8},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t *is = ember__intset_new(&g_mem);
        for (int64_t i = -3; i <= 3; i++)
            is = add(is, i, 1);
        is = add(is, cases[k].v, 1);
        assert_int_equal(ember__intset_width(is), cases[k].width);
        assert_int_equal(ember__intset_len(is), 8);
        /* Upgraded in place: still sorted, every old value intact. */
        for (int64_t i = -3; i <= 3; i++)
            assert_true(ember__intset_find(is, i, NULL));
        uint32_t pos;
        assert_true(ember__intset_find(is, cases[k].v, &pos));
        assert_int_equal(pos, cases[k].v < 0 ? 0 : 7);
        assert_true(ember__intset_validate(is, ember__intset_bytes(is), NULL));
        /* Removing the wide value keeps the width (never narrows, as Redis). */
        int removed;
        is = ember__intset_remove(&g_mem, is, cases[k].v, &removed);
        assert_int_equal(removed, 1);
        assert_int_equal(ember__intset_width(is), cases[k].width);
        assert_int_equal(ember__intset_get(is, 0), -3);
        assert_int_equal(ember__intset_get(is, 6), 3);
        ember__intset_free(&g_mem, is);
    }
    /* Straight from 2 to 8 bytes, and values just inside each width. */
    uint8_t *is = ember__intset_new(&g_mem);
    is = add(is, 1, 1);
    is = add(is, INT64_MIN, 1);
    assert_int_equal(ember__intset_width(is), 8);
    assert_int_equal(ember__intset_get(is, 0), INT64_MIN);
    assert_int_equal(ember__intset_get(is, 1), 1);
    is = add(is, INT16_MIN, 1);
    assert_int_equal(ember__intset_get(is, 1), INT16_MIN);
    ember__intset_free(&g_mem, is);
}

static void test_search(void **state)
{
    (void)state;
    uint8_t *is = ember__intset_new(&g_mem);
    uint32_t pos = 99;
    assert_false(ember__intset_find(is, 0, &pos));
    assert_int_equal(pos, 0);
    for (int64_t i = 0; i < 100; i++)
        is = add(is, i * 10, 1);
    for (int64_t i = 0; i < 100; i++) {
        assert_true(ember__intset_find(is, i * 10, &pos));
        assert_int_equal(pos, i);
        assert_false(ember__intset_find(is, i * 10 + 5, &pos));
        assert_int_equal(pos, i + 1);
    }
    assert_false(ember__intset_find(is, -1, &pos));
    assert_int_equal(pos, 0);
    /* Values wider than the elements: outside their range. */
    assert_false(ember__intset_find(is, INT64_MAX, &pos));
    assert_int_equal(pos, 100);
    assert_false(ember__intset_find(is, INT32_MIN, &pos));
    assert_int_equal(pos, 0);
    int removed;
    is = ember__intset_remove(&g_mem, is, 7, &removed);
    assert_int_equal(removed, 0);
    is = ember__intset_remove_at(&g_mem, is, 0);
    assert_int_equal(ember__intset_get(is, 0), 10);
    assert_int_equal(ember__intset_len(is), 99);
    uint8_t *d = ember__intset_dup(&g_mem, is);
    assert_memory_equal(d, is, ember__intset_bytes(is));
    ember__intset_free(&g_mem, d);
    ember__intset_free(&g_mem, is);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Copies n bytes into an exact-size heap block so ASan sees any overread. */
static int validate_exact(const uint8_t *b, size_t n, size_t *bad)
{
    uint8_t *p = malloc(n ? n : 1);
    if (n)
        memcpy(p, b, n);
    int ok = ember__intset_validate(p, n, bad);
    free(p);
    return ok;
}

static void test_validate(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t bad;
    /* good: width 4, three ascending values */
    put32(b, 4);
    put32(b + 4, 3);
    put32(b + 8, (uint32_t)-7);
    put32(b + 12, 0);
    put32(b + 16, 9);
    assert_true(validate_exact(b, 20, &bad));
    assert_int_equal(rd32(b), 4);
    /* wrong encodings */
    static const uint32_t encs[] = {0, 1, 3, 5, 6, 7, 16, 0xffffffffu};
    for (size_t i = 0; i < sizeof encs / sizeof encs[0]; i++) {
        put32(b, encs[i]);
        assert_false(validate_exact(b, 20, &bad));
        assert_int_equal(bad, 0);
    }
    put32(b, 4);
    /* length mismatch either way, huge length, empty */
    put32(b + 4, 4);
    assert_false(validate_exact(b, 20, &bad));
    assert_int_equal(bad, 4);
    put32(b + 4, 2);
    assert_false(validate_exact(b, 20, &bad));
    put32(b + 4, 0xffffffffu);
    assert_false(validate_exact(b, 20, &bad));
    put32(b + 4, 0);
    assert_false(validate_exact(b, 8, &bad));
    put32(b + 4, 3);
    assert_false(validate_exact(b, 19, &bad)); /* truncated element */
    assert_false(validate_exact(b, 21, &bad)); /* trailing byte */
    /* too short for a header, NULL */
    for (size_t n = 0; n < 8; n++)
        assert_false(validate_exact(b, n, &bad));
    assert_false(ember__intset_validate(NULL, 20, NULL));
    /* unsorted, duplicate */
    put32(b + 12, 20);
    assert_false(validate_exact(b, 20, &bad));
    assert_int_equal(bad, 16);
    put32(b + 12, 9);
    assert_false(validate_exact(b, 20, &bad));
    assert_int_equal(bad, 16);
    put32(b + 12, 0);
    assert_true(validate_exact(b, 20, NULL));
    /* random garbage never crashes */
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(rand() % 48);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)rand();
        if (n >= 8 && rand() % 2) {
            static const uint32_t w[] = {2, 4, 8};
            uint32_t width = w[rand() % 3];
            put32(b, width);
            put32(b + 4, (uint32_t)((n - 8) / width));
        }
        validate_exact(b, n, &bad);
    }
}

/* A model: a sorted array of distinct values. */
static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_random_model(void **state)
{
    (void)state;
    enum { MAXN = 600 };
    int64_t model[MAXN];
    size_t n = 0;
    uint64_t s = 0x1234567;
    uint8_t *is = ember__intset_new(&g_mem);
    for (int round = 0; round < 40000; round++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = s >> 11;
        int64_t v;
        switch (r % 4) { /* values of every width */
        case 0:
            v = (int64_t)(r % 200) - 100;
            break;
        case 1:
            v = (int64_t)(r % 100000) - 50000;
            break;
        case 2:
            v = (int64_t)(r % 10000000000ull) - 5000000000ll;
            break;
        default:
            v = (int64_t)(s ^ (s << 7));
            break;
        }
        int in = bsearch(&v, model, n, sizeof v, cmp64) != NULL;
        if ((r >> 20) % 3 || n == 0) {
            if (n >= MAXN)
                continue;
            is = add(is, v, !in);
            if (!in) {
                model[n++] = v;
                qsort(model, n, sizeof v, cmp64);
            }
        } else {
            int removed;
            is = ember__intset_remove(&g_mem, is, v, &removed);
            assert_int_equal(removed, in);
            if (in) {
                int64_t *p = bsearch(&v, model, n, sizeof v, cmp64);
                memmove(p, p + 1, (size_t)(model + n - p - 1) * sizeof v);
                n--;
            }
        }
        assert_int_equal(ember__intset_len(is), n);
        if (round % 500 == 0) {
            for (size_t i = 0; i < n; i++)
                assert_int_equal(ember__intset_get(is, (uint32_t)i), model[i]);
            assert_int_equal(ember__intset_validate(is, ember__intset_bytes(is), NULL), n > 0);
        }
    }
    ember__intset_free(&g_mem, is);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrades, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
