/* at_registry_console.c: list pages for the web console whose cost stays
 * flat as the registry grows (see at_registry_console.h). The general
 * at_app_list/at_audit_list serve every caller with one statement each;
 * here each case gets the statement SQLite can answer from an index:
 *   - a count without a filter is count(*) of the table, which SQLite
 *     answers from its smallest index instead of reading every row;
 *   - the rows skipped by OFFSET are skipped inside the name index (a
 *     subquery of names), and only the page's rows are read from the table;
 *   - audit filters use the target/actor indexes.
 * Statements are prepared (apr_dbd %s and %lld placeholders; {STRPOS}
 * spelled by the dialect) and cached by the registry layer like every
 * other.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>

#include "at_registry_private.h"
#include "at_registry_console.h"

static const char *lim(apr_pool_t *p, int limit)
{
    return at_reg_limit(p, limit);
}

static const char *off(apr_pool_t *p, int offset)
{
    return at_reg_offset(p, offset);
}

/* ASCII lower case of S: SQLite's lower() folds ASCII letters only, so
 * both sides of a case-insensitive {STRPOS} (instr, strpos) fold alike
 * (PostgreSQL's folds more, which only finds more). */
static const char *ascii_lower(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *c;

    for (c = out; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return out;
}

apr_status_t at_console_app_ids(at_registry_t *reg, apr_pool_t *p,
                                const char *search, int offset, int limit,
                                apr_array_header_t **ids, int *total,
                                at_error_t *err)
{
    apr_array_header_t *rows;
    const char *count, *q;
    apr_status_t rv;
    int i, all = search == NULL || *search == '\0';

#define MATCH                                                                  \
    " WHERE {STRPOS}(lower(name), %s) > 0"                                      \
    " OR {STRPOS}(lower(client_id), %s) > 0"                                    \
    " OR {STRPOS}(lower(description), %s) > 0"
    q = all ? "" : ascii_lower(p, search);
    *ids = apr_array_make(p, limit > 0 ? limit : 16, sizeof(const char *));
    if (total) {
        if (all)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM applications");
        else
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM applications" MATCH, q, q,
                              q);
        if (rv != APR_SUCCESS)
            return rv;
        *total = (int)at_reg_atoll(count, 0);
    }
    if (all)
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "SELECT client_id FROM applications"
                           " WHERE name IN (SELECT name FROM applications"
                           "  ORDER BY name LIMIT %lld OFFSET %lld)"
                           " ORDER BY name",
                           lim(p, limit), off(p, offset));
    else
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "SELECT client_id FROM applications" MATCH
                           " ORDER BY name LIMIT %lld OFFSET %lld",
                           q, q, q, lim(p, limit), off(p, offset));
#undef MATCH
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++)
        APR_ARRAY_PUSH(*ids, const char *) =
            APR_ARRAY_IDX(rows, i, const char **)[0];
    return rv;
}

apr_status_t at_console_audit_page(at_registry_t *reg, apr_pool_t *p,
                                   const char *target, const char *actor,
                                   int offset, int limit,
                                   apr_array_header_t **out, int *total,
                                   at_error_t *err)
{
    apr_array_header_t *rows = NULL;
    const char *count = NULL, *t = NULL, *tl = NULL, *a = NULL;
    int has_t = target && *target, has_a = actor && *actor, i;
    apr_status_t rv = APR_SUCCESS;

    /* A target filter is an exact target (a scope, a jti, a deleted
     * application) or any application whose name or client_id holds it:
     * the applications are found first, then their rows through the
     * target index. An operator filter finds the matching operators in
     * the actor index, then their rows through it. */
#define TF                                                                     \
    " (target = %s OR target IN (SELECT client_id FROM applications"           \
    "  WHERE {STRPOS}(lower(name), %s) > 0"                                     \
    "  OR {STRPOS}(lower(client_id), %s) > 0))"
#define AF                                                                     \
    " actor IN (SELECT DISTINCT actor FROM audit"                              \
    "  WHERE {STRPOS}(lower(actor), %s) > 0)"
#define COLS "SELECT id, at, actor, action, target, detail FROM audit"
#define PAGE " ORDER BY id DESC LIMIT %lld OFFSET %lld"
    if (has_t) {
        t = target;
        tl = ascii_lower(p, target);
    }
    if (has_a)
        a = ascii_lower(p, actor);
    *out = apr_array_make(p, 16, sizeof(at_audit_t *));
    if (total) {
        if (has_t && has_a)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM audit WHERE" TF " AND" AF,
                              t, tl, tl, a);
        else if (has_t)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM audit WHERE" TF, t, tl, tl);
        else if (has_a)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM audit WHERE" AF, a);
        else
            rv =
                at_reg_value(reg, p, err, &count, "SELECT count(*) FROM audit");
        if (rv != APR_SUCCESS)
            return rv;
        *total = (int)at_reg_atoll(count, 0);
    }
    if (has_t && has_a)
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           COLS " WHERE" TF " AND" AF PAGE, t, tl, tl, a,
                           lim(p, limit), off(p, offset));
    else if (has_t)
        rv = at_reg_select(reg, p, err, &rows, NULL, COLS " WHERE" TF PAGE, t,
                           tl, tl, lim(p, limit), off(p, offset));
    else if (has_a)
        rv = at_reg_select(reg, p, err, &rows, NULL, COLS " WHERE" AF PAGE, a,
                           lim(p, limit), off(p, offset));
    else
        rv = at_reg_select(reg, p, err, &rows, NULL, COLS PAGE, lim(p, limit),
                           off(p, offset));
#undef TF
#undef AF
#undef COLS
#undef PAGE
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*out, at_audit_t *) =
            at_reg_audit_row(p, APR_ARRAY_IDX(rows, i, const char **));
    }
    return rv;
}

/* The name an app.delete audit detail recorded: {"name": ...}, or the
 * older "name=..." text. */
static const char *deleted_name(apr_pool_t *p, const char *detail)
{
    json_t *j, *n;
    const char *name = NULL;

    if (detail == NULL)
        return NULL;
    if (strncmp(detail, "name=", 5) == 0)
        return detail + 5;
    j = json_loads(detail, 0, NULL);
    if (j && json_is_string(n = json_object_get(j, "name")))
        name = apr_pstrdup(p, json_string_value(n));
    json_decref(j);
    return name;
}

apr_status_t at_console_app_names(at_registry_t *reg, apr_pool_t *p,
                                  const apr_array_header_t *ids,
                                  apr_table_t **names, apr_table_t **gone,
                                  at_error_t *err)
{
    const char *id, *v, *name;
    apr_status_t rv;
    int i;

    *names = apr_table_make(p, ids->nelts ? ids->nelts : 1);
    *gone = apr_table_make(p, 1);
    for (i = 0; i < ids->nelts; i++) {
        id = APR_ARRAY_IDX(ids, i, const char *);
        if (id == NULL || *id == '\0' || apr_table_get(*names, id) ||
            apr_table_get(*gone, id))
            continue;
        rv = at_reg_value(reg, p, err, &v,
                          "SELECT name FROM applications WHERE client_id = %s",
                          id);
        if (rv == APR_SUCCESS) {
            apr_table_setn(*names, id, v);
            continue;
        }
        if (rv == APR_NOTFOUND)
            rv = at_reg_value(reg, p, err, &v,
                              "SELECT detail FROM audit WHERE target = %s"
                              " AND action = 'app.delete'"
                              " ORDER BY id DESC LIMIT 1",
                              id);
        if (rv == APR_SUCCESS && (name = deleted_name(p, v)) != NULL)
            apr_table_setn(*gone, id, name);
        else if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
            return rv;
    }
    return APR_SUCCESS;
}

apr_status_t at_console_secret_state(at_registry_t *reg, apr_pool_t *p,
                                     const char *client_id,
                                     long long *old_until,
                                     long long *last_rotated, at_error_t *err)
{
    const char *v = NULL;
    apr_status_t rv;

    *old_until = *last_rotated = 0;
    rv = at_reg_value(reg, p, err, &v,
                      "SELECT max(expires) FROM app_secrets"
                      " WHERE client_id = %s AND expires > %lld"
                      " AND id <> (SELECT max(id) FROM app_secrets"
                      "            WHERE client_id = %s)",
                      client_id, at_reg_i64(p, at_reg_now()), client_id);
    if (rv == APR_SUCCESS)
        *old_until = at_reg_atoll(v, 0);
    if (rv == APR_SUCCESS || rv == APR_NOTFOUND)
        rv = at_reg_value(reg, p, err, &v,
                          "SELECT max(at) FROM audit WHERE target = %s"
                          " AND action = 'secret.rotate'",
                          client_id);
    if (rv == APR_SUCCESS)
        *last_rotated = at_reg_atoll(v, 0);
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}

apr_status_t at_console_scope_users(at_registry_t *reg, apr_pool_t *p,
                                    const char *scope,
                                    apr_array_header_t **apps, at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *apps = apr_array_make(p, 4, sizeof(at_app_t *));
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT a.client_id, a.name FROM app_scopes s"
                       " JOIN applications a ON a.client_id = s.client_id"
                       " WHERE s.scope = %s ORDER BY a.name",
                       scope);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        at_app_t *a = apr_pcalloc(p, sizeof(*a));
        a->client_id = v[0];
        a->name = v[1];
        APR_ARRAY_PUSH(*apps, at_app_t *) = a;
    }
    return rv;
}

apr_status_t at_console_jti_client(at_registry_t *reg, apr_pool_t *p,
                                   const char *jti, const char **client_id,
                                   at_error_t *err)
{
    apr_status_t rv = at_reg_value(reg, p, err, client_id,
                                   "SELECT client_id FROM issued_jtis"
                                   " WHERE jti = %s",
                                   jti);

    if (rv == APR_NOTFOUND)
        at_error_set(err, "no access token with this jti was issued");
    return rv;
}
