/*
 * fuzz_aof.c — libFuzzer target for the append log's replay
 * (lib/persist/aof.c: an optional RDB preamble, RESP records, "#EM:" groups,
 * MULTI/EXEC, foreign logs record by record).
 *
 * Each input is replayed twice into the same inline store, which is emptied
 * after each: in the default mode (keep every good group; the report must
 * say where it stopped, within the input) and in strict mode (all or
 * nothing: a failed strict load leaves the store as it was, empty). ASan and
 * UBSan watch the rest. Built with -DEMBER_FUZZ=ON and clang (see
 * tests/CMakeLists.txt); seeds in tests/fuzz/corpus_aof/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "persist/aof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct job {
    const uint8_t *data;
    size_t size;
} job;

static uint64_t keys(const em_store *st)
{
    uint64_t n = 0;
    for (int d = 0; d < st->ndb; d++)
        n += ember__dict_size(&st->dbs[d].dict);
    return n;
}

/* Empties the store and waits for the background frees (of the databases a
 * load replaced or dropped), so that LeakSanitizer's check after an input
 * never catches the lazy-free thread in the middle of a dict. */
static void flush(em_store *st)
{
    for (int d = 0; d < st->ndb; d++)
        ember__ks_flush(st, &st->dbs[d], 0);
    ember__lazyfree_drain(st);
}

/* On the executor (ember_run), as ember_aof_load replays. */
static int replay(ember_db *db, void *ud)
{
    const job *j = ud;
    em_server *srv = &db->box->core.srv;
    em_store *st = &srv->st;
    em_aof_report rep;
    int rc = ember__aof_load(srv, j->data, j->size, 0, &rep);
    if (rep.offset > j->size || (rep.stopped && !rep.msg[0]) || (rc != 0 && !rep.stopped))
        abort();
    flush(st);
    rc = ember__aof_load(srv, j->data, j->size, EM_AOF_LOAD_STRICT, &rep);
    if (rc != 0 && (keys(st) != 0 || !rep.msg[0]))
        abort();
    if (rc == 0 && rep.stopped)
        abort(); /* strict mode accepts only a complete log */
    flush(st);
    return 0;
}

static ember_db *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        ember_config *cfg;
        if (ember_config_new(&cfg) || ember_config_set_mode(cfg, EMBER_MODE_INLINE))
            abort();
        /* Small thresholds: conversions happen at sizes fuzzed inputs reach;
         * a fixed clock keeps runs reproducible. */
        ember_config_set(cfg, "hash-max-listpack-entries", "4");
        ember_config_set(cfg, "zset-max-listpack-entries", "4");
        ember_config_set(cfg, "set-max-intset-entries", "4");
        ember_config_set(cfg, "set-max-listpack-entries", "4");
        ember_config_set(cfg, "list-max-listpack-size", "3");
        ember_config_set_virtual_clock(cfg, 1700000000000ll);
        if (ember_db_open(cfg, &db))
            abort();
        ember_config_free(cfg);
    }
    job j = {data, size};
    ember_run(db, replay, &j);
    return 0;
}
