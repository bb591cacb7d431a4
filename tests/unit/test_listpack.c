/*
 * test_listpack.c — the listpack byte format: exact bytes of every integer and
 * string encoding at its boundaries (as Redis 7.0 writes them), canonical-int
 * detection, insert/replace/delete at head, middle and tail, range deletes,
 * seek, walking both ways, find with skip, dup, a randomized run against a
 * plain array model, validation of built and corrupted buffers (every
 * single-byte mutation and truncation; run under ASan), and allocation
 * failure leaving the old buffer intact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "types/listpack.h"

static em_mem mem;

/* ---- allocator hooks that can fail on demand ---- */

static long fail_countdown = -1; /* allocations left before failing; -1: never */

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0)
        return 1;
    fail_countdown--;
    return 0;
}

static void *t_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : malloc(n);
}

static void *t_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : realloc(p, n);
}

static void t_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static int setup(void **state)
{
    (void)state;
    em_alloc_hooks h;
    ember__alloc_default_hooks(&h);
    h.malloc_fn = t_malloc;
    h.realloc_fn = t_realloc;
    h.calloc_fn = NULL;
    h.free_fn = t_free;
    ember__mem_init(&mem, &h);
    fail_countdown = -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(ember__mem_used(&mem), 0);
    return 0;
}

/* ---- helpers ---- */

static uint8_t *append_str(uint8_t *lp, const char *s)
{
    uint8_t *q = ember__lp_append(&mem, lp, s, strlen(s));
    assert_non_null(q);
    return q;
}

static uint8_t *append_int(uint8_t *lp, int64_t v)
{
    uint8_t *q = ember__lp_append_int(&mem, lp, v);
    assert_non_null(q);
    return q;
}

/* Walks forward and backward, checking both walks agree with the count, and
 * validates the buffer. */
static void check_walk(uint8_t *lp)
{
    size_t bytes = ember__lp_bytes(lp);
    assert_true(ember__lp_validate(lp, bytes));
    uint32_t n = ember__lp_length(lp);
    uint8_t **fw = malloc((n + 1) * sizeof *fw);
    uint32_t i = 0;
    for (uint8_t *p = ember__lp_first(lp); p; p = ember__lp_next(lp, p)) {
        assert_true(i < n);
        fw[i++] = p;
    }
    assert_int_equal(i, n);
    for (uint8_t *p = ember__lp_last(lp); p; p = ember__lp_prev(lp, p)) {
        assert_true(i > 0);
        assert_ptr_equal(p, fw[--i]);
    }
    assert_int_equal(i, 0);
    free(fw);
}

/* Element at p as text. */
static size_t text(uint8_t *p, char *out)
{
    uint8_t ib[EM_LP_INTBUF];
    uint32_t len;
    int64_t v;
    const uint8_t *s = ember__lp_get(p, &v, &len, ib);
    memcpy(out, s, len);
    return len;
}

static void assert_elem(uint8_t *p, const char *want)
{
    char buf[128];
    assert_non_null(p);
    size_t l = text(p, buf);
    assert_int_equal(l, strlen(want));
    assert_memory_equal(buf, want, l);
}

/* ---- exact bytes ---- */

static void test_empty(void **state)
{
    (void)state;
    uint8_t *lp = ember__lp_new(&mem, 0);
    const uint8_t want[] = {7, 0, 0, 0, 0, 0, 0xFF};
    assert_int_equal(ember__lp_bytes(lp), 7);
    assert_memory_equal(lp, want, 7);
    assert_int_equal(ember__lp_length(lp), 0);
    assert_null(ember__lp_first(lp));
    assert_null(ember__lp_last(lp));
    assert_null(ember__lp_seek(lp, 0));
    assert_null(ember__lp_seek(lp, -1));
    assert_true(ember__lp_validate(lp, 7));
    ember__lp_free(&mem, lp);
    lp = ember__lp_new(&mem, 1000);
    assert_int_equal(ember__lp_bytes(lp), 7);
    lp = append_str(lp, "x");
    check_walk(lp);
    ember__lp_free(&mem, lp);
}

struct int_case {
    int64_t v;
    uint8_t enc[10];
    size_t n;
};

static void test_int_encodings(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7F}, 1},
        {128, {0xC0, 0x80}, 2},
        {-1, {0xDF, 0xFF}, 2},
        {4095, {0xCF, 0xFF}, 2},
        {-4096, {0xD0, 0x00}, 2},
        {4096, {0xF1, 0x00, 0x10}, 3},
        {-4097, {0xF1, 0xFF, 0xEF}, 3},
        {32767, {0xF1, 0xFF, 0x7F}, 3},
        {-32768, {0xF1, 0x00, 0x80}, 3},
        {32768, {0xF2, 0x00, 0x80, 0x00}, 4},
        {-32769, {0xF2, 0xFF, 0x7F, 0xFF}, 4},
        {8388607, {0xF2, 0xFF, 0xFF, 0x7F}, 4},
        {-8388608, {0xF2, 0x00, 0x00, 0x80}, 4},
        {8388608, {0xF3, 0x00, 0x00, 0x80, 0x00}, 5},
        {-8388609, {0xF3, 0xFF, 0xFF, 0x7F, 0xFF}, 5},
        {INT32_MAX, {0xF3, 0xFF, 0xFF, 0xFF, 0x7F}, 5},
        {INT32_MIN, {0xF3, 0x00, 0x00, 0x00, 0x80}, 5},
        {(int64_t)INT32_MAX + 1, {0xF4, 0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0}, 9},
        {(int64_t)INT32_MIN - 1, {0xF4, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF}, 9},
        {INT64_MAX, {0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, 9},
        {INT64_MIN, {0xF4, 0, 0, 0, 0, 0, 0, 0, 0x80}, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct int_case *c = &cases[i];
        for (int via_text = 0; via_text < 2; via_text++) {
            uint8_t *lp = ember__lp_new(&mem, 0);
            if (via_text) {
                char buf[32];
                snprintf(buf, sizeof buf, "%lld", (long long)c->v);
                lp = append_str(lp, buf);
            } else {
                lp = append_int(lp, c->v);
            }
            assert_int_equal(ember__lp_bytes(lp), 7 + c->n + 1);
            assert_memory_equal(lp + 6, c->enc, c->n);
            assert_int_equal(lp[6 + c->n], c->n); /* back-length */
            assert_int_equal(lp[6 + c->n + 1], 0xFF);
            assert_int_equal(lp[4], 1);
            uint8_t *p = ember__lp_first(lp);
            int64_t v = 0;
            uint32_t len = 99;
            assert_null(ember__lp_get(p, &v, &len, NULL));
            assert_true(v == c->v);
            assert_true(ember__lp_is_int(p));
            v = 0;
            assert_true(ember__lp_get_int(p, &v));
            assert_true(v == c->v);
            assert_true(ember__lp_eq_int(p, c->v));
            assert_false(ember__lp_eq_int(p, c->v ^ 1));
            char buf[32];
            int n = snprintf(buf, sizeof buf, "%lld", (long long)c->v);
            uint8_t ib[EM_LP_INTBUF];
            const uint8_t *s = ember__lp_get(p, NULL, &len, ib);
            assert_ptr_equal(s, ib);
            assert_int_equal(len, n);
            assert_memory_equal(s, buf, (size_t)n);
            assert_true(ember__lp_eq(p, buf, (size_t)n));
            check_walk(lp);
            ember__lp_free(&mem, lp);
        }
    }
}

static void test_str_encodings(void **state)
{
    (void)state;
    static const size_t lens[] = {0,    1,     63,    64,    127,    128,     4095,
                                  4096, 16377, 16378, 16379, 100000, 2097145, 2097146};
    char *data = malloc(2097146);
    for (size_t i = 0; i < 2097146; i++)
        data[i] = (char)('a' + i % 26);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        uint8_t *lp = ember__lp_new(&mem, 0);
        lp = ember__lp_append(&mem, lp, data, len);
        assert_non_null(lp);
        size_t hl = len < 64 ? 1 : len < 4096 ? 2 : 5;
        size_t e = hl + len;
        /* Redis's limits: 127, then 16382, 2097150, 268435454 */
        size_t bl = e <= 127 ? 1 : e < 16383 ? 2 : e < 2097151 ? 3 : 4;
        if (e == 16383) {
            const uint8_t want[] = {0x00, 0xFF, 0xFF};
            assert_memory_equal(lp + 6 + e, want, 3);
        }
        if (e == 16382) {
            const uint8_t want[] = {0x7F, 0xFE};
            assert_memory_equal(lp + 6 + e, want, 2);
        }
        if (e == 2097150) {
            const uint8_t want[] = {0x7F, 0xFF, 0xFE};
            assert_memory_equal(lp + 6 + e, want, 3);
        }
        if (e == 2097151) {
            const uint8_t want[] = {0x00, 0xFF, 0xFF, 0xFF};
            assert_memory_equal(lp + 6 + e, want, 4);
        }
        assert_int_equal(ember__lp_bytes(lp), 7 + e + bl);
        uint8_t *p = lp + 6;
        if (len < 64) {
            assert_int_equal(p[0], 0x80 | len);
        } else if (len < 4096) {
            assert_int_equal(p[0], 0xE0 | (len >> 8));
            assert_int_equal(p[1], len & 0xFF);
        } else {
            assert_int_equal(p[0], 0xF0);
            assert_int_equal(p[1] | p[2] << 8 | p[3] << 16 | (uint32_t)p[4] << 24, len);
        }
        /* back-length: most significant 7-bit group first, high bit set on all but
         * the first byte. */
        uint64_t got = 0;
        for (size_t j = 0; j < bl; j++) {
            uint8_t b = p[e + j];
            assert_int_equal(!!(b & 0x80), j > 0);
            got = got << 7 | (b & 127);
        }
        assert_int_equal(got, e);
        int64_t v;
        uint32_t gl;
        const uint8_t *s = ember__lp_get(p, &v, &gl, NULL);
        assert_ptr_equal(s, p + hl);
        assert_int_equal(gl, len);
        assert_false(ember__lp_is_int(p));
        assert_false(ember__lp_get_int(p, &v));
        assert_true(ember__lp_eq(p, data, len));
        if (len)
            assert_false(ember__lp_eq(p, data, len - 1));
        check_walk(lp);
        /* between two small neighbours too */
        lp = ember__lp_prepend(&mem, lp, "h", 1);
        lp = append_int(lp, -5);
        check_walk(lp);
        p = ember__lp_seek(lp, 1);
        assert_true(ember__lp_eq(p, data, len));
        assert_ptr_equal(ember__lp_prev(lp, ember__lp_seek(lp, 2)), p);
        ember__lp_free(&mem, lp);
    }
    free(data);
}

static void test_exact_bytes_mixed(void **state)
{
    (void)state;
    uint8_t *lp = ember__lp_new(&mem, 0);
    lp = append_str(lp, "a");
    lp = append_int(lp, 1);
    char s200[200];
    memset(s200, 'z', sizeof s200);
    lp = ember__lp_append(&mem, lp, s200, sizeof s200);
    size_t n = ember__lp_bytes(lp);
    assert_int_equal(n, 6 + 3 + 2 + 204 + 1);
    const uint8_t head[] = {(uint8_t)n, 0, 0, 0, 3, 0, 0x81, 'a', 2, 0x01, 0x01, 0xE0, 200};
    assert_memory_equal(lp, head, sizeof head);
    /* 202 = 1 * 128 + 74: written 0x01, 0x80|74 */
    assert_int_equal(lp[n - 3], 0x01);
    assert_int_equal(lp[n - 2], 0x80 | 74);
    assert_int_equal(lp[n - 1], 0xFF);
    ember__lp_free(&mem, lp);
}

static void test_non_canonical_strings(void **state)
{
    (void)state;
    static const char *strs[] = {"007",
                                 "-0",
                                 "+1",
                                 " 1",
                                 "1 ",
                                 "00",
                                 "-",
                                 "",
                                 "1a",
                                 "0x10",
                                 "1e3",
                                 "9223372036854775808",
                                 "-9223372036854775809",
                                 "99999999999999999999",
                                 "123456789012345678901"};
    static const char *ints[] = {"0", "-1", "9223372036854775807", "-9223372036854775808", "10"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        uint8_t *lp = ember__lp_new(&mem, 0);
        lp = append_str(lp, strs[i]);
        uint8_t *p = ember__lp_first(lp);
        assert_false(ember__lp_is_int(p));
        assert_true(ember__lp_eq(p, strs[i], strlen(strs[i])));
        assert_elem(p, strs[i]);
        assert_false(ember__lp_eq_int(p, 7));
        ember__lp_free(&mem, lp);
    }
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        uint8_t *lp = ember__lp_new(&mem, 0);
        lp = append_str(lp, ints[i]);
        uint8_t *p = ember__lp_first(lp);
        assert_true(ember__lp_is_int(p));
        assert_elem(p, ints[i]);
        assert_true(ember__lp_eq(p, ints[i], strlen(ints[i])));
        ember__lp_free(&mem, lp);
    }
    /* an int entry never equals non-canonical text of the same number */
    uint8_t *lp = append_int(ember__lp_new(&mem, 0), 7);
    assert_false(ember__lp_eq(ember__lp_first(lp), "007", 3));
    assert_false(ember__lp_eq(ember__lp_first(lp), "+7", 2));
    assert_false(ember__lp_eq(ember__lp_first(lp), "", 0));
    ember__lp_free(&mem, lp);
}

/* ---- structure ---- */

static uint8_t *build_abc(void)
{
    uint8_t *lp = ember__lp_new(&mem, 0);
    lp = append_str(lp, "b");
    lp = ember__lp_prepend(&mem, lp, "a", 1);
    lp = append_str(lp, "c");
    return lp;
}

static void assert_seq(uint8_t *lp, const char **want, size_t n)
{
    check_walk(lp);
    assert_int_equal(ember__lp_length(lp), n);
    uint8_t *p = ember__lp_first(lp);
    for (size_t i = 0; i < n; i++) {
        assert_elem(p, want[i]);
        p = ember__lp_next(lp, p);
    }
    assert_null(p);
}

static void test_insert_positions(void **state)
{
    (void)state;
    uint8_t *lp = build_abc(), *np = NULL;
    assert_seq(lp, (const char *[]){"a", "b", "c"}, 3);

    lp = ember__lp_insert(&mem, lp, "H", 1, ember__lp_first(lp), EM_LP_BEFORE, &np);
    assert_elem(np, "H");
    assert_seq(lp, (const char *[]){"H", "a", "b", "c"}, 4);
    lp = ember__lp_insert(&mem, lp, "1000", 4, ember__lp_first(lp), EM_LP_AFTER, &np);
    assert_elem(np, "1000");
    assert_seq(lp, (const char *[]){"H", "1000", "a", "b", "c"}, 5);
    lp = ember__lp_insert(&mem, lp, "M", 1, ember__lp_seek(lp, 3), EM_LP_BEFORE, &np);
    assert_ptr_equal(np, ember__lp_seek(lp, 3));
    assert_seq(lp, (const char *[]){"H", "1000", "a", "M", "b", "c"}, 6);
    lp = ember__lp_insert(&mem, lp, "T", 1, ember__lp_last(lp), EM_LP_AFTER, &np);
    assert_ptr_equal(np, ember__lp_last(lp));
    assert_seq(lp, (const char *[]){"H", "1000", "a", "M", "b", "c", "T"}, 7);
    lp = ember__lp_insert(&mem, lp, "U", 1, ember__lp_last(lp), EM_LP_BEFORE, &np);
    assert_seq(lp, (const char *[]){"H", "1000", "a", "M", "b", "c", "U", "T"}, 8);
    lp = ember__lp_insert(&mem, lp, "E", 1, NULL, EM_LP_BEFORE, &np);
    assert_ptr_equal(np, ember__lp_last(lp));
    /* the terminator as position: append */
    lp = ember__lp_insert(&mem, lp, "F", 1, lp + ember__lp_bytes(lp) - 1, EM_LP_BEFORE, NULL);
    assert_seq(lp, (const char *[]){"H", "1000", "a", "M", "b", "c", "U", "T", "E", "F"}, 10);

    /* replace at head, middle, tail, with bigger, smaller and equal sizes */
    char big[300];
    memset(big, 'q', sizeof big);
    lp = ember__lp_insert(&mem, lp, big, sizeof big, ember__lp_first(lp), EM_LP_REPLACE, &np);
    assert_ptr_equal(np, ember__lp_first(lp));
    assert_true(ember__lp_eq(np, big, sizeof big));
    lp = ember__lp_insert(&mem, lp, "h", 1, ember__lp_first(lp), EM_LP_REPLACE, &np);
    lp = ember__lp_insert_int(&mem, lp, -123456789, ember__lp_seek(lp, 4), EM_LP_REPLACE, &np);
    assert_ptr_equal(np, ember__lp_seek(lp, 4));
    lp = ember__lp_insert(&mem, lp, "z", 1, ember__lp_last(lp), EM_LP_REPLACE, &np);
    assert_ptr_equal(np, ember__lp_last(lp));
    lp = ember__lp_insert(&mem, lp, "y", 1, ember__lp_last(lp), EM_LP_REPLACE, &np);
    assert_seq(lp, (const char *[]){"h", "1000", "a", "M", "-123456789", "c", "U", "T", "E", "y"},
               10);
    ember__lp_free(&mem, lp);
}

static void test_insert_from_self(void **state)
{
    (void)state;
    uint8_t *lp = ember__lp_new(&mem, 0);
    char s[100];
    memset(s, 'k', sizeof s);
    lp = ember__lp_append(&mem, lp, s, sizeof s);
    lp = append_str(lp, "tail-element");
    for (int i = 0; i < 20; i++) {
        /* move the last element to the head, as LMOVE list list RIGHT LEFT does */
        uint8_t *last = ember__lp_last(lp);
        uint32_t len;
        int64_t v;
        const uint8_t *d = ember__lp_get(last, &v, &len, NULL);
        lp = ember__lp_insert(&mem, lp, d, len, ember__lp_first(lp), EM_LP_BEFORE, NULL);
        assert_non_null(lp);
        lp = ember__lp_delete(&mem, lp, ember__lp_last(lp), NULL);
        check_walk(lp);
    }
    assert_true(ember__lp_eq(ember__lp_first(lp), s, sizeof s));
    assert_elem(ember__lp_last(lp), "tail-element");
    /* replace an element by itself */
    uint8_t *p = ember__lp_first(lp);
    uint32_t len;
    int64_t v;
    const uint8_t *d = ember__lp_get(p, &v, &len, NULL);
    lp = ember__lp_insert(&mem, lp, d, len, p, EM_LP_REPLACE, NULL);
    assert_true(ember__lp_eq(ember__lp_first(lp), s, sizeof s));
    check_walk(lp);
    ember__lp_free(&mem, lp);
}

static uint8_t *build_n(int n)
{
    uint8_t *lp = ember__lp_new(&mem, 0);
    for (int i = 0; i < n; i++) {
        char b[16];
        snprintf(b, sizeof b, "e%d", i);
        lp = append_str(lp, b);
    }
    return lp;
}

static void test_delete(void **state)
{
    (void)state;
    uint8_t *lp = build_n(5), *nx;
    lp = ember__lp_delete(&mem, lp, ember__lp_first(lp), &nx);
    assert_elem(nx, "e1");
    assert_ptr_equal(nx, ember__lp_first(lp));
    lp = ember__lp_delete(&mem, lp, ember__lp_seek(lp, 1), &nx);
    assert_elem(nx, "e3");
    lp = ember__lp_delete(&mem, lp, ember__lp_last(lp), &nx);
    assert_null(nx);
    assert_seq(lp, (const char *[]){"e1", "e3"}, 2);
    lp = ember__lp_delete(&mem, lp, ember__lp_first(lp), NULL);
    lp = ember__lp_delete(&mem, lp, ember__lp_first(lp), &nx);
    assert_null(nx);
    assert_int_equal(ember__lp_length(lp), 0);
    assert_int_equal(ember__lp_bytes(lp), 7);
    ember__lp_free(&mem, lp);
}

static void test_delete_range(void **state)
{
    (void)state;
    uint8_t *lp = build_n(10);
    lp = ember__lp_delete_range(&mem, lp, 0, 2); /* e2..e9 */
    assert_seq(lp, (const char *[]){"e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"}, 8);
    lp = ember__lp_delete_range(&mem, lp, -2, 5); /* clipped: e2..e7 */
    assert_seq(lp, (const char *[]){"e2", "e3", "e4", "e5", "e6", "e7"}, 6);
    lp = ember__lp_delete_range(&mem, lp, 2, 2); /* e2 e3 e6 e7 */
    assert_seq(lp, (const char *[]){"e2", "e3", "e6", "e7"}, 4);
    lp = ember__lp_delete_range(&mem, lp, 4, 1); /* out of range: no-op */
    lp = ember__lp_delete_range(&mem, lp, -5, 1);
    lp = ember__lp_delete_range(&mem, lp, 1, 0);
    assert_seq(lp, (const char *[]){"e2", "e3", "e6", "e7"}, 4);
    lp = ember__lp_delete_range(&mem, lp, -4, 1);
    assert_seq(lp, (const char *[]){"e3", "e6", "e7"}, 3);
    lp = ember__lp_delete_range(&mem, lp, 0, UINT32_MAX);
    assert_seq(lp, NULL, 0);
    assert_int_equal(ember__lp_bytes(lp), 7);
    ember__lp_free(&mem, lp);
}

static void test_seek(void **state)
{
    (void)state;
    uint8_t *lp = build_n(9);
    for (int i = 0; i < 9; i++) {
        char b[16];
        snprintf(b, sizeof b, "e%d", i);
        assert_elem(ember__lp_seek(lp, i), b);
        assert_ptr_equal(ember__lp_seek(lp, i), ember__lp_seek(lp, i - 9));
    }
    assert_null(ember__lp_seek(lp, 9));
    assert_null(ember__lp_seek(lp, -10));
    assert_null(ember__lp_seek(lp, INT64_MAX));
    assert_null(ember__lp_seek(lp, INT64_MIN));
    assert_ptr_equal(ember__lp_seek(lp, -1), ember__lp_last(lp));
    assert_ptr_equal(ember__lp_seek(lp, 0), ember__lp_first(lp));
    ember__lp_free(&mem, lp);
}

/* Every encoding in one buffer, walked both ways. */
static const char *every_encoding[] = {"0",
                                       "127",
                                       "128",
                                       "-1",
                                       "4095",
                                       "-4096",
                                       "4096",
                                       "-4097",
                                       "32767",
                                       "-32768",
                                       "32768",
                                       "8388607",
                                       "-8388608",
                                       "8388608",
                                       "2147483647",
                                       "-2147483648",
                                       "2147483648",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "",
                                       "s",
                                       "007",
                                       NULL,
                                       NULL,
                                       NULL};

/* Appends strings of every string encoding; small: keep them short (the 32-bit
 * length form then holds 4096 bytes only when not small). */
static uint8_t *build_every_sized(char **big, int small)
{
    uint8_t *lp = ember__lp_new(&mem, 0);
    size_t n = 0;
    while (every_encoding[n])
        lp = append_str(lp, every_encoding[n++]);
    static const size_t full[] = {63, 64, 4095, 4096, 70000};
    static const size_t little[] = {63, 64, 130, 1, 0};
    const size_t *lens = small ? little : full;
    for (size_t i = 0; i < 5; i++) {
        big[i] = malloc(lens[i] + 1);
        memset(big[i], 'A' + (int)i, lens[i]);
        big[i][lens[i]] = 0;
        lp = append_str(lp, big[i]);
    }
    return lp;
}

static uint8_t *build_every(char **big)
{
    return build_every_sized(big, 0);
}

static void test_walk_every_encoding(void **state)
{
    (void)state;
    char *big[5];
    uint8_t *lp = build_every(big);
    size_t n = 0;
    while (every_encoding[n])
        n++;
    const char *want[64];
    for (size_t i = 0; i < n; i++)
        want[i] = every_encoding[i];
    for (size_t i = 0; i < 5; i++)
        want[n + i] = big[i];
    size_t total = n + 5;
    uint8_t *p = ember__lp_first(lp);
    for (size_t i = 0; i < total; i++, p = ember__lp_next(lp, p))
        assert_true(ember__lp_eq(p, want[i], strlen(want[i])));
    assert_null(p);
    p = ember__lp_last(lp);
    for (size_t i = total; i-- > 0; p = ember__lp_prev(lp, p))
        assert_true(ember__lp_eq(p, want[i], strlen(want[i])));
    assert_null(p);
    check_walk(lp);
    for (size_t i = 0; i < total; i++)
        assert_ptr_equal(ember__lp_find(lp, ember__lp_first(lp), want[i], strlen(want[i]), 0),
                         ember__lp_seek(lp, (int64_t)i));
    uint8_t *d = ember__lp_dup(&mem, lp);
    assert_non_null(d);
    assert_ptr_not_equal(d, lp);
    assert_int_equal(ember__lp_bytes(d), ember__lp_bytes(lp));
    assert_memory_equal(d, lp, ember__lp_bytes(lp));
    ember__lp_free(&mem, d);
    ember__lp_free(&mem, lp);
    for (size_t i = 0; i < 5; i++)
        free(big[i]);
}

static void test_find_skip(void **state)
{
    (void)state;
    /* field/value pairs where values collide with field names */
    uint8_t *lp = ember__lp_new(&mem, 0);
    const char *kv[] = {"name", "age", "age", "42", "42", "name", "city", "", "", "x"};
    for (size_t i = 0; i < 10; i++)
        lp = append_str(lp, kv[i]);
    uint8_t *f = ember__lp_first(lp);
    assert_ptr_equal(ember__lp_find(lp, f, "name", 4, 1), ember__lp_seek(lp, 0));
    assert_ptr_equal(ember__lp_find(lp, f, "age", 3, 1), ember__lp_seek(lp, 2));
    assert_ptr_equal(ember__lp_find(lp, f, "42", 2, 1), ember__lp_seek(lp, 4));
    assert_ptr_equal(ember__lp_find(lp, f, "", 0, 1), ember__lp_seek(lp, 8));
    assert_null(ember__lp_find(lp, f, "x", 1, 1));
    assert_null(ember__lp_find(lp, f, "042", 3, 1));
    assert_ptr_equal(ember__lp_find(lp, f, "x", 1, 0), ember__lp_seek(lp, 9));
    /* values: start at the first value */
    assert_ptr_equal(ember__lp_find(lp, ember__lp_seek(lp, 1), "name", 4, 1),
                     ember__lp_seek(lp, 5));
    assert_ptr_equal(ember__lp_find(lp, ember__lp_seek(lp, 1), "x", 1, 1), ember__lp_seek(lp, 9));
    /* odd count with skip running off the end */
    lp = append_str(lp, "last");
    assert_null(ember__lp_find(lp, ember__lp_first(lp), "nothere", 7, 1));
    assert_null(ember__lp_find(lp, ember__lp_first(lp), "nothere", 7, 3));
    assert_null(ember__lp_find(lp, NULL, "x", 1, 0));
    ember__lp_free(&mem, lp);
}

static void test_count_unknown(void **state)
{
    (void)state;
    uint8_t *lp = ember__lp_new(&mem, 0);
    for (int i = 0; i < 65534; i++)
        lp = append_int(lp, i % 100);
    assert_int_equal(lp[4] | lp[5] << 8, 65534);
    assert_int_equal(ember__lp_length(lp), 65534);
    lp = append_int(lp, 1);
    assert_int_equal(lp[4] | lp[5] << 8, 65535);
    lp = append_int(lp, 2);
    assert_int_equal(lp[4] | lp[5] << 8, 65535);
    assert_int_equal(ember__lp_length(lp), 65536);
    assert_true(ember__lp_validate(lp, ember__lp_bytes(lp)));
    assert_elem(ember__lp_seek(lp, -1), "2");
    assert_elem(ember__lp_seek(lp, 65535), "2");
    lp = ember__lp_delete_range(&mem, lp, 0, 10);
    assert_int_equal(ember__lp_length(lp), 65526);
    assert_true(ember__lp_validate(lp, ember__lp_bytes(lp)));
    ember__lp_free(&mem, lp);
}

/* ---- randomized against a model ---- */

typedef struct {
    char *s;
    size_t len;
} mstr;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t random_elem(char *buf)
{
    switch (rnd() % 8) {
    case 0: {
        static const int64_t edges[] = {
            0,      127,     128,      -4096,     4095,      4096,      -4097,     32767,
            -32768, 8388607, -8388608, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, -1};
        return (size_t)sprintf(buf, "%lld", (long long)edges[rnd() % 16]);
    }
    case 1:
        return (size_t)sprintf(buf, "%lld", (long long)(int64_t)rnd());
    case 2:
        return (size_t)sprintf(buf, "%d", (int)(rnd() % 20000) - 10000);
    case 3: {
        static const char *odd[] = {"007", "-0", "+1", " 1", "", "0", "-"};
        const char *s = odd[rnd() % 7];
        strcpy(buf, s);
        return strlen(s);
    }
    case 4: {
        size_t n = rnd() % 5 == 0 ? 4090 + rnd() % 10 : 60 + rnd() % 10;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)rnd();
        return n;
    }
    default: {
        size_t n = rnd() % 20;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + rnd() % 26);
        return n;
    }
    }
}

static void model_check(uint8_t *lp, mstr *model, size_t n)
{
    assert_int_equal(ember__lp_length(lp), n);
    uint8_t *p = ember__lp_first(lp);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(p);
        assert_true(ember__lp_eq(p, model[i].s, model[i].len));
        p = ember__lp_next(lp, p);
    }
    assert_null(p);
    check_walk(lp);
}

static void test_random_model(void **state)
{
    (void)state;
    enum { CAP = 400, OPS = 20000 };
    mstr *model = calloc(CAP + 10, sizeof *model);
    size_t n = 0;
    char *buf = malloc(5000);
    uint8_t *lp = ember__lp_new(&mem, 0);
    for (int op = 0; op < OPS; op++) {
        unsigned kind = (unsigned)(rnd() % 10);
        if (n >= CAP)
            kind = 7;
        if (kind <= 4 || n == 0) {
            size_t len = random_elem(buf);
            size_t at = n ? (size_t)(rnd() % (n + 1)) : 0;
            uint8_t *np;
            int where = EM_LP_BEFORE;
            uint8_t *p;
            size_t idx = at;
            if (at == n) {
                if (n && rnd() % 2) {
                    p = ember__lp_last(lp);
                    where = EM_LP_AFTER;
                } else {
                    p = NULL;
                }
            } else if (at > 0 && rnd() % 2) {
                p = ember__lp_seek(lp, (int64_t)at - 1);
                where = EM_LP_AFTER;
            } else {
                p = ember__lp_seek(lp, (int64_t)at);
            }
            lp = ember__lp_insert(&mem, lp, buf, len, p, where, &np);
            assert_non_null(lp);
            assert_ptr_equal(np, ember__lp_seek(lp, (int64_t)idx));
            memmove(model + idx + 1, model + idx, (n - idx) * sizeof *model);
            model[idx].s = malloc(len + 1);
            memcpy(model[idx].s, buf, len);
            model[idx].len = len;
            n++;
        } else if (kind == 5) {
            size_t len = random_elem(buf);
            size_t idx = (size_t)(rnd() % n);
            uint8_t *np;
            lp = ember__lp_insert(&mem, lp, buf, len, ember__lp_seek(lp, -(int64_t)(n - idx)),
                                  EM_LP_REPLACE, &np);
            assert_ptr_equal(np, ember__lp_seek(lp, (int64_t)idx));
            free(model[idx].s);
            model[idx].s = malloc(len + 1);
            memcpy(model[idx].s, buf, len);
            model[idx].len = len;
        } else if (kind == 6) {
            size_t idx = (size_t)(rnd() % n);
            uint8_t *nx;
            lp = ember__lp_delete(&mem, lp, ember__lp_seek(lp, (int64_t)idx), &nx);
            assert_ptr_equal(nx, ember__lp_seek(lp, (int64_t)idx));
            free(model[idx].s);
            memmove(model + idx, model + idx + 1, (n - idx - 1) * sizeof *model);
            n--;
        } else if (kind == 7) {
            size_t idx = (size_t)(rnd() % n);
            uint32_t cnt = (uint32_t)(rnd() % 8);
            int64_t index = rnd() % 2 ? (int64_t)idx : (int64_t)idx - (int64_t)n;
            lp = ember__lp_delete_range(&mem, lp, index, cnt);
            size_t del = cnt < n - idx ? cnt : n - idx;
            for (size_t i = idx; i < idx + del; i++)
                free(model[i].s);
            memmove(model + idx, model + idx + del, (n - idx - del) * sizeof *model);
            n -= del;
        } else {
            /* find: an element that exists is found at its first occurrence */
            size_t idx = (size_t)(rnd() % n);
            uint8_t *f = ember__lp_find(lp, ember__lp_first(lp), model[idx].s, model[idx].len, 0);
            size_t first = 0;
            while (!(model[first].len == model[idx].len &&
                     memcmp(model[first].s, model[idx].s, model[idx].len) == 0))
                first++;
            assert_ptr_equal(f, ember__lp_seek(lp, (int64_t)first));
        }
        if (op % 97 == 0)
            model_check(lp, model, n);
    }
    model_check(lp, model, n);
    for (size_t i = 0; i < n; i++)
        free(model[i].s);
    free(model);
    free(buf);
    ember__lp_free(&mem, lp);
}

/* ---- validation ---- */

/* A validated buffer must be safe to walk and read in every direction. */
static void walk_validated(uint8_t *lp)
{
    uint32_t n = ember__lp_length(lp), i = 0;
    uint8_t ib[EM_LP_INTBUF];
    for (uint8_t *p = ember__lp_first(lp); p; p = ember__lp_next(lp, p), i++) {
        uint32_t len;
        int64_t v;
        const uint8_t *s = ember__lp_get(p, &v, &len, ib);
        volatile uint8_t sink = 0;
        for (uint32_t j = 0; j < len; j++)
            sink ^= s[j];
        (void)sink;
    }
    assert_int_equal(i, n);
    for (uint8_t *p = ember__lp_last(lp); p; p = ember__lp_prev(lp, p))
        i--;
    assert_int_equal(i, 0);
}

/* Copies into an exactly sized block so ASan sees any read past the end. */
static int validate_copy(const uint8_t *src, size_t n, uint8_t mutate_at, size_t at, int mutate)
{
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, src, n);
    if (mutate)
        b[at] = mutate_at;
    int ok = ember__lp_validate(b, n);
    if (ok)
        walk_validated(b);
    free(b);
    return ok;
}

static void test_validate_rejects(void **state)
{
    (void)state;
    char *big[5];
    uint8_t *lp = build_every(big);
    size_t n = ember__lp_bytes(lp);
    assert_true(validate_copy(lp, n, 0, 0, 0));
    size_t bad = 12345;
    assert_true(ember__lp_validate_at(lp, n, &bad));
    assert_int_equal(bad, 12345);

    /* sizes: too small, mismatch with the total bytes field */
    assert_false(ember__lp_validate(lp, 0));
    assert_false(ember__lp_validate(lp, 6));
    assert_false(ember__lp_validate(lp, n - 1));
    assert_false(ember__lp_validate_at(lp, n - 1, &bad));
    assert_int_equal(bad, 0);
    uint8_t *c = malloc(n + 1);
    memcpy(c, lp, n);
    c[n] = 0xFF;
    assert_false(ember__lp_validate(c, n + 1));
    c[0]++;
    assert_false(ember__lp_validate(c, n)); /* total bytes field says n + 1 */
    c[0]--;
    /* bad count */
    c[4]++;
    assert_false(ember__lp_validate_at(c, n, &bad));
    assert_int_equal(bad, 4);
    c[4] = 0xFF, c[5] = 0xFF; /* unknown count: accepted */
    assert_true(ember__lp_validate(c, n));
    memcpy(c, lp, n);
    /* missing terminator */
    c[n - 1] = 0xFE;
    assert_false(ember__lp_validate(c, n));
    memcpy(c, lp, n);
    /* bad back-length of the first entry ("0": 00 01) */
    c[7] = 2;
    assert_false(ember__lp_validate_at(c, n, &bad));
    assert_int_equal(bad, 7);
    memcpy(c, lp, n);
    /* unused encoding byte */
    c[6] = 0xF5;
    assert_false(ember__lp_validate_at(c, n, &bad));
    assert_int_equal(bad, 6);
    c[6] = 0xFF; /* terminator in the middle */
    assert_false(ember__lp_validate(c, n));
    free(c);

    /* a string length running past the end */
    uint8_t s1[] = {10, 0, 0, 0, 1, 0, 0x85, 'a', 2, 0xFF};
    assert_false(ember__lp_validate(s1, sizeof s1));
    uint8_t s2[] = {11, 0, 0, 0, 1, 0, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF};
    assert_false(ember__lp_validate(s2, sizeof s2));
    uint8_t s3[] = {9, 0, 0, 0, 1, 0, 0xE0, 0x05, 0xFF};
    assert_false(ember__lp_validate(s3, sizeof s3));
    uint8_t s4[] = {10, 0, 0, 0, 1, 0, 0xF4, 0x01, 0xFF, 0xFF};
    assert_false(ember__lp_validate(s4, sizeof s4));
    /* a non-shortest back-length (1 written in two bytes) */
    uint8_t s5[] = {10, 0, 0, 0, 1, 0, 0x01, 0x00, 0x81, 0xFF};
    assert_false(ember__lp_validate(s5, sizeof s5));
    uint8_t ok[] = {9, 0, 0, 0, 1, 0, 0x01, 0x01, 0xFF};
    assert_true(ember__lp_validate(ok, sizeof ok));

    ember__lp_free(&mem, lp);
    for (size_t i = 0; i < 5; i++)
        free(big[i]);
}

static const uint8_t mutation_vals[] = {0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xBF, 0xC0,
                                        0xDF, 0xE0, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFE, 0xFF};

static void mutate_at(const uint8_t *lp, size_t n, size_t at)
{
    for (size_t k = 0; k < sizeof mutation_vals; k++)
        (void)validate_copy(lp, n, mutation_vals[k], at, 1);
    (void)validate_copy(lp, n, (uint8_t)(lp[at] ^ 0x01), at, 1);
}

static void truncate_at(const uint8_t *lp, size_t len, uint8_t *t)
{
    assert_false(validate_copy(lp, len, 0, 0, 0));
    if (len < 7)
        return;
    /* truncated but with the header and terminator patched to match */
    memcpy(t, lp, len);
    t[0] = (uint8_t)len, t[1] = (uint8_t)(len >> 8), t[2] = (uint8_t)(len >> 16);
    t[3] = 0;
    (void)validate_copy(t, len, 0xFF, len - 1, 1);
    t[4] = t[5] = 0xFF;
    (void)validate_copy(t, len, 0xFF, len - 1, 1);
}

/* Every single-byte mutation and every truncation must be safe (ASan). */
static void test_validate_mutations(void **state)
{
    (void)state;
    char *big[5];
    uint8_t *lp = build_every_sized(big, 1);
    size_t n = ember__lp_bytes(lp);
    uint8_t *t = malloc(n);
    for (size_t at = 0; at < n; at++)
        mutate_at(lp, n, at);
    for (size_t len = 0; len < n; len++)
        truncate_at(lp, len, t);
    free(t);
    ember__lp_free(&mem, lp);
    for (size_t i = 0; i < 5; i++)
        free(big[i]);

    /* the big buffer: mutate and cut near every entry boundary (the bytes in
     * the middle of a long string are data and never parsed) */
    lp = build_every_sized(big, 0);
    n = ember__lp_bytes(lp);
    t = malloc(n);
    uint8_t *near = calloc(n, 1);
    for (size_t i = 0; i < 16 && i < n; i++)
        near[i] = near[n - 1 - i] = 1;
    for (uint8_t *p = ember__lp_first(lp); p; p = ember__lp_next(lp, p)) {
        size_t off = (size_t)(p - lp);
        for (size_t i = off >= 8 ? off - 8 : 0; i < off + 8 && i < n; i++)
            near[i] = 1;
    }
    for (size_t at = 0; at < n; at++) {
        if (!near[at])
            continue;
        mutate_at(lp, n, at);
        truncate_at(lp, at, t);
    }
    free(near);
    free(t);
    ember__lp_free(&mem, lp);
    for (size_t i = 0; i < 5; i++)
        free(big[i]);
}

static void test_validate_random_bytes(void **state)
{
    (void)state;
    uint8_t buf[64];
    int accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = 7 + rnd() % 40;
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)rnd();
        buf[0] = (uint8_t)n, buf[1] = buf[2] = buf[3] = 0;
        buf[n - 1] = 0xFF;
        if (rnd() % 2)
            buf[4] = buf[5] = 0xFF;
        accepted += validate_copy(buf, n, 0, 0, 0);
    }
    (void)accepted;
}

/* ---- allocation failure ---- */

static void test_oom(void **state)
{
    (void)state;
    fail_countdown = 0;
    assert_null(ember__lp_new(&mem, 0));
    fail_countdown = -1;
    uint8_t *lp = build_n(20);
    size_t n = ember__lp_bytes(lp);
    uint8_t *copy = malloc(n);
    memcpy(copy, lp, n);
    char big[5000];
    memset(big, 'b', sizeof big);
    fail_countdown = 0;
    assert_null(ember__lp_dup(&mem, lp));
    assert_null(ember__lp_append(&mem, lp, big, sizeof big));
    assert_null(ember__lp_prepend(&mem, lp, big, sizeof big));
    assert_null(
        ember__lp_insert(&mem, lp, big, sizeof big, ember__lp_seek(lp, 5), EM_LP_REPLACE, NULL));
    assert_null(
        ember__lp_insert(&mem, lp, big, sizeof big, ember__lp_seek(lp, 5), EM_LP_AFTER, NULL));
    /* from itself: the private copy fails first */
    uint32_t l;
    int64_t v;
    const uint8_t *d = ember__lp_get(ember__lp_seek(lp, 3), &v, &l, NULL);
    assert_null(ember__lp_insert(&mem, lp, d, l, NULL, EM_LP_BEFORE, NULL));
    assert_int_equal(ember__lp_bytes(lp), n);
    assert_memory_equal(lp, copy, n);
    /* shrinking never fails, even when the allocator refuses */
    lp = ember__lp_delete(&mem, lp, ember__lp_first(lp), NULL);
    assert_non_null(lp);
    lp = ember__lp_delete_range(&mem, lp, 0, 10);
    assert_non_null(lp);
    lp = ember__lp_insert(&mem, lp, "e1", 2, ember__lp_first(lp), EM_LP_REPLACE, NULL);
    assert_non_null(lp);
    fail_countdown = -1;
    assert_int_equal(ember__lp_length(lp), 9);
    check_walk(lp);
    free(copy);
    ember__lp_free(&mem, lp);
}

static void test_accounting(void **state)
{
    (void)state;
    size_t before = ember__mem_used(&mem);
    uint8_t *lp = build_n(100);
    assert_true(ember__mem_used(&mem) >= before + ember__lp_bytes(lp));
    lp = ember__lp_delete_range(&mem, lp, 0, 100);
    ember__lp_free(&mem, lp);
    assert_int_equal(ember__mem_used(&mem), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_str_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exact_bytes_mixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_canonical_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_from_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_every_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_skip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_random_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
