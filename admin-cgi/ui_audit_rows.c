/* ui_audit_rows.c: audit entries as table rows (dashboard, audit page),
 * each said in words: the application's name beside its client_id, and
 * what the change did (what changed, from what to what) instead of the
 * stored detail. The registry writes details as JSON (lib/
 * at_registry_apps.c and friends); older rows hold "key=value" text, read
 * here too, and anything unknown is shown as it is.
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "at_registry_console.h"
#include "html.h"
#include "ui_audit_rows.h"

static int is(const at_audit_t *a, const char *action)
{
    return strcmp(a->action ? a->action : "", action) == 0;
}

/* Actions whose target is a client_id. */
static int about_app(const at_audit_t *a)
{
    const char *act = a->action ? a->action : "";

    return strncmp(act, "app.", 4) == 0 || strncmp(act, "secret.", 7) == 0 ||
           strncmp(act, "refresh.", 8) == 0 || is(a, "token.revoke_client");
}

/* The console page of an audit row's target: its application (when it
 * still exists) or scope, or NULL when the target is something else (a
 * jti) or was deleted. */
static const char *target_page(console_t *c, const at_audit_t *a,
                               int app_exists)
{
    const char *act = a->action ? a->action : "";

    if (a->target == NULL || *a->target == '\0')
        return NULL;
    if (about_app(a))
        return app_exists && !is(a, "app.delete")
                   ? ui_app_path(c, a->target, "")
                   : NULL;
    if (strncmp(act, "scope.", 6) == 0 && !is(a, "scope.delete"))
        return apr_pstrcat(c->pool, "/scopes/edit?name=",
                           console_url_encode(c->pool, a->target), NULL);
    return NULL;
}

/* "client_id=X" (token.revoke), "family=F", "grace=N": the value of KEY
 * in an older detail, or NULL. */
static const char *old_value(const at_audit_t *a, const char *key)
{
    size_t n = strlen(key);

    if (a->detail && strncmp(a->detail, key, n) == 0 && a->detail[n] == '=')
        return a->detail + n + 1;
    return NULL;
}

/* ---- values in words ---------------------------------------------------- */

static const char *const labels[][2] = {
    {"name", "Name"},
    {"description", "Description"},
    {"type", "Type"},
    {"grants", "Grant types"},
    {"scopes", "Allowed scopes"},
    {"audiences", "Audiences"},
    {"redirect_uris", "Redirect URIs"},
    {"access_lifetime", "Access-token lifetime"},
    {"refresh_lifetime", "Refresh-token lifetime"},
    {"offline_client_credentials", "Refresh tokens with client credentials"},
    {"enabled", "Enabled"},
};

static const char *label(const char *key)
{
    size_t i;

    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(labels[i][0], key) == 0)
            return labels[i][1];
    }
    return key;
}

/* One JSON value of an application field as a person reads it. */
static const char *words(apr_pool_t *p, const char *key, json_t *v)
{
    const char *s = "";
    size_t i;

    if (v == NULL || json_is_null(v))
        return strstr(key, "lifetime") ? "server default" : "none";
    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    if (json_is_integer(v))
        return strstr(key, "lifetime")
                   ? ui_duration(p, (long)json_integer_value(v))
                   : apr_psprintf(p, "%" JSON_INTEGER_FORMAT,
                                  json_integer_value(v));
    if (json_is_string(v))
        return strcmp(key, "description") == 0 || strcmp(key, "name") == 0
                   ? apr_pstrcat(p, "\xe2\x80\x9c", json_string_value(v),
                                 "\xe2\x80\x9d", NULL)
                   : json_string_value(v);
    if (json_is_array(v)) {
        if (json_array_size(v) == 0)
            return "none";
        for (i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            s = apr_pstrcat(p, s, i ? ", " : "",
                            json_is_string(e) ? json_string_value(e) : "?",
                            NULL);
        }
        return s;
    }
    return "?";
}

/* The entries of list A missing from list B, in words ("" when none). */
static const char *missing(apr_pool_t *p, json_t *a, json_t *b)
{
    const char *s = "";
    size_t i, j;
    int found;

    for (i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        for (found = 0, j = 0; j < json_array_size(b) && !found; j++)
            found = json_equal(e, json_array_get(b, j));
        if (!found && json_is_string(e))
            s = apr_pstrcat(p, s, *s ? ", " : "", json_string_value(e), NULL);
    }
    return s;
}

/* "Label: before → after", or for lists "Label: added x; removed y". */
static const char *change(apr_pool_t *p, const char *key, json_t *pair)
{
    json_t *before = json_array_get(pair, 0), *after = json_array_get(pair, 1);
    const char *added, *removed;

    if (json_is_array(before) && json_is_array(after)) {
        added = missing(p, after, before);
        removed = missing(p, before, after);
        return apr_pstrcat(p, label(key), ": ", *added ? "added " : "", added,
                           *added && *removed ? "; " : "",
                           *removed ? "removed " : "", removed,
                           !*added && !*removed ? "reordered" : "", NULL);
    }
    return apr_pstrcat(p, label(key), ": ", words(p, key, before),
                       " \xe2\x86\x92 ", words(p, key, after), NULL);
}

/* ---- one entry in words ------------------------------------------------- */

/* Appends the items of a change list (<ul>) or one sentence to TD. */
static void sentence(xmlNodePtr td, const char *text)
{
    html_attr(html_el(td, "p", text), "class", "said");
}

static void items(xmlNodePtr td, apr_array_header_t *list)
{
    xmlNodePtr ul = html_el(td, "ul", NULL);
    int i;

    html_attr(ul, "class", "changes");
    for (i = 0; i < list->nelts; i++)
        html_el(ul, "li", APR_ARRAY_IDX(list, i, const char *));
}

/* What an application's creation or update said. */
static void app_change(console_t *c, xmlNodePtr td, const at_audit_t *a,
                       json_t *d)
{
    apr_array_header_t *list = apr_array_make(c->pool, 8, sizeof(char *));
    json_t *changed = json_object_get(d, "changed"), *v;
    const char *key;

    if (is(a, "app.create")) {
        sentence(td, "Created with:");
        json_object_foreach(d, key, v)
        {
            if (strcmp(key, "enabled") != 0)
                APR_ARRAY_PUSH(list, const char *) = apr_pstrcat(
                    c->pool, label(key), ": ", words(c->pool, key, v), NULL);
        }
    } else if (json_object_size(changed) == 0) {
        sentence(td, "Saved without changes.");
        return;
    } else {
        json_object_foreach(changed, key, v)
        {
            APR_ARRAY_PUSH(list, const char *) = change(c->pool, key, v);
        }
    }
    items(td, list);
}

/* The rotation's grace: JSON {"grace": N, "old_until": T}, or "grace=N". */
static void rotation(console_t *c, xmlNodePtr td, const at_audit_t *a,
                     json_t *d)
{
    const char *old = old_value(a, "grace");
    long long grace = d ? json_integer_value(json_object_get(d, "grace"))
                        : (old ? apr_atoi64(old) : 0);
    long long until =
        d ? json_integer_value(json_object_get(d, "old_until")) : a->at + grace;

    if (grace <= 0)
        sentence(td, "New secret; the previous one stopped working at once.");
    else
        sentence(td, apr_psprintf(c->pool,
                                  "New secret; the previous one stayed valid "
                                  "for %s, until %s.",
                                  ui_span(c->pool, grace),
                                  ui_time(c->pool, until)));
}

static void said(console_t *c, xmlNodePtr td, const at_audit_t *a,
                 apr_table_t *names, apr_table_t *gone)
{
    json_t *d = NULL, *v;
    const char *s, *name;
    long long n;

    if (a->detail && a->detail[0] == '{')
        d = json_loads(a->detail, 0, NULL);
    if (is(a, "app.create") || is(a, "app.update")) {
        if (d)
            app_change(c, td, a, d);
        else
            sentence(td, a->detail);
    } else if (is(a, "app.delete")) {
        sentence(td, "Deleted, with its secrets and grants; its tokens were "
                     "revoked.");
    } else if (is(a, "app.enable")) {
        sentence(td, "Enabled: it can get tokens.");
    } else if (is(a, "app.disable")) {
        sentence(td, "Disabled: it gets no tokens.");
    } else if (is(a, "secret.rotate")) {
        rotation(c, td, a, d);
    } else if (is(a, "secret.end_old")) {
        s = old_value(a, "ended");
        n = d ? json_integer_value(json_object_get(d, "ended"))
              : (s ? apr_atoi64(s) : 0);
        sentence(td, n == 0 ? "No previous secret was still valid."
                            : apr_psprintf(c->pool,
                                           "%d previous secret%s stopped "
                                           "working now.",
                                           (int)n, n == 1 ? "" : "s"));
    } else if (is(a, "secret.shown")) {
        sentence(td, "The new secret was shown, once.");
    } else if (is(a, "scope.add")) {
        s = d ? json_string_value(json_object_get(d, "description"))
              : a->detail;
        sentence(td, s && *s ? apr_pstrcat(c->pool,
                                           "Created, described "
                                           "\xe2\x80\x9c",
                                           s, "\xe2\x80\x9d.", NULL)
                             : "Created without a description.");
    } else if (is(a, "scope.update")) {
        v = d ? json_object_get(d, "description") : NULL;
        sentence(td, v ? change(c->pool, "description", v)
                       : apr_pstrcat(c->pool,
                                     "Description set to "
                                     "\xe2\x80\x9c",
                                     a->detail, "\xe2\x80\x9d.", NULL));
    } else if (is(a, "scope.delete")) {
        sentence(td, "Deleted.");
    } else if (is(a, "token.revoke")) {
        s = old_value(a, "client_id");
        name = s ? apr_table_get(names, s) : NULL;
        if (s && name == NULL)
            name = apr_table_get(gone, s);
        sentence(td, s ? apr_pstrcat(c->pool,
                                     "Access token revoked; it was issued to ",
                                     name ? name : "", name ? " (" : "", s,
                                     name ? ")." : ".", NULL)
                       : "Access token revoked.");
    } else if (is(a, "token.revoke_client")) {
        sentence(td, "Every token revoked: its refresh-token grants and the "
                     "access tokens issued until then.");
    } else if (is(a, "refresh.revoke") || is(a, "refresh.reuse")) {
        s = old_value(a, "family");
        sentence(td, apr_pstrcat(
                         c->pool, "Refresh-token grant ", s ? s : "",
                         is(a, "refresh.reuse")
                             ? " revoked: one of its refresh tokens was used "
                               "twice (reuse detection)."
                             : " revoked.",
                         NULL));
    } else if (a->detail && *a->detail) {
        sentence(td, a->detail);
    }
    json_decref(d);
}

/* ---- rows ----------------------------------------------------------------
 */

/* The client_ids the rows name: their targets, and whom a revoked access
 * token was issued to. */
static apr_array_header_t *named_ids(console_t *c,
                                     const apr_array_header_t *rows)
{
    apr_array_header_t *ids = apr_array_make(c->pool, 16, sizeof(char *));
    const char *s;
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const at_audit_t *a = APR_ARRAY_IDX(rows, i, const at_audit_t *);
        if (about_app(a))
            APR_ARRAY_PUSH(ids, const char *) = a->target;
        else if (is(a, "token.revoke") &&
                 (s = old_value(a, "client_id")) != NULL)
            APR_ARRAY_PUSH(ids, const char *) = s;
    }
    return ids;
}

apr_status_t ui_audit_rows(console_t *c, xmlNodePtr tbody,
                           const apr_array_header_t *rows, at_error_t *err)
{
    apr_table_t *names = NULL, *gone = NULL;
    xmlNodePtr tr, td;
    const char *page, *name;
    apr_status_t rv;
    int i;

    rv = at_console_app_names(c->reg, c->pool, named_ids(c, rows), &names,
                              &gone, err);
    if (rv != APR_SUCCESS)
        return rv;
    for (i = 0; i < rows->nelts; i++) {
        const at_audit_t *a = APR_ARRAY_IDX(rows, i, const at_audit_t *);
        int app = about_app(a);
        tr = html_el(tbody, "tr", NULL);
        html_attr(html_el(tr, "td", ui_time(c->pool, a->at)), "class",
                  "nowrap");
        html_el(tr, "td", a->actor);
        html_attr(html_el(tr, "td", a->action), "class", "mono nowrap");
        /* One box in the cell: the narrow layout makes a cell a grid. */
        td = html_el(html_el(tr, "td", NULL), "div", NULL);
        name = app ? apr_table_get(names, a->target) : NULL;
        page = target_page(c, a, name != NULL);
        if (app && name == NULL)
            name = apr_table_get(gone, a->target);
        if (app && name) {
            if (page)
                html_link(td, console_url(c, page), name);
            else
                html_text(td, name);
            html_text(td, " ");
            html_attr(html_el(td, "span", a->target), "class", "mono id");
        } else if (page) {
            html_link(td, console_url(c, page), a->target);
        } else {
            html_attr(html_el(td, "span", a->target ? a->target : ""), "class",
                      "mono id");
        }
        said(c, html_el(html_el(tr, "td", NULL), "div", NULL), a, names, gone);
    }
    return APR_SUCCESS;
}
