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

/* One exchange of a code, for at_code_redeem_many. */
typedef struct at_redeem {
    const char *value;          /* the code */
    const char *client_id;      /* who presents it */
    /* What else is checked before the code is consumed (redirect URI,
     * PKCE): NULL when it may be, else what is wrong. May be NULL. */
    const char *(*check)(const at_code_t *code, void *ctx);
    void *ctx;
    apr_pool_t *pool;           /* for *code */
    at_jti_rec_t jti;           /* the access token: jti and exp made by
                                   the caller; subject and grant_id come
                                   from the code */
    long refresh_lifetime;      /* > 0: a refresh token when the code's
                                   scope holds offline_access */
    const char *refresh;        /* made by the caller; NULL afterwards when
                                   none was issued */
    /* results */
    apr_status_t status;        /* APR_SUCCESS; APR_NOTFOUND unknown,
                                   expired or another client's; APR_EINVAL
                                   refused by check (*problem), the code
                                   left as it is; APR_EACCES used before:
                                   what it issued is now revoked */
    const char *problem;
    at_code_t *code;            /* the code, when it was found */
} at_redeem_t;

/* Exchanges of codes (and the jti records RECS) in one transaction, each
 * exchange all or nothing on its own: the code is consumed, the access
 * token recorded with the code's grant_id, and the refresh family grant_id
 * started. Of two redemptions of one code, concurrent or not, exactly one
 * gets APR_SUCCESS; the other revokes what the first issued. Returns a
 * database failure (everything rolled back, every status set to it) or
 * APR_SUCCESS. */
apr_status_t at_code_redeem_many(at_registry_t *reg, apr_pool_t *p,
                                 at_redeem_t **items, int n,
                                 const at_jti_rec_t *recs, int nrecs,
                                 at_error_t *err);
/* One exchange (at_code_redeem_many of ITEM alone); ITEM's status, or the
 * database failure. */
apr_status_t at_code_redeem(at_registry_t *reg, apr_pool_t *p,
                            at_redeem_t *item, at_error_t *err);

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
