/*
 * test_server_conn.c — ember-server's connection commands, authentication,
 * limits and the ember-server program, against a real redis-server.
 *
 * Tests:
 *  - AUTH, HELLO AUTH, NOAUTH, RESET with requirepass: the same requests on
 *    one connection to each server, reply bytes compared step by step
 *    (HELLO's own map only by type: it names the server).
 *  - the same without a password ("called without any password", the
 *    default user taking any password), and a failed HELLO AUTH leaving the
 *    protocol as it was.
 *  - CONFIG SET requirepass at run time: connections made before stay in,
 *    new ones must authenticate, "" lets everyone in again (both servers).
 *  - CLIENT errors, CLIENT HELP, CLIENT KILL/LIST filters, SHUTDOWN's
 *    syntax errors, CONFIG GET/SET of requirepass and maxclients: bytes
 *    compared, RESP2 and RESP3.
 *  - CLIENT LIST/INFO: Redis 7.0's field names in its order (+ lib-name,
 *    lib-ver), both connections listed, cmd=, name=, db=, flags=, resp=.
 *  - CLIENT KILL closes the other connection (ID, old ip:port form, USER),
 *    SKIPME no closes the caller after its reply.
 *  - maxclients: the connection over the limit gets Redis's error and EOF
 *    (bytes compared with redis-server --maxclients 2), CONFIG SET raises it.
 *  - SHUTDOWN reaches the application's hook with its flags; a refusing
 *    hook gives Redis's error; without a hook, ember's documented error.
 *  - the ember-server program: --dir on a temporary directory with
 *    --appendonly yes, writes, SHUTDOWN, restart: the data is there (from
 *    the log); SHUTDOWN SAVE writes the snapshot, which a run with
 *    appendonly no loads; a bad directive exits 1.
 */
#include <errno.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ember.h"
#include "raw_conn.h"
#include "redis_proc.h"

/* ------------------------------------------------------------ helpers */

/* Sends a command given as words separated by single spaces ('' is an
 * empty argument, '^' inside a word a space) and returns the reply's bytes
 * (NULL: closed/timeout). */
static char *req(tc_raw *c, const char *line)
{
    char *copy = strdup(line);
    const char *argv[32];
    size_t argc = 0;
    for (char *t = strtok(copy, " "); t && argc < 32; t = strtok(NULL, " ")) {
        for (char *q = t; *q; q++)
            if (*q == '^')
                *q = ' ';
        argv[argc++] = strcmp(t, "''") ? t : "";
    }
    size_t cap = 32;
    for (size_t i = 0; i < argc; i++)
        cap += strlen(argv[i]) + 32;
    char *out = malloc(cap);
    size_t n = (size_t)snprintf(out, cap, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++)
        n += (size_t)snprintf(out + n, cap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    int rc = tc_raw_send(c, out, n);
    free(out);
    free(copy);
    return rc == 0 ? tc_raw_read_reply(c, NULL) : NULL;
}

/* req() that expects exactly `want`. */
static void expect(tc_raw *c, const char *line, const char *want)
{
    char *got = req(c, line);
    if (!got || strcmp(got, want) != 0)
        print_message("%s: got [%s], want [%s]\n", line, got ? got : "(closed)", want);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* 1 if the reply to `line` contains `part`. */
static int reply_has(tc_raw *c, const char *line, const char *part)
{
    char *got = req(c, line);
    int has = got && strstr(got, part);
    if (!has)
        print_message("%s: [%s] lacks [%s]\n", line, got ? got : "(closed)", part);
    free(got);
    return has;
}

/* expect() for each (request, reply) pair of a flat list. */
static void expect_all(tc_raw *c, const char *const *pairs, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        expect(c, pairs[i], pairs[i + 1]);
}

static void open_pair(tc_raw *e, tc_raw *r, int eport, int rport)
{
    assert_int_equal(tc_raw_open(e, eport, 5000), 0);
    assert_int_equal(tc_raw_open(r, rport, 5000), 0);
}

static void close_pair(tc_raw *e, tc_raw *r)
{
    tc_raw_close(e);
    tc_raw_close(r);
}

/* Sends each step to both connections and compares the replies' bytes. A
 * step starting with '~' is compared by reply type only (HELLO's map). */
static int run_steps(tc_raw *e, tc_raw *r, const char *const *steps, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const char *line = steps[i];
        int shape = line[0] == '~';
        if (shape)
            line++;
        char *a = req(e, line), *b = req(r, line);
        int same = a && b && (shape ? a[0] == b[0] : strcmp(a, b) == 0);
        if (!same) {
            print_message("step %zu '%s':\n  ember: [%s]\n  redis: [%s]\n", i, line,
                          a ? a : "(closed)", b ? b : "(closed)");
            bad++;
        }
        free(a);
        free(b);
    }
    return bad;
}

/* ------------------------------------------------------------ fixtures */

/* Written on the server's I/O thread, read by the test (atomics: the
 * socket between them orders it, but TSan does not see that). */
typedef struct hook_state {
    _Atomic int calls;
    _Atomic uint32_t flags;
    _Atomic int ret;
} hook_state;

static int on_shutdown(void *ctx, uint32_t flags)
{
    hook_state *h = ctx;
    h->calls++;
    h->flags = flags;
    return h->ret;
}

typedef struct fixture {
    ember_db *db;
    ember_server *srv;
    int port;
    tc_redis redis;
    hook_state hook;
} fixture;

/* An ember server (with a shutdown hook and the given requirepass and
 * maxclients, NULL: unset) and a redis-server with the same settings. */
static fixture *start_both(const char *pass, const char *maxclients, int with_hook)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(ember_db_open(NULL, &f->db), EMBER_OK);
    ember_server_config *cfg;
    assert_int_equal(ember_server_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_server_config_set(cfg, "port", "0"), EMBER_OK);
    if (pass)
        assert_int_equal(ember_server_config_set(cfg, "requirepass", pass), EMBER_OK);
    if (maxclients)
        assert_int_equal(ember_server_config_set(cfg, "maxclients", maxclients), EMBER_OK);
    if (with_hook)
        assert_int_equal(ember_server_config_set_shutdown_hook(cfg, on_shutdown, &f->hook),
                         EMBER_OK);
    assert_int_equal(ember_server_start_config(f->db, cfg, &f->srv), EMBER_OK);
    ember_server_config_free(cfg);
    f->port = ember_server_port(f->srv);
    assert_true(f->port > 0);
    const char *args[8];
    size_t n = 0;
    if (maxclients) {
        args[n++] = "--maxclients";
        args[n++] = maxclients;
    }
    args[n] = NULL;
    char err[256];
    if (tc_redis_start(&f->redis, args, err, sizeof err) != 0)
        fail_msg("redis-server: %s", err);
    if (pass) { /* set after the start: tc_redis_start waits for a PONG */
        tc_raw r;
        assert_int_equal(tc_raw_open(&r, f->redis.port, 5000), 0);
        char line[128];
        snprintf(line, sizeof line, "CONFIG SET requirepass %s", pass);
        expect(&r, line, "+OK\r\n");
        tc_raw_close(&r);
    }
    return f;
}

static void stop_both(fixture *f)
{
    ember_server_stop(f->srv);
    ember_db_close(f->db);
    tc_redis_stop(&f->redis);
    free(f);
}

/* ------------------------------------------------------------ AUTH */

static void test_auth_with_password(void **state)
{
    (void)state;
    fixture *f = start_both("secret", NULL, 1);
    static const char *const steps[] = {
        "GET x", "PING", "FOO", "GET", "CONFIG FOO", "CLIENT FOO", "CLIENT KILL", "CLIENT ID",
        "CLIENT SETNAME x", "SELECT 1", "ECHO", "ECHO a", "SHUTDOWN", "CONFIG GET maxclients",
        "auth", "AUTH a b c", "AUTH bad", "AUTH default bad", "AUTH DEFAULT secret",
        "AUTH other secret", "HELLO 3", "HELLO", "HELLO 4", "HELLO x", "HELLO 3 AUTH default",
        "HELLO 3 AUTH default bad", "HELLO 3 SETNAME", "GET x", "RESET", "GET x", "AUTH secret",
        "GET x", "AUTH bad", "GET x", "CLIENT SETNAME n1", "SELECT 2", "RESET", "GET x",
        "CLIENT GETNAME", "~HELLO 3 AUTH default secret", "GET x", "RESET", "GET x",
        "~HELLO 2 AUTH default secret SETNAME nm", "CLIENT GETNAME", "RESET x",
        /* HELLO acts on each option in order: a name given before NOAUTH
         * stays, AUTH before a bad name stays. */
        "RESET", "HELLO 3 SETNAME a^b", "HELLO 3 SETNAME good", "AUTH secret", "CLIENT GETNAME",
        "RESET", "HELLO 3 SETNAME a^b FOO", "HELLO 3 AUTH default bad SETNAME a^b",
        "HELLO 3 AUTH default secret SETNAME a^b", "GET x", "CLIENT SETNAME a^b", "AUTH secret x",
        "HELLO 2 AUTH default secret AUTH default bad", "CLIENT GETNAME",
        "~HELLO 3 SETNAME n1 SETNAME n2", "CLIENT GETNAME"};
    tc_raw e, r;
    open_pair(&e, &r, f->port, f->redis.port);
    assert_int_equal(run_steps(&e, &r, steps, sizeof steps / sizeof steps[0]), 0);
    close_pair(&e, &r);
    /* HELLO AUTH on a fresh connection authenticates and switches. */
    open_pair(&e, &r, f->port, f->redis.port);
    static const char *const steps3[] = {"~HELLO 3 AUTH default secret", "GET x", "HGETALL x",
                                         "CLIENT GETNAME", "QUIT"};
    assert_int_equal(run_steps(&e, &r, steps3, sizeof steps3 / sizeof steps3[0]), 0);
    assert_int_equal(tc_raw_wait_closed(&e), 1);
    close_pair(&e, &r);
    stop_both(f);
}

static void test_auth_without_password(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, NULL, 1);
    static const char *const steps[] = {
        "AUTH x", "AUTH default x", "AUTH DEFAULT x", "AUTH a b", "AUTH a b c",
        /* A failing HELLO AUTH changes nothing: still RESP2 after it. */
        "HELLO 3 AUTH a b", "GET missing", "HELLO 2 AUTH a b SETNAME x", "CLIENT GETNAME",
        "~HELLO 3 AUTH default anything", "GET missing", "RESET", "GET missing",
        "CONFIG GET requirepass", "CONFIG SET maxclients 0", "CONFIG SET maxclients abc"};
    tc_raw e, r;
    open_pair(&e, &r, f->port, f->redis.port);
    assert_int_equal(run_steps(&e, &r, steps, sizeof steps / sizeof steps[0]), 0);
    close_pair(&e, &r);
    stop_both(f);
}

static void test_config_set_requirepass(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, NULL, 1);
    tc_raw e1, r1, e2, r2, e3, r3;
    open_pair(&e1, &r1, f->port, f->redis.port);
    static const char *const before[] = {"CONFIG SET requirepass pw", "GET x",
                                         "CONFIG GET requirepass"};
    assert_int_equal(run_steps(&e1, &r1, before, 3), 0);
    /* Accepted before the password was set: still authenticated. A new
     * connection must authenticate. */
    open_pair(&e2, &r2, f->port, f->redis.port);
    static const char *const fresh[] = {"GET x", "AUTH nope", "AUTH pw", "GET x"};
    assert_int_equal(run_steps(&e2, &r2, fresh, 4), 0);
    static const char *const clear[] = {"CONFIG SET requirepass ''", "RESET", "GET x"};
    assert_int_equal(run_steps(&e1, &r1, clear, 3), 0);
    open_pair(&e3, &r3, f->port, f->redis.port);
    static const char *const open_again[] = {"GET x", "AUTH x"};
    assert_int_equal(run_steps(&e3, &r3, open_again, 2), 0);
    close_pair(&e1, &r1);
    close_pair(&e2, &r2);
    close_pair(&e3, &r3);
    stop_both(f);
}

/* ------------------------------------------------------------ CLIENT */

static void test_client_errors(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, NULL, 1);
    static const char *const steps[] = {"CLIENT",
                                        "CLIENT FOO",
                                        "CLIENT HELP",
                                        "CLIENT HELP x",
                                        "CLIENT INFO x",
                                        "CLIENT KILL 1.2.3.4:5",
                                        "CLIENT KILL ID",
                                        "CLIENT KILL ID abc",
                                        "CLIENT KILL ID 0",
                                        "CLIENT KILL ID -5",
                                        "CLIENT KILL ID 99999",
                                        "CLIENT KILL TYPE foo",
                                        "CLIENT KILL TYPE normal SKIPME maybe",
                                        "CLIENT KILL USER bob",
                                        "CLIENT KILL USER default SKIPME",
                                        "CLIENT KILL FOO bar",
                                        "CLIENT KILL ADDR 1.2.3.4:5",
                                        "CLIENT KILL LADDR x",
                                        "CLIENT KILL SKIPME no TYPE pubsub",
                                        "CLIENT KILL ID 1 ID 2",
                                        "CLIENT KILL TYPE master",
                                        "CLIENT KILL TYPE slave",
                                        "CLIENT KILL TYPE replica",
                                        "CLIENT KILL TYPE PUBSUB",
                                        "CLIENT LIST TYPE foo",
                                        "CLIENT LIST ID",
                                        "CLIENT LIST ID abc",
                                        "CLIENT LIST ID 1 abc",
                                        "CLIENT LIST TYPE normal ID 5",
                                        "CLIENT LIST foo",
                                        "CLIENT LIST TYPE",
                                        "CLIENT LIST TYPE pubsub",
                                        "CLIENT LIST TYPE master",
                                        "CLIENT LIST ID 0 -1",
                                        "CLIENT NO-EVICT",
                                        "CLIENT NO-EVICT ON x",
                                        "CLIENT NO-EVICT foo",
                                        "CLIENT NO-EVICT on",
                                        "CLIENT NO-EVICT OFF",
                                        "CLIENT SETNAME a",
                                        "CLIENT GETNAME",
                                        "CLIENT SETNAME ''",
                                        "CLIENT GETNAME",
                                        "SHUTDOWN FOO",
                                        "SHUTDOWN SAVE NOSAVE",
                                        "SHUTDOWN ABORT",
                                        "SHUTDOWN ABORT NOW",
                                        "SHUTDOWN NOW ABORT",
                                        "RESET",
                                        "RESET x",
                                        "CONFIG GET requirepass",
                                        "CONFIG GET maxclients",
                                        "CONFIG SET maxclients 0",
                                        "AUTH",
                                        "~HELLO 3",
                                        "CLIENT LIST TYPE pubsub",
                                        "CLIENT HELP",
                                        "CLIENT GETNAME",
                                        "RESET",
                                        "GET x"};
    tc_raw e, r;
    open_pair(&e, &r, f->port, f->redis.port);
    assert_int_equal(run_steps(&e, &r, steps, sizeof steps / sizeof steps[0]), 0);
    close_pair(&e, &r);
    assert_int_equal(f->hook.calls, 0); /* no valid SHUTDOWN was sent */
    stop_both(f);
}

/* The field names of one CLIENT LIST line, space-separated. */
static void field_names(const char *line, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (const char *p = line; *p && *p != '\n';) {
        const char *eq = strchr(p, '=');
        const char *sp = strpbrk(p, " \n");
        if (!eq || (sp && sp < eq))
            break;
        o += (size_t)snprintf(out + o, cap - o, "%s%.*s", o ? " " : "", (int)(eq - p), p);
        if (!sp)
            break;
        p = sp + (*sp == ' ');
        if (*sp == '\n')
            break;
    }
}

/* The value of field `name` in a line ("" if absent), into out. */
static const char *field(const char *line, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = 0;
    for (const char *p = line; *p && *p != '\n';) {
        size_t n = strcspn(p, " \n");
        if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(out, cap, "%.*s", (int)(n - nl - 1), p + nl + 1);
            break;
        }
        p += n;
        if (*p == ' ')
            p++;
    }
    return out;
}

/* The body of a bulk/verbatim reply (after "$n\r\n" or "=n\r\ntxt:"). */
static const char *body(const char *reply)
{
    const char *p = strstr(reply, "\r\n");
    assert_non_null(p);
    p += 2;
    return reply[0] == '=' ? p + 4 : p;
}

static void test_client_list_info(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, NULL, 1);
    tc_raw a, b, r;
    assert_int_equal(tc_raw_open(&a, f->port, 5000), 0);
    assert_int_equal(tc_raw_open(&b, f->port, 5000), 0);
    assert_int_equal(tc_raw_open(&r, f->redis.port, 5000), 0);

    /* Field names: Redis 7.0's, in its order, then 7.2's two. */
    char *ri = req(&r, "CLIENT INFO"), *ei = req(&a, "CLIENT INFO");
    char rn[1024], en[1024], want[1100];
    field_names(body(ri), rn, sizeof rn);
    field_names(body(ei), en, sizeof en);
    snprintf(want, sizeof want, "%s lib-name lib-ver", rn);
    assert_string_equal(en, want);
    free(ri);
    free(ei);

    char *ida = req(&a, "CLIENT ID"), *idb = req(&b, "CLIENT ID");
    long long ia = atoll(ida + 1), ib = atoll(idb + 1);
    free(ida);
    free(idb);
    expect(&b, "CLIENT SETNAME worker", "+OK\r\n");
    expect(&b, "SELECT 3", "+OK\r\n");
    expect(&b, "CLIENT NO-EVICT on", "+OK\r\n");
    expect(&b, "CLIENT NO-TOUCH on", "+OK\r\n");
    expect(&b, "CLIENT SETINFO lib-name ember-test", "+OK\r\n");
    expect(&b, "CLIENT SETINFO LIB-VER 1.2", "+OK\r\n");
    expect(&b, "CLIENT SETINFO lib-ver ''", "+OK\r\n");
    expect(&b, "CLIENT SETINFO foo x", "-ERR Unrecognized option 'foo'\r\n");
    expect(&b, "CLIENT SETINFO lib-name a\nb",
           "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n");
    expect(&b, "CLIENT SETINFO x",
           "-ERR wrong number of arguments for 'client|setinfo' command\r\n");
    expect(&b, "CLIENT NO-TOUCH maybe", "-ERR syntax error\r\n");
    expect(&b, "GET", "-ERR wrong number of arguments for 'get' command\r\n");

    char *list = req(&a, "CLIENT LIST");
    assert_non_null(list);
    assert_int_equal(list[0], '$');
    const char *lines = body(list);
    char v[128], line_b[2048] = "";
    int seen_a = 0, seen_b = 0, nlines = 0;
    for (const char *p = lines; *p && *p != '\r'; nlines++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        long long id = atoll(field(line, "id", v, sizeof v));
        if (id == ia)
            seen_a = 1;
        if (id == ib) {
            seen_b = 1;
            strcpy(line_b, line);
        }
        p = nl + 1;
    }
    free(list);
    assert_int_equal(nlines, 2);
    assert_true(seen_a && seen_b);
    assert_string_equal(field(line_b, "name", v, sizeof v), "worker");
    assert_string_equal(field(line_b, "db", v, sizeof v), "3");
    assert_string_equal(field(line_b, "flags", v, sizeof v), "eT");
    assert_string_equal(field(line_b, "cmd", v, sizeof v), "get"); /* arity error: still get */
    assert_string_equal(field(line_b, "lib-name", v, sizeof v), "ember-test");
    assert_string_equal(field(line_b, "lib-ver", v, sizeof v), "");
    assert_string_equal(field(line_b, "resp", v, sizeof v), "2");
    assert_string_equal(field(line_b, "user", v, sizeof v), "default");

    /* After an unknown command cmd= reads NULL, as in Redis. */
    char *u = req(&b, "NOSUCHCMD");
    free(u);
    char q[64];
    snprintf(q, sizeof q, "CLIENT LIST ID %lld", ib);
    list = req(&a, q);
    assert_string_equal(field(body(list), "cmd", v, sizeof v), "NULL");
    assert_string_equal(field(body(list), "id", v, sizeof v), q + strlen("CLIENT LIST ID "));
    free(list);

    /* RESP3: a verbatim "txt" string; resp=3. */
    char *h = req(&b, "HELLO 3");
    free(h);
    char *info = req(&b, "CLIENT INFO");
    assert_int_equal(info[0], '=');
    assert_memory_equal(strstr(info, "\r\n") + 2, "txt:", 4);
    assert_string_equal(field(body(info), "resp", v, sizeof v), "3");
    assert_string_equal(field(body(info), "cmd", v, sizeof v), "client|info");
    free(info);
    expect(&b, "CLIENT LIST TYPE pubsub", "=4\r\ntxt:\r\n");
    /* RESET clears the name, the database, the flags and RESP3. */
    expect(&b, "RESET", "+RESET\r\n");
    info = req(&b, "CLIENT INFO");
    assert_int_equal(info[0], '$');
    assert_string_equal(field(body(info), "name", v, sizeof v), "");
    assert_string_equal(field(body(info), "db", v, sizeof v), "0");
    assert_string_equal(field(body(info), "flags", v, sizeof v), "N");
    free(info);
    tc_raw_close(&a);
    tc_raw_close(&b);
    tc_raw_close(&r);
    stop_both(f);
}

static void test_client_kill(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, NULL, 1);
    tc_raw a, b, c, d;
    assert_int_equal(tc_raw_open(&a, f->port, 5000), 0);
    assert_int_equal(tc_raw_open(&b, f->port, 5000), 0);
    assert_int_equal(tc_raw_open(&c, f->port, 5000), 0);
    assert_int_equal(tc_raw_open(&d, f->port, 5000), 0);
    char *idb = req(&b, "CLIENT ID");
    char q[96];
    snprintf(q, sizeof q, "CLIENT KILL ID %lld", atoll(idb + 1));
    free(idb);
    expect(&a, q, ":1\r\n");
    assert_int_equal(tc_raw_wait_closed(&b), 1);
    expect(&a, q, ":0\r\n"); /* already gone */

    /* The old form, by the address CLIENT INFO shows. */
    char *info = req(&c, "CLIENT INFO"), v[128];
    snprintf(q, sizeof q, "CLIENT KILL %s", field(body(info), "addr", v, sizeof v));
    free(info);
    expect(&a, q, "+OK\r\n");
    assert_int_equal(tc_raw_wait_closed(&c), 1);
    expect(&a, q, "-ERR No such client\r\n");

    /* USER default: every other connection (SKIPME yes by default). */
    expect(&a, "CLIENT KILL USER default", ":1\r\n");
    assert_int_equal(tc_raw_wait_closed(&d), 1);
    expect(&a, "PING", "+PONG\r\n");
    /* MAXAGE (Redis 7.4's): nobody is an hour old. */
    expect(&a, "CLIENT KILL MAXAGE 3600 SKIPME no", ":0\r\n");
    /* SKIPME no: the caller too, after its reply. */
    expect(&a, "CLIENT KILL SKIPME no", ":1\r\n");
    assert_int_equal(tc_raw_wait_closed(&a), 1);
    tc_raw_close(&a);
    tc_raw_close(&b);
    tc_raw_close(&c);
    tc_raw_close(&d);
    stop_both(f);
}

/* ------------------------------------------------------------ limits */

static void test_maxclients(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, "2", 1);
    tc_raw e[3], r[3];
    for (int i = 0; i < 2; i++) {
        open_pair(&e[i], &r[i], f->port, f->redis.port);
        expect(&e[i], "PING", "+PONG\r\n");
        expect(&r[i], "PING", "+PONG\r\n");
    }
    open_pair(&e[2], &r[2], f->port, f->redis.port);
    char *a = tc_raw_read_reply(&e[2], NULL), *b = tc_raw_read_reply(&r[2], NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    assert_string_equal(a, "-ERR max number of clients reached\r\n");
    free(a);
    free(b);
    assert_int_equal(tc_raw_wait_closed(&e[2]), 1);
    assert_int_equal(tc_raw_wait_closed(&r[2]), 1);
    tc_raw_close(&e[2]);
    tc_raw_close(&r[2]);
    /* INFO counts the two served connections, not the refused one. */
    for (int i = 0; i < 2; i++) {
        tc_raw *c = i ? &r[0] : &e[0];
        assert_true(reply_has(c, "INFO clients", "\r\nconnected_clients:2\r\n"));
        assert_true(reply_has(c, "INFO clients", "\r\nmaxclients:2\r\n"));
    }
    /* A closed connection frees its place; CONFIG SET raises the limit. */
    tc_raw_close(&e[1]);
    usleep(100 * 1000);
    assert_int_equal(tc_raw_open(&e[1], f->port, 5000), 0);
    expect(&e[1], "PING", "+PONG\r\n");
    expect(&e[0], "CONFIG SET maxclients 3", "+OK\r\n");
    assert_int_equal(tc_raw_open(&e[2], f->port, 5000), 0);
    expect(&e[2], "PING", "+PONG\r\n");
    assert_true(reply_has(&e[2], "INFO clients", "\r\nmaxclients:3\r\n"));
    assert_true(reply_has(&e[2], "INFO clients", "\r\nconnected_clients:3\r\n"));
    for (int i = 0; i < 3; i++)
        tc_raw_close(&e[i]);
    for (int i = 0; i < 2; i++)
        tc_raw_close(&r[i]);
    stop_both(f);
}

static void test_shutdown_hook(void **state)
{
    (void)state;
    fixture *f = start_both(NULL, NULL, 1);
    tc_raw a, b;
    assert_int_equal(tc_raw_open(&a, f->port, 5000), 0);
    assert_int_equal(tc_raw_open(&b, f->port, 300), 0);
    f->hook.ret = -1;
    expect(&a, "SHUTDOWN SAVE FORCE", "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    assert_int_equal(f->hook.calls, 1);
    assert_int_equal(f->hook.flags, EMBER_SHUTDOWN_SAVE | EMBER_SHUTDOWN_FORCE);
    expect(&a, "PING", "+PONG\r\n");
    /* Accepted: no reply, nothing more read, closed when the server stops. */
    f->hook.ret = 0;
    char *none = req(&b, "SHUTDOWN NOSAVE NOW");
    assert_null(none);
    assert_int_equal(f->hook.calls, 2);
    assert_int_equal(f->hook.flags, EMBER_SHUTDOWN_NOSAVE | EMBER_SHUTDOWN_NOW);
    expect(&a, "PING", "+PONG\r\n"); /* others are still served */
    ember_server_stop(f->srv);
    f->srv = NULL;
    assert_int_equal(tc_raw_wait_closed(&b), 1);
    tc_raw_close(&a);
    tc_raw_close(&b);
    stop_both(f);

    /* Without a hook. */
    ember_db *db;
    ember_server *srv;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_server_start(db, NULL, 0, 0, &srv), EMBER_OK);
    assert_int_equal(tc_raw_open(&a, ember_server_port(srv), 5000), 0);
    expect(&a, "SHUTDOWN",
           "-ERR SHUTDOWN is not available: the application that runs this "
           "server gave it no shutdown hook\r\n");
    tc_raw_close(&a);
    ember_server_stop(srv);
    ember_db_close(db);
}

static void test_config_api(void **state)
{
    (void)state;
    ember_server_config *cfg;
    assert_int_equal(ember_server_config_new(NULL), EMBER_EINVAL);
    assert_int_equal(ember_server_config_new(&cfg), EMBER_OK);
    assert_int_equal(ember_server_config_set(cfg, "port", "65536"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "port", "x"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "maxclients", "0"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "io-threads", "0"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "io-threads", "129"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "io-threads", "2"), EMBER_OK);
    assert_int_equal(ember_server_config_set(cfg, "nope", "1"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "bind", NULL), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(NULL, "port", "1"), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set_shutdown_hook(NULL, NULL, NULL), EMBER_EINVAL);
    assert_int_equal(ember_server_config_set(cfg, "port", "0"), EMBER_OK);
    assert_int_equal(ember_server_config_set(cfg, "requirepass", "pw1"), EMBER_OK);
    assert_int_equal(ember_server_config_set(cfg, "requirepass", "pw2"), EMBER_OK);
    ember_db *db;
    ember_server *srv = NULL;
    assert_int_equal(ember_db_open(NULL, &db), EMBER_OK);
    assert_int_equal(ember_server_start_config(db, cfg, NULL), EMBER_EINVAL);
    assert_int_equal(ember_server_start_config(db, cfg, &srv), EMBER_OK);
    ember_server_config_free(cfg);
    ember_server_config_free(NULL);
    /* The password became the database's setting. */
    const char *argv[] = {"CONFIG", "GET", "requirepass"};
    ember_reply *r;
    assert_int_equal(ember_command(db, 3, argv, NULL, &r), EMBER_OK);
    assert_int_equal(ember_reply_len(r), 2);
    assert_string_equal(ember_reply_str(ember_reply_element(r, 1), NULL), "pw2");
    ember_reply_free(r);
    tc_raw a;
    assert_int_equal(tc_raw_open(&a, ember_server_port(srv), 5000), 0);
    expect(&a, "GET x", "-NOAUTH Authentication required.\r\n");
    expect(&a, "AUTH pw2", "+OK\r\n");
    char port_line[48];
    snprintf(port_line, sizeof port_line, "\r\ntcp_port:%d\r\n", ember_server_port(srv));
    assert_true(reply_has(&a, "INFO server", port_line));
    tc_raw_close(&a);
    ember_server_stop(srv);
    ember_db_close(db);
}

/* ------------------------------------------------------------ the program */

typedef struct prog {
    pid_t pid;
    int port;
} prog;

/* Runs ember-server with args (NULL-terminated, after the program name);
 * waits for its "listening on" line. Returns 0, or -1 if it exited. */
static int prog_start(prog *p, const char *bin, const char *const *args)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const char *argv[32];
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *out = fdopen(fds[0], "r");
    char line[512];
    p->port = 0;
    while (fgets(line, sizeof line, out)) {
        char *at = strstr(line, "listening on ");
        if (at) {
            p->port = atoi(strrchr(at, ':') + 1);
            break;
        }
    }
    fclose(out); /* later output goes to a closed pipe: the program ignores it */
    return p->port > 0 ? 0 : -1;
}

static int prog_wait(prog *p)
{
    int st = 0;
    assert_int_equal(waitpid(p->pid, &st, 0), p->pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_program_persistence(void **state)
{
    (void)state;
    const char *bin = getenv("EMBER_SERVER_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        print_message("EMBER_SERVER_BIN not set (examples not built): skipped\n");
        skip();
    }
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/ember_conn_XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *aof_args[] = {
        "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--requirepass",
        "pw",    NULL};
    prog p;
    assert_int_equal(prog_start(&p, bin, aof_args), 0);
    tc_raw a;
    assert_int_equal(tc_raw_open(&a, p.port, 5000), 0);
    static const char *const writes[] = {"SET k v",       "-NOAUTH Authentication required.\r\n",
                                         "AUTH pw",       "+OK\r\n",
                                         "SET k v",       "+OK\r\n",
                                         "RPUSH l a b c", ":3\r\n",
                                         "HSET h f 1",    ":1\r\n",
                                         "SELECT 2",      "+OK\r\n",
                                         "SET in2 yes",   "+OK\r\n"};
    expect_all(&a, writes, sizeof writes / sizeof writes[0]);
    char *none = req(&a, "SHUTDOWN");
    assert_null(none);
    tc_raw_close(&a);
    assert_int_equal(prog_wait(&p), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/appendonly.aof", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/dump.rdb", dir);
    assert_int_not_equal(stat(path, &st), 0); /* no save rules: no snapshot */

    /* Restart: the log is loaded. SHUTDOWN SAVE writes the snapshot. */
    assert_int_equal(prog_start(&p, bin, aof_args), 0);
    assert_int_equal(tc_raw_open(&a, p.port, 5000), 0);
    static const char *const reads[] = {
        "AUTH pw",           "+OK\r\n",       "GET k",
        "$1\r\nv\r\n",       "LRANGE l 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        "HGET h f",          "$1\r\n1\r\n",   "SELECT 2",
        "+OK\r\n",           "GET in2",       "$3\r\nyes\r\n",
        "SET after restart", "+OK\r\n"};
    expect_all(&a, reads, sizeof reads / sizeof reads[0]);
    none = req(&a, "SHUTDOWN SAVE");
    assert_null(none);
    tc_raw_close(&a);
    assert_int_equal(prog_wait(&p), 0);
    assert_int_equal(stat(path, &st), 0);

    /* appendonly no: the snapshot is loaded. SIGTERM stops it (exit 0). */
    const char *rdb_args[] = {"--dir", dir, "--save", "3600 1", NULL};
    assert_int_equal(prog_start(&p, bin, rdb_args), 0);
    assert_int_equal(tc_raw_open(&a, p.port, 5000), 0);
    static const char *const loaded[] = {"GET k",           "$1\r\nv\r\n",
                                         "SELECT 2",        "+OK\r\n",
                                         "GET after",       "$7\r\nrestart\r\n",
                                         "CONFIG GET save", "*2\r\n$4\r\nsave\r\n$6\r\n3600 1\r\n"};
    expect_all(&a, loaded, sizeof loaded / sizeof loaded[0]);
    tc_raw_close(&a);
    kill(p.pid, SIGTERM);
    assert_int_equal(prog_wait(&p), 0);

    /* A bad directive: exit 1 before listening. */
    const char *bad_args[] = {"--no-such-option", "1", NULL};
    assert_int_equal(prog_start(&p, bin, bad_args), -1);
    assert_int_equal(prog_wait(&p), 1);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_with_password),
        cmocka_unit_test(test_auth_without_password),
        cmocka_unit_test(test_config_set_requirepass),
        cmocka_unit_test(test_client_errors),
        cmocka_unit_test(test_client_list_info),
        cmocka_unit_test(test_client_kill),
        cmocka_unit_test(test_maxclients),
        cmocka_unit_test(test_shutdown_hook),
        cmocka_unit_test(test_config_api),
        cmocka_unit_test(test_program_persistence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
