/*
 * s_resp.c — output buffers and the RESP encoder of the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "srv_int.h"

int ember__sbuf_reserve(srv_buf *b, size_t more)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->len + more <= b->cap)
        return 0;
    if (b->off) { /* compact first */
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + more <= b->cap)
            return 0;
    }
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + more)
        nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np)
        return -1;
    b->p = np;
    b->cap = nc;
    return 0;
}

void ember__sbuf_put(srv_buf *b, const void *p, size_t n)
{
    if (ember__sbuf_reserve(b, n))
        return; /* out of memory: the reply is cut short; the test of oom is the caller's */
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void ember__sbuf_puts(srv_buf *b, const char *s)
{
    ember__sbuf_put(b, s, strlen(s));
}

void ember__sbuf_line(srv_buf *b, char prefix, long long v)
{
    char t[32];
    t[0] = prefix;
    size_t n = 1 + ember__ll_to_str(t + 1, v);
    t[n++] = '\r';
    t[n++] = '\n';
    ember__sbuf_put(b, t, n);
}

void ember__sbuf_bulk(srv_buf *b, const char *p, size_t n)
{
    if (ember__sbuf_reserve(b, n + 32))
        return;
    char *w = b->p + b->len;
    *w++ = '$';
    w += ember__ll_to_str(w, (long long)n);
    *w++ = '\r';
    *w++ = '\n';
    if (n)
        memcpy(w, p, n);
    w += n;
    *w++ = '\r';
    *w++ = '\n';
    b->len = (size_t)(w - b->p);
}

/* ------------------------------------------------------------ encoding */

/* Encodes a reply tree. RESP2 flattening as Redis 7.0: a map becomes an array
 * of 2n elements, a set an array, a double a bulk string, a boolean 1/0, and
 * NIL the null bulk ($-1) — or the null array (*-1) at the top of the reply of
 * a command that sends one (nullarray). The reply tree has RESP3's shape,
 * where WITHSCORES-style replies are arrays of pairs; in RESP2 Redis sends
 * them as one flat array (flatpairs). */
/* A verbatim string: "=<len+4>\r\ntxt:<bytes>\r\n". */
static void put_verbatim(srv_buf *b, const char *p, size_t n)
{
    ember__sbuf_line(b, '=', (long long)n + 4);
    ember__sbuf_put(b, "txt:", 4);
    ember__sbuf_put(b, p, n);
    ember__sbuf_put(b, "\r\n", 2);
}

static void encode_tree(srv_buf *b, const struct ember_reply *r, int proto, int nullarray,
                        int flatpairs);

void ember__srv_encode(srv_buf *b, const struct ember_reply *r, int proto, int shape)
{
    if ((shape & SRV_SHAPE_VERBATIM) && proto == 3 && r && r->type == EMBER_REPLY_STRING) {
        put_verbatim(b, r->str, r->len);
        return;
    }
    encode_tree(b, r, proto, (shape & SRV_SHAPE_NULLARRAY) != 0,
                (shape & SRV_SHAPE_FLATPAIRS) != 0);
}

static void encode_tree(srv_buf *b, const struct ember_reply *r, int proto, int nullarray,
                        int flatpairs)
{
    if (flatpairs && proto == 2 && r && r->type == EMBER_REPLY_ARRAY) {
        size_t n = 0;
        for (size_t i = 0; i < r->len; i++) {
            const struct ember_reply *e = r->u.elems[i];
            n += e && e->type == EMBER_REPLY_ARRAY ? e->len : 1;
        }
        ember__sbuf_line(b, '*', (long long)n);
        for (size_t i = 0; i < r->len; i++) {
            const struct ember_reply *e = r->u.elems[i];
            if (e && e->type == EMBER_REPLY_ARRAY) {
                for (size_t k = 0; k < e->len; k++)
                    encode_tree(b, e->u.elems[k], proto, 0, 0);
            } else {
                encode_tree(b, e, proto, 0, 0);
            }
        }
        return;
    }
    switch (r ? r->type : EMBER_REPLY_NIL) {
    case EMBER_REPLY_STATUS:
        ember__sbuf_put(b, "+", 1);
        ember__sbuf_put(b, r->str, r->len);
        ember__sbuf_put(b, "\r\n", 2);
        break;
    case EMBER_REPLY_ERROR:
        ember__sbuf_put(b, "-", 1);
        ember__sbuf_put(b, r->str, r->len);
        ember__sbuf_put(b, "\r\n", 2);
        break;
    case EMBER_REPLY_INTEGER:
        ember__sbuf_line(b, ':', (long long)r->u.i);
        break;
    case EMBER_REPLY_DOUBLE:
        if (proto == 3) {
            ember__sbuf_put(b, ",", 1);
            ember__sbuf_put(b, r->str, r->len);
            ember__sbuf_put(b, "\r\n", 2);
        } else {
            ember__sbuf_bulk(b, r->str, r->len);
        }
        break;
    case EMBER_REPLY_STRING:
        ember__sbuf_bulk(b, r->str, r->len);
        break;
    case EMBER_REPLY_BOOL:
        if (proto == 3)
            ember__sbuf_puts(b, r->u.i ? "#t\r\n" : "#f\r\n");
        else
            ember__sbuf_puts(b, r->u.i ? ":1\r\n" : ":0\r\n");
        break;
    case EMBER_REPLY_ARRAY:
    case EMBER_REPLY_MAP:
    case EMBER_REPLY_SET: {
        char pfx = '*';
        long long n = (long long)r->len;
        if (proto == 3 && r->type == EMBER_REPLY_MAP) {
            pfx = '%';
            n /= 2;
        } else if (proto == 3 && r->type == EMBER_REPLY_SET) {
            pfx = '~';
        }
        ember__sbuf_line(b, pfx, n);
        for (size_t i = 0; i < r->len; i++)
            encode_tree(b, r->u.elems[i], proto, 0, 0);
        break;
    }
    default: /* NIL */
        if (proto == 3)
            ember__sbuf_puts(b, "_\r\n");
        else
            ember__sbuf_puts(b, nullarray ? "*-1\r\n" : "$-1\r\n");
        break;
    }
}

/* ------------------------------------------------------------ streaming sink */

/*
 * The RESP sink: handlers' replies are encoded straight into a buffer, on
 * the executor, with no reply tree — the same bytes ember__srv_encode()
 * produces from a tree (tests/integration/test_server compares both against
 * redis-server).
 *
 * Aggregates whose count is known are written as they open. Two kinds are
 * not: a deferred aggregate (EM_DEFERRED, settled by agg_end) and, in RESP2,
 * the top-level array of a reply whose [member, score] pairs Redis splices
 * into one flat array (flatpairs), whose count is the sum of its pairs'
 * lengths. For those the sink remembers where the header belongs, writes
 * the elements, and inserts the header there when the count is final. An
 * inner header is inserted before its outer one is (the inner aggregate
 * closes first), and only shifts bytes after the outer's position, so every
 * remembered position stays valid.
 */

static void rs_insert_header(em_resp_sink *s, size_t pos, char prefix, long long n)
{
    char t[32];
    t[0] = prefix;
    size_t k = 1 + ember__ll_to_str(t + 1, n);
    t[k++] = '\r';
    t[k++] = '\n';
    srv_buf *b = s->b;
    if (ember__sbuf_reserve(b, k)) {
        s->oom = 1;
        return;
    }
    memmove(b->p + pos + k, b->p + pos, b->len - pos);
    memcpy(b->p + pos, t, k);
    b->len += k;
}

/* Closes level l (already popped): writes a header that was held back.
 * Returns how many elements l stands for in a flat parent: its own
 * elements if it is spliced into one, else 1. */
static size_t rs_close(em_resp_sink *s, const em_resp_level *l)
{
    if (l->spliced)
        return l->count;
    if (l->flat) {
        rs_insert_header(s, l->pos, '*', (long long)l->flatn);
    } else if (l->left == SIZE_MAX) {
        size_t n = l->type == EMBER_REPLY_MAP && s->proto == 3 ? l->count / 2 : l->count;
        rs_insert_header(s, l->pos, l->prefix, (long long)n);
    }
    return 1;
}

/* An element standing for `contrib` flat elements (see rs_close) was
 * written at the current depth: count it and close the aggregates it
 * completes, each an element of its parent in turn. */
static void rs_elem_done(em_resp_sink *s, size_t contrib)
{
    while (s->depth > 0) {
        em_resp_level *l = &s->lv[s->depth - 1];
        l->count++;
        l->flatn += contrib;
        if (l->left == SIZE_MAX || --l->left > 0)
            return;
        s->depth--;
        contrib = rs_close(s, l);
    }
}

static void rs_scalar(em_resp_sink *s)
{
    rs_elem_done(s, 1);
}

static void rs_status(void *sk, const char *p, size_t n)
{
    em_resp_sink *s = sk;
    ember__sbuf_put(s->b, "+", 1);
    ember__sbuf_put(s->b, p, n);
    ember__sbuf_put(s->b, "\r\n", 2);
    rs_scalar(s);
}

static void rs_error(void *sk, int code, const char *p, size_t n)
{
    em_resp_sink *s = sk;
    (void)code;
    ember__sbuf_put(s->b, "-", 1);
    ember__sbuf_put(s->b, p, n);
    ember__sbuf_put(s->b, "\r\n", 2);
    rs_scalar(s);
}

static void rs_integer(void *sk, int64_t v)
{
    em_resp_sink *s = sk;
    ember__sbuf_line(s->b, ':', (long long)v);
    rs_scalar(s);
}

static void rs_dbl(void *sk, double v)
{
    em_resp_sink *s = sk;
    char t[64];
    size_t n = ember__d_to_str(t, sizeof t, v);
    if (s->proto == 3) {
        ember__sbuf_put(s->b, ",", 1);
        ember__sbuf_put(s->b, t, n);
        ember__sbuf_put(s->b, "\r\n", 2);
    } else {
        ember__sbuf_bulk(s->b, t, n);
    }
    rs_scalar(s);
}

static void rs_bulk(void *sk, const char *p, size_t n)
{
    em_resp_sink *s = sk;
    if (s->verbatim && s->proto == 3 && s->depth == 0)
        put_verbatim(s->b, p ? p : "", n);
    else
        ember__sbuf_bulk(s->b, p ? p : "", n);
    rs_scalar(s);
}

static void rs_nil(void *sk)
{
    em_resp_sink *s = sk;
    if (s->proto == 3)
        ember__sbuf_put(s->b, "_\r\n", 3);
    else if (s->nullarray && s->depth == 0)
        ember__sbuf_put(s->b, "*-1\r\n", 5);
    else
        ember__sbuf_put(s->b, "$-1\r\n", 5);
    rs_scalar(s);
}

static void rs_bool(void *sk, int v)
{
    em_resp_sink *s = sk;
    if (s->proto == 3)
        ember__sbuf_put(s->b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        ember__sbuf_put(s->b, v ? ":1\r\n" : ":0\r\n", 4);
    rs_scalar(s);
}

static void rs_agg(void *sk, int type, size_t n)
{
    em_resp_sink *s = sk;
    if (s->depth == (int)(sizeof s->lv / sizeof s->lv[0])) {
        s->oom = 1; /* deeper than any reply ember builds */
        return;
    }
    char prefix = '*';
    size_t elems = n;
    if (type == EMBER_REPLY_MAP) {
        if (s->proto == 3)
            prefix = '%';
        if (n != EM_DEFERRED)
            elems = 2 * n;
    } else if (type == EMBER_REPLY_SET && s->proto == 3) {
        prefix = '~';
    }
    em_resp_level l = {.pos = s->b->len, .left = elems, .prefix = prefix, .type = type};
    if (s->depth == 0 && s->flatpairs && s->proto == 2 && type == EMBER_REPLY_ARRAY)
        l.flat = 1; /* header inserted once the pairs are counted */
    else if (s->depth > 0 && s->lv[s->depth - 1].flat && type == EMBER_REPLY_ARRAY)
        l.spliced = 1; /* no header: its elements join the flat array */
    else if (n != EM_DEFERRED)
        ember__sbuf_line(s->b, prefix, (long long)(prefix == '%' ? n : elems));
    if (elems == 0) { /* complete at once */
        rs_elem_done(s, rs_close(s, &l));
        return;
    }
    s->lv[s->depth++] = l;
}

static void rs_agg_end(void *sk, size_t n)
{
    em_resp_sink *s = sk;
    (void)n; /* the elements written are the count, as in the tree sink */
    if (s->depth == 0 || s->lv[s->depth - 1].left != SIZE_MAX)
        return; /* a counted aggregate closed by itself */
    s->depth--;
    rs_elem_done(s, rs_close(s, &s->lv[s->depth]));
}

const em_sink_ops ember__resp_sink_ops = {rs_status, rs_error, rs_integer, rs_dbl,    rs_bulk,
                                          rs_nil,    rs_bool,  rs_agg,     rs_agg_end};

void ember__resp_sink_init(em_resp_sink *s, srv_buf *b, int proto, int shape)
{
    memset(s, 0, sizeof *s);
    s->b = b;
    s->proto = proto;
    s->nullarray = (shape & SRV_SHAPE_NULLARRAY) != 0;
    s->flatpairs = (shape & SRV_SHAPE_FLATPAIRS) != 0;
    s->verbatim = (shape & SRV_SHAPE_VERBATIM) != 0;
}
