/* token-admin app ...: applications (OAuth clients).
 *
 *   app add --name NAME [options]        app list
 *   app show CLIENT_ID                   app update CLIENT_ID [options]
 *   app rotate-secret CLIENT_ID [--grace SECONDS]
 *   app disable|enable|delete CLIENT_ID
 *
 * Defaults of app add: type confidential; grant client_credentials for a
 * confidential application, authorization_code for a public one; no scopes
 * (an application is granted only scopes it is allowed, so none allowed
 * means tokens without scope); no audience; server-default lifetimes.
 * app update changes only what is given; a list option replaces the whole
 * list and an empty value ("--scope ''") clears it.
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "cli.h"

/* The options of app add and app update (update also takes
 * --no-offline-client-credentials; add refuses it as contradictory only
 * when both are given, so one table serves both). */
static const cli_opt_t app_opts[] = {
    {"name", "NAME", 0, "unique name, at most 100 characters"},
    {"description", "TEXT", 0, "free text shown in the console"},
    {"type", "TYPE", 0, "confidential (has a secret; default) or public"},
    {"grant", "G[,G...]", 1, "client_credentials, refresh_token,\n"
     "                             authorization_code"},
    {"scope", "S[,S...]", 1, "scopes it may be granted (each must exist)"},
    {"audience", "A[,A...]", 1, "the aud of its access tokens"},
    {"redirect-uri", "URI", 1, "a redirect URI (repeatable): https, or "
     "http\n                             on loopback"},
    {"access-lifetime", "SECONDS", 0, "its access-token lifetime, or "
     "\"default\""},
    {"refresh-lifetime", "SECONDS", 0, "its refresh-token lifetime, or "
     "\"default\""},
    {"offline-client-credentials", NULL, 0, "refresh tokens through "
     "client_credentials too"},
    {"no-offline-client-credentials", NULL, 0, "undo the above (app "
     "update)"},
    {"skip-consent", NULL, 0, "first-party: people are never asked for "
     "consent"},
    {"no-skip-consent", NULL, 0, "undo the above (app update)"},
    {NULL, NULL, 0, NULL}
};

static apr_array_header_t *one(apr_pool_t *p, const char *value)
{
    apr_array_header_t *a = apr_array_make(p, 1, sizeof(const char *));

    APR_ARRAY_PUSH(a, const char *) = value;
    return a;
}

/* A lifetime option: a positive number of seconds (the registry checks the
 * upper bound), or "default" for the server's setting (stored as 0). */
static int lifetime(cli_t *cli, const char *option, const char *text,
                    long *out)
{
    int rc;

    if (strcmp(text, "default") == 0) {
        *out = 0;
        return CLI_OK;
    }
    if ((rc = cli_seconds(cli, option, text, out))) {
        return rc;
    }
    if (*out <= 0) {
        return cli_fail(cli, CLI_REFUSED, "--%s must be a positive number "
                        "of seconds (or \"default\" for the server's)",
                        option);
    }
    return CLI_OK;
}

/* Applies the options in ARGS to APP. */
static int apply_options(cli_t *cli, const cli_args_t *args, at_app_t *app)
{
    apr_array_header_t *l;
    const char *v;
    int rc;

    if ((v = cli_opt(args, "name"))) {
        app->name = v;
    }
    if ((v = cli_opt(args, "description"))) {
        app->description = v;
    }
    if ((v = cli_opt(args, "type"))) {
        app->type = v;
    }
    if ((l = cli_opt_list(cli, args, "grant"))) {
        app->grants = l;
    }
    if ((l = cli_opt_list(cli, args, "scope"))) {
        app->scopes = l;
    }
    if ((l = cli_opt_list(cli, args, "audience"))) {
        app->audiences = l;
    }
    if ((l = cli_opt_values(cli, args, "redirect-uri"))) {
        if (l->nelts == 1 && *APR_ARRAY_IDX(l, 0, const char *) == '\0') {
            l->nelts = 0;
        }
        app->redirect_uris = l;
    }
    if ((v = cli_opt(args, "access-lifetime"))
        && (rc = lifetime(cli, "access-lifetime", v,
                          &app->access_lifetime))) {
        return rc;
    }
    if ((v = cli_opt(args, "refresh-lifetime"))
        && (rc = lifetime(cli, "refresh-lifetime", v,
                          &app->refresh_lifetime))) {
        return rc;
    }
    if (cli_opt(args, "offline-client-credentials")
        && cli_opt(args, "no-offline-client-credentials")) {
        return cli_fail(cli, CLI_USAGE, "--offline-client-credentials and "
                        "--no-offline-client-credentials contradict");
    }
    if (cli_opt(args, "offline-client-credentials")) {
        app->offline_client_credentials = 1;
    }
    if (cli_opt(args, "no-offline-client-credentials")) {
        app->offline_client_credentials = 0;
    }
    if (cli_opt(args, "skip-consent") && cli_opt(args, "no-skip-consent")) {
        return cli_fail(cli, CLI_USAGE, "--skip-consent and "
                        "--no-skip-consent contradict");
    }
    if (cli_opt(args, "skip-consent") || cli_opt(args, "no-skip-consent")) {
        app->skip_consent = cli_opt(args, "skip-consent") != NULL;
    }
    return CLI_OK;
}

/* Prints a new secret once, in either output form. */
static void print_secret(cli_t *cli, const at_app_t *app, const char *secret,
                         const char *headline)
{
    if (cli->json) {
        json_t *o = cli_app_json(app);
        json_object_set_new(o, "client_secret",
                            secret ? json_string(secret) : json_null());
        cli_print_json(o);
        return;
    }
    printf("%s\n\n", headline);
    cli_print_app(cli, app);
    if (secret) {
        printf("\nclient_secret:     %s\n\n"
               "The secret is shown only this once: store it now. The "
               "registry keeps\nonly its hash.\n", secret);
    }
}

static int app_add(cli_t *cli, const cli_verb_t *verb,
                   const cli_args_t *args)
{
    at_app_t app, *stored;
    at_error_t err = {{0}};
    const char *secret = NULL;
    apr_status_t rv;
    int rc;

    memset(&app, 0, sizeof(app));
    if ((rc = cli_words(cli, args, 0, "nothing"))) {
        return rc;
    }
    if (cli_opt(args, "name") == NULL) {
        return cli_fail(cli, CLI_USAGE, "app add needs --name NAME");
    }
    app.type = "confidential";
    app.description = "";
    if ((rc = apply_options(cli, args, &app))) {
        return rc;
    }
    if (app.grants == NULL) {
        app.grants = one(cli->pool, strcmp(app.type, "public") == 0
                                        ? "authorization_code"
                                        : "client_credentials");
    }
    if ((rc = cli_open(cli))) {
        return rc;
    }
    rv = at_app_create(cli->reg, cli->pool, &app, cli_actor(cli), &secret,
                       &err);
    /* Show what was stored (normalised order), not what was typed. */
    if (rv == APR_SUCCESS) {
        rv = at_app_get(cli->reg, cli->pool, app.client_id, &stored, &err);
    }
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    print_secret(cli, stored, secret, "Application created.");
    return CLI_OK;
}

static int app_list(cli_t *cli, const cli_verb_t *verb,
                    const cli_args_t *args)
{
    apr_array_header_t *apps;
    at_error_t err = {{0}};
    apr_status_t rv;
    int rc, total, i;

    if ((rc = cli_words(cli, args, 0, "nothing")) || (rc = cli_open(cli))) {
        return rc;
    }
    rv = at_app_list(cli->reg, cli->pool, NULL, 0, 0, &apps, &total, &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        json_t *a = json_array();
        for (i = 0; i < apps->nelts; i++) {
            json_array_append_new(
                a, cli_app_json(APR_ARRAY_IDX(apps, i, at_app_t *)));
        }
        cli_print_json(a);
        return CLI_OK;
    }
    if (apps->nelts == 0) {
        printf("No applications.\n");
        return CLI_OK;
    }
    printf("%-22s  %-12s  %-8s  %-24s  %s\n", "CLIENT_ID", "TYPE", "ENABLED",
           "NAME", "SCOPES");
    for (i = 0; i < apps->nelts; i++) {
        at_app_t *app = APR_ARRAY_IDX(apps, i, at_app_t *);
        printf("%-22s  %-12s  %-8s  %-24s  %s\n", app->client_id, app->type,
               app->enabled ? "yes" : "no", app->name,
               app->scopes->nelts ? apr_array_pstrcat(cli->pool, app->scopes,
                                                      ' ')
                                  : "-");
    }
    return CLI_OK;
}

/* Takes the CLIENT_ID of "app VERB CLIENT_ID" and opens the registry. */
static int one_app(cli_t *cli, const cli_args_t *args,
                   const char **client_id)
{
    int rc;

    if ((rc = cli_words(cli, args, 1, "CLIENT_ID"))) {
        return rc;
    }
    *client_id = APR_ARRAY_IDX(args->words, 0, const char *);
    return cli_open(cli);
}

static int app_show(cli_t *cli, const cli_verb_t *verb,
                    const cli_args_t *args)
{
    const char *cid;
    at_error_t err = {{0}};
    at_app_t *app;
    apr_status_t rv;
    int rc;

    if ((rc = one_app(cli, args, &cid))) {
        return rc;
    }
    rv = at_app_get(cli->reg, cli->pool, cid, &app, &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        cli_print_json(cli_app_json(app));
    }
    else {
        cli_print_app(cli, app);
    }
    return CLI_OK;
}

static int app_update(cli_t *cli, const cli_verb_t *verb,
                      const cli_args_t *args)
{
    const char *cid;
    at_error_t err = {{0}};
    at_app_t *app, scratch;
    apr_status_t rv;
    int rc;

    /* Options are checked before anything is read or written. */
    if ((rc = cli_words(cli, args, 1, "CLIENT_ID"))) {
        return rc;
    }
    if (apr_is_empty_table(args->opts)) {
        return cli_fail(cli, CLI_USAGE, "app update needs at least one "
                        "option to change");
    }
    cid = APR_ARRAY_IDX(args->words, 0, const char *);
    /* Usage errors in the values (a lifetime that is not a number) are
     * found on a scratch copy before the registry is even opened. */
    memset(&scratch, 0, sizeof(scratch));
    if ((rc = apply_options(cli, args, &scratch)) || (rc = cli_open(cli))) {
        return rc;
    }
    rv = at_app_get(cli->reg, cli->pool, cid, &app, &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if ((rc = apply_options(cli, args, app))) {
        return rc;
    }
    rv = at_app_update(cli->reg, cli->pool, app, cli_actor(cli), &err);
    if (rv == APR_SUCCESS) {
        rv = at_app_get(cli->reg, cli->pool, cid, &app, &err);
    }
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        cli_print_json(cli_app_json(app));
    }
    else {
        printf("Application updated.\n\n");
        cli_print_app(cli, app);
    }
    return CLI_OK;
}

static const cli_opt_t rotate_opts[] = {
    {"grace", "SECONDS", 0, "previous secrets keep working this long "
     "(<= 30 days)"},
    {NULL, NULL, 0, NULL}
};

static int app_rotate(cli_t *cli, const cli_verb_t *verb,
                      const cli_args_t *args)
{
    const char *cid, *secret = NULL, *v;
    at_error_t err = {{0}};
    at_app_t *app;
    apr_status_t rv;
    long grace = 0;
    int rc;

    if ((rc = cli_words(cli, args, 1, "CLIENT_ID"))) {
        return rc;
    }
    if ((v = cli_opt(args, "grace"))
        && (rc = cli_seconds(cli, "grace", v, &grace))) {
        return rc;
    }
    if (grace < 0) {
        return cli_fail(cli, CLI_REFUSED, "--grace must not be negative");
    }
    cid = APR_ARRAY_IDX(args->words, 0, const char *);
    if ((rc = cli_open(cli))) {
        return rc;
    }
    rv = at_app_rotate_secret(cli->reg, cli->pool, cid, grace, cli_actor(cli),
                              &secret, &err);
    if (rv == APR_SUCCESS) {
        rv = at_app_get(cli->reg, cli->pool, cid, &app, &err);
    }
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        json_t *o = json_object();
        json_object_set_new(o, "client_id", json_string(cid));
        json_object_set_new(o, "client_secret", json_string(secret));
        json_object_set_new(o, "grace", json_integer(grace));
        cli_print_json(o);
        return CLI_OK;
    }
    printf("New secret for %s (%s).\n\n", app->name, cid);
    printf("client_id:         %s\n", cid);
    printf("client_secret:     %s\n\n", secret);
    if (grace > 0) {
        printf("Previous secrets stay valid for %ld more seconds.\n", grace);
    }
    else {
        printf("Previous secrets no longer work.\n");
    }
    printf("The secret is shown only this once: store it now.\n");
    return CLI_OK;
}

/* disable, enable, delete: one client_id, no options. */
static int app_state(cli_t *cli, const cli_verb_t *v, const cli_args_t *args)
{
    const char *cid, *verb = v->name;
    at_error_t err = {{0}};
    apr_status_t rv;
    int rc;

    if ((rc = one_app(cli, args, &cid))) {
        return rc;
    }
    if (strcmp(verb, "delete") == 0) {
        rv = at_app_delete(cli->reg, cli->pool, cid, cli_actor(cli), &err);
    }
    else {
        rv = at_app_set_enabled(cli->reg, cli->pool, cid,
                                strcmp(verb, "enable") == 0, cli_actor(cli),
                                &err);
    }
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        json_t *o = json_object();
        json_object_set_new(o, "client_id", json_string(cid));
        if (strcmp(verb, "delete") == 0) {
            json_object_set_new(o, "deleted", json_true());
        }
        else {
            json_object_set_new(o, "enabled",
                                json_boolean(strcmp(verb, "enable") == 0));
        }
        cli_print_json(o);
    }
    else {
        printf("Application %s %s.\n", cid,
               strcmp(verb, "delete") == 0 ? "deleted (its tokens are "
                                             "revoked)"
               : strcmp(verb, "enable") == 0 ? "enabled"
                                             : "disabled");
    }
    return CLI_OK;
}

const cli_verb_t cli_app_verbs[] = {
    {"add",
     "--name NAME [--description TEXT]\n"
     "[--type confidential|public] [--grant G[,G...]]\n"
     "[--scope S[,S...]] [--audience A[,A...]]\n"
     "[--redirect-uri URI]... [--access-lifetime SECONDS]\n"
     "[--refresh-lifetime SECONDS] [--offline-client-credentials]\n"
     "[--skip-consent]",
     "Registers an application (OAuth client) and prints its client_id and,\n"
     "for a confidential application, its secret: shown this once, the\n"
     "registry keeps only a hash. Defaults: type confidential; grant\n"
     "client_credentials (authorization_code for a public application); no\n"
     "scopes, no audience; the server's lifetimes. The scopes must exist\n"
     "already: \"token-admin scope add NAME\" first.\n",
     app_opts, app_add},
    {"list", "", "Lists every application: client_id, type, enabled, name, "
     "scopes.\n", NULL, app_list},
    {"show", "CLIENT_ID", "Prints every field of one application (never "
     "its secret).\n", NULL, app_show},
    {"update", "CLIENT_ID [options of add] [--no-offline-client-credentials]\n"
     "[--no-skip-consent]",
     "Changes only the options given. A list option replaces the whole "
     "list;\nan empty value (--scope '') clears it. Changing the type to "
     "public\nremoves the secrets.\n",
     app_opts, app_update},
    {"rotate-secret", "CLIENT_ID [--grace SECONDS]",
     "Gives the application a new secret and prints it once. Without "
     "--grace\nevery previous secret stops working at once.\n",
     rotate_opts, app_rotate},
    {"disable", "CLIENT_ID", "Makes client authentication fail "
     "(invalid_client) until enable.\n", NULL, app_state},
    {"enable", "CLIENT_ID", "Undoes disable.\n", NULL, app_state},
    {"delete", "CLIENT_ID", "Removes the application with its secrets and "
     "refresh tokens and\nrevokes every access token issued to it "
     "(honoured where\nAuthTokenRevocationCheck is On).\n", NULL, app_state},
    {NULL, NULL, NULL, NULL, NULL}
};
