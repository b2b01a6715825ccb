/* The per-process revocation cache behind AuthTokenRevocationCheck On.
 *
 * A request must not cost a database query in the common case, so each
 * process keeps an immutable snapshot of the registry's revocation state
 * (revoked jtis, per-client cut-offs) and asks the registry about once a
 * second whether its revocation generation moved; only then is the
 * snapshot reloaded.
 *
 * Every answer comes from a snapshot confirmed less than a second ago, so
 * a revocation shows within a second. Under load the confirmation happens
 * before that limit: once a snapshot is REFRESH_AGE old, the one thread
 * that gets the trylock asks the registry while the others go on
 * answering, so no request waits for the database while another
 * refreshes. Only a snapshot older than MAX_AGE (the first check of a
 * process, or the first after an idle spell) makes requests wait for the
 * refresh.
 *
 * Snapshots are swapped under a write lock held for a pointer store; a
 * reader holds the read lock for one or two hash lookups.
 */
#include <stdlib.h>

#include "httpd.h"
#include "http_log.h"
#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "apr_thread_rwlock.h"

#include "mod_auth_token.h"
#include "issuer.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

#define MAX_AGE      apr_time_from_sec(1)
#define REFRESH_AGE  apr_time_from_msec(800)
/* After a failed attempt, the next one no sooner than this. */
#define RETRY_AFTER  apr_time_from_msec(500)

typedef struct snapshot {
    apr_pool_t *pool;           /* unmanaged: freed when replaced */
    long long generation;
    apr_hash_t *jtis;           /* jti -> non-NULL */
    apr_hash_t *cutoffs;        /* client_id -> long long *: revoked
                                   are the tokens issued before it */
} snapshot_t;

struct at_revcache {
    apr_thread_mutex_t *refresh;  /* held by the thread refreshing */
    apr_thread_rwlock_t *lock;    /* guards snap and failed */
    snapshot_t *snap;             /* NULL until the first load */
    int failed;                   /* the last refresh could not read: 1,
                                     or 2 when the registry was
                                     unreachable */
    volatile apr_uint64_t next_try;   /* apr_time_t: no attempt before */
    volatile apr_uint64_t confirmed;  /* apr_time_t of the last success */
};

/* Per-process cache (registry key -> at_revcache_t *): child_init. */
static apr_hash_t *caches;

static void *make_cache(apr_pool_t *p, server_rec *s)
{
    at_revcache_t *c = apr_pcalloc(p, sizeof(*c));

    if (apr_thread_mutex_create(&c->refresh, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS
        || apr_thread_rwlock_create(&c->lock, p) != APR_SUCCESS) {
        return NULL;
    }
    return c;
}

void at_revcache_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    caches = at_issuer_per_registry(pchild, main_s, make_cache);
}

at_revcache_t *at_issuer_revcache(request_rec *r)
{
    const char *key = at_issuer_registry_key(r->pool, r->server);

    return caches && key ? apr_hash_get(caches, key, APR_HASH_KEY_STRING)
                         : NULL;
}

/* Builds a snapshot from the registry. NULL (logged) when it cannot. */
static snapshot_t *load_snapshot(request_rec *r, at_registry_t *reg,
                                 long long generation, int *db_failed)
{
    apr_array_header_t *jtis;
    apr_table_t *clients;
    const apr_array_header_t *entries;
    const apr_table_entry_t *e;
    snapshot_t *snap;
    apr_pool_t *pool;
    at_error_t err;
    apr_status_t rv;
    int i;

    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    err.text[0] = '\0';
    rv = at_revocation_load(reg, pool, &jtis, &clients, &err);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00610: cannot load the revocation state: %s",
                      err.text);
        *db_failed = at_registry_failed(rv);
        apr_pool_destroy(pool);
        return NULL;
    }
    snap = apr_pcalloc(pool, sizeof(*snap));
    snap->pool = pool;
    snap->generation = generation;
    snap->jtis = apr_hash_make(pool);
    snap->cutoffs = apr_hash_make(pool);
    for (i = 0; i < jtis->nelts; i++) {
        const char *jti = APR_ARRAY_IDX(jtis, i, const char *);
        apr_hash_set(snap->jtis, jti, APR_HASH_KEY_STRING, "");
    }
    entries = apr_table_elts(clients);
    e = (const apr_table_entry_t *)entries->elts;
    for (i = 0; i < entries->nelts; i++) {
        long long *cutoff = apr_palloc(pool, sizeof(*cutoff));
        *cutoff = strtoll(e[i].val, NULL, 10);
        apr_hash_set(snap->cutoffs, e[i].key, APR_HASH_KEY_STRING, cutoff);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "AT00611: revocation state generation %" APR_INT64_T_FMT
                  " loaded: %d jti(s), %d client cut-off(s)",
                  (apr_int64_t)generation, jtis->nelts,
                  entries->nelts);
    return snap;
}

/* With c->refresh held: asks REG for the generation and reloads when it
 * moved (or when there is no snapshot yet). 1 when a database call
 * failed, so that the caller drops the connection. */
static int refresh_with(request_rec *r, at_revcache_t *c, at_registry_t *reg)
{
    snapshot_t *fresh = NULL, *old = NULL;
    long long generation;
    at_error_t err;
    apr_status_t rv;
    int db_failed = 0, failed = 1;

    apr_atomic_set64(&c->next_try, apr_time_now() + RETRY_AFTER);
    if (reg) {
        err.text[0] = '\0';
        rv = at_revocation_generation(reg, r->pool, &generation, &err);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                          "AT00612: cannot read the revocation generation: "
                          "%s", err.text);
            db_failed = at_registry_failed(rv);
        }
        else if (c->snap && c->snap->generation == generation) {
            failed = 0;
            apr_atomic_set64(&c->confirmed, apr_time_now());
        }
        else {
            fresh = load_snapshot(r, reg, generation, &db_failed);
            failed = fresh == NULL;
            if (fresh) {
                apr_atomic_set64(&c->confirmed, apr_time_now());
            }
        }
    }

    if (db_failed == AT_DB_DOWN) {
        at_issuer_registry_down(r);
    }
    if (failed && at_issuer_registry_is_down(r)) {
        failed = 2;
    }
    apr_thread_rwlock_wrlock(c->lock);
    if (fresh) {
        old = c->snap;
        c->snap = fresh;
    }
    c->failed = failed;
    apr_thread_rwlock_unlock(c->lock);
    /* Readers hold the read lock while they use a snapshot, so once the
     * write lock was ours nobody can still be looking at the old one. */
    if (old) {
        apr_pool_destroy(old->pool);
    }
    return db_failed;
}

/* With c->refresh held: the same with a connection of our own. */
static void refresh(request_rec *r, at_revcache_t *c)
{
    at_conn_t *conn = at_issuer_acquire(r);

    at_issuer_release(conn, refresh_with(r, c, conn ? at_conn_registry(conn)
                                                    : NULL));
}

static int lookup(const snapshot_t *snap, const char *jti,
                  const char *client_id, long long iat)
{
    const long long *cutoff;

    if (jti && apr_hash_get(snap->jtis, jti, APR_HASH_KEY_STRING)) {
        return 1;
    }
    if (client_id) {
        cutoff = apr_hash_get(snap->cutoffs, client_id, APR_HASH_KEY_STRING);
        /* A token without iat cannot prove it came after the cut-off. */
        if (cutoff && (iat <= 0 || iat < *cutoff)) {
            return 1;
        }
    }
    return 0;
}

/* With c->refresh held: whether a refresh is still wanted (another thread
 * may have done it while this one waited) and allowed (not right after a
 * failed attempt). */
static int due(at_revcache_t *c, apr_time_t age)
{
    apr_time_t now = apr_time_now();

    return now - (apr_time_t)apr_atomic_read64(&c->confirmed) >= age
           && (apr_time_t)apr_atomic_read64(&c->next_try) <= now;
}

/* The answer from the current snapshot: 1 revoked, 0 not, -1 (logged)
 * when the last refresh could not read the registry, -2 when it could not
 * reach it. */
static int answer(request_rec *r, at_revcache_t *c, const char *jti,
                  const char *client_id, long long iat)
{
    int revoked;

    apr_thread_rwlock_rdlock(c->lock);
    if (c->failed || !c->snap) {
        revoked = c->failed == 2 ? -2 : -1;
    }
    else {
        revoked = lookup(c->snap, jti, client_id, iat);
    }
    apr_thread_rwlock_unlock(c->lock);
    if (revoked == -1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00614: revocation state unavailable, refusing the "
                      "token");
    }
    else if (revoked == -2) {
        /* The outage itself is logged once, where it is found. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "AT01203: registry unreachable, refusing the token "
                      "with 503 (revocations cannot be checked)");
    }
    return revoked;
}

int at_revocation_is_revoked(request_rec *r, const char *jti,
                             const char *client_id, long long iat)
{
    at_revcache_t *c = at_issuer_revcache(r);
    apr_time_t age;

    if (!c) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00613: AuthTokenRevocationCheck On needs an "
                      "AuthTokenRegistry for this server");
        return -1;
    }
    age = apr_time_now() - (apr_time_t)apr_atomic_read64(&c->confirmed);
    if (age >= MAX_AGE) {
        /* Nothing current to answer from: wait for whoever refreshes. */
        apr_thread_mutex_lock(c->refresh);
        if (due(c, MAX_AGE)) {
            refresh(r, c);
        }
        apr_thread_mutex_unlock(c->refresh);
    }
    else if (age >= REFRESH_AGE
             && apr_thread_mutex_trylock(c->refresh) == APR_SUCCESS) {
        if (due(c, REFRESH_AGE)) {
            refresh(r, c);
        }
        apr_thread_mutex_unlock(c->refresh);
    }

    return answer(r, c, jti, client_id, iat);
}

int at_revocation_check_now(request_rec *r, at_registry_t *reg,
                            const char *jti, const char *client_id,
                            long long iat)
{
    at_revcache_t *c = at_issuer_revcache(r);

    if (!c) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00615: no revocation state for this server");
        return -1;
    }
    apr_thread_mutex_lock(c->refresh);
    refresh_with(r, c, reg);
    apr_thread_mutex_unlock(c->refresh);
    return answer(r, c, jti, client_id, iat);
}
