/* The registry against temporary SQLite files, or against PostgreSQL
 * when AT_TEST_REGISTRY says so (registry_spec.h): every function, refused
 * input leaving nothing behind, foreign/corrupt/newer databases, a held
 * lock, and N processes racing to rotate one refresh token. tests/run runs
 * it both ways.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_dbd.h>

#include "unit.h"
#include "registry_spec.h"
#include "at_registry.h"
#include "at_secret.h"

static apr_pool_t *pool;

static const char *path_of(const char *name)
{
    return apr_pstrcat(pool, treg.dir, "/", name, NULL);
}

static apr_array_header_t *list_of(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(pool, 2, sizeof(const char *));
    if (a) {
        APR_ARRAY_PUSH(l, const char *) = a;
    }
    if (b) {
        APR_ARRAY_PUSH(l, const char *) = b;
    }
    return l;
}

static at_app_t *new_app(const char *name)
{
    at_app_t *app = apr_pcalloc(pool, sizeof(*app));
    app->name = name;
    app->type = "confidential";
    app->grants = list_of("client_credentials", "refresh_token");
    app->scopes = list_of(NULL, NULL);
    app->audiences = list_of("orders-api", NULL);
    app->redirect_uris = list_of(NULL, NULL);
    return app;
}

/* Runs raw SQL in the registry NAME (for setting up bad databases). */
#define raw_sql(name, sql) treg_sql(name, sql)

static int audit_count(at_registry_t *reg)
{
    apr_array_header_t *rows;
    at_error_t err;
    int total = -1;
    at_audit_list(reg, pool, NULL, NULL, 0, 1, &rows, &total, &err);
    return total;
}

/* What only a file can get wrong. */
static void test_open_file(void)
{
    at_registry_t *reg;
    at_error_t err;
    apr_status_t rv;
    struct stat st;
    FILE *f;

    /* Missing file and missing last directory are created. */
    rv = at_registry_open(pool, "sqlite3", path_of("new/reg.db"), &reg, &err);
    CHECK(rv == APR_SUCCESS, "open new: %s", err.text);
    CHECK(stat(path_of("new/reg.db"), &st) == 0, "file created");
    at_registry_close(reg);
    rv = at_registry_open(pool, "sqlite3", path_of("new/reg.db"), &reg, &err);
    CHECK(rv == APR_SUCCESS, "reopen: %s", err.text);
    at_registry_close(reg);

    /* Two missing directories: refused, nothing created. */
    rv = at_registry_open(pool, "sqlite3", path_of("a/b/reg.db"), &reg, &err);
    CHECK(rv != APR_SUCCESS && strstr(err.text, "cannot be created"),
          "deep path: %s", err.text);

    /* Not SQLite at all. */
    f = fopen(path_of("garbage.db"), "w");
    fputs("this is not an SQLite database, just some text that is long "
          "enough to look like a header........................\n", f);
    fclose(f);
    rv = at_registry_open(pool, "sqlite3", path_of("garbage.db"), &reg, &err);
    CHECK(rv != APR_SUCCESS && strstr(err.text, "not a usable SQLite"),
          "garbage: %d %s", rv, err.text);

    /* A directory in place of the file. */
    rv = at_registry_open(pool, "sqlite3", treg.dir, &reg, &err);
    CHECK(rv != APR_SUCCESS && strstr(err.text, "regular file"),
          "directory: %s", err.text);
}

/* What only a server connection can get wrong: a malformed connection
 * string, a server that is not there, a wrong password. The password is
 * in no message. */
static void test_open_server(void)
{
    const char *secret = "Zq9-not-the-password-Zq9";
    const char *params;
    at_registry_t *reg;
    at_error_t err;
    apr_status_t rv;
    apr_time_t start;

    params = apr_pstrcat(pool, treg.base, " sslmode", NULL);
    rv = at_registry_open(pool, "pgsql", params, &reg, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "keyword=value"),
          "malformed: %d %s", rv, err.text);
    params = apr_pstrcat(pool, "password=", secret, " nosuchkey=1", NULL);
    rv = at_registry_open(pool, "pgsql", params, &reg, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "nosuchkey")
              && !strstr(err.text, secret), "unknown keyword: %s", err.text);
    params = apr_pstrcat(pool, "password='", secret, " dbname=x", NULL);
    rv = at_registry_open(pool, "pgsql", params, &reg, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "quote")
              && !strstr(err.text, secret), "open quote: %s", err.text);
    /* Nothing listens on port 1: refused at once, reported as
     * unreachable. */
    start = apr_time_now();
    params = apr_pstrcat(pool, "host=127.0.0.1 port=1 dbname=x user=y "
                         "password=", secret, NULL);
    rv = at_registry_open(pool, "pgsql", params, &reg, &err);
    CHECK(rv == APR_ECONNREFUSED && strstr(err.text, "127.0.0.1")
              && !strstr(err.text, secret), "no server: %d %s", rv,
          err.text);
    CHECK(apr_time_now() - start < apr_time_from_sec(4), "refused quickly");
    /* The right server, a wrong password (the operator's later values
     * win over earlier ones, as in libpq). */
    params = apr_pstrcat(pool, treg.base, " password=", secret, NULL);
    rv = at_registry_open(pool, "pgsql", params, &reg, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "twice"), "given twice: %s",
          err.text);
    {
        /* The base string with its password replaced. */
        char *b = apr_pstrdup(pool, treg.base), *pw = strstr(b, "password=");
        if (pw) {
            char *end = strchr(pw, ' ');
            memmove(pw, end ? end + 1 : pw + strlen(pw),
                    strlen(end ? end + 1 : pw + strlen(pw)) + 1);
        }
        params = apr_pstrcat(pool, b, " password=", secret, NULL);
        rv = at_registry_open(pool, "pgsql", params, &reg, &err);
        CHECK(rv == APR_ECONNREFUSED && strstr(err.text, "password")
                  && !strstr(err.text, secret),
              "wrong password: %d %s", rv, err.text);
    }
    CHECK(strcmp(at_registry_describe(pool, "pgsql",
                                      "host=db port=5 dbname=r user=u "
                                      "password='a b' sslpassword=c"),
                 "pgsql:host=db port=5 dbname=r user=u") == 0,
          "described without secrets: %s",
          at_registry_describe(pool, "pgsql", "host=db password=x"));
}

static void test_open(void)
{
    at_registry_t *reg;
    at_error_t err;
    apr_status_t rv;

    if (treg_pg()) {
        test_open_server();
    }
    else {
        test_open_file();
    }

    /* A database of someone else's. */
    CHECK(raw_sql("foreign",
                  "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
              == 0, "foreign setup");
    rv = treg_open(pool, "foreign", &reg, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "not a mod_auth_token"),
          "foreign: %s", err.text);
    CHECK(raw_sql("foreign",
                  "INSERT INTO users (id, name) VALUES (1, 'x')") == 0,
          "foreign table untouched");

    /* A version 1 registry is migrated to the current version. */
    rv = treg_open(pool, "v1", &reg, &err);
    CHECK(rv == APR_SUCCESS, "v1 setup: %s", err.text);
    at_registry_close(reg);
    CHECK(raw_sql("v1",
                  /* back to version 2 */
                  "DROP TABLE auth_codes; DROP TABLE consents;"
                  " DROP TABLE identities;"
                  " ALTER TABLE issued_jtis DROP COLUMN subject;"
                  " ALTER TABLE issued_jtis DROP COLUMN grant_id;"
                  " ALTER TABLE applications DROP COLUMN skip_consent;"
                  " DELETE FROM scopes WHERE name = 'openid';"
                  /* and to version 1 */
                  " DROP INDEX issued_jtis_client;"
                  " ALTER TABLE issued_jtis DROP COLUMN recorded;"
                  " CREATE INDEX issued_jtis_client ON issued_jtis"
                  " (client_id);"
                  " UPDATE meta SET value = '1'"
                  " WHERE key = 'schema_version';") == 0, "make v1");
    CHECK(raw_sql("v1", "INSERT INTO issued_jtis (jti,"
                  " client_id, exp) VALUES ('old', 'c', 1)") == 0,
          "v1 row");
    rv = treg_open(pool, "v1", &reg, &err);
    CHECK(rv == APR_SUCCESS, "migrate v1: %s", err.text);
    if (rv == APR_SUCCESS) {
        CHECK(at_jti_record(reg, pool, "new", "c", 9999999999LL, &err)
                  == APR_SUCCESS, "v2 column after migration: %s", err.text);
        CHECK(at_jti_revoke(reg, pool, "old", "x", &err) == APR_SUCCESS,
              "v1 row kept: %s", err.text);
        at_registry_close(reg);
    }
    /* Migrated once: opening again finds the current version. */
    rv = treg_open(pool, "v1", &reg, &err);
    CHECK(rv == APR_SUCCESS, "reopen migrated: %s", err.text);
    if (rv == APR_SUCCESS) {
        at_registry_close(reg);
    }

    /* A newer schema is refused. */
    rv = treg_open(pool, "newer", &reg, &err);
    CHECK(rv == APR_SUCCESS, "newer setup: %s", err.text);
    at_registry_close(reg);
    raw_sql("newer",
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    rv = treg_open(pool, "newer", &reg, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "newer"), "newer: %s",
          err.text);

    rv = at_registry_open(pool, "nosuchdriver", "x", &reg, &err);
    CHECK(rv != APR_SUCCESS && strstr(err.text, "not supported"),
          "driver: %s", err.text);
}

static void test_scopes(at_registry_t *reg)
{
    apr_array_header_t *scopes, *users;
    at_error_t err;
    apr_status_t rv;
    int before = audit_count(reg);

    rv = at_scope_add(reg, pool, "orders:read", "Read orders", "alice", &err);
    CHECK(rv == APR_SUCCESS, "scope add: %s", err.text);
    rv = at_scope_add(reg, pool, "orders:write", NULL, "alice", &err);
    CHECK(rv == APR_SUCCESS, "scope add 2: %s", err.text);
    rv = at_scope_add(reg, pool, "orders:read", "again", "alice", &err);
    CHECK(rv == APR_EEXIST, "duplicate scope: %d", rv);
    CHECK(at_scope_add(reg, pool, "", NULL, "a", &err) == APR_EINVAL,
          "empty scope");
    CHECK(at_scope_add(reg, pool, "has space", NULL, "a", &err) == APR_EINVAL
              && strstr(err.text, "RFC 6749"), "space: %s", err.text);
    CHECK(at_scope_add(reg, pool, "quo\"te", NULL, "a", &err) == APR_EINVAL,
          "quote");
    CHECK(at_scope_add(reg, pool, "back\\slash", NULL, "a", &err)
              == APR_EINVAL, "backslash");
    CHECK(at_scope_add(reg, pool, "caf\xc3\xa9", NULL, "a", &err)
              == APR_EINVAL, "non-ASCII");
    CHECK(at_scope_add(reg, pool, "ok!#[]~", NULL, "a", &err) == APR_SUCCESS,
          "all NQCHAR classes: %s", err.text);
    CHECK(audit_count(reg) == before + 3, "3 audit rows, got %d",
          audit_count(reg) - before);

    rv = at_scope_update(reg, pool, "orders:write", "Write orders", "bob",
                         &err);
    CHECK(rv == APR_SUCCESS, "scope update: %s", err.text);
    CHECK(at_scope_update(reg, pool, "nope", "x", "bob", &err)
              == APR_NOTFOUND, "update unknown");

    rv = at_scope_list(reg, pool, &scopes, &err);
    /* offline_access and openid are built in. */
    CHECK(rv == APR_SUCCESS && scopes->nelts == 5, "list: %d",
          scopes->nelts);
    if (rv == APR_SUCCESS && scopes->nelts == 5) {
        at_scope_t *s = APR_ARRAY_IDX(scopes, 0, at_scope_t *);
        CHECK(strcmp(s->name, "offline_access") == 0 && s->builtin,
              "builtin first: %s", s->name);
        s = APR_ARRAY_IDX(scopes, 4, at_scope_t *);
        CHECK(strcmp(s->name, "orders:write") == 0
                  && strcmp(s->description, "Write orders") == 0,
              "described: %s", s->description);
    }
    rv = at_scope_delete(reg, pool, "offline_access", "a", &users, &err);
    CHECK(rv == APR_EINVAL && strstr(err.text, "built in"), "builtin: %s",
          err.text);
    CHECK(at_scope_delete(reg, pool, "nope", "a", &users, &err)
              == APR_NOTFOUND, "delete unknown");
    CHECK(at_scope_delete(reg, pool, "ok!#[]~", "a", &users, &err)
              == APR_SUCCESS, "delete: %s", err.text);
}

static void test_apps(at_registry_t *reg, const char **cid,
                      const char **secret)
{
    at_app_t *app, *got;
    apr_array_header_t *apps, *users;
    const char *sec = NULL, *sec2 = NULL;
    at_error_t err;
    apr_status_t rv;
    int total, before;

    app = new_app("orders-service");
    app->scopes = list_of("orders:read", "offline_access");
    app->description = "The orders service";
    app->access_lifetime = 300;
    rv = at_app_create(reg, pool, app, "alice", &sec, &err);
    CHECK(rv == APR_SUCCESS, "create: %s", err.text);
    CHECK(app->client_id && strlen(app->client_id) == 22, "client_id: %s",
          app->client_id ? app->client_id : "(null)");
    CHECK(sec && strlen(sec) == 43, "secret length");
    *cid = app->client_id;
    *secret = sec;

    rv = at_app_get(reg, pool, app->client_id, &got, &err);
    CHECK(rv == APR_SUCCESS, "get: %s", err.text);
    if (rv == APR_SUCCESS) {
        CHECK(strcmp(got->name, "orders-service") == 0, "name");
        CHECK(got->scopes->nelts == 2
                  && strcmp(APR_ARRAY_IDX(got->scopes, 0, const char *),
                            "offline_access") == 0, "scopes sorted");
        CHECK(got->grants->nelts == 2, "grants");
        CHECK(got->access_lifetime == 300 && got->refresh_lifetime == 0,
              "lifetimes");
        CHECK(got->enabled == 1 && got->created > 0, "enabled, created");
        CHECK(strcmp(got->description, "The orders service") == 0, "desc");
    }
    CHECK(at_app_get(reg, pool, "nope", &got, &err) == APR_NOTFOUND,
          "get unknown");

    /* Public application: no secret. */
    app = new_app("spa");
    app->type = "public";
    app->grants = list_of("authorization_code", "refresh_token");
    app->redirect_uris = list_of("https://app.example.com/cb",
                                 "http://127.0.0.1:8080/cb");
    sec2 = "x";
    rv = at_app_create(reg, pool, app, "alice", &sec2, &err);
    CHECK(rv == APR_SUCCESS && sec2 == NULL, "public: %s", err.text);

    /* Loopback http in its three spellings, any case of scheme and host. */
    app = new_app("native");
    app->redirect_uris = list_of("HTTP://LOCALHOST:8123/cb",
                                 "http://[::1]:9/cb");
    rv = at_app_create(reg, pool, app, "alice", &sec2, &err);
    CHECK(rv == APR_SUCCESS, "loopback redirect URIs: %s", err.text);
    CHECK(at_app_delete(reg, pool, app->client_id, "alice", &err)
              == APR_SUCCESS, "delete native");

    /* Refused input: nothing written (no app, no audit row). */
    before = audit_count(reg);
#define REFUSE(mod, expect, want)                                          \
    do {                                                                   \
        at_app_t *a = new_app("bad-app");                                  \
        mod;                                                               \
        rv = at_app_create(reg, pool, a, "alice", &sec2, &err);            \
        CHECK(rv == (expect) && strstr(err.text, want), "%s: %d %s",       \
              #mod, rv, err.text);                                         \
    } while (0)
    REFUSE(a->name = "", APR_EINVAL, "name must not be empty");
    REFUSE(a->name = "   ", APR_EINVAL, "name must not be empty");
    REFUSE(a->name = "orders-service", APR_EEXIST, "already exists");
    REFUSE(a->name = "tab\there", APR_EINVAL, "control");
    REFUSE(a->type = "secret", APR_EINVAL, "type");
    REFUSE(a->grants = list_of("password", NULL), APR_EINVAL, "grant");
    REFUSE(a->grants = list_of("refresh_token", "refresh_token"), APR_EINVAL,
           "twice");
    REFUSE(a->scopes = list_of("orders:read", "nosuch"), APR_EINVAL,
           "scope \"nosuch\" does not exist");
    REFUSE(a->scopes = list_of("bad scope", NULL), APR_EINVAL, "RFC 6749");
    REFUSE(a->audiences = list_of("", NULL), APR_EINVAL, "audience");
    REFUSE(a->audiences = list_of("a b", NULL), APR_EINVAL, "audience");
    REFUSE(a->redirect_uris = list_of("http://example.com/cb", NULL),
           APR_EINVAL, "redirect URI must use https");
    REFUSE(a->redirect_uris = list_of("https://example.com/cb#frag", NULL),
           APR_EINVAL, "fragment");
    REFUSE(a->redirect_uris = list_of("/relative/cb", NULL), APR_EINVAL,
           "absolute");
    REFUSE(a->redirect_uris = list_of("https:no-slashes", NULL), APR_EINVAL,
           "absolute");
    REFUSE(a->redirect_uris = list_of("ftp://example.com/", NULL),
           APR_EINVAL, "https");
    REFUSE(a->redirect_uris = list_of("http://127.0.0.2/", NULL), APR_EINVAL,
           "https");
    REFUSE(a->redirect_uris = list_of("https://user:pw@example.com/", NULL),
           APR_EINVAL, "user information");
    REFUSE(a->redirect_uris = list_of("http://localhost.evil.example/", NULL),
           APR_EINVAL, "https");
    REFUSE(a->redirect_uris = list_of("http://127.0.0.1.nip.io/", NULL),
           APR_EINVAL, "https");
    REFUSE(a->redirect_uris = list_of("https://exa mple.com/", NULL),
           APR_EINVAL, "spaces");
    REFUSE(a->redirect_uris = list_of("https:///path", NULL), APR_EINVAL,
           "absolute");
    REFUSE(a->redirect_uris = list_of("https://a.example/x",
                                      "https://a.example/x"),
           APR_EINVAL, "twice");
    REFUSE(a->access_lifetime = -1, APR_EINVAL, "access lifetime");
    REFUSE(a->access_lifetime = 10000000, APR_EINVAL, "access lifetime");
    REFUSE(a->refresh_lifetime = -5, APR_EINVAL, "refresh lifetime");
    REFUSE((a->type = "public", a->grants = list_of("client_credentials",
                                                    NULL)),
           APR_EINVAL, "confidential");
    REFUSE((a->grants = list_of("client_credentials", NULL),
            a->offline_client_credentials = 1), APR_EINVAL, "offline");
    REFUSE(a->client_id = "bad id", APR_EINVAL, "client_id");
    CHECK(audit_count(reg) == before, "refused input wrote audit rows");
    rv = at_app_list(reg, pool, NULL, 0, 0, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS && total == 2 && apps->nelts == 2,
          "list after refusals: %d", total);
    CHECK(strcmp(APR_ARRAY_IDX(apps, 0, at_app_t *)->name, "orders-service")
              == 0, "ordered by name");

    rv = at_app_list(reg, pool, "spa", 0, 0, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS && total == 1 && apps->nelts == 1, "search");
    rv = at_app_list(reg, pool, NULL, 1, 1, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS && total == 2 && apps->nelts == 1
              && strcmp(APR_ARRAY_IDX(apps, 0, at_app_t *)->name, "spa") == 0,
          "paging");

    /* Update: replaces fields; unknown scope leaves everything as it was. */
    at_app_get(reg, pool, *cid, &got, &err);
    got->scopes = list_of("orders:read", "orders:write");
    got->description = "changed";
    rv = at_app_update(reg, pool, got, "bob", &err);
    CHECK(rv == APR_SUCCESS, "update: %s", err.text);
    got->scopes = list_of("orders:read", "nosuch");
    got->description = "should not stick";
    rv = at_app_update(reg, pool, got, "bob", &err);
    CHECK(rv == APR_EINVAL, "update unknown scope");
    at_app_get(reg, pool, *cid, &got, &err);
    CHECK(strcmp(got->description, "changed") == 0
              && got->scopes->nelts == 2
              && strcmp(APR_ARRAY_IDX(got->scopes, 1, const char *),
                        "orders:write") == 0, "failed update left nothing");
    got->name = "spa";
    CHECK(at_app_update(reg, pool, got, "bob", &err) == APR_EEXIST,
          "rename onto another: %s", err.text);
    got->name = "orders-service";
    got->client_id = "nope";
    CHECK(at_app_update(reg, pool, got, "bob", &err) == APR_NOTFOUND,
          "update unknown");

    /* A scope in use cannot be deleted; the users are named. */
    rv = at_scope_delete(reg, pool, "orders:write", "a", &users, &err);
    CHECK(rv == APR_EBUSY && users->nelts == 1
              && strcmp(APR_ARRAY_IDX(users, 0, const char *), *cid) == 0,
          "scope in use: %d", rv);
}

static void test_secrets(at_registry_t *reg, const char *cid,
                         const char *secret)
{
    at_app_t *app;
    at_error_t err;
    const char *s2, *s3;
    apr_status_t rv;

    rv = at_client_authenticate(reg, pool, cid, secret, &app, &err);
    CHECK(rv == APR_SUCCESS && app && strcmp(app->client_id, cid) == 0,
          "auth: %s", err.text);
    CHECK(at_client_authenticate(reg, pool, cid, "wrong", &app, &err)
              == APR_EACCES, "wrong secret");
    CHECK(at_client_authenticate(reg, pool, cid, NULL, &app, &err)
              == APR_EACCES, "no secret");
    CHECK(at_client_authenticate(reg, pool, "nope", secret, &app, &err)
              == APR_NOTFOUND, "unknown client");

    /* Disabled: the right secret no longer authenticates. */
    CHECK(at_app_set_enabled(reg, pool, cid, 0, "bob", &err) == APR_SUCCESS,
          "disable");
    rv = at_client_authenticate(reg, pool, cid, secret, &app, &err);
    CHECK(rv == APR_EACCES && strstr(err.text, "disabled"), "disabled: %s",
          err.text);
    CHECK(at_app_set_enabled(reg, pool, cid, 1, "bob", &err) == APR_SUCCESS,
          "enable");
    CHECK(at_app_set_enabled(reg, pool, "nope", 1, "bob", &err)
              == APR_NOTFOUND, "enable unknown");

    /* Rotation with grace: both work; then end the old one. */
    rv = at_app_rotate_secret(reg, pool, cid, 3600, "bob", &s2, &err);
    CHECK(rv == APR_SUCCESS && s2 && strcmp(s2, secret) != 0, "rotate: %s",
          err.text);
    CHECK(at_client_authenticate(reg, pool, cid, secret, &app, &err)
              == APR_SUCCESS, "old in grace");
    CHECK(at_client_authenticate(reg, pool, cid, s2, &app, &err)
              == APR_SUCCESS, "new after rotate");
    CHECK(at_app_end_old_secrets(reg, pool, cid, "bob", &err)
              == APR_SUCCESS, "end old: %s", err.text);
    CHECK(at_client_authenticate(reg, pool, cid, secret, &app, &err)
              == APR_EACCES, "old ended");
    CHECK(at_client_authenticate(reg, pool, cid, s2, &app, &err)
              == APR_SUCCESS, "new still fine");

    /* Rotation without grace ends the old one at once. */
    rv = at_app_rotate_secret(reg, pool, cid, 0, "bob", &s3, &err);
    CHECK(rv == APR_SUCCESS, "rotate 0: %s", err.text);
    CHECK(at_client_authenticate(reg, pool, cid, s2, &app, &err)
              == APR_EACCES, "old ended at once");
    CHECK(at_client_authenticate(reg, pool, cid, s3, &app, &err)
              == APR_SUCCESS, "newest");
    CHECK(at_app_rotate_secret(reg, pool, cid, -1, "bob", &s2, &err)
              == APR_EINVAL, "negative grace");
    CHECK(at_app_rotate_secret(reg, pool, "nope", 0, "bob", &s2, &err)
              == APR_NOTFOUND, "rotate unknown");
}

static void test_refresh(at_registry_t *reg, const char *cid)
{
    const char *t1, *t2, *t3, *t4;
    at_refresh_t *info;
    apr_array_header_t *fams;
    at_error_t err;
    apr_status_t rv;

    rv = at_refresh_issue(reg, pool, cid, cid, "orders:read offline_access",
                          3600, &t1, &err);
    CHECK(rv == APR_SUCCESS && t1 && strlen(t1) == 43, "issue: %s",
          err.text);
    CHECK(at_refresh_issue(reg, pool, "nope", "x", "", 3600, &t2, &err)
              == APR_NOTFOUND, "issue unknown client");
    CHECK(at_refresh_issue(reg, pool, cid, "x", "", 0, &t2, &err)
              == APR_EINVAL, "issue zero lifetime");

    rv = at_refresh_lookup(reg, pool, t1, &info, &err);
    CHECK(rv == APR_SUCCESS && info->active
              && strcmp(info->scope, "orders:read offline_access") == 0
              && strcmp(info->client_id, cid) == 0, "lookup");

    CHECK(at_refresh_rotate(reg, pool, t1, "other", 3600, &t2, &info, &err)
              == APR_NOTFOUND, "another client's token");
    rv = at_refresh_rotate(reg, pool, t1, cid, 3600, &t2, &info, &err);
    CHECK(rv == APR_SUCCESS && t2 && strcmp(t1, t2) != 0 && info->active,
          "rotate: %s", err.text);
    rv = at_refresh_lookup(reg, pool, t1, &info, &err);
    CHECK(rv == APR_SUCCESS && !info->active, "used token inactive");
    rv = at_refresh_rotate(reg, pool, t2, cid, 3600, &t3, &info, &err);
    CHECK(rv == APR_SUCCESS, "rotate again: %s", err.text);

    /* Replay of t1: the family dies, t3 with it. */
    rv = at_refresh_rotate(reg, pool, t1, cid, 3600, &t4, &info, &err);
    CHECK(rv == APR_EACCES && t4 == NULL, "reuse: %d", rv);
    CHECK(at_refresh_rotate(reg, pool, t3, cid, 3600, &t4, &info, &err)
              == APR_NOTFOUND, "family revoked after reuse");
    rv = at_refresh_lookup(reg, pool, t3, &info, &err);
    CHECK(rv == APR_SUCCESS && !info->active, "t3 inactive");
    CHECK(at_refresh_rotate(reg, pool, "garbage", cid, 3600, &t4, &info,
                            &err) == APR_NOTFOUND, "unknown token");

    /* Revocation by token, by family; the families list. */
    at_refresh_issue(reg, pool, cid, cid, "", 3600, &t1, &err);
    at_refresh_issue(reg, pool, cid, "user-2", "", 3600, &t2, &err);
    rv = at_refresh_families(reg, pool, cid, &fams, &err);
    CHECK(rv == APR_SUCCESS && fams->nelts == 2, "families: %d",
          fams->nelts);
    CHECK(at_refresh_revoke(reg, pool, t1, "other", "x", &err)
              == APR_NOTFOUND, "revoke other client's");
    CHECK(at_refresh_revoke(reg, pool, t1, cid, "client", &err)
              == APR_SUCCESS, "revoke: %s", err.text);
    CHECK(at_refresh_rotate(reg, pool, t1, cid, 3600, &t4, &info, &err)
              == APR_NOTFOUND, "revoked token");
    rv = at_refresh_families(reg, pool, NULL, &fams, &err);
    CHECK(rv == APR_SUCCESS && fams->nelts == 1, "one family left");
    if (fams->nelts == 1) {
        at_refresh_t *f = APR_ARRAY_IDX(fams, 0, at_refresh_t *);
        CHECK(strcmp(f->subject, "user-2") == 0, "subject");
        CHECK(at_family_revoke(reg, pool, f->family_id, "bob", &err)
                  == APR_SUCCESS, "family revoke");
    }
    CHECK(at_family_revoke(reg, pool, "nope", "bob", &err) == APR_NOTFOUND,
          "family unknown");
    CHECK(at_refresh_rotate(reg, pool, t2, cid, 3600, &t4, &info, &err)
              == APR_NOTFOUND, "family-revoked token");
}

static void test_revocation(at_registry_t *reg, const char *cid)
{
    apr_array_header_t *jtis, *rows;
    apr_table_t *clients;
    long long g0, g1, g2;
    at_error_t err;
    apr_status_t rv;
    int apps, scopes, fams, total;

    CHECK(at_revocation_generation(reg, pool, &g0, &err) == APR_SUCCESS,
          "generation: %s", err.text);
    CHECK(at_jti_record(reg, pool, "jti-1", cid, (long long)time(NULL)
                        + 600, &err) == APR_SUCCESS, "record: %s", err.text);
    CHECK(at_jti_record(reg, pool, "jti-2", cid, 9999999999LL, &err)
              == APR_SUCCESS, "record 2");
    CHECK(at_jti_record(reg, pool, "jti-1", cid, 1, &err) == APR_EEXIST,
          "record duplicate");
    CHECK(at_jti_revoke(reg, pool, "nope", "bob", &err) == APR_NOTFOUND,
          "revoke unknown jti");
    CHECK(at_jti_revoke(reg, pool, "jti-1", "bob", &err) == APR_SUCCESS,
          "revoke: %s", err.text);
    at_revocation_generation(reg, pool, &g1, &err);
    CHECK(g1 == g0 + 1, "generation bumped: %lld -> %lld", g0, g1);
    CHECK(at_jti_revoke(reg, pool, "jti-1", "bob", &err) == APR_SUCCESS,
          "revoke twice");
    rv = at_revocation_load(reg, pool, &jtis, &clients, &err);
    CHECK(rv == APR_SUCCESS && jtis->nelts == 1
              && strcmp(APR_ARRAY_IDX(jtis, 0, const char *), "jti-1") == 0
              && apr_table_get(clients, cid) == NULL, "load");

    CHECK(at_client_revoke_all(reg, pool, "nope", "bob", &err)
              == APR_NOTFOUND, "revoke unknown client");
    CHECK(at_client_revoke_all(reg, pool, cid, "bob", &err) == APR_SUCCESS,
          "revoke client: %s", err.text);
    at_revocation_generation(reg, pool, &g2, &err);
    CHECK(g2 == g1 + 1, "generation bumped again");
    rv = at_revocation_load(reg, pool, &jtis, &clients, &err);
    CHECK(rv == APR_SUCCESS && apr_table_get(clients, cid)
              && apr_atoi64(apr_table_get(clients, cid))
                     >= (long long)time(NULL) - 1, "client cut-off");
    /* jti-2, recorded this second, is revoked by name as well. */
    CHECK(rv == APR_SUCCESS && jtis->nelts == 2, "this second's jtis: %d",
          jtis->nelts);
    /* A token recorded after the revocation is not revoked by jti. */
    CHECK(at_jti_record(reg, pool, "jti-3", cid, 9999999999LL, &err)
              == APR_SUCCESS, "record after revoke");
    rv = at_revocation_load(reg, pool, &jtis, &clients, &err);
    CHECK(rv == APR_SUCCESS && jtis->nelts == 2, "later jti not revoked");

    rv = at_audit_list(reg, pool, cid, "bob", 0, 0, &rows, &total, &err);
    CHECK(rv == APR_SUCCESS && total >= 5 && rows->nelts == total,
          "audit by target and actor: %d", total);
    if (rv == APR_SUCCESS && rows->nelts > 0) {
        at_audit_t *a = APR_ARRAY_IDX(rows, 0, at_audit_t *);
        CHECK(strcmp(a->action, "token.revoke_client") == 0,
              "newest first: %s", a->action);
    }
    rv = at_registry_counts(reg, pool, &apps, &scopes, &fams, &err);
    CHECK(rv == APR_SUCCESS && apps == 2 && scopes == 4 && fams == 0,
          "counts: %d %d %d", apps, scopes, fams);

    CHECK(at_app_delete(reg, pool, cid, "bob", &err) == APR_SUCCESS,
          "delete: %s", err.text);
    CHECK(at_app_delete(reg, pool, cid, "bob", &err) == APR_NOTFOUND,
          "delete twice");
    CHECK(at_scope_delete(reg, pool, "orders:write", "a", &rows, &err)
              == APR_SUCCESS, "scope free after app delete: %s", err.text);
}

/* A step failing in the middle of a multi-step change (forced with a
 * trigger added by another connection, which also changes the schema under
 * the connection's cached statements) leaves nothing of the change. */
static void test_rollback(const char *file)
{
    at_registry_t *reg;
    at_app_t *app, *got;
    apr_array_header_t *apps, *scopes, *users;
    const char *sec, *cid;
    at_error_t err;
    apr_status_t rv;
    int total, audits;

    treg_open(pool, file, &reg, &err);
    CHECK(at_scope_add(reg, pool, "ok", NULL, "x", &err) == APR_SUCCESS,
          "setup scope: %s", err.text);
    CHECK(at_scope_add(reg, pool, "trap", NULL, "x", &err) == APR_SUCCESS,
          "setup trap: %s", err.text);
    app = new_app("first");
    app->scopes = list_of("ok", NULL);
    CHECK(at_app_create(reg, pool, app, "x", &sec, &err) == APR_SUCCESS,
          "setup app: %s", err.text);
    cid = app->client_id;
    audits = audit_count(reg);

    if (treg_pg()) {
        CHECK(raw_sql(file, "CREATE FUNCTION trap() RETURNS trigger"
                            " LANGUAGE plpgsql AS $$ BEGIN"
                            " RAISE EXCEPTION 'trapped'; END $$;"
                            " CREATE TRIGGER trap BEFORE INSERT ON app_scopes"
                            " FOR EACH ROW WHEN (NEW.scope = 'trap')"
                            " EXECUTE FUNCTION trap();"
                            " CREATE TRIGGER trap_audit BEFORE INSERT ON audit"
                            " FOR EACH ROW WHEN (NEW.action = 'scope.delete')"
                            " EXECUTE FUNCTION trap()") == 0, "triggers");
    }
    else {
        CHECK(raw_sql(file, "CREATE TRIGGER trap BEFORE INSERT ON app_scopes"
                            " WHEN NEW.scope = 'trap'"
                            " BEGIN SELECT RAISE(ABORT, 'trapped'); END")
                  == 0, "trigger");
        CHECK(raw_sql(file, "CREATE TRIGGER trap_audit BEFORE INSERT ON audit"
                            " WHEN NEW.action = 'scope.delete'"
                            " BEGIN SELECT RAISE(ABORT, 'trapped'); END")
                  == 0, "audit trigger");
    }

    /* Cached statements still work after the schema changed, in a
     * transaction (scope add, whose statements are cached from the setup)
     * as outside one. */
    CHECK(at_scope_add(reg, pool, "fresh", NULL, "x", &err) == APR_SUCCESS,
          "transaction after schema change: %s", err.text);
    CHECK(at_scope_delete(reg, pool, "fresh", "x", &users, &err)
              != APR_SUCCESS, "trapped delete");
    CHECK(raw_sql(file, "DELETE FROM scopes WHERE name = 'fresh'") == 0,
          "cleanup");
    audits = audit_count(reg);
    rv = at_scope_list(reg, pool, &scopes, &err);
    CHECK(rv == APR_SUCCESS && scopes->nelts == 4, "list after schema "
          "change: %s", err.text);

    /* Create: application row and first scope written, then the trap. */
    app = new_app("second");
    app->scopes = list_of("ok", "trap");
    rv = at_app_create(reg, pool, app, "x", &sec, &err);
    CHECK(rv != APR_SUCCESS && strstr(err.text, "trapped"), "create "
          "trapped: %d %s", rv, err.text);
    rv = at_app_list(reg, pool, NULL, 0, 0, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS && total == 1, "no half-created app: %d", total);

    /* Update: row updated and old scopes deleted, then the trap. */
    at_app_get(reg, pool, cid, &got, &err);
    got->description = "changed";
    got->scopes = list_of("trap", NULL);
    rv = at_app_update(reg, pool, got, "x", &err);
    CHECK(rv != APR_SUCCESS, "update trapped");
    at_app_get(reg, pool, cid, &got, &err);
    CHECK(strcmp(got->description, "") == 0 && got->scopes->nelts == 1
              && strcmp(APR_ARRAY_IDX(got->scopes, 0, const char *), "ok")
                     == 0, "update rolled back: %s", got->description);

    /* Delete whose audit row fails: the scope stays. */
    rv = at_scope_delete(reg, pool, "trap", "x", &users, &err);
    CHECK(rv != APR_SUCCESS, "delete trapped by its audit row");
    rv = at_scope_list(reg, pool, &scopes, &err);
    CHECK(rv == APR_SUCCESS && scopes->nelts == 4, "scope still there");
    CHECK(audit_count(reg) == audits, "no audit rows from failed changes");

    /* And the connection is still fine for the next change. */
    CHECK(at_scope_add(reg, pool, "after", NULL, "x", &err) == APR_SUCCESS,
          "after failures: %s", err.text);
    at_registry_close(reg);
}

/* Expired rows go away as a side effect of writes, in bounded batches,
 * while unexpired ones stay. */
static void test_purge(const char *file)
{
    at_registry_t *reg;
    at_app_t *app;
    const char *sec;
    at_error_t err;
    long long past = (long long)time(NULL) - 7200;
    int i, failed = 0;

    treg_open(pool, file, &reg, &err);
    app = new_app("purge");
    at_app_create(reg, pool, app, "x", &sec, &err);
    CHECK(at_jti_record(reg, pool, "live", app->client_id, past + 9000, &err)
              == APR_SUCCESS, "live jti");
    for (i = 0; i < 300; i++) {
        failed += at_jti_record(reg, pool, apr_psprintf(pool, "old-%d", i),
                                app->client_id, past, &err) != APR_SUCCESS;
    }
    CHECK(failed == 0, "records: %s", err.text);
    /* The first 256 writes included ~255 expired rows: purged by now. */
    CHECK(at_jti_revoke(reg, pool, "old-0", "x", &err) == APR_NOTFOUND,
          "expired jti purged");
    CHECK(at_jti_revoke(reg, pool, "old-299", "x", &err) == APR_SUCCESS,
          "recent expired jti not yet purged");
    CHECK(at_jti_revoke(reg, pool, "live", "x", &err) == APR_SUCCESS,
          "unexpired jti kept");
    at_registry_close(reg);
}

/* A second connection holding the write lock (SQLite's, or the advisory
 * lock of PostgreSQL's serialised changes): a change gives up with a clear
 * error and writes nothing; reads still work. */
static void test_locked(const char *file)
{
    const apr_dbd_driver_t *drv;
    apr_dbd_t *h;
    at_registry_t *a, *b;
    at_app_t *app;
    apr_array_header_t *apps;
    const char *sec, *e;
    at_error_t err;
    apr_status_t rv;
    int total = -1, n;

    treg_open(pool, file, &a, &err);
    treg_open(pool, file, &b, &err);
    rv = at_scope_add(a, pool, "held", NULL, "x", &err);
    CHECK(rv == APR_SUCCESS, "setup: %s", err.text);
    apr_dbd_get_driver(pool, treg.driver, &drv);
    apr_dbd_open_ex(drv, pool, treg_params(file), &h, &e);
    CHECK(apr_dbd_query(drv, h, &n, treg_pg()
                        ? "SELECT pg_advisory_lock(1835103281, 1)"
                        : "BEGIN IMMEDIATE") == 0, "lock");
    app = new_app("blocked");
    rv = at_app_create(b, pool, app, "x", &sec, &err);
    CHECK(rv == APR_TIMEUP && strstr(err.text, "locked"), "locked: %d %s",
          rv, err.text);
    rv = at_app_list(b, pool, NULL, 0, 0, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS, "read while locked: %s", err.text);
    apr_dbd_query(drv, h, &n, treg_pg() ? "SELECT pg_advisory_unlock_all()"
                                        : "ROLLBACK");
    apr_dbd_close(drv, h);
    rv = at_app_list(b, pool, "blocked", 0, 0, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS && total == 0, "nothing half-written");
    rv = at_app_create(b, pool, app, "x", &sec, &err);
    CHECK(rv == APR_SUCCESS, "after unlock: %s", err.text);
    at_registry_close(a);
    at_registry_close(b);
}

/* N processes, each with its own connection, rotate one token at once. */
static void test_race(const char *file, const char *cid)
{
    enum { N = 8 };
    at_registry_t *reg;
    const char *token;
    at_error_t err;
    pid_t pids[N];
    int pipefd[2], i, wins = 0, reuses = 0, revoked = 0, others = 0;

    treg_open(pool, file, &reg, &err);
    CHECK(at_refresh_issue(reg, pool, cid, cid, "", 3600, &token, &err)
              == APR_SUCCESS, "race issue: %s", err.text);
    at_registry_close(reg);
    CHECK(pipe(pipefd) == 0, "pipe");
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            apr_pool_t *cp;
            at_registry_t *r;
            const char *next;
            at_refresh_t *info;
            char c, go;
            apr_status_t rv;
            close(pipefd[1]);
            apr_pool_create(&cp, NULL);
            if (treg_open(cp, file, &r, &err)) {
                fprintf(stderr, "race child: open: %s\n", err.text);
                _exit(3);
            }
            /* Wait for the start signal: all rotate together. */
            if (read(pipefd[0], &go, 1) != 1) {
                _exit(4);
            }
            rv = at_refresh_rotate(r, cp, token, cid, 3600, &next, &info,
                                   &err);
            c = rv == APR_SUCCESS  ? 0
                : rv == APR_EACCES ? 1
                : rv == APR_NOTFOUND ? 2
                                     : 5;
            if (c == 5) {
                fprintf(stderr, "race child: rotate: %s\n", err.text);
            }
            _exit(c);
        }
    }
    close(pipefd[0]);
    usleep(150000);
    {
        char go[N];
        memset(go, 'g', sizeof(go));
        CHECK(write(pipefd[1], go, N) == N, "start");
    }
    close(pipefd[1]);
    for (i = 0; i < N; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            wins++;
        }
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 1) {
            reuses++;
        }
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
            revoked++;
        }
        else {
            others++;
        }
    }
    CHECK(wins == 1, "exactly one rotation wins: %d (reuse %d, other %d)",
          wins, reuses, others);
    /* The first loser sees a reuse and revokes the family; later ones find
     * the family revoked. Nothing fails for another reason. */
    CHECK(reuses >= 1 && reuses + revoked == N - 1 && others == 0,
          "losers: reuse %d, revoked %d, other %d", reuses, revoked, others);
}

int main(void)
{
    at_registry_t *reg;
    const char *cid = NULL, *secret = NULL, *file = "main.db";
    at_error_t err;
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    treg_init(pool);
    test_open();
    CHECK(treg_open(pool, file, &reg, &err) == APR_SUCCESS, "open: %s",
          err.text);
    test_scopes(reg);
    test_apps(reg, &cid, &secret);
    test_secrets(reg, cid, secret);
    test_refresh(reg, cid);
    if (!treg_pg()) {
        /* The WAL journal is in use after writes. */
        struct stat st;
        CHECK(stat(path_of("main.db-wal"), &st) == 0, "WAL file exists");
    }
    for (i = 0; i < 3; i++) {
        test_race(file, cid);
    }
    test_revocation(reg, cid);
    at_registry_close(reg);
    test_rollback("rollback.db");
    test_purge("purge.db");
    test_locked("locked.db");
    treg_cleanup();
    UNIT_DONE();
}
