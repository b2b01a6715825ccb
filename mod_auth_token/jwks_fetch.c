/* One fetch of a remote key set with libcurl, under the contract's limits:
 * certificate and host-name checks (the system store, or AuthTokenFetchCA
 * alone), plain http only when the connection really went to a loopback
 * address, 5 s for the whole transfer, no redirects, no proxy from the
 * environment, at most 512 KiB of body, status 200 and a JWK Set with a
 * usable key (the unusable ones left out, as RFC 7517 section 5 asks), or
 * it is a failure with a reason.
 *
 * For an issuer trusted by discovery, its metadata comes first
 * (ISSUER/.well-known/openid-configuration, then the RFC 8414 places),
 * whose "issuer" must equal ISSUER exactly; its jwks_uri is then fetched
 * the same way. Runs in the fetcher thread of jwks_store.c, never on a
 * request.
 */
#include <string.h>

#include <curl/curl.h>

#include "httpd.h"
#include "apr_strings.h"

#include "jwks_remote.h"
#include "at_remote.h"
#include "at_jose.h"

typedef struct body {
    apr_pool_t *p;
    char *data;
    size_t len, cap;
    int too_big;
    long max_age;
    volatile int *stop;
} body_t;

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
    body_t *b = ud;
    size_t add = size * n;
    char *grown;

    if (b->len + add > AT_REMOTE_MAX_BODY) {
        b->too_big = 1;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (b->len + add + 1 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16384;
        while (b->cap < b->len + add + 1) {
            b->cap *= 2;
        }
        grown = apr_palloc(b->p, b->cap);
        if (b->len) {
            memcpy(grown, b->data, b->len);
        }
        b->data = grown;
    }
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* Cache-Control of the final answer (there is only one: no redirects). */
static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    body_t *b = ud;
    size_t len = size * n;
    long age;
    char buf[512];

    if (len > 14 && len < sizeof(buf) &&
        !strncasecmp(line, "Cache-Control:", 14)) {
        memcpy(buf, line + 14, len - 14);
        buf[len - 14] = '\0';
        age = at_remote_max_age(buf);
        if (age >= 0) {
            b->max_age = age;
        }
    }
    return len;
}

/* A child that is exiting stops waiting for a slow server. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un)
{
    body_t *b = ud;

    return b->stop && *b->stop ? 1 : 0;
}

/* Plain http: only when the address connected to is a loopback one, so a
 * name that resolves elsewhere cannot carry keys in the clear. */
static int on_prereq(void *ud, char *ip, char *local_ip, int remote_port,
                     int local_port)
{
    return at_remote_is_loopback_ip(ip) ? CURL_PREREQFUNC_OK
                                        : CURL_PREREQFUNC_ABORT;
}

/* GET URL into *OUT (NUL terminated, from P), trusting CA (NULL: the
 * system store). APR_SUCCESS on status 200; else *WHY says why. */
static apr_status_t http_get(apr_pool_t *p, const char *url, const char *ca,
                             volatile int *stop, body_t *out, const char **why)
{
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    at_error_t err = {{0}};
    CURL *c;
    CURLcode rc;
    long status = 0;
    int plain = 0;

    memset(out, 0, sizeof(*out));
    out->p = p;
    out->max_age = -1;
    out->stop = stop;
    if (at_remote_url_check(p, url, &plain, &err) != APR_SUCCESS) {
        *why = apr_psprintf(p, "%s: %s", url, err.text);
        return APR_EINVAL;
    }
    c = curl_easy_init();
    if (!c) {
        *why = apr_psprintf(p, "%s: libcurl cannot start a transfer", url);
        return APR_ENOMEM;
    }
    errbuf[0] = '\0';
    hdrs = curl_slist_append(
        hdrs, "Accept: application/jwk-set+json, application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* none from the environment */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)AT_FETCH_TIMEOUT_SEC);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)AT_REMOTE_MAX_BODY);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca) {
        /* Instead of the system store, not besides it. */
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    }
    if (plain) {
        curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_auth_token");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, out);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);

    if (out->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        *why = apr_psprintf(p, "%s: body larger than %d KiB", url,
                            AT_REMOTE_MAX_BODY / 1024);
        return APR_EINVAL;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK && plain) {
        *why = apr_psprintf(p, "%s: %s", url,
                            stop && *stop
                                ? "stopped: the process is exiting"
                                : "plain http refused: the connection did "
                                  "not go to a loopback address");
        return APR_EINVAL;
    }
    if (rc != CURLE_OK) {
        *why = apr_psprintf(p, "%s: %s", url,
                            errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return APR_EGENERAL;
    }
    if (status != 200) {
        *why = apr_psprintf(p, "%s: HTTP status %ld%s", url, status,
                            status >= 300 && status < 400
                                ? " (redirects are not followed)"
                                : ", not 200");
        return APR_EGENERAL;
    }
    if (!out->data) {
        *why = apr_psprintf(p, "%s: empty body", url);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Discovery: the jwks_uri of SRC's issuer, from the first metadata place
 * that answers with metadata for exactly that issuer. */
static apr_status_t discover(apr_pool_t *p, const at_jwks_src_t *src,
                             const char *ca, volatile int *stop,
                             const char **jwks_uri, const char **why)
{
    const char **urls = at_remote_discovery_urls(p, src->issuer);
    const char *reasons = NULL, *one;
    at_error_t err = {{0}};
    body_t b;
    int i;

    for (i = 0; urls && urls[i]; i++) {
        if (http_get(p, urls[i], ca, stop, &b, &one) == APR_SUCCESS) {
            if (at_remote_metadata_jwks_uri(p, b.data, b.len, src->issuer,
                                            jwks_uri, &err) == APR_SUCCESS) {
                return APR_SUCCESS;
            }
            one = apr_psprintf(p, "%s: %s", urls[i], err.text);
        }
        reasons = reasons ? apr_pstrcat(p, reasons, "; ", one, NULL) : one;
        if (stop && *stop) {
            break;
        }
    }
    *why = apr_psprintf(p, "no usable metadata for issuer %s: %s", src->issuer,
                        reasons ? reasons : "no URL to try");
    return APR_EINVAL;
}

apr_status_t at_fetch_jwks(apr_pool_t *p, const at_jwks_src_t *src,
                           const char *ca, volatile int *stop,
                           at_fetch_result_t *res, const char **why)
{
    const char *url = src->url;
    apr_array_header_t *keys = NULL;
    at_error_t err = {{0}};
    apr_status_t rv;
    body_t b;

    memset(res, 0, sizeof(*res));
    if (!url && (rv = discover(p, src, ca, stop, &url, why)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = http_get(p, url, ca, stop, &b, why)) != APR_SUCCESS) {
        return rv;
    }
    if (at_jwks_load_set(p, b.data, b.len, url, &keys, &res->skipped,
                         &err) != APR_SUCCESS) {
        /* "URL: key 0 ...": say what the detail is about. */
        *why = apr_psprintf(p, "%s: not a usable JWK Set: %s", url,
                            !strncmp(err.text, url, strlen(url)) &&
                                    !strncmp(err.text + strlen(url), ": ", 2)
                                ? err.text + strlen(url) + 2
                                : err.text);
        return APR_EINVAL;
    }
    if (res->skipped) {
        res->skip_why = apr_pstrdup(p, err.text);
    }
    res->text = b.data;
    res->len = b.len;
    res->max_age = b.max_age;
    res->jwks_uri = url;
    res->nkeys = keys->nelts;
    return APR_SUCCESS;
}

void at_fetch_global_init(void)
{
    /* Thread-safe since 7.84 and counted, so a second call is harmless. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
}
