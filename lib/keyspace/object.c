/*
 * object.c — building, copying and freeing em_obj (layout in object.h).
 */
#include "object.h"

#include "../common/util.h"

static const em_value_ops *type_ops[EM_T__COUNT];

void ember__obj_register_type(int type, const em_value_ops *ops)
{
    type_ops[type] = ops;
}

const em_value_ops *ember__obj_type_ops(int type)
{
    return type_ops[type];
}

const char *ember__type_name(int type)
{
    static const char *const names[EM_T__COUNT] = {"string", "list", "set", "zset", "hash"};
    return type >= 0 && type < EM_T__COUNT ? names[type] : "none";
}

const char *ember__enc_name(int enc)
{
    switch (enc) {
    case EM_ENC_RAW:
        return "raw";
    case EM_ENC_INT:
        return "int";
    case EM_ENC_EMBSTR:
        return "embstr";
    case EM_ENC_HT:
        return "hashtable";
    case EM_ENC_INTSET:
        return "intset";
    case EM_ENC_LISTPACK:
        return "listpack";
    case EM_ENC_QUICKLIST:
        return "quicklist";
    case EM_ENC_SKIPLIST:
        return "skiplist";
    default:
        return "unknown";
    }
}

/* Bytes of the value area for an object's type/encoding (excluding key). */
static size_t value_area_len(const em_obj *o)
{
    if (ember__obj_type(o) == EM_T_SCORED)
        return 8;
    if (ember__obj_type(o) == EM_T_STRING) {
        switch (ember__obj_enc(o)) {
        case EM_ENC_INT:
            return 8;
        case EM_ENC_EMBSTR: {
            uint32_t vl;
            size_t n = ember__varint_get(ember__obj_value_area(o), &vl);
            return n + vl;
        }
        default:
            break;
        }
    }
    return sizeof(void *);
}

/* Allocates an object with room for `vbytes` of value; writes header and key.
 * Returns the object; *varea points at its value area. */
static em_obj *alloc_obj(em_mem *m, const void *key, size_t klen, int type, int enc, int64_t expire,
                         size_t vbytes, uint8_t **varea)
{
    size_t exp = expire >= 0 ? 12 : 0;
    size_t size = EM_OBJ_HDR + exp + ember__varint_len((uint32_t)klen) + klen + vbytes;
    em_obj *o = ember__mem_alloc(m, size);
    if (!o)
        return NULL;
    o->next = NULL;
    o->hdr[0] = (uint8_t)(type | (enc << 3) | (exp ? 0x80 : 0));
    o->hdr[1] = o->hdr[2] = o->hdr[3] = 0;
    uint8_t *p = o->data;
    if (exp) {
        memcpy(p, &expire, 8);
        memset(p + 8, 0, 4);
        p += 12;
    }
    p += ember__varint_put(p, (uint32_t)klen);
    if (klen)
        memcpy(p, key, klen);
    *varea = p + klen;
    return o;
}

em_sds *ember__sds_new(em_mem *m, const void *p, size_t len, size_t cap)
{
    if (cap < len)
        cap = len;
    em_sds *s = ember__mem_alloc(m, sizeof(em_sds) + cap + 1);
    if (!s)
        return NULL;
    s->len = (uint32_t)len;
    s->cap = (uint32_t)cap;
    if (len)
        memcpy(s->buf, p, len);
    s->buf[len] = '\0';
    return s;
}

em_sds *ember__sds_reserve(em_mem *m, em_sds *s, size_t need)
{
    if (need <= s->cap)
        return s;
    /* Double small bodies; grow big ones by 1 MB steps at most beyond need,
     * like Redis's sdsMakeRoomFor, so repeated APPENDs are amortized O(1). */
    size_t cap = need < (1u << 20) ? need * 2 : need + (1u << 20);
    if (cap > (size_t)EM_STRING_MAX + 1)
        cap = need;
    em_sds *n = ember__mem_realloc(m, s, sizeof(em_sds) + cap + 1);
    if (!n)
        return NULL;
    n->cap = (uint32_t)cap;
    return n;
}

em_obj *ember__obj_new_string(em_mem *m, const void *key, size_t klen, const void *val, size_t vlen,
                              int how)
{
    uint8_t *va;
    long long ll;
    if (how == EM_STRENC_AUTO && vlen <= EM_INT_MAX_CHARS && ember__str_to_ll(val, vlen, &ll))
        return ember__obj_new_int(m, key, klen, ll);
    if (how != EM_STRENC_RAW && vlen <= EM_EMBSTR_MAX) {
        em_obj *o = alloc_obj(m, key, klen, EM_T_STRING, EM_ENC_EMBSTR, -1, 1 + vlen, &va);
        if (!o)
            return NULL;
        va += ember__varint_put(va, (uint32_t)vlen);
        if (vlen)
            memcpy(va, val, vlen);
        return o;
    }
    em_sds *s = ember__sds_new(m, val, vlen, vlen);
    if (!s)
        return NULL;
    em_obj *o = alloc_obj(m, key, klen, EM_T_STRING, EM_ENC_RAW, -1, sizeof(void *), &va);
    if (!o) {
        ember__mem_free(m, s);
        return NULL;
    }
    memcpy(va, &s, sizeof s);
    return o;
}

em_obj *ember__obj_new_member(em_mem *m, const void *key, size_t klen)
{
    return ember__obj_new_string(m, key, klen, NULL, 0, EM_STRENC_NOINT);
}

em_obj *ember__obj_new_scored(em_mem *m, const void *key, size_t klen, double score)
{
    uint8_t *va;
    em_obj *o = alloc_obj(m, key, klen, EM_T_SCORED, 0, -1, 8, &va);
    if (o)
        memcpy(va, &score, 8);
    return o;
}

em_obj *ember__obj_new_int(em_mem *m, const void *key, size_t klen, int64_t v)
{
    uint8_t *va;
    em_obj *o = alloc_obj(m, key, klen, EM_T_STRING, EM_ENC_INT, -1, 8, &va);
    if (o)
        memcpy(va, &v, 8);
    return o;
}

em_obj *ember__obj_new_body(em_mem *m, const void *key, size_t klen, int type, int enc, void *body)
{
    uint8_t *va;
    em_obj *o = alloc_obj(m, key, klen, type, enc, -1, sizeof(void *), &va);
    if (o)
        memcpy(va, &body, sizeof body);
    return o;
}

void ember__obj_str_view(const em_obj *o, char *ibuf, em_strview *out)
{
    switch (ember__obj_enc(o)) {
    case EM_ENC_INT:
        out->len = ember__ll_to_str(ibuf, ember__obj_int(o));
        out->ptr = ibuf;
        return;
    case EM_ENC_EMBSTR: {
        const uint8_t *va = ember__obj_value_area(o);
        uint32_t vl;
        size_t n = ember__varint_get(va, &vl);
        out->ptr = (const char *)va + n;
        out->len = vl;
        return;
    }
    default: {
        const em_sds *s = ember__obj_body(o);
        out->ptr = s->buf;
        out->len = s->len;
        return;
    }
    }
}

em_obj *ember__obj_dup_as(em_mem *m, const em_obj *o, const void *key, size_t klen)
{
    int type = ember__obj_type(o), enc = ember__obj_enc(o);
    if (type == EM_T_STRING) {
        if (enc == EM_ENC_INT) {
            em_obj *n = ember__obj_new_int(m, key, klen, ember__obj_int(o));
            if (n) /* a copy is a new object in Redis, never the shared one */
                n->hdr[0] |= EM_OBJ_UNSHARED;
            return n;
        }
        char ibuf[EM_LLSTR_SIZE];
        em_strview v;
        ember__obj_str_view(o, ibuf, &v);
        return ember__obj_new_string(m, key, klen, v.ptr, v.len,
                                     enc == EM_ENC_RAW ? EM_STRENC_RAW : EM_STRENC_NOINT);
    }
    if (type == EM_T_SCORED)
        return ember__obj_new_scored(m, key, klen, ember__obj_score(o));
    const em_value_ops *ops = type_ops[type];
    if (!ops || !ops->dup_body)
        return NULL;
    void *body = ops->dup_body(m, ember__obj_body(o), enc);
    if (!body)
        return NULL;
    em_obj *n = ember__obj_new_body(m, key, klen, type, enc, body);
    if (!n)
        ops->free_body(m, body, enc);
    return n;
}

em_obj *ember__obj_rebuild_expire(em_mem *m, const em_obj *o, int64_t when)
{
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    size_t vbytes = value_area_len(o);
    uint8_t *va;
    em_obj *n = alloc_obj(m, k, kl, ember__obj_type(o), ember__obj_enc(o), when, vbytes, &va);
    if (!n)
        return NULL;
    memcpy(n->hdr + 1, o->hdr + 1, 3);
    n->hdr[0] |= (uint8_t)(o->hdr[0] & EM_OBJ_UNSHARED);
    memcpy(va, ember__obj_value_area(o), vbytes);
    return n;
}

void ember__obj_free_shell(em_mem *m, em_obj *o)
{
    ember__mem_free(m, o);
}

void ember__obj_free(em_mem *m, em_obj *o)
{
    int type = ember__obj_type(o), enc = ember__obj_enc(o);
    if (type == EM_T_STRING) {
        if (enc == EM_ENC_RAW)
            ember__mem_free(m, ember__obj_body(o));
    } else if (type < EM_T__COUNT && type_ops[type] && type_ops[type]->free_body) {
        type_ops[type]->free_body(m, ember__obj_body(o), enc);
    }
    ember__mem_free(m, o);
}

size_t ember__obj_items(const em_obj *o)
{
    int type = ember__obj_type(o);
    if (type == EM_T_STRING || type == EM_T_SCORED)
        return 1;
    const em_value_ops *ops = type_ops[type];
    return ops && ops->body_items ? ops->body_items(ember__obj_body(o), ember__obj_enc(o)) : 1;
}
