/* The console's list reads (lib/at_registry_console.c) against a temporary
 * registry (SQLite, or PostgreSQL with AT_TEST_REGISTRY: registry_spec.h):
 * pages in name order with the right total, search, offsets past the end,
 * and audit pages under each filter combination, newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "unit.h"
#include "registry_spec.h"
#include "at_registry.h"
#include "at_registry_console.h"

static apr_pool_t *pool;

static apr_array_header_t *list(const char *a)
{
    apr_array_header_t *l = apr_array_make(pool, 1, sizeof(const char *));

    if (a)
        APR_ARRAY_PUSH(l, const char *) = a;
    return l;
}

static const char *name_of(at_registry_t *reg, const char *id)
{
    at_app_t *app = NULL;
    at_error_t err = {{0}};

    return at_app_get(reg, pool, id, &app, &err) == APR_SUCCESS ? app->name
                                                                : "?";
}

int main(void)
{
    at_registry_t *reg;
    at_error_t err = {{0}};
    apr_array_header_t *ids, *rows;
    const char *secret, *first_id = NULL;
    int total = -1, i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    treg_init(pool);
    CHECK(treg_open(pool, "r.db", &reg, &err) == APR_SUCCESS, "%s",
          err.text);
    /* Created in reverse so that name order differs from insertion. */
    for (i = 29; i >= 0; i--) {
        at_app_t app = {0};
        app.name = apr_psprintf(pool, "app-%02d", i);
        app.type = "confidential";
        app.grants = list("client_credentials");
        app.scopes = list(NULL);
        app.audiences = list(NULL);
        app.redirect_uris = list(NULL);
        CHECK(at_app_create(reg, pool, &app, i % 2 ? "odd" : "even", &secret,
                            &err) == APR_SUCCESS,
              "%s", err.text);
        if (i == 7)
            first_id = app.client_id;
    }

    CHECK(at_console_app_ids(reg, pool, NULL, 0, 25, &ids, &total, &err) ==
              APR_SUCCESS,
          "%s", err.text);
    CHECK(total == 30, "total %d", total);
    CHECK(ids->nelts == 25, "page of %d", ids->nelts);
    CHECK(!strcmp(name_of(reg, APR_ARRAY_IDX(ids, 0, const char *)), "app-00"),
          "first is app-00");
    CHECK(!strcmp(name_of(reg, APR_ARRAY_IDX(ids, 24, const char *)), "app-24"),
          "last is app-24");
    CHECK(at_console_app_ids(reg, pool, "", 25, 25, &ids, &total, &err) ==
                  APR_SUCCESS &&
              ids->nelts == 5 && total == 30,
          "second page %d", ids->nelts);
    CHECK(!strcmp(name_of(reg, APR_ARRAY_IDX(ids, 4, const char *)), "app-29"),
          "second page ends with app-29");
    CHECK(at_console_app_ids(reg, pool, NULL, 500, 25, &ids, NULL, &err) ==
                  APR_SUCCESS &&
              ids->nelts == 0,
          "past the end");
    CHECK(at_console_app_ids(reg, pool, "app-1", 0, 25, &ids, &total, &err) ==
                  APR_SUCCESS &&
              total == 10 && ids->nelts == 10,
          "search by name: %d", total);
    CHECK(at_console_app_ids(reg, pool, "app-1", 8, 25, &ids, &total, &err) ==
                  APR_SUCCESS &&
              ids->nelts == 2 &&
              !strcmp(name_of(reg, APR_ARRAY_IDX(ids, 1, const char *)),
                      "app-19"),
          "search page 2");
    CHECK(at_console_app_ids(reg, pool, first_id, 0, 25, &ids, &total, &err) ==
                  APR_SUCCESS &&
              total == 1 &&
              !strcmp(APR_ARRAY_IDX(ids, 0, const char *), first_id),
          "search by client_id");
    CHECK(at_console_app_ids(reg, pool, "%", 0, 25, &ids, &total, &err) ==
                  APR_SUCCESS &&
              total == 0,
          "no LIKE wildcards");

    CHECK(at_console_audit_page(reg, pool, NULL, NULL, 0, 10, &rows, &total,
                                &err) == APR_SUCCESS,
          "%s", err.text);
    CHECK(total >= 30 && rows->nelts == 10, "audit %d/%d", rows->nelts, total);
    for (i = 1; i < rows->nelts; i++)
        CHECK(APR_ARRAY_IDX(rows, i - 1, at_audit_t *)->id >
                  APR_ARRAY_IDX(rows, i, at_audit_t *)->id,
              "newest first at row %d", i);
    CHECK(at_console_audit_page(reg, pool, NULL, "odd", 0, 100, &rows, &total,
                                &err) == APR_SUCCESS &&
              total == 15 && rows->nelts == 15,
          "by actor %d", total);
    for (i = 0; i < rows->nelts; i++)
        CHECK(!strcmp(APR_ARRAY_IDX(rows, i, at_audit_t *)->actor, "odd"),
              "actor of row %d", i);
    CHECK(at_console_audit_page(reg, pool, first_id, NULL, 0, 100, &rows,
                                &total, &err) == APR_SUCCESS &&
              total >= 1 &&
              !strcmp(APR_ARRAY_IDX(rows, 0, at_audit_t *)->target, first_id),
          "by target");
    CHECK(at_console_audit_page(reg, pool, first_id, "odd", 0, 100, &rows,
                                &total, &err) == APR_SUCCESS &&
              total >= 1,
          "target and actor (app-07 was made by odd)");
    CHECK(at_console_audit_page(reg, pool, first_id, "even", 0, 100, &rows,
                                &total, &err) == APR_SUCCESS &&
              total == 0 && rows->nelts == 0,
          "target and other actor");
    CHECK(at_console_audit_page(reg, pool, NULL, NULL, 0, 5, &rows, NULL,
                                &err) == APR_SUCCESS &&
              rows->nelts == 5,
          "without a count");

    at_registry_close(reg);
    treg_cleanup();
    UNIT_DONE();
}
