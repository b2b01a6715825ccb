/* Registry reads shaped for the web console's list pages: one page of
 * rows at a cost that does not grow with the registry (counts over the
 * smallest index, page skipping inside an index, one statement per filter
 * combination so that SQLite can use the audit indexes). Same contracts as
 * at_registry.h: APR_SUCCESS, or another status with ERR filled.
 */
#ifndef AT_REGISTRY_CONSOLE_H
#define AT_REGISTRY_CONSOLE_H

#include "at_registry.h"

/* The client_ids (const char *) of one page of applications ordered by
 * name; SEARCH (NULL or "" for all) matches name or client_id substrings.
 * *total (may be NULL: not counted) gets the number of matches. */
apr_status_t at_console_app_ids(at_registry_t *reg, apr_pool_t *p,
                                const char *search, int offset, int limit,
                                apr_array_header_t **ids, int *total,
                                at_error_t *err);

/* One page of audit rows (at_audit_t *), newest first, filtered by TARGET
 * and ACTOR (NULL or "": any). *total (may be NULL: not counted) gets the
 * number of matches. */
apr_status_t at_console_audit_page(at_registry_t *reg, apr_pool_t *p,
                                   const char *target, const char *actor,
                                   int offset, int limit,
                                   apr_array_header_t **rows, int *total,
                                   at_error_t *err);

/* The application an access token (by its jti) was issued to, in
 * *client_id; APR_NOTFOUND when the issuer recorded no such jti (or it
 * expired and was purged). Lets the console revoke a jti only from the
 * page of the application it belongs to. */
apr_status_t at_console_jti_client(at_registry_t *reg, apr_pool_t *p,
                                   const char *jti, const char **client_id,
                                   at_error_t *err);

#endif /* AT_REGISTRY_CONSOLE_H */
