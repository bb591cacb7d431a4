/*
 * api_aof.c — the append log's public functions: attach, detach, LSNs and
 * waiting, replay.
 *
 * The attached log hangs off the box as an em_aof_ref, guarded by one
 * process-wide mutex (attach, detach and wait are rare next to commands);
 * waiters hold a reference, so a detach never frees a log someone waits on.
 * Installing and removing the hooks runs on the executor (ember_run-style
 * requests), so commands see the log appear or go between two batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../persist/aof.h"
#include "../persist/snapshot.h"
#include "api.h"

struct em_aof_ref {
    em_aof *a;
    int refs;      /* the box's, plus one per waiter or rewriter (under aof_mu) */
    int rewriting; /* a rewrite is in progress: no second one, no detach */
    char *dir;     /* ember_aof_open_path's directory and file name, else NULL */
    char *name;
};

static pthread_mutex_t aof_mu = PTHREAD_MUTEX_INITIALIZER;

static int policy_ok(int p)
{
    return p == EMBER_AOF_CONFIG || p == EMBER_AOF_ALWAYS || p == EMBER_AOF_EVERYSEC ||
           p == EMBER_AOF_NO;
}

static const char *bgrewriteaof_hook(em_server *srv);

/* Executor: the log takes the configured policy unless it has one, starts
 * logging, and BGREWRITEAOF can rewrite it. */
static void install_log(em_aof *a, em_server *srv)
{
    if (ember__aof_policy(a) < 0)
        ember__aof_set_policy(a, (int)srv->cfg.appendfsync);
    ember__aof_install(a, srv);
    srv->aof_rewrite_bg = bgrewriteaof_hook;
}

static int install_fn(ember_db *db, void *ud)
{
    em_server *srv = &db->box->core.srv;
    if (srv->log)
        return EMBER_EBUSY;
    install_log(ud, srv);
    return EMBER_OK;
}

static int uninstall_fn(ember_db *db, void *ud)
{
    db->box->core.srv.aof_rewrite_bg = NULL;
    ember__aof_uninstall(ud, &db->box->core.srv);
    return EMBER_OK;
}

static int errno_status(int err)
{
    return err == -ENOMEM ? EMBER_ENOMEM : err ? EMBER_EIO : EMBER_OK;
}

static int attach_io(ember_db *db, em_io *io, int policy)
{
    if (!io)
        return EMBER_ENOMEM;
    em_box *b = db->box;
    pthread_mutex_lock(&aof_mu);
    if (b->aof) {
        pthread_mutex_unlock(&aof_mu);
        ember__io_close(io);
        return EMBER_EBUSY;
    }
    struct em_aof_ref *ref = calloc(1, sizeof *ref);
    em_aof *a = ref ? ember__aof_new(io, policy) : NULL;
    if (!a) {
        pthread_mutex_unlock(&aof_mu);
        free(ref);
        ember__io_close(io);
        return EMBER_ENOMEM;
    }
    int rc = ember__exec_run(&b->core, db, install_fn, a);
    if (rc != EMBER_OK) {
        pthread_mutex_unlock(&aof_mu);
        ember__aof_free(a);
        free(ref);
        return rc;
    }
    ref->a = a;
    ref->refs = 1;
    b->aof = ref;
    pthread_mutex_unlock(&aof_mu);
    return EMBER_OK;
}

EMBER_API int ember_aof_attach(ember_db *db, int fd, int policy)
{
    if (!em_db_ok(db) || fd < 0 || !policy_ok(policy))
        return EMBER_EINVAL;
    return attach_io(db, ember__io_fd(fd), policy);
}

EMBER_API int ember_aof_attach_writer(ember_db *db, ember_write_fn write_fn, ember_sync_fn sync_fn,
                                      void *ctx, int policy)
{
    if (!em_db_ok(db) || !write_fn || !policy_ok(policy))
        return EMBER_EINVAL;
    return attach_io(db, ember__io_user(write_fn, sync_fn, NULL, ctx), policy);
}

/* Drops a reference (aof_mu held); the last one frees the log. */
static void ref_drop(struct em_aof_ref *ref)
{
    if (--ref->refs > 0)
        return;
    ember__aof_destroy(ref->a);
    free(ref->dir);
    free(ref->name);
    free(ref);
}

int ember__aof_detach_all(ember_db *db)
{
    em_box *b = db->box;
    pthread_mutex_lock(&aof_mu);
    struct em_aof_ref *ref = b->aof;
    if (!ref || ref->rewriting) {
        pthread_mutex_unlock(&aof_mu);
        return ref ? EMBER_EBUSY : EMBER_ENOTFOUND;
    }
    int rc = ember__exec_run(&b->core, db, uninstall_fn, ref->a);
    if (rc != EMBER_OK && rc != EMBER_EIO) {
        pthread_mutex_unlock(&aof_mu);
        return rc;
    }
    b->aof = NULL;
    int err = ember__aof_shutdown(ref->a); /* waiters return; the writer is done */
    ref_drop(ref);
    pthread_mutex_unlock(&aof_mu);
    return errno_status(err);
}

EMBER_API int ember_aof_detach(ember_db *db)
{
    if (!em_db_ok(db))
        return EMBER_EINVAL;
    return ember__aof_detach_all(db);
}

EMBER_API int ember_aof_lsn(ember_db *db, uint64_t *lsn)
{
    if (!em_db_ok(db) || !lsn)
        return EMBER_EINVAL;
    pthread_mutex_lock(&aof_mu);
    struct em_aof_ref *ref = db->box->aof;
    if (ref)
        *lsn = ember__aof_lsn(ref->a);
    pthread_mutex_unlock(&aof_mu);
    return ref ? EMBER_OK : EMBER_ENOTFOUND;
}

EMBER_API int ember_aof_wait(ember_db *db, uint64_t lsn)
{
    if (!em_db_ok(db))
        return EMBER_EINVAL;
    pthread_mutex_lock(&aof_mu);
    struct em_aof_ref *ref = db->box->aof;
    if (!ref) {
        pthread_mutex_unlock(&aof_mu);
        return EMBER_ENOTFOUND;
    }
    ref->refs++;
    pthread_mutex_unlock(&aof_mu);
    int err = ember__aof_wait(ref->a, lsn);
    pthread_mutex_lock(&aof_mu);
    ref_drop(ref);
    pthread_mutex_unlock(&aof_mu);
    return errno_status(err);
}

/* ------------------------------------------------------------ rewrite */

typedef struct rewrite_job {
    em_aof *a;
    int fd;
    em_snap *snap;
    int ok;
    /* ember_aof_rewrite_path: the temporary file, renamed over final_path. */
    char *tmp, *final_path;
    const char *dir;
    int handed; /* fd belongs to the log now */
    int placed; /* tmp was renamed over final_path */
} rewrite_job;

static int rewrite_begin_fn(ember_db *db, void *ud)
{
    rewrite_job *j = ud;
    em_server *srv = &db->box->core.srv;
    if (srv->log_ud != j->a)
        return EMBER_ENOTFOUND;
    if (ember__snap_busy(srv))
        return EMBER_EBUSY;
    em_io *io = ember__io_fd(j->fd);
    if (!io)
        return EMBER_ENOMEM;
    int err = ember__aof_rewrite_begin(j->a);
    if (err) {
        ember__io_close(io);
        return err == -EBUSY ? EMBER_EBUSY : EMBER_EIO;
    }
    /* The snapshot's instant is this one: nothing runs in between. */
    int rc = ember__snap_start(srv, io, EM_SNAP_PLAIN, 0, -1, NULL, NULL, NULL, 0, &j->snap);
    if (rc != EMBER_OK)
        ember__aof_rewrite_finish(j->a, NULL, 0, NULL, NULL);
    return rc;
}

/* The path convenience's last step, between the new file's sync and the
 * switch (see ember__io_replace and the comment above ember_aof_rewrite_path). */
static int place_fn(void *ctx, int *placed)
{
    rewrite_job *j = ctx;
    int err = ember__io_replace(j->tmp, j->final_path, j->dir, placed);
    j->placed = *placed;
    return err;
}

static int rewrite_finish_fn(ember_db *db, void *ud)
{
    rewrite_job *j = ud;
    ember__snap_reap(&db->box->core.srv);
    em_io *io = NULL;
    if (j->ok)
        io = j->tmp ? ember__io_fd_owned(j->fd) : ember__io_fd(j->fd);
    if (io && j->tmp)
        j->handed = 1; /* closed with the io, by the log or on failure */
    int err = ember__aof_rewrite_finish(j->a, io, io != NULL, j->tmp ? place_fn : NULL, j);
    return err == 0 ? EMBER_OK : err == -ENOMEM ? EMBER_ENOMEM : EMBER_EIO;
}

/* by_path: the log must come from ember_aof_open_path; the new file is a
 * temporary sibling of it, renamed over it once complete. */
static int rewrite_common(ember_db *db, int fd, int by_path)
{
    em_box *b = db->box;
    em_core *c = &b->core;
    /* On the executor (BGREWRITEAOF) the mutex may be held by a thread
     * that waits for the executor (attach, detach): never wait for it. */
    if (ember__core_on_executor(c)) {
        if (pthread_mutex_trylock(&aof_mu) != 0)
            return EMBER_EBUSY;
    } else {
        pthread_mutex_lock(&aof_mu);
    }
    struct em_aof_ref *ref = b->aof;
    if (!ref || ref->rewriting) {
        pthread_mutex_unlock(&aof_mu);
        return ref ? EMBER_EBUSY : EMBER_ENOTFOUND;
    }
    if (by_path && !ref->name) {
        pthread_mutex_unlock(&aof_mu);
        return EMBER_EINVAL;
    }
    ref->rewriting = 1;
    ref->refs++;
    pthread_mutex_unlock(&aof_mu);
    rewrite_job j;
    memset(&j, 0, sizeof j);
    j.a = ref->a;
    j.fd = fd;
    int rc = EMBER_OK;
    if (by_path) {
        /* ref->dir and ref->name stay while we hold a reference. */
        int err = ember__io_tmp_open(ref->dir, ref->name, &j.fd, &j.tmp, &j.final_path);
        if (err)
            rc = err == -ENOMEM ? EMBER_ENOMEM : EMBER_EIO;
        j.dir = ref->dir;
    }
    if (rc == EMBER_OK)
        rc = ember__exec_run(c, db, rewrite_begin_fn, &j);
    if (rc == EMBER_OK) {
        /* The executor serializes between requests meanwhile (or, inline or
         * from a closure, this thread does it now). */
        if (c->mode == EMBER_MODE_INLINE || ember__core_on_executor(c))
            ember__snap_run_to_end(&c->srv);
        int src = ember__snap_wait(j.snap);
        ember__snap_release(j.snap);
        j.ok = src == EMBER_OK;
        rc = ember__exec_run(c, db, rewrite_finish_fn, &j);
        if (src != EMBER_OK)
            rc = src;
    }
    if (j.tmp) {
        if (!j.handed)
            close(j.fd);
        if (!j.placed)
            unlink(j.tmp);
        free(j.tmp);
        free(j.final_path);
    }
    pthread_mutex_lock(&aof_mu);
    ref->rewriting = 0;
    ref_drop(ref);
    pthread_mutex_unlock(&aof_mu);
    return rc;
}

/* The end of a BGREWRITEAOF rewrite, for INFO persistence: the outcome is
 * published before aof_rewrite_in_progress drops to 0. */
static void bg_rewrite_done(em_server *srv, int rc)
{
    atomic_store(&srv->aof_last_rewrite_ok, rc == EMBER_OK);
    if (rc == EMBER_OK)
        atomic_fetch_add(&srv->aof_rewrites, 1);
    atomic_store(&srv->aof_rewriting, 0);
}

static void *bg_rewrite_main(void *arg)
{
    em_box *b = arg;
    struct ember_db h = {EM_DB_MAGIC, 0, 0, b};
    bg_rewrite_done(&b->core.srv, rewrite_common(&h, -1, 1));
    /* The last touch of the box: ember_db_close waits for this. */
    atomic_fetch_sub(&b->bg_rewrites, 1);
    return NULL;
}

void ember__aof_bg_drain(em_box *b)
{
    struct timespec ms = {0, 1000000};
    while (atomic_load(&b->bg_rewrites) > 0)
        nanosleep(&ms, NULL);
}

/*
 * BGREWRITEAOF (on the executor). Only a log opened by path can be
 * rewritten: a log attached by descriptor names no file to replace. The
 * rewrite is ember_aof_rewrite_path's, run by a thread of its own, so the
 * command replies at once and the executor goes on serving (it serializes
 * the snapshot between batches); ember_db_close waits for the thread. In
 * inline mode there is no executor to hand the work to: the rewrite is done
 * before the reply.
 */
static const char *bgrewriteaof_hook(em_server *srv)
{
    static const char *const running = "ERR Background append only file rewriting already in "
                                       "progress";
    em_core *c = (em_core *)((char *)srv - offsetof(em_core, srv));
    em_box *b = (em_box *)((char *)c - offsetof(em_box, core));
    if (atomic_load(&srv->aof_rewriting))
        return running;
    if (pthread_mutex_trylock(&aof_mu) != 0)
        return running; /* an attach, detach or rewrite holds it */
    int by_path = b->aof && b->aof->name;
    int busy = b->aof && b->aof->rewriting;
    pthread_mutex_unlock(&aof_mu);
    if (busy)
        return running;
    if (!by_path)
        return "ERR the append log was attached by descriptor: rewrite it with "
               "ember_aof_rewrite()";
    if (ember__snap_busy(srv))
        return "ERR Background save already in progress: retry BGREWRITEAOF when it ends";
    atomic_store(&srv->aof_rewriting, 1);
    if (c->mode == EMBER_MODE_INLINE) {
        struct ember_db h = {EM_DB_MAGIC, 0, 0, b};
        int rc = rewrite_common(&h, -1, 1);
        bg_rewrite_done(srv, rc);
        return rc == EMBER_OK ? NULL : "ERR append only file rewrite failed";
    }
    atomic_fetch_add(&b->bg_rewrites, 1);
    pthread_attr_t attr;
    pthread_t t;
    int err = pthread_attr_init(&attr);
    if (!err) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&t, &attr, bg_rewrite_main, b);
        pthread_attr_destroy(&attr);
    }
    if (err) {
        atomic_fetch_sub(&b->bg_rewrites, 1);
        atomic_store(&srv->aof_rewriting, 0);
        return "ERR Can't start the append only file rewrite thread";
    }
    return NULL;
}

EMBER_API int ember_aof_rewrite(ember_db *db, int fd)
{
    if (!em_db_ok(db) || fd < 0)
        return EMBER_EINVAL;
    return rewrite_common(db, fd, 0);
}

/*
 * Crash safety of ember_aof_rewrite_path. The new log is written to
 * dir/<name>.tmp-<pid>-<n> while the old one, under name, keeps getting
 * every write (and its syncs): until the switch, every acknowledged write
 * is in the old file. Once the new file holds the snapshot and every group
 * logged since it began and is synced, the executor — with no batch
 * committed in between, so the two files hold the same writes — renames it
 * over name and syncs the directory (ember__io_replace; io.c says why the
 * name then holds one whole file at every instant), and only then makes it
 * the log. So a crash before the directory sync finds the old file or the
 * new one under name, both complete and holding every acknowledged write;
 * after it, the new one, which every later write goes to. If the rename
 * fails nothing changed (the old log goes on; the temporary file is
 * removed). If the directory sync fails after the rename, the name refers
 * to the new file but may revert to the old one after a crash: neither may
 * receive writes that are acknowledged, so the log switches to the new file
 * and fails (writes are refused until it is detached).
 */
EMBER_API int ember_aof_rewrite_path(ember_db *db)
{
    if (!em_db_ok(db))
        return EMBER_EINVAL;
    return rewrite_common(db, -1, 1);
}

/* ------------------------------------------------------------ replay */

typedef struct load_job {
    const uint8_t *data;
    size_t len;
    int flags;
    em_aof_report rep;
    int rc;
} load_job;

static int load_fn(ember_db *db, void *ud)
{
    load_job *j = ud;
    em_server *srv = &db->box->core.srv;
    if (srv->log || ember__snap_busy(srv)) {
        snprintf(j->rep.msg, sizeof j->rep.msg, "%s",
                 srv->log ? "append log: a log is attached (detach it first)"
                          : "append log: a snapshot is in progress");
        return EMBER_EBUSY;
    }
    return ember__aof_load(srv, j->data, j->len, j->flags, &j->rep) == 0 ? EMBER_OK : -1;
}

static char *dup_msg(const char *m)
{
    size_t n = strlen(m);
    char *s = malloc(n + 1);
    if (s)
        memcpy(s, m, n + 1);
    return s;
}

/* Reads io to its end into *buf (malloc'd; *len bytes) and closes io. */
static int read_all(em_io *io, uint8_t **out, size_t *outlen, char **error)
{
    /* The whole log is read first: replay then runs on the executor without
     * waiting on I/O, and a read error changes nothing. */
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = EMBER_OK;
    for (;;) {
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 1 << 20;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                rc = EMBER_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        int64_t r = ember__io_read(io, buf + len, cap - len);
        if (r < 0) {
            rc = EMBER_EIO;
            if (error) {
                char m[160];
                snprintf(m, sizeof m, "append log: read error: %s (at byte offset %zu)",
                         strerror((int)-r), len);
                *error = dup_msg(m);
            }
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    ember__io_close(io);
    if (rc != EMBER_OK) {
        free(buf);
        buf = NULL;
        len = 0;
    }
    *out = buf;
    *outlen = len;
    return rc;
}

static int load_io(ember_db *db, em_io *io, uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!io)
        return EMBER_ENOMEM;
    uint8_t *buf;
    size_t len;
    int rc = read_all(io, &buf, &len, error);
    if (rc != EMBER_OK)
        return rc;
    load_job j;
    memset(&j, 0, sizeof j);
    j.data = buf;
    j.len = len;
    j.flags = (flags & EMBER_AOF_LOAD_STRICT) ? EM_AOF_LOAD_STRICT : 0;
    rc = ember__exec_run(&db->box->core, db, load_fn, &j);
    free(buf);
    if (rc == -1)
        rc = strstr(j.rep.msg, "out of memory") ? EMBER_ENOMEM : EMBER_ECORRUPT;
    if (error && (rc != EMBER_OK || j.rep.stopped) && j.rep.msg[0])
        *error = dup_msg(j.rep.msg);
    return rc;
}

EMBER_API int ember_aof_load(ember_db *db, int fd, uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!em_db_ok(db) || fd < 0 || (flags & ~(uint32_t)EMBER_AOF_LOAD_STRICT))
        return EMBER_EINVAL;
    return load_io(db, ember__io_fd(fd), flags, error);
}

EMBER_API int ember_aof_load_reader(ember_db *db, ember_read_fn read_fn, void *ctx, uint32_t flags,
                                    char **error)
{
    if (error)
        *error = NULL;
    if (!em_db_ok(db) || !read_fn || (flags & ~(uint32_t)EMBER_AOF_LOAD_STRICT))
        return EMBER_EINVAL;
    return load_io(db, ember__io_user(NULL, NULL, read_fn, ctx), flags, error);
}

/* ------------------------------------------------------------ by path */

typedef struct open_job {
    const char *dir, *name, *path;
    int fd, policy, flags;
    const uint8_t *data;
    size_t len;
    em_aof *a;
    em_aof_report rep;
    int rewritten; /* the file was replaced by a snapshot of what loaded */
    char msg[200]; /* an error of ours (not the loader's) */
} open_job;

/*
 * Executor: replace the file by a snapshot of what is loaded now (an RDB
 * file is a log with a preamble and no records yet), through the path
 * convenience's temporary file, sync, rename and directory sync, then
 * reopen it for appending. Needed when the loaded file does not end with a
 * whole ember group: records appended after a damaged tail, or after a
 * foreign log's records, would not load again.
 */
static int replace_by_snapshot(em_server *srv, open_job *j)
{
    int fd;
    char *tmp, *fin;
    int err = ember__io_tmp_open(j->dir, j->name, &fd, &tmp, &fin);
    if (err)
        return err == -ENOMEM ? EMBER_ENOMEM : EMBER_EIO;
    em_io *io = ember__io_fd(fd);
    em_snap *snap = NULL;
    int rc = io ? ember__snap_start(srv, io, EM_SNAP_PLAIN, 0, fd, tmp, fin, j->dir, 0, &snap)
                : EMBER_ENOMEM;
    if (!io || rc != EMBER_OK) {
        close(fd);
        unlink(tmp);
    } else {
        ember__snap_run_to_end(srv);
        rc = ember__snap_wait(snap); /* closed, renamed and the directory synced */
        ember__snap_reap(srv);
        ember__snap_release(snap);
    }
    free(tmp);
    free(fin);
    if (rc != EMBER_OK)
        return rc;
    int nfd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (nfd < 0)
        return EMBER_EIO;
    close(j->fd);
    j->fd = nfd;
    j->rewritten = 1;
    return EMBER_OK;
}

static int open_fn(ember_db *db, void *ud)
{
    open_job *j = ud;
    em_server *srv = &db->box->core.srv;
    if (srv->log || ember__snap_busy(srv)) {
        snprintf(j->msg, sizeof j->msg, "%s",
                 srv->log ? "append log: a log is attached (detach it first)"
                          : "append log: a snapshot is in progress");
        return EMBER_EBUSY;
    }
    if (j->len) {
        if (ember__aof_load(srv, j->data, j->len, j->flags, &j->rep) != 0)
            return strstr(j->rep.msg, "out of memory") ? EMBER_ENOMEM : EMBER_ECORRUPT;
        if (j->rep.stopped || j->rep.sealed != j->len) {
            int rc = replace_by_snapshot(srv, j);
            if (rc != EMBER_OK) {
                snprintf(j->msg, sizeof j->msg,
                         "append log: %s loaded, but replacing it by a snapshot failed (%s)",
                         j->path, ember__status_name(rc));
                return rc;
            }
        }
    }
    em_io *io = ember__io_fd_owned(j->fd);
    j->a = io ? ember__aof_new(io, j->policy) : NULL;
    if (!j->a) {
        if (io) {
            j->fd = -1; /* closed with io */
            ember__io_close(io);
        }
        return EMBER_ENOMEM;
    }
    j->fd = -1; /* the log's now */
    install_log(j->a, srv);
    return EMBER_OK;
}

static char *dup_str(const char *s)
{
    return s ? dup_msg(s) : NULL;
}

EMBER_API int ember_aof_open_path(ember_db *db, const char *dir, const char *name, int policy,
                                  uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!em_db_ok(db) || !ember__io_name_ok(name) || !policy_ok(policy) ||
        (flags & ~(uint32_t)EMBER_AOF_LOAD_STRICT))
        return EMBER_EINVAL;
    if (!dir || !*dir)
        dir = ".";
    em_box *b = db->box;
    open_job j;
    memset(&j, 0, sizeof j);
    j.dir = dir;
    j.name = name;
    j.policy = policy;
    j.flags = (flags & EMBER_AOF_LOAD_STRICT) ? EM_AOF_LOAD_STRICT : 0;
    j.fd = -1;
    char *path = ember__io_path(dir, name);
    struct em_aof_ref *ref = calloc(1, sizeof *ref);
    if (ref) {
        ref->dir = dup_str(dir);
        ref->name = dup_str(name);
    }
    if (!path || !ref || !ref->dir || !ref->name) {
        free(path);
        if (ref) {
            free(ref->dir);
            free(ref->name);
        }
        free(ref);
        return EMBER_ENOMEM;
    }
    j.path = path;
    uint8_t *data = NULL;
    int created = 0, rc = EMBER_OK;
    pthread_mutex_lock(&aof_mu);
    if (b->aof) {
        rc = EMBER_EBUSY;
        snprintf(j.msg, sizeof j.msg, "append log: a log is attached (detach it first)");
        goto out;
    }
    j.fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (j.fd < 0 && errno == ENOENT) {
        /* A new log: its directory entry must be durable before any write
         * is acknowledged (fdatasync of the file does not cover it). */
        j.fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        created = j.fd >= 0;
        if (created && (fsync(j.fd) != 0 || ember__io_sync_dir(dir) != 0)) {
            snprintf(j.msg, sizeof j.msg, "append log: cannot sync new %s: %s", path,
                     strerror(errno));
            rc = EMBER_EIO;
            goto out;
        }
    }
    if (j.fd < 0) {
        int e = errno;
        if (e == ENOENT)
            snprintf(j.msg, sizeof j.msg, "append log: cannot create %s: no such directory %s",
                     path, dir);
        else
            snprintf(j.msg, sizeof j.msg, "append log: cannot open %s: %s", path, strerror(e));
        rc = e == ENOENT ? EMBER_ENOTFOUND : EMBER_EIO;
        goto out;
    }
    if (!created) {
        em_io *rio = ember__io_fd(j.fd);
        rc = rio ? read_all(rio, &data, &j.len, error) : EMBER_ENOMEM;
        if (rc != EMBER_OK)
            goto out;
        j.data = data;
    }
    rc = ember__exec_run(&b->core, db, open_fn, &j);
    if (rc == EMBER_OK) {
        ref->a = j.a;
        ref->refs = 1;
        b->aof = ref;
        ref = NULL;
    }
out:
    pthread_mutex_unlock(&aof_mu);
    if (j.fd >= 0)
        close(j.fd);
    if (rc != EMBER_OK && created)
        unlink(path); /* empty: ours */
    if (ref) {
        free(ref->dir);
        free(ref->name);
        free(ref);
    }
    free(data);
    free(path);
    if (error && !*error) {
        const char *m = j.msg[0] ? j.msg : (rc != EMBER_OK || j.rep.stopped) ? j.rep.msg : "";
        char full[320];
        if (rc == EMBER_OK && j.rep.stopped && j.rewritten) {
            snprintf(full, sizeof full, "%s; the log was replaced by what loaded", m);
            m = full;
        }
        if (m[0])
            *error = dup_msg(m);
    }
    return rc;
}
