/*
 * diff_util.h — compares a redis-server reply (tc_resp, RESP3) with an ember
 * reply tree and describes the differences for humans.
 *
 * Equivalences: RESP3 verbatim '=' equals an ember STRING holding the text
 * after its "xxx:" format prefix; every RESP null ('_', "$-1", "*-1") equals
 * ember NIL; a blob error '!' equals an ember ERROR. Doubles compare by their
 * text. Everything else must match in type, bytes, value and structure.
 */
#ifndef TC_DIFF_UTIL_H
#define TC_DIFF_UTIL_H

#include <stddef.h>

#include "ember.h"
#include "resp_client.h"

enum {
    /* The top-level aggregate (ARRAY/SET elements, MAP pairs) is compared as
     * a sorted multiset: for KEYS, SMEMBERS-like replies. */
    TC_DIFF_UNORDERED = 1,
};

/* Converts an ember reply into a tc_resp tree (free with tc_resp_free()). */
tc_resp *tc_from_ember(const ember_reply *r);

/* 1 if the two trees are equal under the rules above, else 0.
 * `redis` is the oracle's reply, `ember` a tree made by tc_from_ember(). */
int tc_resp_equal(const tc_resp *redis, const tc_resp *ember, unsigned opts);

/* Appends a command line, arguments quoted like redis-cli. */
void tc_format_command(tc_buf *b, size_t argc, const char *const *argv, const size_t *argvlen);

/* Appends a readable report of a mismatch: the command and both replies. */
void tc_format_mismatch(tc_buf *b, size_t argc, const char *const *argv, const size_t *argvlen,
                        const tc_resp *redis, const tc_resp *ember);

/* Compares a redis reply with an ember reply. Returns 1 if equal; otherwise
 * 0, after appending tc_format_mismatch() to out (if out is not NULL). */
int tc_diff_reply(tc_buf *out, size_t argc, const char *const *argv, const size_t *argvlen,
                  const tc_resp *redis, const ember_reply *ember, unsigned opts);

/* A canonical byte serialization of a tree under the equivalence rules (two
 * trees are equal iff their serializations are), for sorting and hashing. */
void tc_resp_canon(tc_buf *b, const tc_resp *r);

#endif
