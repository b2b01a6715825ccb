/* Directives of delegated authorization: AuthTokenCodeLifetime (server)
 * and AuthTokenIdentityClaim NAME VARIABLE (server or directory, usually
 * inside the oauth-authorize location next to the authentication that
 * sets VARIABLE). A section's own AuthTokenIdentityClaim lines replace the
 * ones it would inherit, like the other lists of the module. */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "issuer.h"
#include "issuer_delegated.h"

/* RFC 6749 section 4.1.2 recommends at most ten minutes. */
#define CODE_LIFETIME_MAX 600L

const char *at_set_code_lifetime(cmd_parms *cmd, void *dummy,
                                 const char *secs)
{
    long v;

    if (!at_conf_parse_seconds(secs, CODE_LIFETIME_MAX, &v) || v == 0) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenCodeLifetime: '%s' is not a number of "
                            "seconds from 1 to %ld (RFC 6749 4.1.2: codes "
                            "live at most ten minutes); the default is %ld",
                            secs, CODE_LIFETIME_MAX,
                            AT_DEFAULT_CODE_LIFETIME);
    }
    at_srv_conf(cmd->server)->code_lifetime = v;
    return NULL;
}

const char *at_set_identity_claim(cmd_parms *cmd, void *dcv,
                                  const char *name, const char *variable)
{
    at_dir_conf_t *dc = dcv;
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    at_identity_claim_t *claim;
    const char *c;
    int i;

    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-' && *c != '.') {
            break;
        }
    }
    if (!*name || *c || strlen(name) > 64) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenIdentityClaim: '%s' is not a claim "
                            "name (letters, digits, _ - . only), e.g. email",
                            name);
    }
    if (at_identity_reserved(name)) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenIdentityClaim: '%s' is set by the "
                            "issuer itself and cannot come from a variable; "
                            "pick another claim name", name);
    }
    if (!*variable) {
        return "AuthTokenIdentityClaim: the VARIABLE must not be empty, "
               "e.g. AuthTokenIdentityClaim email AUTHENTICATE_MAIL";
    }
    if (!dc->identity_claims) {
        dc->identity_claims =
            apr_array_make(cmd->pool, 4, sizeof(at_identity_claim_t));
    }
    for (i = 0; i < dc->identity_claims->nelts; i++) {
        claim = &APR_ARRAY_IDX(dc->identity_claims, i, at_identity_claim_t);
        if (strcmp(claim->name, name) == 0) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenIdentityClaim: claim '%s' is "
                                "already taken from %s in this section",
                                name, claim->variable);
        }
    }
    claim = apr_array_push(dc->identity_claims);
    claim->name = name;
    claim->variable = variable;
    /* For the metadata's claims_supported. */
    if (!sc->identity_names) {
        sc->identity_names =
            apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    for (i = 0; i < sc->identity_names->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(sc->identity_names, i, const char *), name)
            == 0) {
            return NULL;
        }
    }
    APR_ARRAY_PUSH(sc->identity_names, const char *) = name;
    return NULL;
}
