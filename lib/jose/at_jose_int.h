/* Internals of the JOSE layer shared by its files (at_alg.c, at_key.c,
 * at_jwk.c, at_jws.c, at_jws_header.c, at_jose_cache.c): the per-algorithm
 * table and the per-key state precomputed at load time. Not for use
 * outside lib/jose/. */
#ifndef AT_JOSE_INT_H
#define AT_JOSE_INT_H

#include <openssl/evp.h>
#include "at_jose.h"

typedef enum {
    AT_KIND_HMAC, AT_KIND_RSA, AT_KIND_PSS, AT_KIND_EC, AT_KIND_EDDSA
} at_alg_kind_t;

typedef struct at_alg_info {
    const char *name;      /* JWS "alg" */
    at_alg_kind_t kind;
    const char *md;        /* OpenSSL digest name; NULL for EdDSA */
    size_t hash_len;       /* digest size: minimum HMAC secret, PSS salt */
    int curve_nid;         /* EC: required curve; 0 otherwise */
    const char *group;     /* EC: OpenSSL group name */
    const char *crv;       /* EC: JWK "crv" */
    size_t coord_len;      /* EC: bytes per coordinate (r and s) */
} at_alg_info_t;

/* The table row of ALG, or NULL for AT_ALG_UNKNOWN. */
const at_alg_info_t *at_alg_info(at_alg_t alg);

/* State computed once per key and then only read, so that one key may serve
 * many threads: the fetched digest and, for HMAC, the keyed halves that
 * each operation copies instead of re-keying; for asymmetric keys,
 * initialised digest-sign and digest-verify contexts. */
typedef struct at_key_impl {
    const at_alg_info_t *info;
    EVP_MD *md;            /* NULL for EdDSA */
    /* HMAC only: digest contexts that have absorbed the key XOR ipad and
     * XOR opad (RFC 2104), copied per MAC; duplicating an EVP_MAC context
     * instead cost four digest-context copies and three frees a token. */
    EVP_MD_CTX *hmac_in, *hmac_out;
    /* RSA and EC keys with a private part: a digest-sign context set up
     * once with the key, copied per signature (an EVP_DigestSignInit per
     * token fetched the signature method and digest again); NULL when it
     * could not be made, and signing then initialises afresh. */
    EVP_MD_CTX *sign_tmpl;
    /* Every asymmetric key: a digest-verify context set up once (PSS
     * parameters included), copied per token for the same reason; NULL
     * when it could not be made or copied, and verifying then initialises
     * afresh. */
    EVP_MD_CTX *verify_tmpl;
} at_key_impl_t;

/* The header memo (at_jws_header.c): on a hit, fills header, alg, kid and
 * typ of *JWS from the header segment SEG (the header's reference held
 * for the life of P) and returns 1. Put keeps a header that passed every
 * header check. */
int at_jws_header_get(apr_pool_t *p, const char *seg, size_t len,
                      at_jws_t *jws);
void at_jws_header_put(const char *seg, size_t len, const at_jws_t *jws);

/* RFC 7518 section 3.5's PSS parameters on PCTX; 1 on success. */
int at_pss_params(EVP_PKEY_CTX *pctx);

/* Checks that KEY (alg, pkey or secret already set) fits its algorithm:
 * key type, curve, RSA size, HMAC secret length; then fills key->impl.
 * Registers cleanups on P for the state it creates; releasing key->pkey
 * (at_pkey_release) is the caller's business.
 * WHAT names the key in messages (file name, "JWK 2 (kid k1)"). */
apr_status_t at_key_finish(apr_pool_t *p, at_key_t *key, const char *what,
                           at_error_t *err);

/* Reads all of PATH (a key or JWK Set file, at most 256 KiB) into pool
 * memory, NUL terminated; *len excludes the NUL. */
apr_status_t at_key_read_file(apr_pool_t *p, const char *path, char **data,
                              apr_size_t *len, at_error_t *err);

/* Pool cleanup that frees an EVP_PKEY. */
apr_status_t at_pkey_release(void *data);

/* Drops OpenSSL's queued errors after a failed call, so that a rejected
 * token does not leave noise for the next OpenSSL user on this thread. */
void at_ossl_clear(void);

#endif /* AT_JOSE_INT_H */
