/*
 * registry.c — the list of command modules. Adding a module is one line here;
 * adding a command is one line in its module's table.
 */
#include <pthread.h>

#include "api.h"

extern const em_cmd ember__server_cmds[];
extern const em_cmd ember__string_cmds[];
extern const em_cmd ember__key_cmds[];
extern const em_cmd ember__list_cmds[];
extern const em_cmd ember__hash_cmds[];
extern const em_cmd ember__set_cmds[];
extern const em_cmd ember__zset_cmds[];
extern const em_cmd ember__persist_cmds[];
extern const em_cmd ember__pubsub_cmds[];
extern const em_cmd ember__command_cmds[];
extern const em_cmd ember__debug_cmds[];

/* Value types register their hooks (free, copy, size) with the keyspace. */
void ember__list_init(void);
void ember__hash_init(void);
void ember__set_init(void);
void ember__zset_init(void);

static const em_cmd *const modules[] = {
    ember__server_cmds,  ember__string_cmds, ember__key_cmds,    ember__list_cmds,
    ember__hash_cmds,    ember__set_cmds,    ember__zset_cmds,   ember__persist_cmds,
    ember__command_cmds, ember__debug_cmds,  ember__pubsub_cmds,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    ember__list_init();
    ember__hash_init();
    ember__set_init();
    ember__zset_init();
    ember__cmd_register(modules, sizeof modules / sizeof modules[0]);
}

void ember__registry_init(void)
{
    pthread_once(&once, init_once);
}
