/* The oauth-token handler: the RFC 6749 token endpoint for the
 * client_credentials (section 4.4) and refresh_token (section 6) grants;
 * authorization_code (section 4.1.3) is in issuer_code_grant.c.
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
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

#define OFFLINE_ACCESS "offline_access"

static int client_credentials(request_rec *r, at_conn_t *conn,
                              at_form_t *form, const at_app_t *app,
                              int *db_failed)
{
    const char *problem = NULL, *scope, *access, *refresh = NULL;
    apr_array_header_t *granted;
    long lifetime = at_token_access_lifetime(r, app);
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
    granted = at_grant_scope(r, app, apr_table_get(form->params, "scope"),
                             offline_ok, 0, &problem);
    if (!granted) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_scope",
                                     problem);
    }
    scope = at_scope_join(r->pool, granted);
    if (at_access_mint(r, conn, app, app->client_id, NULL, NULL, scope,
                       lifetime, &access, db_failed)
        != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (at_scope_has(granted, OFFLINE_ACCESS)) {
        err.text[0] = '\0';
        at_issuer_write_begin(conn);
        rv = at_refresh_issue(at_conn_registry(conn), r->pool,
                              app->client_id, app->client_id, scope,
                              at_token_refresh_lifetime(r, app), &refresh,
                              &err);
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
    return at_token_send(r, access, lifetime, scope, refresh, NULL);
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
        /* openid, like offline_access, is built in: a person's family
         * keeps it. */
        if (strcmp(s, OFFLINE_ACCESS) == 0 || strcmp(s, AT_SCOPE_OPENID) == 0
            || at_scope_has(app->scopes, s)) {
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
    const char *person;
    apr_array_header_t *granted = NULL;
    at_refresh_t *info = NULL;
    long lifetime = at_token_access_lifetime(r, app);
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
                           app->client_id, at_token_refresh_lifetime(r, app),
                           &next, &info, &err);
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
    /* A family of a person (authorization code) names them; one of client
     * credentials has the client as its subject. */
    person = info->subject && strcmp(info->subject, app->client_id) != 0
                 ? info->subject
                 : NULL;
    if (at_access_mint(r, conn, app, person ? person : app->client_id,
                       person, info->family_id, scope, lifetime, &access,
                       db_failed)
        != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return at_token_send(r, access, lifetime, scope, next, NULL);
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
    rv = at_issuer_authenticate_any(r, at_conn_registry(conn), form,
                                    &client, &db_failed);
    if (rv == AT_CONTINUE) {
        if (strcmp(grant, "client_credentials") == 0) {
            rv = client_credentials(r, conn, form, client->app,
                                    &db_failed);
        }
        else if (strcmp(grant, "refresh_token") == 0) {
            rv = refresh_token(r, conn, form, client->app, &db_failed);
        }
        else if (strcmp(grant, "authorization_code") == 0) {
            rv = at_grant_authorization_code(r, conn, form, client->app,
                                             &db_failed);
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
