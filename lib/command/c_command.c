/*
 * c_command.c — COMMAND: the command table described to clients (COUNT,
 * INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS), in Redis 7.0's reply shapes.
 *
 * Name, arity and first/last/step come from the table rows; flags, ACL
 * categories, tips, key specs, group and version from cmd_meta.c. A row
 * without metadata is still described, from its em_cmd flags alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "../common/common.h"
#include "../common/util.h"
#include "command.h"

/* ------------------------------------------------------------ words */

/* Counts the space-separated words of s[0..len) (s NULL: none). */
static size_t word_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; s && i < len; i++)
        if (s[i] != ' ' && (i + 1 == len || s[i + 1] == ' '))
            n++;
    return n;
}

/* Next word of *s before end: its start and length; advances *s. 0 at the
 * end. */
static size_t word_next(const char **s, const char *end, const char **w)
{
    while (*s < end && **s == ' ')
        (*s)++;
    *w = *s;
    while (*s < end && **s != ' ')
        (*s)++;
    return (size_t)(*s - *w);
}

/* Replies with the words of s[0..len) as a set of status strings (bulk:
 * bulk strings, as Redis sends tips). */
static void add_words_n(em_ctx *c, const char *s, size_t len, int bulk)
{
    em_add_set(c, word_count(s, len));
    if (!s)
        return;
    const char *w, *end = s + len;
    size_t n;
    while ((n = word_next(&s, end, &w)) > 0) {
        if (bulk) {
            em_add_bulk(c, w, n);
        } else {
            char buf[64];
            snprintf(buf, sizeof buf, "%.*s", (int)n, w);
            em_add_status(c, buf);
        }
    }
}

static void add_words(em_ctx *c, const char *s, int bulk)
{
    add_words_n(c, s, s ? strlen(s) : 0, bulk);
}

static int has_word(const char *s, const char *word, size_t len)
{
    const char *w, *end = s + strlen(s);
    size_t n;
    while ((n = word_next(&s, end, &w)) > 0)
        if (n == len && strncasecmp(w, word, len) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ key specs */

enum { BS_INDEX, BS_KEYWORD, BS_UNKNOWN };
enum { FK_RANGE, FK_KEYNUM, FK_UNKNOWN };

typedef struct keyspec {
    const char *flags; /* into the metadata string: flen bytes */
    size_t flen;
    int bs;
    long pos;         /* BS_INDEX: index; BS_KEYWORD: startfrom */
    char keyword[32]; /* BS_KEYWORD */
    int fk;
    long a, b, lim; /* range: lastkey keystep limit; keynum: keynumidx firstkey keystep */
} keyspec;

/* Parses the next spec of *s (see cmd_meta.c); 0 when there is none. */
static int spec_next(const char **s, keyspec *k)
{
    if (!*s || !**s)
        return 0;
    const char *start = *s, *end = strchr(*s, '|');
    size_t len = end ? (size_t)(end - *s) : strlen(*s);
    char buf[160];
    snprintf(buf, sizeof buf, "%.*s", (int)len, *s);
    *s = end ? end + 1 : *s + len;
    memset(k, 0, sizeof *k);
    char *bs = strchr(buf, ';');
    char *fk = bs ? strchr(bs + 1, ';') : NULL;
    if (!fk)
        return 0;
    *bs++ = '\0';
    *fk++ = '\0';
    k->flags = start;
    k->flen = strlen(buf);
    if (bs[0] == 'i') {
        k->bs = BS_INDEX;
        k->pos = strtol(bs + 1, NULL, 10);
    } else if (bs[0] == 'k') {
        char *comma = strchr(bs, ',');
        k->bs = BS_KEYWORD;
        k->pos = comma ? strtol(comma + 1, NULL, 10) : 1;
        snprintf(k->keyword, sizeof k->keyword, "%.*s",
                 (int)(comma ? comma - bs - 1 : (long)strlen(bs + 1)), bs + 1);
    } else {
        k->bs = BS_UNKNOWN;
    }
    k->fk = fk[0] == 'r' ? FK_RANGE : fk[0] == 'n' ? FK_KEYNUM : FK_UNKNOWN;
    if (k->fk != FK_UNKNOWN) {
        char *p = fk + 1;
        k->a = strtol(p, &p, 10);
        k->b = strtol(*p ? p + 1 : p, &p, 10);
        k->lim = strtol(*p ? p + 1 : p, &p, 10);
    }
    return 1;
}

static void add_kv_int(em_ctx *c, const char *k, long v)
{
    em_add_cstr(c, k);
    em_add_int(c, v);
}

static void add_keyspec(em_ctx *c, const keyspec *k)
{
    em_add_map(c, 3);
    em_add_cstr(c, "flags");
    add_words_n(c, k->flags, k->flen, 0);
    em_add_cstr(c, "begin_search");
    em_add_map(c, 2);
    em_add_cstr(c, "type");
    em_add_cstr(c, k->bs == BS_INDEX ? "index" : k->bs == BS_KEYWORD ? "keyword" : "unknown");
    em_add_cstr(c, "spec");
    if (k->bs == BS_INDEX) {
        em_add_map(c, 1);
        add_kv_int(c, "index", k->pos);
    } else if (k->bs == BS_KEYWORD) {
        em_add_map(c, 2);
        em_add_cstr(c, "keyword");
        em_add_cstr(c, k->keyword);
        add_kv_int(c, "startfrom", k->pos);
    } else {
        em_add_map(c, 0);
    }
    em_add_cstr(c, "find_keys");
    em_add_map(c, 2);
    em_add_cstr(c, "type");
    em_add_cstr(c, k->fk == FK_RANGE ? "range" : k->fk == FK_KEYNUM ? "keynum" : "unknown");
    em_add_cstr(c, "spec");
    if (k->fk == FK_RANGE) {
        em_add_map(c, 3);
        add_kv_int(c, "lastkey", k->a);
        add_kv_int(c, "keystep", k->b);
        add_kv_int(c, "limit", k->lim);
    } else if (k->fk == FK_KEYNUM) {
        em_add_map(c, 3);
        add_kv_int(c, "keynumidx", k->a);
        add_kv_int(c, "firstkey", k->b);
        add_kv_int(c, "keystep", k->lim);
    } else {
        em_add_map(c, 0);
    }
}

/* ------------------------------------------------------------ lookup */

static const em_cmd_meta *meta_of(const em_cmd *parent, const em_cmd *cmd)
{
    char name[128];
    ember__cmd_fullname(parent, cmd, name, sizeof name);
    return ember__cmd_meta(name);
}

static size_t sub_count(const em_cmd *cmd)
{
    size_t n = 0;
    for (const em_cmd *s = cmd->subcmds; s && s->name; s++)
        n++;
    return n;
}

/* Finds a command by full name ("get", "config|get", any case); *parent
 * gets the container of a subcommand. */
static const em_cmd *find_full(const char *name, size_t len, const em_cmd **parent)
{
    const char *bar = memchr(name, '|', len);
    *parent = NULL;
    const em_cmd *top = ember__cmd_lookup(name, bar ? (size_t)(bar - name) : len);
    if (!bar || !top)
        return top;
    if (!top->subcmds)
        return NULL;
    size_t sl = len - (size_t)(bar + 1 - name);
    for (const em_cmd *s = top->subcmds; s->name; s++) {
        if (strlen(s->name) == sl && strncasecmp(s->name, bar + 1, sl) == 0) {
            *parent = top;
            return s;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ INFO */

/* The flags Redis would show for a row without metadata. */
static void add_row_flags(em_ctx *c, uint32_t f)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{EM_CMD_WRITE, "write"},       {EM_CMD_READONLY, "readonly"},
                 {EM_CMD_DENYOOM, "denyoom"},   {EM_CMD_ADMIN, "admin"},
                 {EM_CMD_BLOCKING, "blocking"}, {EM_CMD_FAST, "fast"}};
    size_t n = 0;
    for (size_t i = 0; i < EM_ARRAY_LEN(names); i++)
        n += (f & names[i].bit) != 0;
    em_add_set(c, n);
    for (size_t i = 0; i < EM_ARRAY_LEN(names); i++)
        if (f & names[i].bit)
            em_add_status(c, names[i].name);
}

static void add_info(em_ctx *c, const em_cmd *parent, const em_cmd *cmd)
{
    char name[128];
    ember__cmd_fullname(parent, cmd, name, sizeof name);
    const em_cmd_meta *m = ember__cmd_meta(name);
    em_add_array(c, 10);
    em_add_cstr(c, name);
    em_add_int(c, cmd->arity);
    if (m)
        add_words(c, m->flags, 0);
    else
        add_row_flags(c, cmd->flags);
    em_add_int(c, cmd->first_key);
    em_add_int(c, cmd->last_key);
    em_add_int(c, cmd->key_step);
    add_words(c, m ? m->acl : NULL, 0);
    add_words(c, m ? m->tips : NULL, 1);
    const char *s = m ? m->keyspecs : NULL;
    keyspec k;
    size_t nspecs = 0;
    while (spec_next(&s, &k))
        nspecs++;
    em_add_set(c, nspecs);
    s = m ? m->keyspecs : NULL;
    while (spec_next(&s, &k))
        add_keyspec(c, &k);
    /* As Redis: an empty set without subcommands, else an array. */
    size_t nsub = sub_count(cmd);
    if (nsub)
        em_add_array(c, nsub);
    else
        em_add_set(c, 0);
    for (const em_cmd *sub = cmd->subcmds; sub && sub->name; sub++)
        add_info(c, cmd, sub);
}

/* COMMAND (no subcommand): every command. */
static void reply_all_info(em_ctx *c)
{
    size_t n = ember__cmd_count();
    em_add_array(c, n);
    for (size_t i = 0; i < n; i++)
        add_info(c, NULL, ember__cmd_nth(i));
}

/* COMMAND INFO [command-name ...] */
static void cmd_command_info(em_ctx *c)
{
    if (c->argc == 2) {
        reply_all_info(c);
        return;
    }
    em_add_array(c, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) {
        const em_cmd *parent, *cmd = find_full(c->argv[i], c->argvlen[i], &parent);
        if (cmd)
            add_info(c, parent, cmd);
        else
            em_add_nil(c);
    }
}

/* COMMAND COUNT */
static void cmd_command_count(em_ctx *c)
{
    em_add_int(c, (int64_t)ember__cmd_count());
}

/* ------------------------------------------------------------ DOCS */

/*
 * The documentation map holds summary, since and group (and subcommands);
 * Redis's complexity, history and argument descriptions are left out.
 */
static void add_docs(em_ctx *c, const em_cmd *parent, const em_cmd *cmd)
{
    char name[128];
    ember__cmd_fullname(parent, cmd, name, sizeof name);
    const em_cmd_meta *m = ember__cmd_meta(name);
    em_add_cstr(c, name);
    size_t nsub = sub_count(cmd);
    em_add_map(c, 3 + (nsub > 0));
    em_add_cstr(c, "summary");
    em_add_cstr(c, m ? m->summary : "");
    em_add_cstr(c, "since");
    em_add_cstr(c, m ? m->since : "");
    em_add_cstr(c, "group");
    em_add_cstr(c, m ? m->group : "generic");
    if (nsub) {
        em_add_cstr(c, "subcommands");
        em_add_map(c, nsub);
        for (const em_cmd *sub = cmd->subcmds; sub->name; sub++)
            add_docs(c, cmd, sub);
    }
}

/* COMMAND DOCS [command-name ...] */
static void cmd_command_docs(em_ctx *c)
{
    if (c->argc == 2) {
        size_t n = ember__cmd_count();
        em_add_map(c, n);
        for (size_t i = 0; i < n; i++)
            add_docs(c, NULL, ember__cmd_nth(i));
        return;
    }
    em_add_deferred(c, EMBER_REPLY_MAP);
    size_t found = 0;
    for (size_t i = 2; i < c->argc; i++) {
        const em_cmd *parent, *cmd = find_full(c->argv[i], c->argvlen[i], &parent);
        if (cmd) {
            add_docs(c, parent, cmd);
            found++;
        }
    }
    em_end_deferred(c, found);
}

/* ------------------------------------------------------------ LIST */

enum { FILTER_NONE, FILTER_MODULE, FILTER_ACLCAT, FILTER_PATTERN };

static int list_match(const em_cmd *parent, const em_cmd *cmd, int filter, const char *arg,
                      size_t alen)
{
    char name[128];
    ember__cmd_fullname(parent, cmd, name, sizeof name);
    if (filter == FILTER_NONE)
        return 1;
    if (filter == FILTER_MODULE)
        return 0; /* ember has no modules */
    if (filter == FILTER_PATTERN)
        return ember__glob_match(arg, alen, name, strlen(name), 1);
    const em_cmd_meta *m = ember__cmd_meta(name);
    char cat[72];
    if (alen > 64)
        return 0;
    snprintf(cat, sizeof cat, "@%.*s", (int)alen, arg);
    return m && has_word(m->acl, cat, alen + 1);
}

/* COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] */
static void cmd_command_list(em_ctx *c)
{
    int filter = FILTER_NONE;
    if (c->argc == 5 && em_arg_is(c, 2, "filterby")) {
        if (em_arg_is(c, 3, "module"))
            filter = FILTER_MODULE;
        else if (em_arg_is(c, 3, "aclcat"))
            filter = FILTER_ACLCAT;
        else if (em_arg_is(c, 3, "pattern"))
            filter = FILTER_PATTERN;
    }
    if (c->argc != 2 && filter == FILTER_NONE) {
        em_err_syntax(c);
        return;
    }
    const char *arg = filter != FILTER_NONE ? c->argv[4] : NULL;
    size_t alen = filter != FILTER_NONE ? c->argvlen[4] : 0;
    em_add_deferred(c, EMBER_REPLY_ARRAY);
    size_t found = 0;
    for (size_t i = 0; i < ember__cmd_count(); i++) {
        const em_cmd *cmd = ember__cmd_nth(i);
        if (list_match(NULL, cmd, filter, arg, alen)) {
            em_add_cstr(c, cmd->name);
            found++;
        }
        for (const em_cmd *sub = cmd->subcmds; sub && sub->name; sub++) {
            if (list_match(cmd, sub, filter, arg, alen)) {
                char name[128];
                ember__cmd_fullname(cmd, sub, name, sizeof name);
                em_add_cstr(c, name);
                found++;
            }
        }
    }
    em_end_deferred(c, found);
}

/* ------------------------------------------------------------ GETKEYS */

typedef struct keyref {
    size_t idx;
    const char *flags; /* the flags of the spec that found it */
    size_t flen;
} keyref;

/*
 * The keys of argv[first...] by the command's key specs, as Redis 7.0
 * finds them: the begin search gives the first key (an index, or the
 * argument after a keyword searched from startfrom: forwards when it is
 * positive, backwards from the end when negative); the find-keys step the
 * last one and the step (a range whose negative lastkey counts from the end,
 * with a limit dividing what remains; or a count read from an argument).
 * Returns the number of keys, or -1 when the arguments cannot hold them.
 */
static long spec_keys(const em_ctx *c, size_t base, const em_cmd_meta *m, keyref *out, size_t cap)
{
    long argc = (long)(c->argc - base);
    const char *const *argv = c->argv + base;
    const size_t *argvlen = c->argvlen + base;
    const char *s = m ? m->keyspecs : NULL;
    keyspec k;
    size_t n = 0;
    while (spec_next(&s, &k)) {
        long first = -1, last, step;
        if (k.bs == BS_INDEX) {
            first = k.pos;
        } else if (k.bs == BS_KEYWORD) {
            size_t kl = strlen(k.keyword);
            long start = k.pos >= 0 ? k.pos : argc + k.pos, end = k.pos >= 0 ? argc : 0;
            long dir = k.pos >= 0 ? 1 : -1;
            for (long i = start; dir > 0 ? i < end : i > end; i += dir) {
                if (argvlen[i] == kl && strncasecmp(argv[i], k.keyword, kl) == 0) {
                    first = i + 1;
                    break;
                }
            }
            if (first < 0)
                continue; /* keyword absent: this spec names no key */
        } else {
            continue;
        }
        if (k.fk == FK_RANGE) {
            step = k.b;
            if (k.a >= 0)
                last = first + k.a;
            else if (k.lim == 0)
                last = argc + k.a;
            else
                last = first + ((argc - first) / k.lim + k.a);
        } else if (k.fk == FK_KEYNUM) {
            long long num;
            if (first + k.a >= argc ||
                !ember__str_to_ll(argv[first + k.a], argvlen[first + k.a], &num) || num < 0 ||
                num > argc)
                return -1;
            first += k.b;
            last = first + (long)num - 1;
            step = k.lim;
        } else {
            continue;
        }
        if (last < first)
            continue;
        if (last >= argc || step <= 0)
            return -1;
        for (long i = first; i <= last; i += step) {
            if (n < cap) {
                out[n].idx = (size_t)i + base;
                out[n].flags = k.flags;
                out[n].flen = k.flen;
                n++;
            }
        }
    }
    return (long)n;
}

/* COMMAND GETKEYS / GETKEYSANDFLAGS command [arg ...] */
static void getkeys_common(em_ctx *c, int with_flags)
{
    const em_cmd *cmd = ember__cmd_lookup(c->argv[2], c->argvlen[2]);
    const em_cmd *parent = NULL;
    size_t base = 2;
    if (cmd && cmd->subcmds) {
        const em_cmd *sub = NULL;
        for (const em_cmd *s = cmd->subcmds; c->argc > 3 && s->name; s++)
            if (em_arg_is(c, 3, s->name))
                sub = s;
        parent = sub ? cmd : NULL;
        cmd = sub;
    }
    if (!cmd) {
        em_add_error(c, "ERR Invalid command specified");
        return;
    }
    size_t argc = c->argc - base;
    if (cmd->arity > 0 ? argc != (size_t)cmd->arity : argc < (size_t)-cmd->arity) {
        em_add_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    const em_cmd_meta *m = meta_of(parent, cmd);
    if (!m || !m->keyspecs[0]) {
        em_add_error(c, "ERR The command has no key arguments");
        return;
    }
    size_t cap = c->argc;
    keyref *keys = malloc(cap * sizeof *keys);
    if (!keys) {
        em_err_oom(c);
        return;
    }
    long n = spec_keys(c, base, m, keys, cap);
    if (n <= 0) {
        em_add_error(c, "ERR Invalid arguments specified for command");
        free(keys);
        return;
    }
    em_add_array(c, (size_t)n);
    for (long i = 0; i < n; i++) {
        if (with_flags)
            em_add_array(c, 2);
        em_add_bulk(c, c->argv[keys[i].idx], c->argvlen[keys[i].idx]);
        if (with_flags)
            add_words_n(c, keys[i].flags, keys[i].flen, 0);
    }
    free(keys);
}

static void cmd_command_getkeys(em_ctx *c)
{
    getkeys_common(c, 0);
}

static void cmd_command_getkeysandflags(em_ctx *c)
{
    getkeys_common(c, 1);
}

/* ------------------------------------------------------------ HELP */

static void cmd_command_help(em_ctx *c)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    };
    em_add_help(c, lines, sizeof lines / sizeof lines[0]);
}

/* COMMAND [subcommand]: without one, every command's INFO. */
static void cmd_command(em_ctx *c)
{
    reply_all_info(c);
}

static const em_cmd command_subcmds[] = {
    {"count", cmd_command_count, 2, 0, 0, 0, 0, NULL},
    {"info", cmd_command_info, -2, 0, 0, 0, 0, NULL},
    {"docs", cmd_command_docs, -2, 0, 0, 0, 0, NULL},
    {"list", cmd_command_list, -2, 0, 0, 0, 0, NULL},
    {"getkeys", cmd_command_getkeys, -4, 0, 0, 0, 0, NULL},
    {"getkeysandflags", cmd_command_getkeysandflags, -4, 0, 0, 0, 0, NULL},
    {"help", cmd_command_help, 2, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

/* The connection commands ember-server answers itself (lib/server): listed
 * here so that COMMAND describes everything a network client can run, with
 * Redis 7.0's arity and keys. Through the C API there is no connection:
 * they answer an error. */
static void cmd_connection_only(em_ctx *c)
{
    char name[64];
    ember__cmd_fullname(c->parent, c->cmd, name, sizeof name);
    em_add_errorf(c,
                  "ERR '%s' is a connection command: ember-server answers it, a call through the "
                  "C API has no connection",
                  name);
}

static const em_cmd client_subcmds[] = {
    {"getname", cmd_connection_only, 2, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"help", cmd_connection_only, 2, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"id", cmd_connection_only, 2, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"info", cmd_connection_only, 2, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"kill", cmd_connection_only, -3, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"list", cmd_connection_only, -2, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"no-evict", cmd_connection_only, 3, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"setname", cmd_connection_only, 3, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

const em_cmd ember__command_cmds[] = {
    {"command", cmd_command, -1, 0, 0, 0, 0, command_subcmds},
    {"hello", cmd_connection_only, -1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"auth", cmd_connection_only, -2, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"quit", cmd_connection_only, -1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"reset", cmd_connection_only, 1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"client", NULL, -2, 0, 0, 0, 0, client_subcmds},
    {"shutdown", cmd_connection_only, -1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"multi", cmd_connection_only, 1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"exec", cmd_connection_only, 1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"discard", cmd_connection_only, 1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {"watch", cmd_connection_only, -2, EM_CMD_NOMULTI, 1, -1, 1, NULL},
    {"unwatch", cmd_connection_only, 1, EM_CMD_NOMULTI, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};
