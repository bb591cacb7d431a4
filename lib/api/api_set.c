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
#include <stdlib.h>

#include "typed.h"

static int key_ok(const ember_db *db, const void *key, size_t klen)
{
    return db && em_bytes_ok(key, klen);
}

/* n >= 1 valid (pointer, length) pairs. */
static int list_ok(size_t n, const void *const *p, const size_t *lens)
{
    if (n == 0 || !p || !lens)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!em_bytes_ok(p[i], lens[i]))
            return 0;
    return 1;
}

/* Guards the argv size computation of n + extra arguments. */
static int too_many(size_t n)
{
    return n >= SIZE_MAX / (4 * sizeof(size_t));
}

/* Runs argv and hands back its reply tree, or the status an error reply
 * maps to (the tree is then freed). */
static int reply_of(ember_db *db, em_argv *a, ember_reply **out)
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

/* CMD key member [member ...]: SADD, SREM. */
static int key_members_int(ember_db *db, const char *cmd, const void *key, size_t klen, size_t n,
                           const void *const *members, const size_t *mlens, int64_t *result)
{
    if (!key_ok(db, key, klen) || !list_ok(n, members, mlens))
        return EMBER_EINVAL;
    if (too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, n + 2);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add_keys(&a, n, members, mlens, NULL, NULL);
    return ember__typed_int(db, &a, result);
}

EMBER_API int ember_sadd(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *added)
{
    return key_members_int(db, "SADD", key, klen, n, members, mlens, added);
}

EMBER_API int ember_srem(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *removed)
{
    return key_members_int(db, "SREM", key, klen, n, members, mlens, removed);
}

EMBER_API int ember_scard(ember_db *db, const void *key, size_t klen, int64_t *count)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, "SCARD");
    ember__argv_add(&a, key, klen);
    return ember__typed_int(db, &a, count);
}

EMBER_API int ember_sismember(ember_db *db, const void *key, size_t klen, const void *member,
                              size_t mlen, int *is_member)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(member, mlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "SISMEMBER");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, member, mlen);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK && is_member)
        *is_member = v != 0;
    return rc;
}

EMBER_API int ember_smismember(ember_db *db, const void *key, size_t klen, size_t n,
                               const void *const *members, const size_t *mlens, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out || !list_ok(n, members, mlens))
        return EMBER_EINVAL;
    if (too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, n + 2);
    ember__argv_add_cstr(&a, "SMISMEMBER");
    ember__argv_add(&a, key, klen);
    ember__argv_add_keys(&a, n, members, mlens, NULL, NULL);
    return reply_of(db, &a, out);
}

/* CMD key: SMEMBERS. */
EMBER_API int ember_smembers(ember_db *db, const void *key, size_t klen, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, "SMEMBERS");
    ember__argv_add(&a, key, klen);
    return reply_of(db, &a, out);
}

/* SPOP / SRANDMEMBER key: one member or EMBER_ENOTFOUND. */
static int one_member(ember_db *db, const char *cmd, const void *key, size_t klen, void **member,
                      size_t *mlen)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    return ember__typed_bulk(db, &a, member, mlen);
}

/* SPOP / SRANDMEMBER key count: a reply tree. */
static int count_members(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t count,
                         ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, count);
    return reply_of(db, &a, out);
}

EMBER_API int ember_spop(ember_db *db, const void *key, size_t klen, void **member, size_t *mlen)
{
    return one_member(db, "SPOP", key, klen, member, mlen);
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
    return one_member(db, "SRANDMEMBER", key, klen, member, mlen);
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
    if (!key_ok(db, src, slen) || !em_bytes_ok(dst, dlen) || !em_bytes_ok(member, mlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "SMOVE");
    ember__argv_add(&a, src, slen);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add(&a, member, mlen);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK && moved)
        *moved = v != 0;
    return rc;
}

/* SINTER / SUNION / SDIFF key [key ...]: a SET reply. */
static int algebra(ember_db *db, const char *cmd, size_t n, const void *const *keys,
                   const size_t *klens, ember_reply **out)
{
    if (!db || !out || !list_ok(n, keys, klens))
        return EMBER_EINVAL;
    if (too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, n + 1);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return reply_of(db, &a, out);
}

/* SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]. */
static int algebra_store(ember_db *db, const char *cmd, const void *dst, size_t dlen, size_t n,
                         const void *const *keys, const size_t *klens, int64_t *count)
{
    if (!key_ok(db, dst, dlen) || !list_ok(n, keys, klens))
        return EMBER_EINVAL;
    if (too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, n + 2);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return ember__typed_int(db, &a, count);
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

EMBER_API int ember_sinterstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                                const void *const *keys, const size_t *klens, int64_t *count)
{
    return algebra_store(db, "SINTERSTORE", dst, dlen, n, keys, klens, count);
}

EMBER_API int ember_sunionstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                                const void *const *keys, const size_t *klens, int64_t *count)
{
    return algebra_store(db, "SUNIONSTORE", dst, dlen, n, keys, klens, count);
}

EMBER_API int ember_sdiffstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                               const void *const *keys, const size_t *klens, int64_t *count)
{
    return algebra_store(db, "SDIFFSTORE", dst, dlen, n, keys, klens, count);
}

EMBER_API int ember_sintercard(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                               uint64_t limit, int64_t *count)
{
    if (!db || !list_ok(n, keys, klens) || limit > (uint64_t)INT64_MAX)
        return EMBER_EINVAL;
    if (too_many(n))
        return EMBER_ENOMEM;
    em_argv a;
    ember__argv_init(&a, n + 4);
    ember__argv_add_cstr(&a, "SINTERCARD");
    ember__argv_add_ll(&a, (long long)n);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    if (limit) {
        ember__argv_add_cstr(&a, "LIMIT");
        ember__argv_add_ll(&a, (long long)limit);
    }
    return ember__typed_int(db, &a, count);
}

static int parse_u64(const char *t, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return 0;
        unsigned d = (unsigned)(t[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

EMBER_API int ember_sscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **members)
{
    if (!key_ok(db, key, klen) || !next_cursor || !members || (pattern == NULL && plen != 0))
        return EMBER_EINVAL;
    char cbuf[24], nbuf[24];
    size_t cl = 0;
    do /* unsigned decimal (argv_add_ll would sign it) */
        nbuf[cl++] = (char)('0' + cursor % 10);
    while ((cursor /= 10) != 0);
    for (size_t i = 0; i < cl; i++)
        cbuf[i] = nbuf[cl - 1 - i];
    em_argv a;
    ember__argv_init(&a, 7);
    ember__argv_add_cstr(&a, "SSCAN");
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
    /* SSCAN answers [cursor, [member ...]]: take the member array out of the
     * tree (its nodes are independent blocks) and free the rest. */
    ember_reply *r = NULL;
    int rc = reply_of(db, &a, &r);
    if (rc != EMBER_OK)
        return rc;
    uint64_t next;
    if (r->type != EMBER_REPLY_ARRAY || r->len != 2 || r->u.elems[1]->type != EMBER_REPLY_ARRAY ||
        !parse_u64(r->u.elems[0]->str, r->u.elems[0]->len, &next)) {
        ember_reply_free(r);
        return EMBER_EREPLY;
    }
    *members = r->u.elems[1];
    r->len = 1; /* the root no longer owns the member array */
    ember_reply_free(r);
    *next_cursor = next;
    return EMBER_OK;
}
