/*
 * listpack.c — Redis 7.0's listpack byte format (see listpack.h for the layout).
 *
 * Invariants of every buffer this file builds:
 *   - bytes [0,4) hold the total size (header and terminator included), which
 *     never exceeds UINT32_MAX and never exceeds the allocation's usable size;
 *   - bytes [4,6) hold the element count, or 65535 once the count has reached
 *     65535 (it then stays "unknown" and ember__lp_length walks);
 *   - entries follow back to back, each = encoding (+ data) + back-length, where
 *     the back-length is the shortest encoding of the size of encoding + data;
 *   - the last byte is the terminator 0xFF, and 0xFF never starts an entry.
 * An integer element always uses the smallest integer encoding that holds it,
 * and a string that is canonical int64 text is always stored as an integer, so
 * the same sequence of elements always produces the same bytes as Redis.
 *
 * Mutations compute the new size, grow the block first (so a failed realloc
 * leaves the old buffer intact), then move the tail with one memmove; a
 * shrinking mutation moves first and gives memory back afterwards, so it
 * cannot fail.
 */
#include "listpack.h"

#include <assert.h>
#include <string.h>

#include "../common/util.h"

#define LP_COUNT_UNKNOWN 65535u
/* Encoding bytes. */
#define LP_ENC_STR32 0xF0
#define LP_ENC_INT16 0xF1
#define LP_ENC_INT24 0xF2
#define LP_ENC_INT32 0xF3
#define LP_ENC_INT64 0xF4
/* Longest encoding header of an integer (0xF4 + 8 bytes) or a string (0xF0 + 4). */
#define LP_MAX_INT_HDR 9
#define LP_MAX_BACKLEN 5
/* Below this much slack a shrinking mutation keeps its block as is. */
#define LP_SHRINK_SLACK 64

/* ---- header fields ---------------------------------------------------- */

static uint32_t rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t hdr_bytes(const uint8_t *lp)
{
    return rd_u32(lp);
}

static unsigned hdr_count(const uint8_t *lp)
{
    return (unsigned)lp[4] | (unsigned)lp[5] << 8;
}

static void set_count(uint8_t *lp, uint64_t n)
{
    if (n > LP_COUNT_UNKNOWN)
        n = LP_COUNT_UNKNOWN;
    lp[4] = (uint8_t)n;
    lp[5] = (uint8_t)(n >> 8);
}

/* Adjusts a known count by delta; an unknown count stays unknown. */
static void add_count(uint8_t *lp, int64_t delta)
{
    unsigned n = hdr_count(lp);
    if (n != LP_COUNT_UNKNOWN)
        set_count(lp, (uint64_t)((int64_t)n + delta));
}

/* ---- entries ---------------------------------------------------------- */

static int is_str(uint8_t b)
{
    return (b & 0xC0) == 0x80 || (b & 0xF0) == 0xE0 || b == LP_ENC_STR32;
}

/* Bytes of the back-length that encodes l. The limits are Redis's, which are
 * one below the powers of 2^7 a group count could hold (16383 takes 3 bytes,
 * not 2): validation demands these exact sizes, so they must match byte for
 * byte or Redis and ember would reject each other's files. */
static size_t backlen_size(uint64_t l)
{
    if (l <= 127)
        return 1;
    if (l < 16383)
        return 2;
    if (l < 2097151)
        return 3;
    if (l < 268435455)
        return 4;
    return 5;
}

/* The back-length stores l in 7-bit groups, most significant group first in
 * memory. The leftmost byte has its high bit clear; every byte to its right has
 * it set. A reader that starts at the entry's last byte and moves left thus
 * knows from each byte whether another group lies further left, and stops
 * exactly on the first back-length byte without touching the entry's data. */
static size_t backlen_write(uint8_t *out, uint64_t l)
{
    size_t n = backlen_size(l);
    for (size_t i = n; i-- > 0;) {
        out[i] = (uint8_t)((l & 127) | (i == 0 ? 0 : 128));
        l >>= 7;
    }
    return n;
}

/* Decodes the back-length whose last byte is at q (see backlen_write). */
static uint64_t backlen_read(const uint8_t *q)
{
    uint64_t l = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b = *q;
        l |= (uint64_t)(b & 127) << shift;
        if (!(b & 128) || shift == 28)
            return l;
        shift += 7;
        q--;
    }
}

/* Size of the encoding + data of the trusted entry at p. */
static size_t enc_size(const uint8_t *p)
{
    uint8_t b = p[0];
    if (b < 0x80)
        return 1;
    if ((b & 0xC0) == 0x80)
        return 1 + (size_t)(b & 0x3F);
    if ((b & 0xE0) == 0xC0)
        return 2;
    if ((b & 0xF0) == 0xE0)
        return 2 + ((size_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case LP_ENC_STR32:
        return 5 + (size_t)rd_u32(p + 1);
    case LP_ENC_INT16:
        return 3;
    case LP_ENC_INT24:
        return 4;
    case LP_ENC_INT32:
        return 5;
    default:
        assert(b == LP_ENC_INT64);
        return 9;
    }
}

/* Whole size of the trusted entry at p, back-length included. */
static size_t entry_size(const uint8_t *p)
{
    size_t e = enc_size(p);
    return e + backlen_size(e);
}

/* Sign-extends the low `bits` bits of u. */
static int64_t sext(uint64_t u, unsigned bits)
{
    uint64_t sign = UINT64_C(1) << (bits - 1);
    return (int64_t)(u ^ sign) - (int64_t)sign;
}

/* Integer value of the trusted integer entry at p. */
static int64_t int_value(const uint8_t *p)
{
    uint8_t b = p[0];
    if (b < 0x80)
        return b;
    if ((b & 0xE0) == 0xC0)
        return sext((uint64_t)(b & 0x1F) << 8 | p[1], 13);
    uint64_t u = 0;
    unsigned n = b == LP_ENC_INT16 ? 2 : b == LP_ENC_INT24 ? 3 : b == LP_ENC_INT32 ? 4 : 8;
    for (unsigned i = 0; i < n; i++)
        u |= (uint64_t)p[1 + i] << (8 * i);
    if (n == 8)
        return u <= INT64_MAX ? (int64_t)u : -(int64_t)~u - 1;
    return sext(u, 8 * n);
}

/* Writes the smallest encoding of v into out; returns its size. */
static size_t int_encode(uint8_t *out, int64_t v)
{
    uint64_t u = (uint64_t)v;
    unsigned n;
    if (v >= 0 && v <= 127) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v >= -4096 && v <= 4095) {
        out[0] = (uint8_t)(0xC0 | ((u >> 8) & 0x1F));
        out[1] = (uint8_t)u;
        return 2;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
        out[0] = LP_ENC_INT16;
        n = 2;
    } else if (v >= -8388608 && v <= 8388607) {
        out[0] = LP_ENC_INT24;
        n = 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        out[0] = LP_ENC_INT32;
        n = 4;
    } else {
        out[0] = LP_ENC_INT64;
        n = 8;
    }
    for (unsigned i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(u >> (8 * i));
    return 1 + n;
}

/* Writes the encoding header of a string of len bytes; returns its size. */
static size_t str_header(uint8_t *out, size_t len)
{
    if (len < 64) {
        out[0] = (uint8_t)(0x80 | len);
        return 1;
    }
    if (len < 4096) {
        out[0] = (uint8_t)(0xE0 | (len >> 8));
        out[1] = (uint8_t)len;
        return 2;
    }
    out[0] = LP_ENC_STR32;
    wr_u32(out + 1, (uint32_t)len);
    return 5;
}

/* ---- basics ----------------------------------------------------------- */

uint8_t *ember__lp_new(em_mem *m, size_t capacity_hint)
{
    size_t cap = capacity_hint > EM_LP_HDR + 1 ? capacity_hint : EM_LP_HDR + 1;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    uint8_t *lp = ember__mem_alloc(m, cap);
    if (!lp)
        return NULL;
    wr_u32(lp, EM_LP_HDR + 1);
    set_count(lp, 0);
    lp[EM_LP_HDR] = EM_LP_EOF;
    return lp;
}

void ember__lp_free(em_mem *m, uint8_t *lp)
{
    ember__mem_free(m, lp);
}

size_t ember__lp_bytes(const uint8_t *lp)
{
    return hdr_bytes(lp);
}

uint32_t ember__lp_length(const uint8_t *lp)
{
    unsigned n = hdr_count(lp);
    if (n != LP_COUNT_UNKNOWN)
        return n;
    uint32_t count = 0;
    for (const uint8_t *p = lp + EM_LP_HDR; *p != EM_LP_EOF; p += entry_size(p))
        count++;
    return count;
}

/* ---- navigation ------------------------------------------------------- */

uint8_t *ember__lp_first(uint8_t *lp)
{
    uint8_t *p = lp + EM_LP_HDR;
    return *p == EM_LP_EOF ? NULL : p;
}

uint8_t *ember__lp_next(uint8_t *lp, uint8_t *p)
{
    (void)lp;
    if (*p == EM_LP_EOF)
        return NULL;
    p += entry_size(p);
    return *p == EM_LP_EOF ? NULL : p;
}

/* p may be an entry or the terminator. */
uint8_t *ember__lp_prev(uint8_t *lp, uint8_t *p)
{
    if (p <= lp + EM_LP_HDR)
        return NULL;
    uint64_t e = backlen_read(p - 1);
    return p - backlen_size(e) - e;
}

uint8_t *ember__lp_last(uint8_t *lp)
{
    return ember__lp_prev(lp, lp + hdr_bytes(lp) - 1);
}

uint8_t *ember__lp_seek(uint8_t *lp, int64_t index)
{
    int64_t n = ember__lp_length(lp);
    if (index < 0)
        index += n;
    if (index < 0 || index >= n)
        return NULL;
    uint8_t *p;
    if (index <= n / 2) {
        p = lp + EM_LP_HDR;
        while (index--)
            p += entry_size(p);
    } else {
        p = lp + hdr_bytes(lp) - 1;
        for (int64_t i = n - index; i > 0; i--)
            p = ember__lp_prev(lp, p);
    }
    return p;
}

/* ---- reading ---------------------------------------------------------- */

const uint8_t *ember__lp_get(const uint8_t *p, int64_t *ival, uint32_t *len, uint8_t *intbuf)
{
    uint8_t b = p[0];
    if ((b & 0xC0) == 0x80) {
        *len = b & 0x3F;
        return p + 1;
    }
    if ((b & 0xF0) == 0xE0) {
        *len = (uint32_t)(b & 0x0F) << 8 | p[1];
        return p + 2;
    }
    if (b == LP_ENC_STR32) {
        *len = rd_u32(p + 1);
        return p + 5;
    }
    int64_t v = int_value(p);
    if (ival)
        *ival = v;
    if (intbuf) {
        *len = (uint32_t)ember__ll_to_str((char *)intbuf, v);
        return intbuf;
    }
    *len = 0;
    return NULL;
}

int ember__lp_get_int(const uint8_t *p, int64_t *v)
{
    if (is_str(p[0]))
        return 0;
    *v = int_value(p);
    return 1;
}

int ember__lp_is_int(const uint8_t *p)
{
    return !is_str(p[0]);
}

int ember__lp_eq(const uint8_t *p, const void *s, size_t len)
{
    uint32_t l;
    int64_t v;
    const uint8_t *d = ember__lp_get(p, &v, &l, NULL);
    if (d)
        return l == len && (len == 0 || memcmp(d, s, len) == 0);
    long long sv;
    return ember__str_to_ll(s, len, &sv) && sv == v;
}

int ember__lp_eq_int(const uint8_t *p, int64_t v)
{
    uint32_t l;
    int64_t iv;
    const uint8_t *d = ember__lp_get(p, &iv, &l, NULL);
    if (!d)
        return iv == v;
    long long sv;
    return ember__str_to_ll((const char *)d, l, &sv) && sv == v;
}

uint8_t *ember__lp_find(uint8_t *lp, uint8_t *p, const void *s, size_t len, unsigned skip)
{
    (void)lp;
    /* Parse the needle once: an integer entry can only equal canonical text. */
    long long sv = 0;
    int s_int = ember__str_to_ll(s, len, &sv);
    while (p && *p != EM_LP_EOF) {
        uint8_t b = p[0];
        size_t e;
        if (is_str(b)) {
            uint32_t l;
            const uint8_t *d = ember__lp_get(p, NULL, &l, NULL);
            if (l == len && (len == 0 || memcmp(d, s, len) == 0))
                return p;
            e = (size_t)(d - p) + l;
        } else {
            if (s_int && int_value(p) == sv)
                return p;
            e = enc_size(p);
        }
        p += e + backlen_size(e);
        for (unsigned i = 0; i < skip && *p != EM_LP_EOF; i++)
            p += entry_size(p);
    }
    return NULL;
}

/* ---- mutation --------------------------------------------------------- */

/*
 * Replaces the `old` bytes at offset `off` with an entry made of hdr[0..hlen)
 * + data[0..dlen) + its back-length, keeping everything else. old == 0 is a
 * pure insertion, hlen == 0 a pure deletion. The caller has made sure data
 * does not point into lp. Returns the buffer or NULL (old buffer intact).
 */
static uint8_t *splice(em_mem *m, uint8_t *lp, size_t off, size_t old, const uint8_t *hdr,
                       size_t hlen, const void *data, size_t dlen)
{
    size_t total = hdr_bytes(lp);
    size_t e = hlen + dlen;
    size_t add = hlen ? e + backlen_size(e) : 0;
    if (add > old && add - old > (size_t)UINT32_MAX - total)
        return NULL; /* would not fit the u32 size field */
    size_t ntotal = total - old + add;
    size_t tail = total - off - old; /* bytes after the replaced region, terminator included */

    if (ntotal > total) {
        if (ntotal > ember__mem_usable(m, lp)) {
            uint8_t *q = ember__mem_realloc(m, lp, ntotal);
            if (!q)
                return NULL;
            lp = q;
        }
        memmove(lp + off + add, lp + off + old, tail);
    } else if (ntotal < total) {
        memmove(lp + off + add, lp + off + old, tail);
    }
    if (hlen) {
        uint8_t *w = lp + off;
        memcpy(w, hdr, hlen);
        if (dlen)
            memcpy(w + hlen, data, dlen);
        backlen_write(w + e, e);
    }
    wr_u32(lp, (uint32_t)ntotal);
    if (ntotal < total && ember__mem_usable(m, lp) - ntotal >= LP_SHRINK_SLACK) {
        uint8_t *q = ember__mem_realloc(m, lp, ntotal);
        if (q)
            lp = q;
    }
    return lp;
}

/* Offset where an insertion relative to p lands, and the bytes it replaces. */
static size_t target(uint8_t *lp, uint8_t *p, int where, size_t *old)
{
    *old = 0;
    if (!p || *p == EM_LP_EOF)
        return hdr_bytes(lp) - 1;
    if (where == EM_LP_AFTER)
        return (size_t)(p - lp) + entry_size(p);
    if (where == EM_LP_REPLACE)
        *old = entry_size(p);
    return (size_t)(p - lp);
}

static uint8_t *insert_encoded(em_mem *m, uint8_t *lp, const uint8_t *hdr, size_t hlen,
                               const void *data, size_t dlen, uint8_t *p, int where, uint8_t **newp)
{
    assert(where != EM_LP_REPLACE || (p && *p != EM_LP_EOF));
    size_t old;
    size_t off = target(lp, p, where, &old);
    uint8_t *q = splice(m, lp, off, old, hdr, hlen, data, dlen);
    if (!q)
        return NULL;
    if (!old)
        add_count(q, 1);
    if (newp)
        *newp = q + off;
    return q;
}

uint8_t *ember__lp_insert_int(em_mem *m, uint8_t *lp, int64_t v, uint8_t *p, int where,
                              uint8_t **newp)
{
    uint8_t hdr[LP_MAX_INT_HDR];
    size_t hlen = int_encode(hdr, v);
    return insert_encoded(m, lp, hdr, hlen, NULL, 0, p, where, newp);
}

uint8_t *ember__lp_insert(em_mem *m, uint8_t *lp, const void *s, size_t len, uint8_t *p, int where,
                          uint8_t **newp)
{
    long long v;
    if (ember__str_to_ll(s, len, &v))
        return ember__lp_insert_int(m, lp, v, p, where, newp);
    if (len > UINT32_MAX)
        return NULL;
    uint8_t hdr[5];
    size_t hlen = str_header(hdr, len);
    const uint8_t *src = s;
    size_t total = hdr_bytes(lp);
    /* An element copied from this very buffer would move under the splice:
     * take a private copy first (rare: e.g. LMOVE within one list). */
    if (len && src >= lp && src < lp + total) {
        uint8_t *copy = ember__mem_alloc(m, len);
        if (!copy)
            return NULL;
        memcpy(copy, src, len);
        uint8_t *q = insert_encoded(m, lp, hdr, hlen, copy, len, p, where, newp);
        ember__mem_free(m, copy);
        return q;
    }
    return insert_encoded(m, lp, hdr, hlen, src, len, p, where, newp);
}

uint8_t *ember__lp_append(em_mem *m, uint8_t *lp, const void *s, size_t len)
{
    return ember__lp_insert(m, lp, s, len, NULL, EM_LP_BEFORE, NULL);
}

uint8_t *ember__lp_prepend(em_mem *m, uint8_t *lp, const void *s, size_t len)
{
    return ember__lp_insert(m, lp, s, len, lp + EM_LP_HDR, EM_LP_BEFORE, NULL);
}

uint8_t *ember__lp_append_int(em_mem *m, uint8_t *lp, int64_t v)
{
    return ember__lp_insert_int(m, lp, v, NULL, EM_LP_BEFORE, NULL);
}

uint8_t *ember__lp_delete(em_mem *m, uint8_t *lp, uint8_t *p, uint8_t **next)
{
    assert(*p != EM_LP_EOF);
    size_t off = (size_t)(p - lp);
    /* Shrinking never fails: splice only moves bytes and may give some back. */
    uint8_t *q = splice(m, lp, off, entry_size(p), NULL, 0, NULL, 0);
    add_count(q, -1);
    if (next)
        *next = q[off] == EM_LP_EOF ? NULL : q + off;
    return q;
}

uint8_t *ember__lp_delete_range(em_mem *m, uint8_t *lp, int64_t index, uint32_t count)
{
    uint8_t *start = ember__lp_seek(lp, index);
    if (!start || count == 0)
        return lp;
    uint8_t *end = start;
    uint32_t n = 0;
    while (n < count && *end != EM_LP_EOF) {
        end += entry_size(end);
        n++;
    }
    uint8_t *q = splice(m, lp, (size_t)(start - lp), (size_t)(end - start), NULL, 0, NULL, 0);
    add_count(q, -(int64_t)n);
    return q;
}

uint8_t *ember__lp_dup(em_mem *m, const uint8_t *lp)
{
    size_t n = hdr_bytes(lp);
    uint8_t *q = ember__mem_alloc(m, n);
    if (q)
        memcpy(q, lp, n);
    return q;
}

/* ---- validation ------------------------------------------------------- */

/*
 * Walks untrusted bytes front to back. Every read is preceded by a check that
 * it stays before the terminator position (end = size - 1), so no byte outside
 * [lp, lp + size) is ever read. Each entry's back-length must be byte for byte
 * the shortest encoding of its encoding + data size — exactly what a builder
 * writes — which also proves that walking backwards from the next entry lands
 * on this one.
 */
int ember__lp_validate_at(const uint8_t *lp, size_t size, size_t *bad_offset)
{
    size_t bad = 0;
    if (size < EM_LP_HDR + 1 || size > UINT32_MAX || hdr_bytes(lp) != size)
        goto fail;
    bad = size - 1;
    if (lp[size - 1] != EM_LP_EOF)
        goto fail;
    const size_t end = size - 1;
    size_t pos = EM_LP_HDR;
    uint64_t count = 0;
    while (pos < end) {
        bad = pos;
        uint8_t b = lp[pos];
        size_t avail = end - pos; /* bytes from pos up to the terminator */
        uint64_t e;
        if (b < 0x80) {
            e = 1;
        } else if ((b & 0xC0) == 0x80) {
            e = 1 + (uint64_t)(b & 0x3F);
        } else if ((b & 0xE0) == 0xC0) {
            e = 2;
        } else if ((b & 0xF0) == 0xE0) {
            if (avail < 2)
                goto fail;
            e = 2 + ((uint64_t)(b & 0x0F) << 8 | lp[pos + 1]);
        } else if (b == LP_ENC_STR32) {
            if (avail < 5)
                goto fail;
            e = 5 + (uint64_t)rd_u32(lp + pos + 1);
        } else if (b >= LP_ENC_INT16 && b <= LP_ENC_INT64) {
            e = b == LP_ENC_INT16 ? 3 : b == LP_ENC_INT24 ? 4 : b == LP_ENC_INT32 ? 5 : 9;
        } else {
            goto fail; /* 0xF5..0xFE are unused; 0xFF before the end */
        }
        uint64_t bl = backlen_size(e);
        if (e + bl > avail)
            goto fail;
        uint8_t want[LP_MAX_BACKLEN];
        backlen_write(want, e);
        if (memcmp(lp + pos + e, want, bl) != 0) {
            bad = pos + (size_t)e;
            goto fail;
        }
        pos += (size_t)(e + bl);
        count++;
    }
    bad = 4;
    if (hdr_count(lp) != LP_COUNT_UNKNOWN && hdr_count(lp) != count)
        goto fail;
    return 1;
fail:
    if (bad_offset)
        *bad_offset = bad;
    return 0;
}

int ember__lp_validate(const uint8_t *lp, size_t size)
{
    return ember__lp_validate_at(lp, size, NULL);
}
