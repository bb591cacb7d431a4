/*
 * test_aof_path.c — the append log by path: ember_aof_open_path() and
 * ember_aof_rewrite_path().
 *
 * Round trips through the path API, a rewrite then a reopen (same data), a
 * damaged tail and a Redis-written log (replaced by a snapshot so appends
 * load again), argument errors, and the rename dance under faults: this file
 * interposes open/write/fdatasync/fsync/rename (the library's calls resolve
 * to the executable's definitions first) to fail, or to end the process
 * (_exit, a crash as far as the files are concerned), at every step of a
 * rewrite: creating, writing and syncing the temporary file, the rename and
 * the directory sync. Whatever happens, the name must hold a whole log with
 * every write made before.
 */
#include <dirent.h>
#include <pthread.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#define T0 1700000000000ll

/* ------------------------------------------------------------ fault points */

enum { F_NONE, F_OPEN, F_WRITE, F_SYNC, F_RENAME, F_DIRSYNC };
enum { M_FAIL, M_CRASH_BEFORE, M_CRASH_AFTER };

static volatile int fault_at = F_NONE, fault_mode = M_FAIL, fault_hits;

/* 1 if fd is open on a path of a temporary file (<name>.tmp-...). */
static int fd_is_tmp(int fd)
{
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strstr(target, ".tmp-") != NULL;
}

static int fd_is_dir(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Called before the real call when the point matches: 1 = fail it. */
static int fire_before(int point, int match)
{
    if (fault_at != point || !match)
        return 0;
    fault_at = F_NONE; /* once */
    fault_hits++;
    if (fault_mode == M_CRASH_BEFORE)
        _exit(0);
    return fault_mode == M_FAIL;
}

static void fire_after(int crash)
{
    if (crash)
        _exit(0);
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

static int open_common(const char *sym, const char *path, int flags, mode_t mode)
{
    int (*real)(const char *, int, ...) = REAL(sym, int (*)(const char *, int, ...));
    int hit = fault_at == F_OPEN && (flags & O_CREAT) && strstr(path, ".tmp-");
    int crash_after = hit && fault_mode == M_CRASH_AFTER;
    if (fire_before(F_OPEN, hit)) {
        errno = EIO;
        return -1;
    }
    int fd = real(path, flags, mode);
    fire_after(crash_after);
    return fd;
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return open_common("open", path, flags, mode);
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return open_common("open64", path, flags, mode);
}

ssize_t write(int fd, const void *p, size_t n)
{
    ssize_t (*real)(int, const void *, size_t) =
        REAL("write", ssize_t(*)(int, const void *, size_t));
    int hit = fault_at == F_WRITE && fd_is_tmp(fd);
    int crash_after = hit && fault_mode == M_CRASH_AFTER;
    if (fire_before(F_WRITE, hit)) {
        errno = EIO;
        return -1;
    }
    ssize_t w = real(fd, p, n);
    fire_after(crash_after);
    return w;
}

static int sync_common(const char *sym, int fd)
{
    int (*real)(int) = REAL(sym, int (*)(int));
    int point = F_NONE;
    if (fault_at == F_SYNC && fd_is_tmp(fd))
        point = F_SYNC;
    else if (fault_at == F_DIRSYNC && fd_is_dir(fd))
        point = F_DIRSYNC;
    int crash_after = point != F_NONE && fault_mode == M_CRASH_AFTER;
    if (point != F_NONE && fire_before(point, 1)) {
        errno = EIO;
        return -1;
    }
    int rc = real(fd);
    fire_after(crash_after);
    return rc;
}

int fsync(int fd)
{
    return sync_common("fsync", fd);
}

int fdatasync(int fd)
{
    return sync_common("fdatasync", fd);
}

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) = REAL("rename", int (*)(const char *, const char *));
    int hit = fault_at == F_RENAME && strstr(from, ".tmp-");
    int crash_after = hit && fault_mode == M_CRASH_AFTER;
    if (fire_before(F_RENAME, hit)) {
        errno = EIO;
        return -1;
    }
    int rc = real(from, to);
    fire_after(crash_after);
    return rc;
}

static void arm(int point, int mode)
{
    fault_hits = 0;
    fault_mode = mode;
    fault_at = point;
}

/* ------------------------------------------------------------ helpers */

static ember_db *open_mode(int mode)
{
    ember_config *cfg;
    ember_db *db;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, mode), EMBER_OK);
    assert_int_equal(ember_config_set_virtual_clock(cfg, T0), EMBER_OK);
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static ember_reply *cmdv(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *r = NULL;
    assert_int_equal(ember_command(db, argc, argv, NULL, &r), EMBER_OK);
    assert_non_null(r);
    return r;
}

#define NARGS(...) (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))
#define CMD(db, ...) cmdv(db, NARGS(__VA_ARGS__), (const char *[]){__VA_ARGS__})
#define RUN(db, ...) ember_reply_free(CMD(db, __VA_ARGS__))

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The elements of an array reply as strings, sorted when `sort`; pairs of
 * a map-like reply joined as "f=v" first when `pairs`. */
static void put_elems(sbuf *b, const ember_reply *r, int sort, int pairs)
{
    size_t n = ember_reply_len(r), k = pairs ? n / 2 : n;
    char **items = calloc(k + 1, sizeof *items);
    for (size_t i = 0; i < k; i++) {
        size_t l1, l2 = 0;
        const char *s1 = ember_reply_str(ember_reply_element(r, pairs ? 2 * i : i), &l1);
        const char *s2 = pairs ? ember_reply_str(ember_reply_element(r, 2 * i + 1), &l2) : "";
        items[i] = malloc(l1 + l2 + 2);
        if (l1) /* an empty string may come back as NULL */
            memcpy(items[i], s1, l1);
        items[i][l1] = '=';
        if (l2)
            memcpy(items[i] + l1 + 1, s2, l2);
        items[i][l1 + (pairs ? l2 + 1 : 0)] = '\0';
    }
    if (sort)
        qsort(items, k, sizeof *items, cmp_str);
    for (size_t i = 0; i < k; i++) {
        sb_put(b, items[i], strlen(items[i]));
        sb_put(b, ",", 1);
        free(items[i]);
    }
    free(items);
}

/* Every key of every database with its type, value and TTL, in a stable
 * order: equal strings mean equal contents. */
static char *dump(ember_db *root)
{
    sbuf b = {0};
    for (int d = 0; d < 16; d++) {
        ember_db *db;
        assert_int_equal(ember_db_view(root, d, &db), EMBER_OK);
        ember_reply *keys = CMD(db, "keys", "*");
        size_t n = ember_reply_len(keys);
        char **names = calloc(n + 1, sizeof *names);
        for (size_t i = 0; i < n; i++)
            names[i] = strdup(ember_reply_str(ember_reply_element(keys, i), NULL));
        ember_reply_free(keys);
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n; i++) {
            char head[600];
            ember_reply *t = CMD(db, "type", names[i]);
            ember_reply *ttl = CMD(db, "pttl", names[i]);
            const char *type = ember_reply_str(t, NULL);
            snprintf(head, sizeof head, "%d:%s:%s:%lld=", d, names[i], type,
                     (long long)ember_reply_integer(ttl));
            sb_put(&b, head, strlen(head));
            ember_reply *v;
            if (!strcmp(type, "string")) {
                v = CMD(db, "get", names[i]);
                size_t l;
                const char *s = ember_reply_str(v, &l);
                sb_put(&b, s, l);
            } else if (!strcmp(type, "list")) {
                v = CMD(db, "lrange", names[i], "0", "-1");
                put_elems(&b, v, 0, 0);
            } else if (!strcmp(type, "hash")) {
                v = CMD(db, "hgetall", names[i]);
                put_elems(&b, v, 1, 1);
            } else if (!strcmp(type, "set")) {
                v = CMD(db, "smembers", names[i]);
                put_elems(&b, v, 1, 0);
            } else {
                v = CMD(db, "zrange", names[i], "0", "-1", "withscores");
                put_elems(&b, v, 0, 1);
            }
            sb_put(&b, "\n", 1);
            ember_reply_free(v);
            ember_reply_free(t);
            ember_reply_free(ttl);
            free(names[i]);
        }
        free(names);
        ember_db_close(db);
    }
    if (!b.p)
        sb_put(&b, "", 0);
    return b.p;
}

/* Writes of every type, expiries, two databases, a MULTI (ember_run). */
static int two_writes(ember_db *db, void *ud)
{
    (void)ud;
    RUN(db, "set", "pair", "1");
    RUN(db, "incr", "pair");
    return 0;
}

static void populate(ember_db *db, int round)
{
    char v[32];
    snprintf(v, sizeof v, "v%d", round);
    RUN(db, "set", "s", v);
    RUN(db, "set", "ttl", v, "px", "100000");
    RUN(db, "rpush", "l", "a", v, "c");
    RUN(db, "hset", "h", "f", v, "g", "2");
    RUN(db, "sadd", "set", "1", "2", v);
    RUN(db, "zadd", "z", "1", "a", "2.5", v);
    assert_int_equal(ember_run(db, two_writes, NULL), 0);
    for (int i = 0; i < 50; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i % 7);
        RUN(db, "append", k, v);
    }
    ember_db *d3;
    assert_int_equal(ember_db_view(db, 3, &d3), EMBER_OK);
    RUN(d3, "set", "in3", v);
    ember_db_close(d3);
}

static char *make_dir(void)
{
    char tmpl[] = "/tmp/ember-aofpath-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return strdup(tmpl);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sbuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_put(&b, chunk, n);
    fclose(f);
    if (!b.p)
        sb_put(&b, "", 0);
    *len = b.len;
    return b.p;
}

static void write_file(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Number of temporary files (<name>.tmp-*) left in dir. */
static int tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *p = join(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Opens dir/name in a fresh database and returns its dump; *err_out gets
 * the open's message (or NULL). */
static char *reopen_dump(const char *dir, const char *name, int mode, char **err_out)
{
    ember_db *db = open_mode(mode);
    char *err = NULL;
    int rc = ember_aof_open_path(db, dir, name, EMBER_AOF_ALWAYS, 0, &err);
    if (rc != EMBER_OK)
        fail_msg("reopen: %d %s", rc, err ? err : "");
    char *d = dump(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    if (err_out)
        *err_out = err;
    else
        ember_free(err);
    return d;
}

static const int mode_executor = EMBER_MODE_EXECUTOR;
static const int mode_inline = EMBER_MODE_INLINE;

/* ------------------------------------------------------------ tests */

static void test_roundtrip(void **state)
{
    int mode = *(const int *)*state;
    char *dir = make_dir();
    ember_db *db = open_mode(mode);
    char *err = (char *)1;
    assert_int_equal(ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, &err), EMBER_OK);
    assert_null(err);
    /* Only one log at a time. */
    assert_int_equal(ember_aof_open_path(db, dir, "other.aof", EMBER_AOF_ALWAYS, 0, &err),
                     EMBER_EBUSY);
    assert_non_null(err);
    ember_free(err);
    char *other = join(dir, "other.aof");
    assert_int_equal(access(other, F_OK), -1); /* not created */
    free(other);
    populate(db, 1);
    char *want = dump(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    /* The file is a log redis-check-aof would read: ember's first line. */
    char *path = join(dir, "app.aof");
    size_t len;
    char *img = read_file(path, &len);
    assert_non_null(img);
    assert_true(len > 8 && !memcmp(img, "#EMBER\r\n", 8));
    free(img);
    /* Reopen: the same data, loaded without a word, and appending goes on. */
    db = open_mode(mode);
    assert_int_equal(
        ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_EVERYSEC, EMBER_AOF_LOAD_STRICT, &err),
        EMBER_OK);
    assert_null(err);
    char *got = dump(db);
    assert_string_equal(got, want);
    free(got);
    free(want);
    populate(db, 2);
    want = dump(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    got = reopen_dump(dir, "app.aof", mode, &err);
    assert_null(err);
    assert_string_equal(got, want);
    /* ember_aof_load reads the same file. */
    db = open_mode(mode);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(ember_aof_load(db, fd, EMBER_AOF_LOAD_STRICT, NULL), EMBER_OK);
    close(fd);
    free(got);
    got = dump(db);
    assert_string_equal(got, want);
    ember_db_close(db);
    free(got);
    free(want);
    free(path);
    assert_int_equal(tmp_files(dir), 0);
    remove_dir(dir);
}

static void test_rewrite_reopen(void **state)
{
    int mode = *(const int *)*state;
    char *dir = make_dir();
    char *path = join(dir, "app.aof");
    ember_db *db = open_mode(mode);
    assert_int_equal(ember_aof_rewrite_path(db), EMBER_ENOTFOUND);
    assert_int_equal(ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, NULL), EMBER_OK);
    for (int r = 0; r < 20; r++)
        populate(db, r);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(ember_aof_rewrite_path(db), EMBER_OK);
    assert_int_equal(stat(path, &after), 0);
    assert_true(after.st_ino != before.st_ino); /* a new file under the name */
    assert_true(after.st_size < before.st_size);
    assert_int_equal(tmp_files(dir), 0);
    size_t len;
    char *img = read_file(path, &len);
    assert_true(len > 5 && !memcmp(img, "REDIS", 5)); /* the RDB preamble */
    free(img);
    /* The log goes on in the new file. */
    populate(db, 99);
    RUN(db, "del", "k3");
    char *want = dump(db);
    uint64_t lsn;
    assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_OK);
    assert_int_equal(ember_aof_wait(db, lsn), EMBER_OK);
    /* A second rewrite, then close without detaching (ember_db_close does it). */
    assert_int_equal(ember_aof_rewrite_path(db), EMBER_OK);
    RUN(db, "set", "last", "1");
    char *want2 = dump(db);
    ember_db_close(db);
    char *err = NULL;
    char *got = reopen_dump(dir, "app.aof", mode, &err);
    assert_null(err);
    assert_string_equal(got, want2);
    assert_string_not_equal(want, want2);
    free(got);
    free(want);
    free(want2);
    /* A log attached by descriptor has no path to rewrite to. */
    db = open_mode(mode);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_int_equal(ember_aof_attach(db, fd, EMBER_AOF_NO), EMBER_OK);
    assert_int_equal(ember_aof_rewrite_path(db), EMBER_EINVAL);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    close(fd);
    ember_db_close(db);
    free(path);
    remove_dir(dir);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    char *dir = make_dir();
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR);
    char *err = (char *)1;
    assert_int_equal(ember_aof_open_path(NULL, dir, "a.aof", EMBER_AOF_ALWAYS, 0, &err),
                     EMBER_EINVAL);
    assert_null(err);
    assert_int_equal(ember_aof_open_path(db, dir, NULL, EMBER_AOF_ALWAYS, 0, NULL), EMBER_EINVAL);
    assert_int_equal(ember_aof_open_path(db, dir, "", EMBER_AOF_ALWAYS, 0, NULL), EMBER_EINVAL);
    assert_int_equal(ember_aof_open_path(db, dir, "sub/a.aof", EMBER_AOF_ALWAYS, 0, NULL),
                     EMBER_EINVAL);
    assert_int_equal(ember_aof_open_path(db, dir, "a.aof", 7, 0, NULL), EMBER_EINVAL);
    assert_int_equal(ember_aof_open_path(db, dir, "a.aof", EMBER_AOF_ALWAYS, 2, NULL),
                     EMBER_EINVAL);
    assert_int_equal(ember_aof_rewrite_path(NULL), EMBER_EINVAL);
    /* A missing directory: a clear error, nothing attached. */
    assert_int_equal(
        ember_aof_open_path(db, "/nonexistent-ember-dir/sub", "a.aof", EMBER_AOF_ALWAYS, 0, &err),
        EMBER_ENOTFOUND);
    assert_non_null(err);
    assert_non_null(strstr(err, "no such directory"));
    assert_non_null(strstr(err, "/nonexistent-ember-dir/sub"));
    ember_free(err);
    uint64_t lsn;
    assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_ENOTFOUND);
    ember_db_close(db);
    assert_int_equal(tmp_files(dir), 0);
    remove_dir(dir);
}

/* A torn tail under the default policy: the good groups load, the file is
 * replaced by them, and what is appended afterwards loads again. Strict
 * mode refuses and attaches nothing. */
static void test_damaged_tail(void **state)
{
    int mode = *(const int *)*state;
    char *dir = make_dir();
    char *path = join(dir, "app.aof");
    ember_db *db = open_mode(mode);
    assert_int_equal(ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, NULL), EMBER_OK);
    populate(db, 1);
    char *want = dump(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    size_t len;
    char *img = read_file(path, &len);
    static const char torn[] = "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$5\r\nyy";
    char *bad = malloc(len + sizeof torn);
    memcpy(bad, img, len);
    memcpy(bad + len, torn, sizeof torn - 1);
    write_file(path, bad, len + sizeof torn - 1);
    free(img);

    db = open_mode(mode);
    char *err = NULL;
    assert_int_equal(
        ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, EMBER_AOF_LOAD_STRICT, &err),
        EMBER_ECORRUPT);
    assert_non_null(err);
    ember_free(err);
    uint64_t lsn;
    assert_int_equal(ember_aof_lsn(db, &lsn), EMBER_ENOTFOUND);
    char *got = dump(db);
    assert_string_equal(got, ""); /* nothing changed */
    free(got);
    assert_int_equal(ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, &err), EMBER_OK);
    assert_non_null(err); /* where and why it stopped */
    assert_non_null(strstr(err, "byte offset"));
    ember_free(err);
    got = dump(db);
    assert_string_equal(got, want);
    free(got);
    RUN(db, "set", "after", "1");
    free(want);
    want = dump(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    got = reopen_dump(dir, "app.aof", mode, &err);
    assert_null(err); /* whole now */
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(bad);
    free(path);
    assert_int_equal(tmp_files(dir), 0);
    remove_dir(dir);
}

/* A log written by redis-server 7.0 (tests/fuzz/corpus_aof): loads, and is
 * replaced by a snapshot so ember's groups can follow it. */
static void test_redis_log(void **state)
{
    int mode = *(const int *)*state;
    const char *src = getenv("EMBER_SOURCE_DIR");
    if (!src)
        skip();
    char *seed = join(src, "tests/fuzz/corpus_aof/redis70_incr.seed");
    size_t len;
    char *img = read_file(seed, &len);
    free(seed);
    assert_non_null(img);
    char *dir = make_dir();
    char *path = join(dir, "appendonly.aof");
    write_file(path, img, len);
    free(img);
    ember_db *db = open_mode(mode);
    char *err = NULL;
    assert_int_equal(ember_aof_open_path(db, dir, "appendonly.aof", EMBER_AOF_ALWAYS, 0, &err),
                     EMBER_OK);
    assert_null(err);
    ember_reply *r = CMD(db, "get", "a");
    assert_string_equal(ember_reply_str(r, NULL), "2");
    ember_reply_free(r);
    RUN(db, "set", "ember", "yes");
    char *want = dump(db);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    char *got = reopen_dump(dir, "appendonly.aof", mode, &err);
    assert_null(err);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(path);
    remove_dir(dir);
}

/* A fault at each step of the rename dance: the rewrite fails with
 * EMBER_EIO and the name still holds the complete log — the old one, which
 * goes on receiving writes, or (directory sync failed after the rename)
 * the new one, after which the log refuses writes. */
static void test_rewrite_faults(void **state)
{
    int mode = *(const int *)*state;
    static const int points[] = {F_OPEN, F_WRITE, F_SYNC, F_RENAME, F_DIRSYNC};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        char *dir = make_dir();
        char *path = join(dir, "app.aof");
        ember_db *db = open_mode(mode);
        assert_int_equal(ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, NULL),
                         EMBER_OK);
        populate(db, 1);
        char *want = dump(db);
        size_t len0, len1;
        char *img0 = read_file(path, &len0);
        struct stat st0, st1;
        assert_int_equal(stat(path, &st0), 0);
        arm(points[i], M_FAIL);
        int rc = ember_aof_rewrite_path(db);
        fault_at = F_NONE;
        if (fault_hits != 1 || rc != EMBER_EIO)
            fail_msg("fault point %d: hits %d, rc %d", points[i], fault_hits, rc);
        assert_int_equal(tmp_files(dir), 0);
        assert_int_equal(stat(path, &st1), 0);
        char *img1 = read_file(path, &len1);
        ember_db *v;
        assert_int_equal(ember_db_view(db, 0, &v), EMBER_OK);
        int set = ember_set(v, "after", 5, "1", 1);
        ember_db_close(v);
        if (points[i] != F_DIRSYNC) {
            /* Nothing changed: the old file, byte for byte, and it goes on. */
            assert_true(st1.st_ino == st0.st_ino);
            assert_true(len1 == len0 && !memcmp(img0, img1, len0));
            assert_int_equal(set, EMBER_OK);
            free(want);
            want = dump(db);
            assert_int_equal(ember_aof_detach(db), EMBER_OK);
        } else {
            /* Renamed: the name holds the new, complete log, which fails. */
            assert_true(st1.st_ino != st0.st_ino);
            assert_true(len1 > 5 && !memcmp(img1, "REDIS", 5));
            assert_int_equal(set, EMBER_EIO);
            assert_int_equal(ember_aof_detach(db), EMBER_EIO);
        }
        ember_db_close(db);
        char *err = NULL;
        char *got = reopen_dump(dir, "app.aof", mode, &err);
        assert_null(err);
        assert_string_equal(got, want);
        free(got);
        free(want);
        free(img0);
        free(img1);
        free(path);
        remove_dir(dir);
    }
}

/* A crash (the process ends) before and after each step of a rewrite, in a
 * child: reopening finds a whole log with everything written before. */
static void test_rewrite_crashes(void **state)
{
    (void)state;
    static const int points[] = {F_OPEN, F_WRITE, F_SYNC, F_RENAME, F_DIRSYNC};
    ember_db *ref = open_mode(EMBER_MODE_INLINE);
    populate(ref, 1);
    populate(ref, 2);
    char *want = dump(ref);
    ember_db_close(ref);
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        for (int m = M_CRASH_BEFORE; m <= M_CRASH_AFTER; m++) {
            char *dir = make_dir();
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) {
                ember_db *db = open_mode(EMBER_MODE_EXECUTOR);
                if (ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, NULL))
                    _exit(3);
                populate(db, 1);
                populate(db, 2);
                arm(points[i], m);
                ember_aof_rewrite_path(db);
                _exit(4); /* the fault point was never reached */
            }
            int status;
            assert_int_equal(waitpid(pid, &status, 0), pid);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
            char *err = NULL;
            char *got = reopen_dump(dir, "app.aof", EMBER_MODE_EXECUTOR, &err);
            if (err)
                fail_msg("point %d mode %d: %s", points[i], m, err);
            assert_string_equal(got, want);
            free(got);
            remove_dir(dir);
        }
    }
    free(want);
}

typedef struct writer_arg {
    ember_db *db;
    volatile int stop;
    int done, failed; /* acknowledged writes; failures (checked by the main thread) */
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *w = p;
    while (!w->stop && w->done < 200000) {
        char k[32];
        int n = snprintf(k, sizeof k, "w%d", w->done);
        if (ember_set(w->db, k, (size_t)n, k, (size_t)n) != EMBER_OK) {
            w->failed++;
            break;
        }
        w->done++;
    }
    return NULL;
}

/* Rewrites while another thread writes under `always`: after reopening,
 * every acknowledged write is there, whichever file it went to. */
static void test_rewrite_while_writing(void **state)
{
    (void)state;
    char *dir = make_dir();
    ember_db *db = open_mode(EMBER_MODE_EXECUTOR);
    assert_int_equal(ember_aof_open_path(db, dir, "app.aof", EMBER_AOF_ALWAYS, 0, NULL), EMBER_OK);
    writer_arg w = {db, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ember_aof_rewrite_path(db), EMBER_OK);
    w.stop = 1;
    pthread_join(th, NULL);
    assert_int_equal(w.failed, 0);
    assert_true(w.done > 0);
    char *want = dump(db);
    ember_db_close(db); /* detaches */
    char *err = NULL;
    char *got = reopen_dump(dir, "app.aof", EMBER_MODE_EXECUTOR, &err);
    assert_null(err);
    assert_string_equal(got, want);
    free(got);
    free(want);
    assert_int_equal(tmp_files(dir), 0);
    remove_dir(dir);
}

#define BOTH(t)                                                                                    \
    cmocka_unit_test_prestate(t, (void *)&mode_executor),                                          \
        cmocka_unit_test_prestate(t, (void *)&mode_inline)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_roundtrip),
        BOTH(test_rewrite_reopen),
        cmocka_unit_test(test_bad_arguments),
        BOTH(test_damaged_tail),
        BOTH(test_redis_log),
        BOTH(test_rewrite_faults),
        cmocka_unit_test(test_rewrite_crashes),
        cmocka_unit_test(test_rewrite_while_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
