/*
 * typed.c — argv building and reply extraction for typed wrappers (typed.h).
 */
#include "typed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clocale.h"
#include "../common/util.h"

void ember__argv_init(em_argv *a, size_t total)
{
    a->argc = 0;
    a->nnums = 0;
    a->oom = 0;
    if (total <= EM_ARGV_STACK) {
        a->argv = a->sargv;
        a->lens = a->slens;
        a->cap = EM_ARGV_STACK;
        return;
    }
    a->argv = malloc(total * sizeof *a->argv);
    a->lens = malloc(total * sizeof *a->lens);
    a->cap = total;
    if (!a->argv || !a->lens) {
        free(a->argv);
        free(a->lens);
        a->argv = a->sargv;
        a->lens = a->slens;
        a->cap = EM_ARGV_STACK;
        a->oom = 1;
    }
}

void ember__argv_free(em_argv *a)
{
    if (a->argv != a->sargv) {
        free(a->argv);
        free(a->lens);
    }
}

void ember__argv_add(em_argv *a, const void *p, size_t n)
{
    if (a->argc >= a->cap) {
        a->oom = 1;
        return;
    }
    a->argv[a->argc] = p ? (const char *)p : "";
    a->lens[a->argc] = n;
    a->argc++;
}

void ember__argv_add_cstr(em_argv *a, const char *s)
{
    ember__argv_add(a, s, strlen(s));
}

void ember__argv_add_ll(em_argv *a, long long v)
{
    if (a->nnums >= 4) {
        a->oom = 1;
        return;
    }
    char *b = a->nums[a->nnums++];
    size_t n = ember__ll_to_str(b, v);
    ember__argv_add(a, b, n);
}

/* Sends the shortest %g text (15 to 17 digits) that reads back as exactly v,
 * so 0.1 travels as "0.1" (as a person would type it) rather than as
 * 0.10000000000000001, which a command's long double arithmetic would carry
 * into its result. 17 digits always round-trip. Formatting uses the C locale
 * whatever the host's LC_NUMERIC. */
void ember__argv_add_double(em_argv *a, double v, char *buf, size_t cap)
{
    locale_t old = ember__locale_enter();
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, v);
        if (isnan(v) || strtod(buf, NULL) == v)
            break;
    }
    ember__locale_leave(old);
    ember__argv_add(a, buf, n < 0 ? 0 : (size_t)n);
}

double ember__parse_double_c(const char *s)
{
    locale_t old = ember__locale_enter();
    double d = strtod(s, NULL);
    ember__locale_leave(old);
    return d;
}

void ember__argv_add_keys(em_argv *a, size_t n, const void *const *keys, const size_t *klens,
                          const void *const *vals, const size_t *vlens)
{
    for (size_t i = 0; i < n; i++) {
        ember__argv_add(a, keys[i], klens[i]);
        if (vals)
            ember__argv_add(a, vals[i], vlens[i]);
    }
}

static int run(ember_db *db, em_argv *a, em_capture_sink *cap, int want_bulk)
{
    if (a->oom)
        return EMBER_ENOMEM;
    return ember__call_capture(db, a->argc, a->argv, a->lens, cap, want_bulk);
}

int ember__typed_int(ember_db *db, em_argv *a, int64_t *out)
{
    em_capture_sink cap;
    int rc = run(db, a, &cap, 0);
    ember__argv_free(a);
    if (rc)
        return rc;
    if (cap.type == EMBER_REPLY_NIL)
        return EMBER_ENOTFOUND;
    if (cap.type != EMBER_REPLY_INTEGER && cap.type != EMBER_REPLY_BOOL)
        return EMBER_EREPLY;
    if (out)
        *out = cap.i;
    return EMBER_OK;
}

int ember__typed_bulk(ember_db *db, em_argv *a, void **val, size_t *vlen)
{
    em_capture_sink cap;
    int rc = run(db, a, &cap, val != NULL);
    ember__argv_free(a);
    if (rc) {
        free(cap.bulk);
        return rc;
    }
    if (cap.type == EMBER_REPLY_NIL)
        return EMBER_ENOTFOUND;
    if (cap.type != EMBER_REPLY_STRING) {
        free(cap.bulk);
        return EMBER_EREPLY;
    }
    if (val)
        *val = cap.bulk;
    if (vlen)
        *vlen = cap.len;
    return EMBER_OK;
}

int ember__typed_status(ember_db *db, em_argv *a)
{
    em_capture_sink cap;
    int rc = run(db, a, &cap, 0);
    ember__argv_free(a);
    if (rc)
        return rc;
    if (cap.type == EMBER_REPLY_NIL)
        return EMBER_ENOTFOUND;
    return cap.type == EMBER_REPLY_STATUS ? EMBER_OK : EMBER_EREPLY;
}

int ember__typed_reply(ember_db *db, em_argv *a, ember_reply **out)
{
    int rc = a->oom ? EMBER_ENOMEM : ember_command(db, a->argc, a->argv, a->lens, out);
    ember__argv_free(a);
    return rc;
}
