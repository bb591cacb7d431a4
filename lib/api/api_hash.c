/*
 * api_hash.c — typed wrappers for the hash commands (ember.h, "Typed
 * wrappers: hashes").
 *
 * Each wrapper validates its arguments, builds exactly the argv a client
 * would send (no allocation for small argument lists) and runs it through
 * the single command path (ember__typed_*), so behaviour and errors are those
 * of the command. Out-parameters are written only on EMBER_OK; wrappers
 * returning a reply tree map an error reply to its status code and return no
 * tree.
 */
#include <stdlib.h>
#include <string.h>

#include "typed.h"

static int key_ok(const ember_db *db, const void *key, size_t klen)
{
    return db && em_bytes_ok(key, klen);
}

/* n >= 1 valid byte ranges (and as many values when vals_needed). */
static int fields_ok(size_t n, const void *const *f, const size_t *flens, const void *const *v,
                     const size_t *vlens, int vals_needed)
{
    if (n == 0 || !f || !flens || (vals_needed && (!v || !vlens)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!em_bytes_ok(f[i], flens[i]))
            return 0;
        if (vals_needed && !em_bytes_ok(v[i], vlens[i]))
            return 0;
    }
    return 1;
}

/* Runs argv for a reply tree; an error reply becomes its status code. */
static int typed_tree(ember_db *db, em_argv *a, ember_reply **out)
{
    ember_reply *r = NULL;
    int rc = ember__typed_reply(db, a, &r);
    if (rc != EMBER_OK)
        return rc;
    if (ember_reply_type(r) == EMBER_REPLY_ERROR) {
        rc = ember_reply_error_code(r);
        ember_reply_free(r);
        return rc;
    }
    *out = r;
    return EMBER_OK;
}

/* CMD key: HLEN, HGETALL, HKEYS, HVALS. */
static void argv_k(em_argv *a, const char *cmd, const void *key, size_t klen)
{
    ember__argv_init(a, 2);
    ember__argv_add_cstr(a, cmd);
    ember__argv_add(a, key, klen);
}

/* CMD key field: HGET, HSTRLEN, HEXISTS. */
static void argv_kf(em_argv *a, const char *cmd, const void *key, size_t klen, const void *f,
                    size_t flen)
{
    ember__argv_init(a, 3);
    ember__argv_add_cstr(a, cmd);
    ember__argv_add(a, key, klen);
    ember__argv_add(a, f, flen);
}

/* CMD key plus n fields (and values): HSET, HMGET, HDEL. */
static int argv_kn(em_argv *a, const char *cmd, const void *key, size_t klen, size_t n,
                   const void *const *f, const size_t *flens, const void *const *v,
                   const size_t *vlens)
{
    size_t per = v ? 2 : 1;
    if (n >= (SIZE_MAX / (2 * sizeof(size_t))) / per - 2)
        return 0;
    ember__argv_init(a, n * per + 2);
    ember__argv_add_cstr(a, cmd);
    ember__argv_add(a, key, klen);
    ember__argv_add_keys(a, n, f, flens, v, vlens);
    return 1;
}

static void set_int(int *out, int64_t v)
{
    if (out)
        *out = v != 0;
}

EMBER_API int ember_hset(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *fields, const size_t *flens, const void *const *vals,
                         const size_t *vlens, int64_t *added)
{
    if (!key_ok(db, key, klen) || !fields_ok(n, fields, flens, vals, vlens, 1))
        return EMBER_EINVAL;
    em_argv a;
    if (!argv_kn(&a, "HSET", key, klen, n, fields, flens, vals, vlens))
        return EMBER_ENOMEM;
    return ember__typed_int(db, &a, added);
}

EMBER_API int ember_hsetnx(ember_db *db, const void *key, size_t klen, const void *field,
                           size_t flen, const void *val, size_t vlen, int *was_set)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(field, flen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kf(&a, "HSETNX", key, klen, field, flen);
    ember__argv_add(&a, val, vlen);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK)
        set_int(was_set, v);
    return rc;
}

EMBER_API int ember_hget(ember_db *db, const void *key, size_t klen, const void *field, size_t flen,
                         void **val, size_t *vlen)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kf(&a, "HGET", key, klen, field, flen);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_hmget(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *fields, const size_t *flens, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out || !fields_ok(n, fields, flens, NULL, NULL, 0))
        return EMBER_EINVAL;
    em_argv a;
    if (!argv_kn(&a, "HMGET", key, klen, n, fields, flens, NULL, NULL))
        return EMBER_ENOMEM;
    return typed_tree(db, &a, out);
}

EMBER_API int ember_hdel(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *fields, const size_t *flens, int64_t *removed)
{
    if (!key_ok(db, key, klen) || !fields_ok(n, fields, flens, NULL, NULL, 0))
        return EMBER_EINVAL;
    em_argv a;
    if (!argv_kn(&a, "HDEL", key, klen, n, fields, flens, NULL, NULL))
        return EMBER_ENOMEM;
    return ember__typed_int(db, &a, removed);
}

EMBER_API int ember_hlen(ember_db *db, const void *key, size_t klen, int64_t *len)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, "HLEN", key, klen);
    return ember__typed_int(db, &a, len);
}

EMBER_API int ember_hstrlen(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int64_t *len)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kf(&a, "HSTRLEN", key, klen, field, flen);
    return ember__typed_int(db, &a, len);
}

EMBER_API int ember_hexists(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int *exists)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kf(&a, "HEXISTS", key, klen, field, flen);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK)
        set_int(exists, v);
    return rc;
}

/* HGETALL / HKEYS / HVALS. */
static int whole_cmd(ember_db *db, const char *cmd, const void *key, size_t klen, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, cmd, key, klen);
    return typed_tree(db, &a, out);
}

EMBER_API int ember_hgetall(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return whole_cmd(db, "HGETALL", key, klen, out);
}

EMBER_API int ember_hkeys(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return whole_cmd(db, "HKEYS", key, klen, out);
}

EMBER_API int ember_hvals(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return whole_cmd(db, "HVALS", key, klen, out);
}

EMBER_API int ember_hincrby(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int64_t delta, int64_t *result)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "HINCRBY");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, field, flen);
    ember__argv_add_ll(&a, delta);
    return ember__typed_int(db, &a, result);
}

EMBER_API int ember_hincrbyfloat(ember_db *db, const void *key, size_t klen, const void *field,
                                 size_t flen, double delta, double *result)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "HINCRBYFLOAT");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, field, flen);
    ember__argv_add_double(&a, delta, num, sizeof num);
    void *txt = NULL;
    int rc = ember__typed_bulk(db, &a, result ? &txt : NULL, NULL);
    if (rc == EMBER_OK && result)
        *result = ember__parse_double_c(txt); /* a decimal without exponent */
    free(txt);
    return rc;
}

EMBER_API int ember_hrandfield(ember_db *db, const void *key, size_t klen, int64_t count,
                               int withvalues, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "HRANDFIELD");
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, count);
    if (withvalues)
        ember__argv_add_cstr(&a, "WITHVALUES");
    return typed_tree(db, &a, out);
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

EMBER_API int ember_hscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **pairs)
{
    if (!key_ok(db, key, klen) || !next_cursor || !pairs || (pattern == NULL && plen != 0))
        return EMBER_EINVAL;
    char cbuf[24], nbuf[24];
    size_t cl = 0;
    do /* the cursor's decimal digits (unsigned: argv_add_ll would sign it) */
        nbuf[cl++] = (char)('0' + cursor % 10);
    while ((cursor /= 10) != 0);
    for (size_t i = 0; i < cl; i++)
        cbuf[i] = nbuf[cl - 1 - i];
    em_argv a;
    ember__argv_init(&a, 7);
    ember__argv_add_cstr(&a, "HSCAN");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, cbuf, cl);
    if (pattern) {
        ember__argv_add_cstr(&a, "MATCH");
        ember__argv_add(&a, pattern, plen);
    }
    if (count) {
        ember__argv_add_cstr(&a, "COUNT");
        ember__argv_add_ll(&a, count);
    }
    ember_reply *r = NULL;
    int rc = typed_tree(db, &a, &r);
    if (rc != EMBER_OK)
        return rc;
    /* [cursor, [field, value, ...]]: keep the inner array, free the rest. */
    size_t cl2 = 0;
    const char *cs = ember_reply_str(ember_reply_element(r, 0), &cl2);
    if (ember_reply_type(r) != EMBER_REPLY_ARRAY || ember_reply_len(r) != 2 ||
        r->u.elems[1]->type != EMBER_REPLY_ARRAY || !parse_u64(cs, cl2, next_cursor)) {
        ember_reply_free(r);
        return EMBER_EREPLY;
    }
    *pairs = r->u.elems[1];
    r->len = 1; /* the root no longer owns the pair array */
    ember_reply_free(r);
    return EMBER_OK;
}
