/*
 * s_client.c — CLIENT and its subcommands, the connection records they
 * read (CLIENT INFO / LIST lines), and the maxclients limit.
 *
 * Subcommands and arities are Redis 7.0's, plus 7.2's SETINFO and NO-TOUCH
 * (clients send SETINFO on connect). A CLIENT LIST line has Redis 7.0's
 * fields in its order, then 7.2's lib-name and lib-ver. What ember does not
 * track reads as Redis shows an idle connection: sub/psub/ssub 0, multi -1,
 * multi-mem 0, omem 0, user default, redir -1; rbs and rbp are the output
 * buffer's capacity, obl the bytes waiting in it, oll the replies still
 * pending in the connection's FIFO.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../common/util.h"
#include "srv_int.h"

/* ------------------------------------------------------------ records */

long long ember__srv_maxclients(const struct ember_server *s)
{
    em_server *es = &s->core->srv;
    pthread_mutex_lock(&es->cfg_lock);
    long long v = (long long)es->cfg.maxclients;
    pthread_mutex_unlock(&es->cfg_lock);
    return v;
}

/* "ip:port" as Redis writes it ("[ip]:port" for IPv6). */
static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
        snprintf(buf, cap, "[%s]:%d", ip, port);
        return;
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    port = ntohs(a->sin_port);
    snprintf(buf, cap, "%s:%d", ip, port);
}

void ember__srv_conn_opened(struct ember_server *s, srv_conn *c)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) == 0)
        format_addr(&ss, c->addr, sizeof c->addr);
    sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0)
        format_addr(&ss, c->laddr, sizeof c->laddr);
    c->ctime_ms = c->last_ms = ember__srv_now_ms();
    strcpy(c->lastcmd, "NULL");
    /* As Redis: authenticated iff the default user has no password now. */
    c->authenticated = !ember__srv_auth_configured(s);
    if (s->nclients + 1 > ember__srv_maxclients(s)) {
        /* Redis answers before reading anything, then closes; the
         * connection never counts as a client (INFO clients, stats). */
        static const char full[] = "-ERR max number of clients reached\r\n";
        ssize_t w = send(c->fd, full, sizeof full - 1, MSG_NOSIGNAL);
        (void)w;
        c->rejected = 1;
        ember__srv_conn_kill(s, c);
        return;
    }
    s->nclients++;
    em_server *es = &s->core->srv; /* INFO reads these on the executor */
    atomic_fetch_add_explicit(&es->net_clients, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&es->net_connections_total, 1, memory_order_relaxed);
}

void ember__srv_conn_closing(struct ember_server *s, srv_conn *c)
{
    if (c->rejected)
        return;
    s->nclients--;
    atomic_fetch_sub_explicit(&s->core->srv.net_clients, 1, memory_order_relaxed);
}

void ember__srv_conn_freed(srv_conn *c)
{
    free(c->lib_name);
    free(c->lib_ver);
}

int ember__srv_attr_ok(const char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (p[k] < '!' || p[k] > '~')
            return 0;
    return 1;
}

/* Appends the CLIENT LIST line of c (with its '\n'). */
static void put_client_line(srv_buf *b, const srv_conn *c, int64_t now)
{
    char flags[16];
    size_t f = 0;
    if (c->blocked)
        flags[f++] = 'b';
    if (c->close_after)
        flags[f++] = 'c';
    if (c->no_evict)
        flags[f++] = 'e';
    if (c->no_touch)
        flags[f++] = 'T';
    if (!f)
        flags[f++] = 'N';
    flags[f] = 0;
    char ev[3];
    size_t e = 0;
    if (c->events & EPOLLIN)
        ev[e++] = 'r';
    if (c->events & EPOLLOUT)
        ev[e++] = 'w';
    ev[e] = 0;
    size_t totmem = sizeof *c + c->in.cap + c->out.cap + c->scratchcap +
                    c->argcap * (sizeof *c->argv + sizeof *c->argvlen);
    /* Names may be long: they go in as they are, the rest through snprintf. */
    char part[512];
    int n = snprintf(part, sizeof part, "id=%lld addr=%s laddr=%s fd=%d name=", (long long)c->id,
                     c->addr, c->laddr, c->fd);
    ember__sbuf_put(b, part, (size_t)n);
    if (c->name)
        ember__sbuf_puts(b, c->name);
    n = snprintf(part, sizeof part,
                 " age=%lld idle=%lld flags=%s db=%d sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu "
                 "qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=0 "
                 "tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d lib-name=",
                 (long long)((now - c->ctime_ms) / 1000), (long long)((now - c->last_ms) / 1000),
                 flags, (int)c->db, c->in.len - c->in.off, c->in.cap - c->in.len, c->argv_mem,
                 c->out.cap, c->out.cap, c->out.len - c->out.off, c->nrec, totmem, ev, c->lastcmd,
                 c->proto);
    ember__sbuf_put(b, part, (size_t)n);
    if (c->lib_name)
        ember__sbuf_puts(b, c->lib_name);
    ember__sbuf_puts(b, " lib-ver=");
    if (c->lib_ver)
        ember__sbuf_puts(b, c->lib_ver);
    ember__sbuf_put(b, "\n", 1);
}

/* Replies with text as a bulk string (RESP2) or a "txt" verbatim string
 * (RESP3), as Redis sends CLIENT INFO and CLIENT LIST. */
static void reply_text(srv_conn *c, const char *p, size_t n)
{
    if (c->proto != 3) {
        ember__srv_reply_bulk(c, p, n);
        return;
    }
    srv_buf b = {0};
    ember__sbuf_line(&b, '=', (long long)n + 4);
    ember__sbuf_put(&b, "txt:", 4);
    ember__sbuf_put(&b, p, n);
    ember__sbuf_put(&b, "\r\n", 2);
    ember__srv_reply_raw(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* Redis's client types; ember's connections are all "normal" (no
 * replication; pub/sub connections are not told apart yet). */
enum { TYPE_NORMAL, TYPE_REPLICA, TYPE_PUBSUB, TYPE_MASTER };

static int client_type(const srv_conn *c, size_t i)
{
    static const char *const names[] = {"normal", "slave", "replica", "pubsub", "master"};
    static const int types[] = {TYPE_NORMAL, TYPE_REPLICA, TYPE_REPLICA, TYPE_PUBSUB, TYPE_MASTER};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (ember__srv_name_is(c, i, names[k]))
            return types[k];
    return -1;
}

static void reply_unknown_type(srv_conn *c, size_t i)
{
    char msg[160];
    snprintf(msg, sizeof msg, "ERR Unknown client type '%.*s'",
             (int)(c->argvlen[i] > 100 ? 100 : c->argvlen[i]), c->argv[i]);
    ember__srv_reply_error(c, msg);
}

/* The connections oldest first (the list keeps the newest at its head). */
static srv_conn *oldest(struct ember_server *s)
{
    srv_conn *t = s->conns;
    while (t && t->nextc)
        t = t->nextc;
    return t;
}

/* ------------------------------------------------------------ subcommands */

/* CLIENT INFO */
static void client_info(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    srv_buf b = {0};
    put_client_line(&b, c, ember__srv_now_ms());
    reply_text(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]] —
 * Redis 7.0 takes one of the two filters, not both. */
static void client_list(struct ember_server *s, srv_conn *c, size_t argc)
{
    int type = -1;
    long long *ids = NULL;
    size_t nids = 0;
    if (argc == 4 && ember__srv_name_is(c, 2, "type")) {
        type = client_type(c, 3);
        if (type < 0) {
            reply_unknown_type(c, 3);
            return;
        }
    } else if (argc > 3 && ember__srv_name_is(c, 2, "id")) {
        ids = malloc((argc - 3) * sizeof *ids);
        if (!ids) {
            ember__srv_reply_error(c, "ERR out of memory");
            return;
        }
        for (size_t i = 3; i < argc; i++) {
            if (!ember__str_to_ll(c->argv[i], c->argvlen[i], &ids[nids])) {
                free(ids);
                ember__srv_reply_error(c, "ERR Invalid client ID");
                return;
            }
            nids++;
        }
    } else if (argc != 2) {
        ember__srv_reply_error(c, "ERR syntax error");
        return;
    }
    srv_buf b = {0};
    int64_t now = ember__srv_now_ms();
    if (type <= TYPE_NORMAL) {
        for (srv_conn *o = oldest(s); o; o = o->prev) {
            if (o->dead)
                continue;
            int hit = !ids;
            for (size_t k = 0; k < nids && !hit; k++)
                hit = ids[k] == o->id;
            if (hit)
                put_client_line(&b, o, now);
        }
    }
    free(ids);
    reply_text(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* CLIENT KILL ip:port
 * CLIENT KILL [ID id] [TYPE type] [USER name] [ADDR ip:port] [LADDR ip:port]
 *             [SKIPME yes|no] [MAXAGE seconds]
 * The old form replies +OK or "No such client" and may close the caller
 * itself (after the reply); the filter form replies with the number
 * closed and skips the caller unless SKIPME no. MAXAGE is Redis 7.4's
 * (connections older than that many seconds); 7.0 has no such filter. */
static void client_kill(struct ember_server *s, srv_conn *c, size_t argc)
{
    const char *addr = NULL, *laddr = NULL;
    size_t alen = 0, llen = 0;
    long long id = 0, maxage = 0;
    int type = -1, skipme = 1, old = argc == 3;
    if (old) {
        addr = c->argv[2];
        alen = c->argvlen[2];
        skipme = 0;
    } else {
        if ((argc - 2) % 2 != 0) {
            ember__srv_reply_error(c, "ERR syntax error");
            return;
        }
        for (size_t i = 2; i < argc; i += 2) {
            size_t v = i + 1;
            if (ember__srv_name_is(c, i, "id")) {
                if (!ember__str_to_ll(c->argv[v], c->argvlen[v], &id) || id <= 0) {
                    ember__srv_reply_error(c, "ERR client-id should be greater than 0");
                    return;
                }
            } else if (ember__srv_name_is(c, i, "type")) {
                type = client_type(c, v);
                if (type < 0) {
                    reply_unknown_type(c, v);
                    return;
                }
            } else if (ember__srv_name_is(c, i, "user")) {
                if (c->argvlen[v] != 7 || memcmp(c->argv[v], "default", 7) != 0) {
                    char msg[160];
                    snprintf(msg, sizeof msg, "ERR No such user '%.*s'",
                             (int)(c->argvlen[v] > 100 ? 100 : c->argvlen[v]), c->argv[v]);
                    ember__srv_reply_error(c, msg);
                    return;
                }
            } else if (ember__srv_name_is(c, i, "addr")) {
                addr = c->argv[v];
                alen = c->argvlen[v];
            } else if (ember__srv_name_is(c, i, "laddr")) {
                laddr = c->argv[v];
                llen = c->argvlen[v];
            } else if (ember__srv_name_is(c, i, "skipme")) {
                if (ember__srv_name_is(c, v, "yes"))
                    skipme = 1;
                else if (ember__srv_name_is(c, v, "no"))
                    skipme = 0;
                else {
                    ember__srv_reply_error(c, "ERR syntax error");
                    return;
                }
            } else if (ember__srv_name_is(c, i, "maxage")) {
                if (!ember__str_to_ll(c->argv[v], c->argvlen[v], &maxage) || maxage < 0) {
                    ember__srv_reply_error(c, "ERR syntax error");
                    return;
                }
            } else {
                ember__srv_reply_error(c, "ERR syntax error");
                return;
            }
        }
    }
    int64_t now = ember__srv_now_ms();
    long long killed = 0;
    int self = 0;
    for (srv_conn *o = s->conns, *next; o; o = next) {
        next = o->nextc;
        if (o->dead || (o == c && skipme))
            continue;
        if (addr && (strlen(o->addr) != alen || memcmp(o->addr, addr, alen) != 0))
            continue;
        if (laddr && (strlen(o->laddr) != llen || memcmp(o->laddr, laddr, llen) != 0))
            continue;
        if (id && o->id != id)
            continue;
        if (type > TYPE_NORMAL)
            continue;
        if (maxage && (now - o->ctime_ms) / 1000 < maxage)
            continue;
        killed++;
        if (o == c)
            self = 1; /* after its reply */
        else
            ember__srv_conn_kill(s, o);
        if (old)
            break;
    }
    if (old) {
        if (!killed)
            ember__srv_reply_error(c, "ERR No such client");
        else
            ember__srv_reply_str(c, "+OK\r\n");
    } else {
        srv_buf b = {0};
        ember__sbuf_line(&b, ':', killed);
        ember__srv_reply_raw(c, b.p, b.len);
        free(b.p);
    }
    if (self)
        c->close_after = 1;
}

/* CLIENT ID */
static void client_id(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    srv_buf b = {0};
    ember__sbuf_line(&b, ':', (long long)c->id);
    ember__srv_reply_raw(c, b.p, b.len);
    free(b.p);
}

/* CLIENT GETNAME */
static void client_getname(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    if (!c->name)
        ember__srv_reply_str(c, c->proto == 3 ? "_\r\n" : "$-1\r\n");
    else
        ember__srv_reply_bulk(c, c->name, strlen(c->name));
}

/* CLIENT SETNAME name */
static void client_setname(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    if (!ember__srv_attr_ok(c->argv[2], c->argvlen[2])) {
        ember__srv_reply_error(c, "ERR Client names cannot contain spaces, newlines or special "
                                  "characters.");
        return;
    }
    free(c->name);
    c->name = c->argvlen[2] ? strndup(c->argv[2], c->argvlen[2]) : NULL;
    ember__srv_reply_str(c, "+OK\r\n");
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2) */
static void client_setinfo(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    char **dest;
    if (ember__srv_name_is(c, 2, "lib-name"))
        dest = &c->lib_name;
    else if (ember__srv_name_is(c, 2, "lib-ver"))
        dest = &c->lib_ver;
    else {
        char msg[160];
        snprintf(msg, sizeof msg, "ERR Unrecognized option '%.*s'",
                 (int)(c->argvlen[2] > 100 ? 100 : c->argvlen[2]), c->argv[2]);
        ember__srv_reply_error(c, msg);
        return;
    }
    if (!ember__srv_attr_ok(c->argv[3], c->argvlen[3])) {
        char msg[160];
        snprintf(msg, sizeof msg, "ERR %.*s cannot contain spaces, newlines or special characters.",
                 (int)c->argvlen[2], c->argv[2]);
        ember__srv_reply_error(c, msg);
        return;
    }
    free(*dest);
    *dest = c->argvlen[3] ? strndup(c->argv[3], c->argvlen[3]) : NULL;
    ember__srv_reply_str(c, "+OK\r\n");
}

/* CLIENT NO-EVICT on|off, CLIENT NO-TOUCH on|off: accepted and shown in
 * the flags (e, T); ember has no client eviction, and NO-TOUCH does not
 * yet keep commands from updating access times. */
static void client_onoff(srv_conn *c, int *flag)
{
    if (ember__srv_name_is(c, 2, "on"))
        *flag = 1;
    else if (ember__srv_name_is(c, 2, "off"))
        *flag = 0;
    else {
        ember__srv_reply_error(c, "ERR syntax error");
        return;
    }
    ember__srv_reply_str(c, "+OK\r\n");
}

static void client_noevict(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    client_onoff(c, &c->no_evict);
}

static void client_notouch(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    client_onoff(c, &c->no_touch);
}

/* CLIENT HELP: Redis 7.0's text. */
static void client_help(struct ember_server *s, srv_conn *c, size_t argc)
{
    (void)s, (void)argc;
    static const char *const lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    };
    srv_buf b = {0};
    size_t n = sizeof lines / sizeof lines[0];
    ember__sbuf_line(&b, '*', (long long)n);
    for (size_t i = 0; i < n; i++) {
        ember__sbuf_put(&b, "+", 1);
        ember__sbuf_puts(&b, lines[i]);
        ember__sbuf_put(&b, "\r\n", 2);
    }
    ember__srv_reply_raw(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* ------------------------------------------------------------ table */

typedef void (*client_fn)(struct ember_server *s, srv_conn *c, size_t argc);

/* Redis 7.0's CLIENT subcommands (and 7.2's setinfo, no-touch) with their
 * arities counted from CLIENT; fn NULL: not supported yet. */
static const struct {
    const char *name, *full;
    int arity;
    client_fn fn;
} subs[] = {
    {"id", "client|id", 2, client_id},
    {"info", "client|info", 2, client_info},
    {"list", "client|list", -2, client_list},
    {"kill", "client|kill", -3, client_kill},
    {"getname", "client|getname", 2, client_getname},
    {"setname", "client|setname", 3, client_setname},
    {"setinfo", "client|setinfo", 4, client_setinfo},
    {"no-evict", "client|no-evict", 3, client_noevict},
    {"no-touch", "client|no-touch", 3, client_notouch},
    {"help", "client|help", 2, client_help},
    {"pause", "client|pause", -3, NULL},
    {"unpause", "client|unpause", 2, NULL},
    {"reply", "client|reply", 3, NULL},
    {"tracking", "client|tracking", -3, NULL},
    {"trackinginfo", "client|trackinginfo", 2, NULL},
    {"caching", "client|caching", 3, NULL},
    {"getredir", "client|getredir", 2, NULL},
    {"unblock", "client|unblock", -3, NULL},
};

int ember__srv_client_resolve(srv_conn *c, size_t argc, int *known)
{
    *known = 0;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (!ember__srv_name_is(c, 1, subs[i].name))
            continue;
        *known = (int)i + 1;
        int a = subs[i].arity;
        if ((a > 0 && argc != (size_t)a) || (a < 0 && argc < (size_t)-a)) {
            ember__srv_reply_arity(c, subs[i].full);
            return -1;
        }
        return (int)i;
    }
    char msg[200];
    snprintf(msg, sizeof msg, "ERR unknown subcommand '%.*s'. Try CLIENT HELP.",
             (int)(c->argvlen[1] > 128 ? 128 : c->argvlen[1]), c->argv[1]);
    ember__srv_reply_error(c, msg);
    return -1;
}

const char *ember__srv_client_name(int sub)
{
    return subs[sub].full;
}

void ember__srv_cmd_client(struct ember_server *s, srv_conn *c, size_t argc, int sub)
{
    if (subs[sub].fn) {
        subs[sub].fn(s, c, argc);
        return;
    }
    char msg[96];
    snprintf(msg, sizeof msg, "ERR CLIENT %s is not supported yet by ember-server", subs[sub].name);
    ember__srv_reply_error(c, msg);
}
