/* Client secrets and opaque tokens (see at_secret.h).
 *
 * Every value here comes from the OS CSPRNG through OpenSSL's RAND_bytes
 * and has 256 bits of entropy, so a single salted SHA-256 is enough to keep
 * a stolen registry from yielding usable secrets; a slow password hash would
 * only cap the token endpoint. Comparisons go through CRYPTO_memcmp so that
 * their time does not depend on where two values differ.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_encode.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "at_secret.h"

#define SECRET_BYTES 32
#define SALT_BYTES   16
#define HASH_BYTES   32
#define HASH_PREFIX  "s256$"

/* Base64url without padding; NULL only when the pool cannot allocate. */
static const char *b64url(apr_pool_t *p, const unsigned char *in, size_t len)
{
    return apr_pencode_base64(p, (const char *)in, (apr_ssize_t)len,
                              APR_ENCODE_BASE64URL, NULL);
}

/* SHA-256 over SALT || DATA into OUT (HASH_BYTES); 0 on failure. */
static int sha256_two(const unsigned char *salt, size_t saltlen,
                      const char *data, size_t datalen, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int outlen = 0;
    int ok;

    if (ctx == NULL) {
        return 0;
    }
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
         && (saltlen == 0 || EVP_DigestUpdate(ctx, salt, saltlen))
         && EVP_DigestUpdate(ctx, data, datalen)
         && EVP_DigestFinal_ex(ctx, out, &outlen)
         && outlen == HASH_BYTES;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Returns APR_EGENERAL when the CSPRNG cannot deliver: callers must then
 * refuse to create the secret rather than fall back to anything weaker. */
apr_status_t at_secret_generate(apr_pool_t *p, const char **secret)
{
    unsigned char raw[SECRET_BYTES];

    *secret = NULL;
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        return APR_EGENERAL;
    }
    *secret = b64url(p, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    return *secret ? APR_SUCCESS : APR_ENOMEM;
}

/* Returns the storage form, or NULL when the CSPRNG or the digest fails
 * (the caller then stores nothing). */
const char *at_secret_hash(apr_pool_t *p, const char *secret)
{
    unsigned char salt[SALT_BYTES], digest[HASH_BYTES];

    if (secret == NULL || RAND_bytes(salt, sizeof(salt)) != 1) {
        return NULL;
    }
    if (!sha256_two(salt, sizeof(salt), secret, strlen(secret), digest)) {
        return NULL;
    }
    return apr_pstrcat(p, HASH_PREFIX, b64url(p, salt, sizeof(salt)), "$",
                       b64url(p, digest, sizeof(digest)), NULL);
}

/* Decodes exactly WANT bytes of base64url from IN[0..len) into OUT. */
static int b64url_exact(const char *in, size_t len, unsigned char *out,
                        size_t want)
{
    apr_size_t got = 0;
    unsigned char buf[64];

    /* The decoded length is at most 3/4 of the input: bound it first so
     * the fixed buffer is always large enough. */
    if (len == 0 || len > 80
        || apr_decode_base64_binary(NULL, in, (apr_ssize_t)len,
                                    APR_ENCODE_BASE64URL, &got)
               != APR_SUCCESS
        || got > sizeof(buf)) {
        return 0;
    }
    if (apr_decode_base64_binary(buf, in, (apr_ssize_t)len,
                                 APR_ENCODE_BASE64URL, &got) != APR_SUCCESS
        || got != want) {
        return 0;
    }
    memcpy(out, buf, want);
    return 1;
}

/* Parses "s256$<salt>$<hash>" and compares the digests with CRYPTO_memcmp.
 * A malformed STORED never matches. The work done does not depend on the
 * secret's content, only on its length, which is public (43 characters). */
int at_secret_verify(const char *stored, const char *secret)
{
    unsigned char salt[SALT_BYTES], want[HASH_BYTES], got[HASH_BYTES];
    const char *s, *dollar;

    if (stored == NULL || secret == NULL
        || strncmp(stored, HASH_PREFIX, sizeof(HASH_PREFIX) - 1) != 0) {
        return 0;
    }
    s = stored + sizeof(HASH_PREFIX) - 1;
    dollar = strchr(s, '$');
    if (dollar == NULL
        || !b64url_exact(s, (size_t)(dollar - s), salt, sizeof(salt))
        || !b64url_exact(dollar + 1, strlen(dollar + 1), want,
                         sizeof(want))) {
        return 0;
    }
    if (!sha256_two(salt, sizeof(salt), secret, strlen(secret), got)) {
        return 0;
    }
    return CRYPTO_memcmp(got, want, sizeof(got)) == 0;
}

/* The token itself has full entropy, so no salt is needed and the hash can
 * serve as the primary key that finds the row. NULL on digest failure. */
const char *at_token_hash(apr_pool_t *p, const char *token)
{
    unsigned char digest[HASH_BYTES];

    if (token == NULL
        || !sha256_two(NULL, 0, token, strlen(token), digest)) {
        return NULL;
    }
    return b64url(p, digest, sizeof(digest));
}

/* Lengths are compared openly (they are not secret); the bytes of equal
 * length are compared with CRYPTO_memcmp. For different lengths a dummy
 * comparison of A against itself keeps the work similar. */
int at_consttime_eq(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen) {
        (void)CRYPTO_memcmp(a, a, alen);
        return 0;
    }
    return CRYPTO_memcmp(a, b, alen) == 0;
}
