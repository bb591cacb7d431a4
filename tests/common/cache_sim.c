/*
 * cache_sim.c — see cache_sim.h.
 */
#include "cache_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Inverse-CDF sampling: cdf[i] = P(rank <= i); a uniform draw is looked up
 * by binary search, so every rank has exactly its Zipf probability. */
int tc_zipf_stream(uint32_t *out, size_t m, uint32_t nkeys, double alpha, uint64_t seed)
{
    double *cdf = malloc(nkeys * sizeof *cdf);
    if (!cdf)
        return -1;
    double sum = 0;
    for (uint32_t i = 0; i < nkeys; i++)
        cdf[i] = (sum += 1.0 / pow((double)(i + 1), alpha));
    for (uint32_t i = 0; i < nkeys; i++)
        cdf[i] /= sum;
    uint64_t s = seed;
    for (size_t j = 0; j < m; j++) {
        double u = (double)(splitmix(&s) >> 11) * 0x1.0p-53;
        uint32_t lo = 0, hi = nkeys - 1;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        out[j] = lo;
    }
    free(cdf);
    return 0;
}

/* ------------------------------------------------------------ one backend */

typedef struct sim {
    ember_db *db;
    tc_conn *conn;
    int failed;
} sim;

/* One command; *ival gets an integer reply, text (if given) a string reply.
 * Returns the reply kind: 'i', 's' (status or bulk), 'n' (nil), 'e' (error). */
static int one(sim *s, size_t argc, const char *const *argv, const size_t *lens, int64_t *ival,
               char *text, size_t cap)
{
    int kind = 'e';
    if (s->db) {
        ember_reply *r = NULL;
        if (ember_command(s->db, argc, argv, lens, &r) != EMBER_OK)
            return 'e';
        int t = ember_reply_type(r);
        if (t == EMBER_REPLY_INTEGER) {
            kind = 'i';
            if (ival)
                *ival = ember_reply_integer(r);
        } else if (t == EMBER_REPLY_NIL) {
            kind = 'n';
        } else if (t == EMBER_REPLY_STATUS || t == EMBER_REPLY_STRING) {
            kind = 's';
            size_t n;
            const char *p = ember_reply_str(r, &n);
            if (text && cap) {
                n = n < cap - 1 ? n : cap - 1;
                memcpy(text, p, n);
                text[n] = '\0';
            }
        }
        ember_reply_free(r);
        return kind;
    }
    tc_resp *r = tc_conn_command(s->conn, argc, argv, lens);
    if (!r)
        return 'e';
    if (r->type == TC_RESP_INTEGER) {
        kind = 'i';
        if (ival)
            *ival = r->integer;
    } else if (r->type == TC_RESP_NIL) {
        kind = 'n';
    } else if (r->type == TC_RESP_STATUS || r->type == TC_RESP_STRING) {
        kind = 's';
        if (text && cap)
            snprintf(text, cap, "%s", r->str);
    }
    tc_resp_free(r);
    return kind;
}

#define CMD_(s, ...)                                                                               \
    one(s, sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *),                           \
        (const char *[]){__VA_ARGS__}, NULL, NULL, NULL, 0)

static uint64_t info_field(sim *s, const char *field)
{
    static char text[16384];
    if (one(s, 2, (const char *[]){"INFO", "everything"}, NULL, NULL, text, sizeof text) != 's')
        return 0;
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s:", field);
    const char *p = strstr(text, pat);
    return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static uint64_t dbsize(sim *s)
{
    int64_t v = 0;
    one(s, 1, (const char *[]){"DBSIZE"}, NULL, &v, NULL, 0);
    return (uint64_t)v;
}

static size_t key_name(char *buf, uint32_t rank)
{
    /* Spread ranks over the key space so hot keys do not sort together. */
    return (size_t)snprintf(buf, 24, "key:%u", (unsigned)((rank * 2654435761u) ^ 0x5bd1e995u));
}

/* GETs of n keys; hit[i] = 1 for a value. Pipelined for Redis. */
static void get_batch(sim *s, size_t n, char (*keys)[24], const size_t *kl, int *hit)
{
    for (size_t i = 0; i < n; i++) {
        const char *argv[2] = {"GET", keys[i]};
        size_t lens[2] = {3, kl[i]};
        if (s->db) {
            int k = one(s, 2, argv, lens, NULL, NULL, 0);
            hit[i] = k == 's';
            s->failed |= k == 'e';
        } else {
            tc_conn_append(s->conn, 2, argv, lens);
        }
    }
    if (s->db)
        return;
    for (size_t i = 0; i < n; i++) {
        tc_resp *r = tc_conn_read(s->conn);
        hit[i] = r && r->type == TC_RESP_STRING;
        s->failed |= !r || r->type == TC_RESP_ERROR;
        tc_resp_free(r);
    }
}

static void set_batch(sim *s, size_t n, char (*keys)[24], const size_t *kl, const int *hit,
                      const char *val, size_t vlen)
{
    size_t queued = 0;
    for (size_t i = 0; i < n; i++) {
        if (hit[i])
            continue;
        const char *argv[3] = {"SET", keys[i], val};
        size_t lens[3] = {3, kl[i], vlen};
        if (s->db) {
            s->failed |= one(s, 3, argv, lens, NULL, NULL, 0) != 's';
        } else {
            tc_conn_append(s->conn, 3, argv, lens);
            queued++;
        }
    }
    for (size_t i = 0; i < queued; i++) {
        tc_resp *r = tc_conn_read(s->conn);
        s->failed |= !r || r->type != TC_RESP_STATUS;
        tc_resp_free(r);
    }
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int tc_sim_run(ember_db *db, tc_conn *conn, const char *policy, const uint32_t *stream, size_t m,
               size_t warmup, uint64_t hold, size_t vlen, tc_sim_result *out)
{
    sim s = {db, conn, 0};
    static char val[1024];
    memset(val, 'x', sizeof val);
    if (vlen > sizeof val)
        return -1;
    memset(out, 0, sizeof *out);
    CMD_(&s, "FLUSHALL", "SYNC");
    CMD_(&s, "CONFIG", "SET", "maxmemory", "0");
    CMD_(&s, "CONFIG", "SET", "maxmemory-policy", policy);
    CMD_(&s, "CONFIG", "RESETSTAT");
    char keys[TC_SIM_BATCH][24];
    size_t kl[TC_SIM_BATCH];
    int hit[TC_SIM_BATCH];
    if (hold) {
        /* Measure this store's bytes per key, with the workload's key shape. */
        uint64_t u0 = info_field(&s, "used_memory");
        for (uint64_t i = 0; i < hold; i += TC_SIM_BATCH) {
            size_t n = 0;
            for (; n < TC_SIM_BATCH && i + n < hold; n++) {
                kl[n] = key_name(keys[n], (uint32_t)(i + n + 0x40000000u));
                hit[n] = 0;
            }
            set_batch(&s, n, keys, kl, hit, val, vlen);
        }
        /* Let an incremental rehash finish first (both stores rehash on their
         * timers): the old bucket array still counted would overstate the
         * per-key cost by ~5%. */
        struct timespec pause = {0, 400 * 1000 * 1000};
        nanosleep(&pause, NULL);
        uint64_t u1 = info_field(&s, "used_memory");
        CMD_(&s, "FLUSHALL", "SYNC");
        uint64_t u2 = info_field(&s, "used_memory");
        out->maxmemory = u2 + (u1 > u0 ? u1 - u0 : 0);
        char num[32];
        snprintf(num, sizeof num, "%llu", (unsigned long long)out->maxmemory);
        CMD_(&s, "CONFIG", "SET", "maxmemory", num);
    }
    uint64_t hits = 0, gets = 0, ops = 0;
    double t0 = 0;
    for (size_t j = 0; j < m; j += TC_SIM_BATCH) {
        if (j <= warmup && warmup < j + TC_SIM_BATCH)
            t0 = mono_s();
        size_t n = m - j < TC_SIM_BATCH ? m - j : TC_SIM_BATCH;
        for (size_t i = 0; i < n; i++)
            kl[i] = key_name(keys[i], stream[j + i]);
        get_batch(&s, n, keys, kl, hit);
        set_batch(&s, n, keys, kl, hit, val, vlen);
        if (j >= warmup) {
            for (size_t i = 0; i < n; i++) {
                hits += (uint64_t)hit[i];
                ops += 2 - (uint64_t)hit[i];
            }
            gets += n;
        }
    }
    double dt = mono_s() - t0;
    out->hit_ratio = gets ? (double)hits / (double)gets : 0;
    out->ops_per_s = dt > 0 ? (double)ops / dt : 0;
    out->keys_held = dbsize(&s);
    out->evicted = info_field(&s, "evicted_keys");
    CMD_(&s, "CONFIG", "SET", "maxmemory", "0");
    return s.failed ? -1 : 0;
}
