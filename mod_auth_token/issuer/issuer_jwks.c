/* The oauth-jwks handler: the RFC 7517 JWK Set of this issuer's public
 * signing keys, so that resource servers anywhere can verify its tokens.
 * Every asymmetric AuthTokenSigningKey is published, the first (which
 * signs) and the others (kept for rotation: tokens they signed still
 * verify); HMAC keys are secrets and never appear. */
#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

/* Long enough to spare the issuer, short enough that a key added for
 * rotation is seen well before it starts signing. */
#define JWKS_MAX_AGE "public, max-age=300"

int at_handle_jwks(request_rec *r)
{
    const apr_array_header_t *keys;
    json_t *set, *list;
    int i;

    if (r->method_number != M_GET) {
        return at_issuer_method_not_allowed(r, "GET, HEAD");
    }
    keys = at_srv_signing_keys(at_srv_conf(r->server));
    list = json_array();
    for (i = 0; i < keys->nelts; i++) {
        const at_key_t *key = APR_ARRAY_IDX(keys, i, const at_key_t *);
        json_t *jwk;

        if (at_alg_is_hmac(key->alg)) {
            continue;
        }
        jwk = at_jwk_public(key);
        if (!jwk) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "AT00470: cannot export the public key of %s",
                          key->source ? key->source : "a signing key");
            json_decref(list);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        json_array_append_new(list, jwk);
    }
    set = json_pack("{s:o}", "keys", list);
    apr_table_setn(r->headers_out, "Cache-Control", JWKS_MAX_AGE);
    return at_issuer_send_json(r, HTTP_OK, set, 0);
}
