/*
 * raw_conn.c — see raw_conn.h.
 */
#include "raw_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int tc_raw_open(tc_raw *c, int port, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        errno = e;
        return -1;
    }
    if (timeout_ms <= 0)
        timeout_ms = 10000;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return 0;
}

void tc_raw_close(tc_raw *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

int tc_raw_send(tc_raw *c, const void *p, size_t n)
{
    return tc_raw_send_reading(c, p, n);
}

int tc_raw_sends(tc_raw *c, const char *s)
{
    return tc_raw_send(c, s, strlen(s));
}

/*
 * A reply is a header line (type byte, text, CRLF); blob types ($ ! =)
 * follow it with <length> bytes and a CRLF, aggregates (* ~ > |, and % with
 * two replies per entry) with <count> replies. A negative length or count is
 * a RESP2 null: the header alone. The recursion is bounded by the input
 * (each level consumes a header line).
 */
size_t tc_resp_frame_len(const char *p, size_t n)
{
    const char *nl = n ? memchr(p, '\n', n) : NULL;
    if (!nl)
        return 0;
    size_t head = (size_t)(nl - p) + 1;
    long long v = strtoll(p + 1, NULL, 10);
    switch (p[0]) {
    case '$':
    case '!':
    case '=':
        if (v < 0)
            return head;
        return n - head >= (size_t)v + 2 ? head + (size_t)v + 2 : 0;
    case '*':
    case '~':
    case '%':
    case '>':
    case '|': {
        if (v < 0)
            return head;
        unsigned long long items = (unsigned long long)v * (p[0] == '%' || p[0] == '|' ? 2 : 1);
        size_t off = head;
        for (unsigned long long i = 0; i < items; i++) {
            size_t e = tc_resp_frame_len(p + off, n - off);
            if (!e)
                return 0;
            off += e;
        }
        return off;
    }
    default:
        return head;
    }
}

/* Room for at least 64 KiB more. */
static void reserve(tc_raw *c)
{
    if (c->cap - c->len >= 65536)
        return;
    size_t cap = c->cap ? c->cap * 2 : 131072;
    char *p = realloc(c->buf, cap);
    if (!p)
        abort();
    c->buf = p;
    c->cap = cap;
}

int tc_raw_send_reading(tc_raw *c, const void *p, size_t n)
{
    const char *q = p;
    while (n) {
        struct pollfd pf = {c->fd, POLLIN | POLLOUT, 0};
        int pr = poll(&pf, 1, 10000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        if (pf.revents & POLLIN) {
            reserve(c);
            ssize_t rd = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
            if (rd == 0)
                return -1;
            if (rd > 0)
                c->len += (size_t)rd;
        }
        if (pf.revents & (POLLERR | POLLHUP))
            return -1;
        if (!(pf.revents & POLLOUT))
            continue;
        ssize_t w = send(c->fd, q, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (w <= 0)
            return -1;
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

char *tc_raw_read_reply(tc_raw *c, size_t *len)
{
    for (;;) {
        size_t n = tc_resp_frame_len(c->buf, c->len);
        if (n) {
            char *r = malloc(n + 1);
            if (!r)
                abort();
            memcpy(r, c->buf, n);
            r[n] = '\0';
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            if (len)
                *len = n;
            return r;
        }
        reserve(c);
        ssize_t rd = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (rd < 0 && errno == EINTR)
            continue;
        if (rd <= 0)
            return NULL;
        c->len += (size_t)rd;
    }
}

int tc_raw_wait_closed(tc_raw *c)
{
    char b[4096];
    for (;;) {
        ssize_t rd = recv(c->fd, b, sizeof b, 0);
        if (rd == 0)
            return 1;
        if (rd < 0 && errno == EINTR)
            continue;
        if (rd < 0)
            return errno == ECONNRESET;
    }
}
