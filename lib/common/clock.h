/*
 * clock.h — the one clock every time-based behaviour reads.
 *
 * Real mode reads CLOCK_REALTIME. Virtual mode returns a value that only moves
 * when the host advances it (tests). `now_ms` is stored atomically so any
 * thread may read it while the API thread advances it.
 */
#ifndef EMBER_CLOCK_H
#define EMBER_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct em_clock {
    int is_virtual;
    _Atomic int64_t virtual_us; /* Unix microseconds, virtual mode only */
} em_clock;

void ember__clock_init(em_clock *c, int is_virtual, int64_t start_ms);
/* Unix time in microseconds / milliseconds. */
int64_t ember__clock_us(const em_clock *c);
int64_t ember__clock_ms(const em_clock *c);
/* Virtual mode only: sets the time (never backwards). Returns 0 or -1. */
int ember__clock_set_us(em_clock *c, int64_t us);
/* Virtual mode only: moves the time forward by delta_us (>= 0). Returns 0 or -1. */
int ember__clock_advance_us(em_clock *c, int64_t delta_us);
/* Monotonic nanoseconds of the real machine, for latency and time budgets. */
int64_t ember__mono_ns(void);

#endif
