/* A per-process cache of verified signatures, so that a client repeating
 * its RS/PS/ES/EdDSA token does not pay for the public-key operation on
 * every request (an ECDSA verify costs ten times the rest of the request).
 *
 * Keyed by the SHA-256 of the whole token; each slot remembers which key
 * verified it and the token's exp, so an expired token is never served from
 * here and a key of another location is never taken for one of this
 * location's. Only the signature is cached: claims are checked every time.
 * A fixed, direct-mapped table (a new token evicts whatever shared its
 * slot) bounds the memory; the mutex is only tried, a busy cache being a
 * miss, so no request thread waits for another. HMAC tokens bypass it, as
 * hashing the token costs as much as checking its MAC.
 *
 * AuthTokenVerifyCache ENTRIES|Off (server config, default 1024).
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_thread_mutex.h"
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

#define AT_CACHE_DEFAULT_ENTRIES 1024
#define AT_CACHE_MAX_ENTRIES     (1024 * 1024)

typedef struct slot {
    unsigned char digest[AT_TOKEN_DIGEST_LEN];
    const at_key_t *key; /* NULL: empty */
    long long exp;
} slot_t;

static long configured_entries = -1; /* -1: directive not given */
static slot_t *slots;
static apr_size_t nslots;
static EVP_MD *sha256; /* fetched once per process */
#if APR_HAS_THREADS
static apr_thread_mutex_t *mutex;
#endif

const char *at_set_verify_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    apr_int64_t v;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "Off")) {
        configured_entries = 0;
        return NULL;
    }
    v = apr_strtoi64(arg, &end, 10);
    if (!apr_isdigit(*arg) || *end || v < 1 || v > AT_CACHE_MAX_ENTRIES) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenVerifyCache: '%s' is neither Off nor a "
                            "number of entries from 1 to %d (default %d)",
                            arg, AT_CACHE_MAX_ENTRIES,
                            AT_CACHE_DEFAULT_ENTRIES);
    }
    configured_entries = (long)v;
    return NULL;
}

/* The DSO may survive a restart: forget the previous configuration. */
static int cache_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    configured_entries = -1;
    return OK;
}

static apr_status_t free_sha256(void *unused)
{
    EVP_MD_free(sha256);
    sha256 = NULL;
    nslots = 0;
    return APR_SUCCESS;
}

static void cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    long n =
        configured_entries < 0 ? AT_CACHE_DEFAULT_ENTRIES : configured_entries;

    slots = NULL;
    nslots = 0;
    if (n == 0) {
        return;
    }
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&mutex, APR_THREAD_MUTEX_DEFAULT, pchild) !=
        APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AT00020: no mutex for the token cache; running "
                     "without it");
        return;
    }
#endif
    /* An explicit fetch: EVP_sha256() would look the algorithm up in the
     * provider store on every digest. */
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AT00021: no SHA-256 for the token cache; running "
                     "without it");
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, free_sha256, apr_pool_cleanup_null);
    slots = apr_pcalloc(pchild, sizeof(slot_t) * (apr_size_t)n);
    nslots = (apr_size_t)n;
}

int at_token_cache_enabled(void)
{
    return nslots != 0;
}

int at_token_digest(const char *token, size_t len,
                    unsigned char digest[AT_TOKEN_DIGEST_LEN])
{
    unsigned int n = 0;

    return EVP_Digest(token, len, digest, &n, sha256, NULL) &&
           n == AT_TOKEN_DIGEST_LEN;
}

static slot_t *slot_of(const unsigned char *digest)
{
    apr_uint32_t h;

    memcpy(&h, digest, sizeof(h));
    return &slots[h % nslots];
}

static int cache_lock(void)
{
#if APR_HAS_THREADS
    return apr_thread_mutex_trylock(mutex) == APR_SUCCESS;
#else
    return 1;
#endif
}

static void cache_unlock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(mutex);
#endif
}

const at_key_t *
at_token_cache_lookup(const unsigned char digest[AT_TOKEN_DIGEST_LEN],
                      long long now)
{
    const at_key_t *key = NULL;
    slot_t *s;

    if (!nslots || !cache_lock()) {
        return NULL;
    }
    s = slot_of(digest);
    if (s->key && s->exp > now &&
        CRYPTO_memcmp(s->digest, digest, AT_TOKEN_DIGEST_LEN) == 0) {
        key = s->key;
    }
    cache_unlock();
    return key;
}

void at_token_cache_store(const unsigned char digest[AT_TOKEN_DIGEST_LEN],
                          const at_key_t *key, long long exp)
{
    slot_t *s;

    if (!nslots || !key || !cache_lock()) {
        return;
    }
    s = slot_of(digest);
    memcpy(s->digest, digest, AT_TOKEN_DIGEST_LEN);
    s->key = key;
    s->exp = exp;
    cache_unlock();
}

void at_token_cache_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(cache_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(cache_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
