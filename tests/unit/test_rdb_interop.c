/*
 * test_rdb_interop.c — the RDB codec itself (lib/persist/rdb.h, called
 * directly) against the real thing, Debian's redis-server and
 * redis-check-rdb 7.0:
 *
 *   ember -> Redis   the shared dataset (tests/common/rdb_interop.h: every
 *                    type, compact and big encodings, TTLs, binary keys and
 *                    values, integers, big strings, several databases) written
 *                    by ember's writer as a plain RDB: redis-check-rdb says
 *                    OK, a redis-server started on the file holds exactly the
 *                    same data (type, encoding, absolute expire time, contents
 *                    of every key), and that server's own SAVE loads back into
 *                    ember unchanged;
 *   Redis -> ember   the dataset built on redis-server, plus quicklists with
 *                    plain nodes (DEBUG QUICKLIST-PACKED-THRESHOLD) and small
 *                    packed nodes, saved with SAVE (LZF strings included):
 *                    ember loads the same data and, at Redis 7.0's thresholds,
 *                    the same encodings.
 *
 * tests/integration/test_rdb_interop.c runs the same exchanges through the
 * public snapshot API. A missing redis-server is a failure, not a skip.
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
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "persist/rdb.h"
#include "rdb_interop.h"

/* Redis 7.0's set encodings: intset or hashtable only. */
static const char *const redis70[] = {"set-max-listpack-entries", "0", NULL};

static ember_db *open_db(const char *const *settings)
{
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, EMBER_MODE_INLINE), EMBER_OK);
    for (size_t i = 0; settings && settings[i]; i += 2)
        assert_int_equal(ember_config_set(cfg, settings[i], settings[i + 1]), EMBER_OK);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static em_store *store_of(ember_db *db)
{
    return &db->box->core.srv.st;
}

/* ember's writer over every database of db, to path. */
static void save_file(ember_db *db, const char *path, int64_t ctime_ms)
{
    em_store *st = store_of(db);
    em_rdb_buf b = {0};
    ember__rdb_put_header(&b, ctime_ms / 1000, ember__mem_used(&st->mem), 0);
    for (int d = 0; d < st->ndb; d++) {
        em_keyspace *ks = &st->dbs[d];
        if (ember__dict_size(&ks->dict) == 0)
            continue;
        ember__rdb_put_selectdb(&b, d, ember__dict_size(&ks->dict), ks->nvol);
        for (int t = 0; t < 2; t++)
            for (size_t i = 0; i < ks->dict.size[t]; i++)
                for (em_obj *o = ks->dict.t[t][i]; o; o = o->next)
                    assert_int_equal(ember__rdb_put_object(&b, o), 0);
    }
    ember__rdb_put_eof(&b, 0);
    assert_false(b.oom);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b.p, 1, b.len, f), b.len);
    assert_int_equal(fclose(f), 0);
    ember__rdb_buf_free(&b);
}

static int64_t fd_read(void *ctx, void *buf, size_t n)
{
    ssize_t r = read(*(int *)ctx, buf, n);
    return r < 0 ? -errno : r;
}

static void load_file(ember_db *db, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    em_rdb_src src = {fd_read, &fd};
    em_rdb_err err;
    int rc = ember__rdb_load(&src, store_of(db), &db->box->core.srv.cfg, tr_now_ms(), &err);
    close(fd);
    if (rc)
        fail_msg("ember could not load %s: %s", path, err.msg);
}

static void test_ember_to_redis(void **state)
{
    (void)state;
    char dir[256], path[512];
    tr_make_tmpdir(dir, sizeof dir);
    int64_t base = tr_now_ms();
    ember_db *db = open_db(redis70);
    tr_side es = {db, NULL, NULL};
    tr_fill(&es, base);
    snprintf(path, sizeof path, "%s/ember.rdb", dir);
    save_file(db, path, base);
    tr_check_rdb(path);

    const char *extra[] = {"--dir", dir, "--dbfilename", "ember.rdb", NULL};
    tc_redis r;
    tr_start_redis(&r, extra);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    tr_side rs = {NULL, NULL, c};
    tc_buf a = {0}, b = {0};
    tr_dump_all(&es, &a);
    tr_dump_all(&rs, &b);
    tr_expect_same("ember's file loaded by redis-server", tc_buf_cstr(&a), tc_buf_cstr(&b));
    print_message("ember -> redis: %zu bytes of dump compared\n", a.len);

    /* Full circle: the server's own SAVE of that data (over ember's file,
     * dbfilename being protected) loads back into ember. */
    tr_cmd(&rs, "SAVE", NULL);
    ember_db *back = open_db(redis70);
    load_file(back, path);
    tr_side bs = {back, NULL, NULL};
    tc_buf x = {0};
    tr_dump_all(&bs, &x);
    tr_expect_same("redis-server's SAVE of ember's data, loaded by ember", tc_buf_cstr(&a),
                   tc_buf_cstr(&x));
    tc_buf_free(&x);
    tr_side_close(&bs);
    ember_db_close(back);

    tc_buf_free(&a);
    tc_buf_free(&b);
    tc_conn_close(c);
    tc_redis_stop(&r);
    tr_side_close(&es);
    ember_db_close(db);
    tr_remove_dir(dir);
}

/* What only a Redis-written file has: plain quicklist nodes, lists of many
 * small packed nodes. */
static void fill_redis_only(tr_side *rs)
{
    tr_cmd(rs, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000", NULL);
    char big[3000];
    tr_pattern(big, sizeof big, 3);
    const char *argv[] = {"RPUSH", "list:plain", "small", big, "tail", big};
    size_t lens[] = {5, 10, 5, sizeof big, 4, 1500};
    tr_cmdn(rs, 6, argv, lens);
    tr_cmd(rs, "CONFIG", "SET", "list-max-listpack-size", "5", NULL);
    for (int i = 0; i < 23; i++) {
        char t[16];
        snprintf(t, sizeof t, "n%d", i);
        tr_cmd(rs, "RPUSH", "list:fill5", t, NULL);
    }
    tr_cmd(rs, "CONFIG", "SET", "list-max-listpack-size", "-2", NULL);
}

static void test_redis_to_ember(void **state)
{
    (void)state;
    char dir[256], path[512];
    tr_make_tmpdir(dir, sizeof dir);
    const char *extra[] = {"--dir", dir, "--dbfilename", "redis.rdb", "--enable-debug-command",
                           "yes",   NULL};
    tc_redis r;
    tr_start_redis(&r, extra);
    tc_conn *c = tc_conn_open(r.port);
    assert_non_null(c);
    tr_side rs = {NULL, NULL, c};
    tr_fill(&rs, tr_now_ms());
    fill_redis_only(&rs);
    tr_cmd(&rs, "SAVE", NULL);
    snprintf(path, sizeof path, "%s/redis.rdb", dir);

    ember_db *db = open_db(redis70);
    load_file(db, path);
    tr_side es = {db, NULL, NULL};
    tc_buf a = {0}, b = {0};
    tr_dump_all(&rs, &a);
    tr_dump_all(&es, &b);
    tr_expect_same("redis-server's SAVE loaded by ember", tc_buf_cstr(&a), tc_buf_cstr(&b));
    print_message("redis -> ember: %zu bytes of dump compared\n", a.len);

    /* With ember's defaults (7.2's listpack sets) small sets of strings
     * become listpacks. */
    ember_db *db2 = open_db(NULL);
    load_file(db2, path);
    tr_side es2 = {db2, NULL, NULL};
    const char *argv[] = {"OBJECT", "ENCODING", "set:strs"};
    tr_res e;
    tr_side_cmd(&es2, 3, argv, NULL, &e);
    assert_int_equal(e.v[0].len, 8);
    assert_memory_equal(e.v[0].p, "listpack", 8);
    tr_res_free(&e);
    tr_side_close(&es2);
    ember_db_close(db2);

    tc_buf_free(&a);
    tc_buf_free(&b);
    tc_conn_close(c);
    tc_redis_stop(&r);
    tr_side_close(&es);
    ember_db_close(db);
    tr_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ember_to_redis),
        cmocka_unit_test(test_redis_to_ember),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
