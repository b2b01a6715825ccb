/* ui_grants.c: an application's active refresh-token families, revoking
 * one, and revoking every token of the application. */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_console.h"
#include "console.h"
#include "html.h"

/* The grants page of A; after a refused jti revocation STATUS is 422 and
 * JTI and ERROR go back into the form. */
static int grants_page(console_t *c, const at_app_t *a, int status,
                       const char *jti, const char *error)
{
    apr_array_header_t *fams = NULL;
    at_error_t err = {{0}};
    xmlNodePtr main, tbody, tr, td, form, in, button;
    xmlDocPtr doc;
    const char *client_id = a->client_id;
    int i;

    if (at_refresh_families(c->reg, c->pool, client_id, &fams, &err) !=
        APR_SUCCESS)
        return ui_registry_error(c, "listing grants", &err);
    doc = ui_page(c, apr_pstrcat(c->pool, "Grants of ", a->name, NULL), "apps",
                  "grants.xhtml", &main);
    if (doc == NULL)
        return 0;
    ui_flash(c, main);
    html_attr(html_by_id(doc, "app-link"), "href",
              console_url(c, ui_app_path(c, client_id, "")));
    html_attr(html_by_id(doc, "revoke-all-form"), "action",
              console_url(c, ui_app_path(c, client_id, "/revoke-all")));
    html_attr(html_by_id(doc, "jti-form"), "action",
              console_url(c, ui_app_path(c, client_id, "/grants/revoke-jti")));
    html_set_value(doc, "jti", jti);
    if (error)
        html_field_error(doc, "jti", error);
    tbody = html_by_id(doc, "grant-rows");
    for (i = 0; i < fams->nelts; i++) {
        const at_refresh_t *f = APR_ARRAY_IDX(fams, i, const at_refresh_t *);
        tr = html_el(tbody, "tr", NULL);
        html_attr(html_el(tr, "td", f->family_id), "class", "mono");
        /* With client credentials the subject is the application itself
         * (its name beside its client_id); a family of an authorization
         * code names the person who allowed it. */
        html_el(tr, "td",
                f->subject && !strcmp(f->subject, client_id)
                    ? apr_pstrcat(c->pool, a->name, " (", f->subject, ")", NULL)
                    : (f->subject ? f->subject : ""));
        html_el(tr, "td", f->scope ? f->scope : "");
        html_el(tr, "td", ui_time(c->pool, f->issued));
        html_el(tr, "td", ui_time(c->pool, f->expires));
        td = html_el(tr, "td", NULL);
        form = html_el(td, "form", NULL);
        html_attr(form, "method", "post");
        html_attr(form, "action",
                  console_url(c, ui_app_path(c, client_id, "/grants/revoke")));
        in = html_el(form, "input", NULL);
        html_attr(in, "type", "hidden");
        html_attr(in, "name", "family");
        html_attr(in, "value", f->family_id);
        button = html_el(form, "button", "Revoke grant");
        html_attr(button, "type", "submit");
        html_attr(button, "class", "danger");
    }
    if (fams->nelts)
        html_remove(html_by_id(doc, "grants-empty"));
    else
        html_remove(html_by_id(doc, "grants"));
    return ui_send_page(c, status, doc);
}

int ui_grants(console_t *c, const char *client_id)
{
    at_app_t *a;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed",
                        "Use the buttons of the grants page.");
    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    return grants_page(c, a, 200, "", NULL);
}

int ui_jti_revoke(console_t *c, const char *client_id)
{
    const char *jti = console_param(c, "jti"), *owner = NULL;
    at_error_t err = {{0}};
    apr_status_t rv;
    at_app_t *a;

    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    if (*jti == '\0')
        return grants_page(c, a, 422, jti, "The jti must not be empty.");
    rv = at_console_jti_client(c->reg, c->pool, jti, &owner, &err);
    if (rv == APR_NOTFOUND ||
        (rv == APR_SUCCESS && strcmp(owner, client_id) != 0))
        return grants_page(c, a, 422, jti,
                           "No access token with this jti was issued to "
                           "this application (or it expired long ago).");
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "looking up a jti", &err);
    rv = at_jti_revoke(c->reg, c->pool, jti, c->remote_user, &err);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "revoking an access token", &err);
    return console_redirect(
        c, ui_app_path(c, client_id, "/grants?done=token-revoked"));
}

int ui_grant_revoke(console_t *c, const char *client_id)
{
    static const char *const keep[] = {"family", NULL};
    const char *family = console_param(c, "family"), *texts[3];
    apr_array_header_t *fams = NULL;
    const at_refresh_t *mine = NULL;
    at_error_t err = {{0}};
    apr_status_t rv;
    at_app_t *a;
    int i;

    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    /* Only a family of this application may be revoked from its page. */
    if (at_refresh_families(c->reg, c->pool, client_id, &fams, &err) !=
        APR_SUCCESS)
        return ui_registry_error(c, "listing grants", &err);
    for (i = 0; i < fams->nelts && !mine; i++) {
        const at_refresh_t *f = APR_ARRAY_IDX(fams, i, at_refresh_t *);
        if (!strcmp(f->family_id, family))
            mine = f;
    }
    if (!mine)
        return ui_error(c, 404, "No such grant",
                        "This application has no active grant by that "
                        "name; it may have been revoked already.");
    if (!ui_confirmed(c)) {
        texts[0] = apr_psprintf(
            c->pool,
            "The refresh-token grant %s of %s (subject %s, scope \"%s\", "
            "issued %s) stops working: its refresh token is refused, and "
            "the client has to be granted access again.",
            mine->family_id, a->name, mine->subject ? mine->subject : "-",
            mine->scope ? mine->scope : "", ui_time(c->pool, mine->issued));
        texts[1] = "Access tokens already issued from it stay valid until "
                   "they expire.";
        texts[2] = NULL;
        return ui_confirm(c, "Revoke this grant?", "apps", texts,
                          ui_app_path(c, client_id, "/grants/revoke"), keep,
                          "Revoke grant", ui_app_path(c, client_id, "/grants"));
    }
    rv = at_family_revoke(c->reg, c->pool, family, c->remote_user, &err);
    if (rv == APR_NOTFOUND)
        return ui_error(c, 404, "No such grant",
                        "The grant was revoked or expired meanwhile.");
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "revoking a grant", &err);
    return console_redirect(
        c, ui_app_path(c, client_id, "/grants?done=grant-revoked"));
}

int ui_revoke_all(console_t *c, const char *client_id)
{
    apr_array_header_t *fams = NULL;
    at_error_t err = {{0}};
    const char *texts[3];
    apr_status_t rv;
    at_app_t *a;

    if (!ui_confirmed(c)) {
        if ((a = ui_load_app(c, client_id)) == NULL)
            return 0;
        if (at_refresh_families(c->reg, c->pool, client_id, &fams, &err) !=
            APR_SUCCESS)
            return ui_registry_error(c, "listing grants", &err);
        texts[0] = apr_psprintf(
            c->pool,
            "Every refresh-token grant of %s (%d active) stops working, and "
            "so does every access token issued to it until now, where the "
            "resource server checks revocation (AuthTokenRevocationCheck "
            "On).",
            a->name, fams->nelts);
        texts[1] = "The application itself keeps working: it can get new "
                   "tokens.";
        texts[2] = NULL;
        return ui_confirm(
            c,
            apr_pstrcat(c->pool, "Revoke every token of ", a->name, "?", NULL),
            "apps", texts, ui_app_path(c, client_id, "/revoke-all"), NULL,
            "Revoke all tokens of this application",
            ui_app_path(c, client_id, ""));
    }
    rv = at_client_revoke_all(c->reg, c->pool, client_id, c->remote_user, &err);
    if (rv == APR_NOTFOUND)
        return ui_error(c, 404, "No such application",
                        "No application has this client_id.");
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "revoking all tokens", &err);
    return console_redirect(
        c, ui_app_path(c, client_id, "/grants?done=all-revoked"));
}
