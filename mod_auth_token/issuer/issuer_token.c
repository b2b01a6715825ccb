/* The oauth-token handler: the RFC 6749 token endpoint for the
 * client_credentials (section 4.4) and refresh_token (section 6) grants.
 *
 * Scope: what the client asks for must be among the application's scopes
 * (invalid_scope otherwise); nothing asked means all of them except
 * offline_access, so a refresh token is only ever issued on request.
 * offline_access yields a refresh token only for applications allowed the
 * refresh_token grant, and with client credentials only for those marked
 * offline_client_credentials (RFC 6749 section 4.4.3); otherwise it is
 * left out of the grant, which the response's scope then shows (RFC 6749
 * section 3.3 lets the server grant less than asked).
 *
 * Refresh tokens rotate on every use; a used one presented again revokes
 * its family (RFC 9700 section 4.14) and is invalid_grant. A refresh may
 * ask for a narrower scope for the new access token; the family keeps the
 * scope it was granted with (RFC 6749 section 6).
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

#define OFFLINE_ACCESS "offline_access"

static long access_lifetime(request_rec *r, const at_app_t *app)
{
    return app->access_lifetime > 0
               ? app->access_lifetime
               : at_srv_access_lifetime(at_srv_conf(r->server));
}

static long refresh_lifetime(request_rec *r, const at_app_t *app)
{
    return app->refresh_lifetime > 0
               ? app->refresh_lifetime
               : at_srv_refresh_lifetime(at_srv_conf(r->server));
}

/* The successful answer (RFC 6749 section 5.1). */
static int send_tokens(request_rec *r, const char *access, long lifetime,
                       const char *scope, const char *refresh)
{
    json_t *body = json_pack("{s:s, s:s, s:I}", "access_token", access,
                             "token_type", "Bearer", "expires_in",
                             (json_int_t)lifetime);

    if (scope && *scope) {
        json_object_set_new(body, "scope", json_string(scope));
    }
    if (refresh) {
        json_object_set_new(body, "refresh_token", json_string(refresh));
    }
    return at_issuer_send_json(r, HTTP_OK, body, 1);
}

/* What the client is granted of REQUESTED (NULL: not asked). NULL with
 * *problem set when it asked for something it may not have. */
static apr_array_header_t *grant_scope(request_rec *r, const at_app_t *app,
                                       const char *requested, int offline_ok,
                                       const char **problem)
{
    apr_array_header_t *asked, *granted;
    int i;

    granted = apr_array_make(r->pool, 4, sizeof(const char *));
    if (!requested) {
        for (i = 0; app->scopes && i < app->scopes->nelts; i++) {
            const char *s = APR_ARRAY_IDX(app->scopes, i, const char *);

            if (strcmp(s, OFFLINE_ACCESS) != 0) {
                APR_ARRAY_PUSH(granted, const char *) = s;
            }
        }
        return granted;
    }
    asked = at_scope_parse(r->pool, requested);
    if (!asked) {
        *problem = "malformed scope";
        return NULL;
    }
    for (i = 0; i < asked->nelts; i++) {
        const char *s = APR_ARRAY_IDX(asked, i, const char *);

        if (strcmp(s, OFFLINE_ACCESS) == 0) {
            if (offline_ok) {
                APR_ARRAY_PUSH(granted, const char *) = s;
            }
        }
        else if (at_scope_has(app->scopes, s)) {
            APR_ARRAY_PUSH(granted, const char *) = s;
        }
        else {
            *problem = apr_psprintf(r->pool, "scope %s not allowed", s);
            return NULL;
        }
    }
    return granted;
}

static int client_credentials(request_rec *r, at_conn_t *conn,
                              at_form_t *form, const at_app_t *app,
                              int *db_failed)
{
    const char *problem = NULL, *scope, *access, *refresh = NULL;
    apr_array_header_t *granted;
    long lifetime = access_lifetime(r, app);
    at_error_t err;
    apr_status_t rv;
    int offline_ok = at_scope_has(app->grants, "refresh_token")
                     && app->offline_client_credentials;

    if (!at_scope_has(app->grants, "client_credentials")
        || strcmp(app->type, "confidential") != 0) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                     "unauthorized_client",
                                     "client_credentials not allowed for "
                                     "this client");
    }
    granted = grant_scope(r, app, apr_table_get(form->params, "scope"),
                          offline_ok, &problem);
    if (!granted) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_scope",
                                     problem);
    }
    scope = at_scope_join(r->pool, granted);
    if (at_access_mint(r, conn, app, app->client_id, scope, lifetime, &access,
                       db_failed)
        != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (at_scope_has(granted, OFFLINE_ACCESS)) {
        err.text[0] = '\0';
        at_issuer_write_begin(conn);
        rv = at_refresh_issue(at_conn_registry(conn), r->pool,
                              app->client_id, app->client_id, scope,
                              refresh_lifetime(r, app), &refresh, &err);
        at_issuer_write_end(conn);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AT00440: cannot issue a refresh token: %s",
                          err.text);
            *db_failed = at_registry_failed(rv);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT00441: issued an access token%s to %s",
                  refresh ? " and a refresh token" : "",
                  at_log_item(r->pool, app->client_id));
    return send_tokens(r, access, lifetime, scope, refresh);
}

/* The scope of the access token a refresh yields: what was asked (or the
 * family's scope), less what the application has lost since. */
static apr_array_header_t *refresh_scope(request_rec *r, const at_app_t *app,
                                         const at_refresh_t *info,
                                         const char *requested,
                                         const char **problem)
{
    apr_array_header_t *family = at_scope_parse(r->pool, info->scope);
    apr_array_header_t *asked, *granted;
    int i;

    if (!family) {
        family = apr_array_make(r->pool, 1, sizeof(const char *));
    }
    asked = requested ? at_scope_parse(r->pool, requested) : family;
    if (!asked) {
        *problem = "malformed scope";
        return NULL;
    }
    granted = apr_array_make(r->pool, 4, sizeof(const char *));
    for (i = 0; i < asked->nelts; i++) {
        const char *s = APR_ARRAY_IDX(asked, i, const char *);

        if (!at_scope_has(family, s)) {
            *problem = apr_psprintf(r->pool, "scope %s exceeds the grant", s);
            return NULL;
        }
        if (strcmp(s, OFFLINE_ACCESS) == 0 || at_scope_has(app->scopes, s)) {
            APR_ARRAY_PUSH(granted, const char *) = s;
        }
    }
    return granted;
}

static int refresh_token(request_rec *r, at_conn_t *conn,
                         at_form_t *form, const at_app_t *app,
                         int *db_failed)
{
    const char *token = apr_table_get(form->params, "refresh_token");
    const char *problem = NULL, *scope, *access, *next = NULL, *requested;
    apr_array_header_t *granted = NULL;
    at_refresh_t *info = NULL;
    long lifetime = access_lifetime(r, app);
    at_error_t err;
    apr_status_t rv;

    if (!token) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                     "refresh_token missing");
    }
    if (!at_scope_has(app->grants, "refresh_token")) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                     "unauthorized_client",
                                     "refresh_token not allowed for this "
                                     "client");
    }
    /* Asking for a scope: a look first, for the family's scope, so that a
     * request for more than it holds is refused without consuming the
     * token. Without one the family's scope is granted, and the rotation
     * alone decides (one registry read less, on every node's hot path). */
    requested = apr_table_get(form->params, "scope");
    if (requested) {
        err.text[0] = '\0';
        rv = at_refresh_lookup(at_conn_registry(conn), r->pool, token, &info,
                               &err);
        if (rv == APR_SUCCESS
            && strcmp(info->client_id, app->client_id) != 0) {
            rv = APR_NOTFOUND;
        }
        if (rv == APR_NOTFOUND) {
            return at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                         "invalid_grant",
                                         "refresh token invalid or expired");
        }
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AT00442: cannot look a refresh token up: %s",
                          err.text);
            *db_failed = at_registry_failed(rv);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        granted = refresh_scope(r, app, info, requested, &problem);
        if (!granted) {
            return at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                         "invalid_scope", problem);
        }
    }

    at_issuer_write_begin(conn);
    rv = at_refresh_rotate(at_conn_registry(conn), r->pool, token,
                           app->client_id, refresh_lifetime(r, app), &next,
                           &info, &err);
    at_issuer_write_end(conn);
    if (at_registry_read_only(rv, &err)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00445: cannot rotate a refresh token: %s", err.text);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rv == APR_EACCES) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "AT00443: refresh token of %s used twice: its family "
                      "is revoked", at_log_item(r->pool, app->client_id));
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     "refresh token already used");
    }
    if (rv == APR_NOTFOUND) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     "refresh token invalid or expired");
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00444: cannot rotate a refresh token: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!granted) {
        /* The family's scope, less what the application has lost. */
        granted = refresh_scope(r, app, info, NULL, &problem);
    }
    scope = at_scope_join(r->pool, granted);
    if (at_access_mint(r, conn, app, info->subject ? info->subject
                                                  : app->client_id,
                       scope, lifetime, &access, db_failed)
        != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_tokens(r, access, lifetime, scope, next);
}

int at_handle_token(request_rec *r)
{
    at_form_t *form = NULL;
    at_client_t *client = NULL;
    at_conn_t *conn;
    const char *grant;
    int rv, db_failed = 0;

    rv = at_issuer_read_form(r, &form);
    if (rv != AT_CONTINUE) {
        return rv;
    }
    grant = apr_table_get(form->params, "grant_type");
    if (!grant) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                     "grant_type missing");
    }
    conn = at_issuer_acquire(r);
    if (!conn) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
        return at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    rv = at_issuer_authenticate(r, at_conn_registry(conn), form, &client,
                                &db_failed);
    if (rv == AT_CONTINUE) {
        if (strcmp(grant, "client_credentials") == 0) {
            rv = client_credentials(r, conn, form, client->app,
                                    &db_failed);
        }
        else if (strcmp(grant, "refresh_token") == 0) {
            rv = refresh_token(r, conn, form, client->app, &db_failed);
        }
        else {
            rv = at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                       "unsupported_grant_type",
                                       "grant_type not supported");
        }
    }
    rv = at_issuer_done(r, conn, db_failed, rv);
    if (rv >= 400) {
        /* httpd's own error page is a token response too. */
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
        apr_table_setn(r->err_headers_out, "Pragma", "no-cache");
    }
    return rv;
}
