/* The oauth-consents handler: the signed-in person's own page of the
 * applications they allowed (name, what it may do, since when), each with
 * a "Revoke access" button. Revoking (a POST with a CSRF token bound to
 * the person and the application) withdraws the consent, ends the
 * person's refresh-token families for that application and revokes every
 * access token issued to them for it until now (honoured where
 * AuthTokenRevocationCheck On); then the page is shown again (303, so a
 * reload does not post twice).
 *
 * Same authentication as oauth-authorize: REMOTE_USER is the person, and
 * a location without authentication is a 500 naming the fix.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"
#include "html.h"

APLOG_USE_MODULE(auth_token);

static const char *when(apr_pool_t *p, long long t)
{
    apr_time_exp_t tm;
    char buf[64];
    apr_size_t len = 0;

    apr_time_exp_gmt(&tm, apr_time_from_sec(t));
    apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
    return apr_pstrmemdup(p, buf, len);
}

/* The row's "Revoke access" form; 0, or -1 without a CSRF token. */
static int revoke_form(request_rec *r, at_conn_t *conn, xmlNodePtr td,
                       const at_consent_t *c)
{
    const char *csrf = at_csrf_make(r, conn, "consents", r->user,
                                    c->client_id);
    xmlNodePtr form, in, button;

    if (!csrf) {
        return -1;
    }
    form = html_el(td, "form", NULL);
    html_attr(form, "method", "post");
    html_attr(form, "action", r->parsed_uri.path ? r->parsed_uri.path
                                                 : r->uri);
    in = html_el(form, "input", NULL);
    html_attr(in, "type", "hidden");
    html_attr(in, "name", "client_id");
    html_attr(in, "value", c->client_id);
    in = html_el(form, "input", NULL);
    html_attr(in, "type", "hidden");
    html_attr(in, "name", "csrf");
    html_attr(in, "value", csrf);
    button = html_el(form, "button", "Revoke access");
    html_attr(button, "type", "submit");
    html_attr(button, "class", "danger");
    return 0;
}

static int list_page(request_rec *r, at_conn_t *conn, int *db_failed)
{
    const char *issuer = at_srv_issuer_name(at_srv_conf(r->server));
    apr_array_header_t *consents = NULL;
    xmlNodePtr tbody, tr, td;
    at_error_t err;
    apr_status_t rv;
    xmlDocPtr doc;
    int i;

    err.text[0] = '\0';
    rv = at_consent_list(at_conn_registry(conn), r->pool, r->user, NULL,
                         &consents, &err);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01290: cannot list a person's consents: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(doc = at_page_new(r, "consents.xhtml"))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (issuer) {
        at_page_set_text(doc, "issuer", issuer);
    }
    at_page_set_text(doc, "person", r->user);
    if (!r->args || strcmp(r->args, "revoked=1") != 0) {
        html_remove(html_by_id(doc, "notice"));
    }
    tbody = html_by_id(doc, "consent-rows");
    for (i = 0; i < consents->nelts; i++) {
        const at_consent_t *c = APR_ARRAY_IDX(consents, i, at_consent_t *);

        tr = html_el(tbody, "tr", NULL);
        html_attr(html_el(tr, "td", c->app_name), "data-label",
                  "Application");
        html_attr(html_el(tr, "td", *c->scope ? c->scope : "(sign-in only)"),
                  "data-label", "Allowed to");
        html_attr(html_el(tr, "td", when(r->pool, c->updated)),
                  "data-label", "Since");
        td = html_el(tr, "td", NULL);
        html_attr(td, "data-label", "Action");
        if (revoke_form(r, conn, td, c) != 0) {
            xmlFreeDoc(doc);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    html_remove(html_by_id(doc, consents->nelts ? "consents-empty"
                                                : "consents"));
    return at_page_send(r, HTTP_OK, doc);
}

static int revoke_access(request_rec *r, at_conn_t *conn, int *db_failed)
{
    apr_array_header_t *params = NULL;
    const char *problem = NULL, *client_id, *csrf;
    at_error_t err;
    apr_status_t rv;
    int ok;

    ok = at_params_read(r, &params, &problem);
    if (ok != OK) {
        return at_authz_refuse(r, apr_pstrcat(r->pool, "The form cannot be "
                                              "read: ", problem, ".", NULL));
    }
    client_id = at_params_one(params, "client_id");
    csrf = at_params_one(params, "csrf");
    ok = client_id ? at_csrf_check(r, conn, "consents", r->user, client_id,
                                   csrf)
                   : 0;
    if (ok < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!ok) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "AT01291: a revocation by %s without a valid CSRF "
                      "token was refused",
                      ap_escape_logitem(r->pool, r->user));
        return at_authz_refuse(r, "This form was not sent from your page "
                               "of applications, or that page is too old. "
                               "Nothing was changed.");
    }
    err.text[0] = '\0';
    at_issuer_write_begin(conn);
    rv = at_consent_revoke(at_conn_registry(conn), r->pool, r->user,
                           client_id, r->user, &err);
    at_issuer_write_end(conn);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01292: cannot revoke a consent: %s", err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT01293: %s revoked the access of %s%s",
                  ap_escape_logitem(r->pool, r->user),
                  ap_escape_logitem(r->pool, client_id),
                  rv == APR_NOTFOUND ? " (nothing was left to revoke)" : "");
    /* Post/Redirect/Get: a reload shows the page, it does not post. */
    r->status = HTTP_SEE_OTHER;
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, r->parsed_uri.path ? r->parsed_uri.path
                                                           : r->uri,
                               "?revoked=1", NULL));
    at_page_headers(r, r->headers_out);
    ap_set_content_length(r, 0);
    return OK;
}

int at_handle_consents(request_rec *r)
{
    at_conn_t *conn = NULL;
    int rv, db_failed = 0;

    rv = at_page_begin(r, &conn);
    if (rv != AT_CONTINUE) {
        return rv;
    }
    rv = r->method_number == M_POST ? revoke_access(r, conn, &db_failed)
                                    : list_page(r, conn, &db_failed);
    return at_page_end(r, conn, rv, db_failed);
}
