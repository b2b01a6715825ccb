/* Form bodies and Basic credentials of OAuth client requests (at_form.h).
 *
 * httpd's ap_parse_form_data does not serve here: it decodes a broken
 * escape ("%zz") into some byte instead of refusing it, lets an encoded
 * NUL into a value, drops a name without '=' silently and reads the whole
 * body even past its size limit; nor does it refuse a repeated parameter
 * (RFC 6749 section 3.1). So the split on '&' and '=' is ours, and each
 * component is decoded by APR's apr_unescape_url, which refuses both bad
 * escapes and encoded NULs. The size bound is the caller's (the issuer
 * reads at most AT_FORM_MAX_BYTES). */
#include <string.h>
#include <strings.h>

#include <apr_escape.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "at_form.h"
#include "at_jose.h"

apr_status_t at_form_decode(char *s)
{
    /* APR_NOTFOUND: nothing needed decoding. APR_EINVAL: a broken escape;
     * APR_BADCH: an encoded NUL. */
    apr_status_t rv = apr_unescape_url(s, s, APR_ESCAPE_STRING, NULL, NULL,
                                       1, NULL);

    return rv == APR_SUCCESS || rv == APR_NOTFOUND ? APR_SUCCESS : APR_EINVAL;
}

static int has_upper(const char *s)
{
    for (; *s; s++) {
        if (apr_isupper(*s)) {
            return 1;
        }
    }
    return 0;
}

at_form_result_t at_form_parse(apr_pool_t *p, char *body, apr_table_t *params,
                               const char **repeated)
{
    /* Names are case-sensitive: a hash, not an apr_table, remembers them. */
    apr_hash_t *seen = apr_hash_make(p);
    char *state, *pair;

    for (pair = apr_strtok(body, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        /* Without '=' the value is the (writable) end of the pair: it is
         * decoded in place like any other. */
        char *name = pair, *value = eq ? eq + 1 : pair + strlen(pair);

        if (eq) {
            *eq = '\0';
        }
        if (at_form_decode(name) != APR_SUCCESS
            || at_form_decode(value) != APR_SUCCESS) {
            return AT_FORM_MALFORMED;
        }
        if (*name == '\0') {
            return AT_FORM_NO_NAME;
        }
        if (apr_hash_get(seen, name, APR_HASH_KEY_STRING)) {
            *repeated = name;
            return AT_FORM_REPEATED;
        }
        apr_hash_set(seen, name, APR_HASH_KEY_STRING, "");
        /* Every OAuth parameter name is lower case, and apr_table lookups
         * ignore case: a "GRANT_TYPE" kept would be read as grant_type. */
        if (*value && !has_upper(name)) {
            apr_table_setn(params, name, value);
        }
    }
    return AT_FORM_OK;
}

apr_status_t at_basic_credentials(apr_pool_t *p, const char *header,
                                  char **id, char **secret)
{
    const char *b64;
    unsigned char *raw;
    size_t rawlen;
    char *colon;

    if (strncasecmp(header, "Basic", 5) != 0
        || (header[5] != '\0' && header[5] != ' ' && header[5] != '\t')) {
        return APR_NOTFOUND;
    }
    b64 = header + 5 + strspn(header + 5, " \t");
    /* Not one lenient guess: no other alphabet, no missing or extra '=',
     * no blank inside or after (httpd has already cut trailing blanks). */
    if (*b64 == '\0'
        || at_b64_decode(p, b64, strlen(b64), &raw, &rawlen) != APR_SUCCESS
        || memchr(raw, '\0', rawlen) != NULL
        || (colon = strchr((char *)raw, ':')) == NULL) {
        return APR_EINVAL;
    }
    *colon = '\0';
    if (at_form_decode((char *)raw) != APR_SUCCESS
        || at_form_decode(colon + 1) != APR_SUCCESS || raw[0] == '\0') {
        return APR_EINVAL;
    }
    *id = (char *)raw;
    *secret = colon + 1;
    return APR_SUCCESS;
}
