/* Scopes: the names applications may be granted. offline_access is built
 * in (created by the schema) and can be described but not deleted. A scope
 * an application still uses cannot be deleted either; the caller is told
 * which applications use it.
 */
#include <string.h>

#include <apr_strings.h>

#include <jansson.h>

#include "at_registry_private.h"
#include "at_registry_limits.h"

#define SCOPE_DESCRIPTION_MAX AT_SCOPE_DESCRIPTION_MAX

apr_status_t at_scope_add(at_registry_t *reg, apr_pool_t *p,
                          const char *name, const char *description,
                          const char *actor, at_error_t *err)
{
    const char *found;
    apr_status_t rv;

    if ((rv = at_validate_scope_name(name, err))
        || (rv = at_validate_text("description", description,
                                  SCOPE_DESCRIPTION_MAX, 0, err))) {
        return rv;
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_value(reg, p, err, &found,
                      "SELECT name FROM scopes WHERE name = %s", name);
    if (rv == APR_SUCCESS) {
        at_error_set(err, "scope \"%.80s\" already exists", name);
        rv = APR_EEXIST;
    }
    else if (rv == APR_NOTFOUND) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "INSERT INTO scopes (name, description, builtin)"
                         " VALUES (%s, %s, 0)", name,
                         description ? description : "");
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "scope.add", name,
                          at_reg_json_detail(p, json_pack(
                              "{s:s}", "description",
                              description ? description : "")));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_scope_update(at_registry_t *reg, apr_pool_t *p,
                             const char *name, const char *description,
                             const char *actor, at_error_t *err)
{
    const char *before = NULL;
    apr_status_t rv;
    int nrows = 0;

    rv = at_validate_text("description", description, SCOPE_DESCRIPTION_MAX,
                          0, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The description before the change goes into the audit detail. */
    rv = at_reg_value(reg, p, err, &before,
                      "SELECT description FROM scopes WHERE name = %s",
                      name ? name : "");
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, &nrows,
                         "UPDATE scopes SET description = %s WHERE name = %s",
                         description ? description : "", name);
    }
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && nrows == 0)) {
        at_error_set(err, "no scope named \"%.80s\"", name ? name : "");
        rv = APR_NOTFOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "scope.update", name,
                          at_reg_json_detail(p, json_pack(
                              "{s:[s,s]}", "description",
                              before ? before : "",
                              description ? description : "")));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_scope_list(at_registry_t *reg, apr_pool_t *p,
                           apr_array_header_t **scopes, at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *scopes = apr_array_make(p, 8, sizeof(at_scope_t *));
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT name, description, builtin FROM scopes"
                       " ORDER BY name");
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        at_scope_t *s = apr_pcalloc(p, sizeof(*s));
        s->name = v[0];
        s->description = v[1] ? v[1] : "";
        s->builtin = (int)at_reg_atoll(v[2], 0);
        APR_ARRAY_PUSH(*scopes, at_scope_t *) = s;
    }
    return rv;
}

apr_status_t at_scope_delete(at_registry_t *reg, apr_pool_t *p,
                             const char *name, const char *actor,
                             apr_array_header_t **users, at_error_t *err)
{
    apr_array_header_t *rows;
    const char *builtin;
    apr_status_t rv;
    int i;

    if (users) {
        *users = apr_array_make(p, 4, sizeof(const char *));
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_value(reg, p, err, &builtin,
                      "SELECT builtin FROM scopes WHERE name = %s",
                      name ? name : "");
    if (rv == APR_NOTFOUND) {
        at_error_set(err, "no scope named \"%.80s\"", name ? name : "");
    }
    else if (rv == APR_SUCCESS && at_reg_atoll(builtin, 0)) {
        at_error_set(err, "scope \"%.80s\" is built in and cannot be "
                     "deleted", name);
        rv = APR_EINVAL;
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "SELECT client_id FROM app_scopes"
                           " WHERE scope = %s ORDER BY client_id", name);
        if (rv == APR_SUCCESS && rows->nelts > 0) {
            for (i = 0; users && i < rows->nelts; i++) {
                APR_ARRAY_PUSH(*users, const char *) =
                    APR_ARRAY_IDX(rows, i, const char **)[0];
            }
            at_error_set(err, "scope \"%.80s\" is still allowed to %d "
                         "application(s); remove it from them first", name,
                         rows->nelts);
            rv = APR_EBUSY;
        }
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "DELETE FROM scopes WHERE name = %s", name);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "scope.delete", name, "");
    }
    return at_reg_end(reg, rv, 0, err);
}
