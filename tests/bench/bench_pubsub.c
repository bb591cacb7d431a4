/*
 * bench_pubsub.c — PUBLISH to 1, 10 and 100 subscribers: messages delivered
 * per second (publishes x receivers).
 *   ember   in-process subscribers: callbacks (delivery on the executor) and
 *           queues drained by a reader thread; publishes in pipelined
 *           batches of PUBLISH from one thread. Median of 3 runs.
 *   resp    the same over RESP on loopback, RESP2 subscriber connections
 *           read by one thread, one publisher pipelining 64 PUBLISH at a
 *           time: ember-server (ember_server_start) and redis-server 7.0
 *           side by side, in the same run.
 * --quick: a smoke run; --no-redis: skip redis-server.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ------------------------------------------------------------------ RESP */

#define MSG "0123456789abcdef0123456789abcdef"
/* "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$32\r\n" MSG "\r\n" */
#define MSG_WIRE (4 + 13 + 7 + 5 + 32 + 2)

typedef struct resp_reader {
    int *fds;
    int n;
    uint64_t want_bytes, got_bytes;
} resp_reader;

static void *resp_reader_main(void *arg)
{
    resp_reader *r = arg;
    struct pollfd *pf = xmalloc((size_t)r->n * sizeof *pf);
    char buf[65536];
    while (r->got_bytes < r->want_bytes) {
        for (int i = 0; i < r->n; i++)
            pf[i] = (struct pollfd){r->fds[i], POLLIN, 0};
        if (poll(pf, (nfds_t)r->n, 2000) <= 0)
            break; /* nothing for 2 s: a message was lost */
        for (int i = 0; i < r->n; i++) {
            if (!(pf[i].revents & POLLIN))
                continue;
            ssize_t k = read(r->fds[i], buf, sizeof buf);
            if (k > 0)
                r->got_bytes += (uint64_t)k;
        }
    }
    free(pf);
    return NULL;
}

/* nsubs RESP subscribers of "c" on port, `pubs` publishes; messages/s. */
static double resp_once(int port, int nsubs, uint64_t pubs)
{
    int *fds = xmalloc((size_t)nsubs * sizeof *fds);
    for (int i = 0; i < nsubs; i++) {
        fds[i] = tcp_connect(port);
        if (fds[i] < 0)
            die("connect", -1);
        const char sub[] = "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n";
        write_all(fds[i], sub, sizeof sub - 1);
        /* the confirmation: *3 $9 subscribe $1 c :1 = 30 bytes */
        char tmp[64];
        size_t got = 0;
        while (got < 30) {
            ssize_t k = read(fds[i], tmp, sizeof tmp);
            if (k <= 0)
                die("subscribe", -1);
            got += (size_t)k;
        }
    }
    resp *pub = resp_open(port);
    if (!pub)
        die("publisher", -1);
    resp_reader rd = {fds, nsubs, pubs * (uint64_t)nsubs * MSG_WIRE, 0};
    pthread_t t;
    pthread_create(&t, NULL, resp_reader_main, &rd);
    const char *argv[3] = {"PUBLISH", "c", MSG};
    size_t lens[3] = {7, 1, 32};
    char cmd[128];
    size_t cl = resp_encode(cmd, 3, argv, lens);
    char *chunk = xmalloc(cl * 64);
    for (int i = 0; i < 64; i++)
        memcpy(chunk + (size_t)i * cl, cmd, cl);
    uint64_t t0 = now_ns();
    for (uint64_t done = 0; done < pubs; done += 64) {
        write_all(pub->fd, chunk, cl * 64);
        for (int i = 0; i < 64; i++) {
            int err = 0;
            if (resp_skip(pub, &err) != 0 || err)
                die("publish", -1);
        }
    }
    pthread_join(t, NULL);
    double secs = (double)(now_ns() - t0) / 1e9;
    uint64_t msgs = rd.got_bytes / MSG_WIRE;
    free(chunk);
    resp_close(pub);
    for (int i = 0; i < nsubs; i++)
        close(fds[i]);
    free(fds);
    if (rd.got_bytes < rd.want_bytes)
        fprintf(stderr, "  (port %d: %llu of %llu messages arrived)\n", port,
                (unsigned long long)msgs, (unsigned long long)(pubs * (uint64_t)nsubs));
    return (double)msgs / secs;
}

static int bench_redis = 1;

static void section_resp(void)
{
    ember_db *db;
    ember_server *srv;
    if (ember_db_open(NULL, &db) != EMBER_OK || ember_server_start(db, NULL, 0, 0, &srv))
        die("ember-server", -1);
    int eport = ember_server_port(srv), rport = -1;
    if (bench_redis) {
        redis_begin();
        rport = g_redis_port;
    }
    static const int counts[] = {1, 10, 100};
    for (size_t k = 0; k < 3; k++) {
        int n = counts[k];
        uint64_t pubs = (quick ? 6400u : 128000u) / (uint64_t)(n >= 10 ? n / 5 : 1);
        pubs -= pubs % 64;
        char e[32], r[32] = "-";
        double ev = resp_once(eport, n, pubs);
        fmt_rate(e, sizeof e, ev);
        double rv = 0;
        if (rport > 0) {
            rv = resp_once(rport, n, pubs);
            fmt_rate(r, sizeof r, rv);
        }
        printf("RESP PUBLISH to %3d subscribers: ember-server %s, redis-server %s messages "
               "delivered/s (%llu publishes)\n",
               n, e, r, (unsigned long long)pubs);
        if (rport > 0 && rv > 0)
            printf("  ember / redis = %.2f\n", ev / rv);
    }
    if (bench_redis)
        redis_stop();
    ember_server_stop(srv);
    ember_db_close(db);
}

int main(int argc, char **argv)
{
    bench_prog = "bench_pubsub";
    bench_opts o;
    bench_parse_args(argc, argv, "ember,resp", &o);
    quick = o.quick;
    bench_redis = o.redis;
    uint64_t t0 = now_ns();
    print_machine();
    redis_install_cleanup();
    if (want("ember"))
        run_section(section_ember);
    if (want("resp"))
        run_section(section_resp);
    return bench_finish(t0);
}
