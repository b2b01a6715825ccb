/* The registry's database layer: prepared statements (each SQL text
 * prepared once per connection: apr_dbd's sqlite3 driver allocates every
 * prepared statement from the connection's pool and keeps it until close,
 * so preparing per call would grow without bound), errors, transactions,
 * and the two rows every change may write (audit, revocation generation).
 *
 * apr_dbd_sqlite3 (apr-util 1.6) behaviour this relies on:
 * - transactions start with BEGIN IMMEDIATE; a failed BEGIN still attaches
 *   a transaction to the handle, so at_reg_begin ends it again;
 * - once a statement in a transaction fails, later ones are skipped and the
 *   end rolls back, which is what makes every change all-or-nothing;
 * - a busy step is retried 15 times with 100 ms sleeps on top of SQLite's
 *   own busy_timeout (see AT_REGISTRY_BUSY_MS);
 * - every result set is read completely by the select, so no statement
 *   stays active between calls;
 * - statements are prepared with SQLite's legacy interface, which never
 *   recompiles them after a schema change (see schema_changed);
 * - string arguments are bound as text; the INTEGER columns' affinity turns
 *   them into integers on insert and in comparisons.
 */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "at_registry_private.h"

/* Maps a driver failure to a status and a message that says what to do.
 * SQLite's own text is kept: it names the constraint or the condition. */
static apr_status_t db_failure(at_registry_t *reg, int rc, at_error_t *err)
{
    const char *msg = apr_dbd_error(reg->driver, reg->handle, rc);

    if (msg == NULL) {
        msg = "unknown error";
    }
    if (strstr(msg, "UNIQUE constraint") || strstr(msg, "PRIMARY KEY")) {
        at_error_set(err, "registry: already exists (%s)", msg);
        return APR_EEXIST;
    }
    if (strstr(msg, "locked") || strstr(msg, "busy")) {
        at_error_set(err, "registry %s is locked by another process "
                     "(gave up after %d s): %s", reg->where,
                     16 * (AT_REGISTRY_BUSY_MS + 100) / 1000, msg);
        return APR_TIMEUP;
    }
    if (strstr(msg, "readonly") || strstr(msg, "read-only")) {
        at_error_set(err, "registry %s is read-only (check the permissions "
                     "of the file and its directory): %s", reg->where, msg);
        return APR_EACCES;
    }
    at_error_set(err, "registry %s: %s", reg->where, msg);
    return APR_EGENERAL;
}

/* The prepared statement for SQL, prepared on first use. While the schema
 * is being checked or migrated (reg->stmts still NULL) nothing is cached,
 * since SQLite's legacy prepare, which the driver uses, does not recompile a
 * statement after the schema changed under it. */
static apr_status_t db_statement(at_registry_t *reg, const char *sql,
                                 apr_dbd_prepared_t **stmt, at_error_t *err)
{
    int rc;

    *stmt = reg->stmts ? apr_hash_get(reg->stmts, sql, APR_HASH_KEY_STRING)
                       : NULL;
    if (*stmt) {
        return APR_SUCCESS;
    }
    rc = apr_dbd_prepare(reg->driver, reg->pool, reg->handle, sql, NULL,
                         stmt);
    if (rc != 0) {
        *stmt = NULL;
        return db_failure(reg, rc, err);
    }
    if (reg->stmts) {
        apr_hash_set(reg->stmts, sql, APR_HASH_KEY_STRING, *stmt);
    }
    return APR_SUCCESS;
}

/* Collects as many const char * arguments as SQL has placeholders. */
static const char **db_args(apr_pool_t *p, const char *sql, int *nargs,
                            va_list ap)
{
    const char **args;
    const char *s;
    int n = 0, i;

    for (s = sql; *s; s++) {
        n += (*s == '%');
    }
    args = apr_pcalloc(p, sizeof(*args) * (n + 1));
    for (i = 0; i < n; i++) {
        args[i] = va_arg(ap, const char *);
    }
    *nargs = n;
    return args;
}

/* SQLite's legacy prepare (the driver's) never recompiles a statement:
 * after a schema change by another connection (a migration, a VACUUM) every
 * cached statement fails with "database schema has changed" for good. Such
 * a failure empties the cache (the stale statements stay allocated until
 * the connection closes: schema changes are rare) so that the statement is
 * prepared afresh; outside a transaction the call is then retried once. */
static int schema_changed(at_registry_t *reg, int rc)
{
    const char *msg = apr_dbd_error(reg->driver, reg->handle, rc);

    if (msg && strstr(msg, "schema has changed")) {
        if (reg->stmts) {
            reg->stmts = apr_hash_make(reg->pool);
        }
        return 1;
    }
    return 0;
}

apr_status_t at_reg_exec(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                         int *nrows, const char *sql, ...)
{
    apr_dbd_prepared_t *stmt;
    const char **args;
    apr_status_t rv;
    va_list ap;
    int nargs, rows = 0, rc, attempt;

    if (reg->readonly) {
        at_error_set(err, "registry %s is read-only (the file is not "
                     "writable by this user)", reg->where);
        return APR_EACCES;
    }
    va_start(ap, sql);
    args = db_args(p, sql, &nargs, ap);
    va_end(ap);
    for (attempt = 0;; attempt++) {
        rv = db_statement(reg, sql, &stmt, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rc = apr_dbd_pquery(reg->driver, p, reg->handle, &rows, stmt, nargs,
                            args);
        if (rc == 0) {
            break;
        }
        if (!schema_changed(reg, rc) || reg->trans || attempt > 0) {
            return db_failure(reg, rc, err);
        }
    }
    if (nrows) {
        *nrows = rows;
    }
    return APR_SUCCESS;
}

static apr_status_t db_select_v(at_registry_t *reg, apr_pool_t *p,
                                at_error_t *err, apr_array_header_t **rows,
                                int *ncols, const char *sql, va_list ap)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char **args;
    apr_status_t rv;
    int nargs, rc, n, i, attempt;

    args = db_args(p, sql, &nargs, ap);
    for (attempt = 0;; attempt++) {
        rv = db_statement(reg, sql, &stmt, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        res = NULL;
        rc = apr_dbd_pselect(reg->driver, p, reg->handle, &res, stmt, 0,
                             nargs, args);
        if (rc == 0) {
            break;
        }
        if (!schema_changed(reg, rc) || reg->trans || attempt > 0) {
            return db_failure(reg, rc, err);
        }
    }
    n = apr_dbd_num_cols(reg->driver, res);
    *rows = apr_array_make(p, 8, sizeof(const char **));
    while (apr_dbd_get_row(reg->driver, p, res, &row, -1) == 0) {
        const char **vals = apr_pcalloc(p, sizeof(*vals) * (n + 1));
        for (i = 0; i < n; i++) {
            const char *v = apr_dbd_get_entry(reg->driver, row, i);
            vals[i] = v ? apr_pstrdup(p, v) : NULL;
        }
        APR_ARRAY_PUSH(*rows, const char **) = vals;
    }
    if (ncols) {
        *ncols = n;
    }
    return APR_SUCCESS;
}

apr_status_t at_reg_select(at_registry_t *reg, apr_pool_t *p,
                           at_error_t *err, apr_array_header_t **rows,
                           int *ncols, const char *sql, ...)
{
    apr_status_t rv;
    va_list ap;

    va_start(ap, sql);
    rv = db_select_v(reg, p, err, rows, ncols, sql, ap);
    va_end(ap);
    return rv;
}

apr_status_t at_reg_value(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          const char **value, const char *sql, ...)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    va_list ap;

    *value = NULL;
    va_start(ap, sql);
    rv = db_select_v(reg, p, err, &rows, NULL, sql, ap);
    va_end(ap);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        return APR_NOTFOUND;
    }
    *value = APR_ARRAY_IDX(rows, 0, const char **)[0];
    return APR_SUCCESS;
}

apr_status_t at_reg_begin(at_registry_t *reg, apr_pool_t *p, at_error_t *err)
{
    int rc;

    if (reg->readonly) {
        at_error_set(err, "registry %s is read-only (the file is not "
                     "writable by this user)", reg->where);
        return APR_EACCES;
    }
    if (reg->trans) {
        /* Transactions do not nest: a caller that begins inside another
         * would end the outer one with its own pool. */
        at_error_set(err, "registry %s: a transaction is already open",
                     reg->where);
        return APR_EGENERAL;
    }
    /* A failure inside a transaction cannot be retried (the driver skips
     * every later statement), so make sure the cache is current first: a
     * schema change shows here, outside the transaction, and is absorbed. */
    if (reg->stmts && strcmp(reg->driver_name, "sqlite3") == 0) {
        /* Any read of a table checks the schema cookie; a PRAGMA does
         * not. */
        const char *v;
        apr_status_t rv = at_reg_value(reg, p, err, &v,
                                       "SELECT value FROM meta"
                                       " WHERE key = 'schema_version'");
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            return rv;
        }
    }
    reg->trans = NULL;
    reg->trans_pool = p;
    rc = apr_dbd_transaction_start(reg->driver, p, reg->handle, &reg->trans);
    if (rc != 0) {
        apr_status_t rv = db_failure(reg, rc, err);
        /* The driver attached a transaction although BEGIN failed: detach
         * it, or later statements would run in a transaction that isn't. */
        if (reg->trans) {
            apr_dbd_transaction_mode_set(reg->driver, reg->trans,
                                         APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(reg->driver, p, reg->trans);
        }
        reg->trans = NULL;
        reg->trans_pool = NULL;
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t at_reg_end(at_registry_t *reg, apr_status_t rv, int keep,
                        at_error_t *err)
{
    apr_dbd_transaction_t *trans = reg->trans;
    int commit = (rv == APR_SUCCESS || keep);
    int rc;

    if (trans == NULL) {
        return rv;
    }
    reg->trans = NULL;
    if (!commit) {
        apr_dbd_transaction_mode_set(reg->driver, trans,
                                     APR_DBD_TRANSACTION_ROLLBACK);
    }
    /* apr_dbd_transaction_start registered a cleanup on the pool that
     * began the transaction, which ends it when that pool goes. Ending it
     * with any other pool leaves that cleanup armed: when the request's
     * pool is destroyed, long after this connection went back to the pool
     * of connections, it would COMMIT or ROLLBACK whatever transaction
     * another thread then runs on this handle. */
    rc = apr_dbd_transaction_end(reg->driver, reg->trans_pool, trans);
    reg->trans_pool = NULL;
    if (rc != 0 && commit) {
        /* A failed commit leaves SQLite's transaction open: roll it back
         * explicitly so that the connection stays usable. */
        apr_status_t frv = db_failure(reg, rc, err);
        int nrows;
        apr_dbd_query(reg->driver, reg->handle, &nrows, "ROLLBACK");
        return frv;
    }
    return rv;
}

apr_status_t at_reg_audit(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          const char *actor, const char *action,
                          const char *target, const char *detail)
{
    return at_reg_exec(reg, p, err, NULL,
                       "INSERT INTO audit (at, actor, action, target, detail)"
                       " VALUES (%s, %s, %s, %s, %s)",
                       at_reg_i64(p, at_reg_now()),
                       at_reg_utf8_clean(p, (actor && *actor) ? actor
                                                           : "unknown"),
                       action, at_reg_utf8_clean(p, target),
                       at_reg_utf8_clean(p, detail));
}

apr_status_t at_reg_bump_generation(at_registry_t *reg, apr_pool_t *p,
                                    at_error_t *err)
{
    return at_reg_exec(reg, p, err, NULL,
                       "UPDATE meta SET value = CAST(value AS INTEGER) + 1"
                       " WHERE key = 'revocation_generation'");
}
