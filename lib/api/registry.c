/*
 * registry.c — the list of command modules. Adding a module is one line here;
 * adding a command is one line in its module's table.
 */
#include <pthread.h>

#include "api.h"

extern const em_cmd ember__server_cmds[];
extern const em_cmd ember__string_cmds[];
extern const em_cmd ember__key_cmds[];

static const em_cmd *const modules[] = {
    ember__server_cmds,
    ember__string_cmds,
    ember__key_cmds,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    ember__cmd_register(modules, sizeof modules / sizeof modules[0]);
}

void ember__registry_init(void)
{
    pthread_once(&once, init_once);
}
