/* The authorization request (RFC 6749 4.1.1, RFC 7636 4.3, OpenID Connect
 * Core 3.1.2.1), checked in the contract's order:
 *
 * 1. client_id and redirect_uri: until both are trusted (sent once, a
 *    known and enabled application, a redirect URI equal byte for byte to
 *    one it registered, or omitted when it registered exactly one), the
 *    answer is the 400 page.
 * 2. Then every problem is a redirect with the error: a parameter sent
 *    twice, response_type, the application's grant, the scopes, PKCE
 *    (S256 only, required for public applications), prompt.
 *
 * Scopes: what the application may have (openid is built in; without a
 * scope parameter, all of its scopes but offline_access, as at the token
 * endpoint). offline_access is dropped without an error when the
 * application is not allowed the refresh_token grant: it would yield no
 * refresh token, and the person should not be asked for it.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

/* What the answers echo or store is bounded. */
#define PARAM_MAX 2048
/* A base64url SHA-256: RFC 7636 4.2. */
#define S256_CHALLENGE_LEN 43

const char *const at_authz_param_names[] = {
    "response_type", "client_id", "redirect_uri", "scope", "state",
    "code_challenge", "code_challenge_method", "nonce", "prompt",
    "response_mode", NULL};

/* Step 1: the application and where answers may go. AT_CONTINUE, or the
 * handler's return. */
static int trust_client(request_rec *r, at_conn_t *conn, at_authz_req_t *q,
                        int *db_failed)
{
    const char *client_id, *sent;
    at_app_t *app = NULL;
    at_error_t err;
    apr_status_t rv;
    int i, n;

    if (at_params_count(q->params, "client_id") > 1) {
        return at_authz_refuse(r, "The request names its application "
                               "(client_id) more than once.");
    }
    client_id = at_params_one(q->params, "client_id");
    if (!client_id) {
        return at_authz_refuse(r, "The request does not say which "
                               "application it is for (client_id is "
                               "missing).");
    }
    err.text[0] = '\0';
    rv = at_app_get(at_conn_registry(conn), r->pool, client_id, &app, &err);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01258: cannot read an application: %s", err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rv == APR_NOTFOUND || !app->enabled) {
        return at_authz_refuse(r, "The application of this request is not "
                               "known here, or it is disabled.");
    }
    q->app = app;
    if (at_params_count(q->params, "redirect_uri") > 1) {
        return at_authz_refuse(r, "The request names its return address "
                               "(redirect_uri) more than once.");
    }
    sent = at_params_one(q->params, "redirect_uri");
    n = app->redirect_uris ? app->redirect_uris->nelts : 0;
    if (sent) {
        /* Exact match: no prefixes, no wildcards, no normalisation. */
        for (i = 0; i < n; i++) {
            if (strcmp(APR_ARRAY_IDX(app->redirect_uris, i, const char *),
                       sent) == 0) {
                q->redirect_uri = sent;
                q->redirect_sent = 1;
                return AT_CONTINUE;
            }
        }
        return at_authz_refuse(r, "The return address (redirect_uri) of "
                               "this request is not one the application "
                               "registered.");
    }
    if (n == 1) {
        q->redirect_uri = APR_ARRAY_IDX(app->redirect_uris, 0, const char *);
        return AT_CONTINUE;
    }
    return at_authz_refuse(r, n ? "The request must name its return "
                                  "address (redirect_uri): the application "
                                  "registered several."
                                : "The application registered no return "
                                  "address (redirect URI).");
}

static int has_grant(const at_app_t *app, const char *grant)
{
    return at_scope_has(app->grants, grant);
}

static int base64url_only(const char *s)
{
    for (; *s; s++) {
        if (!apr_isalnum(*s) && *s != '-' && *s != '_') {
            return 0;
        }
    }
    return 1;
}

/* PKCE (RFC 7636 4.3, 4.4.1): S256 only; plain, or a challenge without a
 * method (which means plain), is refused. NULL or the problem. */
static const char *check_pkce(at_authz_req_t *q)
{
    const char *method = at_params_one(q->params, "code_challenge_method");

    q->challenge = at_params_one(q->params, "code_challenge");
    if (!q->challenge) {
        if (method) {
            return "code_challenge_method without code_challenge";
        }
        return strcmp(q->app->type, "public") == 0
                   ? "a public application must use PKCE (code_challenge "
                     "with code_challenge_method S256)"
                   : NULL;
    }
    if (!method || strcmp(method, "S256") != 0) {
        return "code_challenge_method must be S256 (plain is not "
               "supported)";
    }
    if (strlen(q->challenge) != S256_CHALLENGE_LEN
        || !base64url_only(q->challenge)) {
        return "malformed code_challenge (S256: 43 base64url characters)";
    }
    return NULL;
}

/* prompt (OpenID Connect Core 3.1.2.1): none and consent are acted on;
 * login and select_account cannot be, since signing in is Apache's, and
 * are accepted as they are. NULL or the problem. */
static const char *check_prompt(request_rec *r, at_authz_req_t *q)
{
    const char *prompt = at_params_one(q->params, "prompt");
    char *copy, *state, *tok;
    int n = 0;

    if (!prompt) {
        return NULL;
    }
    copy = apr_pstrdup(r->pool, prompt);
    for (tok = apr_strtok(copy, " ", &state); tok;
         tok = apr_strtok(NULL, " ", &state), n++) {
        q->prompt_none |= strcmp(tok, "none") == 0;
        q->prompt_consent |= strcmp(tok, "consent") == 0;
    }
    return q->prompt_none && n > 1 ? "prompt=none cannot be combined with "
                                     "another prompt"
                                   : NULL;
}

/* The request as the CSRF token binds it: every parameter it is made of,
 * length-prefixed so that no two requests read alike. */
static const char *binding(request_rec *r, const at_authz_req_t *q)
{
    const char *b = "";
    int i;

    for (i = 0; at_authz_param_names[i]; i++) {
        const char *v = at_params_one(q->params, at_authz_param_names[i]);

        b = apr_psprintf(r->pool, "%s%" APR_SIZE_T_FMT ":%s", b,
                         v ? strlen(v) : 0, v ? v : "");
    }
    return b;
}

/* Step 2. NULL, or the error code with *description set. */
static const char *check_request(request_rec *r, at_authz_req_t *q,
                                 const char **description)
{
    const char *response_type, *mode, *problem = NULL;
    int i;

    for (i = 0; i + 1 < q->params->nelts; i += 2) {
        const char *name = APR_ARRAY_IDX(q->params, i, const char *);

        if (at_params_count(q->params, name) > 1) {
            *description = apr_psprintf(r->pool, "parameter %s sent more "
                                        "than once", name);
            return "invalid_request";
        }
        if (strlen(APR_ARRAY_IDX(q->params, i + 1, const char *))
            > PARAM_MAX) {
            *description = apr_psprintf(r->pool, "parameter %s too long",
                                        name);
            return "invalid_request";
        }
    }
    /* Request objects (OpenID Connect Core 6) are not supported. */
    if (at_params_count(q->params, "request")) {
        *description = "request objects are not supported";
        return "request_not_supported";
    }
    if (at_params_count(q->params, "request_uri")) {
        *description = "request_uri is not supported";
        return "request_uri_not_supported";
    }
    response_type = at_params_one(q->params, "response_type");
    if (!response_type) {
        *description = "response_type missing";
        return "invalid_request";
    }
    if (strcmp(response_type, "code") != 0) {
        *description = "only response_type=code is supported";
        return "unsupported_response_type";
    }
    mode = at_params_one(q->params, "response_mode");
    if (mode && strcmp(mode, "query") != 0) {
        *description = "only response_mode=query is supported";
        return "invalid_request";
    }
    if (!has_grant(q->app, "authorization_code")) {
        *description = "this application is not allowed the "
                       "authorization_code grant";
        return "unauthorized_client";
    }
    q->scopes = at_grant_scope(r, q->app, at_params_one(q->params, "scope"),
                               has_grant(q->app, "refresh_token"), 1,
                               &problem);
    if (!q->scopes) {
        *description = problem;
        return "invalid_scope";
    }
    q->scope = at_scope_join(r->pool, q->scopes);
    if ((problem = check_pkce(q)) || (problem = check_prompt(r, q))) {
        *description = problem;
        return "invalid_request";
    }
    q->nonce = at_params_one(q->params, "nonce");
    return NULL;
}

int at_authz_req_read(request_rec *r, at_conn_t *conn, at_authz_req_t **req,
                      int *db_failed)
{
    at_authz_req_t *q = apr_pcalloc(r->pool, sizeof(*q));
    const char *problem = NULL, *error;
    int rv;

    rv = at_params_read(r, &q->params, &problem);
    if (rv != OK) {
        return at_authz_refuse(
            r, apr_pstrcat(r->pool, "The request cannot be read: ", problem,
                           ".", NULL));
    }
    rv = trust_client(r, conn, q, db_failed);
    if (rv != AT_CONTINUE) {
        return rv;
    }
    /* A state sent twice is not echoed: which one would it be? */
    q->state = at_params_one(q->params, "state");
    if ((error = check_request(r, q, &problem)) != NULL) {
        return at_authz_error(r, q, error, problem);
    }
    q->binding = binding(r, q);
    *req = q;
    return AT_CONTINUE;
}
