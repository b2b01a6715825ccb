/* JWS compact serialisation (RFC 7515): strict parsing, verification with
 * keys bound to one algorithm, and signing. All cryptography goes through
 * OpenSSL 3 EVP; the only format work done here is ECDSA's raw r||s <-> DER
 * conversion (RFC 7518 section 3.4), via ECDSA_SIG. */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include "at_jose_int.h"

/* Largest DER ECDSA signature (P-521): two 67-byte INTEGERs plus headers. */
#define AT_ECDSA_DER_MAX 160

/* Decodes one segment of a token into a JSON object; WHAT names the
 * segment in messages. CLAIMS: the payload, whose strings may hold NUL. */
static json_t *segment_json(apr_pool_t *p, const char *seg, size_t len,
                            const char *what, int claims, at_error_t *err)
{
    unsigned char *raw;
    size_t raw_len;
    json_t *v;

    if (at_b64url_decode(p, seg, len, &raw, &raw_len) != APR_SUCCESS) {
        at_error_set(err, "%s is not base64url", what);
        return NULL;
    }
    v = claims ? at_json_parse_claims(p, (const char *)raw, raw_len, err)
               : at_json_parse(p, (const char *)raw, raw_len, err);
    if (v == NULL) {
        char why[sizeof(err->text)];

        /* at_json_parse's reason, with the segment named. */
        snprintf(why, sizeof(why), "%s", err ? err->text : "");
        at_error_set(err, "%s: %s", what, why);
        return NULL;
    }
    if (!json_is_object(v)) {
        at_error_set(err, "%s is not a JSON object", what);
        return NULL;
    }
    return v;
}

/* Optional string header member: NULL when absent, error when not a
 * string. */
static apr_status_t header_string(json_t *header, const char *name,
                                  const char **out, at_error_t *err)
{
    json_t *v = json_object_get(header, name);

    *out = NULL;
    if (v == NULL) {
        return APR_SUCCESS;
    }
    if (!json_is_string(v)) {
        at_error_set(err, "header %s is not a string", name);
        return APR_EINVAL;
    }
    *out = json_string_value(v);
    return APR_SUCCESS;
}

/* The parse behind at_jws_parse and at_jws_parse_opaque: when
 * PAYLOAD_JSON is 0 the payload is only base64url-checked. */
static apr_status_t jws_parse(apr_pool_t *p, const char *token, size_t len,
                              int payload_json, at_jws_t *jws, at_error_t *err)
{
    const char *dot1, *dot2, *end = token + len;
    unsigned char *raw;
    size_t raw_len;
    json_t *alg;

    memset(jws, 0, sizeof(*jws));
    if (len == 0) {
        at_error_set(err, "empty token");
        return APR_EINVAL;
    }
    if (len > AT_JWS_MAX_LEN) {
        at_error_set(err, "token longer than %d bytes", AT_JWS_MAX_LEN);
        return APR_EINVAL;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1))) {
        at_error_set(err, "token is not three dot-separated segments");
        return APR_EINVAL;
    }
    if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == end) {
        at_error_set(err, "token has an empty segment");
        return APR_EINVAL;
    }

    jws->header = segment_json(p, token, (size_t)(dot1 - token), "header",
                               0, err);
    if (jws->header == NULL) {
        return APR_EINVAL;
    }
    alg = json_object_get(jws->header, "alg");
    if (!json_is_string(alg)) {
        at_error_set(err, "header alg missing or not a string");
        return APR_EINVAL;
    }
    jws->alg = at_alg_from_name(json_string_value(alg));
    if (jws->alg == AT_ALG_UNKNOWN) {
        at_error_set(err, "alg not supported");
        return APR_EINVAL;
    }
    /* We implement no extension, so any "crit" is one we do not know
     * (RFC 7515 section 4.1.11). */
    if (json_object_get(jws->header, "crit") != NULL) {
        at_error_set(err, "crit header not supported");
        return APR_EINVAL;
    }
    if (header_string(jws->header, "kid", &jws->kid, err) != APR_SUCCESS
        || header_string(jws->header, "typ", &jws->typ, err) != APR_SUCCESS) {
        return APR_EINVAL;
    }

    if (payload_json) {
        jws->claims = segment_json(p, dot1 + 1, (size_t)(dot2 - dot1 - 1),
                                   "payload", 1, err);
        if (jws->claims == NULL) {
            return APR_EINVAL;
        }
    }
    else if (at_b64url_decode(p, dot1 + 1, (size_t)(dot2 - dot1 - 1), &raw,
                              &raw_len) != APR_SUCCESS) {
        at_error_set(err, "payload is not base64url");
        return APR_EINVAL;
    }

    if (at_b64url_decode(p, dot2 + 1, (size_t)(end - dot2 - 1), &jws->sig,
                         &jws->sig_len) != APR_SUCCESS) {
        at_error_set(err, "signature is not base64url");
        return APR_EINVAL;
    }
    jws->signing_input_len = (size_t)(dot2 - token);
    jws->signing_input = apr_pstrmemdup(p, token, jws->signing_input_len);
    return APR_SUCCESS;
}

apr_status_t at_jws_parse(apr_pool_t *p, const char *token, size_t len,
                          at_jws_t *jws, at_error_t *err)
{
    return jws_parse(p, token, len, 1, jws, err);
}

apr_status_t at_jws_parse_opaque(apr_pool_t *p, const char *token, size_t len,
                                 at_jws_t *jws, at_error_t *err)
{
    return jws_parse(p, token, len, 0, jws, err);
}

/* HMAC of DATA with the key's pre-keyed context; OUT holds EVP_MAX_MD_SIZE. */
static int hmac_compute(const at_key_impl_t *impl, const void *data,
                        size_t len, unsigned char *out, size_t *outlen)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(impl->mac);
    int ok;

    if (ctx == NULL) {
        return 0;
    }
    ok = EVP_MAC_update(ctx, data, len)
         && EVP_MAC_final(ctx, out, outlen, EVP_MAX_MD_SIZE);
    EVP_MAC_CTX_free(ctx);
    return ok;
}

/* RFC 7518 section 3.5: salt as long as the hash, MGF1 with the same hash. */
static int pss_params(EVP_PKEY_CTX *pctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
           && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
                  > 0;
}

/* Raw r||s (each exactly coord_len bytes) to DER. Returns the DER length,
 * 0 when the signature cannot be valid (wrong size, r or s zero). */
static size_t ecdsa_raw_to_der(const unsigned char *sig, size_t sig_len,
                               size_t coord_len, unsigned char *der)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *o = der;
    int n;

    if (sig_len != 2 * coord_len) {
        return 0;
    }
    r = BN_bin2bn(sig, (int)coord_len, NULL);
    s = BN_bin2bn(sig + coord_len, (int)coord_len, NULL);
    es = ECDSA_SIG_new();
    if (r == NULL || s == NULL || es == NULL || BN_is_zero(r) || BN_is_zero(s)
        || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return 0;
    }
    n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0 || n > AT_ECDSA_DER_MAX) {
        n = 0;
    }
    else {
        n = i2d_ECDSA_SIG(es, &o);
    }
    ECDSA_SIG_free(es);
    return n > 0 ? (size_t)n : 0;
}

/* DER (as EVP produces it) to raw r||s of 2 * coord_len bytes. */
static int ecdsa_der_to_raw(const unsigned char *der, size_t der_len,
                            size_t coord_len, unsigned char *raw)
{
    const unsigned char *in = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &in, (long)der_len);
    const BIGNUM *r, *s;
    int ok;

    if (es == NULL) {
        return 0;
    }
    ECDSA_SIG_get0(es, &r, &s);
    ok = BN_bn2binpad(r, raw, (int)coord_len) == (int)coord_len
         && BN_bn2binpad(s, raw + coord_len, (int)coord_len) == (int)coord_len;
    ECDSA_SIG_free(es);
    return ok;
}

/* Asymmetric verification of SIG over DATA with KEY. */
static int pkey_verify(const at_key_t *key, const at_key_impl_t *impl,
                       const void *data, size_t len, const unsigned char *sig,
                       size_t sig_len)
{
    unsigned char der[AT_ECDSA_DER_MAX];
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;

    if (impl->info->kind == AT_KIND_EC) {
        sig_len = ecdsa_raw_to_der(sig, sig_len, impl->info->coord_len, der);
        if (sig_len == 0) {
            return 0;
        }
        sig = der;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        return 0;
    }
    if (EVP_DigestVerifyInit(mctx, &pctx, impl->md, NULL, key->pkey) == 1
        && (impl->info->kind != AT_KIND_PSS || pss_params(pctx))) {
        ok = EVP_DigestVerify(mctx, sig, sig_len, data, len) == 1;
    }
    EVP_MD_CTX_free(mctx);
    return ok;
}

apr_status_t at_jws_verify(const at_jws_t *jws, const at_key_t *key,
                           at_error_t *err)
{
    const at_key_impl_t *impl = key->impl;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    int ok;

    if (impl == NULL || key->alg != jws->alg) {
        at_error_set(err, "alg does not match the key");
        return APR_EINVAL;
    }
    if (key->kid != NULL && (jws->kid == NULL || strcmp(key->kid, jws->kid))) {
        at_error_set(err, "kid does not match the key");
        return APR_EINVAL;
    }
    if (impl->info->kind == AT_KIND_HMAC) {
        /* The length is public (it follows from alg); the bytes are
         * compared in constant time. */
        ok = jws->sig_len == impl->info->hash_len
             && hmac_compute(impl, jws->signing_input, jws->signing_input_len,
                             mac, &mac_len)
             && mac_len == jws->sig_len
             && CRYPTO_memcmp(mac, jws->sig, mac_len) == 0;
        OPENSSL_cleanse(mac, sizeof(mac));
    }
    else {
        ok = pkey_verify(key, impl, jws->signing_input,
                         jws->signing_input_len, jws->sig, jws->sig_len);
    }
    if (!ok) {
        at_ossl_clear();
        at_error_set(err, "signature does not verify");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t at_jws_verify_keys(const at_jws_t *jws,
                                const apr_array_header_t *keys,
                                const at_key_t **used, at_error_t *err)
{
    const at_key_t *key;
    int i, tried = 0;

    for (i = 0; keys != NULL && i < keys->nelts; i++) {
        key = APR_ARRAY_IDX(keys, i, const at_key_t *);
        if (key->alg != jws->alg) {
            continue;
        }
        /* A key with a kid serves only tokens carrying that kid; a key
         * without one serves any token of its algorithm. */
        if (key->kid != NULL
            && (jws->kid == NULL || strcmp(key->kid, jws->kid) != 0)) {
            continue;
        }
        tried++;
        if (at_jws_verify(jws, key, NULL) == APR_SUCCESS) {
            if (used != NULL) {
                *used = key;
            }
            return APR_SUCCESS;
        }
    }
    if (tried == 0) {
        at_error_set(err, jws->kid ? "no key for this kid and alg"
                                   : "no key for this alg");
        return APR_ENOENT;
    }
    else {
        at_error_set(err, "signature does not verify");
    }
    return APR_EINVAL;
}

/* Signature over DATA; *sig allocated from P. */
static apr_status_t compute_signature(apr_pool_t *p, const at_key_t *key,
                                      const char *data, size_t len,
                                      unsigned char **sig, size_t *sig_len,
                                      at_error_t *err)
{
    const at_key_impl_t *impl = key->impl;
    EVP_MD_CTX *mctx;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *buf = NULL;
    size_t buf_len = 0;
    int ok = 0;

    if (impl->info->kind == AT_KIND_HMAC) {
        *sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        if (!hmac_compute(impl, data, len, *sig, sig_len)) {
            at_ossl_clear();
            at_error_set(err, "HMAC failed");
            return APR_EGENERAL;
        }
        return APR_SUCCESS;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx != NULL
        && (impl->sign_tmpl != NULL
                ? EVP_MD_CTX_copy_ex(mctx, impl->sign_tmpl) == 1
                : (EVP_DigestSignInit(mctx, &pctx, impl->md, NULL,
                                      key->pkey) == 1
                   && (impl->info->kind != AT_KIND_PSS || pss_params(pctx))))
        && EVP_DigestSign(mctx, NULL, &buf_len, (const unsigned char *)data,
                          len) == 1) {
        /* The context is used once: the final step need not work on a
         * copy of it. */
        EVP_MD_CTX_set_flags(mctx, EVP_MD_CTX_FLAG_FINALISE);
        buf = apr_palloc(p, buf_len);
        ok = EVP_DigestSign(mctx, buf, &buf_len, (const unsigned char *)data,
                            len) == 1;
    }
    EVP_MD_CTX_free(mctx);
    if (ok && impl->info->kind == AT_KIND_EC) {
        *sig_len = 2 * impl->info->coord_len;
        *sig = apr_palloc(p, *sig_len);
        ok = ecdsa_der_to_raw(buf, buf_len, impl->info->coord_len, *sig);
    }
    else if (ok) {
        *sig = buf;
        *sig_len = buf_len;
    }
    if (!ok) {
        at_ossl_clear();
        at_error_set(err, "%s signing failed", impl->info->name);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Compact JSON text of V, base64url-encoded, in P. */
static char *json_b64(apr_pool_t *p, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    char *out;

    if (text == NULL) {
        return NULL;
    }
    out = at_b64url_encode(p, (const unsigned char *)text, strlen(text));
    free(text);
    return out;
}

apr_status_t at_jws_sign(apr_pool_t *p, const at_key_t *key, json_t *header,
                         json_t *claims, char **token, at_error_t *err)
{
    json_t *h;
    char *h64, *c64, *input;
    unsigned char *sig;
    size_t sig_len;
    apr_status_t rv;

    if (key->impl == NULL || (!key->has_private && !at_alg_is_hmac(key->alg))) {
        at_error_set(err, "key cannot sign");
        return APR_EINVAL;
    }
    if (!json_is_object(claims)) {
        at_error_set(err, "claims are not a JSON object");
        return APR_EINVAL;
    }
    h = header ? json_copy(header) : json_object();
    if (h == NULL || !json_is_object(h)) {
        json_decref(h);
        at_error_set(err, "header is not a JSON object");
        return APR_EINVAL;
    }
    json_object_set_new(h, "alg", json_string(at_alg_name(key->alg)));
    if (key->kid != NULL) {
        json_object_set_new(h, "kid", json_string(key->kid));
    }
    h64 = json_b64(p, h);
    json_decref(h);
    c64 = json_b64(p, claims);
    if (h64 == NULL || c64 == NULL) {
        at_error_set(err, "cannot serialise token JSON");
        return APR_EGENERAL;
    }
    input = apr_pstrcat(p, h64, ".", c64, NULL);
    rv = compute_signature(p, key, input, strlen(input), &sig, &sig_len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *token = apr_pstrcat(p, input, ".", at_b64url_encode(p, sig, sig_len),
                         NULL);
    return APR_SUCCESS;
}
