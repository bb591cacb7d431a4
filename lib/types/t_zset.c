/*
 * t_zset.c — zset commands and the zset value type. (Placeholder: the commands
 * arrive with the collections work; the table is empty until then.)
 */
#include "../command/command.h"

/* Registers the zset value type's hooks (free, copy, size) with the keyspace. */
void ember__zset_init(void);
void ember__zset_init(void)
{
}

const em_cmd ember__zset_cmds[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
