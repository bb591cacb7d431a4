/*
 * leaderboard.c — a game leaderboard on an ember sorted set.
 *
 *   ZADD     board 0 <player>            every player joins with 0 points
 *   ZINCRBY  board <points> <player>     each finished game adds points
 *   ZRANGE   board 0 9 REV WITHSCORES    the top 10, best first
 *   ZRANK / ZREVRANK board <player>      a player's place
 *   ZSCORE   board <player>              a player's points
 *
 * The sorted set keeps players ordered by points (ties by name), so the top
 * 10 and any player's rank are logarithmic-time reads however many players
 * there are. The program keeps its own tally in a plain array, sorts it at the
 * end and checks every answer against it; it exits non-zero on a mismatch.
 *
 *   leaderboard [players] [games]    (defaults 10000 and 200000)
 *
 * Build: part of the CMake build (build/examples/leaderboard).
 * Elsewhere: cc leaderboard.c $(pkg-config --cflags --libs ember)
 */
#include <ember.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_CAP 32
#define TOP 10

struct player {
    char name[NAME_CAP];
    int64_t points;
};

static int failures;

static void check(int rc, const char *what)
{
    if (rc != EMBER_OK) {
        fprintf(stderr, "leaderboard: %s failed: %s\n", what, ember_strerror(rc));
        exit(1);
    }
}

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "leaderboard: wrong result: %s\n", what);
        failures++;
    }
}

/* Runs a command whose reply must not be an error; the caller frees it. */
static ember_reply *run(ember_db *db, size_t argc, const char *const *argv)
{
    ember_reply *r;
    check(ember_command(db, argc, argv, NULL, &r), argv[0]);
    if (ember_reply_type(r) == EMBER_REPLY_ERROR) {
        fprintf(stderr, "leaderboard: %s: %s\n", argv[0], ember_reply_str(r, NULL));
        exit(1);
    }
    return r;
}

/* A score reply: a RESP3 double, an integer, or a number as text. */
static double number_of(const ember_reply *r)
{
    switch (ember_reply_type(r)) {
    case EMBER_REPLY_DOUBLE:
        return ember_reply_double(r);
    case EMBER_REPLY_INTEGER:
        return (double)ember_reply_integer(r);
    default:
        return ember_reply_str(r, NULL) ? strtod(ember_reply_str(r, NULL), NULL) : -1;
    }
}

/* Leaderboard order: more points first; equal points by name, the later
 * name first — what ZRANGE ... REV returns. */
static int by_rank_desc(const void *a, const void *b)
{
    const struct player *x = a, *y = b;
    if (x->points != y->points)
        return x->points < y->points ? 1 : -1;
    return -strcmp(x->name, y->name);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int main(int argc, char **argv)
{
    size_t nplayers = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    size_t ngames = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    if (nplayers < TOP || ngames == 0) {
        fprintf(stderr, "usage: %s [players >= %d] [games]\n", argv[0], TOP);
        return 2;
    }
    ember_db *db;
    check(ember_db_open(NULL, &db), "ember_db_open");
    struct player *tally = calloc(nplayers, sizeof *tally);
    if (!tally)
        return 1;

    /* Everyone joins with 0 points: ZADD board 0 p1 0 p2 ... in one command. */
    const char **join = malloc((2 + 2 * nplayers) * sizeof *join);
    if (!join)
        return 1;
    join[0] = "ZADD";
    join[1] = "board";
    for (size_t i = 0; i < nplayers; i++) {
        snprintf(tally[i].name, NAME_CAP, "player%05zu", i);
        join[2 + 2 * i] = "0";
        join[3 + 2 * i] = tally[i].name;
    }
    ember_reply *r = run(db, 2 + 2 * nplayers, join);
    expect(ember_reply_integer(r) == (int64_t)nplayers, "ZADD adds every player once");
    ember_reply_free(r);
    free(join);

    /* Games: a random player wins 1 to 100 points. ZINCRBY answers the new total. */
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    for (size_t g = 0; g < ngames; g++) {
        size_t p = (size_t)(rng_next(&seed) % nplayers);
        int64_t points = (int64_t)(rng_next(&seed) % 100) + 1;
        char pts[24];
        snprintf(pts, sizeof pts, "%lld", (long long)points);
        const char *incr[4] = {"ZINCRBY", "board", pts, tally[p].name};
        r = run(db, 4, incr);
        tally[p].points += points;
        if (number_of(r) != (double)tally[p].points)
            expect(0, "ZINCRBY returns the new total");
        ember_reply_free(r);
    }

    /* The top 10. With RESP3 replies, WITHSCORES gives [member, score] pairs;
     * a flat member, score, member, score... list is read as well. */
    const char *top_argv[6] = {"ZRANGE", "board", "0", "9", "REV", "WITHSCORES"};
    r = run(db, 6, top_argv);
    qsort(tally, nplayers, sizeof *tally, by_rank_desc);
    int nested =
        ember_reply_len(r) > 0 && ember_reply_type(ember_reply_element(r, 0)) == EMBER_REPLY_ARRAY;
    size_t rows = nested ? ember_reply_len(r) : ember_reply_len(r) / 2;
    expect(rows == TOP, "ZRANGE 0 9 returns 10 players");
    printf("Top %d of %zu players after %zu games:\n", TOP, nplayers, ngames);
    for (size_t i = 0; i < rows && i < TOP; i++) {
        const ember_reply *m, *s;
        if (nested) {
            m = ember_reply_element(ember_reply_element(r, i), 0);
            s = ember_reply_element(ember_reply_element(r, i), 1);
        } else {
            m = ember_reply_element(r, 2 * i);
            s = ember_reply_element(r, 2 * i + 1);
        }
        const char *name = ember_reply_str(m, NULL);
        double score = number_of(s);
        printf("  %2zu. %-12s %8.0f\n", i + 1, name ? name : "?", score);
        expect(name && strcmp(name, tally[i].name) == 0, "top 10 order");
        expect(score == (double)tally[i].points, "top 10 scores");
    }
    ember_reply_free(r);

    /* One player's standing: the median player of the tally. */
    size_t me = nplayers / 2;
    const char *rank_argv[3] = {"ZREVRANK", "board", tally[me].name};
    r = run(db, 3, rank_argv);
    int64_t place = ember_reply_integer(r);
    ember_reply_free(r);
    rank_argv[0] = "ZRANK";
    r = run(db, 3, rank_argv);
    int64_t from_bottom = ember_reply_integer(r);
    ember_reply_free(r);
    rank_argv[0] = "ZSCORE";
    r = run(db, 3, rank_argv);
    double score = number_of(r);
    ember_reply_free(r);
    printf("%s: %.0f points, place %lld of %zu (ZRANK from the bottom: %lld)\n", tally[me].name,
           score, (long long)place + 1, nplayers, (long long)from_bottom);
    expect(place == (int64_t)me, "ZREVRANK");
    expect(from_bottom == (int64_t)(nplayers - 1 - me), "ZRANK");
    expect(score == (double)tally[me].points, "ZSCORE");

    free(tally);
    check(ember_db_close(db), "ember_db_close");
    if (failures) {
        fprintf(stderr, "leaderboard: %d wrong results\n", failures);
        return 1;
    }
    printf("all results checked against a plain sorted array\n");
    return 0;
}
