/* ui_app.c: one application's page and what can be done to it: the new
 * secret shown once, rotation, ending old secrets, enable/disable and
 * delete (after a confirmation page). Every change is a POST that ends in
 * a 303 redirect (Post/Redirect/Get).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "at_registry_console.h"
#include "at_registry_limits.h"
#include "console.h"
#include "html.h"

static xmlNodePtr field(xmlNodePtr dl, const char *term, const char *value,
                        int mono)
{
    xmlNodePtr div = html_el(dl, "div", NULL), dd;

    html_el(div, "dt", term);
    dd = html_el(div, "dd", *value ? value : "-");
    if (mono)
        html_attr(dd, "class", "mono");
    return dd;
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

/* The application's page; after a refused rotation STATUS is 422 and
 * GRACE and GRACE_ERROR go back beside the grace field. */
static int app_page(console_t *c, const at_app_t *a, int status,
                    const char *grace, const char *grace_error)
{
    const char *client_id = a->client_id;
    long long old_until = 0, rotated = 0, now = (long long)time(NULL);
    at_error_t err = {{0}};
    xmlNodePtr main, dl, n;
    xmlDocPtr doc;

    if (strcmp(a->type, "confidential") == 0 &&
        at_console_secret_state(c->reg, c->pool, client_id, &old_until,
                                &rotated, &err) != APR_SUCCESS)
        return ui_registry_error(c, "reading the secrets", &err);
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
    html_attr(field(dl, "Description", a->description ? a->description : "", 0),
              "class", "multiline");
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
    /* Enabling ends nothing: an ordinary button, no confirmation. */
    if (!a->enabled)
        xmlUnsetProp(n, BAD_CAST "class");
    if (strcmp(a->type, "confidential") != 0) {
        html_remove(html_by_id(doc, "secret-section"));
        return ui_send_page(c, status, doc);
    }
    dl = html_by_id(doc, "secret-fields");
    field(dl, "Last rotated",
          rotated ? ui_time(c->pool, rotated)
                  : "never: the secret is the one made with the application",
          0);
    field(dl, "Old secret",
          old_until > now
              ? apr_psprintf(c->pool, "valid until %s (%s from now)",
                             ui_time(c->pool, old_until),
                             ui_span(c->pool, old_until - now))
              : "none: only the current secret works",
          0);
    /* Only while a previous secret still works is there one to end. */
    if (old_until <= now)
        html_remove(html_by_id(doc, "end-old-form"));
    n = html_by_id(doc, "grace-hint");
    html_clear(n);
    html_text(n, apr_psprintf(c->pool,
                              "At most %ld (%s). The next page says what "
                              "stops working and asks again.",
                              AT_GRACE_MAX, ui_span(c->pool, AT_GRACE_MAX)));
    html_attr(html_by_id(doc, "grace"), "maxlength",
              apr_itoa(c->pool, (int)strlen(apr_ltoa(c->pool, AT_GRACE_MAX))));
    if (grace)
        html_set_value(doc, "grace", grace);
    if (grace_error)
        html_field_error(doc, "grace", grace_error);
    return ui_send_page(c, status, doc);
}

int ui_app_show(console_t *c, const char *client_id)
{
    at_app_t *a;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed",
                        "Use the buttons of the application's page.");
    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    return app_page(c, a, 200, NULL, NULL);
}

int ui_app_secret(console_t *c, const char *client_id)
{
    at_app_t *a;
    const char *secret;
    long long old_until = 0, rotated = 0, now = (long long)time(NULL);
    at_error_t err = {{0}};
    xmlNodePtr main, n;
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
    if (at_console_secret_state(c->reg, c->pool, client_id, &old_until,
                                &rotated, &err) != APR_SUCCESS)
        return ui_registry_error(c, "reading the secrets", &err);
    doc = ui_page(c, apr_pstrcat(c->pool, "New secret for ", a->name, NULL),
                  "apps", "secret.xhtml", &main);
    if (doc == NULL)
        return 0;
    html_set_value(doc, "client-id", a->client_id);
    html_set_value(doc, "secret", secret);
    /* What became of the secret it replaces. */
    n = html_by_id(doc, "grace-text");
    html_clear(n);
    if (rotated == 0)
        html_text(n, "This is the application's first secret.");
    else if (old_until > now)
        html_text(n, apr_psprintf(c->pool,
                                  "The previous secret keeps working until "
                                  "%s (%s from now), then stops.",
                                  ui_time(c->pool, old_until),
                                  ui_span(c->pool, old_until - now)));
    else
        html_text(n, "The previous secret stopped working when this one "
                     "was made.");
    set_action(c, doc, "app-link", "href", client_id, "");
    return ui_send_page(c, 200, doc);
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
        return ui_error(c, 422, "Refused", ui_sentence(c->pool, err->text));
    return ui_registry_error(c, what, err);
}

/* The grace field: "" is 0; *grace gets the seconds. 0 when it is a whole
 * number the registry accepts. */
static int parse_grace(const char *g, long *grace)
{
    *grace = 0;
    if (*g == '\0')
        return 0;
    if (strspn(g, "0123456789") != strlen(g) || strlen(g) > 9)
        return -1;
    *grace = strtol(g, NULL, 10);
    return *grace <= AT_GRACE_MAX ? 0 : -1;
}

int ui_app_rotate(console_t *c, const char *client_id)
{
    const char *g = console_param(c, "grace"), *secret = NULL;
    static const char *const keep[] = {"grace", NULL};
    const char *texts[4];
    long long now = (long long)time(NULL);
    at_error_t err = {{0}};
    apr_status_t rv;
    at_app_t *a;
    long grace;

    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    /* Words of the registry's own refusal (at_app_rotate_secret). */
    if (parse_grace(g, &grace) != 0)
        return app_page(c, a, 422, g,
                        apr_psprintf(c->pool, "Grace must be 0 to %ld seconds.",
                                     AT_GRACE_MAX));
    if (!ui_confirmed(c)) {
        texts[0] =
            grace == 0
                ? "The current secret stops working at once: every client "
                  "that uses it gets invalid_client until it is given the "
                  "new secret."
                : apr_psprintf(c->pool,
                               "The current secret keeps working for %s, "
                               "until %s, then stops: give the new secret "
                               "to every client that uses it before then.",
                               ui_span(c->pool, grace),
                               ui_time(c->pool, now + grace));
        texts[1] = "The new secret is shown once, on the next page.";
        texts[2] = NULL;
        return ui_confirm(
            c,
            apr_pstrcat(c->pool, "Rotate the secret of ", a->name, "?", NULL),
            "apps", texts, ui_app_path(c, client_id, "/rotate"), keep,
            "Rotate secret", ui_app_path(c, client_id, ""));
    }
    rv = at_app_rotate_secret(c->reg, c->pool, client_id, grace, c->remote_user,
                              &secret, &err);
    if (rv != APR_SUCCESS)
        return after_change(c, rv, &err, "rotating a secret", client_id, "");
    console_secret_cookie_set(c, client_id, secret);
    return console_redirect(c, ui_app_path(c, client_id, "/secret"));
}

int ui_app_end_old_secrets(console_t *c, const char *client_id)
{
    long long old_until = 0, rotated = 0, now = (long long)time(NULL);
    const char *texts[3];
    at_error_t err = {{0}};
    apr_status_t rv;
    at_app_t *a;

    if (!ui_confirmed(c)) {
        if ((a = ui_load_app(c, client_id)) == NULL)
            return 0;
        if (strcmp(a->type, "confidential") == 0 &&
            at_console_secret_state(c->reg, c->pool, client_id, &old_until,
                                    &rotated, &err) != APR_SUCCESS)
            return ui_registry_error(c, "reading the secrets", &err);
        if (old_until <= now)
            return console_redirect(
                c, ui_app_path(c, client_id, "?done=no-old-secret"));
        texts[0] = apr_psprintf(
            c->pool,
            "The previous secret, valid until %s, stops working now: "
            "clients still using it get invalid_client.",
            ui_time(c->pool, old_until));
        texts[1] = "The current secret keeps working.";
        texts[2] = NULL;
        return ui_confirm(
            c,
            apr_pstrcat(c->pool, "Revoke the old secret of ", a->name, " now?",
                        NULL),
            "apps", texts, ui_app_path(c, client_id, "/end-old-secrets"), NULL,
            "Revoke old secret now", ui_app_path(c, client_id, ""));
    }
    rv = at_app_end_old_secrets(c->reg, c->pool, client_id, c->remote_user,
                                &err);
    return after_change(c, rv, &err, "ending old secrets", client_id,
                        "old-secrets-revoked");
}

int ui_app_enable(console_t *c, const char *client_id, int enabled)
{
    const char *texts[3];
    at_error_t err = {{0}};
    apr_status_t rv;
    at_app_t *a;

    if (!enabled && !ui_confirmed(c)) {
        if ((a = ui_load_app(c, client_id)) == NULL)
            return 0;
        texts[0] = apr_psprintf(
            c->pool,
            "%s gets no more tokens: the token endpoint answers its "
            "credentials with invalid_client and refuses its refresh "
            "tokens, until it is enabled again.",
            a->name);
        texts[1] = "Access tokens already issued stay valid until they "
                   "expire; \"Revoke all tokens\" ends them where the "
                   "resource server checks revocation.";
        texts[2] = NULL;
        return ui_confirm(
            c, apr_pstrcat(c->pool, "Disable ", a->name, "?", NULL), "apps",
            texts, ui_app_path(c, client_id, "/disable"), NULL,
            "Disable application", ui_app_path(c, client_id, ""));
    }
    rv = at_app_set_enabled(c->reg, c->pool, client_id, enabled, c->remote_user,
                            &err);
    return after_change(c, rv, &err, "enabling an application", client_id,
                        enabled ? "enabled" : "disabled");
}

int ui_app_delete(console_t *c, const char *client_id)
{
    at_error_t err = {{0}};
    const char *texts[3];
    at_app_t *a;
    apr_status_t rv;

    if ((a = ui_load_app(c, client_id)) == NULL)
        return 0;
    /* The confirmation is this address's GET; its button the POST. */
    if (c->is_post) {
        rv = at_app_delete(c->reg, c->pool, client_id, c->remote_user, &err);
        if (rv != APR_SUCCESS)
            return after_change(c, rv, &err, "deleting an application",
                                client_id, "");
        return console_redirect(c, "/apps?done=deleted");
    }
    texts[0] = apr_pstrcat(
        c->pool, "The application \"", a->name, "\" (", a->client_id,
        ") is deleted with its secrets and refresh-token grants: it can no "
        "longer get tokens, and every access token issued to it is revoked "
        "where the resource server checks revocation.",
        NULL);
    texts[1] = "This cannot be undone.";
    texts[2] = NULL;
    return ui_confirm(c, apr_pstrcat(c->pool, "Delete ", a->name, "?", NULL),
                      "apps", texts, ui_app_path(c, client_id, "/delete"), NULL,
                      "Delete application", ui_app_path(c, client_id, ""));
}
