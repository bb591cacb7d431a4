/*
 * alloc.h — allocation with per-store accounting.
 *
 * Every byte a store holds (keys, values, tables) goes through an em_mem,
 * which forwards to the configured allocator hooks and keeps `used`: the
 * allocator's usable size of each live block plus its per-block header
 * (EM_MALLOC_OVERHEAD), so INFO's used_memory is the real heap footprint.
 * `used` is updated with relaxed atomics because the executor allocates while
 * the background free thread releases; readers only need an approximate value.
 */
#ifndef EMBER_ALLOC_H
#define EMBER_ALLOC_H

#include <stdatomic.h>
#include <stddef.h>

/* glibc keeps one size_t before each chunk; count it so per-key figures are honest. */
#define EM_MALLOC_OVERHEAD sizeof(size_t)

typedef struct em_alloc_hooks {
    void *(*malloc_fn)(void *ctx, size_t n);
    void *(*realloc_fn)(void *ctx, void *p, size_t n);
    /* Optional (NULL = malloc + memset): libc's calloc maps fresh zero pages for
     * large blocks, so a big table costs no memset pause on the executor. */
    void *(*calloc_fn)(void *ctx, size_t n);
    void (*free_fn)(void *ctx, void *p);
    size_t (*usable_fn)(void *ctx, const void *p);
    void *ctx;
} em_alloc_hooks;

typedef struct em_mem {
    em_alloc_hooks hooks;
    _Atomic size_t used;
    _Atomic size_t peak;
} em_mem;

/* Fills `h` with the C library's allocator. */
void ember__alloc_default_hooks(em_alloc_hooks *h);
void ember__mem_init(em_mem *m, const em_alloc_hooks *h);

/* Return NULL on failure; callers report EMBER_ENOMEM / the Redis OOM error. */
void *ember__mem_alloc(em_mem *m, size_t n);
void *ember__mem_calloc(em_mem *m, size_t n);
void *ember__mem_realloc(em_mem *m, void *p, size_t n);
void ember__mem_free(em_mem *m, void *p);
/* Usable size of a live block (0 for NULL). */
size_t ember__mem_usable(em_mem *m, const void *p);
size_t ember__mem_used(em_mem *m);

#endif
