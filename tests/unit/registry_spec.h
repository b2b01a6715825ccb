/* Which database the registry tests run against: SQLite files in a
 * temporary directory by default, or PostgreSQL when AT_TEST_REGISTRY is
 * "pgsql:CONNINFO" (tests/run starts a private server and runs the
 * registry tests a second time so). Each registry a test names is then a
 * schema of its own in that database, made afresh, so that the tests see
 * the same empty registries as with files. */
#ifndef REGISTRY_SPEC_H
#define REGISTRY_SPEC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "at_registry.h"
#include "unit.h"

static struct {
    apr_pool_t *pool;
    const char *driver;      /* "sqlite3" or "pgsql" */
    const char *base;        /* pgsql: the connection string */
    const char *dir;         /* sqlite3: the temporary directory */
    apr_hash_t *made;        /* pgsql: schemas made by this process */
} treg;

static inline int treg_pg(void)
{
    return strcmp(treg.driver, "pgsql") == 0;
}

/* Runs SQL (several statements allowed) with a connection of its own to
 * PARAMS; 0 on success. */
static inline int treg_raw(const char *params, const char *sql)
{
    const apr_dbd_driver_t *drv;
    apr_dbd_t *h;
    const char *e = NULL;
    int nrows = 0, rc;

    if (apr_dbd_get_driver(treg.pool, treg.driver, &drv) != APR_SUCCESS
        || apr_dbd_open_ex(drv, treg.pool, params, &h, &e) != APR_SUCCESS) {
        fprintf(stderr, "treg_raw: cannot connect: %s\n", e ? e : "?");
        return -1;
    }
    rc = apr_dbd_query(drv, h, &nrows, sql);
    if (rc != 0) {
        fprintf(stderr, "treg_raw: %s\n", apr_dbd_error(drv, h, rc));
    }
    apr_dbd_close(drv, h);
    return rc;
}

static inline void treg_init(apr_pool_t *p)
{
    const char *spec = getenv("AT_TEST_REGISTRY");

    treg.pool = p;
    treg.made = apr_hash_make(p);
    apr_dbd_init(p);
    if (spec && strncmp(spec, "pgsql:", 6) == 0) {
        treg.driver = "pgsql";
        treg.base = spec + 6;
        printf("registry: PostgreSQL\n");
        return;
    }
    treg.driver = "sqlite3";
    treg.dir = unit_tmpdir();
}

static inline const char *treg_schema(const char *name)
{
    const char *s = apr_psprintf(treg.pool, "t%ld_%s", (long)getpid(), name);
    char *c;

    for (c = (char *)s; *c; c++) {
        if (!apr_isalnum(*c)) {
            *c = '_';
        }
    }
    return s;
}

/* The parameters of the registry NAME: a file, or a fresh schema (made
 * on first use by this process). */
static inline const char *treg_params(const char *name)
{
    const char *schema, *made;

    if (!treg_pg()) {
        return apr_pstrcat(treg.pool, treg.dir, "/", name, NULL);
    }
    made = apr_hash_get(treg.made, name, APR_HASH_KEY_STRING);
    if (made) {
        return made;
    }
    schema = treg_schema(name);
    if (treg_raw(treg.base, apr_psprintf(treg.pool,
                                         "DROP SCHEMA IF EXISTS %s CASCADE;"
                                         " CREATE SCHEMA %s", schema,
                                         schema)) != 0) {
        exit(2);
    }
    made = apr_psprintf(treg.pool, "%s options='-c search_path=%s'",
                        treg.base, schema);
    apr_hash_set(treg.made, apr_pstrdup(treg.pool, name),
                 APR_HASH_KEY_STRING, made);
    return made;
}

static inline apr_status_t treg_open(apr_pool_t *p, const char *name,
                              at_registry_t **reg, at_error_t *err)
{
    return at_registry_open(p, treg.driver, treg_params(name), reg, err);
}

/* Raw SQL in the registry NAME. */
static inline int treg_sql(const char *name, const char *sql)
{
    return treg_raw(treg_params(name), sql);
}

static inline void treg_cleanup(void)
{
    apr_hash_index_t *hi;

    /* Files go with unit_tmpdir() at exit. */
    if (!treg_pg()) {
        return;
    }
    for (hi = apr_hash_first(treg.pool, treg.made); hi;
         hi = apr_hash_next(hi)) {
        const void *name;

        apr_hash_this(hi, &name, NULL, NULL);
        treg_raw(treg.base, apr_psprintf(treg.pool,
                                         "DROP SCHEMA IF EXISTS %s CASCADE",
                                         treg_schema(name)));
    }
}

#endif /* REGISTRY_SPEC_H */
