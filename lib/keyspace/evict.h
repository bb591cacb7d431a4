/*
 * evict.h — maxmemory: access tracking (LRU clock, LFU counter) and eviction.
 *
 * Every object header has a 24-bit field (ember__obj_lru) that holds, as in
 * Redis, either
 *   LRU  the 24-bit seconds clock (Unix seconds mod 2^24) of the last access, or
 *   LFU  16 bits of the last decrement time (Unix minutes mod 2^16) and an
 *        8-bit logarithmic access counter (new keys start at EM_LFU_INIT),
 * depending on whether the maxmemory policy is an LFU one. Switching policies
 * at run time reinterprets old fields, as in Redis ("LRU and LFU data will
 * take some time to adjust").
 *
 * Eviction (ember__evict_perform) runs on the executor before each command
 * when maxmemory is set, and from the executor's timer; it deletes keys
 * chosen by the policy until used memory is at most maxmemory. All of it runs
 * on the executor thread (or the only thread, in inline mode).
 */
#ifndef EMBER_EVICT_H
#define EMBER_EVICT_H

#include <stddef.h>
#include <stdint.h>

/* maxmemory-policy values (CONFIG's order). */
enum {
    EM_POLICY_NOEVICTION = 0,
    EM_POLICY_ALLKEYS_LRU,
    EM_POLICY_ALLKEYS_LFU,
    EM_POLICY_ALLKEYS_RANDOM,
    EM_POLICY_VOLATILE_LRU,
    EM_POLICY_VOLATILE_LFU,
    EM_POLICY_VOLATILE_RANDOM,
    EM_POLICY_VOLATILE_TTL,
};

static inline int ember__policy_is_lfu(int64_t p)
{
    return p == EM_POLICY_ALLKEYS_LFU || p == EM_POLICY_VOLATILE_LFU;
}
static inline int ember__policy_is_lru(int64_t p)
{
    return p == EM_POLICY_ALLKEYS_LRU || p == EM_POLICY_VOLATILE_LRU;
}

/* The counter a new key starts with under LFU (so that it is not evicted at
 * once for having no history), as Redis's LFU_INIT_VAL. */
#define EM_LFU_INIT 5
#define EM_LRU_CLOCK_MAX 0xFFFFFFu

/* The eviction settings a store acts on (copied from the CONFIG table by
 * ember__evict_configure whenever it changes). */
typedef struct em_evict_cfg {
    uint64_t maxmemory; /* bytes; 0 = no limit */
    int policy;         /* EM_POLICY_* */
    int samples;        /* maxmemory-samples: keys sampled per database per round */
    int lfu_log_factor;
    int lfu_decay_time; /* minutes per counter decrement; 0 = never */
    int lfu;            /* policy is an LFU one (cached for the lookup path) */
} em_evict_cfg;

/* Outcome of ember__evict_perform. */
enum {
    EM_EVICT_OK = 0,      /* at or under the limit (or no limit) */
    EM_EVICT_RUNNING = 1, /* still over, but progressing (time budget used, or
                           * memory being freed in the background): commands run */
    EM_EVICT_FAIL = 2,    /* over the limit and nothing can be evicted */
};

/* The eviction candidate pool (opaque; see evict.c). */
typedef struct em_evpool em_evpool;

/* ---- the LFU counter (pure functions, unit-tested) */

/* Minutes elapsed since the 16-bit minute stamp `ldt`, with wrap-around. */
uint32_t ember__lfu_elapsed(uint32_t now_min, uint32_t ldt);
/* The counter of field `f` after the decay due at minute now_min. */
uint32_t ember__lfu_decayed(uint32_t f, uint32_t now_min, int decay_time);
/* The counter after one access: incremented with probability
 * 1 / ((counter - EM_LFU_INIT) * log_factor + 1), saturating at 255; `r` is
 * a uniform random number in [0, 1). */
uint32_t ember__lfu_incr(uint32_t counter, int log_factor, double r);
/* The 24-bit field of a fresh key under LFU at minute now_min. */
static inline uint32_t ember__lfu_fresh(uint32_t now_min)
{
    return ((now_min & 0xFFFF) << 8) | EM_LFU_INIT;
}
/* Idle time in ms of an LRU field, given the current 24-bit seconds clock. */
static inline uint64_t ember__lru_idle_ms(uint32_t now_clock, uint32_t lru)
{
    uint64_t s = now_clock >= lru ? now_clock - lru : now_clock + (EM_LRU_CLOCK_MAX - lru);
    return s * 1000;
}

#endif
