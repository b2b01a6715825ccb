/* Per-server configuration of mod_auth_token (the issuer): the struct's
 * create and merge, the setters of AuthTokenRegistry, AuthTokenIssuerName,
 * AuthTokenSigningKey, AuthTokenEndpointURL and the lifetimes, and the
 * typed getters the issuer reads it through (defaults applied there).
 * Same rules as config.c: setters validate and resolve everything at
 * config time; merge never touches its inputs.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_uri.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "at_registry.h"

#define AT_MAX_LIFETIME (10L * 365 * 24 * 3600)
#define MERGE_PTR(f)    (add->f ? add->f : base->f)
#define MERGE_INT(f)    (add->f != -1 ? add->f : base->f)

/* The endpoints the metadata names, each served by a handler of this
 * module (oauth-token, -authorize, -revoke, -introspect, -jwks,
 * -userinfo). */
static const char *const endpoint_names[] = {
    "token", "authorize", "revoke", "introspect", "jwks", "userinfo", NULL};

/* ---- create / merge ---------------------------------------------------- */

void *at_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    at_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->access_lifetime = -1;
    sc->refresh_lifetime = -1;
    sc->code_lifetime = -1;
    sc->verify_cache = -1;
    sc->jwks_refresh = -1;
    sc->jwks_min_refetch = -1;
    return sc;
}

void *at_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const at_srv_conf_t *base = basev, *add = addv;
    at_srv_conf_t *sc = apr_palloc(p, sizeof(*sc));

    /* Driver and parameters travel together. */
    if (add->registry_params) {
        sc->registry_driver = add->registry_driver;
        sc->registry_params = add->registry_params;
    } else {
        sc->registry_driver = base->registry_driver;
        sc->registry_params = base->registry_params;
    }
    sc->issuer_name = MERGE_PTR(issuer_name);
    sc->signing_keys = MERGE_PTR(signing_keys);
    if (base->endpoint_urls && add->endpoint_urls) {
        sc->endpoint_urls =
            apr_table_overlay(p, add->endpoint_urls, base->endpoint_urls);
    } else {
        sc->endpoint_urls = MERGE_PTR(endpoint_urls);
    }
    sc->access_lifetime = MERGE_INT(access_lifetime);
    sc->refresh_lifetime = MERGE_INT(refresh_lifetime);
    sc->code_lifetime = MERGE_INT(code_lifetime);
    sc->identity_names = MERGE_PTR(identity_names);
    sc->verify_cache = MERGE_INT(verify_cache);
    sc->jwks_refresh = MERGE_INT(jwks_refresh);
    sc->jwks_min_refetch = MERGE_INT(jwks_min_refetch);
    sc->fetch_ca = MERGE_PTR(fetch_ca);
    /* Each server's own: post_config numbers them all (jwks_config.c). */
    sc->jwks_named = add->jwks_named;
    /* Made after the merge, on the main server's only. */
    sc->jwks_sources = NULL;
    sc->pages = NULL;
    return sc;
}

/* ---- per-server (issuer) setters -------------------------------------- */

/* AuthTokenRegistry PATH | DRIVER PARAMS | pgsql:CONNINFO | sqlite3:PATH.
 * The form is checked here, so that configtest catches it without
 * connecting (a PostgreSQL connection string: known keywords, quoting);
 * messages never repeat the parameters, which may hold a password. */
const char *at_set_registry(cmd_parms *cmd, void *dummy, const char *a1,
                            const char *a2)
{
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    const char *driver = a1, *params = a2;
    at_error_t err;
    apr_status_t rv;

    err.text[0] = '\0';
    if (a2) {
        rv = at_registry_check_params(cmd->temp_pool, driver, params, &err);
    }
    else {
        rv = at_registry_spec(cmd->temp_pool, a1, &driver, &params, &err);
    }
    if (rv != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "AuthTokenRegistry: ", err.text,
                           " (forms: PATH, pgsql \"host=... dbname=... "
                           "user=... password=...\", pgsql:CONNINFO)", NULL);
    }
    driver = apr_pstrdup(cmd->pool, driver);
    params = apr_pstrdup(cmd->pool, params);
    if (!strcmp(driver, "sqlite3")) {
        const char *path = ap_server_root_relative(cmd->pool, params);
        if (!path) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenRegistry: invalid "
                                "path '%s'", params);
        }
        params = path;
    }
    sc->registry_driver = driver;
    sc->registry_params = params;
    return NULL;
}

/* An absolute http(s) URL without query or fragment (RFC 8414 2). */
static const char *check_url(cmd_parms *cmd, const char *what, const char *url)
{
    apr_uri_t u;

    if (apr_uri_parse(cmd->temp_pool, url, &u) != APR_SUCCESS || !u.scheme ||
        !u.hostname ||
        (strcasecmp(u.scheme, "https") && strcasecmp(u.scheme, "http")) ||
        u.query || u.fragment) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' must be an absolute https:// (or "
                            "http://) URL without query or fragment, e.g. "
                            "https://auth.example.com",
                            what, url);
    }
    return NULL;
}

const char *at_set_issuer_name(cmd_parms *cmd, void *dummy, const char *uri)
{
    const char *msg = check_url(cmd, "AuthTokenIssuerName", uri);

    if (msg) {
        return msg;
    }
    at_srv_conf(cmd->server)->issuer_name = uri;
    return NULL;
}

const char *at_set_signing_key(cmd_parms *cmd, void *dummy, int argc,
                               char *const argv[])
{
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    at_key_t *key;
    int i;
    const char *msg = at_conf_load_key(cmd, argc, argv, 1, &key);

    if (msg) {
        return msg;
    }
    if (!at_alg_is_hmac(key->alg) && !key->has_private) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenSigningKey: %s holds no private key; "
                            "give the PEM private key (the public one goes "
                            "to the resource servers)",
                            key->source);
    }
    if (!key->kid && !at_alg_is_hmac(key->alg)) {
        /* Published keys always carry a kid, so resource servers (and
         * AuthTokenVerifyLocal) can bind tokens to them. */
        key->kid = at_jwk_thumbprint(cmd->pool, key);
    }
    if (!sc->signing_keys) {
        sc->signing_keys = apr_array_make(cmd->pool, 2, sizeof(at_key_t *));
    }
    for (i = 0; key->kid && i < sc->signing_keys->nelts; i++) {
        const at_key_t *k = APR_ARRAY_IDX(sc->signing_keys, i, at_key_t *);
        if (k->kid && !strcmp(k->kid, key->kid)) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenSigningKey: kid '%s' is already "
                                "used by %s; give each key its own kid=",
                                key->kid, k->source);
        }
    }
    APR_ARRAY_PUSH(sc->signing_keys, at_key_t *) = key;
    return NULL;
}

const char *at_set_endpoint_url(cmd_parms *cmd, void *dummy, const char *name,
                                const char *url)
{
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    const char *msg;
    int i;

    for (i = 0; endpoint_names[i]; i++) {
        if (!strcmp(name, endpoint_names[i])) {
            break;
        }
    }
    if (!endpoint_names[i]) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenEndpointURL: unknown endpoint '%s'; "
                            "use token, authorize, revoke, introspect, "
                            "jwks or userinfo",
                            name);
    }
    if ((msg = check_url(cmd, "AuthTokenEndpointURL", url))) {
        return msg;
    }
    if (!sc->endpoint_urls) {
        sc->endpoint_urls = apr_table_make(cmd->pool, 5);
    }
    apr_table_setn(sc->endpoint_urls, endpoint_names[i], url);
    return NULL;
}

static const char *set_lifetime(cmd_parms *cmd, const char *arg, long *out)
{
    long v;

    if (!at_conf_parse_seconds(arg, AT_MAX_LIFETIME, &v) || v == 0) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a number of seconds from 1 to "
                            "%ld",
                            cmd->cmd->name, arg, AT_MAX_LIFETIME);
    }
    *out = v;
    return NULL;
}

const char *at_set_access_lifetime(cmd_parms *cmd, void *dummy, const char *arg)
{
    return set_lifetime(cmd, arg, &at_srv_conf(cmd->server)->access_lifetime);
}

const char *at_set_refresh_lifetime(cmd_parms *cmd, void *dummy,
                                    const char *arg)
{
    return set_lifetime(cmd, arg, &at_srv_conf(cmd->server)->refresh_lifetime);
}

/* ---- typed getters ----------------------------------------------------- */

at_srv_conf_t *at_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_token_module);
}

const char *at_srv_registry_driver(const at_srv_conf_t *sc)
{
    return sc->registry_driver ? sc->registry_driver : "sqlite3";
}

const char *at_srv_registry_params(const at_srv_conf_t *sc)
{
    return sc->registry_params;
}

const char *at_srv_issuer_name(const at_srv_conf_t *sc)
{
    return sc->issuer_name;
}

const apr_array_header_t *at_srv_signing_keys(const at_srv_conf_t *sc)
{
    static const apr_array_header_t empty = {NULL, sizeof(at_key_t *), 0, 0,
                                             NULL};
    return sc->signing_keys ? sc->signing_keys : &empty;
}

const at_key_t *at_srv_signing_key(const at_srv_conf_t *sc)
{
    return sc->signing_keys && sc->signing_keys->nelts
               ? APR_ARRAY_IDX(sc->signing_keys, 0, at_key_t *)
               : NULL;
}

const char *at_srv_endpoint_url(apr_pool_t *p, const at_srv_conf_t *sc,
                                const char *name)
{
    const char *url =
        sc->endpoint_urls ? apr_table_get(sc->endpoint_urls, name) : NULL;
    size_t n;

    if (url) {
        return url;
    }
    if (!sc->issuer_name) {
        return NULL;
    }
    /* "https://as.example/" + "/oauth/token" without a double slash. */
    n = strlen(sc->issuer_name);
    if (n && sc->issuer_name[n - 1] == '/') {
        return apr_psprintf(p, "%soauth/%s", sc->issuer_name, name);
    }
    return apr_psprintf(p, "%s/oauth/%s", sc->issuer_name, name);
}

long at_srv_access_lifetime(const at_srv_conf_t *sc)
{
    return sc->access_lifetime > 0 ? sc->access_lifetime
                                   : AT_DEFAULT_ACCESS_LIFETIME;
}

long at_srv_refresh_lifetime(const at_srv_conf_t *sc)
{
    return sc->refresh_lifetime > 0 ? sc->refresh_lifetime
                                    : AT_DEFAULT_REFRESH_LIFETIME;
}

long at_srv_code_lifetime(const at_srv_conf_t *sc)
{
    return sc->code_lifetime > 0 ? sc->code_lifetime
                                 : AT_DEFAULT_CODE_LIFETIME;
}
