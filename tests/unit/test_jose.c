/* Unit tests of the JOSE layer: RFC 7520 known answers, sign/verify round
 * trips for every algorithm, RFC 7638 thumbprint, strict base64url and
 * JSON, and the key binding rules (RFC 8725 section 3.1).
 * Run from tests/unit (make check does). */
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>
#include <openssl/evp.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/rand.h>
#include "unit.h"
#include "at_jose.h"

#define VECTORS "../vectors/rfc7520/"

static apr_pool_t *pool;

/* Parses (opaque payload) and verifies TOKEN with KEYS. */
static apr_status_t verify_token(const char *token,
                                 const apr_array_header_t *keys)
{
    at_jws_t jws;
    at_error_t err;

    if (at_jws_parse_opaque(pool, token, strlen(token), &jws, &err)) {
        return APR_EINVAL;
    }
    return at_jws_verify_keys(&jws, keys, NULL, &err);
}

/* Loads KEY (a JWK object) as a one-key array, or NULL with ERR set;
 * ALG overrides "alg". */
static apr_array_header_t *jwk_load(json_t *jwk, const char *alg,
                                    at_error_t *err)
{
    apr_array_header_t *keys = NULL;
    json_t *copy = json_deep_copy(jwk);
    char *text;

    if (alg != NULL) {
        json_object_set_new(copy, "alg", json_string(alg));
    }
    text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    if (at_jwks_load_json(pool, text, strlen(text), "test", &keys, err)) {
        keys = NULL;
    }
    free(text);
    return keys;
}

/* jwk_load for keys that must load: a refusal is printed, as the reason
 * for the failed CHECK that follows. */
static apr_array_header_t *jwk_keys(json_t *jwk, const char *alg)
{
    at_error_t err;
    apr_array_header_t *keys = jwk_load(jwk, alg, &err);

    if (keys == NULL) {
        fprintf(stderr, "  jwk load: %s\n", err.text);
    }
    return keys;
}

/* Every byte of every segment flipped in turn must break verification. */
static void check_tamper(const char *name, const char *token,
                         const apr_array_header_t *keys)
{
    size_t i, n = strlen(token), broke = 0, tried = 0;
    char *t = apr_pstrdup(pool, token);

    for (i = 0; i < n; i++) {
        char orig = t[i];

        if (orig == '.') {
            continue;
        }
        /* Stay inside the alphabet so the change reaches the signature
         * check instead of stopping at base64url. */
        t[i] = orig == 'A' ? 'B' : 'A';
        tried++;
        if (verify_token(t, keys) != APR_SUCCESS) {
            broke++;
        }
        t[i] = orig;
    }
    CHECK(tried > 0 && broke == tried, "%s: %lu of %lu changed bytes broke it",
          name, (unsigned long)broke, (unsigned long)tried);
}

static void test_rfc7520(const char *file, const char *expect_alg,
                         int needs_alg_member)
{
    json_error_t jerr;
    json_t *doc = json_load_file(apr_pstrcat(pool, VECTORS, file, NULL), 0,
                                 &jerr);
    json_t *key;
    const char *token, *alg;
    apr_array_header_t *keys, *other;

    CHECK(doc != NULL, "%s: %s", file, doc ? "" : jerr.text);
    if (doc == NULL) {
        return;
    }
    key = json_object_get(json_object_get(doc, "input"), "key");
    alg = json_string_value(json_object_get(json_object_get(doc, "input"),
                                            "alg"));
    token = json_string_value(json_object_get(json_object_get(doc, "output"),
                                              "compact"));
    CHECK(strcmp(alg, expect_alg) == 0, "%s: alg %s", file, alg);
    /* The key's own binding (alg member, or curve / RSA default). */
    keys = jwk_keys(key, needs_alg_member ? alg : NULL);
    CHECK(keys != NULL && keys->nelts == 1, "%s: key loads", file);
    if (keys == NULL) {
        json_decref(doc);
        return;
    }
    CHECK(APR_ARRAY_IDX(keys, 0, at_key_t *)->alg == at_alg_from_name(alg),
          "%s: key bound to %s", file, alg);
    CHECK(verify_token(token, keys) == APR_SUCCESS, "%s verifies", file);
    check_tamper(file, token, keys);
    json_decref(doc);
    (void)other;
}

/* A fresh key pair for ALG. */
static EVP_PKEY *keygen(at_alg_t alg)
{
    switch (alg) {
    case AT_ALG_RS256: case AT_ALG_RS384: case AT_ALG_RS512:
    case AT_ALG_PS256: case AT_ALG_PS384: case AT_ALG_PS512:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case AT_ALG_ES256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case AT_ALG_ES384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case AT_ALG_ES512:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    case AT_ALG_EDDSA:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    default:
        return NULL;
    }
}

static EVP_PKEY *rsa_shared, *rsa_other;

/* A signing key for ALG (RSA generated once: it is slow). */
static at_key_t *make_key(at_alg_t alg, const char *kid)
{
    at_key_t *key = NULL;
    at_error_t err;
    unsigned char secret[64];
    EVP_PKEY *pk;

    if (at_alg_is_hmac(alg)) {
        RAND_bytes(secret, sizeof(secret));
        if (at_key_from_secret(pool, alg, secret, sizeof(secret), kid, &key,
                               &err)) {
            fprintf(stderr, "  secret: %s\n", err.text);
        }
        return key;
    }
    if (alg >= AT_ALG_RS256 && alg <= AT_ALG_PS512 && rsa_shared) {
        pk = rsa_shared;
        EVP_PKEY_up_ref(pk);
    }
    else {
        pk = keygen(alg);
    }
    if (at_key_from_pkey(pool, alg, pk, kid, &key, &err)) {
        fprintf(stderr, "  pkey: %s\n", err.text);
        EVP_PKEY_free(pk);
    }
    return key;
}

static void test_round_trips(void)
{
    at_alg_t alg;
    at_key_t *key, *other, *pub;
    at_jws_t jws;
    at_error_t err;
    char *token, *text;
    json_t *claims = json_pack("{s:s, s:I}", "sub", "alice", "exp",
                               (json_int_t)4102444800LL);
    json_t *jwk;
    apr_array_header_t *keys;

    rsa_shared = keygen(AT_ALG_RS256);
    rsa_other = keygen(AT_ALG_RS256);
    for (alg = AT_ALG_HS256; alg < AT_ALG_COUNT; alg++) {
        const char *name = at_alg_name(alg);

        key = make_key(alg, "k1");
        CHECK(key != NULL && (key->has_private || at_alg_is_hmac(alg)),
              "%s: key made", name);
        if (key == NULL) {
            continue;
        }
        CHECK(at_jws_sign(pool, key, NULL, claims, &token, &err)
                  == APR_SUCCESS, "%s: sign: %s", name, err.text);
        CHECK(at_jws_parse(pool, token, strlen(token), &jws, &err)
                  == APR_SUCCESS, "%s: parse: %s", name, err.text);
        CHECK(jws.alg == alg && jws.kid && strcmp(jws.kid, "k1") == 0,
              "%s: header alg and kid", name);
        CHECK(at_jws_verify(&jws, key, &err) == APR_SUCCESS,
              "%s: verify: %s", name, err.text);
        check_tamper(name, token,
                     (keys = apr_array_make(pool, 1, sizeof(at_key_t *)),
                      APR_ARRAY_PUSH(keys, at_key_t *) = key, keys));

        /* Another key of the same algorithm must not verify. */
        if (alg >= AT_ALG_RS256 && alg <= AT_ALG_PS512) {
            EVP_PKEY *pk = rsa_other;
            EVP_PKEY_up_ref(pk);
            other = NULL;
            if (at_key_from_pkey(pool, alg, pk, "k1", &other, &err)) {
                EVP_PKEY_free(pk);
            }
        }
        else {
            other = make_key(alg, "k1");
        }
        CHECK(other && at_jws_verify(&jws, other, &err) != APR_SUCCESS,
              "%s: other key refused", name);

        /* ECDSA: exactly raw r||s of the curve's size. A second token from
         * the key's reused signing context verifies too, with a fresh
         * nonce (another signature). */
        if (alg >= AT_ALG_ES256 && alg <= AT_ALG_ES512) {
            size_t want = alg == AT_ALG_ES256 ? 64
                          : alg == AT_ALG_ES384 ? 96 : 132;
            at_jws_t again;
            char *token2 = NULL;

            CHECK(jws.sig_len == want, "%s: raw signature %lu bytes", name,
                  (unsigned long)jws.sig_len);
            CHECK(at_jws_sign(pool, key, NULL, claims, &token2, &err)
                      == APR_SUCCESS
                      && at_jws_parse(pool, token2, strlen(token2), &again,
                                      &err) == APR_SUCCESS
                      && at_jws_verify(&again, key, &err) == APR_SUCCESS,
                  "%s: second signature verifies: %s", name, err.text);
            CHECK(token2 && strcmp(token, token2) != 0,
                  "%s: second signature differs", name);
        }
        if (at_alg_is_hmac(alg)) {
            CHECK(at_jwk_public(key) == NULL
                      && at_jwk_thumbprint(pool, key) == NULL,
                  "%s: secrets are never published", name);
            continue;
        }
        /* Public JWK round trip: verifies, has no private member, same
         * thumbprint. */
        jwk = at_jwk_public(key);
        CHECK(jwk != NULL && json_object_get(jwk, "d") == NULL
                  && json_object_get(jwk, "p") == NULL
                  && strcmp(json_string_value(json_object_get(jwk, "alg")),
                            name) == 0
                  && strcmp(json_string_value(json_object_get(jwk, "use")),
                            "sig") == 0,
              "%s: public JWK", name);
        text = json_dumps(jwk, JSON_COMPACT);
        json_decref(jwk);
        keys = NULL;
        CHECK(at_jwks_load_json(pool, text, strlen(text), "pub", &keys, &err)
                  == APR_SUCCESS, "%s: public JWK loads: %s", name, err.text);
        free(text);
        if (keys == NULL) {
            continue;
        }
        pub = APR_ARRAY_IDX(keys, 0, at_key_t *);
        CHECK(!pub->has_private && pub->alg == alg, "%s: public only", name);
        CHECK(at_jws_verify(&jws, pub, &err) == APR_SUCCESS,
              "%s: verify with public JWK: %s", name, err.text);
        CHECK(at_jws_sign(pool, pub, NULL, claims, &token, &err)
                  != APR_SUCCESS, "%s: a public key cannot sign", name);
        CHECK(strcmp(at_jwk_thumbprint(pool, key),
                     at_jwk_thumbprint(pool, pub)) == 0,
              "%s: thumbprint stable", name);
    }
    json_decref(claims);
}

/* Ed448 under the one "EdDSA" algorithm (RFC 8037). */
static void test_ed448(void)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    at_key_t *key = NULL, *pub;
    apr_array_header_t *keys = NULL;
    json_t *claims = json_pack("{s:I}", "exp", (json_int_t)4102444800LL);
    json_t *jwk;
    at_jws_t jws;
    at_error_t err;
    char *token = NULL, *text;

    CHECK(pk && at_key_from_pkey(pool, AT_ALG_EDDSA, pk, NULL, &key, &err)
                    == APR_SUCCESS, "Ed448 key for EdDSA");
    if (key == NULL) {
        EVP_PKEY_free(pk);
        json_decref(claims);
        return;
    }
    CHECK(at_jws_sign(pool, key, NULL, claims, &token, &err) == APR_SUCCESS
              && at_jws_parse(pool, token, strlen(token), &jws, &err)
                     == APR_SUCCESS
              && jws.sig_len == 114 && at_jws_verify(&jws, key, &err)
                                           == APR_SUCCESS,
          "Ed448 sign and verify");
    jwk = at_jwk_public(key);
    CHECK(jwk && strcmp(json_string_value(json_object_get(jwk, "crv")),
                        "Ed448") == 0, "Ed448 public JWK");
    text = json_dumps(jwk, JSON_COMPACT);
    json_decref(jwk);
    CHECK(at_jwks_load_json(pool, text, strlen(text), "t", &keys, &err)
              == APR_SUCCESS, "Ed448 JWK loads: %s", err.text);
    free(text);
    if (keys != NULL) {
        pub = APR_ARRAY_IDX(keys, 0, at_key_t *);
        CHECK(pub->alg == AT_ALG_EDDSA
                  && at_jws_verify(&jws, pub, &err) == APR_SUCCESS,
              "Ed448 verifies with its public JWK");
    }
    json_decref(claims);
}

static void test_thumbprint(void)
{
    /* RFC 7638 section 3.1. */
    static const char jwk[] =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbW"
        "hM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj"
        "hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qv"
        "zqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNL"
        "yrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-cs"
        "FCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\","
        "\"kid\":\"2011-04-29\"}";
    apr_array_header_t *keys = NULL;
    at_error_t err;
    const char *tp;

    CHECK(at_jwks_load_json(pool, jwk, strlen(jwk), "rfc7638", &keys, &err)
              == APR_SUCCESS, "rfc7638 key loads: %s", err.text);
    if (keys == NULL) {
        return;
    }
    tp = at_jwk_thumbprint(pool, APR_ARRAY_IDX(keys, 0, at_key_t *));
    CHECK(tp && strcmp(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs") == 0,
          "RFC 7638 thumbprint: %s", tp ? tp : "(null)");
}

static void test_b64(void)
{
    unsigned char *out;
    size_t len;
    static const char *bad[] = {
        "QQ==", "QQ=", "Q", "QR", "QUJD+", "QU/D", "QU D", "QUJ\n",
        "QUJ", /* "AB" would be QUI; QUJ has nonzero trailing bits */
    };
    size_t i;

    CHECK(strcmp(at_b64url_encode(pool, (const unsigned char *)"\xfb\xff", 2),
                 "-_8") == 0, "encode uses -_ and no padding");
    CHECK(at_b64url_decode(pool, "-_8", 3, &out, &len) == APR_SUCCESS
              && len == 2 && out[0] == 0xfb && out[1] == 0xff,
          "decode -_8");
    CHECK(at_b64url_decode(pool, "QUI", 3, &out, &len) == APR_SUCCESS
              && len == 2 && memcmp(out, "AB", 2) == 0, "decode QUI");
    CHECK(at_b64url_decode(pool, "QQ", 2, &out, &len) == APR_SUCCESS
              && len == 1 && out[0] == 'A', "decode QQ");
    CHECK(at_b64url_decode(pool, "", 0, &out, &len) == APR_SUCCESS && len == 0,
          "decode empty");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(at_b64url_decode(pool, bad[i], strlen(bad[i]), &out, &len)
                  != APR_SUCCESS, "strict decode refuses \"%s\"", bad[i]);
    }
    CHECK(at_b64url_decode(pool, "QUJDRA", 6, &out, &len) == APR_SUCCESS
              && len == 4 && out[4] == '\0', "decoded bytes NUL-terminated");
}

/* Padded base64 (HTTP Basic): one spelling per value, like base64url. */
static void test_b64_padded(void)
{
    unsigned char *out;
    size_t len;
    static const char *bad[] = {
        "QQ", "QUI", "QQ=", "QQ===", "Q===", "=QQ=", "QQ=A", "QR==",
        "QUJ=", "-_8=", "QUJD\n", " QUJD", "QU D", "QUJDRA", "QUJDRA=",
        "QUJDRA===",
    };
    size_t i;

    CHECK(at_b64_decode(pool, "QQ==", 4, &out, &len) == APR_SUCCESS
              && len == 1 && out[0] == 'A', "decode QQ==");
    CHECK(at_b64_decode(pool, "QUI=", 4, &out, &len) == APR_SUCCESS
              && len == 2 && memcmp(out, "AB", 3) == 0, "decode QUI=");
    CHECK(at_b64_decode(pool, "+/8=", 4, &out, &len) == APR_SUCCESS
              && len == 2 && out[0] == 0xfb && out[1] == 0xff,
          "decode +/8=");
    CHECK(at_b64_decode(pool, "", 0, &out, &len) == APR_SUCCESS && len == 0,
          "decode empty");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(at_b64_decode(pool, bad[i], strlen(bad[i]), &out, &len)
                  != APR_SUCCESS, "strict decode refuses \"%s\"", bad[i]);
    }
    CHECK(at_b64_decode(pool, "QUJD\0", 5, &out, &len) != APR_SUCCESS,
          "NUL refused");
}

static void test_json(void)
{
    at_error_t err;
    char deep[64];
    int i;

    CHECK(at_json_parse(pool, "{\"a\":1,\"a\":2}", 13, &err) == NULL,
          "duplicate members refused");
    CHECK(at_json_parse(pool, "{\"a\":\"x\\u0000y\"}", 16, &err) == NULL,
          "escaped NUL refused");
    CHECK(at_json_parse(pool, "{\"a\":1}\0", 8, &err) == NULL,
          "raw NUL refused");
    CHECK(at_json_parse(pool, "{\"a\":1} x", 9, &err) == NULL,
          "trailing garbage refused");
    /* AT_JSON_MAX_DEPTH levels pass, one more does not. */
    for (i = 0; i < AT_JSON_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[2 * AT_JSON_MAX_DEPTH - 1 - i] = ']';
    }
    CHECK(at_json_parse(pool, deep, 2 * AT_JSON_MAX_DEPTH, &err) != NULL,
          "depth %d accepted", AT_JSON_MAX_DEPTH);
    memmove(deep + 1, deep, 2 * AT_JSON_MAX_DEPTH);
    deep[0] = '[';
    deep[2 * AT_JSON_MAX_DEPTH + 1] = ']';
    CHECK(at_json_parse(pool, deep, 2 * AT_JSON_MAX_DEPTH + 2, &err) == NULL,
          "depth %d refused", AT_JSON_MAX_DEPTH + 1);
}

static void test_alg_names(void)
{
    static const char *bad[] = {"none", "None", "NONE", "nOnE", "hs256",
                                "HS256 ", "", "RS1", "EDDSA", "ES256K"};
    size_t i;
    int a;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(at_alg_from_name(bad[i]) == AT_ALG_UNKNOWN, "alg \"%s\" unknown",
              bad[i]);
    }
    for (a = AT_ALG_HS256; a < AT_ALG_COUNT; a++) {
        CHECK((int)at_alg_from_name(at_alg_name((at_alg_t)a)) == a,
              "alg %d name", a);
    }
    CHECK(at_alg_name(AT_ALG_UNKNOWN) == NULL, "unknown has no name");
}

/* Writes DATA to a temporary file and returns its path. */
static const char *temp_file(const char *data, size_t len)
{
    char *path = apr_pstrcat(pool, unit_tmpdir(), "/key_XXXXXX", NULL);
    int fd = mkstemp(path);

    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        return "/nonexistent";
    }
    close(fd);
    return path;
}

static const char *pem_of(EVP_PKEY *pk, int private)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    if (private) {
        PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    }
    else {
        PEM_write_bio_PUBKEY(b, pk);
    }
    n = BIO_get_mem_data(b, &data);
    out = apr_pstrmemdup(pool, data, (apr_size_t)n);
    BIO_free(b);
    return temp_file(out, strlen(out));
}

static void test_key_files(void)
{
    at_key_t *key;
    at_error_t err;
    const char *path;
    EVP_PKEY *ec256 = keygen(AT_ALG_ES256), *ec384 = keygen(AT_ALG_ES384);
    EVP_PKEY *ed = keygen(AT_ALG_EDDSA);
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char secret[65];

    memset(secret, 'x', sizeof(secret));
    /* 32 bytes plus the one newline an editor adds: fine for HS256. */
    secret[32] = '\n';
    path = temp_file(secret, 33);
    CHECK(at_key_load_file(pool, AT_ALG_HS256, path, NULL, 0, &key, &err)
              == APR_SUCCESS && key->secret_len == 32,
          "HS256 secret with newline: %s", err.text);
    CHECK(at_key_load_file(pool, AT_ALG_HS384, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "32-byte secret too short for HS384");
    unlink(path);
    path = temp_file(secret, 31);
    CHECK(at_key_load_file(pool, AT_ALG_HS256, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "31-byte secret too short for HS256");
    unlink(path);

    path = pem_of(ec256, 0);
    CHECK(at_key_load_file(pool, AT_ALG_ES256, path, "k", 0, &key, &err)
              == APR_SUCCESS && !key->has_private
              && strcmp(key->kid, "k") == 0, "P-256 PEM for ES256: %s",
          err.text);
    CHECK(at_key_load_file(pool, AT_ALG_ES384, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "P-256 key refused for ES384");
    CHECK(at_key_load_file(pool, AT_ALG_RS256, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "EC key refused for RS256");
    CHECK(at_key_load_file(pool, AT_ALG_HS256, path, NULL, 0, &key, &err)
              == APR_SUCCESS,
          "a PEM file is only bytes to HS256 (binding keeps it apart)");
    unlink(path);
    path = pem_of(ec384, 0);
    CHECK(at_key_load_file(pool, AT_ALG_ES256, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "P-384 key refused for ES256");
    unlink(path);
    path = pem_of(rsa1024, 0);
    CHECK(at_key_load_file(pool, AT_ALG_RS256, path, NULL, 0, &key, &err)
              != APR_SUCCESS && strstr(err.text, "2048"),
          "RSA 1024 refused: %s", err.text);
    unlink(path);
    path = pem_of(ed, 1);
    CHECK(at_key_load_file(pool, AT_ALG_EDDSA, path, NULL, 1, &key, &err)
              == APR_SUCCESS && key->has_private,
          "Ed25519 private key: %s", err.text);
    CHECK(at_key_load_file(pool, AT_ALG_EDDSA, path, NULL, 0, &key, &err)
              != APR_SUCCESS && strstr(err.text, "private"),
          "private key where a public one is wanted: %s", err.text);
    CHECK(at_key_load_file(pool, AT_ALG_ES256, path, NULL, 1, &key, &err)
              != APR_SUCCESS, "Ed25519 key refused for ES256");
    unlink(path);
    CHECK(at_key_load_file(pool, AT_ALG_RS256, "/nonexistent/key.pem", NULL, 0,
                           &key, &err) != APR_SUCCESS
              && strstr(err.text, "/nonexistent/key.pem"),
          "missing file named: %s", err.text);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(rsa1024);
}

/* A self-signed certificate for PK, as PEM in a temporary file. */
static const char *cert_file(EVP_PKEY *pk)
{
    X509 *x = X509_new();
    X509_NAME *name;
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;
    const char *path;

    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, pk, EVP_sha256());
    PEM_write_bio_X509(b, x);
    n = BIO_get_mem_data(b, &data);
    path = temp_file(data, (size_t)n);
    BIO_free(b);
    X509_free(x);
    return path;
}

/* PKCS#1 "RSA PUBLIC KEY" PEM of PK in a temporary file. */
static const char *pkcs1_file(EVP_PKEY *pk)
{
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(
        pk, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", NULL);
    unsigned char *data = NULL;
    size_t len = 0;
    const char *path = "/nonexistent";

    if (ectx && OSSL_ENCODER_to_data(ectx, &data, &len)) {
        path = temp_file((const char *)data, len);
    }
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ectx);
    return path;
}

static void test_key_formats(void)
{
    EVP_PKEY *ec = keygen(AT_ALG_ES256);
    at_key_t *key, *priv;
    at_error_t err;
    const char *path;
    char *token;
    json_t *claims = json_pack("{s:I}", "exp", (json_int_t)4102444800LL);
    at_jws_t jws;

    path = cert_file(ec);
    CHECK(at_key_load_file(pool, AT_ALG_ES256, path, NULL, 0, &key, &err)
              == APR_SUCCESS, "X.509 certificate: %s", err.text);
    CHECK(at_key_load_file(pool, AT_ALG_ES384, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "certificate's P-256 key refused for ES384");
    unlink(path);
    path = pem_of(ec, 1);
    CHECK(at_key_load_file(pool, AT_ALG_ES256, path, NULL, 1, &priv, &err)
              == APR_SUCCESS, "EC private key: %s", err.text);
    unlink(path);
    if (at_jws_sign(pool, priv, NULL, claims, &token, &err) == APR_SUCCESS
        && at_jws_parse(pool, token, strlen(token), &jws, &err)
               == APR_SUCCESS) {
        at_key_load_file(pool, AT_ALG_ES256, path = cert_file(ec), NULL, 0,
                         &key, &err);
        CHECK(at_jws_verify(&jws, key, &err) == APR_SUCCESS,
              "signed with the private key, verified with the certificate");
        unlink(path);
    }
    else {
        CHECK(0, "sign with loaded private key: %s", err.text);
    }
    path = pkcs1_file(rsa_shared);
    CHECK(at_key_load_file(pool, AT_ALG_RS256, path, NULL, 0, &key, &err)
              == APR_SUCCESS, "PKCS#1 RSA public key: %s", err.text);
    unlink(path);
    {
        static const char junk[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
                                   "-----END PUBLIC KEY-----\n";

        path = temp_file(junk, sizeof(junk) - 1);
    }
    CHECK(at_key_load_file(pool, AT_ALG_ES256, path, NULL, 0, &key, &err)
              != APR_SUCCESS, "garbage PEM refused");
    unlink(path);
    json_decref(claims);
    EVP_PKEY_free(ec);
}

static void test_jwks_rules(void)
{
    static const struct {
        const char *json;
        int ok;        /* loads */
        int nkeys;
        const char *what;
    } cases[] = {
        {"{\"keys\":[{\"kty\":\"oct\",\"k\":\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-"
         "Onbc6mxCcYg\"}]}", 0, 0, "oct without alg"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"AAAA\"}]}",
         0, 0, "short oct secret"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"use\":\"enc\","
         "\"k\":\"AAAA\"},{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":"
         "\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}]}",
         1, 1, "enc key skipped"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"key_ops\":"
         "[\"encrypt\",\"sign\"],\"k\":\"AAAA\"},{\"kty\":\"oct\",\"alg\":"
         "\"HS256\",\"key_ops\":[\"sign\",\"verify\"],\"k\":"
         "\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}]}",
         1, 1, "key_ops without verify skipped, with verify kept"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"key_ops\":"
         "\"verify\",\"k\":\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}]}",
         0, 0, "key_ops not an array"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"key_ops\":"
         "[],\"k\":\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}]}",
         0, 0, "key_ops empty: no signature key"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"RS256\",\"k\":"
         "\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}]}",
         0, 0, "alg contradicts kty"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"none\",\"k\":"
         "\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}]}",
         0, 0, "alg none"},
        {"{\"keys\":[]}", 0, 0, "no keys"},
        {"{\"keys\":{}}", 0, 0, "keys not an array"},
        {"[1]", 0, 0, "not an object"},
    };
    apr_array_header_t *keys;
    at_error_t err;
    size_t i;
    apr_status_t rv;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        keys = NULL;
        rv = at_jwks_load_json(pool, cases[i].json, strlen(cases[i].json),
                               "t", &keys, &err);
        CHECK((rv == APR_SUCCESS) == cases[i].ok
                  && (!cases[i].ok || keys->nelts == cases[i].nkeys),
              "jwks %s", cases[i].what);
    }
    /* RFC 7520 keys: EC P-521 public binds ES512 by curve; refused when
     * told ES256. */
    {
        json_error_t jerr;
        json_t *ec = json_load_file(VECTORS "jwk/3_1.ec_public_key.json", 0,
                                    &jerr);
        apr_array_header_t *k;

        CHECK(ec != NULL, "RFC 7520 EC key: %s", ec ? "" : jerr.text);
        if (ec == NULL) {
            return;
        }
        k = jwk_keys(ec, NULL);
        CHECK(k && APR_ARRAY_IDX(k, 0, at_key_t *)->alg == AT_ALG_ES512,
              "P-521 JWK defaults to ES512");
        json_object_set_new(ec, "alg", json_string("ES256"));
        {
            char *t = json_dumps(ec, JSON_COMPACT);

            CHECK(at_jwks_load_json(pool, t, strlen(t), "t", &k, &err)
                      != APR_SUCCESS, "P-521 JWK refused for ES256");
            free(t);
        }
        /* An EC point moved off its curve is refused. */
        json_object_set_new(ec, "alg", json_string("ES512"));
        {
            const char *y = json_string_value(json_object_get(ec, "y"));
            char *y2 = apr_pstrdup(pool, y), *t;

            y2[10] = y2[10] == 'A' ? 'B' : 'A';
            json_object_set_new(ec, "y", json_string(y2));
            t = json_dumps(ec, JSON_COMPACT);
            CHECK(at_jwks_load_json(pool, t, strlen(t), "t", &k, &err)
                      != APR_SUCCESS, "EC point off the curve refused");
            free(t);
        }
        json_decref(ec);
    }
}

/* RFC 7520 private JWKs (RSA with CRT members, EC P-521) sign, and their
 * public halves verify; an RSA JWK with d but only some CRT members is
 * refused rather than half-used. */
static void test_private_jwks(void)
{
    static const char *files[] = {"jwk/3_4.rsa_private_key.json",
                                  "jwk/3_2.ec_private_key.json"};
    json_t *claims = json_pack("{s:I}", "exp", (json_int_t)4102444800LL);
    json_error_t jerr;
    at_error_t err;
    size_t i;

    for (i = 0; i < 2; i++) {
        json_t *jwk = json_load_file(
            apr_pstrcat(pool, VECTORS, files[i], NULL), 0, &jerr);
        apr_array_header_t *priv, *pub;
        at_key_t *k;
        json_t *pubjwk;
        char *token = NULL, *text;

        CHECK(jwk != NULL, "%s: %s", files[i], jwk ? "" : jerr.text);
        if (jwk == NULL) {
            continue;
        }
        priv = jwk_keys(jwk, NULL);
        CHECK(priv && APR_ARRAY_IDX(priv, 0, at_key_t *)->has_private,
              "%s loads as a private key", files[i]);
        if (priv == NULL) {
            json_decref(jwk);
            continue;
        }
        k = APR_ARRAY_IDX(priv, 0, at_key_t *);
        CHECK(at_jws_sign(pool, k, NULL, claims, &token, &err) == APR_SUCCESS,
              "%s signs: %s", files[i], err.text);
        pubjwk = at_jwk_public(k);
        text = json_dumps(pubjwk, JSON_COMPACT);
        pub = NULL;
        at_jwks_load_json(pool, text, strlen(text), "pub", &pub, &err);
        CHECK(token && pub && verify_token(token, pub) == APR_SUCCESS,
              "%s: public half verifies", files[i]);
        CHECK(json_object_get(pubjwk, "d") == NULL
                  && strcmp(at_jwk_thumbprint(pool, k),
                            at_jwk_thumbprint(
                                pool, APR_ARRAY_IDX(pub, 0, at_key_t *)))
                         == 0,
              "%s: no private member exported, same thumbprint", files[i]);
        free(text);
        json_decref(pubjwk);
        if (i == 0) {
            json_object_del(jwk, "qi");
            CHECK(jwk_load(jwk, NULL, &err) == NULL
                      && strstr(err.text, "\"qi\" missing"),
                  "RSA JWK with partial CRT members refused: %s", err.text);
        }
        json_decref(jwk);
    }
    json_decref(claims);
}

static void test_kid_selection(void)
{
    at_key_t *a = make_key(AT_ALG_HS256, "a"), *b = make_key(AT_ALG_HS256, "b");
    at_key_t *any = make_key(AT_ALG_HS256, NULL);
    apr_array_header_t *keys = apr_array_make(pool, 3, sizeof(at_key_t *));
    json_t *claims = json_pack("{s:I}", "exp", (json_int_t)4102444800LL);
    const at_key_t *used = NULL;
    at_jws_t jws;
    at_error_t err;
    char *token;

    APR_ARRAY_PUSH(keys, at_key_t *) = a;
    APR_ARRAY_PUSH(keys, at_key_t *) = b;
    at_jws_sign(pool, b, NULL, claims, &token, &err);
    at_jws_parse(pool, token, strlen(token), &jws, &err);
    CHECK(at_jws_verify_keys(&jws, keys, &used, &err) == APR_SUCCESS
              && used == b, "kid picks key b");
    CHECK(at_jws_verify(&jws, a, &err) != APR_SUCCESS, "key a refuses kid b");
    /* A kid-less token is not served by keys that have a kid. */
    at_jws_sign(pool, any, NULL, claims, &token, &err);
    at_jws_parse(pool, token, strlen(token), &jws, &err);
    CHECK(at_jws_verify_keys(&jws, keys, &used, &err) != APR_SUCCESS,
          "kid-less token, only kid keys: refused");
    APR_ARRAY_PUSH(keys, at_key_t *) = any;
    CHECK(at_jws_verify_keys(&jws, keys, &used, &err) == APR_SUCCESS
              && used == any, "kid-less key serves it");
    json_decref(claims);
}

/* Tokens signed by KEY with "sub" set to "user<i>". */
static char *token_for(at_key_t *key, int i)
{
    json_t *claims = json_pack("{s:s, s:I}", "sub",
                               apr_psprintf(pool, "user%d", i), "exp",
                               (json_int_t)4102444800LL);
    json_t *header = json_pack("{s:s}", "typ", "at+jwt");
    at_error_t err;
    char *token = NULL;

    at_jws_sign(pool, key, header, claims, &token, &err);
    json_decref(claims);
    json_decref(header);
    return token;
}

static void test_cache(void)
{
    at_key_t *key = make_key(AT_ALG_HS256, "k1");
    at_key_t *other = make_key(AT_ALG_HS256, "k2");
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(at_key_t *));
    apr_array_header_t *others = apr_array_make(pool, 1, sizeof(at_key_t *));
    at_jws_cache_t *cache, *one;
    char *a = token_for(key, 1), *b = token_for(key, 2), *a2;
    apr_pool_t *req;
    at_jws_t jws, hit;
    at_error_t err;
    const at_key_t *used = NULL;

    APR_ARRAY_PUSH(keys, at_key_t *) = key;
    APR_ARRAY_PUSH(others, at_key_t *) = other;
    CHECK(at_jws_cache_create(pool, 0, &cache) == APR_SUCCESS && !cache,
          "0 entries: no cache");
    CHECK(at_jws_cache_get(NULL, pool, a, strlen(a), keys, &hit) == NULL,
          "no cache: miss");
    at_jws_cache_put(NULL, a, strlen(a), &jws, key);
    CHECK(at_jws_cache_create(pool, 64, &cache) == APR_SUCCESS && cache,
          "cache created");
    CHECK(at_jws_cache_get(cache, pool, a, strlen(a), keys, &hit) == NULL,
          "empty cache: miss");

    /* Parsed in a request pool that is gone before the next hit. */
    apr_pool_create(&req, pool);
    at_jws_parse(req, a, strlen(a), &jws, &err);
    at_jws_verify_keys(&jws, keys, &used, &err);
    at_jws_cache_put(cache, a, strlen(a), &jws, used);
    apr_pool_destroy(req);
    apr_pool_create(&req, pool);
    CHECK(at_jws_cache_get(cache, req, a, strlen(a), keys, &hit) == key,
          "hit returns the verifying key");
    at_jws_parse(req, a, strlen(a), &jws, &err);
    CHECK(hit.alg == AT_ALG_HS256 && hit.kid && strcmp(hit.kid, "k1") == 0
              && hit.typ && strcmp(hit.typ, "at+jwt") == 0
              && json_equal(hit.claims, jws.claims)
              && json_equal(hit.header, jws.header)
              && hit.signing_input_len == jws.signing_input_len
              && strcmp(hit.signing_input, jws.signing_input) == 0
              && hit.sig_len == jws.sig_len
              && memcmp(hit.sig, jws.sig, jws.sig_len) == 0,
          "hit fills the jws as at_jws_parse does");
    CHECK(at_jws_verify(&hit, key, &err) == APR_SUCCESS,
          "a hit still verifies");
    CHECK(at_jws_cache_get(cache, req, a, strlen(a), others, &hit) == NULL,
          "a key of another location is not trusted");
    a2 = apr_pstrdup(req, a);
    a2[strlen(a2) - 5] ^= 1;
    CHECK(at_jws_cache_get(cache, req, a2, strlen(a2), keys, &hit) == NULL,
          "a changed token misses");
    CHECK(at_jws_cache_get(cache, req, a, strlen(a) - 1, keys, &hit) == NULL,
          "a truncated token misses");
    apr_pool_destroy(req);

    /* One slot: the newest token evicts the older. */
    at_jws_cache_create(pool, 1, &one);
    at_jws_parse(pool, a, strlen(a), &jws, &err);
    at_jws_cache_put(one, a, strlen(a), &jws, key);
    at_jws_parse(pool, b, strlen(b), &jws, &err);
    at_jws_cache_put(one, b, strlen(b), &jws, key);
    CHECK(at_jws_cache_get(one, pool, a, strlen(a), keys, &hit) == NULL,
          "evicted token misses");
    CHECK(at_jws_cache_get(one, pool, b, strlen(b), keys, &hit) == key
              && strcmp(json_string_value(json_object_get(hit.claims, "sub")),
                        "user2") == 0, "newest token hits");
}

/* A token signed by KEY over CLAIMS (whose reference it takes). */
static char *token_with(at_key_t *key, json_t *claims)
{
    at_error_t err;
    char *token = NULL;

    at_jws_sign(pool, key, NULL, claims, &token, &err);
    json_decref(claims);
    return token;
}

/* Whether TOKEN, put into CACHE right after parsing, is then a hit. */
static int kept(at_jws_cache_t *cache, const char *token,
                apr_array_header_t *keys)
{
    at_jws_t jws, hit;
    at_error_t err;
    const at_key_t *used = NULL;

    if (at_jws_parse(pool, token, strlen(token), &jws, &err) != APR_SUCCESS
        || at_jws_verify_keys(&jws, keys, &used, &err) != APR_SUCCESS) {
        return -1;
    }
    at_jws_cache_put(cache, token, strlen(token), &jws, used);
    return at_jws_cache_get(cache, pool, token, strlen(token), keys, &hit)
           == used;
}

/* Nothing is served past the token's exp, and an expired token is not
 * kept at all; exp values out of range or absent set no limit. */
static void test_cache_expiry(void)
{
    at_key_t *key = make_key(AT_ALG_HS256, NULL);
    apr_array_header_t *keys = apr_array_make(pool, 1, sizeof(at_key_t *));
    at_jws_cache_t *cache, *big;
    long long now = (long long)apr_time_sec(apr_time_now());
    char *soon;
    at_jws_t hit;

    APR_ARRAY_PUSH(keys, at_key_t *) = key;
    at_jws_cache_create(pool, 64, &cache);
    CHECK(kept(cache, token_with(key, json_pack("{s:s, s:I}", "sub", "a",
                                                "exp", (json_int_t)(now - 1))),
               keys) == 0, "an expired token is not kept");
    CHECK(kept(cache, token_with(key, json_pack("{s:s, s:I}", "sub", "b",
                                                "exp", (json_int_t)now)),
               keys) == 0, "a token expiring this second is not kept");
    CHECK(kept(cache, token_with(key, json_pack("{s:s, s:f}", "sub", "c",
                                                "exp", 1e300)), keys) == 1,
          "exp 1e300 saturates: kept");
    CHECK(kept(cache, token_with(key, json_pack("{s:s}", "sub", "d")), keys)
              == 1, "no exp: kept (the claim checks refuse it)");
    soon = token_with(key, json_pack("{s:s, s:I}", "sub", "e", "exp",
                                     (json_int_t)(now + 2)));
    CHECK(kept(cache, soon, keys) == 1, "a live token is kept");
    while ((long long)apr_time_sec(apr_time_now()) < now + 2) {
        apr_sleep(apr_time_from_msec(50));
    }
    CHECK(at_jws_cache_get(cache, pool, soon, strlen(soon), keys, &hit)
              == NULL, "no hit once exp has come");

    /* More slots than mutexes: slots share the bounded set of locks. */
    CHECK(at_jws_cache_create(pool, 5000, &big) == APR_SUCCESS && big,
          "5000 entries");
    CHECK(kept(big, token_for(key, 1), keys) == 1
              && kept(big, token_for(key, 2), keys) == 1
              && kept(big, token_for(key, 3), keys) == 1,
          "large cache keeps and serves tokens");
}

/* HMAC against Python's hmac module, with secrets longer than the hash's
 * block (RFC 2104: hashed first): bytes 0, 1, 2... of 100 and 200. */
static void test_hmac_long_secret(void)
{
    static const struct {
        at_alg_t alg;
        size_t len;
        const char *token;
    } cases[] = {
        {AT_ALG_HS256, 100,
         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb25nIn0."
         "FSoz-mz6bcywnILjWjsjiVY7xtS4V76QQP_yZ5nv16g"},
        {AT_ALG_HS512, 200,
         "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJsb25nIn0."
         "1uuy8oit6_WnJw2Iw1eOGfNlK3ukox_Zs-Ccztz0wrc5vGpRy-C9KA4JjwiieQsekYs"
         "1LojIm-08WzZH6aei5A"},
    };
    unsigned char secret[200];
    at_key_t *key;
    at_jws_t jws;
    at_error_t err;
    size_t i;

    for (i = 0; i < sizeof(secret); i++) {
        secret[i] = (unsigned char)i;
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        key = NULL;
        CHECK(at_key_from_secret(pool, cases[i].alg, secret, cases[i].len,
                                 NULL, &key, &err) == APR_SUCCESS
                  && at_jws_parse(pool, cases[i].token,
                                  strlen(cases[i].token), &jws, &err)
                         == APR_SUCCESS
                  && at_jws_verify(&jws, key, &err) == APR_SUCCESS,
              "long secret %lu bytes verifies", (unsigned long)cases[i].len);
        secret[0] ^= 1;
        CHECK(at_key_from_secret(pool, cases[i].alg, secret, cases[i].len,
                                 NULL, &key, &err) == APR_SUCCESS
                  && at_jws_verify(&jws, key, &err) != APR_SUCCESS,
              "another long secret does not");
        secret[0] ^= 1;
    }
}

/* The header memo gives what parsing gives, and never keeps a header
 * that failed: it fails again, with the same reason. Without a memo
 * (the CLI) every header is parsed; with one, a header seen before is
 * the very tree kept. */
static void test_header_memo(void)
{
    const char *good =
        "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0.c2ln";
    const char *crit =
        "eyJhbGciOiJIUzI1NiIsImNyaXQiOlsieCJdfQ.eyJzdWIiOiJhIn0.c2ln";
    at_jws_t a, b;
    at_error_t err;
    int i;

    CHECK(at_jws_parse(pool, good, strlen(good), &a, &err) == APR_SUCCESS
              && at_jws_parse(pool, good, strlen(good), &b, &err)
                     == APR_SUCCESS
              && a.header != b.header && json_equal(a.header, b.header),
          "no memo: each parse makes its own header");
    CHECK(at_jws_header_memo_create(pool) == APR_SUCCESS
              && at_jws_header_memo_create(pool) == APR_EEXIST,
          "one memo per process");
    for (i = 0; i < 2; i++) {
        memset(&err, 0, sizeof(err));
        CHECK(at_jws_parse(pool, crit, strlen(crit), &a, &err) != APR_SUCCESS
                  && strcmp(err.text, "crit header not supported") == 0,
              "a header with crit is refused, again and again");
    }
    CHECK(at_jws_parse(pool, good, strlen(good), &a, &err) == APR_SUCCESS
              && at_jws_parse(pool, good, strlen(good), &b, &err)
                     == APR_SUCCESS,
          "the same header parses twice");
    CHECK(a.alg == AT_ALG_HS256 && b.alg == AT_ALG_HS256 && a.kid && b.kid
              && strcmp(a.kid, "k1") == 0 && strcmp(b.kid, "k1") == 0
              && b.typ == NULL && a.header == b.header,
          "the memo gives what parsing gave");
}

/* A token earns its place on its second sight, and only with a few
 * seconds of life left; a token used once is never inserted. */
static void test_cache_admit(void)
{
    at_key_t *key = make_key(AT_ALG_HS256, NULL);
    long long now = (long long)apr_time_sec(apr_time_now());
    at_jws_cache_t *cache;
    at_jws_t jws;
    at_error_t err;
    char *a = token_with(key, json_pack("{s:s, s:I}", "sub", "a", "exp",
                                        (json_int_t)(now + 600)));
    char *b = token_with(key, json_pack("{s:s, s:I}", "sub", "b", "exp",
                                        (json_int_t)(now + 600)));
    char *soon = token_with(key, json_pack("{s:s, s:I}", "sub", "c", "exp",
                                           (json_int_t)(now + 2)));

    CHECK(at_jws_cache_admit(NULL, a, strlen(a), &jws) == 0,
          "no cache: nothing admitted");
    at_jws_cache_create(pool, 1, &cache);
    at_jws_parse(pool, a, strlen(a), &jws, &err);
    CHECK(at_jws_cache_admit(cache, a, strlen(a), &jws) == 0,
          "first sight: not admitted");
    CHECK(at_jws_cache_admit(cache, a, strlen(a), &jws) == 1,
          "second sight: admitted");
    CHECK(at_jws_cache_admit(cache, a, strlen(a), &jws) == 0,
          "admission is used up");
    at_jws_cache_admit(cache, a, strlen(a), &jws);
    at_jws_parse(pool, b, strlen(b), &jws, &err);
    CHECK(at_jws_cache_admit(cache, b, strlen(b), &jws) == 0,
          "another token in the slot starts afresh");
    at_jws_parse(pool, a, strlen(a), &jws, &err);
    CHECK(at_jws_cache_admit(cache, a, strlen(a), &jws) == 0,
          "and a is forgotten");
    at_jws_parse(pool, soon, strlen(soon), &jws, &err);
    at_jws_cache_admit(cache, soon, strlen(soon), &jws);
    CHECK(at_jws_cache_admit(cache, soon, strlen(soon), &jws) == 0,
          "a token about to expire is not admitted");
}

/* Threads hammering a small cache: every hit must carry its own token's
 * claims, whatever the others evict meanwhile. */
#define CACHE_THREADS 4
#define CACHE_TOKENS 8
static at_jws_cache_t *shared_cache;
static apr_array_header_t *shared_keys;
static char *shared_tokens[CACHE_TOKENS];

static void *APR_THREAD_FUNC cache_worker(apr_thread_t *t, void *data)
{
    long wrong = 0, i;
    apr_pool_t *p;
    at_jws_t jws;
    at_error_t err;
    const at_key_t *used;

    apr_pool_create_unmanaged(&p);
    for (i = 0; i < 20000; i++) {
        int n = (int)((i * 7 + (long)data) % CACHE_TOKENS);
        const char *tok = shared_tokens[n];
        char want[16];

        snprintf(want, sizeof(want), "user%d", n);
        used = at_jws_cache_get(shared_cache, p, tok, strlen(tok),
                                shared_keys, &jws);
        if (used == NULL) {
            if (at_jws_parse(p, tok, strlen(tok), &jws, &err)
                || at_jws_verify_keys(&jws, shared_keys, &used, &err)) {
                wrong++;
                continue;
            }
            at_jws_cache_put(shared_cache, tok, strlen(tok), &jws, used);
        }
        if (strcmp(json_string_value(json_object_get(jws.claims, "sub")),
                   want) != 0
            || at_jws_verify(&jws, used, &err) != APR_SUCCESS) {
            wrong++;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    /* The count travels as the thread's exit status. */
    apr_thread_exit(t, (apr_status_t)wrong);
    return NULL;
}

static void test_cache_threads(void)
{
    at_key_t *key = make_key(AT_ALG_HS256, NULL);
    apr_thread_t *th[CACHE_THREADS];
    apr_status_t rv;
    long total = 0;
    int i;

    shared_keys = apr_array_make(pool, 1, sizeof(at_key_t *));
    APR_ARRAY_PUSH(shared_keys, at_key_t *) = key;
    for (i = 0; i < CACHE_TOKENS; i++) {
        shared_tokens[i] = token_for(key, i);
    }
    at_jws_cache_create(pool, 3, &shared_cache);
    for (i = 0; i < CACHE_THREADS; i++) {
        apr_thread_create(&th[i], NULL, cache_worker, (void *)(long)i, pool);
    }
    for (i = 0; i < CACHE_THREADS; i++) {
        apr_thread_join(&rv, th[i]);
        total += (long)rv;
    }
    CHECK(total == 0, "threads saw %ld wrong answers", total);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_alg_names();
    test_b64();
    test_b64_padded();
    test_json();
    test_rfc7520("jws/4_1.rsa_v15_signature.json", "RS256", 0);
    test_rfc7520("jws/4_2.rsa-pss_signature.json", "PS384", 1);
    test_rfc7520("jws/4_3.ecdsa_signature.json", "ES512", 0);
    test_rfc7520("jws/4_4.hmac-sha2_integrity_protection.json", "HS256", 0);
    test_rfc7520("curve25519/jws.json", "EdDSA", 0);
    test_thumbprint();
    test_round_trips();
    test_ed448();
    test_key_files();
    test_key_formats();
    test_jwks_rules();
    test_kid_selection();
    test_private_jwks();
    test_cache();
    test_cache_threads();
    test_cache_expiry();
    test_cache_admit();
    test_header_memo();
    test_hmac_long_secret();

    EVP_PKEY_free(rsa_shared);
    EVP_PKEY_free(rsa_other);
    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
