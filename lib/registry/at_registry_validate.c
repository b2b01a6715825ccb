/* Validation of what operators enter, done once in the registry so that the
 * command line and the console refuse the same things with the same words.
 * Messages name the field and say what is allowed. Every problem of an
 * application is found (at_app_problems, for a form that marks each wrong
 * field); at_validate_app reports the first. Whether a scope exists is
 * checked by the registry inside the write transaction, not here.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include "at_registry_private.h"
#include "at_registry_console.h"
#include "at_registry_limits.h"

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
    if (strlen(name) > AT_SCOPE_NAME_MAX) {
        at_error_set(err, "scope name is longer than %d characters",
                     AT_SCOPE_NAME_MAX);
        return APR_EINVAL;
    }
    for (; *s; s++) {
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\') {
            at_error_set(err, "scope name may only hold printable ASCII "
                         "without spaces, '\"' or '\\' (RFC 6749 3.3)");
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* Characters (code points) of the well-formed UTF-8 text S. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0, k;

    for (; *s; s += k, n++) {
        k = at_reg_utf8_len(s);
        if (k == 0) {
            k = 1;
        }
    }
    return n;
}

/* Text of at most MAXLEN characters; BREAKS lets line breaks (LF) and
 * tabs through, for text shown in a multi-line box. */
static apr_status_t check_text(const char *field, const char *value,
                               size_t maxlen, int required, int breaks,
                               at_error_t *err)
{
    const char *s = value ? value : "";

    while (*s == ' ') {
        s++;
    }
    if (required && *s == '\0') {
        at_error_set(err, "%s must not be empty", field);
        return APR_EINVAL;
    }
    if (value == NULL) {
        return APR_SUCCESS;
    }
    for (s = value; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 || c == 0x7f) && !(breaks && (c == '\n' || c == '\t'))) {
            at_error_set(err, breaks ? "%s must not contain control "
                         "characters other than line breaks and tabs"
                         : "%s must not contain control characters", field);
            return APR_EINVAL;
        }
    }
    /* JSON output, tokens and the console's HTML all need UTF-8; the
     * console refuses other bytes on input, the command line here. */
    if (!at_reg_utf8_valid(value)) {
        at_error_set(err, "%s must be UTF-8 text", field);
        return APR_EINVAL;
    }
    if (utf8_chars(value) > maxlen) {
        at_error_set(err, "%s is longer than %lu characters", field,
                     (unsigned long)maxlen);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t at_validate_text(const char *field, const char *value,
                              size_t maxlen, int required, at_error_t *err)
{
    return check_text(field, value, maxlen, required, 0, err);
}

/* Refuses long lists and duplicates (they would be stored twice); *item
 * gets the index of the second copy. */
static apr_status_t no_duplicates(const char *field,
                                  const apr_array_header_t *list, int *item,
                                  at_error_t *err)
{
    int i, j;

    if (list == NULL) {
        return APR_SUCCESS;
    }
    if (list->nelts > AT_LIST_MAX) {
        at_error_set(err, "too many %ss (at most %d)", field, AT_LIST_MAX);
        return APR_EINVAL;
    }
    for (j = 1; j < list->nelts; j++) {
        for (i = 0; i < j; i++) {
            if (strcmp(APR_ARRAY_IDX(list, i, const char *),
                       APR_ARRAY_IDX(list, j, const char *)) == 0) {
                at_error_set(err, "%s \"%.80s\" is given twice", field,
                             APR_ARRAY_IDX(list, j, const char *));
                *item = j;
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
 * (RFC 6749 3.1.2), no whitespace (lists are space-joined), and exact:
 * redirect URIs are compared as strings (RFC 9700 2.1), so a '*' would
 * only ever match itself and is refused as the wildcard it looks like. */
static apr_status_t validate_redirect_uri(apr_pool_t *p, const char *uri,
                                          at_error_t *err)
{
    apr_uri_t u;
    const char *s;

    if (uri == NULL || *uri == '\0') {
        at_error_set(err, "redirect URI must not be empty");
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
    if (utf8_chars(uri) > AT_REDIRECT_URI_MAX) {
        at_error_set(err, "redirect URI is longer than %d characters",
                     AT_REDIRECT_URI_MAX);
        return APR_EINVAL;
    }
    if (strchr(uri, '#')) {
        at_error_set(err, "redirect URI must not have a fragment ('#')");
        return APR_EINVAL;
    }
    if (strchr(uri, '*')) {
        at_error_set(err, "redirect URI must be exact: wildcards ('*') "
                     "are not allowed");
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

static apr_status_t check_grants(const at_app_t *app, int *item,
                                 at_error_t *err)
{
    int i, k;

    for (i = 0; app->grants && i < app->grants->nelts; i++) {
        const char *g = APR_ARRAY_IDX(app->grants, i, const char *);
        for (k = 0; grant_names[k] && strcmp(grant_names[k], g); k++) {
        }
        if (grant_names[k] == NULL) {
            at_error_set(err, "grant \"%.60s\" is not one of "
                         "client_credentials, refresh_token, "
                         "authorization_code", g);
            *item = i;
            return APR_EINVAL;
        }
    }
    if (no_duplicates("grant", app->grants, item, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (app->type && strcmp(app->type, "public") == 0
        && has_grant(app->grants, "client_credentials")) {
        at_error_set(err, "grant client_credentials needs a confidential "
                     "application (a public one has no secret)");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t check_scopes(const at_app_t *app, int *item,
                                 at_error_t *err)
{
    int i;

    for (i = 0; app->scopes && i < app->scopes->nelts; i++) {
        if (at_validate_scope_name(APR_ARRAY_IDX(app->scopes, i,
                                                 const char *), err)) {
            *item = i;
            return APR_EINVAL;
        }
    }
    return no_duplicates("scope", app->scopes, item, err);
}

static apr_status_t check_audiences(const at_app_t *app, int *item,
                                    at_error_t *err)
{
    int i;

    for (i = 0; app->audiences && i < app->audiences->nelts; i++) {
        const char *a = APR_ARRAY_IDX(app->audiences, i, const char *);
        const char *s;
        *item = i;
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
        if (*a == '\0' || utf8_chars(a) > AT_AUDIENCE_MAX) {
            at_error_set(err, "audience must be 1 to %d characters",
                         AT_AUDIENCE_MAX);
            return APR_EINVAL;
        }
    }
    *item = -1;
    return no_duplicates("audience", app->audiences, item, err);
}

static apr_status_t check_uris(apr_pool_t *p, const at_app_t *app, int *item,
                               at_error_t *err)
{
    int i;

    for (i = 0; app->redirect_uris && i < app->redirect_uris->nelts; i++) {
        if (validate_redirect_uri(p, APR_ARRAY_IDX(app->redirect_uris, i,
                                                   const char *), err)) {
            *item = i;
            return APR_EINVAL;
        }
    }
    return no_duplicates("redirect URI", app->redirect_uris, item, err);
}

static apr_status_t check_type(const at_app_t *app, at_error_t *err)
{
    if (app->type == NULL
        || (strcmp(app->type, "confidential") != 0
            && strcmp(app->type, "public") != 0)) {
        at_error_set(err, "type must be confidential or public");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t check_offline(const at_app_t *app, at_error_t *err)
{
    if (app->offline_client_credentials
        && !(has_grant(app->grants, "client_credentials")
             && has_grant(app->grants, "refresh_token"))) {
        at_error_set(err, "offline client credentials need both the "
                     "client_credentials and the refresh_token grant");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static apr_status_t check_lifetime(const char *which, long v, long max,
                                   at_error_t *err)
{
    if (v < 0 || v > max) {
        at_error_set(err, "%s lifetime must be 1 to %ld seconds "
                     "(0: server default)", which, max);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Runs CALL (a check filling E, and ITEM for a list); a refusal becomes a
 * problem of field NAME in OUT. */
#define CHECK(name, call)                                                 \
    do {                                                                  \
        item = -1;                                                        \
        if ((call) != APR_SUCCESS) {                                      \
            add_problem(p, out, name, item, &e);                          \
        }                                                                 \
    } while (0)

static void add_problem(apr_pool_t *p, apr_array_header_t *out,
                        const char *field, int item, const at_error_t *e)
{
    at_problem_t *pr = apr_pcalloc(p, sizeof(*pr));

    pr->field = field;
    pr->item = item;
    pr->text = apr_pstrdup(p, e->text);
    APR_ARRAY_PUSH(out, at_problem_t *) = pr;
}

apr_array_header_t *at_app_problems(apr_pool_t *p, const at_app_t *app)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(at_problem_t *));
    at_error_t e;
    int item;

    /* One check per field, in the order a form shows them. */
    CHECK("name", check_text("name", app->name, AT_APP_NAME_MAX, 1, 0, &e));
    CHECK("description", check_text("description", app->description,
                                    AT_APP_DESCRIPTION_MAX, 0, 1, &e));
    CHECK("type", check_type(app, &e));
    CHECK("grants", check_grants(app, &item, &e));
    CHECK("offline_client_credentials", check_offline(app, &e));
    CHECK("scopes", check_scopes(app, &item, &e));
    CHECK("audiences", check_audiences(app, &item, &e));
    CHECK("redirect_uris", check_uris(p, app, &item, &e));
    CHECK("access_lifetime", check_lifetime("access", app->access_lifetime,
                                            AT_ACCESS_LIFETIME_MAX, &e));
    CHECK("refresh_lifetime", check_lifetime("refresh",
                                             app->refresh_lifetime,
                                             AT_REFRESH_LIFETIME_MAX, &e));
    return out;
}

apr_array_header_t *at_scope_problems(apr_pool_t *p, const char *name,
                                      const char *description)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(at_problem_t *));
    at_error_t e;
    int item;

    /* The checks of at_scope_add and at_scope_update. */
    if (name) {
        CHECK("name", at_validate_scope_name(name, &e));
    }
    CHECK("description", at_validate_text("description", description,
                                          AT_SCOPE_DESCRIPTION_MAX, 0, &e));
    return out;
}

#undef CHECK

apr_status_t at_validate_app(apr_pool_t *p, const at_app_t *app,
                             at_error_t *err)
{
    apr_array_header_t *problems = at_app_problems(p, app);

    if (problems->nelts == 0) {
        return APR_SUCCESS;
    }
    at_error_set(err, "%s", APR_ARRAY_IDX(problems, 0, at_problem_t *)->text);
    return APR_EINVAL;
}
