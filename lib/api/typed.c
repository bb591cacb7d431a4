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

/* Runs argv into cap and frees argv; a NIL reply is EMBER_ENOTFOUND. cap is
 * cleared first, so cap->bulk can be freed whatever the outcome. */
static int run(ember_db *db, em_argv *a, em_capture_sink *cap, int want_bulk)
{
    memset(cap, 0, sizeof *cap);
    int rc =
        a->oom ? EMBER_ENOMEM : ember__call_capture(db, a->argc, a->argv, a->lens, cap, want_bulk);
    ember__argv_free(a);
    if (rc == EMBER_OK && cap->type == EMBER_REPLY_NIL)
        rc = EMBER_ENOTFOUND;
    return rc;
}

int ember__typed_int(ember_db *db, em_argv *a, int64_t *out)
{
    em_capture_sink cap;
    int rc = run(db, a, &cap, 0);
    if (rc)
        return rc;
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
    if (rc) {
        free(cap.bulk);
        return rc;
    }
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

int ember__typed_double(ember_db *db, em_argv *a, double *out)
{
    em_capture_sink cap;
    int rc = run(db, a, &cap, 0);
    if (rc)
        return rc;
    if (cap.type != EMBER_REPLY_DOUBLE)
        return EMBER_EREPLY;
    if (out)
        *out = cap.d;
    return EMBER_OK;
}

int ember__typed_status(ember_db *db, em_argv *a)
{
    em_capture_sink cap;
    int rc = run(db, a, &cap, 0);
    if (rc)
        return rc;
    return cap.type == EMBER_REPLY_STATUS ? EMBER_OK : EMBER_EREPLY;
}

int ember__typed_reply(ember_db *db, em_argv *a, ember_reply **out)
{
    int rc = a->oom ? EMBER_ENOMEM : ember_command(db, a->argc, a->argv, a->lens, out);
    ember__argv_free(a);
    return rc;
}

int ember__typed_flag(ember_db *db, em_argv *a, int *flag)
{
    int64_t v;
    int rc = ember__typed_int(db, a, &v);
    if (rc == EMBER_OK && flag)
        *flag = v != 0;
    return rc;
}

int ember__typed_bulk_double(ember_db *db, em_argv *a, double *result)
{
    void *txt = NULL;
    int rc = ember__typed_bulk(db, a, result ? &txt : NULL, NULL);
    if (rc == EMBER_OK && result)
        *result = ember__parse_double_c(txt); /* a decimal without exponent */
    free(txt);
    return rc;
}

/* The reply tree of argv; ERROR (and NIL when nil_notfound) become codes. */
static int typed_tree(ember_db *db, em_argv *a, ember_reply **out, int nil_notfound)
{
    ember_reply *r = NULL;
    int rc = ember__typed_reply(db, a, &r);
    if (rc != EMBER_OK)
        return rc;
    int t = ember_reply_type(r);
    if (t == EMBER_REPLY_ERROR || (nil_notfound && t == EMBER_REPLY_NIL)) {
        rc = t == EMBER_REPLY_NIL ? EMBER_ENOTFOUND : ember_reply_error_code(r);
        ember_reply_free(r);
        return rc;
    }
    *out = r;
    return EMBER_OK;
}

int ember__typed_tree(ember_db *db, em_argv *a, ember_reply **out)
{
    return typed_tree(db, a, out, 0);
}

int ember__typed_tree_found(ember_db *db, em_argv *a, ember_reply **out)
{
    return typed_tree(db, a, out, 1);
}

void ember__argv_cmd(em_argv *a, size_t total, const char *cmd)
{
    ember__argv_init(a, total);
    ember__argv_add_cstr(a, cmd);
}

void ember__argv_cmd_key(em_argv *a, size_t total, const char *cmd, const void *key, size_t klen)
{
    ember__argv_cmd(a, total, cmd);
    ember__argv_add(a, key, klen);
}

int ember__list_ok(size_t n, const void *const *p, const size_t *lens)
{
    if (n == 0 || !p || !lens)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!em_bytes_ok(p[i], lens[i]))
            return 0;
    return 1;
}

int ember__pairs_ok(size_t n, const void *const *p, const size_t *lens, const void *const *vals,
                    const size_t *vlens)
{
    return vals && vlens && ember__list_ok(n, p, lens) && ember__list_ok(n, vals, vlens);
}

int ember__key_int(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t *out)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 2, cmd, key, klen);
    return ember__typed_int(db, &a, out);
}

int ember__key_bulk(ember_db *db, const char *cmd, const void *key, size_t klen, void **val,
                    size_t *vlen)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 2, cmd, key, klen);
    return ember__typed_bulk(db, &a, val, vlen);
}

int ember__key_tree(ember_db *db, const char *cmd, const void *key, size_t klen, ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 2, cmd, key, klen);
    return ember__typed_tree(db, &a, out);
}

int ember__key_arg_int(ember_db *db, const char *cmd, const void *key, size_t klen, const void *arg,
                       size_t alen, int64_t *out)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(arg, alen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, cmd, key, klen);
    ember__argv_add(&a, arg, alen);
    return ember__typed_int(db, &a, out);
}

int ember__key_arg_flag(ember_db *db, const char *cmd, const void *key, size_t klen,
                        const void *arg, size_t alen, int *flag)
{
    int64_t v;
    int rc = ember__key_arg_int(db, cmd, key, klen, arg, alen, &v);
    if (rc == EMBER_OK && flag)
        *flag = v != 0;
    return rc;
}

int ember__key_list_int(ember_db *db, const char *cmd, const void *key, size_t klen, size_t n,
                        const void *const *items, const size_t *ilens, int64_t *out)
{
    if (!em_key_ok(db, key, klen) || !ember__list_ok(n, items, ilens))
        return EMBER_EINVAL;
    if (em_too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_cmd_key(&a, n + 2, cmd, key, klen);
    ember__argv_add_keys(&a, n, items, ilens, NULL, NULL);
    return ember__typed_int(db, &a, out);
}

/* A scan cursor travels as the decimal text of an unsigned 64-bit number
 * (ember__argv_add_ll would sign the upper half). buf >= 20 bytes. */
static size_t u64_text(char *buf, uint64_t v)
{
    char rev[20];
    size_t n = 0;
    do
        rev[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    return n;
}

/* Reads a cursor back: decimal digits only, no overflow. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int ember__typed_scan(ember_db *db, const char *cmd, int has_key, const void *key, size_t klen,
                      uint64_t cursor, const void *pattern, size_t plen, uint32_t count,
                      const char *type, uint64_t *next_cursor, ember_reply **elems)
{
    if (!db || (has_key && !em_bytes_ok(key, klen)) || !next_cursor || !elems ||
        !em_bytes_ok(pattern, plen))
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    char cbuf[24];
    em_argv a;
    ember__argv_cmd(&a, 9, cmd);
    if (has_key)
        ember__argv_add(&a, key, klen);
    ember__argv_add(&a, cbuf, u64_text(cbuf, cursor));
    if (pattern) {
        ember__argv_add_cstr(&a, "MATCH");
        ember__argv_add(&a, pattern, plen);
    }
    if (count) {
        ember__argv_add_cstr(&a, "COUNT");
        ember__argv_add_ll(&a, count);
    }
    if (type) {
        ember__argv_add_cstr(&a, "TYPE");
        ember__argv_add_cstr(&a, type);
    }
    ember_reply *r = NULL;
    int rc = ember__typed_tree(db, &a, &r);
    if (rc != EMBER_OK)
        return rc;
    /* Take the element array out of the tree (its nodes are independent
     * blocks) and free the rest. */
    size_t cl;
    const char *cs = ember_reply_str(ember_reply_element(r, 0), &cl);
    uint64_t next;
    if (ember_reply_type(r) != EMBER_REPLY_ARRAY || ember_reply_len(r) != 2 ||
        ember_reply_type(ember_reply_element(r, 1)) != EMBER_REPLY_ARRAY ||
        !parse_u64(cs, cl, &next)) {
        ember_reply_free(r);
        return EMBER_EREPLY;
    }
    *elems = r->u.elems[1];
    r->len = 1; /* the root no longer owns the element array */
    ember_reply_free(r);
    *next_cursor = next;
    return EMBER_OK;
}

void ember__argv_add_timeout_ms(em_argv *a, int64_t ms, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
    ember__argv_add(a, buf, n < 0 ? 0 : (size_t)n);
}
