/* What an SQLite registry file holds, read without writing anything:
 * for `apachectl configtest`, which must not create, migrate or take over
 * the file the way opening the registry does at start. */
#ifndef AT_SCHEMA_PROBE_H
#define AT_SCHEMA_PROBE_H

#include <apr_errno.h>
#include "at_error.h"

/* The schema version this build creates and migrates to (at_schema.c,
 * where the migrations are counted). */
int at_schema_version(void);

/* Opens the SQLite file PATH read-only and reads its schema version into
 * *VERSION: 0 for a database without tables (a new registry), else the
 * version in its meta table. APR_SUCCESS when this build can use it (it
 * may still need migrating); APR_EINVAL with ERR saying why when it
 * cannot: not an SQLite database, a database that is not a
 * mod_auth_token registry, no version, or a version newer than
 * at_schema_version() (*VERSION then holds it); APR_EAGAIN when the file
 * stayed locked by a writer (nothing can be said). */
apr_status_t at_schema_probe(const char *path, int *version, at_error_t *err);

#endif /* AT_SCHEMA_PROBE_H */
