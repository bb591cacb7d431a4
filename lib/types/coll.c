/*
 * coll.c — helpers shared by the collection types and the key commands
 * (see coll.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"

int ember__coll_lookup(em_ctx *c, size_t i, int type, int write, em_obj **out, em_dpos *pos)
{
    em_obj *o = write ? em_lookup_write(c, i, pos) : em_lookup_read(c, i, pos);
    if (o && ember__obj_type(o) != type) {
        em_err_wrongtype(c);
        return 0;
    }
    *out = o;
    return 1;
}

/* Redis reads the cursor with strtoul: optional sign, decimal digits, no
 * leading space, nothing after (the argument ends at a NUL byte as a C string
 * would), no overflow; "-n" wraps; the empty string is 0. */
static int parse_cursor(const char *p, size_t len, uint64_t *out)
{
    size_t i = 0, end = strnlen(p, len);
    int neg = 0;
    uint64_t v = 0;
    if (i < end && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    size_t digits = i;
    for (; i < end && p[i] >= '0' && p[i] <= '9'; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (i != end)
        return 0;
    if (i == digits && end > 0) /* a sign alone: strtoul stops before it */
        return 0;
    *out = neg ? (uint64_t)0 - v : v;
    return 1;
}

int ember__scan_cursor(em_ctx *c, size_t i, uint64_t *cursor)
{
    if (!parse_cursor(c->argv[i], c->argvlen[i], cursor)) {
        em_add_error(c, "ERR invalid cursor");
        return 0;
    }
    return 1;
}

int ember__scan_opts(em_ctx *c, size_t first, int allow_type, em_scan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->count = 10;
    for (size_t i = first; i < c->argc; i += 2) {
        int more = i + 1 < c->argc;
        if (em_arg_is(c, i, "count") && more) {
            if (!em_arg_ll(c, i + 1, &o->count))
                return 0;
            if (o->count < 1) {
                em_err_syntax(c);
                return 0;
            }
        } else if (em_arg_is(c, i, "match") && more) {
            o->pat = c->argv[i + 1];
            o->plen = c->argvlen[i + 1];
        } else if (allow_type && em_arg_is(c, i, "type") && more) {
            o->type = c->argv[i + 1];
            o->tlen = c->argvlen[i + 1];
        } else {
            em_err_syntax(c);
            return 0;
        }
    }
    o->use_pattern = o->pat && !(o->plen == 1 && o->pat[0] == '*');
    return 1;
}

int ember__scan_match(const em_scan_opts *o, const void *s, size_t len)
{
    return !o->use_pattern || ember__glob_match(o->pat, o->plen, s, len, 0);
}

void ember__objvec_push(em_objvec *v, em_obj *o)
{
    if (v->oom)
        return;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 32;
        em_obj **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) {
            v->oom = 1;
            return;
        }
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = o;
}

void ember__objvec_free(em_objvec *v)
{
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

int ember__ptrset_init(em_ptrset *s, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    s->slot = calloc(cap, sizeof *s->slot);
    s->mask = cap - 1;
    return s->slot ? 0 : -1;
}

int ember__ptrset_add(em_ptrset *s, const void *p)
{
    size_t i = (size_t)((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull >> 17) & s->mask;
    while (s->slot[i]) {
        if (s->slot[i] == p)
            return 0;
        i = (i + 1) & s->mask;
    }
    s->slot[i] = p;
    return 1;
}

void ember__ptrset_free(em_ptrset *s)
{
    free(s->slot);
    s->slot = NULL;
}

static void collect_cb(void *ud, em_obj *o)
{
    ember__objvec_push(ud, o);
}

void ember__scan_collect(em_dict *d, uint64_t *cursor, long long count, em_objvec *v)
{
    long long budget = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    uint64_t cur = *cursor;
    do
        cur = ember__dict_scan(d, cur, collect_cb, v);
    while (cur && budget-- && v->n < (unsigned long long)count && !v->oom);
    *cursor = cur;
}

void ember__scan_reply_cursor(em_ctx *c, uint64_t cursor)
{
    char buf[EM_LLSTR_SIZE];
    int bl = snprintf(buf, sizeof buf, "%llu", (unsigned long long)cursor);
    em_add_array(c, 2);
    em_add_bulk(c, buf, (size_t)bl);
}

int ember__range_clip(long long start, long long end, long long len, long long *s, long long *e)
{
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (start > end || start >= len)
        return 0;
    if (end >= len)
        end = len - 1;
    *s = start;
    *e = end;
    return 1;
}

/* Redis parses these with getRangeLongFromObjectOrReply(1, LONG_MAX): a
 * non-number and a number below 1 get the same message. */
static int arg_positive(em_ctx *c, size_t i, long long *out, const char *msg)
{
    long long v;
    if (!em_arg_ll_quiet(c, i, &v) || v < 1) {
        em_add_error(c, msg);
        return 0;
    }
    *out = v;
    return 1;
}

int ember__mpop_args(em_ctx *c, size_t numkeys_idx, const char *dir_a, const char *dir_b,
                     size_t *nkeys, int *where, long long *count)
{
    long long n;
    if (!arg_positive(c, numkeys_idx, &n, "ERR numkeys should be greater than 0"))
        return 0;
    /* After the keys there must be room for the direction at least. */
    if ((unsigned long long)n > c->argc - numkeys_idx - 2) {
        em_err_syntax(c);
        return 0;
    }
    size_t dir = numkeys_idx + (size_t)n + 1;
    if (em_arg_is(c, dir, dir_a)) {
        *where = 0;
    } else if (em_arg_is(c, dir, dir_b)) {
        *where = 1;
    } else {
        em_err_syntax(c);
        return 0;
    }
    long long cnt = -1;
    for (size_t j = dir + 1; j < c->argc; j++) {
        if (em_arg_is(c, j, "count") && j + 1 < c->argc && cnt == -1) {
            j++;
            if (!arg_positive(c, j, &cnt, "ERR count should be greater than 0"))
                return 0;
        } else {
            em_err_syntax(c);
            return 0;
        }
    }
    *nkeys = (size_t)n;
    *count = cnt == -1 ? 1 : cnt;
    return 1;
}
