/* A per-process cache of tokens that parsed and verified, so that a client
 * repeating its token (the common case: one access token serves many
 * requests) costs neither the JSON parse nor the signature check. For HS256
 * the parse is most of the work: jansson needs several microseconds for a
 * typical claim set, the HMAC about one.
 *
 * Direct-mapped: a token's slot comes from a cheap hash of its tail (the
 * signature), a new token evicts whatever shared its slot, so memory stays
 * bounded and an attacker can at worst cause misses. A hit compares the
 * whole token in constant time, so a near-miss does not tell how near it
 * came. A slot is kept no longer than the token's exp: the caller checks
 * the claims on every use anyway, but an expired token then costs a full
 * check and is never served from here. Slots share a bounded set of
 * mutexes (slot i takes lock i mod AT_JWS_CACHE_LOCKS), only ever tried: a
 * busy lock is a miss, and no request waits for another; the bound keeps a
 * large cache from costing a mutex per slot.
 *
 * A slot remembers its key by address and serial: a hit counts only when
 * the caller's keys hold that very key, so when a fetched key set is
 * replaced, verdicts of its keys stop counting even if a new key lands at
 * a freed key's address.
 *
 * Cached JSON values are shared between threads, so they are read-only
 * from the moment at_jws_cache_put sees them (jansson's reference counts
 * are atomic, and since 2.13 it dumps without marking values). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_thread_mutex.h>
#include "at_jose_int.h"
#include "at_claims.h"

/* Bigger tokens are rare and would make the worst-case memory large. */
#define AT_JWS_CACHE_MAX_TOKEN 4096
/* Bytes of the token's end that choose its slot. */
#define AT_JWS_CACHE_HASHED 48
/* Most mutexes one cache creates: far more than threads per process. */
#define AT_JWS_CACHE_LOCKS 1024

typedef struct cache_slot {
    char *token;                /* malloc'd copy; NULL: empty */
    size_t len;
    json_t *header, *claims;    /* one reference each */
    unsigned char *sig;         /* malloc'd */
    size_t sig_len, signing_input_len;
    at_alg_t alg;
    const at_key_t *key;        /* the key that verified it: compared, */
    unsigned long long serial;  /* with its serial, never dereferenced */
    long long exp;              /* no hit from this second on */
} cache_slot_t;

struct at_jws_cache {
    cache_slot_t *slots;
    size_t nslots;
    apr_thread_mutex_t **locks;
    size_t nlocks;
};

static void slot_empty(cache_slot_t *s)
{
    free(s->token);
    free(s->sig);
    json_decref(s->header);
    json_decref(s->claims);
    s->token = NULL;
    s->sig = NULL;
    s->header = s->claims = NULL;
    s->key = NULL;
}

static apr_status_t cache_release(void *data)
{
    at_jws_cache_t *c = data;
    size_t i;

    for (i = 0; i < c->nslots; i++) {
        slot_empty(&c->slots[i]);
    }
    return APR_SUCCESS;
}

apr_status_t at_jws_cache_create(apr_pool_t *p, size_t entries,
                                 at_jws_cache_t **cache)
{
    at_jws_cache_t *c;
    apr_status_t rv;
    size_t i;

    *cache = NULL;
    if (entries == 0) {
        return APR_SUCCESS;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->slots = apr_pcalloc(p, entries * sizeof(cache_slot_t));
    c->nslots = entries;
    c->nlocks = entries < AT_JWS_CACHE_LOCKS ? entries : AT_JWS_CACHE_LOCKS;
    c->locks = apr_pcalloc(p, c->nlocks * sizeof(*c->locks));
    for (i = 0; i < c->nlocks; i++) {
        rv = apr_thread_mutex_create(&c->locks[i], APR_THREAD_MUTEX_DEFAULT,
                                     p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    apr_pool_cleanup_register(p, c, cache_release, apr_pool_cleanup_null);
    *cache = c;
    return APR_SUCCESS;
}

/* FNV-1a over the token's tail and its length: the signature alone tells
 * tokens apart, and hashing 48 bytes costs next to nothing. */
static cache_slot_t *slot_of(const at_jws_cache_t *c, const char *token,
                             size_t len)
{
    const unsigned char *s = (const unsigned char *)token;
    size_t i = len > AT_JWS_CACHE_HASHED ? len - AT_JWS_CACHE_HASHED : 0;
    unsigned long long h = 14695981039346656037ULL ^ len;

    for (; i < len; i++) {
        h = (h ^ s[i]) * 1099511628211ULL;
    }
    return &c->slots[h % c->nslots];
}

/* The mutex that guards slot S. */
static apr_thread_mutex_t *lock_of(const at_jws_cache_t *c,
                                   const cache_slot_t *s)
{
    return c->locks[(size_t)(s - c->slots) % c->nlocks];
}

/* Equality of two LEN-byte strings in time independent of where they
 * differ (a cached token may be another client's), eight bytes at a time:
 * a byte loop such as CRYPTO_memcmp's was the largest cost of a hit. */
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

/* The token's exp; none that is a number (the claim checks refuse such a
 * token on their own) sets no limit here. */
static long long exp_of(json_t *claims)
{
    json_t *v = json_object_get(claims, "exp");

    return json_is_number(v) ? at_claim_seconds(v) : LLONG_MAX;
}

static long long now_sec(void)
{
    return (long long)apr_time_sec(apr_time_now());
}

typedef struct held_json {
    json_t *header, *claims;
} held_json_t;

static apr_status_t held_release(void *data)
{
    held_json_t *h = data;

    json_decref(h->header);
    json_decref(h->claims);
    return APR_SUCCESS;
}

/* 1 when one of SETS holds KEY itself (a live key of that address with
 * that serial). Only the live keys are dereferenced. */
static int holds_key(const apr_array_header_t *const *sets, int nsets,
                     const at_key_t *key, unsigned long long serial)
{
    const at_key_t *k;
    int s, i;

    for (s = 0; s < nsets; s++) {
        for (i = 0; sets[s] != NULL && i < sets[s]->nelts; i++) {
            k = APR_ARRAY_IDX(sets[s], i, const at_key_t *);
            if (k == key) {
                return k->serial == serial;
            }
        }
    }
    return 0;
}

const at_key_t *at_jws_cache_get(at_jws_cache_t *cache, apr_pool_t *p,
                                 const char *token, size_t len,
                                 const apr_array_header_t *keys,
                                 at_jws_t *jws)
{
    return at_jws_cache_get_sets(cache, p, token, len, &keys, 1, jws);
}

const at_key_t *at_jws_cache_get_sets(at_jws_cache_t *cache, apr_pool_t *p,
                                      const char *token, size_t len,
                                      const apr_array_header_t *const *sets,
                                      int nsets, at_jws_t *jws)
{
    cache_slot_t *s;
    apr_thread_mutex_t *lock;
    held_json_t *held;
    const at_key_t *key = NULL;
    unsigned char *sig = NULL;
    size_t si_len = 0, sig_len = 0;
    unsigned long long serial = 0;
    at_alg_t alg = AT_ALG_UNKNOWN;

    if (cache == NULL || len == 0 || len > AT_JWS_CACHE_MAX_TOKEN) {
        return NULL;
    }
    s = slot_of(cache, token, len);
    lock = lock_of(cache, s);
    if (apr_thread_mutex_trylock(lock) != APR_SUCCESS) {
        return NULL;
    }
    if (s->token != NULL && s->len == len && s->exp > now_sec()
        && ct_equal(s->token, token, len)) {
        key = s->key;
        serial = s->serial;
        held = apr_palloc(p, sizeof(*held));
        held->header = json_incref(s->header);
        held->claims = json_incref(s->claims);
        sig = apr_pmemdup(p, s->sig, s->sig_len);
        sig_len = s->sig_len;
        alg = s->alg;
        si_len = s->signing_input_len;
    }
    apr_thread_mutex_unlock(lock);
    if (key == NULL) {
        return NULL;
    }
    apr_pool_cleanup_register(p, held, held_release, apr_pool_cleanup_null);
    if (!holds_key(sets, nsets, key, serial)) {
        /* Verified with a key of another location, or of a key set since
         * replaced: not ours to trust. */
        return NULL;
    }
    memset(jws, 0, sizeof(*jws));
    jws->alg = alg;
    jws->header = held->header;
    jws->claims = held->claims;
    jws->kid = json_string_value(json_object_get(jws->header, "kid"));
    jws->typ = json_string_value(json_object_get(jws->header, "typ"));
    jws->sig = sig;
    jws->sig_len = sig_len;
    jws->signing_input_len = si_len;
    jws->signing_input = apr_pstrmemdup(p, token, si_len);
    return key;
}

void at_jws_cache_put(at_jws_cache_t *cache, const char *token, size_t len,
                      const at_jws_t *jws, const at_key_t *key)
{
    cache_slot_t *s;
    apr_thread_mutex_t *lock;
    char *copy;
    unsigned char *sig;
    long long exp;

    if (cache == NULL || key == NULL || jws->header == NULL
        || jws->claims == NULL || len == 0 || len > AT_JWS_CACHE_MAX_TOKEN) {
        return;
    }
    exp = exp_of(jws->claims);
    if (exp <= now_sec()) {
        return;
    }
    copy = malloc(len);
    sig = malloc(jws->sig_len ? jws->sig_len : 1);
    if (copy == NULL || sig == NULL) {
        free(copy);
        free(sig);
        return;
    }
    memcpy(copy, token, len);
    memcpy(sig, jws->sig, jws->sig_len);
    s = slot_of(cache, token, len);
    lock = lock_of(cache, s);
    if (apr_thread_mutex_trylock(lock) != APR_SUCCESS) {
        free(copy);
        free(sig);
        return;
    }
    slot_empty(s);
    s->token = copy;
    s->len = len;
    s->sig = sig;
    s->sig_len = jws->sig_len;
    s->signing_input_len = jws->signing_input_len;
    s->alg = jws->alg;
    s->header = json_incref(jws->header);
    s->claims = json_incref(jws->claims);
    s->key = key;
    s->serial = key->serial;
    s->exp = exp;
    apr_thread_mutex_unlock(lock);
}
