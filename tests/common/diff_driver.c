/*
 * diff_driver.c — commands, runner, seed loop, shrinking and directed cases
 * shared by the differential tests (see diff_driver.h).
 *
 * The stream of a seed never depends on replies, so a failing seed replays
 * exactly from its number, and a prefix of it can be rerun after a reset
 * (that is what shrinking does: drop chunks while the last command still
 * mismatches).
 */
#include "diff_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ commands */

void *tc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

tc_cmd *tc_cmd_new(int db, int kind, int gen)
{
    tc_cmd *c = tc_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->db = db;
    c->kind = kind;
    c->gen = gen;
    return c;
}

void tc_cmd_free(tc_cmd *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->argc; i++)
        free(c->argv[i]);
    free(c->argv);
    free(c->len);
    free(c);
}

static char *dup_bytes(const void *p, size_t n)
{
    char *b = tc_xmalloc(n + 1);
    if (n)
        memcpy(b, p, n);
    b[n] = '\0';
    return b;
}

void tc_arg(tc_cmd *c, const void *p, size_t n)
{
    if (c->argc == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->argv = xrealloc(c->argv, c->cap * sizeof *c->argv);
        c->len = xrealloc(c->len, c->cap * sizeof *c->len);
    }
    c->argv[c->argc] = dup_bytes(p, n);
    c->len[c->argc] = n;
    c->argc++;
}

void tc_str(tc_cmd *c, const char *s)
{
    tc_arg(c, s, strlen(s));
}

void tc_ll(tc_cmd *c, long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    tc_str(c, b);
}

void tc_drop_last(tc_cmd *c)
{
    if (c->argc > 1) {
        c->argc--;
        free(c->argv[c->argc]);
        c->argv[c->argc] = NULL;
    }
}

void tc_set_arg(tc_cmd *c, size_t i, const void *p, size_t n)
{
    char *b = dup_bytes(p, n);
    free(c->argv[i]);
    c->argv[i] = b;
    c->len[i] = n;
}

tc_cmd *tc_cmd_dup(const tc_cmd *src)
{
    tc_cmd *c = tc_cmd_new(src->db, src->kind, src->gen);
    for (size_t i = 0; i < src->argc; i++)
        tc_arg(c, src->argv[i], src->len[i]);
    return c;
}

tc_cmd *tc_cmd_lit(int db, int kind, const char *const *argv)
{
    tc_cmd *c = tc_cmd_new(db, kind, -1);
    for (size_t i = 0; argv[i]; i++)
        tc_str(c, argv[i]);
    return c;
}

tc_cmd *tc_cmd_key(int db, int kind, const char *name, const char *k, size_t kl)
{
    tc_cmd *c = tc_cmd_new(db, kind, -1);
    tc_str(c, name);
    if (k)
        tc_arg(c, k, kl);
    return c;
}

void tc_vec_push(tc_cmdvec *v, tc_cmd *c)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->v = xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n++] = c;
}

void tc_vec_clear(tc_cmdvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        tc_cmd_free(v->v[i]);
    v->n = 0;
}

/* ------------------------------------------------------------------ randomness */

uint64_t tc_rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t tc_rn(uint64_t *s, uint64_t n)
{
    return n ? tc_rnd(s) % n : 0;
}

int tc_chance(uint64_t *s, int pct)
{
    return (int)tc_rn(s, 100) < pct;
}

void tc_kw(uint64_t *s, tc_cmd *c, const char *kw)
{
    char b[64];
    size_t n = strlen(kw);
    if (n >= sizeof b)
        n = sizeof b - 1;
    int mode = (int)tc_rn(s, 10); /* 0..6 as written, 7 lower, 8-9 mixed */
    for (size_t i = 0; i < n; i++) {
        char ch = kw[i];
        if (mode == 7 || (mode >= 8 && tc_rn(s, 2)))
            ch = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        b[i] = ch;
    }
    b[n] = '\0';
    tc_arg(c, b, n);
}

size_t tc_gens_pick(tc_gens *t, uint64_t *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        total += t->skip[i] ? 0 : (uint64_t)t->weight[i];
    uint64_t pick = tc_rn(s, total);
    size_t gi = 0;
    for (; gi + 1 < t->n; gi++) {
        if (t->skip[gi] || t->weight[gi] == 0)
            continue;
        if (pick < (uint64_t)t->weight[gi])
            break;
        pick -= (uint64_t)t->weight[gi];
    }
    t->count[gi]++;
    return gi;
}

void tc_gens_skip(tc_gens *t, const char *list)
{
    for (size_t i = 0; i < t->n; i++)
        t->skip[i] = 0;
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        int found = l == 0;
        for (size_t i = 0; i < t->n; i++) {
            if (strlen(t->name[i]) == l && strncasecmp(p, t->name[i], l) == 0) {
                t->skip[i] = 1;
                found = 1;
            }
        }
        if (!found)
            fprintf(stderr, "diff: skip list names an unknown generator: %.*s\n", (int)l, p);
        p = e ? e + 1 : NULL;
    }
}

/* ------------------------------------------------------------------ runner */

int tc_env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

int tc_runner_open(tc_runner *r, const char *name, const char *const *redis_args,
                   const tc_hooks *hooks)
{
    memset(r, 0, sizeof *r);
    r->hooks = hooks;
    char err[2048];
    if (tc_redis_start(&r->srv, redis_args, err, sizeof err) != 0) {
        fprintf(stderr, "%s: cannot start redis-server: %s\n", name, err);
        return -1;
    }
    r->rc = tc_conn_open(r->srv.port);
    if (!r->rc || tc_conn_hello3(r->rc) != 0) {
        fprintf(stderr, "%s: cannot talk RESP3 to redis-server on port %d\n", name, r->srv.port);
        return -1;
    }
    ember_config *cfg = NULL;
    if (ember_config_new(&cfg) != EMBER_OK)
        return -1;
    const char *mode = getenv("EMBER_DIFF_MODE");
    if (mode && !strcmp(mode, "inline"))
        ember_config_set_mode(cfg, EMBER_MODE_INLINE);
    int rc = ember_db_open(cfg, &r->db);
    ember_config_free(cfg);
    if (rc != EMBER_OK) {
        fprintf(stderr, "%s: ember_db_open: %s\n", name, ember_strerror(rc));
        return -1;
    }
    for (int i = 0; i < TC_NDBS; i++) {
        if (ember_db_view(r->db, i, &r->views[i]) != EMBER_OK) {
            fprintf(stderr, "%s: ember_db_view(%d) failed\n", name, i);
            return -1;
        }
    }
    r->trace = tc_env_int("EMBER_DIFF_TRACE", 0);
    return 0;
}

void tc_runner_close(tc_runner *r)
{
    for (int i = 0; i < TC_NDBS; i++)
        ember_db_close(r->views[i]);
    ember_db_close(r->db);
    tc_conn_close(r->rc);
    tc_redis_stop(&r->srv);
    memset(r, 0, sizeof *r);
}

void tc_trace_pair(const tc_cmd *c, const tc_resp *red, const tc_resp *emb)
{
    tc_buf b = {0};
    tc_buf_printf(&b, "[db%d] ", c->db);
    tc_format_command(&b, c->argc, (const char *const *)c->argv, c->len);
    tc_buf_puts(&b, "\n   redis: ");
    tc_resp_render(&b, red, 2);
    tc_buf_puts(&b, "\n   ember: ");
    tc_resp_render(&b, emb, 2);
    fprintf(stderr, "%s\n", tc_buf_cstr(&b));
    tc_buf_free(&b);
}

void tc_report_mismatch(tc_buf *why, const tc_cmd *c, const tc_resp *red, const tc_resp *emb)
{
    tc_buf_printf(why, "[db%d] ", c->db);
    tc_format_mismatch(why, c->argc, (const char *const *)c->argv, c->len, red, emb);
}

static tc_resp *harness_error(const char *what, int rc)
{
    tc_resp *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    char msg[160];
    snprintf(msg, sizeof msg, "(harness) %s failed: %s", what, ember_strerror(rc));
    t->type = TC_RESP_ERROR;
    t->str = dup_bytes(msg, strlen(msg));
    t->len = strlen(msg);
    return t;
}

tc_resp *tc_run_ember(tc_runner *r, const tc_cmd *c)
{
    ember_reply *rep = NULL;
    int rc = ember_command(r->views[c->db], c->argc, (const char *const *)c->argv, c->len, &rep);
    if (rc != EMBER_OK)
        return harness_error("ember_command", rc);
    tc_resp *t = tc_from_ember(rep);
    ember_reply_free(rep);
    return t;
}

static void redis_select(tc_runner *r, int db, int *pending)
{
    if (r->redis_db == db)
        return;
    char num[16];
    snprintf(num, sizeof num, "%d", db);
    const char *argv[] = {"SELECT", num};
    tc_conn_append(r->rc, 2, argv, NULL);
    r->redis_db = db;
    (*pending)++;
}

static int read_selects(tc_runner *r, int n, tc_buf *why)
{
    for (int i = 0; i < n; i++) {
        tc_resp *s = tc_conn_read(r->rc);
        int ok = s && s->type == TC_RESP_STATUS;
        tc_resp_free(s);
        if (!ok) {
            tc_buf_printf(why, "harness: SELECT failed on redis (%s)\n", tc_conn_error(r->rc));
            return -1;
        }
    }
    return 0;
}

tc_resp *tc_run_redis(tc_runner *r, const tc_cmd *c)
{
    int sel = 0;
    redis_select(r, c->db, &sel);
    tc_conn_append(r->rc, c->argc, (const char *const *)c->argv, c->len);
    tc_buf dummy = {0};
    int ok = read_selects(r, sel, &dummy) == 0;
    tc_buf_free(&dummy);
    return ok ? tc_conn_read(r->rc) : NULL;
}

tc_resp *tc_run_lit(tc_runner *r, int side_ember, int db, const char *const *argv)
{
    tc_cmd *c = tc_cmd_lit(db, 0, argv);
    tc_resp *res = side_ember ? tc_run_ember(r, c) : tc_run_redis(r, c);
    tc_cmd_free(c);
    return res;
}

static int cmp_canon(const void *x, const void *y)
{
    const tc_buf *a = x, *b = y;
    size_t m = a->len < b->len ? a->len : b->len;
    int d = memcmp(a->p, b->p, m);
    return d ? d : (a->len < b->len ? -1 : a->len > b->len);
}

/* Sorts acc's elements by canonical form and drops repeats (SCAN-like
 * iterations may return an element more than once). */
static void sort_unique(tc_resp *acc)
{
    tc_buf *keys = tc_xmalloc(acc->n * sizeof *keys);
    size_t *order = tc_xmalloc(acc->n * sizeof *order);
    for (size_t i = 0; i < acc->n; i++) {
        memset(&keys[i], 0, sizeof keys[i]);
        tc_resp_canon(&keys[i], acc->elem[i]);
        tc_buf_cstr(&keys[i]);
    }
    /* Insertion into a sorted index: small iterations, and it keeps the
     * buffers and elements paired without a second struct. */
    for (size_t i = 0; i < acc->n; i++) {
        size_t j = i;
        while (j > 0 && cmp_canon(&keys[order[j - 1]], &keys[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    tc_resp **sorted = tc_xmalloc(acc->n * sizeof *sorted);
    size_t w = 0;
    for (size_t i = 0; i < acc->n; i++) {
        size_t k = order[i];
        if (w > 0 && cmp_canon(&keys[order[i - 1]], &keys[k]) == 0)
            tc_resp_free(acc->elem[k]);
        else
            sorted[w++] = acc->elem[k];
    }
    for (size_t i = 0; i < acc->n; i++)
        tc_buf_free(&keys[i]);
    free(keys);
    free(order);
    free(acc->elem);
    acc->elem = sorted;
    acc->n = w;
}

static tc_resp *new_aggregate(int type)
{
    tc_resp *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    a->type = type;
    return a;
}

static void append_elem(tc_resp *a, size_t *cap, tc_resp *e)
{
    if (a->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        a->elem = xrealloc(a->elem, *cap * sizeof *a->elem);
    }
    a->elem[a->n++] = e;
}

tc_resp *tc_scan_all(tc_runner *r, const tc_cmd *c, size_t cursor_arg, size_t step, int side_ember,
                     tc_buf *why)
{
    tc_cmd *s = tc_cmd_dup(c);
    tc_resp *acc = new_aggregate(TC_RESP_SET);
    size_t cap = 0;
    for (int iter = 0; iter < 100000; iter++) {
        tc_resp *page = side_ember ? tc_run_ember(r, s) : tc_run_redis(r, s);
        if (page && page->type == TC_RESP_ERROR && iter == 0) {
            tc_cmd_free(s);
            tc_resp_free(acc);
            return page;
        }
        int ok = page && page->type == TC_RESP_ARRAY && page->n == 2 &&
                 page->elem[0]->type == TC_RESP_STRING && page->elem[1]->type == TC_RESP_ARRAY &&
                 page->elem[1]->n % step == 0;
        for (size_t i = 0; ok && i < page->elem[1]->n; i++)
            ok = page->elem[1]->elem[i]->type == TC_RESP_STRING;
        if (!ok) {
            tc_buf_printf(why, "[db%d] %s: malformed scan page at iteration %d: ", c->db,
                          side_ember ? "ember" : "redis", iter);
            tc_format_command(why, s->argc, (const char *const *)s->argv, s->len);
            tc_buf_puts(why, "\n  reply: ");
            tc_resp_render(why, page, 1);
            tc_buf_puts(why, "\n");
            tc_resp_free(page);
            tc_cmd_free(s);
            tc_resp_free(acc);
            return NULL;
        }
        tc_resp *items = page->elem[1];
        for (size_t i = 0; i < items->n; i += step) {
            tc_resp *it = items->elem[i];
            if (step > 1) {
                it = new_aggregate(TC_RESP_ARRAY);
                size_t icap = 0;
                for (size_t j = 0; j < step; j++)
                    append_elem(it, &icap, items->elem[i + j]);
            }
            for (size_t j = 0; j < step; j++)
                items->elem[i + j] = NULL;
            append_elem(acc, &cap, it);
        }
        items->n = 0;
        tc_resp *cur = page->elem[0];
        int done = cur->len == 1 && cur->str[0] == '0';
        tc_set_arg(s, cursor_arg, cur->str, cur->len);
        tc_resp_free(page);
        if (done) {
            tc_cmd_free(s);
            sort_unique(acc);
            return acc;
        }
    }
    tc_buf_printf(why, "[db%d] %s: scan did not finish within 100000 calls\n", c->db,
                  side_ember ? "ember" : "redis");
    tc_cmd_free(s);
    tc_resp_free(acc);
    return NULL;
}

int tc_run_scan(tc_runner *r, const tc_cmd *c, size_t cursor_arg, size_t step, tc_buf *why)
{
    tc_resp *red = tc_scan_all(r, c, cursor_arg, step, 0, why);
    tc_resp *emb = tc_scan_all(r, c, cursor_arg, step, 1, why);
    int eq = 0;
    if (red && emb) {
        if (r->trace)
            tc_trace_pair(c, red, emb);
        eq = tc_resp_equal(red, emb, 0);
        if (!eq) {
            tc_buf_printf(why, "[db%d] full scan iteration (elements as a set):\n", c->db);
            tc_format_mismatch(why, c->argc, (const char *const *)c->argv, c->len, red, emb);
        }
    }
    tc_resp_free(red);
    tc_resp_free(emb);
    return eq;
}

int tc_resp_same_shape(const tc_resp *a, const tc_resp *b)
{
    if (!a || !b)
        return a == b;
    int ta = a->type == TC_RESP_VERBATIM ? TC_RESP_STRING : a->type;
    int tb = b->type == TC_RESP_VERBATIM ? TC_RESP_STRING : b->type;
    if (ta == TC_RESP_BLOBERR)
        ta = TC_RESP_ERROR;
    if (tb == TC_RESP_BLOBERR)
        tb = TC_RESP_ERROR;
    if (ta != tb)
        return 0;
    if (ta == TC_RESP_ARRAY || ta == TC_RESP_SET || ta == TC_RESP_MAP || ta == TC_RESP_PUSH) {
        if (a->n != b->n)
            return 0;
        for (size_t i = 0; i < a->n; i++)
            if (!tc_resp_same_shape(a->elem[i], b->elem[i]))
                return 0;
    }
    return 1;
}

#define PIPE_MAX 64

/* Runs n plain commands on ember as one ember_batch (PIPELINE) on the root
 * handle, with a SELECT before each change of database; the SELECT replies
 * must be OK. out[k] receives command k's reply. Returns 0 or -1 (why). */
static int ember_run_batch(tc_runner *r, tc_cmd *const *cmds, size_t n, tc_resp **out, tc_buf *why)
{
    ember_batch *b = NULL;
    if (ember_batch_new(&b) != EMBER_OK) {
        tc_buf_puts(why, "harness: ember_batch_new failed\n");
        return -1;
    }
    size_t idx[PIPE_MAX];
    int cur = -1;
    size_t pos = 0;
    for (size_t k = 0; k < n; k++) {
        if (cmds[k]->db != cur) {
            char num[16];
            snprintf(num, sizeof num, "%d", cmds[k]->db);
            const char *sel[] = {"SELECT", num};
            ember_batch_add(b, 2, sel, NULL);
            cur = cmds[k]->db;
            pos++;
        }
        ember_batch_add(b, cmds[k]->argc, (const char *const *)cmds[k]->argv, cmds[k]->len);
        idx[k] = pos++;
    }
    int rc = ember_batch_exec(r->db, b, EMBER_BATCH_PIPELINE);
    if (rc != EMBER_OK || ember_batch_count(b) != pos) {
        tc_buf_printf(why, "ember_batch_exec failed: %s\n", ember_strerror(rc));
        ember_batch_free(b);
        return -1;
    }
    for (size_t p = 0, k = 0; p < pos; p++) {
        const ember_reply *rep = ember_batch_reply(b, p);
        if (k < n && idx[k] == p) {
            out[k++] = tc_from_ember(rep);
        } else if (ember_reply_type(rep) != EMBER_REPLY_STATUS) {
            tc_buf_printf(why, "ember batch: SELECT failed: %s\n",
                          ember_reply_str(rep, NULL) ? ember_reply_str(rep, NULL) : "?");
            for (size_t m = 0; m < k; m++)
                tc_resp_free(out[m]);
            ember_batch_free(b);
            return -1;
        }
    }
    ember_batch_free(b);
    return 0;
}

static int is_special(const tc_runner *r, const tc_cmd *c)
{
    return r->hooks && r->hooks->is_special && r->hooks->is_special(c);
}

static int compare_pair(tc_runner *r, const tc_cmd *c, const tc_resp *red, const tc_resp *emb,
                        tc_buf *why)
{
    if (r->hooks && r->hooks->compare)
        return r->hooks->compare(r, c, red, emb, why);
    int eq = tc_resp_equal(red, emb, 0);
    if (!eq)
        tc_report_mismatch(why, c, red, emb);
    return eq;
}

static void free_replies(tc_resp **v, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++)
        tc_resp_free(v[k]);
}

long tc_run_cmds(tc_runner *r, tc_cmd *const *cmds, size_t n, tc_buf *why)
{
    size_t i = 0;
    while (i < n) {
        const tc_cmd *c = cmds[i];
        if (is_special(r, c)) {
            int ok = r->hooks->run_special(r, c, why);
            r->ncompared++;
            if (!ok)
                return (long)i;
            i++;
            continue;
        }
        /* A pipeline of plain commands: redis first, then ember in order. */
        size_t j = i;
        int sels[PIPE_MAX];
        while (j < n && j - i < PIPE_MAX && !is_special(r, cmds[j])) {
            sels[j - i] = 0;
            redis_select(r, cmds[j]->db, &sels[j - i]);
            tc_conn_append(r->rc, cmds[j]->argc, (const char *const *)cmds[j]->argv, cmds[j]->len);
            j++;
        }
        size_t m = j - i;
        tc_resp *red[PIPE_MAX];
        for (size_t k = 0; k < m; k++) {
            red[k] = NULL;
            if (read_selects(r, sels[k], why) == 0)
                red[k] = tc_conn_read(r->rc);
            if (!red[k]) {
                tc_buf_printf(why, "harness: no reply from redis: %s\n", tc_conn_error(r->rc));
                free_replies(red, 0, k);
                return (long)(i + k);
            }
        }
        tc_resp *emb[PIPE_MAX];
        if (r->use_batch && ember_run_batch(r, cmds + i, m, emb, why) != 0) {
            free_replies(red, 0, m);
            return (long)i;
        }
        for (size_t k = 0; k < m; k++) {
            if (!r->use_batch)
                emb[k] = tc_run_ember(r, cmds[i + k]);
            if (r->trace)
                tc_trace_pair(cmds[i + k], red[k], emb[k]);
            r->ncompared++;
            int eq = compare_pair(r, cmds[i + k], red[k], emb[k], why);
            tc_resp_free(emb[k]);
            tc_resp_free(red[k]);
            if (!eq) {
                free_replies(red, k + 1, m);
                if (r->use_batch)
                    free_replies(emb, k + 1, m);
                return (long)(i + k);
            }
        }
        i = j;
    }
    return -1;
}

int tc_reset_both(tc_runner *r)
{
    static const char *const fa[] = {"FLUSHALL", NULL};
    static const char *const sel[] = {"SELECT", "0", NULL};
    tc_resp *x = tc_conn_commandv(r->rc, fa);
    int ok = x && x->type == TC_RESP_STATUS;
    tc_resp_free(x);
    x = tc_conn_commandv(r->rc, sel);
    ok = ok && x && x->type == TC_RESP_STATUS;
    tc_resp_free(x);
    r->redis_db = 0;
    ember_reply *e = NULL;
    const char *argv[] = {"FLUSHALL"};
    ok = ok && ember_command(r->db, 1, argv, NULL, &e) == EMBER_OK &&
         ember_reply_type(e) == EMBER_REPLY_STATUS;
    if (!ok)
        fprintf(stderr, "diff: FLUSHALL failed (redis: %s, ember reply type %d%s%s)\n",
                tc_conn_error(r->rc), ember_reply_type(e), e ? ": " : "",
                e && ember_reply_str(e, NULL) ? ember_reply_str(e, NULL) : "");
    ember_reply_free(e);
    if (ok && r->hooks && r->hooks->after_reset)
        ok = r->hooks->after_reset(r);
    return ok;
}

long tc_dump_keys(tc_runner *r, int ndbs, int keys_kind, tc_cmdvec *dump, tc_buf *why,
                  tc_dump_key_fn per_key)
{
    size_t base = dump->n;
    for (int db = 0; db < ndbs; db++) {
        tc_vec_push(dump, tc_cmd_key(db, 0, "DBSIZE", NULL, 0));
        tc_vec_push(dump, tc_cmd_key(db, keys_kind, "KEYS", "*", 1));
    }
    long bad = tc_run_cmds(r, dump->v + base, dump->n - base, why);
    if (bad >= 0)
        return (long)base + bad;
    size_t first = dump->n;
    for (int db = 0; db < ndbs; db++) {
        size_t ki = base + (size_t)db * 2 + 1;
        tc_resp *ks = tc_run_redis(r, dump->v[ki]);
        if (!ks || ks->type != TC_RESP_ARRAY) {
            tc_resp_free(ks);
            tc_buf_puts(why, "harness: KEYS * failed on redis\n");
            return (long)ki;
        }
        for (size_t i = 0; i < ks->n; i++)
            per_key(r, dump, db, ks->elem[i]->str, ks->elem[i]->len);
        tc_resp_free(ks);
    }
    bad = tc_run_cmds(r, dump->v + first, dump->n - first, why);
    return bad < 0 ? -1 : (long)first + bad;
}

/* ------------------------------------------------------------------ shrinking */

/* 1 if running seq (after a reset) mismatches at its last command. */
static int reproduces(tc_runner *r, tc_cmd **seq, size_t n)
{
    if (!tc_reset_both(r))
        return 0;
    tc_buf why = {0};
    long bad = tc_run_cmds(r, seq, n, &why);
    tc_buf_free(&why);
    return bad == (long)n - 1;
}

/* Removes chunks of commands before the failing (last) one while the mismatch
 * still reproduces. Returns the new length; seq is compacted in place (removed
 * entries are not freed: the caller owns them). */
static size_t shrink(tc_runner *r, tc_cmd **seq, size_t n, int budget)
{
    tc_cmd **tmp = tc_xmalloc(n * sizeof *tmp);
    size_t chunk = (n - 1) / 2;
    if (chunk == 0)
        chunk = 1;
    while (budget > 0 && n > 1) {
        int removed_any = 0;
        for (size_t start = 0; start + 1 < n && budget > 0;) {
            size_t len = chunk;
            if (start + len > n - 1)
                len = n - 1 - start;
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (i < start || i >= start + len)
                    tmp[m++] = seq[i];
            budget--;
            if (reproduces(r, tmp, m)) {
                memcpy(seq, tmp, m * sizeof *seq);
                n = m;
                removed_any = 1;
            } else {
                start += len;
            }
        }
        if (chunk == 1 && !removed_any)
            break;
        if (chunk > 1)
            chunk /= 2;
    }
    free(tmp);
    return n;
}

static void print_cmds(tc_buf *out, const char *indent, tc_cmd *const *seq, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tc_buf_printf(out, "%s[db%d] ", indent, seq[i]->db);
        tc_format_command(out, seq[i]->argc, (const char *const *)seq[i]->argv, seq[i]->len);
        tc_buf_puts(out, "\n");
    }
}

/* Appends a minimal reproducer of the mismatch at hist[bad] to report. */
static void shrink_report(tc_runner *r, tc_cmd *const *hist, long bad, tc_buf *report)
{
    size_t n = (size_t)bad + 1;
    tc_cmd **seq = tc_xmalloc(n * sizeof *seq);
    memcpy(seq, hist, n * sizeof *seq);
    if (reproduces(r, seq, n)) {
        n = shrink(r, seq, n, 600);
        tc_buf_printf(report, "minimal reproducer (%zu commands):\n", n);
        print_cmds(report, "  ", seq, n);
        tc_buf whyr = {0};
        tc_reset_both(r);
        tc_run_cmds(r, seq, n, &whyr);
        tc_buf_printf(report, "  -> %s", tc_buf_cstr(&whyr));
        tc_buf_free(&whyr);
    } else {
        tc_buf_puts(report, "(the mismatch did not reproduce on replay: timing-dependent)\n");
    }
    free(seq);
}

/* ------------------------------------------------------------------ streams */

static void family_report(const tc_gens *t, const int *fail_gen, size_t nfails, tc_buf *rep)
{
    uint64_t other = 0;
    uint64_t *per = calloc(t->n ? t->n : 1, sizeof *per);
    if (!per)
        abort();
    for (size_t i = 0; i < nfails; i++) {
        if (fail_gen[i] >= 0 && (size_t)fail_gen[i] < t->n)
            per[fail_gen[i]]++;
        else
            other++;
    }
    tc_buf_printf(rep,
                  "\n%zu seed(s) diverged. First mismatch per seed by command family:", nfails);
    for (size_t g = 0; g < t->n; g++)
        if (per[g])
            tc_buf_printf(rep, " %s=%llu", t->name[g], (unsigned long long)per[g]);
    if (other)
        tc_buf_printf(rep, " final-dump/follow-up=%llu", (unsigned long long)other);
    tc_buf_puts(rep, "\n");
    free(per);
}

size_t tc_run_stream(tc_runner *r, const tc_stream *s)
{
    int nseeds = tc_env_int("EMBER_DIFF_SEEDS", s->seeds);
    int nops = tc_env_int("EMBER_DIFF_OPS", s->ops);
    int base = tc_env_int("EMBER_DIFF_SEED_BASE", 1);
    int shrink_left = tc_env_int("EMBER_DIFF_SHRINK", 5);
    const char *one = getenv("EMBER_DIFF_SEED");
    if (one && *one) {
        base = atoi(one);
        nseeds = 1;
    }
    const char *skip = getenv("EMBER_DIFF_SKIP");
    if (!skip)
        skip = s->default_skip;
    tc_gens_skip(s->gens, skip);
    for (size_t i = 0; i < s->gens->n; i++)
        s->gens->count[i] = 0;

    tc_cmdvec hist = {0}, dump = {0};
    int *fail_gen = NULL;
    size_t nfails = 0;
    tc_buf report = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long compared0 = r->ncompared;

    for (int si = 0; si < nseeds; si++) {
        unsigned long long seed = (unsigned long long)(base + si);
        s->seed_begin(s->user, seed ^ s->salt);
        r->use_batch = (int)(seed & 1);
        if (!tc_reset_both(r)) {
            fail_gen = xrealloc(fail_gen, (nfails + 1) * sizeof *fail_gen);
            fail_gen[nfails++] = -1;
            break;
        }
        tc_buf why = {0};
        long bad = -1;
        int in_dump = 0;
        int ops = 0;
        while (ops < nops) {
            /* Generate a chunk (the stream does not depend on replies), run it. */
            size_t from = hist.n;
            while (ops < nops && hist.n - from < 48) {
                size_t before = hist.n;
                s->next(s->user, &hist);
                ops += (int)(hist.n - before);
            }
            long b = tc_run_cmds(r, hist.v + from, hist.n - from, &why);
            if (b >= 0) {
                bad = (long)from + b;
                break;
            }
        }
        if (bad < 0) {
            long b = s->final_dump(r, &dump, &why);
            if (b >= 0) {
                in_dump = 1;
                /* The failing dump command goes at the end of the history. */
                tc_vec_push(&hist, tc_cmd_dup(dump.v[b]));
                bad = (long)hist.n - 1;
            }
            tc_vec_clear(&dump);
        }
        if (bad >= 0) {
            tc_buf_printf(&report,
                          "\n=== %s seed %llu: mismatch at op %ld%s, ember via %s (replay: "
                          "EMBER_DIFF_SEED=%llu EMBER_DIFF_OPS=%d%s%s)\n%s",
                          s->title, seed, bad, in_dump ? " (final dump)" : "",
                          r->use_batch ? "ember_batch" : "ember_command", seed, nops,
                          skip && *skip ? " EMBER_DIFF_SKIP=" : "", skip && *skip ? skip : "",
                          tc_buf_cstr(&why));
            if (shrink_left > 0) {
                shrink_left--;
                shrink_report(r, hist.v, bad, &report);
            }
            fail_gen = xrealloc(fail_gen, (nfails + 1) * sizeof *fail_gen);
            fail_gen[nfails++] = hist.v[bad]->gen;
        }
        tc_buf_free(&why);
        fprintf(stderr, "%s: seed %llu: %s (%d ops, ember via %s)\n", s->title, seed,
                bad >= 0 ? "MISMATCH" : "ok", ops, r->use_batch ? "ember_batch" : "ember_command");
        tc_vec_clear(&hist);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "%s: %d seeds x %d ops, %ld replies compared in %.1f s\n", s->title, nseeds,
            nops, r->ncompared - compared0, secs);

    /* Every generator must have run (unless skipped or the run is tiny). */
    long long total_ops = (long long)nseeds * nops;
    size_t never_ran = 0;
    if (total_ops >= 20000 && nfails == 0) {
        for (size_t i = 0; i < s->gens->n; i++) {
            if (!s->gens->skip[i] && s->gens->weight[i] > 0 && s->gens->count[i] == 0) {
                fprintf(stderr, "%s: generator %s never ran\n", s->title, s->gens->name[i]);
                never_ran++;
            }
        }
    }
    if (nfails) {
        family_report(s->gens, fail_gen, nfails, &report);
        fprintf(stderr, "%s\n", tc_buf_cstr(&report));
    }
    free(fail_gen);
    tc_buf_free(&report);
    free(hist.v);
    free(dump.v);
    return nfails + never_ran;
}

/* ------------------------------------------------------------------ directed */

tc_cmd *tc_parse_line(int db, const char *line)
{
    tc_cmd *c = tc_cmd_new(db, 0, -1);
    const char *p = line;
    char buf[1024];
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t n = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"' && n < sizeof buf) {
                if (*p == '\\' && p[1]) {
                    p++;
                    if (*p == 'x' && p[1] && p[2]) {
                        char hex[3] = {p[1], p[2], 0};
                        buf[n++] = (char)strtol(hex, NULL, 16);
                        p += 3;
                        continue;
                    }
                    buf[n++] = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p;
                    p++;
                } else {
                    buf[n++] = *p++;
                }
            }
            if (*p == '"')
                p++;
        } else {
            while (*p && *p != ' ' && n < sizeof buf)
                buf[n++] = *p++;
        }
        tc_arg(c, buf, n);
    }
    return c;
}

int tc_run_directed(tc_runner *r, const char *const *cases, size_t ncases, size_t width,
                    void (*kind_of)(tc_cmd *c))
{
    int failed = 0;
    r->use_batch = 0;
    for (size_t ci = 0; ci < ncases; ci++) {
        if (!tc_reset_both(r))
            return failed + 1;
        tc_cmdvec v = {0};
        int db = 0;
        for (size_t li = 0; li < width && cases[ci * width + li]; li++) {
            const char *line = cases[ci * width + li];
            if (line[0] == '@') {
                db = atoi(line + 1);
                continue;
            }
            tc_cmd *c = tc_parse_line(db, line);
            if (kind_of)
                kind_of(c);
            tc_vec_push(&v, c);
        }
        tc_buf why = {0};
        long bad = tc_run_cmds(r, v.v, v.n, &why);
        if (bad >= 0) {
            failed++;
            tc_buf out = {0};
            print_cmds(&out, "    ", v.v, (size_t)bad + 1);
            fprintf(stderr, "directed case %zu: mismatch at command %ld:\n%s  case commands:\n%s",
                    ci, bad, tc_buf_cstr(&why), tc_buf_cstr(&out));
            tc_buf_free(&out);
        }
        tc_buf_free(&why);
        tc_vec_clear(&v);
        free(v.v);
    }
    return failed;
}
