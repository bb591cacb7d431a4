/*
 * t_string.c — string commands. (Minimal seed; the full set follows.)
 */
#include "../command/command.h"
#include "../common/util.h"

#include <limits.h>

/* GET key */
static void cmd_get(em_ctx *c)
{
    em_obj *o = em_lookup_read(c, 1, NULL);
    if (!o) {
        em_add_nil(c);
        return;
    }
    if (ember__obj_type(o) != EM_T_STRING) {
        em_err_wrongtype(c);
        return;
    }
    char ib[EM_LLSTR_SIZE];
    em_strview v;
    ember__obj_str_view(o, ib, &v);
    em_add_bulk(c, v.ptr, v.len);
}

/* SET key value */
static void cmd_set(em_ctx *c)
{
    em_dpos pos;
    em_obj *old = em_lookup_write(c, 1, &pos);
    em_obj *n =
        ember__obj_new_string(&c->st->mem, c->argv[1], c->argvlen[1], c->argv[2], c->argvlen[2],
                              EM_STRENC_AUTO);
    if (!n) {
        em_err_oom(c);
        return;
    }
    if (old)
        ember__obj_free(&c->st->mem, ember__ks_replace(c->st, c->ks, &pos, n));
    else
        ember__ks_add(c->st, c->ks, n);
    em_add_ok(c);
}

/* INCR key */
static void cmd_incr(em_ctx *c)
{
    em_dpos pos;
    em_obj *o = em_lookup_write(c, 1, &pos);
    long long v = 0;
    if (o) {
        if (ember__obj_type(o) != EM_T_STRING) {
            em_err_wrongtype(c);
            return;
        }
        if (ember__obj_enc(o) != EM_ENC_INT) {
            em_err_notint(c);
            return;
        }
        v = ember__obj_int(o);
        if (v == LLONG_MAX) {
            em_err_overflow(c);
            return;
        }
        ember__ks_prewrite(c->st, c->ks, o);
        ember__obj_set_int(o, v + 1);
        c->st->dirty++;
    } else {
        em_obj *n = ember__obj_new_int(&c->st->mem, c->argv[1], c->argvlen[1], 1);
        if (!n) {
            em_err_oom(c);
            return;
        }
        ember__ks_add(c->st, c->ks, n);
    }
    em_add_int(c, v + 1);
}

const em_cmd ember__string_cmds[] = {
    {"get", cmd_get, 2, EM_CMD_READONLY | EM_CMD_FAST, 1, 1, 1, NULL},
    {"set", cmd_set, -3, EM_CMD_WRITE | EM_CMD_DENYOOM, 1, 1, 1, NULL},
    {"incr", cmd_incr, 2, EM_CMD_WRITE | EM_CMD_DENYOOM | EM_CMD_FAST, 1, 1, 1, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
