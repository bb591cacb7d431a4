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
 * Typed wrappers (ember_incr, ember_set_ex, ember_get, ember_ttl...) cover the
 * common commands; ember_command() runs any command from an argument vector.
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

/* Prints GET key: the value, or (nil) when the key does not exist. */
static void print_get(ember_db *db, const char *key)
{
    void *val = NULL;
    size_t len = 0;
    int rc = ember_get(db, key, strlen(key), &val, &len);
    if (rc == EMBER_ENOTFOUND) {
        printf("    GET %-14s -> (nil)\n", key);
        return;
    }
    check(rc, "ember_get");
    printf("    GET %-14s -> \"%.*s\"\n", key, (int)len, (const char *)val);
    ember_free(val); /* buffers from ember go back to ember_free(), not free() */
}

static int64_t ttl_of(ember_db *db, const char *key)
{
    int64_t ttl = 0;
    check(ember_ttl(db, key, strlen(key), &ttl), "ember_ttl");
    return ttl;
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
    for (int i = 0; i < INCRS_PER_THREAD; i++) {
        /* Any thread may call ember at any time; no lock is needed here. */
        if (ember_incr(w->db, "visits:home", 11, NULL) != EMBER_OK ||
            ember_incr(w->db, "visits:total", 12, NULL) != EMBER_OK)
            w->failures++;
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
    printf("    %d threads x %d INCR on each of two keys, %d failed calls\n", NTHREADS,
           INCRS_PER_THREAD, failures);

    /* Any command, through the generic call: MGET replies with an array. */
    const char *mget[] = {"MGET", "visits:home", "visits:total"};
    ember_reply *reply = NULL;
    check(ember_command(db, 3, mget, NULL, &reply), "MGET");
    const int64_t expected = (int64_t)NTHREADS * INCRS_PER_THREAD;
    int exact = failures == 0;
    for (size_t i = 0; i < ember_reply_len(reply); i++) {
        const char *text = ember_reply_str(ember_reply_element(reply, i), NULL);
        long long count = text ? strtoll(text, NULL, 10) : -1;
        printf("    %-12s = %lld (expected %lld)\n", mget[i + 1], count, (long long)expected);
        exact = exact && count == expected;
    }
    ember_reply_free(reply);
    printf("    %s\n", exact ? "exact: no update lost" : "WRONG");
    check(ember_db_close(db), "ember_db_close");
    if (!exact)
        exit(1);
}

/* ------------------------------------------------------------------ 2 */

static void scene_sessions(void)
{
    printf("\n2. A session cache with time to live\n");
    ember_db *db = NULL;
    check(ember_db_open(NULL, &db), "ember_db_open");

    /* The session lives 30 minutes (ttl in ms); the preference never expires. */
    const char *session = "user=alice;cart=3";
    check(ember_set_ex(db, "session:alice", 13, session, strlen(session), 30 * 60 * 1000, 0, NULL),
          "ember_set_ex");
    check(ember_set(db, "pref:alice", 10, "theme=dark", 10), "ember_set");
    printf("    SET session:alice ... PX 1800000 (30 min), SET pref:alice ... (no expiry)\n");

    /* NX: a second login must not replace the live session. */
    int was_set = -1;
    check(ember_set_ex(db, "session:alice", 13, "user=alice;cart=0", 17, 30 * 60 * 1000,
                       EMBER_SET_NX, &was_set),
          "ember_set_ex");
    printf("    SET session:alice ... PX 1800000 NX -> %s\n",
           was_set ? "written" : "not written, the session exists");

    print_get(db, "session:alice");
    printf("    TTL session:alice  -> %lld s left\n", (long long)ttl_of(db, "session:alice"));
    printf("    TTL pref:alice     -> %lld (no expiry)\n", (long long)ttl_of(db, "pref:alice"));
    printf("    TTL session:nobody -> %lld (no such key)\n",
           (long long)ttl_of(db, "session:nobody"));
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

    check(ember_setex(db, "session:bob", 11, 60, "user=bob", 8), "ember_setex");
    printf("    SETEX session:bob 60 ...; TTL -> %lld s\n", (long long)ttl_of(db, "session:bob"));

    check(ember_clock_advance(db, 59 * 1000), "ember_clock_advance");
    printf("    advance the clock 59 s; TTL -> %lld s\n", (long long)ttl_of(db, "session:bob"));
    print_get(db, "session:bob");

    check(ember_clock_advance(db, 2 * 1000), "ember_clock_advance");
    printf("    advance the clock 2 s more (61 s in all)\n");
    print_get(db, "session:bob");
    int64_t keys = -1;
    check(ember_dbsize(db, &keys), "ember_dbsize");
    printf("    DBSIZE -> %lld: %s\n", (long long)keys,
           keys == 0 ? "the session expired once the clock passed 60 s" : "UNEXPECTED");
    check(ember_db_close(db), "ember_db_close");
    if (keys != 0)
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
