/* token-admin token revoke: revoking access tokens.
 *
 *   token revoke --jti JTI         one access token (its jti must be one
 *                                  the issuer recorded)
 *   token revoke --client ID       every refresh-token family of the
 *                                  application and every access token
 *                                  issued to it until now
 *
 * Resource servers honour access-token revocation where
 * AuthTokenRevocationCheck is On, within about a second.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_opt_t revoke_opts[] = {
    {"jti", "JTI", 0, "one access token, by the jti the issuer recorded"},
    {"client", "CLIENT_ID", 0, "every token issued to the application "
     "until now"},
    {NULL, NULL, 0, NULL}
};

static int token_revoke(cli_t *cli, const cli_verb_t *verb,
                        const cli_args_t *args)
{
    const char *jti, *client;
    at_error_t err = {{0}};
    apr_status_t rv;
    json_t *o;
    int rc;

    if ((rc = cli_words(cli, args, 0, "nothing"))) {
        return rc;
    }
    jti = cli_opt(args, "jti");
    client = cli_opt(args, "client");
    if ((jti == NULL) == (client == NULL)) {
        return cli_fail(cli, CLI_USAGE, "token revoke needs exactly one of "
                        "--jti JTI and --client CLIENT_ID");
    }
    if ((rc = cli_open(cli))) {
        return rc;
    }
    if (jti) {
        rv = at_jti_revoke(cli->reg, cli->pool, jti, cli_actor(cli), &err);
    }
    else {
        rv = at_client_revoke_all(cli->reg, cli->pool, client,
                                  cli_actor(cli), &err);
    }
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        o = json_object();
        json_object_set_new(o, jti ? "jti" : "client_id",
                            json_string(jti ? jti : client));
        json_object_set_new(o, "revoked", json_true());
        cli_print_json(o);
    }
    else if (jti) {
        printf("Access token %s revoked.\n", jti);
    }
    else {
        printf("Every token issued to %s until now is revoked.\n", client);
    }
    return CLI_OK;
}

const cli_verb_t cli_token_verbs[] = {
    {"revoke", "--jti JTI | --client CLIENT_ID",
     "Revokes one access token (--jti), or every refresh-token family of an\n"
     "application and every access token issued to it until now (--client).\n"
     "Resource servers honour it where AuthTokenRevocationCheck is On, "
     "within\nabout a second.\n", revoke_opts, token_revoke},
    {NULL, NULL, NULL, NULL, NULL}
};
