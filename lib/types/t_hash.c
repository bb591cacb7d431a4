/*
 * t_hash.c — hash commands and the hash value type. (Placeholder: the commands
 * arrive with the collections work; the table is empty until then.)
 */
#include "../command/command.h"

/* Registers the hash value type's hooks (free, copy, size) with the keyspace. */
void ember__hash_init(void);
void ember__hash_init(void)
{
}

const em_cmd ember__hash_cmds[] = {
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
