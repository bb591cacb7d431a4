/*
 * ember-server.c — serves an in-memory ember database to Redis clients.
 *
 *   ember-server [--port N] [--bind ADDR] [--databases N]
 *
 * Opens a database, starts a RESP listener on it (127.0.0.1:6379 unless told
 * otherwise) and serves until SIGINT or SIGTERM; then it stops the listener
 * and closes the database. Try it with `redis-cli -p N` or redis-benchmark.
 */
#include <ember.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
    fprintf(stderr, "usage: ember-server [--port N] [--bind ADDR] [--databases N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 6379;
    const char *bind = "127.0.0.1";
    const char *databases = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bind"))
            bind = argv[++i];
        else if (!strcmp(argv[i], "--databases"))
            databases = argv[++i];
        else
            usage();
    }

    /* Block the signals before any thread starts: every thread inherits the
     * mask, and the main thread takes them with sigwait(). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    ember_config *cfg = NULL;
    int rc = ember_config_new(&cfg);
    if (rc == EMBER_OK && databases)
        rc = ember_config_set(cfg, "databases", databases);
    ember_db *db = NULL;
    if (rc == EMBER_OK)
        rc = ember_db_open(cfg, &db);
    ember_config_free(cfg);
    if (rc != EMBER_OK) {
        fprintf(stderr, "ember-server: cannot open the database: %s\n", ember_strerror(rc));
        return 1;
    }
    ember_server *srv;
    rc = ember_server_start(db, bind, port, 0, &srv);
    if (rc != EMBER_OK) {
        perror("ember-server: listen");
        fprintf(stderr, "ember-server: cannot listen on %s:%d: %s\n", bind, port,
                ember_strerror(rc));
        ember_db_close(db);
        return 1;
    }
    printf("ember-server %s listening on %s:%d\n", ember_version(), bind, ember_server_port(srv));
    fflush(stdout);

    int sig;
    sigwait(&set, &sig);
    printf("ember-server: signal %d, shutting down\n", sig);
    ember_server_stop(srv);
    ember_db_close(db);
    return 0;
}
