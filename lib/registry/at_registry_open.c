/* Opening and closing the registry: checks on the file that SQLite would
 * misreport or silently degrade, or on the form of a PostgreSQL connection
 * string, the apr_dbd connection, and the schema check and migration
 * (at_schema.c).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "at_registry_private.h"

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
        if (reg->in_tx) {
            /* A transaction left open by a caller: never let the close
             * (or the cleanup of the pool that began it) commit it. */
            at_error_t err;
            at_reg_end(reg, APR_EGENERAL, 0, &err);
        }
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
    const char *dbd_err = NULL, *conninfo = params;
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
    reg->dialect = at_reg_dialect(driver);
    if (reg->dialect == NULL) {
        at_error_set(err, "registry: driver \"%.40s\" is not supported "
                     "(use sqlite3 or pgsql)", driver);
        return APR_EINVAL;
    }
    rv = apr_dbd_init(pool);
    if (rv == APR_SUCCESS) {
        rv = apr_dbd_get_driver(pool, driver, &reg->driver);
    }
    if (rv != APR_SUCCESS) {
        at_error_set(err, "registry: apr_dbd driver \"%s\" is not available "
                     "(apt-get install libaprutil1-dbd-%s)", driver, driver);
        return rv;
    }
    apr_pool_create(&tmp, pool);
    apr_pool_create(&reg->stmt_pool, pool);
    if (reg->dialect->networked) {
        /* The connection string may hold a password: messages show the
         * described form only. */
        reg->where = at_registry_describe(pool, driver, params);
        rv = at_registry_check_params(tmp, driver, params, err);
        conninfo = at_reg_pg_conninfo(tmp, params);
    }
    else {
        reg->where = apr_pstrdup(pool, params);
        rv = check_file(reg, tmp, params, err);
    }
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(tmp);
        return rv;
    }
    rv = apr_dbd_open_ex(reg->driver, pool, conninfo, &reg->handle,
                         &dbd_err);
    if (rv != APR_SUCCESS || reg->handle == NULL) {
        char *why = apr_pstrdup(tmp, dbd_err ? dbd_err
                                             : "driver refused the "
                                               "parameters"), *c;
        for (c = why; *c; c++) {
            if (*c == '\n' || *c == '\t') {
                *c = ' ';
            }
        }
        at_error_set(err, "registry %s cannot be opened: %s", reg->where,
                     why);
        apr_pool_destroy(tmp);
        /* A server that cannot be reached now may be reachable later. */
        if (reg->dialect->networked) {
            return APR_ECONNREFUSED;
        }
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
    reg->stmts = apr_hash_make(reg->stmt_pool);
    *regp = reg;
    return APR_SUCCESS;
}

void at_registry_close(at_registry_t *reg)
{
    if (reg) {
        apr_pool_cleanup_run(reg->pool, reg, registry_cleanup);
    }
}
