/*
 * resp_client.c — blocking RESP2/RESP3 client: requests, reply parser, renderer.
 */
#include "resp_client.h"

#include "raw_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tc_conn {
    int fd;
    tc_buf out;
    char *in;
    size_t in_pos, in_len, in_cap;
    char err[256];
};

/* ------------------------------------------------------------ buffers */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "resp_client: out of memory\n");
        abort();
    }
    return q;
}

void tc_buf_put(tc_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->len + n + 1)
            nc *= 2;
        b->p = xrealloc(b->p, nc);
        b->cap = nc;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void tc_buf_puts(tc_buf *b, const char *s)
{
    tc_buf_put(b, s, strlen(s));
}

void tc_buf_printf(tc_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        tc_buf_put(b, tmp, (size_t)n);
        return;
    }
    char *big = xrealloc(NULL, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    tc_buf_put(b, big, (size_t)n);
    free(big);
}

void tc_buf_quote(tc_buf *b, const void *p, size_t n)
{
    const unsigned char *s = p;
    tc_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        switch (ch) {
        case '\\':
            tc_buf_puts(b, "\\\\");
            break;
        case '"':
            tc_buf_puts(b, "\\\"");
            break;
        case '\n':
            tc_buf_puts(b, "\\n");
            break;
        case '\r':
            tc_buf_puts(b, "\\r");
            break;
        case '\t':
            tc_buf_puts(b, "\\t");
            break;
        default:
            if (ch < 0x20 || ch >= 0x7f)
                tc_buf_printf(b, "\\x%02x", ch);
            else
                tc_buf_put(b, &ch, 1);
        }
    }
    tc_buf_put(b, "\"", 1);
}

void tc_buf_free(tc_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

const char *tc_buf_cstr(tc_buf *b)
{
    if (!b->p)
        tc_buf_put(b, "", 0);
    return b->p;
}

/* ------------------------------------------------------------ connection */

tc_conn *tc_conn_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tc_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    return c;
}

void tc_conn_close(tc_conn *c)
{
    if (!c)
        return;
    close(c->fd);
    tc_buf_free(&c->out);
    free(c->in);
    free(c);
}

const char *tc_conn_error(const tc_conn *c)
{
    return c->err;
}

void tc_buf_command(tc_buf *b, size_t argc, const char *const *argv, const size_t *argvlen)
{
    tc_buf_printf(b, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        tc_buf_printf(b, "$%zu\r\n", n);
        tc_buf_put(b, argv[i], n);
        tc_buf_put(b, "\r\n", 2);
    }
}

void tc_conn_append(tc_conn *c, size_t argc, const char *const *argv, const size_t *argvlen)
{
    tc_buf_command(&c->out, argc, argv, argvlen);
}

int tc_conn_flush(tc_conn *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = write(c->fd, c->out.p + off, c->out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(c->err, sizeof c->err, "write: %s", strerror(errno));
            return -1;
        }
        off += (size_t)n;
    }
    c->out.len = 0;
    return 0;
}

/* Makes at least `need` unread bytes available. */
static int fill(tc_conn *c, size_t need)
{
    while (c->in_len - c->in_pos < need) {
        if (c->in_pos > 0) {
            memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
            c->in_len -= c->in_pos;
            c->in_pos = 0;
        }
        if (c->in_cap < need + 4096) {
            size_t nc = c->in_cap ? c->in_cap * 2 : 16384;
            while (nc < need + 4096)
                nc *= 2;
            c->in = xrealloc(c->in, nc);
            c->in_cap = nc;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(c->err, sizeof c->err, "read: %s",
                     n == 0 ? "connection closed" : strerror(errno));
            return -1;
        }
        c->in_len += (size_t)n;
    }
    return 0;
}

/* Reads a line ending in CRLF; *line points into the buffer (not NUL-ended). */
static int read_line(tc_conn *c, const char **line, size_t *len)
{
    size_t scanned = 0;
    for (;;) {
        const char *start = c->in + c->in_pos;
        size_t avail = c->in_len - c->in_pos;
        for (size_t i = scanned; i + 1 < avail; i++) {
            if (start[i] == '\r' && start[i + 1] == '\n') {
                *line = start;
                *len = i;
                c->in_pos += i + 2;
                return 0;
            }
        }
        scanned = avail ? avail - 1 : 0;
        if (fill(c, avail + 1) != 0)
            return -1;
    }
}

static int parse_ll(const char *p, size_t n, long long *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static tc_resp *new_resp(int type)
{
    tc_resp *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->type = type;
    return r;
}

static void set_str(tc_resp *r, const char *p, size_t n)
{
    r->str = xrealloc(NULL, n + 1);
    if (n)
        memcpy(r->str, p, n);
    r->str[n] = '\0';
    r->len = n;
}

static tc_resp *parse(tc_conn *c, int depth);

static tc_resp *parse_aggregate(tc_conn *c, int type, size_t count, int depth)
{
    tc_resp *r = new_resp(type);
    r->n = count;
    r->elem = count ? xrealloc(NULL, count * sizeof *r->elem) : NULL;
    for (size_t i = 0; i < count; i++) {
        r->elem[i] = parse(c, depth + 1);
        if (!r->elem[i]) {
            r->n = i;
            tc_resp_free(r);
            return NULL;
        }
    }
    return r;
}

static tc_resp *parse(tc_conn *c, int depth)
{
    const char *line;
    size_t len;
    if (depth > 64) {
        snprintf(c->err, sizeof c->err, "reply nested too deeply");
        return NULL;
    }
    if (read_line(c, &line, &len) != 0)
        return NULL;
    if (len == 0) {
        snprintf(c->err, sizeof c->err, "protocol error: empty line");
        return NULL;
    }
    char t = line[0];
    const char *body = line + 1;
    size_t blen = len - 1;
    long long n;
    tc_resp *r;
    switch (t) {
    case '+':
    case '-':
    case ',':
    case '(':
        r = new_resp(t);
        set_str(r, body, blen);
        return r;
    case ':':
        if (parse_ll(body, blen, &n) != 0)
            break;
        r = new_resp(TC_RESP_INTEGER);
        r->integer = n;
        return r;
    case '_':
        if (blen != 0)
            break;
        r = new_resp(TC_RESP_NIL);
        r->null_kind = '_';
        return r;
    case '#':
        if (blen != 1 || (body[0] != 't' && body[0] != 'f'))
            break;
        r = new_resp(TC_RESP_BOOL);
        r->integer = body[0] == 't';
        return r;
    case '$':
    case '!':
    case '=':
        if (parse_ll(body, blen, &n) != 0 || n < -1)
            break;
        if (n == -1) {
            if (t != '$')
                break;
            r = new_resp(TC_RESP_NIL);
            r->null_kind = '$';
            return r;
        }
        if (fill(c, (size_t)n + 2) != 0)
            return NULL;
        if (memcmp(c->in + c->in_pos + n, "\r\n", 2) != 0) {
            snprintf(c->err, sizeof c->err, "protocol error: bulk not ended by CRLF");
            return NULL;
        }
        r = new_resp(t);
        set_str(r, c->in + c->in_pos, (size_t)n);
        c->in_pos += (size_t)n + 2;
        return r;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|':
        if (parse_ll(body, blen, &n) != 0 || n < -1)
            break;
        if (n == -1) {
            if (t != '*')
                break;
            r = new_resp(TC_RESP_NIL);
            r->null_kind = '*';
            return r;
        }
        if (t == '|') {
            /* An attribute: parse and drop it, the reply follows. */
            tc_resp *attr = parse_aggregate(c, TC_RESP_MAP, (size_t)n * 2, depth);
            if (!attr)
                return NULL;
            tc_resp_free(attr);
            return parse(c, depth);
        }
        return parse_aggregate(c, t, t == '%' ? (size_t)n * 2 : (size_t)n, depth);
    default:
        break;
    }
    snprintf(c->err, sizeof c->err, "protocol error: unexpected line \"%.*s\"",
             (int)(len > 60 ? 60 : len), line);
    return NULL;
}

tc_resp *tc_conn_read(tc_conn *c)
{
    if (c->out.len && tc_conn_flush(c) != 0)
        return NULL;
    return parse(c, 0);
}

char *tc_conn_read_raw(tc_conn *c, size_t *len)
{
    if (c->out.len && tc_conn_flush(c) != 0)
        return NULL;
    for (;;) {
        size_t avail = c->in_len - c->in_pos;
        size_t n = tc_resp_frame_len(c->in + c->in_pos, avail);
        if (n) {
            char *r = xrealloc(NULL, n + 1);
            memcpy(r, c->in + c->in_pos, n);
            r[n] = '\0';
            c->in_pos += n;
            if (len)
                *len = n;
            return r;
        }
        if (fill(c, avail + 1) != 0)
            return NULL;
    }
}

tc_resp *tc_conn_command(tc_conn *c, size_t argc, const char *const *argv, const size_t *argvlen)
{
    tc_conn_append(c, argc, argv, argvlen);
    return tc_conn_read(c);
}

tc_resp *tc_conn_commandv(tc_conn *c, const char *const *argv)
{
    size_t argc = 0;
    while (argv[argc])
        argc++;
    return tc_conn_command(c, argc, argv, NULL);
}

int tc_conn_hello3(tc_conn *c)
{
    static const char *const hello[] = {"HELLO", "3", NULL};
    tc_resp *r = tc_conn_commandv(c, hello);
    int ok = r && r->type == TC_RESP_MAP;
    if (r && !ok)
        snprintf(c->err, sizeof c->err, "HELLO 3 failed: %s", r->str ? r->str : "(no text)");
    tc_resp_free(r);
    return ok ? 0 : -1;
}

void tc_resp_free(tc_resp *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        tc_resp_free(r->elem[i]);
    free(r->elem);
    free(r->str);
    free(r);
}

/* ------------------------------------------------------------ rendering */

static void indent_to(tc_buf *b, int indent)
{
    for (int i = 0; i < indent; i++)
        tc_buf_put(b, "  ", 2);
}

void tc_resp_render(tc_buf *b, const tc_resp *r, int indent)
{
    if (!r) {
        tc_buf_puts(b, "(no reply)");
        return;
    }
    switch (r->type) {
    case TC_RESP_STATUS:
        tc_buf_puts(b, "(status) ");
        tc_buf_put(b, r->str, r->len);
        break;
    case TC_RESP_ERROR:
    case TC_RESP_BLOBERR:
        tc_buf_puts(b, "(error) ");
        tc_buf_put(b, r->str, r->len);
        break;
    case TC_RESP_INTEGER:
        tc_buf_printf(b, "(integer) %lld", r->integer);
        break;
    case TC_RESP_NIL:
        tc_buf_puts(b, "(nil)");
        break;
    case TC_RESP_DOUBLE:
        tc_buf_puts(b, "(double) ");
        tc_buf_put(b, r->str, r->len);
        break;
    case TC_RESP_BIGNUM:
        tc_buf_puts(b, "(bignum) ");
        tc_buf_put(b, r->str, r->len);
        break;
    case TC_RESP_BOOL:
        tc_buf_puts(b, r->integer ? "(true)" : "(false)");
        break;
    case TC_RESP_STRING:
        tc_buf_quote(b, r->str, r->len);
        break;
    case TC_RESP_VERBATIM:
        tc_buf_puts(b, "(verbatim) ");
        tc_buf_quote(b, r->str, r->len);
        break;
    case TC_RESP_ARRAY:
    case TC_RESP_SET:
    case TC_RESP_PUSH:
    case TC_RESP_MAP: {
        const char *name = r->type == TC_RESP_ARRAY  ? "array"
                           : r->type == TC_RESP_SET  ? "set"
                           : r->type == TC_RESP_PUSH ? "push"
                                                     : "map";
        size_t shown = r->type == TC_RESP_MAP ? r->n / 2 : r->n;
        if (r->n == 0) {
            tc_buf_printf(b, "(empty %s)", name);
            break;
        }
        tc_buf_printf(b, "(%s of %zu)", name, shown);
        for (size_t i = 0; i < r->n; i++) {
            tc_buf_puts(b, "\n");
            indent_to(b, indent + 1);
            if (r->type == TC_RESP_MAP)
                tc_buf_printf(b, "%zu%s ", i / 2 + 1, i % 2 ? "v)" : "k)");
            else
                tc_buf_printf(b, "%zu) ", i + 1);
            tc_resp_render(b, r->elem[i], indent + 1);
        }
        break;
    }
    default:
        tc_buf_printf(b, "(unknown type %c)", r->type);
    }
}
