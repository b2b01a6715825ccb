/* Claim checks of a verified token (RFC 7519 section 4.1, RFC 9068 for
 * typ) and the lookups behind Require token-claim / token-scope. Error
 * texts name the rule, never the token's values.
 *
 * Claim strings may hold NUL ("\u0000" is valid JSON): they are read
 * through at_json_text or with their length, so that such a string equals
 * no configured value (none holds a NUL) instead of its prefix. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "at_claims.h"

/* Optional time claim: absent -> APR_ENOENT; not a JSON number -> error. */
static apr_status_t time_claim(json_t *claims, const char *name, double *out,
                               at_error_t *err)
{
    json_t *v = json_object_get(claims, name);

    if (v == NULL) {
        return APR_ENOENT;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        at_error_set(err, "claim %s is not a number", name);
        return APR_EINVAL;
    }
    *out = json_number_value(v);
    return APR_SUCCESS;
}

/* exp, nbf, iat with LEEWAY either side; the comparisons follow RFC 7519:
 * the token is good strictly before exp and from nbf on. */
static apr_status_t check_times(json_t *claims, long leeway, long long now,
                                at_error_t *err)
{
    double t, lo, hi;
    apr_status_t rv;

    /* A negative leeway would tighten the rules past RFC 7519's. */
    if (leeway < 0) {
        leeway = 0;
    }
    lo = (double)now - (double)leeway;
    hi = (double)now + (double)leeway;

    rv = time_claim(claims, "exp", &t, err);
    if (rv == APR_ENOENT) {
        at_error_set(err, "claim exp missing");
        return APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (t <= lo) {
        at_error_set(err, "token expired");
        return APR_EINVAL;
    }
    rv = time_claim(claims, "nbf", &t, err);
    if (rv == APR_SUCCESS && t > hi) {
        at_error_set(err, "token not yet valid");
        return APR_EINVAL;
    }
    if (rv != APR_SUCCESS && rv != APR_ENOENT) {
        return rv;
    }
    rv = time_claim(claims, "iat", &t, err);
    if (rv == APR_SUCCESS && t > hi) {
        at_error_set(err, "token issued in the future");
        return APR_EINVAL;
    }
    if (rv != APR_SUCCESS && rv != APR_ENOENT) {
        return rv;
    }
    return APR_SUCCESS;
}

/* S may be NULL (a string holding NUL), which is in no list. */
static int in_list(const apr_array_header_t *list, const char *s)
{
    int i;

    for (i = 0; s != NULL && i < list->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(list, i, const char *), s) == 0) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t check_audience(json_t *claims,
                                   const apr_array_header_t *audiences,
                                   at_error_t *err)
{
    json_t *aud = json_object_get(claims, "aud"), *v;
    size_t i;
    int found = 0;

    if (json_is_string(aud)) {
        found = in_list(audiences, at_json_text(aud));
    }
    else if (json_is_array(aud)) {
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v)) {
                at_error_set(err, "claim aud holds a non-string");
                return APR_EINVAL;
            }
            found = found || in_list(audiences, at_json_text(v));
        }
    }
    else if (aud != NULL) {
        at_error_set(err, "claim aud is not a string or array");
        return APR_EINVAL;
    }
    if (!found) {
        at_error_set(err, aud ? "audience not accepted" : "claim aud missing");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* "application/at+jwt" -> "at+jwt": RFC 7515 section 4.1.9 lets the
 * prefix be dropped when no other '/' follows. */
static const char *media_type_short(const char *t)
{
    if (strncasecmp(t, "application/", 12) == 0
        && strchr(t + 12, '/') == NULL) {
        return t + 12;
    }
    return t;
}

static apr_status_t check_typ(const char *typ, const char *require,
                              at_error_t *err)
{
    const char *t;

    if (require != NULL) {
        if (typ == NULL
            || strcasecmp(media_type_short(typ), media_type_short(require))) {
            at_error_set(err, "token type not accepted");
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    }
    if (typ == NULL) {
        return APR_SUCCESS;
    }
    /* Default: plain JWTs and RFC 9068 access tokens; anything else (an
     * ID token marked as such, a logout token, ...) is not an access
     * token. "application/JWT" is not in the contract's list. */
    t = typ;
    if (strcasecmp(t, "JWT") == 0 || strcasecmp(t, "at+jwt") == 0
        || strcasecmp(t, "application/at+jwt") == 0) {
        return APR_SUCCESS;
    }
    at_error_set(err, "token type not accepted");
    return APR_EINVAL;
}

apr_status_t at_claims_check(const at_jws_t *jws, const at_claim_rules_t *rules,
                             long long now, at_error_t *err)
{
    static const at_claim_rules_t defaults = {NULL, NULL, NULL, 0, NULL};
    json_t *claims = jws->claims, *v;
    apr_status_t rv;

    if (rules == NULL) {
        rules = &defaults;
    }
    if (!json_is_object(claims)) {
        at_error_set(err, "payload is not a claim set");
        return APR_EINVAL;
    }
    rv = check_typ(jws->typ, rules->require_typ, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = check_times(claims, rules->leeway, now, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rules->issuers != NULL && rules->issuers->nelts > 0) {
        v = json_object_get(claims, "iss");
        if (!json_is_string(v)) {
            at_error_set(err, v ? "claim iss is not a string"
                                : "claim iss missing");
            return APR_EINVAL;
        }
        if (!in_list(rules->issuers, at_json_text(v))) {
            at_error_set(err, "issuer not accepted");
            return APR_EINVAL;
        }
    }
    if (rules->audiences != NULL && rules->audiences->nelts > 0) {
        rv = check_audience(claims, rules->audiences, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (rules->user_claim != NULL) {
        v = json_object_get(claims, rules->user_claim);
        if (v == NULL) {
            at_error_set(err, "user claim missing");
            return APR_EINVAL;
        }
        if (!(json_is_string(v) && json_string_length(v) > 0)
            && !json_is_number(v)) {
            at_error_set(err, "user claim is not a non-empty string");
            return APR_EINVAL;
        }
        /* Cut at the NUL it would name another user. */
        if (json_is_string(v) && at_json_text(v) == NULL) {
            at_error_set(err, "user claim holds a NUL character");
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

const char *at_claim_user(apr_pool_t *p, json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);
    char *text, *copy;

    if (json_is_string(v)) {
        const char *s = at_json_text(v);

        return s != NULL && *s != '\0' ? s : NULL;
    }
    if (!json_is_number(v)) {
        return NULL;
    }
    text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (text == NULL) {
        return NULL;
    }
    copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

long long at_claim_seconds(json_t *v)
{
    double d = json_number_value(v);

    if (d >= 9.2e18) {
        return LLONG_MAX;
    }
    if (d <= -9.2e18) {
        return LLONG_MIN;
    }
    return (long long)d;
}

json_t *at_claim_lookup(json_t *claims, const char *path)
{
    json_t *v = claims;
    const char *seg = path, *dot;

    if (!json_is_object(claims) || path == NULL || *path == '\0') {
        return NULL;
    }
    /* A claim whose own name holds dots ("https://example.com/roles")
     * wins over a path through objects. */
    v = json_object_get(claims, path);
    if (v != NULL) {
        return v;
    }
    v = claims;
    for (;;) {
        dot = strchr(seg, '.');
        if (!json_is_object(v)) {
            return NULL;
        }
        if (dot == NULL) {
            return json_object_get(v, seg);
        }
        v = json_object_getn(v, seg, (size_t)(dot - seg));
        seg = dot + 1;
    }
}

/* One non-array value against VALUE. */
static int scalar_matches(json_t *claim, const char *value)
{
    json_t *num;
    int eq;

    switch (json_typeof(claim)) {
    case JSON_STRING:
        return at_json_text(claim) != NULL
               && strcmp(at_json_text(claim), value) == 0;
    case JSON_TRUE:
        return strcmp(value, "true") == 0;
    case JSON_FALSE:
        return strcmp(value, "false") == 0;
    case JSON_NULL:
        return strcmp(value, "null") == 0;
    case JSON_INTEGER:
    case JSON_REAL:
        /* VALUE must be a whole JSON number: "1e3" equals 1000, "10abc"
         * and " 10" equal nothing. */
        num = json_loads(value, JSON_DECODE_ANY, NULL);
        if (!json_is_number(num)) {
            json_decref(num);
            return 0;
        }
        if (json_is_integer(claim) && json_is_integer(num)) {
            eq = json_integer_value(claim) == json_integer_value(num);
        }
        else {
            eq = json_number_value(claim) == json_number_value(num);
        }
        json_decref(num);
        return eq;
    default:
        return 0;
    }
}

int at_claim_matches(json_t *claim, const char *value)
{
    json_t *v;
    size_t i;

    if (claim == NULL || value == NULL) {
        return 0;
    }
    if (json_is_array(claim)) {
        json_array_foreach(claim, i, v) {
            if (!json_is_array(v) && scalar_matches(v, value)) {
                return 1;
            }
        }
        return 0;
    }
    return scalar_matches(claim, value);
}

/* 1 when WORD is one of the space-separated words of the JSON string
 * LIST, read with its length: a word holding a NUL matches nothing. */
static int word_in(json_t *list, const char *word)
{
    size_t n = strlen(word);
    const char *s = json_string_value(list), *end, *e;

    if (n == 0 || s == NULL) {
        return 0;
    }
    end = s + json_string_length(list);
    while (s < end) {
        while (s < end && *s == ' ') {
            s++;
        }
        e = s;
        while (e < end && *e != ' ') {
            e++;
        }
        if ((size_t)(e - s) == n && memcmp(s, word, n) == 0) {
            return 1;
        }
        s = e;
    }
    return 0;
}

static int scp_holds(json_t *scp, const char *want)
{
    json_t *v;
    size_t i;

    if (json_is_string(scp)) {
        return word_in(scp, want);
    }
    json_array_foreach(scp, i, v) {
        if (at_json_text(v) != NULL && strcmp(at_json_text(v), want) == 0) {
            return 1;
        }
    }
    return 0;
}

int at_scopes_hold(json_t *claims, const apr_array_header_t *required)
{
    json_t *scope = json_object_get(claims, "scope");
    json_t *scp = json_object_get(claims, "scp");
    const char *want;
    int i;

    if (scope != NULL && !json_is_string(scope)) {
        return 0;
    }
    for (i = 0; required != NULL && i < required->nelts; i++) {
        want = APR_ARRAY_IDX(required, i, const char *);
        if (scope != NULL ? !word_in(scope, want)
                          : !scp_holds(scp, want)) {
            return 0;
        }
    }
    return 1;
}
