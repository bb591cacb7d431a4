/*
 * zset.h — the sorted-set value: its two encodings and the operations the
 * commands (t_zset.c) build on.
 *
 * Encodings (as Redis 7.0):
 *   EM_ENC_LISTPACK  body = a listpack of member, score, member, score...
 *                    sorted by (score, member); scores are stored as Redis
 *                    stores them (integers as listpack integers, others as
 *                    %.17g text), so an RDB writer can copy the buffer.
 *   EM_ENC_SKIPLIST  body = an em_zset: an em_dict of EM_T_SCORED member
 *                    entries (member -> score, O(1) ZSCORE) plus a skiplist
 *                    with spans (O(log n) rank, range and update).
 *
 * Skiplist design: a node does not copy the member. It points at the dict's
 * member entry (which owns the bytes and the authoritative score) and keeps
 * a copy of the score so a search compares scores without touching the
 * entry; only score ties read the member bytes. Per member that is one dict
 * entry (header, key, 8-byte score) and one node (pointer, score, backward
 * link, 16 bytes per level; 1.33 levels on average with p = 1/4). Nodes never
 * point back at the entry's position: deleting by member finds the node by
 * searching (score, member), O(log n), as Redis does.
 *
 * Conversion listpack -> skiplist happens when an insert would make the
 * zset hold more than zset-max-listpack-entries members or a member longer
 * than zset-max-listpack-value bytes; it is O(n) in the size at that moment
 * (n <= zset-max-listpack-entries, 128 by default: worst case one pass over
 * a listpack of 128 pairs, 128 dict inserts and 128 skiplist inserts). A
 * skiplist never converts back except where Redis 7.0 rebuilds a
 * destination (ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE and ZRANGESTORE choose by
 * their final size). Every byte goes through the store's em_mem.
 */
#ifndef EMBER_ZSET_H
#define EMBER_ZSET_H

#include <stddef.h>
#include <stdint.h>

#include "../keyspace/dict.h"

#define EM_ZSL_MAXLEVEL 32

typedef struct em_zsl_node em_zsl_node;
struct em_zsl_node {
    em_obj *obj;  /* the member entry in the dict */
    double score; /* == ember__obj_score(obj) */
    em_zsl_node *backward;
    struct em_zsl_level {
        em_zsl_node *forward;
        size_t span; /* elements skipped by this link (rank distance) */
    } level[];
};

typedef struct em_zsl {
    em_zsl_node *header, *tail;
    size_t length;
    int level;
} em_zsl;

/* The skiplist encoding's body. */
typedef struct em_zset {
    em_dict dict;
    em_zsl zsl;
} em_zset;

/* A score interval. */
typedef struct em_zrange {
    double min, max;
    int minex, maxex; /* exclusive ends */
} em_zrange;

/* A lex bound: a string, or inf = -1 for "-" (below everything), +1 for "+". */
typedef struct em_zlexb {
    const char *p;
    size_t len;
    int inf;
} em_zlexb;

typedef struct em_zlex {
    em_zlexb min, max;
    int minex, maxex;
} em_zlex;

/* Member of a node / entry. */
static inline const char *ember__zsl_ele(const em_zsl_node *n, size_t *len)
{
    return ember__obj_key(n->obj, len);
}

/* Byte order then length, as Redis's sdscmp. */
int ember__zset_cmp(const char *a, size_t al, const char *b, size_t bl);

/* ------------------------------------------------------------- skiplist */

int ember__zsl_init(em_mem *m, em_zsl *zsl);
/* Frees the nodes (not the member entries). */
void ember__zsl_free(em_mem *m, em_zsl *zsl);
/* Inserts obj (not present) with its score. NULL on OOM (nothing changed). */
em_zsl_node *ember__zsl_insert(em_mem *m, em_zsl *zsl, double score, em_obj *obj);
/* Deletes the node of (score, ele); returns its member entry, or NULL. */
em_obj *ember__zsl_delete(em_mem *m, em_zsl *zsl, double score, const char *ele, size_t len);
/* Moves (curscore, ele) to newscore (also written to the entry). Never
 * fails: the node is reused, repositioned in place when it stays in order. */
em_zsl_node *ember__zsl_update_score(em_zsl *zsl, double curscore, const char *ele, size_t len,
                                     double newscore);
/* 1-based rank of (score, ele), 0 if absent. */
size_t ember__zsl_rank(const em_zsl *zsl, double score, const char *ele, size_t len);
/* The node of 1-based rank, or NULL. */
em_zsl_node *ember__zsl_by_rank(const em_zsl *zsl, size_t rank);
/* First / last node in the range, with its 1-based rank; NULL if none. */
em_zsl_node *ember__zsl_first_in_range(const em_zsl *zsl, const em_zrange *r, size_t *rank);
em_zsl_node *ember__zsl_last_in_range(const em_zsl *zsl, const em_zrange *r, size_t *rank);
em_zsl_node *ember__zsl_first_in_lex(const em_zsl *zsl, const em_zlex *r, size_t *rank);
em_zsl_node *ember__zsl_last_in_lex(const em_zsl *zsl, const em_zlex *r, size_t *rank);
/* Deletes ranks [start, end] (1-based, inclusive), calling fn on each
 * deleted member entry. Returns the number deleted. */
size_t ember__zsl_delete_rank_range(em_mem *m, em_zsl *zsl, size_t start, size_t end,
                                    void (*fn)(void *ud, em_obj *o), void *ud);

/* Range predicates (Redis's zslValueGteMin / LteMax / lex versions). */
int ember__zrange_gte_min(double v, const em_zrange *r);
int ember__zrange_lte_max(double v, const em_zrange *r);
int ember__zlex_gte_min(const char *p, size_t len, const em_zlex *r);
int ember__zlex_lte_max(const char *p, size_t len, const em_zlex *r);
/* 0 when the range cannot contain anything (min > max, or equal and an end
 * exclusive). */
int ember__zrange_valid(const em_zrange *r);
int ember__zlex_valid(const em_zlex *r);

/* --------------------------------------------------- the value, any encoding */

/* Reads the score stored at listpack element p (the score after a member). */
double ember__zlp_score(const uint8_t *p);
/* Inserts a score as Redis stores it (integers as listpack integers, -0 as
 * 0, others as %.17g text) relative to p; the buffer or NULL on OOM. */
uint8_t *ember__zlp_insert_score(em_mem *m, uint8_t *lp, double score, uint8_t *p, int where,
                                 uint8_t **newp);

/* A position in either encoding. */
typedef struct em_zpos {
    uint8_t *p;     /* listpack: the member element */
    em_zsl_node *n; /* skiplist */
} em_zpos;

/* A zset value seen through its encoding. */
typedef struct em_zv {
    int enc;
    uint8_t *lp;
    em_zset *zs;
} em_zv;

static inline em_zv ember__zv(const em_obj *o)
{
    em_zv v;
    v.enc = ember__obj_enc(o);
    v.lp = v.enc == EM_ENC_LISTPACK ? ember__obj_body(o) : NULL;
    v.zs = v.enc == EM_ENC_SKIPLIST ? ember__obj_body(o) : NULL;
    return v;
}

size_t ember__zv_len(const em_zv *v);
/* Score of a member: 1 and *score, or 0. */
int ember__zv_score(em_zv *v, const char *ele, size_t len, double *score);
/* Position of 0-based rank (forward order); 0 if out of range. */
int ember__zv_at(em_zv *v, size_t rank, em_zpos *pos);
/* Steps forward (rev = 0) or backward; 0 at the end. */
int ember__zv_step(em_zv *v, em_zpos *pos, int rev);
/* Member and score at pos; buf (EM_LP_INTBUF bytes) renders integer members. */
const char *ember__zv_get(em_zv *v, const em_zpos *pos, size_t *len, double *score, uint8_t *buf);

/* Body constructors and hooks. */
em_zset *ember__zset_new(em_mem *m, uint64_t seed);
void ember__zset_free_body(em_mem *m, void *body, int enc);
void *ember__zset_dup_body(em_mem *m, const void *body, int enc);
size_t ember__zset_body_items(const void *body, int enc);
/* Builds a skiplist body from a listpack body (the listpack is not freed).
 * NULL on OOM. */
em_zset *ember__zset_from_listpack(em_mem *m, uint8_t *lp, uint64_t seed);
/* Builds a listpack body from a skiplist body (not freed). NULL on OOM. */
uint8_t *ember__zset_to_listpack(em_mem *m, const em_zset *zs);
/* Adds a new member (absent) to a skiplist body: entry + node. 0 or -1. */
int ember__zset_sl_add(em_mem *m, em_zset *zs, const char *ele, size_t len, double score);
/* Removes a member of a skiplist body (frees entry and node). 1 if found. */
int ember__zset_sl_del(em_mem *m, em_zset *zs, const char *ele, size_t len);
/* Inserts (ele, score) into the listpack *lpp in order (member absent).
 * Returns 0, or -1 on OOM with *lpp unchanged in content (it may have moved). */
int ember__zlp_insert(em_mem *m, uint8_t **lpp, const char *ele, size_t len, double score);
/* Deletes the pair whose member element is p; returns the buffer. */
uint8_t *ember__zlp_delete(em_mem *m, uint8_t *lp, uint8_t *p);
/* Finds a member in a listpack: its member element or NULL (*score set). */
uint8_t *ember__zlp_find(uint8_t *lp, const char *ele, size_t len, double *score);

#endif
