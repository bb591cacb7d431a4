/*
 * api_db.c — version, status names, configuration, open/close, views, clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../command/pubsub.h"
#include "../common/hash.h"
#include "../persist/snapshot.h"
#include "api.h"

EMBER_API const char *ember_version(void)
{
#define EM_STR2(x) #x
#define EM_STR(x) EM_STR2(x)
    return EM_STR(EMBER_VERSION_MAJOR) "." EM_STR(EMBER_VERSION_MINOR) "." EM_STR(
        EMBER_VERSION_PATCH);
}

EMBER_API uint32_t ember_version_number(void)
{
    return EMBER_VERSION_NUMBER;
}

EMBER_API const char *ember_strerror(int status)
{
    return ember__status_name(status);
}

EMBER_API void ember_free(void *ptr)
{
    free(ptr);
}

/* ------------------------------------------------------------ config */

EMBER_API int ember_config_new(ember_config **out)
{
    if (!out)
        return EMBER_EINVAL;
    ember_config *c = calloc(1, sizeof *c);
    if (!c)
        return EMBER_ENOMEM;
    c->magic = EM_CFG_MAGIC;
    ember__settings_defaults(&c->s);
    c->mode = EMBER_MODE_EXECUTOR;
    *out = c;
    return EMBER_OK;
}

EMBER_API void ember_config_free(ember_config *cfg)
{
    if (cfg && cfg->magic == EM_CFG_MAGIC) {
        cfg->magic = 0;
        free(cfg);
    }
}

static int cfg_ok(const ember_config *c)
{
    return c && c->magic == EM_CFG_MAGIC;
}

EMBER_API int ember_config_set(ember_config *cfg, const char *name, const char *value)
{
    const char *why;
    if (!cfg_ok(cfg) || !name || !value)
        return EMBER_EINVAL;
    return ember__settings_set(&cfg->s, name, strlen(name), value, strlen(value), 0, &why) ==
                   EM_CFG_OK
               ? EMBER_OK
               : EMBER_EINVAL;
}

EMBER_API int ember_config_get(const ember_config *cfg, const char *name, char **out)
{
    if (!cfg_ok(cfg) || !name || !out)
        return EMBER_EINVAL;
    int i = ember__settings_find(name, strlen(name));
    if (i < 0)
        return EMBER_EINVAL;
    char buf[EM_SETTING_TEXT_MAX];
    size_t n = ember__settings_format(&cfg->s, (size_t)i, buf, sizeof buf);
    char *s = malloc(n + 1);
    if (!s)
        return EMBER_ENOMEM;
    memcpy(s, buf, n + 1);
    *out = s;
    return EMBER_OK;
}

EMBER_API int ember_config_set_mode(ember_config *cfg, int mode)
{
    if (!cfg_ok(cfg) || (mode != EMBER_MODE_EXECUTOR && mode != EMBER_MODE_INLINE))
        return EMBER_EINVAL;
    cfg->mode = mode;
    return EMBER_OK;
}

EMBER_API int ember_config_set_databases(ember_config *cfg, int32_t count)
{
    if (!cfg_ok(cfg) || count < 1 || count > 1024)
        return EMBER_EINVAL;
    cfg->s.databases = count;
    return EMBER_OK;
}

EMBER_API int ember_config_set_virtual_clock(ember_config *cfg, int64_t start_ms)
{
    if (!cfg_ok(cfg) || start_ms < 0)
        return EMBER_EINVAL;
    cfg->virtual_clock = 1;
    cfg->start_ms = start_ms;
    return EMBER_OK;
}

EMBER_API int ember_config_set_hash_seed(ember_config *cfg, uint64_t seed)
{
    if (!cfg_ok(cfg))
        return EMBER_EINVAL;
    cfg->has_seed = 1;
    cfg->seed = seed;
    return EMBER_OK;
}

EMBER_API int ember_config_set_allocator(ember_config *cfg, void *(*malloc_fn)(void *ctx, size_t n),
                                         void *(*realloc_fn)(void *ctx, void *p, size_t n),
                                         void (*free_fn)(void *ctx, void *p),
                                         size_t (*usable_size_fn)(void *ctx, const void *p),
                                         void *ctx)
{
    if (!cfg_ok(cfg) || !malloc_fn || !realloc_fn || !free_fn || !usable_size_fn)
        return EMBER_EINVAL;
    cfg->has_hooks = 1;
    cfg->hooks.malloc_fn = malloc_fn;
    cfg->hooks.realloc_fn = realloc_fn;
    cfg->hooks.calloc_fn = NULL;
    cfg->hooks.free_fn = free_fn;
    cfg->hooks.usable_fn = usable_size_fn;
    cfg->hooks.ctx = ctx;
    return EMBER_OK;
}

/* ------------------------------------------------------------ databases */

static void box_release(em_box *b)
{
    if (atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

EMBER_API int ember_db_open(const ember_config *cfg, ember_db **out)
{
    ember_config defaults;
    if (!out || (cfg && !cfg_ok(cfg)))
        return EMBER_EINVAL;
    if (!cfg) {
        memset(&defaults, 0, sizeof defaults);
        defaults.magic = EM_CFG_MAGIC;
        ember__settings_defaults(&defaults.s);
        cfg = &defaults;
    }
    ember__registry_init();
    em_box *b = aligned_alloc(EM_CACHELINE,
                              (sizeof(em_box) + EM_CACHELINE - 1) & ~(size_t)(EM_CACHELINE - 1));
    ember_db *h = malloc(sizeof *h);
    if (!b || !h) {
        free(b);
        free(h);
        return EMBER_ENOMEM;
    }
    memset(b, 0, sizeof *b);
    em_server *srv = &b->core.srv;
    srv->cfg = cfg->s;
    pthread_mutex_init(&srv->cfg_lock, NULL);
    uint64_t seed = cfg->has_seed ? cfg->seed : ember__random_seed();
    if (ember__store_init(&srv->st, cfg->has_hooks ? &cfg->hooks : NULL, (int)cfg->s.databases,
                          seed, cfg->virtual_clock, cfg->start_ms) != 0) {
        ember__store_free(&srv->st);
        free(b);
        free(h);
        return EMBER_ENOMEM;
    }
    ember__server_cfg_changed(srv);
    srv->start_us = ember__clock_us(&srv->st.clock);
    srv->start_mono_ns = ember__mono_ns();
    srv->inline_mode = cfg->mode == EMBER_MODE_INLINE;
    uint64_t r1 = ember__random_seed(), r2 = ember__random_seed(), r3 = ember__random_seed();
    snprintf(srv->run_id, sizeof srv->run_id, "%016llx%016llx%08x", (unsigned long long)r1,
             (unsigned long long)r2, (unsigned)r3);
    ember__core_init(&b->core, cfg->mode);
    atomic_init(&b->refs, 1);
    if (ember__persist_init(srv) != 0) {
        ember__store_free(&srv->st);
        free(b);
        free(h);
        return EMBER_ENOMEM;
    }
    if (ember__core_start(&b->core) != 0) {
        ember__persist_shutdown(srv);
        ember__store_free(&srv->st);
        free(b);
        free(h);
        return EMBER_EIO;
    }
    h->magic = EM_DB_MAGIC;
    h->dbid = 0;
    h->is_root = 1;
    h->box = b;
    *out = h;
    return EMBER_OK;
}

EMBER_API int ember_db_close(ember_db *db)
{
    if (!db)
        return EMBER_OK;
    if (!em_db_ok(db))
        return EMBER_EMISUSE;
    em_box *b = db->box;
    if (ember__core_on_executor(&b->core))
        return EMBER_EMISUSE;
    if (db->is_root) {
        ember__aof_bg_drain(b);    /* a BGREWRITEAOF needs the executor to finish */
        ember__aof_detach_all(db); /* written and synced before the executor stops */
        ember__core_close(&b->core);
        ember__persist_shutdown(&b->core.srv); /* a snapshot in flight is abandoned */
        ember__ps_free(&b->core.srv);
        ember__store_free(&b->core.srv.st);
        pthread_mutex_destroy(&b->core.srv.cfg_lock);
        b->closed = 1;
    }
    db->magic = 0;
    free(db);
    box_release(b);
    return EMBER_OK;
}

EMBER_API int ember_db_view(ember_db *db, int32_t index, ember_db **out)
{
    if (!em_db_ok(db) || !out)
        return EMBER_EINVAL;
    em_box *b = db->box;
    if (atomic_load(&b->core.closing))
        return EMBER_ECLOSED;
    if (index < 0 || index >= b->core.srv.st.ndb)
        return EMBER_EINVAL;
    ember_db *h = malloc(sizeof *h);
    if (!h)
        return EMBER_ENOMEM;
    atomic_fetch_add(&b->refs, 1);
    h->magic = EM_DB_MAGIC;
    h->dbid = index;
    h->is_root = 0;
    h->box = b;
    *out = h;
    return EMBER_OK;
}

EMBER_API int32_t ember_db_index(const ember_db *db)
{
    return em_db_ok(db) ? db->dbid : -1;
}

/* ------------------------------------------------------------ clock */

EMBER_API int ember_clock_now(ember_db *db, int64_t *unix_ms)
{
    if (!em_db_ok(db) || !unix_ms)
        return EMBER_EINVAL;
    if (atomic_load(&db->box->core.closing))
        return EMBER_ECLOSED;
    *unix_ms = ember__clock_ms(&db->box->core.srv.st.clock);
    return EMBER_OK;
}

/* Moves the virtual clock (to `value` ms, or by it when `relative`) and lets
 * the executor run its timed work at the new time. */
static int clock_move(ember_db *db, int64_t value, int relative)
{
    if (!em_db_ok(db))
        return EMBER_EINVAL;
    em_core *c = &db->box->core;
    if (ember__core_on_executor(c))
        return EMBER_EMISUSE;
    if (atomic_load(&c->closing))
        return EMBER_ECLOSED;
    if (!c->srv.st.clock.is_virtual)
        return EMBER_ENOTSUP;
    if (value < 0 || value > INT64_MAX / 1000)
        return EMBER_EINVAL;
    int rc = relative ? ember__clock_advance_us(&c->srv.st.clock, value * 1000)
                      : ember__clock_set_us(&c->srv.st.clock, value * 1000);
    if (rc != 0)
        return EMBER_EINVAL;
    return ember__exec_tick(c);
}

EMBER_API int ember_clock_set(ember_db *db, int64_t unix_ms)
{
    return clock_move(db, unix_ms, 0);
}

EMBER_API int ember_clock_advance(ember_db *db, int64_t ms)
{
    return clock_move(db, ms, 1);
}
