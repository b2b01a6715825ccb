/* Per-directory configuration of mod_auth_token (the resource server): the
 * struct's create and merge, the setters of its directives and the typed
 * getters that apply the defaults. Key and number arguments are parsed by
 * config_keys.c, which the per-server side and remote key sets share.
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

#include "mod_auth_token.h"
#include "resource.h"
#include "jwks_remote.h"

APLOG_USE_MODULE(auth_token);

#define AT_MAX_LEEWAY 86400L

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
     * issuers or audiences means exactly those. Keys from files and from
     * URLs (AuthTokenJWKS) are one list. */
    if (add->keys || add->remote) {
        dc->keys = add->keys;
        dc->remote = add->remote;
    } else {
        dc->keys = base->keys;
        dc->remote = base->remote;
    }
    dc->trusted = MERGE_PTR(trusted);
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
    dc->identity_claims = MERGE_PTR(identity_claims);
    return dc;
}

/* ---- helpers of the setters ------------------------------------------- */

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
    const char *msg = at_conf_load_key(cmd, argc, argv, 0, &key);

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
    apr_array_header_t *keys;
    const char *msg;

    if (at_jwks_is_url(arg)) {
        return at_jwks_add_url(cmd, dc, arg);
    }
    if ((msg = at_conf_load_jwks(cmd, arg, &keys))) {
        return msg;
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

    if (!at_conf_parse_seconds(arg, AT_MAX_LEEWAY, &v)) {
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
