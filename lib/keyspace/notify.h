/*
 * notify.h — the one point every logical change of the keyspace is reported
 * through: keyspace notifications (pub/sub, lib/command/pubsub.c) and the
 * typed change feed (ember_feed_add) both hang off it.
 *
 * Handlers call ember__notify_keyspace_event() where Redis 7.0 calls
 * notifyKeyspaceEvent(): after the change, with the event that names it. The
 * keyspace itself reports what happens below the handlers (a key added:
 * "new"; expired; evicted; a read miss: "keymiss"; FLUSHDB and SWAPDB for the
 * change feed). When nobody listens, st->notify is NULL and an event costs
 * one predictable branch: no formatting, no call.
 *
 * The event list is an X-macro: (NAME, Redis's event name, class flag). The
 * order is the public EMBER_EV_* numbering (ember.h), which is append-only.
 */
#ifndef EMBER_NOTIFY_H
#define EMBER_NOTIFY_H

#include "keyspace.h"

/* Event classes: the letters of notify-keyspace-events. */
enum {
    EM_NC_KEYSPACE = 1 << 0,  /* K */
    EM_NC_KEYEVENT = 1 << 1,  /* E */
    EM_NC_GENERIC = 1 << 2,   /* g */
    EM_NC_STRING = 1 << 3,    /* $ */
    EM_NC_LIST = 1 << 4,      /* l */
    EM_NC_SET = 1 << 5,       /* s */
    EM_NC_HASH = 1 << 6,      /* h */
    EM_NC_ZSET = 1 << 7,      /* z */
    EM_NC_EXPIRED = 1 << 8,   /* x */
    EM_NC_EVICTED = 1 << 9,   /* e */
    EM_NC_STREAM = 1 << 10,   /* t */
    EM_NC_KEYMISS = 1 << 11,  /* m (not part of A) */
    EM_NC_MODULE = 1 << 12,   /* d */
    EM_NC_NEW = 1 << 13,      /* n (not part of A) */
    EM_NC_FEEDONLY = 1 << 14, /* never published: change feed only */
};
#define EM_NC_ALL                                                                                  \
    (EM_NC_GENERIC | EM_NC_STRING | EM_NC_LIST | EM_NC_SET | EM_NC_HASH | EM_NC_ZSET |             \
     EM_NC_EXPIRED | EM_NC_EVICTED | EM_NC_STREAM | EM_NC_MODULE)

#define EM_EVENTS(X)                                                                               \
    X(DEL, "del", EM_NC_GENERIC)                                                                   \
    X(EXPIRE, "expire", EM_NC_GENERIC)                                                             \
    X(PERSIST, "persist", EM_NC_GENERIC)                                                           \
    X(EXPIRED, "expired", EM_NC_EXPIRED)                                                           \
    X(EVICTED, "evicted", EM_NC_EVICTED)                                                           \
    X(NEW, "new", EM_NC_NEW)                                                                       \
    X(KEYMISS, "keymiss", EM_NC_KEYMISS)                                                           \
    X(RENAME_FROM, "rename_from", EM_NC_GENERIC)                                                   \
    X(RENAME_TO, "rename_to", EM_NC_GENERIC)                                                       \
    X(COPY_TO, "copy_to", EM_NC_GENERIC)                                                           \
    X(MOVE_FROM, "move_from", EM_NC_GENERIC)                                                       \
    X(MOVE_TO, "move_to", EM_NC_GENERIC)                                                           \
    X(RESTORE, "restore", EM_NC_GENERIC)                                                           \
    X(SET, "set", EM_NC_STRING)                                                                    \
    X(SETRANGE, "setrange", EM_NC_STRING)                                                          \
    X(INCRBY, "incrby", EM_NC_STRING)                                                              \
    X(INCRBYFLOAT, "incrbyfloat", EM_NC_STRING)                                                    \
    X(APPEND, "append", EM_NC_STRING)                                                              \
    X(LPUSH, "lpush", EM_NC_LIST)                                                                  \
    X(RPUSH, "rpush", EM_NC_LIST)                                                                  \
    X(LPOP, "lpop", EM_NC_LIST)                                                                    \
    X(RPOP, "rpop", EM_NC_LIST)                                                                    \
    X(LINSERT, "linsert", EM_NC_LIST)                                                              \
    X(LSET, "lset", EM_NC_LIST)                                                                    \
    X(LREM, "lrem", EM_NC_LIST)                                                                    \
    X(LTRIM, "ltrim", EM_NC_LIST)                                                                  \
    X(SORTSTORE, "sortstore", EM_NC_LIST)                                                          \
    X(HSET, "hset", EM_NC_HASH)                                                                    \
    X(HDEL, "hdel", EM_NC_HASH)                                                                    \
    X(HINCRBY, "hincrby", EM_NC_HASH)                                                              \
    X(HINCRBYFLOAT, "hincrbyfloat", EM_NC_HASH)                                                    \
    X(SADD, "sadd", EM_NC_SET)                                                                     \
    X(SREM, "srem", EM_NC_SET)                                                                     \
    X(SPOP, "spop", EM_NC_SET)                                                                     \
    X(SINTERSTORE, "sinterstore", EM_NC_SET)                                                       \
    X(SUNIONSTORE, "sunionstore", EM_NC_SET)                                                       \
    X(SDIFFSTORE, "sdiffstore", EM_NC_SET)                                                         \
    X(ZADD, "zadd", EM_NC_ZSET)                                                                    \
    X(ZINCR, "zincr", EM_NC_ZSET)                                                                  \
    X(ZREM, "zrem", EM_NC_ZSET)                                                                    \
    X(ZREMRANGEBYSCORE, "zremrangebyscore", EM_NC_ZSET)                                            \
    X(ZREMRANGEBYRANK, "zremrangebyrank", EM_NC_ZSET)                                              \
    X(ZREMRANGEBYLEX, "zremrangebylex", EM_NC_ZSET)                                                \
    X(ZPOPMIN, "zpopmin", EM_NC_ZSET)                                                              \
    X(ZPOPMAX, "zpopmax", EM_NC_ZSET)                                                              \
    X(ZUNIONSTORE, "zunionstore", EM_NC_ZSET)                                                      \
    X(ZINTERSTORE, "zinterstore", EM_NC_ZSET)                                                      \
    X(ZDIFFSTORE, "zdiffstore", EM_NC_ZSET)                                                        \
    X(ZRANGESTORE, "zrangestore", EM_NC_ZSET)                                                      \
    X(FLUSHDB, "flushdb", EM_NC_FEEDONLY)                                                          \
    X(SWAPDB, "swapdb", EM_NC_FEEDONLY)

#define EM_EV_ENUM(n, s, cls) EM_EV_##n,
enum { EM_EVENTS(EM_EV_ENUM) EM_EV__COUNT };
#undef EM_EV_ENUM

/* Reports one event to st->notify (lib/command/pubsub.c). o: the key's
 * object after the change, or the object going away (del, expired, evicted),
 * or NULL (keymiss; FLUSHDB/SWAPDB, which carry no key: for SWAPDB klen is
 * the index of the other database). Zero cost (one branch) when nobody
 * listens. */
static inline void ember__notify_keyspace_event(em_store *st, em_keyspace *ks, int ev,
                                                const void *key, size_t klen, const em_obj *o)
{
    if (__builtin_expect(st->notify != NULL, 0))
        st->notify(st, ks, ev, key, klen, o);
}

/* As above, for an object whose own key is the key of the event. */
static inline void ember__notify_obj(em_store *st, em_keyspace *ks, int ev, const em_obj *o)
{
    if (__builtin_expect(st->notify != NULL, 0)) {
        size_t kl;
        const char *k = ember__obj_key(o, &kl);
        st->notify(st, ks, ev, k, kl, o);
    }
}

#endif
