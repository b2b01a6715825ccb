/* console_main.c: the web console's pipeline, in the manner of cgit's
 * main: read the CGI context in one place, refuse to work for nobody, open
 * the registry, parse the request (bounded), check the CSRF token of every
 * POST, then hand over to the page the PATH_INFO names.
 *
 * URL map (below SCRIPT_NAME):
 *   /                               dashboard
 *   /apps                           list, ?q= search, ?page=
 *   /apps/new                       create form (POST creates)
 *   /apps/ID                        detail
 *   /apps/ID/edit                   edit form (POST saves)
 *   /apps/ID/secret                 the new secret, shown once
 *   /apps/ID/rotate                 POST: new secret, optional grace
 *   /apps/ID/end-old-secrets        POST: revoke the previous secrets now
 *   /apps/ID/enable, /disable       POST
 *   /apps/ID/delete                 confirmation (POST deletes)
 *   /apps/ID/grants                 refresh-token families
 *   /apps/ID/grants/revoke          POST family=...
 *   /apps/ID/grants/revoke-jti      POST jti=... (one access token)
 *   /apps/ID/revoke-all             POST: every token of the application
 *   /apps/ID/consents               people who allowed it, and what
 *   /apps/ID/consents/revoke        POST user=...: one person's access
 *   /scopes                         list and create (POST)
 *   /scopes/edit?name=NAME          edit description (POST saves)
 *   /scopes/delete                  POST name=NAME
 * A POST that ends something (rotate, end-old-secrets, disable,
 * revoke-all, grants/revoke, scopes/delete) first answers a page that
 * says what will stop working; its button sends the same POST again with
 * confirm=yes, which does it.
 *   /audit                          audit log, ?app= ?actor= ?page=
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "token_admin.h"
#include "console.h"

/* A page that only changes things answers GET with 405. */
static int post_only(console_t *c)
{
    apr_table_setn(c->headers_out, "Allow", "POST");
    return ui_error(c, 405, "Method not allowed",
                    "This address only takes a form sent with its button.");
}

static int not_found(console_t *c)
{
    return ui_error(c, 404, "Page not found",
                    "The console has no page at this address.");
}

/* Adapters for handlers that take no path argument or a fixed one. */
static int dashboard(console_t *c, const char *arg)
{
    return ui_dashboard(c);
}

static int apps_list(console_t *c, const char *arg)
{
    return ui_apps_list(c);
}

static int app_new(console_t *c, const char *arg)
{
    return ui_app_new(c);
}

static int app_enable(console_t *c, const char *id)
{
    return ui_app_enable(c, id, 1);
}

static int app_disable(console_t *c, const char *id)
{
    return ui_app_enable(c, id, 0);
}

static int scopes(console_t *c, const char *arg)
{
    return ui_scopes(c);
}

static int audit(console_t *c, const char *arg)
{
    return ui_audit(c);
}

/* The page table, cgit style: PATH_INFO segments ("*" takes any segment
 * and hands it to the handler, here always a client_id), whether only a
 * POST may reach the page, and the handler. First match wins. */
typedef int (*page_fn)(console_t *c, const char *arg);
static const struct page {
    const char *path[4];
    int post_only;
    page_fn fn;
} pages[] = {
    {{NULL}, 0, dashboard},
    {{"apps"}, 0, apps_list},
    {{"apps", "new"}, 0, app_new},
    {{"apps", "*"}, 0, ui_app_show},
    {{"apps", "*", "edit"}, 0, ui_app_edit},
    {{"apps", "*", "secret"}, 0, ui_app_secret},
    {{"apps", "*", "delete"}, 0, ui_app_delete},
    {{"apps", "*", "grants"}, 0, ui_grants},
    {{"apps", "*", "rotate"}, 1, ui_app_rotate},
    {{"apps", "*", "end-old-secrets"}, 1, ui_app_end_old_secrets},
    {{"apps", "*", "enable"}, 1, app_enable},
    {{"apps", "*", "disable"}, 1, app_disable},
    {{"apps", "*", "revoke-all"}, 1, ui_revoke_all},
    {{"apps", "*", "grants", "revoke"}, 1, ui_grant_revoke},
    {{"apps", "*", "grants", "revoke-jti"}, 1, ui_jti_revoke},
    {{"apps", "*", "consents"}, 0, ui_consents},
    {{"apps", "*", "consents", "revoke"}, 1, ui_consent_revoke},
    {{"scopes"}, 0, scopes},
    {{"scopes", "edit"}, 0, ui_scope_edit},
    {{"scopes", "delete"}, 1, ui_scope_delete},
    {{"audit"}, 0, audit},
};

/* Runs the page PATH_INFO names, or answers 404. */
static int dispatch(console_t *c)
{
    int n = c->segments->nelts, i, k;
    const char *arg, *seg;

    for (i = 0; i < (int)(sizeof(pages) / sizeof(pages[0])); i++) {
        const struct page *pg = &pages[i];
        arg = NULL;
        for (k = 0; k < 4 && pg->path[k]; k++) {
            if (k >= n)
                break;
            seg = APR_ARRAY_IDX(c->segments, k, const char *);
            if (strcmp(pg->path[k], "*") == 0)
                arg = seg;
            else if (strcmp(pg->path[k], seg) != 0)
                break;
        }
        /* Every pattern segment matched and nothing is left over. */
        if (k == n && (k == 4 || pg->path[k] == NULL))
            return pg->post_only && !c->is_post ? post_only(c) : pg->fn(c, arg);
    }
    return not_found(c);
}

static int run_request(console_t *c);

int console_main(apr_pool_t *p)
{
    console_t ctx, *c = &ctx;
    int status;

    memset(c, 0, sizeof(*c));
    c->pool = p;
    console_cgi_read(c);
    status = run_request(c);
    /* Whatever was answered, let httpd finish writing the body. */
    console_drain_body(c);
    return status;
}

/* Everything after reading the CGI context; returns the exit status. */
static int run_request(console_t *c)
{
    const char *why = NULL, *driver, *params;
    at_error_t err = {{0}};
    apr_pool_t *p = c->pool;
    apr_status_t rv;
    int status;

    /* Without an authenticated operator there is no actor for the audit
     * log and no one to bind CSRF tokens to: the server is misconfigured,
     * and the page says how to fix it. */
    if (*c->remote_user == '\0') {
        fprintf(stderr,
                "token-admin: AT00801: refused a request without REMOTE_USER:"
                " put the console behind Apache authentication\n");
        return ui_no_operator(c);
    }
    if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0 &&
        !c->is_post) {
        apr_table_setn(c->headers_out, "Allow", "GET, HEAD, POST");
        return ui_error(c, 405, "Method not allowed",
                        "The console answers GET and POST only.");
    }
    if (*c->registry_spec == '\0') {
        fprintf(stderr, "token-admin: AT00802: AUTH_TOKEN_REGISTRY is not set "
                        "(SetEnv AUTH_TOKEN_REGISTRY /path/registry.db)\n");
        return ui_error(c, 500, "Registry not configured",
                        "Set the registry with SetEnv AUTH_TOKEN_REGISTRY "
                        "/var/lib/mod_auth_token/registry.db beside the "
                        "console's ScriptAlias.");
    }
    /* "pgsql:CONNINFO", "sqlite3:PATH", a PATH, or "DRIVER PARAMS". */
    if (at_registry_spec(p, c->registry_spec, &driver, &params, &err)
        != APR_SUCCESS) {
        fprintf(stderr, "token-admin: AT00803: AUTH_TOKEN_REGISTRY: %s\n",
                err.text);
        return ui_error(c, 500, "Registry unavailable",
                        "The console's registry setting is not valid. The "
                        "server's error log says why.");
    }
    c->registry_file = strcmp(driver, "sqlite3") == 0 ? params : NULL;
    rv = at_registry_open(p, driver, params, &c->reg, &err);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "token-admin: AT00803: cannot open the registry: %s\n",
                err.text);
        /* A database server that cannot be reached now may be later. */
        if (rv == APR_ECONNREFUSED) {
            apr_table_setn(c->headers_out, "Retry-After", "1");
        }
        return ui_error(c, rv == APR_ECONNREFUSED ? 503 : 500,
                        "Registry unavailable",
                        "The console cannot open the registry. The "
                        "server's error log says why.");
    }
    if (console_csrf_init(c, &why) != 0) {
        fprintf(stderr, "token-admin: AT00804: %s\n", why);
        status = ui_error(c, 500, "Console key unavailable",
                          "The console cannot read or create its form key "
                          "beside the registry. The server's error log "
                          "says why.");
        goto done;
    }
    c->csrf_token = console_csrf_token(c);

    if ((status = console_parse_request(c, &why)) != 0) {
        status = ui_error(c, status, "Bad request", why);
        goto done;
    }
    if (c->is_post) {
        if ((status = console_read_form(c, &why)) != 0) {
            status = ui_error(c, status, "Form refused", why);
            goto done;
        }
        /* Nothing is changed unless the form came from a console page
         * served to this same operator recently. */
        if (!console_csrf_check(c, apr_table_get(c->form, "csrf"))) {
            /* A genuine form that only came late keeps its input: the
             * operator may send it again (with a fresh token). */
            if (console_csrf_expired(c, apr_table_get(c->form, "csrf"))) {
                status = ui_resubmit(c);
                goto done;
            }
            fprintf(stderr,
                    "token-admin: AT00805: refused a POST by %s without a "
                    "valid CSRF token\n",
                    c->remote_user);
            status = ui_error(c, 403, "Form expired or forged",
                              "This form did not come from a console page "
                              "opened by you in the last hours, so nothing "
                              "was changed. Go back, reload the page and "
                              "send it again.");
            goto done;
        }
    }
    status = dispatch(c);

done:
    at_registry_close(c->reg);
    return status;
}
