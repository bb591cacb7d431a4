/*
 * rdb.h — the RDB codec: objects to RDB version 10 bytes and back.
 *
 * The codec knows bytes, not I/O: the writer appends to an em_rdb_buf that its
 * caller (lib/persist/snapshot.c) flushes to a writer thread; the loader pulls
 * from an em_rdb_src (plain RDB: a zstd frame is unwrapped by the caller).
 * Executor thread (writer: it reads live objects) or any thread that owns the
 * store being loaded into (loader).
 */
#ifndef EMBER_RDB_H
#define EMBER_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "../command/config.h"
#include "../keyspace/keyspace.h"
#include "rdb_format.h"

/* ------------------------------------------------------------------ writing */

/* An append-only byte buffer (plain malloc: scratch, not the store's memory). */
typedef struct em_rdb_buf {
    uint8_t *p;
    size_t len, cap;
    int oom; /* set on the first failed growth; later appends do nothing */
} em_rdb_buf;

void ember__rdb_buf_free(em_rdb_buf *b);

/* "REDIS0010" and the AUX fields (redis-ver, redis-bits, ctime, used-mem,
 * aof-base, ember-ver). ctime_s: the snapshot's point in time (Unix s). */
void ember__rdb_put_header(em_rdb_buf *b, int64_t ctime_s, uint64_t used_mem, int aof_base);
/* SELECTDB dbid and RESIZEDB (sizes are hints; RESIZEDB is left out when
 * both are 0). */
void ember__rdb_put_selectdb(em_rdb_buf *b, int dbid, uint64_t keys, uint64_t expires);
/* One key: [EXPIRETIME_MS] type key value, in the simplest types Redis 7.0
 * re-encodes itself (0 string, 1 list, 2 set, 4 hash, 5 zset-2). Never
 * writes an empty collection. Returns 0, or -1 if the buffer ran out of
 * memory. */
int ember__rdb_put_object(em_rdb_buf *b, const em_obj *o);
/* EOF and the 8-byte LE CRC-64 of every byte before the CRC (the EOF byte
 * included). crc_before_eof: the CRC-64 of every stream byte already taken
 * out of b (0 if the caller never flushed); this folds in what is still in b
 * and the EOF byte itself. */
void ember__rdb_put_eof(em_rdb_buf *b, uint64_t crc_before_eof);

/* Additions beyond the first version of this interface. */

/* Only "REDIS0010" (no AUX fields: tests build minimal files with it). */
void ember__rdb_put_magic(em_rdb_buf *b);
/* The type byte and the value alone, as DUMP serializes a key's value
 * (the caller appends the 2-byte version and the CRC). Returns 0, or -1 on
 * OOM or for an empty collection (nothing written). */
int ember__rdb_put_value(em_rdb_buf *b, const em_obj *o);
/* ember__rdb_put_object plus what Redis writes before a key when cfg's
 * maxmemory-policy is an LRU one (IDLE: seconds since the last access at
 * now_ms) or an LFU one (FREQ: the counter decayed to now_ms); the loader
 * restores them the way Redis does. */
int ember__rdb_put_object_lru(em_rdb_buf *b, const em_obj *o, const em_settings *cfg,
                              int64_t now_ms);
/* Writes v in the RDB length encoding into out (9 bytes of room); returns
 * the number of bytes. */
size_t ember__rdb_encode_len(uint8_t *out, uint64_t v);

/* ------------------------------------------------------------------ loading */

/* A pull source: read returns bytes read (> 0), 0 at end of input, or a
 * negative errno-style code. */
typedef struct em_rdb_src {
    int64_t (*read)(void *ctx, void *buf, size_t n);
    void *ctx;
} em_rdb_src;

/* A source reading from memory: {p, len, 0} with ember__rdb_mem_read as the
 * read function (an em_rdb_src or an ember__io_user reader). */
typedef struct em_rdb_mem {
    const uint8_t *p;
    size_t len, off;
} em_rdb_mem;
int64_t ember__rdb_mem_read(void *ctx, void *buf, size_t n);

/* What went wrong, for the caller's error message. */
typedef struct em_rdb_err {
    uint64_t offset; /* byte offset of the first bad byte (plain RDB stream) */
    char msg[160];
} em_rdb_err;

/* Loads a whole RDB stream into `into` (a fresh, empty store the caller owns
 * and swaps in on success): every database, expiries (keys already expired
 * at now_ms are skipped, as Redis does when it loads as a master; values take
 * the encodings cfg's thresholds choose), every type
 * and encoding Redis 7.0 writes plus older ziplist ones. Every length is
 * bounded by what the format allows before allocating; the CRC is checked
 * (a stored 0 means "not computed"). Returns 0, or -1 with *err filled; on
 * failure `into` holds a partial load the caller discards. */
int ember__rdb_load(em_rdb_src *src, em_store *into, const em_settings *cfg, int64_t now_ms,
                    em_rdb_err *err);

/* Flags of ember__rdb_load_ex. */
enum {
    /* Bytes may follow the CRC (an append log's RDB preamble). The loader
     * reads its source in blocks, so some of them may have been consumed:
     * *rdb_len tells the caller where the RDB ended (re-read from there). */
    EM_RDB_LOAD_TRAILING = 1,
};

/* ember__rdb_load with flags; *rdb_len (may be NULL) receives the length of
 * the RDB data, CRC included. Without EM_RDB_LOAD_TRAILING any byte after
 * the CRC is an error (a snapshot is exactly one RDB). */
int ember__rdb_load_ex(em_rdb_src *src, em_store *into, const em_settings *cfg, int64_t now_ms,
                       unsigned flags, uint64_t *rdb_len, em_rdb_err *err);

#endif
