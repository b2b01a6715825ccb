/* What the registry's files share: the connection struct and a thin layer
 * over apr_dbd (at_registry_db.c) that keeps every statement prepared (and
 * cached per connection), turns driver failures into at_error_t text, and
 * wraps transactions. at_registry_open.c opens, at_schema.c migrates,
 * at_registry_util.c and at_registry_purge.c help; one file per area for
 * the rest (apps, secrets, scopes, refresh, revoke, audit, validate).
 * Not for callers outside the registry.
 */
#ifndef AT_REGISTRY_PRIVATE_H
#define AT_REGISTRY_PRIVATE_H

#include <apr_dbd.h>
#include <apr_hash.h>

#include "at_registry.h"

/* SQLite waits this long inside one step for a lock; apr_dbd's sqlite3
 * driver itself retries a busy step 15 more times with 100 ms sleeps, so a
 * held lock is given up after about 16 * (250 + 100) ms = 5.6 s. */
#define AT_REGISTRY_BUSY_MS 250
/* How long opening keeps retrying steps SQLite refused as busy. */
#define AT_REGISTRY_OPEN_RETRY_S 10

struct at_registry {
    apr_pool_t *pool;                 /* connection lifetime */
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const char *driver_name;
    const char *where;                /* for messages: file path */
    apr_hash_t *stmts;                /* SQL text -> apr_dbd_prepared_t * */
    apr_dbd_transaction_t *trans;     /* open transaction or NULL */
    apr_pool_t *trans_pool;           /* the pool that began it */
    int readonly;                     /* file not writable: refuse writes */
    unsigned int writes;              /* for opportunistic purging */
};

/* Seconds since the epoch. */
long long at_reg_now(void);
/* Decimal text of V, in P. */
const char *at_reg_i64(apr_pool_t *p, long long v);
/* Parses decimal text (NULL gives DEFLT). */
long long at_reg_atoll(const char *s, long long deflt);

/* Runs a data-changing statement. SQL uses apr_dbd's %s placeholders only
 * (every argument is a const char *, NULL binds SQL NULL); the number of
 * arguments is the number of '%' in SQL. *nrows (may be NULL) gets the
 * affected row count. Errors fill ERR and return APR_EEXIST for a unique
 * constraint, APR_TIMEUP for a lock held too long, APR_EACCES for a
 * read-only registry, APR_EGENERAL otherwise. */
apr_status_t at_reg_exec(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                         int *nrows, const char *sql, ...);
/* Runs a query; *rows gets one const char ** per row (NULL for SQL NULL),
 * *ncols (may be NULL) the column count. Same SQL rules as at_reg_exec. */
apr_status_t at_reg_select(at_registry_t *reg, apr_pool_t *p,
                           at_error_t *err, apr_array_header_t **rows,
                           int *ncols, const char *sql, ...);
/* The first column of the first row, or NULL with APR_NOTFOUND. */
apr_status_t at_reg_value(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          const char **value, const char *sql, ...);

/* BEGIN IMMEDIATE (the write lock is taken now, so the transaction can
 * neither deadlock on upgrade nor read stale data it then writes from).
 * Refused on a read-only registry. */
apr_status_t at_reg_begin(at_registry_t *reg, apr_pool_t *p,
                          at_error_t *err);
/* Commits when RV is APR_SUCCESS (or KEEP is set: the caller wants the
 * changes made so far even though it reports RV), rolls back otherwise.
 * Returns RV, or the commit's failure. The transaction is ended with the
 * pool that began it: apr_dbd ties a cleanup that ends the transaction to
 * that pool, and only the same pool can cancel it. */
apr_status_t at_reg_end(at_registry_t *reg, apr_status_t rv, int keep,
                        at_error_t *err);

/* Writes one audit row inside the current transaction. */
/* An at_audit_t from one audit SELECT row (id, at, actor, action, target,
 * detail). */
at_audit_t *at_reg_audit_row(apr_pool_t *p, const char **v);
apr_status_t at_reg_audit(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          const char *actor, const char *action,
                          const char *target, const char *detail);
/* Bumps the revocation generation inside the current transaction. */
apr_status_t at_reg_bump_generation(at_registry_t *reg, apr_pool_t *p,
                                    at_error_t *err);
/* Deletes a bounded batch of expired rows; failures are ignored (the next
 * call tries again). Call outside a transaction. */
void at_reg_purge_expired(at_registry_t *reg, apr_pool_t *p);

/* A new random identifier: 16 CSPRNG bytes, base64url (22 characters). */
apr_status_t at_reg_random_id(apr_pool_t *p, const char **id);

/* Inserts a new secret for CLIENT_ID inside the current transaction and
 * returns it in *secret. (at_registry_secrets.c). */
apr_status_t at_reg_new_secret(at_registry_t *reg, apr_pool_t *p,
                               const char *client_id, const char **secret,
                               at_error_t *err);

/* Inside a transaction: revokes every refresh family of CLIENT_ID, every
 * access token issued to it until now, and bumps the generation.
 * (at_registry_revoke.c) */
apr_status_t at_reg_revoke_client(at_registry_t *reg, apr_pool_t *p,
                                  const char *client_id, at_error_t *err);

/* Inserts one issued-jti row (in the caller's transaction, or as one
 * statement). (at_registry_revoke.c) */
apr_status_t at_reg_jti_insert(at_registry_t *reg, apr_pool_t *p,
                               const at_jti_rec_t *rec, at_error_t *err);

/* Inside a transaction: starts the refresh-token family FAMILY of
 * CLIENT_ID for SUBJECT with SCOPE with its first token: *token when the
 * caller made one, else a new one returned once in *token.
 * (at_registry_refresh.c) */
apr_status_t at_reg_family_start(at_registry_t *reg, apr_pool_t *p,
                                 const char *family, const char *client_id,
                                 const char *subject, const char *scope,
                                 long lifetime, const char **token,
                                 at_error_t *err);

/* Inside a transaction: revokes every refresh family of SUBJECT for
 * CLIENT_ID and every access token issued to them for it until now, and
 * bumps the generation; *count gets how many families and tokens were
 * active. (at_registry_consents.c) */
apr_status_t at_reg_revoke_person(at_registry_t *reg, apr_pool_t *p,
                                  const char *subject, const char *client_id,
                                  int *count, at_error_t *err);

/* Validation shared by CLI and console (at_registry_validate.c). Each
 * returns APR_SUCCESS or APR_EINVAL with ERR naming the field. */
/* The application CLIENT_ID with its secrets unexpired at NOW, read in one
 * statement (client authentication's single read of the registry):
 * *SECRETS holds rows {id, hash, last_used}, possibly none. APR_NOTFOUND
 * for an unknown client_id. */
apr_status_t at_reg_app_with_secrets(at_registry_t *reg, apr_pool_t *p,
                                     const char *client_id, const char *now,
                                     at_app_t **app,
                                     apr_array_header_t **secrets,
                                     at_error_t *err);

apr_status_t at_validate_scope_name(const char *name, at_error_t *err);
apr_status_t at_validate_text(const char *field, const char *value,
                              size_t maxlen, int required, at_error_t *err);
apr_status_t at_validate_app(apr_pool_t *p, const at_app_t *app,
                             at_error_t *err);

/* An audit detail: J as compact JSON text in P (J is released). */
struct json_t;
const char *at_reg_json_detail(apr_pool_t *p, struct json_t *j);
/* Space-joined list <-> array of const char * (empty text: empty array). */
/* The length of the well-formed UTF-8 sequence (RFC 3629: no overlong
 * form, no surrogate, at most U+10FFFF) at S, or 0 when there is none. */
size_t at_reg_utf8_len(const char *s);
/* 1 when all of S is well-formed UTF-8. */
int at_reg_utf8_valid(const char *s);
/* A copy of S (NULL: "") with each byte that starts no well-formed UTF-8
 * sequence replaced by '?', for text the registry stores without vetting
 * (the audit actor), so that JSON and HTML output can always carry it. */
const char *at_reg_utf8_clean(apr_pool_t *p, const char *s);
const char *at_reg_join(apr_pool_t *p, const apr_array_header_t *list);
/* qsort comparison of two const char * elements. */
int at_reg_cmp_str(const void *a, const void *b);
apr_array_header_t *at_reg_split(apr_pool_t *p, const char *text);

/* Opens a schema and migrates it (at_schema.c); called by at_registry_open
 * on a fresh connection. */
apr_status_t at_schema_prepare(at_registry_t *reg, apr_pool_t *p,
                               at_error_t *err);

#endif /* AT_REGISTRY_PRIVATE_H */
