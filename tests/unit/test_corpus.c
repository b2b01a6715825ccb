/* The negative corpus (tests/unit/corpus, written by make_corpus.py): every
 * seed must be rejected by exactly the stage expect.txt names (parse,
 * verify or claims), and the ok-* controls must pass all three with the
 * same keys and rules, so a pipeline that refuses everything fails here.
 * Run from tests/unit (make check does). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "unit.h"
#include "at_claims.h"

#define CORPUS "corpus/"

static apr_pool_t *pool;

/* The corpus keys, each bound to the algorithm and kid its file names. */
static apr_array_header_t *corpus_keys(void)
{
    static const struct {
        const char *file;
        at_alg_t alg;
        const char *kid;
    } files[] = {
        {"hs256.secret", AT_ALG_HS256, "hs256"},
        {"hs384.secret", AT_ALG_HS384, "hs384"},
        {"hs512.secret", AT_ALG_HS512, "hs512"},
        {"rs256.pub.pem", AT_ALG_RS256, "rs256"},
        {"rs256.pub.pem", AT_ALG_RS384, "rs384"},
        {"rs256.pub.pem", AT_ALG_RS512, "rs512"},
        {"ps256.pub.pem", AT_ALG_PS256, "ps256"},
        {"ps256.pub.pem", AT_ALG_PS384, "ps384"},
        {"ps256.pub.pem", AT_ALG_PS512, "ps512"},
        {"es256.pub.pem", AT_ALG_ES256, "es256"},
        {"es384.pub.pem", AT_ALG_ES384, "es384"},
        {"es512.pub.pem", AT_ALG_ES512, "es512"},
        {"eddsa.pub.pem", AT_ALG_EDDSA, "eddsa"},
    };
    apr_array_header_t *keys = apr_array_make(pool, 13, sizeof(at_key_t *));
    at_key_t *key;
    at_error_t err;
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        apr_status_t rv = at_key_load_file(
            pool, files[i].alg,
            apr_pstrcat(pool, CORPUS "keys/", files[i].file, NULL),
            files[i].kid, 0, &key, &err);

        CHECK(rv == APR_SUCCESS, "corpus key %s: %s", files[i].file, err.text);
        if (rv == APR_SUCCESS) {
            APR_ARRAY_PUSH(keys, at_key_t *) = key;
        }
    }
    return keys;
}

/* Runs TOKEN through parse, verify, claims; returns the first stage that
 * refuses it, or "accept". */
static const char *first_refusal(const char *token, size_t len,
                                 const apr_array_header_t *keys,
                                 const char **why)
{
    static at_error_t err;
    at_claim_rules_t rules = {NULL, NULL, NULL, 30, "sub"};
    at_jws_t jws;

    err.text[0] = '\0';
    *why = err.text;
    if (at_jws_parse(pool, token, len, &jws, &err) != APR_SUCCESS) {
        return "parse";
    }
    if (at_jws_verify_keys(&jws, keys, NULL, &err) != APR_SUCCESS) {
        return "verify";
    }
    if (at_claims_check(&jws, &rules, (long long)time(NULL), &err)
        != APR_SUCCESS) {
        return "claims";
    }
    return "accept";
}

/* keys/jwks.json (jwcrypto's export, bound by the default rules) as a
 * second key set: its kids and algorithms as the contract says. */
static apr_array_header_t *corpus_jwks(void)
{
    static const struct {
        const char *kid;
        at_alg_t alg;
    } want[] = {
        {"rs256", AT_ALG_RS256}, {"es256", AT_ALG_ES256},
        {"es384", AT_ALG_ES384}, {"es512", AT_ALG_ES512},
        {"eddsa", AT_ALG_EDDSA}, {"hs256", AT_ALG_HS256},
    };
    apr_array_header_t *keys = NULL;
    at_error_t err;
    size_t i;

    CHECK(at_jwks_load_file(pool, CORPUS "keys/jwks.json", &keys, &err)
              == APR_SUCCESS, "jwks.json loads: %s", err.text);
    if (keys == NULL) {
        return apr_array_make(pool, 1, sizeof(at_key_t *));
    }
    CHECK(keys->nelts == 6, "jwks.json: %d keys (the enc key skipped)",
          keys->nelts);
    for (i = 0; i < sizeof(want) / sizeof(want[0]) && (int)i < keys->nelts;
         i++) {
        const at_key_t *k = APR_ARRAY_IDX(keys, i, const at_key_t *);

        CHECK(k->kid && strcmp(k->kid, want[i].kid) == 0
                  && k->alg == want[i].alg,
              "jwks.json key %lu bound to %s", (unsigned long)i,
              at_alg_name(want[i].alg));
    }
    return keys;
}

/* 1 when TOKEN's kid names a key of jwks.json. */
static int kid_in_jwks(const char *token, size_t len)
{
    static const char *kids[] = {"rs256", "es256", "es384", "es512",
                                 "eddsa", "hs256"};
    at_jws_t jws;
    at_error_t err;
    size_t i;

    if (at_jws_parse(pool, token, len, &jws, &err) != APR_SUCCESS
        || jws.kid == NULL) {
        return 0;
    }
    for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
        if (strcmp(jws.kid, kids[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    apr_array_header_t *keys, *jwks;
    apr_hash_t *listed;
    apr_file_t *f;
    apr_dir_t *dir;
    apr_finfo_t fi;
    char line[256], *name, *stage, *last, *token;
    apr_size_t len;
    int seeds = 0, controls = 0, jwks_controls = 0;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    keys = corpus_keys();
    jwks = corpus_jwks();
    listed = apr_hash_make(pool);

    if (apr_file_open(&f, CORPUS "expect.txt", APR_FOPEN_READ, 0, pool)) {
        CHECK(0, "cannot open " CORPUS "expect.txt");
        UNIT_DONE();
    }
    while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS) {
        const char *got, *why;
        apr_file_t *tf;
        apr_finfo_t tfi;

        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }
        name = apr_strtok(line, " \n", &last);
        stage = apr_strtok(NULL, " \n", &last);
        if (name == NULL || stage == NULL) {
            CHECK(0, "bad expect.txt line");
            continue;
        }
        name = apr_pstrdup(pool, name);
        apr_hash_set(listed, name, APR_HASH_KEY_STRING, name);
        if (apr_file_open(&tf, apr_pstrcat(pool, CORPUS, name, ".jwt", NULL),
                          APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool)
            || apr_file_info_get(&tfi, APR_FINFO_SIZE, tf)) {
            CHECK(0, "seed %s missing", name);
            continue;
        }
        len = (apr_size_t)tfi.size;
        token = apr_palloc(pool, len + 1);
        apr_file_read_full(tf, token, len, &len);
        token[len] = '\0';
        apr_file_close(tf);

        got = first_refusal(token, len, keys, &why);
        CHECK(strcmp(got, stage) == 0, "%s: expected %s, got %s (%s)", name,
              stage, got, why);
        if (getenv("CORPUS_VERBOSE")) {
            printf("%-48s %-7s %s\n", name, got, why);
        }
        /* The same keys from a JWK Set: controls whose kid it holds pass,
         * no attack does. */
        got = first_refusal(token, len, jwks, &why);
        if (strcmp(stage, "accept") == 0 && kid_in_jwks(token, len)) {
            CHECK(strcmp(got, "accept") == 0, "%s with jwks.json: %s (%s)",
                  name, got, why);
            jwks_controls++;
        }
        else if (strcmp(stage, "accept") != 0) {
            CHECK(strcmp(got, "accept") != 0, "%s accepted with jwks.json",
                  name);
        }
        if (strcmp(stage, "accept") == 0) {
            controls++;
        }
        else {
            seeds++;
        }
    }
    apr_file_close(f);

    /* A seed without an expectation would be silently skipped. */
    if (apr_dir_open(&dir, CORPUS, pool) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME, dir) == APR_SUCCESS) {
            size_t n = strlen(fi.name);

            if (n > 4 && strcmp(fi.name + n - 4, ".jwt") == 0) {
                char *stem = apr_pstrmemdup(pool, fi.name, n - 4);

                CHECK(apr_hash_get(listed, stem, APR_HASH_KEY_STRING),
                      "%s not in expect.txt", fi.name);
            }
        }
        apr_dir_close(dir);
    }
    CHECK(seeds >= 60 && controls >= 45, "%d seeds, %d controls", seeds,
          controls);
    CHECK(jwks_controls >= 15, "%d controls checked with jwks.json",
          jwks_controls);
    printf("corpus: %d attack seeds, %d controls (%d also with jwks.json)\n",
           seeds, controls, jwks_controls);

    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
