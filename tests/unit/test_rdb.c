/*
 * test_rdb.c — the RDB codec (lib/persist/rdb.h): exact bytes of the small
 * cases in FORMATS.md, round trips of every type in every encoding (ember
 * objects -> bytes -> a fresh store -> same contents, same encodings), the
 * loader's handling of what Redis writes and wrote (integer and LZF strings,
 * ziplists built by hand from the format, listpacks, intsets, quicklists v1
 * and v2, zset type 3, old expiry opcodes, RDB versions 1..10), its refusals
 * (version 11, streams, modules, functions, bad CRC, trailing bytes,
 * duplicates, NaN scores), a truncation sweep, a corruption fuzz with the CRC
 * recomputed so the parsers themselves are hit, and bounded allocation.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "rdb_interop.h"
#include "persist/crc64.h"
#include "persist/lzf.h"
#include "persist/rdb.h"
#include "resp_client.h"
#include "types/intset.h"
#include "types/listpack.h"

#define T0 1700000000000ll /* virtual clock start, Unix ms */

/* ------------------------------------------------------------ databases */

static ember_db *open_db_cfg(const char *const *settings)
{
    ember_config *cfg;
    assert_int_equal(ember_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_config_set_mode(cfg, EMBER_MODE_INLINE), EMBER_OK);
    assert_int_equal(ember_config_set_virtual_clock(cfg, T0), EMBER_OK);
    assert_int_equal(ember_config_set_hash_seed(cfg, 1234), EMBER_OK);
    for (size_t i = 0; settings && settings[i]; i += 2)
        assert_int_equal(ember_config_set(cfg, settings[i], settings[i + 1]), EMBER_OK);
    ember_db *db;
    assert_int_equal(ember_db_open(cfg, &db), EMBER_OK);
    ember_config_free(cfg);
    return db;
}

static ember_db *open_db(void)
{
    return open_db_cfg(NULL);
}

static em_store *store_of(ember_db *db)
{
    return &db->box->core.srv.st;
}

static const em_settings *cfg_of(ember_db *db)
{
    return &db->box->core.srv.cfg;
}

/* Runs a command given as (ptr, len) pairs; fails the test on an error reply. */
static void cmdn(ember_db *db, size_t argc, const char *const *argv, const size_t *lens)
{
    ember_reply *r;
    assert_int_equal(ember_command(db, argc, argv, lens, &r), EMBER_OK);
    if (ember_reply_type(r) == EMBER_REPLY_ERROR)
        fail_msg("%s: %s", argv[0], ember_reply_str(r, NULL));
    ember_reply_free(r);
}

/* A command from NUL-terminated words, NULL-terminated. */
static void cmd(ember_db *db, ...)
{
    const char *argv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, db);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        argv[n++] = a;
    va_end(ap);
    cmdn(db, n, argv, NULL);
}

static ember_reply *query(ember_db *db, size_t argc, const char *const *argv, const size_t *lens)
{
    ember_reply *r;
    assert_int_equal(ember_command(db, argc, argv, lens, &r), EMBER_OK);
    return r;
}

/* ------------------------------------------------------------ a canonical dump */

typedef struct bstr {
    const char *p;
    size_t len;
} bstr;

static int bstr_cmp(const void *a, const void *b)
{
    const bstr *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Pairs sorted by their first element. */
static int pair_cmp(const void *a, const void *b)
{
    return bstr_cmp(a, b);
}

static void put_reply_str(tc_buf *out, const ember_reply *e)
{
    size_t len;
    const char *s = ember_reply_str(e, &len);
    tc_buf_quote(out, s, len);
}

/* Renders one key: type, encoding (if with_enc), absolute expire, contents. */
static void dump_key(ember_db *db, const char *k, size_t kl, int with_enc, tc_buf *out)
{
    const char *argv[8];
    size_t lens[8];
    argv[1] = k;
    lens[1] = kl;
    tc_buf_quote(out, k, kl);
    argv[0] = "TYPE";
    lens[0] = 4;
    ember_reply *t = query(db, 2, argv, lens);
    const char *type = ember_reply_str(t, NULL);
    tc_buf_printf(out, " %s", type);
    if (with_enc) {
        argv[0] = "OBJECT";
        argv[1] = "ENCODING";
        argv[2] = k;
        lens[0] = 6;
        lens[1] = 8;
        lens[2] = kl;
        ember_reply *e = query(db, 3, argv, lens);
        tc_buf_printf(out, " %s", ember_reply_str(e, NULL));
        ember_reply_free(e);
        argv[1] = k;
        lens[1] = kl;
    }
    argv[0] = "PEXPIRETIME";
    lens[0] = 11;
    ember_reply *x = query(db, 2, argv, lens);
    tc_buf_printf(out, " exp=%lld:", (long long)ember_reply_integer(x));
    ember_reply_free(x);

    int sort, pairs;
    size_t argc = tr_content_argv(type, argv, lens, &sort, &pairs);
    ember_reply_free(t);
    ember_reply *r = query(db, argc, argv, lens);
    if (ember_reply_type(r) == EMBER_REPLY_STRING) {
        tc_buf_puts(out, " ");
        put_reply_str(out, r);
    } else {
        /* Flattened: RESP3 gives ZRANGE WITHSCORES as [member, score] pairs. */
        size_t n = 0, cap = 16;
        bstr *v = malloc(cap * sizeof *v);
        for (size_t i = 0; i < ember_reply_len(r); i++) {
            const ember_reply *e = ember_reply_element(r, i);
            size_t sub = ember_reply_type(e) == EMBER_REPLY_ARRAY ? ember_reply_len(e) : 1;
            for (size_t j = 0; j < sub; j++) {
                const ember_reply *el =
                    ember_reply_type(e) == EMBER_REPLY_ARRAY ? ember_reply_element(e, j) : e;
                if (n == cap)
                    v = realloc(v, (cap *= 2) * sizeof *v);
                v[n].p = ember_reply_str(el, &v[n].len);
                n++;
            }
        }
        if (sort && pairs)
            qsort(v, n / 2, 2 * sizeof *v, pair_cmp);
        else if (sort)
            qsort(v, n, sizeof *v, bstr_cmp);
        for (size_t i = 0; i < n; i++) {
            tc_buf_puts(out, " ");
            tc_buf_quote(out, v[i].p, v[i].len);
        }
        free(v);
    }
    ember_reply_free(r);
    tc_buf_puts(out, "\n");
}

/* Every database, keys sorted. */
static void dump_all(ember_db *db, int with_enc, tc_buf *out)
{
    int ndb = store_of(db)->ndb;
    for (int d = 0; d < ndb; d++) {
        ember_db *v;
        assert_int_equal(ember_db_view(db, d, &v), EMBER_OK);
        const char *argv[] = {"KEYS", "*"};
        ember_reply *r = query(v, 2, argv, NULL);
        size_t n = ember_reply_len(r);
        if (n)
            tc_buf_printf(out, "db %d: %zu keys\n", d, n);
        bstr *keys = calloc(n ? n : 1, sizeof *keys);
        for (size_t i = 0; i < n; i++)
            keys[i].p = ember_reply_str(ember_reply_element(r, i), &keys[i].len);
        qsort(keys, n, sizeof *keys, bstr_cmp);
        for (size_t i = 0; i < n; i++)
            dump_key(v, keys[i].p, keys[i].len, with_enc, out);
        free(keys);
        ember_reply_free(r);
        ember_db_close(v);
    }
}

/* ------------------------------------------------------------ save and load */

static void put_db_objects(em_rdb_buf *b, em_keyspace *ks)
{
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < ks->dict.size[t]; i++)
            for (em_obj *o = ks->dict.t[t][i]; o; o = o->next)
                assert_int_equal(ember__rdb_put_object(b, o), 0);
}

/* A whole snapshot of db's store, as the snapshot code writes one. */
static void save(ember_db *db, em_rdb_buf *b)
{
    em_store *st = store_of(db);
    ember__rdb_put_header(b, T0 / 1000, ember__mem_used(&st->mem), 0);
    for (int d = 0; d < st->ndb; d++) {
        em_keyspace *ks = &st->dbs[d];
        if (ember__dict_size(&ks->dict) == 0)
            continue;
        ember__rdb_put_selectdb(b, d, ember__dict_size(&ks->dict), ks->nvol);
        put_db_objects(b, ks);
    }
    ember__rdb_put_eof(b, 0);
    assert_false(b->oom);
}

/* A memory source handing out at most `chunk` bytes per read. */
typedef struct memsrc {
    const uint8_t *p;
    size_t len, pos, chunk;
} memsrc;

static int64_t mem_read(void *ctx, void *buf, size_t n)
{
    memsrc *m = ctx;
    size_t left = m->len - m->pos;
    if (n > left)
        n = left;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int64_t)n;
}

static int load_chunked(ember_db *db, const void *p, size_t len, size_t chunk, int64_t now,
                        em_rdb_err *err)
{
    memsrc m = {p, len, 0, chunk};
    em_rdb_src src = {mem_read, &m};
    return ember__rdb_load(&src, store_of(db), cfg_of(db), now, err);
}

static int load(ember_db *db, const void *p, size_t len, em_rdb_err *err)
{
    return load_chunked(db, p, len, 0, T0, err);
}

static void flush_store(ember_db *db)
{
    em_store *st = store_of(db);
    for (int d = 0; d < st->ndb; d++)
        ember__ks_flush(st, &st->dbs[d], 0);
}

/* ------------------------------------------------------------ byte builders */

/* A file being built by hand: magic (version v), then whatever the test
 * appends; fin() adds EOF and the CRC. */
static void fmagic(em_rdb_buf *b, int v)
{
    char t[32];
    snprintf(t, sizeof t, "REDIS%04d", v);
    b->len = 0;
    for (int i = 0; i < 9; i++) {
        if (b->len == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 256;
            b->p = realloc(b->p, b->cap);
        }
        b->p[b->len++] = (uint8_t)t[i];
    }
}

static void fbytes(em_rdb_buf *b, const void *p, size_t n)
{
    while (b->cap - b->len < n) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void fu8(em_rdb_buf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    fbytes(b, &c, 1);
}

static void fle(em_rdb_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        fu8(b, (unsigned)(v >> (8 * i)) & 0xFF);
}

static void flen(em_rdb_buf *b, uint64_t v)
{
    uint8_t t[9];
    fbytes(b, t, ember__rdb_encode_len(t, v));
}

static void fstr(em_rdb_buf *b, const void *p, size_t n)
{
    flen(b, n);
    fbytes(b, p, n);
}

static void fcstr(em_rdb_buf *b, const char *s)
{
    fstr(b, s, strlen(s));
}

static void fin(em_rdb_buf *b)
{
    fu8(b, 0xFF);
    uint64_t crc = ember__crc64(0, b->p, b->len);
    fle(b, crc, 8);
}

/* Recomputes the CRC of a finished file in place. */
static void recrc(uint8_t *p, size_t len)
{
    uint64_t crc = ember__crc64(0, p, len - 8);
    for (int i = 0; i < 8; i++)
        p[len - 8 + (size_t)i] = (uint8_t)(crc >> (8 * i));
}

/* A ziplist from the format: elements given as strings; an element whose
 * text is an integer in [-2^63, 2^63) is stored as an integer with the
 * smallest encoding, others as strings. */
typedef struct zlb {
    uint8_t *p;
    size_t len, cap;
    size_t prev, last, n;
} zlb;

static void zl_put(zlb *z, const void *s, size_t n)
{
    while (z->cap - z->len < n) {
        z->cap = z->cap ? z->cap * 2 : 64;
        z->p = realloc(z->p, z->cap);
    }
    memcpy(z->p + z->len, s, n);
    z->len += n;
}

static void zl_begin(zlb *z)
{
    memset(z, 0, sizeof *z);
    uint8_t h[10] = {0};
    zl_put(z, h, 10);
    z->last = 10;
}

static void zl_add(zlb *z, const char *s, size_t n)
{
    uint8_t e[16];
    size_t start = z->len, el = 0;
    if (z->prev < 254) {
        e[el++] = (uint8_t)z->prev;
    } else {
        e[el++] = 254;
        for (int i = 0; i < 4; i++)
            e[el++] = (uint8_t)(z->prev >> (8 * i));
    }
    char t[32];
    long long v;
    char *end;
    int is_int = 0;
    if (n > 0 && n < 21) {
        memcpy(t, s, n);
        t[n] = 0;
        v = strtoll(t, &end, 10);
        char back[32];
        snprintf(back, sizeof back, "%lld", v);
        is_int = *end == 0 && strcmp(back, t) == 0;
    }
    if (is_int) {
        int w;
        if (v >= 0 && v <= 12) {
            e[el++] = (uint8_t)(0xF1 + v);
            w = 0;
        } else if (v >= INT8_MIN && v <= INT8_MAX) {
            e[el++] = 0xFE;
            w = 1;
        } else if (v >= INT16_MIN && v <= INT16_MAX) {
            e[el++] = 0xC0;
            w = 2;
        } else if (v >= -(1 << 23) && v < (1 << 23)) {
            e[el++] = 0xF0;
            w = 3;
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            e[el++] = 0xD0;
            w = 4;
        } else {
            e[el++] = 0xE0;
            w = 8;
        }
        for (int i = 0; i < w; i++)
            e[el++] = (uint8_t)((uint64_t)v >> (8 * i));
        zl_put(z, e, el);
    } else {
        if (n < 64) {
            e[el++] = (uint8_t)n;
        } else if (n < 16384) {
            e[el++] = (uint8_t)(0x40 | (n >> 8));
            e[el++] = (uint8_t)n;
        } else {
            e[el++] = 0x80;
            for (int i = 3; i >= 0; i--)
                e[el++] = (uint8_t)(n >> (8 * i));
        }
        zl_put(z, e, el);
        zl_put(z, s, n);
    }
    z->prev = z->len - start;
    z->last = start;
    z->n++;
}

static void zl_end(zlb *z)
{
    uint8_t end = 0xFF;
    zl_put(z, &end, 1);
    uint32_t bytes = (uint32_t)z->len, tail = (uint32_t)z->last;
    for (int i = 0; i < 4; i++) {
        z->p[i] = (uint8_t)(bytes >> (8 * i));
        z->p[4 + i] = (uint8_t)(tail >> (8 * i));
    }
    uint16_t n = z->n < 65535 ? (uint16_t)z->n : 65535;
    z->p[8] = (uint8_t)n;
    z->p[9] = (uint8_t)(n >> 8);
}

static em_mem scratch_mem;

static uint8_t *lp_of(const char *const *els, size_t n)
{
    uint8_t *lp = ember__lp_new(&scratch_mem, 0);
    for (size_t i = 0; i < n; i++)
        lp = ember__lp_append(&scratch_mem, lp, els[i], strlen(els[i]));
    return lp;
}

/* ------------------------------------------------------------ exact bytes */

static void test_exact_set_foo_bar(void **state)
{
    (void)state;
    ember_db *db = open_db();
    cmd(db, "SET", "foo", "bar", NULL);
    em_rdb_buf b = {0};
    ember__rdb_put_magic(&b);
    ember__rdb_put_selectdb(&b, 0, 0, 0);
    put_db_objects(&b, &store_of(db)->dbs[0]);
    ember__rdb_put_eof(&b, 0);
    static const uint8_t want[29] = {0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x30, 0xfe,
                                     0x00, 0x00, 0x03, 0x66, 0x6f, 0x6f, 0x03, 0x62, 0x61, 0x72,
                                     0xff, 0x7b, 0xe7, 0x31, 0x3c, 0xb4, 0x02, 0x01, 0x72};
    assert_int_equal(b.len, 29);
    assert_memory_equal(b.p, want, 29);

    /* The same bytes load back, flushed at any chunk size. */
    for (size_t chunk = 1; chunk <= 30; chunk++) {
        ember_db *d2 = open_db();
        em_rdb_err err;
        assert_int_equal(load_chunked(d2, want, 29, chunk, T0, &err), 0);
        void *v;
        size_t vl;
        assert_int_equal(ember_get(d2, "foo", 3, &v, &vl), EMBER_OK);
        assert_int_equal(vl, 3);
        assert_memory_equal(v, "bar", 3);
        ember_free(v);
        ember_db_close(d2);
    }
    /* The CRC computed over a flushed prefix gives the same file. */
    em_rdb_buf c = {0};
    ember__rdb_put_magic(&c);
    ember__rdb_put_selectdb(&c, 0, 0, 0);
    uint64_t crc = ember__crc64(0, c.p, c.len);
    c.len = 0;
    put_db_objects(&c, &store_of(db)->dbs[0]);
    ember__rdb_put_eof(&c, crc);
    assert_int_equal(c.len, 29 - 11);
    assert_memory_equal(c.p, want + 11, c.len);
    ember__rdb_buf_free(&c);
    ember__rdb_buf_free(&b);
    ember_db_close(db);
}

static void test_exact_dump_payload(void **state)
{
    (void)state;
    ember_db *db = open_db();
    cmd(db, "SET", "k", "hello", NULL);
    em_rdb_buf b = {0};
    em_dpos pos;
    em_keyspace *ks = &store_of(db)->dbs[0];
    assert_true(ember__dict_find(&ks->dict, "k", 1, ember__dict_hash(&ks->dict, "k", 1), &pos));
    assert_int_equal(ember__rdb_put_value(&b, *pos.link), 0);
    uint8_t ver[2] = {10, 0};
    fbytes(&b, ver, 2);
    fle(&b, ember__crc64(0, b.p, b.len), 8);
    static const uint8_t want[17] = {0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a, 0x00,
                                     0x63, 0x72, 0xdf, 0x76, 0x65, 0x34, 0x20, 0x0a};
    assert_int_equal(b.len, 17);
    assert_memory_equal(b.p, want, 17);
    ember__rdb_buf_free(&b);
    ember_db_close(db);
}

/* Strings: the integer encodings exactly where Redis uses them. */
static void test_exact_string_encodings(void **state)
{
    (void)state;
    static const struct {
        const char *val;
        uint8_t bytes[12];
        size_t n;
    } cases[] = {
        {"0", {0xC0, 0x00}, 2},
        {"-1", {0xC0, 0xFF}, 2},
        {"127", {0xC0, 0x7F}, 2},
        {"128", {0xC1, 0x80, 0x00}, 3},
        {"-32768", {0xC1, 0x00, 0x80}, 3},
        {"32768", {0xC2, 0x00, 0x80, 0x00, 0x00}, 5},
        {"-2147483648", {0xC2, 0x00, 0x00, 0x00, 0x80}, 5},
        {"2147483648", {0x0A, '2', '1', '4', '7', '4', '8', '3', '6', '4', '8'}, 11},
        {"007", {0x03, '0', '0', '7'}, 4},
        {"-0", {0x02, '-', '0'}, 3},
        {"+1", {0x02, '+', '1'}, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ember_db *db = open_db();
        cmd(db, "SET", "k", cases[i].val, NULL);
        em_rdb_buf b = {0};
        put_db_objects(&b, &store_of(db)->dbs[0]);
        /* type 0, key "k" (01 6b), then the value */
        assert_int_equal(b.len, 3 + cases[i].n);
        assert_memory_equal(b.p, "\x00\x01k", 3);
        assert_memory_equal(b.p + 3, cases[i].bytes, cases[i].n);
        ember__rdb_buf_free(&b);
        ember_db_close(db);
    }
    /* Length encodings at their boundaries. */
    static const struct {
        uint64_t v;
        uint8_t bytes[9];
        size_t n;
    } lens[] = {
        {63, {0x3F}, 1},
        {64, {0x40, 0x40}, 2},
        {16383, {0x7F, 0xFF}, 2},
        {16384, {0x80, 0x00, 0x00, 0x40, 0x00}, 5},
        {0xFFFFFFFFull, {0x80, 0xFF, 0xFF, 0xFF, 0xFF}, 5},
        {0x100000000ull, {0x81, 0, 0, 0, 1, 0, 0, 0, 0}, 9},
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t t[9];
        assert_int_equal(ember__rdb_encode_len(t, lens[i].v), lens[i].n);
        assert_memory_equal(t, lens[i].bytes, lens[i].n);
    }
}

/* ------------------------------------------------------------ round trips */

static void big_value(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 131 + seed * 7) % 251);
}

/* A rich dataset: every type in every encoding, TTLs, binary keys. */
static void fill_rich(ember_db *db, int scale)
{
    /* strings */
    cmd(db, "SET", "s:int", "12345", NULL);
    cmd(db, "SET", "s:neg", "-9223372036854775808", NULL);
    cmd(db, "SET", "s:max", "9223372036854775807", NULL);
    cmd(db, "SET", "s:big32", "4294967296", NULL);
    cmd(db, "SET", "s:zero", "0", NULL);
    cmd(db, "SET", "s:lead0", "0123", NULL);
    cmd(db, "SET", "s:embstr", "hello world", NULL);
    cmd(db, "SET", "s:empty", "", NULL);
    cmd(db, "SET", "s:raw", "a string that is longer than forty-four bytes, so raw", NULL);
    cmd(db, "SET", "s:ttl", "v", "PX", "5000000", NULL);
    cmd(db, "SET", "s:ttl2", "12", "PXAT", "1800000000123", NULL);
    cmd(db, "APPEND", "s:appended", "xyz", NULL);
    {
        const char *argv[] = {"SET", "bin\0key", "v\0al\0\xff"};
        size_t lens[] = {3, 7, 6};
        cmdn(db, 3, argv, lens);
    }
    {
        size_t n = 300000 * (size_t)scale;
        char *big = malloc(n);
        big_value(big, n, 1);
        const char *argv[] = {"SET", "s:huge", big};
        size_t lens[] = {3, 6, n};
        cmdn(db, 3, argv, lens);
        free(big);
    }
    /* lists: small (one node), several nodes, big elements */
    cmd(db, "RPUSH", "l:small", "a", "1", "-2", "b", "", "99999999999", NULL);
    for (int i = 0; i < 400 * scale; i++) {
        char t[32];
        snprintf(t, sizeof t, i % 3 ? "elem-%d" : "%d", i);
        cmd(db, "RPUSH", "l:big", t, NULL);
    }
    {
        char big[10000];
        big_value(big, sizeof big, 2);
        const char *argv[] = {"RPUSH", "l:plain", "x", big, "y"};
        size_t lens[] = {5, 7, 1, sizeof big, 1};
        cmdn(db, 5, argv, lens);
    }
    cmd(db, "RPUSH", "l:ttl", "a", NULL);
    cmd(db, "PEXPIRE", "l:ttl", "123456", NULL);
    /* sets: intset, hashtable (by content), hashtable (by count) */
    cmd(db, "SADD", "set:int", "1", "-5", "70000", "-9223372036854775808", "5000000000", NULL);
    cmd(db, "SADD", "set:str", "a", "b", "1", "", NULL);
    for (int i = 0; i < 600 * scale; i++) {
        char t[32];
        snprintf(t, sizeof t, "%d", i * 3);
        cmd(db, "SADD", "set:bigint", t, NULL);
    }
    {
        const char *argv[] = {"SADD", "set:bin", "\0", "a\0b", "\xff\xfe"};
        size_t lens[] = {4, 7, 1, 3, 2};
        cmdn(db, 5, argv, lens);
    }
    /* hashes: listpack, hashtable by count, hashtable by value length */
    cmd(db, "HSET", "h:small", "f1", "v1", "n", "17", "neg", "-3", "empty", "", NULL);
    for (int i = 0; i < 200 * scale; i++) {
        char f[32], v[32];
        snprintf(f, sizeof f, "field:%d", i);
        snprintf(v, sizeof v, "%d", i * i);
        cmd(db, "HSET", "h:big", f, v, NULL);
    }
    {
        char big[100];
        memset(big, 'x', sizeof big);
        const char *argv[] = {"HSET", "h:long", "f", big};
        size_t lens[] = {4, 6, 1, sizeof big};
        cmdn(db, 4, argv, lens);
    }
    cmd(db, "HSET", "h:ttl", "a", "b", NULL);
    cmd(db, "PEXPIREAT", "h:ttl", "1900000000000", NULL);
    /* sorted sets: listpack, skiplist by count, skiplist by member length */
    cmd(db, "ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0", "f",
        "1e-300", "g", "123456789012", "h", NULL);
    for (int i = 0; i < 300 * scale; i++) {
        char m[32], s[32];
        snprintf(m, sizeof m, "m%d", i);
        snprintf(s, sizeof s, "%d.%d", i / 7, i % 7);
        cmd(db, "ZADD", "z:big", s, m, NULL);
    }
    {
        char big[80];
        memset(big, 'q', sizeof big);
        const char *argv[] = {"ZADD", "z:long", "3", big, "-1.5", "neg"};
        size_t lens[] = {4, 6, 1, sizeof big, 2, 4};
        cmdn(db, 6, argv, lens);
    }
    /* other databases */
    ember_db *v;
    assert_int_equal(ember_db_view(db, 3, &v), EMBER_OK);
    cmd(v, "SET", "in-db-3", "x", NULL);
    cmd(v, "SADD", "set:int", "7", NULL);
    ember_db_close(v);
    assert_int_equal(ember_db_view(db, 15, &v), EMBER_OK);
    cmd(v, "ZADD", "z", "1", "one", NULL);
    ember_db_close(v);
}

/* Fails with the first line that differs (dumps are long). */
static void expect_same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        size_t la = na ? (size_t)(na - a) : strlen(a), lb = nb ? (size_t)(nb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la))
            break;
        a += la + (na != NULL);
        b += lb + (nb != NULL);
    }
    if (*a || *b)
        fail_msg("first difference:\n  %.300s\nvs\n  %.300s", a, b);
}

static void check_round_trip(ember_db *src, const char *const *settings_dst, int same_enc,
                             size_t chunk)
{
    em_rdb_buf b = {0};
    save(src, &b);
    ember_db *dst = open_db_cfg(settings_dst);
    em_rdb_err err;
    if (load_chunked(dst, b.p, b.len, chunk, T0, &err))
        fail_msg("load: %s", err.msg);
    tc_buf x = {0}, y = {0};
    dump_all(src, same_enc, &x);
    dump_all(dst, same_enc, &y);
    expect_same(tc_buf_cstr(&x), tc_buf_cstr(&y));
    tc_buf_free(&x);
    tc_buf_free(&y);
    ember__rdb_buf_free(&b);
    ember_db_close(dst);
}

static void test_round_trip_rich(void **state)
{
    (void)state;
    ember_db *db = open_db();
    fill_rich(db, 1);
    check_round_trip(db, NULL, 1, 0);
    check_round_trip(db, NULL, 1, 4093); /* reads that split every field somewhere */
    ember_db_close(db);
}

/* Encodings follow the loading store's thresholds, both ways. */
static void test_round_trip_thresholds(void **state)
{
    (void)state;
    ember_db *db = open_db();
    fill_rich(db, 1);
    /* clang-format off */
    static const char *const tiny[] = {
        "hash-max-listpack-entries", "1", "zset-max-listpack-entries", "1",
        "set-max-intset-entries", "1", "set-max-listpack-entries", "2",
        "list-max-listpack-size", "2", NULL};
    /* clang-format on */
    check_round_trip(db, tiny, 0, 0);
    static const char *const huge[] = {"hash-max-listpack-entries",
                                       "100000",
                                       "hash-max-listpack-value",
                                       "1000",
                                       "zset-max-listpack-entries",
                                       "100000",
                                       "zset-max-listpack-value",
                                       "1000",
                                       "set-max-intset-entries",
                                       "100000",
                                       "set-max-listpack-entries",
                                       "100000",
                                       NULL};
    check_round_trip(db, huge, 0, 0);

    /* And the encodings themselves. */
    em_rdb_buf b = {0};
    save(db, &b);
    ember_db *dst = open_db_cfg(tiny);
    em_rdb_err err;
    assert_int_equal(load(dst, b.p, b.len, &err), 0);
    const char *enc_cases[][2] = {
        {"h:small", "hashtable"}, {"z:small", "skiplist"}, {"set:int", "hashtable"}};
    for (size_t i = 0; i < 3; i++) {
        const char *argv[] = {"OBJECT", "ENCODING", enc_cases[i][0]};
        ember_reply *r = query(dst, 3, argv, NULL);
        if (strcmp(ember_reply_str(r, NULL), enc_cases[i][1]))
            fail_msg("%s: %s", enc_cases[i][0], ember_reply_str(r, NULL));
        ember_reply_free(r);
    }
    ember_db_close(dst);
    dst = open_db_cfg(huge);
    assert_int_equal(load(dst, b.p, b.len, &err), 0);
    const char *enc_cases2[][2] = {{"h:big", "listpack"},
                                   {"z:big", "listpack"},
                                   {"set:bigint", "intset"},
                                   {"set:str", "listpack"}};
    for (size_t i = 0; i < 4; i++) {
        const char *argv[] = {"OBJECT", "ENCODING", enc_cases2[i][0]};
        ember_reply *r = query(dst, 3, argv, NULL);
        if (strcmp(ember_reply_str(r, NULL), enc_cases2[i][1]))
            fail_msg("%s: %s", enc_cases2[i][0], ember_reply_str(r, NULL));
        ember_reply_free(r);
    }
    ember_db_close(dst);
    ember__rdb_buf_free(&b);
    ember_db_close(db);
}

/* Sets in the 7.2 listpack encoding round-trip too (written as type 2). */
static void test_round_trip_set_listpack(void **state)
{
    (void)state;
    static const char *const lp[] = {"set-max-listpack-entries", "128", NULL};
    ember_db *db = open_db_cfg(lp);
    cmd(db, "SADD", "s", "a", "b", "c", "1", NULL);
    const char *argv[] = {"OBJECT", "ENCODING", "s"};
    ember_reply *r = query(db, 3, argv, NULL);
    assert_string_equal(ember_reply_str(r, NULL), "listpack");
    ember_reply_free(r);
    check_round_trip(db, lp, 1, 0);
    check_round_trip(db, NULL, 0, 0);
    ember_db_close(db);
}

static char *load_render(em_rdb_buf *f, const char *const *settings);

/* A sorted set loaded in any order is the one ZADD builds: ties ordered by
 * member bytes, -0 and 0 equal, in both encodings. */
static void test_load_zset_order(void **state)
{
    (void)state;
    static const struct {
        const char *m;
        double s;
    } pairs[] = {{"b", 1},         {"a", 1},        {"c", 1},      {"z", -0.0},
                 {"y", 0},         {"ab", 1},       {"", 1},       {"\xff", 1},
                 {"n", -INFINITY}, {"p", INFINITY}, {"q", 1e-300}, {"r", 2.5}};
    size_t n = sizeof pairs / sizeof pairs[0];
    for (int big = 0; big < 2; big++) {
        em_rdb_buf f = {0};
        fmagic(&f, 10);
        fu8(&f, 5);
        fcstr(&f, "z");
        flen(&f, n);
        /* (a skiplist from the first member: a listpack would store -0 as 0) */
        ember_db *want =
            open_db_cfg(big ? (const char *const[]){"zset-max-listpack-entries", "0", NULL} : NULL);
        for (size_t i = 0; i < n; i++) {
            fcstr(&f, pairs[i].m);
            uint64_t u;
            memcpy(&u, &pairs[i].s, 8);
            fle(&f, u, 8);
            char sc[64];
            snprintf(sc, sizeof sc, "%.17g", pairs[i].s);
            cmd(want, "ZADD", "z", sc, pairs[i].m, NULL);
        }
        fin(&f);
        tc_buf w = {0};
        dump_all(want, 1, &w);
        char *got = load_render(
            &f, big ? (const char *const[]){"zset-max-listpack-entries", "4", NULL} : NULL);
        expect_same(tc_buf_cstr(&w), got);
        assert_non_null(strstr(got, big ? "skiplist" : "listpack"));
        free(got);
        tc_buf_free(&w);
        ember_db_close(want);
        free(f.p);
    }
}

/* IDLE and FREQ: written under LRU / LFU policies, restored as Redis does. */
static void test_lru_lfu(void **state)
{
    (void)state;
    for (int lfu = 0; lfu < 2; lfu++) {
        const char *const pol[] = {"maxmemory-policy", lfu ? "allkeys-lfu" : "allkeys-lru", NULL};
        ember_db *db = open_db_cfg(pol);
        cmd(db, "SET", "k", "v", NULL);
        for (int i = 0; i < 50; i++)
            cmd(db, "GET", "k", NULL);
        assert_int_equal(ember_clock_advance(db, 100 * 1000), EMBER_OK);
        const char *argv[] = {"OBJECT", lfu ? "FREQ" : "IDLETIME", "k"};
        ember_reply *r = query(db, 3, argv, NULL);
        int64_t before = ember_reply_integer(r);
        ember_reply_free(r);
        if (lfu) { /* a counter of 42, last decremented now */
            em_dpos pos;
            em_keyspace *k0 = &store_of(db)->dbs[0];
            assert_true(
                ember__dict_find(&k0->dict, "k", 1, ember__dict_hash(&k0->dict, "k", 1), &pos));
            uint32_t minutes = (uint32_t)(((T0 + 100 * 1000) / 60000) & 65535);
            ember__obj_set_lru(*pos.link, (minutes << 8) | 42);
            r = query(db, 3, argv, NULL);
            before = ember_reply_integer(r);
            ember_reply_free(r);
        }
        assert_int_equal(before, lfu ? 42 : 100);
        em_rdb_buf b = {0};
        ember__rdb_put_magic(&b);
        em_keyspace *ks = &store_of(db)->dbs[0];
        for (int t = 0; t < 2; t++)
            for (size_t i = 0; i < ks->dict.size[t]; i++)
                for (em_obj *o = ks->dict.t[t][i]; o; o = o->next)
                    assert_int_equal(ember__rdb_put_object_lru(&b, o, cfg_of(db), T0 + 100 * 1000),
                                     0);
        if (lfu) {
            assert_int_equal(b.p[9], 0xF9);
            assert_int_equal(b.p[10], before);
        } else {
            static const uint8_t idle[] = {0xF8, 0x40, 100};
            assert_memory_equal(b.p + 9, idle, 3);
        }
        ember__rdb_put_eof(&b, 0);
        ember_db *dst = open_db_cfg(pol);
        assert_int_equal(ember_clock_advance(dst, 100 * 1000), EMBER_OK);
        em_rdb_err err;
        assert_int_equal(load_chunked(dst, b.p, b.len, 0, T0 + 100 * 1000, &err), 0);
        r = query(dst, 3, argv, NULL);
        assert_int_equal(ember_reply_integer(r), before);
        ember_reply_free(r);
        ember_db_close(dst);
        ember__rdb_buf_free(&b);
        ember_db_close(db);
    }
}

/* Keys whose expiry passed are skipped; the others keep theirs exactly. */
static void test_expired_skipped(void **state)
{
    (void)state;
    ember_db *db = open_db();
    cmd(db, "SET", "gone", "1", "PXAT", "1700000000500", NULL);
    cmd(db, "SET", "kept", "1", "PXAT", "1700000001000", NULL);
    cmd(db, "SET", "plain", "1", NULL);
    em_rdb_buf b = {0};
    save(db, &b);
    ember_db *dst = open_db();
    em_rdb_err err;
    assert_int_equal(load_chunked(dst, b.p, b.len, 0, T0 + 600, &err), 0);
    int64_t n;
    assert_int_equal(ember_dbsize(dst, &n), EMBER_OK);
    assert_int_equal(n, 2);
    const char *argv[] = {"PEXPIRETIME", "kept"};
    ember_reply *r = query(dst, 2, argv, NULL);
    assert_int_equal(ember_reply_integer(r), 1700000001000ll);
    ember_reply_free(r);
    ember_db_close(dst);
    ember__rdb_buf_free(&b);
    ember_db_close(db);
}

/* Empty collections are never written. */
static void test_writer_skips_empty(void **state)
{
    (void)state;
    ember_db *db = open_db();
    em_store *st = store_of(db);
    em_obj *o =
        ember__obj_new_body(&st->mem, "e", 1, EM_T_SET, EM_ENC_INTSET, ember__intset_new(&st->mem));
    em_rdb_buf b = {0};
    assert_int_equal(ember__rdb_put_object(&b, o), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(ember__rdb_put_value(&b, o), -1);
    ember__obj_free(&st->mem, o);
    ember__rdb_buf_free(&b);
    ember_db_close(db);
}

/* ------------------------------------------------------------ hand-built files */

static int load_buf(ember_db *db, em_rdb_buf *f, em_rdb_err *err)
{
    return load(db, f->p, f->len, err);
}

/* Loads f into a fresh store and returns the rendering of database 0 (the
 * caller frees it), failing the test if the load fails. */
static char *load_render(em_rdb_buf *f, const char *const *settings)
{
    ember_db *db = open_db_cfg(settings);
    em_rdb_err err;
    if (load_buf(db, f, &err))
        fail_msg("load: %s", err.msg);
    tc_buf out = {0};
    dump_all(db, 1, &out);
    ember_db_close(db);
    char *s = strdup(tc_buf_cstr(&out));
    tc_buf_free(&out);
    return s;
}

static void expect_render(em_rdb_buf *f, const char *const *settings, const char *want)
{
    char *got = load_render(f, settings);
    if (strcmp(got, want))
        fail_msg("got:\n%s\nwant:\n%s", got, want);
    free(got);
}

/* Loading must fail with a message containing `what`. */
#define expect_fail(f, what) expect_fail_at(f, what, __LINE__)
static void expect_fail_at(em_rdb_buf *f, const char *what, int line)
{
    ember_db *db = open_db();
    em_rdb_err err;
    if (load_buf(db, f, &err) != -1)
        fail_msg("line %d: loaded, expected \"%s\"", line, what);
    if (!strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, what);
    if (strstr(err.msg, "out of memory"))
        fail_msg("ran out of memory: %s", err.msg);
    assert_true(err.offset < f->len + 1);
    ember_db_close(db);
}

static void test_load_string_encodings(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    fmagic(&f, 10);
    fu8(&f, 0xFA);
    fcstr(&f, "redis-ver");
    fcstr(&f, "7.0.15");
    fu8(&f, 0xFA);
    fcstr(&f, "unknown-aux");
    fu8(&f, 0xC0);
    fu8(&f, 5);
    fu8(&f, 0xFE);
    fu8(&f, 0);
    fu8(&f, 0xFB);
    flen(&f, 3);
    flen(&f, 0);
    fu8(&f, 0);
    fcstr(&f, "i8");
    fu8(&f, 0xC0);
    fu8(&f, 0x80); /* -128 */
    fu8(&f, 0);
    fcstr(&f, "i16");
    fu8(&f, 0xC1);
    fle(&f, (uint64_t)(int64_t)-300, 2);
    fu8(&f, 0);
    fu8(&f, 0xC2); /* an integer-encoded key */
    fle(&f, 100000, 4);
    fu8(&f, 0xC2);
    fle(&f, (uint64_t)(int64_t)-2147483647 - 1, 4);
    fu8(&f, 0);
    fcstr(&f, "lzf");
    /* LZF: the literal "abc", then ctrl 0xE0 (length 7 + extra byte 6 + 2 =
     * 15) at offset (0 << 8) + 2 + 1 = 3: "abcabcabcabcabcabc" */
    static const uint8_t lz[] = {0x02, 'a', 'b', 'c', 0xE0, 0x06, 0x02};
    fu8(&f, 0xC3);
    flen(&f, sizeof lz);
    flen(&f, 18);
    fbytes(&f, lz, sizeof lz);
    fin(&f);
    expect_render(&f, NULL,
                  "db 0: 4 keys\n"
                  "\"100000\" string int exp=-1: \"-2147483648\"\n"
                  "\"i16\" string int exp=-1: \"-300\"\n"
                  "\"i8\" string int exp=-1: \"-128\"\n"
                  "\"lzf\" string embstr exp=-1: \"abcabcabcabcabcabc\"\n");
    free(f.p);
}

/* Empty keys, members and values, read first thing (no scratch buffer yet). */
static void test_load_empty_strings(void **state)
{
    (void)state;
    static const unsigned types[] = {0, 2, 4, 5, 1};
    for (size_t t = 0; t < 5; t++) {
        em_rdb_buf f = {0};
        fmagic(&f, 10);
        fu8(&f, types[t]);
        fcstr(&f, "");
        if (types[t] != 0)
            flen(&f, 1);
        fcstr(&f, "");
        if (types[t] == 4)
            fcstr(&f, "");
        if (types[t] == 5)
            fle(&f, 0, 8);
        fin(&f);
        char *got = load_render(&f, NULL);
        assert_non_null(strstr(got, "db 0: 1 keys\n\"\" "));
        free(got);
        free(f.p);
    }
}

static void test_load_old_opcodes_versions(void **state)
{
    (void)state;
    for (int v = 1; v <= 10; v++) {
        em_rdb_buf f = {0};
        fmagic(&f, v);
        fu8(&f, 0xFE);
        flen(&f, 1);
        fu8(&f, 0xFD); /* seconds */
        fle(&f, 1800000000, 4);
        fu8(&f, 0);
        fcstr(&f, "a");
        fcstr(&f, "x");
        fu8(&f, 0xF8); /* IDLE */
        flen(&f, 1000);
        fu8(&f, 0xF9); /* FREQ */
        fu8(&f, 5);
        fu8(&f, 0xFC);
        fle(&f, 1800000000123ull, 8);
        fu8(&f, 0);
        fcstr(&f, "b");
        fcstr(&f, "y");
        fu8(&f, 0xFC); /* already expired */
        fle(&f, 1600000000000ull, 8);
        fu8(&f, 0);
        fcstr(&f, "c");
        fcstr(&f, "z");
        if (v >= 5) {
            fin(&f);
        } else {
            fu8(&f, 0xFF); /* no checksum before version 5 */
        }
        ember_db *db = open_db();
        em_rdb_err err;
        if (load_buf(db, &f, &err))
            fail_msg("version %d: %s", v, err.msg);
        tc_buf out = {0};
        dump_all(db, 0, &out);
        assert_string_equal(tc_buf_cstr(&out), "db 1: 2 keys\n"
                                               "\"a\" string exp=1800000000000: \"x\"\n"
                                               "\"b\" string exp=1800000000123: \"y\"\n");
        tc_buf_free(&out);
        ember_db_close(db);
        free(f.p);
    }
}

static void test_load_refusals(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    fmagic(&f, 11);
    fin(&f);
    expect_fail(&f, "RDB version 11 is newer");
    fmagic(&f, 10);
    memcpy(f.p, "RADIS", 5);
    fin(&f);
    expect_fail(&f, "not an RDB file");
    fmagic(&f, 0);
    fin(&f);
    expect_fail(&f, "bad RDB version");
    static const struct {
        unsigned t;
        const char *what;
    } types[] = {{6, "module"},        {7, "module"},           {15, "streams"},
                 {19, "streams"},      {21, "streams"},         {9, "zipmap"},
                 {20, "version 11"},   {8, "unknown RDB type"}, {22, "unknown RDB type"},
                 {0xF7, "module AUX"}, {0xF5, "functions"},     {0xF6, "functions"}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        fmagic(&f, 10);
        fu8(&f, 0xFE);
        fu8(&f, 0);
        fu8(&f, types[i].t);
        fcstr(&f, "k");
        fcstr(&f, "v");
        fin(&f);
        expect_fail(&f, types[i].what);
    }
    /* CRC: wrong fails, 0 means "not computed" */
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fcstr(&f, "v");
    fin(&f);
    f.p[f.len - 1] ^= 1;
    expect_fail(&f, "checksum mismatch");
    memset(f.p + f.len - 8, 0, 8);
    free(load_render(&f, NULL));
    /* Trailing bytes */
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fcstr(&f, "v");
    fin(&f);
    fu8(&f, 0);
    expect_fail(&f, "after the end");
    /* Duplicate key, database out of range */
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fcstr(&f, "v");
    fu8(&f, 0);
    fcstr(&f, "k");
    fcstr(&f, "w");
    fin(&f);
    expect_fail(&f, "duplicate key");
    fmagic(&f, 10);
    fu8(&f, 0xFE);
    flen(&f, 16);
    fin(&f);
    expect_fail(&f, "database 16 out of range");
    /* Duplicate members, NaN */
    static const struct {
        unsigned type;
        const char *a, *b;
        const char *what;
    } dups[] = {{2, "x", "x", "duplicate set member"},
                {2, "7", "7", "duplicate set member"},
                {4, "f", "f", "duplicate hash field"}};
    for (size_t i = 0; i < 3; i++) {
        fmagic(&f, 10);
        fu8(&f, dups[i].type);
        fcstr(&f, "k");
        flen(&f, 2);
        fcstr(&f, dups[i].a);
        if (dups[i].type == 4)
            fcstr(&f, "v");
        fcstr(&f, dups[i].b);
        if (dups[i].type == 4)
            fcstr(&f, "v");
        fin(&f);
        expect_fail(&f, dups[i].what);
    }
    double nan = NAN, one = 1;
    uint64_t u;
    fmagic(&f, 10);
    fu8(&f, 5);
    fcstr(&f, "z");
    flen(&f, 2);
    fcstr(&f, "m");
    memcpy(&u, &one, 8);
    fle(&f, u, 8);
    fcstr(&f, "m");
    fle(&f, u, 8);
    fin(&f);
    expect_fail(&f, "duplicate sorted set member");
    fmagic(&f, 10);
    fu8(&f, 5);
    fcstr(&f, "z");
    flen(&f, 1);
    fcstr(&f, "m");
    memcpy(&u, &nan, 8);
    fle(&f, u, 8);
    fin(&f);
    expect_fail(&f, "NaN");
    /* Length encoding 0x82 does not exist; a string where a length goes */
    fmagic(&f, 10);
    fu8(&f, 1);
    fcstr(&f, "l");
    fu8(&f, 0x82);
    fin(&f);
    expect_fail(&f, "bad length encoding");
    fmagic(&f, 10);
    fu8(&f, 1);
    fcstr(&f, "l");
    fu8(&f, 0xC0);
    fin(&f);
    expect_fail(&f, "string encoding where a length");
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "l");
    fu8(&f, 0xC4);
    fin(&f);
    expect_fail(&f, "unknown string encoding");
    free(f.p);
}

/* Duplicates are found wherever they are: in a listpack being built (at the
 * end), at the conversion to a table, and in the table. */
static void expect_fail_cfg(em_rdb_buf *f, const char *const *settings, const char *what)
{
    ember_db *db = open_db_cfg(settings);
    em_rdb_err err;
    assert_int_equal(load_buf(db, f, &err), -1);
    if (!strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, what);
    ember_db_close(db);
}

static void test_load_duplicates_everywhere(void **state)
{
    (void)state;
    /* clang-format off */
    static const char *const small[] = {
        "hash-max-listpack-entries", "3", "set-max-listpack-entries", "3",
        "set-max-intset-entries", "3", "zset-max-listpack-entries", "3", NULL};
    /* clang-format on */
    /* element lists: the duplicate sits early, before a conversion (5
     * elements, limits of 3), or within the limits (3 elements) */
    static const char *const five[] = {"a", "b", "a", "c", "d"};
    static const char *const three[] = {"a", "b", "a"};
    static const char *const ints5[] = {"1", "2", "1", "3", "4"};
    static const char *const late[] = {"a", "b", "c", "d", "a"};
    const char *const *lists[] = {five, three, ints5, late};
    size_t lens[] = {5, 3, 5, 5};
    for (size_t li = 0; li < 4; li++) {
        for (int type = 0; type < 3; type++) {
            em_rdb_buf f = {0};
            fmagic(&f, 10);
            fu8(&f, type == 2 ? 5 : type ? 4 : 2);
            fcstr(&f, "k");
            flen(&f, lens[li]);
            for (size_t i = 0; i < lens[li]; i++) {
                fcstr(&f, lists[li][i]);
                if (type == 1)
                    fcstr(&f, "v");
                if (type == 2)
                    fle(&f, 0x3FF0000000000000ull * (i % 2), 8); /* 0 or 1.0 */
            }
            fin(&f);
            const char *what = type == 2 ? "duplicate sorted set member"
                               : type    ? "duplicate hash field"
                                         : "duplicate set member";
            expect_fail_cfg(&f, small, what);
            expect_fail_cfg(&f, NULL, what);
            free(f.p);
        }
    }
}

/* Empty collections are skipped, as Redis 7.0 does ("empty keys skipped"). */
static void test_load_empty_skipped(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    fmagic(&f, 10);
    static const unsigned types[] = {1, 2, 4, 5, 14, 18};
    for (size_t i = 0; i < 6; i++) {
        fu8(&f, types[i]);
        char k[8];
        snprintf(k, sizeof k, "e%u", types[i]);
        fcstr(&f, k);
        flen(&f, 0);
    }
    static const char *const none[1] = {NULL};
    uint8_t *lp = lp_of(none, 0); /* hash and zset listpacks with no element */
    fu8(&f, 16);
    fcstr(&f, "h");
    fstr(&f, lp, ember__lp_bytes(lp));
    fu8(&f, 17);
    fcstr(&f, "z");
    fstr(&f, lp, ember__lp_bytes(lp));
    fu8(&f, 18); /* a quicklist whose only node is empty */
    fcstr(&f, "q");
    flen(&f, 1);
    flen(&f, 2);
    fstr(&f, lp, ember__lp_bytes(lp));
    ember__lp_free(&scratch_mem, lp);
    fu8(&f, 0);
    fcstr(&f, "real");
    fcstr(&f, "1");
    fin(&f);
    expect_render(&f, NULL, "db 0: 1 keys\n\"real\" string int exp=-1: \"1\"\n");
    free(f.p);
}

static void test_load_ziplists(void **state)
{
    (void)state;
    /* Every integer encoding, 6/14/32-bit strings, a 5-byte prevlen. */
    static const char *vals[] = {
        "0",        "12",      "13",         "-1",          "127",
        "-128",     "128",     "32767",      "-32769",      "8388607",
        "-8388608", "8388608", "2147483647", "-2147483649", "9223372036854775807",
        "str",      ""};
    size_t nv = sizeof vals / sizeof vals[0];
    char s300[300], s20k[20000];
    memset(s300, 'm', sizeof s300);
    memset(s20k, 'k', sizeof s20k);
    zlb z;
    zl_begin(&z);
    for (size_t i = 0; i < nv; i++)
        zl_add(&z, vals[i], strlen(vals[i]));
    zl_add(&z, s300, sizeof s300);
    zl_add(&z, "after-long", 10); /* prevlen takes 5 bytes */
    zl_add(&z, s20k, sizeof s20k);
    zl_end(&z);
    em_rdb_buf f = {0};
    fmagic(&f, 9);
    fu8(&f, 10); /* list ziplist */
    fcstr(&f, "l");
    fstr(&f, z.p, z.len);
    fu8(&f, 14); /* quicklist v1 of two ziplists */
    fcstr(&f, "q");
    flen(&f, 2);
    fstr(&f, z.p, z.len);
    fstr(&f, z.p, z.len);
    fin(&f);
    char *got = load_render(&f, NULL);
    tc_buf want = {0};
    for (int k = 0; k < 2; k++) {
        if (k == 0)
            tc_buf_puts(&want, "db 0: 2 keys\n\"l\" list quicklist exp=-1:");
        else
            tc_buf_puts(&want, "\"q\" list quicklist exp=-1:");
        for (int rep = 0; rep < (k ? 2 : 1); rep++) {
            for (size_t i = 0; i < nv; i++) {
                tc_buf_puts(&want, " ");
                tc_buf_quote(&want, vals[i], strlen(vals[i]));
            }
            tc_buf_puts(&want, " ");
            tc_buf_quote(&want, s300, sizeof s300);
            tc_buf_puts(&want, " \"after-long\" ");
            tc_buf_quote(&want, s20k, sizeof s20k);
        }
        tc_buf_puts(&want, "\n");
    }
    assert_string_equal(got, tc_buf_cstr(&want));
    free(got);
    tc_buf_free(&want);
    free(z.p);

    /* Hash and zset ziplists */
    zl_begin(&z);
    zl_add(&z, "f1", 2);
    zl_add(&z, "v1", 2);
    zl_add(&z, "7", 1);
    zl_add(&z, "-70000", 6);
    zl_end(&z);
    zlb zz;
    zl_begin(&zz);
    zl_add(&zz, "a", 1);
    zl_add(&zz, "1.5", 3);
    zl_add(&zz, "b", 1);
    zl_add(&zz, "-2", 2);
    zl_add(&zz, "c", 1);
    zl_add(&zz, "inf", 3);
    zl_end(&zz);
    fmagic(&f, 9);
    fu8(&f, 13);
    fcstr(&f, "h");
    fstr(&f, z.p, z.len);
    fu8(&f, 12);
    fcstr(&f, "z");
    fstr(&f, zz.p, zz.len);
    fin(&f);
    expect_render(&f, NULL,
                  "db 0: 2 keys\n"
                  "\"h\" hash listpack exp=-1: \"7\" \"-70000\" \"f1\" \"v1\"\n"
                  "\"z\" zset listpack exp=-1: \"b\" \"-2\" \"a\" \"1.5\" \"c\" \"inf\"\n");

    /* Damaged ziplists: every single-byte change of the header or an entry
     * is either still a valid ziplist or refused; never a crash. And some
     * specific faults must be refused. */
    struct {
        size_t at;
        uint8_t val;
        const char *what;
    } faults[] = {
        {0, 0x10, "header size"},  /* zlbytes */
        {4, 0x00, "tail offset"},  /* zltail */
        {8, 0x09, "header count"}, /* zllen */
        {10, 0x05, "bad entry"},   /* first prevlen must be 0 */
        {11, 0x3F, "bad entry"},   /* string length past the end */
        {11, 0xC5, "bad entry"},   /* no such encoding */
        {z.len - 1, 0x00, "terminator"},
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        uint8_t *c = malloc(z.len);
        memcpy(c, z.p, z.len);
        c[faults[i].at] = faults[i].val;
        fmagic(&f, 9);
        fu8(&f, 13);
        fcstr(&f, "h");
        fstr(&f, c, z.len);
        fin(&f);
        expect_fail(&f, faults[i].what);
        free(c);
    }
    for (size_t at = 0; at < z.len; at++)
        for (unsigned val = 0; val < 256; val += 17) {
            uint8_t *c = malloc(z.len);
            memcpy(c, z.p, z.len);
            c[at] = (uint8_t)val;
            fmagic(&f, 9);
            fu8(&f, 13);
            fcstr(&f, "h");
            fstr(&f, c, z.len);
            fin(&f);
            ember_db *db = open_db();
            em_rdb_err err;
            (void)load_buf(db, &f, &err);
            ember_db_close(db);
            free(c);
        }
    /* Odd element count */
    zlb odd;
    zl_begin(&odd);
    zl_add(&odd, "f", 1);
    zl_end(&odd);
    fmagic(&f, 9);
    fu8(&f, 13);
    fcstr(&f, "h");
    fstr(&f, odd.p, odd.len);
    fin(&f);
    expect_fail(&f, "odd number");
    fmagic(&f, 9);
    fu8(&f, 12);
    fcstr(&f, "h");
    fstr(&f, odd.p, odd.len);
    fin(&f);
    expect_fail(&f, "odd number");
    free(odd.p);
    free(z.p);
    free(zz.p);
    free(f.p);
}

static void test_load_listpacks_intsets(void **state)
{
    (void)state;
    static const char *const hash_els[] = {"f", "v", "n", "12", "big", "123456789012345"};
    static const char *const zset_els[] = {"a", "3", "b", "1.25", "c", "-inf"};
    static const char *const list_els[] = {"x", "-7", "y"};
    uint8_t *hl = lp_of(hash_els, 6), *zl = lp_of(zset_els, 6), *ll = lp_of(list_els, 3);
    uint8_t *is = ember__intset_new(&scratch_mem);
    int added;
    static const int64_t ints[] = {5, -3, 100000, 1};
    for (size_t i = 0; i < 4; i++)
        is = ember__intset_add(&scratch_mem, is, ints[i], &added);
    em_rdb_buf f = {0};
    fmagic(&f, 10);
    fu8(&f, 16);
    fcstr(&f, "h");
    fstr(&f, hl, ember__lp_bytes(hl));
    fu8(&f, 17);
    fcstr(&f, "z");
    fstr(&f, zl, ember__lp_bytes(zl));
    fu8(&f, 11);
    fcstr(&f, "s");
    fstr(&f, is, ember__intset_bytes(is));
    fu8(&f, 18);
    fcstr(&f, "q");
    flen(&f, 3);
    flen(&f, 2); /* packed */
    fstr(&f, ll, ember__lp_bytes(ll));
    flen(&f, 1); /* plain */
    fcstr(&f, "plain element");
    flen(&f, 2);
    fstr(&f, ll, ember__lp_bytes(ll));
    fin(&f);
    static const char *const want =
        "db 0: 4 keys\n"
        "\"h\" hash listpack exp=-1: \"big\" \"123456789012345\" \"f\" \"v\" \"n\" \"12\"\n"
        "\"q\" list quicklist exp=-1: \"x\" \"-7\" \"y\" \"plain element\" \"x\" \"-7\" \"y\"\n"
        "\"s\" set intset exp=-1: \"-3\" \"1\" \"100000\" \"5\"\n"
        "\"z\" zset listpack exp=-1: \"c\" \"-inf\" \"b\" \"1.25\" \"a\" \"3\"\n";
    expect_render(&f, NULL, want);
    /* Over the thresholds: converted. */
    static const char *const tiny[] = {"hash-max-listpack-entries",
                                       "2",
                                       "zset-max-listpack-value",
                                       "0",
                                       "set-max-intset-entries",
                                       "3",
                                       NULL};
    expect_render(&f, tiny,
                  "db 0: 4 keys\n"
                  "\"h\" hash hashtable exp=-1: \"big\" \"123456789012345\" \"f\" \"v\" \"n\" "
                  "\"12\"\n"
                  "\"q\" list quicklist exp=-1: \"x\" \"-7\" \"y\" \"plain element\" \"x\" \"-7\" "
                  "\"y\"\n"
                  "\"s\" set listpack exp=-1: \"-3\" \"1\" \"100000\" \"5\"\n"
                  "\"z\" zset skiplist exp=-1: \"c\" \"-inf\" \"b\" \"1.25\" \"a\" \"3\"\n");
    /* Damaged blobs are refused. */
    size_t hb = ember__lp_bytes(hl);
    uint8_t *c = malloc(hb);
    memcpy(c, hl, hb);
    c[hb - 1] = 0;
    fmagic(&f, 10);
    fu8(&f, 16);
    fcstr(&f, "h");
    fstr(&f, c, hb);
    fin(&f);
    expect_fail(&f, "invalid listpack");
    free(c);
    size_t ib = ember__intset_bytes(is);
    c = malloc(ib);
    memcpy(c, is, ib);
    c[11] = 0x7F; /* first element larger than the second */
    fmagic(&f, 10);
    fu8(&f, 11);
    fcstr(&f, "s");
    fstr(&f, c, ib);
    fin(&f);
    expect_fail(&f, "invalid intset");
    free(c);
    /* Duplicate fields inside a valid listpack; a bad score; a bad container */
    static const char *const dupf[] = {"f", "1", "f", "2"};
    uint8_t *d = lp_of(dupf, 4);
    fmagic(&f, 10);
    fu8(&f, 16);
    fcstr(&f, "h");
    fstr(&f, d, ember__lp_bytes(d));
    fin(&f);
    expect_fail(&f, "duplicate hash field");
    static const char *const badscore[] = {"m", "1.5x"};
    uint8_t *bs = lp_of(badscore, 2);
    fmagic(&f, 10);
    fu8(&f, 17);
    fcstr(&f, "z");
    fstr(&f, bs, ember__lp_bytes(bs));
    fin(&f);
    expect_fail(&f, "bad sorted set score");
    fmagic(&f, 10);
    fu8(&f, 18);
    fcstr(&f, "q");
    flen(&f, 1);
    flen(&f, 3);
    fstr(&f, ll, ember__lp_bytes(ll));
    fin(&f);
    expect_fail(&f, "container");
    ember__lp_free(&scratch_mem, d);
    ember__lp_free(&scratch_mem, bs);
    ember__lp_free(&scratch_mem, hl);
    ember__lp_free(&scratch_mem, zl);
    ember__lp_free(&scratch_mem, ll);
    ember__intset_free(&scratch_mem, is);
    free(f.p);
}

/* Zipmaps (type 9, Redis < 2.6 hashes): free bytes, 5-byte lengths,
 * duplicates, damage. */
static void test_load_zipmap(void **state)
{
    (void)state;
    uint8_t z[400];
    size_t n = 0;
    z[n++] = 3;
    z[n++] = 1; /* "a" -> "x" */
    z[n++] = 'a';
    z[n++] = 1;
    z[n++] = 0;
    z[n++] = 'x';
    z[n++] = 1; /* "b" -> "yz", 2 free bytes */
    z[n++] = 'b';
    z[n++] = 2;
    z[n++] = 2;
    z[n++] = 'y';
    z[n++] = 'z';
    z[n++] = '?';
    z[n++] = '?';
    z[n++] = 254; /* a 300-byte key, in the long form */
    z[n++] = 300 & 255;
    z[n++] = 300 >> 8;
    z[n++] = 0;
    z[n++] = 0;
    memset(z + n, 'k', 300);
    n += 300;
    z[n++] = 2;
    z[n++] = 0;
    z[n++] = '4';
    z[n++] = '2';
    z[n++] = 0xFF;
    em_rdb_buf f = {0};
    fmagic(&f, 6);
    fu8(&f, 9);
    fcstr(&f, "h");
    fstr(&f, z, n);
    fin(&f);
    char k300[301];
    memset(k300, 'k', 300);
    k300[300] = 0;
    char want[512];
    snprintf(want, sizeof want,
             "db 0: 1 keys\n\"h\" hash hashtable exp=-1: \"a\" \"x\" \"b\" \"yz\" \"%s\" "
             "\"42\"\n",
             k300);
    expect_render(&f, NULL, want); /* a 300-byte field: over hash-max-listpack-value */
    /* damage: a wrong count, a value past the end, no terminator, a duplicate */
    struct {
        size_t at;
        uint8_t val;
        const char *what;
    } faults[] = {{0, 2, "header count"},
                  {17, 1, "bad entry"},
                  {n - 1, 0, "terminator"},
                  {7, 'a', "duplicate hash field"}};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        uint8_t c[400];
        memcpy(c, z, n);
        c[faults[i].at] = faults[i].val;
        fmagic(&f, 6);
        fu8(&f, 9);
        fcstr(&f, "h");
        fstr(&f, c, n);
        fin(&f);
        expect_fail(&f, faults[i].what);
    }
    /* every single-byte change: refused or loaded, never a crash */
    for (size_t at = 0; at < 20; at++)
        for (unsigned v = 0; v < 256; v += 7) {
            uint8_t c[400];
            memcpy(c, z, n);
            c[at] = (uint8_t)v;
            fmagic(&f, 6);
            fu8(&f, 9);
            fcstr(&f, "h");
            fstr(&f, c, n);
            fin(&f);
            ember_db *db = open_db();
            em_rdb_err err;
            (void)load_buf(db, &f, &err);
            ember_db_close(db);
        }
    free(f.p);
}

/* Zset type 3: scores as text (253/254/255: NaN, +inf, -inf). */
static void test_load_zset_text_scores(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    fmagic(&f, 6);
    fu8(&f, 3);
    fcstr(&f, "z");
    flen(&f, 3);
    fcstr(&f, "a");
    fu8(&f, 4);
    fbytes(&f, "2.25", 4);
    fcstr(&f, "b");
    fu8(&f, 254);
    fcstr(&f, "c");
    fu8(&f, 255);
    fin(&f);
    expect_render(&f, NULL,
                  "db 0: 1 keys\n\"z\" zset listpack exp=-1: \"c\" \"-inf\" \"a\" "
                  "\"2.25\" \"b\" \"inf\"\n");
    fmagic(&f, 6);
    fu8(&f, 3);
    fcstr(&f, "z");
    flen(&f, 1);
    fcstr(&f, "a");
    fu8(&f, 253);
    fin(&f);
    expect_fail(&f, "NaN");
    free(f.p);
}

/* ------------------------------------------------------------ LZF */

static void test_lzf_vectors(void **state)
{
    (void)state;
    uint8_t out[64];
    /* literal run */
    static const uint8_t lit[] = {0x04, 'h', 'e', 'l', 'l', 'o'};
    assert_int_equal(ember__lzf_decompress(lit, sizeof lit, out, 5, NULL), 0);
    assert_memory_equal(out, "hello", 5);
    /* overlapping back-reference: "a" then 9 copies from offset 1 */
    static const uint8_t run[] = {0x00, 'a', (uint8_t)(7 << 5), 0x00, 0x00};
    /* len 7 + 0 + 2 = 9, offset 0 + 1 */
    assert_int_equal(ember__lzf_decompress(run, sizeof run, out, 10, NULL), 0);
    assert_memory_equal(out, "aaaaaaaaaa", 10);
    /* short reference: len field 1 -> 3 bytes, offset 2: "ab" + "aba" */
    static const uint8_t sref[] = {0x01, 'a', 'b', (uint8_t)(1 << 5), 0x01};
    assert_int_equal(ember__lzf_decompress(sref, sizeof sref, out, 5, NULL), 0);
    assert_memory_equal(out, "ababa", 5);
    /* a reference with a high offset byte: 300 literal bytes then copy 3
     * from 257 back (offset field 256 = (1 << 8) + 0) */
    uint8_t big[400];
    size_t n = 0;
    uint8_t expect[303];
    for (int blk = 0; blk < 10; blk++) {
        big[n++] = 29; /* 30 literals */
        for (int i = 0; i < 30; i++) {
            uint8_t c = (uint8_t)(blk * 30 + i);
            big[n++] = c;
            expect[blk * 30 + i] = c;
        }
    }
    big[n++] = (uint8_t)((1 << 5) | 1);
    big[n++] = 0;
    memcpy(expect + 300, expect + 300 - 257, 3);
    uint8_t out2[303];
    assert_int_equal(ember__lzf_decompress(big, n, out2, 303, NULL), 0);
    assert_memory_equal(out2, expect, 303);
    /* errors: reference before the start, truncated literal, truncated
     * reference, output too long or too short */
    size_t bad;
    static const uint8_t before[] = {0x00, 'a', (uint8_t)(1 << 5), 0x01};
    assert_int_equal(ember__lzf_decompress(before, sizeof before, out, 4, &bad), -1);
    assert_int_equal(bad, 2);
    assert_int_equal(ember__lzf_decompress(lit, sizeof lit - 1, out, 5, &bad), -1);
    static const uint8_t cut[] = {0x00, 'a', 0xE0};
    assert_int_equal(ember__lzf_decompress(cut, sizeof cut, out, 10, &bad), -1);
    static const uint8_t cut2[] = {0x00, 'a', 0xE0, 0x01};
    assert_int_equal(ember__lzf_decompress(cut2, sizeof cut2, out, 10, &bad), -1);
    assert_int_equal(ember__lzf_decompress(lit, sizeof lit, out, 4, NULL), -1);
    assert_int_equal(ember__lzf_decompress(lit, sizeof lit, out, 6, &bad), -1);
    assert_int_equal(bad, sizeof lit);
    assert_int_equal(ember__lzf_decompress(run, sizeof run, out, 9, NULL), -1);
    assert_int_equal(ember__lzf_decompress(NULL, 0, out, 0, NULL), 0);

    /* Through the loader: a bad stream, and an impossible expansion. */
    em_rdb_buf f = {0};
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fu8(&f, 0xC3);
    flen(&f, sizeof before);
    flen(&f, 4);
    fbytes(&f, before, sizeof before);
    fin(&f);
    expect_fail(&f, "invalid LZF");
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fu8(&f, 0xC3);
    flen(&f, 2);
    flen(&f, 1000);
    fbytes(&f, "\x00x", 2);
    fin(&f);
    expect_fail(&f, "cannot expand");
    free(f.p);
}

/* ------------------------------------------------------------ robustness */

/* A file that exercises every parser: the writer's types plus hand-built
 * blobs (ziplists, listpacks, intset, quicklists, LZF). */
static size_t rich_blobs_at; /* where rich_file's hand-built part starts */

static void rich_file(em_rdb_buf *out)
{
    ember_db *db = open_db();
    fill_rich(db, 0);
    /* fill_rich(0) still writes the small values; add the blob types */
    em_rdb_buf b = {0};
    save(db, &b);
    ember_db_close(db);
    out->len = 0;
    fbytes(out, b.p, b.len - 9); /* without EOF + CRC */
    ember__rdb_buf_free(&b);
    rich_blobs_at = out->len;

    zlb z;
    zl_begin(&z);
    zl_add(&z, "f", 1);
    zl_add(&z, "123", 3);
    zl_add(&z, "g", 1);
    zl_add(&z, "value", 5);
    zl_end(&z);
    fu8(out, 13);
    fcstr(out, "zl:h");
    fstr(out, z.p, z.len);
    zlb zz;
    zl_begin(&zz);
    zl_add(&zz, "m", 1);
    zl_add(&zz, "2.5", 3);
    zl_add(&zz, "n", 1);
    zl_add(&zz, "-7", 2);
    zl_end(&zz);
    fu8(out, 12);
    fcstr(out, "zl:z");
    fstr(out, zz.p, zz.len);
    free(zz.p);
    fu8(out, 10);
    fcstr(out, "zl:l");
    fstr(out, z.p, z.len);
    fu8(out, 14);
    fcstr(out, "zl:q");
    flen(out, 1);
    fstr(out, z.p, z.len);
    free(z.p);
    static const char *const els[] = {"a", "1", "b", "-2.5", "c", "300"};
    uint8_t *lp = lp_of(els, 6);
    fu8(out, 16);
    fcstr(out, "lp:h");
    fstr(out, lp, ember__lp_bytes(lp));
    fu8(out, 17);
    fcstr(out, "lp:z");
    fstr(out, lp, ember__lp_bytes(lp));
    fu8(out, 18);
    fcstr(out, "lp:q");
    flen(out, 2);
    flen(out, 2);
    fstr(out, lp, ember__lp_bytes(lp));
    flen(out, 1);
    fcstr(out, "plain");
    ember__lp_free(&scratch_mem, lp);
    uint8_t *is = ember__intset_new(&scratch_mem);
    int added;
    for (int64_t v = -3; v < 5; v++)
        is = ember__intset_add(&scratch_mem, is, v * 1000, &added);
    fu8(out, 11);
    fcstr(out, "is");
    fstr(out, is, ember__intset_bytes(is));
    ember__intset_free(&scratch_mem, is);
    static const uint8_t lz[] = {0x02, 'a', 'b', 'c', 0xE0, 0x06, 0x02};
    fu8(out, 0);
    fcstr(out, "lzf");
    fu8(out, 0xC3);
    flen(out, sizeof lz);
    flen(out, 18);
    fbytes(out, lz, sizeof lz);
    fin(out);
}

static void test_truncation_sweep(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    rich_file(&f);
    ember_db *db = open_db();
    em_rdb_err err;
    if (load_buf(db, &f, &err))
        fail_msg("the whole file: %s", err.msg);
    flush_store(db);
    for (size_t n = 0; n < f.len; n++) {
        if (load(db, f.p, n, &err) != -1)
            fail_msg("prefix of %zu bytes loaded", n);
        assert_true(err.msg[0] != 0);
        assert_true(err.offset <= n);
        flush_store(db);
    }
    ember_db_close(db);
    free(f.p);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_corruption_fuzz(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    rich_file(&f);
    uint8_t *c = malloc(f.len);
    ember_db *db = open_db();
    int loaded = 0;
    const int cycles = 3000;
    for (int i = 0; i < cycles; i++) {
        memcpy(c, f.p, f.len);
        int flips = 1 + (int)(rnd() % 3);
        for (int k = 0; k < flips; k++) {
            /* Half of the damage goes to the hand-built blobs, where the
             * structure is densest; never to the magic or the CRC. */
            size_t lo = rnd() % 2 ? rich_blobs_at : 9;
            size_t at = lo + rnd() % (f.len - 8 - lo);
            switch (rnd() % 3) {
            case 0:
                c[at] ^= (uint8_t)(1u << (rnd() % 8));
                break;
            case 1:
                c[at] = (uint8_t)rnd();
                break;
            default:
                c[at] = (uint8_t)(rnd() % 2 ? 0xFF : 0x00);
            }
        }
        recrc(c, f.len);
        em_rdb_err err;
        memsrc m = {c, f.len, 0, 1 + rnd() % 70000};
        em_rdb_src src = {mem_read, &m};
        if (ember__rdb_load(&src, store_of(db), cfg_of(db), T0, &err) == 0) {
            loaded++;
            /* What loaded is a consistent store: render it all. */
            tc_buf out = {0};
            dump_all(db, 1, &out);
            tc_buf_free(&out);
        } else {
            assert_true(err.msg[0] != 0);
            assert_true(err.offset <= f.len);
        }
        flush_store(db);
    }
    print_message("fuzz: %d of %d mutated files loaded\n", loaded, cycles);
    ember_db_close(db);
    free(c);
    free(f.p);
}

static void test_bounded_allocation(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    /* A string of 2^62 bytes */
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fu8(&f, 0x81);
    fle(&f, 0, 0);
    static const uint8_t l62[8] = {0x40, 0, 0, 0, 0, 0, 0, 0};
    fbytes(&f, l62, 8);
    fbytes(&f, "abc", 3);
    fin(&f);
    expect_fail(&f, "exceeds the limit");
    /* A key of 2^62 bytes */
    fmagic(&f, 10);
    fu8(&f, 0);
    fu8(&f, 0x81);
    fbytes(&f, l62, 8);
    fin(&f);
    expect_fail(&f, "exceeds the limit");
    /* Within a huge configured limit, the buffer still only grows with the
     * bytes that arrive: the load ends on the input, not on memory. */
    ember_db *db = open_db();
    em_settings cfg = *cfg_of(db);
    cfg.proto_max_bulk_len = 1ll << 50;
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fu8(&f, 0x81);
    static const uint8_t l48[8] = {0, 1, 0, 0, 0, 0, 0, 0}; /* 2^48 */
    fbytes(&f, l48, 8);
    fbytes(&f, "abc", 3);
    memsrc m = {f.p, f.len, 0, 0};
    em_rdb_src src = {mem_read, &m};
    em_rdb_err err;
    assert_int_equal(ember__rdb_load(&src, store_of(db), &cfg, T0, &err), -1);
    assert_non_null(strstr(err.msg, "unexpected end of input"));
    /* A collection of 2^62 elements, an LZF string announcing 2^40 bytes */
    fmagic(&f, 10);
    fu8(&f, 1);
    fcstr(&f, "l");
    fu8(&f, 0x81);
    fbytes(&f, l62, 8);
    fcstr(&f, "one");
    fin(&f);
    expect_fail(&f, "");
    fmagic(&f, 10);
    fu8(&f, 2);
    fcstr(&f, "s");
    fu8(&f, 0x81);
    fbytes(&f, l62, 8);
    fcstr(&f, "one");
    fin(&f);
    expect_fail(&f, "");
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fu8(&f, 0xC3);
    flen(&f, 10);
    flen(&f, 1ull << 40);
    fbytes(&f, "0123456789", 10);
    fin(&f);
    m = (memsrc){f.p, f.len, 0, 0};
    assert_int_equal(ember__rdb_load(&src, store_of(db), &cfg, T0, &err), -1);
    assert_non_null(strstr(err.msg, "cannot expand"));
    ember_db_close(db);
    free(f.p);
}

/* A read error of the source is reported as such. */
static int64_t failing_read(void *ctx, void *buf, size_t n)
{
    int *calls = ctx;
    if ((*calls)++ > 0)
        return -5;
    memcpy(buf, "REDIS0010", n < 9 ? n : 9);
    return n < 9 ? (int64_t)n : 9;
}

static void test_read_error(void **state)
{
    (void)state;
    ember_db *db = open_db();
    int calls = 0;
    em_rdb_src src = {failing_read, &calls};
    em_rdb_err err;
    assert_int_equal(ember__rdb_load(&src, store_of(db), cfg_of(db), T0, &err), -1);
    assert_non_null(strstr(err.msg, "read error"));
    assert_int_equal(err.offset, 9);
    ember_db_close(db);
}

/* EM_RDB_LOAD_TRAILING: the RDB's length is reported, the tail allowed. */
static void test_trailing_allowed(void **state)
{
    (void)state;
    em_rdb_buf f = {0};
    fmagic(&f, 10);
    fu8(&f, 0);
    fcstr(&f, "k");
    fcstr(&f, "v");
    fin(&f);
    size_t rdb_len = f.len;
    fbytes(&f, "*1\r\n$4\r\nPING\r\n", 14);
    ember_db *db = open_db();
    memsrc m = {f.p, f.len, 0, 0};
    em_rdb_src src = {mem_read, &m};
    em_rdb_err err;
    uint64_t got = 0;
    assert_int_equal(
        ember__rdb_load_ex(&src, store_of(db), cfg_of(db), T0, EM_RDB_LOAD_TRAILING, &got, &err),
        0);
    assert_int_equal(got, rdb_len);
    ember_db_close(db);
    free(f.p);
}

int main(void)
{
    em_alloc_hooks h;
    ember__alloc_default_hooks(&h);
    ember__mem_init(&scratch_mem, &h);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_set_foo_bar),
        cmocka_unit_test(test_exact_dump_payload),
        cmocka_unit_test(test_exact_string_encodings),
        cmocka_unit_test(test_round_trip_rich),
        cmocka_unit_test(test_round_trip_thresholds),
        cmocka_unit_test(test_round_trip_set_listpack),
        cmocka_unit_test(test_load_zset_order),
        cmocka_unit_test(test_lru_lfu),
        cmocka_unit_test(test_expired_skipped),
        cmocka_unit_test(test_writer_skips_empty),
        cmocka_unit_test(test_load_string_encodings),
        cmocka_unit_test(test_load_empty_strings),
        cmocka_unit_test(test_load_old_opcodes_versions),
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_load_duplicates_everywhere),
        cmocka_unit_test(test_load_empty_skipped),
        cmocka_unit_test(test_load_ziplists),
        cmocka_unit_test(test_load_listpacks_intsets),
        cmocka_unit_test(test_load_zipmap),
        cmocka_unit_test(test_load_zset_text_scores),
        cmocka_unit_test(test_lzf_vectors),
        cmocka_unit_test(test_truncation_sweep),
        cmocka_unit_test(test_corruption_fuzz),
        cmocka_unit_test(test_bounded_allocation),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_trailing_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
