/*
 * alloc.c — accounting allocator front (see alloc.h).
 */
#include "alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}

static void *libc_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n);
}

static void *libc_calloc(void *ctx, size_t n)
{
    (void)ctx;
    return calloc(1, n);
}

static void libc_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static size_t libc_usable(void *ctx, const void *p)
{
    (void)ctx;
    return malloc_usable_size((void *)p);
}

void ember__alloc_default_hooks(em_alloc_hooks *h)
{
    h->malloc_fn = libc_malloc;
    h->realloc_fn = libc_realloc;
    h->calloc_fn = libc_calloc;
    h->free_fn = libc_free;
    h->usable_fn = libc_usable;
    h->ctx = NULL;
}

void ember__mem_init(em_mem *m, const em_alloc_hooks *h)
{
    if (h)
        m->hooks = *h;
    else
        ember__alloc_default_hooks(&m->hooks);
    atomic_init(&m->used, 0);
    atomic_init(&m->peak, 0);
}

static size_t block_cost(em_mem *m, const void *p)
{
    return m->hooks.usable_fn(m->hooks.ctx, p) + EM_MALLOC_OVERHEAD;
}

static void account_add(em_mem *m, size_t n)
{
    size_t now = atomic_fetch_add_explicit(&m->used, n, memory_order_relaxed) + n;
    if (now > atomic_load_explicit(&m->peak, memory_order_relaxed))
        atomic_store_explicit(&m->peak, now, memory_order_relaxed);
}

void *ember__mem_alloc(em_mem *m, size_t n)
{
    void *p = m->hooks.malloc_fn(m->hooks.ctx, n ? n : 1);
    if (p)
        account_add(m, block_cost(m, p));
    return p;
}

void *ember__mem_calloc(em_mem *m, size_t n)
{
    if (m->hooks.calloc_fn) {
        void *p = m->hooks.calloc_fn(m->hooks.ctx, n ? n : 1);
        if (p)
            account_add(m, block_cost(m, p));
        return p;
    }
    void *p = ember__mem_alloc(m, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *ember__mem_realloc(em_mem *m, void *p, size_t n)
{
    if (!p)
        return ember__mem_alloc(m, n);
    size_t old = block_cost(m, p);
    void *q = m->hooks.realloc_fn(m->hooks.ctx, p, n ? n : 1);
    if (!q)
        return NULL;
    atomic_fetch_sub_explicit(&m->used, old, memory_order_relaxed);
    account_add(m, block_cost(m, q));
    return q;
}

void ember__mem_free(em_mem *m, void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&m->used, block_cost(m, p), memory_order_relaxed);
    m->hooks.free_fn(m->hooks.ctx, p);
}

size_t ember__mem_usable(em_mem *m, const void *p)
{
    return p ? m->hooks.usable_fn(m->hooks.ctx, p) : 0;
}

size_t ember__mem_used(em_mem *m)
{
    return atomic_load_explicit(&m->used, memory_order_relaxed);
}
