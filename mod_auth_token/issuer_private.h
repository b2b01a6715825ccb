/* What the issuer's files (issuer_*.c) share among themselves and nobody
 * else needs: the per-process registry connection pool, client
 * authentication and form parsing, and the JSON/error answer helpers.
 * The rest of the module sees only issuer.h. */
#ifndef AT_ISSUER_PRIVATE_H
#define AT_ISSUER_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"
#include <jansson.h>

#include "mod_auth_token.h"
#include "at_registry.h"

/* Largest form body read by the POST endpoints. */
#define AT_FORM_MAX_BYTES 16384

/* --- registry connections (issuer_hooks.c) ------------------------------ */

/* A registry connection borrowed for one request. Give it back with
 * at_issuer_release(), passing failed = 1 when a call on it failed with a
 * database error, so that the connection is dropped rather than reused. */
typedef struct at_conn at_conn_t;

/* Takes a connection to the registry of R's server from the per-process
 * pool (opening one when none is idle). NULL when the server has no
 * AuthTokenRegistry or the registry cannot be opened; the reason is logged
 * and the caller answers 500. */
at_conn_t *at_issuer_acquire(request_rec *r);
at_registry_t *at_conn_registry(at_conn_t *c);
void at_issuer_release(at_conn_t *c, int failed);

/* 1 when STATUS from a registry call means the database itself failed
 * (as opposed to "not found", "refused", "duplicate", "wrong secret"). */
int at_registry_failed(apr_status_t status);

/* The revocation cache of the registry REG_KEY belongs to the same
 * per-process state; issuer_revocation.c creates it from child_init. */
typedef struct at_revcache at_revcache_t;
at_revcache_t *at_revcache_create(apr_pool_t *p);
/* The cache of R's server's registry, or NULL without a registry. */
at_revcache_t *at_issuer_revcache(request_rec *r);

/* --- answers (issuer_respond.c) ----------------------------------------- */

/* Sends JSON with status (200 or an error status); sets Content-Type, and
 * for token-endpoint answers Cache-Control: no-store and Pragma: no-cache.
 * Returns OK (the handler's return value). Takes over JSON's reference. */
int at_issuer_send_json(request_rec *r, int status, json_t *json,
                        int no_store);

/* An RFC 6749 section 5.2 error: {"error": CODE, "error_description":
 * DESCRIPTION}, with no-store headers. For invalid_client after Basic
 * authentication BASIC_REALM_CHALLENGE adds WWW-Authenticate. */
int at_issuer_oauth_error(request_rec *r, int status, const char *code,
                          const char *description, int basic_challenge);

/* --- requests (issuer_form.c) ------------------------------------------- */

/* The parsed form of a POST endpoint. */
typedef struct at_form {
    apr_table_t *params;        /* name -> value, each name at most once */
} at_form_t;

/* What the client authenticated as. */
typedef struct at_client {
    at_app_t *app;
    int used_basic;             /* client_secret_basic (challenge on 401) */
} at_client_t;

/* Checks method (POST, else 405 + Allow), Content-Type
 * (application/x-www-form-urlencoded), reads the bounded body and parses
 * it; a repeated parameter, a malformed or oversized body is
 * invalid_request. Returns OK with *form filled, or the handler's return
 * value after an error answer was sent (DONE). */
int at_issuer_read_form(request_rec *r, at_form_t **form);

/* Authenticates the client from the Authorization: Basic header
 * (client_secret_basic, RFC 6749 2.3.1) or the client_id/client_secret
 * form parameters (client_secret_post), never both. Returns OK with
 * *client filled, or DONE after answering invalid_request /
 * invalid_client / 500. */
int at_issuer_authenticate(request_rec *r, at_registry_t *reg,
                           at_form_t *form, at_client_t **client,
                           int *db_failed);

#endif /* AT_ISSUER_PRIVATE_H */
