/* Rules for remote key sets (see at_remote.h). The URL rule is decided on
 * the host apr_uri_parse finds, never on a string prefix, so that
 * "http://127.0.0.1.example.net/" or "http://127.0.0.1@example.net/" is
 * not taken for loopback. */
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>

#include "at_jose.h"
#include "at_remote.h"

int at_remote_is_loopback_ip(const char *text)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (text == NULL) {
        return 0;
    }
    if (inet_pton(AF_INET, text, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6)) {
            return 1;
        }
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return 0;
}

/* localhost (and "localhost." ) never leaves the machine: curl answers it
 * itself since 7.78, without asking DNS or /etc/hosts. */
static int is_loopback_host(const char *host)
{
    return !strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.")
           || at_remote_is_loopback_ip(host);
}

apr_status_t at_remote_url_check(apr_pool_t *p, const char *url, int *plain,
                                 at_error_t *err)
{
    apr_uri_t u;
    const char *c;

    for (c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            at_error_set(err, "the URL holds a space or a character outside "
                              "visible ASCII");
            return APR_EINVAL;
        }
    }
    if (apr_uri_parse(p, url, &u) != APR_SUCCESS || u.scheme == NULL
        || u.hostname == NULL || !*u.hostname) {
        at_error_set(err, "not an absolute URL with a host");
        return APR_EINVAL;
    }
    if (u.user != NULL || u.password != NULL) {
        at_error_set(err, "user information in the URL is not supported");
        return APR_EINVAL;
    }
    if (u.fragment != NULL) {
        at_error_set(err, "a URL to fetch has no #fragment");
        return APR_EINVAL;
    }
    if (!strcasecmp(u.scheme, "https")) {
        if (plain != NULL) {
            *plain = 0;
        }
        return APR_SUCCESS;
    }
    if (strcasecmp(u.scheme, "http") != 0) {
        at_error_set(err, "scheme %.16s is not fetched; use https://",
                     u.scheme);
        return APR_EINVAL;
    }
    if (!is_loopback_host(u.hostname)) {
        at_error_set(err, "plain http:// is allowed only to a loopback "
                          "address (127.0.0.1, [::1], localhost), not to "
                          "%.64s; use https://",
                     u.hostname);
        return APR_EINVAL;
    }
    if (plain != NULL) {
        *plain = 1;
    }
    return APR_SUCCESS;
}

long at_remote_max_age(const char *cc)
{
    const char *s = cc, *v;
    char *end;
    long n;

    while (s != NULL && *s) {
        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        if (!strncasecmp(s, "max-age", 7)) {
            v = s + 7;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            if (*v == '=') {
                v++;
                while (*v == ' ' || *v == '\t') {
                    v++;
                }
                if (*v == '"') {
                    v++;
                }
                if (apr_isdigit(*v)) {
                    errno = 0;
                    n = strtol(v, &end, 10);
                    if (errno == 0 && (*end == '\0' || *end == ','
                                       || *end == ' ' || *end == '\t'
                                       || *end == '"' || *end == ';'
                                       || *end == '\r' || *end == '\n')) {
                        return n;
                    }
                }
            }
        }
        s = strchr(s, ',');
    }
    return -1;
}

long at_remote_ttl(long max_age, long refresh)
{
    if (max_age >= AT_REMOTE_MAX_AGE_MIN && max_age <= AT_REMOTE_MAX_AGE_MAX) {
        return max_age;
    }
    return refresh;
}

const char **at_remote_discovery_urls(apr_pool_t *p, const char *issuer)
{
    apr_uri_t u;
    const char **urls;
    const char *base, *path, *authority_end;
    size_t n;
    int i = 0;

    if (apr_uri_parse(p, issuer, &u) != APR_SUCCESS || u.scheme == NULL
        || u.hostname == NULL || u.query != NULL || u.fragment != NULL) {
        return NULL;
    }
    /* One trailing "/" is not part of the path (OpenID Connect Discovery
     * 1.0 section 4.1). */
    n = strlen(issuer);
    base = n && issuer[n - 1] == '/' ? apr_pstrndup(p, issuer, n - 1) : issuer;
    authority_end = strstr(base, "://");
    if (authority_end == NULL) {
        return NULL;
    }
    authority_end += 3;
    authority_end += strcspn(authority_end, "/");
    path = authority_end; /* "" or "/realms/x" */

    urls = apr_pcalloc(p, 4 * sizeof(*urls));
    urls[i++] = apr_pstrcat(p, base, "/.well-known/openid-configuration",
                            NULL);
    urls[i++] = apr_pstrcat(p, apr_pstrndup(p, base, path - base),
                            "/.well-known/oauth-authorization-server", path,
                            NULL);
    if (*path) {
        urls[i++] = apr_pstrcat(
            p, base, "/.well-known/oauth-authorization-server", NULL);
    }
    return urls;
}

apr_status_t at_remote_metadata_jwks_uri(apr_pool_t *p, const char *text,
                                         size_t len, const char *issuer,
                                         const char **jwks_uri,
                                         at_error_t *err)
{
    at_error_t why = {{0}};
    json_t *doc, *iss, *uri;

    doc = at_json_parse(p, text, len, &why);
    if (doc == NULL || !json_is_object(doc)) {
        at_error_set(err, "metadata is not a JSON object%s%s",
                     why.text[0] ? ": " : "", why.text);
        return APR_EINVAL;
    }
    iss = json_object_get(doc, "issuer");
    if (!json_is_string(iss)) {
        at_error_set(err, "metadata has no \"issuer\" string");
        return APR_EINVAL;
    }
    /* Exactly, byte for byte (OpenID Connect Discovery 1.0 section 4.3,
     * RFC 8414 section 3.3): metadata for another issuer must not lend it
     * our trust. */
    if (json_string_length(iss) != strlen(issuer)
        || memcmp(json_string_value(iss), issuer, strlen(issuer)) != 0) {
        at_error_set(err, "metadata names issuer \"%.80s\", not the trusted "
                          "one",
                     json_string_value(iss));
        return APR_EINVAL;
    }
    uri = json_object_get(doc, "jwks_uri");
    if (!json_is_string(uri) || json_string_length(uri) == 0) {
        at_error_set(err, "metadata has no \"jwks_uri\" string");
        return APR_EINVAL;
    }
    *jwks_uri = apr_pstrdup(p, json_string_value(uri));
    if (at_remote_url_check(p, *jwks_uri, NULL, &why) != APR_SUCCESS) {
        at_error_set(err, "jwks_uri %.120s refused: %s", *jwks_uri, why.text);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}
