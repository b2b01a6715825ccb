/* mod_auth_token: what the module's files share. The resource-server side
 * (config.c, authn_bearer.c, authz_token.c, claims_export.c) validates
 * bearer tokens per request; the issuer side (issuer_*.c) answers the OAuth
 * endpoints from the registry. Library code (lib/) knows nothing of httpd.
 */
#ifndef MOD_AUTH_TOKEN_H
#define MOD_AUTH_TOKEN_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"

#include "at_jose.h"
#include "at_claims.h"

/* Log ids: "AT0xxxx: " prefixes, one per call site, never reused.
 *   AT00001-AT00099 configuration and startup
 *   AT00100-AT00199 request authentication (authn_bearer.c)
 *   AT00200-AT00299 authorization providers (authz_token.c)
 *   AT00300-AT00399 claims export
 *   AT00400-AT00599 issuer handlers
 *   AT00600-AT00699 registry access and revocation cache
 *   AT00800-AT00899 token-admin console (stderr, lands in the error log)
 *   AT01000-AT01049 forced authentication, export-name collisions, the
 *                   registry and AuthType checks of configtest
 *   AT01150-AT01199 remote key sets and trusted issuers (jwks_*.c,
 *                   key_route.c)
 *   AT01200-AT01249 the registry on a database server (PostgreSQL):
 *                   unreachable at startup, outages and recovery */
#define AT_LOG_TAG "mod_auth_token: "

/* log_item.c: S as it may appear in a log line when a client chose it:
 * its first AT_LOG_ITEM_MAX bytes, "...(N bytes)" when longer, escaped
 * with ap_escape_logitem; "(none)" for NULL. From P. */
#define AT_LOG_ITEM_MAX 128
const char *at_log_item(apr_pool_t *p, const char *s);

extern module AP_MODULE_DECLARE_DATA auth_token_module;

/* Per-directory (resource server). "Unset" is NULL or -1 so that merge can
 * tell it from an explicit value; typed getters apply the defaults. */
typedef struct at_dir_conf {
    apr_array_header_t *keys;       /* at_key_t *: VerifyKey + JWKS */
    apr_array_header_t *remote;     /* at_jwks_src_t *: JWKS URL */
    apr_array_header_t *trusted;    /* at_trust_t: TrustIssuer */
    int verify_local;               /* -1 unset */
    apr_array_header_t *issuers;    /* const char * */
    apr_array_header_t *audiences;  /* const char * */
    long leeway;                    /* -1 unset; default 30 */
    const char *user_claim;         /* NULL unset; default "sub" */
    const char *claims_env;         /* NULL unset; "" Off; default
                                       "TOKEN_CLAIM_" */
    const char *claims_header;      /* NULL unset; "" Off (default) */
    const char *require_typ;        /* NULL unset: default rule */
    int allow_preflight;            /* -1 unset; default Off */
    int revocation_check;           /* -1 unset; default Off */
    apr_array_header_t *identity_claims; /* at_identity_claim_t: the
                                       person's claims at oauth-authorize */
} at_dir_conf_t;

/* AuthTokenIdentityClaim NAME VARIABLE. */
typedef struct at_identity_claim {
    const char *name;
    const char *variable;
} at_identity_claim_t;

/* Per-server (issuer). */
typedef struct at_srv_conf {
    const char *registry_driver;    /* NULL unset; "sqlite3" */
    const char *registry_params;
    const char *issuer_name;
    apr_array_header_t *signing_keys; /* at_key_t *; the first signs */
    apr_table_t *endpoint_urls;     /* token, authorize, revoke, ... */
    long access_lifetime;           /* -1 unset; default 600 */
    long refresh_lifetime;          /* -1 unset; default 30 days */
    long code_lifetime;             /* -1 unset; default 60 */
    apr_array_header_t *identity_names; /* const char *: every
                                       AuthTokenIdentityClaim NAME of the
                                       server (claims_supported) */

    /* Server-wide settings (GLOBAL_ONLY directives), read from the main
     * server's configuration: by token_cache.c's child_init and through
     * the getters of jwks_config.c. */
    long verify_cache;              /* -1 unset; 0 Off; default 1024 */
    long jwks_refresh;              /* -1 unset; default 3600 */
    long jwks_min_refetch;          /* -1 unset; default 30 */
    const char *fetch_ca;           /* NULL: the system store */
    apr_array_header_t *jwks_named; /* at_jwks_src_t *: the key sets this
                                       server's sections name, one per URL
                                       (or discovered issuer); not merged */

    /* Derived in post_config, on the main server's only (from pconf). */
    apr_array_header_t *jwks_sources; /* at_jwks_src_t *: every server's
                                       sources, one per URL, by id */
    struct at_pages *pages;         /* issuer_pages.c: templates, CSS */
} at_srv_conf_t;

/* Typed getters of the server configuration (config_server.c): they
 * apply the defaults, so callers never test for "unset" themselves. */

/* The module's configuration of server S (never NULL). */
at_srv_conf_t *at_srv_conf(const server_rec *s);
/* apr_dbd driver of AuthTokenRegistry: "sqlite3" unless another was named. */
const char *at_srv_registry_driver(const at_srv_conf_t *sc);
/* Its parameters (the file path for sqlite3); NULL when no registry is
 * configured. */
const char *at_srv_registry_params(const at_srv_conf_t *sc);
/* AuthTokenIssuerName, or NULL when not configured. */
const char *at_srv_issuer_name(const at_srv_conf_t *sc);
/* All AuthTokenSigningKey keys (at_key_t *, loaded with their private
 * part; asymmetric ones always have a kid), never NULL (maybe empty). */
const apr_array_header_t *at_srv_signing_keys(const at_srv_conf_t *sc);
/* The key that signs (the first AuthTokenSigningKey), or NULL. */
const at_key_t *at_srv_signing_key(const at_srv_conf_t *sc);
/* Where the metadata says endpoint NAME (token, authorize, revoke,
 * introspect, jwks) is: AuthTokenEndpointURL, else "<issuer>/oauth/NAME";
 * NULL without an issuer name. Allocated from P when computed. */
const char *at_srv_endpoint_url(apr_pool_t *p, const at_srv_conf_t *sc,
                                const char *name);
/* AuthTokenAccessLifetime in seconds (default 600). */
long at_srv_access_lifetime(const at_srv_conf_t *sc);
/* AuthTokenRefreshLifetime in seconds (default 30 days). */
long at_srv_refresh_lifetime(const at_srv_conf_t *sc);
/* AuthTokenCodeLifetime in seconds (default 60). */
long at_srv_code_lifetime(const at_srv_conf_t *sc);

#define AT_DEFAULT_ACCESS_LIFETIME  600L
#define AT_DEFAULT_REFRESH_LIFETIME (30L * 24 * 3600)
#define AT_DEFAULT_CODE_LIFETIME    60L

#endif /* MOD_AUTH_TOKEN_H */
