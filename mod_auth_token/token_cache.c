/* A per-process cache of verified tokens, so that a client repeating its
 * token does not pay again for parsing it and checking its signature (an
 * ECDSA verify costs more than the whole rest of the request, and even for
 * HS256 the JSON parsing and MAC are most of what this module adds).
 *
 * A slot holds a copy of the exact token text, the key that verified it,
 * the parsed header and claims (shared read-only between requests, with
 * jansson's atomic reference counts) and the token's exp. A hit needs the
 * same bytes (compared in constant time), a key that serves the location
 * asking (the caller checks), and exp not passed; every claim check still
 * runs on every request. The table is fixed and direct-mapped, indexed by a
 * hash of the token's signature part: a new token evicts whatever shared
 * its slot, which bounds the memory. The mutex is only tried, a busy cache
 * being a miss, so no request waits for another.
 *
 * AuthTokenVerifyCache ENTRIES|Off (server config, default 1024).
 */
#include <string.h>
#include <stdlib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_thread_mutex.h"

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

#define AT_CACHE_DEFAULT_ENTRIES 1024
#define AT_CACHE_MAX_ENTRIES     (1024 * 1024)
/* Larger tokens are rare and not worth holding on to. */
#define AT_CACHE_MAX_TOKEN 4096

typedef struct slot {
    char *token; /* malloc'd copy; NULL: empty */
    size_t len;
    const at_key_t *key;
    json_t *header; /* one reference each, owned by the slot */
    json_t *claims;
    long long exp;
} slot_t;

static long configured_entries = -1; /* -1: directive not given */
static slot_t *slots;
static apr_size_t nslots;
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

static void slot_clear(slot_t *s)
{
    free(s->token);
    json_decref(s->header);
    json_decref(s->claims);
    memset(s, 0, sizeof(*s));
}

static apr_status_t cache_destroy(void *unused)
{
    apr_size_t i;

    for (i = 0; i < nslots; i++) {
        slot_clear(&slots[i]);
    }
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
    slots = apr_pcalloc(pchild, sizeof(slot_t) * (apr_size_t)n);
    nslots = (apr_size_t)n;
    apr_pool_cleanup_register(pchild, NULL, cache_destroy,
                              apr_pool_cleanup_null);
}

int at_token_cache_enabled(void)
{
    return nslots != 0;
}

/* FNV-1a over the last 32 characters: the signature, random for any
 * token that verified. A crafted collision only evicts an entry. */
static slot_t *slot_of(const char *token, size_t len)
{
    const unsigned char *c = (const unsigned char *)token;
    size_t i = len > 32 ? len - 32 : 0;
    apr_uint32_t h = 2166136261u;

    for (; i < len; i++) {
        h = (h ^ c[i]) * 16777619u;
    }
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

/* Equality of two LEN-byte strings in time independent of where they
 * differ (a cached token may be another client's), eight bytes at a time:
 * CRYPTO_memcmp's byte loop was the largest cost of a cache hit. */
static int ct_equal(const char *a, const char *b, size_t len)
{
    apr_uint64_t diff = 0, x, y;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    for (; i < len; i++) {
        diff |= (apr_uint64_t)((unsigned char)a[i] ^ (unsigned char)b[i]);
    }
    return diff == 0;
}

static apr_status_t release_json(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

const at_key_t *at_token_cache_lookup(apr_pool_t *p, const char *token,
                                      size_t len, long long now, at_jws_t *jws)
{
    const at_key_t *key = NULL;
    slot_t *s;

    if (!nslots || len > AT_CACHE_MAX_TOKEN || !cache_lock()) {
        return NULL;
    }
    s = slot_of(token, len);
    if (s->token && s->len == len && s->exp > now &&
        ct_equal(s->token, token, len)) {
        key = s->key;
        jws->header = json_incref(s->header);
        jws->claims = json_incref(s->claims);
    }
    cache_unlock();
    if (!key) {
        return NULL;
    }
    /* This request's references go with its pool, as parsed ones do. */
    apr_pool_cleanup_register(p, jws->header, release_json,
                              apr_pool_cleanup_null);
    apr_pool_cleanup_register(p, jws->claims, release_json,
                              apr_pool_cleanup_null);
    jws->alg = key->alg;
    jws->kid = json_string_value(json_object_get(jws->header, "kid"));
    jws->typ = json_string_value(json_object_get(jws->header, "typ"));
    return key;
}

void at_token_cache_store(const char *token, size_t len, const at_jws_t *jws,
                          const at_key_t *key, long long exp)
{
    slot_t *s;
    char *copy;

    if (!nslots || !key || len > AT_CACHE_MAX_TOKEN) {
        return;
    }
    /* Copy before locking: malloc is the slow part. */
    copy = malloc(len);
    if (!copy) {
        return;
    }
    memcpy(copy, token, len);
    if (!cache_lock()) {
        free(copy);
        return;
    }
    s = slot_of(token, len);
    slot_clear(s);
    s->token = copy;
    s->len = len;
    s->key = key;
    s->header = json_incref(jws->header);
    s->claims = json_incref(jws->claims);
    s->exp = exp;
    cache_unlock();
}

void at_token_cache_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(cache_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(cache_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
