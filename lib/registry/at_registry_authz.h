/* Delegated authorization in the registry: authorization codes,
 * remembered consents, and the identity claims last seen for a person.
 * Same contracts as at_registry.h (APR_SUCCESS, APR_NOTFOUND, APR_EINVAL,
 * or a database failure with ERR filled; a refused or failed change leaves
 * the registry as it was unless said otherwise).
 *
 * A person is whatever Apache authentication put in REMOTE_USER at the
 * authorization endpoint; the registry calls it the subject, as it does
 * for refresh families.
 */
#ifndef AT_REGISTRY_AUTHZ_H
#define AT_REGISTRY_AUTHZ_H

#include "at_registry.h"

/* --- authorization codes (at_registry_codes.c) -------------------------- */

/* An authorization code as issued. */
typedef struct at_code {
    const char *client_id;
    const char *subject;
    const char *redirect_uri;   /* the one the code was issued for */
    int redirect_sent;          /* the request named it (RFC 6749 4.1.3) */
    const char *scope;          /* space separated, as granted */
    const char *challenge;      /* PKCE S256 code_challenge, or NULL */
    const char *nonce;          /* OpenID Connect nonce, or NULL */
    const char *claims;         /* identity claims (JSON object), or NULL */
    long long auth_time;
    const char *grant_id;       /* names what the code issued */
    long long created;
    long long expires;
    long long used_at;          /* 0 while unused */
} at_code_t;

/* Issues a code for CODE (grant_id, created and expires are set here),
 * valid LIFETIME seconds; the value (256 random bits) is returned once in
 * *value and only its hash is stored. When CODE->claims is set, it also
 * becomes the person's identity for userinfo (at_identity_get), in the same
 * transaction. */
apr_status_t at_code_issue(at_registry_t *reg, apr_pool_t *p, at_code_t *code,
                           long lifetime, const char **value,
                           at_error_t *err);

/* Looks VALUE up without consuming it: APR_NOTFOUND when unknown (or
 * purged); expired and used codes are returned as they are. */
apr_status_t at_code_lookup(at_registry_t *reg, apr_pool_t *p,
                            const char *value, at_code_t **code,
                            at_error_t *err);

/* The exchange of VALUE, all in one transaction: the code is consumed;
 * the access token's JTI is recorded (its grant_id set to the code's); and
 * when REFRESH_LIFETIME > 0 the refresh family grant_id starts with
 * REFRESH_SCOPE, its first token returned once in *refresh. When the code
 * was consumed meanwhile (a concurrent or second redemption) nothing is
 * issued, everything issued from the code is revoked (committed) and the
 * result is APR_EACCES. An expired code is APR_NOTFOUND. */
apr_status_t at_code_redeem(at_registry_t *reg, apr_pool_t *p,
                            const char *value, const at_jti_rec_t *jti,
                            const char *refresh_scope, long refresh_lifetime,
                            const char **refresh, at_error_t *err);

/* Revokes everything issued from the code VALUE (its refresh family and
 * the access tokens recorded with its grant_id), for a code presented
 * again: RFC 6749 section 4.1.2. ACTOR goes into the audit row. */
apr_status_t at_code_revoke_grant(at_registry_t *reg, apr_pool_t *p,
                                  const char *value, const char *actor,
                                  at_error_t *err);

/* The identity claims (JSON object text) last recorded for SUBJECT, or
 * APR_NOTFOUND. */
apr_status_t at_identity_get(at_registry_t *reg, apr_pool_t *p,
                             const char *subject, const char **claims,
                             at_error_t *err);

/* --- consents (at_registry_consents.c) ---------------------------------- */

/* What a person allowed an application. */
typedef struct at_consent {
    const char *subject;
    const char *client_id;
    const char *app_name;
    const char *scope;          /* space separated */
    long long created;
    long long updated;          /* when the scopes last grew */
} at_consent_t;

/* The consent of SUBJECT for CLIENT_ID, or APR_NOTFOUND. */
apr_status_t at_consent_get(at_registry_t *reg, apr_pool_t *p,
                            const char *subject, const char *client_id,
                            at_consent_t **consent, at_error_t *err);

/* Remembers that SUBJECT allowed CLIENT_ID the scopes SCOPE (space
 * separated), added to what was allowed before. Audited with the person
 * as actor. APR_NOTFOUND for an unknown application. */
apr_status_t at_consent_save(at_registry_t *reg, apr_pool_t *p,
                             const char *subject, const char *client_id,
                             const char *scope, at_error_t *err);

/* Consents (at_consent_t *), filtered by SUBJECT and CLIENT_ID (NULL or
 * "": any), ordered by application name, then person. */
apr_status_t at_consent_list(at_registry_t *reg, apr_pool_t *p,
                             const char *subject, const char *client_id,
                             apr_array_header_t **consents, at_error_t *err);

/* Revokes the consent of SUBJECT for CLIENT_ID, every refresh family of
 * that person for that application and every access token issued to them
 * for it until now (honoured where AuthTokenRevocationCheck On), in one
 * transaction audited with ACTOR. APR_NOTFOUND when the application is
 * unknown, or when there was neither a consent nor an active grant. */
apr_status_t at_consent_revoke(at_registry_t *reg, apr_pool_t *p,
                               const char *subject, const char *client_id,
                               const char *actor, at_error_t *err);

/* A per-registry secret named NAME (64 hex digits from the CSPRNG),
 * created on first use and the same for every process and node using the
 * registry: the key of the issuer's CSRF tokens. */
apr_status_t at_registry_secret_key(at_registry_t *reg, apr_pool_t *p,
                                    const char *name, const char **hex,
                                    at_error_t *err);

#endif /* AT_REGISTRY_AUTHZ_H */
