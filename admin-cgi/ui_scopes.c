/* ui_scopes.c: scopes: list and create, edit a description, delete. A
 * scope still allowed to applications is not deleted: the answer names
 * the applications. Scope names may hold '/', so they travel in the query
 * or the form, never in the path.
 */
#include <string.h>

#include <apr_strings.h>

#include "console.h"
#include "html.h"

/* RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
static int valid_scope_name(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (*u == '\0' || strlen(s) > 100)
        return 0;
    for (; *u; u++) {
        if (*u < 0x21 || *u > 0x7e || *u == '"' || *u == '\\')
            return 0;
    }
    return 1;
}

static const char *scope_path(console_t *c, const char *name)
{
    return apr_pstrcat(
        c->pool, "/scopes/edit?name=", console_url_encode(c->pool, name), NULL);
}

/* The list page with the create form; STATUS 200, or 422 after a refused
 * create (the form keeps NAME and DESCRIPTION; ERROR is put beside
 * FIELD). */
static int list_page(console_t *c, int status, const char *name,
                     const char *description, const char *field,
                     const char *error)
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
        html_link(td, console_url(c, scope_path(c, s->name)), s->name);
        html_el(tr, "td", s->description ? s->description : "");
        html_el(tr, "td", s->builtin ? "built in" : "defined here");
    }
    html_attr(html_by_id(doc, "scope-form"), "action",
              console_url(c, "/scopes"));
    html_set_value(doc, "scope-name", name);
    html_set_value(doc, "scope-description", description);
    if (error)
        html_field_error(doc, field, error);
    else
        html_remove(html_by_id(doc, "form-error"));
    return console_send_doc(c, status, doc);
}

int ui_scopes(console_t *c)
{
    const char *name = console_param(c, "name");
    const char *description = console_param(c, "description");
    at_error_t err = {{0}};
    apr_status_t rv;

    if (!c->is_post)
        return list_page(c, 200, "", "", NULL, NULL);
    if (!valid_scope_name(name))
        return list_page(c, 422, name, description, "scope-name",
                         "A scope name is 1 to 100 printable ASCII "
                         "characters without spaces, quotes or "
                         "backslashes.");
    if (strlen(description) > 500)
        return list_page(c, 422, name, description, "scope-description",
                         "The description is longer than 500 bytes.");
    rv = at_scope_add(c->reg, c->pool, name, description, c->remote_user, &err);
    if (rv == APR_EEXIST)
        return list_page(c, 422, name, description, "scope-name",
                         "This scope exists already.");
    if (rv == APR_EINVAL)
        return list_page(c, 422, name, description, "scope-name", err.text);
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

/* The edit page of S. USERS (client_ids) lists the applications that kept
 * a delete from happening; ERROR is a message beside the description. */
static int scope_page(console_t *c, int status, const at_scope_t *s,
                      const char *description, const char *error,
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
    html_set_value(doc, "scope-description", description);
    if (error)
        html_field_error(doc, "scope-description", error);
    else
        html_remove(html_by_id(doc, "form-error"));
    if (users && users->nelts) {
        ul = html_by_id(doc, "users");
        for (i = 0; i < users->nelts; i++) {
            const char *id = APR_ARRAY_IDX(users, i, const char *);
            li = html_el(ul, "li", NULL);
            html_link(li, console_url(c, ui_app_path(c, id, "")), id);
        }
    } else {
        html_remove(html_by_id(doc, "in-use"));
        html_remove(html_by_id(doc, "users"));
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
    return console_send_doc(c, status, doc);
}

int ui_scope_edit(console_t *c, const char *name)
{
    const char *description = console_param(c, "description");
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
    if (strlen(description) > 500)
        return scope_page(c, 422, s, description,
                          "The description is longer than 500 bytes.", NULL);
    rv = at_scope_update(c->reg, c->pool, s->name, description, c->remote_user,
                         &err);
    if (rv == APR_EINVAL)
        return scope_page(c, 422, s, description, err.text, NULL);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "updating a scope", &err);
    return console_redirect(c, "/scopes?done=scope-saved");
}

int ui_scope_delete(console_t *c, const char *unused)
{
    const char *name = console_param(c, "name");
    apr_array_header_t *users = NULL;
    const at_scope_t *s;
    at_error_t err = {{0}};
    apr_status_t rv;

    if ((s = find_scope(c, name)) == NULL)
        return 0;
    rv =
        at_scope_delete(c->reg, c->pool, s->name, c->remote_user, &users, &err);
    if (rv == APR_EBUSY)
        return scope_page(c, 409, s, s->description ? s->description : "", NULL,
                          users);
    if (rv == APR_EINVAL)
        return ui_error(c, 422, "Scope not deleted", err.text);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "deleting a scope", &err);
    return console_redirect(c, "/scopes?done=scope-deleted");
}
