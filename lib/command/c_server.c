/*
 * c_server.c — connection and server commands: PING ECHO TIME SELECT INFO CONFIG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
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

/* The process's resident set size (the host's, all of it: ember is a
 * library), from /proc/self/statm; 0 where that is not available. */
static size_t process_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return (size_t)(rss * (unsigned long long)sysconf(_SC_PAGESIZE));
}

/* ------------------------------------------------------------ INFO sections */

/*
 * Each section prints Redis 7.0's fields in Redis's order (the ones ember has
 * a meaning for; a field Redis keeps for a feature ember lacks, such as
 * replication, reports that feature's idle value), then ember's own fields
 * (ember_*, executor_*) at the end of the section.
 */
typedef struct info_ctx {
    em_ctx *c;
    strbuf *b;
} info_ctx;

static void info_server(info_ctx *x)
{
    em_server *s = x->c->srv;
    int64_t up = (ember__mono_ns() - s->start_mono_ns) / 1000000000;
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    int64_t now_us = ember__clock_us(&x->c->st->clock);
    sb_printf(x->b,
              "redis_version:7.0.15\r\nember_version:%d.%d.%d\r\nredis_git_sha1:00000000\r\n"
              "redis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\n"
              "os:%s %s %s\r\narch_bits:%d\r\nmonotonic_clock:POSIX clock_gettime\r\n"
              "multiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:%d.%d.%d\r\n"
              "process_id:%ld\r\nprocess_supervised:no\r\nrun_id:%s\r\ntcp_port:%lld\r\n"
              "server_time_usec:%lld\r\nuptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n"
              "hz:%lld\r\nconfigured_hz:%lld\r\nlru_clock:%lld\r\nexecutable:%s\r\n"
              "config_file:\r\nio_threads_active:0\r\nember_mode:%s\r\nclock:%s\r\n",
              EMBER_VERSION_MAJOR, EMBER_VERSION_MINOR, EMBER_VERSION_PATCH, u.sysname, u.release,
              u.machine, (int)(sizeof(void *) * 8),
#ifdef __GNUC__
              __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
              0, 0, 0,
#endif
              (long)getpid(), s->run_id, (long long)s->tcp_port, (long long)now_us, (long long)up,
              (long long)(up / 86400), (long long)s->cfg.hz, (long long)s->cfg.hz,
              (long long)((now_us / 1000000) & 0xFFFFFF), exe,
              s->inline_mode ? "inline" : "executor",
              x->c->st->clock.is_virtual ? "virtual" : "real");
}

static void info_clients(info_ctx *x)
{
    em_server *s = x->c->srv;
    sb_printf(x->b,
              "connected_clients:%lld\r\ncluster_connections:0\r\nmaxclients:%lld\r\n"
              "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\n"
              "blocked_clients:%llu\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
              (long long)atomic_load_explicit(&s->net_clients, memory_order_relaxed),
              (long long)s->net_maxclients, (unsigned long long)s->blocked_clients);
}

static void info_memory(info_ctx *x)
{
    em_server *s = x->c->srv;
    em_store *st = x->c->st;
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    size_t used = ember__mem_used(&st->mem);
    size_t peak = atomic_load_explicit(&st->mem.peak, memory_order_relaxed);
    /* used_memory is what the store allocated (see lib/keyspace/evict.c for
     * what that covers): the figure maxmemory is compared with. RSS is the
     * whole host process's, so the fragmentation ratio is only meaningful
     * when the database is most of the process. */
    uint64_t rss = process_rss();
    long pages = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);
    uint64_t total = pages > 0 && ps > 0 ? (uint64_t)pages * (uint64_t)ps : 0;
    bytes_human(h1, sizeof h1, used);
    bytes_human(h2, sizeof h2, rss);
    bytes_human(h3, sizeof h3, peak);
    bytes_human(h4, sizeof h4, total);
    bytes_human(h5, sizeof h5, (uint64_t)s->cfg.maxmemory);
    char pol[64];
    ember__settings_format(&s->cfg, (size_t)ember__settings_find("maxmemory-policy", 16), pol,
                           sizeof pol);
    sb_printf(x->b,
              "used_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%llu\r\n"
              "used_memory_rss_human:%s\r\nused_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
              "used_memory_peak_perc:%.2f%%\r\ntotal_system_memory:%llu\r\n"
              "total_system_memory_human:%s\r\nmaxmemory:%lld\r\nmaxmemory_human:%s\r\n"
              "maxmemory_policy:%s\r\nmem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\n"
              "active_defrag_running:0\r\nlazyfree_pending_objects:%zu\r\n"
              "lazyfreed_objects:%llu\r\n",
              used, h1, (unsigned long long)rss, h2, peak, h3,
              peak ? 100.0 * (double)used / (double)peak : 100.0, (unsigned long long)total, h4,
              (long long)s->cfg.maxmemory, h5, pol, used ? (double)rss / (double)used : 0.0,
              ember__lazyfree_pending(st), (unsigned long long)st->stats.lazyfreed_objects);
}

static void info_persistence(info_ctx *x)
{
    em_server *s = x->c->srv;
    em_store *st = x->c->st;
    sb_printf(x->b,
              "loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:%llu\r\n"
              "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\n"
              "rdb_last_bgsave_status:%s\r\nrdb_saves:%llu\r\naof_enabled:%d\r\n"
              "aof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:0\r\n"
              "aof_last_bgrewrite_status:%s\r\naof_rewrites:%llu\r\n"
              "aof_last_write_status:%s\r\n",
              (unsigned long long)(st->dirty - s->dirty_at_save), s->bgsave_in_progress,
              (long long)s->lastsave_s, s->last_bgsave_ok ? "ok" : "err",
              (unsigned long long)s->rdb_saves, s->log != NULL,
              atomic_load_explicit(&s->aof_rewriting, memory_order_relaxed),
              atomic_load_explicit(&s->aof_last_rewrite_ok, memory_order_relaxed) ? "ok" : "err",
              (unsigned long long)atomic_load_explicit(&s->aof_rewrites, memory_order_relaxed),
              s->log_refuse ? "err" : "ok");
}

void ember__info_sample(em_server *srv)
{
    int64_t now = ember__mono_ns();
    if (srv->ops_sample_ns && now - srv->ops_sample_ns < 100000000)
        return;
    uint64_t cmds = srv->st.stats.total_commands;
    if (srv->ops_sample_ns) {
        /* Commands per second over the last interval (Redis's sampling). */
        double secs = (double)(now - srv->ops_sample_ns) / 1e9;
        srv->ops_samples[srv->ops_idx] = (uint64_t)((double)(cmds - srv->ops_last_cmds) / secs);
        srv->ops_idx = (srv->ops_idx + 1) % (int)EM_ARRAY_LEN(srv->ops_samples);
    }
    srv->ops_sample_ns = now;
    srv->ops_last_cmds = cmds;
}

static void info_stats(info_ctx *x)
{
    em_server *s = x->c->srv;
    em_store *st = x->c->st;
    uint64_t ops = 0;
    for (size_t i = 0; i < EM_ARRAY_LEN(s->ops_samples); i++)
        ops += s->ops_samples[i];
    ops /= EM_ARRAY_LEN(s->ops_samples);
    sb_printf(
        x->b,
        "total_connections_received:%lld\r\ntotal_commands_processed:%llu\r\n"
        "instantaneous_ops_per_sec:%llu\r\nrejected_connections:0\r\nsync_full:0\r\n"
        "sync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:%llu\r\n"
        "expired_stale_perc:%.2f\r\nevicted_keys:%llu\r\nevicted_clients:0\r\n"
        "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\npubsub_channels:0\r\n"
        "pubsub_patterns:0\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\n"
        "unexpected_error_replies:0\r\ntotal_error_replies:%llu\r\n"
        "expire_cycles:%llu\r\nexecutor_batches:%llu\r\nexecutor_requests:%llu\r\n"
        "executor_parks:%llu\r\nexecutor_queue_stalls:%llu\r\n",
        (long long)atomic_load_explicit(&s->net_connections_total, memory_order_relaxed),
        (unsigned long long)st->stats.total_commands, (unsigned long long)ops,
        (unsigned long long)st->stats.expired_keys, (double)st->stats.expired_stale_perc / 100.0,
        (unsigned long long)st->stats.evicted_keys, (unsigned long long)st->stats.keyspace_hits,
        (unsigned long long)st->stats.keyspace_misses, (unsigned long long)s->total_error_replies,
        (unsigned long long)st->stats.expire_cycles, (unsigned long long)s->exec_batches,
        (unsigned long long)s->exec_requests, (unsigned long long)s->exec_parks,
        (unsigned long long)s->exec_stalls);
}

static void info_replication(info_ctx *x)
{
    sb_printf(x->b,
              "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
              "master_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
              "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
              "repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\n"
              "repl_backlog_histlen:0\r\n",
              x->c->srv->run_id);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The executor thread stands for Redis's main thread. */
static void info_cpu(info_ctx *x)
{
    struct rusage self, children, thread;
    memset(&self, 0, sizeof self);
    memset(&children, 0, sizeof children);
    memset(&thread, 0, sizeof thread);
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#ifdef RUSAGE_THREAD
    getrusage(RUSAGE_THREAD, &thread);
#endif
    sb_printf(x->b,
              "used_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:%.6f\r\n"
              "used_cpu_user_children:%.6f\r\nused_cpu_sys_main_thread:%.6f\r\n"
              "used_cpu_user_main_thread:%.6f\r\n",
              tv_s(self.ru_stime), tv_s(self.ru_utime), tv_s(children.ru_stime),
              tv_s(children.ru_utime), tv_s(thread.ru_stime), tv_s(thread.ru_utime));
}

/* Sections without fields in ember (no modules). */
static void info_empty(info_ctx *x)
{
    (void)x;
}

static int errstat_cmp(const void *a, const void *b)
{
    return strcmp(((const struct em_errstat *)a)->code, ((const struct em_errstat *)b)->code);
}

/* errorstat_<code>:count=<n>, codes in byte order (as Redis lists them). */
static void info_errorstats(info_ctx *x)
{
    em_server *s = x->c->srv;
    struct em_errstat sorted[EM_ERRSTATS_MAX];
    memcpy(sorted, s->errstats, s->nerrstats * sizeof sorted[0]);
    qsort(sorted, s->nerrstats, sizeof sorted[0], errstat_cmp);
    for (size_t i = 0; i < s->nerrstats; i++)
        sb_printf(x->b, "errorstat_%s:count=%llu\r\n", sorted[i].code,
                  (unsigned long long)sorted[i].count);
}

static void info_cluster(info_ctx *x)
{
    sb_printf(x->b, "cluster_enabled:0\r\n");
}

static void info_keyspace(info_ctx *x)
{
    em_store *st = x->c->st;
    for (int i = 0; i < st->ndb; i++) {
        size_t keys = ember__dict_size(&st->dbs[i].dict);
        if (keys)
            sb_printf(x->b, "db%d:keys=%zu,expires=%zu,avg_ttl=0\r\n", i, keys, st->dbs[i].nvol);
    }
}

static const struct info_section {
    const char *name, *title;
    int is_default;
    void (*fn)(info_ctx *x);
} info_sections[] = {
    {"server", "Server", 1, info_server},
    {"clients", "Clients", 1, info_clients},
    {"memory", "Memory", 1, info_memory},
    {"persistence", "Persistence", 1, info_persistence},
    {"stats", "Stats", 1, info_stats},
    {"replication", "Replication", 1, info_replication},
    {"cpu", "CPU", 1, info_cpu},
    {"modules", "Modules", 1, info_empty},
    {"errorstats", "Errorstats", 1, info_errorstats},
    {"cluster", "Cluster", 1, info_cluster},
    {"keyspace", "Keyspace", 1, info_keyspace},
};

/* As Redis 7.0: no argument is "default"; "all" and "everything" are every
 * section; any number of section names, in any case, in any order (the
 * reply keeps the sections' own order); unknown names add nothing. */
static int section_wanted(em_ctx *c, const struct info_section *sec)
{
    if (c->argc == 1)
        return sec->is_default;
    for (size_t i = 1; i < c->argc; i++) {
        if (em_arg_is(c, i, "all") || em_arg_is(c, i, "everything"))
            return 1;
        if (em_arg_is(c, i, "default") && sec->is_default)
            return 1;
        if (em_arg_is(c, i, sec->name))
            return 1;
    }
    return 0;
}

/* INFO [section [section ...]] */
static void cmd_info(em_ctx *c)
{
    strbuf b = {0};
    info_ctx x = {c, &b};
    int sections = 0;
    for (size_t i = 0; i < EM_ARRAY_LEN(info_sections); i++) {
        const struct info_section *sec = &info_sections[i];
        if (!section_wanted(c, sec))
            continue;
        sb_printf(&b, "%s# %s\r\n", sections++ ? "\r\n" : "", sec->title);
        sec->fn(&x);
    }
    if (b.oom) {
        em_add_error(c, "ERR out of memory");
    } else {
        em_add_bulk(c, b.p ? b.p : "", b.len);
    }
    free(b.p);
}

/* ------------------------------------------------------------ CONFIG */

void ember__server_cfg_changed(em_server *s)
{
    em_evict_cfg ev = {
        .maxmemory = (uint64_t)s->cfg.maxmemory,
        .policy = (int)s->cfg.maxmemory_policy,
        .samples = (int)s->cfg.maxmemory_samples,
        .lfu_log_factor = (int)s->cfg.lfu_log_factor,
        .lfu_decay_time = (int)s->cfg.lfu_decay_time,
    };
    ember__evict_configure(&s->st, &ev);
    s->net_maxclients = (long long)s->cfg.maxclients; /* INFO clients */
    ember__notify_refresh(s);                         /* notify-keyspace-events */
}

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
        char buf[EM_SETTING_TEXT_MAX];
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
    pthread_mutex_lock(&c->srv->cfg_lock); /* the RESP server reads requirepass, maxclients */
    c->srv->cfg = next;
    pthread_mutex_unlock(&c->srv->cfg_lock);
    ember__server_cfg_changed(c->srv);
    em_add_ok(c);
}

/* CONFIG RESETSTAT */
static void cmd_config_resetstat(em_ctx *c)
{
    memset(&c->st->stats, 0, sizeof c->st->stats);
    c->srv->total_error_replies = 0;
    c->srv->nerrstats = 0;
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
    em_add_help(c, lines, sizeof lines / sizeof lines[0]);
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
