/*
 * clock.c — real or virtual Unix time (see clock.h).
 */
#include "clock.h"

#include <time.h>

void ember__clock_init(em_clock *c, int is_virtual, int64_t start_ms)
{
    c->is_virtual = is_virtual;
    atomic_init(&c->virtual_us, start_ms * 1000);
}

int64_t ember__clock_us(const em_clock *c)
{
    if (c->is_virtual)
        return atomic_load_explicit(&((em_clock *)c)->virtual_us, memory_order_acquire);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ember__clock_ms(const em_clock *c)
{
    return ember__clock_us(c) / 1000;
}

int ember__clock_set_us(em_clock *c, int64_t us)
{
    if (!c->is_virtual)
        return -1;
    int64_t cur = atomic_load_explicit(&c->virtual_us, memory_order_relaxed);
    /* CAS so that concurrent setters can never move the clock backwards. */
    do {
        if (us < cur)
            return -1;
    } while (!atomic_compare_exchange_weak_explicit(&c->virtual_us, &cur, us, memory_order_acq_rel,
                                                    memory_order_relaxed));
    return 0;
}

int ember__clock_advance_us(em_clock *c, int64_t delta_us)
{
    if (!c->is_virtual || delta_us < 0)
        return -1;
    atomic_fetch_add_explicit(&c->virtual_us, delta_us, memory_order_acq_rel);
    return 0;
}

int64_t ember__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
