/* Reading the audit log, and the console dashboard's counts. Audit rows
 * are written by each change inside its own transaction (at_reg_audit).
 */
#include <apr_strings.h>

#include "at_registry_private.h"

/* One statement per filter combination, so that SQLite can answer each
 * from its index (audit_target, audit_actor, or the id order) instead of
 * scanning the whole log, which only grows. */
static const char *const audit_count_sql[4] = {
    "SELECT count(*) FROM audit",
    "SELECT count(*) FROM audit WHERE target = %s",
    "SELECT count(*) FROM audit WHERE actor = %s",
    "SELECT count(*) FROM audit WHERE target = %s AND actor = %s",
};
static const char *const audit_rows_sql[4] = {
    "SELECT id, at, actor, action, target, detail FROM audit"
    " ORDER BY id DESC LIMIT %lld OFFSET %lld",
    "SELECT id, at, actor, action, target, detail FROM audit"
    " WHERE target = %s ORDER BY id DESC LIMIT %lld OFFSET %lld",
    "SELECT id, at, actor, action, target, detail FROM audit"
    " WHERE actor = %s ORDER BY id DESC LIMIT %lld OFFSET %lld",
    "SELECT id, at, actor, action, target, detail FROM audit"
    " WHERE target = %s AND actor = %s ORDER BY id DESC"
    " LIMIT %lld OFFSET %lld",
};

/* An audit row from the columns id, at, actor, action, target, detail
 * (the order every audit SELECT uses); NULL target/detail become "". */
at_audit_t *at_reg_audit_row(apr_pool_t *p, const char **v)
{
    at_audit_t *r = apr_pcalloc(p, sizeof(*r));

    r->id = at_reg_atoll(v[0], 0);
    r->at = at_reg_atoll(v[1], 0);
    r->actor = v[2];
    r->action = v[3];
    r->target = v[4] ? v[4] : "";
    r->detail = v[5] ? v[5] : "";
    return r;
}

apr_status_t at_audit_list(at_registry_t *reg, apr_pool_t *p,
                           const char *target, const char *actor,
                           int offset, int limit, apr_array_header_t **out,
                           int *total, at_error_t *err)
{
    apr_array_header_t *rows;
    const char *args[4], *count;
    apr_status_t rv;
    int which = 0, n = 0, i;

    *out = apr_array_make(p, 16, sizeof(at_audit_t *));
    if (target && *target) {
        which |= 1;
        args[n++] = target;
    }
    if (actor && *actor) {
        which |= 2;
        args[n++] = actor;
    }
    /* Unused trailing arguments are never read: the statement has as many
     * placeholders as arguments filled in. */
    args[n] = args[n + 1] = NULL;
    rv = at_reg_value(reg, p, err, &count, audit_count_sql[which], args[0],
                      args[1]);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (total) {
        *total = (int)at_reg_atoll(count, 0);
    }
    args[n] = at_reg_limit(p, limit);
    args[n + 1] = at_reg_offset(p, offset);
    rv = at_reg_select(reg, p, err, &rows, NULL, audit_rows_sql[which],
                       args[0], args[1], args[2], args[3]);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*out, at_audit_t *) =
            at_reg_audit_row(p, APR_ARRAY_IDX(rows, i, const char **));
    }
    return rv;
}

apr_status_t at_audit_once(at_registry_t *reg, apr_pool_t *p,
                           const char *actor, const char *action,
                           const char *target, const char *detail,
                           int *first, at_error_t *err)
{
    const char *count = NULL;
    apr_status_t rv;
    int fresh = 0;

    *first = 0;
    /* BEGIN IMMEDIATE holds the write lock from the look-up to the insert,
     * so two requests with the same ticket cannot both find none. */
    rv = at_reg_begin(reg, p, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_value(reg, p, err, &count,
                          "SELECT count(*) FROM audit WHERE target = %s"
                          " AND action = %s AND detail = %s",
                          target, action, detail);
    }
    if (rv == APR_SUCCESS && at_reg_atoll(count, 1) == 0) {
        rv = at_reg_audit(reg, p, err, actor, action, target, detail);
        fresh = (rv == APR_SUCCESS);
    }
    rv = at_reg_end(reg, rv, 0, err);
    *first = (rv == APR_SUCCESS) && fresh;
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
                          " AND t.expires > %lld",
                          at_reg_i64(p, at_reg_now()));
    }
    if (rv == APR_SUCCESS) {
        *families = (int)at_reg_atoll(v, 0);
    }
    return rv;
}
