/*
 * object.h — a key and its value in one allocation.
 *
 * Layout of an em_obj (one malloc per key, no separate dict entry):
 *
 *   next      8  hash-chain link of the keyspace table (intrusive)
 *   hdr[0]    1  type (bits 0-2) | encoding (bits 3-5) | unshared (bit 6) | has-expire (bit 7)
 *   hdr[1..3] 3  24-bit LRU clock (seconds) or LFU counter, as Redis
 *   [expire   8  absolute Unix ms, only when has-expire]
 *   [volidx   4  index in the keyspace's array of volatile keys, same condition]
 *   keylen    1-5 LEB128 varint
 *   key       keylen bytes
 *   value     by encoding: INT 8-byte int64; EMBSTR varint len + bytes;
 *             RAW / collections: a pointer to a separately allocated body
 *
 * A 10-byte key with a 16-byte value is 40 bytes: glibc serves it from a
 * 48-byte chunk, which with the table slot makes ~56 B per key (Redis: ~100).
 * Multi-byte fields are unaligned and read with memcpy.
 */
#ifndef EMBER_OBJECT_H
#define EMBER_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../common/alloc.h"

/* Type numbers match Redis's OBJ_* so persistence can map them directly. */
enum { EM_T_STRING = 0, EM_T_LIST = 1, EM_T_SET = 2, EM_T_ZSET = 3, EM_T_HASH = 4, EM_T__COUNT };

/*
 * Member entries. The big encodings of sets, hashes and sorted sets are an
 * em_dict of em_obj entries (never with an expire), so they share the
 * keyspace's table code (incremental rehash, scan cursor, random pick):
 *   set member   a string object whose value is empty (ember__obj_new_member)
 *   hash field   a string object holding the field's value (ember__obj_new_string)
 *   zset member  type EM_T_SCORED: the member and an 8-byte double score
 * EM_T_SCORED is never a key's type.
 */
#define EM_T_SCORED 5

/* In-memory encodings (never persisted as such). Names: ember__enc_name(). */
enum {
    EM_ENC_RAW = 0,    /* string body in an em_sds */
    EM_ENC_INT = 1,    /* string holding a canonical int64 */
    EM_ENC_EMBSTR = 2, /* short string stored inline */
    EM_ENC_HT = 3,
    EM_ENC_INTSET = 4,
    EM_ENC_LISTPACK = 5,
    EM_ENC_QUICKLIST = 6,
    EM_ENC_SKIPLIST = 7,
    EM_ENC__COUNT = 8
};

/* hdr[0] bit 6: a small integer that Redis would hold as its own object rather
 * than the shared one (a COPY of it), for OBJECT REFCOUNT's sake. */
#define EM_OBJ_UNSHARED 0x40

/* Redis's limits for choosing string encodings. */
#define EM_EMBSTR_MAX 44
#define EM_INT_MAX_CHARS 20
/* Largest string value (proto-max-bulk-len default), as SETRANGE/APPEND check. */
#define EM_STRING_MAX (512ll * 1024 * 1024)

typedef struct em_obj {
    struct em_obj *next;
    uint8_t hdr[4];
    uint8_t data[];
} em_obj;

#define EM_OBJ_HDR offsetof(em_obj, data)

/* A growable string body for RAW strings (APPEND/SETRANGE mutate it in place). */
typedef struct em_sds {
    uint32_t len, cap;
    char buf[];
} em_sds;

/* Per-type hooks for values held by pointer, registered by the type layer. */
typedef struct em_value_ops {
    void (*free_body)(em_mem *m, void *body, int enc);
    void *(*dup_body)(em_mem *m, const void *body, int enc); /* NULL on OOM */
    size_t (*body_items)(const void *body, int enc);         /* for lazy-free decisions */
} em_value_ops;

void ember__obj_register_type(int type, const em_value_ops *ops);
const em_value_ops *ember__obj_type_ops(int type);

static inline int ember__obj_type(const em_obj *o)
{
    return o->hdr[0] & 7;
}
static inline int ember__obj_enc(const em_obj *o)
{
    return (o->hdr[0] >> 3) & 7;
}
static inline int ember__obj_unshared(const em_obj *o)
{
    return (o->hdr[0] & EM_OBJ_UNSHARED) != 0;
}
static inline int ember__obj_has_expire(const em_obj *o)
{
    return o->hdr[0] >> 7;
}
static inline uint32_t ember__obj_lru(const em_obj *o)
{
    return (uint32_t)o->hdr[1] | ((uint32_t)o->hdr[2] << 8) | ((uint32_t)o->hdr[3] << 16);
}
static inline void ember__obj_set_lru(em_obj *o, uint32_t v)
{
    o->hdr[1] = (uint8_t)v;
    o->hdr[2] = (uint8_t)(v >> 8);
    o->hdr[3] = (uint8_t)(v >> 16);
}
static inline int64_t ember__obj_expire(const em_obj *o)
{
    int64_t v;
    if (!ember__obj_has_expire(o))
        return -1;
    memcpy(&v, o->data, 8);
    return v;
}
static inline void ember__obj_set_expire_raw(em_obj *o, int64_t when)
{
    memcpy(o->data, &when, 8);
}
static inline uint32_t ember__obj_volidx(const em_obj *o)
{
    uint32_t v;
    memcpy(&v, o->data + 8, 4);
    return v;
}
static inline void ember__obj_set_volidx(em_obj *o, uint32_t v)
{
    memcpy(o->data + 8, &v, 4);
}

/* Varint (LEB128) helpers: encode returns bytes written (<= 5). */
static inline size_t ember__varint_put(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}
static inline size_t ember__varint_get(const uint8_t *p, uint32_t *v)
{
    uint32_t r = 0;
    size_t n = 0;
    int shift = 0;
    for (;;) {
        uint8_t b = p[n++];
        r |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *v = r;
    return n;
}
static inline size_t ember__varint_len(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Pointer to the key bytes; *len gets the length. */
static inline const char *ember__obj_key(const em_obj *o, size_t *len)
{
    const uint8_t *p = o->data + (ember__obj_has_expire(o) ? 12 : 0);
    uint32_t kl;
    p += ember__varint_get(p, &kl);
    *len = kl;
    return (const char *)p;
}
/* Pointer to the value area (after the key). */
static inline uint8_t *ember__obj_value_area(const em_obj *o)
{
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    return (uint8_t *)(k + kl);
}
/* The body pointer of a RAW string or a collection. */
static inline void *ember__obj_body(const em_obj *o)
{
    void *b;
    memcpy(&b, ember__obj_value_area(o), sizeof b);
    return b;
}
static inline void ember__obj_set_body(em_obj *o, void *b)
{
    memcpy(ember__obj_value_area(o), &b, sizeof b);
}

/* A string value, decoded for reading. For INT, the digits are written into
 * `ibuf` (EM_LLSTR_SIZE bytes) and ptr points there. */
typedef struct em_strview {
    const char *ptr;
    size_t len;
} em_strview;

void ember__obj_str_view(const em_obj *o, char *ibuf, em_strview *out);
/* The INT value of an INT-encoded string. */
static inline int64_t ember__obj_int(const em_obj *o)
{
    int64_t v;
    memcpy(&v, ember__obj_value_area(o), 8);
    return v;
}
static inline void ember__obj_set_int(em_obj *o, int64_t v)
{
    memcpy(ember__obj_value_area(o), &v, 8);
    o->hdr[0] &= (uint8_t)~EM_OBJ_UNSHARED; /* a new value: Redis would share it again */
}

/* How a new string value should be encoded. */
enum {
    EM_STRENC_AUTO = 0,  /* Redis's tryObjectEncoding: int, embstr or raw */
    EM_STRENC_NOINT = 1, /* embstr or raw (e.g. INCRBYFLOAT results) */
    EM_STRENC_RAW = 2,   /* always raw (APPEND, SETRANGE results) */
};

/* Builds a string object for key with value (expire not set). `reserve`
 * extra capacity is given to RAW bodies. NULL on OOM. */
em_obj *ember__obj_new_string(em_mem *m, const void *key, size_t klen, const void *val, size_t vlen,
                              int how);
/* Builds an INT-encoded string object. */
em_obj *ember__obj_new_int(em_mem *m, const void *key, size_t klen, int64_t v);
/* A set member: key only (an empty string value). */
em_obj *ember__obj_new_member(em_mem *m, const void *key, size_t klen);
/* A sorted-set member with its score. */
em_obj *ember__obj_new_scored(em_mem *m, const void *key, size_t klen, double score);
static inline double ember__obj_score(const em_obj *o)
{
    double d;
    memcpy(&d, ember__obj_value_area(o), 8);
    return d;
}
static inline void ember__obj_set_score(em_obj *o, double d)
{
    memcpy(ember__obj_value_area(o), &d, 8);
}
/* Builds an object of another type holding `body` (ownership moves in). */
em_obj *ember__obj_new_body(em_mem *m, const void *key, size_t klen, int type, int enc, void *body);
/* A copy of `o` under another key (values deep-copied), without expire. */
em_obj *ember__obj_dup_as(em_mem *m, const em_obj *o, const void *key, size_t klen);
/* A copy of `o` with room for an expire field (has_expire set to 1, value
 * when) or without it (when < 0). The old object is not freed; bodies are
 * moved, not copied. NULL on OOM. */
em_obj *ember__obj_rebuild_expire(em_mem *m, const em_obj *o, int64_t when);
/* Frees the object and its body. */
void ember__obj_free(em_mem *m, em_obj *o);
/* Frees only the object's own block (its body was moved elsewhere). */
void ember__obj_free_shell(em_mem *m, em_obj *o);
/* Number of elements of a collection (1 for strings): the lazy-free decision. */
size_t ember__obj_items(const em_obj *o);

/* RAW body helpers. */
em_sds *ember__sds_new(em_mem *m, const void *p, size_t len, size_t cap);
/* Grows to at least `need` bytes of capacity (geometric). NULL on OOM (body unchanged). */
em_sds *ember__sds_reserve(em_mem *m, em_sds *s, size_t need);

const char *ember__type_name(int type);
const char *ember__enc_name(int enc);

#endif
