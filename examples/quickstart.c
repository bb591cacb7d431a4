/*
 * quickstart.c — ember in three short scenes, using only <ember.h>.
 *
 *   1. Counters: several threads INCR the same keys at once. Every command runs
 *      on ember's executor thread, one at a time, so no increment is lost.
 *   2. A session cache: values stored with a time to live (SET ... EX), read
 *      back with GET, and their remaining life checked with TTL.
 *   3. Testing expiry without sleeping: a database on a virtual clock, where
 *      ember_clock_advance() moves time forward and the session expires.
 *
 * Build: tools/quickstart.sh (or cmake; this file becomes build/examples/quickstart).
 * Elsewhere: cc quickstart.c $(pkg-config --cflags --libs ember) -pthread
 */
#include <ember.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4
#define INCRS_PER_THREAD 25000

/* Stops the program with a message when an ember call fails. */
static void check(int status, const char *what)
{
    if (status != EMBER_OK) {
        fprintf(stderr, "quickstart: %s failed: %s\n", what, ember_strerror(status));
        exit(1);
    }
}

/* Runs one command given as NUL-terminated strings and returns its reply
 * (release it with ember_reply_free). A Redis error reply stops the program. */
static ember_reply *command(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *reply = NULL;
    check(ember_command(db, argc, argv, NULL, &reply), argv[0]);
    if (ember_reply_type(reply) == EMBER_REPLY_ERROR) {
        fprintf(stderr, "quickstart: %s replied: %s\n", argv[0], ember_reply_str(reply, NULL));
        exit(1);
    }
    return reply;
}

/* A command whose reply is an integer (INCR, TTL, DBSIZE...). */
static int64_t command_int(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *reply = command(db, argc, argv);
    int64_t v = ember_reply_integer(reply);
    ember_reply_free(reply);
    return v;
}

/* Prints GET key: the value, or (nil) when the key does not exist. */
static void print_get(ember_db *db, const char *key)
{
    const char *argv[] = {"GET", key};
    ember_reply *reply = command(db, 2, argv);
    if (ember_reply_type(reply) == EMBER_REPLY_NIL)
        printf("    GET %-14s -> (nil)\n", key);
    else
        printf("    GET %-14s -> \"%s\"\n", key, ember_reply_str(reply, NULL));
    ember_reply_free(reply);
}

/* ------------------------------------------------------------------ 1 */

struct worker {
    pthread_t thread;
    ember_db *db;
    int failures; /* checked by main: workers only count, they never exit */
};

static void *count_visits(void *arg)
{
    struct worker *w = arg;
    const char *page[] = {"INCR", "visits:home"};
    const char *total[] = {"INCR", "visits:total"};
    for (int i = 0; i < INCRS_PER_THREAD; i++) {
        ember_reply *r1 = NULL, *r2 = NULL;
        /* Any thread may call ember at any time; no lock is needed here. */
        if (ember_command(w->db, 2, page, NULL, &r1) != EMBER_OK ||
            ember_command(w->db, 2, total, NULL, &r2) != EMBER_OK ||
            ember_reply_type(r1) != EMBER_REPLY_INTEGER ||
            ember_reply_type(r2) != EMBER_REPLY_INTEGER)
            w->failures++;
        ember_reply_free(r1);
        ember_reply_free(r2);
    }
    return NULL;
}

static void scene_counters(void)
{
    printf("1. Counters shared by %d threads\n", NTHREADS);
    ember_db *db = NULL;
    check(ember_db_open(NULL, &db), "ember_db_open"); /* NULL: default settings */

    struct worker workers[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        workers[i].db = db;
        workers[i].failures = 0;
        if (pthread_create(&workers[i].thread, NULL, count_visits, &workers[i]) != 0) {
            fprintf(stderr, "quickstart: pthread_create failed\n");
            exit(1);
        }
    }
    int failures = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(workers[i].thread, NULL);
        failures += workers[i].failures;
    }

    const int64_t expected = (int64_t)NTHREADS * INCRS_PER_THREAD;
    const char *get[] = {"GET", "visits:total"};
    ember_reply *reply = command(db, 2, get);
    int64_t total = strtoll(ember_reply_str(reply, NULL), NULL, 10);
    ember_reply_free(reply);
    printf("    %d threads x %d INCR each, %d failed calls\n", NTHREADS, INCRS_PER_THREAD,
           failures);
    printf("    visits:total = %lld (expected %lld): %s\n", (long long)total, (long long)expected,
           total == expected && failures == 0 ? "exact, no update lost" : "WRONG");
    if (total != expected || failures != 0)
        exit(1);
    check(ember_db_close(db), "ember_db_close");
}

/* ------------------------------------------------------------------ 2 */

static void scene_sessions(void)
{
    printf("\n2. A session cache with time to live\n");
    ember_db *db = NULL;
    check(ember_db_open(NULL, &db), "ember_db_open");

    /* The session lives 30 minutes; the preference never expires. */
    const char *set_session[] = {"SET", "session:alice", "user=alice;cart=3", "EX", "1800"};
    ember_reply_free(command(db, 5, set_session));
    const char *set_pref[] = {"SET", "pref:alice", "theme=dark"};
    ember_reply_free(command(db, 3, set_pref));
    printf("    SET session:alice ... EX 1800, SET pref:alice ... (no expiry)\n");

    print_get(db, "session:alice");
    const char *ttl_session[] = {"TTL", "session:alice"};
    const char *ttl_pref[] = {"TTL", "pref:alice"};
    const char *ttl_none[] = {"TTL", "session:nobody"};
    printf("    TTL session:alice  -> %lld s left\n", (long long)command_int(db, 2, ttl_session));
    printf("    TTL pref:alice     -> %lld (-1: no expiry)\n",
           (long long)command_int(db, 2, ttl_pref));
    printf("    TTL session:nobody -> %lld (-2: no such key)\n",
           (long long)command_int(db, 2, ttl_none));
    check(ember_db_close(db), "ember_db_close");
}

/* ------------------------------------------------------------------ 3 */

static void scene_virtual_clock(void)
{
    printf("\n3. Expiry under a virtual clock (no sleeping)\n");
    ember_config *cfg = NULL;
    check(ember_config_new(&cfg), "ember_config_new");
    /* 2026-01-01T00:00:00Z; time moves only when the program says so. */
    check(ember_config_set_virtual_clock(cfg, INT64_C(1767225600000)), "virtual clock");
    ember_db *db = NULL;
    check(ember_db_open(cfg, &db), "ember_db_open");
    ember_config_free(cfg); /* the database keeps no reference to it */

    const char *set[] = {"SET", "session:bob", "user=bob", "EX", "60"};
    ember_reply_free(command(db, 5, set));
    const char *ttl[] = {"TTL", "session:bob"};
    const char *dbsize[] = {"DBSIZE"};
    printf("    SET session:bob ... EX 60; TTL -> %lld s\n", (long long)command_int(db, 2, ttl));

    check(ember_clock_advance(db, 59 * 1000), "ember_clock_advance");
    printf("    advance the clock 59 s; TTL -> %lld s\n", (long long)command_int(db, 2, ttl));
    print_get(db, "session:bob");

    check(ember_clock_advance(db, 2 * 1000), "ember_clock_advance");
    printf("    advance the clock 2 s more (61 s in all)\n");
    print_get(db, "session:bob");
    int64_t left = command_int(db, 1, dbsize);
    printf("    DBSIZE -> %lld: the session expired%s\n", (long long)left,
           left == 0 ? ", exactly when the clock passed 60 s" : " (UNEXPECTED)");
    check(ember_db_close(db), "ember_db_close");
    if (left != 0)
        exit(1);
}

int main(void)
{
    printf("ember %s quickstart\n\n", ember_version());
    scene_counters();
    scene_sessions();
    scene_virtual_clock();
    printf("\nDone: every scene behaved as described.\n");
    return 0;
}
