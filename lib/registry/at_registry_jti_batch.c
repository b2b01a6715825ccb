/* Recording many issued jtis at once: the token endpoint's group commit.
 * One commit per token costs most of what recording costs (a WAL append
 * and index pages each time, and for PostgreSQL a round trip per
 * statement); requests that arrive while a commit is under way are
 * recorded together in the next one, by one multi-row INSERT: a single
 * statement, so all or nothing without a transaction around it, and one
 * round trip to a server. One prepared statement per batch size. */
#include <apr_strings.h>

#include "at_registry_private.h"

#define ROW "(%s, %s, %lld, %lld)"

apr_status_t at_jti_record_many(at_registry_t *reg, apr_pool_t *p,
                                const at_jti_rec_t *recs, int n,
                                at_error_t *err)
{
    const char **args, *now = at_reg_i64(p, at_reg_now());
    char *sql, *s;
    apr_status_t rv;
    int i;

    if (n == 1) {
        return at_jti_record(reg, p, recs[0].jti, recs[0].client_id,
                             recs[0].exp, err);
    }
    if (n < 1) {
        return APR_SUCCESS;
    }
    args = apr_palloc(p, sizeof(*args) * 4 * n);
    sql = s = apr_palloc(p, 80 + n * (sizeof(ROW) + 2));
    s = apr_cpystrn(s, "INSERT INTO issued_jtis (jti, client_id, exp,"
                    " recorded) VALUES ", 80);
    for (i = 0; i < n; i++) {
        if (recs[i].jti == NULL || *recs[i].jti == '\0'
            || recs[i].client_id == NULL) {
            at_error_set(err, "jti and client_id are required");
            return APR_EINVAL;
        }
        s = apr_cpystrn(s, i ? ", " ROW : ROW, sizeof(ROW) + 2);
        args[4 * i] = recs[i].jti;
        args[4 * i + 1] = recs[i].client_id;
        args[4 * i + 2] = at_reg_i64(p, recs[i].exp);
        args[4 * i + 3] = now;
    }
    rv = at_reg_execv(reg, p, err, NULL, sql, args);
    if (rv == APR_SUCCESS) {
        /* Purge as at_jti_record does: once per 256 writes. */
        unsigned int before = reg->writes;

        reg->writes += (unsigned int)n;
        if (reg->writes / 256 != before / 256) {
            at_reg_purge_expired(reg, p);
        }
    }
    return rv;
}
