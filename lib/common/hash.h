/*
 * hash.h — seeded xxh3 for keyspace tables, and a source of random seeds.
 */
#ifndef EMBER_HASH_H
#define EMBER_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t ember__hash(const void *p, size_t n, uint64_t seed);
/* 64 random bits from the kernel (getrandom), falling back to time ^ address. */
uint64_t ember__random_seed(void);
/* Small fast PRNG (xorshift64*) for sampling; state must be non-zero. */
uint64_t ember__rand64(uint64_t *state);

#endif
