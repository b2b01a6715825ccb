/* Recording many issued jtis in one transaction: the token endpoint's
 * group commit. One commit per token costs most of what recording costs
 * (a WAL append and index pages each time); requests that arrive while a
 * commit is under way are recorded together in the next one. */
#include "at_registry_private.h"

apr_status_t at_jti_record_many(at_registry_t *reg, apr_pool_t *p,
                                const at_jti_rec_t *recs, int n,
                                at_error_t *err)
{
    apr_status_t rv;
    int i;

    if (n == 1) {
        return at_jti_record(reg, p, recs[0].jti, recs[0].client_id,
                             recs[0].exp, err);
    }
    /* Inserts of fresh, random jtis: nothing to serialise. */
    rv = at_reg_begin_rows(reg, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < n && rv == APR_SUCCESS; i++) {
        rv = at_jti_record(reg, p, recs[i].jti, recs[i].client_id,
                           recs[i].exp, err);
    }
    return at_reg_end(reg, rv, 0, err);
}
