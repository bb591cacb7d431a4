/*
 * test_util.c — number parsing/formatting with Redis's exact rules, the
 * allocator accounting, the clock, and the settings table.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "command/config.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/util.h"

static int ll(const char *s, long long *v)
{
    return ember__str_to_ll(s, strlen(s), v);
}

static void test_str_to_ll(void **state)
{
    (void)state;
    long long v;
    assert_true(ll("0", &v) && v == 0);
    assert_true(ll("-1", &v) && v == -1);
    assert_true(ll("9223372036854775807", &v) && v == LLONG_MAX);
    assert_true(ll("-9223372036854775808", &v) && v == LLONG_MIN);
    const char *bad[] = {"",
                         "-",
                         "+1",
                         " 1",
                         "1 ",
                         "01",
                         "-0",
                         "00",
                         "1a",
                         "9223372036854775808",
                         "-9223372036854775809",
                         "99999999999999999999",
                         "1.0",
                         "0x10",
                         "123456789012345678901"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ll(bad[i], &v));
    /* Binary safe: a NUL inside is not a digit. */
    assert_false(ember__str_to_ll("1\0"
                                  "2",
                                  3, &v));
}

static void test_ll_to_str(void **state)
{
    (void)state;
    char b[EM_LLSTR_SIZE];
    assert_int_equal(ember__ll_to_str(b, 0), 1);
    assert_string_equal(b, "0");
    assert_int_equal(ember__ll_to_str(b, LLONG_MIN), 20);
    assert_string_equal(b, "-9223372036854775808");
    ember__ll_to_str(b, LLONG_MAX);
    assert_string_equal(b, "9223372036854775807");
    ember__ll_to_str(b, -42);
    assert_string_equal(b, "-42");
}

static void test_long_double_rules(void **state)
{
    (void)state;
    long double v;
    assert_true(ember__str_to_ld("1.5", 3, &v) && v == 1.5L);
    assert_true(ember__str_to_ld("  1", 3, &v) == 0); /* leading space */
    assert_true(ember__str_to_ld("1 ", 2, &v) == 0);  /* trailing junk */
    assert_true(ember__str_to_ld("nan", 3, &v) == 0);
    assert_true(ember__str_to_ld("inf", 3, &v) == 1 && isinf(v));
    assert_true(ember__str_to_ld("1e99999", 7, &v) == 0); /* overflow */
    assert_true(ember__str_to_ld("", 0, &v) == 0);
    char buf[EM_MAX_LD_CHARS];
    assert_int_equal(ember__ld_to_str_human(buf, sizeof buf, 3.0L), 1);
    assert_string_equal(buf, "3");
    ember__ld_to_str_human(buf, sizeof buf, 10.5L);
    assert_string_equal(buf, "10.5");
    ember__ld_to_str_human(buf, sizeof buf, -0.0L);
    assert_string_equal(buf, "0");
    ember__ld_to_str_human(buf, sizeof buf, 5.0e3L);
    assert_string_equal(buf, "5000");
    ember__ld_to_str_human(buf, sizeof buf, 1.0L / 0.0L);
    assert_string_equal(buf, "inf");
    double d;
    assert_true(ember__str_to_d("-2.5e3", 6, &d) && d == -2500.0);
    assert_false(ember__str_to_d("abc", 3, &d));
    ember__d_to_str(buf, sizeof buf, 1.5);
    assert_string_equal(buf, "1.5");
    ember__d_to_str(buf, sizeof buf, 0.1);
    assert_string_equal(buf, "0.10000000000000001");
    ember__d_to_str_store(buf, sizeof buf, 3.0);
    assert_string_equal(buf, "3");
    ember__d_to_str_store(buf, sizeof buf, -0.0);
    assert_string_equal(buf, "-0");
}

static void test_alloc_accounting(void **state)
{
    (void)state;
    em_mem m;
    ember__mem_init(&m, NULL);
    assert_int_equal(ember__mem_used(&m), 0);
    void *a = ember__mem_alloc(&m, 100);
    size_t after_a = ember__mem_used(&m);
    assert_true(after_a >= 100 + EM_MALLOC_OVERHEAD);
    void *b = ember__mem_calloc(&m, 1 << 20);
    assert_true(ember__mem_used(&m) >= after_a + (1 << 20));
    assert_int_equal(((char *)b)[12345], 0);
    a = ember__mem_realloc(&m, a, 5000);
    assert_true(ember__mem_used(&m) >= (1 << 20) + 5000);
    ember__mem_free(&m, a);
    ember__mem_free(&m, b);
    ember__mem_free(&m, NULL);
    assert_int_equal(ember__mem_used(&m), 0);
    assert_true(atomic_load(&m.peak) >= (1 << 20) + 5000);
}

static void test_clock(void **state)
{
    (void)state;
    em_clock c;
    ember__clock_init(&c, 1, 1000);
    assert_int_equal(ember__clock_ms(&c), 1000);
    assert_int_equal(ember__clock_advance_us(&c, 2500), 0);
    assert_int_equal(ember__clock_us(&c), 1002500);
    assert_int_equal(ember__clock_set_us(&c, 1000), -1); /* never backwards */
    assert_int_equal(ember__clock_set_us(&c, 5000000), 0);
    assert_int_equal(ember__clock_ms(&c), 5000);
    ember__clock_init(&c, 0, 0);
    assert_int_equal(ember__clock_advance_us(&c, 1), -1);
    assert_true(ember__clock_ms(&c) > 1600000000000ll);
    int64_t a = ember__mono_ns(), b = ember__mono_ns();
    assert_true(b >= a);
}

static void test_hash_seeded(void **state)
{
    (void)state;
    assert_int_equal(ember__hash("abc", 3, 1), ember__hash("abc", 3, 1));
    assert_true(ember__hash("abc", 3, 1) != ember__hash("abc", 3, 2));
    assert_true(ember__random_seed() != 0);
    uint64_t s = 7, x = ember__rand64(&s), y = ember__rand64(&s);
    assert_true(x != y);
}

static void test_settings(void **state)
{
    (void)state;
    em_settings s;
    const char *why = NULL;
    char buf[128];
    ember__settings_defaults(&s);
    assert_int_equal(s.databases, 16);
    assert_int_equal(ember__settings_set(&s, "maxmemory", 9, "2gb", 3, 1, &why), EM_CFG_OK);
    assert_int_equal(s.maxmemory, 2ll << 30);
    assert_int_equal(ember__settings_set(&s, "maxmemory", 9, "1k", 2, 1, &why), EM_CFG_OK);
    assert_int_equal(s.maxmemory, 1000);
    assert_int_equal(ember__settings_set(&s, "maxmemory", 9, "5MB", 3, 1, &why), EM_CFG_OK);
    assert_int_equal(s.maxmemory, 5 << 20);
    assert_int_equal(ember__settings_set(&s, "maxmemory", 9, "5xb", 3, 1, &why), EM_CFG_BADVALUE);
    assert_int_equal(ember__settings_set(&s, "databases", 9, "3", 1, 1, &why), EM_CFG_IMMUTABLE);
    assert_int_equal(ember__settings_set(&s, "databases", 9, "3", 1, 0, &why), EM_CFG_OK);
    assert_int_equal(ember__settings_set(&s, "nope", 4, "3", 1, 0, &why), EM_CFG_UNKNOWN);
    assert_int_equal(ember__settings_set(&s, "lazyfree-lazy-user-del", 22, "YES", 3, 1, &why),
                     EM_CFG_OK);
    int i = ember__settings_find("lazyfree-lazy-user-del", 22);
    assert_true(i >= 0);
    ember__settings_format(&s, (size_t)i, buf, sizeof buf);
    assert_string_equal(buf, "yes");
    i = ember__settings_find("MAXMEMORY-POLICY", 16);
    assert_int_equal(ember__settings_set(&s, "maxmemory-policy", 16, "volatile-ttl", 12, 1, &why),
                     EM_CFG_OK);
    ember__settings_format(&s, (size_t)i, buf, sizeof buf);
    assert_string_equal(buf, "volatile-ttl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_to_ll),
        cmocka_unit_test(test_ll_to_str),
        cmocka_unit_test(test_long_double_rules),
        cmocka_unit_test(test_alloc_accounting),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_hash_seeded),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
