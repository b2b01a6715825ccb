/* The pages the issuer shows a person (the consent page, their list of
 * applications, the authorization endpoint's error page): XHTML templates
 * from htdocs/, filled through libxml2 like the console's (lib/html), with
 * the console's stylesheet inlined so that no other URL has to be served.
 *
 * The templates are read once per configuration pass in post_config,
 * while httpd still runs as root (the build tree may be unreadable to the
 * server's User), into the main server's configuration (at_pages_t, from
 * the configuration pool: children inherit it, a restart reads them
 * again); a request parses its template from memory. Every page
 * carries no-store and cannot be framed (frame-ancestors 'none',
 * X-Frame-Options DENY); its Content-Security-Policy allows nothing but
 * the inlined stylesheet, by its hash.
 */
#include <dlfcn.h>
#include <string.h>

#include <openssl/evp.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_file_io.h"
#include "apr_strings.h"

#include <libxml/parser.h>

#include "mod_auth_token.h"
#include "issuer_delegated.h"
#include "html.h"

APLOG_USE_MODULE(auth_token);

#ifndef AT_HTDOCS_DIR
#define AT_HTDOCS_DIR "/usr/local/share/mod_auth_token/htdocs"
#endif

static const char *const template_names[] = {
    "consent.xhtml", "consents.xhtml", "oauth-error.xhtml", NULL};
/* The console's stylesheet, then the few rules of the person's pages. */
static const char *const css_names[] = {"console.css", "consent.css", NULL};

/* What post_config read, hung off the main server's configuration. */
typedef struct at_pages {
    const char *templates[3]; /* by template_names; NULL: unreadable */
    apr_size_t template_lens[3];
    const char *css;          /* the inlined stylesheet */
    const char *csp;          /* its Content-Security-Policy */
    const char *htdocs_dir;   /* where they were read, for messages */
} at_pages_t;

/* The main server's pages: the configuration of a virtual host is merged
 * before post_config, so only the main server's has them. NULL before
 * post_config. */
static const at_pages_t *pages(void)
{
    return ap_server_conf ? at_srv_conf(ap_server_conf)->pages : NULL;
}

/* The build tree's htdocs/ when the module runs from it, else the
 * installed directory. */
static const char *find_htdocs(apr_pool_t *p)
{
    Dl_info info;
    apr_finfo_t fi;

    if (dladdr((void *)&auth_token_module, &info) && info.dli_fname) {
        const char *dir = apr_pstrcat(
            p, ap_make_dirstr_parent(p, info.dli_fname), "../htdocs", NULL);

        if (apr_stat(&fi, apr_pstrcat(p, dir, "/consent.xhtml", NULL),
                     APR_FINFO_TYPE, p) == APR_SUCCESS) {
            return dir;
        }
    }
    return AT_HTDOCS_DIR;
}

static const char *read_file(apr_pool_t *p, const char *dir, const char *name,
                             apr_size_t *len, apr_status_t *rv)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf = NULL;

    *rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (*rv != APR_SUCCESS) {
        return NULL;
    }
    *rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (*rv == APR_SUCCESS) {
        buf = apr_palloc(p, (apr_size_t)fi.size + 1);
        *rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, len);
        buf[*rv == APR_SUCCESS ? *len : 0] = '\0';
    }
    apr_file_close(f);
    return *rv == APR_SUCCESS ? buf : NULL;
}

/* 'sha256-<base64>' of TEXT, for the policy's style-src. */
static const char *style_hash(apr_pool_t *p, const char *text)
{
    unsigned char md[32];
    unsigned char b64[64];
    unsigned int mdlen = 0;

    EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
    EVP_EncodeBlock(b64, md, (int)mdlen);
    return apr_psprintf(p, "'sha256-%s'", b64);
}

void at_pages_post_config(apr_pool_t *pconf, server_rec *s)
{
    at_pages_t *pg = apr_pcalloc(pconf, sizeof(*pg));
    const char *parts[2] = {NULL, NULL};
    apr_status_t rv;
    apr_size_t len;
    int i;

    /* libxml2 sets up its globals once, before any thread parses. */
    xmlInitParser();
    pg->htdocs_dir = find_htdocs(pconf);
    for (i = 0; template_names[i]; i++) {
        pg->templates[i] = read_file(pconf, pg->htdocs_dir, template_names[i],
                                     &pg->template_lens[i], &rv);
        if (!pg->templates[i]) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                         "AT01251: cannot read the page template %s/%s: "
                         "oauth-authorize and oauth-consents will answer "
                         "500 (make install puts the templates there)",
                         pg->htdocs_dir, template_names[i]);
        }
    }
    for (i = 0; css_names[i]; i++) {
        parts[i] = read_file(pconf, pg->htdocs_dir, css_names[i], &len, &rv);
        if (!parts[i]) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                         "AT01252: cannot read the stylesheet %s/%s: the "
                         "person's pages will be unstyled", pg->htdocs_dir,
                         css_names[i]);
            parts[i] = "";
        }
    }
    /* One <style> element: one hash for the policy. */
    pg->css = html_clean(pconf, apr_pstrcat(pconf, parts[0], "\n", parts[1],
                                            NULL));
    pg->csp = apr_pstrcat(pconf, "default-src 'none'; style-src ",
                          style_hash(pconf, pg->css),
                          "; frame-ancestors 'none'; base-uri 'none'", NULL);
    at_srv_conf(s)->pages = pg;
}

xmlDocPtr at_page_new(request_rec *r, const char *name)
{
    const at_pages_t *pg = pages();
    xmlDocPtr doc = NULL;
    xmlNodePtr style;
    int i;

    for (i = 0; template_names[i] && strcmp(template_names[i], name); i++) {
    }
    if (pg && template_names[i] && pg->templates[i]) {
        /* No network, no entity expansion: the templates are ours, but a
         * parse of memory should never reach further. */
        doc = xmlReadMemory(pg->templates[i], (int)pg->template_lens[i], name,
                            "UTF-8",
                            XML_PARSE_NONET | XML_PARSE_NOERROR
                                | XML_PARSE_NOWARNING);
    }
    if (!doc || !xmlDocGetRootElement(doc)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT01253: the page template %s/%s is missing or not "
                      "well-formed XHTML", pg ? pg->htdocs_dir : "?",
                      name);
        if (doc) {
            xmlFreeDoc(doc);
        }
        return NULL;
    }
    if ((style = html_by_id(doc, "style")) != NULL) {
        html_clear(style);
        html_text(style, pg->css);
        xmlUnsetProp(style, BAD_CAST "id");
    }
    return doc;
}

void at_page_headers(request_rec *r, apr_table_t *headers)
{
    const at_pages_t *pg = pages();

    apr_table_setn(headers, "Cache-Control", "no-store");
    apr_table_setn(headers, "Pragma", "no-cache");
    apr_table_setn(headers, "Content-Security-Policy",
                   pg ? pg->csp
                      : "default-src 'none'; frame-ancestors 'none'");
    apr_table_setn(headers, "X-Frame-Options", "DENY");
    apr_table_setn(headers, "X-Content-Type-Options", "nosniff");
    /* The page's URL carries the request (state, challenge): it is not
     * for the next site. */
    apr_table_setn(headers, "Referrer-Policy", "no-referrer");
}

int at_page_send(request_rec *r, int status, xmlDocPtr doc)
{
    const char *html;
    size_t len;

    html = html_serialize(r->pool, doc, &len);
    xmlFreeDoc(doc);
    r->status = status;
    at_page_headers(r, r->headers_out);
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_set_content_length(r, len);
    ap_rwrite(html, (int)len, r);
    return OK;
}

int at_page_begin(request_rec *r, at_conn_t **conn)
{
    if (r->method_number != M_GET && r->method_number != M_POST) {
        /* httpd's 405 names these in Allow. */
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!r->user || !*r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT01260: %s at %s was reached without an "
                      "authenticated person (no REMOTE_USER): protect the "
                      "location with Apache authentication, e.g. AuthType "
                      "Basic, AuthBasicProvider file, AuthUserFile ... and "
                      "Require valid-user", r->handler,
                      ap_escape_logitem(r->pool, r->uri));
        at_page_headers(r, r->err_headers_out);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!at_srv_issuer_name(at_srv_conf(r->server))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "AT01265: %s needs AuthTokenIssuerName and "
                      "AuthTokenRegistry", r->handler);
        at_page_headers(r, r->err_headers_out);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(*conn = at_issuer_acquire(r))) {
        at_page_headers(r, r->err_headers_out);
        return at_issuer_unavailable(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    return AT_CONTINUE;
}

int at_page_end(request_rec *r, at_conn_t *conn, int rv, int db_failed)
{
    rv = at_issuer_done(r, conn, db_failed, rv);
    if (rv >= 400) {
        /* httpd's own error page is a page for the person too. */
        at_page_headers(r, r->err_headers_out);
    }
    return rv;
}

void at_page_set_text(xmlDocPtr doc, const char *id, const char *text)
{
    xmlNodePtr n = html_by_id(doc, id);

    if (n) {
        html_clear(n);
        html_text(n, text);
    }
}
