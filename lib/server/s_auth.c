/*
 * s_auth.c — AUTH and the password check behind it and HELLO AUTH.
 *
 * ember has one user, "default", as Redis without ACL rules: with
 * requirepass empty it has no password (any password authenticates it,
 * AUTH <password> alone is refused with Redis's hint); with requirepass set
 * a connection must authenticate before anything but AUTH, HELLO, QUIT and
 * RESET (s_conn.c's gate).
 *
 * requirepass is a setting of the database (em_settings, CONFIG SET
 * requirepass), owned by the executor; this thread reads it under the
 * store's cfg_lock, which the executor holds while it replaces the settings.
 * As in Redis, a connection accepted while no password was set stays
 * authenticated when one is set later, and clearing the password lets
 * everyone in.
 */
#include <string.h>

#include "srv_int.h"

/* Copies requirepass into buf (cap >= its field); returns its length. */
static size_t read_pass(const struct ember_server *s, char *buf, size_t cap)
{
    em_server *es = &s->core->srv;
    pthread_mutex_lock(&es->cfg_lock);
    size_t n = strnlen(es->cfg.requirepass, sizeof es->cfg.requirepass);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, es->cfg.requirepass, n);
    pthread_mutex_unlock(&es->cfg_lock);
    buf[n] = 0;
    return n;
}

int ember__srv_auth_configured(const struct ember_server *s)
{
    em_server *es = &s->core->srv;
    pthread_mutex_lock(&es->cfg_lock);
    int set = es->cfg.requirepass[0] != 0;
    pthread_mutex_unlock(&es->cfg_lock);
    return set;
}

int ember__srv_auth_required(const struct ember_server *s, const srv_conn *c)
{
    return !c->authenticated && ember__srv_auth_configured(s);
}

/* Compares an attempt with the password in time that depends only on the
 * attempt's length, not on where the first difference is: every byte of
 * the attempt is compared (with the password repeated), and a length
 * mismatch is folded into the same accumulator. */
static int pass_equal(const char *try, size_t tlen, const char *pass, size_t plen)
{
    unsigned diff = tlen != plen;
    for (size_t i = 0; i < tlen; i++)
        diff |= (unsigned)((unsigned char)try[i] ^ (unsigned char)pass[plen ? i % plen : 0]);
    return diff == 0;
}

int ember__srv_auth_check(const struct ember_server *s, const char *user, size_t ulen,
                          const char *pass, size_t plen)
{
    if (ulen != 7 || memcmp(user, "default", 7) != 0) /* user names are case-sensitive */
        return 0;
    char want[sizeof(((em_settings *)0)->requirepass)];
    size_t wlen = read_pass(s, want, sizeof want);
    int ok = wlen == 0 || pass_equal(pass, plen, want, wlen);
    memset(want, 0, sizeof want);
    return ok;
}

/* AUTH [username] password */
void ember__srv_cmd_auth(struct ember_server *s, srv_conn *c, size_t argc)
{
    if (argc > 3) {
        ember__srv_reply_error(c, "ERR syntax error");
        return;
    }
    if (argc == 2 && !ember__srv_auth_configured(s)) {
        ember__srv_reply_error(c, "ERR AUTH <password> called without any password configured "
                                  "for the default user. Are you sure your configuration is "
                                  "correct?");
        return;
    }
    int ok = argc == 2
                 ? ember__srv_auth_check(s, "default", 7, c->argv[1], c->argvlen[1])
                 : ember__srv_auth_check(s, c->argv[1], c->argvlen[1], c->argv[2], c->argvlen[2]);
    if (!ok) {
        /* A failed attempt leaves an authenticated connection as it was. */
        ember__srv_reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    c->authenticated = 1;
    ember__srv_reply_str(c, "+OK\r\n");
}
