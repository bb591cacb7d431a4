/*
 * test_zset.c — the sorted-set value internals (lib/types/zset.h): the
 * skiplist against a sorted-array model over thousands of random inserts,
 * deletes and score updates (order, spans via every rank, ranges by score
 * and lex), the listpack layout's ordering and score storage, conversions
 * both ways, and allocation failures.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "keyspace/object.h"
#include "types/listpack.h"
#include "types/zset.h"

static em_mem mem;

static int setup(void **state)
{
    (void)state;
    em_alloc_hooks h;
    ember__alloc_default_hooks(&h);
    ember__mem_init(&mem, &h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(ember__mem_used(&mem), 0);
    return 0;
}

/* ------------------------------------------------------------ the model */

typedef struct mel {
    char m[16];
    size_t len;
    double s;
} mel;

static int mel_cmp(const void *a, const void *b)
{
    const mel *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return ember__zset_cmp(x->m, x->len, y->m, y->len);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Checks order, backward links, tail, every rank (spans) against model. */
static void check_against(em_zset *zs, mel *model, size_t n)
{
    qsort(model, n, sizeof *model, mel_cmp);
    assert_int_equal(zs->zsl.length, n);
    assert_int_equal(ember__dict_size(&zs->dict), n);
    em_zsl_node *x = zs->zsl.header->level[0].forward, *prev = NULL;
    for (size_t i = 0; i < n; i++, prev = x, x = x->level[0].forward) {
        assert_non_null(x);
        size_t l;
        const char *e = ember__zsl_ele(x, &l);
        assert_int_equal(l, model[i].len);
        assert_memory_equal(e, model[i].m, l);
        assert_true(x->score == model[i].s);
        assert_true(ember__obj_score(x->obj) == model[i].s);
        assert_ptr_equal(x->backward, prev);
        assert_int_equal(ember__zsl_rank(&zs->zsl, x->score, e, l), i + 1);
        assert_ptr_equal(ember__zsl_by_rank(&zs->zsl, i + 1), x);
    }
    assert_null(x);
    assert_ptr_equal(zs->zsl.tail, prev);
    /* Each level's spans add up to the rank of its last node. */
    for (int lv = 0; lv < zs->zsl.level; lv++) {
        size_t sum = 0;
        em_zsl_node *y = zs->zsl.header;
        while (y->level[lv].forward) {
            sum += y->level[lv].span;
            y = y->level[lv].forward;
        }
        if (y != zs->zsl.header) {
            size_t l;
            const char *e = ember__zsl_ele(y, &l);
            assert_int_equal(sum, ember__zsl_rank(&zs->zsl, y->score, e, l));
        }
    }
}

static size_t model_find(mel *model, size_t n, const char *m, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (model[i].len == len && !memcmp(model[i].m, m, len))
            return i;
    return n;
}

static void test_skiplist_random_ops(void **state)
{
    (void)state;
    em_zset *zs = ember__zset_new(&mem, 1234);
    assert_non_null(zs);
    enum { MAXN = 600, OPS = 6000 };
    mel *model = calloc(MAXN, sizeof *model);
    size_t n = 0;
    for (int op = 0; op < OPS; op++) {
        char m[16];
        int len = snprintf(m, sizeof m, "m%u", (unsigned)(rnd() % 800));
        size_t at = model_find(model, n, m, (size_t)len);
        double s = (double)(rnd() % 50) / 2; /* many ties: member order matters */
        int what = (int)(rnd() % 3);
        if (at == n && n < MAXN) {
            assert_int_equal(ember__zset_sl_add(&mem, zs, m, (size_t)len, s), 0);
            memcpy(model[n].m, m, (size_t)len);
            model[n].len = (size_t)len;
            model[n].s = s;
            n++;
        } else if (at < n && what == 0) {
            assert_int_equal(ember__zset_sl_del(&mem, zs, m, (size_t)len), 1);
            model[at] = model[--n];
        } else if (at < n) {
            ember__zsl_update_score(&zs->zsl, model[at].s, m, (size_t)len, s);
            model[at].s = s;
        }
        if (op % 500 == 0)
            check_against(zs, model, n);
    }
    check_against(zs, model, n);

    /* Ranges by score against the model. */
    for (int t = 0; t < 200; t++) {
        em_zrange r = {(double)(rnd() % 50) / 2, (double)(rnd() % 50) / 2, (int)(rnd() & 1),
                       (int)(rnd() & 1)};
        size_t first = 0, last = 0, rk1 = 0, rk2 = 0;
        int have = 0;
        for (size_t i = 0; i < n; i++) {
            if (ember__zrange_gte_min(model[i].s, &r) && ember__zrange_lte_max(model[i].s, &r)) {
                if (!have)
                    first = i;
                last = i;
                have = 1;
            }
        }
        em_zsl_node *a = ember__zsl_first_in_range(&zs->zsl, &r, &rk1);
        em_zsl_node *b = ember__zsl_last_in_range(&zs->zsl, &r, &rk2);
        if (!have) {
            assert_null(a);
            assert_null(b);
            continue;
        }
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(rk1, first + 1);
        assert_int_equal(rk2, last + 1);
    }
    ember__zset_free_body(&mem, zs, EM_ENC_SKIPLIST);
    free(model);
}

static void test_skiplist_lex_and_rank_delete(void **state)
{
    (void)state;
    em_zset *zs = ember__zset_new(&mem, 1);
    const char *names[] = {"a", "b", "bb", "c", "d", "e"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(ember__zset_sl_add(&mem, zs, names[i], strlen(names[i]), 0), 0);
    em_zlex r = {{"b", 1, 0}, {"d", 1, 0}, 0, 1}; /* [b (d */
    size_t rk;
    em_zsl_node *x = ember__zsl_first_in_lex(&zs->zsl, &r, &rk);
    assert_non_null(x);
    assert_int_equal(rk, 2);
    x = ember__zsl_last_in_lex(&zs->zsl, &r, &rk);
    assert_int_equal(rk, 4); /* c */
    em_zlex all = {{NULL, 0, -1}, {NULL, 0, 1}, 1, 1};
    x = ember__zsl_first_in_lex(&zs->zsl, &all, &rk);
    assert_int_equal(rk, 1);
    em_zlex none = {{NULL, 0, 1}, {NULL, 0, 1}, 1, 1}; /* + + */
    assert_null(ember__zsl_first_in_lex(&zs->zsl, &none, &rk));
    /* Delete ranks 2..4 (b, bb, c) with the dict kept in step by hand. */
    em_obj *gone[3];
    size_t ng = 0;
    for (size_t i = 2; i <= 4; i++)
        gone[ng++] = ember__zsl_by_rank(&zs->zsl, i)->obj;
    assert_int_equal(ember__zsl_delete_rank_range(&mem, &zs->zsl, 2, 4, NULL, NULL), 3);
    for (size_t i = 0; i < ng; i++) {
        size_t kl;
        const char *k = ember__obj_key(gone[i], &kl);
        em_dpos pos;
        assert_true(ember__dict_find(&zs->dict, k, kl, ember__dict_hash(&zs->dict, k, kl), &pos));
        ember__dict_unlink(&zs->dict, &pos);
        ember__mem_free(&mem, gone[i]);
    }
    assert_int_equal(zs->zsl.length, 3);
    size_t l;
    assert_memory_equal(ember__zsl_ele(ember__zsl_by_rank(&zs->zsl, 2), &l), "d", 1);
    ember__zset_free_body(&mem, zs, EM_ENC_SKIPLIST);
}

/* ------------------------------------------------------------ listpack */

static void test_listpack_order_and_scores(void **state)
{
    (void)state;
    uint8_t *lp = ember__lp_new(&mem, 0);
    struct {
        const char *m;
        double s;
    } in[] = {{"b", 1},         {"a", 1},    {"c", 0.5},  {"10", -0.0}, {"x", INFINITY},
              {"y", -INFINITY}, {"z", 1e17}, {"w", 5e18}, {"v", 0.1}};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_int_equal(ember__zlp_insert(&mem, &lp, in[i].m, strlen(in[i].m), in[i].s), 0);
    const char *order[] = {"y", "10", "v", "c", "a", "b", "z", "w", "x"};
    uint8_t *p = ember__lp_first(lp);
    for (size_t i = 0; i < 9; i++) {
        uint8_t buf[EM_LP_INTBUF];
        uint32_t l;
        const uint8_t *e = ember__lp_get(p, NULL, &l, buf);
        assert_int_equal(l, strlen(order[i]));
        assert_memory_equal(e, order[i], l);
        p = ember__lp_next(lp, p);
        double s = ember__zlp_score(p);
        if (i == 1) /* -0 is stored as the integer 0, as Redis's listpack does */
            assert_false(signbit(s));
        p = ember__lp_next(lp, p);
    }
    assert_null(p);
    /* Integral scores up to LLONG_MAX / 2 are listpack integers. */
    double s;
    uint8_t *z = ember__zlp_find(lp, "z", 1, &s);
    assert_true(s == 1e17);
    assert_true(ember__lp_is_int(ember__lp_next(lp, z)));
    uint8_t *w = ember__zlp_find(lp, "w", 1, &s);
    assert_true(s == 5e18);
    assert_false(ember__lp_is_int(ember__lp_next(lp, w)));
    assert_null(ember__zlp_find(lp, "nope", 4, &s));
    /* Conversions both ways keep everything. */
    em_zset *zs = ember__zset_from_listpack(&mem, lp, 9);
    assert_non_null(zs);
    assert_int_equal(zs->zsl.length, 9);
    uint8_t *back = ember__zset_to_listpack(&mem, zs);
    assert_int_equal(ember__lp_bytes(back), ember__lp_bytes(lp));
    assert_memory_equal(back, lp, ember__lp_bytes(lp));
    void *dup = ember__zset_dup_body(&mem, zs, EM_ENC_SKIPLIST);
    assert_int_equal(ember__zset_body_items(dup, EM_ENC_SKIPLIST), 9);
    assert_int_equal(ember__zset_body_items(lp, EM_ENC_LISTPACK), 9);
    ember__zset_free_body(&mem, dup, EM_ENC_SKIPLIST);
    ember__zset_free_body(&mem, zs, EM_ENC_SKIPLIST);
    ember__lp_free(&mem, back);
    /* Delete a pair. */
    p = ember__zlp_find(lp, "a", 1, NULL);
    lp = ember__zlp_delete(&mem, lp, p);
    assert_int_equal(ember__lp_length(lp), 16);
    ember__lp_free(&mem, lp);
}

/* ------------------------------------------------------------ OOM */

static int fail_after = -1;
static void *f_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return malloc(n);
}
static void *f_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(p, n);
}
static void f_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void test_oom(void **state)
{
    (void)state;
    em_alloc_hooks h;
    ember__alloc_default_hooks(&h);
    h.malloc_fn = f_malloc;
    h.realloc_fn = f_realloc;
    h.calloc_fn = NULL;
    h.free_fn = f_free;
    em_mem fm;
    ember__mem_init(&fm, &h);
    for (int k = 0; k < 40; k++) {
        fail_after = -1;
        em_zset *zs = ember__zset_new(&fm, 5);
        assert_non_null(zs);
        uint8_t *lp = ember__lp_new(&fm, 0);
        for (int i = 0; i < 20; i++) {
            char m[8];
            int l = snprintf(m, sizeof m, "k%d", i);
            assert_int_equal(ember__zset_sl_add(&fm, zs, m, (size_t)l, i), 0);
            assert_int_equal(ember__zlp_insert(&fm, &lp, m, (size_t)l, i), 0);
        }
        fail_after = k;
        int rc = ember__zset_sl_add(&fm, zs, "new", 3, 1.5);
        int rc2 = ember__zlp_insert(&fm, &lp, "new", 3, 1.5);
        em_zset *c = ember__zset_from_listpack(&fm, lp, 5);
        fail_after = -1;
        assert_int_equal(zs->zsl.length, rc == 0 ? 21 : 20);
        assert_int_equal(ember__dict_size(&zs->dict), zs->zsl.length);
        assert_int_equal(ember__lp_length(lp), rc2 == 0 ? 42 : 40);
        if (c)
            ember__zset_free_body(&fm, c, EM_ENC_SKIPLIST);
        ember__zset_free_body(&fm, zs, EM_ENC_SKIPLIST);
        ember__lp_free(&fm, lp);
        assert_int_equal(ember__mem_used(&fm), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_skiplist_random_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skiplist_lex_and_rank_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listpack_order_and_scores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
