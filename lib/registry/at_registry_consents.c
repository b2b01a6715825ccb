/* Remembered consents: what a person allowed an application, so that a
 * later request for scopes already allowed skips the consent page. A
 * consent only grows (new scopes are added to the old ones); revoking it
 * also revokes what the person's grants issued: their refresh families
 * for the application and their access tokens recorded until now. Also
 * the per-registry secrets the issuer keys its CSRF tokens with.
 */
#include <string.h>

#include <apr_escape.h>
#include <apr_strings.h>
#include <openssl/rand.h>

#include "at_registry_private.h"
#include "at_registry_authz.h"

/* Revoked jtis matter while a resource server may still accept them; the
 * revocation cache keeps them an hour past exp (at_registry_revoke.c). */
#define JTI_KEEP 3600

#define CONSENT_COLUMNS                                                  \
    "c.subject, c.client_id, a.name, c.scope, c.created, c.updated"

static at_consent_t *consent_from_row(apr_pool_t *p, const char **v)
{
    at_consent_t *c = apr_pcalloc(p, sizeof(*c));

    c->subject = v[0];
    c->client_id = v[1];
    c->app_name = v[2] ? v[2] : v[1];
    c->scope = v[3] ? v[3] : "";
    c->created = at_reg_atoll(v[4], 0);
    c->updated = at_reg_atoll(v[5], 0);
    return c;
}

apr_status_t at_consent_get(at_registry_t *reg, apr_pool_t *p,
                            const char *subject, const char *client_id,
                            at_consent_t **consent, at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;

    *consent = NULL;
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT " CONSENT_COLUMNS " FROM consents c"
                       " JOIN applications a ON a.client_id = c.client_id"
                       " WHERE c.subject = %s AND c.client_id = %s",
                       subject ? subject : "", client_id ? client_id : "");
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        at_error_set(err, "no consent of this person for this application");
        return APR_NOTFOUND;
    }
    *consent = consent_from_row(p, APR_ARRAY_IDX(rows, 0, const char **));
    return APR_SUCCESS;
}

/* OLD and NEW scope lists (space separated) as one, OLD's order first. */
static const char *scope_union(apr_pool_t *p, const char *old,
                               const char *new)
{
    apr_array_header_t *all = at_reg_split(p, old);
    apr_array_header_t *add = at_reg_split(p, new);
    int i, k;

    for (i = 0; i < add->nelts; i++) {
        const char *s = APR_ARRAY_IDX(add, i, const char *);

        for (k = 0; k < all->nelts
                    && strcmp(APR_ARRAY_IDX(all, k, const char *), s) != 0;
             k++) {
        }
        if (k == all->nelts) {
            APR_ARRAY_PUSH(all, const char *) = s;
        }
    }
    return at_reg_join(p, all);
}

apr_status_t at_consent_save(at_registry_t *reg, apr_pool_t *p,
                             const char *subject, const char *client_id,
                             const char *scope, at_error_t *err)
{
    const char *now = at_reg_i64(p, at_reg_now()), *old = NULL, *merged;
    at_app_t *app;
    apr_status_t rv;

    if (subject == NULL || *subject == '\0') {
        at_error_set(err, "a consent needs a person");
        return APR_EINVAL;
    }
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_app_get(reg, p, client_id, &app, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_value(reg, p, err, &old,
                          "SELECT scope FROM consents"
                          " WHERE subject = %s AND client_id = %s",
                          subject, client_id);
        if (rv == APR_NOTFOUND) {
            rv = APR_SUCCESS;
        }
    }
    merged = scope_union(p, old, scope);
    if (rv == APR_SUCCESS && old && strcmp(old, merged) == 0) {
        /* Nothing new was allowed. */
        return at_reg_end(reg, rv, 0, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "INSERT INTO consents (subject, client_id, scope,"
                         " created, updated) VALUES (%s, %s, %s, %lld, %lld)"
                         " ON CONFLICT (subject, client_id) DO UPDATE"
                         " SET scope = excluded.scope,"
                         " updated = excluded.updated",
                         subject, client_id, merged, now, now);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, subject, "consent.grant", client_id,
                          apr_pstrcat(p, "subject=", subject, " scope=",
                                      merged, NULL));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_consent_list(at_registry_t *reg, apr_pool_t *p,
                             const char *subject, const char *client_id,
                             apr_array_header_t **consents, at_error_t *err)
{
    const char *s = subject ? subject : "", *c = client_id ? client_id : "";
    apr_array_header_t *rows;
    apr_status_t rv;
    int i;

    *consents = apr_array_make(p, 8, sizeof(at_consent_t *));
    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT " CONSENT_COLUMNS " FROM consents c"
                       " JOIN applications a ON a.client_id = c.client_id"
                       " WHERE (%s = '' OR c.subject = %s)"
                       " AND (%s = '' OR c.client_id = %s)"
                       " ORDER BY a.name, c.subject", s, s, c, c);
    for (i = 0; rv == APR_SUCCESS && i < rows->nelts; i++) {
        APR_ARRAY_PUSH(*consents, at_consent_t *) =
            consent_from_row(p, APR_ARRAY_IDX(rows, i, const char **));
    }
    return rv;
}

apr_status_t at_reg_revoke_person(at_registry_t *reg, apr_pool_t *p,
                                  const char *subject, const char *client_id,
                                  int *count, at_error_t *err)
{
    long long now = at_reg_now();
    apr_status_t rv;
    int families = 0, jtis = 0;

    rv = at_reg_exec(reg, p, err, &families,
                     "UPDATE refresh_families SET revoked = %lld"
                     " WHERE subject = %s AND client_id = %s"
                     " AND revoked IS NULL", at_reg_i64(p, now), subject,
                     client_id);
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, &jtis,
                         "UPDATE issued_jtis SET revoked = %lld"
                         " WHERE subject = %s AND client_id = %s"
                         " AND revoked IS NULL AND exp >= %lld",
                         at_reg_i64(p, now), subject, client_id,
                         at_reg_i64(p, now - JTI_KEEP));
    }
    if (rv == APR_SUCCESS && jtis > 0) {
        rv = at_reg_bump_generation(reg, p, err);
    }
    *count = families + jtis;
    return rv;
}

apr_status_t at_consent_revoke(at_registry_t *reg, apr_pool_t *p,
                               const char *subject, const char *client_id,
                               const char *actor, at_error_t *err)
{
    at_app_t *app;
    apr_status_t rv;
    int consents = 0, grants = 0;

    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = at_app_get(reg, p, client_id, &app, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, &consents,
                         "DELETE FROM consents"
                         " WHERE subject = %s AND client_id = %s",
                         subject ? subject : "", client_id);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_revoke_person(reg, p, subject ? subject : "", client_id,
                                  &grants, err);
    }
    if (rv == APR_SUCCESS && consents == 0 && grants == 0) {
        at_error_set(err, "\"%.60s\" has no consent and no active grant "
                     "for application %.60s", subject ? subject : "",
                     client_id);
        rv = APR_NOTFOUND;
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "consent.revoke", client_id,
                          apr_psprintf(p, "subject=%s consent=%d grants=%d",
                                       subject, consents, grants));
    }
    return at_reg_end(reg, rv, 0, err);
}

apr_status_t at_registry_secret_key(at_registry_t *reg, apr_pool_t *p,
                                    const char *name, const char **hex,
                                    at_error_t *err)
{
    const char *key = apr_pstrcat(p, "key:", name, NULL);
    unsigned char raw[32];
    apr_status_t rv;

    rv = at_reg_value(reg, p, err, hex,
                      "SELECT value FROM meta WHERE key = %s", key);
    if (rv != APR_NOTFOUND) {
        return rv;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        at_error_set(err, "no random bytes for a registry key");
        return APR_EGENERAL;
    }
    /* Two processes may get here at once: the first insert wins and both
     * read it back. */
    rv = at_reg_exec(reg, p, err, NULL,
                     "INSERT INTO meta (key, value) VALUES (%s, %s)"
                     " ON CONFLICT (key) DO NOTHING", key,
                     apr_pescape_hex(p, raw, sizeof(raw), 0));
    if (rv == APR_SUCCESS) {
        rv = at_reg_value(reg, p, err, hex,
                          "SELECT value FROM meta WHERE key = %s", key);
    }
    return rv;
}
