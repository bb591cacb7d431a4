/*
 * t_zset.c — the sorted-set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
 * ZCOUNT ZLEXCOUNT ZRANK ZREVRANK, the ZRANGE family (ZRANGE ZRANGESTORE
 * ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE),
 * ZREMRANGEBYRANK/SCORE/LEX, ZPOPMIN ZPOPMAX BZPOPMIN BZPOPMAX ZMPOP BZMPOP,
 * ZRANDMEMBER, ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD, ZSCAN.
 *
 * The value and its encodings are in zset.h/zset.c. Invariants kept here:
 *  - A key never holds an empty zset: commands that remove the last member
 *    delete the key; new keys are built detached and added only when not
 *    empty.
 *  - Listpack -> skiplist conversion as Redis 7.0 (zset.h); destinations of
 *    Z*STORE are built as a skiplist and converted down by their final size,
 *    ZRANGESTORE's are built up from a listpack.
 *  - In-place edits call ember__ks_prewrite() once, before the first change,
 *    and add the number of changes to the dirty counter.
 *  - Replies use RESP3 shapes: scores are DOUBLEs, WITHSCORES pairs are
 *    nested 2-arrays, as Redis 7.0 answers a RESP3 client.
 *  - Variants share one worker: zadd_generic (ZADD, ZINCRBY), zrange_generic
 *    (the ZRANGE family), zremrange_generic, zpop_generic (all pops),
 *    zsetop_generic (union/inter/diff/intercard).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "../common/util.h"
#include "coll.h"
#include "intset.h"
#include "listpack.h"
#include "zset.h"

/* ------------------------------------------------------------ helpers */

static em_mem *zmem(em_ctx *c)
{
    return &c->st->mem;
}

static void set_enc(em_obj *o, int enc)
{
    o->hdr[0] = (uint8_t)((o->hdr[0] & ~0x38) | (enc << 3));
}

static size_t max_entries(const em_ctx *c)
{
    return (size_t)c->srv->cfg.zset_max_listpack_entries;
}
static size_t max_value(const em_ctx *c)
{
    return (size_t)c->srv->cfg.zset_max_listpack_value;
}

/* Seed of a new member dict (the store's hash seed). */
static uint64_t zseed(const em_ctx *c)
{
    return c->st->seed ^ 0x7a5e7a5e7a5e7a5eull;
}

/* A detached, empty zset object for key argv[keyi], encoded for a first
 * member of first_len bytes as Redis chooses. NULL on OOM. */
static em_obj *znew(em_ctx *c, size_t keyi, size_t first_len)
{
    em_mem *m = zmem(c);
    int sl = max_entries(c) == 0 || max_value(c) < first_len;
    void *body = sl ? (void *)ember__zset_new(m, zseed(c)) : (void *)ember__lp_new(m, 0);
    if (!body)
        return NULL;
    em_obj *o = ember__obj_new_body(m, c->argv[keyi], c->argvlen[keyi], EM_T_ZSET,
                                    sl ? EM_ENC_SKIPLIST : EM_ENC_LISTPACK, body);
    if (!o)
        ember__zset_free_body(m, body, sl ? EM_ENC_SKIPLIST : EM_ENC_LISTPACK);
    return o;
}

static size_t zlen(const em_obj *o)
{
    em_zv v = ember__zv(o);
    return ember__zv_len(&v);
}

/* Converts a listpack zset to the skiplist encoding. 0 or -1 (OOM). */
static int to_skiplist(em_ctx *c, em_obj *o)
{
    em_mem *m = zmem(c);
    uint8_t *lp = ember__obj_body(o);
    em_zset *zs = ember__zset_from_listpack(m, lp, zseed(c));
    if (!zs)
        return -1;
    ember__lp_free(m, lp);
    ember__obj_set_body(o, zs);
    set_enc(o, EM_ENC_SKIPLIST);
    return 0;
}

/* Converts a skiplist zset to a listpack when it fits (Redis's
 * zsetConvertToListpackIfNeeded). Keeps the skiplist on OOM. */
static void maybe_to_listpack(em_ctx *c, em_obj *o, size_t maxelelen)
{
    if (ember__obj_enc(o) != EM_ENC_SKIPLIST)
        return;
    em_zset *zs = ember__obj_body(o);
    if (zs->zsl.length > max_entries(c) || maxelelen > max_value(c))
        return;
    uint8_t *lp = ember__zset_to_listpack(zmem(c), zs);
    if (!lp)
        return;
    ember__zset_free_body(zmem(c), zs, EM_ENC_SKIPLIST);
    ember__obj_set_body(o, lp);
    set_enc(o, EM_ENC_LISTPACK);
}

/* Calls the prewrite hook once per command for an existing key. */
typedef struct zwrite {
    em_ctx *c;
    em_obj *o;
    int done; /* hook called, or o is a new detached object */
} zwrite;

static void zw_touch(zwrite *w)
{
    if (!w->done) {
        ember__ks_prewrite(w->c->st, w->c->ks, w->o);
        w->done = 1;
    }
}

/* Deletes key argv[i] at pos when its zset became empty. Returns 1 if so. */
static int delete_if_empty(em_ctx *c, em_obj *o, const em_dpos *pos)
{
    if (zlen(o))
        return 0;
    ember__notify_obj(c->st, c->ks, EM_EV_DEL, o);
    ember__ks_delete(c->st, c->ks, pos, 0, EM_DEL_USER);
    return 1;
}

/* Stores the detached object n under key argv[keyi] (replacing any value),
 * or deletes that key when n is empty (n is freed). Returns n's size. */
static size_t store_result(em_ctx *c, size_t keyi, em_obj *n, int ev)
{
    em_dpos pos;
    em_obj *old = em_lookup_write(c, keyi, &pos);
    size_t len = zlen(n);
    if (!len) {
        ember__obj_free(zmem(c), n);
        if (old) {
            em_notify(c, EM_EV_DEL, keyi, old);
            ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
            c->st->dirty++;
        }
        return 0;
    }
    if (old)
        ember__obj_free(zmem(c), ember__ks_replace(c->st, c->ks, &pos, n));
    else
        ember__ks_add(c->st, c->ks, n);
    c->st->dirty++;
    em_notify(c, ev, keyi, n);
    return len;
}

/* Parses a score argument as Redis's getDoubleFromObject. */
static int arg_score(em_ctx *c, size_t i, double *d)
{
    return ember__str_to_d(c->argv[i], c->argvlen[i], d);
}

/* strtod over argv[i] + skip as Redis's zslParseRange reads it: a C string
 * (ends at a NUL byte), leading space allowed, nothing may follow, no NaN. */
static int parse_bound(const char *p, size_t len, double *out)
{
    char sbuf[128], *buf = sbuf;
    len = strnlen(p, len);
    if (len >= sizeof sbuf) {
        buf = malloc(len + 1);
        if (!buf)
            return 0;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    int ok = *end == '\0' && !isnan(d);
    if (buf != sbuf)
        free(buf);
    *out = d;
    return ok;
}

static int parse_score_item(const char *p, size_t len, double *v, int *ex)
{
    *ex = len > 0 && p[0] == '(';
    return parse_bound(p + *ex, len - (size_t)*ex, v);
}

/* Score range from argv[imin], argv[imax]; 0 when invalid (no reply). */
static int parse_range(const em_ctx *c, size_t imin, size_t imax, em_zrange *r)
{
    return parse_score_item(c->argv[imin], c->argvlen[imin], &r->min, &r->minex) &&
           parse_score_item(c->argv[imax], c->argvlen[imax], &r->max, &r->maxex);
}

static int parse_lex_item(const char *p, size_t len, em_zlexb *b, int *ex)
{
    if (len == 0)
        return 0;
    b->p = p + 1;
    b->len = len - 1;
    b->inf = 0;
    switch (p[0]) {
    case '+':
    case '-':
        if (len > 1 && p[1] != '\0')
            return 0;
        *ex = 1;
        b->inf = p[0] == '+' ? 1 : -1;
        return 1;
    case '(':
        *ex = 1;
        return 1;
    case '[':
        *ex = 0;
        return 1;
    default:
        return 0;
    }
}

static int parse_lex(const em_ctx *c, size_t imin, size_t imax, em_zlex *r)
{
    return parse_lex_item(c->argv[imin], c->argvlen[imin], &r->min, &r->minex) &&
           parse_lex_item(c->argv[imax], c->argvlen[imax], &r->max, &r->maxex);
}

/* A range of either kind. */
enum { ZR_RANK = 0, ZR_SCORE = 1, ZR_LEX = 2 };

typedef struct zspec {
    int kind;
    em_zrange r;
    em_zlex l;
} zspec;

static int spec_gte(const zspec *s, const char *e, size_t l, double score)
{
    return s->kind == ZR_SCORE ? ember__zrange_gte_min(score, &s->r)
                               : ember__zlex_gte_min(e, l, &s->l);
}
static int spec_lte(const zspec *s, const char *e, size_t l, double score)
{
    return s->kind == ZR_SCORE ? ember__zrange_lte_max(score, &s->r)
                               : ember__zlex_lte_max(e, l, &s->l);
}
static int pos_gte(em_zv *v, const em_zpos *p, const zspec *s)
{
    uint8_t b[EM_LP_INTBUF];
    size_t l;
    double sc;
    const char *e = ember__zv_get(v, p, &l, &sc, b);
    return spec_gte(s, e, l, sc);
}
static int pos_lte(em_zv *v, const em_zpos *p, const zspec *s)
{
    uint8_t b[EM_LP_INTBUF];
    size_t l;
    double sc;
    const char *e = ember__zv_get(v, p, &l, &sc, b);
    return spec_lte(s, e, l, sc);
}

/* Redis's zzlIsInRange / zzlIsInLexRange for a listpack. */
static int lp_maybe_in(em_zv *v, const zspec *s)
{
    size_t n = ember__zv_len(v);
    if (s->kind == ZR_SCORE ? !ember__zrange_valid(&s->r) : !ember__zlex_valid(&s->l))
        return 0;
    em_zpos p;
    if (!n || !ember__zv_at(v, n - 1, &p) || !pos_gte(v, &p, s))
        return 0;
    ember__zv_at(v, 0, &p);
    return pos_lte(v, &p, s);
}

/* First element in range (forward order), with its 0-based rank. */
static int zv_first(em_zv *v, const zspec *s, em_zpos *pos, size_t *rank)
{
    if (v->enc == EM_ENC_SKIPLIST) {
        size_t rk = 0;
        pos->n = s->kind == ZR_SCORE ? ember__zsl_first_in_range(&v->zs->zsl, &s->r, &rk)
                                     : ember__zsl_first_in_lex(&v->zs->zsl, &s->l, &rk);
        *rank = rk - 1;
        return pos->n != NULL;
    }
    if (!lp_maybe_in(v, s))
        return 0;
    size_t rk = 0;
    int ok = ember__zv_at(v, 0, pos);
    for (; ok; ok = ember__zv_step(v, pos, 0), rk++) {
        if (pos_gte(v, pos, s)) {
            *rank = rk;
            return pos_lte(v, pos, s);
        }
    }
    return 0;
}

/* Last element in range (forward order), with its 0-based rank. */
static int zv_last(em_zv *v, const zspec *s, em_zpos *pos, size_t *rank)
{
    if (v->enc == EM_ENC_SKIPLIST) {
        size_t rk = 0;
        pos->n = s->kind == ZR_SCORE ? ember__zsl_last_in_range(&v->zs->zsl, &s->r, &rk)
                                     : ember__zsl_last_in_lex(&v->zs->zsl, &s->l, &rk);
        *rank = rk - 1;
        return pos->n != NULL;
    }
    if (!lp_maybe_in(v, s))
        return 0;
    size_t n = ember__zv_len(v), rk = n - 1;
    int ok = ember__zv_at(v, rk, pos);
    for (; ok; ok = ember__zv_step(v, pos, 1), rk--) {
        if (pos_lte(v, pos, s)) {
            *rank = rk;
            return pos_gte(v, pos, s);
        }
    }
    return 0;
}

/* Replies one element: the member, or [member, score] WITHSCORES. */
static void add_elem(em_ctx *c, const char *e, size_t l, double score, int withscores)
{
    if (withscores) {
        em_add_array(c, 2);
        em_add_bulk(c, e, l);
        em_add_double(c, score);
    } else {
        em_add_bulk(c, e, l);
    }
}

/* ------------------------------------------------------------ adding */

enum { ZA_NX = 1, ZA_XX = 2, ZA_GT = 4, ZA_LT = 8, ZA_INCR = 16, ZA_CH = 32 };
enum { ZO_NOP = 1, ZO_NAN = 2, ZO_ADDED = 4, ZO_UPDATED = 8 };

/* Redis's zsetAdd: adds or updates one member under the ZA_* flags. Sets
 * *out (ZO_*) and *newscore. Returns 0, or -1 on OOM (nothing changed). */
static int zs_add(zwrite *w, double score, const char *ele, size_t len, int in, int *out,
                  double *newscore)
{
    em_ctx *c = w->c;
    em_obj *o = w->o;
    em_mem *m = zmem(c);
    *out = 0;
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        uint8_t *lp = ember__obj_body(o);
        double cur;
        uint8_t *p = ember__zlp_find(lp, ele, len, &cur);
        if (p) {
            if (in & ZA_NX) {
                *out = ZO_NOP;
                return 0;
            }
            if (in & ZA_INCR) {
                score += cur;
                if (isnan(score)) {
                    *out = ZO_NAN;
                    return 0;
                }
            }
            *newscore = score;
            if (((in & ZA_GT) && score <= cur) || ((in & ZA_LT) && score >= cur)) {
                *out = ZO_NOP;
                return 0;
            }
            if (score != cur) {
                zw_touch(w);
                /* Insert the new pair first (the only step that can fail),
                 * then drop the old one: the member with score cur. */
                if (ember__zlp_insert(m, &lp, ele, len, score)) {
                    ember__obj_set_body(o, lp);
                    return -1;
                }
                for (p = ember__lp_first(lp); p;) {
                    p = ember__lp_find(lp, p, ele, len, 1);
                    if (!p)
                        break;
                    uint8_t *sp = ember__lp_next(lp, p);
                    if (ember__zlp_score(sp) == cur) {
                        lp = ember__zlp_delete(m, lp, p);
                        break;
                    }
                    p = ember__lp_next(lp, sp);
                }
                ember__obj_set_body(o, lp);
                *out = ZO_UPDATED;
            }
            return 0;
        }
        if (in & ZA_XX) {
            *out = ZO_NOP;
            return 0;
        }
        zw_touch(w);
        if (ember__lp_length(lp) / 2 + 1 > max_entries(c) || len > max_value(c) ||
            ember__lp_bytes(lp) + len > (1u << 30)) {
            if (to_skiplist(c, o))
                return -1;
        } else {
            if (ember__zlp_insert(m, &lp, ele, len, score)) {
                ember__obj_set_body(o, lp);
                return -1;
            }
            ember__obj_set_body(o, lp);
            *newscore = score;
            *out = ZO_ADDED;
            return 0;
        }
    }
    em_zset *zs = ember__obj_body(o);
    em_dpos pos;
    if (ember__dict_find(&zs->dict, ele, len, ember__dict_hash(&zs->dict, ele, len), &pos)) {
        em_obj *e = *pos.link;
        double cur = ember__obj_score(e);
        if (in & ZA_NX) {
            *out = ZO_NOP;
            return 0;
        }
        if (in & ZA_INCR) {
            score += cur;
            if (isnan(score)) {
                *out = ZO_NAN;
                return 0;
            }
        }
        *newscore = score;
        if (((in & ZA_GT) && score <= cur) || ((in & ZA_LT) && score >= cur)) {
            *out = ZO_NOP;
            return 0;
        }
        if (score != cur) {
            zw_touch(w);
            ember__zsl_update_score(&zs->zsl, cur, ele, len, score);
            *out = ZO_UPDATED;
        }
        return 0;
    }
    if (in & ZA_XX) {
        *out = ZO_NOP;
        return 0;
    }
    zw_touch(w);
    if (ember__zset_sl_add(m, zs, ele, len, score))
        return -1;
    *newscore = score;
    *out = ZO_ADDED;
    return 0;
}

/* Removes a member. Returns 1 if it was there. */
static int zs_del(zwrite *w, const char *ele, size_t len)
{
    em_obj *o = w->o;
    em_mem *m = zmem(w->c);
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        uint8_t *lp = ember__obj_body(o);
        uint8_t *p = ember__zlp_find(lp, ele, len, NULL);
        if (!p)
            return 0;
        zw_touch(w);
        ember__obj_set_body(o, ember__zlp_delete(m, lp, p));
        return 1;
    }
    em_zset *zs = ember__obj_body(o);
    em_dpos pos;
    if (!ember__dict_find(&zs->dict, ele, len, ember__dict_hash(&zs->dict, ele, len), &pos))
        return 0;
    zw_touch(w);
    return ember__zset_sl_del(m, zs, ele, len);
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
 * ZINCRBY key increment member */
static void zadd_generic(em_ctx *c, int in)
{
    size_t i = 2;
    for (; i < c->argc; i++) {
        if (em_arg_is(c, i, "nx"))
            in |= ZA_NX;
        else if (em_arg_is(c, i, "xx"))
            in |= ZA_XX;
        else if (em_arg_is(c, i, "ch"))
            in |= ZA_CH;
        else if (em_arg_is(c, i, "incr"))
            in |= ZA_INCR;
        else if (em_arg_is(c, i, "gt"))
            in |= ZA_GT;
        else if (em_arg_is(c, i, "lt"))
            in |= ZA_LT;
        else
            break;
    }
    size_t scoreidx = i, elements = c->argc - scoreidx;
    if (elements % 2 || !elements) {
        em_err_syntax(c);
        return;
    }
    elements /= 2;
    if ((in & ZA_INCR) && elements > 1) {
        em_add_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    if ((in & ZA_NX) && (in & ZA_XX)) {
        em_add_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if (((in & ZA_GT) && (in & ZA_NX)) || ((in & ZA_LT) && (in & ZA_NX)) ||
        ((in & ZA_GT) && (in & ZA_LT))) {
        em_add_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    double sbuf[16], *scores = sbuf;
    if (elements > EM_ARRAY_LEN(sbuf)) {
        scores = malloc(elements * sizeof *scores);
        if (!scores) {
            em_err_oom(c);
            return;
        }
    }
    for (size_t j = 0; j < elements; j++) {
        if (!arg_score(c, scoreidx + j * 2, &scores[j])) {
            em_err_notfloat(c);
            goto out;
        }
    }
    em_obj *o;
    em_dpos pos;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 1, &o, &pos))
        goto out;
    int created = 0;
    size_t added = 0, updated = 0, processed = 0;
    double score = 0;
    int nan = 0, oom = 0;
    if (!o) {
        if (in & ZA_XX)
            goto reply;
        o = znew(c, 1, c->argvlen[scoreidx + 1]);
        if (!o) {
            em_err_oom(c);
            goto out;
        }
        created = 1;
    }
    zwrite w = {c, o, created};
    for (size_t j = 0; j < elements; j++) {
        int rf;
        size_t mi = scoreidx + j * 2 + 1;
        if (zs_add(&w, scores[j], c->argv[mi], c->argvlen[mi], in, &rf, &score)) {
            oom = 1;
            break;
        }
        if (rf & ZO_NAN) {
            nan = 1;
            break;
        }
        if (rf & ZO_ADDED)
            added++;
        if (rf & ZO_UPDATED)
            updated++;
        if (!(rf & ZO_NOP))
            processed++;
    }
    c->st->dirty += added + updated;
    if (created) {
        if (zlen(o))
            ember__ks_add(c->st, c->ks, o);
        else
            ember__obj_free(zmem(c), o);
    }
    if (added + updated)
        em_notify(c, (in & ZA_INCR) ? EM_EV_ZINCR : EM_EV_ZADD, 1, o);
    if (oom) {
        em_err_oom(c);
        goto out;
    }
    if (nan) {
        em_add_error(c, "ERR resulting score is not a number (NaN)");
        goto out;
    }
reply:
    if (in & ZA_INCR) {
        if (processed)
            em_add_double(c, score);
        else
            em_add_nil(c);
    } else {
        em_add_int(c, (int64_t)((in & ZA_CH) ? added + updated : added));
    }
out:
    if (scores != sbuf)
        free(scores);
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] */
static void cmd_zadd(em_ctx *c)
{
    zadd_generic(c, 0);
}

/* ZINCRBY key increment member */
static void cmd_zincrby(em_ctx *c)
{
    /* The flag loop sees "increment" first and stops there. */
    zadd_generic(c, ZA_INCR);
}

/* ZREM key member [member ...] */
static void cmd_zrem(em_ctx *c)
{
    em_obj *o;
    em_dpos pos;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 1, &o, &pos))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    zwrite w = {c, o, 0};
    size_t deleted = 0;
    int gone = 0;
    for (size_t i = 2; i < c->argc; i++) {
        deleted += (size_t)zs_del(&w, c->argv[i], c->argvlen[i]);
        if (!zlen(o)) {
            em_notify(c, EM_EV_ZREM, 1, o);
            em_notify(c, EM_EV_DEL, 1, o);
            ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
            gone = 1;
            break;
        }
    }
    if (!gone && deleted) {
        em_notify(c, EM_EV_ZREM, 1, o);
        if (ember__obj_enc(o) == EM_ENC_SKIPLIST)
            ember__dict_maybe_shrink(&((em_zset *)ember__obj_body(o))->dict);
    }
    c->st->dirty += deleted;
    em_add_int(c, (int64_t)deleted);
}

/* ------------------------------------------------------------ reads */

/* ZCARD key */
static void cmd_zcard(em_ctx *c)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    em_add_int(c, o ? (int64_t)zlen(o) : 0);
}

/* ZSCORE key member */
static void cmd_zscore(em_ctx *c)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    double s;
    em_zv v;
    if (o && (v = ember__zv(o), ember__zv_score(&v, c->argv[2], c->argvlen[2], &s)))
        em_add_double(c, s);
    else
        em_add_nil(c);
}

/* ZMSCORE key member [member ...] */
static void cmd_zmscore(em_ctx *c)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    em_add_array(c, c->argc - 2);
    em_zv v;
    if (o)
        v = ember__zv(o);
    for (size_t i = 2; i < c->argc; i++) {
        double s;
        if (o && ember__zv_score(&v, c->argv[i], c->argvlen[i], &s))
            em_add_double(c, s);
        else
            em_add_nil(c);
    }
}

/* 0-based rank of member in forward order; 0 if absent. */
static int zv_rank(em_zv *v, const char *ele, size_t len, size_t *rank)
{
    if (v->enc == EM_ENC_LISTPACK) {
        size_t rk = 0;
        for (uint8_t *p = ember__lp_first(v->lp); p; rk++) {
            if (ember__lp_eq(p, ele, len)) {
                *rank = rk;
                return 1;
            }
            p = ember__lp_next(v->lp, p);
            p = ember__lp_next(v->lp, p);
        }
        return 0;
    }
    double s;
    if (!ember__zv_score(v, ele, len, &s))
        return 0;
    size_t r = ember__zsl_rank(&v->zs->zsl, s, ele, len);
    *rank = r - 1;
    return r != 0;
}

/* ZRANK key member / ZREVRANK key member */
static void zrank_generic(em_ctx *c, int rev)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    size_t rk;
    em_zv v;
    if (!o || (v = ember__zv(o), !zv_rank(&v, c->argv[2], c->argvlen[2], &rk))) {
        em_add_nil(c);
        return;
    }
    em_add_int(c, (int64_t)(rev ? ember__zv_len(&v) - 1 - rk : rk));
}

/* ZRANK key member */
static void cmd_zrank(em_ctx *c)
{
    zrank_generic(c, 0);
}

/* ZREVRANK key member */
static void cmd_zrevrank(em_ctx *c)
{
    zrank_generic(c, 1);
}

/* Elements in a score or lex range (Redis: ranks on a skiplist, a walk on a
 * listpack). */
static size_t zv_count(em_zv *v, const zspec *s)
{
    em_zpos p, q;
    size_t first, last;
    if (!zv_first(v, s, &p, &first))
        return 0;
    if (v->enc == EM_ENC_SKIPLIST)
        return zv_last(v, s, &q, &last) ? last - first + 1 : 0;
    size_t n = 0;
    do
        n++;
    while (ember__zv_step(v, &p, 0) && pos_lte(v, &p, s));
    return n;
}

/* ZCOUNT key min max / ZLEXCOUNT key min max */
static void zcount_generic(em_ctx *c, int kind)
{
    zspec s = {.kind = kind};
    if (kind == ZR_SCORE ? !parse_range(c, 2, 3, &s.r) : !parse_lex(c, 2, 3, &s.l)) {
        em_add_error(c, kind == ZR_SCORE ? "ERR min or max is not a float"
                                         : "ERR min or max not valid string range item");
        return;
    }
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    em_zv v;
    em_add_int(c, o ? (v = ember__zv(o), (int64_t)zv_count(&v, &s)) : 0);
}

/* ZCOUNT key min max */
static void cmd_zcount(em_ctx *c)
{
    zcount_generic(c, ZR_SCORE);
}

/* ZLEXCOUNT key min max */
static void cmd_zlexcount(em_ctx *c)
{
    zcount_generic(c, ZR_LEX);
}

/* ------------------------------------------------------------ ZRANGE family */

/* Where a range's elements go: the client, or a destination being built. */
typedef struct zres {
    em_ctx *c;
    int withscores;
    int store;
    zwrite dst;
    int oom;
    size_t n;
    long long len; /* the range's length, -1 if not known (BYSCORE, BYLEX) */
} zres;

static void zres_begin(zres *r, long long len)
{
    r->len = len;
    if (r->store)
        return;
    if (len >= 0)
        em_add_array(r->c, (size_t)len);
    else
        em_add_deferred(r->c, EMBER_REPLY_ARRAY);
}

static void zres_emit(zres *r, const char *e, size_t l, double score)
{
    r->n++;
    if (!r->store) {
        add_elem(r->c, e, l, score, r->withscores);
        return;
    }
    if (r->oom)
        return;
    if (!r->dst.o) {
        r->dst.c = r->c;
        /* As Redis 7.0 (zsetTypeCreate with the length as a size hint): a
         * rank range longer than max_entries is a skiplist from the start,
         * so its -0 scores stay -0 (a listpack stores them as 0). */
        if (r->len >= 0 && (unsigned long long)r->len > max_entries(r->c))
            r->dst.o = znew(r->c, 1, SIZE_MAX);
        else
            r->dst.o = znew(r->c, 1, 0);
        r->dst.done = 1;
        if (!r->dst.o) {
            r->oom = 1;
            return;
        }
    }
    int rf;
    double ns;
    if (zs_add(&r->dst, score, e, l, 0, &rf, &ns))
        r->oom = 1;
}

static void zres_end(zres *r, long long len)
{
    if (!r->store) {
        if (len < 0)
            em_end_deferred(r->c, r->n);
        return;
    }
    if (r->oom) {
        if (r->dst.o)
            ember__obj_free(zmem(r->c), r->dst.o);
        em_err_oom(r->c);
        return;
    }
    if (!r->dst.o)
        r->dst.o = znew(r->c, 1, 0);
    if (!r->dst.o) {
        em_err_oom(r->c);
        return;
    }
    em_add_int(r->c, (int64_t)store_result(r->c, 1, r->dst.o, EM_EV_ZRANGESTORE));
}

/* Emits ranks [start, end] of the forward order; reverse walks the reversed
 * order (Redis clips the indexes, then counts them from the tail). */
static void range_by_rank(zres *r, em_zv *v, long long start, long long end, int rev)
{
    long long len = (long long)ember__zv_len(v), s, e;
    if (!ember__range_clip(start, end, len, &s, &e)) {
        zres_begin(r, 0);
        zres_end(r, 0);
        return;
    }
    long long n = e - s + 1;
    zres_begin(r, n);
    em_zpos p;
    ember__zv_at(v, (size_t)(rev ? len - 1 - s : s), &p);
    uint8_t b[EM_LP_INTBUF];
    for (long long i = 0; i < n; i++) {
        size_t l;
        double sc;
        const char *el = ember__zv_get(v, &p, &l, &sc, b);
        zres_emit(r, el, l, sc);
        ember__zv_step(v, &p, rev);
    }
    zres_end(r, n);
}

/* Emits the score/lex range with LIMIT offset count (count < 0: all). */
static void range_by_spec(zres *r, em_zv *v, const zspec *s, long long offset, long long limit,
                          int rev)
{
    zres_begin(r, -1);
    em_zpos p;
    size_t rank;
    int ok = rev ? zv_last(v, s, &p, &rank) : zv_first(v, s, &p, &rank);
    /* A negative offset skips everything in Redis (its countdown never
     * reaches zero before the end). */
    if (ok && offset < 0)
        ok = 0;
    if (ok && offset > 0) {
        /* Jump by rank instead of stepping: O(log n) on a skiplist. */
        size_t len = ember__zv_len(v);
        if (rev) {
            ok = (unsigned long long)offset <= rank;
            if (ok)
                ok = ember__zv_at(v, rank - (size_t)offset, &p);
        } else {
            ok = (unsigned long long)offset < len - rank;
            if (ok)
                ok = ember__zv_at(v, rank + (size_t)offset, &p);
        }
    }
    uint8_t b[EM_LP_INTBUF];
    while (ok && limit != 0) {
        size_t l;
        double sc;
        const char *el = ember__zv_get(v, &p, &l, &sc, b);
        if (rev ? !spec_gte(s, el, l, sc) : !spec_lte(s, el, l, sc))
            break;
        zres_emit(r, el, l, sc);
        if (limit > 0)
            limit--;
        ok = ember__zv_step(v, &p, rev);
    }
    zres_end(r, -1);
}

enum { DIR_AUTO = 0, DIR_FWD = 1, DIR_REV = 2 };

/* The ZRANGE family. key at argv[kidx] (ZRANGESTORE: dst at 1, src at 2). */
static void zrange_generic(em_ctx *c, size_t kidx, int store, int kind, int dir)
{
    size_t minidx = kidx + 1, maxidx = kidx + 2;
    int withscores = 0, auto_kind = kind < 0;
    long long offset = 0, limit = -1;
    int has_limit = 0;
    for (size_t j = kidx + 3; j < c->argc; j++) {
        size_t left = c->argc - j - 1;
        if (!store && em_arg_is(c, j, "withscores")) {
            withscores = 1;
        } else if (em_arg_is(c, j, "limit") && left >= 2) {
            if (!em_arg_ll(c, j + 1, &offset) || !em_arg_ll(c, j + 2, &limit))
                return;
            has_limit = 1;
            j += 2;
        } else if (dir == DIR_AUTO && em_arg_is(c, j, "rev")) {
            dir = DIR_REV;
        } else if (kind < 0 && em_arg_is(c, j, "bylex")) {
            kind = ZR_LEX;
        } else if (kind < 0 && em_arg_is(c, j, "byscore")) {
            kind = ZR_SCORE;
        } else {
            em_err_syntax(c);
            return;
        }
    }
    (void)auto_kind;
    if (dir == DIR_AUTO)
        dir = DIR_FWD;
    if (kind < 0)
        kind = ZR_RANK;
    /* Redis keeps limit = -1 as "no LIMIT": LIMIT x -1 on a rank range passes. */
    if (has_limit && limit != -1 && kind == ZR_RANK) {
        em_add_error(c, "ERR syntax error, LIMIT is only supported in combination with either "
                        "BYSCORE or BYLEX");
        return;
    }
    if (withscores && kind == ZR_LEX) {
        em_add_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    int rev = dir == DIR_REV;
    if (rev && kind != ZR_RANK) {
        size_t t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    long long start = 0, end = 0;
    zspec s = {.kind = kind};
    if (kind == ZR_RANK) {
        if (!em_arg_ll(c, minidx, &start) || !em_arg_ll(c, maxidx, &end))
            return;
    } else if (kind == ZR_SCORE) {
        if (!parse_range(c, minidx, maxidx, &s.r)) {
            em_add_error(c, "ERR min or max is not a float");
            return;
        }
    } else if (!parse_lex(c, minidx, maxidx, &s.l)) {
        em_add_error(c, "ERR min or max not valid string range item");
        return;
    }
    zres r = {.c = c, .withscores = withscores, .store = store};
    em_obj *o;
    if (!ember__coll_lookup(c, kidx, EM_T_ZSET, 0, &o, NULL))
        return;
    if (!o) {
        if (store) {
            zres_end(&r, 0);
        } else {
            em_add_array(c, 0);
        }
        return;
    }
    em_zv v = ember__zv(o);
    if (kind == ZR_RANK)
        range_by_rank(&r, &v, start, end, rev);
    else
        range_by_spec(&r, &v, &s, offset, limit, rev);
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
static void cmd_zrange(em_ctx *c)
{
    zrange_generic(c, 1, 0, -1, DIR_AUTO);
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] */
static void cmd_zrangestore(em_ctx *c)
{
    zrange_generic(c, 2, 1, -1, DIR_AUTO);
}

/* ZREVRANGE key start stop [WITHSCORES] */
static void cmd_zrevrange(em_ctx *c)
{
    zrange_generic(c, 1, 0, ZR_RANK, DIR_REV);
}

/* ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
static void cmd_zrangebyscore(em_ctx *c)
{
    zrange_generic(c, 1, 0, ZR_SCORE, DIR_FWD);
}

/* ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
static void cmd_zrevrangebyscore(em_ctx *c)
{
    zrange_generic(c, 1, 0, ZR_SCORE, DIR_REV);
}

/* ZRANGEBYLEX key min max [LIMIT offset count] */
static void cmd_zrangebylex(em_ctx *c)
{
    zrange_generic(c, 1, 0, ZR_LEX, DIR_FWD);
}

/* ZREVRANGEBYLEX key max min [LIMIT offset count] */
static void cmd_zrevrangebylex(em_ctx *c)
{
    zrange_generic(c, 1, 0, ZR_LEX, DIR_REV);
}

/* ------------------------------------------------------------ removals */

static void unlink_entry(void *ud, em_obj *e)
{
    em_zset *zs = ud;
    size_t kl;
    const char *k = ember__obj_key(e, &kl);
    em_dpos pos;
    if (ember__dict_find(&zs->dict, k, kl, ember__dict_hash(&zs->dict, k, kl), &pos))
        ember__dict_unlink(&zs->dict, &pos);
}

struct free_ctx {
    em_zset *zs;
    em_mem *m;
};

static void unlink_free_entry(void *ud, em_obj *e)
{
    struct free_ctx *f = ud;
    unlink_entry(f->zs, e);
    ember__mem_free(f->m, e);
}

/* Deletes ranks [start, start + n) (forward order). */
static void zv_delete_ranks(em_ctx *c, em_obj *o, size_t start, size_t n)
{
    em_mem *m = zmem(c);
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        uint8_t *lp = ember__obj_body(o);
        ember__obj_set_body(o, ember__lp_delete_range(m, lp, (int64_t)start * 2, (uint32_t)n * 2));
        return;
    }
    em_zset *zs = ember__obj_body(o);
    struct free_ctx f = {zs, m};
    ember__zsl_delete_rank_range(m, &zs->zsl, start + 1, start + n, unlink_free_entry, &f);
    ember__dict_maybe_shrink(&zs->dict);
}

/* ZREMRANGEBYRANK key start stop / ZREMRANGEBYSCORE key min max /
 * ZREMRANGEBYLEX key min max */
static void zremrange_generic(em_ctx *c, int kind)
{
    long long start = 0, end = 0;
    zspec s = {.kind = kind};
    if (kind == ZR_RANK) {
        if (!em_arg_ll(c, 2, &start) || !em_arg_ll(c, 3, &end))
            return;
    } else if (kind == ZR_SCORE ? !parse_range(c, 2, 3, &s.r) : !parse_lex(c, 2, 3, &s.l)) {
        em_add_error(c, kind == ZR_SCORE ? "ERR min or max is not a float"
                                         : "ERR min or max not valid string range item");
        return;
    }
    em_obj *o;
    em_dpos pos;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 1, &o, &pos))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    em_zv v = ember__zv(o);
    size_t first = 0, n = 0;
    if (kind == ZR_RANK) {
        long long a, b;
        if (ember__range_clip(start, end, (long long)ember__zv_len(&v), &a, &b)) {
            first = (size_t)a;
            n = (size_t)(b - a + 1);
        }
    } else {
        em_zpos p;
        if (zv_first(&v, &s, &p, &first)) {
            do
                n++;
            while (ember__zv_step(&v, &p, 0) && pos_lte(&v, &p, &s));
        }
    }
    if (n) {
        ember__ks_prewrite(c->st, c->ks, o);
        zv_delete_ranks(c, o, first, n);
        em_notify(c,
                  kind == ZR_RANK    ? EM_EV_ZREMRANGEBYRANK
                  : kind == ZR_SCORE ? EM_EV_ZREMRANGEBYSCORE
                                     : EM_EV_ZREMRANGEBYLEX,
                  1, o);
        delete_if_empty(c, o, &pos);
        c->st->dirty += n;
    }
    em_add_int(c, (int64_t)n);
}

/* ZREMRANGEBYRANK key start stop */
static void cmd_zremrangebyrank(em_ctx *c)
{
    zremrange_generic(c, ZR_RANK);
}

/* ZREMRANGEBYSCORE key min max */
static void cmd_zremrangebyscore(em_ctx *c)
{
    zremrange_generic(c, ZR_SCORE);
}

/* ZREMRANGEBYLEX key min max */
static void cmd_zremrangebylex(em_ctx *c)
{
    zremrange_generic(c, ZR_LEX);
}

/* ------------------------------------------------------------ pops */

/* Reply shapes of the pop family. */
enum {
    POP_FLAT = 0,   /* ZPOPMIN key: [m, s, m, s...] */
    POP_NESTED = 1, /* ZPOPMIN key count: [[m, s], ...] */
    POP_KEYED = 2,  /* BZPOPMIN: [key, m, s] */
    POP_MPOP = 3,   /* ZMPOP/BZMPOP: [key, [[m, s], ...]] */
};

/* Pops up to count members from the first non-empty zset among keys
 * argv[first], argv[first + 1], ... (nkeys of them), replying in `shape`.
 * Returns 1 if it replied, 0 if every key was missing (nothing replied). */
static int zpop_keys(em_ctx *c, size_t first, size_t nkeys, int max, long long count, int shape)
{
    em_obj *o = NULL;
    em_dpos pos;
    size_t ki = 0;
    for (size_t k = 0; k < nkeys; k++) {
        if (!ember__coll_lookup(c, first + k, EM_T_ZSET, 1, &o, &pos))
            return 1;
        if (o) {
            ki = first + k;
            break;
        }
    }
    if (!o)
        return 0;
    if (count == 0) {
        /* ZPOPMIN key 0: the type is checked, nothing is popped. */
        em_add_array(c, 0);
        return 1;
    }
    size_t len = zlen(o);
    size_t n = (unsigned long long)count > len ? len : (size_t)count;
    switch (shape) {
    case POP_FLAT:
        em_add_array(c, n * 2);
        break;
    case POP_NESTED:
        em_add_array(c, n);
        break;
    case POP_KEYED:
        em_add_array(c, 3);
        em_add_bulk(c, c->argv[ki], c->argvlen[ki]);
        break;
    default:
        em_add_array(c, 2);
        em_add_bulk(c, c->argv[ki], c->argvlen[ki]);
        em_add_array(c, n);
        break;
    }
    ember__ks_prewrite(c->st, c->ks, o);
    em_mem *m = zmem(c);
    uint8_t b[EM_LP_INTBUF];
    for (size_t i = 0; i < n; i++) {
        em_zv v = ember__zv(o);
        em_zpos p;
        ember__zv_at(&v, max ? ember__zv_len(&v) - 1 : 0, &p);
        size_t l;
        double sc;
        const char *el = ember__zv_get(&v, &p, &l, &sc, b);
        if (shape == POP_NESTED || shape == POP_MPOP)
            em_add_array(c, 2);
        em_add_bulk(c, el, l);
        em_add_double(c, sc);
        if (v.enc == EM_ENC_LISTPACK) {
            ember__obj_set_body(o, ember__zlp_delete(m, v.lp, p.p));
        } else {
            em_obj *e = p.n->obj;
            unlink_entry(v.zs, e);
            ember__zsl_delete(m, &v.zs->zsl, sc, el, l);
            ember__mem_free(m, e);
        }
    }
    if (ember__obj_enc(o) == EM_ENC_SKIPLIST && zlen(o))
        ember__dict_maybe_shrink(&((em_zset *)ember__obj_body(o))->dict);
    c->st->dirty += n;
    if (shape == POP_KEYED || shape == POP_MPOP) {
        /* Logged as the non-blocking pop it made, on the key it popped. */
        char nb[EM_LLSTR_SIZE];
        const char *a[3] = {max ? "ZPOPMAX" : "ZPOPMIN", c->argv[ki], nb};
        size_t l[3] = {7, c->argvlen[ki], ember__ll_to_str(nb, (long long)n)};
        em_log_replace(c, shape == POP_KEYED ? 2 : 3, a, l);
    }
    em_notify(c, max ? EM_EV_ZPOPMAX : EM_EV_ZPOPMIN, ki, o);
    delete_if_empty(c, o, &pos);
    return 1;
}

/* ZPOPMIN key [count] / ZPOPMAX key [count] */
static void zpop_generic(em_ctx *c, int max)
{
    if (c->argc > 3) {
        em_err_syntax(c);
        return;
    }
    long long count = 1;
    if (c->argc == 3) {
        if (!em_arg_ll_quiet(c, 2, &count) || count < 0) {
            em_add_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    if (!zpop_keys(c, 1, 1, max, count, c->argc == 3 ? POP_NESTED : POP_FLAT))
        em_add_array(c, 0);
}

/* ZPOPMIN key [count] */
static void cmd_zpopmin(em_ctx *c)
{
    zpop_generic(c, 0);
}

/* ZPOPMAX key [count] */
static void cmd_zpopmax(em_ctx *c)
{
    zpop_generic(c, 1);
}

/* BZPOPMIN key [key ...] timeout / BZPOPMAX key [key ...] timeout */
static void bzpop_generic(em_ctx *c, int max)
{
    int64_t deadline;
    if (!em_arg_timeout(c, c->argc - 1, &deadline))
        return;
    if (!zpop_keys(c, 1, c->argc - 2, max, 1, POP_KEYED))
        em_block(c, 1, c->argc - 2, 1, deadline);
}

/* BZPOPMIN key [key ...] timeout */
static void cmd_bzpopmin(em_ctx *c)
{
    bzpop_generic(c, 0);
}

/* BZPOPMAX key [key ...] timeout */
static void cmd_bzpopmax(em_ctx *c)
{
    bzpop_generic(c, 1);
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] */
static void cmd_zmpop(em_ctx *c)
{
    size_t nkeys;
    int where;
    long long count;
    if (!ember__mpop_args(c, 1, "min", "max", &nkeys, &where, &count))
        return;
    if (!zpop_keys(c, 2, nkeys, where, count, POP_MPOP))
        em_add_nil(c);
}

/* BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
static void cmd_bzmpop(em_ctx *c)
{
    size_t nkeys;
    int where;
    long long count;
    if (!ember__mpop_args(c, 2, "min", "max", &nkeys, &where, &count))
        return;
    int64_t deadline;
    if (!em_arg_timeout(c, 1, &deadline))
        return;
    if (!zpop_keys(c, 3, nkeys, where, count, POP_MPOP))
        em_block(c, 3, nkeys, 1, deadline);
}

/* ------------------------------------------------------------ ZRANDMEMBER */

static uint64_t zrand(em_ctx *c)
{
    uint64_t x = c->st->rng ? c->st->rng : 0x853c49e6748fea9bull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->st->rng = x;
    return x;
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
static void cmd_zrandmember(em_ctx *c)
{
    long long count = 0;
    int withscores = 0, has_count = c->argc >= 3;
    if (has_count) {
        if (!em_arg_ll(c, 2, &count))
            return;
        if (count == LLONG_MIN) {
            em_add_error(c, "ERR value is out of range, value must between -9223372036854775807 "
                            "and 9223372036854775807");
            return;
        }
        if (c->argc == 4 && em_arg_is(c, 3, "withscores")) {
            withscores = 1;
        } else if (c->argc >= 4) {
            em_err_syntax(c);
            return;
        }
        if (withscores && (count > LLONG_MAX / 2 || count < -(LLONG_MAX / 2))) {
            em_add_error(c, "ERR value is out of range");
            return;
        }
    }
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    uint8_t b[EM_LP_INTBUF];
    if (!has_count) {
        if (!o) {
            em_add_nil(c);
            return;
        }
        em_zv v = ember__zv(o);
        em_zpos p;
        ember__zv_at(&v, (size_t)(zrand(c) % ember__zv_len(&v)), &p);
        size_t l;
        const char *el = ember__zv_get(&v, &p, &l, NULL, b);
        em_add_bulk(c, el, l);
        return;
    }
    if (!o || count == 0) {
        em_add_array(c, 0);
        return;
    }
    em_zv v = ember__zv(o);
    size_t size = ember__zv_len(&v);
    em_zpos p;
    size_t l;
    double sc;
    const char *el;
    if (count < 0) {
        /* With repetitions: independent picks. */
        size_t n = (size_t)(-count);
        em_add_array(c, n);
        for (size_t i = 0; i < n; i++) {
            ember__zv_at(&v, (size_t)(zrand(c) % size), &p);
            el = ember__zv_get(&v, &p, &l, &sc, b);
            add_elem(c, el, l, sc, withscores);
        }
        return;
    }
    if ((unsigned long long)count >= size) {
        /* The whole zset, from the highest element down, as Redis emits it. */
        em_add_array(c, size);
        int ok = ember__zv_at(&v, size - 1, &p);
        for (; ok; ok = ember__zv_step(&v, &p, 1)) {
            el = ember__zv_get(&v, &p, &l, &sc, b);
            add_elem(c, el, l, sc, withscores);
        }
        return;
    }
    /* Distinct members: a partial Fisher-Yates shuffle of the ranks. */
    size_t n = (size_t)count;
    size_t *idx = malloc(size * sizeof *idx);
    if (!idx) {
        em_err_oom(c);
        return;
    }
    for (size_t i = 0; i < size; i++)
        idx[i] = i;
    em_add_array(c, n);
    for (size_t i = 0; i < n; i++) {
        size_t j = i + (size_t)(zrand(c) % (size - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        ember__zv_at(&v, idx[i], &p);
        el = ember__zv_get(&v, &p, &l, &sc, b);
        add_elem(c, el, l, sc, withscores);
    }
    free(idx);
}

/* ------------------------------------------------------------ ZSCAN */

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
static void cmd_zscan(em_ctx *c)
{
    uint64_t cursor;
    if (!ember__scan_cursor(c, 2, &cursor))
        return;
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_ZSET, 0, &o, NULL))
        return;
    if (!o) {
        ember__scan_reply_cursor(c, 0);
        em_add_array(c, 0);
        return;
    }
    em_scan_opts so;
    if (!ember__scan_opts(c, 3, 0, &so))
        return;
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        /* A compact encoding is returned whole, with the score as stored. */
        uint8_t *lp = ember__obj_body(o);
        ember__scan_reply_cursor(c, 0);
        em_add_deferred(c, EMBER_REPLY_ARRAY);
        size_t n = 0;
        uint8_t b1[EM_LP_INTBUF], b2[EM_LP_INTBUF];
        for (uint8_t *p = ember__lp_first(lp); p;) {
            uint8_t *sp = ember__lp_next(lp, p);
            uint32_t l1, l2;
            const uint8_t *e = ember__lp_get(p, NULL, &l1, b1);
            const uint8_t *s = ember__lp_get(sp, NULL, &l2, b2);
            if (ember__scan_match(&so, e, l1)) {
                em_add_bulk(c, e, l1);
                em_add_bulk(c, s, l2);
                n += 2;
            }
            p = ember__lp_next(lp, sp);
        }
        em_end_deferred(c, n);
        return;
    }
    em_zset *zs = ember__obj_body(o);
    em_objvec vec = {0};
    ember__scan_collect(&zs->dict, &cursor, so.count, &vec);
    if (vec.oom) {
        ember__objvec_free(&vec);
        em_err_oom(c);
        return;
    }
    ember__scan_reply_cursor(c, cursor);
    em_add_deferred(c, EMBER_REPLY_ARRAY);
    size_t n = 0;
    for (size_t i = 0; i < vec.n; i++) {
        size_t kl;
        const char *k = ember__obj_key(vec.v[i], &kl);
        if (!ember__scan_match(&so, k, kl))
            continue;
        char buf[64];
        size_t bl = ember__d_to_str(buf, sizeof buf, ember__obj_score(vec.v[i]));
        em_add_bulk(c, k, kl);
        em_add_bulk(c, buf, bl);
        n += 2;
    }
    em_end_deferred(c, n);
    ember__objvec_free(&vec);
}

/* ------------------------------------------------------------ set inputs */

size_t ember__set_size(const em_obj *o)
{
    void *b = ember__obj_body(o);
    switch (ember__obj_enc(o)) {
    case EM_ENC_INTSET:
        return ember__intset_len(b);
    case EM_ENC_LISTPACK:
        return ember__lp_length(b);
    default:
        return ember__dict_size(b);
    }
}

void ember__set_iter_init(em_set_iter *it, const em_obj *o)
{
    memset(it, 0, sizeof *it);
    it->enc = ember__obj_enc(o);
    it->body = ember__obj_body(o);
    if (it->enc == EM_ENC_LISTPACK)
        it->p = ember__lp_first(it->body);
}

const char *ember__set_iter_next(em_set_iter *it, size_t *len, char *buf)
{
    if (it->enc == EM_ENC_INTSET) {
        if (it->i >= ember__intset_len(it->body))
            return NULL;
        *len = ember__ll_to_str(buf, ember__intset_get(it->body, (uint32_t)it->i++));
        return buf;
    }
    if (it->enc == EM_ENC_LISTPACK) {
        if (!it->p)
            return NULL;
        uint32_t l;
        const uint8_t *e = ember__lp_get(it->p, NULL, &l, (uint8_t *)buf);
        *len = l;
        it->p = ember__lp_next(it->body, it->p);
        return (const char *)e;
    }
    em_dict *d = it->body;
    while (!it->cur) {
        if (it->i >= d->size[it->table]) {
            if (it->table == 1)
                return NULL;
            it->table = 1;
            it->i = 0;
            continue;
        }
        it->cur = d->t[it->table][it->i++];
    }
    em_obj *o = it->cur;
    it->cur = o->next;
    return ember__obj_key(o, len);
}

int ember__set_contains(const em_obj *o, const char *p, size_t len)
{
    void *b = ember__obj_body(o);
    switch (ember__obj_enc(o)) {
    case EM_ENC_INTSET: {
        long long v;
        uint32_t pos;
        return len <= EM_INT_MAX_CHARS && ember__str_to_ll(p, len, &v) &&
               ember__intset_find(b, v, &pos);
    }
    case EM_ENC_LISTPACK: {
        uint8_t *f = ember__lp_first(b);
        return f && ember__lp_find(b, f, p, len, 0) != NULL;
    }
    default: {
        em_dpos pos;
        return ember__dict_find(b, p, len, ember__dict_hash(b, p, len), &pos);
    }
    }
}

/* ------------------------------------------------------------ set operations */

enum { OP_UNION = 0, OP_INTER = 1, OP_DIFF = 2 };
enum { AGG_SUM = 0, AGG_MIN = 1, AGG_MAX = 2 };

/* One input: a zset, a set (every member scores 1) or nothing. */
typedef struct zsrc {
    em_obj *o;
    double weight;
    size_t len;
} zsrc;

/* Iterating an input. */
typedef struct zsrc_it {
    const zsrc *s;
    em_zv v;
    em_zpos p;
    int ok;
    em_set_iter sit;
} zsrc_it;

static size_t src_len(const em_obj *o)
{
    if (!o)
        return 0;
    if (ember__obj_type(o) == EM_T_ZSET)
        return zlen(o);
    return ember__set_size(o);
}

static void src_begin(zsrc_it *it, const zsrc *s)
{
    it->s = s;
    if (ember__obj_type(s->o) == EM_T_ZSET) {
        it->v = ember__zv(s->o);
        it->ok = ember__zv_at(&it->v, 0, &it->p);
    } else {
        ember__set_iter_init(&it->sit, s->o);
        it->ok = 1;
    }
}

/* Next member; NULL at the end. */
static const char *src_next(zsrc_it *it, size_t *len, double *score, uint8_t *buf)
{
    if (!it->ok)
        return NULL;
    if (ember__obj_type(it->s->o) == EM_T_ZSET) {
        const char *e = ember__zv_get(&it->v, &it->p, len, score, buf);
        it->ok = ember__zv_step(&it->v, &it->p, 0);
        return e;
    }
    const char *e = ember__set_iter_next(&it->sit, len, (char *)buf);
    if (!e)
        it->ok = 0;
    *score = 1.0;
    return e;
}

/* Score of a member in an input: 1 and *score, or 0. */
static int src_find(const zsrc *s, const char *e, size_t l, double *score)
{
    if (ember__obj_type(s->o) == EM_T_ZSET) {
        em_zv v = ember__zv(s->o);
        return ember__zv_score(&v, e, l, score);
    }
    *score = 1.0;
    return ember__set_contains(s->o, e, l);
}

static void aggregate(double *target, double val, int agg)
{
    if (agg == AGG_SUM) {
        *target = *target + val;
        /* inf + -inf: Redis makes it 0 rather than NaN. */
        if (isnan(*target))
            *target = 0.0;
    } else if (agg == AGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

static int by_len(const void *a, const void *b)
{
    const zsrc *x = a, *y = b;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Stable insertion sort (Redis's qsort of glibc is a merge sort: ties keep
 * their order, which decides the order scores are aggregated in). */
static void sort_srcs(zsrc *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        zsrc t = s[i];
        size_t j = i;
        while (j > 0 && by_len(&s[j - 1], &t) > 0) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = t;
    }
}

/* ZUNION/ZINTER/ZDIFF numkeys key [key ...] ... [WITHSCORES]
 * Z*STORE destination numkeys key [key ...] ...
 * ZINTERCARD numkeys key [key ...] [LIMIT limit] */
static void zsetop_generic(em_ctx *c, size_t numkeys_idx, int store, int op, int card_only)
{
    long long setnum;
    if (!em_arg_ll(c, numkeys_idx, &setnum))
        return;
    if (setnum < 1) {
        char name[64];
        ember__cmd_fullname(c->parent, c->cmd, name, sizeof name);
        em_add_errorf(c, "ERR at least 1 input key is needed for '%s' command", name);
        return;
    }
    if ((unsigned long long)setnum > c->argc - (numkeys_idx + 1)) {
        em_err_syntax(c);
        return;
    }
    size_t n = (size_t)setnum, j = numkeys_idx + 1;
    zsrc *src = calloc(n, sizeof *src);
    if (!src) {
        em_err_oom(c);
        return;
    }
    for (size_t i = 0; i < n; i++, j++) {
        em_obj *o = em_lookup_read(c, j, NULL); /* the STORE forms' too, as Redis */
        if (o && ember__obj_type(o) != EM_T_ZSET && ember__obj_type(o) != EM_T_SET) {
            free(src);
            em_err_wrongtype(c);
            return;
        }
        src[i].o = o;
        src[i].weight = 1.0;
    }
    int agg = AGG_SUM, withscores = 0;
    long long limit = 0;
    while (j < c->argc) {
        size_t remaining = c->argc - j;
        if (op != OP_DIFF && !card_only && remaining >= n + 1 && em_arg_is(c, j, "weights")) {
            j++;
            for (size_t i = 0; i < n; i++, j++) {
                if (!arg_score(c, j, &src[i].weight)) {
                    free(src);
                    em_add_error(c, "ERR weight value is not a float");
                    return;
                }
            }
        } else if (op != OP_DIFF && !card_only && remaining >= 2 && em_arg_is(c, j, "aggregate")) {
            j++;
            if (em_arg_is(c, j, "sum")) {
                agg = AGG_SUM;
            } else if (em_arg_is(c, j, "min")) {
                agg = AGG_MIN;
            } else if (em_arg_is(c, j, "max")) {
                agg = AGG_MAX;
            } else {
                free(src);
                em_err_syntax(c);
                return;
            }
            j++;
        } else if (!store && !card_only && em_arg_is(c, j, "withscores")) {
            j++;
            withscores = 1;
        } else if (card_only && remaining >= 2 && em_arg_is(c, j, "limit")) {
            j++;
            if (!em_arg_ll_quiet(c, j, &limit) || limit < 0) {
                free(src);
                em_add_error(c, "ERR LIMIT can't be negative");
                return;
            }
            j++;
        } else {
            free(src);
            em_err_syntax(c);
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        src[i].len = src_len(src[i].o);
    if (op == OP_DIFF) {
        if (n > 1)
            sort_srcs(src + 1, n - 1);
    } else {
        sort_srcs(src, n);
    }

    em_mem *m = zmem(c);
    em_zset *dz = ember__zset_new(m, zseed(c));
    em_objvec acc = {0};
    size_t maxelelen = 0, card = 0;
    int oom = !dz;
    uint8_t b[EM_LP_INTBUF];
    if (oom)
        goto done;
    if (op == OP_INTER) {
        if (src[0].len) {
            zsrc_it it;
            src_begin(&it, &src[0]);
            size_t l;
            double sc;
            const char *e;
            while ((e = src_next(&it, &l, &sc, b))) {
                double score = src[0].weight * sc;
                if (isnan(score))
                    score = 0;
                size_t k;
                for (k = 1; k < n; k++) {
                    double val;
                    if (src[k].o == src[0].o) {
                        val = sc * src[k].weight;
                    } else if (src[k].o && src_find(&src[k], e, l, &val)) {
                        val *= src[k].weight;
                    } else {
                        break;
                    }
                    aggregate(&score, val, agg);
                }
                if (k != n)
                    continue;
                if (card_only) {
                    card++;
                    if (limit && card >= (unsigned long long)limit)
                        break;
                    continue;
                }
                if (ember__zset_sl_add(m, dz, e, l, score)) {
                    oom = 1;
                    break;
                }
                if (l > maxelelen)
                    maxelelen = l;
            }
        }
    } else if (op == OP_UNION) {
        for (size_t i = 0; i < n && !oom; i++) {
            if (!src[i].len)
                continue;
            zsrc_it it;
            src_begin(&it, &src[i]);
            size_t l;
            double sc;
            const char *e;
            while ((e = src_next(&it, &l, &sc, b))) {
                double score = src[i].weight * sc;
                if (isnan(score))
                    score = 0;
                em_dpos pos;
                uint64_t h = ember__dict_hash(&dz->dict, e, l);
                if (ember__dict_find(&dz->dict, e, l, h, &pos)) {
                    double t = ember__obj_score(*pos.link);
                    aggregate(&t, score, agg);
                    ember__obj_set_score(*pos.link, t);
                    continue;
                }
                em_obj *eo = ember__obj_new_scored(m, e, l, score);
                if (!eo) {
                    oom = 1;
                    break;
                }
                ember__dict_add(&dz->dict, eo, h);
                ember__objvec_push(&acc, eo);
                if (acc.oom) {
                    oom = 1;
                    break;
                }
                if (l > maxelelen)
                    maxelelen = l;
            }
        }
        /* Scores are final: now order them. */
        for (size_t i = 0; i < acc.n && !oom; i++) {
            if (!ember__zsl_insert(m, &dz->zsl, ember__obj_score(acc.v[i]), acc.v[i])) {
                /* Entries not yet in the skiplist are freed from the dict. */
                for (size_t k = i; k < acc.n; k++) {
                    unlink_entry(dz, acc.v[k]);
                    ember__mem_free(m, acc.v[k]);
                }
                oom = 1;
            }
        }
    } else if (src[0].len) {
        zsrc_it it;
        src_begin(&it, &src[0]);
        size_t l;
        double sc;
        const char *e;
        while ((e = src_next(&it, &l, &sc, b))) {
            size_t k;
            double val;
            for (k = 1; k < n; k++)
                if (src[k].len && src_find(&src[k], e, l, &val))
                    break;
            if (k != n)
                continue;
            if (ember__zset_sl_add(m, dz, e, l, sc)) {
                oom = 1;
                break;
            }
            if (l > maxelelen)
                maxelelen = l;
        }
    }
done:
    ember__objvec_free(&acc);
    free(src);
    if (oom) {
        if (dz)
            ember__zset_free_body(m, dz, EM_ENC_SKIPLIST);
        em_err_oom(c);
        return;
    }
    if (card_only) {
        ember__zset_free_body(m, dz, EM_ENC_SKIPLIST);
        em_add_int(c, (int64_t)card);
        return;
    }
    if (store) {
        em_obj *d =
            ember__obj_new_body(m, c->argv[1], c->argvlen[1], EM_T_ZSET, EM_ENC_SKIPLIST, dz);
        if (!d) {
            ember__zset_free_body(m, dz, EM_ENC_SKIPLIST);
            em_err_oom(c);
            return;
        }
        maybe_to_listpack(c, d, maxelelen);
        em_add_int(c, (int64_t)store_result(c, 1, d,
                                            op == OP_UNION   ? EM_EV_ZUNIONSTORE
                                            : op == OP_INTER ? EM_EV_ZINTERSTORE
                                                             : EM_EV_ZDIFFSTORE));
        return;
    }
    em_add_array(c, dz->zsl.length);
    for (em_zsl_node *x = dz->zsl.header->level[0].forward; x; x = x->level[0].forward) {
        size_t l;
        const char *e = ember__zsl_ele(x, &l);
        add_elem(c, e, l, x->score, withscores);
    }
    ember__zset_free_body(m, dz, EM_ENC_SKIPLIST);
}

/* ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
static void cmd_zunion(em_ctx *c)
{
    zsetop_generic(c, 1, 0, OP_UNION, 0);
}

/* ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] */
static void cmd_zinter(em_ctx *c)
{
    zsetop_generic(c, 1, 0, OP_INTER, 0);
}

/* ZDIFF numkeys key [key ...] [WITHSCORES] */
static void cmd_zdiff(em_ctx *c)
{
    zsetop_generic(c, 1, 0, OP_DIFF, 0);
}

/* ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] */
static void cmd_zunionstore(em_ctx *c)
{
    zsetop_generic(c, 2, 1, OP_UNION, 0);
}

/* ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] */
static void cmd_zinterstore(em_ctx *c)
{
    zsetop_generic(c, 2, 1, OP_INTER, 0);
}

/* ZDIFFSTORE destination numkeys key [key ...] */
static void cmd_zdiffstore(em_ctx *c)
{
    zsetop_generic(c, 2, 1, OP_DIFF, 0);
}

/* ZINTERCARD numkeys key [key ...] [LIMIT limit] */
static void cmd_zintercard(em_ctx *c)
{
    zsetop_generic(c, 1, 0, OP_INTER, 1);
}

/* ------------------------------------------------------------ type hooks */

static const em_value_ops zset_ops = {
    ember__zset_free_body,
    ember__zset_dup_body,
    ember__zset_body_items,
};

/* Registers the zset value type's hooks (free, copy, size) with the keyspace. */
void ember__zset_init(void);
void ember__zset_init(void)
{
    ember__obj_register_type(EM_T_ZSET, &zset_ops);
}

/* ------------------------------------------------------------ table */

#define W_FAST (EM_CMD_WRITE | EM_CMD_DENYOOM | EM_CMD_FAST)
#define W_SLOW (EM_CMD_WRITE | EM_CMD_DENYOOM)
#define R_FAST (EM_CMD_READONLY | EM_CMD_FAST)
#define R_SLOW EM_CMD_READONLY
#define W_DEL_FAST (EM_CMD_WRITE | EM_CMD_FAST)
#define W_DEL EM_CMD_WRITE
#define W_BLOCK (EM_CMD_WRITE | EM_CMD_BLOCKING | EM_CMD_FAST)

const em_cmd ember__zset_cmds[] = {
    {"zadd", cmd_zadd, -4, W_FAST, 1, 1, 1, NULL},
    {"zincrby", cmd_zincrby, 4, W_FAST, 1, 1, 1, NULL},
    {"zrem", cmd_zrem, -3, W_DEL_FAST, 1, 1, 1, NULL},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, W_DEL, 1, 1, 1, NULL},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, W_DEL, 1, 1, 1, NULL},
    {"zremrangebylex", cmd_zremrangebylex, 4, W_DEL, 1, 1, 1, NULL},
    {"zunionstore", cmd_zunionstore, -4, W_SLOW, 1, 1, 1, NULL},
    {"zinterstore", cmd_zinterstore, -4, W_SLOW, 1, 1, 1, NULL},
    {"zdiffstore", cmd_zdiffstore, -4, W_SLOW, 1, 1, 1, NULL},
    {"zunion", cmd_zunion, -3, R_SLOW, 0, 0, 0, NULL},
    {"zinter", cmd_zinter, -3, R_SLOW, 0, 0, 0, NULL},
    {"zdiff", cmd_zdiff, -3, R_SLOW, 0, 0, 0, NULL},
    {"zintercard", cmd_zintercard, -3, R_SLOW, 0, 0, 0, NULL},
    {"zrange", cmd_zrange, -4, R_SLOW, 1, 1, 1, NULL},
    {"zrangestore", cmd_zrangestore, -5, W_SLOW, 1, 2, 1, NULL},
    {"zrangebyscore", cmd_zrangebyscore, -4, R_SLOW, 1, 1, 1, NULL},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, R_SLOW, 1, 1, 1, NULL},
    {"zrangebylex", cmd_zrangebylex, -4, R_SLOW, 1, 1, 1, NULL},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, R_SLOW, 1, 1, 1, NULL},
    {"zcount", cmd_zcount, 4, R_FAST, 1, 1, 1, NULL},
    {"zlexcount", cmd_zlexcount, 4, R_FAST, 1, 1, 1, NULL},
    {"zrevrange", cmd_zrevrange, -4, R_SLOW, 1, 1, 1, NULL},
    {"zcard", cmd_zcard, 2, R_FAST, 1, 1, 1, NULL},
    {"zscore", cmd_zscore, 3, R_FAST, 1, 1, 1, NULL},
    {"zmscore", cmd_zmscore, -3, R_FAST, 1, 1, 1, NULL},
    {"zrank", cmd_zrank, 3, R_FAST, 1, 1, 1, NULL},
    {"zrevrank", cmd_zrevrank, 3, R_FAST, 1, 1, 1, NULL},
    {"zpopmin", cmd_zpopmin, -2, W_DEL_FAST, 1, 1, 1, NULL},
    {"zpopmax", cmd_zpopmax, -2, W_DEL_FAST, 1, 1, 1, NULL},
    {"bzpopmin", cmd_bzpopmin, -3, W_BLOCK, 1, -2, 1, NULL},
    {"bzpopmax", cmd_bzpopmax, -3, W_BLOCK, 1, -2, 1, NULL},
    {"zmpop", cmd_zmpop, -4, W_DEL, 0, 0, 0, NULL},
    {"bzmpop", cmd_bzmpop, -5, W_DEL | EM_CMD_BLOCKING, 0, 0, 0, NULL},
    {"zrandmember", cmd_zrandmember, -2, R_SLOW | EM_CMD_RANDOM, 1, 1, 1, NULL},
    {"zscan", cmd_zscan, -3, R_SLOW | EM_CMD_RANDOM, 1, 1, 1, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
