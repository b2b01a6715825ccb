/* The httpd side of the verified-token cache: AuthTokenVerifyCache
 * ENTRIES|Off (kept in the main server's config, default 1024) and, in
 * each child, one at_jws_cache_t (lib/jose/at_jose_cache.c) of that many
 * entries, released with the child's pool. authn_bearer.c asks
 * at_token_cache() for it; the cache itself (exact token bytes compared in
 * constant time, the verifying key, the parsed header and claims shared
 * read-only, nothing kept past the token's exp, never blocking) is the
 * library's, so the module, the bench and the unit tests exercise the
 * same code. The library's header memo (a few parsed JWS headers) is made
 * here too, whatever the setting: it is what spares a token seen for the
 * first time the parse of a header seen before.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

#define AT_CACHE_DEFAULT_ENTRIES 1024
#define AT_CACHE_MAX_ENTRIES     (1024 * 1024)

/* Per-process cache (NULL: none), made in child_init. */
static at_jws_cache_t *cache;

const char *at_set_verify_cache(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    char *end;
    apr_int64_t v;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "Off")) {
        sc->verify_cache = 0;
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
    sc->verify_cache = (long)v;
    return NULL;
}

/* S is the main server, whose configuration holds the directive. */
static void cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    long n = at_srv_conf(s)->verify_cache;
    apr_status_t rv;

    at_jws_header_memo_create(pchild);
    if (n < 0) {
        n = AT_CACHE_DEFAULT_ENTRIES;
    }
    rv = at_jws_cache_create(pchild, (apr_size_t)n, &cache);
    if (rv != APR_SUCCESS) {
        cache = NULL;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "AT00020: cannot create the verified-token cache "
                     "(mutexes); running without it");
    }
}

at_jws_cache_t *at_token_cache(void)
{
    return cache;
}

void at_token_cache_register_hooks(apr_pool_t *p)
{
    ap_hook_child_init(cache_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
