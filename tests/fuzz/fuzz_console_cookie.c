/* libFuzzer target: the console's cookie and CSRF parsers. The first byte
 * picks what the rest is:
 *   0  an HTTP Cookie header: console_cookie, then console_secret_cookie_
 *      take, which must find no secret (the fuzzer cannot seal one);
 *   1  a client_id and a secret (NUL between them): sealed by console_
 *      secret_cookie_set into the cookie the browser would send back, then
 *      taken: the secret comes back whole, once, or not at all;
 *   2  an operator name and a CSRF token: the console's own token for that
 *      operator checks, the given one (which the fuzzer cannot forge) does
 *      not.
 * The one-time tickets go to a registry in a temporary directory (on
 * tmpfs where there is one), made afresh every few thousand so that it
 * stays small. Seeds: tests/fuzz/corpus/
 * console_cookie (named m0-, m1-, m2- after their mode). */
#include <openssl/rand.h>

#include "fuzz_console.h"

#define COOKIE "token_admin_secret"
#define REOPEN_EVERY 4000

static apr_pool_t *reg_pool;
static at_registry_t *reg;
static unsigned char key[32];
static int writes;
static char dir[64];

/* Removes the registry file and SQLite's companions. */
static void remove_registry(void)
{
    static const char *const tails[] = {"", "-wal", "-shm"};
    int i;

    for (i = 0; i < 3; i++) {
        unlink(apr_pstrcat(fuzz_scratch, dir, "/registry.db", tails[i],
                           NULL));
    }
}

static void open_registry(void)
{
    at_error_t err;

    /* Destroying the pool closes the registry it holds. */
    if (reg_pool != NULL) {
        apr_pool_destroy(reg_pool);
        remove_registry();
    }
    apr_pool_create(&reg_pool, fuzz_pool);
    if (at_registry_open(reg_pool, "sqlite3",
                         apr_pstrcat(reg_pool, dir, "/registry.db", NULL),
                         &reg, &err) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_console_cookie: %s\n", err.text);
        abort();
    }
    writes = 0;
}

/* Registered after fuzz_init's, so run before it. */
static void close_registry(void)
{
    apr_pool_destroy(reg_pool);
    remove_registry();
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    if (RAND_bytes(key, sizeof(key)) != 1) {
        abort();
    }
    /* In memory (tmpfs) where there is one: SQLite cannot use WAL on a
     * ":memory:" database, and the registry insists on WAL. */
    snprintf(dir, sizeof(dir), "%s/fuzz_console_cookie.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        abort();
    }
    open_registry();
    atexit(close_registry);
    return 0;
}

static console_t *console(void)
{
    console_t *c = fuzz_console("GET");

    c->reg = reg;
    memcpy(c->csrf_key, key, sizeof(key));
    return c;
}

static void cookie_header(const char *header)
{
    console_t *c = console();

    c->cookie = header;
    (void)console_cookie(c, "a");
    if (console_cookie(c, COOKIE) != NULL) {
        /* Whatever it holds, it is refused, and the cookie is cleared. */
        FUZZ_ASSERT(console_secret_cookie_take(c, "app-1") == NULL);
        FUZZ_ASSERT(apr_table_get(c->headers_out, "Set-Cookie") != NULL);
    }
}

/* The value of the COOKIE Set-Cookie of C, or NULL. */
static const char *set_cookie_value(console_t *c)
{
    const char *v = apr_table_get(c->headers_out, "Set-Cookie");
    size_t n = strlen(COOKIE "=");

    if (v == NULL || strncmp(v, COOKIE "=", n) != 0) {
        return NULL;
    }
    return apr_pstrndup(fuzz_scratch, v + n, strcspn(v + n, ";"));
}

static int plain_field(const char *s)
{
    return *s != '\0' && strchr(s, '\n') == NULL;
}

static void round_trip(const char *client_id, const char *secret)
{
    console_t *c = console(), *back;
    const char *sealed, *got;

    console_secret_cookie_set(c, client_id, secret);
    sealed = set_cookie_value(c);
    FUZZ_ASSERT(sealed != NULL);
    back = console();
    back->cookie = apr_pstrcat(fuzz_scratch, "theme=dark; " COOKIE "=",
                               sealed, NULL);
    got = console_secret_cookie_take(back, client_id);
    writes++;
    /* Fields are newline-separated (a newline in a secret, which the
     * registry never makes, would cut it): never anything but the secret
     * or a piece of it. */
    FUZZ_ASSERT(got == NULL || strstr(secret, got) != NULL);
    if (plain_field(client_id) && plain_field(secret)
        && console_utf8_valid(client_id, strlen(client_id))) {
        FUZZ_ASSERT(got != NULL && strcmp(got, secret) == 0);
        /* Shown once: the same cookie again finds its ticket used. */
        back = console();
        back->cookie = apr_pstrcat(fuzz_scratch, COOKIE "=", sealed, NULL);
        FUZZ_ASSERT(console_secret_cookie_take(back, client_id) == NULL);
    }
    /* Any change to the sealed text is refused. */
    if (strlen(sealed) > 2) {
        char *bent = apr_pstrdup(fuzz_scratch, sealed);

        bent[strlen(bent) / 2] = bent[strlen(bent) / 2] == '0' ? '1' : '0';
        back = console();
        back->cookie = apr_pstrcat(fuzz_scratch, COOKIE "=", bent, NULL);
        FUZZ_ASSERT(console_secret_cookie_take(back, client_id) == NULL);
    }
    if (writes >= REOPEN_EVERY) {
        open_registry();
    }
}

static void csrf(const char *operator, const char *token)
{
    console_t *c = console();

    c->remote_user = operator;
    FUZZ_ASSERT(console_csrf_check(c, console_csrf_token(c)) == 1);
    FUZZ_ASSERT(console_csrf_check(c, token) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *first, *second;
    size_t n;

    if (size == 0) {
        return 0;
    }
    first = fuzz_string(data + 1, size - 1);
    n = strlen(first) + 1;
    second = n < size - 1 ? fuzz_string(data + 1 + n, size - 1 - n) : "";
    switch (data[0] % 3) {
    case 0:
        cookie_header(first);
        break;
    case 1:
        round_trip(first, second);
        break;
    default:
        csrf(first, second);
    }
    apr_pool_clear(fuzz_scratch);
    return 0;
}
