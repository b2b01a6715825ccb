/* The per-process registry connections of the issuer: apr_dbd connections
 * are not thread-safe, hence an apr_reslist of them per process and
 * registry; a request borrows one for its duration. Connections are opened
 * lazily, so a child starts even when the registry is unavailable. Also
 * the per-process write lock (SQLite), and the map from a server to its
 * registry that the other per-registry services (revocation cache, jti
 * group commit) key on.
 *
 * PostgreSQL outages: a connection that cannot be opened marks the
 * registry down, and for RETRY_AFTER no new one is tried: requests that
 * need the registry are answered 503 with Retry-After at once instead of
 * each waiting for a connect. Connections that died with the server are
 * made again by the registry layer (or dropped here after a failed call),
 * so service returns by itself when the database does. The outage is
 * logged once when it starts and once when it ends.
 *
 * Pool sizes per process: SQLite keeps up to 4 idle connections and opens
 * up to ThreadsPerChild (its writes queue on the write lock anyway);
 * PostgreSQL keeps 2 and opens at most 8, closing idle ones after a
 * minute. A token request holds its connection until its jti is committed
 * (with the group commit, until its batch's commit), so busy threads
 * beyond 8 queue for one; with 32 concurrent token requests per process 8
 * served more tokens per second, at less CPU per token, than 4 or 16
 * (fewer server processes to switch between, larger commit batches). The
 * database's max_connections must cover nodes x processes x 8 (plus the
 * console and CLI); docs/multi-node.md.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_main.h"
#include "ap_mpm.h"
#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_reslist.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "mod_auth_token.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

/* Idle connections kept per process, and how long a request waits for one
 * when all are busy (they are never busy for long: one request each). */
#define CONN_SOFT_MAX   4
#define CONN_WAIT       apr_time_from_sec(5)
/* PostgreSQL: idle kept, most open, idle lifetime (see above). */
#define PG_CONN_KEEP    2
#define PG_CONN_MAX     8
#define PG_CONN_TTL     apr_time_from_sec(60)
/* After a failed connect, no new one for this long (503 meanwhile). */
#define RETRY_AFTER     apr_time_from_sec(1)

/* One registry as seen by one process. */
typedef struct registry_state {
    const char *driver;
    const char *params;
    const char *desc;               /* for messages: no password */
    apr_reslist_t *conns;
    apr_thread_mutex_t *write_lock; /* SQLite only */
    volatile apr_uint32_t down;     /* 1 while connects fail */
    volatile apr_uint64_t retry_at; /* apr_time_t: no connect before */
} registry_state_t;

struct at_conn {
    registry_state_t *state;
    at_registry_t *reg;
    apr_pool_t *pool;
};

/* Per-process cache (registry key -> registry_state_t *), made in
 * child_init and only read afterwards, so requests need no lock. */
static apr_hash_t *registries;

const char *at_issuer_registry_key(apr_pool_t *p, server_rec *s)
{
    at_srv_conf_t *sc = at_srv_conf(s);

    if (!at_srv_registry_params(sc)) {
        return NULL;
    }
    return apr_pstrcat(p, at_srv_registry_driver(sc), "\n",
                       at_srv_registry_params(sc), NULL);
}

apr_hash_t *at_issuer_per_registry(apr_pool_t *pchild, server_rec *main_s,
                                   void *(*make)(apr_pool_t *p,
                                                 server_rec *s))
{
    apr_hash_t *map = apr_hash_make(pchild);
    server_rec *s;

    for (s = main_s; s; s = s->next) {
        const char *key = at_issuer_registry_key(pchild, s);
        void *v;

        if (!key || apr_hash_get(map, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if ((v = make(pchild, s)) != NULL) {
            apr_hash_set(map, key, APR_HASH_KEY_STRING, v);
        }
    }
    return map;
}

int at_registry_failed(apr_status_t status)
{
    if (status == APR_ECONNREFUSED) {
        return AT_DB_DOWN;
    }
    return status != APR_SUCCESS && status != APR_NOTFOUND
        && status != APR_EACCES && status != APR_EINVAL
        && status != APR_EEXIST && status != APR_EBUSY;
}

int at_registry_read_only(apr_status_t status, const at_error_t *err)
{
    return status == APR_EACCES && strstr(err->text, "read-only") != NULL;
}

/* --- per-process connection pool ---------------------------------------- */

/* Each connection gets its own unmanaged pool: the reslist may run
 * constructors in several threads at once, and unmanaged pools share no
 * parent whose child list would need a lock. */
static apr_status_t conn_construct(void **resource, void *params,
                                   apr_pool_t *unused)
{
    registry_state_t *state = params;
    apr_time_t now = apr_time_now();
    at_conn_t *c;
    apr_pool_t *pool;
    at_error_t err;
    apr_status_t rv;

    if ((apr_time_t)apr_atomic_read64(&state->retry_at) > now) {
        return APR_ECONNREFUSED;
    }
    rv = apr_pool_create_unmanaged_ex(&pool, NULL, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->state = state;
    c->pool = pool;
    err.text[0] = '\0';
    rv = at_registry_open(pool, state->driver, state->params, &c->reg, &err);
    if (rv != APR_SUCCESS) {
        if (rv == APR_ECONNREFUSED) {
            apr_atomic_set64(&state->retry_at, now + RETRY_AFTER);
        }
        /* Once per outage at error; every failed try at debug. */
        if (rv != APR_ECONNREFUSED
            || apr_atomic_cas32(&state->down, 1, 0) == 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, ap_server_conf,
                         "AT00603: cannot open the registry %s: %s%s",
                         state->desc, err.text,
                         rv == APR_ECONNREFUSED
                             ? "; answering 503 until it is back" : "");
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, rv, ap_server_conf,
                         "AT01202: registry %s still unreachable: %s",
                         state->desc, err.text);
        }
        apr_pool_destroy(pool);
        return rv == APR_SUCCESS ? APR_EGENERAL : rv;
    }
    if (apr_atomic_cas32(&state->down, 0, 1) == 1) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, ap_server_conf,
                     "AT01201: registry %s is reachable again",
                     state->desc);
    }
    *resource = c;
    return APR_SUCCESS;
}

static apr_status_t conn_destruct(void *resource, void *params,
                                  apr_pool_t *unused)
{
    at_conn_t *c = resource;

    at_registry_close(c->reg);
    apr_pool_destroy(c->pool);
    return APR_SUCCESS;
}

/* One connection pool (and, for SQLite, write lock) for the registry of
 * S. */
static void *make_state(apr_pool_t *pchild, server_rec *s)
{
    at_srv_conf_t *sc = at_srv_conf(s);
    registry_state_t *state;
    apr_status_t rv;
    int threads = 1, keep, max;
    apr_interval_time_t ttl = 0;

    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    state = apr_pcalloc(pchild, sizeof(*state));
    state->driver = at_srv_registry_driver(sc);
    state->params = at_srv_registry_params(sc);
    state->desc = at_registry_describe(pchild, state->driver, state->params);
    keep = threads < CONN_SOFT_MAX ? threads : CONN_SOFT_MAX;
    max = threads;
    if (at_registry_networked(state->driver)) {
        keep = threads < PG_CONN_KEEP ? threads : PG_CONN_KEEP;
        max = threads < PG_CONN_MAX ? threads : PG_CONN_MAX;
        ttl = PG_CONN_TTL;
    }
    rv = apr_reslist_create(&state->conns, 0, keep, max, ttl, conn_construct,
                            conn_destruct, state, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "AT00604: cannot create the registry connection "
                     "pool for %s", state->desc);
        return NULL;
    }
    apr_reslist_timeout_set(state->conns, CONN_WAIT);
    if (!at_registry_networked(state->driver)) {
        apr_thread_mutex_create(&state->write_lock,
                                APR_THREAD_MUTEX_DEFAULT, pchild);
    }
    return state;
}

void at_issuer_conns_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    registries = at_issuer_per_registry(pchild, main_s, make_state);
}

static registry_state_t *state_for(request_rec *r)
{
    const char *key = at_issuer_registry_key(r->pool, r->server);

    if (!registries || !key) {
        return NULL;
    }
    return apr_hash_get(registries, key, APR_HASH_KEY_STRING);
}

at_conn_t *at_issuer_acquire(request_rec *r)
{
    registry_state_t *state = state_for(r);
    void *resource;
    apr_status_t rv;

    if (!state) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT00605: no AuthTokenRegistry for this server");
        return NULL;
    }
    rv = apr_reslist_acquire(state->conns, &resource);
    if (rv == APR_ECONNREFUSED) {
        /* Logged once per outage by the constructor. */
        at_issuer_registry_down(r);
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00606: no registry connection available for %s",
                      state->desc);
        if (APR_STATUS_IS_TIMEUP(rv) && at_registry_networked(state->driver)) {
            at_issuer_registry_down(r);
        }
        return NULL;
    }
    return resource;
}

void at_issuer_registry_down(request_rec *r)
{
    apr_table_setn(r->notes, "auth-token-registry", "down");
}

int at_issuer_registry_is_down(request_rec *r)
{
    return apr_table_get(r->notes, "auth-token-registry") != NULL;
}

int at_issuer_unavailable(request_rec *r, int status)
{
    if (status == HTTP_INTERNAL_SERVER_ERROR
        && at_issuer_registry_is_down(r)) {
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return status;
}

int at_issuer_done(request_rec *r, at_conn_t *c, int db_failed, int status)
{
    if (db_failed == AT_DB_DOWN) {
        at_issuer_registry_down(r);
    }
    at_issuer_release(c, db_failed);
    return at_issuer_unavailable(r, status);
}

at_registry_t *at_conn_registry(at_conn_t *c)
{
    return c->reg;
}

void at_issuer_release(at_conn_t *c, int failed)
{
    if (!c) {
        return;
    }
    if (failed) {
        apr_reslist_invalidate(c->state->conns, c);
    }
    else {
        apr_reslist_release(c->state->conns, c);
    }
}

void at_issuer_write_begin(at_conn_t *c)
{
    if (c->state->write_lock) {
        apr_thread_mutex_lock(c->state->write_lock);
    }
}

void at_issuer_write_end(at_conn_t *c)
{
    if (c->state->write_lock) {
        apr_thread_mutex_unlock(c->state->write_lock);
    }
}
