/* Claim checks of a verified JWS: time claims, issuer, audience, typ.
 * Pure functions over jansson values, shared by the module and the tests. */
#ifndef AT_CLAIMS_H
#define AT_CLAIMS_H

#include <apr_tables.h>
#include <apr_errno.h>
#include <jansson.h>
#include "at_jose.h"

typedef struct at_claim_rules {
    const apr_array_header_t *issuers;   /* const char *; NULL/empty: any */
    const apr_array_header_t *audiences; /* const char *; NULL/empty: any */
    const char *require_typ;  /* NULL: JWT, at+jwt, application/at+jwt or none */
    long leeway;              /* seconds, for exp, nbf and iat */
    const char *user_claim;   /* must be present (string); NULL: not checked */
} at_claim_rules_t;

/* APR_SUCCESS when the token's header and claims satisfy RULES at time NOW
 * (seconds since the epoch). exp is required; exp, nbf, iat must be JSON
 * numbers; an iat in the future beyond the leeway is rejected. */
apr_status_t at_claims_check(const at_jws_t *jws, const at_claim_rules_t *rules,
                             long long now, at_error_t *err);

/* The user name claim NAME gives, as at_claims_check accepts it: a
 * non-empty string without NUL as it is, a number as its JSON text (in
 * P); NULL for anything else. */
const char *at_claim_user(apr_pool_t *p, json_t *claims, const char *name);

/* A JSON number V as whole seconds, saturated at LLONG_MIN / LLONG_MAX
 * (1e300 is a valid exp) instead of overflowing the conversion; 0 for a
 * value that is not a number. */
long long at_claim_seconds(json_t *v);

/* The value at a dotted path ("realm_access.roles") in an object, or NULL. */
json_t *at_claim_lookup(json_t *claims, const char *path);

/* 1 when CLAIM equals VALUE per the token-claim rules: strings exactly
 * (one holding a NUL equals nothing),
 * numbers numerically, true/false/null literally, arrays by membership,
 * objects never. */
int at_claim_matches(json_t *claim, const char *value);

/* 1 when every scope in REQUIRED (const char *) is in the "scope" claim
 * (space separated) or, without one, in the "scp" array. */
int at_scopes_hold(json_t *claims, const apr_array_header_t *required);

#endif /* AT_CLAIMS_H */
