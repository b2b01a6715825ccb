/* The console's list reads (lib/registry/at_registry_console.c) against a
 * temporary registry (SQLite, or PostgreSQL with AT_TEST_REGISTRY:
 * registry_spec.h): pages in name order with the right total, search,
 * offsets past the end, and audit pages under each filter combination,
 * newest first. */
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

    /* Issue 9: searches ignore case and look at descriptions; audit
     * filters take part of a name, a client_id or an operator. */
    CHECK(at_console_app_ids(reg, pool, "APP-1", 0, 25, &ids, &total, &err) ==
                  APR_SUCCESS &&
              total == 10,
          "search ignores case: %d", total);
    {
        at_app_t *a = NULL;
        CHECK(at_app_get(reg, pool, first_id, &a, &err) == APR_SUCCESS, "%s",
              err.text);
        a->description = "Nightly INVOICES";
        CHECK(at_app_update(reg, pool, a, "even", &err) == APR_SUCCESS, "%s",
              err.text);
    }
    CHECK(at_console_app_ids(reg, pool, "invoices", 0, 25, &ids, &total,
                             &err) == APR_SUCCESS &&
              total == 1 &&
              !strcmp(APR_ARRAY_IDX(ids, 0, const char *), first_id),
          "search in descriptions");
    CHECK(
        at_console_audit_page(reg, pool, "APP-07", NULL, 0, 100, &rows, &total,
                              &err) == APR_SUCCESS &&
            total == 2 &&
            !strcmp(APR_ARRAY_IDX(rows, 0, at_audit_t *)->action, "app.update"),
        "audit by part of a name: %d", total);
    CHECK(at_console_audit_page(reg, pool, apr_pstrndup(pool, first_id + 2, 9),
                                NULL, 0, 100, &rows, &total,
                                &err) == APR_SUCCESS &&
              total == 2,
          "audit by part of a client_id: %d", total);
    CHECK(at_console_audit_page(reg, pool, NULL, "OD", 0, 100, &rows, &total,
                                &err) == APR_SUCCESS &&
              total == 15,
          "audit by part of an operator: %d", total);

    /* Names beside ids, a deleted application's from its deletion. */
    {
        apr_array_header_t *want = list(first_id);
        apr_table_t *names = NULL, *gone = NULL;
        APR_ARRAY_PUSH(want, const char *) = "no-such-id";
        CHECK(at_console_app_names(reg, pool, want, &names, &gone, &err) ==
                      APR_SUCCESS &&
                  !strcmp(apr_table_get(names, first_id), "app-07") &&
                  apr_table_get(names, "no-such-id") == NULL &&
                  apr_table_get(gone, "no-such-id") == NULL,
              "names");
        CHECK(at_app_delete(reg, pool, first_id, "odd", &err) == APR_SUCCESS,
              "%s", err.text);
        CHECK(at_console_app_names(reg, pool, want, &names, &gone, &err) ==
                      APR_SUCCESS &&
                  apr_table_get(names, first_id) == NULL &&
                  !strcmp(apr_table_get(gone, first_id), "app-07"),
              "a deleted application keeps its name");
    }

    /* The secret's state around a rotation with a grace period. */
    {
        long long until = 0, rotated = 0;
        const char *id = APR_ARRAY_IDX(ids, 0, const char *);
        CHECK(at_console_app_ids(reg, pool, "app-08", 0, 1, &ids, NULL, &err) ==
                      APR_SUCCESS &&
                  ids->nelts == 1,
              "app-08");
        id = APR_ARRAY_IDX(ids, 0, const char *);
        CHECK(at_console_secret_state(reg, pool, id, &until, &rotated, &err) ==
                      APR_SUCCESS &&
                  until == 0 && rotated == 0,
              "never rotated");
        CHECK(at_app_rotate_secret(reg, pool, id, 600, "odd", &secret, &err) ==
                  APR_SUCCESS,
              "%s", err.text);
        CHECK(at_console_secret_state(reg, pool, id, &until, &rotated, &err) ==
                      APR_SUCCESS &&
                  until > rotated + 590 && until <= rotated + 600 &&
                  rotated > 0,
              "rotated with grace: %lld %lld", until, rotated);
        CHECK(at_app_end_old_secrets(reg, pool, id, "odd", &err) == APR_SUCCESS,
              "%s", err.text);
        CHECK(at_console_secret_state(reg, pool, id, &until, &rotated, &err) ==
                      APR_SUCCESS &&
                  until == 0 && rotated > 0,
              "old secret ended");
    }

    /* Every problem of a form, by field, in the registry's words. */
    {
        at_app_t bad = {0};
        apr_array_header_t *pr;
        at_problem_t *p0, *p1, *p2;
        bad.name = "";
        bad.type = "confidential";
        bad.grants = list("client_credentials");
        bad.audiences = list("a");
        APR_ARRAY_PUSH(bad.audiences, const char *) = "a";
        bad.redirect_uris = list("https://*.example.com/cb");
        bad.access_lifetime = -1;
        pr = at_app_problems(pool, &bad);
        CHECK(pr->nelts == 4, "4 problems, got %d", pr->nelts);
        p0 = APR_ARRAY_IDX(pr, 0, at_problem_t *);
        p1 = APR_ARRAY_IDX(pr, 1, at_problem_t *);
        p2 = APR_ARRAY_IDX(pr, 2, at_problem_t *);
        CHECK(!strcmp(p0->field, "name") && p0->item == -1 &&
                  !strcmp(p0->text, "name must not be empty"),
              "name: %s", p0->text);
        CHECK(!strcmp(p1->field, "audiences") && p1->item == 1 &&
                  strstr(p1->text, "given twice"),
              "audiences: %s %d", p1->text, p1->item);
        CHECK(!strcmp(p2->field, "redirect_uris") && p2->item == 0 &&
                  strstr(p2->text, "wildcards"),
              "redirect_uris: %s", p2->text);
        bad.name = "ok";
        bad.description = "two\nlines\tand a tab";
        bad.audiences = list("a");
        bad.redirect_uris = list(NULL);
        bad.access_lifetime = 0;
        CHECK(at_app_problems(pool, &bad)->nelts == 0,
              "line breaks in a description");
        pr = at_scope_problems(pool, "bad scope", "line\nbreak");
        CHECK(pr->nelts == 2 &&
                  !strcmp(APR_ARRAY_IDX(pr, 1, at_problem_t *)->field,
                          "description"),
              "scope problems %d", pr->nelts);
    }

    /* A scope's applications, by name. */
    {
        at_app_t app = {0};
        apr_array_header_t *users = NULL;
        CHECK(at_scope_add(reg, pool, "used:by", "", "odd", &err) ==
                  APR_SUCCESS,
              "%s", err.text);
        app.name = "Zeta user";
        app.type = "public";
        app.grants = list("refresh_token");
        app.scopes = list("used:by");
        CHECK(at_app_create(reg, pool, &app, "odd", &secret, &err) ==
                  APR_SUCCESS,
              "%s", err.text);
        CHECK(at_console_scope_users(reg, pool, "used:by", &users, &err) ==
                      APR_SUCCESS &&
                  users->nelts == 1 &&
                  !strcmp(APR_ARRAY_IDX(users, 0, at_app_t *)->name,
                          "Zeta user") &&
                  !strcmp(APR_ARRAY_IDX(users, 0, at_app_t *)->client_id,
                          app.client_id),
              "scope users");
    }

    at_registry_close(reg);
    treg_cleanup();
    UNIT_DONE();
}
