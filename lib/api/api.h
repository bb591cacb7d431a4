/*
 * api.h — private glue of the public API: handle layout and helpers shared
 * by the api_*.c files. Every EMBER_API function lives in lib/api.
 */
#ifndef EMBER_API_INTERNAL_H
#define EMBER_API_INTERNAL_H

#define EMBER_BUILDING 1
#include "../../include/ember.h"
#include "../exec/exec.h"

#define EM_DB_MAGIC 0x454d4244u  /* "EMBD" */
#define EM_CFG_MAGIC 0x454d4347u /* "EMCG" */
#define EM_BATCH_MAGIC 0x454d4254u
#define EM_CQ_MAGIC 0x454d4351u

/* A store and the handles that share it. Freed with its last handle. */
typedef struct em_box {
    em_core core;
    _Atomic int refs;
    int closed;
    struct em_aof_ref *aof;  /* the attached append log (api_aof.c; its mutex) */
    _Atomic int bg_rewrites; /* BGREWRITEAOF threads still running (api_aof.c) */
} em_box;

struct ember_db {
    uint32_t magic;
    int32_t dbid;
    int is_root;
    em_box *box;
};

struct ember_config {
    uint32_t magic;
    em_settings s;
    int mode;
    int virtual_clock;
    int64_t start_ms;
    int has_seed;
    uint64_t seed;
    int has_hooks;
    em_alloc_hooks hooks;
};

static inline int em_db_ok(const ember_db *db)
{
    return db && db->magic == EM_DB_MAGIC;
}

/* Registers command modules and value types once per process. */
void ember__registry_init(void);

/* Detaches the append log, if any (close). Returns EMBER_OK or EMBER_EIO. */
int ember__aof_detach_all(ember_db *db);
/* Waits until no BGREWRITEAOF thread runs on the box (ember_db_close, before
 * the log is detached and the executor stops). */
void ember__aof_bg_drain(em_box *b);

/* Runs a command into a capture sink (typed wrappers). */
int ember__call_capture(ember_db *db, size_t argc, const char *const *argv, const size_t *lens,
                        em_capture_sink *cap, int want_bulk);

#endif
