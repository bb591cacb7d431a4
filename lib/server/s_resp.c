/*
 * s_resp.c — output buffers and the RESP encoder of the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    int n = snprintf(t, sizeof t, "%c%lld\r\n", prefix, v);
    ember__sbuf_put(b, t, (size_t)n);
}

void ember__sbuf_bulk(srv_buf *b, const char *p, size_t n)
{
    ember__sbuf_line(b, '$', (long long)n);
    ember__sbuf_put(b, p, n);
    ember__sbuf_put(b, "\r\n", 2);
}

/* ------------------------------------------------------------ encoding */

/* Encodes a reply tree. RESP2 flattening as Redis 7.0: a map becomes an array
 * of 2n elements, a set an array, a double a bulk string, a boolean 1/0, and
 * NIL the null bulk ($-1) — or the null array (*-1) at the top of the reply of
 * a command that sends one (nullarray). The reply tree has RESP3's shape,
 * where WITHSCORES-style replies are arrays of pairs; in RESP2 Redis sends
 * them as one flat array (flatpairs). */
void ember__srv_encode(srv_buf *b, const struct ember_reply *r, int proto, int nullarray,
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
                    ember__srv_encode(b, e->u.elems[k], proto, 0, 0);
            } else {
                ember__srv_encode(b, e, proto, 0, 0);
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
            ember__srv_encode(b, r->u.elems[i], proto, 0, 0);
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
