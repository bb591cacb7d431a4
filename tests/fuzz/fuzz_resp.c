/*
 * fuzz_resp.c — libFuzzer target for the RESP server (lib/server/server.c:
 * multibulk and inline parsing, the protocol limits, pipelining, the reply
 * FIFO, connection commands), through a real socket.
 *
 * One database and one server for the whole run. Each input is written on a
 * fresh connection, which is then half-closed; the harness reads until the
 * server closes it (it does at end of input, after a protocol error or a
 * QUIT). Then a control connection checks that the server still answers
 * PING and flushes every database, so inputs do not pile up keys. ASan and
 * UBSan watch the rest. CONFIG SET from an input does persist into later
 * inputs: a crash found that way may need its predecessors to reproduce.
 * Built with -DEMBER_FUZZ=ON and clang (see tests/CMakeLists.txt); seeds in
 * tests/fuzz/corpus_resp/.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ember.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ember_db *g_db;
static ember_server *g_srv;
static int g_port;
static int g_ctl = -1;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        abort();
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *q = p;
    while (n) {
        ssize_t w = send(fd, q, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the server closed first (a protocol error): fine */
        q += w;
        n -= (size_t)w;
    }
}

/* Reads one reply line from the control connection and checks it. */
static void ctl_expect(const char *req, const char *want)
{
    send_all(g_ctl, req, strlen(req));
    char buf[64];
    size_t got = 0, n = strlen(want);
    while (got < n) {
        ssize_t rd = recv(g_ctl, buf + got, n - got, 0);
        if (rd <= 0) {
            fprintf(stderr, "fuzz_resp: the server stopped answering\n");
            abort();
        }
        got += (size_t)rd;
    }
    if (memcmp(buf, want, n) != 0) {
        fprintf(stderr, "fuzz_resp: unexpected control reply\n");
        abort();
    }
}

static void setup(void)
{
    if (ember_db_open(NULL, &g_db) != EMBER_OK ||
        ember_server_start(g_db, "127.0.0.1", 0, 0, &g_srv) != EMBER_OK)
        abort();
    g_port = ember_server_port(g_srv);
    g_ctl = dial();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_srv)
        setup();
    int fd = dial();
    send_all(fd, data, size);
    shutdown(fd, SHUT_WR);
    char buf[65536];
    for (;;) {
        ssize_t rd = recv(fd, buf, sizeof buf, 0);
        if (rd < 0 && errno == EINTR)
            continue;
        if (rd <= 0)
            break;
    }
    close(fd);
    ctl_expect("PING\r\n", "+PONG\r\n");
    ctl_expect("FLUSHALL\r\n", "+OK\r\n");
    return 0;
}
