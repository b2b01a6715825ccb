/* at_jti_record_many, the issuer's group commit: every jti of a batch is
 * recorded (revocable by jti afterwards, counted by revoke-by-client), a
 * batch is all or nothing, and one of one behaves as at_jti_record.
 * SQLite, or PostgreSQL with AT_TEST_REGISTRY (registry_spec.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "at_registry.h"
#include "unit.h"
#include "registry_spec.h"

static apr_pool_t *pool;

static at_registry_t *fresh_registry(const char *name)
{
    at_registry_t *reg = NULL;
    at_error_t err;

    CHECK(treg_open(pool, name, &reg, &err) == APR_SUCCESS, "open: %s",
          err.text);
    return reg;
}

static int revocable(at_registry_t *reg, const char *jti)
{
    at_error_t err;

    return at_jti_revoke(reg, pool, jti, "test", &err) == APR_SUCCESS;
}

int main(void)
{
    at_jti_rec_t recs[20] = {{0}};
    at_registry_t *reg;
    apr_array_header_t *jtis;
    apr_table_t *clients;
    at_error_t err;
    long long exp = 4102444800LL;   /* 2100-01-01 */
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    treg_init(pool);
    reg = fresh_registry("jti-batch.db");

    for (i = 0; i < 20; i++) {
        recs[i].jti = apr_psprintf(pool, "batch-jti-%02d", i);
        recs[i].client_id = "client-a";
        recs[i].exp = exp;
    }
    CHECK(at_jti_record_many(reg, pool, recs, 20, &err) == APR_SUCCESS,
          "batch of 20: %s", err.text);
    for (i = 0; i < 20; i += 7) {
        CHECK(revocable(reg, recs[i].jti), "jti %d of the batch", i);
    }
    CHECK(at_revocation_load(reg, pool, &jtis, &clients, &err)
              == APR_SUCCESS, "load: %s", err.text);
    CHECK(jtis->nelts == 3, "3 revoked, got %d", jtis->nelts);

    /* One of one. */
    recs[0].jti = "single-jti";
    CHECK(at_jti_record_many(reg, pool, recs, 1, &err) == APR_SUCCESS,
          "batch of 1: %s", err.text);
    CHECK(revocable(reg, "single-jti"), "single jti");

    /* All or nothing: a duplicate in the batch records none of it. */
    recs[0].jti = "fresh-1";
    recs[1].jti = "fresh-2";
    recs[2].jti = "batch-jti-05";       /* recorded above */
    CHECK(at_jti_record_many(reg, pool, recs, 3, &err) != APR_SUCCESS,
          "a duplicate must fail the batch");
    CHECK(!revocable(reg, "fresh-1"), "fresh-1 must not be recorded");
    CHECK(!revocable(reg, "fresh-2"), "fresh-2 must not be recorded");

    /* The registry is usable afterwards (no transaction left open). */
    recs[0].jti = "after-1";
    recs[1].jti = "after-2";
    CHECK(at_jti_record_many(reg, pool, recs, 2, &err) == APR_SUCCESS,
          "after a failed batch: %s", err.text);
    CHECK(revocable(reg, "after-2"), "after-2");

    at_registry_close(reg);
    treg_cleanup();
    UNIT_DONE();
}
