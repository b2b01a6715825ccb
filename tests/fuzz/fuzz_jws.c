/* libFuzzer target: the JWS/JWT parser, as the resource server runs it
 * (authn_bearer.c): at_jws_parse, at_jws_verify_keys against one key of
 * each algorithm family, the verified-token cache, and the claim rules and
 * lookups. Claims are checked whether or not the signature verified, so
 * that the claim code sees what the fuzzer makes (a fuzzer cannot forge a
 * signature). Invariants: base64url has one spelling (decode, encode: the
 * same text), a parsed token has three segments, a cached token comes back
 * with the key that verified it.
 * Seeds: tests/fuzz/corpus/jws and tests/unit/corpus (the attack corpus). */
#include "fuzz.h"
#include "at_claims.h"

#define NOW 1700000000LL /* fixed, so that a run can be replayed */

static apr_array_header_t *keys;
static at_jws_cache_t *cache;

static void load_key(at_alg_t alg, const char *file, const char *kid)
{
    at_key_t *key;
    at_error_t err;

    if (at_key_load_file(fuzz_pool, alg,
                         fuzz_src_path(apr_pstrcat(fuzz_pool,
                                                   "tests/unit/corpus/keys/",
                                                   file, NULL)),
                         kid, 0, &key, &err) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_jws: %s\n", err.text);
        abort();
    }
    APR_ARRAY_PUSH(keys, at_key_t *) = key;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    keys = apr_array_make(fuzz_pool, 8, sizeof(at_key_t *));
    load_key(AT_ALG_HS256, "hs256.secret", "hs256");
    load_key(AT_ALG_RS256, "rs256.pub.pem", "rs256");
    load_key(AT_ALG_PS256, "ps256.pub.pem", "ps256");
    load_key(AT_ALG_ES256, "es256.pub.pem", NULL);
    load_key(AT_ALG_ES512, "es512.pub.pem", "es512");
    load_key(AT_ALG_EDDSA, "eddsa.pub.pem", "eddsa");
    at_jws_cache_create(fuzz_pool, 16, &cache);
    return 0;
}

/* Base64url has exactly one spelling per value. */
static void check_b64(const char *s, size_t len)
{
    unsigned char *raw;
    size_t n;

    if (at_b64url_decode(fuzz_scratch, s, len, &raw, &n) == APR_SUCCESS) {
        const char *again = at_b64url_encode(fuzz_scratch, raw, n);

        FUZZ_ASSERT(raw[n] == '\0');
        FUZZ_ASSERT(strlen(again) == len && memcmp(again, s, len) == 0);
    }
}

static void check_claims(const at_jws_t *jws)
{
    static const char *const iss[] = {"https://issuer.example"};
    static const char *const aud[] = {"api", "other"};
    apr_array_header_t *issuers = apr_array_make(fuzz_scratch, 1, sizeof(char *));
    apr_array_header_t *auds = apr_array_make(fuzz_scratch, 2, sizeof(char *));
    apr_array_header_t *scopes = apr_array_make(fuzz_scratch, 2, sizeof(char *));
    at_claim_rules_t rules = {issuers, auds, NULL, 30, "sub"};
    at_claim_rules_t loose = {NULL, NULL, "at+jwt", 0, NULL};
    at_error_t err;

    APR_ARRAY_PUSH(issuers, const char *) = iss[0];
    APR_ARRAY_PUSH(auds, const char *) = aud[0];
    APR_ARRAY_PUSH(auds, const char *) = aud[1];
    APR_ARRAY_PUSH(scopes, const char *) = "read";
    APR_ARRAY_PUSH(scopes, const char *) = "orders:write";
    (void)at_claims_check(jws, &rules, NOW, &err);
    (void)at_claims_check(jws, &loose, NOW, &err);
    (void)at_claim_user(fuzz_scratch, jws->claims, "sub");
    (void)at_claim_user(fuzz_scratch, jws->claims, "client_id");
    (void)at_claim_matches(at_claim_lookup(jws->claims, "realm.roles"), "admin");
    (void)at_claim_matches(at_claim_lookup(jws->claims, "groups"), "ops");
    (void)at_claim_seconds(json_object_get(jws->claims, "exp"));
    (void)at_scopes_hold(jws->claims, scopes);
    (void)at_scopes_hold(jws->claims, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tok = (const char *)data;
    const at_key_t *used = NULL, *cached;
    at_jws_t jws, again;
    at_error_t err;

    check_b64(tok, size);
    if (at_jws_parse(fuzz_scratch, tok, size, &jws, &err) == APR_SUCCESS) {
        const char *dot1 = memchr(tok, '.', size);

        FUZZ_ASSERT(dot1 != NULL && json_is_object(jws.header)
                    && json_is_object(jws.claims));
        FUZZ_ASSERT(jws.signing_input_len < size
                    && tok[jws.signing_input_len] == '.'
                    && memchr(tok + jws.signing_input_len + 1, '.',
                              size - jws.signing_input_len - 1) == NULL);
        check_claims(&jws);
        if (at_jws_verify_keys(&jws, keys, &used, &err) == APR_SUCCESS) {
            at_jws_cache_put(cache, tok, size, &jws, used);
            cached = at_jws_cache_get(cache, fuzz_scratch, tok, size, keys,
                                      &again);
            FUZZ_ASSERT(cached == NULL || cached == used);
        }
    }
    (void)at_jws_parse_opaque(fuzz_scratch, tok, size, &jws, &err);
    apr_pool_clear(fuzz_scratch);
    return 0;
}
