/*
 * test_conc_bgrewrite.c — BGREWRITEAOF while other threads write: every
 * acknowledged write survives rewrites that run on their own thread, and
 * closing the database while one runs waits for it. Runs under TSan in CI.
 *
 * Only <ember.h>. Worker threads record; the main thread asserts.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#define WRITERS 3
#define PER_WRITER 400
#define REWRITES 4

typedef struct writer {
    ember_db *db;
    char key[16];
    int acked; /* INCRs that replied with the next integer */
    int bad;   /* replies that were not */
} writer;

static ember_reply *cmd(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *r = NULL;
    if (ember_command(db, argc, argv, NULL, &r) != EMBER_OK)
        return NULL;
    return r;
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    const char *argv[] = {"INCR", w->key};
    for (int i = 0; i < PER_WRITER; i++) {
        ember_reply *r = cmd(w->db, 2, argv);
        if (r && ember_reply_type(r) == EMBER_REPLY_INTEGER &&
            ember_reply_integer(r) == w->acked + 1)
            w->acked++;
        else
            w->bad++;
        ember_reply_free(r);
    }
    return NULL;
}

/* A field of INFO persistence as an integer (-1 when missing). */
static long long persistence_field(ember_db *db, const char *name)
{
    const char *argv[] = {"INFO", "persistence"};
    ember_reply *r = cmd(db, 2, argv);
    long long v = -1;
    if (r && ember_reply_type(r) == EMBER_REPLY_STRING) {
        char key[64];
        snprintf(key, sizeof key, "\r\n%s:", name);
        const char *p = strstr(ember_reply_str(r, NULL), key);
        if (p)
            v = atoll(p + strlen(key));
    }
    ember_reply_free(r);
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static ember_db *open_db(const char *dir)
{
    ember_db *db = NULL;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_aof_open_path(db, dir, "log.aof", EMBER_AOF_EVERYSEC, 0, NULL),
                     EMBER_OK);
    return db;
}

static void test_rewrites_during_writes(void **state)
{
    (void)state;
    char dir[] = "/tmp/ember_conc_bgrewrite_XXXXXX";
    assert_non_null(mkdtemp(dir));
    ember_db *db = open_db(dir);
    writer w[WRITERS];
    pthread_t t[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].db = db;
        snprintf(w[i].key, sizeof w[i].key, "k%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
    }
    int started = 0, refused = 0;
    const char *bg[] = {"BGREWRITEAOF"};
    for (int n = 0; n < REWRITES; n++) {
        ember_reply *r = cmd(db, 1, bg);
        assert_non_null(r);
        if (ember_reply_type(r) == EMBER_REPLY_STATUS)
            started++;
        else
            refused++; /* "already in progress": the previous one still runs */
        ember_reply_free(r);
        for (int k = 0; k < 2000 && persistence_field(db, "aof_rewrite_in_progress") != 0; k++)
            sleep_ms(1);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(refused, 0); /* each one waited for the previous one */
    assert_int_equal(started, REWRITES);
    assert_int_equal(persistence_field(db, "aof_rewrites"), started);
    /* One more, and close at once: the close waits for it. */
    ember_reply_free(cmd(db, 1, bg));
    ember_db_close(db);

    db = open_db(dir);
    for (int i = 0; i < WRITERS; i++) {
        assert_int_equal(w[i].bad, 0);
        const char *get[] = {"GET", w[i].key};
        ember_reply *r = cmd(db, 2, get);
        assert_non_null(r);
        char want[16];
        snprintf(want, sizeof want, "%d", w[i].acked);
        assert_string_equal(ember_reply_str(r, NULL), want);
        ember_reply_free(r);
    }
    ember_db_close(db);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrites_during_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
