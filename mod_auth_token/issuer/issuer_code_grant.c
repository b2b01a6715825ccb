/* grant_type=authorization_code at the token endpoint (RFC 6749 4.1.3,
 * RFC 7636 4.5), and the client authentication of public applications.
 *
 * A code is checked before it is consumed: another client's code, a
 * redirect_uri that differs from the authorization request's, a missing or
 * wrong code_verifier are invalid_grant and leave the code to its rightful
 * client (a code intercepted by someone who cannot prove the PKCE secret
 * cannot be spent). A code already used is invalid_grant and revokes
 * every token it issued (RFC 6749 4.1.2). The exchange itself (consume,
 * record the access token, start the refresh family) is one registry
 * transaction, so that of two concurrent redemptions exactly one wins and
 * the other finds everything the winner got.
 */
#include <string.h>

#include <openssl/evp.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"
#include "at_secret.h"

APLOG_USE_MODULE(auth_token);

int at_issuer_authenticate_any(request_rec *r, at_registry_t *reg,
                               at_form_t *form, at_client_t **client,
                               int *db_failed)
{
    const char *client_id = apr_table_get(form->params, "client_id");
    at_app_t *app = NULL;
    at_error_t err;
    apr_status_t rv;

    if (apr_table_get(r->headers_in, "Authorization")
        || apr_table_get(form->params, "client_secret") || !client_id) {
        return at_issuer_authenticate(r, reg, form, client, db_failed);
    }
    /* No secret at all: only a public application may do that. */
    err.text[0] = '\0';
    rv = at_app_get(reg, r->pool, client_id, &app, &err);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01270: cannot read an application: %s", err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rv == APR_NOTFOUND || !app->enabled
        || strcmp(app->type, "public") != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT01271: client %s sent no secret and is not an "
                      "enabled public application",
                      ap_escape_logitem(r->pool, client_id));
        return at_issuer_oauth_error(r, HTTP_UNAUTHORIZED, "invalid_client",
                                     "client authentication failed");
    }
    *client = apr_pcalloc(r->pool, sizeof(**client));
    (*client)->app = app;
    r->user = apr_pstrdup(r->pool, app->client_id);
    return AT_CONTINUE;
}

/* RFC 7636 4.1: 43 to 128 unreserved characters. */
static int verifier_ok(const char *v)
{
    size_t n = strlen(v);

    if (n < 43 || n > 128) {
        return 0;
    }
    for (; *v; v++) {
        if (!apr_isalnum(*v) && !strchr("-._~", *v)) {
            return 0;
        }
    }
    return 1;
}

/* BASE64URL(SHA256(verifier)) == challenge, in constant time. */
static int s256_matches(apr_pool_t *p, const char *verifier,
                        const char *challenge)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    const char *b64;

    if (!EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
                    NULL)) {
        return 0;
    }
    b64 = at_b64url_encode(p, md, mdlen);
    return at_consttime_eq(b64, strlen(b64), challenge, strlen(challenge));
}

/* What is wrong with presenting CODE with FORM, or NULL. */
static const char *code_mismatch(request_rec *r, const at_code_t *code,
                                 at_form_t *form)
{
    const char *redirect = apr_table_get(form->params, "redirect_uri");
    const char *verifier = apr_table_get(form->params, "code_verifier");

    if (code->expires <= (long long)apr_time_sec(apr_time_now())) {
        return "authorization code expired";
    }
    if (code->redirect_sent ? !redirect
                                  || strcmp(redirect, code->redirect_uri)
                            : redirect
                                  && strcmp(redirect, code->redirect_uri)) {
        return "redirect_uri differs from the authorization request's";
    }
    if (!code->challenge) {
        /* A verifier for a code issued without a challenge: someone
         * injected a code into a PKCE client (RFC 9700 4.8.2). */
        return verifier ? "code_verifier sent, but the authorization "
                          "request had no code_challenge"
                        : NULL;
    }
    if (!verifier) {
        return "code_verifier missing";
    }
    if (!verifier_ok(verifier)
        || !s256_matches(r->pool, verifier, code->challenge)) {
        return "code_verifier does not match the code_challenge";
    }
    return NULL;
}

/* Everything issued from VALUE goes: it was presented a second time. */
static int reused(request_rec *r, at_conn_t *conn, const at_app_t *app,
                  const char *value, int *db_failed)
{
    at_error_t err;
    apr_status_t rv;

    err.text[0] = '\0';
    at_issuer_write_begin(conn);
    rv = at_code_revoke_grant(at_conn_registry(conn), r->pool, value,
                              "issuer", &err);
    at_issuer_write_end(conn);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01272: cannot revoke what a reused code issued: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "AT01273: authorization code of %s used twice: every "
                  "token it issued is revoked", app->client_id);
    return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                 "authorization code already used");
}

int at_grant_authorization_code(request_rec *r, at_conn_t *conn,
                                at_form_t *form, const at_app_t *app,
                                int *db_failed)
{
    const char *value = apr_table_get(form->params, "code");
    const char *problem, *access, *id_token = NULL, *refresh = NULL;
    long lifetime = at_token_access_lifetime(r, app), refresh_life = 0;
    apr_array_header_t *scopes;
    at_code_t *code = NULL;
    at_jti_rec_t rec;
    at_error_t err;
    apr_status_t rv;

    if (!value) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                     "code missing");
    }
    if (!at_scope_has(app->grants, "authorization_code")) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                     "unauthorized_client",
                                     "authorization_code not allowed for "
                                     "this client");
    }
    err.text[0] = '\0';
    rv = at_code_lookup(at_conn_registry(conn), r->pool, value, &code, &err);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01274: cannot look an authorization code up: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rv == APR_NOTFOUND || strcmp(code->client_id, app->client_id) != 0) {
        if (rv == APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "AT01275: %s presented an authorization code "
                          "issued to another client", app->client_id);
        }
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     "authorization code invalid or "
                                     "expired");
    }
    if (code->used_at) {
        return reused(r, conn, app, value, db_failed);
    }
    if ((problem = code_mismatch(r, code, form)) != NULL) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     problem);
    }

    scopes = at_scope_parse(r->pool, code->scope);
    if (scopes && at_scope_has(scopes, AT_SCOPE_OFFLINE)
        && at_scope_has(app->grants, "refresh_token")) {
        refresh_life = at_token_refresh_lifetime(r, app);
    }
    if (at_access_sign(r, app, code->subject, code->scope, lifetime, &access,
                       &rec)
            != APR_SUCCESS
        || (scopes && at_scope_has(scopes, AT_SCOPE_OPENID)
            && at_id_token_mint(r, app, code, &id_token) != APR_SUCCESS)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rec.subject = code->subject;
    err.text[0] = '\0';
    at_issuer_write_begin(conn);
    rv = at_code_redeem(at_conn_registry(conn), r->pool, value, &rec,
                        code->scope, refresh_life, &refresh, &err);
    at_issuer_write_end(conn);
    if (rv == APR_EACCES && !at_registry_read_only(rv, &err)) {
        /* Another redemption won meanwhile; what it got is revoked. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "AT01278: authorization code of %s used twice: every "
                      "token it issued is revoked", app->client_id);
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     "authorization code already used");
    }
    if (rv == APR_NOTFOUND) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     "authorization code invalid or "
                                     "expired");
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01276: cannot redeem an authorization code: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT01277: code of %s redeemed for %s%s%s", app->client_id,
                  ap_escape_logitem(r->pool, code->subject),
                  refresh ? ", with a refresh token" : "",
                  id_token ? ", with an ID token" : "");
    return at_token_send(r, access, lifetime, code->scope, refresh,
                         id_token);
}
