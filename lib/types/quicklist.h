/*
 * quicklist.h — the list value: a doubly linked list of listpack nodes.
 *
 * Redis 7.0 stores every list this way (OBJECT ENCODING "quicklist", even for
 * a list of one element; the single-listpack list encoding came with 7.2), so
 * ember does too: a small list is a quicklist of one node.
 *
 * Node size follows list-max-listpack-size as 7.0 applies it, captured when
 * the list is created (CONFIG SET affects new lists only, as in Redis):
 *   fill < 0 (-1..-5)  a node's listpack stays within 4/8/16/32/64 KB;
 *   fill > 0           at most `fill` elements per node, and within 8 KB
 *                      (Redis's safety limit) unless the node has one element.
 * An element too big for any node gets a node of its own. (7.0's "plain"
 * nodes start at 1 GB elements, beyond proto-max-bulk-len: not needed.)
 * list-compress-depth is accepted but nodes are not LZF-compressed; that
 * changes memory use only, never a reply.
 *
 * Invariants: no node is empty; every node's `count` is its listpack's
 * element count; ql->count is their sum and ql->len the number of nodes.
 *
 * Cost: index operations walk nodes (by their counts) from the nearer end of
 * the list, then elements within one node, also from its nearer end; a node
 * is at most 64 KB, so splitting, merging or editing one costs O(64 KB) at
 * worst. Nothing here walks the whole list except dup, free and deletion of
 * a range (which frees whole nodes at O(1) each).
 *
 * Every allocation goes through the store's em_mem. Functions that allocate
 * return 0 or -1 (out of memory: the list is unchanged). Executor thread only.
 */
#ifndef EMBER_QUICKLIST_H
#define EMBER_QUICKLIST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/alloc.h"

/* Redis's SIZE_SAFETY_LIMIT: count-limited nodes stay within 8 KB too. */
#define EM_QL_SAFETY_LIMIT 8192
/* Largest count-based fill Redis accepts (larger values are clamped). */
#define EM_QL_FILL_MAX 32768

typedef struct em_qlnode {
    struct em_qlnode *prev, *next;
    uint8_t *lp;
    uint32_t count;
} em_qlnode;

typedef struct em_quicklist {
    em_qlnode *head, *tail;
    uint64_t count; /* elements */
    uint32_t len;   /* nodes */
    int32_t fill;   /* list-max-listpack-size at creation (clamped) */
} em_quicklist;

/* A position in a list: an element of a node and its index in that node. */
typedef struct em_qlpos {
    em_qlnode *node;
    uint8_t *p;
    uint32_t off;
} em_qlpos;

/* Where to add an element. */
enum { EM_QL_HEAD = 0, EM_QL_TAIL = 1 };

em_quicklist *ember__ql_new(em_mem *m, int64_t fill);
void ember__ql_free(em_mem *m, em_quicklist *ql);
/* A deep copy (COPY). NULL on OOM. O(bytes). */
em_quicklist *ember__ql_dup(em_mem *m, const em_quicklist *ql);

/* Adds s at the head or tail. */
int ember__ql_push(em_mem *m, em_quicklist *ql, const void *s, size_t len, int where);

/* Finds the element at index (negative counts from the end). Returns 1 and
 * fills *pos, or 0 when out of range. */
int ember__ql_index(const em_quicklist *ql, int64_t index, em_qlpos *pos);
/* Moves pos to the next / previous element; 0 (pos unchanged) at the end. */
int ember__ql_next(em_qlpos *pos);
int ember__ql_prev(em_qlpos *pos);

/* Reads the element at pos as a string: integers are rendered into intbuf
 * (EM_LP_INTBUF bytes). Returns the bytes, *len their length. */
const uint8_t *ember__ql_get(const em_qlpos *pos, uint8_t *intbuf, size_t *len);
/* 1 if the element at pos equals s[0..len). */
int ember__ql_eq(const em_qlpos *pos, const void *s, size_t len);

/* Deletes the element at pos. Afterwards pos designates the element that
 * followed it (forward = 1) or preceded it (forward = 0); returns 0 when
 * there is no such element (pos is then invalid). Never fails. */
int ember__ql_delete(em_mem *m, em_quicklist *ql, em_qlpos *pos, int forward);
/* Replaces the element at pos with s (LSET). pos is invalid afterwards. */
int ember__ql_replace(em_mem *m, em_quicklist *ql, const em_qlpos *pos, const void *s, size_t len);
/* Inserts s before (after = 0) or after (after = 1) the element at pos
 * (LINSERT). pos is invalid afterwards. */
int ember__ql_insert(em_mem *m, em_quicklist *ql, const em_qlpos *pos, const void *s, size_t len,
                     int after);
/* Deletes count elements from index start (0 <= start < count of list;
 * count is clipped at the end). Whole nodes are freed without a walk over
 * their elements. Never fails. */
void ember__ql_del_range(em_mem *m, em_quicklist *ql, uint64_t start, uint64_t count);

/* Checks the invariants above (tests): 1 if they hold. */
int ember__ql_check(const em_quicklist *ql);

#endif
