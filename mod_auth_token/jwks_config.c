/* The directives of remote key sets and trusted issuers:
 *
 *   AuthTokenJWKS URL                      (config.c hands URLs over)
 *   AuthTokenTrustIssuer ISSUER jwks=URL|PATH
 *   AuthTokenTrustIssuer ISSUER discover
 *   AuthTokenJWKSRefresh SECONDS           (server-wide)
 *   AuthTokenJWKSMinRefetch SECONDS        (server-wide)
 *   AuthTokenFetchCA PATH                  (server-wide)
 *
 * Every URL (or issuer trusted by discovery) becomes one source for the
 * whole server, whichever locations and virtual hosts name it, so that one
 * fetch serves them all. Nothing is fetched here: `apachectl configtest`
 * checks the form of each URL and loads each file, no more. The timing
 * directives are server-wide because a source is: two locations naming
 * one URL share its fetches, so they cannot have their own schedules.
 *
 * Everything is kept in the module's server configuration. A setter in a
 * virtual host cannot reach the main server's, so each server lists the
 * sources its sections name, and post_config numbers them all at once
 * (at_jwks_number_sources): one id per URL, whichever servers name it.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/err.h>

#include "mod_auth_token.h"
#include "resource.h"
#include "jwks_remote.h"
#include "at_remote.h"

APLOG_USE_MODULE(auth_token);

#define MAX_REFRESH     (7L * 86400)
#define MAX_MIN_REFETCH 86400L

/* ---- sources ------------------------------------------------------------ */

/* The source of LIST for URL or (discovery) ISSUER; NULL when none. */
static at_jwks_src_t *find_source(const apr_array_header_t *list,
                                  const char *url, const char *issuer)
{
    at_jwks_src_t *src;
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        src = APR_ARRAY_IDX(list, i, at_jwks_src_t *);
        if (url ? src->url && !strcmp(src->url, url)
                : src->issuer && !strcmp(src->issuer, issuer)) {
            return src;
        }
    }
    return NULL;
}

/* The source for URL or (discovery) ISSUER in the configuration of CMD's
 * server, made on first use there. */
static at_jwks_src_t *source_for(cmd_parms *cmd, const char *url,
                                 const char *issuer)
{
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    apr_pool_t *p = cmd->pool;
    at_jwks_src_t *src = find_source(sc->jwks_named, url, issuer);

    if (src) {
        return src;
    }
    if (!sc->jwks_named) {
        sc->jwks_named = apr_array_make(p, 4, sizeof(at_jwks_src_t *));
    }
    src = apr_pcalloc(p, sizeof(*src));
    src->id = -1; /* numbered in post_config */
    src->url = url ? apr_pstrdup(p, url) : NULL;
    src->issuer = url ? NULL : apr_pstrdup(p, issuer);
    src->name = url ? src->url : apr_pstrcat(p, issuer, " (discovery)", NULL);
    APR_ARRAY_PUSH(sc->jwks_named, at_jwks_src_t *) = src;
    return src;
}

const apr_array_header_t *at_jwks_number_sources(apr_pool_t *pconf,
                                                 server_rec *main_s)
{
    at_srv_conf_t *msc = at_srv_conf(main_s);
    apr_array_header_t *all = apr_array_make(pconf, 4, sizeof(at_jwks_src_t *));
    const at_jwks_src_t *same;
    at_jwks_src_t *src;
    server_rec *s;
    int i;

    /* A server without directives of its own shares the main server's
     * configuration: meeting a source twice finds itself, a no-op. */
    for (s = main_s; s; s = s->next) {
        const apr_array_header_t *named = at_srv_conf(s)->jwks_named;

        for (i = 0; named && i < named->nelts; i++) {
            src = APR_ARRAY_IDX(named, i, at_jwks_src_t *);
            same = find_source(all, src->url, src->issuer);
            if (same) {
                src->id = same->id;
                continue;
            }
            src->id = all->nelts;
            APR_ARRAY_PUSH(all, at_jwks_src_t *) = src;
        }
    }
    msc->jwks_sources = all->nelts ? all : NULL;
    return msc->jwks_sources;
}

const apr_array_header_t *at_jwks_sources(const at_srv_conf_t *sc)
{
    return sc->jwks_sources;
}

int at_jwks_is_url(const char *arg)
{
    const char *c = arg;

    if (!apr_isalpha(*c)) {
        return 0;
    }
    while (apr_isalnum(*c) || *c == '+' || *c == '-' || *c == '.') {
        c++;
    }
    return !strncmp(c, "://", 3);
}

/* NULL when URL may be fetched; else the message. */
static const char *check_url(cmd_parms *cmd, const char *url)
{
    at_error_t err = {{0}};

    if (at_remote_url_check(cmd->temp_pool, url, NULL, &err) == APR_SUCCESS) {
        return NULL;
    }
    return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, url, err.text);
}

const char *at_jwks_add_url(cmd_parms *cmd, at_dir_conf_t *dc, const char *url)
{
    const char *msg = check_url(cmd, url);

    if (msg) {
        return msg;
    }
    if (!dc->remote) {
        dc->remote = apr_array_make(cmd->pool, 1, sizeof(at_jwks_src_t *));
    }
    APR_ARRAY_PUSH(dc->remote, at_jwks_src_t *) = source_for(cmd, url, NULL);
    return NULL;
}

/* ---- AuthTokenTrustIssuer ------------------------------------------------ */

const char *at_set_trust_issuer(cmd_parms *cmd, void *dcv, const char *issuer,
                                const char *how)
{
    at_dir_conf_t *dc = dcv;
    apr_array_header_t *keys;
    at_trust_t t;
    const char *c, *msg;
    int i;

    if (!*issuer) {
        return "AuthTokenTrustIssuer: the issuer is empty; give the exact "
               "iss value of its tokens, e.g. https://auth.example.com";
    }
    for (c = issuer; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            return "AuthTokenTrustIssuer: the issuer may hold only visible "
                   "ASCII characters";
        }
    }
    for (i = 0; dc->trusted && i < dc->trusted->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(dc->trusted, i, at_trust_t).issuer, issuer)) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenTrustIssuer: %s is already "
                                "trusted in this section; one line per "
                                "issuer",
                                issuer);
        }
    }
    memset(&t, 0, sizeof(t));
    t.issuer = issuer;
    if (!strcasecmp(how, "discover")) {
        if ((msg = check_url(cmd, issuer))) {
            return apr_pstrcat(cmd->pool, msg,
                               " (discover fetches the issuer's metadata "
                               "from the issuer URL itself)",
                               NULL);
        }
        if (!at_remote_discovery_urls(cmd->temp_pool, issuer)) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenTrustIssuer: %s cannot be "
                                "discovered: an issuer URL has no query or "
                                "fragment; use jwks=URL instead",
                                issuer);
        }
        t.src = source_for(cmd, NULL, issuer);
    } else if (strncasecmp(how, "jwks=", 5) != 0) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenTrustIssuer: unknown option '%s'; the "
                            "second argument is jwks=URL, jwks=PATH or "
                            "discover",
                            how);
    } else if (!how[5]) {
        return "AuthTokenTrustIssuer: jwks= needs the URL or the file of "
               "the issuer's JWK Set, e.g. "
               "jwks=https://auth.example.com/.well-known/jwks.json";
    } else if (at_jwks_is_url(how + 5)) {
        if ((msg = check_url(cmd, how + 5))) {
            return msg;
        }
        t.src = source_for(cmd, how + 5, NULL);
    } else {
        if ((msg = at_conf_load_jwks(cmd, how + 5, &keys))) {
            return msg;
        }
        t.keys = keys;
    }
    if (!dc->trusted) {
        dc->trusted = apr_array_make(cmd->pool, 2, sizeof(at_trust_t));
    }
    APR_ARRAY_PUSH(dc->trusted, at_trust_t) = t;
    return NULL;
}

/* ---- server-wide settings ---------------------------------------------- */

static const char *set_seconds(cmd_parms *cmd, const char *arg, long min,
                               long max, long dflt, long *out)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    long v;

    if (err) {
        return err;
    }
    if (!at_conf_parse_seconds(arg, max, &v) || v < min) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a number of seconds from %ld "
                            "to %ld; the default is %ld",
                            cmd->cmd->name, arg, min, max, dflt);
    }
    *out = v;
    return NULL;
}

const char *at_set_jwks_refresh(cmd_parms *cmd, void *dummy, const char *arg)
{
    return set_seconds(cmd, arg, 1, MAX_REFRESH, AT_JWKS_DEFAULT_REFRESH,
                       &at_srv_conf(cmd->server)->jwks_refresh);
}

const char *at_set_jwks_min_refetch(cmd_parms *cmd, void *dummy,
                                    const char *arg)
{
    return set_seconds(cmd, arg, 1, MAX_MIN_REFETCH,
                       AT_JWKS_DEFAULT_MIN_REFETCH,
                       &at_srv_conf(cmd->server)->jwks_min_refetch);
}

/* At least one PEM certificate in PATH. */
static int holds_certificate(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *x = NULL;

    if (bio) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    X509_free(x);
    return x != NULL;
}

const char *at_set_fetch_ca(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path;

    if (err) {
        return err;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || !holds_certificate(path)) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenFetchCA: %s is not a readable file of "
                            "PEM certificates; give the CA certificate(s) "
                            "that issued the key servers' certificates",
                            path ? path : arg);
    }
    at_srv_conf(cmd->server)->fetch_ca = path;
    return NULL;
}

long at_jwks_refresh(const at_srv_conf_t *sc)
{
    return sc->jwks_refresh > 0 ? sc->jwks_refresh : AT_JWKS_DEFAULT_REFRESH;
}

long at_jwks_min_refetch(const at_srv_conf_t *sc)
{
    return sc->jwks_min_refetch > 0 ? sc->jwks_min_refetch
                                    : AT_JWKS_DEFAULT_MIN_REFETCH;
}

const char *at_jwks_fetch_ca(const at_srv_conf_t *sc)
{
    return sc->fetch_ca;
}

const apr_array_header_t *at_dir_remote(const at_dir_conf_t *dc)
{
    return dc->remote && dc->remote->nelts ? dc->remote : NULL;
}

const apr_array_header_t *at_dir_trusted(const at_dir_conf_t *dc)
{
    return dc->trusted && dc->trusted->nelts ? dc->trusted : NULL;
}

/* ---- startup check ------------------------------------------------------ */

/* A section with trusted issuers verifies each token only with its
 * issuer's keys, so AuthTokenVerifyKey or AuthTokenJWKS beside them would
 * silently serve nothing: say so where both stand in one section. */
static int check_level(const ap_directive_t *first)
{
    const ap_directive_t *d, *trust = NULL, *plain = NULL;
    int failed = 0;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "AuthTokenTrustIssuer")) {
            trust = trust ? trust : d;
        } else if (!strcasecmp(d->directive, "AuthTokenVerifyKey") ||
                   !strcasecmp(d->directive, "AuthTokenJWKS")) {
            plain = plain ? plain : d;
        }
        if (d->first_child) {
            failed |= check_level(d->first_child);
        }
    }
    if (trust && plain) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "AT01150: Syntax error on line %d of %s: %s beside "
                     "AuthTokenTrustIssuer (line %d) would verify nothing: "
                     "a section with trusted issuers verifies each token "
                     "only with its issuer's keys; bind the keys to their "
                     "issuer with AuthTokenTrustIssuer ISSUER jwks=PATH|URL",
                     plain->line_num, plain->filename, plain->directive,
                     trust->line_num);
        failed = 1;
    }
    return failed;
}

static int jwks_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    return check_level(ap_conftree) ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

void at_jwks_config_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(jwks_check_config, NULL, NULL, APR_HOOK_MIDDLE);
}
