/* OpenID Connect ID tokens (Core 1.0 section 2, 3.1.3.6): for a code
 * whose scopes hold openid, a JWT with typ JWT signed with the first
 * asymmetric signing key (relying parties verify it from the JWK Set,
 * which never holds HMAC keys). Claims: iss, sub (the person), aud (the
 * client_id), exp, iat, auth_time, nonce when the request had one, and the
 * identity claims the scopes release (issuer_identity.c). */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

static const at_key_t *id_token_key(request_rec *r)
{
    const apr_array_header_t *keys =
        at_srv_signing_keys(at_srv_conf(r->server));
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const at_key_t *k = APR_ARRAY_IDX(keys, i, const at_key_t *);

        if (!at_alg_is_hmac(k->alg)) {
            return k;
        }
    }
    return NULL;
}

const char *at_id_token_alg(request_rec *r)
{
    const at_key_t *key = id_token_key(r);

    return key ? at_alg_name(key->alg) : NULL;
}

apr_status_t at_id_token_mint(request_rec *r, const at_app_t *app,
                              const at_code_t *code, const char **token)
{
    const char *issuer = at_srv_issuer_name(at_srv_conf(r->server));
    const at_key_t *key = id_token_key(r);
    long long now = (long long)apr_time_sec(apr_time_now());
    json_t *header, *claims;
    char *signed_token = NULL;
    at_error_t err;
    apr_status_t rv;

    if (!key || !issuer) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT01280: an ID token (scope openid) needs "
                      "AuthTokenIssuerName and an asymmetric "
                      "AuthTokenSigningKey (RS256, ES256, EdDSA...): HMAC "
                      "keys are never published to relying parties");
        return APR_EINVAL;
    }
    header = json_pack("{s:s}", "typ", "JWT");
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "iss", issuer,
                       "sub", code->subject, "aud", app->client_id, "exp",
                       (json_int_t)(now + at_token_access_lifetime(r, app)),
                       "iat", (json_int_t)now, "auth_time",
                       (json_int_t)code->auth_time);
    if (!header || !claims) {
        json_decref(header);
        json_decref(claims);
        return APR_ENOMEM;
    }
    if (code->nonce) {
        json_object_set_new(claims, "nonce", json_string(code->nonce));
    }
    at_identity_release(r, code->claims, code->scope, claims);
    err.text[0] = '\0';
    rv = at_jws_sign(r->pool, key, header, claims, &signed_token, &err);
    json_decref(header);
    json_decref(claims);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT01281: cannot sign an ID token: %s", err.text);
        return rv;
    }
    *token = signed_token;
    return APR_SUCCESS;
}
