/* token-admin: one binary, two faces. Run by a web server as a CGI
 * (GATEWAY_INTERFACE is set, RFC 3875 4.1.4) it is the operators' console;
 * run from a shell it is the command line. Nothing else happens here, so
 * that each face reads its own context in one place.
 */
#include <stdlib.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "token_admin.h"

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    int status;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return 3;
    }
    if (getenv("GATEWAY_INTERFACE") != NULL) {
        status = console_main(pool);
    }
    else {
        status = cli_main(pool, argc, argv);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return status;
}
