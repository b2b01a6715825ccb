/* ui_audit_rows.c: audit entries as table rows (dashboard, audit page). */
#include <string.h>

#include <apr_strings.h>

#include "html.h"
#include "ui_audit_rows.h"

void ui_audit_rows(console_t *c, xmlNodePtr tbody,
                   const apr_array_header_t *rows)
{
    xmlNodePtr tr, td;
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const at_audit_t *a = APR_ARRAY_IDX(rows, i, const at_audit_t *);
        tr = html_el(tbody, "tr", NULL);
        html_el(tr, "td", ui_time(c->pool, a->at));
        html_el(tr, "td", a->actor);
        html_el(tr, "td", a->action);
        td = html_el(tr, "td", NULL);
        /* Application actions name a client_id: link to it. */
        if (a->target && *a->target && a->action &&
            (strncmp(a->action, "app.", 4) == 0 ||
             strncmp(a->action, "secret.", 7) == 0))
            html_link(td,
                      console_url(
                          c, apr_pstrcat(c->pool, "/apps/",
                                         console_url_encode(c->pool, a->target),
                                         NULL)),
                      a->target);
        else
            html_text(td, a->target ? a->target : "");
        html_el(tr, "td", a->detail ? a->detail : "");
    }
}
