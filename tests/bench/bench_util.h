/*
 * bench_util.h — what the benchmarks share: clocks, random numbers, medians,
 * the noise report, TARGET lines, ember INFO helpers, and a private
 * redis-server with a small pipelining RESP client and a redis-benchmark
 * runner.
 *
 * Every benchmark is one single-threaded main program (worker threads only
 * measure), so the state kept here (the TARGET list, the redis child) is
 * plain globals, touched from the main thread only.
 */
#ifndef EMBER_BENCH_UTIL_H
#define EMBER_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ember.h"

/* Name used in error messages; each benchmark sets it first thing in main. */
extern const char *bench_prog;

/* ------------------------------------------------------------------ basics */

uint64_t now_ns(void);
void sleep_ns(uint64_t ns);
/* Prints "<prog>: <what> failed: <reason>" (ember status, or errno when rc is
 * 0) and exits 1. */
void die(const char *what, int rc);
void *xmalloc(size_t n);

/* xorshift64*: fast and good enough to pick keys. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n) without a division. */
static inline size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

/* Writes prefix followed by the decimal n (NUL-terminated); returns its length. */
size_t fmt_key(char *buf, const char *prefix, size_t n);
/* The same, zero-padded to 12 digits, as redis-benchmark expands __rand_int__. */
size_t fmt_key12(char *buf, const char *prefix, size_t n);

int cmp_dbl(const void *a, const void *b);
/* Median of n values; sorts v. */
double median(double *v, int n);
/* 1234567 -> "1.23M", 12345 -> "12.3k". */
void fmt_rate(char *buf, size_t cap, double v);

/* The build type the benchmark was compiled in (CMake's CMAKE_BUILD_TYPE). */
const char *bench_build_type(void);
/* Prints one line: CPU model, CPUs online, build type. */
void print_machine(void);

/* ------------------------------------------------------------------ command line */

typedef struct bench_opts {
    int quick; /* --quick: small sizes, a smoke run */
    int redis; /* 0 with --no-redis */
} bench_opts;

/* Parses --quick, --no-redis and --only LIST (sections, comma-separated:
 * `sections` lists them for the usage message); exits 2 on anything else. */
void bench_parse_args(int argc, char **argv, const char *sections, bench_opts *o);
/* 1 if `section` is to run (no --only, or named in its list). */
int want(const char *section);

/* ------------------------------------------------------------------ noise */

/* CPU time the rest of the machine used while a section ran. */
typedef struct cpu_snap {
    uint64_t t_ns;
    double busy_s, own_s;
} cpu_snap;

void cpu_snap_take(cpu_snap *c);
/* Prints elapsed time, CPUs used by other processes since *a, and loadavg. */
void noise_report(const cpu_snap *a);
/* Runs fn, then prints the noise report of its run. */
void run_section(void (*fn)(void));

/* ------------------------------------------------------------------ targets */

/* Prints "-> name = value (goal ...): met|missed" now, and keeps the line
 * "TARGET name value goal met|missed" for targets_print(). */
void target(const char *name, double value, double goal, int higher_is_better);
void targets_print(void);
/* Prints the summary: total time since t0 (now_ns) and every TARGET line; returns 0. */
int bench_finish(uint64_t t0);

/* ------------------------------------------------------------------ ember */

ember_db *open_db(int mode);
/* A copy of the INFO text of `section` (free()), NULL on failure. */
char *info_text(ember_db *db, const char *section);
/* The numeric field `name` of INFO text (Redis's "name:value\r\n" lines); 0 if absent. */
uint64_t info_field(const char *text, const char *name);
uint64_t ember_used_memory(ember_db *db);
void resetstat(ember_db *db);
/* Runs a command and maps its reply to a status: a Redis error becomes its
 * EMBER_E* code, a nil reply EMBER_ENOTFOUND. *ival (may be NULL) receives
 * the integer of an integer reply. */
int cmd_status(ember_db *db, size_t argc, const char *const *argv, const size_t *lens,
               int64_t *ival);

/* ------------------------------------------------------------------ redis */

/* The redis-server child (-1: none) and its port. */
extern volatile pid_t g_redis_pid;
extern int g_redis_port;

/* Starts redis-server on a free loopback port (--save '' --appendonly no);
 * returns the port or -1. */
int redis_start(void);
/* The same with more arguments (NULL-terminated, may be NULL; a later --dir
 * overrides /tmp), waiting up to wait_s seconds for +PONG (a server loading
 * its dataset answers -LOADING until it is done). */
int redis_start_args(const char *const *extra, double wait_s);
/* Stops it (SIGTERM, then SIGKILL); safe to call when none runs. */
void redis_stop(void);
/* Kills the redis child on fatal signals and at exit; ignores SIGPIPE. */
void redis_install_cleanup(void);
/* Starts redis-server into g_redis_port / g_redis_pid and says so (or warns). */
void redis_begin(void);

int tcp_connect(int port);
int write_all(int fd, const char *p, size_t n);

/* A minimal RESP client: buffered reader over a socket. */
typedef struct resp {
    int fd;
    char buf[65536];
    size_t pos, len;
} resp;

/* Connects to the benchmark's redis-server; NULL if none answers. Free with resp_close. */
resp *resp_open(int port);
void resp_close(resp *c);
int resp_fill(resp *c);
/* Reads one line (without CRLF) into out (truncated to cap). */
int resp_line(resp *c, char *out, size_t cap);
/* Encodes a command as an array of bulk strings into out (caller sizes it:
 * resp_encoded_max). Returns the bytes written. */
size_t resp_encode(char *out, size_t argc, const char *const *argv, const size_t *lens);
size_t resp_encoded_max(size_t argc, const size_t *lens);
/* Reads and discards one reply of any shape; *is_error set for an error
 * reply. 0, or -1 on I/O failure. */
int resp_skip(resp *c, int *is_error);
/* Sends a command (NUL-terminated arguments) and returns its reply as text
 * (bulk body, status or error line, or the integer), malloc'd; NULL on I/O
 * failure. */
char *resp_call(resp *c, size_t argc, const char *const *argv);
uint64_t redis_used_memory(resp *c);

/* Pipelined loading: commands are buffered and sent in chunks; the replies
 * of a chunk are read (and checked for errors) before the next is sent. */
typedef struct resp_pipe {
    resp *c;
    char *buf;
    size_t len, cap, pending;
    uint64_t errors; /* error replies */
    int failed;      /* I/O failure: everything after it was dropped */
} resp_pipe;

void resp_pipe_init(resp_pipe *p, resp *c);
void resp_pipe_add(resp_pipe *p, size_t argc, const char *const *argv, const size_t *lens);
/* Sends what is buffered and reads its replies; 0 or -1 (I/O). */
int resp_pipe_flush(resp_pipe *p);
/* Flushes and frees the buffer; returns errors + (failed ? 1 : 0). */
uint64_t resp_pipe_finish(resp_pipe *p);

/* Runs `redis-benchmark -h 127.0.0.1 -p <port> --csv <args>` and collects
 * the requests per second of each result row: names[i] (the test name, or
 * the command line for a custom command; may be NULL) and rps[i]. Returns
 * the number of rows (at most max), or -1 if the program failed. */
int redis_benchmark_csv(int port, const char *args, size_t max, char (*names)[64], double *rps);

#endif
