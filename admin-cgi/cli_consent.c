/* token-admin consent: what people allowed applications (oauth-authorize's
 * remembered consents).
 *
 *   consent list [--user NAME] [--client CLIENT_ID]
 *   consent revoke --user NAME --client CLIENT_ID
 *
 * Revoking withdraws the consent (the person sees the consent page again),
 * ends the person's refresh-token families for the application and revokes
 * every access token issued to them for it until now (honoured where
 * AuthTokenRevocationCheck On).
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "cli.h"
#include "at_registry_authz.h"

static const cli_opt_t list_opts[] = {
    {"user", "NAME", 0, "only this person's consents"},
    {"client", "CLIENT_ID", 0, "only the consents to this application"},
    {NULL, NULL, 0, NULL}
};

static const cli_opt_t revoke_opts[] = {
    {"user", "NAME", 0, "the person (REMOTE_USER at oauth-authorize)"},
    {"client", "CLIENT_ID", 0, "the application"},
    {NULL, NULL, 0, NULL}
};

static json_t *consent_json(apr_pool_t *p, const at_consent_t *c)
{
    char *copy = apr_pstrdup(p, c->scope), *state, *tok;
    json_t *list = json_array();

    for (tok = apr_strtok(copy, " ", &state); tok;
         tok = apr_strtok(NULL, " ", &state)) {
        json_array_append_new(list, json_string(tok));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I}", "user", c->subject,
                     "client_id", c->client_id, "application", c->app_name,
                     "scopes", list, "created", (json_int_t)c->created,
                     "updated", (json_int_t)c->updated);
}

static int consent_list(cli_t *cli, const cli_verb_t *verb,
                        const cli_args_t *args)
{
    apr_array_header_t *list = NULL;
    at_error_t err = {{0}};
    apr_status_t rv;
    json_t *arr;
    int rc, i;

    if ((rc = cli_words(cli, args, 0, "nothing")) || (rc = cli_open(cli))) {
        return rc;
    }
    rv = at_consent_list(cli->reg, cli->pool, cli_opt(args, "user"),
                         cli_opt(args, "client"), &list, &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        arr = json_array();
        for (i = 0; i < list->nelts; i++) {
            json_array_append_new(
                arr, consent_json(cli->pool,
                                  APR_ARRAY_IDX(list, i, at_consent_t *)));
        }
        cli_print_json(json_pack("{s:o}", "consents", arr));
        return CLI_OK;
    }
    if (list->nelts == 0) {
        printf("No consents.\n");
    }
    for (i = 0; i < list->nelts; i++) {
        const at_consent_t *c = APR_ARRAY_IDX(list, i, at_consent_t *);

        printf("%s\t%s\t%s\t%s\t%s\n", c->subject, c->client_id,
               c->app_name, *c->scope ? c->scope : "-",
               cli_time(cli->pool, c->updated));
    }
    return CLI_OK;
}

static int consent_revoke(cli_t *cli, const cli_verb_t *verb,
                          const cli_args_t *args)
{
    const char *user = cli_opt(args, "user"), *client = cli_opt(args,
                                                                 "client");
    at_error_t err = {{0}};
    apr_status_t rv;
    int rc;

    if ((rc = cli_words(cli, args, 0, "nothing"))) {
        return rc;
    }
    if (!user || !*user || !client || !*client) {
        return cli_fail(cli, CLI_USAGE, "consent revoke needs --user NAME "
                        "and --client CLIENT_ID");
    }
    if ((rc = cli_open(cli))) {
        return rc;
    }
    rv = at_consent_revoke(cli->reg, cli->pool, user, client,
                           cli_actor(cli), &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        cli_print_json(json_pack("{s:s, s:s, s:b}", "user", user,
                                 "client_id", client, "revoked", 1));
    }
    else {
        printf("Access of %s for %s revoked: consent, refresh tokens and "
               "access tokens issued until now.\n", client, user);
    }
    return CLI_OK;
}

const cli_verb_t cli_consent_verbs[] = {
    {"list", "[--user NAME] [--client CLIENT_ID]",
     "Lists what people allowed applications at oauth-authorize: person,\n"
     "client_id, application, scopes, last change.\n",
     list_opts, consent_list},
    {"revoke", "--user NAME --client CLIENT_ID",
     "Revokes a person's access to an application: the consent (they are\n"
     "asked again next time), their refresh-token families for it and every\n"
     "access token issued to them for it until now (honoured where\n"
     "AuthTokenRevocationCheck is On).\n",
     revoke_opts, consent_revoke},
    {NULL, NULL, NULL, NULL, NULL}
};
