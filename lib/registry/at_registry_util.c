/* Small helpers the registry's files share: time, numbers as text, lists
 * as space-joined text, random identifiers.
 */
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <apr_encode.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "at_registry_private.h"

long long at_reg_now(void)
{
    return (long long)apr_time_sec(apr_time_now());
}

const char *at_reg_i64(apr_pool_t *p, long long v)
{
    /* apr_psprintf knows no %lld: use APR's own 64-bit format. */
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
}

const char *at_reg_limit(apr_pool_t *p, int limit)
{
    return limit > 0 ? apr_itoa(p, limit) : "9223372036854775807";
}

const char *at_reg_offset(apr_pool_t *p, int offset)
{
    return apr_itoa(p, offset > 0 ? offset : 0);
}

long long at_reg_atoll(const char *s, long long deflt)
{
    return s ? strtoll(s, NULL, 10) : deflt;
}

/* Identifiers start with a letter or digit: one starting with '-' would
 * read as an option on command lines (ours and everyone's scripts). The
 * redraw costs a little entropy of the first character only. */
apr_status_t at_reg_random_id(apr_pool_t *p, const char **id)
{
    unsigned char raw[16];
    const char *s;

    do {
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
            return APR_EGENERAL;
        }
        s = apr_pencode_base64(p, (const char *)raw, sizeof(raw),
                               APR_ENCODE_BASE64URL, NULL);
    } while (s[0] == '-' || s[0] == '_');
    *id = s;
    return APR_SUCCESS;
}

const char *at_reg_json_detail(apr_pool_t *p, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    const char *out = apr_pstrdup(p, text ? text : "");

    free(text);
    json_decref(j);
    return out;
}

const char *at_reg_join(apr_pool_t *p, const apr_array_header_t *list)
{
    if (list == NULL || list->nelts == 0) {
        return "";
    }
    return apr_array_pstrcat(p, list, ' ');
}

apr_array_header_t *at_reg_split(apr_pool_t *p, const char *text)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    char *copy, *tok, *last;

    if (text == NULL) {
        return a;
    }
    copy = apr_pstrdup(p, text);
    for (tok = apr_strtok(copy, " ", &last); tok;
         tok = apr_strtok(NULL, " ", &last)) {
        APR_ARRAY_PUSH(a, const char *) = tok;
    }
    return a;
}

size_t at_reg_utf8_len(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n, i;
    unsigned long cp;

    if (s[0] < 0x80) {
        return s[0] ? 1 : 0;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2, cp = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3, cp = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4, cp = s[0] & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return n;
}

int at_reg_utf8_valid(const char *s)
{
    size_t n;

    while (*s) {
        if ((n = at_reg_utf8_len(s)) == 0) {
            return 0;
        }
        s += n;
    }
    return 1;
}

const char *at_reg_utf8_clean(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s ? s : ""), *c = out;
    size_t n;

    while (*c) {
        if ((n = at_reg_utf8_len(c)) == 0) {
            *c = '?';
            n = 1;
        }
        c += n;
    }
    return out;
}

int at_reg_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}
