/* Reading applications (OAuth clients): one, with its unexpired secrets
 * (client authentication), or a list. The changes are in
 * at_registry_apps.c; secrets and revocation read through here too, so
 * calls between the registry's files go one way.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "at_registry_private.h"

#define APP_COLUMNS                                                       \
    "a.client_id, a.name, a.description, a.type, a.grants, a.audiences,"  \
    " a.redirect_uris, a.access_lifetime, a.refresh_lifetime,"            \
    " a.offline_client_credentials, a.enabled, a.created, a.updated,"     \
    " (SELECT {LIST_AGG}(s.scope, ' ') FROM app_scopes s"               \
    "  WHERE s.client_id = a.client_id), a.skip_consent"
#define APP_NCOLUMNS 15

/* One row of APP_COLUMNS as an at_app_t (scopes sorted by name). */
static at_app_t *app_from_row(apr_pool_t *p, const char **v)
{
    at_app_t *app = apr_pcalloc(p, sizeof(*app));

    app->client_id = v[0];
    app->name = v[1];
    app->description = v[2] ? v[2] : "";
    app->type = v[3];
    app->grants = at_reg_split(p, v[4]);
    app->audiences = at_reg_split(p, v[5]);
    app->redirect_uris = at_reg_split(p, v[6]);
    app->access_lifetime = (long)at_reg_atoll(v[7], 0);
    app->refresh_lifetime = (long)at_reg_atoll(v[8], 0);
    app->offline_client_credentials = (int)at_reg_atoll(v[9], 0);
    app->enabled = (int)at_reg_atoll(v[10], 0);
    app->created = at_reg_atoll(v[11], 0);
    app->updated = at_reg_atoll(v[12], 0);
    app->scopes = at_reg_split(p, v[13]);
    app->skip_consent = (int)at_reg_atoll(v[14], 0);
    qsort(app->scopes->elts, app->scopes->nelts, sizeof(const char *),
          at_reg_cmp_str);
    return app;
}

apr_status_t at_app_get(at_registry_t *reg, apr_pool_t *p,
                        const char *client_id, at_app_t **app,
                        at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;

    *app = NULL;
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT " APP_COLUMNS " FROM applications a"
                       " WHERE a.client_id = %s",
                       client_id ? client_id : "");
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        at_error_set(err, "no application with client_id \"%.60s\"",
                     client_id ? client_id : "");
        return APR_NOTFOUND;
    }
    *app = app_from_row(p, APR_ARRAY_IDX(rows, 0, const char **));
    return APR_SUCCESS;
}

apr_status_t at_reg_app_with_secrets(at_registry_t *reg, apr_pool_t *p,
                                     const char *client_id, const char *now,
                                     at_app_t **app,
                                     apr_array_header_t **secrets,
                                     at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *app = NULL;
    *secrets = NULL;
    /* One row per unexpired secret, or one with NULL secret columns: a
     * token request then costs one read transaction here, not two. */
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT " APP_COLUMNS ", k.id, k.hash, k.last_used"
                       " FROM applications a LEFT JOIN app_secrets k"
                       " ON k.client_id = a.client_id"
                       " AND (k.expires IS NULL OR k.expires > %lld)"
                       " WHERE a.client_id = %s",
                       now, client_id ? client_id : "");
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        at_error_set(err, "no application with client_id \"%.60s\"",
                     client_id ? client_id : "");
        return APR_NOTFOUND;
    }
    *app = app_from_row(p, APR_ARRAY_IDX(rows, 0, const char **));
    *secrets = apr_array_make(p, rows->nelts, sizeof(const char **));
    for (i = 0; i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);

        if (v[APP_NCOLUMNS] != NULL) {
            APR_ARRAY_PUSH(*secrets, const char **) = v + APP_NCOLUMNS;
        }
    }
    return APR_SUCCESS;
}

/* Without a search the count and the page come from the name index; a
 * search (substring of name or client_id) has to look at every row. */
apr_status_t at_app_list(at_registry_t *reg, apr_pool_t *p,
                         const char *search, int offset, int limit,
                         apr_array_header_t **apps, int *total,
                         at_error_t *err)
{
    apr_array_header_t *rows;
    const char *lim = at_reg_limit(p, limit);
    const char *off = at_reg_offset(p, offset), *count;
    int all = (search == NULL || *search == '\0');
    apr_status_t rv;
    int i;

    *apps = apr_array_make(p, 8, sizeof(at_app_t *));
    rv = all ? at_reg_value(reg, p, err, &count,
                            "SELECT count(*) FROM applications")
             : at_reg_value(reg, p, err, &count,
                            "SELECT count(*) FROM applications a WHERE"
                            " {STRPOS}(a.name, %s) > 0"
                            " OR {STRPOS}(a.client_id, %s) > 0",
                            search, search);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (total) {
        *total = (int)at_reg_atoll(count, 0);
    }
    rv = all ? at_reg_select(reg, p, err, &rows, NULL,
                             "SELECT " APP_COLUMNS " FROM applications a"
                             " ORDER BY a.name LIMIT %lld OFFSET %lld", lim,
                             off)
             : at_reg_select(reg, p, err, &rows, NULL,
                             "SELECT " APP_COLUMNS " FROM applications a"
                             " WHERE {STRPOS}(a.name, %s) > 0"
                             " OR {STRPOS}(a.client_id, %s) > 0"
                             " ORDER BY a.name LIMIT %lld OFFSET %lld",
                             search, search, lim, off);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*apps, at_app_t *) =
            app_from_row(p, APR_ARRAY_IDX(rows, i, const char **));
    }
    return rv;
}
