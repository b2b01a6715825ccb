/* Delegated authorization in the registry: authorization codes (stored
 * hashed, bound, single use even when N processes redeem one at once, a
 * second use revoking what the first issued, expiry), identities,
 * consents (growing, listed, revoked with the person's grants and tokens
 * only), and the per-registry CSRF key. SQLite, or PostgreSQL with
 * AT_TEST_REGISTRY (registry_spec.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_dbd.h>

#include "unit.h"
#include "at_registry.h"
#include "at_registry_authz.h"
#include "registry_spec.h"

static apr_pool_t *pool;
#define REG "authz.db"

static apr_array_header_t *list1(const char *a)
{
    apr_array_header_t *l = apr_array_make(pool, 2, sizeof(const char *));

    if (a) {
        APR_ARRAY_PUSH(l, const char *) = a;
    }
    return l;
}

static const char *new_app(at_registry_t *reg, const char *name)
{
    at_app_t *app = apr_pcalloc(pool, sizeof(*app));
    const char *secret;
    at_error_t err;

    app->name = name;
    app->type = "public";
    app->grants = list1("authorization_code");
    APR_ARRAY_PUSH(app->grants, const char *) = "refresh_token";
    app->scopes = list1("read");
    app->audiences = list1(NULL);
    app->redirect_uris = list1("https://app.example/cb");
    CHECK(at_app_create(reg, pool, app, "test", &secret, &err)
              == APR_SUCCESS, "app %s: %s", name, err.text);
    return app->client_id;
}

/* Runs SQL on the registry directly; the first column of the first
 * row, or NULL. */
static const char *raw_value(const char *sql)
{
    const apr_dbd_driver_t *drv;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *e, *v = NULL;
    apr_dbd_t *h;

    if (apr_dbd_get_driver(pool, treg.driver, &drv) != APR_SUCCESS
        || apr_dbd_open_ex(drv, pool, treg_params(REG), &h, &e)
               != APR_SUCCESS) {
        return NULL;
    }
    if (apr_dbd_select(drv, pool, h, &res, sql, 0) == 0
        && apr_dbd_get_row(drv, pool, res, &row, -1) == 0) {
        v = apr_dbd_get_entry(drv, row, 0);
        v = v ? apr_pstrdup(pool, v) : NULL;
        while (apr_dbd_get_row(drv, pool, res, &row, -1) == 0) {
        }
    }
    apr_dbd_close(drv, h);
    return v;
}

static int jti_revoked(at_registry_t *reg, const char *jti)
{
    apr_array_header_t *jtis;
    apr_table_t *clients;
    at_error_t err;
    int i;

    if (at_revocation_load(reg, pool, &jtis, &clients, &err)
        != APR_SUCCESS) {
        return -1;
    }
    for (i = 0; i < jtis->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(jtis, i, const char *), jti) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Redeems VALUE for CLIENT with the access token JTI; *refresh (may be
 * NULL) gets the refresh token when one was issued. */
static apr_status_t redeem(at_registry_t *reg, apr_pool_t *p,
                           const char *value, const char *client,
                           const at_jti_rec_t *jti, long refresh_lifetime,
                           const char **refresh, at_redeem_t *out)
{
    at_redeem_t item;
    at_error_t err;
    apr_status_t rv;

    memset(&item, 0, sizeof(item));
    item.value = value;
    item.client_id = client;
    item.jti = *jti;
    item.refresh_lifetime = refresh_lifetime;
    item.pool = p;
    rv = at_code_redeem(reg, p, &item, &err);
    if (refresh) {
        *refresh = item.refresh;
    }
    if (out) {
        *out = item;
    }
    return rv;
}

/* A check that refuses every code (PKCE mismatch, say). */
static const char *refuse(const at_code_t *code, void *ctx)
{
    return ctx;
}

static const char *issue(at_registry_t *reg, const char *cid,
                         const char *subject, long lifetime, at_code_t **out)
{
    at_code_t *c = apr_pcalloc(pool, sizeof(*c));
    const char *value = NULL;
    at_error_t err;

    c->client_id = cid;
    c->subject = subject;
    c->redirect_uri = "https://app.example/cb";
    c->redirect_sent = 1;
    c->scope = "openid read offline_access";
    c->challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    c->nonce = "n-0S6_WzA2Mj";
    c->claims = "{\"email\":\"alice@example.com\"}";
    c->auth_time = 1700000000;
    CHECK(at_code_issue(reg, pool, c, lifetime, &value, &err) == APR_SUCCESS,
          "issue: %s", err.text);
    if (out) {
        *out = c;
    }
    return value;
}

static void test_codes(at_registry_t *reg, const char *cid)
{
    at_jti_rec_t jti = {"jti-code-1", cid, 4102444800LL, "alice", NULL};
    at_code_t *c, *got = NULL;
    const char *value, *refresh = NULL, *next, *claims;
    at_refresh_t *info;
    at_error_t err;
    apr_status_t rv;

    value = issue(reg, cid, "alice", 60, &c);
    CHECK(value && strlen(value) >= 43, "256-bit code: %s", value);
    CHECK(c->grant_id && *c->grant_id, "grant id");
    /* Only the hash is stored. */
    CHECK(raw_value(apr_psprintf(pool, "SELECT count(*) FROM auth_codes"
                                 " WHERE hash = '%s'", value)) != NULL
              && strcmp(raw_value(apr_psprintf(
                            pool, "SELECT count(*) FROM auth_codes"
                            " WHERE hash = '%s'", value)), "0") == 0,
          "value not stored");
    rv = at_code_lookup(reg, pool, value, &got, &err);
    CHECK(rv == APR_SUCCESS, "lookup: %s", err.text);
    if (rv == APR_SUCCESS) {
        CHECK(strcmp(got->client_id, cid) == 0
                  && strcmp(got->subject, "alice") == 0
                  && strcmp(got->redirect_uri, "https://app.example/cb") == 0
                  && got->redirect_sent == 1
                  && strcmp(got->scope, "openid read offline_access") == 0
                  && strcmp(got->challenge, c->challenge) == 0
                  && strcmp(got->nonce, "n-0S6_WzA2Mj") == 0
                  && got->auth_time == 1700000000 && got->used_at == 0
                  && got->expires - got->created == 60
                  && strcmp(got->grant_id, c->grant_id) == 0,
              "bound fields round trip");
    }
    CHECK(at_code_lookup(reg, pool, "nope", &got, &err) == APR_NOTFOUND,
          "unknown code");
    /* Another client's presentation, or a refused check: nothing
     * happens to the code. */
    {
        at_redeem_t out;
        at_jti_rec_t other = {"jti-other", "someone-else", 4102444800LL,
                              NULL, NULL};

        CHECK(redeem(reg, pool, value, "someone-else", &other, 0, NULL, &out)
                  == APR_NOTFOUND && out.code == NULL, "another client's");
        memset(&out, 0, sizeof(out));
        out.value = value;
        out.client_id = cid;
        out.jti = other;
        out.check = refuse;
        out.ctx = "verifier does not match";
        out.pool = pool;
        CHECK(at_code_redeem(reg, pool, &out, &err) == APR_EINVAL
                  && strcmp(out.problem, "verifier does not match") == 0
                  && strcmp(out.code->subject, "alice") == 0,
              "refused by the check");
        CHECK(raw_value("SELECT jti FROM issued_jtis WHERE jti ="
                        " 'jti-other'") == NULL, "nothing recorded");
    }
    rv = at_identity_get(reg, pool, "alice", &claims, &err);
    CHECK(rv == APR_SUCCESS && strstr(claims, "alice@example.com"),
          "identity recorded: %s", err.text);

    /* The exchange: access token and refresh family in one go. */
    rv = redeem(reg, pool, value, cid, &jti, 3600, &refresh, NULL);
    CHECK(rv == APR_SUCCESS && refresh, "redeem: %s", err.text);
    CHECK(strcmp(raw_value("SELECT grant_id FROM issued_jtis WHERE jti ="
                           " 'jti-code-1'"), c->grant_id) == 0,
          "jti recorded with the grant");
    CHECK(strcmp(raw_value("SELECT subject FROM issued_jtis WHERE jti ="
                           " 'jti-code-1'"), "alice") == 0,
          "jti recorded with the person");
    rv = at_refresh_rotate(reg, pool, refresh, cid, 3600, &next, &info, &err);
    CHECK(rv == APR_SUCCESS && strcmp(info->subject, "alice") == 0
              && strcmp(info->family_id, c->grant_id) == 0,
          "person's refresh token rotates: %s", err.text);

    /* Second use: refused, and what the first issued is revoked. */
    jti.jti = "jti-code-2";
    rv = redeem(reg, pool, value, cid, &jti, 3600, &refresh, NULL);
    CHECK(rv == APR_EACCES && refresh == NULL, "reuse refused: %d", rv);
    CHECK(jti_revoked(reg, "jti-code-1") == 1, "first access token revoked");
    CHECK(raw_value("SELECT jti FROM issued_jtis WHERE jti = 'jti-code-2'")
              == NULL, "nothing recorded for the reuse");
    rv = at_refresh_rotate(reg, pool, next, cid, 3600, &next, &info, &err);
    CHECK(rv == APR_NOTFOUND, "family revoked: %d", rv);

    /* Without a refresh lifetime no family starts, offline_access or
     * not; a reuse still revokes the access token. */
    value = issue(reg, cid, "alice", 60, &c);
    jti.jti = "jti-code-3";
    CHECK(redeem(reg, pool, value, cid, &jti, 0, &refresh, NULL)
              == APR_SUCCESS && refresh == NULL, "redeem without refresh");
    jti.jti = "jti-code-3b";
    CHECK(redeem(reg, pool, value, cid, &jti, 0, NULL, NULL) == APR_EACCES,
          "second use");
    CHECK(jti_revoked(reg, "jti-code-3") == 1, "its token revoked");

    /* Expired. */
    value = issue(reg, cid, "bob", 1, &c);
    sleep(2);
    jti.jti = "jti-code-4";
    {
        at_redeem_t out;

        rv = redeem(reg, pool, value, cid, &jti, 0, NULL, &out);
        CHECK(rv == APR_NOTFOUND && strstr(out.problem, "expired"),
              "expired: %d", rv);
    }

    /* Refused input. */
    c = apr_pcalloc(pool, sizeof(*c));
    c->client_id = cid;
    c->redirect_uri = "https://app.example/cb";
    CHECK(at_code_issue(reg, pool, c, 60, &value, &err) == APR_EINVAL,
          "no person");
    c->subject = "x";
    CHECK(at_code_issue(reg, pool, c, 0, &value, &err) == APR_EINVAL,
          "no lifetime");
    c->client_id = "no-such-client";
    CHECK(at_code_issue(reg, pool, c, 60, &value, &err) != APR_SUCCESS,
          "unknown client");
}

/* N processes redeem one code at once: exactly one gets tokens. */
static void test_race(at_registry_t *reg, const char *cid)
{
    enum { N = 8 };
    const char *value = issue(reg, cid, "carol", 60, NULL);
    pid_t pids[N];
    int pipefd[2], i, wins = 0, reuses = 0, others = 0;
    char go[N];

    CHECK(pipe(pipefd) == 0, "pipe");
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            at_jti_rec_t jti = {NULL, cid, 4102444800LL, "carol", NULL};
            apr_pool_t *cp;
            at_registry_t *r;
            const char *refresh;
            at_error_t err;
            apr_status_t rv;
            char g;

            close(pipefd[1]);
            apr_pool_create(&cp, NULL);
            jti.jti = apr_psprintf(cp, "race-%d", i);
            if (treg_open(cp, REG, &r, &err)) {
                _exit(3);
            }
            if (read(pipefd[0], &g, 1) != 1) {
                _exit(4);
            }
            rv = redeem(r, cp, value, cid, &jti, 3600, &refresh, NULL);
            _exit(rv == APR_SUCCESS ? 0 : rv == APR_EACCES ? 1 : 5);
        }
    }
    close(pipefd[0]);
    usleep(150000);
    memset(go, 'g', sizeof(go));
    CHECK(write(pipefd[1], go, N) == N, "start");
    close(pipefd[1]);
    for (i = 0; i < N; i++) {
        int st;

        waitpid(pids[i], &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            wins++;
        }
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 1) {
            reuses++;
        }
        else {
            others++;
        }
    }
    CHECK(wins == 1 && reuses == N - 1 && others == 0,
          "one redemption wins: %d wins, %d reuses, %d other", wins, reuses,
          others);
    /* The losers revoked what the winner got. */
    CHECK(strcmp(raw_value("SELECT count(*) FROM issued_jtis WHERE"
                           " subject = 'carol' AND revoked IS NULL"), "0")
              == 0, "winner's token revoked by the reuse");
}

static void test_consents(at_registry_t *reg, const char *cid,
                          const char *other)
{
    at_jti_rec_t jti = {"dave-1", NULL, 4102444800LL, "dave", NULL};
    apr_array_header_t *list;
    at_consent_t *c = NULL;
    const char *refresh, *r2, *next;
    at_refresh_t *info;
    at_error_t err;
    apr_status_t rv;

    CHECK(at_consent_get(reg, pool, "dave", cid, &c, &err) == APR_NOTFOUND,
          "none yet");
    CHECK(at_consent_save(reg, pool, "dave", cid, "openid read", &err)
              == APR_SUCCESS, "save: %s", err.text);
    CHECK(at_consent_save(reg, pool, "dave", cid, "read offline_access",
                          &err) == APR_SUCCESS, "grow: %s", err.text);
    rv = at_consent_get(reg, pool, "dave", cid, &c, &err);
    CHECK(rv == APR_SUCCESS
              && strcmp(c->scope, "openid read offline_access") == 0
              && strcmp(c->app_name, "web") == 0 && c->created > 0,
          "union kept: %s", c ? c->scope : err.text);
    CHECK(at_consent_save(reg, pool, "dave", "nope", "read", &err)
              == APR_NOTFOUND, "unknown application");
    CHECK(at_consent_save(reg, pool, "", cid, "read", &err) == APR_EINVAL,
          "no person");
    at_consent_save(reg, pool, "erin", cid, "read", &err);
    at_consent_save(reg, pool, "dave", other, "read", &err);

    rv = at_consent_list(reg, pool, NULL, NULL, &list, &err);
    CHECK(rv == APR_SUCCESS && list->nelts == 3, "all: %d", list->nelts);
    rv = at_consent_list(reg, pool, "dave", NULL, &list, &err);
    CHECK(rv == APR_SUCCESS && list->nelts == 2, "dave's: %d", list->nelts);
    rv = at_consent_list(reg, pool, NULL, cid, &list, &err);
    CHECK(rv == APR_SUCCESS && list->nelts == 2
              && strcmp(APR_ARRAY_IDX(list, 0, at_consent_t *)->subject,
                        "dave") == 0, "web's, by person");

    /* Grants of dave and erin for web, dave for the other app. */
    jti.client_id = cid;
    at_jti_record_many(reg, pool, &jti, 1, &err);
    jti.jti = "erin-1";
    jti.subject = "erin";
    at_jti_record_many(reg, pool, &jti, 1, &err);
    jti.jti = "dave-other";
    jti.subject = "dave";
    jti.client_id = other;
    at_jti_record_many(reg, pool, &jti, 1, &err);
    at_refresh_issue(reg, pool, cid, "dave", "read", 3600, &refresh, &err);
    at_refresh_issue(reg, pool, cid, "erin", "read", 3600, &r2, &err);

    rv = at_consent_revoke(reg, pool, "dave", cid, "dave", &err);
    CHECK(rv == APR_SUCCESS, "revoke: %s", err.text);
    CHECK(at_consent_get(reg, pool, "dave", cid, &c, &err) == APR_NOTFOUND,
          "consent gone");
    CHECK(jti_revoked(reg, "dave-1") == 1, "dave's token revoked");
    CHECK(jti_revoked(reg, "erin-1") == 0, "erin's token kept");
    CHECK(jti_revoked(reg, "dave-other") == 0, "other app's token kept");
    CHECK(at_refresh_rotate(reg, pool, refresh, cid, 3600, &next, &info,
                            &err) == APR_NOTFOUND, "dave's family revoked");
    CHECK(at_refresh_rotate(reg, pool, r2, cid, 3600, &next, &info, &err)
              == APR_SUCCESS, "erin's family kept: %s", err.text);
    CHECK(at_consent_get(reg, pool, "dave", other, &c, &err) == APR_SUCCESS,
          "other consent kept");

    /* Nothing left to revoke, or no such application. */
    CHECK(at_consent_revoke(reg, pool, "dave", cid, "x", &err)
              == APR_NOTFOUND, "twice: %s", err.text);
    CHECK(at_consent_revoke(reg, pool, "dave", "nope", "x", &err)
              == APR_NOTFOUND, "unknown app");
    CHECK(strcmp(raw_value("SELECT count(*) FROM audit WHERE action ="
                           " 'consent.revoke'"), "1") == 0,
          "one audit row");

    /* Deleting the application takes its consents with it. */
    CHECK(at_app_delete(reg, pool, other, "x", &err) == APR_SUCCESS,
          "delete app: %s", err.text);
    rv = at_consent_list(reg, pool, "dave", NULL, &list, &err);
    CHECK(rv == APR_SUCCESS && list->nelts == 0, "cascade: %d", list->nelts);
}

static void test_secret_key(at_registry_t *reg)
{
    const char *a = NULL, *b = NULL, *c = NULL;
    at_registry_t *reg2;
    at_error_t err;

    CHECK(at_registry_secret_key(reg, pool, "csrf", &a, &err) == APR_SUCCESS
              && a && strlen(a) == 64, "created: %s", err.text);
    CHECK(treg_open(pool, REG, &reg2, &err) == APR_SUCCESS,
          "second connection");
    CHECK(at_registry_secret_key(reg2, pool, "csrf", &b, &err)
              == APR_SUCCESS && b && strcmp(a, b) == 0, "same for all");
    CHECK(at_registry_secret_key(reg2, pool, "other", &c, &err)
              == APR_SUCCESS && c && strcmp(a, c) != 0, "one per name");
    at_registry_close(reg2);
}

int main(void)
{
    at_registry_t *reg;
    const char *cid, *other;
    at_error_t err;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    treg_init(pool);
    if (treg_open(pool, REG, &reg, &err) != APR_SUCCESS) {
        fprintf(stderr, "open: %s\n", err.text);
        return 2;
    }
    {
        at_error_t e;
        at_scope_add(reg, pool, "read", "Read things", "test", &e);
    }
    cid = new_app(reg, "web");
    other = new_app(reg, "other");
    test_codes(reg, cid);
    test_race(reg, cid);
    test_consents(reg, cid, other);
    test_secret_key(reg);
    at_registry_close(reg);
    treg_cleanup();
    apr_pool_destroy(pool);
    UNIT_DONE();
}
