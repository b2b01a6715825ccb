/* Client secrets in the registry: creation, rotation with a grace period,
 * and client authentication.
 *
 * Authentication checks the presented secret against every unexpired
 * secret of the application, always all of them and each in constant
 * time, so neither the number of secrets nor which one matched shows in
 * the timing. last_used is written at most once a minute per secret: a
 * token request should not have to be a database write.
 */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_private.h"
#include "at_secret.h"
#include "at_registry_limits.h"

#define LAST_USED_GRANULARITY 60

apr_status_t at_reg_new_secret(at_registry_t *reg, apr_pool_t *p,
                               const char *client_id, const char **secret,
                               at_error_t *err)
{
    const char *plain, *hash;

    if (at_secret_generate(p, &plain) != APR_SUCCESS
        || (hash = at_secret_hash(p, plain)) == NULL) {
        at_error_set(err, "no random bytes for a new secret");
        return APR_EGENERAL;
    }
    if (secret) {
        *secret = plain;
    }
    return at_reg_exec(reg, p, err, NULL,
                       "INSERT INTO app_secrets (client_id, hash, created)"
                       " VALUES (%s, %s, %lld)",
                       client_id, hash, at_reg_i64(p, at_reg_now()));
}

/* Inside a transaction: the application exists and may have a secret. */
static apr_status_t confidential_app(at_registry_t *reg, apr_pool_t *p,
                                     const char *client_id, at_error_t *err)
{
    at_app_t *app;
    apr_status_t rv = at_app_get(reg, p, client_id, &app, err);

    if (rv == APR_SUCCESS && strcmp(app->type, "confidential") != 0) {
        at_error_set(err, "application \"%.60s\" is public and has no "
                     "secret", client_id);
        rv = APR_EINVAL;
    }
    return rv;
}

/* A change of secrets is a change of the application: "Updated" moves. */
static apr_status_t touch_app(at_registry_t *reg, apr_pool_t *p,
                              const char *client_id, at_error_t *err)
{
    return at_reg_exec(reg, p, err, NULL,
                       "UPDATE applications SET updated = %lld"
                       " WHERE client_id = %s",
                       at_reg_i64(p, at_reg_now()), client_id);
}

apr_status_t at_app_rotate_secret(at_registry_t *reg, apr_pool_t *p,
                                  const char *client_id, long grace,
                                  const char *actor, const char **secret,
                                  at_error_t *err)
{
    long long end = at_reg_now() + grace;
    apr_status_t rv;

    *secret = NULL;
    if (grace < 0 || grace > AT_GRACE_MAX) {
        at_error_set(err, "grace must be 0 to %ld seconds", AT_GRACE_MAX);
        return APR_EINVAL;
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = confidential_app(reg, p, client_id, err);
    /* Old secrets end at END at the latest; one already ending sooner
     * keeps its earlier end. */
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "UPDATE app_secrets SET expires = %lld"
                         " WHERE client_id = %s"
                         " AND (expires IS NULL OR expires > %lld)",
                         at_reg_i64(p, end), client_id, at_reg_i64(p, end));
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_new_secret(reg, p, client_id, secret, err);
    }
    if (rv == APR_SUCCESS) {
        rv = touch_app(reg, p, client_id, err);
    }
    /* The detail says until when the old secret works: the console shows
     * it in the log; the time itself is read back from app_secrets. */
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "secret.rotate", client_id,
                          apr_psprintf(p, "{\"grace\":%ld,\"old_until\":%s}",
                                       grace, at_reg_i64(p, end)));
    }
    rv = at_reg_end(reg, rv, 0, err);
    if (rv != APR_SUCCESS) {
        *secret = NULL;
    }
    return rv;
}

apr_status_t at_app_end_old_secrets(at_registry_t *reg, apr_pool_t *p,
                                    const char *client_id, const char *actor,
                                    at_error_t *err)
{
    const char *now = at_reg_i64(p, at_reg_now());
    apr_status_t rv;
    int nrows = 0;

    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = confidential_app(reg, p, client_id, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, &nrows,
                         "UPDATE app_secrets SET expires = %lld"
                         " WHERE client_id = %s"
                         " AND (expires IS NULL OR expires > %lld)"
                         " AND id <> (SELECT max(id) FROM app_secrets"
                         "            WHERE client_id = %s)",
                         now, client_id, now, client_id);
    }
    if (rv == APR_SUCCESS && nrows > 0) {
        rv = touch_app(reg, p, client_id, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "secret.end_old", client_id,
                          apr_psprintf(p, "{\"ended\":%d}", nrows));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_client_authenticate(at_registry_t *reg, apr_pool_t *p,
                                    const char *client_id,
                                    const char *secret, at_app_t **appp,
                                    at_error_t *err)
{
    apr_array_header_t *rows;
    const char *now = at_reg_i64(p, at_reg_now());
    const char **match = NULL;
    at_app_t *app;
    apr_status_t rv;
    int i;

    *appp = NULL;
    rv = at_reg_app_with_secrets(reg, p, client_id, now, &app, &rows, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nelts; i++) {
        const char **row = APR_ARRAY_IDX(rows, i, const char **);
        /* No early exit: every candidate costs the same. */
        if (secret && at_secret_verify(row[1], secret) && match == NULL) {
            match = row;
        }
    }
    if (match == NULL) {
        at_error_set(err, "client authentication failed for \"%.60s\"",
                     client_id);
        return APR_EACCES;
    }
    if (!app->enabled) {
        at_error_set(err, "application \"%.60s\" is disabled", client_id);
        return APR_EACCES;
    }
    if (at_reg_atoll(match[2], 0) < at_reg_now() - LAST_USED_GRANULARITY) {
        at_error_t ignored;
        /* Bookkeeping only: a busy or read-only registry must not turn a
         * valid authentication into a failure. */
        at_reg_exec(reg, p, &ignored, NULL,
                    "UPDATE app_secrets SET last_used = %lld"
                    " WHERE id = %lld",
                    now, match[0]);
    }
    *appp = app;
    return APR_SUCCESS;
}
