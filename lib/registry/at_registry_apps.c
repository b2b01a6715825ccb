/* Applications (OAuth clients): create, update, enable, delete (reading
 * is in at_registry_app_read.c). Every change is one transaction with its
 * audit row. Deleting an application also revokes the access tokens issued
 * to it: they are self-contained JWTs and would otherwise stay valid until
 * they expire.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "at_registry_private.h"
#include "at_secret.h"

/* Inside a transaction: the name is free (but for SELF), every scope
 * exists. */
static apr_status_t check_references(at_registry_t *reg, apr_pool_t *p,
                                     const at_app_t *app, const char *self,
                                     at_error_t *err)
{
    const char *other;
    apr_status_t rv;
    int i;

    rv = at_reg_value(reg, p, err, &other,
                      "SELECT client_id FROM applications WHERE name = %s",
                      app->name);
    if (rv == APR_SUCCESS && (self == NULL || strcmp(other, self) != 0)) {
        at_error_set(err, "an application named \"%.80s\" already exists",
                      app->name);
        return APR_EEXIST;
    }
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        return rv;
    }
    for (i = 0; app->scopes && i < app->scopes->nelts; i++) {
        const char *scope = APR_ARRAY_IDX(app->scopes, i, const char *);
        const char *name;
        rv = at_reg_value(reg, p, err, &name,
                          "SELECT name FROM scopes WHERE name = %s", scope);
        if (rv == APR_NOTFOUND) {
            at_error_set(err, "scope \"%.80s\" does not exist (add it "
                         "first: scope add %.80s)", scope, scope);
            return APR_EINVAL;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t insert_scopes(at_registry_t *reg, apr_pool_t *p,
                                  const at_app_t *app, at_error_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; app->scopes && i < app->scopes->nelts && !rv; i++) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "INSERT INTO app_scopes (client_id, scope)"
                         " VALUES (%s, %s)", app->client_id,
                         APR_ARRAY_IDX(app->scopes, i, const char *));
    }
    return rv;
}

/* Audit details are JSON objects, so that the console can say in words
 * what a change did (what changed, from what to what) and the command line
 * prints them as they are. Never a secret. */
static json_t *list_json(const apr_array_header_t *a)
{
    json_t *j = json_array();
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        json_array_append_new(j, json_string(APR_ARRAY_IDX(a, i,
                                                           const char *)));
    }
    return j;
}

/* Every field of APP but the client_id and the times, shaped like the
 * command line's JSON of an application (a lifetime of the server's
 * default is null). */
static json_t *app_json(const at_app_t *app)
{
    json_t *j = json_object();

    json_object_set_new(j, "name", json_string(app->name));
    json_object_set_new(j, "description",
                        json_string(app->description ? app->description
                                                     : ""));
    json_object_set_new(j, "type", json_string(app->type));
    json_object_set_new(j, "grants", list_json(app->grants));
    json_object_set_new(j, "scopes", list_json(app->scopes));
    json_object_set_new(j, "audiences", list_json(app->audiences));
    json_object_set_new(j, "redirect_uris", list_json(app->redirect_uris));
    json_object_set_new(j, "access_lifetime",
                        app->access_lifetime ? json_integer(
                            app->access_lifetime) : json_null());
    json_object_set_new(j, "refresh_lifetime",
                        app->refresh_lifetime ? json_integer(
                            app->refresh_lifetime) : json_null());
    json_object_set_new(j, "offline_client_credentials",
                        json_boolean(app->offline_client_credentials));
    json_object_set_new(j, "skip_consent", json_boolean(app->skip_consent));
    json_object_set_new(j, "enabled", json_boolean(app->enabled));
    return j;
}

static const char *app_detail(apr_pool_t *p, const at_app_t *app)
{
    return at_reg_json_detail(p, app_json(app));
}

/* {"name": NEW NAME, "changed": {FIELD: [BEFORE, AFTER], ...}}: only the
 * fields that differ; scopes compare as sets (they are stored so). */
static const char *update_detail(apr_pool_t *p, const at_app_t *before,
                                 const at_app_t *after)
{
    json_t *b = app_json(before), *a = app_json(after), *changed;
    json_t *sorted = list_json(after->scopes), *v;
    const char *key;
    size_t n = json_array_size(sorted);
    char **tmp = apr_pcalloc(p, (n + 1) * sizeof(char *));
    size_t i;

    for (i = 0; i < n; i++) {
        tmp[i] = (char *)json_string_value(json_array_get(sorted, i));
    }
    qsort(tmp, n, sizeof(char *), at_reg_cmp_str);
    json_object_set_new(a, "scopes", json_array());
    for (i = 0; i < n; i++) {
        json_array_append_new(json_object_get(a, "scopes"),
                              json_string(tmp[i]));
    }
    json_decref(sorted);
    changed = json_object();
    json_object_foreach(a, key, v) {
        json_t *old = json_object_get(b, key);
        if (!json_equal(old, v)) {
            json_object_set_new(changed, key, json_pack("[OO]", old, v));
        }
    }
    json_decref(b);
    json_decref(a);
    return at_reg_json_detail(p, json_pack("{s:s, s:o}", "name",
                                           after->name, "changed",
                                           changed));
}

/* {"name": NAME} for the changes that need no more. */
static const char *name_detail(apr_pool_t *p, const char *name)
{
    return at_reg_json_detail(p, json_pack("{s:s}", "name", name));
}

static apr_status_t valid_client_id(const char *id, at_error_t *err)
{
    const char *s;

    if (id == NULL || *id == '\0' || strlen(id) > 100) {
        at_error_set(err, "client_id must be 1 to 100 characters");
        return APR_EINVAL;
    }
    for (s = id; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("-._~", *s)) {
            at_error_set(err, "client_id may only hold letters, digits and "
                         "-._~");
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t at_app_create(at_registry_t *reg, apr_pool_t *p, at_app_t *app,
                           const char *actor, const char **secret,
                           at_error_t *err)
{
    const char *now = at_reg_i64(p, at_reg_now());
    apr_status_t rv;

    if (secret) {
        *secret = NULL;
    }
    if (app->type == NULL) {
        app->type = "confidential";
    }
    if (app->description == NULL) {
        app->description = "";
    }
    rv = at_validate_app(p, app, err);
    if (rv == APR_SUCCESS && app->client_id == NULL) {
        rv = at_reg_random_id(p, &app->client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = valid_client_id(app->client_id, err);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    app->enabled = 1;
    rv = check_references(reg, p, app, NULL, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(
            reg, p, err, NULL,
            "INSERT INTO applications (client_id, name, description, type,"
            " grants, audiences, redirect_uris, access_lifetime,"
            " refresh_lifetime, offline_client_credentials, skip_consent,"
            " enabled, created, updated) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " %lld, %lld, %lld, %lld, 1, %lld, %lld)",
            app->client_id, app->name, app->description, app->type,
            at_reg_join(p, app->grants), at_reg_join(p, app->audiences),
            at_reg_join(p, app->redirect_uris),
            at_reg_i64(p, app->access_lifetime),
            at_reg_i64(p, app->refresh_lifetime),
            app->offline_client_credentials ? "1" : "0",
            app->skip_consent ? "1" : "0", now, now);
    }
    if (rv == APR_SUCCESS) {
        rv = insert_scopes(reg, p, app, err);
    }
    if (rv == APR_SUCCESS && strcmp(app->type, "confidential") == 0) {
        rv = at_reg_new_secret(reg, p, app->client_id, secret, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "app.create", app->client_id,
                          app_detail(p, app));
    }
    rv = at_reg_end(reg, rv, 0, err);
    if (rv == APR_SUCCESS) {
        app->created = app->updated = at_reg_atoll(now, 0);
    }
    else if (secret) {
        *secret = NULL;
    }
    return rv;
}

apr_status_t at_app_update(at_registry_t *reg, apr_pool_t *p,
                           const at_app_t *app, const char *actor,
                           at_error_t *err)
{
    at_app_t *old;
    apr_status_t rv;
    int nrows = 0;

    rv = at_validate_app(p, app, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_app_get(reg, p, app->client_id, &old, err);
    if (rv == APR_SUCCESS) {
        rv = check_references(reg, p, app, app->client_id, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(
            reg, p, err, &nrows,
            "UPDATE applications SET name = %s, description = %s, type = %s,"
            " grants = %s, audiences = %s, redirect_uris = %s,"
            " access_lifetime = %lld, refresh_lifetime = %lld,"
            " offline_client_credentials = %lld, skip_consent = %lld,"
            " enabled = %lld, updated = %lld WHERE client_id = %s",
            app->name, app->description ? app->description : "", app->type,
            at_reg_join(p, app->grants), at_reg_join(p, app->audiences),
            at_reg_join(p, app->redirect_uris),
            at_reg_i64(p, app->access_lifetime),
            at_reg_i64(p, app->refresh_lifetime),
            app->offline_client_credentials ? "1" : "0",
            app->skip_consent ? "1" : "0", app->enabled ? "1" : "0",
            at_reg_i64(p, at_reg_now()),
            app->client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "DELETE FROM app_scopes WHERE client_id = %s",
                         app->client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = insert_scopes(reg, p, app, err);
    }
    /* A public application authenticates with nothing: secrets it had as a
     * confidential one must not keep working. */
    if (rv == APR_SUCCESS && strcmp(app->type, "public") == 0) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "DELETE FROM app_secrets WHERE client_id = %s",
                         app->client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "app.update", app->client_id,
                          update_detail(p, old, app));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_app_set_enabled(at_registry_t *reg, apr_pool_t *p,
                                const char *client_id, int enabled,
                                const char *actor, at_error_t *err)
{
    at_app_t *app = NULL;
    apr_status_t rv;

    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_app_get(reg, p, client_id, &app, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "UPDATE applications SET enabled = %lld,"
                         " updated = %lld WHERE client_id = %s",
                         enabled ? "1" : "0",
                         at_reg_i64(p, at_reg_now()), client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor,
                          enabled ? "app.enable" : "app.disable", client_id,
                          name_detail(p, app->name));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_app_delete(at_registry_t *reg, apr_pool_t *p,
                           const char *client_id, const char *actor,
                           at_error_t *err)
{
    at_app_t *app;
    apr_status_t rv;

    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_app_get(reg, p, client_id, &app, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_revoke_client(reg, p, client_id, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "DELETE FROM applications WHERE client_id = %s",
                         client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "app.delete", client_id,
                          name_detail(p, app->name));
    }
    return at_reg_end(reg, rv, 0, err);
}
