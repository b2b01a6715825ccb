/* The registry's database layer: opening the connection, prepared
 * statements (each SQL text prepared once per connection: apr_dbd's sqlite3
 * driver allocates every prepared statement from the connection's pool and
 * keeps it until close, so preparing per call would grow without bound),
 * errors, transactions, the audit row and the revocation generation.
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
 * - string arguments are bound as text; the INTEGER columns' affinity turns
 *   them into integers on insert and in comparisons.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <apr_encode.h>
#include <openssl/rand.h>

#include "at_registry_private.h"

long long at_reg_now(void)
{
    return (long long)apr_time_sec(apr_time_now());
}

const char *at_reg_i64(apr_pool_t *p, long long v)
{
    /* apr_psprintf knows no %lld: use APR's own 64-bit format. */
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
}

long long at_reg_atoll(const char *s, long long deflt)
{
    return s ? strtoll(s, NULL, 10) : deflt;
}

/* Identifiers start with a letter or digit: one starting with '-' would
 * read as an option on command lines (ours and everyone's scripts). The
 * redraw costs a little entropy of the first character only. */
apr_status_t at_reg_random_id(apr_pool_t *p, const char **id)
{
    unsigned char raw[16];
    const char *s;

    do {
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
            return APR_EGENERAL;
        }
        s = apr_pencode_base64(p, (const char *)raw, sizeof(raw),
                               APR_ENCODE_BASE64URL, NULL);
    } while (s[0] == '-' || s[0] == '_');
    *id = s;
    return APR_SUCCESS;
}

const char *at_reg_join(apr_pool_t *p, const apr_array_header_t *list)
{
    if (list == NULL || list->nelts == 0) {
        return "";
    }
    return apr_array_pstrcat(p, list, ' ');
}

apr_array_header_t *at_reg_split(apr_pool_t *p, const char *text)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    char *copy, *tok, *last;

    if (text == NULL) {
        return a;
    }
    copy = apr_pstrdup(p, text);
    for (tok = apr_strtok(copy, " ", &last); tok;
         tok = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = tok;
    }
    return a;
}

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
    rc = apr_dbd_transaction_end(reg->driver, reg->pool, trans);
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
                       (actor && *actor) ? actor : "unknown", action,
                       target ? target : "", detail ? detail : "");
}

apr_status_t at_reg_bump_generation(at_registry_t *reg, apr_pool_t *p,
                                    at_error_t *err)
{
    return at_reg_exec(reg, p, err, NULL,
                       "UPDATE meta SET value = CAST(value AS INTEGER) + 1"
                       " WHERE key = 'revocation_generation'");
}

/* Bounded so that the request that happens to purge pays little: at most
 * a few hundred rows per table, each found through an index on its
 * expiry. Rows are kept an hour past expiry so that a late introspection
 * or revocation still finds them. */
void at_reg_purge_expired(at_registry_t *reg, apr_pool_t *p)
{
    const char *cut = at_reg_i64(p, at_reg_now() - 3600);
    at_error_t err;

    if (reg->readonly || reg->trans) {
        return;
    }
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM issued_jtis WHERE jti IN (SELECT jti FROM"
                " issued_jtis WHERE exp < %s LIMIT 500)", cut);
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM"
                " refresh_tokens WHERE expires < %s LIMIT 500)", cut);
    /* A family without tokens left can never be used again. */
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM refresh_families WHERE id IN (SELECT f.id FROM"
                " refresh_families f WHERE f.created < %s AND NOT EXISTS"
                " (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)"
                " LIMIT 200)", cut);
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM app_secrets WHERE id IN (SELECT id FROM"
                " app_secrets WHERE expires IS NOT NULL AND expires < %s"
                " LIMIT 100)", at_reg_i64(p, at_reg_now() - 86400));
}

/* For a file path: refuses what SQLite would misreport or silently
 * degrade (unreadable file, directory instead of file), creates a missing
 * last directory, and notes a read-only file. */
static apr_status_t check_file(at_registry_t *reg, apr_pool_t *p,
                               const char *path, at_error_t *err)
{
    struct stat st;
    char *dir, *slash;

    if (*path == '\0') {
        at_error_set(err, "registry path is empty");
        return APR_EINVAL;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            at_error_set(err, "registry %s is not a regular file", path);
            return APR_EINVAL;
        }
        if (access(path, R_OK) != 0) {
            at_error_set(err, "registry %s is not readable by uid %ld: %s",
                         path, (long)geteuid(), strerror(errno));
            return APR_EACCES;
        }
        reg->readonly = (access(path, W_OK) != 0);
        return APR_SUCCESS;
    }
    if (errno != ENOENT) {
        at_error_set(err, "registry %s: %s", path, strerror(errno));
        return APR_EACCES;
    }
    dir = apr_pstrdup(p, path);
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        return APR_SUCCESS;
    }
    *slash = '\0';
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0750) != 0) {
            at_error_set(err, "registry directory %s cannot be created: %s",
                         dir, strerror(errno));
            return APR_EACCES;
        }
    }
    else if (!S_ISDIR(st.st_mode)) {
        at_error_set(err, "registry directory %s is not a directory", dir);
        return APR_EINVAL;
    }
    if (access(dir, W_OK) != 0) {
        at_error_set(err, "registry %s does not exist and its directory is "
                     "not writable by uid %ld", path, (long)geteuid());
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

static apr_status_t registry_cleanup(void *data)
{
    at_registry_t *reg = data;

    if (reg->handle) {
        apr_dbd_close(reg->driver, reg->handle);
        reg->handle = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t at_registry_open(apr_pool_t *pool, const char *driver,
                              const char *params, at_registry_t **regp,
                              at_error_t *err)
{
    at_registry_t *reg;
    const char *dbd_err = NULL;
    apr_pool_t *tmp;
    apr_status_t rv;

    *regp = NULL;
    if (driver == NULL || params == NULL) {
        at_error_set(err, "registry: no driver or parameters given");
        return APR_EINVAL;
    }
    reg = apr_pcalloc(pool, sizeof(*reg));
    reg->pool = pool;
    reg->driver_name = apr_pstrdup(pool, driver);
    reg->where = apr_pstrdup(pool, params);
    rv = apr_dbd_init(pool);
    if (rv == APR_SUCCESS) {
        rv = apr_dbd_get_driver(pool, driver, &reg->driver);
    }
    if (rv != APR_SUCCESS) {
        at_error_set(err, "registry: apr_dbd driver \"%s\" is not available "
                     "(for sqlite3: apt-get install "
                     "libaprutil1-dbd-sqlite3)", driver);
        return rv;
    }
    apr_pool_create(&tmp, pool);
    if (strcmp(driver, "sqlite3") == 0) {
        rv = check_file(reg, tmp, params, err);
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(tmp);
            return rv;
        }
    }
    else {
        reg->where = driver;    /* parameters may hold a password */
    }
    rv = apr_dbd_open_ex(reg->driver, pool, params, &reg->handle, &dbd_err);
    if (rv != APR_SUCCESS || reg->handle == NULL) {
        at_error_set(err, "registry %s cannot be opened: %s", reg->where,
                     dbd_err ? dbd_err : "driver refused the parameters");
        apr_pool_destroy(tmp);
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    apr_pool_cleanup_register(pool, reg, registry_cleanup,
                              apr_pool_cleanup_null);
    rv = at_schema_prepare(reg, tmp, err);
    apr_pool_destroy(tmp);
    if (rv != APR_SUCCESS) {
        apr_pool_cleanup_run(pool, reg, registry_cleanup);
        return rv;
    }
    reg->stmts = apr_hash_make(pool);
    *regp = reg;
    return APR_SUCCESS;
}

void at_registry_close(at_registry_t *reg)
{
    if (reg) {
        apr_pool_cleanup_run(reg->pool, reg, registry_cleanup);
    }
}
