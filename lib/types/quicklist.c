/*
 * quicklist.c — the list value (see quicklist.h for the layout, the fill
 * rules and the invariants).
 *
 * Node-size decisions follow Redis 7.0's quicklist: an element may join a
 * node if the node's listpack, grown by the element and its entry overhead,
 * stays within the size limit (negative fill) or within 8 KB and the count
 * limit (positive fill); two nodes merge under the same limits. Worst cases:
 * a split or a merge copies one node (<= 64 KB, or one oversized element); a
 * push, pop, LSET or LINSERT touches at most three nodes; nothing is ever
 * converted as a whole, so no single command pauses on a big list except by
 * the work it is asked to do (LRANGE's output, LREM's scan, COPY's copy).
 */
#include <assert.h>
#include <string.h>

#include "listpack.h"
#include "quicklist.h"

/* Redis 7.0's optimization_level: node byte limits for fill -1..-5. */
static const size_t size_limits[] = {4096, 8192, 16384, 32768, 65536};

/* 1 if sz bytes satisfy a size-based fill. */
static int size_meets(size_t sz, int32_t fill)
{
    if (fill >= 0)
        return 0;
    size_t level = (size_t)(-(int64_t)fill) - 1;
    return level < 5 && sz <= size_limits[level];
}

/* 1 if an element of sz bytes may be added to node n. */
static int allow_insert(const em_qlnode *n, int32_t fill, size_t sz)
{
    if (!n)
        return 0;
    /* The listpack entry's encoding header and back-length, overestimated
     * as Redis does (an integer is smaller). */
    size_t overhead = (sz < 254 ? 1 : 5) + (sz < 64 ? 1 : sz < 16384 ? 2 : 5);
    size_t nsz = ember__lp_bytes(n->lp) + sz + overhead;
    if (size_meets(nsz, fill))
        return 1;
    if (nsz > EM_QL_SAFETY_LIMIT)
        return 0;
    return (int64_t)n->count < fill;
}

/* 1 if nodes a and b may become one. */
static int allow_merge(const em_qlnode *a, const em_qlnode *b, int32_t fill)
{
    if (!a || !b)
        return 0;
    size_t msz = ember__lp_bytes(a->lp) + ember__lp_bytes(b->lp) - (EM_LP_HDR + 1);
    if (size_meets(msz, fill))
        return 1;
    if (msz > EM_QL_SAFETY_LIMIT)
        return 0;
    return (int64_t)a->count + b->count <= fill;
}

/* 1 if node n is within the limits (a single element always is). */
static int node_fits(const em_qlnode *n, int32_t fill)
{
    size_t sz = ember__lp_bytes(n->lp);
    if (n->count <= 1 || size_meets(sz, fill))
        return 1;
    return sz <= EM_QL_SAFETY_LIMIT && (int64_t)n->count <= fill;
}

/* Appends a copy of the element at p (of another listpack) to lp. */
static uint8_t *append_elem(em_mem *m, uint8_t *lp, const uint8_t *p)
{
    int64_t v;
    if (ember__lp_get_int(p, &v))
        return ember__lp_append_int(m, lp, v);
    uint32_t len;
    const uint8_t *s = ember__lp_get(p, NULL, &len, NULL);
    return ember__lp_append(m, lp, s, len);
}

static em_qlnode *node_new(em_mem *m, uint8_t *lp, uint32_t count)
{
    em_qlnode *n = ember__mem_alloc(m, sizeof *n);
    if (!n)
        return NULL;
    n->prev = n->next = NULL;
    n->lp = lp;
    n->count = count;
    return n;
}

/* A node holding the single element s. */
static em_qlnode *node_with(em_mem *m, const void *s, size_t len)
{
    uint8_t *lp = ember__lp_new(m, len + 16);
    if (!lp)
        return NULL;
    uint8_t *q = ember__lp_append(m, lp, s, len);
    if (!q) {
        ember__lp_free(m, lp);
        return NULL;
    }
    em_qlnode *n = node_new(m, q, 1);
    if (!n)
        ember__lp_free(m, q);
    return n;
}

static void node_free(em_mem *m, em_qlnode *n)
{
    ember__lp_free(m, n->lp);
    ember__mem_free(m, n);
}

/* Links n after ref (ref NULL: at the head). */
static void link_after(em_quicklist *ql, em_qlnode *ref, em_qlnode *n)
{
    n->prev = ref;
    n->next = ref ? ref->next : ql->head;
    if (n->next)
        n->next->prev = n;
    else
        ql->tail = n;
    if (ref)
        ref->next = n;
    else
        ql->head = n;
    ql->len++;
    ql->count += n->count;
}

static void unlink_node(em_mem *m, em_quicklist *ql, em_qlnode *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        ql->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        ql->tail = n->prev;
    ql->len--;
    ql->count -= n->count;
    node_free(m, n);
}

/* Splits n so it keeps its first k elements (0 < k < count) and a new node
 * after it holds the rest. Returns the new node, or NULL on OOM (n intact).
 * Copies the moved elements once: O(node bytes). */
static em_qlnode *split_node(em_mem *m, em_quicklist *ql, em_qlnode *n, uint32_t k)
{
    assert(k > 0 && k < n->count);
    uint8_t *p = ember__lp_seek(n->lp, k);
    size_t moved = ember__lp_bytes(n->lp) - (size_t)(p - n->lp);
    uint8_t *lp = ember__lp_new(m, moved + EM_LP_HDR);
    for (; lp && p; p = ember__lp_next(n->lp, p)) {
        uint8_t *q = append_elem(m, lp, p);
        if (!q) {
            ember__lp_free(m, lp);
            lp = NULL;
        }
        lp = q;
    }
    if (!lp)
        return NULL;
    em_qlnode *r = node_new(m, lp, n->count - k);
    if (!r) {
        ember__lp_free(m, lp);
        return NULL;
    }
    n->lp = ember__lp_delete_range(m, n->lp, k, n->count - k);
    ql->count -= r->count;
    n->count = k;
    link_after(ql, n, r);
    return r;
}

/* Merges b (which follows a) into a when the limits allow; on OOM nothing
 * changes. Builds the merged listpack fresh so failure leaves no half state. */
static void try_merge(em_mem *m, em_quicklist *ql, em_qlnode *a, em_qlnode *b)
{
    if (!allow_merge(a, b, ql->fill))
        return;
    assert(a->next == b);
    uint8_t *lp = ember__lp_new(m, ember__lp_bytes(a->lp) + ember__lp_bytes(b->lp));
    const em_qlnode *src[2] = {a, b};
    for (int i = 0; i < 2 && lp; i++) {
        for (uint8_t *p = ember__lp_first(src[i]->lp); lp && p; p = ember__lp_next(src[i]->lp, p)) {
            uint8_t *q = append_elem(m, lp, p);
            if (!q)
                ember__lp_free(m, lp);
            lp = q;
        }
    }
    if (!lp)
        return;
    ember__lp_free(m, a->lp);
    a->lp = lp;
    a->count += b->count;
    ql->count += b->count;
    unlink_node(m, ql, b);
}

/* ------------------------------------------------------------ public */

em_quicklist *ember__ql_new(em_mem *m, int64_t fill)
{
    em_quicklist *ql = ember__mem_alloc(m, sizeof *ql);
    if (!ql)
        return NULL;
    ql->head = ql->tail = NULL;
    ql->count = 0;
    ql->len = 0;
    ql->fill = fill > EM_QL_FILL_MAX ? EM_QL_FILL_MAX : fill < -5 ? -5 : (int32_t)fill;
    return ql;
}

void ember__ql_free(em_mem *m, em_quicklist *ql)
{
    if (!ql)
        return;
    for (em_qlnode *n = ql->head; n;) {
        em_qlnode *next = n->next;
        node_free(m, n);
        n = next;
    }
    ember__mem_free(m, ql);
}

em_quicklist *ember__ql_dup(em_mem *m, const em_quicklist *ql)
{
    em_quicklist *d = ember__ql_new(m, ql->fill);
    if (!d)
        return NULL;
    for (const em_qlnode *n = ql->head; n; n = n->next) {
        uint8_t *lp = ember__lp_dup(m, n->lp);
        em_qlnode *c = lp ? node_new(m, lp, n->count) : NULL;
        if (!c) {
            if (lp)
                ember__lp_free(m, lp);
            ember__ql_free(m, d);
            return NULL;
        }
        link_after(d, d->tail, c);
    }
    return d;
}

int ember__ql_push(em_mem *m, em_quicklist *ql, const void *s, size_t len, int where)
{
    em_qlnode *n = where == EM_QL_TAIL ? ql->tail : ql->head;
    if (allow_insert(n, ql->fill, len)) {
        uint8_t *lp = where == EM_QL_TAIL ? ember__lp_append(m, n->lp, s, len)
                                          : ember__lp_prepend(m, n->lp, s, len);
        if (!lp)
            return -1;
        n->lp = lp;
        n->count++;
        ql->count++;
        return 0;
    }
    em_qlnode *nn = node_with(m, s, len);
    if (!nn)
        return -1;
    if (where == EM_QL_TAIL)
        link_after(ql, ql->tail, nn);
    else
        link_after(ql, NULL, nn);
    return 0;
}

int ember__ql_index(const em_quicklist *ql, int64_t index, em_qlpos *pos)
{
    uint64_t i;
    if (index < 0) {
        if ((uint64_t)(-(index + 1)) >= ql->count)
            return 0;
        i = ql->count - (uint64_t)(-(index + 1)) - 1;
    } else {
        if ((uint64_t)index >= ql->count)
            return 0;
        i = (uint64_t)index;
    }
    em_qlnode *n;
    uint64_t first; /* list index of n's first element */
    if (i < ql->count / 2) {
        n = ql->head;
        first = 0;
        while (i >= first + n->count) {
            first += n->count;
            n = n->next;
        }
    } else {
        n = ql->tail;
        first = ql->count - n->count;
        while (i < first) {
            n = n->prev;
            first -= n->count;
        }
    }
    pos->node = n;
    pos->off = (uint32_t)(i - first);
    pos->p = ember__lp_seek(n->lp, pos->off);
    return 1;
}

int ember__ql_next(em_qlpos *pos)
{
    uint8_t *q = ember__lp_next(pos->node->lp, pos->p);
    if (q) {
        pos->p = q;
        pos->off++;
        return 1;
    }
    if (!pos->node->next)
        return 0;
    pos->node = pos->node->next;
    pos->p = ember__lp_first(pos->node->lp);
    pos->off = 0;
    return 1;
}

int ember__ql_prev(em_qlpos *pos)
{
    if (pos->off > 0) {
        pos->p = ember__lp_prev(pos->node->lp, pos->p);
        pos->off--;
        return 1;
    }
    if (!pos->node->prev)
        return 0;
    pos->node = pos->node->prev;
    pos->p = ember__lp_last(pos->node->lp);
    pos->off = pos->node->count - 1;
    return 1;
}

const uint8_t *ember__ql_get(const em_qlpos *pos, uint8_t *intbuf, size_t *len)
{
    uint32_t l;
    const uint8_t *s = ember__lp_get(pos->p, NULL, &l, intbuf);
    *len = l;
    return s;
}

int ember__ql_eq(const em_qlpos *pos, const void *s, size_t len)
{
    return ember__lp_eq(pos->p, s, len);
}

int ember__ql_delete(em_mem *m, em_quicklist *ql, em_qlpos *pos, int forward)
{
    em_qlnode *n = pos->node;
    if (n->count == 1) {
        em_qlnode *nb = forward ? n->next : n->prev;
        unlink_node(m, ql, n);
        if (!nb)
            return 0;
        pos->node = nb;
        pos->off = forward ? 0 : nb->count - 1;
        pos->p = forward ? ember__lp_first(nb->lp) : ember__lp_last(nb->lp);
        return 1;
    }
    uint8_t *next;
    n->lp = ember__lp_delete(m, n->lp, pos->p, &next);
    n->count--;
    ql->count--;
    if (forward) {
        if (next) {
            pos->p = next;
            return 1;
        }
        if (!n->next)
            return 0;
        pos->node = n->next;
        pos->p = ember__lp_first(pos->node->lp);
        pos->off = 0;
        return 1;
    }
    if (pos->off > 0) {
        pos->p = next ? ember__lp_prev(n->lp, next) : ember__lp_last(n->lp);
        pos->off--;
        return 1;
    }
    if (!n->prev)
        return 0;
    pos->node = n->prev;
    pos->p = ember__lp_last(pos->node->lp);
    pos->off = pos->node->count - 1;
    return 1;
}

int ember__ql_replace(em_mem *m, em_quicklist *ql, const em_qlpos *pos, const void *s, size_t len)
{
    em_qlnode *n = pos->node;
    uint8_t *lp = ember__lp_insert(m, n->lp, s, len, pos->p, EM_LP_REPLACE, NULL);
    if (!lp)
        return -1;
    n->lp = lp;
    if (node_fits(n, ql->fill))
        return 0;
    /* The new element outgrew the node: give it a node of its own. The
     * parts around it were within the limits before and still are. If a
     * split fails (OOM) the node stays oversized, which is harmless. */
    uint32_t off = pos->off;
    if (off > 0 && !split_node(m, ql, n, off))
        return 0;
    if (off > 0)
        n = n->next;
    if (n->count > 1)
        split_node(m, ql, n, 1);
    return 0;
}

int ember__ql_insert(em_mem *m, em_quicklist *ql, const em_qlpos *pos, const void *s, size_t len,
                     int after)
{
    em_qlnode *n = pos->node;
    int32_t fill = ql->fill;
    if (allow_insert(n, fill, len)) {
        uint8_t *lp =
            ember__lp_insert(m, n->lp, s, len, pos->p, after ? EM_LP_AFTER : EM_LP_BEFORE, NULL);
        if (!lp)
            return -1;
        n->lp = lp;
        n->count++;
        ql->count++;
        return 0;
    }
    em_qlnode *left, *right;
    if (after && pos->off == n->count - 1) {
        left = n;
        right = n->next;
    } else if (!after && pos->off == 0) {
        left = n->prev;
        right = n;
    } else {
        /* Full and in the middle: split at the insertion point. */
        left = n;
        right = split_node(m, ql, n, after ? pos->off + 1 : pos->off);
        if (!right)
            return -1;
    }
    /* The new element goes between left and right: at the end of left, the
     * start of right, or in a node of its own. */
    if (allow_insert(left, fill, len)) {
        uint8_t *lp = ember__lp_append(m, left->lp, s, len);
        if (!lp)
            return -1;
        left->lp = lp;
        left->count++;
        ql->count++;
    } else if (allow_insert(right, fill, len)) {
        uint8_t *lp = ember__lp_prepend(m, right->lp, s, len);
        if (!lp)
            return -1;
        right->lp = lp;
        right->count++;
        ql->count++;
    } else {
        em_qlnode *nn = node_with(m, s, len);
        if (!nn)
            return -1;
        link_after(ql, left, nn);
        /* A split node's halves may now merge with their outer neighbours. */
        if (right && right->next)
            try_merge(m, ql, right, right->next);
        if (left && left->prev)
            try_merge(m, ql, left->prev, left);
    }
    return 0;
}

void ember__ql_del_range(em_mem *m, em_quicklist *ql, uint64_t start, uint64_t count)
{
    em_qlpos pos;
    if (count == 0 || start >= ql->count || !ember__ql_index(ql, (int64_t)start, &pos))
        return;
    if (count > ql->count - start)
        count = ql->count - start;
    em_qlnode *n = pos.node;
    uint32_t off = pos.off;
    while (count && n) {
        em_qlnode *next = n->next;
        if (off == 0 && count >= n->count) {
            count -= n->count;
            unlink_node(m, ql, n);
        } else {
            uint32_t d = n->count - off;
            if (d > count)
                d = (uint32_t)count;
            n->lp = ember__lp_delete_range(m, n->lp, off, d);
            n->count -= d;
            ql->count -= d;
            count -= d;
        }
        n = next;
        off = 0;
    }
}

int ember__ql_check(const em_quicklist *ql)
{
    uint64_t total = 0;
    uint32_t nodes = 0;
    const em_qlnode *prev = NULL;
    for (const em_qlnode *n = ql->head; n; prev = n, n = n->next) {
        if (n->prev != prev || n->count == 0 || ember__lp_length(n->lp) != n->count)
            return 0;
        total += n->count;
        nodes++;
    }
    return prev == ql->tail && total == ql->count && nodes == ql->len;
}
