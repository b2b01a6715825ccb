/* token-admin: parsing a command's options. GNU-style long options only
 * ("--name VALUE" or "--name=VALUE"); "--" ends the options. Everything is
 * parsed and checked before the registry is opened, so a usage error never
 * changes anything.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "cli.h"

int cli_fail(cli_t *cli, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    char *nl;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
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

static const cli_opt_t global_opts[] = {
    {"registry", 1, 0},
    {"actor", 1, 0},
    {"json", 0, 0},
    {NULL, 0, 0}
};

static const cli_opt_t *find_opt(const cli_opt_t *spec, const char *name,
                                 size_t len)
{
    for (; spec && spec->name; spec++) {
        if (strlen(spec->name) == len && strncmp(spec->name, name, len) == 0) {
            return spec;
        }
    }
    return NULL;
}

/* Applies a global option found among a command's options. */
static void set_global(cli_t *cli, const char *name, const char *value)
{
    if (strcmp(name, "registry") == 0) {
        cli->registry = value;
    }
    else if (strcmp(name, "actor") == 0) {
        cli->actor = value;
    }
    else {
        cli->json = 1;
    }
}

int cli_parse(cli_t *cli, int argc, const char *const *argv,
              const cli_opt_t *spec, cli_args_t *args)
{
    int i, only_words = 0;

    args->opts = apr_table_make(cli->pool, 8);
    args->words = apr_array_make(cli->pool, 4, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *name, *eq, *value = NULL;
        const cli_opt_t *o;
        int global = 0;
        size_t len;

        if (only_words || strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (!only_words && strcmp(a, "--") == 0) {
                only_words = 1;
                continue;
            }
            /* Only long options exist, so "-x..." is a word: a client_id
             * or jti may well start with '-' (base64url). */
            APR_ARRAY_PUSH(args->words, const char *) = a;
            continue;
        }
        name = a + 2;
        eq = strchr(name, '=');
        len = eq ? (size_t)(eq - name) : strlen(name);
        o = find_opt(spec, name, len);
        if (o == NULL && (o = find_opt(global_opts, name, len)) != NULL) {
            global = 1;
        }
        if (o == NULL) {
            return cli_fail(cli, CLI_USAGE, "unknown option \"--%.*s\"",
                            (int)(len > 60 ? 60 : len), name);
        }
        if (o->takes_value) {
            if (eq) {
                value = eq + 1;
            }
            else if (i + 1 < argc) {
                value = argv[++i];
            }
            else {
                return cli_fail(cli, CLI_USAGE, "option --%s needs a value",
                                o->name);
            }
        }
        else if (eq) {
            return cli_fail(cli, CLI_USAGE, "option --%s takes no value",
                            o->name);
        }
        if (global) {
            set_global(cli, o->name, value);
            continue;
        }
        if (!o->repeatable && apr_table_get(args->opts, o->name)) {
            return cli_fail(cli, CLI_USAGE, "option --%s is given twice",
                            o->name);
        }
        apr_table_add(args->opts, o->name, value ? value : "");
    }
    return CLI_OK;
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
