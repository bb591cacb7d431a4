/*
 * bench_util.c — shared benchmark helpers (see bench_util.h).
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif

const char *bench_prog = "bench";

/* ------------------------------------------------------------------ basics */

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s failed: %s\n", bench_prog, what,
            rc ? ember_strerror(rc) : strerror(errno));
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", bench_prog, n);
        exit(1);
    }
    return p;
}

static size_t fmt_digits(char *buf, const char *prefix, size_t n, size_t min_digits)
{
    char tmp[24];
    size_t l = 0, p = strlen(prefix);
    do {
        tmp[l++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (l < min_digits)
        tmp[l++] = '0';
    memcpy(buf, prefix, p);
    for (size_t i = 0; i < l; i++)
        buf[p + i] = tmp[l - 1 - i];
    buf[p + l] = '\0';
    return p + l;
}

size_t fmt_key(char *buf, const char *prefix, size_t n)
{
    return fmt_digits(buf, prefix, n, 1);
}

size_t fmt_key12(char *buf, const char *prefix, size_t n)
{
    return fmt_digits(buf, prefix, n, 12);
}

int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void fmt_rate(char *buf, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
}

const char *bench_build_type(void)
{
    return BENCH_BUILD_TYPE;
}

void print_machine(void)
{
    char model[128] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon) {
                colon += 1 + (colon[1] == ' ');
                snprintf(model, sizeof model, "%s", colon);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    printf("machine: %s, %ld CPUs online; ember %s, build type %s\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), ember_version(), bench_build_type());
}

/* ------------------------------------------------------------------ command line */

static const char *g_only;

void bench_parse_args(int argc, char **argv, const char *sections, bench_opts *o)
{
    o->quick = 0;
    o->redis = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            o->quick = 1;
        else if (strcmp(argv[i], "--no-redis") == 0)
            o->redis = 0;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            g_only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--no-redis] [--only %s]\n", argv[0], sections);
            exit(2);
        }
    }
}

int want(const char *section)
{
    if (!g_only)
        return 1;
    size_t n = strlen(section);
    for (const char *p = g_only; (p = strstr(p, section)) != NULL; p += n) {
        if ((p == g_only || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ noise */

void cpu_snap_take(cpu_snap *c)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) != 8)
            memset(v, 0, sizeof v);
        fclose(f);
    }
    /* user nice system idle iowait irq softirq steal */
    c->busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
    struct rusage a, b;
    getrusage(RUSAGE_SELF, &a);
    getrusage(RUSAGE_CHILDREN, &b);
    c->own_s =
        (double)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) +
        (double)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec +
                 b.ru_stime.tv_usec) /
            1e6;
    c->t_ns = now_ns();
}

void noise_report(const cpu_snap *a)
{
    cpu_snap b;
    cpu_snap_take(&b);
    double el = (double)(b.t_ns - a->t_ns) / 1e9;
    double other = ((b.busy_s - a->busy_s) - (b.own_s - a->own_s)) / el;
    char la[64] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(la, sizeof la, f))
            strcpy(la, "?");
        fclose(f);
        la[strcspn(la, "\n")] = '\0';
    }
    printf("  [noise: %.1f s; other processes used %.2f of the %ld CPUs; loadavg %s]\n", el,
           other < 0 ? 0.0 : other, sysconf(_SC_NPROCESSORS_ONLN), la);
}

void run_section(void (*fn)(void))
{
    cpu_snap cs;
    cpu_snap_take(&cs);
    fn();
    noise_report(&cs);
}

/* ------------------------------------------------------------------ targets */

#define MAX_TARGETS 48
static char g_targets[MAX_TARGETS][160];
static int g_ntargets;

void target(const char *name, double value, double goal, int higher_is_better)
{
    int met = higher_is_better ? value >= goal : value <= goal;
    printf("-> %s = %.3f (goal %s %g): %s\n", name, value, higher_is_better ? ">=" : "<=", goal,
           met ? "met" : "missed");
    if (g_ntargets < MAX_TARGETS)
        snprintf(g_targets[g_ntargets++], sizeof g_targets[0], "TARGET %s %.3f %g %s", name, value,
                 goal, met ? "met" : "missed");
    fflush(stdout);
}

void targets_print(void)
{
    for (int i = 0; i < g_ntargets; i++)
        printf("%s\n", g_targets[i]);
}

int bench_finish(uint64_t t0)
{
    printf("\n== Summary (%.1f s)\n", (double)(now_ns() - t0) / 1e9);
    targets_print();
    return 0;
}

/* ------------------------------------------------------------------ ember */

ember_db *open_db(int mode)
{
    ember_config *cfg;
    ember_db *db;
    int rc = ember_config_new(&cfg);
    if (rc)
        die("ember_config_new", rc);
    if ((rc = ember_config_set_mode(cfg, mode)) != 0)
        die("ember_config_set_mode", rc);
    if ((rc = ember_db_open(cfg, &db)) != 0)
        die("ember_db_open", rc);
    ember_config_free(cfg);
    return db;
}

char *info_text(ember_db *db, const char *section)
{
    const char *argv[2] = {"INFO", section};
    ember_reply *r;
    if (ember_command(db, 2, argv, NULL, &r) != EMBER_OK)
        return NULL;
    size_t len;
    const char *s = ember_reply_str(r, &len);
    char *copy = NULL;
    if (s && ember_reply_type(r) == EMBER_REPLY_STRING) {
        copy = xmalloc(len + 1);
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    ember_reply_free(r);
    return copy;
}

uint64_t info_field(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ':')
            return strtoull(p + n + 1, NULL, 10);
    }
    return 0;
}

uint64_t ember_used_memory(ember_db *db)
{
    char *t = info_text(db, "memory");
    uint64_t v = t ? info_field(t, "used_memory") : 0;
    free(t);
    return v;
}

void resetstat(ember_db *db)
{
    const char *argv[2] = {"CONFIG", "RESETSTAT"};
    ember_reply *r;
    if (ember_command(db, 2, argv, NULL, &r) == EMBER_OK)
        ember_reply_free(r);
}

int cmd_status(ember_db *db, size_t argc, const char *const *argv, const size_t *lens,
               int64_t *ival)
{
    ember_reply *r;
    int rc = ember_command(db, argc, argv, lens, &r);
    if (rc)
        return rc;
    int t = ember_reply_type(r);
    rc = t == EMBER_REPLY_ERROR ? ember_reply_error_code(r)
                                : (t == EMBER_REPLY_NIL ? EMBER_ENOTFOUND : EMBER_OK);
    if (ival)
        *ival = ember_reply_integer(r);
    ember_reply_free(r);
    return rc;
}

/* ------------------------------------------------------------------ redis */

volatile pid_t g_redis_pid = -1;
int g_redis_port = -1;

void redis_stop(void)
{
    pid_t pid = g_redis_pid;
    if (pid <= 0)
        return;
    g_redis_pid = -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        sleep_ns(10000000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void on_signal(int sig)
{
    pid_t pid = g_redis_pid;
    if (pid > 0)
        kill(pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

void redis_install_cleanup(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_signal);
    signal(SIGPIPE, SIG_IGN);
    atexit(redis_stop);
}

void redis_begin(void)
{
    g_redis_port = redis_start();
    if (g_redis_port < 0)
        printf("warning: could not start redis-server\n");
    else
        printf("redis-server started on 127.0.0.1:%d (pid %d)\n", g_redis_port, (int)g_redis_pid);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

resp *resp_open(int port)
{
    int fd = port > 0 ? tcp_connect(port) : -1;
    if (fd < 0)
        return NULL;
    resp *c = xmalloc(sizeof *c);
    c->fd = fd;
    c->pos = c->len = 0;
    return c;
}

void resp_close(resp *c)
{
    if (!c)
        return;
    close(c->fd);
    free(c);
}

int resp_fill(resp *c)
{
    if (c->pos < c->len)
        return 0;
    ssize_t n;
    do {
        n = read(c->fd, c->buf, sizeof c->buf);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    c->pos = 0;
    c->len = (size_t)n;
    return 0;
}

int resp_line(resp *c, char *out, size_t cap)
{
    size_t o = 0;
    for (;;) {
        if (resp_fill(c))
            return -1;
        char ch = c->buf[c->pos++];
        if (ch == '\n') {
            if (o && out[o - 1] == '\r')
                o--;
            out[o < cap ? o : cap - 1] = '\0';
            return 0;
        }
        if (o + 1 < cap)
            out[o++] = ch;
    }
}

int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

size_t resp_encoded_max(size_t argc, const size_t *lens)
{
    size_t n = 24;
    for (size_t i = 0; i < argc; i++)
        n += lens[i] + 26;
    return n;
}

size_t resp_encode(char *out, size_t argc, const char *const *argv, const size_t *lens)
{
    size_t o = (size_t)sprintf(out, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++) {
        o += (size_t)sprintf(out + o, "$%zu\r\n", lens[i]);
        memcpy(out + o, argv[i], lens[i]);
        o += lens[i];
        out[o++] = '\r';
        out[o++] = '\n';
    }
    return o;
}

/* Skips n bytes of payload plus the CRLF after it. */
static int resp_skip_bytes(resp *c, size_t n)
{
    while (n) {
        if (resp_fill(c))
            return -1;
        size_t take = c->len - c->pos < n ? c->len - c->pos : n;
        c->pos += take;
        n -= take;
    }
    return 0;
}

int resp_skip(resp *c, int *is_error)
{
    char line[256];
    if (resp_line(c, line, sizeof line))
        return -1;
    long n = strtol(line + 1, NULL, 10);
    switch (line[0]) {
    case '-':
        *is_error = 1;
        return 0;
    case '$':
        return n < 0 ? 0 : resp_skip_bytes(c, (size_t)n + 2);
    case '*':
    case '~':
    case '%':
        if (line[0] == '%')
            n *= 2;
        for (long i = 0; i < n; i++) {
            int e = 0;
            if (resp_skip(c, &e))
                return -1;
        }
        return 0;
    default:
        return 0;
    }
}

char *resp_call(resp *c, size_t argc, const char *const *argv)
{
    char out[1024];
    size_t lens[8];
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    size_t n = resp_encode(out, argc, argv, lens);
    if (write_all(c->fd, out, n))
        return NULL;
    char line[256];
    if (resp_line(c, line, sizeof line))
        return NULL;
    if (line[0] != '$')
        return strdup(line);
    long len = strtol(line + 1, NULL, 10);
    if (len < 0)
        return strdup("(nil)");
    char *body = xmalloc((size_t)len + 3);
    for (long i = 0; i < len + 2; i++) {
        if (resp_fill(c)) {
            free(body);
            return NULL;
        }
        body[i] = c->buf[c->pos++];
    }
    body[len] = '\0';
    return body;
}

uint64_t redis_used_memory(resp *c)
{
    const char *argv[2] = {"INFO", "memory"};
    char *t = resp_call(c, 2, argv);
    uint64_t v = t ? info_field(t, "used_memory") : 0;
    free(t);
    return v;
}

/* Chunks stay well below the socket buffers' reply side: replies to loading
 * commands are a few bytes each, so redis never blocks writing them while we
 * are still writing the chunk. */
#define PIPE_MAX_CMDS 2000
#define PIPE_MAX_BYTES (1u << 20)

void resp_pipe_init(resp_pipe *p, resp *c)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    p->cap = PIPE_MAX_BYTES;
    p->buf = xmalloc(p->cap);
}

int resp_pipe_flush(resp_pipe *p)
{
    if (p->failed)
        return -1;
    if (p->len && write_all(p->c->fd, p->buf, p->len))
        p->failed = 1;
    for (size_t i = 0; !p->failed && i < p->pending; i++) {
        int e = 0;
        if (resp_skip(p->c, &e))
            p->failed = 1;
        p->errors += (uint64_t)e;
    }
    p->len = p->pending = 0;
    return p->failed ? -1 : 0;
}

void resp_pipe_add(resp_pipe *p, size_t argc, const char *const *argv, const size_t *lens)
{
    size_t need = resp_encoded_max(argc, lens);
    if (p->len + need > p->cap || p->pending >= PIPE_MAX_CMDS)
        resp_pipe_flush(p);
    if (need > p->cap) {
        free(p->buf);
        p->cap = need;
        p->buf = xmalloc(p->cap);
    }
    if (p->failed)
        return;
    p->len += resp_encode(p->buf + p->len, argc, argv, lens);
    p->pending++;
}

uint64_t resp_pipe_finish(resp_pipe *p)
{
    resp_pipe_flush(p);
    free(p->buf);
    p->buf = NULL;
    return p->errors + (p->failed ? 1 : 0);
}

int redis_start(void)
{
    return redis_start_args(NULL, 5.0);
}

int redis_start_args(const char *const *extra, double wait_s)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int port = free_port();
        if (port <= 0)
            return -1;
        char ports[16];
        snprintf(ports, sizeof ports, "%d", port);
        pid_t pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
            int dn = open("/dev/null", O_RDWR);
            if (dn >= 0) {
                dup2(dn, 0);
                dup2(dn, 1);
                dup2(dn, 2);
            }
            const char *args[64] = {
                "redis-server", "--port", ports,         "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no",     "--daemonize", "no",     "--dir",     "/tmp"};
            size_t n = 13;
            for (size_t i = 0; extra && extra[i] && n < 63; i++)
                args[n++] = extra[i];
            args[n] = NULL;
            execvp("redis-server", (char *const *)args);
            _exit(127);
        }
        g_redis_pid = pid;
        /* Polls every 10 ms; a server still loading its file answers -LOADING. */
        for (int i = 0; i < (int)(wait_s * 100); i++) {
            int fd = tcp_connect(port);
            if (fd >= 0) {
                resp c = {.fd = fd};
                const char *argv[1] = {"PING"};
                char *r = resp_call(&c, 1, argv);
                int ok = r && strcmp(r, "+PONG") == 0;
                free(r);
                close(fd);
                if (ok)
                    return port;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid) {
                g_redis_pid = -1;
                break; /* died (port taken?): try another port */
            }
            sleep_ns(10000000);
        }
        redis_stop();
    }
    return -1;
}

int redis_benchmark_csv(int port, const char *args, size_t max, char (*names)[64], double *rps)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "redis-benchmark -h 127.0.0.1 -p %d --csv %s 2>/dev/null", port,
             args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[1024];
    size_t rows = 0;
    while (fgets(line, sizeof line, f)) {
        /* "name","rps",...; the header row's rps column is "rps" */
        char *q1 = line[0] == '"' ? strstr(line + 1, "\",\"") : NULL;
        if (!q1 || rows >= max)
            continue;
        double v = strtod(q1 + 3, NULL);
        if (v <= 0)
            continue;
        if (names) {
            size_t nl = (size_t)(q1 - (line + 1));
            nl = nl < 63 ? nl : 63;
            memcpy(names[rows], line + 1, nl);
            names[rows][nl] = '\0';
        }
        rps[rows++] = v;
    }
    int st = pclose(f);
    return st == 0 ? (int)rows : -1;
}
