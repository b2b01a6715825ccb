/* CSRF tokens of the pages a person posts (the consent decision, "Revoke
 * access"): "<time>.<HMAC-SHA256>" over what the token is for, the person
 * and the request it was made for, so that a decision without one, from
 * another person or for another request changes nothing.
 *
 * The key is a secret kept in the registry (at_registry_secret_key): the
 * same for every process and every node sharing the registry, and across
 * restarts, so a page shown before a graceful restart still works. Each
 * process reads it once.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "httpd.h"
#include "http_log.h"
#include "apr_escape.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "apr_time.h"

#include "mod_auth_token.h"
#include "issuer_delegated.h"
#include "at_secret.h"

APLOG_USE_MODULE(auth_token);

/* A page left open longer than this needs reloading. */
#define CSRF_TTL 3600
#define CSRF_SKEW 60

typedef struct csrf_key {
    apr_thread_mutex_t *lock;
    int loaded;
    unsigned char key[32];
} csrf_key_t;

/* Per-process cache (registry key -> csrf_key_t *), made in child_init. */
static apr_hash_t *keys;

static void *make_key(apr_pool_t *p, server_rec *s)
{
    csrf_key_t *k = apr_pcalloc(p, sizeof(*k));

    if (apr_thread_mutex_create(&k->lock, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        return NULL;
    }
    return k;
}

void at_csrf_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    keys = at_issuer_per_registry(pchild, main_s, make_key);
}

/* This registry's key, read on first use. NULL when it cannot be had. */
static const unsigned char *get_key(request_rec *r, at_conn_t *conn)
{
    const char *rk = at_issuer_registry_key(r->pool, r->server);
    csrf_key_t *k = keys && rk ? apr_hash_get(keys, rk, APR_HASH_KEY_STRING)
                               : NULL;
    const char *hex = NULL;
    apr_size_t len = 0;
    at_error_t err;
    apr_status_t rv = APR_SUCCESS;

    if (!k) {
        return NULL;
    }
    apr_thread_mutex_lock(k->lock);
    if (!k->loaded) {
        err.text[0] = '\0';
        at_issuer_write_begin(conn);
        rv = at_registry_secret_key(at_conn_registry(conn), r->pool, "csrf",
                                    &hex, &err);
        at_issuer_write_end(conn);
        if (rv == APR_SUCCESS
            && apr_unescape_hex(k->key, hex, strlen(hex), 0, &len)
                   == APR_SUCCESS
            && len == sizeof(k->key)) {
            k->loaded = 1;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AT01254: cannot read the CSRF key from the "
                          "registry: %s", rv == APR_SUCCESS
                                              ? "malformed key"
                                              : err.text);
        }
    }
    apr_thread_mutex_unlock(k->lock);
    return k->loaded ? k->key : NULL;
}

/* base64url(HMAC(key, the length-prefixed fields)) for time TS. */
static const char *mac(apr_pool_t *p, const unsigned char *key,
                       const char *purpose, const char *person,
                       const char *binding, const char *ts)
{
    /* Length prefixes: no two different field lists give the same text. */
    const char *msg = apr_psprintf(p, "%" APR_SIZE_T_FMT ":%s%"
                                   APR_SIZE_T_FMT ":%s%" APR_SIZE_T_FMT
                                   ":%s%s", strlen(purpose), purpose,
                                   strlen(person), person, strlen(binding),
                                   binding, ts);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)msg,
              strlen(msg), md, &mdlen)) {
        return NULL;
    }
    return at_b64url_encode(p, md, mdlen);
}

const char *at_csrf_make(request_rec *r, at_conn_t *conn,
                         const char *purpose, const char *person,
                         const char *binding)
{
    const unsigned char *key = get_key(r, conn);
    const char *ts, *m;

    if (!key) {
        return NULL;
    }
    ts = apr_psprintf(r->pool, "%" APR_TIME_T_FMT,
                      apr_time_sec(apr_time_now()));
    m = mac(r->pool, key, purpose, person, binding, ts);
    return m ? apr_pstrcat(r->pool, ts, ".", m, NULL) : NULL;
}

int at_csrf_check(request_rec *r, at_conn_t *conn, const char *purpose,
                  const char *person, const char *binding,
                  const char *token)
{
    const unsigned char *key = get_key(r, conn);
    const char *dot, *ts, *want;
    apr_int64_t t, now = apr_time_sec(apr_time_now());
    char *end;

    if (!key) {
        return -1;
    }
    if (!token || !(dot = strchr(token, '.')) || dot == token) {
        return 0;
    }
    ts = apr_pstrmemdup(r->pool, token, dot - token);
    t = apr_strtoi64(ts, &end, 10);
    if (*end || t > now + CSRF_SKEW || now - t > CSRF_TTL) {
        return 0;
    }
    want = mac(r->pool, key, purpose, person, binding, ts);
    return want && at_consttime_eq(want, strlen(want), dot + 1,
                                   strlen(dot + 1));
}
