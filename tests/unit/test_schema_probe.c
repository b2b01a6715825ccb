/* Unit tests of at_schema_probe: what configtest says about a registry
 * file (ours and current, ours and newer, foreign, not SQLite, new), and
 * that looking leaves the file as it was and creates nothing. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <sqlite3.h>
#include "unit.h"
#include "at_registry.h"
#include "at_schema_probe.h"

static apr_pool_t *pool;
static char dir[] = "/tmp/at-test-probe-XXXXXX";

static const char *path_of(const char *name)
{
    return apr_pstrcat(pool, dir, "/", name, NULL);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len) {
        perror(path);
    }
    if (f) {
        fclose(f);
    }
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    if (sqlite3_open(path, &db) != SQLITE_OK
        || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* The probe's verdict on PATH: its status, *VERSION, and the reason. */
static apr_status_t probe(const char *path, int *version, const char **why)
{
    static at_error_t err;
    apr_status_t rv;

    memset(&err, 0, sizeof(err));
    rv = at_schema_probe(path, version, &err);
    *why = err.text;
    return rv;
}

static void test_ours(void)
{
    const char *file = path_of("ours.db"), *why;
    at_registry_t *reg, *held;
    at_error_t err;
    struct stat before, after;
    int version;

    CHECK(at_registry_open(pool, "sqlite3", file, &reg, &err) == APR_SUCCESS,
          "create: %s", err.text);
    at_registry_close(reg);
    CHECK(stat(file, &before) == 0, "registry file made");
    CHECK(probe(file, &version, &why) == APR_SUCCESS, "current: %s", why);
    CHECK(version == at_schema_version() && version > 0, "version %d",
          version);
    CHECK(stat(file, &after) == 0 && after.st_size == before.st_size
              && after.st_mtime == before.st_mtime,
          "file untouched");
    CHECK(!exists(apr_pstrcat(pool, file, "-wal", NULL))
              && !exists(apr_pstrcat(pool, file, "-journal", NULL)),
          "no journal left behind by looking");

    /* While a server holds it open (WAL in use). */
    CHECK(at_registry_open(pool, "sqlite3", file, &held, &err)
              == APR_SUCCESS,
          "reopen: %s", err.text);
    CHECK(probe(file, &version, &why) == APR_SUCCESS
              && version == at_schema_version(),
          "in use: %s", why);
    at_registry_close(held);

    /* An older version is fine (migrated at start). */
    exec_sql(file, "UPDATE meta SET value = '1' WHERE key = "
                   "'schema_version'");
    CHECK(probe(file, &version, &why) == APR_SUCCESS && version == 1,
          "older: %s", why);

    /* A newer one is named. */
    exec_sql(file, "UPDATE meta SET value = '99' WHERE key = "
                   "'schema_version'");
    CHECK(probe(file, &version, &why) == APR_EINVAL && version == 99,
          "newer refused");
    CHECK(strstr(why, "schema version 99") && strstr(why, "newer")
              && strstr(why, file),
          "newer named: %s", why);

    exec_sql(file, "UPDATE meta SET value = 'x' WHERE key = "
                   "'schema_version'");
    CHECK(probe(file, &version, &why) == APR_EINVAL
              && strstr(why, "no schema version"),
          "garbage version: %s", why);
}

static void test_not_ours(void)
{
    static const char text[] = "this is not an SQLite database\n";
    static const char fake[] = "SQLite format 3\0\xff\xff\xff\xff\xff\xff";
    const char *why;
    int version;

    write_bytes(path_of("text.db"), text, sizeof(text) - 1);
    CHECK(probe(path_of("text.db"), &version, &why) == APR_EINVAL
              && strstr(why, "not a usable SQLite database"),
          "text file: %s", why);

    write_bytes(path_of("fake.db"), fake, sizeof(fake) - 1);
    CHECK(probe(path_of("fake.db"), &version, &why) == APR_EINVAL,
          "bad SQLite header: %s", why);

    exec_sql(path_of("foreign.db"), "CREATE TABLE t (x)");
    CHECK(probe(path_of("foreign.db"), &version, &why) == APR_EINVAL
              && strstr(why, "not a mod_auth_token registry"),
          "foreign database: %s", why);

    exec_sql(path_of("meta.db"), "CREATE TABLE meta (key, value);"
                                 "INSERT INTO meta VALUES ('application',"
                                 " 'other')");
    CHECK(probe(path_of("meta.db"), &version, &why) == APR_EINVAL
              && strstr(why, "not a mod_auth_token registry"),
          "someone else's meta table: %s", why);
}

/* The probe opens an SQLite URI: characters URIs treat specially must
 * still name the file. */
static void test_odd_names(void)
{
    const char *file = path_of("odd ?name%20#x.db"), *why;
    at_registry_t *reg;
    at_error_t err;
    int version;

    CHECK(at_registry_open(pool, "sqlite3", file, &reg, &err) == APR_SUCCESS,
          "create: %s", err.text);
    at_registry_close(reg);
    CHECK(probe(file, &version, &why) == APR_SUCCESS
              && version == at_schema_version(),
          "odd name: %s", why);
    CHECK(!exists(path_of("odd ")), "no file made of a cut name");
}

static void test_new(void)
{
    const char *why;
    int version;

    write_bytes(path_of("empty.db"), "", 0);
    CHECK(probe(path_of("empty.db"), &version, &why) == APR_SUCCESS
              && version == 0,
          "an empty file is a new registry: %s", why);

    CHECK(probe(path_of("missing.db"), &version, &why) == APR_EINVAL,
          "a missing file cannot be read");
    CHECK(!exists(path_of("missing.db")), "... and is not created");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_ours();
    test_not_ours();
    test_odd_names();
    test_new();
    {
        char cmd[200];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cleanup failed\n");
        }
    }
    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
