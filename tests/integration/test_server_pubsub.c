/*
 * test_server_pubsub.c — subscribe mode over RESP, byte for byte against
 * redis-server 7.0: the same script runs on an ember-server (ember_server_start)
 * and on a private redis-server, and every chunk of bytes the subscribing
 * connection receives must be identical. RESP2 (subscribe mode: only the
 * pub/sub commands and PING, which answers [pong, msg]) and RESP3 (pushes,
 * other commands allowed). Messages come from a second connection between
 * steps, and keyspace notifications from a third.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <ember.h>

#include "redis_proc.h"
#include "resp_client.h"

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(0x7f000001);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
}

/* Reads until the buffer holds `want` bytes (then waits up to 5 s) and then
 * until the line is quiet for 200 ms. */
static void read_some(int fd, tc_buf *out, size_t want)
{
    char buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, out->len < want ? 5000 : 200) != 1)
            return;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            return;
        tc_buf_put(out, buf, (size_t)r);
    }
}

/* Steps: "S:<raw>" sent by the subscriber, "P:<raw>" by the publisher
 * (its reply read and dropped), "N:<raw>" by a third connection. After each
 * subscriber step everything received so far is recorded. */
static const char *const script[] = {
    "S:UNSUBSCRIBE\r\n",
    "S:PUNSUBSCRIBE\r\n",
    "S:SUNSUBSCRIBE\r\n",
    "S:SUBSCRIBE a b a\r\n",
    "S:PSUBSCRIBE p* __keyspace@0__:*\r\n",
    "S:SSUBSCRIBE s1\r\n",
    "P:PUBLISH a m1\r\n",
    "P:PUBLISH pq m2\r\n",
    "P:SPUBLISH s1 m3\r\n",
    "P:PUBLISH nobody x\r\n",
    "N:CONFIG SET notify-keyspace-events KA\r\n",
    "N:SET k v\r\nLPUSH l x\r\nDEL k l\r\n",
    "N:CONFIG SET notify-keyspace-events \"\"\r\n",
    "S:PING\r\n",
    "S:PING hi\r\n",
    "S:GET x\r\n",
    "S:PUBLISH a self\r\n",
    "S:*2\r\n$9\r\nSUBSCRIBE\r\n$0\r\n\r\n",
    /* Leaves one channel: an UNSUBSCRIBE of all goes through Redis's dict
     * in hash order (a random seed), ember's in subscription order. */
    "S:*3\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n$0\r\n\r\n",
    "S:UNSUBSCRIBE\r\n",
    "S:PUNSUBSCRIBE p*\r\n",
    "S:PUNSUBSCRIBE\r\n",
    "S:SUNSUBSCRIBE\r\n",
    "S:PING\r\n",
    "S:SUBSCRIBE\r\n",
    "S:SUBSCRIBE c\r\nPING\r\nUNSUBSCRIBE c\r\nPING\r\n",
};

#define NSTEPS (sizeof script / sizeof script[0])

/* Runs the script; sizes[i] gets the length of the record by the end of
 * step i (before its marker).
 * With expect (the sizes Redis produced) each step first waits for as many
 * bytes, so a slow delivery cannot move a message across a step marker. */
static char *run_script(int port, int proto, size_t *sizes, const size_t *expect)
{
    int sub = dial(port), pub = dial(port), note = dial(port);
    tc_buf got = {0}, junk = {0};
    if (proto == 3) {
        send_all(sub, "HELLO 3\r\n");
        read_some(sub, &junk, 0);
    }
    for (size_t i = 0; i < NSTEPS; i++) {
        const char *st = script[i];
        int fd = st[0] == 'S' ? sub : st[0] == 'P' ? pub : note;
        send_all(fd, st + 2);
        if (fd != sub) {
            read_some(fd, &junk, 0);
            sizes[i] = got.len;
            continue;
        }
        read_some(sub, &got, expect ? expect[i] : 0);
        sizes[i] = got.len; /* before the marker: what arrived */
        tc_buf_printf(&got, "\n--- after step %zu\n", i);
    }
    close(sub);
    close(pub);
    close(note);
    tc_buf_free(&junk);
    tc_buf_put(&got, "", 0);
    return got.p;
}

static void compare(int proto)
{
    tc_redis redis = {0};
    char err[256];
    assert_int_equal(tc_redis_start(&redis, NULL, err, sizeof err), 0);
    ember_db *db;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    ember_server *srv;
    assert_int_equal(ember_server_start(db, NULL, 0, 0, &srv), EMBER_OK);
    size_t want_sizes[NSTEPS], got_sizes[NSTEPS];
    char *want = run_script(redis.port, proto, want_sizes, NULL);
    char *got = run_script(ember_server_port(srv), proto, got_sizes, want_sizes);
    if (strcmp(want, got) != 0)
        fprintf(stderr, "RESP%d differs\n=== redis\n%s\n=== ember\n%s\n", proto, want, got);
    assert_string_equal(want, got);
    assert_true(strstr(want, "m1") && strstr(want, "__keyspace@0__:k")); /* it did deliver */
    free(want);
    free(got);
    ember_server_stop(srv);
    ember_db_close(db);
    tc_redis_stop(&redis);
}

static void test_resp2(void **state)
{
    (void)state;
    compare(2);
}

static void test_resp3(void **state)
{
    (void)state;
    compare(3);
}

/* A subscriber that hangs up is unsubscribed: PUBLISH counts it no more. */
static void test_hangup(void **state)
{
    (void)state;
    ember_db *db;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    ember_server *srv;
    assert_int_equal(ember_server_start(db, NULL, 0, 0, &srv), EMBER_OK);
    int sub = dial(ember_server_port(srv));
    tc_buf b = {0};
    send_all(sub, "SUBSCRIBE c\r\n");
    read_some(sub, &b, 30);
    int64_t n = -1;
    assert_int_equal(ember_publish(db, 0, "c", 1, "x", 1, &n), EMBER_OK);
    assert_int_equal(n, 1);
    close(sub);
    for (int i = 0; i < 200 && n != 0; i++) {
        usleep(10000);
        assert_int_equal(ember_publish(db, 0, "c", 1, "x", 1, &n), EMBER_OK);
    }
    assert_int_equal(n, 0);
    /* In process, SUBSCRIBE has no connection to push to. */
    const char *argv[] = {"SUBSCRIBE", "c"};
    ember_reply *r;
    assert_int_equal(ember_command(db, 2, argv, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_type(r), EMBER_REPLY_ERROR);
    ember_reply_free(r);
    tc_buf_free(&b);
    ember_server_stop(srv);
    ember_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resp2),
        cmocka_unit_test(test_resp3),
        cmocka_unit_test(test_hangup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
