/*
 * reply.c — the tree and capture sinks (reply.h).
 */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

#define ARENA_CHUNK (16 * 1024)

void *ember__arena_alloc(em_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    em_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        /* Reuse a kept chunk if it is big enough, else make one. */
        em_arena_chunk **pp = &a->full, *k = NULL;
        if (c) {
            c->next = a->full;
            a->full = c;
            a->head = NULL;
            pp = &c->next;
        }
        for (; *pp; pp = &(*pp)->next) {
            if ((*pp)->used == 0 && (*pp)->cap >= n) {
                k = *pp;
                *pp = k->next;
                break;
            }
        }
        if (!k) {
            size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
            k = malloc(sizeof *k + cap);
            if (!k)
                return NULL;
            k->cap = cap;
        }
        k->used = 0;
        k->next = NULL;
        a->head = c = k;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void ember__arena_reset(em_arena *a)
{
    if (a->head) {
        a->head->next = a->full;
        a->full = a->head;
        a->head = NULL;
    }
    for (em_arena_chunk *c = a->full; c; c = c->next)
        c->used = 0;
}

void ember__arena_free(em_arena *a)
{
    ember__arena_reset(a);
    em_arena_chunk *c = a->full;
    while (c) {
        em_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->full = a->head = NULL;
}

static void *sink_alloc(em_tree_sink *t, size_t n)
{
    return t && t->arena ? ember__arena_alloc(t->arena, n) : malloc(n);
}

static struct ember_reply *node_new_in(em_tree_sink *t, int type, const char *p, size_t n)
{
    struct ember_reply *r = sink_alloc(t, sizeof *r + (p ? n + 1 : 0));
    if (!r)
        return NULL;
    r->where = t && t->arena ? EM_REPLY_ARENA : EM_REPLY_HEAP;
    r->type = (int16_t)type;
    r->errcode = 0;
    r->len = p ? n : 0;
    r->u.i = 0;
    r->str = NULL;
    if (p) {
        r->str = (char *)(r + 1);
        if (n)
            memcpy(r->str, p, n);
        r->str[n] = '\0';
    }
    return r;
}

static struct ember_reply *node_new(int type, const char *p, size_t n)
{
    return node_new_in(NULL, type, p, n);
}

void ember__reply_tree_free(struct ember_reply *r)
{
    /* Static and arena nodes are owned elsewhere (a tree is all one kind). */
    if (!r || r->where != EM_REPLY_HEAP)
        return;
    if (r->type == EMBER_REPLY_ARRAY || r->type == EMBER_REPLY_MAP || r->type == EMBER_REPLY_SET) {
        for (size_t i = 0; i < r->len; i++)
            ember__reply_tree_free(r->u.elems[i]);
        free(r->u.elems);
    }
    free(r);
}

struct ember_reply *ember__reply_new_error(int code, const char *msg)
{
    struct ember_reply *r = node_new(EMBER_REPLY_ERROR, msg, strlen(msg));
    if (r)
        r->errcode = code;
    return r;
}

void ember__tree_sink_init(em_tree_sink *t)
{
    t->arena = NULL;
    t->root = NULL;
    t->depth = 0;
    t->oom = 0;
}

/* Attaches a finished node to the open aggregate (or as root), closing
 * aggregates whose expected element count is reached. */
static void attach(em_tree_sink *t, struct ember_reply *r)
{
    if (!r) {
        t->oom = 1;
        return;
    }
    if (t->depth == 0) {
        if (t->root) /* a second top-level reply: keep the first */
            ember__reply_tree_free(r);
        else
            t->root = r;
        return;
    }
    struct ember_reply *p = t->stack[t->depth - 1];
    p->u.elems[p->len++] = r;
    if (t->left[t->depth - 1] != SIZE_MAX && --t->left[t->depth - 1] == 0) {
        t->depth--;
        /* A closed aggregate is itself an element of its parent: already
         * attached when it was opened, so only propagate the close. */
    }
}

static int grow_elems(em_tree_sink *t, struct ember_reply *p, size_t *cap)
{
    size_t nc = *cap ? *cap * 2 : 8;
    struct ember_reply **ne;
    if (t->arena) {
        ne = ember__arena_alloc(t->arena, nc * sizeof *ne);
        if (ne && p->len)
            memcpy(ne, p->u.elems, p->len * sizeof *ne);
    } else {
        ne = realloc(p->u.elems, nc * sizeof *ne);
    }
    if (!ne)
        return -1;
    p->u.elems = ne;
    *cap = nc;
    return 0;
}

static void tree_push(em_tree_sink *t, struct ember_reply *r)
{
    if (t->oom) {
        ember__reply_tree_free(r);
        return;
    }
    if (t->depth > 0) {
        struct ember_reply *p = t->stack[t->depth - 1];
        if (t->left[t->depth - 1] == SIZE_MAX && p->len == t->cap[t->depth - 1]) {
            if (grow_elems(t, p, &t->cap[t->depth - 1]) < 0) {
                ember__reply_tree_free(r);
                t->oom = 1;
                return;
            }
        }
    }
    attach(t, r);
}

/* The most common reply, shared: no allocation for "+OK" on the heap path. */
static struct ember_reply ok_reply = {EMBER_REPLY_STATUS, EM_REPLY_STATIC, 0, 2, {0}, "OK"};

static void t_status(void *s, const char *p, size_t n)
{
    em_tree_sink *t = s;
    if (!t->arena && t->depth == 0 && n == 2 && p[0] == 'O' && p[1] == 'K')
        tree_push(t, &ok_reply);
    else
        tree_push(t, node_new_in(t, EMBER_REPLY_STATUS, p, n));
}

static void t_error(void *s, int code, const char *p, size_t n)
{
    struct ember_reply *r = node_new_in(s, EMBER_REPLY_ERROR, p, n);
    if (r)
        r->errcode = code;
    tree_push(s, r);
}

static void t_integer(void *s, int64_t v)
{
    struct ember_reply *r = node_new_in(s, EMBER_REPLY_INTEGER, NULL, 0);
    if (r)
        r->u.i = v;
    tree_push(s, r);
}

static void t_dbl(void *s, double v)
{
    char buf[64];
    size_t n = ember__d_to_str(buf, sizeof buf, v);
    struct ember_reply *r = node_new_in(s, EMBER_REPLY_DOUBLE, buf, n);
    if (r)
        r->u.d = v;
    tree_push(s, r);
}

static void t_bulk(void *s, const char *p, size_t n)
{
    tree_push(s, node_new_in(s, EMBER_REPLY_STRING, p ? p : "", n));
}

static void t_nil(void *s)
{
    tree_push(s, node_new_in(s, EMBER_REPLY_NIL, NULL, 0));
}

static void t_bool(void *s, int v)
{
    struct ember_reply *r = node_new_in(s, EMBER_REPLY_BOOL, NULL, 0);
    if (r)
        r->u.i = v ? 1 : 0;
    tree_push(s, r);
}

static void t_agg(void *s, int type, size_t n)
{
    em_tree_sink *t = s;
    if (t->oom)
        return;
    struct ember_reply *r = node_new_in(t, type, NULL, 0);
    if (!r) {
        t->oom = 1;
        return;
    }
    size_t elems = n == EM_DEFERRED ? 0 : (type == EMBER_REPLY_MAP ? n * 2 : n);
    if (elems) {
        r->u.elems = sink_alloc(t, elems * sizeof *r->u.elems);
        if (!r->u.elems) {
            if (!t->arena)
                free(r);
            t->oom = 1;
            return;
        }
    }
    tree_push(t, r);
    if (t->oom)
        return;
    if (elems == 0 && n != EM_DEFERRED)
        return; /* empty aggregate: complete at once */
    if (t->depth == (int)(sizeof t->stack / sizeof t->stack[0])) {
        t->oom = 1;
        return;
    }
    t->stack[t->depth] = r;
    t->left[t->depth] = n == EM_DEFERRED ? SIZE_MAX : elems;
    t->cap[t->depth] = 0;
    t->depth++;
}

static void t_agg_end(void *s, size_t n)
{
    em_tree_sink *t = s;
    (void)n;
    if (t->oom || t->depth == 0)
        return;
    t->depth--;
}

const em_sink_ops ember__tree_sink_ops = {t_status, t_error, t_integer, t_dbl,    t_bulk,
                                          t_nil,    t_bool,  t_agg,     t_agg_end};

struct ember_reply *ember__tree_sink_take(em_tree_sink *t)
{
    if (t->oom) {
        ember__reply_tree_free(t->root);
        t->root = NULL;
        return NULL;
    }
    return t->root;
}

/* ---------------------------------------------------------------- capture */

int ember__sink_replace_error(const em_sink_ops *so, void *sink, int code, const char *msg)
{
    if (so == &ember__tree_sink_ops) {
        em_tree_sink *t = sink;
        em_arena *a = t->arena;
        if (!a)
            ember__reply_tree_free(t->root);
        ember__tree_sink_init(t);
        t->arena = a;
    } else if (so == &ember__capture_sink_ops) {
        em_capture_sink *cs = sink;
        int want = cs->want_bulk;
        free(cs->bulk);
        memset(cs, 0, sizeof *cs);
        cs->want_bulk = want;
    } else {
        return -1;
    }
    so->error(sink, code, msg, strlen(msg));
    return 0;
}

static void c_status(void *s, const char *p, size_t n)
{
    em_capture_sink *c = s;
    (void)p;
    (void)n;
    if (c->depth == 0)
        c->type = EMBER_REPLY_STATUS;
}

static void c_error(void *s, int code, const char *p, size_t n)
{
    em_capture_sink *c = s;
    (void)p;
    (void)n;
    if (c->depth == 0) {
        c->type = EMBER_REPLY_ERROR;
        c->errcode = code;
    }
}

static void c_integer(void *s, int64_t v)
{
    em_capture_sink *c = s;
    if (c->depth == 0) {
        c->type = EMBER_REPLY_INTEGER;
        c->i = v;
    }
}

static void c_dbl(void *s, double v)
{
    em_capture_sink *c = s;
    if (c->depth == 0) {
        c->type = EMBER_REPLY_DOUBLE;
        c->d = v;
    }
}

static void c_bulk(void *s, const char *p, size_t n)
{
    em_capture_sink *c = s;
    if (c->depth != 0)
        return;
    c->type = EMBER_REPLY_STRING;
    c->len = n;
    if (c->want_bulk) {
        c->bulk = malloc(n + 1);
        if (!c->bulk) {
            c->oom = 1;
            return;
        }
        if (n)
            memcpy(c->bulk, p, n);
        c->bulk[n] = '\0';
    }
}

static void c_nil(void *s)
{
    em_capture_sink *c = s;
    if (c->depth == 0)
        c->type = EMBER_REPLY_NIL;
}

static void c_bool(void *s, int v)
{
    em_capture_sink *c = s;
    if (c->depth == 0) {
        c->type = EMBER_REPLY_BOOL;
        c->i = v;
    }
}

static void c_agg(void *s, int type, size_t n)
{
    /* Typed wrappers that need aggregates use the tree sink; here we only
     * note the type and count. */
    em_capture_sink *c = s;
    if (c->depth == 0) {
        c->type = type;
        c->count = n == EM_DEFERRED ? -1 : (int64_t)n;
    }
}

static void c_agg_end(void *s, size_t n)
{
    em_capture_sink *c = s;
    if (c->depth == 0)
        c->count = (int64_t)n;
}

const em_sink_ops ember__capture_sink_ops = {c_status, c_error, c_integer, c_dbl,    c_bulk,
                                             c_nil,    c_bool,  c_agg,     c_agg_end};

int ember__error_code_for(const char *msg, size_t len)
{
    static const struct {
        const char *prefix;
        int code;
    } map[] = {
        {"WRONGTYPE", EMBER_EWRONGTYPE},
        {"ERR value is not an integer", EMBER_ENOTINT},
        {"ERR value is not a valid float", EMBER_ENOTFLOAT},
        {"ERR increment or decrement would overflow", EMBER_EOVERFLOW},
        {"ERR decrement would overflow", EMBER_EOVERFLOW},
        {"OOM ", EMBER_ENOMEM},
        {"ERR syntax error", EMBER_ESYNTAX},
        {"ERR no such key", EMBER_ENOKEY},
        {"EXECABORT", EMBER_EABORT},
        {"ERR unknown command", EMBER_EUNKNOWN},
        {"ERR wrong number of arguments", EMBER_EARITY},
        {"ERR index out of range", EMBER_ERANGE},
        {"MISCONF", EMBER_EIO},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t pl = strlen(map[i].prefix);
        if (len >= pl && memcmp(msg, map[i].prefix, pl) == 0)
            return map[i].code;
    }
    return EMBER_EREPLY;
}
