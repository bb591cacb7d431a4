/*
 * t_set.c — the set commands (SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
 * SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE
 * SDIFF SDIFFSTORE SSCAN) and the set value type.
 *
 * Encodings (OBJECT ENCODING names), chosen as Redis does:
 *   intset     every member is canonical int64 text and there are at most
 *              set-max-intset-entries of them (intset.h: Redis's byte layout);
 *   listpack   (Redis 7.2's, kept here) at most set-max-listpack-entries
 *              members of at most set-max-listpack-value bytes, in insertion
 *              order; with set-max-listpack-entries 0 it is never used and the
 *              encodings are exactly Redis 7.0's;
 *   hashtable  an em_dict of member entries (ember__obj_new_member).
 * A set only moves up this list (intset -> listpack -> hashtable, or intset ->
 * hashtable), on the write that crosses a threshold; lowering a threshold with
 * CONFIG SET takes effect on the next write that adds a member. The exceptions
 * are Redis's own: the destination of a *STORE command is built fresh from an
 * empty intset, so it gets the smallest encoding its members allow, and SPOP
 * with a count that leaves few members rebuilds the set in its own encoding.
 * Conversion cost: one conversion copies every member once, and only happens
 * from a compact encoding, so it is bounded by the larger of the two compact
 * thresholds (512 members by default), never by the size of a big set.
 *
 * Invariants:
 *  - no set key is ever empty: the write that removes the last member deletes
 *    the key;
 *  - in-place edits call ember__ks_prewrite() before the first change and add
 *    the number of changes to st->dirty;
 *  - random picks use the store's rng (ember__rand64, ember__dict_random);
 *  - scratch arrays of one command use malloc (not the store's memory), like
 *    em_objvec; everything a set holds goes through the store's em_mem.
 * Type checks of multi-key commands come in Redis 7.0's order: every key is
 * looked up and checked before any work, a missing key counting as empty.
 */
#include <limits.h>
#include <stdlib.h>

#include "../common/hash.h"
#include "coll.h"
#include "intset.h"
#include "listpack.h"

/* ------------------------------------------------------------ values */

/* A set value apart from its key: encoding and body (uint8_t * intset or
 * listpack, em_dict * hashtable). */
typedef struct sval {
    int enc;
    void *body;
} sval;

/* A member being looked at: its text, and its integer value when known. */
enum { EL_UNKNOWN = 0, EL_STR = 1, EL_INT = 2 };
typedef struct selem {
    const char *p;
    size_t len;
    int64_t v;
    int kind;
    char buf[EM_LLSTR_SIZE];
} selem;

static void el_str(selem *e, const char *p, size_t len, int kind)
{
    e->p = p;
    e->len = len;
    e->kind = kind;
}

static void el_int(selem *e, int64_t v)
{
    e->v = v;
    e->len = ember__ll_to_str(e->buf, v);
    e->p = e->buf;
    e->kind = EL_INT;
}

static void el_arg(selem *e, const em_ctx *c, size_t i)
{
    el_str(e, c->argv[i], c->argvlen[i], EL_UNKNOWN);
}

static int el_is_int(selem *e)
{
    if (e->kind == EL_UNKNOWN) {
        long long ll;
        if (e->len <= EM_INT_MAX_CHARS && ember__str_to_ll(e->p, e->len, &ll)) {
            e->v = ll;
            e->kind = EL_INT;
        } else {
            e->kind = EL_STR;
        }
    }
    return e->kind == EL_INT;
}

static void sv_of(sval *s, const em_obj *o)
{
    s->enc = ember__obj_enc(o);
    s->body = ember__obj_body(o);
}

/* Writes s back into o (its body may have moved or changed encoding). */
static void sv_put(em_obj *o, const sval *s)
{
    o->hdr[0] = (uint8_t)((o->hdr[0] & ~(7u << 3)) | ((unsigned)s->enc << 3));
    ember__obj_set_body(o, s->body);
}

static size_t sv_size(const sval *s)
{
    switch (s->enc) {
    case EM_ENC_INTSET:
        return ember__intset_len(s->body);
    case EM_ENC_LISTPACK:
        return ember__lp_length(s->body);
    default:
        return ember__dict_size(s->body);
    }
}

static void free_member(void *ud, em_obj *o)
{
    ember__obj_free(ud, o);
}

static void set_free_body(em_mem *m, void *body, int enc)
{
    switch (enc) {
    case EM_ENC_INTSET:
        ember__intset_free(m, body);
        break;
    case EM_ENC_LISTPACK:
        ember__lp_free(m, body);
        break;
    default:
        ember__dict_free_all(body, free_member, m);
        ember__mem_free(m, body);
        break;
    }
}

em_dict *ember__set_ht_new(em_mem *m, uint64_t seed)
{
    em_dict *d = ember__mem_alloc(m, sizeof *d);
    if (d)
        ember__dict_init(d, m, seed);
    return d;
}

int ember__set_ht_add(em_dict *d, const void *p, size_t len)
{
    uint64_t h = ember__dict_hash(d, p, len);
    em_dpos pos;
    if (ember__dict_find(d, p, len, h, &pos))
        return 0;
    em_obj *o = ember__obj_new_member(d->mem, p, len);
    if (!o)
        return -1;
    size_t before = ember__dict_size(d);
    ember__dict_add(d, o, h);
    if (ember__dict_size(d) == before) { /* no table at all */
        ember__obj_free(d->mem, o);
        return -1;
    }
    return 1;
}

/* Iteration over any encoding (the set must not change meanwhile). */
typedef struct siter {
    const sval *s;
    uint32_t i, n;
    uint8_t *p;
    int t;
    size_t b;
    em_obj *o;
} siter;

static void si_init(siter *it, const sval *s)
{
    memset(it, 0, sizeof *it);
    it->s = s;
    if (s->enc == EM_ENC_INTSET)
        it->n = ember__intset_len(s->body);
    else if (s->enc == EM_ENC_LISTPACK)
        it->p = ember__lp_first(s->body);
}

/* Fills e with a member of a listpack entry. */
static void el_lp(selem *e, const uint8_t *p)
{
    int64_t v;
    if (ember__lp_get_int(p, &v)) {
        el_int(e, v);
        return;
    }
    uint32_t len;
    const uint8_t *s = ember__lp_get(p, &v, &len, NULL);
    el_str(e, (const char *)s, len, EL_STR); /* int text is always stored as an int */
}

static void el_member(selem *e, const em_obj *o)
{
    size_t len;
    const char *k = ember__obj_key(o, &len);
    el_str(e, k, len, EL_UNKNOWN);
}

/* 1 and the next member in e (and *obj for hashtables, if given), or 0. */
static int si_next(siter *it, selem *e, em_obj **obj)
{
    const sval *s = it->s;
    if (s->enc == EM_ENC_INTSET) {
        if (it->i >= it->n)
            return 0;
        el_int(e, ember__intset_get(s->body, it->i++));
        return 1;
    }
    if (s->enc == EM_ENC_LISTPACK) {
        if (!it->p)
            return 0;
        el_lp(e, it->p);
        it->p = ember__lp_next(s->body, it->p);
        return 1;
    }
    em_dict *d = s->body;
    while (!it->o) {
        if (it->b >= d->size[it->t]) {
            if (it->t == 1 || !ember__dict_is_rehashing(d))
                return 0;
            it->t = 1;
            it->b = 0;
            continue;
        }
        it->o = d->t[it->t][it->b++];
    }
    if (obj)
        *obj = it->o;
    el_member(e, it->o);
    it->o = it->o->next;
    return 1;
}

/* Finds a listpack member: its entry or NULL. */
static uint8_t *lp_member(uint8_t *lp, selem *e)
{
    uint8_t *f = ember__lp_first(lp);
    if (!f)
        return NULL;
    if (!el_is_int(e)) /* int text is always stored as an int, so this */
        return ember__lp_find(lp, f, e->p, e->len, 0); /* only meets strings */
    for (uint8_t *p = f; p; p = ember__lp_next(lp, p))
        if (ember__lp_eq_int(p, e->v))
            return p;
    return NULL;
}

static int sv_has(const sval *s, selem *e)
{
    switch (s->enc) {
    case EM_ENC_INTSET:
        return el_is_int(e) && ember__intset_find(s->body, e->v, NULL);
    case EM_ENC_LISTPACK:
        return lp_member(s->body, e) != NULL;
    default: {
        em_dict *d = s->body;
        em_dpos pos;
        return ember__dict_find(d, e->p, e->len, ember__dict_hash(d, e->p, e->len), &pos);
    }
    }
}

/* Converts s to a hashtable, sized for one more member. 0, or -1 on OOM
 * (s unchanged). */
static int sv_to_ht(em_ctx *c, sval *s)
{
    em_mem *m = &c->st->mem;
    em_dict *d = ember__set_ht_new(m, c->st->seed);
    if (!d)
        return -1;
    siter it;
    selem e;
    si_init(&it, s);
    while (si_next(&it, &e, NULL)) {
        if (ember__set_ht_add(d, e.p, e.len) < 0) {
            set_free_body(m, d, EM_ENC_HT);
            return -1;
        }
    }
    set_free_body(m, s->body, s->enc);
    s->enc = EM_ENC_HT;
    s->body = d;
    return 0;
}

/* intset -> listpack. 0 or -1 (OOM, s unchanged). */
static int sv_to_lp(em_ctx *c, sval *s)
{
    em_mem *m = &c->st->mem;
    uint32_t n = ember__intset_len(s->body);
    uint8_t *lp = ember__lp_new(m, (size_t)n * 4 + 16);
    for (uint32_t i = 0; lp && i < n; i++) {
        uint8_t *r = ember__lp_append_int(m, lp, ember__intset_get(s->body, i));
        if (!r)
            ember__lp_free(m, lp);
        lp = r;
    }
    if (!lp)
        return -1;
    ember__intset_free(m, s->body);
    s->enc = EM_ENC_LISTPACK;
    s->body = lp;
    return 0;
}

/* The text length of the widest member of a non-empty intset. */
static size_t intset_maxlen(const uint8_t *is)
{
    char b[EM_LLSTR_SIZE];
    uint32_t n = ember__intset_len(is);
    size_t a = ember__ll_to_str(b, ember__intset_get(is, 0));
    size_t z = ember__ll_to_str(b, ember__intset_get(is, n - 1));
    return a > z ? a : z;
}

/* Adds e to s, converting the encoding when a threshold is crossed.
 * 1 added, 0 already present, -1 OOM (s still valid). */
static int sv_add(em_ctx *c, sval *s, selem *e)
{
    em_mem *m = &c->st->mem;
    const em_settings *cfg = &c->srv->cfg;
    if (s->enc == EM_ENC_INTSET) {
        if (el_is_int(e)) {
            int added;
            uint8_t *r = ember__intset_add(m, s->body, e->v, &added);
            if (!r)
                return -1;
            s->body = r;
            /* A failed conversion leaves a valid (over-long) intset; the
             * next add tries again. */
            if (added && ember__intset_len(r) > (uint64_t)cfg->set_max_intset_entries)
                sv_to_ht(c, s);
            return added;
        }
        uint32_t n = ember__intset_len(s->body);
        int64_t lpv = cfg->set_max_listpack_value;
        if ((int64_t)n < cfg->set_max_listpack_entries && (int64_t)e->len <= lpv &&
            (n == 0 || (int64_t)intset_maxlen(s->body) <= lpv)) {
            if (sv_to_lp(c, s) < 0)
                return -1;
        } else if (sv_to_ht(c, s) < 0) {
            return -1;
        }
        /* fall through to the new encoding (e is not present: not an int) */
    }
    if (s->enc == EM_ENC_LISTPACK) {
        if (lp_member(s->body, e))
            return 0;
        if ((int64_t)ember__lp_length(s->body) < c->srv->cfg.set_max_listpack_entries &&
            (int64_t)e->len <= c->srv->cfg.set_max_listpack_value) {
            uint8_t *r = ember__lp_append(m, s->body, e->p, e->len);
            if (!r)
                return -1;
            s->body = r;
            return 1;
        }
        if (sv_to_ht(c, s) < 0)
            return -1;
    }
    return ember__set_ht_add(s->body, e->p, e->len);
}

/* Removes e from s: 1 removed, 0 absent. Never fails. */
static int sv_remove(em_ctx *c, sval *s, selem *e)
{
    em_mem *m = &c->st->mem;
    switch (s->enc) {
    case EM_ENC_INTSET: {
        int removed = 0;
        if (el_is_int(e))
            s->body = ember__intset_remove(m, s->body, e->v, &removed);
        return removed;
    }
    case EM_ENC_LISTPACK: {
        uint8_t *p = lp_member(s->body, e);
        if (!p)
            return 0;
        s->body = ember__lp_delete(m, s->body, p, NULL);
        return 1;
    }
    default: {
        em_dict *d = s->body;
        em_dpos pos;
        if (ember__dict_is_rehashing(d))
            ember__dict_rehash(d, 1);
        if (!ember__dict_find(d, e->p, e->len, ember__dict_hash(d, e->p, e->len), &pos))
            return 0;
        ember__obj_free(m, ember__dict_unlink(d, &pos));
        ember__dict_maybe_shrink(d);
        return 1;
    }
    }
}

/* An empty set for a new key whose first member is e (Redis's setTypeCreate,
 * plus the listpack). 0 or -1 (OOM). */
static int sv_new_for(em_ctx *c, sval *s, selem *e)
{
    em_mem *m = &c->st->mem;
    const em_settings *cfg = &c->srv->cfg;
    if (!e || el_is_int(e)) {
        s->enc = EM_ENC_INTSET;
        s->body = ember__intset_new(m);
    } else if (cfg->set_max_listpack_entries > 0 &&
               (int64_t)e->len <= cfg->set_max_listpack_value) {
        s->enc = EM_ENC_LISTPACK;
        s->body = ember__lp_new(m, e->len + 16);
    } else {
        s->enc = EM_ENC_HT;
        s->body = ember__set_ht_new(m, c->st->seed);
    }
    return s->body ? 0 : -1;
}

/* ------------------------------------------------------------ value ops */

static void *set_dup_body(em_mem *m, const void *body, int enc)
{
    if (enc == EM_ENC_INTSET)
        return ember__intset_dup(m, body);
    if (enc == EM_ENC_LISTPACK)
        return ember__lp_dup(m, body);
    const em_dict *src = body;
    em_dict *d = ember__set_ht_new(m, src->seed);
    if (!d)
        return NULL;
    for (int t = 0; t < 2; t++)
        for (size_t b = 0; b < src->size[t]; b++)
            for (em_obj *o = src->t[t][b]; o; o = o->next) {
                size_t len;
                const char *k = ember__obj_key(o, &len);
                if (ember__set_ht_add(d, k, len) < 0) {
                    set_free_body(m, d, EM_ENC_HT);
                    return NULL;
                }
            }
    return d;
}

static size_t set_body_items(const void *body, int enc)
{
    sval s = {enc, (void *)body};
    return sv_size(&s);
}

static const em_value_ops set_ops = {set_free_body, set_dup_body, set_body_items};

/* Registers the set value type's hooks (free, copy, size) with the keyspace. */
void ember__set_init(void);
void ember__set_init(void)
{
    ember__obj_register_type(EM_T_SET, &set_ops);
}

/* ------------------------------------------------------------ helpers */

static void add_elem(em_ctx *c, const selem *e)
{
    em_add_bulk(c, e->p, e->len);
}

/* Replies every member of s as a SET. */
static void add_all(em_ctx *c, const sval *s)
{
    siter it;
    selem e;
    em_add_set(c, sv_size(s));
    si_init(&it, s);
    while (si_next(&it, &e, NULL))
        add_elem(c, &e);
}

/* Deletes key argv[i] (a set that became empty). The key is looked up again:
 * a position taken before another lookup may be stale (that lookup may have
 * expired a neighbour in the chain). */
static void del_key(em_ctx *c, size_t i)
{
    em_dpos pos;
    em_obj *o = ember__ks_lookup(c->st, c->ks, c->argv[i], c->argvlen[i], em_now(c),
                                 EM_LK_WRITE | EM_LK_NOTOUCH, &pos);
    if (o) {
        em_notify(c, EM_EV_DEL, i, o);
        ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
    }
}

/* Makes a new set key argv[i] holding s (ownership moves in). -1 on OOM (s
 * freed). */
static int add_key(em_ctx *c, size_t i, sval *s)
{
    em_mem *m = &c->st->mem;
    em_obj *o = ember__obj_new_body(m, c->argv[i], c->argvlen[i], EM_T_SET, s->enc, s->body);
    if (!o) {
        set_free_body(m, s->body, s->enc);
        return -1;
    }
    ember__ks_add(c->st, c->ks, o);
    return 0;
}

/* ------------------------------------------------------------ commands */

/* SADD key member [member ...] */
static void cmd_sadd(em_ctx *c)
{
    em_obj *o;
    sval s;
    selem e;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 1, &o, NULL))
        return;
    int fresh = o == NULL;
    if (fresh) {
        el_arg(&e, c, 2);
        if (sv_new_for(c, &s, &e) < 0) {
            em_err_oom(c);
            return;
        }
    } else {
        sv_of(&s, o);
    }
    long long added = 0;
    int oom = 0, pw = fresh;
    for (size_t i = 2; i < c->argc && !oom; i++) {
        el_arg(&e, c, i);
        if (!pw) {
            if (sv_has(&s, &e))
                continue;
            ember__ks_prewrite(c->st, c->ks, o);
            pw = 1;
        }
        int r = sv_add(c, &s, &e);
        if (r < 0)
            oom = 1;
        else
            added += r;
    }
    if (fresh) {
        if (sv_size(&s) == 0) {
            set_free_body(&c->st->mem, s.body, s.enc);
            oom = 1;
        } else if (add_key(c, 1, &s) < 0) {
            oom = 1;
        }
    } else {
        sv_put(o, &s);
    }
    c->st->dirty += (uint64_t)added;
    if (added && !(fresh && oom)) {
        if (fresh)
            em_notify_lookup(c, EM_EV_SADD, 1);
        else
            em_notify(c, EM_EV_SADD, 1, o);
    }
    if (oom)
        em_err_oom(c);
    else
        em_add_int(c, added);
}

/* SREM key member [member ...] */
static void cmd_srem(em_ctx *c)
{
    em_obj *o;
    sval s;
    selem e;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 1, &o, NULL))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    sv_of(&s, o);
    long long removed = 0;
    for (size_t i = 2; i < c->argc; i++) {
        el_arg(&e, c, i);
        if (!removed && !sv_has(&s, &e))
            continue;
        if (!removed)
            ember__ks_prewrite(c->st, c->ks, o);
        removed += sv_remove(c, &s, &e);
        if (sv_size(&s) == 0)
            break;
    }
    sv_put(o, &s);
    if (removed)
        em_notify(c, EM_EV_SREM, 1, o);
    if (sv_size(&s) == 0)
        del_key(c, 1);
    c->st->dirty += (uint64_t)removed;
    em_add_int(c, removed);
}

/* SCARD key */
static void cmd_scard(em_ctx *c)
{
    em_obj *o;
    sval s;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 0, &o, NULL))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    sv_of(&s, o);
    em_add_int(c, (int64_t)sv_size(&s));
}

/* SISMEMBER key member */
static void cmd_sismember(em_ctx *c)
{
    em_obj *o;
    sval s;
    selem e;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 0, &o, NULL))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    sv_of(&s, o);
    el_arg(&e, c, 2);
    em_add_int(c, sv_has(&s, &e));
}

/* SMISMEMBER key member [member ...] */
static void cmd_smismember(em_ctx *c)
{
    em_obj *o;
    sval s;
    selem e;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 0, &o, NULL))
        return;
    if (o)
        sv_of(&s, o);
    em_add_array(c, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        el_arg(&e, c, i);
        em_add_int(c, o ? sv_has(&s, &e) : 0);
    }
}

/* SMEMBERS key */
static void cmd_smembers(em_ctx *c)
{
    em_obj *o;
    sval s;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 0, &o, NULL))
        return;
    if (!o) {
        em_add_set(c, 0);
        return;
    }
    sv_of(&s, o);
    add_all(c, &s);
}

/* ------------------------------------------------------------ random */

static uint64_t rnd(em_ctx *c, uint64_t n)
{
    return ember__rand64(&c->st->rng) % n;
}

/* A random member of non-empty s into e; for hashtables *obj gets its entry. */
static void sv_random(em_ctx *c, const sval *s, selem *e, em_obj **obj)
{
    if (s->enc == EM_ENC_INTSET) {
        uint32_t n = ember__intset_len(s->body);
        el_int(e, ember__intset_get(s->body, (uint32_t)rnd(c, n)));
    } else if (s->enc == EM_ENC_LISTPACK) {
        uint32_t n = ember__lp_length(s->body);
        el_lp(e, ember__lp_seek(s->body, (int64_t)rnd(c, n)));
    } else {
        em_obj *o = ember__dict_random(s->body, &c->st->rng);
        el_member(e, o);
        if (obj)
            *obj = o;
    }
}

/* Removes a random member of non-empty s after replying it. */
/* SPOP is logged as the removals it made (SREM key member, per member). */
static void log_srem(em_ctx *c, const selem *e)
{
    const char *a[3] = {"SREM", c->argv[1], e->p};
    size_t l[3] = {4, c->argvlen[1], e->len};
    em_log_replace(c, 3, a, l);
}

static void pop_one(em_ctx *c, sval *s)
{
    selem e;
    em_mem *m = &c->st->mem;
    if (s->enc == EM_ENC_INTSET) {
        uint32_t i = (uint32_t)rnd(c, ember__intset_len(s->body));
        el_int(&e, ember__intset_get(s->body, i));
        add_elem(c, &e);
        log_srem(c, &e);
        s->body = ember__intset_remove_at(m, s->body, i);
    } else if (s->enc == EM_ENC_LISTPACK) {
        uint8_t *p = ember__lp_seek(s->body, (int64_t)rnd(c, ember__lp_length(s->body)));
        el_lp(&e, p);
        add_elem(c, &e);
        log_srem(c, &e);
        s->body = ember__lp_delete(m, s->body, p, NULL);
    } else {
        em_obj *o;
        em_dpos pos;
        em_dict *d = s->body;
        sv_random(c, s, &e, &o);
        add_elem(c, &e);
        log_srem(c, &e);
        ember__dict_find(d, e.p, e.len, ember__dict_hash(d, e.p, e.len), &pos);
        ember__obj_free(m, ember__dict_unlink(d, &pos));
        ember__dict_maybe_shrink(d); /* as SREM: Redis resizes after a removal */
    }
}

/* Moves a random member of non-empty s into dst (same encoding). 0 or -1. */
static int move_one(em_ctx *c, sval *s, sval *dst)
{
    em_mem *m = &c->st->mem;
    if (s->enc == EM_ENC_INTSET) {
        uint32_t i = (uint32_t)rnd(c, ember__intset_len(s->body));
        int added;
        uint8_t *r = ember__intset_add(m, dst->body, ember__intset_get(s->body, i), &added);
        if (!r)
            return -1;
        dst->body = r;
        s->body = ember__intset_remove_at(m, s->body, i);
    } else if (s->enc == EM_ENC_LISTPACK) {
        selem e;
        uint8_t *p = ember__lp_seek(s->body, (int64_t)rnd(c, ember__lp_length(s->body)));
        el_lp(&e, p);
        uint8_t *r = ember__lp_append(m, dst->body, e.p, e.len);
        if (!r)
            return -1;
        dst->body = r;
        s->body = ember__lp_delete(m, s->body, p, NULL);
    } else {
        /* The entry itself moves: no allocation. */
        em_dict *d = s->body, *nd = dst->body;
        em_obj *o = ember__dict_random(d, &c->st->rng);
        em_dpos pos;
        size_t len;
        const char *k = ember__obj_key(o, &len);
        uint64_t h = ember__dict_hash(d, k, len);
        size_t before = ember__dict_size(nd);
        ember__dict_find(d, k, len, h, &pos);
        ember__dict_unlink(d, &pos);
        ember__dict_add(nd, o, ember__dict_hash(nd, k, len));
        if (ember__dict_size(nd) == before) {
            ember__dict_add(d, o, h); /* d has a table: cannot fail */
            return -1;
        }
    }
    return 0;
}

/* SPOP key count: Redis's three strategies. */
static void spop_count(em_ctx *c, long long count)
{
    em_obj *o;
    sval s;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 1, &o, NULL))
        return;
    if (!o || count == 0) {
        em_add_set(c, 0);
        return;
    }
    sv_of(&s, o);
    size_t size = sv_size(&s);
    ember__ks_prewrite(c->st, c->ks, o);
    if ((unsigned long long)count >= size) {
        /* The whole set: reply it and delete the key. */
        add_all(c, &s);
        c->st->dirty += size;
        em_notify(c, EM_EV_SPOP, 1, o);
        del_key(c, 1);
        const char *a[2] = {"DEL", c->argv[1]};
        size_t l[2] = {3, c->argvlen[1]};
        em_log_replace(c, 2, a, l);
        return;
    }
    size_t remaining = size - (size_t)count;
    if (remaining * 5 > (size_t)count) {
        /* Few to pop: pop them one by one. */
        em_add_set(c, (size_t)count);
        for (long long i = 0; i < count; i++)
            pop_one(c, &s);
    } else {
        /* Few to keep: move the survivors into a new set and reply what is
         * left in the old one. */
        em_mem *m = &c->st->mem;
        sval keep = {s.enc, NULL};
        if (s.enc == EM_ENC_INTSET)
            keep.body = ember__intset_new(m);
        else if (s.enc == EM_ENC_LISTPACK)
            keep.body = ember__lp_new(m, 16);
        else
            keep.body = ember__set_ht_new(m, ((em_dict *)s.body)->seed);
        int oom = keep.body == NULL;
        for (size_t i = 0; i < remaining && !oom; i++)
            oom = move_one(c, &s, &keep) < 0;
        if (oom) {
            /* Put the moved members back: nothing popped. */
            if (keep.body) {
                siter it;
                selem e;
                si_init(&it, &keep);
                while (si_next(&it, &e, NULL))
                    sv_add(c, &s, &e);
                set_free_body(m, keep.body, keep.enc);
            }
            sv_put(o, &s);
            em_err_oom(c);
            return;
        }
        add_all(c, &s);
        if (em_logging(c)) {
            siter it;
            selem e;
            si_init(&it, &s);
            while (si_next(&it, &e, NULL))
                log_srem(c, &e);
        }
        set_free_body(m, s.body, s.enc);
        s = keep;
    }
    sv_put(o, &s);
    c->st->dirty += (uint64_t)count;
    em_notify(c, EM_EV_SPOP, 1, o);
}

/* SPOP key [count] */
static void cmd_spop(em_ctx *c)
{
    if (c->argc > 3) {
        em_err_syntax(c);
        return;
    }
    if (c->argc == 3) {
        long long count;
        if (!em_arg_ll_quiet(c, 2, &count) || count < 0) {
            em_add_error(c, "ERR value is out of range, must be positive");
            return;
        }
        spop_count(c, count);
        return;
    }
    em_obj *o;
    sval s;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 1, &o, NULL))
        return;
    if (!o) {
        em_add_nil(c);
        return;
    }
    ember__ks_prewrite(c->st, c->ks, o);
    sv_of(&s, o);
    pop_one(c, &s);
    sv_put(o, &s);
    c->st->dirty++;
    em_notify(c, EM_EV_SPOP, 1, o);
    if (sv_size(&s) == 0)
        del_key(c, 1);
}

/* Replies count distinct random members of s (0 < count < size) as an
 * ARRAY. Compact sets (bounded by the thresholds) and hashtables where the
 * count is close to the size pick by partial Fisher-Yates over all members;
 * big hashtables with a small count draw entries until count distinct ones. */
static int srand_distinct(em_ctx *c, const sval *s, size_t count, size_t size)
{
    selem e;
    if (s->enc == EM_ENC_HT && count * 3 <= size) {
        em_ptrset w;
        if (ember__ptrset_init(&w, count) < 0)
            return -1;
        em_add_array(c, count);
        for (size_t got = 0; got < count;) {
            em_obj *o;
            sv_random(c, s, &e, &o);
            if (ember__ptrset_add(&w, o)) {
                add_elem(c, &e);
                got++;
            }
        }
        ember__ptrset_free(&w);
        return 0;
    }
    /* refs: intset indexes, listpack entries, or hashtable entries. */
    void **refs = malloc(size * sizeof *refs);
    if (!refs)
        return -1;
    siter it;
    size_t n = 0;
    si_init(&it, s);
    if (s->enc == EM_ENC_INTSET) {
        for (; n < size; n++)
            refs[n] = (void *)(uintptr_t)n;
    } else if (s->enc == EM_ENC_LISTPACK) {
        for (uint8_t *p = ember__lp_first(s->body); p; p = ember__lp_next(s->body, p))
            refs[n++] = p;
    } else {
        em_obj *o;
        while (si_next(&it, &e, &o))
            refs[n++] = o;
    }
    em_add_array(c, count);
    for (size_t i = 0; i < count; i++) {
        size_t j = i + (size_t)rnd(c, n - i);
        void *t = refs[i];
        refs[i] = refs[j];
        refs[j] = t;
        if (s->enc == EM_ENC_INTSET)
            el_int(&e, ember__intset_get(s->body, (uint32_t)(uintptr_t)refs[i]));
        else if (s->enc == EM_ENC_LISTPACK)
            el_lp(&e, refs[i]);
        else
            el_member(&e, refs[i]);
        add_elem(c, &e);
    }
    free(refs);
    return 0;
}

/* SRANDMEMBER key [count] */
static void cmd_srandmember(em_ctx *c)
{
    long long count = 0;
    int with_count = c->argc == 3;
    if (c->argc > 3) {
        em_err_syntax(c);
        return;
    }
    if (with_count) {
        if (!em_arg_ll(c, 2, &count))
            return;
        if (count == LLONG_MIN) {
            em_add_error(c, "ERR value is out of range, value must between -9223372036854775807 "
                            "and 9223372036854775807");
            return;
        }
    }
    em_obj *o;
    sval s;
    selem e;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 0, &o, NULL))
        return;
    if (!with_count) {
        if (!o) {
            em_add_nil(c);
            return;
        }
        sv_of(&s, o);
        sv_random(c, &s, &e, NULL);
        add_elem(c, &e);
        return;
    }
    if (!o || count == 0) {
        em_add_array(c, 0);
        return;
    }
    sv_of(&s, o);
    size_t size = sv_size(&s);
    if (count < 0) {
        /* With repetitions. A reply this long could never be built: refuse
         * rather than spin (Redis would exhaust the client's buffer). */
        unsigned long long n = (unsigned long long)-count;
        if (n > (1ull << 32)) {
            em_err_oom(c);
            return;
        }
        em_add_array(c, (size_t)n);
        for (unsigned long long i = 0; i < n; i++) {
            sv_random(c, &s, &e, NULL);
            add_elem(c, &e);
        }
        return;
    }
    if ((unsigned long long)count >= size) {
        siter it;
        em_add_array(c, size);
        si_init(&it, &s);
        while (si_next(&it, &e, NULL))
            add_elem(c, &e);
        return;
    }
    if (srand_distinct(c, &s, (size_t)count, size) < 0)
        em_err_oom(c);
}

/* SMOVE source destination member */
static void cmd_smove(em_ctx *c)
{
    em_obj *src, *dst;
    sval s, d;
    selem e;
    src = em_lookup_write(c, 1, NULL);
    dst = em_lookup_write(c, 2, NULL);
    if (!src) {
        em_add_int(c, 0);
        return;
    }
    if (ember__obj_type(src) != EM_T_SET || (dst && ember__obj_type(dst) != EM_T_SET)) {
        em_err_wrongtype(c);
        return;
    }
    sv_of(&s, src);
    el_arg(&e, c, 3);
    if (src == dst) {
        em_add_int(c, sv_has(&s, &e));
        return;
    }
    if (!sv_has(&s, &e)) {
        em_add_int(c, 0);
        return;
    }
    /* Make room in the destination first, so OOM changes nothing. */
    int added = 1;
    if (dst) {
        sv_of(&d, dst);
        added = !sv_has(&d, &e);
        if (added) {
            ember__ks_prewrite(c->st, c->ks, dst);
            int r = sv_add(c, &d, &e);
            sv_put(dst, &d);
            if (r < 0) {
                em_err_oom(c);
                return;
            }
        }
    } else {
        if (sv_new_for(c, &d, &e) < 0 || sv_add(c, &d, &e) < 0) {
            if (d.body)
                set_free_body(&c->st->mem, d.body, d.enc);
            em_err_oom(c);
            return;
        }
    }
    ember__ks_prewrite(c->st, c->ks, src);
    sv_remove(c, &s, &e);
    sv_put(src, &s);
    em_notify(c, EM_EV_SREM, 1, src);
    if (sv_size(&s) == 0)
        del_key(c, 1);
    if (!dst && add_key(c, 2, &d) < 0) {
        em_err_oom(c);
        return;
    }
    if (added && dst)
        em_notify(c, EM_EV_SADD, 2, dst);
    else if (added)
        em_notify_lookup(c, EM_EV_SADD, 2);
    c->st->dirty++;
    em_add_int(c, 1);
}

/* ------------------------------------------------------------ algebra */

typedef struct sref {
    sval s; /* enc -1: missing key (empty) */
    size_t size;
} sref;

/* Looks up and type-checks argv[first .. first + n) into refs. Returns the
 * number of missing keys, or -1 after replying WRONGTYPE. */
static long long load_sets(em_ctx *c, size_t first, size_t n, sref *refs)
{
    long long missing = 0;
    for (size_t j = 0; j < n; j++) {
        em_obj *o;
        /* Read lookups, the STORE forms' sources too (Redis counts their
         * hits and misses and reports a missing one as a keymiss). */
        if (!ember__coll_lookup(c, first + j, EM_T_SET, 0, &o, NULL))
            return -1;
        if (!o) {
            refs[j].s.enc = -1;
            refs[j].s.body = NULL;
            refs[j].size = 0;
            missing++;
            continue;
        }
        sv_of(&refs[j].s, o);
        refs[j].size = sv_size(&refs[j].s);
    }
    return missing;
}

static int by_size(const void *a, const void *b)
{
    size_t x = ((const sref *)a)->size, y = ((const sref *)b)->size;
    return x < y ? -1 : x > y;
}

static int by_size_desc(const void *a, const void *b)
{
    return by_size(b, a);
}

/* Stores r under argv[1] (any old value is replaced; an empty r deletes the
 * key) and replies its size. Consumes r. */
static void store_result(em_ctx *c, sval *r, int ev)
{
    em_mem *m = &c->st->mem;
    size_t n = sv_size(r);
    em_dpos pos;
    em_obj *old = em_lookup_write(c, 1, &pos);
    if (n == 0) {
        set_free_body(m, r->body, r->enc);
        if (old) {
            em_notify(c, EM_EV_DEL, 1, old);
            ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
            c->st->dirty++;
        }
        em_add_int(c, 0);
        return;
    }
    em_obj *o = ember__obj_new_body(m, c->argv[1], c->argvlen[1], EM_T_SET, r->enc, r->body);
    if (!o) {
        set_free_body(m, r->body, r->enc);
        em_err_oom(c);
        return;
    }
    if (old)
        ember__obj_free(m, ember__ks_replace(c->st, c->ks, &pos, o));
    else
        ember__ks_add(c->st, c->ks, o);
    c->st->dirty++;
    em_notify(c, ev, 1, o);
    em_add_int(c, (int64_t)n);
}

/* Result set of the algebra commands: built fresh from an empty intset, as
 * Redis builds its destination. */
static int result_new(em_ctx *c, sval *r)
{
    return sv_new_for(c, r, NULL);
}

enum { OP_REPLY = 0, OP_STORE = 1, OP_CARD = 2 };

/* SINTER / SINTERSTORE / SINTERCARD over argv[first .. first + n). */
static void sinter_generic(em_ctx *c, size_t first, size_t n, int mode, long long limit)
{
    sref *refs = malloc(n * sizeof *refs);
    if (!refs) {
        em_err_oom(c);
        return;
    }
    long long missing = load_sets(c, first, n, refs);
    if (missing < 0)
        goto done;
    if (missing > 0) {
        if (mode == OP_STORE) {
            sval r;
            if (result_new(c, &r) < 0)
                em_err_oom(c);
            else
                store_result(c, &r, EM_EV_SINTERSTORE);
        } else if (mode == OP_CARD) {
            em_add_int(c, 0);
        } else {
            em_add_set(c, 0);
        }
        goto done;
    }
    qsort(refs, n, sizeof *refs, by_size);
    sval r;
    if (mode == OP_STORE && result_new(c, &r) < 0) {
        em_err_oom(c);
        goto done;
    }
    if (mode == OP_REPLY)
        em_add_deferred(c, EMBER_REPLY_SET);
    size_t count = 0;
    int oom = 0;
    siter it;
    selem e;
    si_init(&it, &refs[0].s);
    while (!oom && si_next(&it, &e, NULL)) {
        size_t j;
        for (j = 1; j < n; j++) {
            if (refs[j].s.body == refs[0].s.body)
                continue;
            if (!sv_has(&refs[j].s, &e))
                break;
        }
        if (j < n)
            continue;
        count++;
        if (mode == OP_REPLY)
            add_elem(c, &e);
        else if (mode == OP_STORE)
            oom = sv_add(c, &r, &e) < 0;
        else if (limit && count >= (unsigned long long)limit)
            break;
    }
    if (mode == OP_REPLY) {
        em_end_deferred(c, count);
    } else if (mode == OP_CARD) {
        em_add_int(c, (int64_t)count);
    } else if (oom) {
        set_free_body(&c->st->mem, r.body, r.enc);
        em_err_oom(c);
    } else {
        store_result(c, &r, EM_EV_SINTERSTORE);
    }
done:
    free(refs);
}

/* SINTER key [key ...] */
static void cmd_sinter(em_ctx *c)
{
    sinter_generic(c, 1, c->argc - 1, OP_REPLY, 0);
}

/* SINTERSTORE destination key [key ...] */
static void cmd_sinterstore(em_ctx *c)
{
    sinter_generic(c, 2, c->argc - 2, OP_STORE, 0);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void cmd_sintercard(em_ctx *c)
{
    long long numkeys, limit = 0;
    if (!em_arg_ll_quiet(c, 1, &numkeys) || numkeys < 1) {
        em_add_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if ((unsigned long long)numkeys > c->argc - 2) {
        em_add_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (size_t j = 2 + (size_t)numkeys; j < c->argc; j++) {
        if (em_arg_is(c, j, "limit") && j + 1 < c->argc) {
            j++;
            if (!em_arg_ll_quiet(c, j, &limit) || limit < 0) {
                em_add_error(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            em_err_syntax(c);
            return;
        }
    }
    sinter_generic(c, 2, (size_t)numkeys, OP_CARD, limit);
}

/* SUNION / SDIFF (+STORE) over argv[first .. first + n). */
static void sunion_diff_generic(em_ctx *c, size_t first, size_t n, int diff, int store)
{
    em_mem *m = &c->st->mem;
    sref *refs = malloc(n * sizeof *refs);
    sval r = {0, NULL};
    if (!refs) {
        em_err_oom(c);
        return;
    }
    if (load_sets(c, first, n, refs) < 0)
        goto done;
    if (result_new(c, &r) < 0)
        goto oom;
    siter it;
    selem e;
    if (!diff) {
        for (size_t j = 0; j < n; j++) {
            if (refs[j].s.enc < 0)
                continue;
            si_init(&it, &refs[j].s);
            while (si_next(&it, &e, NULL))
                if (sv_add(c, &r, &e) < 0)
                    goto oom;
        }
    } else if (refs[0].s.enc >= 0) {
        int same = 0;
        size_t work1 = 0, work2 = 0;
        for (size_t j = 0; j < n; j++) {
            if (refs[j].s.enc < 0)
                continue;
            if (j > 0 && refs[j].s.body == refs[0].s.body)
                same = 1;
            work1 += refs[0].size;
            work2 += refs[j].size;
        }
        if (same) {
            /* A set minus itself: empty. */
        } else if (work1 / 2 <= work2) {
            /* Each member of the first set against every other set, the
             * biggest first (most likely to hold it). */
            if (n > 1)
                qsort(refs + 1, n - 1, sizeof *refs, by_size_desc);
            si_init(&it, &refs[0].s);
            while (si_next(&it, &e, NULL)) {
                size_t j;
                for (j = 1; j < n; j++)
                    if (refs[j].s.enc >= 0 && sv_has(&refs[j].s, &e))
                        break;
                if (j == n && sv_add(c, &r, &e) < 0)
                    goto oom;
            }
        } else {
            /* Copy the first set, then remove every other set's members. */
            si_init(&it, &refs[0].s);
            while (si_next(&it, &e, NULL))
                if (sv_add(c, &r, &e) < 0)
                    goto oom;
            for (size_t j = 1; j < n && sv_size(&r); j++) {
                if (refs[j].s.enc < 0)
                    continue;
                si_init(&it, &refs[j].s);
                while (si_next(&it, &e, NULL))
                    sv_remove(c, &r, &e);
            }
        }
    }
    if (store) {
        store_result(c, &r, diff ? EM_EV_SDIFFSTORE : EM_EV_SUNIONSTORE);
    } else {
        add_all(c, &r);
        set_free_body(m, r.body, r.enc);
    }
    goto done;
oom:
    if (r.body)
        set_free_body(m, r.body, r.enc);
    em_err_oom(c);
done:
    free(refs);
}

/* SUNION key [key ...] */
static void cmd_sunion(em_ctx *c)
{
    sunion_diff_generic(c, 1, c->argc - 1, 0, 0);
}

/* SUNIONSTORE destination key [key ...] */
static void cmd_sunionstore(em_ctx *c)
{
    sunion_diff_generic(c, 2, c->argc - 2, 0, 1);
}

/* SDIFF key [key ...] */
static void cmd_sdiff(em_ctx *c)
{
    sunion_diff_generic(c, 1, c->argc - 1, 1, 0);
}

/* SDIFFSTORE destination key [key ...] */
static void cmd_sdiffstore(em_ctx *c)
{
    sunion_diff_generic(c, 2, c->argc - 2, 1, 1);
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
static void cmd_sscan(em_ctx *c)
{
    uint64_t cursor;
    em_obj *o;
    em_scan_opts opts;
    sval s;
    selem e;
    if (!ember__scan_cursor(c, 2, &cursor))
        return;
    if (!ember__coll_lookup(c, 1, EM_T_SET, 0, &o, NULL))
        return;
    if (!o) {
        ember__scan_reply_cursor(c, 0);
        em_add_array(c, 0);
        return;
    }
    if (!ember__scan_opts(c, 3, 0, &opts))
        return;
    sv_of(&s, o);
    siter it;
    if (s.enc != EM_ENC_HT) {
        /* Compact encodings answer in one call, whatever the cursor. */
        size_t n = 0;
        si_init(&it, &s);
        while (si_next(&it, &e, NULL))
            n += ember__scan_match(&opts, e.p, e.len);
        ember__scan_reply_cursor(c, 0);
        em_add_array(c, n);
        si_init(&it, &s);
        while (si_next(&it, &e, NULL))
            if (ember__scan_match(&opts, e.p, e.len))
                add_elem(c, &e);
        return;
    }
    em_objvec v = {0};
    ember__scan_collect(s.body, &cursor, opts.count, &v);
    if (v.oom) {
        ember__objvec_free(&v);
        em_err_oom(c);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        el_member(&e, v.v[i]);
        n += ember__scan_match(&opts, e.p, e.len);
    }
    ember__scan_reply_cursor(c, cursor);
    em_add_array(c, n);
    for (size_t i = 0; i < v.n; i++) {
        el_member(&e, v.v[i]);
        if (ember__scan_match(&opts, e.p, e.len))
            add_elem(c, &e);
    }
    ember__objvec_free(&v);
}

#define W_FAST (EM_CMD_WRITE | EM_CMD_DENYOOM | EM_CMD_FAST)
#define W_SLOW (EM_CMD_WRITE | EM_CMD_DENYOOM)
#define R_FAST (EM_CMD_READONLY | EM_CMD_FAST)

const em_cmd ember__set_cmds[] = {
    {"sadd", cmd_sadd, -3, W_FAST, 1, 1, 1, NULL},
    {"srem", cmd_srem, -3, EM_CMD_WRITE | EM_CMD_FAST, 1, 1, 1, NULL},
    {"scard", cmd_scard, 2, R_FAST, 1, 1, 1, NULL},
    {"sismember", cmd_sismember, 3, R_FAST, 1, 1, 1, NULL},
    {"smismember", cmd_smismember, -3, R_FAST, 1, 1, 1, NULL},
    {"smembers", cmd_smembers, 2, EM_CMD_READONLY, 1, 1, 1, NULL},
    {"spop", cmd_spop, -2, EM_CMD_WRITE | EM_CMD_FAST | EM_CMD_RANDOM, 1, 1, 1, NULL},
    {"srandmember", cmd_srandmember, -2, EM_CMD_READONLY | EM_CMD_RANDOM, 1, 1, 1, NULL},
    {"smove", cmd_smove, 4, EM_CMD_WRITE | EM_CMD_FAST, 1, 2, 1, NULL},
    {"sinter", cmd_sinter, -2, EM_CMD_READONLY, 1, -1, 1, NULL},
    {"sintercard", cmd_sintercard, -3, EM_CMD_READONLY, 0, 0, 0, NULL},
    {"sinterstore", cmd_sinterstore, -3, W_SLOW, 1, -1, 1, NULL},
    {"sunion", cmd_sunion, -2, EM_CMD_READONLY, 1, -1, 1, NULL},
    {"sunionstore", cmd_sunionstore, -3, W_SLOW, 1, -1, 1, NULL},
    {"sdiff", cmd_sdiff, -2, EM_CMD_READONLY, 1, -1, 1, NULL},
    {"sdiffstore", cmd_sdiffstore, -3, W_SLOW, 1, -1, 1, NULL},
    {"sscan", cmd_sscan, -3, EM_CMD_READONLY | EM_CMD_RANDOM, 1, 1, 1, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
