/*
 * recent_visitors.c — "show the latest 10 visitors" with an ember list, side by
 * side with the same feature in SQLite.
 *
 * Every page view records its visitor and then shows the 10 most recent ones.
 *
 *   ember:  MULTI-like batch { LPUSH visitors <name>; LTRIM visitors 0 9 }, then
 *           LRANGE visitors 0 9. The list never holds more than 10 entries, so
 *           each visit costs the same however many came before.
 *   SQLite: INSERT INTO visits(visitor, created_at) VALUES(?, ?), then
 *           SELECT visitor FROM visits ORDER BY created_at DESC LIMIT 10, with
 *           an index on created_at and prepared statements, in an in-memory
 *           database (":memory:"), each visit in its own (autocommit)
 *           transaction as a request handler would do it.
 *
 * ember runs in both of its modes: executor (the default: each call hands the
 * command to ember's thread) and inline (the command runs on the caller's
 * thread, as SQLite's statements do). All see the same stream of visits. At
 * 1k, 10k, 100k and 1M visits the program prints the time each took so far and checks that both
 * show the same 10 visitors; it exits non-zero if they differ.
 *
 *   recent_visitors [max_visits]    (default 1000000; e.g. 10000 for a quick run)
 *
 * Build: part of the CMake build when pkg-config finds sqlite3 (libsqlite3-dev).
 * Elsewhere: cc recent_visitors.c $(pkg-config --cflags --libs ember sqlite3)
 */
#include <ember.h>
#include <sqlite3.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LATEST 10
#define NAME_CAP 24
#define DISTINCT_VISITORS 50000
#define MAX_CHECKPOINTS 8

/* What a page shows: the latest visitors, newest first. */
struct latest {
    char name[LATEST][NAME_CAP];
    int n;
};

static void fail(const char *what, const char *why)
{
    fprintf(stderr, "recent_visitors: %s failed: %s\n", what, why);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The visitor of visit i: the same pseudo-random stream for both stores. */
static int visitor_of(uint64_t i, char *buf)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return snprintf(buf, NAME_CAP, "user:%llu", (unsigned long long)(x % DISTINCT_VISITORS));
}

/* ------------------------------------------------------------------ ember */

struct ember_side {
    ember_db *db;
    ember_batch *record; /* reused for every visit: executing it again allocates nothing */
};

static void ember_check(int rc, const char *what)
{
    if (rc != EMBER_OK)
        fail(what, ember_strerror(rc));
}

/* LPUSH + LTRIM as one atomic step: no reader ever sees 11 entries. */
static void ember_record(struct ember_side *e, const char *name, size_t len)
{
    const char *push[3] = {"LPUSH", "visitors", name};
    const size_t push_len[3] = {5, 8, len};
    const char *trim[4] = {"LTRIM", "visitors", "0", "9"};
    ember_batch_clear(e->record);
    ember_check(ember_batch_add(e->record, 3, push, push_len), "ember_batch_add");
    ember_check(ember_batch_add(e->record, 4, trim, NULL), "ember_batch_add");
    ember_check(ember_batch_exec(e->db, e->record, EMBER_BATCH_ATOMIC), "LPUSH + LTRIM");
    for (size_t i = 0; i < 2; i++) {
        const ember_reply *r = ember_batch_reply(e->record, i);
        if (ember_reply_type(r) == EMBER_REPLY_ERROR)
            fail(i ? "LTRIM" : "LPUSH", ember_reply_str(r, NULL));
    }
}

static void ember_show(struct ember_side *e, struct latest *out)
{
    const char *argv[4] = {"LRANGE", "visitors", "0", "9"};
    ember_reply *r;
    ember_check(ember_command(e->db, 4, argv, NULL, &r), "LRANGE");
    if (ember_reply_type(r) != EMBER_REPLY_ARRAY)
        fail("LRANGE",
             ember_reply_type(r) == EMBER_REPLY_ERROR ? ember_reply_str(r, NULL) : "not an array");
    out->n = (int)ember_reply_len(r);
    for (int k = 0; k < out->n && k < LATEST; k++) {
        size_t len;
        const char *s = ember_reply_str(ember_reply_element(r, (size_t)k), &len);
        snprintf(out->name[k], NAME_CAP, "%.*s", (int)len, s);
    }
    ember_reply_free(r);
}

/* ------------------------------------------------------------------ SQLite */

struct sqlite_side {
    sqlite3 *db;
    sqlite3_stmt *insert, *select;
};

static void sql_check(struct sqlite_side *s, int rc, int want, const char *what)
{
    if (rc != want)
        fail(what, sqlite3_errmsg(s->db));
}

static void sqlite_open(struct sqlite_side *s)
{
    if (sqlite3_open(":memory:", &s->db) != SQLITE_OK)
        fail("sqlite3_open", "cannot open an in-memory database");
    sql_check(s,
              sqlite3_exec(s->db,
                           "CREATE TABLE visits(id INTEGER PRIMARY KEY, visitor TEXT NOT NULL,"
                           " created_at INTEGER NOT NULL);"
                           "CREATE INDEX visits_created_at ON visits(created_at);",
                           NULL, NULL, NULL),
              SQLITE_OK, "CREATE TABLE");
    sql_check(s,
              sqlite3_prepare_v2(s->db, "INSERT INTO visits(visitor, created_at) VALUES(?1, ?2)",
                                 -1, &s->insert, NULL),
              SQLITE_OK, "prepare INSERT");
    sql_check(s,
              sqlite3_prepare_v2(s->db,
                                 "SELECT visitor FROM visits ORDER BY created_at DESC LIMIT 10", -1,
                                 &s->select, NULL),
              SQLITE_OK, "prepare SELECT");
}

static void sqlite_close(struct sqlite_side *s)
{
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->select);
    sqlite3_close(s->db);
}

/* created_at: the visit's time in microseconds; visits are one microsecond
 * apart here, so the order is exactly the order of the stream. */
static void sqlite_record(struct sqlite_side *s, const char *name, size_t len, int64_t created_at)
{
    sqlite3_bind_text(s->insert, 1, name, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s->insert, 2, created_at);
    sql_check(s, sqlite3_step(s->insert), SQLITE_DONE, "INSERT");
    sqlite3_reset(s->insert);
}

static void sqlite_show(struct sqlite_side *s, struct latest *out)
{
    int rc;
    out->n = 0;
    while ((rc = sqlite3_step(s->select)) == SQLITE_ROW) {
        if (out->n < LATEST)
            snprintf(out->name[out->n], NAME_CAP, "%s",
                     (const char *)sqlite3_column_text(s->select, 0));
        out->n++;
    }
    sql_check(s, rc, SQLITE_DONE, "SELECT");
    sqlite3_reset(s->select);
}

/* ------------------------------------------------------------------ the story */

static int same_latest(const struct latest *a, const struct latest *b)
{
    if (a->n != b->n)
        return 0;
    for (int k = 0; k < a->n; k++)
        if (strcmp(a->name[k], b->name[k]) != 0)
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    uint64_t max = 1000000;
    if (argc > 1) {
        char *end;
        max = strtoull(argv[1], &end, 10);
        if (*end || max == 0) {
            fprintf(stderr, "usage: %s [max_visits]\n", argv[0]);
            return 2;
        }
    }
    uint64_t checkpoints[MAX_CHECKPOINTS];
    int ncp = 0;
    for (uint64_t c = 1000; c < max && ncp < MAX_CHECKPOINTS - 1; c *= 10)
        checkpoints[ncp++] = c;
    checkpoints[ncp++] = max;

    /* ember twice: the default executor mode (any thread may call; each call
     * is a hand-off to ember's thread) and inline mode (commands run on the
     * calling thread, as SQLite's do; one thread at a time). */
    struct ember_side e[2];
    for (int k = 0; k < 2; k++) {
        ember_config *cfg;
        ember_check(ember_config_new(&cfg), "ember_config_new");
        ember_check(ember_config_set_mode(cfg, k ? EMBER_MODE_INLINE : EMBER_MODE_EXECUTOR),
                    "ember_config_set_mode");
        ember_check(ember_db_open(cfg, &e[k].db), "ember_db_open");
        ember_config_free(cfg);
        ember_check(ember_batch_new(&e[k].record), "ember_batch_new");
    }
    struct sqlite_side s;
    sqlite_open(&s);

    /* Each store runs the whole stream on its own, so each one's time is its
     * own; the pages shown at every checkpoint are kept and compared after. */
    enum { EXECUTOR, INLINE, SQLITE, SIDES };
    static struct latest shown[SIDES][MAX_CHECKPOINTS];
    double at[SIDES][MAX_CHECKPOINTS];
    for (int side = 0; side < SIDES; side++) {
        double t0 = now_s();
        int cp = 0;
        for (uint64_t i = 0; i < max; i++) {
            char name[NAME_CAP];
            size_t len = (size_t)visitor_of(i, name);
            struct latest page;
            if (side == SQLITE) {
                sqlite_record(&s, name, len, (int64_t)i);
                sqlite_show(&s, &page);
            } else {
                ember_record(&e[side], name, len);
                ember_show(&e[side], &page);
            }
            if (i + 1 == checkpoints[cp]) {
                at[side][cp] = now_s() - t0;
                shown[side][cp++] = page;
            }
        }
    }

    printf("Latest 10 visitors: record the visit, then show the page, %llu times\n"
           "  ember:  LPUSH + LTRIM 0 9 (one atomic batch), LRANGE 0 9; executor mode (the "
           "default)\n          and inline mode\n"
           "  SQLite: INSERT, SELECT ... ORDER BY created_at DESC LIMIT 10 (indexed, "
           "in-memory)\n\n",
           (unsigned long long)max);
    printf("%10s %11s %11s %11s %11s %11s %11s  %s\n", "", "executor", "", "inline", "", "SQLite",
           "", "same");
    printf("%10s %11s %11s %11s %11s %11s %11s  %s\n", "visits", "total s", "us/visit", "total s",
           "us/visit", "total s", "us/visit", "10?");
    int all_same = 1;
    for (int cp = 0; cp < ncp; cp++) {
        double n = (double)(checkpoints[cp] - (cp ? checkpoints[cp - 1] : 0));
        int same = shown[0][cp].n == LATEST;
        printf("%10llu", (unsigned long long)checkpoints[cp]);
        for (int side = 0; side < SIDES; side++) {
            double d = at[side][cp] - (cp ? at[side][cp - 1] : 0);
            printf(" %11.3f %11.3f", at[side][cp], d * 1e6 / n);
            same &= same_latest(&shown[0][cp], &shown[side][cp]);
        }
        all_same &= same;
        printf("  %s\n", same ? "yes" : "NO");
    }
    printf("\n(us/visit: microseconds per visit since the previous row)\n");
    printf("the page at the end:");
    for (int k = 0; k < shown[0][ncp - 1].n; k++)
        printf(" %s", shown[0][ncp - 1].name[k]);
    printf("\n");

    for (int k = 0; k < 2; k++) {
        ember_batch_free(e[k].record);
        ember_check(ember_db_close(e[k].db), "ember_db_close");
    }
    sqlite_close(&s);
    if (!all_same) {
        fprintf(stderr, "recent_visitors: ember and SQLite disagree on the latest visitors\n");
        return 1;
    }
    return 0;
}
