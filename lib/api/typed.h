/*
 * typed.h — helpers for the typed wrappers (ember_get, ember_del, ...).
 *
 * A wrapper builds the same argv a client would send and runs it through
 * ember__call_capture(), the single command path, then reads one scalar out
 * of the capture sink. Nothing here allocates for small argument lists.
 */
#ifndef EMBER_TYPED_H
#define EMBER_TYPED_H

#include "api.h"

#define EM_ARGV_STACK 24

/* An argv under construction: stack storage, heap beyond EM_ARGV_STACK. */
typedef struct em_argv {
    const char **argv;
    size_t *lens;
    size_t argc, cap;
    const char *sargv[EM_ARGV_STACK];
    size_t slens[EM_ARGV_STACK];
    char nums[4][24]; /* room for up to four formatted integers */
    int nnums;
    int oom;
} em_argv;

/* Starts an argv for `total` arguments (heap-allocated when large). */
void ember__argv_init(em_argv *a, size_t total);
void ember__argv_free(em_argv *a);
void ember__argv_add(em_argv *a, const void *p, size_t n);
void ember__argv_add_cstr(em_argv *a, const char *s);
/* Adds an int64 formatted in decimal (at most four per argv). */
void ember__argv_add_ll(em_argv *a, long long v);
/* Adds a double as the shortest text that reads back exactly (C locale);
 * buf (>= 32 bytes) must outlive the call that uses the argv. */
void ember__argv_add_double(em_argv *a, double v, char *buf, size_t cap);
/* strtod in the C locale. */
double ember__parse_double_c(const char *s);
/* Adds n keys (or key/value pairs when vals != NULL). */
void ember__argv_add_keys(em_argv *a, size_t n, const void *const *keys, const size_t *klens,
                          const void *const *vals, const size_t *vlens);

/* Runs argv; expects an INTEGER (or BOOL) reply. NIL maps to EMBER_ENOTFOUND. */
int ember__typed_int(ember_db *db, em_argv *a, int64_t *out);
/* Runs argv; expects a STRING (copied for the caller) or NIL (EMBER_ENOTFOUND). */
int ember__typed_bulk(ember_db *db, em_argv *a, void **val, size_t *vlen);
/* Runs argv; expects a STATUS (EMBER_OK) or NIL (EMBER_ENOTFOUND). */
int ember__typed_status(ember_db *db, em_argv *a);
/* Runs argv; hands back the whole reply tree. */
int ember__typed_reply(ember_db *db, em_argv *a, ember_reply **out);
/* Validates a (ptr, len) pair: NULL only with length 0. */
static inline int em_bytes_ok(const void *p, size_t n)
{
    return p || n == 0;
}

#endif
