/*
 * zset.c — the sorted-set value (see zset.h): the skiplist with spans, the
 * listpack layout of (member, score) pairs, and the encoding-neutral
 * positions the commands walk.
 *
 * The skiplist follows the classic design (Pugh; Redis's t_zset.c adds the
 * spans and the backward links): level i of a node links to the next node
 * that has at least i + 1 levels, and span counts the level-0 steps that
 * link covers, so summing spans along a search path gives the rank. Every
 * insert or delete fixes the spans of the nodes in update[] (the last node
 * before the change at each level) and increments/decrements the spans of the
 * higher links that jump over the change.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "listpack.h"
#include "zset.h"

#define ZSL_P 0.25

int ember__zset_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* ------------------------------------------------------------- skiplist */

static em_zsl_node *node_new(em_mem *m, int level, double score, em_obj *obj)
{
    em_zsl_node *n =
        ember__mem_alloc(m, sizeof(em_zsl_node) + (size_t)level * sizeof(struct em_zsl_level));
    if (!n)
        return NULL;
    n->obj = obj;
    n->score = score;
    n->backward = NULL;
    return n;
}

int ember__zsl_init(em_mem *m, em_zsl *zsl)
{
    zsl->header = node_new(m, EM_ZSL_MAXLEVEL, 0, NULL);
    if (!zsl->header)
        return -1;
    for (int i = 0; i < EM_ZSL_MAXLEVEL; i++) {
        zsl->header->level[i].forward = NULL;
        zsl->header->level[i].span = 0;
    }
    zsl->tail = NULL;
    zsl->length = 0;
    zsl->level = 1;
    return 0;
}

void ember__zsl_free(em_mem *m, em_zsl *zsl)
{
    em_zsl_node *n = zsl->header;
    while (n) {
        em_zsl_node *next = n->level[0].forward;
        ember__mem_free(m, n);
        n = next;
    }
    zsl->header = zsl->tail = NULL;
    zsl->length = 0;
}

/* Level for a new node: geometric with p = 1/4 (xorshift per thread: each
 * store's executor is one thread, so no sharing). */
static int random_level(void)
{
    static _Thread_local uint64_t s;
    if (!s)
        s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
    int level = 1;
    for (;;) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint64_t r = s;
        /* 32 random bits give up to 16 levels of 2 bits each. */
        for (int i = 0; i < 32; i += 2) {
            if ((r >> i & 3) != 0)
                return level;
            if (++level == EM_ZSL_MAXLEVEL)
                return level;
        }
    }
}

/* 1 if node n sorts before (score, ele). */
static inline int node_before(const em_zsl_node *n, double score, const char *ele, size_t len)
{
    if (n->score != score)
        return n->score < score;
    size_t nl;
    const char *ne = ember__zsl_ele(n, &nl);
    return ember__zset_cmp(ne, nl, ele, len) < 0;
}

/* Links node n (with `level` levels, score already set) into its place. */
static void link_node(em_zsl *zsl, em_zsl_node *n, int level)
{
    em_zsl_node *update[EM_ZSL_MAXLEVEL], *x = zsl->header;
    size_t rank[EM_ZSL_MAXLEVEL];
    size_t len;
    const char *ele = ember__obj_key(n->obj, &len);
    double score = n->score;
    for (int i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].forward && node_before(x->level[i].forward, score, ele, len)) {
            rank[i] += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    if (level > zsl->level) {
        for (int i = zsl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = zsl->header;
            update[i]->level[i].span = zsl->length;
        }
        zsl->level = level;
    }
    for (int i = 0; i < level; i++) {
        n->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = n;
        /* update[i] is rank[i]; n lands at rank[0] + 1. */
        n->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < zsl->level; i++)
        update[i]->level[i].span++;
    n->backward = update[0] == zsl->header ? NULL : update[0];
    if (n->level[0].forward)
        n->level[0].forward->backward = n;
    else
        zsl->tail = n;
    zsl->length++;
}

em_zsl_node *ember__zsl_insert(em_mem *m, em_zsl *zsl, double score, em_obj *obj)
{
    int level = random_level();
    em_zsl_node *n = node_new(m, level, score, obj);
    if (n)
        link_node(zsl, n, level);
    return n;
}

/* Unlinks x given update[] (the predecessors at each level). */
static void unlink_node(em_zsl *zsl, em_zsl_node *x, em_zsl_node **update)
{
    for (int i = 0; i < zsl->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        zsl->tail = x->backward;
    while (zsl->level > 1 && zsl->header->level[zsl->level - 1].forward == NULL)
        zsl->level--;
    zsl->length--;
}

/* Fills update[] for (score, ele); returns the node after update[0]. */
static em_zsl_node *search(em_zsl *zsl, double score, const char *ele, size_t len,
                           em_zsl_node **update)
{
    em_zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && node_before(x->level[i].forward, score, ele, len))
            x = x->level[i].forward;
        update[i] = x;
    }
    return x->level[0].forward;
}

static int node_is(const em_zsl_node *x, double score, const char *ele, size_t len)
{
    if (!x || x->score != score)
        return 0;
    size_t nl;
    const char *ne = ember__zsl_ele(x, &nl);
    return ember__zset_cmp(ne, nl, ele, len) == 0;
}

em_obj *ember__zsl_delete(em_mem *m, em_zsl *zsl, double score, const char *ele, size_t len)
{
    em_zsl_node *update[EM_ZSL_MAXLEVEL];
    em_zsl_node *x = search(zsl, score, ele, len, update);
    if (!node_is(x, score, ele, len))
        return NULL;
    unlink_node(zsl, x, update);
    em_obj *o = x->obj;
    ember__mem_free(m, x);
    return o;
}

em_zsl_node *ember__zsl_update_score(em_zsl *zsl, double curscore, const char *ele, size_t len,
                                     double newscore)
{
    em_zsl_node *update[EM_ZSL_MAXLEVEL];
    em_zsl_node *x = search(zsl, curscore, ele, len, update);
    /* The caller found the member in the dict: it is here. */
    ember__obj_set_score(x->obj, newscore);
    em_zsl_node *prev = x->backward, *next = x->level[0].forward;
    /* Still in order between its neighbours: change the score in place. */
    if ((!prev || node_before(prev, newscore, ele, len)) &&
        (!next || !node_before(next, newscore, ele, len))) {
        x->score = newscore;
        return x;
    }
    /* Otherwise move the node itself (no allocation, so this cannot fail).
     * Its height is the number of levels whose predecessor links to it:
     * update[i] is the last node before x at level i, so it points at x
     * exactly when x has level i. */
    int level = 0;
    while (level < zsl->level && update[level]->level[level].forward == x)
        level++;
    unlink_node(zsl, x, update);
    x->score = newscore;
    link_node(zsl, x, level);
    return x;
}

size_t ember__zsl_rank(const em_zsl *zsl, double score, const char *ele, size_t len)
{
    const em_zsl_node *x = zsl->header;
    size_t rank = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward) {
            const em_zsl_node *f = x->level[i].forward;
            if (f->score < score) {
                /* fall through to advance */
            } else if (f->score == score) {
                size_t fl;
                const char *fe = ember__zsl_ele(f, &fl);
                if (ember__zset_cmp(fe, fl, ele, len) > 0)
                    break;
            } else {
                break;
            }
            rank += x->level[i].span;
            x = f;
        }
        if (x->obj && node_is(x, score, ele, len))
            return rank;
    }
    return 0;
}

em_zsl_node *ember__zsl_by_rank(const em_zsl *zsl, size_t rank)
{
    if (rank == 0 || rank > zsl->length)
        return NULL;
    em_zsl_node *x = zsl->header;
    size_t traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= rank) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == rank)
            return x;
    }
    return NULL;
}

int ember__zrange_gte_min(double v, const em_zrange *r)
{
    return r->minex ? v > r->min : v >= r->min;
}
int ember__zrange_lte_max(double v, const em_zrange *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}
int ember__zrange_valid(const em_zrange *r)
{
    return !(r->min > r->max || (r->min == r->max && (r->minex || r->maxex)));
}

/* Redis's sdscmplex: "-" below and "+" above every string. */
static int lex_cmp(const em_zlexb *a, const em_zlexb *b)
{
    if (a->inf == b->inf && a->inf)
        return 0;
    if (a->inf < 0 || b->inf > 0)
        return -1;
    if (a->inf > 0 || b->inf < 0)
        return 1;
    return ember__zset_cmp(a->p, a->len, b->p, b->len);
}
int ember__zlex_gte_min(const char *p, size_t len, const em_zlex *r)
{
    em_zlexb v = {p, len, 0};
    int c = lex_cmp(&v, &r->min);
    return r->minex ? c > 0 : c >= 0;
}
int ember__zlex_lte_max(const char *p, size_t len, const em_zlex *r)
{
    em_zlexb v = {p, len, 0};
    int c = lex_cmp(&v, &r->max);
    return r->maxex ? c < 0 : c <= 0;
}
int ember__zlex_valid(const em_zlex *r)
{
    int c = lex_cmp(&r->min, &r->max);
    return !(c > 0 || (c == 0 && (r->minex || r->maxex)));
}

/* Bound tests shared by the score and lex walks; r is an em_zrange or an em_zlex. */
typedef int (*zsl_bound_fn)(const em_zsl_node *n, const void *r);

static int node_gte_min(const em_zsl_node *n, const void *r)
{
    return ember__zrange_gte_min(n->score, r);
}
static int node_lte_max(const em_zsl_node *n, const void *r)
{
    return ember__zrange_lte_max(n->score, r);
}
static int node_lex_gte(const em_zsl_node *n, const void *r)
{
    size_t l;
    const char *e = ember__zsl_ele(n, &l);
    return ember__zlex_gte_min(e, l, r);
}
static int node_lex_lte(const em_zsl_node *n, const void *r)
{
    size_t l;
    const char *e = ember__zsl_ele(n, &l);
    return ember__zlex_lte_max(e, l, r);
}

/* The first (last = 0) or last (last = 1) node inside a valid range and its 1-based rank;
 * what varies is the bound pair: score (em_zrange) or lex (em_zlex). */
static em_zsl_node *zsl_range_end(const em_zsl *zsl, const void *r, zsl_bound_fn gte,
                                  zsl_bound_fn lte, int last, size_t *rank)
{
    if (!zsl->tail || !gte(zsl->tail, r) || !zsl->header->level[0].forward ||
        !lte(zsl->header->level[0].forward, r))
        return NULL;
    em_zsl_node *x = zsl->header;
    size_t rk = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               (last ? lte(x->level[i].forward, r) : !gte(x->level[i].forward, r))) {
            rk += x->level[i].span;
            x = x->level[i].forward;
        }
    }
    if (last) {
        if (x == zsl->header || !gte(x, r))
            return NULL;
        *rank = rk;
        return x;
    }
    x = x->level[0].forward;
    if (!x || !lte(x, r))
        return NULL;
    *rank = rk + 1;
    return x;
}

em_zsl_node *ember__zsl_first_in_range(const em_zsl *zsl, const em_zrange *r, size_t *rank)
{
    if (!ember__zrange_valid(r))
        return NULL;
    return zsl_range_end(zsl, r, node_gte_min, node_lte_max, 0, rank);
}

em_zsl_node *ember__zsl_last_in_range(const em_zsl *zsl, const em_zrange *r, size_t *rank)
{
    if (!ember__zrange_valid(r))
        return NULL;
    return zsl_range_end(zsl, r, node_gte_min, node_lte_max, 1, rank);
}

em_zsl_node *ember__zsl_first_in_lex(const em_zsl *zsl, const em_zlex *r, size_t *rank)
{
    if (!ember__zlex_valid(r))
        return NULL;
    return zsl_range_end(zsl, r, node_lex_gte, node_lex_lte, 0, rank);
}

em_zsl_node *ember__zsl_last_in_lex(const em_zsl *zsl, const em_zlex *r, size_t *rank)
{
    if (!ember__zlex_valid(r))
        return NULL;
    return zsl_range_end(zsl, r, node_lex_gte, node_lex_lte, 1, rank);
}

size_t ember__zsl_delete_rank_range(em_mem *m, em_zsl *zsl, size_t start, size_t end,
                                    void (*fn)(void *ud, em_obj *o), void *ud)
{
    em_zsl_node *update[EM_ZSL_MAXLEVEL], *x = zsl->header;
    size_t traversed = 0, removed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span < start) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    traversed++;
    x = x->level[0].forward;
    while (x && traversed <= end) {
        em_zsl_node *next = x->level[0].forward;
        unlink_node(zsl, x, update);
        if (fn)
            fn(ud, x->obj);
        ember__mem_free(m, x);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}

/* ------------------------------------------------------------- listpack */

double ember__zlp_score(const uint8_t *p)
{
    int64_t iv;
    uint32_t len;
    const uint8_t *s = ember__lp_get(p, &iv, &len, NULL);
    if (!s)
        return (double)iv;
    char buf[64];
    if (len >= sizeof buf)
        len = sizeof buf - 1; /* never: we only store %.17g text */
    memcpy(buf, s, len);
    buf[len] = '\0';
    return strtod(buf, NULL);
}

uint8_t *ember__zlp_insert_score(em_mem *m, uint8_t *lp, double score, uint8_t *p, int where,
                                 uint8_t **newp)
{
    /* Redis 7.0 stores integral scores with |score| <= LLONG_MAX / 2 as
     * integers (d2string's double2ll + the listpack's integer encoding); -0
     * comes back as 0 that way, so it is stored as 0 too. */
    const double lim = (double)(LLONG_MAX / 2);
    if (score == 0 || (score >= -lim && score <= lim && score == (double)(long long)score))
        return ember__lp_insert_int(m, lp, (long long)score, p, where, newp);
    char buf[64];
    size_t n = ember__d_to_str_store(buf, sizeof buf, score);
    return ember__lp_insert(m, lp, buf, n, p, where, newp);
}

/* Bytes of the listpack element p (integers rendered into buf). */
static inline const char *lp_str(const uint8_t *p, uint8_t *buf, size_t *len)
{
    uint32_t l;
    const uint8_t *s = ember__lp_get(p, NULL, &l, buf);
    *len = l;
    return (const char *)s;
}

int ember__zlp_insert(em_mem *m, uint8_t **lpp, const char *ele, size_t len, double score)
{
    uint8_t *lp = *lpp, *p = ember__lp_first(lp);
    uint8_t buf[EM_LP_INTBUF];
    while (p) {
        uint8_t *sp = ember__lp_next(lp, p);
        double s = ember__zlp_score(sp);
        if (s > score)
            break;
        if (s == score) {
            size_t ml;
            const char *me = lp_str(p, buf, &ml);
            if (ember__zset_cmp(me, ml, ele, len) > 0)
                break;
        }
        p = ember__lp_next(lp, sp);
    }
    uint8_t *np;
    uint8_t *n1 = ember__lp_insert(m, lp, ele, len, p, EM_LP_BEFORE, &np);
    if (!n1)
        return -1;
    uint8_t *n2 = ember__zlp_insert_score(m, n1, score, np, EM_LP_AFTER, NULL);
    if (!n2) {
        *lpp = ember__lp_delete(m, n1, np, NULL);
        return -1;
    }
    *lpp = n2;
    return 0;
}

uint8_t *ember__zlp_delete(em_mem *m, uint8_t *lp, uint8_t *p)
{
    uint8_t *next;
    lp = ember__lp_delete(m, lp, p, &next);
    return ember__lp_delete(m, lp, next, NULL);
}

uint8_t *ember__zlp_find(uint8_t *lp, const char *ele, size_t len, double *score)
{
    uint8_t *p = ember__lp_first(lp);
    if (!p)
        return NULL;
    p = ember__lp_find(lp, p, ele, len, 1);
    if (p && score)
        *score = ember__zlp_score(ember__lp_next(lp, p));
    return p;
}

/* --------------------------------------------------- the value, any encoding */

size_t ember__zv_len(const em_zv *v)
{
    return v->enc == EM_ENC_LISTPACK ? ember__lp_length(v->lp) / 2 : v->zs->zsl.length;
}

int ember__zv_score(em_zv *v, const char *ele, size_t len, double *score)
{
    if (v->enc == EM_ENC_LISTPACK)
        return ember__zlp_find(v->lp, ele, len, score) != NULL;
    em_dict *d = &v->zs->dict;
    em_dpos pos;
    if (!ember__dict_find(d, ele, len, ember__dict_hash(d, ele, len), &pos))
        return 0;
    *score = ember__obj_score(*pos.link);
    return 1;
}

int ember__zv_at(em_zv *v, size_t rank, em_zpos *pos)
{
    if (v->enc == EM_ENC_LISTPACK) {
        if (rank > INT64_MAX / 2)
            return 0;
        pos->p = ember__lp_seek(v->lp, (int64_t)rank * 2);
        return pos->p != NULL;
    }
    pos->n = ember__zsl_by_rank(&v->zs->zsl, rank + 1);
    return pos->n != NULL;
}

int ember__zv_step(em_zv *v, em_zpos *pos, int rev)
{
    if (v->enc == EM_ENC_LISTPACK) {
        uint8_t *p = pos->p;
        if (rev) {
            p = ember__lp_prev(v->lp, p);
            p = p ? ember__lp_prev(v->lp, p) : NULL;
        } else {
            p = ember__lp_next(v->lp, p);
            p = p ? ember__lp_next(v->lp, p) : NULL;
        }
        pos->p = p;
        return p != NULL;
    }
    pos->n = rev ? pos->n->backward : pos->n->level[0].forward;
    return pos->n != NULL;
}

const char *ember__zv_get(em_zv *v, const em_zpos *pos, size_t *len, double *score, uint8_t *buf)
{
    if (v->enc == EM_ENC_LISTPACK) {
        if (score)
            *score = ember__zlp_score(ember__lp_next(v->lp, pos->p));
        return lp_str(pos->p, buf, len);
    }
    if (score)
        *score = pos->n->score;
    return ember__zsl_ele(pos->n, len);
}

/* ------------------------------------------------------------- bodies */

em_zset *ember__zset_new(em_mem *m, uint64_t seed)
{
    em_zset *zs = ember__mem_alloc(m, sizeof *zs);
    if (!zs)
        return NULL;
    ember__dict_init(&zs->dict, m, seed);
    if (ember__zsl_init(m, &zs->zsl)) {
        ember__mem_free(m, zs);
        return NULL;
    }
    return zs;
}

static void zset_free(em_mem *m, em_zset *zs)
{
    /* Each node and its entry go together: no dict walk needed. */
    em_zsl_node *n = zs->zsl.header->level[0].forward;
    while (n) {
        em_zsl_node *next = n->level[0].forward;
        ember__mem_free(m, n->obj);
        ember__mem_free(m, n);
        n = next;
    }
    ember__mem_free(m, zs->zsl.header);
    ember__dict_release_tables(&zs->dict);
    ember__mem_free(m, zs);
}

void ember__zset_free_body(em_mem *m, void *body, int enc)
{
    if (!body)
        return;
    if (enc == EM_ENC_LISTPACK)
        ember__lp_free(m, body);
    else
        zset_free(m, body);
}

int ember__zset_sl_add(em_mem *m, em_zset *zs, const char *ele, size_t len, double score)
{
    em_obj *o = ember__obj_new_scored(m, ele, len, score);
    if (!o)
        return -1;
    uint64_t h = ember__dict_hash(&zs->dict, ele, len);
    /* A table that could not grow still takes the entry (just fuller). */
    ember__dict_add(&zs->dict, o, h);
    if (!ember__zsl_insert(m, &zs->zsl, score, o)) {
        em_dpos pos;
        size_t kl;
        const char *k = ember__obj_key(o, &kl);
        if (ember__dict_find(&zs->dict, k, kl, h, &pos))
            ember__dict_unlink(&zs->dict, &pos);
        ember__mem_free(m, o);
        return -1;
    }
    return 0;
}

int ember__zset_sl_del(em_mem *m, em_zset *zs, const char *ele, size_t len)
{
    em_dpos pos;
    if (!ember__dict_find(&zs->dict, ele, len, ember__dict_hash(&zs->dict, ele, len), &pos))
        return 0;
    em_obj *o = *pos.link;
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    ember__zsl_delete(m, &zs->zsl, ember__obj_score(o), k, kl);
    ember__dict_unlink(&zs->dict, &pos);
    ember__mem_free(m, o);
    return 1;
}

em_zset *ember__zset_from_listpack(em_mem *m, uint8_t *lp, uint64_t seed)
{
    em_zset *zs = ember__zset_new(m, seed);
    if (!zs)
        return NULL;
    uint8_t buf[EM_LP_INTBUF];
    for (uint8_t *p = ember__lp_first(lp); p;) {
        uint8_t *sp = ember__lp_next(lp, p);
        size_t len;
        const char *ele = lp_str(p, buf, &len);
        if (ember__zset_sl_add(m, zs, ele, len, ember__zlp_score(sp))) {
            zset_free(m, zs);
            return NULL;
        }
        p = ember__lp_next(lp, sp);
    }
    return zs;
}

uint8_t *ember__zset_to_listpack(em_mem *m, const em_zset *zs)
{
    uint8_t *lp = ember__lp_new(m, 0);
    if (!lp)
        return NULL;
    for (em_zsl_node *n = zs->zsl.header->level[0].forward; n; n = n->level[0].forward) {
        size_t len;
        const char *ele = ember__zsl_ele(n, &len);
        uint8_t *nlp = ember__lp_append(m, lp, ele, len);
        if (nlp)
            nlp = ember__zlp_insert_score(m, (lp = nlp), n->score, NULL, EM_LP_AFTER, NULL);
        if (!nlp) {
            ember__lp_free(m, lp);
            return NULL;
        }
        lp = nlp;
    }
    return lp;
}

void *ember__zset_dup_body(em_mem *m, const void *body, int enc)
{
    if (enc == EM_ENC_LISTPACK)
        return ember__lp_dup(m, body);
    const em_zset *src = body;
    em_zset *zs = ember__zset_new(m, src->dict.seed);
    if (!zs)
        return NULL;
    for (em_zsl_node *n = src->zsl.header->level[0].forward; n; n = n->level[0].forward) {
        size_t len;
        const char *ele = ember__zsl_ele(n, &len);
        if (ember__zset_sl_add(m, zs, ele, len, n->score)) {
            zset_free(m, zs);
            return NULL;
        }
    }
    return zs;
}

size_t ember__zset_body_items(const void *body, int enc)
{
    if (enc == EM_ENC_LISTPACK)
        return ember__lp_length(body) / 2;
    return ((const em_zset *)body)->zsl.length;
}
