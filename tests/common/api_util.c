/*
 * api_util.c — helpers shared by the API tests (api_util.h).
 */
#include "api_util.h"

#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ------------------------------------------------------------ opening */

atomic_int ta_fail_alloc;
atomic_long ta_n_alloc;

static void *t_malloc(void *ctx, size_t n)
{
    (void)ctx;
    atomic_fetch_add(&ta_n_alloc, 1);
    return atomic_load(&ta_fail_alloc) ? NULL : malloc(n);
}

static void *t_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    atomic_fetch_add(&ta_n_alloc, 1);
    return atomic_load(&ta_fail_alloc) ? NULL : realloc(p, n);
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

ember_db *ta_open(int mode, int64_t virtual_start, int hooks, const char *param, const char *value)
{
    ember_config *cfg;
    ember_db *db;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, mode), EMBER_OK);
    if (virtual_start >= 0)
        assert_int_equal(ember_config_set_virtual_clock(cfg, virtual_start), EMBER_OK);
    if (hooks)
        assert_int_equal(
            ember_config_set_allocator(cfg, t_malloc, t_realloc, t_free, t_usable, NULL), EMBER_OK);
    if (param)
        assert_int_equal(ember_config_set(cfg, param, value), EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

int ta_mode = EMBER_MODE_EXECUTOR;

int ta_setup(void **state)
{
    *state = ta_open(ta_mode, TA_T0, 0, NULL, NULL);
    return 0;
}

int ta_teardown(void **state)
{
    return ember_db_close(*state) == EMBER_OK ? 0 : -1;
}

/* ------------------------------------------------------------ argv commands */

ember_reply *ta_cmd(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    assert_non_null(r);
    return r;
}

/* The checks of a reply with text (status, error, bulk). */
static void expect_text(ember_reply *r, int type, const char *s)
{
    assert_int_equal(ember_reply_type(r), type);
    assert_string_equal(ember_reply_str(r, NULL), s);
    ember_reply_free(r);
}

void ta_expect_error(ember_reply *r, const char *msg)
{
    expect_text(r, EMBER_REPLY_ERROR, msg);
}

void ta_expect_status(ember_reply *r, const char *s)
{
    expect_text(r, EMBER_REPLY_STATUS, s);
}

void ta_expect_ok(ember_reply *r)
{
    ta_expect_status(r, "OK");
}

void ta_expect_int(ember_reply *r, int64_t v)
{
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_INTEGER);
    assert_int_equal(ember_reply_integer(r), v);
    ember_reply_free(r);
}

void ta_expect_bulk(ember_reply *r, const char *s)
{
    expect_text(r, EMBER_REPLY_STRING, s);
}

void ta_expect_nil(ember_reply *r)
{
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_NIL);
    ember_reply_free(r);
}

/* ------------------------------------------------------------ command lines */

void ta_fmt(const ember_reply *r, char *buf, size_t cap)
{
    size_t n = 0;
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_NIL:
        snprintf(buf, cap, "(nil)");
        return;
    case EMBER_REPLY_STATUS:
    case EMBER_REPLY_ERROR:
    case EMBER_REPLY_STRING: {
        size_t len;
        const unsigned char *s = (const unsigned char *)ember_reply_str(r, &len);
        buf[n++] = ember_reply_type(r) == EMBER_REPLY_STATUS  ? '+'
                   : ember_reply_type(r) == EMBER_REPLY_ERROR ? '-'
                                                              : '$';
        for (size_t i = 0; i < len && n + 5 < cap; i++) {
            if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
                buf[n++] = (char)s[i];
            else
                n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", s[i]);
        }
        buf[n] = '\0';
        return;
    }
    case EMBER_REPLY_INTEGER:
        snprintf(buf, cap, ":%lld", (long long)ember_reply_integer(r));
        return;
    case EMBER_REPLY_ARRAY:
    case EMBER_REPLY_MAP: /* flattened: key|value|key|value */
        n = (size_t)snprintf(buf, cap, ember_reply_type(r) == EMBER_REPLY_MAP ? "%%[" : "*[");
        for (size_t i = 0; i < ember_reply_len(r) && n < cap; i++) {
            if (i)
                n += (size_t)snprintf(buf + n, cap - n, "|");
            ta_fmt(ember_reply_element(r, i), buf + n, cap - n);
            n += strlen(buf + n);
        }
        if (n < cap)
            snprintf(buf + n, cap - n, "]");
        return;
    default:
        snprintf(buf, cap, "?%d", ember_reply_type(r));
    }
}

size_t ta_split(const char *line, char *store, const char **argv, size_t max)
{
    size_t argc = 0;
    const char *p = line;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        assert_true(argc < max);
        argv[argc++] = store;
        if (*p == '"') {
            p++;
            while (*p && *p != '"')
                *store++ = *p++;
            if (*p)
                p++;
        } else {
            while (*p && *p != ' ')
                *store++ = *p++;
        }
        *store++ = '\0';
    }
    return argc;
}

ember_reply *ta_cmd_line(ember_db *db, const char *line)
{
    char store[1024];
    const char *argv[128];
    assert_true(strlen(line) < sizeof store);
    size_t argc = ta_split(line, store, argv, 128);
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    return r;
}

const char *ta_run(ember_db *db, const char *line)
{
    static char out[8192];
    ember_reply *r = ta_cmd_line(db, line);
    ta_fmt(r, out, sizeof out);
    ember_reply_free(r);
    return out;
}

void ta_script(ember_db *db, const ta_step *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = ta_run(db, s[i].cmd);
        if (strcmp(got, s[i].want) != 0)
            print_error("step %zu: %s\n", i, s[i].cmd);
        assert_string_equal(got, s[i].want);
    }
}

int64_t ta_info_field(ember_db *db, const char *name)
{
    ember_reply *r = CMD(db, "INFO", "all");
    const char *s = ember_reply_str(r, NULL);
    assert_non_null(s);
    char key[64];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *p = strstr(s, key);
    assert_non_null(p);
    int64_t v = strtoll(p + strlen(key), NULL, 10);
    ember_reply_free(r);
    return v;
}
