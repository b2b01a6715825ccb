/* ui_app_form.c: creating and editing an application. The same template
 * serves both; a form with mistakes comes back (422) with the operator's
 * input kept and a message beside each wrong field, and nothing written.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "at_registry_console.h"
#include "at_registry_limits.h"
#include "console.h"
#include "html.h"

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

/* Non-empty, trimmed lines of TEXT (line breaks are LF: the form parser
 * folded CR LF); *numbers gets each one's line number, 1-based. */
static apr_array_header_t *lines(apr_pool_t *p, const char *text,
                                 apr_array_header_t **numbers)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(char *));
    const char *s = text, *e, *next;
    int line = 1;

    *numbers = apr_array_make(p, 4, sizeof(int));
    for (; *s; s = next, line++) {
        e = s + strcspn(s, "\n");
        next = *e ? e + 1 : e;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            APR_ARRAY_PUSH(a, const char *) =
                apr_pstrmemdup(p, s, (apr_size_t)(e - s));
            APR_ARRAY_PUSH(*numbers, int) = line;
        }
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

/* A lifetime field: "" or "0" mean the server default; anything but
 * digits gives -1, which the registry's check refuses in its own words. */
static long lifetime(const char *s)
{
    if (*s == '\0')
        return 0;
    if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
        return -1;
    return strtol(s, NULL, 10);
}

/* The form's id of each field at_app_problems names. */
static const char *const field_ids[][2] = {
    {"name", "name"},
    {"description", "description"},
    {"type", "type"},
    {"grants", "grants-field"},
    {"offline_client_credentials", "offline"},
    {"scopes", "scopes-field"},
    {"audiences", "audiences"},
    {"redirect_uris", "redirect_uris"},
    {"access_lifetime", "access_lifetime"},
    {"refresh_lifetime", "refresh_lifetime"},
};

static const char *field_id(const char *field)
{
    size_t i;

    for (i = 0; i < sizeof(field_ids) / sizeof(field_ids[0]); i++) {
        if (strcmp(field_ids[i][0], field) == 0)
            return field_ids[i][1];
    }
    return "name";
}

/* Checks F with the registry's own rules (at_app_problems: the command
 * line's checks and words), puts each message beside its field of DOC and
 * fills F->app. Returns the number of mistakes. */
static int validate(console_t *c, app_form_t *f, xmlDocPtr doc)
{
    apr_array_header_t *aud_lines, *uri_lines, *problems;
    at_app_t *a = &f->app;
    int i;

    a->name = f->name;
    a->description = f->description;
    a->type = f->type;
    a->grants = f->grants;
    a->scopes = f->scopes;
    a->audiences = lines(c->pool, f->audiences, &aud_lines);
    a->redirect_uris = lines(c->pool, f->redirect_uris, &uri_lines);
    a->access_lifetime = lifetime(f->access);
    a->refresh_lifetime = lifetime(f->refresh);
    a->offline_client_credentials = f->offline;
    a->skip_consent = f->skip_consent;
    a->enabled = 1;
    problems = at_app_problems(c->pool, a);
    for (i = 0; i < problems->nelts; i++) {
        const at_problem_t *pr = APR_ARRAY_IDX(problems, i, at_problem_t *);
        const char *text = ui_sentence(c->pool, pr->text);
        apr_array_header_t *nums = !strcmp(pr->field, "audiences") ? aud_lines
                                   : !strcmp(pr->field, "redirect_uris")
                                       ? uri_lines
                                       : NULL;
        /* A list typed one item a line: say which line. */
        if (nums && pr->item >= 0 && pr->item < nums->nelts)
            text = apr_psprintf(c->pool, "Line %d: %s",
                                APR_ARRAY_IDX(nums, pr->item, int), text);
        html_field_error(doc, field_id(pr->field), text);
    }
    /* The console's one rule of its own: a form that allows the
     * authorization_code grant is useless without somewhere to send the
     * code. */
    if (has(f->grants, "authorization_code") && a->redirect_uris->nelts == 0 &&
        html_by_id(doc, "redirect_uris-error") == NULL) {
        html_field_error(doc, "redirect_uris",
                         "Grant authorization_code needs at least one "
                         "redirect URI.");
        return problems->nelts + 1;
    }
    return problems->nelts;
}

/* Fills DOC's form with F; the scope boxes come from SCOPES. */
static void fill(console_t *c, xmlDocPtr doc, const app_form_t *f,
                 const apr_array_header_t *scopes)
{
    xmlNodePtr boxes = html_by_id(doc, "scope-boxes"), div, in, label;
    size_t k;
    int i;

    /* The registry's limits, so the browser stops where it would. */
    html_attr(html_by_id(doc, "name"), "maxlength",
              apr_itoa(c->pool, AT_APP_NAME_MAX));
    html_attr(html_by_id(doc, "description"), "maxlength",
              apr_itoa(c->pool, AT_APP_DESCRIPTION_MAX));
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

/* Answers a refused form (422): the input as it was sent, a message
 * beside each wrong field (ui_error_summary lists them at the top). */
static int refused(console_t *c, xmlDocPtr doc, const app_form_t *f,
                   const apr_array_header_t *scopes)
{
    fill(c, doc, f, scopes);
    return ui_send_page(c, 422, doc);
}

/* The registry refused what passed the form's checks: a name another
 * application has (APR_EEXIST), or a scope deleted meanwhile (the only
 * APR_EINVAL left after at_app_problems). */
static void lib_refusal(console_t *c, xmlDocPtr doc, apr_status_t rv,
                        const char *text)
{
    html_field_error(doc, rv == APR_EEXIST ? "name" : "scopes-field",
                     ui_sentence(c->pool, text));
}

int ui_app_new(console_t *c)
{
    at_error_t err = {{0}};
    apr_array_header_t *scopes = NULL;
    app_form_t f;
    xmlDocPtr doc;
    const char *secret = NULL;
    apr_status_t rv;

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
        return ui_send_page(c, 200, doc);
    }
    form_from_post(c, &f);
    if (validate(c, &f, doc) != 0)
        return refused(c, doc, &f, scopes);
    f.app.client_id = NULL;
    rv = at_app_create(c->reg, c->pool, &f.app, c->remote_user, &secret, &err);
    if (rv == APR_EEXIST || rv == APR_EINVAL) {
        lib_refusal(c, doc, rv, err.text);
        return refused(c, doc, &f, scopes);
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
        return ui_send_page(c, 200, doc);
    }
    form_from_post(c, &f);
    if (validate(c, &f, doc) != 0)
        return refused(c, doc, &f, scopes);
    f.app.client_id = app->client_id;
    f.app.enabled = app->enabled;
    rv = at_app_update(c->reg, c->pool, &f.app, c->remote_user, &err);
    if (rv == APR_EEXIST || rv == APR_EINVAL) {
        lib_refusal(c, doc, rv, err.text);
        return refused(c, doc, &f, scopes);
    }
    xmlFreeDoc(doc);
    if (rv != APR_SUCCESS)
        return ui_registry_error(c, "updating an application", &err);
    return console_redirect(c, ui_app_path(c, client_id, "?done=saved"));
}
