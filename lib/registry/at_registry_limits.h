/* What the registry accepts from operators, in one place: the validation
 * (at_registry_validate.c, at_registry_scopes.c, at_registry_secrets.c)
 * refuses beyond these, and the console puts the same numbers into its
 * fields' maxlength, so a form never allows what the registry refuses.
 * Lengths are in characters (Unicode code points); a browser's maxlength
 * counts UTF-16 units, never fewer.
 */
#ifndef AT_REGISTRY_LIMITS_H
#define AT_REGISTRY_LIMITS_H

#define AT_APP_NAME_MAX          100
#define AT_APP_DESCRIPTION_MAX   1000
#define AT_SCOPE_NAME_MAX        128
#define AT_SCOPE_DESCRIPTION_MAX 1000
#define AT_AUDIENCE_MAX          200
#define AT_REDIRECT_URI_MAX      2000
/* Items in one list (grants, scopes, audiences, redirect URIs). */
#define AT_LIST_MAX              50
/* An access token lives at most a day: revocation only reaches it where
 * AuthTokenRevocationCheck is on. A refresh token at most a year. */
#define AT_ACCESS_LIFETIME_MAX   86400L
#define AT_REFRESH_LIFETIME_MAX  (366L * 86400L)
/* How long a rotated secret may stay valid. */
#define AT_GRACE_MAX             (30L * 86400L)

#endif /* AT_REGISTRY_LIMITS_H */
