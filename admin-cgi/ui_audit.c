/* ui_audit.c: the audit log, newest first, one SQL page at a time,
 * filtered by application (its name or part of its client_id, or any
 * exact target) and operator (part of the name), ignoring case. */
#include <apr_strings.h>

#include "at_registry_console.h"
#include "console.h"
#include "html.h"
#include "ui_audit_rows.h"

int ui_audit(console_t *c)
{
    const char *app = console_param(c, "app");
    const char *actor = console_param(c, "actor");
    int offset = ui_page_offset(c), total = 0;
    apr_array_header_t *rows = NULL;
    at_error_t err = {{0}};
    xmlNodePtr main;
    xmlDocPtr doc;
    const char *base;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed",
                        "The audit log is only read.");
    if (at_console_audit_page(c->reg, c->pool, app, actor, offset,
                              CONSOLE_PAGE_SIZE, &rows, &total,
                              &err) != APR_SUCCESS)
        return ui_registry_error(c, "reading the audit log", &err);
    if (offset != ui_clamp_offset(offset, total)) {
        offset = ui_clamp_offset(offset, total);
        if (at_console_audit_page(c->reg, c->pool, app, actor, offset,
                                  CONSOLE_PAGE_SIZE, &rows, NULL,
                                  &err) != APR_SUCCESS)
            return ui_registry_error(c, "reading the audit log", &err);
    }
    doc = ui_page(c, "Audit log", "audit", "audit.xhtml", &main);
    if (doc == NULL)
        return 0;
    html_attr(html_by_id(doc, "filter-form"), "action",
              console_url(c, "/audit"));
    html_attr(html_by_id(doc, "clear"), "href", console_url(c, "/audit"));
    html_set_value(doc, "app", app);
    html_set_value(doc, "actor", actor);
    if (rows->nelts) {
        if (ui_audit_rows(c, html_by_id(doc, "audit-rows"), rows, &err) !=
            APR_SUCCESS) {
            xmlFreeDoc(doc);
            return ui_registry_error(c, "reading application names", &err);
        }
        html_remove(html_by_id(doc, "audit-empty"));
    } else {
        html_remove(html_by_id(doc, "audit"));
    }
    base = apr_pstrcat(c->pool, console_url(c, "/audit"),
                       "?app=", console_url_encode(c->pool, app),
                       "&actor=", console_url_encode(c->pool, actor), NULL);
    ui_pager(c, html_by_id(doc, "pager"), base, offset, total);
    return ui_send_page(c, 200, doc);
}
