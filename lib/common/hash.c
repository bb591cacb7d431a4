/*
 * hash.c — xxh3 (header-only, XXH_INLINE_ALL) and seeds.
 */
#define XXH_INLINE_ALL
#include "hash.h"

#include <sys/random.h>
#include <time.h>
#include <xxhash.h>

uint64_t ember__hash(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

uint64_t ember__random_seed(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&v;
    }
    return v ? v : 0x9e3779b97f4a7c15ull;
}

uint64_t ember__rand64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}
