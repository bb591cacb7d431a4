/*
 * api_keys.c — typed wrappers for the key-space commands (DEL ... PERSIST).
 *
 * Each wrapper checks its arguments, builds the argv a client would send and
 * runs it through the same command path as ember_command(). Redis errors map
 * to status codes by their text (see ember_reply_error_code()); database
 * indexes are range-checked here first, so an index outside 0..databases-1
 * is EMBER_ERANGE rather than a generic EMBER_EREPLY.
 */
#include <string.h>

#include "typed.h"

/* CMD key [key ...] with an integer reply. */
static int keys_int(ember_db *db, const char *cmd, size_t n, const void *const *keys,
                    const size_t *klens, int64_t *out)
{
    if (!db || !ember__list_ok(n, keys, klens))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd(&a, n + 1, cmd);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return ember__typed_int(db, &a, out);
}

/* A database index given to a wrapper: 0..databases-1 (the store's count is
 * fixed at open, so reading it from any thread is safe). */
static int db_index_ok(ember_db *db, int32_t index)
{
    return index >= 0 && index < db->box->core.srv.st.ndb;
}

/* ------------------------------------------------------------------ existence */

EMBER_API int ember_del(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                        int64_t *removed)
{
    return keys_int(db, "DEL", n, keys, klens, removed);
}

EMBER_API int ember_unlink(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           int64_t *removed)
{
    return keys_int(db, "UNLINK", n, keys, klens, removed);
}

EMBER_API int ember_exists(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           int64_t *count)
{
    return keys_int(db, "EXISTS", n, keys, klens, count);
}

EMBER_API int ember_touch(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          int64_t *count)
{
    return keys_int(db, "TOUCH", n, keys, klens, count);
}

EMBER_API int ember_type(ember_db *db, const void *key, size_t klen, const char **type)
{
    static const char *const names[] = {"none", "string", "list", "set", "zset", "hash", "stream"};
    if (!db || !type || !em_bytes_ok(key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 2, "TYPE", key, klen);
    ember_reply *r;
    int rc = ember__typed_tree(db, &a, &r);
    if (rc != EMBER_OK)
        return rc;
    /* TYPE replies with a status; hand back the matching static name. */
    size_t len;
    const char *s = ember_reply_str(r, &len);
    rc = EMBER_EREPLY;
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            *type = names[i];
            rc = EMBER_OK;
            break;
        }
    }
    ember_reply_free(r);
    return rc;
}

EMBER_API int ember_randomkey(ember_db *db, void **key, size_t *klen)
{
    if (!db || !key)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd(&a, 1, "RANDOMKEY");
    return ember__typed_bulk(db, &a, key, klen);
}

EMBER_API int ember_dbsize(ember_db *db, int64_t *count)
{
    if (!db)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd(&a, 1, "DBSIZE");
    return ember__typed_int(db, &a, count);
}

/* ------------------------------------------------------------------ rename, copy, move */

EMBER_API int ember_rename(ember_db *db, const void *key, size_t klen, const void *newkey,
                           size_t nklen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(newkey, nklen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, "RENAME", key, klen);
    ember__argv_add(&a, newkey, nklen);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_renamenx(ember_db *db, const void *key, size_t klen, const void *newkey,
                             size_t nklen, int *renamed)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(newkey, nklen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, "RENAMENX", key, klen);
    ember__argv_add(&a, newkey, nklen);
    return ember__typed_flag(db, &a, renamed);
}

EMBER_API int ember_copy(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                         int32_t destdb, int replace, int *copied)
{
    if (!em_key_ok(db, src, slen) || !em_bytes_ok(dst, dlen))
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    if (destdb == -1)
        destdb = db->dbid;
    if (!db_index_ok(db, destdb))
        return EMBER_ERANGE;
    em_argv a;
    ember__argv_cmd_key(&a, 6, "COPY", src, slen);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add_cstr(&a, "DB");
    ember__argv_add_ll(&a, destdb);
    if (replace)
        ember__argv_add_cstr(&a, "REPLACE");
    return ember__typed_flag(db, &a, copied);
}

EMBER_API int ember_move(ember_db *db, const void *key, size_t klen, int32_t destdb, int *moved)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    if (!db_index_ok(db, destdb))
        return EMBER_ERANGE;
    em_argv a;
    ember__argv_cmd_key(&a, 3, "MOVE", key, klen);
    ember__argv_add_ll(&a, destdb);
    return ember__typed_flag(db, &a, moved);
}

EMBER_API int ember_swapdb(ember_db *db, int32_t index1, int32_t index2)
{
    if (!db)
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    if (!db_index_ok(db, index1) || !db_index_ok(db, index2))
        return EMBER_ERANGE;
    em_argv a;
    ember__argv_cmd(&a, 3, "SWAPDB");
    ember__argv_add_ll(&a, index1);
    ember__argv_add_ll(&a, index2);
    return ember__typed_status(db, &a);
}

/* FLUSHDB / FLUSHALL: async adds ASYNC; otherwise no argument, so the
 * lazyfree-lazy-user-flush setting decides, as for a client. */
static int flush(ember_db *db, const char *cmd, int async)
{
    if (!db)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd(&a, 2, cmd);
    if (async)
        ember__argv_add_cstr(&a, "ASYNC");
    return ember__typed_status(db, &a);
}

EMBER_API int ember_flushdb(ember_db *db, int async)
{
    return flush(db, "FLUSHDB", async);
}

EMBER_API int ember_flushall(ember_db *db, int async)
{
    return flush(db, "FLUSHALL", async);
}

/* ------------------------------------------------------------------ iteration */

EMBER_API int ember_keys(ember_db *db, const void *pattern, size_t plen, ember_reply **out)
{
    if (!db || !out || !em_bytes_ok(pattern, plen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 2, "KEYS", pattern, plen);
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_scan(ember_db *db, uint64_t cursor, const void *pattern, size_t plen,
                         uint32_t count, const char *type, uint64_t *next_cursor,
                         ember_reply **keys)
{
    return ember__typed_scan(db, "SCAN", 0, NULL, 0, cursor, pattern, plen, count, type,
                             next_cursor, keys);
}

/* ------------------------------------------------------------------ expiry */

/* EXPIRE-family: CMD key time [NX] [XX] [GT] [LT]. */
static int expire_cmd(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t t,
                      uint32_t flags, int *set)
{
    static const char *const words[] = {"NX", "XX", "GT", "LT"};
    if (!em_key_ok(db, key, klen) || (flags & ~(uint32_t)15u))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 7, cmd, key, klen);
    ember__argv_add_ll(&a, t);
    for (int i = 0; i < 4; i++)
        if (flags & (1u << i))
            ember__argv_add_cstr(&a, words[i]);
    return ember__typed_flag(db, &a, set);
}

EMBER_API int ember_expire(ember_db *db, const void *key, size_t klen, int64_t seconds,
                           uint32_t flags, int *set)
{
    return expire_cmd(db, "EXPIRE", key, klen, seconds, flags, set);
}

EMBER_API int ember_pexpire(ember_db *db, const void *key, size_t klen, int64_t ms, uint32_t flags,
                            int *set)
{
    return expire_cmd(db, "PEXPIRE", key, klen, ms, flags, set);
}

EMBER_API int ember_expireat(ember_db *db, const void *key, size_t klen, int64_t unix_s,
                             uint32_t flags, int *set)
{
    return expire_cmd(db, "EXPIREAT", key, klen, unix_s, flags, set);
}

EMBER_API int ember_pexpireat(ember_db *db, const void *key, size_t klen, int64_t unix_ms,
                              uint32_t flags, int *set)
{
    return expire_cmd(db, "PEXPIREAT", key, klen, unix_ms, flags, set);
}

EMBER_API int ember_ttl(ember_db *db, const void *key, size_t klen, int64_t *ttl)
{
    return ember__key_int(db, "TTL", key, klen, ttl);
}

EMBER_API int ember_pttl(ember_db *db, const void *key, size_t klen, int64_t *ttl)
{
    return ember__key_int(db, "PTTL", key, klen, ttl);
}

EMBER_API int ember_expiretime(ember_db *db, const void *key, size_t klen, int64_t *at)
{
    return ember__key_int(db, "EXPIRETIME", key, klen, at);
}

EMBER_API int ember_pexpiretime(ember_db *db, const void *key, size_t klen, int64_t *at)
{
    return ember__key_int(db, "PEXPIRETIME", key, klen, at);
}

EMBER_API int ember_persist(ember_db *db, const void *key, size_t klen, int *removed)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 2, "PERSIST", key, klen);
    return ember__typed_flag(db, &a, removed);
}
