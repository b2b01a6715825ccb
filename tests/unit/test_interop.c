/* Interoperability of signing: a token for every algorithm, signed by
 * at_jws_sign with the corpus private keys, must verify with three
 * independent JOSE libraries (corpus/verify_interop.py: python3-jwt,
 * python3-jwcrypto, python3-authlib). The other direction, tokens minted by
 * those libraries, is covered by the ok-* seeds of test_corpus.
 * Run from tests/unit (make check does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "unit.h"
#include "at_jose.h"

static apr_pool_t *pool;

/* The corpus file holding ALG's private key (or secret). */
static const char *private_file(at_alg_t alg)
{
    switch (alg) {
    case AT_ALG_HS256: return "corpus/keys/hs256.secret";
    case AT_ALG_HS384: return "corpus/keys/hs384.secret";
    case AT_ALG_HS512: return "corpus/keys/hs512.secret";
    case AT_ALG_ES256: return "corpus/keys/es256.key.pem";
    case AT_ALG_ES384: return "corpus/keys/es384.key.pem";
    case AT_ALG_ES512: return "corpus/keys/es512.key.pem";
    case AT_ALG_EDDSA: return "corpus/keys/eddsa.key.pem";
    default: return "corpus/keys/rs256.key.pem";
    }
}

int main(void)
{
    char *path;
    json_t *claims;
    FILE *out;
    at_key_t *key;
    at_error_t err;
    char *token;
    int fd, a, rc, signed_ok = 0;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    path = apr_pstrcat(pool, unit_tmpdir(), "/tokens_XXXXXX", NULL);
    fd = mkstemp(path);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(out != NULL, "temporary file");
    if (out == NULL) {
        UNIT_DONE();
    }
    claims = json_pack("{s:s, s:s, s:I, s:I}", "sub", "interop", "iss",
                       "https://issuer.example", "exp",
                       (json_int_t)4102444800LL, "iat",
                       (json_int_t)1700000000LL);
    for (a = AT_ALG_HS256; a < AT_ALG_COUNT; a++) {
        const char *name = at_alg_name((at_alg_t)a);

        if (at_key_load_file(pool, (at_alg_t)a, private_file((at_alg_t)a),
                             "interop", 1, &key, &err) != APR_SUCCESS
            || at_jws_sign(pool, key, NULL, claims, &token, &err)
                   != APR_SUCCESS) {
            CHECK(0, "%s: %s", name, err.text);
            continue;
        }
        fprintf(out, "%s %s\n", name, token);
        signed_ok++;
    }
    fclose(out);
    json_decref(claims);
    CHECK(signed_ok == AT_ALG_COUNT - 1, "signed %d tokens", signed_ok);

    /* Quoted: $TMPDIR may hold a space (mkstemp adds no quote). */
    rc = system(apr_psprintf(pool, "/usr/bin/python3 corpus/verify_interop.py"
                                   " '%s'", path));
    CHECK(rc == 0, "independent libraries accept our tokens (status %d)",
          rc);
    unlink(path);
    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
