/* The oauth-userinfo handler (OpenID Connect Core 1.0 section 5.3): a
 * Bearer access token of this issuer that holds the openid scope gets
 * {"sub": ..., the identity claims its scopes release}. The claims are the
 * person's as last seen at the authorization endpoint.
 *
 * Errors as RFC 6750 section 3: no Bearer credentials is a 401 challenge
 * without error; an invalid, expired, revoked token or one of an
 * application disabled since is invalid_token; a token without openid is
 * 403 insufficient_scope. The token is only read from the Authorization
 * header, as on every resource location.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

static int challenge(request_rec *r, int status, const char *error,
                     const char *description)
{
    const char *value = apr_psprintf(r->pool, "Bearer realm=\"%s\"",
                                     at_issuer_realm(r));

    if (error) {
        value = apr_psprintf(r->pool, "%s, error=\"%s\", "
                             "error_description=\"%s\"%s", value, error,
                             description,
                             status == HTTP_FORBIDDEN ? ", scope=\"openid\""
                                                      : "");
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT01285: userinfo answered %d %s: %s", status, error,
                      description);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", value);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return status;
}

/* The bearer token of R, "" for "Bearer" without one, NULL for none. */
static const char *bearer(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");

    if (!h || strncasecmp(h, "Bearer", 6) != 0
        || (h[6] != ' ' && h[6] != '\0')) {
        return NULL;
    }
    h += 6;
    while (*h == ' ') {
        h++;
    }
    return h;
}

/* Still good: not expired, not revoked, its application still enabled. 1,
 * 0 (then *why is set), or -1 when the registry failed. */
static int still_valid(request_rec *r, at_conn_t *conn,
                       const at_access_t *access, const char **why,
                       int *db_failed)
{
    at_app_t *app = NULL;
    at_error_t err;
    apr_status_t rv;
    int revoked;

    if (access->exp <= (long long)apr_time_sec(apr_time_now())) {
        *why = "the access token expired";
        return 0;
    }
    revoked = at_revocation_check_now(r, at_conn_registry(conn), access->jti,
                                      access->client_id, access->iat);
    if (revoked != 0) {
        *why = "the access token was revoked";
        return revoked < 0 ? -1 : 0;
    }
    err.text[0] = '\0';
    rv = at_app_get(at_conn_registry(conn), r->pool, access->client_id, &app,
                    &err);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01286: cannot read an application: %s", err.text);
        *db_failed = at_registry_failed(rv);
        return -1;
    }
    if (rv == APR_NOTFOUND || !app->enabled) {
        *why = "the application is disabled or deleted";
        return 0;
    }
    return 1;
}

static int answer(request_rec *r, at_conn_t *conn, const at_access_t *access,
                  int *db_failed)
{
    json_t *sub = json_object_get(access->claims, "sub");
    json_t *scope = json_object_get(access->claims, "scope");
    const char *claims = NULL, *why = NULL;
    apr_array_header_t *scopes;
    at_error_t err;
    apr_status_t rv;
    json_t *body;
    int ok;

    ok = still_valid(r, conn, access, &why, db_failed);
    if (ok < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ok) {
        return challenge(r, HTTP_UNAUTHORIZED, "invalid_token", why);
    }
    scopes = at_scope_parse(r->pool, json_is_string(scope)
                                         ? json_string_value(scope)
                                         : "");
    if (!json_is_string(sub) || !scopes
        || !at_scope_has(scopes, AT_SCOPE_OPENID)) {
        return challenge(r, HTTP_FORBIDDEN, "insufficient_scope",
                         "the access token does not hold the openid scope");
    }
    err.text[0] = '\0';
    rv = at_identity_get(at_conn_registry(conn), r->pool,
                         json_string_value(sub), &claims, &err);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01287: cannot read a person's identity: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    body = json_pack("{s:O}", "sub", sub);
    at_identity_release(r, rv == APR_SUCCESS ? claims : NULL,
                        json_string_value(scope), body);
    return at_issuer_send_json(r, HTTP_OK, body, 1);
}

int at_handle_userinfo(request_rec *r)
{
    const char *token;
    at_access_t *access = NULL;
    at_conn_t *conn;
    int rv, db_failed = 0;

    /* A CORS preflight of a browser application (its headers are the
     * operator's, mod_headers): nothing to answer but the methods. */
    if (r->method_number == M_OPTIONS) {
        apr_table_setn(r->headers_out, "Allow", "GET, POST, OPTIONS");
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    if (r->method_number != M_GET && r->method_number != M_POST) {
        /* httpd's 405 names these in Allow. */
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    token = bearer(r);
    if (!token) {
        return challenge(r, HTTP_UNAUTHORIZED, NULL, NULL);
    }
    if (!*token) {
        return challenge(r, HTTP_BAD_REQUEST, "invalid_request",
                         "Bearer without a token");
    }
    if (at_access_parse(r, token, &access) != APR_SUCCESS) {
        return challenge(r, HTTP_UNAUTHORIZED, "invalid_token",
                         "not an access token of this issuer");
    }
    conn = at_issuer_acquire(r);
    if (!conn) {
        return at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    rv = answer(r, conn, access, &db_failed);
    return at_issuer_done(r, conn, db_failed, rv);
}
