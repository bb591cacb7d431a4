/*
 * io.h — the one small I/O interface every persisted byte goes through.
 *
 * An em_io writes all of a buffer or fails, syncs, and reads (for loading).
 * Implementations: a file descriptor (the default; ember never closes a
 * descriptor it was given), a user's functions (the public API's writer and
 * reader callbacks), a fault injector for tests (fails the N-th write or
 * sync), and zstd framing on top of any of them (a compressing writer, a
 * decompressing reader). Errors are negative errno values (-EIO, -ENOSPC...).
 *
 * Threads: an em_io is used by one thread at a time (a snapshot's writer
 * thread, or the thread that loads); implementations keep no global state.
 */
#ifndef EMBER_IO_H
#define EMBER_IO_H

#include <stddef.h>
#include <stdint.h>

typedef struct em_io em_io;

typedef struct em_io_ops {
    /* Writes all n bytes (short writes and EINTR retried). 0 or -errno. */
    int (*write)(em_io *io, const void *p, size_t n);
    /* Makes what was written durable (fdatasync for a descriptor). 0 or -errno. */
    int (*sync)(em_io *io);
    /* Reads up to n bytes: > 0 bytes read, 0 at end of input, or -errno. */
    int64_t (*read)(em_io *io, void *buf, size_t n);
    /* Releases the em_io itself (never a descriptor the caller gave). */
    void (*close)(em_io *io);
} em_io_ops;

struct em_io {
    const em_io_ops *ops;
    uint64_t written; /* bytes accepted by write (what reached the sink below) */
    uint64_t nread;   /* bytes returned by read */
};

static inline int ember__io_write(em_io *io, const void *p, size_t n)
{
    int rc = n ? io->ops->write(io, p, n) : 0;
    if (rc == 0)
        io->written += n;
    return rc;
}
static inline int ember__io_sync(em_io *io)
{
    return io->ops->sync(io);
}
static inline int64_t ember__io_read(em_io *io, void *buf, size_t n)
{
    int64_t r = io->ops->read(io, buf, n);
    if (r > 0)
        io->nread += (uint64_t)r;
    return r;
}
/* NULL-safe. */
static inline void ember__io_close(em_io *io)
{
    if (io)
        io->ops->close(io);
}

/* A descriptor (not closed by ember). NULL on OOM. */
em_io *ember__io_fd(int fd);
/* A descriptor ember opened itself: closed with the em_io (NULL on OOM:
 * then the descriptor is still the caller's). */
em_io *ember__io_fd_owned(int fd);

/* The user's functions (the public API's ember_write_fn etc.; any may be
 * NULL: that operation then succeeds doing nothing for sync, or fails with
 * -ENOTSUP for write/read). write_fn returns bytes accepted (1..n) or < 0;
 * read_fn bytes read, 0 at end, or < 0; sync_fn 0 or < 0. A negative value
 * that is not a plausible -errno becomes -EIO. */
typedef int64_t (*em_user_write_fn)(void *ctx, const void *buf, size_t len);
typedef int (*em_user_sync_fn)(void *ctx);
typedef int64_t (*em_user_read_fn)(void *ctx, void *buf, size_t len);
em_io *ember__io_user(em_user_write_fn w, em_user_sync_fn s, em_user_read_fn r, void *ctx);

/* Fault injection (tests): wraps `inner` (owned: closed with it). The
 * fail_write-th call of write (1-based; 0 = never) fails as `kind` says;
 * likewise the fail_sync-th call of sync (with -EIO or -ENOSPC). */
enum {
    EM_FAULT_EIO = 1,
    EM_FAULT_ENOSPC = 2,
    EM_FAULT_SHORT = 3,    /* half the bytes reach the sink, then -ENOSPC */
    EM_FAULT_SHORT_OK = 4, /* the sink takes the bytes in two pieces: no error */
};
em_io *ember__io_fault(em_io *inner, uint64_t fail_write, int write_kind, uint64_t fail_sync,
                       int sync_kind);
/* Calls made so far (tests size their sweeps with them). */
void ember__io_fault_counts(const em_io *io, uint64_t *writes, uint64_t *syncs);

/* zstd: a writer that compresses into `inner` (not owned) as one frame with
 * zstd's content checksum; level <= 0 picks the default fast level. The
 * frame is finished by ember__io_zstd_finish (before sync). */
em_io *ember__io_zstd_writer(em_io *inner, int level);
int ember__io_zstd_finish(em_io *zw);
/* A reader that decompresses a zstd stream read from `inner` (not owned).
 * `pre`/`npre`: bytes already read from inner (the sniffed magic), fed first. */
em_io *ember__io_zstd_reader(em_io *inner, const void *pre, size_t npre);
/* What went wrong in a zstd reader (a static string), or NULL. */
const char *ember__io_zstd_error(const em_io *zr);
/* 1 if the four bytes start a zstd frame. */
int ember__io_is_zstd(const uint8_t *p, size_t n);

#define EM_ZSTD_DEFAULT_LEVEL 1

/* Files by name (the path conveniences of snapshots and the append log).
 * Replacing dir/name is crash-safe in three steps: the new contents go to a
 * temporary sibling (ember__io_tmp_open; the caller writes and syncs it),
 * ember__io_replace renames it over the name and syncs the directory. See
 * io.c for why a crash at any point leaves the old file or the new one. */

/* 1 if name is a plain file name (not empty, no '/'). */
int ember__io_name_ok(const char *name);
/* malloc'd "dir/name" (dir NULL or "": "."). NULL on OOM. */
char *ember__io_path(const char *dir, const char *name);
/* Creates (or truncates) dir/<name>.tmp-<pid>-<n>, n a per-process
 * sequence number (two saves never share a temporary file), for writing.
 * Returns 0 with *fd and malloc'd *tmp and *final_path (dir/name), or
 * -EINVAL (bad name), -ENOMEM, -errno of open (-ENOENT: no such directory). */
int ember__io_tmp_open(const char *dir, const char *name, int *fd, char **tmp, char **final_path);
/* Makes the entries of dir (creations, renames) durable. 0 or -errno. */
int ember__io_sync_dir(const char *dir);
/* rename(tmp, final_path), then ember__io_sync_dir(dir). tmp must be
 * complete and synced. 0; or -errno with *renamed 0 (nothing changed: tmp
 * is still there) or 1 (the rename happened, the directory sync failed: the
 * name refers to the new file, but whether that survives a crash is not
 * known). renamed may be NULL. */
int ember__io_replace(const char *tmp, const char *final_path, const char *dir, int *renamed);

#endif
