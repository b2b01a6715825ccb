/* The person's identity claims. At the authorization endpoint, each
 * AuthTokenIdentityClaim NAME VARIABLE of the location takes the request
 * environment variable VARIABLE (set by the authentication module or
 * SetEnv) as claim NAME; unset or empty ones are left out. What a token
 * then releases of them depends on its scopes: a standard claim goes with
 * its scope (OpenID Connect Core 5.4: profile, email, address, phone),
 * any other name with openid alone, since the operator named it for this
 * purpose. */
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

/* OpenID Connect Core 1.0 section 5.4, scope -> standard claims. */
static const struct {
    const char *scope;
    const char *const claims[15];
} standard[] = {
    {"profile",
     {"name", "family_name", "given_name", "middle_name", "nickname",
      "preferred_username", "profile", "picture", "website", "gender",
      "birthdate", "zoneinfo", "locale", "updated_at", NULL}},
    {"email", {"email", "email_verified", NULL}},
    {"address", {"address", NULL}},
    {"phone", {"phone_number", "phone_number_verified", NULL}},
};
#define NSTANDARD (sizeof(standard) / sizeof(standard[0]))

/* Claims of the tokens themselves (ID token, JWT conventions). */
static const char *const reserved[] = {
    "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce",
    "azp", "at_hash", "c_hash", "acr", "amr", "sid", "client_id", "scope",
    "typ", "cnf", NULL};

int at_identity_reserved(const char *name)
{
    int i;

    for (i = 0; reserved[i]; i++) {
        if (strcmp(reserved[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The scope NAME is a standard claim of, or NULL. */
static const char *claim_scope(const char *name)
{
    size_t i;
    int k;

    for (i = 0; i < NSTANDARD; i++) {
        for (k = 0; standard[i].claims[k]; k++) {
            if (strcmp(standard[i].claims[k], name) == 0) {
                return standard[i].scope;
            }
        }
    }
    return NULL;
}

/* The JSON value of claim NAME from the text of a variable: the two
 * booleans of the standard as booleans, updated_at as a number, anything
 * else as the string it is. */
static json_t *claim_value(const char *name, const char *text)
{
    if (strcmp(name, "email_verified") == 0
        || strcmp(name, "phone_number_verified") == 0) {
        return json_boolean(strcasecmp(text, "true") == 0
                            || strcmp(text, "1") == 0
                            || strcasecmp(text, "yes") == 0);
    }
    if (strcmp(name, "updated_at") == 0) {
        char *end;
        apr_int64_t v = apr_strtoi64(text, &end, 10);

        if (*end == '\0' && v >= 0) {
            return json_integer((json_int_t)v);
        }
    }
    return json_string(text);
}

const char *at_identity_collect(request_rec *r)
{
    const apr_array_header_t *list = at_dir_conf(r)->identity_claims;
    json_t *obj;
    char *text, *copy;
    int i;

    if (!list || list->nelts == 0) {
        return NULL;
    }
    obj = json_object();
    for (i = 0; i < list->nelts; i++) {
        const at_identity_claim_t *c =
            &APR_ARRAY_IDX(list, i, at_identity_claim_t);
        const char *v = apr_table_get(r->subprocess_env, c->variable);
        json_t *value;

        if (!v || !*v) {
            continue;
        }
        /* Not UTF-8 (a legacy directory, a bad header): left out and
         * said, rather than failing the sign-in. */
        value = claim_value(c->name, v);
        if (!value) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "AT01250: %s is not UTF-8 text: claim %s left "
                          "out", c->variable, c->name);
            continue;
        }
        json_object_set_new(obj, c->name, value);
    }
    text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    if (!text) {
        return "{}";
    }
    copy = apr_pstrdup(r->pool, text);
    free(text);
    return copy;
}

void at_identity_release(request_rec *r, const char *claims_text,
                         const char *scopes, json_t *out)
{
    apr_array_header_t *granted = at_scope_parse(r->pool, scopes);
    json_t *claims, *value;
    json_error_t jerr;
    const char *name;

    if (!claims_text || !granted || !at_scope_has(granted, AT_SCOPE_OPENID)) {
        return;
    }
    claims = json_loads(claims_text, 0, &jerr);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return;
    }
    json_object_foreach(claims, name, value) {
        const char *scope = claim_scope(name);

        if ((!scope || at_scope_has(granted, scope))
            && !at_identity_reserved(name)) {
            json_object_set(out, name, value);
        }
    }
    json_decref(claims);
}
