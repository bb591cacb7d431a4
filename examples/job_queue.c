/*
 * job_queue.c — a reliable job queue on two ember lists, with producers and
 * workers in their own threads.
 *
 *   producers:  LPUSH jobs:pending <job>
 *   workers:    BLMOVE jobs:pending jobs:processing RIGHT LEFT <timeout>
 *               (blocks until a job arrives; the job moves to jobs:processing
 *               in the same atomic step, so a worker that dies while working
 *               on it cannot lose it), do the work, then
 *               LREM jobs:processing 1 <job>
 *   recovery:   what is left in jobs:processing belongs to workers that died;
 *               LMOVE jobs:processing jobs:pending RIGHT RIGHT puts each job
 *               back at the head of the queue (RIGHT is where workers take from).
 *
 * One worker "crashes": it takes a job and stops without finishing it. The
 * run then shows the job waiting in jobs:processing, recovers it, lets a
 * worker finish it, and checks that every job was done exactly once and that
 * both lists are empty. Exits non-zero on a wrong result.
 *
 *   job_queue [jobs_per_producer]    (default 20000)
 *
 * Build: part of the CMake build (build/examples/job_queue).
 * Elsewhere: cc job_queue.c $(pkg-config --cflags --libs ember) -pthread
 */
#include <ember.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCERS 2
#define WORKERS 3
#define CRASH_AFTER 5 /* the crashing worker dies on its 5th job */
#define JOB_CAP 32

static ember_db *db;
static size_t jobs_per_producer = 20000;
static size_t total_jobs;
static _Atomic int producers_left = PRODUCERS;
static _Atomic unsigned *done_count; /* times each job was done: must end as 1 */

struct worker {
    pthread_t thread;
    int id;
    int crash;       /* dies with its CRASH_AFTER-th job in hand */
    size_t done;     /* jobs finished */
    size_t timeouts; /* BLMOVE waits that ended with no job */
    char crashed_on[JOB_CAP];
    char error[128]; /* first failure; main reports it (workers never exit the process) */
};

static void note_error(struct worker *w, const char *what, const char *why)
{
    if (!w->error[0])
        snprintf(w->error, sizeof w->error, "%s: %s", what, why);
}

/* Runs a command with NUL-terminated arguments; returns the reply (caller
 * frees) or NULL after noting the failure. */
static ember_reply *call(struct worker *w, size_t argc, const char *const *argv)
{
    ember_reply *r;
    int rc = ember_command(db, argc, argv, NULL, &r);
    if (rc != EMBER_OK) {
        note_error(w, argv[0], ember_strerror(rc));
        return NULL;
    }
    if (ember_reply_type(r) == EMBER_REPLY_ERROR) {
        note_error(w, argv[0], ember_reply_str(r, NULL));
        ember_reply_free(r);
        return NULL;
    }
    return r;
}

static int64_t list_len(struct worker *w, const char *key)
{
    const char *argv[2] = {"LLEN", key};
    ember_reply *r = call(w, 2, argv);
    int64_t n = r ? ember_reply_integer(r) : -1;
    ember_reply_free(r);
    return n;
}

/* ------------------------------------------------------------------ producers */

static void *producer_main(void *arg)
{
    struct worker *w = arg;
    for (size_t i = 0; i < jobs_per_producer; i++) {
        char job[JOB_CAP];
        snprintf(job, sizeof job, "job:%zu", (size_t)w->id * jobs_per_producer + i);
        const char *argv[3] = {"LPUSH", "jobs:pending", job};
        ember_reply_free(call(w, 3, argv));
    }
    atomic_fetch_sub(&producers_left, 1);
    return NULL;
}

/* ------------------------------------------------------------------ workers */

/* The work itself: here, counting that this job was done. */
static void do_job(struct worker *w, const char *job)
{
    size_t n = strtoull(job + 4, NULL, 10);
    if (n >= total_jobs) {
        note_error(w, "job", "unknown job id");
        return;
    }
    atomic_fetch_add(&done_count[n], 1);
}

/* Takes jobs until the producers are finished and the queue stays empty for
 * one timeout (0.05 s). */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const char *take[6] = {"BLMOVE", "jobs:pending", "jobs:processing", "RIGHT", "LEFT", "0.05"};
    for (;;) {
        int producing = atomic_load(&producers_left) > 0;
        ember_reply *r = call(w, 6, take); /* blocks this thread only */
        if (!r)
            return NULL;
        if (ember_reply_type(r) == EMBER_REPLY_NIL) {
            ember_reply_free(r);
            w->timeouts++;
            if (!producing)
                return NULL; /* nothing came for a whole timeout after the producers ended */
            continue;
        }
        char job[JOB_CAP];
        snprintf(job, sizeof job, "%s", ember_reply_str(r, NULL));
        ember_reply_free(r);
        if (w->crash && w->done + 1 == CRASH_AFTER) {
            snprintf(w->crashed_on, sizeof w->crashed_on, "%s", job);
            return NULL; /* "crash": the job stays in jobs:processing */
        }
        do_job(w, job);
        const char *ack[4] = {"LREM", "jobs:processing", "1", job};
        r = call(w, 4, ack);
        if (r && ember_reply_integer(r) != 1)
            note_error(w, "LREM", "job not found in jobs:processing");
        ember_reply_free(r);
        w->done++;
    }
}

static void start(struct worker *w, void *(*fn)(void *))
{
    if (pthread_create(&w->thread, NULL, fn, w) != 0) {
        fprintf(stderr, "job_queue: pthread_create failed\n");
        exit(1);
    }
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc > 1) {
        jobs_per_producer = strtoul(argv[1], NULL, 10);
        if (jobs_per_producer < CRASH_AFTER) {
            fprintf(stderr, "usage: %s [jobs_per_producer >= %d]\n", argv[0], CRASH_AFTER);
            return 2;
        }
    }
    total_jobs = PRODUCERS * jobs_per_producer;
    done_count = calloc(total_jobs, sizeof *done_count);
    int rc = ember_db_open(NULL, &db);
    if (rc != EMBER_OK || !done_count) {
        fprintf(stderr, "job_queue: ember_db_open failed: %s\n", ember_strerror(rc));
        return 1;
    }
    printf("Reliable queue: %d producers x %zu jobs, %d workers (worker 0 crashes on its %dth "
           "job)\n",
           PRODUCERS, jobs_per_producer, WORKERS, CRASH_AFTER);

    /* Workers first: they block in BLMOVE until the producers start. */
    struct worker workers[WORKERS], producers[PRODUCERS];
    memset(workers, 0, sizeof workers);
    memset(producers, 0, sizeof producers);
    for (int i = 0; i < WORKERS; i++) {
        workers[i].id = i;
        workers[i].crash = i == 0;
        start(&workers[i], worker_main);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        producers[i].id = i;
        start(&producers[i], producer_main);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(producers[i].thread, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i].thread, NULL);

    struct worker m = {.id = -1}; /* main's own calls */
    size_t finished = 0;
    for (int i = 0; i < WORKERS; i++) {
        printf("  worker %d: %zu jobs done, %zu empty waits%s%s\n", i, workers[i].done,
               workers[i].timeouts, workers[i].crashed_on[0] ? ", crashed holding " : "",
               workers[i].crashed_on);
        finished += workers[i].done;
    }
    int64_t pending = list_len(&m, "jobs:pending"), processing = list_len(&m, "jobs:processing");
    printf("after the run: %zu of %zu jobs done; jobs:pending %lld, jobs:processing %lld\n",
           finished, total_jobs, (long long)pending, (long long)processing);
    /* Worker 0 crashes unless the others took every job before its 5th. */
    int64_t crashed = workers[0].crashed_on[0] != 0;
    if (!crashed)
        printf("(worker 0 got fewer than %d jobs and did not crash this time)\n", CRASH_AFTER);
    int ok = pending == 0 && processing == crashed && finished == total_jobs - (size_t)crashed;

    /* Recovery: every job still in jobs:processing goes back to the queue. */
    int64_t recovered = 0;
    for (;;) {
        const char *back[5] = {"LMOVE", "jobs:processing", "jobs:pending", "RIGHT", "RIGHT"};
        ember_reply *r = call(&m, 5, back);
        if (!r || ember_reply_type(r) == EMBER_REPLY_NIL) {
            ember_reply_free(r);
            break;
        }
        printf("recovery: %s moved back to jobs:pending\n", ember_reply_str(r, NULL));
        ember_reply_free(r);
        recovered++;
    }
    struct worker again = {.id = WORKERS};
    start(&again, worker_main);
    pthread_join(again.thread, NULL);
    printf("a new worker finished %zu recovered job(s)\n", again.done);
    ok &= recovered == crashed && again.done == (size_t)crashed;

    size_t once = 0, twice = 0, never = 0;
    for (size_t i = 0; i < total_jobs; i++) {
        unsigned c = atomic_load(&done_count[i]);
        once += c == 1;
        twice += c > 1;
        never += c == 0;
    }
    pending = list_len(&m, "jobs:pending");
    processing = list_len(&m, "jobs:processing");
    printf("in the end: %zu jobs done exactly once, %zu more than once, %zu never; "
           "jobs:pending %lld, jobs:processing %lld\n",
           once, twice, never, (long long)pending, (long long)processing);
    ok &= once == total_jobs && pending == 0 && processing == 0;

    struct worker *all[WORKERS + PRODUCERS + 2];
    size_t n = 0;
    for (int i = 0; i < WORKERS; i++)
        all[n++] = &workers[i];
    for (int i = 0; i < PRODUCERS; i++)
        all[n++] = &producers[i];
    all[n++] = &m;
    all[n++] = &again;
    for (size_t i = 0; i < n; i++) {
        if (all[i]->error[0]) {
            fprintf(stderr, "job_queue: %s\n", all[i]->error);
            ok = 0;
        }
    }
    ember_db_close(db);
    free((void *)done_count);
    if (!ok) {
        fprintf(stderr, "job_queue: wrong result\n");
        return 1;
    }
    printf("every job was done exactly once\n");
    return 0;
}
