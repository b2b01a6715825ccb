/* What the resource-server files of the module share: the directive
 * setters the command table in mod_auth_token.c points at, the typed getters
 * of the per-directory configuration, the per-request state that authn
 * leaves for the authz providers, and the hook registration of each file.
 * Nothing here is part of the issuer's interface (see issuer.h).
 */
#ifndef AT_RESOURCE_H
#define AT_RESOURCE_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"
#include <jansson.h>

#include "mod_auth_token.h"

/* ---- config.c: create / merge -------------------------------------- */

/* Per-directory config with every member unset (NULL or -1). */
void *at_create_dir_conf(apr_pool_t *p, char *dir);
/* A fresh struct: each member from ADD when set there, else from BASE.
 * Neither input is modified. */
void *at_merge_dir_conf(apr_pool_t *p, void *base, void *add);
/* Per-server config with every member unset. */
void *at_create_srv_conf(apr_pool_t *p, server_rec *s);
/* Same rule as the per-directory merge. */
void *at_merge_srv_conf(apr_pool_t *p, void *base, void *add);

/* ---- config.c and config_server.c: directive setters (return NULL or
 * the message httpd prints with file and line) ------------------------ */
const char *at_set_verify_key(cmd_parms *cmd, void *dc, int argc,
                              char *const argv[]);
const char *at_set_jwks(cmd_parms *cmd, void *dc, const char *path);
const char *at_set_verify_local(cmd_parms *cmd, void *dc, int on);
const char *at_set_issuer(cmd_parms *cmd, void *dc, const char *iss);
const char *at_set_audience(cmd_parms *cmd, void *dc, const char *aud);
const char *at_set_leeway(cmd_parms *cmd, void *dc, const char *secs);
const char *at_set_user_claim(cmd_parms *cmd, void *dc, const char *name);
const char *at_set_claims_env(cmd_parms *cmd, void *dc, const char *prefix);
const char *at_set_claims_header(cmd_parms *cmd, void *dc, const char *prefix);
const char *at_set_require_typ(cmd_parms *cmd, void *dc, const char *typ);
const char *at_set_allow_preflight(cmd_parms *cmd, void *dc, int on);
const char *at_set_revocation_check(cmd_parms *cmd, void *dc, int on);
const char *at_set_registry(cmd_parms *cmd, void *dummy, const char *a1,
                            const char *a2);
const char *at_set_issuer_name(cmd_parms *cmd, void *dummy, const char *uri);
const char *at_set_signing_key(cmd_parms *cmd, void *dummy, int argc,
                               char *const argv[]);
const char *at_set_endpoint_url(cmd_parms *cmd, void *dummy, const char *name,
                                const char *url);
const char *at_set_access_lifetime(cmd_parms *cmd, void *dummy,
                                   const char *secs);
const char *at_set_refresh_lifetime(cmd_parms *cmd, void *dummy,
                                    const char *secs);

/* token_cache.c: AuthTokenVerifyCache ENTRIES|Off (global). */
const char *at_set_verify_cache(cmd_parms *cmd, void *dummy, const char *arg);

/* config_keys.c, for every setter: a whole decimal number from 0 to MAX
 * (1 and *OUT set, or 0); and ALG PATH [kid=ID] of a key directive,
 * loaded (WANT_PRIVATE: the private key) into *KEY, or the message. */
int at_conf_parse_seconds(const char *arg, long max, long *out);
/* The keys of the JWK Set file ARG (relative to ServerRoot) into *KEYS,
 * or the message (named after the directive of CMD). */
const char *at_conf_load_jwks(cmd_parms *cmd, const char *arg,
                              apr_array_header_t **keys);
const char *at_conf_load_key(cmd_parms *cmd, int argc, char *const argv[],
                             int want_private, at_key_t **key);

/* ---- config.c: typed getters of the per-directory config ------------ */
#define AT_DEFAULT_LEEWAY     30L
#define AT_DEFAULT_USER_CLAIM "sub"
#define AT_DEFAULT_CLAIMS_ENV "TOKEN_CLAIM_"

/* The per-directory config of R (never NULL). */
at_dir_conf_t *at_dir_conf(const request_rec *r);
/* AuthTokenVerifyKey and AuthTokenJWKS keys; NULL when there are none. */
const apr_array_header_t *at_dir_keys(const at_dir_conf_t *dc);
int at_dir_verify_local(const at_dir_conf_t *dc);
long at_dir_leeway(const at_dir_conf_t *dc);
const char *at_dir_user_claim(const at_dir_conf_t *dc);
/* Prefixes: NULL when the export is Off. */
const char *at_dir_claims_env(const at_dir_conf_t *dc);
const char *at_dir_claims_header(const at_dir_conf_t *dc);
int at_dir_allow_preflight(const at_dir_conf_t *dc);
int at_dir_revocation_check(const at_dir_conf_t *dc);

/* ---- per-request state (request_config), set by authn --------------- */
typedef struct at_req {
    json_t *claims;    /* payload of the accepted token, or NULL */
    int challenge_set; /* we put a challenge into err_headers_out */
    int authz_passed;  /* fixups ran: every Require line held */
    int validated;     /* the token was checked before authz */
    int status;        /* ... with this outcome (OK or HTTP_*) */
    const char *user;  /* ... and, when OK, this user */
    int forced;        /* Bearer credentials: authn forced (authn_bearer.c) */
} at_req_t;

/* The state of R; created (zeroed, from r->pool) when CREATE, else NULL
 * when none exists. */
at_req_t *at_req_get(request_rec *r, int create);

/* 1 when R's AuthType is Bearer (case-insensitive). */
int at_is_bearer(request_rec *r);

/* challenge.c: sets the RFC 6750 challenge (WWW-Authenticate, or
 * Proxy-Authenticate on a proxy request) in r->err_headers_out, with
 * realm="<AuthName>" and, when not NULL, error, error_description and
 * scope, each quoted safely. Replaces an earlier one of ours. */
void at_challenge_set(request_rec *r, const char *error, const char *desc,
                      const char *scope);
/* Registers note_auth_failure (the challenge of httpd's own 401s),
 * fixups (drops a challenge when the request was allowed after all) and
 * insert_error_filter (insufficient_scope on a 403 from a Require line). */
void at_challenge_register_hooks(apr_pool_t *p);

/* ---- hook registration of each file ---------------------------------- */
void at_authn_register_hooks(apr_pool_t *p);
void at_authz_register_hooks(apr_pool_t *p);
void at_config_check_register_hooks(apr_pool_t *p);
void at_token_cache_register_hooks(apr_pool_t *p);

/* ---- claims_export.c ------------------------------------------------- */
/* Removes every request header whose name starts with PREFIX, compared
 * case-insensitively with '_' and '-' taken as equal (backends may fold
 * one into the other), so a client cannot forge exported claims. */
void at_claims_strip_headers(request_rec *r, const char *prefix);
/* Exports each top-level claim: into r->subprocess_env as ENV_PREFIX+name
 * (when ENV_PREFIX is not NULL) and into r->headers_in as HDR_PREFIX+name
 * (when HDR_PREFIX is not NULL; values with a control character are left
 * out). Strings as they are, other values as compact JSON. Not exported:
 * a string holding a NUL character, and every claim whose name coincides
 * with another's after the mapping (compared case-insensitively). */
void at_claims_export(request_rec *r, json_t *claims, const char *env_prefix,
                      const char *hdr_prefix);

/* ---- token_cache.c: per-process cache of verified tokens ------------ */

/* This process's cache (at_jws_cache_get/put in lib/jose/at_jose.h),
 * created in child_init; NULL under AuthTokenVerifyCache Off or before
 * child_init, which the library takes as "no cache". */
at_jws_cache_t *at_token_cache(void);

#endif /* AT_RESOURCE_H */
