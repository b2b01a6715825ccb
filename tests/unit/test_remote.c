/* Unit tests of the pure parts of remote key sets (lib/at_remote.c): which
 * URLs may be fetched (decided on the parsed host), Cache-Control max-age
 * and its bounds, the discovery URLs, the metadata rules; and the library
 * parts they rely on: what makes a fetched body a usable JWK Set,
 * "no key at all" told apart from "signature does not verify", cache
 * look-ups over several key arrays, and a cached verdict that stops
 * counting once its key is replaced (same address, new serial). */
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "unit.h"
#include "at_jose.h"
#include "at_remote.h"

static apr_pool_t *pool;

static void test_urls(void)
{
    static const struct {
        const char *url;
        int ok, plain;
    } cases[] = {
        {"https://keys.example.com/jwks", 1, 0},
        {"HTTPS://keys.example.com:8443/jwks?x=1", 1, 0},
        {"http://127.0.0.1:8080/jwks", 1, 1},
        {"http://127.200.3.4/jwks", 1, 1},
        {"http://[::1]:9/jwks", 1, 1},
        {"http://localhost/jwks", 1, 1},
        {"http://LocalHost:80/jwks", 1, 1},
        {"http://keys.example.com/jwks", 0, 0},
        {"http://127.0.0.1.nip.example/jwks", 0, 0},
        {"http://127.0.0.1@keys.example/jwks", 0, 0},
        {"http://localhost.keys.example/jwks", 0, 0},
        {"http://128.0.0.1/jwks", 0, 0},
        {"http://[::2]/jwks", 0, 0},
        {"http://0x7f.1/jwks", 0, 0},
        {"https://user:pw@keys.example/jwks", 0, 0},
        {"https://keys.example/jwks#k", 0, 0},
        {"https://keys.example/a b", 0, 0},
        {"ftp://keys.example/jwks", 0, 0},
        {"file:///etc/jwks", 0, 0},
        {"/etc/jwks", 0, 0},
        {"https:///jwks", 0, 0},
    };
    at_error_t err;
    size_t i;
    int plain;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        plain = -1;
        err.text[0] = '\0';
        CHECK((at_remote_url_check(pool, cases[i].url, &plain, &err)
               == APR_SUCCESS) == cases[i].ok
                  && (!cases[i].ok || plain == cases[i].plain),
              "%s: expected %s, got '%s'", cases[i].url,
              cases[i].ok ? "allowed" : "refused", err.text);
    }
    at_remote_url_check(pool, "http://keys.example/jwks", NULL, &err);
    CHECK(strstr(err.text, "loopback") && strstr(err.text, "https://"),
          "the message says what to do: %s", err.text);

    CHECK(at_remote_is_loopback_ip("127.0.0.1")
              && at_remote_is_loopback_ip("::1")
              && at_remote_is_loopback_ip("::ffff:127.0.0.9")
              && !at_remote_is_loopback_ip("10.0.0.1")
              && !at_remote_is_loopback_ip("::ffff:10.0.0.1")
              && !at_remote_is_loopback_ip("localhost")
              && !at_remote_is_loopback_ip(NULL),
          "loopback addresses, by their numbers only");
}

static void test_max_age(void)
{
    CHECK(at_remote_max_age("public, max-age=600") == 600, "plain");
    CHECK(at_remote_max_age("Max-Age = 86400 , must-revalidate") == 86400,
          "case and spaces");
    CHECK(at_remote_max_age("max-age=\"120\"") == 120, "quoted");
    CHECK(at_remote_max_age("s-maxage=600") == -1, "s-maxage is not it");
    CHECK(at_remote_max_age("no-cache") == -1, "none");
    CHECK(at_remote_max_age("max-age=12abc") == -1, "garbage");
    CHECK(at_remote_max_age("max-age=") == -1, "empty");
    CHECK(at_remote_max_age(NULL) == -1, "no header");
    CHECK(at_remote_max_age("private, max-age=300\r\n") == 300, "CRLF");

    CHECK(at_remote_ttl(60, 3600) == 60 && at_remote_ttl(86400, 3600) == 86400,
          "the bounds themselves win");
    CHECK(at_remote_ttl(59, 3600) == 3600 && at_remote_ttl(86401, 7) == 7
              && at_remote_ttl(-1, 3600) == 3600,
          "outside 60..86400 the refresh setting holds");
}

static void test_discovery_urls(void)
{
    const char **u = at_remote_discovery_urls(pool, "https://a.example");

    CHECK(u && !strcmp(u[0], "https://a.example/.well-known/"
                             "openid-configuration")
              && !strcmp(u[1], "https://a.example/.well-known/"
                               "oauth-authorization-server")
              && u[2] == NULL,
          "issuer without a path: two places");
    u = at_remote_discovery_urls(pool, "https://kc.example:8443/realms/x/");
    CHECK(u && !strcmp(u[0], "https://kc.example:8443/realms/x/.well-known/"
                             "openid-configuration")
              && !strcmp(u[1], "https://kc.example:8443/.well-known/"
                               "oauth-authorization-server/realms/x")
              && !strcmp(u[2], "https://kc.example:8443/realms/x/"
                               ".well-known/oauth-authorization-server")
              && u[3] == NULL,
          "issuer with a path: OIDC, RFC 8414, appended");
    CHECK(!at_remote_discovery_urls(pool, "https://a.example/?q=1")
              && !at_remote_discovery_urls(pool, "https://a.example/#f")
              && !at_remote_discovery_urls(pool, "accounts.google.com"),
          "no discovery for a query, a fragment or a bare name");
}

static apr_status_t metadata(const char *doc, const char *issuer,
                             const char **uri, at_error_t *err)
{
    err->text[0] = '\0';
    return at_remote_metadata_jwks_uri(pool, doc, strlen(doc), issuer, uri,
                                       err);
}

static void test_metadata(void)
{
    const char *uri = NULL;
    at_error_t err;

    CHECK(metadata("{\"issuer\":\"https://a.example\",\"jwks_uri\":"
                   "\"https://a.example/keys\"}",
                   "https://a.example", &uri, &err) == APR_SUCCESS
              && !strcmp(uri, "https://a.example/keys"),
          "good metadata: %s", err.text);
    CHECK(metadata("{\"issuer\":\"https://a.example/\",\"jwks_uri\":"
                   "\"https://a.example/keys\"}",
                   "https://a.example", &uri, &err) != APR_SUCCESS
              && strstr(err.text, "not the trusted one"),
          "a trailing slash is another issuer: %s", err.text);
    CHECK(metadata("{\"issuer\":\"https://A.example\",\"jwks_uri\":"
                   "\"https://a.example/keys\"}",
                   "https://a.example", &uri, &err) != APR_SUCCESS,
          "compared byte for byte");
    CHECK(metadata("{\"issuer\":\"https://a.example\",\"jwks_uri\":"
                   "\"http://keys.example/k\"}",
                   "https://a.example", &uri, &err) != APR_SUCCESS
              && strstr(err.text, "jwks_uri"),
          "a jwks_uri over plain http elsewhere is refused: %s", err.text);
    CHECK(metadata("{\"issuer\":\"https://a.example\"}", "https://a.example",
                   &uri, &err) != APR_SUCCESS,
          "no jwks_uri");
    CHECK(metadata("{\"issuer\":\"https://a.example\",\"issuer\":"
                   "\"https://b.example\",\"jwks_uri\":\"https://k/\"}",
                   "https://b.example", &uri, &err) != APR_SUCCESS,
          "duplicate members are refused");
    CHECK(metadata("[1]", "https://a.example", &uri, &err) != APR_SUCCESS
              && metadata("{", "https://a.example", &uri, &err)
                     != APR_SUCCESS,
          "not an object");
}

/* base64url of LEN bytes, the first FIRST, the rest 0x55, the last odd. */
static const char *number(size_t len, unsigned char first)
{
    unsigned char *b = apr_palloc(pool, len);

    memset(b, 0x55, len);
    b[0] = first;
    b[len - 1] |= 1;
    return at_b64url_encode(pool, b, len);
}

static int skipped;

static apr_status_t parse_set(const char *text, apr_array_header_t **keys,
                              at_error_t *err)
{
    err->text[0] = '\0';
    *keys = NULL;
    return at_jwks_load_set(pool, text, strlen(text), "https://k/jwks", keys,
                            &skipped, err);
}

static void test_jwks_parse(void)
{
    const char *n2048 = number(256, 0xc3), *n1024 = number(128, 0xc3);
    apr_array_header_t *keys;
    at_error_t err;
    const char *text;

    /* Keycloak's certs endpoint: a signing key with x5c, x5t, use, alg,
     * and an encryption key that a verifier skips. */
    text = apr_psprintf(
        pool,
        "{\"keys\":[{\"kid\":\"kc-sig\",\"kty\":\"RSA\",\"alg\":\"RS256\","
        "\"use\":\"sig\",\"n\":\"%s\",\"e\":\"AQAB\",\"x5c\":[\"MIIC\"],"
        "\"x5t\":\"abc\",\"x5t#S256\":\"def\"},"
        "{\"kid\":\"kc-enc\",\"kty\":\"RSA\",\"alg\":\"RSA-OAEP\","
        "\"use\":\"enc\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
        n2048, n2048);
    CHECK(parse_set(text, &keys, &err) == APR_SUCCESS && keys->nelts == 1
              && APR_ARRAY_IDX(keys, 0, at_key_t *)->alg == AT_ALG_RS256
              && !strcmp(APR_ARRAY_IDX(keys, 0, at_key_t *)->kid, "kc-sig"),
          "a Keycloak-shaped set loads its signing key: %s", err.text);
    text = apr_psprintf(pool,
                        "{\"keys\":[{\"kid\":\"w\",\"kty\":\"RSA\","
                        "\"n\":\"%s\",\"e\":\"AQAB\"}]}",
                        n1024);
    CHECK(parse_set(text, &keys, &err) != APR_SUCCESS
              && strstr(err.text, "no usable signature key")
              && strstr(err.text, "1024 bits"),
          "RSA under 2048 bits is refused as from a file: %s", err.text);
    text = apr_psprintf(
        pool,
        "{\"keys\":[{\"kid\":\"w\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"},"
        "{\"kid\":\"pq\",\"kty\":\"AKP\",\"alg\":\"ML-DSA-65\",\"pub\":\"AA\"},"
        "{\"kid\":\"ok\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}",
        n1024, n2048);
    CHECK(parse_set(text, &keys, &err) == APR_SUCCESS && keys->nelts == 1
              && !strcmp(APR_ARRAY_IDX(keys, 0, at_key_t *)->kid, "ok")
              && skipped == 2 && strstr(err.text, "kid \"w\"")
              && strstr(err.text, "1024 bits"),
          "unusable keys are left out (RFC 7517 section 5), the first "
          "reason kept: %d, %s",
          skipped, err.text);
    text = apr_psprintf(pool,
                        "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}",
                        n2048);
    CHECK(parse_set(text, &keys, &err) != APR_SUCCESS
              && strstr(err.text, "not a JWK Set"),
          "a single JWK is not a JWK Set: %s", err.text);
    CHECK(parse_set("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", &keys,
                    &err) != APR_SUCCESS,
          "an oct key needs alg");
    CHECK(parse_set("{\"keys\":[]}", &keys, &err) != APR_SUCCESS,
          "an empty set has no key to verify with");
    CHECK(parse_set("{\"keys\": [", &keys, &err) != APR_SUCCESS
              && strstr(err.text, "https://k/jwks: not valid JSON"),
          "bad JSON, named: %s", err.text);
}

static at_key_t *hmac_key(const char *kid)
{
    unsigned char secret[32];
    at_key_t *key = NULL;
    at_error_t err;

    memset(secret, kid[strlen(kid) - 1], sizeof(secret));
    at_key_from_secret(pool, AT_ALG_HS256, secret, sizeof(secret), kid, &key,
                       &err);
    return key;
}

static const char *hs_token(at_key_t *key, const char *kid)
{
    json_t *claims = json_pack("{s:s, s:I}", "sub", "u", "exp",
                               (json_int_t)4102444800LL);
    json_t *header = json_pack("{s:s}", "kid", kid);
    at_key_t signer = *key;
    at_error_t err;
    char *token = NULL;

    signer.kid = NULL; /* the header says which kid */
    at_jws_sign(pool, &signer, header, claims, &token, &err);
    json_decref(claims);
    json_decref(header);
    return token;
}

static void test_unknown_key(void)
{
    at_key_t *k1 = hmac_key("k1"), *k2 = hmac_key("k2");
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(at_key_t *));
    const char *t;
    at_jws_t jws;
    at_error_t err;

    APR_ARRAY_PUSH(keys, at_key_t *) = k1;
    t = hs_token(k2, "k9");
    at_jws_parse(pool, t, strlen(t), &jws, &err);
    CHECK(at_jws_verify_keys(&jws, keys, NULL, &err) == APR_ENOENT,
          "an unknown kid is APR_ENOENT (a refetch may help)");
    t = hs_token(k2, "k1");
    at_jws_parse(pool, t, strlen(t), &jws, &err);
    CHECK(at_jws_verify_keys(&jws, keys, NULL, &err) == APR_EINVAL,
          "a known kid with a bad signature is not (a refetch cannot help)");
}

static void test_cache_sets(void)
{
    at_key_t *k1 = hmac_key("k1"), *k2 = hmac_key("k2");
    apr_array_header_t *a = apr_array_make(pool, 1, sizeof(at_key_t *));
    apr_array_header_t *b = apr_array_make(pool, 1, sizeof(at_key_t *));
    const apr_array_header_t *sets[3];
    at_jws_cache_t *cache;
    const at_key_t *used = NULL;
    const char *t = hs_token(k2, "k2");
    at_jws_t jws, hit;
    at_error_t err;

    APR_ARRAY_PUSH(a, at_key_t *) = k1;
    APR_ARRAY_PUSH(b, at_key_t *) = k2;
    CHECK(k1->serial && k2->serial && k1->serial != k2->serial,
          "every key gets its own serial");
    at_jws_cache_create(pool, 16, &cache);
    at_jws_parse(pool, t, strlen(t), &jws, &err);
    at_jws_verify_keys(&jws, b, &used, &err);
    at_jws_cache_put(cache, t, strlen(t), &jws, used);
    sets[0] = a;
    sets[1] = NULL;
    sets[2] = b;
    CHECK(at_jws_cache_get_sets(cache, pool, t, strlen(t), sets, 3, &hit)
              == k2,
          "found through the third array (a NULL one skipped)");
    CHECK(at_jws_cache_get_sets(cache, pool, t, strlen(t), sets, 2, &hit)
              == NULL,
          "not among the first two");
    /* A refreshed key set may put a new key where a freed one was: the
     * same address with another serial must not inherit its verdicts. */
    k2->serial += 1000000;
    CHECK(at_jws_cache_get_sets(cache, pool, t, strlen(t), sets, 3, &hit)
              == NULL,
          "a replaced key (same address, new serial) misses");
    CHECK(at_jws_cache_get(cache, pool, t, strlen(t), b, &hit) == NULL,
          "so does the one-array look-up");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_urls();
    test_max_age();
    test_discovery_urls();
    test_metadata();
    test_jwks_parse();
    test_unknown_key();
    test_cache_sets();

    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
