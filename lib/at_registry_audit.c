/* Reading the audit log, and the console dashboard's counts. Audit rows
 * are written by each change inside its own transaction (at_reg_audit).
 */
#include <apr_strings.h>

#include "at_registry_private.h"

apr_status_t at_audit_list(at_registry_t *reg, apr_pool_t *p,
                           const char *target, const char *actor,
                           int offset, int limit, apr_array_header_t **out,
                           int *total, at_error_t *err)
{
    apr_array_header_t *rows;
    const char *t = target ? target : "", *a = actor ? actor : "", *count;
    apr_status_t rv;
    int i;

    *out = apr_array_make(p, 16, sizeof(at_audit_t *));
    rv = at_reg_value(reg, p, err, &count,
                      "SELECT count(*) FROM audit WHERE (%s = '' OR"
                      " target = %s) AND (%s = '' OR actor = %s)",
                      t, t, a, a);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (total) {
        *total = (int)at_reg_atoll(count, 0);
    }
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT id, at, actor, action, target, detail"
                       " FROM audit WHERE (%s = '' OR target = %s)"
                       " AND (%s = '' OR actor = %s)"
                       " ORDER BY id DESC LIMIT %s OFFSET %s",
                       t, t, a, a, apr_itoa(p, limit > 0 ? limit : -1),
                       apr_itoa(p, offset > 0 ? offset : 0));
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        at_audit_t *r = apr_pcalloc(p, sizeof(*r));
        r->id = at_reg_atoll(v[0], 0);
        r->at = at_reg_atoll(v[1], 0);
        r->actor = v[2];
        r->action = v[3];
        r->target = v[4] ? v[4] : "";
        r->detail = v[5] ? v[5] : "";
        APR_ARRAY_PUSH(*out, at_audit_t *) = r;
    }
    return rv;
}

apr_status_t at_registry_counts(at_registry_t *reg, apr_pool_t *p,
                                int *apps, int *scopes, int *families,
                                at_error_t *err)
{
    const char *v;
    apr_status_t rv;

    rv = at_reg_value(reg, p, err, &v, "SELECT count(*) FROM applications");
    if (rv == APR_SUCCESS) {
        *apps = (int)at_reg_atoll(v, 0);
        rv = at_reg_value(reg, p, err, &v, "SELECT count(*) FROM scopes");
    }
    if (rv == APR_SUCCESS) {
        *scopes = (int)at_reg_atoll(v, 0);
        rv = at_reg_value(reg, p, err, &v,
                          "SELECT count(DISTINCT f.id) FROM refresh_families f"
                          " JOIN refresh_tokens t ON t.family_id = f.id"
                          " WHERE f.revoked IS NULL AND t.used_at IS NULL"
                          " AND t.expires > %s",
                          at_reg_i64(p, at_reg_now()));
    }
    if (rv == APR_SUCCESS) {
        *families = (int)at_reg_atoll(v, 0);
    }
    return rv;
}
