/*
 * rdb_interop.h — the shared part of the RDB interop tests: a dataset built
 * by the same commands on ember or on a redis-server, and a canonical dump of
 * every database (per key: type, encoding, PEXPIRETIME, whole contents; sets
 * and hash pairs sorted) taken the same way on both. Include after <cmocka.h>.
 */
#ifndef TR_RDB_INTEROP_H
#define TR_RDB_INTEROP_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "redis_proc.h"
#include "resp_client.h"

/* One server seen through commands: ember (db, with a view per database) or
 * redis-server (conn, SELECT). Set exactly one of db / conn; view starts NULL
 * and is closed by tr_side_close(). */
typedef struct tr_side {
    ember_db *db;
    ember_db *view;
    tc_conn *conn;
} tr_side;

typedef struct tr_bstr {
    const char *p;
    size_t len;
} tr_bstr;

/* A reply flattened into strings (nested aggregates too: RESP3 pairs). */
typedef struct tr_res {
    int kind; /* 'S' string/status, 'I' integer, 'N' nil, 'E' error, 'A' aggregate */
    long long integer;
    tr_bstr *v;
    size_t n, cap;
    ember_reply *er;
    tc_resp *tr;
} tr_res;

int64_t tr_now_ms(void);
void tr_side_select(tr_side *s, int d);
void tr_side_close(tr_side *s);
/* Runs a command; an error reply fails the test. */
void tr_side_cmd(tr_side *s, size_t argc, const char *const *argv, const size_t *lens, tr_res *out);
void tr_res_free(tr_res *r);
/* A command of NUL-terminated words, NULL-terminated; the reply is dropped. */
void tr_cmd(tr_side *s, ...);
void tr_cmdn(tr_side *s, size_t argc, const char *const *argv, const size_t *lens);

/* The command that reads a whole value of `type` ("string", "list", ...):
 * fills argv[0] and argv[2..] with their lengths (argv[1], the key, is the
 * caller's) and returns argc; *sort / *pairs say how to canonicalize the
 * reply (sets unordered; hash field/value pairs unordered). */
size_t tr_content_argv(const char *type, const char **argv, size_t *lens, int *sort, int *pairs);
/* Appends the dump of databases 0..15. */
void tr_dump_all(tr_side *s, tc_buf *out);
/* Fails with the first line that differs. */
void tr_expect_same(const char *what, const char *a, const char *b);

/* Deterministic, badly compressible bytes. */
void tr_pattern(char *p, size_t n, unsigned seed);
/* The dataset: every type in compact and big encodings at Redis 7.0's
 * default thresholds, TTLs relative to base (Unix ms), binary keys and
 * values, integers, big strings, databases 0, 1, 9, 15. */
void tr_fill(tr_side *s, int64_t base);

/* A private directory under /tmp, and its removal. */
void tr_make_tmpdir(char *dir, size_t cap);
void tr_remove_dir(const char *dir);
/* redis-check-rdb must say the file is OK. */
void tr_check_rdb(const char *path);
/* Starts a redis-server (tc_redis_start) or fails the test. */
void tr_start_redis(tc_redis *r, const char *const *extra);

#endif
