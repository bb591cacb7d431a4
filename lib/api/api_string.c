/*
 * api_string.c — typed wrappers for the string commands (ember.h, "Typed
 * wrappers: strings").
 *
 * Each wrapper validates its arguments, builds exactly the argv a client
 * would send (no allocation for small argument lists) and runs it through
 * the single command path (ember__typed_*), so behaviour and errors are those
 * of the command. Out-parameters are written only on EMBER_OK.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "typed.h"

/* EMBER_EINVAL unless db is given and (key, klen) is a valid byte range. */
static int key_ok(const ember_db *db, const void *key, size_t klen)
{
    return db && em_bytes_ok(key, klen);
}

/* Validates n keys (and values when vals_needed) for the multi-key wrappers. */
static int keys_ok(size_t n, const void *const *keys, const size_t *klens, const void *const *vals,
                   const size_t *vlens, int vals_needed)
{
    if (n == 0 || !keys || !klens || (vals_needed && (!vals || !vlens)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!em_bytes_ok(keys[i], klens[i]))
            return 0;
        if (vals_needed && !em_bytes_ok(vals[i], vlens[i]))
            return 0;
    }
    return 1;
}

/* Runs a command whose reply is OK or nil and reports which as *was_set. */
static int status_flag(ember_db *db, em_argv *a, int *was_set)
{
    int rc = ember__typed_status(db, a);
    if (rc != EMBER_OK && rc != EMBER_ENOTFOUND)
        return rc;
    if (was_set)
        *was_set = rc == EMBER_OK;
    return EMBER_OK;
}

/* Runs a command whose reply is the integer 0 or 1 and reports it as *flag. */
static int int_flag(ember_db *db, em_argv *a, int *flag)
{
    int64_t v;
    int rc = ember__typed_int(db, a, &v);
    if (rc == EMBER_OK && flag)
        *flag = v != 0;
    return rc;
}

/* One key and one value after the command name: SET, GETSET, SETNX, APPEND. */
static void argv_kv(em_argv *a, const char *cmd, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    ember__argv_init(a, 3);
    ember__argv_add_cstr(a, cmd);
    ember__argv_add(a, key, klen);
    ember__argv_add(a, val, vlen);
}

/* A command name and a key: GET, GETDEL, STRLEN, INCR, DECR. */
static void argv_k(em_argv *a, const char *cmd, const void *key, size_t klen)
{
    ember__argv_init(a, 2);
    ember__argv_add_cstr(a, cmd);
    ember__argv_add(a, key, klen);
}

EMBER_API int ember_set(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "SET", key, klen, val, vlen);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_set_ex(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           int64_t ttl_ms, uint32_t flags, int *was_set)
{
    const uint32_t known = EMBER_SET_NX | EMBER_SET_XX | EMBER_SET_KEEPTTL | EMBER_SET_ABS;
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen) || (flags & ~known))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 8);
    ember__argv_add_cstr(&a, "SET");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, val, vlen);
    /* Conflicting flags (NX with XX, KEEPTTL with a TTL) are passed on: the
     * command answers them with its syntax error, as it would a client. */
    if (ttl_ms != 0) {
        ember__argv_add_cstr(&a, (flags & EMBER_SET_ABS) ? "PXAT" : "PX");
        ember__argv_add_ll(&a, ttl_ms);
    }
    if (flags & EMBER_SET_NX)
        ember__argv_add_cstr(&a, "NX");
    if (flags & EMBER_SET_XX)
        ember__argv_add_cstr(&a, "XX");
    if (flags & EMBER_SET_KEEPTTL)
        ember__argv_add_cstr(&a, "KEEPTTL");
    return status_flag(db, &a, was_set);
}

EMBER_API int ember_get(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, "GET", key, klen);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_getset(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           void **old, size_t *oldlen)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "GETSET", key, klen, val, vlen);
    return ember__typed_bulk(db, &a, old, oldlen);
}

EMBER_API int ember_getdel(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, "GETDEL", key, klen);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_setnx(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                          int *was_set)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "SETNX", key, klen, val, vlen);
    return int_flag(db, &a, was_set);
}

/* SETEX / PSETEX: key, a time, a value. */
static int setex_generic(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t t,
                         const void *val, size_t vlen)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, t);
    ember__argv_add(&a, val, vlen);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_setex(ember_db *db, const void *key, size_t klen, int64_t seconds,
                          const void *val, size_t vlen)
{
    return setex_generic(db, "SETEX", key, klen, seconds, val, vlen);
}

EMBER_API int ember_psetex(ember_db *db, const void *key, size_t klen, int64_t ms, const void *val,
                           size_t vlen)
{
    return setex_generic(db, "PSETEX", key, klen, ms, val, vlen);
}

EMBER_API int ember_mget(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                         ember_reply **out)
{
    if (!db || !out || !keys_ok(n, keys, klens, NULL, NULL, 0))
        return EMBER_EINVAL;
    if (n >= SIZE_MAX / (2 * sizeof(size_t)))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, n + 1);
    ember__argv_add_cstr(&a, "MGET");
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return ember__typed_reply(db, &a, out);
}

/* MSET (nx 0, replies OK) / MSETNX (nx 1, replies 1 or 0) with n pairs. */
static int mset_generic(ember_db *db, int nx, size_t n, const void *const *keys,
                        const size_t *klens, const void *const *vals, const size_t *vlens,
                        int *was_set)
{
    if (!db || !keys_ok(n, keys, klens, vals, vlens, 1))
        return EMBER_EINVAL;
    if (n >= SIZE_MAX / (4 * sizeof(size_t)))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, 2 * n + 1);
    ember__argv_add_cstr(&a, nx ? "MSETNX" : "MSET");
    ember__argv_add_keys(&a, n, keys, klens, vals, vlens);
    return nx ? int_flag(db, &a, was_set) : ember__typed_status(db, &a);
}

EMBER_API int ember_mset(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                         const void *const *vals, const size_t *vlens)
{
    return mset_generic(db, 0, n, keys, klens, vals, vlens, NULL);
}

EMBER_API int ember_msetnx(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           const void *const *vals, const size_t *vlens, int *was_set)
{
    return mset_generic(db, 1, n, keys, klens, vals, vlens, was_set);
}

EMBER_API int ember_append(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           int64_t *newlen)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "APPEND", key, klen, val, vlen);
    return ember__typed_int(db, &a, newlen);
}

EMBER_API int ember_strlen(ember_db *db, const void *key, size_t klen, int64_t *len)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, "STRLEN", key, klen);
    return ember__typed_int(db, &a, len);
}

EMBER_API int ember_getrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t end,
                             void **val, size_t *vlen)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "GETRANGE");
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, start);
    ember__argv_add_ll(&a, end);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_setrange(ember_db *db, const void *key, size_t klen, int64_t offset,
                             const void *val, size_t vlen, int64_t *newlen)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "SETRANGE");
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, offset);
    ember__argv_add(&a, val, vlen);
    return ember__typed_int(db, &a, newlen);
}

/* INCRBY / DECRBY: key and an amount. */
static int incrby_generic(ember_db *db, const char *cmd, const void *key, size_t klen,
                          int64_t delta, int64_t *result)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, delta);
    return ember__typed_int(db, &a, result);
}

EMBER_API int ember_incrby(ember_db *db, const void *key, size_t klen, int64_t delta,
                           int64_t *result)
{
    return incrby_generic(db, "INCRBY", key, klen, delta, result);
}

EMBER_API int ember_decrby(ember_db *db, const void *key, size_t klen, int64_t delta,
                           int64_t *result)
{
    int rc = incrby_generic(db, "DECRBY", key, klen, delta, result);
    /* DECRBY of INT64_MIN replies "ERR decrement would overflow", which no
     * generic prefix maps; with that argument the command gives no other
     * Redis error (it is checked before the key is looked up). */
    if (rc == EMBER_EREPLY && delta == INT64_MIN)
        rc = EMBER_EOVERFLOW;
    return rc;
}

EMBER_API int ember_incr(ember_db *db, const void *key, size_t klen, int64_t *result)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, "INCR", key, klen);
    return ember__typed_int(db, &a, result);
}

EMBER_API int ember_decr(ember_db *db, const void *key, size_t klen, int64_t *result)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    argv_k(&a, "DECR", key, klen);
    return ember__typed_int(db, &a, result);
}

EMBER_API int ember_incrbyfloat(ember_db *db, const void *key, size_t klen, double delta,
                                double *result)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "INCRBYFLOAT");
    ember__argv_add(&a, key, klen);
    ember__argv_add_double(&a, delta, num, sizeof num);
    void *txt = NULL;
    int rc = ember__typed_bulk(db, &a, result ? &txt : NULL, NULL);
    if (rc == EMBER_OK && result)
        *result = ember__parse_double_c(txt); /* a decimal without exponent */
    free(txt);
    return rc;
}
