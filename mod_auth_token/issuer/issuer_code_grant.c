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

/* What is wrong with presenting CODE with FORM, or NULL: the registry
 * asks this inside the exchange, before it consumes the code. */
typedef struct presented {
    request_rec *r;
    at_form_t *form;
} presented_t;

static const char *code_mismatch(const at_code_t *code, void *ctx)
{
    presented_t *pr = ctx;
    const char *redirect = apr_table_get(pr->form->params, "redirect_uri");
    const char *verifier = apr_table_get(pr->form->params, "code_verifier");

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
        || !s256_matches(pr->r->pool, verifier, code->challenge)) {
        return "code_verifier does not match the code_challenge";
    }
    return NULL;
}

int at_grant_authorization_code(request_rec *r, at_conn_t *conn,
                                at_form_t *form, const at_app_t *app,
                                int *db_failed)
{
    const char *value = apr_table_get(form->params, "code");
    long lifetime = at_token_access_lifetime(r, app);
    const char *access, *id_token = NULL;
    presented_t pr = {r, form};
    apr_array_header_t *scopes;
    at_redeem_t item;
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
    memset(&item, 0, sizeof(item));
    item.value = value;
    item.client_id = app->client_id;
    item.check = code_mismatch;
    item.ctx = &pr;
    item.pool = r->pool;
    if (at_access_new(r, app, lifetime, &item.jti) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Issued only when the code's scope holds offline_access. */
    if (at_scope_has(app->grants, "refresh_token")) {
        item.refresh_lifetime = at_token_refresh_lifetime(r, app);
        if (at_secret_generate(r->pool, &item.refresh) != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    /* One transaction, shared with other threads' writes: the code looked
     * up, checked, consumed, the token recorded. */
    err.text[0] = '\0';
    rv = at_code_redeem_grouped(r, conn, &item, &err, db_failed);
    if (rv == APR_EACCES && !at_registry_read_only(rv, &err)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "AT01273: authorization code of %s used twice: every "
                      "token it issued is revoked", app->client_id);
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     item.problem);
    }
    if (rv == APR_NOTFOUND || rv == APR_EINVAL) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                                     item.problem);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01276: cannot redeem an authorization code: %s",
                      err.text);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Signed once the exchange is committed: the jti is on record before
     * the token exists. */
    scopes = at_scope_parse(r->pool, item.code->scope);
    if (at_access_sign(r, app, item.code->subject, item.code->scope,
                       lifetime, &item.jti, &access)
            != APR_SUCCESS
        || (scopes && at_scope_has(scopes, AT_SCOPE_OPENID)
            && at_id_token_mint(r, app, item.code, &id_token)
                   != APR_SUCCESS)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT01277: code of %s redeemed for %s%s%s", app->client_id,
                  ap_escape_logitem(r->pool, item.code->subject),
                  item.refresh ? ", with a refresh token" : "",
                  id_token ? ", with an ID token" : "");
    return at_token_send(r, access, lifetime, item.code->scope,
                         item.refresh, id_token);
}
