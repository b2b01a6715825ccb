/* ui_app_form.c: creating and editing an application. The same template
 * serves both; a form with mistakes comes back (422) with the operator's
 * input kept and a message beside each wrong field, and nothing written.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include "console.h"
#include "html.h"

#define MAX_LIFETIME 315360000L /* ten years */

static const char *const known_grants[] = {
    "client_credentials",
    "refresh_token",
    "authorization_code",
};
#define N_GRANTS (sizeof(known_grants) / sizeof(known_grants[0]))

/* The form as typed (text kept for redisplay) and as parsed. */
typedef struct app_form {
    const char *name, *description, *type;
    apr_array_header_t *grants, *scopes;
    const char *audiences, *redirect_uris;
    const char *access, *refresh;
    int offline;
    int skip_consent;
    at_app_t app; /* filled by validate */
} app_form_t;

static int has(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), s) == 0)
            return 1;
    }
    return 0;
}

static int collect(void *rec, const char *key, const char *value)
{
    apr_array_header_t *a = rec;

    if (!has(a, value))
        APR_ARRAY_PUSH(a, const char *) = value;
    return 1;
}

static apr_array_header_t *form_list(console_t *c, const char *name)
{
    apr_array_header_t *a = apr_array_make(c->pool, 4, sizeof(char *));

    apr_table_do(collect, a, c->form, name, NULL);
    return a;
}

/* Non-empty, trimmed lines of TEXT. */
static apr_array_header_t *lines(apr_pool_t *p, const char *text)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(char *));
    const char *s = text, *e;

    while (*s) {
        e = s + strcspn(s, "\r\n");
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s)
            APR_ARRAY_PUSH(a, const char *) =
                apr_pstrmemdup(p, s, (apr_size_t)(e - s));
        s = e + strcspn(e, "\r\n");
        s += strspn(s, "\r\n");
    }
    return a;
}

static void form_from_post(console_t *c, app_form_t *f)
{
    f->name = console_param(c, "name");
    f->description = console_param(c, "description");
    f->type = console_param(c, "type");
    f->grants = form_list(c, "grant");
    f->scopes = form_list(c, "scope");
    f->audiences = console_param(c, "audiences");
    f->redirect_uris = console_param(c, "redirect_uris");
    f->access = console_param(c, "access_lifetime");
    f->refresh = console_param(c, "refresh_lifetime");
    f->offline = *console_param(c, "offline_client_credentials") != '\0';
    f->skip_consent = *console_param(c, "skip_consent") != '\0';
}

static void form_from_app(console_t *c, const at_app_t *a, app_form_t *f)
{
    f->name = a->name;
    f->description = a->description ? a->description : "";
    f->type = a->type;
    f->grants = a->grants;
    f->scopes = a->scopes;
    f->audiences = ui_join(c->pool, a->audiences, "\n");
    f->redirect_uris = ui_join(c->pool, a->redirect_uris, "\n");
    f->access = a->access_lifetime ? apr_ltoa(c->pool, a->access_lifetime) : "";
    f->refresh =
        a->refresh_lifetime ? apr_ltoa(c->pool, a->refresh_lifetime) : "";
    f->offline = a->offline_client_credentials;
    f->skip_consent = a->skip_consent;
}

/* A lifetime field: "" or "0" mean the server default. */
static int lifetime(const char *s, long *out)
{
    char *end;
    long n;

    if (*s == '\0') {
        *out = 0;
        return 0;
    }
    if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
        return -1;
    n = strtol(s, &end, 10);
    if (n > MAX_LIFETIME)
        return -1;
    *out = n;
    return 0;
}

static int valid_redirect_uri(apr_pool_t *p, const char *s)
{
    apr_uri_t u;

    if (strpbrk(s, " \t<>\"") != NULL)
        return 0;
    if (apr_uri_parse(p, s, &u) != APR_SUCCESS || u.scheme == NULL ||
        u.fragment != NULL)
        return 0;
    /* Web redirects need a host; a native app's private scheme needs a
     * path (RFC 8252 §7.1). */
    if ((!strcasecmp(u.scheme, "http") || !strcasecmp(u.scheme, "https")) &&
        (u.hostname == NULL || *u.hostname == '\0'))
        return 0;
    return 1;
}

/* Checks F, puts a message beside each wrong field of DOC (may be NULL)
 * and fills F->app. Returns the number of mistakes. */
static int validate(console_t *c, app_form_t *f,
                    const apr_array_header_t *scopes, xmlDocPtr doc)
{
    int bad = 0, i;
    apr_array_header_t *aud, *uris;
    at_app_t *a = &f->app;

#define WRONG(id, msg)                                                         \
    do {                                                                       \
        bad++;                                                                 \
        html_field_error(doc, id, msg);                                        \
    } while (0)

    if (*f->name == '\0')
        WRONG("name", "Give the application a name.");
    else if (strlen(f->name) > 200)
        WRONG("name", "The name is longer than 200 bytes.");
    if (strlen(f->description) > 2000)
        WRONG("description", "The description is longer than 2000 bytes.");
    if (strcmp(f->type, "confidential") && strcmp(f->type, "public"))
        WRONG("type", "Choose confidential or public.");
    for (i = 0; i < f->grants->nelts; i++) {
        const char *g = APR_ARRAY_IDX(f->grants, i, const char *);
        size_t k;
        for (k = 0; k < N_GRANTS && strcmp(g, known_grants[k]); k++)
            ;
        if (k == N_GRANTS) {
            WRONG("grants-field", "Unknown grant type.");
            break;
        }
    }
    if (f->grants->nelts == 0)
        WRONG("grants-field", "Allow at least one grant type.");
    else if (!strcmp(f->type, "public") && has(f->grants, "client_credentials"))
        WRONG("grants-field", "A public application has no secret, so it "
                              "cannot use client_credentials.");
    else if (f->offline && !(has(f->grants, "client_credentials") &&
                             has(f->grants, "refresh_token")))
        WRONG("grants-field", "Refresh tokens with client credentials need "
                              "both the client_credentials and the "
                              "refresh_token grant.");
    for (i = 0; i < f->scopes->nelts; i++) {
        const char *s = APR_ARRAY_IDX(f->scopes, i, const char *);
        int k, found = 0;
        for (k = 0; k < scopes->nelts && !found; k++)
            found = !strcmp(APR_ARRAY_IDX(scopes, k, at_scope_t *)->name, s);
        if (!found) {
            WRONG("scopes-field", "One of the scopes does not exist (any "
                                  "more).");
            break;
        }
    }
    aud = lines(c->pool, f->audiences);
    for (i = 0; i < aud->nelts; i++) {
        const char *s = APR_ARRAY_IDX(aud, i, const char *);
        if (strpbrk(s, " \t") || strlen(s) > 500) {
            WRONG("audiences", "One audience per line, without spaces.");
            break;
        }
    }
    uris = lines(c->pool, f->redirect_uris);
    for (i = 0; i < uris->nelts; i++) {
        if (!valid_redirect_uri(c->pool,
                                APR_ARRAY_IDX(uris, i, const char *))) {
            WRONG("redirect_uris",
                  apr_psprintf(c->pool,
                               "Line %d is not an absolute URI "
                               "without a fragment.",
                               i + 1));
            break;
        }
    }
    if (has(f->grants, "authorization_code") && uris->nelts == 0)
        WRONG("redirect_uris", "The authorization_code grant needs at "
                               "least one redirect URI.");
    if (lifetime(f->access, &a->access_lifetime) != 0)
        WRONG("access_lifetime", "Give a whole number of seconds (at most "
                                 "ten years), or leave it empty.");
    if (lifetime(f->refresh, &a->refresh_lifetime) != 0)
        WRONG("refresh_lifetime", "Give a whole number of seconds (at most "
                                  "ten years), or leave it empty.");
#undef WRONG
    a->name = f->name;
    a->description = f->description;
    a->type = f->type;
    a->grants = f->grants;
    a->scopes = f->scopes;
    a->audiences = aud;
    a->redirect_uris = uris;
    a->offline_client_credentials = f->offline;
    a->skip_consent = f->skip_consent;
    a->enabled = 1;
    return bad;
}

/* Fills DOC's form with F; the scope boxes come from SCOPES. */
static void fill(console_t *c, xmlDocPtr doc, const app_form_t *f,
                 const apr_array_header_t *scopes)
{
    xmlNodePtr boxes = html_by_id(doc, "scope-boxes"), div, in, label;
    size_t k;
    int i;

    html_set_value(doc, "name", f->name);
    html_set_value(doc, "description", f->description);
    html_set_value(doc, "type", f->type);
    for (k = 0; k < N_GRANTS; k++)
        html_set_checked(doc,
                         apr_pstrcat(c->pool, "grant-", known_grants[k], NULL),
                         has(f->grants, known_grants[k]));
    html_set_checked(doc, "offline", f->offline);
    html_set_checked(doc, "skip_consent", f->skip_consent);
    for (i = 0; i < scopes->nelts; i++) {
        const at_scope_t *s = APR_ARRAY_IDX(scopes, i, const at_scope_t *);
        const char *id = apr_psprintf(c->pool, "scope-%d", i);
        div = html_el(boxes, "div", NULL);
        html_attr(div, "class", "check");
        in = html_el(div, "input", NULL);
        html_attr(in, "id", id);
        html_attr(in, "name", "scope");
        html_attr(in, "type", "checkbox");
        html_attr(in, "value", s->name);
        if (has(f->scopes, s->name))
            html_attr(in, "checked", "checked");
        label = html_el(div, "label", s->name);
        html_attr(label, "for", id);
        if (s->description && *s->description)
            html_attr(html_el(div, "span", s->description), "class", "hint");
    }
    if (scopes->nelts)
        html_remove(html_by_id(doc, "no-scopes"));
    html_set_value(doc, "audiences", f->audiences);
    html_set_value(doc, "redirect_uris", f->redirect_uris);
    html_set_value(doc, "access_lifetime", f->access);
    html_set_value(doc, "refresh_lifetime", f->refresh);
    div = html_by_id(doc, "access-default");
    html_clear(div);
    html_text(div,
              apr_pstrcat(c->pool, "Empty: the server default, ",
                          ui_duration(c->pool, c->default_access), ".", NULL));
    div = html_by_id(doc, "refresh-default");
    html_clear(div);
    html_text(div,
              apr_pstrcat(c->pool, "Empty: the server default, ",
                          ui_duration(c->pool, c->default_refresh), ".", NULL));
}

/* The form page: TITLE, ACTION (console path), BUTTON text. */
static xmlDocPtr form_page(console_t *c, const char *title, const char *action,
                           const char *button, const char *cancel)
{
    xmlNodePtr main, n;
    xmlDocPtr doc = ui_page(c, title, "apps", "app-form.xhtml", &main);

    if (doc == NULL)
        return NULL;
    html_attr(html_by_id(doc, "app-form"), "action", console_url(c, action));
    n = html_by_id(doc, "submit");
    html_clear(n);
    html_text(n, button);
    html_attr(html_by_id(doc, "cancel"), "href", console_url(c, cancel));
    return doc;
}

/* Answers a refused form: the library's or our own message. */
static int refused(console_t *c, xmlDocPtr doc, const app_form_t *f,
                   const apr_array_header_t *scopes, int bad)
{
    fill(c, doc, f, scopes);
    if (!bad)
        html_remove(html_by_id(doc, "form-error"));
    return console_send_doc(c, 422, doc);
}

/* The library refused the input: say so beside the name (duplicate) or
 * at the top of the form. Returns 1 when handled. */
static void lib_refusal(xmlDocPtr doc, apr_status_t rv, const char *text)
{
    xmlNodePtr p;

    if (rv == APR_EEXIST) {
        html_field_error(doc, "name", "Another application has this name.");
        return;
    }
    p = html_by_id(doc, "form-error");
    html_clear(p);
    html_text(p, text);
}

int ui_app_new(console_t *c)
{
    at_error_t err = {{0}};
    apr_array_header_t *scopes = NULL;
    app_form_t f;
    xmlDocPtr doc;
    const char *secret = NULL;
    apr_status_t rv;
    int bad;

    memset(&f, 0, sizeof(f));
    if (at_scope_list(c->reg, c->pool, &scopes, &err) != APR_SUCCESS)
        return ui_registry_error(c, "listing scopes", &err);
    doc = form_page(c, "New application", "/apps/new", "Create application",
                    "/apps");
    if (doc == NULL)
        return 0;
    if (!c->is_post) {
        f.name = f.description = f.audiences = f.redirect_uris = "";
        f.access = f.refresh = "";
        f.type = "confidential";
        f.grants = apr_array_make(c->pool, 1, sizeof(char *));
        APR_ARRAY_PUSH(f.grants, const char *) = "client_credentials";
        f.scopes = apr_array_make(c->pool, 1, sizeof(char *));
        fill(c, doc, &f, scopes);
        html_remove(html_by_id(doc, "form-error"));
        return console_send_doc(c, 200, doc);
    }
    form_from_post(c, &f);
    if ((bad = validate(c, &f, scopes, doc)) != 0)
        return refused(c, doc, &f, scopes, bad);
    f.app.client_id = NULL;
    rv = at_app_create(c->reg, c->pool, &f.app, c->remote_user, &secret, &err);
    if (rv == APR_EEXIST || rv == APR_EINVAL) {
        lib_refusal(doc, rv, err.text);
        return refused(c, doc, &f, scopes, 1);
    }
    xmlFreeDoc(doc);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "creating an application", &err);
    if (secret) {
        console_secret_cookie_set(c, f.app.client_id, secret);
        return console_redirect(c, ui_app_path(c, f.app.client_id, "/secret"));
    }
    return console_redirect(c,
                            ui_app_path(c, f.app.client_id, "?done=created"));
}

int ui_app_edit(console_t *c, const char *client_id)
{
    at_error_t err = {{0}};
    apr_array_header_t *scopes = NULL;
    at_app_t *app = ui_load_app(c, client_id);
    app_form_t f;
    xmlDocPtr doc;
    apr_status_t rv;
    int bad;

    if (app == NULL)
        return 0;
    memset(&f, 0, sizeof(f));
    if (at_scope_list(c->reg, c->pool, &scopes, &err) != APR_SUCCESS)
        return ui_registry_error(c, "listing scopes", &err);
    doc = form_page(c, apr_pstrcat(c->pool, "Edit ", app->name, NULL),
                    ui_app_path(c, client_id, "/edit"), "Save changes",
                    ui_app_path(c, client_id, ""));
    if (doc == NULL)
        return 0;
    if (!c->is_post) {
        form_from_app(c, app, &f);
        fill(c, doc, &f, scopes);
        html_remove(html_by_id(doc, "form-error"));
        return console_send_doc(c, 200, doc);
    }
    form_from_post(c, &f);
    if ((bad = validate(c, &f, scopes, doc)) != 0)
        return refused(c, doc, &f, scopes, bad);
    f.app.client_id = app->client_id;
    f.app.enabled = app->enabled;
    rv = at_app_update(c->reg, c->pool, &f.app, c->remote_user, &err);
    if (rv == APR_EEXIST || rv == APR_EINVAL) {
        lib_refusal(doc, rv, err.text);
        return refused(c, doc, &f, scopes, 1);
    }
    xmlFreeDoc(doc);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "updating an application", &err);
    return console_redirect(c, ui_app_path(c, client_id, "?done=saved"));
}
