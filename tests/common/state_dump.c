/*
 * state_dump.c — see state_dump.h.
 */
#include "state_dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int bad;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->bad)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_hex(sbuf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char t[2] = {hx[(unsigned char)s[i] >> 4], hx[(unsigned char)s[i] & 15]};
        sb_put(b, t, 2);
    }
}

static ember_reply *cmd(ember_db *db, size_t argc, const char **argv, const size_t *lens)
{
    ember_reply *r = NULL;
    if (ember_command(db, argc, argv, lens, &r) != EMBER_OK)
        return NULL;
    if (ember_reply_type(r) == EMBER_REPLY_ERROR) {
        ember_reply_free(r);
        return NULL;
    }
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The elements of r as hex strings (pairs joined with '='), sorted if asked. */
static void put_elems(sbuf *b, const ember_reply *r, size_t group, int sort)
{
    size_t n = ember_reply_len(r), k = 0;
    char **items = calloc(n / group + 1, sizeof *items);
    if (!items) {
        b->bad = 1;
        return;
    }
    for (size_t i = 0; i + group <= n; i += group) {
        sbuf e = {0};
        for (size_t g = 0; g < group; g++) {
            const ember_reply *x = ember_reply_element(r, i + g);
            size_t l = 0;
            const char *s;
            char num[64];
            if (ember_reply_type(x) == EMBER_REPLY_DOUBLE) {
                snprintf(num, sizeof num, "%.17g", ember_reply_double(x));
                s = num;
                l = strlen(num);
            } else {
                s = ember_reply_str(x, &l);
            }
            if (g)
                sb_str(&e, "=");
            sb_hex(&e, s ? s : "", s ? l : 0);
        }
        if (!e.p)
            sb_str(&e, "");
        items[k++] = e.p;
    }
    if (sort)
        qsort(items, k, sizeof *items, cmp_str);
    for (size_t i = 0; i < k; i++) {
        if (i)
            sb_str(b, ",");
        sb_str(b, items[i] ? items[i] : "");
        free(items[i]);
    }
    free(items);
}

static int dump_db(ember_db *v, int d, char ***lines, size_t *nl, size_t *cap)
{
    const char *keys_argv[] = {"KEYS", "*"};
    ember_reply *keys = cmd(v, 2, keys_argv, NULL);
    if (!keys)
        return -1;
    for (size_t i = 0; i < ember_reply_len(keys); i++) {
        size_t kl;
        const char *k = ember_reply_str(ember_reply_element(keys, i), &kl);
        sbuf b = {0};
        char head[96];
        const char *type_argv[] = {"TYPE", k};
        size_t lens[] = {0, kl, 0, 0, 0};
        lens[0] = 4;
        ember_reply *t = cmd(v, 2, type_argv, lens);
        const char *pt_argv[] = {"PEXPIRETIME", k};
        size_t ptl[] = {11, kl};
        ember_reply *pt = cmd(v, 2, pt_argv, ptl);
        if (!t || !pt) {
            ember_reply_free(t);
            ember_reply_free(pt);
            ember_reply_free(keys);
            return -1;
        }
        const char *type = ember_reply_str(t, NULL);
        snprintf(head, sizeof head, "%d|", d);
        sb_str(&b, head);
        sb_hex(&b, k, kl);
        snprintf(head, sizeof head, "|%s|%lld|", type, (long long)ember_reply_integer(pt));
        sb_str(&b, head);
        ember_reply *val = NULL;
        if (!strcmp(type, "string")) {
            const char *a[] = {"GET", k};
            size_t l[] = {3, kl};
            val = cmd(v, 2, a, l);
            if (val) {
                size_t n;
                const char *s = ember_reply_str(val, &n);
                sb_hex(&b, s, n);
            }
        } else if (!strcmp(type, "list")) {
            const char *a[] = {"LRANGE", k, "0", "-1"};
            size_t l[] = {6, kl, 1, 2};
            if ((val = cmd(v, 4, a, l)))
                put_elems(&b, val, 1, 0);
        } else if (!strcmp(type, "set")) {
            const char *a[] = {"SMEMBERS", k};
            size_t l[] = {8, kl};
            if ((val = cmd(v, 2, a, l)))
                put_elems(&b, val, 1, 1);
        } else if (!strcmp(type, "hash")) {
            const char *a[] = {"HGETALL", k};
            size_t l[] = {7, kl};
            if ((val = cmd(v, 2, a, l)))
                put_elems(&b, val, 2, 1);
        } else if (!strcmp(type, "zset")) {
            const char *a[] = {"ZRANGE", k, "0", "-1", "WITHSCORES"};
            size_t l[] = {6, kl, 1, 2, 10};
            if ((val = cmd(v, 5, a, l))) {
                /* RESP3: an array of [member, score] pairs, or flat. */
                size_t n = ember_reply_len(val);
                if (n && ember_reply_type(ember_reply_element(val, 0)) == EMBER_REPLY_ARRAY) {
                    for (size_t j = 0; j < n; j++) {
                        if (j)
                            sb_str(&b, ",");
                        put_elems(&b, ember_reply_element(val, j), 2, 0);
                    }
                } else {
                    put_elems(&b, val, 2, 0);
                }
            }
        }
        ember_reply_free(t);
        ember_reply_free(pt);
        if (!val || b.bad) {
            ember_reply_free(val);
            free(b.p);
            ember_reply_free(keys);
            return -1;
        }
        ember_reply_free(val);
        if (*nl == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *lines = realloc(*lines, *cap * sizeof **lines);
        }
        (*lines)[(*nl)++] = b.p;
    }
    ember_reply_free(keys);
    return 0;
}

char *ember_test_dump(ember_db *const *views, int ndb)
{
    char **lines = NULL;
    size_t nl = 0, cap = 0;
    int bad = 0;
    for (int d = 0; d < ndb && !bad; d++) {
        bad = dump_db(views[d], d, &lines, &nl, &cap) != 0;
    }
    sbuf out = {0};
    sb_str(&out, "");
    if (nl)
        qsort(lines, nl, sizeof *lines, cmp_str);
    for (size_t i = 0; i < nl; i++) {
        sb_str(&out, lines[i]);
        sb_str(&out, "\n");
        free(lines[i]);
    }
    free(lines);
    if (bad || out.bad) {
        free(out.p);
        return NULL;
    }
    return out.p;
}
