/* The oauth-introspect handler: RFC 7662 token introspection for
 * authenticated clients (401 invalid_client otherwise).
 *
 * Who may see what: any authenticated client may introspect our access
 * tokens, because the clients that introspect are typically resource
 * servers checking tokens issued to someone else (RFC 7662 section 2.1);
 * the answer holds only the token's own claims. Refresh tokens are
 * credentials of one client alone, so only that client learns that one is
 * active; for anyone else it is {"active": false}.
 *
 * Inactive is anything not currently valid: not ours, expired, revoked
 * (checked against the registry at once, not the one-second cache), or
 * belonging to an application since disabled or deleted. An inactive
 * answer says nothing more (section 2.2).
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

static const char *const ACCESS_MEMBERS[] = {
    "scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", NULL
};

/* 1 when CLIENT_ID names an enabled application, 0 when not, -1 when the
 * registry failed (logged). */
static int app_enabled(request_rec *r, at_registry_t *reg,
                       const char *client_id, int *db_failed)
{
    at_app_t *app;
    at_error_t err;
    apr_status_t rv;

    err.text[0] = '\0';
    rv = at_app_get(reg, r->pool, client_id, &app, &err);
    if (rv == APR_NOTFOUND) {
        return 0;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00460: cannot read an application: %s", err.text);
        *db_failed = at_registry_failed(rv);
        return -1;
    }
    return app->enabled ? 1 : 0;
}

/* The answer for an access token, NULL after a failure (logged). */
static json_t *introspect_access(request_rec *r, at_registry_t *reg,
                                 const char *token, int *db_failed)
{
    long long now = (long long)apr_time_sec(apr_time_now());
    at_access_t *a;
    json_t *body;
    int i, revoked, enabled;

    if (at_access_parse(r, token, &a) != APR_SUCCESS || a->exp <= now) {
        return json_pack("{s:b}", "active", 0);
    }
    revoked = at_revocation_check_now(r, reg, a->jti, a->client_id, a->iat);
    if (revoked < 0) {
        return NULL;
    }
    enabled = revoked ? 0 : app_enabled(r, reg, a->client_id, db_failed);
    if (enabled < 0) {
        return NULL;
    }
    if (revoked || !enabled) {
        return json_pack("{s:b}", "active", 0);
    }
    body = json_pack("{s:b, s:s}", "active", 1, "token_type", "Bearer");
    for (i = 0; ACCESS_MEMBERS[i]; i++) {
        json_t *v = json_object_get(a->claims, ACCESS_MEMBERS[i]);

        if (v) {
            json_object_set(body, ACCESS_MEMBERS[i], v);
        }
    }
    return body;
}

/* The answer for a refresh token, NULL after a failure (logged). */
static json_t *introspect_refresh(request_rec *r, at_registry_t *reg,
                                  const char *token, const at_app_t *caller,
                                  int *db_failed)
{
    at_refresh_t *info = NULL;
    at_error_t err;
    apr_status_t rv;
    json_t *body;

    err.text[0] = '\0';
    rv = at_refresh_lookup(reg, r->pool, token, &info, &err);
    if (at_registry_failed(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00461: cannot look a refresh token up: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return NULL;
    }
    if (rv != APR_SUCCESS || !info->active
        || strcmp(info->client_id, caller->client_id) != 0) {
        return json_pack("{s:b}", "active", 0);
    }
    body = json_pack("{s:b, s:s, s:s, s:I, s:I, s:s}", "active", 1,
                     "client_id", info->client_id, "token_type",
                     "refresh_token", "exp", (json_int_t)info->expires, "iat",
                     (json_int_t)info->issued, "scope",
                     info->scope ? info->scope : "");
    if (info->subject) {
        json_object_set_new(body, "sub", json_string(info->subject));
    }
    return body;
}

int at_handle_introspect(request_rec *r)
{
    at_form_t *form = NULL;
    at_client_t *client = NULL;
    at_conn_t *conn;
    const char *token;
    json_t *body = NULL;
    int rv, db_failed = 0;

    rv = at_issuer_read_form(r, &form);
    if (rv != AT_CONTINUE) {
        return rv;
    }
    conn = at_issuer_acquire(r);
    if (!conn) {
        return at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    rv = at_issuer_authenticate(r, at_conn_registry(conn), form, &client,
                                &db_failed);
    if (rv == AT_CONTINUE) {
        token = apr_table_get(form->params, "token");
        if (!token) {
            rv = at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                       "invalid_request", "token missing");
        }
        else {
            /* A compact JWS has two dots; our refresh tokens none. */
            const char *dot = strchr(token, '.');

            if (dot && strchr(dot + 1, '.')) {
                body = introspect_access(r, at_conn_registry(conn), token,
                                         &db_failed);
            }
            else {
                body = introspect_refresh(r, at_conn_registry(conn), token,
                                          client->app, &db_failed);
            }
            rv = body ? at_issuer_send_json(r, HTTP_OK, body, 1)
                      : HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return at_issuer_done(r, conn, db_failed, rv);
}
