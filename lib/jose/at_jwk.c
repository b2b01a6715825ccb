/* JSON Web Keys (RFC 7517, 7518 section 6, RFC 8037 for OKP): importing a
 * JWK or JWK Set into algorithm-bound keys, exporting public keys, and the
 * RFC 7638 thumbprint. Keys are built with EVP_PKEY_fromdata, so OpenSSL
 * checks the numbers (an EC point off its curve is refused). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include "at_jose_int.h"

/* JWE key-management algorithms: a key naming one is an encryption key
 * even without "use":"enc", and is skipped like one. */
static const char *const jwe_algs[] = {
    "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512",
    "A128KW", "A192KW", "A256KW", "dir", "ECDH-ES", "ECDH-ES+A128KW",
    "ECDH-ES+A192KW", "ECDH-ES+A256KW", "A128GCMKW", "A192GCMKW",
    "A256GCMKW", "PBES2-HS256+A128KW", "PBES2-HS384+A192KW",
    "PBES2-HS512+A256KW", NULL
};

/* key_ops (RFC 7517 section 4.3) that leave out "verify": the key is not
 * for checking signatures, so a verifier skips it like an "enc" key. */
static int ops_exclude_verify(json_t *ops)
{
    size_t i;
    json_t *op;

    json_array_foreach(ops, i, op) {
        if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0) {
            return 0;
        }
    }
    return 1;
}

static int is_jwe_alg(const char *alg)
{
    int i;

    for (i = 0; jwe_algs[i] != NULL; i++) {
        if (strcmp(jwe_algs[i], alg) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Member NAME of JWK decoded from base64url. Absent: APR_ENOENT and *out
 * NULL; present but not a base64url string: APR_EINVAL with err set. */
static apr_status_t jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                              const char *what, unsigned char **out,
                              size_t *len, at_error_t *err)
{
    json_t *v = json_object_get(jwk, name);

    *out = NULL;
    *len = 0;
    if (v == NULL) {
        return APR_ENOENT;
    }
    if (!json_is_string(v)
        || at_b64url_decode(p, json_string_value(v), json_string_length(v),
                            out, len) != APR_SUCCESS
        || *len == 0) {
        at_error_set(err, "%s: member \"%s\" is not base64url", what, name);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Required member as bytes, optionally of an exact length (0: any). */
static apr_status_t jwk_need(apr_pool_t *p, json_t *jwk, const char *name,
                             size_t exact, const char *what,
                             unsigned char **out, size_t *len, at_error_t *err)
{
    apr_status_t rv = jwk_bytes(p, jwk, name, what, out, len, err);

    if (rv == APR_ENOENT) {
        at_error_set(err, "%s: member \"%s\" missing", what, name);
        return APR_EINVAL;
    }
    if (rv == APR_SUCCESS && exact != 0 && *len != exact) {
        at_error_set(err, "%s: member \"%s\" must be %lu bytes", what, name,
                     (unsigned long)exact);
        return APR_EINVAL;
    }
    return rv;
}

/* Pushes member NAME as a BIGNUM parameter PARAM; BNs are kept in FREE so
 * they outlive the builder. Absent members are skipped when optional. */
static apr_status_t push_bn(apr_pool_t *p, OSSL_PARAM_BLD *bld, json_t *jwk,
                            const char *name, const char *param, int optional,
                            BIGNUM **keep, const char *what, at_error_t *err)
{
    unsigned char *b;
    size_t len;
    apr_status_t rv = jwk_bytes(p, jwk, name, what, &b, &len, err);

    if (rv == APR_ENOENT && optional) {
        return APR_SUCCESS;
    }
    if (rv == APR_ENOENT) {
        at_error_set(err, "%s: member \"%s\" missing", what, name);
        return APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *keep = BN_bin2bn(b, (int)len, NULL);
    if (*keep == NULL || !OSSL_PARAM_BLD_push_BN(bld, param, *keep)) {
        at_error_set(err, "%s: cannot use member \"%s\"", what, name);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Builds the EVP_PKEY of an RSA, EC or OKP JWK; *has_private set when the
 * JWK carries "d". */
static apr_status_t jwk_pkey(apr_pool_t *p, json_t *jwk, const char *kty,
                             const at_alg_info_t *info, const char *what,
                             EVP_PKEY **pkey, int *has_private,
                             at_error_t *err)
{
    static const char *const rsa_members[][2] = {
        {"d", OSSL_PKEY_PARAM_RSA_D},
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    };
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *bns[8] = {NULL};
    unsigned char *x, *y, *d = NULL, *pub;
    size_t xlen, ylen, dlen, i;
    const char *type, *crv;
    apr_status_t rv = APR_SUCCESS;

    *pkey = NULL;
    *has_private = json_object_get(jwk, "d") != NULL;
    if (bld == NULL) {
        return APR_ENOMEM;
    }
    if (strcmp(kty, "RSA") == 0) {
        type = "RSA";
        rv = push_bn(p, bld, jwk, "n", OSSL_PKEY_PARAM_RSA_N, 0, &bns[0],
                     what, err);
        if (rv == APR_SUCCESS) {
            rv = push_bn(p, bld, jwk, "e", OSSL_PKEY_PARAM_RSA_E, 0, &bns[1],
                         what, err);
        }
        /* Private parts: d alone, or d with all CRT members. */
        for (i = 0; rv == APR_SUCCESS && *has_private && i < 6; i++) {
            if (i > 0 && json_object_get(jwk, "p") == NULL) {
                break;
            }
            rv = push_bn(p, bld, jwk, rsa_members[i][0], rsa_members[i][1], 0,
                         &bns[2 + i], what, err);
        }
    }
    else if (strcmp(kty, "EC") == 0) {
        type = "EC";
        rv = jwk_need(p, jwk, "x", info->coord_len, what, &x, &xlen, err);
        if (rv == APR_SUCCESS) {
            rv = jwk_need(p, jwk, "y", info->coord_len, what, &y, &ylen, err);
        }
        if (rv == APR_SUCCESS) {
            /* Uncompressed SEC1 point: 0x04 || x || y. */
            pub = apr_palloc(p, 1 + xlen + ylen);
            pub[0] = 0x04;
            memcpy(pub + 1, x, xlen);
            memcpy(pub + 1 + xlen, y, ylen);
            if (!OSSL_PARAM_BLD_push_utf8_string(bld,
                                                 OSSL_PKEY_PARAM_GROUP_NAME,
                                                 info->group, 0)
                || !OSSL_PARAM_BLD_push_octet_string(bld,
                                                     OSSL_PKEY_PARAM_PUB_KEY,
                                                     pub, 1 + xlen + ylen)) {
                rv = APR_ENOMEM;
            }
        }
        if (rv == APR_SUCCESS && *has_private) {
            rv = push_bn(p, bld, jwk, "d", OSSL_PKEY_PARAM_PRIV_KEY, 0,
                         &bns[0], what, err);
        }
    }
    else {
        crv = json_string_value(json_object_get(jwk, "crv"));
        type = crv && strcmp(crv, "Ed448") == 0 ? "ED448" : "ED25519";
        xlen = strcmp(type, "ED448") == 0 ? 57 : 32;
        rv = jwk_need(p, jwk, "x", xlen, what, &x, &xlen, err);
        if (rv == APR_SUCCESS
            && !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                                 x, xlen)) {
            rv = APR_ENOMEM;
        }
        if (rv == APR_SUCCESS && *has_private) {
            rv = jwk_need(p, jwk, "d", xlen, what, &d, &dlen, err);
            if (rv == APR_SUCCESS
                && !OSSL_PARAM_BLD_push_octet_string(
                       bld, OSSL_PKEY_PARAM_PRIV_KEY, d, dlen)) {
                rv = APR_ENOMEM;
            }
        }
    }

    if (rv == APR_SUCCESS) {
        params = OSSL_PARAM_BLD_to_param(bld);
        ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
        if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
            || EVP_PKEY_fromdata(ctx, pkey,
                                 *has_private ? EVP_PKEY_KEYPAIR
                                              : EVP_PKEY_PUBLIC_KEY,
                                 params) <= 0) {
            at_error_set(err, "%s: OpenSSL refuses the key", what);
            rv = APR_EINVAL;
        }
    }
    if (rv == APR_SUCCESS && strcmp(type, "EC") == 0) {
        /* fromdata decodes the point; the full check also covers the
         * subgroup, so a point of small order cannot slip in. */
        EVP_PKEY_CTX_free(ctx);
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *pkey, NULL);
        if (ctx == NULL || EVP_PKEY_public_check(ctx) != 1) {
            at_error_set(err, "%s: EC point is not valid on %s", what,
                         info->crv);
            rv = APR_EINVAL;
        }
    }
    if (rv != APR_SUCCESS) {
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        at_ossl_clear();
    }
    if (d != NULL) {
        OPENSSL_cleanse(d, dlen);
    }
    for (i = 0; i < sizeof(bns) / sizeof(bns[0]); i++) {
        BN_clear_free(bns[i]);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rv;
}

/* The algorithm a JWK without "alg" takes: EC and OKP by curve, RSA RS256.
 * AT_ALG_UNKNOWN (err set) when there is none. */
static at_alg_t jwk_default_alg(json_t *jwk, const char *kty,
                                const char *what, at_error_t *err)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));

    if (strcmp(kty, "RSA") == 0) {
        return AT_ALG_RS256;
    }
    if (strcmp(kty, "oct") == 0) {
        at_error_set(err, "%s: an oct key needs an \"alg\" member", what);
        return AT_ALG_UNKNOWN;
    }
    if (crv == NULL) {
        at_error_set(err, "%s: member \"crv\" missing", what);
        return AT_ALG_UNKNOWN;
    }
    if (strcmp(kty, "EC") == 0) {
        if (strcmp(crv, "P-256") == 0) {
            return AT_ALG_ES256;
        }
        if (strcmp(crv, "P-384") == 0) {
            return AT_ALG_ES384;
        }
        if (strcmp(crv, "P-521") == 0) {
            return AT_ALG_ES512;
        }
    }
    else if (strcmp(kty, "OKP") == 0
             && (strcmp(crv, "Ed25519") == 0 || strcmp(crv, "Ed448") == 0)) {
        return AT_ALG_EDDSA;
    }
    at_error_set(err, "%s: curve not usable for signatures", what);
    return AT_ALG_UNKNOWN;
}

/* Does the JWK's kty (and crv) agree with ALG? */
static int jwk_fits_alg(json_t *jwk, const char *kty, const at_alg_info_t *info)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));

    switch (info->kind) {
    case AT_KIND_HMAC:
        return strcmp(kty, "oct") == 0;
    case AT_KIND_RSA:
    case AT_KIND_PSS:
        return strcmp(kty, "RSA") == 0;
    case AT_KIND_EC:
        return strcmp(kty, "EC") == 0 && crv && strcmp(crv, info->crv) == 0;
    case AT_KIND_EDDSA:
        return strcmp(kty, "OKP") == 0 && crv
               && (strcmp(crv, "Ed25519") == 0 || strcmp(crv, "Ed448") == 0);
    }
    return 0;
}

/* One JWK to a key. *out stays NULL (and APR_SUCCESS) for encryption keys,
 * which a verifier simply does not use. */
static apr_status_t jwk_to_key(apr_pool_t *p, json_t *jwk, const char *what,
                               at_key_t **out, at_error_t *err)
{
    json_t *kid = json_object_get(jwk, "kid");
    json_t *use = json_object_get(jwk, "use");
    json_t *algv = json_object_get(jwk, "alg");
    json_t *ops = json_object_get(jwk, "key_ops");
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const at_alg_info_t *info;
    at_key_t *key;
    at_alg_t alg;
    apr_status_t rv;

    *out = NULL;
    if (!json_is_object(jwk)) {
        at_error_set(err, "%s: not a JSON object", what);
        return APR_EINVAL;
    }
    if ((kid && !json_is_string(kid)) || (use && !json_is_string(use))
        || (algv && !json_is_string(algv))) {
        at_error_set(err, "%s: kid, use and alg must be strings", what);
        return APR_EINVAL;
    }
    if (ops && !json_is_array(ops)) {
        at_error_set(err, "%s: key_ops must be an array", what);
        return APR_EINVAL;
    }
    if (kid != NULL) {
        what = apr_psprintf(p, "%s (kid \"%.64s\")", what,
                            json_string_value(kid));
    }
    if ((use && strcmp(json_string_value(use), "enc") == 0)
        || (ops && ops_exclude_verify(ops))
        || (algv && is_jwe_alg(json_string_value(algv)))) {
        return APR_SUCCESS;
    }
    if (kty == NULL) {
        at_error_set(err, "%s: member \"kty\" missing", what);
        return APR_EINVAL;
    }
    if (algv != NULL) {
        alg = at_alg_from_name(json_string_value(algv));
        if (alg == AT_ALG_UNKNOWN) {
            at_error_set(err, "%s: alg \"%.32s\" not supported", what,
                         json_string_value(algv));
            return APR_EINVAL;
        }
    }
    else {
        alg = jwk_default_alg(jwk, kty, what, err);
        if (alg == AT_ALG_UNKNOWN) {
            return APR_EINVAL;
        }
    }
    info = at_alg_info(alg);
    if (!jwk_fits_alg(jwk, kty, info)) {
        at_error_set(err, "%s: kty \"%.16s\" does not fit alg %s", what, kty,
                     info->name);
        return APR_EINVAL;
    }

    key = apr_pcalloc(p, sizeof(*key));
    key->alg = alg;
    key->kid = kid ? apr_pstrdup(p, json_string_value(kid)) : NULL;
    if (info->kind == AT_KIND_HMAC) {
        unsigned char *k;
        size_t klen;

        rv = jwk_need(p, jwk, "k", 0, what, &k, &klen, err);
        key->secret = k;
        key->secret_len = klen;
    }
    else {
        rv = jwk_pkey(p, jwk, kty, info, what, &key->pkey, &key->has_private,
                      err);
        if (rv == APR_SUCCESS) {
            apr_pool_cleanup_register(p, key->pkey, at_pkey_release,
                                      apr_pool_cleanup_null);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = at_key_finish(p, key, what, err);
    }
    if (rv == APR_SUCCESS) {
        *out = key;
    }
    return rv;
}

apr_status_t at_jwks_load_json(apr_pool_t *p, const char *json, size_t len,
                               const char *source, apr_array_header_t **keys,
                               at_error_t *err)
{
    json_t *doc, *list, *jwk;
    at_key_t *key;
    const char *what;
    size_t i;
    apr_status_t rv;

    source = source ? source : "JWK Set";
    doc = at_json_parse(p, json, len, err);
    if (doc == NULL || !json_is_object(doc)) {
        at_error_set(err, "%s: not a JSON object", source);
        return APR_EINVAL;
    }
    *keys = apr_array_make(p, 4, sizeof(at_key_t *));
    list = json_object_get(doc, "keys");
    if (list == NULL && json_object_get(doc, "kty") != NULL) {
        /* A single JWK. */
        rv = jwk_to_key(p, doc, source, &key, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (key != NULL) {
            APR_ARRAY_PUSH(*keys, at_key_t *) = key;
        }
    }
    else if (!json_is_array(list)) {
        at_error_set(err, "%s: no \"keys\" array", source);
        return APR_EINVAL;
    }
    json_array_foreach(list, i, jwk) {
        what = apr_psprintf(p, "%s: key %lu", source, (unsigned long)i);
        rv = jwk_to_key(p, jwk, what, &key, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (key != NULL) {
            key->source = apr_pstrdup(p, source);
            APR_ARRAY_PUSH(*keys, at_key_t *) = key;
        }
    }
    if ((*keys)->nelts == 0) {
        at_error_set(err, "%s: no signature key", source);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t at_jwks_load_set(apr_pool_t *p, const char *json, size_t len,
                              const char *source, apr_array_header_t **keys,
                              int *skipped, at_error_t *err)
{
    at_error_t why = {{0}}, first = {{0}};
    json_t *doc, *list, *jwk;
    at_key_t *key;
    const char *what;
    size_t i;

    *skipped = 0;
    doc = at_json_parse(p, json, len, &why);
    if (doc == NULL) {
        at_error_set(err, "%s: not valid JSON (%s)", source, why.text);
        return APR_EINVAL;
    }
    list = json_object_get(doc, "keys");
    if (!json_is_object(doc) || !json_is_array(list)) {
        at_error_set(err, "%s: not a JWK Set (no \"keys\" array)", source);
        return APR_EINVAL;
    }
    *keys = apr_array_make(p, 4, sizeof(at_key_t *));
    json_array_foreach(list, i, jwk) {
        what = apr_psprintf(p, "key %lu", (unsigned long)i);
        if (jwk_to_key(p, jwk, what, &key, &why) != APR_SUCCESS) {
            /* RFC 7517 section 5: ignore the keys not understood. */
            if ((*skipped)++ == 0) {
                first = why;
            }
            continue;
        }
        if (key != NULL) {
            key->source = apr_pstrdup(p, source);
            APR_ARRAY_PUSH(*keys, at_key_t *) = key;
        }
    }
    if ((*keys)->nelts == 0) {
        if (*skipped) {
            at_error_set(err, "%s: no usable signature key; %s", source,
                         first.text);
        }
        else {
            at_error_set(err, "%s: no signature key", source);
        }
        return APR_EINVAL;
    }
    *err = first;
    return APR_SUCCESS;
}

apr_status_t at_jwks_load_file(apr_pool_t *p, const char *path,
                               apr_array_header_t **keys, at_error_t *err)
{
    char *data;
    apr_size_t len;
    apr_status_t rv = at_key_read_file(p, path, &data, &len, err);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return at_jwks_load_json(p, data, len, apr_pstrdup(p, path), keys, err);
}

/* Sets NAME in OBJ to the base64url of BYTES. */
static int set_b64(json_t *obj, const char *name, const unsigned char *bytes,
                   size_t len)
{
    apr_pool_t *tmp;
    int ok;

    if (apr_pool_create(&tmp, NULL) != APR_SUCCESS) {
        return 0;
    }
    ok = json_object_set_new(obj, name,
                             json_string(at_b64url_encode(tmp, bytes, len)))
         == 0;
    apr_pool_destroy(tmp);
    return ok;
}

/* Sets NAME to the minimal big-endian bytes of a BIGNUM parameter, or
 * padded to PAD bytes when PAD is not 0. */
static int set_bn_param(json_t *obj, const char *name, const EVP_PKEY *pkey,
                        const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n = -1;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn)
        && (size_t)BN_num_bytes(bn) <= sizeof(buf)) {
        n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    }
    BN_free(bn);
    return n > 0 && set_b64(obj, name, buf, (size_t)n);
}

/* The RFC 7638 required members of KEY's public key (kty and its key
 * parameters), or NULL for HMAC keys. */
static json_t *jwk_members(const at_key_t *key)
{
    const at_key_impl_t *impl = key->impl;
    unsigned char raw[64];
    size_t raw_len = sizeof(raw);
    json_t *o;
    int ok;

    if (impl == NULL || key->pkey == NULL) {
        return NULL;
    }
    o = json_object();
    switch (impl->info->kind) {
    case AT_KIND_RSA:
    case AT_KIND_PSS:
        ok = json_object_set_new(o, "kty", json_string("RSA")) == 0
             && set_bn_param(o, "n", key->pkey, OSSL_PKEY_PARAM_RSA_N, 0)
             && set_bn_param(o, "e", key->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        break;
    case AT_KIND_EC:
        ok = json_object_set_new(o, "kty", json_string("EC")) == 0
             && json_object_set_new(o, "crv", json_string(impl->info->crv)) == 0
             && set_bn_param(o, "x", key->pkey, OSSL_PKEY_PARAM_EC_PUB_X,
                             impl->info->coord_len)
             && set_bn_param(o, "y", key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
                             impl->info->coord_len);
        break;
    case AT_KIND_EDDSA:
        ok = json_object_set_new(o, "kty", json_string("OKP")) == 0
             && json_object_set_new(o, "crv",
                                    json_string(EVP_PKEY_is_a(key->pkey,
                                                              "ED448")
                                                    ? "Ed448"
                                                    : "Ed25519")) == 0
             && EVP_PKEY_get_raw_public_key(key->pkey, raw, &raw_len)
             && set_b64(o, "x", raw, raw_len);
        break;
    default:
        ok = 0;
    }
    if (!ok) {
        at_ossl_clear();
        json_decref(o);
        return NULL;
    }
    return o;
}

const char *at_jwk_thumbprint(apr_pool_t *p, const at_key_t *key)
{
    json_t *o = jwk_members(key);
    unsigned char md[32];
    unsigned int md_len = 0;
    char *text;
    int ok;

    if (o == NULL) {
        return NULL;
    }
    /* RFC 7638 section 3: required members only, sorted, no whitespace;
     * base64url values need no escaping, so jansson's compact form is the
     * canonical one. */
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (text == NULL) {
        return NULL;
    }
    ok = EVP_Digest(text, strlen(text), md, &md_len, EVP_sha256(), NULL);
    free(text);
    return ok ? at_b64url_encode(p, md, md_len) : NULL;
}

json_t *at_jwk_public(const at_key_t *key)
{
    json_t *o = jwk_members(key);

    if (o == NULL) {
        return NULL;
    }
    if (key->kid != NULL) {
        json_object_set_new(o, "kid", json_string(key->kid));
    }
    json_object_set_new(o, "alg", json_string(at_alg_name(key->alg)));
    json_object_set_new(o, "use", json_string("sig"));
    return o;
}
