/* ui_apps.c: the applications list. One page of client_ids comes from the
 * registry (at_console_app_ids: LIMIT/OFFSET inside the name index, count
 * from the index), then the page's applications one by one by primary key,
 * so the page costs the same with ten or ten thousand applications. */
#include <apr_strings.h>

#include "at_registry_console.h"
#include "console.h"
#include "html.h"

int ui_apps_list(console_t *c)
{
    const char *q = console_param(c, "q");
    int offset = ui_page_offset(c), total = 0, i;
    apr_array_header_t *ids = NULL, *apps;
    at_error_t err = {{0}};
    xmlNodePtr main, tbody, tr, td;
    xmlDocPtr doc;
    const char *base;

    if (c->is_post)
        return ui_error(c, 405, "Method not allowed", "The list is only read.");
    if (at_console_app_ids(c->reg, c->pool, q, offset, CONSOLE_PAGE_SIZE, &ids,
                           &total, &err) != APR_SUCCESS)
        return ui_registry_error(c, "listing applications", &err);
    /* A page beyond the last (an old link, a list that shrank) shows the
     * last one. */
    if (offset != ui_clamp_offset(offset, total)) {
        offset = ui_clamp_offset(offset, total);
        if (at_console_app_ids(c->reg, c->pool, q, offset, CONSOLE_PAGE_SIZE,
                               &ids, NULL, &err) != APR_SUCCESS)
            return ui_registry_error(c, "listing applications", &err);
    }
    apps = apr_array_make(c->pool, ids->nelts, sizeof(at_app_t *));
    for (i = 0; i < ids->nelts; i++) {
        at_app_t *a = NULL;
        apr_status_t rv = at_app_get(
            c->reg, c->pool, APR_ARRAY_IDX(ids, i, const char *), &a, &err);
        /* Deleted between the two reads: leave it out. */
        if (rv == APR_NOTFOUND)
            continue;
        if (rv != APR_SUCCESS)
            return ui_registry_error(c, "reading an application", &err);
        APR_ARRAY_PUSH(apps, at_app_t *) = a;
    }
    doc = ui_page(c, "Applications", "apps", "apps.xhtml", &main);
    if (doc == NULL)
        return 0;
    ui_flash(c, main);
    html_attr(html_by_id(doc, "search-form"), "action",
              console_url(c, "/apps"));
    html_set_value(doc, "q", q);
    html_attr(html_by_id(doc, "new-app-link"), "href",
              console_url(c, "/apps/new"));
    tbody = html_by_id(doc, "app-rows");
    for (i = 0; i < apps->nelts; i++) {
        const at_app_t *a = APR_ARRAY_IDX(apps, i, const at_app_t *);
        tr = html_el(tbody, "tr", NULL);
        td = html_el(tr, "td", NULL);
        html_link(td, console_url(c, ui_app_path(c, a->client_id, "")),
                  a->name);
        html_attr(html_el(tr, "td", a->client_id), "class", "mono id");
        html_el(tr, "td", a->type);
        html_el(tr, "td", a->enabled ? "enabled" : "disabled");
        html_el(tr, "td", ui_time(c->pool, a->updated));
    }
    if (apps->nelts)
        html_remove(html_by_id(doc, "apps-empty"));
    else
        html_remove(html_by_id(doc, "apps"));
    base = console_url(c, "/apps");
    if (*q)
        base = apr_pstrcat(c->pool, base, "?q=", console_url_encode(c->pool, q),
                           NULL);
    ui_pager(c, html_by_id(doc, "pager"), base, offset, total);
    return ui_send_page(c, 200, doc);
}
