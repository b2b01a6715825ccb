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
/* PostgreSQL: a statement (a lock wait included) gives up after this long
 * (statement_timeout), like SQLite's bounded wait above. */
#define AT_REGISTRY_PG_STATEMENT_MS 5000

/* What differs between the databases the registry runs on: one entry per
 * apr_dbd driver (at_registry_dialect.c), so that the SQL and the schema
 * are written once and the differences stay in one table.
 *
 * SQL text may hold {WORD} placeholders that the dialect spells out when a
 * statement is prepared: {INT} (a 64-bit integer column), {ROWID} and
 * {SERIAL} (an integer key the database assigns; {SERIAL} never reuses
 * one), {LIST_AGG} (string aggregate: group_concat / string_agg) and
 * {STRPOS} (position of a substring: instr / strpos). */
typedef struct at_dialect {
    const char *driver;           /* apr_dbd driver name */
    int networked;                /* a server: connections are lost and made
                                     again; statements have timeouts */
    int select_random;            /* apr_dbd_pselect's "random" argument:
                                     pgsql needs the whole result at once */
    const char *const *words;     /* {WORD}, spelling, ..., NULL */
    /* The names of the tables in the registry's schema (to tell an empty
     * database from a foreign one). */
    const char *tables_sql;
    /* Run first in a transaction that must see and change the registry
     * as if alone (at_reg_begin); NULL when BEGIN already does that. */
    const char *serial_sql;
    /* The same for schema migrations, against other processes and nodes
     * migrating at once. */
    const char *migrate_sql;
    /* A refresh token's rotation in one statement, or NULL
     * (at_registry_refresh.c says what it takes and gives). */
    const char *rotate_sql;
    /* Session settings right after connecting (and reconnecting). */
    apr_status_t (*setup)(at_registry_t *reg, apr_pool_t *p,
                          at_error_t *err);
    /* Turns the failure RC of the last call into a status and ERR. */
    apr_status_t (*failure)(at_registry_t *reg, int rc, at_error_t *err);
    /* 1 when the connection itself was lost (the statement never reached,
     * or never came back from, the server, or the server ended the
     * session). */
    int (*lost)(at_registry_t *reg);
    /* Makes the connection again in place; 1 when it worked. */
    int (*reset)(at_registry_t *reg);
} at_dialect_t;

/* The dialect of DRIVER, or NULL when the registry does not run on it. */
const at_dialect_t *at_reg_dialect(const char *driver);
/* SQL with the dialect's {WORD}s spelled out (SQL itself when it has
 * none). */
const char *at_reg_render(apr_pool_t *p, const at_dialect_t *d,
                          const char *sql);

struct at_registry {
    apr_pool_t *pool;                 /* connection lifetime */
    const at_dialect_t *dialect;
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    const char *driver_name;
    const char *where;                /* for messages: file path, or the
                                         connection string without secrets */
    apr_pool_t *stmt_pool;            /* prepared statements (cleared when
                                         the server forgot them) */
    apr_hash_t *stmts;                /* SQL text -> apr_dbd_prepared_t * */
    unsigned int nstmts;              /* for statement names */
    int in_tx;                        /* a transaction is open */
    int tx_failed;                    /* a statement in it failed */
    apr_dbd_transaction_t *trans;     /* SQLite: apr_dbd's transaction */
    apr_pool_t *trans_pool;           /* the pool that began it */
    int readonly;                     /* file not writable: refuse writes */
    unsigned int writes;              /* for opportunistic purging */
};

/* Seconds since the epoch. */
long long at_reg_now(void);
/* Decimal text of V, in P. */
const char *at_reg_i64(apr_pool_t *p, long long v);
/* A page's LIMIT (LIMIT <= 0: no limit; both dialects read a negative
 * limit differently, so "none" is the largest number) and OFFSET, as
 * text for %lld. */
const char *at_reg_limit(apr_pool_t *p, int limit);
const char *at_reg_offset(apr_pool_t *p, int offset);
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
/* The same with the arguments in an array (as many as SQL has '%'). */
apr_status_t at_reg_execv(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          int *nrows, const char *sql, const char **args);
/* Runs a query; *rows gets one const char ** per row (NULL for SQL NULL),
 * *ncols (may be NULL) the column count. Same SQL rules as at_reg_exec. */
apr_status_t at_reg_select(at_registry_t *reg, apr_pool_t *p,
                           at_error_t *err, apr_array_header_t **rows,
                           int *ncols, const char *sql, ...);
/* A query that changes data too (a data-changing WITH): like
 * at_reg_select, but refused on a read-only registry, and never sent a
 * second time after a lost connection. */
apr_status_t at_reg_select_writing(at_registry_t *reg, apr_pool_t *p,
                                   at_error_t *err, apr_array_header_t **rows,
                                   const char *sql, ...);
/* The first column of the first row, or NULL with APR_NOTFOUND. */
apr_status_t at_reg_value(at_registry_t *reg, apr_pool_t *p, at_error_t *err,
                          const char **value, const char *sql, ...);

/* Begins a transaction that sees and changes the registry as if alone:
 * BEGIN IMMEDIATE in SQLite (the write lock is taken now, so the
 * transaction can neither deadlock on upgrade nor read stale data it then
 * writes from); in PostgreSQL a transaction-scoped advisory lock that
 * every such transaction takes first, so that check-then-write sequences
 * (a name still free, a scope unused, an audit row not yet written) hold
 * across nodes as they do in SQLite. Refused on a read-only registry.
 * The default for every change. */
apr_status_t at_reg_begin(at_registry_t *reg, apr_pool_t *p,
                          at_error_t *err);
/* Begins a transaction that relies on row locks alone: in PostgreSQL it
 * runs beside others and every statement sees what was committed before
 * it started (READ COMMITTED), so the caller makes each decision with a
 * conditional UPDATE whose row count it checks, or after locking the rows
 * it decides on. For the hot paths (jti recording, refresh rotation,
 * revocation). The same as at_reg_begin in SQLite. */
apr_status_t at_reg_begin_rows(at_registry_t *reg, apr_pool_t *p,
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

/* Inserts the N issued-jti rows RECS by one statement (in the caller's
 * transaction, or as its own); none when one is refused.
 * (at_registry_jti_batch.c) */
apr_status_t at_reg_jti_insert(at_registry_t *reg, apr_pool_t *p,
                               const at_jti_rec_t *recs, int n,
                               at_error_t *err);

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

/* SQLite's connection settings (at_schema.c). */
apr_status_t at_reg_sqlite_setup(at_registry_t *reg, apr_pool_t *p,
                                 at_error_t *err);
/* PostgreSQL's (at_registry_pg.c): session timeouts, error codes in
 * messages; its failure mapping (by SQLSTATE) and lost-connection test. */
apr_status_t at_reg_pg_setup(at_registry_t *reg, apr_pool_t *p,
                             at_error_t *err);
apr_status_t at_reg_pg_failure(at_registry_t *reg, int rc, at_error_t *err);
int at_reg_pg_lost(at_registry_t *reg);
int at_reg_pg_reset(at_registry_t *reg);
/* Connection parameters the registry adds in front of the operator's
 * (whose own values win): bounded connection and network waits. */
const char *at_reg_pg_conninfo(apr_pool_t *p, const char *params);
/* SQLite's failure mapping (at_registry_db.c). */
apr_status_t at_reg_sqlite_failure(at_registry_t *reg, int rc,
                                   at_error_t *err);

/* Opens a schema and migrates it (at_schema.c); called by at_registry_open
 * on a fresh connection. */
apr_status_t at_schema_prepare(at_registry_t *reg, apr_pool_t *p,
                               at_error_t *err);

#endif /* AT_REGISTRY_PRIVATE_H */
