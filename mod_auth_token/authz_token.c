/* Authorization providers over the claims of the token that authenticated
 * the request:
 *   Require token-claim NAME VALUE...   the claim (dotted path) equals one
 *                                       VALUE or is an array holding one
 *   Require token-scope SCOPE...        every SCOPE was granted
 * Arguments are parsed once, when the Require line is read; per request
 * only the claims are looked at. A failing line leaves an
 * insufficient_scope challenge for the 401/403 httpd then sends.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"
#include "ap_provider.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

typedef struct claim_rule {
    const char *name;           /* dotted path */
    apr_array_header_t *values; /* const char * */
} claim_rule_t;

typedef struct scope_rule {
    apr_array_header_t *scopes; /* const char * */
    const char *joined;         /* for the challenge's scope="..." */
} scope_rule_t;

/* Words of a Require line, quotes honoured as everywhere in httpd. */
static apr_array_header_t *split_words(apr_pool_t *p, const char *line)
{
    apr_array_header_t *words = apr_array_make(p, 4, sizeof(const char *));
    const char *w;

    while (*line && *(w = ap_getword_conf(p, &line))) {
        APR_ARRAY_PUSH(words, const char *) = w;
    }
    return words;
}

static const char *claim_parse(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    apr_array_header_t *words = split_words(cmd->pool, line);
    claim_rule_t *rule;

    if (words->nelts < 2) {
        return "Require token-claim needs a claim name and at least one "
               "value, e.g. Require token-claim realm_access.roles admin";
    }
    rule = apr_palloc(cmd->pool, sizeof(*rule));
    rule->name = APR_ARRAY_IDX(words, 0, const char *);
    if (rule->name[0] == '.' || rule->name[strlen(rule->name) - 1] == '.' ||
        strstr(rule->name, "..")) {
        return apr_psprintf(cmd->pool,
                            "Require token-claim: '%s' is not a "
                            "claim name or dotted path (a.b.c)",
                            rule->name);
    }
    rule->values =
        apr_array_make(cmd->pool, words->nelts - 1, sizeof(const char *));
    memcpy(rule->values->elts, words->elts + sizeof(const char *),
           (words->nelts - 1) * sizeof(const char *));
    rule->values->nelts = words->nelts - 1;
    *parsed = rule;
    return NULL;
}

static const char *scope_parse(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    apr_array_header_t *words = split_words(cmd->pool, line);
    scope_rule_t *rule;
    int i;

    if (words->nelts < 1) {
        return "Require token-scope needs at least one scope, e.g. "
               "Require token-scope orders:read";
    }
    for (i = 0; i < words->nelts; i++) {
        const char *w = APR_ARRAY_IDX(words, i, const char *), *c;
        for (c = w; *c; c++) {
            /* RFC 6749 3.3 scope-token characters */
            if (*c < 0x21 || *c == '"' || *c == '\\' || *c > 0x7e) {
                return apr_psprintf(cmd->pool,
                                    "Require token-scope: '%s' "
                                    "is not a valid scope name (RFC 6749 "
                                    "3.3)",
                                    w);
            }
        }
    }
    rule = apr_palloc(cmd->pool, sizeof(*rule));
    rule->scopes = words;
    rule->joined = apr_array_pstrcat(cmd->pool, words, ' ');
    *parsed = rule;
    return NULL;
}

/* The claims of the token that authenticated R, or NULL. */
static json_t *request_claims(request_rec *r)
{
    at_req_t *st = at_req_get(r, 0);

    return st ? st->claims : NULL;
}

static authz_status claim_check(request_rec *r, const char *line,
                                const void *parsed)
{
    const claim_rule_t *rule = parsed;
    json_t *claims, *v;
    int i;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (!(claims = request_claims(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT00201: Require token-claim for %s: user %s was not "
                      "authenticated by a bearer token",
                      at_log_item(r->pool, r->uri),
                      at_log_item(r->pool, r->user));
        return AUTHZ_DENIED;
    }
    v = at_claim_lookup(claims, rule->name);
    for (i = 0; v && i < rule->values->nelts; i++) {
        if (at_claim_matches(v, APR_ARRAY_IDX(rule->values, i, const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT00202: Require token-claim %s not met for user %s on "
                  "%s (%s)",
                  rule->name, at_log_item(r->pool, r->user),
                  at_log_item(r->pool, r->uri),
                  v ? "no value matches" : "claim absent");
    at_challenge_set(r, "insufficient_scope", NULL, NULL);
    return AUTHZ_DENIED;
}

static authz_status scope_check(request_rec *r, const char *line,
                                const void *parsed)
{
    const scope_rule_t *rule = parsed;
    json_t *claims;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (!(claims = request_claims(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT00203: Require token-scope for %s: user %s was not "
                      "authenticated by a bearer token",
                      at_log_item(r->pool, r->uri),
                      at_log_item(r->pool, r->user));
        return AUTHZ_DENIED;
    }
    if (at_scopes_hold(claims, rule->scopes)) {
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT00204: Require token-scope %s not met for user %s on %s",
                  rule->joined, at_log_item(r->pool, r->user),
                  at_log_item(r->pool, r->uri));
    at_challenge_set(r, "insufficient_scope", NULL, rule->joined);
    return AUTHZ_DENIED;
}

static const authz_provider claim_provider = {
    &claim_check,
    &claim_parse,
};

static const authz_provider scope_provider = {
    &scope_check,
    &scope_parse,
};

void at_authz_register_hooks(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "token-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "token-scope",
                              AUTHZ_PROVIDER_VERSION, &scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
