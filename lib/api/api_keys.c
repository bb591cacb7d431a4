/*
 * api_keys.c — typed wrappers for the key-space commands (DEL ... PERSIST).
 *
 * Each wrapper checks its arguments, builds the argv a client would send and
 * runs it through the same command path as ember_command(). Redis errors map
 * to status codes by their text (see ember_reply_error_code()); database
 * indexes are range-checked here first, so an index outside 0..databases-1
 * is EMBER_ERANGE rather than a generic EMBER_EREPLY.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "typed.h"

/* Checks a key list: n > 0, arrays present, each key a valid (ptr, len). */
static int key_list_ok(size_t n, const void *const *keys, const size_t *klens)
{
    if (n == 0 || !keys || !klens)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!em_bytes_ok(keys[i], klens[i]))
            return 0;
    return 1;
}

/* CMD key [key ...] with an integer reply. */
static int keys_int(ember_db *db, const char *cmd, size_t n, const void *const *keys,
                    const size_t *klens, int64_t *out)
{
    if (!db || !key_list_ok(n, keys, klens))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, n + 1);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    return ember__typed_int(db, &a, out);
}

/* CMD key with an integer reply. */
static int key_int(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t *out)
{
    if (!db || !em_bytes_ok(key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    return ember__typed_int(db, &a, out);
}

/* A database index given to a wrapper: 0..databases-1 (the store's count is
 * fixed at open, so reading it from any thread is safe). */
static int db_index_ok(ember_db *db, int32_t index)
{
    return index >= 0 && index < db->box->core.srv.st.ndb;
}

/* Turns an ERROR reply into its status code and frees it. */
static int reply_status(ember_reply *r)
{
    int rc = ember_reply_type(r) == EMBER_REPLY_ERROR ? ember_reply_error_code(r) : EMBER_OK;
    if (rc != EMBER_OK)
        ember_reply_free(r);
    return rc;
}

static void set_int(int *out, int64_t v)
{
    if (out)
        *out = (int)v;
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
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, "TYPE");
    ember__argv_add(&a, key, klen);
    ember_reply *r;
    int rc = ember__typed_reply(db, &a, &r);
    if (rc != EMBER_OK || (rc = reply_status(r)) != EMBER_OK)
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
    ember__argv_init(&a, 1);
    ember__argv_add_cstr(&a, "RANDOMKEY");
    return ember__typed_bulk(db, &a, key, klen);
}

EMBER_API int ember_dbsize(ember_db *db, int64_t *count)
{
    if (!db)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 1);
    ember__argv_add_cstr(&a, "DBSIZE");
    return ember__typed_int(db, &a, count);
}

/* ------------------------------------------------------------------ rename, copy, move */

EMBER_API int ember_rename(ember_db *db, const void *key, size_t klen, const void *newkey,
                           size_t nklen)
{
    if (!db || !em_bytes_ok(key, klen) || !em_bytes_ok(newkey, nklen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "RENAME");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, newkey, nklen);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_renamenx(ember_db *db, const void *key, size_t klen, const void *newkey,
                             size_t nklen, int *renamed)
{
    if (!db || !em_bytes_ok(key, klen) || !em_bytes_ok(newkey, nklen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "RENAMENX");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, newkey, nklen);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK)
        set_int(renamed, v);
    return rc;
}

EMBER_API int ember_copy(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                         int32_t destdb, int replace, int *copied)
{
    if (!db || !em_bytes_ok(src, slen) || !em_bytes_ok(dst, dlen))
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    if (destdb == -1)
        destdb = db->dbid;
    if (!db_index_ok(db, destdb))
        return EMBER_ERANGE;
    em_argv a;
    ember__argv_init(&a, 6);
    ember__argv_add_cstr(&a, "COPY");
    ember__argv_add(&a, src, slen);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add_cstr(&a, "DB");
    ember__argv_add_ll(&a, destdb);
    if (replace)
        ember__argv_add_cstr(&a, "REPLACE");
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK)
        set_int(copied, v);
    return rc;
}

EMBER_API int ember_move(ember_db *db, const void *key, size_t klen, int32_t destdb, int *moved)
{
    if (!db || !em_bytes_ok(key, klen))
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    if (!db_index_ok(db, destdb))
        return EMBER_ERANGE;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "MOVE");
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, destdb);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK)
        set_int(moved, v);
    return rc;
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
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "SWAPDB");
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
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, cmd);
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
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, "KEYS");
    ember__argv_add(&a, pattern, plen);
    ember_reply *r;
    int rc = ember__typed_reply(db, &a, &r);
    if (rc != EMBER_OK || (rc = reply_status(r)) != EMBER_OK)
        return rc;
    *out = r;
    return EMBER_OK;
}

/* The cursor is the decimal text of an unsigned 64-bit number. */
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

EMBER_API int ember_scan(ember_db *db, uint64_t cursor, const void *pattern, size_t plen,
                         uint32_t count, const char *type, uint64_t *next_cursor,
                         ember_reply **keys)
{
    if (!db || !next_cursor || !keys || (pattern == NULL && plen != 0))
        return EMBER_EINVAL;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    char cbuf[24], nbuf[24];
    size_t cl = 0;
    /* Decimal digits of the cursor (unsigned: argv_add_ll would sign it). */
    do
        nbuf[cl++] = (char)('0' + cursor % 10);
    while ((cursor /= 10) != 0);
    for (size_t i = 0; i < cl; i++)
        cbuf[i] = nbuf[cl - 1 - i];
    em_argv a;
    ember__argv_init(&a, 8);
    ember__argv_add_cstr(&a, "SCAN");
    ember__argv_add(&a, cbuf, cl);
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
    /* SCAN answers [cursor, [key ...]]: take the key array out of the tree
     * (its nodes are independent blocks) and free the rest. */
    ember_reply *r = NULL;
    int rc = ember__typed_reply(db, &a, &r);
    if (rc != EMBER_OK)
        return rc;
    if (r->type == EMBER_REPLY_ERROR) {
        rc = ember_reply_error_code(r);
        ember_reply_free(r);
        return rc;
    }
    if (r->type != EMBER_REPLY_ARRAY || r->len != 2 || r->u.elems[1]->type != EMBER_REPLY_ARRAY ||
        !parse_u64(r->u.elems[0]->str, r->u.elems[0]->len, next_cursor)) {
        ember_reply_free(r);
        return EMBER_EREPLY;
    }
    *keys = r->u.elems[1];
    r->len = 1; /* the root no longer owns the key array */
    ember_reply_free(r);
    return EMBER_OK;
}

/* ------------------------------------------------------------------ expiry */

/* EXPIRE-family: CMD key time [NX] [XX] [GT] [LT]. */
static int expire_cmd(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t t,
                      uint32_t flags, int *set)
{
    static const char *const words[] = {"NX", "XX", "GT", "LT"};
    if (!db || !em_bytes_ok(key, klen) || (flags & ~(uint32_t)15u))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 7);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, t);
    for (int i = 0; i < 4; i++)
        if (flags & (1u << i))
            ember__argv_add_cstr(&a, words[i]);
    int64_t v;
    int rc = ember__typed_int(db, &a, &v);
    if (rc == EMBER_OK)
        set_int(set, v);
    return rc;
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
    return key_int(db, "TTL", key, klen, ttl);
}

EMBER_API int ember_pttl(ember_db *db, const void *key, size_t klen, int64_t *ttl)
{
    return key_int(db, "PTTL", key, klen, ttl);
}

EMBER_API int ember_expiretime(ember_db *db, const void *key, size_t klen, int64_t *at)
{
    return key_int(db, "EXPIRETIME", key, klen, at);
}

EMBER_API int ember_pexpiretime(ember_db *db, const void *key, size_t klen, int64_t *at)
{
    return key_int(db, "PEXPIRETIME", key, klen, at);
}

EMBER_API int ember_persist(ember_db *db, const void *key, size_t klen, int *removed)
{
    int64_t v;
    int rc = key_int(db, "PERSIST", key, klen, &v);
    if (rc == EMBER_OK)
        set_int(removed, v);
    return rc;
}
