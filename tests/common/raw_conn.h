/*
 * raw_conn.h — a byte-level RESP connection for tests that compare or
 * corrupt the wire format itself: requests are sent as given (any split,
 * any garbage) and replies come back as their exact bytes, cut at reply
 * boundaries, never decoded. tc_conn (resp_client.h) is the decoding client.
 */
#ifndef TC_RAW_CONN_H
#define TC_RAW_CONN_H

#include <stddef.h>

typedef struct tc_raw {
    int fd;    /* -1 when closed */
    char *buf; /* received bytes not yet returned */
    size_t len, cap;
} tc_raw;

/* Connects to 127.0.0.1:port with TCP_NODELAY; reads time out after
 * timeout_ms (0: 10 s). Returns 0, or -1 with errno set. */
int tc_raw_open(tc_raw *c, int port, int timeout_ms);
/* Closes the socket and frees the buffer; safe twice. */
void tc_raw_close(tc_raw *c);

/* Writes all n bytes (what arrives meanwhile is kept for
 * tc_raw_read_reply, as tc_raw_send_reading does). Returns 0, or -1: the
 * peer closed, or it took no byte for 10 s. */
int tc_raw_send(tc_raw *c, const void *p, size_t n);
int tc_raw_sends(tc_raw *c, const char *s);

/* As tc_raw_send, but reads (and keeps, for tc_raw_read_reply) whatever
 * arrives while it writes, so a long pipeline never deadlocks against a
 * server that stops reading until its replies are read. Returns 0 or -1. */
int tc_raw_send_reading(tc_raw *c, const void *p, size_t n);

/* Length of the first complete RESP2/RESP3 reply in p[0..n) (aggregates
 * with all their elements, attributes not special), or 0 when p holds only
 * a prefix of one. */
size_t tc_resp_frame_len(const char *p, size_t n);

/* Reads one whole reply: a malloc'd copy, NUL-terminated, its length in
 * *len (if len is not NULL). NULL if the connection closed or the read timed
 * out before a whole reply arrived. */
char *tc_raw_read_reply(tc_raw *c, size_t *len);

/* Reads (and drops) everything until the peer closes. Returns 1 if it
 * closed (EOF or reset), 0 on a read timeout. */
int tc_raw_wait_closed(tc_raw *c);

#endif
