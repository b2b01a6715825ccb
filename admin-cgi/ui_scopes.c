/* ui_scopes.c: scopes: list and create, edit a description, delete. A
 * scope still allowed to applications is not deleted: the answer names
 * the applications. Scope names may hold '/', so they travel in the query
 * or the form, never in the path.
 */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_console.h"
#include "at_registry_limits.h"
#include "console.h"
#include "html.h"

static const char *scope_path(console_t *c, const char *name)
{
    return apr_pstrcat(
        c->pool, "/scopes/edit?name=", console_url_encode(c->pool, name), NULL);
}

/* Puts each problem (at_scope_problems, or one refusal of the registry
 * as FIELD/TEXT) beside its field: "name" is #scope-name, "description"
 * #scope-description. */
static void scope_errors(console_t *c, xmlDocPtr doc,
                         const apr_array_header_t *problems)
{
    int i;

    for (i = 0; problems && i < problems->nelts; i++) {
        const at_problem_t *pr = APR_ARRAY_IDX(problems, i, at_problem_t *);
        html_field_error(doc,
                         strcmp(pr->field, "name") == 0 ? "scope-name"
                                                        : "scope-description",
                         ui_sentence(c->pool, pr->text));
    }
}

/* One problem of FIELD, for a refusal the registry made itself. */
static apr_array_header_t *one_problem(console_t *c, const char *field,
                                       const char *text)
{
    apr_array_header_t *a = apr_array_make(c->pool, 1, sizeof(at_problem_t *));
    at_problem_t *pr = apr_pcalloc(c->pool, sizeof(*pr));

    pr->field = field;
    pr->item = -1;
    pr->text = text;
    APR_ARRAY_PUSH(a, at_problem_t *) = pr;
    return a;
}

/* The registry's limits into the fields' maxlength. */
static void limits(console_t *c, xmlDocPtr doc)
{
    xmlNodePtr n = html_by_id(doc, "scope-name");

    if (n)
        html_attr(n, "maxlength", apr_itoa(c->pool, AT_SCOPE_NAME_MAX));
    html_attr(html_by_id(doc, "scope-description"), "maxlength",
              apr_itoa(c->pool, AT_SCOPE_DESCRIPTION_MAX));
}

/* The list page with the create form; STATUS 200, or 422 after a refused
 * create (the form keeps NAME and DESCRIPTION, PROBLEMS go beside their
 * fields). */
static int list_page(console_t *c, int status, const char *name,
                     const char *description,
                     const apr_array_header_t *problems)
{
    apr_array_header_t *scopes = NULL;
    at_error_t err = {{0}};
    xmlNodePtr main, tbody, tr, td;
    xmlDocPtr doc;
    int i;

    if (at_scope_list(c->reg, c->pool, &scopes, &err) != APR_SUCCESS)
        return ui_registry_error(c, "listing scopes", &err);
    doc = ui_page(c, "Scopes", "scopes", "scopes.xhtml", &main);
    if (doc == NULL)
        return 0;
    ui_flash(c, main);
    tbody = html_by_id(doc, "scope-rows");
    for (i = 0; i < scopes->nelts; i++) {
        const at_scope_t *s = APR_ARRAY_IDX(scopes, i, const at_scope_t *);
        tr = html_el(tbody, "tr", NULL);
        td = html_el(tr, "td", NULL);
        html_attr(td, "class", "mono");
        html_link(td, console_url(c, scope_path(c, s->name)), s->name);
        html_el(tr, "td", s->description ? s->description : "");
        html_el(tr, "td", s->builtin ? "built in" : "defined here");
    }
    html_attr(html_by_id(doc, "scope-form"), "action",
              console_url(c, "/scopes"));
    limits(c, doc);
    html_set_value(doc, "scope-name", name);
    html_set_value(doc, "scope-description", description);
    scope_errors(c, doc, problems);
    return ui_send_page(c, status, doc);
}

int ui_scopes(console_t *c)
{
    const char *name = console_param(c, "name");
    const char *description = console_param(c, "description");
    apr_array_header_t *problems;
    at_error_t err = {{0}};
    apr_status_t rv;

    if (!c->is_post)
        return list_page(c, 200, "", "", NULL);
    problems = at_scope_problems(c->pool, name, description);
    if (problems->nelts)
        return list_page(c, 422, name, description, problems);
    rv = at_scope_add(c->reg, c->pool, name, description, c->remote_user, &err);
    if (rv == APR_EEXIST || rv == APR_EINVAL)
        return list_page(c, 422, name, description,
                         one_problem(c, "name", err.text));
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "creating a scope", &err);
    return console_redirect(c, "/scopes?done=scope-created");
}

/* The scope NAME, or NULL after answering 404/500. */
static const at_scope_t *find_scope(console_t *c, const char *name)
{
    apr_array_header_t *scopes = NULL;
    at_error_t err = {{0}};
    int i;

    if (at_scope_list(c->reg, c->pool, &scopes, &err) != APR_SUCCESS) {
        ui_registry_error(c, "listing scopes", &err);
        return NULL;
    }
    for (i = 0; i < scopes->nelts; i++) {
        const at_scope_t *s = APR_ARRAY_IDX(scopes, i, const at_scope_t *);
        if (strcmp(s->name, name) == 0)
            return s;
    }
    ui_error(c, 404, "No such scope", "No scope has this name.");
    return NULL;
}

/* The edit page of S. USERS (at_app_t * with client_id and name) lists
 * the applications that kept a delete from happening (409); PROBLEMS go
 * beside the description. */
static int scope_page(console_t *c, int status, const at_scope_t *s,
                      const char *description,
                      const apr_array_header_t *problems,
                      const apr_array_header_t *users)
{
    xmlNodePtr main, ul, li;
    xmlDocPtr doc;
    int i;

    doc = ui_page(c, apr_pstrcat(c->pool, "Scope ", s->name, NULL), "scopes",
                  "scope.xhtml", &main);
    if (doc == NULL)
        return 0;
    html_attr(html_by_id(doc, "scope-form"), "action",
              console_url(c, scope_path(c, s->name)));
    html_attr(html_by_id(doc, "delete-form"), "action",
              console_url(c, "/scopes/delete"));
    html_attr(html_by_id(doc, "cancel"), "href", console_url(c, "/scopes"));
    limits(c, doc);
    html_set_value(doc, "scope-description", description);
    scope_errors(c, doc, problems);
    if (users && users->nelts) {
        ul = html_by_id(doc, "users");
        for (i = 0; i < users->nelts; i++) {
            const at_app_t *a = APR_ARRAY_IDX(users, i, const at_app_t *);
            li = html_el(ul, "li", NULL);
            html_link(li, console_url(c, ui_app_path(c, a->client_id, "")),
                      a->name);
            html_text(li, " ");
            html_attr(html_el(li, "span", a->client_id), "class", "mono");
        }
    } else {
        html_remove(html_by_id(doc, "in-use"));
    }
    if (s->builtin) {
        html_remove(html_by_id(doc, "delete-form"));
    } else {
        xmlNodePtr in = html_el(html_by_id(doc, "delete-form"), "input", NULL);
        html_attr(in, "type", "hidden");
        html_attr(in, "name", "name");
        html_attr(in, "value", s->name);
        html_remove(html_by_id(doc, "builtin"));
    }
    return ui_send_page(c, status, doc);
}

int ui_scope_edit(console_t *c, const char *name)
{
    const char *description = console_param(c, "description");
    apr_array_header_t *problems;
    const at_scope_t *s;
    at_error_t err = {{0}};
    apr_status_t rv;

    /* The name is in the address (query) for GET and POST alike. */
    name = apr_table_get(c->query, "name");
    if (name == NULL || (s = find_scope(c, name)) == NULL)
        return name ? 0
                    : ui_error(c, 404, "No such scope",
                               "The address names no scope.");
    if (!c->is_post)
        return scope_page(c, 200, s, s->description ? s->description : "", NULL,
                          NULL);
    problems = at_scope_problems(c->pool, NULL, description);
    if (problems->nelts)
        return scope_page(c, 422, s, description, problems, NULL);
    rv = at_scope_update(c->reg, c->pool, s->name, description, c->remote_user,
                         &err);
    if (rv == APR_EINVAL)
        return scope_page(c, 422, s, description,
                          one_problem(c, "description", err.text), NULL);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "updating a scope", &err);
    return console_redirect(c, "/scopes?done=scope-saved");
}

int ui_scope_delete(console_t *c, const char *unused)
{
    static const char *const keep[] = {"name", NULL};
    const char *name = console_param(c, "name"), *texts[3];
    apr_array_header_t *users = NULL, *ids = NULL;
    const at_scope_t *s;
    at_error_t err = {{0}};
    apr_status_t rv;

    if ((s = find_scope(c, name)) == NULL)
        return 0;
    if (s->builtin)
        return ui_error(c, 422, "Scope not deleted",
                        apr_pstrcat(c->pool, "The scope ", s->name,
                                    " is built in and cannot be deleted.",
                                    NULL));
    /* Applications still allowed it: the answer names them, by name. */
    if (at_console_scope_users(c->reg, c->pool, s->name, &users, &err) !=
        APR_SUCCESS)
        return ui_registry_error(c, "reading a scope's applications", &err);
    if (users->nelts)
        return scope_page(c, 409, s, s->description ? s->description : "", NULL,
                          users);
    if (!ui_confirmed(c)) {
        texts[0] = apr_pstrcat(
            c->pool, "The scope ", s->name,
            " is removed. No application is allowed it now, so no "
            "application stops working; a token request that asks for it "
            "gets invalid_scope.",
            NULL);
        texts[1] = "Access tokens already issued with it keep it until "
                   "they expire.";
        texts[2] = NULL;
        return ui_confirm(
            c, apr_pstrcat(c->pool, "Delete the scope ", s->name, "?", NULL),
            "scopes", texts, "/scopes/delete", keep, "Delete scope",
            scope_path(c, s->name));
    }
    rv = at_scope_delete(c->reg, c->pool, s->name, c->remote_user, &ids, &err);
    if (rv == APR_EBUSY && at_console_scope_users(c->reg, c->pool, s->name,
                                                  &users, &err) == APR_SUCCESS)
        return scope_page(c, 409, s, s->description ? s->description : "", NULL,
                          users);
    if (rv == APR_EINVAL)
        return ui_error(c, 422, "Scope not deleted",
                        ui_sentence(c->pool, err.text));
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "deleting a scope", &err);
    return console_redirect(c, "/scopes?done=scope-deleted");
}
