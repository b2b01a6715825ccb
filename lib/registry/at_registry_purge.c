/* Opportunistic purging of expired rows: refresh tokens, issued jtis,
 * empty families and long-expired secrets would otherwise pile up. Called
 * every few hundred writes of a connection, never inside a transaction.
 */
#include "at_registry_private.h"

/* Bounded so that the request that happens to purge pays little: at most
 * a few hundred rows per table, each found through an index on its
 * expiry. Rows are kept an hour past expiry so that a late introspection
 * or revocation still finds them. */
void at_reg_purge_expired(at_registry_t *reg, apr_pool_t *p)
{
    const char *cut = at_reg_i64(p, at_reg_now() - 3600);
    at_error_t err;

    if (reg->readonly || reg->in_tx) {
        return;
    }
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM issued_jtis WHERE jti IN (SELECT jti FROM"
                " issued_jtis WHERE exp < %lld LIMIT 500)", cut);
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM"
                " refresh_tokens WHERE expires < %lld LIMIT 500)", cut);
    /* A family without tokens left can never be used again. */
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM refresh_families WHERE id IN (SELECT f.id FROM"
                " refresh_families f WHERE f.created < %lld AND NOT EXISTS"
                " (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)"
                " LIMIT 200)", cut);
    /* A used code is kept that long too: presented again within the hour,
     * it still revokes what it issued. */
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM auth_codes WHERE hash IN (SELECT hash FROM"
                " auth_codes WHERE expires < %lld LIMIT 500)", cut);
    at_reg_exec(reg, p, &err, NULL,
                "DELETE FROM app_secrets WHERE id IN (SELECT id FROM"
                " app_secrets WHERE expires IS NOT NULL AND expires < %lld"
                " LIMIT 100)", at_reg_i64(p, at_reg_now() - 86400));
}
