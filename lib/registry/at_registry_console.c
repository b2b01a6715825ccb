/* at_registry_console.c: list pages for the web console whose cost stays
 * flat as the registry grows (see at_registry_console.h). The general
 * at_app_list/at_audit_list serve every caller with one statement each;
 * here each case gets the statement SQLite can answer from an index:
 *   - a count without a filter is count(*) of the table, which SQLite
 *     answers from its smallest index instead of reading every row;
 *   - the rows skipped by OFFSET are skipped inside the name index (a
 *     subquery of names), and only the page's rows are read from the table;
 *   - audit filters use the target/actor indexes.
 * Statements are prepared (apr_dbd %s placeholders) and cached by the
 * registry layer like every other.
 */
#include <apr_strings.h>

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

apr_status_t at_console_app_ids(at_registry_t *reg, apr_pool_t *p,
                                const char *search, int offset, int limit,
                                apr_array_header_t **ids, int *total,
                                at_error_t *err)
{
    apr_array_header_t *rows;
    const char *count;
    apr_status_t rv;
    int i, all = search == NULL || *search == '\0';

    *ids = apr_array_make(p, limit > 0 ? limit : 16, sizeof(const char *));
    if (total) {
        if (all)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM applications");
        else
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM applications"
                              " WHERE {STRPOS}(name, %s) > 0"
                              " OR {STRPOS}(client_id, %s) > 0",
                              search, search);
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
                           "SELECT client_id FROM applications"
                           " WHERE {STRPOS}(name, %s) > 0"
                           " OR {STRPOS}(client_id, %s) > 0"
                           " ORDER BY name LIMIT %lld OFFSET %lld",
                           search, search, lim(p, limit), off(p, offset));
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
    const char *count = NULL;
    int has_t = target && *target, has_a = actor && *actor, i;
    apr_status_t rv = APR_SUCCESS;

#define COLS "SELECT id, at, actor, action, target, detail FROM audit"
#define PAGE " ORDER BY id DESC LIMIT %lld OFFSET %lld"
    *out = apr_array_make(p, 16, sizeof(at_audit_t *));
    if (total) {
        if (has_t && has_a)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM audit WHERE target = %s"
                              " AND actor = %s",
                              target, actor);
        else if (has_t)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM audit WHERE target = %s",
                              target);
        else if (has_a)
            rv = at_reg_value(reg, p, err, &count,
                              "SELECT count(*) FROM audit WHERE actor = %s",
                              actor);
        else
            rv =
                at_reg_value(reg, p, err, &count, "SELECT count(*) FROM audit");
        if (rv != APR_SUCCESS)
            return rv;
        *total = (int)at_reg_atoll(count, 0);
    }
    if (has_t && has_a)
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           COLS " WHERE target = %s AND actor = %s" PAGE,
                           target, actor, lim(p, limit), off(p, offset));
    else if (has_t)
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           COLS " WHERE target = %s" PAGE, target,
                           lim(p, limit), off(p, offset));
    else if (has_a)
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           COLS " WHERE actor = %s" PAGE, actor, lim(p, limit),
                           off(p, offset));
    else
        rv = at_reg_select(reg, p, err, &rows, NULL, COLS PAGE, lim(p, limit),
                           off(p, offset));
#undef COLS
#undef PAGE
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*out, at_audit_t *) =
            at_reg_audit_row(p, APR_ARRAY_IDX(rows, i, const char **));
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
