/*
 * api_list.c — typed wrappers for the list commands (ember.h, "Typed
 * wrappers: lists").
 *
 * Each wrapper validates its arguments, builds exactly the argv a client
 * would send and runs it through the single command path (ember__typed_*),
 * so behaviour, errors and blocking are those of the command. Out-parameters
 * are written only on EMBER_OK. Blocking timeouts travel as exact decimal
 * seconds ("1.250"), so no float rounding changes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "typed.h"

static const char *end_name(int where)
{
    return where == EMBER_LIST_LEFT ? "LEFT" : "RIGHT";
}

static int end_ok(int where)
{
    return where == EMBER_LIST_LEFT || where == EMBER_LIST_RIGHT;
}

/* Copies a STRING reply element out for the caller (NUL-terminated). */
static int take_string(const ember_reply *e, void **val, size_t *vlen)
{
    size_t len;
    const char *s = ember_reply_str(e, &len);
    if (ember_reply_type(e) != EMBER_REPLY_STRING)
        return EMBER_EREPLY;
    if (val) {
        char *p = malloc(len + 1);
        if (!p)
            return EMBER_ENOMEM;
        memcpy(p, s, len);
        p[len] = 0;
        *val = p;
    }
    if (vlen)
        *vlen = len;
    return EMBER_OK;
}

/* LPUSH / RPUSH / LPUSHX / RPUSHX */
static int push(const char *cmd, ember_db *db, const void *key, size_t klen, size_t n,
                const void *const *elems, const size_t *lens, int64_t *newlen)
{
    if (n > SIZE_MAX - 2)
        return EMBER_EINVAL;
    return ember__key_list_int(db, cmd, key, klen, n, elems, lens, newlen);
}

EMBER_API int ember_lpush(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *elems, const size_t *lens, int64_t *newlen)
{
    return push("LPUSH", db, key, klen, n, elems, lens, newlen);
}

EMBER_API int ember_rpush(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *elems, const size_t *lens, int64_t *newlen)
{
    return push("RPUSH", db, key, klen, n, elems, lens, newlen);
}

EMBER_API int ember_lpushx(ember_db *db, const void *key, size_t klen, size_t n,
                           const void *const *elems, const size_t *lens, int64_t *newlen)
{
    return push("LPUSHX", db, key, klen, n, elems, lens, newlen);
}

EMBER_API int ember_rpushx(ember_db *db, const void *key, size_t klen, size_t n,
                           const void *const *elems, const size_t *lens, int64_t *newlen)
{
    return push("RPUSHX", db, key, klen, n, elems, lens, newlen);
}

EMBER_API int ember_lpop(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    return ember__key_bulk(db, "LPOP", key, klen, val, vlen);
}

EMBER_API int ember_rpop(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    return ember__key_bulk(db, "RPOP", key, klen, val, vlen);
}

/* LPOP / RPOP key count */
static int pop_count(const char *cmd, ember_db *db, const void *key, size_t klen, uint64_t count,
                     ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out || count > INT64_MAX)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, cmd, key, klen);
    ember__argv_add_ll(&a, (long long)count);
    return ember__typed_tree_found(db, &a, out);
}

EMBER_API int ember_lpop_count(ember_db *db, const void *key, size_t klen, uint64_t count,
                               ember_reply **out)
{
    return pop_count("LPOP", db, key, klen, count, out);
}

EMBER_API int ember_rpop_count(ember_db *db, const void *key, size_t klen, uint64_t count,
                               ember_reply **out)
{
    return pop_count("RPOP", db, key, klen, count, out);
}

EMBER_API int ember_llen(ember_db *db, const void *key, size_t klen, int64_t *len)
{
    return ember__key_int(db, "LLEN", key, klen, len);
}

EMBER_API int ember_lindex(ember_db *db, const void *key, size_t klen, int64_t index, void **val,
                           size_t *vlen)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, "LINDEX", key, klen);
    ember__argv_add_ll(&a, index);
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_lset(ember_db *db, const void *key, size_t klen, int64_t index,
                         const void *elem, size_t elen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(elem, elen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "LSET", key, klen);
    ember__argv_add_ll(&a, index);
    ember__argv_add(&a, elem, elen);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_lrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop,
                           ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "LRANGE", key, klen);
    ember__argv_add_ll(&a, start);
    ember__argv_add_ll(&a, stop);
    return ember__typed_tree_found(db, &a, out);
}

EMBER_API int ember_ltrim(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop)
{
    if (!em_key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "LTRIM", key, klen);
    ember__argv_add_ll(&a, start);
    ember__argv_add_ll(&a, stop);
    return ember__typed_status(db, &a);
}

EMBER_API int ember_lrem(ember_db *db, const void *key, size_t klen, int64_t count,
                         const void *elem, size_t elen, int64_t *removed)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(elem, elen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 4, "LREM", key, klen);
    ember__argv_add_ll(&a, count);
    ember__argv_add(&a, elem, elen);
    return ember__typed_int(db, &a, removed);
}

EMBER_API int ember_linsert(ember_db *db, const void *key, size_t klen, int after,
                            const void *pivot, size_t plen, const void *elem, size_t elen,
                            int64_t *newlen)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(pivot, plen) || !em_bytes_ok(elem, elen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 5, "LINSERT", key, klen);
    ember__argv_add_cstr(&a, after ? "AFTER" : "BEFORE");
    ember__argv_add(&a, pivot, plen);
    ember__argv_add(&a, elem, elen);
    return ember__typed_int(db, &a, newlen);
}

EMBER_API int ember_lpos(ember_db *db, const void *key, size_t klen, const void *elem, size_t elen,
                         int64_t rank, int64_t maxlen, int64_t *index)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(elem, elen) || maxlen < 0)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 7, "LPOS", key, klen);
    ember__argv_add(&a, elem, elen);
    if (rank != 0) {
        ember__argv_add_cstr(&a, "RANK");
        ember__argv_add_ll(&a, rank);
    }
    if (maxlen != 0) {
        ember__argv_add_cstr(&a, "MAXLEN");
        ember__argv_add_ll(&a, maxlen);
    }
    return ember__typed_int(db, &a, index);
}

EMBER_API int ember_lmove(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                          int from, int to, void **val, size_t *vlen)
{
    if (!em_key_ok(db, src, slen) || !em_bytes_ok(dst, dlen) || !end_ok(from) || !end_ok(to))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 5, "LMOVE", src, slen);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add_cstr(&a, end_name(from));
    ember__argv_add_cstr(&a, end_name(to));
    return ember__typed_bulk(db, &a, val, vlen);
}

EMBER_API int ember_blmove(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                           int from, int to, int64_t timeout_ms, void **val, size_t *vlen)
{
    if (!em_key_ok(db, src, slen) || !em_bytes_ok(dst, dlen) || !end_ok(from) || !end_ok(to) ||
        timeout_ms < 0)
        return EMBER_EINVAL;
    char tbuf[32];
    em_argv a;
    ember__argv_cmd_key(&a, 6, "BLMOVE", src, slen);
    ember__argv_add(&a, dst, dlen);
    ember__argv_add_cstr(&a, end_name(from));
    ember__argv_add_cstr(&a, end_name(to));
    ember__argv_add_timeout_ms(&a, timeout_ms, tbuf, sizeof tbuf);
    return ember__typed_bulk(db, &a, val, vlen);
}

/* BLPOP / BRPOP key [key ...] timeout */
static int bpop(const char *cmd, ember_db *db, size_t n, const void *const *keys,
                const size_t *klens, int64_t timeout_ms, size_t *key_index, void **val,
                size_t *vlen)
{
    if (!db || !ember__list_ok(n, keys, klens) || timeout_ms < 0 || n > SIZE_MAX - 2)
        return EMBER_EINVAL;
    char tbuf[32];
    em_argv a;
    ember__argv_cmd(&a, n + 2, cmd);
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    ember__argv_add_timeout_ms(&a, timeout_ms, tbuf, sizeof tbuf);
    ember_reply *r;
    int rc = ember__typed_tree_found(db, &a, &r);
    if (rc)
        return rc;
    if (ember_reply_type(r) != EMBER_REPLY_ARRAY || ember_reply_len(r) != 2) {
        ember_reply_free(r);
        return EMBER_EREPLY;
    }
    size_t kl;
    const char *k = ember_reply_str(ember_reply_element(r, 0), &kl);
    size_t which = 0;
    while (which < n && !(klens[which] == kl && (kl == 0 || !memcmp(keys[which], k, kl))))
        which++;
    rc = take_string(ember_reply_element(r, 1), val, vlen);
    ember_reply_free(r);
    if (rc == EMBER_OK && key_index)
        *key_index = which;
    return rc;
}

EMBER_API int ember_blpop(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          int64_t timeout_ms, size_t *key_index, void **val, size_t *vlen)
{
    return bpop("BLPOP", db, n, keys, klens, timeout_ms, key_index, val, vlen);
}

EMBER_API int ember_brpop(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          int64_t timeout_ms, size_t *key_index, void **val, size_t *vlen)
{
    return bpop("BRPOP", db, n, keys, klens, timeout_ms, key_index, val, vlen);
}
