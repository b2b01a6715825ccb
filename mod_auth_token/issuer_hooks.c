/* The issuer's hooks: the registry is created and migrated in post_config
 * (while httpd still runs as root, so the file can be handed to the
 * server's User), every child keeps a pool of registry connections and a
 * revocation cache per registry (child_init), and the oauth-* handlers are
 * dispatched from one handler hook.
 *
 * apr_dbd connections are not thread-safe, hence an apr_reslist of them
 * per process: a request borrows one for its duration. Connections are
 * opened lazily, so a child starts even when the registry is briefly
 * unavailable, and a request that cannot get one is answered 500.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "ap_mpm.h"
#include "unixd.h"
#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_reslist.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "mod_auth_token.h"
#include "issuer.h"
#include "issuer_private.h"

APLOG_USE_MODULE(auth_token);

/* Idle connections kept per process, and how long a request waits for one
 * when all are busy (they are never busy for long: one request each). */
#define CONN_SOFT_MAX   4
#define CONN_WAIT       apr_time_from_sec(5)

/* One registry as seen by one process. */
typedef struct registry_state {
    const char *driver;
    const char *params;
    apr_reslist_t *conns;
    at_revcache_t *revcache;
    at_jtiq_t *jtiq;
    apr_thread_mutex_t *write_lock;
} registry_state_t;

struct at_conn {
    registry_state_t *state;
    at_registry_t *reg;
    apr_pool_t *pool;
};

/* driver "\n" params -> registry_state_t *, built in child_init and only
 * read afterwards, so requests need no lock to look a registry up. */
static apr_hash_t *registries;

/* NULL when the server has no registry. */
static const char *registry_key(apr_pool_t *p, const at_srv_conf_t *sc)
{
    if (!at_srv_registry_params(sc)) {
        return NULL;
    }
    return apr_pstrcat(p, at_srv_registry_driver(sc), "\n",
                       at_srv_registry_params(sc), NULL);
}

int at_registry_failed(apr_status_t status)
{
    return status != APR_SUCCESS && status != APR_NOTFOUND
        && status != APR_EACCES && status != APR_EINVAL
        && status != APR_EEXIST && status != APR_EBUSY;
}

int at_registry_read_only(apr_status_t status, const at_error_t *err)
{
    return status == APR_EACCES && strstr(err->text, "read-only") != NULL;
}

/* --- startup ------------------------------------------------------------ */

/* Gives PATH to the server's User/Group when it exists. */
static apr_status_t give_to_user(const char *path, server_rec *s)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return errno == ENOENT ? APR_SUCCESS : errno;
    }
    if (st.st_uid == ap_unixd_config.user_id
        && st.st_gid == ap_unixd_config.group_id) {
        return APR_SUCCESS;
    }
    if (chown(path, ap_unixd_config.user_id, ap_unixd_config.group_id)
        != 0) {
        return errno;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "AT00600: gave %s to the server's User", path);
    return APR_SUCCESS;
}

int at_registry_dir_is_own(apr_pool_t *p, const char *dir, const char *file)
{
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t blen = strlen(base);
    apr_finfo_t fi;
    apr_dir_t *d;
    int own = 1;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS) {
        return 0;
    }
    while (own && apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (strcmp(fi.name, ".") != 0 && strcmp(fi.name, "..") != 0
            && strncmp(fi.name, base, blen) != 0) {
            own = 0;
        }
    }
    apr_dir_close(d);
    return own;
}

/* SQLite writes -wal and -shm beside the database and so needs the
 * directory too. Only a directory of the registry's own is taken: handing
 * over /var/lib or /etc because the registry was put there would give the
 * server's User far more than the registry. */
static apr_status_t give_registry_to_user(apr_pool_t *p, const char *file,
                                          server_rec *s)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char *dir = ap_make_dirstr_parent(p, file);
    struct stat st;
    apr_status_t rv;
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        rv = give_to_user(apr_pstrcat(p, file, suffixes[i], NULL), s);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (*dir == '\0') {
        dir = "./";
    }
    /* Already the User's, or anyone's to write in (a sticky /tmp). */
    if (stat(dir, &st) != 0 || st.st_uid == ap_unixd_config.user_id
        || (st.st_mode & S_IWOTH)) {
        return APR_SUCCESS;
    }
    if (!at_registry_dir_is_own(p, dir, file)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "AT00607: the registry's directory %s holds other "
                     "files, so it is not given to the server's User; "
                     "unless that User can write there, put the registry "
                     "in a directory of its own", dir);
        return APR_SUCCESS;
    }
    return give_to_user(dir, s);
}

/* Opens (creating and migrating) every configured registry once, as root.
 * This runs in both configuration passes on purpose: only the first pass
 * still has the operator's terminal and can make `apachectl start` fail
 * visibly; the second pass is the configuration that stays. Both are
 * cheap and idempotent. */
static int issuer_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *main_s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    server_rec *s;

    for (s = main_s; s; s = s->next) {
        at_srv_conf_t *sc = at_srv_conf(s);
        at_registry_t *reg;
        at_error_t err;
        apr_status_t rv;
        const char *key;

        key = registry_key(ptemp, sc);
        if (!key || apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);

        err.text[0] = '\0';
        rv = at_registry_open(ptemp, at_srv_registry_driver(sc),
                              at_srv_registry_params(sc), &reg, &err);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "AT00601: AuthTokenRegistry %s %s cannot be "
                         "used: %s", at_srv_registry_driver(sc),
                         at_srv_registry_params(sc), err.text);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        at_registry_close(reg);

        if (geteuid() == 0
            && strcmp(at_srv_registry_driver(sc), "sqlite3") == 0) {
            rv = give_registry_to_user(ptemp, at_srv_registry_params(sc),
                                       s);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                             "AT00602: cannot give the registry %s (or "
                             "its directory) to the server's User",
                             at_srv_registry_params(sc));
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }
    return OK;
}

/* --- per-process connection pool ---------------------------------------- */

/* Each connection gets its own unmanaged pool: the reslist may run
 * constructors in several threads at once, and unmanaged pools share no
 * parent whose child list would need a lock. */
static apr_status_t conn_construct(void **resource, void *params,
                                   apr_pool_t *unused)
{
    registry_state_t *state = params;
    at_conn_t *c;
    apr_pool_t *pool;
    at_error_t err;
    apr_status_t rv;

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
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, ap_server_conf,
                     "AT00603: cannot open the registry %s: %s",
                     state->params, err.text);
        apr_pool_destroy(pool);
        return rv == APR_SUCCESS ? APR_EGENERAL : rv;
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

static void issuer_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    int threads = 1;
    server_rec *s;

    registries = apr_hash_make(pchild);
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    for (s = main_s; s; s = s->next) {
        at_srv_conf_t *sc = at_srv_conf(s);
        registry_state_t *state;
        const char *key;
        apr_status_t rv;

        key = registry_key(pchild, sc);
        if (!key || apr_hash_get(registries, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        state = apr_pcalloc(pchild, sizeof(*state));
        state->driver = at_srv_registry_driver(sc);
        state->params = at_srv_registry_params(sc);
        rv = apr_reslist_create(&state->conns, 0,
                                threads < CONN_SOFT_MAX ? threads
                                                        : CONN_SOFT_MAX,
                                threads, 0, conn_construct, conn_destruct,
                                state, pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         "AT00604: cannot create the registry connection "
                         "pool for %s", state->params);
            continue;
        }
        apr_reslist_timeout_set(state->conns, CONN_WAIT);
        apr_thread_mutex_create(&state->write_lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild);
        state->revcache = at_revcache_create(pchild);
        state->jtiq = at_jtiq_create(pchild);
        apr_hash_set(registries, key, APR_HASH_KEY_STRING, state);
    }
}

static registry_state_t *state_for(request_rec *r)
{
    at_srv_conf_t *sc = at_srv_conf(r->server);

    const char *key = registry_key(r->pool, sc);

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
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "AT00606: no registry connection available for %s",
                      state->params);
        return NULL;
    }
    return resource;
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

at_jtiq_t *at_issuer_jtiq(request_rec *r)
{
    registry_state_t *state = state_for(r);

    return state ? state->jtiq : NULL;
}

at_revcache_t *at_issuer_revcache(request_rec *r)
{
    registry_state_t *state = state_for(r);

    return state ? state->revcache : NULL;
}

/* --- handlers ----------------------------------------------------------- */

static int issuer_handler(request_rec *r)
{
    const char *h = r->handler;

    if (!h || strncmp(h, "oauth-", 6) != 0) {
        return DECLINED;
    }
    if (strcmp(h, "oauth-token") == 0) {
        return at_handle_token(r);
    }
    if (strcmp(h, "oauth-revoke") == 0) {
        return at_handle_revoke(r);
    }
    if (strcmp(h, "oauth-introspect") == 0) {
        return at_handle_introspect(r);
    }
    if (strcmp(h, "oauth-jwks") == 0) {
        return at_handle_jwks(r);
    }
    if (strcmp(h, "oauth-metadata") == 0) {
        return at_handle_metadata(r);
    }
    return DECLINED;
}

void at_issuer_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(issuer_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(issuer_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(issuer_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
