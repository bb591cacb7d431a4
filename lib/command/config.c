/*
 * config.c — the parameter table (config.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/common.h"
#include "../common/util.h"
#include "../keyspace/notify.h"

enum { P_INT, P_MEMORY, P_BOOL, P_ENUM, P_STRING, P_SAVE, P_NOTIFY };

typedef struct param {
    const char *name;
    int kind;
    size_t offset;
    int64_t min, max;
    int immutable;
    const char *const *names; /* P_ENUM: value i is names[i] */
} param;

static const char *const policy_names[] = {"noeviction",      "allkeys-lru",  "allkeys-lfu",
                                           "allkeys-random",  "volatile-lru", "volatile-lfu",
                                           "volatile-random", "volatile-ttl", NULL};

static const char *const fsync_names[] = {"always", "everysec", "no", NULL};

#define OFF(f) offsetof(em_settings, f)
static const param params[] = {
    {"databases", P_INT, OFF(databases), 1, 1024, 1, NULL},
    {"hz", P_INT, OFF(hz), 0, INT32_MAX, 0, NULL}, /* clamped to 1..500 at use */
    {"maxmemory", P_MEMORY, OFF(maxmemory), 0, INT64_MAX, 0, NULL},
    {"maxmemory-policy", P_ENUM, OFF(maxmemory_policy), 0, 7, 0, policy_names},
    {"maxmemory-samples", P_INT, OFF(maxmemory_samples), 1, 64, 0, NULL},
    {"lfu-log-factor", P_INT, OFF(lfu_log_factor), 0, INT32_MAX, 0, NULL},
    {"lfu-decay-time", P_INT, OFF(lfu_decay_time), 0, INT32_MAX, 0, NULL},
    {"proto-max-bulk-len", P_MEMORY, OFF(proto_max_bulk_len), 1024 * 1024, INT64_MAX, 0, NULL},
    {"lazyfree-lazy-user-del", P_BOOL, OFF(lazyfree_lazy_user_del), 0, 1, 0, NULL},
    {"lazyfree-lazy-user-flush", P_BOOL, OFF(lazyfree_lazy_user_flush), 0, 1, 0, NULL},
    {"lazyfree-lazy-expire", P_BOOL, OFF(lazyfree_lazy_expire), 0, 1, 0, NULL},
    {"list-max-listpack-size", P_INT, OFF(list_max_listpack_size), INT32_MIN, INT32_MAX, 0, NULL},
    {"list-max-ziplist-size", P_INT, OFF(list_max_listpack_size), INT32_MIN, INT32_MAX, 0, NULL},
    {"list-compress-depth", P_INT, OFF(list_compress_depth), 0, INT32_MAX, 0, NULL},
    {"hash-max-listpack-entries", P_INT, OFF(hash_max_listpack_entries), 0, INT64_MAX, 0, NULL},
    {"hash-max-ziplist-entries", P_INT, OFF(hash_max_listpack_entries), 0, INT64_MAX, 0, NULL},
    {"hash-max-listpack-value", P_MEMORY, OFF(hash_max_listpack_value), 0, INT64_MAX, 0, NULL},
    {"hash-max-ziplist-value", P_MEMORY, OFF(hash_max_listpack_value), 0, INT64_MAX, 0, NULL},
    {"set-max-intset-entries", P_INT, OFF(set_max_intset_entries), 0, INT64_MAX, 0, NULL},
    {"set-max-listpack-entries", P_INT, OFF(set_max_listpack_entries), 0, INT64_MAX, 0, NULL},
    {"set-max-listpack-value", P_INT, OFF(set_max_listpack_value), 0, INT64_MAX, 0, NULL},
    {"zset-max-listpack-entries", P_INT, OFF(zset_max_listpack_entries), 0, INT64_MAX, 0, NULL},
    {"zset-max-ziplist-entries", P_INT, OFF(zset_max_listpack_entries), 0, INT64_MAX, 0, NULL},
    {"zset-max-listpack-value", P_MEMORY, OFF(zset_max_listpack_value), 0, INT64_MAX, 0, NULL},
    {"zset-max-ziplist-value", P_MEMORY, OFF(zset_max_listpack_value), 0, INT64_MAX, 0, NULL},
    /* P_STRING: max is the field's size. */
    {"save", P_SAVE, OFF(save), 0, sizeof(((em_settings *)0)->save), 0, NULL},
    {"dir", P_STRING, OFF(dir), 0, sizeof(((em_settings *)0)->dir), 0, NULL},
    {"dbfilename", P_STRING, OFF(dbfilename), 0, sizeof(((em_settings *)0)->dbfilename), 0, NULL},
    {"rdbcompression", P_BOOL, OFF(rdbcompression), 0, 1, 0, NULL},
    {"appendfsync", P_ENUM, OFF(appendfsync), 0, 2, 0, fsync_names},
    {"requirepass", P_STRING, OFF(requirepass), 0, sizeof(((em_settings *)0)->requirepass), 0,
     NULL},
    {"maxclients", P_INT, OFF(maxclients), 1, UINT32_MAX, 0, NULL},
    {"notify-keyspace-events", P_NOTIFY, OFF(notify_keyspace_events), 0, 0, 0, NULL},
};

/* The letters of notify-keyspace-events, in the order CONFIG GET prints the
 * classes that A does not stand for. */
static const struct {
    char letter;
    int flag;
} notify_letters[] = {
    {'g', EM_NC_GENERIC}, {'$', EM_NC_STRING}, {'l', EM_NC_LIST},    {'s', EM_NC_SET},
    {'h', EM_NC_HASH},    {'z', EM_NC_ZSET},   {'x', EM_NC_EXPIRED}, {'e', EM_NC_EVICTED},
    {'t', EM_NC_STREAM},  {'d', EM_NC_MODULE}, {'n', EM_NC_NEW},
};

int64_t ember__notify_parse(const char *s, size_t len)
{
    int64_t flags = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        size_t k = 0;
        if (ch == 'A')
            flags |= EM_NC_ALL;
        else if (ch == 'K')
            flags |= EM_NC_KEYSPACE;
        else if (ch == 'E')
            flags |= EM_NC_KEYEVENT;
        else if (ch == 'm')
            flags |= EM_NC_KEYMISS;
        else {
            while (k < EM_ARRAY_LEN(notify_letters) && notify_letters[k].letter != ch)
                k++;
            if (k == EM_ARRAY_LEN(notify_letters))
                return -1;
            flags |= notify_letters[k].flag;
        }
    }
    return flags;
}

/* As Redis 7.0 prints it: "A" when every class A covers is on (then "n" is
 * not printed even if set), else the class letters; then K, E and m. */
size_t ember__notify_format(int64_t flags, char *buf, size_t cap)
{
    char tmp[32];
    size_t n = 0;
    if ((flags & EM_NC_ALL) == EM_NC_ALL)
        tmp[n++] = 'A';
    else
        for (size_t k = 0; k < EM_ARRAY_LEN(notify_letters); k++)
            if (flags & notify_letters[k].flag)
                tmp[n++] = notify_letters[k].letter;
    if (flags & EM_NC_KEYSPACE)
        tmp[n++] = 'K';
    if (flags & EM_NC_KEYEVENT)
        tmp[n++] = 'E';
    if (flags & EM_NC_KEYMISS)
        tmp[n++] = 'm';
    if (cap == 0)
        return 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, tmp, n);
    buf[n] = 0;
    return n;
}

void ember__settings_defaults(em_settings *s)
{
    s->databases = 16;
    s->hz = 10;
    s->maxmemory = 0;
    s->maxmemory_policy = EM_POLICY_NOEVICTION;
    s->maxmemory_samples = 5;
    s->lfu_log_factor = 10;
    s->lfu_decay_time = 1;
    s->proto_max_bulk_len = 512ll * 1024 * 1024;
    s->lazyfree_lazy_user_del = 0;
    s->lazyfree_lazy_user_flush = 0;
    s->lazyfree_lazy_expire = 0;
    s->list_max_listpack_size = -2;
    s->list_compress_depth = 0;
    s->hash_max_listpack_entries = 512;
    s->hash_max_listpack_value = 64;
    s->set_max_intset_entries = 512;
    s->set_max_listpack_entries = 128;
    s->set_max_listpack_value = 64;
    s->zset_max_listpack_entries = 128;
    s->zset_max_listpack_value = 64;
    s->rdbcompression = 1;
    s->appendfsync = 1; /* everysec, Redis's default */
    s->nsave = 0;
    s->save[0] = 0;
    s->dir[0] = 0;
    strcpy(s->dbfilename, "dump.rdb");
    s->requirepass[0] = 0;
    s->maxclients = 10000;
}

/* Redis's "save" syntax: pairs of integers >= 0 ("" = no rules), at most 16. */
static int parse_save(em_settings *s, const char *val, size_t vlen)
{
    int64_t rules[2 * 16];
    int64_t n = 0;
    size_t i = 0;
    for (;;) {
        while (i < vlen && val[i] == ' ')
            i++;
        if (i == vlen)
            break;
        size_t j = i;
        while (j < vlen && val[j] != ' ')
            j++;
        long long v;
        if (n == 2 * 16 || !ember__str_to_ll(val + i, j - i, &v) || v < 0)
            return 0;
        rules[n++] = v;
        i = j;
    }
    if (n & 1)
        return 0;
    memcpy(s->save_rules, rules, (size_t)n * sizeof rules[0]);
    s->nsave = n / 2;
    /* Kept normalized, as CONFIG GET shows it. */
    size_t o = 0;
    s->save[0] = 0;
    for (int64_t k = 0; k < n; k++)
        o += (size_t)snprintf(s->save + o, sizeof s->save - o, "%s%lld", k ? " " : "",
                              (long long)rules[k]);
    return 1;
}

size_t ember__settings_count(void)
{
    return sizeof params / sizeof params[0];
}

const char *ember__settings_name(size_t i)
{
    return params[i].name;
}

int ember__settings_immutable(size_t i)
{
    return params[i].immutable;
}

int ember__settings_find(const char *name, size_t nlen)
{
    for (size_t i = 0; i < ember__settings_count(); i++)
        if (strlen(params[i].name) == nlen && strncasecmp(params[i].name, name, nlen) == 0)
            return (int)i;
    return -1;
}

/* Redis's memtoull: a number with an optional unit (k kb m mb g gb, any case). */
static int parse_memory(const char *v, size_t len, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"kb", 1024},
                 {"k", 1000},
                 {"mb", 1024 * 1024},
                 {"m", 1000 * 1000},
                 {"gb", 1024ll << 20},
                 {"g", 1000ll * 1000 * 1000},
                 {"b", 1}};
    int64_t mul = 1;
    size_t digits = len;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t ul = strlen(units[i].unit);
        if (len >= ul && strncasecmp(v + len - ul, units[i].unit, ul) == 0) {
            /* Prefer the longest unit that matches (kb over b). */
            mul = units[i].mul;
            digits = len - ul;
            break;
        }
    }
    long long n = 0;
    /* Nothing before the unit (or nothing at all) reads as 0, as in Redis. */
    if (digits > 0 && (!ember__str_to_ll(v, digits, &n) || n < 0))
        return 0;
    if (n > INT64_MAX / mul)
        return 0;
    *out = n * mul;
    return 1;
}

int ember__settings_set(em_settings *s, const char *name, size_t nlen, const char *val, size_t vlen,
                        int runtime, const char **why)
{
    int i = ember__settings_find(name, nlen);
    if (i < 0)
        return EM_CFG_UNKNOWN;
    const param *p = &params[i];
    if (runtime && p->immutable) {
        *why = "can't set immutable config";
        return EM_CFG_IMMUTABLE;
    }
    int64_t v;
    long long ll;
    if (p->kind == P_NOTIFY) {
        v = ember__notify_parse(val, vlen);
        if (v < 0) {
            *why = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
            return EM_CFG_BADVALUE;
        }
        s->notify_keyspace_events = v;
        return EM_CFG_OK;
    }
    if (p->kind == P_STRING || p->kind == P_SAVE) {
        char *field = (char *)s + p->offset;
        if (vlen >= (size_t)p->max || memchr(val, 0, vlen)) {
            *why = "argument is too long";
            return EM_CFG_BADVALUE;
        }
        if (p->kind == P_SAVE) {
            if (!parse_save(s, val, vlen)) {
                *why = "Invalid save parameters";
                return EM_CFG_BADVALUE;
            }
            return EM_CFG_OK;
        }
        if (p->offset == OFF(dbfilename) && (vlen == 0 || memchr(val, '/', vlen))) {
            *why = "dbfilename can't be a path, just a filename";
            return EM_CFG_BADVALUE;
        }
        memcpy(field, val, vlen);
        field[vlen] = 0;
        return EM_CFG_OK;
    }
    switch (p->kind) {
    case P_INT:
        if (!ember__str_to_ll(val, vlen, &ll)) {
            *why = "argument couldn't be parsed into an integer";
            return EM_CFG_BADVALUE;
        }
        v = ll;
        break;
    case P_MEMORY:
        if (!parse_memory(val, vlen, &v)) {
            *why = "argument must be a memory value";
            return EM_CFG_BADVALUE;
        }
        break;
    case P_BOOL:
        if (vlen == 3 && strncasecmp(val, "yes", 3) == 0)
            v = 1;
        else if (vlen == 2 && strncasecmp(val, "no", 2) == 0)
            v = 0;
        else {
            *why = "argument must be 'yes' or 'no'";
            return EM_CFG_BADVALUE;
        }
        break;
    default:
        for (v = 0; p->names[v]; v++)
            if (strlen(p->names[v]) == vlen && strncasecmp(p->names[v], val, vlen) == 0)
                break;
        if (!p->names[v]) {
            *why = "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
                   "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
                   "noeviction";
            return EM_CFG_BADVALUE;
        }
        break;
    }
    if (v < p->min || v > p->max) {
        static _Thread_local char range[96];
        snprintf(range, sizeof range, "argument must be between %lld and %lld inclusive",
                 (long long)p->min, (long long)p->max);
        *why = range;
        return EM_CFG_BADVALUE;
    }
    memcpy((char *)s + p->offset, &v, sizeof v);
    return EM_CFG_OK;
}

size_t ember__settings_format(const em_settings *s, size_t i, char *buf, size_t cap)
{
    const param *p = &params[i];
    int64_t v;
    int n;
    if (p->kind == P_STRING || p->kind == P_SAVE) {
        n = snprintf(buf, cap, "%s", (const char *)s + p->offset);
        return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
    }
    memcpy(&v, (const char *)s + p->offset, sizeof v);
    if (p->kind == P_NOTIFY)
        return ember__notify_format(v, buf, cap);
    if (p->kind == P_BOOL)
        n = snprintf(buf, cap, "%s", v ? "yes" : "no");
    else if (p->kind == P_ENUM)
        n = snprintf(buf, cap, "%s", p->names[v]);
    else
        n = snprintf(buf, cap, "%lld", (long long)v);
    return n < 0 ? 0 : (size_t)n;
}
