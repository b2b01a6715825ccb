/* The oauth-metadata handler: RFC 8414 authorization server metadata,
 * which placed at /.well-known/openid-configuration is also OpenID Connect
 * Discovery 1.0: one document serves both, so that relying parties
 * (mod_auth_openidc, openid-client, authlib) find everything by discovery.
 * It advertises what is implemented: the authorization endpoint (code
 * with PKCE S256, iss in the response, RFC 9207), the token, revocation,
 * introspection and userinfo endpoints, the JWK Set, the grants,
 * client_secret_basic / client_secret_post (and none for public
 * applications at the token endpoint), public subjects and the ID token's
 * algorithm. Endpoint URLs come from AuthTokenEndpointURL, else
 * <issuer>/oauth/NAME. */
#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"

#include "mod_auth_token.h"
#include "issuer_private.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

#define METADATA_MAX_AGE "public, max-age=300"

static json_t *auth_methods(int with_none)
{
    json_t *list = json_pack("[s, s]", "client_secret_basic",
                             "client_secret_post");

    if (with_none) {
        json_array_append_new(list, json_string("none"));
    }
    return list;
}

/* The claims an ID token or userinfo may hold: its own, and every
 * AuthTokenIdentityClaim name of the server. */
static json_t *claims_supported(request_rec *r)
{
    const apr_array_header_t *names =
        at_srv_conf(r->server)->identity_names;
    json_t *list = json_pack("[s, s, s, s, s, s, s]", "sub", "iss", "aud",
                             "exp", "iat", "auth_time", "nonce");
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        json_array_append_new(
            list, json_string(APR_ARRAY_IDX(names, i, const char *)));
    }
    return list;
}

/* scopes_supported from the registry (offline_access among them). */
static json_t *scopes_supported(request_rec *r)
{
    apr_array_header_t *scopes = NULL;
    at_conn_t *conn = at_issuer_acquire(r);
    at_error_t err;
    apr_status_t rv;
    json_t *list;
    int i;

    if (!conn) {
        return NULL;
    }
    err.text[0] = '\0';
    rv = at_scope_list(at_conn_registry(conn), r->pool, &scopes, &err);
    at_issuer_done(r, conn, at_registry_failed(rv), OK);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00480: cannot list the scopes: %s", err.text);
        return NULL;
    }
    list = json_array();
    for (i = 0; i < scopes->nelts; i++) {
        const at_scope_t *s = APR_ARRAY_IDX(scopes, i, const at_scope_t *);

        json_array_append_new(list, json_string(s->name));
    }
    return list;
}

int at_handle_metadata(request_rec *r)
{
    at_srv_conf_t *sc = at_srv_conf(r->server);
    const char *issuer = at_srv_issuer_name(sc);
    json_t *doc, *scopes;

    if (r->method_number != M_GET) {
        return at_issuer_method_not_allowed(r, "GET, HEAD");
    }
    if (!issuer) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00481: oauth-metadata needs AuthTokenIssuerName");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    scopes = scopes_supported(r);
    if (!scopes) {
        return at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s, s], s:o, s:o, s:o,"
        " s:o, s:[s], s:[s], s:[s], s:b, s:[s], s:o}",
        "issuer", issuer,
        "authorization_endpoint",
        at_srv_endpoint_url(r->pool, sc, "authorize"),
        "token_endpoint", at_srv_endpoint_url(r->pool, sc, "token"),
        "revocation_endpoint", at_srv_endpoint_url(r->pool, sc, "revoke"),
        "introspection_endpoint",
        at_srv_endpoint_url(r->pool, sc, "introspect"),
        "userinfo_endpoint", at_srv_endpoint_url(r->pool, sc, "userinfo"),
        "jwks_uri", at_srv_endpoint_url(r->pool, sc, "jwks"),
        "grant_types_supported", "authorization_code", "client_credentials",
        "refresh_token",
        "token_endpoint_auth_methods_supported", auth_methods(1),
        "revocation_endpoint_auth_methods_supported", auth_methods(0),
        "introspection_endpoint_auth_methods_supported", auth_methods(0),
        "scopes_supported", scopes,
        "response_types_supported", "code",
        "response_modes_supported", "query",
        "code_challenge_methods_supported", "S256",
        "authorization_response_iss_parameter_supported", 1,
        "subject_types_supported", "public",
        "claims_supported", claims_supported(r));
    if (doc && at_id_token_alg(r)) {
        json_object_set_new(doc, "id_token_signing_alg_values_supported",
                            json_pack("[s]", at_id_token_alg(r)));
    }
    if (!doc) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->headers_out, "Cache-Control", METADATA_MAX_AGE);
    return at_issuer_send_json(r, HTTP_OK, doc, 0);
}
