/* Access-token revocation. Access tokens are self-contained JWTs, so the
 * registry only records each jti the issuer hands out (to tell a known jti
 * from an unknown one) and which of them were revoked, plus a per-client
 * cut-off for "revoke everything issued to this client until now". Every
 * revocation bumps meta.revocation_generation in the same transaction; the
 * resource server's per-process cache polls that one value and reloads the
 * revoked set only when it moved.
 */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_private.h"

/* Revoked jtis are served this long past their exp, so that a resource
 * server with a generous leeway still rejects them; the purge keeps rows
 * exactly as long. */
#define JTI_KEEP 3600

apr_status_t at_jti_revoke(at_registry_t *reg, apr_pool_t *p,
                           const char *jti, const char *actor,
                           at_error_t *err)
{
    const char *client_id;
    apr_status_t rv;
    int nrows = 0;

    /* Revoking twice at once: the second UPDATE waits for the first's row
     * lock, then finds the jti revoked and changes nothing. */
    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_reg_value(reg, p, err, &client_id,
                      "SELECT client_id FROM issued_jtis WHERE jti = %s",
                      jti ? jti : "");
    if (rv == APR_NOTFOUND) {
        at_error_set(err, "no access token with jti \"%.60s\" was issued "
                     "(or it expired long ago)", jti ? jti : "");
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, &nrows,
                         "UPDATE issued_jtis SET revoked = %lld"
                         " WHERE jti = %s AND revoked IS NULL",
                         at_reg_i64(p, at_reg_now()), jti);
    }
    /* Revoking twice is not an error, but changes nothing. */
    if (rv == APR_SUCCESS && nrows > 0) {
        rv = at_reg_bump_generation(reg, p, err);
        if (rv == APR_SUCCESS) {
            rv = at_reg_audit(reg, p, err, actor, "token.revoke", jti,
                              apr_pstrcat(p, "client_id=", client_id, NULL));
        }
    }
    return at_reg_end(reg, rv, 0, err);
}

/* Tokens carry a whole-second iat. The cut-off is the current second
 * ("iat < before" revokes everything from earlier seconds), and the tokens
 * recorded in this second (and the one before, against a second boundary
 * between signing and recording) are revoked by their jti. A token issued
 * after the revocation, even in the same second, stays valid. */
apr_status_t at_reg_revoke_client(at_registry_t *reg, apr_pool_t *p,
                                  const char *client_id, at_error_t *err)
{
    long long now = at_reg_now();
    apr_status_t rv;

    rv = at_reg_exec(reg, p, err, NULL,
                     "UPDATE refresh_families SET revoked = %lld"
                     " WHERE client_id = %s AND revoked IS NULL",
                     at_reg_i64(p, now), client_id);
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "UPDATE issued_jtis SET revoked = %lld"
                         " WHERE client_id = %s AND recorded >= %lld"
                         " AND revoked IS NULL",
                         at_reg_i64(p, now), client_id,
                         at_reg_i64(p, now - 1));
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "INSERT INTO revoked_clients (client_id, before)"
                         " VALUES (%s, %lld) ON CONFLICT (client_id)"
                         " DO UPDATE SET before = excluded.before",
                         client_id, at_reg_i64(p, now));
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_bump_generation(reg, p, err);
    }
    return rv;
}

apr_status_t at_client_revoke_all(at_registry_t *reg, apr_pool_t *p,
                                  const char *client_id, const char *actor,
                                  at_error_t *err)
{
    at_app_t *app;
    apr_status_t rv;

    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_app_get(reg, p, client_id, &app, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_revoke_client(reg, p, client_id, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "token.revoke_client",
                          client_id, "");
    }
    return at_reg_end(reg, rv, 0, err);
}

/* One indexed read of one row: called about once a second per process. */
apr_status_t at_revocation_generation(at_registry_t *reg, apr_pool_t *p,
                                      long long *generation, at_error_t *err)
{
    const char *v;
    apr_status_t rv;

    rv = at_reg_value(reg, p, err, &v,
                      "SELECT value FROM meta"
                      " WHERE key = 'revocation_generation'");
    if (rv == APR_NOTFOUND) {
        at_error_set(err, "registry %s has no revocation generation",
                     reg->where);
        rv = APR_EGENERAL;
    }
    *generation = rv == APR_SUCCESS ? at_reg_atoll(v, 0) : 0;
    return rv;
}

apr_status_t at_revocation_load(at_registry_t *reg, apr_pool_t *p,
                                apr_array_header_t **jtis,
                                apr_table_t **clients, at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *jtis = apr_array_make(p, 16, sizeof(const char *));
    *clients = apr_table_make(p, 4);
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT jti FROM issued_jtis"
                       " WHERE revoked IS NOT NULL AND exp >= %lld",
                       at_reg_i64(p, at_reg_now() - JTI_KEEP));
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*jtis, const char *) =
            APR_ARRAY_IDX(rows, i, const char **)[0];
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_select(reg, p, err, &rows, NULL,
                           "SELECT client_id, before FROM revoked_clients");
    }
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        const char **v = APR_ARRAY_IDX(rows, i, const char **);
        apr_table_set(*clients, v[0], v[1]);
    }
    return rv;
}
