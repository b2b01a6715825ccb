/* token-admin: how applications and scopes look on the terminal and in
 * --json documents. JSON goes through jansson, so every string is escaped
 * correctly whatever an operator typed into a description.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "cli.h"

void cli_print_json(json_t *doc)
{
    if (doc == NULL) {
        /* Only a failed allocation gets here: still one document. */
        fputs("null\n", stdout);
        return;
    }
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(doc);
}

static json_t *string_array(const apr_array_header_t *list)
{
    json_t *a = json_array();
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        json_array_append_new(
            a, json_string(APR_ARRAY_IDX(list, i, const char *)));
    }
    return a;
}

/* Lifetimes of 0 mean "the server's default": null in JSON. */
static json_t *lifetime_json(long seconds)
{
    return seconds > 0 ? json_integer(seconds) : json_null();
}

json_t *cli_app_json(const at_app_t *app)
{
    json_t *o = json_object();

    json_object_set_new(o, "client_id", json_string(app->client_id));
    json_object_set_new(o, "name", json_string(app->name));
    json_object_set_new(o, "description",
                        json_string(app->description ? app->description
                                                     : ""));
    json_object_set_new(o, "type", json_string(app->type));
    json_object_set_new(o, "enabled", json_boolean(app->enabled));
    json_object_set_new(o, "grants", string_array(app->grants));
    json_object_set_new(o, "scopes", string_array(app->scopes));
    json_object_set_new(o, "audiences", string_array(app->audiences));
    json_object_set_new(o, "redirect_uris", string_array(app->redirect_uris));
    json_object_set_new(o, "access_lifetime",
                        lifetime_json(app->access_lifetime));
    json_object_set_new(o, "refresh_lifetime",
                        lifetime_json(app->refresh_lifetime));
    json_object_set_new(o, "offline_client_credentials",
                        json_boolean(app->offline_client_credentials));
    json_object_set_new(o, "skip_consent", json_boolean(app->skip_consent));
    json_object_set_new(o, "created", json_integer(app->created));
    json_object_set_new(o, "updated", json_integer(app->updated));
    return o;
}

json_t *cli_scope_json(const at_scope_t *scope)
{
    json_t *o = json_object();

    json_object_set_new(o, "name", json_string(scope->name));
    json_object_set_new(o, "description",
                        json_string(scope->description ? scope->description
                                                       : ""));
    json_object_set_new(o, "builtin", json_boolean(scope->builtin));
    return o;
}

const char *cli_time(apr_pool_t *p, long long t)
{
    char buf[64];
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        return "-";
    }
    return apr_pstrdup(p, buf);
}

static const char *list_text(apr_pool_t *p, const apr_array_header_t *list,
                             const char *none)
{
    if (list == NULL || list->nelts == 0) {
        return none;
    }
    return apr_array_pstrcat(p, list, ' ');
}

static const char *lifetime_text(apr_pool_t *p, long seconds)
{
    return seconds > 0 ? apr_psprintf(p, "%ld s", seconds)
                       : "server default";
}

/* Text output never needs escaping for a terminal beyond control
 * characters, which the registry refuses on input. */
void cli_print_app(cli_t *cli, const at_app_t *app)
{
    apr_pool_t *p = cli->pool;
    int i;

    printf("client_id:         %s\n", app->client_id);
    printf("name:              %s\n", app->name);
    printf("description:       %s\n",
           app->description && *app->description ? app->description : "-");
    printf("type:              %s\n", app->type);
    printf("enabled:           %s\n", app->enabled ? "yes" : "no");
    printf("grants:            %s\n", list_text(p, app->grants, "none"));
    printf("scopes:            %s\n", list_text(p, app->scopes, "none"));
    printf("audiences:         %s\n", list_text(p, app->audiences, "none"));
    if (app->redirect_uris == NULL || app->redirect_uris->nelts == 0) {
        printf("redirect URIs:     none\n");
    }
    for (i = 0; app->redirect_uris && i < app->redirect_uris->nelts; i++) {
        printf("%s%s\n", i ? "                   " : "redirect URIs:     ",
               APR_ARRAY_IDX(app->redirect_uris, i, const char *));
    }
    printf("access lifetime:   %s\n",
           lifetime_text(p, app->access_lifetime));
    printf("refresh lifetime:  %s\n",
           lifetime_text(p, app->refresh_lifetime));
    printf("offline client credentials: %s\n",
           app->offline_client_credentials ? "yes" : "no");
    printf("skip consent:      %s\n", app->skip_consent ? "yes" : "no");
    printf("created:           %s\n", cli_time(p, app->created));
    printf("updated:           %s\n", cli_time(p, app->updated));
}
