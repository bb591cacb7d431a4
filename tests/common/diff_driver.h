/*
 * diff_driver.h — the machinery shared by the differential tests: generated
 * commands, a runner that sends them to a private redis-server and to ember
 * and compares every reply, the seed loop with replay and shrinking, and the
 * directed (fixed-case) runner.
 *
 * A test supplies what is specific to it through hooks: which commands need a
 * special run (a full SCAN iteration, a random reply), how a reply pair is
 * compared, what the generator produces and what the final dump reads.
 * Everything else (pipelining, ember batches on odd seeds, SELECT, reports,
 * shrinking a failing seed to a minimal reproducer) lives here.
 */
#ifndef TC_DIFF_DRIVER_H
#define TC_DIFF_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "diff_util.h"
#include "ember.h"
#include "redis_proc.h"
#include "resp_client.h"

#define TC_NDBS 16 /* databases of both sides (views on the ember side) */

/* ------------------------------------------------------------------ commands */

typedef struct tc_cmd {
    int db;
    int kind; /* the test's comparison kind; 0 = plain exact comparison */
    int gen;  /* index of the generator that made it, -1 for harness commands */
    size_t argc, cap;
    char **argv; /* each NUL-terminated too */
    size_t *len;
} tc_cmd;

void *tc_xmalloc(size_t n);
tc_cmd *tc_cmd_new(int db, int kind, int gen);
void tc_cmd_free(tc_cmd *c);
tc_cmd *tc_cmd_dup(const tc_cmd *src);
void tc_arg(tc_cmd *c, const void *p, size_t n);
void tc_str(tc_cmd *c, const char *s);
void tc_ll(tc_cmd *c, long long v);
/* Removes the last argument (never the command name). */
void tc_drop_last(tc_cmd *c);
/* Replaces argument i. */
void tc_set_arg(tc_cmd *c, size_t i, const void *p, size_t n);
/* A command from a NULL-terminated list of literal arguments. */
tc_cmd *tc_cmd_lit(int db, int kind, const char *const *argv);
/* "name" alone, or "name key" when k is not NULL (a harness command: gen -1). */
tc_cmd *tc_cmd_key(int db, int kind, const char *name, const char *k, size_t kl);

typedef struct tc_cmdvec {
    tc_cmd **v;
    size_t n, cap;
} tc_cmdvec;

void tc_vec_push(tc_cmdvec *v, tc_cmd *c);
/* Frees the commands; keeps the array. */
void tc_vec_clear(tc_cmdvec *v);

/* ------------------------------------------------------------------ randomness */

/* splitmix64 on *s. */
uint64_t tc_rnd(uint64_t *s);
/* Uniform in [0, n); 0 if n is 0. */
uint64_t tc_rn(uint64_t *s, uint64_t n);
int tc_chance(uint64_t *s, int pct);
/* Adds a keyword with randomly mixed case (Redis keywords ignore case). */
void tc_kw(uint64_t *s, tc_cmd *c, const char *kw);

/* Generators: a weighted table the test fills (names and weights), with a
 * skip flag and a run counter per entry. */
typedef struct tc_gens {
    size_t n;
    const char *const *name;
    const int *weight; /* 0: not in this stream */
    int *skip;
    uint64_t *count;
} tc_gens;

/* Picks an entry by weight among those not skipped and counts it. */
size_t tc_gens_pick(tc_gens *t, uint64_t *s);
/* Sets skip[] from a comma-separated list of names (case-insensitive);
 * names that match no entry are reported on stderr. */
void tc_gens_skip(tc_gens *t, const char *list);

/* ------------------------------------------------------------------ runner */

typedef struct tc_runner tc_runner;

typedef struct tc_hooks {
    /* 1 if the command must run alone, through run_special (a command whose
     * replies are not comparable one to one). NULL: none is. */
    int (*is_special)(const tc_cmd *c);
    /* Runs c on both sides and checks it; 1 if fine, else 0 with why. */
    int (*run_special)(tc_runner *r, const tc_cmd *c, tc_buf *why);
    /* Compares one reply pair; 1 if equal, else 0 with why (use
     * tc_report_mismatch). NULL: exact comparison. */
    int (*compare)(tc_runner *r, const tc_cmd *c, const tc_resp *red, const tc_resp *emb,
                   tc_buf *why);
    /* Called by tc_reset_both after the FLUSHALLs (e.g. to restore the
     * configuration a stream may change). Returns 1 if fine. NULL: nothing. */
    int (*after_reset)(tc_runner *r);
} tc_hooks;

struct tc_runner {
    tc_redis srv;
    tc_conn *rc;
    ember_db *db; /* the root handle (database 0; batches SELECT) */
    ember_db *views[TC_NDBS];
    int redis_db;  /* database selected on the redis connection */
    int trace;     /* EMBER_DIFF_TRACE: print every command and both replies */
    int use_batch; /* ember side through ember_batch_exec (odd seeds) */
    long ncompared;
    const tc_hooks *hooks;
    void *user;
};

/* Starts redis-server (extra command-line arguments redis_args, or NULL) and
 * ember (executor mode, or inline with EMBER_DIFF_MODE=inline), opens a view
 * per database, switches the redis connection to RESP3. Returns 0, or -1
 * after printing why (prefixed by name). */
int tc_runner_open(tc_runner *r, const char *name, const char *const *redis_args,
                   const tc_hooks *hooks);
void tc_runner_close(tc_runner *r);

/* One command on one side. The ember side uses the view of c->db; an API
 * failure comes back as an ERROR reply starting "(harness)". The redis side
 * SELECTs first when needed; NULL on an I/O error. */
tc_resp *tc_run_ember(tc_runner *r, const tc_cmd *c);
tc_resp *tc_run_redis(tc_runner *r, const tc_cmd *c);
/* A literal command (NULL-terminated arguments) on one side. */
tc_resp *tc_run_lit(tc_runner *r, int side_ember, int db, const char *const *argv);

/* Runs cmds[0..n) on both sides, comparing each reply. Plain commands go as
 * pipelines (and, with use_batch, as one ember batch per pipeline). Returns
 * the index of the first mismatch (explained in why), or -1. */
long tc_run_cmds(tc_runner *r, tc_cmd *const *cmds, size_t n, tc_buf *why);

/* FLUSHALL on both sides, back to database 0, then hooks->after_reset. */
int tc_reset_both(tc_runner *r);

void tc_trace_pair(const tc_cmd *c, const tc_resp *red, const tc_resp *emb);
/* Appends "[dbN] " and tc_format_mismatch(). */
void tc_report_mismatch(tc_buf *why, const tc_cmd *c, const tc_resp *red, const tc_resp *emb);

/* Runs a full SCAN-like iteration of c on one side: argv[cursor_arg] is the
 * cursor (c holds the first one), each page is [cursor, [elements]] and
 * `step` elements make one item (1 for SCAN/SSCAN, 2 for HSCAN/ZSCAN pairs).
 * Returns a SET of the distinct items (an item of step 2 is a 2-element
 * ARRAY), the first reply if it was an error, or NULL with a reason in why. */
tc_resp *tc_scan_all(tc_runner *r, const tc_cmd *c, size_t cursor_arg, size_t step, int side_ember,
                     tc_buf *why);

/* A full iteration of c on each side (tc_scan_all), the two sets compared;
 * a first-page error is compared exactly. 1 if equal, else 0 with why. */
int tc_run_scan(tc_runner *r, const tc_cmd *c, size_t cursor_arg, size_t step, tc_buf *why);

/* 1 if the trees have the same shape: types (under the diff_util
 * equivalences) and aggregate sizes, ignoring string and number contents. */
int tc_resp_same_shape(const tc_resp *a, const tc_resp *b);

/* The final dump of a seed: for databases 0..ndbs-1, DBSIZE and KEYS *
 * (with comparison kind keys_kind) on both sides; then per_key pushes onto
 * dump the commands to compare for each key redis listed; then they run.
 * Returns the index in dump of the first mismatch, or -1. */
typedef void (*tc_dump_key_fn)(tc_runner *r, tc_cmdvec *dump, int db, const char *k, size_t kl);
long tc_dump_keys(tc_runner *r, int ndbs, int keys_kind, tc_cmdvec *dump, tc_buf *why,
                  tc_dump_key_fn per_key);

/* ------------------------------------------------------------------ streams */

typedef struct tc_stream {
    const char *title; /* prefix of the progress lines */
    tc_gens *gens;
    void *user;
    /* Starts the generator for a seed. */
    void (*seed_begin)(void *user, unsigned long long seed);
    /* Appends the next command(s) to out. */
    void (*next)(void *user, tc_cmdvec *out);
    /* Builds and runs the final dump into dump; returns the index of a
     * mismatch in dump, or -1. */
    long (*final_dump)(tc_runner *r, tc_cmdvec *dump, tc_buf *why);
    int seeds, ops;           /* defaults of EMBER_DIFF_SEEDS / EMBER_DIFF_OPS */
    unsigned long long salt;  /* mixed into the seeds of this stream */
    const char *default_skip; /* generators skipped unless EMBER_DIFF_SKIP is set */
} tc_stream;

/* Runs the seeds of a stream (environment: EMBER_DIFF_SEEDS, EMBER_DIFF_OPS,
 * EMBER_DIFF_SEED, EMBER_DIFF_SEED_BASE, EMBER_DIFF_SKIP, EMBER_DIFF_SHRINK).
 * Even seeds send ember its commands one by one, odd seeds in batches. A
 * failing seed is reported with a replay line and shrunk to a minimal
 * reproducer. Also fails when a generator never ran in a run of at least
 * 20000 commands. Returns the number of failing seeds (0 = pass). */
size_t tc_run_stream(tc_runner *r, const tc_stream *s);

/* ------------------------------------------------------------------ directed */

/* Parses one command line: arguments separated by spaces; "..." quotes an
 * argument and understands \xHH \n \r \t \\ \" escapes. */
tc_cmd *tc_parse_line(int db, const char *line);

/* Runs fixed cases: cases[i * width + j] is line j of case i (NULL ends a
 * case early); each case starts on fresh databases; "@N" switches the
 * database. kind_of (or NULL) sets each parsed command's kind. Returns the
 * number of failing cases (printed). */
int tc_run_directed(tc_runner *r, const char *const *cases, size_t ncases, size_t width,
                    void (*kind_of)(tc_cmd *c));

int tc_env_int(const char *name, int def);

#endif
