/*
 * listpack.h — a compact, contiguous sequence of strings and integers in
 * Redis's listpack byte format (so RDB files can carry it as is).
 *
 * Layout: u32 LE total bytes | u16 LE element count (65535 = too many to
 * count: walk) | entries | 0xFF. Each entry is an encoding byte (+ data) and a
 * back-length (1-5 bytes) that lets the sequence be walked backwards:
 *   0xxxxxxx            7-bit unsigned int
 *   10xxxxxx + data     string, 6-bit length
 *   110xxxxx yyyyyyyy   13-bit signed int
 *   1110xxxx yyyyyyyy   string, 12-bit length (+ data)
 *   11110000 + u32 LE   string, 32-bit length (+ data)
 *   0xF1/F2/F3/F4       16/24/32/64-bit signed int, little endian
 * Strings that are canonical int64 text are stored as integers, as Redis does.
 *
 * Entries are addressed by pointers into the buffer ("p"). Any function that
 * may reallocate returns the new buffer; pointers taken before it are stale,
 * except the one it hands back through an out-parameter.
 * Every allocation uses the store's em_mem (accounting).
 */
#ifndef EMBER_LISTPACK_H
#define EMBER_LISTPACK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/alloc.h"

#define EM_LP_HDR 6
#define EM_LP_EOF 0xFF
/* Room a caller provides for ember__lp_get to render an integer entry. */
#define EM_LP_INTBUF 21

/* Where ember__lp_insert puts the new element relative to p. */
enum { EM_LP_BEFORE = 0, EM_LP_AFTER = 1, EM_LP_REPLACE = 2 };

uint8_t *ember__lp_new(em_mem *m, size_t capacity_hint);
void ember__lp_free(em_mem *m, uint8_t *lp);
/* Total bytes of the buffer (header and terminator included). */
size_t ember__lp_bytes(const uint8_t *lp);
/* Number of elements (walks when the header cannot say). */
uint32_t ember__lp_length(const uint8_t *lp);

/* Navigation: NULL past either end. */
uint8_t *ember__lp_first(uint8_t *lp);
uint8_t *ember__lp_last(uint8_t *lp);
uint8_t *ember__lp_next(uint8_t *lp, uint8_t *p);
uint8_t *ember__lp_prev(uint8_t *lp, uint8_t *p);
/* Element at index (negative counts from the end), or NULL. */
uint8_t *ember__lp_seek(uint8_t *lp, int64_t index);

/* Reads the element at p. A string returns its bytes and sets *len; an
 * integer returns NULL and sets *ival — or, when intbuf is given, is rendered
 * there as decimal text and returned as a string. (ival may be NULL when
 * intbuf is given; an integer without intbuf sets *len to 0.) */
const uint8_t *ember__lp_get(const uint8_t *p, int64_t *ival, uint32_t *len, uint8_t *intbuf);
/* 1 if the element at p equals the bytes s[0..len). */
int ember__lp_eq(const uint8_t *p, const void *s, size_t len);
/* First element from p on (stepping 1 + skip elements each time: skip = 1 walks
 * the keys of field/value pairs) equal to s, or NULL. */
uint8_t *ember__lp_find(uint8_t *lp, uint8_t *p, const void *s, size_t len, unsigned skip);

/* Inserts s (a string; stored as an integer when it is one) BEFORE/AFTER p,
 * or REPLACEs p. *newp (may be NULL) receives the new element. Returns the
 * (possibly moved) buffer, or NULL on OOM with the old buffer unchanged.
 * p NULL (or the terminator) with BEFORE/AFTER appends; REPLACE needs an
 * element. s may point into lp itself (it is copied first). A result larger
 * than UINT32_MAX bytes fails like OOM. */
uint8_t *ember__lp_insert(em_mem *m, uint8_t *lp, const void *s, size_t len, uint8_t *p, int where,
                          uint8_t **newp);
uint8_t *ember__lp_insert_int(em_mem *m, uint8_t *lp, int64_t v, uint8_t *p, int where,
                              uint8_t **newp);
uint8_t *ember__lp_append(em_mem *m, uint8_t *lp, const void *s, size_t len);
uint8_t *ember__lp_prepend(em_mem *m, uint8_t *lp, const void *s, size_t len);
/* Deletes the element at p; *next (may be NULL) receives the element that
 * followed it (or NULL). Never fails (shrinks in place). */
uint8_t *ember__lp_delete(em_mem *m, uint8_t *lp, uint8_t *p, uint8_t **next);
/* Deletes count elements starting at index (negative from the end). */
uint8_t *ember__lp_delete_range(em_mem *m, uint8_t *lp, int64_t index, uint32_t count);
/* A copy of the whole buffer (for COPY). NULL on OOM. */
uint8_t *ember__lp_dup(em_mem *m, const uint8_t *lp);

/* Checks an untrusted buffer of `size` bytes (from a file): header, every
 * entry's encoding, lengths and back-lengths within bounds, terminator, and
 * the element count. Returns 1 if it is a valid listpack. */
int ember__lp_validate(const uint8_t *lp, size_t size);

/* Additions beyond the first version of this interface. */

/* 1 and *v if the element at p is stored as an integer, else 0 (a string). */
int ember__lp_get_int(const uint8_t *p, int64_t *v);
/* 1 if the element at p is stored as an integer. */
int ember__lp_is_int(const uint8_t *p);
/* 1 if the element at p equals v (an integer, or a string that is v's text). */
int ember__lp_eq_int(const uint8_t *p, int64_t v);
/* ember__lp_insert_int at the end. */
uint8_t *ember__lp_append_int(em_mem *m, uint8_t *lp, int64_t v);
/* As ember__lp_validate; on failure *bad_offset (may be NULL) receives the
 * offset of the first bad byte or of the field found wrong (0: size/total
 * bytes, 4: element count). */
int ember__lp_validate_at(const uint8_t *lp, size_t size, size_t *bad_offset);

#endif
