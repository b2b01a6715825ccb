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
    const char *text;
    char *dump, *copy;

    /* The common scalars without json_dumps's malloc/free round trip,
     * which under many threads mostly waits for malloc's arena locks. */
    switch (json_typeof(v)) {
    case JSON_STRING:
        text = at_json_text(v);
        if (!text) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "AT01002: claim %s not exported: its value holds "
                          "a NUL character",
                          at_log_item(p, name));
        }
        return text;
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

/* A byte of a claim name as the export names compare it: each mapping
 * turns the same bytes (all but ASCII letters and digits) into its one
 * punctuation mark, and apr_table keys (so r->subprocess_env) and HTTP
 * header names ignore case. Plain arithmetic: this runs for every byte of
 * every claim name of every request. */
static unsigned char fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned char)(c + ('a' - 'A'));
    }
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        return c;
    }
    return '_';
}

typedef struct named {
    const char *name;
    size_t len;
    apr_uint32_t key; /* FNV-1a of the folded name */
    size_t index;     /* in json_object_foreach order */
} named_t;

static int by_export_name(const void *x, const void *y)
{
    const named_t *a = x, *b = y;
    size_t i;

    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    for (i = 0; i < a->len; i++) {
        unsigned char fa = fold((unsigned char)a->name[i]);
        unsigned char fb = fold((unsigned char)b->name[i]);

        if (fa != fb) {
            return fa - fb;
        }
    }
    return 0;
}

/* Claims whose export names coincide ("a-b", "a_b" and "a.b"; "Role" and
 * "role") would silently overwrite one another, in both channels alike.
 * Returns a flag per claim (json_object_foreach order), set for each one
 * that shares its export name, or NULL when none does; each shared name
 * is logged once. It runs for every request: names are compared by length
 * and hash first, all pairs when there are few, sorted when many. */
static char *shared_names(request_rec *r, json_t *claims, const char *prefix,
                          char keep)
{
    size_t n = json_object_size(claims), i, j;
    int sorted = n > 32;
    char *shared = NULL;
    const char *name, *c;
    named_t *names;
    json_t *v;

    if (n < 2) {
        return NULL;
    }
    names = apr_palloc(r->pool, n * sizeof(*names));
    i = 0;
    json_object_foreach(claims, name, v)
    {
        apr_uint32_t h = 2166136261u;

        for (c = name; *c; c++) {
            h = (h ^ fold((unsigned char)*c)) * 16777619u;
        }
        names[i].name = name;
        names[i].len = (size_t)(c - name);
        names[i].key = h;
        names[i].index = i;
        i++;
    }
    if (sorted) {
        qsort(names, n, sizeof(*names), by_export_name);
    }
    for (i = 0; i < n; i++) {
        if (shared && shared[names[i].index]) {
            continue;
        }
        name = NULL;
        for (j = i + 1; j < n; j++) {
            if (by_export_name(&names[i], &names[j])) {
                if (sorted) {
                    break;
                }
                continue;
            }
            if (!shared) {
                shared = apr_pcalloc(r->pool, n);
            }
            shared[names[i].index] = shared[names[j].index] = 1;
            name = apr_pstrcat(r->pool, name ? name : names[i].name, ",",
                               names[j].name, NULL);
        }
        if (name) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "AT01001: claims %s share the exported name %s; "
                          "none of them is exported",
                          at_log_item(r->pool, name),
                          at_log_item(r->pool, mangle(r->pool, prefix,
                                                      strlen(prefix),
                                                      names[i].name, keep)));
        }
    }
    return shared;
}

/* 1 when some key of T starts with PREFIX (as apr_table compares keys:
 * ignoring case). */
static int table_has_prefix(const apr_table_t *t, const char *prefix,
                            size_t len)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        if (e[i].key && !strncasecmp(e[i].key, prefix, len)) {
            return 1;
        }
    }
    return 0;
}

void at_claims_export(request_rec *r, json_t *claims, const char *env_prefix,
                      const char *hdr_prefix)
{
    const char *name;
    size_t env_len, hdr_len, i = 0;
    char *shared;
    json_t *v;
    void (*env_put)(apr_table_t *, const char *, const char *);

    if (!env_prefix && !hdr_prefix) {
        return;
    }
    env_len = env_prefix ? strlen(env_prefix) : 0;
    hdr_len = hdr_prefix ? strlen(hdr_prefix) : 0;
    /* Adding skips apr_table_setn's search for an entry to replace (most
     * of the export's cost on a cache hit). It is the same thing when no
     * name of ours is there yet, as no two exported names coincide
     * (shared_names): always for headers, which at_claims_strip_headers
     * has cleared of the prefix; for the environment unless something
     * already set such a variable (a subrequest inherits its parent's). */
    env_put = env_prefix && table_has_prefix(r->subprocess_env, env_prefix,
                                             env_len)
                  ? apr_table_setn
                  : apr_table_addn;
    shared = shared_names(r, claims, env_prefix ? env_prefix : hdr_prefix,
                          env_prefix ? '_' : '-');
    json_object_foreach(claims, name, v)
    {
        const char *text;

        if (shared && shared[i++]) {
            continue;
        }
        text = claim_text(r, name, v);
        if (!text) {
            continue;
        }
        if (env_prefix) {
            env_put(r->subprocess_env,
                    mangle(r->pool, env_prefix, env_len, name, '_'), text);
        }
        if (hdr_prefix) {
            if (has_control_char(text)) {
                ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                              "AT00302: claim %s not exported as a header: "
                              "its value holds a control character",
                              at_log_item(r->pool, name));
                continue;
            }
            apr_table_addn(r->headers_in,
                           mangle(r->pool, hdr_prefix, hdr_len, name, '-'),
                           text);
        }
    }
}
