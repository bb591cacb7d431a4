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
 * there are. Each command goes through its typed wrapper (ember_zadd,
 * ember_zincrby, ember_zrange, ember_zrank, ember_zrevrank, ember_zscore),
 * which takes and returns C values instead of an argument vector. The program keeps its own tally
 * in a plain array, sorts it at the end and checks every answer against it; it exits non-zero on a
 * mismatch.
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

    /* Everyone joins with 0 points: one ZADD board 0 p1 0 p2 ... */
    const void **members = malloc(nplayers * sizeof *members);
    size_t *mlens = malloc(nplayers * sizeof *mlens);
    double *zeros = calloc(nplayers, sizeof *zeros);
    if (!members || !mlens || !zeros)
        return 1;
    for (size_t i = 0; i < nplayers; i++) {
        mlens[i] = (size_t)snprintf(tally[i].name, NAME_CAP, "player%05zu", i);
        members[i] = tally[i].name;
    }
    int64_t added = 0;
    check(ember_zadd(db, "board", 5, nplayers, zeros, members, mlens, 0, &added), "ZADD");
    expect(added == (int64_t)nplayers, "ZADD adds every player once");
    free(members);
    free(mlens);
    free(zeros);

    /* Games: a random player wins 1 to 100 points. ZINCRBY answers the new total. */
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    for (size_t g = 0; g < ngames; g++) {
        struct player *p = &tally[rng_next(&seed) % nplayers];
        int64_t points = (int64_t)(rng_next(&seed) % 100) + 1;
        double total;
        check(ember_zincrby(db, "board", 5, (double)points, p->name, strlen(p->name), &total),
              "ZINCRBY");
        p->points += points;
        if (total != (double)p->points)
            expect(0, "ZINCRBY returns the new total");
    }

    /* The top 10: ZRANGE board 0 9 REV WITHSCORES, [member, score] pairs. */
    ember_reply *top;
    check(
        ember_zrange(db, "board", 5, 0, TOP - 1, EMBER_ZRANGE_REV | EMBER_ZRANGE_WITHSCORES, &top),
        "ZRANGE");
    qsort(tally, nplayers, sizeof *tally, by_rank_desc);
    expect(ember_reply_len(top) == TOP, "ZRANGE 0 9 returns 10 players");
    printf("Top %d of %zu players after %zu games:\n", TOP, nplayers, ngames);
    for (size_t i = 0; i < ember_reply_len(top) && i < TOP; i++) {
        const ember_reply *pair = ember_reply_element(top, i);
        const char *name = ember_reply_str(ember_reply_element(pair, 0), NULL);
        double score = ember_reply_double(ember_reply_element(pair, 1));
        printf("  %2zu. %-12s %8.0f\n", i + 1, name ? name : "?", score);
        expect(name && strcmp(name, tally[i].name) == 0, "top 10 order");
        expect(score == (double)tally[i].points, "top 10 scores");
    }
    ember_reply_free(top);

    /* One player's standing: the median player of the tally. */
    const struct player *me = &tally[nplayers / 2];
    size_t len = strlen(me->name);
    int64_t place, from_bottom;
    double score;
    check(ember_zrevrank(db, "board", 5, me->name, len, &place), "ZREVRANK");
    check(ember_zrank(db, "board", 5, me->name, len, &from_bottom), "ZRANK");
    check(ember_zscore(db, "board", 5, me->name, len, &score), "ZSCORE");
    printf("%s: %.0f points, place %lld of %zu (ZRANK from the bottom: %lld)\n", me->name, score,
           (long long)place + 1, nplayers, (long long)from_bottom);
    expect(place == (int64_t)(nplayers / 2), "ZREVRANK");
    expect(from_bottom == (int64_t)(nplayers - 1 - nplayers / 2), "ZRANK");
    expect(score == (double)me->points, "ZSCORE");

    free(tally);
    check(ember_db_close(db), "ember_db_close");
    if (failures) {
        fprintf(stderr, "leaderboard: %d wrong results\n", failures);
        return 1;
    }
    printf("all results checked against a plain sorted array\n");
    return 0;
}
