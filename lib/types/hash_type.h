/*
 * hash_type.h — the hash value type, below the commands (t_hash.c holds both;
 * this header is what the commands and the unit tests use).
 *
 * A hash is an object of type EM_T_HASH in one of two encodings:
 *   EM_ENC_LISTPACK  body = a listpack of field, value, field, value ...
 *                    in insertion order (as Redis);
 *   EM_ENC_HT        body = an em_dict of string objects: the field is the
 *                    object's key, the value its string value.
 * A hash is a listpack while it has at most `max_entries` fields and every
 * field and value is at most `max_value` bytes (hash-max-listpack-entries /
 * -value); the first write that breaks either limit converts it to a table,
 * once: it never goes back (as Redis). An empty hash never stays in the
 * keyspace — the commands delete the key with its last field.
 *
 * Executor thread only (the free hook may also run on the lazy-free thread).
 */
#ifndef EMBER_HASH_TYPE_H
#define EMBER_HASH_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "../keyspace/dict.h"
#include "listpack.h"

/* The thresholds and the table seed a write needs. */
typedef struct em_hash_cfg {
    int64_t max_entries; /* hash-max-listpack-entries */
    int64_t max_value;   /* hash-max-listpack-value */
    uint64_t seed;       /* seed of the table a conversion creates */
} em_hash_cfg;

/* A field or value being read: ptr/len point into the hash (valid until the
 * next write to it) or into buf (a listpack integer rendered as text). */
typedef struct em_hval {
    const char *ptr;
    size_t len;
    char buf[EM_LP_INTBUF];
} em_hval;

/* Registers the type's hooks (free, copy, size) with the object layer. */
void ember__hash_init(void);

/* A new, empty listpack-encoded hash under key. NULL on OOM. `hint` is the
 * listpack capacity to start with (bytes; 0 = minimal). */
em_obj *ember__hash_new(em_mem *m, const void *key, size_t klen, size_t hint);
/* Number of fields. */
size_t ember__hash_len(const em_obj *o);
/* Finds field f: 1 and *val (may be NULL) filled, or 0. */
int ember__hash_get(em_obj *o, const void *f, size_t flen, em_hval *val);
/* Sets field f to v. Returns 1 (new field), 0 (updated) or -1 (OOM: the hash
 * is unchanged). Converts to a table first when the write would break a
 * listpack limit, or when the listpack already has more than max_entries
 * fields (an update too, as Redis 7.0); a conversion failing is an OOM. */
int ember__hash_set(em_mem *m, em_obj *o, const void *f, size_t flen, const void *v, size_t vlen,
                    const em_hash_cfg *cfg);
/* Deletes field f: 1 if it was there, else 0. Never fails. */
int ember__hash_delete(em_mem *m, em_obj *o, const void *f, size_t flen);
/* Gives a listpack hash's spare capacity back (after a bulk build). */
void ember__hash_shrink_to_fit(em_mem *m, em_obj *o);
/* Converts a listpack hash to a table. 0, or -1 on OOM (unchanged). */
int ember__hash_convert(em_mem *m, em_obj *o, uint64_t seed);
/* Converts when any of the n lengths exceeds max_value (Redis's
 * hashTypeTryConversion, run before a write with those arguments). 0 / -1. */
int ember__hash_try_convert(em_mem *m, em_obj *o, const size_t *lens, size_t n,
                            const em_hash_cfg *cfg);

/* Iteration in storage order (insertion order for a listpack). The hash
 * must not change while an iterator is in use. */
typedef struct em_hash_iter {
    em_obj *o;
    uint8_t *p;    /* listpack: the next field */
    em_obj *e;     /* table: the next entry in the current chain */
    int table;     /* table: 0, 1 */
    size_t bucket; /* table: next bucket to visit */
} em_hash_iter;

void ember__hash_iter_init(em_hash_iter *it, em_obj *o);
/* The next pair: 1 and field/value (either may be NULL) filled, or 0 at the end. */
int ember__hash_iter_next(em_hash_iter *it, em_hval *field, em_hval *value);

/* The table of an EM_ENC_HT hash (for HSCAN and tests). */
static inline em_dict *ember__hash_dict(const em_obj *o)
{
    return (em_dict *)ember__obj_body(o);
}
/* A table entry's field and value. */
void ember__hash_entry(const em_obj *e, em_hval *field, em_hval *value);

#endif
