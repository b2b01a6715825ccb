/* token-admin's command line: global options, --help and --version, the
 * command group, the actor, and opening the registry.
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
    int status = CLI_REFUSED;
    const char *code;

    /* --json's "error" says which kind of refusal it was. */
    switch (rv) {
    case APR_EINVAL:
        code = "invalid";
        break;
    case APR_NOTFOUND:
        code = "not_found";
        break;
    case APR_EEXIST:
        code = "exists";
        break;
    case APR_EBUSY:
        code = "in_use";
        break;
    default:
        code = "registry";
        status = CLI_REGISTRY;
    }
    return cli_fail_as(cli, status, code, "%s",
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

#ifndef AT_VERSION
#define AT_VERSION "unknown"
#endif

static const cli_opt_t main_opts[] = {
    {"help", NULL, 1, NULL},
    {"version", NULL, 1, NULL},
    {NULL, NULL, 0, NULL}
};

/* The global options before the command; *CMD is the index of the
 * command word (argc when there is none). */
static int global_options(cli_t *cli, int argc, const char *const *argv,
                          int *cmd)
{
    cli_args_t args;
    int used, rc;

    if ((rc = cli_parse_head(cli, argc - 1, argv + 1, main_opts, &args,
                             &used))) {
        return rc;
    }
    if (cli_opt(&args, "help")) {
        cli_help_all(stdout);
        return CLI_HELP;
    }
    if (cli_opt(&args, "version")) {
        printf("token-admin (mod_auth_token) %s\n", AT_VERSION);
        return CLI_HELP;
    }
    *cmd = 1 + used;
    return CLI_OK;
}

static int run(cli_t *cli, int argc, const char *const *argv)
{
    const cli_group_t *g;
    int i, rc;

    cli->registry = getenv("AUTH_TOKEN_REGISTRY");
    /* Before anything is parsed, so that even an error in the first
     * option is reported as JSON. */
    cli->json_errors = cli_has_flag(argc - 1, argv + 1, "--json");
    if ((rc = global_options(cli, argc, argv, &i))) {
        return rc;
    }
    if (i >= argc) {
        return cli_fail(cli, CLI_USAGE, "no command given (see token-admin "
                        "--help)");
    }
    if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "-h") == 0) {
        /* "token-admin help [GROUP [VERB]]" is "... --help". */
        const char **av = apr_palloc(cli->pool, (argc + 1) * sizeof(*av));
        int n = argc - i - 1;
        if (n == 0) {
            cli_help_all(stdout);
            return CLI_HELP;
        }
        memcpy(av, argv + i + 1, n * sizeof(*av));
        av[n] = "--help";
        argv = av;
        argc = n + 1;
        i = 0;
    }
    for (g = cli_groups; g->name && strcmp(g->name, argv[i]) != 0; g++) {
    }
    if (g->name == NULL) {
        return cli_fail(cli, CLI_USAGE, "unknown command \"%.60s\" (see "
                        "token-admin --help)", argv[i]);
    }
    return cli_dispatch(cli, g, argc - i - 1, argv + i + 1);
}

int cli_main(apr_pool_t *p, int argc, const char *const *argv)
{
    cli_t cli;
    int status;

    memset(&cli, 0, sizeof(cli));
    cli.pool = p;
    status = run(&cli, argc, argv);
    if (status == CLI_HELP) {
        status = CLI_OK;
    }
    fflush(stdout);
    if (ferror(stdout)) {
        status = cli_fail(&cli, status ? status : CLI_REGISTRY,
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
