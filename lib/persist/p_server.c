/*
 * p_server.c — the persistence commands: SAVE, BGSAVE, LASTSAVE and
 * BGREWRITEAOF. Snapshot files go to the "dir" and "dbfilename" settings (temporary file, sync,
 * rename, sync of the directory), zstd-framed unless "rdbcompression" is no.
 */
#include <unistd.h>

#include "../common/common.h"
#include "snapshot.h"

static void save_error(em_ctx *c, int rc)
{
    if (rc == EMBER_EBUSY)
        em_add_error(c, "ERR Background save already in progress");
    else
        em_add_errorf(c, "ERR snapshot failed: %s", ember__status_name(rc));
}

/* SAVE: the whole snapshot now, on the executor (as Redis, it blocks every
 * other command until the file is on disk). */
static void cmd_save(em_ctx *c)
{
    em_server *srv = c->srv;
    if (ember__snap_busy(srv)) {
        save_error(c, EMBER_EBUSY);
        return;
    }
    int rc = ember__snap_save_config(srv, 0);
    if (rc == EMBER_OK) {
        ember__snap_run_to_end(srv);
        rc = ember__snap_wait_current(srv);
        ember__snap_reap(srv);
    }
    if (rc == EMBER_OK)
        em_add_ok(c);
    else
        save_error(c, rc);
}

/* BGSAVE [SCHEDULE] */
static void cmd_bgsave(em_ctx *c)
{
    int schedule = 0;
    if (c->argc > 2) {
        em_err_syntax(c);
        return;
    }
    if (c->argc == 2) {
        if (!em_arg_is(c, 1, "schedule")) {
            em_err_syntax(c);
            return;
        }
        schedule = 1;
    }
    if (ember__snap_busy(c->srv)) {
        if (schedule) {
            ember__snap_schedule(c->srv);
            em_add_status(c, "Background saving scheduled");
        } else {
            save_error(c, EMBER_EBUSY);
        }
        return;
    }
    int rc = ember__snap_save_config(c->srv, 1);
    if (rc == EMBER_OK)
        em_add_status(c, "Background saving started");
    else
        save_error(c, rc);
}

/* LASTSAVE */
static void cmd_lastsave(em_ctx *c)
{
    em_add_int(c, c->srv->lastsave_s);
}

/*
 * BGREWRITEAOF: rewrites the attached append log (see the hook in
 * lib/api/api_aof.c; the rewrite is complete when the reply comes, so
 * aof_rewrite_in_progress is 0 again by then). Redis 7.0 rewrites even
 * under appendonly no, into its own appendonly directory; ember writes a
 * log only where the application attached one, so without a log this is
 * an error.
 */
static void cmd_bgrewriteaof(em_ctx *c)
{
    if (!c->srv->aof_rewrite_bg) {
        em_add_error(c, "ERR no append only file is attached: open one with "
                        "ember_aof_open_path() first");
        return;
    }
    const char *err = c->srv->aof_rewrite_bg(c->srv);
    if (err)
        em_add_error(c, err);
    else
        em_add_status(c, "Background append only file rewriting started");
}

const em_cmd ember__persist_cmds[] = {
    {"bgrewriteaof", cmd_bgrewriteaof, 1, EM_CMD_ADMIN | EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"save", cmd_save, 1, EM_CMD_ADMIN | EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"bgsave", cmd_bgsave, -1, EM_CMD_ADMIN, 0, 0, 0, NULL},
    {"lastsave", cmd_lastsave, 1, EM_CMD_FAST | EM_CMD_RANDOM, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
