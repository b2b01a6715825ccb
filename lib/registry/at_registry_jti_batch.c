/* Recording issued jtis (so that revocation by jti can tell a known jti
 * from an unknown one), one or many at once: the token endpoint's group
 * commit. One commit per token costs most of what recording costs (a WAL
 * append and index pages each time, and for PostgreSQL a round trip per
 * statement); requests that arrive while a commit is under way are
 * recorded together in the next one, by one multi-row INSERT: a single
 * statement, so all or nothing without a transaction around it, and one
 * round trip to a server. One prepared statement per batch size. */
#include <apr_strings.h>

#include "at_registry_private.h"

#define COLUMNS "INSERT INTO issued_jtis (jti, client_id, exp, recorded," \
                " subject, grant_id) VALUES "
#define ROW "(%s, %s, %lld, %lld, %s, %s)"
#define NARGS 6

/* Purges expired rows once per 256 recorded jtis. */
static void count_writes(at_registry_t *reg, apr_pool_t *p, int n)
{
    unsigned int before = reg->writes;

    reg->writes += (unsigned int)n;
    if (reg->writes / 256 != before / 256) {
        at_reg_purge_expired(reg, p);
    }
}

apr_status_t at_reg_jti_insert(at_registry_t *reg, apr_pool_t *p,
                               const at_jti_rec_t *recs, int n,
                               at_error_t *err)
{
    const char **args, *now = at_reg_i64(p, at_reg_now());
    char *sql, *s;
    int i;

    if (n < 1) {
        return APR_SUCCESS;
    }
    args = apr_palloc(p, sizeof(*args) * NARGS * n);
    sql = s = apr_palloc(p, sizeof(COLUMNS) + n * (sizeof(ROW) + 2));
    s = apr_cpystrn(s, COLUMNS, sizeof(COLUMNS));
    for (i = 0; i < n; i++) {
        const at_jti_rec_t *rec = &recs[i];

        if (rec->jti == NULL || *rec->jti == '\0' || rec->client_id == NULL) {
            at_error_set(err, "jti and client_id are required");
            return APR_EINVAL;
        }
        s = apr_cpystrn(s, i ? ", " ROW : ROW, sizeof(ROW) + 2);
        args[NARGS * i] = rec->jti;
        args[NARGS * i + 1] = rec->client_id;
        args[NARGS * i + 2] = at_reg_i64(p, rec->exp);
        args[NARGS * i + 3] = now;
        args[NARGS * i + 4] = rec->subject;
        args[NARGS * i + 5] = rec->grant_id;
    }
    return at_reg_execv(reg, p, err, NULL, sql, args);
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
    apr_status_t rv = at_reg_jti_insert(reg, p, recs, n, err);

    if (rv == APR_SUCCESS) {
        count_writes(reg, p, n);
    }
    return rv;
}
