/*
 * server.h — the RESP listener (lib/server): an epoll I/O thread that parses
 * requests, hands each command to the executor as an async request, and
 * encodes the replies as RESP2 or RESP3. The public entry points are in
 * lib/api/api_server.c.
 */
#ifndef EMBER_SERVER_H
#define EMBER_SERVER_H

#include <stdint.h>

#include "../exec/exec.h"

struct ember_server;

/* What the application gives a server besides its address (see
 * ember_server_config in ember.h). */
typedef struct em_srv_opts {
    int (*shutdown)(void *ctx, uint32_t flags); /* SHUTDOWN; NULL: refused */
    void *shutdown_ctx;
    int io_threads;
} em_srv_opts;

/* Starts listening on bind:port (bind NULL = 127.0.0.1, port 0 = any free
 * port) and starts the I/O thread. Returns EMBER_OK, EMBER_EINVAL (bad
 * address), EMBER_EIO (socket/bind/listen/thread failed; errno kept),
 * EMBER_ENOMEM. */
int ember__server_start(em_core *core, const char *bind, int port, struct ember_server **out);
/* As ember__server_start, with io_threads (1..128) threads doing the
 * socket reads and sends (the loop thread is one of them); EMBER_EINVAL
 * outside that range. */
int ember__server_start_ex(em_core *core, const char *bind, int port, int io_threads,
                           struct ember_server **out);
/* As ember__server_start_ex, with the application's options (io_threads
 * from opts; opts NULL: one thread, no hooks). */
int ember__server_start_opts(em_core *core, const char *bind, int port, const em_srv_opts *opts,
                             struct ember_server **out);
/* The bound TCP port. */
int ember__server_port(const struct ember_server *s);
/* Stops the I/O thread and closes every connection. Memory still referenced
 * by commands in flight (a blocked BLPOP) is freed by their completion. */
void ember__server_stop(struct ember_server *s);

#endif
