/*
 * rdb_load.c — the RDB loader: an untrusted byte stream (RDB versions 1 to
 * 10, as any Redis up to 7.0 writes them) into a fresh store.
 *
 * Trust: every byte may be wrong. Lengths are checked against the format's
 * limits and the configured caps before anything is allocated, and a big
 * string's buffer grows only as its bytes actually arrive, so a forged length
 * of 2^62 costs nothing but the error. Compact encodings embedded in the file
 * (listpacks, ziplists, intsets) are validated in full and then re-read
 * element by element into values built with the store's own types: nothing
 * from the file is adopted as is, so a value always has the encoding the
 * configured thresholds choose and satisfies its type's invariants (sorted
 * sets ordered, no duplicate members).
 *
 * What Redis 7.0 does, ember does: a duplicate key or member is corruption;
 * an empty collection is skipped (Redis logs "empty key" and goes on), and so
 * is a key already expired at now_ms; quicklist nodes holding no element are
 * skipped. Zipmaps (Redis < 2.6 hashes) load too. Streams, modules, module AUX
 * data and functions are refused with a message that says so. After the CRC
 * the stream must end, unlike Redis, which ignores what follows: a snapshot is
 * one RDB, and bytes after it mean a damaged or mixed-up file
 * (ember__rdb_load_ex allows a tail, for an append log's preamble).
 *
 * The reader keeps a 64 KB window on the source; the CRC-64 is folded in as
 * the window slides, so every byte is read once and summed once.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../types/coll.h"
#include "../types/hash_type.h"
#include "../types/intset.h"
#include "../types/listpack.h"
#include "../types/quicklist.h"
#include "../types/zset.h"
#include "crc64.h"
#include "lzf.h"
#include "rdb.h"

#define RD_WINDOW (64 * 1024)
/* Strings are read in steps of this size, so memory follows the input. */
#define RD_STEP (1024 * 1024)
/* Largest key or value string without a configured limit. */
#define RD_DEFAULT_CAP (512ull * 1024 * 1024)
#define RESIZE_HINT_MAX ((uint64_t)1 << 20) /* keys a RESIZEDB hint may presize for */

/* ------------------------------------------------------------ the reader */

typedef struct rd {
    em_rdb_src *src;
    uint8_t *w;      /* the window */
    size_t pos, len; /* next byte, end of valid bytes */
    uint64_t base;   /* stream offset of w[0] */
    uint64_t crc;    /* CRC of the stream's bytes before w[crc_pos] */
    size_t crc_pos;  /* bytes of w already summed */
    int at_end;      /* the source said end of input */
    em_rdb_err *err;
    int failed;
} rd;

static uint64_t rd_off(const rd *r)
{
    return r->base + r->pos;
}

static int fail(rd *r, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(rd *r, uint64_t off, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = 1;
    r->err->offset = off;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < sizeof r->err->msg)
        snprintf(r->err->msg + used, sizeof r->err->msg - used, " (offset %llu)",
                 (unsigned long long)off);
    return -1;
}

static int oom(rd *r)
{
    return fail(r, rd_off(r), "out of memory");
}

/* Makes at least `need` (<= RD_WINDOW) bytes available at w[pos]. */
static int rd_fill(rd *r, size_t need)
{
    if (r->len - r->pos >= need)
        return 0;
    if (r->pos > 0) {
        r->crc = ember__crc64(r->crc, r->w + r->crc_pos, r->pos - r->crc_pos);
        memmove(r->w, r->w + r->pos, r->len - r->pos);
        r->base += r->pos;
        r->len -= r->pos;
        r->pos = 0;
        r->crc_pos = 0;
    }
    while (r->len < need && !r->at_end) {
        int64_t n = r->src->read(r->src->ctx, r->w + r->len, RD_WINDOW - r->len);
        if (n < 0)
            return fail(r, r->base + r->len, "read error (%lld)", (long long)n);
        if (n == 0)
            r->at_end = 1;
        else
            r->len += (size_t)n;
    }
    if (r->len < need)
        return fail(r, r->base + r->len, "unexpected end of input");
    return 0;
}

static int rd_bytes(rd *r, void *dst, size_t n)
{
    uint8_t *d = dst;
    while (n > 0) {
        size_t step = n < RD_WINDOW ? n : RD_WINDOW;
        if (rd_fill(r, step))
            return -1;
        memcpy(d, r->w + r->pos, step);
        r->pos += step;
        d += step;
        n -= step;
    }
    return 0;
}

static int rd_u8(rd *r, unsigned *v)
{
    if (rd_fill(r, 1))
        return -1;
    *v = r->w[r->pos++];
    return 0;
}

static int rd_le(rd *r, int n, uint64_t *v)
{
    if (rd_fill(r, (size_t)n))
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x |= (uint64_t)r->w[r->pos + (size_t)i] << (8 * i);
    r->pos += (size_t)n;
    *v = x;
    return 0;
}

/* 1 if the source has bytes beyond those consumed, 0 at its end, -1 on a
 * read error. */
static int rd_more(rd *r)
{
    while (r->len == r->pos && !r->at_end) {
        r->crc = ember__crc64(r->crc, r->w + r->crc_pos, r->pos - r->crc_pos);
        r->base += r->pos;
        r->len = r->pos = r->crc_pos = 0;
        int64_t n = r->src->read(r->src->ctx, r->w, RD_WINDOW);
        if (n < 0)
            return fail(r, r->base, "read error (%lld)", (long long)n);
        if (n == 0)
            r->at_end = 1;
        else
            r->len = (size_t)n;
    }
    return r->len > r->pos;
}

/* The CRC of every byte consumed so far. */
static uint64_t rd_crc_now(rd *r)
{
    r->crc = ember__crc64(r->crc, r->w + r->crc_pos, r->pos - r->crc_pos);
    r->crc_pos = r->pos;
    return r->crc;
}

/* A length, or (*enc set) a special string encoding's number. */
static int rd_len_enc(rd *r, uint64_t *v, int *enc)
{
    uint64_t off = rd_off(r);
    unsigned b;
    if (rd_u8(r, &b))
        return -1;
    *enc = 0;
    switch (b >> 6) {
    case EM_RDB_6BITLEN:
        *v = b & 0x3F;
        return 0;
    case EM_RDB_14BITLEN: {
        unsigned c;
        if (rd_u8(r, &c))
            return -1;
        *v = ((uint64_t)(b & 0x3F) << 8) | c;
        return 0;
    }
    case EM_RDB_ENCVAL:
        *enc = 1;
        *v = b & 0x3F;
        return 0;
    default:
        break;
    }
    int n = b == EM_RDB_32BITLEN ? 4 : b == EM_RDB_64BITLEN ? 8 : 0;
    if (!n)
        return fail(r, off, "bad length encoding 0x%02x", b);
    if (rd_fill(r, (size_t)n))
        return -1;
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = (x << 8) | r->w[r->pos + (size_t)i];
    r->pos += (size_t)n;
    *v = x;
    return 0;
}

static int rd_len(rd *r, uint64_t *v)
{
    uint64_t off = rd_off(r);
    int enc;
    if (rd_len_enc(r, v, &enc))
        return -1;
    if (enc)
        return fail(r, off, "string encoding where a length was expected");
    return 0;
}

/* ------------------------------------------------------------ strings */

/* A growable scratch string (plain malloc: not the store's memory). */
typedef struct rstr {
    uint8_t *p;
    size_t len, cap;
} rstr;

static int rs_reserve(rstr *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n)
        cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    uint8_t *p = realloc(s->p, cap);
    if (!p)
        return -1;
    s->p = p;
    s->cap = cap;
    return 0;
}

static void rs_free(rstr *s)
{
    free(s->p);
    memset(s, 0, sizeof *s);
}

typedef struct ld {
    rd r;
    em_store *st;
    em_mem *m;
    const em_settings *cfg;
    uint64_t cap; /* largest string */
    int version;
    rstr key, a, b, blob; /* scratch: key, two elements, compressed data */
} ld;

/* Reads n raw bytes into s, growing it as the bytes arrive. */
static int rd_raw_into(ld *l, rstr *s, uint64_t n)
{
    s->len = 0;
    if (rs_reserve(s, 1)) /* never a NULL pointer, even for "" */
        return oom(&l->r);
    while (s->len < n) {
        size_t step = n - s->len < RD_STEP ? (size_t)(n - s->len) : RD_STEP;
        if (rs_reserve(s, s->len + step))
            return oom(&l->r);
        if (rd_bytes(&l->r, s->p + s->len, step))
            return -1;
        s->len += step;
    }
    return 0;
}

/* Reads an RDB string (raw, integer-encoded or LZF) into s. Integers become
 * their decimal text, as Redis loads them. */
static int rd_string(ld *l, rstr *s)
{
    rd *r = &l->r;
    uint64_t off = rd_off(r), v;
    int enc;
    if (rd_len_enc(r, &v, &enc))
        return -1;
    if (!enc) {
        if (v > l->cap)
            return fail(r, off, "string of %llu bytes exceeds the limit of %llu",
                        (unsigned long long)v, (unsigned long long)l->cap);
        return rd_raw_into(l, s, v);
    }
    if (v <= EM_RDB_ENC_INT32) {
        static const int width[] = {1, 2, 4};
        uint64_t u;
        if (rd_le(r, width[v], &u))
            return -1;
        int64_t x = v == EM_RDB_ENC_INT8    ? (int8_t)u
                    : v == EM_RDB_ENC_INT16 ? (int16_t)u
                                            : (int32_t)u;
        if (rs_reserve(s, EM_LLSTR_SIZE))
            return oom(r);
        s->len = ember__ll_to_str((char *)s->p, x);
        return 0;
    }
    if (v != EM_RDB_ENC_LZF)
        return fail(r, off, "unknown string encoding %llu", (unsigned long long)v);
    uint64_t clen, ulen;
    if (rd_len(r, &clen) || rd_len(r, &ulen))
        return -1;
    if (clen > l->cap || ulen > l->cap)
        return fail(r, off, "LZF string of %llu bytes exceeds the limit of %llu",
                    (unsigned long long)(clen > ulen ? clen : ulen), (unsigned long long)l->cap);
    if (ulen / EM_LZF_MAX_RATIO > clen)
        return fail(r, off, "LZF string: %llu bytes cannot expand to %llu",
                    (unsigned long long)clen, (unsigned long long)ulen);
    uint64_t data = rd_off(r);
    if (rd_raw_into(l, &l->blob, clen))
        return -1;
    if (rs_reserve(s, ulen ? ulen : 1))
        return oom(r);
    size_t bad;
    if (ember__lzf_decompress(l->blob.p, clen, s->p, ulen, &bad))
        return fail(r, data + bad, "invalid LZF data");
    s->len = ulen;
    return 0;
}

/* A string that must not be the blob scratch itself (blobs use l->b). */
static int rd_blob(ld *l, uint64_t *off)
{
    *off = rd_off(&l->r);
    return rd_string(l, &l->b);
}

/* ------------------------------------------------------------ values */

static void set_enc(em_obj *o, int enc)
{
    o->hdr[0] = (uint8_t)((o->hdr[0] & ~0x38) | (enc << 3));
}

static uint64_t zset_seed(const ld *l)
{
    return l->st->seed ^ 0x7a5e7a5e7a5e7a5eull; /* as t_zset.c seeds member dicts */
}

/* An element handed over by a listpack or ziplist walk. */
typedef struct elem {
    const uint8_t *p;
    size_t len;
    char buf[EM_LLSTR_SIZE];
} elem;

static void elem_int(elem *e, int64_t v)
{
    e->len = ember__ll_to_str(e->buf, v);
    e->p = (const uint8_t *)e->buf;
}

/* Builders: each takes elements one at a time into a value under
 * construction (already an object, so on failure ember__obj_free cleans up
 * whatever it holds). They return 0, or -1 with the error set. */

/* --- lists */

static em_obj *list_new(ld *l)
{
    em_quicklist *ql = ember__ql_new(l->m, l->cfg->list_max_listpack_size);
    if (!ql)
        return NULL;
    em_obj *o = ember__obj_new_body(l->m, l->key.p, l->key.len, EM_T_LIST, EM_ENC_QUICKLIST, ql);
    if (!o)
        ember__ql_free(l->m, ql);
    return o;
}

static int list_add(ld *l, em_obj *o, const void *p, size_t len)
{
    if (ember__ql_push(l->m, ember__obj_body(o), p, len, EM_QL_TAIL))
        return oom(&l->r);
    return 0;
}

static size_t list_len(const em_obj *o)
{
    return (size_t)((const em_quicklist *)ember__obj_body(o))->count;
}

/* Duplicates in a listpack built by appending (every `stride`-th element
 * from the first: hash fields, set members), found by sorting: O(n log n)
 * where a lookup before each append would be O(n^2). 1 if there is one, 0
 * if not, -1 on OOM. */
typedef struct lpref {
    const uint8_t *p;
    size_t len;
} lpref;

static int lpref_cmp(const void *a, const void *b)
{
    const lpref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->p, y->p, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int lp_has_dup(uint8_t *lp, unsigned stride)
{
    size_t n = (ember__lp_length(lp) + stride - 1) / stride;
    if (n < 2)
        return 0;
    lpref *v = malloc(n * sizeof *v);
    uint8_t *ints = malloc(n * EM_LP_INTBUF);
    int rc = -1;
    if (v && ints) {
        size_t i = 0;
        for (uint8_t *p = ember__lp_first(lp); p && i < n; i++) {
            uint32_t len;
            v[i].p = ember__lp_get(p, NULL, &len, ints + i * EM_LP_INTBUF);
            v[i].len = len;
            for (unsigned k = 0; k < stride && p; k++)
                p = ember__lp_next(lp, p);
        }
        qsort(v, i, sizeof *v, lpref_cmp);
        rc = 0;
        for (size_t j = 1; j < i && !rc; j++)
            rc = lpref_cmp(&v[j - 1], &v[j]) == 0;
    }
    free(v);
    free(ints);
    return rc;
}

/* --- sets: intset while every member is an integer and the announced size
 * allows it, then listpack (when set-max-listpack-entries allows), then
 * hashtable, as Redis 7.0 (7.2 for the listpack) loads them. */

typedef struct setb {
    em_obj *o;
    uint64_t hint; /* announced size */
    int dup;       /* set_convert met a member twice */
} setb;

static int set_listpack_ok(const ld *l, uint64_t n, size_t len)
{
    return l->cfg->set_max_listpack_entries > 0 &&
           n <= (uint64_t)l->cfg->set_max_listpack_entries &&
           (int64_t)len <= l->cfg->set_max_listpack_value;
}

static em_obj *set_new(ld *l, uint64_t hint, int all_int)
{
    int enc;
    void *body;
    if (all_int && l->cfg->set_max_intset_entries > 0 &&
        hint <= (uint64_t)l->cfg->set_max_intset_entries) {
        enc = EM_ENC_INTSET;
        body = ember__intset_new(l->m);
    } else if (set_listpack_ok(l, hint, 0)) {
        enc = EM_ENC_LISTPACK;
        body = ember__lp_new(l->m, 0);
    } else {
        enc = EM_ENC_HT;
        body = ember__set_ht_new(l->m, l->st->seed);
    }
    if (!body)
        return NULL;
    em_obj *o = ember__obj_new_body(l->m, l->key.p, l->key.len, EM_T_SET, enc, body);
    if (!o) {
        if (enc == EM_ENC_HT)
            ember__mem_free(l->m, body);
        else if (enc == EM_ENC_INTSET)
            ember__intset_free(l->m, body);
        else
            ember__lp_free(l->m, body);
    }
    return o;
}

/* Moves a set to a bigger encoding: listpack when to_lp, else hashtable. */
static int set_convert(ld *l, em_obj *o, int to_lp, int *dup)
{
    int enc = ember__obj_enc(o);
    void *old = ember__obj_body(o);
    void *body =
        to_lp ? (void *)ember__lp_new(l->m, 0) : (void *)ember__set_ht_new(l->m, l->st->seed);
    if (!body)
        return oom(&l->r);
    int bad = 0;
    if (enc == EM_ENC_INTSET) {
        uint32_t n = ember__intset_len(old);
        for (uint32_t i = 0; i < n && !bad; i++) {
            int64_t v = ember__intset_get(old, i);
            if (to_lp) {
                uint8_t *lp = ember__lp_append_int(l->m, body, v);
                if (lp)
                    body = lp;
                else
                    bad = 1;
            } else {
                char t[EM_LLSTR_SIZE];
                bad = ember__set_ht_add(body, t, ember__ll_to_str(t, v)) < 0;
            }
        }
    } else { /* listpack -> hashtable */
        for (uint8_t *p = ember__lp_first(old); p && !bad; p = ember__lp_next(old, p)) {
            uint8_t t[EM_LP_INTBUF];
            uint32_t len;
            const uint8_t *s = ember__lp_get(p, NULL, &len, t);
            int rc = ember__set_ht_add(body, s, len);
            bad = rc < 0;
            if (rc == 0 && dup)
                *dup = 1;
        }
    }
    int newenc = to_lp ? EM_ENC_LISTPACK : EM_ENC_HT;
    if (bad) {
        /* Put the new body in the object so its free hook releases it, and
         * free the old one here. */
        const em_value_ops *ops = ember__obj_type_ops(EM_T_SET);
        ops->free_body(l->m, body, newenc);
        return oom(&l->r);
    }
    ember__obj_type_ops(EM_T_SET)->free_body(l->m, old, enc);
    set_enc(o, newenc);
    ember__obj_set_body(o, body);
    return 0;
}

/* Adds a member: 0, or -1 (duplicate or OOM, error set). */
static int set_add(ld *l, setb *sb, const void *p, size_t len, uint64_t off)
{
    em_obj *o = sb->o;
    for (;;) {
        int enc = ember__obj_enc(o);
        if (enc == EM_ENC_INTSET) {
            long long v;
            if (len <= EM_INT_MAX_CHARS && ember__str_to_ll(p, len, &v)) {
                int added;
                uint8_t *is = ember__intset_add(l->m, ember__obj_body(o), v, &added);
                if (!is)
                    return oom(&l->r);
                ember__obj_set_body(o, is);
                if (!added)
                    return fail(&l->r, off, "duplicate set member");
                return 0;
            }
            if (set_convert(l, o, set_listpack_ok(l, sb->hint, len), NULL))
                return -1;
            continue;
        }
        if (enc == EM_ENC_LISTPACK) {
            uint8_t *lp = ember__obj_body(o);
            if (!set_listpack_ok(l, ember__lp_length(lp) + 1, len)) {
                if (set_convert(l, o, 0, &sb->dup))
                    return -1;
                if (sb->dup)
                    return fail(&l->r, off, "duplicate set member");
                continue;
            }
            /* Duplicates are found when the value is complete (or converts). */
            lp = ember__lp_append(l->m, lp, p, len);
            if (!lp)
                return oom(&l->r);
            ember__obj_set_body(o, lp);
            return 0;
        }
        int rc = ember__set_ht_add(ember__obj_body(o), p, len);
        if (rc < 0)
            return oom(&l->r);
        if (rc == 0)
            return fail(&l->r, off, "duplicate set member");
        return 0;
    }
}

static size_t set_len(const em_obj *o)
{
    return ember__obj_type_ops(EM_T_SET)->body_items(ember__obj_body(o), ember__obj_enc(o));
}

/* --- hashes: ember__hash_set applies the listpack limits itself. */

static em_obj *hash_new(ld *l, uint64_t hint)
{
    em_obj *o = ember__hash_new(l->m, l->key.p, l->key.len, 0);
    if (o && l->cfg->hash_max_listpack_entries >= 0 &&
        hint > (uint64_t)l->cfg->hash_max_listpack_entries &&
        ember__hash_convert(l->m, o, l->st->seed)) {
        ember__obj_free(l->m, o);
        return NULL;
    }
    return o;
}

static int hash_add(ld *l, em_obj *o, const void *f, size_t flen, const void *v, size_t vlen,
                    uint64_t off)
{
    em_hash_cfg hc = {l->cfg->hash_max_listpack_entries, l->cfg->hash_max_listpack_value,
                      l->st->seed};
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        /* Append while within the limits (duplicates are found when the
         * value is complete); past them, check, convert once, and go on
         * through the table. */
        uint8_t *lp = ember__obj_body(o);
        if ((int64_t)flen <= hc.max_value && (int64_t)vlen <= hc.max_value &&
            (int64_t)ember__lp_length(lp) / 2 < hc.max_entries) {
            uint8_t *n = ember__lp_append(l->m, lp, f, flen);
            if (n) {
                ember__obj_set_body(o, n);
                n = ember__lp_append(l->m, n, v, vlen);
            }
            if (!n)
                return oom(&l->r);
            ember__obj_set_body(o, n);
            return 0;
        }
        int dup = lp_has_dup(lp, 2);
        if (dup < 0 || ember__hash_convert(l->m, o, hc.seed))
            return oom(&l->r);
        if (dup)
            return fail(&l->r, off, "duplicate hash field");
    }
    int rc = ember__hash_set(l->m, o, f, flen, v, vlen, &hc);
    if (rc < 0)
        return oom(&l->r);
    if (rc == 0)
        return fail(&l->r, off, "duplicate hash field");
    return 0;
}

/* --- sorted sets. While a sorted set may still become a listpack (within
 * zset-max-listpack-entries and -value) its pairs are buffered; at the end
 * they are checked for duplicates and sorted by (score, member) in
 * O(n log n), and the listpack is written in order. Past either limit the
 * buffer moves into a skiplist (duplicates found by its dict), as Redis 7.0
 * loads them: the encoding is the same either way. */

typedef struct zpair {
    size_t off; /* of the member in the arena (pointers once it is final) */
    const uint8_t *p;
    size_t len;
    double score;
} zpair;

typedef struct zsetb {
    em_zset *zs; /* NULL while buffering */
    zpair *v;
    size_t n, cap;
    uint8_t *arena;
    size_t alen, acap;
} zsetb;

static void zset_begin(zsetb *zb)
{
    memset(zb, 0, sizeof *zb);
}

static int zset_fits_listpack(const ld *l, size_t n, size_t len)
{
    return l->cfg->zset_max_listpack_entries > 0 &&
           n <= (uint64_t)l->cfg->zset_max_listpack_entries &&
           (int64_t)len <= l->cfg->zset_max_listpack_value;
}

static int zset_sl_add(ld *l, em_zset *zs, const void *p, size_t len, double score, uint64_t off)
{
    em_dpos pos;
    em_dict *d = &zs->dict;
    if (ember__dict_find(d, p, len, ember__dict_hash(d, p, len), &pos))
        return fail(&l->r, off, "duplicate sorted set member");
    if (ember__zset_sl_add(l->m, zs, p, len, score))
        return oom(&l->r);
    return 0;
}

/* Moves the buffered pairs into a skiplist. */
static int zset_to_skiplist(ld *l, zsetb *zb, uint64_t off)
{
    zb->zs = ember__zset_new(l->m, zset_seed(l));
    if (!zb->zs)
        return oom(&l->r);
    for (size_t i = 0; i < zb->n; i++)
        if (zset_sl_add(l, zb->zs, zb->arena + zb->v[i].off, zb->v[i].len, zb->v[i].score, off))
            return -1;
    zb->n = 0;
    return 0;
}

static int zset_add(ld *l, zsetb *zb, const void *p, size_t len, double score, uint64_t off)
{
    if (isnan(score))
        return fail(&l->r, off, "sorted set score is NaN");
    if (!zb->zs && !zset_fits_listpack(l, zb->n + 1, len) && zset_to_skiplist(l, zb, off))
        return -1;
    if (zb->zs)
        return zset_sl_add(l, zb->zs, p, len, score, off);
    if (zb->n == zb->cap) {
        size_t cap = zb->cap ? zb->cap * 2 : 16;
        zpair *v = realloc(zb->v, cap * sizeof *v);
        if (!v)
            return oom(&l->r);
        zb->v = v;
        zb->cap = cap;
    }
    if (zb->acap - zb->alen < len || !zb->arena) {
        size_t cap = zb->acap ? zb->acap : 256;
        while (cap - zb->alen < len)
            cap *= 2;
        uint8_t *a = realloc(zb->arena, cap);
        if (!a)
            return oom(&l->r);
        zb->arena = a;
        zb->acap = cap;
    }
    if (len)
        memcpy(zb->arena + zb->alen, p, len);
    zb->v[zb->n++] = (zpair){zb->alen, NULL, len, score};
    zb->alen += len;
    return 0;
}

static int zpair_by_member(const void *a, const void *b)
{
    const zpair *x = a, *y = b;
    return ember__zset_cmp((const char *)x->p, x->len, (const char *)y->p, y->len);
}

static int zpair_by_rank(const void *a, const void *b)
{
    const zpair *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return zpair_by_member(a, b);
}

static void zset_abort(ld *l, zsetb *zb)
{
    if (zb->zs)
        ember__zset_free_body(l->m, zb->zs, EM_ENC_SKIPLIST);
    free(zb->v);
    free(zb->arena);
    memset(zb, 0, sizeof *zb);
}

/* The finished value (empty sets give NULL with *empty). Frees zb. */
static em_obj *zset_finish(ld *l, zsetb *zb, int *empty, uint64_t off)
{
    int enc = zb->zs ? EM_ENC_SKIPLIST : EM_ENC_LISTPACK;
    void *body = zb->zs;
    if (!zb->zs) {
        if (zb->n == 0) {
            zset_abort(l, zb);
            *empty = 1;
            return NULL;
        }
        for (size_t i = 0; i < zb->n; i++)
            zb->v[i].p = zb->arena + zb->v[i].off;
        qsort(zb->v, zb->n, sizeof *zb->v, zpair_by_member);
        for (size_t i = 1; i < zb->n; i++)
            if (zpair_by_member(&zb->v[i - 1], &zb->v[i]) == 0) {
                zset_abort(l, zb);
                fail(&l->r, off, "duplicate sorted set member");
                return NULL;
            }
        qsort(zb->v, zb->n, sizeof *zb->v, zpair_by_rank);
        uint8_t *lp = ember__lp_new(l->m, zb->alen + zb->n * 12 + EM_LP_HDR + 1);
        for (size_t i = 0; i < zb->n && lp; i++) {
            uint8_t *n = ember__lp_append(l->m, lp, zb->v[i].p, zb->v[i].len);
            if (n)
                n = ember__zlp_insert_score(l->m, n, zb->v[i].score, NULL, EM_LP_AFTER, NULL);
            if (!n)
                ember__lp_free(l->m, lp);
            lp = n;
        }
        if (!lp) {
            zset_abort(l, zb);
            oom(&l->r);
            return NULL;
        }
        size_t bytes = ember__lp_bytes(lp);
        if (ember__mem_usable(l->m, lp) >= bytes + 16) {
            uint8_t *q = ember__mem_realloc(l->m, lp, bytes);
            if (q)
                lp = q;
        }
        body = lp;
    }
    zb->zs = NULL;
    zset_abort(l, zb);
    em_obj *o = ember__obj_new_body(l->m, l->key.p, l->key.len, EM_T_ZSET, enc, body);
    if (!o) {
        ember__zset_free_body(l->m, body, enc);
        oom(&l->r);
    }
    return o;
}

/* Parses a score stored as text (listpacks, ziplists, type 3). */
static int parse_score(ld *l, const uint8_t *p, size_t len, double *d, uint64_t off)
{
    char t[128];
    if (len == 0 || len >= sizeof t)
        return fail(&l->r, off, "bad sorted set score");
    memcpy(t, p, len);
    t[len] = 0;
    char *end;
    *d = strtod(t, &end);
    if (end != t + len || isnan(*d))
        return fail(&l->r, off, "bad sorted set score");
    return 0;
}

/* ------------------------------------------------------------ ziplists */

/*
 * Ziplist (RDB types 10, 12, 13 and the nodes of type 14), as Redis < 7.0
 * wrote them:
 *   u32 LE zlbytes | u32 LE zltail (offset of the last entry) | u16 LE zllen
 *   (65535: count by walking) | entries | 0xFF
 * Entry: prevlen (1 byte < 254, or 0xFE + u32 LE) = the previous entry's
 * size; then the encoding:
 *   00llllll               string, 6-bit length
 *   01llllll llllllll      string, 14-bit length (big endian)
 *   10000000 + u32 BE      string, 32-bit length
 *   0xC0 int16 | 0xD0 int32 | 0xE0 int64 | 0xF0 int24 | 0xFE int8 (LE)
 *   0xF1..0xFD             the integer (byte & 15) - 1, i.e. 0..12
 * The walk checks every field against the buffer and the header, and hands
 * each element to fn.
 */
typedef int (*elem_fn)(ld *l, void *ud, elem *e);

#define ZL_HDR 10

static int ziplist_walk(ld *l, const uint8_t *z, size_t size, uint64_t off, elem_fn fn, void *ud,
                        size_t *count)
{
    if (size < ZL_HDR + 1)
        return fail(&l->r, off, "ziplist too short");
    uint32_t zlbytes =
        (uint32_t)z[0] | (uint32_t)z[1] << 8 | (uint32_t)z[2] << 16 | (uint32_t)z[3] << 24;
    uint32_t zltail =
        (uint32_t)z[4] | (uint32_t)z[5] << 8 | (uint32_t)z[6] << 16 | (uint32_t)z[7] << 24;
    unsigned zllen = (unsigned)z[8] | (unsigned)z[9] << 8;
    if (zlbytes != size)
        return fail(&l->r, off, "ziplist: header size %u, string %zu bytes", zlbytes, size);
    if (z[size - 1] != 0xFF)
        return fail(&l->r, off, "ziplist: no terminator");
    size_t i = ZL_HDR, prev = 0, last = ZL_HDR, n = 0;
    while (i < size - 1) {
        size_t start = i;
        size_t prevlen;
        if (z[i] < 254) {
            prevlen = z[i];
            i += 1;
        } else if (z[i] == 254) {
            if (size - 1 - i < 5)
                goto bad;
            prevlen = (size_t)z[i + 1] | (size_t)z[i + 2] << 8 | (size_t)z[i + 3] << 16 |
                      (size_t)z[i + 4] << 24;
            i += 5;
        } else {
            goto bad;
        }
        if (prevlen != prev || i >= size - 1)
            goto bad;
        unsigned e = z[i];
        elem el;
        size_t dlen;
        if ((e >> 6) < 3) {
            size_t hl;
            if (e >> 6 == 0) {
                dlen = e & 0x3F;
                hl = 1;
            } else if (e >> 6 == 1) {
                if (size - 1 - i < 2)
                    goto bad;
                dlen = (size_t)(e & 0x3F) << 8 | z[i + 1];
                hl = 2;
            } else {
                if (e != 0x80 || size - 1 - i < 5)
                    goto bad;
                dlen = (size_t)z[i + 1] << 24 | (size_t)z[i + 2] << 16 | (size_t)z[i + 3] << 8 |
                       z[i + 4];
                hl = 5;
            }
            i += hl;
            if (dlen > size - 1 - i)
                goto bad;
            el.p = z + i;
            el.len = dlen;
            i += dlen;
        } else {
            int w;
            switch (e) {
            case 0xC0:
                w = 2;
                break;
            case 0xD0:
                w = 4;
                break;
            case 0xE0:
                w = 8;
                break;
            case 0xF0:
                w = 3;
                break;
            case 0xFE:
                w = 1;
                break;
            default:
                if (e >= 0xF1 && e <= 0xFD) {
                    w = 0;
                    break;
                }
                goto bad;
            }
            i += 1;
            if ((size_t)w > size - 1 - i)
                goto bad;
            int64_t v;
            if (w == 0) {
                v = (int64_t)(e & 0x0F) - 1;
            } else {
                uint64_t u = 0;
                for (int k = 0; k < w; k++)
                    u |= (uint64_t)z[i + (size_t)k] << (8 * k);
                int sh = 64 - 8 * w;
                v = (int64_t)(u << sh) >> sh; /* sign-extend */
            }
            i += (size_t)w;
            elem_int(&el, v);
        }
        prev = i - start;
        last = start;
        n++;
        if (fn(l, ud, &el))
            return -1;
    }
    if (i != size - 1)
        goto bad;
    if (zltail != last)
        return fail(&l->r, off, "ziplist: tail offset %u, last entry at %zu", zltail, last);
    if (zllen != 65535 && zllen != n)
        return fail(&l->r, off, "ziplist: header count %u, %zu entries", zllen, n);
    *count = n;
    return 0;
bad:
    return fail(&l->r, off, "ziplist: bad entry (byte %zu of the ziplist)", i);
}

/*
 * Zipmap (RDB type 9: hashes of Redis < 2.6):
 *   zmlen (1 byte: the pair count when < 254) | pairs | 0xFF
 * Pair: key length, key, value length, a "free" byte, value, then that many
 * unused bytes. A length is one byte when < 254, else 0xFE (or 0xFF) and a
 * u32 LE. Each key and value goes to fn in turn.
 */
static int zipmap_len(const uint8_t *z, size_t size, size_t *i, size_t *len)
{
    if (*i >= size)
        return -1;
    if (z[*i] < 254) {
        *len = z[(*i)++];
        return 0;
    }
    if (size - *i < 5)
        return -1;
    *len = (size_t)z[*i + 1] | (size_t)z[*i + 2] << 8 | (size_t)z[*i + 3] << 16 |
           (size_t)z[*i + 4] << 24;
    *i += 5;
    return 0;
}

static int zipmap_walk(ld *l, const uint8_t *z, size_t size, uint64_t off, elem_fn fn, void *ud,
                       size_t *count)
{
    if (size < 2 || z[size - 1] != 0xFF)
        return fail(&l->r, off, "zipmap: too short or no terminator");
    size_t i = 1, n = 0;
    while (z[i] != 0xFF) {
        elem el;
        size_t klen, vlen;
        if (zipmap_len(z, size - 1, &i, &klen) || klen > size - 1 - i)
            goto bad;
        el.p = z + i;
        el.len = klen;
        i += klen;
        if (fn(l, ud, &el))
            return -1;
        if (zipmap_len(z, size - 1, &i, &vlen) || i >= size - 1)
            goto bad;
        size_t free_bytes = z[i++];
        if (vlen > size - 1 - i || free_bytes > size - 1 - i - vlen)
            goto bad;
        el.p = z + i;
        el.len = vlen;
        i += vlen + free_bytes;
        if (fn(l, ud, &el))
            return -1;
        n++;
    }
    if (i != size - 1)
        goto bad;
    if (z[0] < 254 && z[0] != n)
        return fail(&l->r, off, "zipmap: header count %u, %zu pairs", z[0], n);
    *count = 2 * n;
    return 0;
bad:
    return fail(&l->r, off, "zipmap: bad entry (byte %zu of the zipmap)", i);
}

/* Validates a listpack blob and hands each element to fn. */
static int listpack_walk(ld *l, uint8_t *lp, size_t size, uint64_t off, elem_fn fn, void *ud,
                         size_t *count)
{
    size_t bad;
    if (!ember__lp_validate_at(lp, size, &bad))
        return fail(&l->r, off, "invalid listpack (byte %zu of the listpack)", bad);
    size_t n = 0;
    for (uint8_t *p = ember__lp_first(lp); p; p = ember__lp_next(lp, p)) {
        elem el;
        int64_t v;
        uint32_t len;
        const uint8_t *s = ember__lp_get(p, &v, &len, NULL);
        if (s) {
            el.p = s;
            el.len = len;
        } else {
            elem_int(&el, v);
        }
        n++;
        if (fn(l, ud, &el))
            return -1;
    }
    *count = n;
    return 0;
}

/* Pairs of elements (field/value, member/score) from a walk. */
typedef struct pairs {
    em_obj *o; /* hash */
    zsetb *zb; /* zset */
    uint64_t off;
    int have_first;
    rstr *first; /* the pending first element (copied: walks reuse elem) */
} pairs;

static int pair_hash(ld *l, void *ud, elem *e)
{
    pairs *pr = ud;
    if (!pr->have_first) {
        if (rs_reserve(pr->first, e->len ? e->len : 1))
            return oom(&l->r);
        memcpy(pr->first->p, e->p, e->len);
        pr->first->len = e->len;
        pr->have_first = 1;
        return 0;
    }
    pr->have_first = 0;
    return hash_add(l, pr->o, pr->first->p, pr->first->len, e->p, e->len, pr->off);
}

static int pair_zset(ld *l, void *ud, elem *e)
{
    pairs *pr = ud;
    if (!pr->have_first) {
        if (rs_reserve(pr->first, e->len ? e->len : 1))
            return oom(&l->r);
        memcpy(pr->first->p, e->p, e->len);
        pr->first->len = e->len;
        pr->have_first = 1;
        return 0;
    }
    pr->have_first = 0;
    double d;
    if (parse_score(l, e->p, e->len, &d, pr->off))
        return -1;
    return zset_add(l, pr->zb, pr->first->p, pr->first->len, d, pr->off);
}

typedef struct listw {
    em_obj *o;
} listw;

static int elem_list(ld *l, void *ud, elem *e)
{
    return list_add(l, ((listw *)ud)->o, e->p, e->len);
}

/* ------------------------------------------------------------ one value */

static int load_string(ld *l, em_obj **out)
{
    if (rd_string(l, &l->a))
        return -1;
    *out = ember__obj_new_string(l->m, l->key.p, l->key.len, l->a.p, l->a.len, EM_STRENC_AUTO);
    return *out ? 0 : oom(&l->r);
}

static int load_list(ld *l, em_obj **out)
{
    uint64_t n;
    if (rd_len(&l->r, &n))
        return -1;
    em_obj *o = list_new(l);
    if (!o)
        return oom(&l->r);
    *out = o;
    for (uint64_t i = 0; i < n; i++)
        if (rd_string(l, &l->a) || list_add(l, o, l->a.p, l->a.len))
            return -1;
    return 0;
}

static int load_set(ld *l, em_obj **out)
{
    uint64_t n;
    if (rd_len(&l->r, &n))
        return -1;
    setb sb = {set_new(l, n, 1), n, 0};
    if (!sb.o)
        return oom(&l->r);
    *out = sb.o;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = rd_off(&l->r);
        if (rd_string(l, &l->a) || set_add(l, &sb, l->a.p, l->a.len, off))
            return -1;
    }
    return 0;
}

static int load_hash(ld *l, em_obj **out)
{
    uint64_t n;
    if (rd_len(&l->r, &n))
        return -1;
    em_obj *o = hash_new(l, n);
    if (!o)
        return oom(&l->r);
    *out = o;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = rd_off(&l->r);
        if (rd_string(l, &l->a) || rd_string(l, &l->b) ||
            hash_add(l, o, l->a.p, l->a.len, l->b.p, l->b.len, off))
            return -1;
    }
    return 0;
}

/* Type 3 scores: a length byte, then that much text; 253/254/255 mean
 * NaN/+inf/-inf. */
static int rd_text_double(ld *l, double *d)
{
    uint64_t off = rd_off(&l->r);
    unsigned n;
    if (rd_u8(&l->r, &n))
        return -1;
    if (n == 255) {
        *d = -INFINITY;
        return 0;
    }
    if (n == 254) {
        *d = INFINITY;
        return 0;
    }
    if (n == 253)
        return fail(&l->r, off, "sorted set score is NaN");
    uint8_t t[256];
    if (rd_bytes(&l->r, t, n))
        return -1;
    return parse_score(l, t, n, d, off);
}

static int load_zset(ld *l, int type, em_obj **out, int *empty)
{
    uint64_t n;
    if (rd_len(&l->r, &n))
        return -1;
    uint64_t voff = rd_off(&l->r);
    zsetb zb;
    zset_begin(&zb);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t off = rd_off(&l->r), u;
        double d;
        if (rd_string(l, &l->a))
            goto fail;
        if (type == EM_RDB_TYPE_ZSET_2) {
            if (rd_le(&l->r, 8, &u))
                goto fail;
            memcpy(&d, &u, 8);
        } else if (rd_text_double(l, &d)) {
            goto fail;
        }
        if (zset_add(l, &zb, l->a.p, l->a.len, d, off))
            goto fail;
    }
    *out = zset_finish(l, &zb, empty, voff);
    return *out || *empty ? 0 : -1;
fail:
    zset_abort(l, &zb);
    return -1;
}

static int load_intset(ld *l, em_obj **out)
{
    uint64_t off;
    if (rd_blob(l, &off))
        return -1;
    size_t bad;
    if (!ember__intset_validate(l->b.p, l->b.len, &bad))
        return fail(&l->r, off, "invalid intset (byte %zu of the intset)", bad);
    uint32_t n = ember__intset_len(l->b.p);
    setb sb = {set_new(l, n, 1), n, 0};
    if (!sb.o)
        return oom(&l->r);
    *out = sb.o;
    if (ember__obj_enc(sb.o) == EM_ENC_INTSET) {
        /* Valid and within the limit: the bytes are the value. */
        uint8_t *is = ember__mem_alloc(l->m, l->b.len);
        if (!is)
            return oom(&l->r);
        memcpy(is, l->b.p, l->b.len);
        ember__intset_free(l->m, ember__obj_body(sb.o));
        ember__obj_set_body(sb.o, is);
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        char t[EM_LLSTR_SIZE];
        size_t len = ember__ll_to_str(t, ember__intset_get(l->b.p, i));
        if (set_add(l, &sb, t, len, off))
            return -1;
    }
    return 0;
}

/* Walks a ziplist (zl) or listpack blob already in l->b. */
static int walk_blob(ld *l, int zl, uint64_t off, elem_fn fn, void *ud, size_t *count)
{
    return zl ? ziplist_walk(l, l->b.p, l->b.len, off, fn, ud, count)
              : listpack_walk(l, l->b.p, l->b.len, off, fn, ud, count);
}

/* zl: 1 ziplist, 0 listpack, 2 zipmap. */
static int load_hash_blob(ld *l, int zl, em_obj **out)
{
    uint64_t off;
    if (rd_blob(l, &off))
        return -1;
    em_obj *o = hash_new(l, 0);
    if (!o)
        return oom(&l->r);
    *out = o;
    pairs pr = {o, NULL, off, 0, &l->a};
    size_t n = 0;
    if (zl == 2 ? zipmap_walk(l, l->b.p, l->b.len, off, pair_hash, &pr, &n)
                : walk_blob(l, zl, off, pair_hash, &pr, &n))
        return -1;
    if (n % 2)
        return fail(&l->r, off, "hash with an odd number of elements");
    return 0;
}

static int load_zset_blob(ld *l, int zl, em_obj **out, int *empty)
{
    uint64_t off;
    if (rd_blob(l, &off))
        return -1;
    zsetb zb;
    zset_begin(&zb);
    pairs pr = {NULL, &zb, off, 0, &l->a};
    size_t n = 0;
    if (walk_blob(l, zl, off, pair_zset, &pr, &n))
        goto fail;
    if (n % 2) {
        fail(&l->r, off, "sorted set with an odd number of elements");
        goto fail;
    }
    *out = zset_finish(l, &zb, empty, off);
    return *out || *empty ? 0 : -1;
fail:
    zset_abort(l, &zb);
    return -1;
}

static int load_list_ziplist(ld *l, em_obj **out)
{
    uint64_t off;
    if (rd_blob(l, &off))
        return -1;
    em_obj *o = list_new(l);
    if (!o)
        return oom(&l->r);
    *out = o;
    listw lw = {o};
    size_t n = 0;
    return walk_blob(l, 1, off, elem_list, &lw, &n);
}

static int load_quicklist(ld *l, int v2, em_obj **out)
{
    uint64_t nodes;
    if (rd_len(&l->r, &nodes))
        return -1;
    em_obj *o = list_new(l);
    if (!o)
        return oom(&l->r);
    *out = o;
    listw lw = {o};
    for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = EM_RDB_QL_PACKED, coff = rd_off(&l->r), off;
        if (v2 && rd_len(&l->r, &container))
            return -1;
        if (container != EM_RDB_QL_PACKED && container != EM_RDB_QL_PLAIN)
            return fail(&l->r, coff, "bad quicklist node container %llu",
                        (unsigned long long)container);
        if (rd_blob(l, &off))
            return -1;
        if (container == EM_RDB_QL_PLAIN) {
            if (list_add(l, o, l->b.p, l->b.len))
                return -1;
            continue;
        }
        size_t n = 0; /* a node with no element is skipped, as Redis does */
        if (walk_blob(l, !v2, off, elem_list, &lw, &n))
            return -1;
    }
    return 0;
}

static const char *refused_type(int type)
{
    switch (type) {
    case EM_RDB_TYPE_MODULE:
    case EM_RDB_TYPE_MODULE_2:
        return "module values are not supported";
    case EM_RDB_TYPE_STREAM_LISTPACKS:
    case EM_RDB_TYPE_STREAM_LISTPACKS_2:
    case EM_RDB_TYPE_STREAM_LISTPACKS_3:
        return "streams are not supported";
    case EM_RDB_TYPE_SET_LISTPACK:
        return "set listpacks need RDB version 11";
    default:
        return NULL;
    }
}

/* Reads one value of `type`; *out is the object (NULL with *empty when the
 * value had no element). On failure *out may hold a partial object. */
static int load_value(ld *l, int type, em_obj **out, int *empty, uint64_t off)
{
    *out = NULL;
    *empty = 0;
    int rc;
    switch (type) {
    case EM_RDB_TYPE_STRING:
        return load_string(l, out);
    case EM_RDB_TYPE_LIST:
        rc = load_list(l, out);
        break;
    case EM_RDB_TYPE_SET:
        rc = load_set(l, out);
        break;
    case EM_RDB_TYPE_ZSET:
    case EM_RDB_TYPE_ZSET_2:
        return load_zset(l, type, out, empty);
    case EM_RDB_TYPE_HASH:
        rc = load_hash(l, out);
        break;
    case EM_RDB_TYPE_LIST_ZIPLIST:
        rc = load_list_ziplist(l, out);
        break;
    case EM_RDB_TYPE_SET_INTSET:
        rc = load_intset(l, out);
        break;
    case EM_RDB_TYPE_ZSET_ZIPLIST:
        return load_zset_blob(l, 1, out, empty);
    case EM_RDB_TYPE_ZSET_LISTPACK:
        return load_zset_blob(l, 0, out, empty);
    case EM_RDB_TYPE_HASH_ZIPLIST:
        rc = load_hash_blob(l, 1, out);
        break;
    case EM_RDB_TYPE_HASH_ZIPMAP:
        rc = load_hash_blob(l, 2, out);
        break;
    case EM_RDB_TYPE_HASH_LISTPACK:
        rc = load_hash_blob(l, 0, out);
        break;
    case EM_RDB_TYPE_LIST_QUICKLIST:
        rc = load_quicklist(l, 0, out);
        break;
    case EM_RDB_TYPE_LIST_QUICKLIST_2:
        rc = load_quicklist(l, 1, out);
        break;
    default:
        return -1; /* the caller refused it already */
    }
    if (rc || !*out)
        return rc;
    size_t n = 0;
    switch (ember__obj_type(*out)) {
    case EM_T_LIST:
        n = list_len(*out);
        break;
    case EM_T_SET:
        n = set_len(*out);
        break;
    case EM_T_HASH:
        n = ember__hash_len(*out);
        break;
    default:
        n = 1;
    }
    if (n == 0) {
        ember__obj_free(l->m, *out);
        *out = NULL;
        *empty = 1;
        return 0;
    }
    int t = ember__obj_type(*out);
    if ((t == EM_T_HASH || t == EM_T_SET) && ember__obj_enc(*out) == EM_ENC_LISTPACK) {
        int dup = lp_has_dup(ember__obj_body(*out), t == EM_T_HASH ? 2 : 1);
        if (dup < 0)
            return oom(&l->r);
        if (dup)
            return fail(&l->r, off,
                        t == EM_T_HASH ? "duplicate hash field" : "duplicate set member");
        if (t == EM_T_HASH)
            ember__hash_shrink_to_fit(l->m, *out);
    }
    return 0;
}

/* ------------------------------------------------------------ the stream */

static int load_header(ld *l)
{
    uint8_t h[EM_RDB_HEADER_LEN];
    if (rd_bytes(&l->r, h, sizeof h))
        return fail(&l->r, 0, "not an RDB file: shorter than its header");
    if (memcmp(h, EM_RDB_MAGIC, 5) != 0)
        return fail(&l->r, 0, "not an RDB file: no REDIS magic");
    int v = 0;
    for (int i = 5; i < 9; i++) {
        if (h[i] < '0' || h[i] > '9')
            return fail(&l->r, 5, "not an RDB file: bad version digits");
        v = v * 10 + (h[i] - '0');
    }
    if (v < 1)
        return fail(&l->r, 5, "bad RDB version %d", v);
    if (v > EM_RDB_VERSION)
        return fail(&l->r, 5,
                    "RDB version %d is newer than this loader reads (up to %d, as Redis 7.0)", v,
                    EM_RDB_VERSION);
    l->version = v;
    return 0;
}

/* The LRU/LFU field of a loaded key, as Redis sets it: under an LFU policy
 * the FREQ counter (if the file has one) with the current minutes; else
 * the IDLE seconds (if the file has them) back from now. */
static void set_lru(const ld *l, em_obj *o, int64_t idle, int freq, int64_t now_ms)
{
    int64_t p = l->cfg->maxmemory_policy;
    if (p == EM_POLICY_ALLKEYS_LFU || p == EM_POLICY_VOLATILE_LFU) {
        if (freq >= 0)
            ember__obj_set_lru(o, (uint32_t)((((now_ms / 60000) & 65535) << 8) | freq));
    } else if (idle >= 0) {
        const int64_t max = 0xFFFFFF;
        int64_t clock = (now_ms / 1000) & max, at = clock - idle;
        if (at < 0) /* idle longer than the clock reaches back: Redis's choice */
            at = (clock + max / 2) % max;
        ember__obj_set_lru(o, (uint32_t)at);
    }
}

static int add_key(ld *l, em_keyspace *ks, em_obj *o, int64_t expire, uint64_t off, em_obj **added)
{
    em_dpos pos;
    if (ember__dict_find(&ks->dict, l->key.p, l->key.len,
                         ember__dict_hash(&ks->dict, l->key.p, l->key.len), &pos)) {
        ember__obj_free(l->m, o);
        return fail(&l->r, off, "duplicate key in database %d", ks->id);
    }
    if (expire >= 0) {
        em_obj *e = ember__obj_rebuild_expire(l->m, o, expire);
        if (!e) {
            ember__obj_free(l->m, o);
            return oom(&l->r);
        }
        ember__obj_free_shell(l->m, o);
        o = e;
    }
    size_t before = ember__dict_size(&ks->dict);
    ember__ks_add(l->st, ks, o);
    if (ember__dict_size(&ks->dict) == before) {
        ember__obj_free(l->m, o);
        return oom(&l->r);
    }
    *added = o;
    return 0;
}

static int load_body(ld *l, int64_t now_ms, unsigned flags, uint64_t *rdb_len)
{
    rd *r = &l->r;
    em_keyspace *ks = &l->st->dbs[0];
    int64_t expire = -1, idle = -1; /* what opcodes said about the next key */
    int freq = -1;
    for (;;) {
        uint64_t off = rd_off(r), v, v2;
        unsigned t;
        if (rd_u8(r, &t))
            return -1;
        switch (t) {
        case EM_RDB_OP_EXPIRETIME_MS:
            if (rd_le(r, 8, &v))
                return -1;
            expire = (int64_t)v;
            continue;
        case EM_RDB_OP_EXPIRETIME:
            if (rd_le(r, 4, &v))
                return -1;
            expire = (int64_t)(int32_t)(uint32_t)v * 1000;
            continue;
        case EM_RDB_OP_IDLE:
            if (rd_len(r, &v))
                return -1;
            idle = v > INT64_MAX ? INT64_MAX : (int64_t)v;
            continue;
        case EM_RDB_OP_FREQ:
            if (rd_u8(r, &t))
                return -1;
            freq = (int)t;
            continue;
        case EM_RDB_OP_AUX:
            if (rd_string(l, &l->a) || rd_string(l, &l->b))
                return -1;
            continue;
        case EM_RDB_OP_RESIZEDB:
            if (rd_len(r, &v) || rd_len(r, &v2))
                return -1;
            /* An untrusted hint: it only sizes the (empty) table up front,
             * capped so that a lying file costs at most a few MB, and a
             * wrong one only means growth later, as without it. */
            ember__dict_reserve(&ks->dict, (size_t)(v < RESIZE_HINT_MAX ? v : RESIZE_HINT_MAX));
            continue;
        case EM_RDB_OP_SELECTDB:
            if (rd_len(r, &v))
                return -1;
            if (v >= (uint64_t)l->st->ndb)
                return fail(r, off, "database %llu out of range (%d databases)",
                            (unsigned long long)v, l->st->ndb);
            ks = &l->st->dbs[v];
            continue;
        case EM_RDB_OP_MODULE_AUX:
            return fail(r, off, "module AUX data is not supported");
        case EM_RDB_OP_FUNCTION:
        case EM_RDB_OP_FUNCTION2:
            return fail(r, off, "functions (FUNCTION LOAD libraries) are not supported");
        case EM_RDB_OP_EOF:
            break;
        default: {
            const char *why = refused_type((int)t);
            if (why)
                return fail(r, off, "RDB type %u: %s", t, why);
            if (t > EM_RDB_TYPE_LIST_QUICKLIST_2 || t == 8)
                return fail(r, off, "unknown RDB type or opcode %u", t);
            if (rd_string(l, &l->key))
                return -1;
            em_obj *o;
            int empty;
            if (load_value(l, (int)t, &o, &empty, off)) {
                if (o)
                    ember__obj_free(l->m, o);
                return -1;
            }
            int64_t when = expire, key_idle = idle;
            int key_freq = freq;
            expire = idle = -1;
            freq = -1;
            if (empty)
                continue;
            if (when >= 0 && now_ms > when) {
                ember__obj_free(l->m, o);
                continue;
            }
            if (when < -1) { /* a time before 1970: long expired */
                ember__obj_free(l->m, o);
                continue;
            }
            em_obj *added = NULL;
            if (add_key(l, ks, o, when, off, &added))
                return -1;
            set_lru(l, added, key_idle, key_freq, now_ms);
            continue;
        }
        }
        break; /* EOF */
    }
    if (l->version >= 5) {
        uint64_t off = rd_off(r), stored;
        uint64_t crc = rd_crc_now(r);
        if (rd_le(r, 8, &stored))
            return -1;
        if (stored != 0 && stored != crc)
            return fail(r, off, "checksum mismatch (stored %016llx, computed %016llx)",
                        (unsigned long long)stored, (unsigned long long)crc);
    }
    uint64_t end = rd_off(r);
    if (rdb_len)
        *rdb_len = end;
    if (!(flags & EM_RDB_LOAD_TRAILING)) {
        int more = rd_more(r);
        if (more < 0)
            return -1;
        if (more)
            return fail(r, end, "unexpected bytes after the end of the RDB data");
    }
    return 0;
}

int ember__rdb_load_ex(em_rdb_src *src, em_store *into, const em_settings *cfg, int64_t now_ms,
                       unsigned flags, uint64_t *rdb_len, em_rdb_err *err)
{
    ld l;
    memset(&l, 0, sizeof l);
    memset(err, 0, sizeof *err);
    l.r.src = src;
    l.r.err = err;
    l.st = into;
    l.m = &into->mem;
    l.cfg = cfg;
    l.cap = cfg->proto_max_bulk_len > 0 ? (uint64_t)cfg->proto_max_bulk_len : RD_DEFAULT_CAP;
    l.r.w = malloc(RD_WINDOW);
    int rc = -1;
    if (!l.r.w)
        fail(&l.r, 0, "out of memory");
    else if (load_header(&l) == 0 && load_body(&l, now_ms, flags, rdb_len) == 0)
        rc = 0;
    free(l.r.w);
    rs_free(&l.key);
    rs_free(&l.a);
    rs_free(&l.b);
    rs_free(&l.blob);
    return rc;
}

int ember__rdb_load(em_rdb_src *src, em_store *into, const em_settings *cfg, int64_t now_ms,
                    em_rdb_err *err)
{
    return ember__rdb_load_ex(src, into, cfg, now_ms, 0, NULL, err);
}

int64_t ember__rdb_mem_read(void *ctx, void *buf, size_t n)
{
    em_rdb_mem *m = ctx;
    size_t k = m->len - m->off < n ? m->len - m->off : n;
    if (k)
        memcpy(buf, m->p + m->off, k);
    m->off += k;
    return (int64_t)k;
}
