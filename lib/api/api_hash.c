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
#include "typed.h"

/* CMD key field: HGET, HSETNX. */
static void argv_kf(em_argv *a, const char *cmd, const void *key, size_t klen, const void *f,
                    size_t flen)
{
    ember__argv_cmd_key(a, 3, cmd, key, klen);
    ember__argv_add(a, f, flen);
}

/* CMD key plus n fields (and values): HSET, HMGET. */
static int argv_kn(em_argv *a, const char *cmd, const void *key, size_t klen, size_t n,
                   const void *const *f, const size_t *flens, const void *const *v,
                   const size_t *vlens)
{
    size_t per = v ? 2 : 1;
    if (n >= (SIZE_MAX / (2 * sizeof(size_t))) / per - 2)
        return 0;
    ember__argv_cmd_key(a, n * per + 2, cmd, key, klen);
    ember__argv_add_keys(a, n, f, flens, v, vlens);
    return 1;
}

EMBER_API int ember_hset(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *fields, const size_t *flens, const void *const *vals,
                         const size_t *vlens, int64_t *added)
{
    if (!em_key_ok(db, key, klen) || !ember__pairs_ok(n, fields, flens, vals, vlens))
        return EMBER_EINVAL;
    em_argv a;
    if (!argv_kn(&a, "HSET", key, klen, n, fields, flens, vals, vlens))
        return EMBER_ENOMEM;
    return ember__typed_int(db, &a, added);
}

EMBER_API int ember_hsetnx(ember_db *db, const void *key, size_t klen, const void *field,
                           size_t flen, const void *val, size_t vlen, int *was_set)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(field, flen) || !em_bytes_ok(val, vlen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kf(&a, "HSETNX", key, klen, field, flen);
    ember__argv_add(&a, val, vlen);
    return ember__typed_flag(db, &a, was_set);
}

EMBER_API int ember_hget(ember_db *db, const void *key, size_t klen, const void *field, size_t flen,
                         void **val, size_t *vlen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    em_argv a;
    argv_kf(&a, "HGET", key, klen, field, flen);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_hmget(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *fields, const size_t *flens, ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out || !ember__list_ok(n, fields, flens))
        return EMBER_EINVAL;
    em_argv a;
    if (!argv_kn(&a, "HMGET", key, klen, n, fields, flens, NULL, NULL))
        return EMBER_ENOMEM;
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_hdel(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *fields, const size_t *flens, int64_t *removed)
{
    return ember__key_list_int(db, "HDEL", key, klen, n, fields, flens, removed);
}

EMBER_API int ember_hlen(ember_db *db, const void *key, size_t klen, int64_t *len)
{
    return ember__key_int(db, "HLEN", key, klen, len);
}

EMBER_API int ember_hstrlen(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int64_t *len)
{
    return ember__key_arg_int(db, "HSTRLEN", key, klen, field, flen, len);
}

EMBER_API int ember_hexists(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int *exists)
{
    return ember__key_arg_flag(db, "HEXISTS", key, klen, field, flen, exists);
}

EMBER_API int ember_hgetall(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return ember__key_tree(db, "HGETALL", key, klen, out);
}

EMBER_API int ember_hkeys(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return ember__key_tree(db, "HKEYS", key, klen, out);
}

EMBER_API int ember_hvals(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return ember__key_tree(db, "HVALS", key, klen, out);
}

EMBER_API int ember_hincrby(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int64_t delta, int64_t *result)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "HINCRBY", key, klen);
    ember__argv_add(&a, field, flen);
    ember__argv_add_ll(&a, delta);
    return ember__typed_int(db, &a, result);
}

EMBER_API int ember_hincrbyfloat(ember_db *db, const void *key, size_t klen, const void *field,
                                 size_t flen, double delta, double *result)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(field, flen))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_cmd_key(&a, 4, "HINCRBYFLOAT", key, klen);
    ember__argv_add(&a, field, flen);
    ember__argv_add_double(&a, delta, num, sizeof num);
    return ember__typed_bulk_double(db, &a, result);
}

EMBER_API int ember_hrandfield(ember_db *db, const void *key, size_t klen, int64_t count,
                               int withvalues, ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "HRANDFIELD", key, klen);
    ember__argv_add_ll(&a, count);
    if (withvalues)
        ember__argv_add_cstr(&a, "WITHVALUES");
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_hscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **pairs)
{
    return ember__typed_scan(db, "HSCAN", 1, key, klen, cursor, pattern, plen, count, NULL,
                             next_cursor, pairs);
}
