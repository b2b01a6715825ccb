/* ui_confirm.c: the two pages that stand between a button and a change:
 * the confirmation before something that cannot be undone (rotating a
 * secret, revoking, disabling, deleting), and the offer to send a form
 * again when its CSRF token expired while the operator was filling it.
 * Both carry the request's input forward in hidden fields; the POST they
 * make is checked like any other.
 */
#include <string.h>

#include <apr_strings.h>

#include "console.h"
#include "html.h"

static void hidden(xmlNodePtr form, const char *name, const char *value)
{
    xmlNodePtr in = html_el(form, "input", NULL);

    html_attr(in, "type", "hidden");
    html_attr(in, "name", name);
    html_value_attr(in, value);
}

int ui_confirmed(console_t *c)
{
    return c->is_post && strcmp(console_param(c, "confirm"), "yes") == 0;
}

int ui_confirm(console_t *c, const char *title, const char *current,
               const char *const *texts, const char *action,
               const char *const *keep, const char *button, const char *cancel)
{
    xmlNodePtr main, box, form, b;
    xmlDocPtr doc = ui_page(c, title, current, "confirm.xhtml", &main);
    int i;

    if (doc == NULL)
        return 0;
    box = html_by_id(doc, "consequences");
    for (i = 0; texts[i]; i++)
        html_el(box, "p", texts[i]);
    form = html_by_id(doc, "confirm-form");
    html_attr(form, "action", console_url(c, action));
    for (i = 0; keep && keep[i]; i++)
        hidden(form, keep[i], console_param(c, keep[i]));
    b = html_by_id(doc, "confirm-button");
    html_clear(b);
    html_text(b, button);
    html_attr(html_by_id(doc, "cancel"), "href", console_url(c, cancel));
    return ui_send_page(c, 200, doc);
}

typedef struct kept {
    xmlNodePtr form, dl;
} kept_t;

/* One field of the expired form: hidden in the new form, and shown (but
 * for the token and the confirmation flag) so the operator sees what
 * will be sent. */
static int keep_field(void *rec, const char *name, const char *value)
{
    kept_t *k = rec;
    xmlNodePtr div, dd;

    if (strcmp(name, "csrf") == 0)
        return 1;
    hidden(k->form, name, value);
    if (strcmp(name, "confirm") == 0)
        return 1;
    div = html_el(k->dl, "div", NULL);
    html_el(div, "dt", name);
    dd = html_el(div, "dd", *value ? value : "(empty)");
    html_attr(dd, "class", "multiline");
    return 1;
}

int ui_resubmit(console_t *c)
{
    xmlNodePtr main;
    xmlDocPtr doc = ui_page(c, "Form expired", NULL, "resubmit.xhtml", &main);
    kept_t k;

    if (doc == NULL)
        return 0;
    k.form = html_by_id(doc, "resubmit-form");
    k.dl = html_by_id(doc, "kept");
    html_attr(k.form, "action", ui_self_url(c, NULL));
    apr_table_do(keep_field, &k, c->form, NULL);
    html_attr(html_by_id(doc, "cancel"), "href", console_url(c, "/"));
    return ui_send_page(c, 403, doc);
}
