/* token-admin scope ...: the scopes applications may be allowed.
 *
 *   scope add NAME [--description TEXT]    scope list    scope delete NAME
 *
 * offline_access is built in. A scope that an application is still
 * allowed cannot be deleted: the message names the applications.
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "cli.h"

static const cli_opt_t add_opts[] = {
    {"description", "TEXT", 0, "what the scope allows (shown on consent "
     "and console)"},
    {NULL, NULL, 0, NULL}
};

static int scope_add(cli_t *cli, const cli_verb_t *verb,
                     const cli_args_t *args)
{
    const char *name, *desc;
    at_error_t err = {{0}};
    at_scope_t scope;
    apr_status_t rv;
    int rc;

    if ((rc = cli_words(cli, args, 1, "scope NAME"))) {
        return rc;
    }
    name = APR_ARRAY_IDX(args->words, 0, const char *);
    desc = cli_opt(args, "description");
    if ((rc = cli_open(cli))) {
        return rc;
    }
    rv = at_scope_add(cli->reg, cli->pool, name, desc ? desc : "",
                      cli_actor(cli), &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        scope.name = name;
        scope.description = desc ? desc : "";
        scope.builtin = 0;
        cli_print_json(cli_scope_json(&scope));
    }
    else {
        printf("Scope %s added.\n", name);
    }
    return CLI_OK;
}

static int scope_list(cli_t *cli, const cli_verb_t *verb,
                      const cli_args_t *args)
{
    apr_array_header_t *scopes;
    at_error_t err = {{0}};
    apr_status_t rv;
    int rc, i;

    if ((rc = cli_words(cli, args, 0, "nothing")) || (rc = cli_open(cli))) {
        return rc;
    }
    rv = at_scope_list(cli->reg, cli->pool, &scopes, &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        json_t *a = json_array();
        for (i = 0; i < scopes->nelts; i++) {
            json_array_append_new(
                a, cli_scope_json(APR_ARRAY_IDX(scopes, i, at_scope_t *)));
        }
        cli_print_json(a);
        return CLI_OK;
    }
    printf("%-32s  %s\n", "NAME", "DESCRIPTION");
    for (i = 0; i < scopes->nelts; i++) {
        at_scope_t *s = APR_ARRAY_IDX(scopes, i, at_scope_t *);
        printf("%-32s  %s%s\n", s->name, *s->description ? s->description
                                                           : "-",
               s->builtin ? " (built in)" : "");
    }
    return CLI_OK;
}

static int scope_delete(cli_t *cli, const cli_verb_t *verb,
                        const cli_args_t *args)
{
    apr_array_header_t *users = NULL;
    const char *name;
    at_error_t err = {{0}};
    apr_status_t rv;
    int rc;

    if ((rc = cli_words(cli, args, 1, "scope NAME"))) {
        return rc;
    }
    name = APR_ARRAY_IDX(args->words, 0, const char *);
    if ((rc = cli_open(cli))) {
        return rc;
    }
    rv = at_scope_delete(cli->reg, cli->pool, name, cli_actor(cli), &users,
                         &err);
    if (rv == APR_EBUSY && users && users->nelts > 0) {
        return cli_fail_as(cli, CLI_REFUSED, "in_use", "scope \"%.80s\" is "
                           "still allowed "
                        "to: %.300s", name,
                        apr_array_pstrcat(cli->pool, users, ' '));
    }
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "deleted", json_true());
        cli_print_json(o);
    }
    else {
        printf("Scope %s deleted.\n", name);
    }
    return CLI_OK;
}

const cli_verb_t cli_scope_verbs[] = {
    {"add", "NAME [--description TEXT]",
     "Adds a scope that applications may then be allowed (app add --scope).\n"
     "NAME follows RFC 6749 section 3.3: printable ASCII without space, \"\n"
     "and \\.\n", add_opts, scope_add},
    {"list", "", "Lists the scopes with their descriptions; offline_access "
     "is built in.\n", NULL, scope_list},
    {"delete", "NAME", "Deletes a scope. A scope still allowed to an "
     "application is not\ndeleted: the message names the applications.\n",
     NULL, scope_delete},
    {NULL, NULL, NULL, NULL, NULL}
};
