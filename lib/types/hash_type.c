/*
 * hash_type.c — the hash value type: its two encodings, the conversion
 * between them, and the hooks the object layer calls (see hash_type.h).
 *
 * Invariants:
 *  - A listpack hash holds field, value pairs back to back, fields unique, in
 *    insertion order; it has at most max_entries pairs and no element longer
 *    than max_value bytes at the time it was written (a later CONFIG SET may
 *    lower the limits: the next write that breaks them converts).
 *  - A table hash is an em_dict (allocated from the store's em_mem) of string
 *    objects, never INT-encoded (so a value reads back byte for byte).
 *  - Every failing allocation leaves the hash as it was.
 *
 * Conversion cost. A listpack only grows while it is within both limits, and
 * the conversion runs *before* the write that would break them, so it copies
 * at most max_entries pairs of at most max_value bytes each: with the 7.0
 * defaults (512, 64) that is 512 entry allocations and at most 64 KB copied,
 * whatever the size of the value that triggers it (that value goes straight
 * into the table). It happens once per key: a table never turns back into a
 * listpack.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "hash_type.h"

/* Redis converts a listpack that would grow past 1 GB (lpSafeToAdd). */
#define HASH_LP_SAFETY_SIZE (1u << 30)

static void set_enc(em_obj *o, int enc)
{
    o->hdr[0] = (uint8_t)((o->hdr[0] & ~(7u << 3)) | ((unsigned)enc << 3));
}

static void view_lp(const uint8_t *p, em_hval *v)
{
    int64_t iv;
    uint32_t len;
    v->ptr = (const char *)ember__lp_get(p, &iv, &len, (uint8_t *)v->buf);
    v->len = len;
}

void ember__hash_entry(const em_obj *e, em_hval *field, em_hval *value)
{
    if (field)
        field->ptr = ember__obj_key(e, &field->len);
    if (value) {
        em_strview sv;
        ember__obj_str_view(e, value->buf, &sv);
        value->ptr = sv.ptr;
        value->len = sv.len;
    }
}

/* ------------------------------------------------------------ value hooks */

static void free_entry(void *ud, em_obj *e)
{
    ember__obj_free(ud, e);
}

static void free_dict(em_mem *m, em_dict *d)
{
    ember__dict_free_all(d, free_entry, m);
    ember__mem_free(m, d);
}

static void hash_free_body(em_mem *m, void *body, int enc)
{
    if (enc == EM_ENC_LISTPACK)
        ember__lp_free(m, body);
    else
        free_dict(m, body);
}

/* Adds e (whose field is not in d) to d. 0, or -1 when it could not be added
 * (no first table); a table that could not grow still takes it. */
static int dict_put(em_dict *d, em_obj *e)
{
    size_t kl, before = ember__dict_size(d);
    const char *k = ember__obj_key(e, &kl);
    ember__dict_add(d, e, ember__dict_hash(d, k, kl));
    return ember__dict_size(d) > before ? 0 : -1;
}

static void *hash_dup_body(em_mem *m, const void *body, int enc)
{
    if (enc == EM_ENC_LISTPACK)
        return ember__lp_dup(m, body);
    const em_dict *src = body;
    em_dict *d = ember__mem_alloc(m, sizeof *d);
    if (!d)
        return NULL;
    ember__dict_init(d, m, src->seed);
    for (int t = 0; t < 2; t++) {
        for (size_t b = 0; b < src->size[t]; b++) {
            for (const em_obj *e = src->t[t][b]; e; e = e->next) {
                size_t kl;
                const char *k = ember__obj_key(e, &kl);
                em_obj *n = ember__obj_dup_as(m, e, k, kl);
                if (!n || dict_put(d, n) < 0) {
                    if (n)
                        ember__obj_free(m, n);
                    free_dict(m, d);
                    return NULL;
                }
            }
        }
    }
    return d;
}

static size_t hash_body_items(const void *body, int enc)
{
    if (enc == EM_ENC_LISTPACK)
        return ember__lp_length((uint8_t *)body) / 2;
    return ember__dict_size(body);
}

static const em_value_ops hash_ops = {hash_free_body, hash_dup_body, hash_body_items};

void ember__hash_init(void)
{
    ember__obj_register_type(EM_T_HASH, &hash_ops);
}

/* ------------------------------------------------------------ operations */

em_obj *ember__hash_new(em_mem *m, const void *key, size_t klen, size_t hint)
{
    uint8_t *lp = ember__lp_new(m, hint);
    if (!lp)
        return NULL;
    em_obj *o = ember__obj_new_body(m, key, klen, EM_T_HASH, EM_ENC_LISTPACK, lp);
    if (!o)
        ember__lp_free(m, lp);
    return o;
}

size_t ember__hash_len(const em_obj *o)
{
    return hash_body_items(ember__obj_body(o), ember__obj_enc(o));
}

/* The field element of f in a listpack hash, or NULL. */
static uint8_t *lp_field(uint8_t *lp, const void *f, size_t flen)
{
    uint8_t *p = ember__lp_first(lp);
    return p ? ember__lp_find(lp, p, f, flen, 1) : NULL;
}

/* Finds f in a table hash (moving one bucket first while it rehashes, as
 * Redis's lookups do, so a table left half-resized still finishes). */
static int dict_field(em_dict *d, const void *f, size_t flen, em_dpos *pos)
{
    if (ember__dict_is_rehashing(d))
        ember__dict_rehash(d, 1);
    return ember__dict_find(d, f, flen, ember__dict_hash(d, f, flen), pos);
}

int ember__hash_get(em_obj *o, const void *f, size_t flen, em_hval *val)
{
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        uint8_t *lp = ember__obj_body(o);
        uint8_t *p = lp_field(lp, f, flen);
        if (!p)
            return 0;
        if (val)
            view_lp(ember__lp_next(lp, p), val);
        return 1;
    }
    em_dpos pos;
    if (!dict_field(ember__obj_body(o), f, flen, &pos))
        return 0;
    if (val)
        ember__hash_entry(*pos.link, NULL, val);
    return 1;
}

int ember__hash_convert(em_mem *m, em_obj *o, uint64_t seed)
{
    if (ember__obj_enc(o) != EM_ENC_LISTPACK)
        return 0;
    uint8_t *lp = ember__obj_body(o);
    em_dict *d = ember__mem_alloc(m, sizeof *d);
    if (!d)
        return -1;
    ember__dict_init(d, m, seed);
    for (uint8_t *p = ember__lp_first(lp); p;) {
        uint8_t *vp = ember__lp_next(lp, p);
        em_hval f, v;
        view_lp(p, &f);
        view_lp(vp, &v);
        em_obj *e = ember__obj_new_string(m, f.ptr, f.len, v.ptr, v.len, EM_STRENC_NOINT);
        if (!e || dict_put(d, e) < 0) {
            if (e)
                ember__obj_free(m, e);
            free_dict(m, d);
            return -1;
        }
        p = ember__lp_next(lp, vp);
    }
    ember__lp_free(m, lp);
    ember__obj_set_body(o, d);
    set_enc(o, EM_ENC_HT);
    return 0;
}

int ember__hash_try_convert(em_mem *m, em_obj *o, const size_t *lens, size_t n,
                            const em_hash_cfg *cfg)
{
    if (ember__obj_enc(o) != EM_ENC_LISTPACK)
        return 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if ((int64_t)lens[i] > cfg->max_value || lens[i] > HASH_LP_SAFETY_SIZE)
            return ember__hash_convert(m, o, cfg->seed);
        sum += lens[i];
    }
    if (ember__lp_bytes(ember__obj_body(o)) + sum > HASH_LP_SAFETY_SIZE)
        return ember__hash_convert(m, o, cfg->seed);
    return 0;
}

/* Stores the entry n (field and value) in a table hash, replacing the
 * field's old entry. 1 new, 0 replaced, -1 (n freed) when it could not be
 * added. */
static int dict_store(em_mem *m, em_dict *d, em_obj *n)
{
    size_t flen;
    const char *f = ember__obj_key(n, &flen);
    em_dpos pos;
    if (dict_field(d, f, flen, &pos)) {
        ember__obj_free(m, ember__dict_replace(d, &pos, n));
        return 0;
    }
    if (dict_put(d, n) < 0) {
        ember__obj_free(m, n);
        return -1;
    }
    return 1;
}

int ember__hash_set(em_mem *m, em_obj *o, const void *f, size_t flen, const void *v, size_t vlen,
                    const em_hash_cfg *cfg)
{
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        uint8_t *lp = ember__obj_body(o);
        /* As Redis's hashTypeSet: a long field or value converts even when
         * the field exists (HINCRBY* reach here without a prior check). */
        int fits = (int64_t)flen <= cfg->max_value && (int64_t)vlen <= cfg->max_value &&
                   ember__lp_bytes(lp) + flen + vlen <= HASH_LP_SAFETY_SIZE;
        /* Also as hashTypeSet: a listpack longer than max_entries (the
         * limit was lowered) converts on any write, an update too. */
        int short_enough = (int64_t)ember__hash_len(o) <= cfg->max_entries;
        uint8_t *p = fits ? lp_field(lp, f, flen) : NULL;
        if (p && short_enough) {
            uint8_t *nlp =
                ember__lp_insert(m, lp, v, vlen, ember__lp_next(lp, p), EM_LP_REPLACE, NULL);
            if (!nlp)
                return -1;
            ember__obj_set_body(o, nlp);
            return 0;
        }
        if (!p && fits && (int64_t)ember__hash_len(o) < cfg->max_entries) {
            uint8_t *nlp = ember__lp_append(m, lp, f, flen);
            if (!nlp)
                return -1;
            uint8_t *nlp2 = ember__lp_append(m, nlp, v, vlen);
            if (!nlp2) { /* take the lone field back out */
                ember__obj_set_body(o, ember__lp_delete(m, nlp, ember__lp_last(nlp), NULL));
                return -1;
            }
            ember__obj_set_body(o, nlp2);
            return 1;
        }
        /* A new field past max_entries, a long field/value, or a listpack
         * already past max_entries: convert first (the listpack is within
         * the limits it was written under, see the top comment). The entry
         * is built before, so a failure leaves the listpack. */
        em_obj *n = ember__obj_new_string(m, f, flen, v, vlen, EM_STRENC_NOINT);
        if (!n)
            return -1;
        if (ember__hash_convert(m, o, cfg->seed) < 0) {
            ember__obj_free(m, n);
            return -1;
        }
        return dict_store(m, ember__obj_body(o), n);
    }
    em_obj *n = ember__obj_new_string(m, f, flen, v, vlen, EM_STRENC_NOINT);
    return n ? dict_store(m, ember__obj_body(o), n) : -1;
}

int ember__hash_delete(em_mem *m, em_obj *o, const void *f, size_t flen)
{
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        uint8_t *lp = ember__obj_body(o);
        uint8_t *p = lp_field(lp, f, flen);
        if (!p)
            return 0;
        uint8_t *vp;
        lp = ember__lp_delete(m, lp, p, &vp);
        lp = ember__lp_delete(m, lp, vp, NULL);
        ember__obj_set_body(o, lp);
        return 1;
    }
    em_dict *d = ember__obj_body(o);
    em_dpos pos;
    if (!dict_field(d, f, flen, &pos))
        return 0;
    ember__obj_free(m, ember__dict_unlink(d, &pos));
    ember__dict_maybe_shrink(d); /* as Redis after every hash delete */
    return 1;
}

void ember__hash_shrink_to_fit(em_mem *m, em_obj *o)
{
    if (ember__obj_enc(o) != EM_ENC_LISTPACK)
        return;
    uint8_t *lp = ember__obj_body(o);
    size_t bytes = ember__lp_bytes(lp);
    /* Below 16 bytes of slack the allocator would keep the block anyway. */
    if (ember__mem_usable(m, lp) < bytes + 16)
        return;
    uint8_t *n = ember__mem_realloc(m, lp, bytes);
    if (n)
        ember__obj_set_body(o, n);
}

/* ------------------------------------------------------------ iteration */

void ember__hash_iter_init(em_hash_iter *it, em_obj *o)
{
    memset(it, 0, sizeof *it);
    it->o = o;
    if (ember__obj_enc(o) == EM_ENC_LISTPACK)
        it->p = ember__lp_first(ember__obj_body(o));
}

int ember__hash_iter_next(em_hash_iter *it, em_hval *field, em_hval *value)
{
    if (ember__obj_enc(it->o) == EM_ENC_LISTPACK) {
        if (!it->p)
            return 0;
        uint8_t *lp = ember__obj_body(it->o);
        uint8_t *vp = ember__lp_next(lp, it->p);
        if (field)
            view_lp(it->p, field);
        if (value)
            view_lp(vp, value);
        it->p = ember__lp_next(lp, vp);
        return 1;
    }
    em_dict *d = ember__obj_body(it->o);
    while (!it->e) {
        if (it->table > 1)
            return 0;
        if (it->bucket >= d->size[it->table]) {
            it->table++;
            it->bucket = 0;
            continue;
        }
        it->e = d->t[it->table][it->bucket++];
    }
    em_obj *e = it->e;
    it->e = e->next;
    ember__hash_entry(e, field, value);
    return 1;
}
