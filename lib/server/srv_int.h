/*
 * srv_int.h — what the files of lib/server share: the connection and request
 * records, output buffers, the RESP encoder, and the connection commands.
 *   server.c  event loop, connections, parsing, submission, completions
 *   s_resp.c  output buffers and the RESP2/RESP3 encoder
 *   s_conn.c  commands the server answers itself (HELLO, CLIENT, SELECT...)
 * Everything here runs on the I/O thread unless it says otherwise.
 */
#ifndef EMBER_SRV_INT_H
#define EMBER_SRV_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define SRV_INLINE_MAX (64 * 1024)      /* PROTO_INLINE_MAX_SIZE */
#define SRV_MBULK_MAX (1024 * 1024)     /* largest multibulk count */
#define SRV_QUERYBUF_MAX (1024LL << 20) /* client-query-buffer-limit */
#define SRV_FIFO_MAX 1024               /* records pending before reading stops */
#define SRV_OUT_HIGH (4u << 20)         /* output pending before reading stops */
#define SRV_READ_CHUNK (16 * 1024)

typedef struct srv_conn srv_conn;

/* One request of a connection, from parse to reply. */
typedef struct srv_rec {
    em_mpsc_node node; /* done-queue link; must stay first */
    struct srv_rec *next;
    srv_conn *conn;
    struct ember_server *srv;
    int done;      /* the reply (or raw bytes) is ready */
    int proto;     /* 2 or 3, as it was when the request arrived */
    int nullarray; /* a top-level NIL is a null array in RESP2 */
    int flatpairs; /* RESP2 splices the [member, score] pairs into one array */
    int is_cancel; /* an EM_REQ_CANCEL's record: not in the FIFO */
    int blocking;  /* a blocking command: the connection waits for it */
    int status;
    struct ember_reply *reply;
    char *raw; /* a reply the server built itself */
    size_t rawlen;
    struct srv_txn *txn; /* an EXEC: its transaction, owned by the record (s_multi.c) */
} srv_rec;

typedef struct srv_buf {
    char *p;
    size_t off, len, cap; /* live bytes are p[off .. len) */
} srv_buf;

struct srv_conn {
    struct ember_server *srv;
    int fd;
    int64_t id;
    int proto;
    int32_t db;
    int close_after; /* close once the pending replies are written */
    int dead;        /* closed: freed when nothing of it is in flight */
    int inflight;    /* records still in the executor */
    int blocked;     /* a blocking command is in flight: blocked_rec */
    struct srv_rec *blocked_rec;
    uint32_t events; /* epoll interest */
    char *name;
    srv_buf in, out;
    srv_rec *head, *tail;
    size_t nrec;
    /* The request being parsed: arguments point into in.p or scratch. */
    const char **argv;
    size_t *argvlen;
    size_t argcap;
    char *scratch; /* inline requests: unescaped arguments */
    size_t scratchcap;
    srv_conn *prev, *nextc;
    /* transaction state (s_multi.c) */
    struct srv_txn *txn;        /* between MULTI and EXEC / DISCARD, else NULL */
    struct em_watcher *watcher; /* its WATCH state on the executor, else NULL */
    int watch_sent;             /* a request naming watcher was accepted */
    srv_buf *capture;           /* set while EXEC runs a server command: its reply */
};

struct ember_server {
    em_core *core;
    int lfd, efd, stopfd, ep;
    int port;
    int64_t next_id;
    int sweep;          /* some connection is dead: conn_sweep() has work */
    long long max_bulk; /* proto-max-bulk-len at start */
    int32_t ndb;
    pthread_t thread;
    srv_conn *conns;
    em_mpsc done EM_ALIGNED_CL;
    _Atomic uint32_t signaled;
    _Atomic int64_t refs;
};

/* ------------------------------------------------------------ s_resp.c */

/* Output buffers. On allocation failure a put is dropped (the reply is cut
 * short); ember__sbuf_reserve returns -1. */
int ember__sbuf_reserve(srv_buf *b, size_t more);
void ember__sbuf_put(srv_buf *b, const void *p, size_t n);
void ember__sbuf_puts(srv_buf *b, const char *s);
void ember__sbuf_line(srv_buf *b, char prefix, long long v);
void ember__sbuf_bulk(srv_buf *b, const char *p, size_t n);
/* Encodes a reply tree as RESP `proto` (see s_resp.c for the flattening). */
void ember__srv_encode(srv_buf *b, const struct ember_reply *r, int proto, int nullarray,
                       int flatpairs);

/* ------------------------------------------------------------ server.c */

/* Appends a record to the connection's FIFO (NULL when out of memory). */
srv_rec *ember__srv_rec_new(srv_conn *c);
/* Queues a reply the server built itself, after those still pending. */
void ember__srv_reply_raw(srv_conn *c, const char *p, size_t n);
void ember__srv_reply_str(srv_conn *c, const char *s);
/* Queues "-<msg>\r\n". */
void ember__srv_reply_error(srv_conn *c, const char *msg);
/* 1 if argument i of the request being run equals lit, ignoring ASCII case. */
int ember__srv_name_is(const srv_conn *c, size_t i, const char *lit);
/* Closes the connection (its memory goes once nothing of it is in flight). */
void ember__srv_conn_kill(struct ember_server *s, srv_conn *c);
/* The completion callback of requests that carry a record as ud. */
void ember__srv_exec_done(void *ud, int status, struct ember_reply *reply);
/* The RESP2 shape of the reply of the request in c->argv: a top-level nil
 * is a null array; pairs are flattened. */
void ember__srv_reply_shape(const srv_conn *c, int *nullarray, int *flatpairs);

/* ------------------------------------------------------------ s_conn.c */

/* Runs the request in c->argv if it is a connection command; returns 1 if
 * it did (the reply is queued), 0 if it goes to the executor. */
int ember__srv_conn_command(struct ember_server *s, srv_conn *c, size_t argc);

/* ------------------------------------------------------------ s_multi.c */

/* MULTI, EXEC, DISCARD, WATCH, UNWATCH, and queueing while a transaction is
 * open: returns 1 if it answered the request in c->argv, 0 if not (QUIT and
 * RESET inside MULTI, anything outside MULTI but these five). */
int ember__srv_multi_command(struct ember_server *s, srv_conn *c, size_t argc);
/* Discards the queued transaction and unwatches every key (RESET, close). */
void ember__srv_multi_reset(struct ember_server *s, srv_conn *c);
/* Appends the reply of a finished EXEC record to c->out (runs the queued
 * server commands in their place). */
void ember__srv_multi_emit(srv_conn *c, srv_rec *r);
/* Frees a transaction (NULL: no-op). */
void ember__srv_txn_free(struct srv_txn *t);

#endif
