/*
 * resp_client.h — a small blocking RESP2/RESP3 client for tests.
 *
 * Commands go out as arrays of bulk strings (binary safe); replies come back
 * as a tc_resp tree. Pipelining: tc_conn_append() any number of commands,
 * then tc_conn_read() that many replies (the first read flushes).
 */
#ifndef TC_RESP_CLIENT_H
#define TC_RESP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Reply types, named after their RESP prefix. */
enum {
    TC_RESP_STATUS = '+',
    TC_RESP_ERROR = '-',
    TC_RESP_INTEGER = ':',
    TC_RESP_STRING = '$',
    TC_RESP_ARRAY = '*',
    TC_RESP_NIL = '_', /* RESP3 null, and RESP2 null bulk / null array */
    TC_RESP_DOUBLE = ',',
    TC_RESP_BOOL = '#',
    TC_RESP_BLOBERR = '!',
    TC_RESP_VERBATIM = '=', /* str holds "fmt:text" as sent */
    TC_RESP_BIGNUM = '(',
    TC_RESP_MAP = '%',
    TC_RESP_SET = '~',
    TC_RESP_PUSH = '>',
};

typedef struct tc_resp {
    int type;              /* TC_RESP_* */
    char *str;             /* STATUS ERROR STRING DOUBLE BLOBERR VERBATIM BIGNUM; NUL-ended */
    size_t len;            /* length of str */
    long long integer;     /* INTEGER, BOOL (0/1) */
    size_t n;              /* ARRAY SET PUSH: elements; MAP: 2 x pairs (flattened) */
    struct tc_resp **elem; /* n elements */
    int null_kind;         /* NIL: '_', '$' (null bulk) or '*' (null array) */
} tc_resp;

typedef struct tc_conn tc_conn;

/* Connects to 127.0.0.1:port. NULL on failure (errno set). */
tc_conn *tc_conn_open(int port);
void tc_conn_close(tc_conn *c);

/* Queues a command (argvlen NULL: NUL-terminated arguments). */
void tc_conn_append(tc_conn *c, size_t argc, const char *const *argv, const size_t *argvlen);
/* Writes every queued command. Returns 0 or -1. */
int tc_conn_flush(tc_conn *c);
/* Flushes, then reads one reply. Returns NULL on I/O or protocol error
 * (the reason is in tc_conn_error()). Attributes ('|') are skipped. */
tc_resp *tc_conn_read(tc_conn *c);
/* Flushes, then reads one reply as raw bytes (malloc'd, NUL-terminated,
 * length in *len), for byte-for-byte comparisons. NULL on I/O error. */
char *tc_conn_read_raw(tc_conn *c, size_t *len);
/* append + read. */
tc_resp *tc_conn_command(tc_conn *c, size_t argc, const char *const *argv, const size_t *argvlen);
/* Convenience for literal commands: a NULL-terminated list of C strings. */
tc_resp *tc_conn_commandv(tc_conn *c, const char *const *argv_null_terminated);
const char *tc_conn_error(const tc_conn *c);

/* Switches the connection to RESP3 (HELLO 3). Returns 0 or -1. */
int tc_conn_hello3(tc_conn *c);

void tc_resp_free(tc_resp *r);

/* A growable byte buffer, also used to render replies. */
typedef struct tc_buf {
    char *p;
    size_t len, cap;
} tc_buf;

void tc_buf_put(tc_buf *b, const void *p, size_t n);
void tc_buf_puts(tc_buf *b, const char *s);
void tc_buf_printf(tc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a command as a RESP multibulk request (argvlen NULL:
 * NUL-terminated arguments), exactly the bytes tc_conn_append() sends. */
void tc_buf_command(tc_buf *b, size_t argc, const char *const *argv, const size_t *argvlen);
/* Appends bytes quoted and escaped like redis-cli ("a\x00b"). */
void tc_buf_quote(tc_buf *b, const void *p, size_t n);
void tc_buf_free(tc_buf *b);
/* The content as a NUL-terminated string (never NULL). */
const char *tc_buf_cstr(tc_buf *b);

/* Renders a reply for humans, one element per line, indented. */
void tc_resp_render(tc_buf *b, const tc_resp *r, int indent);

#endif
