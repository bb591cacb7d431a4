/*
 * t_keys.c — commands on keys of any type. (Minimal seed; the full set follows.)
 */
#include "../command/command.h"

/* DEL key [key ...] */
static void cmd_del(em_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 1; i < c->argc; i++) {
        em_dpos pos;
        if (em_lookup_write(c, i, &pos)) {
            ember__ks_delete(c->st, c->ks, &pos, 0, EM_DEL_USER);
            n++;
        }
    }
    em_add_int(c, n);
}

/* DBSIZE */
static void cmd_dbsize(em_ctx *c)
{
    em_add_int(c, (int64_t)ember__dict_size(&c->ks->dict));
}

const em_cmd ember__key_cmds[] = {
    {"del", cmd_del, -2, EM_CMD_WRITE, 1, -1, 1, NULL},
    {"dbsize", cmd_dbsize, 1, EM_CMD_READONLY | EM_CMD_FAST, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
