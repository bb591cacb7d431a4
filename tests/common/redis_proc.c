/*
 * redis_proc.c — start, probe and stop a private redis-server.
 */
#include "redis_proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TC_MAX_SERVERS 16

/* Servers still running, stopped at exit even if a test failed half-way. */
static struct {
    pid_t pid;
    char dir[256];
} running[TC_MAX_SERVERS];
static int atexit_installed;

static void errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remove_dir(const char *dir)
{
    if (!dir[0])
        return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Sends SIGTERM, waits up to 5 s, then SIGKILL. */
static void kill_and_reap(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int64_t deadline = mono_ms() + 5000;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            return;
        if (mono_ms() > deadline)
            break;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

static void stop_all_at_exit(void)
{
    for (int i = 0; i < TC_MAX_SERVERS; i++) {
        if (running[i].pid > 0) {
            kill_and_reap(running[i].pid);
            remove_dir(running[i].dir);
            running[i].pid = 0;
        }
    }
}

static void track(const tc_redis *r)
{
    if (!atexit_installed) {
        atexit(stop_all_at_exit);
        atexit_installed = 1;
    }
    for (int i = 0; i < TC_MAX_SERVERS; i++) {
        if (running[i].pid == 0) {
            running[i].pid = r->pid;
            snprintf(running[i].dir, sizeof running[i].dir, "%s", r->dir);
            return;
        }
    }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < TC_MAX_SERVERS; i++)
        if (running[i].pid == pid)
            running[i].pid = 0;
}

static int is_exec(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

const char *tc_redis_find_server(void)
{
    static char found[1024];
    const char *env = getenv("EMBER_REDIS_SERVER");
    if (env && env[0])
        return is_exec(env) ? env : NULL;
    const char *path = getenv("PATH");
    if (path) {
        const char *p = path;
        while (*p) {
            const char *end = strchr(p, ':');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            if (n > 0 && n < sizeof found - 16) {
                snprintf(found, sizeof found, "%.*s/redis-server", (int)n, p);
                if (is_exec(found))
                    return found;
            }
            if (!end)
                break;
            p = end + 1;
        }
    }
    static const char *const usual[] = {"/usr/bin/redis-server", "/usr/local/bin/redis-server",
                                        "/usr/sbin/redis-server"};
    for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++)
        if (is_exec(usual[i]))
            return usual[i];
    return NULL;
}

/* A port that was free a moment ago: bind port 0 and read what we got. */
static int pick_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t sl = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* 1 if the server on `port` answers PING with +PONG. */
static int ping_ok(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        if (write(fd, ping, sizeof ping - 1) == (ssize_t)(sizeof ping - 1)) {
            char buf[64];
            size_t got = 0;
            while (got < 7) {
                ssize_t n = read(fd, buf + got, sizeof buf - got);
                if (n <= 0)
                    break;
                got += (size_t)n;
            }
            ok = got >= 7 && memcmp(buf, "+PONG\r\n", 7) == 0;
        }
    }
    close(fd);
    return ok;
}

/* The last part of the server's log, for error messages. */
static void log_tail(const char *dir, char *out, size_t cap)
{
    out[0] = '\0';
    char path[512];
    snprintf(path, sizeof path, "%s/redis.log", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    long from = sz > (long)cap - 1 ? sz - (long)cap + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* One attempt on one port: 0 started, 1 retry on another port, -1 fatal. */
static int start_once(tc_redis *r, const char *server, const char *const *extra, char *err,
                      size_t errcap)
{
    int port = pick_port();
    if (port <= 0) {
        errf(err, errcap, "cannot find a free TCP port on 127.0.0.1: %s", strerror(errno));
        return -1;
    }
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *argv[64];
    size_t n = 0;
    argv[n++] = server;
    argv[n++] = "--port";
    argv[n++] = portstr;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = r->dir;
    argv[n++] = "--logfile";
    argv[n++] = "";
    for (size_t i = 0; extra && extra[i] && n < 63; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s/redis.log", r->dir);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        errf(err, errcap, "fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* The child: die with the test process, log to a file, exec. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        execv(server, (char *const *)argv);
        static const char msg[] = "redis_proc: execv of redis-server failed\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    r->pid = pid;
    r->port = port;
    track(r);
    int64_t deadline = mono_ms() + 10000;
    while (mono_ms() < deadline) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            untrack(pid);
            r->pid = 0;
            char tail[1024];
            log_tail(r->dir, tail, sizeof tail);
            if (strstr(tail, "Address already in use"))
                return 1;
            errf(err, errcap, "redis-server (%s) exited during startup (status %d); log:\n%s",
                 server, WIFEXITED(st) ? WEXITSTATUS(st) : -1, tail);
            return -1;
        }
        if (ping_ok(port))
            return 0;
        sleep_ms(20);
    }
    char tail[1024];
    log_tail(r->dir, tail, sizeof tail);
    kill_and_reap(pid);
    untrack(pid);
    r->pid = 0;
    errf(err, errcap, "redis-server (%s) did not answer PING on port %d within 10 s; log:\n%s",
         server, port, tail);
    return -1;
}

int tc_redis_start(tc_redis *r, const char *const *extra_args, char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    const char *server = tc_redis_find_server();
    if (!server) {
        errf(err, errcap,
             "redis-server not found (looked at $EMBER_REDIS_SERVER, $PATH, /usr/bin, "
             "/usr/local/bin): install the redis-server package (Redis 7.0) to run the "
             "differential tests");
        return -1;
    }
    snprintf(r->dir, sizeof r->dir, "/tmp/ember-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        errf(err, errcap, "mkdtemp failed: %s", strerror(errno));
        r->dir[0] = '\0';
        return -1;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        int rc = start_once(r, server, extra_args, err, errcap);
        if (rc == 0)
            return 0;
        if (rc < 0)
            break;
        errf(err, errcap, "no free port after %d attempts", attempt + 1);
    }
    remove_dir(r->dir);
    r->dir[0] = '\0';
    return -1;
}

void tc_redis_stop(tc_redis *r)
{
    if (!r)
        return;
    if (r->pid > 0) {
        kill_and_reap(r->pid);
        untrack(r->pid);
        r->pid = 0;
    }
    remove_dir(r->dir);
    r->dir[0] = '\0';
}
