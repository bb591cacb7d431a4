/*
 * aof.h — the append log: RESP records of every write, group commit, fsync
 * policies, and replay.
 *
 * Records are built on the executor while a batch of requests runs (the
 * em_log_ops hooks of lib/command), and written once per batch by the
 * commit hook, right before the executor releases the batch's callers
 * (group commit); under `always` the write is followed by one sync, so no
 * caller sees a reply whose write is not durable. Each commit ends with an
 * annotation line `#EM:<crc64 hex>:<length>` covering the bytes since the
 * previous one: Redis's loader and redis-check-aof skip `#` lines, and
 * ember's loader uses it to tell a complete group from a torn one.
 *
 * Threads: install/uninstall and every hook run on the executor; the
 * background sync thread (everysec, and syncs asked for by waiters) shares
 * only the em_io (serialized by io_mu) and the LSN counters (mu). lsn/wait
 * may be called from any thread while the log is alive.
 */
#ifndef EMBER_AOF_H
#define EMBER_AOF_H

#include <stddef.h>
#include <stdint.h>

#include "../command/command.h"
#include "io.h"

enum { EM_AOF_ALWAYS = 0, EM_AOF_EVERYSEC = 1, EM_AOF_NO = 2 };

typedef struct em_aof em_aof;

/* A log writing to io (owned: closed when the log is freed) with a policy.
 * Starts the background sync thread. NULL on OOM or thread failure. */
em_aof *ember__aof_new(em_io *io, int policy);
/* The policy given at creation (< 0: not chosen yet), and setting it
 * before install. From install on the log follows srv->cfg.appendfsync
 * (install sets it to the log's policy). */
int ember__aof_policy(const em_aof *a);
void ember__aof_set_policy(em_aof *a, int policy);
/* Executor: starts logging srv's writes (srv must have no log). */
void ember__aof_install(em_aof *a, em_server *srv);
/* Executor: commits what is pending and stops logging. */
void ember__aof_uninstall(em_aof *a, em_server *srv);
/* Any thread, after uninstall: a last sync unless the log failed, stops the
 * sync thread, wakes every waiter and closes the em_io (nothing calls the
 * writer again). Returns 0 or the log's failure (negative errno). */
int ember__aof_shutdown(em_aof *a);
/* Frees the log once nobody waits on it any more (after shutdown). */
void ember__aof_destroy(em_aof *a);
/* shutdown + destroy. */
int ember__aof_free(em_aof *a);
/* Bytes written to the log so far (its log sequence number). Any thread. */
uint64_t ember__aof_lsn(em_aof *a);
/* Waits until every byte up to lsn is synced (asking the background thread
 * for a sync now). Returns 0, or the log's failure as a negative errno. */
int ember__aof_wait(em_aof *a, uint64_t lsn);
/* The log's failure (negative errno), 0 while healthy. Any thread. */
int ember__aof_error(em_aof *a);

/* Rewrite (executor): begin right where the new file's snapshot starts;
 * finish once the snapshot is in the new file (ok 0: it failed): appends
 * the groups logged since begin to io, syncs it and makes it the log (io
 * owned; closed on failure, when the old log goes on). 0 or -errno.
 * place (may be NULL) runs once io is complete and synced, right before
 * the switch, with nothing logged in between (the path convenience renames
 * the file into place there). It returns 0, or -errno with *placed 0 (the
 * switch does not happen: the old log goes on) or 1 (the new file must
 * become the log anyway, but the log fails: writes are refused). */
typedef int (*em_aof_place_fn)(void *ctx, int *placed);
int ember__aof_rewrite_begin(em_aof *a);
int ember__aof_rewrite_finish(em_aof *a, em_io *io, int ok, em_aof_place_fn place, void *ctx);

/* ------------------------------------------------------------------ replay */

enum { EM_AOF_LOAD_STRICT = 1 };

typedef struct em_aof_report {
    uint64_t offset;   /* where loading stopped (== file length if all loaded) */
    uint64_t commands; /* commands applied */
    uint64_t sealed;   /* end of the last checked "#EM:" group applied (or of the RDB
                          preamble): if < the file's length, the file does not end
                          with a whole ember group (a foreign or damaged tail) */
    int stopped;       /* 1 if something was left unloaded (reason in msg) */
    char msg[256];
} em_aof_report;

/* Replays a whole log image (data, len) into srv's store, on the executor,
 * all or nothing: the databases are moved aside first and put back when the
 * load fails (in strict mode any stop is a failure). srv must have no log
 * attached. Returns 0, or -1 (report filled; the store is unchanged). */
int ember__aof_load(em_server *srv, const uint8_t *data, size_t len, int flags, em_aof_report *rep);

#endif
