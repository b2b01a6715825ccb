/* What the issuer's files (issuer_*.c) share among themselves and nobody
 * else needs: the per-process registry connection pool, client
 * authentication and form parsing, and the JSON/error answer helpers.
 * The rest of the module sees only issuer.h. */
#ifndef AT_ISSUER_PRIVATE_H
#define AT_ISSUER_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "apr_hash.h"
#include "apr_tables.h"
#include <jansson.h>

#include "mod_auth_token.h"
#include "at_registry.h"

/* Largest form body read by the POST endpoints. */
#define AT_FORM_MAX_BYTES 16384

/* --- registry connections (registry_conn.c) ----------------------------- */

/* "driver\nparams" of the registry of server S, or NULL without one: the
 * key of every per-process, per-registry service. */
const char *at_issuer_registry_key(apr_pool_t *p, server_rec *s);
/* A map from that key to MAKE(pchild, s), called once per distinct
 * registry among the servers from MAIN_S on (NULL results left out); for
 * the services' child_init. */
apr_hash_t *at_issuer_per_registry(apr_pool_t *pchild, server_rec *main_s,
                                   void *(*make)(apr_pool_t *p,
                                                 server_rec *s));
/* child_init: this process's connection pool for every registry. */
void at_issuer_conns_child_init(apr_pool_t *pchild, server_rec *main_s);

/* A registry connection borrowed for one request. Give it back with
 * at_issuer_release(), passing failed = 1 when a call on it failed with a
 * database error, so that the connection is dropped rather than reused. */
typedef struct at_conn at_conn_t;

/* Takes a connection to the registry of R's server from the per-process
 * pool (opening one when none is idle). NULL when the server has no
 * AuthTokenRegistry or the registry cannot be opened; the reason is logged
 * (an outage once, when it starts) and the caller answers
 * at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR). */
at_conn_t *at_issuer_acquire(request_rec *r);
at_registry_t *at_conn_registry(at_conn_t *c);
void at_issuer_release(at_conn_t *c, int failed);
/* Notes that the registry was found unreachable during R (a database
 * server down, or the connection to it lost), and asks whether it was. */
void at_issuer_registry_down(request_rec *r);
int at_issuer_registry_is_down(request_rec *r);
/* STATUS, or 503 with Retry-After when STATUS is 500 and the registry was
 * found unreachable during R (service returns by itself, the client may
 * retry). */
int at_issuer_unavailable(request_rec *r, int status);
/* at_issuer_release (DB_FAILED as from at_registry_failed), then
 * at_issuer_unavailable: what a handler returns at its end. */
int at_issuer_done(request_rec *r, at_conn_t *c, int db_failed, int status);

/* Serialise this process's writes to an SQLite registry. SQLite admits one
 * writer at a time and makes the others sleep and retry (milliseconds
 * each); threads of one process queue far cheaper on a mutex. Held only
 * around one registry call, never while waiting for anything else. No-ops
 * for PostgreSQL, which takes writers side by side. */
void at_issuer_write_begin(at_conn_t *c);
void at_issuer_write_end(at_conn_t *c);

/* 1 when DIR holds nothing but the registry FILE and its companions
 * (-wal, -shm, the console's key...): a directory of its own, which a
 * root-started httpd gives to its User (registry_place.c; used by
 * issuer_hooks.c's hand-over and configtest's check alike). */
int at_registry_dir_is_own(apr_pool_t *p, const char *dir, const char *file);

/* Non-zero when STATUS from a registry call means the database itself
 * failed (as opposed to "not found", "refused", "duplicate", "wrong
 * secret"): AT_DB_DOWN when it could not be reached (answer 503), 1
 * otherwise. */
#define AT_DB_DOWN 2
int at_registry_failed(apr_status_t status);

/* 1 when STATUS and ERR from a registry change say the registry is
 * read-only. The registry reports that as APR_EACCES, the status it also
 * uses for a reused refresh token, so only its text tells them apart. */
int at_registry_read_only(apr_status_t status, const at_error_t *err);

/* The per-process revocation cache of each registry
 * (issuer_revocation.c), made in child_init. */
typedef struct at_revcache at_revcache_t;
void at_revcache_child_init(apr_pool_t *pchild, server_rec *main_s);
/* The cache of R's server's registry, or NULL without a registry. */
at_revcache_t *at_issuer_revcache(request_rec *r);

/* The jti group commit of the registry of R's server (issuer_record.c),
 * created per process from child_init; NULL without a registry. */
typedef struct at_jtiq at_jtiq_t;
void at_jtiq_child_init(apr_pool_t *pchild, server_rec *main_s);
at_jtiq_t *at_issuer_jtiq(request_rec *r);

/* Records an issued jti like at_jti_record(), but together with the jtis
 * other threads of this process are recording at the same moment, in one
 * transaction. Returns when it is committed (APR_SUCCESS) or failed (ERR
 * says why; *db_failed set when CONN's database failed). */
apr_status_t at_jti_record_grouped(request_rec *r, at_conn_t *conn,
                                   const at_jti_rec_t *rec, at_error_t *err,
                                   int *db_failed);

/* --- answers (issuer_respond.c) ----------------------------------------- */

/* What the request helpers below return when the handler should go on; any
 * other value is what the handler returns (OK after an answer was sent, or
 * an HTTP status for httpd to answer). */
#define AT_CONTINUE (-50)

/* Sends JSON with STATUS; sets Content-Type and, with NO_STORE,
 * Cache-Control: no-store and Pragma: no-cache (RFC 6749 section 5.1).
 * Takes over JSON's reference. Returns OK for the handler to return. */
int at_issuer_send_json(request_rec *r, int status, json_t *json,
                        int no_store);

/* An RFC 6749 section 5.2 error {"error": CODE, "error_description":
 * DESCRIPTION} with no-store headers; a 401 carries a Basic challenge.
 * Returns OK for the handler to return. */
int at_issuer_oauth_error(request_rec *r, int status, const char *code,
                          const char *description);

/* The realm of the issuer's challenges: the issuer name, its quotes and
 * backslashes escaped for a quoted string (RFC 9110 section 5.6.4). */
const char *at_issuer_realm(request_rec *r);

/* 405 with Allow: ALLOW and an invalid_request body. */
int at_issuer_method_not_allowed(request_rec *r, const char *allow);

/* --- requests (issuer_form.c) ------------------------------------------- */

/* The parsed form of a POST endpoint. */
typedef struct at_form {
    apr_table_t *params;        /* name -> value, each name at most once,
                                   empty values left out (RFC 6749 3.1) */
} at_form_t;

/* What the client authenticated as. */
typedef struct at_client {
    at_app_t *app;
    int used_basic;             /* client_secret_basic */
} at_client_t;

/* Checks the method (POST, else 405 + Allow), the Content-Type
 * (application/x-www-form-urlencoded), reads the body (at most
 * AT_FORM_MAX_BYTES, else 413) and parses it; a repeated parameter or a
 * malformed body is invalid_request. AT_CONTINUE with *form filled, or what
 * the handler returns. */
int at_issuer_read_form(request_rec *r, at_form_t **form);

/* Reads at most AT_FORM_MAX_BYTES of body, NUL-terminated. Returns OK, or
 * an HTTP status (413 when it is longer, 400 when it cannot be read or
 * holds a NUL). */
int at_issuer_read_body(request_rec *r, char **body);

/* Authenticates the client by the Authorization: Basic header
 * (client_secret_basic, RFC 6749 section 2.3.1) or the client_id and
 * client_secret parameters (client_secret_post), never both
 * (invalid_request). Unknown client, wrong secret or disabled application:
 * 401 invalid_client. AT_CONTINUE with *client filled (and r->user set to
 * the client_id for the access log), or what the handler returns; on a
 * database failure *db_failed is set. */
int at_issuer_authenticate(request_rec *r, at_registry_t *reg,
                           at_form_t *form, at_client_t **client,
                           int *db_failed);

/* --- scopes (issuer_scope.c) ------------------------------------------- */

/* The scope tokens of TEXT (space separated; NULL is empty), duplicates
 * dropped. NULL when one is not an RFC 6749 section 3.3 scope token. */
apr_array_header_t *at_scope_parse(apr_pool_t *p, const char *text);
/* 1 when NAME is in SCOPES (const char *; may be NULL). */
int at_scope_has(const apr_array_header_t *scopes, const char *name);
/* SCOPES joined with single spaces. */
const char *at_scope_join(apr_pool_t *p, const apr_array_header_t *scopes);

/* --- handlers (issuer_<name>.c) ----------------------------------------- */

int at_handle_token(request_rec *r);
int at_handle_revoke(request_rec *r);
int at_handle_introspect(request_rec *r);
int at_handle_jwks(request_rec *r);
int at_handle_metadata(request_rec *r);

/* --- access tokens (issuer_access.c) ------------------------------------ */

/* An access token of ours: verified with this server's signing keys, its
 * iss this server's issuer name and typ at+jwt. Expiry is not checked. */
typedef struct at_access {
    json_t *claims;
    const char *jti;
    const char *client_id;
    long long iat;
    long long exp;
} at_access_t;

/* The record of APP's next access token, valid LIFETIME seconds from
 * now: REC's jti (128 random bits), client_id and exp set, the rest
 * zeroed. The caller records it before the token leaves. */
apr_status_t at_access_new(request_rec *r, const at_app_t *app,
                           long lifetime, at_jti_rec_t *rec);
/* Signs the access token REC describes (iat = exp - LIFETIME) for SUBJECT
 * with SCOPE (space separated, may be empty), with the first signing key.
 * APR_SUCCESS with *token set; otherwise the reason is logged. */
apr_status_t at_access_sign(request_rec *r, const at_app_t *app,
                            const char *subject, const char *scope,
                            long lifetime, const at_jti_rec_t *rec,
                            const char **token);
/* Signs (at_access_sign) and records its jti, with PERSON (NULL for a
 * client acting for itself) and GRANT_ID (the refresh family, or NULL).
 * APR_SUCCESS with *token set; otherwise the reason is logged and
 * *db_failed set when the database failed. */
apr_status_t at_access_mint(request_rec *r, at_conn_t *conn,
                            const at_app_t *app, const char *subject,
                            const char *person, const char *grant_id,
                            const char *scope, long lifetime,
                            const char **token, int *db_failed);

/* Parses and verifies TOKEN as one of our access tokens. APR_SUCCESS with
 * *access filled; APR_EINVAL when it is not one (any reason). */
apr_status_t at_access_parse(request_rec *r, const char *token,
                             at_access_t **access);

/* --- revocation (issuer_revocation.c) ----------------------------------- */

/* Like at_revocation_is_revoked() but first brings the cache up to date
 * with REG (a connection the caller holds), for answers that must be
 * exact (introspection right after a revocation). */
int at_revocation_check_now(request_rec *r, at_registry_t *reg,
                            const char *jti, const char *client_id,
                            long long iat);

#endif /* AT_ISSUER_PRIVATE_H */
