/* ui_audit_rows.c: audit entries as table rows (dashboard, audit page). */
#include <string.h>

#include <apr_strings.h>

#include "html.h"
#include "ui_audit_rows.h"

/* The console page of an audit row's target: its application or scope,
 * or NULL when the target is something else (a jti) or was deleted. */
static const char *target_page(console_t *c, const at_audit_t *a)
{
    const char *act = a->action ? a->action : "";

    if (a->target == NULL || *a->target == '\0')
        return NULL;
    if (strcmp(act, "app.delete") == 0 || strcmp(act, "scope.delete") == 0)
        return NULL;
    if (strncmp(act, "app.", 4) == 0 || strncmp(act, "secret.", 7) == 0 ||
        strncmp(act, "refresh.", 8) == 0 ||
        strcmp(act, "token.revoke_client") == 0)
        return ui_app_path(c, a->target, "");
    if (strncmp(act, "scope.", 6) == 0)
        return apr_pstrcat(c->pool, "/scopes/edit?name=",
                           console_url_encode(c->pool, a->target), NULL);
    return NULL;
}

void ui_audit_rows(console_t *c, xmlNodePtr tbody,
                   const apr_array_header_t *rows)
{
    xmlNodePtr tr, td;
    const char *page;
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const at_audit_t *a = APR_ARRAY_IDX(rows, i, const at_audit_t *);
        tr = html_el(tbody, "tr", NULL);
        html_el(tr, "td", ui_time(c->pool, a->at));
        html_el(tr, "td", a->actor);
        html_el(tr, "td", a->action);
        td = html_el(tr, "td", NULL);
        if ((page = target_page(c, a)) != NULL)
            html_link(td, console_url(c, page), a->target);
        else
            html_text(td, a->target ? a->target : "");
        html_el(tr, "td", a->detail ? a->detail : "");
    }
}
