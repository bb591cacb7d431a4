/*
 * t_hash.c — the hash commands: HSET HSETNX HGET HMGET HMSET HDEL HLEN
 * HSTRLEN HEXISTS HGETALL HKEYS HVALS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 * The value type itself (encodings, conversion) is hash_type.c.
 *
 * Invariants this module keeps:
 *  - Writes on a missing key build the new hash completely before adding it
 *    to the keyspace, so a failed allocation leaves no key behind; on an
 *    existing key the prewrite hook runs before the first change.
 *  - A hash never stays empty: HDEL deletes the key with its last field.
 *  - Argument errors come in Redis's order (arity, numbers, then the key's
 *    type), and error texts are Redis 7.0's.
 *  - Replies use RESP3 shapes: HGETALL is a MAP, HRANDFIELD ... WITHVALUES an
 *    array of [field, value] pairs.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "../common/hash.h"
#include "coll.h"
#include "hash_type.h"

/* HRANDFIELD with a negative count repeats fields, so its reply is not
 * bounded by the hash: past this many elements ember refuses (Redis would
 * build the reply until memory runs out). */
#define HRAND_MAX_REPEATS (1ll << 24)

/* ------------------------------------------------------------ helpers */

static void hash_cfg(const em_ctx *c, em_hash_cfg *cfg)
{
    cfg->max_entries = c->srv->cfg.hash_max_listpack_entries;
    cfg->max_value = c->srv->cfg.hash_max_listpack_value;
    cfg->seed = c->st->seed;
}

/* An error with Redis's text whose status code the text alone would not
 * give (so typed wrappers can return EMBER_ENOTINT for a bad hash value). */
static void add_error_code(em_ctx *c, int code, const char *msg)
{
    c->so->error(c->sink, code, msg, strlen(msg));
}

static void add_hval(em_ctx *c, const em_hval *v)
{
    em_add_bulk(c, v->ptr, v->len);
}

/* Bytes a string of len bytes takes in a listpack (an upper bound: integer
 * text is stored smaller). */
static size_t lp_entry_size(size_t len)
{
    size_t hdr = len < 64 ? 1 : len < 4096 ? 2 : 5;
    size_t body = hdr + len;
    size_t back = body < 128 ? 1 : body < 16383 ? 2 : body < 2097151 ? 3 : body < 268435455 ? 4 : 5;
    return body + back;
}

/* A write to the hash argv[1]: the object, and whether it is new (not yet in
 * the keyspace) or its prewrite hook already ran. */
typedef struct hwrite {
    em_obj *o;
    em_dpos pos;
    int created, touched;
    em_hash_cfg cfg;
} hwrite;

/* Opens argv[1] for writing, creating an empty hash (sized for the pairs
 * argv[first..]) when it is missing. Returns 0 after replying (WRONGTYPE, OOM). */
static int hw_open(em_ctx *c, hwrite *w, size_t first)
{
    hash_cfg(c, &w->cfg);
    w->created = w->touched = 0;
    if (!ember__coll_lookup(c, 1, EM_T_HASH, 1, &w->o, &w->pos))
        return 0;
    if (w->o)
        return 1;
    size_t hint = EM_LP_HDR + 1;
    for (size_t i = first; i < c->argc; i++) {
        if ((int64_t)c->argvlen[i] > w->cfg.max_value) { /* it will be a table */
            hint = 0;
            break;
        }
        hint += lp_entry_size(c->argvlen[i]);
    }
    w->o = ember__hash_new(&c->st->mem, c->argv[1], c->argvlen[1], hint);
    if (!w->o) {
        em_err_oom(c);
        return 0;
    }
    w->created = 1;
    return 1;
}

/* Runs the prewrite hook once, before the first change to an existing hash. */
static void hw_touch(em_ctx *c, hwrite *w)
{
    if (!w->created && !w->touched) {
        ember__ks_prewrite(c->st, c->ks, w->o);
        w->touched = 1;
    }
}

/* Ends a write of `changes` changes: a new hash joins the keyspace (or is
 * dropped if it stayed empty). */
static void hw_close(em_ctx *c, hwrite *w, long long changes)
{
    if (w->created) {
        if (ember__hash_len(w->o) == 0) {
            ember__obj_free(&c->st->mem, w->o);
            return;
        }
        ember__hash_shrink_to_fit(&c->st->mem, w->o);
        ember__ks_add(c->st, c->ks, w->o); /* counts one change */
        changes--;
    }
    if (changes > 0)
        c->st->dirty += (uint64_t)changes;
}

/* Sets argv[fi] to the value (v, vlen) in an open write. 1 new, 0 updated,
 * -1 after replying OOM (the write is closed). */
static int hw_set(em_ctx *c, hwrite *w, size_t fi, const void *v, size_t vlen, long long done)
{
    hw_touch(c, w);
    int r = ember__hash_set(&c->st->mem, w->o, c->argv[fi], c->argvlen[fi], v, vlen, &w->cfg);
    if (r < 0) {
        hw_close(c, w, done);
        em_err_oom(c);
    }
    return r;
}

/* Looks up argv[1] for reading. 0 after replying WRONGTYPE; *o NULL if missing. */
static int lookup_read(em_ctx *c, em_obj **o)
{
    return ember__coll_lookup(c, 1, EM_T_HASH, 0, o, NULL);
}

/* ------------------------------------------------------------ set family */

/* HSET key field value [field value ...]  (HMSET: replies OK) */
static void hset_generic(em_ctx *c, int hmset)
{
    if (c->argc % 2 == 1) {
        em_err_arity(c);
        return;
    }
    hwrite w;
    if (!hw_open(c, &w, 2))
        return;
    if (ember__obj_enc(w.o) == EM_ENC_LISTPACK) {
        hw_touch(c, &w);
        if (ember__hash_try_convert(&c->st->mem, w.o, c->argvlen + 2, c->argc - 2, &w.cfg) < 0) {
            hw_close(c, &w, 0);
            em_err_oom(c);
            return;
        }
    }
    long long added = 0, done = 0;
    for (size_t i = 2; i < c->argc; i += 2) {
        int r = hw_set(c, &w, i, c->argv[i + 1], c->argvlen[i + 1], done);
        if (r < 0)
            return;
        added += r;
        done++;
    }
    hw_close(c, &w, done);
    em_notify(c, EM_EV_HSET, 1, w.o);
    if (hmset)
        em_add_ok(c);
    else
        em_add_int(c, added);
}

static void cmd_hset(em_ctx *c)
{
    hset_generic(c, 0);
}

/* HMSET key field value [field value ...] */
static void cmd_hmset(em_ctx *c)
{
    hset_generic(c, 1);
}

/* HSETNX key field value */
static void cmd_hsetnx(em_ctx *c)
{
    hwrite w;
    if (!hw_open(c, &w, 2))
        return;
    if (!w.created && ember__hash_get(w.o, c->argv[2], c->argvlen[2], NULL)) {
        em_add_int(c, 0);
        return;
    }
    /* Only a field that is really added can convert (as Redis 7.0). */
    hw_touch(c, &w);
    if (ember__hash_try_convert(&c->st->mem, w.o, c->argvlen + 2, 2, &w.cfg) < 0) {
        hw_close(c, &w, 0);
        em_err_oom(c);
        return;
    }
    if (hw_set(c, &w, 2, c->argv[3], c->argvlen[3], 0) < 0)
        return;
    hw_close(c, &w, 1);
    em_notify(c, EM_EV_HSET, 1, w.o);
    em_add_int(c, 1);
}

/* HINCRBY key field increment */
static void cmd_hincrby(em_ctx *c)
{
    long long incr, value = 0;
    if (!em_arg_ll(c, 3, &incr))
        return;
    hwrite w;
    if (!hw_open(c, &w, 2))
        return;
    em_hval v;
    if (!w.created && ember__hash_get(w.o, c->argv[2], c->argvlen[2], &v) &&
        !ember__str_to_ll(v.ptr, v.len, &value)) {
        add_error_code(c, EMBER_ENOTINT, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
        (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        em_err_overflow(c);
        hw_close(c, &w, 0);
        return;
    }
    value += incr;
    char buf[EM_LLSTR_SIZE];
    size_t n = ember__ll_to_str(buf, value);
    if (hw_set(c, &w, 2, buf, n, 0) < 0)
        return;
    hw_close(c, &w, 1);
    em_notify(c, EM_EV_HINCRBY, 1, w.o);
    em_add_int(c, value);
}

/* HINCRBYFLOAT key field increment */
static void cmd_hincrbyfloat(em_ctx *c)
{
    long double incr, value = 0;
    if (!ember__str_to_ld(c->argv[3], c->argvlen[3], &incr)) {
        em_err_notfloat(c);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        add_error_code(c, EMBER_ENOTFLOAT, "ERR value is NaN or Infinity");
        return;
    }
    hwrite w;
    if (!hw_open(c, &w, 2))
        return;
    em_hval v;
    if (!w.created && ember__hash_get(w.o, c->argv[2], c->argvlen[2], &v) &&
        !ember__str_to_ld(v.ptr, v.len, &value)) {
        add_error_code(c, EMBER_ENOTFLOAT, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        em_add_error(c, "ERR increment would produce NaN or Infinity");
        hw_close(c, &w, 0);
        return;
    }
    char buf[EM_MAX_LD_CHARS];
    size_t n = ember__ld_to_str_human(buf, sizeof buf, value);
    if (hw_set(c, &w, 2, buf, n, 0) < 0)
        return;
    hw_close(c, &w, 1);
    em_notify(c, EM_EV_HINCRBYFLOAT, 1, w.o);
    em_add_bulk(c, buf, n);
    /* The result, not the increment: float rounding is not replayed. */
    const char *a[4] = {"HSET", c->argv[1], c->argv[2], buf};
    size_t l[4] = {4, c->argvlen[1], c->argvlen[2], n};
    em_log_replace(c, 4, a, l);
}

/* HDEL key field [field ...] */
static void cmd_hdel(em_ctx *c)
{
    em_dpos pos;
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_HASH, 1, &o, &pos))
        return;
    long long deleted = 0;
    for (size_t i = 2; o && i < c->argc; i++) {
        if (!ember__hash_get(o, c->argv[i], c->argvlen[i], NULL))
            continue;
        if (deleted++ == 0)
            ember__ks_prewrite(c->st, c->ks, o);
        ember__hash_delete(&c->st->mem, o, c->argv[i], c->argvlen[i]);
        if (ember__hash_len(o) == 0) { /* the last field takes the key with it */
            em_notify(c, EM_EV_HDEL, 1, o);
            em_notify(c, EM_EV_DEL, 1, o);
            ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
            o = NULL;
            break;
        }
    }
    if (o && deleted)
        em_notify(c, EM_EV_HDEL, 1, o);
    c->st->dirty += (uint64_t)deleted;
    em_add_int(c, deleted);
}

/* ------------------------------------------------------------ reads */

/* HGET key field */
static void cmd_hget(em_ctx *c)
{
    em_obj *o;
    em_hval v;
    if (!lookup_read(c, &o))
        return;
    if (o && ember__hash_get(o, c->argv[2], c->argvlen[2], &v))
        add_hval(c, &v);
    else
        em_add_nil(c);
}

/* HMGET key field [field ...] */
static void cmd_hmget(em_ctx *c)
{
    em_obj *o;
    if (!lookup_read(c, &o))
        return;
    em_add_array(c, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        em_hval v;
        if (o && ember__hash_get(o, c->argv[i], c->argvlen[i], &v))
            add_hval(c, &v);
        else
            em_add_nil(c);
    }
}

/* HLEN key */
static void cmd_hlen(em_ctx *c)
{
    em_obj *o;
    if (lookup_read(c, &o))
        em_add_int(c, o ? (int64_t)ember__hash_len(o) : 0);
}

/* HSTRLEN key field */
static void cmd_hstrlen(em_ctx *c)
{
    em_obj *o;
    em_hval v;
    if (!lookup_read(c, &o))
        return;
    em_add_int(c, o && ember__hash_get(o, c->argv[2], c->argvlen[2], &v) ? (int64_t)v.len : 0);
}

/* HEXISTS key field */
static void cmd_hexists(em_ctx *c)
{
    em_obj *o;
    if (lookup_read(c, &o))
        em_add_int(c, o && ember__hash_get(o, c->argv[2], c->argvlen[2], NULL));
}

enum { WANT_FIELDS = 1, WANT_VALUES = 2 };

/* HGETALL / HKEYS / HVALS: every field and/or value. */
static void getall_generic(em_ctx *c, int what)
{
    em_obj *o;
    if (!lookup_read(c, &o))
        return;
    size_t n = o ? ember__hash_len(o) : 0;
    if (what == (WANT_FIELDS | WANT_VALUES))
        em_add_map(c, n);
    else
        em_add_array(c, n);
    if (!o)
        return;
    em_hash_iter it;
    em_hval f, v;
    ember__hash_iter_init(&it, o);
    while (ember__hash_iter_next(&it, &f, &v)) {
        if (what & WANT_FIELDS)
            add_hval(c, &f);
        if (what & WANT_VALUES)
            add_hval(c, &v);
    }
}

/* HGETALL key */
static void cmd_hgetall(em_ctx *c)
{
    getall_generic(c, WANT_FIELDS | WANT_VALUES);
}

/* HKEYS key */
static void cmd_hkeys(em_ctx *c)
{
    getall_generic(c, WANT_FIELDS);
}

/* HVALS key */
static void cmd_hvals(em_ctx *c)
{
    getall_generic(c, WANT_VALUES);
}

/* ------------------------------------------------------------ HRANDFIELD */

/* The hash's pairs by position: field elements of a listpack or entries of
 * a table (scratch memory of one command). */
typedef struct pairvec {
    void **v;
    size_t n;
    int enc;
    uint8_t *lp;
} pairvec;

static int pairvec_fill(em_obj *o, pairvec *pv)
{
    size_t n = ember__hash_len(o);
    pv->enc = ember__obj_enc(o);
    pv->n = 0;
    pv->v = malloc((n ? n : 1) * sizeof *pv->v);
    if (!pv->v)
        return 0;
    if (pv->enc == EM_ENC_LISTPACK) {
        pv->lp = ember__obj_body(o);
        for (uint8_t *p = ember__lp_first(pv->lp); p; p = ember__lp_next(pv->lp, p)) {
            pv->v[pv->n++] = p;
            p = ember__lp_next(pv->lp, p);
        }
    } else {
        em_dict *d = ember__hash_dict(o);
        for (int t = 0; t < 2; t++)
            for (size_t b = 0; b < d->size[t]; b++)
                for (em_obj *e = d->t[t][b]; e; e = e->next)
                    pv->v[pv->n++] = e;
    }
    return 1;
}

/* Replies with pair i of pv: the field, or [field, value]. */
static void add_pair(em_ctx *c, const pairvec *pv, void *item, int withvalues)
{
    em_hval f, v;
    if (pv->enc == EM_ENC_LISTPACK) {
        uint8_t *p = item;
        int64_t iv;
        uint32_t len;
        f.ptr = (const char *)ember__lp_get(p, &iv, &len, (uint8_t *)f.buf);
        f.len = len;
        if (withvalues) {
            uint8_t *vp = ember__lp_next(pv->lp, p);
            v.ptr = (const char *)ember__lp_get(vp, &iv, &len, (uint8_t *)v.buf);
            v.len = len;
        }
    } else {
        ember__hash_entry(item, &f, withvalues ? &v : NULL);
    }
    if (withvalues)
        em_add_array(c, 2);
    add_hval(c, &f);
    if (withvalues)
        add_hval(c, &v);
}

/* HRANDFIELD key count [WITHVALUES], count already in range. */
static void hrandfield_count(em_ctx *c, long long l, int withvalues)
{
    em_obj *o;
    if (!lookup_read(c, &o))
        return;
    unsigned long long count = l >= 0 ? (unsigned long long)l : (unsigned long long)(-l);
    if (!o || count == 0) {
        em_add_array(c, 0);
        return;
    }
    uint64_t *rng = &c->st->rng;
    size_t size = ember__hash_len(o);
    pairvec pv = {0};
    if (l < 0 || count == 1) {
        /* Repeats allowed: independent uniform picks, in random order. */
        if (count > (unsigned long long)HRAND_MAX_REPEATS) {
            add_error_code(c, EMBER_ERANGE, "ERR value is out of range");
            return;
        }
        if (ember__obj_enc(o) == EM_ENC_LISTPACK && !pairvec_fill(o, &pv)) {
            em_err_oom(c);
            return;
        }
        em_add_array(c, count);
        for (unsigned long long i = 0; i < count; i++) {
            if (pv.v) {
                add_pair(c, &pv, pv.v[ember__rand64(rng) % pv.n], withvalues);
            } else {
                pv.enc = EM_ENC_HT;
                add_pair(c, &pv, ember__dict_random(ember__hash_dict(o), rng), withvalues);
            }
        }
        free(pv.v);
        return;
    }
    if (count >= size) { /* the whole hash, in storage order */
        if (!pairvec_fill(o, &pv)) {
            em_err_oom(c);
            return;
        }
        em_add_array(c, pv.n);
        for (size_t i = 0; i < pv.n; i++)
            add_pair(c, &pv, pv.v[i], withvalues);
        free(pv.v);
        return;
    }
    if (ember__obj_enc(o) == EM_ENC_LISTPACK || count * 3 > size) {
        /* Selection sampling (Knuth's algorithm S): each pair is taken with
         * probability needed / remaining, which picks a uniform subset of
         * exactly `count` pairs in storage order (as Redis's listpack case). */
        if (!pairvec_fill(o, &pv)) {
            em_err_oom(c);
            return;
        }
        em_add_array(c, count);
        size_t need = (size_t)count;
        for (size_t i = 0; i < pv.n && need; i++) {
            if (ember__rand64(rng) % (pv.n - i) < need) {
                add_pair(c, &pv, pv.v[i], withvalues);
                need--;
            }
        }
        free(pv.v);
        return;
    }
    /* A few fields of a big table: random picks until `count` distinct ones
     * (count <= size / 3, so each pick is new with probability >= 2/3). */
    em_ptrset seen;
    if (ember__ptrset_init(&seen, (size_t)count) < 0) {
        em_err_oom(c);
        return;
    }
    pv.enc = EM_ENC_HT;
    em_add_array(c, count);
    for (unsigned long long got = 0; got < count;) {
        em_obj *e = ember__dict_random(ember__hash_dict(o), rng);
        if (ember__ptrset_add(&seen, e)) {
            add_pair(c, &pv, e, withvalues);
            got++;
        }
    }
    ember__ptrset_free(&seen);
}

/* HRANDFIELD key [count [WITHVALUES]] */
static void cmd_hrandfield(em_ctx *c)
{
    if (c->argc >= 3) {
        long long l;
        if (!em_arg_ll(c, 2, &l))
            return;
        if (l < -LLONG_MAX) {
            add_error_code(c, EMBER_ERANGE,
                           "ERR value is out of range, value must between -9223372036854775807 "
                           "and 9223372036854775807");
            return;
        }
        if (c->argc > 4 || (c->argc == 4 && !em_arg_is(c, 3, "withvalues"))) {
            em_err_syntax(c);
            return;
        }
        int withvalues = c->argc == 4;
        /* Redis 7.0 bounds the count with values so 2 x count cannot overflow. */
        if (withvalues && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            add_error_code(c, EMBER_ERANGE, "ERR value is out of range");
            return;
        }
        hrandfield_count(c, l, withvalues);
        return;
    }
    em_obj *o;
    if (!lookup_read(c, &o))
        return;
    if (!o) {
        em_add_nil(c);
        return;
    }
    pairvec pv = {0};
    pv.enc = ember__obj_enc(o);
    uint64_t *rng = &c->st->rng;
    if (pv.enc == EM_ENC_LISTPACK) {
        pv.lp = ember__obj_body(o);
        uint64_t i = ember__rand64(rng) % ember__hash_len(o);
        add_pair(c, &pv, ember__lp_seek(pv.lp, (int64_t)(2 * i)), 0);
    } else {
        add_pair(c, &pv, ember__dict_random(ember__hash_dict(o), rng), 0);
    }
}

/* ------------------------------------------------------------ HSCAN */

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
static void cmd_hscan(em_ctx *c)
{
    uint64_t cursor;
    em_obj *o;
    em_scan_opts opts;
    if (!ember__scan_cursor(c, 2, &cursor) || !lookup_read(c, &o))
        return;
    if (!o) {
        ember__scan_reply_cursor(c, 0);
        em_add_array(c, 0);
        return;
    }
    if (!ember__scan_opts(c, 3, 0, &opts))
        return;
    em_hval f, v;
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        /* A listpack is small: all of it in one call, cursor 0 (as Redis). */
        size_t n = 0;
        em_hash_iter it;
        ember__hash_iter_init(&it, o);
        while (ember__hash_iter_next(&it, &f, NULL))
            n += ember__scan_match(&opts, f.ptr, f.len);
        ember__scan_reply_cursor(c, 0);
        em_add_array(c, 2 * n);
        ember__hash_iter_init(&it, o);
        while (ember__hash_iter_next(&it, &f, &v)) {
            if (ember__scan_match(&opts, f.ptr, f.len)) {
                add_hval(c, &f);
                add_hval(c, &v);
            }
        }
        return;
    }
    em_objvec vec = {0};
    ember__scan_collect(ember__hash_dict(o), &cursor, opts.count, &vec);
    if (vec.oom) {
        ember__objvec_free(&vec);
        em_err_oom(c);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < vec.n; i++) {
        ember__hash_entry(vec.v[i], &f, NULL);
        if (ember__scan_match(&opts, f.ptr, f.len))
            vec.v[n++] = vec.v[i];
    }
    ember__scan_reply_cursor(c, cursor);
    em_add_array(c, 2 * n);
    for (size_t i = 0; i < n; i++) {
        ember__hash_entry(vec.v[i], &f, &v);
        add_hval(c, &f);
        add_hval(c, &v);
    }
    ember__objvec_free(&vec);
}

/* ------------------------------------------------------------ table */

#define W EM_CMD_WRITE
#define R EM_CMD_READONLY
#define F EM_CMD_FAST
#define M EM_CMD_DENYOOM

const em_cmd ember__hash_cmds[] = {
    {"hset", cmd_hset, -4, W | M | F, 1, 1, 1, NULL},
    {"hsetnx", cmd_hsetnx, 4, W | M | F, 1, 1, 1, NULL},
    {"hget", cmd_hget, 3, R | F, 1, 1, 1, NULL},
    {"hmget", cmd_hmget, -3, R | F, 1, 1, 1, NULL},
    {"hmset", cmd_hmset, -4, W | M | F, 1, 1, 1, NULL},
    {"hdel", cmd_hdel, -3, W | F, 1, 1, 1, NULL},
    {"hlen", cmd_hlen, 2, R | F, 1, 1, 1, NULL},
    {"hstrlen", cmd_hstrlen, 3, R | F, 1, 1, 1, NULL},
    {"hexists", cmd_hexists, 3, R | F, 1, 1, 1, NULL},
    {"hgetall", cmd_hgetall, 2, R, 1, 1, 1, NULL},
    {"hkeys", cmd_hkeys, 2, R, 1, 1, 1, NULL},
    {"hvals", cmd_hvals, 2, R, 1, 1, 1, NULL},
    {"hincrby", cmd_hincrby, 4, W | M | F, 1, 1, 1, NULL},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, W | M | F, 1, 1, 1, NULL},
    {"hrandfield", cmd_hrandfield, -2, R | EM_CMD_RANDOM, 1, 1, 1, NULL},
    {"hscan", cmd_hscan, -3, R, 1, 1, 1, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
