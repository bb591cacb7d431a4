/*
 * redis_proc.h — runs a private redis-server as a child process for tests.
 *
 * The server binds 127.0.0.1 on a free port, saves nothing (--save '',
 * --appendonly no) and works in a private temporary directory. It is stopped
 * by tc_redis_stop(), and in any case when the test process exits (atexit) or
 * dies (the child gets SIGTERM through PR_SET_PDEATHSIG).
 */
#ifndef TC_REDIS_PROC_H
#define TC_REDIS_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct tc_redis {
    pid_t pid;     /* 0 when not running */
    int port;      /* the TCP port on 127.0.0.1 */
    char dir[256]; /* private working directory (log file inside) */
} tc_redis;

/* The redis-server executable: $EMBER_REDIS_SERVER if set, else the first
 * "redis-server" found in $PATH (and a few usual places). NULL if none. */
const char *tc_redis_find_server(void);

/* Starts a server and waits (up to ~10 s) until it answers PING.
 * extra_args: NULL-terminated list of additional command-line arguments
 * (e.g. {"--databases", "16", NULL}), or NULL.
 * Returns 0, or -1 with a readable reason in err (never skips silently:
 * a missing redis-server is an error). */
int tc_redis_start(tc_redis *r, const char *const *extra_args, char *err, size_t errcap);

/* Stops the server (SIGTERM, waitpid; SIGKILL after a few seconds) and
 * removes its directory. Safe to call twice or on a never-started struct. */
void tc_redis_stop(tc_redis *r);

#endif
