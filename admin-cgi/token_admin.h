/* token-admin: one binary, two faces. main.c reads the process context and
 * hands over to the console (run as a CGI: GATEWAY_INTERFACE is set) or to
 * the command line (cli_*.c). */
#ifndef TOKEN_ADMIN_H
#define TOKEN_ADMIN_H

#include <apr_pools.h>

/* The command line: argv as given to main. Returns the exit status. */
int cli_main(apr_pool_t *p, int argc, const char *const *argv);

/* The web console: one CGI request from the environment and stdin to
 * stdout. Returns the exit status (0 even for error pages it served). */
int console_main(apr_pool_t *p);

#endif /* TOKEN_ADMIN_H */
