/* token-admin's command line: global options, the command table, the
 * actor, and opening the registry.
 *
 *   token-admin [--registry PATH] [--json] [--actor NAME] COMMAND ...
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "cli.h"
#include "token_admin.h"

static const char usage_text[] =
    "usage: token-admin [--registry PATH] [--json] [--actor NAME] COMMAND\n"
    "\n"
    "  app add --name NAME [--description TEXT] [--type confidential|public]\n"
    "          [--grant G[,G...]] [--scope S[,S...]] [--audience A[,A...]]\n"
    "          [--redirect-uri URI]... [--access-lifetime SECONDS]\n"
    "          [--refresh-lifetime SECONDS] [--offline-client-credentials]\n"
    "  app list\n"
    "  app show CLIENT_ID\n"
    "  app update CLIENT_ID [options of add] "
    "[--no-offline-client-credentials]\n"
    "  app rotate-secret CLIENT_ID [--grace SECONDS]\n"
    "  app disable|enable|delete CLIENT_ID\n"
    "  scope add NAME [--description TEXT]\n"
    "  scope list\n"
    "  scope delete NAME\n"
    "  token revoke --jti JTI\n"
    "  token revoke --client CLIENT_ID\n"
    "  audit [--target ID] [--by ACTOR] [--limit N]\n"
    "\n"
    "The registry is PATH, or $AUTH_TOKEN_REGISTRY; it is created if missing.\n"
    "Exit status: 0 done, 1 refused or not found, 2 usage, 3 registry error.\n"
    "See docs/token-admin.md.\n";

/* The person behind the command: sudo's caller first (root is rarely the
 * person), then the login name, then the uid's name. */
static const char *default_actor(apr_pool_t *p)
{
    const char *s = getenv("SUDO_USER");
    struct passwd *pw;

    if (s && *s) {
        return s;
    }
    s = getlogin();
    if (s && *s) {
        return apr_pstrdup(p, s);
    }
    pw = getpwuid(getuid());
    if (pw && pw->pw_name) {
        return apr_pstrdup(p, pw->pw_name);
    }
    return apr_psprintf(p, "uid:%ld", (long)getuid());
}

int cli_registry_fail(cli_t *cli, apr_status_t rv, const at_error_t *err)
{
    int status;

    switch (rv) {
    case APR_EINVAL:
    case APR_NOTFOUND:
    case APR_EEXIST:
    case APR_EBUSY:
        status = CLI_REFUSED;
        break;
    default:
        status = CLI_REGISTRY;
    }
    return cli_fail(cli, status, "%s",
                    err->text[0] ? err->text : "registry call failed");
}

int cli_open(cli_t *cli)
{
    at_error_t err = {{0}};
    const char *driver, *params;
    apr_status_t rv;

    if (cli->registry == NULL || *cli->registry == '\0') {
        return cli_fail(cli, CLI_USAGE, "no registry: give --registry PATH "
                        "or set AUTH_TOKEN_REGISTRY");
    }
    /* "pgsql:CONNINFO", "sqlite3:PATH", a PATH, or "DRIVER PARAMS"; a
     * message never repeats a connection string (it may hold a
     * password). */
    if (at_registry_spec(cli->pool, cli->registry, &driver, &params, &err)
        != APR_SUCCESS) {
        return cli_fail(cli, CLI_USAGE, "--registry: %s", err.text);
    }
    cli_actor(cli);    /* while the process is still who it was */
    if (strcmp(driver, "sqlite3") == 0
        && cli_become_owner(cli->pool, params, &err) != 0) {
        return cli_fail(cli, CLI_REGISTRY, "%s", err.text);
    }
    /* Files SQLite creates (the registry, -wal, -shm) stay private to the
     * owner and its group (httpd's User and Group). */
    umask(027);
    rv = at_registry_open(cli->pool, driver, params, &cli->reg, &err);
    if (rv != APR_SUCCESS) {
        return cli_fail(cli, CLI_REGISTRY, "%s", err.text);
    }
    return CLI_OK;
}

typedef struct {
    const char *name;
    int (*run)(cli_t *cli, int argc, const char *const *argv);
} command_t;

static const command_t commands[] = {
    {"app", cli_app},
    {"scope", cli_scope},
    {"token", cli_token},
    {"audit", cli_audit},
    {NULL, NULL}
};

int cli_main(apr_pool_t *p, int argc, const char *const *argv)
{
    cli_t cli;
    const command_t *c;
    int i, k, status;

    memset(&cli, 0, sizeof(cli));
    cli.pool = p;
    cli.registry = getenv("AUTH_TOKEN_REGISTRY");
    /* Global options before the command (commands accept them too). */
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i] + 2;
        if (strcmp(a, "help") == 0) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
        if (strcmp(a, "json") == 0) {
            cli.json = 1;
        }
        else if (strcmp(a, "registry") == 0 || strcmp(a, "actor") == 0) {
            if (i + 1 >= argc) {
                return cli_fail(&cli, CLI_USAGE, "option --%s needs a value",
                                a);
            }
            *(a[0] == 'r' ? &cli.registry : &cli.actor) = argv[++i];
        }
        else if (strncmp(a, "registry=", 9) == 0) {
            cli.registry = a + 9;
        }
        else if (strncmp(a, "actor=", 6) == 0) {
            cli.actor = a + 6;
        }
        else {
            return cli_fail(&cli, CLI_USAGE, "unknown option \"%.60s\" (see "
                            "token-admin --help)", argv[i]);
        }
    }
    if (i >= argc) {
        return cli_fail(&cli, CLI_USAGE, "no command given (see token-admin "
                        "--help)");
    }
    if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "-h") == 0) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    /* "token-admin app add --help" asks for help too, not for a change. */
    for (k = i; k < argc; k++) {
        if (strcmp(argv[k], "--help") == 0) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
    }
    for (c = commands; c->name && strcmp(c->name, argv[i]) != 0; c++) {
    }
    if (c->name == NULL) {
        return cli_fail(&cli, CLI_USAGE, "unknown command \"%.60s\" (see "
                        "token-admin --help)", argv[i]);
    }
    status = c->run(&cli, argc - i - 1, argv + i + 1);
    fflush(stdout);
    if (ferror(stdout)) {
        return cli_fail(&cli, status ? status : CLI_REGISTRY,
                        "cannot write the output");
    }
    if (cli.reg) {
        at_registry_close(cli.reg);
    }
    return status;
}

const char *cli_actor(cli_t *cli)
{
    if (cli->actor == NULL || *cli->actor == '\0') {
        cli->actor = default_actor(cli->pool);
    }
    return cli->actor;
}
