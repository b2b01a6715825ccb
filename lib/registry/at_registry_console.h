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
 * name; SEARCH (NULL or "" for all) matches substrings of the name, the
 * client_id or the description, ignoring case (ASCII letters).
 * *total (may be NULL: not counted) gets the number of matches. */
apr_status_t at_console_app_ids(at_registry_t *reg, apr_pool_t *p,
                                const char *search, int offset, int limit,
                                apr_array_header_t **ids, int *total,
                                at_error_t *err);

/* One page of audit rows (at_audit_t *), newest first, filtered by TARGET
 * and ACTOR (NULL or "": any). TARGET matches a target exactly, or the
 * applications whose name or client_id holds it (ignoring case); ACTOR
 * matches operators whose name holds it (ignoring case). *total (may be
 * NULL: not counted) gets the number of matches. */
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

/* One refused field of an application: FIELD names the at_app_t member
 * ("name", "description", "type", "grants", "offline_client_credentials",
 * "scopes", "audiences", "redirect_uris", "access_lifetime",
 * "refresh_lifetime"), ITEM the index of the wrong entry of a list field
 * (-1: the field as a whole), TEXT the words the command line prints. */
typedef struct at_problem {
    const char *field;
    int item;
    const char *text;
} at_problem_t;

/* Every problem of APP (at_problem_t *, at most one per field, in the
 * order of the console's form); empty when at_validate_app would accept
 * it. The same checks and words as at_app_create/at_app_update. */
apr_array_header_t *at_app_problems(apr_pool_t *p, const at_app_t *app);

/* The same for a scope's NAME (NULL: not checked, as for an update) and
 * DESCRIPTION; fields "name" and "description". */
apr_array_header_t *at_scope_problems(apr_pool_t *p, const char *name,
                                      const char *description);

/* The names of the applications IDS (const char *): *names maps the
 * client_id of each existing one to its name, *gone that of each deleted
 * one to the name its deletion recorded in the audit log; other ids are
 * in neither. */
apr_status_t at_console_app_names(at_registry_t *reg, apr_pool_t *p,
                                  const apr_array_header_t *ids,
                                  apr_table_t **names, apr_table_t **gone,
                                  at_error_t *err);

/* The secrets of CLIENT_ID: *old_until is when the last previous secret
 * still valid stops working (0: none is), *last_rotated when the secret
 * was last rotated (0: never since it was created). */
apr_status_t at_console_secret_state(at_registry_t *reg, apr_pool_t *p,
                                     const char *client_id,
                                     long long *old_until,
                                     long long *last_rotated, at_error_t *err);

/* The applications allowed SCOPE, by name: *apps gets at_app_t * with
 * client_id and name only. */
apr_status_t at_console_scope_users(at_registry_t *reg, apr_pool_t *p,
                                    const char *scope,
                                    apr_array_header_t **apps, at_error_t *err);

#endif /* AT_REGISTRY_CONSOLE_H */
