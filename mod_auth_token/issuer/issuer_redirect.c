/* Answers of the authorization endpoint. While the client or the redirect
 * URI cannot be trusted, the person gets a 400 page and nothing goes to
 * the application (RFC 6749 4.1.2.1: never redirect to an unverified
 * URI). Afterwards every answer is a 302 to the registered redirect URI,
 * its own query kept, with the result appended: the code or the error,
 * state when the request had one, and iss (RFC 9207) so that a client
 * talking to several servers knows which one answered.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_escape.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

int at_authz_refuse(request_rec *r, const char *why)
{
    xmlDocPtr doc = at_page_new(r, "oauth-error.xhtml");
    const char *issuer = at_srv_issuer_name(at_srv_conf(r->server));

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT01255: %s refused a request: %s", r->handler,
                  ap_escape_logitem(r->pool, why));
    if (!doc) {
        at_page_headers(r, r->err_headers_out);
        return HTTP_BAD_REQUEST;
    }
    if (issuer) {
        at_page_set_text(doc, "issuer", issuer);
    }
    at_page_set_text(doc, "error-text", why);
    return at_page_send(r, HTTP_BAD_REQUEST, doc);
}

/* REQ's redirect URI with NAME=VALUE pairs (const char *, NULL values
 * left out) added to its query. */
static const char *with_query(request_rec *r, const at_authz_req_t *req,
                              const char *const *pairs)
{
    const char *uri = req->redirect_uri;
    size_t n = strlen(uri);
    /* A registered URI never has a fragment (checked when registered). */
    const char *sep = !strchr(uri, '?')                      ? "?"
                      : (uri[n - 1] == '?' || uri[n - 1] == '&') ? ""
                                                                 : "&";
    int i;

    for (i = 0; pairs[i]; i += 2) {
        if (pairs[i + 1]) {
            uri = apr_pstrcat(r->pool, uri, sep, pairs[i], "=",
                              apr_pescape_urlencoded(r->pool, pairs[i + 1]),
                              NULL);
            sep = "&";
        }
    }
    return uri;
}

static int redirect(request_rec *r, const char *location)
{
    r->status = HTTP_MOVED_TEMPORARILY;
    apr_table_setn(r->headers_out, "Location", location);
    at_page_headers(r, r->headers_out);
    ap_set_content_length(r, 0);
    return OK;
}

int at_authz_error(request_rec *r, const at_authz_req_t *req,
                   const char *error, const char *description)
{
    const char *pairs[] = {
        "error", error, "error_description", description,
        "state", req->state,
        "iss", at_srv_issuer_name(at_srv_conf(r->server)), NULL};

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT01256: authorization request of %s answered %s: %s",
                  req->app->client_id, error,
                  ap_escape_logitem(r->pool, description));
    return redirect(r, with_query(r, req, pairs));
}

int at_authz_success(request_rec *r, const at_authz_req_t *req,
                     const char *code)
{
    const char *pairs[] = {
        "code", code, "state", req->state,
        "iss", at_srv_issuer_name(at_srv_conf(r->server)), NULL};

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT01257: authorization code issued to %s for %s",
                  req->app->client_id, ap_escape_logitem(r->pool, r->user));
    return redirect(r, with_query(r, req, pairs));
}
