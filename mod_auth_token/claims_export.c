/* Claims of an accepted token made visible to the rest of httpd: the
 * request environment (CGI, SSI, Require expr, logs) per AuthTokenClaimsEnv
 * and request headers for proxied backends per AuthTokenClaimsHeader.
 *
 * Names are mangled into the characters each channel allows, so a claim
 * name can never form another variable or header than PREFIX + something.
 * Client-sent headers carrying the prefix are removed first: otherwise a
 * client could pose as any claim the token does not hold. Claims whose
 * names coincide after the mapping are not exported at all (one would
 * silently shadow the other), nor is a string holding a NUL character.
 */
#include <string.h>
#include <stdlib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_hash.h"
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
                      at_log_item(r->pool, found[i]));
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

/* The claim as text: strings as they are, anything else compact JSON;
 * NULL for a string holding a NUL character (as a C string it would be
 * cut short), which is then not exported at all. */
static const char *claim_text(request_rec *r, const char *name, json_t *v)
{
    apr_pool_t *p = r->pool;
    char *dump, *copy;

    /* The common scalars without json_dumps's malloc/free round trip,
     * which under many threads mostly waits for malloc's arena locks. */
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (!at_json_text(v)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "AT01002: claim %s not exported: its value holds "
                          "a NUL character",
                          at_log_item(p, name));
        }
        return at_json_text(v);
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

/* Claims whose export names coincide: the names are compared after the
 * mapping and case-insensitively (apr_table keys, so r->subprocess_env,
 * are, and so are HTTP header names), so "a-b", "a_b" and "a.b", or
 * "Role" and "role", would overwrite one another. Both mappings turn the
 * same characters into their one punctuation mark, so a collision in one
 * channel is one in the other. Returns the folded names that more than
 * one claim maps to (each logged once), or NULL when there are none. */
static apr_hash_t *shared_names(request_rec *r, json_t *claims,
                                const char *prefix, char keep)
{
    apr_hash_t *seen, *shared = NULL;
    apr_hash_index_t *hi;
    const char *name;
    json_t *v;

    if (json_object_size(claims) < 2) {
        return NULL;
    }
    seen = apr_hash_make(r->pool);
    json_object_foreach(claims, name, v)
    {
        char *folded = mangle(r->pool, "", 0, name, '_');
        apr_array_header_t *names;

        ap_str_tolower(folded);
        names = apr_hash_get(seen, folded, APR_HASH_KEY_STRING);
        if (!names) {
            names = apr_array_make(r->pool, 1, sizeof(const char *));
            apr_hash_set(seen, folded, APR_HASH_KEY_STRING, names);
        }
        APR_ARRAY_PUSH(names, const char *) = name;
    }
    for (hi = apr_hash_first(r->pool, seen); hi; hi = apr_hash_next(hi)) {
        const void *folded;
        void *val;
        apr_array_header_t *names;

        apr_hash_this(hi, &folded, NULL, &val);
        names = val;
        if (names->nelts < 2) {
            continue;
        }
        if (!shared) {
            shared = apr_hash_make(r->pool);
        }
        apr_hash_set(shared, folded, APR_HASH_KEY_STRING, folded);
        ap_log_rerror(
            APLOG_MARK, APLOG_DEBUG, 0, r,
            "AT01001: claims %s share the exported name %s; none of them "
            "is exported",
            at_log_item(r->pool, apr_array_pstrcat(r->pool, names, ',')),
            at_log_item(r->pool,
                        mangle(r->pool, prefix, strlen(prefix),
                               APR_ARRAY_IDX(names, 0, const char *), keep)));
    }
    return shared;
}

void at_claims_export(request_rec *r, json_t *claims, const char *env_prefix,
                      const char *hdr_prefix)
{
    const char *name;
    size_t env_len, hdr_len;
    apr_hash_t *shared;
    json_t *v;

    if (!env_prefix && !hdr_prefix) {
        return;
    }
    env_len = env_prefix ? strlen(env_prefix) : 0;
    hdr_len = hdr_prefix ? strlen(hdr_prefix) : 0;
    shared = shared_names(r, claims, env_prefix ? env_prefix : hdr_prefix,
                          env_prefix ? '_' : '-');
    json_object_foreach(claims, name, v)
    {
        const char *text;

        if (shared) {
            char *folded = mangle(r->pool, "", 0, name, '_');

            ap_str_tolower(folded);
            if (apr_hash_get(shared, folded, APR_HASH_KEY_STRING)) {
                continue;
            }
        }
        text = claim_text(r, name, v);
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
                              at_log_item(r->pool, name));
                continue;
            }
            apr_table_setn(r->headers_in,
                           mangle(r->pool, hdr_prefix, hdr_len, name, '-'),
                           text);
        }
    }
}
