/*
 * t_string.c — the string commands: GET SET SETNX SETEX PSETEX GETSET GETDEL
 * GETEX MGET MSET MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE INCR DECR
 * INCRBY DECRBY INCRBYFLOAT LCS.
 *
 * Invariants this module keeps:
 *  - Encodings as Redis chooses them: SET-like writes use EM_STRENC_AUTO (int,
 *    embstr or raw), APPEND/SETRANGE on an existing value produce RAW,
 *    INCRBYFLOAT never produces INT, the INCR family always produces INT.
 *  - Every new object is fully built before the keyspace is touched, so an
 *    allocation failure replies the OOM error and leaves the data unchanged.
 *  - In-place edits (INCR on INT, APPEND/SETRANGE on RAW) call
 *    ember__ks_prewrite() first and bump the dirty counter themselves; other
 *    changes go through ember__ks_add/replace/delete/set_expire.
 *  - A RAW body keeps a NUL after its last byte (em_sds allocates cap + 1).
 *  - Argument errors come in Redis's order: syntax, then numbers, then the
 *    key's type (except where Redis looks the key up first, e.g. GETEX).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "../command/command.h"
#include "../common/common.h"
#include "../common/util.h"

/* em_sds stores lengths in 32 bits: the hard ceiling whatever
 * proto-max-bulk-len says. */
#define STR_HARD_MAX ((uint64_t)UINT32_MAX - 1)

/* ------------------------------------------------------------ helpers */

/* Replies with the value of string object o, or nil when o is NULL.
 * Returns 0, or -1 after replying WRONGTYPE. */
static int add_value(em_ctx *c, const em_obj *o)
{
    if (!o) {
        em_add_nil(c);
        return 0;
    }
    if (ember__obj_type(o) != EM_T_STRING) {
        em_err_wrongtype(c);
        return -1;
    }
    char ib[EM_LLSTR_SIZE];
    em_strview v;
    ember__obj_str_view(o, ib, &v);
    em_add_bulk(c, v.ptr, v.len);
    return 0;
}

/* 1 (after replying WRONGTYPE) when o exists and is not a string. */
static int wrong_type(em_ctx *c, const em_obj *o)
{
    if (o && ember__obj_type(o) != EM_T_STRING) {
        em_err_wrongtype(c);
        return 1;
    }
    return 0;
}

/* Gives n the expire time `when` (none when negative). Consumes n: on OOM it
 * is freed and NULL returned. */
static em_obj *with_expire(em_mem *m, em_obj *n, int64_t when)
{
    if (!n || when < 0)
        return n;
    em_obj *e = ember__obj_rebuild_expire(m, n, when);
    if (!e) {
        ember__obj_free(m, n);
        return NULL;
    }
    ember__obj_free_shell(m, n); /* its value area (and body) now belongs to e */
    return e;
}

/* A new string object for key argv[1]. NULL on OOM. */
static em_obj *str_new(em_ctx *c, const void *v, size_t vlen, int how, int64_t when)
{
    em_mem *m = &c->st->mem;
    return with_expire(m, ember__obj_new_string(m, c->argv[1], c->argvlen[1], v, vlen, how), when);
}

/* A new INT object for key argv[1]. NULL on OOM. */
static em_obj *int_new(em_ctx *c, int64_t v, int64_t when)
{
    em_mem *m = &c->st->mem;
    return with_expire(m, ember__obj_new_int(m, c->argv[1], c->argvlen[1], v), when);
}

/* A new RAW object for key argv[1] whose body holds `old`'s bytes followed by
 * zeros up to newlen (>= old->len); *body receives the body so the caller can
 * write the rest. NULL on OOM. */
static em_obj *raw_new(em_ctx *c, const em_strview *old, size_t newlen, int64_t when, em_sds **body)
{
    em_mem *m = &c->st->mem;
    em_sds *s = ember__sds_new(m, old->ptr, old->len, newlen);
    if (!s)
        return NULL;
    memset(s->buf + old->len, 0, newlen - old->len + 1);
    s->len = (uint32_t)newlen;
    em_obj *n = ember__obj_new_body(m, c->argv[1], c->argvlen[1], EM_T_STRING, EM_ENC_RAW, s);
    if (!n) {
        ember__mem_free(m, s);
        return NULL;
    }
    n = with_expire(m, n, when);
    if (n)
        *body = ember__obj_body(n);
    return n;
}

/* Stores n under its key: replaces `old` (found at pos) or adds it. */
static void put(em_ctx *c, em_obj *old, const em_dpos *pos, em_obj *n)
{
    if (old)
        ember__obj_free(&c->st->mem, ember__ks_replace(c->st, c->ks, pos, n));
    else
        ember__ks_add(c->st, c->ks, n);
}

static void err_too_big(em_ctx *c)
{
    em_add_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
}

/* The largest string APPEND/SETRANGE may build. */
static uint64_t str_limit(const em_ctx *c)
{
    uint64_t lim = (uint64_t)c->srv->cfg.proto_max_bulk_len;
    return lim < STR_HARD_MAX ? lim : STR_HARD_MAX;
}

/* 0 when a string of base + extra bytes is allowed, else replies the error.
 * Written so base + extra cannot overflow. */
static int check_len(em_ctx *c, uint64_t base, uint64_t extra)
{
    uint64_t lim = str_limit(c);
    if (base > lim || extra > lim - base) {
        err_too_big(c);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ SET options */

/* Options of SET and GETEX (Redis parses them with one routine too). */
enum {
    OPT_NX = 1 << 0,
    OPT_XX = 1 << 1,
    OPT_GET = 1 << 2,
    OPT_KEEPTTL = 1 << 3,
    OPT_PERSIST = 1 << 4,
    OPT_EX = 1 << 5,
    OPT_PX = 1 << 6,
    OPT_EXAT = 1 << 7,
    OPT_PXAT = 1 << 8,
};
#define OPT_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

enum { FOR_SET = 1, FOR_GETEX = 2 };

/* Each option with the options it cannot be combined with. Repeating an
 * option is allowed (the last value wins), as in Redis. */
static const struct str_opt {
    const char *name;
    uint32_t flag, conflicts;
    uint8_t where, has_value;
} str_opts[] = {
    {"nx", OPT_NX, OPT_XX, FOR_SET, 0},
    {"xx", OPT_XX, OPT_NX, FOR_SET, 0},
    {"get", OPT_GET, 0, FOR_SET, 0},
    {"keepttl", OPT_KEEPTTL, OPT_PERSIST | OPT_EXPIRE, FOR_SET, 0},
    {"persist", OPT_PERSIST, OPT_KEEPTTL | OPT_EXPIRE, FOR_GETEX, 0},
    {"ex", OPT_EX, OPT_KEEPTTL | OPT_PERSIST | (OPT_EXPIRE & ~OPT_EX), FOR_SET | FOR_GETEX, 1},
    {"px", OPT_PX, OPT_KEEPTTL | OPT_PERSIST | (OPT_EXPIRE & ~OPT_PX), FOR_SET | FOR_GETEX, 1},
    {"exat", OPT_EXAT, OPT_KEEPTTL | OPT_PERSIST | (OPT_EXPIRE & ~OPT_EXAT), FOR_SET | FOR_GETEX,
     1},
    {"pxat", OPT_PXAT, OPT_KEEPTTL | OPT_PERSIST | (OPT_EXPIRE & ~OPT_PXAT), FOR_SET | FOR_GETEX,
     1},
};

/* Parses options from argv[first]. *exp_arg receives the index of the last
 * expire value (0 if none). Returns 0, or -1 after replying syntax error. */
static int parse_opts(em_ctx *c, size_t first, int where, uint32_t *flags, size_t *exp_arg)
{
    *flags = 0;
    *exp_arg = 0;
    for (size_t i = first; i < c->argc; i++) {
        const struct str_opt *o = NULL;
        for (size_t k = 0; k < EM_ARRAY_LEN(str_opts); k++) {
            if ((str_opts[k].where & where) && em_arg_is(c, i, str_opts[k].name)) {
                o = &str_opts[k];
                break;
            }
        }
        if (!o || (*flags & o->conflicts) || (o->has_value && i + 1 >= c->argc)) {
            em_err_syntax(c);
            return -1;
        }
        *flags |= o->flag;
        if (o->has_value)
            *exp_arg = ++i;
    }
    return 0;
}

/* Converts the expire argument argv[i] of option `unit` (OPT_EX, OPT_PX,
 * OPT_EXAT or OPT_PXAT) to an absolute Unix time in ms. Redis's rules: the
 * number must be > 0, and neither the conversion to ms nor adding the current
 * time may overflow. Returns 0, or -1 after replying. */
static int expire_at(em_ctx *c, size_t i, uint32_t unit, int64_t *when)
{
    long long v;
    if (!em_arg_ll(c, i, &v))
        return -1;
    if (v <= 0 || ((unit & (OPT_EX | OPT_EXAT)) && v > LLONG_MAX / 1000)) {
        em_err_expire(c);
        return -1;
    }
    if (unit & (OPT_EX | OPT_EXAT))
        v *= 1000;
    if (unit & (OPT_EX | OPT_PX)) {
        int64_t now = em_now(c);
        if (v > LLONG_MAX - now) {
            em_err_expire(c);
            return -1;
        }
        v += now;
    }
    *when = v;
    return 0;
}

/* ------------------------------------------------------------ propagation */

/* Logs `NAME key` (DEL, PERSIST). */
static void log_key_cmd(em_ctx *c, const char *name)
{
    const char *a[2] = {name, c->argv[1]};
    size_t l[2] = {strlen(name), c->argvlen[1]};
    em_log_replace(c, 2, a, l);
}

/* Logs an expire time as PEXPIREAT key ms. */
static void log_pexpireat(em_ctx *c, int64_t when)
{
    char ms[EM_LLSTR_SIZE];
    const char *a[3] = {"PEXPIREAT", c->argv[1], ms};
    size_t l[3] = {9, c->argvlen[1], ember__ll_to_str(ms, when)};
    em_log_replace(c, 3, a, l);
}

/* Logs SET key value PXAT ms (any relative or absolute expire of SET, SETEX,
 * PSETEX), or SET without its GET arguments, as Redis 7.0 propagates them. */
static void log_set(em_ctx *c, uint32_t flags, size_t vi, int64_t opt_when)
{
    if (opt_when >= 0) {
        char ms[EM_LLSTR_SIZE];
        const char *a[5] = {"SET", c->argv[1], c->argv[vi], "PXAT", ms};
        size_t l[5] = {3, c->argvlen[1], c->argvlen[vi], 4, ember__ll_to_str(ms, opt_when)};
        em_log_replace(c, 5, a, l);
        return;
    }
    if (!(flags & OPT_GET) || c->argc <= 3)
        return; /* logged as it is (GETSET too) */
    const char **a = malloc(c->argc * sizeof *a);
    size_t *l = malloc(c->argc * sizeof *l), n = 0;
    if (a && l) {
        for (size_t i = 0; i < c->argc; i++) {
            if (i >= 3 && em_arg_is(c, i, "get"))
                continue;
            a[n] = c->argv[i];
            l[n++] = c->argvlen[i];
        }
        em_log_replace(c, n, a, l);
    }
    /* On OOM the argv is logged as it is: GET changes nothing on replay. */
    free(a);
    free(l);
}

/* ------------------------------------------------------------ GET family */

/* GET key */
static void cmd_get(em_ctx *c)
{
    add_value(c, em_lookup_read(c, 1, NULL));
}

/* GETDEL key */
static void cmd_getdel(em_ctx *c)
{
    em_dpos pos;
    em_obj *o = em_lookup_read(c, 1, &pos);
    if (add_value(c, o) == 0 && o) {
        em_notify(c, EM_EV_DEL, 1, o);
        ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
        log_key_cmd(c, "DEL");
    }
}

/* GETEX key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-ms|PERSIST] */
static void cmd_getex(em_ctx *c)
{
    uint32_t flags;
    size_t ei;
    if (parse_opts(c, 2, FOR_GETEX, &flags, &ei) < 0)
        return;
    em_dpos pos;
    em_obj *o = em_lookup_read(c, 1, &pos);
    if (!o) {
        em_add_nil(c);
        return;
    }
    if (wrong_type(c, o))
        return;
    /* Redis validates the time only once the key is known to be a string. */
    int64_t when = -1;
    if ((flags & OPT_EXPIRE) && expire_at(c, ei, flags & OPT_EXPIRE, &when) < 0)
        return;
    if ((flags & (OPT_EXAT | OPT_PXAT)) && when <= em_now(c)) {
        /* An absolute time already past deletes the key (after the reply). */
        add_value(c, o);
        em_notify(c, EM_EV_DEL, 1, o);
        ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
        log_key_cmd(c, "DEL");
        return;
    }
    if (flags & (OPT_EXPIRE | OPT_PERSIST)) {
        int had = ember__obj_has_expire(o);
        o = ember__ks_set_expire(c->st, c->ks, &pos, when);
        if (!o) {
            em_err_oom(c);
            return;
        }
        if (when >= 0) {
            log_pexpireat(c, when);
            em_notify(c, EM_EV_EXPIRE, 1, o);
        } else if (had) {
            log_key_cmd(c, "PERSIST");
            em_notify(c, EM_EV_PERSIST, 1, o);
        }
    }
    add_value(c, o);
}

/* MGET key [key ...] */
static void cmd_mget(em_ctx *c)
{
    em_add_array(c, c->argc - 1);
    for (size_t i = 1; i < c->argc; i++) {
        em_obj *o = em_lookup_read(c, i, NULL);
        if (o && ember__obj_type(o) == EM_T_STRING)
            add_value(c, o);
        else
            em_add_nil(c);
    }
}

/* STRLEN key */
static void cmd_strlen(em_ctx *c)
{
    em_obj *o = em_lookup_read(c, 1, NULL);
    if (wrong_type(c, o))
        return;
    if (!o) {
        em_add_int(c, 0);
        return;
    }
    char ib[EM_LLSTR_SIZE];
    em_strview v;
    ember__obj_str_view(o, ib, &v);
    em_add_int(c, (int64_t)v.len);
}

/* GETRANGE key start end  (also SUBSTR key start end) */
static void cmd_getrange(em_ctx *c)
{
    long long start, end;
    if (!em_arg_ll(c, 2, &start) || !em_arg_ll(c, 3, &end))
        return;
    em_obj *o = em_lookup_read(c, 1, NULL);
    if (wrong_type(c, o))
        return;
    if (!o) {
        em_add_bulk(c, "", 0);
        return;
    }
    char ib[EM_LLSTR_SIZE];
    em_strview v;
    ember__obj_str_view(o, ib, &v);
    long long len = (long long)v.len;
    /* Redis's clamping: both negative and reversed is empty; negatives count
     * from the end; then clamp into [0, len-1]. len + start cannot overflow
     * because len >= 0 and start < 0 there. */
    if (start < 0 && end < 0 && start > end) {
        em_add_bulk(c, "", 0);
        return;
    }
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (len == 0 || start > end) {
        em_add_bulk(c, "", 0);
        return;
    }
    em_add_bulk(c, v.ptr + start, (size_t)(end - start + 1));
}

/* ------------------------------------------------------------ SET family */

/* The SET worker: SET, SETNX, SETEX, PSETEX and GETSET. `flags` are OPT_NX,
 * OPT_XX, OPT_GET, OPT_KEEPTTL; the value is argv[vi]; `when` is the absolute
 * expire time or -1; int_reply selects SETNX's 1/0 instead of OK/nil. */
static void set_generic(em_ctx *c, uint32_t flags, size_t vi, int64_t when, int int_reply)
{
    em_dpos pos;
    em_obj *old = (flags & OPT_GET) ? em_lookup_read(c, 1, &pos) : em_lookup_write(c, 1, &pos);
    if ((flags & OPT_GET) && wrong_type(c, old))
        return;
    if (((flags & OPT_NX) && old) || ((flags & OPT_XX) && !old)) {
        if (int_reply)
            em_add_int(c, 0);
        else if (flags & OPT_GET)
            add_value(c, old);
        else
            em_add_nil(c);
        return;
    }
    int64_t opt_when = when;
    if ((flags & OPT_KEEPTTL) && old)
        when = ember__obj_expire(old);
    if ((uint64_t)c->argvlen[vi] > STR_HARD_MAX) {
        err_too_big(c);
        return;
    }
    em_obj *n = str_new(c, c->argv[vi], c->argvlen[vi], EM_STRENC_AUTO, when);
    if (!n) {
        em_err_oom(c);
        return;
    }
    if (int_reply)
        em_add_int(c, 1);
    else if (flags & OPT_GET)
        add_value(c, old); /* before put() frees old */
    else
        em_add_ok(c);
    put(c, old, &pos, n);
    em_notify(c, EM_EV_SET, 1, n);
    if (opt_when >= 0)
        em_notify(c, EM_EV_EXPIRE, 1, n);
    if (em_logging(c))
        log_set(c, flags, vi, opt_when);
}

/* SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|
 *     PXAT unix-time-milliseconds|KEEPTTL] */
static void cmd_set(em_ctx *c)
{
    uint32_t flags;
    size_t ei;
    int64_t when = -1;
    if (parse_opts(c, 3, FOR_SET, &flags, &ei) < 0)
        return;
    if ((flags & OPT_EXPIRE) && expire_at(c, ei, flags & OPT_EXPIRE, &when) < 0)
        return;
    set_generic(c, flags & (OPT_NX | OPT_XX | OPT_GET | OPT_KEEPTTL), 2, when, 0);
}

/* SETNX key value */
static void cmd_setnx(em_ctx *c)
{
    set_generic(c, OPT_NX, 2, -1, 1);
}

/* SETEX key seconds value */
static void cmd_setex(em_ctx *c)
{
    int64_t when;
    if (expire_at(c, 2, OPT_EX, &when) == 0)
        set_generic(c, 0, 3, when, 0);
}

/* PSETEX key milliseconds value */
static void cmd_psetex(em_ctx *c)
{
    int64_t when;
    if (expire_at(c, 2, OPT_PX, &when) == 0)
        set_generic(c, 0, 3, when, 0);
}

/* GETSET key value */
static void cmd_getset(em_ctx *c)
{
    set_generic(c, OPT_GET, 2, -1, 0);
}

/* The MSET worker. MSETNX (nx) first checks that no key exists. Every object
 * is built before the first store so OOM changes nothing; pairs are then
 * stored in order, so a repeated key ends with its last value. */
static void mset_generic(em_ctx *c, int nx)
{
    if (c->argc % 2 == 0) {
        em_err_arity(c);
        return;
    }
    size_t n = (c->argc - 1) / 2;
    if (nx) {
        for (size_t i = 1; i < c->argc; i += 2) {
            if (em_lookup_write(c, i, NULL)) {
                em_add_int(c, 0);
                return;
            }
        }
    }
    em_mem *m = &c->st->mem;
    em_obj *stack[16], **objs = stack;
    if (n > EM_ARRAY_LEN(stack) && !(objs = ember__mem_alloc(m, n * sizeof *objs))) {
        em_err_oom(c);
        return;
    }
    size_t built = 0;
    for (; built < n; built++) {
        size_t k = 1 + 2 * built;
        if ((uint64_t)c->argvlen[k + 1] > STR_HARD_MAX)
            break;
        objs[built] = ember__obj_new_string(m, c->argv[k], c->argvlen[k], c->argv[k + 1],
                                            c->argvlen[k + 1], EM_STRENC_AUTO);
        if (!objs[built])
            break;
    }
    if (built < n) {
        while (built > 0)
            ember__obj_free(m, objs[--built]);
        em_err_oom(c);
    } else {
        for (size_t i = 0; i < n; i++) {
            em_dpos pos;
            em_obj *old = em_lookup_write(c, 1 + 2 * i, &pos);
            put(c, old, &pos, objs[i]);
            em_notify(c, EM_EV_SET, 1 + 2 * i, objs[i]);
        }
        if (nx)
            em_add_int(c, 1);
        else
            em_add_ok(c);
    }
    if (objs != stack)
        ember__mem_free(m, objs);
}

/* MSET key value [key value ...] */
static void cmd_mset(em_ctx *c)
{
    mset_generic(c, 0);
}

/* MSETNX key value [key value ...] */
static void cmd_msetnx(em_ctx *c)
{
    mset_generic(c, 1);
}

/* ------------------------------------------------------------ APPEND / SETRANGE */

/* Writes `len` bytes of p at `offset` of the string o (found at pos), growing it
 * with zeros as needed, and replies the new length. A RAW value is edited in
 * place (its body grows geometrically, so repeated APPENDs are amortized
 * O(1)); INT and EMBSTR values are rebuilt as RAW, keeping the TTL. The caller
 * has checked the resulting size. */
static void write_at(em_ctx *c, em_obj *o, const em_dpos *pos, size_t offset, const char *p,
                     size_t len, int ev)
{
    em_mem *m = &c->st->mem;
    char ib[EM_LLSTR_SIZE];
    em_strview v;
    ember__obj_str_view(o, ib, &v);
    size_t newlen = offset + len > v.len ? offset + len : v.len;
    em_sds *s;
    if (ember__obj_enc(o) == EM_ENC_RAW) {
        ember__ks_prewrite(c->st, c->ks, o);
        s = ember__sds_reserve(m, ember__obj_body(o), newlen);
        if (!s) {
            em_err_oom(c);
            return;
        }
        ember__obj_set_body(o, s);
        if (offset > s->len)
            memset(s->buf + s->len, 0, offset - s->len);
        memcpy(s->buf + offset, p, len);
        s->len = (uint32_t)newlen;
        s->buf[newlen] = '\0';
        c->st->dirty++;
        em_notify(c, ev, 1, o);
    } else {
        em_obj *n = raw_new(c, &v, newlen, ember__obj_expire(o), &s);
        if (!n) {
            em_err_oom(c);
            return;
        }
        memcpy(s->buf + offset, p, len);
        put(c, o, pos, n);
        em_notify(c, ev, 1, n);
    }
    em_add_int(c, (int64_t)newlen);
}

/* APPEND key value */
static void cmd_append(em_ctx *c)
{
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (wrong_type(c, o))
        return;
    if (!o) {
        /* A new key gets the argument as SET would store it (int/embstr/raw). */
        if ((uint64_t)c->argvlen[2] > STR_HARD_MAX) {
            err_too_big(c);
            return;
        }
        em_obj *n = str_new(c, c->argv[2], c->argvlen[2], EM_STRENC_AUTO, -1);
        if (!n) {
            em_err_oom(c);
            return;
        }
        ember__ks_add(c->st, c->ks, n);
        em_notify(c, EM_EV_APPEND, 1, n);
        em_add_int(c, (int64_t)c->argvlen[2]);
        return;
    }
    char ib[EM_LLSTR_SIZE];
    em_strview v;
    ember__obj_str_view(o, ib, &v);
    if (check_len(c, v.len, c->argvlen[2]) < 0)
        return;
    write_at(c, o, &pos, v.len, c->argv[2], c->argvlen[2], EM_EV_APPEND);
}

/* SETRANGE key offset value */
static void cmd_setrange(em_ctx *c)
{
    long long off;
    if (!em_arg_ll(c, 2, &off))
        return;
    if (off < 0) {
        em_add_error(c, "ERR offset is out of range");
        return;
    }
    size_t vlen = c->argvlen[3];
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (wrong_type(c, o))
        return;
    if (!o) {
        /* Writing nothing creates nothing. */
        if (vlen == 0) {
            em_add_int(c, 0);
            return;
        }
        if (check_len(c, (uint64_t)off, vlen) < 0)
            return;
        em_strview none = {"", 0};
        em_sds *s;
        em_obj *n = raw_new(c, &none, (size_t)off + vlen, -1, &s);
        if (!n) {
            em_err_oom(c);
            return;
        }
        memcpy(s->buf + off, c->argv[3], vlen);
        ember__ks_add(c->st, c->ks, n);
        em_notify(c, EM_EV_SETRANGE, 1, n);
        em_add_int(c, (int64_t)s->len);
        return;
    }
    if (vlen == 0) {
        char ib[EM_LLSTR_SIZE];
        em_strview v;
        ember__obj_str_view(o, ib, &v);
        em_add_int(c, (int64_t)v.len);
        return;
    }
    if (check_len(c, (uint64_t)off, vlen) < 0)
        return;
    write_at(c, o, &pos, (size_t)off, c->argv[3], vlen, EM_EV_SETRANGE);
}

/* ------------------------------------------------------------ counters */

/* The INCR/DECR/INCRBY/DECRBY worker: adds delta to the integer at argv[1].
 * An INT-encoded value is updated in place; any other string holding a
 * canonical int64 is replaced by an INT object with the same TTL. */
static void incr_generic(em_ctx *c, long long delta)
{
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (wrong_type(c, o))
        return;
    long long v = 0;
    if (o) {
        if (ember__obj_enc(o) == EM_ENC_INT) {
            v = ember__obj_int(o);
        } else {
            char ib[EM_LLSTR_SIZE];
            em_strview sv;
            ember__obj_str_view(o, ib, &sv);
            if (!ember__str_to_ll(sv.ptr, sv.len, &v)) {
                em_err_notint(c);
                return;
            }
        }
    }
    if ((delta < 0 && v < 0 && delta < LLONG_MIN - v) ||
        (delta > 0 && v > 0 && delta > LLONG_MAX - v)) {
        em_err_overflow(c);
        return;
    }
    v += delta;
    if (o && ember__obj_enc(o) == EM_ENC_INT) {
        ember__ks_prewrite(c->st, c->ks, o);
        ember__obj_set_int(o, v);
        c->st->dirty++;
    } else {
        em_obj *n = int_new(c, v, o ? ember__obj_expire(o) : -1);
        if (!n) {
            em_err_oom(c);
            return;
        }
        put(c, o, &pos, n);
        o = n;
    }
    em_notify(c, EM_EV_INCRBY, 1, o);
    em_add_int(c, v);
}

/* INCR key */
static void cmd_incr(em_ctx *c)
{
    incr_generic(c, 1);
}

/* DECR key */
static void cmd_decr(em_ctx *c)
{
    incr_generic(c, -1);
}

/* INCRBY key increment */
static void cmd_incrby(em_ctx *c)
{
    long long d;
    if (em_arg_ll(c, 2, &d))
        incr_generic(c, d);
}

/* DECRBY key decrement */
static void cmd_decrby(em_ctx *c)
{
    long long d;
    if (!em_arg_ll(c, 2, &d))
        return;
    if (d == LLONG_MIN) { /* cannot be negated: Redis has its own message */
        em_add_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -d);
}

/* INCRBYFLOAT key increment */
static void cmd_incrbyfloat(em_ctx *c)
{
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    if (wrong_type(c, o))
        return;
    long double v = 0, incr;
    if (o) {
        if (ember__obj_enc(o) == EM_ENC_INT) {
            v = (long double)ember__obj_int(o); /* exact: 64-bit mantissa */
        } else {
            char ib[EM_LLSTR_SIZE];
            em_strview sv;
            ember__obj_str_view(o, ib, &sv);
            if (!ember__str_to_ld(sv.ptr, sv.len, &v)) {
                em_err_notfloat(c);
                return;
            }
        }
    }
    if (!ember__str_to_ld(c->argv[2], c->argvlen[2], &incr)) {
        em_err_notfloat(c);
        return;
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        em_add_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[EM_MAX_LD_CHARS];
    size_t len = ember__ld_to_str_human(buf, sizeof buf, v);
    em_obj *n = len ? str_new(c, buf, len, EM_STRENC_NOINT, o ? ember__obj_expire(o) : -1) : NULL;
    if (!n) {
        em_err_oom(c);
        return;
    }
    em_add_bulk(c, buf, len);
    put(c, o, &pos, n);
    em_notify(c, EM_EV_INCRBYFLOAT, 1, n);
    /* The result, not the increment: float rounding is not replayed. */
    const char *a[4] = {"SET", c->argv[1], buf, "KEEPTTL"};
    size_t l[4] = {3, c->argvlen[1], len, 7};
    em_log_replace(c, 4, a, l);
}

/* ------------------------------------------------------------ LCS */

/* Reports one run of matching bytes found by the LCS walk:
 * [[a_start, a_end], [b_start, b_end]] and, with WITHMATCHLEN, its length. */
static void add_lcs_match(em_ctx *c, size_t a0, size_t a1, size_t b0, size_t b1, int withlen)
{
    em_add_array(c, withlen ? 3 : 2);
    em_add_array(c, 2);
    em_add_int(c, (int64_t)a0);
    em_add_int(c, (int64_t)a1);
    em_add_array(c, 2);
    em_add_int(c, (int64_t)b0);
    em_add_int(c, (int64_t)b1);
    if (withlen)
        em_add_int(c, (int64_t)(a1 - a0 + 1));
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
static void cmd_lcs(em_ctx *c)
{
    em_obj *oa = em_lookup_read(c, 1, NULL), *ob = em_lookup_read(c, 2, NULL);
    if ((oa && ember__obj_type(oa) != EM_T_STRING) || (ob && ember__obj_type(ob) != EM_T_STRING)) {
        em_add_error(c, "ERR The specified keys must contain string values");
        return;
    }
    int want_len = 0, want_idx = 0, withlen = 0;
    long long minlen = 0;
    for (size_t i = 3; i < c->argc; i++) {
        if (em_arg_is(c, i, "len")) {
            want_len = 1;
        } else if (em_arg_is(c, i, "idx")) {
            want_idx = 1;
        } else if (em_arg_is(c, i, "withmatchlen")) {
            withlen = 1;
        } else if (em_arg_is(c, i, "minmatchlen") && i + 1 < c->argc) {
            if (!em_arg_ll(c, ++i, &minlen))
                return;
            if (minlen < 0)
                minlen = 0;
        } else {
            em_err_syntax(c);
            return;
        }
    }
    if (want_len && want_idx) {
        em_add_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    char ia[EM_LLSTR_SIZE], ib[EM_LLSTR_SIZE];
    em_strview a = {"", 0}, b = {"", 0};
    if (oa)
        ember__obj_str_view(oa, ia, &a);
    if (ob)
        ember__obj_str_view(ob, ib, &b);
    /* The table has (|a|+1) x (|b|+1) cells of 4 bytes; Redis refuses to
     * build one larger than proto-max-bulk-len. Tested without overflow. */
    uint64_t rows = (uint64_t)a.len + 1, cols = (uint64_t)b.len + 1;
    uint64_t max_cells = (uint64_t)c->srv->cfg.proto_max_bulk_len / sizeof(uint32_t);
    if (rows > max_cells || cols > max_cells / rows) {
        em_add_error(c, "ERR Insufficient memory, transient memory for LCS exceeds "
                        "proto-max-bulk-len");
        return;
    }
    em_mem *m = &c->st->mem;
    uint32_t *dp = ember__mem_alloc(m, (size_t)(rows * cols) * sizeof *dp);
    if (!dp) {
        em_err_oom(c);
        return;
    }
    /* dp[i][j] = length of the LCS of a's first i bytes and b's first j. */
#define DP(i, j) dp[(size_t)(i)*cols + (j)]
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            if (i == 0 || j == 0)
                DP(i, j) = 0;
            else if (a.ptr[i - 1] == b.ptr[j - 1])
                DP(i, j) = DP(i - 1, j - 1) + 1;
            else
                DP(i, j) = DP(i - 1, j) > DP(i, j - 1) ? DP(i - 1, j) : DP(i, j - 1);
        }
    }
    size_t total = DP(a.len, b.len);
    if (want_len) {
        em_add_int(c, (int64_t)total);
        ember__mem_free(m, dp);
        return;
    }
    char *out = NULL;
    if (!want_idx && total && !(out = ember__mem_alloc(m, total))) {
        ember__mem_free(m, dp);
        em_err_oom(c);
        return;
    }
    if (want_idx) {
        em_add_map(c, 2);
        em_add_cstr(c, "matches");
        em_add_deferred(c, EMBER_REPLY_ARRAY);
    }
    /* Walk back from the end. On a mismatch step toward the larger
     * neighbour, preferring to drop a byte of b on ties (this choice decides
     * which LCS is returned, and matches Redis). Consecutive matches form a
     * run; a run ends at a mismatch or when it reaches the start of a or b,
     * and is reported (last runs first) if at least MINMATCHLEN long. A run
     * always ends before the walk does, so none is left unreported. */
    size_t i = a.len, j = b.len, k = total, nmatch = 0;
    size_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    int in_run = 0;
    while (i > 0 && j > 0) {
        int end_run = 0;
        if (a.ptr[i - 1] == b.ptr[j - 1]) {
            if (out)
                out[--k] = a.ptr[i - 1];
            if (!in_run) {
                in_run = 1;
                a1 = i - 1;
                b1 = j - 1;
            }
            a0 = --i;
            b0 = --j;
            end_run = i == 0 || j == 0;
        } else {
            if (DP(i - 1, j) > DP(i, j - 1))
                i--;
            else
                j--;
            end_run = in_run;
        }
        if (end_run) {
            if (want_idx && (minlen == 0 || (long long)(a1 - a0 + 1) >= minlen)) {
                add_lcs_match(c, a0, a1, b0, b1, withlen);
                nmatch++;
            }
            in_run = 0;
        }
    }
#undef DP
    if (want_idx) {
        em_end_deferred(c, nmatch);
        em_add_cstr(c, "len");
        em_add_int(c, (int64_t)total);
    } else {
        em_add_bulk(c, out ? out : "", total);
    }
    ember__mem_free(m, out);
    ember__mem_free(m, dp);
}

/* ------------------------------------------------------------ table */

#define W_FAST (EM_CMD_WRITE | EM_CMD_DENYOOM | EM_CMD_FAST)
#define W_SLOW (EM_CMD_WRITE | EM_CMD_DENYOOM)
#define R_FAST (EM_CMD_READONLY | EM_CMD_FAST)

const em_cmd ember__string_cmds[] = {
    {"get", cmd_get, 2, R_FAST, 1, 1, 1, NULL},
    {"set", cmd_set, -3, W_SLOW, 1, 1, 1, NULL},
    {"setnx", cmd_setnx, 3, W_FAST, 1, 1, 1, NULL},
    {"setex", cmd_setex, 4, W_SLOW, 1, 1, 1, NULL},
    {"psetex", cmd_psetex, 4, W_SLOW, 1, 1, 1, NULL},
    {"getset", cmd_getset, 3, W_FAST, 1, 1, 1, NULL},
    {"getdel", cmd_getdel, 2, EM_CMD_WRITE | EM_CMD_FAST, 1, 1, 1, NULL},
    {"getex", cmd_getex, -2, EM_CMD_WRITE | EM_CMD_FAST, 1, 1, 1, NULL},
    {"mget", cmd_mget, -2, R_FAST, 1, -1, 1, NULL},
    {"mset", cmd_mset, -3, W_SLOW, 1, -1, 2, NULL},
    {"msetnx", cmd_msetnx, -3, W_SLOW, 1, -1, 2, NULL},
    {"append", cmd_append, 3, W_FAST, 1, 1, 1, NULL},
    {"strlen", cmd_strlen, 2, R_FAST, 1, 1, 1, NULL},
    {"getrange", cmd_getrange, 4, EM_CMD_READONLY, 1, 1, 1, NULL},
    {"substr", cmd_getrange, 4, EM_CMD_READONLY, 1, 1, 1, NULL},
    {"setrange", cmd_setrange, 4, W_SLOW, 1, 1, 1, NULL},
    {"incr", cmd_incr, 2, W_FAST, 1, 1, 1, NULL},
    {"decr", cmd_decr, 2, W_FAST, 1, 1, 1, NULL},
    {"incrby", cmd_incrby, 3, W_FAST, 1, 1, 1, NULL},
    {"decrby", cmd_decrby, 3, W_FAST, 1, 1, 1, NULL},
    {"incrbyfloat", cmd_incrbyfloat, 3, W_FAST, 1, 1, 1, NULL},
    {"lcs", cmd_lcs, -3, EM_CMD_READONLY, 1, 2, 1, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
