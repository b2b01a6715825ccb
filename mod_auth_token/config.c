/* Configuration of mod_auth_token: per-directory (resource server) and
 * per-server (issuer) structs, their merges, every directive setter and the
 * typed getters that apply the defaults.
 *
 * Setters validate and resolve everything at config time (keys are loaded
 * here, once) and answer with a message that says what to change; httpd
 * prefixes it with the file and line. Merges allocate a fresh struct and
 * never touch base or override, and "unset" (NULL or -1) stays distinct
 * from "default" so that a nested section can set a value back.
 */
#include <string.h>
#include <errno.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_file_info.h"
#include "apr_uri.h"

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

#define AT_ALG_LIST                                                            \
    "HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 "                   \
    "ES256 ES384 ES512 EdDSA"
#define AT_MAX_LEEWAY   86400L
#define AT_MAX_LIFETIME (10L * 365 * 24 * 3600)

static const char *const endpoint_names[] = {
    "token", "authorize", "revoke", "introspect", "jwks", NULL};

/* ---- create / merge ---------------------------------------------------- */

void *at_create_dir_conf(apr_pool_t *p, char *dir)
{
    at_dir_conf_t *dc = apr_pcalloc(p, sizeof(*dc));

    dc->verify_local = -1;
    dc->leeway = -1;
    dc->allow_preflight = -1;
    dc->revocation_check = -1;
    return dc;
}

#define MERGE_PTR(f) (add->f ? add->f : base->f)
#define MERGE_INT(f) (add->f != -1 ? add->f : base->f)

void *at_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const at_dir_conf_t *base = basev, *add = addv;
    at_dir_conf_t *dc = apr_palloc(p, sizeof(*dc));

    /* Lists replace rather than append: a section that names its own keys,
     * issuers or audiences means exactly those. */
    dc->keys = MERGE_PTR(keys);
    dc->verify_local = MERGE_INT(verify_local);
    dc->issuers = MERGE_PTR(issuers);
    dc->audiences = MERGE_PTR(audiences);
    dc->leeway = MERGE_INT(leeway);
    dc->user_claim = MERGE_PTR(user_claim);
    dc->claims_env = MERGE_PTR(claims_env);
    dc->claims_header = MERGE_PTR(claims_header);
    dc->require_typ = MERGE_PTR(require_typ);
    dc->allow_preflight = MERGE_INT(allow_preflight);
    dc->revocation_check = MERGE_INT(revocation_check);
    return dc;
}

void *at_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    at_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->access_lifetime = -1;
    sc->refresh_lifetime = -1;
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
    return sc;
}

/* ---- helpers of the setters ------------------------------------------- */

/* Parses a whole non-negative decimal number no larger than MAX. */
static int parse_seconds(const char *arg, long max, long *out)
{
    char *end;
    apr_int64_t v;

    if (!apr_isdigit(*arg)) {
        return 0;
    }
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (errno || *end || v < 0 || v > max) {
        return 0;
    }
    *out = (long)v;
    return 1;
}

/* "kid=ID": ID is 1-255 visible ASCII characters. */
static const char *parse_kid(cmd_parms *cmd, const char *arg, const char **kid)
{
    const char *v;

    if (strncmp(arg, "kid=", 4) != 0) {
        return apr_psprintf(cmd->pool,
                            "%s: unexpected argument '%s'; the optional "
                            "third argument is kid=ID",
                            cmd->cmd->name, arg);
    }
    v = arg + 4;
    if (!*v || strlen(v) > 255) {
        return apr_psprintf(cmd->pool,
                            "%s: kid= needs a key id of 1 to 255 "
                            "characters, e.g. kid=k1",
                            cmd->cmd->name);
    }
    for (; *v; v++) {
        if (*v <= 0x20 || *v >= 0x7f) {
            return apr_psprintf(cmd->pool,
                                "%s: the key id after kid= may hold only "
                                "visible ASCII characters (no spaces)",
                                cmd->cmd->name);
        }
    }
    *kid = arg + 4;
    return NULL;
}

/* Resolves PATH against ServerRoot and checks it names a readable file, so
 * the message can say which of the two is wrong before the key parser
 * runs. */
static const char *resolve_key_file(cmd_parms *cmd, const char *arg,
                                    const char **path)
{
    apr_finfo_t fi;
    apr_file_t *f;
    apr_status_t rv;
    const char *full = ap_server_root_relative(cmd->pool, arg);

    if (!full) {
        return apr_psprintf(cmd->pool, "%s: invalid file path '%s'",
                            cmd->cmd->name, arg);
    }
    rv = apr_stat(&fi, full, APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s: key file %s does not exist; fix the path "
                            "(relative paths start at ServerRoot)",
                            cmd->cmd->name, full);
    }
    if (fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool,
                            "%s: %s is not a regular file; name "
                            "the key file itself",
                            cmd->cmd->name, full);
    }
    rv =
        apr_file_open(&f, full, APR_FOPEN_READ, APR_OS_DEFAULT, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s: key file %s is not readable; give the user "
                            "that starts httpd (root) read permission",
                            cmd->cmd->name, full);
    }
    apr_file_close(f);
    *path = full;
    return NULL;
}

/* Shared by AuthTokenVerifyKey and AuthTokenSigningKey. */
static const char *load_key_directive(cmd_parms *cmd, int argc,
                                      char *const argv[], int want_private,
                                      at_key_t **key)
{
    at_error_t err = {{0}};
    at_alg_t alg;
    const char *path = NULL, *kid = NULL, *msg;

    if (argc < 2 || argc > 3) {
        return apr_psprintf(cmd->pool, "%s takes ALG PATH [kid=ID]",
                            cmd->cmd->name);
    }
    alg = at_alg_from_name(argv[0]);
    if (alg == AT_ALG_UNKNOWN) {
        return apr_psprintf(
            cmd->pool,
            "%s: unknown algorithm '%s'; use one of " AT_ALG_LIST
            " (names are case-sensitive)",
            cmd->cmd->name, argv[0]);
    }
    if (argc == 3 && (msg = parse_kid(cmd, argv[2], &kid))) {
        return msg;
    }
    if ((msg = resolve_key_file(cmd, argv[1], &path))) {
        return msg;
    }
    if (at_key_load_file(cmd->pool, alg, path, kid, want_private, key, &err) !=
        APR_SUCCESS) {
        return apr_psprintf(
            cmd->pool, "%s: %s cannot serve as %s %s key: %s; %s",
            cmd->cmd->name, path, want_private ? "the" : "a", argv[0], err.text,
            at_alg_is_hmac(alg)
                ? "the file must hold the raw secret, at least "
                  "as many bytes as the hash output"
                : (want_private ? "give a PEM private key that fits the "
                                  "algorithm (RSA at least 2048 bits, the "
                                  "algorithm's EC curve, or Ed25519)"
                                : "give a PEM public key or certificate "
                                  "that fits the algorithm (RSA at least "
                                  "2048 bits, the algorithm's EC curve, or "
                                  "Ed25519)"));
    }
    return NULL;
}

/* A prefix of exported names: every character must be allowed in the
 * exported name itself, as the per-claim mangling does not touch it. */
static const char *check_prefix(cmd_parms *cmd, const char *prefix, int header)
{
    const char *c;

    for (c = prefix; *c; c++) {
        if (!(apr_isalnum(*c) || (header ? *c == '-' : *c == '_'))) {
            return apr_psprintf(cmd->pool,
                                "%s: the prefix '%s' may hold only letters, "
                                "digits and '%c' (or say Off)",
                                cmd->cmd->name, prefix, header ? '-' : '_');
        }
    }
    if (!header && apr_isdigit(*prefix)) {
        return apr_psprintf(
            cmd->pool,
            "%s: an environment variable name "
            "cannot start with a digit; use e.g. " AT_DEFAULT_CLAIMS_ENV,
            cmd->cmd->name);
    }
    return NULL;
}

/* ---- per-directory setters -------------------------------------------- */

const char *at_set_verify_key(cmd_parms *cmd, void *dcv, int argc,
                              char *const argv[])
{
    at_dir_conf_t *dc = dcv;
    at_key_t *key;
    const char *msg = load_key_directive(cmd, argc, argv, 0, &key);

    if (msg) {
        return msg;
    }
    if (!dc->keys) {
        dc->keys = apr_array_make(cmd->pool, 2, sizeof(at_key_t *));
    }
    APR_ARRAY_PUSH(dc->keys, at_key_t *) = key;
    return NULL;
}

const char *at_set_jwks(cmd_parms *cmd, void *dcv, const char *arg)
{
    at_dir_conf_t *dc = dcv;
    apr_array_header_t *keys = NULL;
    at_error_t err = {{0}};
    const char *path, *msg;

    if ((msg = resolve_key_file(cmd, arg, &path))) {
        return msg;
    }
    if (at_jwks_load_file(cmd->pool, path, &keys, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenJWKS: %s: %s; each key needs kty and "
                            "its key members, and an \"alg\" unless its type "
                            "implies one (EC and OKP by curve, RSA as "
                            "RS256; oct keys always need alg)",
                            path, err.text);
    }
    if (!keys || keys->nelts == 0) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenJWKS: %s holds no key; "
                            "give a JWK Set with at least one verification "
                            "key",
                            path);
    }
    if (!dc->keys) {
        dc->keys = apr_array_make(cmd->pool, keys->nelts, sizeof(at_key_t *));
    }
    apr_array_cat(dc->keys, keys);
    return NULL;
}

const char *at_set_verify_local(cmd_parms *cmd, void *dcv, int on)
{
    ((at_dir_conf_t *)dcv)->verify_local = on;
    return NULL;
}

static const char *push_string(cmd_parms *cmd, apr_array_header_t **arr,
                               const char *value)
{
    if (!*value) {
        return apr_psprintf(cmd->pool,
                            "%s: an empty value matches nothing; "
                            "remove it",
                            cmd->cmd->name);
    }
    if (!*arr) {
        *arr = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(*arr, const char *) = value;
    return NULL;
}

const char *at_set_issuer(cmd_parms *cmd, void *dcv, const char *iss)
{
    return push_string(cmd, &((at_dir_conf_t *)dcv)->issuers, iss);
}

const char *at_set_audience(cmd_parms *cmd, void *dcv, const char *aud)
{
    return push_string(cmd, &((at_dir_conf_t *)dcv)->audiences, aud);
}

const char *at_set_leeway(cmd_parms *cmd, void *dcv, const char *arg)
{
    long v;

    if (!parse_seconds(arg, AT_MAX_LEEWAY, &v)) {
        return apr_psprintf(cmd->pool,
                            "AuthTokenLeeway: '%s' is not a number of "
                            "seconds from 0 to %ld; the default is %ld",
                            arg, AT_MAX_LEEWAY, AT_DEFAULT_LEEWAY);
    }
    ((at_dir_conf_t *)dcv)->leeway = v;
    return NULL;
}

const char *at_set_user_claim(cmd_parms *cmd, void *dcv, const char *name)
{
    if (!*name) {
        return "AuthTokenUserClaim needs a claim name, e.g. sub";
    }
    ((at_dir_conf_t *)dcv)->user_claim = name;
    return NULL;
}

const char *at_set_claims_env(cmd_parms *cmd, void *dcv, const char *arg)
{
    at_dir_conf_t *dc = dcv;
    const char *msg;

    if (!strcasecmp(arg, "Off")) {
        dc->claims_env = "";
        return NULL;
    }
    if (!strcasecmp(arg, "On")) {
        dc->claims_env = AT_DEFAULT_CLAIMS_ENV;
        return NULL;
    }
    if (!*arg) {
        return "AuthTokenClaimsEnv: an empty prefix would let claims "
               "overwrite any variable; give a prefix such "
               "as " AT_DEFAULT_CLAIMS_ENV " or Off";
    }
    if ((msg = check_prefix(cmd, arg, 0))) {
        return msg;
    }
    dc->claims_env = arg;
    return NULL;
}

const char *at_set_claims_header(cmd_parms *cmd, void *dcv, const char *arg)
{
    at_dir_conf_t *dc = dcv;
    const char *msg;

    if (!strcasecmp(arg, "Off")) {
        dc->claims_header = "";
        return NULL;
    }
    if (!*arg || !strcasecmp(arg, "On")) {
        return "AuthTokenClaimsHeader takes a header-name prefix such as "
               "X-Token- (or Off)";
    }
    if ((msg = check_prefix(cmd, arg, 1))) {
        return msg;
    }
    dc->claims_header = arg;
    return NULL;
}

const char *at_set_require_typ(cmd_parms *cmd, void *dcv, const char *typ)
{
    if (!*typ) {
        return "AuthTokenRequireTyp needs a type, e.g. at+jwt";
    }
    ((at_dir_conf_t *)dcv)->require_typ = typ;
    return NULL;
}

const char *at_set_allow_preflight(cmd_parms *cmd, void *dcv, int on)
{
    ((at_dir_conf_t *)dcv)->allow_preflight = on;
    return NULL;
}

const char *at_set_revocation_check(cmd_parms *cmd, void *dcv, int on)
{
    ((at_dir_conf_t *)dcv)->revocation_check = on;
    return NULL;
}

/* ---- per-server (issuer) setters -------------------------------------- */

const char *at_set_registry(cmd_parms *cmd, void *dummy, const char *a1,
                            const char *a2)
{
    at_srv_conf_t *sc = at_srv_conf(cmd->server);
    const char *driver = a2 ? a1 : "sqlite3";
    const char *params = a2 ? a2 : a1;
    const char *c;

    for (c = driver; *c; c++) {
        if (!(apr_isalnum(*c) || *c == '_')) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenRegistry: '%s' is not an apr_dbd "
                                "driver name (e.g. sqlite3, pgsql)",
                                driver);
        }
    }
    if (!*driver || !*params) {
        return "AuthTokenRegistry takes PATH, or DRIVER PARAMS";
    }
    if (!strcmp(driver, "sqlite3")) {
        params = ap_server_root_relative(cmd->pool, params);
        if (!params) {
            return apr_psprintf(cmd->pool,
                                "AuthTokenRegistry: invalid "
                                "path '%s'",
                                a2 ? a2 : a1);
        }
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
    const char *msg = load_key_directive(cmd, argc, argv, 1, &key);

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
                            "use token, authorize, revoke, introspect or "
                            "jwks",
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

    if (!parse_seconds(arg, AT_MAX_LIFETIME, &v) || v == 0) {
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

at_dir_conf_t *at_dir_conf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &auth_token_module);
}

const apr_array_header_t *at_dir_keys(const at_dir_conf_t *dc)
{
    return dc->keys && dc->keys->nelts ? dc->keys : NULL;
}

int at_dir_verify_local(const at_dir_conf_t *dc)
{
    return dc->verify_local == 1;
}

long at_dir_leeway(const at_dir_conf_t *dc)
{
    return dc->leeway >= 0 ? dc->leeway : AT_DEFAULT_LEEWAY;
}

const char *at_dir_user_claim(const at_dir_conf_t *dc)
{
    return dc->user_claim ? dc->user_claim : AT_DEFAULT_USER_CLAIM;
}

const char *at_dir_claims_env(const at_dir_conf_t *dc)
{
    if (!dc->claims_env) {
        return AT_DEFAULT_CLAIMS_ENV;
    }
    return *dc->claims_env ? dc->claims_env : NULL;
}

const char *at_dir_claims_header(const at_dir_conf_t *dc)
{
    return dc->claims_header && *dc->claims_header ? dc->claims_header : NULL;
}

int at_dir_allow_preflight(const at_dir_conf_t *dc)
{
    return dc->allow_preflight == 1;
}

int at_dir_revocation_check(const at_dir_conf_t *dc)
{
    return dc->revocation_check == 1;
}

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
