/*
 * api_zset.c — typed wrappers for the sorted-set commands (ember.h, "Typed
 * wrappers: sorted sets").
 *
 * Each wrapper validates its arguments, builds exactly the argv a client
 * would send and runs it through the single command path (ember__typed_*,
 * ember__call_capture), so behaviour and errors are those of the command.
 * Scores travel as the shortest text that reads back exactly. Out-parameters
 * are written only on EMBER_OK; wrappers returning a reply tree map an error
 * reply to its status code and return no tree.
 */
#include <math.h>
#include <stdlib.h>

#include "typed.h"

/* Adds a score bound: "(" + the number when exclusive. buf >= 40 bytes. */
static void add_bound(em_argv *a, double v, int exclusive, char *buf, size_t cap)
{
    if (!exclusive) {
        ember__argv_add_double(a, v, buf, cap);
        return;
    }
    buf[0] = '(';
    ember__argv_add_double(a, v, buf + 1, cap - 1);
    if (a->argc > 0 && a->argv[a->argc - 1] == buf + 1) {
        a->argv[a->argc - 1] = buf;
        a->lens[a->argc - 1]++;
    }
}

/* The tail ZRANGE ... BYSCORE and BYLEX share: [REV] [LIMIT offset count]
 * (a negative count: no limit, sent only when an offset is). */
static void add_rev_limit(em_argv *a, int rev, int64_t offset, int64_t count)
{
    if (rev)
        ember__argv_add_cstr(a, "REV");
    if (offset != 0 || count >= 0) {
        ember__argv_add_cstr(a, "LIMIT");
        ember__argv_add_ll(a, offset);
        ember__argv_add_ll(a, count < 0 ? -1 : count);
    }
}

EMBER_API int ember_zadd(ember_db *db, const void *key, size_t klen, size_t n, const double *scores,
                         const void *const *members, const size_t *mlens, uint32_t flags,
                         int64_t *count)
{
    const uint32_t known =
        EMBER_ZADD_NX | EMBER_ZADD_XX | EMBER_ZADD_GT | EMBER_ZADD_LT | EMBER_ZADD_CH;
    if (!em_key_ok(db, key, klen) || !scores || !ember__list_ok(n, members, mlens) ||
        (flags & ~known))
        return EMBER_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (isnan(scores[i]))
            return EMBER_EINVAL;
    char sbuf[8][32], *heap = NULL;
    char(*nums)[32] = sbuf;
    if (n > 8) {
        heap = malloc(n * 32);
        if (!heap)
            return EMBER_ENOMEM;
        nums = (char(*)[32])heap;
    }
    em_argv a;
    ember__argv_cmd_key(&a, 6 + 2 * n, "ZADD", key, klen);
    /* Conflicting flags go through: the command answers with its error. */
    if (flags & EMBER_ZADD_NX)
        ember__argv_add_cstr(&a, "NX");
    if (flags & EMBER_ZADD_XX)
        ember__argv_add_cstr(&a, "XX");
    if (flags & EMBER_ZADD_GT)
        ember__argv_add_cstr(&a, "GT");
    if (flags & EMBER_ZADD_LT)
        ember__argv_add_cstr(&a, "LT");
    if (flags & EMBER_ZADD_CH)
        ember__argv_add_cstr(&a, "CH");
    for (size_t i = 0; i < n; i++) {
        ember__argv_add_double(&a, scores[i], nums[i], sizeof nums[i]);
        ember__argv_add(&a, members[i], mlens[i]);
    }
    int rc = ember__typed_int(db, &a, count);
    free(heap);
    return rc;
}

EMBER_API int ember_zincrby(ember_db *db, const void *key, size_t klen, double delta,
                            const void *member, size_t mlen, double *result)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(member, mlen) || isnan(delta))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_cmd_key(&a, 4, "ZINCRBY", key, klen);
    ember__argv_add_double(&a, delta, num, sizeof num);
    ember__argv_add(&a, member, mlen);
    return ember__typed_double(db, &a, result);
}

EMBER_API int ember_zrem(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *removed)
{
    return ember__key_list_int(db, "ZREM", key, klen, n, members, mlens, removed);
}

EMBER_API int ember_zcard(ember_db *db, const void *key, size_t klen, int64_t *count)
{
    return ember__key_int(db, "ZCARD", key, klen, count);
}

EMBER_API int ember_zscore(ember_db *db, const void *key, size_t klen, const void *member,
                           size_t mlen, double *score)
{
    if (!em_key_ok(db, key, klen) || !em_bytes_ok(member, mlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, "ZSCORE", key, klen);
    ember__argv_add(&a, member, mlen);
    return ember__typed_double(db, &a, score);
}

EMBER_API int ember_zrank(ember_db *db, const void *key, size_t klen, const void *member,
                          size_t mlen, int64_t *rank)
{
    return ember__key_arg_int(db, "ZRANK", key, klen, member, mlen, rank);
}

EMBER_API int ember_zrevrank(ember_db *db, const void *key, size_t klen, const void *member,
                             size_t mlen, int64_t *rank)
{
    return ember__key_arg_int(db, "ZREVRANK", key, klen, member, mlen, rank);
}

EMBER_API int ember_zcount(ember_db *db, const void *key, size_t klen, double min, double max,
                           uint32_t flags, int64_t *count)
{
    if (!em_key_ok(db, key, klen) || isnan(min) || isnan(max) ||
        (flags & ~(EMBER_ZRANGE_MINEX | EMBER_ZRANGE_MAXEX)))
        return EMBER_EINVAL;
    char b1[40], b2[40];
    em_argv a;
    ember__argv_cmd_key(&a, 4, "ZCOUNT", key, klen);
    add_bound(&a, min, (flags & EMBER_ZRANGE_MINEX) != 0, b1, sizeof b1);
    add_bound(&a, max, (flags & EMBER_ZRANGE_MAXEX) != 0, b2, sizeof b2);
    return ember__typed_int(db, &a, count);
}

EMBER_API int ember_zrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop,
                           uint32_t flags, ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out ||
        (flags & ~(EMBER_ZRANGE_REV | EMBER_ZRANGE_WITHSCORES)))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 6, "ZRANGE", key, klen);
    ember__argv_add_ll(&a, start);
    ember__argv_add_ll(&a, stop);
    if (flags & EMBER_ZRANGE_REV)
        ember__argv_add_cstr(&a, "REV");
    if (flags & EMBER_ZRANGE_WITHSCORES)
        ember__argv_add_cstr(&a, "WITHSCORES");
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_zrange_byscore(ember_db *db, const void *key, size_t klen, double min,
                                   double max, uint32_t flags, int64_t offset, int64_t count,
                                   ember_reply **out)
{
    const uint32_t known =
        EMBER_ZRANGE_MINEX | EMBER_ZRANGE_MAXEX | EMBER_ZRANGE_REV | EMBER_ZRANGE_WITHSCORES;
    if (!em_key_ok(db, key, klen) || !out || isnan(min) || isnan(max) || (flags & ~known) ||
        offset < 0)
        return EMBER_EINVAL;
    char b1[40], b2[40];
    em_argv a;
    ember__argv_cmd_key(&a, 10, "ZRANGE", key, klen);
    /* ZRANGE ... BYSCORE REV takes the range as max, min. */
    int rev = (flags & EMBER_ZRANGE_REV) != 0;
    add_bound(&a, rev ? max : min, (flags & (rev ? EMBER_ZRANGE_MAXEX : EMBER_ZRANGE_MINEX)) != 0,
              b1, sizeof b1);
    add_bound(&a, rev ? min : max, (flags & (rev ? EMBER_ZRANGE_MINEX : EMBER_ZRANGE_MAXEX)) != 0,
              b2, sizeof b2);
    ember__argv_add_cstr(&a, "BYSCORE");
    add_rev_limit(&a, rev, offset, count);
    if (flags & EMBER_ZRANGE_WITHSCORES)
        ember__argv_add_cstr(&a, "WITHSCORES");
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_zrange_bylex(ember_db *db, const void *key, size_t klen, const void *min,
                                 size_t minlen, const void *max, size_t maxlen, uint32_t flags,
                                 int64_t offset, int64_t count, ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out || !em_bytes_ok(min, minlen) ||
        !em_bytes_ok(max, maxlen) || (flags & ~EMBER_ZRANGE_REV) || offset < 0)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 9, "ZRANGE", key, klen);
    int rev = (flags & EMBER_ZRANGE_REV) != 0;
    ember__argv_add(&a, rev ? max : min, rev ? maxlen : minlen);
    ember__argv_add(&a, rev ? min : max, rev ? minlen : maxlen);
    ember__argv_add_cstr(&a, "BYLEX");
    add_rev_limit(&a, rev, offset, count);
    return ember__typed_tree(db, &a, out);
}

static int pop_cmd(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t count,
                   ember_reply **out)
{
    if (!em_key_ok(db, key, klen) || !out || count < 0)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_cmd_key(&a, 3, cmd, key, klen);
    ember__argv_add_ll(&a, count);
    return ember__typed_tree(db, &a, out);
}

EMBER_API int ember_zpopmin(ember_db *db, const void *key, size_t klen, int64_t count,
                            ember_reply **out)
{
    return pop_cmd(db, "ZPOPMIN", key, klen, count, out);
}

EMBER_API int ember_zpopmax(ember_db *db, const void *key, size_t klen, int64_t count,
                            ember_reply **out)
{
    return pop_cmd(db, "ZPOPMAX", key, klen, count, out);
}

EMBER_API int ember_bzpopmin(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                             int64_t timeout_ms, ember_reply **out)
{
    if (!db || !out || !ember__list_ok(n, keys, klens) || timeout_ms < 0)
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_cmd(&a, n + 2, "BZPOPMIN");
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    ember__argv_add_timeout_ms(&a, timeout_ms, num, sizeof num);
    ember_reply *r = NULL;
    int rc = ember__typed_tree(db, &a, &r);
    if (rc == EMBER_OK && ember_reply_type(r) == EMBER_REPLY_NIL) {
        ember_reply_free(r); /* timed out: *out is left alone, as on every failure */
        return EMBER_ENOTFOUND;
    }
    if (rc == EMBER_OK)
        *out = r;
    return rc;
}

EMBER_API int ember_zscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **items)
{
    return ember__typed_scan(db, "ZSCAN", 1, key, klen, cursor, pattern, plen, count, NULL,
                             next_cursor, items);
}
