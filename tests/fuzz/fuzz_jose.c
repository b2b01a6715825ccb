/* A time-bounded mutation fuzzer for the JOSE layer: takes the corpus
 * seeds (tests/unit/corpus/*.jwt), mutates them at random (replace, flip,
 * delete, insert) and runs every mutant through at_jws_parse,
 * at_jws_verify_keys, at_claims_check, the claim lookups and, as JSON,
 * at_jwks_load_json. Meant for sanitizer builds; it fails on a sanitizer
 * report, or when a mutant that differs from every seed is accepted.
 *
 * Build and run from the top directory (not part of make check):
 *   gcc -g -O1 -fsanitize=address,undefined -D_GNU_SOURCE -Ilib -Ilib/jose \
 *       $(pkg-config --cflags apr-1) -o /tmp/fuzz_jose tests/fuzz/fuzz_jose.c \
 *       lib/jose/at_alg.c lib/jose/at_b64.c lib/jose/at_claims.c lib/at_error.c \
 *       lib/jose/at_json.c lib/jose/at_jwk.c lib/jose/at_jws.c lib/jose/at_key.c \
 *       lib/jose/at_jose_cache.c $(pkg-config --libs apr-1 openssl jansson)
 *   /tmp/fuzz_jose 60        # seconds
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "at_claims.h"

#define CORPUS "tests/unit/corpus/"
#define MAX_SEEDS 512
#define MAX_TOKEN 50000

static apr_pool_t *pool;
static char *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static int nseeds;

static void load_keys(apr_array_header_t *keys)
{
    static const struct {
        const char *file;
        at_alg_t alg;
        const char *kid;
    } files[] = {
        {CORPUS "keys/hs256.secret", AT_ALG_HS256, "hs256"},
        {CORPUS "keys/rs256.pub.pem", AT_ALG_RS256, "rs256"},
        {CORPUS "keys/ps256.pub.pem", AT_ALG_PS256, "ps256"},
        {CORPUS "keys/es256.pub.pem", AT_ALG_ES256, "es256"},
        {CORPUS "keys/es512.pub.pem", AT_ALG_ES512, "es512"},
        {CORPUS "keys/eddsa.pub.pem", AT_ALG_EDDSA, "eddsa"},
    };
    at_key_t *key;
    at_error_t err;
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (at_key_load_file(pool, files[i].alg, files[i].file, files[i].kid,
                             0, &key, &err) != APR_SUCCESS) {
            fprintf(stderr, "%s\n", err.text);
            exit(2);
        }
        APR_ARRAY_PUSH(keys, at_key_t *) = key;
    }
}

static void load_seeds(void)
{
    DIR *d = opendir(CORPUS);
    struct dirent *e;

    if (d == NULL) {
        perror(CORPUS);
        exit(2);
    }
    while ((e = readdir(d)) != NULL && nseeds < MAX_SEEDS) {
        size_t n = strlen(e->d_name);
        char *path;
        FILE *f;

        if (n < 5 || strcmp(e->d_name + n - 4, ".jwt") != 0) {
            continue;
        }
        path = apr_pstrcat(pool, CORPUS, e->d_name, NULL);
        f = fopen(path, "rb");
        if (f == NULL) {
            continue;
        }
        seeds[nseeds] = apr_palloc(pool, MAX_TOKEN);
        seed_len[nseeds] = fread(seeds[nseeds], 1, MAX_TOKEN - 1, f);
        fclose(f);
        nseeds++;
    }
    closedir(d);
}

/* 1 when BUF equals one of the seeds. */
static int is_seed(const char *buf, size_t len)
{
    int i;

    for (i = 0; i < nseeds; i++) {
        if (seed_len[i] == len && memcmp(seeds[i], buf, len) == 0) {
            return 1;
        }
    }
    return 0;
}

static size_t mutate(char *buf, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                   "opqrstuvwxyz0123456789-_.=+/ {}\"\\\0";
    int m, n = 1 + rand() % 4;
    size_t pos;

    for (m = 0; m < n && len > 1; m++) {
        pos = (size_t)rand() % len;
        switch (rand() % 4) {
        case 0:
            buf[pos] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
            break;
        case 1:
            buf[pos] ^= (char)(1 << (rand() % 8));
            break;
        case 2:
            memmove(buf + pos, buf + pos + 1, len - pos - 1);
            len--;
            break;
        default:
            if (len < MAX_TOKEN - 1) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
                len++;
            }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    at_claim_rules_t rules = {NULL, NULL, NULL, 30, "sub"};
    apr_array_header_t *keys, *jwks;
    apr_pool_t *scratch;
    time_t end;
    long runs = 0, bad = 0;
    char *buf;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_pool_create(&scratch, pool);
    keys = apr_array_make(pool, 8, sizeof(at_key_t *));
    load_keys(keys);
    load_seeds();
    if (nseeds == 0) {
        fprintf(stderr, "no seeds in " CORPUS "\n");
        return 2;
    }
    buf = apr_palloc(pool, MAX_TOKEN);
    srand((unsigned)time(NULL));
    end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 10);
    while (time(NULL) < end) {
        int s = rand() % nseeds;
        size_t len;
        at_jws_t jws;
        at_error_t err;
        const at_key_t *used;
        unsigned char *raw;
        size_t raw_len;

        memcpy(buf, seeds[s], seed_len[s]);
        len = mutate(buf, seed_len[s]);
        if (at_jws_parse(scratch, buf, len, &jws, &err) == APR_SUCCESS) {
            at_claim_matches(at_claim_lookup(jws.claims, "a.b"), "1");
            at_scopes_hold(jws.claims, NULL);
            if (at_jws_verify_keys(&jws, keys, &used, &err) == APR_SUCCESS
                && at_claims_check(&jws, &rules, (long long)time(NULL), &err)
                       == APR_SUCCESS
                && !is_seed(buf, len)) {
                fprintf(stderr, "accepted a mutant of seed %d\n", s);
                bad++;
            }
        }
        at_jwks_load_json(scratch, buf, len, "fuzz", &jwks, &err);
        at_b64url_decode(scratch, buf, len, &raw, &raw_len);
        apr_pool_clear(scratch);
        runs++;
    }
    printf("%ld mutants, %ld wrongly accepted\n", runs, bad);
    apr_pool_destroy(pool);
    apr_terminate();
    return bad ? 1 : 0;
}
