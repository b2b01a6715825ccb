/* bench_console_seed: fills a registry with N applications for
 * bench/console_pages.sh. Usage: bench_console_seed REGISTRY N
 * Goes through at_app_create like the console does, so the rows (and the
 * audit log) look like an operator's. */
#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "at_registry.h"

int main(int argc, char **argv)
{
    apr_pool_t *pool, *p;
    at_registry_t *reg;
    at_error_t err = {{0}};
    long i, n;

    if (argc != 3 || (n = atol(argv[2])) < 0) {
        fprintf(stderr, "usage: %s REGISTRY N\n", argv[0]);
        return 2;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (at_registry_open(pool, "sqlite3", argv[1], &reg, &err) != APR_SUCCESS) {
        fprintf(stderr, "%s: %s\n", argv[1], err.text);
        return 1;
    }
    apr_pool_create(&p, pool);
    for (i = 0; i < n; i++) {
        at_app_t app = {0};
        const char *secret;

        app.name = apr_psprintf(p, "bench-app-%06ld", i);
        app.description = "seeded by bench_console_seed";
        app.type = "confidential";
        app.grants = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(app.grants, const char *) = "client_credentials";
        app.scopes = apr_array_make(p, 0, sizeof(const char *));
        app.audiences = apr_array_make(p, 0, sizeof(const char *));
        app.redirect_uris = apr_array_make(p, 0, sizeof(const char *));
        if (at_app_create(reg, p, &app, "bench", &secret, &err) !=
            APR_SUCCESS) {
            fprintf(stderr, "app %ld: %s\n", i, err.text);
            return 1;
        }
        apr_pool_clear(p);
    }
    at_registry_close(reg);
    apr_pool_destroy(pool);
    return 0;
}
