/*
 * api_set.c — typed wrappers for the set commands (ember.h, "Typed wrappers:
 * sets").
 *
 * Each wrapper validates its arguments, builds exactly the argv a client
 * would send (no allocation for small argument lists) and runs it through
 * the single command path (ember__typed_*), so behaviour and errors are those
 * of the command. Out-parameters are written only on EMBER_OK. Wrappers that
 * hand back a reply tree map an error reply to its status code instead.
 */
#include "typed.h"

EMBER_API int ember_sadd(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *added)
{
    return ember__key_list_int(db, "SADD", key, klen, n, members, mlens, added);
}

EMBER_API int ember_srem(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *removed)
{
    return ember__key_list_int(db, "SREM", key, klen, n, members, mlens, removed);
}

EMBER_API int ember_scard(ember_db *db, const void *key, size_t klen, int64_t *count)
{
    return ember__key_int(db, "SCARD", key, klen, count);
}

EMBER_API int ember_sismember(ember_db *db, const void *key, size_t klen, const void *member,
                              size_t mlen, int *is_member)
{
    return ember__key_arg_flag(db, "SISMEMBER", key, klen, member, mlen, is_member);
}

EMBER_API int ember_smismember(ember_db *db, const void *key, size_t klen, size_t n,
                               const void *const *members, const size_t *mlens, ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out || !ember__list_ok(n, members, mlens))
        return EMBER_EINVAL;
    if (em_too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_cmd_key(&a, n + 2, "SMISMEMBER", key, klen);
    ember__argv_add_keys(&a, n, members, mlens, NULL, NULL);
    return ember__typed_tree(db, &a, out);
}

/* CMD key: SMEMBERS. */
EMBER_API int ember_smembers(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    return ember__key_tree(db, "SMEMBERS", key, klen, out);
}

/* SPOP / SRANDMEMBER key count: a reply tree. */
static int count_members(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t count,
                         ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, cmd, key, klen);
    ember__argv_add_ll(&a, count);
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_spop(ember_db *db, const void *key, size_t klen, void **member, size_t *mlen)
{
    return ember__key_bulk(db, "SPOP", key, klen, member, mlen);
}

EMBER_API int ember_spop_count(ember_db *db, const void *key, size_t klen, int64_t count,
                               ember_reply **out)
{
    if (count < 0)
        return EMBER_ERANGE;
    return count_members(db, "SPOP", key, klen, count, out);
}

EMBER_API int ember_srandmember(ember_db *db, const void *key, size_t klen, void **member,
                                size_t *mlen)
{
    return ember__key_bulk(db, "SRANDMEMBER", key, klen, member, mlen);
}

EMBER_API int ember_srandmember_count(ember_db *db, const void *key, size_t klen, int64_t count,
                                      ember_reply **out)
{
    if (count == INT64_MIN)
        return EMBER_ERANGE;
    return count_members(db, "SRANDMEMBER", key, klen, count, out);
}

EMBER_API int ember_smove(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                          const void *member, size_t mlen, int *moved)
{
    if (!em_key_ok(db, src, slen) || !em_bytes_ok(dst, dlen) || !em_bytes_ok(member, mlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "SMOVE", src, slen);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add(&a, member, mlen);
    return ember__typed_flag(db, &a, moved);
}

/* SINTER / SUNION / SDIFF key [key ...]: a SET reply. */
static int algebra(ember_db *db, const char *cmd, size_t n, const void *const *keys,
                   const size_t *klens, ember_reply **out)
{
    if (!db || !out || !ember__list_ok(n, keys, klens))
        return EMBER_EINVAL;
    if (em_too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_cmd(&a, n + 1, cmd);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_sinter(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           ember_reply **out)
{
    return algebra(db, "SINTER", n, keys, klens, out);
}

EMBER_API int ember_sunion(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           ember_reply **out)
{
    return algebra(db, "SUNION", n, keys, klens, out);
}

EMBER_API int ember_sdiff(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          ember_reply **out)
{
    return algebra(db, "SDIFF", n, keys, klens, out);
}

/* SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]: the
 * shape of CMD key item [item ...], with the destination as the key. */
EMBER_API int ember_sinterstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                                const void *const *keys, const size_t *klens, int64_t *count)
{
    return ember__key_list_int(db, "SINTERSTORE", dst, dlen, n, keys, klens, count);
}

EMBER_API int ember_sunionstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                                const void *const *keys, const size_t *klens, int64_t *count)
{
    return ember__key_list_int(db, "SUNIONSTORE", dst, dlen, n, keys, klens, count);
}

EMBER_API int ember_sdiffstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                               const void *const *keys, const size_t *klens, int64_t *count)
{
    return ember__key_list_int(db, "SDIFFSTORE", dst, dlen, n, keys, klens, count);
}

EMBER_API int ember_sintercard(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                               uint64_t limit, int64_t *count)
{
    if (!db || !ember__list_ok(n, keys, klens) || limit > (uint64_t)INT64_MAX)
        return EMBER_EINVAL;
    if (em_too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_cmd(&a, n + 4, "SINTERCARD");
    ember__argv_add_ll(&a, (long long)n);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    if (limit) {
        ember__argv_add_cstr(&a, "LIMIT");
        ember__argv_add_ll(&a, (long long)limit);
    }
    return ember__typed_int(db, &a, count);
}

EMBER_API int ember_sscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **members)
{
    return ember__typed_scan(db, "SSCAN", 1, key, klen, cursor, pattern, plen, count, NULL,
                             next_cursor, members);
}
