/*
 * intset.c — sorted integer sets in Redis's intset layout (see intset.h).
 *
 * Invariants of every buffer built here: the header's width is 2, 4 or 8 and
 * every element fits it; the elements are strictly ascending; the block
 * holds exactly EM_INTSET_HDR + length x width bytes. All multi-byte fields
 * are little endian and read byte by byte, so alignment and host byte order
 * never matter.
 */
#include "intset.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Element i of a buffer of width w (sign-extended). */
static int64_t rd_elem(const uint8_t *is, uint32_t w, uint32_t i)
{
    const uint8_t *p = is + EM_INTSET_HDR + (size_t)i * w;
    uint64_t u = 0;
    for (uint32_t b = 0; b < w; b++)
        u |= (uint64_t)p[b] << (8 * b);
    if (w < 8 && (u >> (8 * w - 1)) & 1)
        u |= ~(uint64_t)0 << (8 * w);
    return (int64_t)u;
}

static void wr_elem(uint8_t *is, uint32_t w, uint32_t i, int64_t v)
{
    uint8_t *p = is + EM_INTSET_HDR + (size_t)i * w;
    uint64_t u = (uint64_t)v;
    for (uint32_t b = 0; b < w; b++)
        p[b] = (uint8_t)(u >> (8 * b));
}

/* Smallest width that holds v. */
static uint32_t width_for(int64_t v)
{
    if (v >= INT16_MIN && v <= INT16_MAX)
        return 2;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 4;
    return 8;
}

uint8_t *ember__intset_new(em_mem *m)
{
    uint8_t *is = ember__mem_alloc(m, EM_INTSET_HDR);
    if (is) {
        wr32(is, 2);
        wr32(is + 4, 0);
    }
    return is;
}

void ember__intset_free(em_mem *m, uint8_t *is)
{
    ember__mem_free(m, is);
}

uint32_t ember__intset_len(const uint8_t *is)
{
    return rd32(is + 4);
}

uint32_t ember__intset_width(const uint8_t *is)
{
    return rd32(is);
}

size_t ember__intset_bytes(const uint8_t *is)
{
    return EM_INTSET_HDR + (size_t)ember__intset_len(is) * ember__intset_width(is);
}

uint8_t *ember__intset_dup(em_mem *m, const uint8_t *is)
{
    size_t n = ember__intset_bytes(is);
    uint8_t *d = ember__mem_alloc(m, n);
    if (d)
        memcpy(d, is, n);
    return d;
}

int64_t ember__intset_get(const uint8_t *is, uint32_t i)
{
    return rd_elem(is, ember__intset_width(is), i);
}

int ember__intset_find(const uint8_t *is, int64_t v, uint32_t *pos)
{
    uint32_t w = ember__intset_width(is), n = ember__intset_len(is);
    uint32_t lo = 0, hi = n; /* the answer is in [lo, hi] */
    /* A value wider than the elements is outside their range: skip the search. */
    if (width_for(v) > w) {
        if (pos)
            *pos = v < 0 ? 0 : n;
        return 0;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t x = rd_elem(is, w, mid);
        if (x == v) {
            if (pos)
                *pos = mid;
            return 1;
        }
        if (x < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return 0;
}

uint8_t *ember__intset_add(em_mem *m, uint8_t *is, int64_t v, int *added)
{
    uint32_t w = ember__intset_width(is), n = ember__intset_len(is);
    uint32_t nw = width_for(v);
    *added = 0;
    if (nw > w) {
        /* Upgrade: v is outside the range of every element, so it goes first
         * (negative) or last. Rewrite from the end so nothing is overwritten
         * before it is read. */
        uint8_t *r = ember__mem_realloc(m, is, EM_INTSET_HDR + (size_t)(n + 1) * nw);
        if (!r)
            return NULL;
        uint32_t shift = v < 0 ? 1 : 0;
        for (uint32_t i = n; i-- > 0;)
            wr_elem(r, nw, i + shift, rd_elem(r, w, i));
        wr_elem(r, nw, v < 0 ? 0 : n, v);
        wr32(r, nw);
        wr32(r + 4, n + 1);
        *added = 1;
        return r;
    }
    uint32_t pos;
    if (ember__intset_find(is, v, &pos))
        return is;
    uint8_t *r = ember__mem_realloc(m, is, EM_INTSET_HDR + (size_t)(n + 1) * w);
    if (!r)
        return NULL;
    uint8_t *at = r + EM_INTSET_HDR + (size_t)pos * w;
    memmove(at + w, at, (size_t)(n - pos) * w);
    wr_elem(r, w, pos, v);
    wr32(r + 4, n + 1);
    *added = 1;
    return r;
}

uint8_t *ember__intset_remove_at(em_mem *m, uint8_t *is, uint32_t i)
{
    uint32_t w = ember__intset_width(is), n = ember__intset_len(is);
    uint8_t *at = is + EM_INTSET_HDR + (size_t)i * w;
    memmove(at, at + w, (size_t)(n - i - 1) * w);
    wr32(is + 4, n - 1);
    uint8_t *r = ember__mem_realloc(m, is, EM_INTSET_HDR + (size_t)(n - 1) * w);
    return r ? r : is;
}

uint8_t *ember__intset_remove(em_mem *m, uint8_t *is, int64_t v, int *removed)
{
    uint32_t pos;
    *removed = ember__intset_find(is, v, &pos);
    return *removed ? ember__intset_remove_at(m, is, pos) : is;
}

int ember__intset_validate(const uint8_t *is, size_t size, size_t *bad_offset)
{
    size_t bad = 0;
    if (!is || size < EM_INTSET_HDR)
        goto fail;
    uint32_t w = rd32(is);
    if (w != 2 && w != 4 && w != 8)
        goto fail;
    uint64_t n = rd32(is + 4);
    bad = 4;
    if (n == 0 || (size - EM_INTSET_HDR) / w != n || (size - EM_INTSET_HDR) % w != 0)
        goto fail;
    for (uint32_t i = 1; i < n; i++) {
        if (rd_elem(is, w, i - 1) >= rd_elem(is, w, i)) {
            bad = EM_INTSET_HDR + (size_t)i * w;
            goto fail;
        }
    }
    return 1;
fail:
    if (bad_offset)
        *bad_offset = bad;
    return 0;
}
