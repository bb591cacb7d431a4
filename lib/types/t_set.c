/*
 * t_set.c — set commands and the set value type. (Placeholder: the commands
 * arrive with the collections work; the table is empty until then.)
 */
#include "../command/command.h"

/* Registers the set value type's hooks (free, copy, size) with the keyspace. */
void ember__set_init(void);
void ember__set_init(void)
{
}

const em_cmd ember__set_cmds[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
