/*
 * ember-server.c — serves an ember database to Redis clients, with Redis's
 * persistence files.
 *
 *   ember-server [/path/to/ember.conf] [--name value ...]
 *
 * As redis-server: an optional configuration file (redis.conf syntax:
 * "name value ..." lines, # comments, "quoted" or 'quoted' words), then
 * options "--name value", each taking the words up to the next "--"
 * (--save 900 1 300 10, or --save ""). Later settings win. Known here:
 *   port bind requirepass maxclients io-threads   the listener
 *   dir dbfilename save                           snapshots (RDB)
 *   appendonly yes|no, appendfilename, appendfsync the append log (one file,
 *                                                 dir/appendfilename)
 *   daemonize no                                  accepted (never daemonizes)
 * and every setting ember_config_set() accepts (databases, hz, maxmemory,
 * rdbcompression...). Anything else is a fatal configuration error (exit 1).
 *
 * Start: with appendonly yes and the log present, the log is loaded and
 * appended to; otherwise the snapshot dir/dbfilename is loaded if present,
 * and with appendonly yes a new log is started from it (rewritten at once,
 * so it holds what the snapshot had). Unlike redis-server, there are no
 * save rules unless you give some ("save" is ember's default, "").
 *
 * Stop: SIGINT, SIGTERM or the SHUTDOWN command. A snapshot is saved first
 * if save rules are set or SHUTDOWN SAVE asked for it (never with NOSAVE);
 * if that fails, ember-server keeps running (SHUTDOWN replies with Redis's
 * error) unless SHUTDOWN FORCE. Then the listener stops, the log is synced
 * and closed, and the program exits 0.
 */
#include <ember.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What main() needs besides the two configurations. */
typedef struct settings {
    ember_config *db;
    ember_server_config *srv;
    char bind[64];
    int port;
    int appendonly;
    char dir[256];
    char dbfilename[256];
    char appendfilename[256];
} settings;

static void fatal_line(int lineno, const char *line, const char *why)
{
    fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (ember-server %s) ***\n", ember_version());
    if (lineno > 0)
        fprintf(stderr, "Reading the configuration file, at line %d\n", lineno);
    else
        fprintf(stderr, "Reading the command line options\n");
    fprintf(stderr, ">>> '%s'\n%s\n", line, why);
    exit(1);
}

static int copy_to(char *dst, size_t cap, const char *v)
{
    if (strlen(v) >= cap)
        return -1;
    strcpy(dst, v);
    return 0;
}

/* Applies one directive (name lower-cased, value the words joined by
 * spaces). Returns NULL or why it was refused. */
static const char *apply(settings *s, const char *name, const char *value, int nwords)
{
    static const char bad[] = "Bad directive or wrong number of arguments";
    if (!strcmp(name, "port") || !strcmp(name, "requirepass") || !strcmp(name, "maxclients") ||
        !strcmp(name, "io-threads")) {
        if (ember_server_config_set(s->srv, name, value) != EMBER_OK)
            return !strcmp(name, "port") ? "Invalid port" : bad;
        if (!strcmp(name, "port"))
            s->port = atoi(value);
        return NULL;
    }
    if (!strcmp(name, "bind")) {
        /* The first address only: ember listens on one. */
        char first[64];
        size_t n = strcspn(value, " ");
        if (n == 0 || n >= sizeof first)
            return bad;
        memcpy(first, value, n);
        first[n] = 0;
        if (ember_server_config_set(s->srv, "bind", first) != EMBER_OK)
            return bad;
        strcpy(s->bind, first);
        return NULL;
    }
    if (!strcmp(name, "appendonly")) {
        if (!strcmp(value, "yes"))
            s->appendonly = 1;
        else if (!strcmp(value, "no"))
            s->appendonly = 0;
        else
            return "argument must be 'yes' or 'no'";
        return NULL;
    }
    if (!strcmp(name, "appendfilename")) {
        if (nwords != 1 || strchr(value, '/') ||
            copy_to(s->appendfilename, sizeof s->appendfilename, value))
            return "appendfilename can't be a path, just a filename";
        return NULL;
    }
    if (!strcmp(name, "daemonize"))
        return strcmp(value, "no") ? "ember-server does not daemonize: use daemonize no" : NULL;
    if (ember_config_set(s->db, name, value) != EMBER_OK)
        return bad;
    if (!strcmp(name, "dir"))
        copy_to(s->dir, sizeof s->dir, value);
    else if (!strcmp(name, "dbfilename"))
        copy_to(s->dbfilename, sizeof s->dbfilename, value);
    return NULL;
}

/* Splits a line into words: blanks separate, "..." (with \" \\ \n \t
 * escapes) and '...' quote. Writes the words NUL-separated into out and
 * returns their number, or -1 on an unbalanced quote. */
static int split_words(const char *p, char *out, char **words, int maxw)
{
    int n = 0;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return n;
        if (n == maxw)
            return -1;
        words[n++] = out;
        char q = (*p == '"' || *p == '\'') ? *p++ : 0;
        while (*p && (q ? *p != q : !isspace((unsigned char)*p))) {
            if (q == '"' && *p == '\\' && p[1]) {
                p++;
                *out++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                p++;
                continue;
            }
            *out++ = *p++;
        }
        if (q && *p != q)
            return -1;
        if (q)
            p++;
        *out++ = 0;
    }
}

/* One configuration line: a name and its words. */
static void apply_line(settings *s, int lineno, const char *line)
{
    size_t len = strlen(line);
    char *buf = malloc(len + 1), *name = NULL;
    char *words[256];
    if (!buf)
        exit(1);
    int n = split_words(line, buf, words, 256);
    if (n < 0)
        fatal_line(lineno, line, "Unbalanced quotes in configuration line");
    if (n == 0 || words[0][0] == '#') {
        free(buf);
        return;
    }
    name = words[0];
    for (char *q = name; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    char *value = malloc(len + 1);
    if (!value)
        exit(1);
    value[0] = 0;
    for (int i = 1; i < n; i++) {
        if (i > 1)
            strcat(value, " ");
        strcat(value, words[i]);
    }
    const char *why =
        n < 2 ? "Bad directive or wrong number of arguments" : apply(s, name, value, n - 1);
    if (why)
        fatal_line(lineno, line, why);
    free(value);
    free(buf);
}

static void read_file(settings *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "Fatal error, can't open config file '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int lineno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = 0;
        apply_line(s, lineno, line);
    }
    free(line);
    fclose(f);
}

/* "--name a b" pairs: each name takes the words up to the next "--". An
 * empty word is kept quoted so that --save "" means no rules. */
static void read_args(settings *s, int argc, char **argv, int first)
{
    for (int i = first; i < argc;) {
        if (strncmp(argv[i], "--", 2) != 0 || !argv[i][2]) {
            fatal_line(0, argv[i], "Bad directive or wrong number of arguments");
        }
        size_t cap = strlen(argv[i]) + 8;
        int j = i + 1;
        for (; j < argc && strncmp(argv[j], "--", 2) != 0; j++)
            cap += strlen(argv[j]) * 2 + 4;
        char *line = malloc(cap);
        if (!line)
            exit(1);
        strcpy(line, argv[i] + 2);
        for (int k = i + 1; k < j; k++) {
            strcat(line, " \"");
            char *o = line + strlen(line);
            for (const char *p = argv[k]; *p; p++) {
                if (*p == '"' || *p == '\\')
                    *o++ = '\\';
                *o++ = *p;
            }
            strcpy(o, "\"");
        }
        apply_line(s, 0, line);
        free(line);
        i = j;
    }
}

/* ------------------------------------------------------------ run */

static ember_db *the_db;
static _Atomic int shutdown_asked;

/* "save" is set to rules (not "") in the database's settings now. */
static int save_rules_set(ember_db *db)
{
    const char *argv[] = {"CONFIG", "GET", "save"};
    ember_reply *r = NULL;
    int set = 0;
    if (ember_command(db, 3, argv, NULL, &r) == EMBER_OK && ember_reply_len(r) == 2) {
        size_t len = 0;
        ember_reply_str(ember_reply_element(r, 1), &len);
        set = len > 0;
    }
    ember_reply_free(r);
    return set;
}

/* Saves the snapshot if the rules or flags ask for it. 0 or -1. */
static int final_save(ember_db *db, uint32_t flags)
{
    if (flags & EMBER_SHUTDOWN_NOSAVE)
        return 0;
    if (!(flags & EMBER_SHUTDOWN_SAVE) && !save_rules_set(db))
        return 0;
    const char *argv[] = {"SAVE"};
    ember_reply *r = NULL;
    int rc = ember_command(db, 1, argv, NULL, &r);
    int ok = rc == EMBER_OK && ember_reply_type(r) != EMBER_REPLY_ERROR;
    if (!ok)
        fprintf(stderr, "ember-server: saving the snapshot failed: %s\n",
                rc != EMBER_OK ? ember_strerror(rc) : ember_reply_str(r, NULL));
    else
        printf("ember-server: snapshot saved\n");
    ember_reply_free(r);
    return ok ? 0 : -1;
}

/* SHUTDOWN, on the server's I/O thread: save here (the server waits, as
 * Redis does while it saves), then hand the rest to main(). */
static int on_shutdown(void *ctx, uint32_t flags)
{
    (void)ctx;
    if (final_save(the_db, flags) != 0 && !(flags & EMBER_SHUTDOWN_FORCE))
        return -1;
    atomic_store(&shutdown_asked, 1);
    kill(getpid(), SIGTERM);
    return 0;
}

/* Loads what the files hold and attaches the log. 0 or -1. */
static int load_files(ember_db *db, const settings *s)
{
    char path[600];
    struct stat st;
    char *err = NULL;
    snprintf(path, sizeof path, "%s%s%s", s->dir, s->dir[0] ? "/" : "", s->appendfilename);
    int aof_exists = stat(path, &st) == 0 && st.st_size > 0;
    int rc;
    if (!(s->appendonly && aof_exists)) {
        rc = ember_snapshot_load_path(db, s->dir, s->dbfilename, 0, &err);
        if (rc == EMBER_OK)
            printf("ember-server: loaded %s\n", s->dbfilename);
        else if (rc != EMBER_ENOTFOUND) {
            fprintf(stderr, "ember-server: cannot load %s: %s\n", s->dbfilename,
                    err ? err : ember_strerror(rc));
            ember_free(err);
            return -1;
        }
        ember_free(err);
        err = NULL;
    }
    if (!s->appendonly)
        return 0;
    rc = ember_aof_open_path(db, s->dir, s->appendfilename, EMBER_AOF_CONFIG, 0, &err);
    if (rc != EMBER_OK) {
        fprintf(stderr, "ember-server: cannot open the append log %s: %s\n", path,
                err ? err : ember_strerror(rc));
        ember_free(err);
        return -1;
    }
    if (err) /* loaded up to a damaged tail */
        fprintf(stderr, "ember-server: append log: %s\n", err);
    ember_free(err);
    if (!aof_exists) {
        /* A new log: start it with what the snapshot held. */
        rc = ember_aof_rewrite_path(db);
        if (rc != EMBER_OK) {
            fprintf(stderr, "ember-server: cannot write the append log: %s\n", ember_strerror(rc));
            return -1;
        }
    } else {
        printf("ember-server: loaded %s\n", s->appendfilename);
    }
    return 0;
}

int main(int argc, char **argv)
{
    settings s;
    memset(&s, 0, sizeof s);
    strcpy(s.bind, "127.0.0.1");
    s.port = 6379;
    strcpy(s.dbfilename, "dump.rdb");
    strcpy(s.appendfilename, "appendonly.aof");
    if (ember_config_new(&s.db) != EMBER_OK || ember_server_config_new(&s.srv) != EMBER_OK) {
        fprintf(stderr, "ember-server: out of memory\n");
        return 1;
    }
    int first = 1;
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        read_file(&s, argv[1]);
        first = 2;
    }
    read_args(&s, argc, argv, first);
    if (s.dir[0]) {
        struct stat st;
        if (stat(s.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "Can't chdir to '%s': %s\n", s.dir,
                    errno ? strerror(errno) : "Not a directory");
            return 1;
        }
    }

    /* Block the signals before any thread starts: every thread inherits the
     * mask, and the main thread takes them with sigwait(). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    ember_db *db = NULL;
    int rc = ember_db_open(s.db, &db);
    ember_config_free(s.db);
    if (rc != EMBER_OK) {
        fprintf(stderr, "ember-server: cannot open the database: %s\n", ember_strerror(rc));
        return 1;
    }
    the_db = db;
    if (load_files(db, &s) != 0) {
        ember_db_close(db);
        return 1;
    }
    ember_server_config_set_shutdown_hook(s.srv, on_shutdown, NULL);
    ember_server *srv;
    rc = ember_server_start_config(db, s.srv, &srv);
    ember_server_config_free(s.srv);
    if (rc != EMBER_OK) {
        fprintf(stderr, "ember-server: cannot listen on %s:%d: %s (%s)\n", s.bind, s.port,
                ember_strerror(rc), strerror(errno));
        ember_db_close(db);
        return 1;
    }
    printf("ember-server %s listening on %s:%d\n", ember_version(), s.bind, ember_server_port(srv));
    fflush(stdout);

    for (;;) {
        int sig;
        sigwait(&set, &sig);
        if (atomic_load(&shutdown_asked))
            break; /* SHUTDOWN: saved (or not asked to) by on_shutdown */
        printf("ember-server: signal %d, shutting down\n", sig);
        if (final_save(db, 0) == 0)
            break;
        fprintf(stderr, "ember-server: not exiting: the snapshot could not be saved\n");
        fflush(stderr);
    }
    ember_server_stop(srv);
    rc = ember_db_close(db); /* syncs and closes the append log */
    printf("ember-server: bye\n");
    return rc == EMBER_OK ? 0 : 1;
}
