/* AuthType Bearer: the token from Authorization (Proxy-Authorization on a
 * proxy request) is parsed, its signature verified against the keys that
 * reach this location, its claims checked, and its user claim becomes
 * r->user; the claims are kept for the authz providers and exported.
 *
 * Answers follow RFC 6750 section 3: no Bearer credentials -> 401 with a
 * bare challenge; "Bearer" without a token -> 400 invalid_request; anything
 * else wrong -> 401 invalid_token with a short description. Each rejection
 * is logged at info under its own id; the token itself never is.
 *
 * A request that presents Bearer credentials is always authenticated,
 * whatever its Require lines need (validate_early explains how).
 *
 * Also here: AuthTokenAllowPreflight, which lets a CORS preflight skip
 * authentication and every Require line.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "issuer.h"
#include "jwks_remote.h"

/* validate_early relies on the force_authn hook (MMN 20120211.47). */
#if !AP_MODULE_MAGIC_AT_LEAST(20120211, 47)
#error "mod_auth_token needs httpd 2.4.13 or later (the force_authn hook)"
#endif

APLOG_USE_MODULE(auth_token);

static int unauthorized(request_rec *r)
{
    return r->proxyreq == PROXYREQ_PROXY ? HTTP_PROXY_AUTHENTICATION_REQUIRED
                                         : HTTP_UNAUTHORIZED;
}

/* 401 invalid_token; REASON is short, fixed or from the library (which
 * never puts token material in it). */
static int reject_token(request_rec *r, const char *logid, const char *reason)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "%s: bearer token rejected for %s: %s", logid,
                  at_log_item(r->pool, r->uri),
                  reason);
    at_challenge_set(r, "invalid_token", reason, NULL);
    return unauthorized(r);
}

/* Where the token starts in the credentials header, or NULL when they are
 * not Bearer credentials; "" when the scheme has no token. */
static const char *bearer_token(const char *creds, size_t *len)
{
    const char *t;
    size_t n;

    while (*creds == ' ' || *creds == '\t') {
        creds++;
    }
    if (strncasecmp(creds, "Bearer", 6) != 0 ||
        (creds[6] && creds[6] != ' ' && creds[6] != '\t')) {
        return NULL;
    }
    t = creds + 6;
    while (*t == ' ' || *t == '\t') {
        t++;
    }
    n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) {
        n--;
    }
    *len = n;
    return t;
}

/* The Authorization header of R (Proxy-Authorization on a proxy
 * request), or NULL. */
static const char *credentials(request_rec *r)
{
    return apr_table_get(r->headers_in, r->proxyreq == PROXYREQ_PROXY
                                            ? "Proxy-Authorization"
                                            : "Authorization");
}

/* AuthTokenRevocationCheck: 0 go on, else the status to answer. */
static int check_revocation(request_rec *r, json_t *claims)
{
    int revoked = at_revocation_is_revoked(
        r, at_json_text(json_object_get(claims, "jti")),
        at_json_text(json_object_get(claims, "client_id")),
        at_claim_seconds(json_object_get(claims, "iat")));

    if (revoked == -2) {
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (revoked < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00110: cannot tell whether the token was revoked "
                      "(registry unreadable); refusing %s",
                      at_log_item(r->pool, r->uri));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (revoked) {
        return reject_token(r, "AT00111", "token revoked");
    }
    return 0;
}

/* The whole validation; answers OK with *USER set, or the status to send
 * (its challenge already set). */
static int validate_bearer(request_rec *r, const char **user_out)
{
    at_dir_conf_t *dc;
    at_srv_conf_t *sc;
    const char *creds, *token, *hdr_prefix, *user, *iss[1];
    const at_key_t *fresh, *cached = NULL;
    at_jws_cache_t *cache = at_token_cache();
    apr_array_header_t local_iss;
    at_claim_rules_t rules;
    at_keyring_t *ring;
    at_jws_t jws;
    at_error_t err = {{0}};
    long long now;
    int status, local = 0;
    at_req_t *st;
    size_t len = 0;

    dc = at_dir_conf(r);
    hdr_prefix = at_dir_claims_header(dc);
    if (hdr_prefix) {
        at_claims_strip_headers(r, hdr_prefix);
    }

    creds = credentials(r);
    token = creds ? bearer_token(creds, &len) : NULL;
    if (!token) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT00101: no bearer token for %s (%s)",
                      at_log_item(r->pool, r->uri),
                      creds ? "another authentication scheme"
                            : "no credentials");
        at_challenge_set(r, NULL, NULL, NULL);
        return unauthorized(r);
    }
    if (len == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT00102: Bearer scheme without a token for %s",
                      at_log_item(r->pool, r->uri));
        at_challenge_set(r, "invalid_request", "no token after Bearer", NULL);
        return HTTP_BAD_REQUEST;
    }
    if (len > AT_JWS_MAX_LEN) {
        return reject_token(r, "AT00103", "token too large");
    }

    sc = at_srv_conf(r->server);
    ring = at_keyring_get(r, dc, sc);
    if (!ring) {
        /* Startup refuses this for the main config; an .htaccess can still
         * get here. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00104: AuthType Bearer for %s has no key: add "
                      "AuthTokenVerifyKey, AuthTokenJWKS, "
                      "AuthTokenTrustIssuer or AuthTokenVerifyLocal On",
                      at_log_item(r->pool, r->uri));
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    memset(&jws, 0, sizeof(jws));
    fresh = NULL;
    now = apr_time_sec(r->request_time);
    /* The key that verified it says whose rules apply, as below. */
    cached = at_keyring_cached(ring, cache, token, len, &jws, &local);
    if (cached) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                      "AT00115: token known from the cache");
    } else {
        if (at_jws_parse(r->pool, token, len, &jws, &err) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "AT00105: token of %" APR_SIZE_T_FMT
                          " bytes does not parse: %s",
                          len, err.text);
            return reject_token(r, "AT00106",
                                err.text[0] ? err.text : "malformed token");
        }
        status = at_keyring_verify(ring, &jws, &fresh, &local, &err);
        if (status == HTTP_SERVICE_UNAVAILABLE) {
            return status;
        }
        if (status != OK) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "AT00107: alg %s kid %s: %s", at_alg_name(jws.alg),
                          at_log_item(r->pool, jws.kid), err.text);
            return reject_token(r, "AT00108",
                                err.text[0] ? err.text
                                            : "signature not verified");
        }
    }

    memset(&rules, 0, sizeof(rules));
    rules.issuers = dc->issuers;
    rules.audiences = dc->audiences;
    rules.require_typ = dc->require_typ;
    rules.leeway = at_dir_leeway(dc);
    rules.user_claim = at_dir_user_claim(dc);
    if (local) {
        /* Our own tokens: only our issuer and RFC 9068 access tokens. */
        iss[0] = at_srv_issuer_name(sc);
        local_iss.pool = r->pool;
        local_iss.elt_size = sizeof(const char *);
        local_iss.nelts = local_iss.nalloc = 1;
        local_iss.elts = (char *)iss;
        rules.issuers = &local_iss;
        rules.require_typ = "at+jwt";
    }
    if (at_claims_check(&jws, &rules, now, &err) != APR_SUCCESS) {
        return reject_token(r, "AT00109",
                            err.text[0] ? err.text : "claims not accepted");
    }
    /* A string as it is, a number as its JSON text ("uid": 1001 -> 1001),
     * as at_claims_check accepts it. */
    user = at_claim_user(r->pool, jws.claims, rules.user_claim);
    if (!user) {
        return reject_token(
            r, "AT00112",
            apr_psprintf(r->pool, "no %s claim", rules.user_claim));
    }
    if (at_dir_revocation_check(dc) &&
        (status = check_revocation(r, jws.claims)) != 0) {
        return status;
    }
    if (fresh && at_jws_cache_admit(cache, token, len, &jws)) {
        /* Only fully accepted tokens are remembered (the cache keeps none
         * past its exp), from their second sight on. */
        at_jws_cache_put(cache, token, len, &jws, fresh);
    }

    *user_out = apr_pstrdup(r->pool, user);
    st = at_req_get(r, 1);
    st->claims = jws.claims;
    at_claims_export(r, jws.claims, at_dir_claims_env(dc), hdr_prefix);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT00113: token (alg %s, kid %s%s) accepted for user %s",
                  at_alg_name(jws.alg), at_log_item(r->pool, jws.kid),
                  local ? ", this server's issuer" : "",
                  at_log_item(r->pool, *user_out));
    return OK;
}

/* access_checker_ex, before mod_authz_core's own (APR_HOOK_LAST). That
 * one evaluates every Require line without a user first and decides
 * there when it can: a `Require expr` on claims that holds lets the
 * request through without authentication (no REMOTE_USER), one that
 * fails is a 403 before authentication (never the 401 httpd gives an
 * authenticated user under AuthzSendForbiddenOnFailure Off).
 *
 * So a request that presents Bearer credentials is taken out of that
 * userless pass: the token is validated here (which also exports the
 * claims for `Require expr`), this hook answers OK so that authz_core's
 * is not called, and force_bearer_authn makes httpd authenticate anyway
 * (the force_authn hook, httpd 2.4.13, exists for this). httpd then
 * runs check_authn (authenticate_bearer: the user, or 400/401 for a bad
 * token) and evaluates every Require line once, after authentication, as
 * for any authenticated request. A presented token is thus always
 * authenticated, whatever the Require lines need.
 *
 * Without Bearer credentials nothing changes: authz_core's userless pass
 * decides as it does for any AuthType (see docs/resource-server.md). */
static int validate_early(request_rec *r)
{
    const char *creds, *hdr_prefix, *user = NULL;
    size_t len = 0;
    at_req_t *st;
    int status;

    if (!at_is_bearer(r)) {
        return DECLINED;
    }
    /* Also when no token follows, or the Require lines let the request
     * through without authentication: a backend must never see a forged
     * claim header. */
    hdr_prefix = at_dir_claims_header(at_dir_conf(r));
    if (hdr_prefix) {
        at_claims_strip_headers(r, hdr_prefix);
    }
    creds = credentials(r);
    if (!creds || !bearer_token(creds, &len)) {
        return DECLINED;
    }
    status = validate_bearer(r, &user);
    st = at_req_get(r, 1);
    st->validated = 1;
    st->status = status;
    st->user = user;
    st->forced = 1;
    return OK;
}

/* force_authn: OK turns validate_early's OK into "authenticate, then
 * authorize" instead of "allowed without authentication". */
static int force_bearer_authn(request_rec *r)
{
    at_req_t *st = at_req_get(r, 0);

    return st && st->forced ? OK : DECLINED;
}

/* Defence in depth for validate_early's OK: should another module's
 * force_authn hook have answered first with something other than OK,
 * httpd would have run the request without authentication and without
 * any Require line. Fixups run only for requests httpd let through. */
static int check_forced_authn(request_rec *r)
{
    at_req_t *st = at_req_get(r, 0);

    if (st && st->forced && !r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT01000: %s presented a bearer token but was not "
                      "authenticated (another module's force_authn hook "
                      "answered first); refused",
                      at_log_item(r->pool, r->uri));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return DECLINED;
}

static int authenticate_bearer(request_rec *r)
{
    at_req_t *st;
    const char *user = NULL;
    int status;

    if (!at_is_bearer(r)) {
        return DECLINED;
    }
    st = at_req_get(r, 0);
    if (st && st->validated) {
        status = st->status;
        user = st->user;
    } else {
        status = validate_bearer(r, &user);
    }
    if (status == OK) {
        r->user = (char *)user;
        r->ap_auth_type = "Bearer"; /* AUTH_TYPE for CGI */
    }
    return status;
}

/* A genuine CORS preflight (Fetch standard): OPTIONS carrying Origin and
 * Access-Control-Request-Method. It never carries credentials, and its
 * answer holds no resource data. */
static int allow_preflight(request_rec *r)
{
    at_dir_conf_t *dc;
    const char *hdr_prefix;

    if (r->method_number != M_OPTIONS || !at_is_bearer(r)) {
        return DECLINED;
    }
    dc = at_dir_conf(r);
    if (!at_dir_allow_preflight(dc) ||
        !apr_table_get(r->headers_in, "Origin") ||
        !apr_table_get(r->headers_in, "Access-Control-Request-Method")) {
        return DECLINED;
    }
    hdr_prefix = at_dir_claims_header(dc);
    if (hdr_prefix) {
        at_claims_strip_headers(r, hdr_prefix);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT00114: CORS preflight for %s let through without a "
                  "token (AuthTokenAllowPreflight On)",
                  at_log_item(r->pool, r->uri));
    return OK;
}

void at_authn_register_hooks(apr_pool_t *p)
{
    ap_hook_check_authn(authenticate_bearer, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    /* access_checker_ex runs first-wins before authentication: OK here
     * skips both authn and every Require line for the preflight. */
    ap_hook_check_access_ex(allow_preflight, NULL, NULL, APR_HOOK_FIRST,
                            AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_access_ex(validate_early, NULL, NULL, APR_HOOK_MIDDLE,
                            AP_AUTH_INTERNAL_PER_CONF);
    /* First: a force_authn hook before ours that answered anything but
     * DECLINED would decide for our requests (check_forced_authn). */
    ap_hook_force_authn(force_bearer_authn, NULL, NULL,
                        APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(check_forced_authn, NULL, NULL, APR_HOOK_REALLY_FIRST);
}
