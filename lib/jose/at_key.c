/* Keys bound to one algorithm (RFC 8725 section 3.1): loading from files
 * (raw HMAC secret, PEM public key, X.509 certificate, PEM private key),
 * the fit check every key passes whatever its source, and the per-key
 * state precomputed once so that verifying does as little as possible. */
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "at_jose_int.h"

/* Key files are small; anything bigger is not a key. */
#define AT_KEY_FILE_MAX (256 * 1024)
#define AT_RSA_MIN_BITS 2048

void at_ossl_clear(void)
{
    ERR_clear_error();
}

apr_status_t at_pkey_release(void *data)
{
    EVP_PKEY_free((EVP_PKEY *)data);
    return APR_SUCCESS;
}

typedef struct wipe {
    void *data;
    size_t len;
} wipe_t;

static apr_status_t wipe_release(void *data)
{
    wipe_t *w = data;

    OPENSSL_cleanse(w->data, w->len);
    return APR_SUCCESS;
}

/* Secret bytes in pool memory are overwritten when the pool goes, so a
 * reused pool block never carries an old secret around. */
static void wipe_with_pool(apr_pool_t *p, void *data, size_t len)
{
    wipe_t *w = apr_palloc(p, sizeof(*w));

    w->data = data;
    w->len = len;
    apr_pool_cleanup_register(p, w, wipe_release, apr_pool_cleanup_null);
}

static apr_status_t impl_release(void *data)
{
    at_key_impl_t *impl = data;

    EVP_MAC_CTX_free(impl->mac);
    EVP_MD_CTX_free(impl->sign_tmpl);
    EVP_MD_free(impl->md);
    return APR_SUCCESS;
}

static int pkey_has_private(const EVP_PKEY *pkey);

/* Source of at_key_t.serial: every key ever finished in this process. */
static unsigned long long key_serials;

/* IMPL's signing template for PKEY (see at_key_impl_t), when PKEY has a
 * private part; otherwise, or on any failure, none. PSS keys sign with
 * parameters set on each context, so they keep the per-call path. */
static void sign_template(at_key_impl_t *impl, EVP_PKEY *pkey)
{
    EVP_MD_CTX *mctx;

    if (impl->info->kind != AT_KIND_RSA && impl->info->kind != AT_KIND_EC) {
        return;
    }
    if (!pkey_has_private(pkey)) {
        return;
    }
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL
        || EVP_DigestSignInit(mctx, NULL, impl->md, NULL, pkey) != 1) {
        EVP_MD_CTX_free(mctx);
        at_ossl_clear();
        return;
    }
    impl->sign_tmpl = mctx;
}

/* The NID of PKEY's curve, or NID_undef. OpenSSL may report the group by
 * its SN ("prime256v1") or its NIST name ("P-256"). */
static int ec_curve_nid(const EVP_PKEY *pkey)
{
    char name[64];
    size_t len = 0;
    int nid;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        name, sizeof(name), &len)) {
        return NID_undef;
    }
    nid = OBJ_txt2nid(name);
    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(name);
    }
    return nid;
}

/* Does the asymmetric key fit INFO? Fills err with what is wrong. */
static apr_status_t pkey_fits(const EVP_PKEY *pkey, const at_alg_info_t *info,
                              const char *what, at_error_t *err)
{
    switch (info->kind) {
    case AT_KIND_RSA:
    case AT_KIND_PSS:
        if (!EVP_PKEY_is_a(pkey, "RSA")
            && !(info->kind == AT_KIND_PSS && EVP_PKEY_is_a(pkey, "RSA-PSS"))) {
            at_error_set(err, "%s: %s needs an RSA key", what, info->name);
            return APR_EINVAL;
        }
        if (EVP_PKEY_get_bits(pkey) < AT_RSA_MIN_BITS) {
            at_error_set(err, "%s: RSA key of %d bits, at least %d needed",
                         what, EVP_PKEY_get_bits(pkey), AT_RSA_MIN_BITS);
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case AT_KIND_EC:
        if (!EVP_PKEY_is_a(pkey, "EC")) {
            at_error_set(err, "%s: %s needs an EC %s key", what, info->name,
                         info->crv);
            return APR_EINVAL;
        }
        if (ec_curve_nid(pkey) != info->curve_nid) {
            at_error_set(err, "%s: %s needs a key on curve %s", what,
                         info->name, info->crv);
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    case AT_KIND_EDDSA:
        if (!EVP_PKEY_is_a(pkey, "ED25519") && !EVP_PKEY_is_a(pkey, "ED448")) {
            at_error_set(err, "%s: EdDSA needs an Ed25519 or Ed448 key", what);
            return APR_EINVAL;
        }
        return APR_SUCCESS;
    default:
        at_error_set(err, "%s: %s takes a secret, not a key pair", what,
                     info->name);
        return APR_EINVAL;
    }
}

/* Keyed HMAC context that every verify duplicates: keying costs two hash
 * blocks, a duplicate only copies state. */
static apr_status_t hmac_prepare(at_key_impl_t *impl, const at_key_t *key,
                                 const char *what, at_error_t *err)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[2];

    if (mac == NULL) {
        at_error_set(err, "%s: OpenSSL has no HMAC", what);
        return APR_EGENERAL;
    }
    impl->mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)impl->info->md, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (impl->mac == NULL
        || !EVP_MAC_init(impl->mac, key->secret, key->secret_len, params)) {
        at_ossl_clear();
        at_error_set(err, "%s: cannot set up HMAC", what);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t at_key_finish(apr_pool_t *p, at_key_t *key, const char *what,
                           at_error_t *err)
{
    const at_alg_info_t *info = at_alg_info(key->alg);
    at_key_impl_t *impl;
    apr_status_t rv;

    if (info == NULL) {
        at_error_set(err, "%s: unknown algorithm", what);
        return APR_EINVAL;
    }
    if (info->kind == AT_KIND_HMAC) {
        if (key->secret == NULL || key->pkey != NULL) {
            at_error_set(err, "%s: %s takes a secret", what, info->name);
            return APR_EINVAL;
        }
        if (key->secret_len < info->hash_len) {
            at_error_set(err, "%s: %s secret of %lu bytes, at least %lu needed",
                         what, info->name, (unsigned long)key->secret_len,
                         (unsigned long)info->hash_len);
            return APR_EINVAL;
        }
        key->has_private = 1;
    }
    else {
        if (key->pkey == NULL) {
            at_error_set(err, "%s: %s needs a public key", what, info->name);
            return APR_EINVAL;
        }
        rv = pkey_fits(key->pkey, info, what, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (key->source == NULL) {
        key->source = what;
    }
    key->serial = __atomic_add_fetch(&key_serials, 1, __ATOMIC_RELAXED);

    impl = apr_pcalloc(p, sizeof(*impl));
    impl->info = info;
    apr_pool_cleanup_register(p, impl, impl_release, apr_pool_cleanup_null);
    if (info->kind == AT_KIND_HMAC) {
        rv = hmac_prepare(impl, key, what, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    else if (info->md != NULL) {
        impl->md = EVP_MD_fetch(NULL, info->md, NULL);
        if (impl->md == NULL) {
            at_error_set(err, "%s: OpenSSL has no %s", what, info->md);
            return APR_EGENERAL;
        }
        sign_template(impl, key->pkey);
    }
    key->impl = impl;
    return APR_SUCCESS;
}

/* Reads all of PATH (at most AT_KEY_FILE_MAX bytes) into pool memory, NUL
 * terminated for convenience. */
apr_status_t at_key_read_file(apr_pool_t *p, const char *path,
                              char **data, apr_size_t *len, at_error_t *err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char buf[120];

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        at_error_set(err, "%s: cannot open (%s)", path,
                     apr_strerror(rv, buf, sizeof(buf)));
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && fi.size > AT_KEY_FILE_MAX) {
        apr_file_close(f);
        at_error_set(err, "%s: too large for a key file", path);
        return APR_EINVAL;
    }
    if (rv == APR_SUCCESS) {
        *len = (apr_size_t)fi.size;
        *data = apr_palloc(p, *len + 1);
        rv = apr_file_read_full(f, *data, *len, len);
        if (rv == APR_EOF) {
            rv = APR_SUCCESS;
        }
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        at_error_set(err, "%s: cannot read (%s)", path,
                     apr_strerror(rv, buf, sizeof(buf)));
        return rv;
    }
    (*data)[*len] = '\0';
    return APR_SUCCESS;
}

/* "RSA PUBLIC KEY" (PKCS#1), which PEM_read_bio_PUBKEY does not take. */
static EVP_PKEY *pkcs1_public_key(const char *data, apr_size_t len)
{
    const unsigned char *in = (const unsigned char *)data;
    size_t inlen = len;
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx;

    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", "type-specific", "RSA",
                                         EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx == NULL) {
        return NULL;
    }
    if (!OSSL_DECODER_from_data(dctx, &in, &inlen)) {
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

/* A public key from PEM text: SubjectPublicKeyInfo ("PUBLIC KEY"), PKCS#1
 * ("RSA PUBLIC KEY") or the key of an X.509 certificate. */
static EVP_PKEY *pem_public_key(const char *data, apr_size_t len)
{
    EVP_PKEY *pkey = NULL;
    BIO *bio;
    X509 *cert;

    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL) {
        return NULL;
    }
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (pkey == NULL) {
        (void)BIO_reset(bio);
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert != NULL) {
            pkey = X509_get_pubkey(cert);
            X509_free(cert);
        }
    }
    BIO_free(bio);
    if (pkey == NULL) {
        pkey = pkcs1_public_key(data, len);
    }
    at_ossl_clear();
    return pkey;
}

static EVP_PKEY *pem_private_key(const char *data, apr_size_t len)
{
    EVP_PKEY *pkey;
    BIO *bio = BIO_new_mem_buf(data, (int)len);

    if (bio == NULL) {
        return NULL;
    }
    /* No passphrase callback: an encrypted key fails instead of prompting
     * on the console of a daemon. */
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    BIO_free(bio);
    at_ossl_clear();
    return pkey;
}

apr_status_t at_key_load_file(apr_pool_t *p, at_alg_t alg, const char *path,
                              const char *kid, int want_private,
                              at_key_t **key, at_error_t *err)
{
    const at_alg_info_t *info = at_alg_info(alg);
    at_key_t *k;
    char *data;
    apr_size_t len;
    apr_status_t rv;

    if (info == NULL) {
        at_error_set(err, "%s: unknown algorithm", path);
        return APR_EINVAL;
    }
    rv = at_key_read_file(p, path, &data, &len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    k = apr_pcalloc(p, sizeof(*k));
    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->source = apr_pstrdup(p, path);
    if (info->kind == AT_KIND_HMAC) {
        /* Raw bytes; editors and echo add one newline that is not part of
         * the secret. */
        wipe_with_pool(p, data, len);
        if (len > 0 && data[len - 1] == '\n') {
            len--;
        }
        k->secret = (const unsigned char *)data;
        k->secret_len = len;
    }
    else if (want_private) {
        k->pkey = pem_private_key(data, len);
        OPENSSL_cleanse(data, len);
        if (k->pkey == NULL) {
            at_error_set(err, "%s: no PEM private key (unencrypted PKCS#8 or "
                         "traditional) found", path);
            return APR_EINVAL;
        }
        apr_pool_cleanup_register(p, k->pkey, at_pkey_release,
                                  apr_pool_cleanup_null);
        k->has_private = 1;
    }
    else {
        k->pkey = pem_public_key(data, len);
        if (k->pkey == NULL) {
            at_error_set(err, "%s: no PEM public key or certificate found%s",
                         path, strstr(data, "PRIVATE KEY-----")
                         ? " (it holds a private key: give the public key)"
                         : "");
            return APR_EINVAL;
        }
        apr_pool_cleanup_register(p, k->pkey, at_pkey_release,
                                  apr_pool_cleanup_null);
    }
    rv = at_key_finish(p, k, path, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *key = k;
    return APR_SUCCESS;
}

/* 1 when PKEY holds private parts (so that the key can sign). */
static int pkey_has_private(const EVP_PKEY *pkey)
{
    BIGNUM *bn = NULL;
    unsigned char raw[64];
    size_t len = sizeof(raw);
    int has;

    if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448")) {
        has = EVP_PKEY_get_raw_private_key(pkey, raw, &len) == 1;
        OPENSSL_cleanse(raw, sizeof(raw));
    }
    else {
        has = EVP_PKEY_get_bn_param(pkey, EVP_PKEY_is_a(pkey, "EC")
                                              ? OSSL_PKEY_PARAM_PRIV_KEY
                                              : OSSL_PKEY_PARAM_RSA_D,
                                    &bn) == 1;
        BN_clear_free(bn);
    }
    at_ossl_clear();
    return has;
}

apr_status_t at_key_from_pkey(apr_pool_t *p, at_alg_t alg, EVP_PKEY *pkey,
                              const char *kid, at_key_t **key,
                              at_error_t *err)
{
    at_key_t *k = apr_pcalloc(p, sizeof(*k));
    apr_status_t rv;

    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->pkey = pkey;
    k->has_private = pkey != NULL && pkey_has_private(pkey);
    /* The caller keeps PKEY until the checks pass. */
    rv = at_key_finish(p, k, "key", err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_cleanup_register(p, pkey, at_pkey_release, apr_pool_cleanup_null);
    *key = k;
    return APR_SUCCESS;
}

apr_status_t at_key_from_secret(apr_pool_t *p, at_alg_t alg,
                                const unsigned char *secret, size_t len,
                                const char *kid, at_key_t **key,
                                at_error_t *err)
{
    at_key_t *k = apr_pcalloc(p, sizeof(*k));
    apr_status_t rv;

    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    k->secret = apr_pmemdup(p, secret, len);
    k->secret_len = len;
    wipe_with_pool(p, (void *)k->secret, len);
    rv = at_key_finish(p, k, "secret", err);
    if (rv == APR_SUCCESS) {
        *key = k;
    }
    return rv;
}
