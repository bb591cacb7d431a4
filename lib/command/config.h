/*
 * config.h — settings of a store, by Redis's parameter names.
 *
 * One table describes every parameter (name, type, bounds, whether it may
 * change at run time); ember_config_set(), CONFIG GET and CONFIG SET all go
 * through it, so a parameter is added in exactly one place.
 */
#ifndef EMBER_CONFIG_H
#define EMBER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../keyspace/evict.h" /* EM_POLICY_* */

typedef struct em_settings {
    int64_t databases;
    int64_t hz;
    int64_t maxmemory;
    int64_t maxmemory_policy;
    int64_t maxmemory_samples;
    int64_t lfu_log_factor;
    int64_t lfu_decay_time;
    int64_t proto_max_bulk_len;
    int64_t lazyfree_lazy_user_del;
    int64_t lazyfree_lazy_user_flush;
    int64_t lazyfree_lazy_expire;
    /* Compact-encoding thresholds (Redis 7.0 names; "ziplist" aliases too). */
    int64_t list_max_listpack_size; /* > 0 entries per node; -1..-5: 4..64 KB */
    int64_t list_compress_depth;
    int64_t hash_max_listpack_entries;
    int64_t hash_max_listpack_value;
    int64_t set_max_intset_entries;
    int64_t set_max_listpack_entries; /* Redis 7.2's; 0 = 7.0's intset/hashtable only */
    int64_t set_max_listpack_value;
    int64_t zset_max_listpack_entries;
    int64_t zset_max_listpack_value;
    /* Snapshots (lib/persist). save: Redis's "<seconds> <changes> ..." rules,
     * parsed into save_rules (pairs) and kept as text for CONFIG GET; ember's
     * default is "" (no periodic saves: a library writes no file unasked). */
    int64_t rdbcompression; /* zstd framing of SAVE/BGSAVE/periodic files */
    int64_t nsave;
    int64_t save_rules[2 * 16];
    char save[256];
    char dir[256]; /* "" = the process's working directory */
    char dbfilename[256];
    /* The append log's sync policy (Redis's appendfsync: 0 always, 1
     * everysec, 2 no); CONFIG SET changes the attached log's policy. */
    int64_t appendfsync;
    /* The RESP server's (lib/server): the default user's password ("" =
     * none) and the connection limit. Other threads read them under
     * em_server.cfg_lock. */
    char requirepass[512];
    int64_t maxclients;
    /* notify-keyspace-events as EM_NC_* flags (lib/keyspace/notify.h). */
    int64_t notify_keyspace_events;
} em_settings;

/* Room for the longest value ember__settings_format writes, with its NUL. */
#define EM_SETTING_TEXT_MAX 512

void ember__settings_defaults(em_settings *s);

/* Outcome of a set. */
enum { EM_CFG_OK = 0, EM_CFG_UNKNOWN = -1, EM_CFG_BADVALUE = -2, EM_CFG_IMMUTABLE = -3 };

/* Sets `name` from text. `runtime` refuses immutable parameters. On a bad
 * value *why receives a static explanation. */
int ember__settings_set(em_settings *s, const char *name, size_t nlen, const char *val, size_t vlen,
                        int runtime, const char **why);
/* Writes the value of parameter i as text; returns its length. */
size_t ember__settings_format(const em_settings *s, size_t i, char *buf, size_t cap);
/* Number of parameters, and the name of parameter i. */
size_t ember__settings_count(void);
const char *ember__settings_name(size_t i);
/* 1 if parameter i can only be set before the store opens. */
int ember__settings_immutable(size_t i);
/* Index of a parameter by exact (case-insensitive) name, or -1. */
int ember__settings_find(const char *name, size_t nlen);
/* notify-keyspace-events: Redis's letters to EM_NC_* flags (-1: a letter
 * Redis refuses), and back as CONFIG GET prints them (returns the length). */
int64_t ember__notify_parse(const char *s, size_t len);
size_t ember__notify_format(int64_t flags, char *buf, size_t cap);

#endif
