/*
 * test_io.c — lib/persist/io.c: descriptors (short reads through a pipe,
 * sync of a pipe is not an error, the fd stays open), user functions (short
 * writes retried, errors mapped), the fault injector (every kind at every
 * call), and zstd framing (round trip, checksum on, truncation and
 * corruption detected).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "persist/io.h"

static void test_fd_roundtrip(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    em_io *w = ember__io_fd(fileno(f));
    char data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7);
    assert_int_equal(ember__io_write(w, data, sizeof data), 0);
    assert_int_equal(ember__io_sync(w), 0);
    assert_int_equal(w->written, sizeof data);
    ember__io_close(w);
    /* The descriptor is still ours and open. */
    assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
    em_io *r = ember__io_fd(fileno(f));
    char back[sizeof data];
    size_t got = 0;
    int64_t n;
    while ((n = ember__io_read(r, back + got, sizeof back - got)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0);
    assert_int_equal(got, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    ember__io_close(r);
    fclose(f);
}

static void test_fd_pipe(void **state)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    em_io *w = ember__io_fd(p[1]);
    assert_int_equal(ember__io_write(w, "hello", 5), 0);
    assert_int_equal(ember__io_sync(w), 0); /* EINVAL on a pipe: nothing to sync */
    ember__io_close(w);
    close(p[1]);
    em_io *r = ember__io_fd(p[0]);
    char b[8];
    assert_int_equal(ember__io_read(r, b, sizeof b), 5);
    assert_int_equal(ember__io_read(r, b, sizeof b), 0);
    ember__io_close(r);
    close(p[0]);
    /* A closed descriptor reports its errno. */
    em_io *bad = ember__io_fd(p[1]);
    assert_int_equal(ember__io_write(bad, "x", 1), -EBADF);
    ember__io_close(bad);
}

typedef struct sink {
    char buf[1 << 16];
    size_t len;
    int chunk; /* accept at most this many bytes per call */
    int64_t fail_with;
} sink;

static int64_t sink_write(void *ctx, const void *p, size_t n)
{
    sink *s = ctx;
    if (s->fail_with)
        return s->fail_with;
    if (s->chunk && n > (size_t)s->chunk)
        n = (size_t)s->chunk;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return (int64_t)n;
}

static void test_user_functions(void **state)
{
    static sink s;
    memset(&s, 0, sizeof s);
    s.chunk = 3;
    em_io *w = ember__io_user(sink_write, NULL, NULL, &s);
    assert_int_equal(ember__io_write(w, "0123456789", 10), 0); /* retried in 3-byte pieces */
    assert_int_equal(s.len, 10);
    assert_memory_equal(s.buf, "0123456789", 10);
    assert_int_equal(ember__io_sync(w), 0); /* no sync function: nothing to do */
    char b[4];
    assert_int_equal(ember__io_read(w, b, 4), -ENOTSUP);
    s.fail_with = -ENOSPC;
    assert_int_equal(ember__io_write(w, "x", 1), -ENOSPC);
    s.fail_with = -123456; /* not an errno: EIO */
    assert_int_equal(ember__io_write(w, "x", 1), -EIO);
    ember__io_close(w);
}

static void test_fault_kinds(void **state)
{
    static sink s;
    for (int kind = EM_FAULT_EIO; kind <= EM_FAULT_SHORT_OK; kind++) {
        for (uint64_t n = 1; n <= 4; n++) {
            memset(&s, 0, sizeof s);
            em_io *f = ember__io_fault(ember__io_user(sink_write, NULL, NULL, &s), n, kind, 0, 0);
            int failed_at = 0;
            for (int call = 1; call <= 4; call++) {
                int rc = ember__io_write(f, "abcdefgh", 8);
                if (rc) {
                    assert_int_equal(rc, kind == EM_FAULT_EIO ? -EIO : -ENOSPC);
                    failed_at = call;
                }
            }
            uint64_t writes, syncs;
            ember__io_fault_counts(f, &writes, &syncs);
            assert_int_equal(writes, 4);
            if (kind == EM_FAULT_SHORT_OK) {
                assert_int_equal(failed_at, 0);
                assert_int_equal(s.len, 32);
            } else {
                assert_int_equal(failed_at, (int)n);
                assert_int_equal(s.len, 24 + (kind == EM_FAULT_SHORT ? 4 : 0));
            }
            ember__io_close(f);
        }
    }
    memset(&s, 0, sizeof s);
    em_io *f =
        ember__io_fault(ember__io_user(sink_write, NULL, NULL, &s), 0, 0, 2, EM_FAULT_ENOSPC);
    assert_int_equal(ember__io_sync(f), 0);
    assert_int_equal(ember__io_sync(f), -ENOSPC);
    assert_int_equal(ember__io_sync(f), 0);
    ember__io_close(f);
}

typedef struct mem {
    char *p;
    size_t len, cap, pos;
} mem;

static int64_t mem_write(void *ctx, const void *p, size_t n)
{
    mem *m = ctx;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return (int64_t)n;
}

static int64_t mem_read(void *ctx, void *p, size_t n)
{
    mem *m = ctx;
    size_t k = m->len - m->pos < n ? m->len - m->pos : n;
    memcpy(p, m->p + m->pos, k);
    m->pos += k;
    return (int64_t)k;
}

/* Decompresses all of m through the reader; returns bytes or < 0. */
static int64_t unzstd(mem *m, char *out, size_t cap, const char **why)
{
    m->pos = 0;
    em_io *inner = ember__io_user(NULL, NULL, mem_read, m);
    uint8_t pre[4];
    int64_t k = ember__io_read(inner, pre, 4);
    assert_true(k >= 0);
    em_io *z = ember__io_zstd_reader(inner, pre, (size_t)k);
    size_t got = 0;
    int64_t n;
    while ((n = ember__io_read(z, out + got, cap - got)) > 0)
        got += (size_t)n;
    *why = ember__io_zstd_error(z);
    ember__io_close(z);
    ember__io_close(inner);
    return n < 0 ? n : (int64_t)got;
}

static void test_zstd(void **state)
{
    size_t size = 3 << 20;
    char *data = malloc(size), *back = malloc(size + 16);
    uint64_t x = 1;
    for (size_t i = 0; i < size; i++) {
        x = x * 6364136223846793005ull + 1;
        data[i] = i % 97 < 60 ? (char)('a' + i % 7) : (char)(x >> 56);
    }
    mem m = {0};
    em_io *inner = ember__io_user(mem_write, NULL, NULL, &m);
    em_io *z = ember__io_zstd_writer(inner, 0);
    for (size_t off = 0; off < size; off += 100000)
        assert_int_equal(ember__io_write(z, data + off, off + 100000 < size ? 100000 : size - off),
                         0);
    assert_int_equal(ember__io_zstd_finish(z), 0);
    ember__io_close(z);
    ember__io_close(inner);
    assert_true(ember__io_is_zstd((uint8_t *)m.p, m.len));
    assert_true(m.len < size);
    /* The frame header descriptor (after the magic): Content_Checksum_flag is bit 2. */
    assert_true((unsigned char)m.p[4] & 4);
    const char *why;
    assert_int_equal(unzstd(&m, back, size + 16, &why), (int64_t)size);
    assert_memory_equal(back, data, size);
    /* Truncated: an error, never a short success. */
    size_t full = m.len;
    for (size_t cut = 0; cut < full; cut += full / 50 + 1) {
        m.len = cut;
        assert_true(unzstd(&m, back, size + 16, &why) < 0);
        assert_non_null(why);
    }
    m.len = full - 1; /* the checksum's last byte missing */
    assert_true(unzstd(&m, back, size + 16, &why) < 0);
    m.len = full;
    /* A flipped byte in the data: the checksum (or the decoder) catches it. */
    m.p[full / 2] ^= 1;
    assert_true(unzstd(&m, back, size + 16, &why) < 0);
    assert_non_null(why);
    free(m.p);
    free(data);
    free(back);
}

static void test_zstd_write_error(void **state)
{
    static sink s;
    memset(&s, 0, sizeof s);
    s.fail_with = -EIO;
    em_io *inner = ember__io_user(sink_write, NULL, NULL, &s);
    em_io *z = ember__io_zstd_writer(inner, 3);
    char big[200000];
    memset(big, 'q', sizeof big);
    int rc = ember__io_write(z, big, sizeof big);
    if (rc == 0)
        rc = ember__io_zstd_finish(z);
    assert_int_equal(rc, -EIO);
    /* The error sticks: nothing more is written. */
    assert_int_equal(ember__io_zstd_finish(z), -EIO);
    ember__io_close(z);
    ember__io_close(inner);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_roundtrip),   cmocka_unit_test(test_fd_pipe),
        cmocka_unit_test(test_user_functions), cmocka_unit_test(test_fault_kinds),
        cmocka_unit_test(test_zstd),           cmocka_unit_test(test_zstd_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
