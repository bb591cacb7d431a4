/*
 * test_conc_aof.c — the append log's group commit under concurrency: several
 * producer threads write under `always` (every acknowledged write is in the
 * synced part of the log, and one sync covers many writes), under
 * `everysec` with ember_aof_wait() per write, and while the log is attached,
 * detached and waited on from other threads. Runs under TSan in CI.
 *
 * Only <ember.h>. Worker threads record; the main thread asserts.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#define THREADS 6
#define PER_THREAD 300

typedef struct memlog {
    pthread_mutex_t mu;
    char *buf;
    size_t len, cap, durable;
    unsigned writes, syncs;
} memlog;

static int64_t ml_write(void *ctx, const void *p, size_t n)
{
    memlog *m = ctx;
    pthread_mutex_lock(&m->mu);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2 + 4096;
        m->buf = realloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
    m->writes++;
    pthread_mutex_unlock(&m->mu);
    return (int64_t)n;
}

static int ml_sync(void *ctx)
{
    memlog *m = ctx;
    pthread_mutex_lock(&m->mu);
    m->syncs++;
    m->durable = m->len;
    pthread_mutex_unlock(&m->mu);
    usleep(200); /* a device's flush: long enough for callers to pile up */
    return 0;
}

typedef struct memsrc {
    const char *p;
    size_t len, pos;
} memsrc;

static int64_t ms_read(void *ctx, void *buf, size_t n)
{
    memsrc *s = ctx;
    size_t k = s->len - s->pos < n ? s->len - s->pos : n;
    if (k)
        memcpy(buf, s->p + s->pos, k);
    s->pos += k;
    return (int64_t)k;
}

typedef struct worker {
    ember_db *db;
    memlog *m;
    int id, wait_each;
    int failures;
    size_t durable_short; /* acknowledged writes found beyond the synced bytes */
} worker;

static void *producer(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char key[32], val[16];
        snprintf(key, sizeof key, "t%d:%d", w->id, i);
        snprintf(val, sizeof val, "%d", i);
        if (ember_set(w->db, key, strlen(key), val, strlen(val)) != EMBER_OK) {
            w->failures++;
            continue;
        }
        uint64_t lsn;
        if (w->wait_each) {
            if (ember_aof_lsn(w->db, &lsn) != EMBER_OK || ember_aof_wait(w->db, lsn) != EMBER_OK) {
                w->failures++;
                continue;
            }
            /* Synced: the bytes up to lsn must be in the writer's durable part. */
            pthread_mutex_lock(&w->m->mu);
            size_t d = w->m->durable;
            pthread_mutex_unlock(&w->m->mu);
            if (lsn > d)
                w->durable_short++;
        }
    }
    return NULL;
}

static ember_db *open_db(void)
{
    ember_db *db;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    return db;
}

static void check_loaded(memlog *m, size_t upto)
{
    ember_db *db = open_db();
    memsrc s = {m->buf, upto, 0};
    char *err = NULL;
    int rc = ember_aof_load_reader(db, ms_read, &s, EMBER_AOF_LOAD_STRICT, &err);
    if (rc != EMBER_OK || err)
        fail_msg("load: %d %s", rc, err ? err : "");
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            char key[32], val[16];
            snprintf(key, sizeof key, "t%d:%d", t, i);
            snprintf(val, sizeof val, "%d", i);
            void *v;
            size_t len;
            assert_int_equal(ember_get(db, key, strlen(key), &v, &len), EMBER_OK);
            assert_int_equal(len, strlen(val));
            assert_memory_equal(v, val, len);
            ember_free(v);
        }
    }
    ember_db_close(db);
}

static void run_producers(int policy, int wait_each, memlog *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    ember_db *db = open_db();
    assert_int_equal(ember_aof_attach_writer(db, ml_write, ml_sync, m, policy), EMBER_OK);
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){db, m, t, wait_each, 0, 0};
        pthread_create(&th[t], NULL, producer, &w[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(w[t].failures, 0);
        assert_int_equal(w[t].durable_short, 0);
    }
    if (policy == EMBER_AOF_ALWAYS) {
        /* Everything acknowledged is synced already: load just that. */
        pthread_mutex_lock(&m->mu);
        size_t d = m->durable, len = m->len;
        pthread_mutex_unlock(&m->mu);
        assert_int_equal(d, len);
    }
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    check_loaded(m, m->durable);
}

static void test_group_commit_always(void **state)
{
    (void)state;
    memlog m;
    run_producers(EMBER_AOF_ALWAYS, 0, &m);
    unsigned total = THREADS * PER_THREAD;
    /* Group commit: one write and one sync per executor batch, so with
     * several producers and a slow sync, far fewer syncs than writes. */
    print_message("always: %u writes acknowledged with %u syncs (%u write calls)\n", total, m.syncs,
                  m.writes);
    assert_true(m.syncs <= total);
    assert_true(m.syncs < total);
    free(m.buf);
    pthread_mutex_destroy(&m.mu);
}

static void test_everysec_wait(void **state)
{
    (void)state;
    memlog m;
    run_producers(EMBER_AOF_EVERYSEC, 1, &m);
    print_message("everysec + wait: %u syncs\n", m.syncs);
    free(m.buf);
    pthread_mutex_destroy(&m.mu);
}

static void test_no_wait(void **state)
{
    (void)state;
    memlog m;
    run_producers(EMBER_AOF_NO, 1, &m);
    free(m.buf);
    pthread_mutex_destroy(&m.mu);
}

/* Attach and detach while producers write (without a log at times): every
 * call returns, and the writes made while a log was attached reach it. */
typedef struct churn {
    ember_db *db;
    int stop;
    int bad;
    pthread_mutex_t mu;
} churn;

static void *churn_writer(void *arg)
{
    churn *c = arg;
    for (int i = 0;; i++) {
        pthread_mutex_lock(&c->mu);
        int stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
        int rc = ember_incr(c->db, "n", 1, NULL);
        uint64_t lsn;
        if (rc != EMBER_OK)
            c->bad++;
        else if (ember_aof_lsn(c->db, &lsn) == EMBER_OK) {
            rc = ember_aof_wait(c->db, lsn);
            if (rc != EMBER_OK && rc != EMBER_ENOTFOUND)
                c->bad++;
        }
        (void)i;
    }
    return NULL;
}

static void test_attach_detach_churn(void **state)
{
    (void)state;
    churn c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    c.db = open_db();
    pthread_t th[3];
    for (int t = 0; t < 3; t++)
        pthread_create(&th[t], NULL, churn_writer, &c);
    for (int k = 0; k < 30; k++) {
        memlog m;
        memset(&m, 0, sizeof m);
        pthread_mutex_init(&m.mu, NULL);
        assert_int_equal(ember_aof_attach_writer(c.db, ml_write, ml_sync, &m, k % 3), EMBER_OK);
        usleep(2000);
        assert_int_equal(ember_aof_detach(c.db), EMBER_OK);
        free(m.buf);
        pthread_mutex_destroy(&m.mu);
    }
    pthread_mutex_lock(&c.mu);
    c.stop = 1;
    pthread_mutex_unlock(&c.mu);
    for (int t = 0; t < 3; t++)
        pthread_join(th[t], NULL);
    assert_int_equal(c.bad, 0);
    ember_db_close(c.db);
    pthread_mutex_destroy(&c.mu);
}

/* A rewrite while producers write under `always`: the new file (preamble
 * plus the writes made during and after the rewrite) holds every write. */
static void test_rewrite_under_load(void **state)
{
    (void)state;
    char p1[] = "/tmp/ember_caof1XXXXXX", p2[] = "/tmp/ember_caof2XXXXXX";
    int f1 = mkstemp(p1), f2 = mkstemp(p2);
    assert_true(f1 >= 0 && f2 >= 0);
    ember_db *db = open_db();
    assert_int_equal(ember_aof_attach(db, f1, EMBER_AOF_ALWAYS), EMBER_OK);
    memlog dummy;
    memset(&dummy, 0, sizeof dummy);
    pthread_mutex_init(&dummy.mu, NULL);
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){db, &dummy, t, 0, 0, 0};
        pthread_create(&th[t], NULL, producer, &w[t]);
    }
    usleep(2000);
    assert_int_equal(ember_aof_rewrite(db, f2), EMBER_OK);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(w[t].failures, 0);
    assert_int_equal(ember_aof_detach(db), EMBER_OK);
    ember_db_close(db);
    FILE *f = fopen(p2, "rb");
    assert_non_null(f);
    memlog img;
    memset(&img, 0, sizeof img);
    img.cap = 1 << 20;
    img.buf = malloc(img.cap);
    size_t r;
    while ((r = fread(img.buf + img.len, 1, img.cap - img.len, f)) > 0) {
        img.len += r;
        if (img.len == img.cap)
            img.buf = realloc(img.buf, img.cap *= 2);
    }
    fclose(f);
    check_loaded(&img, img.len);
    free(img.buf);
    pthread_mutex_destroy(&dummy.mu);
    close(f1);
    close(f2);
    unlink(p1);
    unlink(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit_always),
        cmocka_unit_test(test_everysec_wait),
        cmocka_unit_test(test_no_wait),
        cmocka_unit_test(test_attach_detach_churn),
        cmocka_unit_test(test_rewrite_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
