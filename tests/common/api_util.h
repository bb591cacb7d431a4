/*
 * api_util.h — the helpers the API tests (tests/api/test_*.c) share: opening
 * a database, running commands, checking replies. They use the public header
 * and cmocka only, and assert with cmocka, so call them from a test's main
 * thread. Include after <cmocka.h> (which wants <setjmp.h>, <stdarg.h> and
 * <stddef.h> before it).
 */
#ifndef TA_API_UTIL_H
#define TA_API_UTIL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

/* ------------------------------------------------------------ opening */

/* Allocator hooks ta_open() installs when asked: every malloc/realloc call
 * counts in ta_n_alloc, and fails while ta_fail_alloc is set (OOM tests). */
extern atomic_int ta_fail_alloc;
extern atomic_long ta_n_alloc;

/* Opens a database in mode (EMBER_MODE_*). virtual_start >= 0 starts a
 * virtual clock at that Unix time in ms (< 0: the real clock); hooks installs
 * the allocator hooks above; param, when not NULL, is set to value (a CONFIG
 * parameter, before opening). Asserts that every step succeeds. */
ember_db *ta_open(int mode, int64_t virtual_start, int hooks, const char *param, const char *value);

/* The virtual clock start of the tests that run once per mode, Unix ms. */
#define TA_T0 1700000000000ll

/* The EMBER_MODE_* of the group being run, for ta_setup(). */
extern int ta_mode;

/* A cmocka setup: *state = a database in ta_mode on a virtual clock at TA_T0. */
int ta_setup(void **state);

/* A cmocka teardown: closes *state, failing the test if that fails. */
int ta_teardown(void **state);

/* ------------------------------------------------------------ argv commands */

/* Runs a command of NUL-terminated words; asserts EMBER_OK, returns the reply. */
ember_reply *ta_cmd(ember_db *db, size_t argc, const char *const *argv);

/* CMD(db, "SET", "k", "v"): ta_cmd with the words as a literal argv. */
#define CMD(db, ...)                                                                               \
    ta_cmd(db, sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *),                       \
           (const char *[]){__VA_ARGS__})

/* Each checks r's type and value, then frees r. */
void ta_expect_error(ember_reply *r, const char *msg);
void ta_expect_status(ember_reply *r, const char *s);
void ta_expect_ok(ember_reply *r); /* the status "OK" */
void ta_expect_int(ember_reply *r, int64_t v);
void ta_expect_bulk(ember_reply *r, const char *s);
void ta_expect_nil(ember_reply *r);

/* A numeric field of INFO's full text (e.g. "expired_keys"); asserts it exists. */
int64_t ta_info_field(ember_db *db, const char *name);

/* ------------------------------------------------------------ command lines */

/* Writes r as one line: +status, -error, :int, $bulk (non-printable bytes and
 * backslashes as \xHH, as redis-cli shows them), (nil), *[e1|e2|...] and
 * %[k1|v1|k2|v2...] for maps; ?type for anything else. */
void ta_fmt(const ember_reply *r, char *buf, size_t cap);

/* Splits a command line into words: spaces separate, "double quotes" group,
 * "" is the empty word. store holds the words (at least strlen(line) + 1
 * bytes); asserts there are at most max. */
size_t ta_split(const char *line, char *store, const char **argv, size_t max);

/* Runs a command line (ta_split) and returns its reply tree. */
ember_reply *ta_cmd_line(ember_db *db, const char *line);

/* Runs a command line and returns its reply formatted by ta_fmt(), in a
 * static buffer the next call overwrites. */
const char *ta_run(ember_db *db, const char *line);

/* A scripted step: a command line and the ta_fmt() text of its reply. */
typedef struct ta_step {
    const char *cmd, *want;
} ta_step;

/* Runs each step in order, asserting each reply (the failing step is named). */
void ta_script(ember_db *db, const ta_step *s, size_t n);

/* SCRIPT(db, {"SET k v", "+OK"}, {"GET k", "$v"}, ...) */
#define SCRIPT(db, ...)                                                                            \
    do {                                                                                           \
        static const ta_step steps_[] = {__VA_ARGS__};                                             \
        ta_script(db, steps_, sizeof steps_ / sizeof steps_[0]);                                   \
    } while (0)

#endif
