/*
 * api_string.c — typed wrappers for the string commands (ember.h, "Typed
 * wrappers: strings").
 *
 * Each wrapper validates its arguments, builds exactly the argv a client
 * would send (no allocation for small argument lists) and runs it through
 * the single command path (ember__typed_*), so behaviour and errors are those
 * of the command. Out-parameters are written only on EMBER_OK.
 */
#include "typed.h"

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

/* One key and one value after the command name: SET, GETSET, SETNX, APPEND. */
static void argv_kv(em_argv *a, const char *cmd, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    ember__argv_cmd_key(a, 3, cmd, key, klen);
    ember__argv_add(a, val, vlen);
}

EMBER_API int ember_set(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "SET", key, klen, val, vlen);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_set_ex(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           int64_t ttl_ms, uint32_t flags, int *was_set)
{
    const uint32_t known = EMBER_SET_NX | EMBER_SET_XX | EMBER_SET_KEEPTTL | EMBER_SET_ABS;
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen) || (flags & ~known))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 8, "SET", key, klen);
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
    return ember__key_bulk(db, "GET", key, klen, val, vlen);
}

EMBER_API int ember_getset(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           void **old, size_t *oldlen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "GETSET", key, klen, val, vlen);
    return ember__typed_bulk(db, &a, old, oldlen);
}

EMBER_API int ember_getdel(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    return ember__key_bulk(db, "GETDEL", key, klen, val, vlen);
}

EMBER_API int ember_setnx(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                          int *was_set)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "SETNX", key, klen, val, vlen);
    return ember__typed_flag(db, &a, was_set);
}

/* SETEX / PSETEX: key, a time, a value. */
static int setex_generic(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t t,
                         const void *val, size_t vlen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, cmd, key, klen);
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
    if (!db || !out || !ember__list_ok(n, keys, klens))
        return EMBER_EINVAL;
    if (n >= SIZE_MAX / (2 * sizeof(size_t)))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_cmd(&a, n + 1, "MGET");
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return ember__typed_reply(db, &a, out);
}

/* MSET (nx 0, replies OK) / MSETNX (nx 1, replies 1 or 0) with n pairs. */
static int mset_generic(ember_db *db, int nx, size_t n, const void *const *keys,
                        const size_t *klens, const void *const *vals, const size_t *vlens,
                        int *was_set)
{
    if (!db || !ember__pairs_ok(n, keys, klens, vals, vlens))
        return EMBER_EINVAL;
    if (n >= SIZE_MAX / (4 * sizeof(size_t)))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_cmd(&a, 2 * n + 1, nx ? "MSETNX" : "MSET");
    ember__argv_add_keys(&a, n, keys, klens, vals, vlens);
    return nx ? ember__typed_flag(db, &a, was_set) : ember__typed_status(db, &a);
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
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kv(&a, "APPEND", key, klen, val, vlen);
    return ember__typed_int(db, &a, newlen);
}

EMBER_API int ember_strlen(ember_db *db, const void *key, size_t klen, int64_t *len)
{
    return ember__key_int(db, "STRLEN", key, klen, len);
}

EMBER_API int ember_getrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t end,
                             void **val, size_t *vlen)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "GETRANGE", key, klen);
    ember__argv_add_ll(&a, start);
    ember__argv_add_ll(&a, end);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_setrange(ember_db *db, const void *key, size_t klen, int64_t offset,
                             const void *val, size_t vlen, int64_t *newlen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "SETRANGE", key, klen);
    ember__argv_add_ll(&a, offset);
    ember__argv_add(&a, val, vlen);
    return ember__typed_int(db, &a, newlen);
}

/* INCRBY / DECRBY: key and an amount. */
static int incrby_generic(ember_db *db, const char *cmd, const void *key, size_t klen,
                          int64_t delta, int64_t *result)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, cmd, key, klen);
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
    return ember__key_int(db, "INCR", key, klen, result);
}

EMBER_API int ember_decr(ember_db *db, const void *key, size_t klen, int64_t *result)
{
    return ember__key_int(db, "DECR", key, klen, result);
}

EMBER_API int ember_incrbyfloat(ember_db *db, const void *key, size_t klen, double delta,
                                double *result)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_cmd_key(&a, 3, "INCRBYFLOAT", key, klen);
    ember__argv_add_double(&a, delta, num, sizeof num);
    return ember__typed_bulk_double(db, &a, result);
}
