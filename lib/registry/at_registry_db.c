/* The registry's database layer: prepared statements (each SQL text
 * prepared once per connection: apr_dbd's sqlite3 driver allocates every
 * prepared statement from the connection's pool and keeps it until close,
 * so preparing per call would grow without bound; in PostgreSQL they are
 * named server-side statements, planned once), errors, transactions, a
 * lost PostgreSQL connection made again, and the two rows every change may
 * write (audit, revocation generation).
 *
 * Arguments are text; a placeholder says its type: %s text, %lld a 64-bit
 * integer. SQLite binds both as text (the INTEGER columns' affinity turns
 * them into numbers); PostgreSQL prepares the statement with those types,
 * so that a number is compared and stored as a number.
 *
 * apr_dbd_pgsql (apr-util 1.6) behaviour this relies on or avoids:
 * - a statement prepared with a name is a server-side PREPARE, kept by the
 *   server for the session only (gone after a reconnect);
 * - pselect with random = 0 fetches rows asynchronously, has no column
 *   count before the first row and sleeps 100 ms on an empty result: it is
 *   called with random = 1 (the whole result at once);
 * - get_entry gives "" for SQL NULL: datum_get tells NULL apart;
 * - its transaction_start dereferences a NULL transaction when BEGIN fails
 *   on a connection that just died: transactions are plain BEGIN / COMMIT
 *   / ROLLBACK statements here, and a failure inside one is remembered
 *   (tx_failed) so that the end rolls back, as apr_dbd would.
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

/* Maps a SQLite failure to a status and a message that says what to do.
 * SQLite's own text is kept: it names the constraint or the condition. */
apr_status_t at_reg_sqlite_failure(at_registry_t *reg, int rc,
                                   at_error_t *err)
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

static apr_status_t db_failure(at_registry_t *reg, int rc, at_error_t *err)
{
    if (reg->in_tx) {
        reg->tx_failed = 1;
    }
    return reg->dialect->failure(reg, rc, err);
}

/* PostgreSQL: the connection died (the server restarted, the network
 * failed). libpq reconnects in place (PQreset, bounded by connect_timeout);
 * the server forgot the prepared statements and the session settings, so
 * both are made afresh. */
static apr_status_t reconnect(at_registry_t *reg, at_error_t *err)
{
    if (!reg->dialect->reset(reg)) {
        at_error_set(err, "registry %s cannot be reached (reconnecting "
                     "failed)", reg->where);
        return APR_ECONNREFUSED;
    }
    if (reg->stmts) {
        apr_pool_clear(reg->stmt_pool);
        reg->stmts = apr_hash_make(reg->stmt_pool);
        reg->nstmts = 0;
    }
    return reg->dialect->setup(reg, reg->pool, err);
}

/* Before a statement outside a transaction: a connection already known
 * dead (a failure earlier) is made again first; nothing was sent on it. */
static void revive(at_registry_t *reg)
{
    at_error_t ignored;

    if (!reg->in_tx && reg->dialect->lost(reg)) {
        reconnect(reg, &ignored);
    }
}

/* After a failed call that lost the connection: 1 when the connection was
 * made again and the call may be repeated on it. Only outside a
 * transaction and only once; the callers repeat only what may run twice
 * (a read, preparing, BEGIN). */
static int retry_lost(at_registry_t *reg, int attempt)
{
    at_error_t ignored;

    if (attempt > 0 || reg->in_tx || !reg->dialect->lost(reg)) {
        return 0;
    }
    return reconnect(reg, &ignored) == APR_SUCCESS;
}

/* The prepared statement for SQL, prepared on first use. While the schema
 * is being checked or migrated (reg->stmts still NULL) nothing is cached,
 * since SQLite's legacy prepare, which the driver uses, does not recompile a
 * statement after the schema changed under it; PostgreSQL then gets an
 * unnamed statement (one round trip, nothing left on the server). */
static apr_status_t db_statement(at_registry_t *reg, const char *sql,
                                 apr_dbd_prepared_t **stmt, at_error_t *err)
{
    const char *label = NULL;
    int rc;

    *stmt = reg->stmts ? apr_hash_get(reg->stmts, sql, APR_HASH_KEY_STRING)
                       : NULL;
    if (*stmt) {
        return APR_SUCCESS;
    }
    if (reg->stmts) {
        label = apr_psprintf(reg->stmt_pool, "at_%u", ++reg->nstmts);
    }
    rc = apr_dbd_prepare(reg->driver, reg->stmt_pool, reg->handle,
                         at_reg_render(reg->stmt_pool, reg->dialect, sql),
                         label, stmt);
    if (rc != 0) {
        *stmt = NULL;
        return db_failure(reg, rc, err);
    }
    if (reg->stmts) {
        /* The key is kept: SQL may be the caller's (a request's) text. */
        apr_hash_set(reg->stmts, apr_pstrdup(reg->stmt_pool, sql),
                     APR_HASH_KEY_STRING, *stmt);
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

    if (strcmp(reg->driver_name, "sqlite3") == 0 && msg
        && strstr(msg, "schema has changed")) {
        if (reg->stmts) {
            reg->stmts = apr_hash_make(reg->pool);
        }
        return 1;
    }
    return 0;
}

apr_status_t at_reg_execv(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          int *nrows, const char *sql, const char **args)
{
    apr_dbd_prepared_t *stmt;
    apr_status_t rv;
    const char *s;
    int nargs = 0, rows = 0, rc, attempt;

    if (reg->readonly) {
        at_error_set(err, "registry %s is read-only (the file is not "
                     "writable by this user)", reg->where);
        return APR_EACCES;
    }
    for (s = sql; *s; s++) {
        nargs += (*s == '%');
    }
    revive(reg);
    for (attempt = 0;; attempt++) {
        rv = db_statement(reg, sql, &stmt, err);
        if (rv != APR_SUCCESS) {
            /* Preparing ran nothing: safe to do again on a new
             * connection. */
            if (retry_lost(reg, attempt)) {
                continue;
            }
            return rv;
        }
        rc = apr_dbd_pquery(reg->driver, p, reg->handle, &rows, stmt, nargs,
                            args);
        if (rc == 0) {
            break;
        }
        /* A write is not sent again after a lost connection: it may have
         * been made before the connection went. The next read or BEGIN
         * reconnects. */
        if (!schema_changed(reg, rc) || reg->in_tx || attempt > 0) {
            return db_failure(reg, rc, err);
        }
    }
    if (nrows) {
        *nrows = rows;
    }
    return APR_SUCCESS;
}

apr_status_t at_reg_exec(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                         int *nrows, const char *sql, ...)
{
    const char **args;
    va_list ap;
    int nargs;

    va_start(ap, sql);
    args = db_args(p, sql, &nargs, ap);
    va_end(ap);
    return at_reg_execv(reg, p, err, nrows, sql, args);
}

/* WRITES: the statement changes data (a data-changing WITH ... SELECT),
 * so once sent it is not sent again after a lost connection. */
static apr_status_t db_select_v(at_registry_t *reg, apr_pool_t *p,
                                at_error_t *err, apr_array_header_t **rows,
                                int *ncols, int writes, const char *sql,
                                va_list ap)
{
    apr_dbd_prepared_t *stmt;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char **args;
    apr_status_t rv;
    int nargs, rc, n, i, attempt;

    args = db_args(p, sql, &nargs, ap);
    revive(reg);
    for (attempt = 0;; attempt++) {
        rv = db_statement(reg, sql, &stmt, err);
        if (rv != APR_SUCCESS) {
            /* Preparing ran nothing: safe to do again on a new
             * connection. */
            if (retry_lost(reg, attempt)) {
                continue;
            }
            return rv;
        }
        res = NULL;
        rc = apr_dbd_pselect(reg->driver, p, reg->handle, &res, stmt,
                             reg->dialect->select_random, nargs, args);
        if (rc == 0) {
            break;
        }
        if (reg->dialect->lost(reg)) {
            /* A read may be sent again (once, outside a transaction). */
            rv = db_failure(reg, rc, err);
            if (!writes && retry_lost(reg, attempt)) {
                continue;
            }
            return rv;
        }
        if (!schema_changed(reg, rc) || reg->in_tx || attempt > 0) {
            return db_failure(reg, rc, err);
        }
    }
    n = apr_dbd_num_cols(reg->driver, res);
    *rows = apr_array_make(p, 8, sizeof(const char **));
    while (apr_dbd_get_row(reg->driver, p, res, &row, -1) == 0) {
        const char **vals = apr_pcalloc(p, sizeof(*vals) * (n + 1));
        for (i = 0; i < n; i++) {
            char *v = NULL;
            /* SQL NULL is NULL here (the pgsql driver's get_entry gives
             * ""). */
            if (apr_dbd_datum_get(reg->driver, row, i, APR_DBD_TYPE_STRING,
                                  &v) == APR_SUCCESS && v) {
                vals[i] = apr_pstrdup(p, v);
            }
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
    rv = db_select_v(reg, p, err, rows, ncols, 0, sql, ap);
    va_end(ap);
    return rv;
}

apr_status_t at_reg_select_writing(at_registry_t *reg, apr_pool_t *p,
                                   at_error_t *err, apr_array_header_t **rows,
                                   const char *sql, ...)
{
    apr_status_t rv;
    va_list ap;

    if (reg->readonly) {
        at_error_set(err, "registry %s is read-only (the file is not "
                     "writable by this user)", reg->where);
        return APR_EACCES;
    }
    va_start(ap, sql);
    rv = db_select_v(reg, p, err, rows, NULL, 1, sql, ap);
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
    rv = db_select_v(reg, p, err, &rows, NULL, 0, sql, ap);
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

/* SQLite: apr_dbd's transaction (BEGIN IMMEDIATE). */
static apr_status_t sqlite_begin(at_registry_t *reg, apr_pool_t *p,
                                 at_error_t *err)
{
    int rc;

    /* A failure inside a transaction cannot be retried (the driver skips
     * every later statement), so make sure the cache is current first: a
     * schema change shows here, outside the transaction, and is absorbed. */
    if (reg->stmts) {
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
        apr_status_t rv = reg->dialect->failure(reg, rc, err);
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

/* PostgreSQL: BEGIN (made again once on a fresh connection when the old
 * one was found dead), then the dialect's lock when SERIAL. */
static apr_status_t pg_begin(at_registry_t *reg, apr_pool_t *p, int serial,
                             at_error_t *err)
{
    apr_status_t rv;
    int nrows, rc, attempt;

    revive(reg);
    for (attempt = 0;; attempt++) {
        rc = apr_dbd_query(reg->driver, reg->handle, &nrows, "BEGIN");
        if (rc == 0) {
            break;
        }
        rv = reg->dialect->failure(reg, rc, err);
        if (!retry_lost(reg, attempt)) {
            return rv;
        }
    }
    reg->in_tx = 1;
    reg->tx_failed = 0;
    if (serial && reg->dialect->serial_sql) {
        apr_array_header_t *rows;

        rv = at_reg_select(reg, p, err, &rows, NULL,
                           reg->dialect->serial_sql);
        if (rv != APR_SUCCESS) {
            return at_reg_end(reg, rv, 0, err);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t begin(at_registry_t *reg, apr_pool_t *p, int serial,
                          at_error_t *err)
{
    apr_status_t rv;

    if (reg->readonly) {
        at_error_set(err, "registry %s is read-only (the file is not "
                     "writable by this user)", reg->where);
        return APR_EACCES;
    }
    if (reg->in_tx) {
        /* Transactions do not nest: a caller that begins inside another
         * would end the outer one with its own pool. */
        at_error_set(err, "registry %s: a transaction is already open",
                     reg->where);
        return APR_EGENERAL;
    }
    if (reg->dialect->networked) {
        return pg_begin(reg, p, serial, err);
    }
    rv = sqlite_begin(reg, p, err);
    if (rv == APR_SUCCESS) {
        reg->in_tx = 1;
        reg->tx_failed = 0;
    }
    return rv;
}

apr_status_t at_reg_begin(at_registry_t *reg, apr_pool_t *p, at_error_t *err)
{
    return begin(reg, p, 1, err);
}

apr_status_t at_reg_begin_rows(at_registry_t *reg, apr_pool_t *p,
                               at_error_t *err)
{
    return begin(reg, p, 0, err);
}

/* SQLite: ends apr_dbd's transaction. */
static apr_status_t sqlite_end(at_registry_t *reg, apr_status_t rv,
                               int commit, at_error_t *err)
{
    apr_dbd_transaction_t *trans = reg->trans;
    int rc;

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
        apr_status_t frv = reg->dialect->failure(reg, rc, err);
        int nrows;
        apr_dbd_query(reg->driver, reg->handle, &nrows, "ROLLBACK");
        return frv;
    }
    return rv;
}

apr_status_t at_reg_end(at_registry_t *reg, apr_status_t rv, int keep,
                        at_error_t *err)
{
    int commit = (rv == APR_SUCCESS || keep) && !reg->tx_failed;
    int nrows, rc;

    if (!reg->in_tx) {
        return rv;
    }
    reg->in_tx = 0;
    if (rv == APR_SUCCESS && reg->tx_failed) {
        /* A caller went on after a failed statement: never commit what
         * is left of its change. */
        at_error_set(err, "registry %s: a statement of the change failed",
                     reg->where);
        rv = APR_EGENERAL;
    }
    reg->tx_failed = 0;
    if (!reg->dialect->networked) {
        return reg->trans ? sqlite_end(reg, rv, commit, err) : rv;
    }
    rc = apr_dbd_query(reg->driver, reg->handle, &nrows,
                       commit ? "COMMIT" : "ROLLBACK");
    if (rc != 0 && commit) {
        /* Lost during the commit: whether it was made is unknown. */
        return reg->dialect->failure(reg, rc, err);
    }
    return rv;
}

apr_status_t at_reg_audit(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          const char *actor, const char *action,
                          const char *target, const char *detail)
{
    return at_reg_exec(reg, p, err, NULL,
                       "INSERT INTO audit (at, actor, action, target, detail)"
                       " VALUES (%lld, %s, %s, %s, %s)",
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
                       "UPDATE meta SET value = CAST(value AS {INT}) + 1"
                       " WHERE key = 'revocation_generation'");
}
