/*
 * test_rdb_interop.c — snapshots through the public API (ember_snapshot_*)
 * against Debian's redis-server and redis-check-rdb 7.0:
 *
 *   - ember_snapshot_save(EMBER_SNAPSHOT_PLAIN) of the shared dataset
 *     (tests/common/rdb_interop.h) passes redis-check-rdb, and a
 *     redis-server started on it holds exactly the same data (type,
 *     encoding, absolute expire time, contents of every key);
 *   - redis-server's SAVE of the dataset loads with ember_snapshot_load_path
 *     into the same data and, at Redis 7.0's thresholds, the same encodings;
 *   - a zstd-framed snapshot (the default) of what was loaded loads back
 *     unchanged;
 *   - a damaged Redis file, a version-11 file and a truncated one are refused
 *     with EMBER_ECORRUPT and a message naming the byte offset, and the
 *     database is left exactly as it was (all or nothing).
 *
 * The codec is also tested directly, with hand-built files, in
 * tests/unit/test_rdb.c and tests/unit/test_rdb_interop.c.
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "rdb_interop.h"

static ember_db *open_db(int redis70)
{
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    if (redis70) /* Redis 7.0's set encodings: intset or hashtable only */
        assert_int_equal(ember_config_set(cfg, "set-max-listpack-entries", "0"), EMBER_OK);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static char *dump(ember_db *db)
{
    tr_side s = {db, NULL, NULL};
    tc_buf b = {0};
    tr_dump_all(&s, &b);
    tr_side_close(&s);
    char *r = strdup(tc_buf_cstr(&b));
    tc_buf_free(&b);
    return r;
}

static void test_snapshot_to_redis(void **state)
{
    (void)state;
    char dir[256], path[512];
    tr_make_tmpdir(dir, sizeof dir);
    ember_db *db = open_db(1);
    tr_side es = {db, NULL, NULL};
    tr_fill(&es, tr_now_ms());
    tr_side_close(&es);
    snprintf(path, sizeof path, "%s/ember.rdb", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ember_snapshot_save(db, fd, EMBER_SNAPSHOT_PLAIN), EMBER_OK);
    close(fd);
    tr_check_rdb(path);

    const char *extra[] = {"--dir", dir, "--dbfilename", "ember.rdb", NULL};
    tc_redis r;
    tr_start_redis(&r, extra);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    tr_side rs = {NULL, NULL, c};
    char *a = dump(db);
    tc_buf b = {0};
    tr_dump_all(&rs, &b);
    tr_expect_same("ember_snapshot_save (plain) loaded by redis-server", a, tc_buf_cstr(&b));
    print_message("ember -> redis: %zu bytes of dump compared\n", strlen(a));
    free(a);
    tc_buf_free(&b);
    tc_conn_close(c);
    tc_redis_stop(&r);
    ember_db_close(db);
    tr_remove_dir(dir);
}

/* Loading `path` must fail with EMBER_ECORRUPT, a message containing `what`
 * and a byte offset, and leave db as it was (`before`). */
static void expect_refused(ember_db *db, const char *dir, const char *name, const char *what,
                           const char *before)
{
    char *err = NULL;
    assert_int_equal(ember_snapshot_load_path(db, dir, name, 0, &err), EMBER_ECORRUPT);
    assert_non_null(err);
    if (!strstr(err, what) || !strstr(err, "offset"))
        fail_msg("%s: message \"%s\" lacks \"%s\" or the offset", name, err, what);
    ember_free(err);
    char *after = dump(db);
    tr_expect_same("the database after a refused load", before, after);
    free(after);
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)sz);
    assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return p;
}

static void test_redis_to_snapshot_load(void **state)
{
    (void)state;
    char dir[256], path[512];
    tr_make_tmpdir(dir, sizeof dir);
    const char *extra[] = {"--dir", dir, "--dbfilename", "redis.rdb", NULL};
    tc_redis r;
    tr_start_redis(&r, extra);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    tr_side rs = {NULL, NULL, c};
    tr_fill(&rs, tr_now_ms());
    tr_cmd(&rs, "SAVE", NULL);

    ember_db *db = open_db(1);
    tr_cmd(&(tr_side){db, NULL, NULL}, "SET", "replaced", "by the load", NULL);
    char *err = NULL;
    if (ember_snapshot_load_path(db, dir, "redis.rdb", 0, &err) != EMBER_OK)
        fail_msg("ember_snapshot_load_path: %s", err ? err : "?");
    tc_buf a = {0};
    tr_dump_all(&rs, &a);
    char *b = dump(db);
    tr_expect_same("redis-server's SAVE loaded by ember_snapshot_load_path", tc_buf_cstr(&a), b);
    print_message("redis -> ember: %zu bytes of dump compared\n", a.len);

    /* zstd (the default) round trip of what was loaded. */
    assert_int_equal(ember_snapshot_save_path(db, dir, "ember.zst", 0), EMBER_OK);
    snprintf(path, sizeof path, "%s/ember.zst", dir);
    size_t zn;
    uint8_t *z = read_file(path, &zn);
    assert_true(zn > 4 && z[0] == 0x28 && z[1] == 0xB5 && z[2] == 0x2F && z[3] == 0xFD);
    free(z);
    ember_db *db2 = open_db(1);
    assert_int_equal(ember_snapshot_load_path(db2, dir, "ember.zst", 0, NULL), EMBER_OK);
    char *b2 = dump(db2);
    tr_expect_same("ember's zstd snapshot, loaded back", b, b2);
    free(b2);
    ember_db_close(db2);

    /* Refusals leave everything as it was. */
    snprintf(path, sizeof path, "%s/redis.rdb", dir);
    size_t n;
    uint8_t *f = read_file(path, &n);
    f[n - 1] ^= 0x40; /* the stored CRC */
    write_file(dir, "badcrc.rdb", f, n);
    expect_refused(db, dir, "badcrc.rdb", "checksum mismatch", b);
    f[n - 1] ^= 0x40;
    f[n / 2] ^= 0x40; /* somewhere in the data: a parse error or the CRC */
    write_file(dir, "flipped.rdb", f, n);
    expect_refused(db, dir, "flipped.rdb", "corrupt", b);
    f[n / 2] ^= 0x40;
    write_file(dir, "cut.rdb", f, n / 3);
    expect_refused(db, dir, "cut.rdb", "unexpected end of input", b);
    memcpy(f + 5, "0011", 4);
    write_file(dir, "v11.rdb", f, n);
    expect_refused(db, dir, "v11.rdb", "version 11", b);
    free(f);

    free(b);
    tc_buf_free(&a);
    tc_conn_close(c);
    tc_redis_stop(&r);
    ember_db_close(db);
    tr_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_to_redis),
        cmocka_unit_test(test_redis_to_snapshot_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
