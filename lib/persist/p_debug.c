/*
 * p_debug.c — DEBUG: SLEEP, SET-ACTIVE-EXPIRE, OBJECT, RELOAD and HELP, with
 * Redis 7.0's replies. Every other subcommand of Redis's (JMAP, SEGFAULT,
 * POPULATE...) gets Redis's error for an unknown one.
 *
 * DEBUG is nondeterministic by nature (sleeps, addresses, idle times): the
 * differential tests leave it out and check it by format instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../common/common.h"
#include "../types/coll.h"
#include "../types/listpack.h"
#include "../types/quicklist.h"
#include "io.h"
#include "rdb.h"
#include "snapshot.h"

static void debug_unknown(em_ctx *c)
{
    em_add_errorf(c,
                  "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                  (int)(c->argvlen[1] < 128 ? c->argvlen[1] : 128), c->argv[1]);
}

/* A NUL-terminated copy of argv[i] (truncated at cap - 1 bytes). */
static const char *arg_cstr(const em_ctx *c, size_t i, char *buf, size_t cap)
{
    size_t n = c->argvlen[i] < cap - 1 ? c->argvlen[i] : cap - 1;
    memcpy(buf, c->argv[i], n);
    buf[n] = '\0';
    return buf;
}

/* DEBUG SLEEP seconds: the executor sleeps, as Redis's only thread does
 * (every caller waits meanwhile). As Redis, the number is read with strtod:
 * what does not parse is 0. */
static void debug_sleep(em_ctx *c)
{
    char buf[64];
    double s = strtod(arg_cstr(c, 2, buf, sizeof buf), NULL);
    if (s > 0) {
        struct timespec ts;
        ts.tv_sec = (time_t)s;
        ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    em_add_ok(c);
}

/* DEBUG SET-ACTIVE-EXPIRE 0|1 (read as atoi, as Redis: garbage is 0). */
static void debug_set_active_expire(em_ctx *c)
{
    char buf[32];
    c->st->active_expire = atoi(arg_cstr(c, 2, buf, sizeof buf)) != 0;
    em_add_ok(c);
}

/*
 * DEBUG OBJECT key. serializedlength is the length of the value as ember's
 * RDB writer serializes it (type byte excluded, as Redis counts): the same
 * bytes as Redis's for the same value, except strings Redis would
 * LZF-compress (ember's writer does not). The address is the object's;
 * refcount, lru and idle as OBJECT REFCOUNT/IDLETIME report them.
 */
static void debug_object(em_ctx *c)
{
    em_obj *o = ember__ks_lookup(c->st, c->ks, c->argv[2], c->argvlen[2], em_now(c),
                                 EM_LK_READ | EM_LK_NOTOUCH | EM_LK_NOSTATS, NULL);
    if (!o) {
        em_err_nokey(c);
        return;
    }
    em_rdb_buf b = {0};
    long long serlen = ember__rdb_put_value(&b, o) == 0 && b.len ? (long long)b.len - 1 : 0;
    ember__rdb_buf_free(&b);
    char extra[256] = "";
    if (ember__obj_enc(o) == EM_ENC_QUICKLIST) {
        const em_quicklist *ql = ember__obj_body(o);
        uint64_t bytes = 0;
        for (const em_qlnode *n = ql->head; n; n = n->next)
            bytes += ember__lp_bytes(n->lp);
        snprintf(extra, sizeof extra,
                 " ql_nodes:%lu ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d "
                 "ql_uncompressed_size:%llu",
                 (unsigned long)ql->len, ql->len ? (double)ql->count / ql->len : 0.0, (int)ql->fill,
                 c->srv->cfg.list_compress_depth != 0, (unsigned long long)bytes);
    }
    char line[512];
    snprintf(line, sizeof line,
             "Value at:%p refcount:%lld encoding:%s serializedlength:%lld lru:%lu "
             "lru_seconds_idle:%lld%s",
             (void *)o, (long long)ember__key_refcount(c, o), ember__enc_name(ember__obj_enc(o)),
             serlen, (unsigned long)ember__obj_lru(o), (long long)ember__key_idle_s(c, o), extra);
    em_add_status(c, line);
}

/* ------------------------------------------------------------ RELOAD */

typedef struct keys_ctx {
    em_rdb_buf *b;
    em_ctx *c;
    int failed;
} keys_ctx;

static void put_key(void *ud, em_obj *o)
{
    keys_ctx *k = ud;
    if (ember__rdb_put_object_lru(k->b, o, &k->c->srv->cfg, em_now(k->c)) != 0)
        k->failed = 1;
}

/*
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: every database through the RDB
 * writer into memory and back through the loader, which replaces the
 * dataset (all or nothing: ember__persist_load keeps the old databases if
 * the load fails). Redis goes through dump.rdb; ember writes no file, so the
 * options, which choose what Redis does with that file, change nothing.
 */
static void debug_reload(em_ctx *c)
{
    for (size_t i = 2; i < c->argc; i++) {
        if (!em_arg_is(c, i, "merge") && !em_arg_is(c, i, "noflush") &&
            !em_arg_is(c, i, "nosave")) {
            em_add_error(c,
                         "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    em_server *srv = c->srv;
    em_store *st = c->st;
    if (ember__snap_busy(srv)) {
        em_add_error(c, "ERR Background save already in progress");
        return;
    }
    em_rdb_buf b = {0};
    keys_ctx k = {&b, c, 0};
    ember__rdb_put_header(&b, em_now(c) / 1000, ember__mem_used(&st->mem), 0);
    for (int db = 0; db < st->ndb; db++) {
        em_dict *d = &st->dbs[db].dict;
        size_t n = ember__dict_size(d);
        if (!n)
            continue;
        ember__rdb_put_selectdb(&b, db, n, st->dbs[db].nvol);
        uint64_t cur = 0;
        do
            cur = ember__dict_scan(d, cur, put_key, &k);
        while (cur != 0);
    }
    ember__rdb_put_eof(&b, 0);
    if (b.oom || k.failed) {
        ember__rdb_buf_free(&b);
        em_err_oom(c);
        return;
    }
    em_rdb_mem r = {b.p, b.len, 0};
    em_io *io = ember__io_user(NULL, NULL, ember__rdb_mem_read, &r);
    char *msg = NULL;
    int rc = io ? ember__persist_load(srv, io, &msg) : EMBER_ENOMEM;
    ember__io_close(io);
    ember__rdb_buf_free(&b);
    if (rc == EMBER_OK)
        em_add_ok(c);
    else
        em_add_errorf(c, "ERR Error trying to load the RDB dump: %s", msg ? msg : "out of memory");
    free(msg);
}

/* DEBUG HELP: the subcommands ember has. */
static void debug_help(em_ctx *c)
{
    static const char *const lines[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "OBJECT <key>",
        "    Show low level info about the key and associated value.",
        "RELOAD [option ...]",
        "    Save the RDB in memory and reload it back (options MERGE, NOFLUSH and",
        "    NOSAVE are accepted and change nothing: ember writes no file).",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Prints this help.",
    };
    em_add_help(c, lines, sizeof lines / sizeof lines[0]);
}

/* DEBUG subcommand [arg ...] — one handler, as Redis: DEBUG has no
 * subcommand table of its own (its errors name no "debug|x"). */
static void cmd_debug(em_ctx *c)
{
    if (c->argc == 2 && em_arg_is(c, 1, "help"))
        debug_help(c);
    else if (c->argc == 3 && em_arg_is(c, 1, "sleep"))
        debug_sleep(c);
    else if (c->argc == 3 && em_arg_is(c, 1, "set-active-expire"))
        debug_set_active_expire(c);
    else if (c->argc == 3 && em_arg_is(c, 1, "object"))
        debug_object(c);
    else if (em_arg_is(c, 1, "reload"))
        debug_reload(c);
    else
        debug_unknown(c);
}

const em_cmd ember__debug_cmds[] = {
    {"debug", cmd_debug, -2, EM_CMD_ADMIN, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
