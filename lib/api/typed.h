/*
 * typed.h — helpers for the typed wrappers (ember_get, ember_del, ...).
 *
 * A wrapper builds the same argv a client would send and runs it through
 * the single command path: ember__call_capture() when it reads one scalar
 * out of the capture sink, ember_command() when it hands back a reply tree.
 * Nothing here allocates for small argument lists. Every helper the wrapper
 * files share lives here (validation, result mapping, the workers of
 * wrappers of one shape, the SCAN family), so each rule is written once.
 */
#ifndef EMBER_TYPED_H
#define EMBER_TYPED_H

#include "api.h"

#define EM_ARGV_STACK 24

/* An argv under construction: stack storage, heap beyond EM_ARGV_STACK. */
typedef struct em_argv {
    const char **argv;
    size_t *lens;
    size_t argc, cap;
    const char *sargv[EM_ARGV_STACK];
    size_t slens[EM_ARGV_STACK];
    char nums[4][24]; /* room for up to four formatted integers */
    int nnums;
    int oom;
} em_argv;

/* Starts an argv for `total` arguments (heap-allocated when large). */
void ember__argv_init(em_argv *a, size_t total);
void ember__argv_free(em_argv *a);
void ember__argv_add(em_argv *a, const void *p, size_t n);
void ember__argv_add_cstr(em_argv *a, const char *s);
/* Adds an int64 formatted in decimal (at most four per argv). */
void ember__argv_add_ll(em_argv *a, long long v);
/* Adds a double as the shortest text that reads back exactly (C locale);
 * buf (>= 32 bytes) must outlive the call that uses the argv. */
void ember__argv_add_double(em_argv *a, double v, char *buf, size_t cap);
/* Adds a blocking timeout given in milliseconds as the seconds text the
 * command takes ("1.500"); buf (>= 32 bytes) must outlive the call. */
void ember__argv_add_timeout_ms(em_argv *a, int64_t ms, char *buf, size_t cap);
/* strtod in the C locale. */
double ember__parse_double_c(const char *s);
/* Adds n keys (or key/value pairs when vals != NULL). */
void ember__argv_add_keys(em_argv *a, size_t n, const void *const *keys, const size_t *klens,
                          const void *const *vals, const size_t *vlens);

/* Runs argv; expects an INTEGER (or BOOL) reply. NIL maps to EMBER_ENOTFOUND. */
int ember__typed_int(ember_db *db, em_argv *a, int64_t *out);
/* Runs argv; expects a STRING (copied for the caller) or NIL (EMBER_ENOTFOUND). */
int ember__typed_bulk(ember_db *db, em_argv *a, void **val, size_t *vlen);
/* Runs argv; expects a DOUBLE (ZSCORE, ZINCRBY) or NIL (EMBER_ENOTFOUND). */
int ember__typed_double(ember_db *db, em_argv *a, double *out);
/* Runs argv; expects a STATUS (EMBER_OK) or NIL (EMBER_ENOTFOUND). */
int ember__typed_status(ember_db *db, em_argv *a);
/* Runs argv; hands back the whole reply tree. */
int ember__typed_reply(ember_db *db, em_argv *a, ember_reply **out);
/* Runs argv; expects an INTEGER 0 or 1 and hands it back as *flag (0 or 1;
 * flag may be NULL). */
int ember__typed_flag(ember_db *db, em_argv *a, int *flag);
/* Runs argv; expects the STRING of a number (INCRBYFLOAT, HINCRBYFLOAT) and
 * hands it back read in the C locale (result may be NULL). */
int ember__typed_bulk_double(ember_db *db, em_argv *a, double *result);
/* Runs argv; hands back the reply tree, or the status an ERROR reply maps to
 * (the tree is then freed and *out left alone). */
int ember__typed_tree(ember_db *db, em_argv *a, ember_reply **out);
/* As ember__typed_tree, and a NIL reply is EMBER_ENOTFOUND (no tree). */
int ember__typed_tree_found(ember_db *db, em_argv *a, ember_reply **out);

/* Starts an argv of `total` arguments with the command name. */
void ember__argv_cmd(em_argv *a, size_t total, const char *cmd);
/* Starts an argv of `total` arguments with the command name and a key. */
void ember__argv_cmd_key(em_argv *a, size_t total, const char *cmd, const void *key, size_t klen);

/* Validates a (ptr, len) pair: NULL only with length 0. */
static inline int em_bytes_ok(const void *p, size_t n)
{
    return p || n == 0;
}

/* The (db, key) every keyed wrapper takes: db given, the key a valid range. */
static inline int em_key_ok(const ember_db *db, const void *key, size_t klen)
{
    return db && em_bytes_ok(key, klen);
}

/* n >= 1 (pointer, length) pairs: arrays present, each a valid byte range. */
int ember__list_ok(size_t n, const void *const *p, const size_t *lens);
/* As ember__list_ok, and n values beside them (MSET pairs, HSET fields). */
int ember__pairs_ok(size_t n, const void *const *p, const size_t *lens, const void *const *vals,
                    const size_t *vlens);
/* Guards the argv size computation of a list of n items (2n arguments for
 * pairs) plus a few words: true when it could overflow. */
static inline int em_too_many(size_t n)
{
    return n >= SIZE_MAX / (4 * sizeof(size_t));
}

/* Whole wrappers of one shape, validation included (EMBER_EINVAL):
 * CMD key with an INTEGER reply (TTL, LLEN, SCARD, ...). */
int ember__key_int(ember_db *db, const char *cmd, const void *key, size_t klen, int64_t *out);
/* CMD key with a STRING or NIL reply (GET, LPOP, SPOP, ...). */
int ember__key_bulk(ember_db *db, const char *cmd, const void *key, size_t klen, void **val,
                    size_t *vlen);
/* CMD key with a reply tree (HGETALL, SMEMBERS, ...); out is required. */
int ember__key_tree(ember_db *db, const char *cmd, const void *key, size_t klen, ember_reply **out);
/* CMD key arg with an INTEGER reply (ZRANK, HSTRLEN, ...). */
int ember__key_arg_int(ember_db *db, const char *cmd, const void *key, size_t klen, const void *arg,
                       size_t alen, int64_t *out);
/* CMD key arg with a 0/1 reply handed back as *flag (SISMEMBER, HEXISTS). */
int ember__key_arg_flag(ember_db *db, const char *cmd, const void *key, size_t klen,
                        const void *arg, size_t alen, int *flag);
/* CMD key item [item ...] with an INTEGER reply (LPUSH, SADD, HDEL, ZREM);
 * EMBER_ENOMEM when n is too large for an argv. */
int ember__key_list_int(ember_db *db, const char *cmd, const void *key, size_t klen, size_t n,
                        const void *const *items, const size_t *ilens, int64_t *out);

/* The SCAN family: CMD [key] cursor [MATCH pattern] [COUNT count] [TYPE type].
 * key is sent when has_key (SCAN has none); pattern NULL and count 0 leave
 * their options out, type NULL too (SCAN only). Validates every argument
 * (EMBER_EINVAL; EMBER_EMISUSE for a handle that is not a database), then
 * takes the element array out of the [cursor, [element ...]] reply: on
 * EMBER_OK *elems is that ARRAY and *next_cursor the cursor it names. */
int ember__typed_scan(ember_db *db, const char *cmd, int has_key, const void *key, size_t klen,
                      uint64_t cursor, const void *pattern, size_t plen, uint32_t count,
                      const char *type, uint64_t *next_cursor, ember_reply **elems);

#endif
