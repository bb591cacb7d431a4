/*
 * coll.h — what the collection types (lists, hashes, sets, sorted sets) and
 * the key commands share, so no two handlers carry their own copy:
 *
 *   - typed key lookup (WRONGTYPE reply in one place);
 *   - the SCAN family: cursor parsing, MATCH/COUNT(/TYPE) options, and
 *     collecting whole buckets of an em_dict with Redis's 10 x COUNT budget;
 *   - index ranges (LRANGE, ZRANGE by rank, ZREMRANGEBYRANK);
 *   - the argument shape of LMPOP/BLMPOP/ZMPOP/BZMPOP.
 *   - a pointer set for drawing random entries without repeats.
 *
 * Executor thread only, like every handler.
 */
#ifndef EMBER_COLL_H
#define EMBER_COLL_H

#include "../command/command.h"
#include "../common/util.h"

/* Looks up argv[i] for reading (write = 0) or writing (write = 1) and checks
 * its type. Returns 1 with *out = the object (NULL when the key does not
 * exist), or 0 after replying WRONGTYPE. pos may be NULL. */
int ember__coll_lookup(em_ctx *c, size_t i, int type, int write, em_obj **out, em_dpos *pos);

/* --------------------------------------------------------------- scanning */

typedef struct em_scan_opts {
    long long count;  /* COUNT, default 10 */
    const char *pat;  /* MATCH pattern or NULL */
    size_t plen;      /* its length */
    int use_pattern;  /* pat given and not a lone "*" */
    const char *type; /* TYPE (SCAN only) or NULL */
    size_t tlen;
} em_scan_opts;

/* Parses a cursor as Redis does with strtoul (optional sign, digits, nothing
 * after; the argument ends at its first NUL byte). Replies "ERR invalid
 * cursor" and returns 0 on failure. */
int ember__scan_cursor(em_ctx *c, size_t i, uint64_t *cursor);
/* Parses [MATCH pattern] [COUNT count] (and [TYPE type] when allow_type) from
 * argv[first] on. Replies with Redis's error and returns 0 on failure. */
int ember__scan_opts(em_ctx *c, size_t first, int allow_type, em_scan_opts *o);
/* 1 if s passes the MATCH filter of o. */
int ember__scan_match(const em_scan_opts *o, const void *s, size_t len);

/* A growable array of object pointers (malloc'd: scratch space of one
 * command, not part of the store's accounted memory). */
typedef struct em_objvec {
    em_obj **v;
    size_t n, cap;
    int oom;
} em_objvec;

void ember__objvec_push(em_objvec *v, em_obj *o);
void ember__objvec_free(em_objvec *v);

/* Advances a dict scan from *cursor, collecting whole buckets until `count`
 * objects are collected or 10 x count buckets were visited (Redis's budget),
 * or the scan completes (*cursor becomes 0). Check v->oom afterwards. */
void ember__scan_collect(em_dict *d, uint64_t *cursor, long long count, em_objvec *v);

/* Writes the [cursor, [...]] frame's first part: a 2-array and the cursor as
 * a bulk string. The caller then writes the element array. */
void ember__scan_reply_cursor(em_ctx *c, uint64_t cursor);

/* ----------------------------------------------------------------- ranges */

/* Normalizes an inclusive index range [start, end] (negative = from the end)
 * over len elements as LRANGE and ZRANGE do. Returns 0 when it selects
 * nothing, else 1 with 0 <= *s <= *e < len. */
int ember__range_clip(long long start, long long end, long long len, long long *s, long long *e);

/* ------------------------------------------------------------------- mpop */

/* Arguments of LMPOP / BLMPOP / ZMPOP / BZMPOP:
 *   numkeys key [key ...] <dir_a|dir_b> [COUNT count]
 * starting at argv[numkeys_idx]. dir_a/dir_b are the lower-case keywords
 * ("left"/"right", "min"/"max"). On success *where is 0 for dir_a and 1 for
 * dir_b, keys are argv[numkeys_idx + 1 .. numkeys_idx + *nkeys], and *count is
 * COUNT (1 when absent). Replies with Redis's error and returns 0 on failure. */
int ember__mpop_args(em_ctx *c, size_t numkeys_idx, const char *dir_a, const char *dir_b,
                     size_t *nkeys, int *where, long long *count);

/* ------------------------------------------------------ distinct sampling */

/* A set of distinct non-NULL pointers (open addressing, malloc'd scratch of
 * one command) for HRANDFIELD / SRANDMEMBER drawing entries without repeats. */
typedef struct em_ptrset {
    const void **slot;
    size_t mask;
} em_ptrset;

/* Room for n pointers. 0, or -1 when out of memory. */
int ember__ptrset_init(em_ptrset *s, size_t n);
/* Adds p (non-NULL); 1 if it was not there yet. */
int ember__ptrset_add(em_ptrset *s, const void *p);
void ember__ptrset_free(em_ptrset *s);

/* -------------------------------------------------------- reading a set */

/* Read-only access to a set value of any encoding (intset, listpack,
 * hashtable) for other types' commands (ZUNION and friends take sets as
 * inputs). Implemented in t_zset.c from the set's in-lib representation. */
typedef struct em_set_iter {
    int enc;
    void *body;
    size_t i;    /* intset index / hashtable bucket */
    int table;   /* hashtable: which table */
    em_obj *cur; /* hashtable: next entry of the current chain */
    uint8_t *p;  /* listpack: next element */
} em_set_iter;

/* A set's hashtable body (in t_set.c), for SADD and friends and the RDB
 * loader. NULL when out of memory. */
em_dict *ember__set_ht_new(em_mem *m, uint64_t seed);
/* Adds a member to a set's hashtable: 1 added, 0 present, -1 OOM. */
int ember__set_ht_add(em_dict *d, const void *p, size_t len);

size_t ember__set_size(const em_obj *o);
void ember__set_iter_init(em_set_iter *it, const em_obj *o);
/* Next member (an integer rendered into buf, EM_LLSTR_SIZE bytes), or NULL. */
const char *ember__set_iter_next(em_set_iter *it, size_t *len, char *buf);
int ember__set_contains(const em_obj *o, const char *p, size_t len);

/* OBJECT REFCOUNT's and OBJECT IDLETIME's answers for a key's object (t_keys.c;
 * DEBUG OBJECT reports them too). */
int64_t ember__key_refcount(const em_ctx *c, const em_obj *o);
int64_t ember__key_idle_s(em_ctx *c, const em_obj *o);

#endif
