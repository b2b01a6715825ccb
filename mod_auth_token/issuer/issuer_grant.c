/* What every grant of the token endpoint shares (client credentials,
 * refresh, authorization code; the authorization endpoint decides scopes
 * the same way): the lifetimes an application gets, the scope granted of
 * what was asked, and the RFC 6749 section 5.1 token response.
 */
#include <string.h>

#include "httpd.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer_private.h"
#include "issuer_delegated.h"

#define OFFLINE_ACCESS "offline_access"

long at_token_access_lifetime(request_rec *r, const at_app_t *app)
{
    return app->access_lifetime > 0
               ? app->access_lifetime
               : at_srv_access_lifetime(at_srv_conf(r->server));
}

long at_token_refresh_lifetime(request_rec *r, const at_app_t *app)
{
    return app->refresh_lifetime > 0
               ? app->refresh_lifetime
               : at_srv_refresh_lifetime(at_srv_conf(r->server));
}

int at_token_send(request_rec *r, const char *access, long lifetime,
                  const char *scope, const char *refresh,
                  const char *id_token)
{
    json_t *body = json_pack("{s:s, s:s, s:I}", "access_token", access,
                             "token_type", "Bearer", "expires_in",
                             (json_int_t)lifetime);

    if (scope && *scope) {
        json_object_set_new(body, "scope", json_string(scope));
    }
    if (refresh) {
        json_object_set_new(body, "refresh_token", json_string(refresh));
    }
    if (id_token) {
        json_object_set_new(body, "id_token", json_string(id_token));
    }
    return at_issuer_send_json(r, HTTP_OK, body, 1);
}

apr_array_header_t *at_grant_scope(request_rec *r, const at_app_t *app,
                                    const char *requested, int offline_ok,
                                    int openid_ok, const char **problem)
{
    apr_array_header_t *asked, *granted;
    int i;

    granted = apr_array_make(r->pool, 4, sizeof(const char *));
    if (!requested) {
        for (i = 0; app->scopes && i < app->scopes->nelts; i++) {
            const char *s = APR_ARRAY_IDX(app->scopes, i, const char *);

            if (strcmp(s, OFFLINE_ACCESS) != 0) {
                APR_ARRAY_PUSH(granted, const char *) = s;
            }
        }
        return granted;
    }
    asked = at_scope_parse(r->pool, requested);
    if (!asked) {
        *problem = "malformed scope";
        return NULL;
    }
    for (i = 0; i < asked->nelts; i++) {
        const char *s = APR_ARRAY_IDX(asked, i, const char *);

        if (strcmp(s, OFFLINE_ACCESS) == 0) {
            if (offline_ok) {
                APR_ARRAY_PUSH(granted, const char *) = s;
            }
        }
        else if (at_scope_has(app->scopes, s)
                 || (openid_ok && strcmp(s, AT_SCOPE_OPENID) == 0)) {
            APR_ARRAY_PUSH(granted, const char *) = s;
        }
        else {
            *problem = apr_psprintf(r->pool, "scope %s not allowed", s);
            return NULL;
        }
    }
    return granted;
}
