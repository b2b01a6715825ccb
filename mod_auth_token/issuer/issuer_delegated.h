/* Delegated authorization inside the issuer: what its files share.
 *
 *   issuer_authorize.c      oauth-authorize: the request, in the contract's
 *                           order, the decision, the code
 *   issuer_authorize_req.c  reading and checking the authorization request
 *   issuer_redirect.c       answers of the authorization endpoint (302 to
 *                           the client, the 400 page) and their headers
 *   issuer_pages.c          the HTML templates (read at startup) and the
 *                           headers every page of a person carries
 *   issuer_consent_page.c   the consent page
 *   issuer_consents.c       oauth-consents: the person's applications
 *   issuer_csrf.c           CSRF tokens bound to a person and a request
 *   issuer_params.c         urlencoded parameters, repeats kept
 *   issuer_identity.c       the person's identity claims
 *                           (AuthTokenIdentityClaim) and what a scope
 *                           releases of them
 *   issuer_code_grant.c     grant_type=authorization_code, public clients
 *   issuer_id_token.c       OpenID Connect ID tokens
 *   issuer_userinfo.c       oauth-userinfo
 *   issuer_authz_config.c   AuthTokenCodeLifetime, AuthTokenIdentityClaim
 *
 * Log ids AT01250-AT01349.
 */
#ifndef AT_ISSUER_DELEGATED_H
#define AT_ISSUER_DELEGATED_H

#include "httpd.h"
#include "apr_tables.h"
#include <jansson.h>
#include <libxml/tree.h>

#include "issuer_private.h"
#include "at_registry_authz.h"

#define AT_SCOPE_OPENID  "openid"
#define AT_SCOPE_OFFLINE "offline_access"

/* --- handlers ----------------------------------------------------------- */

int at_handle_authorize(request_rec *r);
int at_handle_consents(request_rec *r);
int at_handle_userinfo(request_rec *r);

/* --- parameters (issuer_params.c) --------------------------------------- */

/* Parameters are kept in order as name, value, name, value... (const char
 * *), repeats included; names compare exactly. */

/* Parses application/x-www-form-urlencoded TEXT (modified in place) into
 * PARAMS. NULL on success, else what is wrong (a malformed escape, an
 * encoded NUL, a name missing). */
const char *at_params_parse(apr_pool_t *p, char *text,
                            apr_array_header_t *params);
/* The parameters of R: the query of a GET, the form body of a POST
 * (Content-Type application/x-www-form-urlencoded, at most
 * AT_FORM_MAX_BYTES). OK with *params set, or what is wrong in *problem
 * and an HTTP status (400, 413, 415). */
int at_params_read(request_rec *r, apr_array_header_t **params,
                   const char **problem);
/* How many times NAME occurs in PARAMS. */
int at_params_count(const apr_array_header_t *params, const char *name);
/* The value of NAME when it occurs once and is not empty, else NULL. */
const char *at_params_one(const apr_array_header_t *params,
                          const char *name);

/* --- the authorization request (issuer_authorize_req.c) ----------------- */

/* An authorization request that passed every check. */
typedef struct at_authz_req {
    apr_array_header_t *params;  /* as sent (issuer_params.c) */
    const at_app_t *app;
    const char *redirect_uri;    /* the registered URI answers go to */
    int redirect_sent;
    const char *state;           /* NULL when not sent */
    const char *scope;           /* what the application gets, joined */
    apr_array_header_t *scopes;  /* the same (const char *) */
    const char *challenge;       /* S256 code_challenge or NULL */
    const char *nonce;
    int prompt_none;
    int prompt_consent;
    const char *binding;         /* the request as CSRF tokens see it */
} at_authz_req_t;

/* The parameters an authorization request is made of, in the order the
 * consent form carries them. */
extern const char *const at_authz_param_names[];

/* Reads R's authorization request and checks it in the contract's order:
 * AT_CONTINUE with *req set; otherwise what the handler returns, the
 * answer given (the 400 page while client or redirect URI cannot be
 * trusted, a redirect with the error afterwards, 500). */
int at_authz_req_read(request_rec *r, at_conn_t *conn, at_authz_req_t **req,
                      int *db_failed);

/* The consent page for REQ (issuer_consent_page.c); AGAIN when an earlier
 * consent does not cover it. Returns what the handler returns. */
int at_consent_page(request_rec *r, at_conn_t *conn,
                    const at_authz_req_t *req, int again, int *db_failed);

/* --- answers of the authorization endpoint (issuer_redirect.c) ---------- */

/* The 400 page with WHY (nothing is sent to the application). */
int at_authz_refuse(request_rec *r, const char *why);
/* 302 to REQ's redirect URI with the error (RFC 6749 4.1.2.1, state and
 * iss included, RFC 9207). */
int at_authz_error(request_rec *r, const at_authz_req_t *req,
                   const char *error, const char *description);
/* 302 to REQ's redirect URI with CODE, state and iss. */
int at_authz_success(request_rec *r, const at_authz_req_t *req,
                     const char *code);

/* --- pages (issuer_pages.c) --------------------------------------------- */

/* post_config: reads the templates and the stylesheet into the
 * configuration of S, the main server. Where: the build tree's htdocs/
 * beside the module, else the installed share/mod_auth_token/htdocs. */
void at_pages_post_config(apr_pool_t *pconf, server_rec *s);
/* A fresh document from the template NAME ("consent.xhtml"...), with the
 * stylesheet in its <style id="style">. NULL when it cannot be had (the
 * reason is logged). */
xmlDocPtr at_page_new(request_rec *r, const char *name);
/* Sends DOC (freed) as HTML with STATUS and the headers of a person's
 * page: no-store, no framing, a Content-Security-Policy that allows only
 * the page's own stylesheet. Returns OK. */
int at_page_send(request_rec *r, int status, xmlDocPtr doc);
/* The security headers alone, for other answers to a person (redirects). */
void at_page_headers(request_rec *r, apr_table_t *headers);
/* The start of a person's page (oauth-authorize, oauth-consents): GET or
 * POST (405 otherwise), a person (REMOTE_USER; without one a 500 and a log
 * line naming the fix), the issuer configured, a registry connection.
 * AT_CONTINUE with *conn, or what the handler returns. */
int at_page_begin(request_rec *r, at_conn_t **conn);
/* Its end: gives CONN back and returns RV, with the page headers on
 * httpd's own error answers. */
int at_page_end(request_rec *r, at_conn_t *conn, int rv, int db_failed);
/* Sets the text of the element with id ID (its children replaced). */
void at_page_set_text(xmlDocPtr doc, const char *id, const char *text);

/* --- CSRF tokens (issuer_csrf.c) ---------------------------------------- */

void at_csrf_child_init(apr_pool_t *pchild, server_rec *main_s);
/* A token for PERSON and what it is for (PURPOSE and BINDING, e.g. the
 * authorization request), valid an hour. NULL when the registry's key
 * cannot be had (logged). */
const char *at_csrf_make(request_rec *r, at_conn_t *conn,
                         const char *purpose, const char *person,
                         const char *binding);
/* 1 when TOKEN was made by at_csrf_make for the same PURPOSE, PERSON and
 * BINDING less than an hour ago; 0 otherwise; -1 when the key cannot be
 * had (logged). Compared in constant time. */
int at_csrf_check(request_rec *r, at_conn_t *conn, const char *purpose,
                  const char *person, const char *binding,
                  const char *token);

/* --- identity claims (issuer_identity.c) -------------------------------- */

/* The person's claims as JSON object text from the AuthTokenIdentityClaim
 * variables of R's location (unset or empty ones left out); NULL when the
 * location names none. */
const char *at_identity_collect(request_rec *r);
/* Adds to OUT the claims of CLAIMS_TEXT (JSON object text, may be NULL)
 * that SCOPES (space separated) release: standard claims with their scope
 * (OpenID Connect Core 5.4: profile, email, address, phone), any other
 * name with openid. */
void at_identity_release(request_rec *r, const char *claims_text,
                         const char *scopes, json_t *out);
/* 1 when NAME may not be an identity claim (a claim the tokens set). */
int at_identity_reserved(const char *name);

/* --- tokens (issuer_id_token.c, issuer_code_grant.c) -------------------- */

/* An ID token (OpenID Connect Core 3.1.3.6) for APP from CODE, signed with
 * the first asymmetric signing key. APR_SUCCESS with *token; otherwise the
 * reason is logged. */
apr_status_t at_id_token_mint(request_rec *r, const at_app_t *app,
                              const at_code_t *code, const char **token);
/* The alg of the key that signs ID tokens, or NULL without one. */
const char *at_id_token_alg(request_rec *r);

/* The token endpoint's client authentication, public applications
 * included: without a secret (no Basic, no client_secret) a client_id of a
 * public application is enough (token_endpoint_auth_method none). Same
 * contract as at_issuer_authenticate. */
int at_issuer_authenticate_any(request_rec *r, at_registry_t *reg,
                               at_form_t *form, at_client_t **client,
                               int *db_failed);
/* The token endpoint's lifetimes for APP (its own, else the server's),
 * and its successful answer (RFC 6749 section 5.1; REFRESH and ID_TOKEN
 * may be NULL). (issuer_token.c) */
long at_token_access_lifetime(request_rec *r, const at_app_t *app);
long at_token_refresh_lifetime(request_rec *r, const at_app_t *app);
int at_token_send(request_rec *r, const char *access, long lifetime,
                  const char *scope, const char *refresh,
                  const char *id_token);
/* What a client is granted of REQUESTED (NULL: not asked, which means all
 * the application's scopes but offline_access). offline_access is granted
 * when OFFLINE_OK and silently left out otherwise; openid when OPENID_OK.
 * NULL with *problem set when it asked for something it may not have.
 * (issuer_token.c) */
apr_array_header_t *at_grant_scope(request_rec *r, const at_app_t *app,
                                   const char *requested, int offline_ok,
                                   int openid_ok, const char **problem);
/* The exchange ITEM in the process's group commit (issuer_record.c), with
 * the jtis and exchanges other threads are writing at the same moment:
 * ITEM's own result (APR_SUCCESS, APR_EACCES for a reused code whose
 * tokens are now revoked, APR_NOTFOUND unknown or expired), or a database
 * failure (*db_failed set). ITEM->refresh, when wanted, is made by the
 * caller. */
apr_status_t at_code_redeem_grouped(request_rec *r, at_conn_t *conn,
                                    at_redeem_t *item, at_error_t *err,
                                    int *db_failed);
/* grant_type=authorization_code (RFC 6749 4.1.3, RFC 7636 4.5). */
int at_grant_authorization_code(request_rec *r, at_conn_t *conn,
                                at_form_t *form, const at_app_t *app,
                                int *db_failed);

#endif /* AT_ISSUER_DELEGATED_H */
