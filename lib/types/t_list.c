/*
 * t_list.c — list commands and the list value type. (Placeholder: the commands
 * arrive with the collections work; the table is empty until then.)
 */
#include "../command/command.h"

/* Registers the list value type's hooks (free, copy, size) with the keyspace. */
void ember__list_init(void);
void ember__list_init(void)
{
}

const em_cmd ember__list_cmds[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
