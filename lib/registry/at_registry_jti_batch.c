/* Recording issued jtis (so that revocation by jti can tell a known jti
 * from an unknown one), one or many in one transaction: the token
 * endpoint's group commit. One commit per token costs most of what
 * recording costs (a WAL append and index pages each time); requests that
 * arrive while a commit is under way are recorded together in the next
 * one. */
#include "at_registry_private.h"

apr_status_t at_reg_jti_insert(at_registry_t *reg, apr_pool_t *p,
                               const at_jti_rec_t *rec, at_error_t *err)
{
    if (rec->jti == NULL || *rec->jti == '\0' || rec->client_id == NULL) {
        at_error_set(err, "jti and client_id are required");
        return APR_EINVAL;
    }
    return at_reg_exec(reg, p, err, NULL,
                       "INSERT INTO issued_jtis (jti, client_id, exp,"
                       " recorded, subject, grant_id)"
                       " VALUES (%s, %s, %s, %s, %s, %s)", rec->jti,
                       rec->client_id, at_reg_i64(p, rec->exp),
                       at_reg_i64(p, at_reg_now()), rec->subject,
                       rec->grant_id);
}

apr_status_t at_jti_record(at_registry_t *reg, apr_pool_t *p,
                           const char *jti, const char *client_id,
                           long long exp, at_error_t *err)
{
    at_jti_rec_t rec = {jti, client_id, exp, NULL, NULL};

    return at_jti_record_many(reg, p, &rec, 1, err);
}

apr_status_t at_jti_record_many(at_registry_t *reg, apr_pool_t *p,
                                const at_jti_rec_t *recs, int n,
                                at_error_t *err)
{
    apr_status_t rv;
    int i;

    if (n == 1) {
        /* One statement is its own transaction. */
        rv = at_reg_jti_insert(reg, p, &recs[0], err);
    }
    else {
        rv = at_reg_begin(reg, p, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < n && rv == APR_SUCCESS; i++) {
            rv = at_reg_jti_insert(reg, p, &recs[i], err);
        }
        rv = at_reg_end(reg, rv, 0, err);
    }
    if (rv == APR_SUCCESS && (reg->writes += n) % 256 < (unsigned)n) {
        at_reg_purge_expired(reg, p);
    }
    return rv;
}
