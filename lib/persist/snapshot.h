/*
 * snapshot.h — forkless point-in-time RDB snapshots and loading.
 *
 * A snapshot is serialized by the executor, incrementally, between request
 * batches (ember__snap_step); a writer thread compresses and writes it. One
 * snapshot at a time per store. The correctness argument (why the file is
 * exactly the keyspace at the instant the snapshot started) is the comment at
 * the top of snapshot.c.
 *
 * Threads: ember__persist_* and ember__snap_start/_step/_reap run on the
 * executor (or the only thread, in inline mode); ember__snap_wait and
 * ember__snap_release on any thread; ember__persist_load on the executor.
 */
#ifndef EMBER_SNAPSHOT_H
#define EMBER_SNAPSHOT_H

#include "../command/command.h"
#include "io.h"

typedef struct em_snap em_snap;

/* Flags (the public EMBER_SNAPSHOT_* values). */
enum { EM_SNAP_PLAIN = 1 };

/* Installs the persistence hooks in srv (at open). Returns 0 or -1 (OOM). */
int ember__persist_init(em_server *srv);
/* At close, after the executor stopped: aborts a snapshot in flight (a
 * path-based one leaves no file behind), joins its writer, frees the state. */
void ember__persist_shutdown(em_server *srv);

/* Starts a snapshot into `io` (owned from now on, closed at the end).
 * path_tmp/path_final/dir (may be NULL): when given, the writer closes
 * fd_owned after the sync, renames path_tmp to path_final and syncs dir; on
 * failure it unlinks path_tmp. `bg`: counts as a BGSAVE for INFO.
 * Returns EMBER_OK with *out (a reference the caller releases; NULL if out
 * is NULL), EMBER_EBUSY (a snapshot is in flight), EMBER_ENOMEM. */
int ember__snap_start(em_server *srv, em_io *io, int flags, int level, int fd_owned,
                      const char *path_tmp, const char *path_final, const char *dir, int bg,
                      em_snap **out);
/* Serializes for about budget_us. With may_wait 0 it returns early rather
 * than wait for room in the writer's queue. Returns 1 while serialization
 * has more to do. */
int ember__snap_step(em_server *srv, int64_t budget_us, int may_wait);
/* Serializes the snapshot in flight to the end on this thread (SAVE, saves
 * from the executor itself or in inline mode); the writer may still be
 * busy afterwards: see ember__snap_wait. */
void ember__snap_run_to_end(em_server *srv);
/* Blocks until the file is complete (written, synced, renamed) or failed.
 * Returns EMBER_OK or the error (EMBER_EIO, EMBER_ENOMEM, EMBER_ECLOSED). */
int ember__snap_wait(em_snap *s);
/* Drops a reference from ember__snap_start. */
void ember__snap_release(em_snap *s);
/* Executor: if the snapshot in flight has finished, records its outcome
 * (LASTSAVE, INFO) and lets the next one start. */
void ember__snap_reap(em_server *srv);
/* 1 while a snapshot is in flight (serializing or still being written). */
int ember__snap_busy(const em_server *srv);

/* Opens dir/name's temporary sibling for a path-based save. Returns EMBER_OK
 * with *fd and malloc'd *tmp, *final_path; or EMBER_EIO / EMBER_ENOMEM /
 * EMBER_EINVAL. */
int ember__snap_path_open(const char *dir, const char *name, int *fd, char **tmp,
                          char **final_path);
/* Starts a save to cfg dir/dbfilename (SAVE with bg 0; BGSAVE and the save
 * rules with bg 1). */
int ember__snap_save_config(em_server *srv, int bg);
/* BGSAVE SCHEDULE while one is in flight: start another when it ends. */
void ember__snap_schedule(em_server *srv);
/* Waits for the snapshot in flight (SAVE, on the executor, after
 * ember__snap_run_to_end). */
int ember__snap_wait_current(em_server *srv);

/* Loading, all or nothing (executor): reads a whole snapshot (plain RDB or
 * zstd-framed, detected by its magic) from io (not closed) into empty
 * databases, then swaps them in and frees the old contents in the
 * background; on any failure the databases are as they were. Returns
 * EMBER_OK, EMBER_EBUSY (a snapshot is in flight), EMBER_ECORRUPT,
 * EMBER_EIO, EMBER_ENOMEM; *msg (malloc'd; NULL on success or OOM) says
 * what went wrong and at which byte offset. */
int ember__persist_load(em_server *srv, em_io *io, char **msg);

#endif
