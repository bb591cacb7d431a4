/*
 * fuzz_rdb.c — libFuzzer target for the RDB loader (lib/persist/rdb_load.c).
 *
 * An input that starts with "REDIS" is loaded as it is; any other input is a
 * body after "REDIS0010", so the fuzzer need not find the magic (a stored CRC
 * of 0 means "not computed": it can reach the end without computing one).
 * Every input loads into the same inline store, which is emptied afterwards;
 * a successful load is checked for the list invariants, and ASan/UBSan watch
 * the rest. Built with -DEMBER_FUZZ=ON and clang (see tests/CMakeLists.txt);
 * seeds in tests/fuzz/corpus_rdb/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "persist/rdb.h"
#include "types/quicklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct input {
    const uint8_t *pre, *p;
    size_t npre, n, pos;
} input;

static int64_t in_read(void *ctx, void *buf, size_t n)
{
    input *in = ctx;
    size_t total = in->npre + in->n;
    if (in->pos >= total)
        return 0;
    /* Small, varying reads cross the loader's window at odd places. */
    size_t k = 1 + (in->pos * 7 + 3) % 4093;
    if (k > n)
        k = n;
    if (k > total - in->pos)
        k = total - in->pos;
    for (size_t i = 0; i < k; i++) {
        size_t at = in->pos + i;
        ((uint8_t *)buf)[i] = at < in->npre ? in->pre[at] : in->p[at - in->npre];
    }
    in->pos += k;
    return (int64_t)k;
}

static ember_db *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        ember_config *cfg;
        if (ember_config_new(&cfg) || ember_config_set_mode(cfg, EMBER_MODE_INLINE))
            abort();
        /* Small thresholds: conversions happen at sizes fuzzed inputs reach. */
        ember_config_set(cfg, "hash-max-listpack-entries", "4");
        ember_config_set(cfg, "zset-max-listpack-entries", "4");
        ember_config_set(cfg, "set-max-intset-entries", "4");
        ember_config_set(cfg, "set-max-listpack-entries", "4");
        ember_config_set(cfg, "list-max-listpack-size", "3");
        if (ember_db_open(cfg, &db))
            abort();
        ember_config_free(cfg);
    }
    em_server *srv = &db->box->core.srv;
    em_store *st = &srv->st;
    int raw = size >= 5 && memcmp(data, "REDIS", 5) == 0;
    input in = {(const uint8_t *)"REDIS0010", data, raw ? 0 : 9, size, 0};
    em_rdb_src src = {in_read, &in};
    em_rdb_err err;
    if (ember__rdb_load(&src, st, &srv->cfg, 1700000000000ll, &err) == 0) {
        for (int d = 0; d < st->ndb; d++) {
            em_dict *dict = &st->dbs[d].dict;
            for (int t = 0; t < 2; t++)
                for (size_t b = 0; b < dict->size[t]; b++)
                    for (em_obj *o = dict->t[t][b]; o; o = o->next)
                        if (ember__obj_type(o) == EM_T_LIST && !ember__ql_check(ember__obj_body(o)))
                            abort();
        }
    } else if (!err.msg[0]) {
        abort(); /* a failure always says why */
    }
    for (int d = 0; d < st->ndb; d++)
        ember__ks_flush(st, &st->dbs[d], 0);
    return 0;
}
