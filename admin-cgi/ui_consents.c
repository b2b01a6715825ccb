/* ui_consents.c: who allowed one application (oauth-authorize's remembered
 * consents) and for which scopes, and revoking one person's access: the
 * consent, their refresh-token families for the application and every
 * access token issued to them for it until now. */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_authz.h"
#include "console.h"
#include "html.h"

int ui_consents(console_t *c, const char *client_id)
{
    apr_array_header_t *list = NULL;
    at_error_t err = {{0}};
    xmlNodePtr main, tbody, tr, td, form, in, button;
    xmlDocPtr doc;
    at_app_t *a;
    int i;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed",
                        "Use the buttons of the consents page.");
    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    if (at_consent_list(c->reg, c->pool, NULL, client_id, &list, &err) !=
        APR_SUCCESS)
        return ui_registry_error(c, "listing consents", &err);
    doc = ui_page(c, apr_pstrcat(c->pool, "Consents to ", a->name, NULL),
                  "apps", "app-consents.xhtml", &main);
    if (doc == NULL)
        return 0;
    ui_flash(c, main);
    html_attr(html_by_id(doc, "app-link"), "href",
              console_url(c, ui_app_path(c, client_id, "")));
    tbody = html_by_id(doc, "consent-rows");
    for (i = 0; i < list->nelts; i++) {
        const at_consent_t *k = APR_ARRAY_IDX(list, i, const at_consent_t *);

        tr = html_el(tbody, "tr", NULL);
        html_el(tr, "td", k->subject);
        html_el(tr, "td", *k->scope ? k->scope : "(sign-in only)");
        html_el(tr, "td", ui_time(c->pool, k->created));
        html_el(tr, "td", ui_time(c->pool, k->updated));
        td = html_el(tr, "td", NULL);
        form = html_el(td, "form", NULL);
        html_attr(form, "method", "post");
        html_attr(form, "action", console_url(c, ui_app_path(
                                                     c, client_id,
                                                     "/consents/revoke")));
        in = html_el(form, "input", NULL);
        html_attr(in, "type", "hidden");
        html_attr(in, "name", "user");
        html_attr(in, "value", k->subject);
        button = html_el(form, "button", "Revoke access");
        html_attr(button, "type", "submit");
    }
    html_remove(html_by_id(doc, list->nelts ? "consents-empty" : "consents"));
    return ui_send_page(c, 200, doc);
}

int ui_consent_revoke(console_t *c, const char *client_id)
{
    static const char *const keep[] = {"user", NULL};
    const char *user = console_param(c, "user"), *texts[3];
    at_error_t err = {{0}};
    apr_status_t rv;
    at_app_t *a;

    if (*user == '\0')
        return ui_error(c, 400, "Nobody named",
                        "Use the button of the person on the consents "
                        "page.");
    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    if (!ui_confirmed(c)) {
        texts[0] = apr_psprintf(
            c->pool,
            "%s loses the access they gave %s: its refresh tokens for them "
            "are refused at once, and every access token issued to them "
            "for it until now is revoked (where resource servers check "
            "revocation).", user, a->name);
        texts[1] = "The next time they use the application they are asked "
                   "for their consent again.";
        texts[2] = NULL;
        return ui_confirm(c, "Revoke this person's access?", "apps", texts,
                          ui_app_path(c, client_id, "/consents/revoke"),
                          keep, "Revoke access",
                          ui_app_path(c, client_id, "/consents"));
    }
    rv = at_consent_revoke(c->reg, c->pool, user, client_id, c->remote_user,
                           &err);
    if (rv == APR_NOTFOUND)
        return ui_error(c, 404, "Nothing to revoke",
                        "This person has no consent and no active grant "
                        "for this application (any more).");
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "revoking a consent", &err);
    return console_redirect(
        c, ui_app_path(c, client_id, "/consents?done=consent-revoked"));
}
