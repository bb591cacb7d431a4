/*
 * test_quicklist.c — the list value's internals: node filling at the size
 * and count limits (Redis 7.0's rules), oversized elements in nodes of their
 * own, splitting on insert and replace, index walks from both ends, deletion
 * across node boundaries, copies, out-of-memory behaviour (nothing changes)
 * and a randomized run against a plain array model under several
 * list-max-listpack-size values. Every test ends with the accounting at zero.
 */
#include <malloc.h>
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
#include "types/quicklist.h"

/* ------------------------------------------------------------ allocator */

static long fail_after = -1; /* allocations left before failing; -1 never */

static void *t_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return malloc(n);
}
static void *t_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(p, n);
}
static void t_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static size_t t_usable(void *ctx, const void *p)
{
    (void)ctx;
    return malloc_usable_size((void *)p);
}

static em_mem mem;

static int setup(void **state)
{
    (void)state;
    em_alloc_hooks h = {t_malloc, t_realloc, NULL, t_free, t_usable, NULL};
    ember__mem_init(&mem, &h);
    fail_after = -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(ember__mem_used(&mem), 0);
    return 0;
}

/* ------------------------------------------------------------ helpers */

static void push_str(em_quicklist *ql, const char *s, int where)
{
    assert_int_equal(ember__ql_push(&mem, ql, s, strlen(s), where), 0);
}

/* Pushes n elements "e<i>" padded to size bytes at the tail. */
static void fill_list(em_quicklist *ql, int n, size_t size)
{
    char *buf = malloc(size + 32);
    for (int i = 0; i < n; i++) {
        int l = snprintf(buf, size + 32, "e%d", i);
        while ((size_t)l < size)
            buf[l++] = 'x';
        assert_int_equal(ember__ql_push(&mem, ql, buf, (size_t)l, EM_QL_TAIL), 0);
    }
    free(buf);
}

/* The element at index as a NUL-terminated string (static buffer). */
static const char *at(const em_quicklist *ql, int64_t index)
{
    static char out[70000];
    em_qlpos pos;
    if (!ember__ql_index(ql, index, &pos))
        return NULL;
    uint8_t ib[EM_LP_INTBUF];
    size_t len;
    const uint8_t *s = ember__ql_get(&pos, ib, &len);
    assert_true(len < sizeof out);
    memcpy(out, s, len);
    out[len] = 0;
    return out;
}

static size_t max_node_bytes(const em_quicklist *ql)
{
    size_t m = 0;
    for (const em_qlnode *n = ql->head; n; n = n->next)
        if (ember__lp_bytes(n->lp) > m)
            m = ember__lp_bytes(n->lp);
    return m;
}

/* ------------------------------------------------------------ filling */

static void test_size_limits(void **state)
{
    (void)state;
    static const int fills[] = {-1, -2, -3, -4, -5};
    static const size_t limits[] = {4096, 8192, 16384, 32768, 65536};
    for (size_t f = 0; f < 5; f++) {
        em_quicklist *ql = ember__ql_new(&mem, fills[f]);
        fill_list(ql, 3000, 50);
        assert_true(ember__ql_check(ql));
        assert_int_equal(ql->count, 3000);
        assert_true(max_node_bytes(ql) <= limits[f]);
        /* Nodes are filled: every node but the last is more than 3/4 full. */
        for (const em_qlnode *n = ql->head; n && n->next; n = n->next)
            assert_true(ember__lp_bytes(n->lp) > limits[f] - 60);
        ember__ql_free(&mem, ql);
    }
}

static void test_count_limits(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, 5);
    fill_list(ql, 23, 3);
    assert_int_equal(ql->len, 5);
    for (const em_qlnode *n = ql->head; n; n = n->next)
        assert_int_equal(n->count, n->next ? 5 : 3);
    ember__ql_free(&mem, ql);

    /* A count limit is still capped at 8 KB per node (the safety limit). */
    ql = ember__ql_new(&mem, 1000);
    fill_list(ql, 100, 500);
    assert_true(max_node_bytes(ql) <= EM_QL_SAFETY_LIMIT);
    assert_true(ql->len >= 100 * 500 / EM_QL_SAFETY_LIMIT);
    ember__ql_free(&mem, ql);

    /* Fill values out of Redis's range are clamped. */
    ql = ember__ql_new(&mem, -100);
    assert_int_equal(ql->fill, -5);
    ember__ql_free(&mem, ql);
    ql = ember__ql_new(&mem, 1000000);
    assert_int_equal(ql->fill, EM_QL_FILL_MAX);
    ember__ql_free(&mem, ql);
}

static void test_big_elements(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, -2);
    push_str(ql, "small", EM_QL_TAIL);
    char *big = malloc(9001);
    memset(big, 'b', 9000);
    big[9000] = 0;
    push_str(ql, big, EM_QL_TAIL); /* larger than any node: a node of its own */
    assert_int_equal(ql->len, 2);
    push_str(ql, "after", EM_QL_TAIL);
    assert_int_equal(ql->len, 3);
    push_str(ql, big, EM_QL_HEAD);
    assert_int_equal(ql->len, 4);
    assert_string_equal(at(ql, 0), big);
    assert_string_equal(at(ql, 1), "small");
    assert_string_equal(at(ql, 2), big);
    assert_string_equal(at(ql, -1), "after");
    assert_true(ember__ql_check(ql));
    /* With the 64 KB limit a 9000-byte element shares a node. */
    em_quicklist *q5 = ember__ql_new(&mem, -5);
    push_str(q5, "small", EM_QL_TAIL);
    push_str(q5, big, EM_QL_TAIL);
    push_str(q5, "after", EM_QL_TAIL);
    assert_int_equal(q5->len, 1);
    ember__ql_free(&mem, q5);
    free(big);
    ember__ql_free(&mem, ql);
}

/* ------------------------------------------------------------ index walks */

static void test_index_both_ends(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, 7);
    fill_list(ql, 1000, 1);
    char want[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(want, sizeof want, "e%d", i);
        assert_string_equal(at(ql, i), want);
        assert_string_equal(at(ql, i - 1000), want);
    }
    assert_null(at(ql, 1000));
    assert_null(at(ql, -1001));
    assert_null(at(ql, INT64_MIN));
    assert_null(at(ql, INT64_MAX));
    /* next/prev cross node boundaries. */
    em_qlpos pos;
    assert_true(ember__ql_index(ql, 6, &pos));
    assert_int_equal(pos.off, 6);
    assert_true(ember__ql_next(&pos));
    assert_int_equal(pos.off, 0);
    assert_true(pos.node == ql->head->next);
    assert_true(ember__ql_prev(&pos));
    assert_true(pos.node == ql->head);
    assert_true(ember__ql_index(ql, -1, &pos));
    assert_false(ember__ql_next(&pos));
    assert_true(ember__ql_index(ql, 0, &pos));
    assert_false(ember__ql_prev(&pos));
    ember__ql_free(&mem, ql);
}

/* ------------------------------------------------------------ edits */

static void test_insert_boundaries(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, 4);
    fill_list(ql, 12, 1); /* three full nodes of 4 */
    assert_int_equal(ql->len, 3);
    em_qlpos pos;
    /* After the last element of a full node whose successor is full too: a
     * new node between them. */
    assert_true(ember__ql_index(ql, 3, &pos));
    assert_int_equal(ember__ql_insert(&mem, ql, &pos, "A", 1, 1), 0);
    assert_string_equal(at(ql, 4), "A");
    assert_int_equal(ql->len, 4);
    /* Before the first element of the node after "A": joins A's node. */
    assert_true(ember__ql_index(ql, 5, &pos));
    assert_int_equal(ember__ql_insert(&mem, ql, &pos, "B", 1, 0), 0);
    assert_string_equal(at(ql, 5), "B");
    assert_string_equal(at(ql, 6), "e4");
    assert_int_equal(ql->len, 4);
    /* In the middle of a full node: it splits. */
    assert_true(ember__ql_index(ql, 1, &pos));
    assert_int_equal(ember__ql_insert(&mem, ql, &pos, "C", 1, 1), 0);
    assert_string_equal(at(ql, 2), "C");
    assert_string_equal(at(ql, 3), "e2");
    assert_true(ember__ql_check(ql));
    for (const em_qlnode *n = ql->head; n; n = n->next)
        assert_true(n->count <= 4);
    /* Head and tail. */
    assert_true(ember__ql_index(ql, 0, &pos));
    assert_int_equal(ember__ql_insert(&mem, ql, &pos, "H", 1, 0), 0);
    assert_true(ember__ql_index(ql, -1, &pos));
    assert_int_equal(ember__ql_insert(&mem, ql, &pos, "T", 1, 1), 0);
    assert_string_equal(at(ql, 0), "H");
    assert_string_equal(at(ql, -1), "T");
    assert_int_equal(ql->count, 17);
    assert_true(ember__ql_check(ql));
    ember__ql_free(&mem, ql);
}

static void test_delete_boundaries(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, 3);
    fill_list(ql, 9, 1);
    em_qlpos pos;
    /* Deleting forward from the last element of a node moves to the next. */
    assert_true(ember__ql_index(ql, 2, &pos));
    assert_int_equal(ember__ql_delete(&mem, ql, &pos, 1), 1);
    assert_true(pos.node == ql->head->next && pos.off == 0);
    /* Backward from the first element of a node moves to the previous. */
    assert_int_equal(ember__ql_delete(&mem, ql, &pos, 0), 1);
    assert_string_equal(at(ql, 1), "e1");
    assert_int_equal(pos.off, 1);
    /* Emptying a node removes it. */
    assert_true(ember__ql_index(ql, 2, &pos));
    assert_int_equal(ember__ql_delete(&mem, ql, &pos, 1), 1);
    assert_true(ember__ql_check(ql));
    assert_int_equal(ql->count, 6);
    /* del_range across nodes, freeing whole ones. */
    ember__ql_del_range(&mem, ql, 1, 4);
    assert_int_equal(ql->count, 2);
    assert_string_equal(at(ql, 0), "e0");
    assert_string_equal(at(ql, 1), "e8");
    assert_true(ember__ql_check(ql));
    ember__ql_del_range(&mem, ql, 0, 100);
    assert_int_equal(ql->count, 0);
    assert_null(ql->head);
    assert_true(ember__ql_check(ql));
    ember__ql_free(&mem, ql);
}

static void test_replace_splits(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, -1);
    fill_list(ql, 40, 20);
    assert_int_equal(ql->len, 1);
    char *big = malloc(6001);
    memset(big, 'z', 6000);
    big[6000] = 0;
    em_qlpos pos;
    assert_true(ember__ql_index(ql, 17, &pos));
    assert_int_equal(ember__ql_replace(&mem, ql, &pos, big, 6000), 0);
    assert_int_equal(ql->len, 3);
    assert_string_equal(at(ql, 17), big);
    assert_true(ember__ql_check(ql));
    assert_true(ember__ql_index(ql, 17, &pos));
    assert_int_equal(ember__ql_replace(&mem, ql, &pos, "s", 1), 0);
    assert_string_equal(at(ql, 17), "s");
    assert_int_equal(ql->count, 40);
    free(big);
    ember__ql_free(&mem, ql);
}

static void test_dup(void **state)
{
    (void)state;
    em_quicklist *ql = ember__ql_new(&mem, 2);
    fill_list(ql, 11, 4);
    push_str(ql, "12345", EM_QL_TAIL); /* stored as an integer */
    em_quicklist *d = ember__ql_dup(&mem, ql);
    assert_non_null(d);
    assert_true(ember__ql_check(d));
    assert_int_equal(d->count, ql->count);
    assert_int_equal(d->len, ql->len);
    assert_int_equal(d->fill, 2);
    for (int i = 0; i < 12; i++) {
        char a[64];
        strcpy(a, at(ql, i));
        assert_string_equal(at(d, i), a);
    }
    ember__ql_free(&mem, ql);
    ember__ql_free(&mem, d);
}

/* ------------------------------------------------------------ OOM */

/* Copies the list's contents into a malloc'd array of strings. */
static char **snapshot(const em_quicklist *ql)
{
    char **v = calloc(ql->count + 1, sizeof *v);
    for (uint64_t i = 0; i < ql->count; i++)
        v[i] = strdup(at(ql, (int64_t)i));
    return v;
}

static void same_as(const em_quicklist *ql, char **v)
{
    uint64_t i = 0;
    for (; v[i]; i++)
        assert_string_equal(at(ql, (int64_t)i), v[i]);
    assert_int_equal(i, ql->count);
}

static void free_snapshot(char **v)
{
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

static void test_oom(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'q', sizeof big);
    for (long budget = 0; budget < 12; budget++) {
        em_quicklist *ql = ember__ql_new(&mem, 4);
        fill_list(ql, 10, 2);
        char **before = snapshot(ql);
        em_qlpos pos;
        fail_after = budget;
        int rc1 = ember__ql_push(&mem, ql, big, sizeof big, EM_QL_TAIL);
        fail_after = -1;
        if (rc1 < 0)
            same_as(ql, before);
        else
            ember__ql_del_range(&mem, ql, ql->count - 1, 1);
        /* Insert in the middle of a full node (split + new element). */
        assert_true(ember__ql_index(ql, 1, &pos));
        fail_after = budget;
        int rc2 = ember__ql_insert(&mem, ql, &pos, big, sizeof big, 1);
        fail_after = -1;
        assert_true(ember__ql_check(ql));
        if (rc2 < 0)
            same_as(ql, before);
        else
            assert_int_equal(ql->count, 11);
        fail_after = budget;
        em_quicklist *d = ember__ql_dup(&mem, ql);
        fail_after = -1;
        if (d)
            ember__ql_free(&mem, d);
        free_snapshot(before);
        ember__ql_free(&mem, ql);
    }
    fail_after = 0;
    assert_null(ember__ql_new(&mem, -2));
    fail_after = -1;
}

/* ------------------------------------------------------------ model */

typedef struct model {
    char **v;
    size_t *len;
    size_t n, cap;
} model;

static void model_insert(model *m, size_t i, const char *s, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        m->len = realloc(m->len, m->cap * sizeof *m->len);
    }
    memmove(m->v + i + 1, m->v + i, (m->n - i) * sizeof *m->v);
    memmove(m->len + i + 1, m->len + i, (m->n - i) * sizeof *m->len);
    m->v[i] = malloc(len + 1);
    memcpy(m->v[i], s, len);
    m->v[i][len] = 0;
    m->len[i] = len;
    m->n++;
}

static void model_delete(model *m, size_t i, size_t count)
{
    for (size_t k = i; k < i + count; k++)
        free(m->v[k]);
    memmove(m->v + i, m->v + i + count, (m->n - i - count) * sizeof *m->v);
    memmove(m->len + i, m->len + i + count, (m->n - i - count) * sizeof *m->len);
    m->n -= count;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A random element: mostly short strings, some integers, a few big ones. */
static size_t random_elem(char *buf)
{
    uint64_t r = rnd() % 100;
    if (r < 30)
        return (size_t)snprintf(buf, 32, "%lld", (long long)(rnd() % 2000000) - 1000000);
    size_t len = r < 97 ? rnd() % 40 : r < 99 ? 500 + rnd() % 3000 : 8000 + rnd() % 3000;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + rnd() % 26);
    return len;
}

static void check_equal(const em_quicklist *ql, const model *m)
{
    assert_true(ember__ql_check(ql));
    assert_int_equal(ql->count, m->n);
    em_qlpos pos;
    size_t i = 0;
    int valid = ember__ql_index(ql, 0, &pos);
    for (; valid; i++) {
        uint8_t ib[EM_LP_INTBUF];
        size_t len;
        const uint8_t *s = ember__ql_get(&pos, ib, &len);
        assert_int_equal(len, m->len[i]);
        assert_memory_equal(s, m->v[i], len);
        valid = ember__ql_next(&pos);
    }
    assert_int_equal(i, m->n);
}

static void test_random_model(void **state)
{
    (void)state;
    static const int fills[] = {-5, -2, -1, 1, 2, 3, 7, 128};
    char *buf = malloc(12000);
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        em_quicklist *ql = ember__ql_new(&mem, fills[f]);
        model m = {0};
        for (int op = 0; op < 4000; op++) {
            uint64_t r = rnd() % 100;
            size_t len;
            em_qlpos pos;
            if (r < 30 || m.n == 0) {
                len = random_elem(buf);
                int tail = (int)(rnd() & 1);
                assert_int_equal(ember__ql_push(&mem, ql, buf, len, tail), 0);
                model_insert(&m, tail ? m.n : 0, buf, len);
            } else if (r < 45) {
                size_t i = rnd() % m.n;
                int after = (int)(rnd() & 1);
                len = random_elem(buf);
                assert_true(ember__ql_index(ql, (int64_t)i, &pos));
                assert_int_equal(ember__ql_insert(&mem, ql, &pos, buf, len, after), 0);
                model_insert(&m, i + (size_t)after, buf, len);
            } else if (r < 60) {
                size_t i = rnd() % m.n;
                int forward = (int)(rnd() & 1);
                /* Negative indexes walk from the tail. */
                int64_t idx = (rnd() & 1) ? (int64_t)i : (int64_t)i - (int64_t)m.n;
                assert_true(ember__ql_index(ql, idx, &pos));
                int more = ember__ql_delete(&mem, ql, &pos, forward);
                model_delete(&m, i, 1);
                size_t next = forward ? i : i - 1;
                assert_int_equal(more, forward ? i < m.n : i > 0);
                if (more) {
                    uint8_t ib[EM_LP_INTBUF];
                    const uint8_t *s = ember__ql_get(&pos, ib, &len);
                    assert_int_equal(len, m.len[next]);
                    assert_memory_equal(s, m.v[next], len);
                }
            } else if (r < 72) {
                size_t i = rnd() % m.n;
                len = random_elem(buf);
                assert_true(ember__ql_index(ql, (int64_t)i, &pos));
                assert_int_equal(ember__ql_replace(&mem, ql, &pos, buf, len), 0);
                model_delete(&m, i, 1);
                model_insert(&m, i, buf, len);
            } else if (r < 73) {
                size_t i = rnd() % m.n, cnt = rnd() % 20;
                if (cnt > m.n - i)
                    cnt = m.n - i;
                ember__ql_del_range(&mem, ql, i, cnt);
                model_delete(&m, i, cnt);
            } else {
                size_t i = rnd() % m.n;
                int64_t idx = (rnd() & 1) ? (int64_t)i : (int64_t)i - (int64_t)m.n;
                assert_true(ember__ql_index(ql, idx, &pos));
                uint8_t ib[EM_LP_INTBUF];
                const uint8_t *s = ember__ql_get(&pos, ib, &len);
                assert_int_equal(len, m.len[i]);
                assert_memory_equal(s, m.v[i], len);
                assert_true(ember__ql_eq(&pos, m.v[i], m.len[i]));
            }
            if (op % 500 == 0)
                check_equal(ql, &m);
        }
        check_equal(ql, &m);
        assert_true(m.n > 300 && ql->len > 1);
        /* Node limits hold throughout (a node over them holds one element). */
        for (const em_qlnode *n = ql->head; n; n = n->next) {
            if (n->count > 1 && fills[f] > 0)
                assert_true(n->count <= (uint32_t)fills[f]);
        }
        ember__ql_free(&mem, ql);
        model_delete(&m, 0, m.n);
        free(m.v);
        free(m.len);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_elements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_both_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_splits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
