/*
 * io.c — descriptor, user, fault-injecting and zstd implementations of
 * em_io (io.h), and replacing files by name. Scratch memory here is plain
 * malloc: it is I/O buffering, not data the store holds.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "rdb_format.h"

/* ------------------------------------------------------------ descriptor */

typedef struct io_fd {
    em_io io;
    int fd;
} io_fd;

static int fd_write(em_io *io, const void *p, size_t n)
{
    io_fd *f = (io_fd *)io;
    const char *c = p;
    while (n) {
        ssize_t w = write(f->fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0) /* a regular file never does this; treat it as a full device */
            return -ENOSPC;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fd_sync(em_io *io)
{
    io_fd *f = (io_fd *)io;
    while (fdatasync(f->fd) != 0) {
        if (errno == EINTR)
            continue;
        /* Pipes, sockets and character devices cannot be synced: nothing
         * to make durable there, so that is not a failure. */
        if (errno == EINVAL || errno == EROFS || errno == ENOTSUP)
            return 0;
        return -errno;
    }
    return 0;
}

static int64_t fd_read(em_io *io, void *buf, size_t n)
{
    io_fd *f = (io_fd *)io;
    for (;;) {
        ssize_t r = read(f->fd, buf, n);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return -errno;
    }
}

static void plain_close(em_io *io)
{
    free(io);
}

static void owned_close(em_io *io)
{
    close(((io_fd *)io)->fd);
    free(io);
}

static const em_io_ops fd_ops = {fd_write, fd_sync, fd_read, plain_close};
static const em_io_ops fd_owned_ops = {fd_write, fd_sync, fd_read, owned_close};

static em_io *fd_new(int fd, const em_io_ops *ops)
{
    io_fd *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->io.ops = ops;
    f->fd = fd;
    return &f->io;
}

em_io *ember__io_fd(int fd)
{
    return fd_new(fd, &fd_ops);
}

em_io *ember__io_fd_owned(int fd)
{
    return fd_new(fd, &fd_owned_ops);
}

/* ------------------------------------------------------------ user functions */

typedef struct io_user {
    em_io io;
    em_user_write_fn w;
    em_user_sync_fn s;
    em_user_read_fn r;
    void *ctx;
} io_user;

/* A user's negative return as -errno (anything implausible is -EIO). */
static int user_err(int64_t v)
{
    return v < 0 && v >= -4095 ? (int)v : -EIO;
}

static int user_write(em_io *io, const void *p, size_t n)
{
    io_user *u = (io_user *)io;
    const char *c = p;
    if (!u->w)
        return -ENOTSUP;
    while (n) {
        int64_t w = u->w(u->ctx, c, n);
        if (w <= 0)
            return w == 0 ? -EIO : user_err(w); /* 0 would loop forever */
        if ((uint64_t)w > n)
            return -EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int user_sync(em_io *io)
{
    io_user *u = (io_user *)io;
    if (!u->s)
        return 0;
    int rc = u->s(u->ctx);
    return rc == 0 ? 0 : user_err(rc);
}

static int64_t user_read(em_io *io, void *buf, size_t n)
{
    io_user *u = (io_user *)io;
    if (!u->r)
        return -ENOTSUP;
    int64_t r = u->r(u->ctx, buf, n);
    if (r < 0)
        return user_err(r);
    return (uint64_t)r > n ? -EIO : r;
}

static const em_io_ops user_ops = {user_write, user_sync, user_read, plain_close};

em_io *ember__io_user(em_user_write_fn w, em_user_sync_fn s, em_user_read_fn r, void *ctx)
{
    io_user *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->io.ops = &user_ops;
    u->w = w;
    u->s = s;
    u->r = r;
    u->ctx = ctx;
    return &u->io;
}

/* ------------------------------------------------------------ fault injection */

typedef struct io_fault {
    em_io io;
    em_io *inner;
    uint64_t fail_write, fail_sync, writes, syncs;
    int write_kind, sync_kind;
} io_fault;

static int fault_write(em_io *io, const void *p, size_t n)
{
    io_fault *f = (io_fault *)io;
    if (++f->writes != f->fail_write)
        return ember__io_write(f->inner, p, n);
    switch (f->write_kind) {
    case EM_FAULT_ENOSPC:
        return -ENOSPC;
    case EM_FAULT_SHORT: {
        int rc = ember__io_write(f->inner, p, n / 2);
        return rc ? rc : -ENOSPC;
    }
    case EM_FAULT_SHORT_OK: {
        int rc = ember__io_write(f->inner, p, n / 2);
        return rc ? rc : ember__io_write(f->inner, (const char *)p + n / 2, n - n / 2);
    }
    default:
        return -EIO;
    }
}

static int fault_sync(em_io *io)
{
    io_fault *f = (io_fault *)io;
    if (++f->syncs == f->fail_sync)
        return f->sync_kind == EM_FAULT_ENOSPC ? -ENOSPC : -EIO;
    return ember__io_sync(f->inner);
}

static int64_t fault_read(em_io *io, void *buf, size_t n)
{
    return ember__io_read(((io_fault *)io)->inner, buf, n);
}

static void fault_close(em_io *io)
{
    ember__io_close(((io_fault *)io)->inner);
    free(io);
}

static const em_io_ops fault_ops = {fault_write, fault_sync, fault_read, fault_close};

em_io *ember__io_fault(em_io *inner, uint64_t fail_write, int write_kind, uint64_t fail_sync,
                       int sync_kind)
{
    io_fault *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->io.ops = &fault_ops;
    f->inner = inner;
    f->fail_write = fail_write;
    f->write_kind = write_kind;
    f->fail_sync = fail_sync;
    f->sync_kind = sync_kind;
    return &f->io;
}

void ember__io_fault_counts(const em_io *io, uint64_t *writes, uint64_t *syncs)
{
    const io_fault *f = (const io_fault *)io;
    *writes = f->writes;
    *syncs = f->syncs;
}

/* ------------------------------------------------------------ zstd writer */

typedef struct io_zw {
    em_io io;
    em_io *inner;
    ZSTD_CCtx *cctx;
    uint8_t *out;
    size_t outcap;
    int failed; /* the first error, kept: a frame cannot continue after one */
} io_zw;

/* Runs the compressor over `in` with `mode`, writing every output block. */
static int zw_pump(io_zw *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
    if (z->failed)
        return z->failed;
    for (;;) {
        ZSTD_outBuffer out = {z->out, z->outcap, 0};
        size_t left = ZSTD_compressStream2(z->cctx, &out, in, mode);
        if (ZSTD_isError(left))
            return z->failed = -ENOMEM; /* the only runtime failure compression has */
        if (out.pos) {
            int rc = ember__io_write(z->inner, z->out, out.pos);
            if (rc)
                return z->failed = rc;
        }
        /* continue: done when all input is consumed; end: when nothing is left */
        if (mode == ZSTD_e_continue ? in->pos == in->size : left == 0)
            return 0;
    }
}

static int zw_write(em_io *io, const void *p, size_t n)
{
    io_zw *z = (io_zw *)io;
    ZSTD_inBuffer in = {p, n, 0};
    return zw_pump(z, &in, ZSTD_e_continue);
}

int ember__io_zstd_finish(em_io *io)
{
    io_zw *z = (io_zw *)io;
    ZSTD_inBuffer in = {NULL, 0, 0};
    return zw_pump(z, &in, ZSTD_e_end);
}

static int zw_sync(em_io *io)
{
    return ember__io_sync(((io_zw *)io)->inner);
}

static int64_t zw_read(em_io *io, void *buf, size_t n)
{
    return -ENOTSUP;
}

static void zw_close(em_io *io)
{
    io_zw *z = (io_zw *)io;
    ZSTD_freeCCtx(z->cctx);
    free(z->out);
    free(z);
}

static const em_io_ops zw_ops = {zw_write, zw_sync, zw_read, zw_close};

em_io *ember__io_zstd_writer(em_io *inner, int level)
{
    io_zw *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->io.ops = &zw_ops;
    z->inner = inner;
    z->cctx = ZSTD_createCCtx();
    z->outcap = ZSTD_CStreamOutSize();
    z->out = malloc(z->outcap);
    if (!z->cctx || !z->out) {
        zw_close(&z->io);
        return NULL;
    }
    if (level <= 0)
        level = EM_ZSTD_DEFAULT_LEVEL;
    if (level > ZSTD_maxCLevel())
        level = ZSTD_maxCLevel();
    ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
    return &z->io;
}

/* ------------------------------------------------------------ zstd reader */

typedef struct io_zr {
    em_io io;
    em_io *inner;
    ZSTD_DCtx *dctx;
    uint8_t *in;
    size_t incap;
    ZSTD_inBuffer ib;
    size_t last;     /* ZSTD_decompressStream's last hint: 0 = at a frame boundary */
    int eof;         /* inner is exhausted */
    const char *err; /* first error */
} io_zr;

static int64_t zr_read(em_io *io, void *buf, size_t n)
{
    io_zr *z = (io_zr *)io;
    if (z->err)
        return -EBADMSG;
    ZSTD_outBuffer out = {buf, n, 0};
    while (out.pos == 0) {
        if (z->ib.pos == z->ib.size && !z->eof) {
            int64_t r = ember__io_read(z->inner, z->in, z->incap);
            if (r < 0) {
                z->err = "read error";
                return r;
            }
            if (r == 0)
                z->eof = 1;
            z->ib.src = z->in;
            z->ib.size = (size_t)r;
            z->ib.pos = 0;
        }
        if (z->ib.pos == z->ib.size && z->eof) {
            if (z->last != 0) {
                z->err = "truncated zstd frame";
                return -EBADMSG;
            }
            return 0;
        }
        size_t rc = ZSTD_decompressStream(z->dctx, &out, &z->ib);
        if (ZSTD_isError(rc)) {
            z->err = ZSTD_getErrorName(rc);
            return -EBADMSG;
        }
        z->last = rc;
    }
    return (int64_t)out.pos;
}

static int zr_write(em_io *io, const void *p, size_t n)
{
    return -ENOTSUP;
}

static int zr_sync(em_io *io)
{
    return -ENOTSUP;
}

static void zr_close(em_io *io)
{
    io_zr *z = (io_zr *)io;
    ZSTD_freeDCtx(z->dctx);
    free(z->in);
    free(z);
}

static const em_io_ops zr_ops = {zr_write, zr_sync, zr_read, zr_close};

em_io *ember__io_zstd_reader(em_io *inner, const void *pre, size_t npre)
{
    io_zr *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->io.ops = &zr_ops;
    z->inner = inner;
    z->dctx = ZSTD_createDCtx();
    z->incap = ZSTD_DStreamInSize();
    if (z->incap < npre)
        z->incap = npre;
    z->in = malloc(z->incap);
    if (!z->dctx || !z->in) {
        zr_close(&z->io);
        return NULL;
    }
    memcpy(z->in, pre, npre);
    z->ib.src = z->in;
    z->ib.size = npre;
    z->ib.pos = 0;
    z->last = 1; /* nothing decoded yet: an empty input is a truncated frame */
    return &z->io;
}

const char *ember__io_zstd_error(const em_io *io)
{
    return ((const io_zr *)io)->err;
}

int ember__io_is_zstd(const uint8_t *p, size_t n)
{
    return n >= 4 && p[0] == EM_ZSTD_MAGIC0 && p[1] == EM_ZSTD_MAGIC1 && p[2] == EM_ZSTD_MAGIC2 &&
           p[3] == EM_ZSTD_MAGIC3;
}

/* ------------------------------------------------------------ files by name */

/*
 * Why replacing dir/name this way is crash-safe. The temporary file is a
 * sibling of name (same directory, hence the same file system: rename can
 * be atomic there). Step by step, what is under `name` after a crash:
 *  1. creating, writing and syncing the temporary file: name is untouched
 *     (the old file, complete, or nothing if there was none); at worst a
 *     stray <name>.tmp-* file is left, which nothing reads.
 *  2. rename(tmp, name): POSIX makes it atomic — name refers to the old
 *     inode or to the new one, never to neither or to a mix — and the new
 *     inode's data was synced before, so if name refers to it, it is
 *     complete.
 *  3. the directory sync makes the rename itself durable: before it returns
 *     a crash may still show the old file (complete), after it the new one.
 * So at every point name holds one whole file, the old or the new. A
 * caller that keeps using the new file afterwards (the append log) must not
 * let anything depend on the name before step 3 succeeded.
 */

int ember__io_name_ok(const char *name)
{
    return name && *name && !strchr(name, '/');
}

char *ember__io_path(const char *dir, const char *name)
{
    if (!dir || !*dir)
        dir = ".";
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int ember__io_tmp_open(const char *dir, const char *name, int *fd, char **tmp, char **final_path)
{
    static _Atomic unsigned seq;
    if (!ember__io_name_ok(name))
        return -EINVAL;
    if (!dir || !*dir)
        dir = ".";
    size_t n = strlen(dir) + strlen(name) + 48;
    char *f = ember__io_path(dir, name), *t = malloc(n);
    if (!f || !t) {
        free(f);
        free(t);
        return -ENOMEM;
    }
    snprintf(t, n, "%s/%s.tmp-%d-%u", dir, name, (int)getpid(), atomic_fetch_add(&seq, 1));
    int d = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (d < 0) {
        int err = -errno;
        free(f);
        free(t);
        return err;
    }
    *fd = d;
    *tmp = t;
    *final_path = f;
    return 0;
}

int ember__io_sync_dir(const char *dir)
{
    int fd = open(dir && *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* Some file systems cannot sync a directory (EINVAL): nothing to do. */
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : -errno;
    close(fd);
    return rc;
}

int ember__io_replace(const char *tmp, const char *final_path, const char *dir, int *renamed)
{
    if (renamed)
        *renamed = 0;
    if (rename(tmp, final_path) != 0)
        return -errno;
    if (renamed)
        *renamed = 1;
    return ember__io_sync_dir(dir);
}
