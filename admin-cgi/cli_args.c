/* token-admin: parsing a command's options and reporting errors.
 *
 * Options are GNU-style long options ("--name VALUE" or "--name=VALUE"),
 * recognised by APR's apr_getopt_long. Two things stay ours, because APR
 * has no switch for them: only arguments starting with "--" are handed to
 * it, since there are no short options and a client_id or jti (base64url)
 * may well start with '-'; and repeatable options are collected here
 * (apr_getopt_long reports each occurrence, a table keeps them all).
 * Everything is parsed and checked before the registry is opened, so a
 * usage error never changes anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_getopt.h>
#include <apr_strings.h>

#include "cli.h"

/* A JSON string of TEXT even when it is not UTF-8 (an echoed argument may
 * be anything): bytes outside ASCII become '?' then. */
static json_t *json_text(char *text)
{
    json_t *s = json_string(text);
    char *c;

    if (s) {
        return s;
    }
    for (c = text; *c; c++) {
        if ((unsigned char)*c >= 0x80) {
            *c = '?';
        }
    }
    return json_string(text);
}

static int vfail(cli_t *cli, int status, const char *code, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));

static int vfail(cli_t *cli, int status, const char *code, const char *fmt,
                 va_list ap)
{
    char msg[512];
    char *nl;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (cli->json || cli->json_errors) {
        /* One line too: jansson escapes control characters. */
        json_t *o = json_object();
        char *line;

        json_object_set_new(o, "error", json_string(code));
        json_object_set_new(o, "message", json_text(msg));
        line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        fprintf(stderr, "%s\n", line ? line : "{\"error\": \"registry\"}");
        free(line);
        json_decref(o);
        return status;
    }
    /* One line, whatever the message held, and no terminal escapes from
     * echoed input. */
    for (nl = msg; *nl; nl++) {
        if ((unsigned char)*nl < 0x20 || *nl == 0x7f) {
            *nl = '?';
        }
    }
    fprintf(stderr, "token-admin: %s\n", msg);
    return status;
}

int cli_fail_as(cli_t *cli, int status, const char *code, const char *fmt,
                ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(cli, status, code, fmt, ap);
    va_end(ap);
    return status;
}

int cli_fail(cli_t *cli, int status, const char *fmt, ...)
{
    const char *code = status == CLI_USAGE      ? "usage"
                       : status == CLI_REGISTRY ? "registry"
                                                : "invalid";
    va_list ap;

    va_start(ap, fmt);
    vfail(cli, status, code, fmt, ap);
    va_end(ap);
    return status;
}

static const cli_opt_t global_opts[] = {
    {"registry", "PATH", 0, NULL},
    {"actor", "NAME", 0, NULL},
    {"json", NULL, 0, NULL},
    {NULL, NULL, 0, NULL}
};

/* Option ids for apr_getopt_long: above 255, so no short option exists. */
#define OPT_COMMAND 0x100
#define OPT_GLOBAL  0x200

/* The apr_getopt_long table of SPEC plus the global options. */
static apr_getopt_option_t *opt_table(apr_pool_t *p, const cli_opt_t *spec)
{
    int n = 0, g, i = 0;
    apr_getopt_option_t *t;

    while (spec && spec[n].name) {
        n++;
    }
    t = apr_pcalloc(p, (n + 4) * sizeof(*t));
    for (; i < n; i++) {
        t[i].name = spec[i].name;
        t[i].optch = OPT_COMMAND + i;
        t[i].has_arg = spec[i].arg != NULL;
    }
    for (g = 0; global_opts[g].name; g++, i++) {
        t[i].name = global_opts[g].name;
        t[i].optch = OPT_GLOBAL + g;
        t[i].has_arg = global_opts[g].arg != NULL;
    }
    return t;   /* ends with optch 0 */
}

/* The usage line for an option apr_getopt_long refused. */
static int refused_option(cli_t *cli, apr_status_t rv, const char *arg)
{
    const char *name = arg + 2, *eq = strchr(name, '=');
    int len = eq ? (int)(eq - name) : (int)strlen(name);

    if (rv == APR_BADARG) {
        return cli_fail(cli, CLI_USAGE, eq ? "option --%.*s takes no value"
                                           : "option --%.*s needs a value",
                        len > 60 ? 60 : len, name);
    }
    return cli_fail(cli, CLI_USAGE, "unknown option \"--%.*s\"",
                    len > 60 ? 60 : len, name);
}

/* Parses ARGV against SPEC; with HEAD set, only up to the first word
 * (the command), and *USED is the count of arguments taken. */
static int parse(cli_t *cli, int argc, const char *const *argv,
                 const cli_opt_t *spec, cli_args_t *args, int head, int *used)
{
    apr_getopt_option_t *table = opt_table(cli->pool, spec);
    const char **av = apr_palloc(cli->pool, (argc + 2) * sizeof(*av));
    apr_getopt_t *os;
    int ch;

    args->opts = apr_table_make(cli->pool, 8);
    args->words = apr_array_make(cli->pool, 4, sizeof(const char *));
    /* apr_getopt_init skips argv[0], the program's name. */
    av[0] = "token-admin";
    memcpy(av + 1, argv, argc * sizeof(*av));
    av[argc + 1] = NULL;
    if (apr_getopt_init(&os, cli->pool, argc + 1, av) != APR_SUCCESS) {
        return cli_fail(cli, CLI_USAGE, "cannot parse the command line");
    }
    os->errfn = NULL;    /* our own one-line messages */
    while (os->ind < os->argc) {
        const char *a = os->argv[os->ind], *value;
        const cli_opt_t *o;
        apr_status_t rv;

        if (head && (strcmp(a, "--") == 0 || strncmp(a, "--", 2) != 0)) {
            os->ind += strcmp(a, "--") == 0;
            break;
        }
        if (strcmp(a, "--") == 0) {
            while (++os->ind < os->argc) {
                APR_ARRAY_PUSH(args->words, const char *) = os->argv[os->ind];
            }
            break;
        }
        if (strncmp(a, "--", 2) != 0) {
            APR_ARRAY_PUSH(args->words, const char *) = a;
            os->ind++;
            continue;
        }
        rv = apr_getopt_long(os, table, &ch, &value);
        if (rv != APR_SUCCESS) {
            return refused_option(cli, rv, a);
        }
        if (ch >= OPT_GLOBAL) {
            o = &global_opts[ch - OPT_GLOBAL];
            if (strcmp(o->name, "registry") == 0) {
                cli->registry = value;
            }
            else if (strcmp(o->name, "actor") == 0) {
                cli->actor = value;
            }
            else {
                cli->json = 1;
            }
            continue;
        }
        o = &spec[ch - OPT_COMMAND];
        if (!o->repeatable && apr_table_get(args->opts, o->name)) {
            return cli_fail(cli, CLI_USAGE, "option --%s is given twice",
                            o->name);
        }
        apr_table_add(args->opts, o->name, value ? value : "");
    }
    if (used) {
        *used = os->ind - 1;
    }
    return CLI_OK;
}

int cli_parse(cli_t *cli, int argc, const char *const *argv,
              const cli_opt_t *spec, cli_args_t *args)
{
    return parse(cli, argc, argv, spec, args, 0, NULL);
}

int cli_parse_head(cli_t *cli, int argc, const char *const *argv,
                   const cli_opt_t *spec, cli_args_t *args, int *used)
{
    return parse(cli, argc, argv, spec, args, 1, used);
}

int cli_has_flag(int argc, const char *const *argv, const char *flag)
{
    int i;

    for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], flag) == 0) {
            return 1;
        }
    }
    return 0;
}

/* "--help" among the options asks for help whatever else the line holds,
 * so that it never changes anything. */
static int wants_help(int argc, const char *const *argv)
{
    return cli_has_flag(argc, argv, "--help");
}

int cli_dispatch(cli_t *cli, const cli_group_t *group, int argc,
                 const char *const *argv)
{
    const cli_verb_t *v = group->verbs;
    cli_args_t args;
    int rc;

    if (v->name == NULL) {
        /* A command without verbs (audit). */
        if (wants_help(argc, argv)) {
            cli_help_verb(stdout, group, v);
            return CLI_HELP;
        }
    }
    else {
        if (argc > 0 && strcmp(argv[0], "--help") == 0) {
            cli_help_group(stdout, group);
            return CLI_HELP;
        }
        for (; argc > 0 && v->run && strcmp(v->name, argv[0]) != 0; v++) {
        }
        if (argc == 0 || v->run == NULL) {
            const cli_verb_t *w;
            const char *names = NULL;
            for (w = group->verbs; w->run; w++) {
                names = names ? apr_pstrcat(cli->pool, names, ", ", w->name,
                                            NULL)
                              : w->name;
            }
            return cli_fail(cli, CLI_USAGE, "%s needs one of %s (see "
                            "token-admin %s --help)", group->name, names,
                            group->name);
        }
        argc--;
        argv++;
        if (wants_help(argc, argv)) {
            cli_help_verb(stdout, group, v);
            return CLI_HELP;
        }
    }
    if ((rc = cli_parse(cli, argc, argv, v->opts, &args))) {
        return rc;
    }
    return v->run(cli, v, &args);
}

const char *cli_opt(const cli_args_t *args, const char *name)
{
    return apr_table_get(args->opts, name);
}

typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *list;
} collect_t;

static int collect_whole(void *data, const char *key, const char *value)
{
    collect_t *c = data;

    APR_ARRAY_PUSH(c->list, const char *) = value;
    return 1;
}

apr_array_header_t *cli_opt_values(cli_t *cli, const cli_args_t *args,
                                   const char *name)
{
    collect_t c;

    if (apr_table_get(args->opts, name) == NULL) {
        return NULL;
    }
    c.pool = cli->pool;
    c.list = apr_array_make(cli->pool, 4, sizeof(const char *));
    apr_table_do(collect_whole, &c, args->opts, name, NULL);
    return c.list;
}

static int collect(void *data, const char *key, const char *value)
{
    collect_t *c = data;
    const char *s = value, *comma;

    /* Split at commas; "a,,b" keeps the empty item for validation to
     * refuse, but a lone empty value means "none" (clears a list). */
    if (*value == '\0') {
        return 1;
    }
    for (;;) {
        comma = strchr(s, ',');
        APR_ARRAY_PUSH(c->list, const char *) =
            comma ? apr_pstrndup(c->pool, s, comma - s)
                  : apr_pstrdup(c->pool, s);
        if (comma == NULL) {
            break;
        }
        s = comma + 1;
    }
    return 1;
}

apr_array_header_t *cli_opt_list(cli_t *cli, const cli_args_t *args,
                                 const char *name)
{
    collect_t c;

    if (apr_table_get(args->opts, name) == NULL) {
        return NULL;
    }
    c.pool = cli->pool;
    c.list = apr_array_make(cli->pool, 4, sizeof(const char *));
    apr_table_do(collect, &c, args->opts, name, NULL);
    return c.list;
}

int cli_seconds(cli_t *cli, const char *option, const char *text, long *out)
{
    const char *s = text + (*text == '-');

    /* A sign and up to 12 digits: anything else is not a number at all
     * (usage); whether the number is acceptable is the caller's check. */
    if (*s == '\0' || strlen(s) > 12 || strspn(s, "0123456789") != strlen(s)) {
        return cli_fail(cli, CLI_USAGE, "--%s needs a whole number, not "
                        "\"%.40s\"", option, text);
    }
    *out = strtol(text, NULL, 10);
    return CLI_OK;
}

int cli_words(cli_t *cli, const cli_args_t *args, int want,
              const char *what)
{
    if (args->words->nelts < want) {
        return cli_fail(cli, CLI_USAGE, "missing %s", what);
    }
    if (args->words->nelts > want) {
        return cli_fail(cli, CLI_USAGE, "unexpected argument \"%.60s\"",
                        APR_ARRAY_IDX(args->words, want, const char *));
    }
    return CLI_OK;
}
