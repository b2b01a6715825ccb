/* mod_auth_token: JWT bearer-token validation (AuthType Bearer, Require
 * token-claim / token-scope) and a small OAuth 2.0 issuer for httpd 2.4.
 *
 * This file is only the module's face: the one command table for every
 * directive (resource server and issuer), and register_hooks, which hands
 * each part its hooks. The setters live in config.c (per directory) and
 * config_server.c (per server), the request path in authn_bearer.c,
 * authz_token.c, claims_export.c, challenge.c and token_cache.c, the
 * startup checks in config_check.c, the issuer in issuer_*.c.
 */
#include "httpd.h"
#include "http_config.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "issuer.h"
#include "jwks_remote.h"

/* Directives that point at key files may not come from .htaccess: keys are
 * loaded and checked once at startup, never per request. */
#define AT_KEY_CONF (ACCESS_CONF | RSRC_CONF)
#define AT_DIR_CONF (OR_AUTHCFG | RSRC_CONF)

static const command_rec auth_token_cmds[] = {
    /* resource server (per directory) */
    AP_INIT_TAKE_ARGV("AuthTokenVerifyKey", at_set_verify_key, NULL,
                      AT_KEY_CONF,
                      "ALG PATH [kid=ID]: a key that verifies tokens of "
                      "algorithm ALG (repeatable)"),
    AP_INIT_TAKE1("AuthTokenJWKS", at_set_jwks, NULL, AT_KEY_CONF,
                  "PATH of a JWK Set file, or its https:// URL, whose keys "
                  "verify tokens"),
    AP_INIT_TAKE2("AuthTokenTrustIssuer", at_set_trust_issuer, NULL,
                  AT_KEY_CONF,
                  "ISSUER jwks=URL|PATH or ISSUER discover: tokens of that "
                  "iss are verified with that key set only (repeatable)"),
    AP_INIT_FLAG("AuthTokenVerifyLocal", at_set_verify_local, NULL, AT_KEY_CONF,
                 "On: also accept this server's own access tokens"),
    AP_INIT_ITERATE("AuthTokenIssuer", at_set_issuer, NULL, AT_DIR_CONF,
                    "ISS...: accepted values of the iss claim"),
    AP_INIT_ITERATE("AuthTokenAudience", at_set_audience, NULL, AT_DIR_CONF,
                    "AUD...: the aud claim must hold one of these"),
    AP_INIT_TAKE1("AuthTokenLeeway", at_set_leeway, NULL, AT_DIR_CONF,
                  "SECONDS of clock skew allowed for exp, nbf, iat "
                  "(default 30)"),
    AP_INIT_TAKE1("AuthTokenUserClaim", at_set_user_claim, NULL, AT_DIR_CONF,
                  "claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_TAKE1("AuthTokenClaimsEnv", at_set_claims_env, NULL, AT_DIR_CONF,
                  "PREFIX|Off: export claims to the environment (default "
                  "TOKEN_CLAIM_)"),
    AP_INIT_TAKE1("AuthTokenClaimsHeader", at_set_claims_header, NULL,
                  AT_DIR_CONF,
                  "PREFIX|Off: export claims as request headers (default "
                  "Off)"),
    AP_INIT_TAKE1("AuthTokenRequireTyp", at_set_require_typ, NULL, AT_DIR_CONF,
                  "TYPE the JWS header typ must be"),
    AP_INIT_FLAG("AuthTokenAllowPreflight", at_set_allow_preflight, NULL,
                 AT_DIR_CONF,
                 "On: let CORS preflight requests through without a token"),
    AP_INIT_FLAG("AuthTokenRevocationCheck", at_set_revocation_check, NULL,
                 AT_DIR_CONF, "On: reject tokens revoked in the registry"),

    /* issuer (per server) */
    AP_INIT_TAKE12("AuthTokenRegistry", at_set_registry, NULL, RSRC_CONF,
                   "PATH of the SQLite registry, or DRIVER PARAMS"),
    AP_INIT_TAKE1("AuthTokenIssuerName", at_set_issuer_name, NULL, RSRC_CONF,
                  "URI: iss of issued tokens"),
    AP_INIT_TAKE_ARGV("AuthTokenSigningKey", at_set_signing_key, NULL,
                      RSRC_CONF,
                      "ALG PATH [kid=ID]: private key that signs tokens (the "
                      "first signs; repeatable)"),
    AP_INIT_TAKE2("AuthTokenEndpointURL", at_set_endpoint_url, NULL, RSRC_CONF,
                  "NAME URL: where the metadata says endpoint "
                  "NAME is"),
    AP_INIT_TAKE1("AuthTokenAccessLifetime", at_set_access_lifetime, NULL,
                  RSRC_CONF, "SECONDS access tokens live (default 600)"),
    AP_INIT_TAKE1("AuthTokenRefreshLifetime", at_set_refresh_lifetime, NULL,
                  RSRC_CONF, "SECONDS refresh tokens live (default 30 days)"),
    AP_INIT_TAKE1("AuthTokenCodeLifetime", at_set_code_lifetime, NULL,
                  RSRC_CONF,
                  "SECONDS an authorization code lives (default 60)"),
    AP_INIT_TAKE2("AuthTokenIdentityClaim", at_set_identity_claim, NULL,
                  AT_KEY_CONF,
                  "NAME VARIABLE: at oauth-authorize, the request "
                  "environment variable VARIABLE becomes the person's claim "
                  "NAME (repeatable)"),
    AP_INIT_TAKE1("AuthTokenVerifyCache", at_set_verify_cache, NULL, RSRC_CONF,
                  "ENTRIES|Off: per-process cache of verified tokens "
                  "(default 1024)"),
    AP_INIT_TAKE1("AuthTokenJWKSRefresh", at_set_jwks_refresh, NULL, RSRC_CONF,
                  "SECONDS a fetched key set is used before it is fetched "
                  "again (default 3600)"),
    AP_INIT_TAKE1("AuthTokenJWKSMinRefetch", at_set_jwks_min_refetch, NULL,
                  RSRC_CONF,
                  "SECONDS between refetches caused by unknown kids, per URL "
                  "(default 30)"),
    AP_INIT_TAKE1("AuthTokenFetchCA", at_set_fetch_ca, NULL, RSRC_CONF,
                  "PATH of PEM CA certificates for key-set fetches (default: "
                  "the system store)"),
    {NULL}};

static void register_hooks(apr_pool_t *p)
{
    at_config_check_register_hooks(p);
    at_token_cache_register_hooks(p);
    at_jwks_config_register_hooks(p);
    at_jwks_store_register_hooks(p);
    at_authn_register_hooks(p);
    at_authz_register_hooks(p);
    at_challenge_register_hooks(p);
    at_issuer_register_hooks(p);
}

AP_DECLARE_MODULE(auth_token) = {STANDARD20_MODULE_STUFF, at_create_dir_conf,
                                 at_merge_dir_conf,       at_create_srv_conf,
                                 at_merge_srv_conf,       auth_token_cmds,
                                 register_hooks};
