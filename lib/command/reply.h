/*
 * reply.h — how handlers reply, and the reply tree returned to C callers.
 *
 * Handlers never build replies directly: they call em_reply_*() on their
 * context, which forward to a sink. Sinks: the tree sink (ember_reply for the
 * C API), the capture sink (typed wrappers: one scalar, no tree), and later
 * the RESP encoder of the server. Aggregates are written as a header with a
 * count followed by their elements; a count not known in advance is given
 * as EM_DEFERRED and settled with agg_end.
 */
#ifndef EMBER_REPLY_H
#define EMBER_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/ember.h"

#define EM_DEFERRED SIZE_MAX

typedef struct em_sink_ops {
    void (*status)(void *s, const char *p, size_t n);
    void (*error)(void *s, int code, const char *p, size_t n);
    void (*integer)(void *s, int64_t v);
    void (*dbl)(void *s, double v);
    void (*bulk)(void *s, const char *p, size_t n);
    void (*nil)(void *s);
    void (*boolean)(void *s, int v);
    /* type: EMBER_REPLY_ARRAY / MAP (n = pairs) / SET; n may be EM_DEFERRED. */
    void (*agg)(void *s, int type, size_t n);
    /* Settles the innermost deferred aggregate with its final count. */
    void (*agg_end)(void *s, size_t n);
} em_sink_ops;

/* Where a reply node lives: its own malloc block (freed with the tree), a
 * shared constant (never freed), or an arena (freed with the arena). */
enum { EM_REPLY_HEAP = 0, EM_REPLY_STATIC = 1, EM_REPLY_ARENA = 2 };

/* The reply tree (the public ember_reply). Scalars keep their bytes inline. */
struct ember_reply {
    int16_t type;
    uint16_t where;  /* EM_REPLY_HEAP / STATIC / ARENA */
    int32_t errcode; /* ERROR: the EMBER_E* code */
    size_t len;      /* bytes of str, or elements of an aggregate (MAP: 2 x pairs) */
    union {
        int64_t i;
        double d;
        struct ember_reply **elems;
    } u;
    char *str; /* STATUS/ERROR/STRING/DOUBLE text; points inline */
};

/* A bump allocator for reply trees that are freed all at once (a batch's
 * replies): chunks are kept across resets, so a batch executed again
 * allocates nothing. */
typedef struct em_arena_chunk {
    struct em_arena_chunk *next;
    size_t used, cap;
    char data[];
} em_arena_chunk;

typedef struct em_arena {
    em_arena_chunk *head; /* chunk being filled */
    em_arena_chunk *full; /* chunks filled earlier */
} em_arena;

void *ember__arena_alloc(em_arena *a, size_t n);
/* Forgets every allocation but keeps the memory for reuse. */
void ember__arena_reset(em_arena *a);
void ember__arena_free(em_arena *a);

/* Tree sink: builds an ember_reply with the C library's malloc, or in
 * `arena` when it is set. */
typedef struct em_tree_sink {
    em_arena *arena;
    struct ember_reply *root;
    struct ember_reply *stack[32];
    size_t left[32]; /* elements still expected; SIZE_MAX while deferred */
    size_t cap[32];  /* element capacity of deferred aggregates */
    int depth;
    int oom;
} em_tree_sink;

extern const em_sink_ops ember__tree_sink_ops;
void ember__tree_sink_init(em_tree_sink *t);
/* Takes the finished root (NULL on OOM; then everything is freed). */
struct ember_reply *ember__tree_sink_take(em_tree_sink *t);
void ember__reply_tree_free(struct ember_reply *r);
/* A one-node ERROR reply (for API-level errors delivered as replies). */
struct ember_reply *ember__reply_new_error(int code, const char *msg);

/* Capture sink: keeps the first scalar (typed wrappers). Bulk bytes are
 * copied into a malloc'd buffer handed to the caller, unless `want_bulk` is 0. */
typedef struct em_capture_sink {
    int type;    /* EMBER_REPLY_* of the top-level reply */
    int errcode; /* for ERROR */
    int64_t i;
    double d;
    char *bulk; /* malloc'd copy, NUL-terminated */
    size_t len;
    int want_bulk, depth, oom;
    int64_t count; /* number of top-level aggregate elements */
} em_capture_sink;

extern const em_sink_ops ember__capture_sink_ops;

/* Throws away what a tree or capture sink holds and writes an error reply
 * instead (the append log failed to make the reply's write durable).
 * Returns 0, or -1 for another kind of sink (left as it is). */
int ember__sink_replace_error(const em_sink_ops *so, void *sink, int code, const char *msg);

/* Maps a Redis error message to an EMBER_E* code (by its text). */
int ember__error_code_for(const char *msg, size_t len);

#endif
