/* ui_chrome.c: what every console page shares: the frame from
 * htdocs/layout.xhtml, error pages, the CSRF field of every form, notices
 * after a redirect, the pager and the formatting of times and lifetimes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_escape.h>
#include <libxml/HTMLtree.h>

#include "console.h"
#include "html.h"

static const char *const nav_ids[][2] = {
    {"dashboard", "/"},
    {"apps", "/apps"},
    {"scopes", "/scopes"},
    {"audit", "/audit"},
};

xmlDocPtr ui_page(console_t *c, const char *title, const char *current,
                  const char *body, xmlNodePtr *main)
{
    const char *why = NULL;
    xmlDocPtr doc, part;
    xmlNodePtr n;
    size_t i;

    doc = html_load(c->pool, c->htdocs, "layout.xhtml", &why);
    if (doc == NULL) {
        fprintf(stderr, "token-admin: AT00806: %s", why);
        ui_error_bare(c, 500, "The console's page templates are missing.");
        return NULL;
    }
    n = html_by_id(doc, "page-title");
    html_clear(n);
    html_text(n, apr_pstrcat(c->pool, title, " - token-admin", NULL));
    n = html_by_id(doc, "heading");
    html_clear(n);
    html_text(n, title);
    n = html_by_id(doc, "operator");
    if (*c->remote_user) {
        html_clear(n);
        html_text(n, c->remote_user);
    } else {
        html_remove(n->parent); /* nobody is signed in */
    }
    html_attr(html_by_id(doc, "stylesheet"), "href",
              apr_pstrcat(c->pool, c->assets, "/console.css", NULL));
    html_attr(html_by_id(doc, "script"), "src",
              apr_pstrcat(c->pool, c->assets, "/console.js", NULL));
    html_attr(html_by_id(doc, "brand"), "href", console_url(c, "/"));
    html_attr(html_by_id(doc, "skip-link"), "href", ui_self_url(c, "main"));
    for (i = 0; i < sizeof(nav_ids) / sizeof(nav_ids[0]); i++) {
        n = html_by_id(doc, apr_pstrcat(c->pool, "nav-", nav_ids[i][0], NULL));
        html_attr(n, "href", console_url(c, nav_ids[i][1]));
        if (current && strcmp(current, nav_ids[i][0]) == 0)
            html_attr(n, "aria-current", "page");
    }
    *main = html_by_id(doc, "main");
    if (body) {
        part = html_load(c->pool, c->htdocs, body, &why);
        if (part == NULL) {
            fprintf(stderr, "token-admin: AT00807: %s", why);
            xmlFreeDoc(doc);
            ui_error_bare(c, 500, "The console's page templates are missing.");
            return NULL;
        }
        html_import_children(*main, part);
        xmlFreeDoc(part);
    }
    return doc;
}

int ui_error_bare(console_t *c, int status, const char *text)
{
    xmlDocPtr doc = htmlNewDocNoDtD(NULL, NULL);
    xmlNodePtr html, head, body;

    html = xmlNewDocNode(doc, NULL, BAD_CAST "html", NULL);
    xmlDocSetRootElement(doc, html);
    html_attr(html, "lang", "en");
    head = html_el(html, "head", NULL);
    html_el(head, "title", "Error - token-admin");
    body = html_el(html, "body", NULL);
    html_el(body, "h1", "Error");
    html_el(body, "p", text);
    return ui_send_page(c, status, doc);
}

int ui_error(console_t *c, int status, const char *heading, const char *text)
{
    xmlNodePtr main;
    xmlDocPtr doc = ui_page(c, heading, NULL, "error.xhtml", &main);
    xmlNodePtr p;

    if (doc == NULL)
        return 0;
    p = html_by_id(doc, "error-text");
    html_clear(p);
    html_text(p, text);
    html_attr(html_by_id(doc, "error-home"), "href", console_url(c, "/"));
    return ui_send_page(c, status, doc);
}

int ui_no_operator(console_t *c)
{
    xmlNodePtr main, path;
    xmlDocPtr doc = ui_page(c, "Operator authentication required", NULL,
                            "no-operator.xhtml", &main);

    if (doc == NULL)
        return 0;
    /* The lines to add name this console's own address. */
    if (*c->script_name && (path = html_by_id(doc, "location-path"))) {
        html_clear(path);
        html_text(path, c->script_name);
    }
    return ui_send_page(c, 403, doc);
}

static void add_csrf(console_t *c, xmlNodePtr n)
{
    xmlNodePtr in;
    xmlChar *method;

    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, BAD_CAST "form")) {
            method = xmlGetProp(n, BAD_CAST "method");
            if (method && xmlStrcasecmp(method, BAD_CAST "post") == 0) {
                in = xmlNewDocNode(n->doc, NULL, BAD_CAST "input", NULL);
                html_attr(in, "type", "hidden");
                html_attr(in, "name", "csrf");
                html_attr(in, "value", c->csrf_token);
                if (n->children)
                    xmlAddPrevSibling(n->children, in);
                else
                    xmlAddChild(n, in);
            }
            xmlFree(method);
        }
        add_csrf(c, n->children);
    }
}

/* Gives each body cell of TABLE the text of its column header as
 * data-label, so that the stylesheet can show rows as labelled cards on a
 * narrow screen. */
static void label_table(console_t *c, xmlNodePtr table)
{
    const char *heads[16];
    int nh = 0, i;
    xmlNodePtr sec, tr, cell;
    xmlChar *text;

    for (sec = table->children; sec; sec = sec->next) {
        if (sec->type != XML_ELEMENT_NODE)
            continue;
        for (tr = sec->children; tr; tr = tr->next) {
            if (tr->type != XML_ELEMENT_NODE)
                continue;
            i = 0;
            for (cell = tr->children; cell; cell = cell->next) {
                if (cell->type != XML_ELEMENT_NODE)
                    continue;
                if (xmlStrEqual(sec->name, BAD_CAST "thead") && nh < 16) {
                    text = xmlNodeGetContent(cell);
                    heads[nh++] = apr_pstrdup(c->pool, (const char *)text);
                    xmlFree(text);
                } else if (xmlStrEqual(cell->name, BAD_CAST "td") && i < nh) {
                    html_attr(cell, "data-label", heads[i]);
                }
                i++;
            }
        }
    }
}

static void label_tables(console_t *c, xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, BAD_CAST "table"))
            label_table(c, n);
        else
            label_tables(c, n->children);
    }
}

void ui_label_tables(console_t *c, xmlDocPtr doc)
{
    label_tables(c, xmlDocGetRootElement(doc));
}

void ui_add_csrf(console_t *c, xmlDocPtr doc)
{
    if (c->csrf_token)
        add_csrf(c, xmlDocGetRootElement(doc));
}

/* Notices after Post/Redirect/Get: the redirect names one of these, so no
 * text from the address is ever shown. */
static const char *const notices[][2] = {
    {"created", "The application was created."},
    {"saved", "Your changes were saved."},
    {"deleted", "The application was deleted."},
    {"enabled", "The application is enabled."},
    {"disabled", "The application is disabled: it gets no more tokens."},
    {"old-secrets-revoked", "The previous secrets no longer work."},
    {"no-old-secret", "No previous secret was still valid: nothing to "
                      "revoke."},
    {"grant-revoked", "The grant was revoked."},
    {"token-revoked", "The access token was revoked."},
    {"all-revoked", "Every token of the application was revoked."},
    {"consent-revoked", "The person's access was revoked."},
    {"scope-created", "The scope was created."},
    {"scope-saved", "The scope was saved."},
    {"scope-deleted", "The scope was deleted."},
};

void ui_flash(console_t *c, xmlNodePtr main)
{
    const char *done = apr_table_get(c->query, "done");
    xmlNodePtr p, heading;
    size_t i;

    if (done == NULL)
        return;
    for (i = 0; i < sizeof(notices) / sizeof(notices[0]); i++) {
        if (strcmp(done, notices[i][0]) == 0) {
            heading = html_find(main, "heading");
            p = xmlNewDocNode(main->doc, NULL, BAD_CAST "p", NULL);
            html_text(p, notices[i][1]);
            html_attr(p, "class", "notice");
            html_attr(p, "role", "status");
            if (heading)
                xmlAddNextSibling(heading, p);
            else
                xmlAddChild(main, p);
            return;
        }
    }
}

const char *ui_time(apr_pool_t *p, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[64];

    if (t <= 0)
        return "-";
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return apr_pstrdup(p, buf);
}

const char *ui_duration(apr_pool_t *p, long s)
{
    if (s % 86400 == 0 && s >= 86400)
        return apr_psprintf(p, "%ld s (%ld day%s)", s, s / 86400,
                            s == 86400 ? "" : "s");
    if (s % 3600 == 0 && s >= 3600)
        return apr_psprintf(p, "%ld s (%ld h)", s, s / 3600);
    if (s % 60 == 0 && s >= 60)
        return apr_psprintf(p, "%ld s (%ld min)", s, s / 60);
    return apr_psprintf(p, "%ld s", s);
}

const char *ui_span(apr_pool_t *p, long long s)
{
    /* Small numbers: int is enough, and APR's formatter knows no %lld. */
    int d = (int)(s / 86400), h = (int)(s % 86400 / 3600);
    int m = (int)(s % 3600 / 60);

    if (d > 0)
        return h ? apr_psprintf(p, "%d day%s %d h", d, d == 1 ? "" : "s", h)
                 : apr_psprintf(p, "%d day%s", d, d == 1 ? "" : "s");
    if (h > 0)
        return m ? apr_psprintf(p, "%d h %d min", h, m)
                 : apr_psprintf(p, "%d h", h);
    if (m > 0)
        return apr_psprintf(p, "%d min", m + (s % 60 >= 30));
    return apr_psprintf(p, "%d s", (int)s);
}

int ui_page_offset(console_t *c)
{
    const char *v = apr_table_get(c->query, "page");
    char *end;
    long n;

    if (v == NULL || *v == '\0')
        return 0;
    n = strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > 1000000)
        return 0;
    return (int)(n - 1) * CONSOLE_PAGE_SIZE;
}

int ui_clamp_offset(int offset, int total)
{
    if (total <= 0 || offset < total)
        return offset < 0 ? 0 : offset;
    return (total - 1) / CONSOLE_PAGE_SIZE * CONSOLE_PAGE_SIZE;
}

void ui_pager(console_t *c, xmlNodePtr parent, const char *base, int offset,
              int total)
{
    int page = offset / CONSOLE_PAGE_SIZE + 1;
    int pages = total ? (total + CONSOLE_PAGE_SIZE - 1) / CONSOLE_PAGE_SIZE : 1;
    const char *sep = strchr(base, '?') ? "&" : "?";
    xmlNodePtr nav = html_el(parent, "nav", NULL);

    html_attr(nav, "class", "pager");
    html_attr(nav, "aria-label", "Pages");
    if (page > 1)
        html_attr(
            html_link(nav,
                      apr_psprintf(c->pool, "%s%spage=%d", base, sep, page - 1),
                      "Previous page"),
            "rel", "prev");
    html_el(
        nav, "span",
        apr_psprintf(c->pool, "Page %d of %d (%d in all)", page, pages, total));
    if (page < pages)
        html_attr(
            html_link(nav,
                      apr_psprintf(c->pool, "%s%spage=%d", base, sep, page + 1),
                      "Next page"),
            "rel", "next");
}

const char *ui_join(apr_pool_t *p, const apr_array_header_t *a, const char *sep)
{
    const char *s = "";
    int i;

    if (a == NULL)
        return "";
    for (i = 0; i < a->nelts; i++)
        s = apr_pstrcat(p, s, i ? sep : "", APR_ARRAY_IDX(a, i, const char *),
                        NULL);
    return s;
}

int ui_registry_error(console_t *c, const char *what, const at_error_t *err)
{
    fprintf(stderr, "token-admin: AT00808: %s: %s\n", what, err->text);
    return ui_error(c, 500, "Registry error",
                    "The registry could not be read or changed. The "
                    "server's error log says why.");
}

const char *ui_app_path(console_t *c, const char *client_id, const char *tail)
{
    return apr_pstrcat(c->pool, "/apps/",
                       apr_pescape_path_segment(c->pool, client_id), tail,
                       NULL);
}

at_app_t *ui_load_app(console_t *c, const char *client_id)
{
    at_error_t err = {{0}};
    at_app_t *app = NULL;
    apr_status_t rv = at_app_get(c->reg, c->pool, client_id, &app, &err);

    if (rv == APR_SUCCESS)
        return app;
    if (APR_STATUS_IS_NOTFOUND(rv) || rv == APR_NOTFOUND)
        ui_error(c, 404, "No such application",
                 "No application has this client_id. It may have been "
                 "deleted.");
    else
        ui_registry_error(c, "reading an application", &err);
    return NULL;
}

const char *ui_self_url(console_t *c, const char *fragment)
{
    const char *url =
        console_url(c, apr_pescape_path(c->pool, c->path_info, 1));

    if (*c->query_string)
        url = apr_pstrcat(c->pool, url, "?", c->query_string, NULL);
    if (fragment)
        url = apr_pstrcat(c->pool, url, "#", fragment, NULL);
    return url;
}

const char *ui_sentence(apr_pool_t *p, const char *text)
{
    char *s = apr_pstrdup(p, text);
    size_t n = strlen(s);

    if (n == 0)
        return s;
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
    return s[n - 1] == '.' ? s : apr_pstrcat(p, s, ".", NULL);
}

/* The elements marked aria-invalid under N, in document order. */
static void find_invalid(xmlNodePtr n, apr_array_header_t *out)
{
    xmlChar *v;

    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        v = xmlGetProp(n, BAD_CAST "aria-invalid");
        if (v && xmlStrEqual(v, BAD_CAST "true"))
            APR_ARRAY_PUSH(out, xmlNodePtr) = n;
        xmlFree(v);
        find_invalid(n->children, out);
    }
}

/* The control a person lands on for a wrong field: the field itself, or
 * the first control of a fieldset. */
static xmlNodePtr first_control(xmlNodePtr n)
{
    xmlNodePtr c, hit;

    if (xmlStrEqual(n->name, BAD_CAST "input") ||
        xmlStrEqual(n->name, BAD_CAST "select") ||
        xmlStrEqual(n->name, BAD_CAST "textarea"))
        return n;
    for (c = n->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && (hit = first_control(c)) != NULL)
            return hit;
    }
    return NULL;
}

void ui_error_summary(console_t *c, xmlDocPtr doc)
{
    xmlNodePtr banner = html_by_id(doc, "form-error"), ul, li, n, ctl;
    apr_array_header_t *bad = apr_array_make(c->pool, 4, sizeof(xmlNodePtr));
    xmlChar *id, *msg;
    int i;

    if (banner == NULL)
        return;
    find_invalid(xmlDocGetRootElement(doc), bad);
    if (bad->nelts == 0) {
        html_remove(banner);
        return;
    }
    html_clear(banner);
    html_el(banner, "p",
            bad->nelts == 1
                ? "The form has a mistake; nothing was changed:"
                : apr_psprintf(c->pool,
                               "The form has %d mistakes; nothing was "
                               "changed:",
                               bad->nelts));
    ul = html_el(banner, "ul", NULL);
    for (i = 0; i < bad->nelts; i++) {
        n = APR_ARRAY_IDX(bad, i, xmlNodePtr);
        id = xmlGetProp(n, BAD_CAST "id");
        msg = NULL;
        if (id) {
            xmlNodePtr m = html_by_id(
                doc, apr_pstrcat(c->pool, (const char *)id, "-error", NULL));
            msg = m ? xmlNodeGetContent(m) : NULL;
            li = html_el(ul, "li", NULL);
            html_link(li, ui_self_url(c, (const char *)id),
                      msg ? (const char *)msg : (const char *)id);
        }
        /* The first wrong field gets the focus when the page opens. */
        if (i == 0 && (ctl = first_control(n)) != NULL)
            xmlSetProp(ctl, BAD_CAST "autofocus", BAD_CAST "autofocus");
        xmlFree(msg);
        xmlFree(id);
    }
}

int ui_send_page(console_t *c, int status, xmlDocPtr doc)
{
    ui_error_summary(c, doc);
    ui_add_csrf(c, doc);
    ui_label_tables(c, doc);
    return console_send_html(c, status, doc);
}
