/* The web console: what its files share. console_main.c runs one CGI
 * request as a short pipeline (context, registry, request, operator, CSRF,
 * dispatch); console_cgi.c reads the CGI environment and writes the answer;
 * console_csrf.c makes and checks CSRF tokens; console_secret_cookie.c
 * carries a new client secret across the Post/Redirect/Get; html.c wraps
 * libxml2 (lib/html/html.c); ui_*.c hold one group of pages each.
 *
 * What the console writes to stderr lands in httpd's error log: one line
 * per call site, "token-admin: AT008nn: ...", never a secret or token.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <libxml/tree.h>

#include "at_registry.h"

/* Request bodies above this are refused with 413. */
#define CONSOLE_MAX_BODY (64 * 1024)
/* Bodies up to this are drained before answering (httpd's
 * LimitRequestBody should stop larger ones first). */
#define CONSOLE_MAX_DRAIN (8 * 1024 * 1024)
/* Rows per list page. */
#define CONSOLE_PAGE_SIZE 25
/* Lifetime of a CSRF token, in seconds. */
#define CONSOLE_CSRF_TTL (8 * 3600)

/* One request: every CGI variable is read once, in console_cgi_read. */
typedef struct console {
    apr_pool_t *pool;
    /* CGI variables (never NULL after console_cgi_read; "" when absent). */
    const char *method; /* REQUEST_METHOD */
    const char *query_string;
    const char *content_type;
    long long content_length;  /* -1 when absent or malformed */
    long long body_read;       /* bytes of the body consumed from stdin */
    const char *remote_user;   /* "" when the server did not authenticate */
    const char *script_name;   /* URL prefix of every console link */
    const char *path_info;     /* "/" when empty */
    const char *registry_spec; /* AUTH_TOKEN_REGISTRY */
    const char *registry_file; /* the SQLite file, or NULL (another driver) */
    const char *key_file;      /* AUTH_TOKEN_CONSOLE_KEY ("": default) */
    const char *cookie;        /* HTTP_COOKIE */
    int https;                 /* HTTPS=on */
    const char *assets;        /* URL prefix of CSS and script */
    const char *htdocs;        /* directory of the templates */
    long default_access;       /* server defaults shown beside the */
    long default_refresh;      /* application's own lifetimes */

    /* Parsed request. */
    apr_table_t *query;           /* from QUERY_STRING */
    apr_table_t *form;            /* from the POST body (empty for GET) */
    apr_array_header_t *segments; /* PATH_INFO split on '/', decoded */
    int is_post;

    /* State. */
    at_registry_t *reg;
    const char *csrf_key_path;
    unsigned char csrf_key[32];
    const char *csrf_token; /* for this operator, put into every form */

    /* The answer. */
    apr_table_t *headers_out; /* extra headers (Set-Cookie, Location) */
} console_t;

/* ---- console_cgi.c ---------------------------------------------------- */

/* Fills C's CGI fields from the environment. */
void console_cgi_read(console_t *c);
/* Parses QUERY_STRING and PATH_INFO. Returns 0, or an HTTP status (400)
 * with *why set when they are not UTF-8. */
int console_parse_request(console_t *c, const char **why);
/* Reads and parses an application/x-www-form-urlencoded POST body from
 * stdin. Returns 0, or an HTTP status: 411 without CONTENT_LENGTH, 413
 * above CONSOLE_MAX_BODY, 415 for another content type, 400 for a
 * malformed or non-UTF-8 body; *why says what. */
int console_read_form(console_t *c, const char **why);
/* Reads and discards what is left of the request body, at most
 * CONSOLE_MAX_DRAIN bytes: httpd writes the whole body to the CGI before
 * it reads the answer, so an answer given without reading the body (413,
 * 403...) would otherwise be lost to a broken pipe. */
void console_drain_body(console_t *c);
/* Decodes one %xx/+ component (apr_punescape_url). NULL for a bad escape,
 * %00 or text that is not UTF-8. */
char *console_url_decode(apr_pool_t *p, const char *s, size_t len);
/* S form-encoded for a query value (apr_pescape_urlencoded). */
const char *console_url_encode(apr_pool_t *p, const char *s);
/* 1 when S (LEN bytes) is well-formed UTF-8 without NUL. */
int console_utf8_valid(const char *s, size_t len);
/* A link inside the console: SCRIPT_NAME + PATH (which starts with '/'). */
const char *console_url(console_t *c, const char *path);
/* The value of a form field (POST) or query parameter (GET); "" when
 * missing. */
const char *console_param(console_t *c, const char *name);
/* Writes the headers every page carries, then STATUS and the document
 * DOC serialised as HTML5 (DOC is freed). Pages go through ui_send_page,
 * which finishes them first. */
int console_send_html(console_t *c, int status, xmlDocPtr doc);
/* 303 See Other to PATH inside the console (Post/Redirect/Get). */
int console_redirect(console_t *c, const char *path);
/* A cookie value from HTTP_COOKIE, or NULL. */
const char *console_cookie(console_t *c, const char *name);

/* ---- console_csrf.c --------------------------------------------------- */

/* Loads (creating on first use) the CSRF key beside the registry file.
 * Returns 0, or -1 with *why set. */
int console_csrf_init(console_t *c, const char **why);
/* A token for the operator C->remote_user, valid CONSOLE_CSRF_TTL. */
const char *console_csrf_token(console_t *c);
/* 1 when TOKEN was made for C->remote_user by console_csrf_token and has
 * not expired; compared in constant time. */
int console_csrf_check(console_t *c, const char *token);
/* 1 when TOKEN was made for C->remote_user by this console but is older
 * than CONSOLE_CSRF_TTL: the form is genuine, only late, so its input may
 * be offered back for sending again. */
int console_csrf_expired(console_t *c, const char *token);
/* HMAC-SHA256 of DATA under the console key with a purpose label, for
 * other short-lived values (console_secret_cookie.c). OUT gets 32 bytes. */
void console_key_derive(console_t *c, const char *purpose,
                        unsigned char out[32]);

/* ---- console_secret_cookie.c ------------------------------------------ */

/* After creating an application or rotating its secret, the secret rides
 * an encrypted, short-lived cookie to the page that shows it once. */
void console_secret_cookie_set(console_t *c, const char *client_id,
                               const char *secret);
/* The secret for CLIENT_ID from the cookie (and the cookie is cleared),
 * or NULL when there is none, it expired, or it belongs to another
 * operator or application. */
const char *console_secret_cookie_take(console_t *c, const char *client_id);

/* ---- ui_chrome.c: the shared page frame ------------------------------- */

/* A new page from htdocs/layout.xhtml with TITLE, the navigation (CURRENT
 * marks the active entry: "dashboard", "apps", "scopes", "audit"), and
 * the page template BODY (an htdocs/ file name, or NULL) moved into
 * <main>. *main receives the <main> element. NULL when a template cannot
 * be read (already answered with 500). */
xmlDocPtr ui_page(console_t *c, const char *title, const char *current,
                  const char *body, xmlNodePtr *main);
/* A complete error page: STATUS, a heading and one paragraph. */
int ui_error(console_t *c, int status, const char *heading, const char *text);
/* The page asking the administrator to put the console behind Apache
 * authentication (403). */
int ui_no_operator(console_t *c);
/* An error page without the template files (they could not be read). */
int ui_error_bare(console_t *c, int status, const char *text);
/* Logs ERR (with WHAT) to stderr and answers 500. */
int ui_registry_error(console_t *c, const char *what, const at_error_t *err);
/* The application CLIENT_ID, or NULL after answering 404 (unknown) or 500.
 */
at_app_t *ui_load_app(console_t *c, const char *client_id);
/* The console path of an application's page: "/apps/<client_id>" + TAIL
 * ("" or "/edit"...), the client_id %-encoded as a path segment. */
const char *ui_app_path(console_t *c, const char *client_id, const char *tail);
/* Copies each table's column headers to its cells as data-label (the
 * narrow-screen layout shows rows as labelled cards). */
void ui_label_tables(console_t *c, xmlDocPtr doc);
/* Puts the CSRF token into every <form method="post"> of DOC. */
void ui_add_csrf(console_t *c, xmlDocPtr doc);
/* A notice at the top of MAIN ("saved", "deleted") from ?done=... */
void ui_flash(console_t *c, xmlNodePtr main);
/* Formats a time as "2026-01-31 12:00:00 UTC"; "-" for 0. */
const char *ui_time(apr_pool_t *p, long long t);
/* "600 s (10 min)" style text for a lifetime. */
const char *ui_duration(apr_pool_t *p, long seconds);
/* A span of time in words for people: "45 s", "9 min", "2 h 5 min",
 * "3 days 4 h". */
const char *ui_span(apr_pool_t *p, long long seconds);
/* Appends a pager (previous / "page N of M" / next) for a list of TOTAL
 * rows at OFFSET to PARENT; BASE is the list URL with its filters
 * (query already started or not: the function adds ? or &). */
void ui_pager(console_t *c, xmlNodePtr parent, const char *base, int offset,
              int total);
/* Parses ?page=N (1-based) into an offset; bad values give 0. */
int ui_page_offset(console_t *c);
/* OFFSET moved onto the last page when it lies beyond TOTAL rows. */
int ui_clamp_offset(int offset, int total);
/* This page's own address (path and query), with #FRAGMENT when not NULL:
 * links within the page that stay right on a page answering a POST. */
const char *ui_self_url(console_t *c, const char *fragment);
/* TEXT (a registry message such as "name must not be empty") as a
 * sentence: capital first letter, final period. */
const char *ui_sentence(apr_pool_t *p, const char *text);
/* Fills DOC's #form-error banner with one link per field marked
 * aria-invalid (to the field, with its message) and gives the first wrong
 * field the focus; removes the banner when no field is wrong. Called for
 * every page by ui_send_page. */
void ui_error_summary(console_t *c, xmlDocPtr doc);
/* Finishes a page (error summary, CSRF tokens in its forms, labelled
 * table cells) and sends it with console_send_html (DOC is freed). */
int ui_send_page(console_t *c, int status, xmlDocPtr doc);
/* A confirmation page (200) before something that cannot be undone:
 * TITLE asks, TEXTS (NULL-terminated paragraphs) say what stops working;
 * its form POSTs to ACTION (a console path) the request's own fields KEEP
 * (NULL-terminated names) and confirm=yes; BUTTON (danger style) does it,
 * Cancel goes back to CANCEL. */
int ui_confirm(console_t *c, const char *title, const char *current,
               const char *const *texts, const char *action,
               const char *const *keep, const char *button, const char *cancel);
/* 1 when the POST carries confirm=yes (it came from ui_confirm's page). */
int ui_confirmed(console_t *c);
/* The answer to a POST whose CSRF token is genuine but expired: 403, the
 * input kept and offered to be sent again with a fresh token. */
int ui_resubmit(console_t *c);
/* Joins an array of strings with SEP. */
const char *ui_join(apr_pool_t *p, const apr_array_header_t *a,
                    const char *sep);

/* ---- page handlers (ui_*.c) ------------------------------------------- */
int ui_dashboard(console_t *c);
int ui_apps_list(console_t *c);
int ui_app_new(console_t *c);
int ui_app_show(console_t *c, const char *client_id);
int ui_app_edit(console_t *c, const char *client_id);
int ui_app_secret(console_t *c, const char *client_id);
int ui_app_rotate(console_t *c, const char *client_id);
int ui_app_end_old_secrets(console_t *c, const char *client_id);
int ui_app_enable(console_t *c, const char *client_id, int enabled);
int ui_app_delete(console_t *c, const char *client_id);
int ui_grants(console_t *c, const char *client_id);
int ui_grant_revoke(console_t *c, const char *client_id);
int ui_jti_revoke(console_t *c, const char *client_id);
int ui_revoke_all(console_t *c, const char *client_id);
int ui_consents(console_t *c, const char *client_id);
int ui_consent_revoke(console_t *c, const char *client_id);
int ui_scopes(console_t *c);
/* The scope is named by ?name= (edit) or the form's name (delete): scope
 * names may hold '/'. The argument is unused. */
int ui_scope_edit(console_t *c, const char *unused);
int ui_scope_delete(console_t *c, const char *unused);
int ui_audit(console_t *c);

#endif /* CONSOLE_H */
