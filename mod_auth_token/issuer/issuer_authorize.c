/* The oauth-authorize handler: the authorization endpoint of RFC 6749
 * section 4.1 with PKCE (RFC 7636) and OpenID Connect's nonce and prompt.
 *
 * The person is whoever Apache authentication put in REMOTE_USER at this
 * location (Basic, mod_auth_form, mod_auth_openidc, LDAP...): the module
 * keeps no passwords. A location without authentication is a
 * configuration mistake, answered 500 with a log line that names the fix.
 *
 * After the request passed its checks (issuer_authorize_req.c):
 * - a POST carrying a decision from the consent page is acted on only
 *   with a CSRF token made for this person and this very request; Deny is
 *   access_denied, Allow remembers the consent and issues a code;
 * - otherwise a remembered consent covering every scope asked for (or an
 *   application marked skip_consent) issues a code at once, unless
 *   prompt=consent asks for the page; prompt=none without such a consent
 *   is consent_required; anything else shows the consent page.
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

/* 1 when every scope of WANT is in HAVE (space separated). */
static int covered_by(request_rec *r, const apr_array_header_t *want,
                      const char *have)
{
    apr_array_header_t *allowed = at_scope_parse(r->pool, have);
    int i;

    for (i = 0; allowed && i < want->nelts; i++) {
        if (!at_scope_has(allowed, APR_ARRAY_IDX(want, i, const char *))) {
            return 0;
        }
    }
    return allowed != NULL;
}

static int issue_code(request_rec *r, at_conn_t *conn,
                      const at_authz_req_t *req, int *db_failed)
{
    at_code_t code;
    const char *value = NULL;
    at_error_t err;
    apr_status_t rv;

    memset(&code, 0, sizeof(code));
    code.client_id = req->app->client_id;
    code.subject = r->user;
    code.redirect_uri = req->redirect_uri;
    code.redirect_sent = req->redirect_sent;
    code.scope = req->scope;
    code.challenge = req->challenge;
    code.nonce = req->nonce;
    code.claims = at_identity_collect(r);
    /* Apache authenticated the person for this very request. */
    code.auth_time = apr_time_sec(r->request_time);
    err.text[0] = '\0';
    at_issuer_write_begin(conn);
    rv = at_code_issue(at_conn_registry(conn), r->pool, &code,
                       at_srv_code_lifetime(at_srv_conf(r->server)), &value,
                       &err);
    at_issuer_write_end(conn);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01262: cannot issue an authorization code: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return at_authz_success(r, req, value);
}

/* A decision posted from the consent page. */
static int decision(request_rec *r, at_conn_t *conn,
                    const at_authz_req_t *req, const char *choice,
                    int *db_failed)
{
    const char *csrf = at_params_one(req->params, "csrf");
    at_error_t err;
    apr_status_t rv;
    int ok;

    ok = at_csrf_check(r, conn, "consent", r->user, req->binding, csrf);
    if (ok < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ok) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "AT01261: a consent decision for %s by %s without a "
                      "valid CSRF token was refused (missing, expired, "
                      "another person's or another request's)",
                      req->app->client_id,
                      ap_escape_logitem(r->pool, r->user));
        return at_authz_refuse(r, "This decision was not made on the "
                               "consent page shown to you for this "
                               "request, or that page is too old. "
                               "Nothing was changed.");
    }
    if (strcmp(choice, "deny") == 0) {
        return at_authz_error(r, req, "access_denied",
                              "the person denied the request");
    }
    if (strcmp(choice, "allow") != 0) {
        return at_authz_refuse(r, "The consent page sent an unknown "
                               "decision. Nothing was changed.");
    }
    if (!req->app->skip_consent) {
        err.text[0] = '\0';
        at_issuer_write_begin(conn);
        rv = at_consent_save(at_conn_registry(conn), r->pool, r->user,
                             req->app->client_id, req->scope, &err);
        at_issuer_write_end(conn);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AT01263: cannot remember a consent: %s",
                          err.text);
            *db_failed = at_registry_failed(rv);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return issue_code(r, conn, req, db_failed);
}

static int decide(request_rec *r, at_conn_t *conn, const at_authz_req_t *req,
                  int *db_failed)
{
    const char *choice = r->method_number == M_POST
                             ? at_params_one(req->params, "decision")
                             : NULL;
    at_consent_t *consent = NULL;
    at_error_t err;
    apr_status_t rv;
    int covered;

    if (choice || (r->method_number == M_POST
                   && at_params_count(req->params, "decision"))) {
        return decision(r, conn, req, choice ? choice : "", db_failed);
    }
    covered = req->app->skip_consent;
    if (!covered) {
        err.text[0] = '\0';
        rv = at_consent_get(at_conn_registry(conn), r->pool, r->user,
                            req->app->client_id, &consent, &err);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AT01264: cannot read a consent: %s", err.text);
            *db_failed = at_registry_failed(rv);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        covered = consent && covered_by(r, req->scopes, consent->scope);
    }
    if (req->prompt_none && !covered) {
        return at_authz_error(r, req, "consent_required",
                              "the person has not allowed this "
                              "application these scopes");
    }
    if (covered && (!req->prompt_consent || req->app->skip_consent)) {
        return issue_code(r, conn, req, db_failed);
    }
    return at_consent_page(r, conn, req, consent != NULL, db_failed);
}

int at_handle_authorize(request_rec *r)
{
    at_authz_req_t *req = NULL;
    at_conn_t *conn = NULL;
    int rv, db_failed = 0;

    /* HEAD would issue a code nobody sees. */
    if (r->header_only) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    rv = at_page_begin(r, &conn);
    if (rv != AT_CONTINUE) {
        return rv;
    }
    rv = at_authz_req_read(r, conn, &req, &db_failed);
    if (rv == AT_CONTINUE) {
        rv = decide(r, conn, req, &db_failed);
    }
    return at_page_end(r, conn, rv, db_failed);
}
