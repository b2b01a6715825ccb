/* Key and number arguments of directives, shared by the resource server's
 * setters (config.c), the issuer's (config_server.c) and the remote key
 * sets' (jwks_config.c): a seconds value, "ALG PATH [kid=ID]" keys and JWK
 * Set files, each loaded and checked here, once, at config time, with a
 * message that says what to change (httpd adds the file and line).
 */
#include <string.h>
#include <errno.h>

#include "httpd.h"
#include "http_config.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_file_info.h"

#include "mod_auth_token.h"
#include "resource.h"

#define AT_ALG_LIST                                                            \
    "HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 "                   \
    "ES256 ES384 ES512 EdDSA"

/* Parses a whole non-negative decimal number no larger than MAX. */
int at_conf_parse_seconds(const char *arg, long max, long *out)
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
const char *at_conf_load_key(cmd_parms *cmd, int argc, char *const argv[],
                             int want_private, at_key_t **key)
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

const char *at_conf_load_jwks(cmd_parms *cmd, const char *arg,
                              apr_array_header_t **keys)
{
    at_error_t err = {{0}};
    const char *path, *msg;

    *keys = NULL;
    if ((msg = resolve_key_file(cmd, arg, &path))) {
        return msg;
    }
    if (at_jwks_load_file(cmd->pool, path, keys, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool,
                            "%s: %s: %s; each key needs kty and "
                            "its key members, and an \"alg\" unless its type "
                            "implies one (EC and OKP by curve, RSA as "
                            "RS256; oct keys always need alg)",
                            cmd->cmd->name, path, err.text);
    }
    if (!*keys || (*keys)->nelts == 0) {
        return apr_psprintf(cmd->pool,
                            "%s: %s holds no key; "
                            "give a JWK Set with at least one verification "
                            "key",
                            cmd->cmd->name, path);
    }
    return NULL;
}
