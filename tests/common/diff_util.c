/*
 * diff_util.c — redis reply vs ember reply comparison and mismatch reports.
 */
#include "diff_util.h"

#include <stdlib.h>
#include <string.h>

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        abort();
    return p;
}

tc_resp *tc_from_ember(const ember_reply *r)
{
    tc_resp *t = xcalloc(1, sizeof *t);
    size_t len = 0;
    const char *s;
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_NIL:
        t->type = TC_RESP_NIL;
        t->null_kind = '_';
        return t;
    case EMBER_REPLY_STATUS:
        t->type = TC_RESP_STATUS;
        break;
    case EMBER_REPLY_ERROR:
        t->type = TC_RESP_ERROR;
        break;
    case EMBER_REPLY_STRING:
        t->type = TC_RESP_STRING;
        break;
    case EMBER_REPLY_DOUBLE:
        t->type = TC_RESP_DOUBLE;
        break;
    case EMBER_REPLY_INTEGER:
        t->type = TC_RESP_INTEGER;
        t->integer = ember_reply_integer(r);
        return t;
    case EMBER_REPLY_BOOL:
        t->type = TC_RESP_BOOL;
        t->integer = ember_reply_integer(r) != 0;
        return t;
    case EMBER_REPLY_ARRAY:
    case EMBER_REPLY_MAP:
    case EMBER_REPLY_SET:
        t->type = ember_reply_type(r) == EMBER_REPLY_ARRAY ? TC_RESP_ARRAY
                  : ember_reply_type(r) == EMBER_REPLY_MAP ? TC_RESP_MAP
                                                           : TC_RESP_SET;
        t->n = ember_reply_len(r);
        t->elem = xcalloc(t->n, sizeof *t->elem);
        for (size_t i = 0; i < t->n; i++)
            t->elem[i] = tc_from_ember(ember_reply_element(r, i));
        return t;
    default:
        t->type = '?';
        t->integer = ember_reply_type(r);
        return t;
    }
    s = ember_reply_str(r, &len);
    t->str = xcalloc(len + 1, 1);
    if (s && len)
        memcpy(t->str, s, len);
    t->len = len;
    return t;
}

/* The type a reply counts as for comparison, and the bytes that matter. */
static int canon_type(const tc_resp *r, const char **p, size_t *n)
{
    *p = r->str;
    *n = r->len;
    switch (r->type) {
    case TC_RESP_VERBATIM:
        if (r->len >= 4 && r->str[3] == ':') {
            *p = r->str + 4;
            *n = r->len - 4;
        }
        return TC_RESP_STRING;
    case TC_RESP_BLOBERR:
        return TC_RESP_ERROR;
    default:
        return r->type;
    }
}

void tc_resp_canon(tc_buf *b, const tc_resp *r)
{
    const char *p;
    size_t n;
    int t = canon_type(r, &p, &n);
    char tc = (char)t;
    tc_buf_put(b, &tc, 1);
    switch (t) {
    case TC_RESP_NIL:
        break;
    case TC_RESP_INTEGER:
    case TC_RESP_BOOL:
        tc_buf_printf(b, "%lld;", r->integer);
        break;
    case TC_RESP_ARRAY:
    case TC_RESP_SET:
    case TC_RESP_MAP:
    case TC_RESP_PUSH:
        tc_buf_printf(b, "%zu;", r->n);
        for (size_t i = 0; i < r->n; i++)
            tc_resp_canon(b, r->elem[i]);
        break;
    case '?':
        tc_buf_printf(b, "%lld;", r->integer);
        break;
    default:
        tc_buf_printf(b, "%zu;", n);
        tc_buf_put(b, p, n);
        break;
    }
}

static int equal_rec(const tc_resp *a, const tc_resp *b)
{
    const char *pa, *pb;
    size_t na, nb;
    int ta = canon_type(a, &pa, &na);
    int tb = canon_type(b, &pb, &nb);
    if (ta != tb)
        return 0;
    switch (ta) {
    case TC_RESP_NIL:
        return 1;
    case TC_RESP_INTEGER:
    case TC_RESP_BOOL:
    case '?':
        return a->integer == b->integer;
    case TC_RESP_ARRAY:
    case TC_RESP_SET:
    case TC_RESP_MAP:
    case TC_RESP_PUSH:
        if (a->n != b->n)
            return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!equal_rec(a->elem[i], b->elem[i]))
                return 0;
        return 1;
    default:
        return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
    }
}

typedef struct canon_item {
    char *p;
    size_t n;
} canon_item;

static int cmp_item(const void *x, const void *y)
{
    const canon_item *a = x, *b = y;
    size_t m = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->p, b->p, m);
    if (c)
        return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Sorted canonical forms of the top-level members (MAP: pairs). */
static canon_item *sorted_members(const tc_resp *r, size_t *count)
{
    size_t step = r->type == TC_RESP_MAP ? 2 : 1;
    size_t cnt = r->n / step;
    canon_item *items = xcalloc(cnt, sizeof *items);
    for (size_t i = 0; i < cnt; i++) {
        tc_buf b = {0};
        for (size_t j = 0; j < step; j++)
            tc_resp_canon(&b, r->elem[i * step + j]);
        tc_buf_cstr(&b);
        items[i].p = b.p;
        items[i].n = b.len;
    }
    qsort(items, cnt, sizeof *items, cmp_item);
    *count = cnt;
    return items;
}

static int is_aggregate(int t)
{
    return t == TC_RESP_ARRAY || t == TC_RESP_SET || t == TC_RESP_MAP || t == TC_RESP_PUSH;
}

int tc_resp_equal(const tc_resp *redis, const tc_resp *ember, unsigned opts)
{
    if (!redis || !ember)
        return redis == ember;
    if (!(opts & TC_DIFF_UNORDERED) || !is_aggregate(redis->type) || redis->type != ember->type ||
        redis->n != ember->n)
        return equal_rec(redis, ember);
    size_t na, nb;
    canon_item *a = sorted_members(redis, &na);
    canon_item *b = sorted_members(ember, &nb);
    int eq = na == nb;
    for (size_t i = 0; eq && i < na; i++)
        eq = cmp_item(&a[i], &b[i]) == 0;
    for (size_t i = 0; i < na; i++)
        free(a[i].p);
    for (size_t i = 0; i < nb; i++)
        free(b[i].p);
    free(a);
    free(b);
    return eq;
}

void tc_format_command(tc_buf *b, size_t argc, const char *const *argv, const size_t *argvlen)
{
    for (size_t i = 0; i < argc; i++) {
        if (i)
            tc_buf_put(b, " ", 1);
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        tc_buf_quote(b, argv[i], n);
    }
}

void tc_format_mismatch(tc_buf *b, size_t argc, const char *const *argv, const size_t *argvlen,
                        const tc_resp *redis, const tc_resp *ember)
{
    tc_buf_puts(b, "command: ");
    tc_format_command(b, argc, argv, argvlen);
    tc_buf_puts(b, "\n  redis: ");
    tc_resp_render(b, redis, 1);
    tc_buf_puts(b, "\n  ember: ");
    tc_resp_render(b, ember, 1);
    tc_buf_puts(b, "\n");
}

int tc_diff_reply(tc_buf *out, size_t argc, const char *const *argv, const size_t *argvlen,
                  const tc_resp *redis, const ember_reply *ember, unsigned opts)
{
    tc_resp *e = tc_from_ember(ember);
    int eq = tc_resp_equal(redis, e, opts);
    if (!eq && out)
        tc_format_mismatch(out, argc, argv, argvlen, redis, e);
    tc_resp_free(e);
    return eq;
}
