/* libFuzzer target: the JWK Set parser (at_jwks_load_json, a set or a
 * single JWK: RSA, EC, OKP and oct keys, with use, key_ops, alg and kid
 * rules). Every key it accepts must survive a round trip: its public JWK
 * (at_jwk_public) loads again into one key with the same RFC 7638
 * thumbprint. Each key also tries to verify a fixed token, so key material
 * the parser let through is used the way the module uses it.
 * Seeds: tests/fuzz/corpus/jwks. */
#include "fuzz.h"
#include "at_jose.h"

/* An ES256 token (tests/unit/corpus/ok-es256.jwt); kid "es256". */
static at_jws_t token;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    size_t len;
    const char *text;
    at_error_t err;

    fuzz_init();
    text = fuzz_read_src("tests/unit/corpus/ok-es256.jwt", &len);
    if (at_jws_parse(fuzz_pool, text, len, &token, &err) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_jwks: ok-es256.jwt: %s\n", err.text);
        abort();
    }
    return 0;
}

static void round_trip(const at_key_t *key)
{
    const char *tp = at_jwk_thumbprint(fuzz_scratch, key);
    json_t *pub = at_jwk_public(key);
    apr_array_header_t *again;
    at_error_t err;
    char *text;

    FUZZ_ASSERT((tp == NULL) == (pub == NULL)); /* both NULL: HMAC */
    if (pub == NULL) {
        return;
    }
    text = json_dumps(pub, JSON_COMPACT);
    json_decref(pub);
    FUZZ_ASSERT(text != NULL);
    FUZZ_ASSERT(at_jwks_load_json(fuzz_scratch, text, strlen(text), "again",
                                  &again, &err) == APR_SUCCESS);
    free(text);
    FUZZ_ASSERT(again->nelts == 1);
    FUZZ_ASSERT(strcmp(tp, at_jwk_thumbprint(
                               fuzz_scratch,
                               APR_ARRAY_IDX(again, 0, at_key_t *))) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_array_header_t *keys;
    at_error_t err;
    int i;

    if (at_jwks_load_json(fuzz_scratch, (const char *)data, size, "fuzz",
                          &keys, &err) == APR_SUCCESS) {
        FUZZ_ASSERT(keys->nelts > 0);
        for (i = 0; i < keys->nelts; i++) {
            const at_key_t *key = APR_ARRAY_IDX(keys, i, at_key_t *);

            round_trip(key);
            (void)at_jws_verify(&token, key, &err);
        }
    }
    apr_pool_clear(fuzz_scratch);
    return 0;
}
