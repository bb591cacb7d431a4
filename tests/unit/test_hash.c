/*
 * test_hash.c — the hash value type below the commands (hash_type.h): the
 * listpack -> table conversion exactly at the entry and value thresholds,
 * lookups of every listpack element kind, a randomized run against a model,
 * HSCAN's cursor over a table that grows and shrinks between calls, COPY's
 * deep copy, exact memory accounting, and failing allocations at every step.
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

#include "common/hash.h"
#include "types/coll.h"
#include "types/hash_type.h"

static em_mem mem;

/* An allocator that fails once `fail_after` more allocations have been made
 * (-1: never). */
static long fail_after = -1;

static int should_fail(void)
{
    if (fail_after < 0)
        return 0;
    if (fail_after == 0)
        return 1;
    fail_after--;
    return 0;
}
static void *f_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : malloc(n);
}
static void *f_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : realloc(p, n);
}
static void *f_calloc(void *ctx, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : calloc(1, n);
}
static void f_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static size_t f_usable(void *ctx, const void *p)
{
    (void)ctx;
    return malloc_usable_size((void *)p);
}

static int setup(void **state)
{
    (void)state;
    em_alloc_hooks h = {f_malloc, f_realloc, f_calloc, f_free, f_usable, NULL};
    ember__mem_init(&mem, &h);
    fail_after = -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* Every test frees what it built: the accounting must be back at zero. */
    assert_int_equal(ember__mem_used(&mem), 0);
    return 0;
}

static em_hash_cfg cfg_of(int64_t entries, int64_t value)
{
    em_hash_cfg c = {entries, value, 12345};
    return c;
}

static em_obj *new_hash(void)
{
    em_obj *o = ember__hash_new(&mem, "h", 1, 0);
    assert_non_null(o);
    return o;
}

static int set_s(em_obj *o, const char *f, const char *v, const em_hash_cfg *cfg)
{
    return ember__hash_set(&mem, o, f, strlen(f), v, strlen(v), cfg);
}

/* Checks field f has value v. */
static void expect(em_obj *o, const char *f, size_t flen, const char *v, size_t vlen)
{
    em_hval got;
    assert_int_equal(ember__hash_get(o, f, flen, &got), 1);
    assert_int_equal(got.len, vlen);
    assert_memory_equal(got.ptr, v, vlen);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ------------------------------------------------------------ thresholds */

static void test_entry_threshold(void **state)
{
    (void)state;
    for (int64_t max = 0; max <= 9; max++) {
        em_hash_cfg cfg = cfg_of(max, 64);
        em_obj *o = new_hash();
        for (int64_t i = 0; i < max; i++) {
            char f[8];
            snprintf(f, sizeof f, "f%d", (int)i);
            assert_int_equal(set_s(o, f, "v", &cfg), 1);
            assert_int_equal(ember__obj_enc(o), EM_ENC_LISTPACK);
        }
        /* Updating an existing field at the limit does not convert. */
        if (max > 0) {
            assert_int_equal(set_s(o, "f0", "w", &cfg), 0);
            assert_int_equal(ember__obj_enc(o), EM_ENC_LISTPACK);
        }
        /* One more field does. */
        assert_int_equal(set_s(o, "new", "v", &cfg), 1);
        assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
        assert_int_equal(ember__hash_len(o), (size_t)max + 1);
        for (int64_t i = 0; i < max; i++) {
            char f[8];
            snprintf(f, sizeof f, "f%d", (int)i);
            expect(o, f, strlen(f), i == 0 ? "w" : "v", 1);
        }
        expect(o, "new", 3, "v", 1);
        /* Never back, even after deletes below the limit. */
        assert_int_equal(ember__hash_delete(&mem, o, "new", 3), 1);
        assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
        ember__obj_free(&mem, o);
    }
}

static void test_value_threshold(void **state)
{
    (void)state;
    em_hash_cfg cfg = cfg_of(128, 16);
    char *at = repeat('a', 16), *over = repeat('b', 17);
    /* value exactly at the limit stays, one byte more converts */
    em_obj *o = new_hash();
    assert_int_equal(set_s(o, "f", at, &cfg), 1);
    assert_int_equal(set_s(o, at, "v", &cfg), 1);
    assert_int_equal(ember__obj_enc(o), EM_ENC_LISTPACK);
    assert_int_equal(set_s(o, "g", over, &cfg), 1);
    assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
    expect(o, "f", 1, at, 16);
    expect(o, at, 16, "v", 1);
    expect(o, "g", 1, over, 17);
    ember__obj_free(&mem, o);
    /* a long field converts too */
    o = new_hash();
    assert_int_equal(set_s(o, over, "v", &cfg), 1);
    assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
    ember__obj_free(&mem, o);
    /* so does a long value written over an existing field */
    o = new_hash();
    assert_int_equal(set_s(o, "f", "v", &cfg), 1);
    assert_int_equal(set_s(o, "f", over, &cfg), 0);
    assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
    expect(o, "f", 1, over, 17);
    ember__obj_free(&mem, o);
    /* try_convert: any argument over the limit, before anything is written */
    o = new_hash();
    size_t lens[4] = {1, 16, 1, 16};
    assert_int_equal(ember__hash_try_convert(&mem, o, lens, 4, &cfg), 0);
    assert_int_equal(ember__obj_enc(o), EM_ENC_LISTPACK);
    lens[2] = 17;
    assert_int_equal(ember__hash_try_convert(&mem, o, lens, 4, &cfg), 0);
    assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
    assert_int_equal(ember__hash_len(o), 0);
    assert_int_equal(set_s(o, "x", "y", &cfg), 1); /* an empty table takes its first entry */
    expect(o, "x", 1, "y", 1);
    ember__obj_free(&mem, o);
    /* max_value 0: only empty strings fit */
    cfg = cfg_of(128, 0);
    o = new_hash();
    assert_int_equal(set_s(o, "", "", &cfg), 1);
    assert_int_equal(ember__obj_enc(o), EM_ENC_LISTPACK);
    assert_int_equal(set_s(o, "a", "", &cfg), 1);
    assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
    ember__obj_free(&mem, o);
    free(at);
    free(over);
}

/* ------------------------------------------------------------ lookups */

static void test_listpack_lookups(void **state)
{
    (void)state;
    /* Integers, non-canonical integer text, empty and binary strings, and
     * strings around the listpack's 6/12-bit length encodings. */
    static const char *const texts[] = {"0",
                                        "1",
                                        "-1",
                                        "127",
                                        "128",
                                        "-4096",
                                        "4095",
                                        "32767",
                                        "-32768",
                                        "8388607",
                                        "2147483648",
                                        "9223372036854775807",
                                        "-9223372036854775808",
                                        "9223372036854775808",
                                        "007",
                                        "-0",
                                        "+1",
                                        " 1",
                                        "1.5",
                                        "",
                                        "abc"};
    em_hash_cfg cfg = cfg_of(512, 5000);
    em_obj *o = new_hash();
    size_t n = sizeof texts / sizeof texts[0];
    for (size_t i = 0; i < n; i++) {
        char f[16];
        snprintf(f, sizeof f, "k%zu", i);
        assert_int_equal(set_s(o, f, texts[i], &cfg), 1);
        /* the value as a field name, too */
        assert_int_equal(set_s(o, texts[i], f, &cfg), 1);
    }
    char *s63 = repeat('x', 63), *s64 = repeat('y', 64), *s4095 = repeat('z', 4095),
         *s4096 = repeat('w', 4096);
    const char *longs[] = {s63, s64, s4095, s4096};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(set_s(o, longs[i], longs[i], &cfg), 1);
    assert_int_equal(ember__hash_set(&mem, o, "b\0in", 4, "\0\xff", 2, &cfg), 1);
    assert_int_equal(ember__obj_enc(o), EM_ENC_LISTPACK);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n; i++) {
            char f[16];
            snprintf(f, sizeof f, "k%zu", i);
            expect(o, f, strlen(f), texts[i], strlen(texts[i]));
            expect(o, texts[i], strlen(texts[i]), f, strlen(f));
        }
        for (size_t i = 0; i < 4; i++)
            expect(o, longs[i], strlen(longs[i]), longs[i], strlen(longs[i]));
        expect(o, "b\0in", 4, "\0\xff", 2);
        assert_int_equal(ember__hash_get(o, "b", 1, NULL), 0);
        assert_int_equal(ember__hash_get(o, "k", 1, NULL), 0);
        /* "7" is not "007", "1" is not "+1" */
        assert_int_equal(ember__hash_get(o, "7", 1, NULL), 0);
        assert_int_equal(ember__hash_len(o), 2 * n + 5);
        /* the same after conversion */
        assert_int_equal(ember__hash_convert(&mem, o, 1), 0);
        assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
    }
    /* Iteration of the table gives every pair once. */
    em_hash_iter it;
    em_hval f, v;
    size_t seen = 0;
    ember__hash_iter_init(&it, o);
    while (ember__hash_iter_next(&it, &f, &v)) {
        em_hval again;
        assert_int_equal(ember__hash_get(o, f.ptr, f.len, &again), 1);
        assert_int_equal(again.len, v.len);
        assert_memory_equal(again.ptr, v.ptr, v.len);
        seen++;
    }
    assert_int_equal(seen, 2 * n + 5);
    ember__obj_free(&mem, o);
    free(s63);
    free(s64);
    free(s4095);
    free(s4096);
}

/* ------------------------------------------------------------ model */

#define NF 300
#define VMAX 40

typedef struct model {
    int present[NF];
    char val[NF][VMAX + 1];
    size_t vlen[NF];
    size_t order[NF]; /* insertion order (listpack) */
    size_t n;
} model;

static void check_model(em_obj *o, const model *m)
{
    assert_int_equal(ember__hash_len(o), m->n);
    for (int i = 0; i < NF; i++) {
        char f[8];
        int fl = snprintf(f, sizeof f, "f%d", i);
        em_hval v;
        int found = ember__hash_get(o, f, (size_t)fl, &v);
        assert_int_equal(found, m->present[i]);
        if (found) {
            assert_int_equal(v.len, m->vlen[i]);
            assert_memory_equal(v.ptr, m->val[i], v.len);
        }
    }
    em_hash_iter it;
    em_hval f, v;
    size_t k = 0;
    ember__hash_iter_init(&it, o);
    while (ember__hash_iter_next(&it, &f, &v)) {
        int i = atoi(f.ptr + 1);
        assert_true(m->present[i]);
        if (ember__obj_enc(o) == EM_ENC_LISTPACK)
            assert_int_equal(m->order[k], (size_t)i);
        k++;
    }
    assert_int_equal(k, m->n);
}

static void test_random_vs_model(void **state)
{
    (void)state;
    uint64_t rng = 42;
    for (int run = 0; run < 6; run++) {
        /* Small limits so runs cross both thresholds; some never convert. */
        em_hash_cfg cfg = cfg_of(run < 2 ? 1000 : 40 + run * 10, run % 2 ? VMAX : 24);
        model *m = calloc(1, sizeof *m);
        em_obj *o = new_hash();
        for (int op = 0; op < 4000; op++) {
            int i = (int)(ember__rand64(&rng) % (run < 2 ? 60 : NF));
            char f[8];
            int fl = snprintf(f, sizeof f, "f%d", i);
            unsigned kind = (unsigned)(ember__rand64(&rng) % 10);
            if (kind < 6) {
                char v[VMAX + 1];
                size_t vl = (size_t)(ember__rand64(&rng) % (VMAX + 1));
                if (ember__rand64(&rng) % 4 == 0) /* integers too */
                    vl = (size_t)snprintf(v, sizeof v, "%lld",
                                          (long long)(ember__rand64(&rng) % 100000) - 50000);
                else
                    for (size_t j = 0; j < vl; j++)
                        v[j] = (char)('a' + ember__rand64(&rng) % 26);
                int r = ember__hash_set(&mem, o, f, (size_t)fl, v, vl, &cfg);
                assert_int_equal(r, !m->present[i]);
                if (!m->present[i])
                    m->order[m->n++] = (size_t)i;
                m->present[i] = 1;
                memcpy(m->val[i], v, vl);
                m->vlen[i] = vl;
            } else if (kind < 9) {
                int r = ember__hash_delete(&mem, o, f, (size_t)fl);
                assert_int_equal(r, m->present[i]);
                if (r) {
                    size_t k = 0;
                    while (m->order[k] != (size_t)i)
                        k++;
                    memmove(m->order + k, m->order + k + 1, (m->n - k - 1) * sizeof *m->order);
                    m->n--;
                    m->present[i] = 0;
                }
            } else {
                em_hval v;
                assert_int_equal(ember__hash_get(o, f, (size_t)fl, &v), m->present[i]);
            }
            /* The encoding only ever goes from listpack to table. */
            if (ember__hash_len(o) > (size_t)cfg.max_entries)
                assert_int_equal(ember__obj_enc(o), EM_ENC_HT);
            if (op % 500 == 0)
                check_model(o, m);
        }
        check_model(o, m);
        /* COPY's deep copy holds the same pairs and frees independently. */
        em_obj *d = ember__obj_dup_as(&mem, o, "copy", 4);
        assert_non_null(d);
        assert_int_equal(ember__obj_enc(d), ember__obj_enc(o));
        ember__obj_free(&mem, o);
        check_model(d, m);
        assert_int_equal(ember__obj_items(d), m->n);
        ember__obj_free(&mem, d);
        free(m);
    }
}

/* ------------------------------------------------------------ HSCAN */

static int field_num(const em_obj *e)
{
    em_hval f;
    ember__hash_entry(e, &f, NULL);
    assert_true(f.len > 1);
    char buf[16];
    memcpy(buf, f.ptr + 1, f.len - 1);
    buf[f.len - 1] = '\0';
    return atoi(buf);
}

/* Scans with ember__scan_collect (HSCAN's worker) while fields are added
 * and removed between calls: every field present for the whole scan comes
 * back, whether the table grows or shrinks in the middle. */
static void scan_with_churn(int grow)
{
    em_hash_cfg cfg = cfg_of(0, 64); /* a table from the first field */
    em_obj *o = new_hash();
    const int stable = 500, extra = 4000;
    char f[16];
    for (int i = 0; i < stable; i++) {
        snprintf(f, sizeof f, "s%d", i);
        assert_int_equal(set_s(o, f, "v", &cfg), 1);
    }
    if (!grow) /* start big, then delete down to force a shrink */
        for (int i = 0; i < extra; i++) {
            snprintf(f, sizeof f, "x%d", i);
            assert_int_equal(set_s(o, f, "v", &cfg), 1);
        }
    char *seen = calloc((size_t)stable, 1);
    uint64_t cursor = 0;
    int step = 0, rehashing_seen = 0;
    do {
        em_objvec vec = {0};
        ember__scan_collect(ember__hash_dict(o), &cursor, 10, &vec);
        assert_false(vec.oom);
        for (size_t i = 0; i < vec.n; i++) {
            em_hval fv;
            ember__hash_entry(vec.v[i], &fv, NULL);
            if (fv.ptr[0] == 's')
                seen[field_num(vec.v[i])] = 1;
        }
        ember__objvec_free(&vec);
        /* churn between calls */
        for (int k = 0; k < 40; k++, step++) {
            if (grow) {
                if (step < extra) {
                    snprintf(f, sizeof f, "x%d", step);
                    assert_int_equal(set_s(o, f, "v", &cfg), 1);
                }
            } else if (step < extra) {
                snprintf(f, sizeof f, "x%d", step);
                assert_int_equal(ember__hash_delete(&mem, o, f, strlen(f)), 1);
            }
        }
        rehashing_seen |= ember__dict_is_rehashing(ember__hash_dict(o));
    } while (cursor != 0);
    assert_true(rehashing_seen);
    for (int i = 0; i < stable; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    ember__obj_free(&mem, o);
}

static void test_scan_while_growing(void **state)
{
    (void)state;
    scan_with_churn(1);
}

static void test_scan_while_shrinking(void **state)
{
    (void)state;
    scan_with_churn(0);
}

/* ------------------------------------------------------------ memory, OOM */

static void test_memory_tight(void **state)
{
    (void)state;
    /* A hash built in one go has no slack beyond the allocator's rounding. */
    em_hash_cfg cfg = cfg_of(512, 64);
    em_obj *o = ember__hash_new(&mem, "h", 1, 400);
    char f[16], v[16];
    for (int i = 0; i < 10; i++) {
        snprintf(f, sizeof f, "field%d", i);
        snprintf(v, sizeof v, "value%d", i * 1000);
        assert_int_equal(set_s(o, f, v, &cfg), 1);
    }
    ember__hash_shrink_to_fit(&mem, o);
    uint8_t *lp = ember__obj_body(o);
    assert_true(ember__mem_usable(&mem, lp) < ember__lp_bytes(lp) + 16);
    ember__obj_free(&mem, o);
}

/* Every write with the n-th allocation failing: either it succeeds, or it
 * returns -1 and the hash is exactly as before. */
static void test_oom_every_step(void **state)
{
    (void)state;
    for (int enc = 0; enc < 2; enc++) {
        for (long n = 0; n < 40; n++) {
            em_hash_cfg cfg = cfg_of(enc ? 0 : 4, 8);
            em_obj *o = new_hash();
            assert_int_equal(set_s(o, "a", "1", &cfg), 1);
            assert_int_equal(ember__obj_enc(o), enc ? EM_ENC_HT : EM_ENC_LISTPACK);
            if (!enc) {
                assert_int_equal(set_s(o, "b", "2", &cfg), 1);
                assert_int_equal(set_s(o, "c", "3", &cfg), 1);
                assert_int_equal(set_s(o, "d", "4", &cfg), 1);
            }
            size_t before = ember__hash_len(o);
            int oldenc = ember__obj_enc(o);
            /* a new field: in the listpack case this converts (5 > 4) */
            fail_after = n;
            int r = set_s(o, "e", "5", &cfg);
            fail_after = -1;
            if (r < 0) {
                assert_int_equal(ember__hash_len(o), before);
                assert_int_equal(ember__obj_enc(o), oldenc);
                assert_int_equal(ember__hash_get(o, "e", 1, NULL), 0);
                expect(o, "a", 1, "1", 1);
            } else {
                assert_int_equal(r, 1);
                expect(o, "e", 1, "5", 1);
                assert_int_equal(ember__hash_len(o), before + 1);
            }
            /* an update, and a long value that converts */
            fail_after = n;
            r = set_s(o, "a", "longer-than-8", &cfg);
            fail_after = -1;
            if (r < 0)
                expect(o, "a", 1, "1", 1);
            else
                expect(o, "a", 1, "longer-than-8", 13);
            /* a copy */
            fail_after = n;
            em_obj *d = ember__obj_dup_as(&mem, o, "d", 1);
            fail_after = -1;
            if (d)
                ember__obj_free(&mem, d);
            ember__obj_free(&mem, o);
        }
    }
}

int main(void)
{
    ember__hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entry_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listpack_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_vs_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_while_growing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_while_shrinking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_tight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_every_step, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
