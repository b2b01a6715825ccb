/* Refresh tokens: opaque 256-bit values, stored only as their SHA-256,
 * grouped in families (one per original grant) and rotated on every use.
 *
 * Single use must hold across httpd processes, threads and nodes, each
 * with its own connection. Rotation consumes the token first, with a
 * conditional UPDATE (... AND used_at IS NULL) whose row count is checked:
 * in SQLite the transaction already holds the write lock; in PostgreSQL
 * the UPDATE takes the token's row lock, and a concurrent rotation's
 * UPDATE waits for it, then re-reads the row and changes nothing. Either
 * way whichever rotation comes second sees the token used. A used token
 * presented again is a replay (RFC 9700 4.14): the whole family is
 * revoked, and that revocation is committed although the call reports
 * failure. Where the dialect can (PostgreSQL), the common case, a good
 * token rotated, is one statement (rotate_at_once: one round trip instead
 * of five); anything else goes the general way, in a transaction.
 */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_private.h"
#include "at_secret.h"

#define REFRESH_LIFETIME_MAX (366L * 86400L)

#define TOKEN_COLUMNS                                                    \
    "t.family_id, t.created, t.expires, t.used_at, f.client_id,"         \
    " f.subject, f.scope, f.revoked"

/* Finds the token with hash HASH; *row gets TOKEN_COLUMNS. */
static apr_status_t find_token(at_registry_t *reg, apr_pool_t *p,
                               const char *hash, const char ***row,
                               at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;

    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT " TOKEN_COLUMNS " FROM refresh_tokens t"
                       " JOIN refresh_families f ON f.id = t.family_id"
                       " WHERE t.hash = %s", hash);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        at_error_set(err, "unknown refresh token");
        return APR_NOTFOUND;
    }
    *row = APR_ARRAY_IDX(rows, 0, const char **);
    return APR_SUCCESS;
}

static at_refresh_t *info_from_row(apr_pool_t *p, const char **v)
{
    at_refresh_t *info = apr_pcalloc(p, sizeof(*info));
    long long now = at_reg_now();

    info->family_id = v[0];
    info->issued = at_reg_atoll(v[1], 0);
    info->expires = at_reg_atoll(v[2], 0);
    info->client_id = v[4];
    info->subject = v[5];
    info->scope = v[6] ? v[6] : "";
    info->active = v[3] == NULL && v[7] == NULL && info->expires > now;
    return info;
}

/* Inside a transaction: a new token of FAMILY (child of PARENT, may be
 * NULL), returned once in *token; a value already in *token (made by the
 * caller) is used as it is. */
static apr_status_t insert_token(at_registry_t *reg, apr_pool_t *p,
                                 const char *family, const char *parent,
                                 long long expires, const char **token,
                                 at_error_t *err)
{
    const char *hash;

    if ((!*token && at_secret_generate(p, token) != APR_SUCCESS)
        || (hash = at_token_hash(p, *token)) == NULL) {
        at_error_set(err, "no random bytes for a refresh token");
        return APR_EGENERAL;
    }
    return at_reg_exec(reg, p, err, NULL,
                       "INSERT INTO refresh_tokens (hash, family_id, parent,"
                       " created, expires) VALUES (%s, %s, %s, %lld, %lld)",
                       hash, family, parent, at_reg_i64(p, at_reg_now()),
                       at_reg_i64(p, expires));
}

static apr_status_t check_lifetime(long lifetime, at_error_t *err)
{
    if (lifetime <= 0 || lifetime > REFRESH_LIFETIME_MAX) {
        at_error_set(err, "refresh lifetime must be 1 to %ld seconds",
                     REFRESH_LIFETIME_MAX);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t at_reg_family_start(at_registry_t *reg, apr_pool_t *p,
                                 const char *family, const char *client_id,
                                 const char *subject, const char *scope,
                                 long lifetime, const char **token,
                                 at_error_t *err)
{
    long long now = at_reg_now();
    apr_status_t rv = check_lifetime(lifetime, err);

    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "INSERT INTO refresh_families (id, client_id,"
                         " subject, scope, created) VALUES (%s, %s, %s, %s,"
                         " %lld)", family, client_id, subject,
                         scope ? scope : "", at_reg_i64(p, now));
    }
    if (rv == APR_SUCCESS) {
        rv = insert_token(reg, p, family, NULL, now + lifetime, token, err);
    }
    return rv;
}

apr_status_t at_refresh_issue(at_registry_t *reg, apr_pool_t *p,
                              const char *client_id, const char *subject,
                              const char *scope, long lifetime,
                              const char **token, at_error_t *err)
{
    const char *family, *found;
    apr_status_t rv;

    *token = NULL;
    if ((rv = check_lifetime(lifetime, err))
        || (rv = at_reg_random_id(p, &family))) {
        return rv;
    }
    /* A family of a just deleted application fails on its foreign key. */
    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_value(reg, p, err, &found,
                      "SELECT client_id FROM applications"
                      " WHERE client_id = %s", client_id ? client_id : "");
    if (rv == APR_NOTFOUND) {
        at_error_set(err, "no application with client_id \"%.60s\"",
                     client_id ? client_id : "");
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_family_start(reg, p, family, client_id,
                                 subject ? subject : client_id, scope,
                                 lifetime, token, err);
    }
    rv = at_reg_end(reg, rv, 0, err);
    if (rv != APR_SUCCESS) {
        *token = NULL;
    }
    else if (++reg->writes % 256 == 0) {
        at_reg_purge_expired(reg, p);
    }
    return rv;
}

/* The dialect's rotation in one statement: APR_SUCCESS with *next and *cur
 * when the token was good and is rotated; APR_NOTFOUND when nothing was
 * changed (the general path then tells unknown, reused, expired or
 * revoked apart); another status when the database failed. */
static apr_status_t rotate_at_once(at_registry_t *reg, apr_pool_t *p,
                                   const char *hash, const char *client_id,
                                   long long now, long lifetime,
                                   const char **next, at_refresh_t **cur,
                                   at_error_t *err)
{
    apr_array_header_t *rows;
    const char *succ, *n = at_reg_i64(p, now), **v;
    apr_status_t rv;

    if (at_secret_generate(p, next) != APR_SUCCESS
        || (succ = at_token_hash(p, *next)) == NULL) {
        at_error_set(err, "no random bytes for a refresh token");
        return APR_EGENERAL;
    }
    rv = at_reg_select_writing(reg, p, err, &rows, reg->dialect->rotate_sql,
                               n, hash, n, client_id, succ, hash, n,
                               at_reg_i64(p, now + lifetime));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts != 1) {
        return APR_NOTFOUND;
    }
    v = APR_ARRAY_IDX(rows, 0, const char **);
    *cur = apr_pcalloc(p, sizeof(**cur));
    (*cur)->family_id = v[0];
    (*cur)->client_id = v[1];
    (*cur)->subject = v[2];
    (*cur)->scope = v[3] ? v[3] : "";
    return APR_SUCCESS;
}

apr_status_t at_refresh_rotate(at_registry_t *reg, apr_pool_t *p,
                               const char *token, const char *client_id,
                               long lifetime, const char **next,
                               at_refresh_t **info, at_error_t *err)
{
    long long now = at_reg_now();
    const char *hash, **row;
    at_refresh_t *cur = NULL;
    apr_status_t rv;
    int nrows = 0, keep = 0;

    *next = NULL;
    if (info) {
        *info = NULL;
    }
    if ((rv = check_lifetime(lifetime, err))) {
        return rv;
    }
    if (token == NULL || client_id == NULL
        || (hash = at_token_hash(p, token)) == NULL) {
        at_error_set(err, "unknown refresh token");
        return APR_NOTFOUND;
    }
    if (reg->dialect->rotate_sql) {
        rv = rotate_at_once(reg, p, hash, client_id, now, lifetime, next,
                            &cur, err);
        if (rv == APR_SUCCESS) {
            goto rotated;
        }
        *next = NULL;
        if (rv != APR_NOTFOUND) {
            return rv;
        }
    }
    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Consume first. The conditional UPDATE locks the token's row, so a
     * concurrent rotation of the same token (another thread, process or
     * node) waits here until this transaction ends and then changes no
     * row: it is the reuse. A check below that refuses the token rolls the
     * consumption back. */
    rv = at_reg_exec(reg, p, err, &nrows,
                     "UPDATE refresh_tokens SET used_at = %lld"
                     " WHERE hash = %s AND used_at IS NULL",
                     at_reg_i64(p, now), hash);
    if (rv == APR_SUCCESS) {
        rv = find_token(reg, p, hash, &row, err);
    }
    if (rv == APR_SUCCESS) {
        cur = info_from_row(p, row);
        if (strcmp(cur->client_id, client_id) != 0 || row[7] != NULL) {
            /* Another client's token, or a revoked family: unknown to this
             * caller. */
            at_error_set(err, "unknown refresh token");
            rv = APR_NOTFOUND;
        }
        else if (nrows != 1) {
            /* Used before: a replay. The family goes, and that stays
             * although the call fails. */
            rv = at_reg_exec(reg, p, err, NULL,
                             "UPDATE refresh_families SET revoked = %lld"
                             " WHERE id = %s AND revoked IS NULL",
                             at_reg_i64(p, now), cur->family_id);
            if (rv == APR_SUCCESS) {
                rv = at_reg_audit(reg, p, err, "issuer", "refresh.reuse",
                                  client_id, apr_pstrcat(p, "family=",
                                  cur->family_id, NULL));
            }
            if (rv == APR_SUCCESS) {
                at_error_set(err, "refresh token reused: its family is "
                             "revoked");
                rv = APR_EACCES;
                keep = 1;
            }
        }
        else if (cur->expires <= now) {
            at_error_set(err, "refresh token expired");
            rv = APR_NOTFOUND;
        }
    }
    if (rv == APR_SUCCESS) {
        rv = insert_token(reg, p, cur->family_id, hash, now + lifetime, next,
                          err);
    }
    rv = at_reg_end(reg, rv, keep, err);
    if (rv != APR_SUCCESS) {
        *next = NULL;
        return rv;
    }
rotated:
    if (info) {
        cur->issued = now;
        cur->expires = now + lifetime;
        cur->active = 1;
        *info = cur;
    }
    if (++reg->writes % 256 == 0) {
        at_reg_purge_expired(reg, p);
    }
    return APR_SUCCESS;
}

apr_status_t at_refresh_lookup(at_registry_t *reg, apr_pool_t *p,
                               const char *token, at_refresh_t **info,
                               at_error_t *err)
{
    const char *hash, **row;
    apr_status_t rv;

    *info = NULL;
    if (token == NULL || (hash = at_token_hash(p, token)) == NULL) {
        at_error_set(err, "unknown refresh token");
        return APR_NOTFOUND;
    }
    rv = find_token(reg, p, hash, &row, err);
    if (rv == APR_SUCCESS) {
        *info = info_from_row(p, row);
    }
    return rv;
}

/* Inside a transaction: revokes FAMILY (no-op when already revoked). */
static apr_status_t revoke_family(at_registry_t *reg, apr_pool_t *p,
                                  const char *family, const char *client_id,
                                  const char *actor, at_error_t *err)
{
    apr_status_t rv;

    rv = at_reg_exec(reg, p, err, NULL,
                     "UPDATE refresh_families SET revoked = %lld"
                     " WHERE id = %s AND revoked IS NULL",
                     at_reg_i64(p, at_reg_now()), family);
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "refresh.revoke", client_id,
                          apr_pstrcat(p, "family=", family, NULL));
    }
    return rv;
}

apr_status_t at_refresh_revoke(at_registry_t *reg, apr_pool_t *p,
                               const char *token, const char *client_id,
                               const char *actor, at_error_t *err)
{
    const char *hash, **row;
    apr_status_t rv;

    if (token == NULL || (hash = at_token_hash(p, token)) == NULL) {
        at_error_set(err, "unknown refresh token");
        return APR_NOTFOUND;
    }
    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = find_token(reg, p, hash, &row, err);
    if (rv == APR_SUCCESS && client_id && strcmp(row[4], client_id) != 0) {
        at_error_set(err, "unknown refresh token");
        rv = APR_NOTFOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = revoke_family(reg, p, row[0], row[4], actor, err);
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_refresh_families(at_registry_t *reg, apr_pool_t *p,
                                 const char *client_id,
                                 apr_array_header_t **families,
                                 at_error_t *err)
{
    apr_array_header_t *rows;
    const char *c = client_id ? client_id : "";
    apr_status_t rv;
    int i;

    *families = apr_array_make(p, 8, sizeof(at_refresh_t *));
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT f.id, f.client_id, f.scope, f.subject,"
                       " f.created, max(t.expires) FROM refresh_families f"
                       " JOIN refresh_tokens t ON t.family_id = f.id"
                       " WHERE f.revoked IS NULL AND t.used_at IS NULL"
                       " AND t.expires > %lld AND (%s = '' OR f.client_id = %s)"
                       " GROUP BY f.id ORDER BY f.created DESC, f.id",
                       at_reg_i64(p, at_reg_now()), c, c);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        at_refresh_t *f = apr_pcalloc(p, sizeof(*f));
        f->family_id = v[0];
        f->client_id = v[1];
        f->scope = v[2] ? v[2] : "";
        f->subject = v[3];
        f->issued = at_reg_atoll(v[4], 0);
        f->expires = at_reg_atoll(v[5], 0);
        f->active = 1;
        APR_ARRAY_PUSH(*families, at_refresh_t *) = f;
    }
    return rv;
}

apr_status_t at_family_revoke(at_registry_t *reg, apr_pool_t *p,
                              const char *family_id, const char *actor,
                              at_error_t *err)
{
    const char *client_id;
    apr_status_t rv;

    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_value(reg, p, err, &client_id,
                      "SELECT client_id FROM refresh_families WHERE id = %s",
                      family_id ? family_id : "");
    if (rv == APR_NOTFOUND) {
        at_error_set(err, "no refresh-token family \"%.60s\"",
                     family_id ? family_id : "");
    }
    if (rv == APR_SUCCESS) {
        rv = revoke_family(reg, p, family_id, client_id, actor, err);
    }
    return at_reg_end(reg, rv, 0, err);
}
