/* Secrets and opaque tokens: generation, the storage form, verification
 * and its refusals, token hashes, constant-time equality. */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "unit.h"
#include "at_secret.h"

static int is_b64url(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

int main(void)
{
    apr_pool_t *p;
    const char *s1, *s2, *h1, *h2, *bad;
    unsigned char digest[32];
    unsigned int dlen;
    char hex[100];
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);

    CHECK(at_secret_generate(p, &s1) == APR_SUCCESS, "generate");
    CHECK(at_secret_generate(p, &s2) == APR_SUCCESS, "generate 2");
    CHECK(strlen(s1) == 43 && is_b64url(s1), "43 base64url chars: %s", s1);
    CHECK(strcmp(s1, s2) != 0, "two secrets differ");

    h1 = at_secret_hash(p, s1);
    h2 = at_secret_hash(p, s1);
    CHECK(h1 && strncmp(h1, "s256$", 5) == 0, "format: %s", h1 ? h1 : "-");
    CHECK(h1 && strlen(h1) == 5 + 22 + 1 + 43, "length: %zu",
          h1 ? strlen(h1) : 0);
    CHECK(h1 && h2 && strcmp(h1, h2) != 0, "salted: two hashes differ");
    CHECK(h1 && strstr(h1, s1) == NULL, "secret not in the hash");

    CHECK(at_secret_verify(h1, s1) == 1, "verify");
    CHECK(at_secret_verify(h2, s1) == 1, "verify other salt");
    CHECK(at_secret_verify(h1, s2) == 0, "wrong secret");
    CHECK(at_secret_verify(h1, "") == 0, "empty secret");
    CHECK(at_secret_verify(h1, NULL) == 0, "NULL secret");
    CHECK(at_secret_verify(NULL, s1) == 0, "NULL stored");
    /* One character changed, last and first. */
    {
        char *t = apr_pstrdup(p, s1);
        t[42] = t[42] == 'A' ? 'B' : 'A';
        CHECK(at_secret_verify(h1, t) == 0, "last char differs");
        t = apr_pstrdup(p, s1);
        t[0] = t[0] == 'A' ? 'B' : 'A';
        CHECK(at_secret_verify(h1, t) == 0, "first char differs");
        t = apr_pstrcat(p, s1, "x", NULL);
        CHECK(at_secret_verify(h1, t) == 0, "longer");
    }
    /* Malformed storage never matches. */
    bad = apr_pstrcat(p, "md5", h1 + 4, NULL);
    CHECK(at_secret_verify(bad, s1) == 0, "other prefix");
    bad = apr_pstrndup(p, h1, strlen(h1) - 1);
    CHECK(at_secret_verify(bad, s1) == 0, "truncated hash");
    bad = apr_pstrcat(p, "s256$", h1 + 5 + 23, NULL);
    CHECK(at_secret_verify(bad, s1) == 0, "missing salt");
    CHECK(at_secret_verify("s256$$", s1) == 0, "empty parts");
    CHECK(at_secret_verify("s256$!!!!$!!!!", s1) == 0, "bad alphabet");
    CHECK(at_secret_verify("", s1) == 0, "empty stored");

    /* Token hash: unsalted SHA-256, base64url; known value. */
    h1 = at_token_hash(p, "abc");
    CHECK(h1 && strcmp(h1, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")
              == 0, "sha256(abc): %s", h1);
    CHECK(strcmp(at_token_hash(p, s1), at_token_hash(p, s1)) == 0,
          "deterministic");
    CHECK(strcmp(at_token_hash(p, s1), at_token_hash(p, s2)) != 0,
          "distinct");
    EVP_Digest("abc", 3, digest, &dlen, EVP_sha256(), NULL);
    for (i = 0; i < 4; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    CHECK(strcmp(hex, "ba7816bf") == 0, "OpenSSL agrees: %s", hex);

    CHECK(at_consttime_eq("abc", 3, "abc", 3) == 1, "eq");
    CHECK(at_consttime_eq("abc", 3, "abd", 3) == 0, "ne");
    CHECK(at_consttime_eq("abc", 3, "abcd", 4) == 0, "length");
    CHECK(at_consttime_eq("", 0, "", 0) == 1, "empty");

    UNIT_DONE();
}
