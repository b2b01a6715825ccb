/* The issuer's hooks: the registry is created and migrated in post_config
 * (while httpd still runs as root, so the file can be handed to the
 * server's User); child_init sets up each process's per-registry services
 * (connections: registry_conn.c, revocation cache: issuer_revocation.c,
 * jti group commit: issuer_record.c); the oauth-* handlers are dispatched
 * from one handler hook. Calls go one way: hooks -> handlers -> services
 * -> lib/registry.
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
#include "unixd.h"
#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer.h"
#include "issuer_private.h"
#include "issuer_delegated.h"

APLOG_USE_MODULE(auth_token);

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

    at_pages_post_config(pconf, main_s);
    for (s = main_s; s; s = s->next) {
        at_srv_conf_t *sc = at_srv_conf(s);
        at_registry_t *reg;
        at_error_t err;
        apr_status_t rv;
        const char *key;

        key = at_issuer_registry_key(ptemp, s);
        if (!key || apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);

        err.text[0] = '\0';
        rv = at_registry_open(ptemp, at_srv_registry_driver(sc),
                              at_srv_registry_params(sc), &reg, &err);
        if (rv == APR_ECONNREFUSED) {
            /* A database server down at startup: the node starts all the
             * same (the issuer answers 503 until it is reachable; the
             * first connection then creates or migrates the schema). */
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, s,
                         "AT01200: AuthTokenRegistry %s is unreachable at "
                         "startup, starting anyway: %s",
                         at_registry_describe(ptemp,
                                              at_srv_registry_driver(sc),
                                              at_srv_registry_params(sc)),
                         err.text);
            continue;
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "AT00601: AuthTokenRegistry %s cannot be used: %s",
                         at_registry_describe(ptemp,
                                              at_srv_registry_driver(sc),
                                              at_srv_registry_params(sc)),
                         err.text);
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


static void issuer_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    at_issuer_conns_child_init(pchild, main_s);
    at_revcache_child_init(pchild, main_s);
    at_jtiq_child_init(pchild, main_s);
    at_csrf_child_init(pchild, main_s);
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
    if (strcmp(h, "oauth-authorize") == 0) {
        return at_handle_authorize(r);
    }
    if (strcmp(h, "oauth-consents") == 0) {
        return at_handle_consents(r);
    }
    if (strcmp(h, "oauth-userinfo") == 0) {
        return at_handle_userinfo(r);
    }
    return DECLINED;
}

void at_issuer_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(issuer_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(issuer_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(issuer_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
