/*
 * test_commands_redis.c — COMMAND, DEBUG OBJECT and INFO of an in-process
 * ember database against a private redis-server 7.0 (RESP3).
 *
 *  - COMMAND INFO for every command ember lists: name, arity and
 *    first/last/step exactly; flags, ACL categories, tips and key specs as
 *    sets (Redis's key spec "notes", prose, are not compared); the
 *    subcommands ember has are a subset of Redis's (each is compared on its
 *    own, as COMMAND LIST names it).
 *  - COMMAND COUNT / LIST / GETKEYS / GETKEYSANDFLAGS and the errors.
 *  - DEBUG OBJECT: the same fields in the same order, same encodings.
 *  - INFO: the sections of "everything" and of several arguments, and in
 *    each section ember's Redis fields in Redis's order; INFO keyspace
 *    byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/api_util.h"
#include "../common/diff_util.h"
#include "../common/redis_proc.h"
#include "../common/resp_client.h"
#include "ember.h"

#define EM_TEST_LEN(a) (sizeof(a) / sizeof((a)[0]))

static tc_redis redis;
static tc_conn *rconn;
static ember_db *edb;

static int setup(void **state)
{
    (void)state;
    char err[256];
    const char *args[] = {"--enable-debug-command", "yes", NULL};
    if (tc_redis_start(&redis, args, err, sizeof err) != 0) {
        fprintf(stderr, "redis-server: %s\n", err);
        return -1;
    }
    rconn = tc_conn_open(redis.port);
    if (!rconn)
        return -1;
    const char *hello[] = {"HELLO", "3"};
    tc_resp_free(tc_conn_command(rconn, 2, hello, NULL));
    edb = ta_open(EMBER_MODE_INLINE, 0, 0, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ember_db_close(edb);
    tc_conn_close(rconn);
    tc_redis_stop(&redis);
    return 0;
}

/* Both sides' replies to the same command line (free with tc_resp_free). */
static tc_resp *redis_cmd(size_t argc, const char *const *argv)
{
    tc_resp *r = tc_conn_command(rconn, argc, argv, NULL);
    assert_non_null(r);
    return r;
}

static tc_resp *ember_cmd(size_t argc, const char *const *argv)
{
    ember_reply *er = ta_cmd(edb, argc, argv);
    tc_resp *t = tc_from_ember(er);
    ember_reply_free(er);
    return t;
}

static tc_resp *line_cmd(int on_redis, const char *line)
{
    char store[1024];
    const char *argv[64];
    size_t argc = ta_split(line, store, argv, 64);
    return on_redis ? redis_cmd(argc, argv) : ember_cmd(argc, argv);
}

/* ------------------------------------------------------------ canonical form */

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A canonical text of a reply: sets and maps (and arrays when sort_arrays)
 * in sorted order, map entries named "notes" left out.
 */
static void canon(tc_buf *out, const tc_resp *r, int sort_arrays)
{
    int is_map = r->type == TC_RESP_MAP;
    int sorted = r->type == TC_RESP_SET || is_map || (r->type == TC_RESP_ARRAY && sort_arrays);
    if (r->type != TC_RESP_ARRAY && r->type != TC_RESP_SET && r->type != TC_RESP_MAP) {
        tc_resp_canon(out, r);
        return;
    }
    size_t step = is_map ? 2 : 1, n = r->n / step;
    char **parts = calloc(n ? n : 1, sizeof *parts);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i += step) {
        if (is_map && r->elem[i]->str && strcmp(r->elem[i]->str, "notes") == 0)
            continue;
        tc_buf b = {0};
        canon(&b, r->elem[i], sort_arrays);
        if (is_map) {
            tc_buf_puts(&b, "=>");
            canon(&b, r->elem[i + 1], sort_arrays);
        }
        parts[k++] = strdup(tc_buf_cstr(&b));
        tc_buf_free(&b);
    }
    if (sorted)
        qsort(parts, k, sizeof *parts, str_cmp);
    tc_buf_printf(out, "%c%zu[", is_map ? '%' : r->type == TC_RESP_SET ? '~' : '*', k);
    for (size_t i = 0; i < k; i++) {
        tc_buf_puts(out, parts[i]);
        tc_buf_puts(out, ",");
        free(parts[i]);
    }
    tc_buf_puts(out, "]");
    free(parts);
}

static int canon_equal(const tc_resp *a, const tc_resp *b, int sort_arrays, tc_buf *why)
{
    tc_buf x = {0}, y = {0};
    canon(&x, a, sort_arrays);
    canon(&y, b, sort_arrays);
    int eq = strcmp(tc_buf_cstr(&x), tc_buf_cstr(&y)) == 0;
    if (!eq && why)
        tc_buf_printf(why, "    ember %s\n    redis %s\n", tc_buf_cstr(&x), tc_buf_cstr(&y));
    tc_buf_free(&x);
    tc_buf_free(&y);
    return eq;
}

/* ------------------------------------------------------------ COMMAND */

static const char *const info_fields[] = {"name", "arity", "flags", "first_key", "last_key",
                                          "step", "acl",   "tips",  "key_specs", "subcommands"};

/* Every command ember lists, compared field by field with Redis. */
static void test_command_info_every_command(void **state)
{
    (void)state;
    const char *list[] = {"COMMAND", "LIST"};
    tc_resp *names = ember_cmd(2, list);
    assert_int_equal(names->type, TC_RESP_ARRAY);
    assert_true(names->n > 150);
    size_t exact_bad = 0, other_bad = 0;
    tc_buf why = {0};
    for (size_t i = 0; i < names->n; i++) {
        const char *argv[] = {"COMMAND", "INFO", names->elem[i]->str};
        tc_resp *e = ember_cmd(3, argv), *r = redis_cmd(3, argv);
        assert_int_equal(e->type, TC_RESP_ARRAY);
        assert_int_equal(e->n, 1);
        if (r->type != TC_RESP_ARRAY || r->n != 1 || r->elem[0]->type != TC_RESP_ARRAY) {
            tc_buf_printf(&why, "%s: unknown to redis-server\n", argv[2]);
            exact_bad++;
        } else {
            const tc_resp *ei = e->elem[0], *ri = r->elem[0];
            assert_int_equal(ei->n, 10);
            assert_int_equal(ri->n, 10);
            for (size_t f = 0; f < 9; f++) {
                tc_buf d = {0};
                if (!canon_equal(ei->elem[f], ri->elem[f], 0, &d)) {
                    tc_buf_printf(&why, "%s: %s differs\n%s", argv[2], info_fields[f],
                                  tc_buf_cstr(&d));
                    if (f <= 1 || (f >= 3 && f <= 5))
                        exact_bad++;
                    else
                        other_bad++;
                }
                tc_buf_free(&d);
            }
            /* Subcommands: ember's names are Redis's (each compared above). */
            const tc_resp *es = ei->elem[9], *rs = ri->elem[9];
            for (size_t s = 0; s < es->n; s++) {
                int found = 0;
                for (size_t t = 0; t < rs->n; t++)
                    found |= strcmp(es->elem[s]->elem[0]->str, rs->elem[t]->elem[0]->str) == 0;
                if (!found) {
                    tc_buf_printf(&why, "%s: subcommand %s unknown to Redis\n", argv[2],
                                  es->elem[s]->elem[0]->str);
                    exact_bad++;
                }
            }
        }
        tc_resp_free(e);
        tc_resp_free(r);
    }
    if (why.len)
        fprintf(stderr, "%s", tc_buf_cstr(&why));
    fprintf(stderr, "COMMAND INFO: %zu commands, %zu exact-field and %zu other mismatches\n",
            names->n, exact_bad, other_bad);
    tc_buf_free(&why);
    tc_resp_free(names);
    assert_int_equal(exact_bad, 0);
    assert_int_equal(other_bad, 0);
}

/* COMMAND COUNT is the number of top-level commands COMMAND describes. */
static void test_command_count(void **state)
{
    (void)state;
    tc_resp *count = line_cmd(0, "COMMAND COUNT");
    tc_resp *all = line_cmd(0, "COMMAND");
    tc_resp *list = line_cmd(0, "COMMAND LIST");
    assert_int_equal(count->type, TC_RESP_INTEGER);
    assert_int_equal(all->type, TC_RESP_ARRAY);
    assert_int_equal((size_t)count->integer, all->n);
    size_t top = 0;
    for (size_t i = 0; i < list->n; i++)
        top += strchr(list->elem[i]->str, '|') == NULL;
    assert_int_equal(top, all->n);
    assert_true(count->integer >= 140);
    tc_resp_free(count);
    tc_resp_free(all);
    tc_resp_free(list);
}

/* Lines whose replies (keys, flags, errors) must be identical. */
static void test_command_subcommands_same_replies(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "COMMAND GETKEYS get k",
        "COMMAND GETKEYS mset a 1 b 2",
        "COMMAND GETKEYS mset a 1 b",
        "COMMAND GETKEYS lmpop 2 a b left",
        "COMMAND GETKEYS lmpop 0 left",
        "COMMAND GETKEYS lmpop x a left",
        "COMMAND GETKEYS blmpop 0 2 a b left",
        "COMMAND GETKEYS zunionstore d 2 a b weights 1 2",
        "COMMAND GETKEYS zunionstore d 5 a",
        "COMMAND GETKEYS zunion -1 a",
        "COMMAND GETKEYS sintercard 2 a b limit 1",
        "COMMAND GETKEYS blpop a b 0",
        "COMMAND GETKEYS object encoding k",
        "COMMAND GETKEYS object foo k",
        "COMMAND GETKEYS config get x",
        "COMMAND GETKEYS ping a",
        "COMMAND GETKEYS nosuch a",
        "COMMAND GETKEYS get a b",
        "COMMAND GETKEYS get",
        "COMMAND GETKEYSANDFLAGS lmove a b left right",
        "COMMAND GETKEYSANDFLAGS zrangestore d s 0 1",
        "COMMAND GETKEYSANDFLAGS del a b c",
        "COMMAND INFO nosuch get",
        "COMMAND INFO CONFIG|GET",
        "COMMAND DOCS nosuch",
        "COMMAND LIST x",
        "COMMAND LIST FILTERBY x y",
        "COMMAND LIST FILTERBY MODULE x",
        "COMMAND FOO",
        "COMMAND COUNT x",
        "COMMAND HELP",
    };
    size_t bad = 0;
    for (size_t i = 0; i < EM_TEST_LEN(lines); i++) {
        tc_resp *e = line_cmd(0, lines[i]), *r = line_cmd(1, lines[i]);
        tc_buf d = {0};
        if (!canon_equal(e, r, 0, &d)) {
            fprintf(stderr, "%s\n%s", lines[i], tc_buf_cstr(&d));
            bad++;
        }
        tc_buf_free(&d);
        tc_resp_free(e);
        tc_resp_free(r);
    }
    assert_int_equal(bad, 0);
}

/* LIST FILTERBY: ember's answer is Redis's restricted to ember's commands. */
static void test_command_list_filters(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "COMMAND LIST FILTERBY PATTERN z*store", "COMMAND LIST FILTERBY PATTERN CONFIG*",
        "COMMAND LIST FILTERBY ACLCAT hash",     "COMMAND LIST FILTERBY ACLCAT dangerous",
        "COMMAND LIST FILTERBY ACLCAT nosuch",
    };
    tc_resp *mine = line_cmd(0, "COMMAND LIST");
    for (size_t i = 0; i < EM_TEST_LEN(lines); i++) {
        tc_resp *e = line_cmd(0, lines[i]), *r = line_cmd(1, lines[i]);
        /* Keep Redis's names that ember has. */
        size_t k = 0;
        for (size_t j = 0; j < r->n; j++) {
            int have = 0;
            for (size_t m = 0; m < mine->n; m++)
                have |= strcmp(mine->elem[m]->str, r->elem[j]->str) == 0;
            if (have)
                r->elem[k++] = r->elem[j];
            else
                tc_resp_free(r->elem[j]);
        }
        r->n = k;
        assert_true(canon_equal(e, r, 1, NULL));
        if (i == 0)
            assert_int_equal(e->n, 4);
        tc_resp_free(e);
        tc_resp_free(r);
    }
    tc_resp_free(mine);
}

/* DOCS: summary (ember's own words), since and group as Redis's. */
static void test_command_docs(void **state)
{
    (void)state;
    static const char *const names[] = {"get", "zadd", "config", "object", "command", "debug"};
    for (size_t i = 0; i < EM_TEST_LEN(names); i++) {
        const char *argv[] = {"COMMAND", "DOCS", names[i]};
        tc_resp *e = ember_cmd(3, argv), *r = redis_cmd(3, argv);
        assert_int_equal(e->type, TC_RESP_MAP);
        assert_int_equal(e->n, 2);
        assert_string_equal(e->elem[0]->str, names[i]);
        const tc_resp *em = e->elem[1], *rm = r->elem[1];
        for (size_t f = 0; f < em->n; f += 2) {
            const char *key = em->elem[f]->str;
            if (strcmp(key, "summary") == 0) {
                assert_true(em->elem[f + 1]->len > 10);
                continue;
            }
            if (strcmp(key, "subcommands") == 0)
                continue;
            int found = 0;
            for (size_t g = 0; g < rm->n; g += 2) {
                if (strcmp(rm->elem[g]->str, key) == 0) {
                    assert_string_equal(em->elem[f + 1]->str, rm->elem[g + 1]->str);
                    found = 1;
                }
            }
            assert_true(found);
        }
        tc_resp_free(e);
        tc_resp_free(r);
    }
}

/* ------------------------------------------------------------ DEBUG OBJECT */

/* The field names of a DEBUG OBJECT line, in order, and the encoding. */
static void debug_fields(const char *line, char *names, size_t cap, char *enc, size_t enccap)
{
    names[0] = enc[0] = '\0';
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", line);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        char *colon = strchr(tok, ':'); /* "Value" has none: "Value at:0x..." */
        if (colon) {
            *colon = '\0';
            if (strcmp(tok, "encoding") == 0)
                snprintf(enc, enccap, "%s", colon + 1);
        }
        strncat(names, tok, cap - strlen(names) - 2);
        strncat(names, " ", cap - strlen(names) - 1);
    }
}

static void test_debug_object_format(void **state)
{
    (void)state;
    static const char *const setup_lines[] = {
        "FLUSHALL",      "SET s hello", "SET i 12",    "SET big 123456789012",
        "RPUSH l a b c", "HSET h f v",  "SADD st 1 2", "ZADD z 1 a",
    };
    for (size_t i = 0; i < EM_TEST_LEN(setup_lines); i++) {
        tc_resp_free(line_cmd(0, setup_lines[i]));
        tc_resp_free(line_cmd(1, setup_lines[i]));
    }
    /* (No small set of strings: ember keeps it in a listpack, as Redis 7.2,
     * where 7.0 uses a hashtable.) */
    static const char *const keys[] = {"s", "i", "big", "l", "h", "st", "z"};
    for (size_t i = 0; i < EM_TEST_LEN(keys); i++) {
        const char *argv[] = {"DEBUG", "OBJECT", keys[i]};
        tc_resp *e = ember_cmd(3, argv), *r = redis_cmd(3, argv);
        assert_int_equal(e->type, TC_RESP_STATUS);
        assert_int_equal(r->type, TC_RESP_STATUS);
        char en[256], rn[256], ee[32], re[32];
        debug_fields(e->str, en, sizeof en, ee, sizeof ee);
        debug_fields(r->str, rn, sizeof rn, re, sizeof re);
        assert_string_equal(en, rn);
        assert_string_equal(ee, re);
        assert_true(strncmp(e->str, "Value at:0x", 11) == 0);
        /* refcount as Redis's (shared small integers) */
        assert_true(strstr(e->str, "refcount:") != NULL);
        assert_memory_equal(strstr(e->str, "refcount:"), strstr(r->str, "refcount:"), 11);
        /* The same RDB bytes for small values (Redis LZF-compresses long
         * strings, ember's writer does not: those would differ). */
        assert_int_equal(atol(strstr(e->str, "serializedlength:") + 17),
                         atol(strstr(r->str, "serializedlength:") + 17));
        tc_resp_free(e);
        tc_resp_free(r);
    }
    static const char *const errs[] = {"DEBUG OBJECT nokey",
                                       "DEBUG OBJECT",
                                       "DEBUG FOO",
                                       "DEBUG SLEEP",
                                       "DEBUG RELOAD x",
                                       "DEBUG JMAP",
                                       "DEBUG",
                                       "DEBUG SLEEP 0",
                                       "DEBUG SET-ACTIVE-EXPIRE 1 2"};
    for (size_t i = 0; i < EM_TEST_LEN(errs); i++) {
        tc_resp *e = line_cmd(0, errs[i]), *r = line_cmd(1, errs[i]);
        assert_true(tc_resp_equal(r, e, 0));
        tc_resp_free(e);
        tc_resp_free(r);
    }
}

/* ------------------------------------------------------------ INFO */

/* Section titles and, per section, field names of an INFO text. */
typedef struct info_doc {
    char titles[32][32];
    size_t ntitles;
    char fields[32][128][48];
    size_t nfields[32];
} info_doc;

static void info_parse(const char *text, info_doc *d)
{
    memset(d, 0, sizeof *d);
    const char *p = text;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n > 2 && p[0] == '#') {
            assert_true(d->ntitles < 32);
            snprintf(d->titles[d->ntitles++], 32, "%.*s", (int)n - 2, p + 2);
        } else if (n > 0) {
            const char *colon = memchr(p, ':', n);
            assert_non_null(colon);
            size_t s = d->ntitles - 1;
            if (d->nfields[s] < 128)
                snprintf(d->fields[s][d->nfields[s]++], 48, "%.*s", (int)(colon - p), p);
        }
        p += n + (eol ? 2 : 0);
    }
}

static int ember_only_field(const char *f)
{
    return strncmp(f, "ember_", 6) == 0 || strncmp(f, "executor_", 9) == 0 ||
           strcmp(f, "clock") == 0 || strcmp(f, "expire_cycles") == 0;
}

static void test_info_sections_and_order(void **state)
{
    (void)state;
    static info_doc e, r;
    tc_resp *et = line_cmd(0, "INFO everything"), *rt = line_cmd(1, "INFO everything");
    assert_int_equal(et->type, TC_RESP_STRING);
    info_parse(et->str, &e);
    info_parse(rt->type == TC_RESP_VERBATIM ? rt->str + 4 : rt->str, &r);
    /* Ember's sections are Redis's, in order, without the per-command
     * ones (Commandstats, Latencystats: not kept). */
    size_t j = 0;
    for (size_t i = 0; i < r.ntitles; i++) {
        if (!strcmp(r.titles[i], "Commandstats") || !strcmp(r.titles[i], "Latencystats"))
            continue;
        assert_true(j < e.ntitles);
        assert_string_equal(e.titles[j], r.titles[i]);
        /* Ember's Redis fields appear in Redis's order. */
        size_t pos = 0;
        for (size_t f = 0; f < e.nfields[j]; f++) {
            if (ember_only_field(e.fields[j][f]))
                continue;
            while (pos < r.nfields[i] && strcmp(r.fields[i][pos], e.fields[j][f]) != 0)
                pos++;
            if (pos == r.nfields[i])
                fail_msg("INFO %s: field %s missing or out of Redis's order", e.titles[j],
                         e.fields[j][f]);
        }
        j++;
    }
    assert_int_equal(j, e.ntitles);
    /* The fields clients read are there. */
    static const char *const must[] = {
        "redis_version",
        "redis_mode",
        "os",
        "arch_bits",
        "process_id",
        "run_id",
        "tcp_port",
        "uptime_in_seconds",
        "connected_clients",
        "maxclients",
        "blocked_clients",
        "used_memory",
        "maxmemory",
        "rdb_last_save_time",
        "aof_enabled",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "evicted_keys",
        "role",
        "connected_slaves",
        "master_replid",
        "used_cpu_sys",
        "cluster_enabled",
    };
    for (size_t m = 0; m < EM_TEST_LEN(must); m++) {
        int found = 0;
        for (size_t s = 0; s < e.ntitles; s++)
            for (size_t f = 0; f < e.nfields[s]; f++)
                found |= strcmp(e.fields[s][f], must[m]) == 0;
        if (!found)
            fail_msg("INFO field %s missing", must[m]);
    }
    assert_non_null(strstr(et->str, "redis_version:7.0.15\r\n"));
    tc_resp_free(et);
    tc_resp_free(rt);
}

/* Several sections, default, unknown names, any case: the same titles. */
static void test_info_arguments(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "INFO",     "INFO default", "INFO server clients", "INFO CPU keyspace Server",
        "INFO foo", "INFO all",     "INFO replication"};
    static info_doc e, r;
    for (size_t i = 0; i < EM_TEST_LEN(lines); i++) {
        tc_resp *et = line_cmd(0, lines[i]), *rt = line_cmd(1, lines[i]);
        info_parse(et->str, &e);
        info_parse(rt->type == TC_RESP_VERBATIM ? rt->str + 4 : rt->str, &r);
        size_t j = 0;
        for (size_t t = 0; t < r.ntitles; t++) {
            if (!strcmp(r.titles[t], "Commandstats") || !strcmp(r.titles[t], "Latencystats"))
                continue;
            assert_true(j < e.ntitles);
            assert_string_equal(e.titles[j++], r.titles[t]);
        }
        assert_int_equal(j, e.ntitles);
        tc_resp_free(et);
        tc_resp_free(rt);
    }
}

static void test_info_keyspace_exact(void **state)
{
    (void)state;
    static const char *const setup_lines[] = {"FLUSHALL", "SET a 1",   "SET b 2",
                                              "SELECT 3", "RPUSH l x", "SELECT 0"};
    for (size_t i = 0; i < EM_TEST_LEN(setup_lines); i++)
        tc_resp_free(line_cmd(1, setup_lines[i]));
    tc_resp_free(line_cmd(0, "FLUSHALL"));
    tc_resp_free(line_cmd(0, "MSET a 1 b 2"));
    ember_db *v3 = NULL;
    assert_int_equal(ember_db_view(edb, 3, &v3), EMBER_OK);
    ember_reply_free(ta_cmd_line(v3, "RPUSH l x"));
    ember_db_close(v3);
    tc_resp *e = line_cmd(0, "INFO keyspace"), *r = line_cmd(1, "INFO keyspace");
    assert_string_equal(e->str, "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n"
                                "db3:keys=1,expires=0,avg_ttl=0\r\n");
    assert_string_equal(e->str, r->type == TC_RESP_VERBATIM ? r->str + 4 : r->str);
    tc_resp_free(e);
    tc_resp_free(r);
}

/* Errors counted by code, as Redis: same lines, same INFO errorstats. */
static void test_info_errorstats(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "CONFIG RESETSTAT", "SET s hello", "INCR s",       "LPUSH s x",     "HGET s f",
        "NOSUCHCMD a",      "GET",         "EXPIRE s abc", "SET s v NX XX",
    };
    for (size_t i = 0; i < EM_TEST_LEN(lines); i++) {
        tc_resp_free(line_cmd(0, lines[i]));
        tc_resp_free(line_cmd(1, lines[i]));
    }
    tc_resp *e = line_cmd(0, "INFO errorstats"), *r = line_cmd(1, "INFO errorstats");
    assert_string_equal(e->str, "# Errorstats\r\nerrorstat_ERR:count=5\r\n"
                                "errorstat_WRONGTYPE:count=2\r\n");
    assert_string_equal(e->str, r->type == TC_RESP_VERBATIM ? r->str + 4 : r->str);
    tc_resp_free(e);
    tc_resp_free(r);
    ember_reply *st = ta_cmd_line(edb, "INFO stats");
    assert_non_null(strstr(ember_reply_str(st, NULL), "\r\ntotal_error_replies:7\r\n"));
    ember_reply_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_info_every_command),
        cmocka_unit_test(test_command_count),
        cmocka_unit_test(test_command_subcommands_same_replies),
        cmocka_unit_test(test_command_list_filters),
        cmocka_unit_test(test_command_docs),
        cmocka_unit_test(test_debug_object_format),
        cmocka_unit_test(test_info_sections_and_order),
        cmocka_unit_test(test_info_arguments),
        cmocka_unit_test(test_info_keyspace_exact),
        cmocka_unit_test(test_info_errorstats),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
