/*
 * bench_pubsub.c — PUBLISH to 1, 10 and 100 in-process subscribers: messages
 * delivered per second (publishes x receivers), for callback subscribers
 * (delivery on the executor) and for queue subscribers drained by a reader
 * thread. Publishes go in pipelined batches of PUBLISH commands from one
 * thread, the way a producer feeds the executor. Median of 3 runs.
 * --quick: a smoke run.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "ember.h"

static int quick;
static _Atomic uint64_t delivered;

static void on_msg(void *ud, const ember_message *m)
{
    (void)ud;
    (void)m;
    atomic_fetch_add_explicit(&delivered, 1, memory_order_relaxed);
}

typedef struct reader {
    ember_sub **subs;
    int n;
    uint64_t want;
    uint64_t got;
} reader;

/* Drains every queue subscriber until `want` messages were taken. */
static void *reader_main(void *arg)
{
    reader *r = arg;
    while (r->got < r->want) {
        int any = 0;
        for (int i = 0; i < r->n; i++) {
            ember_message *m;
            while (ember_sub_next(r->subs[i], &m) == EMBER_OK) {
                ember_message_free(m);
                r->got++;
                any = 1;
            }
        }
        if (!any) {
            struct pollfd pf = {ember_sub_fd(r->subs[0]), POLLIN, 0};
            poll(&pf, 1, 1);
        }
    }
    return NULL;
}

/* One run: nsubs subscribers of channel "c", `pubs` publishes. Returns
 * messages delivered per second. */
static double run_once(int nsubs, int queue, uint64_t pubs)
{
    ember_db *db;
    if (ember_db_open(NULL, &db) != EMBER_OK)
        die("open", -1);
    ember_sub **subs = xmalloc((size_t)nsubs * sizeof *subs);
    const char *ch = "c";
    size_t cl = 1;
    for (int i = 0; i < nsubs; i++) {
        int rc = ember_sub_open(db, queue ? NULL : on_msg, NULL, 256u << 20, &subs[i]);
        if (rc || (rc = ember_subscribe(subs[i], 1, &ch, &cl)))
            die("subscribe", rc);
    }
    atomic_store(&delivered, 0);
    reader rd = {subs, nsubs, pubs * (uint64_t)nsubs, 0};
    pthread_t t;
    if (queue)
        pthread_create(&t, NULL, reader_main, &rd);
    ember_batch *b;
    ember_batch_new(&b);
    const char *argv[3] = {"PUBLISH", "c", "0123456789abcdef0123456789abcdef"};
    const int per = 64;
    for (int i = 0; i < per; i++)
        ember_batch_add(b, 3, argv, NULL);
    uint64_t t0 = now_ns();
    for (uint64_t done = 0; done < pubs; done += (uint64_t)per) {
        int rc = ember_batch_exec(db, b, EMBER_BATCH_PIPELINE);
        if (rc)
            die("batch", rc);
    }
    uint64_t got;
    if (queue) {
        pthread_join(t, NULL);
        got = rd.got;
    } else {
        got = atomic_load(&delivered);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    ember_batch_free(b);
    for (int i = 0; i < nsubs; i++)
        ember_sub_close(subs[i]);
    free(subs);
    ember_db_close(db);
    return (double)got / secs;
}

static void section_ember(void)
{
    static const int counts[] = {1, 10, 100};
    for (int queue = 0; queue < 2; queue++) {
        for (size_t k = 0; k < 3; k++) {
            int n = counts[k];
            uint64_t pubs = (quick ? 20000u : 400000u) / (uint64_t)(n >= 10 ? n / 5 : 1);
            pubs -= pubs % 64;
            double v[3];
            for (int r = 0; r < 3; r++)
                v[r] = run_once(n, queue, pubs);
            char buf[32];
            fmt_rate(buf, sizeof buf, median(v, 3));
            printf("PUBLISH to %3d %s subscribers: %s messages delivered/s (%llu publishes)\n", n,
                   queue ? "queue   " : "callback", buf, (unsigned long long)pubs);
        }
    }
}

int main(int argc, char **argv)
{
    bench_prog = "bench_pubsub";
    bench_opts o;
    bench_parse_args(argc, argv, "ember", &o);
    quick = o.quick;
    uint64_t t0 = now_ns();
    print_machine();
    if (want("ember"))
        run_section(section_ember);
    return bench_finish(t0);
}
