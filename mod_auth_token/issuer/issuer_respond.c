/* How the issuer's endpoints answer: JSON bodies, the RFC 6749 section 5.2
 * error shape, and the no-store headers token responses must carry
 * (RFC 6749 section 5.1). Handlers build the body and call one of these;
 * they then return OK, the status being in r->status. */
#include <string.h>

#include "httpd.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

int at_issuer_send_json(request_rec *r, int status, json_t *json,
                        int no_store)
{
    char *text = json_dumps(json, JSON_COMPACT);

    json_decref(json);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00400: cannot serialise a JSON answer");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->status = status;
    if (no_store) {
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        apr_table_setn(r->headers_out, "Pragma", "no-cache");
    }
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, strlen(text));
    ap_rwrite(text, strlen(text), r);
    free(text);
    return OK;
}

const char *at_issuer_realm(request_rec *r)
{
    const char *name = at_srv_issuer_name(at_srv_conf(r->server));
    const char *s;
    char *out, *o;

    if (!name) {
        name = "oauth";
    }
    out = o = apr_palloc(r->pool, strlen(name) * 2 + 1);
    for (s = name; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

int at_issuer_oauth_error(request_rec *r, int status, const char *code,
                          const char *description)
{
    json_t *body = json_pack("{s:s, s:s}", "error", code,
                             "error_description", description);

    /* Every 401 names how to authenticate (RFC 9110 section 15.5.2),
     * which is what RFC 6749 section 5.2 asks after a Basic attempt. */
    if (status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Basic realm=\"%s\"",
                                    at_issuer_realm(r)));
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT00401: %s answered %d %s: %s", r->handler, status, code,
                  at_log_item(r->pool, description));
    return at_issuer_send_json(r, status, body, 1);
}

int at_issuer_method_not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->headers_out, "Allow", allow);
    return at_issuer_oauth_error(
        r, HTTP_METHOD_NOT_ALLOWED, "invalid_request",
        apr_pstrcat(r->pool, "method not allowed, use ", allow, NULL));
}
