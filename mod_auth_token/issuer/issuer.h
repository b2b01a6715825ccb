/* The issuer side of the module as seen by the rest of it: hook
 * registration, and the revocation check the authn path calls for
 * AuthTokenRevocationCheck On. Implemented in issuer_*.c. */
#ifndef AT_ISSUER_H
#define AT_ISSUER_H

#include "httpd.h"
#include "http_config.h"
#include "apr_pools.h"

#include "mod_auth_token.h"

/* Registers the issuer's hooks (registry creation in post_config, the
 * per-process connection pool and revocation cache in child_init, the
 * oauth-* handlers). Called from the module's register_hooks. */
void at_issuer_register_hooks(apr_pool_t *p);

/* registry_place.c, for configtest (config_check.c): checks, without
 * creating or changing anything, that the registry of AuthTokenRegistry
 * directive D (resolved in SC) can work once httpd runs: for sqlite3 that
 * the server's User can write in its directory (or will be given it at
 * start) and that a file already there is a registry of a schema this
 * build knows. 1 when fine (or nothing can be checked), 0 when a problem
 * was reported with D's file and line. */
int at_registry_place_check(apr_pool_t *p, const ap_directive_t *d,
                            const at_srv_conf_t *sc);

/* For AuthTokenRevocationCheck On: 1 when the token (its jti, client_id
 * and iat, any may be NULL/0) was revoked in the registry, 0 when not.
 * Answers from a per-process cache refreshed at most once a second, so the
 * common case costs no database query. -1 when the registry cannot be read
 * (the caller fails closed with 500 and the reason already logged); -2
 * when it cannot be reached (a database server down: the caller fails
 * closed with 503 and Retry-After). */
int at_revocation_is_revoked(request_rec *r, const char *jti,
                             const char *client_id, long long iat);

/* Directives of delegated authorization (issuer_authz_config.c):
 * AuthTokenCodeLifetime SECONDS (server) and AuthTokenIdentityClaim NAME
 * VARIABLE (server or directory). */
const char *at_set_code_lifetime(cmd_parms *cmd, void *dummy,
                                 const char *secs);
const char *at_set_identity_claim(cmd_parms *cmd, void *dc,
                                  const char *name, const char *variable);

#endif /* AT_ISSUER_H */
