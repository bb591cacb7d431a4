/*
 * s_conn.c — the commands ember-server answers itself, without the
 * executor: HELLO, QUIT, SELECT, CLIENT, and refusals of what it does not
 * do yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "srv_int.h"

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

/* HELLO [protover [SETNAME name]] */
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
    const char *name = NULL;
    size_t namelen = 0;
    for (; i < argc; i++) {
        if (ember__srv_name_is(c, i, "setname") && i + 1 < argc) {
            name = c->argv[i + 1];
            namelen = c->argvlen[i + 1];
            i++;
        } else if (ember__srv_name_is(c, i, "auth")) {
            ember__srv_reply_error(c, "ERR AUTH is not supported yet by ember-server");
            return;
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "ERR Syntax error in HELLO option '%.*s'",
                     (int)(c->argvlen[i] > 64 ? 64 : c->argvlen[i]), c->argv[i]);
            ember__srv_reply_error(c, msg);
            return;
        }
    }
    if (name) {
        for (size_t k = 0; k < namelen; k++)
            if (name[k] < '!' || name[k] > '~') {
                ember__srv_reply_error(
                    c, "ERR Client names cannot contain spaces, newlines or special "
                       "characters.");
                return;
            }
        free(c->name);
        c->name = namelen ? strndup(name, namelen) : NULL;
    }
    c->proto = proto;
    srv_buf b = {0};
    put_hello_map(&b, s, c);
    ember__srv_reply_raw(c, b.p ? b.p : "", b.len);
    free(b.p);
}

/* CLIENT ID | SETNAME name | GETNAME */
static void cmd_client(srv_conn *c, size_t argc)
{
    if (argc == 2 && ember__srv_name_is(c, 1, "id")) {
        srv_buf b = {0};
        ember__sbuf_line(&b, ':', (long long)c->id);
        ember__srv_reply_raw(c, b.p, b.len);
        free(b.p);
    } else if (argc == 2 && ember__srv_name_is(c, 1, "getname")) {
        if (!c->name) {
            ember__srv_reply_str(c, c->proto == 3 ? "_\r\n" : "$-1\r\n");
        } else {
            srv_buf b = {0};
            ember__sbuf_bulk(&b, c->name, strlen(c->name));
            ember__srv_reply_raw(c, b.p, b.len);
            free(b.p);
        }
    } else if (argc == 3 && ember__srv_name_is(c, 1, "setname")) {
        for (size_t k = 0; k < c->argvlen[2]; k++)
            if (c->argv[2][k] < '!' || c->argv[2][k] > '~') {
                ember__srv_reply_error(
                    c, "ERR Client names cannot contain spaces, newlines or special "
                       "characters.");
                return;
            }
        free(c->name);
        c->name = c->argvlen[2] ? strndup(c->argv[2], c->argvlen[2]) : NULL;
        ember__srv_reply_str(c, "+OK\r\n");
    } else if (argc == 1) {
        ember__srv_reply_error(c, "ERR wrong number of arguments for 'client' command");
    } else if (ember__srv_name_is(c, 1, "id") || ember__srv_name_is(c, 1, "getname") ||
               ember__srv_name_is(c, 1, "setname")) {
        char msg[96];
        snprintf(msg, sizeof msg, "ERR wrong number of arguments for 'client|%s' command",
                 ember__srv_name_is(c, 1, "id")        ? "id"
                 : ember__srv_name_is(c, 1, "getname") ? "getname"
                                                       : "setname");
        ember__srv_reply_error(c, msg);
    } else {
        static const char *const later[] = {"info",     "list",     "kill",         "setinfo",
                                            "no-evict", "no-touch", "pause",        "unpause",
                                            "reply",    "tracking", "trackinginfo", "caching",
                                            "getredir", "unblock",  "help"};
        for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
            if (ember__srv_name_is(c, 1, later[i])) {
                char msg[96];
                snprintf(msg, sizeof msg, "ERR CLIENT %s is not supported yet by ember-server",
                         later[i]);
                ember__srv_reply_error(c, msg);
                return;
            }
        }
        char msg[200];
        snprintf(msg, sizeof msg, "ERR unknown subcommand '%.*s'. Try CLIENT HELP.",
                 (int)(c->argvlen[1] > 128 ? 128 : c->argvlen[1]), c->argv[1]);
        ember__srv_reply_error(c, msg);
    }
}

/* SELECT index */
static void cmd_select(struct ember_server *s, srv_conn *c, size_t argc)
{
    if (argc != 2) {
        ember__srv_reply_error(c, "ERR wrong number of arguments for 'select' command");
        return;
    }
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

/* Connection commands (answered by the server itself). */
int ember__srv_conn_command(struct ember_server *s, srv_conn *c, size_t argc)
{
    static const char *const refused[] = {"multi",     "exec",    "discard", "watch", "unwatch",
                                          "monitor",   "reset",   "auth",    "sync",  "psync",
                                          "replicaof", "slaveof", "shutdown"};
    if (ember__srv_name_is(c, 0, "hello")) {
        cmd_hello(s, c, argc);
    } else if (ember__srv_name_is(c, 0, "quit")) {
        ember__srv_reply_str(c, "+OK\r\n");
        c->close_after = 1;
    } else if (ember__srv_name_is(c, 0, "select")) {
        cmd_select(s, c, argc);
    } else if (ember__srv_name_is(c, 0, "client")) {
        cmd_client(c, argc);
    } else {
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            if (ember__srv_name_is(c, 0, refused[i])) {
                char msg[96];
                snprintf(msg, sizeof msg, "ERR %s is not supported yet by ember-server",
                         refused[i]);
                for (char *q = msg + 4; *q && *q != ' '; q++)
                    if (*q >= 'a' && *q <= 'z')
                        *q = (char)(*q - 'a' + 'A');
                ember__srv_reply_error(c, msg);
                return 1;
            }
        }
        return 0;
    }
    return 1;
}
