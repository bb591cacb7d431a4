/*
 * command.h — the execution context handlers see, the command table entry,
 * reply helpers and common errors.
 *
 * A handler is `void cmd_x(em_ctx *c)`: it reads c->argv, works on c->ks
 * (the selected database) and writes exactly one reply through the helpers
 * below. Dispatch (command.c) has already checked the name and the arity.
 */
#ifndef EMBER_COMMAND_H
#define EMBER_COMMAND_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

#include "../keyspace/keyspace.h"
#include "../keyspace/notify.h"
#include "config.h"
#include "reply.h"

struct em_ctx;

/*
 * The append log's sink (lib/persist installs it in em_server.log; NULL when
 * no log is attached, so a command pays one NULL test). Executor thread only.
 *   record  one command in its deterministic form, in database dbid
 *   begin   a unit starts: a command, an atomic batch or a closure; units
 *           nest, and the records of an outermost unit that made more than
 *           one are wrapped in MULTI ... EXEC (never half-applied on replay)
 *   end     the unit ends
 *   commit  the executor is about to release the callers of what ran since
 *           the last commit: write (and under `always` sync) the records.
 *           Returns 0, or a negative errno: then those callers get
 *           em_server.log_refuse as their reply instead.
 */
typedef struct em_log_ops {
    void (*record)(void *ud, int dbid, size_t argc, const char *const *argv, const size_t *argvlen);
    void (*begin)(void *ud);
    void (*end)(void *ud);
    int (*commit)(void *ud);
    /* Before a commit: how long (ns) the executor may wait for more
     * requests to join it, and how many it expects (0: commit now). */
    int64_t (*gather)(void *ud, size_t *expect);
} em_log_ops;

#define EM_ERRSTATS_MAX 64

/* The server-side state a store's commands share. */
typedef struct em_server {
    em_store st;
    em_settings cfg;
    int64_t start_us;      /* Unix time the store opened (its clock) */
    int64_t start_mono_ns; /* for uptime */
    char run_id[41];
    int inline_mode;
    /* Executor counters, written by lib/exec, read by INFO. */
    uint64_t exec_batches, exec_requests, exec_parks, exec_stalls;
    uint64_t blocked_clients;
    /* Called after every write command (set by lib/exec: wakes waiters). */
    void (*after_write)(struct em_ctx *c);
    void *after_write_ud;
    /* Snapshots (lib/persist/snapshot.c owns these; lib/exec only calls
     * bg_step). While bg_active the executor does not park and calls
     * bg_step(EM_BG_BUSY) after each request batch (requests may be waiting:
     * a slice that never waits for the writer thread) and bg_step(EM_BG_IDLE)
     * when the queue is empty (it may wait for room); at every tick
     * bg_step(EM_BG_TICK) (save rules, finished snapshots). */
    void *persist;
    int bg_active;
    void (*bg_step)(struct em_server *srv, int64_t budget_us, int why);
    /* For LASTSAVE and INFO persistence. */
    uint64_t dirty_at_save; /* st.dirty when the last successful save began */
    int64_t lastsave_s;     /* Unix s the last successful save completed (at first: open) */
    uint64_t rdb_saves;
    int bgsave_in_progress, last_bgsave_ok, last_save_ok;
    /* Append log (see em_log_ops). log_refuse: NULL while the log is
     * healthy, else the error every write command gets (Redis's MISCONF). */
    const em_log_ops *log;
    void *log_ud;
    const char *log_refuse;
    /* BGREWRITEAOF (lib/api starts it; INFO persistence reads these).
     * aof_rewrite_bg: starts a background rewrite of the attached log; 0,
     * or the reply's error text. NULL while no log is attached. */
    const char *(*aof_rewrite_bg)(struct em_server *srv);
    _Atomic int aof_rewriting;
    _Atomic int aof_last_rewrite_ok;
    _Atomic uint64_t aof_rewrites;
    /* The RESP front end (lib/server) keeps these up to date; INFO prints
     * them (clients, stats, server). Zero when no server is started. */
    _Atomic long long net_clients;
    long long net_maxclients;
    _Atomic long long net_connections_total;
    int64_t tcp_port;
    /* instantaneous_ops_per_sec: ember__info_sample() on every executor
     * tick keeps the last samples of total_commands (Redis: 16 of them,
     * 100 ms apart). */
    uint64_t ops_samples[16];
    int64_t ops_sample_ns;
    uint64_t ops_last_cmds;
    int ops_idx;
    /* Error replies by code (the message's first word), for INFO
     * errorstats and total_error_replies; executor thread. Codes beyond
     * EM_ERRSTATS_MAX distinct ones are counted in the total only. */
    uint64_t total_error_replies;
    size_t nerrstats;
    struct em_errstat {
        char code[32];
        uint64_t count;
    } errstats[EM_ERRSTATS_MAX];
    /* Held by the executor while it replaces cfg (CONFIG SET); other
     * threads (lib/server: requirepass, maxclients) read cfg under it. */
    pthread_mutex_t cfg_lock;
    /* Pub/sub registry and change feeds (pubsub.c); NULL until first used. */
    struct em_pubsub *ps;
    /* The RESP connection whose commands run right now (set by lib/server
     * around each of its jobs; NULL otherwise): SUBSCRIBE and friends act on
     * it, and RESP2's subscribe mode restricts what it may run. */
    struct em_ps_client *cur_client;
} em_server;

/* Takes an instantaneous_ops_per_sec sample if 100 ms have passed
 * (executor thread, at every tick). */
void ember__info_sample(em_server *srv);

enum { EM_BG_BUSY = 0, EM_BG_TICK = 1, EM_BG_IDLE = 2 };

/* Hands the settings the keyspace acts on (maxmemory and its policy) to the
 * store; called at open and after every CONFIG SET. Executor thread (or
 * before the executor starts). */
void ember__server_cfg_changed(em_server *s);

typedef struct em_cmd em_cmd;

typedef struct em_ctx {
    em_server *srv;
    em_store *st;
    em_keyspace *ks;
    int dbid;
    size_t argc;
    const char *const *argv;
    const size_t *argvlen;
    int64_t now; /* cached Unix ms for this command; -1 until read */
    const em_sink_ops *so;
    void *sink;
    const em_cmd *cmd;
    const em_cmd *parent; /* container of a subcommand, else NULL */
    uint32_t flags;       /* EM_CTX_* */
    /* Set by em_block(): the command did not reply and waits on keys. */
    int blocked;
    size_t block_first, block_count, block_step;
    int64_t block_deadline; /* store-clock ms; 0 = no timeout */
    /* Set while a blocked command runs again because this key was written:
     * multi-key handlers (BLPOP, BLMPOP) serve from it first, as Redis
     * serves the key that became ready. NULL otherwise. */
    const char *ready_key;
    size_t ready_klen;
    /* Set by em_log_replace(): the command chose its own log records. */
    int log_custom;
} em_ctx;

enum {
    EM_CTX_MAY_SELECT = 1, /* SELECT allowed (batches, closures, connections) */
    EM_CTX_MAY_BLOCK = 2,  /* the caller can wait (sync and async requests) */
    EM_CTX_NO_EVICT = 4,   /* no eviction or OOM refusal first (the append log's loader,
                            * an atomic batch's commands, a served waiter) */
};

/* Command flags (as Redis's command table). */
enum {
    EM_CMD_WRITE = 1 << 0,
    EM_CMD_READONLY = 1 << 1,
    EM_CMD_DENYOOM = 1 << 2, /* may grow memory: refused under maxmemory */
    EM_CMD_FAST = 1 << 3,
    EM_CMD_ADMIN = 1 << 4,
    EM_CMD_BLOCKING = 1 << 5,
    EM_CMD_NOMULTI = 1 << 6, /* refused inside atomic batches */
    EM_CMD_RANDOM = 1 << 7,
    EM_CMD_PUBSUB = 1 << 8, /* allowed to a RESP2 connection in subscribe mode */
};

struct em_cmd {
    const char *name; /* lower case */
    void (*proc)(em_ctx *c);
    int arity; /* > 0 exact argc; < 0 at least -arity */
    uint32_t flags;
    int first_key, last_key, key_step; /* last_key -1 = last argument */
    const em_cmd *subcmds;             /* container commands (CONFIG, OBJECT) */
};

/*
 * What COMMAND INFO and COMMAND DOCS report beyond a table row (cmd_meta.c
 * holds one per command, with Redis 7.0's values). Space-separated words;
 * "" when there are none. keyspecs: see cmd_meta.c.
 */
typedef struct em_cmd_meta {
    const char *name; /* full name, "config|get" */
    const char *group, *since;
    const char *flags, *acl, *tips, *keyspecs;
    const char *summary;
} em_cmd_meta;

/* The row for a full name (lower case), or NULL. */
const em_cmd_meta *ember__cmd_meta(const char *fullname);

/* ------------------------------------------------------------ dispatch */

/* Builds the lookup table from NULL-terminated module tables (once). */
void ember__cmd_register(const em_cmd *const *modules, size_t nmodules);
/* Finds a command by name, any case; NULL if unknown. */
const em_cmd *ember__cmd_lookup(const char *name, size_t len);
/* The registered commands, in registration order (i < ember__cmd_count()). */
size_t ember__cmd_count(void);
const em_cmd *ember__cmd_nth(size_t i);
/* Resolves c->argv to a command and checks arity: returns the command, or
 * NULL after replying with Redis's error (unknown command / subcommand,
 * wrong number of arguments). */
const em_cmd *ember__cmd_resolve(em_ctx *c);
/* As ember__cmd_resolve, for a name already looked up (cmd may be NULL:
 * unknown). Subcommands and arity are still checked. */
const em_cmd *ember__cmd_resolve_known(em_ctx *c, const em_cmd *cmd);
/* Resolves and runs one command, replying through c's sink. */
void ember__cmd_exec(em_ctx *c);
/* Runs a command whose name was looked up earlier (batches look names up
 * when a command is added, off the executor); top NULL = look it up now. */
void ember__cmd_exec_known(em_ctx *c, const em_cmd *top);
/* Runs an already resolved command. */
void ember__cmd_call(em_ctx *c, const em_cmd *cmd);
/* Full name for error messages ("config|get"). */
void ember__cmd_fullname(const em_cmd *parent, const em_cmd *cmd, char *buf, size_t cap);

/* ------------------------------------------------------------ helpers */

static inline int64_t em_now(em_ctx *c)
{
    if (c->now < 0)
        c->now = ember__clock_ms(&c->st->clock);
    return c->now;
}

static inline void em_add_status(em_ctx *c, const char *s)
{
    c->so->status(c->sink, s, strlen(s));
}
static inline void em_add_ok(em_ctx *c)
{
    c->so->status(c->sink, "OK", 2);
}
static inline void em_add_int(em_ctx *c, int64_t v)
{
    c->so->integer(c->sink, v);
}
static inline void em_add_bulk(em_ctx *c, const void *p, size_t n)
{
    c->so->bulk(c->sink, (const char *)p, n);
}
static inline void em_add_cstr(em_ctx *c, const char *s)
{
    c->so->bulk(c->sink, s, strlen(s));
}
static inline void em_add_nil(em_ctx *c)
{
    c->so->nil(c->sink);
}
static inline void em_add_double(em_ctx *c, double d)
{
    c->so->dbl(c->sink, d);
}
static inline void em_add_bool(em_ctx *c, int v)
{
    c->so->boolean(c->sink, v);
}
static inline void em_add_array(em_ctx *c, size_t n)
{
    c->so->agg(c->sink, EMBER_REPLY_ARRAY, n);
}

/* A HELP reply: the lines as an array of status strings. */
static inline void em_add_help(em_ctx *c, const char *const *lines, size_t n)
{
    em_add_array(c, n);
    for (size_t i = 0; i < n; i++)
        em_add_status(c, lines[i]);
}
static inline void em_add_map(em_ctx *c, size_t pairs)
{
    c->so->agg(c->sink, EMBER_REPLY_MAP, pairs);
}
static inline void em_add_set(em_ctx *c, size_t n)
{
    c->so->agg(c->sink, EMBER_REPLY_SET, n);
}
/* Opens an aggregate whose length is settled later with em_end_deferred(). */
static inline void em_add_deferred(em_ctx *c, int type)
{
    c->so->agg(c->sink, type, EM_DEFERRED);
}
/* n: elements (ARRAY/SET) or pairs (MAP). */
static inline void em_end_deferred(em_ctx *c, size_t n)
{
    c->so->agg_end(c->sink, n);
}
/* A bulk string of an int64's decimal digits. */
void em_add_bulk_ll(em_ctx *c, long long v);
/* An error with Redis's exact text; the code is derived from the text. */
void em_add_error(em_ctx *c, const char *msg);
void em_add_errorf(em_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void em_err_wrongtype(em_ctx *c);
void em_err_notint(em_ctx *c);
void em_err_notfloat(em_ctx *c);
void em_err_syntax(em_ctx *c);
void em_err_overflow(em_ctx *c);
void em_err_nokey(em_ctx *c);
void em_err_arity(em_ctx *c);
void em_err_oom(em_ctx *c);
/* Redis's text of that error (for replies built without a context). */
extern const char ember__oom_msg[];
/* "ERR invalid expire time in '<cmd>' command" */
void em_err_expire(em_ctx *c);

/*
 * Blocking commands (BLPOP, BLMOVE, BZPOPMIN...). A handler that finds
 * nothing to pop calls em_block() instead of replying. The caller then waits
 * until one of the keys argv[first], argv[first + step], ... (count of them)
 * is written — the command then runs again, waiters on a key served in the
 * order they blocked — or until deadline_ms on the store's clock (0 = never),
 * when it gets a nil reply. Where waiting is impossible (inside a batch or a
 * closure, as inside MULTI in Redis) em_block replies nil at once.
 */
void em_block(em_ctx *c, size_t first, size_t count, size_t step, int64_t deadline_ms);
/* Parses a blocking timeout in seconds (fractions allowed) as Redis does,
 * replying with its error on failure (returns 0). *deadline_ms gets the
 * absolute store-clock deadline, or 0 for "wait forever" (timeout 0). */
int em_arg_timeout(em_ctx *c, size_t i, int64_t *deadline_ms);

/*
 * Deterministic propagation. By default a write command that changed the
 * store (em_store.dirty grew, not counting keys it found expired) is logged
 * as its own argv. A handler whose effect is relative or random logs what it
 * actually did instead: em_log_replace() replaces the default with one record
 * (argc 0: log nothing) and may be followed by em_log_also() for more
 * records; em_log_also() alone adds a record before the default one.
 * argvlen NULL: NUL-terminated arguments. Both do nothing (cheaply) when no
 * log is attached; em_logging() lets a handler skip building arguments.
 */
static inline int em_logging(const em_ctx *c)
{
    return c->srv->log != NULL;
}
void em_log_replace(em_ctx *c, size_t argc, const char *const *argv, const size_t *argvlen);
void em_log_also(em_ctx *c, size_t argc, const char *const *argv, const size_t *argvlen);
/* Logs the command as given even if it changed nothing (FLUSHALL). */
void em_log_force(em_ctx *c);
/* Opens / closes a unit around several commands (atomic batches, closures). */
static inline void em_log_begin(em_server *s)
{
    if (s->log)
        s->log->begin(s->log_ud);
}
static inline void em_log_end(em_server *s)
{
    if (s->log)
        s->log->end(s->log_ud);
}

/* Reports keyspace event ev (notify.h) for the key argv[i]; o is the key's
 * object after the change (or the one going away; NULL if unknown). */
static inline void em_notify(em_ctx *c, int ev, size_t i, const em_obj *o)
{
    ember__notify_keyspace_event(c->st, c->ks, ev, c->argv[i], c->argvlen[i], o);
}

/* As em_notify, for a key just added whose object the handler no longer
 * holds: looked up only when somebody listens (no stats, no LRU touch). */
static inline void em_notify_lookup(em_ctx *c, int ev, size_t i)
{
    if (__builtin_expect(c->st->notify != NULL, 0)) {
        em_obj *o = ember__ks_lookup(c->st, c->ks, c->argv[i], c->argvlen[i], em_now(c),
                                     EM_LK_READ | EM_LK_NOTOUCH | EM_LK_NOSTATS, NULL);
        em_notify(c, ev, i, o);
    }
}

/* Argument helpers: case-insensitive equality with a lower-case literal. */
int em_arg_is(const em_ctx *c, size_t i, const char *lit);
/* Parses argv[i] as int64 with Redis's rules; on failure replies with the
 * "not an integer" error and returns 0. */
int em_arg_ll(em_ctx *c, size_t i, long long *out);
/* Parses argv[i] as int64 without replying. */
int em_arg_ll_quiet(const em_ctx *c, size_t i, long long *out);

/* Looks the key argv[i] up in the selected database. */
static inline em_obj *em_lookup_read(em_ctx *c, size_t i, em_dpos *pos)
{
    return ember__ks_lookup(c->st, c->ks, c->argv[i], c->argvlen[i], em_now(c), EM_LK_READ, pos);
}
static inline em_obj *em_lookup_write(em_ctx *c, size_t i, em_dpos *pos)
{
    return ember__ks_lookup(c->st, c->ks, c->argv[i], c->argvlen[i], em_now(c), EM_LK_WRITE, pos);
}

#endif
