/*
 * aof.c — the append log: records, group commit, the sync thread, replay.
 *
 * Writing. Records are RESP arrays of bulk strings appended to `buf` by the
 * hooks while the executor runs a batch. A record in another database than
 * the log's current one is preceded by SELECT. Units (a command, an atomic
 * batch, a closure) nest; when the outermost unit made more than one record
 * of its own, MULTI is inserted at its start and EXEC appended, so replay
 * applies it whole or not at all (expiry DELs found on the way are not the
 * unit's own records, as in Redis). commit() appends the annotation
 * `#EM:<crc64 of the group, 16 hex>:<group length>` and writes buf with one
 * call; under `always` one sync follows. Only then does the executor release
 * the batch's callers: one write and one sync cover every caller of the
 * batch (group commit).
 *
 * Failure. A failed write, sync or buffer growth makes the log fail for good
 * (the bytes that reached the file are unknown, and after a failed fsync the
 * kernel may have dropped the dirty pages): the batch's callers get
 * `MISCONF Errors writing to the AOF file: <strerror>` (Redis's text for
 * refused writes), and so does every later write command, until the log is
 * detached. A failure of the background sync is seen at the next commit.
 *
 * LSNs are byte counts of the log since it was attached: `written` (handed
 * to write successfully) and `synced` (covered by a successful sync). A
 * caller whose write has returned knows its record is below `written`.
 *
 * Replay. See load_resp: groups are the bytes between annotations; a group
 * is applied only after its checksum and length check out, so a torn or
 * garbled tail loses exactly the groups that were not written whole. A file
 * with no ember annotation at all (written by Redis) is applied record by
 * record up to its first incomplete or malformed record. A MULTI is applied
 * only with its EXEC.
 */
#include "aof.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "crc64.h"
#include "rdb.h"

struct em_aof {
    em_io *io;
    int policy;
    /* Executor only. */
    em_server *srv;
    char *buf;
    size_t len, cap;
    int oom;
    int cur_db; /* database of the log's last record; -1 before the first */
    int depth;  /* open units */
    size_t unit_start;
    unsigned unit_records;
    int broken; /* the executor has seen the failure (log_refuse set) */
    int marked; /* the "#EMBER" line is written */
    /* Units with records since the last commit, and in the last one; the
     * last sync's duration (for gathering). */
    size_t units, last_units;
    int64_t last_sync_ns;
    /* A rewrite in progress: every group committed since it began is also
     * kept here, to follow the new file's RDB preamble. */
    int rw_active, rw_oom;
    char *rw;
    size_t rwlen, rwcap;
    char refuse[160];
    /* Shared with the sync thread and waiters (mu). */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* progress of synced / a sync request / stop */
    pthread_mutex_t io_mu;
    uint64_t written, synced;
    int err; /* first failure, negative errno; sticky */
    int stop, sync_now;
    pthread_t th;
    int th_started;
};

static const em_log_ops aof_ops;

/* ------------------------------------------------------------ records */

static void put(em_aof *a, const void *p, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->len + n)
            cap *= 2;
        char *nb = realloc(a->buf, cap);
        if (!nb) {
            a->oom = 1;
            return;
        }
        a->buf = nb;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void put_len(em_aof *a, char type, size_t n)
{
    char b[2 + EM_LLSTR_SIZE + 2];
    b[0] = type;
    size_t k = 1 + ember__ll_to_str(b + 1, (long long)n);
    b[k++] = '\r';
    b[k++] = '\n';
    put(a, b, k);
}

static void put_record(em_aof *a, size_t argc, const char *const *argv, const size_t *argvlen)
{
    put_len(a, '*', argc);
    for (size_t i = 0; i < argc; i++) {
        put_len(a, '$', argvlen[i]);
        put(a, argv[i], argvlen[i]);
        put(a, "\r\n", 2);
    }
}

static void select_db(em_aof *a, int dbid)
{
    if (dbid == a->cur_db)
        return;
    char id[EM_LLSTR_SIZE];
    const char *argv[2] = {"SELECT", id};
    size_t lens[2] = {6, ember__ll_to_str(id, dbid)};
    put_record(a, 2, argv, lens);
    a->cur_db = dbid;
}

static void hook_record(void *ud, int dbid, size_t argc, const char *const *argv,
                        const size_t *argvlen)
{
    em_aof *a = ud;
    if (!a->marked) {
        /* Marks the log as ember's (see load_resp), in its first group. */
        put(a, "#EMBER\r\n", 8);
        a->marked = 1;
    }
    select_db(a, dbid);
    put_record(a, argc, argv, argvlen);
    a->unit_records++;
}

static void hook_begin(void *ud)
{
    em_aof *a = ud;
    if (a->depth++ == 0) {
        a->unit_start = a->len;
        a->unit_records = 0;
    }
}

static const char multi_rec[] = "*1\r\n$5\r\nMULTI\r\n";
static const char exec_rec[] = "*1\r\n$4\r\nEXEC\r\n";

static void hook_end(void *ud)
{
    em_aof *a = ud;
    if (a->depth == 0)
        return; /* the unit began before the log was attached */
    if (--a->depth > 0)
        return;
    if (a->unit_records)
        a->units++;
    if (a->unit_records < 2 || a->oom)
        return;
    size_t n = sizeof multi_rec - 1;
    put(a, exec_rec, sizeof exec_rec - 1);
    put(a, multi_rec, n); /* grows buf; the bytes are moved into place below */
    if (a->oom)
        return;
    memmove(a->buf + a->unit_start + n, a->buf + a->unit_start, a->len - n - a->unit_start);
    memcpy(a->buf + a->unit_start, multi_rec, n);
}

/* The keyspace's expiry (and eviction) hook: the key's DEL is logged. */
static void on_expire(em_store *st, em_keyspace *ks, em_obj *o, void *ud)
{
    em_aof *a = ud;
    size_t kl;
    const char *k = ember__obj_key(o, &kl);
    const char *argv[2] = {"DEL", k};
    size_t lens[2] = {3, kl};
    unsigned saved = a->unit_records;
    hook_record(a, ks->id, 2, argv, lens);
    a->unit_records = saved; /* not the running command's own record */
}

static void set_failed(em_aof *a, int err)
{
    pthread_mutex_lock(&a->mu);
    if (!a->err)
        a->err = err;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Executor: makes writes fail from now on with Redis's MISCONF text. */
static void refuse_writes(em_aof *a, int err)
{
    if (a->broken)
        return;
    a->broken = 1;
    snprintf(a->refuse, sizeof a->refuse, "MISCONF Errors writing to the AOF file: %s",
             strerror(-err));
    a->srv->log_refuse = a->refuse;
}

static int hook_commit(void *ud)
{
    em_aof *a = ud;
    int pol = (int)a->srv->cfg.appendfsync; /* CONFIG SET appendfsync */
    if (pol != a->policy && pol >= EM_AOF_ALWAYS && pol <= EM_AOF_NO) {
        pthread_mutex_lock(&a->mu);
        a->policy = pol;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
    }
    if (a->broken) {
        a->len = 0; /* expiry DELs after the failure: the log is lost anyway */
        a->oom = 0;
        return 0;
    }
    pthread_mutex_lock(&a->mu);
    int bg = a->err; /* a failed background sync */
    pthread_mutex_unlock(&a->mu);
    if (!a->len && !a->oom && !bg)
        return 0;
    int rc = bg;
    if (!rc && a->oom)
        rc = -ENOMEM;
    if (!rc) {
        char ann[64];
        uint64_t crc = ember__crc64(0, a->buf, a->len);
        int k = snprintf(ann, sizeof ann, "#EM:%016" PRIx64 ":%zu\r\n", crc, a->len);
        put(a, ann, (size_t)k);
        if (a->oom)
            rc = -ENOMEM;
    }
    if (!rc) {
        pthread_mutex_lock(&a->io_mu);
        rc = ember__io_write(a->io, a->buf, a->len);
        if (!rc && a->policy == EM_AOF_ALWAYS) {
            int64_t t0 = ember__mono_ns();
            rc = ember__io_sync(a->io);
            a->last_sync_ns = ember__mono_ns() - t0;
        }
        pthread_mutex_unlock(&a->io_mu);
        pthread_mutex_lock(&a->mu);
        if (!rc) {
            a->written += a->len;
            if (a->policy == EM_AOF_ALWAYS)
                a->synced = a->written;
            else if (a->policy == EM_AOF_EVERYSEC)
                pthread_cond_broadcast(&a->cv);
        }
        pthread_mutex_unlock(&a->mu);
    }
    if (!rc && a->rw_active && !a->rw_oom) {
        if (a->rwlen + a->len > a->rwcap) {
            size_t cap = (a->rwlen + a->len) * 2;
            char *nr = realloc(a->rw, cap);
            if (!nr)
                a->rw_oom = 1;
            else {
                a->rw = nr;
                a->rwcap = cap;
            }
        }
        if (!a->rw_oom) {
            memcpy(a->rw + a->rwlen, a->buf, a->len);
            a->rwlen += a->len;
        }
    }
    a->len = 0;
    a->oom = 0;
    a->last_units = a->units;
    a->units = 0;
    if (rc) {
        set_failed(a, rc);
        refuse_writes(a, rc);
    }
    return rc;
}

/*
 * Rewrite. begin (executor, at the instant the snapshot of the new file
 * starts): what is pending is committed to the old log, and from now on
 * every group is also kept in memory; the next record starts with SELECT,
 * since the new file's records follow an RDB that leaves the loader in
 * database 0. finish (executor, once the snapshot is complete in the new
 * file): the kept groups are appended to it, it is synced, and it becomes
 * the log. Between the two the old log stays complete and durable, so a
 * crash at any point leaves one of the two files whole.
 */
int ember__aof_rewrite_begin(em_aof *a)
{
    if (a->broken || a->rw_active)
        return -EBUSY;
    hook_commit(a);
    if (a->broken)
        return -EIO;
    a->cur_db = -1;
    a->marked = 0; /* the new file's first group starts with "#EMBER" too */
    a->rw_active = 1;
    a->rw_oom = 0;
    a->rwlen = 0;
    return 0;
}

int ember__aof_rewrite_finish(em_aof *a, em_io *io, int ok, em_aof_place_fn place, void *ctx)
{
    if (!a->rw_active) {
        ember__io_close(io);
        return -EINVAL;
    }
    int rc = ok ? 0 : -EIO;
    if (!rc)
        rc = hook_commit(a);
    if (!rc && (a->rw_oom || a->broken))
        rc = a->broken ? -EIO : -ENOMEM;
    if (!rc)
        rc = ember__io_write(io, a->rw, a->rwlen);
    if (!rc)
        rc = ember__io_sync(io);
    int placed = 0;
    if (!rc && place) {
        /* Still on the executor: no group is committed until the switch
         * below, so the old log holds every acknowledged write until the
         * new file is in place, and the new one from then on. */
        rc = place(ctx, &placed);
    }
    a->rw_active = 0;
    free(a->rw);
    a->rw = NULL;
    a->rwlen = a->rwcap = 0;
    if (rc && !placed) {
        ember__io_close(io); /* the old log goes on */
        return rc;
    }
    pthread_mutex_lock(&a->io_mu);
    em_io *old = a->io;
    a->io = io;
    pthread_mutex_unlock(&a->io_mu);
    ember__io_close(old);
    pthread_mutex_lock(&a->mu);
    a->synced = a->written; /* the new file holds all of it, synced */
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (rc) {
        /* The new file is the log under its name, but whether that name
         * survives a crash is unknown: nothing more may be acknowledged. */
        set_failed(a, rc);
        refuse_writes(a, rc);
    }
    return rc;
}

/* Gathering: worth it only under `always`, with something to commit, when
 * recent commits covered several units (callers) — one caller alone would
 * only be delayed. Waits up to a quarter of the last sync, at most 200 us,
 * for as many more units as the last commit had. */
static int64_t hook_gather(void *ud, size_t *expect)
{
    em_aof *a = ud;
    if (a->policy != EM_AOF_ALWAYS || !a->len || a->broken || a->last_units < 2)
        return 0;
    *expect = a->last_units > a->units ? a->last_units - a->units : 0;
    if (!*expect)
        return 0;
    int64_t ns = a->last_sync_ns / 4;
    return ns > 200000 ? 200000 : ns;
}

static const em_log_ops aof_ops = {hook_record, hook_begin, hook_end, hook_commit, hook_gather};

/* ------------------------------------------------------------ sync thread */

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* everysec: a sync at most once a second when something was written; any
 * policy: a sync at once when a waiter asks. */
static void *sync_main(void *arg)
{
    em_aof *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (a->stop)
            break;
        int due = a->sync_now || (a->policy == EM_AOF_EVERYSEC && a->written > a->synced);
        if (!due || a->err) {
            if (a->err)
                a->sync_now = 0;
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        uint64_t target = a->written;
        a->sync_now = 0;
        pthread_mutex_unlock(&a->mu);
        pthread_mutex_lock(&a->io_mu);
        int rc = ember__io_sync(a->io);
        pthread_mutex_unlock(&a->io_mu);
        pthread_mutex_lock(&a->mu);
        if (rc) {
            if (!a->err)
                a->err = rc;
        } else if (target > a->synced) {
            a->synced = target;
        }
        pthread_cond_broadcast(&a->cv);
        if (a->policy == EM_AOF_EVERYSEC && !a->stop && !a->sync_now) {
            /* At most once a second, unless a waiter asks. */
            struct timespec ts;
            deadline_in(&ts, 1000);
            while (!a->stop && !a->sync_now &&
                   pthread_cond_timedwait(&a->cv, &a->mu, &ts) != ETIMEDOUT) {
            }
        }
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

em_aof *ember__aof_new(em_io *io, int policy)
{
    em_aof *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->io = io;
    a->policy = policy;
    a->cur_db = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->io_mu, NULL);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&a->th, NULL, sync_main, a) != 0) {
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        pthread_mutex_destroy(&a->io_mu);
        free(a);
        return NULL;
    }
    a->th_started = 1;
    return a;
}

void ember__aof_install(em_aof *a, em_server *srv)
{
    a->srv = srv;
    srv->cfg.appendfsync = a->policy; /* CONFIG GET appendfsync tells the truth */
    srv->log_refuse = NULL;
    srv->log_ud = a;
    srv->log = &aof_ops;
    srv->st.on_expire = on_expire;
    srv->st.on_expire_ud = a;
}

void ember__aof_uninstall(em_aof *a, em_server *srv)
{
    hook_commit(a);
    srv->log = NULL;
    srv->log_ud = NULL;
    srv->log_refuse = NULL;
    srv->st.on_expire = NULL;
    srv->st.on_expire_ud = NULL;
    a->srv = NULL;
}

int ember__aof_shutdown(em_aof *a)
{
    pthread_mutex_lock(&a->mu);
    int need = !a->err && !a->stop && a->synced < a->written;
    pthread_mutex_unlock(&a->mu);
    if (need) {
        pthread_mutex_lock(&a->io_mu);
        int rc = ember__io_sync(a->io);
        pthread_mutex_unlock(&a->io_mu);
        pthread_mutex_lock(&a->mu);
        if (rc && !a->err)
            a->err = rc;
        else if (!rc)
            a->synced = a->written;
        pthread_mutex_unlock(&a->mu);
    }
    pthread_mutex_lock(&a->mu);
    a->stop = 1; /* waiters return now */
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->th_started) {
        pthread_join(a->th, NULL);
        a->th_started = 0;
    }
    /* The writer (and the user's context behind it) is not used again. */
    ember__io_close(a->io);
    a->io = NULL;
    return ember__aof_error(a);
}

void ember__aof_destroy(em_aof *a)
{
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->io_mu);
    free(a->buf);
    free(a->rw);
    free(a);
}

int ember__aof_free(em_aof *a)
{
    if (!a)
        return 0;
    int err = ember__aof_shutdown(a);
    ember__aof_destroy(a);
    return err;
}

uint64_t ember__aof_lsn(em_aof *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t v = a->written;
    pthread_mutex_unlock(&a->mu);
    return v;
}

int ember__aof_error(em_aof *a)
{
    pthread_mutex_lock(&a->mu);
    int e = a->err;
    pthread_mutex_unlock(&a->mu);
    return e;
}

int ember__aof_wait(em_aof *a, uint64_t lsn)
{
    pthread_mutex_lock(&a->mu);
    uint64_t want = lsn > a->written ? a->written : lsn; /* only written bytes can be synced */
    while (a->synced < want && !a->err && !a->stop) {
        a->sync_now = 1;
        pthread_cond_broadcast(&a->cv);
        pthread_cond_wait(&a->cv, &a->mu);
    }
    int e = a->synced >= lsn ? 0 : a->err ? a->err : a->synced >= want ? 0 : -EIO;
    pthread_mutex_unlock(&a->mu);
    return e;
}

/* ------------------------------------------------------------ replay */

typedef struct argvec {
    const char **argv;
    size_t *lens;
    size_t cap;
} argvec;

/* Reads "<digits>\r\n" at d[*p..end) into *v. 1 ok, 0 truncated, -1 bad. */
static int parse_num(const uint8_t *d, size_t *p, size_t end, uint64_t *v)
{
    size_t i = *p;
    uint64_t n = 0;
    size_t digits = 0;
    while (i < end && d[i] >= '0' && d[i] <= '9') {
        if (++digits > 18)
            return -1;
        n = n * 10 + (uint64_t)(d[i] - '0');
        i++;
    }
    if (i + 2 > end) {
        /* Truncated unless what is there already cannot be a number line. */
        if (i < end && d[i] != '\r')
            return -1;
        return 0;
    }
    if (!digits || d[i] != '\r' || d[i + 1] != '\n')
        return -1;
    *v = n;
    *p = i + 2;
    return 1;
}

/* Parses one record at d[p..end). Returns 1 (argv filled, *next after it),
 * 0 (truncated at the end of the data), -1 (malformed at *bad). -2 on OOM. */
static int parse_record(const uint8_t *d, size_t p, size_t end, argvec *av, size_t *argc,
                        size_t *next, size_t *bad)
{
    *bad = p;
    if (d[p] != '*')
        return -1;
    p++;
    uint64_t n;
    int r = parse_num(d, &p, end, &n);
    if (r <= 0) {
        *bad = p;
        return r;
    }
    if (n < 1 || n > (end - p) / 4 + 1) {
        /* every argument takes at least "$0\r\n\r\n": more cannot fit */
        if (n < 1)
            return -1;
        if (n > 1024 * 1024 * 1024)
            return -1;
        return 0; /* could still be a record cut short */
    }
    if (n > av->cap) {
        const char **na = realloc(av->argv, n * sizeof *na);
        if (!na)
            return -2;
        av->argv = na;
        size_t *nl = realloc(av->lens, n * sizeof *nl);
        if (!nl)
            return -2;
        av->lens = nl;
        av->cap = n;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (p >= end)
            return 0;
        *bad = p;
        if (d[p] != '$')
            return -1;
        p++;
        uint64_t l;
        r = parse_num(d, &p, end, &l);
        if (r <= 0) {
            *bad = p;
            return r;
        }
        if (l > end - p || end - p - l < 2)
            return 0;
        if (d[p + l] != '\r' || d[p + l + 1] != '\n') {
            *bad = p + l;
            return -1;
        }
        av->argv[i] = (const char *)d + p;
        av->lens[i] = (size_t)l;
        p += l + 2;
    }
    *argc = (size_t)n;
    *next = p;
    return 1;
}

static int name_is(const argvec *av, const char *lit)
{
    size_t n = strlen(lit);
    if (av->lens[0] != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = av->argv[0][i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch | 0x20);
        if (ch != lit[i])
            return 0;
    }
    return 1;
}

typedef struct loader {
    em_server *srv;
    const uint8_t *d;
    argvec av;
    em_ctx x;
    em_aof_report *rep;
    int oom;
} loader;

static void stop_at(loader *l, uint64_t off, const char *fmt, const char *what)
{
    if (l->rep->stopped)
        return;
    l->rep->stopped = 1;
    l->rep->offset = off;
    char why[120];
    snprintf(why, sizeof why, fmt, what);
    snprintf(l->rep->msg, sizeof l->rep->msg, "append log: %s (at byte offset %llu)", why,
             (unsigned long long)off);
}

static void run_one(loader *l, size_t argc)
{
    em_capture_sink cap;
    memset(&cap, 0, sizeof cap);
    l->x.argc = argc;
    l->x.argv = l->av.argv;
    l->x.argvlen = l->av.lens;
    l->x.so = &ember__capture_sink_ops;
    l->x.sink = &cap;
    l->x.now = -1;
    /* A command's error reply is ignored, as Redis's loader does: it failed
     * the same way when it was logged. */
    ember__cmd_exec(&l->x);
    free(cap.bulk);
    l->rep->commands++;
}

/*
 * Applies the complete records of d[from, to) (framing already checked).
 * Pass 1 finds how far it may go: up to the first unknown command, never
 * into a MULTI whose EXEC is not in the range. Pass 2 applies that much.
 * Returns the offset applied up to.
 */
static size_t apply_range(loader *l, size_t from, size_t to, int *stopped)
{
    const uint8_t *d = l->d;
    size_t p = from, safe = from, multi_at = 0, argc, next, bad;
    int in_multi = 0;
    *stopped = 0;
    while (p < to) {
        if (d[p] == '#') {
            const uint8_t *e = memchr(d + p, '\n', to - p);
            p = (size_t)(e - d) + 1;
            if (!in_multi)
                safe = p;
            continue;
        }
        int r = parse_record(d, p, to, &l->av, &argc, &next, &bad);
        if (r != 1) {
            l->oom |= r == -2;
            break;
        }
        if (name_is(&l->av, "multi")) {
            if (in_multi) {
                stop_at(l, p, "%s", "MULTI inside MULTI");
                *stopped = 1;
                break;
            }
            in_multi = 1;
            multi_at = p;
        } else if (name_is(&l->av, "exec")) {
            if (!in_multi) {
                stop_at(l, p, "%s", "EXEC without MULTI");
                *stopped = 1;
                break;
            }
            in_multi = 0;
        } else if (!ember__cmd_lookup(l->av.argv[0], l->av.lens[0])) {
            char name[64];
            size_t n = l->av.lens[0] < sizeof name - 1 ? l->av.lens[0] : sizeof name - 1;
            memcpy(name, l->av.argv[0], n);
            for (size_t i = 0; i < n; i++)
                if (name[i] < 32 || name[i] > 126)
                    name[i] = '?';
            name[n] = '\0';
            stop_at(l, p, "unknown command '%s'", name);
            *stopped = 1;
            break;
        }
        p = next;
        if (!in_multi)
            safe = p;
    }
    if (in_multi && !*stopped) {
        stop_at(l, multi_at, "%s", "MULTI without EXEC");
        *stopped = 1;
    }
    for (p = from; p < safe;) {
        if (d[p] == '#') {
            p = (size_t)((const uint8_t *)memchr(d + p, '\n', safe - p) - d) + 1;
            continue;
        }
        if (parse_record(d, p, safe, &l->av, &argc, &next, &bad) != 1)
            break;
        if (!name_is(&l->av, "multi") && !name_is(&l->av, "exec"))
            run_one(l, argc);
        p = next;
    }
    return safe;
}

/* Parses "#EM:<16 hex>:<decimal>" in line [p, e). 1 ok, 0 not ember's. */
static int parse_annotation(const uint8_t *d, size_t p, size_t e, uint64_t *crc, uint64_t *len)
{
    if (e - p < 4 || memcmp(d + p, "#EM:", 4) != 0)
        return 0;
    size_t i = p + 4;
    uint64_t c = 0, n = 0;
    int hex = 0, dec = 0;
    for (; i < e && d[i] != ':'; i++, hex++) {
        int ch = d[i], v = ch >= '0' && ch <= '9'   ? ch - '0'
                           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                                    : -1;
        if (v < 0 || hex >= 16)
            return -1;
        c = c << 4 | (uint64_t)v;
    }
    if (hex != 16 || i >= e)
        return -1;
    for (i++; i < e && d[i] >= '0' && d[i] <= '9'; i++, dec++) {
        if (dec >= 19)
            return -1;
        n = n * 10 + (uint64_t)(d[i] - '0');
    }
    if (!dec || i + 2 != e + 1 || d[i] != '\r')
        return -1;
    *crc = c;
    *len = n;
    return 1;
}

/*
 * The RESP part, d[pos, len). `gstart` is where the current group began
 * (after the previous annotation); records are only framed while scanning
 * and applied once their group is known good.
 */
static void load_resp(loader *l, size_t pos, size_t len)
{
    const uint8_t *d = l->d;
    size_t p = pos, gstart = pos, argc, next, bad;
    int stopped = 0;
    /* An ember log (every log ember writes starts with "#EMBER", and its
     * groups end with "#EM:" lines) is applied only in checked groups; any
     * other log record by record. */
    int seen_em = (len - pos >= 3 && !memcmp(d + pos, "#EM", 3)) ||
                  (len > pos && memmem(d + pos, len - pos, "\n#EM", 4) != NULL);
    while (!stopped) {
        if (p == len) {
            if (gstart == len)
                break;
            if (seen_em) {
                stop_at(l, gstart, "%s", "the last group has no checksum line (torn write)");
                break;
            }
            size_t done = apply_range(l, gstart, len, &stopped);
            (void)done;
            break;
        }
        if (d[p] == '#') {
            const uint8_t *e = memchr(d + p, '\n', len - p);
            if (!e) {
                if (!seen_em)
                    apply_range(l, gstart, p, &stopped);
                stop_at(l, seen_em ? gstart : p, "%s", "truncated annotation line");
                break;
            }
            size_t eol = (size_t)(e - d);
            uint64_t crc, glen;
            int a = parse_annotation(d, p, eol, &crc, &glen);
            if (a < 0) {
                if (!seen_em)
                    apply_range(l, gstart, p, &stopped);
                stop_at(l, seen_em ? gstart : p, "%s", "malformed #EM annotation");
                break;
            }
            if (a == 1) {
                if (glen != p - gstart || ember__crc64(0, d + gstart, p - gstart) != crc) {
                    if (!seen_em) {
                        /* A first group without a good checksum: nothing of it. */
                    }
                    stop_at(l, gstart, "%s", "checksum mismatch: the group is damaged");
                    break;
                }
                apply_range(l, gstart, p, &stopped);
                if (stopped)
                    break;
                seen_em = 1;
                gstart = eol + 1;
                l->rep->sealed = gstart;
            }
            p = eol + 1;
            continue;
        }
        int r = parse_record(d, p, len, &l->av, &argc, &next, &bad);
        if (r == 1) {
            p = next;
            continue;
        }
        if (r == -2) {
            l->oom = 1;
            break;
        }
        /* A cut or malformed record: a foreign log keeps its complete
         * records before it; in an ember log the whole group is lost. */
        if (!seen_em) {
            apply_range(l, gstart, p, &stopped);
            if (!stopped)
                stop_at(l, r == 0 ? p : bad, "%s",
                        r == 0 ? "truncated record at the end" : "malformed record");
        } else {
            stop_at(l, gstart, "%s",
                    r == 0 ? "truncated group at the end (torn write)"
                           : "malformed record in an unchecked group");
        }
        break;
    }
}

int ember__aof_load(em_server *srv, const uint8_t *data, size_t len, int flags, em_aof_report *rep)
{
    em_store *st = &srv->st;
    memset(rep, 0, sizeof *rep);
    em_keyspace *saved;
    if (ember__store_stash(st, &saved) != 0) {
        snprintf(rep->msg, sizeof rep->msg, "append log: out of memory");
        return -1;
    }
    em_stats stats = st->stats;
    loader l;
    memset(&l, 0, sizeof l);
    l.srv = srv;
    l.d = data;
    l.rep = rep;
    l.x.srv = srv;
    l.x.st = st;
    l.x.ks = &st->dbs[0];
    l.x.dbid = 0;
    l.x.flags = EM_CTX_MAY_SELECT | EM_CTX_NO_EVICT; /* Redis's loader checks no maxmemory */
    size_t pos = 0;
    int fatal = 0;
    if (len >= 5 && memcmp(data, "REDIS", 5) == 0) {
        /* Hybrid: an RDB preamble, then RESP records right after its CRC. */
        em_rdb_mem ms = {data, len, 0};
        em_rdb_src src = {ember__rdb_mem_read, &ms};
        em_rdb_err err;
        uint64_t rdb_len = 0;
        if (ember__rdb_load_ex(&src, st, &srv->cfg, ember__clock_ms(&st->clock),
                               EM_RDB_LOAD_TRAILING, &rdb_len, &err) != 0) {
            rep->stopped = 1;
            rep->offset = err.offset;
            snprintf(rep->msg, sizeof rep->msg,
                     "append log: bad RDB preamble: %.120s (at byte offset %llu)", err.msg,
                     (unsigned long long)err.offset);
            fatal = 1;
        }
        pos = (size_t)rdb_len;
    }
    rep->sealed = pos;
    if (!fatal)
        load_resp(&l, pos, len);
    free(l.av.argv);
    free(l.av.lens);
    if (l.oom) {
        snprintf(rep->msg, sizeof rep->msg, "append log: out of memory");
        rep->stopped = 1;
        fatal = 1;
    }
    if (!rep->stopped)
        rep->offset = len;
    if (fatal || (rep->stopped && (flags & EM_AOF_LOAD_STRICT))) {
        ember__store_unstash(st, saved, 0);
        st->stats = stats;
        return -1;
    }
    ember__store_unstash(st, saved, 1);
    st->stats = stats;
    return 0;
}

int ember__aof_policy(const em_aof *a)
{
    return a->policy;
}

void ember__aof_set_policy(em_aof *a, int policy)
{
    pthread_mutex_lock(&a->mu);
    a->policy = policy;
    pthread_mutex_unlock(&a->mu);
}
