/*
 * pubsub.c — the pub/sub registry, PUBLISH/SPUBLISH/PUBSUB, keyspace
 * notifications and the change feed (pubsub.h, lib/keyspace/notify.h).
 *
 * The registry is three maps from a name to the subscribers of that name (an
 * entry per name with at least one subscriber): channels, patterns and shard
 * channels. Patterns are also kept in a dense array, since every publish
 * tries each of them. Subscribers are listed in an entry in subscription
 * order, which is the order they receive a message in, as in Redis.
 *
 * Re-entrancy: a publish may drop a subscriber (its buffer is full). It is
 * only marked dead during the delivery loops and unsubscribed afterwards, so
 * no array the loops walk changes under them.
 */
#include "pubsub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/common.h"
#include "../common/hash.h"
#include "../common/util.h"
#include "../keyspace/notify.h"
#include "command.h"

typedef struct em_ps_ent {
    struct em_ps_ent *next; /* hash chain */
    uint64_t hash;
    em_ps_sub **subs;
    size_t nsubs, cap;
    size_t pat_idx; /* patterns: index in the dense array */
    size_t len;
    char name[];
} em_ps_ent;

typedef struct ps_map {
    em_ps_ent **b;
    size_t nb, n;
} ps_map;

typedef struct em_feed {
    ember_change_fn fn;
    void *ud;
} em_feed;

struct em_pubsub {
    ps_map map[EM_PS__KINDS];
    em_ps_ent **pats;
    size_t npats, cappats;
    uint64_t seed;
    em_ps_sub *dead; /* dropped during the current publish */
    int publishing;
    em_feed *feeds;
    size_t nfeeds, capfeeds;
};

/* Grows an array of pointer-sized items to hold one more. */
static int grow(void *arrp, size_t *cap, size_t n, size_t item)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    void *p = realloc(*(void **)arrp, nc * item);
    if (!p)
        return -1;
    *(void **)arrp = p;
    *cap = nc;
    return 0;
}

static struct em_pubsub *ps_get(em_server *srv)
{
    if (!srv->ps) {
        srv->ps = calloc(1, sizeof *srv->ps);
        if (srv->ps)
            srv->ps->seed = srv->st.seed ^ 0x70756273ull;
    }
    return srv->ps;
}

static em_ps_ent *map_find(const struct em_pubsub *ps, const ps_map *m, const char *name,
                           size_t len, uint64_t *hash)
{
    uint64_t h = ember__hash(name, len, ps->seed);
    if (hash)
        *hash = h;
    if (!m->nb)
        return NULL;
    for (em_ps_ent *e = m->b[h & (m->nb - 1)]; e; e = e->next)
        if (e->hash == h && e->len == len && memcmp(e->name, name, len) == 0)
            return e;
    return NULL;
}

static int map_add(ps_map *m, em_ps_ent *e)
{
    if (m->n >= m->nb) {
        size_t nb = m->nb ? m->nb * 2 : 16;
        em_ps_ent **b = calloc(nb, sizeof *b);
        if (!b)
            return -1;
        for (size_t i = 0; i < m->nb; i++)
            for (em_ps_ent *x = m->b[i], *nx; x; x = nx) {
                nx = x->next;
                x->next = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        free(m->b);
        m->b = b;
        m->nb = nb;
    }
    em_ps_ent **slot = &m->b[e->hash & (m->nb - 1)];
    e->next = *slot;
    *slot = e;
    m->n++;
    return 0;
}

static void map_remove(ps_map *m, em_ps_ent *e)
{
    em_ps_ent **p = &m->b[e->hash & (m->nb - 1)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    m->n--;
}

/* Removes item i of an array of pointers, keeping the order. */
static void ptr_remove(void **a, size_t *n, size_t i)
{
    memmove(a + i, a + i + 1, (*n - i - 1) * sizeof *a);
    (*n)--;
}

int ember__ps_subscribe(em_server *srv, em_ps_sub *s, int kind, const char *name, size_t len)
{
    struct em_pubsub *ps = ps_get(srv);
    if (!ps)
        return -1;
    uint64_t h;
    em_ps_ent *e = map_find(ps, &ps->map[kind], name, len, &h);
    if (e) {
        for (size_t i = 0; i < e->nsubs; i++)
            if (e->subs[i] == s)
                return 0;
    }
    if (grow(&s->subs[kind], &s->capsubs[kind], s->nsubs[kind], sizeof(em_ps_ent *)) != 0)
        return -1;
    int fresh = !e;
    if (fresh) {
        if (kind == EM_PS_PATTERN &&
            grow(&ps->pats, &ps->cappats, ps->npats, sizeof(em_ps_ent *)) != 0)
            return -1;
        e = calloc(1, sizeof *e + len);
        if (!e)
            return -1;
        memcpy(e->name, name, len);
        e->len = len;
        e->hash = h;
    }
    if (grow(&e->subs, &e->cap, e->nsubs, sizeof(em_ps_sub *)) != 0 ||
        (fresh && map_add(&ps->map[kind], e) != 0)) {
        if (fresh) {
            free(e->subs);
            free(e);
        }
        return -1;
    }
    if (fresh && kind == EM_PS_PATTERN) {
        e->pat_idx = ps->npats;
        ps->pats[ps->npats++] = e;
    }
    e->subs[e->nsubs++] = s;
    s->subs[kind][s->nsubs[kind]++] = e;
    return 1;
}

/* Takes s out of entry e (found at index si of s's own list). */
static void ps_detach(struct em_pubsub *ps, em_ps_sub *s, int kind, em_ps_ent *e, size_t si)
{
    for (size_t i = 0; i < e->nsubs; i++)
        if (e->subs[i] == s) {
            ptr_remove((void **)e->subs, &e->nsubs, i);
            break;
        }
    ptr_remove((void **)s->subs[kind], &s->nsubs[kind], si);
    if (!s->nsubs[kind]) { /* a subscriber holds memory only while subscribed */
        free(s->subs[kind]);
        s->subs[kind] = NULL;
        s->capsubs[kind] = 0;
    }
    if (e->nsubs)
        return;
    map_remove(&ps->map[kind], e);
    if (kind == EM_PS_PATTERN) {
        em_ps_ent *last = ps->pats[--ps->npats];
        ps->pats[e->pat_idx] = last;
        last->pat_idx = e->pat_idx;
    }
    free(e->subs);
    free(e);
}

int ember__ps_unsubscribe(em_server *srv, em_ps_sub *s, int kind, const char *name, size_t len)
{
    struct em_pubsub *ps = srv->ps;
    if (!ps)
        return 0;
    for (size_t i = 0; i < s->nsubs[kind]; i++) {
        em_ps_ent *e = s->subs[kind][i];
        if (e->len == len && memcmp(e->name, name, len) == 0) {
            ps_detach(ps, s, kind, e, i);
            return 1;
        }
    }
    return 0;
}

void ember__ps_unsubscribe_all(em_server *srv, em_ps_sub *s, int kind,
                               void (*each)(void *ud, const char *name, size_t len), void *ud)
{
    for (int k = 0; k < EM_PS__KINDS; k++) {
        if (kind >= 0 && k != kind)
            continue;
        while (s->nsubs[k]) {
            em_ps_ent *e = s->subs[k][0];
            if (each)
                each(ud, e->name, e->len);
            ps_detach(srv->ps, s, k, e, 0); /* frees s's list with the last */
        }
    }
}

/* Delivers to every live subscriber of e; returns how many there were. */
static int64_t deliver_all(struct em_pubsub *ps, em_ps_ent *e, int kind, const char *ch,
                           size_t clen, const char *msg, size_t mlen)
{
    const char *pat = kind == EM_PS_PATTERN ? e->name : NULL;
    size_t plen = kind == EM_PS_PATTERN ? e->len : 0;
    int64_t n = 0;
    for (size_t i = 0; i < e->nsubs; i++) {
        em_ps_sub *s = e->subs[i];
        if (s->dead)
            continue;
        n++;
        if (s->deliver(s, kind, pat, plen, ch, clen, msg, mlen) != 0) {
            s->dead = 1;
            s->dead_next = ps->dead;
            ps->dead = s;
        }
    }
    return n;
}

int64_t ember__ps_publish(em_server *srv, int shard, const char *ch, size_t clen, const char *msg,
                          size_t mlen)
{
    struct em_pubsub *ps = srv->ps;
    if (!ps)
        return 0;
    int64_t n = 0;
    int kind = shard ? EM_PS_SHARD : EM_PS_CHANNEL;
    ps->publishing++;
    em_ps_ent *e = map_find(ps, &ps->map[kind], ch, clen, NULL);
    if (e)
        n += deliver_all(ps, e, kind, ch, clen, msg, mlen);
    if (!shard)
        for (size_t i = 0; i < ps->npats; i++) {
            em_ps_ent *p = ps->pats[i];
            if (ember__glob_match(p->name, p->len, ch, clen, 0))
                n += deliver_all(ps, p, EM_PS_PATTERN, ch, clen, msg, mlen);
        }
    /* A keyspace notification may publish inside a publish's delivery (a
     * callback is not allowed to, but stay safe): only the outermost one
     * unsubscribes the dropped, when no loop is walking the entries. */
    if (--ps->publishing == 0)
        while (ps->dead) {
            em_ps_sub *s = ps->dead;
            ps->dead = s->dead_next;
            ember__ps_unsubscribe_all(srv, s, -1, NULL, NULL);
            if (s->dropped)
                s->dropped(s);
        }
    return n;
}

void ember__ps_free(em_server *srv)
{
    struct em_pubsub *ps = srv->ps;
    if (!ps)
        return;
    for (int k = 0; k < EM_PS__KINDS; k++) {
        for (size_t i = 0; i < ps->map[k].nb; i++)
            for (em_ps_ent *e = ps->map[k].b[i], *nx; e; e = nx) {
                nx = e->next;
                /* The subscribers outlive the store: forget this entry. */
                for (size_t j = 0; j < e->nsubs; j++) {
                    em_ps_sub *s = e->subs[j];
                    free(s->subs[k]);
                    s->subs[k] = NULL;
                    s->nsubs[k] = s->capsubs[k] = 0;
                }
                free(e->subs);
                free(e);
            }
        free(ps->map[k].b);
    }
    free(ps->pats);
    free(ps->feeds);
    free(ps);
    srv->ps = NULL;
}

/* ------------------------------------------------------------ notifications */

#define EM_EV_NAME(n, s, cls) s,
static const char *const ev_names[] = {EM_EVENTS(EM_EV_NAME)};
#undef EM_EV_NAME
#define EM_EV_CLASS(n, s, cls) cls,
static const int ev_class[] = {EM_EVENTS(EM_EV_CLASS)};
#undef EM_EV_CLASS
#define EM_EV_CHECK(n, s, cls) _Static_assert((int)EM_EV_##n == (int)EMBER_EV_##n, "EMBER_EV_" #n);
EM_EVENTS(EM_EV_CHECK)
#undef EM_EV_CHECK

static em_server *srv_of(em_store *st)
{
    return (em_server *)(void *)((char *)st - offsetof(em_server, st));
}

/* Publishes "__key<space|event>@<db>__:<suffix>" with msg. */
static void publish_key_channel(em_server *srv, const char *what, int db, const char *suffix,
                                size_t slen, const char *msg, size_t mlen)
{
    char small[256];
    char head[48];
    int hl = snprintf(head, sizeof head, "__key%s@%d__:", what, db);
    size_t len = (size_t)hl + slen;
    char *buf = len <= sizeof small ? small : malloc(len);
    if (!buf)
        return;
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, suffix, slen);
    ember__ps_publish(srv, 0, buf, len, msg, mlen);
    if (buf != small)
        free(buf);
}

static void on_event(em_store *st, em_keyspace *ks, int ev, const void *key, size_t klen,
                     const em_obj *o)
{
    em_server *srv = srv_of(st);
    struct em_pubsub *ps = srv->ps;
    int64_t flags = srv->cfg.notify_keyspace_events;
    if (ps && ps->nfeeds && ev != EM_EV_KEYMISS) {
        ember_change ch;
        ch.db = ks->id;
        ch.event = ev;
        ch.type = o ? ember__obj_type(o) + 1 : EMBER_VALUE_NONE;
        ch.db2 = ev == EM_EV_SWAPDB ? (int32_t)klen : -1;
        ch.key = ev == EM_EV_SWAPDB ? NULL : key;
        ch.keylen = ev == EM_EV_SWAPDB ? 0 : klen;
        int gone = ev == EM_EV_DEL || ev == EM_EV_EXPIRED || ev == EM_EV_EVICTED ||
                   ev == EM_EV_RENAME_FROM || ev == EM_EV_MOVE_FROM;
        ch.expire_ms = o && !gone && ember__obj_has_expire(o) ? ember__obj_expire(o) : -1;
        /* A listener may remove itself only through ember_feed_remove, which
         * cannot run from here (documented), so the array is stable. */
        for (size_t i = 0; i < ps->nfeeds; i++)
            ps->feeds[i].fn(ps->feeds[i].ud, &ch);
    }
    if (!ps || !(flags & ev_class[ev]) || !(ps->map[EM_PS_CHANNEL].n + ps->npats))
        return;
    const char *name = ev_names[ev];
    size_t nlen = strlen(name);
    if (flags & EM_NC_KEYSPACE)
        publish_key_channel(srv, "space", ks->id, key, klen, name, nlen);
    if (flags & EM_NC_KEYEVENT)
        publish_key_channel(srv, "event", ks->id, name, nlen, key, klen);
}

void ember__notify_refresh(em_server *srv)
{
    int64_t f = srv->cfg.notify_keyspace_events;
    int published = (f & (EM_NC_KEYSPACE | EM_NC_KEYEVENT)) &&
                    (f & ~(int64_t)(EM_NC_KEYSPACE | EM_NC_KEYEVENT));
    int feeds = srv->ps && srv->ps->nfeeds;
    srv->st.notify = published || feeds ? on_event : NULL;
}

int ember__feed_add(em_server *srv, ember_change_fn fn, void *ud)
{
    struct em_pubsub *ps = ps_get(srv);
    if (!ps || grow(&ps->feeds, &ps->capfeeds, ps->nfeeds, sizeof(em_feed)) != 0)
        return -1;
    ps->feeds[ps->nfeeds].fn = fn;
    ps->feeds[ps->nfeeds].ud = ud;
    ps->nfeeds++;
    ember__notify_refresh(srv);
    return 0;
}

int ember__feed_remove(em_server *srv, ember_change_fn fn, void *ud)
{
    struct em_pubsub *ps = srv->ps;
    for (size_t i = 0; ps && i < ps->nfeeds; i++)
        if (ps->feeds[i].fn == fn && ps->feeds[i].ud == ud) {
            memmove(ps->feeds + i, ps->feeds + i + 1, (ps->nfeeds - i - 1) * sizeof *ps->feeds);
            ps->nfeeds--;
            ember__notify_refresh(srv);
            return 0;
        }
    return -1;
}

int ember__feed_has(const em_server *srv, ember_change_fn fn, void *ud)
{
    const struct em_pubsub *ps = srv->ps;
    for (size_t i = 0; ps && i < ps->nfeeds; i++)
        if (ps->feeds[i].fn == fn && ps->feeds[i].ud == ud)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ commands */

/* PUBLISH channel message */
static void cmd_publish(em_ctx *c)
{
    em_add_int(c,
               ember__ps_publish(c->srv, 0, c->argv[1], c->argvlen[1], c->argv[2], c->argvlen[2]));
}

/* SPUBLISH shardchannel message */
static void cmd_spublish(em_ctx *c)
{
    em_add_int(c,
               ember__ps_publish(c->srv, 1, c->argv[1], c->argvlen[1], c->argv[2], c->argvlen[2]));
}

/* The connection running this command, or NULL after replying that only
 * RESP connections subscribe (ember_command has no connection to push to). */
static em_ps_client *client_or_error(em_ctx *c)
{
    em_ps_client *cl = c->srv->cur_client;
    if (!cl)
        em_add_errorf(c,
                      "ERR %s is only available on a RESP connection (in process: "
                      "ember_subscribe())",
                      c->cmd->name);
    return cl;
}

static const char *const sub_names[EM_PS__KINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_names[EM_PS__KINDS] = {"unsubscribe", "punsubscribe",
                                                      "sunsubscribe"};

/* SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE name [name ...]: one confirmation per
 * argument, repeated names included, with the count after it. */
static void subscribe_generic(em_ctx *c, int kind)
{
    em_ps_client *cl = client_or_error(c);
    if (!cl)
        return;
    for (size_t i = 1; i < c->argc; i++) {
        if (ember__ps_subscribe(c->srv, &cl->sub, kind, c->argv[i], c->argvlen[i]) < 0) {
            em_err_oom(c);
            return;
        }
        cl->confirm(cl, sub_names[kind], c->argv[i], c->argvlen[i],
                    (int64_t)ember__ps_count(&cl->sub, kind));
    }
}

typedef struct unsub_each {
    em_server *srv;
    em_ps_client *cl;
    int kind;
} unsub_each;

/* Confirms one name of an UNSUBSCRIBE-all, with the count once it is gone
 * (the name is still listed when this runs: one less). */
static void confirm_each(void *ud, const char *name, size_t len)
{
    unsub_each *u = ud;
    u->cl->confirm(u->cl, unsub_names[u->kind], name, len,
                   (int64_t)ember__ps_count(&u->cl->sub, u->kind) - 1);
}

/* UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE [name ...]: no name means every
 * name of that kind; with none subscribed, one confirmation with a nil name. */
static void unsubscribe_generic(em_ctx *c, int kind)
{
    em_ps_client *cl = client_or_error(c);
    if (!cl)
        return;
    if (c->argc == 1) {
        if (!cl->sub.nsubs[kind]) {
            cl->confirm(cl, unsub_names[kind], NULL, 0, (int64_t)ember__ps_count(&cl->sub, kind));
            return;
        }
        unsub_each u = {c->srv, cl, kind};
        ember__ps_unsubscribe_all(c->srv, &cl->sub, kind, confirm_each, &u);
        return;
    }
    for (size_t i = 1; i < c->argc; i++) {
        ember__ps_unsubscribe(c->srv, &cl->sub, kind, c->argv[i], c->argvlen[i]);
        cl->confirm(cl, unsub_names[kind], c->argv[i], c->argvlen[i],
                    (int64_t)ember__ps_count(&cl->sub, kind));
    }
}

/* SUBSCRIBE channel [channel ...] */
static void cmd_subscribe(em_ctx *c)
{
    subscribe_generic(c, EM_PS_CHANNEL);
}

/* PSUBSCRIBE pattern [pattern ...] */
static void cmd_psubscribe(em_ctx *c)
{
    subscribe_generic(c, EM_PS_PATTERN);
}

/* SSUBSCRIBE shardchannel [shardchannel ...] */
static void cmd_ssubscribe(em_ctx *c)
{
    subscribe_generic(c, EM_PS_SHARD);
}

/* UNSUBSCRIBE [channel ...] */
static void cmd_unsubscribe(em_ctx *c)
{
    unsubscribe_generic(c, EM_PS_CHANNEL);
}

/* PUNSUBSCRIBE [pattern ...] */
static void cmd_punsubscribe(em_ctx *c)
{
    unsubscribe_generic(c, EM_PS_PATTERN);
}

/* SUNSUBSCRIBE [shardchannel ...] */
static void cmd_sunsubscribe(em_ctx *c)
{
    unsubscribe_generic(c, EM_PS_SHARD);
}

/* PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the names with subscribers. */
static void channels_generic(em_ctx *c, int kind, const char *sub)
{
    if (c->argc > 3) {
        em_add_errorf(c,
                      "ERR unknown subcommand or wrong number of arguments for '%s'. Try "
                      "PUBSUB HELP.",
                      sub);
        return;
    }
    const ps_map *m = c->srv->ps ? &c->srv->ps->map[kind] : NULL;
    size_t n = 0;
    em_add_deferred(c, EMBER_REPLY_ARRAY);
    for (size_t i = 0; m && i < m->nb; i++)
        for (const em_ps_ent *e = m->b[i]; e; e = e->next)
            if (c->argc == 2 || ember__glob_match(c->argv[2], c->argvlen[2], e->name, e->len, 0)) {
                em_add_bulk(c, e->name, e->len);
                n++;
            }
    em_end_deferred(c, n);
}

static void cmd_pubsub_channels(em_ctx *c)
{
    channels_generic(c, EM_PS_CHANNEL, "channels");
}

static void cmd_pubsub_shardchannels(em_ctx *c)
{
    channels_generic(c, EM_PS_SHARD, "shardchannels");
}

/* PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: name, count pairs (an array in
 * both protocols, as Redis 7.0). */
static void numsub_generic(em_ctx *c, int kind)
{
    struct em_pubsub *ps = c->srv->ps;
    em_add_array(c, (c->argc - 2) * 2);
    for (size_t a = 2; a < c->argc; a++) {
        const em_ps_ent *e =
            ps ? map_find(ps, &ps->map[kind], c->argv[a], c->argvlen[a], NULL) : NULL;
        em_add_bulk(c, c->argv[a], c->argvlen[a]);
        em_add_int(c, e ? (int64_t)e->nsubs : 0);
    }
}

static void cmd_pubsub_numsub(em_ctx *c)
{
    numsub_generic(c, EM_PS_CHANNEL);
}

static void cmd_pubsub_shardnumsub(em_ctx *c)
{
    numsub_generic(c, EM_PS_SHARD);
}

/* PUBSUB NUMPAT: distinct patterns with subscribers. */
static void cmd_pubsub_numpat(em_ctx *c)
{
    em_add_int(c, c->srv->ps ? (int64_t)c->srv->ps->npats : 0);
}

/* PUBSUB HELP */
static void cmd_pubsub_help(em_ctx *c)
{
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: "
        "'*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help."};
    em_add_help(c, lines, sizeof lines / sizeof lines[0]);
}

static const em_cmd pubsub_subcmds[] = {
    {"channels", cmd_pubsub_channels, -2, 0, 0, 0, 0, NULL},
    {"numpat", cmd_pubsub_numpat, 2, 0, 0, 0, 0, NULL},
    {"numsub", cmd_pubsub_numsub, -2, 0, 0, 0, 0, NULL},
    {"shardchannels", cmd_pubsub_shardchannels, -2, 0, 0, 0, 0, NULL},
    {"shardnumsub", cmd_pubsub_shardnumsub, -2, 0, 0, 0, 0, NULL},
    {"help", cmd_pubsub_help, 2, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

#define PS_CMD (EM_CMD_PUBSUB | EM_CMD_NOMULTI)
const em_cmd ember__pubsub_cmds[] = {
    {"subscribe", cmd_subscribe, -2, PS_CMD, 0, 0, 0, NULL},
    {"psubscribe", cmd_psubscribe, -2, PS_CMD, 0, 0, 0, NULL},
    {"ssubscribe", cmd_ssubscribe, -2, PS_CMD, 1, -1, 1, NULL},
    {"unsubscribe", cmd_unsubscribe, -1, PS_CMD, 0, 0, 0, NULL},
    {"punsubscribe", cmd_punsubscribe, -1, PS_CMD, 0, 0, 0, NULL},
    {"sunsubscribe", cmd_sunsubscribe, -1, PS_CMD, 1, -1, 1, NULL},
    {"publish", cmd_publish, 3, EM_CMD_FAST, 0, 0, 0, NULL},
    {"spublish", cmd_spublish, 3, EM_CMD_FAST, 1, 1, 1, NULL},
    {"pubsub", NULL, -2, 0, 0, 0, 0, pubsub_subcmds},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
