/*
 * t_list.c — the list commands and the list value type: LPUSH RPUSH LPUSHX
 * RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE
 * RPOPLPUSH LMPOP and the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
 *
 * A list is an em_quicklist (quicklist.h) under EM_ENC_QUICKLIST, as every
 * list is in Redis 7.0. Invariants this module keeps:
 *  - No empty list is ever stored: a command that empties a list deletes
 *    its key before it returns.
 *  - An existing list is edited in place after ember__ks_prewrite(); new
 *    lists are fully built before ember__ks_add().
 *  - Argument and type errors come in Redis 7.0's order (each handler says
 *    which when it differs from "arguments, then the key").
 *  - Blocking variants try their non-blocking form first and call em_block()
 *    only when every key is missing; when woken they run again from the
 *    start, which gives the same replies as Redis's serving of a blocked
 *    client (including WRONGTYPE for a destination of the wrong type).
 *
 * Work per command: O(1) nodes touched for pushes and pops, O(nodes + node
 * size) to reach an index, O(output) for LRANGE and the count forms, O(n)
 * for LREM/LPOS/LINSERT's scans, as in Redis.
 */
#include <stdint.h>

#include "../command/command.h"
#include "coll.h"
#include "listpack.h"
#include "quicklist.h"

enum { LIST_HEAD = 0, LIST_TAIL = 1 };

static em_quicklist *list_of(const em_obj *o)
{
    return ember__obj_body(o);
}

/* ------------------------------------------------------------ value ops */

static void list_free_body(em_mem *m, void *body, int enc)
{
    (void)enc;
    ember__ql_free(m, body);
}

static void *list_dup_body(em_mem *m, const void *body, int enc)
{
    (void)enc;
    return ember__ql_dup(m, body);
}

/* Redis measures the effort of freeing a list in nodes, not elements. */
static size_t list_body_items(const void *body, int enc)
{
    (void)enc;
    return ((const em_quicklist *)body)->len;
}

static const em_value_ops list_ops = {list_free_body, list_dup_body, list_body_items};

/* Registers the list value type's hooks (free, copy, size) with the keyspace. */
void ember__list_init(void);
void ember__list_init(void)
{
    ember__obj_register_type(EM_T_LIST, &list_ops);
}

/* ------------------------------------------------------------ helpers */

/* A new, empty list object for key argv[i] (with the node-size setting in
 * force now). NULL on OOM. */
static em_obj *list_new(em_ctx *c, size_t i)
{
    em_mem *m = &c->st->mem;
    em_quicklist *ql = ember__ql_new(m, c->srv->cfg.list_max_listpack_size);
    if (!ql)
        return NULL;
    em_obj *o = ember__obj_new_body(m, c->argv[i], c->argvlen[i], EM_T_LIST, EM_ENC_QUICKLIST, ql);
    if (!o)
        ember__ql_free(m, ql);
    return o;
}

/* Deletes the list at argv[i] if it became empty. Looks the key up again,
 * so it is safe after other keys were added (which may move table slots). */
static void drop_if_empty(em_ctx *c, size_t i, em_obj *o)
{
    if (list_of(o)->count)
        return;
    em_dpos pos;
    if (em_lookup_write(c, i, &pos) == o) {
        em_notify(c, EM_EV_DEL, i, o);
        ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
    }
}

/* Replies with the element at pos as a bulk string. */
static void add_elem(em_ctx *c, const em_qlpos *pos)
{
    uint8_t ib[EM_LP_INTBUF];
    size_t len;
    const uint8_t *s = ember__ql_get(pos, ib, &len);
    em_add_bulk(c, s, len);
}

/* Pops up to n elements from one end, replying each as a bulk string. */
static void pop_reply(em_ctx *c, em_quicklist *ql, int where, uint64_t n)
{
    em_qlpos pos;
    if (!n || !ember__ql_index(ql, where == LIST_HEAD ? 0 : -1, &pos))
        return;
    int more = 1;
    while (n-- && more) {
        add_elem(c, &pos);
        more = ember__ql_delete(&c->st->mem, ql, &pos, where == LIST_HEAD);
    }
}

/* LEFT / RIGHT of LMOVE and BLMOVE: 1 and *where, or 0 after a syntax error. */
static int arg_where(em_ctx *c, size_t i, int *where)
{
    if (em_arg_is(c, i, "left"))
        *where = LIST_HEAD;
    else if (em_arg_is(c, i, "right"))
        *where = LIST_TAIL;
    else {
        em_err_syntax(c);
        return 0;
    }
    return 1;
}

/* A copy of an element that must outlive an edit of its list. */
typedef struct elem_copy {
    uint8_t small[128];
    uint8_t *p;
    size_t len;
    em_mem *m;
} elem_copy;

static int elem_copy_take(elem_copy *e, em_mem *m, const em_qlpos *pos)
{
    uint8_t ib[EM_LP_INTBUF];
    const uint8_t *s = ember__ql_get(pos, ib, &e->len);
    e->m = m;
    e->p = e->len <= sizeof e->small ? e->small : ember__mem_alloc(m, e->len);
    if (!e->p)
        return -1;
    memcpy(e->p, s, e->len);
    return 0;
}

static void elem_copy_done(elem_copy *e)
{
    if (e->p != e->small)
        ember__mem_free(e->m, e->p);
}

/* ------------------------------------------------------------ push */

/* LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...] */
static void push_generic(em_ctx *c, int where, int only_existing)
{
    em_mem *m = &c->st->mem;
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &o, NULL))
        return;
    if (!o) {
        if (only_existing) {
            em_add_int(c, 0);
            return;
        }
        em_obj *n = list_new(c, 1);
        for (size_t i = 2; n && i < c->argc; i++) {
            if (ember__ql_push(m, list_of(n), c->argv[i], c->argvlen[i], where) < 0) {
                ember__obj_free(m, n);
                n = NULL;
            }
        }
        if (!n) {
            em_err_oom(c);
            return;
        }
        ember__ks_add(c->st, c->ks, n);
        c->st->dirty += c->argc - 3;
        em_notify(c, where == LIST_HEAD ? EM_EV_LPUSH : EM_EV_RPUSH, 1, n);
        em_add_int(c, (int64_t)list_of(n)->count);
        return;
    }
    em_quicklist *ql = list_of(o);
    ember__ks_prewrite(c->st, c->ks, o);
    for (size_t i = 2; i < c->argc; i++) {
        /* Out of memory part way: the elements pushed so far stay. */
        if (ember__ql_push(m, ql, c->argv[i], c->argvlen[i], where) < 0) {
            em_err_oom(c);
            return;
        }
        c->st->dirty++;
    }
    em_notify(c, where == LIST_HEAD ? EM_EV_LPUSH : EM_EV_RPUSH, 1, o);
    em_add_int(c, (int64_t)ql->count);
}

/* LPUSH key element [element ...] */
static void cmd_lpush(em_ctx *c)
{
    push_generic(c, LIST_HEAD, 0);
}

/* RPUSH key element [element ...] */
static void cmd_rpush(em_ctx *c)
{
    push_generic(c, LIST_TAIL, 0);
}

/* LPUSHX key element [element ...] */
static void cmd_lpushx(em_ctx *c)
{
    push_generic(c, LIST_HEAD, 1);
}

/* RPUSHX key element [element ...] */
static void cmd_rpushx(em_ctx *c)
{
    push_generic(c, LIST_TAIL, 1);
}

/* ------------------------------------------------------------ pop */

/* LPOP/RPOP key [count]: the count is checked before the key; a missing key
 * is nil with or without a count, count 0 on a list an empty array. */
static void pop_generic(em_ctx *c, int where)
{
    long long count = -1;
    if (c->argc > 3) {
        em_err_arity(c);
        return;
    }
    if (c->argc == 3 && (!em_arg_ll_quiet(c, 2, &count) || count < 0)) {
        em_add_error(c, "ERR value is out of range, must be positive");
        return;
    }
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &o, NULL))
        return;
    if (!o) {
        em_add_nil(c);
        return;
    }
    em_quicklist *ql = list_of(o);
    if (count == 0) {
        em_add_array(c, 0);
        return;
    }
    ember__ks_prewrite(c->st, c->ks, o);
    if (count < 0) {
        pop_reply(c, ql, where, 1);
        c->st->dirty++;
    } else {
        uint64_t n = (uint64_t)count < ql->count ? (uint64_t)count : ql->count;
        em_add_array(c, n);
        pop_reply(c, ql, where, n);
        c->st->dirty += n;
    }
    em_notify(c, where == LIST_HEAD ? EM_EV_LPOP : EM_EV_RPOP, 1, o);
    drop_if_empty(c, 1, o);
}

/* LPOP key [count] */
static void cmd_lpop(em_ctx *c)
{
    pop_generic(c, LIST_HEAD);
}

/* RPOP key [count] */
static void cmd_rpop(em_ctx *c)
{
    pop_generic(c, LIST_TAIL);
}

/* ------------------------------------------------------------ reads */

/* LLEN key */
static void cmd_llen(em_ctx *c)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 0, &o, NULL))
        return;
    em_add_int(c, o ? (int64_t)list_of(o)->count : 0);
}

/* LRANGE key start stop: numbers first, then the key. */
static void cmd_lrange(em_ctx *c)
{
    long long start, end, s, e;
    if (!em_arg_ll(c, 2, &start) || !em_arg_ll(c, 3, &end))
        return;
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 0, &o, NULL))
        return;
    if (!o) {
        em_add_array(c, 0);
        return;
    }
    em_quicklist *ql = list_of(o);
    if (!ember__range_clip(start, end, (long long)ql->count, &s, &e)) {
        em_add_array(c, 0);
        return;
    }
    em_qlpos pos;
    em_add_array(c, (size_t)(e - s + 1));
    ember__ql_index(ql, s, &pos);
    for (long long i = s; i <= e; i++) {
        add_elem(c, &pos);
        ember__ql_next(&pos);
    }
}

/* LINDEX key index: the key first, then the index. */
static void cmd_lindex(em_ctx *c)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 0, &o, NULL))
        return;
    if (!o) {
        em_add_nil(c);
        return;
    }
    long long index;
    if (!em_arg_ll(c, 2, &index))
        return;
    em_qlpos pos;
    if (ember__ql_index(list_of(o), index, &pos))
        add_elem(c, &pos);
    else
        em_add_nil(c);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: options
 * first, then the key. */
static void cmd_lpos(em_ctx *c)
{
    long long rank = 1, count = -1, maxlen = 0;
    for (size_t j = 3; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        if (em_arg_is(c, j, "rank") && more) {
            if (!em_arg_ll(c, ++j, &rank))
                return;
            if (rank == 0) {
                em_add_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 "
                                "from the second ... or use negative to start from the end of "
                                "the list");
                return;
            }
        } else if (em_arg_is(c, j, "count") && more) {
            if (!em_arg_ll_quiet(c, ++j, &count) || count < 0) {
                em_add_error(c, "ERR COUNT can't be negative");
                return;
            }
        } else if (em_arg_is(c, j, "maxlen") && more) {
            if (!em_arg_ll_quiet(c, ++j, &maxlen) || maxlen < 0) {
                em_add_error(c, "ERR MAXLEN can't be negative");
                return;
            }
        } else {
            em_err_syntax(c);
            return;
        }
    }
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 0, &o, NULL))
        return;
    if (!o) {
        if (count >= 0)
            em_add_array(c, 0);
        else
            em_add_nil(c);
        return;
    }
    em_quicklist *ql = list_of(o);
    int forward = rank > 0;
    /* Negated with wrap-around: RANK -9223372036854775808 stays negative
     * and so accepts the first match, as Redis's arithmetic does. */
    if (!forward)
        rank = (long long)(0 - (uint64_t)rank);
    const char *ele = c->argv[2];
    size_t elen = c->argvlen[2];
    em_qlpos pos;
    int valid = ember__ql_index(ql, forward ? 0 : -1, &pos);
    long long index = 0, matches = 0, found = -1, n = 0;
    if (count >= 0)
        em_add_deferred(c, EMBER_REPLY_ARRAY);
    while (valid && (maxlen == 0 || index < maxlen)) {
        if (ember__ql_eq(&pos, ele, elen)) {
            matches++;
            if (matches >= rank) {
                long long at = forward ? index : (long long)ql->count - index - 1;
                if (count < 0) {
                    found = at;
                    break;
                }
                em_add_int(c, at);
                n++;
                long long got = (long long)((uint64_t)matches - (uint64_t)rank + 1);
                if (count && got >= count)
                    break;
            }
        }
        index++;
        valid = forward ? ember__ql_next(&pos) : ember__ql_prev(&pos);
    }
    if (count >= 0)
        em_end_deferred(c, (size_t)n);
    else if (found >= 0)
        em_add_int(c, found);
    else
        em_add_nil(c);
}

/* ------------------------------------------------------------ edits */

/* LSET key index element: the key first ("no such key"), then the index. */
static void cmd_lset(em_ctx *c)
{
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &o, NULL))
        return;
    if (!o) {
        em_err_nokey(c);
        return;
    }
    long long index;
    if (!em_arg_ll(c, 2, &index))
        return;
    em_qlpos pos;
    if (!ember__ql_index(list_of(o), index, &pos)) {
        em_add_error(c, "ERR index out of range");
        return;
    }
    ember__ks_prewrite(c->st, c->ks, o);
    if (ember__ql_replace(&c->st->mem, list_of(o), &pos, c->argv[3], c->argvlen[3]) < 0) {
        em_err_oom(c);
        return;
    }
    c->st->dirty++;
    em_notify(c, EM_EV_LSET, 1, o);
    em_add_ok(c);
}

/* LINSERT key <BEFORE | AFTER> pivot element: the keyword first. */
static void cmd_linsert(em_ctx *c)
{
    int after;
    if (em_arg_is(c, 2, "after"))
        after = 1;
    else if (em_arg_is(c, 2, "before"))
        after = 0;
    else {
        em_err_syntax(c);
        return;
    }
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &o, NULL))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    em_quicklist *ql = list_of(o);
    em_qlpos pos;
    int valid = ember__ql_index(ql, 0, &pos);
    while (valid && !ember__ql_eq(&pos, c->argv[3], c->argvlen[3]))
        valid = ember__ql_next(&pos);
    if (!valid) {
        em_add_int(c, -1);
        return;
    }
    ember__ks_prewrite(c->st, c->ks, o);
    if (ember__ql_insert(&c->st->mem, ql, &pos, c->argv[4], c->argvlen[4], after) < 0) {
        em_err_oom(c);
        return;
    }
    c->st->dirty++;
    em_notify(c, EM_EV_LINSERT, 1, o);
    em_add_int(c, (int64_t)ql->count);
}

/* LREM key count element: the count first. count > 0 removes from the head,
 * < 0 from the tail, 0 every match. */
static void cmd_lrem(em_ctx *c)
{
    long long count;
    if (!em_arg_ll(c, 2, &count))
        return;
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &o, NULL))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    em_quicklist *ql = list_of(o);
    int forward = count >= 0;
    uint64_t limit = count == 0 ? UINT64_MAX : forward ? (uint64_t)count : 0 - (uint64_t)count;
    uint64_t removed = 0;
    em_qlpos pos;
    int valid = ember__ql_index(ql, forward ? 0 : -1, &pos);
    while (valid && removed < limit) {
        if (ember__ql_eq(&pos, c->argv[3], c->argvlen[3])) {
            if (!removed)
                ember__ks_prewrite(c->st, c->ks, o);
            valid = ember__ql_delete(&c->st->mem, ql, &pos, forward);
            removed++;
        } else {
            valid = forward ? ember__ql_next(&pos) : ember__ql_prev(&pos);
        }
    }
    c->st->dirty += removed;
    em_add_int(c, (int64_t)removed);
    if (removed) {
        em_notify(c, EM_EV_LREM, 1, o);
        drop_if_empty(c, 1, o);
    }
}

/* LTRIM key start stop: numbers first, then the key. */
static void cmd_ltrim(em_ctx *c)
{
    long long start, end, s, e;
    if (!em_arg_ll(c, 2, &start) || !em_arg_ll(c, 3, &end))
        return;
    em_obj *o;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &o, NULL))
        return;
    if (!o) {
        em_add_ok(c);
        return;
    }
    em_quicklist *ql = list_of(o);
    uint64_t len = ql->count, ltrim, rtrim;
    if (ember__range_clip(start, end, (long long)len, &s, &e)) {
        ltrim = (uint64_t)s;
        rtrim = len - (uint64_t)e - 1;
    } else {
        ltrim = len;
        rtrim = 0;
    }
    ember__ks_prewrite(c->st, c->ks, o);
    ember__ql_del_range(&c->st->mem, ql, 0, ltrim);
    if (rtrim)
        ember__ql_del_range(&c->st->mem, ql, ql->count - rtrim, rtrim);
    c->st->dirty += ltrim + rtrim;
    em_add_ok(c);
    em_notify(c, EM_EV_LTRIM, 1, o);
    drop_if_empty(c, 1, o);
}

/* ------------------------------------------------------------ move */

/*
 * LMOVE / RPOPLPUSH / BLMOVE / BRPOPLPUSH once the arguments are parsed:
 * a missing source is nil whatever the destination holds; a destination of
 * another type is WRONGTYPE with nothing moved. The element is pushed before
 * it is removed from the source, so running out of memory moves nothing.
 */
static void move_generic(em_ctx *c, int from, int to)
{
    em_mem *m = &c->st->mem;
    em_obj *src, *dst;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &src, NULL))
        return;
    if (!src) {
        em_add_nil(c);
        return;
    }
    if (!ember__coll_lookup(c, 2, EM_T_LIST, 1, &dst, NULL))
        return;
    em_quicklist *sql = list_of(src);
    em_qlpos pos;
    ember__ql_index(sql, from == LIST_HEAD ? 0 : -1, &pos);
    elem_copy v;
    if (elem_copy_take(&v, m, &pos) < 0) {
        em_err_oom(c);
        return;
    }
    int64_t at; /* the element's index in the source after the push */
    if (!dst) {
        em_obj *n = list_new(c, 2);
        if (n && ember__ql_push(m, list_of(n), v.p, v.len, to) < 0) {
            ember__obj_free(m, n);
            n = NULL;
        }
        if (!n) {
            elem_copy_done(&v);
            em_err_oom(c);
            return;
        }
        ember__ks_add(c->st, c->ks, n);
        em_notify(c, to == LIST_HEAD ? EM_EV_LPUSH : EM_EV_RPUSH, 2, n);
        at = from == LIST_HEAD ? 0 : -1;
    } else {
        ember__ks_prewrite(c->st, c->ks, dst);
        if (ember__ql_push(m, list_of(dst), v.p, v.len, to) < 0) {
            elem_copy_done(&v);
            em_err_oom(c);
            return;
        }
        at = from == LIST_HEAD ? (dst == src && to == LIST_HEAD ? 1 : 0)
                               : (dst == src && to == LIST_TAIL ? -2 : -1);
        em_notify(c, to == LIST_HEAD ? EM_EV_LPUSH : EM_EV_RPUSH, 2, dst);
    }
    if (dst != src)
        ember__ks_prewrite(c->st, c->ks, src);
    ember__ql_index(sql, at, &pos);
    ember__ql_delete(m, sql, &pos, 1);
    c->st->dirty++;
    em_notify(c, from == LIST_HEAD ? EM_EV_LPOP : EM_EV_RPOP, 1, src);
    em_add_bulk(c, v.p, v.len);
    elem_copy_done(&v);
    drop_if_empty(c, 1, src);
}

/* LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> */
static void cmd_lmove(em_ctx *c)
{
    int from, to;
    if (!arg_where(c, 3, &from) || !arg_where(c, 4, &to))
        return;
    move_generic(c, from, to);
}

/* RPOPLPUSH source destination */
static void cmd_rpoplpush(em_ctx *c)
{
    move_generic(c, LIST_TAIL, LIST_HEAD);
}

/* Blocking and multi-key pops are logged as the plain pop they made
 * (LPOP key [n] / RPOP key [n]), as Redis 7.0 propagates them. */
static void log_pop(em_ctx *c, int where, size_t key, uint64_t n, int with_count)
{
    char nb[EM_LLSTR_SIZE];
    const char *a[3] = {where == LIST_HEAD ? "LPOP" : "RPOP", c->argv[key], nb};
    size_t l[3] = {4, c->argvlen[key], with_count ? ember__ll_to_str(nb, (long long)n) : 0};
    em_log_replace(c, with_count ? 3 : 2, a, l);
}

/* BLMOVE/BRPOPLPUSH after the directions: the timeout, then the source. */
static void bmove_generic(em_ctx *c, int from, int to, size_t timeout_arg)
{
    int64_t deadline;
    if (!em_arg_timeout(c, timeout_arg, &deadline))
        return;
    em_obj *src;
    if (!ember__coll_lookup(c, 1, EM_T_LIST, 1, &src, NULL))
        return;
    if (!src) {
        em_block(c, 1, 1, 1, deadline);
        return;
    }
    uint64_t d0 = c->st->dirty;
    move_generic(c, from, to);
    if (c->st->dirty == d0)
        return;
    /* Logged as LMOVE / RPOPLPUSH: nothing to wait for on replay. */
    if (timeout_arg == 5) {
        const char *a[5] = {"LMOVE", c->argv[1], c->argv[2], c->argv[3], c->argv[4]};
        size_t l[5] = {5, c->argvlen[1], c->argvlen[2], c->argvlen[3], c->argvlen[4]};
        em_log_replace(c, 5, a, l);
    } else {
        const char *a[3] = {"RPOPLPUSH", c->argv[1], c->argv[2]};
        size_t l[3] = {9, c->argvlen[1], c->argvlen[2]};
        em_log_replace(c, 3, a, l);
    }
}

/* BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout */
static void cmd_blmove(em_ctx *c)
{
    int from, to;
    if (!arg_where(c, 3, &from) || !arg_where(c, 4, &to))
        return;
    bmove_generic(c, from, to, 5);
}

/* BRPOPLPUSH source destination timeout */
static void cmd_brpoplpush(em_ctx *c)
{
    bmove_generic(c, LIST_TAIL, LIST_HEAD, 3);
}

/* ------------------------------------------------------------ multi-key pops */

/* When a blocked command runs again because one of its keys argv[first ..
 * last) was written, the index of that key (Redis serves from the key that
 * became ready, whatever the keys before it hold); else 0. */
static size_t ready_index(const em_ctx *c, size_t first, size_t last)
{
    if (!c->ready_key)
        return 0;
    for (size_t i = first; i < last; i++)
        if (c->argvlen[i] == c->ready_klen && !memcmp(c->argv[i], c->ready_key, c->ready_klen))
            return i;
    return 0;
}

/* BLPOP/BRPOP key [key ...] timeout: the timeout first, then the keys in
 * order; the first list found is popped, a key of another type before it is
 * WRONGTYPE. */
static void bpop_generic(em_ctx *c, int where)
{
    int64_t deadline;
    if (!em_arg_timeout(c, c->argc - 1, &deadline))
        return;
    /* k == 0 stands for the ready key, tried before the others. */
    size_t ready = ready_index(c, 1, c->argc - 1);
    for (size_t k = ready ? 0 : 1; k + 1 < c->argc; k++) {
        size_t i = k ? k : ready;
        em_obj *o;
        if (!ember__coll_lookup(c, i, EM_T_LIST, 1, &o, NULL))
            return;
        if (!o)
            continue;
        ember__ks_prewrite(c->st, c->ks, o);
        em_add_array(c, 2);
        em_add_bulk(c, c->argv[i], c->argvlen[i]);
        pop_reply(c, list_of(o), where, 1);
        c->st->dirty++;
        log_pop(c, where, i, 1, 0);
        em_notify(c, where == LIST_HEAD ? EM_EV_LPOP : EM_EV_RPOP, i, o);
        drop_if_empty(c, i, o);
        return;
    }
    em_block(c, 1, c->argc - 2, 1, deadline);
}

/* BLPOP key [key ...] timeout */
static void cmd_blpop(em_ctx *c)
{
    bpop_generic(c, LIST_HEAD);
}

/* BRPOP key [key ...] timeout */
static void cmd_brpop(em_ctx *c)
{
    bpop_generic(c, LIST_TAIL);
}

/* LMPOP / BLMPOP from numkeys on: [key, [element ...]] from the first list
 * among the keys, or nil / blocking when there is none. */
static void mpop_generic(em_ctx *c, size_t numkeys_arg, int blocking)
{
    size_t nkeys;
    int where;
    long long count;
    if (!ember__mpop_args(c, numkeys_arg, "left", "right", &nkeys, &where, &count))
        return;
    /* BLMPOP's timeout comes first but is checked last, as in Redis 7.0. */
    int64_t deadline = 0;
    if (blocking && !em_arg_timeout(c, 1, &deadline))
        return;
    /* k == numkeys_arg stands for the ready key, tried before the others. */
    size_t first = numkeys_arg + 1, ready = ready_index(c, first, first + nkeys);
    for (size_t k = ready ? numkeys_arg : first; k < first + nkeys; k++) {
        size_t i = k == numkeys_arg ? ready : k;
        em_obj *o;
        if (!ember__coll_lookup(c, i, EM_T_LIST, 1, &o, NULL))
            return;
        if (!o)
            continue;
        em_quicklist *ql = list_of(o);
        uint64_t n = (uint64_t)count < ql->count ? (uint64_t)count : ql->count;
        ember__ks_prewrite(c->st, c->ks, o);
        em_add_array(c, 2);
        em_add_bulk(c, c->argv[i], c->argvlen[i]);
        em_add_array(c, n);
        pop_reply(c, ql, where, n);
        c->st->dirty += n;
        log_pop(c, where, i, n, 1);
        em_notify(c, where == LIST_HEAD ? EM_EV_LPOP : EM_EV_RPOP, i, o);
        drop_if_empty(c, i, o);
        return;
    }
    if (blocking)
        em_block(c, numkeys_arg + 1, nkeys, 1, deadline);
    else
        em_add_nil(c);
}

/* LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
static void cmd_lmpop(em_ctx *c)
{
    mpop_generic(c, 1, 0);
}

/* BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
static void cmd_blmpop(em_ctx *c)
{
    mpop_generic(c, 2, 1);
}

/* ------------------------------------------------------------ table */

#define W_FAST (EM_CMD_WRITE | EM_CMD_DENYOOM | EM_CMD_FAST)
#define W_SLOW (EM_CMD_WRITE | EM_CMD_DENYOOM)
#define R_FAST (EM_CMD_READONLY | EM_CMD_FAST)
#define W_BLOCK (EM_CMD_WRITE | EM_CMD_BLOCKING)

/* Key positions decide which keys a write signals to blocked callers: the
 * destination of the moves is a key (a push there may serve a waiter).
 * LMPOP/BLMPOP have movable keys (0, as in Redis's table); they only pop,
 * which never serves anyone. */
const em_cmd ember__list_cmds[] = {
    {"lpush", cmd_lpush, -3, W_FAST, 1, 1, 1, NULL},
    {"rpush", cmd_rpush, -3, W_FAST, 1, 1, 1, NULL},
    {"lpushx", cmd_lpushx, -3, W_FAST, 1, 1, 1, NULL},
    {"rpushx", cmd_rpushx, -3, W_FAST, 1, 1, 1, NULL},
    {"lpop", cmd_lpop, -2, EM_CMD_WRITE | EM_CMD_FAST, 1, 1, 1, NULL},
    {"rpop", cmd_rpop, -2, EM_CMD_WRITE | EM_CMD_FAST, 1, 1, 1, NULL},
    {"llen", cmd_llen, 2, R_FAST, 1, 1, 1, NULL},
    {"lrange", cmd_lrange, 4, EM_CMD_READONLY, 1, 1, 1, NULL},
    {"lindex", cmd_lindex, 3, EM_CMD_READONLY, 1, 1, 1, NULL},
    {"lset", cmd_lset, 4, W_SLOW, 1, 1, 1, NULL},
    {"linsert", cmd_linsert, 5, W_SLOW, 1, 1, 1, NULL},
    {"lrem", cmd_lrem, 4, EM_CMD_WRITE, 1, 1, 1, NULL},
    {"ltrim", cmd_ltrim, 4, EM_CMD_WRITE, 1, 1, 1, NULL},
    {"lpos", cmd_lpos, -3, EM_CMD_READONLY, 1, 1, 1, NULL},
    {"lmove", cmd_lmove, 5, W_SLOW, 1, 2, 1, NULL},
    {"rpoplpush", cmd_rpoplpush, 3, W_SLOW, 1, 2, 1, NULL},
    {"lmpop", cmd_lmpop, -4, EM_CMD_WRITE, 0, 0, 0, NULL},
    {"blpop", cmd_blpop, -3, W_BLOCK, 1, -2, 1, NULL},
    {"brpop", cmd_brpop, -3, W_BLOCK, 1, -2, 1, NULL},
    {"blmove", cmd_blmove, 6, W_BLOCK | EM_CMD_DENYOOM, 1, 2, 1, NULL},
    {"brpoplpush", cmd_brpoplpush, 4, W_BLOCK | EM_CMD_DENYOOM, 1, 2, 1, NULL},
    {"blmpop", cmd_blmpop, -5, W_BLOCK, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
