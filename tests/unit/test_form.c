/* The issuer's request parsing without httpd (at_form.c): form bodies
 * (RFC 6749 section 3.1) and HTTP Basic client credentials (section
 * 2.3.1), both refusing what they cannot read exactly. */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "unit.h"
#include "at_form.h"

static apr_pool_t *pool;

/* Parses BODY; the result, with *params filled. */
static at_form_result_t parse(const char *body, apr_table_t **params,
                              const char **repeated)
{
    *params = apr_table_make(pool, 4);
    *repeated = NULL;
    return at_form_parse(pool, apr_pstrdup(pool, body), *params, repeated);
}

static const char *get(apr_table_t *t, const char *name)
{
    const char *v = apr_table_get(t, name);

    return v ? v : "(absent)";
}

static void test_form(void)
{
    static const struct {
        const char *body;
        at_form_result_t want;
    } bad[] = {
        {"a=%zz", AT_FORM_MALFORMED},   {"a=%4", AT_FORM_MALFORMED},
        {"a=1%", AT_FORM_MALFORMED},    {"a=x%00y", AT_FORM_MALFORMED},
        {"%00=1", AT_FORM_MALFORMED},   {"=1", AT_FORM_NO_NAME},
        {"a=1&=", AT_FORM_NO_NAME},     {"a=1&a=2", AT_FORM_REPEATED},
        {"a=&a=1", AT_FORM_REPEATED},   {"a&a", AT_FORM_REPEATED},
        {"a=1&%61=2", AT_FORM_REPEATED},
    };
    apr_table_t *t;
    const char *rep;
    size_t i;

    CHECK(parse("grant_type=client_credentials&scope=a+b%2Fc", &t, &rep)
              == AT_FORM_OK
              && strcmp(get(t, "grant_type"), "client_credentials") == 0
              && strcmp(get(t, "scope"), "a b/c") == 0,
          "two parameters, '+' and %%2F decoded: %s", get(t, "scope"));
    CHECK(parse("&&a=b=c&&", &t, &rep) == AT_FORM_OK
              && strcmp(get(t, "a"), "b=c") == 0,
          "empty pairs skipped, '=' inside a value kept");
    CHECK(parse("a=&b&c=1", &t, &rep) == AT_FORM_OK && !apr_table_get(t, "a")
              && !apr_table_get(t, "b") && strcmp(get(t, "c"), "1") == 0,
          "empty values count as absent");
    CHECK(parse("GRANT_TYPE=password&grant_type=client_credentials", &t,
                &rep) == AT_FORM_OK
              && strcmp(get(t, "grant_type"), "client_credentials") == 0
              && apr_table_elts(t)->nelts == 1,
          "names are case-sensitive; upper-case names are not kept");
    CHECK(parse("Scope=admin", &t, &rep) == AT_FORM_OK
              && !apr_table_get(t, "scope"),
          "Scope is not scope");
    CHECK(parse("", &t, &rep) == AT_FORM_OK && apr_table_elts(t)->nelts == 0,
          "empty body");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(parse(bad[i].body, &t, &rep) == bad[i].want, "\"%s\" refused",
              bad[i].body);
    }
    CHECK(parse("x=1&scope%3D=1&scope%3D=2", &t, &rep) == AT_FORM_REPEATED
              && rep && strcmp(rep, "scope=") == 0,
          "the repeated name is given decoded: %s", rep ? rep : "(null)");
}

static void test_basic(void)
{
    static const struct {
        const char *header, *id, *secret;
    } good[] = {
        {"Basic aWQ6c2VjcmV0", "id", "secret"},
        {"basic aWQ6c2VjcmV0", "id", "secret"},
        {"BASIC \t aWQ6c2VjcmV0", "id", "secret"},
        {"Basic\taWQ6c2VjcmV0", "id", "secret"},
        /* a%3Ab:c%2Bd+e */
        {"Basic YSUzQWI6YyUyQmQrZQ==", "a:b", "c+d e"},
        {"Basic aWQ6", "id", ""},                       /* id: */
        {"Basic aWQ6c2U6Y3JldA==", "id", "se:cret"},    /* id:se:cret */
        {"Basic c3ZjOnMzY3IzdD8+", "svc", "s3cr3t?>"},  /* '+' in base64 */
        {"Basic aWQ6cw==", "id", "s"},
    };
    static const struct {
        const char *header;
        apr_status_t want;
        const char *why;
    } bad[] = {
        {"Bearer aWQ6c2VjcmV0", APR_NOTFOUND, "another scheme"},
        {"Basicx aWQ6c2VjcmV0", APR_NOTFOUND, "another scheme"},
        {"", APR_NOTFOUND, "empty header"},
        {"Basic", APR_EINVAL, "no credentials"},
        {"Basic   ", APR_EINVAL, "blanks only"},
        {"Basic aWRzZWNyZXQ=", APR_EINVAL, "no colon"},
        {"Basic OnNlY3JldA==", APR_EINVAL, "empty id"},
        {"Basic aSV6emQ6cw==", APR_EINVAL, "bad escape in the id"},
        {"Basic aWQ6cyUwMA==", APR_EINVAL, "%00 in the secret"},
        {"Basic aWQAeDpz", APR_EINVAL, "NUL in the decoded text"},
        {"Basic YSUzQWI6YyUyQmQrZQ", APR_EINVAL, "padding missing"},
        {"Basic YSUzQWI6YyUyQmQrZQ=", APR_EINVAL, "padding short"},
        {"Basic aWQ6c2VjcmV0=", APR_EINVAL, "padding where none belongs"},
        {"Basic c3ZjOnMzY3IzdD8-", APR_EINVAL, "base64url alphabet"},
        {"Basic aWQ6c2Vj cmV0", APR_EINVAL, "blank inside"},
        {"Basic aWQ6c2VjcmV0 ", APR_EINVAL, "blank after"},
        {"Basic aWQ6cx==", APR_EINVAL, "non-zero trailing bits (aWQ6cw==)"},
        {"Basic !!notbase64", APR_EINVAL, "not base64"},
    };
    char *id, *secret;
    apr_status_t rv;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        id = secret = NULL;
        rv = at_basic_credentials(pool, good[i].header, &id, &secret);
        CHECK(rv == APR_SUCCESS && strcmp(id, good[i].id) == 0
                  && strcmp(secret, good[i].secret) == 0,
              "\"%s\": rv %d, id %s, secret %s", good[i].header, rv,
              id ? id : "(null)", secret ? secret : "(null)");
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rv = at_basic_credentials(pool, bad[i].header, &id, &secret);
        CHECK(rv == bad[i].want, "%s (\"%s\"): rv %d", bad[i].why,
              bad[i].header, rv);
    }
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_form();
    test_basic();
    apr_pool_destroy(pool);
    apr_terminate();
    UNIT_DONE();
}
