/* Reads a registry file's schema version with SQLite opened read-only,
 * without apr_dbd: its sqlite3 driver always opens read-write (and would
 * create a missing file), and configtest must leave the file as it is.
 * The rules are at_schema.c's: a registry is ours when meta says
 * application=mod_auth_token, and a version newer than this build's is
 * refused rather than guessed at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "at_schema_probe.h"

#define APP_MARK "mod_auth_token"

/* The first column of the first row of SQL as text into BUF ("" when no
 * row); the SQLite result code. */
static int first_value(sqlite3 *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *v;
    int rc;

    buf[0] = '\0';
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            v = sqlite3_column_text(st, 0);
            if (v != NULL) {
                snprintf(buf, size, "%s", (const char *)v);
            }
            rc = SQLITE_OK;
        }
        else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* PATH as an SQLite URI filename with QUERY; NULL when it would not fit
 * in OUT. */
static const char *uri_of(const char *path, const char *query, char *out,
                          size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    const unsigned char *c;

    n = (size_t)snprintf(out, size, "file:");
    for (c = (const unsigned char *)path; *c && n + 4 < size; c++) {
        if (*c == '?' || *c == '#' || *c == '%' || *c < 0x21 || *c > 0x7e) {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
        else {
            out[n++] = (char)*c;
        }
    }
    if (*c || n + strlen(query) + 1 > size) {
        return NULL;
    }
    memcpy(out + n, query, strlen(query) + 1);
    return out;
}

/* Read-only, and never creating a file: without a -wal file the database
 * file holds everything, and "immutable" reads it without the -wal and
 * -shm files a read-only connection to a WAL database would otherwise
 * create (and leave behind). With one, a server or a crash left it, and
 * it must be read too; SQLite running as root gives any -shm it creates
 * the database's owner. */
static int open_read_only(const char *path, sqlite3 **db)
{
    char uri[8192], wal[8192];
    const char *name;

    snprintf(wal, sizeof(wal), "%s-wal", path);
    name = uri_of(path, access(wal, F_OK) == 0 ? "" : "?immutable=1", uri,
                  sizeof(uri));
    return sqlite3_open_v2(name ? name : path, db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
}

apr_status_t at_schema_probe(const char *path, int *version, at_error_t *err)
{
    sqlite3 *db = NULL;
    char value[64], *end;
    apr_status_t rv = APR_EINVAL;
    int rc;

    *version = -1;
    rc = open_read_only(path, &db);
    if (rc != SQLITE_OK) {
        at_error_set(err, "registry %s cannot be opened: %s", path,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        goto done;
    }
    /* A writer holds its lock for milliseconds. */
    sqlite3_busy_timeout(db, 2000);
    rc = first_value(db,
                     "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                     " AND substr(name, 1, 7) <> 'sqlite_'",
                     value, sizeof(value));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        at_error_set(err, "registry %s is locked", path);
        rv = APR_EAGAIN;
        goto done;
    }
    if (rc != SQLITE_OK) {
        at_error_set(err, "registry %s is not a usable SQLite database "
                     "(corrupt, or another kind of file): %s", path,
                     sqlite3_errmsg(db));
        goto done;
    }
    if (strcmp(value, "0") == 0) {
        *version = 0;
        rv = APR_SUCCESS;
        goto done;
    }
    rc = first_value(db, "SELECT value FROM meta WHERE key = 'application'",
                     value, sizeof(value));
    if (rc != SQLITE_OK || strcmp(value, APP_MARK) != 0) {
        at_error_set(err, "registry %s holds a database that is not a "
                     "mod_auth_token registry", path);
        goto done;
    }
    rc = first_value(db,
                     "SELECT value FROM meta WHERE key = 'schema_version'",
                     value, sizeof(value));
    *version = (int)strtol(value, &end, 10);
    if (rc != SQLITE_OK || value[0] == '\0' || *end != '\0' || *version < 0) {
        *version = -1;
        at_error_set(err, "registry %s has no schema version", path);
        goto done;
    }
    if (*version > at_schema_version()) {
        at_error_set(err, "registry %s has schema version %d, newer than "
                     "this build understands (%d): upgrade mod_auth_token",
                     path, *version, at_schema_version());
        goto done;
    }
    rv = APR_SUCCESS;
done:
    sqlite3_close(db);
    return rv;
}
