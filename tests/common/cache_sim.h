/*
 * cache_sim.h — the cache workload the eviction test and benchmark share: a
 * Zipf-distributed key stream run as a read-through cache (GET; on a miss,
 * SET) against ember in-process or redis-server over RESP, with maxmemory
 * chosen so that each store holds about the same number of keys.
 *
 * Sizing: redis-server's used_memory includes its own overhead (~1 MB of
 * buffers, the shared objects) and its per-key cost differs from ember's, so
 * the same maxmemory would hold very different numbers of keys. Each store
 * is therefore measured first: used memory empty, then with `hold` keys of
 * the workload's value size, and maxmemory is set to empty + hold x (its own
 * bytes per key). keys_held reports what each actually held at the end.
 *
 * Requests go in batches of TC_SIM_BATCH: the GETs of a batch, then the SETs
 * of its misses (a pipeline for Redis; the same order of commands for ember,
 * so both see the identical command stream).
 */
#ifndef TC_CACHE_SIM_H
#define TC_CACHE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "resp_client.h"

#define TC_SIM_BATCH 64

typedef struct tc_sim_result {
    double hit_ratio;   /* hits / GETs after the warm-up */
    uint64_t keys_held; /* DBSIZE at the end */
    uint64_t maxmemory; /* what was configured */
    uint64_t evicted;   /* INFO evicted_keys */
    double ops_per_s;   /* GETs + SETs per second over the measured part */
} tc_sim_result;

/* Fills out[0, m) with key ranks in [0, nkeys) drawn from Zipf(alpha),
 * deterministic for a seed; rank 0 is the most frequent. Returns 0 or -1 (OOM). */
int tc_zipf_stream(uint32_t *out, size_t m, uint32_t nkeys, double alpha, uint64_t seed);

/* Runs the stream against ember (db) or redis (conn; db NULL) with
 * maxmemory-policy `policy`, sized to hold `hold` keys (hold 0: no maxmemory
 * at all), values of vlen bytes (<= 1024). The first `warmup` requests are
 * not counted. Returns 0, or -1 if a command failed. */
int tc_sim_run(ember_db *db, tc_conn *conn, const char *policy, const uint32_t *stream, size_t m,
               size_t warmup, uint64_t hold, size_t vlen, tc_sim_result *out);

#endif
