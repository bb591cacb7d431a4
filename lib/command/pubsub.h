/*
 * pubsub.h — the pub/sub registry of a store, keyspace notifications and the
 * change feed (pubsub.c), and the subscriber interface that in-process
 * subscriptions (lib/api) and RESP connections (lib/server) implement.
 *
 * Everything here runs on the executor thread (it owns the registry, as it
 * owns the keyspace). Pub/sub is not per database: one registry per store,
 * as one per Redis server.
 *
 * A subscriber is a struct the owner embeds; the registry keeps pointers to
 * it from every channel and pattern it subscribed to, and it keeps the list
 * of what it subscribed to (for UNSUBSCRIBE with no arguments and for the
 * counts Redis replies with). A subscriber must be unsubscribed from
 * everything (ember__ps_unsubscribe_all) before its memory goes.
 */
#ifndef EMBER_PUBSUB_H
#define EMBER_PUBSUB_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/ember.h"

struct em_server;

/* Subscription kinds (also the message kinds: a pattern delivers a pmessage). */
enum { EM_PS_CHANNEL = 0, EM_PS_PATTERN = 1, EM_PS_SHARD = 2, EM_PS__KINDS = 3 };

typedef struct em_ps_sub em_ps_sub;

/* Delivers one message. pat is NULL unless kind is EM_PS_PATTERN. Returns 0,
 * or -1 when the subscriber cannot take it (its buffer limit): the registry
 * then drops it — unsubscribes it from everything once the publish is over —
 * and calls its dropped hook. */
typedef int (*em_ps_deliver_fn)(em_ps_sub *s, int kind, const char *pat, size_t plen,
                                const char *ch, size_t clen, const char *msg, size_t mlen);

struct em_ps_ent;

struct em_ps_sub {
    em_ps_deliver_fn deliver;
    void (*dropped)(em_ps_sub *s); /* may be NULL */
    /* What it is subscribed to, per kind (the registry allocates each list
     * and frees it when it empties or the store goes). */
    struct em_ps_ent **subs[EM_PS__KINDS];
    size_t nsubs[EM_PS__KINDS], capsubs[EM_PS__KINDS];
    int dead; /* dropped during a publish: skipped, unsubscribed after it */
    em_ps_sub *dead_next;
};

/* Subscribes s to `name` of `kind`. Returns 1 if newly subscribed, 0 if it
 * already was, -1 on OOM (nothing changed). */
int ember__ps_subscribe(struct em_server *srv, em_ps_sub *s, int kind, const char *name,
                        size_t len);
/* Unsubscribes; returns 1 if it was subscribed, else 0. */
int ember__ps_unsubscribe(struct em_server *srv, em_ps_sub *s, int kind, const char *name,
                          size_t len);
/* Unsubscribes from every name of `kind` (-1: of every kind). If each is not
 * NULL it is called with every name first (the order Redis replies in is
 * that of the subscriber's list). */
void ember__ps_unsubscribe_all(struct em_server *srv, em_ps_sub *s, int kind,
                               void (*each)(void *ud, const char *name, size_t len), void *ud);
/* Total subscriptions of s (channels + patterns: Redis's reply count); shard
 * subscriptions are counted apart. */
static inline size_t ember__ps_count(const em_ps_sub *s, int kind)
{
    return kind == EM_PS_SHARD ? s->nsubs[EM_PS_SHARD]
                               : s->nsubs[EM_PS_CHANNEL] + s->nsubs[EM_PS_PATTERN];
}
/* Every subscription of s, of all kinds (RESP2's subscribe mode is on
 * while this is not 0). */
static inline size_t ember__ps_total(const em_ps_sub *s)
{
    return s->nsubs[EM_PS_CHANNEL] + s->nsubs[EM_PS_PATTERN] + s->nsubs[EM_PS_SHARD];
}

/*
 * A RESP connection as a subscriber (lib/server/s_pubsub.c). While one of
 * its commands runs, em_server.cur_client points at it and `proto` is the
 * protocol of that command. SUBSCRIBE and friends reply through confirm(),
 * one push per name ([kind, name, count]; name NULL: Redis's nil, for an
 * UNSUBSCRIBE with nothing to unsubscribe), in order with the connection's
 * other replies and messages; they write nothing to the reply sink.
 */
typedef struct em_ps_client {
    em_ps_sub sub;
    int proto;
    void (*confirm)(struct em_ps_client *cl, const char *kind, const char *name, size_t len,
                    int64_t count);
} em_ps_client;

/* Publishes to channel subscribers and matching patterns (shard: 1 for
 * SPUBLISH, shard channels only). Returns the number of receivers, as
 * PUBLISH replies. */
int64_t ember__ps_publish(struct em_server *srv, int shard, const char *ch, size_t clen,
                          const char *msg, size_t mlen);
/* Frees the registry (store teardown). Subscribers still registered are
 * left alone (their owners free them). */
void ember__ps_free(struct em_server *srv);

/* ------------------------------------------------------------ notifications */

/* Installs or removes the keyspace listener (st->notify) after the flags or
 * the change feeds changed: NULL when nothing listens. */
void ember__notify_refresh(struct em_server *srv);

/* Adds / removes a change-feed listener (ember_feed_add; executor). Returns
 * 0, or -1 on OOM (add) / when not registered (remove). */
int ember__feed_add(struct em_server *srv, ember_change_fn fn, void *ud);
int ember__feed_remove(struct em_server *srv, ember_change_fn fn, void *ud);
/* 1 if (fn, ud) is registered. */
int ember__feed_has(const struct em_server *srv, ember_change_fn fn, void *ud);

#endif
