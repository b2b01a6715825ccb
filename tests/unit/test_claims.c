/* Unit tests of the claim checks (at_claims_check), claim lookup and
 * matching (Require token-claim) and scopes (Require token-scope): every
 * rule, both sides of each boundary. */
#include <stdarg.h>
#include <limits.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "unit.h"
#include "at_claims.h"

#define NOW 1700000000LL
#define LEEWAY 30

static apr_pool_t *pool;

/* Checks CLAIMS_JSON (and header TYP) against RULES at NOW; returns the
 * status and leaves the reason in *why. */
static apr_status_t run(const char *claims_json, const char *typ,
                        const at_claim_rules_t *rules, const char **why)
{
    static at_error_t err;
    at_jws_t jws;

    *why = "";
    json_error_t jerr;
    apr_status_t rv;

    memset(&jws, 0, sizeof(jws));
    memset(&err, 0, sizeof(err));
    /* as at_json_parse_claims reads them: strings may hold "\u0000" */
    jws.claims = json_loads(claims_json, JSON_ALLOW_NUL, &jerr);
    if (jws.claims == NULL) {
        fprintf(stderr, "bad test JSON %s: %s\n", claims_json, jerr.text);
        return APR_EGENERAL;
    }
    jws.typ = typ;
    rv = at_claims_check(&jws, rules, NOW, &err);
    json_decref(jws.claims);
    *why = err.text;
    return rv;
}

static apr_array_header_t *list(const char *a, const char *b)
{
    apr_array_header_t *l = apr_array_make(pool, 2, sizeof(const char *));

    if (a) {
        APR_ARRAY_PUSH(l, const char *) = a;
    }
    if (b) {
        APR_ARRAY_PUSH(l, const char *) = b;
    }
    return l;
}

/* printf into pool memory (apr_psprintf knows no %lld). */
static const char *fmt(const char *f, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return apr_pstrdup(pool, buf);
}

/* One claims case: JSON with %lld placeholders. */
#define OK(rules, typ, ...)                                                \
    do {                                                                   \
        const char *j = fmt(__VA_ARGS__), *why = "";                     \
        CHECK(run(j, typ, rules, &why) == APR_SUCCESS, "accept %s: %s", j, \
              why);                                                        \
    } while (0)
#define BAD(rules, typ, reason, ...)                                       \
    do {                                                                   \
        const char *j = fmt(__VA_ARGS__), *why = "";                     \
        CHECK(run(j, typ, rules, &why) != APR_SUCCESS                      \
                  && strstr(why, reason) != NULL,                          \
              "reject %s (want \"%s\", got \"%s\")", j, reason, why);      \
    } while (0)

static void test_times(void)
{
    at_claim_rules_t r = {NULL, NULL, NULL, LEEWAY, NULL};
    at_claim_rules_t r0 = {NULL, NULL, NULL, 0, NULL};

    OK(&r, NULL, "{\"exp\": %lld}", NOW + 1);
    BAD(&r, NULL, "exp missing", "{\"sub\": \"a\"}");
    BAD(&r, NULL, "not a number", "{\"exp\": \"%lld\"}", NOW + 100);
    BAD(&r, NULL, "not a number", "{\"exp\": null}");
    BAD(&r, NULL, "not a number", "{\"exp\": true}");
    BAD(&r, NULL, "not a number", "{\"exp\": [%lld]}", NOW + 100);
    OK(&r, NULL, "{\"exp\": %lld.5}", NOW);  /* reals are numbers too */
    /* exp: valid strictly before exp + leeway. */
    OK(&r, NULL, "{\"exp\": %lld}", NOW - LEEWAY + 1);
    BAD(&r, NULL, "expired", "{\"exp\": %lld}", NOW - LEEWAY);
    BAD(&r, NULL, "expired", "{\"exp\": %lld}", NOW - LEEWAY - 1);
    OK(&r0, NULL, "{\"exp\": %lld}", NOW + 1);
    BAD(&r0, NULL, "expired", "{\"exp\": %lld}", NOW);
    OK(&r, NULL, "{\"exp\": %lld.5}", NOW - LEEWAY);
    BAD(&r, NULL, "expired", "{\"exp\": %lld.5}", NOW - LEEWAY - 1);
    /* nbf: valid from nbf - leeway on. */
    OK(&r, NULL, "{\"exp\": %lld, \"nbf\": %lld}", NOW + 100, NOW + LEEWAY);
    BAD(&r, NULL, "not yet valid", "{\"exp\": %lld, \"nbf\": %lld}",
        NOW + 100, NOW + LEEWAY + 1);
    BAD(&r0, NULL, "not yet valid", "{\"exp\": %lld, \"nbf\": %lld}",
        NOW + 100, NOW + 1);
    OK(&r0, NULL, "{\"exp\": %lld, \"nbf\": %lld}", NOW + 100, NOW);
    BAD(&r, NULL, "not a number", "{\"exp\": %lld, \"nbf\": \"0\"}",
        NOW + 100);
    /* iat: in the future beyond the leeway is refused. */
    OK(&r, NULL, "{\"exp\": %lld, \"iat\": %lld}", NOW + 100, NOW + LEEWAY);
    BAD(&r, NULL, "future", "{\"exp\": %lld, \"iat\": %lld}", NOW + 100,
        NOW + LEEWAY + 1);
    OK(&r, NULL, "{\"exp\": %lld, \"iat\": %lld}", NOW + 100, NOW - 86400);
    BAD(&r, NULL, "not a number", "{\"exp\": %lld, \"iat\": {}}", NOW + 100);
    BAD(&r, NULL, "claim set", "[1]");
    /* No rules: exp still required and checked without leeway. */
    OK(NULL, NULL, "{\"exp\": %lld}", NOW + 1);
    BAD(NULL, NULL, "expired", "{\"exp\": %lld}", NOW);
    BAD(NULL, NULL, "exp missing", "{\"sub\": \"a\"}");
}

static void test_iss_aud(void)
{
    at_claim_rules_t r = {list("https://a.example", "https://b.example"),
                          list("api", "other"), NULL, LEEWAY, NULL};
    long long e = NOW + 100;

    OK(&r, NULL, "{\"exp\":%lld,\"iss\":\"https://b.example\",\"aud\":\"api\"}",
       e);
    BAD(&r, NULL, "issuer not accepted",
        "{\"exp\":%lld,\"iss\":\"https://c.example\",\"aud\":\"api\"}", e);
    BAD(&r, NULL, "issuer not accepted",
        "{\"exp\":%lld,\"iss\":\"https://a.example/\",\"aud\":\"api\"}", e);
    BAD(&r, NULL, "iss missing", "{\"exp\":%lld,\"aud\":\"api\"}", e);
    BAD(&r, NULL, "iss is not a string", "{\"exp\":%lld,\"iss\":1,"
        "\"aud\":\"api\"}", e);
    OK(&r, NULL, "{\"exp\":%lld,\"iss\":\"https://a.example\","
       "\"aud\":[\"x\",\"other\"]}", e);
    BAD(&r, NULL, "audience not accepted", "{\"exp\":%lld,"
        "\"iss\":\"https://a.example\",\"aud\":[\"x\",\"y\"]}", e);
    BAD(&r, NULL, "audience not accepted", "{\"exp\":%lld,"
        "\"iss\":\"https://a.example\",\"aud\":\"API\"}", e);
    BAD(&r, NULL, "audience not accepted", "{\"exp\":%lld,"
        "\"iss\":\"https://a.example\",\"aud\":[]}", e);
    BAD(&r, NULL, "aud missing", "{\"exp\":%lld,\"iss\":\"https://a.example\"}",
        e);
    BAD(&r, NULL, "non-string", "{\"exp\":%lld,\"iss\":\"https://a.example\","
        "\"aud\":[\"api\",1]}", e);
    BAD(&r, NULL, "not a string or array", "{\"exp\":%lld,"
        "\"iss\":\"https://a.example\",\"aud\":{\"api\":1}}", e);
    /* Empty lists mean: not checked. */
    r.issuers = list(NULL, NULL);
    r.audiences = NULL;
    OK(&r, NULL, "{\"exp\":%lld}", e);
}

static void test_typ(void)
{
    at_claim_rules_t dflt = {NULL, NULL, NULL, LEEWAY, NULL};
    at_claim_rules_t at = {NULL, NULL, "at+jwt", LEEWAY, NULL};
    at_claim_rules_t app = {NULL, NULL, "application/at+jwt", LEEWAY, NULL};
    long long e = NOW + 100;
    static const char *good[] = {"JWT", "jwt", "at+jwt", "AT+JWT",
                                 "application/at+jwt", "Application/At+JWT"};
    static const char *bad[] = {"dpop+jwt", "logout+jwt", "JWS", "",
                                "application/jwt+x", "at+jwt ", "id_token"};
    size_t i;

    OK(&dflt, NULL, "{\"exp\":%lld}", e);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        OK(&dflt, good[i], "{\"exp\":%lld}", e);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        BAD(&dflt, bad[i], "type not accepted", "{\"exp\":%lld}", e);
    }
    OK(&at, "at+jwt", "{\"exp\":%lld}", e);
    OK(&at, "AT+JWT", "{\"exp\":%lld}", e);
    OK(&at, "application/at+jwt", "{\"exp\":%lld}", e);
    OK(&app, "at+jwt", "{\"exp\":%lld}", e);
    BAD(&at, NULL, "type not accepted", "{\"exp\":%lld}", e);
    BAD(&at, "JWT", "type not accepted", "{\"exp\":%lld}", e);
    BAD(&at, "application/x/at+jwt", "type not accepted", "{\"exp\":%lld}",
        e);
}

static void test_user_claim(void)
{
    at_claim_rules_t r = {NULL, NULL, NULL, LEEWAY, "sub"};
    at_claim_rules_t email = {NULL, NULL, NULL, LEEWAY, "email"};
    long long e = NOW + 100;

    OK(&r, NULL, "{\"exp\":%lld,\"sub\":\"alice\"}", e);
    OK(&r, NULL, "{\"exp\":%lld,\"sub\":42}", e);
    BAD(&r, NULL, "user claim missing", "{\"exp\":%lld}", e);
    BAD(&r, NULL, "user claim", "{\"exp\":%lld,\"sub\":\"\"}", e);
    BAD(&r, NULL, "user claim", "{\"exp\":%lld,\"sub\":null}", e);
    BAD(&r, NULL, "user claim", "{\"exp\":%lld,\"sub\":[\"a\"]}", e);
    BAD(&r, NULL, "user claim", "{\"exp\":%lld,\"sub\":{\"a\":1}}", e);
    BAD(&r, NULL, "user claim", "{\"exp\":%lld,\"sub\":true}", e);
    OK(&email, NULL, "{\"exp\":%lld,\"email\":\"a@example.com\"}", e);
    BAD(&email, NULL, "user claim missing", "{\"exp\":%lld,\"sub\":\"a\"}", e);
}

static void test_claim_user(void)
{
    json_t *c = json_loads("{\"s\":\"alice\",\"n\":42,\"r\":1.5,"
                           "\"e\":\"\",\"b\":true,\"a\":[\"x\"]}", 0, NULL);
    const char *u;

    CHECK((u = at_claim_user(pool, c, "s")) && strcmp(u, "alice") == 0,
          "string user");
    CHECK((u = at_claim_user(pool, c, "n")) && strcmp(u, "42") == 0,
          "number user as text");
    CHECK((u = at_claim_user(pool, c, "r")) && strcmp(u, "1.5") == 0,
          "real user as text");
    CHECK(!at_claim_user(pool, c, "e") && !at_claim_user(pool, c, "b")
              && !at_claim_user(pool, c, "a")
              && !at_claim_user(pool, c, "missing"),
          "no user from empty, bool, array, absent");
    json_decref(c);
}

/* Out-of-range numbers saturate instead of overflowing the conversion. */
static void test_claim_seconds(void)
{
    json_t *v = json_pack("[f, f, I, f, s]", 1e300, -1e300,
                          (json_int_t)1700000000, 1.9, "5");

    CHECK(at_claim_seconds(json_array_get(v, 0)) == LLONG_MAX, "1e300");
    CHECK(at_claim_seconds(json_array_get(v, 1)) == LLONG_MIN, "-1e300");
    CHECK(at_claim_seconds(json_array_get(v, 2)) == 1700000000LL,
          "an integer as it is");
    CHECK(at_claim_seconds(json_array_get(v, 3)) == 1, "a fraction cut");
    CHECK(at_claim_seconds(json_array_get(v, 4)) == 0, "a string: 0");
    CHECK(at_claim_seconds(NULL) == 0, "absent: 0");
    json_decref(v);
}

static void test_errors_are_safe(void)
{
    at_claim_rules_t r = {list("https://a.example", NULL), list("api", NULL),
                          NULL, LEEWAY, "sub"};
    const char *why;

    /* Rejection texts never echo what the token said. */
    run("{\"exp\":9999999999,\"iss\":\"EVIL<script>\",\"aud\":\"api\"}", NULL,
        &r, &why);
    CHECK(strstr(why, "EVIL") == NULL, "iss value not echoed: %s", why);
    run("{\"exp\":9999999999,\"iss\":\"https://a.example\",\"aud\":\"EVIL\"}",
        NULL, &r, &why);
    CHECK(strstr(why, "EVIL") == NULL, "aud value not echoed: %s", why);
    run("{\"exp\":9999999999,\"iss\":\"https://a.example\",\"aud\":\"api\"}",
        "EVIL", &r, &why);
    CHECK(strstr(why, "EVIL") == NULL, "typ value not echoed: %s", why);
}

static void test_lookup_and_match(void)
{
    json_t *c = json_loads(
        "{\"sub\":\"alice\",\"n\":42,\"r\":1.5,\"t\":true,\"f\":false,"
        "\"z\":null,\"roles\":[\"admin\",\"user\",7],"
        "\"realm_access\":{\"roles\":[\"ops\"],\"deep\":{\"x\":\"y\"}},"
        "\"https://example.com/team\":\"blue\",\"obj\":{\"a\":1},"
        "\"nested\":[[\"inner\"]]}",
        0, NULL);

    CHECK(c != NULL, "test claims parse");
    CHECK(at_claim_matches(at_claim_lookup(c, "sub"), "alice"), "string");
    CHECK(!at_claim_matches(at_claim_lookup(c, "sub"), "Alice"),
          "string is exact");
    CHECK(!at_claim_matches(at_claim_lookup(c, "sub"), "alice "),
          "string is exact (space)");
    CHECK(at_claim_matches(at_claim_lookup(c, "n"), "42"), "integer");
    CHECK(at_claim_matches(at_claim_lookup(c, "n"), "42.0"),
          "integer vs real numerically");
    CHECK(at_claim_matches(at_claim_lookup(c, "n"), "4.2e1"),
          "integer vs exponent numerically");
    CHECK(!at_claim_matches(at_claim_lookup(c, "n"), "43"), "other number");
    CHECK(!at_claim_matches(at_claim_lookup(c, "n"), "42abc"),
          "number must be a whole JSON number");
    CHECK(!at_claim_matches(at_claim_lookup(c, "n"), "\"42\""),
          "quoted is not a number");
    CHECK(!at_claim_matches(at_claim_lookup(c, "n"), "042"),
          "leading zero is not JSON");
    CHECK(at_claim_matches(at_claim_lookup(c, "r"), "1.5"), "real");
    CHECK(at_claim_matches(at_claim_lookup(c, "r"), "15e-1"), "real exp");
    CHECK(at_claim_matches(at_claim_lookup(c, "t"), "true")
              && !at_claim_matches(at_claim_lookup(c, "t"), "True")
              && !at_claim_matches(at_claim_lookup(c, "t"), "1"),
          "true literal");
    CHECK(at_claim_matches(at_claim_lookup(c, "f"), "false")
              && !at_claim_matches(at_claim_lookup(c, "f"), "true"),
          "false literal");
    CHECK(at_claim_matches(at_claim_lookup(c, "z"), "null")
              && !at_claim_matches(at_claim_lookup(c, "z"), ""),
          "null literal");
    CHECK(!at_claim_matches(at_claim_lookup(c, "sub"), "null"),
          "string is not null");
    CHECK(at_claim_matches(at_claim_lookup(c, "roles"), "user")
              && at_claim_matches(at_claim_lookup(c, "roles"), "7")
              && !at_claim_matches(at_claim_lookup(c, "roles"), "guest"),
          "array membership");
    CHECK(at_claim_matches(at_claim_lookup(c, "realm_access.roles"), "ops"),
          "dotted path");
    CHECK(at_claim_matches(at_claim_lookup(c, "realm_access.deep.x"), "y"),
          "deep dotted path");
    CHECK(at_claim_lookup(c, "realm_access.nope") == NULL
              && at_claim_lookup(c, "sub.x") == NULL
              && at_claim_lookup(c, "realm_access.") == NULL
              && at_claim_lookup(c, ".sub") == NULL
              && at_claim_lookup(c, "") == NULL,
          "missing paths");
    CHECK(at_claim_matches(at_claim_lookup(c, "https://example.com/team"),
                           "blue"), "claim name with dots");
    CHECK(!at_claim_matches(at_claim_lookup(c, "obj"), "{\"a\":1}")
              && !at_claim_matches(at_claim_lookup(c, "obj"), "[object]"),
          "objects never match");
    CHECK(!at_claim_matches(at_claim_lookup(c, "nested"), "inner"),
          "arrays inside arrays do not match");
    CHECK(!at_claim_matches(NULL, "x"), "absent claim");
    json_decref(c);
}

static void test_scopes(void)
{
    json_t *s = json_loads("{\"scope\":\"orders:read  orders:write profile\"}",
                           0, NULL);
    json_t *scp = json_loads("{\"scp\":[\"a\",\"b\"]}", 0, NULL);
    json_t *scps = json_loads("{\"scp\":\"a b\"}", 0, NULL);
    json_t *both = json_loads("{\"scope\":\"a\",\"scp\":[\"a\",\"b\"]}", 0,
                              NULL);
    json_t *bad = json_loads("{\"scope\":[\"a\"]}", 0, NULL);
    json_t *none = json_loads("{}", 0, NULL);

    CHECK(at_scopes_hold(s, list("orders:read", NULL)), "one scope");
    CHECK(at_scopes_hold(s, list("orders:read", "profile")), "two scopes");
    CHECK(!at_scopes_hold(s, list("orders:read", "admin")), "all needed");
    CHECK(!at_scopes_hold(s, list("orders", NULL)), "no prefix match");
    CHECK(!at_scopes_hold(s, list("orders:read  orders:write", NULL)),
          "whole words only");
    CHECK(!at_scopes_hold(s, list("", NULL)), "empty scope never held");
    CHECK(at_scopes_hold(s, list(NULL, NULL)), "nothing required");
    CHECK(at_scopes_hold(scp, list("a", "b")), "scp array");
    CHECK(!at_scopes_hold(scp, list("c", NULL)), "scp array missing");
    CHECK(at_scopes_hold(scps, list("b", NULL)), "scp as string");
    CHECK(!at_scopes_hold(both, list("b", NULL)), "scope wins over scp");
    CHECK(!at_scopes_hold(bad, list("a", NULL)), "scope must be a string");
    CHECK(!at_scopes_hold(none, list("a", NULL)), "no scope claim");
    json_decref(s);
    json_decref(scp);
    json_decref(scps);
    json_decref(both);
    json_decref(bad);
    json_decref(none);
}

/* "\u0000" in a claim string is valid JSON: the claim set parses, and
 * every comparison reads the whole string, so "alice\u0000x" is never
 * "alice" (user, iss, aud, token-claim, token-scope). */
static void test_nul_in_strings(void)
{
    at_claim_rules_t r = {list("https://a.example", NULL), list("api", NULL),
                          NULL, LEEWAY, "sub"};
    at_error_t err;
    long long e = NOW + 100;
    const char *j = "{\"sub\":\"alice\\u0000x\",\"ok\":\"alice\","
                    "\"arr\":[\"alice\\u0000x\"],"
                    "\"scope\":\"orders:read\\u0000x orders:write\","
                    "\"scp\":[\"a\\u0000\"]}";
    json_t *c = at_json_parse_claims(pool, j, strlen(j), &err);

    CHECK(c != NULL, "claims with an escaped NUL parse");
    CHECK(at_json_parse(pool, j, strlen(j), &err) == NULL,
          "... but not as a header or key set");
    CHECK(at_json_parse_claims(pool, "{\"a\\u0000b\":1}", 14, &err) == NULL,
          "a NUL in a member name is still refused");
    if (c == NULL) {
        return;
    }
    CHECK(at_json_text(json_object_get(c, "sub")) == NULL,
          "no C string for a string holding NUL");
    CHECK(at_json_text(json_object_get(c, "ok")) != NULL
              && strcmp(at_json_text(json_object_get(c, "ok")), "alice") == 0,
          "other strings as they are");
    CHECK(at_json_text(json_object_get(c, "arr")) == NULL,
          "no C string for a non-string");
    CHECK(at_claim_user(pool, c, "sub") == NULL, "no user cut at the NUL");
    CHECK(!at_claim_matches(json_object_get(c, "sub"), "alice"),
          "token-claim: the prefix before the NUL does not match");
    CHECK(!at_claim_matches(json_object_get(c, "arr"), "alice"),
          "token-claim: nor inside an array");
    CHECK(at_claim_matches(json_object_get(c, "ok"), "alice"),
          "token-claim: a clean string still matches");
    CHECK(!at_scopes_hold(c, list("orders:read", NULL)),
          "token-scope: a word holding NUL is no scope");
    CHECK(at_scopes_hold(c, list("orders:write", NULL)),
          "token-scope: the other words still count");
    json_object_del(c, "scope");
    CHECK(!at_scopes_hold(c, list("a", NULL)), "scp: NUL string no scope");

    BAD(&r, NULL, "NUL",
        "{\"exp\":%lld,\"sub\":\"alice\\u0000x\",\"iss\":\"https://a.example\","
        "\"aud\":\"api\"}", e);
    OK(&r, NULL,
       "{\"exp\":%lld,\"sub\":\"alice\",\"iss\":\"https://a.example\","
       "\"aud\":\"api\",\"note\":\"a\\u0000b\"}", e);
    BAD(&r, NULL, "issuer not accepted",
        "{\"exp\":%lld,\"sub\":\"alice\",\"iss\":\"https://a.example\\u0000\","
        "\"aud\":\"api\"}", e);
    BAD(&r, NULL, "audience not accepted",
        "{\"exp\":%lld,\"sub\":\"alice\",\"iss\":\"https://a.example\","
        "\"aud\":\"api\\u0000x\"}", e);
    OK(&r, NULL,
       "{\"exp\":%lld,\"sub\":\"alice\",\"iss\":\"https://a.example\","
       "\"aud\":[\"api\\u0000x\",\"api\"]}", e);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_times();
    test_iss_aud();
    test_typ();
    test_user_claim();
    test_claim_user();
    test_claim_seconds();
    test_errors_are_safe();
    test_lookup_and_match();
    test_scopes();
    test_nul_in_strings();

    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
