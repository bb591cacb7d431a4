/*
 * c_server.c — connection and server commands: PING ECHO TIME SELECT INFO CONFIG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/common.h"
#include "command.h"
#include "pubsub.h"

/* PING [message] */
static void cmd_ping(em_ctx *c)
{
    if (c->argc > 2) {
        em_err_arity(c);
        return;
    }
    const em_ps_client *cl = c->srv->cur_client;
    if (cl && cl->proto == 2 && ember__ps_total(&cl->sub)) {
        /* RESP2 subscribe mode: [pong, message or ""], as Redis. */
        em_add_array(c, 2);
        em_add_cstr(c, "pong");
        em_add_bulk(c, c->argc == 2 ? c->argv[1] : "", c->argc == 2 ? c->argvlen[1] : 0);
        return;
    }
    if (c->argc == 2)
        em_add_bulk(c, c->argv[1], c->argvlen[1]);
    else
        em_add_status(c, "PONG");
}

/* ECHO message */
static void cmd_echo(em_ctx *c)
{
    em_add_bulk(c, c->argv[1], c->argvlen[1]);
}

/* TIME */
static void cmd_time(em_ctx *c)
{
    int64_t us = ember__clock_us(&c->st->clock);
    em_add_array(c, 2);
    em_add_bulk_ll(c, us / 1000000);
    em_add_bulk_ll(c, us % 1000000);
}

/* SELECT index */
static void cmd_select(em_ctx *c)
{
    long long id;
    if (!em_arg_ll_quiet(c, 1, &id)) {
        em_err_notint(c);
        return;
    }
    if (!(c->flags & EM_CTX_MAY_SELECT)) {
        em_add_error(c, "ERR SELECT is not allowed on a shared handle: use ember_db_view() "
                        "or a batch");
        return;
    }
    if (id < 0 || id >= c->st->ndb) {
        em_add_error(c, "ERR DB index is out of range");
        return;
    }
    c->dbid = (int)id;
    c->ks = &c->st->dbs[id];
    em_add_ok(c);
}

/* ------------------------------------------------------------ INFO */

typedef struct strbuf {
    char *p;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        if (b->oom)
            return;
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

static void bytes_human(char *buf, size_t cap, uint64_t n)
{
    const char *units = "KMGTP";
    double d = (double)n;
    if (n < 1024) {
        snprintf(buf, cap, "%lluB", (unsigned long long)n);
        return;
    }
    int u = -1;
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.2f%c", d, units[u]);
}

static int section_wanted(em_ctx *c, const char *name, int is_default)
{
    if (c->argc == 1)
        return is_default;
    for (size_t i = 1; i < c->argc; i++) {
        if (em_arg_is(c, i, "all") || em_arg_is(c, i, "everything"))
            return 1;
        if (em_arg_is(c, i, "default") && is_default)
            return 1;
        if (em_arg_is(c, i, name))
            return 1;
    }
    return 0;
}

/* INFO [section [section ...]] */
static void cmd_info(em_ctx *c)
{
    strbuf b = {0};
    em_server *s = c->srv;
    em_store *st = c->st;
    int sections = 0;
    char h1[32], h2[32], h3[32];
    if (section_wanted(c, "server", 1)) {
        int64_t up = (ember__mono_ns() - s->start_mono_ns) / 1000000000;
        sb_printf(&b,
                  "# Server\r\nredis_version:7.0.15\r\nember_version:%d.%d.%d\r\n"
                  "redis_mode:standalone\r\nember_mode:%s\r\nprocess_id:%ld\r\nrun_id:%s\r\n"
                  "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:%lld\r\n"
                  "clock:%s\r\n",
                  EMBER_VERSION_MAJOR, EMBER_VERSION_MINOR, EMBER_VERSION_PATCH,
                  s->inline_mode ? "inline" : "executor", (long)getpid(), s->run_id, (long long)up,
                  (long long)(up / 86400), (long long)s->cfg.hz,
                  st->clock.is_virtual ? "virtual" : "real");
        sections++;
    }
    if (section_wanted(c, "clients", 1)) {
        sb_printf(&b, "%s# Clients\r\nblocked_clients:%llu\r\n", sections ? "\r\n" : "",
                  (unsigned long long)s->blocked_clients);
        sections++;
    }
    if (section_wanted(c, "memory", 1)) {
        size_t used = ember__mem_used(&st->mem);
        size_t peak = atomic_load_explicit(&st->mem.peak, memory_order_relaxed);
        bytes_human(h1, sizeof h1, used);
        bytes_human(h2, sizeof h2, peak);
        bytes_human(h3, sizeof h3, (uint64_t)s->cfg.maxmemory);
        char pol[64];
        ember__settings_format(&s->cfg, (size_t)ember__settings_find("maxmemory-policy", 16), pol,
                               sizeof pol);
        sb_printf(&b,
                  "%s# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\n"
                  "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\nmaxmemory:%lld\r\n"
                  "maxmemory_human:%s\r\nmaxmemory_policy:%s\r\nmem_allocator:libc\r\n"
                  "lazyfree_pending_objects:%zu\r\n",
                  sections ? "\r\n" : "", used, h1, peak, h2, (long long)s->cfg.maxmemory, h3, pol,
                  ember__lazyfree_pending(st));
        sections++;
    }
    if (section_wanted(c, "persistence", 1)) {
        /* Snapshot fields as Redis names them (lib/persist keeps them in srv). */
        sb_printf(&b,
                  "%s# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:%llu\r\n"
                  "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\n"
                  "rdb_last_bgsave_status:%s\r\nrdb_saves:%llu\r\n"
                  "aof_enabled:%d\r\naof_last_write_status:%s\r\n",
                  sections ? "\r\n" : "", (unsigned long long)(st->dirty - s->dirty_at_save),
                  s->bgsave_in_progress, (long long)s->lastsave_s, s->last_bgsave_ok ? "ok" : "err",
                  (unsigned long long)s->rdb_saves, s->log != NULL, s->log_refuse ? "err" : "ok");
        sections++;
    }
    if (section_wanted(c, "stats", 1)) {
        sb_printf(&b,
                  "%s# Stats\r\ntotal_commands_processed:%llu\r\nexpired_keys:%llu\r\n"
                  "evicted_keys:%llu\r\nkeyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
                  "lazyfreed_objects:%llu\r\nexpire_cycles:%llu\r\n"
                  "executor_batches:%llu\r\nexecutor_requests:%llu\r\nexecutor_parks:%llu\r\n"
                  "executor_queue_stalls:%llu\r\n",
                  sections ? "\r\n" : "", (unsigned long long)st->stats.total_commands,
                  (unsigned long long)st->stats.expired_keys,
                  (unsigned long long)st->stats.evicted_keys,
                  (unsigned long long)st->stats.keyspace_hits,
                  (unsigned long long)st->stats.keyspace_misses,
                  (unsigned long long)st->stats.lazyfreed_objects,
                  (unsigned long long)st->stats.expire_cycles, (unsigned long long)s->exec_batches,
                  (unsigned long long)s->exec_requests, (unsigned long long)s->exec_parks,
                  (unsigned long long)s->exec_stalls);
        sections++;
    }
    if (section_wanted(c, "keyspace", 1)) {
        sb_printf(&b, "%s# Keyspace\r\n", sections ? "\r\n" : "");
        for (int i = 0; i < st->ndb; i++) {
            size_t keys = ember__dict_size(&st->dbs[i].dict);
            if (keys)
                sb_printf(&b, "db%d:keys=%zu,expires=%zu,avg_ttl=0\r\n", i, keys, st->dbs[i].nvol);
        }
        sections++;
    }
    if (b.oom) {
        em_add_error(c, "ERR out of memory");
    } else {
        em_add_bulk(c, b.p ? b.p : "", b.len);
    }
    free(b.p);
}

/* ------------------------------------------------------------ CONFIG */

/* CONFIG GET parameter [parameter ...] */
static void cmd_config_get(em_ctx *c)
{
    size_t n = ember__settings_count();
    unsigned char hit[64] = {0};
    size_t matches = 0;
    for (size_t a = 2; a < c->argc; a++) {
        for (size_t i = 0; i < n && i < sizeof hit; i++) {
            const char *name = ember__settings_name(i);
            if (!hit[i] && ember__glob_match(c->argv[a], c->argvlen[a], name, strlen(name), 1)) {
                hit[i] = 1;
                matches++;
            }
        }
    }
    em_add_map(c, matches);
    for (size_t i = 0; i < n && i < sizeof hit; i++) {
        if (!hit[i])
            continue;
        char buf[256];
        size_t l = ember__settings_format(&c->srv->cfg, i, buf, sizeof buf);
        em_add_cstr(c, ember__settings_name(i));
        em_add_bulk(c, buf, l);
    }
}

/*
 * CONFIG SET parameter value [parameter value ...]
 *
 * As Redis 7.0: the names are checked first, in order (unknown, immutable,
 * named twice — an alias is another name), then the values; all or nothing.
 */
static void cmd_config_set(em_ctx *c)
{
    if ((c->argc - 2) % 2 != 0) {
        em_err_syntax(c);
        return;
    }
    for (size_t a = 2; a < c->argc; a += 2) {
        int idx = ember__settings_find(c->argv[a], c->argvlen[a]);
        const char *why = NULL;
        if (idx < 0) {
            em_add_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                          (int)c->argvlen[a], c->argv[a]);
            return;
        }
        if (ember__settings_immutable((size_t)idx))
            why = "can't set immutable config";
        for (size_t b = 2; !why && b < a; b += 2)
            if (ember__settings_find(c->argv[b], c->argvlen[b]) == idx)
                why = "duplicate parameter";
        if (why) {
            em_add_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                          (int)c->argvlen[a], c->argv[a], why);
            return;
        }
    }
    /* All or nothing: apply to a copy, then publish it. */
    em_settings next = c->srv->cfg;
    for (size_t a = 2; a < c->argc; a += 2) {
        const char *why = "";
        if (ember__settings_set(&next, c->argv[a], c->argvlen[a], c->argv[a + 1], c->argvlen[a + 1],
                                1, &why) != EM_CFG_OK) {
            em_add_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                          (int)c->argvlen[a], c->argv[a], why);
            return;
        }
    }
    c->srv->cfg = next;
    ember__notify_refresh(c->srv);
    em_add_ok(c);
}

/* CONFIG RESETSTAT */
static void cmd_config_resetstat(em_ctx *c)
{
    memset(&c->st->stats, 0, sizeof c->st->stats);
    c->srv->exec_batches = c->srv->exec_requests = c->srv->exec_parks = c->srv->exec_stalls = 0;
    em_add_ok(c);
}

/* CONFIG HELP */
static void cmd_config_help(em_ctx *c)
{
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "HELP",
        "    Print this help."};
    em_add_array(c, EM_ARRAY_LEN(lines));
    for (size_t i = 0; i < EM_ARRAY_LEN(lines); i++)
        em_add_status(c, lines[i]);
}

static const em_cmd config_subcmds[] = {
    {"get", cmd_config_get, -3, EM_CMD_ADMIN, 0, 0, 0, NULL},
    {"set", cmd_config_set, -4, EM_CMD_ADMIN, 0, 0, 0, NULL},
    {"resetstat", cmd_config_resetstat, 2, EM_CMD_ADMIN, 0, 0, 0, NULL},
    {"help", cmd_config_help, 2, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

const em_cmd ember__server_cmds[] = {
    {"ping", cmd_ping, -1, EM_CMD_FAST | EM_CMD_PUBSUB, 0, 0, 0, NULL},
    {"echo", cmd_echo, 2, EM_CMD_FAST, 0, 0, 0, NULL},
    {"time", cmd_time, 1, EM_CMD_FAST | EM_CMD_RANDOM, 0, 0, 0, NULL},
    {"select", cmd_select, 2, EM_CMD_FAST, 0, 0, 0, NULL},
    {"info", cmd_info, -1, EM_CMD_RANDOM, 0, 0, 0, NULL},
    {"config", NULL, -2, 0, 0, 0, 0, config_subcmds},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
