/* The JWS algorithm table (RFC 7518 section 3, RFC 8037 for EdDSA): names
 * are matched exactly, so "none", "None" or "hs256" are simply unknown. */
#include <string.h>
#include <openssl/obj_mac.h>
#include "at_jose_int.h"

static const at_alg_info_t alg_table[AT_ALG_COUNT] = {
    [AT_ALG_HS256] = {"HS256", AT_KIND_HMAC, "SHA256", 32, 0, NULL, NULL, 0},
    [AT_ALG_HS384] = {"HS384", AT_KIND_HMAC, "SHA384", 48, 0, NULL, NULL, 0},
    [AT_ALG_HS512] = {"HS512", AT_KIND_HMAC, "SHA512", 64, 0, NULL, NULL, 0},
    [AT_ALG_RS256] = {"RS256", AT_KIND_RSA, "SHA256", 32, 0, NULL, NULL, 0},
    [AT_ALG_RS384] = {"RS384", AT_KIND_RSA, "SHA384", 48, 0, NULL, NULL, 0},
    [AT_ALG_RS512] = {"RS512", AT_KIND_RSA, "SHA512", 64, 0, NULL, NULL, 0},
    [AT_ALG_PS256] = {"PS256", AT_KIND_PSS, "SHA256", 32, 0, NULL, NULL, 0},
    [AT_ALG_PS384] = {"PS384", AT_KIND_PSS, "SHA384", 48, 0, NULL, NULL, 0},
    [AT_ALG_PS512] = {"PS512", AT_KIND_PSS, "SHA512", 64, 0, NULL, NULL, 0},
    [AT_ALG_ES256] = {"ES256", AT_KIND_EC, "SHA256", 32,
                      NID_X9_62_prime256v1, "prime256v1", "P-256", 32},
    [AT_ALG_ES384] = {"ES384", AT_KIND_EC, "SHA384", 48,
                      NID_secp384r1, "secp384r1", "P-384", 48},
    [AT_ALG_ES512] = {"ES512", AT_KIND_EC, "SHA512", 64,
                      NID_secp521r1, "secp521r1", "P-521", 66},
    [AT_ALG_EDDSA] = {"EdDSA", AT_KIND_EDDSA, NULL, 0, 0, NULL, NULL, 0},
};

const at_alg_info_t *at_alg_info(at_alg_t alg)
{
    if (alg <= AT_ALG_UNKNOWN || alg >= AT_ALG_COUNT) {
        return NULL;
    }
    return &alg_table[alg];
}

at_alg_t at_alg_from_name(const char *name)
{
    int i;

    if (name == NULL) {
        return AT_ALG_UNKNOWN;
    }
    for (i = AT_ALG_UNKNOWN + 1; i < AT_ALG_COUNT; i++) {
        if (strcmp(alg_table[i].name, name) == 0) {
            return (at_alg_t)i;
        }
    }
    return AT_ALG_UNKNOWN;
}

const char *at_alg_name(at_alg_t alg)
{
    const at_alg_info_t *info = at_alg_info(alg);

    return info ? info->name : NULL;
}

int at_alg_is_hmac(at_alg_t alg)
{
    const at_alg_info_t *info = at_alg_info(alg);

    return info != NULL && info->kind == AT_KIND_HMAC;
}
