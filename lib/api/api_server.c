/*
 * api_server.c — the public entry points of the RESP listener (lib/server)
 * and its configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../server/server.h"
#include "api.h"

#define EM_SRVCFG_MAGIC 0x454d5343u /* "EMSC" */

struct ember_server_config {
    uint32_t magic;
    char bind[64];
    int port;
    int io_threads;
    char *requirepass; /* NULL: keep the database's */
    char maxclients[16];
    ember_shutdown_fn shutdown;
    void *shutdown_ctx;
};

EMBER_API int ember_server_config_new(ember_server_config **out)
{
    if (!out)
        return EMBER_EINVAL;
    ember_server_config *c = calloc(1, sizeof *c);
    if (!c)
        return EMBER_ENOMEM;
    c->magic = EM_SRVCFG_MAGIC;
    strcpy(c->bind, "127.0.0.1");
    c->port = 6379;
    c->io_threads = 1;
    *out = c;
    return EMBER_OK;
}

EMBER_API void ember_server_config_free(ember_server_config *cfg)
{
    if (!cfg || cfg->magic != EM_SRVCFG_MAGIC)
        return;
    cfg->magic = 0;
    free(cfg->requirepass);
    free(cfg);
}

static int parse_range(const char *v, long long lo, long long hi, long long *out)
{
    return ember__str_to_ll(v, strlen(v), out) && *out >= lo && *out <= hi;
}

EMBER_API int ember_server_config_set(ember_server_config *cfg, const char *name, const char *value)
{
    if (!cfg || cfg->magic != EM_SRVCFG_MAGIC || !name || !value)
        return EMBER_EINVAL;
    long long v;
    if (!strcmp(name, "bind")) {
        if (!*value || strlen(value) >= sizeof cfg->bind)
            return EMBER_EINVAL;
        strcpy(cfg->bind, value);
    } else if (!strcmp(name, "port")) {
        if (!parse_range(value, 0, 65535, &v))
            return EMBER_EINVAL;
        cfg->port = (int)v;
    } else if (!strcmp(name, "io-threads")) {
        if (!parse_range(value, 1, 128, &v))
            return EMBER_EINVAL;
        cfg->io_threads = (int)v;
    } else if (!strcmp(name, "maxclients")) {
        if (!parse_range(value, 1, UINT32_MAX, &v))
            return EMBER_EINVAL;
        snprintf(cfg->maxclients, sizeof cfg->maxclients, "%lld", v);
    } else if (!strcmp(name, "requirepass")) {
        if (strlen(value) >= sizeof(((em_settings *)0)->requirepass))
            return EMBER_EINVAL;
        char *p = strdup(value);
        if (!p)
            return EMBER_ENOMEM;
        free(cfg->requirepass);
        cfg->requirepass = p;
    } else {
        return EMBER_EINVAL;
    }
    return EMBER_OK;
}

EMBER_API int ember_server_config_set_shutdown_hook(ember_server_config *cfg, ember_shutdown_fn fn,
                                                    void *ctx)
{
    if (!cfg || cfg->magic != EM_SRVCFG_MAGIC)
        return EMBER_EINVAL;
    cfg->shutdown = fn;
    cfg->shutdown_ctx = ctx;
    return EMBER_OK;
}

/* Applies a database setting through CONFIG SET, on the executor. */
static int config_set_db(ember_db *db, const char *name, const char *value)
{
    const char *argv[] = {"CONFIG", "SET", name, value};
    ember_reply *r = NULL;
    int rc = ember_command(db, 4, argv, NULL, &r);
    if (rc == EMBER_OK && ember_reply_type(r) == EMBER_REPLY_ERROR)
        rc = EMBER_EINVAL;
    ember_reply_free(r);
    return rc;
}

/* INFO server's tcp_port: the port of the server started last (a closure:
 * the executor owns em_server). */
static int set_tcp_port(ember_db *db, void *ud)
{
    db->box->core.srv.tcp_port = *(const int *)ud;
    return EMBER_OK;
}

EMBER_API int ember_server_start_config(ember_db *db, const ember_server_config *cfg,
                                        ember_server **out)
{
    if (!em_db_ok(db) || !out || (cfg && cfg->magic != EM_SRVCFG_MAGIC))
        return EMBER_EINVAL;
    em_core *c = &db->box->core;
    /* Inline mode runs commands on the calling thread: the I/O thread would
     * be a second caller, which inline mode does not allow. */
    if (c->mode != EMBER_MODE_EXECUTOR)
        return EMBER_EINVAL;
    if (atomic_load(&c->closing))
        return EMBER_ECLOSED;
    if (ember__core_on_executor(c))
        return EMBER_EMISUSE;
    ember__registry_init(); /* the I/O thread looks commands up */
    em_srv_opts o = {0};
    o.io_threads = 1;
    const char *bind = "127.0.0.1";
    int port = 6379;
    if (cfg) {
        int rc = EMBER_OK;
        if (cfg->requirepass)
            rc = config_set_db(db, "requirepass", cfg->requirepass);
        if (rc == EMBER_OK && cfg->maxclients[0])
            rc = config_set_db(db, "maxclients", cfg->maxclients);
        if (rc != EMBER_OK)
            return rc;
        bind = cfg->bind;
        port = cfg->port;
        o.io_threads = cfg->io_threads;
        o.shutdown = cfg->shutdown;
        o.shutdown_ctx = cfg->shutdown_ctx;
    }
    int rc = ember__server_start_opts(c, bind, port, &o, out);
    if (rc == EMBER_OK) {
        int bound = ember__server_port(*out);
        ember_run(db, set_tcp_port, &bound);
    }
    return rc;
}

EMBER_API int ember_server_start(ember_db *db, const char *bind, int port, uint32_t flags,
                                 ember_server **out)
{
    if (!em_db_ok(db) || !out || flags != 0 || port < 0 || port > 65535)
        return EMBER_EINVAL;
    ember_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.magic = EM_SRVCFG_MAGIC;
    if (bind && strlen(bind) >= sizeof cfg.bind)
        return EMBER_EINVAL;
    strcpy(cfg.bind, bind ? bind : "127.0.0.1");
    cfg.port = port;
    cfg.io_threads = 1;
    return ember_server_start_config(db, &cfg, out);
}

EMBER_API int ember_server_port(const ember_server *srv)
{
    return srv ? ember__server_port(srv) : -1;
}

EMBER_API void ember_server_stop(ember_server *srv)
{
    if (srv)
        ember__server_stop(srv);
}
