/*
 * batch.c — building and readying a struct ember_batch (exec.h), shared by
 * the public batch API (lib/api/api_call.c) and ember-server's MULTI/EXEC
 * (lib/server/s_multi.c). Not thread-safe: one thread per batch at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "exec.h"

int ember__batch_add(struct ember_batch *b, size_t argc, const char *const *argv,
                     const size_t *argvlen)
{
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++)
        bytes += (argvlen ? argvlen[i] : (argv[i] ? strlen(argv[i]) : 0)) + 1;
    size_t capargs = b->capargs, capargs2 = b->capargs, capargs3 = b->capargs;
    if (ember__array_grow((void **)&b->cmds, &b->capcmds, b->ncmds + 1, sizeof *b->cmds) ||
        ember__array_grow((void **)&b->argv, &capargs, b->nargs + argc, sizeof *b->argv) ||
        ember__array_grow((void **)&b->argvlen, &capargs2, b->nargs + argc, sizeof *b->argvlen) ||
        ember__array_grow((void **)&b->argoff, &capargs3, b->nargs + argc, sizeof *b->argoff) ||
        ember__array_grow((void **)&b->bytes, &b->capbytes, b->nbytes + bytes, 1))
        return EMBER_ENOMEM;
    b->capargs = capargs;
    b->cmds[b->ncmds].argc = argc;
    b->cmds[b->ncmds].arg0 = b->nargs;
    b->cmds[b->ncmds].cmd =
        ember__cmd_lookup(argv[0], argvlen ? argvlen[0] : (argv[0] ? strlen(argv[0]) : 0));
    for (size_t i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : (argv[i] ? strlen(argv[i]) : 0);
        if (n)
            memcpy(b->bytes + b->nbytes, argv[i], n);
        b->bytes[b->nbytes + n] = '\0';
        b->argoff[b->nargs] = b->nbytes;
        b->argvlen[b->nargs] = n;
        b->nargs++;
        b->nbytes += n + 1;
    }
    b->ncmds++;
    return EMBER_OK;
}

int ember__batch_prepare(struct ember_batch *b)
{
    ember__arena_reset(&b->arena); /* replies live in the batch's arena */
    b->nreplies = 0;
    struct ember_reply **rep = realloc(b->replies, (b->ncmds ? b->ncmds : 1) * sizeof *rep);
    if (!rep)
        return EMBER_ENOMEM;
    b->replies = rep;
    memset(rep, 0, (b->ncmds ? b->ncmds : 1) * sizeof *rep);
    /* The byte arena may have moved since add: point argv into it now. */
    for (size_t i = 0; i < b->nargs; i++)
        b->argv[i] = b->bytes + b->argoff[i];
    return EMBER_OK;
}

void ember__batch_destroy(struct ember_batch *b)
{
    if (!b)
        return;
    ember__arena_free(&b->arena);
    free(b->cmds);
    free(b->argv);
    free(b->argvlen);
    free(b->argoff);
    free(b->bytes);
    free(b->replies);
    b->magic = 0;
    free(b);
}
