/*
 * command.c — command lookup, arity checks, dispatch and reply helpers.
 */
#include "command.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "../common/common.h"
#include "pubsub.h"
#include "../common/util.h"

#define CMD_SLOTS 1024 /* power of two, well above the number of commands */

static const em_cmd *slots[CMD_SLOTS];
static const em_cmd *order[CMD_SLOTS]; /* registration order, for COMMAND */
static size_t ncmds;

/* ASCII case folding: command names are ASCII, and Redis compares them
 * case-insensitively in the C locale. (tolower() goes through the locale's
 * table on every byte, a measurable share of a GET's cost.) */
static inline unsigned char fold(unsigned char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch | 0x20) : ch;
}

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= fold((unsigned char)p[i]);
        h *= 16777619u;
    }
    return h;
}

static int name_eq(const char *lower, const char *p, size_t n)
{
    size_t i = 0;
    for (; i < n; i++)
        if (lower[i] == '\0' || (unsigned char)lower[i] != fold((unsigned char)p[i]))
            return 0;
    return lower[i] == '\0';
}

void ember__cmd_register(const em_cmd *const *modules, size_t nmodules)
{
    for (size_t m = 0; m < nmodules; m++) {
        for (const em_cmd *c = modules[m]; c->name; c++) {
            size_t n = strlen(c->name);
            uint32_t i = name_hash(c->name, n) & (CMD_SLOTS - 1);
            while (slots[i])
                i = (i + 1) & (CMD_SLOTS - 1);
            slots[i] = c;
            assert(ncmds < CMD_SLOTS);
            order[ncmds++] = c;
        }
    }
}

const em_cmd *ember__cmd_lookup(const char *name, size_t len)
{
    if (len == 0 || len > 64)
        return NULL;
    uint32_t i = name_hash(name, len) & (CMD_SLOTS - 1);
    while (slots[i]) {
        if (name_eq(slots[i]->name, name, len))
            return slots[i];
        i = (i + 1) & (CMD_SLOTS - 1);
    }
    return NULL;
}

size_t ember__cmd_count(void)
{
    return ncmds;
}

const em_cmd *ember__cmd_nth(size_t i)
{
    return i < ncmds ? order[i] : NULL;
}

void ember__cmd_fullname(const em_cmd *parent, const em_cmd *cmd, char *buf, size_t cap)
{
    if (parent)
        snprintf(buf, cap, "%s|%s", parent->name, cmd->name);
    else
        snprintf(buf, cap, "%s", cmd->name);
}

static int arity_ok(const em_cmd *cmd, size_t argc)
{
    return cmd->arity > 0 ? argc == (size_t)cmd->arity : argc >= (size_t)-cmd->arity;
}

static void reply_unknown(em_ctx *c)
{
    /* Redis quotes the first arguments, up to about 128 bytes in all. */
    char args[512];
    size_t al = 0;
    args[0] = '\0';
    for (size_t i = 1; i < c->argc && al < 128; i++) {
        int room = 128 - (int)al;
        int n = snprintf(args + al, sizeof args - al, "'%.*s' ",
                         (int)(c->argvlen[i] < (size_t)room ? c->argvlen[i] : (size_t)room),
                         c->argv[i]);
        if (n < 0)
            break;
        al += (size_t)n;
        if (al >= sizeof args)
            al = sizeof args - 1;
    }
    em_add_errorf(c, "ERR unknown command '%.*s', with args beginning with: %s",
                  (int)(c->argvlen[0] < 128 ? c->argvlen[0] : 128), c->argv[0], args);
}

const em_cmd *ember__cmd_resolve(em_ctx *c)
{
    return ember__cmd_resolve_known(c, ember__cmd_lookup(c->argv[0], c->argvlen[0]));
}

const em_cmd *ember__cmd_resolve_known(em_ctx *c, const em_cmd *cmd)
{
    c->parent = NULL;
    if (!cmd) {
        reply_unknown(c);
        return NULL;
    }
    if (cmd->subcmds && !(c->argc == 1 && cmd->proc)) {
        /* A container runs its own handler only without a subcommand
         * (COMMAND alone lists every command). */
        if (c->argc == 1) {
            c->cmd = cmd;
            em_err_arity(c);
            return NULL;
        }
        const em_cmd *sub = cmd->subcmds;
        for (; sub->name; sub++)
            if (name_eq(sub->name, c->argv[1], c->argvlen[1]))
                break;
        if (!sub->name) {
            char up[64];
            size_t n = strlen(cmd->name);
            for (size_t i = 0; i <= n && i < sizeof up; i++)
                up[i] = (char)toupper((unsigned char)cmd->name[i]);
            em_add_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                          (int)(c->argvlen[1] < 128 ? c->argvlen[1] : 128), c->argv[1], up);
            return NULL;
        }
        c->parent = cmd;
        cmd = sub;
    }
    c->cmd = cmd;
    if (!arity_ok(cmd, c->argc)) {
        em_err_arity(c);
        return NULL;
    }
    return cmd;
}

/*
 * A command with a log attached: one unit. Keys the command finds expired are
 * deleted (and logged as DEL by the keyspace hook) during it; their dirty
 * count is not the command's own change, hence the subtraction.
 */
static void call_logged(em_ctx *c, const em_cmd *cmd)
{
    em_server *s = c->srv;
    em_store *st = c->st;
    if ((cmd->flags & EM_CMD_WRITE) && s->log_refuse) {
        em_add_error(c, s->log_refuse);
        return;
    }
    uint64_t d0 = st->dirty, x0 = st->stats.expired_keys + st->stats.evicted_keys;
    c->log_custom = 0;
    s->log->begin(s->log_ud);
    cmd->proc(c);
    if ((cmd->flags & EM_CMD_WRITE) && !c->blocked && !c->log_custom) {
        uint64_t x = st->stats.expired_keys + st->stats.evicted_keys - x0;
        if (st->dirty - d0 > x)
            s->log->record(s->log_ud, c->dbid, c->argc, c->argv, c->argvlen);
    }
    s->log->end(s->log_ud);
}

/* RESP2 subscribe mode: a connection with subscriptions may only run the
 * pub/sub commands, PING, QUIT and RESET (Redis 7.0's error text). */
static int refused_in_subscribe_mode(em_ctx *c, const em_cmd *cmd)
{
    const em_ps_client *cl = c->srv->cur_client;
    if (cl->proto != 2 || !ember__ps_total(&cl->sub) || (cmd->flags & EM_CMD_PUBSUB))
        return 0;
    char name[64];
    ember__cmd_fullname(c->parent, cmd, name, sizeof name);
    em_add_errorf(c,
                  "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
                  "/ RESET are allowed in this context",
                  name);
    return 1;
}

/*
 * maxmemory, as Redis's processCommand: before any command, evict until used
 * memory is under the limit; if that is impossible, a command that may grow
 * memory (EM_CMD_DENYOOM) is refused and changes nothing, while reads and
 * deletes still run. Returns 1 if the command was refused (it replied).
 */
static int oom_refused(em_ctx *c, const em_cmd *cmd)
{
    /* 500 us per command, Redis's default (maxmemory-eviction-tenacity 10);
     * the timer continues what is left. */
    int r = ember__evict_perform(c->st, em_now(c), 500);
    if (r == EM_EVICT_FAIL && (cmd->flags & EM_CMD_DENYOOM)) {
        em_err_oom(c);
        return 1;
    }
    return 0;
}

void ember__cmd_call(em_ctx *c, const em_cmd *cmd)
{
    if (EM_UNLIKELY(c->srv->cur_client != NULL) && refused_in_subscribe_mode(c, cmd))
        return;
    c->cmd = cmd;
    c->now = -1;
    c->blocked = 0;
    if (EM_UNLIKELY(c->st->ev.maxmemory != 0) && !(c->flags & EM_CTX_NO_EVICT) &&
        oom_refused(c, cmd))
        return;
    if (EM_UNLIKELY(c->srv->log != NULL))
        call_logged(c, cmd);
    else
        cmd->proc(c);
    c->st->stats.total_commands++;
    if ((cmd->flags & EM_CMD_WRITE) && c->srv->after_write && !c->blocked)
        c->srv->after_write(c);
}

void ember__cmd_exec(em_ctx *c)
{
    const em_cmd *cmd = ember__cmd_resolve(c);
    if (cmd)
        ember__cmd_call(c, cmd);
}

void ember__cmd_exec_known(em_ctx *c, const em_cmd *top)
{
    const em_cmd *cmd = top ? ember__cmd_resolve_known(c, top) : ember__cmd_resolve(c);
    if (cmd)
        ember__cmd_call(c, cmd);
}

/* ------------------------------------------------------------ propagation */

static void log_record(em_ctx *c, size_t argc, const char *const *argv, const size_t *argvlen)
{
    size_t lens[16];
    if (!argc)
        return;
    if (!argvlen) {
        assert(argc <= 16);
        for (size_t i = 0; i < argc; i++)
            lens[i] = strlen(argv[i]);
        argvlen = lens;
    }
    c->srv->log->record(c->srv->log_ud, c->dbid, argc, argv, argvlen);
}

void em_log_replace(em_ctx *c, size_t argc, const char *const *argv, const size_t *argvlen)
{
    if (!c->srv->log)
        return;
    c->log_custom = 1;
    log_record(c, argc, argv, argvlen);
}

void em_log_also(em_ctx *c, size_t argc, const char *const *argv, const size_t *argvlen)
{
    if (c->srv->log)
        log_record(c, argc, argv, argvlen);
}

void em_log_force(em_ctx *c)
{
    if (c->srv->log && !c->log_custom)
        em_log_replace(c, c->argc, c->argv, c->argvlen);
}

/* ------------------------------------------------------------ replies */

void em_add_bulk_ll(em_ctx *c, long long v)
{
    char buf[EM_LLSTR_SIZE];
    size_t n = ember__ll_to_str(buf, v);
    c->so->bulk(c->sink, buf, n);
}

/* Counts an error reply under its code, the first word (Redis's
 * errorstats: "ERR", "WRONGTYPE"...). A linear search: the table holds a
 * handful of codes, and errors are not the fast path. */
static void count_error(em_server *s, const char *msg, size_t n)
{
    if (!s)
        return; /* a check off the executor (ember-server queueing MULTI): no stats */
    size_t cl = 0;
    while (cl < n && cl < 31 && msg[cl] != ' ')
        cl++;
    s->total_error_replies++;
    for (size_t i = 0; i < s->nerrstats; i++) {
        if (strlen(s->errstats[i].code) == cl && memcmp(s->errstats[i].code, msg, cl) == 0) {
            s->errstats[i].count++;
            return;
        }
    }
    if (s->nerrstats < EM_ERRSTATS_MAX) {
        memcpy(s->errstats[s->nerrstats].code, msg, cl);
        s->errstats[s->nerrstats].code[cl] = '\0';
        s->errstats[s->nerrstats++].count = 1;
    }
}

void em_add_error(em_ctx *c, const char *msg)
{
    size_t n = strlen(msg);
    count_error(c->srv, msg, n);
    c->so->error(c->sink, ember__error_code_for(msg, n), msg, n);
}

void em_add_errorf(em_ctx *c, const char *fmt, ...)
{
    char small[512], *buf = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof small) {
        buf = malloc((size_t)n + 1);
        if (!buf) {
            buf = small;
            n = sizeof small - 1;
        } else {
            va_start(ap, fmt);
            vsnprintf(buf, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    /* An error is one line: as Redis, drop trailing CR/LF, then turn any
     * inner ones into spaces so user bytes cannot break the protocol. */
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
        n--;
    for (int i = 0; i < n; i++)
        if (buf[i] == '\r' || buf[i] == '\n')
            buf[i] = ' ';
    count_error(c->srv, buf, (size_t)n);
    c->so->error(c->sink, ember__error_code_for(buf, (size_t)n), buf, (size_t)n);
    if (buf != small)
        free(buf);
}

void em_err_wrongtype(em_ctx *c)
{
    em_add_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void em_err_notint(em_ctx *c)
{
    em_add_error(c, "ERR value is not an integer or out of range");
}

void em_err_notfloat(em_ctx *c)
{
    em_add_error(c, "ERR value is not a valid float");
}

void em_err_syntax(em_ctx *c)
{
    em_add_error(c, "ERR syntax error");
}

void em_err_overflow(em_ctx *c)
{
    em_add_error(c, "ERR increment or decrement would overflow");
}

void em_err_nokey(em_ctx *c)
{
    em_add_error(c, "ERR no such key");
}

const char ember__oom_msg[] = "OOM command not allowed when used memory > 'maxmemory'.";

void em_err_oom(em_ctx *c)
{
    em_add_error(c, ember__oom_msg);
}

void em_err_arity(em_ctx *c)
{
    char name[128];
    ember__cmd_fullname(c->parent, c->cmd, name, sizeof name);
    em_add_errorf(c, "ERR wrong number of arguments for '%s' command", name);
}

void em_err_expire(em_ctx *c)
{
    char name[128];
    ember__cmd_fullname(c->parent, c->cmd, name, sizeof name);
    em_add_errorf(c, "ERR invalid expire time in '%s' command", name);
}

void em_block(em_ctx *c, size_t first, size_t count, size_t step, int64_t deadline_ms)
{
    if (!(c->flags & EM_CTX_MAY_BLOCK)) {
        em_add_nil(c);
        return;
    }
    c->blocked = 1;
    c->block_first = first;
    c->block_count = count;
    c->block_step = step ? step : 1;
    c->block_deadline = deadline_ms;
}

int em_arg_timeout(em_ctx *c, size_t i, int64_t *deadline_ms)
{
    long double secs;
    if (!ember__str_to_ld(c->argv[i], c->argvlen[i], &secs)) {
        em_add_error(c, "ERR timeout is not a float or out of range");
        return 0;
    }
    /* Redis rounds up to whole milliseconds (0.0001 waits 1 ms; -0.0001
     * rounds to 0, "forever"), and a value too large for int64 (inf, 1e400)
     * converts to a negative number on its platforms, hence "negative"
     * rather than "out of range". */
    long double ms = secs * 1000.0L;
    if (ms <= -1.0L || ms >= 9223372036854775808.0L) {
        em_add_error(c, "ERR timeout is negative");
        return 0;
    }
    int64_t t = ms > 0 ? (int64_t)ms : 0;
    if ((long double)t < ms && t < INT64_MAX)
        t++; /* ceil */
    if (t > 0 && t > INT64_MAX - em_now(c)) {
        em_add_error(c, "ERR timeout is out of range");
        return 0;
    }
    *deadline_ms = t > 0 ? em_now(c) + t : 0;
    return 1;
}

int em_arg_is(const em_ctx *c, size_t i, const char *lit)
{
    return i < c->argc && name_eq(lit, c->argv[i], c->argvlen[i]);
}

int em_arg_ll_quiet(const em_ctx *c, size_t i, long long *out)
{
    return ember__str_to_ll(c->argv[i], c->argvlen[i], out);
}

int em_arg_ll(em_ctx *c, size_t i, long long *out)
{
    if (ember__str_to_ll(c->argv[i], c->argvlen[i], out))
        return 1;
    em_err_notint(c);
    return 0;
}
