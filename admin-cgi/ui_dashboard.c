/* ui_dashboard.c: the console's first page: how much is registered, and
 * what operators changed lately. */
#include <stdio.h>

#include <apr_strings.h>

#include "at_registry_console.h"
#include "console.h"
#include "html.h"
#include "ui_audit_rows.h"

#define RECENT_ROWS 10

/* Sets the count ID to N and its label to ONE or MANY. */
static void set_count(console_t *c, xmlDocPtr doc, const char *id, int n,
                      const char *one, const char *many)
{
    xmlNodePtr el = html_by_id(doc, id);

    html_clear(el);
    html_text(el, apr_itoa(c->pool, n));
    el = html_by_id(doc, apr_pstrcat(c->pool, id, "-label", NULL));
    html_clear(el);
    html_text(el, n == 1 ? one : many);
}

/* The dashboard's registry failure: logged, 500. */
static int failed(console_t *c, const at_error_t *err)
{
    fprintf(stderr, "token-admin: AT00809: dashboard: %s\n", err->text);
    return ui_error(c, 500, "Registry error",
                    "The registry could not be read. The server's error "
                    "log says why.");
}

int ui_dashboard(console_t *c)
{
    xmlNodePtr main;
    xmlDocPtr doc;
    at_error_t err = {{0}};
    int apps = 0, scopes = 0, families = 0;
    apr_array_header_t *rows = NULL;

    if (at_registry_counts(c->reg, c->pool, &apps, &scopes, &families, &err) !=
            APR_SUCCESS ||
        at_console_audit_page(c->reg, c->pool, NULL, NULL, 0, RECENT_ROWS,
                              &rows, NULL, &err) != APR_SUCCESS)
        return failed(c, &err);
    doc = ui_page(c, "Dashboard", "dashboard", "dashboard.xhtml", &main);
    if (doc == NULL)
        return 0;
    set_count(c, doc, "count-apps", apps, "application", "applications");
    set_count(c, doc, "count-scopes", scopes, "scope", "scopes");
    set_count(c, doc, "count-families", families, "active refresh-token grant",
              "active refresh-token grants");
    html_attr(html_by_id(doc, "count-apps-link"), "href",
              console_url(c, "/apps"));
    html_attr(html_by_id(doc, "count-scopes-link"), "href",
              console_url(c, "/scopes"));
    html_attr(html_by_id(doc, "new-app-link"), "href",
              console_url(c, "/apps/new"));
    html_attr(html_by_id(doc, "audit-link"), "href", console_url(c, "/audit"));
    if (rows->nelts) {
        if (ui_audit_rows(c, html_by_id(doc, "recent-rows"), rows, &err) !=
            APR_SUCCESS) {
            xmlFreeDoc(doc);
            return failed(c, &err);
        }
        html_remove(html_by_id(doc, "recent-empty"));
    } else {
        html_remove(html_by_id(doc, "recent"));
    }
    return ui_send_page(c, 200, doc);
}
