/* Validation of what operators enter, done once in the registry so that the
 * command line and the console refuse the same things with the same words.
 * Messages name the field and say what is allowed. Whether a scope exists
 * is checked by the registry inside the write transaction, not here.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include "at_registry_private.h"

#define NAME_MAX_LEN        100
#define DESCRIPTION_MAX_LEN 1000
#define SCOPE_MAX_LEN       128
#define AUDIENCE_MAX_LEN    200
#define URI_MAX_LEN         2000
#define MAX_LIST            50
/* An access token lives at most a day: revocation only reaches it where
 * AuthTokenRevocationCheck is on. A refresh token at most a year. */
#define ACCESS_LIFETIME_MAX  86400L
#define REFRESH_LIFETIME_MAX (366L * 86400L)

static const char *const grant_names[] = {
    "client_credentials", "refresh_token", "authorization_code", NULL
};

/* RFC 6749 3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E
 * (printable ASCII without space, '"' and '\'). */
apr_status_t at_validate_scope_name(const char *name, at_error_t *err)
{
    const unsigned char *s = (const unsigned char *)name;

    if (name == NULL || *name == '\0') {
        at_error_set(err, "scope name must not be empty");
        return APR_EINVAL;
    }
    if (strlen(name) > SCOPE_MAX_LEN) {
        at_error_set(err, "scope name is longer than %d characters",
                     SCOPE_MAX_LEN);
        return APR_EINVAL;
    }
    for (; *s; s++) {
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\') {
            at_error_set(err, "scope name may only hold printable ASCII "
                         "without space, '\"' and '\\' (RFC 6749 3.3)");
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static int has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

apr_status_t at_validate_text(const char *field, const char *value,
                              size_t maxlen, int required, at_error_t *err)
{
    const char *s = value ? value : "";

    while (*s == ' ') {
        s++;
    }
    if (required && *s == '\0') {
        at_error_set(err, "%s must not be empty", field);
        return APR_EINVAL;
    }
    if (value && strlen(value) > maxlen) {
        at_error_set(err, "%s is longer than %lu characters", field,
                     (unsigned long)maxlen);
        return APR_EINVAL;
    }
    if (value && has_control(value)) {
        at_error_set(err, "%s must not contain control characters", field);
        return APR_EINVAL;
    }
    /* JSON output, tokens and the console's HTML all need UTF-8; the
     * console refuses other bytes on input, the command line here. */
    if (value && !at_reg_utf8_valid(value)) {
        at_error_set(err, "%s must be UTF-8 text", field);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Refuses duplicates in a list: they would be stored twice. */
static apr_status_t no_duplicates(const char *field,
                                  const apr_array_header_t *list,
                                  at_error_t *err)
{
    int i, j;

    if (list->nelts > MAX_LIST) {
        at_error_set(err, "too many %ss (at most %d)", field, MAX_LIST);
        return APR_EINVAL;
    }
    for (i = 0; i < list->nelts; i++) {
        for (j = i + 1; j < list->nelts; j++) {
            if (strcmp(APR_ARRAY_IDX(list, i, const char *),
                       APR_ARRAY_IDX(list, j, const char *)) == 0) {
                at_error_set(err, "%s \"%s\" is given twice", field,
                             APR_ARRAY_IDX(list, i, const char *));
                return APR_EINVAL;
            }
        }
    }
    return APR_SUCCESS;
}

static int is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0
           || strcasecmp(host, "localhost") == 0;
}

/* Absolute, https (http only on loopback, RFC 8252 7.3), no fragment
 * (RFC 6749 3.1.2), no whitespace (lists are space-joined). */
static apr_status_t validate_redirect_uri(apr_pool_t *p, const char *uri,
                                          at_error_t *err)
{
    apr_uri_t u;
    const char *s;

    if (uri == NULL || *uri == '\0') {
        at_error_set(err, "redirect URI must not be empty");
        return APR_EINVAL;
    }
    if (strlen(uri) > URI_MAX_LEN) {
        at_error_set(err, "redirect URI is longer than %d characters",
                     URI_MAX_LEN);
        return APR_EINVAL;
    }
    for (s = uri; *s; s++) {
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
            at_error_set(err, "redirect URI must not contain spaces or "
                         "control characters");
            return APR_EINVAL;
        }
    }
    if (!at_reg_utf8_valid(uri)) {
        at_error_set(err, "redirect URI must be UTF-8 text");
        return APR_EINVAL;
    }
    if (strchr(uri, '#')) {
        at_error_set(err, "redirect URI must not have a fragment ('#')");
        return APR_EINVAL;
    }
    if (apr_uri_parse(p, uri, &u) != APR_SUCCESS || u.scheme == NULL
        || u.hostname == NULL || *u.hostname == '\0'
        || strncmp(uri + strlen(u.scheme), "://", 3) != 0) {
        at_error_set(err, "redirect URI must be absolute "
                     "(scheme://host/path)");
        return APR_EINVAL;
    }
    if (u.user || u.password) {
        at_error_set(err, "redirect URI must not hold user information");
        return APR_EINVAL;
    }
    if (strcasecmp(u.scheme, "https") == 0) {
        return APR_SUCCESS;
    }
    if (strcasecmp(u.scheme, "http") == 0 && is_loopback(u.hostname)) {
        return APR_SUCCESS;
    }
    at_error_set(err, "redirect URI must use https (or http on loopback: "
                 "127.0.0.1, [::1], localhost)");
    return APR_EINVAL;
}

static int has_grant(const apr_array_header_t *grants, const char *g)
{
    int i;

    for (i = 0; grants && i < grants->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(grants, i, const char *), g) == 0) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t validate_lists(apr_pool_t *p, const at_app_t *app,
                                   at_error_t *err)
{
    apr_status_t rv;
    int i, k;

    for (i = 0; app->grants && i < app->grants->nelts; i++) {
        const char *g = APR_ARRAY_IDX(app->grants, i, const char *);
        for (k = 0; grant_names[k] && strcmp(grant_names[k], g); k++) {
        }
        if (grant_names[k] == NULL) {
            at_error_set(err, "grant \"%.60s\" is not one of "
                         "client_credentials, refresh_token, "
                         "authorization_code", g);
            return APR_EINVAL;
        }
    }
    for (i = 0; app->scopes && i < app->scopes->nelts; i++) {
        rv = at_validate_scope_name(
            APR_ARRAY_IDX(app->scopes, i, const char *), err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    for (i = 0; app->audiences && i < app->audiences->nelts; i++) {
        const char *a = APR_ARRAY_IDX(app->audiences, i, const char *);
        const char *s;
        if (*a == '\0' || strlen(a) > AUDIENCE_MAX_LEN) {
            at_error_set(err, "audience must be 1 to %d characters",
                         AUDIENCE_MAX_LEN);
            return APR_EINVAL;
        }
        for (s = a; *s; s++) {
            if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
                at_error_set(err, "audience must not contain spaces or "
                             "control characters");
                return APR_EINVAL;
            }
        }
        if (!at_reg_utf8_valid(a)) {
            at_error_set(err, "audience must be UTF-8 text");
            return APR_EINVAL;
        }
    }
    for (i = 0; app->redirect_uris && i < app->redirect_uris->nelts; i++) {
        rv = validate_redirect_uri(
            p, APR_ARRAY_IDX(app->redirect_uris, i, const char *), err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if ((app->grants && (rv = no_duplicates("grant", app->grants, err)))
        || (app->scopes && (rv = no_duplicates("scope", app->scopes, err)))
        || (app->audiences
            && (rv = no_duplicates("audience", app->audiences, err)))
        || (app->redirect_uris
            && (rv = no_duplicates("redirect URI", app->redirect_uris,
                                   err)))) {
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t at_validate_app(apr_pool_t *p, const at_app_t *app,
                             at_error_t *err)
{
    apr_status_t rv;

    if ((rv = at_validate_text("name", app->name, NAME_MAX_LEN, 1, err))
        || (rv = at_validate_text("description", app->description,
                                  DESCRIPTION_MAX_LEN, 0, err))) {
        return rv;
    }
    if (app->type == NULL
        || (strcmp(app->type, "confidential") != 0
            && strcmp(app->type, "public") != 0)) {
        at_error_set(err, "type must be confidential or public");
        return APR_EINVAL;
    }
    rv = validate_lists(p, app, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (strcmp(app->type, "public") == 0
        && has_grant(app->grants, "client_credentials")) {
        at_error_set(err, "grant client_credentials needs a confidential "
                     "application (a public one has no secret)");
        return APR_EINVAL;
    }
    if (app->access_lifetime < 0 || app->access_lifetime > ACCESS_LIFETIME_MAX) {
        at_error_set(err, "access lifetime must be 1 to %ld seconds "
                     "(0: server default)", ACCESS_LIFETIME_MAX);
        return APR_EINVAL;
    }
    if (app->refresh_lifetime < 0
        || app->refresh_lifetime > REFRESH_LIFETIME_MAX) {
        at_error_set(err, "refresh lifetime must be 1 to %ld seconds "
                     "(0: server default)", REFRESH_LIFETIME_MAX);
        return APR_EINVAL;
    }
    if (app->offline_client_credentials
        && !(has_grant(app->grants, "client_credentials")
             && has_grant(app->grants, "refresh_token"))) {
        at_error_set(err, "offline client credentials need both the "
                     "client_credentials and the refresh_token grant");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
