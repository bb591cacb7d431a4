/*
 * ember.h — the whole public API of ember, an embeddable in-process
 * data-structure store with the Redis data model.
 *
 * This header is the specification. Anything not declared here is private.
 *
 * Conventions (they hold for every function unless its comment says otherwise):
 *
 *  - Status: every function that can fail returns an int: EMBER_OK (0) or a
 *    negative EMBER_E* code. ember_strerror() names every code. Results come
 *    back through out-parameters, which are written only on EMBER_OK.
 *  - A Redis error (WRONGTYPE, syntax, out of range...) is not an API failure:
 *    ember_command() returns EMBER_OK and a reply of type EMBER_REPLY_ERROR
 *    carrying Redis's exact message. Typed wrappers (ember_get, ember_incrby...)
 *    map such errors to a status code (EMBER_EWRONGTYPE, EMBER_ENOTINT...).
 *  - Bytes are (pointer, length) pairs: binary safe, never NUL-terminated by
 *    contract. A NULL pointer with length 0 is the empty string.
 *  - Inputs are copied (or fully consumed) before a call returns.
 *  - Whatever ember allocates for the caller is released with ember_reply_free()
 *    or ember_free(), never with free(). Replies and buffers stay valid after
 *    the database is closed.
 *  - Threads: in executor mode (the default) every function taking an ember_db
 *    may be called from any thread at the same time. In inline mode the caller
 *    promises that one thread at a time uses the database.
 *  - Close functions accept NULL and then do nothing.
 *  - No struct is passed by value, no varargs, only fixed-width integer types,
 *    so every FFI (ctypes, cffi, cgo, bindgen) can bind this header directly.
 */
#ifndef EMBER_H
#define EMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EMBER_STATIC_DEFINE)
#define EMBER_API
#elif defined(EMBER_BUILDING)
#define EMBER_API __attribute__((visibility("default")))
#else
#define EMBER_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                    */
/* ------------------------------------------------------------------------ */

#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 1
#define EMBER_VERSION_PATCH 0
/** Encodes a version as one integer, e.g. EMBER_VERSION_NUM(0, 1, 0) == 100. */
#define EMBER_VERSION_NUM(maj, min, pat) ((maj)*10000 + (min)*100 + (pat))
#define EMBER_VERSION_NUMBER                                                                       \
    EMBER_VERSION_NUM(EMBER_VERSION_MAJOR, EMBER_VERSION_MINOR, EMBER_VERSION_PATCH)

/** The library's version as "MAJOR.MINOR.PATCH" (static storage; never NULL).
 *  Compare with EMBER_VERSION_* to detect a header/library mismatch. Any thread. */
EMBER_API const char *ember_version(void);
/** The library's version as EMBER_VERSION_NUM(major, minor, patch). Any thread. */
EMBER_API uint32_t ember_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                               */
/* ------------------------------------------------------------------------ */

/* Explicit values, append-only: a value is never reused for another meaning. */
enum {
    EMBER_OK = 0,
    EMBER_EINVAL = -1,     /**< an argument is invalid (NULL where required, bad value) */
    EMBER_ENOMEM = -2,     /**< out of memory */
    EMBER_EMISUSE = -3,    /**< API misuse: bad handle, wrong thread or wrong state */
    EMBER_ECLOSED = -4,    /**< the database is closing or closed; nothing was done */
    EMBER_EREPLY = -5,     /**< the command replied with an error not mapped below */
    EMBER_EWRONGTYPE = -6, /**< WRONGTYPE: the key holds another kind of value */
    EMBER_ENOTINT = -7,    /**< a value is not an integer or is out of range */
    EMBER_ENOTFLOAT = -8,  /**< a value is not a valid float */
    EMBER_EOVERFLOW = -9,  /**< the operation would overflow */
    EMBER_ESYNTAX = -10,   /**< syntax error in the command's arguments */
    EMBER_ENOTFOUND = -11, /**< the reply was nil: no such key / element */
    EMBER_ENOKEY = -12,    /**< "ERR no such key" (RENAME, MOVE...) */
    EMBER_EABORT = -13,    /**< an atomic batch was discarded (EXECABORT) */
    EMBER_EUNKNOWN = -14,  /**< unknown command */
    EMBER_EARITY = -15,    /**< wrong number of arguments */
    EMBER_ERANGE = -16,    /**< an index or value is out of range */
    EMBER_EIO = -17,       /**< an I/O operation failed */
    EMBER_EBUSY = -18,     /**< the resource is busy (e.g. still referenced) */
    EMBER_ENOTSUP = -19,   /**< not supported in this configuration */
    EMBER_ECORRUPT = -20,  /**< input (a snapshot file) is malformed or fails its checksum */
    EMBER_EDROPPED = -21,  /**< a subscriber exceeded its buffer limit and was dropped */
};

/** A static, human-readable name for a status code ("EMBER_EWRONGTYPE: ...").
 *  Unknown codes give "unknown ember status". Never NULL. Any thread. */
EMBER_API const char *ember_strerror(int status);

/** Frees a buffer that ember allocated for the caller (ember_get's value,
 *  ember_randomkey's key...). NULL-safe. Any thread, even after close. */
EMBER_API void ember_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Handles                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct ember_db ember_db;         /**< a database (or a view of one) */
typedef struct ember_config ember_config; /**< settings used by ember_db_open */
typedef struct ember_reply ember_reply;   /**< a reply tree */
typedef struct ember_batch ember_batch;   /**< a list of commands sent at once */
typedef struct ember_cq ember_cq;         /**< a pollable completion queue */

/* ------------------------------------------------------------------------ */
/* Configuration                                                              */
/* ------------------------------------------------------------------------ */

/** Threading modes for ember_config_set_mode(). */
enum {
    EMBER_MODE_EXECUTOR = 0, /**< default: one executor thread owns the data */
    EMBER_MODE_INLINE = 1,   /**< no thread: commands run on the caller's thread */
};

/** Creates a configuration holding the defaults (executor mode, 16 databases,
 *  real clock, hz 10, random hash seed, malloc).
 *  @param[out] out  receives the new configuration; free it with ember_config_free().
 *  @return EMBER_OK, EMBER_EINVAL (out is NULL), EMBER_ENOMEM. Any thread. */
EMBER_API int ember_config_new(ember_config **out);

/** Frees a configuration. NULL-safe. A database opened from it does not keep
 *  a reference: the configuration may be freed right after ember_db_open(). */
EMBER_API void ember_config_free(ember_config *cfg);

/** Sets a parameter by its Redis name and a string value, exactly as
 *  `CONFIG SET name value` would (e.g. "hz" "20", "maxmemory" "100mb",
 *  "databases" "4"). Parameters that only make sense at open ("databases")
 *  are accepted here too.
 *
 *  Memory limit: "maxmemory" (bytes, Redis's suffixes kb/mb/gb...; 0 = none)
 *  with "maxmemory-policy" (noeviction, allkeys-lru, allkeys-lfu,
 *  allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl),
 *  "maxmemory-samples", "lfu-log-factor" and "lfu-decay-time" behave as in
 *  Redis 7.0: before each command the database evicts keys (approximated
 *  LRU/LFU with a candidate pool) until INFO's used_memory is at most
 *  maxmemory; when nothing can be evicted, commands that may grow memory get
 *  the error reply "OOM command not allowed when used memory > 'maxmemory'."
 *  (EMBER_ENOMEM from typed calls) and change nothing; reads and deletes run.
 *  used_memory counts every block the database allocated through its
 *  allocator (keys, values, tables); not the append log's buffer, replies
 *  handed to callers, or the arguments of parked blocking calls. Right after
 *  a write it may exceed maxmemory by what that one command allocated.
 *  @param name, value  NUL-terminated strings.
 *  @return EMBER_OK, EMBER_EINVAL (unknown name, bad value or NULL argument). */
EMBER_API int ember_config_set(ember_config *cfg, const char *name, const char *value);

/** Reads back a parameter as the string CONFIG GET would return.
 *  @param[out] out  receives a copy to release with ember_free().
 *  @return EMBER_OK, EMBER_EINVAL (unknown name), EMBER_ENOMEM. */
EMBER_API int ember_config_get(const ember_config *cfg, const char *name, char **out);

/** EMBER_MODE_EXECUTOR (default) or EMBER_MODE_INLINE. @return EMBER_OK, EMBER_EINVAL. */
EMBER_API int ember_config_set_mode(ember_config *cfg, int mode);

/** Number of numbered databases, 1..1024 (default 16). @return EMBER_OK, EMBER_EINVAL. */
EMBER_API int ember_config_set_databases(ember_config *cfg, int32_t count);

/** Uses a virtual clock starting at `start_ms` (Unix milliseconds) instead of
 *  the real clock. Every time-based behaviour (TTLs, active expiry, TIME,
 *  blocking timeouts) then follows ember_clock_advance()/ember_clock_set().
 *  @return EMBER_OK, EMBER_EINVAL (negative start). */
EMBER_API int ember_config_set_virtual_clock(ember_config *cfg, int64_t start_ms);

/** Fixes the seed of the keyspace hash (default: random per database, which
 *  defends against hash flooding). Use a fixed seed only for reproducible
 *  tests. @return EMBER_OK. */
EMBER_API int ember_config_set_hash_seed(ember_config *cfg, uint64_t seed);

/** Allocator hooks, used for every allocation the database holds (keys, values,
 *  tables). Replies returned to the caller always use the C library's malloc,
 *  so they outlive the database. All four functions are required; they may be
 *  called from the executor thread and from ember's background free thread.
 *  usable_size must return the usable size of a live block (for accounting).
 *  @return EMBER_OK, EMBER_EINVAL (a NULL function). */
EMBER_API int ember_config_set_allocator(ember_config *cfg, void *(*malloc_fn)(void *ctx, size_t n),
                                         void *(*realloc_fn)(void *ctx, void *p, size_t n),
                                         void (*free_fn)(void *ctx, void *p),
                                         size_t (*usable_size_fn)(void *ctx, const void *p),
                                         void *ctx);

/* ------------------------------------------------------------------------ */
/* Databases                                                                  */
/* ------------------------------------------------------------------------ */

/** Opens a new, empty in-memory database.
 *  @param cfg  settings, or NULL for the defaults. Not retained.
 *  @param[out] out  the handle; close it with ember_db_close(). It addresses
 *                   database number 0; see ember_db_view() for the others.
 *  @return EMBER_OK, EMBER_EINVAL (out NULL), EMBER_ENOMEM, EMBER_EIO (the
 *          executor thread could not be started). Any thread. */
EMBER_API int ember_db_open(const ember_config *cfg, ember_db **out);

/** Closes a handle. NULL-safe.
 *  On the handle returned by ember_db_open(): stops accepting commands, runs
 *  every command already accepted, completes anything still pending (async
 *  callbacks get EMBER_ECLOSED), joins the executor thread and frees the data.
 *  Views stay valid as handles until they are closed, but every call on them
 *  then returns EMBER_ECLOSED.
 *  On a view: releases just the view.
 *  Must not be called from the executor thread (a closure or callback):
 *  returns EMBER_EMISUSE there. Must not race with other calls on the same
 *  handle (other handles/views may keep calling and get EMBER_ECLOSED).
 *  @return EMBER_OK, EMBER_EMISUSE. */
EMBER_API int ember_db_close(ember_db *db);

/** Creates a view: a handle on the same store that addresses numbered database
 *  `index` (0..databases-1), the way SELECT does for a Redis connection.
 *  Commands through a view run on the same executor, in the same order
 *  guarantees. Close the view with ember_db_close().
 *  @return EMBER_OK, EMBER_EINVAL (index out of range, NULL), EMBER_ENOMEM,
 *          EMBER_ECLOSED. Any thread. */
EMBER_API int ember_db_view(ember_db *db, int32_t index, ember_db **out);

/** The numbered database a handle addresses (0 for ember_db_open's handle).
 *  Returns -1 for a NULL or invalid handle. */
EMBER_API int32_t ember_db_index(const ember_db *db);

/** Advances the virtual clock by `ms` milliseconds (>= 0) and lets the executor
 *  run its timed work (active expiry) at the new time before returning.
 *  @return EMBER_OK, EMBER_ENOTSUP (real clock), EMBER_EINVAL (negative),
 *          EMBER_ECLOSED. Any thread except the executor (EMBER_EMISUSE). */
EMBER_API int ember_clock_advance(ember_db *db, int64_t ms);

/** Sets the virtual clock to `unix_ms` (it may not go backwards).
 *  @return as ember_clock_advance(), EMBER_EINVAL if unix_ms is in the past. */
EMBER_API int ember_clock_set(ember_db *db, int64_t unix_ms);

/** The database's current time in Unix milliseconds (real or virtual).
 *  @return EMBER_OK, EMBER_EINVAL. Any thread. */
EMBER_API int ember_clock_now(ember_db *db, int64_t *unix_ms);

/* ------------------------------------------------------------------------ */
/* Commands and replies                                                       */
/* ------------------------------------------------------------------------ */

enum {
    EMBER_REPLY_NIL = 0,
    EMBER_REPLY_STATUS = 1,
    EMBER_REPLY_ERROR = 2,
    EMBER_REPLY_INTEGER = 3,
    EMBER_REPLY_DOUBLE = 4,
    EMBER_REPLY_STRING = 5,
    EMBER_REPLY_ARRAY = 6,
    EMBER_REPLY_MAP = 7,
    EMBER_REPLY_SET = 8,
    EMBER_REPLY_BOOL = 9
};

/** Runs one command, e.g. {"SET", "k", "v"}, and waits for its reply.
 *  Replies use RESP3's types (MAP, SET, DOUBLE, BOOL, NIL) where Redis 7.0
 *  sends them to a RESP3 client.
 *  @param argc     number of arguments (>= 1; argv[0] is the command name,
 *                  case-insensitive).
 *  @param argv     argument pointers; argv[i] may be NULL only if argvlen[i] is 0.
 *  @param argvlen  argument lengths; NULL means every argv[i] is NUL-terminated.
 *  @param[out] out the reply; release it with ember_reply_free(). A Redis error
 *                  (unknown command, wrong arity, WRONGTYPE...) is an
 *                  EMBER_REPLY_ERROR reply with EMBER_OK returned.
 *  @return EMBER_OK, EMBER_EINVAL (NULL db/argv/out, argc 0), EMBER_ENOMEM,
 *          EMBER_ECLOSED, EMBER_EMISUSE (bad handle).
 *  Threads: any. From the executor thread itself (inside ember_run() or an
 *  async callback) the command executes directly, at once. */
EMBER_API int ember_command(ember_db *db, size_t argc, const char *const *argv,
                            const size_t *argvlen, ember_reply **out);

/** The reply's type (EMBER_REPLY_*); EMBER_REPLY_NIL for NULL. */
EMBER_API int ember_reply_type(const ember_reply *r);

/** The bytes of a STATUS, ERROR or STRING reply (also DOUBLE: its text as
 *  Redis formats it). NUL-terminated for convenience; binary safe via len.
 *  @param[out] len  receives the length; may be NULL.
 *  @return the bytes, valid until ember_reply_free() of the root; NULL (len 0)
 *          for other types or a NULL reply. */
EMBER_API const char *ember_reply_str(const ember_reply *r, size_t *len);

/** The value of an INTEGER or BOOL (0/1) reply; 0 for other types. */
EMBER_API int64_t ember_reply_integer(const ember_reply *r);

/** The value of a DOUBLE reply (also INTEGER, converted); 0.0 otherwise. */
EMBER_API double ember_reply_double(const ember_reply *r);

/** ARRAY and SET: number of elements; MAP: 2 x number of pairs (elements are
 *  flattened key, value, key, value...). 0 for other types. */
EMBER_API size_t ember_reply_len(const ember_reply *r);

/** Element i of an ARRAY, SET or MAP (see ember_reply_len()), owned by its
 *  root: do not free it. NULL if i is out of range or r is not aggregate. */
EMBER_API const ember_reply *ember_reply_element(const ember_reply *r, size_t i);

/** For an ERROR reply, the EMBER_E* code its message maps to
 *  (EMBER_EWRONGTYPE, EMBER_ENOTINT, EMBER_ESYNTAX..., EMBER_EREPLY otherwise);
 *  EMBER_OK for every other type. */
EMBER_API int ember_reply_error_code(const ember_reply *r);

/** Frees a reply tree (pass the root). NULL-safe. Valid after the database
 *  is closed. Any thread. */
EMBER_API void ember_reply_free(ember_reply *r);

/* ------------------------------------------------------------------------ */
/* Asynchronous submission                                                    */
/* ------------------------------------------------------------------------ */

/** Completion callback. Called exactly once per accepted submission; never if
 *  the submission call itself returned an error.
 *  @param status  for a command: EMBER_OK (reply is set) or EMBER_ECLOSED (the
 *                 database closed first; reply is NULL); for a batch
 *                 (ember_batch_exec_async()): its execution status.
 *  @param reply   owned by the callback: release it with ember_reply_free()
 *                 (NULL for batches: their replies stay in the batch).
 *  Runs on the executor thread (cq == NULL) — it must be short and must not
 *  wait; it may call ember_command() and friends, which execute directly — or
 *  on whichever thread calls ember_cq_poll() (cq != NULL). */
typedef void (*ember_callback)(void *userdata, int status, ember_reply *reply);

/** Submits a command without waiting. Arguments are copied before return.
 *  @param cq  NULL to run the callback on the executor thread, or a completion
 *             queue to have it run by ember_cq_poll().
 *  @return EMBER_OK (the callback will be called), EMBER_EINVAL, EMBER_ENOMEM,
 *          EMBER_ECLOSED. Any thread. In inline mode the command runs at once
 *          and the callback is called before return (or queued on cq). */
EMBER_API int ember_command_async(ember_db *db, size_t argc, const char *const *argv,
                                  const size_t *argvlen, ember_cq *cq, ember_callback cb,
                                  void *userdata);

/** Creates a completion queue: completions of async submissions made with it
 *  are queued, and a file descriptor becomes readable while any are waiting,
 *  so a host event loop (epoll, libuv, asyncio) can poll it.
 *  A completion queue belongs to one database. Close it after every submission
 *  made with it has completed (or after ember_db_close()).
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_ENOMEM, EMBER_EIO (no eventfd). */
EMBER_API int ember_cq_open(ember_db *db, ember_cq **out);

/** The descriptor to watch for readability (owned by the queue; do not read
 *  or close it yourself). -1 for NULL. */
EMBER_API int ember_cq_fd(const ember_cq *cq);

/** Runs the callbacks of up to `max` waiting completions (0 = all) on the
 *  calling thread, in completion order. Call from one thread at a time.
 *  @param[out] ran  number of callbacks run; may be NULL.
 *  @return EMBER_OK, EMBER_EINVAL. */
EMBER_API int ember_cq_poll(ember_cq *cq, size_t max, size_t *ran);

/** Frees a completion queue; runs nothing still queued (their replies are
 *  freed). NULL-safe. */
EMBER_API void ember_cq_close(ember_cq *cq);

/* ------------------------------------------------------------------------ */
/* Batches                                                                    */
/* ------------------------------------------------------------------------ */

/** Batch flags for ember_batch_exec(). */
enum {
    EMBER_BATCH_PIPELINE = 0, /**< commands run in order, each with its own reply */
    EMBER_BATCH_ATOMIC = 1,   /**< MULTI/EXEC: all or nothing on syntax errors */
};

/** Creates an empty batch. A batch may be executed many times and reused
 *  after ember_batch_clear(). One thread at a time per batch.
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_ENOMEM. */
EMBER_API int ember_batch_new(ember_batch **out);

/** Appends a command (arguments copied). Same argument rules as ember_command().
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_ENOMEM, EMBER_EMISUSE (an
 *  ember_batch_exec_async() of it is in flight). */
EMBER_API int ember_batch_add(ember_batch *b, size_t argc, const char *const *argv,
                              const size_t *argvlen);

/** Number of commands in the batch; 0 for NULL. */
EMBER_API size_t ember_batch_count(const ember_batch *b);

/** Submits all the batch's commands in one hand-off and waits for all replies.
 *  The executor runs them back to back: no other command interleaves. SELECT
 *  inside a batch switches the database for the rest of the batch.
 *  EMBER_BATCH_ATOMIC adds MULTI/EXEC semantics: if any command is unknown or
 *  has the wrong arity, none runs; that command's reply is its error and every
 *  other reply is "EXECABORT Transaction discarded because of previous
 *  errors." (status EMBER_EABORT). Runtime errors (WRONGTYPE...) do not stop
 *  the others, as in Redis.
 *  Replies replace those of a previous execution.
 *  @return EMBER_OK, EMBER_EABORT, EMBER_EINVAL, EMBER_ENOMEM, EMBER_ECLOSED. */
EMBER_API int ember_batch_exec(ember_db *db, ember_batch *b, int flags);

/** Submits a batch without waiting: ember_batch_exec() whose end is reported
 *  through a completion callback, so one thread can keep several batches in
 *  flight and build the next while the executor runs the previous one.
 *  The callback (see ember_callback) gets the status ember_batch_exec() would
 *  return (EMBER_OK, EMBER_EABORT, EMBER_ENOMEM) or EMBER_ECLOSED, and a NULL
 *  reply: read the replies with ember_batch_reply(). It is called exactly once
 *  if this returns EMBER_OK, never otherwise.
 *  Ownership: the batch belongs to ember from this call until its commands
 *  have run: ember_batch_add(), ember_batch_exec(), a second
 *  ember_batch_exec_async() return EMBER_EMISUSE meanwhile and
 *  ember_batch_clear() does nothing; do not free it before its callback ran.
 *  @param cq  NULL to run the callback on the executor thread, or a completion
 *             queue of the same database (ember_cq_poll() runs it).
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_EMISUSE (already in flight),
 *          EMBER_ENOMEM, EMBER_ECLOSED. Any thread. In inline mode the batch
 *          runs at once and the callback is called before return (or queued
 *          on cq). */
EMBER_API int ember_batch_exec_async(ember_db *db, ember_batch *b, int flags, ember_cq *cq,
                                     ember_callback cb, void *userdata);

/** The reply to command i of the last execution, owned by the batch (valid
 *  until the next exec, clear or free). NULL if out of range or not run. */
EMBER_API const ember_reply *ember_batch_reply(const ember_batch *b, size_t i);

/** Removes every command and reply. */
EMBER_API void ember_batch_clear(ember_batch *b);

/** Frees a batch and its replies. NULL-safe. */
EMBER_API void ember_batch_free(ember_batch *b);

/* ------------------------------------------------------------------------ */
/* Closures                                                                   */
/* ------------------------------------------------------------------------ */

/** A function run atomically on the executor: no other command interleaves
 *  while it runs. `db` is the handle passed to ember_run(); every ember_*
 *  command call made on it (or any handle of the same store) inside the
 *  function executes directly, without the queue. The function must not call
 *  ember_db_close() (EMBER_EMISUSE) and should not block. Its return value is
 *  returned by ember_run(). */
typedef int (*ember_fn)(ember_db *db, void *userdata);

/** Runs `fn` on the executor thread and waits for it (inline mode: at once).
 *  @return fn's return value, or EMBER_EINVAL / EMBER_ECLOSED if it was not run. */
EMBER_API int ember_run(ember_db *db, ember_fn fn, void *userdata);

/* ------------------------------------------------------------------------ */
/* Pub/sub                                                                    */
/* ------------------------------------------------------------------------ */
/* Channels, patterns (Redis's glob rules) and shard channels (a namespace of
 * their own, as SSUBSCRIBE/SPUBLISH on one node) are shared by every handle
 * of a store and by the RESP server's clients, as in one Redis server.
 * PUBLISH, SPUBLISH and PUBSUB also work through ember_command(); SUBSCRIBE
 * and the other subscribe-mode commands need a connection to push to: they
 * work over ember-server (RESP2 subscribe mode, RESP3 pushes, as Redis) and
 * reply an error through ember_command() — in process, use ember_sub_open().
 * Keyspace notifications (notify-keyspace-events, Redis's letters) are
 * published here too. */

typedef struct ember_sub ember_sub; /**< an in-process subscriber */

/** Message kinds (Redis's push message names). */
enum {
    EMBER_MSG_MESSAGE = 0,  /**< to a channel subscription ("message") */
    EMBER_MSG_PMESSAGE = 1, /**< to a pattern subscription ("pmessage") */
    EMBER_MSG_SMESSAGE = 2, /**< to a shard channel subscription ("smessage") */
};

/** One delivered message. The strings are not NUL-terminated. */
typedef struct ember_message {
    int32_t kind;        /**< EMBER_MSG_* */
    const char *pattern; /**< the pattern that matched (PMESSAGE), else NULL */
    size_t patternlen;
    const char *channel;
    size_t channellen;
    const char *data; /**< the published message */
    size_t datalen;
} ember_message;

/** A subscriber callback: runs on the executor thread, in publish order, while
 *  the publishing command runs. `msg` and its strings are valid only during the
 *  call (copy what you keep). It must be short and must not call ember_*
 *  functions of the same store (commands, ember_sub_*, ember_feed_*): their
 *  effect in the middle of another command is undefined. */
typedef void (*ember_message_fn)(void *userdata, const ember_message *msg);

/** Creates a subscriber of db's store, subscribed to nothing yet.
 *  @param cb  NULL for a pollable queue: messages wait in the subscriber
 *             until ember_sub_next() takes them, and ember_sub_fd() is
 *             readable meanwhile; or a callback, run on the executor (see
 *             ember_message_fn; nothing is queued then).
 *  @param max_pending_bytes  queue mode: the bound on what may wait (the
 *             bytes of channel, pattern and message plus 64 per message); a
 *             publish that would exceed it drops the subscriber: it is
 *             unsubscribed from everything, what was queued before stays
 *             readable, then ember_sub_next() returns EMBER_EDROPPED.
 *             0 means 32 MiB (Redis's hard limit for pub/sub clients).
 *  @param[out] out  the subscriber; free it with ember_sub_close().
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_ENOMEM, EMBER_EIO (no eventfd),
 *          EMBER_ECLOSED. Any thread. */
EMBER_API int ember_sub_open(ember_db *db, ember_message_fn cb, void *userdata,
                             size_t max_pending_bytes, ember_sub **out);

/** Subscribes to n channels (SUBSCRIBE), patterns (PSUBSCRIBE) or shard
 *  channels (SSUBSCRIBE); names are copied. Subscribing twice to a name is
 *  harmless (one delivery). Messages published after the call returns are
 *  delivered.
 *  @return EMBER_OK, EMBER_EINVAL (NULL sub, names or lens with n > 0),
 *          EMBER_ENOMEM (nothing subscribed), EMBER_EDROPPED, EMBER_ECLOSED.
 *          Any thread, not from a callback of this store. */
EMBER_API int ember_subscribe(ember_sub *sub, size_t n, const char *const *channels,
                              const size_t *lens);
/** @copydoc ember_subscribe */
EMBER_API int ember_psubscribe(ember_sub *sub, size_t n, const char *const *patterns,
                               const size_t *lens);
/** @copydoc ember_subscribe */
EMBER_API int ember_ssubscribe(ember_sub *sub, size_t n, const char *const *channels,
                               const size_t *lens);

/** Unsubscribes from n channels / patterns / shard channels; n == 0 means
 *  from all of that kind (as UNSUBSCRIBE with no argument). Names not
 *  subscribed are ignored. Messages already queued stay queued.
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_ECLOSED. Any thread, not from a
 *          callback of this store. */
EMBER_API int ember_unsubscribe(ember_sub *sub, size_t n, const char *const *channels,
                                const size_t *lens);
/** @copydoc ember_unsubscribe */
EMBER_API int ember_punsubscribe(ember_sub *sub, size_t n, const char *const *patterns,
                                 const size_t *lens);
/** @copydoc ember_unsubscribe */
EMBER_API int ember_sunsubscribe(ember_sub *sub, size_t n, const char *const *channels,
                                 const size_t *lens);

/** Queue mode: a descriptor readable while messages (or the drop) wait.
 *  Owned by the subscriber; do not read or close it. -1 for NULL or
 *  callback mode. */
EMBER_API int ember_sub_fd(const ember_sub *sub);

/** Queue mode: takes the oldest waiting message.
 *  @param[out] out  the message, freed with ember_message_free().
 *  @return EMBER_OK, EMBER_ENOTFOUND (nothing waiting), EMBER_EDROPPED (the
 *          subscriber was dropped and everything queued before was taken),
 *          EMBER_EINVAL (NULL, or callback mode). One thread at a time per
 *          subscriber (any thread, concurrently with publishers). */
EMBER_API int ember_sub_next(ember_sub *sub, ember_message **out);

/** Frees a message taken with ember_sub_next(). NULL-safe. */
EMBER_API void ember_message_free(ember_message *msg);

/** Unsubscribes from everything and frees the subscriber with what is still
 *  queued. In callback mode no callback runs once this returns. Call it
 *  before or after ember_db_close() (after, it only frees), but not while
 *  ember_db_close() runs on another thread. NULL-safe. Any thread, not from a
 *  callback of this store. */
EMBER_API void ember_sub_close(ember_sub *sub);

/** PUBLISH (shard 0) or SPUBLISH (shard 1) a message, without building a
 *  command: same delivery, same receivers count.
 *  @param[out] receivers  subscribers that received it (may be NULL).
 *  @return EMBER_OK, EMBER_EINVAL, EMBER_ECLOSED. Any thread (from the
 *          executor, e.g. an ember_run() closure, it runs directly). */
EMBER_API int ember_publish(ember_db *db, int shard, const void *channel, size_t channellen,
                            const void *msg, size_t msglen, int64_t *receivers);

/* ------------------------------------------------------------------------ */
/* Change feed                                                                */
/* ------------------------------------------------------------------------ */

/** Change events: the keyspace notification of the same (Redis) name, plus
 *  FLUSHDB and SWAPDB, which Redis does not notify. Append-only numbering. */
enum {
    EMBER_EV_DEL = 0,          /**< "del": a command removed the key (or emptied it) */
    EMBER_EV_EXPIRE,           /**< "expire": the key got a (new) expire time */
    EMBER_EV_PERSIST,          /**< "persist": the expire time was removed */
    EMBER_EV_EXPIRED,          /**< "expired": removed because its time passed */
    EMBER_EV_EVICTED,          /**< "evicted": removed by maxmemory eviction */
    EMBER_EV_NEW,              /**< "new": a key that was absent was added */
    EMBER_EV_KEYMISS,          /**< "keymiss": never sent to the change feed */
    EMBER_EV_RENAME_FROM,      /**< "rename_from" (source key) */
    EMBER_EV_RENAME_TO,        /**< "rename_to" (destination key) */
    EMBER_EV_COPY_TO,          /**< "copy_to" (destination key) */
    EMBER_EV_MOVE_FROM,        /**< "move_from" (db: the source database) */
    EMBER_EV_MOVE_TO,          /**< "move_to" (db: the destination database) */
    EMBER_EV_RESTORE,          /**< "restore" */
    EMBER_EV_SET,              /**< "set" (SET, MSET, SETEX, GETSET...) */
    EMBER_EV_SETRANGE,         /**< "setrange" */
    EMBER_EV_INCRBY,           /**< "incrby" (INCR, DECR, INCRBY, DECRBY) */
    EMBER_EV_INCRBYFLOAT,      /**< "incrbyfloat" */
    EMBER_EV_APPEND,           /**< "append" */
    EMBER_EV_LPUSH,            /**< "lpush" */
    EMBER_EV_RPUSH,            /**< "rpush" */
    EMBER_EV_LPOP,             /**< "lpop" */
    EMBER_EV_RPOP,             /**< "rpop" */
    EMBER_EV_LINSERT,          /**< "linsert" */
    EMBER_EV_LSET,             /**< "lset" */
    EMBER_EV_LREM,             /**< "lrem" */
    EMBER_EV_LTRIM,            /**< "ltrim" */
    EMBER_EV_SORTSTORE,        /**< "sortstore" */
    EMBER_EV_HSET,             /**< "hset" */
    EMBER_EV_HDEL,             /**< "hdel" */
    EMBER_EV_HINCRBY,          /**< "hincrby" */
    EMBER_EV_HINCRBYFLOAT,     /**< "hincrbyfloat" */
    EMBER_EV_SADD,             /**< "sadd" */
    EMBER_EV_SREM,             /**< "srem" */
    EMBER_EV_SPOP,             /**< "spop" */
    EMBER_EV_SINTERSTORE,      /**< "sinterstore" */
    EMBER_EV_SUNIONSTORE,      /**< "sunionstore" */
    EMBER_EV_SDIFFSTORE,       /**< "sdiffstore" */
    EMBER_EV_ZADD,             /**< "zadd" */
    EMBER_EV_ZINCR,            /**< "zincr" */
    EMBER_EV_ZREM,             /**< "zrem" */
    EMBER_EV_ZREMRANGEBYSCORE, /**< "zremrangebyscore" */
    EMBER_EV_ZREMRANGEBYRANK,  /**< "zremrangebyrank" */
    EMBER_EV_ZREMRANGEBYLEX,   /**< "zremrangebylex" */
    EMBER_EV_ZPOPMIN,          /**< "zpopmin" */
    EMBER_EV_ZPOPMAX,          /**< "zpopmax" */
    EMBER_EV_ZUNIONSTORE,      /**< "zunionstore" */
    EMBER_EV_ZINTERSTORE,      /**< "zinterstore" */
    EMBER_EV_ZDIFFSTORE,       /**< "zdiffstore" */
    EMBER_EV_ZRANGESTORE,      /**< "zrangestore" */
    EMBER_EV_FLUSHDB,          /**< every key of database db is gone (FLUSHDB,
                                    FLUSHALL: one per database; a snapshot load) */
    EMBER_EV_SWAPDB,           /**< databases db and db2 swapped contents */
};

/** Value types in ember_change. */
enum {
    EMBER_VALUE_NONE = 0, /**< no key (FLUSHDB, SWAPDB) */
    EMBER_VALUE_STRING = 1,
    EMBER_VALUE_LIST = 2,
    EMBER_VALUE_SET = 3,
    EMBER_VALUE_ZSET = 4,
    EMBER_VALUE_HASH = 5,
};

/** One logical change, in commit order. */
typedef struct ember_change {
    int32_t db;      /**< the database index */
    int32_t event;   /**< EMBER_EV_*: what happened (EXPIRED and EVICTED are the
                          reasons a key left without a command deleting it) */
    int32_t type;    /**< EMBER_VALUE_*: the key's type after the change; for
                          DEL, EXPIRED, EVICTED, RENAME_FROM, MOVE_FROM the type
                          of the value that went */
    int32_t db2;     /**< SWAPDB: the other database; else -1 */
    const char *key; /**< the key (not NUL-terminated); NULL for FLUSHDB/SWAPDB */
    size_t keylen;
    int64_t expire_ms; /**< the key's expire time after the change (Unix ms,
                            store clock), -1 if none or the key is gone */
} ember_change;

/** A change-feed listener. Runs on the executor thread, synchronously, right
 *  after each change (a command's changes arrive before its reply is
 *  released, in the order Redis would notify them; keys that expire or are
 *  evicted arrive when that happens). `ch` and its key are valid only during
 *  the call. It must be short, must not wait, and must not call ember_*
 *  functions of the same store (the command that made the change is still
 *  running): copy what it needs and hand it to another thread. */
typedef void (*ember_change_fn)(void *userdata, const ember_change *ch);

/** Registers a change-feed listener: every change of every database of db's
 *  store from now on, whatever notify-keyspace-events says (keymiss is not
 *  a change and never reaches it). Several listeners run in the order they
 *  were added. The same (fn, userdata) pair may be added once. A snapshot
 *  or append-log load that replaces the data reports one EMBER_EV_FLUSHDB
 *  per database and no per-key events (nothing if the load is refused).
 *  @return EMBER_OK, EMBER_EINVAL (NULL, or already added), EMBER_ENOMEM,
 *          EMBER_ECLOSED. Any thread, not from a listener. */
EMBER_API int ember_feed_add(ember_db *db, ember_change_fn fn, void *userdata);

/** Removes a listener; once this returns it is not called again.
 *  @return EMBER_OK, EMBER_ENOTFOUND (not registered), EMBER_EINVAL,
 *          EMBER_ECLOSED. Any thread, not from a listener. */
EMBER_API int ember_feed_remove(ember_db *db, ember_change_fn fn, void *userdata);

/* ------------------------------------------------------------------------ */
/* Typed wrappers: strings                                                    */
/* ------------------------------------------------------------------------ */
/* Each wrapper builds the same argv as the named command and goes through the
 * same command path as ember_command(). They return EMBER_OK or the status a
 * Redis error maps to (EMBER_EWRONGTYPE, EMBER_ENOTINT, ...), plus the API
 * errors of ember_command(). Any thread. */

/** SET flags for ember_set_ex(). */
enum {
    EMBER_SET_NX = 1,      /**< only if the key does not exist */
    EMBER_SET_XX = 2,      /**< only if the key exists */
    EMBER_SET_KEEPTTL = 4, /**< keep the key's time to live */
    EMBER_SET_ABS = 8,     /**< ttl_ms is an absolute Unix time in ms (PXAT) */
};

/** SET key value. @return EMBER_OK. */
EMBER_API int ember_set(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen);

/** SET key value [PX ttl_ms | PXAT ttl_ms] [NX|XX] [KEEPTTL].
 *  @param ttl_ms  0 for no expiry; else relative ms (or absolute with EMBER_SET_ABS).
 *  @param[out] was_set  1 if the value was written, 0 if NX/XX prevented it; may be NULL.
 *  @return EMBER_OK, EMBER_ESYNTAX (conflicting flags), EMBER_EREPLY (bad ttl). */
EMBER_API int ember_set_ex(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           int64_t ttl_ms, uint32_t flags, int *was_set);

/** GET key. @param[out] val a copy of the value (release with ember_free();
 *  NUL-terminated for convenience), @param[out] vlen its length.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key), EMBER_EWRONGTYPE. */
EMBER_API int ember_get(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen);

/** GETSET key value: sets and returns the old value as ember_get() does
 *  (EMBER_ENOTFOUND if there was none; the new value is set either way). */
EMBER_API int ember_getset(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           void **old, size_t *oldlen);

/** GETDEL key: returns the value as ember_get() and deletes the key. */
EMBER_API int ember_getdel(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen);

/** SETNX key value. @param[out] was_set 1 if set; may be NULL. */
EMBER_API int ember_setnx(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                          int *was_set);

/** SETEX key seconds value. @return EMBER_OK, EMBER_EREPLY (invalid expire time). */
EMBER_API int ember_setex(ember_db *db, const void *key, size_t klen, int64_t seconds,
                          const void *val, size_t vlen);

/** PSETEX key milliseconds value. */
EMBER_API int ember_psetex(ember_db *db, const void *key, size_t klen, int64_t ms, const void *val,
                           size_t vlen);

/** MGET key [key ...]: the reply is an ARRAY of STRING or NIL (release with
 *  ember_reply_free()). @return EMBER_OK, EMBER_EINVAL (n == 0). */
EMBER_API int ember_mget(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                         ember_reply **out);

/** MSET key value [key value ...] with n pairs. */
EMBER_API int ember_mset(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                         const void *const *vals, const size_t *vlens);

/** MSETNX: @param[out] was_set 1 if all were set, 0 if none (one existed). */
EMBER_API int ember_msetnx(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           const void *const *vals, const size_t *vlens, int *was_set);

/** APPEND key value. @param[out] newlen the length after appending; may be NULL. */
EMBER_API int ember_append(ember_db *db, const void *key, size_t klen, const void *val, size_t vlen,
                           int64_t *newlen);

/** STRLEN key (0 if missing). */
EMBER_API int ember_strlen(ember_db *db, const void *key, size_t klen, int64_t *len);

/** GETRANGE key start end (inclusive, negative from the end). The result is
 *  returned as ember_get() returns it (empty, never EMBER_ENOTFOUND). */
EMBER_API int ember_getrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t end,
                             void **val, size_t *vlen);

/** SETRANGE key offset value. @param[out] newlen the string's length after. */
EMBER_API int ember_setrange(ember_db *db, const void *key, size_t klen, int64_t offset,
                             const void *val, size_t vlen, int64_t *newlen);

/** INCRBY key delta (INCR/DECR/DECRBY are delta 1, -1, -delta).
 *  @param[out] result the new value; may be NULL.
 *  @return EMBER_OK, EMBER_ENOTINT, EMBER_EOVERFLOW, EMBER_EWRONGTYPE. */
EMBER_API int ember_incrby(ember_db *db, const void *key, size_t klen, int64_t delta,
                           int64_t *result);
EMBER_API int ember_incr(ember_db *db, const void *key, size_t klen, int64_t *result);
EMBER_API int ember_decr(ember_db *db, const void *key, size_t klen, int64_t *result);
EMBER_API int ember_decrby(ember_db *db, const void *key, size_t klen, int64_t delta,
                           int64_t *result);

/** INCRBYFLOAT key delta. @return EMBER_OK, EMBER_ENOTFLOAT, EMBER_EREPLY
 *  (NaN or infinity), EMBER_EWRONGTYPE. */
EMBER_API int ember_incrbyfloat(ember_db *db, const void *key, size_t klen, double delta,
                                double *result);

/* ------------------------------------------------------------------------ */
/* Typed wrappers: keys                                                       */
/* ------------------------------------------------------------------------ */

/** DEL key [key ...]. @param[out] removed number of keys deleted; may be NULL. */
EMBER_API int ember_del(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                        int64_t *removed);

/** UNLINK key [key ...]: as ember_del(), but large values are freed by a
 *  background thread instead of the executor. */
EMBER_API int ember_unlink(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           int64_t *removed);

/** EXISTS key [key ...]: @param[out] count keys that exist (repeats count again). */
EMBER_API int ember_exists(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           int64_t *count);

/** TOUCH key [key ...]: @param[out] count keys that exist. */
EMBER_API int ember_touch(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          int64_t *count);

/** TYPE key: @param[out] type a static string: "none", "string", "list",
 *  "set", "zset", "hash". */
EMBER_API int ember_type(ember_db *db, const void *key, size_t klen, const char **type);

/** RENAME key newkey. @return EMBER_OK, EMBER_ENOKEY. */
EMBER_API int ember_rename(ember_db *db, const void *key, size_t klen, const void *newkey,
                           size_t nklen);

/** RENAMENX key newkey. @param[out] renamed 1 or 0 (newkey existed). */
EMBER_API int ember_renamenx(ember_db *db, const void *key, size_t klen, const void *newkey,
                             size_t nklen, int *renamed);

/** COPY source destination [DB destdb] [REPLACE].
 *  @param destdb  -1 for the handle's own database.
 *  @param[out] copied 1 or 0. */
EMBER_API int ember_copy(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                         int32_t destdb, int replace, int *copied);

/** MOVE key db. @param[out] moved 1 or 0. */
EMBER_API int ember_move(ember_db *db, const void *key, size_t klen, int32_t destdb, int *moved);

/** SWAPDB index1 index2 (affects every handle and view of the store). */
EMBER_API int ember_swapdb(ember_db *db, int32_t index1, int32_t index2);

/** RANDOMKEY: @return EMBER_OK with a copy of a key (ember_free()), EMBER_ENOTFOUND if empty. */
EMBER_API int ember_randomkey(ember_db *db, void **key, size_t *klen);

/** DBSIZE. */
EMBER_API int ember_dbsize(ember_db *db, int64_t *count);

/** FLUSHDB [ASYNC] (async != 0 frees the old data on a background thread). */
EMBER_API int ember_flushdb(ember_db *db, int async);

/** FLUSHALL [ASYNC]. */
EMBER_API int ember_flushall(ember_db *db, int async);

/** KEYS pattern: an ARRAY of STRING (ember_reply_free()). Prefer ember_scan()
 *  on large databases: KEYS holds the executor for the whole walk. */
EMBER_API int ember_keys(ember_db *db, const void *pattern, size_t plen, ember_reply **out);

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
 *  @param pattern  NULL for all keys. @param count 0 for the default (10).
 *  @param type     NUL-terminated type name or NULL for all types.
 *  @param[out] next_cursor 0 when the iteration is complete.
 *  @param[out] keys ARRAY of STRING (ember_reply_free()).
 *  Guarantee (as Redis): every key present for the whole iteration is
 *  returned at least once, even while the table resizes. */
EMBER_API int ember_scan(ember_db *db, uint64_t cursor, const void *pattern, size_t plen,
                         uint32_t count, const char *type, uint64_t *next_cursor,
                         ember_reply **keys);

/** EXPIRE flags (as the options of EXPIRE). */
enum {
    EMBER_EXPIRE_NX = 1, /**< only if the key has no expiry */
    EMBER_EXPIRE_XX = 2, /**< only if the key has an expiry */
    EMBER_EXPIRE_GT = 4, /**< only if the new expiry is greater */
    EMBER_EXPIRE_LT = 8, /**< only if the new expiry is less */
};

/** EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT].
 *  @param[out] set 1 if the timeout was set (or the key deleted because the
 *  time is in the past), 0 if the key does not exist or a flag prevented it. */
EMBER_API int ember_expire(ember_db *db, const void *key, size_t klen, int64_t seconds,
                           uint32_t flags, int *set);
EMBER_API int ember_pexpire(ember_db *db, const void *key, size_t klen, int64_t ms, uint32_t flags,
                            int *set);
EMBER_API int ember_expireat(ember_db *db, const void *key, size_t klen, int64_t unix_s,
                             uint32_t flags, int *set);
EMBER_API int ember_pexpireat(ember_db *db, const void *key, size_t klen, int64_t unix_ms,
                              uint32_t flags, int *set);

/** TTL / PTTL: remaining time (s / ms); -1 no expiry, -2 no such key. */
EMBER_API int ember_ttl(ember_db *db, const void *key, size_t klen, int64_t *ttl);
EMBER_API int ember_pttl(ember_db *db, const void *key, size_t klen, int64_t *ttl);

/** EXPIRETIME / PEXPIRETIME: absolute Unix time (s / ms); -1, -2 as TTL. */
EMBER_API int ember_expiretime(ember_db *db, const void *key, size_t klen, int64_t *at);
EMBER_API int ember_pexpiretime(ember_db *db, const void *key, size_t klen, int64_t *at);

/** PERSIST key. @param[out] removed 1 if a timeout was removed. */
EMBER_API int ember_persist(ember_db *db, const void *key, size_t klen, int *removed);

/* ------------------------------------------------------------------------ */
/* Typed wrappers: lists                                                      */
/* ------------------------------------------------------------------------ */

/* Elements are (pointer, length) byte strings; an element of length 0 may
 * have a NULL pointer. Indexes are 0-based, negative ones count from the end
 * (-1 is the last element), as in Redis. A list key never exists empty: the
 * call that removes its last element deletes the key. Wrappers that return a
 * reply tree map an error reply (WRONGTYPE...) to its status code and then
 * return no tree. Every wrapper is safe from any thread (executor mode) and
 * costs what the command costs through ember_command(). */

/** Ends of a list, for ember_lmove() and ember_blmove(). */
#define EMBER_LIST_LEFT 0  /**< the head (index 0) */
#define EMBER_LIST_RIGHT 1 /**< the tail (index -1) */

/** LPUSH / RPUSH key element [element ...] with n >= 1 elements, pushed one
 *  after the other (so LPUSH leaves them in reverse order at the head).
 *  Creates the list if the key does not exist.
 *  @param[out] newlen the list's length afterwards; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0, NULL arrays). */
EMBER_API int ember_lpush(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *elems, const size_t *lens, int64_t *newlen);
EMBER_API int ember_rpush(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *elems, const size_t *lens, int64_t *newlen);

/** LPUSHX / RPUSHX: as ember_lpush() / ember_rpush(), but only onto an
 *  existing list; *newlen is 0 (and nothing is created) when the key does
 *  not exist. */
EMBER_API int ember_lpushx(ember_db *db, const void *key, size_t klen, size_t n,
                           const void *const *elems, const size_t *lens, int64_t *newlen);
EMBER_API int ember_rpushx(ember_db *db, const void *key, size_t klen, size_t n,
                           const void *const *elems, const size_t *lens, int64_t *newlen);

/** LPOP / RPOP key: removes and returns the first / last element.
 *  @param[out] val a copy of the element (release with ember_free();
 *  NUL-terminated for convenience); @param[out] vlen its length.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key), EMBER_EWRONGTYPE. */
EMBER_API int ember_lpop(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen);
EMBER_API int ember_rpop(ember_db *db, const void *key, size_t klen, void **val, size_t *vlen);

/** LPOP / RPOP key count: removes up to count elements from one end.
 *  @param[out] out an ARRAY of STRING in the order they were popped, empty
 *  when count is 0 (release with ember_reply_free()).
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key; *out is not set),
 *  EMBER_EWRONGTYPE, EMBER_EINVAL (count > INT64_MAX). */
EMBER_API int ember_lpop_count(ember_db *db, const void *key, size_t klen, uint64_t count,
                               ember_reply **out);
EMBER_API int ember_rpop_count(ember_db *db, const void *key, size_t klen, uint64_t count,
                               ember_reply **out);

/** LLEN key: @param[out] len the number of elements (0 if the key does not
 *  exist). @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_llen(ember_db *db, const void *key, size_t klen, int64_t *len);

/** LINDEX key index: a copy of the element as ember_lpop() returns it,
 *  without removing it. Reaching an index walks list nodes from the nearer
 *  end, then one node: cheap at both ends of any list.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key, or index out of range),
 *  EMBER_EWRONGTYPE. */
EMBER_API int ember_lindex(ember_db *db, const void *key, size_t klen, int64_t index, void **val,
                           size_t *vlen);

/** LSET key index element.
 *  @return EMBER_OK, EMBER_ENOKEY (no such key), EMBER_ERANGE (index out of
 *  range), EMBER_EWRONGTYPE. */
EMBER_API int ember_lset(ember_db *db, const void *key, size_t klen, int64_t index,
                         const void *elem, size_t elen);

/** LRANGE key start stop (inclusive; out-of-range indexes are clipped).
 *  @param[out] out an ARRAY of STRING, empty if the key does not exist or
 *  the range selects nothing (release with ember_reply_free()).
 *  The way to read a big list from C without holding the executor for long:
 *  ask for windows of a few hundred elements (0..99, 100..199, ...) until a
 *  reply is shorter than the window; each call costs O(window) plus the walk
 *  to its start. Other commands may run between windows.
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_lrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop,
                           ember_reply **out);

/** LTRIM key start stop: keeps only the elements in [start, stop] (deletes
 *  the key if nothing is left). A missing key is not an error.
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_ltrim(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop);

/** LREM key count element: removes the first count occurrences (count > 0),
 *  the last -count (count < 0) or all of them (count == 0).
 *  @param[out] removed the number removed; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_lrem(ember_db *db, const void *key, size_t klen, int64_t count,
                         const void *elem, size_t elen, int64_t *removed);

/** LINSERT key BEFORE|AFTER pivot element: inserts before (after == 0) or
 *  after (after != 0) the first element equal to pivot.
 *  @param[out] newlen the new length, -1 if pivot was not found, 0 if the
 *  key does not exist; may be NULL. @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_linsert(ember_db *db, const void *key, size_t klen, int after,
                            const void *pivot, size_t plen, const void *elem, size_t elen,
                            int64_t *newlen);

/** LPOS key element [RANK rank] [MAXLEN maxlen]: the index of a matching
 *  element.
 *  @param rank    0 or 1 for the first match, n for the n-th, negative to
 *                 search from the tail (-1: the last match).
 *  @param maxlen  compare at most this many elements (0: the whole list).
 *  @param[out] index its index from the head.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no match or no such key),
 *  EMBER_EWRONGTYPE, EMBER_EINVAL (maxlen < 0). */
EMBER_API int ember_lpos(ember_db *db, const void *key, size_t klen, const void *elem, size_t elen,
                         int64_t rank, int64_t maxlen, int64_t *index);

/** LMOVE source destination LEFT|RIGHT LEFT|RIGHT: atomically pops from one
 *  end of source (EMBER_LIST_LEFT / EMBER_LIST_RIGHT) and pushes onto one end
 *  of destination (created if missing; may be source itself, which rotates
 *  it). @param[out] val, vlen the element moved, as ember_lpop() returns it;
 *  val may be NULL.
 *  @return EMBER_OK, EMBER_ENOTFOUND (source does not exist; nothing
 *  moved), EMBER_EWRONGTYPE (either key; nothing moved), EMBER_EINVAL. */
EMBER_API int ember_lmove(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                          int from, int to, void **val, size_t *vlen);

/*
 * Blocking pops. These block the calling thread until an element can be
 * taken or the timeout passes: timeout_ms in milliseconds on the store's
 * clock (a virtual clock times them out through ember_clock_advance()), 0
 * to wait forever. Waiters on one key are served in the order they blocked,
 * as in Redis. They return EMBER_ENOTFOUND on timeout and EMBER_ECLOSED if
 * the database is closed while they wait. Called from the executor thread
 * (inside ember_run(), or in inline mode) they cannot wait: they return at
 * once, EMBER_ENOTFOUND when nothing is there, as inside MULTI in Redis.
 * Blocking another thread forever is easy: prefer a timeout.
 */

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout: ember_lmove()
 *  that waits for source to receive an element.
 *  @return as ember_lmove(), EMBER_ENOTFOUND also on timeout, EMBER_ECLOSED,
 *  EMBER_EINVAL (timeout_ms < 0). */
EMBER_API int ember_blmove(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                           int from, int to, int64_t timeout_ms, void **val, size_t *vlen);

/** BLPOP / BRPOP key [key ...] timeout with n >= 1 keys: pops the first /
 *  last element of the first of the keys that holds a list (in argument
 *  order), waiting for one to receive an element if none does.
 *  @param[out] key_index which of keys[] the element came from; may be NULL.
 *  @param[out] val, vlen the element, as ember_lpop() returns it; val may
 *  be NULL.
 *  @return EMBER_OK, EMBER_ENOTFOUND (timeout), EMBER_EWRONGTYPE (a key
 *  before the first list holds another type), EMBER_ECLOSED, EMBER_EINVAL
 *  (n == 0, NULL arrays, timeout_ms < 0). */
EMBER_API int ember_blpop(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          int64_t timeout_ms, size_t *key_index, void **val, size_t *vlen);
EMBER_API int ember_brpop(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          int64_t timeout_ms, size_t *key_index, void **val, size_t *vlen);

/* ------------------------------------------------------------------------ */
/* Typed wrappers: hashes                                                     */
/* ------------------------------------------------------------------------ */

/* Fields and values are (pointer, length) byte strings like keys. Any thread,
 * as every wrapper. A reply's order is the hash's own: insertion order while
 * the hash is small (listpack encoding), unspecified once it is a table.
 * Wrappers that return a reply tree map an error reply (WRONGTYPE...) to its
 * status code and then return no tree. A hash key never exists empty: the
 * call that removes its last field deletes it. A missing key reads as an
 * empty hash. */

/** HSET key field value [field value ...] with n >= 1 pairs (vals[i] for
 *  fields[i]; a repeated field takes its last value).
 *  @param[out] added fields that were not there before; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0, NULL arrays). */
EMBER_API int ember_hset(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *fields, const size_t *flens, const void *const *vals,
                         const size_t *vlens, int64_t *added);

/** HSETNX key field value: sets the field only if it does not exist.
 *  @param[out] was_set 1 if set, 0 if the field existed; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_hsetnx(ember_db *db, const void *key, size_t klen, const void *field,
                           size_t flen, const void *val, size_t vlen, int *was_set);

/** HGET key field. @param[out] val a copy of the value (release with
 *  ember_free(); NUL-terminated for convenience), @param[out] vlen its length.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key or field), EMBER_EWRONGTYPE. */
EMBER_API int ember_hget(ember_db *db, const void *key, size_t klen, const void *field, size_t flen,
                         void **val, size_t *vlen);

/** HMGET key field [field ...] with n >= 1 fields.
 *  @param[out] out an ARRAY of n elements, STRING or NIL (missing field),
 *                  in the order asked (ember_reply_free()).
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0). */
EMBER_API int ember_hmget(ember_db *db, const void *key, size_t klen, size_t n,
                          const void *const *fields, const size_t *flens, ember_reply **out);

/** HDEL key field [field ...] with n >= 1 fields.
 *  @param[out] removed fields deleted (repeats count once); may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0). */
EMBER_API int ember_hdel(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *fields, const size_t *flens, int64_t *removed);

/** HLEN key: @param[out] len number of fields (0 if the key does not exist).
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_hlen(ember_db *db, const void *key, size_t klen, int64_t *len);

/** HSTRLEN key field: @param[out] len the value's length in bytes (0 if the
 *  key or field does not exist). @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_hstrlen(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int64_t *len);

/** HEXISTS key field: @param[out] exists 1 or 0; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_hexists(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int *exists);

/** HGETALL key: @param[out] out a MAP of field -> value (STRING, STRING):
 *  ember_reply_len() is 2 x the number of fields, element 2i the field and
 *  2i + 1 its value; empty if the key does not exist (ember_reply_free()).
 *  One reply holds the whole hash: for a big hash prefer ember_hscan().
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_hgetall(ember_db *db, const void *key, size_t klen, ember_reply **out);

/** HKEYS key / HVALS key: an ARRAY of STRING, the fields / the values, in the
 *  same order as ember_hgetall() (ember_reply_free()).
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_hkeys(ember_db *db, const void *key, size_t klen, ember_reply **out);
EMBER_API int ember_hvals(ember_db *db, const void *key, size_t klen, ember_reply **out);

/** HINCRBY key field delta: adds delta to the field's integer value (a
 *  missing field counts as 0). @param[out] result the new value; may be NULL.
 *  @return EMBER_OK, EMBER_ENOTINT (the value is not an integer: "ERR hash
 *  value is not an integer"), EMBER_EOVERFLOW (nothing changed),
 *  EMBER_EWRONGTYPE. */
EMBER_API int ember_hincrby(ember_db *db, const void *key, size_t klen, const void *field,
                            size_t flen, int64_t delta, int64_t *result);

/** HINCRBYFLOAT key field delta, with long double arithmetic as Redis; the
 *  value is stored as decimal text without exponent.
 *  @param[out] result the new value; may be NULL.
 *  @return EMBER_OK, EMBER_ENOTFLOAT (the value is not a number, or delta is
 *  NaN or infinite), EMBER_EREPLY (the result would be NaN or infinite;
 *  nothing changed), EMBER_EWRONGTYPE. */
EMBER_API int ember_hincrbyfloat(ember_db *db, const void *key, size_t klen, const void *field,
                                 size_t flen, double delta, double *result);

/** HRANDFIELD key count [WITHVALUES]: random fields.
 *  count > 0: up to count distinct fields (the whole hash if count >= its
 *  size); count < 0: exactly -count fields, which may repeat; 0: none.
 *  @param withvalues 0: an ARRAY of STRING fields; 1: an ARRAY of
 *                    [field, value] ARRAYs (Redis 7.0's RESP3 shape).
 *  @param[out] out the ARRAY, empty if the key does not exist (ember_reply_free()).
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_ERANGE (count is INT64_MIN; with
 *  values |count| > INT64_MAX / 2; or count < -16777216, which ember refuses
 *  rather than build an unbounded reply). */
EMBER_API int ember_hrandfield(ember_db *db, const void *key, size_t klen, int64_t count,
                               int withvalues, ember_reply **out);

/** HSCAN key cursor [MATCH pattern] [COUNT count]: the chunked way to walk a
 *  big hash without one giant reply (and without holding the executor for
 *  the whole walk, as ember_hgetall() does). Start with cursor 0 and call
 *  again with *next_cursor until it is 0.
 *  @param pattern  glob on fields (Redis's MATCH), NULL for all.
 *  @param count    work hint per call (0 for Redis's default, 10).
 *  @param[out] next_cursor 0 when the iteration is complete.
 *  @param[out] pairs an ARRAY field, value, field, value ... (ember_reply_free()).
 *  A small hash (listpack encoding) comes back whole with cursor 0.
 *  Guarantee (as Redis): every field present for the whole iteration is
 *  returned at least once, even while the hash's table resizes; a field may
 *  come back more than once. @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL. */
EMBER_API int ember_hscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **pairs);

/* ------------------------------------------------------------------------ */
/* Typed wrappers: sets                                                       */
/* ------------------------------------------------------------------------ */

/* Members are (pointer, length) byte strings like keys; a member that is the
 * decimal text of an int64 ("42", not "042") is the same member however it is
 * stored. Members of every set reply are unordered unless a call says so.
 * Wrappers that return a reply tree map an error reply (WRONGTYPE...) to its
 * status code and then return no tree. A set key never exists empty: the
 * call that removes its last member deletes it. */

/** SADD key member [member ...] with n >= 1 members (repeats count once).
 *  @param[out] added  members that were not there before; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0, NULL arrays). */
EMBER_API int ember_sadd(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *added);

/** SREM key member [member ...]. @param[out] removed members removed; may be NULL.
 *  Deletes the key when its last member goes. @return as ember_sadd(). */
EMBER_API int ember_srem(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *removed);

/** SCARD key: @param[out] count members (0 if the key does not exist).
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_scard(ember_db *db, const void *key, size_t klen, int64_t *count);

/** SISMEMBER key member: @param[out] is_member 1 or 0; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_sismember(ember_db *db, const void *key, size_t klen, const void *member,
                              size_t mlen, int *is_member);

/** SMISMEMBER key member [member ...]: @param[out] out an ARRAY of n INTEGER
 *  replies, 1 or 0, in the order asked (release with ember_reply_free()).
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0). */
EMBER_API int ember_smismember(ember_db *db, const void *key, size_t klen, size_t n,
                               const void *const *members, const size_t *mlens, ember_reply **out);

/** SMEMBERS key: @param[out] out a SET of STRING (empty if the key does not
 *  exist). Holds the executor for the whole set: iterate big sets with
 *  ember_sscan() instead. @return EMBER_OK, EMBER_EWRONGTYPE. */
EMBER_API int ember_smembers(ember_db *db, const void *key, size_t klen, ember_reply **out);

/** SPOP key: removes a random member and returns it.
 *  @param[out] member a copy (release with ember_free()), @param[out] mlen its length.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key), EMBER_EWRONGTYPE. */
EMBER_API int ember_spop(ember_db *db, const void *key, size_t klen, void **member, size_t *mlen);

/** SPOP key count: removes up to count (>= 0) distinct random members.
 *  @param[out] out a SET of STRING: the removed members (all of them, and the
 *  key deleted, when count >= the size; empty when count is 0 or the key does
 *  not exist). @return EMBER_OK, EMBER_ERANGE (count < 0), EMBER_EWRONGTYPE. */
EMBER_API int ember_spop_count(ember_db *db, const void *key, size_t klen, int64_t count,
                               ember_reply **out);

/** SRANDMEMBER key: a random member, the set unchanged. Outputs as ember_spop().
 *  @return EMBER_OK, EMBER_ENOTFOUND, EMBER_EWRONGTYPE. */
EMBER_API int ember_srandmember(ember_db *db, const void *key, size_t klen, void **member,
                                size_t *mlen);

/** SRANDMEMBER key count: @param[out] out an ARRAY of STRING. count > 0:
 *  min(count, size) distinct members; count < 0: exactly -count members
 *  drawn independently (repeats possible); 0 or no key: empty.
 *  @return EMBER_OK, EMBER_ERANGE (INT64_MIN), EMBER_ENOMEM (-count beyond
 *  2^32: a reply that could not be built), EMBER_EWRONGTYPE. */
EMBER_API int ember_srandmember_count(ember_db *db, const void *key, size_t klen, int64_t count,
                                      ember_reply **out);

/** SMOVE source destination member: moves member from one set to another
 *  (creating destination, deleting source when emptied).
 *  @param[out] moved 1 if member was in source (also when source and
 *  destination are the same key), else 0; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE (either key, once source exists). */
EMBER_API int ember_smove(ember_db *db, const void *src, size_t slen, const void *dst, size_t dlen,
                          const void *member, size_t mlen, int *moved);

/** SINTER / SUNION / SDIFF key [key ...] with n >= 1 keys (a missing key is
 *  an empty set; SDIFF takes the first minus all the others).
 *  @param[out] out a SET of STRING. @return EMBER_OK, EMBER_EWRONGTYPE (any
 *  key, even after a missing one), EMBER_EINVAL (n == 0). */
EMBER_API int ember_sinter(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           ember_reply **out);
EMBER_API int ember_sunion(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                           ember_reply **out);
EMBER_API int ember_sdiff(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                          ember_reply **out);

/** SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]: stores
 *  the result in dst, replacing any value of any type (and its TTL); an empty
 *  result deletes dst. @param[out] count the result's size; may be NULL.
 *  @return as ember_sinter(). */
EMBER_API int ember_sinterstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                                const void *const *keys, const size_t *klens, int64_t *count);
EMBER_API int ember_sunionstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                                const void *const *keys, const size_t *klens, int64_t *count);
EMBER_API int ember_sdiffstore(ember_db *db, const void *dst, size_t dlen, size_t n,
                               const void *const *keys, const size_t *klens, int64_t *count);

/** SINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the
 *  intersection without building it. @param limit 0 for no limit, else the
 *  count stops there (cheaper). @param[out] count; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0, limit > INT64_MAX). */
EMBER_API int ember_sintercard(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                               uint64_t limit, int64_t *count);

/** SSCAN key cursor [MATCH pattern] [COUNT count]: the chunked way to iterate
 *  a big set without holding the executor (start with cursor 0, pass each
 *  next_cursor back, stop when it is 0).
 *  @param pattern  glob (NULL for all members). @param count 0 for the default (10).
 *  @param[out] next_cursor 0 when the iteration is complete.
 *  @param[out] members an ARRAY of STRING (ember_reply_free()); may be empty
 *  before the end. Guarantee (as Redis): every member present for the whole
 *  iteration is returned at least once, possibly more than once. Small sets
 *  (intset, listpack encodings) come back whole in the first call.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL. */
EMBER_API int ember_sscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **members);

/* ------------------------------------------------------------------------ */
/* Typed wrappers: sorted sets                                                */
/* ------------------------------------------------------------------------ */

/* Members are (pointer, length) byte strings; scores are doubles (never NaN:
 * a NaN argument is EMBER_EINVAL). Members are ordered by score, then by
 * their bytes. Wrappers that return a reply tree map an error reply
 * (WRONGTYPE...) to its status code and then return no tree. Element arrays
 * are as Redis 7.0 sends them to a RESP3 client: with scores, each element
 * is an ARRAY of [STRING member, DOUBLE score]. A sorted-set key never
 * exists empty: the call that removes its last member deletes it. */

/** ZADD flags (combinations Redis refuses, such as NX with XX or GT, return
 *  the command's error as EMBER_ESYNTAX-family codes). */
#define EMBER_ZADD_NX 1u  /**< only add new members */
#define EMBER_ZADD_XX 2u  /**< only update existing members */
#define EMBER_ZADD_GT 4u  /**< update only when the new score is greater */
#define EMBER_ZADD_LT 8u  /**< update only when the new score is less */
#define EMBER_ZADD_CH 16u /**< count changed members, not only added ones */

/** ZADD key [NX|XX] [GT|LT] [CH] score member [score member ...] with n >= 1
 *  pairs (scores[i] for members[i]).
 *  @param[out] count members added (with EMBER_ZADD_CH: added or whose score
 *                    changed); may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0, NULL arrays,
 *          NaN score, unknown flag), or the code of the command's error. */
EMBER_API int ember_zadd(ember_db *db, const void *key, size_t klen, size_t n, const double *scores,
                         const void *const *members, const size_t *mlens, uint32_t flags,
                         int64_t *count);

/** ZINCRBY key delta member. @param[out] result the new score; may be NULL.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EREPLY (the result would be NaN:
 *  inf + -inf). */
EMBER_API int ember_zincrby(ember_db *db, const void *key, size_t klen, double delta,
                            const void *member, size_t mlen, double *result);

/** ZREM key member [member ...]. @param[out] removed members removed; may be
 *  NULL. @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (n == 0). */
EMBER_API int ember_zrem(ember_db *db, const void *key, size_t klen, size_t n,
                         const void *const *members, const size_t *mlens, int64_t *removed);

/** ZCARD key: @param[out] count members (0 if the key does not exist). */
EMBER_API int ember_zcard(ember_db *db, const void *key, size_t klen, int64_t *count);

/** ZSCORE key member. @param[out] score may be NULL.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no such key or member), EMBER_EWRONGTYPE. */
EMBER_API int ember_zscore(ember_db *db, const void *key, size_t klen, const void *member,
                           size_t mlen, double *score);

/** ZRANK / ZREVRANK key member: @param[out] rank 0-based position in
 *  ascending (ZRANK) or descending (ZREVRANK) order; O(log n).
 *  @return EMBER_OK, EMBER_ENOTFOUND, EMBER_EWRONGTYPE. */
EMBER_API int ember_zrank(ember_db *db, const void *key, size_t klen, const void *member,
                          size_t mlen, int64_t *rank);
EMBER_API int ember_zrevrank(ember_db *db, const void *key, size_t klen, const void *member,
                             size_t mlen, int64_t *rank);

/** Range flags of ember_zcount(), ember_zrange*(). */
#define EMBER_ZRANGE_MINEX 1u      /**< exclude min ("(min") */
#define EMBER_ZRANGE_MAXEX 2u      /**< exclude max ("(max") */
#define EMBER_ZRANGE_REV 4u        /**< descending order */
#define EMBER_ZRANGE_WITHSCORES 8u /**< [member, score] elements */

/** ZCOUNT key min max: members with min <= score <= max (flags MINEX/MAXEX
 *  make an end exclusive; -INFINITY/INFINITY for open ends).
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (NaN, other flags). */
EMBER_API int ember_zcount(ember_db *db, const void *key, size_t klen, double min, double max,
                           uint32_t flags, int64_t *count);

/** ZRANGE key start stop [REV] [WITHSCORES]: by 0-based rank, negative
 *  counting from the end, as Redis.
 *  @param flags EMBER_ZRANGE_REV, EMBER_ZRANGE_WITHSCORES.
 *  @param[out] out an ARRAY (empty if the key does not exist).
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL. */
EMBER_API int ember_zrange(ember_db *db, const void *key, size_t klen, int64_t start, int64_t stop,
                           uint32_t flags, ember_reply **out);

/** ZRANGE key min max BYSCORE [REV] [LIMIT offset count] [WITHSCORES].
 *  min <= max always (the wrapper swaps them for REV, which walks from max
 *  down). count < 0 means no limit; offset >= 0.
 *  With LIMIT this is the way to walk a big sorted set in chunks without
 *  holding the executor: ask for count members from min, then continue
 *  with min = the last score returned and offset = how many members with
 *  that very score were already returned (or offset += count while the
 *  scores do not change). Skipping offset costs O(log n), not O(offset).
 *  @param[out] out an ARRAY. @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL. */
EMBER_API int ember_zrange_byscore(ember_db *db, const void *key, size_t klen, double min,
                                   double max, uint32_t flags, int64_t offset, int64_t count,
                                   ember_reply **out);

/** ZRANGE key min max BYLEX [REV] [LIMIT offset count], for members that all
 *  have the same score. min and max in Redis's syntax: "[a" inclusive, "(a"
 *  exclusive, "-" and "+" for the open ends (min is still the lower bound
 *  with EMBER_ZRANGE_REV). count < 0 means no limit.
 *  @param[out] out an ARRAY of STRING.
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EREPLY (a bound is not a valid
 *  range item), EMBER_EINVAL. */
EMBER_API int ember_zrange_bylex(ember_db *db, const void *key, size_t klen, const void *min,
                                 size_t minlen, const void *max, size_t maxlen, uint32_t flags,
                                 int64_t offset, int64_t count, ember_reply **out);

/** ZPOPMIN / ZPOPMAX key count: removes up to count (>= 0) members with the
 *  lowest (highest) scores. @param[out] out an ARRAY of [member, score]
 *  ARRAYs in pop order (empty if the key does not exist or count is 0).
 *  @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL (count < 0). */
EMBER_API int ember_zpopmin(ember_db *db, const void *key, size_t klen, int64_t count,
                            ember_reply **out);
EMBER_API int ember_zpopmax(ember_db *db, const void *key, size_t klen, int64_t count,
                            ember_reply **out);

/** BZPOPMIN key [key ...] timeout: pops the lowest member of the first
 *  non-empty sorted set among the n keys, waiting up to timeout_ms
 *  milliseconds on the store's clock (0: forever), as the list wrappers do,
 *  for one to get members. Waiters on
 *  a key are served in the order they blocked.
 *  @param[out] out an ARRAY [STRING key, STRING member, DOUBLE score].
 *  @return EMBER_OK, EMBER_ENOTFOUND (timed out; inside ember_run() or an
 *  atomic batch it cannot wait and times out at once), EMBER_EWRONGTYPE,
 *  EMBER_ECLOSED (the database closed while waiting), EMBER_EINVAL.
 *  Threads: any; the calling thread sleeps while it waits. */
EMBER_API int ember_bzpopmin(ember_db *db, size_t n, const void *const *keys, const size_t *klens,
                             int64_t timeout_ms, ember_reply **out);

/** ZSCAN key cursor [MATCH pattern] [COUNT count].
 *  @param pattern NULL for all members. @param count 0 for the default (10).
 *  @param[out] next_cursor 0 when the iteration is complete.
 *  @param[out] items an ARRAY of STRING: member, score text, member, ...
 *  (a small sorted set comes back whole with cursor 0).
 *  Guarantee (as Redis): every member present for the whole iteration is
 *  returned at least once. @return EMBER_OK, EMBER_EWRONGTYPE, EMBER_EINVAL. */
EMBER_API int ember_zscan(ember_db *db, const void *key, size_t klen, uint64_t cursor,
                          const void *pattern, size_t plen, uint32_t count, uint64_t *next_cursor,
                          ember_reply **items);

/* ------------------------------------------------------------------------ */
/* Persistence: snapshots                                                     */
/* ------------------------------------------------------------------------ */
/* A snapshot is every database at one instant, in Redis's RDB format
 * (version 10, as Redis 7.0 writes and loads it), by default wrapped in one
 * zstd frame with zstd's content checksum. Snapshots are forkless: the
 * executor serializes the keyspace a slice at a time between requests, so
 * other callers keep running while a snapshot is taken; a key that is about
 * to change before it was written is written first, and keys created after
 * the snapshot began are left out, so the file is exactly the state at the
 * instant the snapshot started. Compression and writing run on a writer
 * thread that ember starts and joins for each snapshot. One snapshot at a
 * time per database: another request meanwhile gets EMBER_EBUSY.
 *
 * Durability: a save call returns EMBER_OK only after every byte was
 * written and synced (fdatasync for a descriptor, your sync function for a
 * writer); the path variants also rename the file into place and sync the
 * directory, so after EMBER_OK the file survives a crash, and before it the
 * previous file under that name is untouched.
 *
 * Loading is all or nothing: the file is read and checked completely (CRC-64,
 * zstd checksum, every length bounded) into fresh databases on the executor
 * — other callers wait meanwhile — and only then replaces the contents of
 * every database; on any failure nothing changes and *error says what went
 * wrong and at which byte offset. Keys whose expire time has passed are not
 * loaded. Files written by Redis load too (every type and encoding of RDB
 * version 10 and older; streams and modules are refused).
 *
 * Threads: every function here may be called from any thread. Saves and
 * loads called from the executor itself (inside ember_run()) or in inline
 * mode run to completion on the calling thread. */

/** Flags of the snapshot functions. */
enum {
    EMBER_SNAPSHOT_PLAIN = 1, /**< plain RDB, no zstd frame (what redis-server loads) */
};
/** A zstd compression level (1..19) for a save's flags; the default is 1,
 *  the fastest. Ignored with EMBER_SNAPSHOT_PLAIN. */
#define EMBER_SNAPSHOT_LEVEL(n) ((uint32_t)(n) << 8)

/** Writes len bytes from buf to your sink. Return how many were taken
 *  (1..len; ember calls again with the rest) or a negative value on error
 *  (a negated errno such as -ENOSPC, or -1). Called on ember's writer thread,
 *  one call at a time. It may block: the executor keeps serving requests
 *  and buffers at most about 2 MB ahead of it, then waits for it. */
typedef int64_t (*ember_write_fn)(void *ctx, const void *buf, size_t len);
/** Makes everything written so far durable. Return 0 or a negative value. */
typedef int (*ember_sync_fn)(void *ctx);
/** Reads up to len bytes into buf. Return the number read (> 0), 0 at the
 *  end of the input, or a negative value on error. Called on the executor. */
typedef int64_t (*ember_read_fn)(void *ctx, void *buf, size_t len);

/** Writes a snapshot of every database to a file descriptor (from its
 *  current position; ember never closes it) and fdatasyncs it (descriptors
 *  that cannot be synced, such as pipes, are not an error). Blocks the
 *  caller until the snapshot is complete; other callers keep running.
 *  @param flags 0 (zstd, level 1), EMBER_SNAPSHOT_PLAIN, EMBER_SNAPSHOT_LEVEL(n).
 *  @return EMBER_OK, EMBER_EBUSY (another snapshot is in progress),
 *  EMBER_EIO (a write or sync failed: the file is incomplete), EMBER_ENOMEM,
 *  EMBER_EINVAL (fd < 0, unknown flags), EMBER_ECLOSED. */
EMBER_API int ember_snapshot_save(ember_db *db, int fd, uint32_t flags);

/** As ember_snapshot_save(), through your functions: write_fn receives the
 *  file's bytes in order, then sync_fn (may be NULL: nothing to sync) is
 *  called once. ctx is passed to both; ember keeps no reference after
 *  returning. A failure of either ends the snapshot with EMBER_EIO.
 *  @return as ember_snapshot_save(); EMBER_EINVAL if write_fn is NULL. */
EMBER_API int ember_snapshot_save_writer(ember_db *db, ember_write_fn write_fn,
                                         ember_sync_fn sync_fn, void *ctx, uint32_t flags);

/** Saves to dir/name safely: writes a temporary file in dir, syncs it,
 *  renames it to name and syncs dir. On failure the temporary file is
 *  removed and an existing dir/name is left as it was.
 *  @param dir a directory ("" or NULL: the working directory).
 *  @param name a file name without '/'.
 *  @return as ember_snapshot_save(); EMBER_EIO also when the temporary file
 *  cannot be created. */
EMBER_API int ember_snapshot_save_path(ember_db *db, const char *dir, const char *name,
                                       uint32_t flags);

/** Replaces the contents of every database with a snapshot read from fd
 *  (plain RDB or zstd-framed: detected; flags must be 0). All or nothing.
 *  The descriptor is read to the end of the snapshot and never closed.
 *  @param[out] error on failure, a message (what, and the byte offset; free
 *  with ember_free()); NULL on success. May be NULL if you do not want it.
 *  @return EMBER_OK, EMBER_ECORRUPT (not a valid snapshot: bad magic,
 *  version, checksum, truncated...), EMBER_EIO (reading failed), EMBER_EBUSY
 *  (a snapshot is being taken), EMBER_ENOMEM, EMBER_EINVAL, EMBER_ECLOSED. */
EMBER_API int ember_snapshot_load(ember_db *db, int fd, uint32_t flags, char **error);

/** As ember_snapshot_load(), from your read function (called on the
 *  executor thread, or the calling thread in inline mode, until it returns
 *  0 or the snapshot ends). @return as ember_snapshot_load(). */
EMBER_API int ember_snapshot_load_reader(ember_db *db, ember_read_fn read_fn, void *ctx,
                                         uint32_t flags, char **error);

/** As ember_snapshot_load(), from dir/name.
 *  @return as ember_snapshot_load(); EMBER_ENOTFOUND if the file does not
 *  exist (nothing changed). */
EMBER_API int ember_snapshot_load_path(ember_db *db, const char *dir, const char *name,
                                       uint32_t flags, char **error);

/* The commands SAVE, BGSAVE [SCHEDULE] and LASTSAVE, INFO's persistence
 * section (rdb_changes_since_last_save, rdb_bgsave_in_progress,
 * rdb_last_save_time, rdb_last_bgsave_status) and periodic saves work as in
 * Redis, with the settings "save" ("<seconds> <changes> ..."; ember's default
 * is "", no periodic saves), "dir" ("" = the working directory; at most 255
 * bytes), "dbfilename" (default "dump.rdb") and "rdbcompression" (yes: zstd
 * frame; no: plain RDB). They save through the path convenience above. SAVE
 * holds the executor until the file is on disk, as in Redis; BGSAVE returns
 * at once (in inline mode it progresses during your calls). Closing the
 * database abandons a BGSAVE in progress: its temporary file is removed. */

/* ------------------------------------------------------------------------ */
/* Persistence: append log                                                    */
/* ------------------------------------------------------------------------ */
/* The append log (AOF) records every write as a RESP array of bulk strings,
 * as Redis writes its append-only file, so redis-check-aof accepts ember's
 * logs and redis-server loads them. Writes are logged in deterministic form,
 * as Redis 7.0 propagates them: relative expiries become absolute (SET key
 * value PXAT ms, PEXPIREAT key ms), an expiry already in the past becomes
 * DEL, INCRBYFLOAT and HINCRBYFLOAT become SET ... KEEPTTL / HSET of the
 * result, SPOP becomes the SREMs (or the DEL) it made, blocking pops become
 * their non-blocking form, expired keys become DEL; SELECT is written when
 * the database changes; an atomic batch (EMBER_BATCH_ATOMIC), an ember_run()
 * closure and a command that logs several records are wrapped in MULTI ...
 * EXEC.
 *
 * Group commit: the executor runs a batch of requests (up to 64 callers),
 * then writes the batch's records with one write call and, under
 * EMBER_AOF_ALWAYS, one sync, and only then releases the callers. So with
 * EMBER_AOF_ALWAYS a reply means the write is on stable storage. Each write
 * call ends with a line "#EM:<crc64, 16 hex>:<length>" (Redis's loader and
 * redis-check-aof skip lines starting with '#'): the CRC-64 (Redis's RDB
 * polynomial) of the bytes since the previous such line, so ember's loader
 * detects a torn or damaged tail.
 *
 * Failure: if a write or sync fails (or the log's buffer cannot grow), the
 * callers of that batch get "MISCONF Errors writing to the AOF file:
 * <strerror>" (typed wrappers and ember_batch_exec(): EMBER_EIO; ember_run():
 * EMBER_EIO instead of the closure's return value) although the writes
 * happened in memory, and every later write command gets the same error
 * (Redis's text for writes refused after an AOF error) until the log is
 * detached. Reads keep working. A failed background sync (everysec) is
 * reported the same way at the next batch. ember then treats the log as
 * lost: which bytes reached the file is unknown. Recover by detaching,
 * saving a snapshot or loading, and attaching a new log.
 *
 * Sequence numbers: ember_aof_lsn() is the number of record bytes written to
 * the log since it was attached (it keeps counting across rewrites). A write
 * that has returned is below the value read after it, so "write;
 * ember_aof_lsn(); ember_aof_wait()" makes that write durable under any
 * policy.
 *
 * ember never closes a descriptor it was given; write at its current offset
 * (open it with O_APPEND to add to an existing log). Threads: every function
 * may be called from any thread; the log's write and sync functions are called
 * on the executor (the writes) and on ember's sync thread (the syncs, one
 * call at a time, never at the same time as a write). */

/** Sync policies (Redis's appendfsync; the setting "appendfsync" is the
 *  attached log's policy: CONFIG SET appendfsync changes it at run time). */
enum {
    EMBER_AOF_CONFIG = -1,  /**< the setting "appendfsync" (default everysec) */
    EMBER_AOF_ALWAYS = 0,   /**< sync before replying: no acknowledged write is lost */
    EMBER_AOF_EVERYSEC = 1, /**< a background sync at most once a second */
    EMBER_AOF_NO = 2,       /**< never sync (the OS writes back when it likes) */
};

/** Attaches an append log writing to fd with a sync policy (EMBER_AOF_*;
 *  EMBER_AOF_CONFIG: the "appendfsync" setting). From now on every write is
 *  logged (what was in the databases before is not: load or snapshot
 *  first).
 *  @return EMBER_OK, EMBER_EBUSY (a log is already attached), EMBER_EINVAL
 *  (fd < 0, unknown policy), EMBER_ENOMEM, EMBER_ECLOSED. */
EMBER_API int ember_aof_attach(ember_db *db, int fd, int policy);

/** As ember_aof_attach(), through your functions (see ember_write_fn;
 *  sync_fn may be NULL: syncs then succeed doing nothing). ctx is kept until
 *  the log is detached. */
EMBER_API int ember_aof_attach_writer(ember_db *db, ember_write_fn write_fn, ember_sync_fn sync_fn,
                                      void *ctx, int policy);

/** Writes what is pending, syncs (unless the log failed), and detaches the
 *  log. Closing the database does this too.
 *  @return EMBER_OK, EMBER_EIO (the log had failed, or the last sync failed:
 *  the log is detached anyway), EMBER_ENOTFOUND (no log attached). */
EMBER_API int ember_aof_detach(ember_db *db);

/** @param[out] lsn record bytes written to the log since it was attached.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no log attached). */
EMBER_API int ember_aof_lsn(ember_db *db, uint64_t *lsn);

/** Blocks until every byte of the log up to lsn is synced (asking for a
 *  sync at once, whatever the policy).
 *  @return EMBER_OK, EMBER_EIO (the log failed: those bytes may be lost),
 *  EMBER_ENOTFOUND (no log attached). */
EMBER_API int ember_aof_wait(ember_db *db, uint64_t lsn);

/** Rewrites the log into fd (from its current position; open it with
 *  O_TRUNC): an RDB preamble of every database at one instant (a forkless
 *  snapshot: other callers keep running meanwhile), then the RESP records
 *  of every write made since that instant; once fd is complete and synced
 *  it becomes the log, atomically between two batches. Until then the old
 *  log gets every write as before, so a crash at any point leaves a whole
 *  log: the old one until this returns EMBER_OK, the new one after. Replace
 *  the old file with the new one afterwards (rename), as you like. Redis
 *  7.0 and redis-check-aof read such a file (aof-use-rdb-preamble).
 *  @return EMBER_OK, EMBER_ENOTFOUND (no log attached), EMBER_EBUSY (a
 *  snapshot or another rewrite is in progress), EMBER_EIO (writing fd
 *  failed: the old log goes on), EMBER_ENOMEM, EMBER_EINVAL. Blocks the
 *  caller until done. ember_aof_detach() meanwhile returns EMBER_EBUSY. */
EMBER_API int ember_aof_rewrite(ember_db *db, int fd);

/** Replay flags. */
enum {
    EMBER_AOF_LOAD_STRICT = 1, /**< fail on anything but a complete, intact log */
};

/** Replaces the contents of every database with the state a log describes:
 *  an optional RDB preamble (as a rewrite or Redis's aof-use-rdb-preamble
 *  writes it) followed by RESP records, read from fd to its end.
 *  All or nothing: replay goes into empty databases on the executor (other
 *  callers wait meanwhile) and replaces the old contents only at the end.
 *  Policy: the log is applied in the groups its "#EM:" lines delimit, each
 *  only once its checksum and length check out; a MULTI only with its EXEC.
 *  By default loading stops at the first damaged, torn or unknown part and
 *  keeps everything before it (EMBER_OK, and *error says where and why it
 *  stopped); with EMBER_AOF_LOAD_STRICT that is EMBER_ECORRUPT and nothing
 *  changes. A log without "#EM:" lines (written by Redis) is applied record
 *  by record up to its first incomplete or malformed one. A command that
 *  replies with an error during replay is skipped, as Redis's loader does.
 *  No log may be attached meanwhile.
 *  @param[out] error NULL when the whole log was applied; else a message
 *  with the byte offset (free with ember_free()). May be NULL.
 *  @return EMBER_OK, EMBER_ECORRUPT (strict mode, or a bad RDB preamble),
 *  EMBER_EIO (reading failed; nothing changed), EMBER_EBUSY (a log is
 *  attached or a snapshot is in progress), EMBER_ENOMEM, EMBER_EINVAL. */
EMBER_API int ember_aof_load(ember_db *db, int fd, uint32_t flags, char **error);

/** As ember_aof_load(), from your read function (called on the calling
 *  thread until it returns 0). */
EMBER_API int ember_aof_load_reader(ember_db *db, ember_read_fn read_fn, void *ctx, uint32_t flags,
                                    char **error);

/* By path: ember opens, creates, replaces and closes the files itself, so
 * that at every step a crash leaves under the log's name either the
 * complete old log or the complete new one. A temporary file is named
 * <name>.tmp-<pid>-<n> in the same directory; a crash may leave one
 * behind, which nothing reads (remove it as you like). */

/** Opens the log dir/name: loads it if it exists (as ember_aof_load(),
 *  replacing the contents of every database; flags 0 or
 *  EMBER_AOF_LOAD_STRICT), then attaches it for appending (as
 *  ember_aof_attach() with O_APPEND). A missing file is created and the
 *  directory synced before anything is logged to it; with a missing or
 *  empty file the databases are left as they are, and what they hold is
 *  not in the log (as with ember_aof_attach()). If the file does not
 *  end with a whole, checksummed ember group — a damaged or torn tail that
 *  the default policy left unloaded, or a log written by Redis — it is
 *  first replaced (temporary file, sync, rename, directory sync) by a
 *  snapshot of what was loaded, so that what is appended loads again.
 *  Loading, the replacement and attaching run on the executor as one step:
 *  no write of another thread falls between them. ember owns the
 *  descriptor (closed by ember_aof_detach() or ember_db_close()).
 *  @param dir a directory ("" or NULL: the working directory).
 *  @param name a file name without '/'.
 *  @param policy as ember_aof_attach().
 *  @param[out] error on failure, or when the default policy left part of
 *  the log unloaded, a message (what, where; free with ember_free());
 *  otherwise NULL. May be NULL.
 *  @return EMBER_OK, EMBER_ENOTFOUND (dir does not exist), EMBER_ECORRUPT
 *  (strict mode, or a bad RDB preamble: nothing changed, no log attached),
 *  EMBER_EIO (the file cannot be opened, read or created; or replacing it
 *  failed: then the databases hold what was loaded, and no log is
 *  attached), EMBER_EBUSY (a log is attached or a snapshot is in
 *  progress), EMBER_ENOMEM, EMBER_EINVAL (bad name, policy or flags),
 *  EMBER_ECLOSED. Any thread. */
EMBER_API int ember_aof_open_path(ember_db *db, const char *dir, const char *name, int policy,
                                  uint32_t flags, char **error);

/** Rewrites a log opened with ember_aof_open_path() (as ember_aof_rewrite())
 *  into a temporary file in its directory, syncs it, renames it over the
 *  log's name, syncs the directory, and only then switches the log to it,
 *  between two batches (no write is acknowledged in between). Until then
 *  the old file gets every write. So a crash at any step leaves the old log
 *  or the new one under the name, complete, with every acknowledged write.
 *  On failure the temporary file is removed and the old log goes on —
 *  except when the directory sync fails after the rename: the log then
 *  continues in the new file but fails as after a write error (writes are
 *  refused until it is detached), since the rename may not survive a crash.
 *  @return EMBER_OK, EMBER_ENOTFOUND (no log attached), EMBER_EINVAL (the
 *  log was not opened by path), EMBER_EBUSY (a snapshot or rewrite is in
 *  progress), EMBER_EIO (creating, writing, syncing or renaming the file
 *  failed), EMBER_ENOMEM, EMBER_ECLOSED. Blocks the caller until done; any
 *  thread. */
EMBER_API int ember_aof_rewrite_path(ember_db *db);

/* ------------------------------------------------------------------------ */
/* Server: a RESP listener on an open database                                */
/* ------------------------------------------------------------------------ */

typedef struct ember_server ember_server; /**< a running RESP listener */

/** Serves an open database over TCP to any Redis client (redis-cli,
 *  redis-benchmark, client libraries), speaking RESP2 and, after HELLO 3,
 *  RESP3. One event-loop thread accepts connections, parses requests
 *  (multibulk and inline, pipelined) and hands the commands to the
 *  database's executor through the same queue as ember_command() — once per
 *  loop iteration, every connection's new commands in one request — so
 *  network clients and in-process callers see one order and the same
 *  atomicity; the executor encodes the replies (no reply tree). Replies go
 *  back in request order per connection. With the "io-threads" option
 *  (ember_server_config_set()) more threads share the socket reads and
 *  sends.
 *  Handled by the server itself, as Redis 7.0 replies: HELLO [2|3 [AUTH
 *  user pass] [SETNAME name]], AUTH [user] password, QUIT, RESET, SELECT
 *  (per connection), SHUTDOWN (through the application's hook, see
 *  ember_server_config_set_shutdown_hook()), and CLIENT ID, GETNAME,
 *  SETNAME, INFO, LIST [TYPE t | ID id...], KILL (ip:port, or the filters
 *  ID TYPE USER ADDR LADDR SKIPME and Redis 7.4's MAXAGE), NO-EVICT, HELP,
 *  and Redis 7.2's SETINFO LIB-NAME|LIB-VER and NO-TOUCH (NO-EVICT and
 *  NO-TOUCH are accepted and shown in the flags; they change nothing).
 *  CLIENT INFO/LIST lines carry Redis 7.0's fields in its order plus 7.2's
 *  lib-name and lib-ver; what ember does not track reads as for an idle
 *  Redis connection (sub=0, multi=-1, omem=0...).
 *  Authentication: the database settings "requirepass" (the default user's
 *  password; "" = none, the default) and "maxclients" (default 10000) are
 *  read by every server on the database whenever needed, so CONFIG SET
 *  changes them at run time (see ember_server_config_set()). While a
 *  password is set, a connection that has not authenticated (AUTH or HELLO
 *  AUTH; the user name must be "default") gets "NOAUTH Authentication
 *  required." for everything but AUTH, HELLO, QUIT and RESET; as in Redis
 *  a connection accepted while no password was set stays authenticated.
 *  Beyond maxclients connections, a new one gets "-ERR max number of
 *  clients reached" and is closed.
 *  Transactions with Redis 7.0's replies: MULTI, EXEC, DISCARD, WATCH key [key ...], UNWATCH.
 *  A command that cannot be queued (unknown, wrong arity, not allowed in a
 *  transaction) is answered at once and makes EXEC answer EXECABORT;
 *  errors while running stay inside EXEC's array; EXEC runs the queued
 *  commands atomically on the executor (no other client's command, no
 *  in-process call and no served blocked caller comes in between; the
 *  append log gets them as MULTI ... EXEC). EXEC answers
 *  a null array (RESP3: null) if a watched key was changed by anyone after
 *  WATCH (a write that changes it, a deletion, expiry, FLUSHDB/FLUSHALL of
 *  a database holding it, SWAPDB of its database) or, live at WATCH, is
 *  expired at EXEC. EXEC, DISCARD and disconnecting unwatch everything.
 *  Inside MULTI, SELECT and HELLO are queued and take effect where they
 *  stand (the connection's database and protocol after EXEC follow them);
 *  blocking commands answer at once as if they timed out.
 *  MONITOR and replication are refused with an error (inside MULTI they
 *  are queued and the error is EXEC's element).
 *  Limits as Redis: a bulk longer than proto-max-bulk-len (read when
 *  the server starts) or a multibulk count over 2147483647 is answered with
 *  Redis's protocol error and the connection closed; a connection whose
 *  unparsed input exceeds 1 GB is closed.
 *  This is ember_server_start_config() with only an address; SHUTDOWN then
 *  answers "ERR SHUTDOWN is not available: the application that runs this
 *  server gave it no shutdown hook".
 *  @param db    the database (root handle or view; connections start in
 *               database 0). It must stay open until ember_server_stop().
 *  @param bind  numeric address to listen on ("127.0.0.1", "::1",
 *               "0.0.0.0"); NULL means 127.0.0.1.
 *  @param port  TCP port; 0 picks a free one (see ember_server_port()).
 *  @param flags reserved, must be 0.
 *  @param[out] out the server; stop it with ember_server_stop().
 *  @return EMBER_OK, EMBER_EINVAL (bad argument or address, flags != 0,
 *          an inline-mode database), EMBER_EIO (socket, bind or listen
 *          failed — errno tells why — or no thread), EMBER_ENOMEM,
 *          EMBER_ECLOSED, EMBER_EMISUSE (called on the executor: from an
 *          ember_run() closure or an async callback). Any other thread. */
EMBER_API int ember_server_start(ember_db *db, const char *bind, int port, uint32_t flags,
                                 ember_server **out);

typedef struct ember_server_config ember_server_config; /**< settings of a server */

/** Options of SHUTDOWN, as a shutdown hook receives them. */
enum {
    EMBER_SHUTDOWN_NOSAVE = 1, /**< SHUTDOWN NOSAVE: do not save a snapshot */
    EMBER_SHUTDOWN_SAVE = 2,   /**< SHUTDOWN SAVE: save even without save rules */
    EMBER_SHUTDOWN_NOW = 4,    /**< NOW (Redis: do not wait for replicas) */
    EMBER_SHUTDOWN_FORCE = 8,  /**< FORCE (Redis: go on even if saving fails) */
};

/** Called when a client sends a valid SHUTDOWN: the library cannot end
 *  your process, you decide. Runs on the server's I/O thread: do not call
 *  ember_server_stop() from it (that joins this thread) and do not block
 *  for long; signal your main thread instead (ember-server raises SIGTERM
 *  on itself, then saves as flags ask and stops). Return 0 to accept: the
 *  client gets no reply and its connection reads nothing more until you
 *  stop the server (as with Redis, it sees the connection close). Return
 *  anything else to refuse: the client gets "ERR Errors trying to
 *  SHUTDOWN. Check logs.". SHUTDOWN ABORT never reaches the hook (it
 *  answers "ERR No shutdown in progress."), nor does a syntax error.
 *  @param flags EMBER_SHUTDOWN_* bits. */
typedef int (*ember_shutdown_fn)(void *ctx, uint32_t flags);

/** Creates a server configuration with the defaults: bind 127.0.0.1, port
 *  6379, io-threads 1, no shutdown hook, requirepass and maxclients as
 *  the database has them.
 *  @param[out] out free it with ember_server_config_free().
 *  @return EMBER_OK, EMBER_EINVAL (out NULL), EMBER_ENOMEM. Any thread. */
EMBER_API int ember_server_config_new(ember_server_config **out);

/** Frees a server configuration. NULL-safe. A server does not keep it. */
EMBER_API void ember_server_config_free(ember_server_config *cfg);

/** Sets an option by name (NUL-terminated strings, copied):
 *  - "bind": a numeric address (at most 63 bytes), as ember_server_start().
 *  - "port": 0..65535 (0: any free port).
 *  - "requirepass": the password clients must give ("" = none). It is a
 *    setting of the database, not of this server: ember_server_start_config()
 *    applies it as CONFIG SET requirepass would, for every server on the
 *    database (leave it unset to keep the database's own).
 *  - "maxclients": 1..4294967295, likewise a database setting.
 *  - "io-threads": 1..128 threads doing the socket reads and writes, the
 *    event-loop thread included (as Redis 6's io-threads); default 1.
 *  @return EMBER_OK, EMBER_EINVAL (unknown name, bad value, NULL argument),
 *          EMBER_ENOMEM. */
EMBER_API int ember_server_config_set(ember_server_config *cfg, const char *name,
                                      const char *value);

/** Installs the SHUTDOWN hook (NULL fn: none, SHUTDOWN is refused). ctx is
 *  passed to fn and kept by the server until ember_server_stop().
 *  @return EMBER_OK, EMBER_EINVAL (cfg NULL). */
EMBER_API int ember_server_config_set_shutdown_hook(ember_server_config *cfg, ember_shutdown_fn fn,
                                                    void *ctx);

/** Starts a server as ember_server_start() does, with the options of cfg
 *  (NULL: the defaults, port 6379). requirepass and maxclients, if cfg
 *  sets them, are applied to the database first (CONFIG SET).
 *  @return as ember_server_start(). Any thread but the executor's. */
EMBER_API int ember_server_start_config(ember_db *db, const ember_server_config *cfg,
                                        ember_server **out);

/** The TCP port the server listens on (the one picked for port 0), or -1
 *  for NULL. Any thread. */
EMBER_API int ember_server_port(const ember_server *srv);

/** Stops listening, closes every connection (replies not yet written are
 *  dropped) and joins the I/O thread. A blocking command a client is still
 *  waiting on is released from its keys (as when a blocked client hangs
 *  up), so it takes no element; what is still in the executor finishes in
 *  the background and its memory is released then. Call it before
 *  ember_db_close() on the server's database. NULL-safe. Any thread but
 *  the executor's (not from an ember_run() closure or an async callback). */
EMBER_API void ember_server_stop(ember_server *srv);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_H */
