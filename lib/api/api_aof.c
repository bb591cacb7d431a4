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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../persist/aof.h"
#include "../persist/snapshot.h"
#include "api.h"

struct em_aof_ref {
    em_aof *a;
    int refs;      /* the box's, plus one per waiter or rewriter (under aof_mu) */
    int rewriting; /* a rewrite is in progress: no second one, no detach */
};

static pthread_mutex_t aof_mu = PTHREAD_MUTEX_INITIALIZER;

static int policy_ok(int p)
{
    return p == EMBER_AOF_CONFIG || p == EMBER_AOF_ALWAYS || p == EMBER_AOF_EVERYSEC ||
           p == EMBER_AOF_NO;
}

static int install_fn(ember_db *db, void *ud)
{
    em_server *srv = &db->box->core.srv;
    if (srv->log)
        return EMBER_EBUSY;
    em_aof *a = ud;
    if (ember__aof_policy(a) < 0)
        ember__aof_set_policy(a, (int)srv->cfg.appendfsync);
    ember__aof_install(a, srv);
    return EMBER_OK;
}

static int uninstall_fn(ember_db *db, void *ud)
{
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
        ember__aof_rewrite_finish(j->a, NULL, 0);
    return rc;
}

static int rewrite_finish_fn(ember_db *db, void *ud)
{
    rewrite_job *j = ud;
    ember__snap_reap(&db->box->core.srv);
    em_io *io = j->ok ? ember__io_fd(j->fd) : NULL;
    int err = ember__aof_rewrite_finish(j->a, io, io != NULL);
    return err == 0 ? EMBER_OK : err == -ENOMEM ? EMBER_ENOMEM : EMBER_EIO;
}

EMBER_API int ember_aof_rewrite(ember_db *db, int fd)
{
    if (!em_db_ok(db) || fd < 0)
        return EMBER_EINVAL;
    em_box *b = db->box;
    em_core *c = &b->core;
    pthread_mutex_lock(&aof_mu);
    struct em_aof_ref *ref = b->aof;
    if (!ref || ref->rewriting) {
        pthread_mutex_unlock(&aof_mu);
        return ref ? EMBER_EBUSY : EMBER_ENOTFOUND;
    }
    ref->rewriting = 1;
    ref->refs++;
    pthread_mutex_unlock(&aof_mu);
    rewrite_job j = {ref->a, fd, NULL, 0};
    int rc = ember__exec_run(c, db, rewrite_begin_fn, &j);
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
    pthread_mutex_lock(&aof_mu);
    ref->rewriting = 0;
    ref_drop(ref);
    pthread_mutex_unlock(&aof_mu);
    return rc;
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

static int load_io(ember_db *db, em_io *io, uint32_t flags, char **error)
{
    if (error)
        *error = NULL;
    if (!io)
        return EMBER_ENOMEM;
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
        return rc;
    }
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
