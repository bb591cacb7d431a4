/*
 * srv_int.h — what the files of lib/server share: the connection and request
 * records, output buffers, the RESP encoder, and the connection commands.
 *   server.c  event loop, connections, parsing, submission, completions
 *   s_resp.c  output buffers and the RESP2/RESP3 encoder
 *   s_conn.c   commands the server answers itself (HELLO, RESET, SELECT,
 *              SHUTDOWN...) and the gate every request passes (NOAUTH)
 *   s_auth.c   AUTH, HELLO AUTH, requirepass
 *   s_client.c CLIENT and its subcommands, the per-connection state behind
 *              CLIENT LIST, maxclients
 * Everything here runs on the I/O thread unless it says otherwise.
 */
#ifndef EMBER_SRV_INT_H
#define EMBER_SRV_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server.h"

#define SRV_INLINE_MAX (64 * 1024)      /* PROTO_INLINE_MAX_SIZE */
#define SRV_MBULK_MAX 2147483647LL      /* largest multibulk count (INT_MAX) */
#define SRV_QUERYBUF_MAX (1024LL << 20) /* client-query-buffer-limit */
#define SRV_FIFO_MAX 1024               /* records pending before reading stops */
#define SRV_OUT_HIGH (4u << 20)         /* output pending before reading stops */
#define SRV_READ_CHUNK (16 * 1024)

typedef struct srv_conn srv_conn;

/* How Redis sends a command's reply where the reply tree does not say:
 * NULLARRAY: a top-level nil is a null array in RESP2; FLATPAIRS: RESP2
 * splices the [member, score] pairs into one array; VERBATIM: a top-level
 * bulk string is a verbatim "txt" string in RESP3 (INFO). */
enum { SRV_SHAPE_NULLARRAY = 1, SRV_SHAPE_FLATPAIRS = 2, SRV_SHAPE_VERBATIM = 4 };
typedef struct srv_job srv_job;
typedef struct srv_psub srv_psub;

/* One request of a connection, from parse to reply. */
typedef struct srv_rec {
    em_mpsc_node node; /* done-queue link; must stay first */
    struct srv_rec *next;
    srv_conn *conn;
    struct ember_server *srv;
    int done;      /* the reply (or raw bytes) is ready */
    int proto;     /* 2 or 3, as it was when the request arrived */
    int shape;     /* SRV_SHAPE_* of the command's reply */
    int is_cancel; /* an EM_REQ_CANCEL's record: not in the FIFO */
    int blocking;  /* a blocking command: the connection waits for it */
    int status;
    struct ember_reply *reply;
    char *raw; /* a reply the server built itself */
    size_t rawlen;
    srv_job *job;    /* a job's record: its replies are job->out */
    srv_job *jobs;   /* a round (not in a FIFO): the jobs it carries */
    em_req *pending; /* a blocking command not submitted yet */
    struct srv_rec *next_single;
    struct srv_txn *txn; /* an EXEC run as a single: its transaction (s_multi.c) */
} srv_rec;

typedef struct srv_buf {
    char *p;
    size_t off, len, cap; /* live bytes are p[off .. len) */
} srv_buf;

/*
 * A job: the commands one connection sent in one event-loop round, run
 * together on the executor, their replies encoded into `out` there. Every
 * job of a round travels in one executor request (the round), so a busy
 * server hands the executor hundreds of commands per queue operation.
 * Arguments are copied into `bytes` (NUL-terminated each, as handlers
 * expect); argv pointers are made on the executor, once bytes stops moving.
 */
typedef struct srv_jcmd {
    const em_cmd *cmd; /* looked up on the I/O thread; NULL = unknown */
    uint32_t argc, arg0;
    uint8_t shape;           /* SRV_SHAPE_* */
    struct srv_mstep *multi; /* a WATCH/UNWATCH/EXEC step, owned by the job (s_multi.c) */
} srv_jcmd;

struct srv_job {
    srv_rec *rec; /* the FIFO record this job fills */
    srv_job *next;
    int32_t db;
    int proto;
    srv_jcmd *cmds;
    size_t ncmds, capcmds;
    size_t *argoff, *argvlen;
    const char **argv;
    size_t nargs, capargs;
    char *bytes;
    size_t nbytes, capbytes;
    srv_buf out;
    srv_psub *ps; /* the connection's subscriber, if it has one (s_pubsub.c) */
};

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
    srv_job *job; /* the job this round's commands join (NULL: none yet) */
    /* I/O threads: what the read/send done off the loop thread found. */
    ssize_t io_n;
    int io_err;
    int wq; /* in the loop's write list */
    /* The command table entry of the request being run, when the
     * connection-command gate looked it up already (lookup_valid). */
    const em_cmd *looked_up;
    int lookup_valid;
    /* A multibulk request parsed in part (resumed on the next read). */
    int mb_active;
    long long mb_n, mb_i;
    size_t mb_pos;
    /* transaction state (s_multi.c) */
    struct srv_txn *txn;        /* between MULTI and EXEC / DISCARD, else NULL */
    struct em_watcher *watcher; /* its WATCH state on the executor, else NULL */
    int watch_maybe;            /* the last step queued for watcher may leave keys watched */
    srv_buf *capture;           /* set while EXEC runs a server command: its reply */
    /* connection state (s_conn.c) */
    int authenticated;         /* may run commands when requirepass is set */
    int rejected;              /* over maxclients: never counted as a client */
    int no_evict, no_touch;    /* CLIENT NO-EVICT / NO-TOUCH (accepted, shown) */
    int64_t ctime_ms, last_ms; /* monotonic: accepted, last command */
    size_t argv_mem;           /* bytes of the arguments of the command running */
    char lastcmd[48];          /* "NULL" or the last command's full name ("client|info") */
    char *lib_name, *lib_ver;  /* CLIENT SETINFO; NULL = empty */
    char addr[64], laddr[64];  /* "ip:port" of the peer and of our end */
    srv_psub *ps;              /* pub/sub state, from its first pub/sub command (s_pubsub.c) */
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
    srv_job *round, **round_tail;     /* jobs of the current round */
    srv_rec *singles, **singles_tail; /* blocking commands, submitted after the round */
    const em_cmd *nullarray_cmds[8], *pair_cmds[11], *info_cmd;
    const em_cmd *lpop_cmd, *rpop_cmd, *blmove_cmd, *brpoplpush_cmd;
    int64_t loop_ms;      /* ember__srv_now_ms() at the start of this loop iteration */
    int rounds_out;       /* rounds in the executor */
    int64_t spin_done_ns; /* await_round()'s budget */
    /* I/O threads (nio > 1): reads and sends of one loop iteration fan out
     * to nio - 1 helper threads plus the loop thread (see io_run). */
    int nio;
    pthread_t *io_threads;
    int io_op, io_quit;
    srv_conn **io_items;
    size_t io_nitems;
    _Atomic uint32_t io_gen, io_left;
    srv_conn **rv, **wv; /* this iteration's connections to read / to send to */
    size_t nrv, caprv, nwv, capwv;
    em_mpsc done EM_ALIGNED_CL;
    _Atomic uint32_t signaled;
    _Atomic int64_t refs;
    /* connection state (s_conn.c) */
    int nclients; /* connections accepted and not closed */
    em_srv_opts opts;
    /* Subscribers with pushes waiting (s_pubsub.c; the executor adds). */
    pthread_mutex_t ps_lock;
    srv_psub *ps_ready;
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
void ember__srv_encode(srv_buf *b, const struct ember_reply *r, int proto, int shape);

/* The streaming RESP sink (runs on the executor): handlers' replies go
 * straight into b as RESP `proto` bytes, identical to ember__srv_encode()
 * of the same reply's tree. */
typedef struct em_resp_level {
    size_t pos;   /* where a held-back header goes */
    size_t left;  /* elements still expected; SIZE_MAX while deferred */
    size_t count; /* elements written at this level */
    size_t flatn; /* flat: elements of the spliced output */
    char prefix;
    int type;
    unsigned flat : 1, spliced : 1;
} em_resp_level;

typedef struct em_resp_sink {
    srv_buf *b;
    int proto, nullarray, flatpairs, verbatim;
    int depth;
    int oom;
    em_resp_level lv[32];
} em_resp_sink;

extern const em_sink_ops ember__resp_sink_ops;
void ember__resp_sink_init(em_resp_sink *s, srv_buf *b, int proto, int shape);

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
/* For s_multi.c. ember__srv_reply_shape: the SRV_SHAPE_* of cmd's reply. ember__srv_job_add_step:
 * queues step (run on the executor by ember__srv_multi_run, owned by the
 * job from then on) in the connection's job, with c->argv[0..argc) copied;
 * -1 when out of memory (the step is not queued). ember__srv_submit_single:
 * hands r (ud rec, completion into rec) to the executor after this round,
 * the connection waiting for it as for a blocking command. */
int ember__srv_reply_shape(const struct ember_server *s, const em_cmd *cmd, size_t argc,
                           int in_multi);
int ember__srv_job_add_step(struct ember_server *s, srv_conn *c, struct srv_mstep *step,
                            size_t argc);
void ember__srv_submit_single(struct ember_server *s, srv_conn *c, srv_rec *rec, em_req *r);

/* ------------------------------------------------------------ s_conn.c */

/* Runs the request in c->argv if it is a connection command; returns 1 if
 * it did (the reply is queued), 0 if it goes to the executor. */
int ember__srv_conn_command(struct ember_server *s, srv_conn *c, size_t argc);
/* Monotonic milliseconds. */
int64_t ember__srv_now_ms(void);
/* Queues a bulk string reply. */
void ember__srv_reply_bulk(srv_conn *c, const char *p, size_t n);
/* Queues "-ERR wrong number of arguments for '<name>' command". */
void ember__srv_reply_arity(srv_conn *c, const char *name);
/* 1 if every byte of p is printable ASCII without spaces ('!'..'~'): what
 * CLIENT SETNAME and SETINFO accept, so a CLIENT LIST line splits on spaces. */
int ember__srv_attr_ok(const char *p, size_t n);

/* ------------------------------------------------------------ s_auth.c */

/* 1 if requirepass is set and c has not authenticated. */
int ember__srv_auth_required(const struct ember_server *s, const srv_conn *c);
/* 1 if requirepass is set (read under the store's cfg_lock). */
int ember__srv_auth_configured(const struct ember_server *s);
/* Checks a user name and password as AUTH / HELLO AUTH do (only "default"
 * exists; with no requirepass it accepts any password). 1 if they match. */
int ember__srv_auth_check(const struct ember_server *s, const char *user, size_t ulen,
                          const char *pass, size_t plen);
/* AUTH [username] password */
void ember__srv_cmd_auth(struct ember_server *s, srv_conn *c, size_t argc);

/* ------------------------------------------------------------ s_client.c */

/* CLIENT <subcommand> ... (argc >= 2): looks the subcommand up and checks
 * its arity. Returns its table index, or -1 after replying with Redis's
 * error. *known: 0 if the subcommand is unknown, else its index + 1. */
int ember__srv_client_resolve(srv_conn *c, size_t argc, int *known);
/* The full name for cmd= ("client|list") of a resolved subcommand. */
const char *ember__srv_client_name(int sub);
/* Runs the resolved subcommand. */
void ember__srv_cmd_client(struct ember_server *s, srv_conn *c, size_t argc, int sub);
/* Hooks of server.c: a connection was accepted (sets up its state; closes
 * it if maxclients is reached), is being closed, is being freed. */
void ember__srv_conn_opened(struct ember_server *s, srv_conn *c);
void ember__srv_conn_closing(struct ember_server *s, srv_conn *c);
void ember__srv_conn_freed(srv_conn *c);
/* The maxclients setting (read under the store's cfg_lock). */
long long ember__srv_maxclients(const struct ember_server *s);

/* ------------------------------------------------------------ s_multi.c */

/* MULTI, EXEC, DISCARD, WATCH, UNWATCH, and queueing while a transaction is
 * open: returns 1 if it answered the request in c->argv, 0 if not (QUIT and
 * RESET inside MULTI, anything outside MULTI but these five). */
int ember__srv_multi_command(struct ember_server *s, srv_conn *c, size_t argc);
/* Discards the queued transaction and unwatches every key (RESET, close). */
void ember__srv_multi_reset(struct ember_server *s, srv_conn *c);
/* Executor: runs a job's transaction step jc, its reply into j->out. */
void ember__srv_multi_run(em_core *core, srv_job *j, const srv_jcmd *jc);
/* Appends the reply of a finished EXEC single to c->out (runs the queued
 * server commands in their place). */
void ember__srv_multi_emit(srv_conn *c, srv_rec *r);
/* Frees a transaction / a step (NULL: no-op). */
void ember__srv_txn_free(struct srv_txn *t);
void ember__srv_mstep_free(struct srv_mstep *st);

/* ------------------------------------------------------------ s_pubsub.c */

/* A connection's subscriber (loop thread; NULL when out of memory). */
srv_psub *ember__srv_ps_new(struct ember_server *s, srv_conn *c);
/* Executor, around each job of a connection that has one: what waits goes
 * into the job's output first, then pushes go there directly. begin
 * returns the client for em_server.cur_client. */
struct em_ps_client *ember__srv_ps_begin(srv_psub *ps, srv_buf *out, int proto);
void ember__srv_ps_end(srv_psub *ps);
/* Loop thread, when c's FIFO is empty: moves waiting pushes to c->out.
 * Returns -1 if the subscriber went over its limit (close the connection). */
int ember__srv_ps_flush(srv_conn *c);
/* Loop thread: the next connection with pushes waiting, or NULL. */
srv_conn *ember__srv_ps_pop_ready(struct ember_server *s);
/* Loop thread, RESET: unsubscribes from everything (waits for the
 * executor); what was already published stays queued. */
void ember__srv_ps_reset(struct ember_server *s, srv_conn *c);
/* Loop thread, when the connection is freed: unsubscribes it (on the
 * executor, waiting for it) and frees its state. */
void ember__srv_ps_free(struct ember_server *s, srv_conn *c);

#endif
