/* console_cgi.c: the CGI boundary of the console. Every environment
 * variable the console uses is read here, in console_cgi_read, and every
 * byte of the answer leaves through ui_send_page or console_redirect,
 * which add the security headers every page carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_escape.h>

#include "console.h"
#include "html.h"

/* Script sources and styles only from this origin, no framing, forms only
 * back to the console. */
#define CONSOLE_CSP                                                            \
    "default-src 'self'; script-src 'self'; style-src 'self'; "                \
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "             \
    "base-uri 'none'; object-src 'none'"

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v ? v : "";
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    char *end;
    long n;

    if (v == NULL || *v == '\0')
        return dflt;
    n = strtol(v, &end, 10);
    return (*end == '\0' && n >= 0) ? n : dflt;
}

/* Where the templates are: AUTH_TOKEN_CONSOLE_HTDOCS, or beside the binary
 * (the build tree's htdocs/, or an installed share/mod_auth_token/htdocs). */
static const char *find_htdocs(apr_pool_t *p)
{
    const char *v = getenv("AUTH_TOKEN_CONSOLE_HTDOCS");
    char exe[4096], *slash;
    ssize_t n;
    const char *cand;

    if (v && *v)
        return v;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')) != NULL)
            *slash = '\0';
        cand = apr_pstrcat(p, exe, "/../htdocs", NULL);
        if (access(apr_pstrcat(p, cand, "/layout.xhtml", NULL), R_OK) == 0)
            return cand;
        cand = apr_pstrcat(p, exe, "/../share/mod_auth_token/htdocs", NULL);
        if (access(apr_pstrcat(p, cand, "/layout.xhtml", NULL), R_OK) == 0)
            return cand;
    }
    return "/usr/share/mod_auth_token/htdocs";
}

void console_cgi_read(console_t *c)
{
    const char *cl = getenv("CONTENT_LENGTH");
    char *end;

    c->method = env("REQUEST_METHOD");
    c->query_string = env("QUERY_STRING");
    c->content_type = env("CONTENT_TYPE");
    c->content_length = -1;
    if (cl && *cl) {
        long long n = strtoll(cl, &end, 10);
        if (*end == '\0' && n >= 0)
            c->content_length = n;
    }
    c->remote_user = env("REMOTE_USER");
    c->script_name = env("SCRIPT_NAME");
    c->path_info = *env("PATH_INFO") ? env("PATH_INFO") : "/";
    c->registry_spec = env("AUTH_TOKEN_REGISTRY");
    c->key_file = env("AUTH_TOKEN_CONSOLE_KEY");
    c->cookie = env("HTTP_COOKIE");
    c->https = strcasecmp(env("HTTPS"), "on") == 0;
    c->assets = *env("AUTH_TOKEN_CONSOLE_ASSETS")
                    ? env("AUTH_TOKEN_CONSOLE_ASSETS")
                    : "/console-assets";
    c->htdocs = find_htdocs(c->pool);
    /* The console cannot read httpd's configuration; the server defaults
     * it shows come from SetEnv, else the documented defaults. */
    c->default_access = env_long("AUTH_TOKEN_ACCESS_LIFETIME", 600);
    c->default_refresh = env_long("AUTH_TOKEN_REFRESH_LIFETIME", 2592000);
    c->is_post = strcmp(c->method, "POST") == 0;
    c->query = apr_table_make(c->pool, 8);
    c->form = apr_table_make(c->pool, 8);
    c->segments = apr_array_make(c->pool, 4, sizeof(const char *));
    c->headers_out = apr_table_make(c->pool, 4);
}

/* APR has no UTF-8 check; this one also refuses NUL, which the form
 * decoder lets through as a byte of a LEN-long value. */
int console_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k, j;

    while (i < len) {
        if (u[i] == 0)
            return 0;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        if (u[i] >= 0xc2 && u[i] <= 0xdf)
            k = 2;
        else if (u[i] >= 0xe0 && u[i] <= 0xef)
            k = 3;
        else if (u[i] >= 0xf0 && u[i] <= 0xf4)
            k = 4;
        else
            return 0;
        if (i + k > len)
            return 0;
        for (j = 1; j < k; j++) {
            if ((u[i + j] & 0xc0) != 0x80)
                return 0;
        }
        /* Overlong three/four-byte forms, surrogates, beyond U+10FFFF. */
        if ((u[i] == 0xe0 && u[i + 1] < 0xa0) ||
            (u[i] == 0xed && u[i + 1] >= 0xa0) ||
            (u[i] == 0xf0 && u[i + 1] < 0x90) ||
            (u[i] == 0xf4 && u[i + 1] >= 0x90))
            return 0;
        i += k;
    }
    return 1;
}

char *console_url_decode(apr_pool_t *p, const char *s, size_t len)
{
    /* APR's decoder refuses a bad or cut-off escape and %00; '+' is a
     * space in form encoding. */
    const char *out =
        apr_punescape_url(p, apr_pstrmemdup(p, s, len), NULL, NULL, 1);

    if (out == NULL || !console_utf8_valid(out, strlen(out)))
        return NULL;
    return (char *)out;
}

const char *console_url_encode(apr_pool_t *p, const char *s)
{
    return apr_pescape_urlencoded(p, s);
}

/* HTML forms send each line break of a textarea as CR LF (the form
 * encoding's "normalize newlines"); the console keeps LF, as a textarea's
 * value has it, so that a line break stays one line break on the way in
 * and on the way back into a form. A lone CR becomes LF too. */
static void fold_newlines(char *v)
{
    char *o = v;

    for (; *v; v++) {
        if (*v == '\r') {
            *o++ = '\n';
            if (v[1] == '\n')
                v++;
        } else {
            *o++ = *v;
        }
    }
    *o = '\0';
}

/* Splits an urlencoded string into T. Returns 0 or -1 on a bad escape or
 * non-UTF-8 text. The splitting is the console's own (APR has no form
 * parser; apreq is not part of it) so that it can be strict: one bad
 * field refuses the whole form instead of being skipped. */
static int parse_urlencoded(apr_pool_t *p, const char *s, size_t len,
                            apr_table_t *t)
{
    size_t i = 0, start, eq;
    char *k, *v;

    while (i < len) {
        start = i;
        while (i < len && s[i] != '&' && s[i] != ';')
            i++;
        if (i > start) {
            eq = start;
            while (eq < i && s[eq] != '=')
                eq++;
            k = console_url_decode(p, s + start, eq - start);
            v = eq < i ? console_url_decode(p, s + eq + 1, i - eq - 1)
                       : apr_pstrdup(p, "");
            if (k == NULL || v == NULL)
                return -1;
            fold_newlines(v);
            apr_table_addn(t, k, v);
        }
        i++;
    }
    return 0;
}

/* A fragment never reaches a server from a browser, and no console
 * address holds a '#' of its own (a scope name travels %-encoded): what
 * follows one came from a client that did not strip it, and is dropped. */
static const char *no_fragment(apr_pool_t *p, const char *s)
{
    const char *hash = strchr(s, '#');

    return hash ? apr_pstrmemdup(p, s, (apr_size_t)(hash - s)) : s;
}

int console_parse_request(console_t *c, const char **why)
{
    const char *s;
    const char *seg;
    char *d;

    c->path_info = no_fragment(c->pool, c->path_info);
    c->query_string = no_fragment(c->pool, c->query_string);
    s = c->path_info;
    if (parse_urlencoded(c->pool, c->query_string, strlen(c->query_string),
                         c->query) != 0) {
        *why = "The address holds a malformed or non-UTF-8 parameter.";
        return 400;
    }
    /* PATH_INFO arrives decoded from httpd; it is split as it is. */
    if (!console_utf8_valid(s, strlen(s))) {
        *why = "The address is not UTF-8.";
        return 400;
    }
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        seg = s;
        while (*s && *s != '/')
            s++;
        d = apr_pstrmemdup(c->pool, seg, (apr_size_t)(s - seg));
        APR_ARRAY_PUSH(c->segments, const char *) = d;
    }
    return 0;
}

int console_read_form(console_t *c, const char **why)
{
    char *body;
    size_t got = 0, n;
    const char *ct = c->content_type;
    size_t ctlen = strcspn(ct, ";");

    while (ctlen > 0 && ct[ctlen - 1] == ' ')
        ctlen--;
    if (ctlen != strlen("application/x-www-form-urlencoded") ||
        strncasecmp(ct, "application/x-www-form-urlencoded", ctlen) != 0) {
        *why = "Forms must be sent as application/x-www-form-urlencoded.";
        return 415;
    }
    if (c->content_length < 0) {
        *why = "The request has no Content-Length.";
        return 411;
    }
    if (c->content_length > CONSOLE_MAX_BODY) {
        *why = "The form is larger than the console accepts (64 KiB).";
        return 413;
    }
    body = apr_palloc(c->pool, (apr_size_t)c->content_length + 1);
    while (got < (size_t)c->content_length) {
        n = fread(body + got, 1, (size_t)c->content_length - got, stdin);
        if (n == 0)
            break;
        got += n;
    }
    c->body_read = (long long)got;
    if (got != (size_t)c->content_length) {
        *why = "The form arrived incomplete.";
        return 400;
    }
    body[got] = '\0';
    if (parse_urlencoded(c->pool, body, got, c->form) != 0) {
        *why = "The form holds a malformed or non-UTF-8 field.";
        return 400;
    }
    return 0;
}

void console_drain_body(console_t *c)
{
    char buf[16384];
    size_t n, want;

    while (c->content_length > c->body_read &&
           c->body_read < CONSOLE_MAX_DRAIN) {
        want = sizeof(buf);
        if ((long long)want > c->content_length - c->body_read)
            want = (size_t)(c->content_length - c->body_read);
        if ((n = fread(buf, 1, want, stdin)) == 0)
            break;
        c->body_read += (long long)n;
    }
}

const char *console_url(console_t *c, const char *path)
{
    return apr_pstrcat(c->pool, c->script_name, path, NULL);
}

const char *console_param(console_t *c, const char *name)
{
    const char *v = apr_table_get(c->is_post ? c->form : c->query, name);

    return v ? v : "";
}

/* APR has no cookie parser (apreq is not part of it); the console reads
 * one cookie of its own, whose value is hex, so a plain split on ';' is
 * all it needs. */
const char *console_cookie(console_t *c, const char *name)
{
    size_t nl = strlen(name);
    const char *s = c->cookie, *end;

    while (*s) {
        while (*s == ' ' || *s == ';')
            s++;
        end = s + strcspn(s, ";");
        if ((size_t)(end - s) > nl && strncmp(s, name, nl) == 0 && s[nl] == '=')
            return apr_pstrmemdup(c->pool, s + nl + 1,
                                  (apr_size_t)(end - s - nl - 1));
        s = end;
    }
    return NULL;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 303:
        return "See Other";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

static int print_extra(void *rec, const char *key, const char *value)
{
    printf("%s: %s\r\n", key, value);
    return 1;
}

/* Status line and the headers of every answer. No answer is cached: the
 * pages show operators' data and, once, secrets. */
static void send_headers(console_t *c, int status, const char *type)
{
    printf("Status: %d %s\r\n", status, reason(status));
    if (type)
        printf("Content-Type: %s\r\n", type);
    printf("Content-Security-Policy: " CONSOLE_CSP "\r\n"
           "Referrer-Policy: no-referrer\r\n"
           "X-Content-Type-Options: nosniff\r\n"
           "X-Frame-Options: DENY\r\n"
           "Cache-Control: no-store\r\n");
    apr_table_do(print_extra, NULL, c->headers_out, NULL);
    printf("\r\n");
}

int console_send_html(console_t *c, int status, xmlDocPtr doc)
{
    size_t len;
    const char *html;

    html = html_serialize(c->pool, doc, &len);
    xmlFreeDoc(doc);
    send_headers(c, status, "text/html; charset=utf-8");
    if (strcmp(c->method, "HEAD") != 0)
        fwrite(html, 1, len, stdout);
    fflush(stdout);
    return 0;
}

int console_redirect(console_t *c, const char *path)
{
    apr_table_setn(c->headers_out, "Location", console_url(c, path));
    send_headers(c, 303, NULL);
    fflush(stdout);
    return 0;
}
