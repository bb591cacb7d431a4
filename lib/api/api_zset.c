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
#include <string.h>

#include "typed.h"

static int key_ok(const ember_db *db, const void *key, size_t klen)
{
    return db && em_bytes_ok(key, klen);
}

static int members_ok(size_t n, const void *const *members, const size_t *mlens)
{
    if (n == 0 || !members || !mlens)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!em_bytes_ok(members[i], mlens[i]))
            return 0;
    return 1;
}

/* Runs argv expecting a DOUBLE (NIL: EMBER_ENOTFOUND). */
static int typed_double(ember_db *db, em_argv *a, double *out)
{
    em_capture_sink cap;
    int rc = a->oom ? EMBER_ENOMEM : ember__call_capture(db, a->argc, a->argv, a->lens, &cap, 0);
    ember__argv_free(a);
    if (rc)
        return rc;
    if (cap.type == EMBER_REPLY_NIL)
        return EMBER_ENOTFOUND;
    if (cap.type != EMBER_REPLY_DOUBLE)
        return EMBER_EREPLY;
    if (out)
        *out = cap.d;
    return EMBER_OK;
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

EMBER_API int ember_zadd(ember_db *db, const void *key, size_t klen, size_t n, const double *scores,
                         const void *const *members, const size_t *mlens, uint32_t flags,
                         int64_t *count)
{
    const uint32_t known =
        EMBER_ZADD_NX | EMBER_ZADD_XX | EMBER_ZADD_GT | EMBER_ZADD_LT | EMBER_ZADD_CH;
    if (!key_ok(db, key, klen) || !scores || !members_ok(n, members, mlens) || (flags & ~known))
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
    ember__argv_init(&a, 6 + 2 * n);
    ember__argv_add_cstr(&a, "ZADD");
    ember__argv_add(&a, key, klen);
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
    if (!key_ok(db, key, klen) || !em_bytes_ok(member, mlen) || isnan(delta))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "ZINCRBY");
    ember__argv_add(&a, key, klen);
    ember__argv_add_double(&a, delta, num, sizeof num);
    ember__argv_add(&a, member, mlen);
    return typed_double(db, &a, result);
}

EMBER_API int ember_zrem(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *removed)
{
    if (!key_ok(db, key, klen) || !members_ok(n, members, mlens))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 2 + n);
    ember__argv_add_cstr(&a, "ZREM");
    ember__argv_add(&a, key, klen);
    ember__argv_add_keys(&a, n, members, mlens, NULL, NULL);
    return ember__typed_int(db, &a, removed);
}

EMBER_API int ember_zcard(ember_db *db, const void *key, size_t klen, int64_t *count)
{
    if (!key_ok(db, key, klen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 2);
    ember__argv_add_cstr(&a, "ZCARD");
    ember__argv_add(&a, key, klen);
    return ember__typed_int(db, &a, count);
}

EMBER_API int ember_zscore(ember_db *db, const void *key, size_t klen, const void *member,
                           size_t mlen, double *score)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(member, mlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, "ZSCORE");
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, member, mlen);
    return typed_double(db, &a, score);
}

static int rank_cmd(ember_db *db, const char *cmd, const void *key, size_t klen, const void *member,
                    size_t mlen, int64_t *rank)
{
    if (!key_ok(db, key, klen) || !em_bytes_ok(member, mlen))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add(&a, member, mlen);
    return ember__typed_int(db, &a, rank);
}

EMBER_API int ember_zrank(ember_db *db, const void *key, size_t klen, const void *member,
                          size_t mlen, int64_t *rank)
{
    return rank_cmd(db, "ZRANK", key, klen, member, mlen, rank);
}

EMBER_API int ember_zrevrank(ember_db *db, const void *key, size_t klen, const void *member,
                             size_t mlen, int64_t *rank)
{
    return rank_cmd(db, "ZREVRANK", key, klen, member, mlen, rank);
}

EMBER_API int ember_zcount(ember_db *db, const void *key, size_t klen, double min, double max,
                           uint32_t flags, int64_t *count)
{
    if (!key_ok(db, key, klen) || isnan(min) || isnan(max) ||
        (flags & ~(EMBER_ZRANGE_MINEX | EMBER_ZRANGE_MAXEX)))
        return EMBER_EINVAL;
    char b1[40], b2[40];
    em_argv a;
    ember__argv_init(&a, 4);
    ember__argv_add_cstr(&a, "ZCOUNT");
    ember__argv_add(&a, key, klen);
    add_bound(&a, min, (flags & EMBER_ZRANGE_MINEX) != 0, b1, sizeof b1);
    add_bound(&a, max, (flags & EMBER_ZRANGE_MAXEX) != 0, b2, sizeof b2);
    return ember__typed_int(db, &a, count);
}

EMBER_API int ember_zrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop,
                           uint32_t flags, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out || (flags & ~(EMBER_ZRANGE_REV | EMBER_ZRANGE_WITHSCORES)))
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 6);
    ember__argv_add_cstr(&a, "ZRANGE");
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, start);
    ember__argv_add_ll(&a, stop);
    if (flags & EMBER_ZRANGE_REV)
        ember__argv_add_cstr(&a, "REV");
    if (flags & EMBER_ZRANGE_WITHSCORES)
        ember__argv_add_cstr(&a, "WITHSCORES");
    return typed_tree(db, &a, out);
}

EMBER_API int ember_zrange_byscore(ember_db *db, const void *key, size_t klen, double min,
                                   double max, uint32_t flags, int64_t offset, int64_t count,
                                   ember_reply **out)
{
    const uint32_t known =
        EMBER_ZRANGE_MINEX | EMBER_ZRANGE_MAXEX | EMBER_ZRANGE_REV | EMBER_ZRANGE_WITHSCORES;
    if (!key_ok(db, key, klen) || !out || isnan(min) || isnan(max) || (flags & ~known) ||
        offset < 0)
        return EMBER_EINVAL;
    char b1[40], b2[40];
    em_argv a;
    ember__argv_init(&a, 10);
    ember__argv_add_cstr(&a, "ZRANGE");
    ember__argv_add(&a, key, klen);
    /* ZRANGE ... BYSCORE REV takes the range as max, min. */
    int rev = (flags & EMBER_ZRANGE_REV) != 0;
    add_bound(&a, rev ? max : min, (flags & (rev ? EMBER_ZRANGE_MAXEX : EMBER_ZRANGE_MINEX)) != 0,
              b1, sizeof b1);
    add_bound(&a, rev ? min : max, (flags & (rev ? EMBER_ZRANGE_MINEX : EMBER_ZRANGE_MAXEX)) != 0,
              b2, sizeof b2);
    ember__argv_add_cstr(&a, "BYSCORE");
    if (rev)
        ember__argv_add_cstr(&a, "REV");
    if (offset != 0 || count >= 0) {
        ember__argv_add_cstr(&a, "LIMIT");
        ember__argv_add_ll(&a, offset);
        ember__argv_add_ll(&a, count < 0 ? -1 : count);
    }
    if (flags & EMBER_ZRANGE_WITHSCORES)
        ember__argv_add_cstr(&a, "WITHSCORES");
    return typed_tree(db, &a, out);
}

EMBER_API int ember_zrange_bylex(ember_db *db, const void *key, size_t klen, const void *min,
                                 size_t minlen, const void *max, size_t maxlen, uint32_t flags,
                                 int64_t offset, int64_t count, ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out || !em_bytes_ok(min, minlen) || !em_bytes_ok(max, maxlen) ||
        (flags & ~EMBER_ZRANGE_REV) || offset < 0)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 9);
    ember__argv_add_cstr(&a, "ZRANGE");
    ember__argv_add(&a, key, klen);
    int rev = (flags & EMBER_ZRANGE_REV) != 0;
    ember__argv_add(&a, rev ? max : min, rev ? maxlen : minlen);
    ember__argv_add(&a, rev ? min : max, rev ? minlen : maxlen);
    ember__argv_add_cstr(&a, "BYLEX");
    if (rev)
        ember__argv_add_cstr(&a, "REV");
    if (offset != 0 || count >= 0) {
        ember__argv_add_cstr(&a, "LIMIT");
        ember__argv_add_ll(&a, offset);
        ember__argv_add_ll(&a, count < 0 ? -1 : count);
    }
    return typed_tree(db, &a, out);
}

static int pop_cmd(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t count,
                   ember_reply **out)
{
    if (!key_ok(db, key, klen) || !out || count < 0)
        return EMBER_EINVAL;
    em_argv a;
    ember__argv_init(&a, 3);
    ember__argv_add_cstr(&a, cmd);
    ember__argv_add(&a, key, klen);
    ember__argv_add_ll(&a, count);
    return typed_tree(db, &a, out);
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
                             double timeout_s, ember_reply **out)
{
    if (!db || !out || !members_ok(n, keys, klens) || !(timeout_s >= 0) || isinf(timeout_s))
        return EMBER_EINVAL;
    char num[32];
    em_argv a;
    ember__argv_init(&a, n + 2);
    ember__argv_add_cstr(&a, "BZPOPMIN");
    ember__argv_add_keys(&a, n, keys, klens, NULL, NULL);
    ember__argv_add_double(&a, timeout_s, num, sizeof num);
    int rc = typed_tree(db, &a, out);
    if (rc == EMBER_OK && ember_reply_type(*out) == EMBER_REPLY_NIL) {
        ember_reply_free(*out);
        *out = NULL;
        return EMBER_ENOTFOUND;
    }
    return rc;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

EMBER_API int ember_zscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **items)
{
    if (!key_ok(db, key, klen) || !next_cursor || !items || (pattern == NULL && plen != 0))
        return EMBER_EINVAL;
    char cbuf[24], nbuf[24];
    size_t cl = 0;
    do
        nbuf[cl++] = (char)('0' + cursor % 10);
    while ((cursor /= 10) != 0);
    for (size_t i = 0; i < cl; i++)
        cbuf[i] = nbuf[cl - 1 - i];
    em_argv a;
    ember__argv_init(&a, 7);
    ember__argv_add_cstr(&a, "ZSCAN");
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
    /* [cursor, [member, score, ...]]: keep the inner array, free the rest. */
    size_t cl2;
    const char *cs = ember_reply_str(ember_reply_element(r, 0), &cl2);
    if (ember_reply_type(r) != EMBER_REPLY_ARRAY || ember_reply_len(r) != 2 ||
        r->u.elems[1]->type != EMBER_REPLY_ARRAY || !parse_u64(cs, cl2, next_cursor)) {
        ember_reply_free(r);
        return EMBER_EREPLY;
    }
    *items = r->u.elems[1];
    r->len = 1; /* the root no longer owns the item array */
    ember_reply_free(r);
    return EMBER_OK;
}
