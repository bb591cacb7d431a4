/*
 * test_keyspace.c — the store: lazy expiry on lookup, active expiry sampling,
 * flush (sync and on the lazy-free thread), swap, move, detach, random keys,
 * and the volatile-array bookkeeping that every operation must keep exact:
 * vol[i] carries an expire and volidx == i, and it is the object the dict
 * holds for that key.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hash.h"
#include "keyspace/keyspace.h"

#define T0 1700000000000ll /* virtual clock start, Unix ms */

static em_store st;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(ember__store_init(&st, NULL, 4, 99, 1, T0), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ember__store_free(&st);
    /* Every object and table was freed: the accounting is back to zero. */
    assert_int_equal(ember__mem_used(&st.mem), 0);
    return 0;
}

static size_t key_of(int i, char *buf)
{
    return (size_t)snprintf(buf, 16, "key:%d", i);
}

/* Adds key i (INT value i) to ks, with an expire when `when` >= 0. */
static em_obj *put(em_keyspace *ks, int i, int64_t when)
{
    char k[16];
    size_t kl = key_of(i, k);
    em_obj *o = ember__obj_new_int(&st.mem, k, kl, i);
    assert_non_null(o);
    if (when >= 0) {
        em_obj *e = ember__obj_rebuild_expire(&st.mem, o, when);
        assert_non_null(e);
        ember__obj_free_shell(&st.mem, o);
        o = e;
    }
    assert_int_equal(ember__ks_add(&st, ks, o), 0);
    return o;
}

static em_obj *get(em_keyspace *ks, int i, int64_t now, em_dpos *pos)
{
    char k[16];
    size_t kl = key_of(i, k);
    return ember__ks_lookup(&st, ks, k, kl, now, EM_LK_READ, pos);
}

/* The raw presence of key i, expired or not (no lazy expiry). */
static em_obj *peek(em_keyspace *ks, int i)
{
    char k[16];
    size_t kl = key_of(i, k);
    em_dpos pos;
    if (!ember__dict_find(&ks->dict, k, kl, ember__dict_hash(&ks->dict, k, kl), &pos))
        return NULL;
    return *pos.link;
}

/* The volatile array of ks is exactly the set of dict objects with an expire. */
static void check_vol(em_keyspace *ks)
{
    size_t with_expire = 0;
    for (int t = 0; t < 2; t++)
        for (size_t b = 0; b < ks->dict.size[t]; b++)
            for (em_obj *o = ks->dict.t[t][b]; o; o = o->next)
                if (ember__obj_has_expire(o)) {
                    with_expire++;
                    uint32_t vi = ember__obj_volidx(o);
                    assert_true(vi < ks->nvol);
                    assert_ptr_equal(ks->vol[vi], o);
                }
    assert_int_equal(with_expire, ks->nvol);
    for (size_t i = 0; i < ks->nvol; i++) {
        em_obj *o = ks->vol[i];
        assert_true(ember__obj_has_expire(o));
        assert_int_equal(ember__obj_volidx(o), i);
        assert_ptr_equal(peek(ks, (int)ember__obj_int(o)), o);
    }
}

static void test_lazy_expiry(void **state)
{
    (void)state;
    em_keyspace *ks = &st.dbs[0];
    put(ks, 1, T0 + 1000);
    put(ks, 2, -1);
    check_vol(ks);
    /* Alive up to and including its expire time (Redis: expired when now > when). */
    assert_non_null(get(ks, 1, T0 + 1000, NULL));
    assert_int_equal(st.stats.expired_keys, 0);
    assert_int_equal(st.stats.keyspace_hits, 1);
    assert_null(get(ks, 1, T0 + 1001, NULL));
    assert_int_equal(st.stats.expired_keys, 1);
    assert_int_equal(st.stats.keyspace_misses, 1);
    assert_null(peek(ks, 1)); /* really deleted, not just hidden */
    assert_int_equal(ks->nvol, 0);
    assert_int_equal(ember__dict_size(&ks->dict), 1);
    /* Write lookups expire too but count no hit/miss. */
    put(ks, 3, T0 + 5);
    char k[16];
    size_t kl = key_of(3, k);
    assert_null(ember__ks_lookup(&st, ks, k, kl, T0 + 6, EM_LK_WRITE, NULL));
    assert_int_equal(st.stats.expired_keys, 2);
    assert_int_equal(st.stats.keyspace_misses, 1);
    /* A key without expire never expires. */
    assert_non_null(get(ks, 2, INT64_MAX, NULL));
    check_vol(ks);
}

static void test_lru_stamps(void **state)
{
    (void)state;
    em_keyspace *ks = &st.dbs[0];
    uint32_t start = (uint32_t)(T0 / 1000) & 0xFFFFFF;
    em_obj *o = put(ks, 1, -1);
    assert_int_equal(ember__obj_lru(o), start); /* new keys start at the store's clock */
    o = get(ks, 1, T0 + 5000, NULL);
    assert_int_equal(ember__obj_lru(o), start + 5);
    /* NOTOUCH reads leave it. */
    char k[16];
    size_t kl = key_of(1, k);
    o = ember__ks_lookup(&st, ks, k, kl, T0 + 9000, EM_LK_READ | EM_LK_NOTOUCH, NULL);
    assert_int_equal(ember__obj_lru(o), start + 5);
    /* The latest lookup's clock stamps the next new key. */
    o = put(ks, 2, -1);
    assert_int_equal(ember__obj_lru(o), start + 9);
}

static void test_active_expiry_all_expired(void **state)
{
    (void)state;
    const int n = 1000;
    for (int i = 0; i < n; i++)
        put(&st.dbs[i % 2], i, T0 + 100);
    for (int i = n; i < n + 500; i++)
        put(&st.dbs[2], i, -1);
    check_vol(&st.dbs[0]);
    check_vol(&st.dbs[1]);
    /* Not due yet: nothing happens. */
    assert_int_equal(ember__ks_active_expire(&st, T0 + 100, 1000000), 0);
    assert_int_equal(st.stats.expire_cycles, 1);
    /* All due: every sample is 100% expired, so the cycle keeps going until the
     * volatile arrays are empty. */
    size_t got = ember__ks_active_expire(&st, T0 + 101, 1000000);
    assert_int_equal(got, n);
    assert_int_equal(st.stats.expired_keys, n);
    assert_int_equal(st.stats.expire_cycles, 2);
    for (int d = 0; d < 4; d++) {
        assert_int_equal(st.dbs[d].nvol, 0);
        check_vol(&st.dbs[d]);
    }
    assert_int_equal(ember__dict_size(&st.dbs[0].dict), 0);
    assert_int_equal(ember__dict_size(&st.dbs[2].dict), 500);
    /* Disabled: no work, no cycle counted. */
    put(&st.dbs[0], 1, T0);
    st.active_expire = 0;
    assert_int_equal(ember__ks_active_expire(&st, T0 + 500, 1000000), 0);
    assert_int_equal(st.stats.expire_cycles, 2);
    st.active_expire = 1;
    assert_int_equal(ember__ks_active_expire(&st, T0 + 500, 1000000), 1);
}

static void test_active_expiry_sampling_mix(void **state)
{
    (void)state;
    em_keyspace *ks = &st.dbs[1];
    const int dead = 2000, alive = 2000;
    for (int i = 0; i < dead; i++)
        put(ks, i, T0 + 10);
    for (int i = dead; i < dead + alive; i++)
        put(ks, i, T0 + 1000000);
    size_t total = 0;
    int cycles = 0;
    /* Each cycle stops once a sample is at most 10% expired; repeated cycles
     * drive the share of dead keys among the volatile ones down. */
    while (cycles < 200) {
        total += ember__ks_active_expire(&st, T0 + 11, 1000000);
        cycles++;
        check_vol(ks);
        size_t left_dead = ks->nvol - alive;
        if (left_dead * 10 < ks->nvol)
            break;
    }
    assert_true(total > (size_t)dead / 2);
    assert_int_equal(st.stats.expired_keys, total);
    assert_int_equal(ember__dict_size(&ks->dict), (size_t)(dead + alive) - total);
    /* No live key was ever removed. */
    for (int i = dead; i < dead + alive; i++)
        assert_non_null(peek(ks, i));
    assert_true((ks->nvol - alive) * 10 < ks->nvol);
}

/* ------------------------------------------------------------------ lazy free */

/* A fake collection type: a body of `items` elements, freed by whichever
 * thread frees the object. The free is recorded for the main thread. */
typedef struct fake_body {
    size_t items;
} fake_body;

static _Atomic int bodies_freed;
static _Atomic int freed_off_main;
static pthread_t main_thread;

static void fake_free(em_mem *m, void *body, int enc)
{
    (void)enc;
    if (!pthread_equal(pthread_self(), main_thread))
        atomic_fetch_add(&freed_off_main, 1);
    atomic_fetch_add(&bodies_freed, 1);
    ember__mem_free(m, body);
}

static size_t fake_items(const void *body, int enc)
{
    (void)enc;
    return ((const fake_body *)body)->items;
}

static const em_value_ops fake_ops = {fake_free, NULL, fake_items};

static em_obj *put_big(em_keyspace *ks, int i, size_t items)
{
    char k[16];
    size_t kl = key_of(i, k);
    fake_body *b = ember__mem_alloc(&st.mem, sizeof *b);
    assert_non_null(b);
    b->items = items;
    em_obj *o = ember__obj_new_body(&st.mem, k, kl, EM_T_LIST, EM_ENC_QUICKLIST, b);
    assert_non_null(o);
    ember__ks_add(&st, ks, o);
    return o;
}

static void test_lazy_delete(void **state)
{
    (void)state;
    main_thread = pthread_self();
    ember__obj_register_type(EM_T_LIST, &fake_ops);
    atomic_store(&bodies_freed, 0);
    atomic_store(&freed_off_main, 0);
    em_keyspace *ks = &st.dbs[0];
    put_big(ks, 1, 1000);
    put_big(ks, 2, 3);
    em_dpos pos;
    /* Small values are freed at once even when lazy. */
    assert_non_null(get(ks, 2, T0, &pos));
    ember__ks_delete(&st, ks, &pos, 1, EM_DEL_USER);
    assert_int_equal(atomic_load(&bodies_freed), 1);
    assert_int_equal(atomic_load(&freed_off_main), 0);
    /* A large one goes to the lazy-free thread. */
    assert_non_null(get(ks, 1, T0, &pos));
    ember__ks_delete(&st, ks, &pos, 1, EM_DEL_USER);
    assert_null(peek(ks, 1));
    assert_int_equal(st.stats.lazyfreed_objects, 1000);
    ember__lazyfree_drain(&st);
    assert_int_equal(atomic_load(&bodies_freed), 2);
    assert_int_equal(atomic_load(&freed_off_main), 1);
    assert_int_equal(ember__lazyfree_pending(&st), 0);
    /* Not lazy: freed on the caller's thread whatever its size. */
    put_big(ks, 3, 1000);
    assert_non_null(get(ks, 3, T0, &pos));
    ember__ks_delete(&st, ks, &pos, 0, EM_DEL_USER);
    assert_int_equal(atomic_load(&bodies_freed), 3);
    assert_int_equal(atomic_load(&freed_off_main), 1);
    ember__obj_register_type(EM_T_LIST, NULL);
}

static void test_flush_sync_and_async(void **state)
{
    (void)state;
    size_t base = ember__mem_used(&st.mem);
    em_keyspace *ks = &st.dbs[3];
    for (int i = 0; i < 3000; i++)
        put(ks, i, i % 3 ? -1 : T0 + 1000);
    put(&st.dbs[0], 1, -1);
    assert_true(ember__mem_used(&st.mem) > base);
    uint64_t dirty = st.dirty;
    ember__ks_flush(&st, ks, 0);
    assert_int_equal(ember__dict_size(&ks->dict), 0);
    assert_int_equal(ks->nvol, 0);
    assert_int_equal(st.dirty, dirty + 3000);
    assert_non_null(peek(&st.dbs[0], 1)); /* other databases untouched */
    /* Usable again after the flush. */
    put(ks, 7, T0 + 5);
    check_vol(ks);

    for (int i = 0; i < 3000; i++)
        if (i != 7)
            put(ks, i, i % 3 ? -1 : T0 + 1000);
    uint64_t lazy_before = st.stats.lazyfreed_objects;
    ember__ks_flush(&st, ks, 1);
    /* Gone at once for readers; the memory comes back once the thread ran. */
    assert_int_equal(ember__dict_size(&ks->dict), 0);
    assert_int_equal(ks->nvol, 0);
    assert_null(peek(ks, 7));
    assert_int_equal(st.stats.lazyfreed_objects, lazy_before + 3000);
    ember__lazyfree_drain(&st);
    assert_int_equal(ember__lazyfree_pending(&st), 0);
    put(ks, 8, -1);
    assert_non_null(get(ks, 8, T0, NULL));
    /* Flushing an empty database async is a no-op. */
    ember__ks_flush(&st, &st.dbs[2], 1);
    assert_int_equal(st.stats.lazyfreed_objects, lazy_before + 3000);
}

static void test_swap(void **state)
{
    (void)state;
    put(&st.dbs[0], 1, T0 + 100);
    put(&st.dbs[0], 2, -1);
    put(&st.dbs[1], 3, -1);
    ember__ks_swap(&st, &st.dbs[0], &st.dbs[1]);
    assert_int_equal(st.dbs[0].id, 0);
    assert_int_equal(st.dbs[1].id, 1);
    assert_non_null(peek(&st.dbs[0], 3));
    assert_null(peek(&st.dbs[0], 1));
    assert_non_null(peek(&st.dbs[1], 1));
    assert_non_null(peek(&st.dbs[1], 2));
    assert_int_equal(st.dbs[0].nvol, 0);
    assert_int_equal(st.dbs[1].nvol, 1);
    check_vol(&st.dbs[0]);
    check_vol(&st.dbs[1]);
    /* Expiry follows the key to its new database. */
    assert_null(get(&st.dbs[1], 1, T0 + 101, NULL));
    assert_int_equal(st.stats.expired_keys, 1);
    ember__ks_swap(&st, &st.dbs[1], &st.dbs[0]);
    assert_non_null(peek(&st.dbs[1], 3));
    assert_non_null(peek(&st.dbs[0], 2));
}

static void test_move_and_detach(void **state)
{
    (void)state;
    em_keyspace *a = &st.dbs[0], *b = &st.dbs[2];
    put(a, 1, T0 + 100);
    put(a, 2, T0 + 200);
    put(a, 3, -1);
    em_dpos pos;
    assert_non_null(get(a, 1, T0, &pos));
    assert_int_equal(ember__ks_move(&st, a, &pos, b), 0);
    assert_null(peek(a, 1));
    em_obj *o = peek(b, 1);
    assert_non_null(o);
    assert_int_equal(ember__obj_expire(o), T0 + 100);
    assert_int_equal(a->nvol, 1);
    assert_int_equal(b->nvol, 1);
    check_vol(a);
    check_vol(b);
    assert_non_null(get(a, 3, T0, &pos));
    ember__ks_move(&st, a, &pos, b);
    check_vol(b);
    assert_int_equal(ember__dict_size(&b->dict), 2);
    /* Detach hands the object over without freeing it. */
    assert_non_null(get(a, 2, T0, &pos));
    em_obj *d = ember__ks_detach(&st, a, &pos);
    assert_int_equal(ember__obj_int(d), 2);
    assert_null(peek(a, 2));
    assert_int_equal(a->nvol, 0);
    check_vol(a);
    ember__obj_free(&st.mem, d);
}

static void test_random_key(void **state)
{
    (void)state;
    em_keyspace *ks = &st.dbs[1];
    assert_null(ember__ks_random(&st, ks, T0));
    for (int i = 0; i < 20; i++)
        put(ks, i, i < 10 ? T0 + 10 : -1);
    int seen[20] = {0};
    for (int draw = 0; draw < 5000; draw++) {
        em_obj *o = ember__ks_random(&st, ks, T0 + 11);
        assert_non_null(o);
        int64_t i = ember__obj_int(o);
        assert_true(i >= 10 && i < 20); /* expired keys are never returned */
        seen[i] = 1;
    }
    for (int i = 10; i < 20; i++)
        assert_true(seen[i]);
    check_vol(ks);
    /* Only expired keys: they are all reclaimed and NULL comes back. */
    em_keyspace *e = &st.dbs[3];
    for (int i = 0; i < 30; i++)
        put(e, i, T0);
    uint64_t before = st.stats.expired_keys;
    assert_null(ember__ks_random(&st, e, T0 + 1));
    assert_int_equal(ember__dict_size(&e->dict), 0);
    assert_int_equal(st.stats.expired_keys, before + 30);
    check_vol(e);
}

/* Random operations keep the volatile array exact. */
static void test_volatile_bookkeeping(void **state)
{
    (void)state;
    em_keyspace *ks = &st.dbs[0], *other = &st.dbs[1];
    uint64_t rng = 77;
    const int n = 300;
    int64_t now = T0;
    for (int step = 0; step < 20000; step++) {
        int i = (int)(ember__rand64(&rng) % n);
        int op = (int)(ember__rand64(&rng) % 9);
        em_dpos pos;
        em_obj *o = get(ks, i, now, &pos);
        switch (op) {
        case 0: /* add */
            if (!o)
                put(ks, i, ember__rand64(&rng) & 1 ? now + 50 : -1);
            break;
        case 1: /* set or update an expire */
            if (o)
                assert_non_null(ember__ks_set_expire(
                    &st, ks, &pos, now + 1 + (int64_t)(ember__rand64(&rng) % 100)));
            break;
        case 2: /* persist */
            if (o) {
                em_obj *p = ember__ks_set_expire(&st, ks, &pos, -1);
                assert_non_null(p);
                assert_false(ember__obj_has_expire(p));
            }
            break;
        case 3: /* replace by a value with or without expire */
            if (o) {
                char k[16];
                size_t kl = key_of(i, k);
                em_obj *n1 = ember__obj_new_int(&st.mem, k, kl, i);
                if (ember__rand64(&rng) & 1) {
                    em_obj *e = ember__obj_rebuild_expire(&st.mem, n1, now + 30);
                    ember__obj_free_shell(&st.mem, n1);
                    n1 = e;
                }
                ember__obj_free(&st.mem, ember__ks_replace(&st, ks, &pos, n1));
            }
            break;
        case 4: /* delete */
            if (o)
                ember__ks_delete(&st, ks, &pos, ember__rand64(&rng) & 1, EM_DEL_USER);
            break;
        case 5: /* move away and back */
            if (o && !peek(other, i)) {
                ember__ks_move(&st, ks, &pos, other);
                char k[16];
                size_t kl = key_of(i, k);
                em_obj *m = ember__ks_lookup(&st, other, k, kl, now, EM_LK_WRITE, &pos);
                if (m)
                    ember__ks_move(&st, other, &pos, ks);
            }
            break;
        case 6: /* time passes: lazy expiry through lookups */
            now += (int64_t)(ember__rand64(&rng) % 20);
            break;
        case 7:
            ember__ks_active_expire(&st, now, 1000);
            break;
        default:
            ember__ks_random(&st, ks, now);
            break;
        }
        if (step % 50 == 0) {
            check_vol(ks);
            check_vol(other);
        }
    }
    check_vol(ks);
    check_vol(other);
    ember__lazyfree_drain(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lazy_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_stamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_expiry_all_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_expiry_sampling_mix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_sync_and_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_and_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volatile_bookkeeping, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
