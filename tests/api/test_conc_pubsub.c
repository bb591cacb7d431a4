/*
 * test_conc_pubsub.c — publishers on several threads, one queue subscriber
 * read concurrently on the main thread: every message arrives exactly once,
 * and each publisher's messages in the order it published them (the
 * executor serializes publishes). Run under TSan too. Only <ember.h>.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ember.h>

#define NPUB 4
#define PER 5000

typedef struct pub {
    ember_db *db;
    int id;
    int failures;
} pub;

static void *publisher(void *arg)
{
    pub *p = arg;
    char msg[32];
    for (int i = 0; i < PER; i++) {
        int n = snprintf(msg, sizeof msg, "%d:%d", p->id, i);
        int64_t recv = 0;
        if (ember_publish(p->db, 0, "c", 1, msg, (size_t)n, &recv) != EMBER_OK || recv != 1)
            p->failures++;
    }
    return NULL;
}

static void test_publishers(void **state)
{
    (void)state;
    ember_db *db;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    ember_sub *s;
    assert_int_equal(ember_sub_open(db, NULL, NULL, 64u << 20, &s), EMBER_OK);
    const char *ch = "c";
    size_t cl = 1;
    assert_int_equal(ember_subscribe(s, 1, &ch, &cl), EMBER_OK);
    pthread_t t[NPUB];
    pub p[NPUB];
    for (int i = 0; i < NPUB; i++) {
        p[i] = (pub){db, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, publisher, &p[i]), 0);
    }
    int next[NPUB] = {0}, got = 0, bad = 0;
    while (got < NPUB * PER) {
        struct pollfd pf = {ember_sub_fd(s), POLLIN, 0};
        if (poll(&pf, 1, 5000) != 1)
            break; /* a lost wake-up would stop here */
        ember_message *m;
        while (ember_sub_next(s, &m) == EMBER_OK) {
            int id, seq;
            char buf[32];
            snprintf(buf, sizeof buf, "%.*s", (int)m->datalen, m->data);
            if (sscanf(buf, "%d:%d", &id, &seq) != 2 || id < 0 || id >= NPUB || seq != next[id])
                bad++;
            else
                next[id]++;
            got++;
            ember_message_free(m);
        }
    }
    for (int i = 0; i < NPUB; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(p[i].failures, 0);
    }
    assert_int_equal(bad, 0);
    assert_int_equal(got, NPUB * PER);
    ember_sub_close(s);
    ember_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publishers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
