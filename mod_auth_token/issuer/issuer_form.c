/* Requests of the issuer's POST endpoints: method and Content-Type checks,
 * a bounded body, strict application/x-www-form-urlencoded parsing
 * (RFC 6749 section 3.1: a parameter at most once, an empty value is
 * absent), and client authentication by client_secret_basic or
 * client_secret_post (RFC 6749 section 2.3.1), never both at once. */
#include <string.h>

#include "httpd.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_base64.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes one form-urlencoded component in place ('+' is a space). 0 on
 * success; -1 for a broken escape or an encoded NUL, which would cut the
 * value short where a C string ends. */
static int form_decode(char *s)
{
    char *o = s;

    for (; *s; s++) {
        if (*s == '+') {
            *o++ = ' ';
        }
        else if (*s == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return -1;
            }
            *o++ = (char)(hi * 16 + lo);
            s += 2;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return 0;
}

/* Parses BODY into PARAMS. NULL on success, else what was wrong. */
static const char *parse_form(apr_pool_t *p, char *body, apr_table_t *params)
{
    apr_table_t *seen = apr_table_make(p, 8);
    char *state, *pair;

    for (pair = apr_strtok(body, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        /* Without '=' the value is the (writable) end of the pair: it is
         * decoded in place like any other. */
        char *name = pair, *value = eq ? eq + 1 : pair + strlen(pair);

        if (eq) {
            *eq = '\0';
        }
        if (form_decode(name) != 0 || form_decode(value) != 0) {
            return "malformed form encoding";
        }
        if (*name == '\0') {
            return "parameter without a name";
        }
        if (apr_table_get(seen, name)) {
            return apr_psprintf(p, "parameter %s repeated",
                                ap_escape_logitem(p, name));
        }
        apr_table_setn(seen, name, "");
        if (*value) {
            apr_table_setn(params, name, value);
        }
    }
    return NULL;
}

/* Reads at most AT_FORM_MAX_BYTES of body. Returns OK, or an HTTP status
 * (413 when it is longer, 400 when it cannot be read). */
static int read_body(request_rec *r, char **body)
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
    const char *problem;
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
    rv = read_body(r, &body);
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
    problem = parse_form(r->pool, body, (*form)->params);
    if (problem) {
        return at_issuer_oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                                     problem);
    }
    return AT_CONTINUE;
}

/* Splits "Basic <base64(id:secret)>", each half form-urlencoded (RFC 6749
 * section 2.3.1). 0 on success, -1 when it is not well formed. */
static int parse_basic(apr_pool_t *p, const char *header, char **id,
                       char **secret)
{
    const char *b64 = header + 5;
    char *plain, *colon;
    int len;

    while (*b64 == ' ' || *b64 == '\t') {
        b64++;
    }
    if (*b64 == '\0' || strlen(b64) > 4 * AT_FORM_MAX_BYTES / 3) {
        return -1;
    }
    plain = apr_palloc(p, apr_base64_decode_len(b64) + 1);
    len = apr_base64_decode(plain, b64);
    plain[len] = '\0';
    if ((int)strlen(plain) != len || !(colon = strchr(plain, ':'))) {
        return -1;
    }
    *colon = '\0';
    *id = plain;
    *secret = colon + 1;
    if (form_decode(*id) != 0 || form_decode(*secret) != 0 || !**id) {
        return -1;
    }
    return 0;
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
    apr_status_t rv;
    int basic = auth && strncasecmp(auth, "Basic", 5) == 0
                && (auth[5] == ' ' || auth[5] == '\t');

    if (basic) {
        if (form_secret) {
            return at_issuer_oauth_error(
                r, HTTP_BAD_REQUEST, "invalid_request",
                "more than one client authentication method");
        }
        if (parse_basic(r->pool, auth, &id, &secret) != 0) {
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
