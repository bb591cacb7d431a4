/*
 * rdb_format.h — the byte-level constants of Redis's RDB format, version 10
 * (what Redis 7.0 writes and loads). Shared by the writer and the loader so
 * each number appears once. Facts: ../shared/FORMATS.md, checked against
 * redis-server / redis-check-rdb 7.0.15 by the interop tests.
 */
#ifndef EMBER_RDB_FORMAT_H
#define EMBER_RDB_FORMAT_H

#define EM_RDB_MAGIC "REDIS"
#define EM_RDB_VERSION 10
#define EM_RDB_HEADER_LEN 9 /* "REDIS0010" */

/* Opcodes (before a key, or framing). */
enum {
    EM_RDB_OP_FUNCTION2 = 245, /* 0xF5: functions (7.0): refused */
    EM_RDB_OP_FUNCTION = 246,  /* 0xF6: pre-GA functions: refused */
    EM_RDB_OP_MODULE_AUX = 247,
    EM_RDB_OP_IDLE = 248,          /* 0xF8: LRU idle seconds (length) */
    EM_RDB_OP_FREQ = 249,          /* 0xF9: LFU counter (one byte) */
    EM_RDB_OP_AUX = 250,           /* 0xFA: string key, string value */
    EM_RDB_OP_RESIZEDB = 251,      /* 0xFB: two lengths */
    EM_RDB_OP_EXPIRETIME_MS = 252, /* 0xFC: int64 LE absolute Unix ms */
    EM_RDB_OP_EXPIRETIME = 253,    /* 0xFD: int32 LE absolute Unix seconds (old) */
    EM_RDB_OP_SELECTDB = 254,      /* 0xFE: length */
    EM_RDB_OP_EOF = 255,           /* 0xFF: then 8-byte LE CRC-64 */
};

/* Value types. The writer emits 0/1/2/4/5 (Redis re-encodes them itself);
 * the loader also reads what Redis writes. */
enum {
    EM_RDB_TYPE_STRING = 0,
    EM_RDB_TYPE_LIST = 1,
    EM_RDB_TYPE_SET = 2,
    EM_RDB_TYPE_ZSET = 3, /* scores as text (old) */
    EM_RDB_TYPE_HASH = 4,
    EM_RDB_TYPE_ZSET_2 = 5, /* scores as 8-byte LE IEEE doubles */
    EM_RDB_TYPE_MODULE = 6,
    EM_RDB_TYPE_MODULE_2 = 7,
    EM_RDB_TYPE_HASH_ZIPMAP = 9,
    EM_RDB_TYPE_LIST_ZIPLIST = 10,
    EM_RDB_TYPE_SET_INTSET = 11,
    EM_RDB_TYPE_ZSET_ZIPLIST = 12,
    EM_RDB_TYPE_HASH_ZIPLIST = 13,
    EM_RDB_TYPE_LIST_QUICKLIST = 14,
    EM_RDB_TYPE_STREAM_LISTPACKS = 15,
    EM_RDB_TYPE_HASH_LISTPACK = 16,
    EM_RDB_TYPE_ZSET_LISTPACK = 17,
    EM_RDB_TYPE_LIST_QUICKLIST_2 = 18,
    EM_RDB_TYPE_STREAM_LISTPACKS_2 = 19,
    EM_RDB_TYPE_SET_LISTPACK = 20, /* 7.2 (RDB 11): refused in a version-10 file */
    EM_RDB_TYPE_STREAM_LISTPACKS_3 = 21,
};

/* quicklist v2 node containers. */
enum { EM_RDB_QL_PLAIN = 1, EM_RDB_QL_PACKED = 2 };

/* Length encoding: the top two bits of the first byte. */
enum {
    EM_RDB_6BITLEN = 0,     /* 00xxxxxx */
    EM_RDB_14BITLEN = 1,    /* 01xxxxxx xxxxxxxx, big endian */
    EM_RDB_32BITLEN = 0x80, /* then 4 bytes big endian */
    EM_RDB_64BITLEN = 0x81, /* then 8 bytes big endian */
    EM_RDB_ENCVAL = 3,      /* 11xxxxxx: a special string encoding follows */
};

/* Special string encodings (the low 6 bits after 11). */
enum { EM_RDB_ENC_INT8 = 0, EM_RDB_ENC_INT16 = 1, EM_RDB_ENC_INT32 = 2, EM_RDB_ENC_LZF = 3 };

/* zstd's frame magic (little endian 0xFD2FB528): the loader's test for a
 * compressed snapshot. */
#define EM_ZSTD_MAGIC0 0x28
#define EM_ZSTD_MAGIC1 0xB5
#define EM_ZSTD_MAGIC2 0x2F
#define EM_ZSTD_MAGIC3 0xFD

#endif
