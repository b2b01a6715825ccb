/* ui_app.c: one application's page and what can be done to it: the new
 * secret shown once, rotation, ending old secrets, enable/disable and
 * delete (after a confirmation page). Every change is a POST that ends in
 * a 303 redirect (Post/Redirect/Get).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "console.h"
#include "html.h"

static void field(xmlNodePtr dl, const char *term, const char *value, int mono)
{
    xmlNodePtr div = html_el(dl, "div", NULL), dd;

    html_el(div, "dt", term);
    dd = html_el(div, "dd", *value ? value : "-");
    if (mono)
        html_attr(dd, "class", "mono");
}

static void list_field(console_t *c, xmlNodePtr dl, const char *term,
                       const apr_array_header_t *a)
{
    xmlNodePtr div, ul, dd;
    int i;

    if (a == NULL || a->nelts == 0) {
        field(dl, term, "", 0);
        return;
    }
    div = html_el(dl, "div", NULL);
    html_el(div, "dt", term);
    dd = html_el(div, "dd", NULL);
    ul = html_el(dd, "ul", NULL);
    html_attr(ul, "class", "plain");
    for (i = 0; i < a->nelts; i++)
        html_el(ul, "li", APR_ARRAY_IDX(a, i, const char *));
}

/* "300 s (5 min); server default 600 s (10 min)" */
static const char *lifetime_text(console_t *c, long own, long dflt)
{
    if (own == 0)
        return apr_pstrcat(
            c->pool, "server default: ", ui_duration(c->pool, dflt), NULL);
    return apr_pstrcat(c->pool, ui_duration(c->pool, own),
                       " (server default: ", ui_duration(c->pool, dflt), ")",
                       NULL);
}

static void set_action(console_t *c, xmlDocPtr doc, const char *id,
                       const char *attr, const char *client_id,
                       const char *tail)
{
    html_attr(html_by_id(doc, id), attr,
              console_url(c, ui_app_path(c, client_id, tail)));
}

int ui_app_show(console_t *c, const char *client_id)
{
    at_app_t *a;
    xmlNodePtr main, dl, n;
    xmlDocPtr doc;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed",
                        "Use the buttons of the application's page.");
    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    doc = ui_page(c, a->name, "apps", "app.xhtml", &main);
    if (doc == NULL)
        return 0;
    ui_flash(c, main);
    n = html_by_id(doc, "status");
    html_clear(n);
    html_text(n, a->enabled ? "Enabled: it can get tokens."
                            : "Disabled: it gets no tokens.");
    html_attr(n, "class", a->enabled ? "status on" : "status off");
    dl = html_by_id(doc, "fields");
    field(dl, "client_id", a->client_id, 1);
    field(dl, "Name", a->name, 0);
    field(dl, "Description", a->description ? a->description : "", 0);
    field(dl, "Type", a->type, 0);
    list_field(c, dl, "Grant types", a->grants);
    field(dl, "Refresh tokens with client credentials",
          a->offline_client_credentials ? "yes" : "no", 0);
    field(dl, "Consent page",
          a->skip_consent ? "never shown (first-party application)"
                          : "shown to people", 0);
    list_field(c, dl, "Allowed scopes", a->scopes);
    list_field(c, dl, "Audiences", a->audiences);
    list_field(c, dl, "Redirect URIs", a->redirect_uris);
    field(dl, "Access-token lifetime",
          lifetime_text(c, a->access_lifetime, c->default_access), 0);
    field(dl, "Refresh-token lifetime",
          lifetime_text(c, a->refresh_lifetime, c->default_refresh), 0);
    field(dl, "Created", ui_time(c->pool, a->created), 0);
    field(dl, "Updated", ui_time(c->pool, a->updated), 0);

    set_action(c, doc, "edit-link", "href", client_id, "/edit");
    set_action(c, doc, "grants-link", "href", client_id, "/grants");
    set_action(c, doc, "consents-link", "href", client_id, "/consents");
    html_attr(html_by_id(doc, "audit-link"), "href",
              console_url(c, apr_pstrcat(c->pool, "/audit?app=",
                                         console_url_encode(c->pool, client_id),
                                         NULL)));
    set_action(c, doc, "rotate-form", "action", client_id, "/rotate");
    set_action(c, doc, "end-old-form", "action", client_id, "/end-old-secrets");
    set_action(c, doc, "enable-form", "action", client_id,
               a->enabled ? "/disable" : "/enable");
    set_action(c, doc, "revoke-all-form", "action", client_id, "/revoke-all");
    set_action(c, doc, "delete-start-form", "action", client_id, "/delete");
    n = html_by_id(doc, "enable-button");
    html_clear(n);
    html_text(n, a->enabled ? "Disable application" : "Enable application");
    if (strcmp(a->type, "confidential") != 0)
        html_remove(html_by_id(doc, "secret-section"));
    return console_send_doc(c, 200, doc);
}

int ui_app_secret(console_t *c, const char *client_id)
{
    at_app_t *a;
    const char *secret;
    xmlNodePtr main;
    xmlDocPtr doc;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed",
                        "This page is only read.");
    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    secret = console_secret_cookie_take(c, client_id);
    if (secret == NULL)
        return ui_error(c, 410, "Secret no longer shown",
                        "A client secret is shown only once, right after "
                        "it was made. Rotate the secret on the "
                        "application's page to get a new one.");
    doc = ui_page(c, apr_pstrcat(c->pool, "New secret for ", a->name, NULL),
                  "apps", "secret.xhtml", &main);
    if (doc == NULL)
        return 0;
    html_set_value(doc, "client-id", a->client_id);
    html_set_value(doc, "secret", secret);
    set_action(c, doc, "app-link", "href", client_id, "");
    return console_send_doc(c, 200, doc);
}

/* The result of a one-button change: redirect with a notice, or an error
 * page. */
static int after_change(console_t *c, apr_status_t rv, const at_error_t *err,
                        const char *what, const char *client_id,
                        const char *done)
{
    if (rv == APR_SUCCESS)
        return console_redirect(
            c, ui_app_path(c, client_id,
                           apr_pstrcat(c->pool, "?done=", done, NULL)));
    if (rv == APR_NOTFOUND)
        return ui_error(c, 404, "No such application",
                        "No application has this client_id.");
    if (rv == APR_EINVAL)
        return ui_error(c, 422, "Refused", err->text);
    return ui_registry_error(c, what, err);
}

int ui_app_rotate(console_t *c, const char *client_id)
{
    const char *g = console_param(c, "grace"), *secret = NULL;
    at_error_t err = {{0}};
    apr_status_t rv;
    long grace = 0;

    if (*g && (strspn(g, "0123456789") != strlen(g) || strlen(g) > 9))
        return ui_error(c, 422, "Grace period refused",
                        "The grace period is a whole number of seconds. "
                        "Nothing was changed.");
    if (*g)
        grace = strtol(g, NULL, 10);
    rv = at_app_rotate_secret(c->reg, c->pool, client_id, grace, c->remote_user,
                              &secret, &err);
    if (rv != APR_SUCCESS)
        return after_change(c, rv, &err, "rotating a secret", client_id, "");
    console_secret_cookie_set(c, client_id, secret);
    return console_redirect(c, ui_app_path(c, client_id, "/secret"));
}

int ui_app_end_old_secrets(console_t *c, const char *client_id)
{
    at_error_t err = {{0}};
    apr_status_t rv = at_app_end_old_secrets(c->reg, c->pool, client_id,
                                             c->remote_user, &err);

    return after_change(c, rv, &err, "ending old secrets", client_id,
                        "old-secrets-revoked");
}

int ui_app_enable(console_t *c, const char *client_id, int enabled)
{
    at_error_t err = {{0}};
    apr_status_t rv = at_app_set_enabled(c->reg, c->pool, client_id, enabled,
                                         c->remote_user, &err);

    return after_change(c, rv, &err, "enabling an application", client_id,
                        enabled ? "enabled" : "disabled");
}

int ui_app_delete(console_t *c, const char *client_id)
{
    at_error_t err = {{0}};
    at_app_t *a;
    xmlNodePtr main, q;
    xmlDocPtr doc;
    apr_status_t rv;

    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    if (c->is_post) {
        rv = at_app_delete(c->reg, c->pool, client_id, c->remote_user, &err);
        if (rv != APR_SUCCESS)
            return after_change(c, rv, &err, "deleting an application",
                                client_id, "");
        return console_redirect(c, "/apps?done=deleted");
    }
    doc = ui_page(c, apr_pstrcat(c->pool, "Delete ", a->name, "?", NULL),
                  "apps", "confirm-delete.xhtml", &main);
    if (doc == NULL)
        return 0;
    q = html_by_id(doc, "question");
    html_clear(q);
    html_text(q, apr_pstrcat(c->pool, "Delete the application \"", a->name,
                             "\" (", a->client_id, ")?", NULL));
    set_action(c, doc, "delete-form", "action", client_id, "/delete");
    set_action(c, doc, "cancel", "href", client_id, "");
    return console_send_doc(c, 200, doc);
}
