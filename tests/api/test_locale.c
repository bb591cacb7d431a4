/*
 * test_locale.c — replies do not depend on the host's LC_NUMERIC. A locale
 * whose decimal point is a comma is built with localedef into a temporary
 * directory (LOCPATH), so the test needs only Debian's `locales` data.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#include "api_util.h"

static char locdir[] = "/tmp/ember-locale-XXXXXX";

static int setup(void **state)
{
    (void)state;
    char cmd[256];
    if (!mkdtemp(locdir))
        return -1;
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", locdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "localedef failed: install Debian's 'locales' package\n");
        return -1;
    }
    setenv("LOCPATH", locdir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    setlocale(LC_ALL, "C");
    snprintf(cmd, sizeof cmd, "rm -rf %s", locdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void check_mode(int mode)
{
    ember_db *db = ta_open(mode, -1, 0, NULL, NULL);
    const char *argv[] = {"INCRBYFLOAT", "f", "1.5"};
    ember_reply *r;
    assert_int_equal(ember_command(db, 3, argv, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_STRING);
    assert_string_equal(ember_reply_str(r, NULL), "1.5");
    ember_reply_free(r);
    double out = 0;
    assert_int_equal(ember_incrbyfloat(db, "f", 1, 0.25, &out), EMBER_OK);
    assert_true(out == 1.75);
    void *v;
    size_t n;
    assert_int_equal(ember_get(db, "f", 1, &v, &n), EMBER_OK);
    assert_string_equal((char *)v, "1.75");
    ember_free(v);
    assert_int_equal(ember_db_close(db), EMBER_OK);
}

static void test_comma_decimal_locale(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_NUMERIC, "de_DE.UTF-8"));
    char buf[16];
    snprintf(buf, sizeof buf, "%.1f", 1.5);
    assert_string_equal(buf, "1,5"); /* the host really uses a comma now */
    check_mode(EMBER_MODE_EXECUTOR);
    check_mode(EMBER_MODE_INLINE);
    snprintf(buf, sizeof buf, "%.1f", 1.5);
    assert_string_equal(buf, "1,5"); /* and ember left the host's locale alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comma_decimal_locale),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
