/* The registry: applications (OAuth clients), their secrets, scopes,
 * refresh-token families, revoked access tokens and the audit log, in one
 * SQLite database (WAL) or in PostgreSQL, reached through apr_dbd (drivers
 * sqlite3 and pgsql) with prepared statements only.
 *
 * One at_registry_t is one connection: not for two threads at once (the
 * module keeps a reslist of them per process). Every change is one
 * transaction and writes its audit row in the same transaction. Functions
 * return APR_SUCCESS, APR_NOTFOUND for an unknown client_id/scope/jti/token,
 * APR_EEXIST for a duplicate, APR_EINVAL for refused input (err says what),
 * or another status for a database failure (err says what): APR_TIMEUP when
 * another connection held the write lock too long (about 5.6 s), APR_EACCES
 * for a read-only registry, APR_ECONNREFUSED when a database server
 * (PostgreSQL) cannot be reached or the connection to it was lost (try
 * again later: the connection reconnects by itself), APR_EGENERAL
 * otherwise. A refused or failed change leaves the registry as it was;
 * only a connection lost during the commit itself leaves unknown whether
 * the change was made.
 */
#ifndef AT_REGISTRY_H
#define AT_REGISTRY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_errno.h>
#include "at_error.h"

typedef struct at_registry at_registry_t;

/* Opens (creating and migrating when needed) the registry. DRIVER is an
 * apr_dbd driver name ("sqlite3" or "pgsql"), PARAMS its parameters (for
 * sqlite3 the file path, for pgsql a libpq connection string). The
 * connection lives as long as POOL. A foreign, corrupt, unreadable or
 * newer-schema database is an error, never a crash. Several processes
 * (and, on PostgreSQL, several nodes) may open a new registry at once:
 * one creates or migrates the schema, the others wait and find it done. */
apr_status_t at_registry_open(apr_pool_t *pool, const char *driver,
                              const char *params, at_registry_t **reg,
                              at_error_t *err);
void at_registry_close(at_registry_t *reg);

/* A registry as operators name it (token-admin --registry, the console's
 * AUTH_TOKEN_REGISTRY): "pgsql:CONNINFO", "sqlite3:PATH", a bare PATH
 * (SQLite), or "DRIVER PARAMS". Sets *DRIVER and *PARAMS and checks their
 * form like at_registry_check_params. */
apr_status_t at_registry_spec(apr_pool_t *p, const char *spec,
                              const char **driver, const char **params,
                              at_error_t *err);
/* Checks without connecting that DRIVER is one the registry runs on and
 * PARAMS has the right form: for pgsql, libpq's "keyword=value ..." with
 * known keywords, each once, quotes closed. APR_EINVAL with ERR saying
 * what is wrong (never a value from PARAMS). */
apr_status_t at_registry_check_params(apr_pool_t *p, const char *driver,
                                      const char *params, at_error_t *err);
/* The registry for messages: "sqlite3:PATH", or "pgsql:" and the host,
 * port, dbname and user of the connection string, never its password. */
const char *at_registry_describe(apr_pool_t *p, const char *driver,
                                 const char *params);
/* 1 when DRIVER's database is a server reached over a connection that can
 * fail and come back (pgsql), 0 for a local file (sqlite3). */
int at_registry_networked(const char *driver);

/* An application. Arrays hold const char *. Lifetimes of 0 mean "server
 * default". Times are seconds since the epoch. */
typedef struct at_app {
    const char *client_id;
    const char *name;
    const char *description;
    const char *type;                 /* "confidential" or "public" */
    apr_array_header_t *grants;       /* client_credentials, refresh_token,
                                         authorization_code */
    apr_array_header_t *scopes;
    apr_array_header_t *audiences;
    apr_array_header_t *redirect_uris;
    long access_lifetime;
    long refresh_lifetime;
    int offline_client_credentials;   /* refresh tokens with client creds */
    int skip_consent;                 /* first-party: no consent page */
    int enabled;
    long long created;
    long long updated;
} at_app_t;

/* Validates and inserts APP (client_id generated when NULL) and, for a
 * confidential application, a new secret returned once in *secret. */
apr_status_t at_app_create(at_registry_t *reg, apr_pool_t *p, at_app_t *app,
                           const char *actor, const char **secret,
                           at_error_t *err);
/* Replaces every field of the application APP->client_id but the times. */
apr_status_t at_app_update(at_registry_t *reg, apr_pool_t *p,
                           const at_app_t *app, const char *actor,
                           at_error_t *err);
apr_status_t at_app_get(at_registry_t *reg, apr_pool_t *p,
                        const char *client_id, at_app_t **app,
                        at_error_t *err);
/* One page, ordered by name; SEARCH (may be NULL) matches name or client_id
 * substrings. *total counts every match. */
apr_status_t at_app_list(at_registry_t *reg, apr_pool_t *p,
                         const char *search, int offset, int limit,
                         apr_array_header_t **apps, int *total,
                         at_error_t *err);
apr_status_t at_app_set_enabled(at_registry_t *reg, apr_pool_t *p,
                                const char *client_id, int enabled,
                                const char *actor, at_error_t *err);
/* Deletes the application with its secrets and refresh tokens. */
apr_status_t at_app_delete(at_registry_t *reg, apr_pool_t *p,
                           const char *client_id, const char *actor,
                           at_error_t *err);

/* New secret (>= 256 random bits), returned once in *secret. The previous
 * secrets stay valid GRACE seconds more (0: end now). */
apr_status_t at_app_rotate_secret(at_registry_t *reg, apr_pool_t *p,
                                  const char *client_id, long grace,
                                  const char *actor, const char **secret,
                                  at_error_t *err);
/* Ends every secret but the newest now. */
apr_status_t at_app_end_old_secrets(at_registry_t *reg, apr_pool_t *p,
                                    const char *client_id, const char *actor,
                                    at_error_t *err);
/* Checks SECRET against the application's unexpired secrets in constant
 * time. APR_SUCCESS with *app filled; APR_NOTFOUND for an unknown client;
 * APR_EACCES for a wrong secret or a disabled application. */
apr_status_t at_client_authenticate(at_registry_t *reg, apr_pool_t *p,
                                    const char *client_id,
                                    const char *secret, at_app_t **app,
                                    at_error_t *err);

/* Scopes. offline_access is built in and cannot be deleted. */
typedef struct at_scope {
    const char *name;
    const char *description;
    int builtin;
} at_scope_t;
apr_status_t at_scope_add(at_registry_t *reg, apr_pool_t *p,
                          const char *name, const char *description,
                          const char *actor, at_error_t *err);
apr_status_t at_scope_update(at_registry_t *reg, apr_pool_t *p,
                             const char *name, const char *description,
                             const char *actor, at_error_t *err);
apr_status_t at_scope_list(at_registry_t *reg, apr_pool_t *p,
                           apr_array_header_t **scopes, at_error_t *err);
/* Refused (APR_EBUSY, *users = client_ids) while an application uses it. */
apr_status_t at_scope_delete(at_registry_t *reg, apr_pool_t *p,
                             const char *name, const char *actor,
                             apr_array_header_t **users, at_error_t *err);

/* Refresh tokens: opaque, stored as SHA-256 hashes, grouped in families
 * (one per original grant). */
typedef struct at_refresh {
    const char *family_id;
    const char *client_id;
    const char *scope;          /* space separated, as granted */
    const char *subject;
    long long issued;
    long long expires;
    int active;                 /* unused, unexpired, family not revoked */
} at_refresh_t;

/* Starts a family and returns its first token once in *token. */
apr_status_t at_refresh_issue(at_registry_t *reg, apr_pool_t *p,
                              const char *client_id, const char *subject,
                              const char *scope, long lifetime,
                              const char **token, at_error_t *err);
/* Atomically consumes TOKEN for CLIENT_ID and issues its successor in the
 * same family (*next, *info). A token already used revokes its family and
 * gives APR_EACCES; unknown, expired, revoked or another client's token
 * gives APR_NOTFOUND. */
apr_status_t at_refresh_rotate(at_registry_t *reg, apr_pool_t *p,
                               const char *token, const char *client_id,
                               long lifetime, const char **next,
                               at_refresh_t **info, at_error_t *err);
/* Looks TOKEN up without consuming it (introspection). */
apr_status_t at_refresh_lookup(at_registry_t *reg, apr_pool_t *p,
                               const char *token, at_refresh_t **info,
                               at_error_t *err);
/* Revokes the family of TOKEN when it belongs to CLIENT_ID (NULL: any). */
apr_status_t at_refresh_revoke(at_registry_t *reg, apr_pool_t *p,
                               const char *token, const char *client_id,
                               const char *actor, at_error_t *err);
/* Active families, for the console's grants page. */
apr_status_t at_refresh_families(at_registry_t *reg, apr_pool_t *p,
                                 const char *client_id,
                                 apr_array_header_t **families,
                                 at_error_t *err);
apr_status_t at_family_revoke(at_registry_t *reg, apr_pool_t *p,
                              const char *family_id, const char *actor,
                              at_error_t *err);

/* Access tokens are not stored; the issuer records each jti it issues
 * (jti, client_id, exp) so that revocation by jti can tell known from
 * unknown and revoke-by-client can name them. */
apr_status_t at_jti_record(at_registry_t *reg, apr_pool_t *p,
                           const char *jti, const char *client_id,
                           long long exp, at_error_t *err);
/* The same for N jtis in one transaction (all or none): the issuer's group
 * commit (lib/registry/at_registry_jti_batch.c). */
typedef struct at_jti_rec {
    const char *jti;
    const char *client_id;
    long long exp;
    const char *subject;    /* the person, or NULL (client credentials) */
    const char *grant_id;   /* the code/refresh family it came from, or NULL */
} at_jti_rec_t;
apr_status_t at_jti_record_many(at_registry_t *reg, apr_pool_t *p,
                                const at_jti_rec_t *recs, int n,
                                at_error_t *err);
apr_status_t at_jti_revoke(at_registry_t *reg, apr_pool_t *p,
                           const char *jti, const char *actor,
                           at_error_t *err);
/* Revokes every refresh family of the client and every access token issued
 * to it until now. */
apr_status_t at_client_revoke_all(at_registry_t *reg, apr_pool_t *p,
                                  const char *client_id, const char *actor,
                                  at_error_t *err);

/* Revocation state for the resource server's per-process cache: a counter
 * bumped by every revocation, so a cache reloads only when it moved. */
apr_status_t at_revocation_generation(at_registry_t *reg, apr_pool_t *p,
                                      long long *generation, at_error_t *err);
/* Unexpired revoked jtis (const char *) and per-client cut-offs:
 * *clients maps client_id -> decimal "revoked before" time: a token of that
 * client with iat < before is revoked (before is the second of the
 * revocation; tokens issued earlier in that second are in *jtis, so one
 * issued after it stays valid). Revoked jtis are kept an hour past their
 * exp. */
apr_status_t at_revocation_load(at_registry_t *reg, apr_pool_t *p,
                                apr_array_header_t **jtis,
                                apr_table_t **clients, at_error_t *err);

/* Audit log. */
typedef struct at_audit {
    long long id;
    long long at;
    const char *actor;
    const char *action;     /* "app.create", "secret.rotate", ... */
    const char *target;     /* client_id, scope name, jti */
    const char *detail;
} at_audit_t;
apr_status_t at_audit_list(at_registry_t *reg, apr_pool_t *p,
                           const char *target, const char *actor,
                           int offset, int limit, apr_array_header_t **rows,
                           int *total, at_error_t *err);
/* Writes the audit row (ACTOR, ACTION, TARGET, DETAIL) unless one with
 * the same ACTION, TARGET and DETAIL exists, in one transaction: *FIRST is
 * 1 when this call wrote it, 0 when it was there already (or on error).
 * The console uses it so that a one-time ticket is honoured once, and the
 * log says who used it. */
apr_status_t at_audit_once(at_registry_t *reg, apr_pool_t *p,
                           const char *actor, const char *action,
                           const char *target, const char *detail,
                           int *first, at_error_t *err);

/* Counts for the console's dashboard. */
apr_status_t at_registry_counts(at_registry_t *reg, apr_pool_t *p,
                                int *apps, int *scopes, int *families,
                                at_error_t *err);

#endif /* AT_REGISTRY_H */
