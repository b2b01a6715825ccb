/* The consent page: htdocs/consent.xhtml filled with the application (name
 * and description), the signed-in person, every scope asked for with its
 * description, and where the person returns to. One POST form carries the
 * request's own parameters back to the authorization endpoint, the CSRF
 * token bound to the person and to this request, and the two buttons
 * Allow and Deny. Everything from the registry or the request reaches the
 * page as text nodes and attribute values only.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "apr_uri.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"
#include "html.h"

APLOG_USE_MODULE(auth_token);

/* name -> description of every scope. NULL on a registry failure (logged). */
static apr_table_t *scope_descriptions(request_rec *r, at_conn_t *conn,
                                       int *db_failed)
{
    apr_array_header_t *scopes = NULL;
    apr_table_t *t;
    at_error_t err;
    apr_status_t rv;
    int i;

    err.text[0] = '\0';
    rv = at_scope_list(at_conn_registry(conn), r->pool, &scopes, &err);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01259: cannot list the scopes: %s", err.text);
        *db_failed = at_registry_failed(rv);
        return NULL;
    }
    t = apr_table_make(r->pool, scopes->nelts);
    for (i = 0; i < scopes->nelts; i++) {
        const at_scope_t *s = APR_ARRAY_IDX(scopes, i, const at_scope_t *);

        apr_table_setn(t, s->name, s->description);
    }
    return t;
}

/* The scopes' list items: the registry's description (or the name when
 * there is none) and the name; offline_access has its own wording in the
 * template, moved to the end of the list. */
static void fill_scopes(xmlDocPtr doc, const at_authz_req_t *req,
                        apr_table_t *descriptions)
{
    xmlNodePtr list = html_by_id(doc, "scopes");
    xmlNodePtr offline = html_by_id(doc, "scope-offline");
    int i, shown = 0;

    for (i = 0; i < req->scopes->nelts; i++) {
        const char *name = APR_ARRAY_IDX(req->scopes, i, const char *);
        const char *desc = apr_table_get(descriptions, name);
        xmlNodePtr li, span;

        shown++;
        if (strcmp(name, AT_SCOPE_OFFLINE) == 0) {
            continue;
        }
        li = html_el(list, "li", NULL);
        html_attr(li, "class", "scope");
        span = html_el(li, "span", desc && *desc ? desc : name);
        html_attr(span, "class", "scope-desc");
        html_text(li, " ");
        span = html_el(li, "span", name);
        html_attr(span, "class", "scope-name mono");
    }
    if (offline) {
        xmlUnlinkNode(offline);
        if (at_scope_has(req->scopes, AT_SCOPE_OFFLINE)) {
            xmlUnsetProp(offline, BAD_CAST "id");
            xmlAddChild(list, offline);
        }
        else {
            xmlFreeNode(offline);
        }
    }
    if (shown) {
        html_remove(html_by_id(doc, "no-scopes"));
    }
    else {
        html_remove(list);
    }
}

static void hidden(xmlNodePtr form, const char *name, const char *value)
{
    xmlNodePtr in = html_el(form, "input", NULL);

    html_attr(in, "type", "hidden");
    html_attr(in, "name", name);
    html_attr(in, "value", value);
}

/* scheme://host[:port] of URI: what the person is sent back to. */
static const char *origin(apr_pool_t *p, const char *uri)
{
    apr_uri_t u;

    if (apr_uri_parse(p, uri, &u) != APR_SUCCESS || !u.scheme
        || !u.hostinfo) {
        return uri;
    }
    return apr_pstrcat(p, u.scheme, "://", u.hostinfo, NULL);
}

int at_consent_page(request_rec *r, at_conn_t *conn,
                    const at_authz_req_t *req, int again, int *db_failed)
{
    const char *issuer = at_srv_issuer_name(at_srv_conf(r->server));
    const char *csrf;
    apr_table_t *descriptions;
    xmlNodePtr form;
    xmlDocPtr doc;
    int i;

    descriptions = scope_descriptions(r, conn, db_failed);
    if (!descriptions) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    csrf = at_csrf_make(r, conn, "consent", r->user, req->binding);
    if (!csrf || !(doc = at_page_new(r, "consent.xhtml"))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    at_page_set_text(doc, "page-title",
                     apr_pstrcat(r->pool, "Allow ", req->app->name, "?",
                                 NULL));
    if (issuer) {
        at_page_set_text(doc, "issuer", issuer);
    }
    at_page_set_text(doc, "person", r->user);
    at_page_set_text(doc, "app-name", req->app->name);
    if (req->app->description && *req->app->description) {
        at_page_set_text(doc, "app-description", req->app->description);
    }
    else {
        html_remove(html_by_id(doc, "app-description"));
    }
    fill_scopes(doc, req, descriptions);
    if (!again) {
        html_remove(html_by_id(doc, "again"));
    }
    at_page_set_text(doc, "return-to", origin(r->pool, req->redirect_uri));

    /* The form goes back to this endpoint, as it was addressed. */
    form = html_by_id(doc, "decision");
    html_attr(form, "action", r->parsed_uri.path ? r->parsed_uri.path
                                                 : r->uri);
    for (i = 0; at_authz_param_names[i]; i++) {
        const char *v = at_params_one(req->params, at_authz_param_names[i]);

        if (v) {
            hidden(form, at_authz_param_names[i], v);
        }
    }
    hidden(form, "csrf", csrf);
    return at_page_send(r, HTTP_OK, doc);
}
