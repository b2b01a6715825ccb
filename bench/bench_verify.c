/* In-process validation benchmark (issue 2, item 7a): validations per
 * second for HS256, RS256, ES256 and EdDSA, the full path the module takes
 * per request (at_jws_parse, at_jws_verify_keys, at_claims_check,
 * at_scopes_hold) beside the bare OpenSSL verification of the same
 * signature over the same signing input, measured in the same run.
 * Each case runs for a fixed time (default 1 s; first argument overrides);
 * further arguments pick algorithms (for profiling one of them).
 *   make bench && bench/bench_verify [seconds [alg...]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "at_claims.h"

/* bench_case_t initialisers name only the first fields. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static double seconds = 1.0;

typedef struct bench_case {
    const char *name;
    at_alg_t alg;
    at_key_t *key;
    apr_array_header_t *keys;   /* what the module would hold */
    char *token;
    at_jws_t jws;               /* parsed once, for the bare loops */
    unsigned char *der;         /* ES256: the signature as EVP takes it */
    size_t der_len;
} bench_case_t;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*bench_fn)(bench_case_t *, apr_pool_t *);

/* Calls per second of each of FNS, measured in ROUNDS interleaved slices
 * so that a change of machine load during the run hits all of them alike.
 * Exits when a call fails, so a broken path cannot look fast. */
#define ROUNDS 8
static void rates(bench_fn *fns, int nfns, bench_case_t *c, apr_pool_t *p,
                  double *out)
{
    double spent[8] = {0}, start, t;
    long calls[8] = {0};
    int r, f, i;

    for (r = 0; r < ROUNDS; r++) {
        for (f = 0; f < nfns; f++) {
            start = now_s();
            do {
                for (i = 0; i < 32; i++) {
                    if (!fns[f](c, p)) {
                        fprintf(stderr, "%s: a validation failed\n",
                                c->name);
                        exit(1);
                    }
                    apr_pool_clear(p);
                }
                calls[f] += 32;
                t = now_s();
            } while (t - start < seconds / ROUNDS);
            spent[f] += t - start;
        }
    }
    for (f = 0; f < nfns; f++) {
        out[f] = (double)calls[f] / spent[f];
    }
}

static at_claim_rules_t rules;
static apr_array_header_t *scopes;

static int full_validation(bench_case_t *c, apr_pool_t *p)
{
    at_jws_t jws;
    at_error_t err;

    return at_jws_parse(p, c->token, strlen(c->token), &jws, &err)
               == APR_SUCCESS
           && at_jws_verify_keys(&jws, c->keys, NULL, &err) == APR_SUCCESS
           && at_claims_check(&jws, &rules, (long long)time(NULL), &err)
                  == APR_SUCCESS
           && at_scopes_hold(jws.claims, scopes);
}

static at_jws_cache_t *cache;

/* The same with the parse/verify cache: a client repeating its token. */
static int cached_validation(bench_case_t *c, apr_pool_t *p)
{
    at_jws_t jws;
    at_error_t err;
    const at_key_t *used;
    size_t len = strlen(c->token);

    used = at_jws_cache_get(cache, p, c->token, len, c->keys, &jws);
    if (used == NULL) {
        if (at_jws_parse(p, c->token, len, &jws, &err) != APR_SUCCESS
            || at_jws_verify_keys(&jws, c->keys, &used, &err)
                   != APR_SUCCESS) {
            return 0;
        }
        at_jws_cache_put(cache, c->token, len, &jws, used);
    }
    return at_claims_check(&jws, &rules, (long long)time(NULL), &err)
               == APR_SUCCESS
           && at_scopes_hold(jws.claims, scopes);
}

static const unsigned char *hmac_secret;

/* HMAC() (EVP_Q_mac underneath) over the signing input, compared in
 * constant time: what a straightforward verifier does. */
static int bare_hmac(bench_case_t *c, apr_pool_t *p)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    return HMAC(EVP_sha256(), hmac_secret, 32,
                (const unsigned char *)c->jws.signing_input,
                c->jws.signing_input_len, mac, &len) != NULL
           && len == c->jws.sig_len
           && CRYPTO_memcmp(mac, c->jws.sig, len) == 0;
}

static EVP_MAC_CTX *hmac_keyed;

/* The floor for HMAC: a pre-keyed context duplicated per call, which is
 * what the library itself does. */
static int bare_hmac_prekeyed(bench_case_t *c, apr_pool_t *p)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(hmac_keyed);
    int ok = ctx && EVP_MAC_update(ctx, (const unsigned char *)
                                            c->jws.signing_input,
                                   c->jws.signing_input_len)
             && EVP_MAC_final(ctx, mac, &len, sizeof(mac))
             && len == c->jws.sig_len
             && CRYPTO_memcmp(mac, c->jws.sig, len) == 0;

    EVP_MAC_CTX_free(ctx);
    return ok;
}

/* EVP_DigestVerify of the same signature (DER for ECDSA). */
static int bare_pkey(bench_case_t *c, apr_pool_t *p)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    const unsigned char *sig = c->der ? c->der : c->jws.sig;
    size_t sig_len = c->der ? c->der_len : c->jws.sig_len;
    int ok = m
             && EVP_DigestVerifyInit(m, NULL,
                                     c->alg == AT_ALG_EDDSA ? NULL
                                                            : EVP_sha256(),
                                     NULL, c->key->pkey) == 1
             && EVP_DigestVerify(m, sig, sig_len,
                                 (const unsigned char *)c->jws.signing_input,
                                 c->jws.signing_input_len) == 1;

    EVP_MD_CTX_free(m);
    return ok;
}

static void die(const char *what, const at_error_t *err)
{
    fprintf(stderr, "%s: %s\n", what, err ? err->text : "");
    exit(1);
}

/* Key, a typical RFC 9068 access token, and the parsed form. */
static void setup(apr_pool_t *p, bench_case_t *c)
{
    static unsigned char secret[32];
    at_error_t err;
    EVP_PKEY *pk = NULL;
    json_t *claims, *header;
    at_key_t *decoy;

    if (c->alg == AT_ALG_HS256) {
        RAND_bytes(secret, sizeof(secret));
        hmac_secret = secret;
        if (at_key_from_secret(p, c->alg, secret, sizeof(secret), "k1",
                               &c->key, &err)) {
            die("secret", &err);
        }
    }
    else {
        pk = c->alg == AT_ALG_RS256 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
                                                        (size_t)2048)
             : c->alg == AT_ALG_ES256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC",
                                                          "P-256")
             : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (pk == NULL || at_key_from_pkey(p, c->alg, pk, "k1", &c->key,
                                           &err)) {
            die("keygen", &err);
        }
    }
    /* A second key of the same algorithm with another kid, as during a
     * rotation, so that selection by kid is part of the measurement. */
    if (at_key_from_secret(p, AT_ALG_HS256, secret, sizeof(secret), "old",
                           &decoy, &err)) {
        die("decoy", &err);
    }
    c->keys = apr_array_make(p, 2, sizeof(at_key_t *));
    APR_ARRAY_PUSH(c->keys, at_key_t *) = decoy;
    APR_ARRAY_PUSH(c->keys, at_key_t *) = c->key;

    header = json_pack("{s:s}", "typ", "at+jwt");
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "iss",
                       "https://auth.example.com", "sub", "client-4711",
                       "aud", "orders-api", "exp",
                       (json_int_t)time(NULL) + 3600, "iat",
                       (json_int_t)time(NULL), "jti",
                       "0f8c1a4e-5b7d-4a36-9c3e-2d1f6b8a9e70", "client_id",
                       "client-4711", "scope", "orders:read orders:write");
    if (at_jws_sign(p, c->key, header, claims, &c->token, &err)
        || at_jws_parse(p, c->token, strlen(c->token), &c->jws, &err)) {
        die("sign", &err);
    }
    json_decref(header);
    json_decref(claims);
    if (c->alg == AT_ALG_ES256) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *o;

        ECDSA_SIG_set0(es, BN_bin2bn(c->jws.sig, 32, NULL),
                       BN_bin2bn(c->jws.sig + 32, 32, NULL));
        c->der_len = (size_t)i2d_ECDSA_SIG(es, NULL);
        c->der = o = apr_palloc(p, c->der_len);
        i2d_ECDSA_SIG(es, &o);
        ECDSA_SIG_free(es);
    }
}

int main(int argc, char **argv)
{
    bench_case_t cases[] = {
        {"HS256", AT_ALG_HS256, NULL}, {"RS256", AT_ALG_RS256, NULL},
        {"ES256", AT_ALG_ES256, NULL}, {"EdDSA", AT_ALG_EDDSA, NULL},
    };
    apr_pool_t *p, *scratch;
    apr_array_header_t *iss, *aud;
    double r[4];
    bench_fn fns[4];
    OSSL_PARAM params[2];
    EVP_MAC *mac = NULL;
    size_t i;
    int a, wanted;

    if (argc > 1) {
        seconds = atof(argv[1]);
    }
    if (seconds <= 0) {
        seconds = 1.0;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&scratch, p);

    iss = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(iss, const char *) = "https://auth.example.com";
    aud = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(aud, const char *) = "orders-api";
    scopes = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(scopes, const char *) = "orders:read";
    rules.issuers = iss;
    rules.audiences = aud;
    rules.leeway = 30;
    rules.user_claim = "sub";

    /* As an httpd child has them: the header memo and the cache. */
    at_jws_header_memo_create(p);
    if (at_jws_cache_create(p, 1024, &cache) != APR_SUCCESS) {
        fprintf(stderr, "cannot create the cache\n");
        return 1;
    }
    printf("%-6s %5s %12s %12s %12s %7s %7s\n", "alg", "bytes", "full/s",
           "cached/s", "bare/s", "full/b", "cache/b");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bench_case_t *c = &cases[i];

        for (a = 2, wanted = argc <= 2; a < argc; a++) {
            wanted = wanted || strcmp(argv[a], c->name) == 0;
        }
        if (!wanted) {
            continue;
        }
        setup(p, c);
        fns[0] = full_validation;
        fns[1] = cached_validation;
        fns[2] = c->alg == AT_ALG_HS256 ? bare_hmac : bare_pkey;
        fns[3] = bare_hmac_prekeyed;
        if (c->alg == AT_ALG_HS256) {
            mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
            hmac_keyed = EVP_MAC_CTX_new(mac);
            params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256",
                                                         0);
            params[1] = OSSL_PARAM_construct_end();
            EVP_MAC_init(hmac_keyed, hmac_secret, 32, params);
        }
        rates(fns, c->alg == AT_ALG_HS256 ? 4 : 3, c, scratch, r);
        printf("%-6s %5lu %12.0f %12.0f %12.0f %7.2f %7.2f\n", c->name,
               (unsigned long)strlen(c->token), r[0], r[1], r[2],
               r[0] / r[2], r[1] / r[2]);
        if (c->alg == AT_ALG_HS256) {
            printf("%-6s %5s %12s %12s %12.0f %7.2f %7.2f  (bare = "
                   "pre-keyed EVP_MAC_CTX_dup)\n", "HS256", "", "", "",
                   r[3], r[0] / r[3], r[1] / r[3]);
            EVP_MAC_CTX_free(hmac_keyed);
            EVP_MAC_free(mac);
        }
    }
    printf("full   = at_jws_parse + at_jws_verify_keys (2 keys) + "
           "at_claims_check (iss, aud, exp/iat, sub) + at_scopes_hold\n"
           "cached = the same with at_jws_cache_get/put (a repeated token: "
           "claims still checked)\n"
           "bare   = HMAC() / EVP_DigestVerify of the same signature; "
           "%.1f s per measurement, in %d interleaved slices\n", seconds,
           ROUNDS);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
