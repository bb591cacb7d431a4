/*
 * t_keys.c — commands on keys of any type: existence, deletion, renaming,
 * copying between databases, iteration (KEYS, SCAN), expiry and OBJECT.
 *
 * Every reply and error is Redis 7.0's, byte for byte. Expire times are
 * absolute Unix milliseconds; relative ones are resolved against em_now(c),
 * which is fixed for the whole command. Keys of other databases are reached
 * through c->st->dbs[i]; the selected one is c->ks.
 *
 * Invariant kept by every handler: a dict position (em_dpos) is only used
 * right after the lookup that produced it. Any deletion — including the lazy
 * expiry a lookup may perform — can free the object that holds the link of
 * a neighbour, so positions are found again after each change.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "../command/command.h"
#include "coll.h"
#include "../common/util.h"

/* Redis's OBJ_SHARED_INTEGERS: values 0..9999 are shared objects. */
#define SHARED_INTEGERS 10000
/* What OBJECT REFCOUNT reports for a shared object (Redis's OBJ_SHARED_REFCOUNT). */
#define SHARED_REFCOUNT 2147483647

/* ------------------------------------------------------------------ helpers */

static int is_lfu(const em_ctx *c)
{
    return ember__policy_is_lfu(c->srv->cfg.maxmemory_policy);
}

static int same_arg(const em_ctx *c, size_t a, size_t b)
{
    return c->argvlen[a] == c->argvlen[b] && memcmp(c->argv[a], c->argv[b], c->argvlen[a]) == 0;
}

/* Parses argv[i] as a C int as Redis's getIntFromObjectOrReply does: `msg`
 * replaces both of its errors when given. Returns 1, or 0 after replying. */
static int arg_int(em_ctx *c, size_t i, int *out, const char *msg)
{
    long long v;
    if (!em_arg_ll_quiet(c, i, &v)) {
        em_add_error(c, msg ? msg : "ERR value is not an integer or out of range");
        return 0;
    }
    if (v < INT32_MIN || v > INT32_MAX) {
        em_add_error(c, msg ? msg
                            : "ERR value is out of range, value must between -2147483648 and "
                              "2147483647");
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* Parses a DB index argument and checks its range. Returns the database or
 * NULL after replying. */
static em_keyspace *arg_db(em_ctx *c, size_t i)
{
    int id;
    if (!arg_int(c, i, &id, NULL))
        return NULL;
    if (id < 0 || id >= c->st->ndb) {
        em_add_error(c, "ERR DB index is out of range");
        return NULL;
    }
    return &c->st->dbs[id];
}

/* Finds the position of a key known to be present (no expiry, no stats). */
static int refind(em_keyspace *ks, const void *key, size_t klen, em_dpos *pos)
{
    return ember__dict_find(&ks->dict, key, klen, ember__dict_hash(&ks->dict, key, klen), pos);
}

static void reply_oom(em_ctx *c)
{
    em_add_error(c, "ERR out of memory");
}

/* A new object holding o's value under another key, with o's expire time.
 * The value is moved, not copied: a RAW or collection body then belongs to
 * both objects until the caller frees o's shell. NULL on OOM. */
static em_obj *obj_rekey(em_mem *m, const em_obj *o, const void *key, size_t klen)
{
    em_obj *n;
    int type = ember__obj_type(o), enc = ember__obj_enc(o);
    if (type == EM_T_STRING && enc == EM_ENC_INT) {
        n = ember__obj_new_int(m, key, klen, ember__obj_int(o));
    } else if (type == EM_T_STRING && enc == EM_ENC_EMBSTR) {
        char ibuf[EM_LLSTR_SIZE];
        em_strview v;
        ember__obj_str_view(o, ibuf, &v);
        n = ember__obj_new_string(m, key, klen, v.ptr, v.len, EM_STRENC_NOINT);
    } else {
        n = ember__obj_new_body(m, key, klen, type, enc, ember__obj_body(o));
    }
    if (n && ember__obj_has_expire(o)) {
        em_obj *e = ember__obj_rebuild_expire(m, n, ember__obj_expire(o));
        ember__obj_free_shell(m, n); /* inline values were copied, bodies moved */
        n = e;
    }
    return n;
}

/* A deep copy of o under another key, with o's expire time. NULL on OOM. */
static em_obj *obj_copy(em_mem *m, const em_obj *o, const void *key, size_t klen)
{
    em_obj *n = ember__obj_dup_as(m, o, key, klen);
    if (n && ember__obj_has_expire(o)) {
        em_obj *e = ember__obj_rebuild_expire(m, n, ember__obj_expire(o));
        if (!e) {
            ember__obj_free(m, n);
            return NULL;
        }
        ember__obj_free_shell(m, n); /* the copied body moved to e */
        n = e;
    }
    return n;
}

/* ------------------------------------------------------------------ existence */

/* DEL / UNLINK: lazy frees large values on the background thread. */
static void del_generic(em_ctx *c, int lazy)
{
    int64_t n = 0;
    for (size_t i = 1; i < c->argc; i++) {
        em_dpos pos;
        /* An expired key is expired by the lookup (and counted as such), not deleted. */
        em_obj *o = em_lookup_write(c, i, &pos);
        if (o) {
            em_notify(c, EM_EV_DEL, i, o);
            ember__ks_delete(c->st, c->ks, &pos, lazy, EM_DEL_USER);
            n++;
        }
    }
    em_add_int(c, n);
}

/* DEL key [key ...] */
static void cmd_del(em_ctx *c)
{
    del_generic(c, c->srv->cfg.lazyfree_lazy_user_del != 0);
}

/* UNLINK key [key ...] */
static void cmd_unlink(em_ctx *c)
{
    del_generic(c, 1);
}

/* EXISTS key [key ...] */
static void cmd_exists(em_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 1; i < c->argc; i++)
        if (ember__ks_lookup(c->st, c->ks, c->argv[i], c->argvlen[i], em_now(c),
                             EM_LK_READ | EM_LK_NOTOUCH, NULL))
            n++;
    em_add_int(c, n);
}

/* TOUCH key [key ...] */
static void cmd_touch(em_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 1; i < c->argc; i++)
        if (em_lookup_read(c, i, NULL))
            n++;
    em_add_int(c, n);
}

/* TYPE key */
static void cmd_type(em_ctx *c)
{
    em_obj *o = ember__ks_lookup(c->st, c->ks, c->argv[1], c->argvlen[1], em_now(c),
                                 EM_LK_READ | EM_LK_NOTOUCH, NULL);
    em_add_status(c, o ? ember__type_name(ember__obj_type(o)) : "none");
}

/* RANDOMKEY */
static void cmd_randomkey(em_ctx *c)
{
    em_obj *o = ember__ks_random(c->st, c->ks, em_now(c));
    if (!o) {
        em_add_nil(c);
        return;
    }
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    em_add_bulk(c, k, kl);
}

/* DBSIZE */
static void cmd_dbsize(em_ctx *c)
{
    /* As Redis: keys that are logically expired but not yet reclaimed count. */
    em_add_int(c, (int64_t)ember__dict_size(&c->ks->dict));
}

/* ------------------------------------------------------------------ rename, copy, move */

/* RENAME / RENAMENX: the value moves to the new key without being copied. */
static void rename_generic(em_ctx *c, int nx)
{
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (!o) {
        em_err_nokey(c);
        return;
    }
    if (same_arg(c, 1, 2)) {
        if (nx)
            em_add_int(c, 0);
        else
            em_add_ok(c);
        return;
    }
    em_obj *d = em_lookup_write(c, 2, &pos);
    if (d && nx) {
        em_add_int(c, 0);
        return;
    }
    em_obj *n = obj_rekey(&c->st->mem, o, c->argv[2], c->argvlen[2]);
    if (!n) {
        reply_oom(c);
        return;
    }
    if (d && refind(c->ks, c->argv[2], c->argvlen[2], &pos))
        ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
    refind(c->ks, c->argv[1], c->argvlen[1], &pos); /* o is live: always found */
    ember__ks_detach(c->st, c->ks, &pos);
    ember__ks_add(c->st, c->ks, n);
    em_notify(c, EM_EV_RENAME_FROM, 1, n);
    em_notify(c, EM_EV_RENAME_TO, 2, n);
    ember__obj_free_shell(&c->st->mem, o); /* its value now belongs to n */
    if (nx)
        em_add_int(c, 1);
    else
        em_add_ok(c);
}

/* RENAME key newkey */
static void cmd_rename(em_ctx *c)
{
    rename_generic(c, 0);
}

/* RENAMENX key newkey */
static void cmd_renamenx(em_ctx *c)
{
    rename_generic(c, 1);
}

/* COPY source destination [DB destination-db] [REPLACE] */
static void cmd_copy(em_ctx *c)
{
    em_keyspace *dst = c->ks;
    int replace = 0;
    for (size_t j = 3; j < c->argc; j++) {
        if (em_arg_is(c, j, "replace")) {
            replace = 1;
        } else if (em_arg_is(c, j, "db") && j + 1 < c->argc) {
            if (!(dst = arg_db(c, j + 1)))
                return;
            j++;
        } else {
            em_err_syntax(c);
            return;
        }
    }
    if (dst == c->ks && same_arg(c, 1, 2)) {
        em_add_error(c, "ERR source and destination objects are the same");
        return;
    }
    em_obj *o = em_lookup_read(c, 1, NULL);
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    em_dpos pos;
    em_obj *d =
        ember__ks_lookup(c->st, dst, c->argv[2], c->argvlen[2], em_now(c), EM_LK_WRITE, &pos);
    if (d && !replace) {
        em_add_int(c, 0);
        return;
    }
    em_obj *n = obj_copy(&c->st->mem, o, c->argv[2], c->argvlen[2]);
    if (!n) {
        reply_oom(c);
        return;
    }
    if (d)
        ember__ks_delete(c->st, dst, &pos, 0, EM_DEL_USER);
    ember__ks_add(c->st, dst, n);
    ember__notify_keyspace_event(c->st, dst, EM_EV_COPY_TO, c->argv[2], c->argvlen[2], n);
    em_add_int(c, 1);
}

/* MOVE key db */
static void cmd_move(em_ctx *c)
{
    em_keyspace *dst = arg_db(c, 2);
    if (!dst)
        return;
    if (dst == c->ks) {
        em_add_error(c, "ERR source and destination objects are the same");
        return;
    }
    em_dpos pos, dpos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    /* A lookup in another database cannot disturb pos. */
    if (ember__ks_lookup(c->st, dst, c->argv[1], c->argvlen[1], em_now(c), EM_LK_WRITE, &dpos)) {
        em_add_int(c, 0);
        return;
    }
    if (ember__ks_move(c->st, c->ks, &pos, dst) != 0) {
        reply_oom(c);
        return;
    }
    em_notify(c, EM_EV_MOVE_FROM, 1, o);
    ember__notify_keyspace_event(c->st, dst, EM_EV_MOVE_TO, c->argv[1], c->argvlen[1], o);
    em_add_int(c, 1);
}

/* SWAPDB index1 index2 */
static void cmd_swapdb(em_ctx *c)
{
    int a, b;
    if (!arg_int(c, 1, &a, "ERR invalid first DB index") ||
        !arg_int(c, 2, &b, "ERR invalid second DB index"))
        return;
    if (a < 0 || a >= c->st->ndb || b < 0 || b >= c->st->ndb) {
        em_add_error(c, "ERR DB index is out of range");
        return;
    }
    if (a != b)
        ember__ks_swap(c->st, &c->st->dbs[a], &c->st->dbs[b]);
    em_add_ok(c);
    em_log_force(c); /* Redis logs it even when nothing moved */
}

/* FLUSHDB / FLUSHALL: no argument follows lazyfree-lazy-user-flush. */
static void flush_generic(em_ctx *c, int all)
{
    int async;
    if (c->argc == 1) {
        async = c->srv->cfg.lazyfree_lazy_user_flush != 0;
    } else if (c->argc == 2 && em_arg_is(c, 1, "sync")) {
        async = 0;
    } else if (c->argc == 2 && em_arg_is(c, 1, "async")) {
        async = 1;
    } else {
        em_err_syntax(c);
        return;
    }
    if (all) {
        for (int i = 0; i < c->st->ndb; i++)
            ember__ks_flush(c->st, &c->st->dbs[i], async);
    } else {
        ember__ks_flush(c->st, c->ks, async);
    }
    em_add_ok(c);
    em_log_force(c); /* Redis logs it even when there was nothing to flush */
}

/* FLUSHDB [ASYNC|SYNC] */
static void cmd_flushdb(em_ctx *c)
{
    flush_generic(c, 0);
}

/* FLUSHALL [ASYNC|SYNC] */
static void cmd_flushall(em_ctx *c)
{
    flush_generic(c, 1);
}

/* ------------------------------------------------------------------ iteration */

typedef struct keys_walk {
    em_ctx *c;
    const char *pat;
    size_t plen;
    int all;
    int64_t now;
    size_t n;
} keys_walk;

static void keys_cb(void *ud, em_obj *o)
{
    keys_walk *w = ud;
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    if (!w->all && !ember__glob_match(w->pat, w->plen, k, kl, 0))
        return;
    if (ember__ks_expired(o, w->now))
        return;
    em_add_bulk(w->c, k, kl);
    w->n++;
}

/*
 * KEYS pattern
 *
 * Walks the table with the scan cursor from 0 back to 0. Nothing changes the
 * table during the walk (expired keys are skipped, not deleted, as in Redis),
 * so the reverse-binary cursor visits every bucket of each table exactly once
 * and every key is reported exactly once.
 */
static void cmd_keys(em_ctx *c)
{
    /* A lone '*' is a short cut in Redis: it matches even the empty key,
     * which the glob itself would not ('*' needs the loop to run once). */
    keys_walk w = {c,         c->argv[1], c->argvlen[1], c->argvlen[1] == 1 && c->argv[1][0] == '*',
                   em_now(c), 0};
    em_add_deferred(c, EMBER_REPLY_ARRAY);
    uint64_t cur = 0;
    do
        cur = ember__dict_scan(&c->ks->dict, cur, keys_cb, &w);
    while (cur != 0);
    em_end_deferred(c, w.n);
}

/* Type names compare as C strings, ignoring case (Redis's strcasecmp). */
static int type_is(const char *want, size_t wlen, const char *name)
{
    size_t n = strnlen(want, wlen);
    return n == strlen(name) && strncasecmp(want, name, n) == 0;
}

/*
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
 *
 * Collects whole buckets with ember__dict_scan until COUNT keys or 10 x COUNT
 * buckets, then filters. The guarantee (every key present for the whole
 * iteration is returned) is the dict cursor's, see dict.c. Filtering may
 * delete expired keys, which frees only those objects: the other collected
 * pointers stay valid, and each is looked at once.
 */
static void cmd_scan(em_ctx *c)
{
    uint64_t cursor;
    em_scan_opts so;
    if (!ember__scan_cursor(c, 1, &cursor) || !ember__scan_opts(c, 2, 1, &so))
        return;
    em_objvec s = {NULL, 0, 0, 0};
    ember__scan_collect(&c->ks->dict, &cursor, so.count, &s);
    if (s.oom) {
        ember__objvec_free(&s);
        reply_oom(c);
        return;
    }

    size_t kept = 0;
    int64_t now = em_now(c);
    for (size_t i = 0; i < s.n; i++) {
        em_obj *o = s.v[i];
        size_t kl;
        const char *k = ember__obj_key(o, &kl);
        if (!ember__scan_match(&so, k, kl))
            continue;
        if (so.type) {
            /* A read lookup, as Redis's filter does: it counts a hit and
             * expires the key if it is due (then o is gone). */
            o = ember__ks_lookup(c->st, c->ks, k, kl, now, EM_LK_READ | EM_LK_NOTOUCH, NULL);
            if (!o || !type_is(so.type, so.tlen, ember__type_name(ember__obj_type(o))))
                continue;
        }
        if (ember__ks_expired(o, now)) {
            em_dpos pos;
            if (refind(c->ks, k, kl, &pos))
                ember__ks_delete(c->st, c->ks, &pos, c->srv->cfg.lazyfree_lazy_expire != 0,
                                 EM_DEL_EXPIRED);
            continue;
        }
        s.v[kept++] = o;
    }

    ember__scan_reply_cursor(c, cursor);
    em_add_array(c, kept);
    for (size_t i = 0; i < kept; i++) {
        size_t kl;
        const char *k = ember__obj_key(s.v[i], &kl);
        em_add_bulk(c, k, kl);
    }
    ember__objvec_free(&s);
}

/* ------------------------------------------------------------------ expiry */

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

/* EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT: `base` is added to the argument
 * (now for relative forms, 0 for absolute ones), after scaling seconds. */
/* Logs EXPIRE, PEXPIRE and EXPIREAT as PEXPIREAT key ms [options], as Redis
 * 7.0 does (PEXPIREAT itself is logged as it is). */
static void log_pexpireat(em_ctx *c, int64_t when)
{
    if (!em_logging(c) || !strcmp(c->cmd->name, "pexpireat"))
        return;
    const char **a = malloc(c->argc * sizeof *a);
    size_t *l = malloc(c->argc * sizeof *l);
    char ms[EM_LLSTR_SIZE];
    if (a && l) {
        for (size_t i = 0; i < c->argc; i++) {
            a[i] = c->argv[i];
            l[i] = c->argvlen[i];
        }
        a[0] = "PEXPIREAT";
        l[0] = 9;
        a[2] = ms;
        l[2] = ember__ll_to_str(ms, when);
        em_log_replace(c, c->argc, a, l);
    }
    free(a); /* on OOM the relative form is logged: the best left to do */
    free(l);
}

static void expire_generic(em_ctx *c, int64_t base, int seconds)
{
    int flags = 0;
    for (size_t i = 3; i < c->argc; i++) {
        if (em_arg_is(c, i, "nx")) {
            flags |= EXP_NX;
        } else if (em_arg_is(c, i, "xx")) {
            flags |= EXP_XX;
        } else if (em_arg_is(c, i, "gt")) {
            flags |= EXP_GT;
        } else if (em_arg_is(c, i, "lt")) {
            flags |= EXP_LT;
        } else {
            /* Redis prints the option as a C string (it ends at a NUL byte)
             * and trims CR/LF from the end of an error message. */
            size_t n = strnlen(c->argv[i], c->argvlen[i]);
            while (n && (c->argv[i][n - 1] == '\r' || c->argv[i][n - 1] == '\n'))
                n--;
            em_add_errorf(c, "ERR Unsupported option %.*s", (int)n, c->argv[i]);
            return;
        }
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
        em_add_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EXP_GT) && (flags & EXP_LT)) {
        em_add_error(c, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    long long when;
    if (!em_arg_ll(c, 2, &when))
        return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            em_err_expire(c);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - base) {
        em_err_expire(c);
        return;
    }
    when += base;

    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    int64_t cur = ember__obj_expire(o); /* -1: none, which counts as infinite */
    if (((flags & EXP_NX) && cur != -1) || ((flags & EXP_XX) && cur == -1) ||
        ((flags & EXP_GT) && (cur == -1 || when <= cur)) ||
        ((flags & EXP_LT) && cur != -1 && when >= cur)) {
        em_add_int(c, 0);
        return;
    }
    if (when <= em_now(c)) {
        /* Already in the past: the key goes now (a deletion, not an expiry, in
         * Redis's statistics). */
        em_notify(c, EM_EV_DEL, 1, o);
        ember__ks_delete(c->st, c->ks, &pos, c->srv->cfg.lazyfree_lazy_expire != 0, EM_DEL_USER);
        em_add_int(c, 1);
        const char *a[2] = {"DEL", c->argv[1]};
        size_t l[2] = {3, c->argvlen[1]};
        em_log_replace(c, 2, a, l);
        return;
    }
    if (!(o = ember__ks_set_expire(c->st, c->ks, &pos, when))) {
        reply_oom(c);
        return;
    }
    em_notify(c, EM_EV_EXPIRE, 1, o);
    em_add_int(c, 1);
    log_pexpireat(c, when);
}

/* EXPIRE key seconds [NX|XX|GT|LT] */
static void cmd_expire(em_ctx *c)
{
    expire_generic(c, em_now(c), 1);
}

/* PEXPIRE key milliseconds [NX|XX|GT|LT] */
static void cmd_pexpire(em_ctx *c)
{
    expire_generic(c, em_now(c), 0);
}

/* EXPIREAT key unix-time-seconds [NX|XX|GT|LT] */
static void cmd_expireat(em_ctx *c)
{
    expire_generic(c, 0, 1);
}

/* PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT] */
static void cmd_pexpireat(em_ctx *c)
{
    expire_generic(c, 0, 0);
}

/* TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 no key, -1 no expire. */
static void ttl_generic(em_ctx *c, int ms, int absolute)
{
    em_obj *o = ember__ks_lookup(c->st, c->ks, c->argv[1], c->argvlen[1], em_now(c),
                                 EM_LK_READ | EM_LK_NOTOUCH, NULL);
    if (!o) {
        em_add_int(c, -2);
        return;
    }
    int64_t when = ember__obj_expire(o);
    if (when == -1) {
        em_add_int(c, -1);
        return;
    }
    int64_t v = absolute ? when : when - em_now(c);
    if (v < 0)
        v = 0;
    /* Seconds round half up, computed without the overflow of v + 500. */
    em_add_int(c, ms ? v : v / 1000 + (v % 1000 >= 500));
}

/* TTL key */
static void cmd_ttl(em_ctx *c)
{
    ttl_generic(c, 0, 0);
}

/* PTTL key */
static void cmd_pttl(em_ctx *c)
{
    ttl_generic(c, 1, 0);
}

/* EXPIRETIME key */
static void cmd_expiretime(em_ctx *c)
{
    ttl_generic(c, 0, 1);
}

/* PEXPIRETIME key */
static void cmd_pexpiretime(em_ctx *c)
{
    ttl_generic(c, 1, 1);
}

/* PERSIST key */
static void cmd_persist(em_ctx *c)
{
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (!o || !ember__obj_has_expire(o)) {
        em_add_int(c, 0);
        return;
    }
    if (!(o = ember__ks_set_expire(c->st, c->ks, &pos, -1))) {
        reply_oom(c);
        return;
    }
    em_notify(c, EM_EV_PERSIST, 1, o);
    em_add_int(c, 1);
}

/* ------------------------------------------------------------------ OBJECT */

/* The key argv[2] for OBJECT subcommands (no LRU touch); replies nil if missing. */
static em_obj *object_lookup(em_ctx *c)
{
    em_obj *o = ember__ks_lookup(c->st, c->ks, c->argv[2], c->argvlen[2], em_now(c),
                                 EM_LK_READ | EM_LK_NOTOUCH, NULL);
    if (!o)
        em_add_nil(c);
    return o;
}

/* OBJECT ENCODING key */
static void cmd_object_encoding(em_ctx *c)
{
    em_obj *o = object_lookup(c);
    if (o)
        em_add_cstr(c, ember__enc_name(ember__obj_enc(o)));
}

/*
 * OBJECT FREQ key
 *
 * Reads the 24-bit field in Redis's LFU layout (16-bit minutes of the last
 * decrement, 8-bit logarithmic counter) and applies the decay for the minutes
 * since, as Redis does when it reports the counter.
 */
static void cmd_object_freq(em_ctx *c)
{
    em_obj *o = object_lookup(c);
    if (!o)
        return;
    if (!is_lfu(c)) {
        em_add_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not "
                        "tracked. Please note that when switching between policies at runtime "
                        "LRU and LFU data will take some time to adjust.");
        return;
    }
    uint32_t now_min = (uint32_t)(em_now(c) / 60000);
    em_add_int(c, ember__lfu_decayed(ember__obj_lru(o), now_min, (int)c->srv->cfg.lfu_decay_time));
}

/* OBJECT IDLETIME key */
static void cmd_object_idletime(em_ctx *c)
{
    em_obj *o = object_lookup(c);
    if (!o)
        return;
    if (is_lfu(c)) {
        em_add_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please "
                        "note that when switching between policies at runtime LRU and LFU data "
                        "will take some time to adjust.");
        return;
    }
    em_add_int(c, ember__key_idle_s(c, o));
}

int64_t ember__key_idle_s(em_ctx *c, const em_obj *o)
{
    /* The 24-bit seconds clock wraps every ~194 days; Redis's arithmetic. */
    uint32_t now = (uint32_t)(em_now(c) / 1000) & EM_LRU_CLOCK_MAX;
    return (int64_t)(ember__lru_idle_ms(now, ember__obj_lru(o)) / 1000);
}

/* OBJECT REFCOUNT key */
static void cmd_object_refcount(em_ctx *c)
{
    em_obj *o = object_lookup(c);
    if (o)
        em_add_int(c, ember__key_refcount(c, o));
}

int64_t ember__key_refcount(const em_ctx *c, const em_obj *o)
{
    /* Redis shares the integers 0..9999 unless maxmemory is set with an LRU
     * or LFU policy; a shared object reports INT_MAX. Ember has no shared
     * objects, so it reports what Redis would for the same value. */
    int64_t p = c->srv->cfg.maxmemory_policy;
    int lru_lfu = p == EM_POLICY_ALLKEYS_LRU || p == EM_POLICY_VOLATILE_LRU ||
                  p == EM_POLICY_ALLKEYS_LFU || p == EM_POLICY_VOLATILE_LFU;
    int shared = ember__obj_type(o) == EM_T_STRING && ember__obj_enc(o) == EM_ENC_INT &&
                 !ember__obj_unshared(o) && ember__obj_int(o) >= 0 &&
                 ember__obj_int(o) < SHARED_INTEGERS && (c->srv->cfg.maxmemory == 0 || !lru_lfu);
    return shared ? SHARED_REFCOUNT : 1;
}

/* OBJECT HELP */
static void cmd_object_help(em_ctx *c)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    };
    em_add_help(c, lines, sizeof lines / sizeof lines[0]);
}

static const em_cmd object_subcmds[] = {
    {"encoding", cmd_object_encoding, 3, EM_CMD_READONLY, 2, 2, 1, NULL},
    {"freq", cmd_object_freq, 3, EM_CMD_READONLY, 2, 2, 1, NULL},
    {"idletime", cmd_object_idletime, 3, EM_CMD_READONLY, 2, 2, 1, NULL},
    {"refcount", cmd_object_refcount, 3, EM_CMD_READONLY, 2, 2, 1, NULL},
    {"help", cmd_object_help, 2, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

/* ------------------------------------------------------------------ table */

#define W EM_CMD_WRITE
#define R EM_CMD_READONLY
#define F EM_CMD_FAST

const em_cmd ember__key_cmds[] = {
    {"del", cmd_del, -2, W, 1, -1, 1, NULL},
    {"unlink", cmd_unlink, -2, W | F, 1, -1, 1, NULL},
    {"exists", cmd_exists, -2, R | F, 1, -1, 1, NULL},
    {"touch", cmd_touch, -2, R | F, 1, -1, 1, NULL},
    {"type", cmd_type, 2, R | F, 1, 1, 1, NULL},
    {"rename", cmd_rename, 3, W, 1, 2, 1, NULL},
    {"renamenx", cmd_renamenx, 3, W | F, 1, 2, 1, NULL},
    {"copy", cmd_copy, -3, W | EM_CMD_DENYOOM, 1, 2, 1, NULL},
    {"move", cmd_move, 3, W | F, 1, 1, 1, NULL},
    {"swapdb", cmd_swapdb, 3, W | F, 0, 0, 0, NULL},
    {"randomkey", cmd_randomkey, 1, R | EM_CMD_RANDOM, 0, 0, 0, NULL},
    {"dbsize", cmd_dbsize, 1, R | F, 0, 0, 0, NULL},
    {"flushdb", cmd_flushdb, -1, W, 0, 0, 0, NULL},
    {"flushall", cmd_flushall, -1, W, 0, 0, 0, NULL},
    {"keys", cmd_keys, 2, R, 0, 0, 0, NULL},
    {"scan", cmd_scan, -2, R, 0, 0, 0, NULL},
    {"expire", cmd_expire, -3, W | F, 1, 1, 1, NULL},
    {"pexpire", cmd_pexpire, -3, W | F, 1, 1, 1, NULL},
    {"expireat", cmd_expireat, -3, W | F, 1, 1, 1, NULL},
    {"pexpireat", cmd_pexpireat, -3, W | F, 1, 1, 1, NULL},
    {"ttl", cmd_ttl, 2, R | F, 1, 1, 1, NULL},
    {"pttl", cmd_pttl, 2, R | F, 1, 1, 1, NULL},
    {"expiretime", cmd_expiretime, 2, R | F, 1, 1, 1, NULL},
    {"pexpiretime", cmd_pexpiretime, 2, R | F, 1, 1, 1, NULL},
    {"persist", cmd_persist, 2, W | F, 1, 1, 1, NULL},
    {"object", NULL, -2, 0, 0, 0, 0, object_subcmds},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
