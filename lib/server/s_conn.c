/*
 * s_conn.c — the commands ember-server answers itself, without the
 * executor: HELLO, AUTH (s_auth.c), QUIT, RESET, SELECT, CLIENT
 * (s_client.c), SHUTDOWN, and refusals of what it does not do yet; and the
 * gate every request passes first.
 *
 * The gate follows Redis 7.0's processCommand order: an unknown command or
 * subcommand, or a wrong argument count, gets that error (from here or from
 * the executor) even before authentication; then, while requirepass is set
 * and the connection has not authenticated, everything but AUTH, HELLO,
 * QUIT and RESET gets NOAUTH. The last command's full name is kept for
 * CLIENT LIST's cmd= ("NULL" after an unknown one, as Redis).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "srv_int.h"

int64_t ember__srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ember__srv_reply_bulk(srv_conn *c, const char *p, size_t n)
{
    srv_buf b = {0};
    ember__sbuf_bulk(&b, p, n);
    ember__srv_reply_raw(c, b.p ? b.p : "", b.len);
    free(b.p);
}

void ember__srv_reply_arity(srv_conn *c, const char *name)
{
    char msg[128];
    snprintf(msg, sizeof msg, "ERR wrong number of arguments for '%s' command", name);
    ember__srv_reply_error(c, msg);
}

static void put_hello_map(srv_buf *b, const struct ember_server *s, const srv_conn *c)
{
    (void)s;
    int p3 = c->proto == 3;
    ember__sbuf_puts(b, p3 ? "%7\r\n" : "*14\r\n");
    ember__sbuf_bulk(b, "server", 6);
    ember__sbuf_bulk(b, "ember", 5);
    ember__sbuf_bulk(b, "version", 7);
    char v[32];
    int vn = snprintf(v, sizeof v, "%d.%d.%d", EMBER_VERSION_MAJOR, EMBER_VERSION_MINOR,
                      EMBER_VERSION_PATCH);
    ember__sbuf_bulk(b, v, (size_t)vn);
    ember__sbuf_bulk(b, "proto", 5);
    ember__sbuf_line(b, ':', c->proto);
    ember__sbuf_bulk(b, "id", 2);
    ember__sbuf_line(b, ':', (long long)c->id);
    ember__sbuf_bulk(b, "mode", 4);
    ember__sbuf_bulk(b, "standalone", 10);
    ember__sbuf_bulk(b, "role", 4);
    ember__sbuf_bulk(b, "master", 6);
    ember__sbuf_bulk(b, "modules", 7);
    ember__sbuf_puts(b, "*0\r\n");
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]]
 * As Redis 7.0.15 does it: the version first, then each option in order,
 * acted on at once — AUTH authenticates (WRONGPASS ends the command),
 * SETNAME names the connection (a bad name ends it), anything else is a
 * syntax error — then NOAUTH if still unauthenticated (a name given before
 * stays set), and only then the protocol switches. */
static void cmd_hello(struct ember_server *s, srv_conn *c, size_t argc)
{
    int proto = c->proto;
    size_t i = 1;
    if (argc >= 2) {
        long long v;
        if (!ember__str_to_ll(c->argv[1], c->argvlen[1], &v)) {
            ember__srv_reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (v != 2 && v != 3) {
            ember__srv_reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
        proto = (int)v;
        i = 2;
    }
    for (; i < argc; i++) {
        if (ember__srv_name_is(c, i, "auth") && i + 2 < argc) {
            if (!ember__srv_auth_check(s, c->argv[i + 1], c->argvlen[i + 1], c->argv[i + 2],
                                       c->argvlen[i + 2])) {
                ember__srv_reply_error(
                    c, "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            c->authenticated = 1;
            i += 2;
        } else if (ember__srv_name_is(c, i, "setname") && i + 1 < argc) {
            const char *name = c->argv[i + 1];
            size_t namelen = c->argvlen[i + 1];
            if (!ember__srv_attr_ok(name, namelen)) {
                ember__srv_reply_error(c, "ERR Client names cannot contain spaces, newlines or "
                                          "special characters.");
                return;
            }
            free(c->name);
            c->name = namelen ? strndup(name, namelen) : NULL;
            i++;
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "ERR Syntax error in HELLO option '%.*s'",
                     (int)(c->argvlen[i] > 64 ? 64 : c->argvlen[i]), c->argv[i]);
            ember__srv_reply_error(c, msg);
            return;
        }
    }
    if (ember__srv_auth_required(s, c)) {
        ember__srv_reply_error(c, "NOAUTH HELLO must be called with the client already "
                                  "authenticated, otherwise the HELLO AUTH <user> <pass> option "
                                  "can be used to authenticate the client and select the RESP "
                                  "protocol version at the same time");
        return;
    }
    c->proto = proto;
    srv_buf b = {0};
    put_hello_map(&b, s, c);
    ember__srv_reply_raw(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* SELECT index */
static void cmd_select(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)argc;
    long long v;
    if (!ember__str_to_ll(c->argv[1], c->argvlen[1], &v) || v < INT32_MIN || v > INT32_MAX) {
        ember__srv_reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if (v < 0 || v >= s->ndb) {
        ember__srv_reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = (int32_t)v;
    ember__srv_reply_str(c, "+OK\r\n");
}

/* QUIT */
static void cmd_quit(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    ember__srv_reply_str(c, "+OK\r\n");
    c->close_after = 1;
}

/* RESET: the connection as a new one would be (RESP2, database 0, no name,
 * no CLIENT flags, unauthenticated if requirepass is set). */
static void cmd_reset(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)argc;
    ember__srv_multi_reset(s, c); /* the transaction and the watched keys go */
    ember__srv_ps_reset(s, c);    /* and the subscriptions (s_pubsub.c) */
    c->db = 0;
    c->proto = 2;
    free(c->name);
    c->name = NULL;
    c->no_evict = c->no_touch = 0;
    c->authenticated = !ember__srv_auth_configured(s);
    ember__srv_reply_str(c, "+RESET\r\n");
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
 * The server cannot end the process: the application's hook decides (see
 * ember_server_config_set_shutdown_hook). When it accepts, the connection
 * gets no reply and reads nothing more, as Redis's clients see the server
 * go away; it is closed when the application stops the server. */
static void cmd_shutdown(struct ember_server *s, srv_conn *c, size_t argc)
{
    uint32_t flags = 0;
    int abort = 0;
    for (size_t i = 1; i < argc; i++) {
        if (ember__srv_name_is(c, i, "nosave"))
            flags |= EMBER_SHUTDOWN_NOSAVE;
        else if (ember__srv_name_is(c, i, "save"))
            flags |= EMBER_SHUTDOWN_SAVE;
        else if (ember__srv_name_is(c, i, "now"))
            flags |= EMBER_SHUTDOWN_NOW;
        else if (ember__srv_name_is(c, i, "force"))
            flags |= EMBER_SHUTDOWN_FORCE;
        else if (ember__srv_name_is(c, i, "abort"))
            abort = 1;
        else {
            ember__srv_reply_error(c, "ERR syntax error");
            return;
        }
    }
    if ((abort && flags) || ((flags & EMBER_SHUTDOWN_NOSAVE) && (flags & EMBER_SHUTDOWN_SAVE))) {
        ember__srv_reply_error(c, "ERR syntax error");
        return;
    }
    if (abort) {
        /* A shutdown here is never pending (no replicas to wait for). */
        ember__srv_reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    if (!s->opts.shutdown) {
        ember__srv_reply_error(c, "ERR SHUTDOWN is not available: the application that runs "
                                  "this server gave it no shutdown hook");
        return;
    }
    if (s->opts.shutdown(s->opts.shutdown_ctx, flags) != 0) {
        ember__srv_reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* Parked as a blocked client is (nothing more is parsed), with no
     * request in flight to cancel. */
    c->blocked = 1;
}

/* MONITOR, replication...: not done by ember-server yet. */
static void cmd_refused(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    char msg[96];
    snprintf(msg, sizeof msg, "ERR %.*s is not supported yet by ember-server",
             (int)(c->argvlen[0] > 32 ? 32 : c->argvlen[0]), c->argv[0]);
    for (char *q = msg + 4; *q && *q != ' '; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    ember__srv_reply_error(c, msg);
}

typedef void (*conn_fn)(struct ember_server *s, srv_conn *c, size_t argc);

/* The server's own commands, with Redis 7.0's arities; noauth: allowed
 * before AUTH. CLIENT's subcommands are s_client.c's. */
static const struct {
    const char *name;
    int arity, noauth;
    conn_fn fn;
} cmds[] = {
    {"hello", -1, 1, cmd_hello},
    {"auth", -2, 1, ember__srv_cmd_auth},
    {"quit", -1, 1, cmd_quit},
    {"reset", 1, 1, cmd_reset},
    {"select", 2, 0, cmd_select},
    {"client", -2, 0, NULL},
    {"shutdown", -1, 0, cmd_shutdown},
    /* Transactions: s_multi.c answers these (and everything inside MULTI)
     * before this table's checks, as Redis's replies to them differ. */
    {"multi", 1, 0, cmd_refused},
    {"exec", 1, 0, cmd_refused},
    {"discard", 1, 0, cmd_refused},
    {"watch", -2, 0, cmd_refused},
    {"unwatch", 1, 0, cmd_refused},
    {"monitor", 1, 0, cmd_refused},
    {"sync", 1, 0, cmd_refused},
    {"psync", -3, 0, cmd_refused},
    {"replicaof", 3, 0, cmd_refused},
    {"slaveof", 3, 0, cmd_refused},
};

static int arity_ok(int arity, size_t argc)
{
    return arity > 0 ? argc == (size_t)arity : argc >= (size_t)-arity;
}

static void set_lastcmd(srv_conn *c, const char *name)
{
    size_t n = strlen(name);
    if (n >= sizeof c->lastcmd)
        n = sizeof c->lastcmd - 1;
    memcpy(c->lastcmd, name, n);
    c->lastcmd[n] = '\0';
}

/* An executor command: 1 if it would resolve (known, subcommand known,
 * arity right), after noting its name for cmd=. The executor answers the
 * other cases with Redis's errors. */
static int exec_resolves(srv_conn *c, size_t argc)
{
    const em_cmd *cmd = ember__cmd_lookup(c->argv[0], c->argvlen[0]);
    c->looked_up = cmd; /* submit() reuses it */
    c->lookup_valid = 1;
    if (!cmd) {
        set_lastcmd(c, "NULL");
        return 0;
    }
    if (cmd->subcmds && argc >= 2) {
        const em_cmd *sub = cmd->subcmds;
        while (sub->name && !ember__srv_name_is(c, 1, sub->name))
            sub++;
        if (!sub->name) {
            set_lastcmd(c, "NULL");
            return 0;
        }
        char full[48];
        ember__cmd_fullname(cmd, sub, full, sizeof full);
        set_lastcmd(c, full);
        return arity_ok(sub->arity, argc);
    }
    set_lastcmd(c, cmd->name);
    return arity_ok(cmd->arity, argc);
}

static const char noauth[] = "NOAUTH Authentication required.";

/* Every request comes here first (see the top of the file). */
int ember__srv_conn_command(struct ember_server *s, srv_conn *c, size_t argc)
{
    c->last_ms = s->loop_ms;
    c->lookup_valid = 0;
    c->argv_mem = 0;
    for (size_t i = 0; i < argc; i++)
        c->argv_mem += c->argvlen[i];
    size_t k = 0, n = sizeof cmds / sizeof cmds[0];
    char first = c->argvlen[0] ? (char)(c->argv[0][0] | 0x20) : 0; /* ASCII fold */
    while (k < n && (cmds[k].name[0] != first || !ember__srv_name_is(c, 0, cmds[k].name)))
        k++;
    int txn_cmd = k < n && (!strcmp(cmds[k].name, "multi") || !strcmp(cmds[k].name, "exec") ||
                            !strcmp(cmds[k].name, "discard") || !strcmp(cmds[k].name, "watch") ||
                            !strcmp(cmds[k].name, "unwatch"));
    if (c->txn || txn_cmd) {
        /* Inside MULTI everything but QUIT and RESET is queued (or refused
         * and the transaction flagged) by s_multi.c, which also answers
         * MULTI/EXEC/DISCARD/WATCH/UNWATCH themselves. */
        if (!(k < n && cmds[k].noauth) && ember__srv_auth_required(s, c)) {
            ember__srv_reply_error(c, noauth);
            return 1;
        }
        if (ember__srv_multi_command(s, c, argc)) {
            set_lastcmd(c, k < n ? cmds[k].name : "NULL");
            return 1;
        }
    }
    if (k == n) {
        if (!exec_resolves(c, argc))
            return 0; /* the executor answers with Redis's error */
        if (ember__srv_auth_required(s, c)) {
            ember__srv_reply_error(c, noauth);
            return 1;
        }
        /* MULTI (s_multi.c) hooks in here and below, after the gate: Redis
         * checks the name, the arity and NOAUTH before queueing. */
        return 0; /* to the executor */
    }
    set_lastcmd(c, cmds[k].name);
    if (!arity_ok(cmds[k].arity, argc)) {
        ember__srv_reply_arity(c, cmds[k].name);
        return 1;
    }
    int sub = -1;
    if (!cmds[k].fn) { /* CLIENT */
        int known = 0;
        sub = ember__srv_client_resolve(c, argc, &known);
        if (!known)
            set_lastcmd(c, "NULL");
        else
            set_lastcmd(c, ember__srv_client_name(known - 1));
        if (sub < 0)
            return 1;
    }
    if (!cmds[k].noauth && ember__srv_auth_required(s, c)) {
        ember__srv_reply_error(c, noauth);
        return 1;
    }
    if (cmds[k].fn)
        cmds[k].fn(s, c, argc);
    else
        ember__srv_cmd_client(s, c, argc, sub);
    return 1;
}
