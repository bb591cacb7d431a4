/*
 * api_server.c — the public entry points of the RESP listener (lib/server).
 */
#include "../server/server.h"
#include "api.h"

EMBER_API int ember_server_start(ember_db *db, const char *bind, int port, uint32_t flags,
                                 ember_server **out)
{
    if (!em_db_ok(db) || !out || flags != 0 || port < 0 || port > 65535)
        return EMBER_EINVAL;
    em_core *c = &db->box->core;
    /* Inline mode runs commands on the calling thread: the I/O thread would
     * be a second caller, which inline mode does not allow. */
    if (c->mode != EMBER_MODE_EXECUTOR)
        return EMBER_EINVAL;
    if (atomic_load(&c->closing))
        return EMBER_ECLOSED;
    ember__registry_init(); /* the I/O thread looks commands up */
    return ember__server_start(c, bind, port, out);
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
