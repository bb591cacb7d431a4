/*
 * api_persist.c — the snapshot functions of ember.h (Persistence). The
 * machinery is lib/persist/snapshot.c; this file starts a snapshot on the
 * executor, waits for its writer, and runs loads as executor closures.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../persist/snapshot.h"
#include "api.h"

#define SAVE_FLAGS (EMBER_SNAPSHOT_PLAIN | EMBER_SNAPSHOT_LEVEL(255))

typedef struct save_args {
    em_io *io;
    uint32_t flags;
    int fd_owned;
    const char *tmp, *final_path, *dir;
    int started; /* the io now belongs to the snapshot */
    em_snap *snap;
} save_args;

static int start_fn(ember_db *db, void *ud)
{
    save_args *a = ud;
    a->started = 1;
    return ember__snap_start(&db->box->core.srv, a->io, (a->flags & EMBER_SNAPSHOT_PLAIN) ? 1 : 0,
                             (int)((a->flags >> 8) & 0xFF), a->fd_owned, a->tmp, a->final_path,
                             a->dir, 0, &a->snap);
}

static int reap_fn(ember_db *db, void *ud)
{
    ember__snap_reap(&db->box->core.srv);
    return EMBER_OK;
}

static int save_common(ember_db *db, save_args *a)
{
    em_core *c = &db->box->core;
    int rc = ember__exec_run(c, db, start_fn, a);
    if (!a->started) {
        ember__io_close(a->io);
        return rc;
    }
    if (rc != EMBER_OK)
        return rc;
    /* On the executor (a closure, inline mode) nobody else would serialize:
     * do it here; otherwise the executor does it between requests. */
    if (c->mode == EMBER_MODE_INLINE || ember__core_on_executor(c))
        ember__snap_run_to_end(&c->srv);
    rc = ember__snap_wait(a->snap);
    /* Record the outcome (LASTSAVE, INFO) before returning. */
    ember__exec_run(c, db, reap_fn, NULL);
    ember__snap_release(a->snap);
    return rc;
}

EMBER_API int ember_snapshot_save(ember_db *db, int fd, uint32_t flags)
{
    if (!em_db_ok(db) || fd < 0 || (flags & ~(uint32_t)SAVE_FLAGS))
        return EMBER_EINVAL;
    save_args a = {0};
    a.io = ember__io_fd(fd);
    if (!a.io)
        return EMBER_ENOMEM;
    a.flags = flags;
    a.fd_owned = -1;
    return save_common(db, &a);
}

EMBER_API int ember_snapshot_save_writer(ember_db *db, ember_write_fn write_fn,
                                         ember_sync_fn sync_fn, void *ctx, uint32_t flags)
{
    if (!em_db_ok(db) || !write_fn || (flags & ~(uint32_t)SAVE_FLAGS))
        return EMBER_EINVAL;
    save_args a = {0};
    a.io = ember__io_user(write_fn, sync_fn, NULL, ctx);
    if (!a.io)
        return EMBER_ENOMEM;
    a.flags = flags;
    a.fd_owned = -1;
    return save_common(db, &a);
}

EMBER_API int ember_snapshot_save_path(ember_db *db, const char *dir, const char *name,
                                       uint32_t flags)
{
    if (!em_db_ok(db) || !name || (flags & ~(uint32_t)SAVE_FLAGS))
        return EMBER_EINVAL;
    if (!dir || !*dir)
        dir = ".";
    int fd;
    char *tmp, *fin;
    int rc = ember__snap_path_open(dir, name, &fd, &tmp, &fin);
    if (rc)
        return rc;
    save_args a = {0};
    a.io = ember__io_fd(fd);
    if (!a.io) {
        close(fd);
        unlink(tmp);
        free(tmp);
        free(fin);
        return EMBER_ENOMEM;
    }
    a.flags = flags;
    a.fd_owned = fd;
    a.tmp = tmp;
    a.final_path = fin;
    a.dir = dir;
    rc = save_common(db, &a);
    if (!a.started || a.snap == NULL) {
        /* Never handed over (closed, busy, OOM): the file is still ours. */
        close(fd);
        unlink(tmp);
    }
    free(tmp);
    free(fin);
    return rc;
}

typedef struct load_args {
    em_io *io;
    char *msg;
} load_args;

static int load_fn(ember_db *db, void *ud)
{
    load_args *a = ud;
    return ember__persist_load(&db->box->core.srv, a->io, &a->msg);
}

static int load_common(ember_db *db, em_io *io, char **error)
{
    load_args a = {io, NULL};
    int rc = ember__exec_run(&db->box->core, db, load_fn, &a);
    ember__io_close(io);
    if (error)
        *error = a.msg;
    else
        free(a.msg);
    return rc;
}

EMBER_API int ember_snapshot_load(ember_db *db, int fd, uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!em_db_ok(db) || fd < 0 || flags)
        return EMBER_EINVAL;
    em_io *io = ember__io_fd(fd);
    if (!io)
        return EMBER_ENOMEM;
    return load_common(db, io, error);
}

EMBER_API int ember_snapshot_load_reader(ember_db *db, ember_read_fn read_fn, void *ctx,
                                         uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!em_db_ok(db) || !read_fn || flags)
        return EMBER_EINVAL;
    em_io *io = ember__io_user(NULL, NULL, read_fn, ctx);
    if (!io)
        return EMBER_ENOMEM;
    return load_common(db, io, error);
}

EMBER_API int ember_snapshot_load_path(ember_db *db, const char *dir, const char *name,
                                       uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!em_db_ok(db) || !name || !*name || flags)
        return EMBER_EINVAL;
    if (!dir || !*dir)
        dir = ".";
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path)
        return EMBER_ENOMEM;
    snprintf(path, n, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = errno;
    free(path);
    if (fd < 0)
        return err == ENOENT ? EMBER_ENOTFOUND : EMBER_EIO;
    em_io *io = ember__io_fd(fd);
    int rc = io ? load_common(db, io, error) : EMBER_ENOMEM;
    close(fd);
    return rc;
}
