/* The registry's changes raced by processes with a connection each, as
 * httpd children and nodes race: on SQLite the write lock serialises them;
 * on PostgreSQL (AT_TEST_REGISTRY, registry_spec.h) the advisory lock of
 * serialised changes and the row locks of the hot paths must give the same
 * outcomes. Each case starts N children at once and counts what they got:
 *   - a new registry opened by all at once: created once;
 *   - one application's secret rotated by all (grace 0): one secret left;
 *   - N jtis revoked at once: the generation moved by N, N audit rows;
 *   - one console ticket used by all (at_audit_once): one first use;
 *   - one application name created by all: one application;
 *   - a scope deleted while an application takes it: never both;
 * and on PostgreSQL, a connection whose server process was terminated
 * (a restart, a failover) is made again: reads and new transactions go on,
 * a write outside a transaction reports the loss once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "unit.h"
#include "registry_spec.h"
#include "at_registry.h"

#define N 8

static apr_pool_t *pool;

/* What a child does once started; its result is its exit status, and it
 * may write one short line to OUT. */
typedef int (*child_fn)(at_registry_t *reg, apr_pool_t *p, int i, int out,
                        void *arg);

/* Runs FN in N children with a connection each to the registry NAME, all
 * released at once; counts[status] gets how many exited with each status
 * (0..7, 9 for a child that could not start); lines (may be NULL) what
 * they wrote. */
static void race(const char *name, child_fn fn, void *arg, int counts[10],
                 char lines[N][128])
{
    int go[2], out[2], i;
    pid_t pids[N];

    memset(counts, 0, sizeof(int) * 10);
    treg_params(name);              /* made once, before the fork */
    if (pipe(go) != 0 || pipe(out) != 0) {
        perror("pipe");
        exit(2);
    }
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            apr_pool_t *cp;
            at_registry_t *reg;
            at_error_t err;
            char c;

            close(go[1]);
            close(out[0]);
            apr_pool_create(&cp, NULL);
            if (read(go[0], &c, 1) != 1) {
                _exit(9);
            }
            if (treg_open(cp, name, &reg, &err) != APR_SUCCESS) {
                fprintf(stderr, "child open: %s\n", err.text);
                _exit(9);
            }
            _exit(fn(reg, cp, i, out[1], arg));
        }
    }
    close(go[0]);
    close(out[1]);
    usleep(100000);
    {
        char g[N];
        memset(g, 'g', sizeof(g));
        if (write(go[1], g, N) != N) {
            perror("write");
        }
    }
    close(go[1]);
    if (lines) {
        FILE *f = fdopen(out[0], "r");
        for (i = 0; i < N; i++) {
            lines[i][0] = '\0';
            if (f && fgets(lines[i], 128, f)) {
                lines[i][strcspn(lines[i], "\n")] = '\0';
            }
        }
        if (f) {
            fclose(f);
        }
    }
    else {
        close(out[0]);
    }
    for (i = 0; i < N; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        counts[WIFEXITED(st) && WEXITSTATUS(st) <= 9 ? WEXITSTATUS(st)
                                                      : 9]++;
    }
}

static apr_array_header_t *list_of(const char *a)
{
    apr_array_header_t *l = apr_array_make(pool, 1, sizeof(const char *));

    if (a) {
        APR_ARRAY_PUSH(l, const char *) = a;
    }
    return l;
}

static at_app_t *new_app(const char *name, const char *scope)
{
    at_app_t *app = apr_pcalloc(pool, sizeof(*app));

    app->name = name;
    app->type = "confidential";
    app->grants = list_of("client_credentials");
    app->scopes = list_of(scope);
    app->audiences = list_of(NULL);
    app->redirect_uris = list_of(NULL);
    return app;
}

/* --- a new registry opened by all at once -------------------------------- */

static int opened(at_registry_t *reg, apr_pool_t *p, int i, int out,
                  void *arg)
{
    return 0;
}

static void test_first_open(void)
{
    at_registry_t *reg;
    apr_array_header_t *scopes;
    at_error_t err;
    int counts[10];

    race("fresh.db", opened, NULL, counts, NULL);
    CHECK(counts[0] == N, "all opened: %d (failed %d)", counts[0],
          counts[9]);
    CHECK(treg_open(pool, "fresh.db", &reg, &err) == APR_SUCCESS, "%s",
          err.text);
    CHECK(at_scope_list(reg, pool, &scopes, &err) == APR_SUCCESS
              && scopes->nelts == 2,
          "created once: %d built-in scopes (offline_access, openid)",
          scopes ? scopes->nelts : -1);
    at_registry_close(reg);
}

/* --- one secret rotated by all --------------------------------------------- */

static int rotate(at_registry_t *reg, apr_pool_t *p, int i, int out,
                  void *arg)
{
    const char *secret;
    at_error_t err;
    char line[128];
    int n;

    if (at_app_rotate_secret(reg, p, arg, 0, "racer", &secret, &err)
        != APR_SUCCESS) {
        fprintf(stderr, "rotate: %s\n", err.text);
        return 1;
    }
    n = snprintf(line, sizeof(line), "%s\n", secret);
    return write(out, line, (size_t)n) == n ? 0 : 2;
}

static void test_rotations(at_registry_t *reg)
{
    at_app_t *app = new_app("rotated", NULL), *got;
    const char *first;
    char lines[N][128];
    at_error_t err;
    int counts[10], i, valid = 0;

    CHECK(at_app_create(reg, pool, app, "x", &first, &err) == APR_SUCCESS,
          "%s", err.text);
    race("race.db", rotate, (void *)app->client_id, counts, lines);
    CHECK(counts[0] == N, "all rotated: %d", counts[0]);
    for (i = 0; i < N; i++) {
        valid += at_client_authenticate(reg, pool, app->client_id, lines[i],
                                        &got, &err) == APR_SUCCESS;
    }
    CHECK(valid == 1, "one secret left valid, got %d", valid);
    CHECK(at_client_authenticate(reg, pool, app->client_id, first, &got,
                                 &err) == APR_EACCES, "the first one ended");
}

/* --- N jtis revoked at once ------------------------------------------------ */

static int revoke_one(at_registry_t *reg, apr_pool_t *p, int i, int out,
                      void *arg)
{
    at_error_t err;

    return at_jti_revoke(reg, p, apr_psprintf(p, "race-jti-%d", i), "racer",
                         &err) == APR_SUCCESS ? 0 : 1;
}

static void test_revocations(at_registry_t *reg)
{
    apr_array_header_t *rows;
    long long g0 = -1, g1 = -1;
    at_error_t err;
    int counts[10], i, total = -1;

    for (i = 0; i < N; i++) {
        at_jti_record(reg, pool, apr_psprintf(pool, "race-jti-%d", i), "c",
                      9999999999LL, &err);
    }
    at_revocation_generation(reg, pool, &g0, &err);
    race("race.db", revoke_one, NULL, counts, NULL);
    CHECK(counts[0] == N, "all revoked: %d", counts[0]);
    at_revocation_generation(reg, pool, &g1, &err);
    CHECK(g1 == g0 + N, "generation moved by %d: %lld -> %lld", N, g0, g1);
    CHECK(at_audit_list(reg, pool, NULL, "racer", 0, 0, &rows, &total, &err)
              == APR_SUCCESS, "%s", err.text);
    CHECK(total == N + N, "every audit row kept (rotations and "
          "revocations): %d", total);
}

/* --- one ticket used by all ---------------------------------------------- */

static int ticket(at_registry_t *reg, apr_pool_t *p, int i, int out,
                  void *arg)
{
    at_error_t err;
    int first = 0;

    if (at_audit_once(reg, p, "racer", "ticket.use", "ticket-1", "once",
                      &first, &err) != APR_SUCCESS) {
        fprintf(stderr, "audit_once: %s\n", err.text);
        return 2;
    }
    return first ? 0 : 1;
}

/* --- one name created by all --------------------------------------------- */

static int create_named(at_registry_t *reg, apr_pool_t *p, int i, int out,
                        void *arg)
{
    at_app_t *app = apr_pcalloc(p, sizeof(*app));
    const char *secret;
    at_error_t err;
    apr_status_t rv;

    *app = *(at_app_t *)arg;
    rv = at_app_create(reg, p, app, "racer", &secret, &err);
    return rv == APR_SUCCESS ? 0 : rv == APR_EEXIST ? 1 : 2;
}

/* --- a scope deleted while an application takes it ------------------------ */

static int delete_or_take(at_registry_t *reg, apr_pool_t *p, int i, int out,
                          void *arg)
{
    const char *scope = arg, *secret;
    at_error_t err;
    apr_status_t rv;

    if (i == 0) {
        rv = at_scope_delete(reg, p, scope, "racer", NULL, &err);
        return rv == APR_SUCCESS ? 0 : rv == APR_EBUSY ? 1 : 2;
    }
    if (i == 1) {
        at_app_t *app = new_app(apr_psprintf(p, "taker-%s", scope), scope);
        rv = at_app_create(reg, p, app, "racer", &secret, &err);
        return rv == APR_SUCCESS ? 3 : rv == APR_EINVAL ? 4 : 5;
    }
    return 6;
}

static void test_serialised(at_registry_t *reg)
{
    int counts[10], round;

    race("race.db", ticket, NULL, counts, NULL);
    CHECK(counts[0] == 1 && counts[1] == N - 1, "one first use: %d first, "
          "%d later, %d failed", counts[0], counts[1], counts[2]);

    race("race.db", create_named, new_app("same-name", NULL), counts, NULL);
    CHECK(counts[0] == 1 && counts[1] == N - 1, "one created: %d, "
          "%d duplicates, %d failed", counts[0], counts[1], counts[2]);

    for (round = 0; round < 3; round++) {
        const char *scope = apr_psprintf(pool, "contested-%d", round);
        at_error_t err;

        at_scope_add(reg, pool, scope, NULL, "x", &err);
        race("race.db", delete_or_take, (void *)scope, counts, NULL);
        /* Deleted and not taken, or taken and not deleted. */
        CHECK((counts[0] == 1 && counts[4] == 1)
                  || (counts[1] == 1 && counts[3] == 1),
              "scope %s: deleted %d busy %d taken %d refused %d failed %d",
              scope, counts[0], counts[1], counts[3], counts[4],
              counts[2] + counts[5]);
    }
}

/* --- PostgreSQL: a terminated server process ----------------------------- */

/* Ends every other session of the registry's role in this database, as a
 * server restart would (pg_terminate_backend: a role may end its own). */
static void terminate_sessions(const char *name)
{
    CHECK(treg_sql(name, "SELECT pg_terminate_backend(pid)"
                         " FROM pg_stat_activity"
                         " WHERE application_name = 'mod_auth_token'"
                         " AND pid <> pg_backend_pid()") == 0,
          "terminate");
    usleep(100000);
}

static void test_lost_connection(at_registry_t *reg)
{
    apr_array_header_t *apps;
    at_error_t err;
    apr_status_t rv;
    int total;

    terminate_sessions("race.db");
    rv = at_app_list(reg, pool, NULL, 0, 0, &apps, &total, &err);
    CHECK(rv == APR_SUCCESS, "a read reconnects: %s", err.text);
    terminate_sessions("race.db");
    rv = at_scope_add(reg, pool, "after-restart", NULL, "x", &err);
    CHECK(rv == APR_SUCCESS, "a change reconnects at BEGIN: %s", err.text);
    /* Prepared on this connection, then the session ends: the INSERT
     * itself fails and is not sent again. */
    CHECK(at_jti_record(reg, pool, "lost-0", "c", 9999999999LL, &err)
              == APR_SUCCESS, "%s", err.text);
    terminate_sessions("race.db");
    rv = at_jti_record(reg, pool, "lost-1", "c", 9999999999LL, &err);
    CHECK(rv == APR_ECONNREFUSED && strstr(err.text, "cannot be reached"),
          "a lone write is not sent twice: %d %s", rv, err.text);
    rv = at_jti_record(reg, pool, "lost-2", "c", 9999999999LL, &err);
    CHECK(rv == APR_SUCCESS, "the next write reconnects: %s", err.text);
    CHECK(at_jti_revoke(reg, pool, "lost-2", "x", &err) == APR_SUCCESS,
          "and was recorded: %s", err.text);
}

int main(void)
{
    at_registry_t *reg;
    at_error_t err;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    treg_init(pool);
    test_first_open();
    CHECK(treg_open(pool, "race.db", &reg, &err) == APR_SUCCESS, "%s",
          err.text);
    test_rotations(reg);
    test_revocations(reg);
    test_serialised(reg);
    if (treg_pg()) {
        test_lost_connection(reg);
    }
    at_registry_close(reg);
    treg_cleanup();
    UNIT_DONE();
}
