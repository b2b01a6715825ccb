/* Access tokens of this issuer (RFC 9068): minted for the token endpoint,
 * recognised again by the revocation and introspection endpoints.
 *
 * Header typ "at+jwt" and the signing key's kid; claims iss, sub, aud,
 * exp, iat, jti, client_id and scope. aud is the application's audience
 * (a string for one, an array for several); an application without one
 * gets the issuer name, since RFC 9068 requires aud and the issuer is the
 * one party every such token is certainly meant for. */
#include <string.h>

#include <openssl/rand.h>

#include "httpd.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

/* 128 random bits: unguessable and unique without coordination. */
#define JTI_BYTES 16

static json_t *audience(const at_app_t *app, const char *issuer)
{
    json_t *arr;
    int i;

    if (!app->audiences || app->audiences->nelts == 0) {
        return json_string(issuer);
    }
    if (app->audiences->nelts == 1) {
        return json_string(APR_ARRAY_IDX(app->audiences, 0, const char *));
    }
    arr = json_array();
    for (i = 0; i < app->audiences->nelts; i++) {
        json_array_append_new(
            arr, json_string(APR_ARRAY_IDX(app->audiences, i, const char *)));
    }
    return arr;
}

apr_status_t at_access_new(request_rec *r, const at_app_t *app,
                           long lifetime, at_jti_rec_t *rec)
{
    unsigned char raw[JTI_BYTES];

    /* OpenSSL's DRBG: no system call per token, unlike APR's. */
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00431: no random bytes for a jti");
        return APR_EGENERAL;
    }
    memset(rec, 0, sizeof(*rec));
    rec->jti = at_b64url_encode(r->pool, raw, sizeof(raw));
    rec->client_id = app->client_id;
    rec->exp = (long long)apr_time_sec(apr_time_now()) + lifetime;
    return APR_SUCCESS;
}

apr_status_t at_access_sign(request_rec *r, const at_app_t *app,
                            const char *subject, const char *scope,
                            long lifetime, const at_jti_rec_t *rec,
                            const char **token)
{
    at_srv_conf_t *sc = at_srv_conf(r->server);
    const at_key_t *key = at_srv_signing_key(sc);
    const char *issuer = at_srv_issuer_name(sc);
    json_t *header, *claims;
    char *signed_token = NULL;
    at_error_t err;
    apr_status_t rv;

    if (!key || !issuer) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00430: the token endpoint needs "
                      "AuthTokenIssuerName and AuthTokenSigningKey");
        return APR_EINVAL;
    }
    header = json_pack("{s:s}", "typ", "at+jwt");
    claims = json_pack("{s:s, s:s, s:o, s:I, s:I, s:s, s:s}", "iss", issuer,
                       "sub", subject, "aud", audience(app, issuer), "exp",
                       (json_int_t)rec->exp, "iat",
                       (json_int_t)(rec->exp - lifetime), "jti", rec->jti,
                       "client_id", app->client_id);
    if (!header || !claims) {
        json_decref(header);
        json_decref(claims);
        return APR_ENOMEM;
    }
    if (scope && *scope) {
        json_object_set_new(claims, "scope", json_string(scope));
    }
    err.text[0] = '\0';
    rv = at_jws_sign(r->pool, key, header, claims, &signed_token, &err);
    json_decref(header);
    json_decref(claims);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00432: cannot sign an access token: %s", err.text);
        return rv;
    }
    *token = signed_token;
    return APR_SUCCESS;
}

apr_status_t at_access_mint(request_rec *r, at_conn_t *conn,
                            const at_app_t *app, const char *subject,
                            const char *person, const char *grant_id,
                            const char *scope, long lifetime,
                            const char **token, int *db_failed)
{
    at_jti_rec_t rec;
    at_error_t err;
    apr_status_t rv;

    rv = at_access_new(r, app, lifetime, &rec);
    if (rv == APR_SUCCESS) {
        rv = at_access_sign(r, app, subject, scope, lifetime, &rec, token);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rec.subject = person;
    rec.grant_id = grant_id;
    /* Recorded so that revocation can tell our jtis from made-up ones and
     * revoke-by-client (or by person) can name them. */
    err.text[0] = '\0';
    rv = at_jti_record_grouped(r, conn, &rec, &err, db_failed);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00433: cannot record an issued jti: %s", err.text);
        *token = NULL;
    }
    return rv;
}

static const char *string_claim(json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    return at_json_text(v);
}

apr_status_t at_access_parse(request_rec *r, const char *token,
                             at_access_t **access)
{
    at_srv_conf_t *sc = at_srv_conf(r->server);
    const char *issuer = at_srv_issuer_name(sc);
    const char *iss;
    json_t *exp, *iat;
    at_access_t *a;
    at_jws_t jws;
    at_error_t err;

    err.text[0] = '\0';
    if (!issuer
        || at_jws_parse(r->pool, token, strlen(token), &jws, &err)
               != APR_SUCCESS
        || !jws.typ || strcmp(jws.typ, "at+jwt") != 0
        || at_jws_verify_keys(&jws, at_srv_signing_keys(sc), NULL, &err)
               != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "AT00434: not one of our access tokens: %s",
                      err.text[0] ? err.text : "wrong typ or no issuer");
        return APR_EINVAL;
    }
    iss = string_claim(jws.claims, "iss");
    exp = json_object_get(jws.claims, "exp");
    iat = json_object_get(jws.claims, "iat");
    if (!iss || strcmp(iss, issuer) != 0 || !json_is_integer(exp)
        || !json_is_integer(iat) || !string_claim(jws.claims, "jti")
        || !string_claim(jws.claims, "client_id")) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "AT00435: signed by us but not an access token");
        return APR_EINVAL;
    }
    a = apr_pcalloc(r->pool, sizeof(*a));
    a->claims = jws.claims;
    a->jti = string_claim(jws.claims, "jti");
    a->client_id = string_claim(jws.claims, "client_id");
    a->exp = json_integer_value(exp);
    a->iat = json_integer_value(iat);
    *access = a;
    return APR_SUCCESS;
}
