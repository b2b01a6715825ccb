/* Claims of an accepted token made visible to the rest of httpd: the
 * request environment (CGI, SSI, Require expr, logs) per AuthTokenClaimsEnv
 * and request headers for proxied backends per AuthTokenClaimsHeader.
 *
 * Names are mangled into the characters each channel allows, so a claim
 * name can never form another variable or header than PREFIX + something.
 * Client-sent headers carrying the prefix are removed first: otherwise a
 * client could pose as any claim the token does not hold.
 */
#include <string.h>
#include <stdlib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

/* Header-name prefix match, case-insensitive, '_' equal to '-'. */
static int prefix_matches(const char *name, const char *prefix)
{
    for (; *prefix; name++, prefix++) {
        char a = apr_tolower(*name == '_' ? '-' : *name);
        char b = apr_tolower(*prefix == '_' ? '-' : *prefix);
        if (!*name || a != b) {
            return 0;
        }
    }
    return 1;
}

void at_claims_strip_headers(request_rec *r, const char *prefix)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *found[8];
    int i, n = 0, more = 0;

    /* Collect first: unsetting while walking the table would skip
     * entries. */
    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && prefix_matches(e[i].key, prefix)) {
            if (n < (int)(sizeof(found) / sizeof(found[0]))) {
                found[n++] = apr_pstrdup(r->pool, e[i].key);
            } else {
                more = 1;
            }
        }
    }
    for (i = 0; i < n; i++) {
        apr_table_unset(r->headers_in, found[i]);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "AT00301: removed client-sent header %s (it carries "
                      "the AuthTokenClaimsHeader prefix)",
                      found[i]);
    }
    if (more) {
        /* Rare (a client sending more than eight): start over. */
        at_claims_strip_headers(r, prefix);
    }
}

/* PREFIX + NAME with each character outside [A-Za-z0-9] and the one
 * allowed punctuation mark KEEP turned into KEEP. */
static char *mangle(apr_pool_t *p, const char *prefix, size_t plen,
                    const char *name, char keep)
{
    size_t nlen = strlen(name), i;
    char *out = apr_palloc(p, plen + nlen + 1);

    memcpy(out, prefix, plen);
    for (i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)name[i];
        out[plen + i] = (apr_isalnum(c) && c < 0x80) ? (char)c : keep;
    }
    out[plen + nlen] = '\0';
    return out;
}

/* The claim as text: strings as they are, anything else compact JSON. */
static const char *claim_text(apr_pool_t *p, json_t *v)
{
    char *dump, *copy;

    /* The common scalars without json_dumps's malloc/free round trip,
     * which under many threads mostly waits for malloc's arena locks. */
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        return apr_off_t_toa(p, (apr_off_t)json_integer_value(v));
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    default:
        break;
    }
    dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!dump) {
        return NULL;
    }
    copy = apr_pstrdup(p, dump);
    free(dump);
    return copy;
}

static int has_control_char(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

void at_claims_export(request_rec *r, json_t *claims, const char *env_prefix,
                      const char *hdr_prefix)
{
    const char *name;
    size_t env_len, hdr_len;
    json_t *v;

    if (!env_prefix && !hdr_prefix) {
        return;
    }
    env_len = env_prefix ? strlen(env_prefix) : 0;
    hdr_len = hdr_prefix ? strlen(hdr_prefix) : 0;
    json_object_foreach(claims, name, v)
    {
        const char *text = claim_text(r->pool, v);

        if (!text) {
            continue;
        }
        if (env_prefix) {
            apr_table_setn(r->subprocess_env,
                           mangle(r->pool, env_prefix, env_len, name, '_'),
                           text);
        }
        if (hdr_prefix) {
            if (has_control_char(text)) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                              "AT00302: claim %s not exported as a header: "
                              "its value holds a control character",
                              mangle(r->pool, "", 0, name, '-'));
                continue;
            }
            apr_table_setn(r->headers_in,
                           mangle(r->pool, hdr_prefix, hdr_len, name, '-'),
                           text);
        }
    }
}
