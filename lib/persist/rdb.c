/*
 * rdb.c — the RDB writer: live objects to RDB version 10 bytes.
 *
 * Values are written in the simplest types (0 string, 1 list, 2 set, 4 hash,
 * 5 zset-2) whatever their in-memory encoding: every Redis since 2.x loads
 * them and re-encodes them by its own thresholds, so a file never depends on
 * ember's encodings matching Redis's byte for byte. Strings that are the
 * canonical text of an int32 (at most 11 characters) use the integer
 * encodings, as Redis writes them; strings are never LZF-compressed (readers
 * do not need it, and snapshots are zstd-framed by the caller).
 *
 * The writer only appends to an em_rdb_buf; the CRC-64 is the caller's
 * (it sees every byte when it flushes) except for the final bytes, which
 * ember__rdb_put_eof folds in: see there.
 */
#include <stdlib.h>
#include <string.h>

#include "../../include/ember.h"
#include "../common/util.h"
#include "../types/coll.h"
#include "../types/hash_type.h"
#include "../types/intset.h"
#include "../types/listpack.h"
#include "../types/quicklist.h"
#include "../types/zset.h"
#include "crc64.h"
#include "rdb.h"

/* ------------------------------------------------------------ the buffer */

void ember__rdb_buf_free(em_rdb_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

static int buf_reserve(em_rdb_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= n)
        return 0;
    size_t need = b->len + n;
    if (need < b->len) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put_bytes(em_rdb_buf *b, const void *p, size_t n)
{
    if (n == 0 || buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_u8(em_rdb_buf *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void put_le(em_rdb_buf *b, uint64_t v, int n)
{
    uint8_t t[8];
    for (int i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    put_bytes(b, t, (size_t)n);
}

/* ------------------------------------------------------------ encodings */

size_t ember__rdb_encode_len(uint8_t *out, uint64_t v)
{
    if (v < 64) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v < 16384) {
        out[0] = (uint8_t)(0x40 | (v >> 8));
        out[1] = (uint8_t)v;
        return 2;
    }
    if (v <= UINT32_MAX) {
        out[0] = EM_RDB_32BITLEN;
        for (int i = 0; i < 4; i++)
            out[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        return 5;
    }
    out[0] = EM_RDB_64BITLEN;
    for (int i = 0; i < 8; i++)
        out[1 + i] = (uint8_t)(v >> (56 - 8 * i));
    return 9;
}

static void put_len(em_rdb_buf *b, uint64_t v)
{
    uint8_t t[9];
    put_bytes(b, t, ember__rdb_encode_len(t, v));
}

/* The integer encodings of a value that fits 32 bits: the smallest of them. */
static void put_int_enc(em_rdb_buf *b, int64_t v)
{
    if (v >= INT8_MIN && v <= INT8_MAX) {
        put_u8(b, 0xC0 | EM_RDB_ENC_INT8);
        put_le(b, (uint64_t)v, 1);
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        put_u8(b, 0xC0 | EM_RDB_ENC_INT16);
        put_le(b, (uint64_t)v, 2);
    } else {
        put_u8(b, 0xC0 | EM_RDB_ENC_INT32);
        put_le(b, (uint64_t)v, 4);
    }
}

static void put_string(em_rdb_buf *b, const void *p, size_t len)
{
    long long v;
    /* 11 characters hold every int32 ("-2147483648"); the text must be the
     * canonical form so that it loads back byte for byte. */
    if (len <= 11 && ember__str_to_ll(p, len, &v) && v >= INT32_MIN && v <= INT32_MAX) {
        put_int_enc(b, v);
        return;
    }
    put_len(b, len);
    put_bytes(b, p, len);
}

static void put_int_string(em_rdb_buf *b, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        put_int_enc(b, v);
        return;
    }
    char t[EM_LLSTR_SIZE];
    size_t n = ember__ll_to_str(t, v);
    put_len(b, n);
    put_bytes(b, t, n);
}

static void put_aux(em_rdb_buf *b, const char *k, const char *v)
{
    put_u8(b, EM_RDB_OP_AUX);
    put_string(b, k, strlen(k));
    put_string(b, v, strlen(v));
}

static void put_aux_int(em_rdb_buf *b, const char *k, int64_t v)
{
    put_u8(b, EM_RDB_OP_AUX);
    put_string(b, k, strlen(k));
    put_int_string(b, v);
}

void ember__rdb_put_magic(em_rdb_buf *b)
{
    put_bytes(b, "REDIS0010", EM_RDB_HEADER_LEN);
}

void ember__rdb_put_header(em_rdb_buf *b, int64_t ctime_s, uint64_t used_mem, int aof_base)
{
    ember__rdb_put_magic(b);
    /* The version of Redis whose format this is (readers only log it). */
    put_aux(b, "redis-ver", "7.0.15");
    put_aux_int(b, "redis-bits", (int64_t)(sizeof(void *) * 8));
    put_aux_int(b, "ctime", ctime_s);
    put_aux_int(b, "used-mem", used_mem > INT64_MAX ? INT64_MAX : (int64_t)used_mem);
    put_aux_int(b, "aof-base", aof_base ? 1 : 0);
#define EM_RDB_STR2(x) #x
#define EM_RDB_STR(x) EM_RDB_STR2(x)
    put_aux(b, "ember-ver",
            EM_RDB_STR(EMBER_VERSION_MAJOR) "." EM_RDB_STR(EMBER_VERSION_MINOR) "." EM_RDB_STR(
                EMBER_VERSION_PATCH));
}

void ember__rdb_put_selectdb(em_rdb_buf *b, int dbid, uint64_t keys, uint64_t expires)
{
    put_u8(b, EM_RDB_OP_SELECTDB);
    put_len(b, (uint64_t)dbid);
    if (keys || expires) {
        put_u8(b, EM_RDB_OP_RESIZEDB);
        put_len(b, keys);
        put_len(b, expires);
    }
}

/* 8-byte little-endian IEEE double, whatever the host's byte order. */
static void put_double(em_rdb_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_le(b, u, 8);
}

/*
 * Small encodings are written as the blobs Redis 7.0 writes for them
 * (ember's listpacks and intsets are byte for byte Redis's formats), so a
 * load adopts each one after validating it instead of rebuilding it
 * element by element, and a save is a copy. Lists are always a quicklist
 * of listpack nodes (QUICKLIST_2, every node "packed"). Sets in a listpack
 * (7.2's encoding) have no RDB v10 type: they go element by element.
 */
static void put_blob(em_rdb_buf *b, const uint8_t *p, size_t n)
{
    put_len(b, n);
    put_bytes(b, p, n);
}

static void put_list(em_rdb_buf *b, const em_obj *o)
{
    const em_quicklist *ql = ember__obj_body(o);
    uint64_t nodes = 0;
    for (const em_qlnode *n = ql->head; n; n = n->next)
        nodes += n->count > 0;
    put_len(b, nodes);
    for (const em_qlnode *n = ql->head; n; n = n->next) {
        if (!n->count)
            continue; /* Redis refuses empty nodes */
        put_len(b, EM_RDB_QL_PACKED);
        put_blob(b, n->lp, ember__lp_bytes(n->lp));
    }
}

static void put_set(em_rdb_buf *b, const em_obj *o)
{
    if (ember__obj_enc(o) == EM_ENC_INTSET) {
        const uint8_t *is = ember__obj_body(o);
        put_blob(b, is, ember__intset_bytes(is));
        return;
    }
    put_len(b, ember__set_size(o));
    em_set_iter it;
    ember__set_iter_init(&it, o);
    char ib[EM_LLSTR_SIZE];
    size_t len;
    const char *s;
    while ((s = ember__set_iter_next(&it, &len, ib)))
        put_string(b, s, len);
}

static void put_hash(em_rdb_buf *b, const em_obj *o)
{
    if (ember__obj_enc(o) == EM_ENC_LISTPACK) {
        const uint8_t *lp = ember__obj_body(o);
        put_blob(b, lp, ember__lp_bytes(lp));
        return;
    }
    put_len(b, ember__hash_len(o));
    em_hash_iter it;
    em_hval f, v;
    ember__hash_iter_init(&it, (em_obj *)o);
    while (ember__hash_iter_next(&it, &f, &v)) {
        put_string(b, f.ptr, f.len);
        put_string(b, v.ptr, v.len);
    }
}

static void put_zset(em_rdb_buf *b, const em_obj *o)
{
    em_zv v = ember__zv(o);
    if (v.enc == EM_ENC_LISTPACK) {
        put_blob(b, v.lp, ember__lp_bytes(v.lp));
        return;
    }
    put_len(b, ember__zv_len(&v));
    em_zpos pos;
    if (!ember__zv_at(&v, 0, &pos))
        return;
    do {
        uint8_t ib[EM_LP_INTBUF];
        size_t len;
        double score;
        const char *s = ember__zv_get(&v, &pos, &len, &score, ib);
        put_string(b, s, len);
        put_double(b, score);
    } while (ember__zv_step(&v, &pos, 0));
}

static int obj_empty(const em_obj *o)
{
    switch (ember__obj_type(o)) {
    case EM_T_LIST:
        return ((const em_quicklist *)ember__obj_body(o))->count == 0;
    case EM_T_SET:
        return ember__set_size(o) == 0;
    case EM_T_HASH:
        return ember__hash_len(o) == 0;
    case EM_T_ZSET: {
        em_zv v = ember__zv(o);
        return ember__zv_len(&v) == 0;
    }
    default:
        return 0;
    }
}

static int rdb_type_of(const em_obj *o)
{
    int small = ember__obj_enc(o) == EM_ENC_LISTPACK;
    switch (ember__obj_type(o)) {
    case EM_T_STRING:
        return EM_RDB_TYPE_STRING;
    case EM_T_LIST:
        return EM_RDB_TYPE_LIST_QUICKLIST_2;
    case EM_T_SET:
        return ember__obj_enc(o) == EM_ENC_INTSET ? EM_RDB_TYPE_SET_INTSET : EM_RDB_TYPE_SET;
    case EM_T_ZSET:
        return small ? EM_RDB_TYPE_ZSET_LISTPACK : EM_RDB_TYPE_ZSET_2;
    case EM_T_HASH:
        return small ? EM_RDB_TYPE_HASH_LISTPACK : EM_RDB_TYPE_HASH;
    default:
        return -1;
    }
}

static void put_value(em_rdb_buf *b, const em_obj *o)
{
    switch (ember__obj_type(o)) {
    case EM_T_STRING:
        if (ember__obj_enc(o) == EM_ENC_INT) {
            put_int_string(b, ember__obj_int(o));
        } else {
            char ib[EM_LLSTR_SIZE];
            em_strview sv;
            ember__obj_str_view(o, ib, &sv);
            put_string(b, sv.ptr, sv.len);
        }
        break;
    case EM_T_LIST:
        put_list(b, o);
        break;
    case EM_T_SET:
        put_set(b, o);
        break;
    case EM_T_HASH:
        put_hash(b, o);
        break;
    case EM_T_ZSET:
        put_zset(b, o);
        break;
    }
}

int ember__rdb_put_value(em_rdb_buf *b, const em_obj *o)
{
    int t = rdb_type_of(o);
    if (t < 0 || obj_empty(o))
        return -1;
    put_u8(b, (uint8_t)t);
    put_value(b, o);
    return b->oom ? -1 : 0;
}

/* What Redis writes before a key under an LRU policy (IDLE: seconds since
 * the last access) or an LFU one (FREQ: the counter, decayed to now). */
static void put_lru(em_rdb_buf *b, const em_obj *o, const em_settings *cfg, int64_t now_ms)
{
    int64_t p = cfg->maxmemory_policy;
    uint32_t f = ember__obj_lru(o);
    if (p == EM_POLICY_ALLKEYS_LRU || p == EM_POLICY_VOLATILE_LRU) {
        const uint64_t max = 0xFFFFFF;
        uint64_t now = (uint64_t)(now_ms / 1000) & max;
        put_u8(b, EM_RDB_OP_IDLE);
        put_len(b, now >= f ? now - f : now + (max - f));
    } else if (p == EM_POLICY_ALLKEYS_LFU || p == EM_POLICY_VOLATILE_LFU) {
        uint64_t ldt = f >> 8, counter = f & 255;
        uint64_t now = (uint64_t)(now_ms / 60000) & 65535;
        uint64_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
        uint64_t periods = cfg->lfu_decay_time > 0 ? elapsed / (uint64_t)cfg->lfu_decay_time : 0;
        put_u8(b, EM_RDB_OP_FREQ);
        put_u8(b, (uint8_t)(periods > counter ? 0 : counter - periods));
    }
}

static int put_object(em_rdb_buf *b, const em_obj *o, const em_settings *cfg, int64_t now_ms)
{
    int t = rdb_type_of(o);
    if (t < 0 || obj_empty(o))
        return b->oom ? -1 : 0; /* Redis rejects empty collections: skip the key */
    if (ember__obj_has_expire(o)) {
        put_u8(b, EM_RDB_OP_EXPIRETIME_MS);
        put_le(b, (uint64_t)ember__obj_expire(o), 8);
    }
    if (cfg)
        put_lru(b, o, cfg, now_ms);
    put_u8(b, (uint8_t)t);
    size_t klen;
    const char *key = ember__obj_key(o, &klen);
    put_string(b, key, klen);
    put_value(b, o);
    return b->oom ? -1 : 0;
}

int ember__rdb_put_object(em_rdb_buf *b, const em_obj *o)
{
    return put_object(b, o, NULL, 0);
}

int ember__rdb_put_object_lru(em_rdb_buf *b, const em_obj *o, const em_settings *cfg,
                              int64_t now_ms)
{
    return put_object(b, o, cfg, now_ms);
}

/*
 * The checksum covers every byte of the stream before the 8 CRC bytes,
 * the EOF opcode included. The caller has summed what it already took out
 * of the buffer (crc_before_eof: the CRC-64 of every stream byte that is no
 * longer in b, 0 if it never flushed); this folds in what is still in b and
 * the EOF byte, then appends the CRC. So a caller that flushes everything
 * before the call passes the CRC of the whole stream so far, and one that
 * never flushes passes 0.
 */
void ember__rdb_put_eof(em_rdb_buf *b, uint64_t crc_before_eof)
{
    put_u8(b, EM_RDB_OP_EOF);
    if (b->oom)
        return;
    uint64_t crc = ember__crc64(crc_before_eof, b->p, b->len);
    put_le(b, crc, 8);
}
