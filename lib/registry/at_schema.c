/* The registry's schema: SQLite's connection settings, recognising our
 * own database, and migrations.
 *
 * One schema for both dialects: the DDL below is written once, with
 * {INT}, {ROWID} and {SERIAL} spelled out by the dialect (SQLite's INTEGER
 * and rowid keys, PostgreSQL's BIGINT and identity columns); every other
 * statement runs unchanged on both.
 *
 * A registry is ours when its meta table says application=mod_auth_token.
 * A database with other tables (or a meta table without that row) is
 * foreign and left alone; a file that is not SQLite fails on the first
 * read with SQLite's "file is not a database". The version lives in
 * meta.schema_version; each migration takes the schema one version up and
 * runs in one transaction that holds the migration lock (SQLite: BEGIN
 * IMMEDIATE; PostgreSQL: an advisory lock) and re-reads the version first,
 * so an httpd and a token-admin opening the same new file, or several
 * nodes starting at once on one PostgreSQL, cannot both migrate it. In
 * PostgreSQL the DDL is transactional: a failed migration leaves nothing.
 * A version newer than this code knows is refused rather than guessed at.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "at_registry_private.h"
#include "at_schema_probe.h"

#define APP_MARK "mod_auth_token"

/* Version 1. Lists an application holds (grants, audiences, redirect URIs)
 * are space-joined: none of their values may contain a space. Scopes are a
 * child table so that a scope in use cannot be deleted (foreign key) and
 * "who uses this scope" is one indexed query. Times are seconds since the
 * epoch; NULL expires means "no end". */
static const char *const schema_v1[] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta (key, value) VALUES ('application', '" APP_MARK "'),"
    " ('schema_version', '0'), ('revocation_generation', '0')",
    "CREATE TABLE applications ("
    " client_id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT NOT NULL DEFAULT '',"
    " type TEXT NOT NULL CHECK (type IN ('confidential', 'public')),"
    " grants TEXT NOT NULL DEFAULT '',"
    " audiences TEXT NOT NULL DEFAULT '',"
    " redirect_uris TEXT NOT NULL DEFAULT '',"
    " access_lifetime {INT} NOT NULL DEFAULT 0,"
    " refresh_lifetime {INT} NOT NULL DEFAULT 0,"
    " offline_client_credentials {INT} NOT NULL DEFAULT 0,"
    " enabled {INT} NOT NULL DEFAULT 1,"
    " created {INT} NOT NULL,"
    " updated {INT} NOT NULL)",
    "CREATE TABLE scopes ("
    " name TEXT PRIMARY KEY,"
    " description TEXT NOT NULL DEFAULT '',"
    " builtin {INT} NOT NULL DEFAULT 0)",
    "INSERT INTO scopes (name, description, builtin) VALUES"
    " ('offline_access', 'Refresh tokens (offline access)', 1)",
    "CREATE TABLE app_scopes ("
    " client_id TEXT NOT NULL REFERENCES applications (client_id)"
    "   ON DELETE CASCADE,"
    " scope TEXT NOT NULL REFERENCES scopes (name),"
    " PRIMARY KEY (client_id, scope))",
    "CREATE INDEX app_scopes_scope ON app_scopes (scope)",
    "CREATE TABLE app_secrets ("
    " id {ROWID},"
    " client_id TEXT NOT NULL REFERENCES applications (client_id)"
    "   ON DELETE CASCADE,"
    " hash TEXT NOT NULL,"
    " created {INT} NOT NULL,"
    " expires {INT},"
    " last_used {INT})",
    "CREATE INDEX app_secrets_client ON app_secrets (client_id)",
    "CREATE INDEX app_secrets_expires ON app_secrets (expires)",
    "CREATE TABLE refresh_families ("
    " id TEXT PRIMARY KEY,"
    " client_id TEXT NOT NULL REFERENCES applications (client_id)"
    "   ON DELETE CASCADE,"
    " subject TEXT NOT NULL,"
    " scope TEXT NOT NULL DEFAULT '',"
    " created {INT} NOT NULL,"
    " revoked {INT})",
    "CREATE INDEX refresh_families_client ON refresh_families (client_id)",
    "CREATE TABLE refresh_tokens ("
    " hash TEXT PRIMARY KEY,"
    " family_id TEXT NOT NULL REFERENCES refresh_families (id)"
    "   ON DELETE CASCADE,"
    " parent TEXT,"
    " created {INT} NOT NULL,"
    " expires {INT} NOT NULL,"
    " used_at {INT})",
    "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
    "CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires)",
    /* No foreign key to applications: a deleted application's tokens stay
     * revoked until they expire. */
    "CREATE TABLE issued_jtis ("
    " jti TEXT PRIMARY KEY,"
    " client_id TEXT NOT NULL,"
    " exp {INT} NOT NULL,"
    " revoked {INT})",
    "CREATE INDEX issued_jtis_exp ON issued_jtis (exp)",
    "CREATE INDEX issued_jtis_client ON issued_jtis (client_id)",
    "CREATE INDEX issued_jtis_revoked ON issued_jtis (revoked)"
    " WHERE revoked IS NOT NULL",
    "CREATE TABLE revoked_clients ("
    " client_id TEXT PRIMARY KEY,"
    " before {INT} NOT NULL)",
    "CREATE TABLE audit ("
    " id {SERIAL},"
    " at {INT} NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX audit_target ON audit (target)",
    "CREATE INDEX audit_actor ON audit (actor)",
    NULL
};

/* Version 2: when each jti was recorded (its issue time, to the second),
 * so that "revoke every token of this client until now" can name the
 * tokens issued in the current second by jti and leave the per-client
 * cut-off at the second itself: a token issued right after the revocation,
 * in the same second, stays valid. */
static const char *const schema_v2[] = {
    "ALTER TABLE issued_jtis ADD COLUMN recorded {INT}",
    "DROP INDEX issued_jtis_client",
    "CREATE INDEX issued_jtis_client ON issued_jtis (client_id, recorded)",
    NULL
};

/* Version 3: delegated authorization (a person lets an application act
 * for them). Authorization codes (stored only as hashes, bound to the
 * client, redirect URI, person, scopes, PKCE challenge and nonce; grant_id
 * names what the code issued: the refresh family of that id and the jtis
 * recorded with it), remembered consents per person and application, the
 * identity claims last seen for a person (userinfo), first-party
 * applications that skip the consent page, and the person behind each
 * issued jti. openid is built in like offline_access. Plain SQL that
 * SQLite and PostgreSQL both run, integer columns as the dialect's {INT}. */
static const char *const schema_v3[] = {
    "ALTER TABLE applications ADD COLUMN skip_consent {INT} NOT NULL"
    " DEFAULT 0",
    "INSERT INTO scopes (name, description, builtin)"
    " SELECT 'openid', 'Sign in with your identity (OpenID Connect)', 1"
    " WHERE NOT EXISTS (SELECT 1 FROM scopes WHERE name = 'openid')",
    "UPDATE scopes SET builtin = 1 WHERE name = 'openid'",
    "CREATE TABLE auth_codes ("
    " hash TEXT PRIMARY KEY,"
    " client_id TEXT NOT NULL REFERENCES applications (client_id)"
    "   ON DELETE CASCADE,"
    " subject TEXT NOT NULL,"
    " redirect_uri TEXT NOT NULL,"
    " redirect_sent {INT} NOT NULL,"
    " scope TEXT NOT NULL DEFAULT '',"
    " challenge TEXT,"
    " nonce TEXT,"
    " claims TEXT,"
    " auth_time {INT} NOT NULL,"
    " grant_id TEXT NOT NULL,"
    " created {INT} NOT NULL,"
    " expires {INT} NOT NULL,"
    " used_at {INT})",
    "CREATE INDEX auth_codes_expires ON auth_codes (expires)",
    "CREATE TABLE consents ("
    " subject TEXT NOT NULL,"
    " client_id TEXT NOT NULL REFERENCES applications (client_id)"
    "   ON DELETE CASCADE,"
    " scope TEXT NOT NULL DEFAULT '',"
    " created {INT} NOT NULL,"
    " updated {INT} NOT NULL,"
    " PRIMARY KEY (subject, client_id))",
    "CREATE INDEX consents_client ON consents (client_id)",
    "CREATE TABLE identities ("
    " subject TEXT PRIMARY KEY,"
    " claims TEXT NOT NULL,"
    " updated {INT} NOT NULL)",
    /* No index of their own: every token endpoint request writes a jti,
     * and the rare revocations by person or by code find their rows
     * through the client's index. */
    "ALTER TABLE issued_jtis ADD COLUMN subject TEXT",
    "ALTER TABLE issued_jtis ADD COLUMN grant_id TEXT",
    NULL
};

/* migrations[v] takes the schema from version v to v + 1. */
static const char *const *const migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* For at_schema_probe (at_schema_probe.h). */
int at_schema_version(void)
{
    return SCHEMA_VERSION;
}

/* Rewords the first failed read of a file. SQLite says "file is not a
 * database" (or "malformed") for a file that is not, or no longer, an
 * SQLite database; a lock or a permission problem is reported as it is. */
static apr_status_t not_sqlite(at_registry_t *reg, apr_status_t rv,
                               at_error_t *err)
{
    char why[sizeof(err->text)];

    if (err == NULL || rv == APR_TIMEUP || rv == APR_EACCES) {
        return rv;
    }
    apr_cpystrn(why, err->text, sizeof(why));
    if (strstr(why, "not a database") || strstr(why, "malformed")
        || strstr(why, "corrupt")) {
        at_error_set(err, "registry %s is not a usable SQLite database "
                     "(corrupt, or another kind of file): %s", reg->where,
                     why);
    }
    else if (strstr(why, "unable to open")) {
        at_error_set(err, "registry %s cannot be opened (check the "
                     "permissions of the file, its -wal and -shm files and "
                     "its directory): %s", reg->where, why);
    }
    return APR_EGENERAL;
}

/* SQLite connection settings: WAL so that readers (every token check)
 * never wait for the writer; synchronous=NORMAL, which in WAL mode keeps
 * the database consistent across a crash and costs no fsync per commit
 * (a power loss may forget the last commits, never corrupt); foreign keys
 * for the cascades above. */
apr_status_t at_reg_sqlite_setup(at_registry_t *reg, apr_pool_t *p,
                                 at_error_t *err)
{
    apr_array_header_t *rows;
    const char *mode;
    apr_status_t rv;

    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "PRAGMA busy_timeout = "
                       APR_STRINGIFY(AT_REGISTRY_BUSY_MS));
    if (rv == APR_SUCCESS) {
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "PRAGMA foreign_keys = ON");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The first real read: a file that is not SQLite fails here. */
    rv = at_reg_value(reg, p, err, &mode, "PRAGMA journal_mode");
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        return not_sqlite(reg, rv, err);
    }
    if (mode == NULL || strcasecmp(mode, "wal") != 0) {
        if (reg->readonly) {
            at_error_set(err, "registry %s is read-only and not yet in WAL "
                         "mode", reg->where);
            return APR_EACCES;
        }
        rv = at_reg_value(reg, p, err, &mode, "PRAGMA journal_mode = WAL");
        if (rv != APR_SUCCESS || mode == NULL
            || strcasecmp(mode, "wal") != 0) {
            if (rv == APR_SUCCESS || rv == APR_NOTFOUND) {
                at_error_set(err, "registry %s cannot be switched to WAL "
                             "mode", reg->where);
                rv = APR_EGENERAL;
            }
            return rv;
        }
    }
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "PRAGMA synchronous = NORMAL");
    /* Every issued token is a commit: an automatic checkpoint (pages
     * copied back and an fsync, on the committing request's thread) every
     * 4000 WAL pages instead of SQLite's 1000 costs a quarter of the
     * fsyncs, and a page written many times in between (the tails of the
     * jti table and its indexes) is copied back once. */
    if (rv == APR_SUCCESS) {
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "PRAGMA wal_autocheckpoint = 4000");
    }
    /* After a burst of writes the WAL file shrinks back to this size (about
     * what 4000 pages take) at the next checkpoint instead of keeping its
     * largest size forever. */
    if (rv == APR_SUCCESS) {
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "PRAGMA journal_size_limit = 16777216");
    }
    return rv;
}

/* What is in the database: -1 foreign, 0 empty, else our schema
 * version. */
static apr_status_t read_version(at_registry_t *reg, apr_pool_t *p,
                                 int *version, at_error_t *err)
{
    apr_array_header_t *rows;
    const char *mark, *ver;
    apr_status_t rv;
    int sqlite = !reg->dialect->networked;

    *version = -1;
    rv = at_reg_select(reg, p, err, &rows, NULL, reg->dialect->tables_sql);
    if (rv != APR_SUCCESS) {
        return sqlite ? not_sqlite(reg, rv, err) : rv;
    }
    if (rows->nelts == 0) {
        *version = 0;
        return APR_SUCCESS;
    }
    rv = at_reg_value(reg, p, err, &mark,
                      "SELECT value FROM meta WHERE key = 'application'");
    if (rv == APR_ECONNREFUSED || rv == APR_TIMEUP) {
        return rv;
    }
    if (rv != APR_SUCCESS || mark == NULL || strcmp(mark, APP_MARK) != 0) {
        at_error_set(err, "registry %s holds a database that is not a "
                     "mod_auth_token registry; refusing to touch it",
                     reg->where);
        return APR_EINVAL;
    }
    rv = at_reg_value(reg, p, err, &ver,
                      "SELECT value FROM meta WHERE key = 'schema_version'");
    if (rv != APR_SUCCESS || ver == NULL) {
        at_error_set(err, "registry %s has no schema version", reg->where);
        return APR_EINVAL;
    }
    *version = (int)at_reg_atoll(ver, -1);
    return APR_SUCCESS;
}

static apr_status_t migrate(at_registry_t *reg, apr_pool_t *p, int from,
                            at_error_t *err)
{
    const char *const *step;
    apr_status_t rv = APR_SUCCESS;
    int v, nrows;

    for (v = from; v < SCHEMA_VERSION && rv == APR_SUCCESS; v++) {
        for (step = migrations[v]; *step && rv == APR_SUCCESS; step++) {
            int rc = apr_dbd_query(reg->driver, reg->handle, &nrows,
                                   at_reg_render(p, reg->dialect, *step));
            if (rc != 0) {
                char why[sizeof(err->text)];

                reg->dialect->failure(reg, rc, err);
                apr_cpystrn(why, err->text, sizeof(why));
                at_error_set(err, "migration to schema %d failed: %s",
                             v + 1, why);
                rv = APR_EGENERAL;
            }
        }
        if (rv == APR_SUCCESS) {
            rv = at_reg_exec(reg, p, err, NULL,
                             "UPDATE meta SET value = %s"
                             " WHERE key = 'schema_version'",
                             apr_itoa(p, v + 1));
        }
    }
    return rv;
}

static apr_status_t prepare_once(at_registry_t *reg, apr_pool_t *p,
                                 at_error_t *err)
{
    apr_status_t rv;
    int version;

    rv = reg->dialect->setup(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = read_version(reg, p, &version, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (version > SCHEMA_VERSION) {
        at_error_set(err, "registry %s has schema version %d, newer than "
                     "this build understands (%d): upgrade mod_auth_token",
                     reg->where, version, SCHEMA_VERSION);
        return APR_EINVAL;
    }
    if (version == SCHEMA_VERSION) {
        return APR_SUCCESS;
    }
    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (reg->dialect->migrate_sql) {
        apr_array_header_t *rows;

        rv = at_reg_select(reg, p, err, &rows, NULL,
                           reg->dialect->migrate_sql);
    }
    /* Another process may have migrated while we waited for the lock. */
    if (rv == APR_SUCCESS) {
        rv = read_version(reg, p, &version, err);
    }
    if (rv == APR_SUCCESS && version < SCHEMA_VERSION) {
        rv = migrate(reg, p, version, err);
    }
    return at_reg_end(reg, rv, 0, err);
}

/* Another process may create or migrate the schema while this one looks
 * at it: a statement then fails with "database schema has changed", and
 * inside the migration transaction that cannot be retried statement by
 * statement. Several processes opening a new file at once also get "busy"
 * from SQLite without its busy handler for some first steps (the switch to
 * WAL, a read while another connection recovers the WAL). In PostgreSQL a
 * node waiting for another's migration gives up the lock wait after the
 * statement timeout. Every step here is idempotent, so the whole check is
 * retried instead, for a bounded time; by then the other process is done,
 * and this one finds the current version. */
apr_status_t at_schema_prepare(at_registry_t *reg, apr_pool_t *p,
                               at_error_t *err)
{
    apr_time_t deadline =
        apr_time_now() + apr_time_from_sec(AT_REGISTRY_OPEN_RETRY_S);
    apr_status_t rv;
    int attempt;

    for (attempt = 0;; attempt++) {
        rv = prepare_once(reg, p, err);
        if (rv == APR_TIMEUP && apr_time_now() < deadline) {
            apr_sleep(apr_time_from_msec(50));
            continue;
        }
        if (rv == APR_SUCCESS || attempt >= 3 || err == NULL
            || strstr(err->text, "schema has changed") == NULL) {
            return rv;
        }
    }
}
