/* Requests of the issuer's POST endpoints: method and Content-Type checks,
 * a bounded body, strict application/x-www-form-urlencoded parsing
 * (RFC 6749 section 3.1: a parameter at most once, an empty value is
 * absent), and client authentication by client_secret_basic or
 * client_secret_post (RFC 6749 section 2.3.1), never both at once. The
 * parsing itself is lib/at_form.c (no httpd there, so it is fuzzed and
 * unit-tested directly; why not ap_parse_form_data is said there). */
#include <string.h>

#include "httpd.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "at_form.h"
#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

/* Reads at most AT_FORM_MAX_BYTES of body. Returns OK, or an HTTP status
 * (413 when it is longer, 400 when it cannot be read). */
int at_issuer_read_body(request_rec *r, char **body)
{
    apr_size_t len = 0, size = AT_FORM_MAX_BYTES;
    char *buf;
    long n;
    int rv;

    rv = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rv != OK) {
        return rv;
    }
    /* A declared length is what HTTP_IN delivers at most: a typical form
     * of a few dozen bytes needs no 16 KiB buffer. */
    if (r->remaining > 0 && r->remaining < AT_FORM_MAX_BYTES) {
        size = (apr_size_t)r->remaining;
    }
    buf = apr_palloc(r->pool, size + 1);
    if (ap_should_client_block(r)) {
        while (len <= size
               && (n = ap_get_client_block(r, buf + len, size + 1 - len))
                      > 0) {
            len += n;
            if (len > AT_FORM_MAX_BYTES) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        return HTTP_BAD_REQUEST;
    }
    *body = buf;
    return OK;
}

int at_issuer_read_form(request_rec *r, at_form_t **form)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *clen = apr_table_get(r->headers_in, "Content-Length");
    const char *problem, *repeated = NULL;
    char *body = NULL;
    size_t ctlen;
    int rv;

    if (r->method_number != M_POST) {
        return at_issuer_method_not_allowed(r, "POST");
    }
    /* The media type without parameters (charset is all that is usual). */
    ctlen = ct ? strcspn(ct, "; \t") : 0;
    if (!ct || ctlen != 33
        || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        return at_issuer_oauth_error(
            r, HTTP_BAD_REQUEST, "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded");
    }
    if (clen && apr_atoi64(clen) > AT_FORM_MAX_BYTES) {
        /* Do not read (or drain) what we will not use. */
        r->connection->keepalive = AP_CONN_CLOSE;
        return at_issuer_oauth_error(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                     "invalid_request",
                                     "request body too large");
    }
    rv = at_issuer_read_body(r, &body);
    if (rv == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return at_issuer_oauth_error(r, rv, "invalid_request",
                                     "request body too large");
    }
    if (rv != OK) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                     "request body unreadable or holds a "
                                     "NUL byte");
    }
    *form = apr_pcalloc(r->pool, sizeof(**form));
    (*form)->params = apr_table_make(r->pool, 8);
    switch (at_form_parse(r->pool, body, (*form)->params, &repeated)) {
    case AT_FORM_OK:
        return AT_CONTINUE;
    case AT_FORM_NO_NAME:
        problem = "parameter without a name";
        break;
    case AT_FORM_REPEATED:
        /* The name is the client's: cut, and escaped for the log line. */
        problem = apr_psprintf(
            r->pool, "parameter %s repeated",
            ap_escape_logitem(r->pool, apr_pstrndup(r->pool, repeated, 128)));
        break;
    default:
        problem = "malformed form encoding";
    }
    return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                 problem);
}

int at_issuer_authenticate(request_rec *r, at_registry_t *reg,
                           at_form_t *form, at_client_t **client,
                           int *db_failed)
{
    const char *auth = apr_table_get(r->headers_in, "Authorization");
    const char *form_id = apr_table_get(form->params, "client_id");
    const char *form_secret = apr_table_get(form->params, "client_secret");
    char *id = NULL, *secret = NULL;
    at_app_t *app = NULL;
    at_error_t err;
    apr_status_t rv = auth ? at_basic_credentials(r->pool, auth, &id, &secret)
                           : APR_NOTFOUND;
    int basic = rv != APR_NOTFOUND;

    if (basic) {
        if (form_secret) {
            return at_issuer_oauth_error(
                r, HTTP_BAD_REQUEST, "invalid_request",
                "more than one client authentication method");
        }
        /* RFC 6749 section 5.2: 401 invalid_client, with the Basic
         * challenge at_issuer_oauth_error adds to every 401. */
        if (rv != APR_SUCCESS) {
            return at_issuer_oauth_error(r, HTTP_UNAUTHORIZED,
                                         "invalid_client",
                                         "malformed Basic credentials");
        }
        /* A client_id beside Basic is tolerated when it names the same
         * client (some libraries send it), refused otherwise. */
        if (form_id && strcmp(form_id, id) != 0) {
            return at_issuer_oauth_error(r, HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "client_id differs from the "
                                         "authenticated client");
        }
    }
    else if (form_id && form_secret) {
        id = apr_pstrdup(r->pool, form_id);
        secret = apr_pstrdup(r->pool, form_secret);
    }
    else {
        return at_issuer_oauth_error(r, HTTP_UNAUTHORIZED, "invalid_client",
                                     "client authentication required");
    }

    err.text[0] = '\0';
    rv = at_client_authenticate(reg, r->pool, id, secret, &app, &err);
    if (rv == APR_NOTFOUND || rv == APR_EACCES) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT00410: client %s failed to authenticate (%s)",
                      at_log_item(r->pool, id),
                      rv == APR_NOTFOUND ? "unknown client"
                                         : "wrong secret or disabled");
        return at_issuer_oauth_error(r, HTTP_UNAUTHORIZED, "invalid_client",
                                     "client authentication failed");
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00411: cannot authenticate the client: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    *client = apr_pcalloc(r->pool, sizeof(**client));
    (*client)->app = app;
    (*client)->used_basic = basic;
    r->user = apr_pstrdup(r->pool, app->client_id);
    return AT_CONTINUE;
}
