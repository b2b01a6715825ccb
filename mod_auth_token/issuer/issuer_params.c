/* Parameters of the pages a person's browser sends (the authorization
 * endpoint, the consents page): the query of a GET or the form body of a
 * POST. Unlike the token endpoint's form reader, a repeated parameter is
 * kept here, because the authorization endpoint must answer it in the
 * contract's order: repeated client_id or redirect_uri on the 400 page,
 * any other by a redirect with invalid_request. */
#include <string.h>

#include "httpd.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "at_form.h"
#include "issuer_delegated.h"

const char *at_params_parse(apr_pool_t *p, char *text,
                            apr_array_header_t *params)
{
    char *state, *pair;

    for (pair = apr_strtok(text, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        char *value = eq ? eq + 1 : pair + strlen(pair);

        if (eq) {
            *eq = '\0';
        }
        if (at_form_decode(pair) != APR_SUCCESS
            || at_form_decode(value) != APR_SUCCESS) {
            return "malformed percent-encoding or an encoded NUL";
        }
        if (*pair == '\0') {
            return "a parameter without a name";
        }
        APR_ARRAY_PUSH(params, const char *) = pair;
        APR_ARRAY_PUSH(params, const char *) = value;
    }
    return NULL;
}

int at_params_read(request_rec *r, apr_array_header_t **params,
                   const char **problem)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *text = NULL;
    size_t ctlen;
    int rv;

    *params = apr_array_make(r->pool, 24, sizeof(const char *));
    if (r->method_number == M_GET) {
        text = apr_pstrdup(r->pool, r->args ? r->args : "");
    }
    else {
        ctlen = ct ? strcspn(ct, "; \t") : 0;
        if (!ct || ctlen != 33
            || strncasecmp(ct, "application/x-www-form-urlencoded", 33)
                   != 0) {
            *problem = "a form (application/x-www-form-urlencoded) was "
                       "expected";
            return HTTP_UNSUPPORTED_MEDIA_TYPE;
        }
        rv = at_issuer_read_body(r, &text);
        if (rv != OK) {
            *problem = rv == HTTP_REQUEST_ENTITY_TOO_LARGE
                           ? "the form is too large"
                           : "the form cannot be read";
            return rv;
        }
    }
    *problem = at_params_parse(r->pool, text, *params);
    return *problem ? HTTP_BAD_REQUEST : OK;
}

/* Parameter names compare exactly (an apr_table would ignore case). */
int at_params_count(const apr_array_header_t *params, const char *name)
{
    int i, n = 0;

    for (i = 0; i + 1 < params->nelts; i += 2) {
        n += strcmp(APR_ARRAY_IDX(params, i, const char *), name) == 0;
    }
    return n;
}

const char *at_params_one(const apr_array_header_t *params, const char *name)
{
    const char *found = NULL;
    int i;

    for (i = 0; i + 1 < params->nelts; i += 2) {
        if (strcmp(APR_ARRAY_IDX(params, i, const char *), name) == 0) {
            if (found) {
                return NULL;
            }
            found = APR_ARRAY_IDX(params, i + 1, const char *);
        }
    }
    return found && *found ? found : NULL;
}
