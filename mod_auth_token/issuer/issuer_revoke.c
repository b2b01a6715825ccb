/* The oauth-revoke handler: RFC 7009 token revocation for authenticated
 * clients.
 *
 * A refresh token revokes its whole family; an access token (a JWT this
 * server signed) revokes its jti, honoured where AuthTokenRevocationCheck
 * is On. A client revokes only its own tokens. Whatever is not one of
 * them (unknown, expired, malformed, another client's) is answered 200 all
 * the same, as RFC 7009 section 2.2 asks: the client cannot act on the
 * difference, and telling it would reveal other clients' tokens. The
 * token_type_hint is only a hint (section 2.1): the token's own shape
 * decides, so both types are always supported and unsupported_token_type
 * never arises.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

/* A compact JWS has exactly two dots; our refresh tokens have none. */
static int looks_like_jwt(const char *token)
{
    const char *dot = strchr(token, '.');

    return dot && strchr(dot + 1, '.') != NULL;
}

static apr_status_t revoke_access(request_rec *r, at_registry_t *reg,
                                  const char *token, const at_app_t *app,
                                  at_error_t *err)
{
    at_access_t *access;

    if (at_access_parse(r, token, &access) != APR_SUCCESS) {
        return APR_NOTFOUND;
    }
    if (strcmp(access->client_id, app->client_id) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT00450: %s asked to revoke another client's access "
                      "token; ignored",
                      at_log_item(r->pool, app->client_id));
        return APR_NOTFOUND;
    }
    return at_jti_revoke(reg, r->pool, access->jti, app->client_id, err);
}

int at_handle_revoke(request_rec *r)
{
    at_form_t *form = NULL;
    at_client_t *client = NULL;
    at_conn_t *conn;
    const char *token;
    at_error_t err;
    apr_status_t status;
    int rv, db_failed = 0;

    rv = at_issuer_read_form(r, &form);
    if (rv != AT_CONTINUE) {
        return rv;
    }
    token = apr_table_get(form->params, "token");
    if (!token) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                     "token missing");
    }
    conn = at_issuer_acquire(r);
    if (!conn) {
        return at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    rv = at_issuer_authenticate(r, at_conn_registry(conn), form, &client,
                                &db_failed);
    if (rv == AT_CONTINUE) {
        err.text[0] = '\0';
        at_issuer_write_begin(conn);
        if (looks_like_jwt(token)) {
            status = revoke_access(r, at_conn_registry(conn), token,
                                   client->app, &err);
        }
        else {
            status = at_refresh_revoke(at_conn_registry(conn), r->pool, token,
                                       at_log_item(r->pool, client->app->client_id),
                                       at_log_item(r->pool, client->app->client_id), &err);
        }
        at_issuer_write_end(conn);
        /* Only "nothing of yours to revoke" is an answer of 200: a
         * read-only registry (APR_EACCES here) must not pass for one. */
        if (status == APR_SUCCESS || status == APR_NOTFOUND
            || status == APR_EINVAL) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "AT00451: revocation by %s: %s",
                          at_log_item(r->pool, client->app->client_id),
                          status == APR_SUCCESS ? "revoked"
                                                : "nothing to revoke");
            apr_table_setn(r->headers_out, "Cache-Control", "no-store");
            ap_set_content_length(r, 0);
            rv = OK;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, status, r,
                          "AT00452: cannot revoke a token: %s", err.text);
            db_failed = status != APR_EACCES ? at_registry_failed(status)
                                             : 0;
            rv = HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return at_issuer_done(r, conn, db_failed, rv);
}
