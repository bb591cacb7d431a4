/*
 * intset.h — a sorted set of int64 values in Redis's intset byte format, the
 * compact encoding of sets whose members are all integers.
 *
 * Layout (identical to Redis, so RDB type 11 carries it as is):
 *   u32 LE  encoding: width of every element in bytes, 2, 4 or 8
 *   u32 LE  length: number of elements
 *   length x width bytes: the elements, little endian, strictly ascending
 * The width only grows ("upgrade"), when a value needs more bytes; removing
 * elements never narrows it (as Redis). Lookups are binary searches.
 *
 * Buffers are allocated with exactly their size through the store's em_mem.
 * Functions that may reallocate return the new buffer; NULL means out of
 * memory and the old buffer is unchanged. Executor thread only, except
 * ember__intset_free (any thread: the lazy-free thread uses it).
 */
#ifndef EMBER_INTSET_H
#define EMBER_INTSET_H

#include <stddef.h>
#include <stdint.h>

#include "../common/alloc.h"

#define EM_INTSET_HDR 8

/* An empty intset (width 2). NULL on OOM. */
uint8_t *ember__intset_new(em_mem *m);
void ember__intset_free(em_mem *m, uint8_t *is);
/* A copy (for COPY). NULL on OOM. */
uint8_t *ember__intset_dup(em_mem *m, const uint8_t *is);

uint32_t ember__intset_len(const uint8_t *is);
/* Element width in bytes (2, 4 or 8). */
uint32_t ember__intset_width(const uint8_t *is);
/* Total bytes (header included). */
size_t ember__intset_bytes(const uint8_t *is);
/* Element at index i (< length). */
int64_t ember__intset_get(const uint8_t *is, uint32_t i);
/* 1 if v is present; *pos (may be NULL) receives its index, or the index
 * where it would be inserted when absent. */
int ember__intset_find(const uint8_t *is, int64_t v, uint32_t *pos);

/* Adds v, widening every element first when v needs more bytes. *added is 1
 * if v was new, 0 if already present (buffer returned unchanged). NULL on
 * OOM (old buffer unchanged). */
uint8_t *ember__intset_add(em_mem *m, uint8_t *is, int64_t v, int *added);
/* Removes v if present (*removed 1/0). Never fails: when the allocator cannot
 * shrink the block, the old (larger) block is kept. */
uint8_t *ember__intset_remove(em_mem *m, uint8_t *is, int64_t v, int *removed);
/* Removes the element at index i (< length). Never fails. */
uint8_t *ember__intset_remove_at(em_mem *m, uint8_t *is, uint32_t i);

/* Checks an untrusted buffer of `size` bytes: width 2/4/8, length matching
 * the size exactly, at least one element (Redis never writes an empty one),
 * strictly ascending values (no duplicates). Returns 1 if valid; on failure
 * *bad_offset (may be NULL) receives the offset of the first bad byte or
 * field (0: encoding, 4: length, else the first out-of-order element). */
int ember__intset_validate(const uint8_t *is, size_t size, size_t *bad_offset);

#endif
